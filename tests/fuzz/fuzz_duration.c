/*
 * duration_parse on arbitrary text: no crash, a printable message on
 * failure, and parse(format(parse(s))) == parse(s).  The first 8 bytes are
 * also used as a number to check format -> parse for any 64-bit value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "err.h"
#include "harness.h"

static void
check_roundtrip(uint64_t v)
{
	char out[DURATION_STR_MAX];
	uint64_t back;

	if (duration_format(v, out, sizeof(out)) != 0 ||
	    duration_parse(out, &back, NULL, 0) != 0 || back != v)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	uint64_t v, n;
	size_t i;
	char *buf;
	int r;

	if ((buf = fuzz_cstring(data, size)) == NULL)
		return 0;

	r = duration_parse(buf, &v, why, sizeof(why));
	if (r != 0) {
		if (r < HUSH_E_MIN || v != 0)
			abort();
		fuzz_check_why(why);
	} else {
		/* Only digits and the four units can have been accepted. */
		for (i = 0; buf[i] != '\0'; i++) {
			if (strchr("0123456789dhms", buf[i]) == NULL)
				abort();
		}
		if (why[0] != '\0')
			abort();
		check_roundtrip(v);
	}

	if (size >= sizeof(n)) {
		memcpy(&n, data, sizeof(n));
		check_roundtrip(n);
	}
	free(buf);
	return 0;
}
