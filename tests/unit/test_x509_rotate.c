/*
 * CA rotation in the X.509 library: the cross-signed certificate lets a
 * node that trusts only the old root verify leaves of the next root (as
 * OpenSSL itself builds the chain), two roots of one name in a trust
 * store are told apart by their key identifiers, a root the operator
 * supplies is refused with a reason for every way it can be wrong and
 * accepted with its key in each form operators' tools write, and roots
 * with P-384 and RSA keys issue leaves that x509_verify() accepts.
 * Every certificate and key here is made by the test with OpenSSL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "err.h"
#include "secbuf.h"
#include "x509.h"

#define NOW		INT64_C(1700000000)	/* 2023-11-14T22:13:20Z */
#define HOUR		INT64_C(3600)
#define DAY		(24 * HOUR)
#define CA_LIFETIME	(UINT64_C(20) * 365 * 86400)
#define LEAF_LIFETIME	(UINT64_C(90) * 86400)
#define MIN_LIFE	((uint64_t)DAY)

static const struct x509_subject node_subject = {
	.cn = "3xk9q0vz5m1d8c2w7e4r6t0yb",
	.ou = X509_OU_WORKER,
	.o = "k2j8d0s9f7g6h5a4s3d2f1g0z",
};

/* ---- making certificates and keys with OpenSSL -------------------------- */

struct root_opts {
	const char	*cn;		/* subject; the issuer too unless issuer_cn */
	const char	*issuer_cn;
	bool		 ca;
	bool		 skid;
	bool		 key_usage;
	int64_t		 not_before;
	int64_t		 not_after;
	EVP_PKEY	*signer;	/* NULL: the certificate's own key */
};

static struct root_opts
good_opts(void)
{
	struct root_opts o = {
		.cn = "Example Operator Root", .ca = true, .skid = true,
		.key_usage = true, .not_before = NOW - DAY,
		.not_after = NOW + 3650 * DAY,
	};
	return o;
}

static void
ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, v3, nid, value);

	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static char *
to_pem(X509 *x, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem, *s;
	long n;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	n = BIO_get_mem_data(bio, &mem);
	assert_true(n > 0);
	assert_non_null(s = malloc((size_t)n + 1));
	memcpy(s, mem, (size_t)n);
	s[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	return s;
}

static char *
make_root(EVP_PKEY *key, const struct root_opts *o, size_t *len)
{
	X509 *x = X509_new();
	X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();
	X509V3_CTX v3;
	EVP_PKEY *signer = o->signer != NULL ? o->signer : key;
	const EVP_MD *md = EVP_PKEY_is_a(signer, "ED25519") ? NULL :
	    EVP_sha256();
	char *pem;

	assert_non_null(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
	    (const unsigned char *)o->cn, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_UTF8,
	    (const unsigned char *)(o->issuer_cn ? o->issuer_cn : o->cn), -1,
	    -1, 0), 1);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
	assert_int_equal(X509_set_subject_name(x, subj), 1);
	assert_int_equal(X509_set_issuer_name(x, iss), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)o->not_before));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)o->not_after));
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext(x, &v3, NID_basic_constraints, o->ca ? "critical,CA:TRUE" :
	    "critical,CA:FALSE");
	if (o->key_usage)
		ext(x, &v3, NID_key_usage, o->ca ?
		    "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	if (o->skid)
		ext(x, &v3, NID_subject_key_identifier, "hash");
	assert_true(X509_sign(x, signer, md) > 0);
	pem = to_pem(x, len);
	X509_NAME_free(subj);
	X509_NAME_free(iss);
	X509_free(x);
	return pem;
}

static EVP_PKEY *
ec_key(const char *curve)
{
	EVP_PKEY *k = EVP_EC_gen(curve);

	assert_non_null(k);
	return k;
}

static EVP_PKEY *
rsa_key(unsigned int bits)
{
	EVP_PKEY *k = EVP_RSA_gen(bits);

	assert_non_null(k);
	return k;
}

/* The key as the encoder writes it: "PEM" or "DER", of structure. */
static uint8_t *
encode_key(EVP_PKEY *k, const char *type, const char *structure,
    size_t *len)
{
	OSSL_ENCODER_CTX *ectx;
	unsigned char *data = NULL;
	uint8_t *copy;
	size_t n = 0;

	ectx = OSSL_ENCODER_CTX_new_for_pkey(k, EVP_PKEY_KEYPAIR, type,
	    structure, NULL);
	assert_non_null(ectx);
	assert_int_equal(OSSL_ENCODER_to_data(ectx, &data, &n), 1);
	assert_non_null(copy = malloc(n + 1));
	memcpy(copy, data, n);
	copy[n] = '\0';
	*len = n;
	OPENSSL_free(data);
	OSSL_ENCODER_CTX_free(ectx);
	return copy;
}

/* Whatever a BIO writer left in a memory BIO, as a malloc'd string. */
static uint8_t *
bio_take(BIO *bio, size_t *len)
{
	char *mem;
	uint8_t *s;
	long n = BIO_get_mem_data(bio, &mem);

	assert_true(n > 0);
	assert_non_null(s = malloc((size_t)n + 1));
	memcpy(s, mem, (size_t)n);
	s[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	return s;
}

static X509 *
pem_x509(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x;

	assert_non_null(bio);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(x);
	return x;
}

static void
issue_leaf(const struct secbuf *ca_key, const char *ca_pem, size_t ca_len,
    char **leaf, size_t *leaf_len)
{
	struct secbuf key = SECBUF_INIT;
	uint8_t *csr;
	size_t csr_len;
	char why[256];

	assert_int_equal(x509_key_generate(&key), 0);
	assert_int_equal(x509_csr_create(&key, &csr, &csr_len), 0);
	if (x509_csr_sign(csr, csr_len, ca_key, ca_pem, ca_len, &node_subject,
	    NOW, LEAF_LIFETIME, leaf, leaf_len, why, sizeof(why)) != 0)
		fail_msg("x509_csr_sign: %s", why);
	free(csr);
	secbuf_free(&key);
}

/*
 * OpenSSL's own verifier with hush's strict flags: leaf against the
 * trusted roots, with the untrusted intermediates; 0 or the X509_V_ERR.
 * *top gets the root the chain ended at.
 */
static int
openssl_verify(X509 *leaf, X509 **roots, size_t nroots, X509 *inter,
    X509 **top)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	STACK_OF(X509) *chain;
	size_t i;
	int err;

	assert_non_null(store);
	assert_non_null(ctx);
	for (i = 0; i < nroots; i++)
		assert_int_equal(X509_STORE_add_cert(store, roots[i]), 1);
	if (inter != NULL)
		assert_true(sk_X509_push(untrusted, inter) > 0);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
	    X509_V_FLAG_X509_STRICT | X509_V_FLAG_CHECK_SS_SIGNATURE);
	X509_STORE_CTX_set_time(ctx, 0, (time_t)NOW);
	err = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
	if (top != NULL) {
		*top = NULL;
		if (err == 0) {
			chain = X509_STORE_CTX_get0_chain(ctx);
			*top = sk_X509_value(chain, sk_X509_num(chain) - 1);
			X509_up_ref(*top);
		}
	}
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return err;
}

/* ---- cross-signing --------------------------------------------------------- */

static void
test_cross_sign_round_trip(void **state)
{
	struct secbuf old_key = SECBUF_INIT, new_key = SECBUF_INIT;
	char *old_pem, *new_pem, *cross_pem, *leaf_pem, why[256];
	size_t old_len, new_len, cross_len, leaf_len;
	X509 *old_x, *new_x, *cross, *leaf, *top;
	const ASN1_OCTET_STRING *akid_id;
	AUTHORITY_KEYID *akid;
	BASIC_CONSTRAINTS *bc;
	int crit;

	/* The new root lives longer: the cross-signed one stops with the old. */
	assert_int_equal(x509_ca_create(NOW - 10 * DAY, 5 * 365 * DAY, &old_key,
	    &old_pem, &old_len), 0);
	assert_int_equal(x509_ca_create(NOW, CA_LIFETIME, &new_key, &new_pem,
	    &new_len), 0);
	assert_int_equal(x509_ca_cross_sign(&old_key, old_pem, old_len,
	    new_pem, new_len, NOW, &cross_pem, &cross_len), 0);
	assert_int_equal(ERR_peek_error(), 0);
	assert_int_equal(x509_ca_check_cross(cross_pem, cross_len, old_pem,
	    old_len, new_pem, new_len, why, sizeof(why)), 0);

	old_x = pem_x509(old_pem, old_len);
	new_x = pem_x509(new_pem, new_len);
	cross = pem_x509(cross_pem, cross_len);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(cross),
	    X509_get_subject_name(new_x)), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(cross),
	    X509_get_subject_name(old_x)), 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cross),
	    X509_get0_pubkey(new_x)), 1);
	assert_int_equal(X509_verify(cross, X509_get0_pubkey(old_x)), 1);
	/* Its key identifier is the new root's, its authority the old's. */
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(cross),
	    X509_get0_subject_key_id(new_x)), 0);
	assert_non_null(akid_id = X509_get0_authority_key_id(cross));
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid_id,
	    X509_get0_subject_key_id(old_x)), 0);
	akid = X509_get_ext_d2i(cross, NID_authority_key_identifier, &crit, NULL);
	assert_non_null(akid);
	assert_int_equal(crit, 0);
	AUTHORITY_KEYID_free(akid);
	assert_non_null(bc = X509_get_ext_d2i(cross, NID_basic_constraints,
	    &crit, NULL));
	assert_int_equal(crit, 1);
	assert_true(bc->ca);
	assert_non_null(bc->pathlen);
	assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_get_key_usage(cross), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(cross),
	    (time_t)(NOW - X509_CLOCK_SKEW_SECS)), 0);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(cross),
	    X509_get0_notAfter(old_x)), 0);

	/* A leaf of the new key verifies against the old root alone... */
	issue_leaf(&new_key, new_pem, new_len, &leaf_pem, &leaf_len);
	leaf = pem_x509(leaf_pem, leaf_len);
	assert_int_equal(openssl_verify(leaf, &old_x, 1, cross, &top), 0);
	assert_int_equal(X509_cmp(top, old_x), 0);
	X509_free(top);
	/* ...only through the cross-signed certificate, */
	assert_int_not_equal(openssl_verify(leaf, &old_x, 1, NULL, NULL), 0);
	/* and against the new root without it. */
	assert_int_equal(openssl_verify(leaf, &new_x, 1, NULL, NULL), 0);
	assert_int_equal(openssl_verify(leaf, &new_x, 1, cross, &top), 0);
	assert_int_equal(X509_cmp(top, new_x), 0);
	X509_free(top);
	assert_int_equal(x509_verify(leaf_pem, leaf_len, new_pem, new_len, NOW,
	    why, sizeof(why)), 0);

	X509_free(leaf);
	X509_free(cross);
	X509_free(new_x);
	X509_free(old_x);
	free(leaf_pem);
	free(cross_pem);
	free(new_pem);
	free(old_pem);
	secbuf_free(&new_key);
	secbuf_free(&old_key);
}

static void
test_cross_sign_refusals(void **state)
{
	struct secbuf a_key = SECBUF_INIT, b_key = SECBUF_INIT, c_key = SECBUF_INIT;
	char *a, *b, *c, *cross = (char *)1, *ab, *leaf, why[256];
	size_t a_len, b_len, c_len, cross_len = 1, ab_len, leaf_len;

	assert_int_equal(x509_ca_create(NOW, CA_LIFETIME, &a_key, &a, &a_len), 0);
	assert_int_equal(x509_ca_create(NOW, CA_LIFETIME, &b_key, &b, &b_len), 0);
	assert_int_equal(x509_ca_create(NOW, CA_LIFETIME, &c_key, &c, &c_len), 0);

	/* The old root's key must be its own. */
	assert_int_equal(x509_ca_cross_sign(&b_key, a, a_len, c, c_len, NOW,
	    &cross, &cross_len), HUSH_E_INVAL);
	assert_null(cross);
	assert_int_equal(cross_len, 0);
	/* A leaf is no root to move to. */
	issue_leaf(&b_key, b, b_len, &leaf, &leaf_len);
	assert_int_equal(x509_ca_cross_sign(&a_key, a, a_len, leaf, leaf_len,
	    NOW, &cross, &cross_len), HUSH_E_INVAL);
	/* After the old root expired nothing can be cross-signed. */
	assert_int_equal(x509_ca_cross_sign(&a_key, a, a_len, b, b_len,
	    NOW + (int64_t)CA_LIFETIME, &cross, &cross_len), HUSH_E_RANGE);
	assert_int_equal(x509_ca_cross_sign(&a_key, "junk", 4, b, b_len, NOW,
	    &cross, &cross_len), HUSH_E_FORMAT);
	assert_int_equal(ERR_peek_error(), 0);

	/* A stored cross-signed certificate is checked against both roots. */
	assert_int_equal(x509_ca_cross_sign(&a_key, a, a_len, b, b_len, NOW,
	    &ab, &ab_len), 0);
	assert_int_equal(x509_ca_check_cross(ab, ab_len, a, a_len, c, c_len,
	    why, sizeof(why)), HUSH_E_INVAL);
	assert_non_null(strstr(why, "next root's key"));
	assert_int_equal(x509_ca_check_cross(ab, ab_len, c, c_len, b, b_len,
	    why, sizeof(why)), HUSH_E_AUTH);
	assert_non_null(strstr(why, "current root's key"));
	assert_int_equal(x509_ca_check_cross(leaf, leaf_len, a, a_len, b, b_len,
	    why, sizeof(why)), HUSH_E_INVAL);
	assert_non_null(strstr(why, "not a CA"));
	assert_int_equal(x509_ca_check_cross("junk", 4, a, a_len, b, b_len,
	    why, sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(ERR_peek_error(), 0);

	free(ab);
	free(leaf);
	free(a);
	free(b);
	free(c);
	secbuf_free(&a_key);
	secbuf_free(&b_key);
	secbuf_free(&c_key);
}

/*
 * Two roots named CN=hush-ca in one store, in either order: each leaf
 * chains to the root that signed it, found by its key identifier.
 */
static void
test_same_name_roots(void **state)
{
	struct secbuf k1 = SECBUF_INIT, k2 = SECBUF_INIT;
	char *r1, *r2, *l1, *l2;
	size_t r1_len, r2_len, l1_len, l2_len;
	X509 *x1, *x2, *leaf1, *leaf2, *top, *roots[2];

	assert_int_equal(x509_ca_create(NOW, CA_LIFETIME, &k1, &r1, &r1_len), 0);
	assert_int_equal(x509_ca_create(NOW, CA_LIFETIME, &k2, &r2, &r2_len), 0);
	x1 = pem_x509(r1, r1_len);
	x2 = pem_x509(r2, r2_len);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x1),
	    X509_get_subject_name(x2)), 0);
	assert_non_null(X509_get0_subject_key_id(x1));
	assert_non_null(X509_get0_subject_key_id(x2));
	issue_leaf(&k1, r1, r1_len, &l1, &l1_len);
	issue_leaf(&k2, r2, r2_len, &l2, &l2_len);
	leaf1 = pem_x509(l1, l1_len);
	leaf2 = pem_x509(l2, l2_len);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf1),
	    X509_get0_subject_key_id(x1)), 0);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf2),
	    X509_get0_subject_key_id(x2)), 0);

	roots[0] = x1;
	roots[1] = x2;
	assert_int_equal(openssl_verify(leaf1, roots, 2, NULL, &top), 0);
	assert_int_equal(X509_cmp(top, x1), 0);
	X509_free(top);
	assert_int_equal(openssl_verify(leaf2, roots, 2, NULL, &top), 0);
	assert_int_equal(X509_cmp(top, x2), 0);
	X509_free(top);
	roots[0] = x2;
	roots[1] = x1;
	assert_int_equal(openssl_verify(leaf1, roots, 2, NULL, &top), 0);
	assert_int_equal(X509_cmp(top, x1), 0);
	X509_free(top);
	assert_int_equal(openssl_verify(leaf2, roots, 2, NULL, &top), 0);
	assert_int_equal(X509_cmp(top, x2), 0);
	X509_free(top);

	X509_free(leaf1);
	X509_free(leaf2);
	X509_free(x1);
	X509_free(x2);
	free(l1);
	free(l2);
	free(r1);
	free(r2);
	secbuf_free(&k1);
	secbuf_free(&k2);
}

/* ---- supplied roots: refusals ------------------------------------------- */

static void
expect_supplied_refused(const char *cert, size_t cert_len, const uint8_t *key,
    size_t keylen, uint64_t min_life, int code, const char *reason)
{
	struct secbuf out = { .p = (uint8_t *)1, .len = 1 };
	char why[512];
	int r;

	r = x509_ca_check_supplied(cert, cert_len, key, keylen, NOW, min_life,
	    &out, why, sizeof(why));
	if (r != code)
		fail_msg("got %d (%s), want %d; why: \"%s\"", r, hush_strerror(r),
		    code, why);
	if (strstr(why, reason) == NULL)
		fail_msg("why \"%s\" does not say \"%s\"", why, reason);
	assert_null(out.p);
	assert_int_equal(out.len, 0);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_supplied_cert_refusals(void **state)
{
	EVP_PKEY *k = ec_key("P-256"), *other = ec_key("P-256");
	EVP_PKEY *rsa1024 = rsa_key(1024), *p521 = ec_key("P-521");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct root_opts o;
	char *pem, *two, *junk;
	uint8_t *key;
	size_t len, keylen;

	assert_non_null(ed);
	key = encode_key(k, "PEM", "PrivateKeyInfo", &keylen);

	o = good_opts();
	o.ca = false;
	pem = make_root(k, &o, &len);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_INVAL,
	    "not a CA certificate");
	free(pem);

	o = good_opts();
	o.not_after = NOW - HOUR;
	pem = make_root(k, &o, &len);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_RANGE,
	    "expired at 2023-11-14T21:13:20Z");
	free(pem);

	o = good_opts();
	o.not_before = NOW + HOUR;
	pem = make_root(k, &o, &len);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_RANGE,
	    "not valid until 2023-11-14T23:13:20Z");
	free(pem);

	o = good_opts();
	o.not_after = NOW + 2 * HOUR;
	pem = make_root(k, &o, &len);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_RANGE,
	    "expires at 2023-11-15T00:13:20Z, sooner than 24 hours");
	free(pem);

	/* Issued by another CA, or its name but not its signature. */
	o = good_opts();
	o.issuer_cn = "Some Other CA";
	o.signer = other;
	pem = make_root(k, &o, &len);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_INVAL,
	    "not self-signed");
	free(pem);
	o = good_opts();
	o.signer = other;
	pem = make_root(k, &o, &len);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_AUTH,
	    "self-signature does not verify");
	free(pem);

	/* What hush needs to build chains beside a root of the same name. */
	o = good_opts();
	o.skid = false;
	pem = make_root(k, &o, &len);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_INVAL,
	    "no subjectKeyIdentifier");
	free(pem);
	o = good_opts();
	o.key_usage = false;
	pem = make_root(k, &o, &len);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_INVAL,
	    "keyCertSign");
	free(pem);

	/* Keys hush will not sign with, named. */
	o = good_opts();
	pem = make_root(rsa1024, &o, &len);
	expect_supplied_refused(pem, len, NULL, 0, MIN_LIFE, HUSH_E_INVAL,
	    "key is RSA-1024");
	free(pem);
	pem = make_root(p521, &o, &len);
	expect_supplied_refused(pem, len, NULL, 0, MIN_LIFE, HUSH_E_INVAL,
	    "key is EC secp521r1");
	free(pem);
	pem = make_root(ed, &o, &len);
	expect_supplied_refused(pem, len, NULL, 0, MIN_LIFE, HUSH_E_INVAL,
	    "key is ED25519");
	free(pem);

	/* Not one PEM certificate. */
	pem = make_root(k, &o, &len);
	expect_supplied_refused("", 0, key, keylen, MIN_LIFE, HUSH_E_TRUNCATED,
	    "empty");
	expect_supplied_refused(NULL, 0, key, keylen, MIN_LIFE, HUSH_E_TRUNCATED,
	    "empty");
	expect_supplied_refused("garbage\n", 8, key, keylen, MIN_LIFE,
	    HUSH_E_FORMAT, "not one PEM certificate");
	expect_supplied_refused(pem, len / 2, key, keylen, MIN_LIFE,
	    HUSH_E_FORMAT, "not one PEM certificate");
	assert_non_null(two = malloc(2 * len + 1));
	memcpy(two, pem, len);
	memcpy(two + len, pem, len + 1);
	expect_supplied_refused(two, 2 * len, key, keylen, MIN_LIFE,
	    HUSH_E_FORMAT, "more than one certificate");
	assert_non_null(junk = malloc(len + 8));
	memcpy(junk, pem, len);
	memcpy(junk + len, "junk\n", 6);
	expect_supplied_refused(junk, len + 5, key, keylen, MIN_LIFE,
	    HUSH_E_FORMAT, "not one PEM certificate");
	expect_supplied_refused(pem, X509_MAX_CERT_PEM + 1, key, keylen,
	    MIN_LIFE, HUSH_E_TOOBIG, "larger than");

	free(junk);
	free(two);
	free(pem);
	free(key);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(other);
	EVP_PKEY_free(k);
}

static void
test_supplied_key_refusals(void **state)
{
	EVP_PKEY *k = ec_key("P-256"), *other = ec_key("P-256");
	struct root_opts o = good_opts();
	char *pem;
	uint8_t *key, *big, *withjunk;
	size_t len, keylen;
	BIO *bio;

	pem = make_root(k, &o, &len);

	/* Another key of the same kind. */
	key = encode_key(other, "PEM", "PrivateKeyInfo", &keylen);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_INVAL,
	    "the key does not belong to this certificate");
	free(key);

	/* Encrypted, both ways PEM says so, and as DER. */
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, k,
	    EVP_aes_256_cbc(), NULL, 0, NULL, (void *)"secret"), 1);
	key = bio_take(bio, &keylen);
	assert_non_null(strstr((char *)key, "ENCRYPTED PRIVATE KEY"));
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_INVAL,
	    "the key is encrypted: give it without a passphrase");
	free(key);
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, k,
	    EVP_aes_128_cbc(), NULL, 0, NULL, (void *)"secret"), 1);
	key = bio_take(bio, &keylen);
	assert_non_null(strstr((char *)key, "Proc-Type: 4,ENCRYPTED"));
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_INVAL,
	    "the key is encrypted");
	free(key);
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(i2d_PKCS8PrivateKey_bio(bio, k, EVP_aes_256_cbc(),
	    NULL, 0, NULL, (void *)"secret"), 1);
	key = bio_take(bio, &keylen);
	expect_supplied_refused(pem, len, key, keylen, MIN_LIFE, HUSH_E_INVAL,
	    "the key is encrypted");
	free(key);

	/* Garbage, truncated, empty, too large, junk after it, not a key. */
	expect_supplied_refused(pem, len, (const uint8_t *)"garbage", 7,
	    MIN_LIFE, HUSH_E_FORMAT, "neither PEM nor PKCS#8 DER");
	key = encode_key(k, "PEM", "PrivateKeyInfo", &keylen);
	expect_supplied_refused(pem, len, key, keylen / 2, MIN_LIFE,
	    HUSH_E_FORMAT, "malformed or truncated");
	expect_supplied_refused(pem, len, key, 0, MIN_LIFE, HUSH_E_TRUNCATED,
	    "empty");
	assert_non_null(big = calloc(1, 8193));
	memcpy(big, key, keylen);
	expect_supplied_refused(pem, len, big, 8193, MIN_LIFE, HUSH_E_TOOBIG,
	    "larger than 8192 bytes");
	assert_non_null(withjunk = malloc(keylen + 6));
	memcpy(withjunk, key, keylen);
	memcpy(withjunk + keylen, "junk\n", 5);
	expect_supplied_refused(pem, len, withjunk, keylen + 5, MIN_LIFE,
	    HUSH_E_FORMAT, "more after the key");
	expect_supplied_refused(pem, len, (const uint8_t *)pem, len, MIN_LIFE,
	    HUSH_E_FORMAT, "\"CERTIFICATE\", not a private key");
	free(withjunk);
	free(big);
	free(key);

	/* A PKCS#8 DER key cut short is not taken either. */
	key = encode_key(k, "DER", "PrivateKeyInfo", &keylen);
	expect_supplied_refused(pem, len, key, keylen - 1, MIN_LIFE,
	    HUSH_E_FORMAT, "neither PEM nor PKCS#8 DER");
	free(key);

	free(pem);
	EVP_PKEY_free(other);
	EVP_PKEY_free(k);
}

/* ---- supplied roots: accepted ------------------------------------------- */

/* Accepted, and the key that comes back is the certificate's. */
static void
expect_supplied_ok(const char *cert, size_t cert_len, const uint8_t *key,
    size_t keylen)
{
	struct secbuf out = SECBUF_INIT;
	char why[512];
	int r;

	r = x509_ca_check_supplied(cert, cert_len, key, keylen, NOW, MIN_LIFE,
	    &out, why, sizeof(why));
	if (r != 0)
		fail_msg("refused: %s (%s)", why, hush_strerror(r));
	assert_string_equal(why, "");
	assert_non_null(out.p);
	assert_true(x509_ca_matches_key(cert, cert_len, &out));
	assert_int_equal(ERR_peek_error(), 0);
	secbuf_free(&out);
}

static void
test_supplied_key_formats(void **state)
{
	EVP_PKEY *ec = ec_key("P-256"), *rsa = rsa_key(2048);
	struct root_opts o = good_opts();
	struct secbuf none = SECBUF_INIT;
	char *ec_pem, *rsa_pem, why[256];
	uint8_t *key, *padded, *withparams;
	size_t ec_len, rsa_len, keylen, plen;

	ec_pem = make_root(ec, &o, &ec_len);
	rsa_pem = make_root(rsa, &o, &rsa_len);

	key = encode_key(ec, "PEM", "PrivateKeyInfo", &keylen);
	assert_non_null(strstr((char *)key, "BEGIN PRIVATE KEY"));
	expect_supplied_ok(ec_pem, ec_len, key, keylen);
	/* With blank lines around it, as editors leave files. */
	assert_non_null(padded = malloc(keylen + 4));
	memcpy(padded, "\n\n", 2);
	memcpy(padded + 2, key, keylen);
	memcpy(padded + 2 + keylen, "\n\n", 2);
	expect_supplied_ok(ec_pem, ec_len, padded, keylen + 4);
	free(padded);
	free(key);

	key = encode_key(ec, "PEM", "type-specific", &keylen);
	assert_non_null(strstr((char *)key, "BEGIN EC PRIVATE KEY"));
	expect_supplied_ok(ec_pem, ec_len, key, keylen);
	/* As 'openssl ecparam -genkey' writes it: the curve's block first. */
	{
		static const char params[] = "-----BEGIN EC PARAMETERS-----\n"
		    "BggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";

		plen = strlen(params);
		assert_non_null(withparams = malloc(plen + keylen));
		memcpy(withparams, params, plen);
		memcpy(withparams + plen, key, keylen);
		expect_supplied_ok(ec_pem, ec_len, withparams, plen + keylen);
		free(withparams);
	}
	free(key);

	key = encode_key(ec, "DER", "PrivateKeyInfo", &keylen);
	expect_supplied_ok(ec_pem, ec_len, key, keylen);
	free(key);

	key = encode_key(rsa, "PEM", "type-specific", &keylen);
	assert_non_null(strstr((char *)key, "BEGIN RSA PRIVATE KEY"));
	expect_supplied_ok(rsa_pem, rsa_len, key, keylen);
	free(key);
	key = encode_key(rsa, "PEM", "PrivateKeyInfo", &keylen);
	expect_supplied_ok(rsa_pem, rsa_len, key, keylen);
	free(key);
	key = encode_key(rsa, "DER", "PrivateKeyInfo", &keylen);
	expect_supplied_ok(rsa_pem, rsa_len, key, keylen);
	free(key);

	/* An external CA's root: the certificate alone. */
	assert_int_equal(x509_ca_check_supplied(ec_pem, ec_len, NULL, 0, NOW,
	    MIN_LIFE, &none, why, sizeof(why)), 0);
	assert_null(none.p);
	assert_int_equal(x509_ca_check_supplied(rsa_pem, rsa_len, NULL, 0, NOW,
	    MIN_LIFE, NULL, why, sizeof(why)), 0);

	free(rsa_pem);
	free(ec_pem);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

/*
 * An operator's P-384 or RSA root signs P-256 leaves (SHA-384 under
 * P-384) that x509_verify() takes, and is cross-signed by hush's own root
 * and cross-signs it in turn.
 */
static void
supplied_root_issues(EVP_PKEY *k, int want_sig_nid)
{
	struct secbuf key = SECBUF_INIT, hush_key = SECBUF_INIT;
	struct root_opts o = good_opts();
	char *root, *canon, *leaf_pem, *hush_pem, *cross, *leaf2, why[256];
	size_t root_len, canon_len, leaf_len, hush_len, cross_len, leaf2_len;
	uint8_t *der;
	size_t derlen;
	X509 *leaf, *hush_x, *cross_x;

	root = make_root(k, &o, &root_len);
	der = encode_key(k, "PEM", "PrivateKeyInfo", &derlen);
	if (x509_ca_check_supplied(root, root_len, der, derlen, NOW, MIN_LIFE,
	    &key, why, sizeof(why)) != 0)
		fail_msg("refused: %s", why);
	assert_int_equal(x509_cert_reencode(root, root_len, &canon, &canon_len), 0);
	assert_int_equal(canon_len, root_len);
	assert_memory_equal(canon, root, root_len);

	issue_leaf(&key, canon, canon_len, &leaf_pem, &leaf_len);
	leaf = pem_x509(leaf_pem, leaf_len);
	assert_int_equal(X509_get_signature_nid(leaf), want_sig_nid);
	if (x509_verify(leaf_pem, leaf_len, canon, canon_len, NOW, why,
	    sizeof(why)) != 0)
		fail_msg("x509_verify: %s", why);

	/* Rotating from hush's root to this one, and back. */
	assert_int_equal(x509_ca_create(NOW, CA_LIFETIME, &hush_key, &hush_pem,
	    &hush_len), 0);
	hush_x = pem_x509(hush_pem, hush_len);
	assert_int_equal(x509_ca_cross_sign(&hush_key, hush_pem, hush_len,
	    canon, canon_len, NOW, &cross, &cross_len), 0);
	cross_x = pem_x509(cross, cross_len);
	assert_int_equal(openssl_verify(leaf, &hush_x, 1, cross_x, NULL), 0);
	X509_free(cross_x);
	free(cross);
	assert_int_equal(x509_ca_cross_sign(&key, canon, canon_len, hush_pem,
	    hush_len, NOW, &cross, &cross_len), 0);
	assert_int_equal(x509_ca_check_cross(cross, cross_len, canon, canon_len,
	    hush_pem, hush_len, why, sizeof(why)), 0);
	issue_leaf(&hush_key, hush_pem, hush_len, &leaf2, &leaf2_len);
	X509_free(leaf);
	leaf = pem_x509(leaf2, leaf2_len);
	cross_x = pem_x509(cross, cross_len);
	X509_free(hush_x);
	hush_x = pem_x509(canon, canon_len);
	assert_int_equal(openssl_verify(leaf, &hush_x, 1, cross_x, NULL), 0);
	assert_int_equal(ERR_peek_error(), 0);

	X509_free(cross_x);
	X509_free(hush_x);
	X509_free(leaf);
	free(leaf2);
	free(cross);
	free(hush_pem);
	free(leaf_pem);
	free(canon);
	free(der);
	free(root);
	secbuf_free(&hush_key);
	secbuf_free(&key);
}

static void
test_p384_root_issues(void **state)
{
	EVP_PKEY *k = ec_key("P-384");

	supplied_root_issues(k, NID_ecdsa_with_SHA384);
	EVP_PKEY_free(k);
}

static void
test_rsa_root_issues(void **state)
{
	EVP_PKEY *k = rsa_key(3072);

	supplied_root_issues(k, NID_sha256WithRSAEncryption);
	EVP_PKEY_free(k);
}

/* A PEM with odd line lengths comes back as OpenSSL writes every PEM. */
static void
test_reencode(void **state)
{
	struct secbuf k = SECBUF_INIT;
	char *pem, *odd, *canon;
	size_t len, i, j, canon_len;

	assert_int_equal(x509_ca_create(NOW, CA_LIFETIME, &k, &pem, &len), 0);
	/* Join the base64 lines two by two. */
	assert_non_null(odd = malloc(len + 1));
	for (i = 0, j = 0; i < len; i++) {
		if (pem[i] == '\n' && i > 30 && i + 30 < len && (i / 65) % 2 == 0)
			continue;
		odd[j++] = pem[i];
	}
	odd[j] = '\0';
	assert_true(j < len);
	assert_int_equal(x509_cert_reencode(odd, j, &canon, &canon_len), 0);
	assert_int_equal(canon_len, len);
	assert_memory_equal(canon, pem, len);
	free(canon);
	assert_int_equal(x509_cert_reencode("junk", 4, &canon, &canon_len),
	    HUSH_E_FORMAT);
	assert_null(canon);
	free(odd);
	free(pem);
	secbuf_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cross_sign_round_trip),
		cmocka_unit_test(test_cross_sign_refusals),
		cmocka_unit_test(test_same_name_roots),
		cmocka_unit_test(test_supplied_cert_refusals),
		cmocka_unit_test(test_supplied_key_refusals),
		cmocka_unit_test(test_supplied_key_formats),
		cmocka_unit_test(test_p384_root_issues),
		cmocka_unit_test(test_rsa_root_issues),
		cmocka_unit_test(test_reencode),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
