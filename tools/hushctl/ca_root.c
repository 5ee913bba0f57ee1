/*
 * Reading a root's files for hushd (ca_root.h).  The bytes go as they
 * are: hushd's pki process is the one that parses a key, and the one
 * that must check the certificate against it; here only what cannot be
 * a root at all is refused, so the operator hears about a wrong file
 * name before a daemon is asked.
 */
#include <stdio.h>
#include <string.h>

#include "ca_args.h"
#include "ca_root.h"
#include "hushctl.h"
#include "msg.h"
#include "readfile.h"

#define PEM_CERT	"-----BEGIN CERTIFICATE-----"

/*
 * One file of at most max bytes into buf; cert: it must be text holding
 * a PEM certificate (WIRE_STR carries no NUL).
 */
static int
read_one(const char *cmd, const char *opt, const char *path, size_t max,
    bool cert, struct secbuf *buf, size_t *len)
{
	char who[96];
	int r;

	/* "init: --ca-cert: cannot open FILE: why" */
	snprintf(who, sizeof(who), "%s: %s", cmd, opt);
	if ((r = read_bounded(who, path, max, false, buf, len)) != 0)
		return r;
	if (*len > max)
		r = fail("%s: %s %s is larger than %zu bytes", cmd, opt, path, max);
	else if (*len == 0)
		r = fail("%s: %s %s is empty", cmd, opt, path);
	else if (cert && memchr(buf->p, '\0', *len) != NULL)
		r = fail("%s: %s %s is not a PEM file: it holds a NUL byte", cmd,
		    opt, path);
	else if (cert && memmem(buf->p, *len, PEM_CERT, strlen(PEM_CERT)) == NULL)
		r = fail("%s: %s %s holds no PEM certificate (" PEM_CERT ")",
		    cmd, opt, path);
	if (r != 0) {
		secbuf_free(buf);
		*len = 0;
	}
	return r;
}

int
ca_root_read(const char *cmd, const char *cert_path, const char *key_path,
    const struct extca_spec *extca, struct ca_root *r)
{
	int rc = 0;

	*r = (struct ca_root)CA_ROOT_INIT;
	if (cert_path != NULL)
		rc = read_one(cmd, "--ca-cert", cert_path, CA_CERT_FILE_MAX, true,
		    &r->cert, &r->cert_len);
	if (rc == 0 && key_path != NULL)
		rc = read_one(cmd, "--ca-key", key_path, CA_KEY_FILE_MAX, false,
		    &r->key, &r->key_len);
	if (rc == 0 && extca != NULL && extca->cacert[0] != '\0')
		rc = read_one(cmd, "--external-ca cacert", extca->cacert,
		    CA_CERT_FILE_MAX, true, &r->cacert, &r->cacert_len);
	if (rc != 0) {
		ca_root_free(r);
		return rc;
	}
	if (extca != NULL)
		r->url = extca->url;
	return 0;
}

void
ca_root_put(struct wire_enc *e, const struct ca_root *r)
{
	if (r->cert_len > 0)
		wire_put_bytes(e, T_CA_CERT, r->cert.p, r->cert_len);
	if (r->key_len > 0)
		wire_put_bytes(e, T_CA_KEY, r->key.p, r->key_len);
	if (r->url != NULL)
		wire_put_str(e, T_EXTCA_URL, r->url);
	if (r->cacert_len > 0)
		wire_put_bytes(e, T_EXTCA_CACERT, r->cacert.p, r->cacert_len);
}

void
ca_root_free(struct ca_root *r)
{
	secbuf_free(&r->cert);
	secbuf_free(&r->key);
	secbuf_free(&r->cacert);
	r->cert_len = r->key_len = r->cacert_len = 0;
	r->url = NULL;
}
