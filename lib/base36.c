#include <sodium.h>
#include <string.h>

#include "base36.h"
#include "err.h"

static const char base36_digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* Explicit ranges rather than ctype: the locale must not widen the alphabet. */
static int
base36_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	return -1;
}

int
base36_encode(const uint8_t *in, size_t inlen, size_t width, char *out,
    size_t outcap)
{
	uint8_t num[BASE36_MAX_BYTES];
	size_t i, first, pos;
	unsigned int rem;
	int r = 0;

	if (out == NULL || (in == NULL && inlen != 0))
		return HUSH_E_INVAL;
	/* Written as width >= outcap so width == SIZE_MAX cannot wrap. */
	if (width >= outcap || inlen > sizeof(num)) {
		if (outcap > 0)
			out[0] = '\0';
		return HUSH_E_TOOBIG;
	}
	if (inlen > 0)
		memcpy(num, in, inlen);

	/*
	 * Schoolbook long division by 36, least significant digit first;
	 * `first` skips the leading zero bytes so short values finish early.
	 */
	first = 0;
	for (pos = width; pos > 0; pos--) {
		while (first < inlen && num[first] == 0)
			first++;
		rem = 0;
		for (i = first; i < inlen; i++) {
			rem = (rem << 8) | num[i];
			num[i] = (uint8_t)(rem / 36);
			rem %= 36;
		}
		out[pos - 1] = base36_digits[rem];
	}
	while (first < inlen && num[first] == 0)
		first++;
	if (first < inlen)
		r = HUSH_E_RANGE;

	/* Callers encode secrets with this, so neither copy may linger. */
	sodium_memzero(num, sizeof(num));
	if (r != 0) {
		sodium_memzero(out, width);
		out[0] = '\0';
		return r;
	}
	out[width] = '\0';
	return 0;
}

int
base36_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	size_t i, j;
	unsigned int acc;
	int r;

	if ((in == NULL && inlen != 0) || (out == NULL && outlen != 0))
		return HUSH_E_INVAL;
	if (outlen > 0)
		memset(out, 0, outlen);
	if (inlen == 0)
		return HUSH_E_FORMAT;
	/*
	 * Alphabet first, so a bad character is reported as such whatever
	 * the value would have been.
	 */
	for (i = 0; i < inlen; i++) {
		if (base36_value(in[i]) < 0)
			return HUSH_E_ENCODING;
	}

	r = 0;
	for (i = 0; i < inlen && r == 0; i++) {
		/*
		 * out = out * 36 + digit, carrying up from the least
		 * significant byte; a carry out of the top byte is overflow.
		 */
		acc = (unsigned int)base36_value(in[i]);
		for (j = outlen; j > 0; j--) {
			acc += (unsigned int)out[j - 1] * 36;
			out[j - 1] = (uint8_t)acc;
			acc >>= 8;
		}
		if (acc != 0)
			r = HUSH_E_RANGE;
	}
	/* A partial value of a secret must not be left for the caller. */
	if (r != 0 && outlen > 0)
		sodium_memzero(out, outlen);
	return r;
}
