/*
 * Main loop of the net process and its channel to the parent.
 *
 * One poll() loop, one thread (glibc's resolver may add a helper thread
 * for host names).  Each turn: finished name lookups, timers, freeing
 * closed connections, then poll() over the parent channel, the listening
 * socket and every connection's TCP socket and relay socket, then the I/O.
 *
 * A message from the parent that does not parse against the schemas, or
 * brings an fd, is refused and answered with an error, and an answer to a
 * request we never made is dropped; the process goes on serving, as every
 * child does (daemon/privsep/from_parent.c).  Peers are never trusted; see
 * conn.c.
 */
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "err.h"
#include "from_parent.h"
#include "log.h"
#include "net.h"
#include "net_int.h"
#include "x509.h"

static const uint16_t from_net[] = { NET_INBOUND, NET_JOIN_SERVE, NET_PEER_REQUEST, 0 };

const struct child_desc net_child = {
	.name = "net",
	.max_msg = NET_MAX_MSG,
	.allow_fds = true,
	.from_child = from_net,
	.caps = NULL,
	.ncaps = 0,
	.unprivileged = true,
	.keyheap = true,
	.sandbox = &net_sandbox,
	.main = net_main,
};

static const uint16_t from_parent[] = {
	NET_START, NET_RELOAD, NET_CONNECT, NET_JOIN, NET_RPC, NET_EXTCA_SIGN,
	NET_JOIN_SERVE | MSG_REPLY, NET_PEER_REQUEST | MSG_REPLY, MSG_ERROR, 0
};

struct net N;

/* The parent's message being handled; big, so not on the stack. */
static struct wire_msg pm;

static void send_answer(struct wire_enc *e);

/* No descriptor comes from the parent: streams go the other way. */
static const struct parent_link parent = {
	.child = "net",
	.max_msg = NET_MAX_MSG,
	.allowed = from_parent,
	.with_fd = NULL,
	.send = send_answer,
};

uint64_t
net_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *
net_role_ou(uint8_t role)
{
	const char *ou = x509_role_ou(role);

	return ou != NULL ? ou : "unknown role";
}

static noreturn void shutdown_net(void);

void
net_send_parent(struct wire_enc *e, int fd)
{
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish(e, &buf, &len)) != 0)
		fatal_r(r, "encoding a message for the parent");
	r = chan_send(&N.ch, buf, len, fd);
	wire_enc_free(e);
	/* The parent is gone (killed, say): stop, as when it closes. */
	if (r == HUSH_E_IO)
		shutdown_net();
	if (r != 0)
		fatal_r(r, "sending to the parent");
}

static void
send_answer(struct wire_enc *e)
{
	net_send_parent(e, -1);
}

void
net_error_parent(uint32_t id, int code, const char *detail)
{
	struct wire_enc e;

	/* A failure fails e, and net_send_parent() is fatal on that. */
	(void)!msg_error_reply(&e, id, code, detail);
	net_send_parent(&e, -1);
}

uint32_t
net_next_call_id(void)
{
	if (++N.next_call_id == 0)
		N.next_call_id = 1;
	return N.next_call_id;
}

void
net_call_parent(struct wire_enc *e, uint16_t type, uint64_t conn_id,
    uint32_t peer_req, uint16_t req_type)
{
	struct pcall *pc;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		fatal("out of memory");
	pc->id = (uint32_t)e->buf[4] << 24 | (uint32_t)e->buf[5] << 16 |
	    (uint32_t)e->buf[6] << 8 | e->buf[7];
	pc->type = type;
	pc->conn_id = conn_id;
	pc->peer_req = peer_req;
	pc->req_type = req_type;
	net_send_parent(e, -1);
	pc->next = N.pcalls;
	N.pcalls = pc;
}

bool
net_removed(const char *node_id)
{
	for (size_t i = 0; i < N.nremoved; i++)
		if (strcmp(N.removed[i], node_id) == 0)
			return true;
	return false;
}

/* ---- requests from the parent --------------------------------------------- */

static void
reply_ok(uint16_t type, uint32_t id)
{
	struct wire_enc e;

	wire_enc_init(&e, type | MSG_REPLY, id, 64);
	net_send_parent(&e, -1);
}

/*
 * Workers never accept connections: they only dial managers.  A promotion
 * or demotion arrives as NET_RELOAD with the new certificate, so the
 * listener follows the role of whichever identity is current.
 */
static int
listen_for_role(uint8_t role, char *why, size_t whylen)
{
	int r, lfd = -1;

	if (role == ROLE_MANAGER && (N.listen_fd < 0 || strcmp(N.listen_addr, N.want_listen) != 0)) {
		if ((r = net_listen_open(N.want_listen, &lfd, why, whylen)) != 0)
			return r;
		if (N.listen_fd >= 0)
			close(N.listen_fd);
		N.listen_fd = lfd;
		snprintf(N.listen_addr, sizeof(N.listen_addr), "%s", N.want_listen);
	} else if (role != ROLE_MANAGER && N.listen_fd >= 0) {
		close(N.listen_fd);
		N.listen_fd = -1;
		N.listen_addr[0] = '\0';
	}
	return 0;
}

static void
do_start(const struct wire_msg *m)
{
	struct secbuf key = SECBUF_INIT;
	struct tls_ident *id = NULL;
	const struct wire_field *fch;
	const uint8_t *cert, *ca, *kp;
	size_t certlen, calen, klen;
	char node[HUSH_ID_LEN + 1], cluster[HUSH_ID_LEN + 1];
	char laddr[ADDR_MAX + 1], why[600];
	uint8_t role;
	int r;

	if (wire_get_str(m, T_NODE_ID, node, sizeof(node)) != 0 ||
	    wire_get_str(m, T_CLUSTER_ID, cluster, sizeof(cluster)) != 0 ||
	    wire_get_u8(m, T_ROLE, &role) != 0 ||
	    wire_get_bytes(m, T_CERT, &cert, &certlen) != 0 ||
	    wire_get_bytes(m, T_NODE_KEY, &kp, &klen) != 0 ||
	    wire_get_bytes(m, T_CA_CERT, &ca, &calen) != 0 ||
	    wire_get_str(m, T_LISTEN_ADDR, laddr, sizeof(laddr)) != 0) {
		parent_msg_refuse(&parent, &m->hdr, "a field it needs is missing");
		return;
	}
	why[0] = '\0';
	if ((r = secbuf_dup(&key, kp, klen)) != 0) {
		snprintf(why, sizeof(why), "cannot keep the node key");
		goto fail;
	}
	fch = wire_find(m, T_CA_CHAIN, 0);
	r = tls_ident_new((const char *)cert, certlen, &key,
	    fch != NULL ? (const char *)fch->val : NULL, fch != NULL ? fch->len : 0,
	    (const char *)ca, calen, &id, why, sizeof(why));
	secbuf_free(&key);
	if (r != 0)
		goto fail;
	if (strcmp(id->node_id, node) != 0 || strcmp(id->cluster_id, cluster) != 0 ||
	    id->role != role) {
		snprintf(why, sizeof(why), "this node's certificate is for node %s (%s) of "
		    "cluster %s, not node %s (%s) of cluster %s", id->node_id,
		    net_role_ou(id->role), id->cluster_id, node, net_role_ou(role), cluster);
		r = HUSH_E_INVAL;
		goto fail;
	}
	snprintf(N.want_listen, sizeof(N.want_listen), "%s", laddr);
	if ((r = listen_for_role(role, why, sizeof(why))) != 0)
		goto fail;
	tls_ident_unref(N.ident);
	N.ident = id;
	log_info("network identity: node %s (%s) of cluster %s", node, net_role_ou(role),
	    cluster);
	reply_ok(NET_START, m->hdr.request_id);
	return;
 fail:
	tls_ident_unref(id);
	log_err("cannot start: %s", why);
	net_error_parent(m->hdr.request_id, r, why);
}

/* Is a trust bundle the same bytes as another?  Roots are public: no secret here. */
static bool
same_trust(const struct tls_ident *a, const struct tls_ident *b)
{
	return a->ca_len == b->ca_len && memcmp(a->ca_pem, b->ca_pem, a->ca_len) == 0;
}

/*
 * After NET_RELOAD.  A removed node's certificate stays valid until it
 * expires, so its removal must also end what that certificate already
 * opened.  Likewise a root dropped from the trust bundle (the end of a CA
 * rotation): a peer whose chain led only to it would be refused now, so
 * what it opened before ends too, whatever it speaks.  Outbound dispatch
 * connections made with a superseded identity are not reused; the idle
 * ones close now so the next request presents the new certificate, the
 * busy ones when their answers are in.
 */
static void
conns_after_reload(bool trust_changed)
{
	char why[HUSH_ID_LEN + 400], vwhy[300];

	for (struct conn *c = N.conns; c != NULL; c = c->next) {
		if (c->state != CS_OPEN)
			continue;
		if (trust_changed && c->proto != PROTO_JOIN && c->ssl != NULL &&
		    tls_peer_still_trusted(c->ssl, N.ident, vwhy, sizeof(vwhy)) != 0) {
			snprintf(why, sizeof(why), "node %s no longer verifies against this "
			    "node's trusted CA certificates: %s", c->peer.id, vwhy);
			log_warn("closing the %s connection %s %s: %s", tls_proto_alpn(c->proto),
			    c->inbound ? "from" : "to", c->addr, why);
			conn_close(c, HUSH_E_AUTH, why);
		} else if (c->proto != PROTO_JOIN && net_removed(c->peer.id)) {
			snprintf(why, sizeof(why), "node %s was removed from the cluster",
			    c->peer.id);
			log_info("closing the connection %s %s: %s", c->inbound ? "from" : "to",
			    c->addr, why);
			if (c->inbound && c->proto == PROTO_DISPATCH)
				dsp_refuse(c, HUSH_E_PERM, why);
			else
				conn_close(c, HUSH_E_PERM, why);
		} else if (!c->inbound && c->proto == PROTO_DISPATCH && c->ident != N.ident &&
		    c->nrpcs == 0) {
			conn_finish(c);
			conn_kick(c);
		}
	}
}

static void
do_reload(const struct wire_msg *m)
{
	struct secbuf key = SECBUF_INIT;
	struct tls_ident *id = NULL;
	const struct wire_field *fc, *fk, *fa, *fch, *f;
	char (*removed)[HUSH_ID_LEN + 1] = NULL;
	char why[600];
	size_t n, i;
	bool trust_changed = false;
	int r;

	if (N.ident == NULL) {
		net_error_parent(m->hdr.request_id, HUSH_E_UNAVAIL,
		    "the network is not started on this node yet");
		return;
	}
	fc = wire_find(m, T_CERT, 0);
	fk = wire_find(m, T_NODE_KEY, 0);
	fa = wire_find(m, T_CA_CERT, 0);
	fch = wire_find(m, T_CA_CHAIN, 0);
	if ((fc == NULL) != (fk == NULL)) {
		net_error_parent(m->hdr.request_id, HUSH_E_INVAL,
		    "a new certificate needs its key, and a key its certificate");
		return;
	}
	/* A chain belongs to the certificate it completes: both come together. */
	if (fch != NULL && fc == NULL) {
		net_error_parent(m->hdr.request_id, HUSH_E_INVAL,
		    "a new chain needs the certificate it belongs to");
		return;
	}
	n = wire_count(m, T_PEER_ID);
	if (n > 0 && (removed = calloc(n, sizeof(*removed))) == NULL) {
		net_error_parent(m->hdr.request_id, HUSH_E_NOMEM, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		f = wire_find(m, T_PEER_ID, i);
		if (f == NULL || wire_field_str(f, removed[i], sizeof(removed[i])) != 0 ||
		    !hush_id_valid(removed[i])) {
			free(removed);
			net_error_parent(m->hdr.request_id, HUSH_E_INVAL,
			    "a removed node is not a node id");
			return;
		}
	}
	why[0] = '\0';
	if (fc != NULL) {
		if ((r = secbuf_dup(&key, fk->val, fk->len)) == 0)
			r = tls_ident_new((const char *)fc->val, fc->len, &key,
			    fch != NULL ? (const char *)fch->val : NULL,
			    fch != NULL ? fch->len : 0,
			    fa != NULL ? (const char *)fa->val : N.ident->ca_pem,
			    fa != NULL ? fa->len : N.ident->ca_len, &id, why, sizeof(why));
		secbuf_free(&key);
	} else if (fa != NULL) {
		r = tls_ident_new_ca(N.ident, (const char *)fa->val, fa->len, &id, why,
		    sizeof(why));
	} else {
		r = 0;
	}
	if (r == 0 && id != NULL && (strcmp(id->node_id, N.ident->node_id) != 0 ||
	    strcmp(id->cluster_id, N.ident->cluster_id) != 0)) {
		snprintf(why, sizeof(why), "the new certificate is for node %s of cluster "
		    "%s, not this node", id->node_id, id->cluster_id);
		r = HUSH_E_INVAL;
	}
	if (r == 0 && id != NULL)
		r = listen_for_role(id->role, why, sizeof(why));
	if (r != 0) {
		tls_ident_unref(id);
		free(removed);
		log_err("cannot reload: %s", why);
		net_error_parent(m->hdr.request_id, r, why);
		return;
	}
	/* New connections only; established ones keep what they verified. */
	if (id != NULL) {
		trust_changed = !same_trust(id, N.ident);
		tls_ident_unref(N.ident);
		N.ident = id;
		log_info("reloaded the network identity (%s)", net_role_ou(id->role));
	}
	free(N.removed);
	N.removed = removed;
	N.nremoved = n;
	conns_after_reload(trust_changed);
	reply_ok(NET_RELOAD, m->hdr.request_id);
}

/*
 * The parent answered our call id: with m, or (m NULL) with something
 * malformed that counts as status and detail.
 */
static void
call_answered(uint32_t id, uint16_t type, int status, const struct wire_msg *m,
    const char *detail)
{
	struct pcall **pp, *pc;

	for (pp = &N.pcalls; (pc = *pp) != NULL; pp = &pc->next)
		if (pc->id == id)
			break;
	if (pc == NULL) {
		log_err("dropped an answer (%s) from the parent to request %u, which "
		    "net never made", msg_type_name(type), id);
		return;
	}
	if (m != NULL && type != MSG_ERROR && type != (pc->type | MSG_REPLY)) {
		log_err("the parent answered %s with %s", msg_type_name(pc->type),
		    msg_type_name(type));
		status = HUSH_E_INTERNAL;
		detail = "the daemon answered with the wrong message";
		m = NULL;
	}
	*pp = pc->next;
	if (pc->type == NET_PEER_REQUEST)
		dsp_parent_reply(pc, status, status == 0 ? m : NULL, detail);
	else
		join_parent_reply(pc, status, status == 0 ? m : NULL, detail);
	free(pc);
}

static void
do_reply(const struct wire_msg *m)
{
	char detail[1100];
	int status;

	status = msg_reply_status(m, detail, sizeof(detail));
	call_answered(m->hdr.request_id, m->hdr.type, status, m, detail);
}

static void
handle(struct chan_msg *cm)
{
	char why[300];

	switch (parent_msg_take(&parent, cm, &pm, why, sizeof(why))) {
	case PARENT_MSG_OK:
		break;
	case PARENT_MSG_BAD_ANSWER:
		call_answered(pm.hdr.request_id, pm.hdr.type, HUSH_E_INTERNAL, NULL, why);
		return;
	case PARENT_MSG_REFUSED:
		return;
	}
	switch (pm.hdr.type) {
	case NET_START:
		do_start(&pm);
		break;
	case NET_RELOAD:
		do_reload(&pm);
		break;
	case NET_CONNECT:
		raft_connect(&pm);
		break;
	case NET_JOIN:
		join_start(&pm);
		break;
	case NET_RPC:
		dsp_rpc(&pm);
		break;
	case NET_EXTCA_SIGN:
		extca_sign(&pm);
		break;
	case NET_JOIN_SERVE | MSG_REPLY:
	case NET_PEER_REQUEST | MSG_REPLY:
	case MSG_ERROR:
		do_reply(&pm);
		break;
	default:
		fatal("unhandled message 0x%04x", pm.hdr.type);
	}
	/* Key bytes and tokens lived in there. */
	sodium_memzero(&pm, sizeof(pm));
}

static noreturn void
shutdown_net(void)
{
	struct pcall *pc;

	log_debug("the parent closed the channel, or is gone; shutting down");
	conn_close_all();
	extca_close_all();
	while ((pc = N.pcalls) != NULL) {
		N.pcalls = pc->next;
		free(pc);
	}
	if (N.listen_fd >= 0)
		close(N.listen_fd);
	tls_ident_unref(N.ident);
	SSL_CTX_free(N.join_ctx);
	free(N.removed);
	chan_close(&N.ch);
	exit(0);
}

/* Returns false when the parent has gone. */
static bool
parent_io(short revents)
{
	struct chan_msg cm;
	int r;

	if (revents & POLLOUT) {
		r = chan_flush(&N.ch);
		if (r != 0 && r != HUSH_E_UNAVAIL)
			return false;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		while ((r = chan_recv(&N.ch, &cm)) == 1) {
			handle(&cm);
			chan_msg_free(&cm);
		}
		if (r == HUSH_E_IO)
			return false;
		if (r < 0)
			parent_msg_lost(&parent, &N.ch, r);
	}
	return true;
}

/*
 * The channel and the listener, two descriptors per authenticated or
 * outbound connection, one per unauthenticated one.
 */
#define NPFD	(2 + 2 * NET_MAX_CONNS + NET_HS_MAX + NET_EXTCA_FDS)

noreturn void
net_main(int fd)
{
	static struct pollfd pfd[NPFD];
	static struct conn *who[NPFD];
	static bool is_local[NPFD];
	struct conn *c;
	uint64_t now, next, d;
	int n, i, lidx, xidx, nx, timeout;
	short te, le;
	bool kick;

	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	memset(&N, 0, sizeof(N));
	N.listen_fd = -1;
	chan_init(&N.ch, fd, "parent", NET_MAX_MSG, true);
	if ((N.join_ctx = tls_join_ctx_new()) == NULL)
		fatal("cannot set up TLS");
	admit_init(&N.adm);

	for (;;) {
		now = net_now();
		conn_resolvers();
		next = conn_timers(now);
		if ((d = admit_timer(&N.adm, now)) != 0 && (next == 0 || d < next))
			next = d;
		if ((d = N.accept_resume) > now && (next == 0 || d < next))
			next = d;
		if ((d = extca_timers(now)) != 0 && (next == 0 || d < next))
			next = d;
		conn_reap();

		n = 0;
		pfd[n].fd = N.ch.fd;
		pfd[n].events = POLLIN | (chan_pending(&N.ch) ? POLLOUT : 0);
		who[n++] = NULL;
		lidx = -1;
		/*
		 * Always: a connection over a limit is refused at accept(),
		 * never left in the backlog in front of one that is welcome.
		 */
		if (N.listen_fd >= 0 && N.ident != NULL && now >= N.accept_resume) {
			lidx = n;
			pfd[n].fd = N.listen_fd;
			pfd[n].events = POLLIN;
			who[n++] = NULL;
		}
		kick = false;
		for (c = N.conns; c != NULL; c = c->next) {
			c->tcp_rev = c->local_rev = 0;
			c->kick = false;
			if (c->state == CS_DEAD)
				continue;
			conn_events(c, &te, &le);
			if (c->fd >= 0 && te != 0 && n < NPFD) {
				pfd[n].fd = c->fd;
				pfd[n].events = te;
				is_local[n] = false;
				who[n++] = c;
			}
			if (c->local_fd >= 0 && le != 0 && n < NPFD) {
				pfd[n].fd = c->local_fd;
				pfd[n].events = le;
				is_local[n] = true;
				who[n++] = c;
			}
			if (conn_wants_kick(c))
				kick = c->kick = true;
		}
		/* the external CA's sockets last: extca.c matches them by fd */
		xidx = n;
		nx = extca_pollfds(&pfd[n], NPFD - n);
		for (i = 0; i < nx; i++)
			who[n++] = NULL;
		if (kick)
			timeout = 0;
		else if (next != 0)
			timeout = next > now ? (int)(next - now < 60000 ? next - now : 60000) : 0;
		else
			timeout = -1;
		/* getaddrinfo_a() tells us nothing: look again soon. */
		if ((conn_resolving() || extca_resolving()) && (timeout < 0 || timeout > 20))
			timeout = 20;

		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		if (!parent_io(pfd[0].revents))
			shutdown_net();
		if (lidx >= 0 && (pfd[lidx].revents & POLLIN))
			conn_accept_all(N.listen_fd);
		for (i = 0; i < n; i++) {
			if (who[i] == NULL || pfd[i].revents == 0)
				continue;
			if (is_local[i])
				who[i]->local_rev |= pfd[i].revents;
			else
				who[i]->tcp_rev |= pfd[i].revents;
		}
		extca_io(&pfd[xidx], nx);
		for (c = N.conns; c != NULL; c = c->next) {
			if (c->state == CS_DEAD || (c->tcp_rev == 0 && c->local_rev == 0 && !c->kick))
				continue;
			conn_io(c, c->tcp_rev, c->local_rev);
		}
	}
}
