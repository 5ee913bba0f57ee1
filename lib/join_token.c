#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base36.h"
#include "err.h"
#include "join_token.h"
#include "keytext.h"

#define HEAD		JOIN_TOKEN_PREFIX JOIN_TOKEN_VERSION "-"
#define HEAD_LEN	(sizeof(HEAD) - 1)

_Static_assert(HEAD_LEN + JOIN_TOKEN_DIGEST_CHARS + 1 +
    JOIN_TOKEN_SECRET_CHARS == JOIN_TOKEN_LEN, "join token layout");

int
join_token_format(const struct join_token *t, char *out, size_t outcap)
{
	char *p;
	int r;

	if (t == NULL || out == NULL)
		return HUSH_E_INVAL;
	if (outcap < JOIN_TOKEN_LEN + 1) {
		if (outcap > 0)
			out[0] = '\0';
		return HUSH_E_TOOBIG;
	}
	p = out;
	memcpy(p, HEAD, HEAD_LEN);
	p += HEAD_LEN;
	if ((r = base36_encode(t->digest, sizeof(t->digest),
	    JOIN_TOKEN_DIGEST_CHARS, p, JOIN_TOKEN_DIGEST_CHARS + 1)) != 0)
		goto fail;
	p += JOIN_TOKEN_DIGEST_CHARS;
	*p++ = '-';
	if ((r = base36_encode(t->secret, sizeof(t->secret),
	    JOIN_TOKEN_SECRET_CHARS, p, JOIN_TOKEN_SECRET_CHARS + 1)) != 0)
		goto fail;
	return 0;

 fail:
	/* Both fields fit their widths by construction; this is defensive. */
	sodium_memzero(out, JOIN_TOKEN_LEN + 1);
	return r;
}

static const struct keytext_kind kind = {
	"join token", JOIN_TOKEN_PREFIX, JOIN_TOKEN_VERSION, HEAD "...",
};

int
join_token_parse(const char *s, size_t len, struct join_token *out,
    char *why, size_t whylen)
{
	struct join_token t;
	const char *p;
	size_t n, rem;
	int r;

	if ((r = keytext_begin(&kind, s, len, out, sizeof(*out), &p, &rem, why,
	    whylen)) != 0)
		return r;
	memset(&t, 0, sizeof(t));

	n = keytext_field_len(p, KEYTEXT_MIN(rem, JOIN_TOKEN_DIGEST_CHARS + 1));
	if (n != JOIN_TOKEN_DIGEST_CHARS) {
		set_why(why, whylen, "join token digest must be %d base36 "
		    "characters", JOIN_TOKEN_DIGEST_CHARS);
		return HUSH_E_FORMAT;
	}
	if ((r = keytext_base36("join token digest", p, n, t.digest,
	    sizeof(t.digest), why, whylen)) != 0 ||
	    (r = keytext_skip(kind.what, "secret", &p, &rem, n, why, whylen)) != 0 ||
	    (r = keytext_tail_base36(kind.what, "secret", p, rem,
	    JOIN_TOKEN_SECRET_CHARS, t.secret, sizeof(t.secret), why, whylen)) != 0)
		goto out;
	memcpy(out, &t, sizeof(t));
 out:
	sodium_memzero(&t, sizeof(t));
	return r;
}

int
join_token_digest_pem(const void *pem, size_t len,
    uint8_t digest[JOIN_TOKEN_DIGEST_BYTES])
{
	if ((pem == NULL && len != 0) || digest == NULL)
		return HUSH_E_INVAL;
	if (crypto_hash_sha256(digest, pem, len) != 0)
		return HUSH_E_CRYPTO;
	return 0;
}

int
join_token_new_secret(uint8_t secret[JOIN_TOKEN_SECRET_BYTES])
{
	if (secret == NULL)
		return HUSH_E_INVAL;
	randombytes_buf(secret, JOIN_TOKEN_SECRET_BYTES);
	return 0;
}

bool
join_token_secret_equal(const uint8_t a[JOIN_TOKEN_SECRET_BYTES],
    const uint8_t b[JOIN_TOKEN_SECRET_BYTES])
{
	return sodium_memcmp(a, b, JOIN_TOKEN_SECRET_BYTES) == 0;
}
