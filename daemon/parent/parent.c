/*
 * hushd's parent: start-up, the poll loop, and child supervision.
 */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "disk_space.h"
#include "err.h"
#include "keyheap.h"
#include "keyring.h"
#include "launcher.h"
#include "log.h"
#include "parent.h"
#include "proc_harden.h"
#include "mounter/mounter.h"
#include "pki/pki.h"
#include "net/net.h"
#include "raft/raft_proc.h"

/*
 * Descriptors the parent may need at once: every control connection with
 * a pidfd beside it (an attach in progress) and one pidfd per container
 * holding secrets.  The usual soft limit, 1024, is too low for a busy
 * node; the hard limit (systemd's default is 524288) is what the
 * administrator allows, so take it.  Only the parent: the launcher and
 * its children were forked before this and keep the inherited limit.
 */
#define PARENT_FDS_WANTED	(2 * CONTROL_CONNS_MAX + 1024)

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return;
	}
	if (rl.rlim_cur < PARENT_FDS_WANTED)
		log_warn("the open-file limit is %llu, below the %d that %d control "
		    "connections and as many containers may need; raise it "
		    "(LimitNOFILE=)", (unsigned long long)rl.rlim_cur,
		    PARENT_FDS_WANTED, CONTROL_CONNS_MAX);
}

static int
lock_state_dir(struct parent *p)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/hushd.lock", p->cfg.state_dir);
	if ((p->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		log_err("cannot open %s: %s", path, strerror(errno));
		return HUSH_E_IO;
	}
	if (flock(p->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		log_err("another hushd is using %s", p->cfg.state_dir);
		return HUSH_E_EXISTS;
	}
	return 0;
}

/* Decide the starting state from what is on disk. */
static int
load_node(struct parent *p)
{
	struct secbuf dek = SECBUF_INIT, node = SECBUF_INIT, seal = SECBUF_INIT;
	char why[512] = "";
	bool wrapped, old_format = false;
	int r;

	if ((r = node_state_load(p->cfg.state_dir, &p->node, why, sizeof(why))) != 0) {
		log_err("cannot read the node state: %s", why);
		return r;
	}
	if (!p->node.initialized) {
		if (node_state_has_leftovers(p->cfg.state_dir)) {
			log_err("%s holds keys or a raft log but no node.json: an earlier "
			    "'hushctl init' was interrupted. Move the directory aside and "
			    "initialize again.", p->cfg.state_dir);
			return HUSH_E_CORRUPT;
		}
		return node_event(p, NE_BOOT_EMPTY);
	}
	if ((r = keyfile_is_wrapped(p->cfg.state_dir, &wrapped, why, sizeof(why))) != 0) {
		log_err("cannot start: %s", why);
		return r;
	}
	if (wrapped)
		return node_event(p, NE_BOOT_SEALED);
	if ((r = keyfile_read(p->cfg.state_dir, NULL, &dek, &node, &seal, &old_format, why,
	    sizeof(why))) != 0) {
		log_err("cannot start: %s", why);
		return r;
	}
	if ((r = keyring_put(KEY_DEK, dek.p, dek.len)) == 0 &&
	    (r = keyring_put(KEY_NODE, node.p, node.len)) == 0 &&
	    (r = seal_key_load(p, &seal, NULL)) == 0 && old_format)
		keyfile_upgrade(p, &dek, &node, NULL);
	secbuf_free(&dek);
	secbuf_free(&node);
	secbuf_free(&seal);
	if (r != 0) {
		log_err("cannot load this node's keys: %s", hush_strerror(r));
		return r;
	}
	for (size_t i = 0; i < p->node.nmanagers; i++)
		snprintf(p->view.managers[p->view.nmanagers++], sizeof(p->view.managers[0]), "%s",
		    p->node.managers[i]);
	/* A worker keeps no store: it is ready as soon as its keys are loaded. */
	return node_event(p, NE_KEYS_LOADED);
}

/*
 * Looks up the unprivileged user once, at start, while NSS may still read
 * /etc/passwd: restarted children reuse the ids.  No fallback to root: the
 * processes it is for must never run with root's file access.
 */
static int
set_child_user(struct parent *p, const char *name)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno != 0)
			log_err("cannot look up the user '%s': %s", name, strerror(errno));
		else
			log_err("the system user '%s' does not exist; the pki, net and "
			    "raft processes run as it. Create it (useradd --system "
			    "--no-create-home --shell /usr/sbin/nologin %s) or name "
			    "another with --user", name, name);
		return HUSH_E_NOTFOUND;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_err("the user '%s' has uid %lu and gid %lu: the processes that need "
		    "no root must not run with uid or gid 0", name,
		    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid);
		return HUSH_E_INVAL;
	}
	child_set_user(pw->pw_uid, pw->pw_gid);
	p->user_uid = pw->pw_uid;
	p->user_gid = pw->pw_gid;
	log_debug("pki, net and raft run as %s (uid %lu, gid %lu)", name,
	    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid);
	return 0;
}

static int
setup_signals(struct parent *p)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return HUSH_E_SYS;
	if ((p->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return HUSH_E_SYS;
	return 0;
}

/* The children, in the order of their poll slots. */
#define NCHILDREN	4

static void
children_of(struct parent *p, struct child *kids[NCHILDREN])
{
	kids[0] = &p->pki;
	kids[1] = &p->raft;
	kids[2] = &p->net;
	kids[3] = &p->mounter;
}

static struct child *
child_by_pid(struct parent *p, pid_t pid)
{
	struct child *kids[NCHILDREN];

	children_of(p, kids);
	for (size_t i = 0; i < NCHILDREN; i++)
		if (kids[i]->pid == pid)
			return kids[i];
	return NULL;
}

/* The launcher reported that a child's process ended. */
static void
child_gone(struct parent *p, pid_t pid, int status)
{
	struct child *c;
	char detail[512];

	if ((c = child_by_pid(p, pid)) == NULL)
		return;
	child_death_detail(c, detail, sizeof(detail));
	if (c == &p->raft)
		degraded_raft_exited(p, status);
	if (WIFSIGNALED(status))
		log_err("%s process (pid %ld) was killed by signal %d (%s)%s%s",
		    c->desc->name, (long)pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)), detail,
		    p->stopping ? "" : "; restarting it");
	else if (c == &p->raft && p->store.hold == RAFT_HOLD_REPAIR)
		log_info("the raft process (pid %ld) stopped for the repair: it starts "
		    "again once the leader has made this manager a spare", (long)pid);
	else if (c == &p->raft && WEXITSTATUS(status) == RAFT_EXIT_REFRESH)
		log_info("the raft process (pid %ld) ended to start afresh after "
		    "a shortage of disk space; restarting it", (long)pid);
	else if (c == &p->raft && WEXITSTATUS(status) == RAFT_EXIT_DISK)
		log_warn("the raft process (pid %ld) stopped for want of disk space; "
		    "it starts again once %llu bytes are free in %s", (long)pid,
		    (unsigned long long)HUSH_RAFT_DISK_NEED, p->cfg.state_dir);
	else if (!p->stopping)
		log_err("%s process (pid %ld) exited with status %d; %s",
		    c->desc->name, (long)pid, WEXITSTATUS(status),
		    c == &p->raft && p->state == PS_DEGRADED ? "not restarted (degraded)" :
		    "restarting it");
	if (c == &p->raft) {
		p->store.phase = RAFT_IDLE;
		/* It said why in its own log line: restart it when it can work. */
		if (WIFEXITED(status) && WEXITSTATUS(status) == RAFT_EXIT_DISK)
			p->store.hold = RAFT_HOLD_DISK;
	}
	if (c == &p->net)
		p->view.net = NET_IDLE;
	if (c == &p->mounter)
		containers_mounter_lost(p);
	child_exited(c);
}

/*
 * The launcher is gone (its channel closed, or SIGCHLD): the children went
 * with it, and the parent cannot start new ones.  Say why, and stop; the
 * service manager restarts hushd.
 */
static void __attribute__((__noreturn__))
launcher_lost(pid_t pid, int status, bool have_status)
{
	char detail[160];

	if (!have_status)
		have_status = launcher_reap(&status, 2000) == 1;
	launcher_death_detail(detail, sizeof(detail));
	if (have_status && WIFSIGNALED(status))
		fatal("the launcher process (pid %ld) was killed by signal %d (%s)%s; "
		    "the children went with it, stopping", (long)pid,
		    WTERMSIG(status), strsignal(WTERMSIG(status)), detail);
	if (have_status)
		fatal("the launcher process (pid %ld) exited with status %d; the "
		    "children went with it, stopping", (long)pid, WEXITSTATUS(status));
	fatal("lost the launcher process (pid %ld); the children went with it, "
	    "stopping", (long)pid);
}

static void
launcher_reports(struct parent *p)
{
	pid_t pid;
	int status, r;

	while ((r = launcher_next_exit(&pid, &status)) == 1)
		child_gone(p, pid, status);
	if (r < 0 && !p->stopping)
		launcher_lost(launcher_pid(), 0, false);
}

/* The parent's one child is the launcher; the others are its children. */
static void
reap(struct parent *p)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == launcher_pid() && !p->stopping)
			launcher_lost(pid, status, true);
}

static void
handle_signals(struct parent *p)
{
	struct signalfd_siginfo si;

	while (read(p->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(p);
			break;
		case SIGTERM:
		case SIGINT:
			if (!p->stopping)
				log_info("received %s, shutting down", strsignal((int)si.ssi_signo));
			p->stopping = true;
			break;
		case SIGHUP:
			log_info("SIGHUP: nothing to reload");
			break;
		default:
			break;
		}
	}
}

/* A message the child started: an event or a request of its own. */
static void
child_request(struct parent *p, struct child *c, const struct chan_msg *cm)
{
	struct wire_msg *m;
	char why[256];

	if (c->desc->from_child == NULL) {
		child_kill(c, "it sent a request, which it may not");
		return;
	}
	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	if (msg_parse(cm->buf, cm->len, c->ch.max_msg, c->desc->from_child, m, why,
	    sizeof(why)) != 0) {
		child_kill(c, why);
		free(m);
		return;
	}
	if (c == &p->raft && m->hdr.type == RAFTP_EVENT)
		lifecycle_raft_event(p, m);
	else if (c == &p->raft && m->hdr.type == RAFTP_CONNECT)
		cluster_raft_connect(p, m);
	else if (c == &p->net)
		cluster_net_request(p, m, cm->fd);
	else if (c == &p->mounter && m->hdr.type == MNTR_EVENT)
		containers_event(p, m);
	else
		child_kill(c, "unexpected request");
	free(m);
}

static void
child_io(struct parent *p, struct child *c, short revents)
{
	struct chan_msg cm;
	struct wire_hdr hdr;
	int r = 0;

	if (revents & POLLOUT) {
		r = chan_flush(&c->ch);
		if (r != 0 && r != HUSH_E_UNAVAIL) {
			chan_close(&c->ch);
			return;
		}
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0)
		return;
	while (c->ch.fd >= 0 && (r = chan_recv(&c->ch, &cm)) == 1) {
		if (wire_peek_hdr(cm.buf, cm.len, &hdr) != 0) {
			child_kill(c, "undecodable message");
		} else if (MSG_IS_REPLY(hdr.type) || hdr.type == MSG_ERROR) {
			if (child_reply(c, cm.buf, cm.len, cm.fd) != 0)
				child_kill(c, "bad reply");
		} else {
			child_request(p, c, &cm);
		}
		chan_msg_free(&cm);
	}
	if (c->ch.fd >= 0 && r < 0) {
		if (r != HUSH_E_IO)
			child_kill(c, hush_strerror(r));
		else
			chan_close(&c->ch);	/* it is exiting; the reaper restarts it */
	}
}

/*
 * Whether the raft process must still wait for space, checked once a
 * second; says once when the wait is over.
 */
static bool
raft_disk_still_short(struct parent *p, uint64_t now)
{
	char why[PATH_MAX + 128];

	if (now - p->store.disk_checked_ms < 1000)
		return true;
	p->store.disk_checked_ms = now;
	if (disk_check(p->cfg.state_dir, NULL, HUSH_RAFT_DISK_NEED, why,
	    sizeof(why)) == HUSH_E_NOSPACE)
		return true;
	log_info("%s has room again: starting the raft process", p->cfg.state_dir);
	p->store.hold = RAFT_RUN;
	return false;
}

static void
supervise(struct parent *p, struct child *c, int *timeout)
{
	uint64_t now = child_now_ms();
	int r;

	if (c->pid > 0 || p->stopping)
		return;
	/* Damaged raft data: restarting cannot help; node repair restarts it. */
	if (c == &p->raft && (p->state == PS_DEGRADED || p->store.hold == RAFT_HOLD_REPAIR))
		return;
	if (c == &p->raft && p->store.hold == RAFT_HOLD_DISK && raft_disk_still_short(p, now)) {
		c->restart_at_ms = p->store.disk_checked_ms + 1000;
		if (c->restart_at_ms <= now)
			c->restart_at_ms = now + 1000;
	}
	if (c->restart_at_ms > now) {
		int wait = (int)(c->restart_at_ms - now);

		if (*timeout < 0 || wait < *timeout)
			*timeout = wait;
		return;
	}
	if ((r = child_spawn(c)) != 0) {
		log_err("cannot start the %s process: %s", c->desc->name, strerror(errno));
		c->restart_at_ms = now + 1000;
		return;
	}
	lifecycle_child_started(p, c);
	cluster_child_started(p, c);
}

static void
shutdown_children(struct parent *p)
{
	struct child *kids[NCHILDREN];
	uint64_t deadline = child_now_ms() + 5000;

	children_of(p, kids);
	/* Closing the channel asks a child to stop cleanly (raft closes its log). */
	for (size_t i = 0; i < NCHILDREN; i++)
		chan_close(&kids[i]->ch);
	while (child_now_ms() < deadline && (p->raft.pid > 0 || p->pki.pid > 0 ||
	    p->net.pid > 0 || p->mounter.pid > 0)) {
		struct pollfd pfd[2] = {
			{ .fd = p->sig_fd, .events = POLLIN },
			{ .fd = launcher_fd(), .events = POLLIN },
		};

		poll(pfd, 2, 100);
		handle_signals(p);
		launcher_reports(p);
	}
	/* The launcher SIGKILLs what is left, and says so. */
	launcher_stop();
}

/*
 * The poll set: the parent's own descriptors at fixed, named slots, then
 * one slot per control connection.
 */
enum poll_slot {
	SLOT_SIGNALS,
	SLOT_LISTEN,		/* -1 while not accepting: poll() skips it */
	SLOT_TIMER,		/* heartbeats */
	SLOT_LAUNCHER,		/* children's exits */
	SLOT_CHANNELS,		/* NCHILDREN of them, in children_of() order */
	SLOT_TRAPS = SLOT_CHANNELS + NCHILDREN,	/* their seccomp trap reports */
	SLOT_CLIENTS = SLOT_TRAPS + NCHILDREN,
};

struct poll_set {
	struct pollfd	*pfd;		/* SLOT_CLIENTS + CONTROL_CONNS_MAX */
	struct client	**who;		/* the client of each slot from SLOT_CLIENTS */
	size_t		 nclients;
};

static void
poll_fill(struct parent *p, struct poll_set *ps)
{
	struct child *kids[NCHILDREN];

	children_of(p, kids);
	ps->pfd[SLOT_SIGNALS] = (struct pollfd){ .fd = p->sig_fd, .events = POLLIN };
	ps->pfd[SLOT_LISTEN] = (struct pollfd){ .fd = control_listen_fd(p), .events = POLLIN };
	ps->pfd[SLOT_TIMER] = (struct pollfd){ .fd = p->timer_fd, .events = POLLIN };
	ps->pfd[SLOT_LAUNCHER] = (struct pollfd){ .fd = launcher_fd(), .events = POLLIN };
	for (size_t i = 0; i < NCHILDREN; i++) {
		ps->pfd[SLOT_CHANNELS + i] = (struct pollfd){ .fd = kids[i]->ch.fd,
		    .events = POLLIN | (chan_pending(&kids[i]->ch) ? POLLOUT : 0) };
		ps->pfd[SLOT_TRAPS + i] = (struct pollfd){ .fd = kids[i]->trap_fd,
		    .events = POLLIN };
	}
	ps->nclients = control_pollfds(p, ps->pfd + SLOT_CLIENTS, ps->who, CONTROL_CONNS_MAX);
}

/*
 * Now and then, the heap's free pages go back to the system: a burst of
 * clients (a list of every secret by 64 of them) leaves it as large as at
 * its peak, fragmented, long after.
 */
static void
trim_heap(void)
{
	static unsigned ticks;

	if (++ticks % 5 == 0)
		(void)malloc_trim(0);
}

static void
poll_dispatch(struct parent *p, struct poll_set *ps)
{
	struct child *kids[NCHILDREN];
	const struct pollfd *pfd = ps->pfd;

	children_of(p, kids);
	if (pfd[SLOT_SIGNALS].revents)
		handle_signals(p);
	for (size_t i = 0; i < NCHILDREN; i++)
		if (pfd[SLOT_CHANNELS + i].revents && kids[i]->ch.fd >= 0)
			child_io(p, kids[i], pfd[SLOT_CHANNELS + i].revents);
	if (pfd[SLOT_TIMER].revents) {
		uint64_t ticks;

		(void)!read(p->timer_fd, &ticks, sizeof(ticks));	/* drained; the count is unused */
		cluster_tick(p);
		unlock_tick(p);
		trim_heap();
	}
	for (size_t i = 0; i < NCHILDREN; i++)
		if (pfd[SLOT_TRAPS + i].revents & POLLIN)
			child_trap_read(kids[i]);
	/* Also exits queued while a spawn waited for its answer. */
	launcher_reports(p);
	/* Clients last: handlers above may have closed some. */
	for (size_t i = 0; i < ps->nclients; i++)
		if (pfd[SLOT_CLIENTS + i].revents && control_client_alive(p, ps->who[i]))
			control_client_io(p, ps->who[i], pfd[SLOT_CLIENTS + i].revents);
	if (pfd[SLOT_LISTEN].revents)
		control_accept(p);
}

static void
parent_loop(struct parent *p)
{
	struct child *kids[NCHILDREN];
	struct poll_set ps;
	int timeout;

	if ((ps.pfd = calloc(SLOT_CLIENTS + CONTROL_CONNS_MAX, sizeof(*ps.pfd))) == NULL ||
	    (ps.who = calloc(CONTROL_CONNS_MAX, sizeof(*ps.who))) == NULL)
		fatal("out of memory");
	children_of(p, kids);
	while (!p->stopping) {
		notify_state(p);
		timeout = -1;
		for (size_t i = 0; i < NCHILDREN; i++)
			supervise(p, kids[i], &timeout);
		/* Idle clients past their deadline go; the next one's is the wake-up. */
		control_tick(p, &timeout);
		poll_fill(p, &ps);
		if (poll(ps.pfd, SLOT_CLIENTS + ps.nclients, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		poll_dispatch(p, &ps);
	}
	free(ps.pfd);
	free(ps.who);
}

/*
 * Everything before the loop, in an order that matters: the launcher is
 * forked before any key is in memory, the state dir is read before the
 * control socket listens, the parent confines itself last.  A non-zero
 * return is hushd's exit status; the reason has been logged.
 */
static int
parent_start(struct parent *p, const struct hushd_config *cfg)
{
	static const struct child_desc *const roles[] = {
		&pki_child, &raft_child, &net_child, &mounter_child,
	};
	char why[512];
	int r;

	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	node_fsm_init(p);
	p->listen_fd = p->sig_fd = p->lock_fd = p->containers.run_fd = p->timer_fd = -1;
	umask(077);
	if (parent_kernel_check() != 0)
		return 1;
	/*
	 * The parent holds every key: no core dump and no ptrace by anything
	 * but a process with CAP_SYS_PTRACE.  The children inherit all three
	 * settings across fork() and set them again after their own
	 * credential changes (daemon/privsep/child.c).
	 */
	if (proc_harden() != 0)
		fatal("cannot harden the process: %s", strerror(errno));
	if (set_child_user(p, p->cfg.user) != 0)
		return 1;
	if (snprintf(raft_proc_dir, sizeof(raft_proc_dir), "%s/raft", p->cfg.state_dir) >=
	    (int)sizeof(raft_proc_dir))
		fatal("state directory path is too long");
	/* First, while no key is in this process's memory: see launcher.c. */
	if (launcher_start(roles, sizeof(roles) / sizeof(roles[0])) != 0)
		fatal("cannot start the launcher process: %s", strerror(errno));
	raise_fd_limit();
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	/* After the launcher's fork: locks are not inherited (keyheap.h). */
	if (keyheap_init() != 0)
		fatal("cannot set up the heap for private keys");
	/* Our own session keyring: keys added here are not reachable from the
	 * shell or service manager that started us. */
	if ((r = keyring_join_private()) != 0)
		fatal_r(r, "cannot create a private session keyring");
	if ((r = node_state_prepare(p->cfg.state_dir, p->user_uid, p->user_gid, why,
	    sizeof(why))) != 0)
		fatal("%s", why);
	if (disk_check(p->cfg.state_dir, NULL, HUSH_DISK_FLOOR, why, sizeof(why)) ==
	    HUSH_E_NOSPACE) {
		log_err("hushd cannot start: %s: below that it could not be sure to "
		    "write its node files and keys whole; free space there, then "
		    "start it again", why);
		return 1;
	}
	if (lock_state_dir(p) != 0 || load_node(p) != 0)
		return 1;
	audit_events_open(p);
	unlock_from_cache(p);
	if (setup_signals(p) != 0)
		fatal("cannot set up signal handling");
	if (notify_open(why, sizeof(why)) != 0) {
		log_err("%s", why);
		return 1;
	}
	if (control_listen(p) != 0)
		return 1;
	if (containers_run_dir_open(p, why, sizeof(why)) != 0) {
		log_err("%s", why);
		return 1;
	}
	child_init(&p->pki, &pki_child);
	child_init(&p->raft, &raft_child);
	child_init(&p->net, &net_child);
	child_init(&p->mounter, &mounter_child);
	if ((p->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    timerfd_settime(p->timer_fd, 0, &(struct itimerspec){ { 2, 0 }, { 2, 0 } }, NULL) != 0)
		fatal("cannot create the heartbeat timer");
	if ((r = parent_confine(&p->cfg, launcher_parent_trap_fd())) != 0)
		fatal_r(r, "cannot confine the parent process");
	return 0;
}

int
parent_main(const struct hushd_config *cfg)
{
	static struct parent P;
	struct parent *p = &P;
	int r;

	if ((r = parent_start(p, cfg)) != 0)
		return r;
	log_info("hushd %s serving %s (state in %s, containers in %s)", HUSH_VERSION,
	    p->cfg.control_socket, p->cfg.state_dir, p->cfg.run_dir);
	notify_ready(p);
	parent_loop(p);
	notify_stopping();
	control_close_all(p);
	shutdown_children(p);
	audit_close(&p->audit);
	notify_close();
	log_info("hushd stopped");
	return 0;
}
