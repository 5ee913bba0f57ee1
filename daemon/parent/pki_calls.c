/*
 * The parent's typed calls to the pki process (pki_calls.h).  To add a
 * request to a child: write one wrapper here, in the same shape -- build
 * the request from typed arguments, decode the answer in one static
 * function, go through op_call().
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "op_call.h"
#include "pki/pki.h"
#include "pki_calls.h"
#include "x509.h"

void
pki_ca_clear(struct pki_ca *ca)
{
	free(ca->cert);
	ca->cert = NULL;
	secbuf_free(&ca->key);
	sodium_memzero(ca->digest, sizeof(ca->digest));
}

void
pki_cert_clear(struct pki_cert *cert)
{
	free(cert->pem);
	cert->pem = NULL;
	free(cert->chain);
	cert->chain = NULL;
	cert->not_after = 0;
}

void
pki_rotation_clear(struct pki_rotation *rot)
{
	free(rot->next);
	rot->next = NULL;
	free(rot->cross);
	rot->cross = NULL;
	secbuf_free(&rot->next_key);
	sodium_memzero(rot->spki, sizeof(rot->spki));
}

/* Sends e to pki and frees it, whatever happens. */
static int
pki_send(struct op *op, struct wire_enc *e, op_call_decode decode, void *out, op_done_cb cb)
{
	int r = op_call(&op->p->pki, e, -1, op, decode, out, cb);

	wire_enc_free(e);
	return r;
}

static int
ca_created(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	struct pki_ca *out = arg;
	const struct wire_field *f;
	const uint8_t *b;
	size_t len;

	/* The schema requires all three and holds the digest to 32 bytes. */
	if ((f = wire_find(reply, T_CA_CERT, 0)) == NULL ||
	    (out->cert = strndup((const char *)f->val, f->len)) == NULL ||
	    wire_get_bytes(reply, T_CA_KEY, &b, &len) != 0 ||
	    secbuf_dup(&out->key, b, len) != 0 ||
	    wire_get_bytes(reply, T_DIGEST, &b, &len) != 0 || len != sizeof(out->digest)) {
		pki_ca_clear(out);
		snprintf(why, whylen, "the pki process answered without a CA");
		return HUSH_E_PROTO;
	}
	memcpy(out->digest, b, sizeof(out->digest));
	return 0;
}

int
pki_ca_create(struct op *op, struct pki_ca *out, op_done_cb cb)
{
	struct wire_enc e;

	wire_enc_init(&e, PKI_CA_CREATE, child_next_id(&op->p->pki), 256);
	wire_put_i64(&e, T_NOW, parent_now());
	wire_put_u64(&e, T_LIFETIME, PKI_CA_LIFETIME);
	return pki_send(op, &e, ca_created, out, cb);
}

static int
issued(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	struct pki_cert *out = arg;
	const struct wire_field *f;

	if ((f = wire_find(reply, T_CERT, 0)) == NULL ||
	    wire_get_i64(reply, T_CERT_NOT_AFTER, &out->not_after) != 0 ||
	    (out->pem = strndup((const char *)f->val, f->len)) == NULL) {
		snprintf(why, whylen, "the pki process answered without a certificate");
		return HUSH_E_PROTO;
	}
	if ((f = wire_find(reply, T_CA_CHAIN, 0)) != NULL &&
	    (out->chain = strndup((const char *)f->val, f->len)) == NULL) {
		pki_cert_clear(out);
		snprintf(why, whylen, "out of memory for the certificate's chain");
		return HUSH_E_NOMEM;
	}
	return 0;
}

int
pki_issue(struct op *op, const struct pki_issue_req *req, struct pki_cert *out, op_done_cb cb)
{
	const char *ou = x509_role_ou(req->role);
	struct wire_enc e;

	if (ou == NULL)
		return HUSH_E_INVAL;
	wire_enc_init(&e, PKI_ISSUE, child_next_id(&op->p->pki), PKI_MAX_MSG);
	wire_put_bytes(&e, T_CSR, req->csr, req->csrlen);
	wire_put_str(&e, T_SUBJ_CN, req->node_id);
	wire_put_str(&e, T_SUBJ_OU, ou);
	wire_put_str(&e, T_SUBJ_O, req->cluster_id);
	wire_put_i64(&e, T_NOW, parent_now());
	wire_put_u64(&e, T_LIFETIME, req->lifetime ? req->lifetime : HUSH_DEFAULT_CERT_EXPIRY);
	return pki_send(op, &e, issued, out, cb);
}

static int
ca_loaded(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	uint8_t *digest = arg;
	const uint8_t *d;
	size_t len;

	if (wire_get_bytes(reply, T_DIGEST, &d, &len) != 0 || len != 32) {
		snprintf(why, whylen, "the pki process answered without the CA's digest");
		return HUSH_E_PROTO;
	}
	memcpy(digest, d, 32);
	return 0;
}

int
pki_ca_load_state(struct op *op, const struct pki_ca_state *st, uint8_t digest[32],
    op_done_cb cb)
{
	struct wire_enc e;

	wire_enc_init(&e, PKI_CA_LOAD, child_next_id(&op->p->pki), PKI_MAX_MSG);
	wire_put_bytes(&e, T_CA_CERT, st->cert, st->certlen);
	if (st->key != NULL)
		wire_put_bytes(&e, T_CA_KEY, st->key, st->keylen);
	if (st->next != NULL)
		wire_put_bytes(&e, T_CA_NEXT, st->next, st->nextlen);
	if (st->next_key != NULL)
		wire_put_bytes(&e, T_CA_NEXT_KEY, st->next_key, st->next_keylen);
	if (st->cross != NULL)
		wire_put_bytes(&e, T_CA_CROSS, st->cross, st->crosslen);
	if (st->phase != CA_PHASE_NONE)
		wire_put_u8(&e, T_CA_PHASE, st->phase);
	return pki_send(op, &e, ca_loaded, digest, cb);
}

int
pki_ca_load(struct op *op, const uint8_t *cert, size_t certlen, const uint8_t *key,
    size_t keylen, uint8_t digest[32], op_done_cb cb)
{
	struct pki_ca_state st;

	memset(&st, 0, sizeof(st));
	st.cert = cert;
	st.certlen = certlen;
	st.key = key;
	st.keylen = keylen;
	return pki_ca_load_state(op, &st, digest, cb);
}

static int
rotated(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	struct pki_rotation *out = arg;
	const struct wire_field *f;
	const uint8_t *b;
	size_t len;

	/* The schema requires the next root and a 32-byte digest. */
	if ((f = wire_find(reply, T_CA_NEXT, 0)) == NULL ||
	    (out->next = strndup((const char *)f->val, f->len)) == NULL ||
	    wire_get_bytes(reply, T_DIGEST, &b, &len) != 0 || len != sizeof(out->spki))
		goto bad;
	memcpy(out->spki, b, sizeof(out->spki));
	if ((f = wire_find(reply, T_CA_NEXT_KEY, 0)) != NULL &&
	    secbuf_dup(&out->next_key, f->val, f->len) != 0)
		goto bad;
	if ((f = wire_find(reply, T_CA_CROSS, 0)) != NULL &&
	    (out->cross = strndup((const char *)f->val, f->len)) == NULL)
		goto bad;
	return 0;
 bad:
	pki_rotation_clear(out);
	snprintf(why, whylen, "the pki process answered without a rotation");
	return HUSH_E_PROTO;
}

int
pki_ca_rotate(struct op *op, const struct pki_rotate_req *req, struct pki_rotation *out,
    op_done_cb cb)
{
	struct wire_enc e;

	wire_enc_init(&e, PKI_CA_ROTATE, child_next_id(&op->p->pki), PKI_MAX_MSG);
	wire_put_i64(&e, T_NOW, parent_now());
	wire_put_u64(&e, T_LIFETIME, req->lifetime ? req->lifetime : PKI_CA_LIFETIME);
	if (req->cert != NULL)
		wire_put_bytes(&e, T_CA_CERT, req->cert, req->certlen);
	if (req->key != NULL)
		wire_put_bytes(&e, T_CA_KEY, req->key, req->keylen);
	return pki_send(op, &e, rotated, out, cb);
}
