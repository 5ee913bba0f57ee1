/*
 * Certificate renewal.  Each node renews at a random point between 50 % and
 * 80 % of its certificate's life (so a cluster's nodes never all renew at
 * once), with a new key.  A manager signs with its own pki process; any
 * other node asks a manager over hush-dispatch/1, where its current
 * certificate is what authenticates the request and the store — not the
 * request — says which role the new certificate carries.  The cluster's
 * current --cert-expiry applies, so changing it needs no restart.
 */
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "keyring.h"
#include "log.h"
#include "net_calls.h"
#include "parent.h"
#include "node_sign.h"
#include "pki_calls.h"
#include "raft/raft_proc.h"
#include "x509.h"

struct renew_ctx {
	struct parent	*p;
	struct secbuf	 key;
	size_t		 manager;	/* which manager we are asking */
	struct pki_cert	 cert;		/* when this manager's pki signs */
};

static bool renewing;
static int64_t renew_at;
/*
 * After a failed renewal (a CA that does not answer, say), the next try
 * waits this long, doubling up to RENEW_RETRY_MAX: the certificate still
 * has at least a fifth of its life, and a CA that is down should not be
 * asked every tick.
 */
#define RENEW_RETRY_MIN		2
#define RENEW_RETRY_MAX		120
static int64_t retry_delay;

int64_t
parent_now(void)
{
	int64_t now = (int64_t)time(NULL);

#ifdef HUSH_TEST_HOOKS
	/* Test builds only: lets a test move a node's clock forward. */
	const char *off = getenv("HUSH_TEST_CLOCK_OFFSET");

	if (off != NULL)
		now += strtoll(off, NULL, 10);
#endif
	return now;
}

/* Pick the next renewal time from the certificate on disk. */
void
renew_schedule(struct parent *p)
{
	struct x509_cert_info info;
	char *cert = NULL, *chain = NULL;
	int64_t life;

	renew_at = 0;
	if (node_certs_read(p->cfg.state_dir, &cert, &chain) != 0 ||
	    x509_cert_info(cert, strlen(cert), &info) != 0) {
		free(cert);
		free(chain);
		return;
	}
	free(cert);
	free(chain);
	life = info.not_after - info.not_before;
	renew_at = info.not_before + life / 2 + (int64_t)randombytes_uniform(
	    (uint32_t)(life * 3 / 10 > 1 ? life * 3 / 10 : 1));
	p->node.cert_not_after = info.not_after;
	log_debug("certificate renewal scheduled in %lld s",
	    (long long)(renew_at - parent_now()));
}

/* The renewal op's ctx_free: the next renewal may start. */
static void
renew_free(void *arg)
{
	struct renew_ctx *x = arg;

	secbuf_free(&x->key);
	pki_cert_clear(&x->cert);
	free(x);
	renewing = false;
}

/* Renew at the next tick; false when that is already arranged. */
bool
renew_now(struct parent *p)
{
	if (renewing || renew_at == 1)
		return false;
	renew_at = 1;
	return true;
}

/*
 * Unlike renew_now(), not a role change: a manager signs its own with its
 * pki, which signs with the next root once the rotation is renewing.
 */
bool
renew_soon(struct parent *p, int64_t delay)
{
	int64_t at = parent_now() + delay;

	if (renewing || renew_at == 1)
		return false;
	if (renew_at == 0 || renew_at > at)
		renew_at = at > 1 ? at : 2;
	return true;
}


/*
 * The keys this node keeps for its new role: a new manager gets the
 * cluster's DEK (and KEK) from the reply; a node that stops being a
 * manager drops them and the raft log they open.
 */
static int
role_keys(struct renew_ctx *x, const struct wire_msg *reply, int new_role,
    struct secbuf *dek, struct secbuf *kek)
{
	struct parent *p = x->p;
	int r;

	if (new_role == p->node.role) {
		if ((r = keyring_get(KEY_DEK, dek)) != 0)
			return r;
		if (p->settings.autolock)
			return keyring_get(KEY_KEK, kek);
		return 0;
	}
	if (new_role == ROLE_MANAGER) {
		if (reply == NULL || (r = join_unwrap(reply, T_DEK, dek)) != 0)
			return HUSH_E_AUTH;
		r = join_unwrap(reply, T_KEK, kek);
		if (r != 0 && r != HUSH_E_NOTFOUND)
			return r;
		p->settings.autolock = r == 0;
		return 0;
	}
	if ((r = secbuf_alloc(dek, 32)) != 0)
		return r;
	randombytes_buf(dek->p, dek->len);
	p->settings.autolock = false;
	return 0;
}

static void
install(struct renew_ctx *x, const char *cert, const char *chain, const struct wire_msg *reply)
{
	struct parent *p = x->p;
	struct secbuf dek = SECBUF_INIT, kek = SECBUF_INIT;
	struct x509_cert_info info;
	char *ca = node_state_read_cert(p->cfg.state_dir, "ca.crt"), why[256];
	char *full = x509_bundle_join(cert, chain);
	int r, new_role, old_role = p->node.role;

	/* Whatever root of this node's trust it comes from (a rotation's next, too). */
	if (ca == NULL || full == NULL ||
	    (r = x509_verify_chain(full, strlen(full), ca, strlen(ca), parent_now(), NULL,
	    why, sizeof(why))) != 0 ||
	    (r = x509_cert_info(cert, strlen(cert), &info)) != 0 ||
	    !x509_cert_matches_key(cert, strlen(cert), &x->key) ||
	    strcmp(info.subject.cn, p->node.node_id) != 0) {
		log_err("refused a renewed certificate that does not match this node");
		goto out;
	}
	new_role = x509_ou_role(info.subject.ou) == ROLE_MANAGER ? ROLE_MANAGER : ROLE_WORKER;
	if ((r = role_keys(x, reply, new_role, &dek, &kek)) != 0) {
		log_err("cannot take on the new role: the cluster keys did not come");
		goto out;
	}
	/* node.keys first: a crash after it leaves a key the old cert lacks,
	 * which the next renewal repairs; the other order could lose the key. */
	if ((r = seal_key_write_keyfile(p, &dek, &x->key, p->settings.autolock ? kek.p : NULL)) != 0 ||
	    (r = node_state_write_cert(p->cfg.state_dir, "node.crt", full)) != 0 ||
	    (r = keyring_put(KEY_NODE, x->key.p, x->key.len)) != 0 ||
	    (r = keyring_put(KEY_DEK, dek.p, dek.len)) != 0 ||
	    (r = p->settings.autolock ? keyring_put(KEY_KEK, kek.p, kek.len) : keyring_drop(KEY_KEK)) != 0) {
		log_err("cannot install the renewed certificate: %s", hush_strerror(r));
		goto out;
	}
	p->node.role = new_role;
	p->node.cert_not_after = info.not_after;
	node_state_save(p->cfg.state_dir, &p->node);
	if (net_reload_full(p, &(struct net_reload_req){ .cert = cert, .key = &x->key,
	    .chain = chain }) != 0)
		log_warn("the net process did not take the renewed certificate");
	ca_own_refresh(p);
	/* During a CA rotation the leader waits to see the new certificate. */
	if (p->ca.phase != CA_PHASE_NONE)
		cluster_heartbeat(p);
	log_info("renewed this node's certificate (%s): it now expires at %lld",
	    info.subject.ou, (long long)info.not_after);
	renew_schedule(p);
	if (old_role == ROLE_WORKER && new_role == ROLE_MANAGER) {
		log_info("this node is now a manager: starting its raft store");
		(void)node_event(p, NE_PROMOTED);
	} else if (old_role == ROLE_MANAGER && new_role == ROLE_WORKER) {
		log_info("this node is now a worker: dropping its raft store");
		(void)node_event(p, NE_DEMOTED);
	}
out:
	secbuf_free(&dek);
	secbuf_free(&kek);
	free(ca);
	free(full);
}

/* Both ways of signing end here: install the certificate, or say why not. */
static void
renew_done(struct op *op, int status, const char *cert, const char *chain,
    const struct wire_msg *reply, const char *detail)
{
	if (status == 0 && cert == NULL)
		status = HUSH_E_PROTO;
	if (status != 0)
		log_warn("certificate renewal failed: %s", detail && *detail ? detail :
		    hush_strerror(status));
	else
		install(op->ctx, cert, chain, reply);
	/* installed: renew_schedule() moved renew_at on; a promotion keeps asking */
	if (renew_at != 1 && renew_at <= parent_now()) {
		retry_delay = retry_delay == 0 ? RENEW_RETRY_MIN :
		    retry_delay * 2 > RENEW_RETRY_MAX ? RENEW_RETRY_MAX : retry_delay * 2;
		renew_at = parent_now() + retry_delay;
		log_info("will retry the certificate renewal in %lld s", (long long)retry_delay);
	} else if (renew_at != 1) {
		retry_delay = 0;
	}
	op_free(op);
}

static void
signed_locally(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct renew_ctx *x = op->ctx;

	renew_done(op, status, x->cert.pem, x->cert.chain, NULL, detail);
}

static void
signed_remotely(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct op *op = arg;
	const struct wire_field *f;
	struct wire_msg *m;
	char d[1100], *cert = NULL, *chain = NULL;

	if (status == 0 && (m = malloc(sizeof(*m))) != NULL) {
		status = cluster_rpc_unwrap(reply, DSP_RENEW, m, d, sizeof(d));
		if (status == 0 && (f = wire_find(m, T_CERT, 0)) != NULL)
			cert = strndup((const char *)f->val, f->len);
		if (status == 0 && (f = wire_find(m, T_CA_CHAIN, 0)) != NULL &&
		    (chain = strndup((const char *)f->val, f->len)) == NULL)
			status = HUSH_E_NOMEM;
		renew_done(op, status, cert, chain, status == 0 ? m : NULL,
		    status == 0 ? NULL : d);
		free(cert);
		free(chain);
		free(m);
		return;
	}
	renew_done(op, status ? status : HUSH_E_NOMEM, NULL, NULL, NULL, detail);
}

static int
ask(struct op *op, const uint8_t *csr, size_t csrlen)
{
	struct parent *p = op->p;
	struct renew_ctx *x = op->ctx;
	struct pki_issue_req req;
	struct wire_enc e;
	int r;

	/* Sign locally only what stays a manager's certificate; a role change
	 * goes through the leader's view of the store like any other node's. */
	if (p->node.role == ROLE_MANAGER && p->settings.ca == PKI_CA_LOADED && renew_at != 1) {
		req = (struct pki_issue_req){ .csr = csr, .csrlen = csrlen,
		    .node_id = p->node.node_id, .role = ROLE_MANAGER,
		    .cluster_id = p->node.cluster_id, .lifetime = p->settings.cert_expiry };
		return node_sign(op, &req, &x->cert, signed_locally);
	}
	if (p->view.nmanagers == 0)
		return HUSH_E_UNAVAIL;
	wire_enc_init(&e, DSP_RENEW, 1, 16384);
	wire_put_bytes(&e, T_CSR, csr, csrlen);
	r = cluster_rpc(p, p->view.managers[x->manager % p->view.nmanagers], &e, signed_remotely, op);
	wire_enc_free(&e);
	return r;
}

void
renew_tick(struct parent *p)
{
	static size_t rotor;
	struct renew_ctx *x;
	struct op *op;
	uint8_t *csr = NULL;
	size_t csrlen;

	if (renewing || !p->node.initialized || p->state != PS_READY || p->view.net != NET_UP)
		return;
	if (renew_at == 0)
		renew_schedule(p);
	if (renew_at == 0 || parent_now() < renew_at)
		return;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return;
	if ((op = op_internal(p, x, renew_free)) == NULL) {
		free(x);
		return;
	}
	x->p = p;
	x->manager = rotor++;
	if (x509_key_generate(&x->key) != 0 || x509_csr_create(&x->key, &csr, &csrlen) != 0 ||
	    (renewing = true, ask(op, csr, csrlen)) != 0) {
		log_warn("cannot start certificate renewal; will retry");
		op_free(op);
	}
	free(csr);
}
