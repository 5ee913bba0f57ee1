/*
 * The pki process: holds the cluster's root CA key in guarded memory and
 * signs node certificates.  It opens nothing; all it sees are requests from
 * the parent on its socketpair.
 */
#ifndef HUSH_PKI_H
#define HUSH_PKI_H

#include "child.h"

#define PKI_MAX_MSG (64u * 1024)
#define PKI_CA_LIFETIME ((uint64_t)20 * 365 * 24 * 3600)
#define PKI_CERT_MIN_LIFETIME 3600u
#define PKI_CERT_MAX_LIFETIME ((uint64_t)10 * 365 * 24 * 3600)

extern const struct child_desc pki_child;
/* Its Landlock rules and system call allow-list: pki_sandbox.c */
extern const struct sandbox_policy pki_sandbox;

#endif
