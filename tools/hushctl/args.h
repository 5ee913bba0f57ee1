/*
 * Checks of command-line values that need no daemon, kept free of I/O so
 * the unit tests can drive them directly.  Each returns 0 or a negative
 * HUSH_E_* code with a one-line reason in why that names the argument.
 */
#ifndef HUSHCTL_ARGS_H
#define HUSHCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Shortest --cert-expiry accepted: certificates renew well before expiry. */
#define CERT_EXPIRY_MIN		3600
/* Limits of the control protocol's fields (lib/msg.c). */
#define REF_MAX			64
#define ADDR_MAX		262
/* hushd's port when an address names none (the daemon's HUSH_DEFAULT_PORT). */
#define DEFAULT_PORT		4477
/* One wire message holds at most WIRE_MAX_FIELDS fields, request id included. */
#define REFS_MAX		255
#define LABELS_MAX		253	/* besides T_REQ_ID, T_NAME and T_DATA */

enum out_format { FORMAT_TABLE, FORMAT_JSON };

/* "true"/"false" and the usual spellings of both, case-insensitively. */
int	arg_bool(const char *opt, const char *s, bool *out, char *why, size_t whylen);
/* "worker" or "manager" to the wire's enum node_role. */
int	arg_role(const char *s, uint8_t *role, char *why, size_t whylen);
/* A duration of at least CERT_EXPIRY_MIN seconds. */
int	arg_cert_expiry(const char *s, uint64_t *secs, char *why, size_t whylen);
/* HOST or HOST:PORT as the daemon's schema bounds it; the daemon parses it. */
int	arg_addr(const char *s, char *why, size_t whylen);
/*
 * HOST[:PORT] checked with addr_normalize() and written to out (at least
 * ADDR_MAX + 1 bytes) as HOST:PORT, DEFAULT_PORT when none is given.
 * what names the argument in why ("--listen-addr").
 */
int	arg_hostport(const char *what, const char *s, char *out, size_t outcap,
	    char *why, size_t whylen);
/* A secret name or id as sent in T_REF. */
int	arg_ref(const char *s, char *why, size_t whylen);
/* A node id as sent in T_REF. */
int	arg_node_ref(const char *s, char *why, size_t whylen);
/* "table" (if allowed) or "json". */
int	arg_format(const char *s, bool allow_table, enum out_format *out,
	    char *why, size_t whylen);

/* Labels given with repeated --label KEY=VALUE, checked and de-duplicated. */
struct labels {
	char	**kv;		/* "key=value", as sent in T_LABEL */
	size_t	  n;
};

#define LABELS_INIT { NULL, 0 }

int	labels_add(struct labels *l, const char *kv, char *why, size_t whylen);
void	labels_free(struct labels *l);

/*
 * The span of s[0..len) without leading and trailing whitespace: how a
 * pasted key arrives (indented like the printout, with a newline).
 */
void	trim_span(const char *s, size_t len, size_t *start, size_t *outlen);

#endif
