#include <malloc.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keyheap.h"
#include "log.h"

int
keyheap_init(void)
{
	int r;

	if (CRYPTO_secure_malloc_initialized())
		return 0;
	/* Allocations are powers of two from 32 bytes: a P-256 scalar is one. */
	r = CRYPTO_secure_malloc_init(KEYHEAP_BYTES, 32);
	if (r == 0) {
		log_err("cannot set up OpenSSL's secure heap for private keys");
		return HUSH_E_NOMEM;
	}
	if (r == 2)
		log_warn("the kernel would not lock the %u KiB heap for private keys "
		    "(RLIMIT_MEMLOCK spent): keys held by OpenSSL can be swapped out; "
		    "raise LimitMEMLOCK= in hushd's unit", KEYHEAP_BYTES / 1024);
	return 0;
}

size_t
keyheap_used(void)
{
	/* OpenSSL 3.0 dereferences a lock that only init creates. */
	if (!CRYPTO_secure_malloc_initialized())
		return 0;
	return CRYPTO_secure_used();
}

/*
 * OpenSSL copies key bytes through its ordinary heap as it decodes,
 * encodes and signs (a BIGNUM made from a DER octet string before it goes
 * into the key, say), and frees most of those copies without clearing
 * them.  With every free wiping, no such copy outlives its use.
 */
static void
wipe_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *
plain_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return malloc(n);
}

/* Never realloc(): it may move the bytes and leave the old copy behind. */
static void *
wipe_realloc(void *p, size_t n, const char *file, int line)
{
	size_t old;
	void *q;

	if (p == NULL)
		return plain_malloc(n, file, line);
	if (n == 0) {
		wipe_free(p, file, line);
		return NULL;
	}
	old = malloc_usable_size(p);
	if ((q = malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	wipe_free(p, file, line);
	return q;
}

int
keyheap_wipe_openssl_frees(void)
{
	if (!CRYPTO_set_mem_functions(plain_malloc, wipe_realloc, wipe_free))
		return HUSH_E_INVAL;
	return 0;
}
