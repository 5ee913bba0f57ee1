/*
 * The control socket.  Who may use it is decided by the kernel (SO_PEERCRED),
 * never by anything the client writes; which requests a client may make
 * depends only on the node's state (uninitialized, locked, ready).
 *
 * One request per connection, and every connection bounded (parent.h,
 * "connection limits"): PENDING until its request has arrived whole, by
 * a deadline; SERVING while the request is carried out, drawing on the
 * pool of its kind; CLOSING once the reply is queued, until it has gone
 * out or its reader is too slow.  Every way out of the first two is an
 * answer the client can read: a reply, or an error saying why not.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "parent.h"

enum client_state {
	CL_PENDING,		/* its request has not arrived whole */
	CL_WAITING,		/* it has, and waits for a place in its pool */
	CL_SERVING,		/* the request is being carried out */
	CL_CLOSING,		/* answered: the reply is on its way out */
	CL_GONE,		/* closed; freed at the next control_tick() */
};

/* What a request draws on, by its type (request_pool()). */
enum client_pool {
	POOL_CLI,		/* hushctl and anything else */
	POOL_HOOK,		/* hush-oci-hook: container attach and detach */
	NPOOLS
};

static const size_t pool_max[NPOOLS] = {
	[POOL_CLI] = CONTROL_CLI_MAX,
	[POOL_HOOK] = CONTROL_HOOK_MAX,
};

struct client {
	TAILQ_ENTRY(client) entry;	/* oldest first */
	struct chan	 ch;
	struct op	*op;		/* the request being served */
	pid_t		 pid;
	enum client_state state;
	enum client_pool pool;		/* WAITING, SERVING and CLOSING */
	uint64_t	 since_ms;	/* accepted (PENDING), answered (CLOSING) */
	struct chan_msg	 parked;	/* WAITING: its request */
};

TAILQ_HEAD(client_list, client);

struct control {
	struct client_list clients;
	/*
	 * Closed this turn of the poll loop, whose pollfd table may still
	 * name them: freed at the start of the next, so that "is it still
	 * there?" is a look at its state, not a walk of the list.
	 */
	struct client_list gone;
	size_t		 npending;
	size_t		 nwaiting[NPOOLS];
	size_t		 waiting_bytes;
	size_t		 nserving[NPOOLS];	/* SERVING and CLOSING */
	uint64_t	 accept_resume_ms;	/* after accept() ran out of fds */
};

/* A short pause in accepting when out of descriptors, not a busy loop. */
#define ACCEPT_PAUSE_MS	100
/* Connections accepted per turn of the poll loop, so all get read. */
#define ACCEPT_BATCH	32
/* Datagrams dropped before closing a refused connection (chan.h). */
#define DISCARD_MAX	256

/*
 * Every request the control socket serves, and all the socket needs to know
 * of it but its fields (lib/msg.c has those): in which states it is allowed,
 * what serves it, which pool it draws on, whether a descriptor may come with
 * it.  Adding a request is one line here; a type not listed is refused
 * before any handler sees it.
 */
static const struct ctl_request {
	uint16_t	 type;
	unsigned	 when;
	void		(*fn)(struct op *, const struct wire_msg *);
	enum client_pool pool;		/* POOL_CLI unless said */
	bool		 takes_fd;
} requests[] = {
#define REQ(t, w, f, ...) { .type = (t), .when = (w), .fn = (f), __VA_ARGS__ }
	REQ(CTL_STATUS,		W_UNINIT | W_LOCKED | W_READY | W_BUSY | W_DEGRADED,
				op_status),
	REQ(CTL_INIT,		W_UNINIT,			op_init),
	REQ(CTL_UNLOCK,		W_LOCKED,			op_unlock),
	REQ(CTL_JOIN,		W_UNINIT,			op_join),
	REQ(CTL_LEAVE,		W_READY | W_LOCKED | W_DEGRADED, op_leave),
	REQ(CTL_NODE_REPAIR,	W_READY | W_DEGRADED | W_MANAGER, op_node_repair),
	/* A survivor without a quorum is READY (a live store) or BUSY (a restarted one). */
	REQ(CTL_FORCE_NEW_CLUSTER, W_READY | W_BUSY | W_DEGRADED | W_MANAGER,
				op_force_new_cluster),
	REQ(CTL_BACKUP,		W_READY | W_MANAGER,		op_backup, .takes_fd = true),
	REQ(CTL_RESTORE,	W_UNINIT,			op_restore, .takes_fd = true),
	REQ(CTL_JOIN_TOKEN,	W_READY | W_MANAGER,		op_join_token),
	REQ(CTL_CA,		W_READY | W_MANAGER,		op_ca),
	REQ(CTL_CA_ROTATE,	W_READY | W_MANAGER,		op_ca_rotate),
	REQ(CTL_SECRET_CREATE,	W_READY | W_MANAGER,		op_secret_create),
	REQ(CTL_SECRET_LIST,	W_READY | W_MANAGER,		op_secret_list),
	REQ(CTL_SECRET_INSPECT,	W_READY | W_MANAGER,		op_secret_inspect),
	REQ(CTL_SECRET_RM,	W_READY | W_MANAGER,		op_secret_rm),
	REQ(CTL_UPDATE,		W_READY | W_MANAGER,		op_update),
	REQ(CTL_UNLOCK_KEY,	W_READY | W_MANAGER,		op_unlock_key),
	REQ(CTL_NODE_LIST,	W_READY | W_MANAGER,		op_node_list),
	REQ(CTL_NODE_INSPECT,	W_READY | W_MANAGER,		op_node_inspect),
	REQ(CTL_NODE_PROMOTE,	W_READY | W_MANAGER,		op_node_promote),
	REQ(CTL_NODE_DEMOTE,	W_READY | W_MANAGER,		op_node_demote),
	REQ(CTL_NODE_RM,	W_READY | W_MANAGER,		op_node_rm),
	REQ(CTL_NODE_UPDATE,	W_READY | W_MANAGER,		op_node_update),
	REQ(CTL_ASSIGNMENTS,	W_READY,			op_assignments),
	/* The hook's; an attach brings the container's pidfd (msg.h). */
	REQ(CTL_CONTAINER_ATTACH, W_READY,	op_container_attach,
				.pool = POOL_HOOK, .takes_fd = true),
	REQ(CTL_CONTAINER_DETACH, W_READY,	op_container_detach,
				.pool = POOL_HOOK),
	/*
	 * Every state: the list reads only this process's and the mounter's
	 * tables, never the store or a key, and containers outlive the states
	 * that let them attach.  They keep their secrets while a manager's
	 * raft store restarts (W_BUSY) and after 'hushctl leave' (W_UNINIT);
	 * a node is locked only right after hushd started, when both tables
	 * are empty, and "none" is then the true answer.
	 */
	REQ(CTL_CONTAINER_LIST,	W_UNINIT | W_LOCKED | W_READY | W_BUSY | W_DEGRADED,
				op_container_list),
	REQ(CTL_SECRET_UPDATE,	W_READY | W_MANAGER,		op_secret_update),
	REQ(CTL_SERVICE_CREATE,	W_READY | W_MANAGER,		op_service_create),
	REQ(CTL_SERVICE_LIST,	W_READY | W_MANAGER,		op_service_list),
	REQ(CTL_SERVICE_INSPECT, W_READY | W_MANAGER,		op_service_inspect),
	REQ(CTL_SERVICE_UPDATE,	W_READY | W_MANAGER,		op_service_update),
	REQ(CTL_SERVICE_RM,	W_READY | W_MANAGER,		op_service_rm),
#undef REQ
};

/* The entry for a request of this type, from its header; NULL if none. */
static const struct ctl_request *
ctl_request_find(const struct chan_msg *cm)
{
	struct wire_hdr hdr;

	if (wire_peek_hdr(cm->buf, cm->len, &hdr) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (requests[i].type == hdr.type)
			return &requests[i];
	return NULL;
}

/* What every refusal of the socket's directory ends with: what to do. */
#define CONTROL_DIR_RULE "the control socket's directory and every " \
	"directory above it must be owned by root and writable by root only " \
	"(those above it may instead be sticky, like /tmp)"

/*
 * Why a user other than root could replace an entry of the directory st,
 * or add one (own: the socket's own directory, else one above it), or
 * NULL if none could.  A sticky directory, like /tmp, stops others from
 * renaming or removing root's entries, so it will do above the socket's
 * directory; in the socket's own it would not, as anyone could take the
 * socket's name while hushd is down.  An ACL that lets another user
 * write sets the group write bit (its mask), so the mode tells.
 */
static const char *
dir_unsafe(const struct stat *st, bool own)
{
	if (!S_ISDIR(st->st_mode))
		return "not a directory";
	if (st->st_uid != 0)
		return "not owned by root";
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0 ||
	    (!own && (st->st_mode & S_ISVTX) != 0))
		return NULL;
	return "writable by group/others";
}

/*
 * Checks that only root can replace the control socket sock, whose
 * directory is dir, as OpenSSH's StrictModes checks a user's files: dir
 * and every directory above it must pass dir_unsafe().  A user who could
 * replace the socket, or bind its name first while hushd is down, would
 * be sent unlock keys, secrets and containers' claims by whoever trusts
 * the path (clients also check who serves it, lib/ctl_client.c), and
 * would keep hushd from starting.
 *
 * A symlink is judged by where it points: dir is resolved first, and on
 * success resolved holds the path to bind, in the directory checked (not
 * through a symlink someone else could change afterwards).  Each
 * component is then opened from / without following symlinks, so one
 * that changed since is refused, never followed.  Logs why it refuses.
 */
static int
control_dir_check(const char *sock, const char *dir, char *resolved,
    size_t resolvedlen)
{
	char real[PATH_MAX], name[PATH_MAX], base[PATH_MAX];
	const char *comp, *end, *why;
	struct stat st;
	int dfd, nfd, n;
	bool own;

	if (realpath(dir, real) == NULL) {
		log_err("cannot serve %s: cannot resolve %s: %s", sock, dir,
		    strerror(errno));
		return HUSH_E_IO;
	}
	if ((dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_err("cannot serve %s: cannot open /: %s", sock,
		    strerror(errno));
		return HUSH_E_IO;
	}
	/* real is absolute and canonical: no "//", ".", ".." or final '/'. */
	for (comp = real + 1, end = real;; comp = end + 1) {
		own = *end == '\0' || real[1] == '\0';
		if (fstat(dfd, &st) != 0) {
			log_err("cannot serve %s: cannot stat %.*s: %s", sock,
			    end == real ? 1 : (int)(end - real), real,
			    strerror(errno));
			close(dfd);
			return HUSH_E_IO;
		}
		if ((why = dir_unsafe(&st, own)) != NULL) {
			log_err("cannot serve %s: %.*s is %s (mode %04o, owner "
			    "uid %u); " CONTROL_DIR_RULE, sock,
			    end == real ? 1 : (int)(end - real), real, why,
			    (unsigned int)(st.st_mode & 07777),
			    (unsigned int)st.st_uid);
			close(dfd);
			return HUSH_E_PERM;
		}
		if (own)
			break;
		if ((end = strchr(comp, '/')) == NULL)
			end = comp + strlen(comp);
		snprintf(name, sizeof(name), "%.*s", (int)(end - comp), comp);
		nfd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(dfd);
		if (nfd < 0) {
			log_err("cannot serve %s: %.*s changed while it was "
			    "being checked: %s", sock, (int)(end - real), real,
			    strerror(errno));
			return HUSH_E_IO;
		}
		dfd = nfd;
	}
	close(dfd);

	snprintf(base, sizeof(base), "%s", sock);
	n = snprintf(resolved, resolvedlen, "%s/%s",
	    real[1] == '\0' ? "" : real, basename(base));
	if (n < 0 || (size_t)n >= resolvedlen) {
		log_err("control socket path is too long: %s (%s resolved)",
		    sock, real);
		return HUSH_E_TOOBIG;
	}
	return 0;
}

int
control_listen(struct parent *p)
{
	struct sockaddr_un sun;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char dir[PATH_MAX], resolved[sizeof(p->cfg.control_socket)];
	const char *sockdir;
	int fd, probe, r;
	mode_t old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(p->cfg.control_socket) >= sizeof(sun.sun_path)) {
		log_err("control socket path is too long: %s", p->cfg.control_socket);
		return HUSH_E_TOOBIG;
	}
	snprintf(dir, sizeof(dir), "%s", p->cfg.control_socket);
	sockdir = dirname(dir);
	if (mkdir(sockdir, 0755) != 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", sockdir, strerror(errno));
		return HUSH_E_IO;
	}
	if ((r = control_dir_check(p->cfg.control_socket, sockdir, resolved,
	    sizeof(resolved))) != 0)
		return r;
	/* From here on, the path checked: bound, unlinked, confined to. */
	if (strcmp(resolved, p->cfg.control_socket) != 0) {
		log_info("control socket %s resolves to %s",
		    p->cfg.control_socket, resolved);
		snprintf(p->cfg.control_socket, sizeof(p->cfg.control_socket),
		    "%s", resolved);
	}
	memcpy(sun.sun_path, p->cfg.control_socket, strlen(p->cfg.control_socket) + 1);
	/*
	 * A live daemon answers; a stale socket file from a crash does not.
	 * One that answers as another user is no hushd: a socket left from
	 * before the directory was made safe, still served.
	 */
	if ((probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) >= 0) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			r = getsockopt(probe, SOL_SOCKET, SO_PEERCRED, &cred, &len);
			close(probe);
			if (r == 0 && cred.uid != 0)
				log_err("cannot serve %s: it is already served "
				    "by uid %u (pid %ld), not root; stop that "
				    "process and find out how it got there "
				    "before starting hushd",
				    p->cfg.control_socket,
				    (unsigned int)cred.uid, (long)cred.pid);
			else
				log_err("another hushd is serving %s",
				    p->cfg.control_socket);
			return HUSH_E_EXISTS;
		}
		close(probe);
	}
	unlink(p->cfg.control_socket);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return HUSH_E_SYS;
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		log_err("cannot bind %s: %s", p->cfg.control_socket, strerror(errno));
		close(fd);
		return HUSH_E_IO;
	}
	umask(old);
	/*
	 * The kernel's largest backlog: a burst of container starts waits
	 * in it for accept() rather than failing to connect.
	 */
	if (chmod(p->cfg.control_socket, 0600) != 0 || listen(fd, SOMAXCONN) != 0) {
		close(fd);
		return HUSH_E_IO;
	}
	if ((p->ctl = calloc(1, sizeof(*p->ctl))) == NULL) {
		close(fd);
		return HUSH_E_NOMEM;
	}
	TAILQ_INIT(&p->ctl->clients);
	TAILQ_INIT(&p->ctl->gone);
	p->listen_fd = fd;
	return 0;
}

int
control_listen_fd(struct parent *p)
{
	if (p->ctl == NULL || child_now_ms() < p->ctl->accept_resume_ms)
		return -1;
	return p->listen_fd;
}

/*
 * A client waits for its reply, so every reply gets there or is replaced
 * by an error that says why it could not (a reply over CONTROL_MAX_MSG,
 * no memory); if not even that can be queued, the connection is shut so
 * that the client sees it end at once instead of waiting.
 */
static void
client_send(struct client *c, struct wire_enc *e)
{
	struct wire_enc err;
	const uint8_t *buf;
	size_t len = 0;
	uint32_t id = wire_enc_request_id(e);
	char why[160];
	int r;

	if ((r = wire_enc_finish(e, &buf, &len)) == 0 &&
	    (r = chan_send(&c->ch, buf, len, -1)) == 0)
		return;
	if (r == HUSH_E_IO)
		return;		/* the client is gone: its poll slot closes it */
	if (r == HUSH_E_TOOBIG)
		snprintf(why, sizeof(why), "the reply%s is larger than the control "
		    "socket carries (%u bytes)", len > 0 ? "" : " does not fit in a message: it",
		    (unsigned)CONTROL_MAX_MSG);
	else
		snprintf(why, sizeof(why), "the reply could not be sent: %s", hush_strerror(r));
	log_err("control client (pid %ld): %s", (long)c->pid, why);
	if (msg_error_reply(&err, id, r, why) != 0 ||
	    wire_enc_finish(&err, &buf, &len) != 0 ||
	    chan_send(&c->ch, buf, len, -1) != 0)
		shutdown(c->ch.fd, SHUT_RDWR);
	wire_enc_free(&err);
}

/* A waiting client's request, handed back, and its place in the queue given up. */
static struct chan_msg
unpark(struct control *ctl, struct client *c)
{
	struct chan_msg cm = c->parked;

	c->parked = (struct chan_msg){ .buf = NULL, .len = 0, .fd = -1 };
	ctl->nwaiting[c->pool]--;
	ctl->waiting_bytes -= cm.len;
	return cm;
}

static void
client_close(struct parent *p, struct client *c)
{
	struct control *ctl = p->ctl;

	if (c->state == CL_GONE)
		return;
	TAILQ_REMOVE(&ctl->clients, c, entry);
	if (c->state == CL_PENDING) {
		ctl->npending--;
	} else if (c->state == CL_WAITING) {
		struct chan_msg cm = unpark(ctl, c);

		chan_msg_free(&cm);
	} else {
		ctl->nserving[c->pool]--;
	}
	/* The operation carries on (a commit must finish); its answer is dropped. */
	if (c->op != NULL)
		c->op->client = NULL;
	/* Anything it sent past its request, unread, would reset it (chan.h). */
	if (c->ch.fd >= 0 && shutdown(c->ch.fd, SHUT_RD) == 0)
		(void)chan_discard_input(&c->ch, DISCARD_MAX);
	chan_close(&c->ch);
	c->op = NULL;
	c->state = CL_GONE;
	TAILQ_INSERT_TAIL(&ctl->gone, c, entry);
}

static void
free_gone(struct control *ctl)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&ctl->gone)) != NULL) {
		TAILQ_REMOVE(&ctl->gone, c, entry);
		free(c);
	}
}

/*
 * Ends a connection hushd will not serve (further), with an error the
 * client can read.  The socket is shut for reading first and what the
 * client had sent thrown away: closed with unread data, a Unix socket
 * resets its peer, which might then lose the reply (chan.h).  Best
 * effort: a client that does not read cannot be told.
 */
static void
client_refuse(struct parent *p, struct client *c, enum control_refusal why,
    int code, const char *detail)
{
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;

	control_refused(why, c->pid, detail);
	/* Best effort, as said: the connection ends here either way. */
	if (msg_error_reply(&e, 1, code, detail) == 0 &&
	    wire_enc_finish(&e, &buf, &len) == 0)
		(void)!chan_send(&c->ch, buf, len, -1);
	wire_enc_free(&e);
	client_close(p, c);
}

void
control_close_all(struct parent *p)
{
	if (p->ctl != NULL) {
		while (!TAILQ_EMPTY(&p->ctl->clients))
			client_close(p, TAILQ_FIRST(&p->ctl->clients));
		free_gone(p->ctl);
		free(p->ctl);
		p->ctl = NULL;
	}
	if (p->listen_fd >= 0) {
		close(p->listen_fd);
		unlink(p->cfg.control_socket);
	}
	p->listen_fd = -1;
}

void
op_free(struct op *op)
{
	/* One request per connection: this one is done with. */
	if (op->client != NULL) {
		struct client *c = op->client;

		c->op = NULL;
		c->state = CL_CLOSING;
		c->since_ms = child_now_ms();
		/*
		 * Answered whole: it gives back its place in the pool now, not
		 * a turn of the poll loop later.  A client that sends its next
		 * request as soon as it has the answer was otherwise refused as
		 * "busy" by its own last connection.
		 */
		if (!chan_pending(&c->ch))
			client_close(op->p, c);
	}
	if (op->ctx_free != NULL && op->ctx != NULL)
		op->ctx_free(op->ctx);
	if (op->has_fd)
		close(op->fd);
	free(op);
}

void
op_reply(struct op *op, struct wire_enc *e)
{
	if (op->client != NULL)
		client_send(op->client, e);
	wire_enc_free(e);
	op_free(op);
}

void
op_error(struct op *op, int code, const char *detail)
{
	struct wire_enc e;

	if (code == 0)
		code = HUSH_E_INTERNAL;
	/* A failure here fails e, and op_reply() answers with why. */
	(void)!msg_error_reply(&e, op->client_req, code, detail);
	op_reply(op, &e);
}

/* Room for one more pending connection: the oldest pending one goes. */
static void
evict_oldest_pending(struct parent *p)
{
	struct client *c;
	char detail[200];

	TAILQ_FOREACH(c, &p->ctl->clients, entry) {
		if (c->state != CL_PENDING)
			continue;
		snprintf(detail, sizeof(detail), "closed after %llu ms without a whole "
		    "request: %d connections were waiting to send one, the most "
		    "hushd keeps, and this was the oldest; send the request right "
		    "after connecting", (unsigned long long)(child_now_ms() - c->since_ms),
		    CONTROL_PENDING_MAX);
		client_refuse(p, c, REFUSED_EVICTED, HUSH_E_BUSY, detail);
		return;
	}
}

static void client_read(struct parent *p, struct client *c);

/* Accepts one connection; false when none is waiting, or none can be taken. */
static bool
accept_one(struct parent *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	char detail[160];
	int fd;

	if ((fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED)
			return errno == ECONNABORTED;
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM: the backlog keeps them a moment. */
		snprintf(detail, sizeof(detail), "cannot accept a connection: %s; "
		    "pausing %d ms", strerror(errno), ACCEPT_PAUSE_MS);
		control_refused(REFUSED_ACCEPT, 0, detail);
		p->ctl->accept_resume_ms = child_now_ms() + ACCEPT_PAUSE_MS;
		return false;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return true;
	}
	/* fds: an attach's pidfd; dispatch() refuses them on anything else */
	chan_init(&c->ch, fd, "control", CONTROL_MAX_MSG, true);
	c->parked.fd = -1;
	c->pid = cred.pid;
	c->state = CL_PENDING;
	c->since_ms = child_now_ms();
	if (p->ctl->npending >= CONTROL_PENDING_MAX)
		evict_oldest_pending(p);
	TAILQ_INSERT_TAIL(&p->ctl->clients, c, entry);
	p->ctl->npending++;
	if (cred.uid != 0) {
		snprintf(detail, sizeof(detail), "permission denied: only root may use "
		    "the hush control socket (uid %u)", (unsigned)cred.uid);
		client_refuse(p, c, REFUSED_NOT_ROOT, HUSH_E_PERM, detail);
		return true;
	}
	/* Clients write right after connecting: most requests are here already. */
	client_read(p, c);
	return true;
}

void
control_accept(struct parent *p)
{
	for (int i = 0; i < ACCEPT_BATCH && accept_one(p); i++)
		;
}

/*
 * The pool a request draws on.  Only the type counts, which any root
 * client may write: the pools keep one kind of *work* from crowding out
 * the other, they do not tell the hook from hushctl.
 */
static enum client_pool
request_pool(const struct chan_msg *cm)
{
	const struct ctl_request *rq = ctl_request_find(cm);

	return rq != NULL ? rq->pool : POOL_CLI;
}

/*
 * A whole request has arrived: it leaves the pending pool for its own,
 * or waits for a place there (control_tick() serves it in turn), or is
 * refused when too many wait already.  True when it is to be served now.
 */
static bool
admit_request(struct parent *p, struct client *c, struct chan_msg *cm)
{
	struct control *ctl = p->ctl;
	enum client_pool pool = request_pool(cm);
	char detail[300];

	if (ctl->nserving[pool] < pool_max[pool] && ctl->nwaiting[pool] == 0) {
		ctl->npending--;
		ctl->nserving[pool]++;
		c->pool = pool;
		c->state = CL_SERVING;
		return true;
	}
	/*
	 * Places freed this turn of the poll loop are given to the waiting
	 * at the start of the next (control_tick()): until then they count
	 * as room to wait in, or a full queue would turn clients away from
	 * an idle pool.
	 */
	if (ctl->nwaiting[pool] + ctl->nserving[pool] < CONTROL_WAIT_MAX + pool_max[pool] &&
	    ctl->waiting_bytes + cm->len <= CONTROL_WAIT_BYTES) {
		ctl->npending--;
		ctl->nwaiting[pool]++;
		ctl->waiting_bytes += cm->len;
		c->pool = pool;
		c->state = CL_WAITING;
		c->parked = *cm;	/* now the client's: cm is left empty */
		cm->buf = NULL;
		cm->len = 0;
		cm->fd = -1;
		return false;
	}
	snprintf(detail, sizeof(detail), "hushd is busy: %zu %s requests are "
	    "in progress, the most it serves at once, and %zu more wait; this "
	    "one was not carried out, try again", pool_max[pool],
	    pool == POOL_HOOK ? "container" : "hushctl", ctl->nwaiting[pool]);
	client_refuse(p, c, pool == POOL_HOOK ? REFUSED_HOOK_FULL :
	    REFUSED_CLI_FULL, HUSH_E_BUSY, detail);
	return false;
}

static void serve(struct parent *p, struct client *c, struct chan_msg *cm);

/* The oldest waiting request of each pool with room, in turn. */
static void
serve_waiting(struct parent *p)
{
	struct control *ctl = p->ctl;
	struct client *c;
	struct chan_msg cm;

	while (ctl->nwaiting[POOL_CLI] > 0 || ctl->nwaiting[POOL_HOOK] > 0) {
		/*
		 * From the head each time: serving one may close others
		 * (an answer to several waiting operations), which moves
		 * them off this list.
		 */
		TAILQ_FOREACH(c, &ctl->clients, entry)
			if (c->state == CL_WAITING && ctl->nserving[c->pool] < pool_max[c->pool])
				break;
		if (c == NULL)
			return;
		cm = unpark(ctl, c);
		ctl->nserving[c->pool]++;
		c->state = CL_SERVING;
		serve(p, c, &cm);
		chan_msg_free(&cm);
	}
}

static void
dispatch(struct parent *p, struct client *c, struct chan_msg *cm)
{
	if (admit_request(p, c, cm))
		serve(p, c, cm);
}

/* Carries out the request of c, which holds a place in its pool. */
static void
serve(struct parent *p, struct client *c, struct chan_msg *cm)
{
	const struct ctl_request *rq;
	uint16_t allowed[2] = { 0, 0 };
	struct wire_msg *m;
	struct op *op;
	char why[256];
	int r;

	if ((m = malloc(sizeof(*m))) == NULL || (op = calloc(1, sizeof(*op))) == NULL) {
		free(m);
		client_close(p, c);
		return;
	}
	op->p = p;
	op->client = c;
	c->op = op;
	/* Parsed against its own type only: one not listed is not allowed here. */
	if ((rq = ctl_request_find(cm)) != NULL)
		allowed[0] = rq->type;
	if ((r = msg_parse(cm->buf, cm->len, CONTROL_MAX_MSG, allowed, m, why,
	    sizeof(why))) != 0) {
		/* A bad request from the CLI is answered, not fatal: say what is wrong. */
		struct wire_hdr hdr;

		if (wire_peek_hdr(cm->buf, cm->len, &hdr) == 0)
			op->client_req = hdr.request_id;
		op_error(op, r == HUSH_E_TOOBIG ? r : HUSH_E_PROTO, why);
		free(m);
		return;
	}
	op->client_req = m->hdr.request_id;
	op->type = m->hdr.type;
	if (cm->fd >= 0) {
		if (!rq->takes_fd) {
			op_error(op, HUSH_E_PROTO, "a file descriptor came with a "
			    "request that takes none");
			free(m);
			return;
		}
		op->has_fd = true;
		op->fd = cm->fd;
		cm->fd = -1;
	}
	if ((rq->when & node_serves(p)) == 0)
		node_refuse(p, op);
	else if ((rq->when & W_MANAGER) && p->node.role != ROLE_MANAGER)
		op_error(op, HUSH_E_PERM, "this node is not a manager: worker nodes "
		    "cannot view or change the cluster's state; run this on a manager");
	else
		rq->fn(op, m);
	free(m);
}

/* What chan_recv() refused, answered before the connection goes. */
static void
refuse_input(struct parent *p, struct client *c, int r)
{
	char detail[240];

	if (r == HUSH_E_TOOBIG) {
		snprintf(detail, sizeof(detail), "request too large: %zu bytes, and "
		    "hushd's control socket takes at most %u bytes per request "
		    "(a secret value at most %u bytes)", c->ch.refused_len,
		    (unsigned)CONTROL_MAX_MSG, (unsigned)HUSH_SECRET_MAX);
		client_refuse(p, c, REFUSED_TOOBIG, HUSH_E_TOOBIG, detail);
		return;
	}
	snprintf(detail, sizeof(detail), "malformed request: %s", hush_strerror(r));
	client_refuse(p, c, REFUSED_MALFORMED, r == HUSH_E_NOMEM ? r : HUSH_E_PROTO,
	    detail);
}

/* Reads what a pending client sent; serves its request once whole. */
static void
client_read(struct parent *p, struct client *c)
{
	struct chan_msg cm;
	int r;

	if ((r = chan_recv(&c->ch, &cm)) == 1) {
		dispatch(p, c, &cm);
		chan_msg_free(&cm);
	} else if (r == HUSH_E_IO) {
		client_close(p, c);	/* it hung up */
	} else if (r < 0) {
		refuse_input(p, c, r);
	}
}

void
control_client_io(struct parent *p, struct client *c, short revents)
{
	int r;

	if (revents & POLLOUT) {
		r = chan_flush(&c->ch);
		if (r != 0 && r != HUSH_E_UNAVAIL) {
			client_close(p, c);
			return;
		}
	}
	switch (c->state) {
	case CL_PENDING:
		if (revents & (POLLIN | POLLHUP | POLLERR))
			client_read(p, c);
		return;
	case CL_WAITING:
	case CL_SERVING:
		/*
		 * Hung up: the answer has no one to go to.  Nothing more is
		 * read from it (one request per connection), so a second
		 * request stays unread until the connection closes.
		 */
		if (revents & (POLLHUP | POLLERR))
			client_close(p, c);
		return;
	case CL_CLOSING:
		if (!chan_pending(&c->ch) || (revents & (POLLHUP | POLLERR)))
			client_close(p, c);
		return;
	case CL_GONE:
		return;
	}
}

bool
control_client_alive(struct parent *p, const struct client *c)
{
	return p->ctl != NULL && c->state != CL_GONE;
}

/* For the poll loop in parent.c. */
size_t
control_pollfds(struct parent *p, struct pollfd *pfd, struct client **who, size_t max)
{
	struct client *c;
	size_t n = 0;

	if (p->ctl == NULL)
		return 0;
	TAILQ_FOREACH(c, &p->ctl->clients, entry) {
		if (n >= max)
			break;
		pfd[n].fd = c->ch.fd;
		/* Past PENDING, input is not read: POLLHUP still says it left. */
		pfd[n].events = (c->state == CL_PENDING ? POLLIN : 0) |
		    (chan_pending(&c->ch) ? POLLOUT : 0);
		pfd[n].revents = 0;
		who[n++] = c;
	}
	return n;
}

static void
lower(int *timeout, uint64_t due, uint64_t now)
{
	int left = due > now ? (int)(due - now) : 0;

	if (*timeout < 0 || left < *timeout)
		*timeout = left;
}

void
control_tick(struct parent *p, int *timeout)
{
	struct client *c, *next;
	uint64_t now = child_now_ms();
	char detail[200];
	int due;

	if ((due = control_refusals_flush()) >= 0 && (*timeout < 0 || due < *timeout))
		*timeout = due;
	if (p->ctl == NULL)
		return;
	free_gone(p->ctl);
	if (p->ctl->accept_resume_ms > now)
		lower(timeout, p->ctl->accept_resume_ms, now);
	serve_waiting(p);
	for (c = TAILQ_FIRST(&p->ctl->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		switch (c->state) {
		case CL_PENDING:
			if (now - c->since_ms < CONTROL_REQUEST_MS) {
				lower(timeout, c->since_ms + CONTROL_REQUEST_MS, now);
				break;
			}
			snprintf(detail, sizeof(detail), "closed: no whole request "
			    "within %d ms of connecting (hushctl and hush-oci-hook "
			    "send theirs at once)", CONTROL_REQUEST_MS);
			client_refuse(p, c, REFUSED_IDLE, HUSH_E_TIMEOUT, detail);
			break;
		case CL_WAITING:
		case CL_SERVING:
		case CL_GONE:
			break;
		case CL_CLOSING:
			if (!chan_pending(&c->ch)) {
				client_close(p, c);
			} else if (now - c->since_ms >= CONTROL_DRAIN_MS) {
				snprintf(detail, sizeof(detail), "the client did not read "
				    "its reply within %d ms", CONTROL_DRAIN_MS);
				control_refused(REFUSED_UNREAD, c->pid, detail);
				client_close(p, c);
			} else {
				lower(timeout, c->since_ms + CONTROL_DRAIN_MS, now);
			}
			break;
		}
	}
}
