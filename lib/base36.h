/*
 * Fixed-width base36 ([0-9a-z]) for identifiers and join tokens: the
 * alphabet survives copy-paste, shell quoting and double-click selection,
 * and a fixed width makes every encoding of a given size look alike.
 */
#ifndef HUSH_BASE36_H
#define HUSH_BASE36_H

#include <stddef.h>
#include <stdint.h>

/* Largest big-endian integer either direction handles, in bytes. */
#define BASE36_MAX_BYTES	64

/*
 * Writes in[0..inlen) (a big-endian unsigned integer, inlen <=
 * BASE36_MAX_BYTES) as exactly `width` lowercase digits, left-padded with
 * '0', plus a NUL.  HUSH_E_TOOBIG if outcap < width + 1 or inlen is too
 * large; HUSH_E_RANGE if the value needs more than width digits.  On
 * failure out holds the empty string (when outcap > 0).
 */
int	base36_encode(const uint8_t *in, size_t inlen, size_t width,
	    char *out, size_t outcap);

/*
 * Parses exactly inlen characters of [0-9a-z] into outlen big-endian bytes.
 * HUSH_E_FORMAT for empty input, HUSH_E_ENCODING for any other character
 * (uppercase and NUL included), HUSH_E_RANGE if the value is >= 256^outlen.
 * On failure out is zeroed.
 */
int	base36_decode(const char *in, size_t inlen, uint8_t *out,
	    size_t outlen);

#endif
