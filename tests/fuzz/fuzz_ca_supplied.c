/*
 * Arbitrary bytes as an operator's root and key (hushctl init / ca rotate
 * --ca-cert, --ca-key) into x509_ca_check_supplied().  The input is the
 * certificate, then a NUL, then the key (no NUL: the certificate alone,
 * as for an external CA).  Nothing may crash or leak; every refusal must
 * say why and return no key; whatever is accepted must be a CA the key
 * really belongs to, returned as a key the CA code can sign with.
 *
 * The seeds (corpus/ca_supplied) were made with the openssl CLI in
 * December 2026, valid ten years:
 *   openssl ecparam -name prime256v1 -genkey -noout -out ec.pem
 *   openssl req -x509 -new -key ec.pem -subj "/CN=Operator Root" -days 3650
 *     -sha256 -addext "basicConstraints=critical,CA:TRUE"
 *     -addext "keyUsage=critical,keyCertSign,cRLSign" -out ec.crt
 *   (likewise an RSA-2048 root from openssl genrsa), then each seed is
 *   the certificate, a NUL and the key as SEC1 PEM, PKCS#8 PEM and DER
 *   (openssl pkcs8 -topk8 -nocrypt [-outform DER]), PKCS#1 PEM (openssl
 *   rsa -traditional) or encrypted (openssl pkcs8 -topk8 -passout), or
 *   the certificate alone, or two certificates.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "secbuf.h"
#include "x509.h"

/* Inside the seeds' validity (2026-12 to 2036-12). */
#define NOW		INT64_C(1811808000)	/* 2027-06-01 */
#define MIN_LIFE	UINT64_C(86400)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secbuf key = SECBUF_INIT;
	struct x509_cert_info info;
	const uint8_t *sep;
	const uint8_t *k = NULL;
	size_t cert_len = size, klen = 0;
	char why[512];
	int r;

	if (sodium_init() < 0)
		abort();
	if ((sep = memchr(data, '\0', size)) != NULL) {
		cert_len = (size_t)(sep - data);
		k = sep + 1;
		klen = size - cert_len - 1;
	}
	why[0] = '\0';
	r = x509_ca_check_supplied((const char *)data, cert_len, k, klen, NOW,
	    MIN_LIFE, &key, why, sizeof(why));
	if (r != 0) {
		if (r < HUSH_E_MIN || why[0] == '\0' || key.p != NULL ||
		    key.len != 0)
			abort();
		return 0;
	}
	if (why[0] != '\0')
		abort();
	if (x509_cert_info((const char *)data, cert_len, &info) != 0 ||
	    !info.is_ca || info.not_after - NOW < (int64_t)MIN_LIFE)
		abort();
	if (k != NULL) {
		if (key.p == NULL ||
		    !x509_ca_matches_key((const char *)data, cert_len, &key))
			abort();
	} else if (key.p != NULL) {
		abort();
	}
	secbuf_free(&key);
	return 0;
}
