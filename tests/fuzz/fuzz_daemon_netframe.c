/*
 * libFuzzer harness for daemon/net/netframe.c: the only code that turns
 * bytes from another node into messages.  The input is a control header
 * and then a TLS plaintext stream:
 *
 *	byte 0	which side of which protocol reads the stream:
 *		0 dispatch server (DSP_* requests), 1 dispatch client (replies
 *		to the request type in bytes 2-3), 2 join server (JOIN_REQUEST),
 *		3 join client (JOIN_HELLO, then JOIN_REQUEST's reply)
 *	byte 1	how the stream is cut into reads (0: one read; else 1..64 bytes)
 *	2..3	request type for mode 1
 *	4..	the stream
 *
 * Invariants: the reader consumes every byte unless it reports an error,
 * never hands out a frame longer than the protocol's maximum or different
 * from what its header says, and whatever netframe_parse() accepts has an
 * allowed type and fields the schema getters can read back.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "msg.h"
#include "net/netframe.h"
#include "wire.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CTRL	4

static struct wire_msg msg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

static bool
allowed_has(const uint16_t *allowed, uint16_t type)
{
	for (; *allowed != 0; allowed++)
		if (*allowed == type)
			return true;
	return false;
}

/* Every field of a parsed frame through the getter of its schema kind. */
static void
read_back(const struct wire_msg *m)
{
	const struct wire_msg_spec *spec = msg_spec(m->hdr.type);
	const struct wire_field *f;
	char s[16385];
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;
	int64_t i64;
	bool b;
	size_t i, j;

	if (spec == NULL)
		abort();
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		for (j = 0; j < spec->nfields && spec->fields[j].tag != f->tag; j++)
			;
		if (j == spec->nfields)
			abort();	/* validate let an unknown tag through */
		switch (spec->fields[j].kind) {
		case WIRE_BYTES:
			if (f->len < spec->fields[j].min_len || f->len > spec->fields[j].max_len)
				abort();
			break;
		case WIRE_STR:
			if (f->len < sizeof(s) && wire_field_str(f, s, sizeof(s)) != 0)
				abort();
			break;
		case WIRE_U8:
			if (wire_field_u8(f, &u8) != 0)
				abort();
			break;
		case WIRE_U16:
			if (wire_field_u16(f, &u16) != 0)
				abort();
			break;
		case WIRE_U32:
			if (wire_field_u32(f, &u32) != 0)
				abort();
			break;
		case WIRE_U64:
			if (wire_field_u64(f, &u64) != 0)
				abort();
			break;
		case WIRE_I64:
			if (wire_field_i64(f, &i64) != 0)
				abort();
			break;
		case WIRE_BOOL:
			if (wire_field_bool(f, &b) != 0)
				abort();
			break;
		}
	}
}

static void
check_frame(uint8_t *frame, size_t len, size_t max, const uint16_t *allowed)
{
	struct wire_hdr h;
	char why[256];
	uint32_t id;

	if (len < WIRE_HDR_LEN || len > max)
		abort();
	if (wire_peek_hdr(frame, len, &h) != 0 || (size_t)h.length + WIRE_HDR_LEN != len)
		abort();
	if (netframe_get_id(frame) != h.request_id)
		abort();
	why[0] = '\0';
	if (netframe_parse(frame, len, max, allowed, &msg, why, sizeof(why)) == 0) {
		if (!allowed_has(allowed, msg.hdr.type))
			abort();
		read_back(&msg);
		/* What a manager does before answering: rewrite the id in place. */
		id = netframe_get_id(frame) ^ 0x5a5a5a5au;
		netframe_set_id(frame, id);
		if (netframe_get_id(frame) != id)
			abort();
	} else if (why[0] == '\0' || strlen(why) >= sizeof(why)) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netframe_rd rd;
	const uint16_t *allowed;
	uint16_t reply[3], req;
	uint8_t *frame;
	size_t max, off, n, used, flen, chunk;
	unsigned frames = 0;
	int mode;

	if (size < CTRL)
		return 0;
	mode = data[0] % 4;
	chunk = data[1] == 0 ? size : (size_t)(data[1] % 64) + 1;
	req = (uint16_t)(data[2] << 8 | data[3]);
	switch (mode) {
	case 0:
		max = NETFRAME_DSP_MAX;
		allowed = netframe_dsp_requests;
		break;
	case 1:
		max = NETFRAME_DSP_MAX;
		if (netframe_reply_types(req, reply) != 0)
			req = DSP_HEARTBEAT;
		if (netframe_reply_types(req, reply) != 0)
			abort();
		allowed = reply;
		break;
	case 2:
		max = NETFRAME_JOIN_MAX;
		allowed = netframe_join_requests;
		break;
	default:
		max = NETFRAME_JOIN_MAX;
		allowed = netframe_join_hello;
		if (netframe_reply_types(JOIN_REQUEST, reply) != 0)
			abort();
		break;
	}

	netframe_rd_init(&rd, max);
	for (off = CTRL; off < size;) {
		n = size - off < chunk ? size - off : chunk;
		if (netframe_rd_feed(&rd, data + off, n, &used, &frame, &flen) != 0)
			break;	/* the connection would close here */
		if (used > n || (used < n && frame == NULL))
			abort();
		off += used;
		if (frame == NULL)
			continue;
		check_frame(frame, flen, max, allowed);
		netframe_free(frame);
		/* The join client reads a hello, then the answer. */
		if (mode == 3 && ++frames == 1)
			allowed = reply;
	}
	netframe_rd_free(&rd);
	return 0;
}
