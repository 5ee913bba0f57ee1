/*
 * The launcher (daemon/privsep/launcher.c): what it accepts from the parent,
 * and a real launcher process starting, killing and reporting a confined
 * child, then refusing a malformed request by ending itself and its child.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "launcher.h"
#include "sandbox.h"

/* ---- launch_req_decode ---------------------------------------------------- */

static int
decode(uint32_t op, uint32_t role, int32_t pid, size_t nroles)
{
	struct launch_req r = { .op = op, .role = role, .pid = pid }, out;

	return launch_req_decode(&r, sizeof(r), nroles, &out);
}

static void
test_decode_accepts(void **state)
{
	struct launch_req r = { .op = LAUNCH_KILL, .role = 3, .pid = 4242 }, out;

	(void)state;
	assert_int_equal(launch_req_decode(&r, sizeof(r), 4, &out), 0);
	assert_int_equal(out.op, LAUNCH_KILL);
	assert_int_equal(out.role, 3);
	assert_int_equal(out.pid, 4242);
	assert_int_equal(decode(LAUNCH_SPAWN, 0, 0, 4), 0);
}

static void
test_decode_refuses(void **state)
{
	struct launch_req r = { .op = LAUNCH_SPAWN, .role = 0, .pid = 0 }, out;
	uint8_t big[sizeof(r) + 1] = { 0 };

	(void)state;
	memcpy(big, &r, sizeof(r));
	assert_int_equal(launch_req_decode(&r, 0, 4, &out), HUSH_E_FORMAT);
	assert_int_equal(launch_req_decode(&r, sizeof(r) - 1, 4, &out), HUSH_E_FORMAT);
	assert_int_equal(launch_req_decode(big, sizeof(big), 4, &out), HUSH_E_FORMAT);
	assert_int_equal(decode(0, 0, 0, 4), HUSH_E_FORMAT);
	assert_int_equal(decode(3, 0, 0, 4), HUSH_E_FORMAT);
	assert_int_equal(decode(LAUNCH_SPAWN, 4, 0, 4), HUSH_E_RANGE);
	assert_int_equal(decode(LAUNCH_SPAWN, 0, 0, 0), HUSH_E_RANGE);
	assert_int_equal(decode(LAUNCH_SPAWN, UINT32_MAX, 0, 4), HUSH_E_RANGE);
	assert_int_equal(decode(LAUNCH_SPAWN, 0, 7, 4), HUSH_E_FORMAT);
	/* kill(0) and kill(-1) would reach a process group or everyone */
	assert_int_equal(decode(LAUNCH_KILL, 0, 0, 4), HUSH_E_FORMAT);
	assert_int_equal(decode(LAUNCH_KILL, 0, -1, 4), HUSH_E_FORMAT);
	assert_int_equal(decode(LAUNCH_KILL, 0, INT32_MIN, 4), HUSH_E_FORMAT);
}

/* ---- a real launcher ------------------------------------------------------ */

static const struct sandbox_call echo_calls[] = {
	SANDBOX_BASE_CALLS,
	SB_CALL("read"), SB_CALL("write"),
	SB_END
};

static const struct sandbox_policy echo_sandbox = {
	.role = "echo",
	.calls = echo_calls,
	.fs = SB_FS_NONE,
	.tcp = false,
};

/* Sends back what it reads until the channel closes. */
static void
echo_main(int fd)
{
	uint8_t b[64];
	ssize_t n;

	while ((n = read(fd, b, sizeof(b))) > 0)
		if (write(fd, b, (size_t)n) != n)
			break;
	_exit(0);
}

static const struct child_desc echo_child = {
	.name = "echo",
	.max_msg = 64,
	.sandbox = &echo_sandbox,
	.main = echo_main,
};

static const struct child_desc *const roles[] = { &echo_child };

/* Not running: absent, or a zombie nobody has reaped yet. */
static int
gone(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	int dead = 1;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL)
		dead = p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return dead;
}

static int
wait_gone(pid_t pid)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	for (int i = 0; i < 250; i++) {
		if (gone(pid))
			return 1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

static int
next_exit(pid_t *pid, int *status)
{
	struct pollfd pfd = { .fd = launcher_fd(), .events = POLLIN };
	int r;

	for (int i = 0; i < 50; i++) {
		if ((r = launcher_next_exit(pid, status)) != 0)
			return r;
		poll(&pfd, 1, 100);
	}
	return 0;
}

static void
echo_once(int fd)
{
	char b[8] = { 0 };

	assert_int_equal(write(fd, "ping", 4), 4);
	assert_int_equal(read(fd, b, sizeof(b)), 4);
	assert_memory_equal(b, "ping", 4);
}

static void
test_launcher(void **state)
{
	pid_t pid, pid2, exited, bystander;
	int chan, trap, chan2, trap2, status, r;
	struct launch_req bad = { .op = 9 };

	(void)state;
	if (geteuid() != 0)
		fail_msg("the launcher test needs root (capabilities, keyrings)");
	assert_int_equal(launcher_start(roles, 1), 0);
	assert_true(launcher_pid() > 0);

	/* a confined child, running, reachable over its channel */
	assert_int_equal(launcher_spawn(&echo_child, &pid, &chan, &trap), 0);
	assert_true(pid > 0);
	echo_once(chan);

	/* one process per role */
	r = launcher_spawn(&echo_child, &pid2, &chan2, &trap2);
	assert_int_equal(r, HUSH_E_SYS);
	assert_int_equal(errno, EBUSY);

	/* a kill for the running pid: reported with its wait status */
	assert_int_equal(launcher_kill(&echo_child, pid), 0);
	assert_int_equal(next_exit(&exited, &status), 1);
	assert_int_equal(exited, pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	close(chan);
	close(trap);

	/* a kill for any other pid does nothing, even for a live process */
	if ((bystander = fork()) == 0) {
		pause();
		_exit(0);
	}
	assert_true(bystander > 0);
	assert_int_equal(launcher_kill(&echo_child, bystander), 0);
	assert_int_equal(launcher_spawn(&echo_child, &pid, &chan, &trap), 0);
	echo_once(chan);
	assert_false(gone(bystander));
	kill(bystander, SIGKILL);
	waitpid(bystander, NULL, 0);

	/* a malformed request ends the launcher, and its child with it */
	assert_int_equal(send(launcher_fd(), &bad, sizeof(bad), MSG_NOSIGNAL),
	    (ssize_t)sizeof(bad));
	assert_int_equal(waitpid(launcher_pid(), &status, 0), launcher_pid());
	assert_true(WIFEXITED(status));
	assert_true(wait_gone(pid));
	assert_true(next_exit(&exited, &status) < 0);
	close(chan);
	close(trap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_accepts),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_launcher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
