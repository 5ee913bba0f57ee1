/*
 * The parent's calls to the pki process, one wrapper per request, in the
 * manner of OpenSSH's monitor_wrap.c: each builds its PKI_* request from
 * typed arguments, decodes the answer into a typed result the caller
 * owns, and then runs the op's next step (op_done_cb, parent.h) with
 * reply NULL.  Nothing else in the parent touches a pki message's fields.
 *
 * To add a request to a child: declare its message in lib/msg.h, answer
 * it in the child's folder, and write one wrapper here (or in
 * mounter_calls.h / net_calls.h for those children).
 *
 * Every wrapper returns 0 once the request is on its way, or a negative
 * hush_err when nothing was sent (cb will not run).  A result must live
 * until cb has run: keep it in the op's ctx.
 */
#ifndef HUSH_PARENT_PKI_CALLS_H
#define HUSH_PARENT_PKI_CALLS_H

#include <stddef.h>
#include <stdint.h>

#include "parent.h"
#include "secbuf.h"

/* PKI_CA_CREATE's result: a new root CA. */
struct pki_ca {
	char		*cert;		/* PEM, NUL-terminated, malloc'd */
	struct secbuf	 key;		/* PKCS#8 DER */
	uint8_t		 digest[32];	/* of the CA bundle: the join tokens' digest */
};
/* Frees what a pki_ca holds (an empty one too). */
void	pki_ca_clear(struct pki_ca *ca);

/* PKI_ISSUE's question: sign csr for this node, in this role. */
struct pki_issue_req {
	const uint8_t	*csr;		/* DER */
	size_t		 csrlen;
	const char	*node_id;	/* the subject's CN */
	int		 role;		/* ROLE_MANAGER or ROLE_WORKER: the OU */
	const char	*cluster_id;	/* the O */
	uint64_t	 lifetime;	/* seconds; 0: HUSH_DEFAULT_CERT_EXPIRY */
};

/* PKI_ISSUE's result: the node's new certificate. */
struct pki_cert {
	char		*pem;		/* NUL-terminated, malloc'd */
	char		*chain;		/* PEM presented after it (T_CA_CHAIN), or NULL */
	int64_t		 not_after;
};
void	pki_cert_clear(struct pki_cert *cert);

/* A root CA for a new cluster, valid PKI_CA_LIFETIME from now. */
__attribute__((warn_unused_result))
int	pki_ca_create(struct op *op, struct pki_ca *out, op_done_cb cb);

/*
 * A certificate for req, issued now by this node's pki process; HUSH_E_INVAL
 * for a role with no OU.  Callers that sign for a node go through
 * node_sign() (parent.h), which picks the cluster's external CA instead
 * when it has one.
 */
__attribute__((warn_unused_result))
int	pki_issue(struct op *op, const struct pki_issue_req *req, struct pki_cert *out,
	    op_done_cb cb);

/*
 * The store's CA (PEM cert, PKCS#8 DER key) into the pki process, which
 * signs with it from then on; digest: the join tokens' digest of it.
 * keylen 0: an external CA holds the key, and pki knows only the root.
 */
__attribute__((warn_unused_result))
int	pki_ca_load(struct op *op, const uint8_t *cert, size_t certlen, const uint8_t *key,
	    size_t keylen, uint8_t digest[32], op_done_cb cb);

#endif
