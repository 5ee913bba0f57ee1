/*
 * libFuzzer harness for lib/wire.c.  Any input must decode without a memory
 * error; whatever decodes must re-encode to the same bytes, both generically
 * (every field as BYTES) and, when it validates against the small schema
 * below, through the typed getters and putters.  The last type carries a
 * nested field list that gets the same treatment.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "wire.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T_ALL		1
#define T_SMALL		2
#define T_LIST		3
#define TAG_LIST_ITEM	5
#define STR_MAX		200

static const struct wire_field_spec all_fields[] = {
	{ 1, "u8",    WIRE_U8,    0,               0, 0 },
	{ 2, "u16",   WIRE_U16,   0,               0, 0 },
	{ 3, "u32",   WIRE_U32,   WIRE_F_REQUIRED, 0, 0 },
	{ 4, "u64",   WIRE_U64,   0,               0, 0 },
	{ 5, "i64",   WIRE_I64,   WIRE_F_REPEATED, 0, 0 },
	{ 6, "bool",  WIRE_BOOL,  0,               0, 0 },
	{ 7, "str",   WIRE_STR,   WIRE_F_REPEATED, 1, STR_MAX },
	{ 8, "bytes", WIRE_BYTES, 0,               0, 4096 },
};
static const struct wire_field_spec small_fields[] = {
	{ 1, "name",  WIRE_STR,   WIRE_F_REQUIRED, 1, 32 },
	{ 2, "flag",  WIRE_BOOL,  WIRE_F_REQUIRED, 0, 0 },
};
static const struct wire_field_spec list_fields[] = {
	{ 1, "count", WIRE_U32,   WIRE_F_REQUIRED, 0, 0 },
	{ TAG_LIST_ITEM, "item", WIRE_BYTES, WIRE_F_REPEATED, 0, 8192 },
};
static const struct wire_field_spec item_fields[] = {
	{ 1, "name",  WIRE_STR,   WIRE_F_REQUIRED, 1, 64 },
	{ 2, "size",  WIRE_U64,   0,               0, 0 },
	{ 3, "gen",   WIRE_I64,   0,               0, 0 },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
static const struct wire_msg_spec specs[] = {
	{ T_ALL,   "all",   all_fields,   NELEM(all_fields) },
	{ T_SMALL, "small", small_fields, NELEM(small_fields) },
	{ T_LIST,  "list",  list_fields,  NELEM(list_fields) },
};
static const struct wire_msg_spec item_spec = {
	0, "item", item_fields, NELEM(item_fields)
};

/* Large structs off the stack; the harness is single-threaded. */
static struct wire_msg msg, nested;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

static void
check_same(struct wire_enc *e, const uint8_t *want, size_t wantlen)
{
	const uint8_t *buf;
	size_t len;

	if (wire_enc_finish(e, &buf, &len) != 0)
		abort();
	if (len != wantlen || (len > 0 && memcmp(buf, want, len) != 0))
		abort();
	wire_enc_free(e);
}

static const struct wire_field_spec *
field_spec(const struct wire_msg_spec *spec, uint16_t tag)
{
	size_t i;

	for (i = 0; i < spec->nfields; i++) {
		if (spec->fields[i].tag == tag)
			return &spec->fields[i];
	}
	abort();	/* validate let an unknown tag through */
}

/* Every field as raw bytes: exercises the decoder/encoder framing. */
static void
put_raw(struct wire_enc *e, const struct wire_msg *m)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		wire_put_bytes(e, m->fields[i].tag, m->fields[i].val,
		    m->fields[i].len);
}

static void check_nested(const struct wire_field *f);

/* Every field through its typed getter and putter, in the original order. */
static void
put_typed(struct wire_enc *e, const struct wire_msg *m,
    const struct wire_msg_spec *spec)
{
	const struct wire_field_spec *fs;
	const struct wire_field *f;
	char s[STR_MAX + 1];
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	bool b;
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		fs = field_spec(spec, f->tag);
		switch (fs->kind) {
		case WIRE_U8:
			if (wire_field_u8(f, &u8) != 0)
				abort();
			wire_put_u8(e, f->tag, u8);
			break;
		case WIRE_U16:
			if (wire_field_u16(f, &u16) != 0)
				abort();
			wire_put_u16(e, f->tag, u16);
			break;
		case WIRE_U32:
			if (wire_field_u32(f, &u32) != 0)
				abort();
			wire_put_u32(e, f->tag, u32);
			break;
		case WIRE_U64:
			if (wire_field_u64(f, &u64) != 0)
				abort();
			wire_put_u64(e, f->tag, u64);
			break;
		case WIRE_I64:
			if (wire_field_i64(f, &i64) != 0)
				abort();
			wire_put_i64(e, f->tag, i64);
			break;
		case WIRE_BOOL:
			if (wire_field_bool(f, &b) != 0)
				abort();
			wire_put_bool(e, f->tag, b);
			break;
		case WIRE_STR:
			if (wire_field_str(f, s, sizeof(s)) != 0)
				abort();
			wire_put_str(e, f->tag, s);
			break;
		case WIRE_BYTES:
			if (spec->type == T_LIST && f->tag == TAG_LIST_ITEM)
				check_nested(f);
			wire_put_bytes(e, f->tag, f->val, f->len);
			break;
		}
	}
}

static void
check_nested(const struct wire_field *f)
{
	struct wire_enc e;
	char why[128];

	if (wire_decode_fields(f->val, f->len, &nested) != 0)
		return;
	wire_enc_init_fields(&e, WIRE_MAX_MSG);
	put_raw(&e, &nested);
	check_same(&e, f->val, f->len);
	if (wire_validate(&nested, &item_spec, why, sizeof(why)) != 0)
		return;
	wire_enc_init_fields(&e, WIRE_MAX_MSG);
	put_typed(&e, &nested, &item_spec);
	check_same(&e, f->val, f->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct wire_msg_spec *spec = NULL;
	struct wire_enc e;
	struct wire_hdr h;
	char why[128];
	size_t i;

	/* The same bytes as a header-less list. */
	if (wire_decode_fields(data, size, &msg) == 0) {
		wire_enc_init_fields(&e, WIRE_MAX_MSG);
		put_raw(&e, &msg);
		check_same(&e, data, size);
	}

	if (wire_decode(data, size, WIRE_MAX_MSG, &msg) != 0)
		return 0;
	if (wire_peek_hdr(data, size, &h) != 0 || h.length != size - WIRE_HDR_LEN)
		abort();

	wire_enc_init(&e, msg.hdr.type, msg.hdr.request_id, size);
	put_raw(&e, &msg);
	check_same(&e, data, size);

	for (i = 0; i < NELEM(specs); i++) {
		if (specs[i].type == msg.hdr.type)
			spec = &specs[i];
	}
	if (spec == NULL)
		return 0;
	if (wire_validate(&msg, spec, why, sizeof(why)) != 0) {
		if (why[0] == '\0' || strlen(why) >= sizeof(why))
			abort();
		return 0;
	}
	wire_enc_init(&e, msg.hdr.type, msg.hdr.request_id, size);
	put_typed(&e, &msg, spec);
	check_same(&e, data, size);
	return 0;
}
