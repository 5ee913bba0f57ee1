/*
 * Unit tests for lib/keyheap.c: once the secure heap exists, the private
 * keys OpenSSL holds for us (made, or decoded from DER in guarded memory)
 * are on locked pages only.  Checked by searching this process's own
 * memory for the key's scalar, in both byte orders (OpenSSL keeps it as
 * little-endian words), and asking /proc/self/smaps about every page it
 * is found on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <unistd.h>

#include "keyheap.h"
#include "lockmem.h"
#include "secbuf.h"
#define HUSH_X509_INTERNAL	/* the key helpers the daemon uses */
#include "x509.h"

struct range {
	unsigned long	lo, hi;
	int		readable, locked;
	char		name[64];
};

static size_t
read_maps(struct range *r, size_t max)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512], perms[8];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3) {
			assert_true(n < max);
			memset(&r[n], 0, sizeof(r[n]));
			r[n].lo = lo;
			r[n].hi = hi;
			r[n].readable = perms[0] == 'r';
			if (strchr(line, '[') != NULL)
				snprintf(r[n].name, sizeof(r[n].name), "%s", strchr(line, '['));
			else if (strchr(line, '/') != NULL)
				snprintf(r[n].name, sizeof(r[n].name), "/file");
			n++;
		} else if (n > 0 && strncmp(line, "VmFlags:", 8) == 0) {
			r[n - 1].locked = strstr(line, " lo") != NULL;
		}
	}
	fclose(f);
	return n;
}

#define SCAN_CHUNK	(1024u * 1024)
#define SCAN_SKIP	(1024ul * 1024 * 1024)	/* a sanitizer's shadow */

/*
 * Copies of pat[0..len) in this process: *unlocked gets those not locked.
 * Memory is read through /proc/self/mem into a locked scratch buffer, not
 * touched in place: a page that cannot be read then fails the read rather
 * than the process, and AddressSanitizer does not object to its shadow.
 */
static int
find_copies(const uint8_t *pat, size_t len, int *unlocked)
{
	static struct range r[4096];
	size_t n = read_maps(r, 4096), i;
	uint8_t *buf;
	int found = 0, fd;

	*unlocked = 0;
	buf = lockmem_alloc(SCAN_CHUNK);
	assert_non_null(buf);
	assert_true((fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC)) >= 0);
	for (i = 0; i < n; i++) {
		unsigned long at;

		/*
		 * Anonymous memory, heap and stack: where keys can be.  The
		 * scratch buffer is skipped: it holds what it last read.
		 */
		if (!r[i].readable || r[i].hi - r[i].lo > SCAN_SKIP ||
		    ((unsigned long)buf >= r[i].lo && (unsigned long)buf < r[i].hi) ||
		    (r[i].name[0] != '\0' && strcmp(r[i].name, "[heap]\n") != 0 &&
		    strcmp(r[i].name, "[stack]\n") != 0))
			continue;
		/* Chunks overlap by len - 1 so that no copy straddles two unseen. */
		for (at = r[i].lo; at < r[i].hi; at += SCAN_CHUNK - (len - 1)) {
			size_t want = r[i].hi - at < SCAN_CHUNK ? r[i].hi - at : SCAN_CHUNK;
			ssize_t got = pread(fd, buf, want, (off_t)at);
			const uint8_t *p = buf, *end;

			if (got < (ssize_t)len)
				break;
			end = buf + got;
			while ((p = memmem(p, (size_t)(end - p), pat, len)) != NULL) {
				found++;
				if (!r[i].locked)
					(*unlocked)++;
				if (++p >= end)
					break;
			}
			if ((size_t)got < want || at + (size_t)got >= r[i].hi)
				break;
		}
	}
	close(fd);
	lockmem_free(buf);	/* wipes */
	return found;
}

/* The scalar of pkey, big-endian and reversed, in guarded memory. */
static void
scalar_of(EVP_PKEY *pkey, struct secbuf *be, struct secbuf *le)
{
	BIGNUM *d = NULL;
	size_t i;

	assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
	assert_int_equal(secbuf_alloc(be, 32), 0);
	assert_int_equal(secbuf_alloc(le, 32), 0);
	assert_int_equal(BN_bn2binpad(d, be->p, 32), 32);
	BN_clear_free(d);
	for (i = 0; i < 32; i++)
		le->p[i] = be->p[31 - i];
}

static void
test_keys_on_locked_pages(void **state)
{
	struct secbuf be = SECBUF_INIT, le = SECBUF_INIT, der = SECBUF_INIT;
	EVP_PKEY *pkey = NULL, *again = NULL;
	size_t before;
	int unlocked, n;

	(void)state;
	assert_int_equal(keyheap_init(), 0);
	assert_int_equal(keyheap_init(), 0);		/* once is enough */
	before = keyheap_used();

	assert_int_equal(x509_key_new(&pkey), 0);
	assert_true(keyheap_used() > before);
	scalar_of(pkey, &be, &le);
	n = find_copies(le.p, 32, &unlocked);
	/* At least OpenSSL's own copy beside ours. */
	assert_true(n >= 2);
	assert_int_equal(unlocked, 0);
	n = find_copies(be.p, 32, &unlocked);
	assert_int_equal(unlocked, 0);

	/* A key decoded from guarded memory, as net and pki load theirs. */
	assert_int_equal(x509_key_encode(pkey, &der), 0);
	EVP_PKEY_free(pkey);
	pkey = NULL;
	assert_int_equal(x509_key_decode(&der, &again), 0);
	n = find_copies(le.p, 32, &unlocked);
	assert_true(n >= 2);
	assert_int_equal(unlocked, 0);
	(void)find_copies(be.p, 32, &unlocked);
	assert_int_equal(unlocked, 0);

	/* Freed, the scalar is gone from the secure heap too (wiped). */
	EVP_PKEY_free(again);
	n = find_copies(le.p, 32, &unlocked);
	assert_int_equal(n, 1);		/* ours */
	secbuf_free(&der);
	secbuf_free(&be);
	secbuf_free(&le);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_on_locked_pages),
	};

	if (keyheap_wipe_openssl_frees() != 0 || sodium_init() < 0)
		return 1;

	return cmocka_run_group_tests(tests, NULL, NULL);
}
