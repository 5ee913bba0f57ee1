/*
 * Main loop of the raft process: one libuv loop drives libraft's disk I/O,
 * its timers, and our channel to the parent.
 *
 * Nothing here starts until the parent sends RAFTP_START with the DEK: a
 * locked manager has a raft process that holds no key and has loaded no
 * log.  Once started, the process reports "ready" only after a barrier
 * has committed in the current term, so every entry in the log has been
 * applied before the parent reads anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "disk_space.h"
#include "err.h"
#include "from_parent.h"
#include "id.h"
#include "log.h"
#include "raft_proc.h"
#include "seal.h"
#include "secbuf.h"

char raft_proc_dir[PATH_MAX];

static void raft_proc_main(int fd);

static const uint16_t from_raft[] = { RAFTP_EVENT, RAFTP_CONNECT, 0 };

const struct child_desc raft_child = {
	.name = "raft",
	.max_msg = RAFT_PROC_MAX_MSG,
	.allow_fds = true,
	.from_child = from_raft,
	.caps = NULL,
	.ncaps = 0,
	/* Its directory is the user's (daemon/parent/node_state.c). */
	.unprivileged = true,
	.workdir = raft_proc_dir,
	.sandbox = &raft_sandbox,
	.main = raft_proc_main,
};

static const uint16_t from_parent[] = {
	RAFTP_START, RAFTP_PROPOSE, RAFTP_QUERY, RAFTP_STATUS, RAFTP_INBOUND, RAFTP_DEMOTE,
	RAFTP_BACKUP, RAFTP_CONNECT | MSG_REPLY, MSG_ERROR, 0
};
static const uint16_t cmd_types[] = {
	CMD_CLUSTER_INIT, CMD_TOKEN_ROTATE, CMD_SECRET_CREATE, CMD_SECRET_RM,
	CMD_CLUSTER_UPDATE, CMD_NODE_ADD, CMD_NODE_UPDATE, CMD_NODE_REMOVE,
	CMD_SERVICE_CREATE, CMD_SERVICE_UPDATE, CMD_SERVICE_RM, CMD_SECRET_UPDATE,
	CMD_FORCE_NEW_CLUSTER, CMD_STORE_LOAD, CMD_BACKUP_MARK, CMD_CA_ROTATE,
	CMD_CA_ADVANCE, 0
};
static const uint16_t query_types[] = {
	QRY_CLUSTER, QRY_SECRET_LIST, QRY_SECRET_GET, QRY_NODE_LIST, QRY_NODE_GET,
	QRY_SERVICE_LIST, QRY_SERVICE_GET, QRY_ASSIGNMENTS, 0
};

/* One proposal waiting for its entry to be applied. */
struct proposal {
	struct raft_apply	 req;
	uint32_t		 parent_id;
	uint8_t			 req_id[16];
};

static struct {
	uv_loop_t		*loop;
	uv_poll_t		 poll;
	uv_timer_t		 tick;
	struct chan		 ch;
	struct wire_msg		 m;
	struct raft		 raft;
	struct raft_io		 io;
	struct raft_fsm		 fsm;
	struct raft_uv_transport transport;
	struct store		 store;
	struct secbuf		 dek;
	char			 node_id[HUSH_ID_LEN + 1];
	bool			 started, ready, barrier_pending, closing;
	uint32_t		 start_reply_id;
	struct raft_barrier	 barrier;
	raft_id			 leader;	/* as last reported to the parent */
	uint64_t		 leader_term;
	uint64_t		 last_tick_ms;	/* uv_now() at the last tick */
	uv_timer_t		 resume;	/* see poll_cb() */
	bool			 space_short;	/* see space_for() */
	uint64_t		 space_checked_ms;
	uint64_t		 space_free;	/* at the last look */
	uint64_t		 space_spent;	/* asked for since */
	unsigned		 snap_threshold;	/* the parent's; see raft_proc_scale_snapshots() */
	unsigned		 snap_trailing;
	unsigned		 election_ms;	/* see raft_proc_snapshot_took() */
	unsigned		 snap_threshold_now;
	/*
	 * A forced new cluster's node table (CMD_FORCE_NEW_CLUSTER), committed
	 * once this process leads and before it says it is ready: no request
	 * is served, and no old manager added back to the configuration by
	 * membership_reconcile(), before the table says they are gone.
	 */
	struct raft_buffer	 first_cmd;
	uint8_t			 first_req[16];
	bool			 first_pending;
	struct raft_apply	 first_apply;
	char			*first_ids;	/* the managers it removed, for the start's answer */
} R;

/*
 * How late the 50 ms tick may be before this process counts as having
 * been stalled: stopped (SIGSTOP, a frozen VM or container) or starved.
 */
#define STALL_MS 150
/* Managers share a LAN: a dead leader is found well within 3 s. */
#define ELECTION_MS 350
#define ELECTION_MS_MAX 2000
#define SPACE_RECHECK_MS 100

static void update_poll(void);
static void shutdown_raft(void);

/* A peer's stream comes with an inbound notice or a connect answer; a backup's file. */
static const uint16_t with_fd[] = { RAFTP_INBOUND, RAFTP_CONNECT | MSG_REPLY, RAFTP_BACKUP,
	0 };

static const struct parent_link parent = {
	.child = "raft",
	.max_msg = RAFT_PROC_MAX_MSG,
	.allowed = from_parent,
	.with_fd = with_fd,
	.send = raft_proc_send,
};

void
raft_proc_send(struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish(e, &buf, &len)) == 0)
		r = chan_send(&R.ch, buf, len, -1);
	wire_enc_free(e);
	/* The parent is gone (killed, say): close the log, as when it closes. */
	if (r == HUSH_E_IO) {
		if (!R.closing)
			log_debug("the parent is gone; shutting down");
		shutdown_raft();
		return;
	}
	if (r != 0)
		fatal_r(r, "sending to the parent");
	update_poll();
}

void
raft_proc_error(uint32_t id, int code, const char *detail)
{
	struct wire_enc e;

	/* A failure fails e, and raft_proc_send() is fatal on that. */
	(void)!msg_error_reply(&e, id, code, detail);
	raft_proc_send(&e);
}

void
raft_proc_changed(unsigned what)
{
	struct wire_enc e;

	/* During the replay at start-up the parent learns the final state once. */
	if (!R.ready)
		return;
	if (what & STORE_CHG_CLUSTER) {
		wire_enc_init(&e, RAFTP_EVENT, 0, 4096);
		store_cluster_event(&R.store, &e);
		raft_proc_send(&e);
	}
	if (what & STORE_CHG_NODES) {
		wire_enc_init(&e, RAFTP_EVENT, 0, 65536);
		wire_put_u16(&e, T_EVENT, EV_NODES);
		for (size_t i = 0; i < R.store.nnodes; i++) {
			const struct store_node *n = &R.store.nodes[i];

			if (n->removed)
				wire_put_str(&e, T_PEER_ID, n->id);
			else if (n->role == ROLE_MANAGER) {
				wire_put_str(&e, T_MANAGER_ADDR, n->addr);
				wire_put_str(&e, T_NODE_ID, n->id);
			}
		}
		raft_proc_send(&e);
	}
	if (what & STORE_CHG_ASSIGN) {
		wire_enc_init(&e, RAFTP_EVENT, 0, 64);
		wire_put_u16(&e, T_EVENT, EV_ASSIGNMENTS);
		raft_proc_send(&e);
	}
}

/*
 * Tells the parent where the leader is whenever that changes, so a
 * request it forwarded to a leader that has since been replaced fails at
 * once, for the client to retry, instead of waiting on a stalled process
 * (daemon/parent/raft_calls.c).  Also the operator's record of elections.
 */
static void
report_leader(bool force)
{
	struct wire_enc e;
	raft_id lid = 0;
	const char *laddr = NULL;
	uint64_t term = raft_current_term(&R.raft);

	raft_leader(&R.raft, &lid, &laddr);
	if (!force && lid == R.leader && term == R.leader_term)
		return;
	if (lid != R.leader) {
		if (lid == 0)
			log_info("no raft leader is known (term %llu)",
			    (unsigned long long)term);
		else
			log_info("the raft leader is now %016llx at %s (term %llu)%s",
			    (unsigned long long)lid, laddr != NULL ? laddr : "?",
			    (unsigned long long)term,
			    raft_state(&R.raft) == RAFT_LEADER ? ": this manager" : "");
	}
	R.leader = lid;
	R.leader_term = term;
	if (!R.ready)
		return;
	wire_enc_init(&e, RAFTP_EVENT, 0, 512);
	wire_put_u16(&e, T_EVENT, EV_LEADERSHIP);
	if (lid != 0 && laddr != NULL && *laddr != '\0')
		wire_put_str(&e, T_LEADER_ADDR, laddr);
	wire_put_u64(&e, T_RAFT_TERM, term);
	raft_proc_send(&e);
}

static void
become_ready(void)
{
	struct wire_enc e;

	R.ready = true;
	log_info("raft is ready: term %llu, %llu entries applied",
	    (unsigned long long)raft_current_term(&R.raft),
	    (unsigned long long)raft_last_applied(&R.raft));
	wire_enc_init(&e, RAFTP_START | MSG_REPLY, R.start_reply_id, 4096);
	/* A forced new cluster's start names the managers it removed. */
	store_put_ids(&e, T_PEER_ID, R.first_ids);
	free(R.first_ids);
	R.first_ids = NULL;
	raft_proc_send(&e);
	if (R.store.cluster.present)
		raft_proc_changed(STORE_CHG_CLUSTER | STORE_CHG_NODES | STORE_CHG_ASSIGN);
	report_leader(true);
}

/* Exits with code once the parent has every answer already queued. */
static void __attribute__((__noreturn__))
flush_and_exit(int code)
{
	int flags = fcntl(R.ch.fd, F_GETFL);

	if (flags >= 0 && fcntl(R.ch.fd, F_SETFL, flags & ~O_NONBLOCK) == 0)
		(void)!chan_flush(&R.ch);	/* exiting either way */
	_exit(code);
}

/*
 * libraft failed to write.  Its disk I/O never recovers from that in the
 * same process (raft_uv marks itself errored), so this process ends, after
 * its answers are out, and the parent starts a new one once there is room.
 */
static void __attribute__((__noreturn__))
disk_failed(const char *what, int status)
{
	log_err("%s: %s (%s); the raft store stops and starts again once %llu "
	    "bytes are free in %s", what, raft_strerror(status),
	    R.io.errmsg[0] != '\0' ? R.io.errmsg : raft_errmsg(&R.raft),
	    (unsigned long long)HUSH_RAFT_DISK_NEED, raft_proc_dir);
	flush_and_exit(RAFT_EXIT_DISK);
}

static bool
disk_status(int status)
{
	return status == RAFT_NOSPACE || status == RAFT_IOERR;
}

/*
 * Whether libraft may be asked to write extra bytes more: it needs its
 * spare segments' worth free as well (disk_space.h).  Logs each change
 * between short and not, never each refusal.  After a shortage the
 * process restarts (see tick_cb()): a spare segment libraft failed to
 * prepare meanwhile would fail a later write, with no error before.
 */
static bool
space_for(uint64_t extra, char *why, size_t whylen)
{
	uint64_t now = uv_now(R.loop);
	bool ok;

	/*
	 * A statfs() per write was a system call per write for an answer
	 * that changes slowly: between two looks, 100 ms apart at most, the
	 * writes' own bytes are counted off the free space last seen.
	 */
	if (!R.space_short && now - R.space_checked_ms < SPACE_RECHECK_MS &&
	    R.space_free >= HUSH_RAFT_DISK_NEED + R.space_spent + extra) {
		R.space_spent += extra;
		return true;
	}
	ok = disk_check(".", raft_proc_dir, HUSH_RAFT_DISK_NEED + extra, why,
	    whylen) != HUSH_E_NOSPACE;
	if (disk_free(".", &R.space_free) != 0)
		R.space_free = 0;	/* look again next time */
	R.space_spent = extra;
	R.space_checked_ms = now;
	if (!ok && !R.space_short)
		log_warn("%s: the raft store takes no writes until space is freed", why);
	if (!ok)
		R.space_short = true;
	return ok;
}

static void
first_applied(struct raft_apply *req, int status, void *result)
{
	const struct store_outcome *o;
	char why[600];

	R.barrier_pending = false;
	if (disk_status(status))
		disk_failed("cannot write the new cluster's node table", status);
	if (status != 0) {
		/* Uncommitted, or committed and not known: the tick asks again,
		 * and the store's outcome table answers a repeat. */
		log_warn("the new cluster's node table did not commit: %s; retrying",
		    raft_strerror(status));
		return;
	}
	if ((o = store_outcome(&R.store, R.first_req)) != NULL && o->code != 0) {
		snprintf(why, sizeof(why), "the new cluster's node table was refused: %s",
		    o->errmsg != NULL ? o->errmsg : hush_strerror(o->code));
		log_err("%s", why);
		if (R.start_reply_id != 0)
			raft_proc_error(R.start_reply_id, o->code, why);
		/* Not ready without it: the parent starts an ordinary process. */
		flush_and_exit(1);
	}
	R.first_pending = false;
	if (o != NULL && o->ids != NULL && *o->ids != '\0') {
		log_warn("forced a new cluster: managers removed: %s", o->ids);
		R.first_ids = strdup(o->ids);
	}
	raft_free(R.first_cmd.base);
	R.first_cmd.base = NULL;
	if (!R.ready)
		become_ready();
}

/* Proposes the forced cluster's node table (a copy: libraft takes the buffer). */
static void
propose_first(void)
{
	struct raft_buffer b;
	int r;

	if (store_outcome(&R.store, R.first_req) != NULL) {
		first_applied(&R.first_apply, 0, NULL);
		return;
	}
	b.len = R.first_cmd.len;
	if ((b.base = raft_malloc(b.len)) == NULL)
		fatal("out of memory");
	memcpy(b.base, R.first_cmd.base, b.len);
	R.barrier_pending = true;
	if ((r = raft_apply(&R.raft, &R.first_apply, &b, 1, first_applied)) != 0) {
		R.barrier_pending = false;
		log_warn("cannot propose the new cluster's node table: %s", raft_strerror(r));
	}
}

static void
barrier_cb(struct raft_barrier *req, int status)
{
	R.barrier_pending = false;
	if (disk_status(status))
		disk_failed("cannot write the start-up barrier", status);
	if (status != 0) {
		log_warn("start-up barrier failed: %s", raft_strerror(status));
		return;		/* the tick tries again */
	}
	if (R.first_pending)
		propose_first();
	else if (!R.ready)
		become_ready();
}

/*
 * Every few seconds, give the heap's free pages back.  A burst (a list of
 * every secret by 64 clients, the log between two snapshots, updates that
 * replace every value) leaves the heap fragmented and as large as at its
 * peak: 12 MB held for 7 MB in use at 10,000 secrets.  malloc_trim()
 * returns whole free pages inside it too, not only its top.
 */
#define TRIM_EVERY_MS 5000

static void
trim_heap(void)
{
	static uint64_t last;

	if (R.last_tick_ms - last < TRIM_EVERY_MS)
		return;
	last = R.last_tick_ms;
	(void)malloc_trim(0);
}

static void
tick_cb(uv_timer_t *t)
{
	char why[PATH_MAX + 128];
	int r;

	/* A tick far behind its time: the process stood still (stall.c). */
	if (R.started && R.last_tick_ms != 0)
		stall_seen(&R.raft, uv_now(R.loop) - R.last_tick_ms, uv_now(R.loop));
	R.last_tick_ms = uv_now(R.loop);
	if (!R.started || R.closing)
		return;
	report_leader(false);
	/* Followers too: libraft appends what the leader sends without us. */
	if (!R.space_short && R.last_tick_ms - R.space_checked_ms >= 1000)
		(void)space_for(0, why, sizeof(why));
	else if (R.space_short && R.last_tick_ms - R.space_checked_ms >= 1000 &&
	    space_for(0, why, sizeof(why))) {
		log_info("%s has room again: restarting the raft store to drop "
		    "any write libraft failed meanwhile", raft_proc_dir);
		flush_and_exit(RAFT_EXIT_REFRESH);
	}
	if (R.ready) {
		membership_reconcile(&R.raft, &R.store, uv_now(R.loop));
		backup_tick(&R.store, R.dek.p, R.node_id, raft_last_applied(&R.raft),
		    uv_now(R.loop));
		trim_heap();
		return;
	}
	if (R.barrier_pending)
		return;
	/* A follower is ready once it knows a leader and has applied all that
	 * it knows to be committed. */
	if (raft_state(&R.raft) == RAFT_FOLLOWER) {
		raft_id lid;
		const char *laddr;

		raft_leader(&R.raft, &lid, &laddr);
		if (lid != 0 && raft_commit_index(&R.raft) > 0 &&
		    raft_last_applied(&R.raft) >= raft_commit_index(&R.raft))
			become_ready();
		return;
	}
	if (raft_state(&R.raft) != RAFT_LEADER || !space_for(0, why, sizeof(why)))
		return;
	R.barrier_pending = true;
	if ((r = raft_barrier(&R.raft, &R.barrier, barrier_cb)) != 0) {
		R.barrier_pending = false;
		log_warn("cannot append the start-up barrier: %s", raft_strerror(r));
	}
}

/*
 * `hushctl init --force-new-cluster`: this manager's configuration becomes
 * itself alone (libraft's raft_recover() appends it to the log), so it
 * elects itself; the node table follows in the first command it commits
 * (T_COMMAND, CMD_FORCE_NEW_CLUSTER).  Its log, with whatever it holds,
 * is kept: entries it had not seen committed commit now.
 */
static int
force_new_cluster(const struct wire_msg *m, raft_id id, const char *address)
{
	struct raft_configuration conf;
	struct wire_msg *cmd;
	const uint8_t *raw, *req_id;
	size_t rawlen, len;
	char why[256];
	int r;

	if (wire_get_bytes(m, T_COMMAND, &raw, &rawlen) != 0) {
		raft_proc_error(m->hdr.request_id, HUSH_E_PROTO, "a forced new cluster "
		    "needs its node table");
		return -1;
	}
	if ((cmd = malloc(sizeof(*cmd))) == NULL)
		fatal("out of memory");
	r = msg_parse(raw, rawlen, WIRE_MAX_MSG, (const uint16_t[]){ CMD_FORCE_NEW_CLUSTER, 0 },
	    cmd, why, sizeof(why));
	if (r == 0 && wire_get_bytes(cmd, T_REQ_ID, &req_id, &len) == 0)
		memcpy(R.first_req, req_id, sizeof(R.first_req));
	free(cmd);
	if (r != 0) {
		raft_proc_error(m->hdr.request_id, HUSH_E_PROTO, why);
		return -1;
	}
	/* raft_recover() of an empty log is an assertion in libraft, not an error. */
	if (!raft_dir_has_log()) {
		raft_proc_error(m->hdr.request_id, HUSH_E_NOTINIT, "this manager's raft "
		    "log is empty: there is nothing to make a new cluster from; restore a "
		    "backup instead ('hushctl restore')");
		return -1;
	}
	if ((r = entry_seal(R.dek.p, raw, rawlen, &R.first_cmd)) != 0)
		fatal_r(r, "sealing a raft entry");
	raft_configuration_init(&conf);
	r = raft_configuration_add(&conf, id, address, RAFT_VOTER);
	if (r == 0)
		r = raft_recover(&R.raft, &conf);
	raft_configuration_close(&conf);
	if (r != 0) {
		char detail[600];

		snprintf(detail, sizeof(detail), "cannot make this manager the only voter: "
		    "%s (%s)", raft_strerror(r), R.io.errmsg[0] ? R.io.errmsg :
		    raft_errmsg(&R.raft));
		raft_proc_damaged(detail);
	}
	R.first_pending = true;
	log_warn("forcing a new cluster: this manager (%016llx at %s) is now the only "
	    "voter of its raft configuration", (unsigned long long)id, address);
	return 0;
}

static void
do_start(const struct wire_msg *m)
{
	struct raft_configuration conf;
	char address[263];
	const uint8_t *dek;
	size_t deklen;
	char aside[64], why[300];
	bool bootstrap, force_new = false;
	uint32_t threshold, trailing;
	raft_id id;
	int r;

	if (R.started) {
		raft_proc_error(m->hdr.request_id, HUSH_E_PROTO, "raft already started");
		return;
	}
	if (wire_get_bytes(m, T_DEK, &dek, &deklen) != 0 ||
	    wire_get_str(m, T_NODE_ID, R.node_id, sizeof(R.node_id)) != 0 ||
	    wire_get_str(m, T_ADDRESS, address, sizeof(address)) != 0 ||
	    wire_get_bool(m, T_BOOTSTRAP, &bootstrap) != 0 ||
	    wire_get_u32(m, T_SNAP_THRESHOLD, &threshold) != 0 ||
	    wire_get_u32(m, T_SNAP_TRAILING, &trailing) != 0) {
		parent_msg_refuse(&parent, &m->hdr, "a field it needs is missing");
		return;
	}
	if ((r = secbuf_dup(&R.dek, dek, deklen)) != 0)
		fatal_r(r, "keeping the data key");
	id = hush_id_raft(R.node_id);
	R.start_reply_id = m->hdr.request_id;
	/* `hushctl node repair`: start from an empty log, the old one kept. */
	if (wire_get_str(m, T_SET_ASIDE, aside, sizeof(aside)) == 0 &&
	    raft_set_aside(aside, why, sizeof(why)) != 0)
		raft_proc_damaged(why);
	/*
	 * libraft passes over a damaged snapshot .meta for an older snapshot
	 * without a word: every file we can check is checked before it loads.
	 */
	{
		char damaged[512], detail[800];

		if (raft_damage_scan(R.dek.p, damaged, sizeof(damaged))) {
			snprintf(detail, sizeof(detail), "raft data in %.200s is damaged: %s",
			    raft_proc_dir, damaged);
			raft_proc_damaged(detail);
		}
	}

	if ((r = store_init(&R.store)) != 0)
		fatal_r(r, "initialising the state machine");
	store_use_key(&R.store, R.dek.p);
	if ((r = fsm_init(&R.fsm, &R.store, R.dek.p)) != 0 ||
	    (r = transport_init(&R.transport, &R.ch)) != 0)
		fatal_r(r, "initialising the state machine");
	/*
	 * "." is raft_proc_dir: the process was started in it as root
	 * (child_desc.workdir), and as the user hush it could not reach it
	 * by its path through a state dir that is root's and 0700.
	 */
	if ((r = raft_uv_init(&R.io, R.loop, ".", &R.transport)) != 0)
		goto raft_failed;
	/* A damaged segment must stop this node, never be skipped. */
	raft_uv_set_auto_recovery(&R.io, false);
	/* Said, not assumed: disk_space.h reserves room by this size. */
	raft_uv_set_segment_size(&R.io, HUSH_RAFT_SEGMENT_BYTES);
	/* Payloads are ciphertext: compression would only cost time. */
	raft_uv_set_snapshot_compression(&R.io, false);
	/* Followers hold no streams to each other until an election needs
	 * one; a failed first attempt must not cost a whole second. */
	raft_uv_set_connect_retry_delay(&R.io, 250);
	if ((r = raft_init(&R.raft, &R.io, &R.fsm, id, address)) != 0)
		goto raft_failed;
	raft_set_pre_vote(&R.raft, true);
	/* Managers share a LAN: detect a dead leader well within 3 s. */
	raft_set_election_timeout(&R.raft, ELECTION_MS);
	R.election_ms = ELECTION_MS;
	raft_set_heartbeat_timeout(&R.raft, 35);
	raft_set_snapshot_threshold(&R.raft, threshold);
	R.snap_threshold = R.snap_threshold_now = threshold;
	R.snap_trailing = trailing;
	raft_set_snapshot_trailing(&R.raft, trailing);
	if (bootstrap) {
		raft_configuration_init(&conf);
		r = raft_configuration_add(&conf, id, address, RAFT_VOTER);
		if (r == 0)
			r = raft_bootstrap(&R.raft, &conf);
		raft_configuration_close(&conf);
		if (r != 0 && r != RAFT_CANTBOOTSTRAP)
			goto raft_failed;
	}
	if (wire_get_bool(m, T_FORCE_NEW, &force_new) == 0 && force_new &&
	    force_new_cluster(m, id, address) != 0)
		return;
	if ((r = raft_start(&R.raft)) != 0)
		goto raft_failed;
	R.started = true;
	log_info("raft started in %s as %016llx", raft_proc_dir, (unsigned long long)id);
	return;

raft_failed:
	{
		char detail[900], damaged[512];

		const char *lib = R.io.errmsg[0] ? R.io.errmsg : raft_errmsg(&R.raft);

		snprintf(detail, sizeof(detail), "raft cannot start in %.200s: %s%s%s",
		    raft_proc_dir, raft_strerror(r), *lib ? ": " : "", lib);
		/* libraft does not name every damaged file: look for one ourselves. */
		if (raft_damage_scan(R.dek.p, damaged, sizeof(damaged)))
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
			    "; damaged: %s", damaged);
		raft_proc_damaged(detail);
	}
}

void
raft_proc_damaged(const char *detail)
{
	log_err("%s", detail);
	/* Said once, to the start request if it is still waiting. */
	if (!R.ready && R.start_reply_id != 0) {
		raft_proc_error(R.start_reply_id, HUSH_E_CORRUPT, detail);
		R.start_reply_id = 0;
	}
	/* Best effort: the process ends either way, and the parent sees it. */
	(void)!chan_flush(&R.ch);
	_exit(RAFT_EXIT_DAMAGED);
}

/*
 * A snapshot serializes every record while the loop stands still; taken
 * every `threshold` entries whatever the store's size, it made the cost
 * of a write grow with the store (at 20,000 secrets, a 2/3 s stall every
 * 1024 writes).  Waiting for a quarter of the records' count in entries
 * keeps the cost per write flat, and bounds what a restart replays to a
 * quarter of what the snapshot holds.  The log kept after a snapshot
 * grows with it (half of that), so the log held in memory stays within
 * a small multiple of the store's own size.
 */
void
raft_proc_scale_snapshots(size_t nrecords)
{
	size_t want = nrecords / 4;

	if (!R.started)
		return;
	if (want < R.snap_threshold)
		want = R.snap_threshold;
	if (want > UINT32_MAX / 2)
		want = UINT32_MAX / 2;
	/* Only on a real change: not a call into libraft per entry. */
	if (want == R.snap_threshold_now || (want > R.snap_threshold_now &&
	    want - R.snap_threshold_now < R.snap_threshold_now / 8))
		return;
	R.snap_threshold_now = (unsigned)want;
	raft_set_snapshot_threshold(&R.raft, R.snap_threshold_now);
	/*
	 * And a follower that falls behind by less than half of that is
	 * sent entries, not the whole store: at 100,000 secrets a snapshot
	 * is megabytes to send, open and load.
	 */
	raft_set_snapshot_trailing(&R.raft, want / 2 > R.snap_trailing ?
	    (unsigned)(want / 2) : R.snap_trailing);
}

/*
 * A snapshot stops this process's loop for as long as it takes (libraft
 * 0.22 takes it synchronously), and every manager takes its own at about
 * the same index.  Once that is near the election timeout, a leader
 * taking one misses its heartbeats and the others elect another, which
 * soon stalls the same way: elections one after another under writes,
 * measured at 250,000 secrets.  The timeout grows to twice the longest
 * snapshot seen (at most 2 s: a dead leader is still found within 3 s),
 * and never shrinks back while the process runs.
 */
void
raft_proc_snapshot_took(unsigned ms)
{
	unsigned want = ms < ELECTION_MS_MAX / 2 ? 2 * ms : ELECTION_MS_MAX;

	if (!R.started || want <= R.election_ms)
		return;
	log_info("a snapshot took %u ms: the election timeout is now %u ms (was %u)",
	    ms, want, R.election_ms);
	R.election_ms = want;
	raft_set_election_timeout(&R.raft, want);
}

unsigned long long
raft_proc_applying(void)
{
	return R.started ? (unsigned long long)raft_last_applied(&R.raft) + 1 : 0;
}

static int
not_ready(uint32_t id)
{
	raft_id lid;
	const char *laddr;
	char detail[300];

	if (!R.started || !R.ready) {
		raft_proc_error(id, HUSH_E_UNAVAIL, "the raft store is starting");
		return 1;
	}
	if (raft_state(&R.raft) != RAFT_LEADER) {
		raft_leader(&R.raft, &lid, &laddr);
		snprintf(detail, sizeof(detail), "this manager is not the raft leader%s%s",
		    laddr ? "; the leader is at " : "", laddr ? laddr : "");
		raft_proc_error(id, HUSH_E_NOTLEADER, detail);
		return 1;
	}
	if (stall_unconfirmed(&R.raft, uv_now(R.loop))) {
		raft_proc_error(id, HUSH_E_UNAVAIL, "this manager stood still as the raft "
		    "leader and is confirming that it still leads; retry");
		return 1;
	}
	return 0;
}

static void
reply_outcome(uint32_t parent_id, const struct store_outcome *o, bool duplicate,
    raft_index index)
{
	struct wire_enc e;

	if (o->code != 0) {
		raft_proc_error(parent_id, o->code, o->errmsg);
		return;
	}
	wire_enc_init(&e, RAFTP_PROPOSE | MSG_REPLY, parent_id, 65536);
	store_put_ids(&e, T_SECRET_ID, o->ids);
	if (duplicate)
		wire_put_bool(&e, T_DUPLICATE, true);
	wire_put_u64(&e, T_RAFT_INDEX, index);
	raft_proc_send(&e);
}

static void
apply_cb(struct raft_apply *req, int status, void *result)
{
	struct proposal *p = req->data;
	const struct store_outcome *o;

	if (disk_status(status)) {
		raft_proc_error(p->parent_id, status == RAFT_NOSPACE ? HUSH_E_NOSPACE :
		    HUSH_E_IO, "the raft log could not be written; the raft store "
		    "restarts: retry");
		disk_failed("cannot append to the raft log", status);
	}
	if (status != 0) {
		/* The entry may or may not commit later: only a retry with the
		 * same request id can tell, and the dedup table makes it safe. */
		raft_proc_error(p->parent_id, HUSH_E_UNAVAIL, status == RAFT_LEADERSHIPLOST ?
		    "leadership was lost before the write committed; retry" :
		    raft_strerror(status));
	} else if ((o = store_outcome(&R.store, p->req_id)) == NULL) {
		raft_proc_error(p->parent_id, HUSH_E_INTERNAL, "applied command left no outcome");
	} else {
		reply_outcome(p->parent_id, o, false, raft_last_applied(&R.raft));
	}
	sodium_memzero(p, sizeof(*p));
	free(p);
}

static void
do_propose(const struct wire_msg *m)
{
	struct wire_msg *cmd;
	const struct store_outcome *o;
	const uint8_t *raw, *req_id;
	struct proposal *p;
	struct raft_buffer buf;
	size_t rawlen, len;
	char why[PATH_MAX + 128];
	int r;

	if (wire_get_bytes(m, T_COMMAND, &raw, &rawlen) != 0) {
		parent_msg_refuse(&parent, &m->hdr, "no command");
		return;
	}
	/* Before the leader test: a follower must hold the entry as well. */
	if (R.started && !space_for(rawlen, why, sizeof(why))) {
		raft_proc_error(m->hdr.request_id, HUSH_E_NOSPACE, why);
		return;
	}
	if (not_ready(m->hdr.request_id))
		return;
	if ((cmd = malloc(sizeof(*cmd))) == NULL)
		fatal("out of memory");
	if ((r = msg_parse(raw, rawlen, WIRE_MAX_MSG, cmd_types, cmd, why, sizeof(why))) != 0) {
		/* Never into the log: nothing is proposed. */
		free(cmd);
		parent_msg_refuse(&parent, &m->hdr, why);
		return;
	}
	wire_get_bytes(cmd, T_REQ_ID, &req_id, &len);
	if ((o = store_outcome(&R.store, req_id)) != NULL) {
		/* A retry of a request that already committed. */
		reply_outcome(m->hdr.request_id, o, true, raft_last_applied(&R.raft));
		free(cmd);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("out of memory");
	p->parent_id = m->hdr.request_id;
	memcpy(p->req_id, req_id, 16);
	free(cmd);
	if ((r = entry_seal(R.dek.p, raw, rawlen, &buf)) != 0)
		fatal_r(r, "sealing a raft entry");
	p->req.data = p;
	/* On failure libraft has already released buf.base. */
	if ((r = raft_apply(&R.raft, &p->req, &buf, 1, apply_cb)) != 0) {
		log_warn("raft_apply: %s (%s)", raft_strerror(r), raft_errmsg(&R.raft));
		free(p);
		raft_proc_error(m->hdr.request_id, r == RAFT_NOTLEADER ? HUSH_E_NOTLEADER :
		    HUSH_E_UNAVAIL, raft_strerror(r));
	}
}

static void
do_query(const struct wire_msg *m)
{
	struct wire_msg *q;
	struct wire_enc e, res;
	const uint8_t *raw, *buf;
	size_t rawlen, len;
	char why[256];
	int r;

	bool local = false;

	/* Reads go to the leader unless the caller accepts this replica's view. */
	if (wire_get_bool(m, T_FORCE, &local) == 0 && local) {
		if (!R.started || !R.ready) {
			raft_proc_error(m->hdr.request_id, HUSH_E_UNAVAIL, "the raft store is starting");
			return;
		}
	} else if (not_ready(m->hdr.request_id)) {
		return;
	}
	if (wire_get_bytes(m, T_QUERY, &raw, &rawlen) != 0) {
		parent_msg_refuse(&parent, &m->hdr, "no query");
		return;
	}
	if ((q = malloc(sizeof(*q))) == NULL)
		fatal("out of memory");
	if ((r = msg_parse(raw, rawlen, WIRE_MAX_MSG, query_types, q, why, sizeof(why))) != 0) {
		free(q);
		parent_msg_refuse(&parent, &m->hdr, why);
		return;
	}
	r = store_query(&R.store, q, &res);
	free(q);
	if (r == 0)
		r = wire_enc_finish(&res, &buf, &len);
	if (r != 0) {
		wire_enc_free(&res);
		raft_proc_error(m->hdr.request_id, r, "the answer does not fit in a message");
		return;
	}
	wire_enc_init(&e, RAFTP_QUERY | MSG_REPLY, m->hdr.request_id, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_QUERY, buf, len);
	wire_enc_free(&res);
	raft_proc_send(&e);
}

static void
demoted(void *arg, int status)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;
	struct wire_enc e;

	if (status != 0) {
		raft_proc_error(id, HUSH_E_UNAVAIL, raft_strerror(status));
		return;
	}
	wire_enc_init(&e, RAFTP_DEMOTE | MSG_REPLY, id, 64);
	raft_proc_send(&e);
}

/* A manager asks to stop voting before it rebuilds its log (membership.c). */
static void
do_demote(const struct wire_msg *m)
{
	char node[HUSH_ID_LEN + 1];
	int r;

	if (not_ready(m->hdr.request_id))
		return;
	if (wire_get_str(m, T_NODE_ID, node, sizeof(node)) != 0) {
		parent_msg_refuse(&parent, &m->hdr, "no node");
		return;
	}
	r = membership_demote(&R.raft, node, demoted, (void *)(uintptr_t)m->hdr.request_id);
	if (r == 1)
		demoted((void *)(uintptr_t)m->hdr.request_id, 0);
	else if (r != 0)
		raft_proc_error(m->hdr.request_id, r == RAFT_NOTLEADER ? HUSH_E_NOTLEADER :
		    HUSH_E_UNAVAIL, r == RAFT_CANTCHANGE ? "another change of the raft "
		    "configuration is under way; retry" : raft_strerror(r));
}

static void
do_status(const struct wire_msg *m)
{
	struct wire_enc e;
	raft_id lid = 0;
	const char *laddr = NULL;
	char leader[HUSH_ID_LEN + 1] = "";
	bool want = false;

	wire_enc_init(&e, RAFTP_STATUS | MSG_REPLY, m->hdr.request_id, 1024);
	if (R.started && stall_unconfirmed(&R.raft, uv_now(R.loop))) {
		/* Not "leader" until a quorum says so again (stall.c). */
		wire_put_u64(&e, T_RAFT_TERM, raft_current_term(&R.raft));
		wire_put_str(&e, T_RAFT_STATE, "confirming");
		wire_put_u64(&e, T_RAFT_INDEX, raft_last_applied(&R.raft));
	} else if (R.started) {
		raft_leader(&R.raft, &lid, &laddr);
		for (size_t i = 0; lid != 0 && i < R.store.nnodes; i++)
			if (hush_id_raft(R.store.nodes[i].id) == lid)
				snprintf(leader, sizeof(leader), "%s", R.store.nodes[i].id);
		if (laddr != NULL && *laddr != '\0')
			wire_put_str(&e, T_LEADER_ADDR, laddr);
		wire_put_u64(&e, T_RAFT_TERM, raft_current_term(&R.raft));
		wire_put_str(&e, T_RAFT_STATE, raft_state_name(raft_state(&R.raft)));
		wire_put_u64(&e, T_RAFT_INDEX, raft_last_applied(&R.raft));
	} else {
		wire_put_u64(&e, T_RAFT_TERM, 0);
		wire_put_str(&e, T_RAFT_STATE, "stopped");
		wire_put_u64(&e, T_RAFT_INDEX, 0);
	}
	wire_put_str(&e, T_RAFT_LEADER, leader);
	/*
	 * The voters of the configuration as the log has it, which a manager
	 * that lost its quorum still knows, when nothing else does: what
	 * `init --force-new-cluster` weighs a quorum against, and removes.
	 */
	if (R.started) {
		uint32_t voters = 0;

		for (unsigned i = 0; i < R.raft.configuration.n; i++) {
			const struct raft_server *srv = &R.raft.configuration.servers[i];

			if (srv->role != RAFT_VOTER)
				continue;
			voters++;
			for (size_t j = 0; srv->id != R.raft.id && j < R.store.nnodes; j++)
				if (hush_id_raft(R.store.nodes[j].id) == srv->id)
					wire_put_str(&e, T_PEER_ID, R.store.nodes[j].id);
		}
		wire_put_u32(&e, T_COUNT, voters);
	}
	/* At the index just reported: this loop applies nothing meanwhile. */
	if (R.started && wire_get_bool(m, T_DIGEST_WANTED, &want) == 0 && want)
		store_digest_put(&R.store, R.dek.p, &e);
	raft_proc_send(&e);
}

/* The parent answered our RAFTP_CONNECT id (the stream, if any, is dup'ed). */
static void
connect_answered(uint32_t id, int status, int fd)
{
	if (!R.started || !transport_owns(&R.transport, id) ||
	    transport_connect_reply(&R.transport, id, status, fd) != 0)
		log_err("dropped an answer from the parent to request %u, a "
		    "connect this process is not waiting for", id);
}

static void
handle(struct chan_msg *cm)
{
	char why[256], peer[HUSH_ID_LEN + 1], address[263];
	int status;

	switch (parent_msg_take(&parent, cm, &R.m, why, sizeof(why))) {
	case PARENT_MSG_OK:
		break;
	case PARENT_MSG_BAD_ANSWER:
		connect_answered(R.m.hdr.request_id, HUSH_E_INTERNAL, -1);
		return;
	case PARENT_MSG_REFUSED:
		return;
	}
	switch (R.m.hdr.type) {
	case RAFTP_START:
		do_start(&R.m);
		break;
	case RAFTP_PROPOSE:
		do_propose(&R.m);
		break;
	case RAFTP_QUERY:
		do_query(&R.m);
		break;
	case RAFTP_STATUS:
		do_status(&R.m);
		break;
	case RAFTP_DEMOTE:
		do_demote(&R.m);
		break;
	case RAFTP_BACKUP:
		if (!R.started || !R.ready) {
			if (cm->fd >= 0)
				close(cm->fd);
			cm->fd = -1;
			raft_proc_error(R.m.hdr.request_id, HUSH_E_UNAVAIL, "the raft store "
			    "is starting");
			break;
		}
		backup_request(&R.m, cm->fd, uv_now(R.loop));
		cm->fd = -1;
		backup_tick(&R.store, R.dek.p, R.node_id, raft_last_applied(&R.raft),
		    uv_now(R.loop));
		break;
	case RAFTP_INBOUND:
		if (cm->fd < 0 || !R.started ||
		    wire_get_str(&R.m, T_PEER_ID, peer, sizeof(peer)) != 0 ||
		    wire_get_str(&R.m, T_ADDRESS, address, sizeof(address)) != 0)
			break;
		/* libraft answers at the address given here: the peer's own entry
		 * in the configuration is authoritative; the parent's hint is for
		 * a new node whose log has no configuration yet. */
		for (unsigned i = 0; i < R.raft.configuration.n; i++)
			if (R.raft.configuration.servers[i].id == hush_id_raft(peer))
				snprintf(address, sizeof(address), "%s",
				    R.raft.configuration.servers[i].address);
		transport_inbound(&R.transport, cm->fd, peer, address);
		cm->fd = -1;	/* now libuv's */
		break;
	case RAFTP_CONNECT | MSG_REPLY:
	case MSG_ERROR:
		status = msg_reply_status(&R.m, why, sizeof(why));
		connect_answered(R.m.hdr.request_id, status, cm->fd);
		break;
	default:
		fatal("unhandled message 0x%04x", R.m.hdr.type);
	}
}

static void
close_cb(struct raft *r)
{
	uv_stop(R.loop);
}

static void
shutdown_raft(void)
{
	if (R.closing)
		return;
	R.closing = true;
	uv_poll_stop(&R.poll);
	uv_timer_stop(&R.tick);
	uv_timer_stop(&R.resume);
	if (R.started)
		raft_close(&R.raft, close_cb);
	else
		uv_stop(R.loop);
}


static void
resume_cb(uv_timer_t *t)
{
	update_poll();
}

/*
 * A process that was stalled wakes in the middle of epoll with the
 * parent's requests ready.  Answered at once, a leader that lost its
 * quorum while it stood still would still say "leader" (and take a
 * write it can no longer commit), because libraft's tick, which steps
 * such a leader down, has not run yet.  libuv runs due timers at the
 * start of the next loop iteration, libraft's tick among them, before
 * our zero-delay resume timer: so the channel waits one iteration.
 */
static bool
defer_if_stalled(void)
{
	uv_update_time(R.loop);
	if (!R.started || uv_now(R.loop) - R.last_tick_ms <= STALL_MS)
		return false;
	stall_seen(&R.raft, uv_now(R.loop) - R.last_tick_ms, uv_now(R.loop));
	uv_poll_stop(&R.poll);
	uv_timer_start(&R.resume, resume_cb, 0, 0);
	return true;
}

static void
poll_cb(uv_poll_t *h, int status, int events)
{
	struct chan_msg cm;
	int r;

	/*
	 * libuv says EBADF for POLLERR: the channel was reset, which is
	 * the parent dying with a message of ours unread.  Expected then.
	 */
	if (status == UV_EBADF) {
		log_debug("the parent is gone; shutting down");
		shutdown_raft();
		return;
	}
	if (status < 0)
		fatal("polling the parent channel: %s", uv_strerror(status));
	if (events & UV_WRITABLE) {
		r = chan_flush(&R.ch);
		if (r != 0 && r != HUSH_E_UNAVAIL) {
			shutdown_raft();
			return;
		}
	}
	if ((events & UV_READABLE) && defer_if_stalled())
		return;
	if (events & UV_READABLE) {
		while ((r = chan_recv(&R.ch, &cm)) == 1) {
			handle(&cm);
			chan_msg_free(&cm);
			if (R.closing)
				return;
		}
		if (r == HUSH_E_IO) {
			log_debug("parent closed the channel; shutting down");
			shutdown_raft();
			return;
		}
		if (r < 0)
			parent_msg_lost(&parent, &R.ch, r);
	}
	update_poll();
}

static void
update_poll(void)
{
	if (R.closing)
		return;
	uv_poll_start(&R.poll, UV_READABLE | (chan_pending(&R.ch) ? UV_WRITABLE : 0), poll_cb);
}

static void
raft_proc_main(int fd)
{
	int flags;

	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	raft_heap_install_zeroing();
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	R.loop = uv_default_loop();
	chan_init(&R.ch, fd, "parent", RAFT_PROC_MAX_MSG, true);
	if (uv_poll_init(R.loop, &R.poll, fd) != 0 || uv_timer_init(R.loop, &R.tick) != 0 ||
	    uv_timer_init(R.loop, &R.resume) != 0)
		fatal("cannot set up the event loop");
	uv_timer_start(&R.tick, tick_cb, 50, 50);
	update_poll();
	uv_run(R.loop, UV_RUN_DEFAULT);
	if (R.started)
		store_free(&R.store);
	secbuf_free(&R.dek);
	_exit(0);
}
