/*
 * The parent's two ways into the replicated store: propose a command, or ask
 * a query.  Both travel inside a RAFTP_* message; the raft process's answer
 * is validated here against the schema of what was asked, never trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "parent.h"

struct raft_call {
	struct op	*op;
	raft_done_cb	 cb;
	uint16_t	 query_type;	/* 0 for a proposal */
};

static void
propose_done(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct raft_call *rc = arg;

	rc->cb(rc->op, status, reply, detail);
	free(rc);
}

static void
query_done(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct raft_call *rc = arg;
	struct wire_msg *inner = NULL;
	const uint8_t *buf;
	uint16_t allowed[3];
	size_t len;
	char why[256], d2[1100];
	int r;

	if (status != 0) {
		rc->cb(rc->op, status, NULL, detail);
		goto out;
	}
	if ((inner = malloc(sizeof(*inner))) == NULL) {
		rc->cb(rc->op, HUSH_E_NOMEM, NULL, NULL);
		goto out;
	}
	allowed[0] = rc->query_type | MSG_REPLY;
	allowed[1] = MSG_ERROR;
	allowed[2] = 0;
	if (wire_get_bytes(reply, T_QUERY, &buf, &len) != 0 ||
	    (r = msg_parse(buf, len, WIRE_MAX_MSG, allowed, inner, why, sizeof(why))) != 0) {
		child_kill(&rc->op->p->raft, "malformed query answer");
		rc->cb(rc->op, HUSH_E_UNAVAIL, NULL, "the raft process misbehaved and was restarted");
		goto out;
	}
	if ((r = msg_reply_status(inner, d2, sizeof(d2))) != 0)
		rc->cb(rc->op, r, NULL, d2);
	else
		rc->cb(rc->op, 0, inner, NULL);
out:
	free(inner);
	free(rc);
}

static int
call_raft(struct op *op, struct wire_enc *inner, uint16_t msg_type, uint16_t tag,
    raft_done_cb cb, call_cb done)
{
	struct parent *p = op->p;
	struct raft_call *rc;
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;
	int r;

	if (!p->raft_ready)
		return HUSH_E_UNAVAIL;
	if ((r = wire_enc_finish(inner, &buf, &len)) != 0)
		return r;
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return HUSH_E_NOMEM;
	rc->op = op;
	rc->cb = cb;
	rc->query_type = (uint16_t)(buf[2] << 8 | buf[3]);
	wire_enc_init(&e, msg_type, child_next_id(&p->raft), WIRE_MAX_MSG);
	wire_put_bytes(&e, tag, buf, len);
	r = child_call(&p->raft, &e, -1, done, rc);
	wire_enc_free(&e);
	if (r != 0)
		free(rc);
	return r;
}

int
raft_propose(struct op *op, struct wire_enc *cmd, raft_done_cb cb)
{
	return call_raft(op, cmd, RAFTP_PROPOSE, T_COMMAND, cb, propose_done);
}

int
raft_query(struct op *op, struct wire_enc *qry, raft_done_cb cb)
{
	return call_raft(op, qry, RAFTP_QUERY, T_QUERY, cb, query_done);
}
