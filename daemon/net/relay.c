/*
 * hush-raft/1: a plaintext byte stream between two managers for libraft.
 * net relays between the TLS session and one end of a local socketpair;
 * the other end goes to the parent, which passes it to the raft process.
 * Each direction has a bounded buffer, and a side is read only while the
 * buffer towards the other side has room, so a slow reader slows the
 * writer instead of growing memory.  Either side ending ends both: libraft
 * treats a broken stream as a reason to reconnect, never to resynchronise.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "net_int.h"

void
raft_connect(const struct wire_msg *m)
{
	char addr[ADDR_MAX + 1], alpn[33], peer[HUSH_ID_LEN + 1], why[300];
	struct conn *c;
	int err;

	if (wire_get_str(m, T_ADDRESS, addr, sizeof(addr)) != 0 ||
	    wire_get_str(m, T_ALPN, alpn, sizeof(alpn)) != 0) {
		net_error_parent(m->hdr.request_id, HUSH_E_PROTO, "NET_CONNECT without its fields");
		return;
	}
	peer[0] = '\0';
	if (wire_get_str(m, T_PEER_ID, peer, sizeof(peer)) != 0)
		peer[0] = '\0';
	if (N.ident == NULL) {
		net_error_parent(m->hdr.request_id, HUSH_E_UNAVAIL,
		    "the network is not started on this node yet");
		return;
	}
	/* A stream as an fd only makes sense for raft; dispatch is framed. */
	if (strcmp(alpn, ALPN_RAFT) != 0) {
		snprintf(why, sizeof(why), "NET_CONNECT supports only %s, not '%s'",
		    ALPN_RAFT, alpn);
		net_error_parent(m->hdr.request_id, HUSH_E_INVAL, why);
		return;
	}
	if (N.ident->role != ROLE_MANAGER) {
		net_error_parent(m->hdr.request_id, HUSH_E_PERM,
		    "only managers may open hush-raft/1 connections; this node is a worker");
		return;
	}
	if (peer[0] != '\0' && !hush_id_valid(peer)) {
		net_error_parent(m->hdr.request_id, HUSH_E_INVAL, "expected peer is not a node id");
		return;
	}
	if ((c = conn_connect(PROTO_RAFT, addr, N.ident, &err, why, sizeof(why))) == NULL) {
		net_error_parent(m->hdr.request_id, err, why);
		return;
	}
	c->parent_pending = true;
	c->parent_id = m->hdr.request_id;
	snprintf(c->expect_peer, sizeof(c->expect_peer), "%s", peer);
	conn_start(c);
}

/*
 * Our end is nonblocking; the parent's end stays blocking because the
 * file status flags belong to it alone once passed (the raft process's
 * uv_pipe_open() sets its own).
 */
static int
relay_socketpair(struct conn *c, int *parent_fd)
{
	int sv[2], fl;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return HUSH_E_SYS;
	if ((fl = fcntl(sv[0], F_GETFL)) < 0 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) < 0) {
		close(sv[0]);
		close(sv[1]);
		return HUSH_E_SYS;
	}
	c->local_fd = sv[0];
	*parent_fd = sv[1];
	return 0;
}

void
raft_established(struct conn *c)
{
	struct wire_enc e;
	int pfd;

	c->out.max = NET_RELAY_BUF;
	c->to_local.max = NET_RELAY_BUF;
	if (relay_socketpair(c, &pfd) != 0) {
		log_err("cannot create a socketpair: %s", strerror(errno));
		conn_close(c, HUSH_E_SYS, "cannot create a local stream");
		return;
	}
	if (c->inbound) {
		wire_enc_init(&e, NET_INBOUND, 0, 1024);
		wire_put_str(&e, T_ALPN, ALPN_RAFT);
	} else {
		wire_enc_init(&e, NET_CONNECT | MSG_REPLY, c->parent_id, 1024);
		c->parent_pending = false;
	}
	wire_put_str(&e, T_PEER_ID, c->peer.id);
	wire_put_u8(&e, T_ROLE, c->peer.role);
	wire_put_str(&e, T_CLUSTER_ID, c->peer.cluster);
	if (c->inbound)
		wire_put_str(&e, T_ADDRESS, c->addr);
	net_send_parent(&e, pfd);
	close(pfd);
}

void
raft_closed(struct conn *c, int code, const char *why)
{
	if (c->parent_pending) {
		c->parent_pending = false;
		net_error_parent(c->parent_id, code != 0 ? code : HUSH_E_UNAVAIL, why);
	}
	if (c->state == CS_OPEN)
		log_debug("raft stream %s %s (node %s) closed", c->inbound ? "from" : "to",
		    c->addr, c->peer.id);
}

/* One side is done: stop reading, flush what is buffered, then close. */
static void
start_drain(struct conn *c)
{
	if (c->draining)
		return;
	c->draining = true;
	c->deadline = net_now() + NET_DRAIN_MS;
}

void
relay_pump(struct conn *c)
{
	uint8_t *tail;
	size_t room;
	ssize_t n;
	bool progress;
	int round;

	for (round = 0; round < 64 && c->state == CS_OPEN; round++) {
		progress = false;

		/* TLS -> local */
		while (!c->tls_eof && !c->draining &&
		    (room = bbuf_prepare(&c->to_local, NET_READ_CHUNK, &tail)) > 0) {
			n = conn_tls_read(c, tail, room);
			if (n > 0) {
				bbuf_commit(&c->to_local, (size_t)n);
				progress = true;
			} else {
				if (n == CONN_EOF || n == CONN_ERR) {
					c->tls_eof = true;
					start_drain(c);
				}
				break;
			}
		}
		while (c->to_local.len > 0) {
			n = send(c->local_fd, bbuf_data(&c->to_local), c->to_local.len,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				bbuf_consume(&c->to_local, (size_t)n);
				progress = true;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			/* The local reader is gone: nothing left to deliver to. */
			conn_close(c, HUSH_E_IO, "local stream closed");
			return;
		}

		/* local -> TLS */
		while (!c->local_eof && !c->draining &&
		    (room = bbuf_prepare(&c->out, NET_READ_CHUNK, &tail)) > 0) {
			n = recv(c->local_fd, tail, room, MSG_DONTWAIT);
			if (n > 0) {
				bbuf_commit(&c->out, (size_t)n);
				progress = true;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			c->local_eof = true;
			start_drain(c);
			break;
		}
		while (c->out.len > 0 && !c->tls_eof) {
			n = conn_tls_write(c, bbuf_data(&c->out), c->out.len);
			if (n > 0) {
				bbuf_consume(&c->out, (size_t)n);
				progress = true;
				continue;
			}
			if (n == CONN_BLOCKED)
				break;
			conn_close(c, HUSH_E_IO, "peer closed the stream");
			return;
		}

		/* Both directions end together once the survivor is flushed. */
		if (c->draining && c->to_local.len == 0 &&
		    (c->out.len == 0 || c->tls_eof)) {
			conn_close(c, 0, NULL);
			return;
		}
		if (!progress)
			return;
	}
}

void
relay_events(const struct conn *c, short *tcp, short *local)
{
	*tcp = *local = 0;
	if (!c->tls_eof && !c->draining && c->to_local.len < c->to_local.max)
		*tcp |= c->rd_wait;
	if (c->out.len > 0 && !c->tls_eof)
		*tcp |= c->wr_wait;
	if (!c->local_eof && !c->draining && c->out.len < c->out.max)
		*local |= POLLIN;
	if (c->to_local.len > 0)
		*local |= POLLOUT;
}
