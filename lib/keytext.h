/*
 * What the operator's credential texts share -- join tokens
 * (HUSHTKN-1-...), unlock keys (HUSHKEY-1-...) and service claims
 * (HUSHCLM-1-...): a prefix, a version, then fields joined by '-'.  Their
 * parsers use these helpers for the common parts, so that all three take
 * the same care: every scan is capped by the text's fixed layout, never by
 * the caller's length, and a message quotes at most a short all-digit
 * version, never a character that could belong to a secret.
 */
#ifndef HUSH_KEYTEXT_H
#define HUSH_KEYTEXT_H

#include <stddef.h>
#include <stdint.h>

/* Longest version echoed back; longer ones are not versions at all. */
#define KEYTEXT_VERSION_ECHO_MAX	9

#define KEYTEXT_MIN(a, b)	((a) < (b) ? (a) : (b))

/* One kind of text: names and spelling for keytext_begin(). */
struct keytext_kind {
	const char	*what;		/* "join token", in messages */
	const char	*prefix;	/* "HUSHTKN-" */
	const char	*version;	/* "1" */
	const char	*example;	/* "HUSHTKN-1-...", in messages */
};

/*
 * The start every parser shares, in this order: clears why, refuses a
 * NULL out (HUSH_E_INVAL, no message), zeroes out[0..outlen), then
 * checks s (missing), the prefix and the version and that a field
 * follows.  0 with *p and *rem at the first field after "PREFIX-V-";
 * else HUSH_E_INVAL, _PREFIX, _FORMAT or _VERSION with why filled in
 * ("<what> must start with <prefix>": a caller may say more after
 * HUSH_E_PREFIX).
 */
int	keytext_begin(const struct keytext_kind *k, const char *s, size_t len,
	    void *out, size_t outlen, const char **p, size_t *rem, char *why,
	    size_t whylen);

/*
 * Steps *p and *rem past a middle field of n bytes and its '-'.
 * HUSH_E_FORMAT, "<what> is missing its <next>", if the text ends there.
 */
int	keytext_skip(const char *what, const char *next, const char **p,
	    size_t *rem, size_t n, char *why, size_t whylen);

/* Length of the field at p: up to the next '-', at most max bytes. */
size_t	keytext_field_len(const char *p, size_t max);

/*
 * The version field at p (rem bytes left) against want ("1").  what
 * names the text in messages ("join token"), example shows its start
 * ("HUSHTKN-1-...").  0 with *vlen set; HUSH_E_FORMAT or HUSH_E_VERSION
 * with why filled in.
 */
int	keytext_version(const char *what, const char *example,
	    const char *want, const char *p, size_t rem, size_t *vlen,
	    char *why, size_t whylen);

/*
 * n base36 characters at p into out[0..outlen).  what names the field
 * ("claim secret").  0, or HUSH_E_RANGE / HUSH_E_ENCODING with why
 * filled in (out is zeroed then, as base36_decode() leaves it).
 */
int	keytext_base36(const char *what, const char *p, size_t n, uint8_t *out,
	    size_t outlen, char *why, size_t whylen);

/*
 * The text's last field, which runs to its end: exactly chars base36
 * characters at p (rem bytes left) into out[0..outlen).  Anything past
 * the fixed width is reported as trailing data, the usual result of a
 * sloppy paste.  what and field name them ("claim", "secret").  0, or
 * HUSH_E_FORMAT / HUSH_E_RANGE / HUSH_E_ENCODING with why filled in.
 */
int	keytext_tail_base36(const char *what, const char *field, const char *p,
	    size_t rem, size_t chars, uint8_t *out, size_t outlen, char *why,
	    size_t whylen);

#endif
