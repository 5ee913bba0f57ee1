/*
 * What the sealed chunks of a backup file hold (lib/backup_file.h is the
 * container).  In order, one chunk each but the records:
 *
 *   BACKUP_MANIFEST   what the backup holds: cluster, where and when it
 *                     was taken, the raft index, the counts of records
 *   BACKUP_KEYS       the cluster's data key (DEK): the store's values
 *                     travel sealed under a key derived from it
 *   records           the store's snapshot (daemon/raft/store.c): a
 *                     SNAP_HEADER, then SNAP_* records, whole records only
 *                     in each chunk, in as many chunks as it takes
 *   BACKUP_END        the final chunk: how many records came before it
 *
 * Every chunk has been authenticated by the time it is fed here, so what
 * this checks is that it is a backup this hush can restore, and complete:
 * each message against its schema (lib/msg.c), the order, the counts the
 * manifest and BACKUP_END promise against the records that came.
 */
#ifndef HUSH_BACKUP_CONTENTS_H
#define HUSH_BACKUP_CONTENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup_file.h"
#include "id.h"
#include "secbuf.h"

/* The version of what the chunks hold (T_VERSION of BACKUP_MANIFEST). */
#define BACKUP_CONTENTS_VERSION	1
/* Records are written in chunks of about this much (whole records). */
#define BACKUP_RECORDS_CHUNK	(1024u * 1024)

struct backup_manifest {
	uint32_t	 version;
	char		 cluster_id[HUSH_ID_LEN + 1];
	char		 node_id[HUSH_ID_LEN + 1];	/* taken on */
	int64_t		 created;
	uint64_t	 index;
	uint64_t	 secrets, services, nodes;
	bool		 autolock;
	bool		 force;				/* taken without the leader */
};

enum backup_contents_phase {
	BC_MANIFEST, BC_KEYS, BC_RECORDS, BC_DONE,
};

struct backup_contents {
	enum backup_contents_phase phase;
	struct backup_manifest	 man;
	struct secbuf		 dek;		/* 32 bytes once BACKUP_KEYS came */
	uint32_t		 snap_version;	/* its SNAP_HEADER's */
	uint64_t		 nrecords, nsecrets, nservices, nnodes, nclusters;
	/* keep: every record, the snapshot whole (header first), for a restore */
	bool			 keep;
	uint8_t			*records;
	size_t			 len, cap;
};

/* keep: hold the records (a restore); else only count them (--verify). */
void	backup_contents_init(struct backup_contents *c, bool keep);
/*
 * The next chunk's plaintext; final as the container said.  0 or a
 * negative code with why naming the chunk and what is wrong in it; after
 * the final chunk, phase is BC_DONE and everything promised has come.
 */
int	backup_contents_feed(struct backup_contents *c, const uint8_t *chunk, size_t len,
	    bool final, char *why, size_t whylen) __attribute__((warn_unused_result));
/* Every chunk r has left, fed to c (r keyed already). */
int	backup_contents_read(struct backup_contents *c, struct backup_reader *r, char *why,
	    size_t whylen) __attribute__((warn_unused_result));
/* Wipes what it holds. */
void	backup_contents_free(struct backup_contents *c);

#endif
