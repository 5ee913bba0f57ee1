/*
 * `hushctl init --force-new-cluster`: a manager that survived the loss of
 * its cluster's quorum becomes the only manager of that cluster, keeping
 * its store (the CA, secrets, services, workers) -- Docker's `swarm init
 * --force-new-cluster`.
 *
 *   1. checked here: a manager, unlocked, its raft data sound, no quorum
 *      answering (unless --force), not removed itself
 *   2. its raft process is stopped and started again with T_FORCE_NEW:
 *      raft_recover() makes its configuration itself alone, so it elects
 *      itself on its own vote
 *   3. the first command it commits, before it serves anything, is
 *      CMD_FORCE_NEW_CLUSTER: every other manager is marked removed in the
 *      node table, so their certificates are refused from then on and the
 *      leader never adds them back to the configuration
 *   4. the answer names the managers removed; the workers, which know
 *      this manager's address, reconnect by themselves.
 *
 * Whatever the survivor's log held commits, acknowledged before or not:
 * run it on the manager that was most up to date (README "Recover from
 * disaster").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "parent.h"
#include "store_calls.h"

struct force_new {
	uint8_t			 req_id[HUSH_REQ_ID_LEN];
	bool			 force;
	struct raft_status	 st;		/* what the raft process says */
	char			 removed[MAX_PEERS][HUSH_ID_LEN + 1];	/* the other managers */
	size_t			 nremoved;
};

static void
force_new_free(void *arg)
{
	free(arg);
}

static void
forced(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct force_new *x = op->ctx;
	struct wire_enc e;

	if (status != 0) {
		log_err("forcing a new cluster failed: %s",
		    detail && *detail ? detail : hush_strerror(status));
		/* Back to an ordinary start: the log is as it was, or recovered. */
		if (p->raft.pid > 0)
			chan_close(&p->raft.ch);
		op_error(op, status, detail);
		return;
	}
	log_warn("this node (%s) is now the only manager of cluster %s", p->node.node_id,
	    p->node.cluster_id);
	wire_enc_init(&e, CTL_FORCE_NEW_CLUSTER | MSG_REPLY, op->client_req, 4096);
	wire_put_str(&e, T_NODE_ID, p->node.node_id);
	wire_put_str(&e, T_CLUSTER_ID, p->node.cluster_id);
	/* What the node table's change removed; else who voted before. */
	if (p->store.nforced_removed > 0)
		for (size_t i = 0; i < p->store.nforced_removed; i++)
			wire_put_str(&e, T_PEER_ID, p->store.forced_removed[i]);
	else
		for (size_t i = 0; i < x->nremoved; i++)
			wire_put_str(&e, T_PEER_ID, x->removed[i]);
	op_reply(op, &e);
}

/* Why forcing now would be wrong, into why; 0 if it may go ahead. */
static int
refused(struct parent *p, char *why, size_t whylen)
{
	if (p->state == PS_INITIALIZING) {
		snprintf(why, whylen, "the node is being initialized");
		return HUSH_E_UNAVAIL;
	}
	if (p->state == PS_DEGRADED) {
		snprintf(why, whylen, "this manager's raft data is damaged (%s): it cannot "
		    "be the base of a new cluster; restore a backup into an empty state "
		    "directory instead ('hushctl restore')", p->store.health);
		return HUSH_E_CORRUPT;
	}
	if (p->view.removed_self) {
		snprintf(why, whylen, "this manager was removed from the cluster: it "
		    "cannot be the base of a new one");
		return HUSH_E_PERM;
	}
	if (p->store.force_op != NULL) {
		snprintf(why, whylen, "a new cluster is already being forced on this node");
		return HUSH_E_BUSY;
	}
	return 0;
}

/*
 * Whether a quorum answers.  The raft configuration in this manager's log
 * (known even when nothing else is, after a restart) says who votes; a
 * known leader, or heartbeats lately from enough of the others, mean a
 * quorum.  Without the raft process's word (it is not running), the
 * managers this node knows of stand in for the voters.
 */
static int
quorum_answers(struct parent *p, struct force_new *x, bool asked, char *why, size_t whylen)
{
	size_t voters, reachable = 0;
	bool leader = p->store.leader[0] != '\0';

	if (asked && x->st.voters > 0) {
		voters = x->st.voters;
		for (size_t i = 0; i < x->st.nother_voters; i++)
			snprintf(x->removed[x->nremoved++], sizeof(x->removed[0]), "%s",
			    x->st.other_voters[i]);
		leader = leader || x->st.leader[0] != '\0' ||
		    strcmp(x->st.state, "leader") == 0;
	} else {
		for (size_t i = 0; i < p->view.nmanager_ids && x->nremoved < MAX_PEERS; i++)
			if (strcmp(p->view.manager_ids[i], p->node.node_id) != 0)
				snprintf(x->removed[x->nremoved++], sizeof(x->removed[0]), "%s",
				    p->view.manager_ids[i]);
		voters = x->nremoved + 1;
	}
	for (size_t i = 0; i < x->nremoved; i++)
		if (cluster_peer_reachable(p, x->removed[i]))
			reachable++;
	if (!leader && reachable + 1 < voters / 2 + 1)
		return 0;
	snprintf(why, whylen, "a quorum of this cluster's managers is reachable (%zu of %zu "
	    "answer%s%s%s): forcing a new cluster would cut the others off and lose what "
	    "only they hold; add --force to do it anyway", reachable + 1, voters,
	    leader ? ", and a raft leader is known" : "", leader && p->store.leader[0] ?
	    " at " : "", leader ? p->store.leader : "");
	return HUSH_E_INVAL;
}

static void
go(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct force_new *x = op->ctx;
	struct wire_enc cmd;
	const uint8_t *buf;
	size_t len;
	char why[1200];
	int r;

	if ((r = quorum_answers(p, x, status == 0, why, sizeof(why))) != 0 && !x->force) {
		op_error(op, r, why);
		return;
	}
	/* Checked again: things may have changed while the raft process answered. */
	if ((r = refused(p, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	/* The node table's change, committed first by the new configuration. */
	store_force_new_encode(&cmd, sizeof(p->store.force_cmd), x->req_id, p->node.node_id,
	    p->node.advertise, NULL);
	if ((r = wire_enc_finish(&cmd, &buf, &len)) != 0) {
		wire_enc_free(&cmd);
		op_error(op, r, "cannot encode the new cluster's node table");
		return;
	}
	memcpy(p->store.force_cmd, buf, len);
	p->store.force_cmd_len = len;
	wire_enc_free(&cmd);
	op->on_ready = forced;		/* lifecycle_start_raft() parks it */
	p->store.force_op = op;
	log_warn("forcing a new cluster%s: the raft store restarts with this manager as "
	    "its only voter", x->force ? " (--force: a quorum may answer)" : "");
	/* The process ends; started again, it is given the forced start (lifecycle.c). */
	if (p->raft.pid > 0)
		chan_close(&p->raft.ch);
	p->raft.backoff_ms = 100;
	p->raft.restart_at_ms = 0;
}

void
op_force_new_cluster(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct force_new *x;
	const uint8_t *req_id;
	size_t len;
	char why[1200];
	int r;

	if ((r = refused(p, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	op->ctx = x;
	op->ctx_free = force_new_free;
	wire_get_bool(m, T_FORCE, &x->force);
	wire_get_bytes(m, T_REQ_ID, &req_id, &len);
	memcpy(x->req_id, req_id, sizeof(x->req_id));
	/* Who votes, from the raft process; if it cannot say, go() makes do. */
	if (p->raft.pid <= 0 || p->store.phase == RAFT_IDLE ||
	    raft_status(op, false, &x->st, go) != 0)
		go(op, HUSH_E_UNAVAIL, NULL, NULL);
}
