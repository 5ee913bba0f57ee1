/*
 * libraft's view of the state machine.  Entry payloads and snapshots reach
 * libraft (and so the disk and the wire) only sealed with the DEK; this file
 * is where they are sealed and opened.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "lockmem.h"
#include "log.h"
#include "raft_proc.h"
#include "seal.h"

static const uint16_t cmd_types[] = {
	CMD_CLUSTER_INIT, CMD_TOKEN_ROTATE, CMD_SECRET_CREATE, CMD_SECRET_RM,
	CMD_CLUSTER_UPDATE, CMD_NODE_ADD, CMD_NODE_UPDATE, CMD_NODE_REMOVE,
	CMD_SERVICE_CREATE, CMD_SERVICE_UPDATE, CMD_SERVICE_RM, CMD_SECRET_UPDATE,
	CMD_FORCE_NEW_CLUSTER, CMD_STORE_LOAD, CMD_BACKUP_MARK, CMD_CA_ROTATE,
	CMD_CA_ADVANCE, 0
};

struct fsm_state {
	struct store	*store;
	const uint8_t	*dek;
	struct wire_msg	 m;
};

/*
 * An entry that does not open was not written by this cluster with this key,
 * or the log is damaged; either way the state would silently diverge if we
 * skipped it, so the process stops loudly and the parent reports it.
 */
static int
fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct fsm_state *st = fsm->data;
	uint8_t *plain;
	size_t plen, cmdlen;
	char why[256];
	unsigned changed;
	int r;

	*result = NULL;
	if ((r = entry_open(st->dek, buf, &plain, &plen, &cmdlen)) != 0) {
		snprintf(why, sizeof(why), "committed raft entry %llu (%zu bytes) does not "
		    "open with this node's data key (%s): the raft log in %.100s is damaged or "
		    "foreign", raft_proc_applying(), buf->len, hush_strerror(r), raft_proc_dir);
		raft_proc_damaged(why);
	}
	if ((r = msg_parse(plain, cmdlen, WIRE_MAX_MSG, cmd_types, &st->m, why,
	    sizeof(why))) != 0) {
		char detail[400];

		snprintf(detail, sizeof(detail), "committed raft entry %llu is not a valid "
		    "command: %s", raft_proc_applying(), why);
		raft_proc_damaged(detail);
	}
	r = store_apply(st->store, &st->m, &changed);
	lockmem_free(plain);	/* wipes */
	if (r != 0)
		fatal_r(r, "applying a committed command");
	if (changed != 0)
		raft_proc_changed(changed);
	raft_proc_scale_snapshots(st->store->nsecrets + st->store->nservices +
	    st->store->nnodes);
	return 0;
}

/*
 * The store serializes into a buffer with room for the header and the
 * tag around it, and the seal is done in place: at 100,000 secrets a
 * second buffer as large cost as much again in page faults and copying,
 * with the loop standing still (libraft 0.22 takes snapshots
 * synchronously, even from an fsm of version 3).  The buffer is malloc()'s,
 * which is what the raft process's heap (raft_heap.c) frees with, wiping.
 */
static int
fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct fsm_state *st = fsm->data;
	const size_t ml = sizeof(SNAPSHOT_MAGIC) - 1, head = ml + SEAL_HDR_BYTES;
	uint8_t *buf = NULL;
	size_t plen = 0, sealed;
	struct timespec t0, t1;
	long long ms;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((r = store_snapshot_room(st->store, head, SEAL_TAG_BYTES, &buf, &plen)) != 0) {
		log_err("cannot serialize a snapshot: %s", hush_strerror(r));
		return RAFT_NOMEM;
	}
	if ((*bufs = raft_malloc(sizeof(**bufs))) == NULL) {
		sodium_memzero(buf + head, plen);
		free(buf);
		return RAFT_NOMEM;
	}
	memcpy(buf, SNAPSHOT_MAGIC, ml);
	/* seal() writes its header before the plaintext, then the rest over it. */
	if ((r = seal(st->dek, 0, SNAPSHOT_PURPOSE, buf + head, plen, buf + ml,
	    plen + SEAL_OVERHEAD, &sealed)) != 0) {
		/* seal() wiped what it was given. */
		free(buf);
		raft_free(*bufs);
		return RAFT_NOMEM;
	}
	(*bufs)[0].base = buf;
	(*bufs)[0].len = ml + sealed;
	*n_bufs = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	log_info("snapshot of %zu secrets (%zu bytes) taken in %lld ms", st->store->nsecrets,
	    ml + sealed, ms);
	raft_proc_snapshot_took(ms < 0 ? 0 : (unsigned)ms);
	return 0;
}

static int
fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct fsm_state *st = fsm->data;
	const size_t ml = sizeof(SNAPSHOT_MAGIC) - 1;
	uint8_t *plain;
	size_t plen;
	int r;

	if (buf->len < ml + SEAL_OVERHEAD || memcmp(buf->base, SNAPSHOT_MAGIC, ml) != 0) {
		log_err("a snapshot of %zu bytes does not start with the hush header", buf->len);
		return RAFT_CORRUPT;
	}
	if ((plain = malloc(buf->len)) == NULL)
		return RAFT_NOMEM;
	r = seal_open(st->dek, SNAPSHOT_PURPOSE, (uint8_t *)buf->base + ml, buf->len - ml,
	    plain, buf->len, &plen);
	if (r == 0)
		r = store_restore(st->store, plain, plen);
	sodium_memzero(plain, buf->len);
	free(plain);
	if (r != 0) {
		log_err("cannot restore a snapshot of %zu bytes: %s", buf->len, hush_strerror(r));
		return r == HUSH_E_NOMEM ? RAFT_NOMEM : RAFT_CORRUPT;
	}
	raft_free(buf->base);
	log_info("restored a snapshot of %zu secrets", st->store->nsecrets);
	return 0;
}

int
fsm_init(struct raft_fsm *fsm, struct store *store, const uint8_t *dek)
{
	struct fsm_state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return HUSH_E_NOMEM;
	st->store = store;
	st->dek = dek;
	memset(fsm, 0, sizeof(*fsm));
	/* Version 2 with no finalize: raft frees snapshot buffers via our heap. */
	fsm->version = 2;
	fsm->data = st;
	fsm->apply = fsm_apply;
	fsm->snapshot = fsm_snapshot;
	fsm->restore = fsm_restore;
	fsm->snapshot_finalize = NULL;
	return 0;
}
