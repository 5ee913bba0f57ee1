/*
 * secretfs_attach() and secretfs_detach(): a container's view put in place
 * and taken away again, each in a child inside the container's mount
 * namespace (secretfs_ns.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "proc_start.h"
#include "secretfs.h"
#include "secretfs_ns.h"

/* mountinfo's "<fstype> '<source>'" for mount id, or "" if not found. */
static void
describe_mount(int procfd, uint64_t id, char *out, size_t outlen)
{
	char line[4096], a[SFS_ECHO_MAX + 1], b[SFS_ECHO_MAX + 1];
	char *sep, *fstype, *src;

	out[0] = '\0';
	/* "36 35 98:0 /r /mnt rw master:1 - ext4 /dev/x rw" */
	if (!sfs_mountinfo_line(procfd, id, line, sizeof(line)) ||
	    (sep = strstr(line, " - ")) == NULL)
		return;
	fstype = sep + 3;
	src = fstype + strcspn(fstype, " ");
	if (*src == ' ')
		src++;
	snprintf(out, outlen, "%s '%s'", sfs_sanitize(fstype, strcspn(fstype,
	    " "), a, sizeof(a)), sfs_sanitize(src, strcspn(src, " "), b,
	    sizeof(b)));
}

/*
 * Runs in the forked child.  After setns() our root and cwd are the
 * namespace's root; the rootfs is found through the pinned process's
 * root (sfs_ctr_root()), before pivot_root as createRuntime runs.
 *
 * The new mount takes the propagation of the mount it lands on: under a
 * shared mount it would appear in that mount's peers too.  Runtimes make
 * the container's mounts slave or private before createRuntime hooks run
 * (runc: rslave unless rootfsPropagation says otherwise), and a target on
 * a shared mount is refused, so nothing reaches the host.
 */
static int
attach_child(const struct sfs_job *j, struct sfs_report *rep, int *passfd)
{
	char desc[2 * SFS_ECHO_MAX + 8], s[SFS_ECHO_MAX + 1];
	struct statx stx;
	int rootfd, dir, r;

	umask(022);
	if ((r = sfs_ctr_root(j, &rootfd, NULL, rep)) != 0)
		return r;
	r = sfs_walk_make(rootfd, j->target, &dir, rep);
	close(rootfd);
	if (r != 0)
		return r;

	sfs_sanitize(j->target, strlen(j->target), s, sizeof(s));
	/* The fd is whatever is on top at the target, if anything. */
	if (statx(dir, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID,
	    &stx) == -1) {
		r = sfs_report(rep, HUSH_E_SYS, "statx of %s: %s", s,
		    strerror(errno));
		goto out;
	}
	if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) {
		r = sfs_report(rep, HUSH_E_SYS, "the kernel does not say whether "
		    "%s is a mount point", s);
		goto out;
	}
	if ((stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0 &&
	    (j->flags & SECRETFS_ALLOW_OVER_MOUNT) == 0) {
		desc[0] = '\0';
		if ((stx.stx_mask & STATX_MNT_ID) != 0)
			describe_mount(j->procfd, stx.stx_mnt_id, desc,
			    sizeof(desc));
		r = sfs_report(rep, HUSH_E_INUSE, "%s in the rootfs is already a "
		    "mount point (%s%smount id %" PRIu64 "); refusing to hide "
		    "it (if it holds the runtime's own secrets, as podman's "
		    "--secret does, use those or hush's, not both)", s, desc, desc[0] != '\0' ? ", " : "",
		    (uint64_t)stx.stx_mnt_id);
		goto out;
	}
	if ((r = sfs_check_unshared(j, dir, s, rep)) != 0)
		goto out;
	/* The last moment to see that the process is the one pinned. */
	if (proc_pidfd_alive(j->ctr->pidfd) != 0) {
		r = sfs_report(rep, HUSH_E_NOTFOUND, "process %ld has ended",
		    (long)j->ctr->pid);
		goto out;
	}
	if (move_mount(j->rofd, "", dir, "", MOVE_MOUNT_F_EMPTY_PATH |
	    MOVE_MOUNT_T_EMPTY_PATH) == -1) {
		r = sfs_report(rep, HUSH_E_SYS, "move_mount onto %s: %s", s,
		    strerror(errno));
		goto out;
	}
	r = 0;
 out:
	close(dir);
	return r;
}

int
secretfs_attach(int rofd, const struct secretfs_ctr *c, const char *target,
    unsigned int flags, char *why, size_t whylen)
{
	struct sfs_job j;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	memset(&j, 0, sizeof(j));
	j.procfd = -1;
	if (rofd < 0) {
		set_why(why, whylen, "no mount to attach");
		return HUSH_E_INVAL;
	}
	if ((r = sfs_ctr_ok(c, why, whylen)) != 0)
		return r;
	if (!sfs_target_ok(target)) {
		set_why(why, whylen, "target must be a path such as "
		    "/run/secrets, without '.', '..' or empty components");
		return HUSH_E_INVAL;
	}
	if ((flags & ~SECRETFS_ALLOW_OVER_MOUNT) != 0) {
		set_why(why, whylen, "unknown flags %#x", flags);
		return HUSH_E_INVAL;
	}
	j.fn = attach_child;
	j.ctr = c;
	j.rofd = rofd;
	j.target = target;
	j.flags = flags;
	return sfs_run_in_ns(&j, NULL, why, whylen);
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
 * view is found by its unique id (sfs_ctr_root()), making nothing:
 * whatever the container did to its rootfs since, we only ever unmount
 * the mount we put there, never "whatever is at /run/secrets".
 * umount2(".") with the mount's root as our cwd unmounts exactly the
 * mount the fd pins, with no second path lookup to race.
 */
static int
detach_child(const struct sfs_job *j, struct sfs_report *rep, int *passfd)
{
	char s[SFS_ECHO_MAX + 1];
	int root, cur, r;

	if ((r = sfs_ctr_root(j, &root, &cur, rep)) != 0) {
		/* a symlink in the way: our view is not there either */
		if (r == HUSH_E_PERM)
			rep->code = r = HUSH_E_NOTFOUND;
		return r;
	}
	close(root);
	if (fchdir(cur) == -1 || umount2(".", MNT_DETACH) == -1) {
		r = errno;
		close(cur);
		return sfs_report(rep, HUSH_E_SYS, "unmounting %s: %s",
		    sfs_sanitize(j->target, strlen(j->target), s, sizeof(s)),
		    strerror(r));
	}
	close(cur);
	return 0;
}

int
secretfs_detach(const struct secretfs_ctr *c, const char *target,
    uint64_t mnt_id, char *why, size_t whylen)
{
	struct sfs_job j;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	memset(&j, 0, sizeof(j));
	if ((r = sfs_ctr_ok(c, why, whylen)) != 0)
		return r;
	if (!sfs_target_ok(target) || mnt_id == 0) {
		set_why(why, whylen, "a bad target, or no view");
		return HUSH_E_INVAL;
	}
	j.fn = detach_child;
	j.ctr = c;
	j.rofd = -1;
	j.mnt_id = mnt_id;
	j.target = target;
	return sfs_run_in_ns(&j, NULL, why, whylen);
}
