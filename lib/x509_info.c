/*
 * Reading certificates: what one says (x509_cert_info), whether to believe
 * it (x509_verify), and whether it belongs to a key.
 */
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "msg.h"
#include "secbuf.h"
#define HUSH_X509_INTERNAL
#include "x509.h"

_Static_assert(sizeof(time_t) >= sizeof(int64_t),
    "certificate times need a 64-bit time_t");

const char *
x509_role_ou(int role)
{
	return role == ROLE_MANAGER ? X509_OU_MANAGER :
	    role == ROLE_WORKER ? X509_OU_WORKER : NULL;
}

int
x509_ou_role(const char *ou)
{
	if (strcmp(ou, X509_OU_MANAGER) == 0)
		return ROLE_MANAGER;
	if (strcmp(ou, X509_OU_WORKER) == 0)
		return ROLE_WORKER;
	return 0;
}

/*
 * One attribute into dst.  A repeated attribute is refused rather than
 * picking one: code that reads "the" CN must not be able to disagree with
 * code that reads another.  Likewise embedded NULs and control characters,
 * which we never issue.
 */
static int
name_get(const X509_NAME *name, int nid, char *dst, size_t dstlen)
{
	const ASN1_STRING *s;
	unsigned char *u = NULL;
	int i, n, r = HUSH_E_FORMAT;

	dst[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(name, nid, -1)) < 0) {
		r = 0;	/* absent reads as "" */
		goto out;
	}
	if (X509_NAME_get_index_by_NID(name, nid, i) >= 0 ||
	    (s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))) == NULL)
		goto out;
	if ((n = ASN1_STRING_to_UTF8(&u, s)) <= 0 || (size_t)n >= dstlen)
		goto out;
	for (i = 0; i < n; i++) {
		if (u[i] < 0x20 || u[i] > 0x7e)
			goto out;
	}
	memcpy(dst, u, (size_t)n);
	dst[n] = '\0';
	r = 0;
 out:
	OPENSSL_free(u);
	return r;
}

int
x509_subject_get(const X509_NAME *name, struct x509_subject *sub)
{
	int r;

	if ((r = name_get(name, NID_commonName, sub->cn,
	    sizeof(sub->cn))) != 0 ||
	    (r = name_get(name, NID_organizationalUnitName, sub->ou,
	    sizeof(sub->ou))) != 0 ||
	    (r = name_get(name, NID_organizationName, sub->o,
	    sizeof(sub->o))) != 0)
		return r;
	return 0;
}

/* Over the whole SubjectPublicKeyInfo, as RFC 7469 pins are. */
int
x509_spki_sha256(X509 *x, uint8_t out[32])
{
	unsigned char *der = NULL;
	int n, r = HUSH_E_FORMAT;

	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
		goto out;
	r = HUSH_E_CRYPTO;
	if (EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(), NULL) == 1)
		r = 0;
 out:
	OPENSSL_free(der);
	return r;
}

int
x509_cert_info(const char *pem, size_t len, struct x509_cert_info *out)
{
	struct x509_cert_info info;
	X509 *x = NULL;
	uint32_t flags;
	int r;

	memset(&info, 0, sizeof(info));
	memset(out, 0, sizeof(*out));
	if ((r = x509_pem_decode(pem, len, &x)) != 0)
		goto out;
	/* Duplicate or undecodable extensions: no answer about it is safe. */
	flags = X509_get_extension_flags(x);
	if ((flags & EXFLAG_INVALID) != 0) {
		r = HUSH_E_FORMAT;
		goto out;
	}
	info.is_ca = (flags & EXFLAG_CA) != 0;
	if ((r = x509_subject_get(X509_get_subject_name(x), &info.subject)) != 0 ||
	    (r = x509_subject_get(X509_get_issuer_name(x), &info.issuer)) != 0 ||
	    (r = x509_time_get(X509_get0_notBefore(x), &info.not_before)) != 0 ||
	    (r = x509_time_get(X509_get0_notAfter(x), &info.not_after)) != 0 ||
	    (r = x509_spki_sha256(x, info.spki_sha256)) != 0)
		goto out;
	*out = info;
 out:
	X509_free(x);
	ERR_clear_error();
	return r;
}

/*
 * What a node certificate must be, however it chains: not a CA, usable by
 * TLS as client and as server (both ends of a hush connection are nodes),
 * and a P-256 key, the only kind hush's pki issues.
 */
int
x509_leaf_check(X509 *x, char *why, size_t whylen)
{
	if ((X509_get_extension_flags(x) & EXFLAG_CA) != 0) {
		x509_why(why, whylen, "certificate is a CA, not a node");
		return HUSH_E_AUTH;
	}
	if (X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0) != 1 ||
	    X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) != 1) {
		x509_why(why, whylen,
		    "certificate is not valid for TLS client and server authentication");
		return HUSH_E_AUTH;
	}
	if (!x509_key_is_p256(X509_get0_pubkey(x))) {
		x509_why(why, whylen, "certificate key is not ECDSA P-256");
		return HUSH_E_AUTH;
	}
	return 0;
}

/*
 * The one-root, no-intermediate case of x509_verify_chain(): each side
 * must be exactly one certificate, so no intermediate can slip in.
 */
int
x509_verify(const char *cert_pem, size_t cert_len, const char *ca_pem,
    size_t ca_len, int64_t now, char *why, size_t whylen)
{
	X509 *x = NULL;
	int r;

	x509_why(why, whylen, "%s", "");
	if ((r = x509_pem_decode(cert_pem, cert_len, &x)) != 0) {
		x509_why(why, whylen, "certificate cannot be parsed");
		goto out;
	}
	X509_free(x);
	x = NULL;
	if ((r = x509_pem_decode(ca_pem, ca_len, &x)) != 0) {
		x509_why(why, whylen, "CA certificate cannot be parsed");
		goto out;
	}
	r = x509_verify_chain(cert_pem, cert_len, ca_pem, ca_len, now, NULL,
	    why, whylen);
 out:
	X509_free(x);
	ERR_clear_error();
	return r;
}

/* Whether the certificate carries the public half of the key decode() takes. */
static bool
matches_key(const char *cert_pem, size_t cert_len, const struct secbuf *key_der,
    int (*decode)(const struct secbuf *, EVP_PKEY **))
{
	X509 *x = NULL;
	EVP_PKEY *pkey = NULL;
	bool match = false;

	if (x509_pem_decode(cert_pem, cert_len, &x) != 0 || decode(key_der, &pkey) != 0)
		goto out;
	match = X509_check_private_key(x, pkey) == 1;
 out:
	EVP_PKEY_free(pkey);
	X509_free(x);
	ERR_clear_error();
	return match;
}

bool
x509_cert_matches_key(const char *cert_pem, size_t cert_len,
    const struct secbuf *key_der)
{
	return matches_key(cert_pem, cert_len, key_der, x509_key_decode);
}

bool
x509_ca_matches_key(const char *cert_pem, size_t cert_len,
    const struct secbuf *key_der)
{
	return matches_key(cert_pem, cert_len, key_der, x509_ca_key_decode);
}
