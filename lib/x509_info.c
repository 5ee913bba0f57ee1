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

static int
subject_get(const X509_NAME *name, struct x509_subject *sub)
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
static int
spki_hash(X509 *x, uint8_t out[32])
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
	if ((r = subject_get(X509_get_subject_name(x), &info.subject)) != 0 ||
	    (r = subject_get(X509_get_issuer_name(x), &info.issuer)) != 0 ||
	    (r = x509_time_get(X509_get0_notBefore(x), &info.not_before)) != 0 ||
	    (r = x509_time_get(X509_get0_notAfter(x), &info.not_after)) != 0 ||
	    (r = spki_hash(x, info.spki_sha256)) != 0)
		goto out;
	*out = info;
 out:
	X509_free(x);
	ERR_clear_error();
	return r;
}

int
x509_verify(const char *cert_pem, size_t cert_len, const char *ca_pem,
    size_t ca_len, int64_t now, char *why, size_t whylen)
{
	X509 *x = NULL, *ca = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	int r;

	x509_why(why, whylen, "%s", "");
	if ((r = x509_pem_decode(cert_pem, cert_len, &x)) != 0) {
		x509_why(why, whylen, "certificate cannot be parsed");
		goto out;
	}
	if ((r = x509_pem_decode(ca_pem, ca_len, &ca)) != 0) {
		x509_why(why, whylen, "CA certificate cannot be parsed");
		goto out;
	}

	r = HUSH_E_CRYPTO;
	if ((store = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(store, ca) ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, store, x, NULL) ||
	    !X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER))
		goto out;
	/*
	 * No intermediates, the root's own signature checked too, and the
	 * RFC 5280 rules OpenSSL otherwise lets slide.
	 */
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_depth(param, 0);
	if (!X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_CHECK_SS_SIGNATURE))
		goto out;
	X509_STORE_CTX_set_time(ctx, 0, (time_t)now);

	r = HUSH_E_AUTH;
	if (X509_verify_cert(ctx) != 1) {
		x509_why(why, whylen, "certificate does not verify: %s",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	if ((X509_get_extension_flags(x) & EXFLAG_CA) != 0) {
		x509_why(why, whylen, "certificate is a CA, not a node");
		goto out;
	}
	if (X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0) != 1) {
		x509_why(why, whylen,
		    "certificate is not valid for TLS client authentication");
		goto out;
	}
	if (!x509_key_is_p256(X509_get0_pubkey(x))) {
		x509_why(why, whylen, "certificate key is not ECDSA P-256");
		goto out;
	}
	r = 0;
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(ca);
	X509_free(x);
	ERR_clear_error();
	return r;
}

bool
x509_cert_matches_key(const char *cert_pem, size_t cert_len,
    const struct secbuf *key_der)
{
	X509 *x = NULL;
	EVP_PKEY *pkey = NULL;
	bool match = false;

	if (x509_pem_decode(cert_pem, cert_len, &x) != 0 ||
	    x509_key_decode(key_der, &pkey) != 0)
		goto out;
	match = X509_check_private_key(x, pkey) == 1;
 out:
	EVP_PKEY_free(pkey);
	X509_free(x);
	ERR_clear_error();
	return match;
}
