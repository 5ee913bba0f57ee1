/*
 * CA rotation: the cross-signed certificate that carries the next root's
 * name and key under the current root's signature, and the check that a
 * stored one really is that.  A node that still trusts only the current
 * root verifies a leaf of the next root as leaf -> cross -> current root;
 * a node that trusts the next root stops at the next root itself, since
 * the cross-signed twin has the same subject, key and key identifier.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "secbuf.h"
#define HUSH_X509_INTERNAL
#include "x509.h"

/* A root of either side of a rotation: a CA whose extensions all decode. */
static bool
usable_ca(X509 *x)
{
	uint32_t flags = X509_get_extension_flags(x);

	return (flags & EXFLAG_INVALID) == 0 && (flags & EXFLAG_CA) != 0;
}

static int
cross_build(X509 *x, EVP_PKEY *old_key, X509 *old_cert, X509 *new_cert,
    int64_t not_before, int64_t not_after)
{
	const ASN1_OCTET_STRING *skid;
	X509V3_CTX v3;
	int r;

	if ((skid = X509_get0_subject_key_id(new_cert)) == NULL ||
	    X509_get0_subject_key_id(old_cert) == NULL)
		return HUSH_E_INVAL;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_subject_name(x, X509_get_subject_name(new_cert)) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(old_cert)) ||
	    !X509_set_pubkey(x, X509_get0_pubkey(new_cert)))
		return HUSH_E_CRYPTO;
	if ((r = x509_serial_set(x)) != 0 ||
	    (r = x509_time_set(X509_getm_notBefore(x), not_before)) != 0 ||
	    (r = x509_time_set(X509_getm_notAfter(x), not_after)) != 0)
		return r;
	/*
	 * The new root's own key identifier, copied rather than computed:
	 * an operator's root may have been given one by another method, and
	 * leaves name their issuer by it.
	 */
	if (X509_add1_ext_i2d(x, NID_subject_key_identifier, (void *)skid, 0,
	    X509V3_ADD_DEFAULT) != 1)
		return HUSH_E_CRYPTO;
	X509V3_set_ctx(&v3, old_cert, x, NULL, NULL, 0);
	if ((r = x509_ext_add(x, &v3, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0")) != 0 ||
	    (r = x509_ext_add(x, &v3, NID_key_usage,
	    "critical,keyCertSign,cRLSign")) != 0 ||
	    (r = x509_ext_add(x, &v3, NID_authority_key_identifier,
	    "keyid:always")) != 0)
		return r;
	if (X509_sign(x, old_key, x509_ca_md(old_key)) <= 0)
		return HUSH_E_CRYPTO;
	return 0;
}

int
x509_ca_cross_sign(const struct secbuf *old_key, const char *old_cert,
    size_t old_len, const char *new_cert, size_t new_len, int64_t now,
    char **cross_pem, size_t *cross_len)
{
	EVP_PKEY *okey = NULL;
	X509 *ocert = NULL, *ncert = NULL, *x = NULL;
	int64_t old_na, new_na, nb, na;
	int r;

	*cross_pem = NULL;
	*cross_len = 0;
	if (now < X509_CLOCK_SKEW_SECS || now > X509_TIME_MAX) {
		r = HUSH_E_RANGE;
		goto out;
	}
	if ((r = x509_ca_key_decode(old_key, &okey)) != 0 ||
	    (r = x509_pem_decode(old_cert, old_len, &ocert)) != 0 ||
	    (r = x509_pem_decode(new_cert, new_len, &ncert)) != 0)
		goto out;
	r = HUSH_E_INVAL;
	if (X509_check_private_key(ocert, okey) != 1 || !usable_ca(ocert) ||
	    !usable_ca(ncert))
		goto out;
	if ((r = x509_time_get(X509_get0_notAfter(ocert), &old_na)) != 0 ||
	    (r = x509_time_get(X509_get0_notAfter(ncert), &new_na)) != 0)
		goto out;
	/* Neither root outlives itself through its twin. */
	nb = now - X509_CLOCK_SKEW_SECS;
	na = old_na < new_na ? old_na : new_na;
	if (na <= now) {
		r = HUSH_E_RANGE;
		goto out;
	}
	if ((x = X509_new()) == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	if ((r = cross_build(x, okey, ocert, ncert, nb, na)) != 0)
		goto out;
	r = x509_pem_encode(x, cross_pem, cross_len);
 out:
	X509_free(x);
	X509_free(ncert);
	X509_free(ocert);
	EVP_PKEY_free(okey);
	ERR_clear_error();
	return r;
}

int
x509_ca_check_cross(const char *cross, size_t cross_len, const char *current,
    size_t current_len, const char *next, size_t next_len, char *why,
    size_t whylen)
{
	X509 *xc = NULL, *cur = NULL, *nxt = NULL;
	EVP_PKEY *curkey;
	int r;

	x509_why(why, whylen, "%s", "");
	if ((r = x509_pem_decode(cross, cross_len, &xc)) != 0) {
		x509_why(why, whylen, "the cross-signed certificate cannot be parsed");
		goto out;
	}
	if ((r = x509_pem_decode(current, current_len, &cur)) != 0 ||
	    (r = x509_pem_decode(next, next_len, &nxt)) != 0) {
		x509_why(why, whylen, "a root certificate cannot be parsed");
		goto out;
	}
	r = HUSH_E_INVAL;
	if (!usable_ca(xc)) {
		x509_why(why, whylen, "the cross-signed certificate is not a CA");
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(xc), X509_get0_pubkey(nxt)) != 1) {
		x509_why(why, whylen, "the cross-signed certificate does not "
		    "carry the next root's key");
		goto out;
	}
	if (X509_NAME_cmp(X509_get_subject_name(xc),
	    X509_get_subject_name(nxt)) != 0) {
		x509_why(why, whylen, "the cross-signed certificate does not "
		    "carry the next root's subject");
		goto out;
	}
	if (X509_NAME_cmp(X509_get_issuer_name(xc),
	    X509_get_subject_name(cur)) != 0) {
		x509_why(why, whylen, "the cross-signed certificate is not "
		    "issued by the current root");
		goto out;
	}
	r = HUSH_E_AUTH;
	if ((curkey = X509_get0_pubkey(cur)) == NULL ||
	    X509_verify(xc, curkey) != 1) {
		x509_why(why, whylen, "the cross-signed certificate is not "
		    "signed by the current root's key");
		goto out;
	}
	r = 0;
 out:
	X509_free(nxt);
	X509_free(cur);
	X509_free(xc);
	ERR_clear_error();
	return r;
}

int
x509_cert_reencode(const char *pem, size_t len, char **out, size_t *outlen)
{
	X509 *x = NULL;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = x509_pem_decode(pem, len, &x)) == 0)
		r = x509_pem_encode(x, out, outlen);
	X509_free(x);
	ERR_clear_error();
	return r;
}
