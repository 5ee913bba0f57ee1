/*
 * ECIES to a node's P-256 key; see keywrap.h for the format.  OpenSSL does
 * the curve arithmetic and HKDF, seal() the authenticated encryption.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <sodium.h>

#include "err.h"
#include "keywrap.h"
#include "seal.h"
#include "secbuf.h"
/* For the CSR checks and key decoding the CA already relies on. */
#define HUSH_X509_INTERNAL
#include "x509.h"

#define ECDH_BYTES	32	/* P-256 shared secret: the x-coordinate */
#define SALT_BYTES	(KEYWRAP_HDR_BYTES + KEYWRAP_POINT_BYTES)
#define POINT_UNCOMPRESSED	0x04
/* seal() key_id inside a blob: the key is per blob, so nothing to choose. */
#define KEYWRAP_KEY_ID	0

_Static_assert(SEAL_KEY_BYTES == 32, "HKDF output is a seal key");

/*
 * seal() would refuse a bad purpose too, but only after the ECDH and HKDF
 * had already used it; check first with the same rule (seal.h).
 */
static int
purpose_ok(const char *purpose)
{
	size_t i, n;

	if (purpose == NULL)
		return 0;
	n = strnlen(purpose, SEAL_MAX_PURPOSE + 1);
	if (n == 0 || n > SEAL_MAX_PURPOSE)
		return 0;
	for (i = 0; i < n; i++) {
		if (purpose[i] < 0x21 || purpose[i] > 0x7e)
			return 0;
	}
	return 1;
}

/*
 * The public point of pkey, uncompressed.  What OpenSSL returns follows
 * the key's conversion form, which depends on where the key came from;
 * ask for uncompressed explicitly, since the salt must be the same bytes
 * on both ends.
 */
static int
point_get(EVP_PKEY *pkey, uint8_t out[KEYWRAP_POINT_BYTES])
{
	size_t len = 0;

	if (!EVP_PKEY_set_utf8_string_param(pkey,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED))
		return HUSH_E_CRYPTO;
	if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY,
	    out, KEYWRAP_POINT_BYTES, &len) || len != KEYWRAP_POINT_BYTES ||
	    out[0] != POINT_UNCOMPRESSED)
		return HUSH_E_CRYPTO;
	return 0;
}

/*
 * The sender's ephemeral point is untrusted.  Import rejects a point off
 * the curve; the full public-key check then rejects the point at infinity
 * and anything outside the prime-order group, so the ECDH below cannot be
 * steered into a small subgroup or a degenerate result.
 */
static int
point_import(const uint8_t point[KEYWRAP_POINT_BYTES], EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL, *cctx = NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[3];
	char group[] = SN_X9_62_prime256v1;
	int r = HUSH_E_CRYPTO;

	*out = NULL;
	if (point[0] != POINT_UNCOMPRESSED)
		return HUSH_E_FORMAT;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)point, KEYWRAP_POINT_BYTES);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = HUSH_E_FORMAT;
		goto out;
	}
	if ((cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_public_check(cctx) != 1) {
		r = HUSH_E_FORMAT;
		goto out;
	}
	*out = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/*
 * ECDH between own (private) and peer (public, already checked), then HKDF
 * into key, which is guarded memory of SEAL_KEY_BYTES.  The shared secret
 * lives in guarded memory too and is gone when this returns.
 */
static int
derive_key(EVP_PKEY *own, EVP_PKEY *peer,
    const uint8_t salt[SALT_BYTES], const char *purpose, struct secbuf *key)
{
	struct secbuf ss = SECBUF_INIT;
	EVP_PKEY_CTX *dctx = NULL;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5];
	char digest[] = SN_sha256;
	size_t sslen;
	int r;

	if ((r = secbuf_alloc(&ss, ECDH_BYTES)) != 0)
		return r;
	r = HUSH_E_CRYPTO;
	if ((dctx = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL)) == NULL ||
	    EVP_PKEY_derive_init(dctx) <= 0 ||
	    EVP_PKEY_derive_set_peer_ex(dctx, peer, 0) <= 0)
		goto out;
	sslen = ss.len;
	if (EVP_PKEY_derive(dctx, ss.p, &sslen) <= 0 || sslen != ECDH_BYTES)
		goto out;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    ss.p, ss.len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, SALT_BYTES);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)purpose, strlen(purpose));
	params[4] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(kctx, key->p, key->len, params) <= 0)
		goto out;
	r = 0;
 out:
	/* The KDF context keeps its own copy of the secret until freed. */
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	EVP_PKEY_CTX_free(dctx);
	secbuf_free(&ss);
	if (r != 0)
		sodium_memzero(key->p, key->len);
	return r;
}

int
keywrap_seal_to_csr(const uint8_t *csr_der, size_t csr_len,
    const char *purpose, const uint8_t *pt, size_t ptlen, uint8_t *out,
    size_t outcap, size_t *outlen)
{
	struct secbuf key = SECBUF_INIT;
	EVP_PKEY *recip = NULL, *eph = NULL;
	uint8_t salt[SALT_BYTES];
	size_t n = 0;
	int r;

	if (outlen != NULL)
		*outlen = 0;
	if (out == NULL || outlen == NULL || (pt == NULL && ptlen != 0) ||
	    !purpose_ok(purpose))
		return HUSH_E_INVAL;
	if (ptlen > KEYWRAP_MAX || outcap < ptlen + KEYWRAP_OVERHEAD)
		return HUSH_E_TOOBIG;

	/* The CA's own checks, so we seal only to a key proven held. */
	if ((r = x509_csr_pubkey(csr_der, csr_len, &recip, NULL, 0)) != 0)
		goto out;
	if ((r = point_get(recip, salt + KEYWRAP_HDR_BYTES)) != 0 ||
	    (r = x509_key_new(&eph)) != 0 ||
	    (r = point_get(eph, salt + 1)) != 0)
		goto out;
	salt[0] = KEYWRAP_VERSION;
	if ((r = secbuf_alloc(&key, SEAL_KEY_BYTES)) != 0 ||
	    (r = derive_key(eph, recip, salt, purpose, &key)) != 0)
		goto out;
	memcpy(out, salt, KEYWRAP_HDR_BYTES);
	if ((r = seal(key.p, KEYWRAP_KEY_ID, purpose, pt, ptlen,
	    out + KEYWRAP_HDR_BYTES, outcap - KEYWRAP_HDR_BYTES, &n)) != 0) {
		/* Nothing secret in the header, but return all or nothing. */
		sodium_memzero(out, KEYWRAP_HDR_BYTES);
		goto out;
	}
	*outlen = KEYWRAP_HDR_BYTES + n;
 out:
	secbuf_free(&key);
	EVP_PKEY_free(eph);
	EVP_PKEY_free(recip);
	ERR_clear_error();
	return r;
}

/*
 * Everything that can be judged without the private key, cheapest first,
 * so junk costs no curve arithmetic.  Version before length, as in seal.c,
 * so a future format reads as such rather than as truncation.
 */
static int
check_blob(const uint8_t *blob, size_t len, size_t outcap)
{
	const uint8_t *rec;

	if (len == 0)
		return HUSH_E_TRUNCATED;
	if (blob[0] != KEYWRAP_VERSION)
		return HUSH_E_VERSION;
	if (len < KEYWRAP_OVERHEAD)
		return HUSH_E_TRUNCATED;
	if (len > KEYWRAP_BLOB_MAX || outcap < len - KEYWRAP_OVERHEAD)
		return HUSH_E_TOOBIG;
	if (blob[1] != POINT_UNCOMPRESSED)
		return HUSH_E_FORMAT;
	/*
	 * The inner header is authenticated by seal_open() anyway; these are
	 * just values keywrap_seal_to_csr() never writes.
	 */
	rec = blob + KEYWRAP_HDR_BYTES;
	if (rec[0] != SEAL_VERSION || rec[1] != KEYWRAP_KEY_ID)
		return HUSH_E_FORMAT;
	return 0;
}

int
keywrap_open(const struct secbuf *key_der, const char *purpose,
    const uint8_t *blob, size_t len, uint8_t *out, size_t outcap,
    size_t *outlen)
{
	struct secbuf key = SECBUF_INIT;
	EVP_PKEY *own = NULL, *eph = NULL;
	uint8_t salt[SALT_BYTES];
	int r;

	if (outlen != NULL)
		*outlen = 0;
	if (key_der == NULL || outlen == NULL || (blob == NULL && len != 0) ||
	    (out == NULL && outcap != 0) || !purpose_ok(purpose))
		return HUSH_E_INVAL;
	if ((r = check_blob(blob, len, outcap)) != 0)
		return r;

	if ((r = x509_key_decode(key_der, &own)) != 0 ||
	    (r = point_import(blob + 1, &eph)) != 0)
		goto out;
	memcpy(salt, blob, KEYWRAP_HDR_BYTES);
	if ((r = point_get(own, salt + KEYWRAP_HDR_BYTES)) != 0)
		goto out;
	if ((r = secbuf_alloc(&key, SEAL_KEY_BYTES)) != 0 ||
	    (r = derive_key(own, eph, salt, purpose, &key)) != 0)
		goto out;
	/* seal_open() wipes out and zeroes *outlen itself on failure. */
	r = seal_open(key.p, purpose, blob + KEYWRAP_HDR_BYTES,
	    len - KEYWRAP_HDR_BYTES, out, outcap, outlen);
 out:
	secbuf_free(&key);
	EVP_PKEY_free(eph);
	EVP_PKEY_free(own);
	ERR_clear_error();
	return r;
}
