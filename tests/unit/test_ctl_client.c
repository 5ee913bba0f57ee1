/*
 * lib/ctl_client.c against a stand-in hushd on a real SOCK_SEQPACKET
 * socket, served by a thread of this process: the file descriptor a
 * caller asks to pass (the hook's pidfd) goes with the request on every
 * attempt, a zeroed ctl_opts never passes fd 0, and a reply carrying a
 * descriptor is refused whichever way the channel was opened.
 * The thread only records what it saw; the test thread asserts.
 *
 * And an impostor: a process of another user that bound the socket path
 * first gets not a byte, whatever the call would have sent it.  It runs
 * in a child of its own, as the kernel records a listener's credentials
 * when it calls listen().  Both need root, as the real hushctl does:
 * ctl_call() talks only to a server running as root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan.h"
#include "ctl_client.h"
#include "err.h"
#include "msg.h"
#include "wire.h"

#define MAX_CONNS	4
#define ACCEPT_MS	5000	/* how long the stand-in waits for a client */
#define REQ_MAX		512	/* the longest request it keeps a copy of */
#define NOBODY		65534	/* the impostor's uid and gid */
#define IMPOSTOR_MS	3000	/* how long it waits for one more connection */

enum answer {
	ANSWER_OK,		/* the request's reply, no fields */
	ANSWER_UNAVAIL,		/* MSG_ERROR HUSH_E_UNAVAIL: try again */
	ANSWER_WITH_FD,		/* the request's reply, with an fd attached */
	ANSWER_CLOSE,		/* today's hushd on an fd: hang up, no reply */
	ANSWER_BUSY,		/* MSG_ERROR HUSH_E_BUSY: no room, not read */
	ANSWER_TOOBIG,		/* HUSH_E_TOOBIG at once, the request unread */
};

struct server {
	int		 lfd;
	int		 nconns;		/* connections to serve */
	enum answer	 answer[MAX_CONNS];
	/* what it saw */
	int		 served;
	bool		 had_fd[MAX_CONNS];
	dev_t		 fd_dev[MAX_CONNS];
	ino_t		 fd_ino[MAX_CONNS];
	uint16_t	 type[MAX_CONNS];
	uint8_t		 req[MAX_CONNS][REQ_MAX];
	size_t		 reqlen[MAX_CONNS];
};

/* What the impostor saw, sent to the test when it is told to stop. */
struct impostor_saw {
	long	conns;		/* connections it accepted */
	long	bytes;		/* bytes they carried to it */
};

struct impostor {
	pid_t	pid;
	int	done;		/* closed by the test when it has called */
	int	saw;		/* a struct impostor_saw comes out of it */
};

static char dir[64], sock[96], idir[64], isock[96];
static struct server srv;
static pthread_t thread;
static int pipefd[2];

static int
count_fds(void)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
answer(struct chan *c, uint16_t type, enum answer how)
{
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;

	if (how == ANSWER_UNAVAIL)
		(void)!msg_error_reply(&e, CTL_REQUEST_ID, HUSH_E_UNAVAIL,
		    "the raft store is starting");
	else if (how == ANSWER_BUSY)
		assert_int_equal(msg_error_reply(&e, CTL_REQUEST_ID, HUSH_E_BUSY,
		    "hushd is busy: 64 hushctl requests are in progress"), 0);
	else if (how == ANSWER_TOOBIG)
		assert_int_equal(msg_error_reply(&e, CTL_REQUEST_ID, HUSH_E_TOOBIG,
		    "request too large: 300012 bytes"), 0);
	else
		wire_enc_init(&e, type | MSG_REPLY, CTL_REQUEST_ID, WIRE_MAX_MSG);
	/* A failure fails the test: the client under test then sees no answer. */
	if (wire_enc_finish(&e, &buf, &len) == 0)
		(void)!chan_send_wait(c, buf, len,
		    how == ANSWER_WITH_FD ? STDERR_FILENO : -1);
	wire_enc_free(&e);
}

static void *
serve(void *arg)
{
	struct server *s = arg;
	struct pollfd pfd;
	struct chan_msg m;
	struct wire_hdr hdr;
	struct chan c;
	struct stat sb;
	int i, fd;

	for (i = 0; i < s->nconns; i++) {
		pfd.fd = s->lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ACCEPT_MS) != 1 ||
		    (fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			break;
		chan_init(&c, fd, "control", WIRE_MAX_MSG, true);
		if (s->answer[i] == ANSWER_TOOBIG) {
			/* As hushd refuses: answer, stop reading, drop the rest. */
			s->served = i + 1;
			answer(&c, 0, ANSWER_TOOBIG);
			(void)shutdown(fd, SHUT_RD);
			(void)chan_discard_input(&c, 256);
			chan_close(&c);
			continue;
		}
		if (chan_recv_wait(&c, &m, ACCEPT_MS) != 1) {
			chan_close(&c);
			break;
		}
		if (m.fd >= 0 && fstat(m.fd, &sb) == 0) {
			s->had_fd[i] = true;
			s->fd_dev[i] = sb.st_dev;
			s->fd_ino[i] = sb.st_ino;
		}
		if (wire_peek_hdr(m.buf, m.len, &hdr) == 0)
			s->type[i] = hdr.type;
		if (m.len <= REQ_MAX) {
			memcpy(s->req[i], m.buf, m.len);
			s->reqlen[i] = m.len;
		}
		chan_msg_free(&m);
		s->served = i + 1;
		if (s->answer[i] != ANSWER_CLOSE)
			answer(&c, hdr.type, s->answer[i]);
		chan_close(&c);
	}
	return NULL;
}

/* Starts the stand-in for n connections, answered as the list says. */
static void
start(int n, ...)
{
	struct sockaddr_un sun;
	va_list ap;
	int i;

	memset(&srv, 0, sizeof(srv));
	srv.nconns = n;
	va_start(ap, n);
	for (i = 0; i < n; i++)
		srv.answer[i] = (enum answer)va_arg(ap, int);
	va_end(ap);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	srv.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(srv.lfd >= 0);
	assert_int_equal(bind(srv.lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(srv.lfd, MAX_CONNS), 0);
	assert_int_equal(pthread_create(&thread, NULL, serve, &srv), 0);
}

static void
stop(void)
{
	/* Wakes the stand-in if it still waits for a connection. */
	(void)shutdown(srv.lfd, SHUT_RDWR);
	assert_int_equal(pthread_join(thread, NULL), 0);
	close(srv.lfd);
	unlink(sock);
}

/* The request whose fd the tests pass; hushd would get a pidfd. */
static void
detach_request(struct wire_enc *e)
{
	ctl_request(e, CTL_CONTAINER_DETACH);
	wire_put_str(e, T_CONTAINER_ID, "c1");
}

/* Whether the stand-in's i-th request came with the write end of pipefd. */
static bool
got_pipe(int i)
{
	struct stat sb;

	assert_int_equal(fstat(pipefd[1], &sb), 0);
	return srv.had_fd[i] && srv.fd_dev[i] == sb.st_dev &&
	    srv.fd_ino[i] == sb.st_ino;
}

/*
 * The impostor's side, in the child: as nobody, listen at isock, then
 * count every connection and every byte until the test closes done (or
 * IMPOSTOR_MS pass without a connection).  It never answers: nothing a
 * client sends it may depend on an answer.
 */
static void
impostor_serve(int ready, int done, int saw)
{
	struct sockaddr_un sun;
	struct impostor_saw counts = { 0, 0 };
	struct pollfd pfd[2], cpfd;
	char buf[4096];
	ssize_t n;
	int lfd, fd;

	if (setgroups(0, NULL) != 0 ||
	    setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) != 0)
		_exit(2);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", isock);
	if ((lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(lfd, MAX_CONNS) != 0)
		_exit(3);
	if (write(ready, "r", 1) != 1)
		_exit(4);
	close(ready);
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = done, .events = POLLIN };
		if (poll(pfd, 2, IMPOSTOR_MS) <= 0)
			break;
		/* A connection already queued is counted before stopping. */
		if (!(pfd[0].revents & POLLIN))
			break;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			break;
		counts.conns++;
		/* MSG_TRUNC: the whole datagram's length, however long. */
		cpfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		while (poll(&cpfd, 1, IMPOSTOR_MS) == 1 &&
		    (n = recv(fd, buf, sizeof(buf), MSG_TRUNC)) > 0)
			counts.bytes += n;
		close(fd);
	}
	if (write(saw, &counts, sizeof(counts)) != (ssize_t)sizeof(counts))
		_exit(5);
	_exit(0);
}

/* Starts the impostor; returns once it listens at isock. */
static void
impostor_start(struct impostor *imp)
{
	int ready[2], done[2], saw[2];
	char c;

	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(done, O_CLOEXEC), 0);
	assert_int_equal(pipe2(saw, O_CLOEXEC), 0);
	imp->pid = fork();
	assert_true(imp->pid >= 0);
	if (imp->pid == 0) {
		close(ready[0]);
		close(done[1]);
		close(saw[0]);
		impostor_serve(ready[1], done[0], saw[1]);
	}
	close(ready[1]);
	close(done[0]);
	close(saw[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	imp->done = done[1];
	imp->saw = saw[0];
}

/* Stops the impostor and returns what it saw. */
static struct impostor_saw
impostor_stop(struct impostor *imp)
{
	struct impostor_saw counts;
	int status;

	close(imp->done);
	assert_int_equal(read(imp->saw, &counts, sizeof(counts)),
	    sizeof(counts));
	close(imp->saw);
	assert_int_equal(waitpid(imp->pid, &status, 0), imp->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	unlink(isock);
	return counts;
}

static int
setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_ctl_client needs root: ctl_call() talks "
		    "only to a server running as root\n");
		return -1;
	}
	/* The impostor's own directory, where nobody may bind. */
	snprintf(idir, sizeof(idir), "/tmp/hush-ctl-imp-XXXXXX");
	if (mkdtemp(idir) == NULL || chown(idir, NOBODY, NOBODY) != 0)
		return -1;
	snprintf(isock, sizeof(isock), "%s/control.sock", idir);
	snprintf(dir, sizeof(dir), "/tmp/hush-ctl-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	return pipe2(pipefd, O_CLOEXEC);
}

static int
teardown(void **state)
{
	(void)state;
	close(pipefd[0]);
	close(pipefd[1]);
	unlink(sock);
	unlink(isock);
	(void)rmdir(idir);
	return rmdir(dir);
}

static void
test_fd_goes_with_the_request(void **state)
{
	struct ctl_opts opts;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;
	int before;

	(void)state;
	before = count_fds();
	start(1, ANSWER_OK);
	detach_request(&e);
	memset(&opts, 0, sizeof(opts));
	opts.send_fd = true;
	opts.fd = pipefd[1];
	assert_int_equal(ctl_call(sock, "c1", &e, &rep, &opts, &err), 0);
	assert_int_equal(rep.msg->hdr.type, CTL_CONTAINER_DETACH | MSG_REPLY);
	ctl_reply_free(&rep);
	wire_enc_free(&e);
	stop();
	assert_int_equal(srv.served, 1);
	assert_int_equal(srv.type[0], CTL_CONTAINER_DETACH);
	assert_true(got_pipe(0));
	/* The caller keeps its fd; the library keeps none. */
	assert_true(fcntl(pipefd[1], F_GETFD) >= 0);
	assert_int_equal(count_fds(), before);
}

/* Callers zero their opts: that must never pass fd 0. */
static void
test_zeroed_opts_pass_nothing(void **state)
{
	struct ctl_opts opts;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;

	(void)state;
	assert_true(fcntl(0, F_GETFD) >= 0 || dup2(pipefd[0], 0) == 0);
	start(2, ANSWER_OK, ANSWER_OK);
	memset(&opts, 0, sizeof(opts));
	opts.fd = 0;
	detach_request(&e);
	assert_int_equal(ctl_call(sock, "c1", &e, &rep, &opts, &err), 0);
	ctl_reply_free(&rep);
	/* hushctl's way: no opts at all. */
	assert_int_equal(ctl_call(sock, "c1", &e, &rep, NULL, &err), 0);
	ctl_reply_free(&rep);
	wire_enc_free(&e);
	stop();
	assert_int_equal(srv.served, 2);
	assert_false(srv.had_fd[0]);
	assert_false(srv.had_fd[1]);
}

/* "Unavailable", then an answer: the resent request carries the fd too. */
static void
test_fd_goes_with_every_attempt(void **state)
{
	struct ctl_opts opts;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;

	(void)state;
	start(3, ANSWER_UNAVAIL, ANSWER_UNAVAIL, ANSWER_OK);
	detach_request(&e);
	memset(&opts, 0, sizeof(opts));
	opts.send_fd = true;
	opts.fd = pipefd[1];
	opts.budget_ms = 5000;
	assert_int_equal(ctl_call(sock, "c1", &e, &rep, &opts, &err), 0);
	ctl_reply_free(&rep);
	wire_enc_free(&e);
	stop();
	assert_int_equal(srv.served, 3);
	assert_true(got_pipe(0));
	assert_true(got_pipe(1));
	assert_true(got_pipe(2));
	/* Byte for byte the same request each time. */
	assert_true(srv.reqlen[0] > 0);
	assert_int_equal(srv.reqlen[0], srv.reqlen[2]);
	assert_memory_equal(srv.req[0], srv.req[2], srv.reqlen[0]);
}

/*
 * Today's hushd hangs up on a control request that carries an fd: the
 * outcome is unknown, so the call retries, with the fd, until its budget
 * is spent, and says it gave up.
 */
static void
test_hangup_is_retried_until_the_budget(void **state)
{
	struct ctl_opts opts;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;

	(void)state;
	start(4, ANSWER_CLOSE, ANSWER_CLOSE, ANSWER_CLOSE, ANSWER_CLOSE);
	detach_request(&e);
	memset(&opts, 0, sizeof(opts));
	opts.send_fd = true;
	opts.fd = pipefd[1];
	opts.budget_ms = 600;
	assert_int_equal(ctl_call(sock, "c1", &e, &rep, &opts, &err),
	    HUSH_E_IO);
	wire_enc_free(&e);
	assert_true(err.gave_up);
	assert_true(err.unknown);
	assert_false(err.unreachable);
	assert_string_equal(err.text, "c1: hushd closed the connection before "
	    "replying");
	stop();
	assert_true(srv.served >= 1);
	assert_true(got_pipe(0));
	if (srv.served > 1)
		assert_true(got_pipe(1));
}

/*
 * "Busy" means hushd did nothing with the request: it is sent again, the
 * same bytes, even by a call that sends others only once.
 */
static void
test_busy_is_resent_even_once(void **state)
{
	struct ctl_opts opts;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;

	(void)state;
	start(2, ANSWER_BUSY, ANSWER_OK);
	detach_request(&e);
	memset(&opts, 0, sizeof(opts));
	opts.once = true;
	opts.budget_ms = 3000;
	assert_int_equal(ctl_call(sock, "c1", &e, &rep, &opts, &err), 0);
	wire_enc_free(&e);
	ctl_reply_free(&rep);
	stop();
	assert_int_equal(srv.served, 2);
	/* counted though the call succeeded: the store benchmark reports it */
	assert_int_equal(err.busy_retries, 1);
	assert_int_equal(srv.reqlen[0], srv.reqlen[1]);
	assert_memory_equal(srv.req[0], srv.req[1], srv.reqlen[0]);
}

/* Busy to the end: the daemon's own words, and that the call gave up. */
static void
test_busy_until_the_budget(void **state)
{
	struct ctl_opts opts;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;

	(void)state;
	start(4, ANSWER_BUSY, ANSWER_BUSY, ANSWER_BUSY, ANSWER_BUSY);
	ctl_request(&e, CTL_STATUS);
	memset(&opts, 0, sizeof(opts));
	opts.once = true;
	opts.budget_ms = 600;
	assert_int_equal(ctl_call(sock, "status", &e, &rep, &opts, &err), HUSH_E_BUSY);
	wire_enc_free(&e);
	stop();
	assert_true(err.gave_up);
	assert_false(err.unknown);
	/* each attempt was refused; the call ran out of time after 2 to 4 */
	assert_in_range(err.busy_retries, 2, 4);
	assert_string_equal(err.text, "status: hushd is busy: 64 hushctl "
	    "requests are in progress");
}

/*
 * A request hushd refuses before reading it whole: its answer is read
 * although the rest of the request could not be sent, and not retried.
 */
static void
test_refused_unread_request_gets_its_answer(void **state)
{
	static uint8_t big[300000];
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;

	(void)state;
	start(1, ANSWER_TOOBIG);
	ctl_request(&e, CTL_SECRET_CREATE);
	wire_put_bytes(&e, T_DATA, big, sizeof(big));
	assert_int_equal(ctl_call(sock, "secret create", &e, &rep, NULL, &err),
	    HUSH_E_TOOBIG);
	wire_enc_free(&e);
	stop();
	assert_int_equal(srv.served, 1);
	assert_string_equal(err.text, "secret create: request too large: "
	    "300012 bytes");
	assert_false(err.gave_up);
}

/* A reply with a descriptor is a bad reply, whether or not we sent one. */
static void
test_reply_with_fd_is_refused(void **state)
{
	struct ctl_opts opts;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;
	int before, i;

	(void)state;
	before = count_fds();
	for (i = 0; i < 2; i++) {
		start(1, ANSWER_WITH_FD);
		detach_request(&e);
		memset(&opts, 0, sizeof(opts));
		opts.send_fd = i == 0;
		opts.fd = pipefd[1];
		assert_int_equal(ctl_call(sock, "c1", &e, &rep, &opts, &err),
		    HUSH_E_PROTO);
		assert_string_equal(err.text, "c1: bad reply from hushd: "
		    "protocol violation");
		assert_null(rep.msg);
		wire_enc_free(&e);
		stop();
		assert_int_equal(srv.served, 1);
	}
	assert_int_equal(count_fds(), before);
}

/* Nothing to pass: refused before connecting, nothing is sent. */
static void
test_bad_fd_is_refused_up_front(void **state)
{
	static const int bad[] = { -1, 1000000 };
	struct ctl_opts opts;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		detach_request(&e);
		memset(&opts, 0, sizeof(opts));
		opts.send_fd = true;
		opts.fd = bad[i];
		/* No one listens at sock: a connection would say so. */
		assert_int_equal(ctl_call(sock, "c1", &e, &rep, &opts, &err),
		    HUSH_E_INVAL);
		assert_false(err.unreachable);
		assert_int_equal(err.sys_errno, 0);
		assert_string_equal(err.text, "c1: no file descriptor to pass "
		    "with the request");
		assert_null(rep.msg);
		wire_enc_free(&e);
	}
}

/* The exact line hushctl and the hook print after their own name. */
static void
assert_impostor_err(const struct ctl_error *err, pid_t pid)
{
	char want[256];

	snprintf(want, sizeof(want), "%s is served by uid %d (pid %ld), not "
	    "root: refusing to send anything to it (is someone impersonating "
	    "hushd?)", isock, NOBODY, (long)pid);
	assert_string_equal(err->text, want);
	assert_int_equal(err->code, HUSH_E_AUTH);
	assert_true(err->impostor);
	assert_int_equal(err->peer_uid, NOBODY);
	assert_int_equal(err->peer_pid, pid);
	/* Not "hushd is not running", nor an outcome to wonder about. */
	assert_false(err->unreachable);
	assert_false(err->unknown);
	assert_false(err->gave_up);
	assert_int_equal(err->sys_errno, 0);
}

/*
 * hushctl's unlock: its key would go to whoever listens.  Called the way
 * hushctl calls (no opts: a lost request is retried), the impostor gets
 * one connection, not a byte, and no second try.
 */
static void
test_impostor_gets_no_unlock_key(void **state)
{
	struct impostor imp;
	struct impostor_saw saw;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;
	uint8_t kek[32];
	int r;

	(void)state;
	impostor_start(&imp);
	memset(kek, 0x4b, sizeof(kek));
	ctl_request(&e, CTL_UNLOCK);
	wire_put_bytes(&e, T_KEK, kek, sizeof(kek));
	r = ctl_call(isock, "unlock", &e, &rep, NULL, &err);
	wire_enc_free(&e);
	saw = impostor_stop(&imp);
	assert_int_equal(saw.bytes, 0);
	assert_int_equal(saw.conns, 1);
	assert_int_equal(r, HUSH_E_AUTH);
	assert_null(rep.msg);
	assert_impostor_err(&err, imp.pid);
}

/*
 * The hook's attach: a claim, and the container's pidfd, which would let
 * the impostor act on the container's process.  Same refusal, within the
 * hook's budget, and the library keeps no descriptor.
 */
static void
test_impostor_gets_no_claim_or_fd(void **state)
{
	struct impostor imp;
	struct impostor_saw saw;
	struct ctl_opts opts;
	struct ctl_reply rep;
	struct ctl_error err;
	struct wire_enc e;
	int before, r;

	(void)state;
	before = count_fds();
	impostor_start(&imp);
	ctl_request(&e, CTL_CONTAINER_ATTACH);
	wire_put_str(&e, T_CONTAINER_ID, "c1");
	wire_put_str(&e, T_SERVICE_NAME, "web");
	wire_put_str(&e, T_CLAIM, "HUSHCLM-1-not-a-real-claim");
	memset(&opts, 0, sizeof(opts));
	opts.send_fd = true;
	opts.fd = pipefd[1];
	opts.budget_ms = 5000;
	r = ctl_call(isock, "c1", &e, &rep, &opts, &err);
	wire_enc_free(&e);
	saw = impostor_stop(&imp);
	assert_int_equal(saw.bytes, 0);
	assert_int_equal(saw.conns, 1);
	assert_int_equal(r, HUSH_E_AUTH);
	assert_null(rep.msg);
	assert_impostor_err(&err, imp.pid);
	assert_int_equal(count_fds(), before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_goes_with_the_request),
		cmocka_unit_test(test_zeroed_opts_pass_nothing),
		cmocka_unit_test(test_fd_goes_with_every_attempt),
		cmocka_unit_test(test_hangup_is_retried_until_the_budget),
		cmocka_unit_test(test_reply_with_fd_is_refused),
		cmocka_unit_test(test_busy_is_resent_even_once),
		cmocka_unit_test(test_busy_until_the_budget),
		cmocka_unit_test(test_refused_unread_request_gets_its_answer),
		cmocka_unit_test(test_bad_fd_is_refused_up_front),
		cmocka_unit_test(test_impostor_gets_no_unlock_key),
		cmocka_unit_test(test_impostor_gets_no_claim_or_fd),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
