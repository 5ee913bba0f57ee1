/*
 * The launcher, hushd's first child: it forks and confines every other
 * child, and reports their exits.
 *
 * Why a process of its own: a seccomp filter, a Landlock domain and the
 * capability bounding set are all inherited across fork().  A parent that
 * forked its children itself could never be confined more tightly than
 * the union of everything they need -- the mounter's mount API, setns()
 * and CAP_SYS_ADMIN, raft's file writes -- which is most of what makes a
 * root process dangerous.  So the launcher is forked first, before the
 * parent loads a key or confines itself, keeps those privileges, and the
 * parent drops them.  The children gain from it too: they are forked from
 * a process that has never held a key, so no key is in their memory from
 * the start (OpenSSH re-executes sshd for the same reason).
 *
 * What a compromised parent can make it do is exactly its interface:
 * start a child from the fixed table of roles (confined as that role's
 * child_desc says), and SIGKILL the process currently running for a role.
 * Requests are fixed-size records checked field by field; anything else
 * ends the launcher, and with it every child.
 *
 * The launcher's own confinement is bounded by its children's, since they
 * inherit it: capabilities cut to the union of theirs plus SETUID, SETGID,
 * SETPCAP (to hand out users and capability sets) and KILL (its children
 * may run as another uid); a seccomp filter allowing its own calls
 * (launcher_sandbox.c) and any child's, on which each child stacks its
 * own -- so no hushd process may execve, ptrace or load a module; and no
 * Landlock domain, which would forbid the mounter to mount.  It holds no
 * key and no socket but its socketpair to the parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "err.h"
#include "keyring.h"
#include "launcher.h"
#include "log.h"
#include "proc_harden.h"
#include "sandbox.h"

#define MAX_ROLES	8
#define MAX_QUEUED	32
#define SPAWN_WAIT_MS	10000
/*
 * How long children get to end by themselves once the parent is gone:
 * each sees its channel close and stops (raft closes its log) well
 * within it.  Only one still running after that is worth a warning.
 */
#define CHILD_GRACE_MS	2000

enum launch_kind { LAUNCH_STARTED = 1, LAUNCH_FAILED = 2, LAUNCH_EXITED = 3 };

/* Launcher -> parent; LAUNCH_STARTED carries two fds (channel, trap pipe). */
struct launch_ev {
	uint32_t	 kind;
	uint32_t	 role;
	int32_t		 pid;
	int32_t		 status;	/* wait status, or errno for FAILED */
};

static const struct child_desc *const *roles;
static size_t	 nroles;

/* Parent side. */
static int	 lfd = -1;
static pid_t	 lpid;
static int	 parent_trap_w = -1;
static int	 launcher_trap_r = -1;	/* the launcher's own SIGSYS reports */

/* Launcher side: where its own SIGSYS handler reports (the parent reads). */
static int	 own_trap_w = -1;
static pid_t	 parent_pid;	/* the parent that forked the launcher */
static struct launch_ev queued[MAX_QUEUED];
static size_t	 nqueued;

/* ---- launcher side ------------------------------------------------------ */

int
launch_req_decode(const void *buf, size_t len, size_t n, struct launch_req *out)
{
	struct launch_req r;

	if (len != sizeof(r))
		return HUSH_E_FORMAT;
	memcpy(&r, buf, sizeof(r));
	if (r.role >= n)
		return HUSH_E_RANGE;
	switch (r.op) {
	case LAUNCH_SPAWN:
		if (r.pid != 0)
			return HUSH_E_FORMAT;
		break;
	case LAUNCH_KILL:
		if (r.pid <= 0)
			return HUSH_E_FORMAT;
		break;
	default:
		return HUSH_E_FORMAT;
	}
	*out = r;
	return 0;
}

static pid_t	 running[MAX_ROLES];

static int
send_ev(int fd, const struct launch_ev *ev, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cbuf;
	struct iovec iov = { .iov_base = (void *)ev, .iov_len = sizeof(*ev) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (nfds > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*ev) ? 0 : HUSH_E_IO;
}

static void launcher_exit(int tfd) __attribute__((__noreturn__));
static int	 trap_rd = -1;	/* the parent's trap pipe, for launcher_exit() */
static bool	 parent_lost;	/* a report could not go: the parent is gone */

/* What a send to the parent failing with e means: it is gone. */
static bool
gone(int e)
{
	return e == EPIPE || e == ECONNRESET || e == ENOTCONN;
}

/* The parent went while we told it something: see launcher_exit(). */
static void __attribute__((__noreturn__))
lost_parent(void)
{
	parent_lost = true;
	launcher_exit(trap_rd);
}

static void
launch(int fd, uint32_t role)
{
	struct launch_ev ev = { .kind = LAUNCH_FAILED, .role = role };
	int fds[2], r;
	pid_t pid;

	if (running[role] > 0) {
		ev.status = EBUSY;
	} else if ((r = child_fork(roles[role], &pid, &fds[0], &fds[1])) != 0) {
		ev.status = -r;
	} else {
		running[role] = pid;
		ev.kind = LAUNCH_STARTED;
		ev.pid = pid;
		r = send_ev(fd, &ev, fds, 2) == 0 ? 0 : errno;
		close(fds[0]);
		close(fds[1]);
		if (r != 0 && gone(r))
			lost_parent();
		if (r != 0)
			log_err("cannot hand the %s process to the parent: %s",
			    roles[role]->name, strerror(r));
		return;
	}
	if (send_ev(fd, &ev, NULL, 0) != 0) {
		if (gone(errno))
			lost_parent();
		log_err("cannot tell the parent that %s did not start",
		    roles[role]->name);
	}
}


/*
 * Reports each child that ended to the parent (fd), or to no one (-1).
 * A report that cannot go means the parent is gone, and so the children
 * are ending, which is what launcher_exit() is for.
 */
static void
reap_children(int fd)
{
	struct launch_ev ev;
	pid_t pid;
	int status;
	bool lost = false;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < nroles; i++) {
			if (running[i] != pid)
				continue;
			running[i] = 0;
			ev = (struct launch_ev){ .kind = LAUNCH_EXITED, .role = (uint32_t)i,
			    .pid = pid, .status = status };
			if (fd < 0 || lost)
				continue;
			if (send_ev(fd, &ev, NULL, 0) == 0)
				continue;
			if (gone(errno))
				lost = true;
			else
				log_err("cannot report the end of the %s process: %s",
				    roles[i]->name, strerror(errno));
		}
	}
	if (lost)
		lost_parent();
}

/* The parent's own sandbox reported a trapped call: say which, it cannot. */
static void
read_parent_trap(int tfd)
{
	struct sandbox_trap t;
	char what[128];

	while (sandbox_trap_read(tfd, &t, what, sizeof(what)))
		log_err("the parent process (pid %ld) was killed by its sandbox: %s",
		    (long)t.pid, what);
}

static size_t
children_running(void)
{
	size_t alive = 0;

	for (size_t i = 0; i < nroles; i++)
		alive += running[i] > 0;
	return alive;
}

/* Reaps children until none runs or ms have passed; how many still run. */
static size_t
wait_children(int ms)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	for (int waited = 0;; waited += 20) {
		reap_children(-1);
		if (children_running() == 0 || waited >= ms)
			return children_running();
		nanosleep(&pause, NULL);
	}
}

/*
 * The parent is gone or done: nothing may outlive it.  After a clean
 * stop the parent has waited for its children, so none is left; after
 * it died (kill -9, a crash) they are all stopping by themselves, as
 * their channels to it closed.  That is expected and said once, calmly;
 * a child that will not stop is not, and is killed with a warning.
 */
static void
launcher_exit(int tfd)
{
	char names[128] = "";
	size_t off = 0;
	int n;

	read_parent_trap(tfd);
	for (size_t i = 0; i < nroles; i++) {
		if (running[i] <= 0)
			continue;
		n = snprintf(names + off, sizeof(names) - off, "%s%s",
		    off == 0 ? "" : ", ", roles[i]->name);
		if (n > 0 && (size_t)n < sizeof(names) - off)
			off += (size_t)n;
	}
	if (off > 0 || parent_lost)
		log_info("the parent process (pid %ld) %s; its children stop with "
		    "it%s%s%s", (long)parent_pid, getppid() != parent_pid ?
		    "is gone" : "closed its channel", off > 0 ? " (still running: " :
		    "", names, off > 0 ? ")" : "");
	if (wait_children(CHILD_GRACE_MS) > 0) {
		for (size_t i = 0; i < nroles; i++) {
			if (running[i] > 0) {
				log_warn("%s process did not stop within %d ms of the "
				    "parent's end; killing it", roles[i]->name,
				    CHILD_GRACE_MS);
				kill(running[i], SIGKILL);
			}
		}
		(void)wait_children(5000);
	}
	_exit(0);
}

static void
launcher_confine(void)
{
	cap_value_t keep[64];
	size_t n = 0;
	const cap_value_t own[] = { CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_KILL };

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		keep[n++] = own[i];
	for (size_t r = 0; r < nroles; r++) {
		for (size_t i = 0; i < roles[r]->ncaps; i++) {
			size_t k;

			for (k = 0; k < n && keep[k] != roles[r]->caps[i]; k++)
				;
			if (k == n && n < sizeof(keep) / sizeof(keep[0]))
				keep[n++] = roles[r]->caps[i];
		}
	}
	if (caps_limit(keep, n) != 0)
		fatal("cannot limit the launcher's capabilities");
	/* Loaded once here, so that no child reads a file to load it. */
	child_preload();
	{
		const struct sandbox_policy *ps[MAX_ROLES];
		int r;

		for (size_t i = 0; i < nroles; i++)
			ps[i] = roles[i]->sandbox;
		if ((r = sandbox_apply_union("launcher", launcher_calls, ps, nroles,
		    own_trap_w)) != 0)
			fatal_r(r, "cannot sandbox the launcher");
	}
}

static void __attribute__((__noreturn__))
launcher_main(int fd, int tfd)
{
	struct pollfd pfd[3];
	struct signalfd_siginfo si;
	struct launch_req req;
	uint8_t buf[sizeof(req) + 1];
	sigset_t set;
	ssize_t n;
	int sfd;

	proc_set_title("hushd: launcher");
	log_set_role("hushd: launcher");
	/*
	 * SIGTERM and ^C are for the parent, which stops the children in
	 * order; the launcher ends when the parent closes its channel.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		fatal("cannot block signals");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		fatal("cannot create a signalfd");
	if (keyring_join_private() != 0)
		fatal("cannot leave the inherited session keyring");
	/* The parent set these already; they are the launcher's own too. */
	if (proc_harden() != 0)
		fatal("cannot harden the process");
	launcher_confine();
	trap_rd = tfd;

	for (;;) {
		pfd[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = tfd, .events = POLLIN };
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		if (pfd[1].revents) {
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				;
			reap_children(fd);
		}
		if (pfd[2].revents & POLLIN)
			read_parent_trap(tfd);
		if (pfd[0].revents == 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			launcher_exit(tfd);	/* the parent closed it, or died */
		if (launch_req_decode(buf, n > (ssize_t)sizeof(buf) ? (size_t)-1 :
		    (size_t)n, nroles, &req) != 0) {
			log_err("malformed request from the parent (%zd bytes); stopping", n);
			launcher_exit(tfd);
		}
		if (req.op == LAUNCH_SPAWN)
			launch(fd, req.role);
		/* Only the process running for that role, never a reused pid. */
		else if (running[req.role] == req.pid)
			kill(req.pid, SIGKILL);
	}
}

/* ---- parent side -------------------------------------------------------- */

int
launcher_start(const struct child_desc *const *r, size_t n)
{
	int sv[2], tp[2], lt[2], keep[3];
	pid_t pid;

	if (n == 0 || n > MAX_ROLES)
		return HUSH_E_INVAL;
	parent_pid = getpid();
	roles = r;
	nroles = n;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return HUSH_E_SYS;
	if (pipe2(tp, O_CLOEXEC) != 0) {
		close(sv[0]);
		close(sv[1]);
		return HUSH_E_SYS;
	}
	if (pipe2(lt, O_CLOEXEC | O_NONBLOCK) != 0) {
		close(sv[0]);
		close(sv[1]);
		close(tp[0]);
		close(tp[1]);
		return HUSH_E_SYS;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		close(tp[0]);
		close(tp[1]);
		close(lt[0]);
		close(lt[1]);
		return HUSH_E_SYS;
	}
	if (pid == 0) {
		keep[0] = sv[1];
		keep[1] = tp[0];
		keep[2] = lt[1];
		if (proc_close_fds_from(STDERR_FILENO + 1, keep, 3) != 0)
			fatal("cannot close inherited descriptors");
		fcntl(tp[0], F_SETFL, fcntl(tp[0], F_GETFL) | O_NONBLOCK);
		own_trap_w = lt[1];
		launcher_main(sv[1], tp[0]);
	}
	close(sv[1]);
	close(tp[0]);
	close(lt[1]);
	lfd = sv[0];
	lpid = pid;
	parent_trap_w = tp[1];
	launcher_trap_r = lt[0];
	log_info("started launcher process (pid %ld)", (long)pid);
	return 0;
}

pid_t
launcher_pid(void)
{
	return lpid;
}

int
launcher_fd(void)
{
	return lfd;
}

int
launcher_parent_trap_fd(void)
{
	return parent_trap_w;
}

void
launcher_death_detail(char *buf, size_t len)
{
	struct sandbox_trap t;
	char what[128];

	buf[0] = '\0';
	if (sandbox_trap_read(launcher_trap_r, &t, what, sizeof(what)))
		snprintf(buf, len, ": %s", what);
}

static size_t
role_of(const struct child_desc *d)
{
	for (size_t i = 0; i < nroles; i++)
		if (roles[i] == d)
			return i;
	fatal("the %s process is not in the launcher's table", d->name);
}

/* One event; fds[] gets any it carried (else -1).  0 = none waiting. */
static int
recv_ev(struct launch_ev *ev, int fds[2], int timeout_ms)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cbuf;
	struct iovec iov = { .iov_base = ev, .iov_len = sizeof(*ev) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf) };
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct cmsghdr *cm;
	ssize_t n;

	fds[0] = fds[1] = -1;
	if (lfd < 0)
		return HUSH_E_IO;
	if (timeout_ms != 0 && poll(&pfd, 1, timeout_ms) == 0)
		return HUSH_E_TIMEOUT;
	n = recvmsg(lfd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			memcpy(fds, CMSG_DATA(cm), 2 * sizeof(int));
	}
	if (n <= 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    n != (ssize_t)sizeof(*ev) || ev->role >= nroles) {
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		return HUSH_E_IO;
	}
	return 1;
}

int
launcher_spawn(const struct child_desc *d, pid_t *pid, int *chan_fd, int *trap_fd)
{
	struct launch_req req = { .op = LAUNCH_SPAWN, .role = (uint32_t)role_of(d) };
	struct launch_ev ev;
	int fds[2], r;

	if (lfd < 0)
		return HUSH_E_IO;
	if (send(lfd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return HUSH_E_IO;
	for (;;) {
		if ((r = recv_ev(&ev, fds, SPAWN_WAIT_MS)) < 0)
			return r;
		if (r == 0)
			continue;
		if (ev.kind == LAUNCH_EXITED && nqueued < MAX_QUEUED) {
			queued[nqueued++] = ev;
			continue;
		}
		if (ev.kind == LAUNCH_STARTED && ev.role == req.role && ev.pid > 0 &&
		    fds[0] >= 0 && fds[1] >= 0) {
			*pid = ev.pid;
			*chan_fd = fds[0];
			*trap_fd = fds[1];
			return 0;
		}
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		if (ev.kind == LAUNCH_FAILED && ev.role == req.role) {
			errno = ev.status;
			return HUSH_E_SYS;
		}
		return HUSH_E_PROTO;
	}
}

int
launcher_kill(const struct child_desc *d, pid_t pid)
{
	struct launch_req req = { .op = LAUNCH_KILL, .role = (uint32_t)role_of(d),
	    .pid = pid };

	if (lfd < 0 || send(lfd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return HUSH_E_IO;
	return 0;
}

int
launcher_next_exit(pid_t *pid, int *status)
{
	struct launch_ev ev;
	int fds[2], r;

	if (nqueued > 0) {
		ev = queued[0];
		memmove(queued, queued + 1, --nqueued * sizeof(queued[0]));
	} else {
		if ((r = recv_ev(&ev, fds, 0)) <= 0)
			return r;
		if (ev.kind != LAUNCH_EXITED) {
			if (fds[0] >= 0)
				close(fds[0]);
			if (fds[1] >= 0)
				close(fds[1]);
			return HUSH_E_PROTO;
		}
	}
	*pid = ev.pid;
	*status = ev.status;
	return 1;
}

int
launcher_reap(int *status, unsigned ms)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	pid_t r;

	for (unsigned waited = 0;; waited += 20) {
		if ((r = waitpid(lpid, status, WNOHANG)) == lpid)
			return 1;
		if (r < 0)
			return -1;
		if (waited >= ms)
			return 0;
		nanosleep(&pause, NULL);
	}
}

void
launcher_stop(void)
{
	int status;

	if (lfd < 0)
		return;
	close(lfd);
	lfd = -1;
	if (launcher_reap(&status, 8000) != 0)
		return;
	/*
	 * A confined parent may not signal it (Landlock scopes signals to
	 * the domain): then say so and go; the kernel reparents it, and its
	 * children die with it when it ends.
	 */
	if (kill(lpid, SIGKILL) != 0) {
		log_warn("the launcher did not stop and cannot be killed from here: %s",
		    strerror(errno));
		return;
	}
	log_warn("the launcher did not stop; killed it");
	waitpid(lpid, NULL, 0);
}
