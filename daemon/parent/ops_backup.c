/*
 * `hushctl backup FILE`: a sealed, consistent copy of the store, written
 * while the cluster serves.
 *
 *   1. the key: with a passphrase, hushctl derived it (Argon2id) and sends
 *      it with the file's header; else the cluster must be autolocked, and
 *      the key is derived here from its unlock key (lib/backup_file.h),
 *      which never leaves this process
 *   2. CMD_BACKUP_MARK commits through the leader: its index is past
 *      every write acknowledged before the backup began
 *   3. this manager's raft process, once it has applied that index, writes
 *      the store into the file hushctl opened (its descriptor came with the
 *      request), sealed under the key (daemon/raft/backup_write.c)
 *
 * --force skips step 2: a manager without a quorum backs up its own copy,
 * which may lack writes the others had committed; the manifest says so.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_file.h"
#include "err.h"
#include "keyring.h"
#include "log.h"
#include "parent.h"
#include "raft_proc_calls.h"
#include "store_calls.h"

struct backup_op {
	uint8_t			 hdr[BACKUP_HDR_BYTES];
	uint8_t			 key[BACKUP_KEY_BYTES];
	bool			 force;
	struct store_applied	 mark;
	struct backup_summary	 done;
};

static void
backup_op_free(void *arg)
{
	struct backup_op *x = arg;

	store_applied_clear(&x->mark);
	sodium_memzero(x, sizeof(*x));
	free(x);
}

static void
written(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct backup_op *x = op->ctx;
	const struct backup_summary *d = &x->done;
	struct wire_enc e;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	wire_enc_init(&e, CTL_BACKUP | MSG_REPLY, op->client_req, 1024);
	wire_put_str(&e, T_CLUSTER_ID, d->cluster_id);
	wire_put_str(&e, T_NODE_ID, d->node_id);
	wire_put_i64(&e, T_CREATED, d->created);
	wire_put_u64(&e, T_RAFT_INDEX, d->index);
	wire_put_u64(&e, T_STORE_SECRETS, d->secrets);
	wire_put_u64(&e, T_STORE_SERVICES, d->services);
	wire_put_u64(&e, T_STORE_NODES, d->nodes);
	wire_put_bool(&e, T_AUTOLOCK, d->autolock);
	if (d->force)
		wire_put_bool(&e, T_FORCE, true);
	wire_put_u64(&e, T_BYTES, d->bytes);
	op_reply(op, &e);
}

static void
write_now(struct op *op, uint64_t min_index)
{
	struct backup_op *x = op->ctx;
	int r;

	if ((r = raft_proc_backup(op, op->fd, x->hdr, x->key, min_index, x->force, &x->done,
	    written)) != 0)
		op_error(op, r, "the raft process is not available");
}

static void
marked(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct backup_op *x = op->ctx;

	if (status != 0) {
		char why[700];

		snprintf(why, sizeof(why), "%s (a backup asks the raft leader where the "
		    "store is first; without a quorum, 'hushctl backup --force' writes "
		    "this manager's copy as it is)", detail && *detail ? detail :
		    hush_strerror(status));
		op_error(op, status, why);
		return;
	}
	write_now(op, x->mark.index);
}

/* The file's header and key, from hushctl's passphrase or the unlock key. */
static int
backup_key(struct parent *p, const struct wire_msg *m, struct backup_op *x, char *why,
    size_t whylen)
{
	const uint8_t *hdr, *key;
	size_t hlen, klen;
	struct backup_hdr h;
	struct secbuf kek = SECBUF_INIT;
	int r;

	if (wire_get_bytes(m, T_BACKUP_HDR, &hdr, &hlen) == 0 &&
	    wire_get_bytes(m, T_BACKUP_KEY, &key, &klen) == 0) {
		if (backup_hdr_parse(hdr, hlen, &h, why, whylen) != 0)
			return HUSH_E_INVAL;
		if (h.kind != BACKUP_KEY_PASSPHRASE) {
			snprintf(why, whylen, "a backup key from hushctl must come from a "
			    "passphrase");
			return HUSH_E_INVAL;
		}
		memcpy(x->hdr, hdr, sizeof(x->hdr));
		memcpy(x->key, key, sizeof(x->key));
		return 0;
	}
	if (wire_find(m, T_BACKUP_HDR, 0) != NULL || wire_find(m, T_BACKUP_KEY, 0) != NULL) {
		snprintf(why, whylen, "a backup's header and key come together");
		return HUSH_E_PROTO;
	}
	if (!p->settings.autolock || keyring_get(KEY_KEK, &kek) != 0) {
		snprintf(why, whylen, "this cluster has no unlock key (autolock is off): "
		    "give a passphrase for the backup (hushctl backup asks for one, or "
		    "reads it with --passphrase-file FILE)");
		return HUSH_E_INVAL;
	}
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	r = backup_key_from_kek(kek.p, &h, x->key);
	secbuf_free(&kek);
	if (r != 0) {
		snprintf(why, whylen, "cannot derive the backup's key: %s", hush_strerror(r));
		return r;
	}
	backup_hdr_encode(&h, x->hdr);
	return 0;
}

void
op_backup(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct backup_op *x;
	const uint8_t *req_id;
	size_t len;
	char why[400];
	int r;

	if (!op->has_fd) {
		op_error(op, HUSH_E_PROTO, "a backup needs the file to write, passed with "
		    "the request");
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	op->ctx = x;
	op->ctx_free = backup_op_free;
	if ((r = backup_key(p, m, x, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	wire_get_bool(m, T_FORCE, &x->force);
	if (x->force) {
		log_warn("backup --force: this manager's copy of the store, as it is");
		write_now(op, 0);
		return;
	}
	wire_get_bytes(m, T_REQ_ID, &req_id, &len);
	if ((r = store_backup_mark(op, req_id, &x->mark, marked)) != 0)
		op_error(op, r, "the raft store is not available");
}
