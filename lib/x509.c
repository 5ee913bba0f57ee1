/*
 * Pieces shared by the X.509 code: moving keys between PKCS#8 DER in
 * guarded memory and OpenSSL objects, the P-256 policy check, and strict
 * single-certificate PEM decoding.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "err.h"
#include "secbuf.h"
#define HUSH_X509_INTERNAL
#include "x509.h"

/* A PKCS#8 P-256 key is ~140 bytes; anything far larger is not ours. */
#define KEY_DER_MAX	1024
/* A CA's may be an operator's RSA-4096 key: ~2400 bytes as PKCS#8 DER. */
#define CA_KEY_DER_MAX	4096
#define RSA_BITS_MIN	2048
#define RSA_BITS_MAX	4096

#define PEM_CERT_BEGIN	"-----BEGIN CERTIFICATE-----"

void
x509_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Proleptic Gregorian calendar date to days since 1970-01-01. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * timegm() would do, but its -1 error return is also a valid instant and
 * it drags in the C library's idea of time_t; the arithmetic is short.
 */
int
x509_time_get(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return HUSH_E_FORMAT;
	*out = days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday) * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 +
	    tm.tm_sec;
	return 0;
}

int
x509_key_new(struct evp_pkey_st **out)
{
	*out = EVP_EC_gen("P-256");
	return *out == NULL ? HUSH_E_CRYPTO : 0;
}

/*
 * Named-curve encoding is required as well as the curve: RFC 5480 forbids
 * explicit parameters, and a key carrying them would be copied into the
 * certificates we issue.
 */
bool
x509_key_is_p256(const struct evp_pkey_st *pkey)
{
	char name[64], enc[32];
	size_t len;

	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "EC"))
		return false;
	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING,
	    enc, sizeof(enc), &len) ||
	    strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) != 0)
		return false;
	if (!EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len))
		return false;
	return OBJ_txt2nid(name) == NID_X9_62_prime256v1;
}

/*
 * PKCS#8 DER straight from guarded memory (no copy of ours to wipe) into a
 * key of the given OpenSSL type (NULL: any), at most max bytes, nothing
 * after it, and one that ok() takes.
 */
static int
key_decode_as(const struct secbuf *key_der, const char *type, size_t max,
    bool (*ok)(const EVP_PKEY *), struct evp_pkey_st **out)
{
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p;
	size_t left;
	int r = HUSH_E_FORMAT;

	*out = NULL;
	if (key_der == NULL || key_der->p == NULL || key_der->len == 0)
		return HUSH_E_INVAL;
	if (key_der->len > max)
		return HUSH_E_TOOBIG;
	p = key_der->p;
	left = key_der->len;
	if ((dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER",
	    "PrivateKeyInfo", type, EVP_PKEY_KEYPAIR, NULL, NULL)) == NULL)
		return HUSH_E_CRYPTO;
	if (!OSSL_DECODER_from_data(dctx, &p, &left) || pkey == NULL ||
	    left != 0)
		goto out;
	if (!ok(pkey)) {
		r = HUSH_E_INVAL;
		goto out;
	}
	*out = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	return r;
}

int
x509_key_decode(const struct secbuf *key_der, struct evp_pkey_st **out)
{
	return key_decode_as(key_der, "EC", KEY_DER_MAX, x509_key_is_p256, out);
}

/*
 * The keys a root may have: hush's own roots are P-256, and an operator's
 * may also be P-384 or RSA of 2048 to 4096 bits -- what common CAs use and
 * what every TLS stack verifies.  Anything else is refused with what it
 * is in desc, for the operator to read ("RSA-1024", "EC secp521r1",
 * "ED25519").
 */
int
x509_ca_key_kind(const struct evp_pkey_st *pkey, char *desc, size_t desclen)
{
	char name[64], enc[32];
	size_t len;
	int bits, nid;

	x509_why(desc, desclen, "%s", "an unknown kind of key");
	if (pkey == NULL)
		return HUSH_E_INVAL;
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		bits = EVP_PKEY_get_bits(pkey);
		x509_why(desc, desclen, "RSA-%d", bits);
		return bits >= RSA_BITS_MIN && bits <= RSA_BITS_MAX ? 0 :
		    HUSH_E_INVAL;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (!EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len)) {
			x509_why(desc, desclen, "EC with explicit curve parameters");
			return HUSH_E_INVAL;
		}
		x509_why(desc, desclen, "EC %s", name);
		/* RFC 5480: named curves only, as for node keys. */
		if (!EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof(enc), &len) ||
		    strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) != 0) {
			x509_why(desc, desclen, "EC with explicit curve parameters");
			return HUSH_E_INVAL;
		}
		nid = OBJ_txt2nid(name);
		return nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 ?
		    0 : HUSH_E_INVAL;
	}
	x509_why(desc, desclen, "%s", EVP_PKEY_get0_type_name(pkey) != NULL ?
	    EVP_PKEY_get0_type_name(pkey) : "an unknown kind of key");
	return HUSH_E_INVAL;
}

/* SHA-384 for a P-384 key, as its strength asks; SHA-256 for the rest. */
const struct evp_md_st *
x509_ca_md(const struct evp_pkey_st *pkey)
{
	char name[64];
	size_t len;

	if (EVP_PKEY_is_a(pkey, "EC") &&
	    EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len) &&
	    OBJ_txt2nid(name) == NID_secp384r1)
		return EVP_sha384();
	return EVP_sha256();
}

static bool
ca_key_ok(const EVP_PKEY *pkey)
{
	return x509_ca_key_kind(pkey, NULL, 0) == 0;
}

/* x509_key_decode() for a CA's key: any kind x509_ca_key_kind() takes. */
int
x509_ca_key_decode(const struct secbuf *key_der, struct evp_pkey_st **out)
{
	return key_decode_as(key_der, NULL, CA_KEY_DER_MAX, ca_key_ok, out);
}

int
x509_key_encode(struct evp_pkey_st *pkey, struct secbuf *key_der)
{
	OSSL_ENCODER_CTX *ectx = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	int r = HUSH_E_CRYPTO;

	if ((ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR,
	    "DER", "PrivateKeyInfo", NULL)) == NULL ||
	    !OSSL_ENCODER_to_data(ectx, &der, &len) || der == NULL)
		goto out;
	r = secbuf_dup(key_der, der, len);
 out:
	/* OpenSSL hands back ordinary heap: wipe our copy of the key. */
	if (der != NULL)
		OPENSSL_clear_free(der, len);
	OSSL_ENCODER_CTX_free(ectx);
	return r;
}

static bool
only_space(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	}
	return true;
}

/*
 * PEM_read_bio() skips any text before a BEGIN line and stops after the
 * first END line, so on its own it would accept junk around the certificate
 * or ignore a second one.  Pin both ends so the same bytes can only ever
 * mean one certificate.
 */
int
x509_pem_decode(const char *pem, size_t len, struct x509_st **out)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	long dlen = 0;
	size_t off = 0;
	int left, r = HUSH_E_FORMAT;

	*out = NULL;
	if (pem == NULL || len == 0) {
		r = HUSH_E_TRUNCATED;
		goto out;
	}
	if (len > X509_MAX_CERT_PEM) {
		r = HUSH_E_TOOBIG;
		goto out;
	}
	if (memchr(pem, '\0', len) != NULL)
		goto out;
	while (off < len && (pem[off] == '\n' || pem[off] == '\r'))
		off++;
	if (len - off < strlen(PEM_CERT_BEGIN) ||
	    memcmp(pem + off, PEM_CERT_BEGIN, strlen(PEM_CERT_BEGIN)) != 0)
		goto out;

	if ((bio = BIO_new_mem_buf(pem + off, (int)(len - off))) == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	if (!PEM_read_bio(bio, &name, &header, &data, &dlen))
		goto out;
	/* A header means Proc-Type/DEK-Info: never valid for a certificate. */
	if (strcmp(name, PEM_STRING_X509) != 0 || *header != '\0' || dlen <= 0)
		goto out;
	left = BIO_pending(bio);
	if (left < 0 || (size_t)left > len - off ||
	    !only_space(pem + len - left, (size_t)left))
		goto out;
	p = data;
	if ((x = d2i_X509(NULL, &p, dlen)) == NULL || p != data + dlen)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
 out:
	X509_free(x);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return r;
}

int
x509_pem_encode(struct x509_st *x, char **pem, size_t *len)
{
	BIO *bio = NULL;
	char *mem, *s = NULL;
	long n;
	int r = HUSH_E_CRYPTO;

	*pem = NULL;
	*len = 0;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bio, x))
		goto out;
	if ((n = BIO_get_mem_data(bio, &mem)) <= 0 || n > X509_MAX_CERT_PEM)
		goto out;
	if ((s = malloc((size_t)n + 1)) == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	memcpy(s, mem, (size_t)n);
	s[n] = '\0';
	*pem = s;
	*len = (size_t)n;
	r = 0;
 out:
	BIO_free(bio);
	return r;
}

int
x509_key_generate(struct secbuf *key_der)
{
	EVP_PKEY *pkey = NULL;
	int r;

	key_der->p = NULL;
	key_der->len = 0;
	if ((r = x509_key_new(&pkey)) != 0)
		goto out;
	r = x509_key_encode(pkey, key_der);
 out:
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}
