#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "err.h"
#include "from_parent.h"
#include "join_token.h"
#include "log.h"
#include "msg.h"
#include "pki.h"
#include "secbuf.h"
#include "x509.h"

static const uint16_t pki_requests[] = {
	PKI_CA_CREATE, PKI_CA_LOAD, PKI_ISSUE, PKI_CA_ROTATE, 0
};

/*
 * The CA this process signs with, empty until created or loaded; during
 * a rotation also the next root, the current root's cross-signature of
 * it and the phase, which says which of the two signs (enum ca_phase).
 */
static struct pki_root cur = { .pem = NULL, .len = 0, .key = SECBUF_INIT };
static struct pki_root nxt = { .pem = NULL, .len = 0, .key = SECBUF_INIT };
static char *cross;
static size_t cross_len;
static uint8_t phase = CA_PHASE_NONE;

#define WHY_EXTERNAL \
	"this cluster's CA is external: an external CA signs its certificates"

static void pki_main(int fd);

const struct child_desc pki_child = {
	.name = "pki",
	.max_msg = PKI_MAX_MSG,
	.allow_fds = false,
	.from_child = NULL,
	.caps = NULL,
	.ncaps = 0,
	.unprivileged = true,
	.keyheap = true,
	.sandbox = &pki_sandbox,
	.main = pki_main,
};

static void
root_clear(struct pki_root *root)
{
	secbuf_free(&root->key);
	free(root->pem);
	root->pem = NULL;
	root->len = 0;
}

static void
ca_forget(void)
{
	root_clear(&cur);
	root_clear(&nxt);
	free(cross);
	cross = NULL;
	cross_len = 0;
	phase = CA_PHASE_NONE;
}

static int
reply_digest(struct wire_enc *e)
{
	uint8_t digest[32];
	int r;

	if ((r = join_token_digest_pem(cur.pem, cur.len, digest)) != 0)
		return r;
	wire_put_bytes(e, T_DIGEST, digest, sizeof(digest));
	return 0;
}

static int
do_ca_create(const struct wire_msg *m, struct wire_enc *e, char *why, size_t whylen)
{
	int64_t now;
	uint64_t lifetime;
	int r;

	if (wire_get_i64(m, T_NOW, &now) != 0 ||
	    wire_get_u64(m, T_LIFETIME, &lifetime) != 0)
		return HUSH_E_PROTO;
	ca_forget();
	if ((r = x509_ca_create(now, lifetime, &cur.key, &cur.pem, &cur.len)) != 0) {
		snprintf(why, whylen, "cannot create the root CA");
		return r;
	}
	wire_put_str(e, T_CA_CERT, cur.pem);
	wire_put_bytes(e, T_CA_KEY, cur.key.p, cur.key.len);
	log_info("created a new root CA");
	return reply_digest(e);
}

/* An optional PEM field, copied out NUL-terminated (NULL when absent). */
static int
pem_take(const struct wire_msg *m, uint16_t tag, char **pem, size_t *len)
{
	const struct wire_field *f = wire_find(m, tag, 0);

	*pem = NULL;
	*len = 0;
	if (f == NULL)
		return 0;
	if (memchr(f->val, '\0', f->len) != NULL)
		return HUSH_E_PROTO;
	if ((*pem = strndup((const char *)f->val, f->len)) == NULL)
		return HUSH_E_NOMEM;
	*len = f->len;
	return 0;
}

/* A root's certificate and optional key, out of the cert and key tags. */
static int
root_take(const struct wire_msg *m, uint16_t cert_tag, uint16_t key_tag,
    struct pki_root *root)
{
	const struct wire_field *kf;
	int r;

	if ((r = pem_take(m, cert_tag, &root->pem, &root->len)) != 0)
		return r;
	if ((kf = wire_find(m, key_tag, 0)) == NULL)
		return 0;
	return secbuf_dup(&root->key, kf->val, kf->len);
}

/* The checks of a root the store holds: a CA, with its own key if any. */
static int
root_check(const struct pki_root *root, const char *what, const char *cert_tag,
    const char *key_tag, char *why, size_t whylen)
{
	struct x509_cert_info info;

	if (x509_cert_info(root->pem, root->len, &info) != 0 || !info.is_ca) {
		snprintf(why, whylen, "the stored %s (%s) is not a CA certificate",
		    what, cert_tag);
		return HUSH_E_CORRUPT;
	}
	if (root->key.len > 0 &&
	    !x509_ca_matches_key(root->pem, root->len, &root->key)) {
		snprintf(why, whylen, "the stored %s key (%s) does not match its "
		    "certificate", what, key_tag);
		return HUSH_E_CORRUPT;
	}
	return 0;
}

/*
 * The whole CA state as the store holds it.  Anything that does not hang
 * together (a key of another certificate, a cross-signed certificate that
 * is not the current root's word for the next one) is refused, and pki
 * then holds nothing: it signs with the store's CA or not at all.
 */
static int
ca_load(const struct wire_msg *m, char *why, size_t whylen)
{
	char cross_why[256];
	int r;

	if ((r = root_take(m, T_CA_CERT, T_CA_KEY, &cur)) != 0 ||
	    (r = root_take(m, T_CA_NEXT, T_CA_NEXT_KEY, &nxt)) != 0 ||
	    (r = pem_take(m, T_CA_CROSS, &cross, &cross_len)) != 0)
		return r;
	if (wire_find(m, T_CA_PHASE, 0) != NULL &&
	    wire_get_u8(m, T_CA_PHASE, &phase) != 0)
		return HUSH_E_PROTO;
	if (cur.pem == NULL)
		return HUSH_E_PROTO;	/* the schema requires it */
	if ((r = root_check(&cur, "root CA", "T_CA_CERT", "T_CA_KEY", why,
	    whylen)) != 0)
		return r;
	if (phase != CA_PHASE_NONE && phase != CA_PHASE_TRUST &&
	    phase != CA_PHASE_RENEW) {
		snprintf(why, whylen, "the stored rotation phase (T_CA_PHASE) %u "
		    "is unknown", phase);
		return HUSH_E_CORRUPT;
	}
	if (nxt.pem == NULL) {
		if (nxt.key.len > 0 || cross != NULL || phase != CA_PHASE_NONE) {
			snprintf(why, whylen, "the stored rotation has no next "
			    "root (T_CA_NEXT)");
			return HUSH_E_CORRUPT;
		}
		return 0;
	}
	if ((r = root_check(&nxt, "next root", "T_CA_NEXT", "T_CA_NEXT_KEY",
	    why, whylen)) != 0)
		return r;
	if (cross != NULL && x509_ca_check_cross(cross, cross_len, cur.pem,
	    cur.len, nxt.pem, nxt.len, cross_why, sizeof(cross_why)) != 0) {
		snprintf(why, whylen, "the stored cross-signed certificate "
		    "(T_CA_CROSS) is wrong: %s", cross_why);
		return HUSH_E_CORRUPT;
	}
	return 0;
}

static int
do_ca_load(const struct wire_msg *m, struct wire_enc *e, char *why, size_t whylen)
{
	int r;

	ca_forget();
	if ((r = ca_load(m, why, whylen)) != 0) {
		ca_forget();
		return r;
	}
	return reply_digest(e);
}

static int
do_issue(const struct wire_msg *m, struct wire_enc *e, char *why, size_t whylen)
{
	struct x509_subject subj;
	struct x509_cert_info info;
	const struct pki_root *signer;
	const uint8_t *csr;
	size_t csrlen, certlen;
	int64_t now;
	uint64_t lifetime;
	char *cert = NULL;
	int r;

	if (cur.pem == NULL) {
		snprintf(why, whylen, "no root CA is loaded");
		return HUSH_E_UNAVAIL;
	}
	/* In a rotation's RENEW phase the next root issues: nodes move to it. */
	signer = phase == CA_PHASE_RENEW && nxt.pem != NULL ? &nxt : &cur;
	if (signer->key.len == 0) {
		snprintf(why, whylen, WHY_EXTERNAL);
		return HUSH_E_UNAVAIL;
	}
	memset(&subj, 0, sizeof(subj));
	if (wire_get_bytes(m, T_CSR, &csr, &csrlen) != 0 ||
	    wire_get_str(m, T_SUBJ_CN, subj.cn, sizeof(subj.cn)) != 0 ||
	    wire_get_str(m, T_SUBJ_OU, subj.ou, sizeof(subj.ou)) != 0 ||
	    wire_get_str(m, T_SUBJ_O, subj.o, sizeof(subj.o)) != 0 ||
	    wire_get_i64(m, T_NOW, &now) != 0 ||
	    wire_get_u64(m, T_LIFETIME, &lifetime) != 0)
		return HUSH_E_PROTO;
	if (lifetime < PKI_CERT_MIN_LIFETIME || lifetime > PKI_CERT_MAX_LIFETIME) {
		snprintf(why, whylen, "certificate lifetime %llu s is outside 1h..10y",
		    (unsigned long long)lifetime);
		return HUSH_E_RANGE;
	}
	if (x509_ou_role(subj.ou) == 0) {
		snprintf(why, whylen, "unknown node role '%s'", subj.ou);
		return HUSH_E_INVAL;
	}
	r = x509_csr_sign(csr, csrlen, &signer->key, signer->pem, signer->len,
	    &subj, now, lifetime, &cert, &certlen, why, whylen);
	if (r != 0)
		return r;
	if ((r = x509_cert_info(cert, certlen, &info)) == 0) {
		wire_put_str(e, T_CERT, cert);
		wire_put_i64(e, T_CERT_NOT_AFTER, info.not_after);
		/* Nodes that trust only the current root need the way to it. */
		if (signer == &nxt && cross != NULL)
			wire_put_str(e, T_CA_CHAIN, cross);
	}
	free(cert);
	return r;
}

/* The channel to the parent; set when the parent is gone. */
static struct chan ch;
static bool parent_gone;

static void
pki_send(struct wire_enc *e)
{
	const uint8_t *out;
	size_t outlen;
	int r;

	if ((r = wire_enc_finish(e, &out, &outlen)) == 0)
		r = chan_send_wait(&ch, out, outlen, -1);
	wire_enc_free(e);
	/* The parent went while we worked: stop, as when it closes. */
	if (r == HUSH_E_IO) {
		log_debug("the parent is gone; shutting down");
		parent_gone = true;
		return;
	}
	if (r != 0)
		fatal_r(r, "replying to the parent");
}

static const struct parent_link parent = {
	.child = "pki",
	.max_msg = PKI_MAX_MSG,
	.allowed = pki_requests,
	.with_fd = NULL,
	.send = pki_send,
};

static void
pki_main(int fd)
{
	struct chan_msg cm;
	struct wire_msg *m;
	struct wire_enc e;
	char why[512];
	int r;

	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	if ((m = malloc(sizeof(*m))) == NULL)
		fatal("out of memory");
	chan_init(&ch, fd, "parent", PKI_MAX_MSG, false);
	while (!parent_gone) {
		r = chan_recv_wait(&ch, &cm, -1);
		if (r == HUSH_E_IO)
			break;		/* parent closed the channel: shut down */
		if (r == HUSH_E_SYS)
			fatal_r(r, "waiting for the parent");
		if (r < 0) {
			parent_msg_lost(&parent, &ch, r);
			continue;
		}
		/* A request the parent got wrong is answered, not fatal (from_parent.c). */
		if (parent_msg_take(&parent, &cm, m, why, sizeof(why)) != PARENT_MSG_OK) {
			chan_msg_free(&cm);
			continue;
		}
		wire_enc_init(&e, m->hdr.type | MSG_REPLY, m->hdr.request_id, PKI_MAX_MSG);
		why[0] = '\0';
		switch (m->hdr.type) {
		case PKI_CA_CREATE:
			r = do_ca_create(m, &e, why, sizeof(why));
			break;
		case PKI_CA_LOAD:
			r = do_ca_load(m, &e, why, sizeof(why));
			break;
		case PKI_ISSUE:
			r = do_issue(m, &e, why, sizeof(why));
			break;
		case PKI_CA_ROTATE:
			r = pki_rotate(m, &cur, &e, why, sizeof(why));
			break;
		default:
			fatal("unhandled request type 0x%04x", m->hdr.type);
		}
		if (r == 0)
			r = e.err;
		if (r != 0) {
			wire_enc_free(&e);
			/* A failure fails e: pki_send() is fatal on that. */
			(void)!msg_error_reply(&e, m->hdr.request_id, r, why);
		}
		chan_msg_free(&cm);
		pki_send(&e);
	}
	ca_forget();
	free(m);
	chan_close(&ch);
}
