/*
 * A manager whose raft data is damaged, and its repair.
 *
 * The raft process exits with RAFT_EXIT_DAMAGED when its files do not load
 * or a committed entry does not open, after naming the file (and the byte
 * or entry) in its answer to RAFTP_START.  Restarting it cannot help, so
 * after RAFT_DAMAGED_TRIES such exits in a row the parent stops: the node
 * is PS_DEGRADED, says why in `hushctl status`, in systemd's STATUS= and in
 * its heartbeats (the managers' `node ls` then shows it unhealthy), and
 * refuses store requests at once with that reason instead of "starting".
 *
 * `hushctl node repair` rebuilds the data from the other managers: the raft
 * process is started with T_SET_ASIDE, moves every file of its directory
 * into raft/damaged-<UTC time>/ (kept for forensics, never deleted) and
 * starts empty under the same node id; the leader, which still has it in
 * its configuration, sends it a snapshot and the entries after it.  That is
 * only safe while the others hold a quorum without this node: whatever this
 * node had acknowledged is then on a majority of them.  And this node must
 * not vote while its log is empty, or it could help elect a manager that
 * lacks entries only its lost copy held: so before its raft process starts
 * afresh, it asks the leader (DSP_REPAIR) to make it a spare, and the
 * leader promotes it back once it has caught up (raft/membership.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "err.h"
#include "log.h"
#include "parent.h"
#include "raft/raft_proc.h"

void
degraded_raft_exited(struct parent *p, int status)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != RAFT_EXIT_DAMAGED ||
	    p->node.role != ROLE_MANAGER || p->stopping)
		return;
	if (++p->store.damaged < RAFT_DAMAGED_TRIES) {
		log_warn("the raft store found damaged data (try %u of %u): %s",
		    p->store.damaged, RAFT_DAMAGED_TRIES, p->store.error[0] != '\0' ?
		    p->store.error : "see the raft process's log");
		return;
	}
	(void)node_event(p, NE_STORE_DAMAGED);
}

struct repair {
	char	aside[sizeof(((struct store_part *)0)->repair_aside)];
	size_t	next;			/* the next manager to ask */
	char	last[512];		/* why the last one said no */
};

static void
repair_free(void *arg)
{
	free(arg);
}

static void
repaired(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct repair *rp = op->ctx;
	struct wire_enc e;
	char text[256];

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	snprintf(text, sizeof(text), "raft data rebuilt from the other managers; the "
	    "old files are kept in %.100s/raft/%s", p->cfg.state_dir, rp->aside);
	log_info("%s", text);
	wire_enc_init(&e, CTL_NODE_REPAIR | MSG_REPLY, op->client_req, 512);
	wire_put_str(&e, T_STATUS_TEXT, text);
	op_reply(op, &e);
}

/* The leader made this node a spare: its raft process starts afresh. */
static void
restart_empty(struct op *op)
{
	struct parent *p = op->p;
	struct repair *rp = op->ctx;

	snprintf(p->store.repair_aside, sizeof(p->store.repair_aside), "%s", rp->aside);
	log_warn("repair: the raft files go to %s/raft/%s and the store is rebuilt "
	    "from the other managers", p->cfg.state_dir, rp->aside);
	p->store.phase = RAFT_IDLE;
	(void)node_event(p, NE_REPAIR);
	p->store.hold = RAFT_RUN;
	lifecycle_wait_ready(p, op, repaired);
	p->raft.backoff_ms = 100;
	p->raft.restart_at_ms = 0;
}

static void ask_next(struct op *op);

static void
demote_answered(void *arg, int status, const struct wire_msg *reply, int fd,
    const char *detail)
{
	struct op *op = arg;
	struct wire_msg *m;
	char d[512];

	if (status == 0 && (m = malloc(sizeof(*m))) != NULL) {
		status = cluster_rpc_unwrap(reply, DSP_REPAIR, m, d, sizeof(d));
		free(m);
		detail = d;
	} else if (status == 0) {
		status = HUSH_E_NOMEM;
	}
	if (status == 0) {
		restart_empty(op);
		return;
	}
	snprintf(((struct repair *)op->ctx)->last, sizeof(((struct repair *)op->ctx)->last),
	    "%s", detail != NULL && *detail != '\0' ? detail : hush_strerror(status));
	ask_next(op);
}

/*
 * Asks the managers in turn until the leader answers DSP_REPAIR; the
 * others say they are not the leader.  If none does, nothing changed: the
 * raft process is let run again (if it may) and the operator told why.
 */
static void
ask_next(struct op *op)
{
	struct parent *p = op->p;
	struct repair *rp = op->ctx;
	struct wire_enc req;
	char why[700];

	while (rp->next < p->view.nmanagers) {
		const char *addr = p->view.managers[rp->next++];

		if (strcmp(addr, p->node.advertise) == 0)
			continue;
		wire_enc_init(&req, DSP_REPAIR, 1, 64);
		if (cluster_rpc(p, addr, &req, demote_answered, op) == 0) {
			wire_enc_free(&req);
			return;
		}
		wire_enc_free(&req);
	}
	p->store.hold = RAFT_RUN;
	snprintf(why, sizeof(why), "the raft leader did not make this manager a spare "
	    "before its repair%s%s; nothing was changed: try again once 'hushctl node "
	    "ls' on another manager shows a leader", rp->last[0] != '\0' ? ": " : "",
	    rp->last);
	op_error(op, HUSH_E_UNAVAIL, why);
}

void
op_node_repair(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	size_t others, ok, quorum;
	bool force = false;
	char why[512];
	struct repair *rp;
	struct tm tm;
	time_t now;

	wire_get_bool(m, T_FORCE, &force);
	if (p->state != PS_DEGRADED && !force) {
		op_error(op, HUSH_E_INVAL, "this manager is not degraded: nothing to repair "
		    "(--force rebuilds its raft data from the other managers anyway)");
		return;
	}
	ok = cluster_managers_ok(p, &others);
	if (others == 0) {
		op_error(op, HUSH_E_INVAL, "this is the only manager: there is no peer to "
		    "repair its raft data from. Restore the last backup into an empty state "
		    "directory ('hushctl restore FILE')");
		return;
	}
	/* Without this node, the others must still be a majority of all managers. */
	quorum = (others + 1) / 2 + 1;
	if (ok < quorum) {
		snprintf(why, sizeof(why), "only %zu of the %zu other managers answer with a "
		    "live store, and %zu are needed for a quorum without this one: "
		    "repairing now could lose acknowledged writes; bring them back first",
		    ok, others, quorum);
		op_error(op, HUSH_E_UNAVAIL, why);
		return;
	}
	if ((rp = calloc(1, sizeof(*rp))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(rp->aside, sizeof(rp->aside), "damaged-%Y%m%dT%H%M%SZ", &tm);
	op->ctx = rp;
	op->ctx_free = repair_free;
	/* Its old log must not vote again either: stopped, and kept stopped. */
	p->store.hold = RAFT_HOLD_REPAIR;
	if (p->raft.pid > 0)
		chan_close(&p->raft.ch);
	p->store.phase = RAFT_IDLE;
	ask_next(op);
}
