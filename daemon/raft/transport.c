/*
 * struct raft_uv_transport without sockets.  Outbound: libraft's connect()
 * becomes a RAFTP_CONNECT request to the parent, answered with a stream fd
 * (net's side of an mTLS connection) or an error.  Inbound: the parent hands
 * over a stream together with the peer's node id as read from its verified
 * certificate, and that id — never anything the peer says — is what
 * libraft's accept callback is given.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "err.h"
#include "id.h"
#include "log.h"
#include "raft_proc.h"

struct pending_connect {
	struct pending_connect	*next;
	uint32_t		 id;
	struct raft_uv_connect	*req;
	raft_uv_connect_cb	 cb;
};

struct transport_impl {
	uv_loop_t		*loop;
	struct chan		*parent;
	raft_uv_accept_cb	 accept_cb;
	struct pending_connect	*pending;
	uint32_t		 next_id;
	bool			 closing;
};

static int
t_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
	return 0;
}

static int
t_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
	struct transport_impl *ti = t->impl;

	ti->accept_cb = cb;
	return 0;
}

static int
t_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
    const char *address, raft_uv_connect_cb cb)
{
	struct transport_impl *ti = t->impl;
	struct pending_connect *p;
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;
	int r;

	if (ti->closing)
		return RAFT_CANCELED;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return RAFT_NOMEM;
	/* Ids with the top bit set are the transport's: see transport_owns(). */
	p->id = 0x80000000u | (++ti->next_id & 0x7fffffffu);
	p->req = req;
	p->cb = cb;
	wire_enc_init(&e, RAFTP_CONNECT, p->id, 1024);
	wire_put_str(&e, T_ADDRESS, address);
	r = wire_enc_finish(&e, &buf, &len);
	if (r == 0)
		r = chan_send(ti->parent, buf, len, -1);
	wire_enc_free(&e);
	if (r != 0) {
		free(p);
		return RAFT_NOCONNECTION;
	}
	p->next = ti->pending;
	ti->pending = p;
	return 0;
}

static void
t_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
	struct transport_impl *ti = t->impl;
	struct pending_connect *p, *next;

	ti->closing = true;
	ti->accept_cb = NULL;
	for (p = ti->pending; p != NULL; p = next) {
		next = p->next;
		p->cb(p->req, NULL, RAFT_CANCELED);
		free(p);
	}
	ti->pending = NULL;
	if (cb != NULL)
		cb(t);
}

int
transport_init(struct raft_uv_transport *t, struct chan *parent)
{
	struct transport_impl *ti;

	if ((ti = calloc(1, sizeof(*ti))) == NULL)
		return HUSH_E_NOMEM;
	ti->parent = parent;
	memset(t, 0, sizeof(*t));
	t->version = 1;
	t->impl = ti;
	t->init = t_init;
	t->listen = t_listen;
	t->connect = t_connect;
	t->close = t_close;
	return 0;
}

static uv_stream_t *
stream_from_fd(int fd)
{
	uv_pipe_t *pipe;

	if ((pipe = raft_malloc(sizeof(*pipe))) == NULL)
		return NULL;
	if (uv_pipe_init(uv_default_loop(), pipe, 0) != 0) {
		raft_free(pipe);
		return NULL;
	}
	if (uv_pipe_open(pipe, fd) != 0) {
		uv_close((uv_handle_t *)pipe, (uv_close_cb)raft_free);
		return NULL;
	}
	return (uv_stream_t *)pipe;
}

void
transport_inbound(struct raft_uv_transport *t, int fd, const char *peer_id,
    const char *address)
{
	struct transport_impl *ti = t->impl;
	uv_stream_t *s;

	if (ti->accept_cb == NULL || !hush_id_valid(peer_id)) {
		close(fd);
		return;
	}
	if ((s = stream_from_fd(fd)) == NULL) {
		close(fd);
		return;
	}
	ti->accept_cb(t, hush_id_raft(peer_id), address, s);
}

bool
transport_owns(struct raft_uv_transport *t, uint32_t id)
{
	return (id & 0x80000000u) != 0;
}

int
transport_connect_reply(struct raft_uv_transport *t, uint32_t id, int status, int fd)
{
	struct transport_impl *ti = t->impl;
	struct pending_connect **pp, *p;
	uv_stream_t *s = NULL;
	int dupfd;

	for (pp = &ti->pending; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->id == id)
			break;
	if ((p = *pp) == NULL)
		return HUSH_E_PROTO;
	*pp = p->next;
	if (status == 0 && fd >= 0 && (dupfd = dup(fd)) >= 0) {
		if ((s = stream_from_fd(dupfd)) == NULL)
			close(dupfd);
	}
	p->cb(p->req, s, s != NULL ? 0 : RAFT_NOCONNECTION);
	free(p);
	return 0;
}
