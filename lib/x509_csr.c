/*
 * Certificate signing requests: making one for a node's own key, and the
 * CA's check of an untrusted one.  The CA takes nothing from a CSR but the
 * public key, and only once the CSR's signature proves the sender holds the
 * matching private key.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "err.h"
#include "secbuf.h"
#define HUSH_X509_INTERNAL
#include "x509.h"

/* Uncompressed P-256 point: 0x04 || X || Y. */
#define P256_POINT_MAX	65

int
x509_csr_create(const struct secbuf *key_der, uint8_t **csr_der,
    size_t *csr_len)
{
	EVP_PKEY *pkey = NULL;
	X509_REQ *req = NULL;
	uint8_t *der = NULL, *q;
	int n, r;

	*csr_der = NULL;
	*csr_len = 0;
	if ((r = x509_key_decode(key_der, &pkey)) != 0)
		goto out;
	r = HUSH_E_CRYPTO;
	if ((req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_pubkey(req, pkey) ||
	    X509_REQ_sign(req, pkey, EVP_sha256()) <= 0)
		goto out;
	if ((n = i2d_X509_REQ(req, NULL)) <= 0 || n > X509_MAX_CSR_DER)
		goto out;
	/* Our caller frees with free(), not OPENSSL_free(). */
	if ((der = malloc((size_t)n)) == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	q = der;
	if (i2d_X509_REQ(req, &q) != n)
		goto out;
	*csr_der = der;
	*csr_len = (size_t)n;
	der = NULL;
	r = 0;
 out:
	free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}

/*
 * Rebuild the key from its point alone so that the certificate we issue
 * carries a canonical SubjectPublicKeyInfo (named curve, uncompressed point)
 * whatever encoding quirks the CSR had.
 */
static int
canonical_pubkey(const EVP_PKEY *src, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[3];
	unsigned char point[P256_POINT_MAX];
	char group[] = SN_X9_62_prime256v1;
	size_t plen;
	int r = HUSH_E_CRYPTO;

	*out = NULL;
	if (!EVP_PKEY_get_octet_string_param(src, OSSL_PKEY_PARAM_PUB_KEY,
	    point, sizeof(point), &plen) || plen == 0) {
		r = HUSH_E_FORMAT;
		goto out;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    point, plen);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = HUSH_E_FORMAT;
		goto out;
	}
	*out = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/*
 * The point at infinity decodes without complaint, and with it as the
 * public key anyone can produce an ECDSA signature that verifies, so the
 * full public key check has to come before the signature means anything.
 */
static bool
pubkey_valid(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx;
	bool ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return false;
	ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/*
 * Bytes that are not exactly the DER re-encoding would let two parsers
 * disagree about what was signed; refuse them rather than reason about it.
 * (OpenSSL re-emits the signed part as received, so this covers the outer
 * structure; the signature covers the rest.)
 */
static bool
canonical_der(const X509_REQ *req, const uint8_t *der, size_t len)
{
	unsigned char *enc = NULL;
	int n;
	bool ok;

	if ((n = i2d_X509_REQ(req, &enc)) <= 0)
		return false;
	ok = (size_t)n == len && memcmp(enc, der, len) == 0;
	OPENSSL_free(enc);
	return ok;
}

int
x509_csr_pubkey(const uint8_t *csr_der, size_t csr_len, EVP_PKEY **pubkey,
    char *why, size_t whylen)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pkey = NULL;
	const EVP_PKEY *reqkey;
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	const ASN1_OBJECT *oid;
	const unsigned char *p;
	int ptype, r = HUSH_E_FORMAT;

	*pubkey = NULL;
	if (csr_der == NULL || csr_len == 0) {
		x509_why(why, whylen, "CSR is empty");
		r = HUSH_E_TRUNCATED;
		goto out;
	}
	if (csr_len > X509_MAX_CSR_DER) {
		x509_why(why, whylen, "CSR is larger than %d bytes",
		    X509_MAX_CSR_DER);
		r = HUSH_E_TOOBIG;
		goto out;
	}

	p = csr_der;
	if ((req = d2i_X509_REQ(NULL, &p, (long)csr_len)) == NULL) {
		x509_why(why, whylen, "CSR is not valid DER");
		goto out;
	}
	if (p != csr_der + csr_len) {
		x509_why(why, whylen, "CSR has %zu trailing bytes after the DER",
		    csr_len - (size_t)(p - csr_der));
		goto out;
	}
	if (!canonical_der(req, csr_der, csr_len)) {
		x509_why(why, whylen, "CSR is not valid DER (not canonical)");
		goto out;
	}
	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		x509_why(why, whylen, "CSR version is not 1");
		goto out;
	}

	if ((reqkey = X509_REQ_get0_pubkey(req)) == NULL) {
		x509_why(why, whylen, "CSR public key cannot be decoded");
		goto out;
	}
	if (!x509_key_is_p256(reqkey)) {
		x509_why(why, whylen, "CSR key is not ECDSA P-256");
		r = HUSH_E_INVAL;
		goto out;
	}
	if ((r = canonical_pubkey(reqkey, &pkey)) != 0 ||
	    !pubkey_valid(pkey)) {
		x509_why(why, whylen, "CSR key is not a valid P-256 point");
		r = HUSH_E_INVAL;
		goto out;
	}

	/* RFC 5758: ecdsa-with-SHA256 takes no parameters. */
	X509_REQ_get0_signature(req, &sig, &alg);
	X509_ALGOR_get0(&oid, &ptype, NULL, alg);
	if (OBJ_obj2nid(oid) != NID_ecdsa_with_SHA256 || ptype != V_ASN1_UNDEF) {
		x509_why(why, whylen,
		    "CSR signature algorithm is not ecdsa-with-SHA256");
		r = HUSH_E_INVAL;
		goto out;
	}
	if (X509_REQ_verify(req, (EVP_PKEY *)reqkey) != 1) {
		x509_why(why, whylen, "CSR signature does not verify");
		r = HUSH_E_AUTH;
		goto out;
	}
	*pubkey = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	X509_REQ_free(req);
	return r;
}
