/*
 * hushctl init: create a cluster of one manager.
 *
 *   1. pki creates the root CA                    (PKI_CA_CREATE)
 *   2. we make the node key and CSR; pki signs it (PKI_ISSUE)
 *   3. DEK (+ KEK with autolock) -> node.keys, certificates, keyring
 *   4. raft bootstraps as the only voter          (RAFTP_START)
 *   5. the cluster record is committed            (CMD_CLUSTER_INIT)
 *   6. node.json is written: from now on the node is initialized
 *
 * With an external CA (--external-ca, --ca-cert) step 1 loads the root the
 * operator gave into pki, without a key, and step 2's CSR goes to that CA
 * through net (node_sign.c); the cluster record keeps the CA's URL, and no
 * root key exists anywhere in the cluster.
 *
 * A failure before step 6 rolls back what was written, so init can simply
 * be run again.
 */
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfssl.h"
#include "disk_space.h"
#include "err.h"
#include "join_token.h"
#include "log.h"
#include "node_sign.h"
#include "parent.h"
#include "pki/pki.h"
#include "pki_calls.h"
#include "raft/raft_proc.h"
#include "store_calls.h"
#include "x509.h"

struct init_ctx {
	uint8_t		 req_id[16];
	uint8_t		 seal_pub[32];	/* this node's, for the node table */
	bool		 autolock;
	uint64_t	 expiry;
	struct pki_ca	 ca;		/* the new root CA */
	struct pki_cert	 cert;		/* this node's */
	struct secbuf	 node_key;
	struct secbuf	 kek;
	uint8_t		 worker[16], manager[16];
	/* an external CA signs: its URL and the PEM its TLS chains to (or NULL) */
	char		*extca_url;
	char		*extca_cacert;
	/* --ca-cert and --ca-key as the operator gave them, for pki to check */
	uint8_t		*own_cert, *own_key;
	size_t		 own_certlen, own_keylen;
	struct pki_rotation own;	/* ...and as pki checked them */
};

static void
init_ctx_free(void *arg)
{
	struct init_ctx *x = arg;

	pki_ca_clear(&x->ca);
	pki_cert_clear(&x->cert);
	secbuf_free(&x->node_key);
	secbuf_free(&x->kek);
	free(x->extca_url);
	free(x->extca_cacert);
	free(x->own_cert);
	if (x->own_key != NULL)
		sodium_memzero(x->own_key, x->own_keylen);
	free(x->own_key);
	pki_rotation_clear(&x->own);
	sodium_memzero(x, sizeof(*x));
	free(x);
}


static void
init_fail(struct op *op, int code, const char *detail)
{

	log_err("init failed: %s", detail && *detail ? detail : hush_strerror(code));
	/* Undoes whatever was written: files, keys, the store, the pki's CA. */
	(void)node_event(op->p, NE_SETUP_FAILED);
	op_error(op, code, detail);
}

static void
init_committed(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct init_ctx *x = op->ctx;
	struct join_token t;
	struct wire_enc e;
	char tok[JOIN_TOKEN_LEN + 1];
	int r;

	if (status != 0) {
		init_fail(op, status, detail);
		return;
	}
	p->node.initialized = true;
	if ((r = node_state_save(p->cfg.state_dir, &p->node)) != 0) {
		p->node.initialized = false;
		init_fail(op, r, "cannot write node.json");
		return;
	}
	p->settings.autolock = x->autolock;
	p->settings.cert_expiry = x->expiry;
	memcpy(p->settings.token_digest, x->ca.digest, 32);
	p->settings.have_digest = true;
	log_info("initialized cluster %s; this node (%s) is its first manager",
	    p->node.cluster_id, p->node.node_id);
	(void)node_event(p, NE_SETUP_DONE);

	wire_enc_init(&e, CTL_INIT | MSG_REPLY, op->client_req, 4096);
	wire_put_str(&e, T_NODE_ID, p->node.node_id);
	wire_put_str(&e, T_CLUSTER_ID, p->node.cluster_id);
	memcpy(t.digest, x->ca.digest, 32);
	memcpy(t.secret, x->worker, 16);
	join_token_format(&t, tok, sizeof(tok));
	wire_put_str(&e, T_WORKER_TOKEN, tok);
	memcpy(t.secret, x->manager, 16);
	join_token_format(&t, tok, sizeof(tok));
	wire_put_str(&e, T_MANAGER_TOKEN, tok);
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(tok, sizeof(tok));
	wire_put_str(&e, T_ADVERTISE_ADDR, p->node.advertise);
	if (x->autolock)
		wire_put_bytes(&e, T_KEK, x->kek.p, x->kek.len);
	op_reply(op, &e);
}

static void
init_raft_ready(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct init_ctx *x = op->ctx;
	struct new_cluster c;
	int r;

	if (status != 0) {
		init_fail(op, status, detail);
		return;
	}
	c = (struct new_cluster){ .req_id = x->req_id, .cluster_id = p->node.cluster_id,
	    .ca_cert = x->ca.cert, .ca_key = x->extca_url == NULL ? &x->ca.key : NULL,
	    .extca_url = x->extca_url, .extca_cacert = x->extca_cacert,
	    .worker_secret = x->worker,
	    .manager_secret = x->manager, .cert_expiry = x->expiry,
	    .kek = x->autolock ? &x->kek : NULL, .node_id = p->node.node_id,
	    .advertise = p->node.advertise, .seal_pub = x->seal_pub };
	if ((r = store_cluster_init(op, &c, init_committed)) != 0)
		init_fail(op, r, "cannot propose the cluster record");
}

/* Step 3: everything a restart needs goes to disk and the keyring. */
static int
init_persist(struct op *op, const char *node_cert, char *why, size_t whylen)
{
	struct init_ctx *x = op->ctx;
	struct secbuf dek = SECBUF_INIT;
	struct setup_keys k;
	int r;

	if ((r = secbuf_alloc(&dek, 32)) != 0)
		return r;
	randombytes_buf(dek.p, dek.len);
	k = (struct setup_keys){ .dek = &dek, .node_key = &x->node_key,
	    .kek = x->autolock ? x->kek.p : NULL, .ca_cert = x->ca.cert,
	    .node_cert = node_cert };
	r = setup_persist(op->p, &k, x->seal_pub, why, whylen);
	secbuf_free(&dek);
	return r;
}

static void
init_issued(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct init_ctx *x = op->ctx;
	char why[512];
	int r;

	if (status != 0) {
		init_fail(op, status, detail);
		return;
	}
	p->node.cert_not_after = x->cert.not_after;
	if ((r = init_persist(op, x->cert.pem, why, sizeof(why))) != 0) {
		init_fail(op, r, why);
		return;
	}
	setup_start_store(op, init_raft_ready);
}

static void
init_ca_created(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct init_ctx *x = op->ctx;
	char why[300];
	int r;

	if (status != 0) {
		init_fail(op, status, detail);
		return;
	}
	/* The pki process keeps the CA it made: the store gets it at commit. */
	p->settings.ca = PKI_CA_LOADED;
	if ((r = setup_issue(op, &x->node_key, &x->cert, x->expiry, init_issued, why,
	    sizeof(why))) != 0)
		init_fail(op, r, why);
}

/*
 * --ca-cert and --ca-key: the operator's own root.  pki checks them (a CA
 * that can sign, valid, the key its own) and hands them back canonical, as
 * for a rotation to an own root (PKI_CA_ROTATE with no root loaded yet).
 */
static int
init_own_root(struct init_ctx *x, const struct wire_msg *m, char *why, size_t whylen)
{
	const struct wire_field *ca = wire_find(m, T_CA_CERT, 0);
	const struct wire_field *key = wire_find(m, T_CA_KEY, 0);

	if (ca == NULL && key == NULL)
		return 0;
	if (ca == NULL || key == NULL) {
		snprintf(why, whylen, "an own root needs both --ca-cert and --ca-key");
		return HUSH_E_INVAL;
	}
	if ((x->own_cert = malloc(ca->len)) == NULL || (x->own_key = malloc(key->len)) == NULL)
		return HUSH_E_NOMEM;
	memcpy(x->own_cert, ca->val, ca->len);
	memcpy(x->own_key, key->val, key->len);
	x->own_certlen = ca->len;
	x->own_keylen = key->len;
	return 0;
}

/* The own root, checked: into pki as the cluster's root, as a new one would be. */
static void
init_own_checked(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct init_ctx *x = op->ctx;
	int r;

	if (status != 0) {
		init_fail(op, status, detail);
		return;
	}
	x->ca.cert = x->own.next;
	x->own.next = NULL;
	x->ca.key = x->own.next_key;
	x->own.next_key = (struct secbuf)SECBUF_INIT;
	if ((r = pki_ca_load(op, (const uint8_t *)x->ca.cert, strlen(x->ca.cert), x->ca.key.p,
	    x->ca.key.len, x->ca.digest, init_ca_created)) != 0)
		init_fail(op, r, "the pki process is not available");
}

/*
 * --external-ca: the root it issues under (T_CA_CERT, a CA certificate
 * valid now) and where it is; never a root key.  The root's digest is
 * the join tokens' digest, as for a root hush makes.
 */
static int
init_external(struct init_ctx *x, const struct wire_msg *m, char *why, size_t whylen)
{
	const struct wire_field *url = wire_find(m, T_EXTCA_URL, 0);
	const struct wire_field *ca = wire_find(m, T_CA_CERT, 0);
	const struct wire_field *cab = wire_find(m, T_EXTCA_CACERT, 0);
	struct x509_cert_info info;
	struct cfssl_url u;
	int64_t now = parent_now();
	int r;

	if (url == NULL)
		return init_own_root(x, m, why, whylen);
	if (wire_find(m, T_CA_KEY, 0) != NULL) {
		snprintf(why, whylen, "--ca-key cannot go with --external-ca: the external CA "
		    "holds the root's key, and it must never enter the cluster");
		return HUSH_E_INVAL;
	}
	if (ca == NULL) {
		snprintf(why, whylen, "--external-ca needs --ca-cert: the root certificate "
		    "the external CA issues under");
		return HUSH_E_INVAL;
	}
	if ((x->extca_url = strndup((const char *)url->val, url->len)) == NULL ||
	    (x->ca.cert = strndup((const char *)ca->val, ca->len)) == NULL ||
	    (cab != NULL && (x->extca_cacert = strndup((const char *)cab->val,
	    cab->len)) == NULL))
		return HUSH_E_NOMEM;
	if ((r = cfssl_url_parse(x->extca_url, &u, why, whylen)) != 0)
		return r;
	if (x509_cert_info(x->ca.cert, strlen(x->ca.cert), &info) != 0 || !info.is_ca) {
		snprintf(why, whylen, "--ca-cert is not one PEM CA certificate");
		return HUSH_E_INVAL;
	}
	if (info.not_before > now || info.not_after <= now) {
		snprintf(why, whylen, "--ca-cert is not valid now (it is valid from %lld to "
		    "%lld)", (long long)info.not_before, (long long)info.not_after);
		return HUSH_E_INVAL;
	}
	return join_token_digest_pem(x->ca.cert, strlen(x->ca.cert), x->ca.digest);
}

void
op_init(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct init_ctx *x;
	const uint8_t *req_id;
	char why[PATH_MAX + 128];
	size_t len;
	int r;

	/* At once, before anything is created: the raft log needs its room. */
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
	op->ctx_free = init_ctx_free;
	wire_get_bytes(m, T_REQ_ID, &req_id, &len);
	memcpy(x->req_id, req_id, 16);
	wire_get_bool(m, T_AUTOLOCK, &x->autolock);
	x->expiry = HUSH_DEFAULT_CERT_EXPIRY;
	if (wire_get_u64(m, T_CERT_EXPIRY, &x->expiry) == 0 &&
	    (x->expiry < PKI_CERT_MIN_LIFETIME || x->expiry > PKI_CERT_MAX_LIFETIME)) {
		op_error(op, HUSH_E_RANGE, "--cert-expiry must be between 1h and 3650d");
		return;
	}
	if ((r = init_external(x, m, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	if ((r = setup_addresses(p, m, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	if (hush_id_new(p->node.node_id) != 0 || hush_id_new(p->node.cluster_id) != 0 ||
	    join_token_new_secret(x->worker) != 0 || join_token_new_secret(x->manager) != 0) {
		op_error(op, HUSH_E_CRYPTO, "cannot draw random identifiers");
		return;
	}
	p->node.role = ROLE_MANAGER;
	if (x->autolock) {
		if ((r = secbuf_alloc(&x->kek, 32)) != 0) {
			op_error(op, r, NULL);
			return;
		}
		randombytes_buf(x->kek.p, 32);
	}
	(void)node_event(p, NE_SETUP_BEGIN);
	if (x->extca_url != NULL) {
		/* pki learns the root alone; the external CA signs this node's certificate */
		if ((r = node_sign_set_extca(p, x->extca_url, x->extca_cacert, x->ca.cert)) != 0 ||
		    (r = pki_ca_load(op, (const uint8_t *)x->ca.cert, strlen(x->ca.cert), NULL,
		    0, x->ca.digest, init_ca_created)) != 0)
			init_fail(op, r, "the pki process is not available");
		return;
	}
	if (x->own_cert != NULL) {
		struct pki_rotate_req req = { .cert = x->own_cert, .certlen = x->own_certlen,
		    .key = x->own_key, .keylen = x->own_keylen };

		if ((r = pki_ca_rotate(op, &req, &x->own, init_own_checked)) != 0)
			init_fail(op, r, "the pki process is not available");
		return;
	}
	if ((r = pki_ca_create(op, &x->ca, init_ca_created)) != 0)
		init_fail(op, r, "the pki process is not available");
}
