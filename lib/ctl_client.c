#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "err.h"
#include "msg.h"

enum outcome {
	DONE,		/* a reply of the request's type */
	RETRY,		/* outcome unknown: send the same bytes again */
	FAILED,		/* definite failure; call->err says why */
};

struct call {
	const char	*socket, *what;
	const uint8_t	*buf;
	size_t		 len;
	int		 fd;		/* sent each attempt; -1: none */
	uint16_t	 type;
	bool		 retrying;
	bool		 reached;	/* some attempt got a connection */
	bool		 busy;		/* last refused, unread: safe to resend */
	struct ctl_error *err;		/* of the last failure */
};

static void set_err(struct call *, int, const char *, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(struct call *call, int code, const char *fmt, ...)
{
	va_list ap;

	call->err->code = code;
	va_start(ap, fmt);
	vsnprintf(call->err->text, sizeof(call->err->text), fmt, ap);
	va_end(ap);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
ctl_request(struct wire_enc *e, uint16_t type)
{
	wire_enc_init(e, type, CTL_REQUEST_ID, WIRE_MAX_MSG);
}

void
ctl_put_req_id(struct wire_enc *e)
{
	uint8_t id[HUSH_REQ_ID_LEN];

	randombytes_buf(id, sizeof(id));
	wire_put_bytes(e, T_REQ_ID, id, sizeof(id));
}

/*
 * Whether the process serving fd, a connected control socket, is root;
 * if not, or if the kernel will not say, -1 with call->err set.  Called
 * before a byte goes out on fd.
 *
 * The path proves nothing: a user who can write the socket's directory,
 * or could while hushd was down, can bind a socket there first and wait
 * for an unlock key, a secret's value or a container's claim and pidfd
 * (hushd then refuses to start, but only once a client may have talked).  The
 * kernel's word is proof: SO_PEERCRED gives the credentials the server
 * had at listen(), and hushd listens in its parent process, which stays
 * root.  Only uid 0 is asked for, not a pid or a program: root is
 * trusted anyway (it can read hushd's memory), and an unprivileged
 * process cannot appear as root, not even as root of a user namespace,
 * which the kernel maps back to its real uid (or to the overflow uid).
 */
static int
served_by_root(struct call *call, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int saved;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		saved = errno;
	else
		saved = len == sizeof(cred) ? 0 : EPROTO;
	if (saved != 0) {
		set_err(call, HUSH_E_SYS, "cannot tell who serves %s: %s",
		    call->socket, strerror(saved));
		call->err->sys_errno = saved;
		return -1;
	}
	if (cred.uid == 0)
		return 0;
	set_err(call, HUSH_E_AUTH, "%s is served by uid %u (pid %ld), not "
	    "root: refusing to send anything to it (is someone impersonating "
	    "hushd?)", call->socket, (unsigned int)cred.uid, (long)cred.pid);
	call->err->impostor = true;
	call->err->peer_uid = cred.uid;
	call->err->peer_pid = cred.pid;
	call->err->sys_errno = 0;
	return -1;
}

/* Returns the connected socket, or -1 with call->err set. */
static int
dial(struct call *call)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(call->socket) >= sizeof(sun.sun_path)) {
		set_err(call, HUSH_E_INVAL, "cannot connect to hushd at %s: "
		    "socket path too long", call->socket);
		call->err->sys_errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, call->socket, strlen(call->socket));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0) {
		saved = errno;
		set_err(call, HUSH_E_SYS, "cannot create socket: %s",
		    strerror(saved));
		call->err->sys_errno = saved;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		saved = errno;
		close(fd);
		if (saved == EACCES || saved == EPERM)
			set_err(call, HUSH_E_PERM, "permission denied: %s "
			    "(only root may use hushd's control socket)",
			    call->socket);
		else
			set_err(call, HUSH_E_IO, "cannot connect to hushd at %s: "
			    "%s (is hushd running?)", call->socket, strerror(saved));
		call->err->sys_errno = saved;
		return -1;
	}
	if (served_by_root(call, fd) != 0) {
		close(fd);
		return -1;
	}
	call->reached = true;
	call->err->sys_errno = 0;
	return fd;
}

/* Sorts a reply into DONE, RETRY or FAILED; rep keeps it only on DONE. */
static enum outcome
judge(struct call *call, struct ctl_reply *rep)
{
	const uint16_t allowed[] = { call->type | MSG_REPLY, MSG_ERROR, 0 };
	char why[256], detail[1100];
	int r;

	if ((r = msg_parse(rep->raw.buf, rep->raw.len, WIRE_MAX_MSG, allowed,
	    rep->msg, why, sizeof(why))) != 0) {
		set_err(call, r, "%s: bad reply from hushd: %s", call->what, why);
		return FAILED;
	}
	if (rep->msg->hdr.request_id != CTL_REQUEST_ID) {
		set_err(call, HUSH_E_PROTO, "%s: bad reply from hushd: request "
		    "id %u, expected %u", call->what,
		    (unsigned int)rep->msg->hdr.request_id, CTL_REQUEST_ID);
		return FAILED;
	}
	if ((r = msg_reply_status(rep->msg, detail, sizeof(detail))) == 0)
		return DONE;
	/* The daemon's own words say more than the generic text for r. */
	set_err(call, r, "%s: %s", call->what,
	    detail[0] != '\0' ? detail : hush_strerror(r));
	/* An answer, even "unavailable": hushd says what became of it. */
	call->err->unknown = false;
	/*
	 * Busy: hushd had no room for this connection and did nothing with
	 * the request, so even one sent only once may go again.
	 */
	call->busy = r == HUSH_E_BUSY;
	return r == HUSH_E_UNAVAIL || r == HUSH_E_BUSY ? RETRY : FAILED;
}

static enum outcome
attempt(struct call *call, struct ctl_reply *rep, int timeout_ms)
{
	struct chan c;
	enum outcome o;
	int fd, r;

	call->busy = false;
	if ((fd = dial(call)) < 0) {
		/*
		 * Refused before anything was sent: hushd is not there.  Once
		 * a request may have reached it, it is restarting, so wait;
		 * but not at a socket we may not use, nor at an impostor's,
		 * which would be sent the very bytes we are retrying.
		 */
		if (call->retrying && call->err->code != HUSH_E_PERM &&
		    !call->err->impostor)
			return RETRY;
		return FAILED;
	}
	/* A channel takes fds both ways or not at all: see the reply below. */
	chan_init(&c, fd, "control", WIRE_MAX_MSG, call->fd >= 0);
	/* From here on a failure may come after hushd acted on the request. */
	call->err->unknown = true;
	if ((r = chan_send_wait(&c, call->buf, call->len, call->fd)) != 0) {
		/*
		 * hushd refuses a request it will not read (too large, or no
		 * room) with an error and stops reading, so the rest of ours
		 * cannot go: its answer is waiting here.
		 */
		if (r == HUSH_E_IO && chan_recv_wait(&c, &rep->raw, 0) == 1) {
			chan_close(&c);
			if (rep->raw.fd < 0 && (o = judge(call, rep)) != DONE) {
				chan_msg_free(&rep->raw);
				return o;
			}
			chan_msg_free(&rep->raw);
			set_err(call, HUSH_E_PROTO, "%s: bad reply from hushd: an "
			    "answer to a request it did not read whole", call->what);
			return FAILED;
		}
		chan_close(&c);
		if (r == HUSH_E_TOOBIG) {
			set_err(call, r, "%s: request too large", call->what);
			return FAILED;
		}
		set_err(call, r, "%s: connection to hushd lost while sending: %s",
		    call->what, hush_strerror(r));
		return RETRY;
	}
	r = chan_recv_wait(&c, &rep->raw, timeout_ms);
	chan_close(&c);
	if (r == 1 && rep->raw.fd >= 0) {
		/* As the channel would have said, had it not allowed ours. */
		chan_msg_free(&rep->raw);
		r = HUSH_E_PROTO;
	}
	switch (r) {
	case 1:
		break;
	case HUSH_E_IO:
	case HUSH_E_TRUNCATED:
		set_err(call, r, "%s: hushd closed the connection before "
		    "replying", call->what);
		return RETRY;
	case HUSH_E_TIMEOUT:
		set_err(call, r, "%s: hushd did not reply within %d s",
		    call->what, (timeout_ms + 999) / 1000);
		return RETRY;
	default:
		set_err(call, r, "%s: bad reply from hushd: %s", call->what,
		    hush_strerror(r));
		return FAILED;
	}
	if ((o = judge(call, rep)) != DONE)
		chan_msg_free(&rep->raw);
	return o;
}

/* The code a failed call returns: the last failure's, never 0. */
static int
failed(struct call *call, struct ctl_reply *rep)
{
	ctl_reply_free(rep);
	/* An impostor was reached, though never hushd: not "is it running?" */
	call->err->unreachable = !call->reached && !call->err->impostor;
	if (call->err->code >= 0)
		call->err->code = call->retrying ? HUSH_E_UNAVAIL :
		    HUSH_E_INTERNAL;
	return call->err->code;
}

int
ctl_call(const char *socket, const char *what, struct wire_enc *e,
    struct ctl_reply *rep, const struct ctl_opts *opts, struct ctl_error *err)
{
	static const struct ctl_opts defaults = { .send_fd = false };
	struct call call;
	struct wire_hdr hdr;
	int64_t end = 0, deadline = 0, left;
	int r, timeout;

	if (opts == NULL)
		opts = &defaults;
	timeout = opts->reply_ms > 0 ? opts->reply_ms : CTL_REPLY_MS;
	if (opts->budget_ms > 0) {
		end = now_ms() + opts->budget_ms;
		if (timeout > opts->budget_ms)
			timeout = opts->budget_ms;
	}

	memset(rep, 0, sizeof(*rep));
	rep->raw.fd = -1;
	memset(err, 0, sizeof(*err));
	memset(&call, 0, sizeof(call));
	call.socket = socket;
	call.what = what;
	call.err = err;
	if ((r = wire_enc_finish(e, &call.buf, &call.len)) != 0 ||
	    (r = wire_peek_hdr(call.buf, call.len, &hdr)) != 0) {
		set_err(&call, r, "%s: cannot encode request: %s", what,
		    r == HUSH_E_TOOBIG ? "request too large" : hush_strerror(r));
		return r;
	}
	call.type = hdr.type;
	call.fd = -1;
	if (opts->send_fd) {
		/* Refused before connecting: the caller's mistake. */
		if (opts->fd < 0 || fcntl(opts->fd, F_GETFD) < 0) {
			set_err(&call, HUSH_E_INVAL, "%s: no file descriptor "
			    "to pass with the request", what);
			return HUSH_E_INVAL;
		}
		call.fd = opts->fd;
	}
	if ((rep->msg = malloc(sizeof(*rep->msg))) == NULL) {
		set_err(&call, HUSH_E_NOMEM, "%s", hush_strerror(HUSH_E_NOMEM));
		return HUSH_E_NOMEM;
	}

	for (;;) {
		switch (attempt(&call, rep, timeout)) {
		case DONE:
			return 0;
		case FAILED:
			return failed(&call, rep);
		case RETRY:
			break;
		}
		if (call.busy)
			err->busy_retries++;
		/* Not deduplicated: say what happened and stop there. */
		if (opts->once && !call.busy)
			return failed(&call, rep);
		if (!call.retrying) {
			call.retrying = true;
			deadline = now_ms() + CTL_RETRY_MS;
			if (end != 0 && end < deadline)
				deadline = end;
		}
		left = deadline - now_ms();
		if (left <= CTL_PAUSE_MS) {
			err->gave_up = true;
			return failed(&call, rep);
		}
		pause_ms(CTL_PAUSE_MS);
		left -= CTL_PAUSE_MS;
		/*
		 * A reply may take a moment to come, even near the deadline;
		 * but never past the caller's budget.
		 */
		if (left < 2000 && end == 0)
			left = 2000;
		timeout = (int)left;
	}
}

void
ctl_reply_free(struct ctl_reply *rep)
{
	chan_msg_free(&rep->raw);
	free(rep->msg);
	rep->msg = NULL;
}
