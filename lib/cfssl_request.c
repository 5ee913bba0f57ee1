/*
 * What hush says to an external CA (cfssl.h): the URL the operator gave,
 * checked once where it is given and again where it is used, and the
 * signing request.  The JSON is built by jansson, so a subject can never
 * break out of its string.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cfssl.h"
#include "err.h"

static bool
dns_name(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

int
cfssl_url_parse(const char *url, struct cfssl_url *out, char *why, size_t whylen)
{
	const char *p, *end, *hend, *colon = NULL;
	struct in6_addr a6;
	struct in_addr a4;
	size_t hlen, plen;
	char *e;
	long port;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "https://", 8) != 0) {
		snprintf(why, whylen, "the external CA's URL %.200s is not https://HOST[:PORT]: "
		    "hush reaches an external CA only over TLS", url);
		return HUSH_E_INVAL;
	}
	p = url + 8;
	end = p + strlen(p);
	if (end > p && end[-1] == '/')
		end--;
	if (memchr(p, '/', (size_t)(end - p)) != NULL || memchr(p, '?', (size_t)(end - p)) ||
	    memchr(p, '@', (size_t)(end - p)) != NULL || memchr(p, '#', (size_t)(end - p))) {
		snprintf(why, whylen, "the external CA's URL %.200s has a path, query or user: "
		    "give https://HOST[:PORT] only (%s is added)", url, CFSSL_SIGN_PATH);
		return HUSH_E_INVAL;
	}
	if (p < end && *p == '[') {
		if ((hend = memchr(p, ']', (size_t)(end - p))) == NULL)
			goto bad;
		hlen = (size_t)(hend - p - 1);
		if (hlen == 0 || hlen >= sizeof(out->host))
			goto bad;
		memcpy(out->host, p + 1, hlen);
		if (inet_pton(AF_INET6, out->host, &a6) != 1)
			goto bad;
		out->is_ip = true;
		hend++;
		if (hend < end && *hend != ':')
			goto bad;
		colon = hend < end ? hend : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		hend = colon != NULL ? colon : end;
		hlen = (size_t)(hend - p);
		if (hlen == 0 || hlen >= sizeof(out->host))
			goto bad;
		memcpy(out->host, p, hlen);
		if (inet_pton(AF_INET, out->host, &a4) == 1)
			out->is_ip = true;
		else if (!dns_name(out->host))
			goto bad;
	}
	if (colon != NULL) {
		plen = (size_t)(end - colon - 1);
		if (plen == 0 || plen >= sizeof(out->port) ||
		    strspn(colon + 1, "0123456789") < plen)
			goto bad;
		memcpy(out->port, colon + 1, plen);
		port = strtol(out->port, &e, 10);
		if (port < 1 || port > 65535)
			goto bad;
	} else {
		snprintf(out->port, sizeof(out->port), "%s", CFSSL_DEFAULT_PORT);
	}
	if ((size_t)(end - p) >= sizeof(out->hostport))
		goto bad;
	memcpy(out->hostport, p, (size_t)(end - p));
	return 0;
 bad:
	memset(out, 0, sizeof(*out));
	snprintf(why, whylen, "the external CA's URL %.200s is not https://HOST[:PORT] "
	    "(HOST: an IPv4 address, [IPv6] or a DNS name; PORT: 1-65535)", url);
	return HUSH_E_INVAL;
}

/* DER as PEM, 64 columns, as cfssl's Go PEM decoder (and any other) reads it. */
static char *
csr_pem(const uint8_t *der, size_t len)
{
	static const char head[] = "-----BEGIN CERTIFICATE REQUEST-----\n";
	static const char tail[] = "-----END CERTIFICATE REQUEST-----\n";
	size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	size_t n, lines = b64len / 64 + 1, o;
	char *b64, *pem;

	if ((b64 = malloc(b64len)) == NULL)
		return NULL;
	sodium_bin2base64(b64, b64len, der, len, sodium_base64_VARIANT_ORIGINAL);
	n = strlen(b64);
	if ((pem = malloc(sizeof(head) + n + lines + sizeof(tail))) == NULL) {
		free(b64);
		return NULL;
	}
	o = 0;
	memcpy(pem, head, sizeof(head) - 1);
	o += sizeof(head) - 1;
	for (size_t i = 0; i < n; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;

		memcpy(pem + o, b64 + i, k);
		o += k;
		pem[o++] = '\n';
	}
	memcpy(pem + o, tail, sizeof(tail));
	free(b64);
	return pem;
}

int
cfssl_sign_request(const struct cfssl_url *u, const uint8_t *csr_der, size_t csrlen,
    const char *cn, const char *ou, const char *o, char **req, size_t *reqlen)
{
	json_t *j = NULL;
	char *pem = NULL, *body = NULL, *out = NULL;
	size_t blen, cap;
	int n, r = HUSH_E_NOMEM;

	*req = NULL;
	*reqlen = 0;
	if (csrlen == 0 || (pem = csr_pem(csr_der, csrlen)) == NULL)
		goto out;
	j = json_pack("{s:s, s:{s:s, s:[{s:s, s:s}]}}", "certificate_request", pem,
	    "subject", "CN", cn, "names", "OU", ou, "O", o);
	if (j == NULL) {
		r = HUSH_E_INVAL;	/* not UTF-8 */
		goto out;
	}
	if ((body = json_dumps(j, JSON_COMPACT)) == NULL)
		goto out;
	blen = strlen(body);
	cap = blen + 512 + strlen(u->hostport);
	if ((out = malloc(cap)) == NULL)
		goto out;
	n = snprintf(out, cap, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hushd\r\n"
	    "Accept: application/json\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", CFSSL_SIGN_PATH,
	    u->hostport, blen, body);
	if (n < 0 || (size_t)n >= cap) {
		r = HUSH_E_INTERNAL;
		goto out;
	}
	*req = out;
	*reqlen = (size_t)n;
	out = NULL;
	r = 0;
 out:
	free(out);
	free(body);
	free(pem);
	json_decref(j);
	return r;
}
