/*
 * The parent's commands and queries to the replicated store, one wrapper
 * each, as in pki_calls.h: typed arguments in, the store's answer decoded
 * into a typed result the caller owns, then the op's next step
 * (op_done_cb) with reply NULL.  Nothing else in the parent builds a
 * CMD_* or QRY_* message or reads a field of the store's answer.
 * Underneath, raft_calls.c carries each one to the raft process, or
 * through it to the leader.
 *
 * To add a request to a child: declare its message in lib/msg.h, answer
 * it in the child's folder, and write one wrapper here (or in
 * pki_calls.h / mounter_calls.h / net_calls.h for those children).
 *
 * Where a client's request is only passed on (a service's grants, the
 * refs to inspect, a secret's data), the wrapper takes the request as
 * checked against its CTL_* schema and names the fields it copies: the
 * store checks them again when it applies the command, and decides.
 *
 * Every wrapper returns 0 once the request is on its way, or a negative
 * hush_err when nothing was sent (cb will not run).  A result must live
 * until cb has run: keep it in the op's ctx.
 */
#ifndef HUSH_PARENT_STORE_CALLS_H
#define HUSH_PARENT_STORE_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parent.h"
#include "secbuf.h"

/* Whose replica answers a query. */
enum store_view {
	STORE_LEADER,	/* the leader's: what was committed last (forwarded there) */
	STORE_HERE,	/* this manager's, which may lag the leader's a moment */
};

/*
 * QRY_CLUSTER's result: the cluster record.  It holds the cluster's
 * secrets (the CA key, the join tokens' secrets, the KEK):
 * cluster_record_clear() wipes them.
 */
struct cluster_record {
	char		 cluster_id[HUSH_ID_LEN + 1];
	char		*ca_cert;		/* PEM, NUL-terminated, malloc'd */
	size_t		 ca_certlen;
	struct secbuf	 ca_key;		/* PKCS#8 DER; empty: an external CA holds it */
	char		*extca_url;		/* that CA's, or NULL; malloc'd */
	char		*extca_cacert;		/* PEM its TLS must chain to, or NULL */
	uint8_t		 worker_secret[16];	/* the join tokens' secret halves */
	uint8_t		 manager_secret[16];
	uint64_t	 cert_expiry;		/* seconds */
	bool		 autolock;
	bool		 has_kek;
	uint8_t		 kek[32];
	char		 advertise[263];	/* the first manager's */
	int64_t		 created;
	/* a CA rotation under way (phase CA_PHASE_NONE: none, the rest empty) */
	uint8_t		 ca_phase;
	uint8_t		 next_digest[32];	/* SPKI digest of the next root */
	char		*next_cert;		/* PEM */
	struct secbuf	 next_key;		/* empty: external */
	char		*cross_cert;		/* PEM, or NULL */
	char		*next_extca_url;	/* the next root's external CA, or NULL */
	char		*next_extca_cacert;
};
void	cluster_record_clear(struct cluster_record *c);

/* CMD_CA_ROTATE's question: the root to move to (pki made or checked it). */
struct ca_rotate_cmd {
	const uint8_t		*req_id;
	const uint8_t		*digest;	/* 32 bytes: SPKI digest of next_cert */
	const char		*next_cert;
	const struct secbuf	*next_key;	/* NULL or empty: an external CA holds it */
	const char		*cross_cert;	/* NULL: none */
	const char		*extca_url;	/* NULL unless external */
	const char		*extca_cacert;
};
int	store_ca_rotate(struct op *op, const struct ca_rotate_cmd *c, op_done_cb cb);
/*
 * CMD_CA_ADVANCE: the rotation named by digest moves to phase; to
 * CA_PHASE_NONE with the join tokens' new secrets (16 bytes each).
 */
int	store_ca_advance(struct op *op, const uint8_t digest[32], uint8_t phase,
	    const uint8_t *worker_secret, const uint8_t *manager_secret, op_done_cb cb);

/* CMD_CLUSTER_INIT's question: the record of a new cluster. */
struct new_cluster {
	const uint8_t		*req_id;	/* HUSH_REQ_ID_LEN bytes */
	const char		*cluster_id;
	const char		*ca_cert;	/* PEM */
	const struct secbuf	*ca_key;	/* NULL: an external CA holds it */
	const char		*extca_url;	/* then its URL */
	const char		*extca_cacert;	/* and the PEM its TLS chains to, or NULL */
	const uint8_t		*worker_secret;	/* 16 bytes each */
	const uint8_t		*manager_secret;
	uint64_t		 cert_expiry;
	const struct secbuf	*kek;		/* NULL: autolock off */
	const char		*node_id;	/* the first manager */
	const char		*advertise;
	const uint8_t		*seal_pub;	/* SEAL_PUB_BYTES */
};

/* CMD_CLUSTER_UPDATE's question: what changes (the rest stays). */
struct store_cluster_change {
	const uint8_t		*req_id;	/* HUSH_REQ_ID_LEN bytes */
	bool			 set_autolock;
	bool			 autolock;
	const struct secbuf	*kek;		/* a new KEK, or NULL */
	bool			 set_expiry;
	uint64_t		 cert_expiry;
};

/* CMD_NODE_UPDATE's question: what changes in one node's entry. */
struct store_node_change {
	const uint8_t		*req_id;	/* HUSH_REQ_ID_LEN bytes */
	const char		*node_id;
	int			 role;		/* ROLE_*, or 0: unchanged */
	const uint8_t		*seal_pub;	/* a manager's first sealing key, or NULL */
	const struct wire_msg	*labels;	/* a CTL_NODE_UPDATE: its T_LABEL, T_LABEL_RM */
};

/*
 * What a command's outcome says: the ids it named (of secrets or of
 * services, whatever the command was about), and whether the store had
 * applied this request already (a retry).
 */
struct store_applied {
	char		(*ids)[HUSH_ID_LEN + 1];	/* malloc'd */
	size_t		 nids;
	bool		 duplicate;
	uint64_t	 index;		/* the leader had applied this far */
};
void	store_applied_clear(struct store_applied *o);
/* A new outcome as op's ctx, for an op that has none; NULL on ENOMEM. */
struct store_applied *store_applied_in(struct op *op);

/* One REC_NODE of a page of the node table. */
struct node_record {
	char			 id[HUSH_ID_LEN + 1];
	uint8_t			 role;
	char			 status[17];	/* "removed", or "" */
	const uint8_t		*seal_pub;	/* SEAL_PUB_BYTES, or NULL: none recorded */
	const struct wire_msg	*rec;		/* all its fields, to relay to a client */
};
/* Sees each node of a page as it is decoded; an error ends the page. */
typedef int (*node_record_fn)(void *arg, const struct node_record *n);

/*
 * A page of a list or inspect query (msg.h, HUSH_PAGE_BYTES): the
 * store's records, already bounded by it (the parent adds none), and
 * where the next page starts (T_CURSOR) or how many of the refs this
 * page answered (T_COUNT), which go back to the client as they came.
 * records points into the answer: valid while cb runs, not after.
 */
struct store_page {
	const uint8_t	*records;	/* the record list, every record checked */
	size_t		 len;
	bool		 has_cursor;	/* where the next page starts */
	char		 cursor[HUSH_CURSOR_MAX + 1];
	bool		 has_count;	/* how many refs this page answered */
	uint32_t	 count;
	/* the wrapper's: who sees each node of a node page */
	node_record_fn	 each;
	void		*arg;
};
/* A new page as op's ctx, for an op that has none; NULL on ENOMEM. */
struct store_page *store_page_in(struct op *op);
/* The page's records, cursor and count into a client's reply, as they came. */
void	store_page_put(struct wire_enc *e, const struct store_page *pg);
/* Only its cursor and count: for a reply that carries records of its own. */
void	store_page_put_marks(struct wire_enc *e, const struct store_page *pg);

/* ---- the cluster record ---- */

__attribute__((warn_unused_result))
int	store_cluster_read(struct op *op, enum store_view view, struct cluster_record *out,
	    op_done_cb cb);
__attribute__((warn_unused_result))
int	store_cluster_init(struct op *op, const struct new_cluster *c, op_done_cb cb);
__attribute__((warn_unused_result))
int	store_cluster_update(struct op *op, const struct store_cluster_change *c,
	    op_done_cb cb);
/* A new secret half for role's join token (ROLE_MANAGER or ROLE_WORKER). */
__attribute__((warn_unused_result))
int	store_token_rotate(struct op *op, const uint8_t *req_id, int role,
	    const uint8_t secret[16], op_done_cb cb);

/*
 * CMD_BACKUP_MARK: changes nothing; out->index, once the command has
 * applied, is an index every write acknowledged before it lies below.
 */
__attribute__((warn_unused_result))
int	store_backup_mark(struct op *op, const uint8_t *req_id, struct store_applied *out,
	    op_done_cb cb);
/*
 * CMD_STORE_LOAD: snapshot records (of snapshot version) from a backup,
 * the first of them into a store that holds no cluster yet (first).
 */
__attribute__((warn_unused_result))
int	store_load(struct op *op, const uint8_t *req_id, uint32_t version, bool first,
	    const uint8_t *records, size_t len, op_done_cb cb);
/*
 * CMD_FORCE_NEW_CLUSTER: node_id (with seal_pub if it is not in the table
 * yet: a restored node) the only manager.  store_force_new() proposes it;
 * store_force_new_encode() only encodes it into cmd (at most cap bytes),
 * for the forced start that commits it itself (ops_force_new.c).
 */
void	store_force_new_encode(struct wire_enc *cmd, size_t cap, const uint8_t *req_id,
	    const char *node_id, const char *advertise, const uint8_t *seal_pub);
__attribute__((warn_unused_result))
int	store_force_new(struct op *op, const uint8_t *req_id, const char *node_id,
	    const char *advertise, const uint8_t *seal_pub, struct store_applied *out,
	    op_done_cb cb);

/* ---- nodes ---- */

__attribute__((warn_unused_result))
int	store_node_join(struct op *op, const uint8_t *req_id, const char *node_id, int role,
	    const char *advertise, const uint8_t *seal_pub, op_done_cb cb);
__attribute__((warn_unused_result))
int	store_node_update(struct op *op, const struct store_node_change *c, op_done_cb cb);
__attribute__((warn_unused_result))
int	store_node_remove(struct op *op, const uint8_t *req_id, const char *node_id,
	    op_done_cb cb);
/*
 * A page of the node table after cursor (NULL: from the start); each(arg,
 * node) sees every node on it before cb runs.
 */
__attribute__((warn_unused_result))
int	store_node_list(struct op *op, enum store_view view, const char *cursor,
	    node_record_fn each, void *arg, struct store_page *out, op_done_cb cb);
/* The nodes refs[0..nrefs) name (ids or addresses), a page at a time. */
__attribute__((warn_unused_result))
int	store_node_get(struct op *op, enum store_view view, const char *const *refs,
	    size_t nrefs, const char *cursor, node_record_fn each, void *arg,
	    struct store_page *out, op_done_cb cb);

/* ---- secrets ---- */

/* req: a CTL_SECRET_CREATE; its T_REQ_ID, T_NAME, T_DATA, T_LABELs. */
__attribute__((warn_unused_result))
int	store_secret_create(struct op *op, const struct wire_msg *req, const char *id,
	    struct store_applied *out, op_done_cb cb);
/* req: a CTL_SECRET_UPDATE; its T_REQ_ID, T_REF, T_DATA. */
__attribute__((warn_unused_result))
int	store_secret_update(struct op *op, const struct wire_msg *req,
	    struct store_applied *out, op_done_cb cb);
/* req: a CTL_SECRET_RM; its T_REQ_ID, T_REFs. */
__attribute__((warn_unused_result))
int	store_secret_rm(struct op *op, const struct wire_msg *req, struct store_applied *out,
	    op_done_cb cb);
/*
 * A page of secrets (REC_SECRET, no values) after cursor (NULL: from the
 * start).  A malformed record restarts the raft process: cb then gets
 * HUSH_E_UNAVAIL.
 */
__attribute__((warn_unused_result))
int	store_secret_list(struct op *op, const char *cursor, struct store_page *out,
	    op_done_cb cb);
/* req: a CTL_SECRET_INSPECT; the secrets its T_REFs name, as above. */
__attribute__((warn_unused_result))
int	store_secret_get(struct op *op, const struct wire_msg *req, struct store_page *out,
	    op_done_cb cb);

/* ---- services ---- */

/* req: a CTL_SERVICE_CREATE; its T_REQ_ID, T_NAME, T_GRANTs, T_CONSTRAINTs. */
__attribute__((warn_unused_result))
int	store_service_create(struct op *op, const struct wire_msg *req, const char *id,
	    struct store_applied *out, op_done_cb cb);
/* req: a CTL_SERVICE_UPDATE; every change it carries (the claim's digest only). */
__attribute__((warn_unused_result))
int	store_service_update(struct op *op, const struct wire_msg *req,
	    struct store_applied *out, op_done_cb cb);
/* req: a CTL_SERVICE_RM; its T_REQ_ID, T_REFs. */
__attribute__((warn_unused_result))
int	store_service_rm(struct op *op, const struct wire_msg *req, struct store_applied *out,
	    op_done_cb cb);
/* A page of services (REC_SERVICE); a malformed one restarts the raft process. */
__attribute__((warn_unused_result))
int	store_service_list(struct op *op, const char *cursor, struct store_page *out,
	    op_done_cb cb);
/* req: a CTL_SERVICE_INSPECT; the services its T_REFs name, as above. */
__attribute__((warn_unused_result))
int	store_service_get(struct op *op, const struct wire_msg *req, struct store_page *out,
	    op_done_cb cb);

/* ---- assignments ---- */

/*
 * What the store places on node_id (QRY_ASSIGNMENTS), given what the node
 * holds: the digest of its last complete assignment (NULL: none) and
 * "id:version" of each value it has.  This answers from this replica.
 * The answer has the shape of a DSP_ASSIGNMENTS reply, which assign_node.c
 * decodes (it is the one decoder for both) and assign_serve.c relays to
 * the node as it came: so cb gets the reply itself, not a decoded result.
 */
__attribute__((warn_unused_result))
int	store_node_assignments(struct op *op, const char *node_id, const uint8_t *digest,
	    const char *const *have, size_t nhave, op_done_cb cb);

#endif
