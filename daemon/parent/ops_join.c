/*
 * Joining a cluster, both ends.
 *
 * The join token never leaves the joiner's parent.  Its digest half pins
 * the manager's CA (the joiner's net checks it); its secret half keys an
 * HMAC over the request (join_proof()), which the manager's parent checks
 * against both tokens' secrets.  Neither net process, which terminate the
 * TLS in between, holds the secret, so neither can forge a request, change
 * one, or use a token it saw pass.
 *
 * Manager side (join_serve): net has already shown the joiner our CA and
 * read its request.  The proof is checked in constant time against the
 * store's current secrets (so a rotated token fails at once), the role
 * comes from which secret matched, pki signs the CSR, the node is committed
 * to the store with its sealing key, and -- for a manager -- the cluster's
 * DEK (and KEK) go back sealed to that sealing key (seal_key.c), which the
 * joiner's parent holds and its net does not.  The raft leader then adds
 * the new manager to its configuration by itself (daemon/raft/membership.c).
 *
 * Joiner side (op_join): make a TLS key and CSR and a sealing key, prove
 * the token, let net run the protocol, check what came back, and persist
 * it exactly like init does.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "disk_space.h"
#include "err.h"
#include "join_token.h"
#include "keyring.h"
#include "log.h"
#include "net_calls.h"
#include "parent.h"
#include "node_sign.h"
#include "pki_calls.h"
#include "store_calls.h"
#include "x509.h"

#define JOIN_PROOF_DOMAIN	"hush-join-proof-1"

static void
hmac_len(crypto_auth_hmacsha256_state *st, size_t len)
{
	uint8_t n[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	    (uint8_t)len };

	crypto_auth_hmacsha256_update(st, n, sizeof(n));
}

/*
 * What a join request carries instead of its token: HMAC-SHA256 under the
 * token's secret over everything the manager acts on -- the CSR it signs,
 * the sealing key it records and seals the cluster's keys to, the address
 * it records -- each behind its length.
 */
static void
join_proof(const uint8_t secret[JOIN_TOKEN_SECRET_BYTES], const uint8_t *csr, size_t csrlen,
    const uint8_t seal_pub[SEAL_PUB_BYTES], const char *advertise,
    uint8_t out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, secret, JOIN_TOKEN_SECRET_BYTES);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)JOIN_PROOF_DOMAIN,
	    sizeof(JOIN_PROOF_DOMAIN));
	hmac_len(&st, csrlen);
	crypto_auth_hmacsha256_update(&st, csr, csrlen);
	crypto_auth_hmacsha256_update(&st, seal_pub, SEAL_PUB_BYTES);
	hmac_len(&st, strlen(advertise));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)advertise, strlen(advertise));
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* ---- manager side ----------------------------------------------------- */

struct serve_ctx {
	uint32_t	 net_req;
	uint8_t		 proof[32];
	uint8_t		 seal_pub[SEAL_PUB_BYTES];
	uint8_t		*csr;
	size_t		 csrlen;
	char		 advertise[263];
	char		 peer[263];
	uint8_t		 role;
	char		 node_id[HUSH_ID_LEN + 1];
	struct pki_cert	 cert;		/* what pki issued for it */
	struct cluster_record cluster;	/* the leader's record: the tokens' secrets */
	bool		 autolock;
	uint8_t		 kek[32];
};

static void
serve_ctx_free(void *arg)
{
	struct serve_ctx *x = arg;

	free(x->csr);
	pki_cert_clear(&x->cert);
	cluster_record_clear(&x->cluster);
	sodium_memzero(x, sizeof(*x));
	free(x);
}

static void
serve_fail(struct op *op, int code, const char *detail)
{
	struct serve_ctx *x = op->ctx;

	log_warn("refused a join from %s: %s", x->peer, detail ? detail : hush_strerror(code));
	child_answer_error(&op->p->net, x->net_req, code, detail);
	op_free(op);
}

#define SEALED_KEY_MAX	(64 + crypto_box_SEALBYTES)

/* key sealed to seal_pub, a node's sealing key (seal_key.c), into box. */
static int
seal_to(uint8_t box[SEALED_KEY_MAX], size_t *boxlen, const uint8_t seal_pub[SEAL_PUB_BYTES],
    const uint8_t *key, size_t keylen)
{
	if (keylen > 64)
		return HUSH_E_TOOBIG;
	if (crypto_box_seal(box, key, keylen, seal_pub) != 0)
		return HUSH_E_CRYPTO;
	*boxlen = keylen + crypto_box_SEALBYTES;
	return 0;
}

/* key sealed to seal_pub as tag of e. */
static int
put_sealed(struct wire_enc *e, uint16_t tag, const uint8_t seal_pub[SEAL_PUB_BYTES],
    const uint8_t *key, size_t keylen)
{
	uint8_t box[SEALED_KEY_MAX];
	size_t len;
	int r;

	if ((r = seal_to(box, &len, seal_pub, key, keylen)) == 0)
		wire_put_bytes(e, tag, box, len);
	return r;
}

/* The cluster's DEK, and KEK under autolock, sealed to a node's sealing key. */
int
join_wrap_keys(struct parent *p, struct wire_enc *e, const uint8_t seal_pub[SEAL_PUB_BYTES])
{
	struct secbuf dek = SECBUF_INIT, kek = SECBUF_INIT;
	int r;

	if ((r = keyring_get(KEY_DEK, &dek)) == 0)
		r = put_sealed(e, T_DEK, seal_pub, dek.p, dek.len);
	if (r == 0 && p->settings.autolock && (r = keyring_get(KEY_KEK, &kek)) == 0)
		r = put_sealed(e, T_KEK, seal_pub, kek.p, kek.len);
	secbuf_free(&dek);
	secbuf_free(&kek);
	return r;
}

static void
serve_committed(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct serve_ctx *x = op->ctx;
	struct secbuf dek = SECBUF_INIT;
	struct net_join_grant g;
	uint8_t dek_box[SEALED_KEY_MAX], kek_box[SEALED_KEY_MAX];
	int r = 0;

	if (status != 0) {
		serve_fail(op, status, detail);
		return;
	}
	g = (struct net_join_grant){
		.node_id = x->node_id,
		.cluster_id = p->node.cluster_id,
		.cert = x->cert.pem,
		.chain = x->cert.chain,
		.role = x->role,
		.cert_not_after = x->cert.not_after,
	};
	/* Ids and addresses of the managers, so the new node's raft answers the
	 * leader at its advertised address from the very first message. */
	if (p->view.nmanagers == p->view.nmanager_ids && p->view.nmanagers > 0) {
		for (size_t i = 0; i < p->view.nmanagers; i++) {
			g.managers[i] = p->view.managers[i];
			g.manager_ids[i] = p->view.manager_ids[i];
		}
		g.nmanagers = p->view.nmanagers;
	} else {
		g.managers[0] = p->node.advertise;
		g.manager_ids[0] = p->node.node_id;
		g.nmanagers = 1;
	}
	if (x->role == ROLE_MANAGER) {
		if ((r = keyring_get(KEY_DEK, &dek)) == 0 &&
		    (r = seal_to(dek_box, &g.dek_sealed_len, x->seal_pub, dek.p, dek.len)) == 0)
			g.dek_sealed = dek_box;
		if (r == 0 && x->autolock &&
		    (r = seal_to(kek_box, &g.kek_sealed_len, x->seal_pub, x->kek,
		    sizeof(x->kek))) == 0)
			g.kek_sealed = kek_box;
		secbuf_free(&dek);
	}
	if (r != 0) {
		serve_fail(op, r, "cannot hand over the cluster keys");
		return;
	}
	log_info("node %s joined from %s as a %s", x->node_id, x->peer,
	    x->role == ROLE_MANAGER ? "manager" : "worker");
	net_join_serve_answer(p, x->net_req, &g);
	op_free(op);
}

static void
serve_signed(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct serve_ctx *x = op->ctx;
	uint8_t req_id[16];
	int r;

	if (status != 0) {
		serve_fail(op, status, detail);
		return;
	}
	randombytes_buf(req_id, sizeof(req_id));
	if ((r = store_node_join(op, req_id, x->node_id, x->role, x->advertise, x->seal_pub,
	    serve_committed)) != 0)
		serve_fail(op, r, "cannot record the new node");
}

static void
serve_checked(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct serve_ctx *x = op->ctx;
	const uint8_t *w = x->cluster.worker_secret, *m = x->cluster.manager_secret;
	struct pki_issue_req req;
	int r;

	if (status != 0) {
		serve_fail(op, status, detail);
		return;
	}
	/* Check against both, always, so timing says nothing about which. */
	{
		uint8_t pw[32], pm[32];
		bool is_w, is_m;

		join_proof(w, x->csr, x->csrlen, x->seal_pub, x->advertise, pw);
		join_proof(m, x->csr, x->csrlen, x->seal_pub, x->advertise, pm);
		is_w = crypto_verify_32(pw, x->proof) == 0;
		is_m = crypto_verify_32(pm, x->proof) == 0;
		sodium_memzero(pw, sizeof(pw));
		sodium_memzero(pm, sizeof(pm));
		x->role = is_m ? ROLE_MANAGER : is_w ? ROLE_WORKER : 0;
	}
	if (x->role == 0) {
		serve_fail(op, HUSH_E_PERM, "invalid join token");
		return;
	}
	if (x->cluster.autolock && x->cluster.has_kek) {
		x->autolock = true;
		memcpy(x->kek, x->cluster.kek, 32);
	}
	if (hush_id_new(x->node_id) != 0) {
		serve_fail(op, HUSH_E_CRYPTO, NULL);
		return;
	}
	req = (struct pki_issue_req){ .csr = x->csr, .csrlen = x->csrlen,
	    .node_id = x->node_id, .role = x->role, .cluster_id = p->node.cluster_id,
	    .lifetime = x->cluster.cert_expiry };
	if ((r = node_sign(op, &req, &x->cert, serve_signed)) != 0)
		serve_fail(op, r, "no CA can sign for this node now");
}

void
join_serve(struct parent *p, const struct wire_msg *m)
{
	struct serve_ctx *x;
	struct op *op;
	const uint8_t *csr, *b;
	size_t len;
	int r;

	if ((x = calloc(1, sizeof(*x))) == NULL || (op = calloc(1, sizeof(*op))) == NULL) {
		free(x);
		child_answer_error(&p->net, m->hdr.request_id, HUSH_E_NOMEM, NULL);
		return;
	}
	op->p = p;
	op->ctx = x;
	op->ctx_free = serve_ctx_free;
	x->net_req = m->hdr.request_id;
	wire_get_str(m, T_ADDRESS, x->peer, sizeof(x->peer));
	wire_get_str(m, T_ADVERTISE_ADDR, x->advertise, sizeof(x->advertise));
	if (p->node.role != ROLE_MANAGER || p->state != PS_READY || p->store.phase != RAFT_UP ||
	    !p->settings.have_digest) {
		serve_fail(op, HUSH_E_UNAVAIL, "this manager is not ready to accept nodes");
		return;
	}
	/* the schema holds the proof and the sealing key to 32 bytes */
	if (wire_get_bytes(m, T_JOIN_PROOF, &b, &len) != 0 || len != sizeof(x->proof)) {
		serve_fail(op, HUSH_E_PERM, "invalid join token");
		return;
	}
	memcpy(x->proof, b, sizeof(x->proof));
	if (wire_get_bytes(m, T_SEAL_PUB, &b, &len) != 0 || len != sizeof(x->seal_pub)) {
		serve_fail(op, HUSH_E_PROTO, "a join request without a sealing key");
		return;
	}
	memcpy(x->seal_pub, b, sizeof(x->seal_pub));
	if (wire_get_bytes(m, T_CSR, &csr, &x->csrlen) != 0 ||
	    (x->csr = malloc(x->csrlen)) == NULL) {
		serve_fail(op, HUSH_E_NOMEM, NULL);
		return;
	}
	memcpy(x->csr, csr, x->csrlen);
	/* The leader's view: a token rotated a moment ago must already fail. */
	if ((r = store_cluster_read(op, STORE_LEADER, &x->cluster, serve_checked)) != 0)
		serve_fail(op, r, NULL);
}

/* ---- joiner side ------------------------------------------------------ */

struct join_ctx {
	struct secbuf	 node_key;
	struct secbuf	 seal_key;	/* this node's sealing key, made here */
	char		 remote[263];
	struct net_join_result res;	/* the manager's answer */
};

static void
join_ctx_free(void *arg)
{
	struct join_ctx *x = arg;

	secbuf_free(&x->node_key);
	secbuf_free(&x->seal_key);
	net_join_result_clear(&x->res);
	free(x);
}

static void
join_fail(struct op *op, int code, const char *detail)
{
	struct parent *p = op->p;

	log_err("join failed: %s", detail && *detail ? detail : hush_strerror(code));
	/* Before its files were written; after, the join is done and this is the store. */
	if (p->state == PS_INITIALIZING)
		(void)node_event(p, NE_SETUP_FAILED);
	op_error(op, code, detail);
}

static void
join_reply(struct op *op)
{
	struct parent *p = op->p;
	struct wire_enc e;

	wire_enc_init(&e, CTL_JOIN | MSG_REPLY, op->client_req, 256);
	wire_put_str(&e, T_NODE_ID, p->node.node_id);
	wire_put_str(&e, T_CLUSTER_ID, p->node.cluster_id);
	wire_put_u8(&e, T_ROLE, (uint8_t)p->node.role);
	op_reply(op, &e);
}

static void
join_raft_ready(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	join_reply(op);
}

/* A 32-byte key sealed to this node's sealing key, opened; blob NULL: none came. */
static int
unwrap_key(const uint8_t *blob, size_t len, struct secbuf *out)
{
	int r;

	if (blob == NULL)
		return HUSH_E_NOTFOUND;
	if ((r = seal_key_open(blob, len, out)) != 0)
		return r;
	if (out->len != 32) {
		secbuf_free(out);
		return HUSH_E_FORMAT;
	}
	return 0;
}

/* tag of m (T_DEK or T_KEK), sealed to this node's sealing key, opened. */
int
join_unwrap(const struct wire_msg *m, uint16_t tag, struct secbuf *out)
{
	const uint8_t *blob;
	size_t len;

	if (wire_get_bytes(m, tag, &blob, &len) != 0)
		return HUSH_E_NOTFOUND;
	return unwrap_key(blob, len, out);
}

/* Check the result, then persist it the way init does. */
static int
join_persist(struct op *op, char *why, size_t whylen)
{
	struct parent *p = op->p;
	struct join_ctx *x = op->ctx;
	const struct net_join_result *res = &x->res;
	struct secbuf dek = SECBUF_INIT, kek = SECBUF_INIT;
	struct x509_cert_info info;
	const char *cert = res->cert, *ca = res->ca;
	char *full = x509_bundle_join(res->cert, res->chain);
	uint8_t role = res->role;
	int r;

	/* net_join() refused an answer that lacks any of these. */
	snprintf(p->node.node_id, sizeof(p->node.node_id), "%s", res->node_id);
	snprintf(p->node.cluster_id, sizeof(p->node.cluster_id), "%s", res->cluster_id);
	p->node.cert_not_after = res->cert_not_after;
	if (full == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	/* ca: the roots the manager trusts, which net pinned by the token's digest. */
	if ((r = x509_verify_chain(full, strlen(full), ca, strlen(ca), parent_now(), NULL,
	    why, whylen)) != 0 ||
	    (r = x509_cert_info(cert, strlen(cert), &info)) != 0)
		goto out;
	if (!x509_cert_matches_key(cert, strlen(cert), &x->node_key) ||
	    strcmp(info.subject.cn, p->node.node_id) != 0 ||
	    strcmp(info.subject.o, p->node.cluster_id) != 0 ||
	    (role != ROLE_MANAGER && role != ROLE_WORKER)) {
		snprintf(why, whylen, "the certificate the manager issued does not match this "
		    "node's key, id or cluster");
		r = HUSH_E_AUTH;
		goto out;
	}
	p->node.role = role;
	/* In the keyring first: the cluster's keys come sealed to it. */
	if ((r = keyring_put(KEY_SEAL, x->seal_key.p, x->seal_key.len)) != 0) {
		snprintf(why, whylen, "cannot store keys in the kernel keyring");
		goto out;
	}
	if (role == ROLE_MANAGER) {
		if ((r = unwrap_key(res->dek_sealed, res->dek_sealed_len, &dek)) != 0) {
			snprintf(why, whylen, "the manager did not hand over the cluster's data key");
			goto out;
		}
		r = unwrap_key(res->kek_sealed, res->kek_sealed_len, &kek);
		if (r != 0 && r != HUSH_E_NOTFOUND) {
			snprintf(why, whylen, "the cluster's unlock key does not open");
			goto out;
		}
		p->settings.autolock = r == 0;
	} else {
		/* A worker holds no store; its data key protects nothing yet. */
		if ((r = secbuf_alloc(&dek, 32)) != 0)
			goto out;
		randombytes_buf(dek.p, dek.len);
		p->settings.autolock = false;
	}
	p->view.nmanagers = p->view.nmanager_ids = 0;
	for (size_t i = 0; i < res->nmanagers; i++)
		snprintf(p->view.managers[p->view.nmanagers++], sizeof(p->view.managers[0]), "%s",
		    res->managers[i]);
	for (size_t i = 0; i < res->nmanager_ids; i++)
		snprintf(p->view.manager_ids[p->view.nmanager_ids++],
		    sizeof(p->view.manager_ids[0]), "%s", res->manager_ids[i]);
	if ((r = keyfile_write(p->cfg.state_dir, &dek, &x->node_key, &x->seal_key,
	    p->settings.autolock ? kek.p : NULL)) != 0 ||
	    (r = node_state_write_cert(p->cfg.state_dir, "ca.crt", ca)) != 0 ||
	    (r = node_state_write_cert(p->cfg.state_dir, "node.crt", full)) != 0) {
		snprintf(why, whylen, "cannot write this node's keys and certificates: %s",
		    hush_strerror(r));
		goto out;
	}
	if ((r = keyring_put(KEY_DEK, dek.p, dek.len)) != 0 ||
	    (r = keyring_put(KEY_NODE, x->node_key.p, x->node_key.len)) != 0 ||
	    (p->settings.autolock && (r = keyring_put(KEY_KEK, kek.p, kek.len)) != 0)) {
		snprintf(why, whylen, "cannot store keys in the kernel keyring");
		goto out;
	}
	for (size_t i = 0; i < p->view.nmanagers && i < NODE_MAX_MANAGERS; i++)
		snprintf(p->node.managers[i], sizeof(p->node.managers[0]), "%s", p->view.managers[i]);
	p->node.nmanagers = p->view.nmanagers < NODE_MAX_MANAGERS ? p->view.nmanagers : NODE_MAX_MANAGERS;
	p->node.initialized = true;
	if ((r = node_state_save(p->cfg.state_dir, &p->node)) != 0) {
		p->node.initialized = false;
		snprintf(why, whylen, "cannot write node.json");
	}
out:
	secbuf_free(&dek);
	secbuf_free(&kek);
	free(full);
	return r;
}

static void
joined(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	char why[512] = "";
	int r;

	if (status != 0) {
		join_fail(op, status, detail);
		return;
	}
	r = join_persist(op, why, sizeof(why));
	net_join_result_clear(&((struct join_ctx *)op->ctx)->res);	/* persisted or refused */
	if (r != 0) {
		join_fail(op, r, why);
		return;
	}
	log_info("joined cluster %s as %s %s", p->node.cluster_id,
	    p->node.role == ROLE_MANAGER ? "manager" : "worker", p->node.node_id);
	/* A worker is READY; a manager STARTING, its net and store starting. */
	(void)node_event(p, NE_SETUP_DONE);
	if (p->node.role == ROLE_WORKER) {
		join_reply(op);
		return;
	}
	lifecycle_wait_ready(p, op, join_raft_ready);
}

void
op_join(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct join_ctx *x;
	struct net_join_req req;
	struct join_token t;
	char token[JOIN_TOKEN_LEN + 1], addr[ADDR_MAX + 1], why[PATH_MAX + 128];
	uint8_t *csr = NULL, seal_pub[SEAL_PUB_BYTES], proof[crypto_auth_hmacsha256_BYTES];
	size_t csrlen;
	int r;

	/*
	 * The role comes with the manager's answer, after the cluster counted
	 * this node in: ask here for what either role needs.  A manager's raft
	 * store that finds too little room waits for it (raft_proc.c), and
	 * 'hushctl status' says how much is free.
	 */
	if (disk_check(p->cfg.state_dir, NULL, HUSH_DISK_FLOOR, why, sizeof(why)) ==
	    HUSH_E_NOSPACE) {
		op_error(op, HUSH_E_NOSPACE, why);
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	op->ctx = x;
	op->ctx_free = join_ctx_free;
	wire_get_str(m, T_TOKEN, token, sizeof(token));
	r = join_token_parse(token, strlen(token), &t, why, sizeof(why));
	sodium_memzero(token, sizeof(token));
	if (r != 0) {
		sodium_memzero(&t, sizeof(t));
		op_error(op, r, why);
		return;
	}
	wire_get_str(m, T_ADDRESS, addr, sizeof(addr));
	if (addr_normalize(addr, HUSH_DEFAULT_PORT, x->remote, sizeof(x->remote), why,
	    sizeof(why)) != 0) {
		op_error(op, HUSH_E_INVAL, why);
		return;
	}
	if ((r = setup_addresses(p, m, why, sizeof(why))) != 0) {
		sodium_memzero(&t, sizeof(t));
		op_error(op, r, why);
		return;
	}
	if ((r = x509_key_generate(&x->node_key)) != 0 ||
	    (r = x509_csr_create(&x->node_key, &csr, &csrlen)) != 0 ||
	    (r = seal_key_new(&x->seal_key, seal_pub)) != 0) {
		sodium_memzero(&t, sizeof(t));
		free(csr);
		op_error(op, r, "cannot create the node key");
		return;
	}
	/* The token stays here: net gets the CA digest and the proof. */
	join_proof(t.secret, csr, csrlen, seal_pub, p->node.advertise, proof);
	(void)node_event(p, NE_SETUP_BEGIN);
	req = (struct net_join_req){
		.addr = x->remote,
		.digest = t.digest,
		.digestlen = sizeof(t.digest),
		.csr = csr,
		.csrlen = csrlen,
		.seal_pub = seal_pub,
		.proof = proof,
		.prooflen = sizeof(proof),
		.advertise = p->node.advertise,
	};
	r = net_join(op, &req, &x->res, joined);
	sodium_memzero(&t, sizeof(t));
	free(csr);
	if (r != 0)
		join_fail(op, r, "the net process is not available");
}
