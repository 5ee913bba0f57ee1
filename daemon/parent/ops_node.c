/*
 * Node management: ls, inspect, promote, demote, rm, leave.  The node table
 * is replicated; whether a node is up and which manager leads is what this
 * manager sees live (heartbeats, raft), merged in when answering.
 */
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "keyring.h"
#include "log.h"
#include "parent.h"
#include "raft/raft_proc.h"
#include "store_calls.h"

/* The node list a reply carries, built as the store's page is read. */
struct live_ctx {
	struct parent	*p;
	const char	*leader;
	struct wire_enc	 list;
};

struct node_ctx {
	struct raft_status raft;	/* who leads, for ls/inspect's marks */
	char		 leader[HUSH_ID_LEN + 1];
	bool		 get;		/* node inspect: the nodes refs name */
	struct store_page page;		/* the store's answer */
	struct live_ctx	 live;
	/* for promote/demote/rm: what to do to which ids, one at a time */
	uint8_t		 req_id[16];
	char		 ids[MAX_PEERS][HUSH_ID_LEN + 1];
	uint8_t		 roles[MAX_PEERS];
	bool		 reachable[MAX_PEERS];
	size_t		 nids, next;
	bool		 force;
	char		 refs[MAX_PEERS][65];
	size_t		 nrefs;
	/* a page at a time: where the next one starts (node ls, and the targets) */
	char		 cursor[HUSH_CURSOR_MAX + 1];
	bool		 has_cursor;
	/* what the targets' pages said so far */
	bool		 ref_found[MAX_PEERS];
	uint8_t		 ref_role[MAX_PEERS];
	size_t		 managers, reachable_managers;
};

static void
node_ctx_free(void *arg)
{
	struct node_ctx *x = arg;

	wire_enc_free(&x->live.list);
	free(x);
}

static struct node_ctx *
node_ctx(struct op *op)
{
	struct node_ctx *x = calloc(1, sizeof(*x));

	if (x != NULL) {
		op->ctx = x;
		op->ctx_free = node_ctx_free;
	}
	return x;
}

/* Copy a node record into the reply's list, with what this manager sees live. */
static int
put_live_node(void *arg, const struct node_record *n)
{
	struct live_ctx *lc = arg;
	const struct wire_msg *rec = n->rec;
	struct wire_enc out;
	const uint8_t *buf;
	size_t len;
	int r;

	if (strcmp(n->status, "removed") == 0)
		return 0;
	wire_enc_init(&out, REC_NODE, 0, 4096);
	for (size_t i = 0; i < rec->nfields; i++)
		wire_put_bytes(&out, rec->fields[i].tag, rec->fields[i].val, rec->fields[i].len);
	wire_put_bool(&out, T_REACHABLE, cluster_peer_reachable(lc->p, n->id));
	wire_put_str(&out, T_TLS_STATUS, ca_tls_status(lc->p, n->id));
	/* A manager that answers but whose store is down must not look ready. */
	if (n->role == ROLE_MANAGER)
		wire_put_str(&out, T_RAFT_STATE, strcmp(n->id, lc->leader) == 0 ? "leader" :
		    !cluster_peer_reachable(lc->p, n->id) ? "unreachable" :
		    cluster_peer_degraded(lc->p, n->id) ? "degraded" : "reachable");
	if ((r = wire_enc_finish(&out, &buf, &len)) == 0)
		wire_put_bytes(&lc->list, T_NODE, buf + WIRE_HDR_LEN, len - WIRE_HDR_LEN);
	wire_enc_free(&out);
	return r;
}

/* ctx: the node_ctx, whose live list put_live_node() filled page by page. */
static void
nodes_read(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct node_ctx *x = op->ctx;
	struct live_ctx *lc = &x->live;
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;
	int r;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	if ((r = wire_enc_finish(&lc->list, &buf, &len)) != 0) {
		op_error(op, r, "a malformed node record was refused");
		return;
	}
	wire_enc_init(&e, op->type | MSG_REPLY, op->client_req, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_RECORDS, buf, len);
	store_page_put_marks(&e, &x->page);
	op_reply(op, &e);
}

static void
leader_read(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct node_ctx *x = op->ctx;
	const char *refs[MAX_PEERS];
	int r;

	if (status == 0)
		snprintf(x->leader, sizeof(x->leader), "%s", x->raft.leader);
	x->live.p = op->p;
	x->live.leader = x->leader;
	wire_enc_init_list(&x->live.list, WIRE_MAX_MSG - 8192);
	for (size_t i = 0; i < x->nrefs; i++)
		refs[i] = x->refs[i];
	r = x->get ? store_node_get(op, STORE_HERE, refs, x->nrefs,
	    x->has_cursor ? x->cursor : NULL, put_live_node, &x->live, &x->page, nodes_read) :
	    store_node_list(op, STORE_HERE, x->has_cursor ? x->cursor : NULL, put_live_node,
	    &x->live, &x->page, nodes_read);
	if (r != 0)
		op_error(op, r, NULL);
}

static void
read_nodes(struct op *op, const struct wire_msg *m, bool get)
{
	struct node_ctx *x;
	int r;

	if ((x = node_ctx(op)) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	x->get = get;
	x->has_cursor = wire_get_str(m, T_CURSOR, x->cursor, sizeof(x->cursor)) == 0;
	for (size_t i = 0; get && i < wire_count(m, T_REF) && i < MAX_PEERS; i++)
		wire_field_str(wire_find(m, T_REF, i), x->refs[x->nrefs++], sizeof(x->refs[0]));
	if ((r = raft_status(op, false, &x->raft, leader_read)) != 0)
		op_error(op, r, NULL);
}

void
op_node_list(struct op *op, const struct wire_msg *m)
{
	read_nodes(op, m, false);
}

void
op_node_inspect(struct op *op, const struct wire_msg *m)
{
	read_nodes(op, m, true);
}

/* ---- promote / demote / rm -------------------------------------------- */

static void change_next(struct op *op);

static void
change_applied(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	change_next(op);
}

static void
change_next(struct op *op)
{
	struct node_ctx *x = op->ctx;
	struct store_node_change change;
	struct wire_enc cmd;
	int r;

	if (x->next == x->nids) {
		wire_enc_init(&cmd, op->type | MSG_REPLY, op->client_req, 64);
		op_reply(op, &cmd);
		return;
	}
	/* Each node gets its own request id, derived so a retry repeats it. */
	x->req_id[15] = (uint8_t)(x->req_id[15] + 1);
	change = (struct store_node_change){ .req_id = x->req_id, .node_id = x->ids[x->next],
	    .role = op->type == CTL_NODE_PROMOTE ? ROLE_MANAGER : ROLE_WORKER };
	r = op->type == CTL_NODE_RM ? store_node_remove(op, x->req_id, x->ids[x->next],
	    change_applied) : store_node_update(op, &change, change_applied);
	x->next++;
	if (r != 0)
		op_error(op, r, NULL);
}

static void targets_query(struct op *op);

/* One node of a page: is it a target, is it a manager (and reachable)? */
static int
scan_target(void *arg, const struct node_record *n)
{
	struct op *op = arg;
	struct node_ctx *x = op->ctx;

	if (n->status[0] != '\0')
		return 0;	/* removed nodes are not targets and do not count */
	for (size_t k = 0; k < x->nrefs; k++) {
		if (strcmp(x->refs[k], n->id) != 0)
			continue;
		x->ref_found[k] = true;
		x->ref_role[k] = n->role;
	}
	if (n->role == ROLE_MANAGER) {
		x->managers++;
		x->reachable_managers += cluster_peer_reachable(op->p, n->id);
	}
	return 0;
}

/*
 * A page of the node table; the decision waits for the last one, since a
 * target or a manager may be on any page.
 */
static void
targets_read(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct node_ctx *x = op->ctx;
	char why[512];
	size_t managers, reachable, demoted_reachable = 0, demoted = 0;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	if (x->page.has_cursor) {
		memcpy(x->cursor, x->page.cursor, sizeof(x->cursor));
		x->has_cursor = true;
		targets_query(op);
		return;
	}
	for (size_t k = 0; k < x->nrefs; k++) {
		if (!x->ref_found[k]) {
			snprintf(why, sizeof(why), "node '%s' not found", x->refs[k]);
			op_error(op, HUSH_E_NOTFOUND, why);
			return;
		}
		snprintf(x->ids[x->nids], sizeof(x->ids[0]), "%s", x->refs[k]);
		x->roles[x->nids] = x->ref_role[k];
		x->reachable[x->nids] = cluster_peer_reachable(p, x->refs[k]);
		x->nids++;
	}
	managers = x->managers;
	reachable = x->reachable_managers;
	for (size_t i = 0; i < x->nids; i++) {
		const char *nid = x->ids[i];

		if (op->type == CTL_NODE_RM) {
			if (x->roles[i] == ROLE_MANAGER) {
				snprintf(why, sizeof(why), "node %s is a manager: demote it to a "
				    "worker before removing it", nid);
				op_error(op, HUSH_E_INVAL, why);
				return;
			}
			if (x->reachable[i] && !x->force) {
				snprintf(why, sizeof(why), "node %s is not down and can't be "
				    "removed (use --force to remove it anyway)", nid);
				op_error(op, HUSH_E_INVAL, why);
				return;
			}
		}
		if (op->type == CTL_NODE_DEMOTE && x->roles[i] == ROLE_MANAGER) {
			demoted++;
			demoted_reachable += x->reachable[i];
		}
	}
	if (op->type == CTL_NODE_DEMOTE && demoted > 0) {
		if (managers <= demoted) {
			op_error(op, HUSH_E_INVAL, "cannot demote the last manager of the cluster");
			return;
		}
		/* The managers that stay must still form a majority among themselves. */
		if (reachable - demoted_reachable < (managers - demoted) / 2 + 1) {
			snprintf(why, sizeof(why), "demoting would leave %zu reachable of %zu "
			    "managers: the cluster would lose its raft quorum",
			    reachable - demoted_reachable, managers - demoted);
			op_error(op, HUSH_E_INVAL, why);
			return;
		}
	}
	x->next = 0;
	change_next(op);
}

static void
change_nodes(struct op *op, const struct wire_msg *m)
{
	struct node_ctx *x;
	const struct wire_field *rid = wire_find(m, T_REQ_ID, 0);

	if ((x = node_ctx(op)) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	memcpy(x->req_id, rid->val, 16);
	wire_get_bool(m, T_FORCE, &x->force);
	if (wire_count(m, T_REF) > MAX_PEERS) {
		op_error(op, HUSH_E_TOOBIG, "too many nodes in one request (at most 64)");
		return;
	}
	for (size_t i = 0; i < wire_count(m, T_REF) && i < MAX_PEERS; i++)
		wire_field_str(wire_find(m, T_REF, i), x->refs[x->nrefs++], sizeof(x->refs[0]));
	targets_query(op);
}

static void
targets_query(struct op *op)
{
	struct node_ctx *x = op->ctx;
	int r;

	if ((r = store_node_list(op, STORE_LEADER, x->has_cursor ? x->cursor : NULL, scan_target,
	    op, &x->page, targets_read)) != 0)
		op_error(op, r, NULL);
}

void
op_node_promote(struct op *op, const struct wire_msg *m)
{
	change_nodes(op, m);
}

void
op_node_demote(struct op *op, const struct wire_msg *m)
{
	change_nodes(op, m);
}

void
op_node_rm(struct op *op, const struct wire_msg *m)
{
	change_nodes(op, m);
}

/* ---- leave ------------------------------------------------------------- */


/* Forget the cluster: keys, certificates, the raft log; then start over. */
void
op_leave(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct wire_enc e;
	bool force = false;

	wire_get_bool(m, T_FORCE, &force);
	if (p->node.role == ROLE_MANAGER && !force) {
		op_error(op, HUSH_E_INVAL, "this node is a manager: leaving would weaken the "
		    "raft quorum and lose the store on this node. Demote it first, or use "
		    "--force to leave anyway");
		return;
	}
	log_info("leaving cluster %s", p->node.cluster_id);
	/* Files, keys, children's state, assignments, containers' secrets: all go. */
	(void)node_event(p, NE_LEFT);
	wire_enc_init(&e, CTL_LEAVE | MSG_REPLY, op->client_req, 64);
	op_reply(op, &e);
}
