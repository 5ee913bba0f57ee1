/*
 * The parent process of hushd: owns the control socket and the keyring,
 * supervises the children, and decides what each request may do.  It never
 * parses network input and never signs certificates.
 */
#ifndef HUSH_PARENT_H
#define HUSH_PARENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "chan.h"
#include "child.h"
#include "id.h"
#include "assign.h"
#include "msg.h"
#include "node_fsm.h"
#include "node_state.h"

#define HUSH_VERSION "0.1.0"
#define HUSH_DEFAULT_STATE_DIR "/var/lib/hush"
#define HUSH_DEFAULT_CONTROL "/run/hush/control.sock"
#define HUSH_DEFAULT_RUN_DIR "/run/hush"
/* The system user the processes that need no root run as (pki, net). */
#define HUSH_DEFAULT_USER "hush"
#define HUSH_DEFAULT_PORT 4477
#define HUSH_DEFAULT_CERT_EXPIRY ((uint64_t)90 * 24 * 3600)
#define CONTROL_MAX_MSG (HUSH_SECRET_MAX + 65536)

/*
 * The control socket's connection limits (control.c; README "Control
 * socket limits" and hushd(8) say the same).  Every client is root, so
 * this is about buggy or hung tools, not attackers: still, everything a
 * connection can hold is bounded in number and in time.
 *
 * A connection is *pending* until its request has arrived whole; it must
 * arrive within CONTROL_REQUEST_MS of connecting (hushctl and the hook
 * send theirs right after connect()).  At most CONTROL_PENDING_MAX are
 * pending: one more evicts the oldest, so that a burst of idle connects
 * cannot keep out a client that writes at once.  A request then draws on
 * one of two pools, by its type: the hook's (container attach and detach)
 * or everyone else's (hushctl), so hushctl sessions can never take the
 * room container starts need.  A request that finds its pool full waits
 * for a place, in the order it came, up to CONTROL_WAIT_MAX of them per
 * pool and CONTROL_WAIT_BYTES of requests in all: a burst of clients
 * larger than a pool is served in turn rather than told to come back.  A
 * request in progress (say, waiting for a raft commit) is never idle, nor
 * is one waiting.  Its reply must be read within CONTROL_DRAIN_MS.  A
 * connection refused for room is answered HUSH_E_BUSY, which clients may
 * resend: hushd never read the request, or did nothing with it.
 */
#define CONTROL_PENDING_MAX	128
#define CONTROL_CLI_MAX		64
#define CONTROL_HOOK_MAX	512	/* 256 container starts and their stops, at once */
#define CONTROL_WAIT_MAX	192	/* per pool: 256 hushctl clients at once */
#define CONTROL_WAIT_BYTES	(16u * 1024 * 1024)
#define CONTROL_CONNS_MAX	(CONTROL_PENDING_MAX + CONTROL_CLI_MAX + CONTROL_HOOK_MAX + \
				    2 * CONTROL_WAIT_MAX)
#define CONTROL_REQUEST_MS	2000
#define CONTROL_DRAIN_MS	10000

/* Keyring descriptions (hushd's private session keyring). */
#define KEY_DEK "hush:dek"
#define KEY_KEK "hush:kek"
#define KEY_NODE "hush:node-key"
#define KEY_SEAL "hush:seal-key"

/* A node's sealing public key (X25519; seal_key.c). */
#define SEAL_PUB_BYTES	32

/* Short enough that every file name below it fits in PATH_MAX. */
#define HUSH_DIR_MAX 1024

struct hushd_config {
	char		 state_dir[HUSH_DIR_MAX];
	char		 control_socket[108];	/* sun_path */
	char		 run_dir[HUSH_DIR_MAX];	/* records of attached containers */
	char		 user[64];	/* the unprivileged user children run as */
	unsigned	 snapshot_threshold;
	unsigned	 snapshot_trailing;
};

struct client;
struct control;
struct op;

#define MAX_PEERS 64

/* What this node knows live about another node (not replicated). */
struct peer_seen {
	char		 id[HUSH_ID_LEN + 1];
	int64_t		 last_seen;	/* monotonic seconds; 0 = never */
	bool		 degraded;	/* its last heartbeat said so (T_HEALTH) */
	/* Where it stands in a CA rotation (ca_follow.c): the SPKI digest of
	 * what issued the certificate net verified, and the digest of the
	 * trust bundle its heartbeats say it holds. */
	bool		 has_issuer, has_trust;
	uint8_t		 issuer[32], trust[32];
};

struct container;
struct raft_call;

/*
 * The parts of the parent's state, each owned by the files named with it:
 * only they change its fields, and each part's reset is what `leave` and a
 * failed init or join do to it (node_fsm.c).  The children's phases live
 * in the part of the file that talks to the child.
 */

/* The raft process and the store it serves (lifecycle.c, degraded.c, raft_calls.c). */
enum raft_phase {
	RAFT_IDLE,		/* no process, or not asked to start (a worker's idles) */
	RAFT_STARTING,		/* RAFTP_START sent */
	RAFT_UP,		/* RAFTP_START answered: the store serves */
};
/* Why the raft process is not restarted when it ends (parent.c's supervisor). */
enum raft_hold {
	RAFT_RUN,
	RAFT_HOLD_DISK,		/* it stopped for want of space: back once there is */
	RAFT_HOLD_REPAIR,	/* node repair: back once the leader made this node a spare */
};
struct store_part {
	enum raft_phase		 phase;
	enum raft_hold		 hold;
	uint64_t		 disk_checked_ms;
	bool			 bootstrap;	/* first start after init */
	unsigned		 damaged;	/* damaged exits in a row */
	char			 error[900];	/* the last failed start's detail */
	char			 health[1024];	/* "degraded: why", or "" */
	char			 repair_aside[64]; /* for the next RAFTP_START */
	/* Operations waiting for the store to come up. */
	struct op		*waiting_ready;
	/* Requests forwarded to the raft leader, waiting (raft_calls.c). */
	struct raft_call	*forwards;
	/*
	 * The leader's address as the raft process last reported it ("" for
	 * none known): where a follower sends a write straight away.
	 */
	char			 leader[263];
	/*
	 * `init --force-new-cluster` (ops_force_new.c): the op answered once
	 * the raft process, started again, has made this manager the only
	 * one, and the node table's change it commits first.
	 */
	struct op		*force_op;
	uint8_t			 force_cmd[1024];
	size_t			 force_cmd_len;
	/* ...and the managers its change removed, as the raft process said. */
	char			 forced_removed[MAX_PEERS][HUSH_ID_LEN + 1];
	size_t			 nforced_removed;
};
void	store_part_reset(struct store_part *s);

/* The net process and the cluster as this node sees it (cluster.c, assign_node.c). */
enum net_phase {
	NET_IDLE,		/* no process, or without this node's identity */
	NET_STARTING,		/* NET_START sent */
	NET_UP,			/* serving as this node */
};
struct cluster_view {
	enum net_phase		 net;
	/* Membership as last reported by the raft process (or the join). */
	char			 managers[MAX_PEERS][263];
	size_t			 nmanagers;
	char			 manager_ids[MAX_PEERS][HUSH_ID_LEN + 1];
	size_t			 nmanager_ids;
	char			 removed[MAX_PEERS * 4][HUSH_ID_LEN + 1];
	size_t			 nremoved;
	struct peer_seen	 seen[MAX_PEERS];
	size_t			 nseen;
	/* When each of managers[] last answered a heartbeat with a live store. */
	int64_t			 manager_ok[MAX_PEERS];
	bool			 removed_self;	/* a manager said this node was removed */
	/* Why net has not got this node's identity ("" once it has): for status. */
	char			 net_refused[256];
};
void	cluster_view_reset(struct cluster_view *v);

/*
 * The cluster's settings and CA as the store last reported them, and the
 * pki process's copy of the CA (lifecycle.c, seal_key.c).
 */
enum pki_phase {
	PKI_NO_CA,
	PKI_CA_LOADED,		/* the store's CA is in the pki process */
};
struct cluster_settings {
	enum pki_phase		 ca;
	bool			 autolock;
	uint64_t		 cert_expiry;
	uint8_t			 token_digest[32];
	bool			 have_digest;
	/* a sealing key made at start, not yet in the node table (seal_key.c) */
	bool			 seal_key_unregistered;
	/*
	 * The cluster's external CA (node_sign.c), from the cluster record:
	 * its URL, the PEM its TLS certificate must chain to, and the root
	 * it issues under; all NULL when this cluster's pki holds the key.
	 * extca_error: its last failure, shown by status until it signs again.
	 */
	char			*extca_url;
	char			*extca_cacert;
	char			*ca_root;
	char			 extca_error[200];
};
void	cluster_settings_reset(struct cluster_settings *s);

/*
 * The cluster's CA as this node last learnt it -- from its own store on a
 * manager, from the managers' heartbeat answers on any other node -- and
 * where this node stands against it (ca_follow.c).
 */
struct ca_part {
	bool			 known;
	uint8_t			 phase;		/* enum ca_phase */
	char			*root;		/* PEM of the current root */
	char			*next;		/* PEM of a rotation's next root, or NULL */
	char			*cross;		/* the cross-signed next root, or NULL */
	uint8_t			 root_spki[32], next_spki[32];
	uint8_t			 want_trust[32];	/* digest of the bundle the phase wants */
	/* this node */
	bool			 has_trust, has_issuer;
	uint8_t			 trust[32];	/* digest of certificates/ca.crt */
	uint8_t			 issuer[32];	/* SPKI digest of what issued node.crt */
	int64_t			 renew_asked;	/* monotonic: a renewal for the rotation */
	bool			 advancing;	/* leader: a CMD_CA_ADVANCE in flight */
	int64_t			 advance_at;	/* monotonic: when it was proposed */
	bool			 refused_logged;
	/*
	 * monotonic: since when every heartbeat failed on a certificate
	 * neither side could verify (0: one went through since) -- what a
	 * node sees that slept through a whole CA rotation.
	 */
	int64_t			 untrusted_since;
	int64_t			 net_up_at;	/* monotonic: net came up (cluster.c) */
};
void	ca_part_reset(struct ca_part *c);
/* How long that must last before status says so (a renewal can blip). */
#define CA_UNTRUSTED_SECS	10
/*
 * How long a manager listens to heartbeats before it judges which nodes
 * are up: longer than cluster.c's DOWN_AFTER_SECS plus a heartbeat.
 */
#define CA_SETTLE_SECS		10

/* The containers holding this node's secrets (containers*.c). */
struct container_set {
	struct container	*list;
	bool			 loaded;	/* the run dir's records read */
	int			 run_fd;	/* the run directory, locked */
	char			 boot_id[40];	/* records of another boot are stale */
};

struct parent {
	struct hushd_config	 cfg;
	enum parent_state	 state;		/* node_fsm.c alone assigns it */
	struct node_state	 node;
	struct child		 pki, raft, net, mounter;
	/* The unprivileged user pki, net and raft run as (--user). */
	uid_t			 user_uid;
	gid_t			 user_gid;
	struct store_part	 store;
	struct cluster_view	 view;
	struct cluster_settings	 settings;
	struct ca_part		 ca;
	struct assignments	 assign;	/* services placed here, values held */
	struct container_set	 containers;
	struct control		*ctl;		/* control.c: the clients */
	struct audit		 audit;		/* audit_events.c */
	/* The main loop's own descriptors (parent.c). */
	int			 listen_fd;
	int			 sig_fd;
	int			 timer_fd;	/* heartbeats */
	int			 lock_fd;
	bool			 stopping;
};

int	parent_main(const struct hushd_config *cfg);

/*
 * kernel_check.c: runs every kcheck probe and logs each missing feature
 * with what breaks; <0 if a required one is missing (hushd must not
 * start).  Forks its probes: call before any thread or child exists.
 */
int	parent_kernel_check(void);
/*
 * The parent's own confinement (parent_sandbox.c), after start-up: its
 * capabilities cut to the audit ones it holds, then its Landlock domain
 * (state dir, run dir, control socket's directory, /proc read-only) and
 * seccomp allow-list; trap_fd is where a trapped call is reported (the
 * launcher reads it and logs the call's name).
 */
int	parent_confine(const struct hushd_config *cfg, int trap_fd);

/* control.c */
int	control_listen(struct parent *p);
/* The listening socket while accepting, else -1 (poll() skips it). */
int	control_listen_fd(struct parent *p);
/* Accepts what is waiting, a bounded batch; reads what each has sent. */
void	control_accept(struct parent *p);
void	control_client_io(struct parent *p, struct client *c, short revents);
void	control_close_all(struct parent *p);
bool	control_client_alive(struct parent *p, const struct client *c);
struct pollfd;
size_t	control_pollfds(struct parent *p, struct pollfd *pfd, struct client **who, size_t max);
/* Closes the connections past their deadline; lowers *timeout to the next. */
void	control_tick(struct parent *p, int *timeout);

/*
 * control_refusals.c: refused control connections, counted and logged at
 * most once per CONTROL_LOG_EVERY_MS whatever their number.
 */
enum control_refusal {
	REFUSED_NOT_ROOT,
	REFUSED_IDLE,		/* no whole request within CONTROL_REQUEST_MS */
	REFUSED_EVICTED,	/* oldest pending, when CONTROL_PENDING_MAX were */
	REFUSED_CLI_FULL,
	REFUSED_HOOK_FULL,
	REFUSED_TOOBIG,
	REFUSED_MALFORMED,
	REFUSED_UNREAD,		/* a reply not read within CONTROL_DRAIN_MS */
	REFUSED_ACCEPT,		/* accept() failed: out of descriptors or memory */
	REFUSED_KINDS
};
#define CONTROL_LOG_EVERY_MS	10000
void	control_refused(enum control_refusal why, pid_t pid, const char *detail);
/* Logs what was counted, once its time has come; when the next is due, or -1. */
int	control_refusals_flush(void);

/*
 * The one shape of every step of an op that waits for a child: a raft
 * proposal or query (store_calls.h), or a typed call to the raft process
 * itself, pki, the mounter or net (raft_proc_calls.h, pki_calls.h,
 * mounter_calls.h, net_calls.h).  status is 0 or a negative hush_err,
 * with detail (may be NULL) saying why.  The wrappers decode the answer
 * into the result the caller gave them and pass reply NULL, as does the
 * store's coming up (lifecycle_wait_ready).  A peer's raw command or
 * query (raft_propose_raw, raft_query_raw) and a node's assignments
 * (store_node_assignments), which are relayed as they came, hand over the
 * answer itself.
 */
typedef void (*op_done_cb)(struct op *op, int status, const struct wire_msg *reply,
    const char *detail);

/* An operation: a control request in progress, possibly over several calls. */
struct op {
	struct parent	*p;
	struct client	*client;	/* NULL once the caller went away */
	uint32_t	 client_req;	/* request id to answer with */
	uint16_t	 type;
	struct op	*next_waiting;
	/* Run when the raft store becomes ready (or fails to). */
	op_done_cb	 on_ready;
	void		*ctx;
	void		(*ctx_free)(void *);
	/*
	 * An fd that came with the request (only CTL_CONTAINER_ATTACH may
	 * bring one: the container's pidfd); closed with the op unless a
	 * handler took it (has_fd false).
	 */
	bool		 has_fd;
	int		 fd;
};

void	op_reply(struct op *op, struct wire_enc *e);	/* finishes the op */
void	op_error(struct op *op, int code, const char *detail);
void	op_free(struct op *op);

/*
 * An op of the parent's own, answering no client (a renewal, a refresh of
 * a container's files), so its steps take the same shape; op_free() frees
 * ctx with ctx_free.  NULL when out of memory (ctx is still the caller's).
 */
struct op *op_internal(struct parent *p, void *ctx, void (*ctx_free)(void *));

/*
 * notify.c: systemd's Type=notify protocol.  notify_open() connects to
 * $NOTIFY_SOCKET (if set) once at start and unsets it; the others send one
 * datagram each on that socket and do nothing without one.
 */
int	notify_open(char *why, size_t whylen);
void	notify_ready(const struct parent *p);	/* READY=1 and the state */
void	notify_state(const struct parent *p);	/* STATUS= if it changed */
void	notify_stopping(void);
void	notify_close(void);

/* lifecycle.c: bringing the store up and keeping the children fed. */
void	lifecycle_child_started(struct parent *p, struct child *c);
int	lifecycle_start_raft(struct parent *p, bool bootstrap);
/* Park an op until raft is ready; done runs then (reply NULL). */
void	lifecycle_wait_ready(struct parent *p, struct op *op, op_done_cb done);
/* Takes op off that list (its on_ready will not run); false if it was not on it. */
bool	lifecycle_unpark(struct parent *p, struct op *op);
/* Runs every parked op's on_ready with status (0: the store is up). */
void	lifecycle_wake_waiting(struct parent *p, int status, const char *detail);
void	lifecycle_raft_event(struct parent *p, const struct wire_msg *m);
/* Load the CA from the store into the pki process. */
void	lifecycle_load_ca(struct parent *p);

/*
 * degraded.c: a raft process that exits with RAFT_EXIT_DAMAGED is restarted
 * RAFT_DAMAGED_TRIES times, then the node is PS_DEGRADED until `hushctl
 * node repair` (op_node_repair) rebuilds its raft data from its peers.
 */
#define RAFT_DAMAGED_TRIES	3
void	degraded_raft_exited(struct parent *p, int status);
void	op_node_repair(struct op *op, const struct wire_msg *m);
/* ops_force_new.c: `hushctl init --force-new-cluster`. */
void	op_force_new_cluster(struct op *op, const struct wire_msg *m);
/* ops_backup.c, ops_restore.c: `hushctl backup`, `hushctl restore`. */
void	op_backup(struct op *op, const struct wire_msg *m);
void	op_restore(struct op *op, const struct wire_msg *m);

/* cluster.c: the net process and what crosses it. */
void	cluster_child_started(struct parent *p, struct child *c);
int	cluster_start_net(struct parent *p);
void	cluster_net_request(struct parent *p, const struct wire_msg *m, int fd);
void	cluster_raft_connect(struct parent *p, const struct wire_msg *m);
void	cluster_nodes_event(struct parent *p, const struct wire_msg *m);
void	cluster_tick(struct parent *p);
/* A heartbeat to every manager now: what this node holds changed (ca_follow.c). */
void	cluster_heartbeat(struct parent *p);
bool	cluster_peer_reachable(const struct parent *p, const char *node_id);
/* Its last heartbeat said it cannot serve (a degraded manager). */
bool	cluster_peer_degraded(const struct parent *p, const char *node_id);
/* Other managers whose heartbeat answer came from a live store lately. */
size_t	cluster_managers_ok(const struct parent *p, size_t *others);
int64_t	parent_mono(void);
/* Send a DSP_* request to a manager through net; cb gets the reply frame. */
int	cluster_rpc(struct parent *p, const char *addr, struct wire_enc *req, call_cb cb, void *arg);
/* Parse the peer's frame inside a NET_RPC reply; <0 if it is MSG_ERROR. */
int	cluster_rpc_unwrap(const struct wire_msg *reply, uint16_t req_type, struct wire_msg *out,
	    char *detail, size_t detaillen);

/* ca_follow.c (this node following the CA) and ca_leader.c (the managers' view, the leader) */
void	ca_learn(struct parent *p, const char *root, const char *next, const char *cross,
	    uint8_t phase);
void	ca_follow(struct parent *p);
void	ca_own_refresh(struct parent *p);
void	ca_leader_tick(struct parent *p);
void	ca_waiting_for(const struct parent *p, char *buf, size_t len);
void	ca_counts(const struct parent *p, uint32_t *total, uint32_t *trusting,
	    uint32_t *renewed);
/* "ready", "needs-rotation" or "unknown" (T_TLS_STATUS). */
const char *ca_tls_status(const struct parent *p, const char *node_id);
struct wire_enc;
void	ca_heartbeat_put(const struct parent *p, struct wire_enc *e, const uint8_t *peer_trust);
void	ca_heartbeat_take(struct parent *p, const struct wire_msg *m);

/* renew.c */
void	renew_schedule(struct parent *p);
void	renew_tick(struct parent *p);
/* Renew now: the store gives this node another role than its certificate. */
bool	renew_now(struct parent *p);
/* Renew within delay seconds, for a CA rotation; false if already under way. */
bool	renew_soon(struct parent *p, int64_t delay);

/*
 * setup_node.c: what init and restore share once the cluster's CA is in
 * pki.  setup_issue() makes this manager's key into node_key and has pki
 * sign its certificate into cert (cb as for pki_issue()); on failure
 * nothing was sent and why says so.  setup_persist() writes node.keys
 * (sealed by kek, if any), the certificates, and puts the keys in the
 * keyring, with a new sealing key whose public half goes into seal_pub.
 */
struct pki_cert;
struct setup_keys {
	const struct secbuf	*dek;
	const struct secbuf	*node_key;
	const uint8_t		*kek;		/* 32 bytes, or NULL: no autolock */
	const char		*ca_cert;	/* PEM */
	const char		*node_cert;	/* PEM */
};
/*
 * Clears p->node and sets its advertise and listen addresses from m's
 * T_ADVERTISE_ADDR (default: this host's first IPv4 address) and
 * T_LISTEN_ADDR (default 0.0.0.0), port 4477 unless given; HUSH_E_INVAL
 * with why for one that does not parse.
 */
int	setup_addresses(struct parent *p, const struct wire_msg *m, char *why, size_t whylen);
int	setup_issue(struct op *op, struct secbuf *node_key, struct pki_cert *cert,
	    uint64_t expiry, op_done_cb cb, char *why, size_t whylen);
int	setup_persist(struct parent *p, const struct setup_keys *k,
	    uint8_t seal_pub[SEAL_PUB_BYTES], char *why, size_t whylen);
/* Then raft bootstraps this node as its only voter; ready runs once it serves. */
void	setup_start_store(struct op *op, op_done_cb ready);

/* ops_join.c */
void	op_join(struct op *op, const struct wire_msg *m);
void	join_serve(struct parent *p, const struct wire_msg *m);
/* The cluster's DEK (and KEK under autolock) sealed to a node's sealing key. */
int	join_wrap_keys(struct parent *p, struct wire_enc *e, const uint8_t seal_pub[32]);
/* Open the sealed keys of a join or renewal reply with this node's sealing key. */
int	join_unwrap(const struct wire_msg *m, uint16_t tag, struct secbuf *out);

/*
 * ops_pages.c: a list or inspect relayed from the store to the client a
 * page at a time (list: the request's T_CURSOR; get: its T_REFs).
 */
struct store_page;
typedef int (*store_list_fn)(struct op *op, const char *cursor, struct store_page *out,
    op_done_cb cb);
typedef int (*store_get_fn)(struct op *op, const struct wire_msg *req,
    struct store_page *out, op_done_cb cb);
void	op_relay_list(struct op *op, const struct wire_msg *m, store_list_fn list);
void	op_relay_get(struct op *op, const struct wire_msg *m, store_get_fn get);

/* ops_node.c */
void	op_node_list(struct op *op, const struct wire_msg *m);
void	op_node_inspect(struct op *op, const struct wire_msg *m);
void	op_node_promote(struct op *op, const struct wire_msg *m);
void	op_node_demote(struct op *op, const struct wire_msg *m);
void	op_node_rm(struct op *op, const struct wire_msg *m);
void	op_leave(struct op *op, const struct wire_msg *m);

/* Answer a request a child made (the reply goes back on its channel). */
void	child_answer(struct child *c, struct wire_enc *e, int fd);
void	child_answer_error(struct child *c, uint32_t id, int code, const char *detail);

/* ops_*.c: one handler per control request. */
void	op_status(struct op *op, const struct wire_msg *m);
void	op_init(struct op *op, const struct wire_msg *m);
void	op_join_token(struct op *op, const struct wire_msg *m);
/* ops_ca.c */
void	op_ca(struct op *op, const struct wire_msg *m);
void	op_ca_rotate(struct op *op, const struct wire_msg *m);
/* Answers with the ids of the store_applied (store_calls.h) in op's ctx, as tag. */
void	op_reply_ids(struct op *op, int status, const char *detail, uint16_t tag);
void	op_secret_ids_done(struct op *op, int status, const struct wire_msg *reply,
	    const char *detail);
/* A secret create/update/rm that failed before reaching the store: audit, answer. */
void	op_secret_failed(struct op *op, int code, const char *detail);
void	op_secret_create(struct op *op, const struct wire_msg *m);
void	op_secret_list(struct op *op, const struct wire_msg *m);
void	op_secret_inspect(struct op *op, const struct wire_msg *m);
void	op_secret_rm(struct op *op, const struct wire_msg *m);
void	op_update(struct op *op, const struct wire_msg *m);
void	op_unlock(struct op *op, const struct wire_msg *m);
/*
 * A node that starts locked tries the unlock key cached in the user
 * keyring (UNLOCK_KEY_CACHE_NAME, where `hushctl unlock --ask` has
 * systemd-ask-password keep it for a while) and is STARTING if one opens
 * node.keys; else it stays locked and the log says why.  Before the
 * children start.
 */
void	unlock_from_cache(struct parent *p);
/*
 * An unlock waits for the store to serve, at most UNLOCK_WAIT_SECS: a
 * manager whose quorum is lost never gets there, and its operator must
 * still hear that the key was right (to force a new cluster, say).
 * Called every parent tick.
 */
#define UNLOCK_WAIT_SECS	10
void	unlock_tick(struct parent *p);
void	op_unlock_key(struct op *op, const struct wire_msg *m);

/* ops_service.c */
void	op_service_create(struct op *op, const struct wire_msg *m);
void	op_service_list(struct op *op, const struct wire_msg *m);
void	op_service_inspect(struct op *op, const struct wire_msg *m);
void	op_service_update(struct op *op, const struct wire_msg *m);
void	op_service_rm(struct op *op, const struct wire_msg *m);
void	op_secret_update(struct op *op, const struct wire_msg *m);
void	op_node_update(struct op *op, const struct wire_msg *m);

/*
 * raft_calls.c: the parent's own commands and queries go through the
 * wrappers in store_calls.h (raft_call() in op_call.h underneath).  A
 * peer's already-encoded command or query (DSP_FORWARD, DSP_QUERY) goes
 * to this node's raft only, with no forwarding; the reply handed to cb
 * is the raft process's answer, or the parsed QRY_* reply.
 */
int	raft_propose_raw(struct op *op, const uint8_t *cmd, size_t len, op_done_cb cb);
int	raft_query_raw(struct op *op, const uint8_t *qry, size_t len, op_done_cb cb);
/*
 * RAFTP_STATUS: what this node's raft process says of itself, into out;
 * cb(op, status, NULL, detail) when it has answered.  On failure nothing
 * was sent and cb will not run.  With digest, it also digests its whole
 * store (daemon/raft/store_digest.c): O(n), for an operator's request only.
 */
struct raft_status {
	uint64_t	 term;
	uint64_t	 index;
	char		 state[17];		/* "leader", "follower", ... */
	char		 leader[HUSH_ID_LEN + 1];	/* its node id, or "" */
	char		 leader_addr[263];	/* its address, or "" */
	bool		 has_digest;		/* asked for, and computed at index */
	uint8_t		 digest[32];
	uint64_t	 secrets, services, nodes;	/* what the digest covers */
	/* The voters of its raft configuration (0: not known), and the others' ids. */
	uint32_t	 voters;
	char		 other_voters[MAX_PEERS][HUSH_ID_LEN + 1];
	size_t		 nother_voters;
};
__attribute__((warn_unused_result))
int	raft_status(struct op *op, bool digest, struct raft_status *out, op_done_cb cb);
/*
 * The raft leader is now at addr ("" while none is known): requests
 * forwarded to another address fail at once as "outcome unknown, retry".
 */
void	raft_leader_moved(struct parent *p, const char *addr);

/* A peer's DSP_* request being answered (cluster.c). */
struct peer_op {
	struct parent	*p;
	uint32_t	 net_req;
	uint16_t	 dsp_type;
	uint32_t	 dsp_req;
	uint8_t		 nonce[16];	/* of a sealed request, for its answer */
};
void	cluster_peer_reply(struct peer_op *x, const struct wire_enc *frame);
void	cluster_peer_error(struct peer_op *x, int code, const char *detail);

/*
 * peer_seal.c: what managers' parents say to each other through the net
 * processes, sealed with the DEK (DSP_FORWARD, DSP_QUERY and their
 * answers).  peer_seal() appends T_SEALED to e; peer_open() takes m's
 * T_SEALED and gives the message (lockmem: free it with lockmem_free())
 * and the request's nonce back, or
 * HUSH_E_AUTH for anything that was not sealed so, for this purpose,
 * within PEER_SEAL_WINDOW seconds of now.
 */
#define PEER_NONCE_BYTES	16
#define PEER_SEAL_WINDOW	60
#define PURPOSE_DSP_FORWARD	"hush/dsp-forward"
#define PURPOSE_DSP_FORWARD_R	"hush/dsp-forward-answer"
#define PURPOSE_DSP_QUERY	"hush/dsp-query"
#define PURPOSE_DSP_QUERY_R	"hush/dsp-query-answer"
int	peer_seal(const char *purpose, const uint8_t nonce[PEER_NONCE_BYTES],
	    const uint8_t *msg, size_t len, struct wire_enc *e);
int	peer_open(const char *purpose, const struct wire_msg *m,
	    uint8_t nonce[PEER_NONCE_BYTES], uint8_t **msg, size_t *msglen);
/* The same with the DEK and the time given (the test peer tests/tools/hush-probe). */
int	peer_seal_with(const uint8_t dek[32], const char *purpose,
	    const uint8_t nonce[PEER_NONCE_BYTES], int64_t now, const uint8_t *msg,
	    size_t len, struct wire_enc *e);
int	peer_open_with(const uint8_t dek[32], const char *purpose, int64_t now,
	    const struct wire_msg *m, uint8_t nonce[PEER_NONCE_BYTES], uint8_t **msg,
	    size_t *msglen);

/*
 * seal_key.c: the node's sealing key (X25519), the parent's alone; what
 * other nodes must send it past net is sealed to its public half.
 * seal_key_load() puts the key from node.keys in the keyring, or makes
 * one when the file predates sealing keys and rewrites node.keys (DEK and
 * node key from the keyring; kek as the file is sealed, or NULL).
 */
int	seal_key_public(uint8_t pub[SEAL_PUB_BYTES]);
int	seal_key_open(const uint8_t *box, size_t len, struct secbuf *out);
int	seal_key_new(struct secbuf *sk, uint8_t pub[SEAL_PUB_BYTES]);
int	seal_key_load(struct parent *p, const struct secbuf *from_file, const uint8_t *kek);
/* A manager records a sealing key it made at start in the node table. */
void	seal_key_register(struct parent *p);
/* keyfile_write() with the sealing key in the keyring. */
int	seal_key_write_keyfile(struct parent *p, const struct secbuf *dek,
	    const struct secbuf *node, const uint8_t *kek);
/*
 * node.keys was read in the format without a checksum: write it again in
 * the current one (a failure is logged; the old file still serves).
 */
void	keyfile_upgrade(struct parent *p, const struct secbuf *dek,
	    const struct secbuf *node, const uint8_t *kek);

/* containers.c: the OCI hook's requests, carried out by the mounter */
void	op_container_attach(struct op *op, const struct wire_msg *m);
void	op_container_detach(struct op *op, const struct wire_msg *m);
void	op_container_list(struct op *op, const struct wire_msg *m);
size_t	containers_count(const struct parent *p);
void	containers_event(struct parent *p, const struct wire_msg *m);
void	containers_mounter_lost(struct parent *p);
void	containers_mounter_started(struct parent *p);
/* The run directory: made 0700 and locked against a second hushd. */
int	containers_run_dir_open(struct parent *p, char *why, size_t whylen);
void	containers_refresh(struct parent *p);

/* assign_node.c / assign_serve.c: see assign.h */
void	assign_tick(struct parent *p);
void	assign_store_changed(struct parent *p);
void	assign_clear(struct parent *p);
const struct assigned_service *assign_find_service(const struct parent *p, const char *name);
const struct assigned_value *assign_find_value(const struct parent *p, const char *secret_id);
void	op_assignments(struct op *op, const struct wire_msg *m);
void	assign_serve(struct op *op, const char *peer, const struct wire_msg *dsp);
void	assign_serve_wake(struct parent *p);
void	assign_serve_tick(struct parent *p);
void	assign_serve_drop(struct parent *p);

int64_t	parent_now(void);

/* audit_events.c: the audit trail (kernel audit, or the log instead). */
void	audit_events_open(struct parent *p);
void	audit_unlock(struct parent *p, bool ok);
void	audit_unlock_key_rotate(struct parent *p, bool ok);
void	audit_autolock(struct parent *p, bool on, bool ok);
/* op: "secret-create", "secret-update" or "secret-rm"; ids: what the store's outcome named. */
void	audit_secret(struct parent *p, const char *op, const char (*ids)[HUSH_ID_LEN + 1],
	    size_t nids, bool ok);
/* files < 0: not known; reason: why secrets were taken back, or NULL. */
void	audit_container(struct parent *p, const char *op, const char *container,
	    const char *service, const char *reason, long files, bool ok);
/* For `hushctl status`: which sink, looked at again now. */
void	audit_status_text(struct parent *p, char *buf, size_t len);

#endif
