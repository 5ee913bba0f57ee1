/*
 * The parent's side of clustering.  It never reads network bytes: the net
 * process terminates TLS and hands over either an fd with the peer's
 * verified identity or a schema-checked DSP_* request.  What the parent
 * decides is who may do what: raft streams only between managers,
 * forwarded writes and reads only from managers, heartbeats from anyone
 * the cluster's CA vouches for and the store has not removed.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "keyring.h"
#include "lockmem.h"
#include "log.h"
#include "net/net.h"
#include "net_calls.h"
#include "parent.h"
#include "node_sign.h"
#include "pki_calls.h"
#include "raft_proc_calls.h"
#include "store_calls.h"

#define HEARTBEAT_SECS	2
#define DOWN_AFTER_SECS	7

int64_t
parent_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/*
 * A child waits for every answer it asked for, so one that cannot be
 * encoded or queued becomes an error answer to the same request, and is
 * logged; only a channel already gone (the child is being restarted) is
 * left alone.
 */
void
child_answer(struct child *c, struct wire_enc *e, int fd)
{
	struct wire_enc err;
	const uint8_t *buf;
	size_t len;
	uint32_t id = wire_enc_request_id(e);
	int r;

	if (c->ch.fd < 0) {
		wire_enc_free(e);
		return;
	}
	if ((r = wire_enc_finish(e, &buf, &len)) == 0 &&
	    (r = chan_send(&c->ch, buf, len, fd)) == 0) {
		wire_enc_free(e);
		return;
	}
	wire_enc_free(e);
	if (r == HUSH_E_IO)
		return;
	log_err("cannot answer the %s process's request %u: %s", c->desc->name, id,
	    hush_strerror(r));
	if (msg_error_reply(&err, id, r, "the parent could not send its answer") != 0 ||
	    wire_enc_finish(&err, &buf, &len) != 0 ||
	    chan_send(&c->ch, buf, len, -1) != 0)
		child_kill(c, "a request that cannot be answered");
	wire_enc_free(&err);
}

void
child_answer_error(struct child *c, uint32_t id, int code, const char *detail)
{
	struct wire_enc e;

	/* A failure here is e's own: child_answer() sees it when it finishes e. */
	if (msg_error_reply(&e, id, code, detail) != 0)
		log_err("no memory for an error answer to the %s process", c->desc->name);
	child_answer(c, &e, -1);
}

static void
net_reload_removed(struct parent *p)
{
	if (p->view.net == NET_UP && net_reload(p, NULL, NULL) != 0)
		log_warn("cannot update the net process's removed-node list");
}

static void
net_started(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;

	op_free(op);
	if (status != 0) {
		p->view.net = NET_IDLE;
		snprintf(p->view.net_refused, sizeof(p->view.net_refused), "%.*s",
		    (int)sizeof(p->view.net_refused) - 1,
		    detail && *detail ? detail : hush_strerror(status));
		/* net never saw the files: name them when it refused the identity. */
		if (detail != NULL && strstr(detail, "certificate") != NULL)
			log_err("the net process did not start: %s (from %s/certificates/"
			    "node.crt, %s/certificates/ca.crt and the key in %s/node.keys)",
			    detail, p->cfg.state_dir, p->cfg.state_dir, p->cfg.state_dir);
		else
			log_err("the net process did not start: %s",
			    detail && *detail ? detail : hush_strerror(status));
		return;
	}
	p->view.net = NET_UP;
	p->ca.net_up_at = parent_mono();
	p->view.net_refused[0] = '\0';
	log_info("net process serving %s (%s)", p->node.listen,
	    p->node.role == ROLE_MANAGER ? "manager: accepting peers" : "worker");
	net_reload_removed(p);
}

void
cluster_view_reset(struct cluster_view *v)
{
	memset(v, 0, sizeof(*v));
	v->net = NET_IDLE;
}

/* Give net our identity once keys are in the keyring. */
int
cluster_start_net(struct parent *p)
{
	struct secbuf key = SECBUF_INIT;
	struct net_start_req req;
	struct op *op;
	char *cert = NULL, *chain = NULL, *ca = NULL, why[PATH_MAX + 256];
	int r;

	if (p->net.pid <= 0 || p->view.net != NET_IDLE || !p->node.initialized)
		return 0;
	/* Degraded too: its heartbeats tell the managers so. */
	if (p->state != PS_READY && p->state != PS_STARTING && p->state != PS_DEGRADED)
		return 0;
	if ((r = keyring_get(KEY_NODE, &key)) != 0) {
		snprintf(why, sizeof(why), "the node key is not in the keyring: %s",
		    hush_strerror(r));
		log_err("%s", why);
		goto refused;
	}
	if ((r = node_certs_check(p->cfg.state_dir, &key, why, sizeof(why))) != 0) {
		log_err("the net process is not started: %s", why);
		goto refused;
	}
	if (node_certs_read(p->cfg.state_dir, &cert, &chain) != 0 ||
	    (ca = node_state_read_cert(p->cfg.state_dir, "ca.crt")) == NULL) {
		snprintf(why, sizeof(why), "cannot read this node's certificates in "
		    "%s/certificates", p->cfg.state_dir);
		log_err("%s", why);
		r = HUSH_E_IO;
		goto refused;
	}
	req = (struct net_start_req){
		.node_id = p->node.node_id,
		.cluster_id = p->node.cluster_id,
		.role = p->node.role,
		.cert = cert,
		.chain = chain,
		.key = &key,
		.ca = ca,
		.listen = p->node.listen,
	};
	ca_own_refresh(p);
	if ((op = op_internal(p, NULL, NULL)) == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	if ((r = net_start(op, &req, net_started)) != 0)
		op_free(op);
	else
		p->view.net = NET_STARTING;
	goto out;
refused:
	/* hushctl status says it too: the log is not where everyone looks. */
	snprintf(p->view.net_refused, sizeof(p->view.net_refused), "%.*s",
	    (int)sizeof(p->view.net_refused) - 1, why);
out:
	secbuf_free(&key);
	free(cert);
	free(chain);
	free(ca);
	return r;
}

void
cluster_child_started(struct parent *p, struct child *c)
{
	if (c == &p->net) {
		p->view.net = NET_IDLE;
		cluster_start_net(p);
	}
}

/* ---- raft streams --------------------------------------------------- */

struct connect_ctx {
	uint32_t		 raft_req;	/* the RAFTP_CONNECT this answers */
	struct net_stream	 stream;
};

static void
raft_connected(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct connect_ctx *x = op->ctx;
	struct parent *p = op->p;

	if (status != 0 || x->stream.fd < 0) {
		log_debug("raft stream not opened: %s", detail && *detail ? detail :
		    hush_strerror(status));
		child_answer_error(&p->raft, x->raft_req, status ? status : HUSH_E_UNAVAIL, detail);
	} else {
		raft_connect_answer(p, x->raft_req, x->stream.fd);
	}
	op_free(op);
}

void
cluster_raft_connect(struct parent *p, const struct wire_msg *m)
{
	struct connect_ctx *x;
	struct op *op = NULL;
	char addr[263];

	if (wire_get_str(m, T_ADDRESS, addr, sizeof(addr)) != 0)
		return;
	if (p->view.net != NET_UP || (x = calloc(1, sizeof(*x))) == NULL) {
		child_answer_error(&p->raft, m->hdr.request_id, HUSH_E_UNAVAIL,
		    "the net process is not ready");
		return;
	}
	x->raft_req = m->hdr.request_id;
	if ((op = op_internal(p, x, free)) == NULL)
		free(x);
	if (op == NULL || net_connect(op, addr, ALPN_RAFT, &x->stream, raft_connected) != 0) {
		if (op != NULL)
			op_free(op);
		child_answer_error(&p->raft, m->hdr.request_id, HUSH_E_UNAVAIL, NULL);
	}
}

static void
net_inbound(struct parent *p, const struct wire_msg *m, int fd)
{
	char alpn[33], peer[HUSH_ID_LEN + 1], addr[263];
	uint8_t role;

	if (wire_get_str(m, T_ALPN, alpn, sizeof(alpn)) != 0 ||
	    wire_get_str(m, T_PEER_ID, peer, sizeof(peer)) != 0 ||
	    wire_get_u8(m, T_ROLE, &role) != 0 ||
	    wire_get_str(m, T_ADDRESS, addr, sizeof(addr)) != 0 || fd < 0)
		return;
	if (strcmp(alpn, ALPN_RAFT) != 0 || role != ROLE_MANAGER ||
	    p->node.role != ROLE_MANAGER || p->raft.pid <= 0 ||
	    p->store.phase == RAFT_IDLE) {
		log_debug("dropping an inbound %s stream from %s", alpn, peer);
		return;		/* the fd is closed by our caller */
	}
	/* libraft answers a peer at the address it is given here: that must be
	 * the peer's advertised (raft) address, not the connection's source. */
	for (size_t i = 0; i < p->view.nmanager_ids && i < p->view.nmanagers; i++)
		if (strcmp(p->view.manager_ids[i], peer) == 0)
			snprintf(addr, sizeof(addr), "%s", p->view.managers[i]);
	raft_inbound(p, peer, addr, fd);
}

/* ---- peer requests (DSP_*) ------------------------------------------- */

void
cluster_peer_reply(struct peer_op *x, const struct wire_enc *frame)
{
	struct wire_enc err;
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish((struct wire_enc *)frame, &buf, &len)) == 0) {
		net_peer_answer(x->p, x->net_req, buf, len);
		return;
	}
	/* The peer gets an answer even when ours could not be encoded. */
	log_err("cannot encode the answer to a peer: %s", hush_strerror(r));
	if (msg_error_reply(&err, x->dsp_req, r, "the manager could not encode "
	    "its answer") != 0 || wire_enc_finish(&err, &buf, &len) != 0) {
		/* net answers the peer itself when we fail its request */
		wire_enc_free(&err);
		child_answer_error(&x->p->net, x->net_req, r, NULL);
		return;
	}
	net_peer_answer(x->p, x->net_req, buf, len);
	wire_enc_free(&err);
}

void
cluster_peer_error(struct peer_op *x, int code, const char *detail)
{
	struct wire_enc f;

	/* NOTLEADER here means leadership moved under us: the caller retries. */
	if (code == HUSH_E_NOTLEADER)
		code = HUSH_E_UNAVAIL;
	/* A failure here fails f, which cluster_peer_reply() handles. */
	if (msg_error_reply(&f, x->dsp_req, code, detail) != 0)
		log_err("no memory for an error answer to a peer");
	cluster_peer_reply(x, &f);
	wire_enc_free(&f);
}

/*
 * The answer to a sealed DSP_FORWARD or DSP_QUERY: msg (what our raft
 * process answered, or an error) sealed for the request's nonce.  Even an
 * error is sealed: its text may name a secret.
 */
static void
peer_sealed_reply(struct peer_op *x, const uint8_t *msg, size_t len)
{
	struct wire_enc f;
	int r;

	wire_enc_init(&f, x->dsp_type | MSG_REPLY, x->dsp_req, WIRE_MAX_MSG);
	r = peer_seal(x->dsp_type == DSP_QUERY ? PURPOSE_DSP_QUERY_R : PURPOSE_DSP_FORWARD_R,
	    x->nonce, msg, len, &f);
	if (r == 0)
		cluster_peer_reply(x, &f);
	else
		cluster_peer_error(x, r, "the manager could not seal its answer");
	wire_enc_free(&f);
}

static void
peer_sealed_error(struct peer_op *x, int code, const char *detail)
{
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;

	/* NOTLEADER here means leadership moved under us: the caller retries. */
	if (code == HUSH_E_NOTLEADER)
		code = HUSH_E_UNAVAIL;
	if (msg_error_reply(&e, 0, code, detail) == 0 &&
	    wire_enc_finish(&e, &buf, &len) == 0)
		peer_sealed_reply(x, buf, len);
	else
		cluster_peer_error(x, code, NULL);
	wire_enc_free(&e);
}

static void
peer_op_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct peer_op *x = op->ctx;
	struct wire_enc f;
	const uint8_t *buf;
	size_t len;

	if (status != 0) {
		peer_sealed_error(x, status, detail);
		op_free(op);
		return;
	}
	raft_propose_answer_encode(&f, reply);
	if (wire_enc_finish(&f, &buf, &len) == 0)
		peer_sealed_reply(x, buf, len);
	else
		peer_sealed_error(x, HUSH_E_TOOBIG, "the answer does not fit in a message");
	wire_enc_free(&f);
	op_free(op);
}

static void
peer_query_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct peer_op *x = op->ctx;
	struct wire_enc f;
	const uint8_t *buf;
	size_t len;
	int r;

	if (status != 0) {
		peer_sealed_error(x, status, detail);
		op_free(op);
		return;
	}
	/* The reply is the parsed QRY_* answer: send it back encoded whole. */
	if ((r = raft_query_answer_encode(&f, reply)) == 0)
		r = wire_enc_finish(&f, &buf, &len);
	if (r == 0)
		peer_sealed_reply(x, buf, len);
	else
		peer_sealed_error(x, r, "the answer does not fit in a message");
	wire_enc_free(&f);
	op_free(op);
}

/* DSP_RENEW: the peer's current certificate authenticated it; the store
 * says what role it has now (a promotion or demotion takes effect here). */
struct role_seen {
	uint8_t		 role;
	bool		 removed;
	bool		 found;
	bool		 has_seal;
	uint8_t		 seal_pub[SEAL_PUB_BYTES];
};

struct renew_serve {
	uint8_t		*csr;
	size_t		 csrlen;
	char		 peer[HUSH_ID_LEN + 1];
	bool		 manager;
	/*
	 * The peer's sealing key, from the node table: a promoted node's
	 * keys are sealed to it, never to the CSR's key, which the peer's
	 * net holds (and anyone with the peer's certificate could send).
	 */
	bool		 has_seal;
	uint8_t		 seal_pub[SEAL_PUB_BYTES];
	struct pki_cert	 cert;		/* what pki issued */
	struct store_page page;		/* the node table's answer */
	struct role_seen seen;		/* and what it says of the peer */
};

static void
renew_signed(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct peer_op *x = op->ctx;
	struct wire_enc f;

	if (status != 0) {
		cluster_peer_error(x, status, detail);
	} else {
		struct renew_serve *rs = (struct renew_serve *)(x + 1);

		wire_enc_init(&f, DSP_RENEW | MSG_REPLY, x->dsp_req, 65536);
		wire_put_str(&f, T_CERT, rs->cert.pem);
		wire_put_i64(&f, T_CERT_NOT_AFTER, rs->cert.not_after);
		if (rs->cert.chain != NULL)
			wire_put_str(&f, T_CA_CHAIN, rs->cert.chain);
		if (rs->manager && !rs->has_seal) {
			wire_enc_free(&f);
			cluster_peer_error(x, HUSH_E_PERM, "this node has no sealing key in the "
			    "node table (it joined with an older hush): it cannot be given "
			    "the cluster's keys; make it leave and join again");
			op_free(op);
			return;
		}
		if (rs->manager && join_wrap_keys(op->p, &f, rs->seal_pub) != 0) {
			wire_enc_free(&f);
			cluster_peer_error(x, HUSH_E_CRYPTO, "cannot hand over the cluster keys");
			op_free(op);
			return;
		}
		cluster_peer_reply(x, &f);
		wire_enc_free(&f);
	}
	op_free(op);
}

static int
first_role(void *arg, const struct node_record *n)
{
	struct role_seen *rs = arg;

	if (rs->found)
		return 0;
	rs->found = true;
	rs->role = n->role;
	rs->removed = n->status[0] != '\0';
	if (n->seal_pub != NULL) {
		memcpy(rs->seal_pub, n->seal_pub, sizeof(rs->seal_pub));
		rs->has_seal = true;
	}
	return 0;
}

static void
renew_role_read(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct peer_op *x = op->ctx;
	struct renew_serve *rs = (struct renew_serve *)(x + 1);
	const struct role_seen seen_role = rs->seen;
	struct pki_issue_req req;
	char why[256];
	int r;

	if (status != 0 || !seen_role.found) {
		cluster_peer_error(x, status ? status : HUSH_E_NOTFOUND, detail);
		op_free(op);
		return;
	}
	if (seen_role.removed) {
		snprintf(why, sizeof(why), "node %s was removed from the cluster", rs->peer);
		cluster_peer_error(x, HUSH_E_PERM, why);
		op_free(op);
		return;
	}
	rs->manager = seen_role.role == ROLE_MANAGER;
	rs->has_seal = seen_role.has_seal;
	memcpy(rs->seal_pub, seen_role.seal_pub, sizeof(rs->seal_pub));
	/* The node table's role is a manager's or, whatever else, a worker's. */
	req = (struct pki_issue_req){ .csr = rs->csr, .csrlen = rs->csrlen,
	    .node_id = rs->peer, .role = rs->manager ? ROLE_MANAGER : ROLE_WORKER,
	    .cluster_id = p->node.cluster_id, .lifetime = p->settings.cert_expiry };
	if ((r = node_sign(op, &req, &rs->cert, renew_signed)) != 0) {
		cluster_peer_error(x, r, NULL);
		op_free(op);
	}
}

static void
renew_serve_free(void *arg)
{
	struct peer_op *x = arg;
	struct renew_serve *rs = (struct renew_serve *)(x + 1);

	free(rs->csr);
	pki_cert_clear(&rs->cert);
	free(x);
}

static void
renew_serve(struct op *op, const char *peer, const struct wire_msg *dsp)
{
	struct parent *p = op->p;
	struct peer_op *x = op->ctx, *nx;
	struct renew_serve *rs;
	const uint8_t *csr;
	const char *ref = peer;
	size_t len;
	int r;

	if (p->node.role != ROLE_MANAGER || p->store.phase != RAFT_UP ||
	    p->settings.ca != PKI_CA_LOADED) {
		cluster_peer_error(x, HUSH_E_UNAVAIL, "this manager cannot sign certificates yet");
		op_free(op);
		return;
	}
	/* Grow the context to carry the CSR along. */
	if ((nx = calloc(1, sizeof(*nx) + sizeof(*rs))) == NULL) {
		cluster_peer_error(x, HUSH_E_NOMEM, NULL);
		op_free(op);
		return;
	}
	*nx = *x;
	free(x);
	op->ctx = nx;
	op->ctx_free = renew_serve_free;
	rs = (struct renew_serve *)(nx + 1);
	snprintf(rs->peer, sizeof(rs->peer), "%s", peer);
	wire_get_bytes(dsp, T_CSR, &csr, &len);
	if ((rs->csr = malloc(len)) == NULL) {
		cluster_peer_error(nx, HUSH_E_NOMEM, NULL);
		op_free(op);
		return;
	}
	memcpy(rs->csr, csr, len);
	rs->csrlen = len;
	if ((r = store_node_get(op, STORE_HERE, &ref, 1, NULL, first_role, &rs->seen, &rs->page,
	    renew_role_read)) != 0) {
		cluster_peer_error(nx, r, NULL);
		op_free(op);
	}
}

/*
 * A verified peer asked something: it is up.  issuer is what net verified
 * of its certificate, trust what its heartbeat says it trusts (each NULL
 * when the request did not carry it): where it stands in a CA rotation.
 */
static void
seen(struct parent *p, const char *id, bool degraded, const uint8_t *issuer,
    const uint8_t *trust)
{
	size_t i;

	for (i = 0; i < p->view.nseen; i++)
		if (strcmp(p->view.seen[i].id, id) == 0)
			break;
	if (i == p->view.nseen) {
		if (p->view.nseen == MAX_PEERS)
			return;
		snprintf(p->view.seen[p->view.nseen++].id, sizeof(p->view.seen[0].id), "%s", id);
	}
	p->view.seen[i].last_seen = parent_mono();
	p->view.seen[i].degraded = degraded;
	if (issuer != NULL) {
		memcpy(p->view.seen[i].issuer, issuer, 32);
		p->view.seen[i].has_issuer = true;
	}
	if (trust != NULL) {
		memcpy(p->view.seen[i].trust, trust, 32);
		p->view.seen[i].has_trust = true;
	}
}

bool
cluster_peer_degraded(const struct parent *p, const char *node_id)
{
	if (strcmp(node_id, p->node.node_id) == 0)
		return p->state == PS_DEGRADED;
	for (size_t i = 0; i < p->view.nseen; i++)
		if (strcmp(p->view.seen[i].id, node_id) == 0)
			return p->view.seen[i].degraded;
	return false;
}

size_t
cluster_managers_ok(const struct parent *p, size_t *others)
{
	size_t ok = 0;

	*others = 0;
	for (size_t i = 0; i < p->view.nmanagers; i++) {
		if (strcmp(p->view.managers[i], p->node.advertise) == 0)
			continue;
		(*others)++;
		if (p->view.manager_ok[i] != 0 && parent_mono() - p->view.manager_ok[i] <= DOWN_AFTER_SECS)
			ok++;
	}
	return ok;
}

bool
cluster_peer_reachable(const struct parent *p, const char *node_id)
{
	if (strcmp(node_id, p->node.node_id) == 0)
		return true;
	for (size_t i = 0; i < p->view.nseen; i++)
		if (strcmp(p->view.seen[i].id, node_id) == 0)
			return p->view.seen[i].last_seen != 0 &&
			    parent_mono() - p->view.seen[i].last_seen <= DOWN_AFTER_SECS;
	return false;
}

static void
repair_demoted(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct peer_op *x = op->ctx;
	struct wire_enc f;

	if (status != 0) {
		cluster_peer_error(x, status, detail);
	} else {
		wire_enc_init(&f, DSP_REPAIR | MSG_REPLY, x->dsp_req, 64);
		cluster_peer_reply(x, &f);
		wire_enc_free(&f);
	}
	op_free(op);
}

/*
 * A manager about to rebuild its raft log from nothing asks the leader to
 * make it a spare first (raft/membership.c says why).  Which node is the
 * peer's verified certificate, so a node can only demote itself: what a
 * stolen manager identity could do anyway, by not answering.
 */
static void
repair_serve(struct op *op, const char *peer, uint8_t role)
{
	struct parent *p = op->p;
	struct peer_op *x = op->ctx;

	if (role != ROLE_MANAGER || p->node.role != ROLE_MANAGER || p->store.phase != RAFT_UP) {
		cluster_peer_error(x, role != ROLE_MANAGER ? HUSH_E_PERM : HUSH_E_UNAVAIL,
		    role != ROLE_MANAGER ? "only a manager is repaired" :
		    "this manager's store is not ready");
		op_free(op);
		return;
	}
	log_info("manager %s asks to stop voting while it rebuilds its raft data", peer);
	if (raft_proc_demote(op, peer, repair_demoted) != 0) {
		cluster_peer_error(x, HUSH_E_UNAVAIL, "this manager's store is not ready");
		op_free(op);
	}
}

/* Whether a peer may forward this command to the leader (cluster_net_request). */
static bool
forwardable(const uint8_t *cmd, size_t len)
{
	struct wire_hdr hdr;

	return wire_peek_hdr(cmd, len, &hdr) == 0 && hdr.type != CMD_FORCE_NEW_CLUSTER &&
	    hdr.type != CMD_STORE_LOAD;
}

static void
peer_request(struct parent *p, const struct wire_msg *m)
{
	static const uint16_t dsp_types[] = { DSP_FORWARD, DSP_QUERY, DSP_RENEW, DSP_HEARTBEAT,
	    DSP_ASSIGNMENTS, DSP_REPAIR, 0 };
	const struct wire_field *issuer, *trust;
	struct wire_msg *dsp;
	struct peer_op *x;
	struct op *op;
	struct wire_enc f;
	const uint8_t *payload;
	char peer[HUSH_ID_LEN + 1], why[256];
	size_t len;
	uint8_t role;
	int r;

	if (wire_get_str(m, T_PEER_ID, peer, sizeof(peer)) != 0 ||
	    wire_get_u8(m, T_ROLE, &role) != 0 ||
	    wire_get_bytes(m, T_PAYLOAD, &payload, &len) != 0)
		return;
	if ((dsp = malloc(sizeof(*dsp))) == NULL || (x = calloc(1, sizeof(*x))) == NULL ||
	    (op = calloc(1, sizeof(*op))) == NULL) {
		free(dsp);
		child_answer_error(&p->net, m->hdr.request_id, HUSH_E_NOMEM, NULL);
		return;
	}
	x->p = p;
	x->net_req = m->hdr.request_id;
	op->p = p;
	op->ctx = x;
	op->ctx_free = free;
	if ((r = msg_parse(payload, len, WIRE_MAX_MSG, dsp_types, dsp, why, sizeof(why))) != 0) {
		/* net checked this already: a failure here means net is not sane. */
		child_kill(&p->net, "it passed on a malformed peer request");
		op_free(op);
		free(dsp);
		return;
	}
	x->dsp_type = dsp->hdr.type;
	x->dsp_req = dsp->hdr.request_id;
	/* net refuses removed nodes too; this holds even if its list lags ours. */
	for (size_t i = 0; i < p->view.nremoved; i++) {
		if (strcmp(p->view.removed[i], peer) != 0)
			continue;
		snprintf(why, sizeof(why), "node %s was removed from the cluster", peer);
		cluster_peer_error(x, HUSH_E_PERM, why);
		op_free(op);
		free(dsp);
		return;
	}
	issuer = wire_find(m, T_ISSUER_DIGEST, 0);
	trust = dsp->hdr.type == DSP_HEARTBEAT ? wire_find(dsp, T_TRUST_DIGEST, 0) : NULL;
	seen(p, peer, dsp->hdr.type == DSP_HEARTBEAT && wire_find(dsp, T_HEALTH, 0) != NULL,
	    issuer != NULL ? issuer->val : NULL, trust != NULL ? trust->val : NULL);
	/* The node that was the last one a rotation waited for may be this one. */
	if (dsp->hdr.type == DSP_HEARTBEAT && p->ca.phase != CA_PHASE_NONE)
		ca_leader_tick(p);
	switch (dsp->hdr.type) {
	case DSP_HEARTBEAT:
		wire_enc_init(&f, DSP_HEARTBEAT | MSG_REPLY, x->dsp_req, 65536);
		if (p->node.role == ROLE_MANAGER && p->store.phase == RAFT_UP) {
			uint8_t now_role = ROLE_WORKER;

			for (size_t i = 0; i < p->view.nmanager_ids; i++)
				if (strcmp(p->view.manager_ids[i], peer) == 0)
					now_role = ROLE_MANAGER;
			wire_put_u8(&f, T_ROLE, now_role);
			for (size_t i = 0; i < p->view.nmanagers; i++)
				wire_put_str(&f, T_MANAGER_ADDR, p->view.managers[i]);
			if (p->view.nmanager_ids == p->view.nmanagers)
				for (size_t i = 0; i < p->view.nmanager_ids; i++)
					wire_put_str(&f, T_NODE_ID, p->view.manager_ids[i]);
			ca_heartbeat_put(p, &f, trust != NULL ? trust->val : NULL);
		}
		cluster_peer_reply(x, &f);
		wire_enc_free(&f);
		op_free(op);
		break;
	case DSP_FORWARD:
	case DSP_QUERY:
		if (role != ROLE_MANAGER) {
			snprintf(why, sizeof(why), "node %s is a worker: manager operations "
			    "are refused", peer);
			log_warn("%s", why);
			cluster_peer_error(x, HUSH_E_PERM, why);
			op_free(op);
			break;
		}
		if (p->node.role != ROLE_MANAGER || p->store.phase != RAFT_UP) {
			cluster_peer_error(x, HUSH_E_UNAVAIL, "this manager's store is not ready");
			op_free(op);
			break;
		}
		{
			uint8_t *emb;
			size_t emblen;

			/*
			 * Only a manager's parent can seal with the DEK: a peer
			 * certificate alone, or a net process speaking for one,
			 * gets nothing from the store (peer_seal.c).
			 */
			if (peer_open(dsp->hdr.type == DSP_FORWARD ? PURPOSE_DSP_FORWARD :
			    PURPOSE_DSP_QUERY, dsp, x->nonce, &emb, &emblen) != 0) {
				snprintf(why, sizeof(why), "a %s from node %s was not sealed "
				    "with the cluster's data key: refused", dsp->hdr.type ==
				    DSP_FORWARD ? "forwarded command" : "query", peer);
				log_warn("%s", why);
				cluster_peer_error(x, HUSH_E_PERM, why);
				op_free(op);
				break;
			}
			/*
			 * What only the node itself proposes never comes from a
			 * peer: a forced new cluster (its own raft process commits
			 * it) and a restore's records (the restoring node alone).
			 * A manager that sent one would remove every other manager
			 * or graft records onto a live store.
			 */
			if (dsp->hdr.type == DSP_FORWARD && !forwardable(emb, emblen)) {
				snprintf(why, sizeof(why), "node %s forwarded a command that "
				    "only a node proposes to itself: refused", peer);
				log_warn("%s", why);
				lockmem_free(emb);
				cluster_peer_error(x, HUSH_E_PERM, why);
				op_free(op);
				break;
			}
			/* The raft process checks the embedded message's schema. */
			r = dsp->hdr.type == DSP_FORWARD ?
			    raft_propose_raw(op, emb, emblen, peer_op_done) :
			    raft_query_raw(op, emb, emblen, peer_query_done);
			lockmem_free(emb);	/* wipes */
		}
		if (r != 0) {
			peer_sealed_error(x, r, NULL);
			op_free(op);
		}
		break;
	case DSP_RENEW:
		renew_serve(op, peer, dsp);
		break;
	case DSP_REPAIR:
		repair_serve(op, peer, role);
		break;
	case DSP_ASSIGNMENTS:
		/* Any member, worker or manager, asks for its own. */
		assign_serve(op, peer, dsp);
		break;
	default:
		cluster_peer_error(x, HUSH_E_INVAL, "request not served by this manager");
		op_free(op);
		break;
	}
	free(dsp);
}

void
cluster_net_request(struct parent *p, const struct wire_msg *m, int fd)
{
	switch (m->hdr.type) {
	case NET_INBOUND:
		net_inbound(p, m, fd);
		break;
	case NET_JOIN_SERVE:
		join_serve(p, m);
		break;
	case NET_PEER_REQUEST:
		peer_request(p, m);
		break;
	default:
		child_kill(&p->net, "unexpected request");
		break;
	}
}

/* ---- membership, as the store reports it ----------------------------- */

/*
 * Take the managers' addresses from m (a store event, or a manager's
 * heartbeat answer) and remember the first few in node.json when they
 * changed: a restarted node, worker or manager, dials what is there, so it
 * must not be left with only the managers it knew when it joined.
 */
static void
set_managers(struct parent *p, const struct wire_msg *m)
{
	struct node_state *ns = &p->node;
	size_t n = wire_count(m, T_MANAGER_ADDR), keep;
	bool same;

	if (n == 0)
		return;
	p->view.nmanagers = 0;
	for (size_t i = 0; i < n && i < MAX_PEERS; i++)
		if (wire_field_str(wire_find(m, T_MANAGER_ADDR, i), p->view.managers[p->view.nmanagers],
		    sizeof(p->view.managers[0])) == 0)
			p->view.nmanagers++;
	keep = p->view.nmanagers < NODE_MAX_MANAGERS ? p->view.nmanagers : NODE_MAX_MANAGERS;
	same = keep == ns->nmanagers;
	for (size_t i = 0; same && i < keep; i++)
		same = strcmp(ns->managers[i], p->view.managers[i]) == 0;
	/* Before init or join completes, node.json must not exist yet. */
	if (same || !ns->initialized)
		return;
	for (size_t i = 0; i < keep; i++)
		snprintf(ns->managers[i], sizeof(ns->managers[0]), "%s", p->view.managers[i]);
	ns->nmanagers = keep;
	if (node_state_save(p->cfg.state_dir, ns) != 0)
		log_warn("cannot remember the managers' addresses in node.json");
}

/*
 * A manager whose store is not up (degraded, or being repaired with an
 * empty log) learns the managers' ids and addresses from a live one: the
 * raft streams it accepts must be answered at the peers' raft addresses,
 * which an empty log cannot tell it (net_inbound).
 */
static void
learn_manager_ids(struct parent *p, const struct wire_msg *m)
{
	size_t n = wire_count(m, T_MANAGER_ADDR);

	if (n == 0 || n != wire_count(m, T_NODE_ID) || n > MAX_PEERS)
		return;
	for (size_t i = 0; i < n; i++)
		if (wire_field_str(wire_find(m, T_MANAGER_ADDR, i), p->view.managers[i],
		    sizeof(p->view.managers[0])) != 0 ||
		    wire_field_str(wire_find(m, T_NODE_ID, i), p->view.manager_ids[i],
		    sizeof(p->view.manager_ids[0])) != 0)
			return;
	p->view.nmanagers = p->view.nmanager_ids = n;
}

void
cluster_nodes_event(struct parent *p, const struct wire_msg *m)
{
	size_t n;

	set_managers(p, m);
	n = wire_count(m, T_NODE_ID);
	p->view.nmanager_ids = 0;
	for (size_t i = 0; i < n && i < MAX_PEERS; i++)
		wire_field_str(wire_find(m, T_NODE_ID, i), p->view.manager_ids[p->view.nmanager_ids++],
		    sizeof(p->view.manager_ids[0]));
	n = wire_count(m, T_PEER_ID);
	p->view.nremoved = 0;
	for (size_t i = 0; i < n && i < MAX_PEERS * 4; i++)
		wire_field_str(wire_find(m, T_PEER_ID, i), p->view.removed[p->view.nremoved++],
		    sizeof(p->view.removed[0]));
	for (size_t i = 0; i < p->view.nremoved; i++)
		if (strcmp(p->view.removed[i], p->node.node_id) == 0)
			log_err("this node (%s) was removed from the cluster", p->node.node_id);
	net_reload_removed(p);
}

/* ---- heartbeats ------------------------------------------------------- */

int
cluster_rpc(struct parent *p, const char *addr, struct wire_enc *req, call_cb cb, void *arg)
{
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;
	int r;

	if (p->view.net != NET_UP)
		return HUSH_E_UNAVAIL;
	if ((r = wire_enc_finish(req, &buf, &len)) != 0)
		return r;
	wire_enc_init(&e, NET_RPC, child_next_id(&p->net), WIRE_MAX_MSG);
	wire_put_str(&e, T_ADDRESS, addr);
	wire_put_bytes(&e, T_PAYLOAD, buf, len);
	r = child_call(&p->net, &e, -1, cb, arg);
	wire_enc_free(&e);
	return r;
}

int
cluster_rpc_unwrap(const struct wire_msg *reply, uint16_t req_type, struct wire_msg *out,
    char *detail, size_t detaillen)
{
	uint16_t allowed[3] = { req_type | MSG_REPLY, MSG_ERROR, 0 };
	const uint8_t *buf;
	size_t len;
	char why[256];
	int r;

	if (wire_get_bytes(reply, T_PAYLOAD, &buf, &len) != 0)
		return HUSH_E_PROTO;
	if ((r = msg_parse(buf, len, WIRE_MAX_MSG, allowed, out, why, sizeof(why))) != 0) {
		snprintf(detail, detaillen, "malformed answer from the peer: %s", why);
		return HUSH_E_PROTO;
	}
	return msg_reply_status(out, detail, detaillen);
}

/* Which manager a heartbeat went to: managers[] may change meanwhile. */
struct hb_call {
	struct parent	*p;
	char		 addr[263];
};

static void
heartbeat_done(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct hb_call *hc = arg;
	struct parent *p = hc->p;
	struct wire_msg *m = NULL;
	char d[1100];
	uint8_t role;

	snprintf(d, sizeof(d), "%s", detail != NULL ? detail : "");
	if (status == 0 && (m = malloc(sizeof(*m))) == NULL) {
		free(hc);
		return;
	}
	if (status == 0)
		status = cluster_rpc_unwrap(reply, DSP_HEARTBEAT, m, d, sizeof(d));
	/* What TLS said about the certificates, either side's (ca_follow.c). */
	if (status == 0)
		p->ca.untrusted_since = 0;
	else if ((strstr(d, "certificate") != NULL || strstr(d, "unknown ca") != NULL) &&
	    p->ca.untrusted_since == 0)
		p->ca.untrusted_since = parent_mono();
	/* A manager answers with its role table only when its store is live. */
	if (status == 0 && wire_find(m, T_ROLE, 0) != NULL)
		for (size_t i = 0; i < p->view.nmanagers; i++)
			if (strcmp(p->view.managers[i], hc->addr) == 0)
				p->view.manager_ok[i] = parent_mono();
	free(hc);
	/* A removed node learns it here, from the answer or from the refused
	 * connection.  It stops calling the managers: every call would fail. */
	if (status == HUSH_E_PERM && !p->view.removed_self) {
		log_err("%s; run 'hushctl leave' to reset this node",
		    d[0] != '\0' ? d : "the cluster refused this node");
		p->view.removed_self = true;
		/*
		 * Removed (rm --force while it was away, or another cluster's
		 * certificate): it may no longer hold the cluster's secrets, so
		 * they go from memory and from its running containers.
		 */
		assign_clear(p);
		containers_refresh(p);
	}
	if (status == 0) {
		/* A manager's answer says where the managers are now (a manager
		 * learns that from its own store) and which role this node has:
		 * a promotion or demotion reaches it as a new certificate. */
		if (p->node.role != ROLE_MANAGER)
			set_managers(p, m);
		else if (p->store.phase != RAFT_UP)
			learn_manager_ids(p, m);
		if (wire_find(m, T_ROLE, 0) != NULL)
			ca_heartbeat_take(p, m);
		if (wire_get_u8(m, T_ROLE, &role) == 0 && role != p->node.role &&
		    renew_now(p))
			log_info("the cluster made this node a %s: renewing its certificate",
			    role == ROLE_MANAGER ? "manager" : "worker");
	}
	free(m);
}

void
cluster_tick(struct parent *p)
{
	if (p->view.removed_self)
		return;
	ca_follow(p);
	ca_leader_tick(p);
	renew_tick(p);
	assign_serve_tick(p);
	assign_tick(p);
	cluster_heartbeat(p);
}

void
cluster_heartbeat(struct parent *p)
{
	struct hb_call *hc;
	struct wire_enc hb;

	if (p->view.removed_self || p->view.net != NET_UP)
		return;
	for (size_t i = 0; i < p->view.nmanagers; i++) {
		if (strcmp(p->view.managers[i], p->node.advertise) == 0)
			continue;
		if ((hc = calloc(1, sizeof(*hc))) == NULL)
			return;
		hc->p = p;
		snprintf(hc->addr, sizeof(hc->addr), "%s", p->view.managers[i]);
		wire_enc_init(&hb, DSP_HEARTBEAT, 1, 2048);
		/* The managers' node ls shows a degraded node as such. */
		if (p->store.health[0] != '\0')
			wire_put_str(&hb, T_HEALTH, "degraded");
		if (p->ca.has_trust)
			wire_put_bytes(&hb, T_TRUST_DIGEST, p->ca.trust, sizeof(p->ca.trust));
		if (cluster_rpc(p, p->view.managers[i], &hb, heartbeat_done, hc) != 0) {
			log_debug("heartbeat to %s not sent", p->view.managers[i]);
			free(hc);
		}
		wire_enc_free(&hb);
	}
}
