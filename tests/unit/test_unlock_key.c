#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "unlock_key.h"

/* python3: base64.b64encode(bytes(range(32))).rstrip(b'=') */
#define B64_SEQ		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define KEY_SEQ		"HUSHKEY-1-" B64_SEQ
#define KEY_FF		"HUSHKEY-1-//////////////////////////////////////////8"

static void
seq_key(uint8_t k[32])
{
	size_t i;

	for (i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
}

static void
expect_fail(const char *s, size_t len, int r, const char *msg)
{
	uint8_t key[UNLOCK_KEY_BYTES];
	char why[256];
	size_t i;

	memset(key, 0xaa, sizeof(key));
	snprintf(why, sizeof(why), "unset");
	assert_int_equal(unlock_key_parse(s, len, key, why, sizeof(why)), r);
	if (msg != NULL)
		assert_string_equal(why, msg);
	assert_true(strlen(why) > 0);
	assert_null(strchr(why, '\n'));
	/* Key characters never appear in the message. */
	assert_null(strstr(why, "AAECAwQF"));
	assert_null(strstr(why, "//////"));
	for (i = 0; i < sizeof(key); i++)
		assert_int_equal(key[i], 0);
	assert_int_equal(unlock_key_parse(s, len, key, NULL, 0), r);
}

static void
test_format_known(void **state)
{
	uint8_t k[32];
	char out[UNLOCK_KEY_LEN + 1];

	(void)state;
	seq_key(k);
	assert_int_equal(unlock_key_format(k, out, sizeof(out)), 0);
	assert_string_equal(out, KEY_SEQ);
	assert_int_equal(strlen(out), UNLOCK_KEY_LEN);
	memset(k, 0xff, sizeof(k));
	assert_int_equal(unlock_key_format(k, out, sizeof(out)), 0);
	assert_string_equal(out, KEY_FF);
	assert_int_equal(unlock_key_format(k, out, sizeof(out) - 1),
	    HUSH_E_TOOBIG);
	assert_int_equal(unlock_key_format(k, out, 0), HUSH_E_TOOBIG);
	assert_int_equal(unlock_key_format(NULL, out, sizeof(out)),
	    HUSH_E_INVAL);
}

static void
test_parse_known(void **state)
{
	uint8_t k[32], want[32];
	char why[64];

	(void)state;
	seq_key(want);
	assert_int_equal(unlock_key_parse(KEY_SEQ, UNLOCK_KEY_LEN, k, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_memory_equal(k, want, 32);
	memset(want, 0xff, sizeof(want));
	assert_int_equal(unlock_key_parse(KEY_FF, UNLOCK_KEY_LEN, k, NULL, 0),
	    0);
	assert_memory_equal(k, want, 32);
}

static void
test_parse_prefix_version(void **state)
{
	(void)state;
	expect_fail("", 0, HUSH_E_PREFIX,
	    "unlock key must start with HUSHKEY-");
	expect_fail("hushkey-1-" B64_SEQ, UNLOCK_KEY_LEN, HUSH_E_PREFIX, NULL);
	expect_fail("HUSHKEY", 7, HUSH_E_PREFIX, NULL);
	expect_fail(" " KEY_SEQ, UNLOCK_KEY_LEN + 1, HUSH_E_PREFIX, NULL);
	expect_fail("SWMKEY-1-" B64_SEQ, UNLOCK_KEY_LEN - 1, HUSH_E_PREFIX,
	    NULL);
	expect_fail("HUSHKEY-2-" B64_SEQ, UNLOCK_KEY_LEN, HUSH_E_VERSION,
	    "unsupported unlock key version '2'");
	expect_fail("HUSHKEY-x-" B64_SEQ, UNLOCK_KEY_LEN, HUSH_E_FORMAT, NULL);
	expect_fail("HUSHKEY--" B64_SEQ, UNLOCK_KEY_LEN - 1, HUSH_E_FORMAT,
	    NULL);
	expect_fail("HUSHKEY-1", 9, HUSH_E_FORMAT,
	    "unlock key is truncated after the version");
	/* Dash lost: the key text is not echoed as a "version". */
	expect_fail("HUSHKEY-1" B64_SEQ, UNLOCK_KEY_LEN - 1, HUSH_E_FORMAT,
	    NULL);
}

static void
test_parse_length(void **state)
{
	(void)state;
	expect_fail("HUSHKEY-1-", 10, HUSH_E_FORMAT, "unlock key is too "
	    "short: expected 43 base64 characters after HUSHKEY-1-");
	expect_fail(KEY_SEQ, UNLOCK_KEY_LEN - 1, HUSH_E_FORMAT, NULL);
	expect_fail(KEY_SEQ "A", UNLOCK_KEY_LEN + 1, HUSH_E_FORMAT,
	    "unlock key has trailing data");
	/* Padded (standard base64 with '='). */
	expect_fail(KEY_SEQ "=", UNLOCK_KEY_LEN + 1, HUSH_E_FORMAT,
	    "unlock key has trailing data");
	expect_fail(KEY_SEQ "\n", UNLOCK_KEY_LEN + 1, HUSH_E_FORMAT, NULL);
	/* len includes the NUL. */
	expect_fail(KEY_SEQ, UNLOCK_KEY_LEN + 1, HUSH_E_FORMAT,
	    "unlock key has trailing data");
}

static void
test_parse_alphabet(void **state)
{
	char buf[UNLOCK_KEY_LEN + 1];
	const char *bad = "-_=.* \t\n\r\x80\xff";
	size_t i, j;

	(void)state;
	/* URL-safe, padding, whitespace, NUL and high bytes, anywhere. */
	for (i = 10; i < UNLOCK_KEY_LEN; i++) {
		for (j = 0; j <= strlen(bad); j++) {
			memcpy(buf, KEY_SEQ, sizeof(buf));
			buf[i] = bad[j];	/* j == strlen: NUL */
			expect_fail(buf, UNLOCK_KEY_LEN, HUSH_E_ENCODING,
			    "unlock key is not valid base64 (allowed: "
			    "A-Z a-z 0-9 + /, no padding)");
		}
	}
}

static void
test_parse_noncanonical(void **state)
{
	const char *tail = "9+/";	/* '8' with either low bit set */
	char buf[UNLOCK_KEY_LEN + 1];
	uint8_t k[32];
	size_t i;

	(void)state;
	for (i = 0; i < strlen(tail); i++) {
		memcpy(buf, KEY_SEQ, sizeof(buf));
		buf[UNLOCK_KEY_LEN - 1] = tail[i];
		expect_fail(buf, UNLOCK_KEY_LEN, HUSH_E_ENCODING,
		    "unlock key is not canonical base64 (was it edited?)");
		memcpy(buf, KEY_FF, sizeof(buf));
		buf[UNLOCK_KEY_LEN - 1] = tail[i];
		expect_fail(buf, UNLOCK_KEY_LEN, HUSH_E_ENCODING, NULL);
	}
	/* "AAAB" style: zero key with a stray low bit. */
	expect_fail("HUSHKEY-1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
	    UNLOCK_KEY_LEN, HUSH_E_ENCODING, NULL);
	/* Changing a data bit instead gives a different, valid key. */
	memcpy(buf, KEY_SEQ, sizeof(buf));
	buf[UNLOCK_KEY_LEN - 1] = '4';
	assert_int_equal(unlock_key_parse(buf, UNLOCK_KEY_LEN, k, NULL, 0), 0);
	assert_int_equal(k[31], 0x1e);
}

static void
test_parse_huge_len(void **state)
{
	static char big[1 << 16];

	(void)state;
	memset(big, 'A', sizeof(big));
	memcpy(big, KEY_SEQ, UNLOCK_KEY_LEN);
	expect_fail(big, sizeof(big), HUSH_E_FORMAT,
	    "unlock key has trailing data");
}

/*
 * A len far beyond the buffer (a caller bug) must not send the parser past
 * the key's own layout; ASan checks that only the buffer is read.
 */
static void
test_parse_size_max(void **state)
{
	uint8_t k[32];
	char buf[UNLOCK_KEY_LEN + 1];

	(void)state;
	memcpy(buf, KEY_SEQ, sizeof(buf));
	expect_fail(buf, SIZE_MAX, HUSH_E_FORMAT,
	    "unlock key has trailing data");
	assert_int_equal(unlock_key_parse("HUSHKEY-2-", SIZE_MAX, k, NULL, 0),
	    HUSH_E_VERSION);
	assert_int_equal(unlock_key_parse("HUSHKEY-12345678901", SIZE_MAX, k,
	    NULL, 0), HUSH_E_VERSION);
	assert_int_equal(unlock_key_parse("NOTAKEY!", SIZE_MAX, k, NULL, 0),
	    HUSH_E_PREFIX);
}

static void
test_parse_args(void **state)
{
	uint8_t k[32];

	(void)state;
	assert_int_equal(unlock_key_parse(KEY_SEQ, UNLOCK_KEY_LEN, NULL, NULL,
	    0), HUSH_E_INVAL);
	assert_int_equal(unlock_key_parse(NULL, 3, k, NULL, 0), HUSH_E_INVAL);
	assert_int_equal(unlock_key_new(NULL), HUSH_E_INVAL);
}

static void
test_roundtrip_guarded(void **state)
{
	uint8_t *k, *back;
	char s[UNLOCK_KEY_LEN + 1];
	int i;

	(void)state;
	/* The daemon parses into sodium_malloc'd memory: do the same. */
	k = sodium_malloc(UNLOCK_KEY_BYTES);
	back = sodium_malloc(UNLOCK_KEY_BYTES);
	assert_non_null(k);
	assert_non_null(back);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(unlock_key_new(k), 0);
		assert_int_equal(unlock_key_format(k, s, sizeof(s)), 0);
		assert_int_equal(strlen(s), UNLOCK_KEY_LEN);
		assert_int_equal(unlock_key_parse(s, strlen(s), back, NULL, 0),
		    0);
		assert_memory_equal(k, back, UNLOCK_KEY_BYTES);
	}
	sodium_free(k);
	sodium_free(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_known),
		cmocka_unit_test(test_parse_known),
		cmocka_unit_test(test_parse_prefix_version),
		cmocka_unit_test(test_parse_length),
		cmocka_unit_test(test_parse_alphabet),
		cmocka_unit_test(test_parse_noncanonical),
		cmocka_unit_test(test_parse_huge_len),
		cmocka_unit_test(test_parse_size_max),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_roundtrip_guarded),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
