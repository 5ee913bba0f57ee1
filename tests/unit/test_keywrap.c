/*
 * Key wrapping to a node key: what is sealed to a CSR opens only with that
 * CSR's private key and purpose, every alteration of a blob is refused
 * without crashing or leaving plaintext behind, and only CSRs the CA would
 * accept are sealed to.  Keys and CSRs are real ones from lib/x509.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "err.h"
#include "keywrap.h"
#include "seal.h"
#include "secbuf.h"
#include "x509.h"

#define PURPOSE_DEK	"hush/join-dek"
#define PURPOSE_KEK	"hush/join-kek"
#define FILL		0xa5

/* Offsets in a blob (keywrap.h). */
#define OFF_POINT	1
#define OFF_X		2
#define OFF_Y		(OFF_X + 32)
#define OFF_REC		KEYWRAP_HDR_BYTES

/* The P-256 field prime, big-endian. */
static const uint8_t p256_p[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* Node key 1 with its CSR; node key 2 has nothing to do with the blobs. */
static struct secbuf key1 = SECBUF_INIT, key2 = SECBUF_INIT;
static uint8_t *csr1;
static size_t csr1_len;

/* ---- helpers ------------------------------------------------------------ */

static EVP_PKEY *
der_to_pkey(const struct secbuf *der)
{
	const unsigned char *p = der->p;
	EVP_PKEY *pkey;

	assert_non_null(pkey = d2i_AutoPrivateKey(NULL, &p, (long)der->len));
	return pkey;
}

/* A CSR carrying pub's key, signed by signer, for CSRs lib/x509 won't make. */
static void
make_csr(EVP_PKEY *pub, EVP_PKEY *signer, uint8_t **der, size_t *len)
{
	X509_REQ *req;
	unsigned char *p = NULL;
	int n;

	assert_non_null(req = X509_REQ_new());
	assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, pub), 1);
	assert_true(X509_REQ_sign(req, signer, EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &p);
	assert_true(n > 0);
	assert_non_null(*der = malloc((size_t)n));
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	X509_REQ_free(req);
}

static void
wrap(const uint8_t *csr, size_t csr_len, const char *purpose,
    const uint8_t *pt, size_t ptlen, uint8_t *blob, size_t *blob_len)
{
	size_t len = 0;

	assert_int_equal(keywrap_seal_to_csr(csr, csr_len, purpose, pt, ptlen,
	    blob, ptlen + KEYWRAP_OVERHEAD, &len), 0);
	assert_int_equal(len, ptlen + KEYWRAP_OVERHEAD);
	assert_int_equal(ERR_peek_error(), 0);
	*blob_len = len;
}

/* Opens into guarded memory of exactly the plaintext size and compares. */
static void
expect_opens(const struct secbuf *key, const char *purpose,
    const uint8_t *blob, size_t len, const uint8_t *pt, size_t ptlen)
{
	struct secbuf out = SECBUF_INIT;
	size_t outlen = 1;

	assert_int_equal(secbuf_alloc(&out, ptlen), 0);
	assert_int_equal(keywrap_open(key, purpose, blob, len, out.p, out.len,
	    &outlen), 0);
	assert_int_equal(outlen, ptlen);
	assert_memory_equal(out.p, pt, ptlen);
	assert_int_equal(ERR_peek_error(), 0);
	secbuf_free(&out);
}

/*
 * A refusal with the expected code that leaves *outlen 0 and nothing but
 * the fill pattern or zeros in out, i.e. no plaintext.
 */
static void
expect_refused(const struct secbuf *key, const char *purpose,
    const uint8_t *blob, size_t len, int code)
{
	uint8_t out[KEYWRAP_BLOB_MAX];
	size_t i, outlen = 1;
	int r;

	memset(out, FILL, sizeof(out));
	r = keywrap_open(key, purpose, blob, len, out, sizeof(out), &outlen);
	if (r != code)
		fail_msg("keywrap_open of %zu bytes: got %d (%s), want %d (%s)",
		    len, r, hush_strerror(r), code, hush_strerror(code));
	assert_int_equal(outlen, 0);
	for (i = 0; i < sizeof(out); i++) {
		if (out[i] != FILL && out[i] != 0)
			fail_msg("out[%zu] = 0x%02x after a refusal", i,
			    out[i]);
	}
	assert_int_equal(ERR_peek_error(), 0);
}

static void
expect_seal_refused(const uint8_t *csr, size_t csr_len, int code)
{
	uint8_t pt[32], blob[32 + KEYWRAP_OVERHEAD];
	size_t len = 1;

	memset(pt, 0x42, sizeof(pt));
	assert_int_equal(keywrap_seal_to_csr(csr, csr_len, PURPOSE_DEK, pt,
	    sizeof(pt), blob, sizeof(blob), &len), code);
	assert_int_equal(len, 0);
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- fixtures ----------------------------------------------------------- */

static int
setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	if (x509_key_generate(&key1) != 0 || x509_key_generate(&key2) != 0)
		return -1;
	if (x509_csr_create(&key1, &csr1, &csr1_len) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	free(csr1);
	secbuf_free(&key1);
	secbuf_free(&key2);
	return 0;
}

/* ---- round trips -------------------------------------------------------- */

static void
roundtrip(size_t ptlen)
{
	uint8_t pt[KEYWRAP_MAX], blob[KEYWRAP_BLOB_MAX];
	size_t len;

	randombytes_buf(pt, ptlen);
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, ptlen, blob, &len);
	assert_int_equal(blob[0], KEYWRAP_VERSION);
	assert_int_equal(blob[OFF_POINT], 0x04);
	assert_int_equal(blob[OFF_REC], SEAL_VERSION);
	if (ptlen >= 8)
		assert_null(memmem(blob, len, pt, 8));
	expect_opens(&key1, PURPOSE_DEK, blob, len, pt, ptlen);
}

static void
test_roundtrip_32(void **state)
{
	roundtrip(32);
}

/* The DEK and KEK together, as a join reply with autolock carries them. */
static void
test_roundtrip_64(void **state)
{
	roundtrip(64);
}

static void
test_roundtrip_sizes(void **state)
{
	uint8_t blob[KEYWRAP_OVERHEAD];
	size_t len = 0, outlen = 1;

	roundtrip(1);
	roundtrip(KEYWRAP_MAX);

	/* Empty is pointless but well defined, out may then be NULL. */
	wrap(csr1, csr1_len, PURPOSE_DEK, NULL, 0, blob, &len);
	assert_int_equal(keywrap_open(&key1, PURPOSE_DEK, blob, len, NULL, 0,
	    &outlen), 0);
	assert_int_equal(outlen, 0);
}

/* A CSR with a compressed point: both ends must still agree on the salt. */
static void
test_compressed_csr(void **state)
{
	EVP_PKEY *pkey;
	uint8_t pt[32], blob[32 + KEYWRAP_OVERHEAD], *csr;
	size_t csr_len, len;

	pkey = der_to_pkey(&key1);
	assert_int_equal(EVP_PKEY_set_utf8_string_param(pkey,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"), 1);
	make_csr(pkey, pkey, &csr, &csr_len);
	/* 33-byte point instead of 65: really compressed. */
	assert_true(csr_len < csr1_len);
	randombytes_buf(pt, sizeof(pt));
	wrap(csr, csr_len, PURPOSE_DEK, pt, sizeof(pt), blob, &len);
	expect_opens(&key1, PURPOSE_DEK, blob, len, pt, sizeof(pt));
	free(csr);
	EVP_PKEY_free(pkey);
}

static void
test_seals_differ(void **state)
{
	uint8_t pt[32], a[sizeof(pt) + KEYWRAP_OVERHEAD];
	uint8_t b[sizeof(a)];
	size_t alen, blen;

	randombytes_buf(pt, sizeof(pt));
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, sizeof(pt), a, &alen);
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, sizeof(pt), b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_not_equal(a, b, alen);
	/* A fresh ephemeral key each time, not just a fresh nonce. */
	assert_memory_not_equal(a + OFF_POINT, b + OFF_POINT,
	    KEYWRAP_POINT_BYTES);
	expect_opens(&key1, PURPOSE_DEK, a, alen, pt, sizeof(pt));
	expect_opens(&key1, PURPOSE_DEK, b, blen, pt, sizeof(pt));
}

/* ---- wrong key or purpose ----------------------------------------------- */

static void
test_wrong_key(void **state)
{
	struct secbuf junk = SECBUF_INIT;
	uint8_t pt[32], blob[32 + KEYWRAP_OVERHEAD];
	size_t len;

	randombytes_buf(pt, sizeof(pt));
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, sizeof(pt), blob, &len);
	expect_refused(&key2, PURPOSE_DEK, blob, len, HUSH_E_AUTH);

	/* Not a key at all. */
	assert_int_equal(secbuf_dup(&junk, "junk", 4), 0);
	expect_refused(&junk, PURPOSE_DEK, blob, len, HUSH_E_FORMAT);
	secbuf_free(&junk);
	expect_opens(&key1, PURPOSE_DEK, blob, len, pt, sizeof(pt));
}

static void
test_wrong_purpose(void **state)
{
	uint8_t pt[32], blob[32 + KEYWRAP_OVERHEAD];
	size_t len;

	randombytes_buf(pt, sizeof(pt));
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, sizeof(pt), blob, &len);
	expect_refused(&key1, PURPOSE_KEK, blob, len, HUSH_E_AUTH);
	expect_refused(&key1, "hush/join-de", blob, len, HUSH_E_AUTH);
	expect_refused(&key1, "hush/join-dekk", blob, len, HUSH_E_AUTH);
	expect_opens(&key1, PURPOSE_DEK, blob, len, pt, sizeof(pt));
}

/* ---- altered blobs ------------------------------------------------------ */

/*
 * Every byte, three ways.  A flip in the ephemeral point almost always
 * leaves the curve (HUSH_E_FORMAT); should it land on another point the
 * key differs and the record fails (HUSH_E_AUTH).  Everything after the
 * header is the seal record, whose own header we check strictly.
 */
static void
test_byte_flips(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	uint8_t pt[32], blob[32 + KEYWRAP_OVERHEAD], bad[sizeof(blob)];
	uint8_t out[sizeof(pt)];
	size_t i, m, len, outlen;
	int r;

	randombytes_buf(pt, sizeof(pt));
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, sizeof(pt), blob, &len);
	for (i = 0; i < len; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(bad, blob, len);
			bad[i] ^= masks[m];
			if (i == 0) {
				expect_refused(&key1, PURPOSE_DEK, bad, len,
				    HUSH_E_VERSION);
			} else if (i == OFF_POINT || i == OFF_REC ||
			    i == OFF_REC + 1) {
				expect_refused(&key1, PURPOSE_DEK, bad, len,
				    HUSH_E_FORMAT);
			} else if (i < OFF_REC) {
				memset(out, FILL, sizeof(out));
				outlen = 1;
				r = keywrap_open(&key1, PURPOSE_DEK, bad, len,
				    out, sizeof(out), &outlen);
				if (r != HUSH_E_FORMAT && r != HUSH_E_AUTH)
					fail_msg("flip at %zu: %d", i, r);
				assert_int_equal(outlen, 0);
				assert_null(memmem(out, sizeof(out), pt, 8));
				assert_int_equal(ERR_peek_error(), 0);
			} else {
				expect_refused(&key1, PURPOSE_DEK, bad, len,
				    HUSH_E_AUTH);
			}
		}
	}
	expect_opens(&key1, PURPOSE_DEK, blob, len, pt, sizeof(pt));
}

static void
test_truncations(void **state)
{
	uint8_t pt[64], blob[64 + KEYWRAP_OVERHEAD + 1];
	size_t n, len;

	randombytes_buf(pt, sizeof(pt));
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, sizeof(pt), blob, &len);
	expect_refused(&key1, PURPOSE_DEK, NULL, 0, HUSH_E_TRUNCATED);
	for (n = 0; n < len; n++)
		expect_refused(&key1, PURPOSE_DEK, blob, n,
		    n < KEYWRAP_OVERHEAD ? HUSH_E_TRUNCATED : HUSH_E_AUTH);
	/* Nor may anything be appended. */
	blob[len] = 0;
	expect_refused(&key1, PURPOSE_DEK, blob, len + 1, HUSH_E_AUTH);
}

static void
test_version(void **state)
{
	uint8_t pt[32], blob[32 + KEYWRAP_OVERHEAD];
	size_t len;

	randombytes_buf(pt, sizeof(pt));
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, sizeof(pt), blob, &len);
	blob[0] = 2;
	expect_refused(&key1, PURPOSE_DEK, blob, len, HUSH_E_VERSION);
	/* Even a lone version byte says what it is. */
	expect_refused(&key1, PURPOSE_DEK, blob, 1, HUSH_E_VERSION);
	blob[0] = 0;
	expect_refused(&key1, PURPOSE_DEK, blob, len, HUSH_E_VERSION);
	blob[0] = 0xff;
	expect_refused(&key1, PURPOSE_DEK, blob, len, HUSH_E_VERSION);
	blob[0] = KEYWRAP_VERSION;
	expect_opens(&key1, PURPOSE_DEK, blob, len, pt, sizeof(pt));
}

/*
 * The brief relies on OpenSSL refusing an off-curve point on import; make
 * sure this OpenSSL does, independently of keywrap's own later check.
 */
static void
test_openssl_import_checks_curve(void **state)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[3];
	uint8_t point[KEYWRAP_POINT_BYTES];
	char group[] = SN_X9_62_prime256v1;

	memset(point, 0, sizeof(point));
	point[0] = 0x04;
	point[32] = 1;		/* (1, 1) */
	point[64] = 1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    point, sizeof(point));
	params[2] = OSSL_PARAM_construct_end();
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_true(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY,
	    params) <= 0);
	assert_null(pkey);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
}

/* y -> p - y: the other point with the same x, on the curve. */
static void
negate_y(uint8_t *y)
{
	BIGNUM *p, *v;

	assert_non_null(p = BN_bin2bn(p256_p, sizeof(p256_p), NULL));
	assert_non_null(v = BN_bin2bn(y, 32, NULL));
	assert_int_equal(BN_sub(v, p, v), 1);
	assert_int_equal(BN_bn2binpad(v, y, 32), 32);
	BN_free(v);
	BN_free(p);
}

static void
test_bad_points(void **state)
{
	EVP_PKEY *pkey;
	uint8_t pt[32], blob[32 + KEYWRAP_OVERHEAD], bad[sizeof(blob)];
	size_t len, plen;

	randombytes_buf(pt, sizeof(pt));
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, sizeof(pt), blob, &len);

	/* (1, 1) is not on the curve. */
	memcpy(bad, blob, len);
	memset(bad + OFF_X, 0, 64);
	bad[OFF_Y - 1] = 1;
	bad[OFF_Y + 31] = 1;
	expect_refused(&key1, PURPOSE_DEK, bad, len, HUSH_E_FORMAT);

	/* (0, 0), the usual stand-in for infinity in affine coordinates. */
	memset(bad + OFF_X, 0, 64);
	expect_refused(&key1, PURPOSE_DEK, bad, len, HUSH_E_FORMAT);

	/* The SEC1 encoding of infinity, padded, and the other encodings. */
	bad[OFF_POINT] = 0x00;
	expect_refused(&key1, PURPOSE_DEK, bad, len, HUSH_E_FORMAT);
	memcpy(bad, blob, len);
	bad[OFF_POINT] = 0x02;
	expect_refused(&key1, PURPOSE_DEK, bad, len, HUSH_E_FORMAT);
	bad[OFF_POINT] = 0x06;	/* hybrid */
	expect_refused(&key1, PURPOSE_DEK, bad, len, HUSH_E_FORMAT);

	/* Coordinates outside the field: x = x + p does not fit, so x = p. */
	memcpy(bad, blob, len);
	memcpy(bad + OFF_X, p256_p, 32);
	expect_refused(&key1, PURPOSE_DEK, bad, len, HUSH_E_FORMAT);
	memcpy(bad, blob, len);
	memcpy(bad + OFF_Y, p256_p, 32);
	expect_refused(&key1, PURPOSE_DEK, bad, len, HUSH_E_FORMAT);

	/*
	 * Valid points that are not the ephemeral key: its negation, and
	 * another node's key.  Both derive other keys, so the record fails.
	 */
	memcpy(bad, blob, len);
	negate_y(bad + OFF_Y);
	expect_refused(&key1, PURPOSE_DEK, bad, len, HUSH_E_AUTH);
	pkey = der_to_pkey(&key2);
	memcpy(bad, blob, len);
	assert_int_equal(EVP_PKEY_get_octet_string_param(pkey,
	    OSSL_PKEY_PARAM_PUB_KEY, bad + OFF_POINT, KEYWRAP_POINT_BYTES,
	    &plen), 1);
	assert_int_equal(plen, KEYWRAP_POINT_BYTES);
	expect_refused(&key1, PURPOSE_DEK, bad, len, HUSH_E_AUTH);
	EVP_PKEY_free(pkey);

	expect_opens(&key1, PURPOSE_DEK, blob, len, pt, sizeof(pt));
}

/* Inner seal header values keywrap_seal_to_csr never writes. */
static void
test_inner_header(void **state)
{
	uint8_t pt[32], blob[32 + KEYWRAP_OVERHEAD];
	size_t len;

	randombytes_buf(pt, sizeof(pt));
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, sizeof(pt), blob, &len);
	blob[OFF_REC] = SEAL_VERSION + 1;
	expect_refused(&key1, PURPOSE_DEK, blob, len, HUSH_E_FORMAT);
	blob[OFF_REC] = SEAL_VERSION;
	blob[OFF_REC + 1] = 1;
	expect_refused(&key1, PURPOSE_DEK, blob, len, HUSH_E_FORMAT);
}

/* ---- CSRs we must not seal to ------------------------------------------- */

static void
test_csr_bad_signature(void **state)
{
	EVP_PKEY *k1, *k2;
	uint8_t *csr;
	size_t len;

	/* The last byte is inside the signature's s: DER stays valid. */
	assert_non_null(csr = malloc(csr1_len));
	memcpy(csr, csr1, csr1_len);
	csr[csr1_len - 1] ^= 0x01;
	expect_seal_refused(csr, csr1_len, HUSH_E_AUTH);
	free(csr);

	/* Node 1's key, signed by node 2: no proof node 1's key is held. */
	k1 = der_to_pkey(&key1);
	k2 = der_to_pkey(&key2);
	make_csr(k1, k2, &csr, &len);
	expect_seal_refused(csr, len, HUSH_E_AUTH);
	free(csr);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k1);
}

static void
test_csr_rsa(void **state)
{
	EVP_PKEY *rsa;
	uint8_t *csr;
	size_t len;

	assert_non_null(rsa = EVP_RSA_gen(2048));
	make_csr(rsa, rsa, &csr, &len);
	expect_seal_refused(csr, len, HUSH_E_INVAL);
	free(csr);
	EVP_PKEY_free(rsa);
}

static void
test_csr_malformed(void **state)
{
	uint8_t junk[16];

	memset(junk, 0x30, sizeof(junk));
	expect_seal_refused(NULL, 0, HUSH_E_TRUNCATED);
	expect_seal_refused(csr1, 0, HUSH_E_TRUNCATED);
	expect_seal_refused(junk, sizeof(junk), HUSH_E_FORMAT);
	expect_seal_refused(csr1, csr1_len - 1, HUSH_E_FORMAT);
	expect_seal_refused(csr1, X509_MAX_CSR_DER + 1, HUSH_E_TOOBIG);
}

/* ---- arguments ---------------------------------------------------------- */

static void
test_args(void **state)
{
	uint8_t pt[KEYWRAP_MAX + 1], blob[KEYWRAP_BLOB_MAX + 1];
	uint8_t out[32], big[KEYWRAP_MAX + 1];
	char longp[SEAL_MAX_PURPOSE + 2];
	size_t len = 1, blen;

	memset(pt, 0x42, sizeof(pt));
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';

	/* Sealing. */
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, PURPOSE_DEK, pt,
	    32, blob, 32 + KEYWRAP_OVERHEAD - 1, &len), HUSH_E_TOOBIG);
	assert_int_equal(len, 0);
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, PURPOSE_DEK, pt,
	    KEYWRAP_MAX + 1, blob, sizeof(blob), &len), HUSH_E_TOOBIG);
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, PURPOSE_DEK, NULL,
	    32, blob, sizeof(blob), &len), HUSH_E_INVAL);
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, PURPOSE_DEK, pt,
	    32, NULL, sizeof(blob), &len), HUSH_E_INVAL);
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, PURPOSE_DEK, pt,
	    32, blob, sizeof(blob), NULL), HUSH_E_INVAL);
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, NULL, pt,
	    32, blob, sizeof(blob), &len), HUSH_E_INVAL);
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, "", pt,
	    32, blob, sizeof(blob), &len), HUSH_E_INVAL);
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, "hush/join dek",
	    pt, 32, blob, sizeof(blob), &len), HUSH_E_INVAL);
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, longp, pt,
	    32, blob, sizeof(blob), &len), HUSH_E_INVAL);
	longp[SEAL_MAX_PURPOSE] = '\0';
	assert_int_equal(keywrap_seal_to_csr(csr1, csr1_len, longp, pt,
	    32, blob, sizeof(blob), &len), 0);
	expect_opens(&key1, longp, blob, len, pt, 32);

	/* Opening. */
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, 32, blob, &blen);
	len = 1;
	assert_int_equal(keywrap_open(&key1, PURPOSE_DEK, blob, blen, out,
	    31, &len), HUSH_E_TOOBIG);
	assert_int_equal(len, 0);
	assert_int_equal(keywrap_open(&key1, PURPOSE_DEK, blob, blen, NULL,
	    32, &len), HUSH_E_INVAL);
	assert_int_equal(keywrap_open(&key1, PURPOSE_DEK, blob, blen, out,
	    sizeof(out), NULL), HUSH_E_INVAL);
	assert_int_equal(keywrap_open(NULL, PURPOSE_DEK, blob, blen, out,
	    sizeof(out), &len), HUSH_E_INVAL);
	assert_int_equal(keywrap_open(&key1, "", blob, blen, out,
	    sizeof(out), &len), HUSH_E_INVAL);
	assert_int_equal(keywrap_open(&key1, PURPOSE_DEK, NULL, blen, out,
	    sizeof(out), &len), HUSH_E_INVAL);

	/* Over the size bound, before anything else is looked at. */
	wrap(csr1, csr1_len, PURPOSE_DEK, pt, KEYWRAP_MAX, blob, &blen);
	blob[blen] = 0;
	assert_int_equal(keywrap_open(&key1, PURPOSE_DEK, blob, blen + 1,
	    big, sizeof(big), &len), HUSH_E_TOOBIG);
	assert_int_equal(ERR_peek_error(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_32),
		cmocka_unit_test(test_roundtrip_64),
		cmocka_unit_test(test_roundtrip_sizes),
		cmocka_unit_test(test_compressed_csr),
		cmocka_unit_test(test_seals_differ),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_wrong_purpose),
		cmocka_unit_test(test_byte_flips),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_openssl_import_checks_curve),
		cmocka_unit_test(test_bad_points),
		cmocka_unit_test(test_inner_header),
		cmocka_unit_test(test_csr_bad_signature),
		cmocka_unit_test(test_csr_rsa),
		cmocka_unit_test(test_csr_malformed),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
