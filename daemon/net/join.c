/*
 * hush-join/1: a node without a certificate asks a manager for one.
 *
 *	manager -> joiner	JOIN_HELLO {trust bundle}
 *	joiner -> manager	JOIN_REQUEST {CSR, sealing key, proof, address}
 *	manager -> joiner	JOIN_REQUEST|MSG_REPLY {node id, cert, chain, ...}
 *				or MSG_ERROR
 *
 * The joiner cannot verify the manager during the handshake: it has no CA
 * yet.  The manager sends every root it trusts (the current one first,
 * then a rotation's next root).  Exactly one of them must be the root the
 * join token names by digest (the parent passes the digest, never the
 * token); the manager's TLS chain -- its leaf and the intermediate it
 * presents, which a manager whose certificate comes from the next root
 * must send -- has to verify against that pinned root alone.  Only then
 * does the joiner take the whole bundle as its trust, because a manager
 * the token vouches for vouches for the rest, and send the request; the
 * certificate it is issued (with the chain it is to present after it)
 * must verify against that bundle.  The request proves the token without carrying it:
 * its proof is an HMAC under the token's secret that the joiner's parent
 * computed, and the manager's parent checks (daemon/parent/ops_join.c);
 * neither net process ever holds the secret.  The manager side needs no
 * client certificate for this ALPN and allows one request per connection
 * within NET_JOIN_MS.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "join_token.h"
#include "log.h"
#include "net_int.h"
#include "x509.h"

/* The request id of our JOIN_REQUEST; the answer must carry it. */
#define JOIN_WIRE_ID	1

enum jc_stage { JC_HELLO, JC_RESULT, JC_DONE };

struct join_client {
	enum jc_stage	 stage;
	uint8_t		 digest[JOIN_TOKEN_DIGEST_BYTES];	/* the CA's, pinned */
	uint8_t		 seal_pub[32];
	uint8_t		 proof[32];
	uint8_t		*csr;
	size_t		 csrlen;
	char		 adv[ADDR_MAX + 1];
	char		*ca_pem;	/* the bundle, adopted once its pinned root vouched */
	size_t		 ca_len;
	char		 server_o[HUSH_ID_LEN + 1];
};

static struct wire_msg fm;

static void
jc_free(struct join_client *jc)
{
	if (jc == NULL)
		return;
	free(jc->csr);
	free(jc->ca_pem);
	free(jc);
}

void
join_start(const struct wire_msg *m)
{
	struct join_client *jc;
	const uint8_t *csr, *digest, *seal_pub, *proof;
	char addr[ADDR_MAX + 1], why[300];
	size_t len, csrlen;
	struct conn *c;
	int r;

	if ((jc = calloc(1, sizeof(*jc))) == NULL) {
		net_error_parent(m->hdr.request_id, HUSH_E_NOMEM, "out of memory");
		return;
	}
	/* the schema held the three keys to 32 bytes each */
	if (wire_get_str(m, T_ADDRESS, addr, sizeof(addr)) != 0 ||
	    wire_get_bytes(m, T_DIGEST, &digest, &len) != 0 ||
	    wire_get_bytes(m, T_SEAL_PUB, &seal_pub, &len) != 0 ||
	    wire_get_bytes(m, T_JOIN_PROOF, &proof, &len) != 0 ||
	    wire_get_bytes(m, T_CSR, &csr, &csrlen) != 0 ||
	    wire_get_str(m, T_ADVERTISE_ADDR, jc->adv, sizeof(jc->adv)) != 0) {
		jc_free(jc);
		net_error_parent(m->hdr.request_id, HUSH_E_PROTO, "NET_JOIN without its fields");
		return;
	}
	if ((jc->csr = malloc(csrlen)) == NULL) {
		jc_free(jc);
		net_error_parent(m->hdr.request_id, HUSH_E_NOMEM, "out of memory");
		return;
	}
	memcpy(jc->digest, digest, sizeof(jc->digest));
	memcpy(jc->seal_pub, seal_pub, sizeof(jc->seal_pub));
	memcpy(jc->proof, proof, sizeof(jc->proof));
	memcpy(jc->csr, csr, csrlen);
	jc->csrlen = csrlen;
	if ((c = conn_connect(PROTO_JOIN, addr, NULL, &r, why, sizeof(why))) == NULL) {
		jc_free(jc);
		net_error_parent(m->hdr.request_id, r, why);
		return;
	}
	c->jc = jc;
	c->parent_pending = true;
	c->parent_id = m->hdr.request_id;
	log_info("joining the cluster through the manager at %s", c->addr);
	conn_start(c);
}

void
join_established(struct conn *c)
{
	struct wire_enc e;

	/* One deadline for the whole exchange, counted from the start. */
	c->deadline = c->started + NET_JOIN_MS;
	c->out.max = NET_JOIN_OUT_MAX;
	netframe_rd_init(&c->rd, NETFRAME_JOIN_MAX);
	if (!c->inbound) {
		c->jc->stage = JC_HELLO;
		return;
	}
	/* A stranger holds its slot only as long as a joiner needs to ask. */
	if (net_now() + NET_JOIN_REQUEST_MS < c->deadline)
		c->deadline = net_now() + NET_JOIN_REQUEST_MS;
	/* Its outcome is what the log says: accepted, refused, or counted. */
	log_debug("join connection from %s", c->addr);
	wire_enc_init(&e, JOIN_HELLO, 0, NETFRAME_JOIN_MAX);
	/* Every root we trust: the joiner finds the token's among them. */
	wire_put_str(&e, T_CA_CERT, c->ident->ca_pem);
	(void)conn_queue_enc(c, &e);
}

bool
join_can_take(const struct conn *c)
{
	if (c->inbound)
		return !c->join_got_request;
	return c->jc != NULL && c->jc->stage != JC_DONE;
}

static void
copy_field(struct wire_enc *e, const struct wire_msg *m, uint16_t tag)
{
	const struct wire_field *f;

	if ((f = wire_find(m, tag, 0)) != NULL)
		wire_put_bytes(e, tag, f->val, f->len);
}

static void
server_frame(struct conn *c, uint8_t *frame, size_t len)
{
	struct wire_enc e;
	char why[300];

	if (netframe_parse(frame, len, NETFRAME_JOIN_MAX, netframe_join_requests, &fm,
	    why, sizeof(why)) != 0) {
		c->fault = FAULT_BAD;
		unauth_log(LOG_LVL_WARN, "closing join connection from %s: %s", c->addr, why);
		netframe_free(frame);
		conn_close(c, HUSH_E_PROTO, why);
		return;
	}
	c->join_got_request = true;
	/* The parent may take its time (a raft commit): the whole join's deadline. */
	c->deadline = c->started + NET_JOIN_MS;
	/* The proof, not a token: the manager's parent checks it. */
	wire_enc_init(&e, NET_JOIN_SERVE, net_next_call_id(), NET_MAX_MSG);
	copy_field(&e, &fm, T_CSR);
	copy_field(&e, &fm, T_SEAL_PUB);
	copy_field(&e, &fm, T_JOIN_PROOF);
	copy_field(&e, &fm, T_ADVERTISE_ADDR);
	wire_put_str(&e, T_ADDRESS, c->addr);
	net_call_parent(&e, NET_JOIN_SERVE, c->id, fm.hdr.request_id, JOIN_REQUEST);
	netframe_free(frame);
}

static void
join_fail(struct conn *c, int code, const char *msg)
{
	log_warn("join through %s failed: %s", c->addr, msg);
	conn_close(c, code, msg);
}

/*
 * The root of bundle whose PEM bytes have the token's digest, as a
 * malloc'd copy; NULL unless exactly one does (two would be the same root
 * twice, which no bundle of ours holds).
 */
static char *
pinned_root(const struct join_client *jc, const char *bundle, size_t len, size_t *root_len)
{
	uint8_t digest[JOIN_TOKEN_DIGEST_BYTES];
	char *one, *found = NULL;
	size_t n, i, onelen, hits = 0;

	*root_len = 0;
	if (x509_bundle_count(bundle, len, &n) != 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if (x509_bundle_get(bundle, len, i, &one, &onelen) != 0)
			break;
		if (join_token_digest_pem(one, onelen, digest) == 0 &&
		    sodium_memcmp(digest, jc->digest, sizeof(digest)) == 0 && hits++ == 0) {
			found = one;
			*root_len = onelen;
			continue;
		}
		free(one);
	}
	if (i < n || hits != 1) {
		free(found);
		*root_len = 0;
		return NULL;
	}
	return found;
}

/* Every certificate of a bundle a CA, as NET_START will insist. */
static bool
bundle_all_ca(const char *bundle, size_t len)
{
	struct x509_cert_info info;
	size_t n, i, onelen;
	char *one;
	bool ok;

	if (x509_bundle_count(bundle, len, &n) != 0)
		return false;
	for (i = 0; i < n; i++) {
		if (x509_bundle_get(bundle, len, i, &one, &onelen) != 0)
			return false;
		ok = x509_cert_info(one, onelen, &info) == 0 && info.is_ca;
		free(one);
		if (!ok)
			return false;
	}
	return true;
}

/* The greeting: pin a root, verify the manager against it, adopt the bundle, ask. */
static void
client_hello(struct conn *c, uint8_t *frame, size_t len)
{
	struct join_client *jc = c->jc;
	struct x509_cert_info info;
	const uint8_t *ca;
	struct wire_enc e;
	char why[300], msg[1024], *pem = NULL, *chain = NULL, *root;
	size_t calen, pemlen, chainlen, rootlen;

	why[0] = '\0';
	if (netframe_parse(frame, len, NETFRAME_JOIN_MAX, netframe_join_hello, &fm, why,
	    sizeof(why)) != 0 || wire_get_bytes(&fm, T_CA_CERT, &ca, &calen) != 0) {
		snprintf(msg, sizeof(msg), "the manager at %s sent a malformed greeting: %s",
		    c->addr, why);
		join_fail(c, HUSH_E_PROTO, msg);
		return;
	}
	if ((root = pinned_root(jc, (const char *)ca, calen, &rootlen)) == NULL) {
		join_fail(c, HUSH_E_AUTH, "the cluster's CA does not match the join token");
		return;
	}
	if (!bundle_all_ca((const char *)ca, calen)) {
		free(root);
		join_fail(c, HUSH_E_AUTH, "the cluster CA certificate is not a CA certificate");
		return;
	}
	/* The handshake proved the manager holds its leaf's key. */
	if ((chain = tls_peer_chain_pem(c->ssl, &chainlen)) == NULL ||
	    x509_verify_chain(chain, chainlen, root, rootlen, (int64_t)time(NULL), NULL,
	    why, sizeof(why)) != 0 ||
	    (pem = tls_peer_pem(c->ssl, &pemlen)) == NULL ||
	    x509_cert_info(pem, pemlen, &info) != 0 ||
	    strcmp(info.subject.ou, X509_OU_MANAGER) != 0 ||
	    !hush_id_valid(info.subject.cn) || !hush_id_valid(info.subject.o)) {
		free(root);
		free(chain);
		free(pem);
		snprintf(msg, sizeof(msg), "the manager's certificate is not signed by the "
		    "cluster CA%s%s", why[0] != '\0' ? ": " : "", why);
		join_fail(c, HUSH_E_AUTH, msg);
		return;
	}
	free(root);
	free(chain);
	free(pem);
	if ((jc->ca_pem = malloc(calen + 1)) == NULL) {
		join_fail(c, HUSH_E_NOMEM, "out of memory");
		return;
	}
	memcpy(jc->ca_pem, ca, calen);
	jc->ca_pem[calen] = '\0';
	jc->ca_len = calen;
	/* hush_id_valid() above: exactly HUSH_ID_LEN characters. */
	memcpy(jc->server_o, info.subject.o, HUSH_ID_LEN);
	jc->server_o[HUSH_ID_LEN] = '\0';

	wire_enc_init(&e, JOIN_REQUEST, JOIN_WIRE_ID, NETFRAME_JOIN_MAX);
	wire_put_bytes(&e, T_CSR, jc->csr, jc->csrlen);
	wire_put_bytes(&e, T_SEAL_PUB, jc->seal_pub, sizeof(jc->seal_pub));
	wire_put_bytes(&e, T_JOIN_PROOF, jc->proof, sizeof(jc->proof));
	wire_put_str(&e, T_ADVERTISE_ADDR, jc->adv);
	if (conn_queue_enc(c, &e) != 0)
		return;
	jc->stage = JC_RESULT;
}

/* Believe the result only as far as the pinned CA vouches for it. */
static void
client_result(struct conn *c, uint8_t *frame, size_t len)
{
	struct join_client *jc = c->jc;
	struct x509_cert_info info;
	const struct wire_field *f, *fch;
	const uint8_t *cert;
	struct wire_enc e;
	uint16_t allowed[3];
	char why[300], msg[1400], detail[1100], *full;
	char node[HUSH_ID_LEN + 1], cluster[HUSH_ID_LEN + 1];
	const char *ou;
	size_t certlen, i, fulllen, chainlen;
	int r;
	uint8_t role;
	int status;

	if (netframe_reply_types(JOIN_REQUEST, allowed) != 0 ||
	    netframe_parse(frame, len, NETFRAME_JOIN_MAX, allowed, &fm, why,
	    sizeof(why)) != 0 || fm.hdr.request_id != JOIN_WIRE_ID) {
		snprintf(msg, sizeof(msg), "the manager at %s sent a malformed answer: %s",
		    c->addr, fm.hdr.request_id != JOIN_WIRE_ID ? "wrong request id" : why);
		join_fail(c, HUSH_E_PROTO, msg);
		return;
	}
	if ((status = msg_reply_status(&fm, detail, sizeof(detail))) != 0) {
		/* The manager's words, verbatim: "invalid join token" and the like. */
		join_fail(c, status, detail[0] != '\0' ? detail : hush_strerror(status));
		return;
	}
	if (wire_get_str(&fm, T_NODE_ID, node, sizeof(node)) != 0 ||
	    wire_get_str(&fm, T_CLUSTER_ID, cluster, sizeof(cluster)) != 0 ||
	    wire_get_bytes(&fm, T_CERT, &cert, &certlen) != 0 ||
	    wire_get_u8(&fm, T_ROLE, &role) != 0) {
		join_fail(c, HUSH_E_PROTO, "the manager's answer lacks its fields");
		return;
	}
	if ((ou = x509_role_ou(role)) == NULL) {
		join_fail(c, HUSH_E_PROTO, "the manager assigned an unknown role");
		return;
	}
	/* The certificate and what it is to be presented with, as peers will see them. */
	fch = wire_find(&fm, T_CA_CHAIN, 0);
	chainlen = fch != NULL ? fch->len : 0;
	if ((full = malloc(certlen + chainlen + 2)) == NULL) {
		join_fail(c, HUSH_E_NOMEM, "out of memory");
		return;
	}
	memcpy(full, cert, certlen);
	fulllen = certlen;
	if (chainlen > 0) {
		if (certlen > 0 && cert[certlen - 1] != '\n')
			full[fulllen++] = '\n';
		memcpy(full + fulllen, fch->val, chainlen);
		fulllen += chainlen;
	}
	full[fulllen] = '\0';
	why[0] = '\0';
	r = x509_verify_chain(full, fulllen, jc->ca_pem, jc->ca_len, (int64_t)time(NULL),
	    NULL, why, sizeof(why));
	free(full);
	if (r != 0 || x509_cert_info((const char *)cert, certlen, &info) != 0) {
		snprintf(msg, sizeof(msg), "the manager issued a certificate that is not "
		    "valid for the cluster CA: %s", why);
		join_fail(c, HUSH_E_AUTH, msg);
		return;
	}
	if (strcmp(info.subject.cn, node) != 0 || strcmp(info.subject.o, cluster) != 0 ||
	    strcmp(cluster, jc->server_o) != 0 || strcmp(info.subject.ou, ou) != 0) {
		snprintf(msg, sizeof(msg), "the manager issued a certificate for CN=%s, "
		    "OU=%s, O=%s that does not match node %s, role %s, cluster %s",
		    info.subject.cn, info.subject.ou, info.subject.o, node, ou, cluster);
		join_fail(c, HUSH_E_AUTH, msg);
		return;
	}
	if (!x509_cert_matches_csr((const char *)cert, certlen, jc->csr, jc->csrlen)) {
		join_fail(c, HUSH_E_AUTH, "the manager issued a certificate for a key that "
		    "is not this node's");
		return;
	}

	wire_enc_init(&e, NET_JOIN | MSG_REPLY, c->parent_id, NET_MAX_MSG);
	wire_put_str(&e, T_NODE_ID, node);
	wire_put_str(&e, T_CLUSTER_ID, cluster);
	wire_put_bytes(&e, T_CERT, cert, certlen);
	/* The whole bundle the pinned root vouched for, and the chain to present. */
	wire_put_str(&e, T_CA_CERT, jc->ca_pem);
	if (fch != NULL)
		wire_put_bytes(&e, T_CA_CHAIN, fch->val, fch->len);
	wire_put_u8(&e, T_ROLE, role);
	/* What the certificate says wins over what the manager wrote. */
	wire_put_i64(&e, T_CERT_NOT_AFTER, info.not_after);
	for (i = 0; (f = wire_find(&fm, T_MANAGER_ADDR, i)) != NULL; i++)
		wire_put_bytes(&e, T_MANAGER_ADDR, f->val, f->len);
	for (i = 0; (f = wire_find(&fm, T_PEER_ID, i)) != NULL; i++)
		wire_put_bytes(&e, T_PEER_ID, f->val, f->len);
	/* Opaque to net: sealed to this node's key by the manager. */
	if ((f = wire_find(&fm, T_DEK, 0)) != NULL)
		wire_put_bytes(&e, T_DEK, f->val, f->len);
	if ((f = wire_find(&fm, T_KEK, 0)) != NULL)
		wire_put_bytes(&e, T_KEK, f->val, f->len);
	c->parent_pending = false;
	net_send_parent(&e, -1);
	jc->stage = JC_DONE;
	log_info("joined cluster %s as node %s (%s)", cluster, node, ou);
	conn_finish(c);
}

void
join_frame(struct conn *c, uint8_t *frame, size_t len)
{
	if (c->inbound) {
		server_frame(c, frame, len);	/* takes the frame */
		return;
	}
	if (c->jc->stage == JC_HELLO)
		client_hello(c, frame, len);
	else if (c->jc->stage == JC_RESULT)
		client_result(c, frame, len);
	netframe_free(frame);
}

void
join_closed(struct conn *c, int code, const char *why)
{
	if (!c->inbound && c->parent_pending) {
		c->parent_pending = false;
		net_error_parent(c->parent_id, code != 0 ? code : HUSH_E_UNAVAIL,
		    why != NULL ? why : "the join connection closed");
	}
	jc_free(c->jc);
	c->jc = NULL;
}

void
join_parent_reply(const struct pcall *pc, int status, const struct wire_msg *m,
    const char *detail)
{
	struct wire_enc e;
	struct conn *c;
	size_t i;
	int r;

	if ((c = conn_find(pc->conn_id)) == NULL || c->state != CS_OPEN) {
		log_info("the joiner left before its answer was ready");
		return;
	}
	if (status != 0) {
		/* A wrong token or a malformed request, not our own trouble. */
		if (status == HUSH_E_PERM || status == HUSH_E_AUTH || status == HUSH_E_PROTO ||
		    status == HUSH_E_INVAL)
			c->fault = FAULT_BAD;
		unauth_log(LOG_LVL_INFO, "join from %s refused: %s", c->addr,
		    detail != NULL && detail[0] != '\0' ? detail : hush_strerror(status));
		/* A failure fails e: conn_queue_enc() below then closes. */
		(void)!msg_error_reply(&e, pc->peer_req, status, detail);
	} else {
		/* Its next connections will come with a certificate from here. */
		admit_learn(&N.adm, &c->src, net_now());
		wire_enc_init(&e, JOIN_REQUEST | MSG_REPLY, pc->peer_req, NETFRAME_JOIN_MAX);
		for (i = 0; i < m->nfields; i++)
			if (m->fields[i].tag != T_CA_CERT)
				wire_put_bytes(&e, m->fields[i].tag, m->fields[i].val,
				    m->fields[i].len);
		/*
		 * The bundle the joiner pinned a root of with the HELLO; the
		 * rest, T_CA_CHAIN included, is the parent's answer as it is.
		 */
		wire_put_str(&e, T_CA_CERT, c->ident->ca_pem);
		log_info("join from %s accepted", c->addr);
	}
	if ((r = conn_queue_enc(c, &e)) != 0) {
		conn_close(c, r, "cannot queue the answer to a join");
		return;
	}
	conn_finish(c);
	conn_kick(c);
}
