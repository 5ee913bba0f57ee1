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

static const uint16_t pki_requests[] = { PKI_CA_CREATE, PKI_CA_LOAD, PKI_ISSUE, 0 };

/* The CA this process signs with; empty until created or loaded. */
static struct secbuf ca_key = SECBUF_INIT;
static char *ca_cert;
static size_t ca_cert_len;

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
ca_forget(void)
{
	secbuf_free(&ca_key);
	free(ca_cert);
	ca_cert = NULL;
	ca_cert_len = 0;
}

static int
reply_digest(struct wire_enc *e)
{
	uint8_t digest[32];
	int r;

	if ((r = join_token_digest_pem(ca_cert, ca_cert_len, digest)) != 0)
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
	if ((r = x509_ca_create(now, lifetime, &ca_key, &ca_cert, &ca_cert_len)) != 0) {
		snprintf(why, whylen, "cannot create the root CA");
		return r;
	}
	wire_put_str(e, T_CA_CERT, ca_cert);
	wire_put_bytes(e, T_CA_KEY, ca_key.p, ca_key.len);
	log_info("created a new root CA");
	return reply_digest(e);
}

static int
do_ca_load(const struct wire_msg *m, struct wire_enc *e, char *why, size_t whylen)
{
	const uint8_t *key;
	size_t keylen;
	struct x509_cert_info info;
	char *pem;
	int r;

	if ((pem = malloc(16384 + 1)) == NULL)
		return HUSH_E_NOMEM;
	if (wire_get_str(m, T_CA_CERT, pem, 16384 + 1) != 0) {
		free(pem);
		return HUSH_E_PROTO;
	}
	/* No key: an external CA signs, and PKI_ISSUE says so. */
	if (wire_get_bytes(m, T_CA_KEY, &key, &keylen) != 0)
		keylen = 0;
	if ((r = x509_cert_info(pem, strlen(pem), &info)) != 0 || !info.is_ca) {
		snprintf(why, whylen, "the stored root CA certificate is not a CA certificate");
		free(pem);
		return r != 0 ? r : HUSH_E_CORRUPT;
	}
	ca_forget();
	if (keylen > 0 && (r = secbuf_dup(&ca_key, key, keylen)) != 0) {
		free(pem);
		return r;
	}
	ca_cert = pem;
	ca_cert_len = strlen(pem);
	if (keylen > 0 && !x509_cert_matches_key(ca_cert, ca_cert_len, &ca_key)) {
		ca_forget();
		snprintf(why, whylen, "the stored root CA key does not match its certificate");
		return HUSH_E_CORRUPT;
	}
	return reply_digest(e);
}

static int
do_issue(const struct wire_msg *m, struct wire_enc *e, char *why, size_t whylen)
{
	struct x509_subject subj;
	struct x509_cert_info info;
	const uint8_t *csr;
	size_t csrlen, certlen;
	int64_t now;
	uint64_t lifetime;
	char *cert = NULL;
	int r;

	if (ca_cert == NULL) {
		snprintf(why, whylen, "no root CA is loaded");
		return HUSH_E_UNAVAIL;
	}
	if (ca_key.len == 0) {
		snprintf(why, whylen, "this cluster's CA is external");
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
	r = x509_csr_sign(csr, csrlen, &ca_key, ca_cert, ca_cert_len, &subj, now,
	    lifetime, &cert, &certlen, why, whylen);
	if (r != 0)
		return r;
	if ((r = x509_cert_info(cert, certlen, &info)) == 0) {
		wire_put_str(e, T_CERT, cert);
		wire_put_i64(e, T_CERT_NOT_AFTER, info.not_after);
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
