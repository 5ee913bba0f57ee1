/*
 * The join token an operator copies from a manager to a joining node:
 *
 *	HUSHTKN-1-<digest>-<secret>
 *
 * digest is SHA-256 of the root CA bundle PEM (50 base36 chars), so the
 * joiner can pin the CA before trusting anything the manager sends; secret
 * is 16 random bytes (25 base36 chars) proving the joiner was invited.
 */
#ifndef HUSH_JOIN_TOKEN_H
#define HUSH_JOIN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOIN_TOKEN_PREFIX	"HUSHTKN-"
#define JOIN_TOKEN_VERSION	"1"
#define JOIN_TOKEN_DIGEST_BYTES	32
#define JOIN_TOKEN_SECRET_BYTES	16
#define JOIN_TOKEN_DIGEST_CHARS	50
#define JOIN_TOKEN_SECRET_CHARS	25
#define JOIN_TOKEN_LEN		86	/* without the NUL */

struct join_token {
	uint8_t	digest[JOIN_TOKEN_DIGEST_BYTES];
	uint8_t	secret[JOIN_TOKEN_SECRET_BYTES];
};

/* Writes the token and a NUL; HUSH_E_TOOBIG if outcap < JOIN_TOKEN_LEN+1. */
int	join_token_format(const struct join_token *t, char *out, size_t outcap);
/*
 * Strictly parses s[0..len) (no surrounding whitespace, no NUL).  On
 * failure returns HUSH_E_PREFIX, _VERSION, _FORMAT, _ENCODING or _RANGE,
 * zeroes *out, and writes a one-line operator message to why (if non-NULL)
 * that never contains secret characters.
 */
int	join_token_parse(const char *s, size_t len, struct join_token *out,
	    char *why, size_t whylen);
/* SHA-256 of the root CA bundle, as it goes in the token. */
int	join_token_digest_pem(const void *pem, size_t len,
	    uint8_t digest[JOIN_TOKEN_DIGEST_BYTES]);
int	join_token_new_secret(uint8_t secret[JOIN_TOKEN_SECRET_BYTES]);
/* Constant-time comparison of two secrets. */
bool	join_token_secret_equal(const uint8_t a[JOIN_TOKEN_SECRET_BYTES],
	    const uint8_t b[JOIN_TOKEN_SECRET_BYTES]);

#endif
