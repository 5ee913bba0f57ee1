/*
 * A root the operator supplies (hushctl init / ca rotate --ca-cert,
 * --ca-key), or an external CA's root: everything hush needs of it
 * checked once, up front, with a reason the operator can act on, so that
 * nothing later -- signing leaves, building chains beside another root
 * named the same, verifying at every peer -- meets a surprise.  The key
 * comes in whatever form the operator's tools wrote it and leaves as
 * PKCS#8 DER in guarded memory; every copy of it on the way is wiped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "secbuf.h"
#define HUSH_X509_INTERNAL
#include "x509.h"

/* T_CA_KEY's bound: an RSA-4096 key as PKCS#1 or PKCS#8 PEM fits. */
#define SUPPLIED_KEY_MAX	8192

#define PEM_BEGIN		"-----BEGIN "
#define PEM_EC_PARAMS		"EC PARAMETERS"
#define PEM_PKCS8		"PRIVATE KEY"
#define PEM_PKCS8_ENCRYPTED	"ENCRYPTED PRIVATE KEY"
#define PEM_SEC1		"EC PRIVATE KEY"
#define PEM_PKCS1		"RSA PRIVATE KEY"

#define WHY_ENCRYPTED	"the key is encrypted: give it without a passphrase"

/* YYYY-MM-DDTHH:MM:SSZ, for the operator. */
static const char *
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t
count_certs(const char *pem, size_t len)
{
	const char *p = pem, *end = pem + len, *hit;
	size_t n = 0;

	while ((hit = memmem(p, (size_t)(end - p), "-----BEGIN CERTIFICATE-----",
	    27)) != NULL) {
		n++;
		p = hit + 27;
	}
	return n;
}

/* The certificate as one strict PEM certificate, or why not. */
static int
cert_decode(const char *pem, size_t len, X509 **x, char *why, size_t whylen)
{
	int r;

	if (pem == NULL || len == 0) {
		x509_why(why, whylen, "the certificate is empty");
		return HUSH_E_TRUNCATED;
	}
	if (len > X509_MAX_CERT_PEM) {
		x509_why(why, whylen, "the certificate file is larger than %d "
		    "bytes", X509_MAX_CERT_PEM);
		return HUSH_E_TOOBIG;
	}
	if ((r = x509_pem_decode(pem, len, x)) == 0)
		return 0;
	if (count_certs(pem, len) > 1)
		x509_why(why, whylen, "the file holds more than one certificate: "
		    "give the root certificate alone");
	else
		x509_why(why, whylen, "the certificate is not one PEM "
		    "certificate (-----BEGIN CERTIFICATE----- and nothing but "
		    "whitespace after its END line)");
	return r == HUSH_E_NOMEM ? r : HUSH_E_FORMAT;
}

/*
 * The chain checks OpenSSL makes of a trust anchor with the strict flags
 * every verifier in hush sets (basicConstraints critical, keyUsage and
 * subjectKeyIdentifier present, consistent signature algorithms, ...):
 * a root that fails them here would fail at every peer later.
 */
static int
strict_anchor(X509 *x, int64_t now, char *why, size_t whylen)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	int r = HUSH_E_CRYPTO;

	if ((store = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(store, x) ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, store, x, NULL))
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	if (!X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_CHECK_SS_SIGNATURE))
		goto out;
	X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
	r = HUSH_E_INVAL;
	if (X509_verify_cert(ctx) != 1) {
		x509_why(why, whylen, "the certificate fails the RFC 5280 checks "
		    "of a root: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	r = 0;
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

static int
cert_check(X509 *x, int64_t now, uint64_t min_life, char *why, size_t whylen)
{
	EVP_PKEY *pub;
	uint32_t flags = X509_get_extension_flags(x);
	int64_t nb, na;
	char desc[64], t[32];

	if ((flags & EXFLAG_INVALID) != 0) {
		x509_why(why, whylen, "the certificate has extensions that do not "
		    "decode, or one twice");
		return HUSH_E_FORMAT;
	}
	if ((flags & EXFLAG_CA) == 0) {
		x509_why(why, whylen, "not a CA certificate (no basicConstraints "
		    "CA:TRUE)");
		return HUSH_E_INVAL;
	}
	if (X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)) != 0) {
		x509_why(why, whylen, "the certificate is not self-signed (its "
		    "issuer is not its subject): give the root, not an "
		    "intermediate");
		return HUSH_E_INVAL;
	}
	if ((pub = X509_get0_pubkey(x)) == NULL) {
		x509_why(why, whylen, "the certificate's public key cannot be "
		    "decoded");
		return HUSH_E_FORMAT;
	}
	if (x509_ca_key_kind(pub, desc, sizeof(desc)) != 0) {
		x509_why(why, whylen, "the certificate's key is %s: a root's key "
		    "must be EC P-256 or P-384, or RSA of 2048 to 4096 bits", desc);
		return HUSH_E_INVAL;
	}
	if (X509_verify(x, pub) != 1) {
		x509_why(why, whylen, "the certificate's self-signature does not "
		    "verify");
		return HUSH_E_AUTH;
	}
	if ((flags & EXFLAG_KUSAGE) == 0 ||
	    (X509_get_key_usage(x) & KU_KEY_CERT_SIGN) == 0) {
		x509_why(why, whylen, "the certificate's keyUsage does not allow "
		    "keyCertSign");
		return HUSH_E_INVAL;
	}
	if (X509_get0_subject_key_id(x) == NULL) {
		x509_why(why, whylen, "the certificate has no "
		    "subjectKeyIdentifier: hush tells two roots of one name "
		    "apart by it");
		return HUSH_E_INVAL;
	}
	if (x509_time_get(X509_get0_notBefore(x), &nb) != 0 ||
	    x509_time_get(X509_get0_notAfter(x), &na) != 0) {
		x509_why(why, whylen, "the certificate has malformed dates");
		return HUSH_E_FORMAT;
	}
	if (now < nb) {
		x509_why(why, whylen, "the certificate is not valid until %s",
		    fmt_time(nb, t, sizeof(t)));
		return HUSH_E_RANGE;
	}
	if (now >= na) {
		x509_why(why, whylen, "the certificate expired at %s",
		    fmt_time(na, t, sizeof(t)));
		return HUSH_E_RANGE;
	}
	if ((uint64_t)(na - now) < min_life) {
		x509_why(why, whylen, "the certificate expires at %s, sooner than "
		    "%llu hours from now", fmt_time(na, t, sizeof(t)),
		    (unsigned long long)(min_life / 3600));
		return HUSH_E_RANGE;
	}
	return strict_anchor(x, now, why, whylen);
}

/* No passphrase prompt, ever: hush runs unattended. */
static int
no_passphrase(char *buf, size_t size, size_t *len, const OSSL_PARAM *params,
    void *arg)
{
	(void)buf; (void)size; (void)params; (void)arg;
	*len = 0;
	return 0;
}

/* DER of the given structure ("PrivateKeyInfo", "type-specific"), whole. */
static int
key_der_decode(const unsigned char *der, size_t len, const char *structure,
    const char *type, EVP_PKEY **out)
{
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = der;
	size_t left = len;
	int r = HUSH_E_FORMAT;

	*out = NULL;
	if ((dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", structure,
	    type, EVP_PKEY_KEYPAIR, NULL, NULL)) == NULL)
		return HUSH_E_CRYPTO;
	if (OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL) &&
	    OSSL_DECODER_from_data(dctx, &p, &left) && pkey != NULL &&
	    left == 0) {
		*out = pkey;
		pkey = NULL;
		r = 0;
	}
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	return r;
}

/* An EncryptedPrivateKeyInfo, so the refusal can say so. */
static bool
der_is_encrypted(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_SIG *sig;
	bool whole;

	if ((sig = d2i_X509_SIG(NULL, &p, (long)len)) == NULL)
		return false;
	whole = p == der + len;
	X509_SIG_free(sig);
	return whole;
}

/*
 * A PEM key: one block of a private key type, optionally after the EC
 * PARAMETERS block 'openssl ecparam -genkey' writes, and nothing but
 * whitespace after it.
 */
static int
key_pem_decode(const char *pem, size_t len, EVP_PKEY **out, char *why,
    size_t whylen)
{
	BIO *bio;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const char *structure, *type;
	long dlen = 0;
	int left, r = HUSH_E_FORMAT;
	bool skipped = false;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return HUSH_E_NOMEM;
	for (;;) {
		if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
			x509_why(why, whylen, "the key's PEM is malformed or "
			    "truncated");
			goto out;
		}
		if (skipped || strcmp(name, PEM_EC_PARAMS) != 0)
			break;
		skipped = true;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	if (strcmp(name, PEM_PKCS8_ENCRYPTED) == 0 ||
	    strstr(header, "ENCRYPTED") != NULL) {
		x509_why(why, whylen, WHY_ENCRYPTED);
		r = HUSH_E_INVAL;
		goto out;
	}
	if (strcmp(name, PEM_PKCS8) == 0) {
		structure = "PrivateKeyInfo";
		type = NULL;
	} else if (strcmp(name, PEM_SEC1) == 0) {
		structure = "type-specific";
		type = "EC";
	} else if (strcmp(name, PEM_PKCS1) == 0) {
		structure = "type-specific";
		type = "RSA";
	} else {
		x509_why(why, whylen, "the key file holds a PEM \"%.40s\", not a "
		    "private key", name);
		goto out;
	}
	if (*header != '\0' || dlen <= 0) {
		x509_why(why, whylen, "the key's PEM has headers or no data");
		goto out;
	}
	left = BIO_pending(bio);
	if (left < 0 || (size_t)left > len) {
		x509_why(why, whylen, "the key's PEM is malformed");
		goto out;
	}
	for (; left > 0; left--) {
		if (!is_space(pem[len - (size_t)left])) {
			x509_why(why, whylen, "the key file has more after the key");
			goto out;
		}
	}
	if ((r = key_der_decode(data, (size_t)dlen, structure, type, out)) != 0)
		x509_why(why, whylen, "the key's PEM \"%s\" does not decode as "
		    "one", name);
 out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	if (data != NULL)
		OPENSSL_clear_free(data, (size_t)(dlen > 0 ? dlen : 0));
	BIO_free(bio);
	return r;
}

static int
key_decode(const uint8_t *key, size_t keylen, EVP_PKEY **out, char *why,
    size_t whylen)
{
	size_t off = 0;
	int r;

	*out = NULL;
	if (key == NULL || keylen == 0) {
		x509_why(why, whylen, "the key is empty");
		return HUSH_E_TRUNCATED;
	}
	if (keylen > SUPPLIED_KEY_MAX) {
		x509_why(why, whylen, "the key file is larger than %d bytes",
		    SUPPLIED_KEY_MAX);
		return HUSH_E_TOOBIG;
	}
	while (off < keylen && is_space((char)key[off]))
		off++;
	if (keylen - off >= strlen(PEM_BEGIN) &&
	    memcmp(key + off, PEM_BEGIN, strlen(PEM_BEGIN)) == 0) {
		if (memchr(key, '\0', keylen) != NULL) {
			x509_why(why, whylen, "the key's PEM has a NUL byte");
			return HUSH_E_FORMAT;
		}
		return key_pem_decode((const char *)key, keylen, out, why,
		    whylen);
	}
	if (der_is_encrypted(key, keylen)) {
		x509_why(why, whylen, WHY_ENCRYPTED);
		return HUSH_E_INVAL;
	}
	if ((r = key_der_decode(key, keylen, "PrivateKeyInfo", NULL, out)) != 0)
		x509_why(why, whylen, "the key is neither PEM nor PKCS#8 DER");
	return r;
}

/* The private half must be the public half's: check before signing with it. */
static bool
key_consistent(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx;
	bool ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return false;
	ok = EVP_PKEY_pairwise_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

int
x509_ca_check_supplied(const char *cert_pem, size_t cert_len,
    const uint8_t *key, size_t keylen, int64_t now, uint64_t min_life,
    struct secbuf *key_der, char *why, size_t whylen)
{
	struct x509_cert_info info;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	int r;

	if (key_der != NULL) {
		key_der->p = NULL;
		key_der->len = 0;
	}
	x509_why(why, whylen, "%s", "");
	if ((r = cert_decode(cert_pem, cert_len, &x, why, whylen)) != 0 ||
	    (r = cert_check(x, now, min_life, why, whylen)) != 0)
		goto out;
	/* What every process will read of it: names it can print. */
	if ((r = x509_cert_info(cert_pem, cert_len, &info)) != 0) {
		x509_why(why, whylen, "the certificate's names are not printable "
		    "ASCII of at most %d characters each, or repeat", X509_NAME_MAX);
		goto out;
	}
	if (key == NULL && keylen == 0)
		goto out;	/* an external CA's root: no key to check */
	if (key_der == NULL) {
		r = HUSH_E_INVAL;
		goto out;
	}
	if ((r = key_decode(key, keylen, &pkey, why, whylen)) != 0)
		goto out;
	if (X509_check_private_key(x, pkey) != 1) {
		x509_why(why, whylen, "the key does not belong to this certificate");
		r = HUSH_E_INVAL;
		goto out;
	}
	if (!key_consistent(pkey)) {
		x509_why(why, whylen, "the key is damaged: its private and public "
		    "halves do not agree");
		r = HUSH_E_INVAL;
		goto out;
	}
	if ((r = x509_key_encode(pkey, key_der)) != 0)
		x509_why(why, whylen, "cannot re-encode the key: %s",
		    hush_strerror(r));
 out:
	if (r != 0 && key_der != NULL)
		secbuf_free(key_der);
	EVP_PKEY_free(pkey);
	X509_free(x);
	ERR_clear_error();
	return r;
}
