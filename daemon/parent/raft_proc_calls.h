/*
 * The parent's calls to the raft process about itself -- start, demote
 * a manager -- and its answers to the raft process's own requests, one
 * typed function each, as in pki_calls.h.  (The store's commands and
 * queries go through store_calls.h; raft_status() is in parent.h.)
 * Nothing else in the parent builds a RAFTP_* message.
 *
 * A wrapper that takes a cb returns 0 once the request is on its way,
 * or a negative hush_err when nothing was sent (cb will not run); cb
 * then runs as op_done_cb (parent.h) with reply NULL.
 *
 * The wrappers are raft_proc_*, never plain raft_start() and the like:
 * libraft exports those names, and the raft process, linked into the
 * same binary, would call ours instead of the library's.
 */
#ifndef HUSH_PARENT_RAFT_PROC_CALLS_H
#define HUSH_PARENT_RAFT_PROC_CALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "parent.h"
#include "secbuf.h"

/* RAFTP_START: open this manager's store. */
struct raft_proc_start_req {
	const struct secbuf	*dek;		/* the data key the log is sealed with */
	const char		*node_id;
	const char		*advertise;	/* the raft address peers reach */
	bool			 bootstrap;	/* a new cluster: this node alone */
	uint32_t		 snap_threshold;
	uint32_t		 snap_trailing;
	const char		*set_aside;	/* move the raft files here first; NULL: no */
	/* force-new-cluster: become the only voter, then commit first_cmd */
	bool			 force_new;
	const uint8_t		*first_cmd;
	size_t			 first_cmd_len;
};

__attribute__((warn_unused_result))
int	raft_proc_start(struct op *op, const struct raft_proc_start_req *req, op_done_cb cb);

/* RAFTP_DEMOTE (to the leader's raft): node_id stops voting, a spare. */
__attribute__((warn_unused_result))
int	raft_proc_demote(struct op *op, const char *node_id, op_done_cb cb);

/*
 * RAFTP_BACKUP: write a sealed backup of this replica, once it has applied
 * min_index, into fd (a new, empty file; the caller keeps its own fd).
 * hdr is the file's clear header (its kind, limits and salt), key what
 * it is sealed under.  out gets what the file holds.
 */
struct backup_summary {
	char		 cluster_id[HUSH_ID_LEN + 1];
	char		 node_id[HUSH_ID_LEN + 1];
	int64_t		 created;
	uint64_t	 index, secrets, services, nodes, bytes;
	bool		 autolock, force;
};
__attribute__((warn_unused_result))
int	raft_proc_backup(struct op *op, int fd, const uint8_t hdr[60], const uint8_t key[32],
	    uint64_t min_index, bool force, struct backup_summary *out, op_done_cb cb);

/* The answer to the raft process's RAFTP_CONNECT request req_id: the stream fd. */
void	raft_connect_answer(struct parent *p, uint32_t req_id, int fd);

/* RAFTP_INBOUND: a verified manager's stream (fd), from peer at addr. */
void	raft_inbound(struct parent *p, const char *peer, const char *addr, int fd);

/*
 * What this manager's raft answered a peer's forwarded command or query,
 * re-encoded whole into f (initialized here; the caller frees it) for
 * sealing back to that peer, whose raft_calls.c opens it: reply is the
 * RAFTP_PROPOSE answer, or the parsed QRY_* answer, which goes inside a
 * RAFTP_QUERY answer.  The query's returns 0, or the hush_err of an
 * answer too big to encode.
 */
void	raft_propose_answer_encode(struct wire_enc *f, const struct wire_msg *reply);
int	raft_query_answer_encode(struct wire_enc *f, const struct wire_msg *reply);

#endif
