/*
 * Every state a node can be in, the events that move it, and what happens
 * on entering each state: in the spirit of bgpd's change_state(), this file
 * alone assigns p->state.  What the children are doing meanwhile is a phase
 * of their own (p->store.phase, p->view.net, p->settings.ca; parent.h).
 *
 *        BOOTING ──(boot: no node.json)──────────► UNINITIALIZED ◄─────────────┐
 *         │   │                                   │        ▲                  │
 *         │   └(boot: node.keys sealed)► LOCKED   │ setup  │ setup failed     │
 *         │                                │      │ begin  │                  │
 *         │ (boot: keys loaded)    (keys loaded)  ▼        │                  │
 *         │                                │    INITIALIZING                  │
 *         │                                │      │ setup done                │ left
 *         ▼          (a manager)           ▼      ▼ (a manager, store down)   │
 *       READY ◄──────────────────────── STARTING ◄─────────────────────────────┤
 *       (a worker, or setup done   ──store up─► │ ▲                           │
 *        with the store up)  ◄──────────────────┘ │ store down, promoted,     │
 *         │   ────────────────────────────────────┘ repair                    │
 *         │ ◄──demoted── STARTING, DEGRADED                                   │
 *         │                                                                   │
 *         └──store damaged──► DEGRADED ──repair──► STARTING                   │
 *                                                                             │
 *       LOCKED, STARTING, READY, DEGRADED ──left───────────────────────────────┘
 *
 * On entering
 *  - UNINITIALIZED (but at boot): the node forgets the cluster.  Its files
 *    (node.json, node.keys, certificates, raft log) go, its keys leave the
 *    keyring, the children that hold something of the cluster (raft's
 *    store, net's identity, pki's CA) are restarted empty, its assignments
 *    and the secrets in its containers go, and every part of the parent
 *    starts afresh.  A failed init or join and a leave are the same thing.
 *  - LOCKED: autolock is on: the node waits for `hushctl unlock`.
 *  - STARTING: net is given the node's identity and the raft process is
 *    asked to start, whichever is not done yet.
 *  - READY: net is given the node's identity if it has not got it; a
 *    demoted manager drops its raft store.
 *  - DEGRADED: the reason and what to do go to p->store.health and the log.
 * On leaving DEGRADED, and on a repair, the reason and the count of damaged
 * starts are cleared.
 *
 * Which control requests each state serves, and what the others are told,
 * is at the end of this file (node_serves, node_refuse); control.c's table
 * names the states each request is allowed in.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "disk_space.h"
#include "err.h"
#include "keyring.h"
#include "log.h"
#include "node_fsm.h"
#include "parent.h"
#include "raft/raft_proc.h"

#define B(s)	(1u << (s))
#define ANY	(B(PS_COUNT) - 1)

/*
 * To a state that depends on the node: a worker keeps no store, so it is
 * READY at once; a manager waits for its store (STARTING), unless the
 * store is up already (an init, which brought it up to commit the cluster).
 */
#define TO_BY_ROLE	(-2)

struct transition {
	unsigned	 from;		/* the states that allow the event */
	int		 to;		/* a state, or TO_BY_ROLE */
	unsigned	 ignored;	/* the states where it changes nothing */
};

static const struct transition table[NE_COUNT] = {
	[NE_BOOT_EMPTY]    = { B(PS_BOOTING), PS_UNINITIALIZED, 0 },
	[NE_BOOT_SEALED]   = { B(PS_BOOTING), PS_LOCKED, 0 },
	[NE_KEYS_LOADED]   = { B(PS_BOOTING) | B(PS_LOCKED), TO_BY_ROLE, 0 },
	[NE_SETUP_BEGIN]   = { B(PS_UNINITIALIZED), PS_INITIALIZING, 0 },
	[NE_SETUP_FAILED]  = { B(PS_INITIALIZING), PS_UNINITIALIZED, 0 },
	[NE_SETUP_DONE]    = { B(PS_INITIALIZING), TO_BY_ROLE, 0 },
	/* A store comes up during an init too (INITIALIZING): no change then. */
	[NE_STORE_UP]      = { B(PS_STARTING), PS_READY, ANY & ~B(PS_BOOTING) & ~B(PS_STARTING) },
	/* Only a manager's READY rests on its store; a worker's raft process idles. */
	[NE_STORE_DOWN]    = { B(PS_READY), TO_BY_ROLE, ANY & ~B(PS_BOOTING) & ~B(PS_READY) },
	[NE_STORE_DAMAGED] = { B(PS_STARTING) | B(PS_READY), PS_DEGRADED,
	    B(PS_UNINITIALIZED) | B(PS_INITIALIZING) | B(PS_LOCKED) | B(PS_DEGRADED) },
	[NE_REPAIR]        = { B(PS_STARTING) | B(PS_READY) | B(PS_DEGRADED), PS_STARTING, 0 },
	[NE_PROMOTED]      = { B(PS_READY), PS_STARTING, 0 },
	[NE_DEMOTED]       = { B(PS_STARTING) | B(PS_READY) | B(PS_DEGRADED), PS_READY, 0 },
	[NE_LEFT]          = { B(PS_LOCKED) | B(PS_STARTING) | B(PS_READY) | B(PS_DEGRADED),
	    PS_UNINITIALIZED, 0 },
};

static const char *const state_names[PS_COUNT] = {
	[PS_BOOTING] = "booting",
	[PS_UNINITIALIZED] = "uninitialized",
	[PS_INITIALIZING] = "initializing",
	[PS_LOCKED] = "locked",
	[PS_STARTING] = "starting",
	[PS_READY] = "ready",
	[PS_DEGRADED] = "degraded",
};

static const char *const event_names[NE_COUNT] = {
	[NE_BOOT_EMPTY] = "boot without node.json",
	[NE_BOOT_SEALED] = "boot with sealed keys",
	[NE_KEYS_LOADED] = "keys loaded",
	[NE_SETUP_BEGIN] = "init or join begun",
	[NE_SETUP_FAILED] = "init or join failed",
	[NE_SETUP_DONE] = "init or join done",
	[NE_STORE_UP] = "store up",
	[NE_STORE_DOWN] = "store down",
	[NE_STORE_DAMAGED] = "store damaged",
	[NE_REPAIR] = "repair",
	[NE_PROMOTED] = "promoted",
	[NE_DEMOTED] = "demoted",
	[NE_LEFT] = "left the cluster",
};

const char *
node_state_name(enum parent_state s)
{
	return (unsigned)s < PS_COUNT ? state_names[s] : "?";
}

const char *
node_event_name(enum node_event ev)
{
	return (unsigned)ev < NE_COUNT ? event_names[ev] : "?";
}

int
node_next_state(const struct parent *p, enum node_event ev)
{
	const struct transition *t;

	if ((unsigned)ev >= NE_COUNT || (unsigned)p->state >= PS_COUNT)
		return -1;
	t = &table[ev];
	if (t->ignored & B(p->state))
		return (int)p->state;
	if ((t->from & B(p->state)) == 0)
		return -1;
	if (t->to != TO_BY_ROLE)
		return t->to;
	if (p->node.role != ROLE_MANAGER)
		return PS_READY;
	return ev == NE_SETUP_DONE && p->store.phase == RAFT_UP ? PS_READY : PS_STARTING;
}

/*
 * The node leaves the cluster, or never got into it: nothing of the
 * cluster may remain, on disk, in the keyring, in a child or in memory.
 */
static void
forget_cluster(struct parent *p)
{
	char path[PATH_MAX];

	/* Each child restarts empty; the supervisor brings it back. */
	if (p->store.phase != RAFT_IDLE)
		child_kill(&p->raft, "the node holds no cluster any more");
	if (p->view.net != NET_IDLE)
		child_kill(&p->net, "the node holds no cluster any more");
	if (p->settings.ca != PKI_NO_CA)
		child_kill(&p->pki, "the node holds no cluster any more");
	snprintf(path, sizeof(path), "%s/node.json", p->cfg.state_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/node.keys", p->cfg.state_dir);
	unlink(path);
	remove_dir_files(raft_proc_dir);
	snprintf(path, sizeof(path), "%s/certificates", p->cfg.state_dir);
	remove_dir_files(path);
	keyring_drop(KEY_DEK);
	keyring_drop(KEY_NODE);
	keyring_drop(KEY_KEK);
	keyring_drop(KEY_SEAL);
	assign_serve_drop(p);
	assign_clear(p);
	memset(&p->node, 0, sizeof(p->node));
	lifecycle_wake_waiting(p, HUSH_E_NOTINIT, "the node left the cluster");
	store_part_reset(&p->store);
	cluster_view_reset(&p->view);
	cluster_settings_reset(&p->settings);
	ca_part_reset(&p->ca);
	/* A node outside any cluster holds no secrets, in memory or in containers. */
	containers_refresh(p);
}

/* The manager is a worker now: its copy of the store goes. */
static void
drop_store(struct parent *p)
{
	child_kill(&p->raft, "the node was demoted to a worker");
	assign_serve_drop(p);
	p->store.phase = RAFT_IDLE;
	remove_dir_files(raft_proc_dir);
}

static void
enter_degraded(struct parent *p)
{
	size_t others;

	(void)cluster_managers_ok(p, &others);
	snprintf(p->store.health, sizeof(p->store.health), "degraded: %.700s; %s",
	    p->store.error[0] != '\0' ? p->store.error :
	    "the raft process found damaged data (see the log)",
	    others > 0 ? "run 'hushctl node repair' to rebuild the raft data from the "
	    "other managers (if they have lost their quorum, 'hushctl init "
	    "--force-new-cluster' on the most recent of them first)" : "this is the only "
	    "manager, so there is no peer to repair from: restore the last backup into an "
	    "empty state directory with 'hushctl restore FILE'");
	log_err("the raft store stopped after %u failed starts, and is not restarted: "
	    "this node is %s", p->store.damaged, p->store.health);
}

static void
leave_state(struct parent *p, enum parent_state to, enum node_event ev)
{
	if ((p->state == PS_DEGRADED && to != PS_DEGRADED) || ev == NE_REPAIR) {
		p->store.health[0] = '\0';
		p->store.error[0] = '\0';
		p->store.damaged = 0;
	}
}

static void
enter_state(struct parent *p, enum parent_state from, enum node_event ev)
{
	switch (p->state) {
	case PS_BOOTING:
	case PS_INITIALIZING:
		break;
	case PS_UNINITIALIZED:
		if (from == PS_BOOTING)
			log_info("this node is not part of a cluster yet");
		else
			forget_cluster(p);
		break;
	case PS_LOCKED:
		p->settings.autolock = true;
		log_info("node %s is locked: run 'hushctl unlock'", p->node.node_id);
		break;
	case PS_STARTING:
		/* net first: a restarted manager reaches the leader through it. */
		cluster_start_net(p);
		lifecycle_start_raft(p, p->store.bootstrap);
		break;
	case PS_READY:
		if (ev == NE_DEMOTED)
			drop_store(p);
		cluster_start_net(p);
		break;
	case PS_DEGRADED:
		enter_degraded(p);
		break;
	}
}

void
node_fsm_init(struct parent *p)
{
	p->state = PS_BOOTING;
}

int
node_event(struct parent *p, enum node_event ev)
{
	enum parent_state from = p->state;
	int to;

	if ((to = node_next_state(p, ev)) < 0) {
		log_err("bug: the event '%s' is not allowed in state %s", node_event_name(ev),
		    node_state_name(from));
		return HUSH_E_INVAL;
	}
	if (table[ev].ignored & B(from))
		return 0;
	leave_state(p, (enum parent_state)to, ev);
	p->state = (enum parent_state)to;
	if (to != (int)from)
		log_debug("node state %s -> %s (%s)", node_state_name(from),
		    node_state_name(p->state), node_event_name(ev));
	enter_state(p, from, ev);
	return 0;
}

/* ---- what a control request gets in each state (control.c asks) ---- */

unsigned
node_serves(const struct parent *p)
{
	switch (p->state) {
	case PS_BOOTING:		/* not listening yet */
		return 0;
	case PS_UNINITIALIZED:
		return W_UNINIT;
	case PS_LOCKED:
		return W_LOCKED;
	case PS_READY:
		return W_READY;
	case PS_INITIALIZING:
	case PS_STARTING:
		return W_BUSY;
	case PS_DEGRADED:
		return W_DEGRADED;
	}
	return 0;
}

void
node_refuse(struct parent *p, struct op *op)
{
	char why[PATH_MAX + 128];

	switch (p->state) {
	case PS_BOOTING:
		op_error(op, HUSH_E_UNAVAIL, "hushd is starting");
		return;
	case PS_UNINITIALIZED:
		op_error(op, HUSH_E_NOTINIT, NULL);
		return;
	case PS_LOCKED:
		op_error(op, HUSH_E_LOCKED, NULL);
		return;
	case PS_INITIALIZING:
	case PS_STARTING:
		/* A store that cannot write cannot start: say why it waits. */
		if (disk_check(p->cfg.state_dir, NULL, HUSH_RAFT_DISK_NEED, why,
		    sizeof(why)) == HUSH_E_NOSPACE) {
			op_error(op, HUSH_E_NOSPACE, why);
			return;
		}
		op_error(op, HUSH_E_UNAVAIL, p->state == PS_STARTING ?
		    "the raft store is starting" : "the node is being initialized");
		return;
	case PS_DEGRADED:
		/* Not UNAVAIL: retrying cannot help, the client must not wait. */
		op_error(op, HUSH_E_CORRUPT, p->store.health);
		return;
	case PS_READY:
		if (op->type == CTL_RESTORE) {
			snprintf(why, sizeof(why), "this node is already in cluster %s: a "
			    "restore makes a new node of an uninitialized one ('hushctl "
			    "leave' first, or another state directory)", p->node.cluster_id);
			op_error(op, HUSH_E_ALREADYINIT, why);
		} else if (op->type == CTL_INIT || op->type == CTL_JOIN)
			op_error(op, HUSH_E_ALREADYINIT, NULL);
		else
			op_error(op, HUSH_E_INVAL, "hush is not locked");
		return;
	}
}
