/*
 * libFuzzer harness for lib/seal.c: seal_open() with a fixed key on
 * arbitrary bytes must never crash, must open under at most one purpose, and
 * must leave no plaintext behind when it fails.  The seed corpus holds real
 * records sealed with this key (bytes 0x00..0x1f), one per purpose,
 * so mutations start from the success path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "seal.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *purposes[] = {
	"hush/raft-entry", "hush/snapshot", "hush/keyfile", "hush/secret-value",
};

static uint8_t key[SEAL_KEY_BYTES];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	return 0;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != 0)
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out, kid;
	size_t i, cap, outlen, opened = 0;
	int r, pr;

	/* Exactly the plaintext size, so ASan sees any write past it. */
	cap = size > SEAL_OVERHEAD ? size - SEAL_OVERHEAD : 0;
	if ((out = malloc(cap + 1)) == NULL)
		return 0;
	pr = seal_peek_key_id(data, size, &kid);
	for (i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++) {
		memset(out, 0xa5, cap);
		outlen = 12345;
		r = seal_open(key, purposes[i], data, size, out, cap, &outlen);
		if (r == 0) {
			if (pr != 0 || outlen != cap || kid != data[1])
				abort();
			opened++;
			continue;
		}
		if (outlen != 0)
			abort();
		if (r != HUSH_E_AUTH && r != HUSH_E_VERSION && r != HUSH_E_TRUNCATED)
			abort();
		if (r == HUSH_E_AUTH && (pr != 0 || !all_zero(out, cap)))
			abort();
		if (r != HUSH_E_AUTH && r != pr)
			abort();
	}
	if (opened > 1)
		abort();
	/* One byte short of the room needed is refused before decrypting. */
	if (pr == 0 && cap > 0 && seal_open(key, purposes[0], data, size, out,
	    cap - 1, &outlen) != HUSH_E_TOOBIG)
		abort();
	free(out);
	return 0;
}
