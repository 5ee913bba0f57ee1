#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "keytext.h"
#include "unlock_key.h"

#define HEAD		UNLOCK_KEY_PREFIX UNLOCK_KEY_VERSION "-"
#define HEAD_LEN	(sizeof(HEAD) - 1)
#define B64_VARIANT	sodium_base64_VARIANT_ORIGINAL_NO_PADDING

_Static_assert(HEAD_LEN + UNLOCK_KEY_B64_CHARS == UNLOCK_KEY_LEN,
    "unlock key layout");
_Static_assert(sodium_base64_ENCODED_LEN(UNLOCK_KEY_BYTES, B64_VARIANT) ==
    UNLOCK_KEY_B64_CHARS + 1, "unlock key base64 length");

static int
is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
unlock_key_format(const uint8_t key[UNLOCK_KEY_BYTES], char *out,
    size_t outcap)
{
	if (key == NULL || out == NULL)
		return HUSH_E_INVAL;
	if (outcap < UNLOCK_KEY_LEN + 1) {
		if (outcap > 0)
			out[0] = '\0';
		return HUSH_E_TOOBIG;
	}
	memcpy(out, HEAD, HEAD_LEN);
	sodium_bin2base64(out + HEAD_LEN, outcap - HEAD_LEN, key,
	    UNLOCK_KEY_BYTES, B64_VARIANT);
	return 0;
}

static const struct keytext_kind kind = {
	"unlock key", UNLOCK_KEY_PREFIX, UNLOCK_KEY_VERSION, HEAD "...",
};

int
unlock_key_parse(const char *s, size_t len, uint8_t key[UNLOCK_KEY_BYTES],
    char *why, size_t whylen)
{
	char canon[UNLOCK_KEY_B64_CHARS + 1];
	const char *p, *b64end;
	size_t i, rem, binlen;
	int r;

	if ((r = keytext_begin(&kind, s, len, key, UNLOCK_KEY_BYTES, &p, &rem, why,
	    whylen)) != 0)
		return r;

	/*
	 * Alphabet checked here rather than left to libsodium so the
	 * operator learns which rule failed; anything past the fixed width
	 * is trailing data, the usual result of a sloppy paste.
	 */
	if (rem < UNLOCK_KEY_B64_CHARS) {
		set_why(why, whylen, "unlock key is too short: expected %d "
		    "base64 characters after " HEAD, UNLOCK_KEY_B64_CHARS);
		return HUSH_E_FORMAT;
	}
	for (i = 0; i < UNLOCK_KEY_B64_CHARS; i++) {
		if (!is_b64(p[i])) {
			set_why(why, whylen, "unlock key is not valid base64 "
			    "(allowed: A-Z a-z 0-9 + /, no padding)");
			return HUSH_E_ENCODING;
		}
	}
	if (rem != UNLOCK_KEY_B64_CHARS) {
		set_why(why, whylen, "unlock key has trailing data");
		return HUSH_E_FORMAT;
	}

	binlen = 0;
	b64end = NULL;
	if (sodium_base642bin(key, UNLOCK_KEY_BYTES, p, UNLOCK_KEY_B64_CHARS,
	    NULL, &binlen, &b64end, B64_VARIANT) != 0 ||
	    binlen != UNLOCK_KEY_BYTES || b64end != p + UNLOCK_KEY_B64_CHARS)
		goto noncanonical;
	/*
	 * 43 characters carry 258 bits; a text whose last 2 bits are set
	 * decodes to the same key as the canonical one, so two different
	 * strings would name one key.  Re-encoding catches that whatever
	 * the libsodium version does with leftover bits.
	 */
	sodium_bin2base64(canon, sizeof(canon), key, UNLOCK_KEY_BYTES,
	    B64_VARIANT);
	r = sodium_memcmp(canon, p, UNLOCK_KEY_B64_CHARS);
	sodium_memzero(canon, sizeof(canon));
	if (r != 0)
		goto noncanonical;
	return 0;

 noncanonical:
	sodium_memzero(key, UNLOCK_KEY_BYTES);
	set_why(why, whylen, "unlock key is not canonical base64 (was it "
	    "edited?)");
	return HUSH_E_ENCODING;
}

int
unlock_key_new(uint8_t key[UNLOCK_KEY_BYTES])
{
	if (key == NULL)
		return HUSH_E_INVAL;
	randombytes_buf(key, UNLOCK_KEY_BYTES);
	return 0;
}
