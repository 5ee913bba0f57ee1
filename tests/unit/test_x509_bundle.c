/*
 * Trust bundles and the chains of a CA rotation (lib/x509_bundle.c): a
 * bundle splits back into the exact PEM bytes it was made of, every other
 * shape of text is refused, and x509_verify_chain() accepts leaf -> root
 * and leaf -> cross-signed intermediate -> root and nothing longer or
 * stranger.  The rotation's certificates are made here with OpenSSL, as
 * the pki will make them: the next root's subject and key, certified by
 * the current root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "err.h"
#include "join_token.h"
#include "msg.h"
#include "secbuf.h"
#include "x509.h"

#define NOW		INT64_C(1700000000)	/* 2023-11-14T22:13:20Z */
#define DAY		INT64_C(86400)
#define CA_LIFETIME	(UINT64_C(20) * 365 * 86400)
#define LEAF_LIFETIME	(UINT64_C(90) * 86400)

struct root {
	struct secbuf	 key;
	EVP_PKEY	*pkey;
	X509		*x;
	char		*pem;
	size_t		 len;
};

/* old and next: a rotation's two roots, both CN=hush-ca; other: a stranger. */
static struct root old_root, next_root, other_root;

static const struct x509_subject node_subject = {
	.cn = "3xk9q0vz5m1d8c2w7e4r6t0yb",
	.ou = X509_OU_WORKER,
	.o = "k2j8d0s9f7g6h5a4s3d2f1g0z",
};

/* ---- making certificates ------------------------------------------------- */

static EVP_PKEY *
key_of(const struct secbuf *der)
{
	const unsigned char *p = der->p;
	EVP_PKEY *k;

	assert_non_null(k = d2i_AutoPrivateKey(NULL, &p, (long)der->len));
	return k;
}

static X509 *
x509_of(const char *pem, size_t len)
{
	BIO *bio;
	X509 *x;

	assert_non_null(bio = BIO_new_mem_buf(pem, (int)len));
	assert_non_null(x = PEM_read_bio_X509(bio, NULL, NULL, NULL));
	BIO_free(bio);
	return x;
}

static char *
pem_of(X509 *x, size_t *len)
{
	BIO *bio;
	char *mem, *s;
	long n;

	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_true(PEM_write_bio_X509(bio, x));
	assert_true((n = BIO_get_mem_data(bio, &mem)) > 0);
	assert_non_null(s = malloc((size_t)n + 1));
	memcpy(s, mem, (size_t)n);
	s[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	return s;
}

static void
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;

	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value));
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

/*
 * A CA certificate (or, with ca false, one that claims not to be) for
 * subject_key under the name cn, issued by issuer with issuer_key: the
 * shape of the pki's cross-signed intermediate.
 */
static char *
ca_cert_make(EVP_PKEY *subject_key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    bool ca, int64_t nb, int64_t na, size_t *len)
{
	X509V3_CTX v3;
	X509_NAME *name;
	X509 *x;
	char *pem;

	assert_non_null(x = X509_new());
	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set_int64(X509_get_serialNumber(x),
	    (int64_t)randombytes_uniform(1u << 30) + 1));
	assert_non_null(name = X509_NAME_new());
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_set_subject_name(x, name));
	assert_true(X509_set_issuer_name(x, X509_get_subject_name(issuer)));
	X509_NAME_free(name);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na));
	assert_true(X509_set_pubkey(x, subject_key));
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	add_ext(x, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE,pathlen:0" :
	    "critical,CA:FALSE");
	add_ext(x, &v3, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" :
	    "critical,digitalSignature");
	add_ext(x, &v3, NID_subject_key_identifier, "hash");
	add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	pem = pem_of(x, len);
	X509_free(x);
	return pem;
}

/* The next root, cross-signed by the old one, valid from nb to na. */
static char *
cross_make(int64_t nb, int64_t na, bool ca, size_t *len)
{
	return ca_cert_make(next_root.pkey, X509_CA_CN, old_root.x, old_root.pkey, ca,
	    nb, na, len);
}

static void
root_make(struct root *r)
{
	assert_int_equal(x509_ca_create(NOW, CA_LIFETIME, &r->key, &r->pem, &r->len), 0);
	r->pkey = key_of(&r->key);
	r->x = x509_of(r->pem, r->len);
}

static void
root_free(struct root *r)
{
	EVP_PKEY_free(r->pkey);
	X509_free(r->x);
	free(r->pem);
	secbuf_free(&r->key);
}

/* A node certificate issued by the CA whose key and certificate these are. */
static char *
leaf_make(const struct secbuf *ca_key, const char *ca_pem, size_t ca_len, size_t *len)
{
	struct secbuf key = SECBUF_INIT;
	uint8_t *csr;
	size_t csrlen;
	char *pem, why[256];

	assert_int_equal(x509_key_generate(&key), 0);
	assert_int_equal(x509_csr_create(&key, &csr, &csrlen), 0);
	assert_int_equal(x509_csr_sign(csr, csrlen, ca_key, ca_pem, ca_len, &node_subject,
	    NOW, LEAF_LIFETIME, &pem, len, why, sizeof(why)), 0);
	free(csr);
	secbuf_free(&key);
	return pem;
}

/* a then b (then c): what a node presents, or a bundle of roots. */
static char *
cat(const char *a, const char *b, const char *c, size_t *len)
{
	size_t la = strlen(a), lb = b != NULL ? strlen(b) : 0, lc = c != NULL ? strlen(c) : 0;
	char *s;

	assert_non_null(s = malloc(la + lb + lc + 1));
	memcpy(s, a, la);
	if (lb > 0)
		memcpy(s + la, b, lb);
	if (lc > 0)
		memcpy(s + la + lb, c, lc);
	s[la + lb + lc] = '\0';
	*len = la + lb + lc;
	return s;
}

static int
setup(void **state)
{
	assert_true(sodium_init() >= 0);
	root_make(&old_root);
	root_make(&next_root);
	root_make(&other_root);
	return 0;
}

static int
teardown(void **state)
{
	root_free(&old_root);
	root_free(&next_root);
	root_free(&other_root);
	return 0;
}

/* ---- bundles ------------------------------------------------------------- */

static void
test_bundle_split_exact(void **state)
{
	uint8_t want[JOIN_TOKEN_DIGEST_BYTES], got[JOIN_TOKEN_DIGEST_BYTES];
	char *b, *one;
	size_t len, n, onelen;

	b = cat(old_root.pem, next_root.pem, other_root.pem, &len);
	assert_int_equal(x509_bundle_count(b, len, &n), 0);
	assert_int_equal(n, 3);
	/* Each piece is byte for byte the PEM it was, so its digest too. */
	assert_int_equal(x509_bundle_get(b, len, 1, &one, &onelen), 0);
	assert_int_equal(onelen, next_root.len);
	assert_memory_equal(one, next_root.pem, onelen);
	assert_int_equal(one[onelen], '\0');
	assert_int_equal(join_token_digest_pem(next_root.pem, next_root.len, want), 0);
	assert_int_equal(join_token_digest_pem(one, onelen, got), 0);
	assert_memory_equal(want, got, sizeof(want));
	free(one);
	assert_int_equal(x509_bundle_get(b, len, 0, &one, &onelen), 0);
	assert_int_equal(onelen, old_root.len);
	assert_memory_equal(one, old_root.pem, onelen);
	free(one);
	assert_int_equal(x509_bundle_get(b, len, 2, &one, &onelen), 0);
	assert_memory_equal(one, other_root.pem, onelen);
	free(one);
	assert_int_equal(x509_bundle_get(b, len, 3, &one, &onelen), HUSH_E_RANGE);
	assert_null(one);
	assert_int_equal(onelen, 0);
	free(b);

	/* One certificate is a bundle; whitespace around and between is fine. */
	assert_int_equal(x509_bundle_count(old_root.pem, old_root.len, &n), 0);
	assert_int_equal(n, 1);
	b = cat("\n \t\r\n", old_root.pem, "\r\n\n  ", &len);
	assert_int_equal(x509_bundle_count(b, len, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(x509_bundle_get(b, len, 0, &one, &onelen), 0);
	assert_int_equal(onelen, old_root.len);
	assert_memory_equal(one, old_root.pem, onelen);
	free(one);
	free(b);

	/* Without its final newline, the last piece ends at END. */
	assert_int_equal(x509_bundle_get(old_root.pem, old_root.len - 1, 0, &one, &onelen), 0);
	assert_int_equal(onelen, old_root.len - 1);
	free(one);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
expect_bundle_refused(const char *pem, size_t len, int code)
{
	char *one = (char *)1;
	size_t n = 99, onelen = 99;

	assert_int_equal(x509_bundle_count(pem, len, &n), code);
	assert_int_equal(n, 0);
	assert_int_equal(x509_bundle_get(pem, len, 0, &one, &onelen), code);
	assert_null(one);
	assert_int_equal(onelen, 0);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_bundle_malformed(void **state)
{
	char *b, *big, *tmp;
	size_t len, n = old_root.len;

	expect_bundle_refused(NULL, 0, HUSH_E_TRUNCATED);
	expect_bundle_refused("", 0, HUSH_E_TRUNCATED);
	expect_bundle_refused(" \n\t", 3, HUSH_E_FORMAT);
	expect_bundle_refused("junk", 4, HUSH_E_FORMAT);

	/* Text before, between or after the certificates. */
	b = cat("roots:\n", old_root.pem, NULL, &len);
	expect_bundle_refused(b, len, HUSH_E_FORMAT);
	free(b);
	b = cat(old_root.pem, "# next\n", next_root.pem, &len);
	expect_bundle_refused(b, len, HUSH_E_FORMAT);
	free(b);
	b = cat(old_root.pem, next_root.pem, "x", &len);
	expect_bundle_refused(b, len, HUSH_E_FORMAT);
	free(b);

	/* Another PEM type, alone or in the middle. */
	b = cat("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
	    old_root.pem, NULL, &len);
	expect_bundle_refused(b, len, HUSH_E_FORMAT);
	free(b);
	tmp = strdup(old_root.pem);
	memcpy(strstr(tmp, "BEGIN CERTIFICATE"), "BEGIN X509 CRL    ", 17);
	b = cat(next_root.pem, tmp, NULL, &len);
	expect_bundle_refused(b, len, HUSH_E_FORMAT);
	free(b);
	free(tmp);

	/* Truncated: the last block without END, or cut in its base64. */
	b = cat(old_root.pem, next_root.pem, NULL, &len);
	expect_bundle_refused(b, len - 27, HUSH_E_FORMAT);
	expect_bundle_refused(b, n + next_root.len / 2, HUSH_E_FORMAT);
	/* A NUL anywhere inside len. */
	b[n] = '\0';
	expect_bundle_refused(b, len, HUSH_E_FORMAT);
	free(b);

	/* A block that is not one certificate. */
	expect_bundle_refused("-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n", 58, HUSH_E_FORMAT);
	b = cat(old_root.pem, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
	    NULL, &len);
	expect_bundle_refused(b, len, HUSH_E_FORMAT);
	free(b);

	/* More certificates than a bundle holds, and more bytes. */
	assert_non_null(big = calloc(1, X509_MAX_CERT_PEM + 2));
	for (size_t i = 0; i <= X509_BUNDLE_MAX; i++)
		memcpy(big + i * n, old_root.pem, n);
	assert_true((X509_BUNDLE_MAX + 1) * n <= X509_MAX_CERT_PEM);
	expect_bundle_refused(big, (X509_BUNDLE_MAX + 1) * n, HUSH_E_TOOBIG);
	assert_int_equal(x509_bundle_count(big, X509_BUNDLE_MAX * n, &len), 0);
	assert_int_equal(len, X509_BUNDLE_MAX);
	memset(big, '\n', X509_MAX_CERT_PEM + 1);
	memcpy(big, old_root.pem, n);
	expect_bundle_refused(big, X509_MAX_CERT_PEM + 1, HUSH_E_TOOBIG);
	assert_int_equal(x509_bundle_count(big, X509_MAX_CERT_PEM, &len), 0);
	free(big);
}

/* ---- chains -------------------------------------------------------------- */

static void
expect_chain(const char *leaf, size_t leaf_len, const char *anchors, size_t anchors_len,
    int64_t now, int code, const char *why_has, const uint8_t *want_issuer)
{
	uint8_t issuer[32];
	char why[512];

	memset(issuer, 0, sizeof(issuer));
	assert_int_equal(x509_verify_chain(leaf, leaf_len, anchors, anchors_len, now,
	    issuer, why, sizeof(why)), code);
	if (why_has != NULL && strstr(why, why_has) == NULL)
		fail_msg("why '%s' lacks '%s'", why, why_has);
	if (code == 0)
		assert_string_equal(why, "");
	if (want_issuer != NULL)
		assert_memory_equal(issuer, want_issuer, 32);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
spki_of(const char *pem, size_t len, uint8_t out[32])
{
	struct x509_cert_info info;

	assert_int_equal(x509_cert_info(pem, len, &info), 0);
	memcpy(out, info.spki_sha256, 32);
}

static void
test_chain_leaf_under_root(void **state)
{
	uint8_t old_spki[32];
	char *leaf;
	size_t len;

	spki_of(old_root.pem, old_root.len, old_spki);
	leaf = leaf_make(&old_root.key, old_root.pem, old_root.len, &len);
	expect_chain(leaf, len, old_root.pem, old_root.len, NOW, 0, NULL, old_spki);
	/* NULL issuer_spki and why are fine. */
	assert_int_equal(x509_verify_chain(leaf, len, old_root.pem, old_root.len, NOW,
	    NULL, NULL, 0), 0);
	/* x509_verify() is the same check, one certificate on each side. */
	assert_int_equal(x509_verify(leaf, len, old_root.pem, old_root.len, NOW, NULL, 0), 0);
	expect_chain(leaf, len, other_root.pem, other_root.len, NOW, HUSH_E_AUTH,
	    "not signed by any root this node trusts", NULL);
	expect_chain(leaf, len, old_root.pem, old_root.len, NOW + 91 * DAY, HUSH_E_AUTH,
	    "the certificate (CN=3xk9q0vz5m1d8c2w7e4r6t0yb) expired at 2024-02-", NULL);
	expect_chain(leaf, len, old_root.pem, old_root.len, NOW - 2 * 3600, HUSH_E_AUTH,
	    "not yet valid", NULL);
	/* A root is not a node, whatever trusts it. */
	expect_chain(old_root.pem, old_root.len, old_root.pem, old_root.len, NOW,
	    HUSH_E_AUTH, "is a CA", NULL);
	/* Garbage on either side. */
	expect_chain("junk", 4, old_root.pem, old_root.len, NOW, HUSH_E_FORMAT,
	    "cannot be parsed", NULL);
	expect_chain(leaf, len, "junk", 4, NOW, HUSH_E_FORMAT, "cannot be parsed", NULL);
	free(leaf);
}

/*
 * The rotation: a leaf of the next root, presented with the cross-signed
 * intermediate, verifies for nodes trusting the old root only, the new
 * root only, or both; its issuer digest is the next root's every time.
 */
static void
test_chain_cross_signed(void **state)
{
	uint8_t next_spki[32], cross_spki[32];
	char *leaf, *cross, *chain, *both, *both_rev, *three;
	size_t leaf_len, cross_len, chain_len, both_len, both_rev_len, three_len;

	leaf = leaf_make(&next_root.key, next_root.pem, next_root.len, &leaf_len);
	cross = cross_make(NOW - DAY, NOW + 365 * DAY, true, &cross_len);
	chain = cat(leaf, cross, NULL, &chain_len);
	both = cat(old_root.pem, next_root.pem, NULL, &both_len);
	both_rev = cat(next_root.pem, old_root.pem, NULL, &both_rev_len);
	three = cat(other_root.pem, old_root.pem, next_root.pem, &three_len);
	spki_of(next_root.pem, next_root.len, next_spki);
	spki_of(cross, cross_len, cross_spki);
	assert_memory_equal(next_spki, cross_spki, 32);

	/* Old root only: root -> intermediate -> leaf. */
	expect_chain(chain, chain_len, old_root.pem, old_root.len, NOW, 0, NULL, next_spki);
	/* Without the intermediate the old root cannot vouch for it. */
	expect_chain(leaf, leaf_len, old_root.pem, old_root.len, NOW, HUSH_E_AUTH,
	    "not signed by any root this node trusts", NULL);
	/* Both roots, in either order: the next root itself is the anchor. */
	expect_chain(chain, chain_len, both, both_len, NOW, 0, NULL, next_spki);
	expect_chain(chain, chain_len, both_rev, both_rev_len, NOW, 0, NULL, next_spki);
	expect_chain(chain, chain_len, three, three_len, NOW, 0, NULL, next_spki);
	expect_chain(leaf, leaf_len, both, both_len, NOW, 0, NULL, next_spki);
	/* The new root only, with or without the intermediate. */
	expect_chain(chain, chain_len, next_root.pem, next_root.len, NOW, 0, NULL, next_spki);
	expect_chain(leaf, leaf_len, next_root.pem, next_root.len, NOW, 0, NULL, next_spki);
	/* A stranger's root vouches for neither. */
	expect_chain(chain, chain_len, other_root.pem, other_root.len, NOW, HUSH_E_AUTH,
	    "not signed by any root this node trusts", NULL);
	/* The intermediate is not a node. */
	expect_chain(cross, cross_len, old_root.pem, old_root.len, NOW, HUSH_E_AUTH,
	    "is a CA", NULL);
	free(leaf);
	free(cross);
	free(chain);
	free(both);
	free(both_rev);
	free(three);
}

/* Two roots of the same name: each leaf finds the one that signed it. */
static void
test_chain_same_name_roots(void **state)
{
	uint8_t old_spki[32], next_spki[32];
	char *old_leaf, *next_leaf, *both, *both_rev;
	size_t old_len, next_len, both_len, both_rev_len;

	spki_of(old_root.pem, old_root.len, old_spki);
	spki_of(next_root.pem, next_root.len, next_spki);
	assert_memory_not_equal(old_spki, next_spki, 32);
	old_leaf = leaf_make(&old_root.key, old_root.pem, old_root.len, &old_len);
	next_leaf = leaf_make(&next_root.key, next_root.pem, next_root.len, &next_len);
	both = cat(old_root.pem, next_root.pem, NULL, &both_len);
	both_rev = cat(next_root.pem, old_root.pem, NULL, &both_rev_len);
	expect_chain(old_leaf, old_len, both, both_len, NOW, 0, NULL, old_spki);
	expect_chain(old_leaf, old_len, both_rev, both_rev_len, NOW, 0, NULL, old_spki);
	expect_chain(next_leaf, next_len, both, both_len, NOW, 0, NULL, next_spki);
	expect_chain(next_leaf, next_len, both_rev, both_rev_len, NOW, 0, NULL, next_spki);
	/* Once the old root is dropped its leaves no longer verify. */
	expect_chain(old_leaf, old_len, next_root.pem, next_root.len, NOW, HUSH_E_AUTH,
	    "not signed by any root this node trusts", NULL);
	free(old_leaf);
	free(next_leaf);
	free(both);
	free(both_rev);
}

static void
test_chain_bad_intermediates(void **state)
{
	struct secbuf k1 = SECBUF_INIT, k2 = SECBUF_INIT;
	EVP_PKEY *p1, *p2;
	X509 *x1, *x2;
	char *leaf, *cross, *chain, *i1, *i2, *leaf2, *long_chain, *two;
	size_t leaf_len, cross_len, chain_len, i1_len, i2_len, leaf2_len, long_len, two_len;

	leaf = leaf_make(&next_root.key, next_root.pem, next_root.len, &leaf_len);

	/* Expired: the old root's nodes cannot reach the next root any more. */
	cross = cross_make(NOW - 30 * DAY, NOW - DAY, true, &cross_len);
	chain = cat(leaf, cross, NULL, &chain_len);
	expect_chain(chain, chain_len, old_root.pem, old_root.len, NOW, HUSH_E_AUTH,
	    "the intermediate (CN=hush-ca) expired at 2023-11-13T22:13:20Z", NULL);
	free(cross);
	free(chain);

	/* Not a CA, though it carries the next root's key and name. */
	cross = cross_make(NOW - DAY, NOW + 365 * DAY, false, &cross_len);
	chain = cat(leaf, cross, NULL, &chain_len);
	expect_chain(chain, chain_len, old_root.pem, old_root.len, NOW, HUSH_E_AUTH,
	    "is not a CA", NULL);
	free(cross);
	free(chain);

	/* root -> i1 -> i2 -> leaf: one link too many, presented or not. */
	assert_int_equal(x509_key_generate(&k1), 0);
	assert_int_equal(x509_key_generate(&k2), 0);
	p1 = key_of(&k1);
	p2 = key_of(&k2);
	i1 = ca_cert_make(p1, "hush-int-1", old_root.x, old_root.pkey, true, NOW - DAY,
	    NOW + 365 * DAY, &i1_len);
	x1 = x509_of(i1, i1_len);
	/* i1's pathlen:0 would stop i2 for another reason: a fresh i1 without it. */
	{
		X509V3_CTX v3;
		X509_EXTENSION *ext;
		int idx = X509_get_ext_by_NID(x1, NID_basic_constraints, -1);

		X509_EXTENSION_free(X509_delete_ext(x1, idx));
		X509V3_set_ctx(&v3, old_root.x, x1, NULL, NULL, 0);
		assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
		    "critical,CA:TRUE"));
		assert_true(X509_add_ext(x1, ext, -1));
		X509_EXTENSION_free(ext);
		assert_true(X509_sign(x1, old_root.pkey, EVP_sha256()) > 0);
		free(i1);
		i1 = pem_of(x1, &i1_len);
	}
	i2 = ca_cert_make(p2, "hush-int-2", x1, p1, true, NOW - DAY, NOW + 365 * DAY, &i2_len);
	x2 = x509_of(i2, i2_len);
	leaf2 = leaf_make(&k2, i2, i2_len, &leaf2_len);
	long_chain = cat(leaf2, i2, i1, &long_len);
	expect_chain(long_chain, long_len, old_root.pem, old_root.len, NOW, HUSH_E_AUTH,
	    "longer than root -> intermediate -> leaf", NULL);
	/* i1 among the roots makes it a link from the store: still too long. */
	two = cat(old_root.pem, i1, NULL, &two_len);
	chain = cat(leaf2, i2, NULL, &chain_len);
	expect_chain(chain, chain_len, two, two_len, NOW, HUSH_E_AUTH,
	    "longer than root -> intermediate -> leaf", NULL);
	free(chain);
	/* i1 alone is a fine intermediate: root -> i1 -> leaf is allowed. */
	leaf_len = 0;
	free(leaf);
	leaf = leaf_make(&k1, i1, i1_len, &leaf_len);
	chain = cat(leaf, i1, NULL, &chain_len);
	expect_chain(chain, chain_len, old_root.pem, old_root.len, NOW, 0, NULL, NULL);
	free(chain);

	/* A leaf from an unrelated root, with an intermediate that is ours. */
	free(leaf);
	leaf = leaf_make(&other_root.key, other_root.pem, other_root.len, &leaf_len);
	cross = cross_make(NOW - DAY, NOW + 365 * DAY, true, &cross_len);
	chain = cat(leaf, cross, NULL, &chain_len);
	expect_chain(chain, chain_len, old_root.pem, old_root.len, NOW, HUSH_E_AUTH,
	    "not signed by any root this node trusts", NULL);
	expect_chain(chain, chain_len, two, two_len, NOW, HUSH_E_AUTH,
	    "not signed by any root this node trusts", NULL);
	free(chain);
	free(cross);

	free(two);
	free(long_chain);
	free(leaf2);
	X509_free(x2);
	X509_free(x1);
	free(i2);
	free(i1);
	EVP_PKEY_free(p1);
	EVP_PKEY_free(p2);
	secbuf_free(&k1);
	secbuf_free(&k2);
	free(leaf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_split_exact),
		cmocka_unit_test(test_bundle_malformed),
		cmocka_unit_test(test_chain_leaf_under_root),
		cmocka_unit_test(test_chain_cross_signed),
		cmocka_unit_test(test_chain_same_name_roots),
		cmocka_unit_test(test_chain_bad_intermediates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
