#include <errno.h>
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

#include "client.h"
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
	uint16_t	 type;
	bool		 retrying;
	bool		 unknown;	/* the last failure left the outcome open */
	int		 code;		/* of the last failure */
	char		 err[1400];	/* the last failure, as printed */
};

static void set_err(struct call *, int, const char *, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(struct call *call, int code, const char *fmt, ...)
{
	va_list ap;

	call->code = code;
	va_start(ap, fmt);
	vsnprintf(call->err, sizeof(call->err), fmt, ap);
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
client_request(struct wire_enc *e, uint16_t type)
{
	wire_enc_init(e, type, CLIENT_REQUEST_ID, WIRE_MAX_MSG);
}

void
client_put_req_id(struct wire_enc *e)
{
	uint8_t id[HUSH_REQ_ID_LEN];

	randombytes_buf(id, sizeof(id));
	wire_put_bytes(e, T_REQ_ID, id, sizeof(id));
}

/* Returns the connected socket, or -1 with call->err set and errno kept. */
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
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, call->socket, strlen(call->socket));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0) {
		saved = errno;
		set_err(call, HUSH_E_SYS, "cannot create socket: %s",
		    strerror(saved));
		errno = saved;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		saved = errno;
		close(fd);
		if (saved == EACCES || saved == EPERM)
			set_err(call, HUSH_E_PERM, "permission denied: %s "
			    "(hushctl must run as root)", call->socket);
		else
			set_err(call, HUSH_E_IO, "cannot connect to hushd at %s: "
			    "%s (is hushd running?)", call->socket, strerror(saved));
		errno = saved;
		return -1;
	}
	return fd;
}

/* Sorts a reply into DONE, RETRY or FAILED; rep keeps it only on DONE. */
static enum outcome
judge(struct call *call, struct reply *rep)
{
	const uint16_t allowed[] = { call->type | MSG_REPLY, MSG_ERROR, 0 };
	char why[256], detail[1100];
	int r;

	if ((r = msg_parse(rep->raw.buf, rep->raw.len, WIRE_MAX_MSG, allowed,
	    rep->msg, why, sizeof(why))) != 0) {
		set_err(call, r, "%s: bad reply from hushd: %s", call->what, why);
		return FAILED;
	}
	if (rep->msg->hdr.request_id != CLIENT_REQUEST_ID) {
		set_err(call, HUSH_E_PROTO, "%s: bad reply from hushd: request "
		    "id %u, expected %u", call->what,
		    (unsigned int)rep->msg->hdr.request_id, CLIENT_REQUEST_ID);
		return FAILED;
	}
	if ((r = msg_reply_status(rep->msg, detail, sizeof(detail))) == 0)
		return DONE;
	/* The daemon's own words say more than the generic text for r. */
	set_err(call, r, "%s: %s", call->what,
	    detail[0] != '\0' ? detail : hush_strerror(r));
	/* An answer, even "unavailable": hushd says what became of it. */
	call->unknown = false;
	return r == HUSH_E_UNAVAIL ? RETRY : FAILED;
}

static enum outcome
attempt(struct call *call, struct reply *rep, int timeout_ms)
{
	struct chan c;
	enum outcome o;
	int fd, r;

	if ((fd = dial(call)) < 0) {
		/*
		 * Refused before anything was sent: hushd is not there.  Once
		 * a request may have reached it, it is restarting, so wait.
		 */
		if (call->retrying && call->code != HUSH_E_PERM)
			return RETRY;
		return FAILED;
	}
	chan_init(&c, fd, "control", WIRE_MAX_MSG, false);
	/* From here on a failure may come after hushd acted on the request. */
	call->unknown = true;
	if ((r = chan_send_wait(&c, call->buf, call->len, -1)) != 0) {
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
		    call->what, timeout_ms / 1000);
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

int
client_call(const char *socket, const char *what, struct wire_enc *e,
    struct reply *rep)
{
	return client_call_opts(socket, what, e, rep, NULL);
}

int
client_call_opts(const char *socket, const char *what, struct wire_enc *e,
    struct reply *rep, const struct client_opts *opts)
{
	static const struct client_opts defaults = { 0, false, NULL };
	struct call call;
	struct wire_hdr hdr;
	int64_t deadline = 0, left;
	int r, timeout;

	if (opts == NULL)
		opts = &defaults;
	timeout = opts->reply_ms > 0 ? opts->reply_ms : CLIENT_REPLY_MS;

	memset(rep, 0, sizeof(*rep));
	rep->raw.fd = -1;
	memset(&call, 0, sizeof(call));
	call.socket = socket;
	call.what = what;
	if ((r = wire_enc_finish(e, &call.buf, &call.len)) != 0 ||
	    (r = wire_peek_hdr(call.buf, call.len, &hdr)) != 0) {
		fprintf(stderr, "hushctl: %s: cannot encode request: %s\n", what,
		    r == HUSH_E_TOOBIG ? "request too large" : hush_strerror(r));
		return r;
	}
	call.type = hdr.type;
	if ((rep->msg = malloc(sizeof(*rep->msg))) == NULL) {
		fprintf(stderr, "hushctl: %s\n", hush_strerror(HUSH_E_NOMEM));
		return HUSH_E_NOMEM;
	}

	for (;;) {
		switch (attempt(&call, rep, timeout)) {
		case DONE:
			return 0;
		case FAILED:
			goto fail;
		case RETRY:
			break;
		}
		if (opts->once) {
			/* Not idempotent: say what happened and stop there. */
			if (call.unknown && opts->unsure != NULL)
				fprintf(stderr, "hushctl: %s; %s\n", call.err,
				    opts->unsure);
			else
				fprintf(stderr, "hushctl: %s\n", call.err);
			reply_free(rep);
			return call.code < 0 ? call.code : HUSH_E_UNAVAIL;
		}
		if (!call.retrying) {
			call.retrying = true;
			deadline = now_ms() + CLIENT_RETRY_MS;
		}
		left = deadline - now_ms();
		if (left <= CLIENT_PAUSE_MS) {
			fprintf(stderr, "hushctl: %s (gave up after %d s of "
			    "retries)\n", call.err, CLIENT_RETRY_MS / 1000);
			reply_free(rep);
			return call.code < 0 ? call.code : HUSH_E_UNAVAIL;
		}
		pause_ms(CLIENT_PAUSE_MS);
		/* A reply may take a moment to come, even near the deadline. */
		left -= CLIENT_PAUSE_MS;
		timeout = left < 2000 ? 2000 : (int)left;
	}

fail:
	fprintf(stderr, "hushctl: %s\n", call.err);
	reply_free(rep);
	return call.code < 0 ? call.code : HUSH_E_INTERNAL;
}

void
reply_free(struct reply *rep)
{
	chan_msg_free(&rep->raw);
	free(rep->msg);
	rep->msg = NULL;
}
