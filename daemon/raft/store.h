/*
 * The replicated state: the cluster record, the secrets, and the outcome of
 * recent commands by request id.  Only the raft process holds it.  Every
 * change comes from store_apply() in log order, so every manager computes
 * exactly the same state; anything random or time-dependent (ids, keys,
 * timestamps) is chosen by the proposer and carried in the command.
 *
 * Secret values are kept sealed under a key that exists only in this
 * process's memory, and opened only to answer the parent or to write a
 * (DEK-sealed) snapshot.
 */
#ifndef HUSH_STORE_H
#define HUSH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "id.h"
#include "msg.h"
#include "secbuf.h"
#include "store_index.h"
#include "store_order.h"
#include "wire.h"

#define STORE_DEDUP_MAX 4096
/*
 * Version 2 added services (SNAP_SERVICE) and node labels; a version 1
 * snapshot has neither and still restores.  Version 3 carries values
 * sealed under the memory key (T_SEALED; store_use_key()) instead of in
 * clear (T_DATA), which older versions still do.
 */
#define STORE_SNAP_VERSION HUSH_SNAP_VERSION
#define STORE_SNAP_VERSION_MIN HUSH_SNAP_VERSION_MIN
/* Bounds that keep every record within the codec's limits. */
#define STORE_RM_MAX 250		/* secrets per removal (fields per outcome) */
#define STORE_LABELS_MAX 4096		/* label bytes per secret or node (record size) */
#define STORE_NODE_LABELS_MAX 64	/* labels per node (fields per record) */

struct store_secret {
	char		 id[HUSH_ID_LEN + 1];
	char		 name[65];
	int64_t		 created, updated;
	uint32_t	 version;
	char		**labels;	/* "key=value" */
	size_t		 nlabels;
	uint8_t		*sealed;	/* value, sealed under the memory key */
	size_t		 sealed_len;
	size_t		 data_len;
};

/*
 * A CA rotation under way (store_ca.c; enum ca_phase in lib/msg.h says
 * what each phase waits for).  phase CA_PHASE_NONE: none, and the rest
 * is empty.
 */
struct store_rotation {
	uint8_t		 phase;
	uint8_t		 digest[32];	/* SPKI digest of the next root: the rotation's name */
	char		*next_cert;
	struct secbuf	 next_key;	/* empty: an external CA holds it */
	char		*cross_cert;	/* NULL: the current root's key was not held */
	char		*next_extca_url;	/* NULL unless an external CA holds it */
	char		*next_extca_cacert;
	int64_t		 started;
};

struct store_cluster {
	bool		 present;
	char		 id[HUSH_ID_LEN + 1];
	char		*ca_cert;
	struct secbuf	 ca_key;	/* empty: an external CA holds it */
	char		*extca_url;	/* that CA (T_EXTCA_URL), or NULL */
	char		*extca_cacert;	/* PEM its TLS chains to, or NULL */
	struct secbuf	 tokens;	/* worker secret || manager secret */
	uint64_t	 cert_expiry;
	bool		 autolock;
	struct secbuf	 kek;		/* empty unless autolock */
	char		 advertise[263];
	int64_t		 created;
	struct store_rotation rotation;
};

/* A node of the cluster.  A removed node stays, marked, so its certificate
 * can be refused for as long as it is valid. */
struct store_node {
	char		 id[HUSH_ID_LEN + 1];
	uint8_t		 role;		/* enum node_role */
	char		 addr[263];
	char		 availability[17];
	int64_t		 created;
	bool		 removed;
	char		**labels;	/* "key=value", for placement constraints */
	size_t		 nlabels;
	/*
	 * The node parent's sealing key (daemon/parent/seal_key.c): what the
	 * node's assignments, and a manager's keys, are sealed to.  A node
	 * that joined with a hush before sealing keys has none.
	 */
	bool		 has_seal;
	uint8_t		 seal_pub[32];
};

/* One secret granted to a service, as a file in its containers. */
struct store_grant {
	char		 secret_id[HUSH_ID_LEN + 1];
	char		 target[HUSH_TARGET_MAX + 1];	/* relative to /run/secrets, or absolute */
	uint32_t	 uid, gid, mode;
};

/*
 * A service: a named grant of secrets, placed by its constraints.  Grants
 * name secrets by id, so renaming nothing can redirect them; a secret in
 * use by a service cannot be removed.
 */
struct store_service {
	char		 id[HUSH_ID_LEN + 1];
	char		 name[65];
	int64_t		 created, updated;
	uint64_t	 version;	/* 1 at creation, +1 per update */
	struct store_grant *grants;
	size_t		 ngrants;
	char		**constraints;	/* canonical text */
	size_t		 nconstraints;
	/*
	 * The digest of the service's claim (lib/claim.h), which a container
	 * must present to get its secrets; the claim itself is never stored.
	 * No claim yet: no container gets them.
	 */
	bool		 has_claim;
	uint8_t		 claim_digest[32];
	int64_t		 claim_issued;
};

/* What a command did, remembered so a retried request gets the same answer. */
struct store_outcome {
	uint8_t		 req_id[16];
	char		 key[33];	/* req_id in hex: its key in dedup_index */
	int		 code;
	char		*errmsg;
	char		*ids;		/* secret ids, space separated */
};

struct store {
	struct store_cluster	 cluster;
	struct store_secret	*secrets;
	size_t			 nsecrets, capsecrets;
	struct store_node	*nodes;
	size_t			 nnodes, capnodes;
	struct store_service	*services;
	size_t			 nservices, capservices;
	struct store_outcome	*dedup;		/* a ring of STORE_DEDUP_MAX */
	size_t			 dedup_next, dedup_count;
	/* Lookups that every write makes (store_index.h). */
	struct store_index	 secret_ids, secret_names, dedup_index;
	struct store_order	 secret_order;	/* by id, for lists */
	uint8_t			*memkey;	/* 32 bytes, sodium guarded memory */
};

int	store_init(struct store *s);
/*
 * The memory key values are sealed under, derived from the DEK, so that
 * every manager's is the same and a snapshot carries values as they are
 * held.  Until it is called (or in tests that do not) the key is random.
 */
void	store_use_key(struct store *s, const uint8_t dek[32]);
void	store_free(struct store *s);
/* Empties the store (before a snapshot restore). */
void	store_reset(struct store *s);

/*
 * Apply one decoded, schema-valid command.  Never fails for a reason the
 * command itself caused: those outcomes are recorded against its request id.
 * *cluster_changed tells the caller to report the new cluster settings.
 * Returns <0 only when this process cannot continue (out of memory).
 */
#define STORE_CHG_CLUSTER	0x1	/* autolock, KEK, expiry, tokens, CA */
#define STORE_CHG_NODES		0x2	/* membership or roles */
#define STORE_CHG_ASSIGN	0x4	/* what some node must hold may have changed */
int	store_apply(struct store *s, const struct wire_msg *cmd, unsigned *changed);
const struct store_outcome *store_outcome(const struct store *s, const uint8_t req_id[16]);
/* An outcome's ids (space separated; NULL for none) as one tag field each. */
void	store_put_ids(struct wire_enc *e, uint16_t tag, const char *ids);

/* Answer a query; the reply (type = query | MSG_REPLY or MSG_ERROR) goes to e. */
int	store_query(struct store *s, const struct wire_msg *q, struct wire_enc *e);

/* Serialize everything (plaintext, caller seals and wipes) / rebuild. */
int	store_snapshot(struct store *s, uint8_t **buf, size_t *len);
/*
 * The same in a buffer (malloc) with head spare bytes before the *len
 * bytes of plaintext and at least tail after them: room to seal it in
 * place (fsm.c), instead of a second buffer as large.
 */
int	store_snapshot_room(struct store *s, size_t head, size_t tail, uint8_t **buf,
	    size_t *len);
int	store_restore(struct store *s, const uint8_t *buf, size_t len);

/* store_nodes.c */
int	store_node_add(struct store *s, const char *id, uint8_t role, const char *addr,
	    int64_t created, char *why, size_t whylen);
int	store_node_apply(struct store *s, const struct wire_msg *cmd, char *why, size_t whylen);
/* cmd's T_SEAL_PUB (if any) as n's sealing key. */
void	store_node_take_seal(struct store_node *n, const struct wire_msg *cmd);
void	store_node_put(struct wire_enc *e, uint16_t tag, const struct store_node *n,
	    uint16_t rec_type);
struct store_node *store_node_find(struct store *s, const char *ref);
int	store_node_restore(struct store *s, const struct wire_msg *m);
/* CMD_FORCE_NEW_CLUSTER; the ids of the managers removed go into ids. */
int	store_node_force_new(struct store *s, const struct wire_msg *m, char *ids,
	    size_t idslen, char *why, size_t whylen);
size_t	store_node_managers(const struct store *s);

void	store_nodes_free(struct store *s);

/*
 * store_ca.c: a CA rotation (CMD_CA_ROTATE, CMD_CA_ADVANCE), and its
 * fields in the cluster record as snapshots and QRY_CLUSTER carry it.
 */
int	store_ca_apply(struct store *s, const struct wire_msg *cmd, char *why, size_t whylen);
void	store_ca_put(struct wire_enc *e, const struct store_rotation *r);
int	store_ca_restore(struct store_rotation *r, const struct wire_msg *m);
void	store_ca_free(struct store_rotation *r);

/* The seal purpose of secret values under the store's memory key. */
#define SECRET_PURPOSE "hush/secret-value"

/* store_assign.c: QRY_ASSIGNMENTS, what one node must hold. */
int	store_assignments(struct store *s, const struct wire_msg *q, struct wire_enc *e);

/* store.c: a secret by id, else by name. */
struct store_secret *store_secret_find(struct store *s, const char *ref);
/* A secret's public metadata: a REC_SECRET nested under T_SECRET of e. */
void	store_secret_put(struct wire_enc *e, const struct store_secret *x);

/*
 * store_page.c: QRY_{SECRET,NODE,SERVICE}_{LIST,GET}, answered a page at
 * a time (msg.h, HUSH_PAGE_BYTES); e gets the reply or an error reply.
 */
int	store_page(struct store *s, const struct wire_msg *q, struct wire_enc *e);

/* store_services.c */
int	store_service_apply(struct store *s, const struct wire_msg *cmd, char *ids, size_t idslen,
	    char *why, size_t whylen);
struct store_service *store_service_find(struct store *s, const char *ref);
/* REC_SERVICE nested under tag (secret names resolved now), or SNAP_SERVICE fields (tag 0). */
void	store_service_put(struct store *s, struct wire_enc *e, uint16_t tag,
	    const struct store_service *x);
int	store_service_restore(struct store *s, const struct wire_msg *m);
void	store_services_free(struct store *s);
/*
 * The names of the services granting secret_id, sorted, ", " separated, into
 * out; returns how many there are.
 */
size_t	store_secret_users(struct store *s, const char *secret_id, char *out, size_t outlen);

/*
 * store_digest.c: a keyed digest of the whole replicated state (cluster,
 * nodes, secrets with their values, services; not the outcomes of recent
 * requests), the same on every manager at the same applied index whatever
 * order the records were inserted in.  Keyed by a subkey of dek, so that
 * showing it reveals nothing about the values.  O(n): on request only.
 */
#define STORE_DIGEST_BYTES 32
struct store_digest {
	uint8_t		 hash[STORE_DIGEST_BYTES];
	size_t		 nsecrets, nservices, nnodes;
};
int	store_digest(const struct store *s, const uint8_t dek[32], struct store_digest *out);
/* The digest's fields (T_STORE_*) into a status answer; none if it failed. */
void	store_digest_put(const struct store *s, const uint8_t dek[32], struct wire_enc *e);

/* For the event the parent gets after a cluster change. */
void	store_cluster_event(const struct store *s, struct wire_enc *e);

#endif
