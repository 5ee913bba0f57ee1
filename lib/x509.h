/*
 * X.509 for hush's built-in PKI: one ECDSA P-256 root CA per cluster that
 * signs node certificates (CN=<node id>, OU=hush-manager|hush-worker,
 * O=<cluster id>) used for mutual TLS between nodes.
 *
 * Everything here takes and returns bytes (DER, PEM, PKCS#8 DER in a secbuf)
 * rather than OpenSSL objects so the calls can cross the boundary between
 * hush's privilege-separated processes.  Times are int64 seconds since the
 * epoch supplied by the caller: nothing here reads the clock, so a test can
 * ask what happens at any instant.
 *
 * Error codes: HUSH_E_TOOBIG / HUSH_E_TRUNCATED / HUSH_E_FORMAT for input
 * that is too large, empty or malformed; HUSH_E_AUTH for a signature or
 * chain that does not verify; HUSH_E_INVAL for well-formed input refused by
 * policy (wrong key type, bad subject, CA key not matching its cert);
 * HUSH_E_RANGE for times out of range; HUSH_E_CRYPTO when OpenSSL fails.
 * Every call leaves the OpenSSL error queue empty.
 */
#ifndef HUSH_X509_H
#define HUSH_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secbuf.h"

#define X509_MAX_CSR_DER	8192	/* untrusted input bound */
#define X509_MAX_CERT_PEM	16384

/* RFC 5280 upper bound for these attributes is 64 characters. */
#define X509_NAME_MAX		64

#define X509_CA_CN		"hush-ca"
#define X509_OU_MANAGER		"hush-manager"
#define X509_OU_WORKER		"hush-worker"

/*
 * A node's role (enum node_role, lib/msg.h) is the OU of its certificate:
 * the pki signs only these two OUs and every process reads a peer's role
 * back from them, so both directions live here.  x509_role_ou() is NULL
 * for any other role, x509_ou_role() 0 for any other OU.
 */
const char *x509_role_ou(int role);
int	x509_ou_role(const char *ou);

/* NotBefore is backdated by this much so peers with a slow clock accept. */
#define X509_CLOCK_SKEW_SECS	3600

/*
 * Attributes are printable ASCII (0x20-0x7e), at most X509_NAME_MAX bytes,
 * NUL-terminated; an attribute absent from a certificate reads as "".
 */
struct x509_subject {
	char	cn[X509_NAME_MAX + 1];
	char	ou[X509_NAME_MAX + 1];
	char	o[X509_NAME_MAX + 1];
};

struct x509_cert_info {
	struct x509_subject	subject;
	struct x509_subject	issuer;
	int64_t			not_before;
	int64_t			not_after;
	bool			is_ca;		/* basicConstraints cA=TRUE */
	uint8_t			spki_sha256[32]; /* SHA-256 of SubjectPublicKeyInfo DER */
};

/*
 * New root CA: a P-256 key (PKCS#8 DER, into *key_der) and a self-signed
 * certificate CN=hush-ca valid from now - 1 h to now + lifetime_secs, as PEM
 * (malloc'd, NUL-terminated, *cert_len excludes the NUL).  On failure
 * nothing is returned: *key_der is empty and *cert_pem is NULL.
 */
int	x509_ca_create(int64_t now, uint64_t lifetime_secs,
	    struct secbuf *key_der, char **cert_pem, size_t *cert_len);

/* A fresh P-256 key as PKCS#8 DER. */
int	x509_key_generate(struct secbuf *key_der);

/*
 * A certificate signing request for key_der, signed by it (the proof of
 * possession the CA checks) with an empty subject: the CA decides the
 * subject.  *csr_der is malloc'd.
 */
int	x509_csr_create(const struct secbuf *key_der, uint8_t **csr_der,
	    size_t *csr_len);

/*
 * Verify an untrusted CSR (size bound, strict DER with nothing trailing,
 * ecdsa-with-SHA256 self-signature, EC P-256 named-curve key) and issue a
 * leaf certificate for its public key with the given subject (cn, ou and o
 * all required).  Nothing else in the CSR is used.  The certificate is
 * valid from now - 1 h to now + lifetime_secs, cut short at the CA's own
 * NotAfter since it could never verify past that.  On failure a message for
 * the operator goes into why (if non-NULL) and *cert_pem is NULL.
 */
int	x509_csr_sign(const uint8_t *csr_der, size_t csr_len,
	    const struct secbuf *ca_key_der, const char *ca_cert_pem,
	    size_t ca_cert_len, const struct x509_subject *subject,
	    int64_t now, uint64_t lifetime_secs, char **cert_pem,
	    size_t *cert_len, char *why, size_t whylen);

/*
 * Parse exactly one PEM certificate (optional surrounding whitespace, no
 * other text, at most X509_MAX_CERT_PEM bytes, no NUL inside len).
 */
int	x509_cert_info(const char *pem, size_t len, struct x509_cert_info *out);

/*
 * 0 if cert chains directly to the self-signed ca at time now and is a
 * non-CA leaf with an EC P-256 key usable for TLS as both server and
 * client; HUSH_E_AUTH (with the reason in why) if not.
 */
int	x509_verify(const char *cert_pem, size_t cert_len, const char *ca_pem,
	    size_t ca_len, int64_t now, char *why, size_t whylen);

/* True only if both parse and the certificate carries key_der's public key. */
bool	x509_cert_matches_key(const char *cert_pem, size_t cert_len,
	    const struct secbuf *key_der);

/*
 * Trust bundles and chains (lib/x509_bundle.c).  A bundle is 1 to
 * X509_BUNDLE_MAX PEM certificates and nothing else but whitespace;
 * certificates/ca.crt is one (the roots a node trusts), and
 * certificates/node.crt is the leaf followed by what the node presents
 * after it (at most one intermediate).  Each certificate must pass
 * x509_cert_info()'s strict decoding; at most X509_MAX_CERT_PEM bytes in
 * all, no NUL.  HUSH_E_TRUNCATED for nothing, HUSH_E_TOOBIG for too many
 * bytes or certificates, HUSH_E_FORMAT for anything else wrong.
 *
 * x509_bundle_get() copies the i-th certificate out (malloc'd,
 * NUL-terminated; HUSH_E_RANGE past the last) as the exact bytes the
 * bundle holds, from its BEGIN line through its END line and the one
 * newline after it if there is one: a join token pins a root by the
 * digest of its PEM bytes (join_token_digest_pem()), so the pieces of a
 * concatenation of stored PEMs must be those very PEMs again.
 */
#define X509_BUNDLE_MAX		4
int	x509_bundle_count(const char *pem, size_t len, size_t *n);
int	x509_bundle_get(const char *pem, size_t len, size_t i, char **cert_pem,
	    size_t *cert_len);
/*
 * first, then rest (NULL: nothing), each PEM block on lines of its own:
 * a leaf and the chain presented after it, as certificates/node.crt holds
 * them, or two roots.  malloc'd; NULL when out of memory.
 */
char	*x509_bundle_join(const char *first, const char *rest);

/*
 * x509_verify() generalised to a rotation's shapes: leaf (the first
 * certificate of leaf_pem; any after it are untrusted intermediates, at
 * most one) verified against any root of the anchors bundle at time now,
 * the chain at most root -> intermediate -> leaf, every CA in it a CA,
 * and the leaf held to x509_verify()'s leaf policy.  On success
 * issuer_spki (if non-NULL) gets the SPKI digest of the certificate that
 * signed the leaf -- the same for a root and its cross-signed twin.
 * HUSH_E_AUTH (reason in why) when it does not verify; the decoding
 * errors of x509_bundle_count() when either side is not a bundle.
 */
int	x509_verify_chain(const char *leaf_pem, size_t leaf_len,
	    const char *anchors_pem, size_t anchors_len, int64_t now,
	    uint8_t issuer_spki[32], char *why, size_t whylen);

/*
 * CA rotation (lib/x509_rotate.c).  x509_ca_cross_sign(): a CA
 * certificate with the subject, key and subjectKeyIdentifier of new_cert,
 * issued by old_cert's subject under old_key (authorityKeyIdentifier: the
 * old root's), pathlen 0, valid from now - X509_CLOCK_SKEW_SECS until the
 * earlier of both roots' NotAfter.  Nodes that trust only the old root
 * verify the new root's leaves through it; since it carries the new
 * root's key identifier, a leaf's authorityKeyIdentifier names both the
 * new root and this twin of it.  old_key may be any key a root may have
 * (x509_ca_check_supplied); both roots must carry a subjectKeyIdentifier.
 */
int	x509_ca_cross_sign(const struct secbuf *old_key, const char *old_cert,
	    size_t old_len, const char *new_cert, size_t new_len, int64_t now,
	    char **cross_pem, size_t *cross_len);

/*
 * A root the operator supplies (--ca-cert, --ca-key; lib/x509_supplied.c):
 * one self-signed CA
 * certificate, valid at now and for at least min_life more seconds, with a
 * key hush can sign with (EC P-256 or P-384, or RSA 2048 to 4096 bits);
 * and, when key/keylen is given (PEM, PKCS#8 or SEC1 or PKCS#1, or
 * PKCS#8 DER; no passphrase), the key of that certificate, returned as
 * PKCS#8 DER in key_der.  Without a key (an external CA's root) only the
 * certificate is checked.  Every refusal says what is wrong in why.
 *
 * The certificate must also be one hush can build chains on beside
 * another root of the same name: keyUsage with keyCertSign, a
 * subjectKeyIdentifier, and nothing OpenSSL's strict RFC 5280 checks
 * refuse.  No system trust store is consulted.  The key is at most 8192
 * bytes (T_CA_KEY's bound); with no key, key_der may be NULL.
 */
int	x509_ca_check_supplied(const char *cert_pem, size_t cert_len,
	    const uint8_t *key, size_t keylen, int64_t now, uint64_t min_life,
	    struct secbuf *key_der, char *why, size_t whylen);

/*
 * The same certificate as OpenSSL writes it (64-column base64, one
 * trailing newline): what hush stores of a root it was given, since join
 * tokens hash a root's PEM bytes.  Input as x509_cert_info() takes it.
 */
int	x509_cert_reencode(const char *pem, size_t len, char **out,
	    size_t *outlen);

/*
 * x509_cert_matches_key() for a root: key_der may be any kind of key a
 * root may have (x509_ca_check_supplied), not only P-256.
 */
bool	x509_ca_matches_key(const char *cert_pem, size_t cert_len,
	    const struct secbuf *key_der);

/*
 * Whether cross is what x509_ca_cross_sign() makes of these roots: a CA
 * certificate with next's subject and public key, issued under current's
 * subject and signed by current's key.  Its dates are not judged here
 * (the verifiers do that at the time they verify).  HUSH_E_AUTH or
 * HUSH_E_INVAL with why if not.
 */
int	x509_ca_check_cross(const char *cross, size_t cross_len,
	    const char *current, size_t current_len, const char *next,
	    size_t next_len, char *why, size_t whylen);

/*
 * A certificate a CA issued at hush's request (lib/x509_issued.c).
 * x509_cert_matches_csr(): it carries the CSR's public key (both parse,
 * or false).  x509_issued_check(): one leaf, with exactly the subject
 * asked for and the CSR's key, verifying with its chain (NULL: none)
 * against a root of roots at time now as x509_verify_chain() does;
 * HUSH_E_AUTH with why ("issued a certificate for CN=..., not ...") if
 * not, else its NotAfter into *not_after (if non-NULL).
 */
bool	x509_cert_matches_csr(const char *pem, size_t len, const uint8_t *csr,
	    size_t csrlen);
int	x509_issued_check(const char *leaf, const char *chain, const uint8_t *csr,
	    size_t csrlen, const struct x509_subject *want, const char *roots, int64_t now,
	    int64_t *not_after, char *why, size_t whylen);

#ifdef HUSH_X509_INTERNAL
/*
 * Shared by lib/x509*.c only; the OpenSSL types stay opaque here so that
 * users of the API above need no OpenSSL headers.
 */
struct asn1_string_st;
struct evp_md_st;
struct evp_pkey_st;
struct v3_ext_ctx;
struct x509_st;

/* Latest instant an X.509 GeneralizedTime can hold: 9999-12-31T23:59:59Z. */
#define X509_TIME_MAX	INT64_C(253402300799)

void	x509_why(char *why, size_t whylen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	x509_key_decode(const struct secbuf *key_der, struct evp_pkey_st **out);
int	x509_key_encode(struct evp_pkey_st *pkey, struct secbuf *key_der);
int	x509_key_new(struct evp_pkey_st **out);
bool	x509_key_is_p256(const struct evp_pkey_st *pkey);
int	x509_pem_decode(const char *pem, size_t len, struct x509_st **out);
int	x509_pem_encode(struct x509_st *x, char **pem, size_t *len);
int	x509_time_get(const struct asn1_string_st *t, int64_t *out);
int	x509_csr_pubkey(const uint8_t *csr_der, size_t csr_len,
	    struct evp_pkey_st **pubkey, char *why, size_t whylen);
struct X509_name_st;
int	x509_subject_get(const struct X509_name_st *name, struct x509_subject *sub);
int	x509_spki_sha256(struct x509_st *x, uint8_t out[32]);
/* x509_verify()'s policy for a node's own certificate, whatever signed it. */
int	x509_leaf_check(struct x509_st *x, char *why, size_t whylen);
/* A CA's key: P-256 or P-384 (named curves), or RSA 2048..4096 bits. */
int	x509_ca_key_kind(const struct evp_pkey_st *pkey, char *desc,
	    size_t desclen);
int	x509_ca_key_decode(const struct secbuf *key_der,
	    struct evp_pkey_st **out);
const struct evp_md_st *x509_ca_md(const struct evp_pkey_st *pkey);
/* Pieces of building a certificate, shared by x509_ca.c and x509_rotate.c. */
int	x509_serial_set(struct x509_st *x);
int	x509_time_set(struct asn1_string_st *t, int64_t when);
int	x509_ext_add(struct x509_st *x, struct v3_ext_ctx *v3, int nid,
	    const char *value);
#endif

#endif
