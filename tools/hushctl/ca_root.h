/*
 * The root a command hands hushd (`init`, `ca --rotate`): the operator's
 * certificate and key, or an external CA's root, its URL and the CA its
 * TLS certificate must chain to.  The files are read here, bounded, the
 * key into guarded memory; hushd parses and checks them.
 */
#ifndef HUSHCTL_CA_ROOT_H
#define HUSHCTL_CA_ROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "extca_spec.h"
#include "secbuf.h"
#include "wire.h"

struct ca_root {
	struct secbuf	 cert, key, cacert;	/* empty when not given */
	size_t		 cert_len, key_len, cacert_len;
	const char	*url;			/* T_EXTCA_URL, or NULL */
};

#define CA_ROOT_INIT	{ SECBUF_INIT, SECBUF_INIT, SECBUF_INIT, 0, 0, 0, NULL }

/*
 * Reads the files that --ca-cert (cert_path), --ca-key (key_path) and
 * --external-ca's cacert name (each may be NULL or, for cacert, "") into
 * r, and keeps extca's URL (extca may be NULL).  A file that cannot be
 * read, is empty or larger than its field, or a certificate file that
 * holds no PEM certificate, is reported as "hushctl: CMD: ..." naming the
 * option and the file; returns EXIT_FAIL then, with r freed.
 */
int	ca_root_read(const char *cmd, const char *cert_path, const char *key_path,
	    const struct extca_spec *extca, struct ca_root *r);
/* Adds T_CA_CERT, T_CA_KEY, T_EXTCA_URL, T_EXTCA_CACERT for what r holds. */
void	ca_root_put(struct wire_enc *e, const struct ca_root *r);
void	ca_root_free(struct ca_root *r);

#endif
