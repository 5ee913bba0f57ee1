/*
 * Assignments: which services are placed on this node and the values of
 * the secrets they grant, as the managers last said (assign_node.c); and,
 * on a manager, the nodes' requests for theirs (assign_serve.c).
 *
 * A node holds one request to a manager at a time (DSP_ASSIGNMENTS over
 * hush-dispatch/1, or its own store on a manager).  It says what it holds
 * — the digest of its last complete assignment, and id:version of each
 * value — and the manager answers at once when that differs from the
 * store, or holds the request until the store changes or ASSIGN_HOLD_SECS
 * pass.  So a node gets the complete set first, then each change, with
 * only the values it lacks; and it moves to another manager on failure.
 * Values live only in guarded memory (secbuf) and only while a service
 * placed here grants them.
 */
#ifndef HUSH_ASSIGN_H
#define HUSH_ASSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "id.h"
#include "msg.h"
#include "secbuf.h"

/* Under the net process's 10 s limit for one request. */
#define ASSIGN_HOLD_SECS	7

struct assigned_grant {
	char		 secret_id[HUSH_ID_LEN + 1];
	char		 secret_name[65];
	char		 target[HUSH_TARGET_MAX + 1];
	uint32_t	 uid, gid, mode;
};

struct assigned_service {
	char			 id[HUSH_ID_LEN + 1];
	char			 name[65];
	uint64_t		 version;
	struct assigned_grant	*grants;
	size_t			 ngrants;
	/* what a container must prove (lib/claim.h); none issued: nobody can */
	bool			 has_claim;
	uint8_t			 claim_digest[32];
	uint8_t			*raw;		/* the REC_SERVICE record, for hushctl */
	size_t			 rawlen;
};

struct assigned_value {
	char		 secret_id[HUSH_ID_LEN + 1];
	uint32_t	 version;
	struct secbuf	 data;
};

struct held_request;

struct assignments {
	struct assigned_service	*svc;
	size_t			 nsvc;
	struct assigned_value	*val;
	size_t			 nval;
	uint8_t			 digest[32];
	bool			 complete;	/* digest describes what we hold */
	bool			 inflight;
	bool			 again;		/* ask again as soon as possible */
	size_t			 rotor;		/* which manager we ask */
	int64_t			 retry_at;	/* monotonic seconds */
	uint64_t		 generation;	/* bumped on every change we apply */
	/* manager side: requests waiting for the store to change */
	struct held_request	*held;
};

#endif
