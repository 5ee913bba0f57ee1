/*
 * libFuzzer harness for store_restore() in daemon/raft/store.c.  Any input
 * is restored into one long-lived store (store_restore() empties it first).
 * When it is accepted, the store must answer QRY_SECRET_LIST, write a
 * snapshot, accept that snapshot back, and write exactly the same snapshot
 * again: a state the store accepted is a state it can reproduce.
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
