#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"

static int
valid_hostname(const char *h, size_t len)
{
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!isalnum(c) && c != '-' && c != '.')
			return 0;
	}
	return h[0] != '-' && h[0] != '.';
}

int
addr_normalize(const char *in, unsigned default_port, char *out, size_t outcap,
    char *why, size_t whylen)
{
	char host[256];
	const char *colon, *portstr = NULL;
	size_t hlen;
	unsigned long port = default_port;
	char *end;
	struct in6_addr a6;
	int n;

	if (in == NULL || *in == '\0') {
		snprintf(why, whylen, "address is empty");
		return HUSH_E_INVAL;
	}
	if (in[0] == '[') {
		const char *close = strchr(in, ']');

		if (close == NULL) {
			snprintf(why, whylen, "address '%s' has no closing ']'", in);
			return HUSH_E_INVAL;
		}
		hlen = (size_t)(close - in - 1);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, in + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			snprintf(why, whylen, "'%s' is not an IPv6 address", host);
			return HUSH_E_INVAL;
		}
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1] != '\0')
			goto bad;
	} else {
		colon = strchr(in, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			snprintf(why, whylen, "IPv6 address '%s' must be written as [ADDR]:PORT", in);
			return HUSH_E_INVAL;
		}
		hlen = colon ? (size_t)(colon - in) : strlen(in);
		if (hlen >= sizeof(host) || !valid_hostname(in, hlen))
			goto bad;
		memcpy(host, in, hlen);
		host[hlen] = '\0';
		if (colon != NULL)
			portstr = colon + 1;
	}
	if (portstr != NULL) {
		port = strtoul(portstr, &end, 10);
		if (*portstr == '\0' || *end != '\0' || port == 0 || port > 65535 ||
		    !isdigit((unsigned char)*portstr)) {
			snprintf(why, whylen, "port in '%s' must be a number from 1 to 65535", in);
			return HUSH_E_INVAL;
		}
	}
	if (in[0] == '[')
		n = snprintf(out, outcap, "[%s]:%lu", host, port);
	else
		n = snprintf(out, outcap, "%s:%lu", host, port);
	if (n < 0 || (size_t)n >= outcap)
		goto bad;
	return 0;
bad:
	snprintf(why, whylen, "'%.64s' is not a valid HOST[:PORT] address", in);
	return HUSH_E_INVAL;
}

void
addr_default_ipv4(char *out, size_t outcap)
{
	struct ifaddrs *ifa, *i;

	snprintf(out, outcap, "127.0.0.1");
	if (getifaddrs(&ifa) != 0)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out,
		    (socklen_t)outcap);
		break;
	}
	freeifaddrs(ifa);
}
