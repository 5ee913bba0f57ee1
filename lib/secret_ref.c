#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "names.h"
#include "secret_ref.h"

/* The operator's text is shown through why_quote, so every message stays
 * near 200 bytes however long the input. */
#define TARGET_CHARS	"A-Z a-z 0-9 _ . - and '/' between components"
#define SECRET_DIR_SLASH	SECRET_DIR "/"
/* Largest uid or gid: 2^32 - 1 is (uid_t)-1, "leave unchanged" to chown. */
#define ID_MAX		4294967294U
#define MODE_DIGITS	4
#define MODE_MAX	0777

enum ref_key { RK_SOURCE, RK_TARGET, RK_UID, RK_GID, RK_MODE, RK_COUNT };

static const struct {
	const char	*name;
	enum ref_key	 key;
} ref_keys[] = {
	{ "source",	RK_SOURCE },
	{ "src",	RK_SOURCE },
	{ "target",	RK_TARGET },
	{ "uid",	RK_UID },
	{ "gid",	RK_GID },
	{ "mode",	RK_MODE },
};
#define NREF_KEYS	(sizeof(ref_keys) / sizeof(ref_keys[0]))

/* Absolute targets may not shadow the kernel's own trees. */
static const char *const forbidden_roots[] = { "proc", "sys", "dev" };
#define NFORBIDDEN	(sizeof(forbidden_roots) / sizeof(forbidden_roots[0]))

/* Explicit ranges rather than ctype: the locale must not widen the set. */
static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c);
}

static bool
target_char_ok(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-' || c == '/';
}

static bool
span_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/*
 * The target rule on t[0..len), which need not be NUL-terminated; the
 * public secret_target_check and the parser share it.
 */
static int
target_check(const char *t, size_t len, char *why, size_t whylen)
{
	char q[WHY_QUOTE_CAP];
	const char *p, *end, *slash;
	size_t i, clen;
	bool absolute;

	if (len == 0) {
		set_why(why, whylen, "target is empty");
		return HUSH_E_FORMAT;
	}
	if (len > SECRET_TARGET_MAX) {
		set_why(why, whylen, "target is longer than %d bytes",
		    SECRET_TARGET_MAX);
		return HUSH_E_TOOBIG;
	}
	for (i = 0; i < len; i++) {
		if (!target_char_ok((unsigned char)t[i])) {
			set_why(why, whylen, "target contains '%s' which is "
			    "not allowed (use " TARGET_CHARS ")",
			    why_quote(t + i, 1, q));
			return HUSH_E_FORMAT;
		}
	}
	/* Every byte is now printable and why_quote() only shortens. */
	absolute = t[0] == '/';
	if (absolute && len == 1) {
		set_why(why, whylen, "target '/' is a directory, not a file");
		return HUSH_E_FORMAT;
	}

	end = t + len;
	for (p = t + (absolute ? 1 : 0); ; p = slash + 1) {
		if ((slash = memchr(p, '/', (size_t)(end - p))) == NULL)
			slash = end;
		clen = (size_t)(slash - p);
		if (clen == 0) {
			set_why(why, whylen, "target '%s' has an empty "
			    "component ('//' or a trailing '/')",
			    why_quote(t, len, q));
			return HUSH_E_FORMAT;
		}
		if (span_is(p, clen, ".") || span_is(p, clen, "..")) {
			set_why(why, whylen, "target '%s' has a '%.*s' "
			    "component", why_quote(t, len, q), (int)clen, p);
			return HUSH_E_FORMAT;
		}
		/* The atomic writer keeps "..data" and "..<time>" dirs here. */
		if (clen >= 2 && p[0] == '.' && p[1] == '.') {
			set_why(why, whylen, "target component '%s' starts "
			    "with '..', which the secrets directory reserves",
			    why_quote(p, clen, q));
			return HUSH_E_FORMAT;
		}
		if (slash == end)
			break;
	}

	if (!absolute)
		return 0;
	for (i = 0; i < NFORBIDDEN; i++) {
		clen = strlen(forbidden_roots[i]);
		if (len - 1 >= clen &&
		    memcmp(t + 1, forbidden_roots[i], clen) == 0 &&
		    (len - 1 == clen || t[1 + clen] == '/')) {
			set_why(why, whylen, "target must not be under /%s",
			    forbidden_roots[i]);
			return HUSH_E_FORMAT;
		}
	}
	if (span_is(t, len, SECRET_DIR)) {
		set_why(why, whylen, "target " SECRET_DIR " is the secrets "
		    "directory itself, not a file in it");
		return HUSH_E_FORMAT;
	}
	return 0;
}

int
secret_target_check(const char *target, char *why, size_t whylen)
{
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (target == NULL)
		return HUSH_E_INVAL;
	/* strnlen: an over-long target is read no further than needed. */
	return target_check(target, strnlen(target, SECRET_TARGET_MAX + 1),
	    why, whylen);
}

/*
 * Length of the prefix "/run/secrets/" if t[0..len) has it, else 0:
 * such a target names the same file as the relative rest.
 */
static size_t
secret_dir_prefix(const char *t, size_t len)
{
	size_t plen = sizeof(SECRET_DIR_SLASH) - 1;

	if (len > plen && memcmp(t, SECRET_DIR_SLASH, plen) == 0)
		return plen;
	return 0;
}

/* uid or gid: plain decimal digits, nothing else, at most ID_MAX. */
static int
parse_id(const char *key, const char *v, size_t vlen, uint32_t *out,
    char *why, size_t whylen)
{
	uint64_t n;
	size_t i;

	for (i = 0; i < vlen; i++) {
		if (!is_digit((unsigned char)v[i])) {
			set_why(why, whylen, "%s must be a decimal number "
			    "(0 to %u)", key, ID_MAX);
			return HUSH_E_FORMAT;
		}
	}
	/* Stops at the first digit past ID_MAX, so n cannot overflow. */
	for (n = 0, i = 0; i < vlen; i++) {
		n = n * 10 + (uint64_t)(v[i] - '0');
		if (n > ID_MAX) {
			set_why(why, whylen, "%s is out of range (0 to %u; "
			    "%u would mean (uid_t)-1)", key, ID_MAX,
			    ID_MAX + 1);
			return HUSH_E_RANGE;
		}
	}
	*out = (uint32_t)n;
	return 0;
}

/* mode: 1..MODE_DIGITS octal digits, permission bits only. */
static int
parse_mode(const char *v, size_t vlen, uint32_t *out, char *why,
    size_t whylen)
{
	uint32_t n;
	size_t i;

	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '7') {
			set_why(why, whylen, "mode must be octal permission "
			    "bits (0 to 0777)");
			return HUSH_E_FORMAT;
		}
	}
	if (vlen > MODE_DIGITS) {
		set_why(why, whylen, "mode must be at most %d octal digits "
		    "(e.g. 0440)", MODE_DIGITS);
		return HUSH_E_FORMAT;
	}
	for (n = 0, i = 0; i < vlen; i++)
		n = n * 8 + (uint32_t)(v[i] - '0');
	if (n > MODE_MAX) {
		/* Only octal digits are left, so v is safe to print. */
		set_why(why, whylen, "mode %.*s sets setuid, setgid or sticky "
		    "bits; a secret takes only permission bits (0 to 0777)",
		    (int)vlen, v);
		return HUSH_E_RANGE;
	}
	*out = n;
	return 0;
}

/* Stores one key's value (known non-empty) into *r. */
static int
set_field(enum ref_key k, const char *v, size_t vlen, struct secret_ref *r,
    char *why, size_t whylen)
{
	size_t skip;
	int e;

	switch (k) {
	case RK_SOURCE:
		if ((e = secret_name_check(v, vlen, why, whylen)) != 0)
			return e;
		memcpy(r->source, v, vlen);
		r->source[vlen] = '\0';
		return 0;
	case RK_TARGET:
		if ((e = target_check(v, vlen, why, whylen)) != 0)
			return e;
		skip = secret_dir_prefix(v, vlen);
		memcpy(r->target, v + skip, vlen - skip);
		r->target[vlen - skip] = '\0';
		return 0;
	case RK_UID:
		return parse_id("uid", v, vlen, &r->uid, why, whylen);
	case RK_GID:
		return parse_id("gid", v, vlen, &r->gid, why, whylen);
	case RK_MODE:
		return parse_mode(v, vlen, &r->mode, why, whylen);
	case RK_COUNT:
		break;
	}
	set_why(why, whylen, "internal error: key %d", (int)k);
	return HUSH_E_INTERNAL;
}

static const char *
key_name(enum ref_key k)
{
	size_t i;

	for (i = 0; i < NREF_KEYS; i++) {
		if (ref_keys[i].key == k)
			return ref_keys[i].name;
	}
	return "?";
}

/*
 * Walks the comma-separated fields of text[0..tlen) into *r.  Empty
 * fields are errors rather than skipped: a stray comma usually means a
 * shell variable expanded to nothing.
 */
static int
parse_fields(const char *text, size_t tlen, struct secret_ref *r, char *why,
    size_t whylen)
{
	char q[WHY_QUOTE_CAP];
	bool seen[RK_COUNT] = { false };
	const char *f, *end, *eq, *v, *tend = text + tlen;
	size_t flen, klen, vlen, i, nfield;
	enum ref_key k;
	int e;

	r->mode = SECRET_MODE_DEFAULT;
	for (f = text, nfield = 0; ; f = end + 1, nfield++) {
		if ((end = memchr(f, ',', (size_t)(tend - f))) == NULL)
			end = tend;
		flen = (size_t)(end - f);
		if (flen == 0) {
			set_why(why, whylen, "empty field (a stray ',')");
			return HUSH_E_FORMAT;
		}
		if ((eq = memchr(f, '=', flen)) == NULL) {
			/* Docker's short form: the bare name, first. */
			if (nfield != 0) {
				set_why(why, whylen, "field '%s' is not "
				    "KEY=VALUE (only the first field may be a "
				    "bare secret name)", why_quote(f, flen, q));
				return HUSH_E_FORMAT;
			}
			k = RK_SOURCE;
			v = f;
		} else {
			klen = (size_t)(eq - f);
			if (klen == 0) {
				set_why(why, whylen, "field '%s' has no key "
				    "before '='", why_quote(f, flen, q));
				return HUSH_E_FORMAT;
			}
			for (i = 0; i < NREF_KEYS; i++) {
				if (span_is(f, klen, ref_keys[i].name))
					break;
			}
			if (i == NREF_KEYS) {
				set_why(why, whylen, "unknown key '%s' (use "
				    "source, target, uid, gid or mode)",
				    why_quote(f, klen, q));
				return HUSH_E_FORMAT;
			}
			k = ref_keys[i].key;
			v = eq + 1;
		}
		vlen = (size_t)(end - v);
		if (seen[k]) {
			if (k == RK_SOURCE)
				set_why(why, whylen, "the secret name is given "
				    "more than once (bare NAME, source= or "
				    "src=)");
			else
				set_why(why, whylen, "%s is given more than "
				    "once", key_name(k));
			return HUSH_E_FORMAT;
		}
		seen[k] = true;
		if (vlen == 0) {
			set_why(why, whylen, "%s has an empty value",
			    key_name(k));
			return HUSH_E_FORMAT;
		}
		if ((e = set_field(k, v, vlen, r, why, whylen)) != 0)
			return e;
		if (end == tend)
			break;
	}
	if (!seen[RK_SOURCE]) {
		set_why(why, whylen, "no secret name (give NAME first, or "
		    "source=NAME)");
		return HUSH_E_FORMAT;
	}
	/* A name is always a valid relative target (no '/', no leading '.'). */
	if (!seen[RK_TARGET])
		memcpy(r->target, r->source, sizeof(r->source));
	return 0;
}

int
secret_ref_parse(const char *text, struct secret_ref *out, char *why,
    size_t whylen)
{
	struct secret_ref r;
	char q[WHY_QUOTE_CAP], inner[160];
	size_t tlen;
	int e;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (out == NULL)
		return HUSH_E_INVAL;
	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return HUSH_E_INVAL;

	memset(&r, 0, sizeof(r));
	inner[0] = '\0';
	tlen = strnlen(text, SECRET_REF_TEXT_MAX + 1);
	if (tlen == 0) {
		snprintf(inner, sizeof(inner), "secret reference is empty");
		e = HUSH_E_FORMAT;
	} else if (tlen > SECRET_REF_TEXT_MAX) {
		snprintf(inner, sizeof(inner), "text is longer than %d bytes",
		    SECRET_REF_TEXT_MAX);
		e = HUSH_E_TOOBIG;
	} else
		e = parse_fields(text, tlen, &r, inner, sizeof(inner));
	if (e != 0) {
		set_why(why, whylen, "--secret '%s': %s",
		    why_quote(text, tlen, q), inner);
		return e;
	}
	*out = r;
	return 0;
}

int
secret_ref_format(const struct secret_ref *r, char *buf, size_t len)
{
	size_t slen, tlen;
	int w;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	if (r == NULL || buf == NULL)
		return HUSH_E_INVAL;
	/*
	 * Only what secret_ref_parse can produce: anything else would
	 * format to text that parses differently, or not at all.
	 */
	slen = strnlen(r->source, sizeof(r->source));
	tlen = strnlen(r->target, sizeof(r->target));
	if (slen == sizeof(r->source) || tlen == sizeof(r->target) ||
	    secret_name_check(r->source, slen, NULL, 0) != 0 ||
	    target_check(r->target, tlen, NULL, 0) != 0 ||
	    secret_dir_prefix(r->target, tlen) != 0 ||
	    r->uid > ID_MAX || r->gid > ID_MAX || r->mode > MODE_MAX)
		return HUSH_E_INVAL;

	w = snprintf(buf, len, "source=%s,target=%s,uid=%u,gid=%u,mode=%04o",
	    r->source, r->target, (unsigned int)r->uid, (unsigned int)r->gid,
	    (unsigned int)r->mode);
	if (w < 0 || (size_t)w >= len) {
		if (len > 0)
			buf[0] = '\0';
		return HUSH_E_TOOBIG;
	}
	return 0;
}
