/*
 * PKI_CA_ROTATE: the root a rotation moves to.  pki makes it, or checks
 * the one the operator gave (with its key, or alone when an external CA
 * holds the key), and has the current root vouch for it with a
 * cross-signed certificate when pki holds the current root's key.  The
 * answer only carries the rotation: the parent stores it through raft and
 * loads it back with PKI_CA_LOAD, so every manager's pki signs alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "msg.h"
#include "pki.h"
#include "secbuf.h"
#include "x509.h"

/* The next root: made here, or given by the operator and checked. */
static int
next_root(const struct wire_msg *m, int64_t now, uint64_t lifetime,
    struct pki_root *next, char *why, size_t whylen)
{
	const struct wire_field *cf, *kf;
	int r;

	cf = wire_find(m, T_CA_CERT, 0);
	kf = wire_find(m, T_CA_KEY, 0);
	if (cf == NULL && kf != NULL) {
		snprintf(why, whylen, "a root's key came without its certificate");
		return HUSH_E_INVAL;
	}
	if (cf == NULL) {
		if ((r = x509_ca_create(now, lifetime, &next->key, &next->pem,
		    &next->len)) != 0)
			snprintf(why, whylen, "cannot create the next root CA: %s",
			    hush_strerror(r));
		return r;
	}
	if ((r = x509_ca_check_supplied((const char *)cf->val, cf->len,
	    kf != NULL ? kf->val : NULL, kf != NULL ? kf->len : 0, now,
	    PKI_SUPPLIED_MIN_LIFE, &next->key, why, whylen)) != 0)
		return r;
	/* Stored as OpenSSL writes it: join tokens hash these bytes. */
	if ((r = x509_cert_reencode((const char *)cf->val, cf->len, &next->pem,
	    &next->len)) != 0)
		snprintf(why, whylen, "cannot re-encode the certificate: %s",
		    hush_strerror(r));
	return r;
}

int
pki_rotate(const struct wire_msg *m, const struct pki_root *cur,
    struct wire_enc *e, char *why, size_t whylen)
{
	struct pki_root next = { .pem = NULL, .len = 0, .key = SECBUF_INIT };
	struct x509_cert_info cur_info, info;
	char *cross = NULL;
	size_t cross_len = 0;
	int64_t now;
	uint64_t lifetime;
	int r;

	if (wire_get_i64(m, T_NOW, &now) != 0 ||
	    wire_get_u64(m, T_LIFETIME, &lifetime) != 0)
		return HUSH_E_PROTO;
	/*
	 * With no root yet only the operator's own can be checked: the first
	 * root of a cluster that `hushctl init --ca-cert --ca-key` makes.
	 */
	if (cur->pem == NULL && wire_find(m, T_CA_CERT, 0) == NULL) {
		snprintf(why, whylen, "no root CA is loaded");
		return HUSH_E_UNAVAIL;
	}
	if ((r = next_root(m, now, lifetime, &next, why, whylen)) != 0)
		goto out;
	if (cur->pem == NULL) {
		if ((r = x509_cert_info(next.pem, next.len, &info)) != 0)
			goto out;
		goto answer;
	}
	if ((r = x509_cert_info(cur->pem, cur->len, &cur_info)) != 0 ||
	    (r = x509_cert_info(next.pem, next.len, &info)) != 0) {
		snprintf(why, whylen, "cannot read the roots: %s", hush_strerror(r));
		goto out;
	}
	if (memcmp(cur_info.spki_sha256, info.spki_sha256,
	    sizeof(info.spki_sha256)) == 0) {
		snprintf(why, whylen, "that is the current root: a rotation needs "
		    "another key");
		r = HUSH_E_INVAL;
		goto out;
	}
	/* Without the current key (an external CA) nothing can vouch for it. */
	if (cur->key.len > 0 && (r = x509_ca_cross_sign(&cur->key, cur->pem,
	    cur->len, next.pem, next.len, now, &cross, &cross_len)) != 0) {
		snprintf(why, whylen, "cannot cross-sign the next root with the "
		    "current one: %s", hush_strerror(r));
		goto out;
	}
 answer:
	wire_put_str(e, T_CA_NEXT, next.pem);
	if (next.key.len > 0)
		wire_put_bytes(e, T_CA_NEXT_KEY, next.key.p, next.key.len);
	if (cross != NULL)
		wire_put_str(e, T_CA_CROSS, cross);
	wire_put_bytes(e, T_DIGEST, info.spki_sha256, sizeof(info.spki_sha256));
	log_info("%s a %s root%s", cur->pem == NULL ? "checked the first root of a cluster:" :
	    "made a rotation to",
	    wire_find(m, T_CA_CERT, 0) == NULL ? "new" : "supplied",
	    cross != NULL ? ", cross-signed by the current one" : "");
 out:
	free(cross);
	free(next.pem);
	secbuf_free(&next.key);
	return r;
}
