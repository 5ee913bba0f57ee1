/*
 * Arbitrary bytes as a trust bundle and as a presented chain.  Splitting
 * must not crash or leak, and what it accepts must come back as pieces of
 * the input itself, in order, each one certificate, at most
 * X509_BUNDLE_MAX of them.  Chain verification sees the same bytes on
 * either side: the roots and the leaf below are made fresh for this run,
 * so no input can be a chain they verify, nor a bundle that vouches for
 * the leaf.
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

#define NOW		INT64_C(1700000000)
#define CA_LIFETIME	(UINT64_C(20) * 365 * 86400)
#define LEAF_LIFETIME	(UINT64_C(90) * 86400)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct secbuf ca_key;
static char *ca_pem, *leaf_pem;
static size_t ca_len, leaf_len;

static void
once(void)
{
	static const struct x509_subject sub = {
		.cn = "3xk9q0vz5m1d8c2w7e4r6t0yb",
		.ou = X509_OU_WORKER,
		.o = "k2j8d0s9f7g6h5a4s3d2f1g0z",
	};
	struct secbuf key = SECBUF_INIT;
	uint8_t *csr;
	size_t csrlen;

	if (ca_pem != NULL)
		return;
	if (sodium_init() < 0 ||
	    x509_ca_create(NOW, CA_LIFETIME, &ca_key, &ca_pem, &ca_len) != 0 ||
	    x509_key_generate(&key) != 0 || x509_csr_create(&key, &csr, &csrlen) != 0 ||
	    x509_csr_sign(csr, csrlen, &ca_key, ca_pem, ca_len, &sub, NOW, LEAF_LIFETIME,
	    &leaf_pem, &leaf_len, NULL, 0) != 0)
		abort();
	free(csr);
	secbuf_free(&key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *at, *from = in;
	struct x509_cert_info info;
	uint8_t spki[32];
	char why[512], *one;
	size_t n, i, len;
	int r;

	once();
	if ((r = x509_bundle_count(in, size, &n)) != 0) {
		if (r < HUSH_E_MIN || n != 0)
			abort();
		if (x509_bundle_get(in, size, 0, &one, &len) != r || one != NULL)
			abort();
	} else {
		if (n < 1 || n > X509_BUNDLE_MAX)
			abort();
		for (i = 0; i < n; i++) {
			if (x509_bundle_get(in, size, i, &one, &len) != 0 || one[len] != '\0')
				abort();
			/* A piece of the input, after the one before it. */
			if ((at = memmem(from, size - (size_t)(from - in), one, len)) == NULL)
				abort();
			from = at + len;
			if (x509_cert_info(one, len, &info) != 0)
				abort();
			free(one);
		}
		if (x509_bundle_get(in, size, n, &one, &len) != HUSH_E_RANGE || one != NULL)
			abort();
	}
	why[0] = '\0';
	if (x509_verify_chain(in, size, ca_pem, ca_len, NOW, spki, why, sizeof(why)) == 0 ||
	    why[0] == '\0')
		abort();
	why[0] = '\0';
	if (x509_verify_chain(leaf_pem, leaf_len, in, size, NOW, spki, why,
	    sizeof(why)) == 0 || why[0] == '\0')
		abort();
	return 0;
}
