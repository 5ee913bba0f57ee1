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
