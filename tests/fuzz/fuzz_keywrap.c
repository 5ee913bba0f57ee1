/*
 * libFuzzer harness for lib/keywrap.c: keywrap_open() with a fixed node key
 * on arbitrary bytes must never crash or leak, must refuse with one of the
 * documented codes leaving no plaintext and an empty OpenSSL error queue,
 * must open under at most one purpose, and whatever it opens must survive
 * sealing to the same key's CSR and opening again.
 *
 * The key is a constant so that the seed corpus (blobs sealed to it: 32,
 * 64, 0 and KEYWRAP_MAX bytes under each purpose, plus one sealed to
 * another key, version 2, truncated and off-curve variants) starts the
 * fuzzer on the success path.  It is a test key and protects nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <sodium.h>

#include "err.h"
#include "keywrap.h"
#include "secbuf.h"
#include "x509.h"

#define FILL	0xa5

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* PKCS#8 DER of a P-256 key made once with x509_key_generate(). */
static const uint8_t key_der[] = {
	0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86,
	0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
	0xaf, 0xc7, 0x49, 0x4c, 0x49, 0x34, 0x3f, 0x22, 0x9d, 0xd3, 0x15, 0x82,
	0xf5, 0xe7, 0x08, 0xf4, 0x47, 0x99, 0xda, 0x00, 0x05, 0x6a, 0x42, 0x9a,
	0x72, 0x2c, 0xcf, 0x57, 0x2a, 0x71, 0x28, 0xbd, 0xa1, 0x44, 0x03, 0x42,
	0x00, 0x04, 0x98, 0x15, 0xca, 0xba, 0x6a, 0x1d, 0x45, 0x5b, 0x0d, 0x9a,
	0xb8, 0xbc, 0xa7, 0xb4, 0x7c, 0xd5, 0x4a, 0xd4, 0x53, 0xd3, 0x3e, 0x3b,
	0x98, 0xd5, 0x25, 0x99, 0x85, 0x31, 0xaf, 0xc6, 0x79, 0xc5, 0x7d, 0xb9,
	0x54, 0x1e, 0xd4, 0x8b, 0x9e, 0x33, 0x97, 0x20, 0x3d, 0xc5, 0x89, 0x6c,
	0x35, 0xa1, 0x58, 0x0d, 0x7c, 0xc7, 0x86, 0x0f, 0xee, 0xef, 0x6b, 0x93,
	0x9a, 0xdf, 0x93, 0xea, 0x57, 0x33,
};

static const char *purposes[] = { "hush/join-dek", "hush/join-kek" };

static struct secbuf key = SECBUF_INIT;
static uint8_t *csr;
static size_t csr_len;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 ||
	    secbuf_dup(&key, key_der, sizeof(key_der)) != 0 ||
	    x509_csr_create(&key, &csr, &csr_len) != 0)
		abort();
	return 0;
}

static int
no_plaintext(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != FILL && p[i] != 0)
			return 0;
	}
	return 1;
}

/* What opened must go round again: seal to our CSR, open, compare. */
static void
reseal(const char *purpose, const uint8_t *pt, size_t ptlen)
{
	uint8_t blob[KEYWRAP_BLOB_MAX], back[KEYWRAP_MAX];
	size_t blen, backlen;

	if (keywrap_seal_to_csr(csr, csr_len, purpose, pt, ptlen, blob,
	    sizeof(blob), &blen) != 0 || blen != ptlen + KEYWRAP_OVERHEAD ||
	    keywrap_open(&key, purpose, blob, blen, back, sizeof(back),
	    &backlen) != 0 || backlen != ptlen ||
	    (ptlen > 0 && memcmp(back, pt, ptlen) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out;
	size_t i, cap, outlen, opened = 0;
	int r, first = 0;

	/* Exactly the plaintext size, so ASan sees any write past it. */
	cap = size > KEYWRAP_OVERHEAD ? size - KEYWRAP_OVERHEAD : 0;
	if ((out = malloc(cap + 1)) == NULL)
		return 0;
	for (i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++) {
		memset(out, FILL, cap);
		outlen = 12345;
		r = keywrap_open(&key, purposes[i], data, size, out, cap,
		    &outlen);
		if (ERR_peek_error() != 0)
			abort();
		if (r == 0) {
			if (outlen != cap || size < KEYWRAP_OVERHEAD ||
			    size > KEYWRAP_BLOB_MAX)
				abort();
			reseal(purposes[i], out, outlen);
			opened++;
			continue;
		}
		if (outlen != 0 || !no_plaintext(out, cap))
			abort();
		switch (r) {
		case HUSH_E_TRUNCATED:
		case HUSH_E_VERSION:
		case HUSH_E_TOOBIG:
		case HUSH_E_FORMAT:
			/* Judged before the purpose matters: same for all. */
			if (i > 0 && r != first)
				abort();
			break;
		case HUSH_E_AUTH:
			if (i > 0 && first != 0 && first != HUSH_E_AUTH)
				abort();
			break;
		default:
			abort();
		}
		if (i == 0)
			first = r;
	}
	if (opened > 1)
		abort();
	free(out);
	return 0;
}
