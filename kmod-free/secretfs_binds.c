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

int
secretfs_file_clone(int wfd, const char *name, int *fd, uint64_t *id,
    char *why, size_t whylen)
{
	char path[SECRETFS_NAME_MAX + 16], detail[256];
	struct mount_attr attr;
	struct stat st;
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
	/* ..data is ours: following it gives the current generation. */
	snprintf(path, sizeof(path), "..data/%s", name);
	if ((c = open_tree(wfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) ==
	    -1) {
		r = errno;
		set_why(why, whylen, "open_tree(OPEN_TREE_CLONE) of a published "
		    "file: %s", strerror(r));
		return r == ENOENT ? HUSH_E_NOTFOUND : HUSH_E_SYS;
	}
	if (fstat(c, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(c);
		set_why(why, whylen, "the published name is not a regular file");
		return HUSH_E_INVAL;
	}
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	if (mount_setattr(c, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == -1) {
		r = errno;
		close(c);
		set_why(why, whylen, "mount_setattr(read-only) of a file clone: "
		    "%s", strerror(r));
		return HUSH_E_SYS;
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
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
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
	char		 path[PATH_MAX];
	char		 shown[SFS_ECHO_MAX + 1];
};

/*
 * Phase one for b: finds (for a new mount: makes) the target's directory
 * and file and checks what is on top there.
 */
static int
check_one(int rootfd, const struct secretfs_bind *b, struct bind_at *at,
    struct sfs_report *rep)
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
		if (b->old_id == 0) {
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
				if (b->fd == -1 && e != ELOOP) {
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
	    b->old_id == 0) {
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
		if (e == ENOENT && b->fd == -1) {
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
	if (b->old_id != 0) {
		if (stx.stx_mnt_id == b->old_id &&
		    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0)
			return 0;
		if (b->fd == -1) {
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
	int rootfd, r = 0;
	char s[SFS_ECHO_MAX + 1];
	size_t i;

	(void)passfd;
	umask(022);
	for (i = 0; i < j->nbinds; i++)
		at[i].dir = at[i].top = -1;
	if ((rootfd = open(j->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return sfs_report(rep, errno == ENOENT ? HUSH_E_NOTFOUND :
		    HUSH_E_SYS, "opening rootfs %s: %s", sfs_sanitize(j->root,
		    strlen(j->root), s, sizeof(s)), strerror(errno));
	for (i = 0; i < j->nbinds && r == 0; i++)
		r = check_one(rootfd, &j->binds[i], &at[i], rep);
	close(rootfd);
	for (i = 0; i < j->nbinds && r == 0; i++) {
		b = &j->binds[i];
		if (at[i].skip)
			;
		else if (b->fd == -1)
			r = unmount_old(&at[i], b->old_id, rep);
		else if (move_mount(b->fd, "", at[i].top, "",
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

int
secretfs_binds(pid_t pid, const char *root, const struct secretfs_bind *b,
    size_t n, size_t *done, char *why, size_t whylen)
{
	struct sfs_job j;
	unsigned int d = 0;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (done != NULL)
		*done = 0;
	if (pid <= 0 || root == NULL || root[0] != '/' ||
	    strnlen(root, PATH_MAX) >= PATH_MAX || (n > 0 && b == NULL) ||
	    n > SECRETFS_MAX_FILES) {
		set_why(why, whylen, "no process, a bad rootfs, or too many "
		    "mounts");
		return HUSH_E_INVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (b[i].target == NULL || b[i].target[0] != '/' ||
		    !sfs_target_ok(b[i].target) ||
		    (b[i].fd == -1 && b[i].old_id == 0) ||
		    (b[i].fd < -1)) {
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
	j.rofd = -1;
	j.root = root;
	j.target = "/";
	j.binds = b;
	j.nbinds = n;
	r = sfs_run_in_ns_done(&j, pid, NULL, &d, why, whylen);
	if (done != NULL)
		*done = r == 0 ? n : d;
	return r;
}
