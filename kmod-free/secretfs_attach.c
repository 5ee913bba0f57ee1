#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "proc_harden.h"
#include "secretfs.h"

/*
 * Debian 12's headers predate it (Linux 6.8, include/uapi/linux/stat.h);
 * the kernel we run on has it, and secretfs_mount_id() fails if not.
 */
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE	0x00004000U
#endif

/* Longest piece of a path echoed back in a message. */
#define ECHO_MAX	80

/* What the child tells the parent: one write, read whole. */
struct report {
	int	code;		/* 0 or a HUSH_E_* code */
	char	msg[512];	/* why, when code is not 0 (< PIPE_BUF) */
};

/* What the child works with; the fds are open before fork(). */
struct job {
	int		(*fn)(const struct job *, struct report *);
	uint64_t	 mnt_id;	/* detach: the view's unique mount id */
	int		 rofd;
	int		 nsfd;		/* /proc/PID/ns/mnt */
	int		 procfd;	/* /proc, for our own mountinfo */
	const char	*root;
	const char	*target;
	unsigned int	 flags;
};

static int run_in_ns(struct job *, pid_t, char *, size_t);
static int report(struct report *, int, const char *, ...)
	__attribute__((format(printf, 3, 4)));

static int
report(struct report *rep, int code, const char *fmt, ...)
{
	va_list ap;

	rep->code = code;
	va_start(ap, fmt);
	vsnprintf(rep->msg, sizeof(rep->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* Printable ASCII as is, anything else as '?', at most ECHO_MAX bytes. */
static const char *
sanitize(const char *s, size_t len, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < len && s[i] != '\0' && i < ECHO_MAX && i + 1 < cap; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * target: an optional leading '/', then components joined by single
 * slashes, none empty, "." or "..".  It comes from hush's configuration,
 * not from the container, but the walk below relies on its shape.
 */
static bool
target_ok(const char *target)
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
 * Opens directory name in dir, refusing symlinks.  The rootfs belongs to
 * the image: /run may be a symlink to /host/etc.  Following it, even
 * confined with RESOLVE_IN_ROOT, would put the mount somewhere other than
 * where the container expects its secrets, so a symlink anywhere in the
 * target is an error.  One component at a time, so the error can say
 * which, and so that each directory we make is reopened the same way: a
 * symlink raced into its place is refused too.
 */
static int
open_dir(int dir, const char *name)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
}

/* mountinfo's "<fstype> '<source>'" for mount id, or "" if not found. */
static void
describe_mount(int procfd, uint64_t id, char *out, size_t outlen)
{
	char buf[4096], a[ECHO_MAX + 1], b[ECHO_MAX + 1];
	char *line, *nl, *end, *sep, *fstype, *src;
	size_t have = 0, rest;
	bool skipping = false;
	ssize_t n;
	int fd;

	out[0] = '\0';
	if ((fd = openat(procfd, "self/mountinfo", O_RDONLY | O_CLOEXEC)) == -1)
		return;
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		line = buf;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			*nl = '\0';
			/* "36 35 98:0 /r /mnt rw master:1 - ext4 /dev/x rw" */
			if (!skipping && strtoull(line, &end, 10) == id &&
			    *end == ' ' && (sep = strstr(end, " - ")) != NULL) {
				fstype = sep + 3;
				src = fstype + strcspn(fstype, " ");
				if (*src == ' ')
					src++;
				snprintf(out, outlen, "%s '%s'",
				    sanitize(fstype, strcspn(fstype, " "), a,
				    sizeof(a)),
				    sanitize(src, strcspn(src, " "), b,
				    sizeof(b)));
				close(fd);
				return;
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

/*
 * Finds or makes target below rootfd, one directory at a time; *dirp
 * becomes the target directory.
 */
static int
walk_target(int rootfd, const char *target, int *dirp, struct report *rep)
{
	char path[PATH_MAX], shown[PATH_MAX], s[ECHO_MAX + 1];
	char *comp, *slash;
	size_t sl = 0;
	int cur, next, e;

	*dirp = -1;
	snprintf(path, sizeof(path), "%s", target[0] == '/' ? target + 1 :
	    target);
	shown[0] = '\0';
	if ((cur = dup(rootfd)) == -1)
		return report(rep, HUSH_E_SYS, "dup: %s", strerror(errno));
	for (comp = path; *comp != '\0'; comp = slash != NULL ? slash + 1 :
	    comp + strlen(comp)) {
		if ((slash = strchr(comp, '/')) != NULL)
			*slash = '\0';
		sl += (size_t)snprintf(shown + sl, sizeof(shown) - sl, "/%s",
		    comp);
		sanitize(shown, sl, s, sizeof(s));
		if ((next = open_dir(cur, comp)) == -1 && errno == ENOENT) {
			if ((e = make_dir(cur, comp)) != 0) {
				close(cur);
				return report(rep, e == EROFS ? HUSH_E_PERM :
				    HUSH_E_SYS, "making %s in the rootfs: %s",
				    s, strerror(e));
			}
			next = open_dir(cur, comp);
		}
		if (next == -1) {
			e = errno;
			close(cur);
			if (e == ELOOP)
				return report(rep, HUSH_E_PERM, "%s in the "
				    "rootfs is a symlink; refusing to "
				    "follow it", s);
			if (e == ENOTDIR)
				return report(rep, HUSH_E_EXISTS, "%s in the "
				    "rootfs is not a directory", s);
			return report(rep, HUSH_E_SYS, "opening %s in the "
			    "rootfs: %s", s, strerror(e));
		}
		close(cur);
		cur = next;
	}
	*dirp = cur;
	return 0;
}

/*
 * Runs in the forked child.  After setns() our root and cwd are the
 * namespace's root, and root names the rootfs as mounted in there.
 *
 * The new mount takes the propagation of the mount it lands on: under a
 * shared mount it would appear in that mount's peers too.  Runtimes make
 * the container's mounts slave or private before createRuntime hooks run
 * (runc: rslave unless rootfsPropagation says otherwise), so nothing
 * reaches the host.
 */
static int
attach_child(const struct job *j, struct report *rep)
{
	char desc[2 * ECHO_MAX + 8], s[ECHO_MAX + 1];
	struct statx stx;
	int rootfd, dir, r;

	umask(022);
	if ((rootfd = open(j->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return report(rep, errno == ENOENT ? HUSH_E_NOTFOUND :
		    HUSH_E_SYS, "opening rootfs %s: %s", sanitize(j->root,
		    strlen(j->root), s, sizeof(s)), strerror(errno));
	r = walk_target(rootfd, j->target, &dir, rep);
	close(rootfd);
	if (r != 0)
		return r;

	sanitize(j->target, strlen(j->target), s, sizeof(s));
	/* The fd is whatever is on top at the target, if anything. */
	if (statx(dir, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID,
	    &stx) == -1) {
		r = report(rep, HUSH_E_SYS, "statx of %s: %s", s,
		    strerror(errno));
		goto out;
	}
	if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) {
		r = report(rep, HUSH_E_SYS, "the kernel does not say whether "
		    "%s is a mount point", s);
		goto out;
	}
	if ((stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0 &&
	    (j->flags & SECRETFS_ALLOW_OVER_MOUNT) == 0) {
		desc[0] = '\0';
		if ((stx.stx_mask & STATX_MNT_ID) != 0)
			describe_mount(j->procfd, stx.stx_mnt_id, desc,
			    sizeof(desc));
		r = report(rep, HUSH_E_INUSE, "%s in the rootfs is already a "
		    "mount point (%s%smount id %" PRIu64 "); refusing to hide "
		    "it (if it holds the runtime's own secrets, as podman's "
		    "--secret does, use those or hush's, not both)", s, desc, desc[0] != '\0' ? ", " : "",
		    (uint64_t)stx.stx_mnt_id);
		goto out;
	}
	if (move_mount(j->rofd, "", dir, "", MOVE_MOUNT_F_EMPTY_PATH |
	    MOVE_MOUNT_T_EMPTY_PATH) == -1) {
		r = report(rep, HUSH_E_SYS, "move_mount onto %s: %s", s,
		    strerror(errno));
		goto out;
	}
	r = 0;
 out:
	close(dir);
	return r;
}

/* Reads exactly len bytes unless EOF comes first; returns what it got. */
static size_t
read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((n = read(fd, (char *)buf + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return got;
}

int
secretfs_attach(int rofd, pid_t pid, const char *root, const char *target,
    unsigned int flags, char *why, size_t whylen)
{
	struct job j;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	memset(&j, 0, sizeof(j));
	j.nsfd = j.procfd = -1;
	if (rofd < 0 || pid <= 0) {
		set_why(why, whylen, "no mount or no process");
		return HUSH_E_INVAL;
	}
	if (root == NULL || root[0] != '/' ||
	    strnlen(root, PATH_MAX) >= PATH_MAX) {
		set_why(why, whylen, "rootfs must be an absolute path");
		return HUSH_E_INVAL;
	}
	if (!target_ok(target)) {
		set_why(why, whylen, "target must be a path such as "
		    "/run/secrets, without '.', '..' or empty components");
		return HUSH_E_INVAL;
	}
	if ((flags & ~SECRETFS_ALLOW_OVER_MOUNT) != 0) {
		set_why(why, whylen, "unknown flags %#x", flags);
		return HUSH_E_INVAL;
	}
	j.fn = attach_child;
	j.rofd = rofd;
	j.root = root;
	j.target = target;
	j.flags = flags;
	return run_in_ns(&j, pid, why, whylen);
}

/*
 * Runs j->fn in a forked child that has entered the mount namespace of
 * pid, and returns its report.
 */
static int
run_in_ns(struct job *jp, pid_t pid, char *why, size_t whylen)
{
	char nspath[64];
	struct report rep;
	struct job j = *jp;
	pid_t child;
	int p[2] = { -1, -1 }, st = 0, r;

	j.nsfd = j.procfd = -1;
	snprintf(nspath, sizeof(nspath), "/proc/%ld/ns/mnt", (long)pid);
	if ((j.nsfd = open(nspath, O_RDONLY | O_CLOEXEC)) == -1) {
		r = errno == ENOENT || errno == ESRCH ? HUSH_E_NOTFOUND :
		    errno == EACCES || errno == EPERM ? HUSH_E_PERM :
		    HUSH_E_SYS;
		set_why(why, whylen, "%s: %s", nspath, strerror(errno));
		goto out;
	}
	if ((j.procfd = open("/proc", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || pipe2(p, O_CLOEXEC) == -1) {
		r = HUSH_E_SYS;
		set_why(why, whylen, "/proc or pipe: %s", strerror(errno));
		goto out;
	}
	if ((child = fork()) == -1) {
		r = HUSH_E_SYS;
		set_why(why, whylen, "fork: %s", strerror(errno));
		goto out;
	}
	if (child == 0) {
		/* Into the container's namespace with nothing else open. */
		const int keep[] = { j.rofd, j.nsfd, j.procfd, p[1] };

		memset(&rep, 0, sizeof(rep));
		if (proc_close_fds_from(3, keep, sizeof(keep) / sizeof(keep[0]))
		    != 0)
			report(&rep, HUSH_E_SYS, "closing fds: %s",
			    strerror(errno));
		else if (setns(j.nsfd, CLONE_NEWNS) == -1)
			report(&rep, errno == EPERM ? HUSH_E_PERM : HUSH_E_SYS,
			    "setns into the container's mount namespace: %s",
			    strerror(errno));
		else
			j.fn(&j, &rep);
		if (write(p[1], &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	p[1] = -1;
	memset(&rep, 0, sizeof(rep));
	if (read_full(p[0], &rep, sizeof(rep)) != sizeof(rep))
		rep.code = 1;	/* no report */
	while (waitpid(child, &st, 0) == -1 && errno == EINTR)
		;
	if (rep.code == 1) {
		set_why(why, whylen, "the namespace helper ended without a report "
		    "(wait status %#x)", (unsigned int)st);
		r = HUSH_E_INTERNAL;
	} else if (rep.code < HUSH_E_MIN || rep.code > 0) {
		set_why(why, whylen, "the namespace helper sent code %d",
		    rep.code);
		r = HUSH_E_INTERNAL;
	} else {
		rep.msg[sizeof(rep.msg) - 1] = '\0';
		if (rep.code != 0)
			set_why(why, whylen, "%s", rep.msg);
		r = rep.code;
	}
 out:
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	if (j.procfd != -1)
		close(j.procfd);
	if (j.nsfd != -1)
		close(j.nsfd);
	return r;
}

int
secretfs_mount_id(int rofd, uint64_t *id, char *why, size_t whylen)
{
	struct statx stx;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (statx(rofd, "", AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE, &stx) == -1) {
		set_why(why, whylen, "statx of the view: %s", strerror(errno));
		return HUSH_E_SYS;
	}
	if ((stx.stx_mask & STATX_MNT_ID_UNIQUE) == 0) {
		set_why(why, whylen, "the kernel gives no unique mount ids "
		    "(Linux 6.8 or later is needed)");
		return HUSH_E_SYS;
	}
	*id = stx.stx_mnt_id;
	return 0;
}

/*
 * Runs in the forked child, in the container's mount namespace.  The
 * walk is attach's, minus making directories: whatever the container did
 * to its rootfs since, we only ever unmount the mount we put there, found
 * by its unique id, never "whatever is at /run/secrets".  umount2(".")
 * with the mount's root as our cwd unmounts exactly the mount the fd
 * pins, with no second path lookup to race.
 */
static int
detach_child(const struct job *j, struct report *rep)
{
	char path[PATH_MAX], s[ECHO_MAX + 1];
	struct statx stx;
	char *comp, *slash;
	int cur, next;

	sanitize(j->target, strlen(j->target), s, sizeof(s));
	if ((cur = open(j->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return report(rep, HUSH_E_NOTFOUND, "opening the rootfs: %s",
		    strerror(errno));
	snprintf(path, sizeof(path), "%s", j->target[0] == '/' ?
	    j->target + 1 : j->target);
	for (comp = path; comp != NULL; comp = slash) {
		if ((slash = strchr(comp, '/')) != NULL)
			*slash++ = '\0';
		next = open_dir(cur, comp);
		close(cur);
		if ((cur = next) == -1)
			return report(rep, HUSH_E_NOTFOUND, "%s in the rootfs: "
			    "%s", s, strerror(errno));
	}
	if (statx(cur, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
	    STATX_MNT_ID_UNIQUE, &stx) == -1 ||
	    (stx.stx_mask & STATX_MNT_ID_UNIQUE) == 0) {
		close(cur);
		return report(rep, HUSH_E_SYS, "statx of %s: %s", s,
		    strerror(errno));
	}
	if (stx.stx_mnt_id != j->mnt_id ||
	    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) == 0) {
		close(cur);
		return report(rep, HUSH_E_NOTFOUND, "the secrets mount is not "
		    "on top at %s any more", s);
	}
	if (fchdir(cur) == -1 || umount2(".", MNT_DETACH) == -1) {
		close(cur);
		return report(rep, HUSH_E_SYS, "unmounting %s: %s", s,
		    strerror(errno));
	}
	close(cur);
	return 0;
}

int
secretfs_detach(pid_t pid, const char *root, const char *target,
    uint64_t mnt_id, char *why, size_t whylen)
{
	struct job j;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	memset(&j, 0, sizeof(j));
	if (pid <= 0 || root == NULL || root[0] != '/' ||
	    strnlen(root, PATH_MAX) >= PATH_MAX || !target_ok(target)) {
		set_why(why, whylen, "no process, or a bad rootfs or target");
		return HUSH_E_INVAL;
	}
	j.fn = detach_child;
	j.rofd = -1;
	j.mnt_id = mnt_id;
	j.root = root;
	j.target = target;
	return run_in_ns(&j, pid, why, whylen);
}
