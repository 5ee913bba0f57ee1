/*
 * libFuzzer harness for lib/msg.c.  Every input is parsed three ways: as a
 * whole message that may be of any type in the schema table, and as the
 * nested field lists REC_SECRET and REC_KEYFILE.  Whatever passes must
 * honour its schema exactly: every field declared there can be read with
 * the getter for its kind, within its bounds, and every required one is
 * present.  A violation aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "msg.h"
#include "wire.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every type the table knows, 0-terminated (type 0 is never a message). */
static uint16_t all_types[0x10000 + 1];
static struct wire_msg msg;
static char strbuf[WIRE_MAX_MSG + 1];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t n = 0;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	for (unsigned int t = 1; t <= 0xffff; t++)
		if (msg_spec((uint16_t)t) != NULL)
			all_types[n++] = (uint16_t)t;
	if (n == 0 || msg_spec(0) != NULL)
		abort();
	all_types[n] = 0;
	return 0;
}

/* One field, read with the getter of the kind its schema declares. */
static void
read_field(const struct wire_field *f, const struct wire_field_spec *fs)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	bool b;
	int r = 0;

	switch (fs->kind) {
	case WIRE_U8:
		r = wire_field_u8(f, &u8);
		break;
	case WIRE_U16:
		r = wire_field_u16(f, &u16);
		break;
	case WIRE_U32:
		r = wire_field_u32(f, &u32);
		break;
	case WIRE_U64:
		r = wire_field_u64(f, &u64);
		break;
	case WIRE_I64:
		r = wire_field_i64(f, &i64);
		break;
	case WIRE_BOOL:
		r = wire_field_bool(f, &b);
		break;
	case WIRE_STR:
		if (f->len < fs->min_len || f->len > fs->max_len)
			abort();
		r = wire_field_str(f, strbuf, (size_t)fs->max_len + 1);
		if (r == 0 && strlen(strbuf) != f->len)
			abort();
		break;
	case WIRE_BYTES:
		if (f->len < fs->min_len || f->len > fs->max_len)
			abort();
		break;
	}
	if (r != 0)
		abort();
}

/* Reads every field the schema of `type` declares, through the getters. */
static void
read_all(const struct wire_msg *m, uint16_t type)
{
	const struct wire_msg_spec *spec = msg_spec(type);
	const struct wire_field *f;
	const uint8_t *p;
	size_t n, len;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	bool b;
	int r = 0;

	if (spec == NULL)
		abort();
	for (size_t i = 0; i < spec->nfields; i++) {
		const struct wire_field_spec *fs = &spec->fields[i];

		n = wire_count(m, fs->tag);
		if ((fs->flags & WIRE_F_REQUIRED) && n == 0)
			abort();
		if (!(fs->flags & WIRE_F_REPEATED) && n > 1)
			abort();
		for (size_t k = 0; k < n; k++) {
			if ((f = wire_find(m, fs->tag, k)) == NULL)
				abort();
			read_field(f, fs);
		}
		if (n == 0)
			continue;
		/* And the first instance through the message-level getters. */
		switch (fs->kind) {
		case WIRE_U8:
			r = wire_get_u8(m, fs->tag, &u8);
			break;
		case WIRE_U16:
			r = wire_get_u16(m, fs->tag, &u16);
			break;
		case WIRE_U32:
			r = wire_get_u32(m, fs->tag, &u32);
			break;
		case WIRE_U64:
			r = wire_get_u64(m, fs->tag, &u64);
			break;
		case WIRE_I64:
			r = wire_get_i64(m, fs->tag, &i64);
			break;
		case WIRE_BOOL:
			r = wire_get_bool(m, fs->tag, &b);
			break;
		case WIRE_STR:
			r = wire_get_str(m, fs->tag, strbuf, (size_t)fs->max_len + 1);
			break;
		case WIRE_BYTES:
			r = wire_get_bytes(m, fs->tag, &p, &len);
			if (r == 0 && (len < fs->min_len || len > fs->max_len))
				abort();
			break;
		}
		if (r != 0)
			abort();
	}
	/* No field outside the schema got through. */
	for (size_t i = 0; i < m->nfields; i++) {
		size_t j;

		for (j = 0; j < spec->nfields; j++)
			if (spec->fields[j].tag == m->fields[i].tag)
				break;
		if (j == spec->nfields)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t records[] = { REC_SECRET, REC_KEYFILE };
	char why[256], detail[1100];
	int r;

	if (msg_parse(data, size, WIRE_MAX_MSG, all_types, &msg, why, sizeof(why)) == 0) {
		if (msg_spec(msg.hdr.type) == NULL || msg.hdr.version != WIRE_VERSION)
			abort();
		read_all(&msg, msg.hdr.type);
		(void)msg_type_name(msg.hdr.type);
		r = msg_reply_status(&msg, detail, sizeof(detail));
		if (msg.hdr.type == MSG_ERROR ? (r >= 0 || r < HUSH_E_MIN) : r != 0)
			abort();
	} else if (why[0] == '\0')
		abort();	/* a refusal always says why */

	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		if (msg_parse_record(data, size, records[i], &msg, why, sizeof(why)) != 0)
			continue;
		read_all(&msg, records[i]);
	}
	return 0;
}
