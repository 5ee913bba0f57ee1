/*
 * secretfs_adopt(): a writable fd again for a container's view whose
 * writer is gone.  Without it, a mounter restart or a hushd upgrade would
 * leave every running container with files no later update or revocation
 * can reach.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "err.h"
#include "secretfs.h"
#include "secretfs_ns.h"

/*
 * Runs in the forked child, in the container's mount namespace.  The
 * mount id says the view is still the one we made (unique ids are never
 * reused); the tmpfs check is a second opinion that costs nothing.  The
 * clone is taken here because open_tree() clones only mounts of the
 * caller's own namespace.
 */
static int
adopt_child(const struct sfs_job *j, struct sfs_report *rep, int *passfd)
{
	char s[SFS_ECHO_MAX + 1];
	struct statfs sfs;
	int root, view, clone, r;

	if ((r = sfs_ctr_root(j, &root, &view, rep)) != 0)
		return r;
	close(root);
	sfs_sanitize(j->target, strlen(j->target), s, sizeof(s));
	if (fstatfs(view, &sfs) == -1) {
		r = errno;
		close(view);
		return sfs_report(rep, HUSH_E_SYS, "statfs of %s: %s", s,
		    strerror(r));
	}
	if (sfs.f_type != TMPFS_MAGIC) {
		close(view);
		return sfs_report(rep, HUSH_E_PERM, "the mount at %s is not a "
		    "tmpfs (type %#lx); refusing to write into it", s,
		    (unsigned long)sfs.f_type);
	}
	if ((clone = open_tree(view, "", OPEN_TREE_CLONE | AT_EMPTY_PATH |
	    OPEN_TREE_CLOEXEC)) == -1) {
		r = errno;
		close(view);
		return sfs_report(rep, HUSH_E_SYS, "open_tree(OPEN_TREE_CLONE) "
		    "of %s: %s", s, strerror(r));
	}
	close(view);
	*passfd = clone;
	return 0;
}

int
secretfs_adopt(const struct secretfs_ctr *c, const char *target,
    uint64_t view_id, int *wfd, char *why, size_t whylen)
{
	struct mount_attr attr;
	struct sfs_job j;
	int fd, r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (wfd == NULL)
		return HUSH_E_INVAL;
	*wfd = -1;
	if ((r = sfs_ctr_ok(c, why, whylen)) != 0)
		return r;
	if (!sfs_target_ok(target) || view_id == 0) {
		set_why(why, whylen, "a bad target, or no view");
		return HUSH_E_INVAL;
	}
	memset(&j, 0, sizeof(j));
	j.fn = adopt_child;
	j.ctr = c;
	j.rofd = -1;
	j.mnt_id = view_id;
	j.target = target;
	if ((r = sfs_run_in_ns(&j, &fd, why, whylen)) != 0)
		return r;
	/*
	 * Writable again, on our clone only.  nosuid, nodev and noexec stay
	 * as secretfs_create() set them: nothing is ever run from here.
	 */
	memset(&attr, 0, sizeof(attr));
	attr.attr_clr = MOUNT_ATTR_RDONLY;
	attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
	    MOUNT_ATTR_NOEXEC;
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == -1) {
		r = errno;
		close(fd);
		set_why(why, whylen, "mount_setattr(read-write) of the adopted "
		    "view: %s", strerror(r));
		return r == EPERM ? HUSH_E_PERM : HUSH_E_SYS;
	}
	*wfd = fd;
	return 0;
}
