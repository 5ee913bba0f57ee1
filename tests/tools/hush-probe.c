/*
 * hush-probe: a test-only peer client, never installed.  It presents a real
 * node's certificate and key, read from that node's state dir, over real
 * mutual TLS to a manager, sends one hush-dispatch/1 request and reports
 * the answer.  hushctl refuses manager operations on a worker before
 * anything reaches the network, so this is how the integration tests check
 * that the *manager* refuses them too.
 *
 *	hush-probe --state-dir DIR --connect HOST:PORT [--trust-ca-of DIR2]
 *	    (heartbeat | query-secrets | create-secret NAME)
 *
 * --trust-ca-of also accepts a server certificate signed by the CA in
 * DIR2/certificates/ca.crt.  It lets a node of another cluster get past its
 * own check of the server, so the refusal a test sees is the server's.
 * Without it the server must pass tls_peer_check() like any peer.
 *
 * Exit status and the line on stderr:
 *	0  "ok" on stdout: the manager accepted the request
 *	1  "probe: refused: DETAIL": the manager answered with MSG_ERROR
 *	2  "probe: TLS handshake refused: REASON"
 *	3  "probe: connection closed by the peer"
 *	4  usage, local errors, a timeout, a server that is not ours
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

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"
#include "id.h"
#include "msg.h"
#include "net/net_int.h"
#include "net/netframe.h"
#include "parent/node_state.h"
#include "secbuf.h"
#include "wire.h"

#define PROBE_TIMEOUT_S	10
#define PROBE_REQ_ID	1	/* 0 is for messages about the connection */

enum {
	EXIT_OK = 0, EXIT_REFUSED, EXIT_TLS, EXIT_CLOSED, EXIT_LOCAL
};

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
	    "[--trust-ca-of DIR]\n"
	    "                  (heartbeat | query-secrets | create-secret NAME)\n");
	exit(EXIT_LOCAL);
}

/* ---- the node's identity ------------------------------------------------- */

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
	if ((r = keyfile_read(dir, NULL, &dek, &key)) != 0)
		die(EXIT_LOCAL, "cannot read %s/node.keys: %s%s", dir, hush_strerror(r),
		    r == HUSH_E_LOCKED ? " (sealed by autolock; the probe needs an "
		    "unsealed key file)" : "");
	secbuf_free(&dek);
	r = tls_ident_new(cert, strlen(cert), &key, ca, strlen(ca), &id, why, sizeof(why));
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

/* req is the DSP_* request for cmd, not yet finished; *type is its type. */
static void
build_request(const char *cmd, const char *name, struct wire_enc *req, uint16_t *type)
{
	static const char value[] = "probe-value";
	struct wire_enc inner;
	uint8_t req_id[HUSH_REQ_ID_LEN];
	char secret_id[HUSH_ID_LEN + 1];
	const uint8_t *buf;
	size_t len;

	if (strcmp(cmd, "heartbeat") == 0) {
		*type = DSP_HEARTBEAT;
		wire_enc_init(req, DSP_HEARTBEAT, PROBE_REQ_ID, 256);
		return;
	}
	if (strcmp(cmd, "query-secrets") == 0) {
		*type = DSP_QUERY;
		wire_enc_init(&inner, QRY_SECRET_LIST, 0, 64);
	} else if (strcmp(cmd, "create-secret") == 0 && name != NULL) {
		/* As op_secret_create() builds it for raft_propose(). */
		*type = DSP_FORWARD;
		randombytes_buf(req_id, sizeof(req_id));
		if (hush_id_new(secret_id) != 0)
			die(EXIT_LOCAL, "cannot make a secret id");
		wire_enc_init(&inner, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
		wire_put_bytes(&inner, T_REQ_ID, req_id, sizeof(req_id));
		wire_put_str(&inner, T_SECRET_ID, secret_id);
		wire_put_str(&inner, T_NAME, name);
		wire_put_bytes(&inner, T_DATA, value, sizeof(value) - 1);
		wire_put_i64(&inner, T_CREATED, (int64_t)time(NULL));
	} else {
		usage();
	}
	if (wire_enc_finish(&inner, &buf, &len) != 0)
		die(EXIT_LOCAL, "cannot encode the %s request", cmd);
	wire_enc_init(req, *type, PROBE_REQ_ID, NETFRAME_DSP_MAX);
	wire_put_bytes(req, *type == DSP_QUERY ? T_QUERY : T_COMMAND, buf, len);
	wire_enc_free(&inner);
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

/* A DSP_QUERY answer carries the query's own answer, which may be an error. */
static int
parse_query_answer(const struct wire_msg *m, uint16_t qtype, char *detail,
    size_t detaillen)
{
	static struct wire_msg inner;
	uint16_t allowed[3] = { (uint16_t)(qtype | MSG_REPLY), MSG_ERROR, 0 };
	const uint8_t *buf;
	size_t len;
	char why[512];
	int status;

	if (wire_get_bytes(m, T_QUERY, &buf, &len) != 0 ||
	    msg_parse(buf, len, WIRE_MAX_MSG, allowed, &inner, why, sizeof(why)) != 0)
		die(EXIT_LOCAL, "malformed query answer");
	if ((status = msg_reply_status(&inner, detail, detaillen)) != 0 && detail[0] == '\0')
		snprintf(detail, detaillen, "%s", hush_strerror(status));
	return status;
}

int
main(int argc, char **argv)
{
	static struct wire_msg m;	/* big: keep it off the stack */
	const char *dir = NULL, *addr = NULL, *trust = NULL, *cmd, *name;
	struct tls_ident *id;
	struct wire_enc req;
	const uint8_t *buf;
	uint8_t *frame;
	size_t len, framelen;
	uint16_t type;
	char detail[1100];
	int i, fd, status;
	SSL *ssl;

	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--state-dir") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--connect") == 0)
			addr = argv[i + 1];
		else if (strcmp(argv[i], "--trust-ca-of") == 0)
			trust = argv[i + 1];
		else
			usage();
	}
	if (dir == NULL || addr == NULL || i >= argc || argc - i > 2)
		usage();
	cmd = argv[i];
	name = i + 1 < argc ? argv[i + 1] : NULL;
	if ((strcmp(cmd, "create-secret") == 0) != (name != NULL))
		usage();
	if (sodium_init() < 0)
		die(EXIT_LOCAL, "cannot initialise libsodium");
	signal(SIGPIPE, SIG_IGN);

	build_request(cmd, name, &req, &type);
	if (wire_enc_finish(&req, &buf, &len) != 0)
		die(EXIT_LOCAL, "cannot encode the %s request", cmd);
	id = load_ident(dir);
	if (trust != NULL)
		trust_ca_of(id, trust);
	fd = tcp_connect(addr);
	ssl = tls_connect(id, fd, addr, trust == NULL);
	send_frame(ssl, buf, len);
	wire_enc_free(&req);

	frame = read_frame(ssl, &framelen);
	status = parse_answer(frame, framelen, type, &m, detail, sizeof(detail));
	if (status == 0 && type == DSP_QUERY)
		status = parse_query_answer(&m, QRY_SECRET_LIST, detail, sizeof(detail));
	netframe_free(frame, framelen);
	(void)SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	tls_ident_unref(id);
	if (status != 0)
		die(EXIT_REFUSED, "refused: %s", detail);
	printf("ok\n");
	return EXIT_OK;
}
