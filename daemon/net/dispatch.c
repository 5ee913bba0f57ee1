/*
 * hush-dispatch/1: framed requests and replies between nodes.
 *
 * Server side (managers): a frame from a verified peer is checked against
 * the DSP_* request schemas and handed to the parent as NET_PEER_REQUEST
 * together with the identity from the peer's certificate; the parent's
 * reply is checked against that request's reply type and sent back with
 * the peer's request id.  A malformed frame ends the connection: a peer
 * that breaks the framing once cannot be resynchronised safely.
 *
 * Client side: NET_RPC sends a request to a manager over one reused
 * connection per address.  Each request gets our own id on the wire, so
 * several can be in flight and the parent's ids never reach the network;
 * the reply goes back to the parent with the parent's id restored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lockmem.h"
#include "log.h"
#include "net_int.h"

/* One of our requests on an outbound connection. */
struct rpc {
	struct rpc	*next;
	uint32_t	 wire_id;	/* ours, on the connection */
	uint32_t	 parent_id;	/* the NET_RPC to answer */
	uint32_t	 orig_id;	/* the request id inside the parent's frame */
	uint16_t	 req_type;
	uint64_t	 deadline;
	bool		 abandoned;	/* timed out: the parent has its answer */
	uint8_t		*frame;		/* until the connection is open */
	size_t		 framelen;
};

/* Big: keep it off the stack; the process is single-threaded. */
static struct wire_msg fm;

static void
rpc_free(struct rpc *k)
{
	netframe_free(k->frame);
	free(k);
}

static void
rpc_unlink(struct conn *c, struct rpc *k)
{
	struct rpc **kp;

	for (kp = &c->rpcs; *kp != NULL; kp = &(*kp)->next) {
		if (*kp == k) {
			*kp = k->next;
			c->nrpcs--;
			return;
		}
	}
}

/*
 * Queue k's frame.  The frame is detached first: a queue over its limit
 * closes the connection, and the close hook frees every request, k too.
 */
static int
send_rpc_frame(struct conn *c, struct rpc *k)
{
	uint8_t *frame = k->frame;
	size_t len = k->framelen;
	int r;

	k->frame = NULL;
	r = conn_queue(c, frame, len);
	netframe_free(frame);
	return r;
}

/* Only a connection made with our current certificate is reused: after a
 * promotion the manager must see the new role, not the one we dialled with. */
static struct conn *
find_client_conn(const char *norm)
{
	struct conn *c;

	for (c = N.conns; c != NULL; c = c->next)
		if (!c->inbound && c->proto == PROTO_DISPATCH && c->state <= CS_OPEN &&
		    !c->close_after_flush && c->ident == N.ident && strcmp(c->addr, norm) == 0)
			return c;
	return NULL;
}

void
dsp_rpc(const struct wire_msg *m)
{
	const uint8_t *payload;
	char addr[ADDR_MAX + 1], norm[ADDR_MAX + 1], why[600];
	struct conn *c;
	struct rpc *k, **kp;
	bool fresh = false;
	size_t len;
	int r;

	if (wire_get_str(m, T_ADDRESS, addr, sizeof(addr)) != 0 ||
	    wire_get_bytes(m, T_PAYLOAD, &payload, &len) != 0) {
		net_error_parent(m->hdr.request_id, HUSH_E_PROTO, "NET_RPC without its fields");
		return;
	}
	if (N.ident == NULL) {
		net_error_parent(m->hdr.request_id, HUSH_E_UNAVAIL,
		    "the network is not started on this node yet");
		return;
	}
	/* What we put on the wire obeys the same schema the server enforces. */
	if ((r = netframe_parse(payload, len, NETFRAME_DSP_MAX, netframe_dsp_requests,
	    &fm, why, sizeof(why))) != 0) {
		net_error_parent(m->hdr.request_id, HUSH_E_INVAL, why);
		return;
	}
	if (addr_normalize(addr, NET_DEFAULT_PORT, norm, sizeof(norm), why, sizeof(why)) != 0) {
		net_error_parent(m->hdr.request_id, HUSH_E_INVAL, why);
		return;
	}
	if ((c = find_client_conn(norm)) != NULL && c->nrpcs >= NET_RPC_MAX) {
		snprintf(why, sizeof(why), "cannot reach manager at %s: too many requests "
		    "in flight", norm);
		net_error_parent(m->hdr.request_id, HUSH_E_UNAVAIL, why);
		return;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL || (k->frame = lockmem_alloc(len)) == NULL) {
		free(k);
		net_error_parent(m->hdr.request_id, HUSH_E_NOMEM, "out of memory");
		return;
	}
	memcpy(k->frame, payload, len);
	k->framelen = len;
	k->parent_id = m->hdr.request_id;
	k->orig_id = fm.hdr.request_id;
	k->req_type = fm.hdr.type;
	k->deadline = net_now() + NET_RPC_MS;
	if (c == NULL) {
		fresh = true;
		if ((c = conn_connect(PROTO_DISPATCH, norm, N.ident, &r, why,
		    sizeof(why))) == NULL) {
			rpc_free(k);
			net_error_parent(m->hdr.request_id, r, why);
			return;
		}
	}
	/* Zero is reserved for messages about the connection itself. */
	if (++c->next_rpc_id == 0)
		c->next_rpc_id = 1;
	k->wire_id = c->next_rpc_id;
	netframe_set_id(k->frame, k->wire_id);
	/* In order: requests queued before the handshake go out as they came. */
	for (kp = &c->rpcs; *kp != NULL; kp = &(*kp)->next)
		;
	*kp = k;
	c->nrpcs++;
	if (fresh)
		conn_start(c);
	else if (c->state == CS_OPEN && send_rpc_frame(c, k) == 0)
		conn_kick(c);
}

void
dsp_established(struct conn *c)
{
	struct rpc *k;

	c->out.max = NET_DSP_OUT_MAX;
	netframe_rd_init(&c->rd, NETFRAME_DSP_MAX);
	if (c->inbound)
		return;
	for (k = c->rpcs; k != NULL; k = k->next)
		if (k->frame != NULL && send_rpc_frame(c, k) != 0)
			return;		/* closed: every request has its answer */
}

bool
dsp_can_take(const struct conn *c)
{
	if (!c->inbound)
		return true;
	return c->inflight < NET_DSP_INFLIGHT && c->out.len < NET_DSP_OUT_HIGH;
}

void
dsp_refuse(struct conn *c, int code, const char *why)
{
	struct wire_enc e;

	c->proto = PROTO_DISPATCH;
	c->out.max = NET_DSP_OUT_MAX;
	/* Request id 0: about the connection, not about any request. */
	if (msg_error_reply(&e, 0, code, why) != 0 || conn_queue_enc(c, &e) != 0) {
		wire_enc_free(&e);
		conn_close(c, code, why);
		return;
	}
	conn_finish(c);
}

static void
server_frame(struct conn *c, uint8_t *frame, size_t len)
{
	struct wire_enc e;
	char why[300];

	if (len > netframe_payload_max())
		snprintf(why, sizeof(why), "frame of %zu bytes is too large to relay", len);
	if (len > netframe_payload_max() ||
	    netframe_parse(frame, len, NETFRAME_DSP_MAX, netframe_dsp_requests, &fm,
	    why, sizeof(why)) != 0) {
		log_warn("closing dispatch connection from node %s at %s: %s", c->peer.id,
		    c->addr, why);
		netframe_free(frame);
		conn_close(c, HUSH_E_PROTO, why);
		return;
	}
	wire_enc_init(&e, NET_PEER_REQUEST, net_next_call_id(), NET_MAX_MSG);
	wire_put_str(&e, T_PEER_ID, c->peer.id);
	wire_put_u8(&e, T_ROLE, c->peer.role);
	wire_put_str(&e, T_CLUSTER_ID, c->peer.cluster);
	wire_put_bytes(&e, T_PAYLOAD, frame, len);
	/* Which root its certificate comes from: the parent follows rotations by it. */
	wire_put_bytes(&e, T_ISSUER_DIGEST, c->peer.issuer_spki, sizeof(c->peer.issuer_spki));
	net_call_parent(&e, NET_PEER_REQUEST, c->id, fm.hdr.request_id, fm.hdr.type);
	c->inflight++;
	netframe_free(frame);
}

static void
client_frame(struct conn *c, uint8_t *frame, size_t len)
{
	static const uint16_t only_error[] = { MSG_ERROR, 0 };
	struct wire_enc e;
	struct rpc *k;
	uint16_t allowed[3];
	uint32_t id = netframe_get_id(frame);
	char why[300], detail[1100], msg[1400];
	int status;

	if (id == 0) {
		/* The manager refuses the connection itself (e.g. we were removed). */
		if (netframe_parse(frame, len, NETFRAME_DSP_MAX, only_error, &fm, why,
		    sizeof(why)) != 0) {
			snprintf(msg, sizeof(msg), "manager at %s broke the protocol: %s",
			    c->addr, why);
			netframe_free(frame);
			conn_close(c, HUSH_E_PROTO, msg);
			return;
		}
		status = msg_reply_status(&fm, detail, sizeof(detail));
		netframe_free(frame);
		log_warn("manager at %s refused this node: %s", c->addr,
		    detail[0] != '\0' ? detail : hush_strerror(status));
		conn_close(c, status, detail[0] != '\0' ? detail : hush_strerror(status));
		return;
	}
	for (k = c->rpcs; k != NULL; k = k->next)
		if (k->wire_id == id && k->frame == NULL)
			break;
	if (k == NULL) {
		snprintf(msg, sizeof(msg), "manager at %s answered request %u that was "
		    "never sent", c->addr, id);
		log_warn("%s", msg);
		netframe_free(frame);
		conn_close(c, HUSH_E_PROTO, msg);
		return;
	}
	if (len > netframe_payload_max())
		snprintf(why, sizeof(why), "frame of %zu bytes is too large to relay", len);
	if (len > netframe_payload_max() ||
	    netframe_reply_types(k->req_type, allowed) != 0 ||
	    netframe_parse(frame, len, NETFRAME_DSP_MAX, allowed, &fm, why,
	    sizeof(why)) != 0) {
		snprintf(msg, sizeof(msg), "manager at %s sent a malformed reply: %s",
		    c->addr, why);
		log_warn("%s", msg);
		netframe_free(frame);
		conn_close(c, HUSH_E_PROTO, msg);
		return;
	}
	rpc_unlink(c, k);
	if (!k->abandoned) {
		netframe_set_id(frame, k->orig_id);
		wire_enc_init(&e, NET_RPC | MSG_REPLY, k->parent_id, NET_MAX_MSG);
		wire_put_bytes(&e, T_PAYLOAD, frame, len);
		net_send_parent(&e, -1);
	}
	netframe_free(frame);
	rpc_free(k);
}

void
dsp_frame(struct conn *c, uint8_t *frame, size_t len)
{
	if (c->inbound)
		server_frame(c, frame, len);
	else
		client_frame(c, frame, len);
}

void
dsp_closed(struct conn *c, int code, const char *why)
{
	struct rpc *k;

	while ((k = c->rpcs) != NULL) {
		c->rpcs = k->next;
		if (!k->abandoned)
			net_error_parent(k->parent_id, code != 0 ? code : HUSH_E_UNAVAIL,
			    why != NULL ? why : "the connection to the manager closed");
		rpc_free(k);
	}
	c->nrpcs = 0;
	/* Inbound: the parent's answers to this connection will find it gone. */
}

uint64_t
dsp_timers(struct conn *c, uint64_t now)
{
	struct rpc *k, *next;
	uint64_t d = 0;
	char msg[400];
	bool live = false;

	if (c->inbound) {
		if (c->inflight == 0 && c->out.len == 0 &&
		    now - c->last_active >= NET_IDLE_SERVER_MS) {
			log_debug("closing idle dispatch connection from %s", c->addr);
			conn_close(c, 0, NULL);
			return 0;
		}
		return c->inflight == 0 ? c->last_active + NET_IDLE_SERVER_MS : 0;
	}
	for (k = c->rpcs; k != NULL; k = next) {
		next = k->next;
		if (k->abandoned)
			continue;
		if (now >= k->deadline) {
			snprintf(msg, sizeof(msg), "manager at %s did not answer within %d s",
			    c->addr, NET_RPC_MS / 1000);
			log_info("%s", msg);
			net_error_parent(k->parent_id, HUSH_E_TIMEOUT, msg);
			/* Sent: its reply may still come and must be recognised. */
			k->abandoned = true;
			if (k->frame != NULL) {
				rpc_unlink(c, k);
				rpc_free(k);
			}
			continue;
		}
		live = true;
		if (d == 0 || k->deadline < d)
			d = k->deadline;
	}
	if (!live && c->out.len == 0) {
		if (now - c->last_active >= NET_IDLE_CLIENT_MS) {
			log_debug("closing idle dispatch connection to %s", c->addr);
			conn_finish(c);
			conn_kick(c);
			return 0;
		}
		d = c->last_active + NET_IDLE_CLIENT_MS;
	}
	return d;
}

void
dsp_parent_reply(const struct pcall *pc, int status, const struct wire_msg *m,
    const char *detail)
{
	const uint8_t *payload;
	struct wire_enc e;
	struct conn *c;
	uint16_t allowed[3];
	uint8_t *copy;
	size_t len;
	char why[300];

	if ((c = conn_find(pc->conn_id)) == NULL || c->state != CS_OPEN) {
		log_debug("dropping the answer to %s: its connection is gone",
		    msg_type_name(pc->req_type));
		return;
	}
	if (c->inflight > 0)
		c->inflight--;
	if (status != 0) {
		/* The peer waits for an answer: without one, end the connection. */
		if (msg_error_reply(&e, pc->peer_req, status, detail) != 0 ||
		    conn_queue_enc(c, &e) != 0) {
			wire_enc_free(&e);
			conn_close(c, HUSH_E_NOMEM, "cannot queue an error answer");
			return;
		}
		conn_kick(c);
		return;
	}
	if (wire_get_bytes(m, T_PAYLOAD, &payload, &len) != 0 ||
	    netframe_reply_types(pc->req_type, allowed) != 0 ||
	    netframe_parse(payload, len, NETFRAME_DSP_MAX, allowed, &fm, why,
	    sizeof(why)) != 0) {
		/* Our parent's bug, not the peer's: answer, keep the connection. */
		log_err("the parent's answer to %s is malformed", msg_type_name(pc->req_type));
		if (msg_error_reply(&e, pc->peer_req, HUSH_E_INTERNAL,
		    "the manager could not answer this request") != 0 ||
		    conn_queue_enc(c, &e) != 0) {
			wire_enc_free(&e);
			conn_close(c, HUSH_E_NOMEM, "cannot queue an error answer");
			return;
		}
		conn_kick(c);
		return;
	}
	if ((copy = lockmem_alloc(len)) == NULL) {
		conn_close(c, HUSH_E_NOMEM, "out of memory");
		return;
	}
	memcpy(copy, payload, len);
	netframe_set_id(copy, pc->peer_req);
	if (conn_queue(c, copy, len) == 0)
		conn_kick(c);
	netframe_free(copy);
}
