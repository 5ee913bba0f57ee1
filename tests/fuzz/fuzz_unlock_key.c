/*
 * unlock_key_parse on arbitrary bytes: no crash, a printable message on
 * failure, a zeroed key on failure, and anything accepted formats back to
 * exactly the input (non-canonical base64 must have been rejected).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "unlock_key.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	return 0;
}

static void
check_why(const char *why)
{
	size_t i;

	if (why[0] == '\0')
		abort();
	for (i = 0; why[i] != '\0'; i++) {
		if (why[i] < 0x20 || why[i] > 0x7e)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[UNLOCK_KEY_BYTES];
	uint8_t key[UNLOCK_KEY_BYTES], key2[UNLOCK_KEY_BYTES];
	char out[UNLOCK_KEY_LEN + 1], why[256], tiny[6];
	char *buf;
	int r;

	/* Exactly size bytes, so ASan sees any read past the end. */
	if ((buf = malloc(size)) == NULL && size != 0)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);

	r = unlock_key_parse(buf, size, key, why, sizeof(why));
	if (unlock_key_parse(buf, size, key2, tiny, sizeof(tiny)) != r ||
	    memchr(tiny, '\0', sizeof(tiny)) == NULL)
		abort();
	if (r != 0) {
		if (r < HUSH_E_MIN || memcmp(key, zero, sizeof(key)) != 0)
			abort();
		check_why(why);
	} else {
		if (why[0] != '\0' || size != UNLOCK_KEY_LEN ||
		    memcmp(key, key2, sizeof(key)) != 0)
			abort();
		if (unlock_key_format(key, out, sizeof(out)) != 0 ||
		    strlen(out) != UNLOCK_KEY_LEN ||
		    memcmp(out, buf, size) != 0)
			abort();
	}
	sodium_memzero(key, sizeof(key));
	sodium_memzero(key2, sizeof(key2));
	free(buf);
	return 0;
}
