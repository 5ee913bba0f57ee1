/*
 * The pki process: holds the cluster's root CA key in guarded memory and
 * signs node certificates.  It opens nothing; all it sees are requests from
 * the parent on its socketpair.
 */
#ifndef HUSH_PKI_H
#define HUSH_PKI_H

#include <stddef.h>

#include "child.h"
#include "secbuf.h"
#include "wire.h"

#define PKI_MAX_MSG (64u * 1024)
#define PKI_CA_LIFETIME ((uint64_t)20 * 365 * 24 * 3600)
#define PKI_CERT_MIN_LIFETIME 3600u
#define PKI_CERT_MAX_LIFETIME ((uint64_t)10 * 365 * 24 * 3600)

/* A root the operator supplies must outlive the rotation to it. */
#define PKI_SUPPLIED_MIN_LIFE ((uint64_t)24 * 3600)

extern const struct child_desc pki_child;
/* Its Landlock rules and system call allow-list: pki_sandbox.c */
extern const struct sandbox_policy pki_sandbox;

/*
 * A root CA as the pki process holds it: its PEM and, unless an external
 * CA holds it, its key (PKCS#8 DER, guarded memory).
 */
struct pki_root {
	char		*pem;
	size_t		 len;
	struct secbuf	 key;
};

/*
 * PKI_CA_ROTATE (pki_rotate.c): the next root, made or checked, and
 * cross-signed by cur when cur has a key.  Changes nothing pki holds.
 */
int	pki_rotate(const struct wire_msg *m, const struct pki_root *cur,
	    struct wire_enc *e, char *why, size_t whylen);

#endif
