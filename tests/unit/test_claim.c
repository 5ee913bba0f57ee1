#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "claim.h"
#include "err.h"
#include "id.h"

#define SERVICE_ID	"2wxfmymlnr2wc5aenm6h1h4rb"
#define OTHER_ID	"0000000000000000000000001"
/* python3: bytes 00..1f as one big-endian integer, in base36 */
#define SECRET36	"0004kt6yh5gguqfu8e93hara9xtyf5l309wcar43f213wip34v"
#define CLAIM		"HUSHCLM-1-" SERVICE_ID "-" SECRET36
/*
 * python3: hashlib.blake2b(bytes(range(32)), digest_size=32,
 * person=b"hush-claim-v1").hexdigest(), and the same of bytes(32)
 */
#define DIGEST_SEQ	"0e3efbe4a24e17a6405cb9a121df8284" \
			"329e50f20534255b345e369e11fe28fb"
#define DIGEST_ZERO	"990856536fb068ea6576347b50d347a7" \
			"a17ff59a27099feda20b912e442b9de8"
/* 2^256 - 1 and 2^256; 2^128 - 1 and 2^128 */
#define SECRET_MAX	"6dp5qcb22im238nr3wvp0ic7q99w035jmy2iw7i6n43d37jtof"
#define SECRET_OVER	"6dp5qcb22im238nr3wvp0ic7q99w035jmy2iw7i6n43d37jtog"
#define ID_MAX		"f5lxx1zz5pnorynqglhzmsp33"
#define ID_OVER		"f5lxx1zz5pnorynqglhzmsp34"

static void
known_claim(struct claim *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	memcpy(c->service_id, SERVICE_ID, sizeof(SERVICE_ID));
	for (i = 0; i < sizeof(c->secret); i++)
		c->secret[i] = (uint8_t)i;
}

/* Parses s[0..len) expecting failure r with message `msg`. */
static void
expect_fail(const char *s, size_t len, int r, const char *msg)
{
	struct claim c;
	char why[256];
	size_t i;

	memset(&c, 0xaa, sizeof(c));
	snprintf(why, sizeof(why), "unset");
	assert_int_equal(claim_parse(s, len, &c, why, sizeof(why)), r);
	if (msg != NULL)
		assert_string_equal(why, msg);
	assert_true(strlen(why) > 0);
	assert_null(strchr(why, '\n'));
	/* The message never quotes the secret. */
	assert_null(strstr(why, SECRET36));
	assert_null(strstr(why, "4kt6yh5g"));
	for (i = 0; i < sizeof(c); i++)
		assert_int_equal(((uint8_t *)&c)[i], 0);
	/* And the same failure without a message buffer. */
	assert_int_equal(claim_parse(s, len, &c, NULL, 0), r);
}

static void
test_format_known(void **state)
{
	struct claim c;
	char out[CLAIM_LEN + 1];

	(void)state;
	known_claim(&c);
	assert_int_equal(claim_format(&c, out, sizeof(out)), 0);
	assert_string_equal(out, CLAIM);
	assert_int_equal(strlen(out), CLAIM_LEN);
	assert_int_equal(claim_format(&c, out, sizeof(out) - 1),
	    HUSH_E_TOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(claim_format(&c, out, 0), HUSH_E_TOOBIG);
	assert_int_equal(claim_format(NULL, out, sizeof(out)), HUSH_E_INVAL);
	assert_int_equal(claim_format(&c, NULL, sizeof(out)), HUSH_E_INVAL);
	/* A struct whose id was never set (or was wiped) is not formatted. */
	c.service_id[0] = 'A';
	assert_int_equal(claim_format(&c, out, sizeof(out)), HUSH_E_INVAL);
	assert_string_equal(out, "");
	memset(c.service_id, 'a', sizeof(c.service_id));
	assert_int_equal(claim_format(&c, out, sizeof(out)), HUSH_E_INVAL);
	claim_wipe(&c);
	assert_int_equal(claim_format(&c, out, sizeof(out)), HUSH_E_INVAL);
}

static void
test_parse_known(void **state)
{
	struct claim c, want;
	char why[128];

	(void)state;
	known_claim(&want);
	assert_int_equal(claim_parse(CLAIM, strlen(CLAIM), &c, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_memory_equal(&c, &want, sizeof(c));
	assert_string_equal(c.service_id, SERVICE_ID);
	/* A parse stops at len: the rest of the buffer is not read. */
	assert_int_equal(claim_parse(CLAIM "garbage", strlen(CLAIM), &c,
	    NULL, 0), 0);
}

static void
test_parse_extremes(void **state)
{
	struct claim c;
	static const uint8_t zero[CLAIM_SECRET_BYTES];
	size_t i;

	(void)state;
	assert_int_equal(claim_parse("HUSHCLM-1-0000000000000000000000000-"
	    "00000000000000000000000000000000000000000000000000", CLAIM_LEN,
	    &c, NULL, 0), 0);
	assert_string_equal(c.service_id, "0000000000000000000000000");
	assert_memory_equal(c.secret, zero, sizeof(zero));
	assert_int_equal(claim_parse("HUSHCLM-1-" ID_MAX "-" SECRET_MAX,
	    CLAIM_LEN, &c, NULL, 0), 0);
	assert_string_equal(c.service_id, ID_MAX);
	for (i = 0; i < sizeof(c.secret); i++)
		assert_int_equal(c.secret[i], 0xff);
}

static void
test_parse_empty_short_long(void **state)
{
	static const char *const pfx[] = {
		"H", "HUSHCLM", "HUSHCLM-", "HUSHCLM-1", "HUSHCLM-1-",
		"HUSHCLM-1-" SERVICE_ID,
		"HUSHCLM-1-" SERVICE_ID "-",
		"HUSHCLM-1-" SERVICE_ID "-"
		    "0004kt6yh5gguqfu8e93hara9xtyf5l309w",
	};
	size_t i;
	int r;

	(void)state;
	expect_fail("", 0, HUSH_E_PREFIX, "claim must start with HUSHCLM-");
	expect_fail(CLAIM, 0, HUSH_E_PREFIX, NULL);
	/* Every truncation of a good claim fails, and fails cleanly. */
	for (i = 1; i < CLAIM_LEN; i++) {
		r = i < 8 ? HUSH_E_PREFIX : HUSH_E_FORMAT;
		expect_fail(CLAIM, i, r, NULL);
	}
	expect_fail(pfx[0], strlen(pfx[0]), HUSH_E_PREFIX, NULL);
	expect_fail(pfx[1], strlen(pfx[1]), HUSH_E_PREFIX, NULL);
	expect_fail(pfx[2], strlen(pfx[2]), HUSH_E_FORMAT,
	    "claim version is missing (expected HUSHCLM-1-...)");
	expect_fail(pfx[3], strlen(pfx[3]), HUSH_E_FORMAT,
	    "claim is truncated after the version");
	expect_fail(pfx[4], strlen(pfx[4]), HUSH_E_FORMAT,
	    "claim service id must be 25 base36 characters");
	expect_fail(pfx[5], strlen(pfx[5]), HUSH_E_FORMAT,
	    "claim is missing its secret");
	expect_fail(pfx[6], strlen(pfx[6]), HUSH_E_FORMAT,
	    "claim secret must be 50 base36 characters");
	expect_fail(pfx[7], strlen(pfx[7]), HUSH_E_FORMAT,
	    "claim secret must be 50 base36 characters");
	/* One character short and one too many in the secret. */
	expect_fail(CLAIM, CLAIM_LEN - 1, HUSH_E_FORMAT,
	    "claim secret must be 50 base36 characters");
	expect_fail(CLAIM "0", CLAIM_LEN + 1, HUSH_E_FORMAT,
	    "claim has trailing data");
}

static void
test_parse_prefix(void **state)
{
	(void)state;
	expect_fail("hushclm-1-" SERVICE_ID "-" SECRET36, CLAIM_LEN,
	    HUSH_E_PREFIX, "claim must start with HUSHCLM-");
	expect_fail("HushClm-1-" SERVICE_ID "-" SECRET36, CLAIM_LEN,
	    HUSH_E_PREFIX, NULL);
	expect_fail("HUSHCLX-1-" SERVICE_ID "-" SECRET36, CLAIM_LEN,
	    HUSH_E_PREFIX, NULL);
	expect_fail("CLM-1-" SERVICE_ID "-" SECRET36, CLAIM_LEN - 5,
	    HUSH_E_PREFIX, NULL);
	expect_fail(" " CLAIM, CLAIM_LEN + 1, HUSH_E_PREFIX, NULL);
	expect_fail("\n" CLAIM, CLAIM_LEN + 1, HUSH_E_PREFIX, NULL);
}

/* The operator's other texts, given where a claim belongs. */
static void
test_parse_other_texts(void **state)
{
	(void)state;
	/* A real join token (test_join_token.c) is exactly as long. */
	expect_fail("HUSHTKN-1-"
	    "44o1g4dnt0kxyfg8dktpys2zdblcob3q0nhgg64krrw1sib73l-"
	    "000avh9he7dy896m08s18udxr", CLAIM_LEN, HUSH_E_PREFIX,
	    "this is a join token, not a claim (a claim starts with "
	    "HUSHCLM-)");
	expect_fail("HUSHTKN-", 8, HUSH_E_PREFIX,
	    "this is a join token, not a claim (a claim starts with "
	    "HUSHCLM-)");
	expect_fail("HUSHKEY-1-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
	    53, HUSH_E_PREFIX,
	    "this is an unlock key, not a claim (a claim starts with "
	    "HUSHCLM-)");
	/* Too short to tell: just the usual message. */
	expect_fail("HUSHTKN", 7, HUSH_E_PREFIX,
	    "claim must start with HUSHCLM-");
}

static void
test_parse_version(void **state)
{
	(void)state;
	expect_fail("HUSHCLM-2-" SERVICE_ID "-" SECRET36, CLAIM_LEN,
	    HUSH_E_VERSION, "unsupported claim version '2'");
	expect_fail("HUSHCLM-10-" SERVICE_ID "-" SECRET36, CLAIM_LEN + 1,
	    HUSH_E_VERSION, "unsupported claim version '10'");
	expect_fail("HUSHCLM-01-" SERVICE_ID "-" SECRET36, CLAIM_LEN + 1,
	    HUSH_E_VERSION, NULL);
	expect_fail("HUSHCLM-1234567890-x", 20, HUSH_E_VERSION,
	    "unsupported claim version");
	expect_fail("HUSHCLM-x-" SERVICE_ID "-" SECRET36, CLAIM_LEN,
	    HUSH_E_FORMAT,
	    "claim version must be a number (expected HUSHCLM-1-...)");
	expect_fail("HUSHCLM--" SERVICE_ID "-" SECRET36, CLAIM_LEN - 1,
	    HUSH_E_FORMAT, "claim version is missing (expected HUSHCLM-1-...)");
}

static void
test_parse_service_id(void **state)
{
	(void)state;
	/* Uppercase, punctuation, a space. */
	expect_fail("HUSHCLM-1-2wxfmymlnr2wc5aenM6h1h4rb-" SECRET36,
	    CLAIM_LEN, HUSH_E_ENCODING,
	    "claim service id is not valid base36 (0-9 and lowercase a-z)");
	expect_fail("HUSHCLM-1-2wxfmymlnr2wc5a_nm6h1h4rb-" SECRET36,
	    CLAIM_LEN, HUSH_E_ENCODING, NULL);
	expect_fail("HUSHCLM-1-2wxfmymlnr2wc5a nm6h1h4rb-" SECRET36,
	    CLAIM_LEN, HUSH_E_ENCODING, NULL);
	/* 24 and 26 characters. */
	expect_fail("HUSHCLM-1-wxfmymlnr2wc5aenm6h1h4rb-" SECRET36,
	    CLAIM_LEN - 1, HUSH_E_FORMAT,
	    "claim service id must be 25 base36 characters");
	expect_fail("HUSHCLM-1-0" SERVICE_ID "-" SECRET36, CLAIM_LEN + 1,
	    HUSH_E_FORMAT, "claim service id must be 25 base36 characters");
	/* 2^128 and above are not ids. */
	expect_fail("HUSHCLM-1-" ID_OVER "-" SECRET36, CLAIM_LEN,
	    HUSH_E_RANGE, "claim service id is out of range");
	expect_fail("HUSHCLM-1-zzzzzzzzzzzzzzzzzzzzzzzzz-" SECRET36,
	    CLAIM_LEN, HUSH_E_RANGE, NULL);
}

static void
test_parse_secret(void **state)
{
	(void)state;
	expect_fail("HUSHCLM-1-" SERVICE_ID "-"
	    "0004KT6YH5GGUQFU8E93HARA9XTYF5L309WCAR43F213WIP34V", CLAIM_LEN,
	    HUSH_E_ENCODING,
	    "claim secret is not valid base36 (0-9 and lowercase a-z)");
	expect_fail("HUSHCLM-1-" SERVICE_ID "-"
	    "0004kt6yh5gguqfu8e93hara9xtyf5l309wcar43f213wip34V", CLAIM_LEN,
	    HUSH_E_ENCODING, NULL);
	expect_fail("HUSHCLM-1-" SERVICE_ID "-" SECRET_OVER, CLAIM_LEN,
	    HUSH_E_RANGE, "claim secret is out of range");
	expect_fail("HUSHCLM-1-" SERVICE_ID "-"
	    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", CLAIM_LEN,
	    HUSH_E_RANGE, NULL);
}

static void
test_parse_dashes(void **state)
{
	(void)state;
	/* Missing dashes: each one, then both. */
	expect_fail("HUSHCLM1-" SERVICE_ID "-" SECRET36, CLAIM_LEN - 1,
	    HUSH_E_PREFIX, NULL);
	expect_fail("HUSHCLM-1" SERVICE_ID "-" SECRET36, CLAIM_LEN - 1,
	    HUSH_E_FORMAT, NULL);
	expect_fail("HUSHCLM-1-" SERVICE_ID SECRET36, CLAIM_LEN - 1,
	    HUSH_E_FORMAT, "claim service id must be 25 base36 characters");
	expect_fail("HUSHCLM-1" SERVICE_ID SECRET36, CLAIM_LEN - 2,
	    HUSH_E_FORMAT, NULL);
	/* An extra dash in each place. */
	expect_fail("HUSHCLM--1-" SERVICE_ID "-" SECRET36, CLAIM_LEN + 1,
	    HUSH_E_FORMAT, NULL);
	expect_fail("HUSHCLM-1--" SERVICE_ID "-" SECRET36, CLAIM_LEN + 1,
	    HUSH_E_FORMAT, "claim service id must be 25 base36 characters");
	expect_fail("HUSHCLM-1-" SERVICE_ID "--" SECRET36, CLAIM_LEN + 1,
	    HUSH_E_ENCODING, NULL);
	expect_fail("HUSHCLM-1-" SERVICE_ID "-"
	    "0004kt6yh5gguqfu8e93hara9-tyf5l309wcar43f213wip34v", CLAIM_LEN,
	    HUSH_E_ENCODING, NULL);
	expect_fail(CLAIM "-", CLAIM_LEN + 1, HUSH_E_FORMAT,
	    "claim has trailing data");
	/* Dashes instead of the other separators. */
	expect_fail("HUSHCLM-1_" SERVICE_ID "-" SECRET36, CLAIM_LEN,
	    HUSH_E_FORMAT, NULL);
	expect_fail("HUSHCLM-1-" SERVICE_ID "_" SECRET36, CLAIM_LEN,
	    HUSH_E_FORMAT, NULL);
}

static void
test_parse_trailing(void **state)
{
	(void)state;
	expect_fail(CLAIM "\n", CLAIM_LEN + 1, HUSH_E_FORMAT,
	    "claim has trailing data");
	expect_fail(CLAIM " ", CLAIM_LEN + 1, HUSH_E_FORMAT,
	    "claim has trailing data");
	expect_fail(CLAIM "\r\n", CLAIM_LEN + 2, HUSH_E_FORMAT,
	    "claim has trailing data");
	/* len counts the terminating NUL. */
	expect_fail(CLAIM, CLAIM_LEN + 1, HUSH_E_FORMAT,
	    "claim has trailing data");
}

static void
test_parse_embedded_nul(void **state)
{
	struct claim c;
	char buf[CLAIM_LEN + 1];
	size_t i;
	int r;

	(void)state;
	/* A NUL anywhere is rejected, never read as the end of the text. */
	for (i = 0; i < CLAIM_LEN; i++) {
		memcpy(buf, CLAIM, sizeof(buf));
		buf[i] = '\0';
		r = claim_parse(buf, CLAIM_LEN, &c, NULL, 0);
		assert_true(r == HUSH_E_PREFIX || r == HUSH_E_FORMAT ||
		    r == HUSH_E_ENCODING);
		expect_fail(buf, CLAIM_LEN, r, NULL);
	}
}

/*
 * The secret part as a recognisable string, in every kind of malformed
 * claim: no 4-character piece of it may reach the message.
 */
#define MARK		"00s3cr3tp4rts3cr3tp4rts3cr3tp4rts3cr3tp4rts3cr3tp4"
#define MARK_UP		"00S3CR3TP4RTS3CR3TP4RTS3CR3TP4RTS3CR3TP4RTS3CR3TP4"
#define MARK_OVER	"s3cr3tp4rts3cr3tp4rts3cr3tp4rts3cr3tp4rts3cr3tp4rt"

static void
test_why_hides_secret(void **state)
{
	static const char *const in[] = {
		"HUSHCLM-1-" SERVICE_ID "-" MARK "\n",
		"HUSHCLM-1-" SERVICE_ID "-" MARK " ",
		"HUSHCLM-1-" SERVICE_ID "-" MARK "x",
		"HUSHCLM-1-" SERVICE_ID "-" MARK_UP,
		"HUSHCLM-1-" SERVICE_ID "-" MARK_OVER,
		"HUSHCLM-1-" SERVICE_ID "-s3cr3tp4rts3cr3tp4rt",
		"HUSHCLM-1-" SERVICE_ID "--" MARK,
		"HUSHCLM-1-" SERVICE_ID MARK,
		"HUSHCLM-1" SERVICE_ID MARK,
		"HUSHCLM-1-" MARK,
		"HUSHCLM-" MARK,
		"HUSHCLM-s3cr3tp4rt-" MARK,
		"HUSHCLM-1-s3cr3tp4rts3cr3tp4rts3cr3-" MARK,
		"HUSHCLM-2-" SERVICE_ID "-" MARK,
		"HUSHCLM" MARK,
		"hushclm-1-" SERVICE_ID "-" MARK,
		"HUSHTKN-1-" SERVICE_ID "-" MARK,
		"HUSHKEY-1-" SERVICE_ID "-" MARK,
		MARK,
	};
	struct claim c;
	char why[256], piece[5];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_not_equal(claim_parse(in[i], strlen(in[i]), &c, why,
		    sizeof(why)), 0);
		assert_true(strlen(why) > 0);
		for (j = 0; j + 4 <= sizeof(MARK) - 1; j++) {
			memcpy(piece, MARK + j, 4);
			piece[4] = '\0';
			if (strstr(why, piece) != NULL)
				fail_msg("input %zu: '%s' in '%s'", i, piece,
				    why);
			memcpy(piece, MARK_UP + j, 4);
			if (strstr(why, piece) != NULL)
				fail_msg("input %zu: '%s' in '%s'", i, piece,
				    why);
		}
	}
}

static void
test_parse_huge_len(void **state)
{
	static char big[1 << 16];

	(void)state;
	memset(big, '0', sizeof(big));
	memcpy(big, CLAIM, CLAIM_LEN);
	expect_fail(big, sizeof(big), HUSH_E_FORMAT,
	    "claim has trailing data");
	memset(big + 10, '0', sizeof(big) - 10);
	expect_fail(big, sizeof(big), HUSH_E_FORMAT,
	    "claim service id must be 25 base36 characters");
}

/*
 * A len far beyond the buffer (a caller bug) must not send the parser past
 * the claim's own layout: every scan is capped by the format's widths.
 * Each buffer holds what the parser may read, and ASan checks the rest.
 */
static void
test_parse_size_max(void **state)
{
	struct claim c;
	char buf[CLAIM_LEN + 1];

	(void)state;
	memcpy(buf, CLAIM, sizeof(buf));
	expect_fail(buf, SIZE_MAX, HUSH_E_FORMAT, "claim has trailing data");
	assert_int_equal(claim_parse("HUSHCLM-2-", SIZE_MAX, &c, NULL, 0),
	    HUSH_E_VERSION);
	assert_int_equal(claim_parse("HUSHCLM-12345678901", SIZE_MAX, &c,
	    NULL, 0), HUSH_E_VERSION);
	assert_int_equal(claim_parse("HUSHCLM-1-01234567890123456789012345",
	    SIZE_MAX, &c, NULL, 0), HUSH_E_FORMAT);
	assert_int_equal(claim_parse("HUSHCLM-1-" SERVICE_ID "-0123456789"
	    "0123456789012345678901234567890123456789", SIZE_MAX, &c, NULL, 0),
	    HUSH_E_FORMAT);
	assert_int_equal(claim_parse("WRONGPFX", SIZE_MAX, &c, NULL, 0),
	    HUSH_E_PREFIX);
}

static void
test_parse_args(void **state)
{
	struct claim c;
	char why[8];

	(void)state;
	assert_int_equal(claim_parse(CLAIM, CLAIM_LEN, NULL, NULL, 0),
	    HUSH_E_INVAL);
	expect_fail(NULL, 5, HUSH_E_INVAL, "claim is missing");
	/* A short message buffer truncates rather than overflows. */
	assert_int_equal(claim_parse("x", 1, &c, why, sizeof(why)),
	    HUSH_E_PREFIX);
	assert_string_equal(why, "claim m");
}

static void
test_new(void **state)
{
	struct claim a, b, back;
	static const struct claim zero;
	char s[CLAIM_LEN + 1];

	(void)state;
	assert_int_equal(claim_new(SERVICE_ID, &a), 0);
	assert_int_equal(claim_new(SERVICE_ID, &b), 0);
	assert_string_equal(a.service_id, SERVICE_ID);
	assert_string_equal(b.service_id, SERVICE_ID);
	assert_memory_not_equal(a.secret, b.secret, sizeof(a.secret));
	assert_int_equal(claim_format(&a, s, sizeof(s)), 0);
	assert_int_equal(claim_parse(s, strlen(s), &back, NULL, 0), 0);
	assert_memory_equal(&a, &back, sizeof(a));

	/* Bad ids, and what is left behind. */
	assert_int_equal(claim_new(NULL, &a), HUSH_E_INVAL);
	assert_memory_equal(&a, &zero, sizeof(a));
	assert_int_equal(claim_new(ID_OVER, &a), HUSH_E_INVAL);
	assert_memory_equal(&a, &zero, sizeof(a));
	assert_int_equal(claim_new("2wxfmymlnr2wc5aenm6h1h4r", &a),
	    HUSH_E_INVAL);
	assert_int_equal(claim_new(SERVICE_ID "0", &a), HUSH_E_INVAL);
	assert_int_equal(claim_new("2WXFMYMLNR2WC5AENM6H1H4RB", &a),
	    HUSH_E_INVAL);
	assert_int_equal(claim_new("", &a), HUSH_E_INVAL);
	assert_int_equal(claim_new(ID_MAX, &a), 0);
	assert_int_equal(claim_new(SERVICE_ID, NULL), HUSH_E_INVAL);
}

static void
test_roundtrip_random(void **state)
{
	struct claim c, back;
	char id[HUSH_ID_LEN + 1], s[CLAIM_LEN + 1], why[128];
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		assert_int_equal(hush_id_new(id), 0);
		assert_int_equal(claim_new(id, &c), 0);
		assert_int_equal(claim_format(&c, s, sizeof(s)), 0);
		assert_int_equal(strlen(s), CLAIM_LEN);
		assert_int_equal(claim_parse(s, strlen(s), &back, why,
		    sizeof(why)), 0);
		assert_memory_equal(&c, &back, sizeof(c));
	}
}

static void
hex_digest(const struct claim *c, char hex[CLAIM_DIGEST_BYTES * 2 + 1])
{
	uint8_t d[CLAIM_DIGEST_BYTES];

	claim_digest(c, d);
	sodium_bin2hex(hex, CLAIM_DIGEST_BYTES * 2 + 1, d, sizeof(d));
}

static void
test_digest_known(void **state)
{
	struct claim c;
	char hex[CLAIM_DIGEST_BYTES * 2 + 1];

	(void)state;
	known_claim(&c);
	hex_digest(&c, hex);
	assert_string_equal(hex, DIGEST_SEQ);
	/* Stable: the same claim, parsed from its text, again. */
	assert_int_equal(claim_parse(CLAIM, CLAIM_LEN, &c, NULL, 0), 0);
	hex_digest(&c, hex);
	assert_string_equal(hex, DIGEST_SEQ);
	memset(c.secret, 0, sizeof(c.secret));
	hex_digest(&c, hex);
	assert_string_equal(hex, DIGEST_ZERO);
}

static void
test_digest_secret_only(void **state)
{
	struct claim a, b;
	uint8_t da[CLAIM_DIGEST_BYTES], db[CLAIM_DIGEST_BYTES];

	(void)state;
	/* The same secret under another service id: the same digest. */
	known_claim(&a);
	known_claim(&b);
	memcpy(b.service_id, OTHER_ID, sizeof(OTHER_ID));
	claim_digest(&a, da);
	claim_digest(&b, db);
	assert_memory_equal(da, db, sizeof(da));
	assert_true(claim_digest_equal(da, db));

	/* Another secret: another digest, down to one bit. */
	b.secret[31] ^= 1;
	claim_digest(&b, db);
	assert_memory_not_equal(da, db, sizeof(da));
	assert_false(claim_digest_equal(da, db));
	assert_int_equal(claim_new(SERVICE_ID, &a), 0);
	assert_int_equal(claim_new(SERVICE_ID, &b), 0);
	claim_digest(&a, da);
	claim_digest(&b, db);
	assert_false(claim_digest_equal(da, db));
}

static void
test_digest_equal(void **state)
{
	uint8_t a[CLAIM_DIGEST_BYTES], b[CLAIM_DIGEST_BYTES];

	(void)state;
	randombytes_buf(a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(claim_digest_equal(a, b));
	assert_true(claim_digest_equal(a, a));
	b[31] ^= 1;
	assert_false(claim_digest_equal(a, b));
	b[31] ^= 1;
	b[0] ^= 0x80;
	assert_false(claim_digest_equal(a, b));
}

static void
test_wipe(void **state)
{
	struct claim c;
	static const struct claim zero;

	(void)state;
	assert_int_equal(claim_new(SERVICE_ID, &c), 0);
	claim_wipe(&c);
	assert_memory_equal(&c, &zero, sizeof(c));
	claim_wipe(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_known),
		cmocka_unit_test(test_parse_known),
		cmocka_unit_test(test_parse_extremes),
		cmocka_unit_test(test_parse_empty_short_long),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_parse_other_texts),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_parse_service_id),
		cmocka_unit_test(test_parse_secret),
		cmocka_unit_test(test_parse_dashes),
		cmocka_unit_test(test_parse_trailing),
		cmocka_unit_test(test_parse_embedded_nul),
		cmocka_unit_test(test_why_hides_secret),
		cmocka_unit_test(test_parse_huge_len),
		cmocka_unit_test(test_parse_size_max),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_digest_known),
		cmocka_unit_test(test_digest_secret_only),
		cmocka_unit_test(test_digest_equal),
		cmocka_unit_test(test_wipe),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
