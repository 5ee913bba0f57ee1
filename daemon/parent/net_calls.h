/*
 * The parent's calls to the net process, one wrapper each, as in
 * pki_calls.h: each builds its NET_* request from typed arguments and
 * decodes the answer into a typed result, then runs the op's next step
 * (op_done_cb, parent.h) with reply NULL.  (cluster_rpc() is NET_RPC's
 * wrapper, in cluster.c; the answers to net's own requests are built
 * where they are served.)
 *
 * Every wrapper that takes a cb returns 0 once the request is on its
 * way, or a negative hush_err when nothing was sent (cb will not run).
 * A result must live until cb has run: keep it in the op's ctx.
 *
 * To add a request to a child: declare its message in lib/msg.h, answer
 * it in the child's folder, and write one wrapper here (or in
 * pki_calls.h / mounter_calls.h for those children).
 */
#ifndef HUSH_PARENT_NET_CALLS_H
#define HUSH_PARENT_NET_CALLS_H

#include <stddef.h>
#include <stdint.h>

#include "parent.h"
#include "secbuf.h"

/* NET_START: this node's identity, for net to listen and dial with. */
struct net_start_req {
	const char		*node_id;
	const char		*cluster_id;
	int			 role;		/* ROLE_MANAGER or ROLE_WORKER */
	const char		*cert;		/* PEM */
	const struct secbuf	*key;		/* the node key, PKCS#8 DER */
	const char		*ca;		/* PEM: the trust bundle, 1 or more roots */
	const char		*listen;	/* host:port */
	const char		*chain;		/* PEM presented after cert; NULL: none */
};

__attribute__((warn_unused_result))
int	net_start(struct op *op, const struct net_start_req *req, op_done_cb cb);

/*
 * NET_CONNECT: an mTLS stream to the manager at addr, speaking alpn.  On
 * success out->fd is the stream (the caller owns it), or -1 when net
 * answered without one.
 */
struct net_stream {
	int	 fd;
};

__attribute__((warn_unused_result))
int	net_connect(struct op *op, const char *addr, const char *alpn, struct net_stream *out,
	    op_done_cb cb);

/* NET_JOIN: what a joining node asks the manager at addr, through net. */
struct net_join_req {
	const char	*addr;			/* the manager's, normalized */
	const uint8_t	*digest;		/* the token's CA digest */
	size_t		 digestlen;
	const uint8_t	*csr;			/* DER */
	size_t		 csrlen;
	const uint8_t	*seal_pub;		/* SEAL_PUB_BYTES */
	const uint8_t	*proof;			/* the token's HMAC over the rest */
	size_t		 prooflen;
	const char	*advertise;		/* this node's, normalized */
};

/* The manager's answer to a join: not yet checked beyond its shape. */
struct net_join_result {
	char		 node_id[HUSH_ID_LEN + 1];
	char		 cluster_id[HUSH_ID_LEN + 1];
	uint8_t		 role;
	int64_t		 cert_not_after;
	char		*cert;			/* PEM, malloc'd */
	char		*ca;			/* PEM, malloc'd: the trust bundle */
	char		*chain;			/* PEM to present after cert, malloc'd; NULL: none */
	/* The cluster's DEK and KEK sealed to this node's sealing key;
	 * NULL when the manager sent none (a worker; no autolock). */
	uint8_t		*dek_sealed, *kek_sealed;
	size_t		 dek_sealed_len, kek_sealed_len;
	size_t		 nmanagers, nmanager_ids;
	char		 managers[MAX_PEERS][263];
	char		 manager_ids[MAX_PEERS][HUSH_ID_LEN + 1];
};
/* Frees what a net_join_result holds (an empty one too). */
void	net_join_result_clear(struct net_join_result *res);

/*
 * The answer to net's NET_JOIN_SERVE, request req_id: what this manager
 * grants a node that joined.  The keys come sealed to its sealing key
 * (NULL: none -- a worker, or no autolock for the KEK).
 */
struct net_join_grant {
	const char	*node_id;
	const char	*cluster_id;
	const char	*cert;			/* PEM */
	const char	*chain;			/* PEM presented after cert; NULL: none */
	uint8_t		 role;
	int64_t		 cert_not_after;
	size_t		 nmanagers;		/* managers' addresses and ids, paired */
	const char	*managers[MAX_PEERS];
	const char	*manager_ids[MAX_PEERS];
	const uint8_t	*dek_sealed, *kek_sealed;
	size_t		 dek_sealed_len, kek_sealed_len;
};

void	net_join_serve_answer(struct parent *p, uint32_t req_id,
	    const struct net_join_grant *g);

/* The answer to net's NET_PEER_REQUEST req_id: frame, the DSP_* answer for the peer. */
void	net_peer_answer(struct parent *p, uint32_t req_id, const uint8_t *frame, size_t len);

/*
 * The join, run by net; "the manager's answer is incomplete"
 * (HUSH_E_PROTO) when it lacks a field every join brings.
 */
__attribute__((warn_unused_result))
int	net_join(struct op *op, const struct net_join_req *req, struct net_join_result *out,
	    op_done_cb cb);

/*
 * What changed in this node's network identity: a renewed certificate
 * and its key (cert NULL: unchanged), and always the nodes removed from
 * the cluster (p->removed), whose certificates net must refuse.  Nothing
 * waits for the answer; a refusal is logged.  0 once it is on its way.
 */
__attribute__((warn_unused_result))
int	net_reload(struct parent *p, const char *cert, const struct secbuf *key);

/*
 * net_reload() with all of it: cert and key as there (cert NULL:
 * unchanged), the chain to present after cert (only with cert; NULL:
 * none), and a new trust bundle (ca NULL: unchanged).  After a new bundle
 * net closes the connections of peers that no longer verify against it.
 */
struct net_reload_req {
	const char		*cert;
	const struct secbuf	*key;
	const char		*chain;
	const char		*ca;
};

__attribute__((warn_unused_result))
int	net_reload_full(struct parent *p, const struct net_reload_req *req);

/*
 * NET_EXTCA_SIGN: the external CA at url signs csr for this subject, over
 * TLS that must verify against cacert (PEM; the cluster's root when the
 * operator gave no other).  The answer is only shaped: node_sign.c checks
 * it before anything uses it.
 */
struct net_extca_req {
	const char	*url;
	const char	*cacert;
	const uint8_t	*csr;			/* DER */
	size_t		 csrlen;
	const char	*cn, *ou, *o;
};
struct net_extca_result {
	char		*cert;			/* PEM, the leaf; malloc'd */
	char		*chain;			/* PEM, what the CA sent after it, or NULL */
};
void	net_extca_result_clear(struct net_extca_result *res);

__attribute__((warn_unused_result))
int	net_extca_sign(struct op *op, const struct net_extca_req *req,
	    struct net_extca_result *out, op_done_cb cb);

#endif
