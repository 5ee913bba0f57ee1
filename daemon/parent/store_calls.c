/*
 * The parent's typed calls to the store (store_calls.h).  To add a
 * request to a child: write one wrapper here, in the same shape -- build
 * the CMD_* or QRY_* message from typed arguments, decode the answer in
 * one static function, go through raft_call().
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "op_call.h"
#include "store_calls.h"

/* Sends e to the store and frees it, whatever happens. */
static int
store_send(struct op *op, struct wire_enc *e, enum raft_way way, op_call_decode decode,
    void *out, op_done_cb cb)
{
	int r = raft_call(op, e, way, decode, out, cb);

	wire_enc_free(e);
	return r;
}

/* Every tag field of from into e, as it came: its schema bounded them. */
static void
copy_all(struct wire_enc *e, const struct wire_msg *from, uint16_t tag)
{
	for (size_t i = 0; i < wire_count(from, tag); i++) {
		const struct wire_field *f = wire_find(from, tag, i);

		wire_put_bytes(e, tag, f->val, f->len);
	}
}

/* ---- the cluster record ---- */

void
cluster_record_clear(struct cluster_record *c)
{
	free(c->ca_cert);
	secbuf_free(&c->ca_key);
	free(c->next_cert);
	secbuf_free(&c->next_key);
	free(c->cross_cert);
	free(c->next_extca_url);
	free(c->next_extca_cacert);
	free(c->extca_url);
	free(c->extca_cacert);
	sodium_memzero(c, sizeof(*c));
}

/* A field the schema holds to exactly len bytes, into out. */
static int
get_fixed(const struct wire_msg *m, uint16_t tag, uint8_t *out, size_t len)
{
	const struct wire_field *f = wire_find(m, tag, 0);

	if (f == NULL || f->len != len)
		return HUSH_E_PROTO;
	memcpy(out, f->val, len);
	return 0;
}

/* The rotation's fields, when one is under way (store_ca.c puts them). */
static int
cluster_rotation_decoded(const struct wire_msg *reply, struct cluster_record *out)
{
	const struct wire_field *f;
	const uint8_t *key;
	size_t keylen;

	if (wire_get_u8(reply, T_CA_PHASE, &out->ca_phase) != 0) {
		out->ca_phase = CA_PHASE_NONE;
		return 0;
	}
	if (get_fixed(reply, T_DIGEST, out->next_digest, sizeof(out->next_digest)) != 0 ||
	    (f = wire_find(reply, T_CA_NEXT, 0)) == NULL ||
	    (out->next_cert = strndup((const char *)f->val, f->len)) == NULL)
		return HUSH_E_PROTO;
	if ((f = wire_find(reply, T_CA_CROSS, 0)) != NULL &&
	    (out->cross_cert = strndup((const char *)f->val, f->len)) == NULL)
		return HUSH_E_NOMEM;
	if (wire_get_bytes(reply, T_CA_NEXT_KEY, &key, &keylen) == 0 &&
	    secbuf_dup(&out->next_key, key, keylen) != 0)
		return HUSH_E_NOMEM;
	if ((f = wire_find(reply, T_NEXT_EXTCA_URL, 0)) != NULL &&
	    (out->next_extca_url = strndup((const char *)f->val, f->len)) == NULL)
		return HUSH_E_NOMEM;
	if ((f = wire_find(reply, T_NEXT_EXTCA_CACERT, 0)) != NULL &&
	    (out->next_extca_cacert = strndup((const char *)f->val, f->len)) == NULL)
		return HUSH_E_NOMEM;
	return 0;
}

static int
cluster_decoded(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	struct cluster_record *out = arg;
	const struct wire_field *cert, *f;
	const uint8_t *key;
	size_t keylen;

	/* The schema requires all but the KEK and the CA's key or external CA. */
	if (wire_get_str(reply, T_CLUSTER_ID, out->cluster_id, sizeof(out->cluster_id)) != 0 ||
	    (cert = wire_find(reply, T_CA_CERT, 0)) == NULL ||
	    (out->ca_cert = strndup((const char *)cert->val, cert->len)) == NULL ||
	    (wire_get_bytes(reply, T_CA_KEY, &key, &keylen) == 0 &&
	    secbuf_dup(&out->ca_key, key, keylen) != 0) ||
	    ((f = wire_find(reply, T_EXTCA_URL, 0)) != NULL &&
	    (out->extca_url = strndup((const char *)f->val, f->len)) == NULL) ||
	    ((f = wire_find(reply, T_EXTCA_CACERT, 0)) != NULL &&
	    (out->extca_cacert = strndup((const char *)f->val, f->len)) == NULL) ||
	    (out->ca_key.len == 0 && out->extca_url == NULL) ||
	    get_fixed(reply, T_WORKER_SECRET, out->worker_secret,
	    sizeof(out->worker_secret)) != 0 ||
	    get_fixed(reply, T_MANAGER_SECRET, out->manager_secret,
	    sizeof(out->manager_secret)) != 0 ||
	    wire_get_u64(reply, T_CERT_EXPIRY, &out->cert_expiry) != 0 ||
	    wire_get_bool(reply, T_AUTOLOCK, &out->autolock) != 0 ||
	    wire_get_str(reply, T_ADVERTISE_ADDR, out->advertise, sizeof(out->advertise)) != 0 ||
	    wire_get_i64(reply, T_CREATED, &out->created) != 0) {
		cluster_record_clear(out);
		snprintf(why, whylen, "the store answered without the cluster record");
		return HUSH_E_PROTO;
	}
	out->ca_certlen = cert->len;
	out->has_kek = get_fixed(reply, T_KEK, out->kek, sizeof(out->kek)) == 0;
	if (cluster_rotation_decoded(reply, out) != 0) {
		cluster_record_clear(out);
		snprintf(why, whylen, "the store answered with a broken CA rotation");
		return HUSH_E_PROTO;
	}
	return 0;
}

int
store_cluster_read(struct op *op, enum store_view view, struct cluster_record *out,
    op_done_cb cb)
{
	struct wire_enc q;

	wire_enc_init(&q, QRY_CLUSTER, 0, 64);
	return store_send(op, &q, view == STORE_HERE ? RAFT_QUERY_HERE : RAFT_QUERY,
	    cluster_decoded, out, cb);
}

int
store_cluster_init(struct op *op, const struct new_cluster *c, op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_CLUSTER_INIT, 0, 65536);
	wire_put_bytes(&cmd, T_REQ_ID, c->req_id, HUSH_REQ_ID_LEN);
	wire_put_str(&cmd, T_CLUSTER_ID, c->cluster_id);
	wire_put_str(&cmd, T_CA_CERT, c->ca_cert);
	if (c->ca_key != NULL)
		wire_put_bytes(&cmd, T_CA_KEY, c->ca_key->p, c->ca_key->len);
	if (c->extca_url != NULL)
		wire_put_str(&cmd, T_EXTCA_URL, c->extca_url);
	if (c->extca_cacert != NULL)
		wire_put_str(&cmd, T_EXTCA_CACERT, c->extca_cacert);
	wire_put_bytes(&cmd, T_WORKER_SECRET, c->worker_secret, 16);
	wire_put_bytes(&cmd, T_MANAGER_SECRET, c->manager_secret, 16);
	wire_put_u64(&cmd, T_CERT_EXPIRY, c->cert_expiry);
	if (c->kek != NULL)
		wire_put_bytes(&cmd, T_KEK, c->kek->p, c->kek->len);
	wire_put_str(&cmd, T_NODE_ID, c->node_id);
	wire_put_str(&cmd, T_ADVERTISE_ADDR, c->advertise);
	wire_put_i64(&cmd, T_CREATED, parent_now());
	wire_put_bytes(&cmd, T_SEAL_PUB, c->seal_pub, SEAL_PUB_BYTES);
	return store_send(op, &cmd, RAFT_PROPOSE, NULL, NULL, cb);
}

int
store_ca_rotate(struct op *op, const struct ca_rotate_cmd *c, op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_CA_ROTATE, 0, 65536);
	wire_put_bytes(&cmd, T_REQ_ID, c->req_id, HUSH_REQ_ID_LEN);
	wire_put_bytes(&cmd, T_DIGEST, c->digest, 32);
	wire_put_str(&cmd, T_CA_NEXT, c->next_cert);
	if (c->next_key != NULL && c->next_key->len > 0)
		wire_put_bytes(&cmd, T_CA_NEXT_KEY, c->next_key->p, c->next_key->len);
	if (c->cross_cert != NULL)
		wire_put_str(&cmd, T_CA_CROSS, c->cross_cert);
	if (c->extca_url != NULL)
		wire_put_str(&cmd, T_EXTCA_URL, c->extca_url);
	if (c->extca_cacert != NULL)
		wire_put_str(&cmd, T_EXTCA_CACERT, c->extca_cacert);
	wire_put_i64(&cmd, T_CREATED, parent_now());
	return store_send(op, &cmd, RAFT_PROPOSE, NULL, NULL, cb);
}

int
store_ca_advance(struct op *op, const uint8_t digest[32], uint8_t phase,
    const uint8_t *worker_secret, const uint8_t *manager_secret, op_done_cb cb)
{
	uint8_t req_id[HUSH_REQ_ID_LEN];
	struct wire_enc cmd;

	/* The leader's own step, not a client's: a fresh id each time. */
	randombytes_buf(req_id, sizeof(req_id));
	wire_enc_init(&cmd, CMD_CA_ADVANCE, 0, 1024);
	wire_put_bytes(&cmd, T_REQ_ID, req_id, sizeof(req_id));
	wire_put_bytes(&cmd, T_DIGEST, digest, 32);
	wire_put_u8(&cmd, T_CA_PHASE, phase);
	if (worker_secret != NULL)
		wire_put_bytes(&cmd, T_WORKER_SECRET, worker_secret, 16);
	if (manager_secret != NULL)
		wire_put_bytes(&cmd, T_MANAGER_SECRET, manager_secret, 16);
	return store_send(op, &cmd, RAFT_PROPOSE, NULL, NULL, cb);
}

int
store_cluster_update(struct op *op, const struct store_cluster_change *c, op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_CLUSTER_UPDATE, 0, 1024);
	wire_put_bytes(&cmd, T_REQ_ID, c->req_id, HUSH_REQ_ID_LEN);
	if (c->set_autolock)
		wire_put_bool(&cmd, T_AUTOLOCK, c->autolock);
	if (c->kek != NULL)
		wire_put_bytes(&cmd, T_KEK, c->kek->p, c->kek->len);
	if (c->set_expiry)
		wire_put_u64(&cmd, T_CERT_EXPIRY, c->cert_expiry);
	return store_send(op, &cmd, RAFT_PROPOSE, NULL, NULL, cb);
}

int
store_token_rotate(struct op *op, const uint8_t *req_id, int role, const uint8_t secret[16],
    op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_TOKEN_ROTATE, 0, 256);
	wire_put_bytes(&cmd, T_REQ_ID, req_id, HUSH_REQ_ID_LEN);
	wire_put_bytes(&cmd, role == ROLE_MANAGER ? T_MANAGER_SECRET : T_WORKER_SECRET, secret,
	    16);
	return store_send(op, &cmd, RAFT_PROPOSE, NULL, NULL, cb);
}

/* ---- what a command's outcome says ---- */

void
store_applied_clear(struct store_applied *o)
{
	free(o->ids);
	memset(o, 0, sizeof(*o));
}

static void
applied_free(void *arg)
{
	store_applied_clear(arg);
	free(arg);
}

struct store_applied *
store_applied_in(struct op *op)
{
	struct store_applied *o = calloc(1, sizeof(*o));

	if (o != NULL) {
		op->ctx = o;
		op->ctx_free = applied_free;
	}
	return o;
}

/* The raft process names the ids a command was about as T_SECRET_ID, whatever they are. */
static int
applied_decoded(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	struct store_applied *out = arg;
	size_t n = wire_count(reply, T_SECRET_ID);

	if (n > 0 && (out->ids = calloc(n, sizeof(*out->ids))) == NULL) {
		snprintf(why, whylen, "%s", hush_strerror(HUSH_E_NOMEM));
		return HUSH_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++)
		wire_field_str(wire_find(reply, T_SECRET_ID, i), out->ids[i],
		    sizeof(out->ids[0]));
	out->nids = n;
	if (wire_get_bool(reply, T_DUPLICATE, &out->duplicate) != 0)
		out->duplicate = false;
	if (wire_get_u64(reply, T_RAFT_INDEX, &out->index) != 0)
		out->index = 0;
	return 0;
}

/* ---- pages ---- */

static void
page_free(void *arg)
{
	free(arg);
}

struct store_page *
store_page_in(struct op *op)
{
	struct store_page *pg = calloc(1, sizeof(*pg));

	if (pg != NULL) {
		op->ctx = pg;
		op->ctx_free = page_free;
	}
	return pg;
}

void
store_page_put_marks(struct wire_enc *e, const struct store_page *pg)
{
	if (pg->has_cursor)
		wire_put_str(e, T_CURSOR, pg->cursor);
	if (pg->has_count)
		wire_put_u32(e, T_COUNT, pg->count);
}

void
store_page_put(struct wire_enc *e, const struct store_page *pg)
{
	wire_put_bytes(e, T_RECORDS, pg->records, pg->len);
	store_page_put_marks(e, pg);
}

/* The page's list and marks; its records are checked by the caller. */
static int
page_take(const struct wire_msg *reply, struct store_page *out)
{
	if (wire_get_bytes(reply, T_RECORDS, &out->records, &out->len) != 0)
		return HUSH_E_PROTO;
	out->has_cursor = wire_get_str(reply, T_CURSOR, out->cursor, sizeof(out->cursor)) == 0;
	out->has_count = wire_get_u32(reply, T_COUNT, &out->count) == 0;
	return 0;
}

static int
record_ok(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	return 0;
}

/* The raft process that sends a malformed record is restarted, not believed. */
static int
misbehaved(struct op *op, const char *what, char *why, size_t whylen)
{
	child_kill(&op->p->raft, what);
	snprintf(why, whylen, "the raft process misbehaved and was restarted");
	return HUSH_E_UNAVAIL;
}

static int
secrets_decoded(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	if (msg_records_each(reply, T_SECRET, REC_SECRET, record_ok, NULL) != 0 ||
	    page_take(reply, arg) != 0)
		return misbehaved(op, "malformed secret record", why, whylen);
	return 0;
}

/* A service's record, and the grants nested in it, must be well formed. */
static int
service_ok(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	struct wire_msg *g = arg;
	char why[256];
	int r;

	for (size_t i = 0; i < wire_count(rec, T_GRANT); i++) {
		const struct wire_field *f = wire_find(rec, T_GRANT, i);

		if ((r = msg_parse_record(f->val, f->len, REC_SERVICE_GRANT, g, why,
		    sizeof(why))) != 0)
			return r;
	}
	return 0;
}

static int
services_decoded(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	struct wire_msg *g;
	int r;

	if ((g = malloc(sizeof(*g))) == NULL) {
		snprintf(why, whylen, "%s", hush_strerror(HUSH_E_NOMEM));
		return HUSH_E_NOMEM;
	}
	r = msg_records_each(reply, T_SERVICE, REC_SERVICE, service_ok, g);
	free(g);
	if (r != 0 || page_take(reply, arg) != 0)
		return misbehaved(op, "malformed service record", why, whylen);
	return 0;
}

static int
node_seen(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	const struct store_page *pg = arg;
	const struct wire_field *f;
	struct node_record n;

	memset(&n, 0, sizeof(n));
	/* The schema requires the id and the role, and holds the key to 32 bytes. */
	if (wire_get_str(rec, T_NODE_ID, n.id, sizeof(n.id)) != 0 ||
	    wire_get_u8(rec, T_ROLE, &n.role) != 0)
		return HUSH_E_PROTO;
	if (wire_get_str(rec, T_STATUS_TEXT, n.status, sizeof(n.status)) != 0)
		n.status[0] = '\0';
	if ((f = wire_find(rec, T_SEAL_PUB, 0)) != NULL && f->len == SEAL_PUB_BYTES)
		n.seal_pub = f->val;
	n.rec = rec;
	return pg->each != NULL ? pg->each(pg->arg, &n) : 0;
}

static int
nodes_decoded(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	int r;

	if ((r = msg_records_each(reply, T_NODE, REC_NODE, node_seen, arg)) != 0 ||
	    (r = page_take(reply, arg)) != 0) {
		snprintf(why, whylen, "a malformed node record was refused");
		return r;
	}
	return 0;
}

/* ---- disaster recovery ---- */

int
store_backup_mark(struct op *op, const uint8_t *req_id, struct store_applied *out,
    op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_BACKUP_MARK, 0, 128);
	wire_put_bytes(&cmd, T_REQ_ID, req_id, HUSH_REQ_ID_LEN);
	return store_send(op, &cmd, RAFT_PROPOSE, applied_decoded, out, cb);
}

int
store_load(struct op *op, const uint8_t *req_id, uint32_t version, bool first,
    const uint8_t *records, size_t len, op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_STORE_LOAD, 0, len + 1024);
	wire_put_bytes(&cmd, T_REQ_ID, req_id, HUSH_REQ_ID_LEN);
	wire_put_u32(&cmd, T_VERSION, version);
	wire_put_bool(&cmd, T_BOOTSTRAP, first);
	wire_put_bytes(&cmd, T_RECORDS, records, len);
	return store_send(op, &cmd, RAFT_PROPOSE, NULL, NULL, cb);
}

void
store_force_new_encode(struct wire_enc *cmd, size_t cap, const uint8_t *req_id,
    const char *node_id, const char *advertise, const uint8_t *seal_pub)
{
	wire_enc_init(cmd, CMD_FORCE_NEW_CLUSTER, 0, cap);
	wire_put_bytes(cmd, T_REQ_ID, req_id, HUSH_REQ_ID_LEN);
	wire_put_str(cmd, T_NODE_ID, node_id);
	wire_put_str(cmd, T_ADVERTISE_ADDR, advertise);
	wire_put_i64(cmd, T_CREATED, parent_now());
	if (seal_pub != NULL)
		wire_put_bytes(cmd, T_SEAL_PUB, seal_pub, SEAL_PUB_BYTES);
}

int
store_force_new(struct op *op, const uint8_t *req_id, const char *node_id,
    const char *advertise, const uint8_t *seal_pub, struct store_applied *out, op_done_cb cb)
{
	struct wire_enc cmd;

	store_force_new_encode(&cmd, 1024, req_id, node_id, advertise, seal_pub);
	return store_send(op, &cmd, RAFT_PROPOSE, applied_decoded, out, cb);
}

/* ---- nodes ---- */

int
store_node_join(struct op *op, const uint8_t *req_id, const char *node_id, int role,
    const char *advertise, const uint8_t *seal_pub, op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_NODE_ADD, 0, 1024);
	wire_put_bytes(&cmd, T_REQ_ID, req_id, HUSH_REQ_ID_LEN);
	wire_put_str(&cmd, T_NODE_ID, node_id);
	wire_put_u8(&cmd, T_ROLE, (uint8_t)role);
	wire_put_str(&cmd, T_ADVERTISE_ADDR, advertise);
	wire_put_i64(&cmd, T_CREATED, parent_now());
	wire_put_bytes(&cmd, T_SEAL_PUB, seal_pub, SEAL_PUB_BYTES);
	return store_send(op, &cmd, RAFT_PROPOSE, NULL, NULL, cb);
}

int
store_node_update(struct op *op, const struct store_node_change *c, op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_NODE_UPDATE, 0, 65536);
	wire_put_bytes(&cmd, T_REQ_ID, c->req_id, HUSH_REQ_ID_LEN);
	wire_put_str(&cmd, T_NODE_ID, c->node_id);
	if (c->seal_pub != NULL)
		wire_put_bytes(&cmd, T_SEAL_PUB, c->seal_pub, SEAL_PUB_BYTES);
	if (c->role != 0)
		wire_put_u8(&cmd, T_ROLE, (uint8_t)c->role);
	if (c->labels != NULL) {
		copy_all(&cmd, c->labels, T_LABEL);
		copy_all(&cmd, c->labels, T_LABEL_RM);
	}
	return store_send(op, &cmd, RAFT_PROPOSE, NULL, NULL, cb);
}

int
store_node_remove(struct op *op, const uint8_t *req_id, const char *node_id, op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_NODE_REMOVE, 0, 1024);
	wire_put_bytes(&cmd, T_REQ_ID, req_id, HUSH_REQ_ID_LEN);
	wire_put_str(&cmd, T_NODE_ID, node_id);
	return store_send(op, &cmd, RAFT_PROPOSE, NULL, NULL, cb);
}

int
store_node_list(struct op *op, enum store_view view, const char *cursor, node_record_fn each,
    void *arg, struct store_page *out, op_done_cb cb)
{
	struct wire_enc q;

	out->each = each;
	out->arg = arg;
	wire_enc_init(&q, QRY_NODE_LIST, 0, HUSH_CURSOR_MAX + 64);
	if (cursor != NULL)
		wire_put_str(&q, T_CURSOR, cursor);
	return store_send(op, &q, view == STORE_HERE ? RAFT_QUERY_HERE : RAFT_QUERY,
	    nodes_decoded, out, cb);
}

int
store_node_get(struct op *op, enum store_view view, const char *const *refs, size_t nrefs,
    const char *cursor, node_record_fn each, void *arg, struct store_page *out, op_done_cb cb)
{
	struct wire_enc q;

	out->each = each;
	out->arg = arg;
	wire_enc_init(&q, QRY_NODE_GET, 0, 65536);
	for (size_t i = 0; i < nrefs; i++)
		wire_put_str(&q, T_REF, refs[i]);
	if (cursor != NULL)
		wire_put_str(&q, T_CURSOR, cursor);
	return store_send(op, &q, view == STORE_HERE ? RAFT_QUERY_HERE : RAFT_QUERY,
	    nodes_decoded, out, cb);
}

/* ---- secrets ---- */

int
store_secret_create(struct op *op, const struct wire_msg *req, const char *id,
    struct store_applied *out, op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
	copy_all(&cmd, req, T_REQ_ID);
	wire_put_str(&cmd, T_SECRET_ID, id);
	copy_all(&cmd, req, T_NAME);
	copy_all(&cmd, req, T_DATA);
	copy_all(&cmd, req, T_LABEL);
	wire_put_i64(&cmd, T_CREATED, parent_now());
	return store_send(op, &cmd, RAFT_PROPOSE, applied_decoded, out, cb);
}

int
store_secret_update(struct op *op, const struct wire_msg *req, struct store_applied *out,
    op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_SECRET_UPDATE, 0, WIRE_MAX_MSG);
	copy_all(&cmd, req, T_REQ_ID);
	copy_all(&cmd, req, T_REF);
	copy_all(&cmd, req, T_DATA);
	wire_put_i64(&cmd, T_UPDATED, parent_now());
	return store_send(op, &cmd, RAFT_PROPOSE, applied_decoded, out, cb);
}

int
store_secret_rm(struct op *op, const struct wire_msg *req, struct store_applied *out,
    op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_SECRET_RM, 0, 65536);
	copy_all(&cmd, req, T_REQ_ID);
	copy_all(&cmd, req, T_REF);
	return store_send(op, &cmd, RAFT_PROPOSE, applied_decoded, out, cb);
}

int
store_secret_list(struct op *op, const char *cursor, struct store_page *out, op_done_cb cb)
{
	struct wire_enc q;

	wire_enc_init(&q, QRY_SECRET_LIST, 0, HUSH_CURSOR_MAX + 64);
	if (cursor != NULL)
		wire_put_str(&q, T_CURSOR, cursor);
	return store_send(op, &q, RAFT_QUERY, secrets_decoded, out, cb);
}

int
store_secret_get(struct op *op, const struct wire_msg *req, struct store_page *out,
    op_done_cb cb)
{
	struct wire_enc q;

	wire_enc_init(&q, QRY_SECRET_GET, 0, 65536);
	copy_all(&q, req, T_REF);
	return store_send(op, &q, RAFT_QUERY, secrets_decoded, out, cb);
}

/* ---- services ---- */

int
store_service_create(struct op *op, const struct wire_msg *req, const char *id,
    struct store_applied *out, op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_SERVICE_CREATE, 0, WIRE_MAX_MSG);
	copy_all(&cmd, req, T_REQ_ID);
	wire_put_str(&cmd, T_SERVICE_ID, id);
	copy_all(&cmd, req, T_NAME);
	wire_put_i64(&cmd, T_CREATED, parent_now());
	copy_all(&cmd, req, T_GRANT);
	copy_all(&cmd, req, T_CONSTRAINT);
	return store_send(op, &cmd, RAFT_PROPOSE, applied_decoded, out, cb);
}

int
store_service_update(struct op *op, const struct wire_msg *req, struct store_applied *out,
    op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_SERVICE_UPDATE, 0, WIRE_MAX_MSG);
	copy_all(&cmd, req, T_REQ_ID);
	copy_all(&cmd, req, T_REF);
	copy_all(&cmd, req, T_GRANT);
	copy_all(&cmd, req, T_SECRET_RM);
	copy_all(&cmd, req, T_CONSTRAINT);
	copy_all(&cmd, req, T_CONSTRAINT_RM);
	/* only the digest: the claim itself stays with hushctl (claim.h) */
	copy_all(&cmd, req, T_CLAIM_DIGEST);
	copy_all(&cmd, req, T_ROTATE);
	wire_put_i64(&cmd, T_UPDATED, parent_now());
	return store_send(op, &cmd, RAFT_PROPOSE, applied_decoded, out, cb);
}

int
store_service_rm(struct op *op, const struct wire_msg *req, struct store_applied *out,
    op_done_cb cb)
{
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_SERVICE_RM, 0, 65536);
	copy_all(&cmd, req, T_REQ_ID);
	copy_all(&cmd, req, T_REF);
	return store_send(op, &cmd, RAFT_PROPOSE, applied_decoded, out, cb);
}

int
store_service_list(struct op *op, const char *cursor, struct store_page *out, op_done_cb cb)
{
	struct wire_enc q;

	wire_enc_init(&q, QRY_SERVICE_LIST, 0, 65536);
	if (cursor != NULL)
		wire_put_str(&q, T_CURSOR, cursor);
	return store_send(op, &q, RAFT_QUERY, services_decoded, out, cb);
}

int
store_service_get(struct op *op, const struct wire_msg *req, struct store_page *out,
    op_done_cb cb)
{
	struct wire_enc q;

	wire_enc_init(&q, QRY_SERVICE_GET, 0, 65536);
	copy_all(&q, req, T_REF);
	return store_send(op, &q, RAFT_QUERY, services_decoded, out, cb);
}

/* ---- assignments ---- */

int
store_node_assignments(struct op *op, const char *node_id, const uint8_t *digest,
    const char *const *have, size_t nhave, op_done_cb cb)
{
	struct wire_enc q;

	wire_enc_init(&q, QRY_ASSIGNMENTS, 0, 65536);
	wire_put_str(&q, T_NODE_ID, node_id);
	if (digest != NULL)
		wire_put_bytes(&q, T_DIGEST, digest, 32);
	for (size_t i = 0; i < nhave; i++)
		wire_put_str(&q, T_HAVE, have[i]);
	return store_send(op, &q, RAFT_QUERY_HERE, NULL, NULL, cb);
}
