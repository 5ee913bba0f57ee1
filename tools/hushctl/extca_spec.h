/*
 * --external-ca's value, as docker swarm spells it:
 * protocol=cfssl,url=https://HOST[:PORT][,cacert=FILE].  Parsed without
 * I/O (the cacert file is read by the caller) so that the unit tests and
 * the fuzzer drive it directly.
 */
#ifndef HUSHCTL_EXTCA_SPEC_H
#define HUSHCTL_EXTCA_SPEC_H

#include <stdbool.h>
#include <stddef.h>

/* T_EXTCA_URL's bound in lib/msg.c. */
#define EXTCA_URL_MAX		1024
/* A path as the kernel takes it. */
#define EXTCA_PATH_MAX		4096

struct extca_spec {
	char	url[EXTCA_URL_MAX + 1];		/* as sent in T_EXTCA_URL */
	char	cacert[EXTCA_PATH_MAX + 1];	/* the file; "" when not given */
};

/*
 * Parses s into out: comma-separated KEY=VALUE parts, each key at most
 * once, no empty value.  protocol (required) must be "cfssl"; url
 * (required) https://HOST[:PORT] without a path, as hushd adds cfssl's
 * /api/v1/cfssl/sign itself (HOST and PORT as cfssl_url_parse() takes
 * them); cacert (optional) names a PEM file the CA's TLS certificate
 * must chain to.  Returns 0, or HUSH_E_FORMAT /
 * HUSH_E_TOOBIG with a one-line reason in why that names the part at
 * fault; out is then zeroed.
 */
int	extca_spec_parse(const char *s, struct extca_spec *out, char *why,
	    size_t whylen);

#endif
