/*
 * hush-probe: a test-only peer client, never installed.  It presents a real
 * node's certificate and key, read from that node's state dir, over real
 * mutual TLS to a manager, sends hush-dispatch/1 requests and reports the
 * answers.  hushctl refuses manager operations on a worker before
 * anything reaches the network, so this is how the integration tests check
 * that the *manager* refuses them too.
 *
 *	hush-probe --state-dir DIR --connect HOST:PORT [--trust-ca-of DIR2]
 *	    [--present FILE]
 *	    [--no-seal] (heartbeat | query-secrets | create-secret NAME |
 *	    force-new-cluster NODE_ID)
 *	hush-probe --state-dir DIR --connect HOST:PORT sweep
 *	    [--forbid-key HUSHKEY-1-...] [--forbid-token HUSHTKN-1-...]...
 *	    [--forbid-text TEXT]...
 *	hush-probe --state-dir DIR key-scalar
 *
 * key-scalar connects nowhere: it prints the private scalar of the node's
 * TLS key in hex, big-endian and then as OpenSSL keeps it in memory
 * (little-endian words), one per line, for a test that looks for the key
 * in a process's memory (tests/tools/hush-memscan.py --hex).
 *
 * A manager's parent seals what it forwards to the leader with the
 * cluster's DEK (daemon/parent/peer_seal.c); so does the probe, with the
 * DEK in DIR/node.keys, unless --no-seal: then it is what a compromised
 * net process, or a thief of the node's certificate and key, could send.
 *
 * sweep sends every peer request there is, as such a thief (no DEK): a
 * heartbeat, a renewal, the node's assignments, every query, a forwarded
 * command -- sealed with garbage, and in the form before sealing -- and
 * checks every answer for key material: the DEK of DIR/node.keys, the
 * unlock key and join-token secrets given, texts given (secret values),
 * and any DER private key whose public half is the CA's.  It prints one
 * line per request and one per leak, and exits 5 if there was any.
 *
 * --trust-ca-of also accepts a server certificate signed by the CA in
 * DIR2/certificates/ca.crt.  It lets a node of another cluster get past its
 * own check of the server, so the refusal a test sees is the server's.
 * Without it the server must pass tls_peer_check() like any peer.
 *
 * --present presents the PEM certificates in FILE instead of DIR's node.crt:
 * a leaf for the node key of DIR and whatever chain should follow it, sent
 * as they are, unchecked here, so that a test sees what the *manager* makes
 * of chains a node would never present (an unknown root, two intermediates).
 *
 * Exit status and the line on stderr:
 *	0  "ok" on stdout: the manager accepted the request
 *	1  "probe: refused: DETAIL": the manager answered with MSG_ERROR
 *	2  "probe: TLS handshake refused: REASON"
 *	3  "probe: connection closed by the peer"
 *	4  usage, local errors, a timeout, a server that is not ours
 *	5  sweep: an answer held key material
 *
 * With TLS 1.3 the client finishes its handshake before the server has
 * judged the client's certificate, so the server's alert can arrive only on
 * the first read; that, too, is reported as a refused handshake.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"
#include "id.h"
#include "join_token.h"
#include "keywrap.h"
#include "lockmem.h"
#include "msg.h"
#include "net/net_int.h"
#include "net/netframe.h"
#include "parent/node_state.h"
#include "parent/parent.h"
#include "secbuf.h"
#include "unlock_key.h"
#define HUSH_X509_INTERNAL	/* x509_key_decode, for key-scalar */
#include "x509.h"
#include "wire.h"

#define PROBE_TIMEOUT_S	10
#define PROBE_REQ_ID	1	/* 0 is for messages about the connection */

enum {
	EXIT_OK = 0, EXIT_REFUSED, EXIT_TLS, EXIT_CLOSED, EXIT_LOCAL, EXIT_LEAK
};

/* The node's DEK, from its key file: what its parent seals with. */
static struct secbuf probe_dek = SECBUF_INIT;
static bool no_seal;

static noreturn void die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static noreturn void
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static noreturn void
usage(void)
{
	fprintf(stderr, "usage: hush-probe --state-dir DIR --connect HOST:PORT "
	    "[--trust-ca-of DIR] [--present FILE] [--no-seal]\n"
	    "                  (heartbeat | query-secrets | create-secret NAME |\n"
	    "                   force-new-cluster NODE_ID)\n"
	    "       hush-probe --state-dir DIR --connect HOST:PORT sweep\n"
	    "                  [--forbid-key KEY] [--forbid-token TOKEN]... "
	    "[--forbid-text TEXT]...\n"
	    "       hush-probe --state-dir DIR key-scalar\n");
	exit(EXIT_LOCAL);
}

/* ---- the node's identity ------------------------------------------------- */

static void
print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

static int
key_scalar(const char *dir)
{
	struct secbuf dek = SECBUF_INIT, key = SECBUF_INIT;
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;
	uint8_t be[32], le[32];
	char why[512];
	int r;

	if ((r = keyfile_read(dir, NULL, &dek, &key, NULL, NULL, why, sizeof(why))) != 0)
		die(EXIT_LOCAL, "%s", why);
	if ((r = x509_key_decode(&key, &pkey)) != 0 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
	    BN_bn2binpad(d, be, sizeof(be)) != (int)sizeof(be))
		die(EXIT_LOCAL, "cannot take the scalar of the TLS key in %s", dir);
	for (size_t i = 0; i < sizeof(be); i++)
		le[i] = be[sizeof(be) - 1 - i];
	print_hex(be, sizeof(be));
	print_hex(le, sizeof(le));
	BN_clear_free(d);
	EVP_PKEY_free(pkey);
	secbuf_free(&key);
	secbuf_free(&dek);
	return 0;
}

static struct tls_ident *
load_ident(const char *dir)
{
	struct secbuf dek = SECBUF_INIT, key = SECBUF_INIT;
	struct tls_ident *id = NULL;
	char *cert, *ca, why[512];
	int r;

	if ((cert = node_state_read_cert(dir, "node.crt")) == NULL ||
	    (ca = node_state_read_cert(dir, "ca.crt")) == NULL)
		die(EXIT_LOCAL, "cannot read the certificates in %s/certificates", dir);
	/* No KEK: a key file sealed by autolock is refused, not guessed at. */
	if ((r = keyfile_read(dir, NULL, &dek, &key, NULL, NULL, why, sizeof(why))) != 0)
		die(EXIT_LOCAL, "%s%s", why,
		    r == HUSH_E_LOCKED ? " (sealed by autolock; the probe needs an "
		    "unsealed key file)" : "");
	probe_dek = dek;
	r = tls_ident_new(cert, strlen(cert), &key, NULL, 0, ca, strlen(ca), &id, why,
	    sizeof(why));
	secbuf_free(&key);
	free(cert);
	free(ca);
	if (r != 0)
		die(EXIT_LOCAL, "%s: %s", dir, why);
	return id;
}

/* Also trust the CA of the node whose state is in dir, for the server only. */
static void
trust_ca_of(struct tls_ident *id, const char *dir)
{
	X509_STORE *store = SSL_CTX_get_cert_store(id->client);
	char *pem;
	BIO *bio;
	X509 *x = NULL;

	if ((pem = node_state_read_cert(dir, "ca.crt")) == NULL)
		die(EXIT_LOCAL, "cannot read %s/certificates/ca.crt", dir);
	if ((bio = BIO_new_mem_buf(pem, -1)) != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (x == NULL || store == NULL || !X509_STORE_add_cert(store, x))
		die(EXIT_LOCAL, "cannot trust the CA in %s", dir);
	X509_free(x);
	BIO_free(bio);
	free(pem);
}

/*
 * Present file's certificates in place of the node's own: the first is the
 * leaf (it must carry the node key already loaded), the rest its chain.
 */
static void
present_file(struct tls_ident *id, const char *file)
{
	BIO *bio;
	X509 *x;
	int n = 0;

	if ((bio = BIO_new_file(file, "r")) == NULL)
		die(EXIT_LOCAL, "cannot read %s", file);
	SSL_CTX_clear_chain_certs(id->client);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (n++ == 0 ? !SSL_CTX_use_certificate(id->client, x) ||
		    !SSL_CTX_check_private_key(id->client) :
		    !SSL_CTX_add1_chain_cert(id->client, x))
			die(EXIT_LOCAL, "%s: certificate %d cannot be presented with the "
			    "node key", file, n);
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	if (n == 0)
		die(EXIT_LOCAL, "%s holds no certificate", file);
}

/* ---- the connection ------------------------------------------------------ */

/* Blocking TCP to HOST:PORT or [V6]:PORT; every read and write times out. */
static int
tcp_connect(const char *hostport)
{
	struct timeval tv = { PROBE_TIMEOUT_S, 0 };
	struct addrinfo hints, *ai, *a;
	char host[256];
	const char *h = hostport, *colon = strrchr(hostport, ':');
	size_t hlen;
	int fd = -1, e;

	if (colon == NULL || colon[1] == '\0')
		die(EXIT_LOCAL, "--connect wants HOST:PORT, not '%s'", hostport);
	hlen = (size_t)(colon - h);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		die(EXIT_LOCAL, "--connect wants HOST:PORT, not '%s'", hostport);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(host, colon + 1, &hints, &ai)) != 0)
		die(EXIT_LOCAL, "%s: %s", host, gai_strerror(e));
	for (a = ai; a != NULL; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
		    a->ai_protocol)) < 0)
			continue;
		/* SO_SNDTIMEO bounds connect() too. */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		die(EXIT_LOCAL, "cannot connect to %s: %s", hostport, strerror(errno));
	return fd;
}

static SSL *
tls_connect(struct tls_ident *id, int fd, const char *addr, bool check_server)
{
	struct peer_ident peer;
	char why[512];
	SSL *ssl;

	ERR_clear_error();
	if ((ssl = SSL_new(id->client)) == NULL || !SSL_set_fd(ssl, fd) ||
	    tls_set_alpn(ssl, PROTO_DISPATCH) != 0)
		die(EXIT_LOCAL, "cannot set up a TLS session");
	if (SSL_connect(ssl) != 1) {
		tls_error_string(ssl, why, sizeof(why));
		die(EXIT_TLS, "TLS handshake refused: %s", why);
	}
	if (tls_alpn_proto(ssl) != PROTO_DISPATCH)
		die(EXIT_LOCAL, "the server at %s does not speak %s", addr, ALPN_DISPATCH);
	/* The same checks a node applies to a manager it dials. */
	if (check_server) {
		if (tls_peer_check(ssl, id, &peer, why, sizeof(why)) != 0)
			die(EXIT_LOCAL, "the server at %s: %s", addr, why);
		if (peer.role != ROLE_MANAGER)
			die(EXIT_LOCAL, "the server at %s is not a manager (node %s)",
			    addr, peer.id);
	}
	return ssl;
}

/* ---- the request --------------------------------------------------------- */

static uint8_t seal_nonce[16];

/*
 * req becomes the DSP request type carrying inner (a CMD_* or QRY_*
 * message): sealed with the DEK as a manager's parent seals it, or
 * (no_seal) as it went before sealing, which the server must refuse.
 */
static void
wrap_inner(uint16_t type, struct wire_enc *inner, struct wire_enc *req)
{
	const uint8_t *buf;
	size_t len;

	if (wire_enc_finish(inner, &buf, &len) != 0)
		die(EXIT_LOCAL, "cannot encode the request");
	wire_enc_init(req, type, PROBE_REQ_ID, NETFRAME_DSP_MAX);
	if (no_seal) {
		wire_put_bytes(req, type == DSP_QUERY ? T_QUERY : T_COMMAND, buf, len);
	} else {
		if (probe_dek.len != 32)
			die(EXIT_LOCAL, "no DEK in the key file to seal with");
		randombytes_buf(seal_nonce, sizeof(seal_nonce));
		if (peer_seal_with(probe_dek.p, type == DSP_QUERY ? PURPOSE_DSP_QUERY :
		    PURPOSE_DSP_FORWARD, seal_nonce, (int64_t)time(NULL), buf, len, req) != 0)
			die(EXIT_LOCAL, "cannot seal the request");
	}
	wire_enc_free(inner);
}

/* CMD_SECRET_CREATE, as store_secret_create() builds it. */
static void
secret_create_cmd(const char *name, struct wire_enc *inner)
{
	static const char value[] = "probe-value";
	uint8_t req_id[HUSH_REQ_ID_LEN];
	char secret_id[HUSH_ID_LEN + 1];

	randombytes_buf(req_id, sizeof(req_id));
	if (hush_id_new(secret_id) != 0)
		die(EXIT_LOCAL, "cannot make a secret id");
	wire_enc_init(inner, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(inner, T_REQ_ID, req_id, sizeof(req_id));
	wire_put_str(inner, T_SECRET_ID, secret_id);
	wire_put_str(inner, T_NAME, name);
	wire_put_bytes(inner, T_DATA, value, sizeof(value) - 1);
	wire_put_i64(inner, T_CREATED, (int64_t)time(NULL));
}

/*
 * CMD_FORCE_NEW_CLUSTER naming node_id the only manager: what a node's own
 * raft process commits after `init --force-new-cluster`, and what no peer
 * may forward (daemon/parent/cluster.c, forwardable()).
 */
static void
force_new_cmd(const char *node_id, struct wire_enc *inner)
{
	uint8_t req_id[HUSH_REQ_ID_LEN];

	randombytes_buf(req_id, sizeof(req_id));
	wire_enc_init(inner, CMD_FORCE_NEW_CLUSTER, 0, 1024);
	wire_put_bytes(inner, T_REQ_ID, req_id, sizeof(req_id));
	wire_put_str(inner, T_NODE_ID, node_id);
	wire_put_str(inner, T_ADVERTISE_ADDR, "192.0.2.1:4477");
	wire_put_i64(inner, T_CREATED, (int64_t)time(NULL));
}

/* req is the DSP_* request for cmd, not yet finished; *type is its type. */
static void
build_request(const char *cmd, const char *name, struct wire_enc *req, uint16_t *type)
{
	struct wire_enc inner;

	if (strcmp(cmd, "heartbeat") == 0) {
		*type = DSP_HEARTBEAT;
		wire_enc_init(req, DSP_HEARTBEAT, PROBE_REQ_ID, 256);
		return;
	}
	if (strcmp(cmd, "query-secrets") == 0) {
		*type = DSP_QUERY;
		wire_enc_init(&inner, QRY_SECRET_LIST, 0, 64);
	} else if (strcmp(cmd, "create-secret") == 0 && name != NULL) {
		*type = DSP_FORWARD;
		secret_create_cmd(name, &inner);
	} else if (strcmp(cmd, "force-new-cluster") == 0 && name != NULL) {
		*type = DSP_FORWARD;
		force_new_cmd(name, &inner);
	} else {
		usage();
	}
	wrap_inner(*type, &inner, req);
}

/*
 * A failed write is not the end: the server may have answered already (a
 * removed node is told so right after the handshake), and the read that
 * follows says what happened.
 */
static void
send_frame(SSL *ssl, const uint8_t *p, size_t len)
{
	size_t off = 0;
	int n;

	while (off < len) {
		if ((n = SSL_write(ssl, p + off, (int)(len - off))) <= 0) {
			ERR_clear_error();
			return;
		}
		off += (size_t)n;
	}
}

/* One whole frame from the server (wipe it with netframe_free()). */
static uint8_t *
read_frame(SSL *ssl, size_t *framelen)
{
	struct netframe_rd rd;
	uint8_t chunk[16384], *frame = NULL;
	time_t deadline = time(NULL) + PROBE_TIMEOUT_S;
	bool got_any = false;
	size_t used, off;
	char why[512];
	int n, e, r;

	netframe_rd_init(&rd, NETFRAME_DSP_MAX);
	while (frame == NULL) {
		if (time(NULL) > deadline)
			die(EXIT_LOCAL, "no answer within %d s", PROBE_TIMEOUT_S);
		ERR_clear_error();
		errno = 0;
		if ((n = SSL_read(ssl, chunk, sizeof(chunk))) <= 0) {
			e = SSL_get_error(ssl, n);
			if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL &&
			    (errno == 0 || errno == ECONNRESET || errno == EPIPE)))
				die(EXIT_CLOSED, "connection closed by the peer");
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
			    (e == SSL_ERROR_SYSCALL && errno == EAGAIN))
				die(EXIT_LOCAL, "no answer within %d s", PROBE_TIMEOUT_S);
			tls_error_string(NULL, why, sizeof(why));
			if (e == SSL_ERROR_SSL && !got_any)
				die(EXIT_TLS, "TLS handshake refused: %s", why);
			die(EXIT_CLOSED, "connection closed by the peer: %s", why);
		}
		got_any = true;
		for (off = 0; off < (size_t)n && frame == NULL; off += used) {
			if ((r = netframe_rd_feed(&rd, chunk + off, (size_t)n - off, &used,
			    &frame, framelen)) != 0)
				die(EXIT_LOCAL, "the server broke the framing: %s",
				    hush_strerror(r));
		}
	}
	netframe_rd_free(&rd);
	sodium_memzero(chunk, sizeof(chunk));
	return frame;
}

/*
 * The server's answer: 0 and m parsed as type's reply, or the error it
 * sent (detail filled in).  Exits if the answer is malformed.
 */
static int
parse_answer(const uint8_t *frame, size_t len, uint16_t type, struct wire_msg *m,
    char *detail, size_t detaillen)
{
	uint16_t allowed[3] = { (uint16_t)(type | MSG_REPLY), MSG_ERROR, 0 };
	uint32_t id = netframe_get_id(frame);
	char why[512];
	int status;

	/* Id 0: the server refuses the connection itself (a removed node). */
	if (id == 0)
		allowed[0] = MSG_ERROR;
	else if (id != PROBE_REQ_ID)
		die(EXIT_LOCAL, "the server answered request %u that was never sent", id);
	if (msg_parse(frame, len, NETFRAME_DSP_MAX, allowed, m, why, sizeof(why)) != 0)
		die(EXIT_LOCAL, "malformed answer: %s", why);
	if ((status = msg_reply_status(m, detail, detaillen)) != 0 && detail[0] == '\0')
		snprintf(detail, detaillen, "%s", hush_strerror(status));
	return status;
}

/*
 * A DSP_QUERY or DSP_FORWARD answer, sealed for our nonce: what the
 * leader's raft process answered, the query's own answer inside for a
 * query, either of which may be an error.
 */
static int
parse_sealed_answer(const struct wire_msg *m, uint16_t type, uint16_t qtype, char *detail,
    size_t detaillen)
{
	static struct wire_msg mid, inner;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	uint16_t allowed[3] = { 0, MSG_ERROR, 0 };
	uint8_t nonce[16];
	const uint8_t *buf;
	size_t len;
	char why[512];
	int status;

	if (peer_open_with(probe_dek.p, type == DSP_QUERY ? PURPOSE_DSP_QUERY_R :
	    PURPOSE_DSP_FORWARD_R, (int64_t)time(NULL), m, nonce, &pt, &ptlen) != 0 ||
	    sodium_memcmp(nonce, seal_nonce, sizeof(nonce)) != 0)
		die(EXIT_LOCAL, "the answer was not sealed for this request");
	allowed[0] = (type == DSP_QUERY ? RAFTP_QUERY : RAFTP_PROPOSE) | MSG_REPLY;
	if (msg_parse(pt, ptlen, WIRE_MAX_MSG, allowed, &mid, why, sizeof(why)) != 0)
		die(EXIT_LOCAL, "malformed sealed answer: %s", why);
	if ((status = msg_reply_status(&mid, detail, detaillen)) != 0 || type != DSP_QUERY)
		goto out;
	allowed[0] = (uint16_t)(qtype | MSG_REPLY);
	if (wire_get_bytes(&mid, T_QUERY, &buf, &len) != 0 ||
	    msg_parse(buf, len, WIRE_MAX_MSG, allowed, &inner, why, sizeof(why)) != 0)
		die(EXIT_LOCAL, "malformed query answer");
	status = msg_reply_status(&inner, detail, detaillen);
 out:
	if (status != 0 && detail[0] == '\0')
		snprintf(detail, detaillen, "%s", hush_strerror(status));
	lockmem_free(pt);
	return status;
}

/* ---- sweep: every request a certificate thief could send ------------------ */

struct forbidden {
	const char	*what;
	uint8_t		 bytes[512];
	size_t		 len;
};

#define FORBID_MAX	32
static struct forbidden forbid[FORBID_MAX];
static size_t nforbid;
static EVP_PKEY *ca_pub;
static int leaks;

static void
forbid_add(const char *what, const void *p, size_t len)
{
	if (nforbid == FORBID_MAX || len == 0 || len > sizeof(forbid[0].bytes))
		die(EXIT_LOCAL, "too many or too long --forbid values");
	forbid[nforbid].what = what;
	memcpy(forbid[nforbid].bytes, p, len);
	forbid[nforbid++].len = len;
}

/* A DER private key anywhere in buf whose public half is the CA's. */
static bool
holds_ca_key(const uint8_t *buf, size_t len)
{
	for (size_t off = 0; off + 2 < len; off++) {
		const unsigned char *q = buf + off;
		EVP_PKEY *k;
		bool same;

		if (buf[off] != 0x30)
			continue;
		if ((k = d2i_AutoPrivateKey(NULL, &q, (long)(len - off))) == NULL)
			continue;
		same = EVP_PKEY_eq(k, ca_pub) == 1;
		EVP_PKEY_free(k);
		if (same)
			return true;
	}
	ERR_clear_error();
	return false;
}

static void
scan(const char *req, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < nforbid; i++) {
		for (size_t off = 0; off + forbid[i].len <= len; off++) {
			if (memcmp(buf + off, forbid[i].bytes, forbid[i].len) == 0) {
				printf("LEAK: the answer to %s holds %s\n", req, forbid[i].what);
				leaks++;
				break;
			}
		}
	}
	if (holds_ca_key(buf, len)) {
		printf("LEAK: the answer to %s holds the CA's private key\n", req);
		leaks++;
	}
}

/*
 * Sends req (finished) on a new connection and scans what comes back.
 * The connection may be refused or closed: that is an answer too.
 */
/*
 * A renewal's answer for a manager carries the cluster's keys: sealed to
 * the node's sealing key they are safe; sealed to the key of the CSR the
 * renewal sent -- ours, the thief's -- they are not.  Older hushd did the
 * latter (purposes of lib/keywrap.c).
 */
static void
check_renew_keys(const uint8_t *frame, size_t len, const struct secbuf *csr_key)
{
	static const uint16_t allowed[] = { DSP_RENEW | MSG_REPLY, MSG_ERROR, 0 };
	static struct wire_msg m;
	static const struct { uint16_t tag; const char *purpose, *what; } keys[] = {
		{ T_DEK, "hush/join-dek", "the DEK" },
		{ T_KEK, "hush/join-kek", "the unlock key (KEK)" },
	};
	uint8_t out[KEYWRAP_MAX];
	const uint8_t *blob;
	size_t bloblen, outlen;
	char why[256];

	if (msg_parse(frame, len, NETFRAME_DSP_MAX, allowed, &m, why, sizeof(why)) != 0)
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (wire_get_bytes(&m, keys[i].tag, &blob, &bloblen) != 0)
			continue;
		if (keywrap_open(csr_key, keys[i].purpose, blob, bloblen, out, sizeof(out),
		    &outlen) == 0) {
			printf("LEAK: the answer to DSP_RENEW holds %s, sealed to the key of "
			    "the probe's own CSR\n", keys[i].what);
			leaks++;
		}
		sodium_memzero(out, sizeof(out));
	}
}

static void
sweep_one(struct tls_ident *id, const char *addr, const char *what, struct wire_enc *req,
    const struct secbuf *csr_key)
{
	struct netframe_rd rd;
	uint8_t chunk[16384], *frame = NULL;
	const uint8_t *buf;
	size_t len, framelen = 0, used, got = 0, off;
	time_t deadline = time(NULL) + PROBE_TIMEOUT_S;
	int fd, n;
	SSL *ssl;

	if (wire_enc_finish(req, &buf, &len) != 0)
		die(EXIT_LOCAL, "cannot encode %s", what);
	fd = tcp_connect(addr);
	ssl = tls_connect(id, fd, addr, true);
	send_frame(ssl, buf, len);
	wire_enc_free(req);
	netframe_rd_init(&rd, NETFRAME_DSP_MAX);
	while (frame == NULL && time(NULL) <= deadline) {
		ERR_clear_error();
		if ((n = SSL_read(ssl, chunk, sizeof(chunk))) <= 0)
			break;
		got += (size_t)n;
		/* every byte counts, framed or not */
		scan(what, chunk, (size_t)n);
		for (off = 0; off < (size_t)n && frame == NULL; off += used)
			if (netframe_rd_feed(&rd, chunk + off, (size_t)n - off, &used, &frame,
			    &framelen) != 0)
				break;
	}
	if (frame != NULL) {
		uint16_t type = (uint16_t)(frame[2] << 8 | frame[3]);

		scan(what, frame, framelen);
		if (csr_key != NULL)
			check_renew_keys(frame, framelen, csr_key);
		printf("%s: %s, %zu bytes\n", what, type == MSG_ERROR ? "refused" : "answered",
		    framelen);
		netframe_free(frame);
	} else {
		printf("%s: no answer (%zu bytes before the connection ended)\n", what, got);
	}
	netframe_rd_free(&rd);
	sodium_memzero(chunk, sizeof(chunk));
	(void)SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
}

/* inner (a CMD_ or QRY_ message) as type, once unsealed, once sealed with garbage */
static void
sweep_inner(struct tls_ident *id, const char *addr, uint16_t type, struct wire_enc *inner)
{
	struct wire_enc req;
	const uint8_t *buf;
	uint8_t junk[128];
	size_t len;
	char what[128];

	if (wire_enc_finish(inner, &buf, &len) != 0)
		die(EXIT_LOCAL, "cannot encode a request");
	snprintf(what, sizeof(what), "%s{%s} in the clear", msg_type_name(type),
	    msg_type_name((uint16_t)(buf[2] << 8 | buf[3])));
	wire_enc_init(&req, type, PROBE_REQ_ID, NETFRAME_DSP_MAX);
	wire_put_bytes(&req, type == DSP_QUERY ? T_QUERY : T_COMMAND, buf, len);
	sweep_one(id, addr, what, &req, NULL);
	/* as sealed, with what a thief can make: the request under no key */
	snprintf(what, sizeof(what), "%s{%s} sealed without the DEK", msg_type_name(type),
	    msg_type_name((uint16_t)(buf[2] << 8 | buf[3])));
	randombytes_buf(junk, sizeof(junk));
	wire_enc_init(&req, type, PROBE_REQ_ID, NETFRAME_DSP_MAX);
	wire_put_bytes(&req, T_SEALED, junk, sizeof(junk));
	sweep_one(id, addr, what, &req, NULL);
	wire_enc_free(inner);
}

static int
sweep(struct tls_ident *id, const char *addr, const char *node_id)
{
	static const uint16_t queries[] = { QRY_CLUSTER, QRY_SECRET_LIST, QRY_NODE_LIST,
	    QRY_SERVICE_LIST, 0 };
	struct secbuf key = SECBUF_INIT;
	struct wire_enc req, inner;
	uint8_t *csr;
	size_t csrlen;

	wire_enc_init(&req, DSP_HEARTBEAT, PROBE_REQ_ID, 256);
	sweep_one(id, addr, "DSP_HEARTBEAT", &req, NULL);
	if (x509_key_generate(&key) != 0 || x509_csr_create(&key, &csr, &csrlen) != 0)
		die(EXIT_LOCAL, "cannot make a CSR");
	wire_enc_init(&req, DSP_RENEW, PROBE_REQ_ID, 65536);
	wire_put_bytes(&req, T_CSR, csr, csrlen);
	sweep_one(id, addr, "DSP_RENEW", &req, &key);
	free(csr);
	secbuf_free(&key);
	wire_enc_init(&req, DSP_ASSIGNMENTS, PROBE_REQ_ID, 256);
	sweep_one(id, addr, "DSP_ASSIGNMENTS", &req, NULL);
	/* the leader makes the probed manager a spare for a while: no key either */
	wire_enc_init(&req, DSP_REPAIR, PROBE_REQ_ID, 64);
	sweep_one(id, addr, "DSP_REPAIR", &req, NULL);
	for (size_t i = 0; queries[i] != 0; i++) {
		wire_enc_init(&inner, queries[i], 0, 64);
		sweep_inner(id, addr, DSP_QUERY, &inner);
	}
	/* the queries that name something: this node, and everything by id */
	wire_enc_init(&inner, QRY_NODE_GET, 0, 256);
	wire_put_str(&inner, T_REF, node_id);
	sweep_inner(id, addr, DSP_QUERY, &inner);
	wire_enc_init(&inner, QRY_ASSIGNMENTS, 0, 256);
	wire_put_str(&inner, T_NODE_ID, node_id);
	sweep_inner(id, addr, DSP_QUERY, &inner);
	secret_create_cmd("from-sweep", &inner);
	sweep_inner(id, addr, DSP_FORWARD, &inner);
	printf("%d leak(s)\n", leaks);
	return leaks > 0 ? EXIT_LEAK : EXIT_OK;
}

int
main(int argc, char **argv)
{
	static struct wire_msg m;	/* big: keep it off the stack */
	const char *dir = NULL, *addr = NULL, *trust = NULL, *cmd = NULL, *name = NULL;
	const char *present = NULL;
	struct tls_ident *id;
	struct wire_enc req;
	struct node_state ns;
	const uint8_t *buf;
	uint8_t *frame, raw[64];
	size_t len, framelen;
	uint16_t type;
	char detail[1100], *pem;
	int i, fd, status;
	SSL *ssl;

	if (sodium_init() < 0)
		die(EXIT_LOCAL, "cannot initialise libsodium");
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--no-seal") == 0) {
			no_seal = true;
			continue;
		}
		if (strncmp(argv[i], "--", 2) != 0) {
			if (cmd == NULL)
				cmd = argv[i];
			else if (name == NULL)
				name = argv[i];
			else
				usage();
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(argv[i - 1], "--state-dir") == 0)
			dir = v;
		else if (strcmp(argv[i - 1], "--connect") == 0)
			addr = v;
		else if (strcmp(argv[i - 1], "--trust-ca-of") == 0)
			trust = v;
		else if (strcmp(argv[i - 1], "--present") == 0)
			present = v;
		else if (strcmp(argv[i - 1], "--forbid-text") == 0)
			forbid_add(v, v, strlen(v));
		else if (strcmp(argv[i - 1], "--forbid-key") == 0) {
			if (unlock_key_parse(v, strlen(v), raw, detail, sizeof(detail)) != 0)
				die(EXIT_LOCAL, "--forbid-key: %s", detail);
			forbid_add("the unlock key (KEK)", raw, 32);
			forbid_add("the unlock key's text", v, strlen(v));
		} else if (strcmp(argv[i - 1], "--forbid-token") == 0) {
			struct join_token t;

			if (join_token_parse(v, strlen(v), &t, detail, sizeof(detail)) != 0)
				die(EXIT_LOCAL, "--forbid-token: %s", detail);
			forbid_add("a join token's secret", t.secret, sizeof(t.secret));
			forbid_add("a join token's text", v, strlen(v));
		} else
			usage();
	}
	if (dir != NULL && cmd != NULL && strcmp(cmd, "key-scalar") == 0 &&
	    addr == NULL && name == NULL)
		return key_scalar(dir);
	if (dir == NULL || addr == NULL || cmd == NULL)
		usage();
	if ((strcmp(cmd, "create-secret") == 0 || strcmp(cmd, "force-new-cluster") == 0) !=
	    (name != NULL) ||
	    (strcmp(cmd, "sweep") == 0 && name != NULL))
		usage();
	signal(SIGPIPE, SIG_IGN);
	id = load_ident(dir);
	if (trust != NULL)
		trust_ca_of(id, trust);
	if (present != NULL)
		present_file(id, present);

	if (strcmp(cmd, "sweep") == 0) {
		BIO *bio;
		X509 *x = NULL;

		if (probe_dek.len > 0)
			forbid_add("the DEK", probe_dek.p, probe_dek.len);
		if ((pem = node_state_read_cert(dir, "ca.crt")) == NULL ||
		    (bio = BIO_new_mem_buf(pem, -1)) == NULL ||
		    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
		    (ca_pub = X509_get_pubkey(x)) == NULL)
			die(EXIT_LOCAL, "cannot read the CA certificate in %s", dir);
		X509_free(x);
		BIO_free(bio);
		free(pem);
		if (node_state_load(dir, &ns, detail, sizeof(detail)) != 0)
			die(EXIT_LOCAL, "cannot read %s/node.json: %s", dir, detail);
		status = sweep(id, addr, ns.node_id);
		EVP_PKEY_free(ca_pub);
		tls_ident_unref(id);
		return status;
	}
	build_request(cmd, name, &req, &type);
	if (wire_enc_finish(&req, &buf, &len) != 0)
		die(EXIT_LOCAL, "cannot encode the %s request", cmd);
	fd = tcp_connect(addr);
	ssl = tls_connect(id, fd, addr, trust == NULL);
	send_frame(ssl, buf, len);
	wire_enc_free(&req);

	frame = read_frame(ssl, &framelen);
	status = parse_answer(frame, framelen, type, &m, detail, sizeof(detail));
	if (status == 0 && !no_seal && (type == DSP_QUERY || type == DSP_FORWARD))
		status = parse_sealed_answer(&m, type, QRY_SECRET_LIST, detail, sizeof(detail));
	netframe_free(frame);
	(void)SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	tls_ident_unref(id);
	if (status != 0)
		die(EXIT_REFUSED, "refused: %s", detail);
	printf("ok\n");
	return EXIT_OK;
}
