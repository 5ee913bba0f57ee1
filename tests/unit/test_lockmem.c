/*
 * Unit tests for lib/lockmem.c, checked against what the kernel reports
 * in /proc/self/smaps (Locked:, VmFlags lo/dd) rather than against the
 * library's own bookkeeping: buffers are locked and kept out of core
 * dumps, come back wiped, survive fork() correctly, and a full limit or a
 * refusing kernel gives an unlocked buffer and one log line, not a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockmem.h"

struct vma {
	int		found;
	size_t		size_kb, locked_kb;
	int		flag_lo, flag_dd;
};

/* The smaps entry of the mapping that holds addr. */
static struct vma
vma_of(const void *addr)
{
	struct vma v;
	FILE *f;
	char line[512];
	unsigned long lo, hi, a = (unsigned long)addr;
	int in = 0;

	memset(&v, 0, sizeof(v));
	f = fopen("/proc/self/smaps", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		/* A mapping's first line is "lo-hi perms ..."; no field name parses so. */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = a >= lo && a < hi;
			if (in)
				v.found = 1;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(line, "Size:", 5) == 0)
			sscanf(line + 5, "%zu", &v.size_kb);
		else if (strncmp(line, "Locked:", 7) == 0)
			sscanf(line + 7, "%zu", &v.locked_kb);
		else if (strncmp(line, "VmFlags:", 8) == 0) {
			v.flag_lo = strstr(line, " lo") != NULL;
			v.flag_dd = strstr(line, " dd") != NULL;
		}
	}
	fclose(f);
	return v;
}

static void
test_locked_and_not_dumped(void **state)
{
	uint8_t *p;
	struct vma v;
	size_t i;

	(void)state;
	p = lockmem_alloc(3000);
	assert_non_null(p);
	for (i = 0; i < 3000; i++)
		assert_int_equal(p[i], 0);
	assert_true(lockmem_is_locked(p));
	v = vma_of(p);
	assert_true(v.found);
	assert_true(v.flag_lo);
	assert_true(v.flag_dd);
	assert_true(v.locked_kb >= 4);
	lockmem_free(p);
}

static void
test_reuse_is_wiped(void **state)
{
	uint8_t *p, *q;
	size_t i;

	(void)state;
	p = lockmem_alloc(1000);
	assert_non_null(p);
	memset(p, 0xA5, 1000);
	lockmem_free(p);
	/* Same size class: the cache hands the same pages back, wiped. */
	q = lockmem_alloc(2000);
	assert_ptr_equal(q, p);
	for (i = 0; i < 2000; i++)
		assert_int_equal(q[i], 0);
	assert_true(lockmem_is_locked(q));
	lockmem_free(q);
}

static void
test_sizes(void **state)
{
	static const size_t sizes[] = {
		0, 1, 4080, 4081, 65536, 512 * 1024, 1024 * 1024 - 16,
		1024 * 1024, 4 * 1024 * 1024 + 1,
	};
	uint8_t *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = lockmem_alloc(sizes[i]);
		assert_non_null(p);
		if (sizes[i] > 0) {
			assert_int_equal(p[0], 0);
			assert_int_equal(p[sizes[i] - 1], 0);
			memset(p, 0x5a, sizes[i]);
		}
		assert_true(lockmem_is_locked(p));
		lockmem_free(p);
	}
	lockmem_free(NULL);
	assert_null(lockmem_alloc(SIZE_MAX - 8));
	assert_int_equal(errno, ENOMEM);
}

/* A mapping above the largest class goes back to the kernel on free. */
static void
test_large_unmapped(void **state)
{
	struct lockmem_stats before, after;
	uint8_t *p;

	(void)state;
	lockmem_stats(&before);
	p = lockmem_alloc(3 * 1024 * 1024);
	assert_non_null(p);
	assert_true(vma_of(p).locked_kb >= 3 * 1024);
	lockmem_free(p);
	lockmem_stats(&after);
	assert_int_equal(after.locked, before.locked);
	/* mincore() says ENOMEM for an address that is not mapped. */
	{
		unsigned char vec[1];

		assert_int_equal(mincore((void *)((uintptr_t)p & ~(uintptr_t)4095), 4096, vec), -1);
		assert_int_equal(errno, ENOMEM);
	}
}

/*
 * Runs fn in a child with stderr going to a file; returns what the child
 * wrote, and its exit status in *status.
 */
static char *
in_child(void (*fn)(void), int *status)
{
	char path[] = "/tmp/test_lockmem.XXXXXX";
	static char out[8192];
	int fd;
	ssize_t n;
	pid_t pid;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, 2);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, status, 0), pid);
	n = pread(fd, out, sizeof(out) - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	return out;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

#define CHECK(c)	do { if (!(c)) { fprintf(stderr, "FAIL %s:%d %s\n", \
			    __FILE__, __LINE__, #c); _exit(1); } } while (0)

static void
over_budget(void)
{
	struct rlimit rl = { 2 * 1024 * 1024, 2 * 1024 * 1024 };
	struct lockmem_stats st;
	uint8_t *p[6];
	int i;

	CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
	lockmem_init();
	lockmem_stats(&st);
	CHECK(st.budget == 1024 * 1024);
	for (i = 0; i < 6; i++) {
		p[i] = lockmem_alloc(400 * 1024);
		CHECK(p[i] != NULL);
		memset(p[i], 0x11, 400 * 1024);
	}
	/* Two 512 KiB mappings fill the budget; the rest are unlocked. */
	CHECK(lockmem_is_locked(p[0]) && lockmem_is_locked(p[1]));
	for (i = 2; i < 6; i++)
		CHECK(!lockmem_is_locked(p[i]));
	CHECK(vma_of(p[5]).locked_kb == 0);
	CHECK(vma_of(p[5]).flag_dd);
	lockmem_stats(&st);
	CHECK(st.unlocked_allocs == 4);
	CHECK(st.locked <= st.budget);
	for (i = 0; i < 6; i++)
		lockmem_free(p[i]);
	/* Room again: locked again. */
	p[0] = lockmem_alloc(400 * 1024);
	CHECK(lockmem_is_locked(p[0]));
	lockmem_free(p[0]);
}

static void
test_over_budget_falls_back_once(void **state)
{
	int status;
	char *out;

	(void)state;
	out = in_child(over_budget, &status);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("child: %s", out);
	assert_int_equal(count(out, "can now be swapped out"), 1);
	assert_non_null(strstr(out, "LimitMEMLOCK="));
	assert_non_null(strstr(out, "2048 KiB"));
}

/*
 * The kernel refuses (limit 0, budget from before, and no CAP_IPC_LOCK,
 * which hushd's processes never hold): unlocked, said once.
 */
static void
kernel_refuses(void)
{
	struct rlimit rl = { 0, 0 };
	cap_value_t ipc_lock = CAP_IPC_LOCK;
	cap_t caps;
	uint8_t *p, *q;

	caps = cap_get_proc();
	CHECK(caps != NULL);
	CHECK(cap_set_flag(caps, CAP_EFFECTIVE, 1, &ipc_lock, CAP_CLEAR) == 0);
	CHECK(cap_set_flag(caps, CAP_PERMITTED, 1, &ipc_lock, CAP_CLEAR) == 0);
	CHECK(cap_set_proc(caps) == 0);
	cap_free(caps);
	lockmem_init();
	CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
	p = lockmem_alloc(100);
	q = lockmem_alloc(200 * 1024);
	CHECK(p != NULL && q != NULL);
	CHECK(!lockmem_is_locked(p) && !lockmem_is_locked(q));
	memset(q, 1, 200 * 1024);
	lockmem_free(p);
	lockmem_free(q);
}

static void
test_kernel_refusal_falls_back(void **state)
{
	int status;
	char *out;

	(void)state;
	out = in_child(kernel_refuses, &status);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("child: %s", out);
	assert_int_equal(count(out, "can now be swapped out"), 1);
	assert_non_null(strstr(out, "would not lock"));
}

static uint8_t *before_fork;

static void
after_fork(void)
{
	struct lockmem_stats st;
	uint8_t *p;

	/* Locks are not inherited: the parent's buffer is not ours to count. */
	CHECK(!lockmem_is_locked(before_fork));
	CHECK(vma_of(before_fork).locked_kb == 0);
	lockmem_stats(&st);
	CHECK(st.locked == 0 && st.cached == 0);
	lockmem_free(before_fork);
	p = lockmem_alloc(100);
	CHECK(lockmem_is_locked(p));
	CHECK(vma_of(p).locked_kb > 0);
	lockmem_free(p);
}

static void
test_fork(void **state)
{
	int status;
	char *out;
	uint8_t *cached;

	(void)state;
	cached = lockmem_alloc(100);
	lockmem_free(cached);			/* now in the cache */
	before_fork = lockmem_alloc(5000);
	memset(before_fork, 7, 5000);
	out = in_child(after_fork, &status);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("child: %s", out);
	/* The parent's own accounting is untouched. */
	assert_true(lockmem_is_locked(before_fork));
	assert_int_equal(before_fork[4999], 7);
	lockmem_free(before_fork);
}

static void
corrupt_header(void)
{
	uint8_t *p = lockmem_alloc(10);

	memset(p - 16, 0, 16);
	lockmem_free(p);
	_exit(0);
}

/* A pointer lockmem did not hand out stops the process, not munmap(). */
static void
test_bad_pointer_aborts(void **state)
{
	int status;

	(void)state;
	(void)in_child(corrupt_header, &status);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locked_and_not_dumped),
		cmocka_unit_test(test_reuse_is_wiped),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_large_unmapped),
		cmocka_unit_test(test_over_budget_falls_back_once),
		cmocka_unit_test(test_kernel_refusal_falls_back),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_bad_pointer_aborts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
