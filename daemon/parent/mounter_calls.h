/*
 * The parent's calls to the mounter, one wrapper per request, as in
 * pki_calls.h: typed arguments in, the answer decoded into a typed result
 * the caller owns, then the op's next step (op_done_cb) with reply NULL.
 * Nothing else in the parent touches an MNTR_* message's fields.
 *
 * To add a request to a child: declare its message in lib/msg.h, answer
 * it in the child's folder, and write one wrapper here (or in
 * pki_calls.h / net_calls.h for those children).
 *
 * A wrapper returns 0 once the request is on its way; otherwise nothing
 * was sent, cb will not run, and why (where there is one) says what was
 * wrong.  A result must live until cb has run: keep it in the op's ctx.
 */
#ifndef HUSH_PARENT_MOUNTER_CALLS_H
#define HUSH_PARENT_MOUNTER_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "containers.h"

/* MNTR_ATTACH's result: what the parent keeps to adopt the view later. */
struct mounter_view {
	uint32_t	 count;		/* files it holds */
	uint64_t	 view_id;	/* unique mount id of the view */
	uint64_t	 start;		/* the process's start time */
};

/*
 * MNTR_LIST's result: one page of the mounter's table.  The pointers are
 * into the answer: valid while cb runs, not after.
 */
struct mounter_list {
	const uint8_t	*records;	/* a record list of T_MOUNT REC_MOUNTs */
	size_t		 len;
	const uint8_t	*cursor;	/* where the next page starts, or NULL */
	size_t		 cursorlen;
	/* The mounter answered with a malformed record and was restarted. */
	bool		 misbehaved;
};

/*
 * A new /run/secrets in container c (its id, pid, root and pidfd) with
 * the files svc gives it.  Fails before sending, saying why, when that
 * set cannot be built or does not fit in one message.
 */
__attribute__((warn_unused_result))
int	mounter_attach(struct op *op, const struct container *c,
	    const struct assigned_service *svc, struct mounter_view *out, op_done_cb cb,
	    char *why, size_t whylen);

/*
 * Take back c's view (c->view_id, c->start), which a mounter that is gone
 * made, and give it the files *svc gives it now (*svc NULL: none).  A set
 * that cannot be built is logged and sent empty, with *svc set to NULL:
 * a container loses its files rather than keep ones it may no longer
 * hold.  count: how many files it holds then.
 */
__attribute__((warn_unused_result))
int	mounter_adopt(struct op *op, const struct container *c,
	    const struct assigned_service **svc, uint32_t *count, op_done_cb cb);

/* Replace c's files with the set svc gives it now (svc NULL: none). */
__attribute__((warn_unused_result))
int	mounter_publish(struct op *op, const struct container *c,
	    const struct assigned_service *svc, op_done_cb cb, char *why, size_t whylen);

/* Forget container id and let go of its view; HUSH_E_NOTFOUND if unknown. */
__attribute__((warn_unused_result))
int	mounter_detach(struct op *op, const char *id, op_done_cb cb);

/*
 * A page of what the mounter holds, after cursor (NULL: from the start).
 * A malformed record restarts the mounter: cb gets HUSH_E_UNAVAIL and
 * out->misbehaved.
 */
__attribute__((warn_unused_result))
int	mounter_list(struct op *op, const char *cursor, struct mounter_list *out,
	    op_done_cb cb);

#endif
