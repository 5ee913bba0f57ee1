/*
 * Connections: allocation, TLS reads and writes, the framed pump shared by
 * hush-dispatch/1 and hush-join/1, what each connection waits for, timers
 * and teardown.  See net_int.h for the lifetime rules; sock.c and
 * handshake.c hold the way in.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "err.h"
#include "log.h"
#include "net_int.h"

static struct conn *
conn_new(void)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->id = ++N.next_conn_id;
	c->fd = -1;
	c->local_fd = -1;
	c->hs_wait = c->rd_wait = POLLIN;
	c->wr_wait = POLLOUT;
	c->started = c->last_active = net_now();
	bbuf_init(&c->in, NET_READ_CHUNK);
	bbuf_init(&c->out, NET_DSP_OUT_MAX);
	bbuf_init(&c->to_local, NET_RELAY_BUF);
	c->next = N.conns;
	N.conns = c;
	return c;
}

struct conn *
conn_alloc(void)
{
	struct conn *c;

	if (N.nconns >= NET_MAX_CONNS || (c = conn_new()) == NULL)
		return NULL;
	N.nconns++;
	return c;
}

/* admit.c has already counted it; NPFD in net_main.c has room for NET_HS_MAX. */
struct conn *
conn_alloc_inbound(void)
{
	struct conn *c;

	if (N.nhandshakes >= NET_HS_MAX || (c = conn_new()) == NULL)
		return NULL;
	c->counted_hs = true;
	N.nhandshakes++;
	return c;
}

bool
conn_authenticated(struct conn *c)
{
	uint64_t now = net_now();

	if (!c->counted_hs)
		return true;
	/* It has proven itself whether or not there is room for it. */
	admit_learn(&N.adm, &c->src, now);
	if (N.nconns >= NET_MAX_CONNS) {
		unauth_log(LOG_LVL_WARN, "closing the connection from %s: %d "
		    "connections are open already", c->addr, NET_MAX_CONNS);
		conn_close(c, HUSH_E_UNAVAIL, "too many connections");
		return false;
	}
	admit_release(&N.adm, &c->src, c->hs_pool, FAULT_NONE, now);
	c->counted_hs = false;
	N.nhandshakes--;
	N.nconns++;
	return true;
}

struct conn *
conn_find(uint64_t id)
{
	struct conn *c;

	for (c = N.conns; c != NULL; c = c->next)
		if (c->id == id && c->state != CS_DEAD)
			return c;
	return NULL;
}

static const char *
conn_dir(const struct conn *c)
{
	return c->inbound ? "from" : "to";
}

void
conn_close(struct conn *c, int code, const char *why)
{
	if (c->state == CS_DEAD)
		return;
	switch (c->proto) {
	case PROTO_RAFT:
		raft_closed(c, code, why);
		break;
	case PROTO_DISPATCH:
		dsp_closed(c, code, why);
		break;
	case PROTO_JOIN:
		join_closed(c, code, why);
		break;
	case PROTO_NONE:
		break;
	}
	if (c->counted_hs) {
		admit_release(&N.adm, &c->src, c->hs_pool, c->fault, net_now());
		N.nhandshakes--;
		c->counted_hs = false;
	} else {
		N.nconns--;
	}
	if (c->ssl != NULL) {
		/* A courtesy close_notify; a peer that needs it has it queued. */
		if (c->state == CS_OPEN && !c->ssl_failed) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
		}
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
	}
	if (c->fd >= 0 && c->abort_close) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->local_fd >= 0)
		close(c->local_fd);
	c->fd = c->local_fd = -1;
	bbuf_free(&c->out);
	bbuf_free(&c->in);
	bbuf_free(&c->to_local);
	netframe_rd_free(&c->rd);
	if (c->res != NULL) {
		sock_resolve_cancel(c->res);
		c->res = NULL;
	}
	if (c->ai_list != NULL)
		freeaddrinfo(c->ai_list);
	c->ai_list = c->ai_next = NULL;
	tls_ident_unref(c->ident);
	c->ident = NULL;
	c->state = CS_DEAD;
}

void
conn_reap(void)
{
	struct conn **cp, *c;

	for (cp = &N.conns; (c = *cp) != NULL;) {
		if (c->state == CS_DEAD) {
			*cp = c->next;
			free(c);
		} else {
			cp = &c->next;
		}
	}
}

void
conn_close_all(void)
{
	struct conn *c;

	for (c = N.conns; c != NULL; c = c->next)
		conn_close(c, HUSH_E_UNAVAIL, "the net process is shutting down");
	conn_reap();
	sock_orphans_wait();
}

static void
start_linger(struct conn *c)
{
	if (!c->ssl_failed) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	/*
	 * Our FIN, then read until the peer's: closing with unread input
	 * would send a reset that can destroy the reply we just sent.
	 */
	(void)shutdown(c->fd, SHUT_WR);
	c->state = CS_LINGER;
	c->deadline = net_now() + NET_LINGER_MS;
}

static void
linger_read(struct conn *c)
{
	uint8_t junk[4096];
	ssize_t n;
	int i;

	for (i = 0; i < 16; i++) {
		n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		break;
	}
	if (i == 16)
		return;		/* more later, or the deadline */
	conn_close(c, 0, NULL);
}

void
conn_finish(struct conn *c)
{
	if (c->state != CS_OPEN)
		return;
	c->close_after_flush = true;
}

static ssize_t
tls_result(struct conn *c, int ok, size_t n, short *wait, const char *what)
{
	char err[200];
	int e;

	if (ok == 1) {
		*wait = what[0] == 'r' ? POLLIN : POLLOUT;
		return (ssize_t)n;
	}
	e = SSL_get_error(c->ssl, ok);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		*wait = POLLIN;
		return CONN_BLOCKED;
	case SSL_ERROR_WANT_WRITE:
		*wait = POLLOUT;
		return CONN_BLOCKED;
	case SSL_ERROR_ZERO_RETURN:
		return CONN_EOF;
	default:
		break;
	}
	c->ssl_failed = true;
	/* A peer that vanished without close_notify: an end, not an attack. */
	if (e == SSL_ERROR_SYSCALL ||
	    ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ERR_clear_error();
		return CONN_EOF;
	}
	tls_error_string(NULL, err, sizeof(err));
	log_info("TLS %s on connection %s %s failed: %s", what, conn_dir(c), c->addr, err);
	return CONN_ERR;
}

ssize_t
conn_tls_read(struct conn *c, void *buf, size_t len)
{
	size_t n = 0;
	int ok;

	ERR_clear_error();
	ok = SSL_read_ex(c->ssl, buf, len, &n);
	return tls_result(c, ok, n, &c->rd_wait, "read");
}

ssize_t
conn_tls_write(struct conn *c, const void *buf, size_t len)
{
	size_t n = 0;
	int ok;

	ERR_clear_error();
	ok = SSL_write_ex(c->ssl, buf, len, &n);
	return tls_result(c, ok, n, &c->wr_wait, "write");
}

int
conn_queue(struct conn *c, const uint8_t *p, size_t len)
{
	char why[300];
	int r;

	if (c->state != CS_OPEN)
		return HUSH_E_IO;
	if ((r = bbuf_append(&c->out, p, len)) != 0) {
		snprintf(why, sizeof(why), "output to %s is over its limit", c->addr);
		log_warn("closing connection %s %s: %s", conn_dir(c), c->addr, why);
		conn_close(c, r, why);
	}
	return r;
}

int
conn_queue_enc(struct conn *c, struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish(e, &buf, &len)) == 0)
		r = conn_queue(c, buf, len);
	wire_enc_free(e);
	return r;
}

static bool
can_take(const struct conn *c)
{
	if (c->close_after_flush)
		return false;
	return c->proto == PROTO_DISPATCH ? dsp_can_take(c) : join_can_take(c);
}

static void
peer_eof(struct conn *c)
{
	char msg[1024];
	bool partial;

	if (c->inbound) {
		partial = netframe_rd_partial(&c->rd) || c->in.len > 0;
		/* A joiner that leaves without asking. */
		if (c->counted_hs && !c->join_got_request)
			c->fault = FAULT_EOF;
		if (partial && c->counted_hs)
			unauth_log(LOG_LVL_INFO, "%s connection from %s ended in the "
			    "middle of a frame", tls_proto_alpn(c->proto), c->addr);
		else if (partial)
			log_info("%s connection from %s ended in the middle of a frame",
			    tls_proto_alpn(c->proto), c->addr);
		conn_close(c, HUSH_E_IO, "closed by the peer");
		return;
	}
	snprintf(msg, sizeof(msg), "cannot reach manager at %s: the connection was "
	    "closed by the peer", c->addr);
	conn_close(c, HUSH_E_UNAVAIL, msg);
}

static void
framed_pump(struct conn *c)
{
	uint8_t *tail, *frame;
	size_t room, used, flen;
	char msg[1024];
	ssize_t n;
	bool progress;
	int round, r;

	for (round = 0; round < 64 && c->state == CS_OPEN; round++) {
		progress = false;
		while (c->out.len > 0) {
			n = conn_tls_write(c, bbuf_data(&c->out), c->out.len);
			if (n > 0) {
				bbuf_consume(&c->out, (size_t)n);
				progress = true;
			} else if (n == CONN_BLOCKED) {
				break;
			} else {
				peer_eof(c);
				return;
			}
		}
		if (c->out.len == 0 && c->close_after_flush) {
			start_linger(c);
			return;
		}
		while (c->in.len > 0 && can_take(c)) {
			r = netframe_rd_feed(&c->rd, bbuf_data(&c->in), c->in.len, &used,
			    &frame, &flen);
			bbuf_consume(&c->in, used);
			if (r != 0) {
				snprintf(msg, sizeof(msg), "the node at %s sent a bad frame: %s",
				    c->addr, r == HUSH_E_TOOBIG ? "over the size limit" :
				    hush_strerror(r));
				if (c->counted_hs) {
					c->fault = FAULT_BAD;
					unauth_log(LOG_LVL_WARN, "closing %s connection "
					    "%s %s: %s", tls_proto_alpn(c->proto), conn_dir(c),
					    c->addr, msg);
				} else {
					log_warn("closing %s connection %s %s: %s",
					    tls_proto_alpn(c->proto), conn_dir(c), c->addr, msg);
				}
				conn_close(c, HUSH_E_PROTO, msg);
				return;
			}
			if (frame == NULL)
				continue;
			progress = true;
			if (c->proto == PROTO_DISPATCH)
				dsp_frame(c, frame, flen);
			else
				join_frame(c, frame, flen);
			if (c->state != CS_OPEN)
				return;
		}
		if (c->in.len == 0 && can_take(c)) {
			room = bbuf_prepare(&c->in, NET_READ_CHUNK, &tail);
			n = room > 0 ? conn_tls_read(c, tail, room) : CONN_BLOCKED;
			if (n > 0) {
				bbuf_commit(&c->in, (size_t)n);
				progress = true;
			} else if (n != CONN_BLOCKED) {
				peer_eof(c);
				return;
			}
		}
		if (!progress)
			return;
	}
}

void
conn_kick(struct conn *c)
{
	conn_io(c, 0, 0);
}

void
conn_io(struct conn *c, short tcp_rev, short local_rev)
{
	if (c->state == CS_DEAD)
		return;
	if ((tcp_rev & (POLLHUP | POLLERR | POLLNVAL)) && c->state >= CS_OPEN)
		c->tcp_hup = true;
	if (local_rev & (POLLHUP | POLLERR | POLLNVAL))
		c->local_hup = true;
	if (tcp_rev != 0 || local_rev != 0)
		c->last_active = net_now();
	switch (c->state) {
	case CS_RESOLVING:
		break;
	case CS_CONNECTING:
		if (tcp_rev != 0)
			conn_check_connect(c);
		break;
	case CS_HANDSHAKE:
		conn_handshake(c);
		break;
	case CS_OPEN:
		if (c->proto == PROTO_RAFT)
			relay_pump(c);
		else
			framed_pump(c);
		break;
	case CS_LINGER:
		linger_read(c);
		break;
	case CS_DEAD:
		break;
	}
}

void
conn_events(const struct conn *c, short *tcp, short *local)
{
	*tcp = *local = 0;
	switch (c->state) {
	case CS_RESOLVING:
	case CS_DEAD:
		break;
	case CS_CONNECTING:
		*tcp = POLLOUT;
		break;
	case CS_HANDSHAKE:
		*tcp = c->hs_wait;
		break;
	case CS_OPEN:
		if (c->proto == PROTO_RAFT) {
			relay_events(c, tcp, local);
			break;
		}
		if (c->out.len > 0)
			*tcp |= c->wr_wait;
		if (c->in.len == 0 && can_take(c))
			*tcp |= c->rd_wait;
		break;
	case CS_LINGER:
		*tcp = POLLIN;
		break;
	}
	/* poll() reports HUP whatever we ask: only the pump can act on it. */
	if (c->tcp_hup && c->state == CS_OPEN)
		*tcp = 0;
	if (c->local_hup)
		*local = 0;
}

static void
deadline_passed(struct conn *c)
{
	char msg[1024];

	switch (c->state) {
	case CS_RESOLVING:
	case CS_CONNECTING:
	case CS_HANDSHAKE:
		if (c->inbound) {
			c->fault = c->got_bytes ? FAULT_SLOW : FAULT_IDLE;
			c->abort_close = true;
			if (c->got_bytes)
				unauth_log(LOG_LVL_INFO, "TLS handshake from %s did not "
				    "finish within %d s", c->addr, NET_HS_INBOUND_MS / 1000);
			else
				unauth_log(LOG_LVL_INFO, "connection from %s sent nothing "
				    "within %d s", c->addr, NET_FIRST_BYTE_MS / 1000);
			conn_close(c, HUSH_E_TIMEOUT, "handshake timed out");
			return;
		}
		snprintf(msg, sizeof(msg), "cannot reach manager at %s: no TLS session "
		    "after %d s", c->addr, NET_HANDSHAKE_MS / 1000);
		log_info("%s", msg);
		conn_close(c, HUSH_E_TIMEOUT, msg);
		return;
	case CS_OPEN:
		if (c->proto == PROTO_JOIN) {
			if (c->inbound && !c->join_got_request) {
				c->fault = FAULT_IDLE;
				c->abort_close = true;
				unauth_log(LOG_LVL_INFO, "join connection from %s sent no "
				    "request within %d s", c->addr, NET_JOIN_REQUEST_MS / 1000);
				conn_close(c, HUSH_E_TIMEOUT, "join timed out");
			} else if (c->inbound) {
				log_info("join from %s did not finish within %d s",
				    c->addr, NET_JOIN_MS / 1000);
				conn_close(c, HUSH_E_TIMEOUT, "join timed out");
			} else {
				snprintf(msg, sizeof(msg), "the manager at %s did not complete "
				    "the join within %d s", c->addr, NET_JOIN_MS / 1000);
				conn_close(c, HUSH_E_TIMEOUT, msg);
			}
			return;
		}
		conn_close(c, HUSH_E_TIMEOUT, "timed out");
		return;
	case CS_LINGER:
		conn_close(c, 0, NULL);
		return;
	case CS_DEAD:
		return;
	}
}

uint64_t
conn_timers(uint64_t now)
{
	struct conn *c;
	uint64_t next = 0, d;

	for (c = N.conns; c != NULL; c = c->next) {
		if (c->state == CS_DEAD)
			continue;
		if (c->deadline != 0 && now >= c->deadline)
			deadline_passed(c);
		if (c->state == CS_OPEN && c->proto == PROTO_DISPATCH &&
		    (d = dsp_timers(c, now)) != 0 && (next == 0 || d < next))
			next = d;
		if (c->state != CS_DEAD && c->deadline != 0 &&
		    (next == 0 || c->deadline < next))
			next = c->deadline;
	}
	return next;
}

bool
conn_wants_kick(const struct conn *c)
{
	/* Plaintext OpenSSL already decrypted never makes the socket readable. */
	if (c->state != CS_OPEN || c->ssl == NULL || SSL_pending(c->ssl) <= 0)
		return false;
	if (c->proto == PROTO_RAFT)
		return !c->tls_eof && !c->draining && c->to_local.len < c->to_local.max;
	return c->in.len == 0 && can_take(c);
}
