/*
 * proc_harden.c against the real kernel.  Everything it does is
 * process-wide and mostly irreversible, so each test forks; children report
 * the failing step as their exit status and cmocka asserts stay in the
 * parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "proc_harden.h"

static int	 main_argc;
static char	**main_argv;

static int
wait_child(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Reads a small /proc file whole; returns its length or -1. */
static ssize_t
read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)len < size - 1 &&
	    (n = read(fd, buf + len, size - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

static int
child_harden(void)
{
	struct rlimit rl;
	char status[4096];

	if (proc_harden() != 0)
		return 10;
	if (read_file("/proc/self/status", status, sizeof(status)) <= 0)
		return 11;
	if (strstr(status, "\nNoNewPrivs:\t1\n") == NULL)
		return 12;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 13;
	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 ||
	    rl.rlim_max != 0)
		return 14;
	/* no_new_privs is a one-way switch */
	if (prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) != -1 || errno != EINVAL)
		return 15;
	/* and hardening twice is harmless */
	if (proc_harden() != 0)
		return 16;
	return 0;
}

static void
test_harden(void **state)
{
	char status[4096];
	pid_t pid;

	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(child_harden());
	assert_int_equal(wait_child(pid), 0);
	/* we, the parent, are untouched */
	assert_true(read_file("/proc/self/status", status, sizeof(status)) > 0);
	assert_non_null(strstr(status, "\nNoNewPrivs:\t0\n"));
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
}

/*
 * Middle process: forks the grandchild that ties itself to us, waits until
 * it has, passes its pid up and exits, so the kernel should kill it.
 */
static noreturn void
middle(int up)
{
	pid_t me = getpid(), gc;
	int ready[2];
	char c;

	if (pipe(ready) == -1 || (gc = fork()) == -1)
		_exit(20);
	if (gc == 0) {
		close(ready[0]);
		if (proc_die_with_parent(me) != 0)
			_exit(21);
		if (write(ready[1], "r", 1) != 1)
			_exit(22);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		_exit(23);
	if (write(up, &gc, sizeof(gc)) != sizeof(gc))
		_exit(24);
	_exit(0);
}

/*
 * A subreaper inherits the orphaned grandchild, so it can tell how the
 * grandchild died, not just that it did.
 */
static int
reaper(void)
{
	int up[2], st;
	pid_t pid, gc;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1 || pipe(up) == -1)
		return 10;
	if ((pid = fork()) == -1)
		return 11;
	if (pid == 0) {
		close(up[0]);
		middle(up[1]);
	}
	close(up[1]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 12;
	if (WEXITSTATUS(st) != 0)
		return WEXITSTATUS(st);
	if (read(up[0], &gc, sizeof(gc)) != sizeof(gc))
		return 13;
	/* should the kill never come, SIGALRM ends us and the test fails */
	alarm(5);
	if (waitpid(gc, &st, 0) != gc)
		return 14;
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		return 15;
	return 0;
}

static void
test_die_with_parent(void **state)
{
	pid_t pid;

	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(reaper());
	assert_int_equal(wait_child(pid), 0);
}

static void
test_die_with_parent_already_gone(void **state)
{
	pid_t pid;

	/* our own pid is never our parent's: as if reparented already */
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		proc_die_with_parent(getpid());
		_exit(0);
	}
	assert_int_equal(wait_child(pid), 1);
}

static int
check_title(const char *want_cmdline, size_t want_len, const char *want_comm)
{
	char buf[4096];
	ssize_t n;

	if (read_file("/proc/self/comm", buf, sizeof(buf)) <= 0)
		return 1;
	if (strncmp(buf, want_comm, strlen(want_comm)) != 0 ||
	    strcmp(buf + strlen(want_comm), "\n") != 0)
		return 2;
	if ((n = read_file("/proc/self/cmdline", buf, sizeof(buf))) == -1)
		return 3;
	/* exactly the title and its NUL, nothing of the old argv after it */
	if ((size_t)n != want_len + 1 || memcmp(buf, want_cmdline, want_len + 1))
		return 4;
	return 0;
}

static int
child_title(void)
{
	const char *longt = "hushd: a title far longer than the fifteen bytes "
	    "comm keeps";
	char path[4096], arg0[4096], cmdline[4096];
	const char *p;
	ssize_t n;
	int r;

	if ((p = getenv("PATH")) == NULL)
		return 10;
	snprintf(path, sizeof(path), "%s", p);
	snprintf(arg0, sizeof(arg0), "%s", main_argv[0]);

	proc_title_init(main_argc, main_argv);
	proc_set_title("hushd: raft");
	if ((r = check_title("hushd: raft", 11, "hushd: raft")) != 0)
		return 10 + r;

	/* the environment and argv survive the move */
	if ((p = getenv("PATH")) == NULL || strcmp(p, path) != 0)
		return 20;
	if (setenv("HUSH_TEST_TITLE", "1", 1) != 0 ||
	    (p = getenv("HUSH_TEST_TITLE")) == NULL || strcmp(p, "1") != 0)
		return 21;
	if (strcmp(main_argv[0], arg0) != 0)
		return 22;

	/* a long title: comm cut at 15, cmdline as much as the area holds */
	proc_set_title(longt);
	if ((r = check_title(longt, strlen(longt), "hushd: a title")) != 0) {
		/* a short command line plus environment may hold less */
		if ((n = read_file("/proc/self/cmdline", cmdline,
		    sizeof(cmdline))) <= 1 ||
		    strncmp(longt, cmdline, (size_t)n - 1) != 0)
			return 30 + r;
	}

	/* and shorter again: nothing of the long one may linger */
	proc_set_title("hushd: x");
	if ((r = check_title("hushd: x", 8, "hushd: x")) != 0)
		return 40 + r;
	return 0;
}

static void
test_title(void **state)
{
	pid_t pid;

	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(child_title());
	assert_int_equal(wait_child(pid), 0);
}

static int
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static int
child_close_fds(void)
{
	const int opened[] = { 10, 11, 12, 40, 41, 200 };
	const int keep[] = { 200, 11, -1, 2, 40, 11 };
	int fd;

	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		return 10;
	for (size_t i = 0; i < sizeof(opened) / sizeof(opened[0]); i++)
		if (dup2(fd, opened[i]) != opened[i])
			return 11;
	if (proc_close_fds_from(3, keep, sizeof(keep) / sizeof(keep[0])) != 0)
		return 12;
	for (fd = 0; fd < 1024; fd++) {
		bool want = fd <= 2 || fd == 11 || fd == 40 || fd == 200;

		if (fd_open(fd) != want)
			return 13;
	}
	/* nothing kept: everything from lowfd up goes */
	if (proc_close_fds_from(40, NULL, 0) != 0)
		return 14;
	for (fd = 0; fd < 1024; fd++) {
		bool want = fd <= 2 || fd == 11;

		if (fd_open(fd) != want)
			return 15;
	}
	return 0;
}

static void
test_close_fds(void **state)
{
	pid_t pid;

	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(child_close_fds());
	assert_int_equal(wait_child(pid), 0);
	/* rejected before closing anything, so safe here */
	assert_int_equal(proc_close_fds_from(-1, NULL, 0), HUSH_E_INVAL);
	assert_int_equal(proc_close_fds_from(3, NULL, 1), HUSH_E_INVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_harden),
		cmocka_unit_test(test_die_with_parent),
		cmocka_unit_test(test_die_with_parent_already_gone),
		cmocka_unit_test(test_title),
		cmocka_unit_test(test_close_fds),
	};

	main_argc = argc;
	main_argv = argv;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
