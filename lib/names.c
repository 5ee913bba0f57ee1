#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "names.h"

#define SECRET_NAME_CHARS	"A-Z a-z 0-9 _ . -"
#define LABEL_KEY_CHARS		"A-Z a-z 0-9 . _ / -"
/* Longest piece of a malformed label echoed back in a message. */
#define ECHO_MAX		40

/* Explicit ranges rather than ctype: the locale must not widen the set. */
static int
is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

static int
name_char_ok(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

static int
key_char_ok(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-' || c == '/';
}

/*
 * One byte as it may appear in a message: printable ASCII as itself, the
 * rest as \xNN so no escape sequence reaches the operator's terminal.
 */
static const char *
byte_str(unsigned char c, char buf[5])
{
	if (c >= 0x20 && c < 0x7f) {
		buf[0] = (char)c;
		buf[1] = '\0';
	} else
		snprintf(buf, 5, "\\x%02x", c);
	return buf;
}

/* Up to ECHO_MAX bytes of s[0..len), made printable as by byte_str. */
static const char *
quote(const char *s, size_t len, char *buf, size_t cap)
{
	char b[5];
	size_t i, o, bl;

	o = 0;
	for (i = 0; i < len && i < ECHO_MAX; i++) {
		byte_str((unsigned char)s[i], b);
		bl = strlen(b);
		if (o + bl + sizeof("...") > cap)
			break;
		memcpy(buf + o, b, bl);
		o += bl;
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Secret and service names follow one rule; kind ("secret", "service")
 * only changes the wording of the messages.
 */
static int
name_check(const char *kind, const char *s, size_t len, char *why,
    size_t whylen)
{
	char b[5];
	size_t i;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (s == NULL && len != 0)
		return HUSH_E_INVAL;
	if (len == 0) {
		set_why(why, whylen, "%s name is empty", kind);
		return HUSH_E_FORMAT;
	}
	if (len > SECRET_NAME_MAX) {
		set_why(why, whylen, "%s name is longer than %d characters",
		    kind, SECRET_NAME_MAX);
		return HUSH_E_TOOBIG;
	}
	for (i = 0; i < len; i++) {
		if (!name_char_ok((unsigned char)s[i])) {
			set_why(why, whylen, "%s name contains '%s' which "
			    "is not allowed (use " SECRET_NAME_CHARS ")", kind,
			    byte_str((unsigned char)s[i], b));
			return HUSH_E_FORMAT;
		}
	}
	/* Every byte is now printable, so the name itself may be quoted. */
	if (!is_alnum((unsigned char)s[0])) {
		set_why(why, whylen, "%s name '%.*s' must start with a "
		    "letter or digit", kind, (int)len, s);
		return HUSH_E_FORMAT;
	}
	if (!is_alnum((unsigned char)s[len - 1])) {
		set_why(why, whylen, "%s name '%.*s' must end with a "
		    "letter or digit", kind, (int)len, s);
		return HUSH_E_FORMAT;
	}
	return 0;
}

int
secret_name_check(const char *s, size_t len, char *why, size_t whylen)
{
	return name_check("secret", s, len, why, whylen);
}

int
service_name_check(const char *s, size_t len, char *why, size_t whylen)
{
	return name_check("service", s, len, why, whylen);
}

/* Checks the key part of a label; kv is only used for messages. */
int
label_key_check(const char *k, size_t klen, char *why, size_t whylen)
{
	char b[5];
	size_t i;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (k == NULL && klen != 0)
		return HUSH_E_INVAL;
	if (klen == 0) {
		set_why(why, whylen, "label has an empty key (expected "
		    "KEY=VALUE)");
		return HUSH_E_FORMAT;
	}
	if (klen > LABEL_KEY_MAX) {
		set_why(why, whylen, "label key is longer than %d characters",
		    LABEL_KEY_MAX);
		return HUSH_E_TOOBIG;
	}
	for (i = 0; i < klen; i++) {
		if (!key_char_ok((unsigned char)k[i])) {
			set_why(why, whylen, "label key contains '%s' which "
			    "is not allowed (use " LABEL_KEY_CHARS ")",
			    byte_str((unsigned char)k[i], b));
			return HUSH_E_FORMAT;
		}
	}
	if (!is_alnum((unsigned char)k[0])) {
		set_why(why, whylen, "label key '%.*s' must start with a "
		    "letter or digit", (int)klen, k);
		return HUSH_E_FORMAT;
	}
	return 0;
}

int
label_value_check(const char *v, size_t vlen, char *why, size_t whylen)
{
	size_t i;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (v == NULL && vlen != 0)
		return HUSH_E_INVAL;
	if (vlen > LABEL_VALUE_MAX) {
		set_why(why, whylen, "value is longer than %d bytes",
		    LABEL_VALUE_MAX);
		return HUSH_E_TOOBIG;
	}
	for (i = 0; i < vlen; i++) {
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f) {
			set_why(why, whylen, "value contains a control "
			    "character");
			return HUSH_E_FORMAT;
		}
	}
	return 0;
}

int
label_parse(const char *kv, char *key, size_t keycap, char *val,
    size_t valcap, char *why, size_t whylen)
{
	char q[ECHO_MAX * 4 + 8], vwhy[64];
	const char *eq, *v;
	size_t klen, vlen;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (key == NULL || val == NULL)
		return HUSH_E_INVAL;
	if (keycap > 0)
		key[0] = '\0';
	if (valcap > 0)
		val[0] = '\0';
	if (kv == NULL)
		return HUSH_E_INVAL;

	if ((eq = strchr(kv, '=')) == NULL) {
		/* No '=', so there is no value to leak by quoting it. */
		set_why(why, whylen, "label '%s' must be KEY=VALUE",
		    quote(kv, strlen(kv), q, sizeof(q)));
		return HUSH_E_FORMAT;
	}
	klen = (size_t)(eq - kv);
	if ((r = label_key_check(kv, klen, why, whylen)) != 0)
		return r;

	/* The key is now known printable and short enough to quote whole. */
	v = eq + 1;
	vlen = strnlen(v, LABEL_VALUE_MAX + 1);
	if ((r = label_value_check(v, vlen, vwhy, sizeof(vwhy))) != 0) {
		set_why(why, whylen, "label '%.*s' %s", (int)klen, kv, vwhy);
		return r;
	}

	if (klen >= keycap || vlen >= valcap) {
		set_why(why, whylen, "label '%.*s' does not fit the caller's "
		    "buffer", (int)klen, kv);
		return HUSH_E_TOOBIG;
	}
	memcpy(key, kv, klen);
	key[klen] = '\0';
	memcpy(val, v, vlen);
	val[vlen] = '\0';
	return 0;
}
