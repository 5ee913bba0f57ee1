#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "disk_space.h"
#include "err.h"

static void
test_enough(void **state)
{
	char why[256] = "unset";
	uint64_t avail;

	assert_int_equal(disk_free("/", &avail), 0);
	assert_true(avail > 0);
	assert_int_equal(disk_check("/", NULL, 0, why, sizeof(why)), 0);
	/* Nothing to say when there is room. */
	assert_string_equal(why, "unset");
}

static void
test_short_names_path_and_sizes(void **state)
{
	char why[256], want[64];

	assert_int_equal(disk_check("/", "the root", UINT64_MAX, why, sizeof(why)),
	    HUSH_E_NOSPACE);
	assert_true(strncmp(why, "no space left on the root: ", 27) == 0);
	snprintf(want, sizeof(want), " bytes free, %llu needed",
	    (unsigned long long)UINT64_MAX);
	assert_non_null(strstr(why, want));
	/* shown NULL: the path itself is named */
	assert_int_equal(disk_check("/", NULL, UINT64_MAX, why, sizeof(why)),
	    HUSH_E_NOSPACE);
	assert_true(strncmp(why, "no space left on /: ", 20) == 0);
}

static void
test_unknown_path(void **state)
{
	char why[256];
	uint64_t avail = 7;

	assert_int_not_equal(disk_free("/nonexistent/hush/dir", &avail), 0);
	assert_true(avail == 0);
	assert_int_equal(disk_check("/nonexistent/hush/dir", NULL, 1, why,
	    sizeof(why)), HUSH_E_IO);
	assert_non_null(strstr(why, "cannot tell the free space on "
	    "/nonexistent/hush/dir"));
}

static void
test_truncates_safely(void **state)
{
	char why[8];

	assert_int_equal(disk_check("/", NULL, UINT64_MAX, why, sizeof(why)),
	    HUSH_E_NOSPACE);
	assert_int_equal(strlen(why), sizeof(why) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enough),
		cmocka_unit_test(test_short_names_path_and_sizes),
		cmocka_unit_test(test_unknown_path),
		cmocka_unit_test(test_truncates_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
