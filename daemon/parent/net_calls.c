/*
 * The parent's typed calls to the net process (net_calls.h).  To add a
 * request to a child: write one wrapper here, in the same shape -- build
 * the request from typed arguments in one function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "net_calls.h"
#include "op_call.h"

int
net_reload(struct parent *p, const char *cert, const struct secbuf *key)
{
	const struct net_reload_req req = { .cert = cert, .key = key };

	return net_reload_full(p, &req);
}

int
net_reload_full(struct parent *p, const struct net_reload_req *req)
{
	struct wire_enc e;
	int r;

	wire_enc_init(&e, NET_RELOAD, child_next_id(&p->net), 65536);
	if (req->cert != NULL) {
		wire_put_str(&e, T_CERT, req->cert);
		wire_put_bytes(&e, T_NODE_KEY, req->key->p, req->key->len);
		if (req->chain != NULL)
			wire_put_str(&e, T_CA_CHAIN, req->chain);
	}
	if (req->ca != NULL)
		wire_put_str(&e, T_CA_CERT, req->ca);
	for (size_t i = 0; i < p->view.nremoved; i++)
		wire_put_str(&e, T_PEER_ID, p->view.removed[i]);
	r = child_call(&p->net, &e, -1, NULL, NULL);
	wire_enc_free(&e);
	return r;
}

int
net_start(struct op *op, const struct net_start_req *req, op_done_cb cb)
{
	struct parent *p = op->p;
	struct wire_enc e;
	int r;

	wire_enc_init(&e, NET_START, child_next_id(&p->net), 65536);
	wire_put_str(&e, T_NODE_ID, req->node_id);
	wire_put_str(&e, T_CLUSTER_ID, req->cluster_id);
	wire_put_u8(&e, T_ROLE, (uint8_t)req->role);
	wire_put_str(&e, T_CERT, req->cert);
	wire_put_bytes(&e, T_NODE_KEY, req->key->p, req->key->len);
	wire_put_str(&e, T_CA_CERT, req->ca);
	wire_put_str(&e, T_LISTEN_ADDR, req->listen);
	if (req->chain != NULL)
		wire_put_str(&e, T_CA_CHAIN, req->chain);
	r = op_call(&p->net, &e, -1, op, NULL, NULL, cb);
	wire_enc_free(&e);
	return r;
}

static int
stream_decode(struct op *op, const struct wire_msg *reply, int fd, void *out, char *why,
    size_t whylen)
{
	struct net_stream *s = out;

	s->fd = fd;
	return 0;
}

int
net_connect(struct op *op, const char *addr, const char *alpn, struct net_stream *out,
    op_done_cb cb)
{
	struct parent *p = op->p;
	struct wire_enc e;
	int r;

	out->fd = -1;
	wire_enc_init(&e, NET_CONNECT, child_next_id(&p->net), 1024);
	wire_put_str(&e, T_ADDRESS, addr);
	wire_put_str(&e, T_ALPN, alpn);
	r = op_call_fd(&p->net, &e, -1, op, stream_decode, out, cb);
	wire_enc_free(&e);
	return r;
}

void
net_join_result_clear(struct net_join_result *res)
{
	free(res->cert);
	free(res->ca);
	free(res->chain);
	free(res->dek_sealed);
	free(res->kek_sealed);
	memset(res, 0, sizeof(*res));
}

/* tag's bytes of m copied into *out; NULL and 0 when m has none. */
static int
copy_bytes(const struct wire_msg *m, uint16_t tag, uint8_t **out, size_t *outlen)
{
	const uint8_t *b;
	size_t len;

	*out = NULL;
	*outlen = 0;
	if (wire_get_bytes(m, tag, &b, &len) != 0)
		return 0;
	if ((*out = malloc(len > 0 ? len : 1)) == NULL)
		return HUSH_E_NOMEM;
	memcpy(*out, b, len);
	*outlen = len;
	return 0;
}

static int
join_decode(struct op *op, const struct wire_msg *m, void *out, char *why, size_t whylen)
{
	struct net_join_result *res = out;
	const struct wire_field *cf, *caf;
	int r;

	net_join_result_clear(res);
	if ((cf = wire_find(m, T_CERT, 0)) == NULL || (caf = wire_find(m, T_CA_CERT, 0)) == NULL ||
	    wire_get_str(m, T_NODE_ID, res->node_id, sizeof(res->node_id)) != 0 ||
	    wire_get_str(m, T_CLUSTER_ID, res->cluster_id, sizeof(res->cluster_id)) != 0 ||
	    wire_get_u8(m, T_ROLE, &res->role) != 0 ||
	    wire_get_i64(m, T_CERT_NOT_AFTER, &res->cert_not_after) != 0 ||
	    (res->cert = strndup((const char *)cf->val, cf->len)) == NULL ||
	    (res->ca = strndup((const char *)caf->val, caf->len)) == NULL) {
		net_join_result_clear(res);
		snprintf(why, whylen, "the manager's answer is incomplete");
		return HUSH_E_PROTO;
	}
	if ((caf = wire_find(m, T_CA_CHAIN, 0)) != NULL &&
	    (res->chain = strndup((const char *)caf->val, caf->len)) == NULL) {
		net_join_result_clear(res);
		snprintf(why, whylen, "%s", hush_strerror(HUSH_E_NOMEM));
		return HUSH_E_NOMEM;
	}
	if ((r = copy_bytes(m, T_DEK, &res->dek_sealed, &res->dek_sealed_len)) != 0 ||
	    (r = copy_bytes(m, T_KEK, &res->kek_sealed, &res->kek_sealed_len)) != 0) {
		net_join_result_clear(res);
		snprintf(why, whylen, "%s", hush_strerror(r));
		return r;
	}
	for (size_t i = 0; i < wire_count(m, T_MANAGER_ADDR) && i < MAX_PEERS; i++)
		wire_field_str(wire_find(m, T_MANAGER_ADDR, i), res->managers[res->nmanagers++],
		    sizeof(res->managers[0]));
	for (size_t i = 0; i < wire_count(m, T_PEER_ID) && i < MAX_PEERS; i++)
		wire_field_str(wire_find(m, T_PEER_ID, i), res->manager_ids[res->nmanager_ids++],
		    sizeof(res->manager_ids[0]));
	return 0;
}

int
net_join(struct op *op, const struct net_join_req *req, struct net_join_result *out,
    op_done_cb cb)
{
	struct parent *p = op->p;
	struct wire_enc e;
	int r;

	wire_enc_init(&e, NET_JOIN, child_next_id(&p->net), 65536);
	wire_put_str(&e, T_ADDRESS, req->addr);
	wire_put_bytes(&e, T_DIGEST, req->digest, req->digestlen);
	wire_put_bytes(&e, T_CSR, req->csr, req->csrlen);
	wire_put_bytes(&e, T_SEAL_PUB, req->seal_pub, SEAL_PUB_BYTES);
	wire_put_bytes(&e, T_JOIN_PROOF, req->proof, req->prooflen);
	wire_put_str(&e, T_ADVERTISE_ADDR, req->advertise);
	r = op_call(&p->net, &e, -1, op, join_decode, out, cb);
	wire_enc_free(&e);
	return r;
}

void
net_join_serve_answer(struct parent *p, uint32_t req_id, const struct net_join_grant *g)
{
	struct wire_enc e;

	wire_enc_init(&e, NET_JOIN_SERVE | MSG_REPLY, req_id, 65536);
	wire_put_str(&e, T_NODE_ID, g->node_id);
	wire_put_str(&e, T_CLUSTER_ID, g->cluster_id);
	wire_put_str(&e, T_CERT, g->cert);
	if (g->chain != NULL)
		wire_put_str(&e, T_CA_CHAIN, g->chain);
	wire_put_u8(&e, T_ROLE, g->role);
	wire_put_i64(&e, T_CERT_NOT_AFTER, g->cert_not_after);
	for (size_t i = 0; i < g->nmanagers; i++) {
		wire_put_str(&e, T_MANAGER_ADDR, g->managers[i]);
		wire_put_str(&e, T_PEER_ID, g->manager_ids[i]);
	}
	if (g->dek_sealed != NULL)
		wire_put_bytes(&e, T_DEK, g->dek_sealed, g->dek_sealed_len);
	if (g->kek_sealed != NULL)
		wire_put_bytes(&e, T_KEK, g->kek_sealed, g->kek_sealed_len);
	child_answer(&p->net, &e, -1);
}

void
net_peer_answer(struct parent *p, uint32_t req_id, const uint8_t *frame, size_t len)
{
	struct wire_enc e;

	wire_enc_init(&e, NET_PEER_REQUEST | MSG_REPLY, req_id, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_PAYLOAD, frame, len);
	child_answer(&p->net, &e, -1);
}

void
net_extca_result_clear(struct net_extca_result *res)
{
	free(res->cert);
	free(res->chain);
	res->cert = res->chain = NULL;
}

static int
extca_signed(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	struct net_extca_result *out = arg;
	const struct wire_field *f;

	/* the schema requires T_CERT and bounds both */
	if ((f = wire_find(reply, T_CERT, 0)) == NULL ||
	    (out->cert = strndup((const char *)f->val, f->len)) == NULL) {
		snprintf(why, whylen, "the net process answered without a certificate");
		return HUSH_E_PROTO;
	}
	if ((f = wire_find(reply, T_CA_CHAIN, 0)) != NULL &&
	    (out->chain = strndup((const char *)f->val, f->len)) == NULL) {
		net_extca_result_clear(out);
		return HUSH_E_NOMEM;
	}
	return 0;
}

int
net_extca_sign(struct op *op, const struct net_extca_req *req, struct net_extca_result *out,
    op_done_cb cb)
{
	struct parent *p = op->p;
	struct wire_enc e;
	int r;

	wire_enc_init(&e, NET_EXTCA_SIGN, child_next_id(&p->net), 40000);
	wire_put_str(&e, T_EXTCA_URL, req->url);
	wire_put_str(&e, T_EXTCA_CACERT, req->cacert);
	wire_put_bytes(&e, T_CSR, req->csr, req->csrlen);
	wire_put_str(&e, T_SUBJ_CN, req->cn);
	wire_put_str(&e, T_SUBJ_OU, req->ou);
	wire_put_str(&e, T_SUBJ_O, req->o);
	r = op_call(&p->net, &e, -1, op, extca_signed, out, cb);
	wire_enc_free(&e);
	return r;
}
