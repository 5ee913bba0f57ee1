/*
 * Node addresses as operators write them: HOST[:PORT] where HOST is an IPv4
 * address, a bracketed IPv6 address or a DNS name.
 */
#ifndef HUSH_ADDR_H
#define HUSH_ADDR_H

#include <stddef.h>

#define ADDR_MAX 262	/* 253-byte name + ":65535" + brackets */

/* Writes HOST:PORT (default_port added when none is given). */
int	addr_normalize(const char *in, unsigned default_port, char *out, size_t outcap,
	    char *why, size_t whylen);
/* The first non-loopback IPv4 address of an interface that is up, else 127.0.0.1. */
void	addr_default_ipv4(char *out, size_t outcap);

#endif
