/*
 * caps.c against the real kernel.  Every caps_limit() runs in a forked
 * child (it is irreversible); the parent checks the child's masks in
 * /proc/PID/status and the child checks the effect of what it lost,
 * reporting the failing step as its exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/securebits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps.h"
#include "err.h"

#define SECBITS_EXPECT	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |             \
	SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED |    \
	SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED)
#define SECBITS_FORBID	(SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP)

#define NOBODY	65534

static int
wait_child(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* A file owned by someone else, readable by its owner only. */
static void
make_foreign_file(char *path)
{
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(fchown(fd, NOBODY, NOBODY), 0);
	assert_int_equal(fchmod(fd, 0600), 0);
	close(fd);
}

static noreturn void
child_limited(const cap_value_t *keep, size_t n, int ready, int go,
    const char *foreign)
{
	bool sys_admin = n == 1 && keep[0] == CAP_SYS_ADMIN;
	cap_value_t more = CAP_CHOWN;
	int sb, r;
	char c;

	if (caps_limit(keep, n) != 0)
		_exit(10);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		_exit(11);

	sb = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if ((sb & SECBITS_EXPECT) != SECBITS_EXPECT || (sb & SECBITS_FORBID))
		_exit(12);
	/* without CAP_CHOWN and CAP_DAC_OVERRIDE root is just another uid */
	if (chown(foreign, 0, 0) != -1 || errno != EPERM)
		_exit(13);
	if (open(foreign, O_RDONLY) != -1 || errno != EACCES)
		_exit(14);
	/* a kept capability still works */
	r = unshare(CLONE_NEWUTS);
	if (sys_admin ? r != 0 : (r != -1 || errno != EPERM))
		_exit(15);
	/* NO_CAP_AMBIENT_RAISE: kept caps cannot be smuggled across execve */
	if (sys_admin && (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
	    CAP_SYS_ADMIN, 0, 0) != -1 || errno != EPERM))
		_exit(16);
	/* repeating works without CAP_SETPCAP; asking for more does not */
	if (caps_limit(keep, n) != 0)
		_exit(17);
	if (caps_limit(&more, 1) != HUSH_E_SYS || errno != EPERM)
		_exit(18);
	_exit(0);
}

static char foreign[] = "/tmp/hush-test-caps.XXXXXX";

static int
setup_foreign(void **state)
{
	snprintf(foreign, sizeof(foreign), "/tmp/hush-test-caps.XXXXXX");
	make_foreign_file(foreign);
	return 0;
}

/* A teardown, so a failed assertion does not leave the file behind. */
static int
teardown_foreign(void **state)
{
	unlink(foreign);
	return 0;
}

static void
check_limit(const cap_value_t *keep, size_t n, uint64_t mask)
{
	uint64_t eff, prm, bnd, amb;
	int ready[2], go[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		child_limited(keep, n, ready[1], go[0], foreign);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		/* the child died before limiting: show where */
		assert_int_equal(wait_child(pid), 0);
		fail();
	}

	assert_int_equal(caps_read_status(pid, &eff, &prm, &bnd, &amb), 0);
	assert_int_equal(eff, mask);
	assert_int_equal(prm, mask);
	assert_int_equal(bnd, mask);
	assert_int_equal(amb, 0);

	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(wait_child(pid), 0);
	close(ready[0]);
	close(go[1]);
}

static void
test_limit_nothing(void **state)
{
	check_limit(NULL, 0, 0);
}

static void
test_limit_sys_admin(void **state)
{
	const cap_value_t keep[] = { CAP_SYS_ADMIN };

	check_limit(keep, 1, UINT64_C(1) << CAP_SYS_ADMIN);
}

static int
status_mask(const char *buf, const char *key, uint64_t *out)
{
	const char *p = strstr(buf, key);

	if (p == NULL)
		return -1;
	*out = strtoull(p + strlen(key), NULL, 16);
	return 0;
}

/* Capabilities of a child after it execs cat(1) as root. */
static void
exec_caps(bool limit, uint64_t *prm, uint64_t *eff, uint64_t *bnd,
    uint64_t *amb)
{
	const cap_value_t keep[] = { CAP_SYS_ADMIN };
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		close(p[0]);
		if (limit && caps_limit(keep, 1) != 0)
			_exit(10);
		if (dup2(p[1], STDOUT_FILENO) == -1)
			_exit(11);
		execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
		_exit(12);
	}
	close(p[1]);
	while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	buf[len] = '\0';
	assert_int_equal(wait_child(pid), 0);
	assert_int_equal(status_mask(buf, "\nCapPrm:", prm), 0);
	assert_int_equal(status_mask(buf, "\nCapEff:", eff), 0);
	assert_int_equal(status_mask(buf, "\nCapBnd:", bnd), 0);
	assert_int_equal(status_mask(buf, "\nCapAmb:", amb), 0);
}

static void
test_exec_regains_nothing(void **state)
{
	uint64_t prm, eff, bnd, amb;

	/* control: an unrestricted root child gets caps back at execve */
	exec_caps(false, &prm, &eff, &bnd, &amb);
	assert_true(prm != 0);

	/* SECBIT_NOROOT: even the kept capability is gone in the new image */
	exec_caps(true, &prm, &eff, &bnd, &amb);
	assert_int_equal(prm, 0);
	assert_int_equal(eff, 0);
	assert_int_equal(amb, 0);
	assert_int_equal(bnd, UINT64_C(1) << CAP_SYS_ADMIN);
}

static void
test_read_status_self(void **state)
{
	uint64_t eff, prm, bnd, amb, again;
	cap_flag_value_t v;
	cap_t caps;

	assert_int_equal(caps_read_status(0, &eff, &prm, &bnd, &amb), 0);
	assert_non_null(caps = cap_get_proc());
	for (cap_value_t c = 0; c < cap_max_bits(); c++) {
		uint64_t bit = UINT64_C(1) << c;

		assert_int_equal(!!(bnd & bit), prctl(PR_CAPBSET_READ, c, 0, 0, 0));
		assert_int_equal(!!(amb & bit),
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0));
		assert_int_equal(cap_get_flag(caps, c, CAP_EFFECTIVE, &v), 0);
		assert_int_equal(!!(eff & bit), v == CAP_SET);
		assert_int_equal(cap_get_flag(caps, c, CAP_PERMITTED, &v), 0);
		assert_int_equal(!!(prm & bit), v == CAP_SET);
	}
	cap_free(caps);

	/* NULL outputs are skipped; our own pid reads the same file */
	assert_int_equal(caps_read_status(getpid(), NULL, NULL, &again, NULL), 0);
	assert_int_equal(again, bnd);

	/* beyond any pid_max */
	assert_int_equal(caps_read_status(0x7fffffff, &eff, NULL, NULL, NULL),
	    HUSH_E_SYS);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(caps_read_status(-1, &eff, NULL, NULL, NULL),
	    HUSH_E_INVAL);
}

static void
test_limit_rejects_unknown(void **state)
{
	const cap_value_t bogus[] = { CAP_CHOWN, 9999 };
	const cap_value_t negative[] = { -1 };
	uint64_t before, after;

	/* rejected before anything changes, so safe in this process */
	assert_int_equal(caps_read_status(0, NULL, NULL, &before, NULL), 0);
	assert_int_equal(caps_limit(bogus, 2), HUSH_E_INVAL);
	assert_int_equal(caps_limit(negative, 1), HUSH_E_INVAL);
	assert_int_equal(caps_limit(NULL, 1), HUSH_E_INVAL);
	assert_int_equal(caps_read_status(0, NULL, NULL, &after, NULL), 0);
	assert_int_equal(before, after);
}

/* The child's exit status names the step that failed. */
static noreturn void
child_as_nobody(void)
{
	uint64_t eff, prm, bnd, amb;
	uid_t ru, eu, su;
	int sb;

	if (caps_limit_as(NOBODY, NOBODY) != 0)
		_exit(10);
	if (getresuid(&ru, &eu, &su) != 0 || ru != NOBODY || eu != NOBODY ||
	    su != NOBODY || getgid() != NOBODY || getgroups(0, NULL) != 0)
		_exit(11);
	if (caps_read_status(0, &eff, &prm, &bnd, &amb) != 0 ||
	    eff != 0 || prm != 0 || bnd != 0 || amb != 0)
		_exit(12);
	sb = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if ((sb & SECBITS_EXPECT) != SECBITS_EXPECT || (sb & SECBITS_FORBID))
		_exit(13);
	if (setuid(0) != -1 || setgid(0) != -1 || seteuid(0) != -1)
		_exit(14);
	/* a root-owned private file is out of reach */
	if (open("/etc/shadow", O_RDONLY) != -1 || errno != EACCES)
		_exit(15);
	_exit(0);
}

static void
test_limit_as_user(void **state)
{
	pid_t pid;

	assert_int_equal(caps_limit_as(0, NOBODY), HUSH_E_INVAL);
	assert_int_equal(caps_limit_as(NOBODY, 0), HUSH_E_INVAL);
	assert_int_equal(getuid(), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		child_as_nobody();
	assert_int_equal(wait_child(pid), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limit_nothing,
		    setup_foreign, teardown_foreign),
		cmocka_unit_test_setup_teardown(test_limit_sys_admin,
		    setup_foreign, teardown_foreign),
		cmocka_unit_test(test_exec_regains_nothing),
		cmocka_unit_test(test_read_status_self),
		cmocka_unit_test(test_limit_rejects_unknown),
		cmocka_unit_test(test_limit_as_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
