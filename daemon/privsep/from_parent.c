/*
 * A child's policy for a malformed message from its parent (from_parent.h).
 *
 * Refuse the one message, answer it, keep serving; do not exit.  The
 * parent is the trusted side of the socketpair and its only writer, so a
 * message from it that does not parse is a bug in the parent, not an
 * attack: nothing is gained by treating it as one.  Exiting would turn
 * one bad request into a restart of the child, and with it every request
 * in flight failing; for raft an election as well, for the mounter a
 * table of mounts to win back.  An error answer confines the damage to
 * that one request, and the parent's child_call() gets a clear error
 * that names the fault, where a dead child leaves it only "unavailable".
 * Nothing of a refused message is acted on, so a half-understood request
 * never changes state.
 *
 * The other direction stays strict (child_reply(), STYLE.md "fail
 * closed"): a child may be compromised, so the parent kills one that
 * sends it anything malformed.
 *
 * Two kinds of message have no request to answer.  An answer from the
 * parent to a call of the child's own (a MSG_REPLY type, or MSG_ERROR):
 * answering it would be a reply to a request the parent never made,
 * which the parent rightly takes as a violation; the child instead fails
 * its own call, as if the parent had answered HUSH_E_INTERNAL.  And a notice
 * with request id 0 (RAFTP_INBOUND), for which the parent awaits nothing:
 * logged and dropped.
 */
#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "from_parent.h"
#include "log.h"
#include "msg.h"

/* "RAFTP_PROPOSE", or words for a type no schema names. */
static const char *
type_name(uint16_t type)
{
	return msg_spec(type) != NULL ? msg_type_name(type) : "message of no known type";
}

static bool
listed(const uint16_t *types, uint16_t type)
{
	for (; types != NULL && *types != 0; types++)
		if (*types == type)
			return true;
	return false;
}

void
parent_msg_refuse(const struct parent_link *l, const struct wire_hdr *hdr,
    const char *why)
{
	struct wire_enc e;
	char detail[MSG_ERRMSG_MAX];

	if (hdr->request_id == 0) {
		log_err("dropped a malformed %s (0x%04x) from the parent, a notice "
		    "with nothing to answer: %s", type_name(hdr->type), hdr->type, why);
		return;
	}
	log_err("refused request %u, a malformed %s (0x%04x) from the parent: %s",
	    hdr->request_id, type_name(hdr->type), hdr->type, why);
	snprintf(detail, sizeof(detail), "the %s process refused a malformed %s: %s",
	    l->child, type_name(hdr->type), why);
	/* A failure fails e, and the child's send() says so. */
	(void)!msg_error_reply(&e, hdr->request_id, HUSH_E_PROTO, detail);
	l->send(&e);
}

enum parent_msg
parent_msg_take(const struct parent_link *l, const struct chan_msg *cm,
    struct wire_msg *m, char *why, size_t whylen)
{
	struct wire_hdr hdr;
	int r;

	if ((r = wire_peek_hdr(cm->buf, cm->len, &hdr)) != 0) {
		m->hdr = (struct wire_hdr){ 0 };
		m->nfields = 0;
		snprintf(why, whylen, "unreadable header: %s", hush_strerror(r));
		log_err("dropped a message from the parent: %s", why);
		return PARENT_MSG_REFUSED;
	}
	r = msg_parse(cm->buf, cm->len, l->max_msg, l->allowed, m, why, whylen);
	if (r == 0 && cm->fd >= 0 && !listed(l->with_fd, hdr.type)) {
		snprintf(why, whylen, "a descriptor came with %s, which takes none",
		    msg_type_name(hdr.type));
		r = HUSH_E_PROTO;
	}
	if (r == 0)
		return PARENT_MSG_OK;
	/* Nothing of it is acted on: no field is left to reach a handler. */
	m->hdr = hdr;
	m->nfields = 0;
	if (MSG_IS_REPLY(hdr.type) || hdr.type == MSG_ERROR) {
		log_err("a malformed %s (0x%04x) from the parent answers request %u: %s",
		    type_name(hdr.type), hdr.type, hdr.request_id, why);
		return PARENT_MSG_BAD_ANSWER;
	}
	parent_msg_refuse(l, &hdr, why);
	return PARENT_MSG_REFUSED;
}

void
parent_msg_lost(const struct parent_link *l, const struct chan *ch, int r)
{
	/*
	 * Not a malformed message but no memory to take one in: the request
	 * is lost either way, and a restart at least fails the parent's
	 * waiting call at once instead of leaving it unanswered.
	 */
	if (r == HUSH_E_NOMEM)
		fatal_r(r, "receiving from the parent");
	if (r == HUSH_E_TOOBIG)
		log_err("dropped a message from the parent of %zu bytes, over the "
		    "%zu this channel takes", ch->refused_len, l->max_msg);
	else
		log_err("dropped a message from the parent that its channel "
		    "refused: %s", hush_strerror(r));
}
