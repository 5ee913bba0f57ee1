/*
 * The certificate files in the state dir, checked before net gets them.
 *
 * net is what finally refuses a bad identity, but net never reads the
 * state dir: it is handed the bytes of certificates/node.crt,
 * certificates/ca.crt and the node key (from node.keys), and could only
 * say "this node's certificate does not match its key".  The parent read
 * the files, so it is the one that can say which file is wrong: a file that
 * is not a certificate at all is damaged, and a node.crt that does not
 * carry the key of node.keys is named together with node.keys (either may
 * be the wrong one, or a renewal was interrupted between writing them).
 * Whether the chain verifies at this instant stays net's check alone, with
 * net's clock.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "node_state.h"
#include "x509.h"

static int
cert_load(const char *state_dir, const char *name, char **pem, struct x509_cert_info *info,
    char *why, size_t whylen)
{
	int r;

	if ((*pem = node_state_read_cert(state_dir, name)) == NULL) {
		snprintf(why, whylen, "%s/certificates/%s cannot be read (missing, empty, "
		    "or over %d bytes)", state_dir, name, NODE_CERT_MAX);
		return HUSH_E_IO;
	}
	if ((r = x509_cert_info(*pem, strlen(*pem), info)) != 0) {
		snprintf(why, whylen, "%s/certificates/%s is damaged: it is not one PEM "
		    "certificate (%s)", state_dir, name, hush_strerror(r));
		free(*pem);
		*pem = NULL;
		return HUSH_E_CORRUPT;
	}
	return 0;
}

int
node_certs_check(const char *state_dir, const struct secbuf *node_key, char *why,
    size_t whylen)
{
	struct x509_cert_info info;
	char *ca = NULL, *cert = NULL;
	int r;

	if ((r = cert_load(state_dir, "ca.crt", &ca, &info, why, whylen)) != 0)
		goto out;
	if (!info.is_ca) {
		snprintf(why, whylen, "%s/certificates/ca.crt is damaged: it is not a CA "
		    "certificate (CN=%s)", state_dir, info.subject.cn);
		r = HUSH_E_CORRUPT;
		goto out;
	}
	if ((r = cert_load(state_dir, "node.crt", &cert, &info, why, whylen)) != 0)
		goto out;
	if (node_key != NULL && !x509_cert_matches_key(cert, strlen(cert), node_key)) {
		snprintf(why, whylen, "%s/certificates/node.crt does not match this node's "
		    "key in %s/node.keys: one of the two files was replaced or damaged, or "
		    "a certificate renewal was interrupted", state_dir, state_dir);
		r = HUSH_E_INVAL;
		goto out;
	}
	r = 0;
out:
	free(ca);
	free(cert);
	return r;
}
