/*
 * Which combinations of the root CA options `hushctl ca` and `hushctl
 * init` take, decided without I/O before any file is read or hushd is
 * asked, so the unit tests drive the rules directly.
 */
#ifndef HUSHCTL_CA_ARGS_H
#define HUSHCTL_CA_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* What the command line gave. */
struct ca_args {
	bool	init;		/* hushctl init: no --rotate, the root options stand alone */
	bool	rotate;		/* ca --rotate */
	bool	ca_cert, ca_key, external_ca, cert_expiry;
};

/*
 * 0, or HUSH_E_FORMAT with the reason in why: a root option of `ca`
 * without --rotate; --ca-key without --ca-cert, or with --external-ca
 * (an external CA holds the key); --ca-cert without --ca-key or
 * --external-ca; --external-ca without --ca-cert (the root it signs
 * under must be given, as docker asks too).
 */
int	ca_args_check(const struct ca_args *a, char *why, size_t whylen);

/* Bounds of the files, as lib/msg.c's T_CA_CERT, T_CA_KEY, T_EXTCA_CACERT. */
#define CA_CERT_FILE_MAX	16384
#define CA_KEY_FILE_MAX		8192

#endif
