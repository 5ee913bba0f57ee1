/*
 * The node's state machine (node_fsm.c): the one place that changes
 * p->state, and the one place that says what happens on entering each
 * state.  The diagram, the events and the table are in node_fsm.c.
 */
#ifndef HUSH_NODE_FSM_H
#define HUSH_NODE_FSM_H

struct parent;

enum parent_state {
	PS_BOOTING,		/* start-up: the state dir not read yet */
	PS_UNINITIALIZED,	/* no cluster yet: only init, join and status */
	PS_INITIALIZING,	/* an init or a join is in progress */
	PS_LOCKED,		/* keys sealed by the KEK; waiting for unlock */
	PS_STARTING,		/* keys in the keyring, the raft store loading */
	PS_READY,		/* serving (a worker: as soon as its keys are loaded) */
	/*
	 * A manager whose raft data is damaged: the raft process failed to
	 * start RAFT_DAMAGED_TRIES times in a row and is not restarted;
	 * p->store.health says why.  Left by `hushctl node repair`.
	 */
	PS_DEGRADED,
};
#define PS_COUNT	(PS_DEGRADED + 1)

enum node_event {
	NE_BOOT_EMPTY,		/* start-up found no node.json */
	NE_BOOT_SEALED,		/* start-up found node.keys sealed by the KEK */
	NE_KEYS_LOADED,		/* start-up or unlock put the node's keys in the keyring */
	NE_SETUP_BEGIN,		/* init or join accepted */
	NE_SETUP_FAILED,	/* ...and failed: everything it wrote is undone */
	NE_SETUP_DONE,		/* ...and this node is in the cluster, its files written */
	NE_STORE_UP,		/* the raft process answered RAFTP_START */
	NE_STORE_DOWN,		/* the raft process was restarted */
	NE_STORE_DAMAGED,	/* it found damaged data RAFT_DAMAGED_TRIES times in a row */
	NE_REPAIR,		/* the leader made this node a spare: rebuild the store */
	NE_PROMOTED,		/* a renewed certificate says manager; it said worker */
	NE_DEMOTED,		/* a renewed certificate says worker; it said manager */
	NE_LEFT,		/* `hushctl leave`: forget the cluster */
};
#define NE_COUNT	(NE_LEFT + 1)

/*
 * Moves the node on event ev: runs the exit and entry actions and returns
 * 0, also when the event leaves the state as it is (an event the state
 * ignores, like a raft restart on a node with no store).  An event the
 * state does not allow is refused with HUSH_E_INVAL and logged as the bug
 * it is: callers check what the control layer checks first.
 */
int		 node_event(struct parent *p, enum node_event ev);
/* A node that has not read its state dir yet: BOOTING. */
void		 node_fsm_init(struct parent *p);
/*
 * The control requests a state serves: each request lists the W_* bits of
 * the states it is allowed in (control.c); node_serves() is the current
 * state's bit, and node_refuse() answers a request the state does not
 * serve with the state's reason (locked, not initialized, starting ...).
 */
#define W_UNINIT	0x1
#define W_LOCKED	0x2
#define W_READY		0x4
#define W_MANAGER	0x8	/* and only on a manager */
#define W_BUSY		0x10	/* initializing, or the raft store starting */
#define W_DEGRADED	0x20	/* a manager whose raft data is damaged */
struct op;
unsigned	 node_serves(const struct parent *p);
void		 node_refuse(struct parent *p, struct op *op);

/* The state ev leads to from the current one; -1 if refused. */
int		 node_next_state(const struct parent *p, enum node_event ev);
const char	*node_state_name(enum parent_state s);
const char	*node_event_name(enum node_event ev);

#endif
