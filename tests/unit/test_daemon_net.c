/*
 * The net process, for real: several net children (spawned and confined
 * exactly as hushd does) on 127.0.0.1, with this test playing their parent
 * on each channel.  A cluster CA issues two managers, two workers and a
 * certificate claiming another cluster; a second, unrelated CA issues a
 * manager of its own.  The tests drive raft streams, dispatch requests and
 * the join protocol through the children and check what each side's parent
 * sees, and that every refusal happens on the right side with the right
 * words.  Some tests also speak TLS to a child directly, to check the
 * server's own checks rather than the client's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "chan.h"
#include "child.h"
#include "err.h"
#include "lockmem.h"
#include "id.h"
#include "join_token.h"
#include "msg.h"
#include "net/admit.h"
#include "net/net.h"
#include "net/netframe.h"
#include "secbuf.h"
#include "wire.h"
#include "x509.h"

#define LIFETIME	(UINT64_C(90) * 86400)
#define CA_LIFETIME	(UINT64_C(20) * 365 * 86400)
#define WAIT_MS		15000
#define QUIET_MS	400
#define BIG		(1024 * 1024)
#define MAXQ		64

struct ca {
	struct secbuf	 key;
	char		*pem;
	size_t		 len;
	char		 cluster[HUSH_ID_LEN + 1];
};

struct node {
	char		 id[HUSH_ID_LEN + 1];
	char		 cluster[HUSH_ID_LEN + 1];	/* O in the certificate */
	uint8_t		 role;
	struct secbuf	 key;
	char		*cert;
	size_t		 certlen;
	const struct ca	*ca;
};

/* A net child and what it sent that nobody has looked at yet. */
struct proc {
	const char	*name;
	struct child	 c;
	struct chan_msg	 q[MAXQ];
	size_t		 nq;
};

static struct ca ca1, ca2;
static struct node mA, mB, wW, wR, xX, cC;
static struct proc pA, pB, pW, pR, pC;
static struct proc *procs[8];
static size_t nprocs;
static int portA, portB, portC;
static char addrA[32], addrB[32];
static uint32_t next_id = 100;
static struct wire_msg wm, wm2;

/* ---- certificates ---------------------------------------------------------- */

static void
make_ca(struct ca *ca)
{
	assert_int_equal(x509_ca_create((int64_t)time(NULL), CA_LIFETIME, &ca->key,
	    &ca->pem, &ca->len), 0);
	assert_int_equal(hush_id_new(ca->cluster), 0);
}

static void
sign(const struct ca *ca, const uint8_t *csr, size_t csrlen, const char *cn,
    const char *ou, const char *o, char **cert, size_t *certlen)
{
	struct x509_subject subj;
	char why[256];

	memset(&subj, 0, sizeof(subj));
	snprintf(subj.cn, sizeof(subj.cn), "%s", cn);
	snprintf(subj.ou, sizeof(subj.ou), "%s", ou);
	snprintf(subj.o, sizeof(subj.o), "%s", o);
	if (x509_csr_sign(csr, csrlen, &ca->key, ca->pem, ca->len, &subj,
	    (int64_t)time(NULL), LIFETIME, cert, certlen, why, sizeof(why)) != 0)
		fail_msg("signing: %s", why);
}

static void
make_node(struct node *n, const struct ca *ca, uint8_t role, const char *cluster)
{
	uint8_t *csr;
	size_t csrlen;

	assert_int_equal(hush_id_new(n->id), 0);
	snprintf(n->cluster, sizeof(n->cluster), "%s", cluster);
	n->role = role;
	n->ca = ca;
	assert_int_equal(x509_key_generate(&n->key), 0);
	assert_int_equal(x509_csr_create(&n->key, &csr, &csrlen), 0);
	sign(ca, csr, csrlen, n->id, role == ROLE_MANAGER ? X509_OU_MANAGER :
	    X509_OU_WORKER, cluster, &n->cert, &n->certlen);
	free(csr);
}

static void
free_node(struct node *n)
{
	secbuf_free(&n->key);
	free(n->cert);
	n->cert = NULL;
}

/* ---- the parent's side of the channels --------------------------------------- */

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, port;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
spawn(struct proc *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	child_init(&p->c, &net_child);
	assert_int_equal(child_spawn_here(&p->c), 0);
	procs[nprocs++] = p;
}

/* Close the channel (the child's signal to exit) and check it exits cleanly. */
static void
stop(struct proc *p)
{
	int status = -1;
	size_t i;

	if (p->c.pid <= 0)
		return;
	chan_close(&p->c.ch);
	for (i = 0; i < 1000 && waitpid(p->c.pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (i == 1000) {
		kill(p->c.pid, SIGKILL);
		waitpid(p->c.pid, &status, 0);
		fail_msg("net process %s did not exit when its channel closed", p->name);
	}
	p->c.pid = 0;
	for (i = 0; i < p->nq; i++)
		chan_msg_free(&p->q[i]);
	p->nq = 0;
	for (i = 0; i < nprocs; i++)
		if (procs[i] == p)
			procs[i] = procs[--nprocs];
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("net process %s ended with status 0x%x", p->name, status);
}

static void
send_enc(struct proc *p, struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;

	assert_int_equal(wire_enc_finish(e, &buf, &len), 0);
	assert_int_equal(chan_send_wait(&p->c.ch, buf, len, -1), 0);
	wire_enc_free(e);
}

/* Read whatever the children have sent within timeout_ms into their queues. */
static void
pump(int timeout_ms)
{
	struct pollfd pfd[8];
	struct chan_msg cm;
	size_t i;
	int r;

	for (i = 0; i < nprocs; i++) {
		pfd[i].fd = procs[i]->c.ch.fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, nprocs, timeout_ms) <= 0)
		return;
	for (i = 0; i < nprocs; i++) {
		if (pfd[i].revents == 0)
			continue;
		while ((r = chan_recv(&procs[i]->c.ch, &cm)) == 1) {
			assert_true(procs[i]->nq < MAXQ);
			procs[i]->q[procs[i]->nq++] = cm;
		}
		if (r < 0)
			fail_msg("net process %s: channel error %s (did it die?)",
			    procs[i]->name, hush_strerror(r));
	}
}

static bool
dequeue(struct proc *p, bool (*match)(const struct chan_msg *, uint32_t), uint32_t arg,
    struct chan_msg *out)
{
	size_t i;

	for (i = 0; i < p->nq; i++) {
		if (!match(&p->q[i], arg))
			continue;
		*out = p->q[i];
		memmove(&p->q[i], &p->q[i + 1], (p->nq - i - 1) * sizeof(p->q[0]));
		p->nq--;
		return true;
	}
	return false;
}

static bool
is_reply_to(const struct chan_msg *cm, uint32_t id)
{
	struct wire_hdr h;

	return wire_peek_hdr(cm->buf, cm->len, &h) == 0 && h.request_id == id &&
	    (MSG_IS_REPLY(h.type) || h.type == MSG_ERROR);
}

static bool
is_type(const struct chan_msg *cm, uint32_t type)
{
	struct wire_hdr h;

	return wire_peek_hdr(cm->buf, cm->len, &h) == 0 && h.type == type;
}

/*
 * The reply to request id of type req: parsed against its schema into m.
 * Returns 0 or the error code, with the detail of a MSG_ERROR.
 */
static int
take_reply(struct proc *p, uint32_t id, uint16_t req, struct chan_msg *cm,
    struct wire_msg *m, char *detail, size_t dlen)
{
	const uint16_t allowed[] = { (uint16_t)(req | MSG_REPLY), MSG_ERROR, 0 };
	uint64_t end = child_now_ms() + WAIT_MS;
	char why[256];

	while (!dequeue(p, is_reply_to, id, cm)) {
		if (child_now_ms() > end)
			fail_msg("%s: no reply to %s %u", p->name, msg_type_name(req), id);
		pump(100);
	}
	if (msg_parse(cm->buf, cm->len, WIRE_MAX_MSG, allowed, m, why, sizeof(why)) != 0)
		fail_msg("%s: bad reply to %s: %s", p->name, msg_type_name(req), why);
	return msg_reply_status(m, detail, dlen);
}

/* An unsolicited message of type from p, parsed into m. */
static void
take_event(struct proc *p, uint16_t type, struct chan_msg *cm, struct wire_msg *m)
{
	const uint16_t allowed[] = { type, 0 };
	uint64_t end = child_now_ms() + WAIT_MS;
	char why[256];

	while (!dequeue(p, is_type, type, cm)) {
		if (child_now_ms() > end)
			fail_msg("%s: no %s", p->name, msg_type_name(type));
		pump(100);
	}
	if (msg_parse(cm->buf, cm->len, WIRE_MAX_MSG, allowed, m, why, sizeof(why)) != 0)
		fail_msg("%s: bad %s: %s", p->name, msg_type_name(type), why);
}

/* Nothing at all from p for a while: the refusals must not reach the parent. */
static void
expect_quiet(struct proc *p)
{
	uint64_t end = child_now_ms() + QUIET_MS;

	while (child_now_ms() < end)
		pump(50);
	if (p->nq != 0) {
		struct wire_hdr h;

		wire_peek_hdr(p->q[0].buf, p->q[0].len, &h);
		fail_msg("%s sent %s to its parent", p->name, msg_type_name(h.type));
	}
}

static void
drain(struct proc *p)
{
	pump(QUIET_MS);
	while (p->nq > 0)
		chan_msg_free(&p->q[--p->nq]);
}

static int
net_start(struct proc *p, const struct node *n, const char *listen, char *detail,
    size_t dlen)
{
	struct wire_enc e;
	struct chan_msg cm;
	uint32_t id = next_id++;
	int r;

	wire_enc_init(&e, NET_START, id, WIRE_MAX_MSG);
	wire_put_str(&e, T_NODE_ID, n->id);
	wire_put_str(&e, T_CLUSTER_ID, n->cluster);
	wire_put_u8(&e, T_ROLE, n->role);
	wire_put_str(&e, T_CERT, n->cert);
	wire_put_bytes(&e, T_NODE_KEY, n->key.p, n->key.len);
	wire_put_str(&e, T_CA_CERT, n->ca->pem);
	wire_put_str(&e, T_LISTEN_ADDR, listen);
	send_enc(p, &e);
	r = take_reply(p, id, NET_START, &cm, &wm, detail, dlen);
	chan_msg_free(&cm);
	return r;
}

/* NET_CONNECT for a raft stream; *fd gets the stream on success. */
static int
net_connect(struct proc *p, const char *addr, const char *expect, int *fd,
    struct wire_msg *m, char *detail, size_t dlen)
{
	static struct chan_msg cm;	/* m points into it until the next call */
	struct wire_enc e;
	uint32_t id = next_id++;
	int r;

	lockmem_free(cm.buf);
	cm.buf = NULL;
	wire_enc_init(&e, NET_CONNECT, id, 4096);
	wire_put_str(&e, T_ADDRESS, addr);
	wire_put_str(&e, T_ALPN, ALPN_RAFT);
	if (expect != NULL)
		wire_put_str(&e, T_PEER_ID, expect);
	send_enc(p, &e);
	r = take_reply(p, id, NET_CONNECT, &cm, m, detail, dlen);
	*fd = cm.fd;
	cm.fd = -1;
	if (r != 0)
		assert_int_equal(*fd, -1);
	return r;
}

static void
heartbeat_frame(uint32_t id, const char *text, struct wire_enc *e)
{
	wire_enc_init(e, DSP_HEARTBEAT, id, 4096);
	wire_put_str(e, T_STATUS_TEXT, text);
}

static uint32_t
send_rpc(struct proc *p, const char *addr, uint32_t frame_id, const char *text)
{
	struct wire_enc e, f;
	const uint8_t *fb;
	size_t fl;
	uint32_t id = next_id++;

	heartbeat_frame(frame_id, text, &f);
	assert_int_equal(wire_enc_finish(&f, &fb, &fl), 0);
	wire_enc_init(&e, NET_RPC, id, WIRE_MAX_MSG);
	wire_put_str(&e, T_ADDRESS, addr);
	wire_put_bytes(&e, T_PAYLOAD, fb, fl);
	wire_enc_free(&f);
	send_enc(p, &e);
	return id;
}

/* Answer a NET_PEER_REQUEST with a heartbeat reply (or an error if code). */
static void
answer_peer(struct proc *p, uint32_t id, int code, const char *detail)
{
	struct wire_enc e, f;
	const uint8_t *fb;
	size_t fl;

	if (code != 0) {
		assert_int_equal(msg_error_reply(&e, id, code, detail), 0);
		send_enc(p, &e);
		return;
	}
	/* Any id in the frame: net puts the peer's back. */
	wire_enc_init(&f, DSP_HEARTBEAT | MSG_REPLY, 4242, 64);
	assert_int_equal(wire_enc_finish(&f, &fb, &fl), 0);
	wire_enc_init(&e, NET_PEER_REQUEST | MSG_REPLY, id, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_PAYLOAD, fb, fl);
	wire_enc_free(&f);
	send_enc(p, &e);
}

static void
expect_str(const struct wire_msg *m, uint16_t tag, const char *want)
{
	char got[20000];

	assert_int_equal(wire_get_str(m, tag, got, sizeof(got)), 0);
	assert_string_equal(got, want);
}

static void
expect_contains(const char *s, const char *want)
{
	if (strstr(s, want) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", s, want);
}

/* ---- a TLS client of our own ------------------------------------------------ */

struct raw {
	SSL_CTX	*ctx;
	SSL	*ssl;
	int	 fd;
};

static void
raw_close(struct raw *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	ERR_clear_error();
}

/* A blocking TCP connection to 127.0.0.1:port from the loopback address src. */
static int
tcp_from(const char *src, int port)
{
	struct sockaddr_in sin;
	int fd;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, src, &sin.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/*
 * Connect to 127.0.0.1:port from src (NULL: any) offering alpn, with n's
 * certificate (if any).
 */
static bool
raw_connect_from(struct raw *r, const char *src, int port, const struct node *n,
    const char *alpn)
{
	struct sockaddr_in sin;
	struct timeval tv = { 5, 0 };
	unsigned char wire[64];
	const unsigned char *kp;
	EVP_PKEY *pkey;
	BIO *bio;
	X509 *x;

	memset(r, 0, sizeof(*r));
	assert_non_null(r->ctx = SSL_CTX_new(TLS_client_method()));
	SSL_CTX_set_verify(r->ctx, SSL_VERIFY_NONE, NULL);
	if (n != NULL) {
		assert_non_null(bio = BIO_new_mem_buf(n->cert, (int)n->certlen));
		assert_non_null(x = PEM_read_bio_X509(bio, NULL, NULL, NULL));
		BIO_free(bio);
		kp = n->key.p;
		assert_non_null(pkey = d2i_AutoPrivateKey(NULL, &kp, (long)n->key.len));
		assert_int_equal(SSL_CTX_use_certificate(r->ctx, x), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(r->ctx, pkey), 1);
		X509_free(x);
		EVP_PKEY_free(pkey);
	}
	if (src != NULL) {
		r->fd = tcp_from(src, port);
	} else {
		assert_true((r->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(connect(r->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	}
	setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_non_null(r->ssl = SSL_new(r->ctx));
	SSL_set_fd(r->ssl, r->fd);
	wire[0] = (unsigned char)strlen(alpn);
	memcpy(wire + 1, alpn, strlen(alpn));
	assert_int_equal(SSL_set_alpn_protos(r->ssl, wire, wire[0] + 1u), 0);
	return SSL_connect(r->ssl) == 1;
}

static bool
raw_connect(struct raw *r, int port, const struct node *n, const char *alpn)
{
	return raw_connect_from(r, NULL, port, n, alpn);
}

/* The server ends the session: EOF or an alert, not a timeout. */
static void
raw_expect_closed(struct raw *r)
{
	uint8_t buf[256];
	int n;

	n = SSL_read(r->ssl, buf, sizeof(buf));
	assert_true(n <= 0);
	assert_int_not_equal(errno, EAGAIN);
	ERR_clear_error();
}

/* ---- fixtures ----------------------------------------------------------------- */

static int
setup(void **state)
{
	char detail[1100];

	if (sodium_init() < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	/*
	 * The net process runs as an unprivileged user; hushd names `hush`,
	 * which a unit test cannot count on, so nobody stands in for it.
	 */
	child_set_user(65534, 65534);
	make_ca(&ca1);
	make_ca(&ca2);
	make_node(&mA, &ca1, ROLE_MANAGER, ca1.cluster);
	make_node(&mB, &ca1, ROLE_MANAGER, ca1.cluster);
	make_node(&wW, &ca1, ROLE_WORKER, ca1.cluster);
	make_node(&wR, &ca1, ROLE_WORKER, ca1.cluster);
	/* Signed by our CA, but claiming another cluster. */
	make_node(&xX, &ca1, ROLE_MANAGER, ca2.cluster);
	make_node(&cC, &ca2, ROLE_MANAGER, ca2.cluster);

	portA = free_port();
	portB = free_port();
	portC = free_port();
	snprintf(addrA, sizeof(addrA), "127.0.0.1:%d", portA);
	snprintf(addrB, sizeof(addrB), "127.0.0.1:%d", portB);
	spawn(&pA, "A");
	spawn(&pB, "B");
	spawn(&pW, "W");
	spawn(&pR, "R");
	spawn(&pC, "C");
	if (net_start(&pA, &mA, addrA, detail, sizeof(detail)) != 0 ||
	    net_start(&pB, &mB, addrB, detail, sizeof(detail)) != 0)
		fail_msg("NET_START: %s", detail);
	/* Workers never listen, whatever the address. */
	if (net_start(&pW, &wW, addrA, detail, sizeof(detail)) != 0 ||
	    net_start(&pR, &wR, addrA, detail, sizeof(detail)) != 0)
		fail_msg("NET_START (worker): %s", detail);
	snprintf(detail, sizeof(detail), "127.0.0.1:%d", portC);
	if (net_start(&pC, &cC, detail, detail, sizeof(detail)) != 0)
		fail_msg("NET_START (other cluster): %s", detail);
	return 0;
}

static int
teardown(void **state)
{
	while (nprocs > 0)
		stop(procs[nprocs - 1]);
	free_node(&mA);
	free_node(&mB);
	free_node(&wW);
	free_node(&wR);
	free_node(&xX);
	free_node(&cC);
	secbuf_free(&ca1.key);
	secbuf_free(&ca2.key);
	free(ca1.pem);
	free(ca2.pem);
	return 0;
}

/* ---- NET_START ------------------------------------------------------------------ */

static void
test_start_errors(void **state)
{
	struct proc d;
	struct wire_enc e;
	struct chan_msg cm;
	char detail[1100], want[128];
	uint32_t id;
	int fd;

	spawn(&d, "D");
	/* Nothing works before NET_START except joining. */
	assert_int_equal(net_connect(&d, addrA, NULL, &fd, &wm, detail, sizeof(detail)),
	    HUSH_E_UNAVAIL);
	id = send_rpc(&d, addrA, 1, "x");
	assert_int_equal(take_reply(&d, id, NET_RPC, &cm, &wm, detail, sizeof(detail)),
	    HUSH_E_UNAVAIL);
	chan_msg_free(&cm);
	id = next_id++;
	wire_enc_init(&e, NET_RELOAD, id, 64);
	send_enc(&d, &e);
	assert_int_equal(take_reply(&d, id, NET_RELOAD, &cm, &wm, detail,
	    sizeof(detail)), HUSH_E_UNAVAIL);
	chan_msg_free(&cm);

	/* A's port is taken. */
	assert_int_equal(net_start(&d, &mB, addrA, detail, sizeof(detail)), HUSH_E_INUSE);
	snprintf(want, sizeof(want), "cannot listen on %s: Address already in use", addrA);
	assert_string_equal(detail, want);

	/* The certificate must be the node the parent names. */
	{
		struct node wrong = mB;

		snprintf(wrong.id, sizeof(wrong.id), "%s", mA.id);
		assert_int_equal(net_start(&d, &wrong, addrA, detail, sizeof(detail)),
		    HUSH_E_INVAL);
		expect_contains(detail, mB.id);
	}
	/* A key that is not the certificate's. */
	{
		struct node wrong = mB;

		wrong.key = mA.key;
		assert_int_not_equal(net_start(&d, &wrong, addrA, detail, sizeof(detail)), 0);
		expect_contains(detail, "does not match its key");
	}
	/* A certificate from another CA. */
	{
		struct node wrong = mB;

		wrong.ca = &ca2;
		assert_int_not_equal(net_start(&d, &wrong, addrA, detail, sizeof(detail)), 0);
		expect_contains(detail, "not valid for the cluster CA");
	}
	stop(&d);
}

/* ---- hush-raft/1 ------------------------------------------------------------------ */

static void
set_nonblock(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

/* Write a[] into fa and b[] into fb at once; each must come out of the other. */
static void
exchange(int fa, int fb, size_t n)
{
	uint8_t *a, *b, *ra, *rb;
	size_t sa = 0, sb = 0, ga = 0, gb = 0;
	uint64_t end = child_now_ms() + 30000;
	struct pollfd pfd[2];
	ssize_t k;

	assert_non_null(a = malloc(n));
	assert_non_null(b = malloc(n));
	assert_non_null(ra = malloc(n));
	assert_non_null(rb = malloc(n));
	randombytes_buf(a, n);
	randombytes_buf(b, n);
	set_nonblock(fa);
	set_nonblock(fb);
	while (ga < n || gb < n) {
		if (child_now_ms() > end)
			fail_msg("relay stalled: a->b %zu/%zu, b->a %zu/%zu", gb, n, ga, n);
		pfd[0].fd = fa;
		pfd[0].events = (short)((sa < n ? POLLOUT : 0) | (ga < n ? POLLIN : 0));
		pfd[1].fd = fb;
		pfd[1].events = (short)((sb < n ? POLLOUT : 0) | (gb < n ? POLLIN : 0));
		assert_true(poll(pfd, 2, 1000) >= 0);
		if ((pfd[0].revents & POLLOUT) && (k = write(fa, a + sa, n - sa)) > 0)
			sa += (size_t)k;
		if ((pfd[1].revents & POLLOUT) && (k = write(fb, b + sb, n - sb)) > 0)
			sb += (size_t)k;
		if ((pfd[0].revents & POLLIN)) {
			k = read(fa, ra + ga, n - ga);
			assert_true(k > 0 || (k < 0 && errno == EAGAIN));
			if (k > 0)
				ga += (size_t)k;
		}
		if ((pfd[1].revents & POLLIN)) {
			k = read(fb, rb + gb, n - gb);
			assert_true(k > 0 || (k < 0 && errno == EAGAIN));
			if (k > 0)
				gb += (size_t)k;
		}
	}
	assert_memory_equal(rb, a, n);
	assert_memory_equal(ra, b, n);
	free(a);
	free(b);
	free(ra);
	free(rb);
}

/*
 * A reader that stops reading: the writer must soon block (the relay's
 * buffers are bounded), and nothing is lost once the reader resumes.
 */
/* The third field of a net.ipv4 sysctl such as tcp_rmem: its maximum. */
static size_t
sysctl_max(const char *path)
{
	unsigned long lo, def, max;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu %lu %lu", &lo, &def, &max), 3);
	fclose(f);
	return (size_t)max;
}

static void
backpressure(int fa, int fb)
{
	/*
	 * What may be in flight once the reader stops: TCP's buffers, which
	 * the kernel autotunes up to tcp_wmem/tcp_rmem's maximum (32 MiB of
	 * receive buffer on some machines), plus the socketpairs' and the two
	 * relay buffers — a few MiB more.
	 */
	const size_t bound = sysctl_max("/proc/sys/net/ipv4/tcp_rmem") +
	    sysctl_max("/proc/sys/net/ipv4/tcp_wmem") + 4 * BIG;
	const size_t n = bound + 8 * BIG;
	uint8_t *a, *r;
	size_t sent = 0, got = 0;
	uint64_t end;
	struct pollfd pfd[2];
	ssize_t k;

	assert_non_null(a = malloc(n));
	assert_non_null(r = malloc(n));
	randombytes_buf(a, n);
	set_nonblock(fa);
	set_nonblock(fb);
	/* Write without reading until nothing moves for a while. */
	end = child_now_ms() + 20000;
	for (;;) {
		pfd[0].fd = fa;
		pfd[0].events = POLLOUT;
		if (poll(pfd, 1, 500) == 0)
			break;
		if ((k = write(fa, a + sent, n - sent)) > 0)
			sent += (size_t)k;
		assert_true(sent < n);
		assert_true(child_now_ms() < end);
	}
	assert_true(sent < bound);
	end = child_now_ms() + 30000;
	while (got < n) {
		assert_true(child_now_ms() < end);
		pfd[0].fd = fa;
		pfd[0].events = sent < n ? POLLOUT : 0;
		pfd[1].fd = fb;
		pfd[1].events = POLLIN;
		assert_true(poll(pfd, 2, 1000) >= 0);
		if ((pfd[0].revents & POLLOUT) && (k = write(fa, a + sent, n - sent)) > 0)
			sent += (size_t)k;
		if ((pfd[1].revents & POLLIN) && (k = read(fb, r + got, n - got)) > 0)
			got += (size_t)k;
	}
	assert_memory_equal(r, a, n);
	free(a);
	free(r);
}

static void
expect_eof(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[64];

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
}

static void
test_raft_stream(void **state)
{
	struct chan_msg in;
	char detail[1100], addr[64];
	int fa, fb;

	assert_int_equal(net_connect(&pA, addrB, mB.id, &fa, &wm, detail, sizeof(detail)), 0);
	assert_true(fa >= 0);
	expect_str(&wm, T_PEER_ID, mB.id);
	expect_str(&wm, T_CLUSTER_ID, ca1.cluster);
	{
		uint8_t role;

		assert_int_equal(wire_get_u8(&wm, T_ROLE, &role), 0);
		assert_int_equal(role, ROLE_MANAGER);
	}
	take_event(&pB, NET_INBOUND, &in, &wm2);
	assert_true(in.fd >= 0);
	fb = in.fd;
	in.fd = -1;
	expect_str(&wm2, T_ALPN, ALPN_RAFT);
	expect_str(&wm2, T_PEER_ID, mA.id);
	expect_str(&wm2, T_CLUSTER_ID, ca1.cluster);
	assert_int_equal(wire_get_str(&wm2, T_ADDRESS, addr, sizeof(addr)), 0);
	expect_contains(addr, "127.0.0.1:");
	chan_msg_free(&in);

	exchange(fa, fb, 5);
	exchange(fa, fb, BIG);
	backpressure(fa, fb);
	backpressure(fb, fa);
	/* One end closing tears the whole stream down. */
	close(fa);
	expect_eof(fb);
	close(fb);

	/* And the other way round, without an expected peer. */
	assert_int_equal(net_connect(&pB, addrA, NULL, &fb, &wm, detail, sizeof(detail)), 0);
	take_event(&pA, NET_INBOUND, &in, &wm2);
	expect_str(&wm2, T_PEER_ID, mB.id);
	fa = in.fd;
	in.fd = -1;
	chan_msg_free(&in);
	exchange(fb, fa, 1000);
	close(fa);
	expect_eof(fb);
	close(fb);
}

static void
test_raft_worker_refused(void **state)
{
	struct raw r;
	char detail[1100];
	int fd;

	/* A worker's net refuses to dial it... */
	assert_int_equal(net_connect(&pW, addrA, NULL, &fd, &wm, detail, sizeof(detail)),
	    HUSH_E_PERM);
	expect_contains(detail, "only managers");
	/* ...and a manager refuses a worker certificate on it. */
	assert_true(raw_connect(&r, portA, &wW, ALPN_RAFT));
	raw_expect_closed(&r);
	raw_close(&r);
	expect_quiet(&pA);
}

static void
test_other_cluster_refused(void **state)
{
	struct raw r;
	char detail[1100];
	int fd;

	/* Another CA entirely: neither side's chain verifies. */
	assert_int_equal(net_connect(&pC, addrA, NULL, &fd, &wm, detail, sizeof(detail)),
	    HUSH_E_AUTH);
	expect_contains(detail, addrA);
	/* Our CA, but O says another cluster. */
	assert_true(raw_connect(&r, portA, &xX, ALPN_RAFT));
	raw_expect_closed(&r);
	raw_close(&r);
	assert_true(raw_connect(&r, portA, &xX, ALPN_DISPATCH));
	raw_expect_closed(&r);
	raw_close(&r);
	/* The other CA's node, by hand: the handshake itself fails. */
	if (raw_connect(&r, portA, &cC, ALPN_RAFT))
		raw_expect_closed(&r);
	raw_close(&r);
	/* No certificate at all on a protocol that needs one. */
	assert_true(raw_connect(&r, portA, NULL, ALPN_DISPATCH));
	raw_expect_closed(&r);
	raw_close(&r);
	/* No protocol of ours: no handshake. */
	assert_false(raw_connect(&r, portA, &mB, "h2"));
	raw_close(&r);
	expect_quiet(&pA);
	expect_quiet(&pC);
}

static void
test_peer_id_mismatch(void **state)
{
	char detail[1100], want[300];
	int fd;

	assert_int_equal(net_connect(&pA, addrB, wW.id, &fd, &wm, detail, sizeof(detail)),
	    HUSH_E_AUTH);
	snprintf(want, sizeof(want), "peer at %s presented a certificate for node %s, "
	    "expected %s", addrB, mB.id, wW.id);
	assert_string_equal(detail, want);
	/* B authenticated A and may have passed the stream up: it ends at once. */
	pump(500);
	if (pB.nq > 0) {
		struct chan_msg in;

		take_event(&pB, NET_INBOUND, &in, &wm2);
		assert_true(in.fd >= 0);
		expect_eof(in.fd);
		chan_msg_free(&in);
	}
	drain(&pB);
}

static void
test_unreachable(void **state)
{
	char detail[1100], want[128], addr[32];
	int fd;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	assert_int_equal(net_connect(&pA, addr, NULL, &fd, &wm, detail, sizeof(detail)),
	    HUSH_E_UNAVAIL);
	snprintf(want, sizeof(want), "cannot reach manager at %s: Connection refused", addr);
	assert_string_equal(detail, want);
}

/* ---- hush-dispatch/1 ------------------------------------------------------------------ */

static void
check_peer_request(const struct wire_msg *m, const struct node *from, const char *text,
    uint32_t *frame_id)
{
	static const uint16_t dsp[] = { DSP_HEARTBEAT, 0 };
	const uint8_t *p;
	size_t len;
	uint8_t role;
	char why[256];

	expect_str(m, T_PEER_ID, from->id);
	expect_str(m, T_CLUSTER_ID, ca1.cluster);
	assert_int_equal(wire_get_u8(m, T_ROLE, &role), 0);
	assert_int_equal(role, from->role);
	assert_int_equal(wire_get_bytes(m, T_PAYLOAD, &p, &len), 0);
	if (msg_parse(p, len, NETFRAME_DSP_MAX, dsp, &wm2, why, sizeof(why)) != 0)
		fail_msg("payload: %s", why);
	expect_str(&wm2, T_STATUS_TEXT, text);
	if (frame_id != NULL)
		*frame_id = wm2.hdr.request_id;
}

static void
check_rpc_reply(const struct wire_msg *m, uint16_t type, uint32_t frame_id)
{
	const uint16_t allowed[] = { type, 0 };
	const uint8_t *p;
	size_t len;
	char why[256];

	assert_int_equal(wire_get_bytes(m, T_PAYLOAD, &p, &len), 0);
	if (msg_parse(p, len, NETFRAME_DSP_MAX, allowed, &wm2, why, sizeof(why)) != 0)
		fail_msg("reply payload: %s", why);
	assert_int_equal(wm2.hdr.request_id, frame_id);
}

static void
test_rpc_heartbeat(void **state)
{
	struct chan_msg cm, ev[3];
	struct wire_msg *em[3];
	char detail[1100], text[16];
	uint32_t id, ids[3], fid[3];
	int i;

	id = send_rpc(&pW, addrA, 777, "ok");
	take_event(&pA, NET_PEER_REQUEST, &ev[0], &wm);
	check_peer_request(&wm, &wW, "ok", &fid[0]);
	answer_peer(&pA, wm.hdr.request_id, 0, NULL);
	chan_msg_free(&ev[0]);
	assert_int_equal(take_reply(&pW, id, NET_RPC, &cm, &wm, detail, sizeof(detail)), 0);
	check_rpc_reply(&wm, DSP_HEARTBEAT | MSG_REPLY, 777);
	chan_msg_free(&cm);

	/* Three in flight on the same connection, answered in reverse order. */
	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "hb%d", i);
		ids[i] = send_rpc(&pW, addrA, 10 + (uint32_t)i, text);
	}
	for (i = 0; i < 3; i++) {
		assert_non_null(em[i] = malloc(sizeof(*em[i])));
		take_event(&pA, NET_PEER_REQUEST, &ev[i], em[i]);
	}
	for (i = 2; i >= 0; i--) {
		/* The middle one fails at the parent: the peer gets MSG_ERROR. */
		answer_peer(&pA, em[i]->hdr.request_id, i == 1 ? HUSH_E_NOTLEADER : 0,
		    "this manager is not the raft leader");
	}
	for (i = 0; i < 3; i++) {
		const uint8_t *p;
		size_t len;
		char want[8];

		assert_int_equal(wire_get_bytes(em[i], T_PAYLOAD, &p, &len), 0);
		assert_int_equal(msg_parse(p, len, NETFRAME_DSP_MAX, netframe_dsp_requests,
		    &wm2, detail, sizeof(detail)), 0);
		assert_int_equal(wire_get_str(&wm2, T_STATUS_TEXT, want, sizeof(want)), 0);
		assert_int_equal(want[2] - '0', i);
		chan_msg_free(&ev[i]);
		free(em[i]);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(take_reply(&pW, ids[i], NET_RPC, &cm, &wm, detail,
		    sizeof(detail)), 0);
		check_rpc_reply(&wm, i == 1 ? MSG_ERROR : DSP_HEARTBEAT | MSG_REPLY,
		    10 + (uint32_t)i);
		if (i == 1) {
			assert_int_equal(msg_reply_status(&wm2, detail, sizeof(detail)),
			    HUSH_E_NOTLEADER);
			assert_string_equal(detail, "this manager is not the raft leader");
		}
		chan_msg_free(&cm);
	}
	/* A request type the server does not take is refused before the wire. */
	{
		struct wire_enc e, f;
		const uint8_t *fb;
		size_t fl;

		wire_enc_init(&f, JOIN_HELLO, 1, 4096);
		wire_put_str(&f, T_CA_CERT, "x");
		assert_int_equal(wire_enc_finish(&f, &fb, &fl), 0);
		id = next_id++;
		wire_enc_init(&e, NET_RPC, id, WIRE_MAX_MSG);
		wire_put_str(&e, T_ADDRESS, addrA);
		wire_put_bytes(&e, T_PAYLOAD, fb, fl);
		wire_enc_free(&f);
		send_enc(&pW, &e);
		assert_int_equal(take_reply(&pW, id, NET_RPC, &cm, &wm, detail,
		    sizeof(detail)), HUSH_E_INVAL);
		chan_msg_free(&cm);
	}
	expect_quiet(&pA);
}

static void
test_rpc_by_name(void **state)
{
	struct chan_msg cm;
	char detail[1100], addr[64];
	uint32_t id;
	int r;

	/* A name goes through the resolver; ::1 (if tried first) is refused. */
	snprintf(addr, sizeof(addr), "localhost:%d", portA);
	id = send_rpc(&pR, addr, 31, "by name");
	take_event(&pA, NET_PEER_REQUEST, &cm, &wm);
	check_peer_request(&wm, &wR, "by name", NULL);
	answer_peer(&pA, wm.hdr.request_id, 0, NULL);
	chan_msg_free(&cm);
	assert_int_equal(take_reply(&pR, id, NET_RPC, &cm, &wm, detail, sizeof(detail)), 0);
	check_rpc_reply(&wm, DSP_HEARTBEAT | MSG_REPLY, 31);
	chan_msg_free(&cm);

	/* Unavailable, or timed out where no DNS server answers at all. */
	id = send_rpc(&pR, "no-such-host.invalid:4477", 32, "nowhere");
	r = take_reply(&pR, id, NET_RPC, &cm, &wm, detail, sizeof(detail));
	assert_true(r == HUSH_E_UNAVAIL || r == HUSH_E_TIMEOUT);
	expect_contains(detail, "cannot reach manager at no-such-host.invalid:4477: ");
	chan_msg_free(&cm);
}

static int
silent_connect(int port)
{
	struct sockaddr_in sin;
	int fd;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void
test_rpc_timeout(void **state)
{
	struct chan_msg cm, late;
	char detail[1100], want[128];
	uint32_t id;
	int silent;

	/* Meanwhile a client that connects and never says a word. */
	silent = silent_connect(portA);
	/* The manager's parent sits on the request. */
	id = send_rpc(&pW, addrA, 41, "slow");
	take_event(&pA, NET_PEER_REQUEST, &late, &wm2);
	assert_int_equal(take_reply(&pW, id, NET_RPC, &cm, &wm, detail, sizeof(detail)),
	    HUSH_E_TIMEOUT);
	snprintf(want, sizeof(want), "manager at %s did not answer within 10 s", addrA);
	assert_string_equal(detail, want);
	chan_msg_free(&cm);
	/* The late answer is recognised and dropped; the connection lives on. */
	answer_peer(&pA, wm2.hdr.request_id, 0, NULL);
	chan_msg_free(&late);
	id = send_rpc(&pW, addrA, 42, "after");
	take_event(&pA, NET_PEER_REQUEST, &cm, &wm);
	check_peer_request(&wm, &wW, "after", NULL);
	answer_peer(&pA, wm.hdr.request_id, 0, NULL);
	chan_msg_free(&cm);
	assert_int_equal(take_reply(&pW, id, NET_RPC, &cm, &wm, detail, sizeof(detail)), 0);
	check_rpc_reply(&wm, DSP_HEARTBEAT | MSG_REPLY, 42);
	chan_msg_free(&cm);
	expect_quiet(&pW);
	/* It sent nothing within 2 s, and A closed it long ago. */
	{
		struct pollfd pfd = { .fd = silent, .events = POLLIN };
		uint8_t b;

		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_true(read(silent, &b, 1) <= 0);
		close(silent);
	}
}

static void
reload_removed(struct proc *p, const char *removed)
{
	struct wire_enc e;
	struct chan_msg cm;
	char detail[1100];
	uint32_t id = next_id++;

	wire_enc_init(&e, NET_RELOAD, id, 4096);
	if (removed != NULL)
		wire_put_str(&e, T_PEER_ID, removed);
	send_enc(p, &e);
	assert_int_equal(take_reply(p, id, NET_RELOAD, &cm, &wm, detail, sizeof(detail)), 0);
	chan_msg_free(&cm);
}

static void
test_removed_node(void **state)
{
	struct chan_msg cm;
	char detail[1100], want[128];
	uint32_t id;

	reload_removed(&pA, wR.id);
	id = send_rpc(&pR, addrA, 5, "still here");
	assert_int_equal(take_reply(&pR, id, NET_RPC, &cm, &wm, detail, sizeof(detail)),
	    HUSH_E_PERM);
	snprintf(want, sizeof(want), "node %s was removed from the cluster", wR.id);
	assert_string_equal(detail, want);
	chan_msg_free(&cm);
	expect_quiet(&pA);

	/* Back in the list's good books: a new connection works again. */
	reload_removed(&pA, NULL);
	id = send_rpc(&pR, addrA, 6, "back");
	take_event(&pA, NET_PEER_REQUEST, &cm, &wm);
	check_peer_request(&wm, &wR, "back", NULL);
	answer_peer(&pA, wm.hdr.request_id, 0, NULL);
	chan_msg_free(&cm);
	assert_int_equal(take_reply(&pR, id, NET_RPC, &cm, &wm, detail, sizeof(detail)), 0);
	check_rpc_reply(&wm, DSP_HEARTBEAT | MSG_REPLY, 6);
	chan_msg_free(&cm);

	/* A reload with a renewed certificate keeps serving. */
	{
		struct wire_enc e;

		id = next_id++;
		wire_enc_init(&e, NET_RELOAD, id, WIRE_MAX_MSG);
		wire_put_str(&e, T_CERT, mA.cert);
		wire_put_bytes(&e, T_NODE_KEY, mA.key.p, mA.key.len);
		wire_put_str(&e, T_CA_CERT, ca1.pem);
		send_enc(&pA, &e);
		assert_int_equal(take_reply(&pA, id, NET_RELOAD, &cm, &wm, detail,
		    sizeof(detail)), 0);
		chan_msg_free(&cm);
		/* The same CA again: new contexts from the key we already hold. */
		id = next_id++;
		wire_enc_init(&e, NET_RELOAD, id, WIRE_MAX_MSG);
		wire_put_str(&e, T_CA_CERT, ca1.pem);
		send_enc(&pA, &e);
		assert_int_equal(take_reply(&pA, id, NET_RELOAD, &cm, &wm, detail,
		    sizeof(detail)), 0);
		chan_msg_free(&cm);
		/* A CA our certificate does not chain to is refused. */
		id = next_id++;
		wire_enc_init(&e, NET_RELOAD, id, WIRE_MAX_MSG);
		wire_put_str(&e, T_CA_CERT, ca2.pem);
		send_enc(&pA, &e);
		assert_int_not_equal(take_reply(&pA, id, NET_RELOAD, &cm, &wm, detail,
		    sizeof(detail)), 0);
		expect_contains(detail, "not valid for the cluster CA");
		chan_msg_free(&cm);
		/* Someone else's certificate is refused. */
		id = next_id++;
		wire_enc_init(&e, NET_RELOAD, id, WIRE_MAX_MSG);
		wire_put_str(&e, T_CERT, mB.cert);
		wire_put_bytes(&e, T_NODE_KEY, mB.key.p, mB.key.len);
		send_enc(&pA, &e);
		assert_int_equal(take_reply(&pA, id, NET_RELOAD, &cm, &wm, detail,
		    sizeof(detail)), HUSH_E_INVAL);
		chan_msg_free(&cm);
	}
	/* A new connection gets the reloaded contexts (B never dialled A's dispatch). */
	id = send_rpc(&pB, addrA, 7, "after reload");
	take_event(&pA, NET_PEER_REQUEST, &cm, &wm);
	check_peer_request(&wm, &mB, "after reload", NULL);
	answer_peer(&pA, wm.hdr.request_id, 0, NULL);
	chan_msg_free(&cm);
	assert_int_equal(take_reply(&pB, id, NET_RPC, &cm, &wm, detail, sizeof(detail)), 0);
	chan_msg_free(&cm);
}

static void
test_dispatch_bad_frame(void **state)
{
	static const uint8_t junk[] = {
		0, 1, 0x01, 0x01, 0, 0, 0, 9, 0, 0, 0, 0	/* CTL_STATUS: not a DSP_* */
	};
	struct raw r;

	struct wire_enc e;
	const uint8_t *big;
	uint8_t *cmd;
	size_t len, cmdlen;

	assert_true(raw_connect(&r, portA, &wW, ALPN_DISPATCH));
	assert_int_equal(SSL_write(r.ssl, junk, sizeof(junk)), (int)sizeof(junk));
	raw_expect_closed(&r);
	raw_close(&r);

	/*
	 * Within the stream's bound and its own schema, but too large for the
	 * parent channel's T_PAYLOAD: refused here, never passed up (the
	 * parent would take it for a protocol violation by net).
	 */
	cmdlen = NETFRAME_DSP_MAX - WIRE_HDR_LEN - WIRE_FIELD_HDR_LEN;
	assert_non_null(cmd = calloc(1, cmdlen));
	wire_enc_init(&e, DSP_FORWARD, 1, NETFRAME_DSP_MAX);
	wire_put_bytes(&e, T_COMMAND, cmd, cmdlen);
	assert_int_equal(wire_enc_finish(&e, &big, &len), 0);
	assert_int_equal(len, NETFRAME_DSP_MAX);
	if (len > netframe_payload_max()) {
		assert_true(raw_connect(&r, portA, &wW, ALPN_DISPATCH));
		assert_int_equal(SSL_write(r.ssl, big, (int)len), (int)len);
		raw_expect_closed(&r);
		raw_close(&r);
	}
	wire_enc_free(&e);
	free(cmd);
	expect_quiet(&pA);
}

/* ---- hush-join/1 -------------------------------------------------------------------- */

/*
 * What a joiner's parent gives its net: the CA digest its token names, and
 * the request with its proof -- never the token (ops_join.c).  net only
 * relays the proof and the sealing key: any 32 bytes do here.
 */
struct joiner {
	struct secbuf	 key;
	uint8_t		*csr;
	size_t		 csrlen;
	uint8_t		 digest[JOIN_TOKEN_DIGEST_BYTES];
	uint8_t		 seal_pub[32];
	uint8_t		 proof[32];
};

static void
make_joiner(struct joiner *j, const struct ca *pinned)
{
	assert_int_equal(x509_key_generate(&j->key), 0);
	assert_int_equal(x509_csr_create(&j->key, &j->csr, &j->csrlen), 0);
	assert_int_equal(join_token_digest_pem(pinned->pem, pinned->len, j->digest), 0);
	randombytes_buf(j->seal_pub, sizeof(j->seal_pub));
	randombytes_buf(j->proof, sizeof(j->proof));
}

static void
free_joiner(struct joiner *j)
{
	secbuf_free(&j->key);
	free(j->csr);
}

static uint32_t
send_join(struct proc *p, const char *addr, const struct joiner *j)
{
	struct wire_enc e;
	uint32_t id = next_id++;

	wire_enc_init(&e, NET_JOIN, id, WIRE_MAX_MSG);
	wire_put_str(&e, T_ADDRESS, addr);
	wire_put_bytes(&e, T_DIGEST, j->digest, sizeof(j->digest));
	wire_put_bytes(&e, T_CSR, j->csr, j->csrlen);
	wire_put_bytes(&e, T_SEAL_PUB, j->seal_pub, sizeof(j->seal_pub));
	wire_put_bytes(&e, T_JOIN_PROOF, j->proof, sizeof(j->proof));
	wire_put_str(&e, T_ADVERTISE_ADDR, "10.1.2.3:4477");
	send_enc(p, &e);
	return id;
}

/* The manager's parent: takes the NET_JOIN_SERVE, checks what arrived. */
static uint32_t
take_join_serve(const struct joiner *j)
{
	struct chan_msg cm;
	const uint8_t *p;
	size_t len;
	char addr[64];
	uint32_t id;

	take_event(&pA, NET_JOIN_SERVE, &cm, &wm);
	/* the request as the joiner's parent made it, the proof untouched */
	assert_int_equal(wire_get_bytes(&wm, T_JOIN_PROOF, &p, &len), 0);
	assert_int_equal(len, sizeof(j->proof));
	assert_memory_equal(p, j->proof, len);
	assert_int_equal(wire_get_bytes(&wm, T_SEAL_PUB, &p, &len), 0);
	assert_int_equal(len, sizeof(j->seal_pub));
	assert_memory_equal(p, j->seal_pub, len);
	assert_int_equal(wire_get_bytes(&wm, T_CSR, &p, &len), 0);
	assert_int_equal(len, j->csrlen);
	assert_memory_equal(p, j->csr, len);
	expect_str(&wm, T_ADVERTISE_ADDR, "10.1.2.3:4477");
	assert_int_equal(wire_get_str(&wm, T_ADDRESS, addr, sizeof(addr)), 0);
	expect_contains(addr, "127.0.0.1:");
	id = wm.hdr.request_id;
	chan_msg_free(&cm);
	return id;
}

static void
answer_join(uint32_t id, const struct joiner *j, const char *cn, uint8_t role)
{
	struct x509_cert_info info;
	struct wire_enc e;
	char *cert;
	size_t certlen;

	sign(&ca1, j->csr, j->csrlen, cn, role == ROLE_MANAGER ? X509_OU_MANAGER :
	    X509_OU_WORKER, ca1.cluster, &cert, &certlen);
	assert_int_equal(x509_cert_info(cert, certlen, &info), 0);
	wire_enc_init(&e, NET_JOIN_SERVE | MSG_REPLY, id, WIRE_MAX_MSG);
	wire_put_str(&e, T_NODE_ID, cn);
	wire_put_str(&e, T_CLUSTER_ID, ca1.cluster);
	wire_put_str(&e, T_CERT, cert);
	wire_put_u8(&e, T_ROLE, role);
	wire_put_i64(&e, T_CERT_NOT_AFTER, info.not_after);
	wire_put_str(&e, T_MANAGER_ADDR, addrA);
	wire_put_str(&e, T_MANAGER_ADDR, addrB);
	send_enc(&pA, &e);
	free(cert);
}

static void
test_join_ok(void **state)
{
	struct proc jp;
	struct joiner j;
	struct chan_msg cm;
	struct node joined;
	char detail[1100], newid[HUSH_ID_LEN + 1], got[64];
	const uint8_t *cert;
	size_t certlen;
	uint32_t id;

	spawn(&jp, "J");
	make_joiner(&j, &ca1);
	assert_int_equal(hush_id_new(newid), 0);
	id = send_join(&jp, addrA, &j);
	answer_join(take_join_serve(&j), &j, newid, ROLE_WORKER);
	assert_int_equal(take_reply(&jp, id, NET_JOIN, &cm, &wm, detail, sizeof(detail)), 0);
	expect_str(&wm, T_NODE_ID, newid);
	expect_str(&wm, T_CLUSTER_ID, ca1.cluster);
	expect_str(&wm, T_CA_CERT, ca1.pem);
	assert_int_equal(wire_count(&wm, T_MANAGER_ADDR), 2);
	assert_int_equal(wire_field_str(wire_find(&wm, T_MANAGER_ADDR, 1), got,
	    sizeof(got)), 0);
	assert_string_equal(got, addrB);

	/* The new identity is good for the cluster straight away. */
	memset(&joined, 0, sizeof(joined));
	snprintf(joined.id, sizeof(joined.id), "%s", newid);
	snprintf(joined.cluster, sizeof(joined.cluster), "%s", ca1.cluster);
	joined.role = ROLE_WORKER;
	joined.ca = &ca1;
	joined.key = j.key;
	assert_int_equal(wire_get_bytes(&wm, T_CERT, &cert, &certlen), 0);
	assert_non_null(joined.cert = strndup((const char *)cert, certlen));
	joined.certlen = certlen;
	chan_msg_free(&cm);
	assert_int_equal(net_start(&jp, &joined, addrA, detail, sizeof(detail)), 0);
	id = send_rpc(&jp, addrA, 99, "joined");
	take_event(&pA, NET_PEER_REQUEST, &cm, &wm);
	check_peer_request(&wm, &joined, "joined", NULL);
	answer_peer(&pA, wm.hdr.request_id, 0, NULL);
	chan_msg_free(&cm);
	assert_int_equal(take_reply(&jp, id, NET_RPC, &cm, &wm, detail, sizeof(detail)), 0);
	chan_msg_free(&cm);
	free(joined.cert);
	free_joiner(&j);
	stop(&jp);
}

static void
test_join_wrong_digest(void **state)
{
	struct proc jp;
	struct joiner j;
	struct chan_msg cm;
	char detail[1100];
	uint32_t id;

	spawn(&jp, "J2");
	make_joiner(&j, &ca2);		/* pins a CA the manager does not have */
	id = send_join(&jp, addrA, &j);
	assert_int_equal(take_reply(&jp, id, NET_JOIN, &cm, &wm, detail, sizeof(detail)),
	    HUSH_E_AUTH);
	assert_string_equal(detail, "the cluster's CA does not match the join token");
	chan_msg_free(&cm);
	/* The request never left the joiner. */
	expect_quiet(&pA);
	free_joiner(&j);
	stop(&jp);
}

static void
test_join_refused(void **state)
{
	struct proc jp;
	struct joiner j;
	struct wire_enc e;
	struct chan_msg cm;
	char detail[1100], addr[32];
	uint32_t id;

	spawn(&jp, "J3");
	make_joiner(&j, &ca1);
	id = send_join(&jp, addrA, &j);
	assert_int_equal(msg_error_reply(&e, take_join_serve(&j), HUSH_E_AUTH,
	    "invalid join token"), 0);
	send_enc(&pA, &e);
	assert_int_equal(take_reply(&jp, id, NET_JOIN, &cm, &wm, detail, sizeof(detail)),
	    HUSH_E_AUTH);
	assert_string_equal(detail, "invalid join token");
	chan_msg_free(&cm);

	/* A certificate that is not for the node id the manager names. */
	id = send_join(&jp, addrA, &j);
	{
		uint32_t sid = take_join_serve(&j);
		char other[HUSH_ID_LEN + 1];
		struct x509_cert_info info;
		char *cert;
		size_t certlen;

		assert_int_equal(hush_id_new(other), 0);
		sign(&ca1, j.csr, j.csrlen, other, X509_OU_WORKER, ca1.cluster, &cert,
		    &certlen);
		assert_int_equal(x509_cert_info(cert, certlen, &info), 0);
		wire_enc_init(&e, NET_JOIN_SERVE | MSG_REPLY, sid, WIRE_MAX_MSG);
		wire_put_str(&e, T_NODE_ID, mB.id);
		wire_put_str(&e, T_CLUSTER_ID, ca1.cluster);
		wire_put_str(&e, T_CERT, cert);
		wire_put_u8(&e, T_ROLE, ROLE_WORKER);
		wire_put_i64(&e, T_CERT_NOT_AFTER, info.not_after);
		send_enc(&pA, &e);
		free(cert);
	}
	assert_int_equal(take_reply(&jp, id, NET_JOIN, &cm, &wm, detail, sizeof(detail)),
	    HUSH_E_AUTH);
	expect_contains(detail, "does not match");
	chan_msg_free(&cm);

	/* Nobody there. */
	free_joiner(&j);
	make_joiner(&j, &ca1);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	id = send_join(&jp, addr, &j);
	assert_int_equal(take_reply(&jp, id, NET_JOIN, &cm, &wm, detail, sizeof(detail)),
	    HUSH_E_UNAVAIL);
	expect_contains(detail, "Connection refused");
	chan_msg_free(&cm);
	free_joiner(&j);
	stop(&jp);
}

/* ---- admission of unauthenticated connections (admit.c) ------------------------ */

static struct admit adm;

static struct admit_key
v4(uint32_t host_order)
{
	struct sockaddr_in sin;
	struct admit_key k;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(host_order);
	admit_key_from_sockaddr((struct sockaddr *)&sin, sizeof(sin), &k);
	return k;
}

static struct admit_key
v6(const char *text)
{
	struct sockaddr_in6 s6;
	struct admit_key k;

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, text, &s6.sin6_addr), 1);
	admit_key_from_sockaddr((struct sockaddr *)&s6, sizeof(s6), &k);
	return k;
}

/* Decide and, if admitted, take the slot (closing the victim's first). */
static enum admit_verdict
admit_one(const struct admit_key *k, uint64_t now, uint32_t pct, enum admit_pool *pool)
{
	struct admit_key victim;
	enum admit_verdict v;

	v = admit_decide(&adm, k, now, pct, pool, &victim);
	if (v == ADMIT_EVICT)
		admit_release(&adm, &victim, *pool, FAULT_NONE, now);
	if (v == ADMIT_OK || v == ADMIT_EVICT)
		assert_int_equal(admit_take(&adm, k, *pool, now), 0);
	else
		admit_note(&adm, k, v, now);
	return v;
}

static void
test_admit_keys(void **state)
{
	struct admit_key a, b;
	char buf[64];

	a = v4(0x0a000001);
	admit_key_string(&a, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1");
	/* An IPv4 peer on a dual-stack listener is the same source. */
	b = v6("::ffff:10.0.0.1");
	assert_true(admit_key_equal(&a, &b));
	/* One IPv6 /64 is one source; the next /64 is another. */
	a = v6("2001:db8:1:2::1");
	b = v6("2001:db8:1:2:ffff:ffff:ffff:fffe");
	assert_true(admit_key_equal(&a, &b));
	admit_key_string(&a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:1:2::/64");
	b = v6("2001:db8:1:3::1");
	assert_false(admit_key_equal(&a, &b));
	/* Never confused across families. */
	a = v4(0x20010db8);
	b = v6("2001:db8::");
	assert_false(admit_key_equal(&a, &b));
	/* Anything else is one source of its own, and never "known". */
	{
		struct sockaddr sa = { .sa_family = AF_UNIX };

		admit_key_from_sockaddr(&sa, sizeof(sa), &a);
		assert_int_equal(a.fam, 0);
		admit_init(&adm);
		admit_learn(&adm, &a, 1);
		assert_false(admit_is_known(&adm, &a));
	}
}

static void
test_admit_per_source(void **state)
{
	struct admit_key s = v4(0x0a000064), t = v4(0x0a000065);
	enum admit_pool pool;
	unsigned i;

	admit_init(&adm);
	/* pct 99: no early drop gets in the way here */
	for (i = 0; i < NET_HS_PER_SOURCE; i++)
		assert_int_equal(admit_one(&s, 1000, 99, &pool), ADMIT_OK);
	assert_int_equal(pool, POOL_STRANGER);
	assert_int_equal(admit_one(&s, 1000, 99, &pool), ADMIT_SOURCE_FULL);
	assert_int_equal(admit_held(&adm, &s, POOL_STRANGER), NET_HS_PER_SOURCE);
	/* Another source is not affected. */
	assert_int_equal(admit_one(&t, 1000, 99, &pool), ADMIT_OK);
	/* A slot given back is a slot to take again. */
	admit_release(&adm, &s, POOL_STRANGER, FAULT_NONE, 1000);
	assert_int_equal(admit_one(&s, 1000, 99, &pool), ADMIT_OK);
	assert_int_equal(admit_used(&adm, POOL_STRANGER), NET_HS_PER_SOURCE + 1);
	/* Every slot back: nothing is left in the table. */
	for (i = 0; i < NET_HS_PER_SOURCE; i++)
		admit_release(&adm, &s, POOL_STRANGER, FAULT_NONE, 1000);
	admit_release(&adm, &t, POOL_STRANGER, FAULT_NONE, 1000);
	assert_int_equal(admit_used(&adm, POOL_STRANGER), 0);
	assert_int_equal(adm.nsrc, 0);
}

static void
test_admit_early_drop(void **state)
{
	struct admit_key k, fresh = v4(0x0b000001);
	struct admit_key victim;
	enum admit_pool pool;
	unsigned i, drops, pct;

	admit_init(&adm);
	/* Up to NET_HS_EARLY nothing is dropped, whatever the dice say. */
	for (i = 0; i < NET_HS_EARLY; i++) {
		k = v4(0x0a000000 + i / 2);
		assert_int_equal(admit_one(&k, 1, 0, &pool), ADMIT_OK);
	}
	/* From there a source's second connection is dropped 30 % of the time... */
	k = v4(0x0a000000);
	for (drops = 0, pct = 0; pct < 100; pct++)
		drops += admit_decide(&adm, &k, 1, pct, &pool, &victim) == ADMIT_EARLY_DROP;
	assert_int_equal(drops, NET_HS_EARLY_PCT);
	/* ...but a source's first never is. */
	for (pct = 0; pct < 100; pct++)
		assert_int_equal(admit_decide(&adm, &fresh, 1, pct, &pool, &victim), ADMIT_OK);
	/* The rate rises with the pool: 40 of 64 in use drops 65 %. */
	for (i = NET_HS_EARLY; i < 40; i++) {
		k = v4(0x0c000000 + i);
		assert_int_equal(admit_one(&k, 1, 0, &pool), ADMIT_OK);
	}
	k = v4(0x0a000000);
	for (drops = 0, pct = 0; pct < 100; pct++)
		drops += admit_decide(&adm, &k, 1, pct, &pool, &victim) == ADMIT_EARLY_DROP;
	assert_int_equal(drops, NET_HS_EARLY_PCT + (100 - NET_HS_EARLY_PCT) *
	    (40 - NET_HS_EARLY) / (NET_HS_STRANGERS - NET_HS_EARLY));
	assert_int_equal(adm.st.verdicts[ADMIT_EARLY_DROP], 0);	/* decide changes nothing */
}

static void
test_admit_fair_eviction(void **state)
{
	struct admit_key k, victim, x = v4(0x0b000001), y = v4(0x0b000002);
	enum admit_pool pool;
	unsigned i;

	admit_init(&adm);
	/* Eight sources fill the pool, eight slots each. */
	for (i = 0; i < NET_HS_STRANGERS; i++) {
		k = v4(0x0a000000 + i % 8);
		assert_int_equal(admit_take(&adm, &k, POOL_STRANGER, 1), 0);
	}
	assert_int_equal(admit_used(&adm, POOL_STRANGER), NET_HS_STRANGERS);
	/* A newcomer takes a slot from the busiest; so does the next one. */
	assert_int_equal(admit_decide(&adm, &x, 1, 99, &pool, &victim), ADMIT_EVICT);
	assert_int_equal(victim.fam, 4);
	assert_int_equal(admit_held(&adm, &victim, POOL_STRANGER), 8);
	assert_int_equal(admit_one(&x, 1, 99, &pool), ADMIT_EVICT);
	assert_int_equal(admit_one(&y, 1, 99, &pool), ADMIT_EVICT);
	assert_int_equal(admit_used(&adm, POOL_STRANGER), NET_HS_STRANGERS);
	assert_int_equal(admit_held(&adm, &x, POOL_STRANGER), 1);
	/* The victim is never someone who would end up with more than the newcomer. */
	admit_init(&adm);
	for (i = 0; i < NET_HS_STRANGERS; i++) {
		k = v4(0x0a000000 + i);
		assert_int_equal(admit_take(&adm, &k, POOL_STRANGER, 1), 0);
	}
	/* 64 sources with one slot each: a 65th waits for penalties and deadlines. */
	assert_int_equal(admit_decide(&adm, &x, 1, 99, &pool, &victim), ADMIT_POOL_FULL);
	/* A source with one slot when the busiest holds two does not take it. */
	k = v4(0x0a000000);
	admit_release(&adm, &k, POOL_STRANGER, FAULT_NONE, 1);
	k = v4(0x0a000001);
	assert_int_equal(admit_take(&adm, &k, POOL_STRANGER, 1), 0);
	k = v4(0x0a000002);
	assert_int_equal(admit_decide(&adm, &k, 1, 99, &pool, &victim), ADMIT_POOL_FULL);
	assert_int_equal(admit_decide(&adm, &x, 1, 99, &pool, &victim), ADMIT_EVICT);
	k = v4(0x0a000001);
	assert_true(admit_key_equal(&victim, &k));
}

static void
test_admit_known_reserved(void **state)
{
	struct admit_key k, member = v4(0x0a0000fe), other = v4(0x0a0000fd), victim;
	enum admit_pool pool;
	unsigned i;

	admit_init(&adm);
	admit_learn(&adm, &member, 1);
	assert_true(admit_is_known(&adm, &member));
	assert_false(admit_is_known(&adm, &other));
	/* Strangers fill their whole pool, from as many addresses as they like. */
	for (i = 0; i < NET_HS_STRANGERS; i++) {
		k = v4(0x0a010000 + i);
		assert_int_equal(admit_take(&adm, &k, POOL_STRANGER, 1), 0);
	}
	assert_int_equal(admit_decide(&adm, &other, 1, 99, &pool, &victim), ADMIT_POOL_FULL);
	/* The member is served from its own pool, as if they were not there. */
	for (i = 0; i < NET_HS_PER_SOURCE; i++) {
		assert_int_equal(admit_one(&member, 1, 0, &pool), ADMIT_OK);
		assert_int_equal(pool, POOL_KNOWN);
	}
	/* Bounded there too: the per-source limit and the pool. */
	assert_int_equal(admit_one(&member, 1, 0, &pool), ADMIT_SOURCE_FULL);
	for (i = 1; i < NET_HS_KNOWN / NET_HS_PER_SOURCE; i++) {
		k = v4(0x0a0000f0 + i);
		admit_learn(&adm, &k, 1);
		while (admit_held(&adm, &k, POOL_KNOWN) < NET_HS_PER_SOURCE)
			assert_int_equal(admit_one(&k, 1, 0, &pool), ADMIT_OK);
	}
	assert_int_equal(admit_used(&adm, POOL_KNOWN), NET_HS_KNOWN);
	/* A member with nothing yet takes a slot from one that holds the most. */
	admit_learn(&adm, &other, 1);
	assert_int_equal(admit_one(&other, 1, 0, &pool), ADMIT_EVICT);
	assert_int_equal(pool, POOL_KNOWN);
	assert_int_equal(admit_used(&adm, POOL_KNOWN), NET_HS_KNOWN);
	/* The known table is bounded; the least recently seen goes first. */
	admit_init(&adm);
	for (i = 0; i < NET_KNOWN_MAX + 10; i++) {
		k = v4(0x0a020000 + i);
		admit_learn(&adm, &k, 100 + i);
	}
	assert_int_equal(adm.nknown, NET_KNOWN_MAX);
	k = v4(0x0a020000);
	assert_false(admit_is_known(&adm, &k));
	k = v4(0x0a020000 + NET_KNOWN_MAX + 9);
	assert_true(admit_is_known(&adm, &k));
}

static void
test_admit_penalties(void **state)
{
	struct admit_key s = v4(0x0a000064), m = v4(0x0a000002), k;
	uint64_t t = 1000000;
	enum admit_pool pool;
	unsigned i;

	admit_init(&adm);
	/* One connection that idles to its deadline is forgiven... */
	assert_int_equal(admit_one(&s, t, 99, &pool), ADMIT_OK);
	admit_release(&adm, &s, pool, FAULT_IDLE, t);
	assert_false(admit_penalised(&adm, &s, t));
	assert_int_equal(admit_one(&s, t, 99, &pool), ADMIT_OK);
	/* ...two are not: refused until the charge (20 s) has run out. */
	admit_release(&adm, &s, pool, FAULT_IDLE, t);
	assert_true(admit_penalised(&adm, &s, t));
	assert_int_equal(admit_one(&s, t, 99, &pool), ADMIT_PENALISED);
	assert_int_equal(admit_one(&s, t + 2 * NET_PEN_IDLE_MS - 1, 99, &pool),
	    ADMIT_PENALISED);
	assert_int_equal(admit_one(&s, t + 2 * NET_PEN_IDLE_MS, 99, &pool), ADMIT_OK);
	admit_release(&adm, &s, pool, FAULT_NONE, t + 2 * NET_PEN_IDLE_MS);
	assert_int_equal(adm.nsrc, 0);

	/* Hanging up costs a second; one a second drains as fast as it fills. */
	t += 100000;
	for (i = 0; i < 100; i++) {
		assert_int_equal(admit_one(&s, t + i * 1000, 99, &pool), ADMIT_OK);
		admit_release(&adm, &s, pool, FAULT_EOF, t + i * 1000);
	}
	assert_false(admit_penalised(&adm, &s, t + 100 * 1000));
	/* Sixteen at once are more than NET_PEN_MIN_MS. */
	t += 1000000;
	for (i = 0; i < NET_PEN_MIN_MS / NET_PEN_EOF_MS; i++) {
		assert_int_equal(admit_take(&adm, &s, POOL_STRANGER, t), 0);
		admit_release(&adm, &s, POOL_STRANGER, FAULT_EOF, t);
	}
	assert_false(admit_penalised(&adm, &s, t));
	assert_int_equal(admit_take(&adm, &s, POOL_STRANGER, t), 0);
	admit_release(&adm, &s, POOL_STRANGER, FAULT_EOF, t);
	assert_true(admit_penalised(&adm, &s, t));

	/* However bad, a charge ends within NET_PEN_MAX_MS. */
	t += 1000000;
	for (i = 0; i < 1000; i++) {
		assert_int_equal(admit_take(&adm, &s, POOL_STRANGER, t), 0);
		admit_release(&adm, &s, POOL_STRANGER, FAULT_SLOW, t);
	}
	assert_true(admit_penalised(&adm, &s, t + NET_PEN_MAX_MS - 1));
	assert_false(admit_penalised(&adm, &s, t + NET_PEN_MAX_MS));

	/* A known source is never charged; proving itself clears a charge. */
	admit_learn(&adm, &m, t);
	for (i = 0; i < 10; i++) {
		assert_int_equal(admit_one(&m, t, 0, &pool), ADMIT_OK);
		assert_int_equal(pool, POOL_KNOWN);
		admit_release(&adm, &m, pool, FAULT_BAD, t);
	}
	assert_false(admit_penalised(&adm, &m, t));
	t += NET_PEN_MAX_MS;
	for (i = 0; i < 4; i++) {
		assert_int_equal(admit_take(&adm, &s, POOL_STRANGER, t), 0);
		admit_release(&adm, &s, POOL_STRANGER, FAULT_BAD, t);
	}
	assert_true(admit_penalised(&adm, &s, t));
	admit_learn(&adm, &s, t);
	assert_false(admit_penalised(&adm, &s, t));
	assert_int_equal(admit_one(&s, t, 0, &pool), ADMIT_OK);
	assert_int_equal(pool, POOL_KNOWN);

	/* The table is bounded: charges of the many are forgotten, slots never. */
	admit_init(&adm);
	t = 1000000;
	for (i = 0; i < 64; i++) {
		k = v4(0x0a030000 + i);
		assert_int_equal(admit_take(&adm, &k, POOL_STRANGER, t), 0);
	}
	for (i = 0; i < 5 * NET_SRC_MAX; i++) {
		k = v4(0x0b000000 + i);
		assert_int_equal(admit_take(&adm, &k, POOL_STRANGER, t), 0);
		admit_release(&adm, &k, POOL_STRANGER, FAULT_IDLE, t);
		assert_true(adm.nsrc <= NET_SRC_MAX);
	}
	assert_true(adm.st.forgotten > 0);
	for (i = 0; i < 64; i++) {
		k = v4(0x0a030000 + i);
		assert_int_equal(admit_held(&adm, &k, POOL_STRANGER), 1);
	}
	assert_int_equal(admit_used(&adm, POOL_STRANGER), 64);
}

/*
 * The log: a few lines about single connections; past that one line to say
 * connections are being limited, summaries at doubling intervals, and one
 * line when it is over.
 */
static void
test_admit_log(void **state)
{
	struct admit_key s = v4(0x0a000064);
	enum admit_pool pool;
	uint64_t t = 1000000, u;
	unsigned i, reports;

	admit_init(&adm);
	assert_int_equal(admit_timer(&adm, t), 0);
	/* A few per-connection lines are fine; past the burst, counted instead. */
	for (i = 0; i < NET_ADMIT_LOG_BURST; i++)
		assert_true(admit_log_ok(&adm, t));
	assert_false(admit_log_ok(&adm, t));
	assert_int_equal(adm.st.unlogged, 1);
	assert_int_equal(adm.limiting_since, t);
	assert_int_equal(admit_timer(&adm, t), t + NET_ADMIT_REPORT_MS);
	/* Thousands of refusals: counted for the summary, one line at most. */
	for (i = 0; i < NET_HS_PER_SOURCE; i++)
		assert_int_equal(admit_one(&s, t, 99, &pool), ADMIT_OK);
	for (i = 0; i < 5000; i++)
		assert_int_equal(admit_one(&s, t + i, 99, &pool), ADMIT_SOURCE_FULL);
	assert_int_equal(adm.st.verdicts[ADMIT_SOURCE_FULL], 5000);
	/* While limiting, no line per connection at all. */
	assert_false(admit_log_ok(&adm, t + 4999));
	/* The summary is due, and resets the counts; the next is twice as far. */
	assert_int_equal(admit_timer(&adm, t + NET_ADMIT_REPORT_MS),
	    t + 4999 + NET_ADMIT_QUIET_MS);
	assert_int_equal(adm.st.verdicts[ADMIT_SOURCE_FULL], 0);
	assert_int_equal(adm.report_every, 2 * NET_ADMIT_REPORT_MS);
	assert_int_equal(adm.refused_total, 5000);
	/* Quiet for NET_ADMIT_QUIET_MS: over, and single lines are back. */
	assert_int_equal(admit_timer(&adm, t + 4999 + NET_ADMIT_QUIET_MS - 1),
	    t + 4999 + NET_ADMIT_QUIET_MS);
	assert_int_equal(admit_timer(&adm, t + 4999 + NET_ADMIT_QUIET_MS), 0);
	assert_int_equal(adm.limiting_since, 0);
	assert_true(admit_log_ok(&adm, t + 4999 + NET_ADMIT_QUIET_MS));

	/* A flood that lasts hours: summaries at most every NET_ADMIT_REPORT_MAX_MS. */
	t += 1000000;
	for (reports = 0, u = 0; u < 3 * 3600 * 1000ull; u += 1000) {
		assert_int_equal(admit_one(&s, t + u, 99, &pool), ADMIT_SOURCE_FULL);
		if (admit_timer(&adm, t + u) != 0 && adm.period_start == t + u)
			reports++;
	}
	assert_int_equal(adm.report_every, NET_ADMIT_REPORT_MAX_MS);
	/* 30, 60, 120, 240, 480 s, then every 600 s */
	assert_true(reports <= 3 * 3600 / (NET_ADMIT_REPORT_MAX_MS / 1000) + 5);
	assert_true(reports >= 3 * 3600 / (NET_ADMIT_REPORT_MAX_MS / 1000));
}

/*
 * The real thing: a net child refuses a stranger's flood of silent
 * connections at accept(), keeps serving a member and another stranger
 * meanwhile, closes what it did hold after NET_FIRST_BYTE_MS, a stalled
 * handshake after NET_HS_INBOUND_MS, and then refuses the flooder outright.
 */
static void
test_admission_live(void **state)
{
	int fds[40], slow, fd, held, i;
	struct chan_msg in;
	struct raw r;
	uint8_t b;
	ssize_t n;

	/* 127.0.0.5 starts a TLS record and stalls. */
	slow = tcp_from("127.0.0.5", portA);
	assert_int_equal(write(slow, "\x16\x03\x01\x40", 4), 4);
	/* 127.0.0.2 sends nothing, forty times. */
	for (i = 0; i < 40; i++)
		fds[i] = tcp_from("127.0.0.2", portA);
	usleep(500000);
	for (held = 0, i = 0; i < 40; i++) {
		n = recv(fds[i], &b, 1, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			held++;
	}
	assert_int_equal(held, NET_HS_PER_SOURCE);
	/* Meanwhile a stranger with a certificate of ours is served. */
	assert_true(raw_connect_from(&r, "127.0.0.3", portA, &mB, ALPN_RAFT));
	take_event(&pA, NET_INBOUND, &in, &wm2);
	assert_true(in.fd >= 0);
	close(in.fd);
	in.fd = -1;
	chan_msg_free(&in);
	raw_close(&r);
	/* The silent ones go after NET_FIRST_BYTE_MS (with a reset). */
	for (i = 0; i < 40; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN };

		assert_int_equal(poll(&pfd, 1, NET_FIRST_BYTE_MS + 2000), 1);
		assert_true(recv(fds[i], &b, 1, MSG_DONTWAIT) <= 0);
		close(fds[i]);
	}
	/* Eight silent connections cost 80 s: 127.0.0.2 is refused at once. */
	fd = tcp_from("127.0.0.2", portA);
	{
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		assert_int_equal(poll(&pfd, 1, 1000), 1);
		assert_true(recv(fd, &b, 1, MSG_DONTWAIT) <= 0);
		close(fd);
	}
	/* A member is not a stranger, whatever strangers did. */
	assert_true(raw_connect(&r, portA, &mB, ALPN_RAFT));
	take_event(&pA, NET_INBOUND, &in, &wm2);
	close(in.fd);
	in.fd = -1;
	chan_msg_free(&in);
	raw_close(&r);
	/* The stalled handshake went when its NET_HS_INBOUND_MS were up. */
	{
		struct pollfd pfd = { .fd = slow, .events = POLLIN };

		assert_int_equal(poll(&pfd, 1, NET_HS_INBOUND_MS), 1);
		assert_true(recv(slow, &b, 1, MSG_DONTWAIT) <= 0);
		close(slow);
	}

	/*
	 * One silent connection from each of NET_HS_STRANGERS addresses: the
	 * pool is full and nobody holds more than a newcomer.  A second later
	 * the oldest of them gives its slot to a stranger that speaks.
	 */
	{
		int many[NET_HS_STRANGERS], closed = 0;
		char src[32];

		for (i = 0; i < NET_HS_STRANGERS; i++) {
			snprintf(src, sizeof(src), "127.0.1.%d", i + 1);
			many[i] = tcp_from(src, portA);
		}
		usleep(200000);
		/* Full: another stranger waits (a reset, here). */
		fd = tcp_from("127.0.2.2", portA);
		{
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			assert_int_equal(poll(&pfd, 1, 500), 1);
			assert_true(recv(fd, &b, 1, MSG_DONTWAIT) <= 0);
			close(fd);
		}
		usleep(NET_HS_STALE_MS * 1000);
		assert_true(raw_connect_from(&r, "127.0.2.1", portA, &mB, ALPN_RAFT));
		take_event(&pA, NET_INBOUND, &in, &wm2);
		close(in.fd);
		in.fd = -1;
		chan_msg_free(&in);
		raw_close(&r);
		for (i = 0; i < NET_HS_STRANGERS; i++) {
			if (recv(many[i], &b, 1, MSG_DONTWAIT) <= 0 && errno != EAGAIN)
				closed++;
			close(many[i]);
		}
		assert_true(closed >= 1);
	}
	drain(&pA);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_raft_stream),
		cmocka_unit_test(test_raft_worker_refused),
		cmocka_unit_test(test_other_cluster_refused),
		cmocka_unit_test(test_peer_id_mismatch),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_rpc_heartbeat),
		cmocka_unit_test(test_removed_node),
		cmocka_unit_test(test_rpc_by_name),
		cmocka_unit_test(test_rpc_timeout),
		cmocka_unit_test(test_dispatch_bad_frame),
		cmocka_unit_test(test_join_ok),
		cmocka_unit_test(test_join_wrong_digest),
		cmocka_unit_test(test_join_refused),
		cmocka_unit_test(test_admit_keys),
		cmocka_unit_test(test_admit_per_source),
		cmocka_unit_test(test_admit_early_drop),
		cmocka_unit_test(test_admit_fair_eviction),
		cmocka_unit_test(test_admit_known_reserved),
		cmocka_unit_test(test_admit_penalties),
		cmocka_unit_test(test_admit_log),
		cmocka_unit_test(test_admission_live),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
