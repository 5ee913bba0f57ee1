#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "args.h"
#include "duration.h"
#include "err.h"
#include "msg.h"
#include "names.h"

/*
 * Whether s may be echoed in a message as it is: operator input can hold
 * terminal escape sequences, which must not reach the screen.
 */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int
arg_bool(const char *opt, const char *s, bool *out, char *why, size_t whylen)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	if (printable(s) && strlen(s) <= 32)
		set_why(why, whylen, "%s: invalid value '%s' (use true or false)",
		    opt, s);
	else
		set_why(why, whylen, "%s: invalid value (use true or false)", opt);
	return HUSH_E_FORMAT;
}

int
arg_role(const char *s, uint8_t *role, char *why, size_t whylen)
{
	if (strcmp(s, "worker") == 0) {
		*role = ROLE_WORKER;
		return 0;
	}
	if (strcmp(s, "manager") == 0) {
		*role = ROLE_MANAGER;
		return 0;
	}
	if (printable(s) && strlen(s) <= 32)
		set_why(why, whylen, "invalid role '%s': must be worker or manager", s);
	else
		set_why(why, whylen, "invalid role: must be worker or manager");
	return HUSH_E_FORMAT;
}

int
arg_cert_expiry(const char *s, uint64_t *secs, char *why, size_t whylen)
{
	char d[256];
	int r;

	if ((r = duration_parse(s, secs, d, sizeof(d))) != 0) {
		set_why(why, whylen, "--cert-expiry: %s", d);
		return r;
	}
	if (*secs < CERT_EXPIRY_MIN) {
		set_why(why, whylen, "--cert-expiry must be at least 1h");
		return HUSH_E_RANGE;
	}
	return 0;
}

/*
 * s as typed is 1 to max characters; what names it in why.  An empty REF
 * is "empty node ID" but an empty option value "--advertise-addr is
 * empty": noun says which wording, as hushctl has always said them.
 */
static int
text_len(const char *what, bool noun, const char *s, int max, char *why,
    size_t whylen)
{
	size_t len = strlen(s);

	if (len == 0) {
		set_why(why, whylen, noun ? "empty %s" : "%s is empty", what);
		return HUSH_E_FORMAT;
	}
	if (len > (size_t)max) {
		set_why(why, whylen, "%s is longer than %d characters", what, max);
		return HUSH_E_TOOBIG;
	}
	return 0;
}

/*
 * An address as typed, before anything parses it: not empty, within the
 * schema's bound, and no spaces or control characters (it is printed
 * inside a command to copy, and addr_normalize() quotes it in why).
 */
static int
addr_text(const char *what, const char *s, char *why, size_t whylen)
{
	int r;

	if ((r = text_len(what, false, s, ADDR_MAX, why, whylen)) != 0)
		return r;
	if (!printable(s) || strchr(s, ' ') != NULL) {
		set_why(why, whylen, "%s contains spaces or control characters",
		    what);
		return HUSH_E_FORMAT;
	}
	return 0;
}

int
arg_addr(const char *s, char *why, size_t whylen)
{
	return addr_text("--advertise-addr", s, why, whylen);
}

int
arg_hostport(const char *what, const char *s, char *out, size_t outcap,
    char *why, size_t whylen)
{
	char d[320];
	int r;

	if ((r = addr_text(what, s, why, whylen)) != 0)
		return r;
	if ((r = addr_normalize(s, DEFAULT_PORT, out, outcap, d,
	    sizeof(d))) != 0) {
		set_why(why, whylen, "%s: %s", what, d);
		return r;
	}
	return 0;
}

int
arg_ref(const char *s, char *why, size_t whylen)
{
	return text_len("secret name or id", true, s, REF_MAX, why, whylen);
}

int
arg_node_ref(const char *s, char *why, size_t whylen)
{
	int r;

	if ((r = text_len("node ID", true, s, REF_MAX, why, whylen)) != 0)
		return r;
	/* It is echoed back ("Node ... promoted"), so no escapes either. */
	if (!printable(s)) {
		set_why(why, whylen, "node ID contains control characters");
		return HUSH_E_FORMAT;
	}
	return 0;
}

int
arg_format(const char *s, bool allow_table, enum out_format *out, char *why,
    size_t whylen)
{
	if (strcmp(s, "json") == 0) {
		*out = FORMAT_JSON;
		return 0;
	}
	if (allow_table && strcmp(s, "table") == 0) {
		*out = FORMAT_TABLE;
		return 0;
	}
	if (printable(s) && strlen(s) <= 32)
		set_why(why, whylen, "--format: unsupported format '%s' (use %s)",
		    s, allow_table ? "table or json" : "json");
	else
		set_why(why, whylen, "--format: unsupported format (use %s)",
		    allow_table ? "table or json" : "json");
	return HUSH_E_FORMAT;
}

int
labels_add(struct labels *l, const char *kv, char *why, size_t whylen)
{
	char key[LABEL_KEY_MAX + 1], val[LABEL_VALUE_MAX + 1], **nkv;
	size_t i, klen;
	int r;

	if ((r = label_parse(kv, key, sizeof(key), val, sizeof(val), why,
	    whylen)) != 0)
		return r;
	klen = strlen(key);
	for (i = 0; i < l->n; i++) {
		if (strncmp(l->kv[i], key, klen) == 0 && l->kv[i][klen] == '=') {
			/* label_parse checked the key, so it may be quoted. */
			set_why(why, whylen, "duplicate label key '%s'", key);
			return HUSH_E_EXISTS;
		}
	}
	if (l->n >= LABELS_MAX) {
		set_why(why, whylen, "too many labels (at most %d)", LABELS_MAX);
		return HUSH_E_TOOBIG;
	}
	if ((nkv = reallocarray(l->kv, l->n + 1, sizeof(*nkv))) == NULL)
		return HUSH_E_NOMEM;
	l->kv = nkv;
	/* Rebuilt from the parts so what is sent is exactly what was checked. */
	if (asprintf(&l->kv[l->n], "%s=%s", key, val) < 0)
		return HUSH_E_NOMEM;
	l->n++;
	return 0;
}

void
labels_free(struct labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->kv[i]);
	free(l->kv);
	l->kv = NULL;
	l->n = 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

void
trim_span(const char *s, size_t len, size_t *start, size_t *outlen)
{
	size_t b = 0, e = len;

	while (b < e && is_space(s[b]))
		b++;
	while (e > b && is_space(s[e - 1]))
		e--;
	*start = b;
	*outlen = e - b;
}
