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
#include "secbuf.h"
#include "wire.h"

#define STORE_DEDUP_MAX 4096
#define STORE_SNAP_VERSION 1

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

struct store_cluster {
	bool		 present;
	char		 id[HUSH_ID_LEN + 1];
	char		*ca_cert;
	struct secbuf	 ca_key;
	struct secbuf	 tokens;	/* worker secret || manager secret */
	uint64_t	 cert_expiry;
	bool		 autolock;
	struct secbuf	 kek;		/* empty unless autolock */
	char		 advertise[263];
	int64_t		 created;
};

/* What a command did, remembered so a retried request gets the same answer. */
struct store_outcome {
	uint8_t		 req_id[16];
	int		 code;
	char		*errmsg;
	char		*ids;		/* secret ids, space separated */
};

struct store {
	struct store_cluster	 cluster;
	struct store_secret	*secrets;
	size_t			 nsecrets, capsecrets;
	struct store_outcome	 dedup[STORE_DEDUP_MAX];
	size_t			 dedup_next, dedup_count;
	uint8_t			*memkey;	/* 32 bytes, sodium guarded memory */
};

int	store_init(struct store *s);
void	store_free(struct store *s);
/* Empties the store (before a snapshot restore). */
void	store_reset(struct store *s);

/*
 * Apply one decoded, schema-valid command.  Never fails for a reason the
 * command itself caused: those outcomes are recorded against its request id.
 * *cluster_changed tells the caller to report the new cluster settings.
 * Returns <0 only when this process cannot continue (out of memory).
 */
int	store_apply(struct store *s, const struct wire_msg *cmd, bool *cluster_changed);
const struct store_outcome *store_outcome(const struct store *s, const uint8_t req_id[16]);

/* Answer a query; the reply (type = query | MSG_REPLY or MSG_ERROR) goes to e. */
int	store_query(struct store *s, const struct wire_msg *q, struct wire_enc *e);

/* Serialize everything (plaintext, caller seals and wipes) / rebuild. */
int	store_snapshot(struct store *s, uint8_t **buf, size_t *len);
int	store_restore(struct store *s, const uint8_t *buf, size_t len);

/* For the event the parent gets after a cluster change. */
void	store_cluster_event(const struct store *s, struct wire_enc *e);

#endif
