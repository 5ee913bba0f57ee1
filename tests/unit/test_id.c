#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "id.h"

static void
test_new_is_valid(void **state)
{
	char a[HUSH_ID_LEN + 1], b[HUSH_ID_LEN + 1];
	int i;

	(void)state;
	for (i = 0; i < 500; i++) {
		assert_int_equal(hush_id_new(a), 0);
		assert_int_equal(strlen(a), HUSH_ID_LEN);
		assert_true(hush_id_valid(a));
	}
	assert_int_equal(hush_id_new(b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(hush_id_new(NULL), HUSH_E_INVAL);
}

static void
test_valid(void **state)
{
	(void)state;
	assert_true(hush_id_valid("0000000000000000000000000"));
	assert_true(hush_id_valid("000avh9he7dy896m08s18udxr"));
	/* 2^128 - 1 is the largest id; 2^128 is not one. */
	assert_true(hush_id_valid("f5lxx1zz5pnorynqglhzmsp33"));
	assert_false(hush_id_valid("f5lxx1zz5pnorynqglhzmsp34"));
	assert_false(hush_id_valid("zzzzzzzzzzzzzzzzzzzzzzzzz"));
}

static void
test_invalid(void **state)
{
	(void)state;
	assert_false(hush_id_valid(NULL));
	assert_false(hush_id_valid(""));
	assert_false(hush_id_valid("000avh9he7dy896m08s18udx"));	/* 24 */
	assert_false(hush_id_valid("000avh9he7dy896m08s18udxr0"));	/* 26 */
	assert_false(hush_id_valid("000AVH9HE7DY896M08S18UDXR"));
	assert_false(hush_id_valid("000avh9he7dy896m08s18udx-"));
	assert_false(hush_id_valid(" 000avh9he7dy896m08s18udx"));
	assert_false(hush_id_valid("000avh9he7dy896m08s18udx\n"));
	assert_false(hush_id_valid("000avh9he7dy896m08s18ud\xc3\xa9"));
}

/* Expected values: python3 hashlib.sha256(id).digest()[:8], big-endian. */
static void
test_raft_known(void **state)
{
	(void)state;
	assert_true(hush_id_raft("0000000000000000000000000") ==
	    UINT64_C(0xa7c3b7fa76f97f7e));
	assert_true(hush_id_raft("abcdefghijklmnopqrstuvwxy") ==
	    UINT64_C(0x69b980549d504596));
	/* SHA-256("") starts e3b0c44298fc1c14. */
	assert_true(hush_id_raft("") == UINT64_C(0xe3b0c44298fc1c14));
	assert_true(hush_id_raft(NULL) == UINT64_C(0xe3b0c44298fc1c14));
}

static void
test_raft_never_zero(void **state)
{
	char id[HUSH_ID_LEN + 1];
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		assert_int_equal(hush_id_new(id), 0);
		assert_true(hush_id_raft(id) != 0);
		/* Same input, same answer: the mapping is persisted. */
		assert_true(hush_id_raft(id) == hush_id_raft(id));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_is_valid),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_raft_known),
		cmocka_unit_test(test_raft_never_zero),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
