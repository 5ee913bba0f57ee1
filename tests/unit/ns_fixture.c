/* Mount namespace fixtures for the tests; see ns_fixture.h. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ns_fixture.h"

const char *
ns_private_tmpdir(char *dir)
{
	/* Private first: nothing below may propagate to the host. */
	if (unshare(CLONE_NEWNS) == -1)
		return "unshare(CLONE_NEWNS)";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return "making / private";
	if (mkdtemp(dir) == NULL)
		return "mkdtemp";
	if (mount("tmpfs", dir, "tmpfs", 0, "mode=0755") == -1)
		return "mounting a tmpfs";
	return NULL;
}

void
ns_tmpdir_remove(const char *dir)
{
	(void)umount2(dir, MNT_DETACH);
	(void)rmdir(dir);
}

void
ns_ctr_init(struct ns_ctr *c)
{
	c->pid = -1;
	c->pidfd = c->pipe = -1;
}

int
ns_wait_child(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("child %d died with status %#x", (int)pid, st);
	return WEXITSTATUS(st);
}

void
ns_ctr_start(struct ns_ctr *c, int keep_out)
{
	int up[2], down[2];
	pid_t pid;
	char ch;

	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		if (keep_out != -1)
			close(keep_out);
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (unshare(CLONE_NEWNS) == -1)
			_exit(10);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
			_exit(11);
		if (write(up[1], "r", 1) != 1)
			_exit(12);
		while (read(down[0], &ch, 1) == -1 && errno == EINTR)
			;
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &ch, 1) != 1)
		fail_msg("container exited with %d", ns_wait_child(pid));
	close(up[0]);
	c->pid = pid;
	c->pipe = down[1];
	if ((c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		fail_msg("pidfd_open: %s", strerror(errno));
}

void
ns_ctr_stop(struct ns_ctr *c)
{
	if (c->pipe != -1)
		close(c->pipe);
	if (c->pid > 0)
		(void)waitpid(c->pid, NULL, 0);
	if (c->pidfd != -1)
		close(c->pidfd);
	ns_ctr_init(c);
}
