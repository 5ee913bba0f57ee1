/*
 * X.509 PKI: the CA and leaf certificates have exactly the fields and
 * extensions the model prescribes, times are exact to the second, and
 * every kind of bad CSR or PEM is refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "err.h"
#include "msg.h"
#include "secbuf.h"
#include "x509.h"

#define NOW		INT64_C(1700000000)	/* 2023-11-14T22:13:20Z */
#define CA_LIFETIME	(UINT64_C(20) * 365 * 86400)
#define LEAF_LIFETIME	(UINT64_C(90) * 86400)
#define HOUR		3600

/*
 * Made with: openssl req -new -key k.pem -subj
 * "/O=attacker/OU=hush-manager/CN=evil" -addext
 * "basicConstraints=critical,CA:TRUE" -addext
 * "extendedKeyUsage=codeSigning" -sha256 -outform DER
 * The CA must take its key and nothing else.
 */
static const uint8_t evil_csr[] = {
	0x30, 0x82, 0x01, 0x2c, 0x30, 0x81, 0xd2, 0x02, 0x01, 0x00, 0x30, 0x39,
	0x31, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x08, 0x61,
	0x74, 0x74, 0x61, 0x63, 0x6b, 0x65, 0x72, 0x31, 0x15, 0x30, 0x13, 0x06,
	0x03, 0x55, 0x04, 0x0b, 0x0c, 0x0c, 0x68, 0x75, 0x73, 0x68, 0x2d, 0x6d,
	0x61, 0x6e, 0x61, 0x67, 0x65, 0x72, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03,
	0x55, 0x04, 0x03, 0x0c, 0x04, 0x65, 0x76, 0x69, 0x6c, 0x30, 0x59, 0x30,
	0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
	0x28, 0x95, 0x1a, 0x8a, 0x5d, 0x06, 0xb7, 0xce, 0x3f, 0xd8, 0x47, 0x20,
	0xc5, 0x74, 0x19, 0xac, 0xe0, 0xed, 0x5a, 0x67, 0x50, 0x1c, 0xeb, 0xf2,
	0x03, 0xfe, 0xf9, 0xa9, 0xe7, 0x8a, 0xef, 0xd7, 0xa7, 0xb9, 0xb6, 0xc6,
	0xf8, 0x47, 0x62, 0xd9, 0x19, 0xfd, 0x60, 0xff, 0x71, 0xc6, 0x2c, 0xf0,
	0x1b, 0x01, 0x55, 0x3e, 0x98, 0x81, 0x64, 0x48, 0x19, 0x7f, 0x7b, 0xd6,
	0x0f, 0xf9, 0x3d, 0xaf, 0xa0, 0x37, 0x30, 0x35, 0x06, 0x09, 0x2a, 0x86,
	0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e, 0x31, 0x28, 0x30, 0x26, 0x30,
	0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30,
	0x03, 0x01, 0x01, 0xff, 0x30, 0x13, 0x06, 0x03, 0x55, 0x1d, 0x25, 0x04,
	0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03,
	0x03, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
	0x02, 0x03, 0x49, 0x00, 0x30, 0x46, 0x02, 0x21, 0x00, 0x9c, 0x51, 0x56,
	0x78, 0xd8, 0x0e, 0x87, 0x70, 0x7f, 0xc9, 0x40, 0x3f, 0x97, 0x9a, 0xc8,
	0xde, 0xf6, 0xb3, 0xcc, 0x89, 0xb8, 0x69, 0x7f, 0x70, 0x1b, 0x69, 0x87,
	0xa0, 0x2e, 0xad, 0x22, 0xe3, 0x02, 0x21, 0x00, 0xdc, 0xf7, 0x15, 0xc0,
	0xf2, 0x9f, 0xb2, 0xbe, 0x6c, 0x19, 0xb6, 0x28, 0x71, 0x81, 0x9d, 0x0e,
	0x9a, 0x64, 0xe9, 0x23, 0x17, 0x13, 0x42, 0x40, 0xf7, 0x5a, 0x3a, 0x6d,
	0x45, 0xe5, 0xab, 0xea,
};

/* sha256 of the SPKI DER: openssl req -pubkey | openssl pkey -pubin -outform DER */
static const uint8_t evil_spki_sha256[32] = {
	0xee, 0xef, 0xf6, 0x82, 0x55, 0x8a, 0xfe, 0x29, 0x52, 0xb0, 0xbe, 0x7e,
	0x91, 0x96, 0x05, 0x0e, 0x75, 0x29, 0xd7, 0x7e, 0xaa, 0xc0, 0xb2, 0x98,
	0xe2, 0xc2, 0xa0, 0x32, 0xfb, 0x25, 0x18, 0x78,
};

struct ca {
	struct secbuf	 key;
	char		*pem;
	size_t		 len;
};

static struct ca ca1, ca2;

static const struct x509_subject node_subject = {
	.cn = "3xk9q0vz5m1d8c2w7e4r6t0yb",
	.ou = X509_OU_MANAGER,
	.o = "k2j8d0s9f7g6h5a4s3d2f1g0z",
};

/* ---- helpers ------------------------------------------------------------ */

static X509 *
pem_to_x509(const char *pem, size_t len)
{
	BIO *bio;
	X509 *x;

	assert_non_null(bio = BIO_new_mem_buf(pem, (int)len));
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *
der_to_pkey(const struct secbuf *key)
{
	const unsigned char *p = key->p;
	EVP_PKEY *pkey;

	pkey = d2i_AutoPrivateKey(NULL, &p, (long)key->len);
	assert_non_null(pkey);
	return pkey;
}

static void
pkey_spki_sha256(EVP_PKEY *pkey, uint8_t out[32])
{
	unsigned char *der = NULL;
	int n;

	n = i2d_PUBKEY(pkey, &der);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(),
	    NULL), 1);
	OPENSSL_free(der);
}

static void
key_spki_sha256(const struct secbuf *key, uint8_t out[32])
{
	EVP_PKEY *pkey = der_to_pkey(key);

	pkey_spki_sha256(pkey, out);
	EVP_PKEY_free(pkey);
}

/* A CSR for any key and digest, for the keys x509_csr_create refuses. */
static void
make_csr(EVP_PKEY *pkey, const EVP_MD *md, uint8_t **der, size_t *len)
{
	X509_REQ *req;
	unsigned char *p = NULL;
	int n;

	assert_non_null(req = X509_REQ_new());
	assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, pkey), 1);
	assert_true(X509_REQ_sign(req, pkey, md) > 0);
	n = i2d_X509_REQ(req, &p);
	assert_true(n > 0);
	assert_non_null(*der = malloc((size_t)n));
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	X509_REQ_free(req);
}

static void
issue(const struct ca *ca, int64_t now, uint64_t lifetime,
    struct secbuf *key, char **pem, size_t *len)
{
	uint8_t *csr;
	size_t csr_len;
	char why[256];

	assert_int_equal(x509_key_generate(key), 0);
	assert_int_equal(x509_csr_create(key, &csr, &csr_len), 0);
	assert_int_equal(x509_csr_sign(csr, csr_len, &ca->key, ca->pem,
	    ca->len, &node_subject, now, lifetime, pem, len, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "");
	free(csr);
}

/* Every refusal: the expected code, a reason naming it, nothing issued. */
static void
expect_refused(const uint8_t *csr, size_t len, int code, const char *reason)
{
	char why[256], *pem = (char *)1;
	size_t pem_len = 1;

	assert_int_equal(x509_csr_sign(csr, len, &ca1.key, ca1.pem, ca1.len,
	    &node_subject, NOW, LEAF_LIFETIME, &pem, &pem_len, why,
	    sizeof(why)), code);
	assert_null(pem);
	assert_int_equal(pem_len, 0);
	if (strstr(why, reason) == NULL)
		fail_msg("why \"%s\" does not mention \"%s\"", why, reason);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
expect_time(const ASN1_TIME *t, const char *want)
{
	assert_string_equal((const char *)ASN1_STRING_get0_data(t), want);
}

static void
expect_serial(X509 *x)
{
	BIGNUM *bn;

	assert_non_null(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL));
	assert_false(BN_is_negative(bn));
	assert_false(BN_is_zero(bn));
	assert_true(BN_num_bytes(bn) <= 16);
	/* 127 random bits: fewer than 100 would mean the top byte got lost. */
	assert_true(BN_num_bits(bn) > 100);
	BN_free(bn);
}

static bool
ext_critical(X509 *x, int nid)
{
	int i;

	i = X509_get_ext_by_NID(x, nid, -1);
	assert_true(i >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, i)) == 1;
}

/* ---- fixtures ----------------------------------------------------------- */

static int
setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	if (x509_ca_create(NOW, CA_LIFETIME, &ca1.key, &ca1.pem, &ca1.len) != 0)
		return -1;
	if (x509_ca_create(NOW, CA_LIFETIME, &ca2.key, &ca2.pem, &ca2.len) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	secbuf_free(&ca1.key);
	secbuf_free(&ca2.key);
	free(ca1.pem);
	free(ca2.pem);
	return 0;
}

/* ---- the CA ------------------------------------------------------------- */

static void
test_ca_info(void **state)
{
	struct x509_cert_info info;
	uint8_t spki[32];

	assert_int_equal(x509_cert_info(ca1.pem, ca1.len, &info), 0);
	assert_string_equal(info.subject.cn, "hush-ca");
	assert_string_equal(info.subject.ou, "");
	assert_string_equal(info.subject.o, "");
	assert_string_equal(info.issuer.cn, "hush-ca");
	assert_true(info.is_ca);
	assert_int_equal(info.not_before, NOW - HOUR);
	assert_int_equal(info.not_after, NOW + (int64_t)CA_LIFETIME);
	key_spki_sha256(&ca1.key, spki);
	assert_memory_equal(info.spki_sha256, spki, sizeof(spki));
	assert_int_equal(strlen(ca1.pem), ca1.len);
	assert_true(x509_cert_matches_key(ca1.pem, ca1.len, &ca1.key));
	assert_false(x509_cert_matches_key(ca1.pem, ca1.len, &ca2.key));
}

static void
test_ca_extensions(void **state)
{
	X509 *x = pem_to_x509(ca1.pem, ca1.len);
	BASIC_CONSTRAINTS *bc;
	int crit;

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	expect_time(X509_get0_notBefore(x), "231114211320Z");
	expect_time(X509_get0_notAfter(x), "431109221320Z");
	expect_serial(x);
	assert_int_equal(X509_get_ext_count(x), 3);

	assert_non_null(bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit,
	    NULL));
	assert_int_equal(crit, 1);
	assert_true(bc->ca);
	assert_non_null(bc->pathlen);
	assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 1);
	BASIC_CONSTRAINTS_free(bc);

	assert_true(ext_critical(x, NID_key_usage));
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_false(ext_critical(x, NID_subject_key_identifier));
	assert_int_equal(X509_get_ext_by_NID(x, NID_ext_key_usage, -1), -1);
	/* Self-signed, and the signature is good. */
	assert_int_equal(X509_check_issued(x, x), X509_V_OK);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
	X509_free(x);
}

static void
test_ca_range(void **state)
{
	struct secbuf key = SECBUF_INIT;
	char *pem = NULL;
	size_t len = 0;

	assert_int_equal(x509_ca_create(NOW, 0, &key, &pem, &len),
	    HUSH_E_RANGE);
	assert_int_equal(x509_ca_create(HOUR - 1, CA_LIFETIME, &key, &pem,
	    &len), HUSH_E_RANGE);
	assert_int_equal(x509_ca_create(NOW, UINT64_MAX, &key, &pem, &len),
	    HUSH_E_RANGE);
	assert_int_equal(x509_ca_create(INT64_MAX, 1, &key, &pem, &len),
	    HUSH_E_RANGE);
	assert_null(key.p);
	assert_null(pem);
	assert_int_equal(len, 0);
}

/*
 * Around 2050 RFC 5280 switches from UTCTime to GeneralizedTime; the dates
 * must read back exactly either side of it.
 */
static void
test_ca_generalized_time(void **state)
{
	struct secbuf key = SECBUF_INIT;
	struct x509_cert_info info;
	int64_t now = INT64_C(2524608000);	/* 2050-01-01T00:00:00Z */
	char *pem;
	size_t len;
	X509 *x;

	assert_int_equal(x509_ca_create(now, 365 * 86400, &key, &pem, &len), 0);
	assert_int_equal(x509_cert_info(pem, len, &info), 0);
	assert_int_equal(info.not_before, now - HOUR);
	assert_int_equal(info.not_after, now + 365 * 86400);
	x = pem_to_x509(pem, len);
	expect_time(X509_get0_notBefore(x), "491231230000Z");
	expect_time(X509_get0_notAfter(x), "20510101000000Z");
	X509_free(x);
	free(pem);
	secbuf_free(&key);
}

/* ---- keys and CSRs ------------------------------------------------------ */

static void
test_key_generate(void **state)
{
	struct secbuf k1 = SECBUF_INIT, k2 = SECBUF_INIT;
	EVP_PKEY *pkey;
	char group[64];
	size_t glen;

	assert_int_equal(x509_key_generate(&k1), 0);
	assert_int_equal(x509_key_generate(&k2), 0);
	assert_false(k1.len == k2.len && memcmp(k1.p, k2.p, k1.len) == 0);
	/* PKCS#8: SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING } */
	assert_int_equal(k1.p[0], 0x30);
	pkey = der_to_pkey(&k1);
	assert_true(EVP_PKEY_is_a(pkey, "EC"));
	assert_int_equal(EVP_PKEY_get_group_name(pkey, group, sizeof(group),
	    &glen), 1);
	assert_string_equal(group, "prime256v1");
	EVP_PKEY_free(pkey);
	secbuf_free(&k1);
	secbuf_free(&k2);
}

static void
test_csr_create(void **state)
{
	struct secbuf key = SECBUF_INIT, junk = SECBUF_INIT;
	const unsigned char *p;
	uint8_t *csr = NULL, *csr2 = NULL;
	size_t len, len2;
	X509_REQ *req;
	EVP_PKEY *pkey;
	PKCS8_PRIV_KEY_INFO *p8;
	unsigned char *der = NULL;
	uint8_t want[32], got[32];
	int n;

	assert_int_equal(x509_key_generate(&key), 0);
	assert_int_equal(x509_csr_create(&key, &csr, &len), 0);
	p = csr;
	assert_non_null(req = d2i_X509_REQ(NULL, &p, (long)len));
	assert_ptr_equal(p, csr + len);
	assert_int_equal(X509_REQ_get_version(req), X509_REQ_VERSION_1);
	assert_int_equal(X509_NAME_entry_count(X509_REQ_get_subject_name(req)),
	    0);
	assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	pkey_spki_sha256(X509_REQ_get0_pubkey(req), got);
	key_spki_sha256(&key, want);
	assert_memory_equal(got, want, sizeof(want));
	X509_REQ_free(req);

	/* A key that is not PKCS#8 P-256 makes no CSR. */
	assert_int_equal(secbuf_dup(&junk, "not a key", 9), 0);
	assert_int_equal(x509_csr_create(&junk, &csr2, &len2), HUSH_E_FORMAT);
	assert_null(csr2);
	secbuf_free(&junk);
	assert_non_null(pkey = EVP_EC_gen("P-384"));
	assert_non_null(p8 = EVP_PKEY2PKCS8(pkey));
	n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	assert_true(n > 0);
	assert_int_equal(secbuf_dup(&junk, der, (size_t)n), 0);
	OPENSSL_clear_free(der, (size_t)n);
	PKCS8_PRIV_KEY_INFO_free(p8);
	assert_int_equal(x509_csr_create(&junk, &csr2, &len2), HUSH_E_INVAL);
	assert_null(csr2);
	assert_int_equal(ERR_peek_error(), 0);
	EVP_PKEY_free(pkey);
	secbuf_free(&junk);
	secbuf_free(&key);
	free(csr);
}

/* ---- issuing ------------------------------------------------------------ */

static void
test_sign_leaf(void **state)
{
	struct secbuf key = SECBUF_INIT;
	struct x509_cert_info info;
	char *pem;
	size_t len;
	uint8_t spki[32];

	issue(&ca1, NOW, LEAF_LIFETIME, &key, &pem, &len);
	assert_int_equal(x509_cert_info(pem, len, &info), 0);
	assert_string_equal(info.subject.cn, node_subject.cn);
	assert_string_equal(info.subject.ou, "hush-manager");
	assert_string_equal(info.subject.o, node_subject.o);
	assert_string_equal(info.issuer.cn, "hush-ca");
	assert_string_equal(info.issuer.ou, "");
	assert_string_equal(info.issuer.o, "");
	assert_false(info.is_ca);
	assert_int_equal(info.not_before, NOW - HOUR);
	assert_int_equal(info.not_after, NOW + (int64_t)LEAF_LIFETIME);
	key_spki_sha256(&key, spki);
	assert_memory_equal(info.spki_sha256, spki, sizeof(spki));
	assert_true(x509_cert_matches_key(pem, len, &key));
	assert_false(x509_cert_matches_key(pem, len, &ca1.key));
	free(pem);
	secbuf_free(&key);
}

static void
test_leaf_extensions(void **state)
{
	struct secbuf key = SECBUF_INIT;
	X509 *x, *ca, *x2;
	BASIC_CONSTRAINTS *bc;
	char *pem, *pem2;
	size_t len, len2;
	int crit;

	issue(&ca1, NOW, LEAF_LIFETIME, &key, &pem, &len);
	x = pem_to_x509(pem, len);
	ca = pem_to_x509(ca1.pem, ca1.len);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	expect_time(X509_get0_notBefore(x), "231114211320Z");
	expect_time(X509_get0_notAfter(x), "240212221320Z");
	expect_serial(x);
	assert_int_equal(X509_get_ext_count(x), 5);

	assert_non_null(bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit,
	    NULL));
	assert_int_equal(crit, 1);
	assert_false(bc->ca);
	assert_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);
	assert_true(ext_critical(x, NID_key_usage));
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_false(ext_critical(x, NID_ext_key_usage));
	assert_int_equal(X509_get_extended_key_usage(x),
	    XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(ca)), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(ca)), 0);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(ca)), 1);

	/* Serials are random: a second certificate for the key gets another. */
	issue(&ca1, NOW, LEAF_LIFETIME, &key, &pem2, &len2);
	x2 = pem_to_x509(pem2, len2);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	    X509_get0_serialNumber(x2)), 0);
	X509_free(x2);
	X509_free(ca);
	X509_free(x);
	free(pem);
	free(pem2);
	secbuf_free(&key);
}

static void
test_sign_ignores_csr_contents(void **state)
{
	struct x509_cert_info info;
	char *pem, why[256];
	size_t len;
	X509 *x;

	assert_int_equal(x509_csr_sign(evil_csr, sizeof(evil_csr), &ca1.key,
	    ca1.pem, ca1.len, &node_subject, NOW, LEAF_LIFETIME, &pem, &len,
	    why, sizeof(why)), 0);
	assert_int_equal(x509_cert_info(pem, len, &info), 0);
	assert_string_equal(info.subject.cn, node_subject.cn);
	assert_string_equal(info.subject.ou, node_subject.ou);
	assert_string_equal(info.subject.o, node_subject.o);
	assert_false(info.is_ca);
	assert_memory_equal(info.spki_sha256, evil_spki_sha256, 32);
	x = pem_to_x509(pem, len);
	assert_int_equal(X509_get_extended_key_usage(x),
	    XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_int_equal(X509_get_ext_count(x), 5);
	X509_free(x);
	assert_int_equal(x509_verify(pem, len, ca1.pem, ca1.len, NOW, why,
	    sizeof(why)), 0);
	free(pem);
}

/* A compressed point in the CSR still gives the canonical uncompressed SPKI. */
static void
test_sign_canonical_key(void **state)
{
	EVP_PKEY *pkey;
	uint8_t *csr, want[32];
	struct x509_cert_info info;
	char *pem, why[256];
	size_t csr_len, len;
	X509 *x;

	assert_non_null(pkey = EVP_EC_gen("P-256"));
	pkey_spki_sha256(pkey, want);
	assert_int_equal(EVP_PKEY_set_utf8_string_param(pkey,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"), 1);
	make_csr(pkey, EVP_sha256(), &csr, &csr_len);
	assert_int_equal(x509_csr_sign(csr, csr_len, &ca1.key, ca1.pem,
	    ca1.len, &node_subject, NOW, LEAF_LIFETIME, &pem, &len, why,
	    sizeof(why)), 0);
	assert_int_equal(x509_cert_info(pem, len, &info), 0);
	assert_memory_equal(info.spki_sha256, want, sizeof(want));
	x = pem_to_x509(pem, len);
	/* 26 bytes of SPKI framing + 65-byte uncompressed point */
	assert_int_equal(i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), NULL), 91);
	X509_free(x);
	free(pem);
	free(csr);
	EVP_PKEY_free(pkey);
}

static void
test_sign_clamped_to_ca(void **state)
{
	struct secbuf key = SECBUF_INIT;
	struct ca shortca;
	struct x509_cert_info info;
	char *pem, why[256];
	uint8_t *csr;
	size_t len, csr_len;

	assert_int_equal(x509_ca_create(NOW, 86400, &shortca.key, &shortca.pem,
	    &shortca.len), 0);
	issue(&shortca, NOW, LEAF_LIFETIME, &key, &pem, &len);
	assert_int_equal(x509_cert_info(pem, len, &info), 0);
	assert_int_equal(info.not_after, NOW + 86400);
	assert_int_equal(x509_verify(pem, len, shortca.pem, shortca.len,
	    NOW + 86400 - 1, why, sizeof(why)), 0);
	free(pem);
	secbuf_free(&key);

	/* An expired CA issues nothing. */
	assert_int_equal(x509_key_generate(&key), 0);
	assert_int_equal(x509_csr_create(&key, &csr, &csr_len), 0);
	assert_int_equal(x509_csr_sign(csr, csr_len, &shortca.key, shortca.pem,
	    shortca.len, &node_subject, NOW + 86400, LEAF_LIFETIME, &pem, &len,
	    why, sizeof(why)), HUSH_E_RANGE);
	assert_null(pem);
	assert_non_null(strstr(why, "expired"));
	free(csr);
	secbuf_free(&key);
	secbuf_free(&shortca.key);
	free(shortca.pem);
}

static void
test_sign_bad_subject(void **state)
{
	struct secbuf key = SECBUF_INIT;
	struct x509_subject sub;
	uint8_t *csr;
	size_t csr_len, len;
	char *pem, why[256];
	const char *bad_cn[] = { "", "tab\there", "nl\n", "del\x7f", "\xc3\xa9" };
	size_t i;

	assert_int_equal(x509_key_generate(&key), 0);
	assert_int_equal(x509_csr_create(&key, &csr, &csr_len), 0);
	for (i = 0; i < sizeof(bad_cn) / sizeof(bad_cn[0]); i++) {
		sub = node_subject;
		snprintf(sub.cn, sizeof(sub.cn), "%s", bad_cn[i]);
		assert_int_equal(x509_csr_sign(csr, csr_len, &ca1.key, ca1.pem,
		    ca1.len, &sub, NOW, LEAF_LIFETIME, &pem, &len, why,
		    sizeof(why)), HUSH_E_INVAL);
		assert_null(pem);
		assert_non_null(strstr(why, "subject"));
	}
	/* 64 characters fit; a 65th with no NUL inside the field does not. */
	sub = node_subject;
	memset(sub.cn, 'a', 64);
	sub.cn[64] = '\0';
	assert_int_equal(x509_csr_sign(csr, csr_len, &ca1.key, ca1.pem,
	    ca1.len, &sub, NOW, LEAF_LIFETIME, &pem, &len, why, sizeof(why)),
	    0);
	free(pem);
	memset(sub.ou, 'b', sizeof(sub.ou));
	assert_int_equal(x509_csr_sign(csr, csr_len, &ca1.key, ca1.pem,
	    ca1.len, &sub, NOW, LEAF_LIFETIME, &pem, &len, why, sizeof(why)),
	    HUSH_E_INVAL);
	sub = node_subject;
	sub.o[0] = '\0';
	assert_int_equal(x509_csr_sign(csr, csr_len, &ca1.key, ca1.pem,
	    ca1.len, &sub, NOW, LEAF_LIFETIME, &pem, &len, why, sizeof(why)),
	    HUSH_E_INVAL);
	assert_int_equal(x509_csr_sign(csr, csr_len, &ca1.key, ca1.pem,
	    ca1.len, NULL, NOW, LEAF_LIFETIME, &pem, &len, why, sizeof(why)),
	    HUSH_E_INVAL);
	assert_int_equal(x509_csr_sign(csr, csr_len, &ca1.key, ca1.pem,
	    ca1.len, &node_subject, NOW, 0, &pem, &len, why, sizeof(why)),
	    HUSH_E_RANGE);
	free(csr);
	secbuf_free(&key);
}

static void
test_sign_bad_ca(void **state)
{
	struct secbuf key = SECBUF_INIT, junk = SECBUF_INIT;
	uint8_t *csr;
	size_t csr_len, len, leaf_len;
	char *pem, *leaf, why[256];

	assert_int_equal(x509_key_generate(&key), 0);
	assert_int_equal(x509_csr_create(&key, &csr, &csr_len), 0);

	assert_int_equal(x509_csr_sign(csr, csr_len, &ca2.key, ca1.pem,
	    ca1.len, &node_subject, NOW, LEAF_LIFETIME, &pem, &len, why,
	    sizeof(why)), HUSH_E_INVAL);
	assert_non_null(strstr(why, "does not match"));

	assert_int_equal(secbuf_dup(&junk, "junk", 4), 0);
	assert_int_equal(x509_csr_sign(csr, csr_len, &junk, ca1.pem,
	    ca1.len, &node_subject, NOW, LEAF_LIFETIME, &pem, &len, why,
	    sizeof(why)), HUSH_E_FORMAT);
	assert_non_null(strstr(why, "CA key"));

	assert_int_equal(x509_csr_sign(csr, csr_len, &ca1.key, "junk", 4,
	    &node_subject, NOW, LEAF_LIFETIME, &pem, &len, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_non_null(strstr(why, "CA certificate"));

	/* A leaf and its own key cannot act as a CA. */
	secbuf_free(&key);
	issue(&ca1, NOW, LEAF_LIFETIME, &key, &leaf, &leaf_len);
	assert_int_equal(x509_csr_sign(csr, csr_len, &key, leaf, leaf_len,
	    &node_subject, NOW, LEAF_LIFETIME, &pem, &len, why, sizeof(why)),
	    HUSH_E_INVAL);
	assert_non_null(strstr(why, "not a CA"));
	assert_null(pem);

	/* Before the CA exists. */
	assert_int_equal(x509_csr_sign(csr, csr_len, &ca1.key, ca1.pem,
	    ca1.len, &node_subject, NOW - 2 * HOUR, LEAF_LIFETIME, &pem, &len,
	    why, sizeof(why)), HUSH_E_RANGE);
	assert_non_null(strstr(why, "not yet valid"));
	assert_int_equal(ERR_peek_error(), 0);
	free(leaf);
	free(csr);
	secbuf_free(&junk);
	secbuf_free(&key);
}

/* ---- refusing bad CSRs -------------------------------------------------- */

static void
test_csr_malformed(void **state)
{
	struct secbuf key = SECBUF_INIT;
	uint8_t *csr, *buf;
	char *pem, why[256];
	size_t len, pem_len;

	assert_int_equal(x509_key_generate(&key), 0);
	assert_int_equal(x509_csr_create(&key, &csr, &len), 0);
	assert_non_null(buf = calloc(1, X509_MAX_CSR_DER + 2));
	memcpy(buf, csr, len);

	expect_refused(NULL, 0, HUSH_E_TRUNCATED, "CSR is empty");
	expect_refused(buf, 0, HUSH_E_TRUNCATED, "CSR is empty");
	expect_refused(buf, 1, HUSH_E_FORMAT, "CSR is not valid DER");
	expect_refused(buf, len / 2, HUSH_E_FORMAT, "CSR is not valid DER");
	expect_refused(buf, len - 1, HUSH_E_FORMAT, "CSR is not valid DER");

	buf[len] = 0x00;
	expect_refused(buf, len + 1, HUSH_E_FORMAT, "1 trailing bytes");
	expect_refused(buf, X509_MAX_CSR_DER + 1, HUSH_E_TOOBIG,
	    "CSR is larger than 8192 bytes");
	expect_refused(buf, SIZE_MAX, HUSH_E_TOOBIG, "larger than");

	memset(buf, 0xa5, len);
	expect_refused(buf, len, HUSH_E_FORMAT, "CSR is not valid DER");

	/* Last byte sits in the signature's s value. */
	memcpy(buf, csr, len);
	buf[len - 1] ^= 0x01;
	expect_refused(buf, len, HUSH_E_AUTH, "CSR signature does not verify");

	/* The untouched CSR is still fine: nothing above was sticky. */
	memcpy(buf, csr, len);
	assert_int_equal(x509_csr_sign(buf, len, &ca1.key, ca1.pem, ca1.len,
	    &node_subject, NOW, LEAF_LIFETIME, &pem, &pem_len, why,
	    sizeof(why)), 0);
	free(pem);
	free(buf);
	free(csr);
	secbuf_free(&key);
}

/* DER long-form length for sizes up to 65535. */
static size_t
der_wrap(uint8_t *out, uint8_t tag, const uint8_t *body, size_t len)
{
	size_t n = 0;

	out[n++] = tag;
	if (len < 0x80) {
		out[n++] = (uint8_t)len;
	} else if (len < 0x100) {
		out[n++] = 0x81;
		out[n++] = (uint8_t)len;
	} else {
		out[n++] = 0x82;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	}
	memmove(out + n, body, len);
	return n + len;
}

/*
 * With the point at infinity as the public key, (r, s) = (x(G), e) is a
 * valid ECDSA signature on anything (u1 = 1, u2 * O = O, R = G), so such a
 * CSR "proves" possession of a key nobody holds.  X509_REQ_verify() alone
 * accepts it (OpenSSL 3.0); x509_csr_sign must not.
 */
static void
test_csr_infinity_point(void **state)
{
	static const uint8_t info[] = {
		0x30, 0x22, 0x02, 0x01, 0x00, 0x30, 0x00,
		0x30, 0x19, 0x30, 0x13,
		0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
		0x03, 0x02, 0x00, 0x00,
		0xa0, 0x00,
	};
	static const uint8_t sigalg[] = {
		0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
		0x02,
	};
	uint8_t e[32], body[512], csr[512], bits[512], *sigp = NULL;
	BIGNUM *r = NULL, *s = NULL, *n = NULL;
	ECDSA_SIG *sig;
	char *pem = (char *)1, why[256];
	size_t blen, clen, pem_len;
	int slen;

	assert_int_equal(EVP_Digest(info, sizeof(info), e, NULL, EVP_sha256(),
	    NULL), 1);
	assert_int_not_equal(BN_hex2bn(&r, "6B17D1F2E12C4247F8BCE6E563A440F2"
	    "77037D812DEB33A0F4A13945D898C296"), 0);
	assert_int_not_equal(BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFF"
	    "BCE6FAADA7179E84F3B9CAC2FC632551"), 0);
	assert_non_null(s = BN_bin2bn(e, sizeof(e), NULL));
	if (BN_cmp(s, n) >= 0)
		assert_int_equal(BN_sub(s, s, n), 1);
	BN_free(n);
	assert_non_null(sig = ECDSA_SIG_new());
	assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
	slen = i2d_ECDSA_SIG(sig, &sigp);
	assert_true(slen > 0 && (size_t)slen < sizeof(bits) - 1);
	bits[0] = 0x00;
	memcpy(bits + 1, sigp, (size_t)slen);
	OPENSSL_free(sigp);
	ECDSA_SIG_free(sig);

	blen = 0;
	memcpy(body, info, sizeof(info));
	blen += sizeof(info);
	memcpy(body + blen, sigalg, sizeof(sigalg));
	blen += sizeof(sigalg);
	blen += der_wrap(body + blen, 0x03, bits, (size_t)slen + 1);
	clen = der_wrap(csr, 0x30, body, blen);

	assert_int_equal(x509_csr_sign(csr, clen, &ca1.key, ca1.pem, ca1.len,
	    &node_subject, NOW, LEAF_LIFETIME, &pem, &pem_len, why,
	    sizeof(why)), HUSH_E_INVAL);
	assert_null(pem);
	assert_string_equal(why, "CSR key is not a valid P-256 point");
}

static void
test_csr_wrong_keys(void **state)
{
	EVP_PKEY *pkey;
	uint8_t *csr;
	size_t len;

	assert_non_null(pkey = EVP_RSA_gen(2048));
	make_csr(pkey, EVP_sha256(), &csr, &len);
	expect_refused(csr, len, HUSH_E_INVAL, "CSR key is not ECDSA P-256");
	free(csr);
	EVP_PKEY_free(pkey);

	assert_non_null(pkey = EVP_EC_gen("P-384"));
	make_csr(pkey, EVP_sha256(), &csr, &len);
	expect_refused(csr, len, HUSH_E_INVAL, "CSR key is not ECDSA P-256");
	free(csr);
	EVP_PKEY_free(pkey);

	assert_non_null(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	make_csr(pkey, NULL, &csr, &len);
	expect_refused(csr, len, HUSH_E_INVAL, "CSR key is not ECDSA P-256");
	free(csr);
	EVP_PKEY_free(pkey);

	/* P-256 with explicit curve parameters (RFC 5480 forbids them). */
	assert_non_null(pkey = EVP_EC_gen("P-256"));
	assert_int_equal(EVP_PKEY_set_utf8_string_param(pkey,
	    OSSL_PKEY_PARAM_EC_ENCODING, OSSL_PKEY_EC_ENCODING_EXPLICIT), 1);
	make_csr(pkey, EVP_sha256(), &csr, &len);
	expect_refused(csr, len, HUSH_E_INVAL, "CSR key is not ECDSA P-256");
	free(csr);
	EVP_PKEY_free(pkey);

	/* Right key, weak digest. */
	assert_non_null(pkey = EVP_EC_gen("P-256"));
	make_csr(pkey, EVP_sha1(), &csr, &len);
	expect_refused(csr, len, HUSH_E_INVAL, "not ecdsa-with-SHA256");
	free(csr);
	EVP_PKEY_free(pkey);
}

/* ---- verification ------------------------------------------------------- */

static void
test_verify(void **state)
{
	struct secbuf key = SECBUF_INIT;
	char *pem, why[256];
	size_t len;
	int64_t nb = NOW - HOUR, na = NOW + (int64_t)LEAF_LIFETIME;

	issue(&ca1, NOW, LEAF_LIFETIME, &key, &pem, &len);
	assert_int_equal(x509_verify(pem, len, ca1.pem, ca1.len, NOW, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(x509_verify(pem, len, ca1.pem, ca1.len, nb, why,
	    sizeof(why)), 0);
	assert_int_equal(x509_verify(pem, len, ca1.pem, ca1.len, na - 1, why,
	    sizeof(why)), 0);

	assert_int_equal(x509_verify(pem, len, ca1.pem, ca1.len, nb - 1, why,
	    sizeof(why)), HUSH_E_AUTH);
	assert_non_null(strstr(why, "not yet valid"));
	assert_int_equal(x509_verify(pem, len, ca1.pem, ca1.len, na + 1, why,
	    sizeof(why)), HUSH_E_AUTH);
	assert_non_null(strstr(why, "expired"));
	assert_int_equal(x509_verify(pem, len, ca2.pem, ca2.len, NOW, why,
	    sizeof(why)), HUSH_E_AUTH);
	assert_non_null(strstr(why, "does not verify"));

	/* The CA is not a node; a leaf is not a CA. */
	assert_int_equal(x509_verify(ca1.pem, ca1.len, ca1.pem, ca1.len, NOW,
	    why, sizeof(why)), HUSH_E_AUTH);
	assert_int_equal(x509_verify(pem, len, pem, len, NOW, why,
	    sizeof(why)), HUSH_E_AUTH);

	assert_int_equal(x509_verify("junk", 4, ca1.pem, ca1.len, NOW, why,
	    sizeof(why)), HUSH_E_FORMAT);
	assert_non_null(strstr(why, "cannot be parsed"));
	assert_int_equal(x509_verify(pem, len, "junk", 4, NOW, why,
	    sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(x509_verify(pem, len, ca1.pem, ca1.len, NOW, NULL, 0),
	    0);
	assert_int_equal(ERR_peek_error(), 0);
	free(pem);
	secbuf_free(&key);
}

static void
test_matches_key(void **state)
{
	struct secbuf key = SECBUF_INIT, other = SECBUF_INIT, junk = SECBUF_INIT;
	char *pem;
	size_t len;

	issue(&ca1, NOW, LEAF_LIFETIME, &key, &pem, &len);
	assert_int_equal(x509_key_generate(&other), 0);
	assert_true(x509_cert_matches_key(pem, len, &key));
	assert_false(x509_cert_matches_key(pem, len, &other));
	assert_false(x509_cert_matches_key(pem, len, &junk));
	assert_int_equal(secbuf_dup(&junk, key.p, key.len - 1), 0);
	assert_false(x509_cert_matches_key(pem, len, &junk));
	/* The key bytes and nothing after them. */
	secbuf_free(&junk);
	assert_int_equal(secbuf_alloc(&junk, key.len + 1), 0);
	memcpy(junk.p, key.p, key.len);
	junk.p[key.len] = 0x00;
	assert_false(x509_cert_matches_key(pem, len, &junk));
	junk.len = key.len;
	assert_true(x509_cert_matches_key(pem, len, &junk));
	assert_false(x509_cert_matches_key("junk", 4, &key));
	assert_false(x509_cert_matches_key(pem, len - 40, &key));
	assert_int_equal(ERR_peek_error(), 0);
	free(pem);
	secbuf_free(&key);
	secbuf_free(&other);
	secbuf_free(&junk);
}

/* ---- cert_info on bad input --------------------------------------------- */

static void
expect_info_refused(const char *pem, size_t len, int code)
{
	struct x509_cert_info info;

	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(x509_cert_info(pem, len, &info), code);
	assert_int_equal(info.subject.cn[0], '\0');
	assert_int_equal(info.not_after, 0);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_cert_info_malformed(void **state)
{
	struct x509_cert_info info;
	char *buf;
	size_t n = ca1.len;

	assert_non_null(buf = calloc(1, X509_MAX_CERT_PEM + 2));

	expect_info_refused(NULL, 0, HUSH_E_TRUNCATED);
	expect_info_refused("", 0, HUSH_E_TRUNCATED);
	expect_info_refused("garbage", 7, HUSH_E_FORMAT);
	expect_info_refused("-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n", 58, HUSH_E_FORMAT);

	/* Truncated: cut in the base64, and cut before the END line. */
	expect_info_refused(ca1.pem, n / 2, HUSH_E_FORMAT);
	expect_info_refused(ca1.pem, n - 27, HUSH_E_FORMAT);

	/* Two certificates, even identical ones. */
	memcpy(buf, ca1.pem, n);
	memcpy(buf + n, ca2.pem, ca2.len);
	expect_info_refused(buf, n + ca2.len, HUSH_E_FORMAT);
	memcpy(buf + n, ca1.pem, n);
	expect_info_refused(buf, 2 * n, HUSH_E_FORMAT);

	/* Text before or after. */
	memcpy(buf, "subject=hush-ca\n", 16);
	memcpy(buf + 16, ca1.pem, n);
	expect_info_refused(buf, n + 16, HUSH_E_FORMAT);
	memcpy(buf, ca1.pem, n);
	memcpy(buf + n, "x\n", 2);
	expect_info_refused(buf, n + 2, HUSH_E_FORMAT);

	/* A NUL inside len. */
	memcpy(buf, ca1.pem, n);
	buf[n] = '\0';
	expect_info_refused(buf, n + 1, HUSH_E_FORMAT);
	buf[40] = '\0';
	expect_info_refused(buf, n, HUSH_E_FORMAT);

	/* Another PEM type with a certificate's bytes. */
	memcpy(buf, ca1.pem, n);
	memcpy(buf + 11, "X509 CRL---", 11);
	expect_info_refused(buf, n, HUSH_E_FORMAT);

	/* Too big, even if it is mostly whitespace. */
	memset(buf, '\n', X509_MAX_CERT_PEM + 1);
	memcpy(buf, ca1.pem, n);
	expect_info_refused(buf, X509_MAX_CERT_PEM + 1, HUSH_E_TOOBIG);

	/* Blank lines before and whitespace after are fine. */
	memcpy(buf, "\n\r\n", 3);
	memcpy(buf + 3, ca1.pem, n);
	memcpy(buf + 3 + n, " \t\r\n\n", 5);
	assert_int_equal(x509_cert_info(buf, n + 8, &info), 0);
	assert_string_equal(info.subject.cn, "hush-ca");
	/* A file read whole with its newline dropped still parses. */
	assert_int_equal(x509_cert_info(ca1.pem, n - 1, &info), 0);
	free(buf);
}

/* Repeated attributes are ambiguous: which CN is "the" CN? */
static void
test_cert_info_duplicate_cn(void **state)
{
	X509 *x;
	X509_NAME *name;
	EVP_PKEY *pkey;
	BIO *bio;
	char *mem;
	long n;

	assert_non_null(pkey = EVP_EC_gen("P-256"));
	assert_non_null(x = X509_new());
	assert_non_null(name = X509_NAME_new());
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"node-a", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"node-b", -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, NULL));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 1, 0, NULL));
	assert_int_equal(X509_set_pubkey(x, pkey), 1);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	n = BIO_get_mem_data(bio, &mem);
	expect_info_refused(mem, (size_t)n, HUSH_E_FORMAT);
	BIO_free(bio);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

/* The role <-> OU mapping every process uses: exactly two OUs, both ways. */
static void
test_role_ou(void **state)
{
	(void)state;
	assert_string_equal(x509_role_ou(ROLE_MANAGER), "hush-manager");
	assert_string_equal(x509_role_ou(ROLE_WORKER), "hush-worker");
	assert_null(x509_role_ou(0));
	assert_null(x509_role_ou(3));
	assert_null(x509_role_ou(-1));
	assert_int_equal(x509_ou_role("hush-manager"), ROLE_MANAGER);
	assert_int_equal(x509_ou_role("hush-worker"), ROLE_WORKER);
	assert_int_equal(x509_ou_role(""), 0);
	assert_int_equal(x509_ou_role("hush-manager "), 0);
	assert_int_equal(x509_ou_role("Hush-Manager"), 0);
	assert_int_equal(x509_ou_role("hush-"), 0);
	assert_int_equal(x509_ou_role("hush-workers"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_info),
		cmocka_unit_test(test_ca_extensions),
		cmocka_unit_test(test_ca_range),
		cmocka_unit_test(test_ca_generalized_time),
		cmocka_unit_test(test_key_generate),
		cmocka_unit_test(test_csr_create),
		cmocka_unit_test(test_sign_leaf),
		cmocka_unit_test(test_leaf_extensions),
		cmocka_unit_test(test_sign_ignores_csr_contents),
		cmocka_unit_test(test_sign_canonical_key),
		cmocka_unit_test(test_sign_clamped_to_ca),
		cmocka_unit_test(test_sign_bad_subject),
		cmocka_unit_test(test_sign_bad_ca),
		cmocka_unit_test(test_csr_malformed),
		cmocka_unit_test(test_csr_infinity_point),
		cmocka_unit_test(test_csr_wrong_keys),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_matches_key),
		cmocka_unit_test(test_cert_info_malformed),
		cmocka_unit_test(test_cert_info_duplicate_cn),
		cmocka_unit_test(test_role_ou),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
