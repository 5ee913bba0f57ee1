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

/* What the external CA returned, held to what was asked. */
static int
check_issued(struct parent *p, const struct sign_ctx *x, int64_t *not_after, char *why,
    size_t whylen)
{
	struct x509_subject want;
	char vwhy[600];
	int r;

	memset(&want, 0, sizeof(want));
	snprintf(want.cn, sizeof(want.cn), "%s", x->want_cn);
	snprintf(want.ou, sizeof(want.ou), "%s", x->want_ou);
	snprintf(want.o, sizeof(want.o), "%s", x->want_o);
	if ((r = x509_issued_check(x->res.cert, x->res.chain, x->csr, x->csrlen, &want,
	    p->settings.ca_root, parent_now(), not_after, vwhy, sizeof(vwhy))) != 0)
		snprintf(why, whylen, "the external CA at %s %s", p->settings.extca_url, vwhy);
	return r;
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
