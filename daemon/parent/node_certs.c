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

/*
 * One certificate of a bundle file, parsed; why names the file and the
 * certificate's place in it.
 */
static int
cert_at(const char *state_dir, const char *name, const char *pem, size_t i,
    struct x509_cert_info *info, char *why, size_t whylen)
{
	char *one = NULL;
	size_t len;
	int r;

	if ((r = x509_bundle_get(pem, strlen(pem), i, &one, &len)) == 0)
		r = x509_cert_info(one, len, info);
	free(one);
	if (r != 0) {
		snprintf(why, whylen, "%s/certificates/%s is damaged: certificate %zu of it "
		    "cannot be read (%s)", state_dir, name, i + 1, hush_strerror(r));
		return HUSH_E_CORRUPT;
	}
	return 0;
}

/* A file of PEM certificates: how many, at least one, all readable. */
static int
bundle_load(const char *state_dir, const char *name, char **pem, size_t *n, char *why,
    size_t whylen)
{
	int r;

	if ((*pem = node_state_read_cert(state_dir, name)) == NULL) {
		snprintf(why, whylen, "%s/certificates/%s cannot be read (missing, empty, "
		    "or over %d bytes)", state_dir, name, NODE_CERT_MAX);
		return HUSH_E_IO;
	}
	if ((r = x509_bundle_count(*pem, strlen(*pem), n)) != 0) {
		snprintf(why, whylen, "%s/certificates/%s is damaged: it is not PEM "
		    "certificates and nothing else (%s)", state_dir, name, hush_strerror(r));
		free(*pem);
		*pem = NULL;
		return HUSH_E_CORRUPT;
	}
	return 0;
}

int
node_certs_read(const char *state_dir, char **leaf, char **chain)
{
	char *pem, why[64];
	size_t n, len;
	int r;

	*leaf = *chain = NULL;
	if ((r = bundle_load(state_dir, "node.crt", &pem, &n, why, sizeof(why))) != 0)
		return r;
	/* node_certs_check() holds it to a leaf and one intermediate at most. */
	if ((r = x509_bundle_get(pem, strlen(pem), 0, leaf, &len)) == 0 && n > 1)
		r = x509_bundle_get(pem, strlen(pem), 1, chain, &len);
	free(pem);
	if (r != 0) {
		free(*leaf);
		*leaf = NULL;
	}
	return r;
}

int
node_certs_check(const char *state_dir, const struct secbuf *node_key, char *why,
    size_t whylen)
{
	struct x509_cert_info info;
	char *ca = NULL, *cert = NULL, *leaf = NULL;
	size_t n, len, i;
	int r;

	if ((r = bundle_load(state_dir, "ca.crt", &ca, &n, why, whylen)) != 0)
		goto out;
	/* Every certificate a node trusts is a root: the cluster's, or a rotation's next. */
	for (i = 0; i < n; i++) {
		if ((r = cert_at(state_dir, "ca.crt", ca, i, &info, why, whylen)) != 0)
			goto out;
		if (!info.is_ca) {
			snprintf(why, whylen, "%s/certificates/ca.crt is damaged: certificate "
			    "%zu of it is not a CA certificate (CN=%s)", state_dir, i + 1,
			    info.subject.cn);
			r = HUSH_E_CORRUPT;
			goto out;
		}
	}
	/* The leaf, and at most the one intermediate a rotation adds after it. */
	if ((r = bundle_load(state_dir, "node.crt", &cert, &n, why, whylen)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = cert_at(state_dir, "node.crt", cert, i, &info, why, whylen)) != 0)
			goto out;
	if (n > 2) {
		snprintf(why, whylen, "%s/certificates/node.crt is damaged: it holds %zu "
		    "certificates, not a leaf and at most one intermediate", state_dir, n);
		r = HUSH_E_CORRUPT;
		goto out;
	}
	if ((r = x509_bundle_get(cert, strlen(cert), 0, &leaf, &len)) != 0)
		goto out;
	if (node_key != NULL && !x509_cert_matches_key(leaf, len, node_key)) {
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
	free(leaf);
	return r;
}
