/*
 * unlock_key_parse on arbitrary bytes: no crash, a printable message on
 * failure, a zeroed key on failure, and anything accepted formats back to
 * exactly the input (non-canonical base64 must have been rejected).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "unlock_key.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[UNLOCK_KEY_BYTES];
	uint8_t key[UNLOCK_KEY_BYTES], key2[UNLOCK_KEY_BYTES];
	char out[UNLOCK_KEY_LEN + 1], why[256], tiny[6];
	char *buf;
	int r;

	if ((buf = fuzz_exact_copy(data, size)) == NULL)
		return 0;

	r = unlock_key_parse(buf, size, key, why, sizeof(why));
	if (unlock_key_parse(buf, size, key2, tiny, sizeof(tiny)) != r ||
	    memchr(tiny, '\0', sizeof(tiny)) == NULL)
		abort();
	if (r != 0) {
		if (r < HUSH_E_MIN || memcmp(key, zero, sizeof(key)) != 0)
			abort();
		fuzz_check_why(why);
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
