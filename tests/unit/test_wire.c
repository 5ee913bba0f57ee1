/* Unit tests for lib/wire.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "wire.h"

#define T_TYPE	0x0102

enum {
	TAG_U8 = 1, TAG_U16, TAG_U32, TAG_U64, TAG_I64, TAG_BOOL, TAG_STR,
	TAG_BYTES, TAG_NESTED,
};

static const struct wire_field_spec t_fields[] = {
	{ TAG_U8,     "u8",     WIRE_U8,    0,                0, 0 },
	{ TAG_U16,    "u16",    WIRE_U16,   0,                0, 0 },
	{ TAG_U32,    "u32",    WIRE_U32,   WIRE_F_REQUIRED,  0, 0 },
	{ TAG_U64,    "u64",    WIRE_U64,   0,                0, 0 },
	{ TAG_I64,    "i64",    WIRE_I64,   0,                0, 0 },
	{ TAG_BOOL,   "bool",   WIRE_BOOL,  0,                0, 0 },
	{ TAG_STR,    "str",    WIRE_STR,   0,                1, 16 },
	{ TAG_BYTES,  "bytes",  WIRE_BYTES, WIRE_F_REPEATED,  0, 32 },
	{ TAG_NESTED, "nested", WIRE_BYTES, WIRE_F_REPEATED,  0, 1024 },
};
static const struct wire_msg_spec t_spec = {
	T_TYPE, "test", t_fields, sizeof(t_fields) / sizeof(t_fields[0])
};

/* The nested list's own schema: one required name, one optional size. */
static const struct wire_field_spec n_fields[] = {
	{ 1, "name", WIRE_STR, WIRE_F_REQUIRED, 1, 64 },
	{ 2, "size", WIRE_U64, 0,               0, 0 },
};
static const struct wire_msg_spec n_spec = {
	0, "entry", n_fields, sizeof(n_fields) / sizeof(n_fields[0])
};

/* Header plus body, as raw bytes; the header length is taken from bodylen. */
static size_t
mk(uint8_t *out, uint16_t version, uint16_t type, uint32_t rid,
    const uint8_t *body, size_t bodylen)
{
	out[0] = version >> 8; out[1] = version & 0xff;
	out[2] = type >> 8; out[3] = type & 0xff;
	out[4] = rid >> 24; out[5] = rid >> 16; out[6] = rid >> 8; out[7] = rid;
	out[8] = bodylen >> 24; out[9] = bodylen >> 16;
	out[10] = bodylen >> 8; out[11] = bodylen;
	if (bodylen > 0)
		memmove(out + WIRE_HDR_LEN, body, bodylen);
	return WIRE_HDR_LEN + bodylen;
}

/* Decodes then validates against t_spec; returns the first failure. */
static int
dv(const uint8_t *buf, size_t len, struct wire_msg *m, char *why, size_t whylen)
{
	int r;

	if ((r = wire_decode(buf, len, WIRE_MAX_MSG, m)) != 0)
		return r;
	return wire_validate(m, &t_spec, why, whylen);
}

static void
test_roundtrip_all_kinds(void **state)
{
	struct wire_enc e;
	struct wire_msg *m = malloc(sizeof(*m));
	const uint8_t *buf, *p;
	size_t len, plen;
	uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; int64_t i64;
	bool b;
	char s[17], why[128];
	const uint8_t blob[5] = { 0, 1, 2, 0xfe, 0xff };

	assert_non_null(m);
	wire_enc_init(&e, T_TYPE, 0xcafef00d, 4096);
	wire_put_u8(&e, TAG_U8, 0xab);
	wire_put_u16(&e, TAG_U16, 0xbeef);
	wire_put_u32(&e, TAG_U32, 0xdeadbeef);
	wire_put_u64(&e, TAG_U64, 0x0123456789abcdefULL);
	wire_put_i64(&e, TAG_I64, INT64_MIN + 7);
	wire_put_bool(&e, TAG_BOOL, true);
	wire_put_str(&e, TAG_STR, "hello");
	wire_put_bytes(&e, TAG_BYTES, blob, sizeof(blob));
	wire_put_bytes(&e, TAG_BYTES, NULL, 0);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);

	assert_int_equal(dv(buf, len, m, why, sizeof(why)), 0);
	assert_int_equal(m->hdr.version, WIRE_VERSION);
	assert_int_equal(m->hdr.type, T_TYPE);
	assert_int_equal(m->hdr.request_id, 0xcafef00d);
	assert_int_equal(m->hdr.length, len - WIRE_HDR_LEN);
	assert_int_equal(m->nfields, 9);

	assert_int_equal(wire_get_u8(m, TAG_U8, &u8), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(wire_get_u16(m, TAG_U16, &u16), 0);
	assert_int_equal(u16, 0xbeef);
	assert_int_equal(wire_get_u32(m, TAG_U32, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(wire_get_u64(m, TAG_U64, &u64), 0);
	assert_true(u64 == 0x0123456789abcdefULL);
	assert_int_equal(wire_get_i64(m, TAG_I64, &i64), 0);
	assert_true(i64 == INT64_MIN + 7);
	assert_int_equal(wire_get_bool(m, TAG_BOOL, &b), 0);
	assert_true(b);
	assert_int_equal(wire_get_str(m, TAG_STR, s, sizeof(s)), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(wire_get_bytes(m, TAG_BYTES, &p, &plen), 0);
	assert_int_equal(plen, sizeof(blob));
	assert_memory_equal(p, blob, sizeof(blob));

	assert_int_equal(wire_count(m, TAG_BYTES), 2);
	assert_non_null(wire_find(m, TAG_BYTES, 1));
	assert_int_equal(wire_find(m, TAG_BYTES, 1)->len, 0);
	assert_null(wire_find(m, TAG_BYTES, 2));
	assert_int_equal(wire_count(m, TAG_NESTED), 0);

	/* Absent fields. */
	assert_int_equal(wire_get_bytes(m, TAG_NESTED, &p, &plen), HUSH_E_NOTFOUND);
	assert_int_equal(wire_get_u8(m, 999, &u8), HUSH_E_NOTFOUND);

	/* A getter of the wrong width refuses rather than over-reading. */
	assert_int_equal(wire_get_u64(m, TAG_U32, &u64), HUSH_E_FORMAT);
	assert_int_equal(wire_get_u16(m, TAG_U8, &u16), HUSH_E_FORMAT);

	/* String that does not fit with its NUL. */
	assert_int_equal(wire_get_str(m, TAG_STR, s, 5), HUSH_E_TOOBIG);
	assert_string_equal(s, "");
	assert_int_equal(wire_get_str(m, TAG_STR, s, 6), 0);
	assert_string_equal(s, "hello");

	wire_enc_free(&e);
	assert_null(e.buf);
	wire_enc_free(&e);	/* idempotent */
	free(m);
}

static void
test_extremes(void **state)
{
	struct wire_enc e;
	struct wire_msg *m = malloc(sizeof(*m));
	const uint8_t *buf;
	size_t len;
	uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; int64_t i64;
	bool b;

	assert_non_null(m);
	wire_enc_init(&e, T_TYPE, 0, 4096);
	wire_put_u8(&e, TAG_U8, 0);
	wire_put_u16(&e, TAG_U16, 0xffff);
	wire_put_u32(&e, TAG_U32, 0);
	wire_put_u64(&e, TAG_U64, UINT64_MAX);
	wire_put_i64(&e, TAG_I64, -1);
	wire_put_bool(&e, TAG_BOOL, false);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	assert_int_equal(dv(buf, len, m, NULL, 0), 0);
	assert_int_equal(wire_get_u8(m, TAG_U8, &u8), 0);
	assert_int_equal(u8, 0);
	assert_int_equal(wire_get_u16(m, TAG_U16, &u16), 0);
	assert_int_equal(u16, 0xffff);
	assert_int_equal(wire_get_u32(m, TAG_U32, &u32), 0);
	assert_int_equal(u32, 0);
	assert_int_equal(wire_get_u64(m, TAG_U64, &u64), 0);
	assert_true(u64 == UINT64_MAX);
	assert_int_equal(wire_get_i64(m, TAG_I64, &i64), 0);
	assert_true(i64 == -1);
	assert_int_equal(wire_get_bool(m, TAG_BOOL, &b), 0);
	assert_false(b);
	wire_enc_free(&e);
	free(m);
}

static void
test_known_answer(void **state)
{
	/* Written out by hand from the format in wire.h. */
	static const uint8_t want[] = {
		0x00, 0x01,			/* version 1 */
		0x01, 0x02,			/* type 0x0102 */
		0x0a, 0x0b, 0x0c, 0x0d,		/* request id */
		0x00, 0x00, 0x00, 0x19,		/* body: 25 bytes */
		0x00, 0x03, 0x00, 0x00, 0x00, 0x04,	/* tag 3, len 4 */
		0xde, 0xad, 0xbe, 0xef,
		0x00, 0x07, 0x00, 0x00, 0x00, 0x02,	/* tag 7, len 2 */
		'h', 'i',
		0x00, 0x06, 0x00, 0x00, 0x00, 0x01,	/* tag 6, len 1 */
		0x01,
	};
	struct wire_enc e;
	struct wire_msg *m = malloc(sizeof(*m));
	const uint8_t *buf;
	size_t len;
	uint32_t u32;
	char s[8];

	assert_non_null(m);
	wire_enc_init(&e, 0x0102, 0x0a0b0c0d, 1024);
	wire_put_u32(&e, TAG_U32, 0xdeadbeef);
	wire_put_str(&e, TAG_STR, "hi");
	wire_put_bool(&e, TAG_BOOL, true);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	assert_int_equal(dv(want, sizeof(want), m, NULL, 0), 0);
	assert_int_equal(m->hdr.request_id, 0x0a0b0c0d);
	assert_int_equal(wire_get_u32(m, TAG_U32, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(wire_get_str(m, TAG_STR, s, sizeof(s)), 0);
	assert_string_equal(s, "hi");
	wire_enc_free(&e);
	free(m);
}

static void
test_peek_hdr(void **state)
{
	uint8_t b[WIRE_HDR_LEN + 4];
	struct wire_hdr h;
	size_t n;

	n = mk(b, 1, 7, 42, (const uint8_t *)"\0\0\0\0", 4);
	assert_int_equal(wire_peek_hdr(b, n, &h), 0);
	assert_int_equal(h.type, 7);
	assert_int_equal(h.request_id, 42);
	assert_int_equal(h.length, 4);
	/* Only the header is needed. */
	assert_int_equal(wire_peek_hdr(b, WIRE_HDR_LEN, &h), 0);
	for (n = 0; n < WIRE_HDR_LEN; n++)
		assert_int_equal(wire_peek_hdr(b, n, &h), HUSH_E_TRUNCATED);
	mk(b, 2, 7, 42, NULL, 0);
	assert_int_equal(wire_peek_hdr(b, WIRE_HDR_LEN, &h), HUSH_E_VERSION);
	mk(b, 0, 7, 42, NULL, 0);
	assert_int_equal(wire_peek_hdr(b, WIRE_HDR_LEN, &h), HUSH_E_VERSION);
	/* A body no channel could accept is refused before anyone buffers it. */
	mk(b, 1, 7, 42, NULL, 0);
	b[8] = b[9] = b[10] = b[11] = 0xff;
	assert_int_equal(wire_peek_hdr(b, WIRE_HDR_LEN, &h), HUSH_E_TOOBIG);
}

/* Runs of whole messages, at most max bytes, at least one (wire_msgs_span). */
static void
test_msgs_span(void **state)
{
	static const uint8_t body[20];
	uint8_t b[3 * (WIRE_HDR_LEN + 20)];
	size_t n = 0, one = WIRE_HDR_LEN + 20, count;

	(void)state;
	for (int i = 0; i < 3; i++)
		n += mk(b + n, 1, 7, 0, body, sizeof(body));
	/* All three fit; two fit; one does even when max is smaller than it. */
	assert_int_equal(wire_msgs_span(b, n, 0, n, &count), n);
	assert_int_equal(count, 3);
	assert_int_equal(wire_msgs_span(b, n, 0, 2 * one + 1, &count), 2 * one);
	assert_int_equal(count, 2);
	assert_int_equal(wire_msgs_span(b, n, 0, 0, &count), one);
	assert_int_equal(count, 1);
	assert_int_equal(wire_msgs_span(b, n, one, n, NULL), n);
	assert_int_equal(wire_msgs_span(b, n, n, n, &count), n);
	assert_int_equal(count, 0);
	/* A message cut short ends the run before it; one at off, at off. */
	assert_int_equal(wire_msgs_span(b, n - 1, 0, n, &count), 2 * one);
	assert_int_equal(count, 2);
	assert_int_equal(wire_msgs_span(b, n - 1, 2 * one, n, &count), 2 * one);
	assert_int_equal(count, 0);
	/* And so does an unsound header. */
	b[one] = 9;
	assert_int_equal(wire_msgs_span(b, n, 0, n, &count), one);
	assert_int_equal(count, 1);
}

static void
test_header_errors(void **state)
{
	uint8_t b[64], body[10] = { 0, 3, 0, 0, 0, 4, 1, 2, 3, 4 };
	struct wire_msg *m = malloc(sizeof(*m));
	size_t n, i;

	assert_non_null(m);
	n = mk(b, 1, T_TYPE, 1, body, sizeof(body));
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), 0);
	assert_int_equal(m->nfields, 1);

	/* Short header. */
	for (i = 0; i < WIRE_HDR_LEN; i++)
		assert_int_equal(wire_decode(b, i, WIRE_MAX_MSG, m), HUSH_E_TRUNCATED);
	/* Body shorter than the header says. */
	for (i = WIRE_HDR_LEN; i < n; i++) {
		assert_int_equal(wire_decode(b, i, WIRE_MAX_MSG, m), HUSH_E_TRUNCATED);
		assert_int_equal(m->nfields, 0);
	}
	/* Trailing bytes after the message. */
	b[n] = 0;
	assert_int_equal(wire_decode(b, n + 1, WIRE_MAX_MSG, m), HUSH_E_FORMAT);

	/* Header length too long / too short for the buffer given. */
	b[11] = sizeof(body) + 1;
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), HUSH_E_TRUNCATED);
	b[11] = sizeof(body) - 1;
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), HUSH_E_FORMAT);
	b[11] = sizeof(body);

	/* Wrong version. */
	b[1] = 2;
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), HUSH_E_VERSION);
	b[1] = 1;

	/* Over the caller's maximum, which counts the header too. */
	assert_int_equal(wire_decode(b, n, n - 1, m), HUSH_E_TOOBIG);
	assert_int_equal(wire_decode(b, n, n, m), 0);
	assert_int_equal(wire_decode(b, n, 0, m), HUSH_E_TOOBIG);
	free(m);
}

static void
test_field_errors(void **state)
{
	uint8_t b[64];
	struct wire_msg *m = malloc(sizeof(*m));
	size_t n;
	/* Field header cut off after 5 of its 6 bytes. */
	static const uint8_t trunc_hdr[] = { 0, 3, 0, 0, 0, 4, 1, 2, 3, 4,
	    0, 3, 0, 0, 0 };
	/* Field claims 5 bytes, 4 remain. */
	static const uint8_t past_end[] = { 0, 3, 0, 0, 0, 5, 1, 2, 3, 4 };
	/* len = 0xFFFFFFFF must not wrap the bounds check. */
	static const uint8_t huge[] = { 0, 3, 0xff, 0xff, 0xff, 0xff, 1, 2 };

	assert_non_null(m);
	n = mk(b, 1, T_TYPE, 1, trunc_hdr, sizeof(trunc_hdr));
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), HUSH_E_FORMAT);
	assert_int_equal(m->nfields, 0);
	n = mk(b, 1, T_TYPE, 1, past_end, sizeof(past_end));
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), HUSH_E_FORMAT);
	n = mk(b, 1, T_TYPE, 1, huge, sizeof(huge));
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), HUSH_E_FORMAT);
	assert_int_equal(wire_decode_fields(huge, sizeof(huge), m), HUSH_E_FORMAT);
	assert_int_equal(wire_decode_fields(huge, 5, m), HUSH_E_FORMAT);
	/* An empty body or list is fine. */
	n = mk(b, 1, T_TYPE, 1, NULL, 0);
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), 0);
	assert_int_equal(m->nfields, 0);
	assert_int_equal(wire_decode_fields(NULL, 0, m), 0);
	free(m);
}

static void
test_too_many_fields(void **state)
{
	uint8_t *b;
	size_t n, i, bodylen;
	struct wire_msg *m = malloc(sizeof(*m));

	assert_non_null(m);
	/* WIRE_MAX_FIELDS + 1 empty fields. */
	bodylen = (WIRE_MAX_FIELDS + 1) * WIRE_FIELD_HDR_LEN;
	assert_non_null(b = calloc(1, WIRE_HDR_LEN + bodylen));
	for (i = 0; i <= WIRE_MAX_FIELDS; i++)
		b[WIRE_HDR_LEN + i * WIRE_FIELD_HDR_LEN + 1] = TAG_BYTES;
	n = mk(b, 1, T_TYPE, 1, b + WIRE_HDR_LEN, bodylen);
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), HUSH_E_FORMAT);
	/* Exactly WIRE_MAX_FIELDS is allowed. */
	n = mk(b, 1, T_TYPE, 1, b + WIRE_HDR_LEN, bodylen - WIRE_FIELD_HDR_LEN);
	assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), 0);
	assert_int_equal(m->nfields, WIRE_MAX_FIELDS);
	assert_int_equal(wire_count(m, TAG_BYTES), WIRE_MAX_FIELDS);
	free(b);
	free(m);
}

/* One field after a valid u32, checked against t_spec. */
static int
validate_with(const uint8_t *field, size_t flen, char *why, size_t whylen)
{
	uint8_t body[128], b[160];
	static const uint8_t req[] = { 0, TAG_U32, 0, 0, 0, 4, 0, 0, 0, 1 };
	struct wire_msg *m = malloc(sizeof(*m));
	size_t n;
	int r;

	assert_non_null(m);
	assert_true(sizeof(req) + flen <= sizeof(body));
	memcpy(body, req, sizeof(req));
	if (flen > 0)
		memcpy(body + sizeof(req), field, flen);
	n = mk(b, 1, T_TYPE, 9, body, sizeof(req) + flen);
	r = dv(b, n, m, why, whylen);
	free(m);
	return r;
}

static void
test_schema_errors(void **state)
{
	char why[128];
	static const uint8_t unknown[] = { 0, 99, 0, 0, 0, 0 };
	static const uint8_t dup[] = { 0, TAG_U32, 0, 0, 0, 4, 0, 0, 0, 2 };
	static const uint8_t u32short[] = { 0, TAG_U8, 0, 0, 0, 1, 7,
	    0, TAG_U16, 0, 0, 0, 3, 1, 2, 3 };
	static const uint8_t strnul[] = { 0, TAG_STR, 0, 0, 0, 3, 'a', 0, 'b' };
	static const uint8_t strempty[] = { 0, TAG_STR, 0, 0, 0, 0 };
	static const uint8_t bool2[] = { 0, TAG_BOOL, 0, 0, 0, 1, 2 };
	static const uint8_t bool1[] = { 0, TAG_BOOL, 0, 0, 0, 1, 1 };
	static const uint8_t rep[] = { 0, TAG_BYTES, 0, 0, 0, 1, 'x',
	    0, TAG_BYTES, 0, 0, 0, 0 };
	uint8_t big[WIRE_FIELD_HDR_LEN + 33];
	struct wire_msg *m = malloc(sizeof(*m));
	uint8_t b[64];
	size_t n;

	assert_non_null(m);
	assert_int_equal(validate_with(NULL, 0, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(validate_with(bool1, sizeof(bool1), why, sizeof(why)), 0);
	assert_int_equal(validate_with(rep, sizeof(rep), why, sizeof(why)), 0);

	assert_int_equal(validate_with(unknown, sizeof(unknown), why, sizeof(why)),
	    HUSH_E_PROTO);
	assert_non_null(strstr(why, "unknown"));
	assert_int_equal(validate_with(dup, sizeof(dup), why, sizeof(why)),
	    HUSH_E_PROTO);
	assert_string_equal(why, "field 'u32': repeated");
	assert_int_equal(validate_with(u32short, sizeof(u32short), why,
	    sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "field 'u16': length 3"));
	assert_int_equal(validate_with(strnul, sizeof(strnul), why, sizeof(why)),
	    HUSH_E_PROTO);
	assert_non_null(strstr(why, "field 'str':"));
	assert_int_equal(validate_with(strempty, sizeof(strempty), why,
	    sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "minimum"));
	assert_int_equal(validate_with(bool2, sizeof(bool2), why, sizeof(why)),
	    HUSH_E_PROTO);
	assert_non_null(strstr(why, "field 'bool':"));

	memset(big, 'z', sizeof(big));
	big[0] = 0; big[1] = TAG_BYTES; big[2] = big[3] = big[4] = 0; big[5] = 33;
	assert_int_equal(validate_with(big, sizeof(big), why, sizeof(why)),
	    HUSH_E_TOOBIG);
	assert_non_null(strstr(why, "field 'bytes': length 33 over maximum 32"));
	big[5] = 32;
	assert_int_equal(validate_with(big, sizeof(big) - 1, why, sizeof(why)), 0);

	/* Missing required u32. */
	n = mk(b, 1, T_TYPE, 1, bool1, sizeof(bool1));
	assert_int_equal(dv(b, n, m, why, sizeof(why)), HUSH_E_PROTO);
	assert_string_equal(why, "field 'u32': required but missing");

	/* A wrong-width u32 is refused by validate and by the getter. */
	{
		static const uint8_t w[] = { 0, TAG_U32, 0, 0, 0, 3, 1, 2, 3 };
		uint32_t u32;

		n = mk(b, 1, T_TYPE, 1, w, sizeof(w));
		assert_int_equal(wire_decode(b, n, WIRE_MAX_MSG, m), 0);
		assert_int_equal(wire_validate(m, &t_spec, why, sizeof(why)),
		    HUSH_E_PROTO);
		assert_string_equal(why, "field 'u32': length 3, expected 4");
		assert_int_equal(wire_get_u32(m, TAG_U32, &u32), HUSH_E_FORMAT);
	}

	/* A message of another type is refused. */
	n = mk(b, 1, T_TYPE + 1, 1, dup, sizeof(dup));
	assert_int_equal(dv(b, n, m, why, sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "type"));

	/* why may be NULL or tiny. */
	assert_int_equal(validate_with(bool2, sizeof(bool2), NULL, 0), HUSH_E_PROTO);
	assert_int_equal(validate_with(bool2, sizeof(bool2), why, 4), HUSH_E_PROTO);
	assert_string_equal(why, "fie");
	free(m);
}

static void
test_getter_checks(void **state)
{
	/* Getters used without validate must still refuse bad values. */
	static const uint8_t body[] = {
		0, TAG_BOOL, 0, 0, 0, 1, 2,
		0, TAG_STR, 0, 0, 0, 2, 'a', 0,
		0, TAG_I64, 0, 0, 0, 4, 1, 2, 3, 4,
	};
	struct wire_msg *m = malloc(sizeof(*m));
	uint8_t b[64];
	bool bo = true;
	int64_t i64 = 5;
	char s[8];

	assert_non_null(m);
	assert_int_equal(wire_decode(b, mk(b, 1, 1, 1, body, sizeof(body)),
	    WIRE_MAX_MSG, m), 0);
	assert_int_equal(wire_get_bool(m, TAG_BOOL, &bo), HUSH_E_FORMAT);
	assert_true(bo);
	assert_int_equal(wire_get_str(m, TAG_STR, s, sizeof(s)), HUSH_E_FORMAT);
	assert_string_equal(s, "");
	assert_int_equal(wire_get_i64(m, TAG_I64, &i64), HUSH_E_FORMAT);
	assert_true(i64 == 5);
	assert_int_equal(wire_get_str(m, TAG_STR, s, 0), HUSH_E_INVAL);
	free(m);
}

static void
test_encoder_limits(void **state)
{
	struct wire_enc e;
	const uint8_t *buf = (const uint8_t *)"x";
	size_t len = 99, i;
	uint8_t blob[64];
	struct wire_msg *m = malloc(sizeof(*m));

	assert_non_null(m);
	memset(blob, 0x5a, sizeof(blob));
	/* Exactly at the maximum is fine. */
	wire_enc_init(&e, 1, 1, WIRE_HDR_LEN + WIRE_FIELD_HDR_LEN + 10);
	wire_put_bytes(&e, 1, blob, 10);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	assert_int_equal(len, WIRE_HDR_LEN + WIRE_FIELD_HDR_LEN + 10);
	wire_enc_free(&e);

	/* One byte over: sticky TOOBIG, later puts are no-ops. */
	wire_enc_init(&e, 1, 1, WIRE_HDR_LEN + WIRE_FIELD_HDR_LEN + 10);
	wire_put_bytes(&e, 1, blob, 11);
	assert_int_equal(e.err, HUSH_E_TOOBIG);
	wire_put_u8(&e, 2, 1);	/* would fit, but the error is sticky */
	wire_put_str(&e, 3, NULL);	/* would be INVAL; first error wins */
	assert_int_equal(e.len, WIRE_HDR_LEN);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), HUSH_E_TOOBIG);
	assert_null(buf);
	assert_int_equal(len, 0);
	wire_enc_free(&e);

	/* Not even room for the header. */
	wire_enc_init(&e, 1, 1, WIRE_HDR_LEN - 1);
	wire_put_u8(&e, 2, 1);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), HUSH_E_TOOBIG);
	wire_enc_free(&e);

	/* A maximum above WIRE_MAX_MSG is capped to it. */
	wire_enc_init(&e, 1, 1, SIZE_MAX);
	assert_int_equal(e.max, WIRE_MAX_MSG);
	wire_put_bytes(&e, 1, NULL, 1);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), HUSH_E_INVAL);
	wire_enc_free(&e);

	/* The encoder will not produce more fields than the decoder takes. */
	wire_enc_init(&e, 1, 1, 65536);
	for (i = 0; i < WIRE_MAX_FIELDS; i++)
		wire_put_bool(&e, 1, true);
	assert_int_equal(e.err, 0);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	assert_int_equal(wire_decode(buf, len, WIRE_MAX_MSG, m), 0);
	wire_put_bool(&e, 1, true);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), HUSH_E_TOOBIG);
	wire_enc_free(&e);
	free(m);
}

static void
test_encoder_growth(void **state)
{
	struct wire_enc e;
	struct wire_msg *m = malloc(sizeof(*m));
	const uint8_t *buf, *p;
	size_t len, plen, i;
	uint8_t *big;

	/* Several reallocations; contents must survive each move. */
	assert_non_null(m);
	assert_non_null(big = malloc(100000));
	for (i = 0; i < 100000; i++)
		big[i] = (uint8_t)(i * 7);
	wire_enc_init(&e, 5, 6, WIRE_MAX_MSG);
	wire_put_u8(&e, 1, 9);
	wire_put_bytes(&e, 2, big, 1000);
	wire_put_bytes(&e, 3, big, 100000);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	assert_int_equal(len, WIRE_HDR_LEN + 3 * WIRE_FIELD_HDR_LEN + 1 + 1000 + 100000);
	assert_int_equal(wire_decode(buf, len, WIRE_MAX_MSG, m), 0);
	assert_int_equal(wire_get_bytes(m, 3, &p, &plen), 0);
	assert_int_equal(plen, 100000);
	assert_memory_equal(p, big, 100000);
	assert_int_equal(wire_get_bytes(m, 2, &p, &plen), 0);
	assert_memory_equal(p, big, 1000);
	wire_enc_free(&e);
	free(big);
	free(m);
}

static void
test_nested(void **state)
{
	struct wire_enc outer, inner;
	struct wire_msg *m = malloc(sizeof(*m)), *n = malloc(sizeof(*n));
	const struct wire_field *f;
	const uint8_t *buf, *ib;
	size_t len, ilen, i;
	char name[65], why[128];
	uint64_t size;
	static const char *names[] = { "db/password", "api/token", "x" };

	assert_non_null(m);
	assert_non_null(n);
	wire_enc_init(&outer, T_TYPE, 77, 4096);
	wire_put_u32(&outer, TAG_U32, 3);
	for (i = 0; i < 3; i++) {
		wire_enc_init_fields(&inner, 1024);
		wire_put_str(&inner, 1, names[i]);
		if (i != 2)
			wire_put_u64(&inner, 2, 1000 + i);
		assert_int_equal(wire_enc_finish(&inner, &ib, &ilen), 0);
		wire_put_bytes(&outer, TAG_NESTED, ib, ilen);
		wire_enc_free(&inner);
	}
	/* An empty nested list. */
	wire_enc_init_fields(&inner, 1024);
	assert_int_equal(wire_enc_finish(&inner, &ib, &ilen), 0);
	assert_non_null(ib);
	assert_int_equal(ilen, 0);
	wire_put_bytes(&outer, TAG_NESTED, ib, ilen);
	wire_enc_free(&inner);
	assert_int_equal(wire_enc_finish(&outer, &buf, &len), 0);

	assert_int_equal(dv(buf, len, m, why, sizeof(why)), 0);
	assert_int_equal(wire_count(m, TAG_NESTED), 4);
	for (i = 0; i < 3; i++) {
		assert_non_null(f = wire_find(m, TAG_NESTED, i));
		assert_int_equal(wire_decode_fields(f->val, f->len, n), 0);
		assert_int_equal(n->hdr.version, 0);
		assert_int_equal(wire_validate(n, &n_spec, why, sizeof(why)), 0);
		assert_int_equal(wire_get_str(n, 1, name, sizeof(name)), 0);
		assert_string_equal(name, names[i]);
		if (i != 2) {
			assert_int_equal(wire_get_u64(n, 2, &size), 0);
			assert_true(size == 1000 + i);
		} else
			assert_int_equal(wire_get_u64(n, 2, &size), HUSH_E_NOTFOUND);
		/* The field helpers read repeated fields one at a time. */
		assert_int_equal(wire_field_str(wire_find(n, 1, 0), name,
		    sizeof(name)), 0);
		assert_string_equal(name, names[i]);
	}
	assert_non_null(f = wire_find(m, TAG_NESTED, 3));
	assert_int_equal(wire_decode_fields(f->val, f->len, n), 0);
	assert_int_equal(n->nfields, 0);
	assert_int_equal(wire_validate(n, &n_spec, why, sizeof(why)), HUSH_E_PROTO);
	assert_string_equal(why, "field 'name': required but missing");
	wire_enc_free(&outer);
	free(m);
	free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_kinds),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_peek_hdr),
		cmocka_unit_test(test_msgs_span),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_getter_checks),
		cmocka_unit_test(test_encoder_limits),
		cmocka_unit_test(test_encoder_growth),
		cmocka_unit_test(test_nested),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
