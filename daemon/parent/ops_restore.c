/*
 * `hushctl restore FILE`: an uninitialized node becomes the only manager of
 * the cluster a backup holds -- same cluster id, CA, join tokens, unlock
 * key, secrets, services and workers -- with an identity of its own.
 *
 *   1. the whole file is read and checked before anything is written: it
 *      opens with the key hushctl derived, every chunk authenticates, every
 *      record parses, the counts add up (lib/backup_contents.c)
 *   2. the backup's CA goes into pki, which signs this node's certificate
 *   3. node.keys gets the backup's data key (the values travel sealed under
 *      a key derived from it) and, under autolock, is sealed by its unlock
 *      key; the certificates are written
 *   4. raft bootstraps this node as its only voter, and the records are
 *      committed a few hundred KiB at a time (CMD_STORE_LOAD)
 *   5. CMD_FORCE_NEW_CLUSTER adds this node as a manager and removes every
 *      manager the backup knew: their certificates are refused from then on
 *   6. node.json is written: the node is initialized
 *
 * A failure before step 6 undoes what was written, as a failed init does
 * (NE_SETUP_FAILED), so the restore can be run again.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_contents.h"
#include "disk_space.h"
#include "err.h"
#include "log.h"
#include "parent.h"
#include "pki/pki.h"
#include "pki_calls.h"
#include "store_calls.h"

/* A command's records, well under a proposal's cap (lib/msg.c). */
#define LOAD_CHUNK	(256u * 1024)

struct restore {
	struct backup_contents	 bc;
	char			*ca_cert;
	size_t			 ca_certlen;
	struct secbuf		 ca_key;
	uint64_t		 expiry;
	bool			 autolock;
	struct secbuf		 kek;
	uint8_t			 digest[32];
	struct pki_cert		 cert;
	struct secbuf		 node_key;
	uint8_t			 seal_pub[32];
	size_t			 next;		/* offset of the next records to load */
	bool			 first;
	struct store_applied	 forced;
};

static void
restore_free(void *arg)
{
	struct restore *x = arg;

	backup_contents_free(&x->bc);
	free(x->ca_cert);
	secbuf_free(&x->ca_key);
	secbuf_free(&x->kek);
	pki_cert_clear(&x->cert);
	secbuf_free(&x->node_key);
	store_applied_clear(&x->forced);
	sodium_memzero(x, sizeof(*x));
	free(x);
}

static void
restore_fail(struct op *op, int code, const char *detail)
{
	log_err("restore failed: %s", detail && *detail ? detail : hush_strerror(code));
	(void)node_event(op->p, NE_SETUP_FAILED);
	op_error(op, code, detail);
}

static void
restored(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct restore *x = op->ctx;
	const struct backup_manifest *man = &x->bc.man;
	struct wire_enc e;
	int r;

	if (status != 0) {
		restore_fail(op, status, detail);
		return;
	}
	p->node.initialized = true;
	if ((r = node_state_save(p->cfg.state_dir, &p->node)) != 0) {
		p->node.initialized = false;
		restore_fail(op, r, "cannot write node.json");
		return;
	}
	p->settings.autolock = x->autolock;
	p->settings.cert_expiry = x->expiry;
	memcpy(p->settings.token_digest, x->digest, 32);
	p->settings.have_digest = true;
	log_warn("restored cluster %s from a backup taken at raft index %llu on %s; this "
	    "node (%s) is its only manager", p->node.cluster_id,
	    (unsigned long long)man->index, man->node_id, p->node.node_id);
	(void)node_event(p, NE_SETUP_DONE);
	wire_enc_init(&e, CTL_RESTORE | MSG_REPLY, op->client_req, 8192);
	wire_put_str(&e, T_NODE_ID, p->node.node_id);
	wire_put_str(&e, T_CLUSTER_ID, p->node.cluster_id);
	wire_put_str(&e, T_ADVERTISE_ADDR, p->node.advertise);
	wire_put_u64(&e, T_STORE_SECRETS, man->secrets);
	wire_put_u64(&e, T_STORE_SERVICES, man->services);
	wire_put_u64(&e, T_STORE_NODES, man->nodes);
	wire_put_u64(&e, T_RAFT_INDEX, man->index);
	for (size_t i = 0; i < x->forced.nids; i++)
		wire_put_str(&e, T_PEER_ID, x->forced.ids[i]);
	op_reply(op, &e);
}

/* Step 4: the next few hundred KiB of whole records, then step 5. */
static void
load_next(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct restore *x = op->ctx;
	const uint8_t *b = x->bc.records;
	uint8_t req_id[16];
	size_t start = x->next;
	int r;

	if (status != 0) {
		restore_fail(op, status, detail);
		return;
	}
	randombytes_buf(req_id, sizeof(req_id));
	if (start >= x->bc.len) {
		if ((r = store_force_new(op, req_id, p->node.node_id, p->node.advertise,
		    x->seal_pub, &x->forced, restored)) != 0)
			restore_fail(op, r, "cannot propose this node as the only manager");
		return;
	}
	/* Checked whole already (backup_contents.c): every header is sound. */
	x->next = wire_msgs_span(b, x->bc.len, start, LOAD_CHUNK, NULL);
	r = store_load(op, req_id, x->bc.snap_version, x->first, b + start, x->next - start,
	    load_next);
	x->first = false;
	if (r != 0)
		restore_fail(op, r, "cannot propose the backup's records");
}

static void
raft_ready(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct restore *x = op->ctx;

	if (status != 0) {
		restore_fail(op, status, detail);
		return;
	}
	/* The records after the snapshot's header, which CMD_STORE_LOAD does not take. */
	x->next = wire_msgs_span(x->bc.records, x->bc.len, 0, 0, NULL);
	x->first = true;
	load_next(op, 0, NULL, NULL);
}

/* Step 3, as init's, with the backup's keys. */
static int
persist(struct op *op, char *why, size_t whylen)
{
	struct restore *x = op->ctx;
	struct setup_keys k = { .dek = &x->bc.dek, .node_key = &x->node_key,
	    .kek = x->autolock ? x->kek.p : NULL, .ca_cert = x->ca_cert,
	    .node_cert = x->cert.pem };

	return setup_persist(op->p, &k, x->seal_pub, why, whylen);
}

static void
issued(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct restore *x = op->ctx;
	char why[512];
	int r;

	if (status != 0) {
		restore_fail(op, status, detail);
		return;
	}
	p->node.cert_not_after = x->cert.not_after;
	if ((r = persist(op, why, sizeof(why))) != 0) {
		restore_fail(op, r, why);
		return;
	}
	setup_start_store(op, raft_ready);
}

static void
ca_loaded(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct restore *x = op->ctx;
	char why[300];
	int r;

	if (status != 0) {
		restore_fail(op, status, detail);
		return;
	}
	p->settings.ca = PKI_CA_LOADED;
	if ((r = setup_issue(op, &x->node_key, &x->cert, x->expiry, issued, why,
	    sizeof(why))) != 0)
		restore_fail(op, r, why);
}

/* The backup's cluster record (its second record, checked to be one). */
static int
cluster_of(struct restore *x, char *why, size_t whylen)
{
	static const uint16_t types[] = { SNAP_CLUSTER, 0 };
	struct wire_msg *m;
	const uint8_t *b = x->bc.records, *key, *kek;
	size_t off, end, klen;
	char d[256];
	int r = 0;

	if ((m = malloc(sizeof(*m))) == NULL)
		return HUSH_E_NOMEM;
	off = wire_msgs_span(b, x->bc.len, 0, 0, NULL);
	end = wire_msgs_span(b, x->bc.len, off, 0, NULL);
	if (msg_parse(b + off, end - off, WIRE_MAX_MSG, types, m, d, sizeof(d)) != 0 ||
	    wire_get_bytes(m, T_CA_KEY, &key, &klen) != 0 ||
	    wire_get_u64(m, T_CERT_EXPIRY, &x->expiry) != 0 ||
	    wire_get_bool(m, T_AUTOLOCK, &x->autolock) != 0) {
		snprintf(why, whylen, "the backup's cluster record is malformed");
		r = HUSH_E_CORRUPT;
		goto out;
	}
	{
		const struct wire_field *cert = wire_find(m, T_CA_CERT, 0);

		if ((x->ca_cert = strndup((const char *)cert->val, cert->len)) == NULL ||
		    (r = secbuf_dup(&x->ca_key, key, klen)) != 0) {
			r = HUSH_E_NOMEM;
			goto out;
		}
		x->ca_certlen = cert->len;
	}
	if (x->autolock && (wire_get_bytes(m, T_KEK, &kek, &klen) != 0 ||
	    (r = secbuf_dup(&x->kek, kek, klen)) != 0)) {
		snprintf(why, whylen, "the backup's cluster is autolocked but holds no "
		    "unlock key");
		r = HUSH_E_CORRUPT;
	}
out:
	free(m);
	return r;
}

/* Step 1: the whole backup, read and checked. */
static int
read_backup(struct op *op, const uint8_t key[32], char *why, size_t whylen)
{
	struct restore *x = op->ctx;
	struct backup_reader rd;
	int r;

	if ((r = backup_reader_open_fd(&rd, op->fd, why, whylen)) != 0)
		return r;
	if ((r = backup_reader_key(&rd, key, why, whylen)) == 0)
		r = backup_contents_read(&x->bc, &rd, why, whylen);
	backup_reader_close(&rd);
	if (r != 0)
		return r;
	if (x->bc.dek.len != 32 || x->bc.len == 0) {
		snprintf(why, whylen, "the backup holds no data key or no store");
		return HUSH_E_CORRUPT;
	}
	return cluster_of(x, why, whylen);
}

void
op_restore(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct restore *x;
	const uint8_t *key;
	char why[PATH_MAX + 256];
	size_t len;
	int r;

	if (!op->has_fd) {
		op_error(op, HUSH_E_PROTO, "a restore needs the backup file, passed with "
		    "the request");
		return;
	}
	if (disk_check(p->cfg.state_dir, NULL, HUSH_RAFT_DISK_NEED, why,
	    sizeof(why)) == HUSH_E_NOSPACE) {
		op_error(op, HUSH_E_NOSPACE, why);
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	op->ctx = x;
	op->ctx_free = restore_free;
	backup_contents_init(&x->bc, true);
	x->ca_key = (struct secbuf)SECBUF_INIT;
	x->kek = (struct secbuf)SECBUF_INIT;
	x->node_key = (struct secbuf)SECBUF_INIT;
	wire_get_bytes(m, T_BACKUP_KEY, &key, &len);
	if ((r = read_backup(op, key, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	if ((r = setup_addresses(p, m, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	if (hush_id_new(p->node.node_id) != 0) {
		op_error(op, HUSH_E_CRYPTO, "cannot draw a random identifier");
		return;
	}
	snprintf(p->node.cluster_id, sizeof(p->node.cluster_id), "%s", x->bc.man.cluster_id);
	p->node.role = ROLE_MANAGER;
	log_info("restoring cluster %s from a backup of %llu secrets taken at raft index "
	    "%llu", x->bc.man.cluster_id, (unsigned long long)x->bc.man.secrets,
	    (unsigned long long)x->bc.man.index);
	(void)node_event(p, NE_SETUP_BEGIN);
	if ((r = pki_ca_load(op, (const uint8_t *)x->ca_cert, x->ca_certlen, x->ca_key.p,
	    x->ca_key.len, x->digest, ca_loaded)) != 0)
		restore_fail(op, r, "the pki process is not available");
}
