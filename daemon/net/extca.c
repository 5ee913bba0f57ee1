/*
 * NET_EXTCA_SIGN: one HTTPS request to an external CA's cfssl API
 * (lib/cfssl.h), for a cluster whose root key lives outside it.
 *
 * These calls are not peer connections (struct conn): the other end is not
 * a node, has no hush certificate and speaks HTTP, so they have their own
 * small state machine here, driven by net's one poll() loop beside the
 * connections (net_main.c).  Each call: resolve (an IP literal in place; a
 * name through getaddrinfo_a(), as sock.c does for managers, so a slow
 * resolver never stalls the loop), connect, TLS 1.2 or later verified
 * against the PEM bundle the parent sent and nothing else -- never the
 * system's store -- with the certificate checked for the URL's host name
 * or IP address, write the request, read the answer up to
 * CFSSL_REPLY_MAX, decode it.  The whole call has EXTCA_CALL_MS.
 *
 * What the CA returns goes to the parent as it came (leaf, then any
 * chain): the parent checks it against the cluster's root, the subject it
 * asked for and the CSR's key before anything uses it (node_sign.c).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "cfssl.h"
#include "err.h"
#include "log.h"
#include "net_int.h"

#define EXTCA_CALL_MS		10000	/* resolve, connect, TLS, request and answer */
#define EXTCA_PEM_MAX		16384	/* T_CERT and T_CA_CHAIN, as lib/msg.c bounds them */

enum extca_state {
	EX_RESOLVING,
	EX_CONNECTING,
	EX_HANDSHAKE,
	EX_WRITING,
	EX_READING,
	EX_DONE,		/* answered; kept only until its lookup ends */
};

struct extca_call {
	struct extca_call	*next;
	enum extca_state	 state;
	uint32_t		 parent_id;
	char			 url[1025];
	struct cfssl_url	 u;
	uint64_t		 deadline;
	/* the lookup of a name: must outlive the call until it finishes */
	bool			 gai_busy;
	struct gaicb		 cb;
	struct addrinfo		 hints;
	struct addrinfo		*ai_list, *ai_next;
	int			 fd;
	int			 connect_errno;
	SSL_CTX			*ctx;
	SSL			*ssl;
	short			 wait;		/* what OpenSSL last asked for */
	char			*req;
	size_t			 reqlen, reqoff;
	uint8_t			*in;
	size_t			 inlen;
};

static struct extca_call *calls;
static size_t ncalls;

static void
call_release(struct extca_call *x)
{
	if (x->ssl != NULL) {
		SSL_free(x->ssl);
		x->ssl = NULL;
	}
	SSL_CTX_free(x->ctx);
	x->ctx = NULL;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	if (x->ai_list != NULL)
		freeaddrinfo(x->ai_list);
	x->ai_list = x->ai_next = NULL;
	free(x->req);
	x->req = NULL;
	free(x->in);
	x->in = NULL;
	ERR_clear_error();
}

/* Answer the parent and release what the call holds; freed once its lookup is over. */
static void
call_end(struct extca_call *x, int code, const char *why, const char *cert)
{
	struct wire_enc e;
	const char *second;

	if (x->state == EX_DONE)
		return;
	if (code != 0) {
		log_info("%s", why);
		net_error_parent(x->parent_id, code, why);
	} else {
		/* leaf first; the rest, if the CA sent a bundle, is its chain */
		second = strstr(cert + 27, "-----BEGIN CERTIFICATE-----");
		if ((second != NULL ? (size_t)(second - cert) : strlen(cert)) > EXTCA_PEM_MAX ||
		    (second != NULL && strlen(second) > EXTCA_PEM_MAX)) {
			char msg[1200];

			snprintf(msg, sizeof(msg), "the external CA at %s returned a "
			    "certificate or chain over %d bytes", x->url, EXTCA_PEM_MAX);
			code = HUSH_E_TOOBIG;
			log_info("%s", msg);
			net_error_parent(x->parent_id, code, msg);
			goto out;
		}
		wire_enc_init(&e, NET_EXTCA_SIGN | MSG_REPLY, x->parent_id, 40000);
		if (second != NULL) {
			wire_put_bytes(&e, T_CERT, cert, (size_t)(second - cert));
			wire_put_str(&e, T_CA_CHAIN, second);
		} else {
			wire_put_str(&e, T_CERT, cert);
		}
		net_send_parent(&e, -1);
	}
 out:
	call_release(x);
	x->state = EX_DONE;
	ncalls--;
}

static void
unreachable(struct extca_call *x, const char *reason)
{
	char msg[2600];

	snprintf(msg, sizeof(msg), "cannot reach the external CA at %s: %s", x->url, reason);
	call_end(x, HUSH_E_UNAVAIL, msg, NULL);
}

/* The bundle the CA's TLS certificate must chain to; nothing else is trusted. */
static int
ctx_for(struct extca_call *x, const uint8_t *pem, size_t len, char *why, size_t whylen)
{
	X509_STORE *store;
	BIO *bio;
	X509 *c;
	int n = 0;

	if ((x->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(x->ctx, TLS1_2_VERSION) ||
	    (store = SSL_CTX_get_cert_store(x->ctx)) == NULL ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		snprintf(why, whylen, "cannot set up TLS");
		return HUSH_E_CRYPTO;
	}
	while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, c) == 1)
			n++;
		X509_free(c);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (n == 0) {
		snprintf(why, whylen, "the CA bundle to verify it with holds no certificate");
		return HUSH_E_INVAL;
	}
	SSL_CTX_set_verify(x->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(x->ctx, 4);
	return 0;
}

static void
begin_tls(struct extca_call *x)
{
	X509_VERIFY_PARAM *vp;

	if ((x->ssl = SSL_new(x->ctx)) == NULL || !SSL_set_fd(x->ssl, x->fd) ||
	    (vp = SSL_get0_param(x->ssl)) == NULL) {
		unreachable(x, "cannot set up a TLS session");
		return;
	}
	/* the certificate must be for the host the operator named */
	if (x->u.is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, x->u.host) != 1) {
			unreachable(x, "cannot set up a TLS session");
			return;
		}
	} else if (SSL_set1_host(x->ssl, x->u.host) != 1 ||
	    SSL_set_tlsext_host_name(x->ssl, x->u.host) != 1) {
		unreachable(x, "cannot set up a TLS session");
		return;
	}
	SSL_set_connect_state(x->ssl);
	x->state = EX_HANDSHAKE;
	x->wait = POLLOUT;
}

static void
start_connect(struct extca_call *x)
{
	struct addrinfo *ai;
	int fd;

	while ((ai = x->ai_next) != NULL) {
		x->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			x->connect_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			x->fd = fd;
			x->state = EX_CONNECTING;
			return;
		}
		x->connect_errno = errno;
		close(fd);
	}
	unreachable(x, strerror(x->connect_errno != 0 ? x->connect_errno : EHOSTUNREACH));
}

static void
start_lookup(struct extca_call *x)
{
	struct addrinfo hints;
	struct gaicb *list[1];
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (x->u.is_ip) {
		if ((e = getaddrinfo(x->u.host, x->u.port, &hints, &x->ai_list)) != 0) {
			unreachable(x, gai_strerror(e));
			return;
		}
		x->ai_next = x->ai_list;
		start_connect(x);
		return;
	}
	x->hints.ai_family = AF_UNSPEC;
	x->hints.ai_socktype = SOCK_STREAM;
	x->hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	x->cb.ar_name = x->u.host;
	x->cb.ar_service = x->u.port;
	x->cb.ar_request = &x->hints;
	list[0] = &x->cb;
	if ((e = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		unreachable(x, gai_strerror(e));
		return;
	}
	x->gai_busy = true;
	x->state = EX_RESOLVING;
}

void
extca_sign(const struct wire_msg *m)
{
	struct extca_call *x;
	const struct wire_field *ca;
	const uint8_t *csr;
	size_t csrlen;
	char cn[65], ou[65], o[65], why[1400];
	int r;

	static bool seeded;

	/* jansson would read /dev/urandom for its hash seed, which net cannot open. */
	if (!seeded) {
		json_object_seed(randombytes_random() | 1);
		seeded = true;
	}
	if (ncalls >= NET_EXTCA_FDS) {
		net_error_parent(m->hdr.request_id, HUSH_E_UNAVAIL,
		    "too many requests to the external CA at once");
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		net_error_parent(m->hdr.request_id, HUSH_E_NOMEM, NULL);
		return;
	}
	x->fd = -1;
	x->parent_id = m->hdr.request_id;
	x->deadline = net_now() + EXTCA_CALL_MS;
	x->state = EX_RESOLVING;
	x->next = calls;
	calls = x;
	ncalls++;
	/* the schema has bounded them all */
	if (wire_get_str(m, T_EXTCA_URL, x->url, sizeof(x->url)) != 0 ||
	    wire_get_bytes(m, T_CSR, &csr, &csrlen) != 0 ||
	    wire_get_str(m, T_SUBJ_CN, cn, sizeof(cn)) != 0 ||
	    wire_get_str(m, T_SUBJ_OU, ou, sizeof(ou)) != 0 ||
	    wire_get_str(m, T_SUBJ_O, o, sizeof(o)) != 0) {
		call_end(x, HUSH_E_PROTO, "a request to the external CA lacks a field", NULL);
		return;
	}
	if ((r = cfssl_url_parse(x->url, &x->u, why, sizeof(why))) != 0) {
		call_end(x, r, why, NULL);
		return;
	}
	if ((ca = wire_find(m, T_EXTCA_CACERT, 0)) == NULL) {
		snprintf(why, sizeof(why), "cannot reach the external CA at %s: no CA "
		    "certificate to verify it with", x->url);
		call_end(x, HUSH_E_INVAL, why, NULL);
		return;
	}
	if ((r = ctx_for(x, ca->val, ca->len, why, sizeof(why))) != 0) {
		unreachable(x, why);
		return;
	}
	if ((r = cfssl_sign_request(&x->u, csr, csrlen, cn, ou, o, &x->req, &x->reqlen)) != 0) {
		snprintf(why, sizeof(why), "cannot write a request to the external CA at %s: %s",
		    x->url, hush_strerror(r));
		call_end(x, r, why, NULL);
		return;
	}
	if ((x->in = malloc(CFSSL_REPLY_MAX + 1)) == NULL) {
		call_end(x, HUSH_E_NOMEM, "out of memory", NULL);
		return;
	}
	log_debug("asking the external CA at %s to sign for %s (%s)", x->url, cn, ou);
	start_lookup(x);
}

/* OpenSSL's word on a failed handshake or read, for the operator. */
static void
tls_failed(struct extca_call *x, const char *when)
{
	char err[600], msg[700];
	long vr = SSL_get_verify_result(x->ssl);

	if (vr != X509_V_OK)
		snprintf(err, sizeof(err), "its TLS certificate is not valid: %s "
		    "(it must chain to the external CA's CA bundle and name %s)",
		    X509_verify_cert_error_string(vr), x->u.host);
	else
		tls_error_string(NULL, err, sizeof(err));
	snprintf(msg, sizeof(msg), "%s: %s", when, err);
	unreachable(x, msg);
}

static void
answer_read(struct extca_call *x, bool eof)
{
	char why[CFSSL_MESSAGE_MAX + 200], msg[1800], *cert = NULL;
	int r;

	r = cfssl_reply_parse(x->in, x->inlen, eof, &cert, why, sizeof(why));
	if (r == CFSSL_MORE)
		return;
	if (r == 0) {
		log_info("the external CA at %s signed a certificate", x->url);
		call_end(x, 0, NULL, cert);
		free(cert);
		return;
	}
	if (r == HUSH_E_PERM)
		snprintf(msg, sizeof(msg), "the external CA at %s refused the request: %s",
		    x->url, why);
	else
		snprintf(msg, sizeof(msg), "the external CA at %s gave an answer hush cannot "
		    "use: %s", x->url, why);
	call_end(x, r == HUSH_E_PERM ? HUSH_E_PERM : HUSH_E_PROTO, msg, NULL);
}

static void
pump(struct extca_call *x)
{
	size_t n;
	int ok, e, round;

	for (round = 0; round < 64; round++) {
		ERR_clear_error();
		switch (x->state) {
		case EX_HANDSHAKE:
			ok = SSL_do_handshake(x->ssl);
			if (ok == 1) {
				x->state = EX_WRITING;
				continue;
			}
			break;
		case EX_WRITING:
			ok = SSL_write_ex(x->ssl, x->req + x->reqoff, x->reqlen - x->reqoff, &n);
			if (ok == 1) {
				x->reqoff += n;
				if (x->reqoff == x->reqlen)
					x->state = EX_READING;
				continue;
			}
			break;
		case EX_READING:
			if (x->inlen > CFSSL_REPLY_MAX) {
				answer_read(x, false);	/* over the limit: refused */
				return;
			}
			ok = SSL_read_ex(x->ssl, x->in + x->inlen, CFSSL_REPLY_MAX + 1 - x->inlen, &n);
			if (ok == 1) {
				x->inlen += n;
				answer_read(x, false);
				if (x->state != EX_READING)
					return;
				continue;
			}
			break;
		case EX_RESOLVING:
		case EX_CONNECTING:
		case EX_DONE:
			return;
		}
		e = SSL_get_error(x->ssl, ok);
		if (e == SSL_ERROR_WANT_READ) {
			x->wait = POLLIN;
			return;
		}
		if (e == SSL_ERROR_WANT_WRITE) {
			x->wait = POLLOUT;
			return;
		}
		if (x->state == EX_READING && (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ||
		    ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
			ERR_clear_error();
			answer_read(x, true);
			return;
		}
		tls_failed(x, x->state == EX_HANDSHAKE ? "TLS handshake failed" :
		    "the TLS session failed");
		return;
	}
}

static void
connected(struct extca_call *x)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err != 0) {
		x->connect_errno = err;
		close(x->fd);
		x->fd = -1;
		start_connect(x);
		return;
	}
	begin_tls(x);
	if (x->state == EX_HANDSHAKE)
		pump(x);
}

int
extca_pollfds(struct pollfd *pfd, int max)
{
	int n = 0;

	for (struct extca_call *x = calls; x != NULL && n < max; x = x->next) {
		if (x->fd < 0 || x->state == EX_DONE || x->state == EX_RESOLVING)
			continue;
		pfd[n].fd = x->fd;
		pfd[n].events = x->state == EX_CONNECTING ? POLLOUT : x->wait;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

void
extca_io(const struct pollfd *pfd, int n)
{
	for (int i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		for (struct extca_call *x = calls; x != NULL; x = x->next) {
			if (x->fd != pfd[i].fd || x->state == EX_DONE)
				continue;
			if (x->state == EX_CONNECTING)
				connected(x);
			else
				pump(x);
			break;
		}
	}
}

uint64_t
extca_timers(uint64_t now)
{
	struct extca_call **xp, *x;
	uint64_t next = 0;
	char msg[1200];
	int e;

	for (x = calls; x != NULL; x = x->next) {
		if (x->gai_busy && (e = gai_error(&x->cb)) != EAI_INPROGRESS) {
			x->gai_busy = false;
			if (x->state == EX_RESOLVING && e == 0) {
				x->ai_list = x->ai_next = x->cb.ar_result;
				x->cb.ar_result = NULL;
				start_connect(x);
			} else if (x->state == EX_RESOLVING) {
				unreachable(x, gai_strerror(e));
			}
		}
		if (x->state != EX_DONE && now >= x->deadline) {
			snprintf(msg, sizeof(msg), "the external CA at %s did not answer within "
			    "%d s", x->url, EXTCA_CALL_MS / 1000);
			call_end(x, HUSH_E_TIMEOUT, msg, NULL);
		}
		if (x->state != EX_DONE && (next == 0 || x->deadline < next))
			next = x->deadline;
	}
	/* A finished call goes once its lookup has ended: glibc still writes to it until then. */
	for (xp = &calls; (x = *xp) != NULL;) {
		if (x->state == EX_DONE && !x->gai_busy) {
			*xp = x->next;
			if (x->cb.ar_result != NULL)
				freeaddrinfo(x->cb.ar_result);
			free(x);
		} else {
			if (x->state == EX_DONE && x->gai_busy)
				(void)gai_cancel(&x->cb);
			xp = &x->next;
		}
	}
	return next;
}

bool
extca_resolving(void)
{
	for (struct extca_call *x = calls; x != NULL; x = x->next)
		if (x->gai_busy)
			return true;
	return false;
}

void
extca_close_all(void)
{
	for (struct extca_call *x = calls; x != NULL; x = x->next)
		if (x->state != EX_DONE)
			call_release(x);
}
