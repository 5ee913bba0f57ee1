/*
 * A manager's side of assignments (see assign.h): answer a node's
 * DSP_ASSIGNMENTS from this manager's replica of the store.  The node is
 * who its verified certificate says, never what it claims.  When the node
 * already holds what the store says, the request is held until the store
 * changes or ASSIGN_HOLD_SECS pass, so changes reach nodes at once without
 * them polling.  A follower's replica may lag the leader's by a moment;
 * the node then hears of the change from the next answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "parent.h"
#include "store_calls.h"

/* Held requests at most: each is a few hundred bytes and a parked op. */
#define ASSIGN_HELD_MAX	4096

struct held_request {
	struct peer_op		 po;	/* first: cluster.c's helpers take it as a peer_op */
	struct held_request	*next;
	struct op		*op;
	/* what the node said it holds: asked again on change */
	char			 node_id[HUSH_ID_LEN + 1];
	bool			 has_digest;
	uint8_t			 digest[32];
	char			(*have)[HUSH_ID_LEN + 16];
	const char		**havep;
	size_t			 nhave;
	int64_t			 deadline;
	bool			 held;
};

static size_t nheld;

static void
held_free(void *arg)
{
	struct held_request *h = arg;

	free(h->have);
	free(h->havep);
	free(h);
}

static void
reply_answer(struct held_request *h, const struct wire_msg *reply)
{
	struct wire_enc f;

	wire_enc_init(&f, DSP_ASSIGNMENTS | MSG_REPLY, h->po.dsp_req, WIRE_MAX_MSG);
	for (size_t i = 0; i < reply->nfields; i++)
		wire_put_bytes(&f, reply->fields[i].tag, reply->fields[i].val,
		    reply->fields[i].len);
	cluster_peer_reply(&h->po, &f);
	wire_enc_free(&f);
}

static void run_query(struct held_request *h);

static void
answered(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct held_request *h = op->ctx;
	struct parent *p = op->p;

	if (status != 0) {
		cluster_peer_error(&h->po, status, detail);
		op_free(op);
		return;
	}
	/* Unchanged and time left: hold it until the store changes. */
	if (wire_find(reply, T_RECORDS, 0) == NULL && parent_mono() < h->deadline &&
	    nheld < ASSIGN_HELD_MAX) {
		h->held = true;
		h->next = p->assign.held;
		p->assign.held = h;
		nheld++;
		return;
	}
	reply_answer(h, reply);
	op_free(op);
}

static void
run_query(struct held_request *h)
{
	int r;

	if ((r = store_node_assignments(h->op, h->node_id, h->has_digest ? h->digest : NULL,
	    h->havep, h->nhave, answered)) != 0) {
		cluster_peer_error(&h->po, r, NULL);
		op_free(h->op);
	}
}

void
assign_serve(struct op *op, const char *peer, const struct wire_msg *dsp)
{
	struct parent *p = op->p;
	struct peer_op *po = op->ctx;
	struct held_request *h;
	const struct wire_field *f;
	size_t n;

	if (p->node.role != ROLE_MANAGER || p->store.phase != RAFT_UP) {
		cluster_peer_error(po, HUSH_E_UNAVAIL, "this manager's store is not ready");
		op_free(op);
		return;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		cluster_peer_error(po, HUSH_E_NOMEM, NULL);
		op_free(op);
		return;
	}
	h->po = *po;
	free(po);
	op->ctx = h;
	op->ctx_free = held_free;
	h->op = op;
	h->deadline = parent_mono() + ASSIGN_HOLD_SECS;
	snprintf(h->node_id, sizeof(h->node_id), "%s", peer);
	/* the schema holds the digest to 32 bytes and each T_HAVE to "id:version" */
	h->has_digest = (f = wire_find(dsp, T_DIGEST, 0)) != NULL && f->len == sizeof(h->digest);
	if (h->has_digest)
		memcpy(h->digest, f->val, sizeof(h->digest));
	n = wire_count(dsp, T_HAVE);
	if (n > 0 && ((h->have = calloc(n, sizeof(*h->have))) == NULL ||
	    (h->havep = calloc(n, sizeof(*h->havep))) == NULL)) {
		cluster_peer_error(&h->po, HUSH_E_NOMEM, NULL);
		op_free(op);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		wire_field_str(wire_find(dsp, T_HAVE, i), h->have[i], sizeof(h->have[i]));
		h->havep[i] = h->have[i];
	}
	h->nhave = n;
	run_query(h);
}

/* Take every held request off the list: each is run again, or expires. */
static void
release(struct parent *p, bool expired_only)
{
	struct held_request **hp = &p->assign.held, *h;
	int64_t now = parent_mono();

	while ((h = *hp) != NULL) {
		if (expired_only && now < h->deadline) {
			hp = &h->next;
			continue;
		}
		*hp = h->next;
		h->held = false;
		nheld--;
		run_query(h);	/* answers now: changed, or past its deadline */
	}
}

void
assign_serve_wake(struct parent *p)
{
	release(p, false);
}

void
assign_serve_tick(struct parent *p)
{
	release(p, true);
}

/* The store went away (demotion, leave): nobody will wake them. */
void
assign_serve_drop(struct parent *p)
{
	struct held_request *h;

	while ((h = p->assign.held) != NULL) {
		p->assign.held = h->next;
		nheld--;
		cluster_peer_error(&h->po, HUSH_E_UNAVAIL, "this manager's store stopped");
		op_free(h->op);
	}
}
