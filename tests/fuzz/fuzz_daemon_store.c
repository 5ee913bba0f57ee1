/*
 * libFuzzer harness for store_restore() in daemon/raft/store.c.  Any input
 * is restored into one long-lived store (store_restore() empties it first).
 * When it is accepted, the store must answer QRY_SECRET_LIST, write a
 * snapshot, accept that snapshot back, and write exactly the same snapshot
 * again: a state the store accepted is a state it can reproduce.  And its
 * secret, node and service lists, walked a page at a time after each
 * T_CURSOR (store_page.c), must give every record exactly once, each page
 * within HUSH_PAGE_BYTES, each cursor after the one before.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "msg.h"
#include "raft/store.h"
#include "wire.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store st;
static struct wire_enc list_enc;
static struct wire_msg list_q;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint16_t qry[] = { QRY_SECRET_LIST, 0 };
	const uint8_t *buf;
	size_t len;
	char why[128];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || store_init(&st) != 0)
		abort();
	/* The query outlives every input: list_q points into list_enc. */
	wire_enc_init(&list_enc, QRY_SECRET_LIST, 1, 64);
	if (wire_enc_finish(&list_enc, &buf, &len) != 0 ||
	    msg_parse(buf, len, 64, qry, &list_q, why, sizeof(why)) != 0)
		abort();
	return 0;
}

/* Every page of one list; aborts on a broken page or a wrong total. */
static void
walk(uint16_t type, size_t want)
{
	static struct wire_msg q, reply;
	uint16_t types[] = { type, 0 }, allowed[] = { type | MSG_REPLY, 0 };
	char cursor[HUSH_CURSOR_MAX + 1] = "", next[HUSH_CURSOR_MAX + 1], why[256];
	struct wire_enc qe, e;
	const uint8_t *buf, *list, *val;
	size_t len, llen, off, vlen, seen = 0, pages = 0;
	uint16_t tag;

	for (;;) {
		wire_enc_init(&qe, type, 1, 2048);
		if (cursor[0] != '\0')
			wire_put_str(&qe, T_CURSOR, cursor);
		if (wire_enc_finish(&qe, &buf, &len) != 0 ||
		    msg_parse(buf, len, 2048, types, &q, why, sizeof(why)) != 0 ||
		    store_query(&st, &q, &e) != 0 || wire_enc_finish(&e, &buf, &len) != 0 ||
		    msg_parse(buf, len, WIRE_MAX_MSG, allowed, &reply, why, sizeof(why)) != 0 ||
		    wire_get_bytes(&reply, T_RECORDS, &list, &llen) != 0 ||
		    llen > HUSH_PAGE_BYTES + HUSH_SERVICE_RECORD_MAX)
			abort();
		for (off = 0; wire_list_next(list, llen, &off, &tag, &val, &vlen) == 1;)
			seen++;
		if (++pages > want + 1)
			abort();
		if (wire_get_str(&reply, T_CURSOR, next, sizeof(next)) != 0) {
			wire_enc_free(&e);
			wire_enc_free(&qe);
			break;
		}
		if (strcmp(next, cursor) <= 0)
			abort();
		memcpy(cursor, next, sizeof(cursor));
		wire_enc_free(&e);
		wire_enc_free(&qe);
	}
	if (seen != want)
		abort();
}

static void
snap_free(uint8_t *p, size_t len)
{
	sodium_memzero(p, len);
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_enc e;
	uint8_t *snap1, *snap2;
	size_t len1, len2;
	int r;

	r = store_restore(&st, data, size);
	if (r != 0) {
		if (r != HUSH_E_CORRUPT && r != HUSH_E_NOMEM)
			abort();
		/* A refused snapshot leaves nothing behind. */
		if (st.cluster.present || st.nsecrets != 0 || st.dedup_count != 0)
			abort();
		return 0;
	}

	r = store_query(&st, &list_q, &e);
	wire_enc_free(&e);
	if (r == HUSH_E_NOMEM)
		abort();
	walk(QRY_SECRET_LIST, st.nsecrets);
	walk(QRY_NODE_LIST, st.nnodes);
	walk(QRY_SERVICE_LIST, st.nservices);

	if (store_snapshot(&st, &snap1, &len1) != 0)
		abort();
	if (store_restore(&st, snap1, len1) != 0)
		abort();
	if (store_snapshot(&st, &snap2, &len2) != 0)
		abort();
	if (len1 != len2 || memcmp(snap1, snap2, len1) != 0)
		abort();
	snap_free(snap1, len1);
	snap_free(snap2, len2);
	return 0;
}
