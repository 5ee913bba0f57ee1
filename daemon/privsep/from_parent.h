/*
 * How a child takes in what its parent sends, and what it does with a
 * message it cannot act on.  One policy for every child (pki, raft, net,
 * the mounter), written down and argued in from_parent.c:
 *
 *  - a message whose header is readable but which is malformed (a type
 *    the child does not take, fields that break the schema, a descriptor
 *    with a type that takes none, fields its handler finds wrong) is
 *    refused: logged once at error level naming its type, answered with
 *    MSG_ERROR HUSH_E_PROTO saying what was wrong, and nothing of it is
 *    acted on;
 *  - a message whose header is unreadable is logged and dropped;
 *  - either way the child goes on serving.
 */
#ifndef HUSH_FROM_PARENT_H
#define HUSH_FROM_PARENT_H

#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "wire.h"

/* One child's end of its channel, as the policy needs to know it. */
struct parent_link {
	const char	*child;		/* "raft", for the detail of an answer */
	size_t		 max_msg;	/* the channel's limit */
	const uint16_t	*allowed;	/* what the parent may send, 0-terminated */
	const uint16_t	*with_fd;	/* which of those may bring a descriptor
					 * (0-terminated; NULL: none) */
	/* Queues or sends a finished answer to the parent; frees e. */
	void		(*send)(struct wire_enc *e);
};

enum parent_msg {
	PARENT_MSG_OK,		/* m holds a valid message: act on it */
	PARENT_MSG_REFUSED,	/* refused (and answered, if it can be): drop it */
	/*
	 * A malformed answer to the child's own call m->hdr.request_id
	 * (why says what was wrong): the child fails that call with
	 * HUSH_E_INTERNAL, as if the parent had answered so; internal, as
	 * the fault is this node's, not that of a peer whose request the
	 * call may carry.  Already logged.
	 */
	PARENT_MSG_BAD_ANSWER,
};

/*
 * Checks one whole message from the parent (as chan_recv() gave it)
 * against l and parses it into m.  Whatever it returns, m->hdr is the
 * message's header when that was readable (else zero).
 */
enum parent_msg parent_msg_take(const struct parent_link *l, const struct chan_msg *cm,
    struct wire_msg *m, char *why, size_t whylen);
/*
 * A request that parsed, but that its handler finds malformed (a field
 * it needs is missing, a nested message does not parse): refused under
 * the same policy.  The handler then acts on nothing of it.
 */
void	parent_msg_refuse(const struct parent_link *l, const struct wire_hdr *hdr,
	    const char *why);
/*
 * chan_recv() refused a message from the parent with r (framing, size,
 * descriptors; not HUSH_E_IO, the parent closing): its header is not
 * to be trusted, so it is logged and dropped.  chan_recv() has already
 * taken it off the socket.  The parent's chan_send() refuses what the
 * channel would, so only a broken parent gets here.  HUSH_E_NOMEM is no
 * fault of the message: that one is fatal.
 */
void	parent_msg_lost(const struct parent_link *l, const struct chan *ch, int r);

#endif
