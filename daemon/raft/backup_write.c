/*
 * `hushctl backup`: the raft process writes the store, as applied up to an
 * index, into a file hushctl opened (its descriptor came through the
 * parent), sealed under a key the parent derived (lib/backup_file.h): the
 * manifest, the data key, the snapshot's records in chunks of whole
 * records, and their count (lib/backup_contents.h).
 *
 * The store is serialized as for a raft snapshot, values sealed as they
 * are held, with the loop standing still for as long as that and the
 * writes take: the same cost as a snapshot, which the election timeout
 * already allows for (raft_proc_snapshot_took()).  A backup that asked
 * for an index this follower has not applied yet waits for it, at most
 * BACKUP_WAIT_MS.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup_contents.h"
#include "err.h"
#include "log.h"
#include "raft_proc.h"

struct pending_backup {
	uint32_t	 reply_id;
	int		 fd;
	struct backup_hdr hdr;
	uint8_t		 key[BACKUP_KEY_BYTES];
	uint64_t	 min_index;
	int64_t		 created;
	bool		 force;
	uint64_t	 deadline_ms;
};

static struct pending_backup *waiting;

static void
pending_free(struct pending_backup *b)
{
	if (b == NULL)
		return;
	if (b->fd >= 0)
		close(b->fd);
	sodium_memzero(b, sizeof(*b));
	free(b);
}

/* One message as one chunk. */
static int
put_msg(struct backup_writer *w, struct wire_enc *e, bool final)
{
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish(e, &buf, &len)) == 0)
		r = backup_writer_put(w, buf, len, final);
	wire_enc_free(e);
	return r;
}

static void
put_summary(struct wire_enc *e, const struct store *s, const char *node_id, uint64_t index,
    const struct pending_backup *b)
{
	wire_put_str(e, T_CLUSTER_ID, s->cluster.id);
	wire_put_str(e, T_NODE_ID, node_id);
	wire_put_i64(e, T_CREATED, b->created);
	wire_put_u64(e, T_RAFT_INDEX, index);
	wire_put_u64(e, T_STORE_SECRETS, s->nsecrets);
	wire_put_u64(e, T_STORE_SERVICES, s->nservices);
	wire_put_u64(e, T_STORE_NODES, s->nnodes);
	wire_put_bool(e, T_AUTOLOCK, s->cluster.autolock);
	if (b->force)
		wire_put_bool(e, T_FORCE, true);
}

/* The snapshot's records, whole records per chunk; *count of them. */
static int
put_records(struct backup_writer *w, const uint8_t *snap, size_t len, uint32_t *count)
{
	size_t off = 0, end, n;
	int r;

	*count = 0;
	while (off < len) {
		/* A chunk ends before the record that would take it past the mark. */
		if ((end = wire_msgs_span(snap, len, off, BACKUP_RECORDS_CHUNK, &n)) == off)
			return HUSH_E_INTERNAL;
		if ((r = backup_writer_put(w, snap + off, end - off, false)) != 0)
			return r;
		*count += (uint32_t)n;
		off = end;
	}
	return 0;
}

static int
write_backup(struct pending_backup *b, struct store *s, const uint8_t dek[32],
    const char *node_id, uint64_t index, uint64_t *bytes, char *why, size_t whylen)
{
	struct backup_writer w;
	struct wire_enc e;
	uint8_t *snap = NULL;
	size_t len = 0;
	uint32_t count;
	int r;

	if (!s->cluster.present) {
		snprintf(why, whylen, "the store holds no cluster yet");
		return HUSH_E_NOTINIT;
	}
	if ((r = store_snapshot(s, &snap, &len)) != 0) {
		snprintf(why, whylen, "cannot serialize the store: %s", hush_strerror(r));
		return r;
	}
	if ((r = backup_writer_open(&w, b->fd, &b->hdr, b->key)) != 0) {
		snprintf(why, whylen, "cannot start the backup file: %s", hush_strerror(r));
		goto out;
	}
	wire_enc_init(&e, BACKUP_MANIFEST, 0, 1024);
	wire_put_u32(&e, T_VERSION, BACKUP_CONTENTS_VERSION);
	put_summary(&e, s, node_id, index, b);
	if ((r = put_msg(&w, &e, false)) != 0)
		goto written;
	wire_enc_init(&e, BACKUP_KEYS, 0, 128);
	wire_put_bytes(&e, T_DEK, dek, 32);
	if ((r = put_msg(&w, &e, false)) != 0)
		goto written;
	if ((r = put_records(&w, snap, len, &count)) != 0)
		goto written;
	wire_enc_init(&e, BACKUP_END, 0, 64);
	wire_put_u32(&e, T_COUNT, count);
	r = put_msg(&w, &e, true);
written:
	*bytes = backup_writer_bytes(&w);
	backup_writer_close(&w);
	if (r != 0)
		snprintf(why, whylen, "cannot write the backup: %s", hush_strerror(r));
out:
	sodium_memzero(snap, len);
	free(snap);
	return r;
}

static void
answer(struct pending_backup *b, struct store *s, const uint8_t dek[32], const char *node_id,
    uint64_t index)
{
	struct wire_enc e;
	uint64_t bytes = 0;
	char why[300];
	int r;

	if ((r = write_backup(b, s, dek, node_id, index, &bytes, why, sizeof(why))) != 0) {
		log_err("backup failed: %s", why);
		raft_proc_error(b->reply_id, r, why);
		return;
	}
	log_info("backup of %zu secrets at raft index %llu written (%llu bytes)",
	    s->nsecrets, (unsigned long long)index, (unsigned long long)bytes);
	wire_enc_init(&e, RAFTP_BACKUP | MSG_REPLY, b->reply_id, 1024);
	put_summary(&e, s, node_id, index, b);
	wire_put_u64(&e, T_BYTES, bytes);
	raft_proc_send(&e);
}

void
backup_request(const struct wire_msg *m, int fd, uint64_t now_ms)
{
	struct pending_backup *b;
	const uint8_t *hdr, *key;
	size_t hlen, klen;
	char why[256];

	if (fd < 0 || wire_get_bytes(m, T_BACKUP_HDR, &hdr, &hlen) != 0 ||
	    wire_get_bytes(m, T_BACKUP_KEY, &key, &klen) != 0 || klen != BACKUP_KEY_BYTES) {
		if (fd >= 0)
			close(fd);
		raft_proc_error(m->hdr.request_id, HUSH_E_PROTO, "a backup needs its file, "
		    "header and key");
		return;
	}
	if (waiting != NULL) {
		close(fd);
		raft_proc_error(m->hdr.request_id, HUSH_E_BUSY, "another backup is being "
		    "written on this manager; retry when it is done");
		return;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("out of memory");
	b->fd = fd;
	b->reply_id = m->hdr.request_id;
	if (backup_hdr_parse(hdr, hlen, &b->hdr, why, sizeof(why)) != 0 ||
	    wire_get_u64(m, T_RAFT_INDEX, &b->min_index) != 0 ||
	    wire_get_i64(m, T_CREATED, &b->created) != 0) {
		raft_proc_error(b->reply_id, HUSH_E_PROTO, why);
		pending_free(b);
		return;
	}
	memcpy(b->key, key, sizeof(b->key));
	(void)wire_get_bool(m, T_FORCE, &b->force);
	b->deadline_ms = now_ms + BACKUP_WAIT_MS;
	waiting = b;
}

void
backup_tick(struct store *s, const uint8_t dek[32], const char *node_id, uint64_t applied,
    uint64_t now_ms)
{
	struct pending_backup *b = waiting;
	char why[200];

	if (b == NULL)
		return;
	if (applied < b->min_index && now_ms < b->deadline_ms)
		return;
	waiting = NULL;
	if (applied < b->min_index) {
		snprintf(why, sizeof(why), "this manager had not applied raft index %llu "
		    "after %d s (it is at %llu): it is behind the leader; back up on "
		    "another manager", (unsigned long long)b->min_index,
		    BACKUP_WAIT_MS / 1000, (unsigned long long)applied);
		raft_proc_error(b->reply_id, HUSH_E_UNAVAIL, why);
	} else {
		answer(b, s, dek, node_id, applied);
	}
	pending_free(b);
}
