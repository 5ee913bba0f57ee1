/*
 * kcheck.c on this machine, whose kernel has everything hush needs.  The
 * checks fork their own children for anything that changes process state;
 * these tests also make sure none of it leaks into the caller.
 */
#include <keyutils.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kcheck.h"

static const char *const expected[] = {
	"keyring", "seccomp", "userns", "mountns", "mount-api",
	"tmpfs-noswap", "landlock", "proc-connector", "audit",
};
#define NEXPECTED	(sizeof(expected) / sizeof(expected[0]))

static const struct kcheck_result *
find(const struct kcheck_result *res, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(res[i].name, name) == 0)
			return &res[i];
	fail_msg("no result for %s", name);
	return NULL;
}

static ino_t
ns_inode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void
test_all_required_present(void **state)
{
	struct kcheck_result res[KCHECK_MAX];
	const struct kcheck_result *ll;
	size_t n;

	n = kcheck_run(res, KCHECK_MAX, NULL);
	assert_int_equal(n, NEXPECTED);
	for (size_t i = 0; i < n; i++) {
		/* fixed order, so hush-kcheck output is stable */
		assert_string_equal(res[i].name, expected[i]);
		assert_non_null(kcheck_impact(res[i].name));
		if (res[i].required && !res[i].ok)
			fail_msg("%s: %s", res[i].name, res[i].detail);
	}
	assert_false(find(res, n, "audit")->required);
	assert_true(find(res, n, "tmpfs-noswap")->required);
	ll = find(res, n, "landlock");
	assert_true(ll->required);
	assert_true(ll->ok);
	assert_true(strncmp(ll->detail, "ABI ", 4) == 0);
	assert_true(atoi(ll->detail + 4) >= 1);
}

static void
test_pretend_missing(void **state)
{
	struct kcheck_result res[KCHECK_MAX];
	const struct kcheck_result *r;
	size_t n;

	n = kcheck_run(res, KCHECK_MAX, "tmpfs-noswap");
	assert_int_equal(n, NEXPECTED);
	r = find(res, n, "tmpfs-noswap");
	assert_false(r->ok);
	assert_true(r->required);
	assert_false(r->netns_only);
	assert_string_equal(r->detail, KCHECK_PRETENDED);
	for (size_t i = 0; i < n; i++)
		if (&res[i] != r && res[i].required)
			assert_true(res[i].ok);

	/* a list; names match whole, so "tmpfs" turns nothing off */
	n = kcheck_run(res, KCHECK_MAX, "tmpfs,bogus,landlock");
	assert_false(find(res, n, "landlock")->ok);
	assert_true(find(res, n, "tmpfs-noswap")->ok);
	assert_true(find(res, n, "keyring")->ok);

	n = kcheck_run(res, KCHECK_MAX, "");
	assert_true(find(res, n, "tmpfs-noswap")->ok);
	assert_true(find(res, n, "landlock")->ok);
}

/* The library never reads the test hook's variable itself. */
static void
test_environment_ignored(void **state)
{
	struct kcheck_result res[KCHECK_MAX];
	size_t n;

	assert_int_equal(setenv("HUSH_KCHECK_DISABLE", "tmpfs-noswap", 1), 0);
	n = kcheck_run(res, KCHECK_MAX, NULL);
	assert_int_equal(unsetenv("HUSH_KCHECK_DISABLE"), 0);
	assert_true(find(res, n, "tmpfs-noswap")->ok);
}

static void
test_max_respected(void **state)
{
	struct kcheck_result res[3];

	memset(res, 0, sizeof(res));
	assert_int_equal(kcheck_run(res, 0, NULL), 0);
	assert_null(res[0].name);
	assert_int_equal(kcheck_run(res, 2, NULL), 2);
	assert_string_equal(res[0].name, "keyring");
	assert_string_equal(res[1].name, "seccomp");
	assert_null(res[2].name);
}

static void
test_caller_untouched(void **state)
{
	struct kcheck_result res[KCHECK_MAX];
	ino_t mnt = ns_inode("/proc/self/ns/mnt");
	ino_t user = ns_inode("/proc/self/ns/user");
	key_serial_t ses = keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0);

	(void)kcheck_run(res, KCHECK_MAX, NULL);
	assert_int_equal(ns_inode("/proc/self/ns/mnt"), mnt);
	assert_int_equal(ns_inode("/proc/self/ns/user"), user);
	assert_int_equal(keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0),
	    ses);
}

static void
test_impact(void **state)
{
	assert_non_null(strstr(kcheck_impact("tmpfs-noswap"), "swap"));
	assert_null(kcheck_impact("no-such-feature"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_required_present),
		cmocka_unit_test(test_pretend_missing),
		cmocka_unit_test(test_environment_ignored),
		cmocka_unit_test(test_max_respected),
		cmocka_unit_test(test_caller_untouched),
		cmocka_unit_test(test_impact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
