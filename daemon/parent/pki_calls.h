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
	int64_t		 not_after;
	/*
	 * What the node presents after it (T_CA_CHAIN): the cross-signed
	 * next root when a rotation's next root signed; else NULL.
	 */
	char		*chain;
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
 * pki_ca_load_state() with no rotation; key NULL: an external CA's root.
 */
__attribute__((warn_unused_result))
int	pki_ca_load(struct op *op, const uint8_t *cert, size_t certlen, const uint8_t *key,
	    size_t keylen, uint8_t digest[32], op_done_cb cb);

/*
 * The CA state as the cluster record holds it.  Every key is PKCS#8 DER
 * and may be NULL (an external CA holds it); next and what follows it are
 * NULL without a rotation.
 */
struct pki_ca_state {
	const uint8_t	*cert;		/* PEM of the current root; required */
	size_t		 certlen;
	const uint8_t	*key;
	size_t		 keylen;
	const uint8_t	*next;		/* PEM of the root a rotation moves to */
	size_t		 nextlen;
	const uint8_t	*next_key;
	size_t		 next_keylen;
	const uint8_t	*cross;		/* PEM: next, certified by the current root */
	size_t		 crosslen;
	uint8_t		 phase;		/* enum ca_phase */
};

/*
 * All of st into the pki process (PKI_CA_LOAD), which from then on signs
 * with the current root, or in phase CA_PHASE_RENEW with the next one
 * (answering the cross-signed certificate as the chain).  pki refuses a
 * state that does not hang together (HUSH_E_CORRUPT, why naming the
 * field) and then holds no CA.  digest: the join tokens' digest of the
 * current root's PEM.
 */
__attribute__((warn_unused_result))
int	pki_ca_load_state(struct op *op, const struct pki_ca_state *st, uint8_t digest[32],
	    op_done_cb cb);

/* PKI_CA_ROTATE's question: the root to move to, or NULL cert for a new one. */
struct pki_rotate_req {
	const uint8_t	*cert;		/* PEM as the operator gave it, or NULL */
	size_t		 certlen;
	const uint8_t	*key;		/* its key as given (PEM or DER); NULL: external */
	size_t		 keylen;
	uint64_t	 lifetime;	/* of a new root; 0: PKI_CA_LIFETIME */
};

/* PKI_CA_ROTATE's result: a rotation, not yet loaded anywhere. */
struct pki_rotation {
	char		*next;		/* canonical PEM, NUL-terminated, malloc'd */
	struct secbuf	 next_key;	/* PKCS#8 DER; empty for an external root */
	char		*cross;		/* PEM; NULL when the current key is external */
	uint8_t		 spki[32];	/* SHA-256 of the next root's SubjectPublicKeyInfo */
};
/* Frees what a pki_rotation holds (an empty one too). */
void	pki_rotation_clear(struct pki_rotation *rot);

/*
 * The next root of a CA rotation: made by pki, or req's root checked
 * (the refusal's why is the operator's to read), and cross-signed by the
 * current root when pki holds its key.  Changes nothing in pki: load the
 * rotation with pki_ca_load_state() once the store holds it.
 */
__attribute__((warn_unused_result))
int	pki_ca_rotate(struct op *op, const struct pki_rotate_req *req, struct pki_rotation *out,
	    op_done_cb cb);

#endif
