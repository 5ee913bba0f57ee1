/*
 * join_token_parse on arbitrary bytes: it must never crash, must leave a
 * printable message on failure, and whatever it accepts must format back
 * to exactly the input (the format has one spelling per token).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "join_token.h"

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
	static const struct join_token zero;
	struct join_token t, t2;
	char out[JOIN_TOKEN_LEN + 1], why[256], tiny[6];
	char *buf;
	int r;

	/* Exactly size bytes, so ASan sees any read past the end. */
	if ((buf = malloc(size)) == NULL && size != 0)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);

	r = join_token_parse(buf, size, &t, why, sizeof(why));
	/* A short message buffer changes nothing but the message. */
	if (join_token_parse(buf, size, &t2, tiny, sizeof(tiny)) != r ||
	    memchr(tiny, '\0', sizeof(tiny)) == NULL)
		abort();
	if (r != 0) {
		if (r < HUSH_E_MIN || memcmp(&t, &zero, sizeof(t)) != 0)
			abort();
		check_why(why);
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
