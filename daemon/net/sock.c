/*
 * Sockets: parsing HOST:PORT, the listening socket, accepting, and the
 * outbound path from a name to a connected socket.  IP literals resolve in
 * place; names go to getaddrinfo_a() so a slow resolver never stalls the
 * loop.  Every address a name yields is tried in turn before giving up
 * with "cannot reach manager at ADDR: <reason>".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
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

/* An asynchronous name lookup; must outlive its connection until done. */
struct resolve {
	struct resolve	*next;
	struct gaicb	 cb;
	struct addrinfo	 hints;
	char		 host[256];
	char		 port[8];
};

/* "host:port" or "[v6]:port", as addr_normalize() writes them. */
static int
split_hostport(const char *norm, char *host, size_t hostcap, char *port, size_t portcap)
{
	const char *colon = strrchr(norm, ':');
	size_t hlen;

	if (colon == NULL || strlen(colon + 1) >= portcap)
		return HUSH_E_INVAL;
	hlen = (size_t)(colon - norm);
	if (norm[0] == '[') {
		if (hlen < 2 || norm[hlen - 1] != ']')
			return HUSH_E_INVAL;
		norm++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hostcap)
		return HUSH_E_INVAL;
	memcpy(host, norm, hlen);
	host[hlen] = '\0';
	snprintf(port, portcap, "%s", colon + 1);
	return 0;
}

static void
sockaddr_string(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;
	struct in_addr v4;

	snprintf(out, outlen, "unknown");
	if (ss->ss_family == AF_INET) {
		s4 = (const struct sockaddr_in *)ss;
		if (inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip)) != NULL)
			snprintf(out, outlen, "%s:%u", ip, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)ss;
		/* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(&v4, &s6->sin6_addr.s6_addr[12], sizeof(v4));
			if (inet_ntop(AF_INET, &v4, ip, sizeof(ip)) != NULL)
				snprintf(out, outlen, "%s:%u", ip, ntohs(s6->sin6_port));
		} else if (inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip)) != NULL) {
			snprintf(out, outlen, "[%s]:%u", ip, ntohs(s6->sin6_port));
		}
	}
}

/* Frames and raft messages are small and latency-bound; dead peers must show. */
void
sock_tune(int fd)
{
	int one = 1, idle = 60, intvl = 10, cnt = 6;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

int
net_listen_open(const char *addr, int *fdp, char *why, size_t whylen)
{
	struct addrinfo hints, *ai = NULL;
	char norm[ADDR_MAX + 1], host[256], port[8], awhy[200];
	int fd = -1, one = 1, zero = 0, e, r;

	*fdp = -1;
	snprintf(awhy, sizeof(awhy), "not a HOST:PORT address");
	if (addr_normalize(addr, NET_DEFAULT_PORT, norm, sizeof(norm), awhy,
	    sizeof(awhy)) != 0 ||
	    split_hostport(norm, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(why, whylen, "cannot listen on %s: %s", addr, awhy);
		return HUSH_E_INVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(why, whylen, "cannot listen on %s: %s", norm, gai_strerror(e));
		return HUSH_E_INVAL;
	}
	r = HUSH_E_SYS;
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] serves IPv4 too, whatever the sysctl default says. */
	if (ai->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno == EADDRINUSE)
			r = HUSH_E_INUSE;
		goto fail;
	}
	if (listen(fd, NET_LISTEN_BACKLOG) != 0)
		goto fail;
	freeaddrinfo(ai);
	*fdp = fd;
	log_info("listening on %s", norm);
	return 0;
 fail:
	snprintf(why, whylen, "cannot listen on %s: %s%s", norm, strerror(errno),
	    errno == EACCES ? " (the net process runs as an unprivileged user and "
	    "cannot bind a port below 1024)" : "");
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

void
sock_resolve_cancel(struct resolve *res)
{
	/* Cancelled or finished lookups can go now; running ones must finish. */
	if (gai_cancel(&res->cb) == EAI_NOTCANCELED) {
		res->next = N.orphans;
		N.orphans = res;
		return;
	}
	if (res->cb.ar_result != NULL)
		freeaddrinfo(res->cb.ar_result);
	free(res);
}

static void
unreachable(struct conn *c, const char *reason)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "cannot reach manager at %s: %s", c->addr, reason);
	log_info("%s", msg);
	conn_close(c, HUSH_E_UNAVAIL, msg);
}

/* Try the remaining addresses in order until one starts connecting. */
static void
start_connect(struct conn *c)
{
	struct admit_key key;
	struct addrinfo *ai;
	int fd;

	while ((ai = c->ai_next) != NULL) {
		c->ai_next = ai->ai_next;
		/* The parent named it: a manager, or the one we join through. */
		admit_key_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &key);
		admit_learn(&N.adm, &key, net_now());
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			c->connect_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			c->fd = fd;
			conn_begin_tls(c);
			return;
		}
		if (errno == EINPROGRESS) {
			c->fd = fd;
			c->state = CS_CONNECTING;
			return;
		}
		c->connect_errno = errno;
		close(fd);
	}
	unreachable(c, strerror(c->connect_errno != 0 ? c->connect_errno : EHOSTUNREACH));
}

void
conn_check_connect(struct conn *c)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err == 0) {
		conn_begin_tls(c);
		return;
	}
	c->connect_errno = err;
	close(c->fd);
	c->fd = -1;
	start_connect(c);
}

struct conn *
conn_connect(enum net_proto proto, const char *addr, struct tls_ident *ident,
    int *err, char *why, size_t whylen)
{
	char norm[ADDR_MAX + 1], awhy[200];
	struct conn *c;

	if (addr_normalize(addr, NET_DEFAULT_PORT, norm, sizeof(norm), awhy,
	    sizeof(awhy)) != 0) {
		snprintf(why, whylen, "invalid manager address: %s", awhy);
		*err = HUSH_E_INVAL;
		return NULL;
	}
	if ((c = conn_alloc()) == NULL) {
		snprintf(why, whylen, "cannot reach manager at %s: too many connections",
		    norm);
		*err = HUSH_E_UNAVAIL;
		return NULL;
	}
	c->proto = proto;
	c->state = CS_RESOLVING;
	c->ident = ident;
	tls_ident_ref(ident);
	snprintf(c->addr, sizeof(c->addr), "%s", norm);
	c->out.max = proto == PROTO_JOIN ? NET_JOIN_OUT_MAX :
	    proto == PROTO_RAFT ? NET_RELAY_BUF : NET_DSP_OUT_MAX;
	c->deadline = net_now() + NET_HANDSHAKE_MS;
	return c;
}

/*
 * Separate from conn_connect() so the caller can record who is waiting
 * before anything can fail: every failure from here on goes through
 * conn_close() and the protocol's close hook answers the waiter.
 */
void
conn_start(struct conn *c)
{
	struct addrinfo hints;
	struct resolve *res;
	char host[256], port[8];
	struct gaicb *list[1];
	int e;

	if (split_hostport(c->addr, host, sizeof(host), port, sizeof(port)) != 0) {
		unreachable(c, "malformed address");
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	/* An IP literal needs no resolver and no thread. */
	if ((e = getaddrinfo(host, port, &hints, &c->ai_list)) == 0) {
		c->ai_next = c->ai_list;
		start_connect(c);
		return;
	}
	if (e != EAI_NONAME) {
		unreachable(c, gai_strerror(e));
		return;
	}
	/* A name: resolve without blocking the loop (glibc's helper thread). */
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		unreachable(c, "out of memory");
		return;
	}
	snprintf(res->host, sizeof(res->host), "%s", host);
	snprintf(res->port, sizeof(res->port), "%s", port);
	res->hints.ai_family = AF_UNSPEC;
	res->hints.ai_socktype = SOCK_STREAM;
	res->hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	res->cb.ar_name = res->host;
	res->cb.ar_service = res->port;
	res->cb.ar_request = &res->hints;
	list[0] = &res->cb;
	if ((e = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		free(res);
		unreachable(c, gai_strerror(e));
		return;
	}
	c->res = res;
}

void
conn_resolvers(void)
{
	struct resolve **rp, *res;
	struct conn *c;
	int e;

	for (c = N.conns; c != NULL; c = c->next) {
		if (c->state != CS_RESOLVING || (res = c->res) == NULL)
			continue;
		if ((e = gai_error(&res->cb)) == EAI_INPROGRESS)
			continue;
		c->res = NULL;
		if (e == 0) {
			c->ai_list = c->ai_next = res->cb.ar_result;
			free(res);
			start_connect(c);
		} else {
			if (res->cb.ar_result != NULL)
				freeaddrinfo(res->cb.ar_result);
			free(res);
			unreachable(c, gai_strerror(e));
		}
	}
	for (rp = &N.orphans; (res = *rp) != NULL;) {
		if (gai_error(&res->cb) == EAI_INPROGRESS) {
			rp = &res->next;
			continue;
		}
		*rp = res->next;
		if (res->cb.ar_result != NULL)
			freeaddrinfo(res->cb.ar_result);
		free(res);
	}
}

bool
conn_resolving(void)
{
	struct conn *c;

	if (N.orphans != NULL)
		return true;
	for (c = N.conns; c != NULL; c = c->next)
		if (c->state == CS_RESOLVING && c->res != NULL)
			return true;
	return false;
}

/* Close at once with a reset: no FIN to wait for, no TIME_WAIT left behind. */
static void
close_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/*
 * The slot to take from victim in pool: a connection that has sent
 * nothing, else its oldest; never a join whose request the parent is
 * answering, which has shown all a stranger can.
 */
static struct conn *
evictable(const struct admit_key *victim, enum admit_pool pool)
{
	struct conn *c, *best = NULL;

	for (c = N.conns; c != NULL; c = c->next) {
		if (!c->counted_hs || c->state == CS_DEAD || c->hs_pool != pool ||
		    c->join_got_request || !admit_key_equal(&c->src, victim))
			continue;
		if (best == NULL || (!c->got_bytes && best->got_bytes) ||
		    (c->got_bytes == best->got_bytes && c->started < best->started))
			best = c;
	}
	return best;
}

/*
 * The pool is full and nobody holds more than a newcomer would: the oldest
 * connection that has had NET_HS_STALE_MS and is still a stranger's
 * handshake (or a join that has not asked) gives up its slot.  A real peer
 * is done with both in a few round trips; whoever holds slots by being slow
 * holds the oldest ones.
 */
static struct conn *
stale(enum admit_pool pool, uint64_t now)
{
	struct conn *c, *best = NULL;

	for (c = N.conns; c != NULL; c = c->next) {
		if (!c->counted_hs || c->state == CS_DEAD || c->hs_pool != pool ||
		    c->join_got_request || now - c->started < NET_HS_STALE_MS)
			continue;
		if (best == NULL || c->started < best->started)
			best = c;
	}
	return best;
}

/*
 * Drain the backlog every turn, whatever the load: a connection we do not
 * want is refused here, at once and for almost nothing, instead of waiting
 * in the kernel's queue in front of one we do (admit.h says who is which).
 * An admitted one gets no TLS state until it sends something (conn.c).
 */
void
conn_accept_all(int lfd)
{
	struct sockaddr_storage ss;
	struct admit_key key, victim;
	enum admit_verdict v;
	enum admit_pool pool;
	struct conn *c, *old;
	socklen_t sl;
	uint64_t now;
	int fd, i;

	for (i = 0; i < NET_ACCEPT_BATCH; i++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of descriptors or memory: let the backlog wait a moment. */
			unauth_log(LOG_LVL_WARN, "accept: %s", strerror(errno));
			N.accept_resume = net_now() + NET_ACCEPT_PAUSE_MS;
			return;
		}
		if (N.ident == NULL) {
			close_reset(fd);
			continue;
		}
		now = net_now();
		admit_key_from_sockaddr((struct sockaddr *)&ss, sl, &key);
		v = admit_decide(&N.adm, &key, now, randombytes_uniform(100), &pool, &victim);
		old = NULL;
		if (v == ADMIT_POOL_FULL && (old = stale(pool, now)) != NULL) {
			/* As good as its deadline, for its source's charge. */
			old->fault = old->got_bytes ? FAULT_SLOW : FAULT_IDLE;
			v = ADMIT_EVICT;
		}
		if (v == ADMIT_EVICT) {
			if (old != NULL || (old = evictable(&victim, pool)) != NULL) {
				admit_note(&N.adm, &old->src, ADMIT_EVICT, now);
				log_debug("closing the unauthenticated connection from %s "
				    "to make room", old->addr);
				old->abort_close = true;
				conn_close(old, HUSH_E_UNAVAIL, "evicted to make room");
			} else {
				v = ADMIT_POOL_FULL;
			}
		}
		if (v != ADMIT_OK && v != ADMIT_EVICT) {
			admit_note(&N.adm, &key, v, now);
			close_reset(fd);
			continue;
		}
		if (admit_take(&N.adm, &key, pool, now) != 0) {
			close_reset(fd);
			continue;
		}
		if ((c = conn_alloc_inbound()) == NULL) {
			admit_release(&N.adm, &key, pool, FAULT_NONE, now);
			close_reset(fd);
			continue;
		}
		c->src = key;
		c->hs_pool = pool;
		c->inbound = true;
		c->fd = fd;
		sockaddr_string(&ss, c->addr, sizeof(c->addr));
		c->ident = N.ident;
		tls_ident_ref(c->ident);
		sock_tune(fd);
		c->state = CS_HANDSHAKE;
		c->deadline = now + NET_FIRST_BYTE_MS;
		log_debug("connection from %s (%s)", c->addr,
		    pool == POOL_KNOWN ? "a known address" : "a stranger");
	}
}

void
sock_orphans_wait(void)
{
	struct resolve *res;

	while ((res = N.orphans) != NULL) {
		N.orphans = res->next;
		/* Still running: wait, its thread writes into res. */
		while (gai_error(&res->cb) == EAI_INPROGRESS)
			usleep(10000);
		if (res->cb.ar_result != NULL)
			freeaddrinfo(res->cb.ar_result);
		free(res);
	}
}
