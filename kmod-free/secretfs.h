/*
 * The files a container sees at /run/secrets: a private tmpfs per container,
 * built by the mounter with the new mount API and attached read-only inside
 * the container's mount namespace.
 *
 * Lifecycle, all in the mounter (the one process with CAP_SYS_ADMIN):
 *
 *	secretfs_create()	a detached, writable, capped noswap tmpfs
 *	secretfs_resize()	change that cap in place
 *	secretfs_publish()	fill it; again later to rotate or revoke
 *	secretfs_ro_view()	a read-only clone of that mount
 *	secretfs_attach()	put the clone at <rootfs>/run/secrets in
 *				the container's mount namespace
 *	secretfs_adopt()	a new writable fd for a view attached
 *				earlier, after the old one was lost
 *	secretfs_file_clone()	one published file as a detached,
 *				read-only mount of its own
 *	secretfs_binds()	put such files at absolute paths in the
 *				container's rootfs, swap or remove them
 *
 * secretfs.c has the mounts, secretfs_publish.c the layout,
 * secretfs_attach.c, secretfs_adopt.c and secretfs_binds.c the trips into
 * the container's namespace (secretfs_ns.c the machinery they share).
 *
 * Both mounts share one superblock, so every later publish through the
 * writable fd is what the container reads.  The layout is Kubernetes'
 * atomic writer:
 *
 *	..data_7/db_pw		the files of generation 7
 *	..data_7/app/cfg
 *	..data -> ..data_7	swapped with one rename(2) per publish
 *	db_pw -> ..data/db_pw	one link per top-level name
 *	app -> ..data/app
 *
 * A reader that opens db_pw gets the whole old or the whole new content,
 * never a mix: files are complete before ..data points at them, and never
 * change once written.  A reader caught resolving the path while the old
 * generation is being deleted can get ENOENT and should retry; this is
 * rare (a few per thousand publishes under a tight loop of both) and
 * inherent in deleting the old generation at once.  Publishing with
 * SECRETFS_KEEP_PREVIOUS and pruning a little later (the mounter waits
 * 2 s) avoids it.
 *
 * The read-only flag of the container's view is not locked by the kernel:
 * it locks mount flags only on mounts copied into a namespace owned by a
 * less privileged user namespace, and this mount is moved in.  So root of
 * a user-namespaced container (CAP_SYS_ADMIN over its own mount namespace)
 * can remount its view read-write, or unmount it (verified on 6.18).  That
 * only hurts itself: it can then rewrite its own files (they carry its
 * ids) but cannot add, remove or rename anything, because every directory
 * belongs to the host's root with mode 0755; and publish never reads the
 * tmpfs back.  At worst it fills its tmpfs and its next publish fails.
 */
#ifndef HUSH_SECRETFS_H
#define HUSH_SECRETFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest file name, nested components and slashes included. */
#define SECRETFS_NAME_MAX	255
/* Most files in one published set. */
#define SECRETFS_MAX_FILES	512
/* Most inodes of one set: its ..data_N, files, directories, top links. */
#define SECRETFS_SET_INODES	(4 * SECRETFS_MAX_FILES)

/* secretfs_attach(): stack on top of whatever is mounted at the target. */
#define SECRETFS_ALLOW_OVER_MOUNT	0x1u

struct secretfs_file {
	const char	*name;	/* see secretfs_name_ok() */
	const uint8_t	*data;	/* may be NULL when len is 0 */
	size_t		 len;
	uid_t		 uid;	/* already mapped to host ids */
	gid_t		 gid;
	mode_t		 mode;	/* permission bits only, <= 0777 */
};

/* secretfs_publish_flags(): leave the previous generation in place. */
#define SECRETFS_KEEP_PREVIOUS		0x1u
/* secretfs_publish_flags(): grow the cap to fit the set (see below). */
#define SECRETFS_GROW			0x2u

/*
 * A fresh tmpfs for one container: size cap_bytes rounded up to whole
 * pages (at least one), root directory 0755, at most 2 *
 * SECRETFS_SET_INODES + 3 inodes, huge=never, noswap, and mounted
 * nosuid,nodev,noexec.  *wfd becomes the detached, writable mount; it is
 * attached nowhere, and the tmpfs goes away with the last fd or mount
 * that refers to it.
 *
 * During a publish the old and the new set coexist, so the largest set
 * that can always replace another is cap_bytes / 2: size the cap for two.
 *
 * Needs CAP_SYS_ADMIN in the initial user namespace (the kernel refuses
 * noswap elsewhere).
 */
int	secretfs_create(size_t cap_bytes, int *wfd, char *why,
	    size_t whylen);

/*
 * Changes the size cap of wfd's tmpfs (rounded up to whole pages, at
 * least one) without unmounting anything: readers and the container's
 * view keep going, noswap and the inode bound stay.  A cap below what the
 * files in it use is refused (HUSH_E_NOSPACE) and the cap is unchanged.
 * This lets the owner keep the cap at the data it holds, growing it just
 * before a publish needs room for two sets and shrinking it once the old
 * set is pruned.  Needs CAP_SYS_ADMIN, as secretfs_create() does.
 */
int	secretfs_resize(int wfd, size_t cap_bytes, char *why, size_t whylen);

/*
 * True when name may be published: 1 to SECRETFS_NAME_MAX bytes of
 * components joined by single slashes; no leading or trailing slash; no
 * component ".", "..", or starting with ".." (that prefix is kept for the
 * layout's own entries); no control characters.  Otherwise false, with
 * the reason in why.
 */
bool	secretfs_name_ok(const char *name, char *why, size_t whylen);

/*
 * Replaces the visible file set with files[0..n) (n may be 0: nothing
 * left).  Names must be valid, distinct, and no name may be a directory of
 * another ("app" and "app/cfg").  Each file is created with its uid, gid
 * and mode; directories are root's, 0755.  The data is written straight
 * from the caller's buffers: no copy of a secret is made here.
 *
 * Refused before anything changes (HUSH_E_INVAL; HUSH_E_TOOBIG for a set
 * larger than the cap; HUSH_E_NOSPACE when it fits the cap but not beside
 * the current set): the visible set is untouched.  A failure while writing
 * the new generation removes it again, and the old set stays visible.
 * Once ..data has been swapped the new set is visible; a failure after
 * that (removing stale links or the old generation) is still reported, and
 * the next publish finishes the cleanup.  Leftovers of an interrupted
 * publish are swept at the start of the next.
 */
int	secretfs_publish(int wfd, const struct secretfs_file *files,
	    size_t n, char *why, size_t whylen);

/*
 * secretfs_publish() with flags.  SECRETFS_KEEP_PREVIOUS leaves the
 * generation that was visible until now in place instead of deleting it
 * at once, so a reader that has just resolved ..data to it still finds
 * its files (no transient ENOENT).  It stays until secretfs_prune() or
 * the next publish (whose sweep removes every generation but the current
 * one before writing), so the cap still needs room for two sets only.
 * Note that the kept generation stays readable at ..data_N/ for as long
 * as it is kept: a caller revoking a secret must prune soon.
 *
 * SECRETFS_GROW raises the cap, when the set does not fit beside what is
 * there, to exactly what is in use plus what the set needs, so that a
 * caller can keep the cap at its data: create with the smallest cap,
 * publish with SECRETFS_GROW, and secretfs_shrink() after each prune.
 */
int	secretfs_publish_flags(int wfd, const struct secretfs_file *files,
	    size_t n, unsigned int flags, char *why, size_t whylen);

/* Removes every generation but the one ..data points at. */
int	secretfs_prune(int wfd, char *why, size_t whylen);

/* Lowers the cap to the pages in use now (a no-op when none are free). */
int	secretfs_shrink(int wfd, char *why, size_t whylen);

/*
 * *rofd becomes a new detached mount of the same tmpfs, read-only, nosuid,
 * nodev, noexec: what the container gets.  Cloning a detached mount with
 * open_tree(OPEN_TREE_CLONE) needs Linux 6.15 or later (verified on 6.18);
 * older kernels refuse with EINVAL, and this fails saying so.
 */
int	secretfs_ro_view(int wfd, int *rofd, char *why, size_t whylen);

/*
 * A container as the mounter reaches it: pid, its init as the host sees
 * it; pidfd, a pidfd of that process (pidfd_open()), which pins it: the
 * namespace is entered through the pidfd, and a /proc path opened for pid
 * is used only if the pidfd's process is still alive afterwards, so a pid
 * reused by another process is never entered.  root is the rootfs as the
 * runtime gave it (the bundle's root.path), a path in the container's
 * mount namespace only until the runtime pivots into it.
 *
 * Finding the rootfs.  The runtime runs its createRuntime hooks after it
 * has mounted the rootfs at root and before pivot_root(), so at attach
 * the rootfs is root below the process's root, which is still the host's
 * (a copy of it, in the container's namespace).  After pivot_root() the
 * process's root is the rootfs itself, and root names nothing -- or
 * whatever the container made there, since it owns every path in its
 * namespace.  So every later trip (detach, adopt, file mounts) starts
 * from the view instead: the rootfs is the directory, of the two
 * candidates /proc/PID/root and root below it, under which the mount
 * with the view's unique id is on top at the view's target.  Unique
 * mount ids are never reused, and the container cannot make another
 * mount carry ours, so no path it controls can redirect the walk.
 */
struct secretfs_ctr {
	pid_t		 pid;
	int		 pidfd;
	const char	*root;
};

/*
 * How long a trip into a container's namespace may take.  A rootfs is
 * the image's, and a FUSE mount in it may never answer a lookup; the
 * helper that walks it is then killed (an alarm it sets itself) and the
 * request fails, rather than the mounter waiting with every other
 * container behind it.
 */
#define SECRETFS_HELPER_DEADLINE_S	4

/*
 * Attaches the detached mount rofd at target inside the rootfs of the
 * container c, in its mount namespace.  target is a path inside the
 * rootfs such as "/run/secrets".  The rootfs is found by path (see
 * struct secretfs_ctr): call this before the runtime pivots into it, as
 * a createRuntime hook runs.
 *
 * The rootfs is the image's and hostile: a symlink anywhere in target
 * (e.g. /run -> /etc) is refused with HUSH_E_PERM naming it, rather than
 * followed even within the root, so the mount lands exactly where asked or
 * nowhere.  Missing directories are created, 0755 and root's.  An existing
 * mount at target (say the runtime's own secrets) is refused with
 * HUSH_E_INUSE naming it, unless flags has SECRETFS_ALLOW_OVER_MOUNT.  A
 * target on a shared mount is refused with HUSH_E_PERM: the view would
 * propagate to the mount's peers, which may be the host's.
 *
 * On failure rofd is still detached and may be attached elsewhere.  On
 * success it refers to the attached mount: close it, and do not pass it
 * here again (move_mount() would move the attached mount).
 *
 * Works in a forked child, because setns() into a mount namespace needs a
 * single-threaded caller; the child reports back through a socketpair.
 * Call it from a single-threaded process: the child formats its report
 * with snprintf() before exiting.  HUSH_E_TIMEOUT when the child did not
 * finish within SECRETFS_HELPER_DEADLINE_S.
 */
int	secretfs_attach(int rofd, const struct secretfs_ctr *c,
	    const char *target, unsigned int flags, char *why, size_t whylen);

/*
 * Children of ours whose trip into a container did not end by its
 * deadline and who could not be reaped then (a task waiting on a FUSE
 * request its server has read and never answers cannot die until the
 * server does).  Call now and then: reaps those that have ended since,
 * and returns how many are left.
 */
size_t	secretfs_reap_strays(void);

/*
 * The unique id of the mount rofd refers to (STATX_MNT_ID_UNIQUE, Linux
 * 6.8+: never reused while the system runs).  Taken before attaching, it
 * names the container's view for secretfs_detach().
 */
int	secretfs_mount_id(int rofd, uint64_t *id, char *why, size_t whylen);

/*
 * Unmounts (MNT_DETACH) the view with unique mount id mnt_id from target
 * in the container c, found as struct secretfs_ctr says.  Only that mount
 * is ever removed: if something else is on top at target (the container
 * mounted over it, or it is gone) the answer is HUSH_E_NOTFOUND and
 * nothing changes; the view then goes away with the namespace.
 * HUSH_E_NOTFOUND too when the process has ended.  Same threading rule
 * as secretfs_attach().
 */
int	secretfs_detach(const struct secretfs_ctr *c, const char *target,
	    uint64_t mnt_id, char *why, size_t whylen);

/*
 * Takes back a view attached earlier by a process that has since lost its
 * writable fd (the mounter died, or hushd restarted): *wfd becomes a new
 * writable, detached mount of the same tmpfs, as secretfs_create() gave,
 * so publishes through it reach the container again.
 *
 * The view is found as secretfs_detach() finds it, and only if the mount
 * on top at target is the one with unique id view_id, at its root, and a
 * tmpfs.  A clone of it (open_tree(OPEN_TREE_CLONE)) comes back over a
 * socketpair, and the read-only flag is cleared on that clone only: the
 * flag belongs to the mount, the superblock underneath was always
 * writable, and the container's view stays read-only.
 *
 * HUSH_E_NOTFOUND when the process, the target or the view is gone, or
 * another mount is on top; HUSH_E_PERM when the mount is not a tmpfs.
 * Same threading rule as secretfs_attach().
 */
int	secretfs_adopt(const struct secretfs_ctr *c, const char *target,
	    uint64_t view_id, int *wfd, char *why, size_t whylen);

/*
 * Files outside /run/secrets (a grant's absolute target such as
 * /etc/ssl/private/web.key) are published in the tmpfs like the others,
 * and each is also bind-mounted on its own at its target.  A bind mount
 * of one file pins that file's inode, not the name: the atomic-writer
 * swap of ..data does not reach it.  So every new version is a new mount,
 * put *beneath* the old one (MOVE_MOUNT_BENEATH, Linux 6.5+) and the old
 * one then unmounted: the path shows the old file or the new one, never
 * the empty mount point between them.  The old generation's inode stays
 * alive (and counts against the tmpfs's cap) until its mount goes.
 */

/*
 * *fd becomes a new detached mount of the single published file name
 * (as it is now: ..data/<name>) of wfd's tmpfs, read-only, nosuid, nodev,
 * noexec, and *id its unique mount id (see secretfs_mount_id()), which
 * names it for a later swap or removal.  HUSH_E_NOTFOUND when no such
 * file is published, HUSH_E_INVAL for a bad name or one that is not a
 * regular file.  Needs Linux 6.15 or later, as secretfs_ro_view() does.
 */
int	secretfs_file_clone(int wfd, const char *name, int *fd, uint64_t *id,
	    char *why, size_t whylen);

/* One change secretfs_binds() makes. */
struct secretfs_bind {
	const char	*target;	/* absolute path in the rootfs */
	int		 fd;		/* secretfs_file_clone(); -1: remove */
	uint64_t	 old_id;	/* the mount there now; 0: none yet */
	/* a removal with old_id 0: the mount of this file (see below) */
	dev_t		 dev;
	ino_t		 ino;
	/* secretfs_binds_view(): a published name instead of fd */
	const char	*from;
	uint64_t	 new_id;	/* out: the mount made of it */
};

/*
 * Makes the changes b[0..n) to single-file mounts inside the rootfs of the
 * container c, in its mount namespace, in one trip, in order:
 *
 *	fd set, old_id 0	mount fd at target
 *	fd set, old_id set	mount fd beneath the mount old_id there,
 *				then unmount old_id: a swap
 *	fd -1, old_id set	unmount old_id
 *	fd -1, old_id 0		unmount the mount on top at target if it
 *				is of the file dev, ino (st_dev, st_ino of
 *				a published file): for one whose mount id
 *				was lost with the mounter that made it
 *
 * The rootfs is the one under which the view view_id is on top at
 * view_target (struct secretfs_ctr); with view_id 0 it is found by path,
 * which is right only before the runtime pivots into it.
 *
 * Targets must be distinct.  The rootfs is hostile, as for
 * secretfs_attach(): a symlink anywhere in a target, the last component
 * included, is refused (HUSH_E_PERM); missing directories are made 0755
 * and owned like their parent, and a missing file becomes an empty one,
 * 0644 and owned like its directory: the mount point, which stays in the
 * rootfs when the mount is removed.  A target that is a directory or
 * anything but a regular file is refused (HUSH_E_EXISTS), and so is one
 * where something is mounted already (HUSH_E_INUSE), for a new mount, and
 * one on a shared mount (HUSH_E_PERM), for a new mount or a swap.
 * For a swap, the mount on top at target must be old_id (else
 * HUSH_E_NOTFOUND: the container moved it or mounted over it); a removal
 * whose mount is not on top any more is skipped, as secretfs_detach()
 * would leave it: it goes with the namespace.
 *
 * Every target is checked (and its mount point made) before any mount
 * changes, so a refusal changes no mount.  A failure of the kernel after
 * that stops at the change that failed: *done (may be NULL) says how many
 * were made, b[0..*done), and the rest were not.  On success every fd in
 * b refers to an attached mount: close them, and do not pass them again.
 * Same threading rule as secretfs_attach().
 */
int	secretfs_binds(const struct secretfs_ctr *c, const char *view_target,
	    uint64_t view_id, const struct secretfs_bind *b, size_t n,
	    size_t *done, char *why, size_t whylen);

/*
 * secretfs_binds(), but each file to mount is named by b[i].from (a
 * published name, fd -1) and cloned inside the container's namespace
 * from its view, the mount with unique id view_id on top at view_target
 * (as secretfs_detach() finds it); b[i].new_id gets the new mount's id.
 * This is the one way for a mounter that adopted the tmpfs: the kernel
 * clones a detached mount only in the namespace it came from (a clone of
 * the view made in the container's namespace is refused elsewhere with
 * EINVAL), and a fresh tmpfs works the same way.  The clones are made
 * before any mount changes, so a missing name changes nothing.
 */
int	secretfs_binds_view(const struct secretfs_ctr *c,
	    const char *view_target, uint64_t view_id, struct secretfs_bind *b,
	    size_t n, size_t *done, char *why, size_t whylen);

#endif
