/*
 * TLS contexts and peer identity.  The roots of the trust bundle are the
 * only trust anchors (no system store is ever loaded): one root, or two
 * during a CA rotation.  A peer's chain is its leaf, at most one
 * intermediate (the next root cross-signed by the current one, or an
 * external CA's), and one of those roots; who a peer is comes only from a
 * leaf that verified: CN = node id, OU = role, O = cluster id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "id.h"
#include "log.h"
#include "net_int.h"
#include "x509.h"

/* TLS 1.2 suites: ephemeral ECDH, ECDSA certificates, AEAD only. */
#define TLS12_CIPHERS	"ECDHE-ECDSA-AES256-GCM-SHA384:" \
			"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256"
#define TLS13_SUITES	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:" \
			"TLS_AES_128_GCM_SHA256"
/* Elliptic-curve groups only: no finite-field DH in either version. */
#define TLS_GROUPS	"X25519:P-256:P-384"

/* ALPN wire format: a length byte, then the name. */
static const struct {
	enum net_proto	 proto;
	const char	*name;
} protos[] = {
	{ PROTO_RAFT, ALPN_RAFT },
	{ PROTO_DISPATCH, ALPN_DISPATCH },
	{ PROTO_JOIN, ALPN_JOIN },
};
#define NPROTOS	(sizeof(protos) / sizeof(protos[0]))

const char *
tls_proto_alpn(enum net_proto proto)
{
	for (size_t i = 0; i < NPROTOS; i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	return "none";
}

static enum net_proto
alpn_lookup(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < NPROTOS; i++)
		if (strlen(protos[i].name) == len && memcmp(protos[i].name, p, len) == 0)
			return protos[i].proto;
	return PROTO_NONE;
}

enum net_proto
tls_alpn_proto(const SSL *ssl)
{
	const unsigned char *p = NULL;
	unsigned int len = 0;

	SSL_get0_alpn_selected(ssl, &p, &len);
	if (p == NULL || len == 0)
		return PROTO_NONE;
	return alpn_lookup(p, len);
}

int
tls_set_alpn(SSL *ssl, enum net_proto proto)
{
	unsigned char wire[64];
	const char *name = tls_proto_alpn(proto);
	size_t n = strlen(name);

	if (proto == PROTO_NONE || n >= sizeof(wire))
		return HUSH_E_INTERNAL;
	wire[0] = (unsigned char)n;
	memcpy(wire + 1, name, n);
	/* Unlike the rest of OpenSSL, 0 means success here. */
	return SSL_set_alpn_protos(ssl, wire, (unsigned int)n + 1) == 0 ? 0 : HUSH_E_CRYPTO;
}

/*
 * Choose the first of the client's protocols that is ours.  No overlap
 * fails the handshake (no_application_protocol) instead of carrying on
 * without ALPN: a connection's purpose is never a guess.
 */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int off = 0, n;

	while (off < inlen) {
		n = in[off++];
		if (n == 0 || n > inlen - off)
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		if (alpn_lookup(in + off, n) != PROTO_NONE) {
			*out = in + off;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		off += n;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int
ctx_common(SSL_CTX *ctx)
{
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) ||
	    !SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) ||
	    !SSL_CTX_set1_groups_list(ctx, TLS_GROUPS))
		return HUSH_E_CRYPTO;
	/*
	 * No resumption: every connection presents and verifies a certificate,
	 * so a removed node or a replaced CA takes effect at once.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/*
	 * OpenSSL keeps each record's plaintext in its own read buffer until
	 * the next record overwrites it; our copy of it goes into locked,
	 * wiped memory (bbuf.c), so have OpenSSL wipe its own at once.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	/*
	 * Nonblocking writes may be partial and retried from a moved buffer.
	 * Send the leaf and the chain we were given (ctx_new()) and nothing
	 * OpenSSL would add from the trust store: every peer has the roots,
	 * and a stranger gets no copy of them to be confused by.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_NO_AUTO_CHAIN);
	SSL_CTX_set_security_level(ctx, 2);
	return 0;
}

/*
 * root -> intermediate -> leaf at most.  OpenSSL's depth counts the
 * certificates between leaf and anchor, so depth 1 is exactly that one
 * intermediate; tls_peer_check() also insists on a verified chain of 2 or
 * 3 and runs x509_verify_chain() over what the peer sent.
 */
static int
ctx_trust(SSL_CTX *ctx, STACK_OF(X509) *roots, bool server)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);

	if (store == NULL)
		return HUSH_E_CRYPTO;
	for (int i = 0; i < sk_X509_num(roots); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(roots, i)))
			return HUSH_E_CRYPTO;
	/* The server asks for a certificate but only joiners may lack one. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, 1);
	if (!X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_CHECK_SS_SIGNATURE | X509_V_FLAG_TRUSTED_FIRST) ||
	    !SSL_CTX_set_purpose(ctx, server ? X509_PURPOSE_SSL_CLIENT :
	    X509_PURPOSE_SSL_SERVER))
		return HUSH_E_CRYPTO;
	return 0;
}

static SSL_CTX *
ctx_new(bool server, X509 *cert, EVP_PKEY *key, X509 *chain, STACK_OF(X509) *roots)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method())) == NULL)
		return NULL;
	if (ctx_common(ctx) != 0 ||
	    !SSL_CTX_use_certificate(ctx, cert) ||
	    !SSL_CTX_use_PrivateKey(ctx, key) ||
	    !SSL_CTX_check_private_key(ctx) ||
	    (chain != NULL && !SSL_CTX_add1_chain_cert(ctx, chain)) ||
	    ctx_trust(ctx, roots, server) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (server)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	return ctx;
}

SSL_CTX *
tls_join_ctx_new(void)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	if (ctx_common(ctx) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * The joiner does not know the CA yet: the handshake cannot verify.
	 * join.c pins the CA with the token's digest and then verifies the
	 * manager's certificate itself before the token leaves this process.
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* PKCS#8 DER straight from guarded memory into an EVP_PKEY. */
static int
key_decode(const struct secbuf *der, EVP_PKEY **out)
{
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = der->p;
	size_t left = der->len;
	int r = HUSH_E_FORMAT;

	*out = NULL;
	if ((dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", "PrivateKeyInfo",
	    "EC", EVP_PKEY_KEYPAIR, NULL, NULL)) == NULL)
		return HUSH_E_CRYPTO;
	if (OSSL_DECODER_from_data(dctx, &p, &left) && pkey != NULL && left == 0) {
		*out = pkey;
		pkey = NULL;
		r = 0;
	}
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	return r;
}

/* Only for PEM that x509_cert_info() has already accepted. */
static X509 *
pem_x509(const char *pem, size_t len)
{
	BIO *bio;
	X509 *x;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

/* Only for strings hush_id_valid() accepted: exactly HUSH_ID_LEN characters. */
static void
copy_id(char dst[HUSH_ID_LEN + 1], const char *src)
{
	memcpy(dst, src, HUSH_ID_LEN);
	dst[HUSH_ID_LEN] = '\0';
}

static void
roots_free(STACK_OF(X509) *roots)
{
	sk_X509_pop_free(roots, X509_free);
}

/*
 * The trust side of an identity: every certificate of the bundle is a CA
 * (x509_bundle_count() already held each to one strict PEM certificate);
 * keep the bundle's bytes, as peers and joiners are given them.
 */
static int
ident_alloc(const char *ca_pem, size_t ca_len, struct tls_ident **out,
    STACK_OF(X509) **roots, char *why, size_t whylen)
{
	struct x509_cert_info cainfo;
	struct tls_ident *id;
	size_t n, i, len;
	char *one;
	X509 *x;
	int r;

	*out = NULL;
	*roots = NULL;
	if ((r = x509_bundle_count(ca_pem, ca_len, &n)) != 0) {
		snprintf(why, whylen, "the cluster CA certificates are not 1 to %d PEM "
		    "certificates (%s)", X509_BUNDLE_MAX, hush_strerror(r));
		return r;
	}
	if ((*roots = sk_X509_new_null()) == NULL) {
		snprintf(why, whylen, "out of memory");
		return HUSH_E_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if ((r = x509_bundle_get(ca_pem, ca_len, i, &one, &len)) != 0)
			goto fail;
		r = x509_cert_info(one, len, &cainfo);
		x = r == 0 && cainfo.is_ca ? pem_x509(one, len) : NULL;
		free(one);
		if (r != 0 || !cainfo.is_ca) {
			snprintf(why, whylen, "the cluster CA certificate %zu of %zu is not a "
			    "CA certificate", i + 1, n);
			r = r != 0 ? r : HUSH_E_INVAL;
			goto fail;
		}
		if (x == NULL || !sk_X509_push(*roots, x)) {
			X509_free(x);
			r = HUSH_E_NOMEM;
			goto fail;
		}
	}
	if ((id = calloc(1, sizeof(*id))) == NULL ||
	    (id->ca_pem = malloc(ca_len + 1)) == NULL) {
		if (id != NULL)
			free(id->ca_pem);
		free(id);
		r = HUSH_E_NOMEM;
		goto fail;
	}
	memcpy(id->ca_pem, ca_pem, ca_len);
	id->ca_pem[ca_len] = '\0';
	id->ca_len = ca_len;
	id->refs = 1;
	*out = id;
	return 0;
 fail:
	if (r == HUSH_E_NOMEM)
		snprintf(why, whylen, "out of memory");
	roots_free(*roots);
	*roots = NULL;
	return r;
}

/*
 * What we present after our leaf: nothing, or one CA certificate (a
 * rotation's cross-signed root, an external CA's intermediate).  The
 * check that it links our leaf to a root we trust is ident_finish()'s.
 */
static int
ident_chain(struct tls_ident *id, const char *chain_pem, size_t chain_len, X509 **chain,
    char *why, size_t whylen)
{
	struct x509_cert_info info;
	size_t n;

	*chain = NULL;
	if (chain_pem == NULL || chain_len == 0)
		return 0;
	if (x509_bundle_count(chain_pem, chain_len, &n) != 0 || n != 1 ||
	    x509_cert_info(chain_pem, chain_len, &info) != 0 || !info.is_ca) {
		snprintf(why, whylen, "the chain this node presents is not one CA "
		    "certificate");
		return HUSH_E_INVAL;
	}
	if ((id->chain_pem = malloc(chain_len + 1)) == NULL ||
	    (*chain = pem_x509(chain_pem, chain_len)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return HUSH_E_NOMEM;
	}
	memcpy(id->chain_pem, chain_pem, chain_len);
	id->chain_pem[chain_len] = '\0';
	id->chain_len = chain_len;
	return 0;
}

/* leaf then chain, as one PEM text for x509_verify_chain(). */
static char *
pem_join(const char *leaf, size_t leaf_len, const char *chain, size_t chain_len,
    size_t *len)
{
	char *s;

	if ((s = malloc(leaf_len + chain_len + 2)) == NULL)
		return NULL;
	memcpy(s, leaf, leaf_len);
	*len = leaf_len;
	if (chain_len > 0) {
		/* A PEM without its final newline must not run into the next. */
		if (leaf_len > 0 && leaf[leaf_len - 1] != '\n')
			s[(*len)++] = '\n';
		memcpy(s + *len, chain, chain_len);
		*len += chain_len;
	}
	s[*len] = '\0';
	return s;
}

/*
 * Our own certificate must pass the checks we apply to peers, so a node
 * never presents what the others would refuse.
 */
static int
ident_finish(struct tls_ident *id, STACK_OF(X509) *roots, const char *cert_pem,
    size_t cert_len, X509 *cert, EVP_PKEY *pkey, X509 *chain, char *why, size_t whylen)
{
	struct x509_cert_info info;
	char vwhy[256], *full;
	size_t full_len;
	int r;

	if ((r = x509_cert_info(cert_pem, cert_len, &info)) != 0) {
		snprintf(why, whylen, "this node's certificate cannot be parsed");
		return r;
	}
	if ((full = pem_join(cert_pem, cert_len, id->chain_pem, id->chain_len,
	    &full_len)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return HUSH_E_NOMEM;
	}
	r = x509_verify_chain(full, full_len, id->ca_pem, id->ca_len, (int64_t)time(NULL),
	    NULL, vwhy, sizeof(vwhy));
	free(full);
	if (r != 0) {
		snprintf(why, whylen, "this node's certificate is not valid for the "
		    "cluster CA: %s", vwhy);
		return r;
	}
	if (!hush_id_valid(info.subject.cn) || !hush_id_valid(info.subject.o) ||
	    (uint8_t)x509_ou_role(info.subject.ou) == 0) {
		snprintf(why, whylen, "this node's certificate is not a hush node "
		    "certificate (CN=%s, OU=%s, O=%s)", info.subject.cn,
		    info.subject.ou, info.subject.o);
		return HUSH_E_INVAL;
	}
	copy_id(id->node_id, info.subject.cn);
	copy_id(id->cluster_id, info.subject.o);
	id->role = (uint8_t)x509_ou_role(info.subject.ou);
	if ((id->server = ctx_new(true, cert, pkey, chain, roots)) == NULL ||
	    (id->client = ctx_new(false, cert, pkey, chain, roots)) == NULL) {
		snprintf(why, whylen, "cannot set up TLS: %s",
		    ERR_reason_error_string(ERR_peek_last_error()) != NULL ?
		    ERR_reason_error_string(ERR_peek_last_error()) : "unknown error");
		return HUSH_E_CRYPTO;
	}
	return 0;
}

int
tls_ident_new(const char *cert_pem, size_t cert_len, const struct secbuf *key,
    const char *chain_pem, size_t chain_len, const char *ca_pem, size_t ca_len,
    struct tls_ident **out, char *why, size_t whylen)
{
	STACK_OF(X509) *roots = NULL;
	struct tls_ident *id = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL, *chain = NULL;
	int r;

	*out = NULL;
	if ((r = ident_alloc(ca_pem, ca_len, &id, &roots, why, whylen)) != 0 ||
	    (r = ident_chain(id, chain_pem, chain_len, &chain, why, whylen)) != 0)
		goto out;
	if (!x509_cert_matches_key(cert_pem, cert_len, key)) {
		snprintf(why, whylen, "this node's certificate does not match its key");
		r = HUSH_E_INVAL;
		goto out;
	}
	if ((r = key_decode(key, &pkey)) != 0) {
		snprintf(why, whylen, "this node's key cannot be decoded");
		goto out;
	}
	if ((cert = pem_x509(cert_pem, cert_len)) == NULL) {
		snprintf(why, whylen, "this node's certificate cannot be parsed");
		r = HUSH_E_FORMAT;
		goto out;
	}
	if ((r = ident_finish(id, roots, cert_pem, cert_len, cert, pkey, chain, why,
	    whylen)) != 0)
		goto out;
	*out = id;
	id = NULL;
 out:
	tls_ident_unref(id);
	X509_free(cert);
	X509_free(chain);
	roots_free(roots);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}

int
tls_ident_new_ca(const struct tls_ident *old, const char *ca_pem, size_t ca_len,
    struct tls_ident **out, char *why, size_t whylen)
{
	STACK_OF(X509) *roots = NULL;
	struct tls_ident *id = NULL;
	X509 *cert, *chain = NULL;
	EVP_PKEY *pkey;
	char *pem = NULL, *mem;
	BIO *bio = NULL;
	long n;
	int r;

	*out = NULL;
	/* The chain stays: only the roots we trust change. */
	if ((r = ident_alloc(ca_pem, ca_len, &id, &roots, why, whylen)) != 0 ||
	    (r = ident_chain(id, old->chain_pem, old->chain_len, &chain, why, whylen)) != 0)
		goto out;
	r = HUSH_E_CRYPTO;
	/* The contexts hold the only copy of our key: take it from there. */
	if ((cert = SSL_CTX_get0_certificate(old->server)) == NULL ||
	    (pkey = SSL_CTX_get0_privatekey(old->server)) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509(bio, cert) ||
	    (n = BIO_get_mem_data(bio, &mem)) <= 0 || (pem = strndup(mem, (size_t)n)) == NULL) {
		snprintf(why, whylen, "cannot reuse this node's certificate");
		goto out;
	}
	if ((r = ident_finish(id, roots, pem, (size_t)n, cert, pkey, chain, why,
	    whylen)) != 0)
		goto out;
	*out = id;
	id = NULL;
 out:
	tls_ident_unref(id);
	free(pem);
	BIO_free(bio);
	X509_free(chain);
	roots_free(roots);
	ERR_clear_error();
	return r;
}

void
tls_ident_ref(struct tls_ident *id)
{
	if (id != NULL)
		id->refs++;
}

void
tls_ident_unref(struct tls_ident *id)
{
	if (id == NULL || --id->refs > 0)
		return;
	/* SSL_CTX_free drops the key; OpenSSL clears key memory on free. */
	SSL_CTX_free(id->server);
	SSL_CTX_free(id->client);
	free(id->ca_pem);
	free(id->chain_pem);
	free(id);
}

char *
tls_peer_pem(SSL *ssl, size_t *len)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	BIO *bio;
	char *mem, *s = NULL;
	long n;

	*len = 0;
	if (x == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_X509(bio, x) && (n = BIO_get_mem_data(bio, &mem)) > 0 &&
	    n <= X509_MAX_CERT_PEM && (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, mem, (size_t)n);
		s[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(bio);
	ERR_clear_error();
	return s;
}

static int
bio_put_x509(BIO *bio, X509 *x)
{
	return PEM_write_bio_X509(bio, x) ? 0 : HUSH_E_CRYPTO;
}

char *
tls_peer_chain_pem(SSL *ssl, size_t *len)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl), *x;
	STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl);
	BIO *bio;
	char *mem, *s = NULL;
	long n;
	int i, r;

	*len = 0;
	if (leaf == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	/*
	 * A client's chain as OpenSSL keeps it lacks the leaf, a server's
	 * starts with it: the leaf first either way, then the rest in the
	 * order the peer sent them.
	 */
	r = bio_put_x509(bio, leaf);
	for (i = 0; r == 0 && sent != NULL && i < sk_X509_num(sent); i++) {
		x = sk_X509_value(sent, i);
		if (i == 0 && X509_cmp(x, leaf) == 0)
			continue;
		r = bio_put_x509(bio, x);
	}
	if (r == 0 && (n = BIO_get_mem_data(bio, &mem)) > 0 && n <= X509_MAX_CERT_PEM &&
	    (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, mem, (size_t)n);
		s[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(bio);
	ERR_clear_error();
	return s;
}

int
tls_peer_check(SSL *ssl, const struct tls_ident *id, struct peer_ident *peer,
    char *why, size_t whylen)
{
	struct x509_cert_info info;
	STACK_OF(X509) *chain;
	char *pem = NULL, *sent = NULL, vwhy[256];
	size_t len, sent_len;
	long vr;
	int n, r = HUSH_E_AUTH;

	memset(peer, 0, sizeof(*peer));
	if (SSL_get0_peer_certificate(ssl) == NULL) {
		snprintf(why, whylen, "no certificate was presented");
		goto out;
	}
	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(why, whylen, "certificate does not verify against the cluster "
		    "CA: %s", X509_verify_cert_error_string(vr));
		goto out;
	}
	/* Leaf and root, or leaf, one intermediate and root: nothing longer. */
	if ((chain = SSL_get0_verified_chain(ssl)) == NULL ||
	    (n = sk_X509_num(chain)) < 2 || n > 3) {
		snprintf(why, whylen, "certificate does not verify: the chain is longer "
		    "than root -> intermediate -> leaf");
		goto out;
	}
	/*
	 * The same policy the rest of hush applies to node certificates, over
	 * what the peer sent: the leaf and at most one intermediate.
	 */
	if ((sent = tls_peer_chain_pem(ssl, &sent_len)) == NULL ||
	    x509_verify_chain(sent, sent_len, id->ca_pem, id->ca_len, (int64_t)time(NULL),
	    peer->issuer_spki, vwhy, sizeof(vwhy)) != 0) {
		snprintf(why, whylen, "%s", sent == NULL ? "certificate cannot be read" : vwhy);
		goto out;
	}
	/* Identity from the leaf alone: never from what came after it. */
	if ((pem = tls_peer_pem(ssl, &len)) == NULL) {
		snprintf(why, whylen, "certificate cannot be read");
		goto out;
	}
	if (x509_cert_info(pem, len, &info) != 0) {
		snprintf(why, whylen, "certificate cannot be parsed");
		goto out;
	}
	if (!hush_id_valid(info.subject.cn)) {
		snprintf(why, whylen, "certificate CN is not a node id");
		goto out;
	}
	if ((peer->role = (uint8_t)x509_ou_role(info.subject.ou)) == 0) {
		snprintf(why, whylen, "certificate OU '%s' is not a hush role", info.subject.ou);
		goto out;
	}
	if (strcmp(info.subject.o, id->cluster_id) != 0) {
		snprintf(why, whylen, "certificate from another cluster (O=%s)", info.subject.o);
		goto out;
	}
	copy_id(peer->id, info.subject.cn);
	copy_id(peer->cluster, info.subject.o);
	if (net_removed(peer->id)) {
		snprintf(why, whylen, "node %s was removed from the cluster", peer->id);
		r = HUSH_E_PERM;
		goto out;
	}
	r = 0;
 out:
	if (r != 0 && r != HUSH_E_PERM)
		memset(peer, 0, sizeof(*peer));
	free(pem);
	free(sent);
	ERR_clear_error();
	return r;
}

int
tls_peer_still_trusted(SSL *ssl, const struct tls_ident *id, char *why, size_t whylen)
{
	char *sent;
	size_t len;
	int r;

	if ((sent = tls_peer_chain_pem(ssl, &len)) == NULL) {
		snprintf(why, whylen, "its certificate cannot be read");
		return HUSH_E_AUTH;
	}
	r = x509_verify_chain(sent, len, id->ca_pem, id->ca_len, (int64_t)time(NULL),
	    NULL, why, whylen);
	free(sent);
	return r;
}

void
tls_error_string(SSL *ssl, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason;
	long vr;

	if (ssl != NULL && (vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(buf, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
	} else if (e != 0 && (reason = ERR_reason_error_string(e)) != NULL) {
		snprintf(buf, len, "%s", reason);
	} else {
		snprintf(buf, len, "connection closed during the TLS handshake");
	}
	ERR_clear_error();
}
