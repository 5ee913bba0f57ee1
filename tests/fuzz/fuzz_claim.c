/*
 * claim_parse on arbitrary bytes: it must never crash, must leave a
 * printable, NUL-terminated message on failure, and whatever it accepts
 * must format back to exactly the input (the format has one spelling per
 * claim).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "err.h"
#include "harness.h"
#include "id.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct claim zero;
	struct claim c, c2;
	uint8_t d[CLAIM_DIGEST_BYTES], d2[CLAIM_DIGEST_BYTES];
	char out[CLAIM_LEN + 1], why[256], tiny[6];
	char *buf;
	int r;

	if ((buf = fuzz_exact_copy(data, size)) == NULL)
		return 0;

	/* Poisoned, so a message left unterminated is caught. */
	memset(why, 'x', sizeof(why));
	r = claim_parse(buf, size, &c, why, sizeof(why));
	/* A short message buffer changes nothing but the message. */
	memset(tiny, 'x', sizeof(tiny));
	if (claim_parse(buf, size, &c2, tiny, sizeof(tiny)) != r ||
	    memchr(tiny, '\0', sizeof(tiny)) == NULL)
		abort();
	if (r != 0) {
		if (r < HUSH_E_MIN || memcmp(&c, &zero, sizeof(c)) != 0)
			abort();
		if (memchr(why, '\0', sizeof(why)) == NULL)
			abort();
		fuzz_check_why(why);
	} else {
		if (why[0] != '\0' || size != CLAIM_LEN)
			abort();
		if (!hush_id_valid(c.service_id))
			abort();
		if (claim_format(&c, out, sizeof(out)) != 0 ||
		    strlen(out) != CLAIM_LEN ||
		    memcmp(out, buf, size) != 0)
			abort();
		if (memcmp(&c, &c2, sizeof(c)) != 0)
			abort();
		/* The digest depends on the secret alone. */
		claim_digest(&c, d);
		memcpy(c2.service_id, "0000000000000000000000000",
		    sizeof(c2.service_id));
		claim_digest(&c2, d2);
		if (!claim_digest_equal(d, d2))
			abort();
		claim_wipe(&c);
		claim_wipe(&c2);
	}
	free(buf);
	return 0;
}
