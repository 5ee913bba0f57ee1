/*
 * Raft configuration follows the replicated node table.  On the leader,
 * after every membership change and on a timer, the configuration is
 * reconciled one step at a time: every manager in the table becomes a
 * voter (added as a spare first, so libraft catches it up before it counts
 * toward the quorum), and every voter that is no longer a manager — demoted
 * or removed — leaves.  A step that fails (an unreachable new manager, a
 * lost leadership) is simply tried again later, so no operator command can
 * leave the configuration half-changed.
 *
 * A manager about to rebuild its log from nothing (`hushctl node repair`)
 * is first made a spare, on its own request: a voter with an empty log
 * could vote in a leader that lacks entries only its lost copy held.  The
 * reconcile then promotes it again, and libraft promotes a spare only
 * once its log has caught up with the leader's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "id.h"
#include "log.h"
#include "raft_proc.h"

struct change {
	struct raft_change	 req;
	raft_id			 id;
	char			 node[HUSH_ID_LEN + 1];
	int			 step;		/* 1 add, 2 assign, 3 remove, 4 demote */
	void			(*done)(void *, int);	/* step 4: who asked */
	void			*arg;
};

static bool in_flight;
static uint64_t next_try_ms;

static const char *const step_names[] = { "", "adding", "promoting", "removing",
	"demoting (for its repair)" };

static const struct raft_server *
config_find(struct raft *r, raft_id id)
{
	for (unsigned i = 0; i < r->configuration.n; i++)
		if (r->configuration.servers[i].id == id)
			return &r->configuration.servers[i];
	return NULL;
}

static void
change_done(struct raft_change *req, int status)
{
	struct change *c = req->data;

	in_flight = false;
	if (status != 0)
		log_warn("%s %s in the raft configuration failed: %s; will retry",
		    step_names[c->step], c->node, raft_strerror(status));
	else
		log_info("raft configuration: %s %s done", step_names[c->step], c->node);
	if (c->done != NULL)
		c->done(c->arg, status);
	free(c);
}

static int
start_change(struct raft *raft, const char *node, raft_id id, const char *addr, int step)
{
	struct change *c;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return RAFT_NOMEM;
	c->req.data = c;
	c->id = id;
	c->step = step;
	snprintf(c->node, sizeof(c->node), "%s", node);
	switch (step) {
	case 1:
		r = raft_add(raft, &c->req, id, addr, change_done);
		break;
	case 2:
		r = raft_assign(raft, &c->req, id, RAFT_VOTER, change_done);
		break;
	case 4:
		r = raft_assign(raft, &c->req, id, RAFT_SPARE, change_done);
		break;
	default:
		r = raft_remove(raft, &c->req, id, change_done);
		break;
	}
	if (r != 0) {
		log_debug("%s %s: %s", step_names[step], node, raft_strerror(r));
		free(c);
		return r;
	}
	in_flight = true;
	return 0;
}

int
membership_demote(struct raft *raft, const char *node, void (*done)(void *, int),
    void *arg)
{
	const struct raft_server *srv;
	raft_id id = hush_id_raft(node);
	struct change *c;
	int r;

	if (raft_state(raft) != RAFT_LEADER)
		return RAFT_NOTLEADER;
	/* Not a voter already (never was, or demoted before): nothing to wait for. */
	if ((srv = config_find(raft, id)) == NULL || srv->role != RAFT_VOTER)
		return 1;
	if (id == raft->id)
		return RAFT_BADROLE;	/* a leader is not repaired: it would step down first */
	if (in_flight || raft->configuration_uncommitted_index != 0)
		return RAFT_CANTCHANGE;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return RAFT_NOMEM;
	c->req.data = c;
	c->id = id;
	c->step = 4;
	c->done = done;
	c->arg = arg;
	snprintf(c->node, sizeof(c->node), "%s", node);
	if ((r = raft_assign(raft, &c->req, id, RAFT_SPARE, change_done)) != 0) {
		free(c);
		return r;
	}
	in_flight = true;
	return 0;
}

void
membership_reconcile(struct raft *raft, struct store *store, uint64_t now_ms)
{
	const struct raft_server *srv;

	if (in_flight || now_ms < next_try_ms || raft_state(raft) != RAFT_LEADER)
		return;
	/* A pending configuration entry must commit before the next change. */
	if (raft->configuration_uncommitted_index != 0)
		return;
	next_try_ms = now_ms + 500;
	for (size_t i = 0; i < store->nnodes; i++) {
		const struct store_node *n = &store->nodes[i];
		raft_id id = hush_id_raft(n->id);

		if (n->removed || n->role != ROLE_MANAGER)
			continue;
		if ((srv = config_find(raft, id)) == NULL) {
			start_change(raft, n->id, id, n->addr, 1);
			return;
		}
		if (srv->role != RAFT_VOTER) {
			start_change(raft, n->id, id, NULL, 2);
			return;
		}
	}
	for (unsigned i = 0; i < raft->configuration.n; i++) {
		const struct raft_server *s = &raft->configuration.servers[i];
		const struct store_node *n = NULL;

		for (size_t j = 0; j < store->nnodes; j++)
			if (hush_id_raft(store->nodes[j].id) == s->id)
				n = &store->nodes[j];
		/* Only servers the table knows and no longer wants; never ourselves
		 * while we lead (a demoted leader steps down after the change). */
		if (n == NULL || (!n->removed && n->role == ROLE_MANAGER))
			continue;
		start_change(raft, n->id, s->id, NULL, 3);
		return;
	}
}
