/*
 * The trip into a container's mount namespace that secretfs_attach(),
 * secretfs_detach() and secretfs_adopt() share (see secretfs_ns.h): a
 * forked child setns()es in, does one job, and answers over a socketpair
 * with a report and, for adopt, one fd.
 */
#include <errno.h>
#ifdef HUSH_TEST_HOOKS
#include <seccomp.h>
#endif
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "proc_harden.h"
#include "proc_start.h"
#include "secretfs.h"
#include "sandbox.h"
#include "secretfs_ns.h"

int
sfs_report(struct sfs_report *rep, int code, const char *fmt, ...)
{
	va_list ap;

	rep->code = code;
	va_start(ap, fmt);
	vsnprintf(rep->msg, sizeof(rep->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *
sfs_sanitize(const char *s, size_t len, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < len && s[i] != '\0' && i < SFS_ECHO_MAX && i + 1 < cap;
	    i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * target: an optional leading '/', then components joined by single
 * slashes, none empty, "." or "..".  It comes from hush's configuration,
 * not from the container, but the walks rely on its shape.
 */
bool
sfs_target_ok(const char *target)
{
	const char *c;
	size_t clen;

	if (target == NULL || strnlen(target, PATH_MAX) >= PATH_MAX)
		return false;
	c = target[0] == '/' ? target + 1 : target;
	if (*c == '\0')
		return false;
	for (; *c != '\0'; c += clen + (c[clen] == '/')) {
		clen = strcspn(c, "/");
		if (clen == 0 || clen > NAME_MAX ||
		    (clen == 1 && c[0] == '.') ||
		    (clen == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (c[clen] == '/' && c[clen + 1] == '\0')
			return false;
	}
	for (c = target; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/*
 * The rootfs belongs to the image: /run may be a symlink to /host/etc.
 * Following it, even confined with RESOLVE_IN_ROOT, would put the mount
 * somewhere other than where the container expects its secrets, so a
 * symlink anywhere in the target is an error.  Callers go one component
 * at a time, so the error can say which, and so that each directory
 * attach makes is reopened the same way: a symlink raced into its place
 * is refused too.
 */
int
sfs_openat2(int dir, const char *name, uint64_t flags, uint64_t resolve)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = flags;
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
}

int
sfs_open_dir(int dir, const char *name)
{
	return sfs_openat2(dir, name, O_PATH | O_DIRECTORY | O_CLOEXEC,
	    RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/*
 * Makes a missing directory of the target (usually run/secrets itself,
 * the mount point) owned like its parent.  In a user-namespaced
 * container the rootfs belongs to the mapped root: host root could not
 * make the directory without CAP_DAC_OVERRIDE, and a mount point left
 * owned by host root would be one the container's own root cannot
 * remove.  Returns 0 or an errno; EEXIST is success (someone was
 * faster, or a dangling symlink, which the caller's open refuses).
 */
static int
make_dir(int dir, const char *name)
{
	struct stat st;
	int e;

	if (fstat(dir, &st) == -1)
		return errno;
	if (mkdirat(dir, name, 0755) == -1)
		return errno == EEXIST ? 0 : errno;
	if (fchownat(dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) == -1) {
		e = errno;
		(void)unlinkat(dir, name, AT_REMOVEDIR);
		return e;
	}
	return 0;
}

int
sfs_walk_make(int rootfd, const char *target, int *dirp, struct sfs_report *rep)
{
	char path[PATH_MAX], shown[PATH_MAX], s[SFS_ECHO_MAX + 1];
	char *comp, *slash;
	size_t sl = 0;
	int cur, next, e;

	*dirp = -1;
	snprintf(path, sizeof(path), "%s", target[0] == '/' ? target + 1 :
	    target);
	shown[0] = '\0';
	if ((cur = dup(rootfd)) == -1)
		return sfs_report(rep, HUSH_E_SYS, "dup: %s", strerror(errno));
	for (comp = path; *comp != '\0'; comp = slash != NULL ? slash + 1 :
	    comp + strlen(comp)) {
		if ((slash = strchr(comp, '/')) != NULL)
			*slash = '\0';
		sl += (size_t)snprintf(shown + sl, sizeof(shown) - sl, "/%s",
		    comp);
		sfs_sanitize(shown, sl, s, sizeof(s));
		if ((next = sfs_open_dir(cur, comp)) == -1 && errno == ENOENT) {
			if ((e = make_dir(cur, comp)) != 0) {
				close(cur);
				return sfs_report(rep, e == EROFS ? HUSH_E_PERM :
				    HUSH_E_SYS, "making %s in the rootfs: %s",
				    s, strerror(e));
			}
			next = sfs_open_dir(cur, comp);
		}
		if (next == -1) {
			e = errno;
			close(cur);
			if (e == ELOOP)
				return sfs_report(rep, HUSH_E_PERM, "%s in the "
				    "rootfs is a symlink; refusing to "
				    "follow it", s);
			if (e == ENOTDIR)
				return sfs_report(rep, HUSH_E_EXISTS, "%s in the "
				    "rootfs is not a directory", s);
			return sfs_report(rep, HUSH_E_SYS, "opening %s in the "
			    "rootfs: %s", s, strerror(e));
		}
		close(cur);
		cur = next;
	}
	*dirp = cur;
	return 0;
}

int
sfs_open_view(int rootfd, const char *target, uint64_t mnt_id, int *fdp,
    struct sfs_report *rep)
{
	char path[PATH_MAX], s[SFS_ECHO_MAX + 1];
	struct statx stx;
	char *comp, *slash;
	int cur, next, e;

	*fdp = -1;
	sfs_sanitize(target, strlen(target), s, sizeof(s));
	if ((cur = dup(rootfd)) == -1)
		return sfs_report(rep, HUSH_E_SYS, "dup: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s", target[0] == '/' ? target + 1 :
	    target);
	for (comp = path; comp != NULL; comp = slash) {
		if ((slash = strchr(comp, '/')) != NULL)
			*slash++ = '\0';
		next = sfs_open_dir(cur, comp);
		e = errno;
		close(cur);
		if ((cur = next) == -1)
			return sfs_report(rep, e == ELOOP ? HUSH_E_PERM :
			    HUSH_E_NOTFOUND, "%s in the rootfs: %s", s,
			    e == ELOOP ? "a symlink is in the way" :
			    strerror(e));
	}
	/* The fd is whatever is on top at the target. */
	if (statx(cur, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
	    STATX_MNT_ID_UNIQUE, &stx) == -1 ||
	    (stx.stx_mask & STATX_MNT_ID_UNIQUE) == 0) {
		e = errno;
		close(cur);
		return sfs_report(rep, HUSH_E_SYS, "statx of %s: %s", s,
		    strerror(e));
	}
	if (stx.stx_mnt_id != mnt_id ||
	    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) == 0) {
		close(cur);
		return sfs_report(rep, HUSH_E_NOTFOUND, "the secrets mount is not "
		    "on top at %s any more", s);
	}
	*fdp = cur;
	return 0;
}

int
sfs_ctr_ok(const struct secretfs_ctr *c, char *why, size_t whylen)
{
	if (c == NULL || c->pid <= 0 || c->pidfd < 0) {
		set_why(why, whylen, "no process, or no pidfd pinning it");
		return HUSH_E_INVAL;
	}
	if (c->root == NULL || c->root[0] != '/' ||
	    strnlen(c->root, PATH_MAX) >= PATH_MAX) {
		set_why(why, whylen, "rootfs must be an absolute path");
		return HUSH_E_INVAL;
	}
	return 0;
}

/*
 * The rootfs by its path below dir, the process's root.  Symlinks in
 * that path are followed, confined to dir: before pivot_root it is the
 * runtime's path on the host (/var/run may well be a link), and after,
 * it is only ever a candidate that the view's mount id must confirm.
 */
static int
open_rootfs_path(int dir, const char *root)
{
	return sfs_openat2(dir, root, O_PATH | O_DIRECTORY | O_CLOEXEC,
	    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int
sfs_ctr_root(const struct sfs_job *j, int *rootfd, int *viewfd,
    struct sfs_report *rep)
{
	const struct secretfs_ctr *c = j->ctr;
	struct sfs_report first;
	char link[32], s[SFS_ECHO_MAX + 1];
	int proot, cand = -1, view = -1, r, e;

	*rootfd = -1;
	if (viewfd != NULL)
		*viewfd = -1;
	snprintf(link, sizeof(link), "%ld/root", (long)c->pid);
	proot = openat(j->procfd, link, O_PATH | O_DIRECTORY | O_CLOEXEC);
	e = errno;
	/* Opened for pid; ours only if the pinned process still lives. */
	if (proc_pidfd_alive(c->pidfd) != 0) {
		if (proot != -1)
			close(proot);
		return sfs_report(rep, HUSH_E_NOTFOUND, "process %ld has ended",
		    (long)c->pid);
	}
	if (proot == -1)
		return sfs_report(rep, e == ENOENT || e == ESRCH ?
		    HUSH_E_NOTFOUND : HUSH_E_SYS, "the root of process %ld: %s",
		    (long)c->pid, strerror(e));
	sfs_sanitize(c->root, strlen(c->root), s, sizeof(s));
	if (j->mnt_id == 0) {
		if ((*rootfd = open_rootfs_path(proot, c->root)) == -1) {
			e = errno;
			close(proot);
			return sfs_report(rep, e == ENOENT ? HUSH_E_NOTFOUND :
			    HUSH_E_SYS, "opening rootfs %s: %s", s, strerror(e));
		}
		close(proot);
		return 0;
	}
	/* After pivot_root: the process's root is the rootfs. */
	memset(&first, 0, sizeof(first));
	r = 0;
	if (sfs_open_view(proot, j->target, j->mnt_id, &view, &first) == 0) {
		cand = proot;
		proot = -1;
	} else if ((cand = open_rootfs_path(proot, c->root)) == -1) {
		/* no such path: pivoted, and the first reason is the one */
		*rep = first;
		r = first.code;
	} else if ((r = sfs_open_view(cand, j->target, j->mnt_id, &view,
	    rep)) != 0) {
		close(cand);
		cand = -1;
	}
	if (proot != -1)
		close(proot);
	if (cand == -1)
		return r != 0 ? r : sfs_report(rep, HUSH_E_NOTFOUND, "the secrets "
		    "mount is gone");
	*rootfd = cand;
	if (viewfd != NULL)
		*viewfd = view;
	else
		close(view);
	return 0;
}

bool
sfs_mountinfo_line(int procfd, uint64_t id, char *out, size_t outlen)
{
	char buf[4096], *line, *nl, *end;
	size_t have = 0, rest;
	bool skipping = false;
	ssize_t n;
	int fd;

	if ((fd = openat(procfd, "self/mountinfo", O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		line = buf;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			*nl = '\0';
			/* "36 35 98:0 /r /mnt rw shared:1 - ext4 /dev/x rw" */
			if (!skipping && strtoull(line, &end, 10) == id &&
			    *end == ' ') {
				snprintf(out, outlen, "%s", line);
				close(fd);
				return true;
			}
			skipping = false;
			line = nl + 1;
		}
		rest = have - (size_t)(line - buf);
		if (rest == sizeof(buf) - 1) {
			/* a line longer than buf: drop it up to its end */
			skipping = true;
			rest = 0;
		}
		memmove(buf, line, rest);
		have = rest;
	}
	close(fd);
	return false;
}

/*
 * mountinfo's optional fields sit between the mount options (field 6) and
 * the lone "-"; "shared:N" says the mount propagates to peer group N.
 */
static bool
line_shared(char *line, unsigned long *group)
{
	char *f, *save = NULL;
	int field = 0;

	for (f = strtok_r(line, " ", &save); f != NULL;
	    f = strtok_r(NULL, " ", &save)) {
		if (++field <= 6)
			continue;
		if (strcmp(f, "-") == 0)
			break;
		if (strncmp(f, "shared:", 7) == 0) {
			*group = strtoul(f + 7, NULL, 10);
			return true;
		}
	}
	return false;
}

int
sfs_check_unshared(const struct sfs_job *j, int dir, const char *what,
    struct sfs_report *rep)
{
	char line[4096];
	struct statx stx;
	unsigned long group = 0;

	if (statx(dir, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID,
	    &stx) == -1 || (stx.stx_mask & STATX_MNT_ID) == 0)
		return sfs_report(rep, HUSH_E_SYS, "statx of %s: %s", what,
		    strerror(errno));
	if (!sfs_mountinfo_line(j->procfd, stx.stx_mnt_id, line, sizeof(line)))
		return sfs_report(rep, HUSH_E_SYS, "the mount of %s is not in the "
		    "container's mountinfo", what);
	if (line_shared(line, &group))
		return sfs_report(rep, HUSH_E_PERM, "%s in the rootfs is on a "
		    "shared mount (peer group %lu): a mount there would "
		    "propagate to other mount namespaces, the host's among "
		    "them; refusing (make the container's mounts private or "
		    "slave, as runtimes do by default)", what, group);
	return 0;
}

/*
 * Receives the child's report and at most one fd.  Anything else that
 * came along (more fds, a truncated control message) makes the answer
 * unusable: every fd received is closed and the report's code becomes 1,
 * "no report".
 */
static void
recv_report(int sock, struct sfs_report *rep, int *fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr mh;
	struct cmsghdr *c;
	bool bad = false;
	ssize_t n;
	int got;

	*fd = -1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	for (c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c != NULL;
	    c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = true;
			continue;
		}
		for (size_t off = 0; off + sizeof(int) <= c->cmsg_len -
		    CMSG_LEN(0); off += sizeof(int)) {
			memcpy(&got, CMSG_DATA(c) + off, sizeof(got));
			if (*fd == -1)
				*fd = got;
			else {
				close(got);
				bad = true;
			}
		}
	}
	if (n != (ssize_t)sizeof(*rep) ||
	    (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0 || bad) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		rep->code = 1;
	}
}

/* In the child: the report, with fd when there is one. */
static void
send_report(int sock, const struct sfs_report *rep, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)rep, sizeof(*rep) };
	struct msghdr mh;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(fd));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(*rep))
		_exit(2);
}

#ifdef HUSH_TEST_HOOKS
/*
 * Test builds only: HUSH_TEST_NS_HELPER_CALL=NAME makes the helper call
 * that system call (zero arguments) once it is in the container's
 * namespace; tests/integration/t_sandbox.sh checks the filter kills it
 * and the parent hears of it at once.
 */
static void
test_helper_fault(void)
{
	const char *name = getenv("HUSH_TEST_NS_HELPER_CALL");
	int nr;

	if (name != NULL && (nr = seccomp_syscall_resolve_name(name)) >= 0)
		syscall(nr, 0, 0, 0, 0, 0, 0);
}
#endif

int
sfs_run_in_ns(const struct sfs_job *jp, int *fdout, char *why, size_t whylen)
{
	return sfs_run_in_ns_done(jp, fdout, NULL, NULL, why, whylen);
}

_Static_assert(sizeof(((struct sfs_report *)0)->ids) / sizeof(uint64_t) ==
    SECRETFS_MAX_FILES, "a report holds an id per file");

/*
 * Helpers that outlived their deadline and could not be reaped (see
 * secretfs_reap_strays()).  Bounded: a mounter with this many stuck
 * children has a container whose FUSE server holds them all, and refuses
 * more trips rather than pile them up.
 */
#define STRAYS_MAX	64
static pid_t strays[STRAYS_MAX];
static size_t nstrays;

size_t
secretfs_reap_strays(void)
{
	size_t i = 0;

	while (i < nstrays) {
		if (waitpid(strays[i], NULL, WNOHANG) == 0) {
			i++;
			continue;
		}
		/* reaped, or not our child after all: forget it either way */
		strays[i] = strays[--nstrays];
	}
	return nstrays;
}

/*
 * The helper's end.  It is killed by its own alarm at the deadline; a
 * task asleep in a FUSE request its server has already read cannot die
 * before the server answers or goes, though, so after a short wait it is
 * left to secretfs_reap_strays().  True when it was reaped, with *st.
 */
static bool
reap_helper(pid_t child, bool late, int *st)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int tries = late ? 50 : -1;
	pid_t w;

	for (;;) {
		w = waitpid(child, st, tries < 0 ? 0 : WNOHANG);
		if (w == child)
			return true;
		if (w == -1 && errno != EINTR)
			return true;	/* not ours to wait for: nothing to leave */
		if (tries == 0)
			break;
		if (tries > 0) {
			tries--;
			nanosleep(&pause, NULL);
		}
	}
	if (nstrays < STRAYS_MAX)
		strays[nstrays++] = child;
	return false;
}

/* In the child: what it must keep open, all else is closed. */
static int
child_close_fds(const struct sfs_job *j, int sock)
{
	int keep[4 + SECRETFS_MAX_FILES];
	size_t nkeep = 0;

	keep[nkeep++] = j->rofd;
	keep[nkeep++] = j->ctr->pidfd;
	keep[nkeep++] = j->procfd;
	keep[nkeep++] = sock;
	for (size_t i = 0; i < j->nbinds; i++)
		keep[nkeep++] = j->binds[i].fd;
	/* A trapped call here is reported as the mounter's would be. */
	if (sandbox_report_fd() >= 0)
		keep[nkeep++] = sandbox_report_fd();
	return proc_close_fds_from(3, keep, nkeep);
}

int
sfs_run_in_ns_done(const struct sfs_job *jp, int *fdout, unsigned int *done,
    uint64_t *ids, char *why, size_t whylen)
{
	struct sfs_report rep;
	struct sfs_job j = *jp;
	struct pollfd pfd;
	pid_t child;
	int sv[2] = { -1, -1 }, st = 0, r, fd = -1, n;
	bool reaped, late = false;

	if (fdout != NULL)
		*fdout = -1;
	if (done != NULL)
		*done = 0;
	j.procfd = -1;
	if ((r = sfs_ctr_ok(j.ctr, why, whylen)) != 0)
		return r;
	if (j.nbinds > SECRETFS_MAX_FILES) {
		set_why(why, whylen, "more than %d mounts at once",
		    SECRETFS_MAX_FILES);
		return HUSH_E_INVAL;
	}
	if (secretfs_reap_strays() == STRAYS_MAX) {
		set_why(why, whylen, "%d earlier trips into containers are still "
		    "stuck (a FUSE mount that never answers?); refusing more",
		    STRAYS_MAX);
		return HUSH_E_UNAVAIL;
	}
	/* SEQPACKET: the report is one datagram, an fd can ride along. */
	if ((j.procfd = open("/proc", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || socketpair(AF_UNIX, SOCK_SEQPACKET |
	    SOCK_CLOEXEC, 0, sv) == -1) {
		r = HUSH_E_SYS;
		set_why(why, whylen, "/proc or socketpair: %s",
		    strerror(errno));
		goto out;
	}
	if ((child = fork()) == -1) {
		r = HUSH_E_SYS;
		set_why(why, whylen, "fork: %s", strerror(errno));
		goto out;
	}
	if (child == 0) {
		int pass = -1;

		/*
		 * The deadline, on ourselves: SIGALRM's default action ends
		 * us even in a killable wait, such as a FUSE lookup that was
		 * never read, and the mounter needs no right to kill.  (The
		 * mounter never handles SIGALRM, so its default is ours.)
		 */
		alarm(SECRETFS_HELPER_DEADLINE_S);
		memset(&rep, 0, sizeof(rep));
		if (child_close_fds(&j, sv[1]) != 0)
			sfs_report(&rep, HUSH_E_SYS, "closing fds: %s",
			    strerror(errno));
		/* Through the pidfd: the pinned process's namespace or none. */
		else if (setns(j.ctr->pidfd, CLONE_NEWNS) == -1)
			sfs_report(&rep, errno == ESRCH ? HUSH_E_NOTFOUND :
			    errno == EPERM ? HUSH_E_PERM : HUSH_E_SYS,
			    "setns into the mount namespace of process %ld: %s",
			    (long)j.ctr->pid, strerror(errno));
		else {
#ifdef HUSH_TEST_HOOKS
			test_helper_fault();
#endif
			j.fn(&j, &rep, &pass);
		}
		send_report(sv[1], &rep, rep.code == 0 ? pass : -1);
		_exit(0);
	}
	close(sv[1]);
	sv[1] = -1;
	memset(&rep, 0, sizeof(rep));
	/* A margin past the child's own alarm, for its report to arrive. */
	pfd.fd = sv[0];
	pfd.events = POLLIN;
	while ((n = poll(&pfd, 1, SECRETFS_HELPER_DEADLINE_S * 1000 + 500)) ==
	    -1 && errno == EINTR)
		;
	if (n == 1)
		/* EOF (0 bytes) if the child died first: code 1, no report */
		recv_report(sv[0], &rep, &fd);
	else {
		rep.code = 1;
		late = true;
	}
	reaped = reap_helper(child, late, &st);
	if (late || (rep.code == 1 && reaped && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGALRM)) {
		set_why(why, whylen, "the trip into the container's mount "
		    "namespace did not finish within %d s (is a file system "
		    "in its rootfs, such as a FUSE mount, not answering?); "
		    "it was given up%s", SECRETFS_HELPER_DEADLINE_S,
		    reaped ? "" : ", and its helper is stuck until that file "
		    "system answers or goes away");
		r = HUSH_E_TIMEOUT;
	} else if (rep.code == 1 && WIFSIGNALED(st)) {
		set_why(why, whylen, "the namespace helper was killed by signal "
		    "%d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
		r = HUSH_E_INTERNAL;
	} else if (rep.code == 1) {
		set_why(why, whylen, "the namespace helper ended without a "
		    "usable report (wait status %#x)", (unsigned int)st);
		r = HUSH_E_INTERNAL;
	} else if (rep.code < HUSH_E_MIN || rep.code > 0) {
		set_why(why, whylen, "the namespace helper sent code %d",
		    rep.code);
		r = HUSH_E_INTERNAL;
	} else if (rep.code == 0 && (fd != -1) != (fdout != NULL)) {
		set_why(why, whylen, "the namespace helper %s a mount",
		    fd != -1 ? "passed an unexpected" : "did not pass");
		r = HUSH_E_INTERNAL;
	} else {
		rep.msg[sizeof(rep.msg) - 1] = '\0';
		if (done != NULL)
			*done = rep.done <= j.nbinds ? rep.done : 0;
		if (ids != NULL && j.nbinds > 0)
			memcpy(ids, rep.ids, j.nbinds * sizeof(*ids));
		if (rep.code != 0)
			set_why(why, whylen, "%s", rep.msg);
		r = rep.code;
	}
	if (r == 0 && fdout != NULL) {
		*fdout = fd;
		fd = -1;
	}
 out:
	if (fd != -1)
		close(fd);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	if (j.procfd != -1)
		close(j.procfd);
	return r;
}

/* A HUSH_E_* code for an errno from a file system call. */
int
sfs_errno_code(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
		return HUSH_E_NOSPACE;
	case ENOMEM:
		return HUSH_E_NOMEM;
	case EPERM:
	case EACCES:
		return HUSH_E_PERM;
	default:
		return HUSH_E_SYS;
	}
}
