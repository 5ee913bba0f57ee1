/*
 * Node certificates, from whichever CA the cluster has (node_sign.h).
 *
 * With an external CA the root key never enters the cluster: net sends
 * the CSR and the subject to the CA's cfssl API and hands back what came.
 * That answer is the CA's, not ours, and an external CA can be
 * misconfigured (a profile that rewrites the subject, another root, a CA
 * certificate) or not the CA at all: so it is checked here as strictly as
 * a peer's certificate before a join, a renewal or init may use it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "err.h"
#include "log.h"
#include "net_calls.h"
#include "node_sign.h"
#include "x509.h"

struct sign_ctx {
	struct op		*outer;
	op_done_cb		 cb;
	struct pki_cert		*out;
	char			 want_cn[HUSH_ID_LEN + 1];
	char			 want_ou[32];
	char			 want_o[HUSH_ID_LEN + 1];
	uint8_t			*csr;
	size_t			 csrlen;
	struct net_extca_result	 res;
};

static void
sign_ctx_free(void *arg)
{
	struct sign_ctx *x = arg;

	free(x->csr);
	net_extca_result_clear(&x->res);
	free(x);
}

int
node_sign_set_extca(struct parent *p, const char *url, const char *cacert, const char *root)
{
	struct cluster_settings *s = &p->settings;

	free(s->extca_url);
	free(s->extca_cacert);
	free(s->ca_root);
	s->extca_url = s->extca_cacert = s->ca_root = NULL;
	if (url == NULL)
		return 0;
	if ((s->extca_url = strdup(url)) == NULL || (s->ca_root = strdup(root)) == NULL ||
	    (cacert != NULL && (s->extca_cacert = strdup(cacert)) == NULL))
		return HUSH_E_NOMEM;
	return 0;
}

/* Does the certificate carry the CSR's public key?  Both parse, or no. */
static bool
cert_has_csr_key(const char *pem, const uint8_t *csr, size_t csrlen)
{
	const unsigned char *p = csr;
	X509_REQ *req = NULL;
	X509 *x = NULL;
	EVP_PKEY *a, *b;
	BIO *bio;
	bool match = false;

	if ((req = d2i_X509_REQ(NULL, &p, (long)csrlen)) == NULL ||
	    (bio = BIO_new_mem_buf(pem, -1)) == NULL)
		goto out;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x != NULL && (a = X509_REQ_get0_pubkey(req)) != NULL &&
	    (b = X509_get0_pubkey(x)) != NULL)
		match = EVP_PKEY_eq(a, b) == 1;
 out:
	X509_REQ_free(req);
	X509_free(x);
	ERR_clear_error();
	return match;
}

/* What the external CA returned, held to what was asked. */
static int
check_issued(struct parent *p, const struct sign_ctx *x, int64_t *not_after, char *why,
    size_t whylen)
{
	struct x509_cert_info info;
	char vwhy[256];

	if (x509_cert_info(x->res.cert, strlen(x->res.cert), &info) != 0) {
		snprintf(why, whylen, "the external CA at %s returned what is not one "
		    "certificate", p->settings.extca_url);
		return HUSH_E_AUTH;
	}
	if (strcmp(info.subject.cn, x->want_cn) != 0 || strcmp(info.subject.ou, x->want_ou) != 0 ||
	    strcmp(info.subject.o, x->want_o) != 0) {
		snprintf(why, whylen, "the external CA at %s issued a certificate for CN=%s, "
		    "OU=%s, O=%s, not CN=%s, OU=%s, O=%s: its signing profile must keep the "
		    "subject hush asks for", p->settings.extca_url, info.subject.cn,
		    info.subject.ou, info.subject.o, x->want_cn, x->want_ou, x->want_o);
		return HUSH_E_AUTH;
	}
	if (!cert_has_csr_key(x->res.cert, x->csr, x->csrlen)) {
		snprintf(why, whylen, "the external CA at %s issued a certificate for another "
		    "key than the one it was asked to certify", p->settings.extca_url);
		return HUSH_E_AUTH;
	}
	if (x509_verify(x->res.cert, strlen(x->res.cert), p->settings.ca_root,
	    strlen(p->settings.ca_root), parent_now(), vwhy, sizeof(vwhy)) != 0) {
		snprintf(why, whylen, "the external CA at %s issued a certificate hush cannot "
		    "use: %s", p->settings.extca_url, vwhy);
		return HUSH_E_AUTH;
	}
	*not_after = info.not_after;
	return 0;
}

static void
ext_signed(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct sign_ctx *x = op->ctx;
	struct op *outer = x->outer;
	op_done_cb cb = x->cb;
	char why[700];
	int64_t not_after = 0;

	snprintf(why, sizeof(why), "%s", detail && *detail ? detail : hush_strerror(status));
	if (status == 0 && (status = check_issued(p, x, &not_after, why, sizeof(why))) == 0) {
		x->out->pem = x->res.cert;
		x->out->chain = x->res.chain;
		x->out->not_after = not_after;
		x->res.cert = x->res.chain = NULL;
	}
	if (status == 0) {
		if (p->settings.extca_error[0] != '\0')
			log_info("the external CA at %s signs again", p->settings.extca_url);
		p->settings.extca_error[0] = '\0';
	} else {
		log_warn("%s", why);
		/* cut to fit the status line; the log has it whole */
		snprintf(p->settings.extca_error, sizeof(p->settings.extca_error), "%.*s",
		    (int)sizeof(p->settings.extca_error) - 1, why);
	}
	op_free(op);
	cb(outer, status, NULL, status != 0 ? why : NULL);
}

int
node_sign(struct op *op, const struct pki_issue_req *req, struct pki_cert *out, op_done_cb cb)
{
	struct parent *p = op->p;
	const char *ou = x509_role_ou(req->role);
	struct net_extca_req nr;
	struct sign_ctx *x;
	struct op *sub;
	int r;

	if (p->settings.extca_url == NULL)
		return pki_issue(op, req, out, cb);
	if (ou == NULL)
		return HUSH_E_INVAL;
	if ((x = calloc(1, sizeof(*x))) == NULL || (x->csr = malloc(req->csrlen)) == NULL) {
		free(x);
		return HUSH_E_NOMEM;
	}
	if ((sub = op_internal(p, x, sign_ctx_free)) == NULL) {
		sign_ctx_free(x);
		return HUSH_E_NOMEM;
	}
	x->outer = op;
	x->cb = cb;
	x->out = out;
	memcpy(x->csr, req->csr, req->csrlen);
	x->csrlen = req->csrlen;
	snprintf(x->want_cn, sizeof(x->want_cn), "%s", req->node_id);
	snprintf(x->want_ou, sizeof(x->want_ou), "%s", ou);
	snprintf(x->want_o, sizeof(x->want_o), "%s", req->cluster_id);
	/* Without a CA bundle of its own, its TLS must chain to the cluster's root. */
	nr = (struct net_extca_req){ .url = p->settings.extca_url,
	    .cacert = p->settings.extca_cacert != NULL ? p->settings.extca_cacert :
	    p->settings.ca_root, .csr = x->csr, .csrlen = x->csrlen, .cn = x->want_cn,
	    .ou = x->want_ou, .o = x->want_o };
	if ((r = net_extca_sign(sub, &nr, &x->res, ext_signed)) != 0)
		op_free(sub);
	return r;
}
