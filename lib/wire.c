/*
 * TLV message codec; see wire.h for the format.  The parser never trusts a
 * length until it has compared it with what remains, and every comparison is
 * written as "x > remaining" rather than "off + x > end" so that a length of
 * 0xFFFFFFFF cannot wrap.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lockmem.h"
#include "wire.h"

/* Small first allocation: most control messages are a few dozen bytes. */
#define WIRE_ENC_INITIAL	256

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static uint64_t
get_be64(const uint8_t *p)
{
	return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* ---- decoding ----------------------------------------------------------- */

int
wire_peek_hdr(const uint8_t *buf, size_t len, struct wire_hdr *hdr)
{
	struct wire_hdr h;

	if (buf == NULL || hdr == NULL)
		return HUSH_E_INVAL;
	if (len < WIRE_HDR_LEN)
		return HUSH_E_TRUNCATED;
	h.version = get_be16(buf);
	h.type = get_be16(buf + 2);
	h.request_id = get_be32(buf + 4);
	h.length = get_be32(buf + 8);
	if (h.version != WIRE_VERSION)
		return HUSH_E_VERSION;
	/* No channel accepts more, so a reader never needs to buffer more. */
	if (h.length > WIRE_MAX_MSG - WIRE_HDR_LEN)
		return HUSH_E_TOOBIG;
	*hdr = h;
	return 0;
}

size_t
wire_msgs_span(const uint8_t *buf, size_t len, size_t off, size_t max, size_t *count)
{
	struct wire_hdr hdr;
	size_t end = off, mlen, n = 0;

	while (end < len && wire_peek_hdr(buf + end, len - end, &hdr) == 0) {
		mlen = (size_t)WIRE_HDR_LEN + hdr.length;
		if (mlen > len - end || (n > 0 && end - off + mlen > max))
			break;
		end += mlen;
		n++;
	}
	if (count != NULL)
		*count = n;
	return end;
}

/*
 * Splits body into fields.  A bad field inside a complete message is
 * HUSH_E_FORMAT, never HUSH_E_TRUNCATED: the latter tells a stream reader to
 * wait for more bytes, which would never come.
 */
static int
parse_fields(const uint8_t *body, size_t len, struct wire_msg *m)
{
	size_t off = 0, n = 0;
	uint32_t flen;

	while (off < len) {
		if (n >= WIRE_MAX_FIELDS)
			return HUSH_E_FORMAT;
		if (len - off < WIRE_FIELD_HDR_LEN)
			return HUSH_E_FORMAT;
		flen = get_be32(body + off + 2);
		if (flen > len - off - WIRE_FIELD_HDR_LEN)
			return HUSH_E_FORMAT;
		m->fields[n].tag = get_be16(body + off);
		m->fields[n].len = flen;
		m->fields[n].val = body + off + WIRE_FIELD_HDR_LEN;
		off += WIRE_FIELD_HDR_LEN + (size_t)flen;
		n++;
	}
	m->nfields = n;
	return 0;
}

int
wire_decode(const uint8_t *buf, size_t len, size_t max, struct wire_msg *m)
{
	struct wire_hdr h;
	size_t total;
	int r;

	if (m == NULL)
		return HUSH_E_INVAL;
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->nfields = 0;
	if ((r = wire_peek_hdr(buf, len, &h)) != 0)
		return r;
	if (max > WIRE_MAX_MSG)
		max = WIRE_MAX_MSG;
	/* Cannot wrap: wire_peek_hdr() bounded h.length by WIRE_MAX_MSG. */
	total = WIRE_HDR_LEN + (size_t)h.length;
	if (total > max)
		return HUSH_E_TOOBIG;
	if (len < total)
		return HUSH_E_TRUNCATED;
	if (len > total)
		return HUSH_E_FORMAT;
	if ((r = parse_fields(buf + WIRE_HDR_LEN, h.length, m)) != 0) {
		m->nfields = 0;
		return r;
	}
	m->hdr = h;
	return 0;
}

int
wire_decode_fields(const uint8_t *buf, size_t len, struct wire_msg *m)
{
	int r;

	if (m == NULL || (buf == NULL && len != 0))
		return HUSH_E_INVAL;
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->nfields = 0;
	/* A nested list lives inside a message, so the same cap applies. */
	if (len > WIRE_MAX_MSG)
		return HUSH_E_TOOBIG;
	if ((r = parse_fields(buf, len, m)) != 0) {
		m->nfields = 0;
		return r;
	}
	return 0;
}

/* ---- validation --------------------------------------------------------- */

static const struct wire_field_spec *
spec_find(const struct wire_msg_spec *spec, uint16_t tag)
{
	size_t i;

	for (i = 0; i < spec->nfields; i++) {
		if (spec->fields[i].tag == tag)
			return &spec->fields[i];
	}
	return NULL;
}

/* Exact length of a fixed kind, or 0 for BYTES/STR. */
static size_t
kind_fixed_len(enum wire_kind kind)
{
	switch (kind) {
	case WIRE_U8:
	case WIRE_BOOL:
		return 1;
	case WIRE_U16:
		return 2;
	case WIRE_U32:
		return 4;
	case WIRE_U64:
	case WIRE_I64:
		return 8;
	case WIRE_BYTES:
	case WIRE_STR:
		return 0;
	}
	return 0;
}

static int
kind_known(enum wire_kind kind)
{
	switch (kind) {
	case WIRE_BYTES:
	case WIRE_STR:
	case WIRE_U8:
	case WIRE_U16:
	case WIRE_U32:
	case WIRE_U64:
	case WIRE_BOOL:
	case WIRE_I64:
		return 1;
	}
	return 0;
}

static const char *
spec_name(const struct wire_msg_spec *spec)
{
	return spec->name != NULL ? spec->name : "?";
}

static const char *
field_name(const struct wire_field_spec *fs)
{
	return fs->name != NULL ? fs->name : "?";
}

static int
validate_one(const struct wire_field *f, const struct wire_field_spec *fs,
    char *why, size_t whylen)
{
	size_t fixed;

	if (!kind_known(fs->kind)) {
		/* A bad schema is our bug, but fail closed rather than accept. */
		set_why(why, whylen, "field '%s': schema has unknown kind %d",
		    field_name(fs), (int)fs->kind);
		return HUSH_E_INTERNAL;
	}
	if ((fixed = kind_fixed_len(fs->kind)) != 0) {
		if (f->len != fixed) {
			set_why(why, whylen, "field '%s': length %u, "
			    "expected %zu", field_name(fs), f->len, fixed);
			return HUSH_E_PROTO;
		}
		if (fs->kind == WIRE_BOOL && f->val[0] > 1) {
			set_why(why, whylen, "field '%s': boolean is not 0 or 1",
			    field_name(fs));
			return HUSH_E_PROTO;
		}
		return 0;
	}
	if (f->len > fs->max_len) {
		set_why(why, whylen, "field '%s': length %u over maximum %u",
		    field_name(fs), f->len, fs->max_len);
		return HUSH_E_TOOBIG;
	}
	if (f->len < fs->min_len) {
		set_why(why, whylen, "field '%s': length %u under minimum %u",
		    field_name(fs), f->len, fs->min_len);
		return HUSH_E_PROTO;
	}
	if (fs->kind == WIRE_STR && f->len > 0 &&
	    memchr(f->val, '\0', f->len) != NULL) {
		set_why(why, whylen, "field '%s': string contains a NUL byte",
		    field_name(fs));
		return HUSH_E_PROTO;
	}
	return 0;
}

int
wire_validate(const struct wire_msg *m, const struct wire_msg_spec *spec,
    char *why, size_t whylen)
{
	const struct wire_field_spec *fs;
	size_t i, j;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (m == NULL || spec == NULL || (spec->fields == NULL && spec->nfields != 0)) {
		set_why(why, whylen, "invalid arguments");
		return HUSH_E_INVAL;
	}
	if (m->nfields > WIRE_MAX_FIELDS) {
		set_why(why, whylen, "message '%s': too many fields", spec_name(spec));
		return HUSH_E_PROTO;
	}
	/* version 0 marks a nested list, which carries no type of its own. */
	if (m->hdr.version != 0 && m->hdr.type != spec->type) {
		set_why(why, whylen, "message '%s': type %u, expected %u",
		    spec_name(spec), m->hdr.type, spec->type);
		return HUSH_E_PROTO;
	}
	for (i = 0; i < m->nfields; i++) {
		const struct wire_field *f = &m->fields[i];

		if ((fs = spec_find(spec, f->tag)) == NULL) {
			set_why(why, whylen, "message '%s': unknown field tag %u",
			    spec_name(spec), f->tag);
			return HUSH_E_PROTO;
		}
		if ((fs->flags & WIRE_F_REPEATED) == 0) {
			/* Quadratic, but bounded by WIRE_MAX_FIELDS squared. */
			for (j = 0; j < i; j++) {
				if (m->fields[j].tag == f->tag) {
					set_why(why, whylen, "field '%s': "
					    "repeated", field_name(fs));
					return HUSH_E_PROTO;
				}
			}
		}
		if ((r = validate_one(f, fs, why, whylen)) != 0)
			return r;
	}
	for (i = 0; i < spec->nfields; i++) {
		fs = &spec->fields[i];
		if ((fs->flags & WIRE_F_REQUIRED) != 0 &&
		    wire_find(m, fs->tag, 0) == NULL) {
			set_why(why, whylen, "field '%s': required but missing",
			    field_name(fs));
			return HUSH_E_PROTO;
		}
	}
	return 0;
}

/* ---- getters ------------------------------------------------------------ */

const struct wire_field *
wire_find(const struct wire_msg *m, uint16_t tag, size_t nth)
{
	size_t i, n;

	if (m == NULL)
		return NULL;
	n = m->nfields > WIRE_MAX_FIELDS ? WIRE_MAX_FIELDS : m->nfields;
	for (i = 0; i < n; i++) {
		if (m->fields[i].tag != tag)
			continue;
		if (nth == 0)
			return &m->fields[i];
		nth--;
	}
	return NULL;
}

size_t
wire_count(const struct wire_msg *m, uint16_t tag)
{
	size_t i, n, c = 0;

	if (m == NULL)
		return 0;
	n = m->nfields > WIRE_MAX_FIELDS ? WIRE_MAX_FIELDS : m->nfields;
	for (i = 0; i < n; i++) {
		if (m->fields[i].tag == tag)
			c++;
	}
	return c;
}

int
wire_field_u8(const struct wire_field *f, uint8_t *out)
{
	if (f == NULL || out == NULL)
		return HUSH_E_INVAL;
	if (f->len != 1)
		return HUSH_E_FORMAT;
	*out = f->val[0];
	return 0;
}

int
wire_field_u16(const struct wire_field *f, uint16_t *out)
{
	if (f == NULL || out == NULL)
		return HUSH_E_INVAL;
	if (f->len != 2)
		return HUSH_E_FORMAT;
	*out = get_be16(f->val);
	return 0;
}

int
wire_field_u32(const struct wire_field *f, uint32_t *out)
{
	if (f == NULL || out == NULL)
		return HUSH_E_INVAL;
	if (f->len != 4)
		return HUSH_E_FORMAT;
	*out = get_be32(f->val);
	return 0;
}

int
wire_field_u64(const struct wire_field *f, uint64_t *out)
{
	if (f == NULL || out == NULL)
		return HUSH_E_INVAL;
	if (f->len != 8)
		return HUSH_E_FORMAT;
	*out = get_be64(f->val);
	return 0;
}

int
wire_field_i64(const struct wire_field *f, int64_t *out)
{
	uint64_t u;
	int r;

	if (out == NULL)
		return HUSH_E_INVAL;
	if ((r = wire_field_u64(f, &u)) != 0)
		return r;
	/* Conversion of an out-of-range value to int64_t is implementation
	 * defined; memcpy states the two's complement intent exactly. */
	memcpy(out, &u, sizeof(*out));
	return 0;
}

int
wire_field_bool(const struct wire_field *f, bool *out)
{
	if (f == NULL || out == NULL)
		return HUSH_E_INVAL;
	if (f->len != 1 || f->val[0] > 1)
		return HUSH_E_FORMAT;
	*out = f->val[0] == 1;
	return 0;
}

int
wire_field_str(const struct wire_field *f, char *out, size_t outcap)
{
	if (out == NULL || outcap == 0)
		return HUSH_E_INVAL;
	out[0] = '\0';
	if (f == NULL)
		return HUSH_E_INVAL;
	if (f->len > 0 && memchr(f->val, '\0', f->len) != NULL)
		return HUSH_E_FORMAT;
	if (f->len >= outcap)
		return HUSH_E_TOOBIG;
	if (f->len > 0)
		memcpy(out, f->val, f->len);
	out[f->len] = '\0';
	return 0;
}

static int
get_first(const struct wire_msg *m, uint16_t tag, const struct wire_field **f)
{
	if (m == NULL)
		return HUSH_E_INVAL;
	if ((*f = wire_find(m, tag, 0)) == NULL)
		return HUSH_E_NOTFOUND;
	return 0;
}

int
wire_get_u8(const struct wire_msg *m, uint16_t tag, uint8_t *out)
{
	const struct wire_field *f;
	int r;

	if ((r = get_first(m, tag, &f)) != 0)
		return r;
	return wire_field_u8(f, out);
}

int
wire_get_u16(const struct wire_msg *m, uint16_t tag, uint16_t *out)
{
	const struct wire_field *f;
	int r;

	if ((r = get_first(m, tag, &f)) != 0)
		return r;
	return wire_field_u16(f, out);
}

int
wire_get_u32(const struct wire_msg *m, uint16_t tag, uint32_t *out)
{
	const struct wire_field *f;
	int r;

	if ((r = get_first(m, tag, &f)) != 0)
		return r;
	return wire_field_u32(f, out);
}

int
wire_get_u64(const struct wire_msg *m, uint16_t tag, uint64_t *out)
{
	const struct wire_field *f;
	int r;

	if ((r = get_first(m, tag, &f)) != 0)
		return r;
	return wire_field_u64(f, out);
}

int
wire_get_i64(const struct wire_msg *m, uint16_t tag, int64_t *out)
{
	const struct wire_field *f;
	int r;

	if ((r = get_first(m, tag, &f)) != 0)
		return r;
	return wire_field_i64(f, out);
}

int
wire_get_bool(const struct wire_msg *m, uint16_t tag, bool *out)
{
	const struct wire_field *f;
	int r;

	if ((r = get_first(m, tag, &f)) != 0)
		return r;
	return wire_field_bool(f, out);
}

int
wire_get_str(const struct wire_msg *m, uint16_t tag, char *out, size_t outcap)
{
	const struct wire_field *f;
	int r;

	if (out == NULL || outcap == 0)
		return HUSH_E_INVAL;
	out[0] = '\0';
	if ((r = get_first(m, tag, &f)) != 0)
		return r;
	return wire_field_str(f, out, outcap);
}

int
wire_get_bytes(const struct wire_msg *m, uint16_t tag, const uint8_t **p,
    size_t *len)
{
	const struct wire_field *f;
	int r;

	if (p == NULL || len == NULL)
		return HUSH_E_INVAL;
	if ((r = get_first(m, tag, &f)) != 0)
		return r;
	*p = f->val;
	*len = f->len;
	return 0;
}

/* ---- encoding ----------------------------------------------------------- */

static void
enc_fail(struct wire_enc *e, int err)
{
	if (e->err == 0)
		e->err = err;
}

/*
 * Makes room for need more bytes.  Never realloc(): it may move the data and
 * leave the old copy, with whatever key bytes it held, in freed memory.
 */
static int
enc_reserve(struct wire_enc *e, size_t need)
{
	size_t want, ncap;
	uint8_t *nbuf;

	if (need > e->max || e->len > e->max - need)
		return HUSH_E_TOOBIG;
	want = e->len + need;
	if (want <= e->cap)
		return 0;
	ncap = e->cap < WIRE_ENC_INITIAL ? WIRE_ENC_INITIAL : e->cap;
	while (ncap < want) {
		/* Cannot overflow: ncap <= max <= WIRE_MAX_MSG before doubling. */
		ncap *= 2;
	}
	if (ncap > e->max)
		ncap = e->max;
	/* Locked memory (lockmem.h): the message may carry a secret value. */
	if ((nbuf = lockmem_alloc(ncap)) == NULL)
		return HUSH_E_NOMEM;
	if (e->buf != NULL) {
		if (e->len > 0)
			memcpy(nbuf, e->buf, e->len);
		lockmem_free_used(e->buf, e->len);	/* wipes what was written */
	}
	e->buf = nbuf;
	e->cap = ncap;
	return 0;
}

static void
enc_start(struct wire_enc *e, size_t hdrlen, size_t max)
{
	memset(e, 0, sizeof(*e));
	e->max = max > WIRE_MAX_MSG ? WIRE_MAX_MSG : max;
	e->hdrlen = hdrlen;
}

void
wire_enc_init(struct wire_enc *e, uint16_t type, uint32_t request_id, size_t max)
{
	int r;

	enc_start(e, WIRE_HDR_LEN, max);
	if ((r = enc_reserve(e, WIRE_HDR_LEN)) != 0) {
		enc_fail(e, r);
		return;
	}
	put_be16(e->buf, WIRE_VERSION);
	put_be16(e->buf + 2, type);
	put_be32(e->buf + 4, request_id);
	put_be32(e->buf + 8, 0);	/* filled in by wire_enc_finish() */
	e->len = WIRE_HDR_LEN;
}

void
wire_enc_init_fields(struct wire_enc *e, size_t max)
{
	enc_start(e, 0, max);
}

void
wire_enc_init_list(struct wire_enc *e, size_t max)
{
	enc_start(e, 0, max);
	e->list = true;
}

int
wire_list_next(const uint8_t *buf, size_t len, size_t *off, uint16_t *tag,
    const uint8_t **val, size_t *vlen)
{
	size_t o = *off, n;

	if (o == len)
		return 0;
	if (o > len || len - o < WIRE_FIELD_HDR_LEN)
		return HUSH_E_FORMAT;
	*tag = (uint16_t)(buf[o] << 8 | buf[o + 1]);
	n = (size_t)buf[o + 2] << 24 | (size_t)buf[o + 3] << 16 |
	    (size_t)buf[o + 4] << 8 | (size_t)buf[o + 5];
	o += WIRE_FIELD_HDR_LEN;
	if (n > len - o)
		return HUSH_E_FORMAT;
	*val = buf + o;
	*vlen = n;
	*off = o + n;
	return 1;
}

/* Appends a field header and returns where its len value bytes go, or NULL. */
static uint8_t *
enc_field(struct wire_enc *e, uint16_t tag, size_t len)
{
	uint8_t *p;
	int r;

	if (e->err != 0)
		return NULL;
	if (!e->list && e->nfields >= WIRE_MAX_FIELDS) {
		enc_fail(e, HUSH_E_TOOBIG);
		return NULL;
	}
	if (len > UINT32_MAX || len > SIZE_MAX - WIRE_FIELD_HDR_LEN) {
		enc_fail(e, HUSH_E_TOOBIG);
		return NULL;
	}
	if ((r = enc_reserve(e, WIRE_FIELD_HDR_LEN + len)) != 0) {
		enc_fail(e, r);
		return NULL;
	}
	p = e->buf + e->len;
	put_be16(p, tag);
	put_be32(p + 2, (uint32_t)len);
	e->len += WIRE_FIELD_HDR_LEN + len;
	e->nfields++;
	return p + WIRE_FIELD_HDR_LEN;
}

void
wire_put_u8(struct wire_enc *e, uint16_t tag, uint8_t v)
{
	uint8_t *p;

	if ((p = enc_field(e, tag, 1)) != NULL)
		p[0] = v;
}

void
wire_put_u16(struct wire_enc *e, uint16_t tag, uint16_t v)
{
	uint8_t *p;

	if ((p = enc_field(e, tag, 2)) != NULL)
		put_be16(p, v);
}

void
wire_put_u32(struct wire_enc *e, uint16_t tag, uint32_t v)
{
	uint8_t *p;

	if ((p = enc_field(e, tag, 4)) != NULL)
		put_be32(p, v);
}

void
wire_put_u64(struct wire_enc *e, uint16_t tag, uint64_t v)
{
	uint8_t *p;

	if ((p = enc_field(e, tag, 8)) != NULL)
		put_be64(p, v);
}

void
wire_put_i64(struct wire_enc *e, uint16_t tag, int64_t v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	wire_put_u64(e, tag, u);
}

void
wire_put_bool(struct wire_enc *e, uint16_t tag, bool v)
{
	wire_put_u8(e, tag, v ? 1 : 0);
}

void
wire_put_str(struct wire_enc *e, uint16_t tag, const char *s)
{
	if (e->err != 0)
		return;
	if (s == NULL) {
		enc_fail(e, HUSH_E_INVAL);
		return;
	}
	wire_put_bytes(e, tag, s, strlen(s));
}

void
wire_put_bytes(struct wire_enc *e, uint16_t tag, const void *p, size_t len)
{
	uint8_t *dst;

	if (e->err != 0)
		return;
	if (p == NULL && len != 0) {
		enc_fail(e, HUSH_E_INVAL);
		return;
	}
	if ((dst = enc_field(e, tag, len)) != NULL && len > 0)
		memcpy(dst, p, len);
}

size_t
wire_put_nested_begin(struct wire_enc *e, uint16_t tag)
{
	size_t begin = e->len, nfields = e->nfields;

	/* Its length is filled in by wire_put_nested_end(). */
	(void)enc_field(e, tag, 0);
	/* The record's fields are not e's: its count resumes at end. */
	e->nfields = e->nfields_outer = nfields;
	return begin;
}

void
wire_put_nested_end(struct wire_enc *e, size_t begin, size_t max)
{
	size_t len;

	if (e->err != 0)
		return;
	if (begin + WIRE_FIELD_HDR_LEN > e->len) {
		enc_fail(e, HUSH_E_INVAL);
		return;
	}
	len = e->len - begin - WIRE_FIELD_HDR_LEN;
	if (len > max || len > UINT32_MAX) {
		enc_fail(e, HUSH_E_TOOBIG);
		return;
	}
	put_be32(e->buf + begin + 2, (uint32_t)len);
	e->nfields = e->nfields_outer + 1;
}

int
wire_enc_finish(struct wire_enc *e, const uint8_t **buf, size_t *len)
{
	/* Never hand out NULL: callers pass the result straight to memcpy. */
	static const uint8_t empty[1];

	if (buf != NULL)
		*buf = NULL;
	if (len != NULL)
		*len = 0;
	if (buf == NULL || len == NULL) {
		enc_fail(e, HUSH_E_INVAL);
		return e->err;
	}
	if (e->err != 0)
		return e->err;
	if (e->hdrlen != 0)
		put_be32(e->buf + 8, (uint32_t)(e->len - WIRE_HDR_LEN));
	*buf = e->buf != NULL ? e->buf : empty;
	*len = e->len;
	return 0;
}

uint32_t
wire_enc_request_id(const struct wire_enc *e)
{
	if (e->hdrlen == 0 || e->buf == NULL || e->len < WIRE_HDR_LEN)
		return 0;
	return (uint32_t)e->buf[4] << 24 | (uint32_t)e->buf[5] << 16 |
	    (uint32_t)e->buf[6] << 8 | e->buf[7];
}

size_t
wire_enc_len(const struct wire_enc *e)
{
	return e->len;
}

void
wire_enc_rewind(struct wire_enc *e, size_t len)
{
	if (e->err != 0)
		return;
	if (!e->list || len > e->len) {
		enc_fail(e, HUSH_E_INVAL);
		return;
	}
	sodium_memzero(e->buf + len, e->len - len);
	e->len = len;
}

void
wire_enc_free(struct wire_enc *e)
{
	if (e == NULL)
		return;
	/* Wipes; NULL is fine.  Nothing is ever written past len (rewind wipes). */
	lockmem_free_used(e->buf, e->len);
	memset(e, 0, sizeof(*e));
}
