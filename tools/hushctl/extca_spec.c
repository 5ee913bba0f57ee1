/*
 * --external-ca's KEY=VALUE list (extca_spec.h).  Operator input: every
 * refusal says which part is wrong, and echoes it only when it is short
 * and printable, since a terminal obeys what is echoed to it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cfssl.h"
#include "err.h"
#include "extca_spec.h"

#define SCHEME		"https://"
/* Longest operator text quoted back in a message. */
#define ECHO_MAX	64

enum extca_key { KEY_PROTOCOL, KEY_URL, KEY_CACERT, NKEYS };

static const char *const key_names[NKEYS] = { "protocol", "url", "cacert" };

/* Whether s[0..len) may be quoted back as it is. */
static bool
echoable(const char *s, size_t len)
{
	size_t i;

	if (len > ECHO_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int
find_key(const char *k, size_t klen)
{
	int i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(key_names[i]) == klen &&
		    memcmp(key_names[i], k, klen) == 0)
			return i;
	return -1;
}

/*
 * https://HOST[:PORT] (a "/" after it is allowed) and nothing more:
 * hushd appends cfssl's path, so a path here (docker's habit of giving
 * the whole sign URL) would reach the wrong place.  What could reach a
 * terminal is refused here, before anything quotes the URL; then the
 * daemon's own parser (lib/cfssl_request.c) judges host and port, so
 * hushctl accepts exactly what hushd will.
 */
static int
check_url(const char *v, size_t len, char *why, size_t whylen)
{
	char url[EXTCA_URL_MAX + 1], d[512];
	struct cfssl_url u;
	size_t i, n = strlen(SCHEME);

	if (len > EXTCA_URL_MAX) {
		set_why(why, whylen, "--external-ca: url is longer than %d "
		    "characters", EXTCA_URL_MAX);
		return HUSH_E_TOOBIG;
	}
	if (len < n || memcmp(v, SCHEME, n) != 0) {
		set_why(why, whylen, "--external-ca: url must start with "
		    SCHEME ": hush reaches an external CA only over TLS");
		return HUSH_E_FORMAT;
	}
	if (len == n || v[n] == ':') {
		set_why(why, whylen, "--external-ca: url has no host "
		    "(use " SCHEME "HOST[:PORT])");
		return HUSH_E_FORMAT;
	}
	for (i = n; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= 0x20 || c >= 0x7f) {
			set_why(why, whylen, "--external-ca: url contains "
			    "spaces or control characters");
			return HUSH_E_FORMAT;
		}
		if ((c == '/' && i + 1 < len) || c == '?' || c == '#') {
			set_why(why, whylen, "--external-ca: url must be "
			    SCHEME "HOST[:PORT] without a path: hushd adds "
			    "/api/v1/cfssl/sign itself");
			return HUSH_E_FORMAT;
		}
		if (c == '@') {
			set_why(why, whylen, "--external-ca: url must not "
			    "carry a user name or password");
			return HUSH_E_FORMAT;
		}
	}
	memcpy(url, v, len);
	url[len] = '\0';
	if (cfssl_url_parse(url, &u, d, sizeof(d)) != 0) {
		set_why(why, whylen, "--external-ca: %s", d);
		return HUSH_E_FORMAT;
	}
	return 0;
}

/* One KEY=VALUE part, p[0..len), into out; seen counts keys so far. */
static int
take_part(const char *p, size_t len, bool seen[NKEYS], struct extca_spec *out,
    char *why, size_t whylen)
{
	const char *eq = memchr(p, '=', len);
	size_t klen, vlen;
	int k, r;

	if (len == 0) {
		set_why(why, whylen, "--external-ca: empty part (two commas, "
		    "or a comma at an end)");
		return HUSH_E_FORMAT;
	}
	if (eq == NULL) {
		if (echoable(p, len))
			set_why(why, whylen, "--external-ca: '%.*s' is not "
			    "KEY=VALUE", (int)len, p);
		else
			set_why(why, whylen, "--external-ca: a part is not "
			    "KEY=VALUE");
		return HUSH_E_FORMAT;
	}
	klen = (size_t)(eq - p);
	vlen = len - klen - 1;
	if ((k = find_key(p, klen)) < 0) {
		if (echoable(p, klen))
			set_why(why, whylen, "--external-ca: unknown key '%.*s' "
			    "(use protocol, url, cacert)", (int)klen, p);
		else
			set_why(why, whylen, "--external-ca: unknown key "
			    "(use protocol, url, cacert)");
		return HUSH_E_FORMAT;
	}
	if (seen[k]) {
		set_why(why, whylen, "--external-ca: %s is given twice",
		    key_names[k]);
		return HUSH_E_FORMAT;
	}
	seen[k] = true;
	if (vlen == 0) {
		set_why(why, whylen, "--external-ca: %s is empty", key_names[k]);
		return HUSH_E_FORMAT;
	}
	switch ((enum extca_key)k) {
	case KEY_PROTOCOL:
		if (vlen == 5 && memcmp(eq + 1, "cfssl", 5) == 0)
			return 0;
		if (echoable(eq + 1, vlen))
			set_why(why, whylen, "--external-ca: protocol '%.*s' is "
			    "not supported (only cfssl)", (int)vlen, eq + 1);
		else
			set_why(why, whylen, "--external-ca: protocol is not "
			    "supported (only cfssl)");
		return HUSH_E_FORMAT;
	case KEY_URL:
		if ((r = check_url(eq + 1, vlen, why, whylen)) != 0)
			return r;
		memcpy(out->url, eq + 1, vlen);
		out->url[vlen] = '\0';
		return 0;
	case KEY_CACERT:
		if (vlen > EXTCA_PATH_MAX) {
			set_why(why, whylen, "--external-ca: cacert is longer "
			    "than %d characters", EXTCA_PATH_MAX);
			return HUSH_E_TOOBIG;
		}
		memcpy(out->cacert, eq + 1, vlen);
		out->cacert[vlen] = '\0';
		return 0;
	case NKEYS:
		break;
	}
	set_why(why, whylen, "--external-ca: internal error");
	return HUSH_E_INTERNAL;
}

int
extca_spec_parse(const char *s, struct extca_spec *out, char *why,
    size_t whylen)
{
	bool seen[NKEYS] = { false, false, false };
	const char *p, *comma;
	size_t len;
	int r;

	memset(out, 0, sizeof(*out));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (*s == '\0') {
		set_why(why, whylen, "--external-ca is empty (use "
		    "protocol=cfssl,url=" SCHEME "HOST[:PORT][,cacert=FILE])");
		return HUSH_E_FORMAT;
	}
	for (p = s;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if ((r = take_part(p, len, seen, out, why, whylen)) != 0) {
			memset(out, 0, sizeof(*out));
			return r;
		}
		if (comma == NULL)
			break;
	}
	if (!seen[KEY_PROTOCOL] || !seen[KEY_URL]) {
		set_why(why, whylen, "--external-ca: %s is required "
		    "(protocol=cfssl,url=" SCHEME "HOST[:PORT][,cacert=FILE])",
		    !seen[KEY_PROTOCOL] ? "protocol" : "url");
		memset(out, 0, sizeof(*out));
		return HUSH_E_FORMAT;
	}
	return 0;
}
