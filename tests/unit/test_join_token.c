#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "join_token.h"

static const char pem[] =
    "-----BEGIN CERTIFICATE-----\nhush\n-----END CERTIFICATE-----\n";
/* python3: hashlib.sha256(pem) */
static const char pem_sha256_hex[] =
    "a5b0cde31d8bc2af635c5499a7ca4128e074ab3bc02169c5c5dd0f25172d4ab1";
#define DIGEST36	"44o1g4dnt0kxyfg8dktpys2zdblcob3q0nhgg64krrw1sib73l"
#define SECRET36	"000avh9he7dy896m08s18udxr"	/* bytes 00..0f */
#define TOKEN		"HUSHTKN-1-" DIGEST36 "-" SECRET36

static void
known_token(struct join_token *t)
{
	size_t i;

	assert_int_equal(join_token_digest_pem(pem, strlen(pem), t->digest),
	    0);
	for (i = 0; i < sizeof(t->secret); i++)
		t->secret[i] = (uint8_t)i;
}

/* Parses s (length strlen) expecting failure r with message `msg`. */
static void
expect_fail(const char *s, size_t len, int r, const char *msg)
{
	struct join_token t;
	char why[256];
	size_t i;

	memset(&t, 0xaa, sizeof(t));
	snprintf(why, sizeof(why), "unset");
	assert_int_equal(join_token_parse(s, len, &t, why, sizeof(why)), r);
	if (msg != NULL)
		assert_string_equal(why, msg);
	assert_true(strlen(why) > 0);
	assert_null(strchr(why, '\n'));
	/* The message never quotes the secret. */
	assert_null(strstr(why, SECRET36));
	for (i = 0; i < sizeof(t); i++)
		assert_int_equal(((uint8_t *)&t)[i], 0);
	/* And the same failure without a message buffer. */
	assert_int_equal(join_token_parse(s, len, &t, NULL, 0), r);
}

static void
test_digest_pem_known(void **state)
{
	uint8_t d[32];
	char hex[65];

	(void)state;
	assert_int_equal(join_token_digest_pem(pem, strlen(pem), d), 0);
	sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
	assert_string_equal(hex, pem_sha256_hex);
	assert_int_equal(join_token_digest_pem(NULL, 1, d), HUSH_E_INVAL);
	assert_int_equal(join_token_digest_pem(NULL, 0, d), 0);
	sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
}

static void
test_format_known(void **state)
{
	struct join_token t;
	char out[JOIN_TOKEN_LEN + 1];

	(void)state;
	known_token(&t);
	assert_int_equal(join_token_format(&t, out, sizeof(out)), 0);
	assert_string_equal(out, TOKEN);
	assert_int_equal(strlen(out), JOIN_TOKEN_LEN);
	assert_int_equal(join_token_format(&t, out, sizeof(out) - 1),
	    HUSH_E_TOOBIG);
	assert_int_equal(join_token_format(&t, out, 0), HUSH_E_TOOBIG);
	assert_int_equal(join_token_format(NULL, out, sizeof(out)),
	    HUSH_E_INVAL);
}

static void
test_parse_known(void **state)
{
	struct join_token t, want;
	char why[128];

	(void)state;
	known_token(&want);
	assert_int_equal(join_token_parse(TOKEN, strlen(TOKEN), &t, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_memory_equal(&t, &want, sizeof(t));
	assert_true(join_token_secret_equal(t.secret, want.secret));
	/* A parse stops at len: the rest of the buffer is not read. */
	assert_int_equal(join_token_parse(TOKEN "garbage", strlen(TOKEN), &t,
	    NULL, 0), 0);
}

static void
test_parse_extremes(void **state)
{
	struct join_token t;
	static const uint8_t zero[32];

	(void)state;
	assert_int_equal(join_token_parse("HUSHTKN-1-"
	    "00000000000000000000000000000000000000000000000000-"
	    "0000000000000000000000000", JOIN_TOKEN_LEN, &t, NULL, 0), 0);
	assert_memory_equal(t.digest, zero, 32);
	assert_memory_equal(t.secret, zero, 16);
	assert_int_equal(join_token_parse("HUSHTKN-1-"
	    "6dp5qcb22im238nr3wvp0ic7q99w035jmy2iw7i6n43d37jtof-"
	    "f5lxx1zz5pnorynqglhzmsp33", JOIN_TOKEN_LEN, &t, NULL, 0), 0);
	assert_int_equal(t.digest[0], 0xff);
	assert_int_equal(t.digest[31], 0xff);
	assert_int_equal(t.secret[15], 0xff);
}

static void
test_parse_prefix(void **state)
{
	(void)state;
	expect_fail("", 0, HUSH_E_PREFIX,
	    "join token must start with HUSHTKN-");
	expect_fail("HUSHTKN", 7, HUSH_E_PREFIX, NULL);
	expect_fail("hushtkn-1-" DIGEST36 "-" SECRET36, JOIN_TOKEN_LEN,
	    HUSH_E_PREFIX, "join token must start with HUSHTKN-");
	expect_fail("SWMTKN-1-" DIGEST36 "-" SECRET36, JOIN_TOKEN_LEN - 1,
	    HUSH_E_PREFIX, NULL);
	expect_fail(" " TOKEN, JOIN_TOKEN_LEN + 1, HUSH_E_PREFIX, NULL);
	/* An unlock key pasted where a token belongs. */
	expect_fail("HUSHKEY-1-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 53,
	    HUSH_E_PREFIX, NULL);
}

static void
test_parse_version(void **state)
{
	(void)state;
	expect_fail("HUSHTKN-2-" DIGEST36 "-" SECRET36, JOIN_TOKEN_LEN,
	    HUSH_E_VERSION, "unsupported join token version '2'");
	expect_fail("HUSHTKN-10-" DIGEST36 "-" SECRET36, JOIN_TOKEN_LEN + 1,
	    HUSH_E_VERSION, "unsupported join token version '10'");
	expect_fail("HUSHTKN-01-" DIGEST36 "-" SECRET36, JOIN_TOKEN_LEN + 1,
	    HUSH_E_VERSION, NULL);
	expect_fail("HUSHTKN-1234567890-x", 20, HUSH_E_VERSION,
	    "unsupported join token version");
	expect_fail("HUSHTKN-x-" DIGEST36 "-" SECRET36, JOIN_TOKEN_LEN,
	    HUSH_E_FORMAT, NULL);
	expect_fail("HUSHTKN--" DIGEST36 "-" SECRET36, JOIN_TOKEN_LEN - 1,
	    HUSH_E_FORMAT, NULL);
	expect_fail("HUSHTKN-", 8, HUSH_E_FORMAT, NULL);
	expect_fail("HUSHTKN-1", 9, HUSH_E_FORMAT,
	    "join token is truncated after the version");
	/* Dashes lost in a paste: all secret characters, none echoed. */
	expect_fail("HUSHTKN-1" DIGEST36 SECRET36, JOIN_TOKEN_LEN - 2,
	    HUSH_E_FORMAT, NULL);
	expect_fail("HUSHTKN-1" "0000000000000000000000000", 9 + 25,
	    HUSH_E_VERSION, "unsupported join token version");
}

static void
test_parse_digest(void **state)
{
	(void)state;
	expect_fail("HUSHTKN-1-", 10, HUSH_E_FORMAT,
	    "join token digest must be 50 base36 characters");
	expect_fail("HUSHTKN-1-" DIGEST36, 60, HUSH_E_FORMAT,
	    "join token is missing its secret");
	expect_fail("HUSHTKN-1-" DIGEST36 "-", 61, HUSH_E_FORMAT,
	    "join token secret must be 25 base36 characters");
	/* 49 and 51 characters. */
	expect_fail("HUSHTKN-1-"
	    "4o1g4dnt0kxyfg8dktpys2zdblcob3q0nhgg64krrw1sib73l-" SECRET36,
	    JOIN_TOKEN_LEN - 1, HUSH_E_FORMAT,
	    "join token digest must be 50 base36 characters");
	expect_fail("HUSHTKN-1-0" DIGEST36 "-" SECRET36, JOIN_TOKEN_LEN + 1,
	    HUSH_E_FORMAT, "join token digest must be 50 base36 characters");
	expect_fail("HUSHTKN-1-"
	    "44O1g4dnt0kxyfg8dktpys2zdblcob3q0nhgg64krrw1sib73l-" SECRET36,
	    JOIN_TOKEN_LEN, HUSH_E_ENCODING,
	    "join token digest is not valid base36 (0-9 and lowercase a-z)");
	expect_fail("HUSHTKN-1-"
	    "44o1g4dnt0kxyfg8dktpys2zdbl_ob3q0nhgg64krrw1sib73l-" SECRET36,
	    JOIN_TOKEN_LEN, HUSH_E_ENCODING, NULL);
	/* 2^256 does not fit a SHA-256 digest. */
	expect_fail("HUSHTKN-1-"
	    "6dp5qcb22im238nr3wvp0ic7q99w035jmy2iw7i6n43d37jtog-" SECRET36,
	    JOIN_TOKEN_LEN, HUSH_E_RANGE,
	    "join token digest is out of range");
}

static void
test_parse_secret(void **state)
{
	(void)state;
	expect_fail("HUSHTKN-1-" DIGEST36 "-" "000avh9he7dy896m08s18udx",
	    JOIN_TOKEN_LEN - 1, HUSH_E_FORMAT,
	    "join token secret must be 25 base36 characters");
	expect_fail("HUSHTKN-1-" DIGEST36 "-" "000avh9he7dy896m08s18udxR",
	    JOIN_TOKEN_LEN, HUSH_E_ENCODING,
	    "join token secret is not valid base36 (0-9 and lowercase a-z)");
	expect_fail("HUSHTKN-1-" DIGEST36 "-" "000avh9he7dy896m08s1-udxr",
	    JOIN_TOKEN_LEN, HUSH_E_ENCODING, NULL);
	expect_fail("HUSHTKN-1-" DIGEST36 "-" "f5lxx1zz5pnorynqglhzmsp34",
	    JOIN_TOKEN_LEN, HUSH_E_RANGE, "join token secret is out of range");
	expect_fail("HUSHTKN-1-" DIGEST36 "-" "zzzzzzzzzzzzzzzzzzzzzzzzz",
	    JOIN_TOKEN_LEN, HUSH_E_RANGE, NULL);
}

static void
test_parse_trailing(void **state)
{
	(void)state;
	expect_fail(TOKEN "\n", JOIN_TOKEN_LEN + 1, HUSH_E_FORMAT,
	    "join token has trailing data");
	expect_fail(TOKEN " ", JOIN_TOKEN_LEN + 1, HUSH_E_FORMAT,
	    "join token has trailing data");
	expect_fail(TOKEN "0", JOIN_TOKEN_LEN + 1, HUSH_E_FORMAT,
	    "join token has trailing data");
	expect_fail(TOKEN "-x", JOIN_TOKEN_LEN + 2, HUSH_E_FORMAT,
	    "join token has trailing data");
	/* len counts the terminating NUL. */
	expect_fail(TOKEN, JOIN_TOKEN_LEN + 1, HUSH_E_FORMAT,
	    "join token has trailing data");
}

static void
test_parse_embedded_nul(void **state)
{
	struct join_token t;
	char buf[JOIN_TOKEN_LEN + 1];
	size_t i;
	int r;

	(void)state;
	/* A NUL anywhere is rejected, never read as the end of the text. */
	for (i = 0; i < JOIN_TOKEN_LEN; i++) {
		memcpy(buf, TOKEN, sizeof(buf));
		buf[i] = '\0';
		r = join_token_parse(buf, JOIN_TOKEN_LEN, &t, NULL, 0);
		assert_true(r == HUSH_E_PREFIX || r == HUSH_E_FORMAT ||
		    r == HUSH_E_ENCODING);
	}
}

static void
test_parse_huge_len(void **state)
{
	static char big[1 << 16];

	(void)state;
	memset(big, '0', sizeof(big));
	memcpy(big, TOKEN, JOIN_TOKEN_LEN);
	expect_fail(big, sizeof(big), HUSH_E_FORMAT,
	    "join token has trailing data");
	memset(big + 10, '0', sizeof(big) - 10);
	expect_fail(big, sizeof(big), HUSH_E_FORMAT,
	    "join token digest must be 50 base36 characters");
}

/*
 * A len far beyond the buffer (a caller bug) must not send the parser past
 * the token's own layout: every scan is capped by the format's widths.
 * Each buffer holds what the parser may read, and ASan checks the rest.
 */
static void
test_parse_size_max(void **state)
{
	struct join_token t;
	char buf[JOIN_TOKEN_LEN + 1];

	(void)state;
	memcpy(buf, TOKEN, sizeof(buf));
	expect_fail(buf, SIZE_MAX, HUSH_E_FORMAT,
	    "join token has trailing data");
	assert_int_equal(join_token_parse("HUSHTKN-2-", SIZE_MAX, &t, NULL, 0),
	    HUSH_E_VERSION);
	assert_int_equal(join_token_parse("HUSHTKN-12345678901", SIZE_MAX, &t,
	    NULL, 0), HUSH_E_VERSION);
	assert_int_equal(join_token_parse("HUSHTKN-1-0123456789"
	    "0123456789012345678901234567890123456789012", SIZE_MAX, &t,
	    NULL, 0), HUSH_E_FORMAT);
	assert_int_equal(join_token_parse("WRONGPFX", SIZE_MAX, &t, NULL, 0),
	    HUSH_E_PREFIX);
}

static void
test_parse_args(void **state)
{
	struct join_token t;
	char why[8];

	(void)state;
	assert_int_equal(join_token_parse(TOKEN, JOIN_TOKEN_LEN, NULL, NULL,
	    0), HUSH_E_INVAL);
	assert_int_equal(join_token_parse(NULL, 5, &t, NULL, 0), HUSH_E_INVAL);
	/* A short message buffer truncates rather than overflows. */
	assert_int_equal(join_token_parse("x", 1, &t, why, sizeof(why)),
	    HUSH_E_PREFIX);
	assert_string_equal(why, "join to");
}

static void
test_roundtrip_random(void **state)
{
	struct join_token t, back;
	char s[JOIN_TOKEN_LEN + 1];
	char why[128];
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		randombytes_buf(t.digest, sizeof(t.digest));
		assert_int_equal(join_token_new_secret(t.secret), 0);
		assert_int_equal(join_token_format(&t, s, sizeof(s)), 0);
		assert_int_equal(strlen(s), JOIN_TOKEN_LEN);
		assert_int_equal(join_token_parse(s, strlen(s), &back, why,
		    sizeof(why)), 0);
		assert_memory_equal(&t, &back, sizeof(t));
	}
}

static void
test_secret_equal(void **state)
{
	uint8_t a[16], b[16];

	(void)state;
	assert_int_equal(join_token_new_secret(a), 0);
	memcpy(b, a, sizeof(b));
	assert_true(join_token_secret_equal(a, b));
	b[15] ^= 1;
	assert_false(join_token_secret_equal(a, b));
	b[15] ^= 1;
	b[0] ^= 0x80;
	assert_false(join_token_secret_equal(a, b));
	assert_int_equal(join_token_new_secret(NULL), HUSH_E_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_pem_known),
		cmocka_unit_test(test_format_known),
		cmocka_unit_test(test_parse_known),
		cmocka_unit_test(test_parse_extremes),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_parse_digest),
		cmocka_unit_test(test_parse_secret),
		cmocka_unit_test(test_parse_trailing),
		cmocka_unit_test(test_parse_embedded_nul),
		cmocka_unit_test(test_parse_huge_len),
		cmocka_unit_test(test_parse_size_max),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_secret_equal),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
