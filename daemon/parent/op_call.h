/*
 * How the parent's typed wrappers (pki_calls.c, mounter_calls.c,
 * net_calls.c, store_calls.c, raft_proc_calls.c) send a request to a
 * child and hand its answer to an op's next step.  Only those files use
 * this: everything else in the parent calls a wrapper, never child_call()
 * with a hand-built request.
 *
 * The privsep layer's call_cb (daemon/privsep/child.h) stays the
 * mechanism underneath; op_call() turns it into the parent's one
 * completion shape, op_done_cb (parent.h).
 */
#ifndef HUSH_PARENT_OP_CALL_H
#define HUSH_PARENT_OP_CALL_H

#include <stddef.h>

#include "parent.h"

/*
 * A wrapper's decoder: the child's answer (already checked against its
 * schema) into the caller's typed result out; a negative hush_err, with
 * why, for an answer the wrapper cannot use.
 */
typedef int (*op_call_decode)(struct op *op, const struct wire_msg *reply, void *out,
    char *why, size_t whylen);

/*
 * Send req (with fd, or -1) to child c; when the answer comes, decode it
 * into out (decode may be NULL for an answer that carries nothing) and
 * run cb(op, status, NULL, detail).  On failure nothing was sent and cb
 * will not run.  out must live until cb has run: the op's ctx is the
 * place for it.
 */
__attribute__((warn_unused_result))
int	op_call(struct child *c, struct wire_enc *req, int fd, struct op *op,
	    op_call_decode decode, void *out, op_done_cb cb);

/*
 * For the one answer that brings a descriptor (NET_CONNECT's stream): the
 * decoder also gets the fd the child sent (-1 if none) and owns it from
 * then on, even when it fails.  op_call() itself closes any fd an answer
 * brings, so a child cannot leak one into a wrapper that expects none;
 * and when the call failed, this fd is closed before cb runs.
 */
typedef int (*op_call_decode_fd)(struct op *op, const struct wire_msg *reply, int fd,
    void *out, char *why, size_t whylen);

__attribute__((warn_unused_result))
int	op_call_fd(struct child *c, struct wire_enc *req, int fd, struct op *op,
	    op_call_decode_fd decode, void *out, op_done_cb cb);

/* How store_calls.c reaches the store (raft_calls.c). */
enum raft_way {
	RAFT_PROPOSE,		/* a command, through the leader */
	RAFT_QUERY,		/* a query, answered by the leader */
	RAFT_QUERY_HERE,	/* a query this replica answers, even as a follower */
};

/*
 * op_call() for the store: e (a CMD_* or QRY_* message) to the raft
 * process, or through it to the leader; the answer, checked against its
 * schema, is decoded into out (decode NULL: cb gets the reply itself)
 * and cb runs.  On failure nothing was sent and cb will not run.
 */
__attribute__((warn_unused_result))
int	raft_call(struct op *op, struct wire_enc *e, enum raft_way way, op_call_decode decode,
	    void *out, op_done_cb cb);

#endif
