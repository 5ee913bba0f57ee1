/*
 * The control socket.  Who may use it is decided by the kernel (SO_PEERCRED),
 * never by anything the client writes; which requests a client may make
 * depends only on the node's state (uninitialized, locked, ready).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "parent.h"

struct client {
	struct client	*next;
	struct chan	 ch;
	struct op	*op;		/* the request being served */
	pid_t		 pid;
};

/* When a request is allowed, by node state. */
#define W_UNINIT	0x1
#define W_LOCKED	0x2
#define W_READY		0x4
#define W_MANAGER	0x8	/* and only on a manager */
#define W_BUSY		0x10	/* initializing, or the raft store starting */
#define W_DEGRADED	0x20	/* a manager whose raft data is damaged */

static const struct handler {
	uint16_t	 type;
	unsigned	 when;
	void		(*fn)(struct op *, const struct wire_msg *);
} handlers[] = {
	{ CTL_STATUS,		W_UNINIT | W_LOCKED | W_READY | W_BUSY | W_DEGRADED,
				op_status },
	{ CTL_INIT,		W_UNINIT,			op_init },
	{ CTL_UNLOCK,		W_LOCKED,			op_unlock },
	{ CTL_JOIN,		W_UNINIT,			op_join },
	{ CTL_LEAVE,		W_READY | W_LOCKED | W_DEGRADED, op_leave },
	{ CTL_NODE_REPAIR,	W_READY | W_DEGRADED | W_MANAGER, op_node_repair },
	{ CTL_JOIN_TOKEN,	W_READY | W_MANAGER,		op_join_token },
	{ CTL_SECRET_CREATE,	W_READY | W_MANAGER,		op_secret_create },
	{ CTL_SECRET_LIST,	W_READY | W_MANAGER,		op_secret_list },
	{ CTL_SECRET_INSPECT,	W_READY | W_MANAGER,		op_secret_inspect },
	{ CTL_SECRET_RM,	W_READY | W_MANAGER,		op_secret_rm },
	{ CTL_UPDATE,		W_READY | W_MANAGER,		op_update },
	{ CTL_UNLOCK_KEY,	W_READY | W_MANAGER,		op_unlock_key },
	{ CTL_NODE_LIST,	W_READY | W_MANAGER,		op_node_list },
	{ CTL_NODE_INSPECT,	W_READY | W_MANAGER,		op_node_inspect },
	{ CTL_NODE_PROMOTE,	W_READY | W_MANAGER,		op_node_promote },
	{ CTL_NODE_DEMOTE,	W_READY | W_MANAGER,		op_node_demote },
	{ CTL_NODE_RM,		W_READY | W_MANAGER,		op_node_rm },
	{ CTL_NODE_UPDATE,	W_READY | W_MANAGER,		op_node_update },
	{ CTL_ASSIGNMENTS,	W_READY,			op_assignments },
	{ CTL_CONTAINER_ATTACH,	W_READY,			op_container_attach },
	{ CTL_CONTAINER_DETACH,	W_READY,			op_container_detach },
	/*
	 * Every state: the list reads only this process's and the mounter's
	 * tables, never the store or a key, and containers outlive the states
	 * that let them attach.  They keep their secrets while a manager's
	 * raft store restarts (W_BUSY) and after 'hushctl leave' (W_UNINIT);
	 * a node is locked only right after hushd started, when both tables
	 * are empty, and "none" is then the true answer.
	 */
	{ CTL_CONTAINER_LIST,	W_UNINIT | W_LOCKED | W_READY | W_BUSY | W_DEGRADED,
				op_container_list },
	{ CTL_SECRET_UPDATE,	W_READY | W_MANAGER,		op_secret_update },
	{ CTL_SERVICE_CREATE,	W_READY | W_MANAGER,		op_service_create },
	{ CTL_SERVICE_LIST,	W_READY | W_MANAGER,		op_service_list },
	{ CTL_SERVICE_INSPECT,	W_READY | W_MANAGER,		op_service_inspect },
	{ CTL_SERVICE_UPDATE,	W_READY | W_MANAGER,		op_service_update },
	{ CTL_SERVICE_RM,	W_READY | W_MANAGER,		op_service_rm },
};

static const uint16_t control_requests[] = {
	CTL_STATUS, CTL_INIT, CTL_UNLOCK, CTL_JOIN_TOKEN, CTL_SECRET_CREATE,
	CTL_SECRET_LIST, CTL_SECRET_INSPECT, CTL_SECRET_RM, CTL_UPDATE,
	CTL_UNLOCK_KEY, CTL_JOIN, CTL_LEAVE, CTL_NODE_LIST, CTL_NODE_INSPECT,
	CTL_NODE_PROMOTE, CTL_NODE_DEMOTE, CTL_NODE_RM, CTL_NODE_UPDATE, CTL_SECRET_UPDATE,
	CTL_ASSIGNMENTS, CTL_CONTAINER_ATTACH, CTL_CONTAINER_DETACH, CTL_CONTAINER_LIST,
	CTL_SERVICE_CREATE, CTL_SERVICE_LIST, CTL_SERVICE_INSPECT, CTL_SERVICE_UPDATE,
	CTL_SERVICE_RM, CTL_NODE_REPAIR, 0
};

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
	if (chmod(p->cfg.control_socket, 0600) != 0 || listen(fd, 16) != 0) {
		close(fd);
		return HUSH_E_IO;
	}
	p->listen_fd = fd;
	return 0;
}

static void
client_send(struct client *c, struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish(e, &buf, &len)) != 0) {
		wire_enc_free(e);
		msg_error_reply(e, 1, r, "the reply does not fit in a message");
		if (wire_enc_finish(e, &buf, &len) != 0)
			return;
	}
	chan_send(&c->ch, buf, len, -1);
}

static void
client_close(struct parent *p, struct client *c)
{
	struct client **cp;

	for (cp = &p->clients; *cp != NULL; cp = &(*cp)->next) {
		if (*cp == c) {
			*cp = c->next;
			break;
		}
	}
	/* The operation carries on (a commit must finish); its answer is dropped. */
	if (c->op != NULL)
		c->op->client = NULL;
	chan_close(&c->ch);
	free(c);
	p->nclients--;
}

void
control_close_all(struct parent *p)
{
	while (p->clients != NULL)
		client_close(p, p->clients);
	if (p->listen_fd >= 0) {
		close(p->listen_fd);
		unlink(p->cfg.control_socket);
	}
	p->listen_fd = -1;
}

void
op_free(struct op *op)
{
	if (op->client != NULL)
		op->client->op = NULL;
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
	msg_error_reply(&e, op->client_req, code, detail);
	op_reply(op, &e);
}

void
control_accept(struct parent *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	struct wire_enc e;
	int fd;

	if ((fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	/* fds: an attach's pidfd; dispatch() refuses them on anything else */
	chan_init(&c->ch, fd, "control", CONTROL_MAX_MSG, true);
	c->pid = cred.pid;
	if (cred.uid != 0 || p->nclients >= MAX_CLIENTS) {
		if (cred.uid != 0)
			log_warn("refused control connection from uid %u (pid %ld)",
			    (unsigned)cred.uid, (long)cred.pid);
		msg_error_reply(&e, 1, cred.uid != 0 ? HUSH_E_PERM : HUSH_E_UNAVAIL,
		    cred.uid != 0 ? "permission denied: only root may use the hush control socket"
		    : "too many control connections");
		client_send(c, &e);
		wire_enc_free(&e);
		chan_close(&c->ch);
		free(c);
		return;
	}
	c->next = p->clients;
	p->clients = c;
	p->nclients++;
}

static unsigned
state_bit(const struct parent *p)
{
	switch (p->state) {
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

static void
refuse(struct parent *p, struct op *op)
{
	switch (p->state) {
	case PS_UNINITIALIZED:
		op_error(op, HUSH_E_NOTINIT, NULL);
		return;
	case PS_LOCKED:
		op_error(op, HUSH_E_LOCKED, NULL);
		return;
	case PS_INITIALIZING:
		op_error(op, HUSH_E_UNAVAIL, "the node is being initialized");
		return;
	case PS_STARTING:
		op_error(op, HUSH_E_UNAVAIL, "the raft store is starting");
		return;
	case PS_DEGRADED:
		/* Not UNAVAIL: retrying cannot help, the client must not wait. */
		op_error(op, HUSH_E_CORRUPT, p->health);
		return;
	case PS_READY:
		if (op->type == CTL_INIT || op->type == CTL_JOIN)
			op_error(op, HUSH_E_ALREADYINIT, NULL);
		else
			op_error(op, HUSH_E_INVAL, "hush is not locked");
		return;
	}
}

static void
dispatch(struct parent *p, struct client *c, struct chan_msg *cm)
{
	struct wire_msg *m;
	struct op *op;
	char why[256];
	int r;

	if (c->op != NULL) {
		log_warn("control client (pid %ld) sent a second request while one is "
		    "in progress", (long)c->pid);
		client_close(p, c);
		return;
	}
	if ((m = malloc(sizeof(*m))) == NULL || (op = calloc(1, sizeof(*op))) == NULL) {
		free(m);
		client_close(p, c);
		return;
	}
	op->p = p;
	op->client = c;
	c->op = op;
	if ((r = msg_parse(cm->buf, cm->len, CONTROL_MAX_MSG, control_requests, m, why,
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
		if (op->type != CTL_CONTAINER_ATTACH) {
			op_error(op, HUSH_E_PROTO, "a file descriptor came with a "
			    "request that takes none");
			free(m);
			return;
		}
		op->has_fd = true;
		op->fd = cm->fd;
		cm->fd = -1;
	}
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (handlers[i].type != m->hdr.type)
			continue;
		if ((handlers[i].when & state_bit(p)) == 0)
			refuse(p, op);
		else if ((handlers[i].when & W_MANAGER) && p->node.role != ROLE_MANAGER)
			op_error(op, HUSH_E_PERM, "this node is not a manager: worker nodes "
			    "cannot view or change the cluster's state; run this on a manager");
		else
			handlers[i].fn(op, m);
		free(m);
		return;
	}
	op_error(op, HUSH_E_PROTO, "unknown request");
	free(m);
}

void
control_client_io(struct parent *p, struct client *c, short revents)
{
	struct chan_msg cm;
	int r;

	if (revents & POLLOUT) {
		r = chan_flush(&c->ch);
		if (r != 0 && r != HUSH_E_UNAVAIL) {
			client_close(p, c);
			return;
		}
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		r = chan_recv(&c->ch, &cm);
		if (r == 1) {
			dispatch(p, c, &cm);
			chan_msg_free(&cm);
		} else if (r < 0) {
			if (r != HUSH_E_IO)
				log_warn("control client (pid %ld): %s", (long)c->pid,
				    hush_strerror(r));
			client_close(p, c);
		}
	}
}

bool
control_client_alive(struct parent *p, const struct client *c)
{
	for (const struct client *x = p->clients; x != NULL; x = x->next)
		if (x == c)
			return true;
	return false;
}

/* For the poll loop in parent.c. */
size_t
control_pollfds(struct parent *p, struct pollfd *pfd, struct client **who, size_t max)
{
	size_t n = 0;

	for (struct client *c = p->clients; c != NULL && n < max; c = c->next) {
		pfd[n].fd = c->ch.fd;
		pfd[n].events = POLLIN | (chan_pending(&c->ch) ? POLLOUT : 0);
		pfd[n].revents = 0;
		who[n++] = c;
	}
	return n;
}
