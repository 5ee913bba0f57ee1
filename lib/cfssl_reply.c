/*
 * The external CA's answer (cfssl.h): an HTTP/1.x response whose body is
 * cfssl's JSON.  Whatever answers at the CA's address may send anything,
 * so every length is bounded before it is used: the headers by
 * CFSSL_HEADERS_MAX, the whole answer by CFSSL_REPLY_MAX, a body framed
 * by Content-Length, by chunks or by the end of the connection.  A CA's
 * refusal may come with any status; its message is kept (printable ASCII
 * only, cut short) for the operator, who has to see why.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cfssl.h"
#include "err.h"

/* Both from inside [p, end): the position just past "\r\n", or NULL. */
static const uint8_t *
line_end(const uint8_t *p, const uint8_t *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p + 2;
	return NULL;
}

static bool
header_is(const uint8_t *p, size_t len, const char *name, const uint8_t **val,
    size_t *vlen)
{
	size_t n = strlen(name);

	if (len < n + 1 || strncasecmp((const char *)p, name, n) != 0 || p[n] != ':')
		return false;
	p += n + 1;
	len -= n + 1;
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	*val = p;
	*vlen = len;
	return true;
}

/* A decimal or (hex) number of at most 8 digits, all of [p, p+len). */
static int
number(const uint8_t *p, size_t len, int base, size_t *out)
{
	size_t v = 0;
	int d;

	if (len == 0 || len > 8)
		return HUSH_E_FORMAT;
	for (size_t i = 0; i < len; i++) {
		if (isdigit(p[i]))
			d = p[i] - '0';
		else if (base == 16 && isxdigit(p[i]))
			d = tolower(p[i]) - 'a' + 10;
		else
			return HUSH_E_FORMAT;
		v = v * (size_t)base + (size_t)d;
	}
	*out = v;
	return 0;
}

/*
 * Chunked framing from p: the body's bytes gathered into out (at most
 * CFSSL_REPLY_MAX), 0 when the last chunk and the trailers are in.
 */
static int
dechunk(const uint8_t *p, const uint8_t *end, bool eof, uint8_t *out, size_t *outlen,
    char *why, size_t whylen)
{
	const uint8_t *le, *semi;
	size_t size, n = 0;

	for (;;) {
		if ((le = line_end(p, end)) == NULL)
			goto more;
		semi = memchr(p, ';', (size_t)(le - 2 - p));
		if (number(p, (size_t)((semi != NULL ? semi : le - 2) - p), 16, &size) != 0) {
			snprintf(why, whylen, "a chunk's size is not a hexadecimal number");
			return HUSH_E_FORMAT;
		}
		p = le;
		if (size == 0)
			break;
		if (size > CFSSL_REPLY_MAX - n) {
			snprintf(why, whylen, "the answer is over %d bytes", CFSSL_REPLY_MAX);
			return HUSH_E_TOOBIG;
		}
		if ((size_t)(end - p) < size + 2)
			goto more;
		memcpy(out + n, p, size);
		n += size;
		p += size;
		if (p[0] != '\r' || p[1] != '\n') {
			snprintf(why, whylen, "a chunk is longer than its size says");
			return HUSH_E_FORMAT;
		}
		p += 2;
	}
	/* trailers, up to the empty line */
	for (;;) {
		if ((le = line_end(p, end)) == NULL)
			goto more;
		if (le == p + 2)
			break;
		p = le;
	}
	*outlen = n;
	return 0;
 more:
	if (eof) {
		snprintf(why, whylen, "the connection ended in the middle of a chunked body");
		return HUSH_E_TRUNCATED;
	}
	return CFSSL_MORE;
}

/* Printable ASCII of s, at most CFSSL_MESSAGE_MAX of it, into why. */
static void
keep_message(const char *s, char *why, size_t whylen)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < whylen && o < CFSSL_MESSAGE_MAX; s++)
		why[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	why[o] = '\0';
}

/* The JSON body: 0 and *cert, HUSH_E_PERM with the CA's message, or malformed. */
static int
decode_json(const uint8_t *body, size_t len, int status, char **cert, char *why,
    size_t whylen)
{
	json_error_t jerr;
	json_t *j, *ok, *res, *c, *errs, *e0, *msg;
	const char *pem;
	size_t plen;
	int r = HUSH_E_FORMAT;

	j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		if (status != 200)
			snprintf(why, whylen, "it answered HTTP %d, not cfssl's JSON", status);
		else
			snprintf(why, whylen, "its answer is not a JSON object");
		goto out;
	}
	if ((ok = json_object_get(j, "success")) == NULL || !json_is_boolean(ok)) {
		snprintf(why, whylen, "its answer has no boolean \"success\"%s",
		    status != 200 ? " (and an HTTP status other than 200)" : "");
		goto out;
	}
	if (!json_is_true(ok)) {
		errs = json_object_get(j, "errors");
		e0 = json_is_array(errs) ? json_array_get(errs, 0) : NULL;
		msg = json_is_object(e0) ? json_object_get(e0, "message") : NULL;
		if (json_is_string(msg) && json_string_length(msg) > 0)
			keep_message(json_string_value(msg), why, whylen);
		else
			snprintf(why, whylen, "it gave no reason (HTTP %d)", status);
		r = HUSH_E_PERM;
		goto out;
	}
	if (status != 200) {
		snprintf(why, whylen, "it answered success with HTTP %d", status);
		goto out;
	}
	res = json_object_get(j, "result");
	c = json_is_object(res) ? json_object_get(res, "certificate") : NULL;
	if (c == NULL || !json_is_string(c)) {
		snprintf(why, whylen, "its answer has no certificate");
		goto out;
	}
	pem = json_string_value(c);
	plen = json_string_length(c);
	/* jansson refuses \u0000 unless asked; the length says so too. */
	if (strlen(pem) != plen ||
	    strncmp(pem + strspn(pem, " \t\r\n"), "-----BEGIN CERTIFICATE-----", 27) != 0) {
		snprintf(why, whylen, "its \"certificate\" is not a PEM certificate");
		goto out;
	}
	if ((*cert = strdup(pem)) == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	r = 0;
 out:
	json_decref(j);
	return r;
}

int
cfssl_reply_parse(const uint8_t *buf, size_t len, bool eof, char **cert, char *why,
    size_t whylen)
{
	const uint8_t *end = buf + len, *p, *le, *hdr_end = NULL, *v, *body;
	uint8_t *plain = NULL;
	size_t vlen, clen = 0, blen;
	bool have_len = false, chunked = false;
	int status, r;

	*cert = NULL;
	why[0] = '\0';
	if (len > CFSSL_REPLY_MAX) {
		snprintf(why, whylen, "the answer is over %d bytes", CFSSL_REPLY_MAX);
		return HUSH_E_TOOBIG;
	}
	for (p = buf; (le = line_end(p, end)) != NULL; p = le)
		if (le == p + 2) {
			hdr_end = le;
			break;
		}
	if (hdr_end == NULL) {
		if (len >= CFSSL_HEADERS_MAX) {
			snprintf(why, whylen, "its headers are over %d bytes", CFSSL_HEADERS_MAX);
			return HUSH_E_TOOBIG;
		}
		if (!eof)
			return CFSSL_MORE;
		snprintf(why, whylen, len == 0 ? "it closed the connection without answering" :
		    "the connection ended in the middle of the headers");
		return HUSH_E_TRUNCATED;
	}
	if ((size_t)(hdr_end - buf) > CFSSL_HEADERS_MAX) {
		snprintf(why, whylen, "its headers are over %d bytes", CFSSL_HEADERS_MAX);
		return HUSH_E_TOOBIG;
	}
	if (memchr(buf, '\0', (size_t)(hdr_end - buf)) != NULL) {
		snprintf(why, whylen, "its headers hold a NUL byte");
		return HUSH_E_FORMAT;
	}
	/* "HTTP/1.x SSS reason" */
	le = line_end(buf, hdr_end);
	if (le - buf < 12 || (memcmp(buf, "HTTP/1.1 ", 9) != 0 && memcmp(buf, "HTTP/1.0 ", 9) != 0) ||
	    number(buf + 9, 3, 10, &vlen) != 0 || (le - buf > 14 && buf[12] != ' ')) {
		snprintf(why, whylen, "it did not answer HTTP/1.x");
		return HUSH_E_PROTO;
	}
	status = (int)vlen;
	if (status < 200 || status > 599) {
		snprintf(why, whylen, "it answered HTTP %d", status);
		return HUSH_E_PROTO;
	}
	for (p = le; p < hdr_end - 2; p = le) {
		le = line_end(p, hdr_end);
		if (header_is(p, (size_t)(le - 2 - p), "Content-Length", &v, &vlen)) {
			if (have_len || number(v, vlen, 10, &clen) != 0) {
				snprintf(why, whylen, "its Content-Length is not one number");
				return HUSH_E_FORMAT;
			}
			have_len = true;
		} else if (header_is(p, (size_t)(le - 2 - p), "Transfer-Encoding", &v, &vlen)) {
			if (vlen != 7 || strncasecmp((const char *)v, "chunked", 7) != 0 || chunked) {
				snprintf(why, whylen, "it sent a transfer encoding other than "
				    "chunked");
				return HUSH_E_FORMAT;
			}
			chunked = true;
		}
	}
	/* Both at once is how requests are smuggled: an answer this odd is refused. */
	if (have_len && chunked) {
		snprintf(why, whylen, "it sent both Content-Length and chunked encoding");
		return HUSH_E_FORMAT;
	}
	body = hdr_end;
	blen = (size_t)(end - hdr_end);
	if (have_len) {
		if (clen > CFSSL_REPLY_MAX - (size_t)(hdr_end - buf)) {
			snprintf(why, whylen, "the answer is over %d bytes", CFSSL_REPLY_MAX);
			return HUSH_E_TOOBIG;
		}
		if (blen < clen) {
			if (!eof)
				return CFSSL_MORE;
			snprintf(why, whylen, "the connection ended before the %zu bytes its "
			    "Content-Length announced", clen);
			return HUSH_E_TRUNCATED;
		}
		blen = clen;
	} else if (chunked) {
		if ((plain = malloc(CFSSL_REPLY_MAX)) == NULL)
			return HUSH_E_NOMEM;
		if ((r = dechunk(hdr_end, end, eof, plain, &blen, why, whylen)) != 0) {
			free(plain);
			return r;
		}
		body = plain;
	} else if (!eof) {
		return CFSSL_MORE;	/* the end of the connection ends the body */
	}
	r = decode_json(body, blen, status, cert, why, whylen);
	free(plain);
	return r;
}
