/*
 * Inside the net process: one poll() loop over the parent channel, the
 * listening socket and every connection.  A connection (struct conn) is a
 * TCP socket with a TLS session whose purpose, chosen by ALPN, decides who
 * consumes its bytes: relay.c (hush-raft/1), dispatch.c (hush-dispatch/1)
 * or join.c (hush-join/1).  sock.c gets a connection to the handshake
 * (admit.c decides which inbound ones may have a go, and for how long),
 * handshake.c decides who the peer is and hands the connection to its
 * protocol, and conn.c owns the TLS I/O, the timers and the teardown; the
 * protocol files only see whole frames or byte buffers and call back into
 * conn.c to send or to close.
 *
 * Nothing is freed while the loop may still hold a pointer to it: closing
 * a connection marks it dead and releases its resources, and conn_reap()
 * frees the struct at the top of the next iteration.  Work that outlives a
 * connection (a request the parent is still answering) refers to it by its
 * 64-bit id, never by pointer.
 */
#ifndef HUSH_NET_INT_H
#define HUSH_NET_INT_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "addr.h"
#include "admit.h"
#include "chan.h"
#include "id.h"
#include "msg.h"
#include "net.h"
#include "netframe.h"
#include "secbuf.h"
#include "wire.h"

#define NET_DEFAULT_PORT	4477
/*
 * Authenticated connections (verified peers, both directions) and our own
 * outbound ones.  Inbound connections that have not authenticated yet
 * (handshakes and joins) have a budget of their own, NET_HS_MAX in admit.h,
 * so strangers can never use this one up.
 */
#define NET_MAX_CONNS		256
#define NET_HANDSHAKE_MS	10000	/* outbound: connect + TLS handshake */
#define NET_ACCEPT_BATCH	64	/* accept()s per loop turn */
#define NET_ACCEPT_PAUSE_MS	100	/* after accept() failed for want of resources */
#define NET_LISTEN_BACKLOG	1024
#define NET_RPC_MS		10000	/* one dispatch request */
#define NET_JOIN_MS		10000	/* a whole join, either side */
#define NET_LINGER_MS		2000	/* waiting for the peer's EOF after ours */
#define NET_DRAIN_MS		5000	/* flushing a relay after one side ended */
#define NET_IDLE_CLIENT_MS	60000	/* an unused outbound dispatch connection */
#define NET_IDLE_SERVER_MS	(15 * 60000)	/* longer, so the client closes first */
#define NET_RELAY_BUF		(256 * 1024)	/* per direction */
#define NET_READ_CHUNK		16384	/* one TLS record */
#define NET_DSP_INFLIGHT	64	/* peer requests the parent is handling, per connection */
#define NET_RPC_MAX		128	/* our requests on one connection, timed out ones included */
#define NET_DSP_OUT_HIGH	(2 * NETFRAME_DSP_MAX)	/* stop reading requests above this */
#define NET_DSP_OUT_MAX		((size_t)NET_RPC_MAX * NETFRAME_DSP_MAX + 65536)
#define NET_JOIN_OUT_MAX	(2 * NETFRAME_JOIN_MAX)
#define NET_EXTCA_FDS		8	/* requests to an external CA at once (extca.c) */

enum net_proto { PROTO_NONE, PROTO_RAFT, PROTO_DISPATCH, PROTO_JOIN };

/* Who is at the other end, as read from a certificate that verified. */
struct peer_ident {
	char	id[HUSH_ID_LEN + 1];
	char	cluster[HUSH_ID_LEN + 1];
	uint8_t	role;			/* enum node_role */
	/*
	 * SPKI digest of the CA that signed its leaf (x509_verify_chain()):
	 * which root a node's certificate comes from, for the parent to
	 * follow a CA rotation (T_ISSUER_DIGEST).
	 */
	uint8_t	issuer_spki[32];
};

/*
 * One generation of our TLS identity.  NET_RELOAD makes a new one for new
 * connections while existing ones keep theirs, hence the reference count.
 */
struct tls_ident {
	int		 refs;
	SSL_CTX		*server, *client;
	char		*ca_pem;	/* the trust bundle: 1 to X509_BUNDLE_MAX roots */
	size_t		 ca_len;
	char		*chain_pem;	/* presented after our leaf; NULL for none */
	size_t		 chain_len;
	char		 node_id[HUSH_ID_LEN + 1];
	char		 cluster_id[HUSH_ID_LEN + 1];
	uint8_t		 role;
};

/*
 * A byte queue with a hard maximum.  Consumed bytes are wiped: these
 * buffers hold plaintext that may be secret values or join tokens.
 */
struct bbuf {
	uint8_t	*p;
	size_t	 off, len, cap, max;
};

enum conn_state {
	CS_RESOLVING,		/* outbound: waiting for getaddrinfo_a() */
	CS_CONNECTING,		/* outbound: nonblocking connect() in flight */
	CS_HANDSHAKE,
	CS_OPEN,
	CS_LINGER,		/* our side is done; waiting for the peer's EOF */
	CS_DEAD,		/* resources released; freed by conn_reap() */
};

struct resolve;
struct rpc;
struct join_client;

struct conn {
	struct conn		*next;
	uint64_t		 id;
	enum conn_state		 state;
	enum net_proto		 proto;
	bool			 inbound;
	int			 fd;
	SSL			*ssl;
	struct tls_ident	*ident;		/* NULL for an outbound join */
	char			 addr[ADDR_MAX + 1];	/* target, or observed peer */
	struct peer_ident	 peer;		/* valid once open, except joins */
	uint64_t		 deadline;	/* ms, 0 = none */
	uint64_t		 started;	/* ms, when accepted or asked for */
	uint64_t		 last_active;
	short			 tcp_rev, local_rev;	/* this loop turn's poll() results */
	bool			 kick;		/* run the pump even without an event */
	short			 hs_wait, rd_wait, wr_wait;	/* what SSL last asked for */
	bool			 tcp_hup;	/* poll said HUP/ERR: stop polling it */
	bool			 ssl_failed;	/* no close_notify after a fatal error */
	bool			 counted_hs;	/* unauthenticated: holds an admission slot */
	enum admit_pool		 hs_pool;	/* ...in this pool */
	struct admit_key	 src;		/* inbound: the source it counts against */
	enum admit_fault	 fault;		/* charged to src if it ends unauthenticated */
	bool			 got_bytes;	/* inbound: the peer has sent something */
	bool			 abort_close;	/* close with a reset: nothing left to say */
	bool			 close_after_flush;
	struct bbuf		 out;		/* plaintext to write into TLS */
	struct bbuf		 in;		/* plaintext read, not yet framed */

	/* outbound */
	struct resolve		*res;
	struct addrinfo		*ai_list, *ai_next;
	bool			 ai_from_gai_a;	/* freed by freeaddrinfo() either way */
	int			 connect_errno;
	bool			 parent_pending;	/* the parent awaits our answer */
	uint32_t		 parent_id;
	char			 expect_peer[HUSH_ID_LEN + 1];

	/* hush-raft/1 */
	int			 local_fd;
	bool			 local_hup, local_eof, tls_eof, draining;
	struct bbuf		 to_local;

	/* hush-dispatch/1 and hush-join/1 */
	struct netframe_rd	 rd;
	struct rpc		*rpcs;		/* outbound: our requests */
	size_t			 nrpcs;
	uint32_t		 next_rpc_id;
	unsigned		 inflight;	/* inbound: requests at the parent */
	bool			 join_got_request;
	struct join_client	*jc;		/* outbound join */
};

/* A request of ours to the parent, waiting for its reply. */
struct pcall {
	struct pcall	*next;
	uint32_t	 id;
	uint16_t	 type;		/* NET_PEER_REQUEST or NET_JOIN_SERVE */
	uint64_t	 conn_id;
	uint32_t	 peer_req;	/* the peer's request id, to answer with */
	uint16_t	 req_type;	/* the peer's request type */
};

struct net {
	struct chan		 ch;
	struct tls_ident	*ident;		/* NULL until NET_START */
	SSL_CTX			*join_ctx;	/* outbound joins: no cert yet */
	int			 listen_fd;
	uint64_t		 accept_resume;	/* ms: poll listen_fd again from then */
	char			 listen_addr[ADDR_MAX + 1];	/* what listen_fd is bound to */
	char			 want_listen[ADDR_MAX + 1];	/* from NET_START, for any role */
	struct conn		*conns;
	size_t			 nconns;	/* authenticated and outbound: NET_MAX_CONNS */
	size_t			 nhandshakes;	/* inbound unauthenticated: NET_HS_MAX */
	struct admit		 adm;
	uint64_t		 next_conn_id;
	struct pcall		*pcalls;
	uint32_t		 next_call_id;
	char			(*removed)[HUSH_ID_LEN + 1];
	size_t			 nremoved;
	struct resolve		*orphans;	/* lookups of closed connections */
};

extern struct net N;

/* net_main.c */
uint64_t net_now(void);
/* Finish e, send it (with fd unless -1) and free it; fatal if the parent is gone. */
void	net_send_parent(struct wire_enc *e, int fd);
void	net_error_parent(uint32_t id, int code, const char *detail);
uint32_t net_next_call_id(void);
/* Send request e (built with net_next_call_id()) and remember the call. */
void	net_call_parent(struct wire_enc *e, uint16_t type, uint64_t conn_id,
	    uint32_t peer_req, uint16_t req_type);
bool	net_removed(const char *node_id);
const char *net_role_ou(uint8_t role);

/*
 * tls_ctx.c.  tls_ident_new(): our leaf and key, the chain to present
 * after the leaf (NULL/0: none; else one CA certificate) and the trust
 * bundle (ca_pem), which the leaf and chain must verify against.
 */
int	tls_ident_new(const char *cert_pem, size_t cert_len, const struct secbuf *key,
	    const char *chain_pem, size_t chain_len, const char *ca_pem, size_t ca_len,
	    struct tls_ident **out, char *why, size_t whylen);
void	tls_ident_ref(struct tls_ident *id);
void	tls_ident_unref(struct tls_ident *id);
SSL_CTX	*tls_join_ctx_new(void);
int	tls_set_alpn(SSL *ssl, enum net_proto proto);
enum net_proto tls_alpn_proto(const SSL *ssl);
const char *tls_proto_alpn(enum net_proto proto);
/* The peer's certificate as PEM (malloc'd), or NULL. */
char	*tls_peer_pem(SSL *ssl, size_t *len);
/* Its leaf and then whatever else it sent, as PEM (malloc'd), or NULL. */
char	*tls_peer_chain_pem(SSL *ssl, size_t *len);
/*
 * Would what the peer of an established connection presented verify
 * against id's trust bundle now?  0, or HUSH_E_AUTH and why.
 */
int	tls_peer_still_trusted(SSL *ssl, const struct tls_ident *id, char *why,
	    size_t whylen);
/* A new generation with the old one's certificate, key and chain and a new trust bundle. */
int	tls_ident_new_ca(const struct tls_ident *old, const char *ca_pem, size_t ca_len,
	    struct tls_ident **out, char *why, size_t whylen);
/* Does the certificate carry the CSR's public key? */
/*
 * Everything we believe about a peer: its leaf and at most one
 * intermediate verified against a root of id's trust bundle in the
 * handshake and again by x509_verify_chain(), CN a node id, OU a role, O
 * our cluster (all from the leaf), and not a removed node; peer gets the
 * issuer's SPKI digest too.  HUSH_E_PERM for a removed node, HUSH_E_AUTH
 * otherwise.
 */
int	tls_peer_check(SSL *ssl, const struct tls_ident *id, struct peer_ident *peer,
	    char *why, size_t whylen);
/* A line for the log or the operator: OpenSSL's reason, or the verify error. */
void	tls_error_string(SSL *ssl, char *buf, size_t len);

/* bbuf.c: byte queues */
void	bbuf_init(struct bbuf *b, size_t max);
int	bbuf_append(struct bbuf *b, const void *p, size_t n);
/* Contiguous room at the tail, at most want bytes; 0 when full. */
size_t	bbuf_prepare(struct bbuf *b, size_t want, uint8_t **tail);
void	bbuf_commit(struct bbuf *b, size_t n);
void	bbuf_consume(struct bbuf *b, size_t n);
void	bbuf_free(struct bbuf *b);
#define bbuf_data(b)	((b)->p + (b)->off)

/* sock.c: the way in */
int	net_listen_open(const char *addr, int *fdp, char *why, size_t whylen);
void	conn_accept_all(int lfd);
/*
 * One line about one unauthenticated connection, at level lvl (log.h),
 * unless there have been too many lately: then admit.c counts it instead.
 */
#define unauth_log(lvl, ...) do {					\
		if (admit_log_ok(&N.adm, net_now()))			\
			log_msg((lvl), __func__, __VA_ARGS__);		\
	} while (0)
/* A new outbound connection, not started yet; NULL (and *err, why) if refused. */
struct conn *conn_connect(enum net_proto proto, const char *addr,
	    struct tls_ident *ident, int *err, char *why, size_t whylen);
/* Begin resolving and connecting; failures reach the protocol's close hook. */
void	conn_start(struct conn *c);
void	conn_check_connect(struct conn *c);
void	conn_resolvers(void);
bool	conn_resolving(void);
void	sock_tune(int fd);
void	sock_resolve_cancel(struct resolve *res);
void	sock_orphans_wait(void);

/* handshake.c */
void	conn_begin_tls(struct conn *c);
void	conn_handshake(struct conn *c);

/* conn.c: connections */
#define CONN_BLOCKED	0
#define CONN_EOF	(-1)
#define CONN_ERR	(-2)
struct conn *conn_alloc(void);
/* An accepted connection, counted by admission rather than NET_MAX_CONNS. */
struct conn *conn_alloc_inbound(void);
/* It authenticated: move it to NET_MAX_CONNS; false (and closed) if full. */
bool	conn_authenticated(struct conn *c);
struct conn *conn_find(uint64_t id);
/* Tear down both sides; the protocol's close hook reports code/why to whoever waits. */
void	conn_close(struct conn *c, int code, const char *why);
/* Close once everything queued has been written. */
void	conn_finish(struct conn *c);
/* Queue plaintext for the peer; closes c (and returns <0) when over its maximum. */
int	conn_queue(struct conn *c, const uint8_t *p, size_t len);
int	conn_queue_enc(struct conn *c, struct wire_enc *e);
/* Run c's I/O now, e.g. after queueing output outside the loop's poll. */
void	conn_kick(struct conn *c);
ssize_t	conn_tls_read(struct conn *c, void *buf, size_t len);
ssize_t	conn_tls_write(struct conn *c, const void *buf, size_t len);
void	conn_io(struct conn *c, short tcp_rev, short local_rev);
void	conn_events(const struct conn *c, short *tcp, short *local);
/* Decrypted input is waiting that no poll() event will announce. */
bool	conn_wants_kick(const struct conn *c);
uint64_t conn_timers(uint64_t now);
void	conn_reap(void);
void	conn_close_all(void);

/* relay.c: hush-raft/1 */
void	raft_connect(const struct wire_msg *m);
void	raft_established(struct conn *c);
void	raft_closed(struct conn *c, int code, const char *why);
void	relay_pump(struct conn *c);
void	relay_events(const struct conn *c, short *tcp, short *local);

/* dispatch.c: hush-dispatch/1 */
void	dsp_rpc(const struct wire_msg *m);
void	dsp_established(struct conn *c);
bool	dsp_can_take(const struct conn *c);
void	dsp_frame(struct conn *c, uint8_t *frame, size_t len);
void	dsp_closed(struct conn *c, int code, const char *why);
uint64_t dsp_timers(struct conn *c, uint64_t now);
void	dsp_parent_reply(const struct pcall *pc, int status, const struct wire_msg *m,
	    const char *detail);
/* Tell a removed node why, then close. */
void	dsp_refuse(struct conn *c, int code, const char *why);

/* join.c: hush-join/1 */
void	join_start(const struct wire_msg *m);
void	join_established(struct conn *c);
bool	join_can_take(const struct conn *c);
void	join_frame(struct conn *c, uint8_t *frame, size_t len);
void	join_closed(struct conn *c, int code, const char *why);
void	join_parent_reply(const struct pcall *pc, int status, const struct wire_msg *m,
	    const char *detail);

/* extca.c: NET_EXTCA_SIGN, HTTPS to an external CA (not a peer connection) */
struct pollfd;
void	extca_sign(const struct wire_msg *m);
/* Its sockets for poll() (at most max), and their events after it. */
int	extca_pollfds(struct pollfd *pfd, int max);
void	extca_io(const struct pollfd *pfd, int n);
/* Lookups that finished, deadlines; the next deadline (ms) or 0. */
uint64_t extca_timers(uint64_t now);
bool	extca_resolving(void);
void	extca_close_all(void);

#endif
