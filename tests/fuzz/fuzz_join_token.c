/*
 * join_token_parse on arbitrary bytes: it must never crash, must leave a
 * printable message on failure, and whatever it accepts must format back
 * to exactly the input (the format has one spelling per token).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "join_token.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct join_token zero;
	struct join_token t, t2;
	char out[JOIN_TOKEN_LEN + 1], why[256], tiny[6];
	char *buf;
	int r;

	if ((buf = fuzz_exact_copy(data, size)) == NULL)
		return 0;

	r = join_token_parse(buf, size, &t, why, sizeof(why));
	/* A short message buffer changes nothing but the message. */
	if (join_token_parse(buf, size, &t2, tiny, sizeof(tiny)) != r ||
	    memchr(tiny, '\0', sizeof(tiny)) == NULL)
		abort();
	if (r != 0) {
		if (r < HUSH_E_MIN || memcmp(&t, &zero, sizeof(t)) != 0)
			abort();
		fuzz_check_why(why);
	} else {
		if (why[0] != '\0' || size != JOIN_TOKEN_LEN)
			abort();
		if (join_token_format(&t, out, sizeof(out)) != 0 ||
		    strlen(out) != JOIN_TOKEN_LEN ||
		    memcmp(out, buf, size) != 0)
			abort();
		if (memcmp(&t, &t2, sizeof(t)) != 0)
			abort();
	}
	free(buf);
	return 0;
}
