#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base36.h"
#include "err.h"

static const uint8_t seq16[16] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
};

/* Vectors computed independently with python3 int.from_bytes(). */
static void
test_encode_known(void **state)
{
	uint8_t ff[32], seq32[32];
	char out[64];
	size_t i;

	(void)state;
	memset(ff, 0xff, sizeof(ff));
	for (i = 0; i < sizeof(seq32); i++)
		seq32[i] = (uint8_t)i;

	assert_int_equal(base36_encode(ff, 16, 25, out, sizeof(out)), 0);
	assert_string_equal(out, "f5lxx1zz5pnorynqglhzmsp33");
	assert_int_equal(base36_encode(ff, 32, 50, out, sizeof(out)), 0);
	assert_string_equal(out,
	    "6dp5qcb22im238nr3wvp0ic7q99w035jmy2iw7i6n43d37jtof");
	assert_int_equal(base36_encode(seq16, 16, 25, out, sizeof(out)), 0);
	assert_string_equal(out, "000avh9he7dy896m08s18udxr");
	assert_int_equal(base36_encode(seq32, 32, 50, out, sizeof(out)), 0);
	assert_string_equal(out,
	    "0004kt6yh5gguqfu8e93hara9xtyf5l309wcar43f213wip34v");
	assert_int_equal(base36_encode((const uint8_t *)"\x01\x00", 2, 4,
	    out, sizeof(out)), 0);
	assert_string_equal(out, "0074");
}

static void
test_encode_zero_and_empty(void **state)
{
	uint8_t z[4] = { 0 };
	char out[8];

	(void)state;
	assert_int_equal(base36_encode(z, sizeof(z), 3, out, sizeof(out)), 0);
	assert_string_equal(out, "000");
	assert_int_equal(base36_encode(NULL, 0, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "00");
	assert_int_equal(base36_encode(z, sizeof(z), 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void
test_encode_range(void **state)
{
	uint8_t v[2] = { 0x05, 0x10 };	/* 1296 = 36^2 needs 3 digits */
	char out[8];

	(void)state;
	assert_int_equal(base36_encode(v, 2, 3, out, sizeof(out)), 0);
	assert_string_equal(out, "100");
	assert_int_equal(base36_encode(v, 2, 2, out, sizeof(out)),
	    HUSH_E_RANGE);
	assert_string_equal(out, "");
	v[1] = 0x0f;	/* 1295 = "zz" */
	assert_int_equal(base36_encode(v, 2, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "zz");
}

static void
test_encode_outcap(void **state)
{
	char out[26];

	(void)state;
	assert_int_equal(base36_encode(seq16, 16, 25, out, 25), HUSH_E_TOOBIG);
	assert_int_equal(base36_encode(seq16, 16, 25, out, 0), HUSH_E_TOOBIG);
	assert_int_equal(base36_encode(seq16, 16, SIZE_MAX, out, sizeof(out)),
	    HUSH_E_TOOBIG);
	assert_int_equal(base36_encode(seq16, 16, 25, out, SIZE_MAX - 1), 0);
	assert_int_equal(base36_encode(seq16, 16, 25, NULL, 26), HUSH_E_INVAL);
	assert_int_equal(base36_encode(NULL, 1, 25, out, 26), HUSH_E_INVAL);
}

static void
test_encode_too_many_bytes(void **state)
{
	uint8_t big[BASE36_MAX_BYTES + 1];
	char out[128];

	(void)state;
	memset(big, 0, sizeof(big));
	assert_int_equal(base36_encode(big, sizeof(big), 10, out, sizeof(out)),
	    HUSH_E_TOOBIG);
	assert_int_equal(base36_encode(big, BASE36_MAX_BYTES, 10, out,
	    sizeof(out)), 0);
}

static void
test_decode_known(void **state)
{
	uint8_t out[32], ff[32];

	(void)state;
	memset(ff, 0xff, sizeof(ff));
	assert_int_equal(base36_decode("f5lxx1zz5pnorynqglhzmsp33", 25, out,
	    16), 0);
	assert_memory_equal(out, ff, 16);
	assert_int_equal(base36_decode("000avh9he7dy896m08s18udxr", 25, out,
	    16), 0);
	assert_memory_equal(out, seq16, 16);
	assert_int_equal(base36_decode("74", 2, out, 2), 0);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0);
	/* Leading zeros beyond any width are just zeros. */
	assert_int_equal(base36_decode("00000000000000000000000000000074", 32,
	    out, 2), 0);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0);
}

static void
test_decode_range(void **state)
{
	uint8_t out[16];

	(void)state;
	/* 2^128 exactly: one past the largest 16-byte value. */
	assert_int_equal(base36_decode("f5lxx1zz5pnorynqglhzmsp34", 25, out,
	    16), HUSH_E_RANGE);
	assert_int_equal(base36_decode("zzzzzzzzzzzzzzzzzzzzzzzzz", 25, out,
	    16), HUSH_E_RANGE);
	assert_int_equal(base36_decode("74", 2, out, 1), HUSH_E_RANGE);
	assert_int_equal(base36_decode("73", 2, out, 1), 0);	/* 255 */
	assert_int_equal(out[0], 0xff);
	assert_int_equal(base36_decode("0", 1, NULL, 0), 0);
	assert_int_equal(base36_decode("1", 1, NULL, 0), HUSH_E_RANGE);
}

static void
test_decode_bad(void **state)
{
	uint8_t out[16];

	(void)state;
	assert_int_equal(base36_decode("", 0, out, 16), HUSH_E_FORMAT);
	assert_int_equal(base36_decode("abC", 3, out, 16), HUSH_E_ENCODING);
	assert_int_equal(base36_decode("a-b", 3, out, 16), HUSH_E_ENCODING);
	assert_int_equal(base36_decode("ab ", 3, out, 16), HUSH_E_ENCODING);
	assert_int_equal(base36_decode("ab\0", 3, out, 16), HUSH_E_ENCODING);
	assert_int_equal(base36_decode("a{", 2, out, 16), HUSH_E_ENCODING);
	assert_int_equal(base36_decode("a/", 2, out, 16), HUSH_E_ENCODING);
	assert_int_equal(base36_decode("a:", 2, out, 16), HUSH_E_ENCODING);
	assert_int_equal(base36_decode("a`", 2, out, 16), HUSH_E_ENCODING);
	assert_int_equal(base36_decode("\xc3\xa9", 2, out, 16),
	    HUSH_E_ENCODING);
	/* An alphabet error wins over a value that would also overflow. */
	assert_int_equal(base36_decode("zzzzzzzzzzzzzzzzzzzzzzzzzZ", 26, out,
	    16), HUSH_E_ENCODING);
	assert_int_equal(base36_decode(NULL, 1, out, 16), HUSH_E_INVAL);
	assert_int_equal(base36_decode("1", 1, NULL, 16), HUSH_E_INVAL);
}

static void
test_decode_failure_zeroes(void **state)
{
	uint8_t out[4];
	static const uint8_t zero[4];

	(void)state;
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(base36_decode("zzzzzzzzzzzzzzz", 15, out, 4),
	    HUSH_E_RANGE);
	assert_memory_equal(out, zero, sizeof(out));
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(base36_decode("zZ", 2, out, 4), HUSH_E_ENCODING);
	assert_memory_equal(out, zero, sizeof(out));
}

static void
test_roundtrip_random(void **state)
{
	uint8_t in[32], back[32];
	char txt[51];
	int i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		randombytes_buf(in, sizeof(in));
		/* Vary magnitude so short values get exercised too. */
		memset(in, 0, (size_t)(i % 33));
		assert_int_equal(base36_encode(in, 32, 50, txt, sizeof(txt)),
		    0);
		assert_int_equal(strlen(txt), 50);
		assert_int_equal(base36_decode(txt, 50, back, 32), 0);
		assert_memory_equal(in, back, 32);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_known),
		cmocka_unit_test(test_encode_zero_and_empty),
		cmocka_unit_test(test_encode_range),
		cmocka_unit_test(test_encode_outcap),
		cmocka_unit_test(test_encode_too_many_bytes),
		cmocka_unit_test(test_decode_known),
		cmocka_unit_test(test_decode_range),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_decode_failure_zeroes),
		cmocka_unit_test(test_roundtrip_random),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
