#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base36.h"
#include "err.h"
#include "keytext.h"

/*
 * Positions are tracked as p plus rem bytes left, never as s + len: a
 * caller's len is only trusted as far as the text's layout needs it.
 */
int
keytext_begin(const struct keytext_kind *k, const char *s, size_t len,
    void *out, size_t outlen, const char **pp, size_t *remp, char *why,
    size_t whylen)
{
	size_t plen = strlen(k->prefix), n, rem;
	const char *p;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (out == NULL)
		return HUSH_E_INVAL;
	sodium_memzero(out, outlen);
	if (s == NULL) {
		set_why(why, whylen, "%s is missing", k->what);
		return HUSH_E_INVAL;
	}
	if (len < plen || memcmp(s, k->prefix, plen) != 0) {
		set_why(why, whylen, "%s must start with %s", k->what, k->prefix);
		return HUSH_E_PREFIX;
	}
	p = s + plen;
	rem = len - plen;
	if ((r = keytext_version(k->what, k->example, k->version, p, rem, &n, why,
	    whylen)) != 0)
		return r;
	if (n == rem) {
		set_why(why, whylen, "%s is truncated after the version", k->what);
		return HUSH_E_FORMAT;
	}
	*pp = p + n + 1;	/* and the '-' */
	*remp = rem - (n + 1);
	return 0;
}

int
keytext_skip(const char *what, const char *next, const char **p, size_t *rem,
    size_t n, char *why, size_t whylen)
{
	if (n == *rem) {
		set_why(why, whylen, "%s is missing its %s", what, next);
		return HUSH_E_FORMAT;
	}
	*p += n + 1;	/* and the '-' */
	*rem -= n + 1;
	return 0;
}

size_t
keytext_field_len(const char *p, size_t max)
{
	const char *dash = memchr(p, '-', max);

	return dash == NULL ? max : (size_t)(dash - p);
}

int
keytext_version(const char *what, const char *example, const char *want,
    const char *p, size_t rem, size_t *vlenp, char *why, size_t whylen)
{
	size_t i, vlen;

	vlen = keytext_field_len(p, KEYTEXT_MIN(rem,
	    KEYTEXT_VERSION_ECHO_MAX + 1));
	if (vlen == 0) {
		set_why(why, whylen, "%s version is missing (expected %s)",
		    what, example);
		return HUSH_E_FORMAT;
	}
	for (i = 0; i < vlen; i++) {
		if (p[i] < '0' || p[i] > '9') {
			set_why(why, whylen, "%s version must be a number "
			    "(expected %s)", what, example);
			return HUSH_E_FORMAT;
		}
	}
	if (vlen > KEYTEXT_VERSION_ECHO_MAX) {
		set_why(why, whylen, "unsupported %s version", what);
		return HUSH_E_VERSION;
	}
	if (vlen != strlen(want) || memcmp(p, want, vlen) != 0) {
		set_why(why, whylen, "unsupported %s version '%.*s'", what,
		    (int)vlen, p);
		return HUSH_E_VERSION;
	}
	*vlenp = vlen;
	return 0;
}

int
keytext_base36(const char *what, const char *p, size_t n, uint8_t *out,
    size_t outlen, char *why, size_t whylen)
{
	switch (base36_decode(p, n, out, outlen)) {
	case 0:
		return 0;
	case HUSH_E_RANGE:
		set_why(why, whylen, "%s is out of range", what);
		return HUSH_E_RANGE;
	default:
		set_why(why, whylen, "%s is not valid base36 (0-9 and "
		    "lowercase a-z)", what);
		return HUSH_E_ENCODING;
	}
}

int
keytext_tail_base36(const char *what, const char *field, const char *p,
    size_t rem, size_t chars, uint8_t *out, size_t outlen, char *why,
    size_t whylen)
{
	char name[64];
	int r;

	snprintf(name, sizeof(name), "%s %s", what, field);
	if (rem < chars) {
		set_why(why, whylen, "%s must be %zu base36 characters", name,
		    chars);
		return HUSH_E_FORMAT;
	}
	if ((r = keytext_base36(name, p, chars, out, outlen, why, whylen)) != 0)
		return r;
	if (rem != chars) {
		set_why(why, whylen, "%s has trailing data", what);
		return HUSH_E_FORMAT;
	}
	return 0;
}
