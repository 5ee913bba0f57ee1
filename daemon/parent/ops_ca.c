/*
 * hushctl ca: the cluster's root certificate, and a CA rotation started
 * and watched (README "Rotate the CA"; enum ca_phase in lib/msg.h).
 *
 * A rotation starts here and goes on without this op: pki makes (or
 * checks) the next root and cross-signs it, CMD_CA_ROTATE records it in the
 * store, and from then on every node follows the store (ca_follow.c) and
 * the leader moves the phases on.  The op answers as soon as the rotation
 * is recorded; hushctl watches its progress with CTL_CA.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfssl.h"
#include "err.h"
#include "log.h"
#include "parent.h"
#include "pki_calls.h"
#include "store_calls.h"

void
op_ca(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	uint32_t total, trusting, renewed;
	struct wire_enc e;
	char held[128];

	if (!p->ca.known || p->store.phase != RAFT_UP) {
		op_error(op, HUSH_E_UNAVAIL, "this manager has not loaded the cluster's CA yet");
		return;
	}
	ca_counts(p, &total, &trusting, &renewed);
	wire_enc_init(&e, CTL_CA | MSG_REPLY, op->client_req, 65536);
	wire_put_str(&e, T_CA_CERT, p->ca.root);
	if (p->ca.next != NULL)
		wire_put_str(&e, T_CA_NEXT, p->ca.next);
	wire_put_u8(&e, T_CA_PHASE, p->ca.phase);
	wire_put_u32(&e, T_NODES_TOTAL, total);
	wire_put_u32(&e, T_NODES_TRUSTING, trusting);
	wire_put_u32(&e, T_NODES_RENEWED, renewed);
	ca_waiting_for(p, held, sizeof(held));
	if (held[0] != '\0')
		wire_put_str(&e, T_STATUS_TEXT, held);
	op_reply(op, &e);
}

struct rotate_ctx {
	uint8_t			 req_id[HUSH_REQ_ID_LEN];
	bool			 set_expiry;
	uint64_t		 expiry;
	struct pki_rotation	 next;
	char			*extca_url;	/* the next root's external CA, or NULL */
	char			*extca_cacert;
};

static char *
field_dup(const struct wire_msg *m, uint16_t tag)
{
	const struct wire_field *f = wire_find(m, tag, 0);

	return f != NULL ? strndup((const char *)f->val, f->len) : NULL;
}

static void
rotate_ctx_free(void *arg)
{
	struct rotate_ctx *x = arg;

	pki_rotation_clear(&x->next);
	free(x->extca_url);
	free(x->extca_cacert);
	free(x);
}

static void
answer(struct op *op)
{
	struct rotate_ctx *x = op->ctx;
	struct wire_enc e;

	wire_enc_init(&e, CTL_CA_ROTATE | MSG_REPLY, op->client_req, 65536);
	wire_put_str(&e, T_CA_NEXT, x->next.next);
	wire_put_u8(&e, T_CA_PHASE, CA_PHASE_TRUST);
	op_reply(op, &e);
}

static void
expiry_set(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	answer(op);
}

static void
recorded(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct rotate_ctx *x = op->ctx;
	struct store_cluster_change c;
	uint8_t req[HUSH_REQ_ID_LEN];
	int r;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	log_info("CA rotation started: every node will trust the next root, then renew");
	if (!x->set_expiry) {
		answer(op);
		return;
	}
	/* Its own request id, derived so that a retried rotate retries this too. */
	crypto_generichash(req, sizeof(req), x->req_id, sizeof(x->req_id),
	    (const uint8_t *)"expiry", 6);
	memset(&c, 0, sizeof(c));
	c.req_id = req;
	c.set_expiry = true;
	c.cert_expiry = x->expiry;
	if ((r = store_cluster_update(op, &c, expiry_set)) != 0)
		op_error(op, r, NULL);
}

static void
made(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct rotate_ctx *x = op->ctx;
	struct ca_rotate_cmd c;
	int r;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	c = (struct ca_rotate_cmd){
		.req_id = x->req_id,
		.digest = x->next.spki,
		.next_cert = x->next.next,
		.next_key = &x->next.next_key,
		.cross_cert = x->next.cross,
		.extca_url = x->extca_url,
		.extca_cacert = x->extca_cacert,
	};
	if ((r = store_ca_rotate(op, &c, recorded)) != 0)
		op_error(op, r, NULL);
}

void
op_ca_rotate(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct pki_rotate_req req;
	struct rotate_ctx *x;
	const struct wire_field *f;
	char why[256];
	bool ext;
	int r;

	if (p->settings.ca != PKI_CA_LOADED || !p->ca.known) {
		op_error(op, HUSH_E_UNAVAIL, "this manager has not loaded the cluster's CA yet");
		return;
	}
	ext = wire_find(m, T_EXTCA_URL, 0) != NULL;
	if (ext && (wire_find(m, T_CA_CERT, 0) == NULL || wire_find(m, T_CA_KEY, 0) != NULL)) {
		op_error(op, HUSH_E_INVAL, "an external CA's root is given as its certificate "
		    "alone (--ca-cert): its key stays with the external CA");
		return;
	}
	if (!ext && (wire_find(m, T_CA_CERT, 0) == NULL) != (wire_find(m, T_CA_KEY, 0) == NULL)) {
		op_error(op, HUSH_E_INVAL, "an own root needs both its certificate and its key");
		return;
	}
	if (ext) {
		struct cfssl_url u;
		char *url = field_dup(m, T_EXTCA_URL);

		r = url == NULL ? HUSH_E_NOMEM : cfssl_url_parse(url, &u, why, sizeof(why));
		free(url);
		if (r != 0) {
			op_error(op, r, why);
			return;
		}
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	op->ctx = x;
	op->ctx_free = rotate_ctx_free;
	f = wire_find(m, T_REQ_ID, 0);
	memcpy(x->req_id, f->val, sizeof(x->req_id));
	if (wire_get_u64(m, T_CERT_EXPIRY, &x->expiry) == 0)
		x->set_expiry = true;
	if (ext && ((x->extca_url = field_dup(m, T_EXTCA_URL)) == NULL ||
	    (wire_find(m, T_EXTCA_CACERT, 0) != NULL &&
	    (x->extca_cacert = field_dup(m, T_EXTCA_CACERT)) == NULL))) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	memset(&req, 0, sizeof(req));
	if ((f = wire_find(m, T_CA_CERT, 0)) != NULL) {
		req.cert = f->val;
		req.certlen = f->len;
	}
	if ((f = wire_find(m, T_CA_KEY, 0)) != NULL) {
		req.key = f->val;
		req.keylen = f->len;
	}
	if ((r = pki_ca_rotate(op, &req, &x->next, made)) != 0)
		op_error(op, r, NULL);
}
