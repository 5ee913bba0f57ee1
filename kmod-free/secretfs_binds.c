/*
 * secretfs_file_clone() and secretfs_binds(): published files mounted one
 * by one at absolute paths in a container's rootfs, for grants whose
 * target is outside /run/secrets (see secretfs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "secretfs.h"
#include "secretfs_ns.h"

/* Linux 6.5, include/uapi/linux/mount.h; Debian 12's headers lack it. */
#ifndef MOVE_MOUNT_BENEATH
#define MOVE_MOUNT_BENEATH	0x00000200
#endif

/*
 * The clone of ..data/<name> below dir, read-only; -1 with errno (EINVAL
 * for anything but a regular file).
 */
static int
clone_file(int dir, const char *name)
{
	char path[SECRETFS_NAME_MAX + 16];
	struct mount_attr attr;
	struct stat st;
	int c, e;

	/* ..data is ours: following it gives the current generation. */
	snprintf(path, sizeof(path), "..data/%s", name);
	if ((c = open_tree(dir, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) ==
	    -1)
		return -1;
	if (fstat(c, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(c);
		errno = EINVAL;
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	if (mount_setattr(c, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == -1) {
		e = errno;
		close(c);
		errno = e;
		return -1;
	}
	return c;
}

int
secretfs_file_clone(int wfd, const char *name, int *fd, uint64_t *id,
    char *why, size_t whylen)
{
	char detail[256];
	int c, r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (fd == NULL || id == NULL)
		return HUSH_E_INVAL;
	*fd = -1;
	if (wfd < 0 || name == NULL || !secretfs_name_ok(name, detail,
	    sizeof(detail))) {
		set_why(why, whylen, "no tmpfs, or a bad name: %s",
		    name == NULL || wfd < 0 ? "none" : detail);
		return HUSH_E_INVAL;
	}
	if ((c = clone_file(wfd, name)) == -1) {
		r = errno;
		set_why(why, whylen, "cloning a published file: %s",
		    strerror(r));
		return r == ENOENT ? HUSH_E_NOTFOUND : r == EINVAL ?
		    HUSH_E_INVAL : HUSH_E_SYS;
	}
	if ((r = secretfs_mount_id(c, id, why, whylen)) != 0) {
		close(c);
		return r;
	}
	*fd = c;
	return 0;
}

/* A file name in dir, confined and refusing every symlink; O_PATH. */
static int
open_leaf(int dir, const char *name)
{
	return sfs_openat2(dir, name, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT |
	    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/*
 * The empty file a new mount lands on, owned like its directory for the
 * reason make_dir() gives in secretfs_ns.c.  0 or an errno; EEXIST is
 * success (the caller's open refuses what it must).
 */
static int
make_file(int dir, const char *name)
{
	struct stat st;
	int fd, e;

	if (fstat(dir, &st) == -1)
		return errno;
	if ((fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		return errno == EEXIST ? 0 : errno;
	if (fchown(fd, st.st_uid, st.st_gid) == -1) {
		e = errno;
		close(fd);
		(void)unlinkat(dir, name, 0);
		return e;
	}
	close(fd);
	return 0;
}

/* One target, checked, with what phase two needs. */
struct bind_at {
	int		 dir;		/* the target's directory, O_PATH */
	int		 top;		/* what is on top at the target, O_PATH */
	const char	*leaf;		/* into path */
	bool		 skip;		/* a removal with nothing to remove */
	uint64_t	 id;		/* swap, removal: the mount to unmount */
	int		 fd;		/* the mount to move there, or -1 */
	char		 path[PATH_MAX];
	char		 shown[SFS_ECHO_MAX + 1];
};

/*
 * Phase one for b: finds (for a new mount: makes) the target's directory
 * and file and checks what is on top there.
 */
static int
check_one(const struct sfs_job *j, int rootfd, const struct secretfs_bind *b,
    int fd, struct bind_at *at, struct sfs_report *rep)
{
	struct statx stx;
	struct stat st;
	char *slash;
	int r, e;

	sfs_sanitize(b->target, strlen(b->target), at->shown,
	    sizeof(at->shown));
	snprintf(at->path, sizeof(at->path), "%s", b->target + 1);
	slash = strrchr(at->path, '/');
	if (slash == NULL) {
		at->leaf = at->path;
		if ((at->dir = dup(rootfd)) == -1)
			return sfs_report(rep, HUSH_E_SYS, "dup: %s",
			    strerror(errno));
	} else {
		*slash = '\0';
		at->leaf = slash + 1;
		if (fd != -1 && b->old_id == 0) {
			if ((r = sfs_walk_make(rootfd, at->path, &at->dir,
			    rep)) != 0)
				return r;
		} else {
			int cur = dup(rootfd), next;
			char *comp, *s2;

			for (comp = at->path; cur != -1 && comp != NULL;
			    comp = s2) {
				if ((s2 = strchr(comp, '/')) != NULL)
					*s2++ = '\0';
				next = sfs_open_dir(cur, comp);
				e = errno;
				close(cur);
				if ((cur = next) == -1)
					errno = e;
			}
			if (cur == -1) {
				e = errno;
				if (fd == -1 && e != ELOOP) {
					at->skip = true;
					return 0;
				}
				return sfs_report(rep, e == ELOOP ?
				    HUSH_E_PERM : HUSH_E_NOTFOUND, "%s in the "
				    "rootfs: %s", at->shown, e == ELOOP ?
				    "a symlink is in the way" : strerror(e));
			}
			at->dir = cur;
		}
	}
	if ((at->top = open_leaf(at->dir, at->leaf)) == -1 && errno == ENOENT &&
	    fd != -1 && b->old_id == 0) {
		if ((e = make_file(at->dir, at->leaf)) != 0)
			return sfs_report(rep, e == EROFS ? HUSH_E_PERM :
			    HUSH_E_SYS, "making %s in the rootfs: %s",
			    at->shown, strerror(e));
		at->top = open_leaf(at->dir, at->leaf);
	}
	if (at->top == -1) {
		e = errno;
		if (e == ELOOP)
			return sfs_report(rep, HUSH_E_PERM, "%s in the rootfs "
			    "is a symlink; refusing to follow it", at->shown);
		if (e == ENOENT && fd == -1) {
			at->skip = true;
			return 0;
		}
		return sfs_report(rep, e == ENOENT ? HUSH_E_NOTFOUND :
		    HUSH_E_SYS, "opening %s in the rootfs: %s", at->shown,
		    strerror(e));
	}
	if (fstat(at->top, &st) == -1 || statx(at->top, "", AT_EMPTY_PATH |
	    AT_SYMLINK_NOFOLLOW, STATX_MNT_ID_UNIQUE, &stx) == -1 ||
	    (stx.stx_mask & STATX_MNT_ID_UNIQUE) == 0 ||
	    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0)
		return sfs_report(rep, HUSH_E_SYS, "stat of %s: %s", at->shown,
		    strerror(errno));
	at->id = b->old_id;
	/* a new mount, or one put beneath ours: not where it would propagate */
	if (fd != -1 && (r = sfs_check_unshared(j, at->dir, at->shown, rep)) != 0)
		return r;
	if (fd == -1 && b->old_id == 0) {
		if ((stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0 &&
		    st.st_dev == b->dev && st.st_ino == b->ino)
			at->id = stx.stx_mnt_id;
		else
			at->skip = true;
		return 0;
	}
	if (b->old_id != 0) {
		if (stx.stx_mnt_id == b->old_id &&
		    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0)
			return 0;
		if (fd == -1) {
			at->skip = true;
			return 0;
		}
		return sfs_report(rep, HUSH_E_NOTFOUND, "the secret's mount is "
		    "not on top at %s any more", at->shown);
	}
	if (S_ISDIR(st.st_mode))
		return sfs_report(rep, HUSH_E_EXISTS, "%s in the rootfs is a "
		    "directory; a secret file cannot go there", at->shown);
	if ((stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0)
		return sfs_report(rep, HUSH_E_INUSE, "%s in the rootfs is already "
		    "a mount point; refusing to hide it", at->shown);
	if (!S_ISREG(st.st_mode))
		return sfs_report(rep, HUSH_E_EXISTS, "%s in the rootfs is not a "
		    "regular file", at->shown);
	return 0;
}

/*
 * Unmounts the mount old_id on top at dir/leaf.  umount2() takes a path,
 * so the check that it is still ours is repeated just before: only the
 * container could slip another mount in between, in its own namespace,
 * and only with the privilege to unmount it itself.
 */
static int
unmount_old(const struct bind_at *at, uint64_t old_id,
    struct sfs_report *rep)
{
	struct statx stx;

	if (statx(at->dir, at->leaf, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID_UNIQUE,
	    &stx) == -1 || stx.stx_mnt_id != old_id)
		return sfs_report(rep, HUSH_E_NOTFOUND, "the secret's mount at "
		    "%s went away", at->shown);
	if (fchdir(at->dir) == -1 ||
	    umount2(at->leaf, MNT_DETACH | UMOUNT_NOFOLLOW) == -1)
		return sfs_report(rep, HUSH_E_SYS, "unmounting %s: %s",
		    at->shown, strerror(errno));
	return 0;
}

/*
 * Runs in the forked child, in the container's mount namespace: every
 * target checked first, then the changes in order.  Propagation as for
 * secretfs_attach().
 */
static int
binds_child(const struct sfs_job *j, struct sfs_report *rep, int *passfd)
{
	static struct bind_at at[SECRETFS_MAX_FILES];
	const struct secretfs_bind *b;
	int rootfd, view = -1, r = 0;
	char s[SFS_ECHO_MAX + 1];
	struct statx stx;
	size_t i;

	(void)passfd;
	umask(022);
	for (i = 0; i < j->nbinds; i++) {
		memset(&at[i], 0, sizeof(at[i]));
		at[i].dir = at[i].top = -1;
		at[i].fd = j->binds[i].fd;
	}
	/* the rootfs, named by the view (or its path, before pivot_root) */
	if ((r = sfs_ctr_root(j, &rootfd, &view, rep)) != 0)
		return r;
	/* secretfs_binds_view(): the clones, from the view in here */
	for (i = 0; i < j->nbinds && r == 0 && j->from_view; i++) {
		if (j->binds[i].from == NULL)
			continue;
		if ((at[i].fd = clone_file(view, j->binds[i].from)) == -1 ||
		    statx(at[i].fd, "", AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE,
		    &stx) == -1 || (stx.stx_mask & STATX_MNT_ID_UNIQUE) == 0)
			r = sfs_report(rep, errno == ENOENT ? HUSH_E_NOTFOUND :
			    HUSH_E_SYS, "cloning a published file for %s: %s",
			    sfs_sanitize(j->binds[i].target,
			    strlen(j->binds[i].target), s, sizeof(s)),
			    strerror(errno));
		else
			rep->ids[i] = stx.stx_mnt_id;
	}
	if (view != -1)
		close(view);
	for (i = 0; i < j->nbinds && r == 0; i++)
		r = check_one(j, rootfd, &j->binds[i], at[i].fd, &at[i], rep);
	close(rootfd);
	for (i = 0; i < j->nbinds && r == 0; i++) {
		b = &j->binds[i];
		if (at[i].skip)
			;
		else if (at[i].fd == -1)
			r = unmount_old(&at[i], at[i].id, rep);
		else if (move_mount(at[i].fd, "", at[i].top, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH |
		    (b->old_id != 0 ? MOVE_MOUNT_BENEATH : 0)) == -1)
			r = sfs_report(rep, HUSH_E_SYS, "move_mount%s onto %s: "
			    "%s", b->old_id != 0 ? "(beneath)" : "",
			    at[i].shown, strerror(errno));
		else if (b->old_id != 0)
			r = unmount_old(&at[i], b->old_id, rep);
		if (r == 0)
			rep->done++;
	}
	/* the child exits next: the fds go with it */
	return r;
}

static int
binds(const struct secretfs_ctr *c, const char *view_target, uint64_t view_id,
    bool from_view, const struct secretfs_bind *b, size_t n, size_t *done,
    uint64_t *ids, char *why, size_t whylen)
{
	struct sfs_job j;
	unsigned int d = 0;
	bool mount;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (done != NULL)
		*done = 0;
	if ((r = sfs_ctr_ok(c, why, whylen)) != 0)
		return r;
	if ((n > 0 && b == NULL) || n > SECRETFS_MAX_FILES ||
	    (view_id != 0 && !sfs_target_ok(view_target))) {
		set_why(why, whylen, "a bad view target, or too many mounts");
		return HUSH_E_INVAL;
	}
	for (size_t i = 0; i < n; i++) {
		mount = from_view ? b[i].from != NULL : b[i].fd != -1;
		if (b[i].target == NULL || b[i].target[0] != '/' ||
		    !sfs_target_ok(b[i].target) ||
		    (!mount && b[i].old_id == 0 && b[i].ino == 0) ||
		    b[i].fd < -1 || (from_view && b[i].fd != -1) ||
		    (!from_view && b[i].from != NULL)) {
			set_why(why, whylen, "mount %zu: the target must be an "
			    "absolute path without '.', '..' or empty "
			    "components, with a mount, an old one, or both",
			    i + 1);
			return HUSH_E_INVAL;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(b[k].target, b[i].target) == 0) {
				set_why(why, whylen, "mount %zu: a target "
				    "twice", i + 1);
				return HUSH_E_INVAL;
			}
	}
	if (n == 0)
		return 0;
	memset(&j, 0, sizeof(j));
	j.fn = binds_child;
	j.ctr = c;
	j.rofd = -1;
	j.target = view_id != 0 ? view_target : "/";
	j.mnt_id = view_id;
	j.from_view = from_view;
	j.binds = b;
	j.nbinds = n;
	r = sfs_run_in_ns_done(&j, NULL, &d, ids, why, whylen);
	if (done != NULL)
		*done = r == 0 ? n : d;
	return r;
}

int
secretfs_binds(const struct secretfs_ctr *c, const char *view_target,
    uint64_t view_id, const struct secretfs_bind *b, size_t n, size_t *done,
    char *why, size_t whylen)
{
	return binds(c, view_target, view_id, false, b, n, done, NULL, why,
	    whylen);
}

int
secretfs_binds_view(const struct secretfs_ctr *c, const char *view_target,
    uint64_t view_id, struct secretfs_bind *b, size_t n, size_t *done,
    char *why, size_t whylen)
{
	uint64_t ids[SECRETFS_MAX_FILES];
	size_t d = 0;
	int r;

	if (done != NULL)
		*done = 0;
	if (view_id == 0 || !sfs_target_ok(view_target) ||
	    n > SECRETFS_MAX_FILES) {
		set_why(why, whylen, "no view to clone the files from, or too "
		    "many mounts");
		return HUSH_E_INVAL;
	}
	memset(ids, 0, sizeof(ids));
	r = binds(c, view_target, view_id, true, b, n, &d, ids, why, whylen);
	for (size_t i = 0; i < n; i++)
		b[i].new_id = i < d ? ids[i] : 0;
	if (done != NULL)
		*done = d;
	return r;
}
