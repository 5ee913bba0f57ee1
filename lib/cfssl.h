/*
 * An external CA's signing API, as cfssl speaks it (`cfssl serve`, and
 * Docker Swarm's --external-ca protocol=cfssl): one HTTPS POST of a CSR
 * and the subject hush wants to /api/v1/cfssl/sign, one JSON answer
 *
 *   {"success": true,  "result": {"certificate": "<PEM>"}, ...}
 *   {"success": false, "errors": [{"code": N, "message": "..."}], ...}
 *
 * These are the pure parts, so they can be tested and fuzzed without a
 * network: the URL an operator gives, the request net sends, and the
 * decoder of the CA's answer -- untrusted bytes from whatever answers at
 * that address, read whole by net (daemon/net/extca.c) before decoding.
 */
#ifndef HUSH_CFSSL_H
#define HUSH_CFSSL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFSSL_SIGN_PATH		"/api/v1/cfssl/sign"
#define CFSSL_DEFAULT_PORT	"443"
/* The whole HTTP answer, headers included: a certificate bundle fits many times. */
#define CFSSL_REPLY_MAX		65536
#define CFSSL_HEADERS_MAX	8192
/* How much of the CA's own error message is kept for the operator. */
#define CFSSL_MESSAGE_MAX	300

/* cfssl_reply_parse(): the answer is not all there yet. */
#define CFSSL_MORE		1

/*
 * An external CA's URL: https://HOST[:PORT] with an optional "/" and
 * nothing else (the API's path is added).  HOST is an IPv4 address, a
 * bracketed IPv6 address, or a DNS name.
 */
struct cfssl_url {
	char	host[254];	/* without brackets: what TLS checks the certificate for */
	char	port[6];
	bool	is_ip;		/* an IP literal: checked as an IP SAN, sent without SNI */
	char	hostport[262];	/* HOST[:PORT] as written, for the Host header */
};
int	cfssl_url_parse(const char *url, struct cfssl_url *out, char *why, size_t whylen);

/*
 * The whole HTTP/1.1 request (malloc'd into *req, *reqlen bytes): csr_der
 * as PEM, the subject CN, OU and O as cfssl's "subject" (which overrides
 * whatever the CSR says: hush's CSRs have an empty subject).
 */
int	cfssl_sign_request(const struct cfssl_url *u, const uint8_t *csr_der, size_t csrlen,
	    const char *cn, const char *ou, const char *o, char **req, size_t *reqlen);

/*
 * The answer in buf (everything read so far; eof: the connection ended).
 * 0: the CA signed, *cert (malloc'd, NUL-terminated) is its "certificate"
 * field, one or more PEM certificates, leaf first.  CFSSL_MORE: read on.
 * HUSH_E_PERM: the CA refused, why is its own message.  Any other
 * negative code: the answer is malformed (why says how), or over
 * CFSSL_REPLY_MAX (HUSH_E_TOOBIG).
 */
int	cfssl_reply_parse(const uint8_t *buf, size_t len, bool eof, char **cert,
	    char *why, size_t whylen);

#endif
