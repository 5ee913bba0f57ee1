/*
 * The certificate authority: creating the cluster's root and issuing node
 * certificates.  Every field of an issued certificate comes from the CA's
 * own arguments; of the CSR only its (verified) public key is used.
 */
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "secbuf.h"
#define HUSH_X509_INTERNAL
#include "x509.h"

#define SERIAL_LEN	16

_Static_assert(sizeof(time_t) >= sizeof(int64_t),
    "certificate times need a 64-bit time_t");

/* Certificate content that is not the keys. */
struct cert_spec {
	X509_NAME	*subject;
	int64_t		 not_before;
	int64_t		 not_after;
	bool		 is_ca;
};

/*
 * RFC 5280 wants a positive serial of at most 20 octets that no two
 * certificates from this CA share; 127 random bits make collisions moot
 * without keeping state.
 */
int
x509_serial_set(X509 *x)
{
	unsigned char b[SERIAL_LEN];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	int i, r = HUSH_E_CRYPTO;

	for (i = 0; i < 4; i++) {
		if (RAND_bytes(b, sizeof(b)) != 1)
			goto out;
		b[0] &= 0x7f;
		if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
			goto out;
		if (!BN_is_zero(bn))
			break;
		BN_free(bn);
		bn = NULL;
	}
	if (bn == NULL)
		goto out;	/* four all-zero draws: the RNG is broken */
	if ((ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, ai))
		goto out;
	r = 0;
 out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

int
x509_time_set(ASN1_TIME *t, int64_t when)
{
	/* Picks UTCTime before 2050 and GeneralizedTime after, as RFC 5280 says. */
	return ASN1_TIME_set(t, (time_t)when) == NULL ? HUSH_E_CRYPTO : 0;
}

int
x509_ext_add(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int r = 0;

	if ((ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value)) == NULL)
		return HUSH_E_CRYPTO;
	if (!X509_add_ext(x, ext, -1))
		r = HUSH_E_CRYPTO;
	X509_EXTENSION_free(ext);
	return r;
}

/*
 * Fill x and sign it with signkey; issuer NULL means self-signed.  The
 * extensions make a CA that may sign only end-entity certificates (the
 * path length leaves room for one intermediate: a rotation's
 * cross-signed root), or a leaf good for TLS in both directions and
 * nothing else.  The root's subjectKeyIdentifier and the leaf's
 * authorityKeyIdentifier matter beyond form: during a rotation two roots
 * named CN=hush-ca sit in one trust store, and the key identifiers are
 * what lets a verifier pick the one that really signed a leaf.
 */
static int
build_cert(X509 *x, const struct cert_spec *spec, EVP_PKEY *pubkey,
    X509 *issuer, EVP_PKEY *signkey)
{
	X509V3_CTX v3;
	int r;

	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_subject_name(x, spec->subject) ||
	    !X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : spec->subject) ||
	    !X509_set_pubkey(x, pubkey))
		return HUSH_E_CRYPTO;
	if ((r = x509_serial_set(x)) != 0 ||
	    (r = x509_time_set(X509_getm_notBefore(x), spec->not_before)) != 0 ||
	    (r = x509_time_set(X509_getm_notAfter(x), spec->not_after)) != 0)
		return r;

	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (spec->is_ca) {
		if ((r = x509_ext_add(x, &v3, NID_basic_constraints,
		    "critical,CA:TRUE,pathlen:1")) != 0 ||
		    (r = x509_ext_add(x, &v3, NID_key_usage,
		    "critical,keyCertSign,cRLSign")) != 0 ||
		    (r = x509_ext_add(x, &v3, NID_subject_key_identifier,
		    "hash")) != 0)
			return r;
	} else {
		if ((r = x509_ext_add(x, &v3, NID_basic_constraints,
		    "critical,CA:FALSE")) != 0 ||
		    (r = x509_ext_add(x, &v3, NID_key_usage,
		    "critical,digitalSignature")) != 0 ||
		    (r = x509_ext_add(x, &v3, NID_ext_key_usage,
		    "serverAuth,clientAuth")) != 0 ||
		    (r = x509_ext_add(x, &v3, NID_subject_key_identifier,
		    "hash")) != 0 ||
		    (r = x509_ext_add(x, &v3, NID_authority_key_identifier,
		    "keyid:always")) != 0)
			return r;
	}
	/* The digest follows the CA's key: an operator's root may be P-384. */
	if (X509_sign(x, signkey, x509_ca_md(signkey)) <= 0)
		return HUSH_E_CRYPTO;
	return 0;
}

/* Printable ASCII only: these strings end up in logs and access checks. */
static bool
attr_ok(const char *s)
{
	size_t i, len;

	len = strnlen(s, X509_NAME_MAX + 1);
	if (len == 0 || len > X509_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	}
	return true;
}

static int
name_add(X509_NAME *name, int nid, const char *s)
{
	if (!X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
	    (const unsigned char *)s, -1, -1, 0))
		return HUSH_E_CRYPTO;
	return 0;
}

/* Validity from now - skew to now + lifetime, all of it encodable. */
static int
validity(int64_t now, uint64_t lifetime_secs, int64_t *nb, int64_t *na)
{
	if (lifetime_secs == 0 || now < X509_CLOCK_SKEW_SECS ||
	    now > X509_TIME_MAX ||
	    lifetime_secs > (uint64_t)(X509_TIME_MAX - now))
		return HUSH_E_RANGE;
	*nb = now - X509_CLOCK_SKEW_SECS;
	*na = now + (int64_t)lifetime_secs;
	return 0;
}

int
x509_ca_create(int64_t now, uint64_t lifetime_secs, struct secbuf *key_der,
    char **cert_pem, size_t *cert_len)
{
	struct cert_spec spec;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	int r;

	memset(&spec, 0, sizeof(spec));
	key_der->p = NULL;
	key_der->len = 0;
	*cert_pem = NULL;
	*cert_len = 0;
	spec.is_ca = true;
	if ((r = validity(now, lifetime_secs, &spec.not_before,
	    &spec.not_after)) != 0)
		goto out;
	r = HUSH_E_CRYPTO;
	if ((spec.subject = X509_NAME_new()) == NULL || (x = X509_new()) == NULL)
		goto out;
	if ((r = name_add(spec.subject, NID_commonName, X509_CA_CN)) != 0 ||
	    (r = x509_key_new(&pkey)) != 0 ||
	    (r = build_cert(x, &spec, pkey, NULL, pkey)) != 0 ||
	    (r = x509_key_encode(pkey, key_der)) != 0)
		goto out;
	r = x509_pem_encode(x, cert_pem, cert_len);
 out:
	if (r != 0)
		secbuf_free(key_der);
	X509_free(x);
	X509_NAME_free(spec.subject);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}

/*
 * The issuing CA: its key must match its certificate (or what we issue
 * would never verify) and the certificate must be a CA valid at now.
 */
static int
load_ca(const struct secbuf *ca_key_der, const char *ca_cert_pem,
    size_t ca_cert_len, int64_t now, EVP_PKEY **key, X509 **cert,
    int64_t *ca_not_after, char *why, size_t whylen)
{
	int64_t nb, na;
	int r;

	if ((r = x509_ca_key_decode(ca_key_der, key)) != 0) {
		x509_why(why, whylen, "CA key cannot be decoded");
		return r;
	}
	if ((r = x509_pem_decode(ca_cert_pem, ca_cert_len, cert)) != 0) {
		x509_why(why, whylen, "CA certificate cannot be parsed");
		return r;
	}
	if (X509_check_private_key(*cert, *key) != 1) {
		x509_why(why, whylen, "CA key does not match CA certificate");
		return HUSH_E_INVAL;
	}
	if ((X509_get_extension_flags(*cert) & EXFLAG_CA) == 0) {
		x509_why(why, whylen, "CA certificate is not a CA");
		return HUSH_E_INVAL;
	}
	if (x509_time_get(X509_get0_notBefore(*cert), &nb) != 0 ||
	    x509_time_get(X509_get0_notAfter(*cert), &na) != 0) {
		x509_why(why, whylen, "CA certificate has malformed dates");
		return HUSH_E_FORMAT;
	}
	if (now < nb) {
		x509_why(why, whylen, "CA certificate is not yet valid");
		return HUSH_E_RANGE;
	}
	if (now >= na) {
		x509_why(why, whylen, "CA certificate has expired");
		return HUSH_E_RANGE;
	}
	*ca_not_after = na;
	return 0;
}

int
x509_csr_sign(const uint8_t *csr_der, size_t csr_len,
    const struct secbuf *ca_key_der, const char *ca_cert_pem,
    size_t ca_cert_len, const struct x509_subject *subject, int64_t now,
    uint64_t lifetime_secs, char **cert_pem, size_t *cert_len, char *why,
    size_t whylen)
{
	struct cert_spec spec;
	EVP_PKEY *pubkey = NULL, *cakey = NULL;
	X509 *cacert = NULL, *x = NULL;
	int64_t ca_not_after;
	int r;

	memset(&spec, 0, sizeof(spec));
	*cert_pem = NULL;
	*cert_len = 0;
	x509_why(why, whylen, "%s", "");
	if (subject == NULL || !attr_ok(subject->cn) ||
	    !attr_ok(subject->ou) || !attr_ok(subject->o)) {
		x509_why(why, whylen, "subject CN, OU and O must each be 1-%d "
		    "printable ASCII characters", X509_NAME_MAX);
		r = HUSH_E_INVAL;
		goto out;
	}
	if ((r = validity(now, lifetime_secs, &spec.not_before,
	    &spec.not_after)) != 0) {
		x509_why(why, whylen, "certificate validity is out of range");
		goto out;
	}
	if ((r = x509_csr_pubkey(csr_der, csr_len, &pubkey, why, whylen)) != 0)
		goto out;
	if ((r = load_ca(ca_key_der, ca_cert_pem, ca_cert_len, now, &cakey,
	    &cacert, &ca_not_after, why, whylen)) != 0)
		goto out;
	/* Past the CA's own expiry the certificate could never verify. */
	if (spec.not_after > ca_not_after)
		spec.not_after = ca_not_after;

	r = HUSH_E_CRYPTO;
	if ((spec.subject = X509_NAME_new()) == NULL || (x = X509_new()) == NULL)
		goto out;
	if ((r = name_add(spec.subject, NID_organizationName, subject->o)) != 0 ||
	    (r = name_add(spec.subject, NID_organizationalUnitName,
	    subject->ou)) != 0 ||
	    (r = name_add(spec.subject, NID_commonName, subject->cn)) != 0 ||
	    (r = build_cert(x, &spec, pubkey, cacert, cakey)) != 0 ||
	    (r = x509_pem_encode(x, cert_pem, cert_len)) != 0) {
		x509_why(why, whylen, "cannot build certificate: %s",
		    hush_strerror(r));
		goto out;
	}
 out:
	X509_free(x);
	X509_NAME_free(spec.subject);
	X509_free(cacert);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(pubkey);
	ERR_clear_error();
	return r;
}
