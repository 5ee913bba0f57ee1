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
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "proc_harden.h"
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
sfs_open_dir(int dir, const char *name)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
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
sfs_open_view(const char *root, const char *target, uint64_t mnt_id,
    int *fdp, struct sfs_report *rep)
{
	char path[PATH_MAX], s[SFS_ECHO_MAX + 1];
	struct statx stx;
	char *comp, *slash;
	int cur, next, e;

	*fdp = -1;
	sfs_sanitize(target, strlen(target), s, sizeof(s));
	if ((cur = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return sfs_report(rep, HUSH_E_NOTFOUND, "opening the rootfs: %s",
		    strerror(errno));
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
sfs_run_in_ns(const struct sfs_job *jp, pid_t pid, int *fdout, char *why,
    size_t whylen)
{
	return sfs_run_in_ns_done(jp, pid, fdout, NULL, NULL, why, whylen);
}

_Static_assert(sizeof(((struct sfs_report *)0)->ids) / sizeof(uint64_t) ==
    SECRETFS_MAX_FILES, "a report holds an id per file");

int
sfs_run_in_ns_done(const struct sfs_job *jp, pid_t pid, int *fdout,
    unsigned int *done, uint64_t *ids, char *why, size_t whylen)
{
	char nspath[64];
	struct sfs_report rep;
	struct sfs_job j = *jp;
	pid_t child;
	int sv[2] = { -1, -1 }, st = 0, r, fd = -1;

	if (fdout != NULL)
		*fdout = -1;
	if (done != NULL)
		*done = 0;
	j.nsfd = j.procfd = -1;
	if (j.nbinds > SECRETFS_MAX_FILES) {
		set_why(why, whylen, "more than %d mounts at once",
		    SECRETFS_MAX_FILES);
		return HUSH_E_INVAL;
	}
	snprintf(nspath, sizeof(nspath), "/proc/%ld/ns/mnt", (long)pid);
	if ((j.nsfd = open(nspath, O_RDONLY | O_CLOEXEC)) == -1) {
		r = errno == ENOENT || errno == ESRCH ? HUSH_E_NOTFOUND :
		    errno == EACCES || errno == EPERM ? HUSH_E_PERM :
		    HUSH_E_SYS;
		set_why(why, whylen, "%s: %s", nspath, strerror(errno));
		goto out;
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
		/* Into the container's namespace with nothing else open. */
		int keep[4 + SECRETFS_MAX_FILES];
		size_t nkeep = 0;
		int pass = -1;

		keep[nkeep++] = j.rofd;
		keep[nkeep++] = j.nsfd;
		keep[nkeep++] = j.procfd;
		keep[nkeep++] = sv[1];
		for (size_t i = 0; i < j.nbinds; i++)
			keep[nkeep++] = j.binds[i].fd;
		/* A trapped call here is reported as the mounter's would be. */
		if (sandbox_report_fd() >= 0)
			keep[nkeep++] = sandbox_report_fd();
		memset(&rep, 0, sizeof(rep));
		if (proc_close_fds_from(3, keep, nkeep) != 0)
			sfs_report(&rep, HUSH_E_SYS, "closing fds: %s",
			    strerror(errno));
		else if (setns(j.nsfd, CLONE_NEWNS) == -1)
			sfs_report(&rep, errno == EPERM ? HUSH_E_PERM :
			    HUSH_E_SYS, "setns into the container's mount "
			    "namespace: %s", strerror(errno));
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
	/* EOF (0 bytes) if the child died first: code 1, no report */
	recv_report(sv[0], &rep, &fd);
	while (waitpid(child, &st, 0) == -1 && errno == EINTR)
		;
	if (rep.code == 1 && WIFSIGNALED(st)) {
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
	if (j.nsfd != -1)
		close(j.nsfd);
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
