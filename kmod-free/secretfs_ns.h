/*
 * Internal to kmod-free/secretfs_*.c: the trip into a container's mount
 * namespace that attach, detach and adopt share, and the hostile-rootfs
 * path walk they all rely on, and the errno mapping every secretfs file
 * uses.  Not part of secretfs.h's interface.
 */
#ifndef HUSH_SECRETFS_NS_H
#define HUSH_SECRETFS_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Debian 12's headers predate it (Linux 6.8, include/uapi/linux/stat.h);
 * the kernel we run on has it, and secretfs_mount_id() fails if not.
 */
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE	0x00004000U
#endif

/* A HUSH_E_* code for an errno from a file system call. */
int	sfs_errno_code(int e);

/* Longest piece of a path echoed back in a message. */
#define SFS_ECHO_MAX	80

/* What the child tells the parent: one datagram, read whole. */
struct sfs_report {
	int	code;		/* 0 or a HUSH_E_* code */
	unsigned int done;	/* binds: how many were carried out */
	uint64_t ids[512];	/* binds from a view: the mounts made */
	char	msg[512];	/* why, when code is not 0 */
};

/* What the child works with; the fds are open before fork(). */
struct sfs_job {
	/*
	 * Runs in the child, inside the namespace.  *passfd (-1 on entry)
	 * may be set to an fd to hand to the caller with a successful
	 * report; the child exits right after, so it need not close it.
	 */
	int		(*fn)(const struct sfs_job *, struct sfs_report *,
			    int *passfd);
	const struct secretfs_ctr *ctr;	/* whose namespace, pinned by pidfd */
	/*
	 * The view's unique mount id, which names the rootfs on every trip
	 * but attach (struct secretfs_ctr); 0: the rootfs by path.
	 */
	uint64_t	 mnt_id;
	int		 rofd;		/* attach: the mount to move in */
	int		 procfd;	/* the host's /proc: PID/root, our mountinfo */
	const char	*target;	/* the view's place: attach's, or where it is */
	unsigned int	 flags;
	/* binds: the single-file mounts to make, swap or remove */
	const struct secretfs_bind *binds;
	size_t		 nbinds;
	bool		 from_view;	/* binds: clone each file from the view */
};

struct secretfs_bind;
struct secretfs_ctr;

/* Checks c's fields before a trip: HUSH_E_INVAL with why if one is off. */
int	sfs_ctr_ok(const struct secretfs_ctr *c, char *why, size_t whylen);

/*
 * Runs j->fn in a forked child that has entered the mount namespace of
 * j->ctr's process (through its pidfd), and returns its report's code
 * (why gets its message).  With fdout non-NULL, a successful child must
 * pass exactly one fd, which lands in *fdout (close-on-exec); with fdout
 * NULL, passing one is an error.  The child has
 * SECRETFS_HELPER_DEADLINE_S to report (HUSH_E_TIMEOUT).  Call from a
 * single-threaded process (see secretfs_attach()).
 */
int	sfs_run_in_ns(const struct sfs_job *j, int *fdout, char *why,
	    size_t whylen);
/*
 * The same, also giving the report's done count (0 unless set) and, with
 * ids non-NULL, its first j->nbinds ids.
 */
int	sfs_run_in_ns_done(const struct sfs_job *j, int *fdout,
	    unsigned int *done, uint64_t *ids, char *why, size_t whylen);

/*
 * In the child: the container's rootfs, into *rootfd (O_PATH), found as
 * struct secretfs_ctr says: with j->mnt_id 0 by its path below the
 * process's root; otherwise the candidate under which the view j->mnt_id
 * is on top at j->target, and *viewfd (may be NULL) becomes the view's
 * root.  Each path is opened only while the pidfd's process lives.
 * HUSH_E_NOTFOUND when the process or the view is gone, HUSH_E_PERM for a
 * symlink in the way, with the reason in rep.
 */
int	sfs_ctr_root(const struct sfs_job *j, int *rootfd, int *viewfd,
	    struct sfs_report *rep);

/*
 * In the child: HUSH_E_PERM, with the reason in rep, when the mount that
 * dir (an fd of the directory or file a new mount goes on) lies on is
 * shared, so that a mount made there would propagate to its peers --
 * another namespace's, the host's among them.  what names the place in
 * the message.
 */
int	sfs_check_unshared(const struct sfs_job *j, int dir, const char *what,
	    struct sfs_report *rep);

/*
 * In the child: mountinfo's line for the mount with (non-unique) id, as
 * this namespace shows it, into line; false if there is none.
 */
bool	sfs_mountinfo_line(int procfd, uint64_t id, char *line, size_t cap);

/* Fills rep and returns code. */
int	sfs_report(struct sfs_report *rep, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Printable ASCII of s[0..len) as is, else '?', at most SFS_ECHO_MAX. */
const char *sfs_sanitize(const char *s, size_t len, char *buf, size_t cap);

/* A target such as "/run/secrets": no ".", "..", empty parts or controls. */
bool	sfs_target_ok(const char *target);

/* openat2(dir, name) with these open flags and RESOLVE_* flags; -1 with errno. */
int	sfs_openat2(int dir, const char *name, uint64_t flags, uint64_t resolve);

/*
 * Opens directory name in dir as O_PATH, confined to dir and refusing
 * every symlink (see secretfs_attach.c for why).  -1 with errno.
 */
int	sfs_open_dir(int dir, const char *name);

/*
 * In the child: finds or makes target below rootfd, one directory at a
 * time through sfs_open_dir(); a missing directory is made 0755 and owned
 * like its parent.  *dirp becomes the target directory.  HUSH_E_PERM for
 * a symlink in the way (or a read-only rootfs), HUSH_E_EXISTS for a
 * component that is not a directory, with the reason in rep.
 */
int	sfs_walk_make(int rootfd, const char *target, int *dirp,
	    struct sfs_report *rep);

/*
 * In the child: walks target below the directory rootfd one existing
 * component at a time through sfs_open_dir(), making nothing, and checks
 * that what is on top there is the mount with unique id mnt_id, at its
 * root.  *fdp becomes that mount's root.  HUSH_E_NOTFOUND when a
 * component is missing or another mount is on top, HUSH_E_PERM for a
 * symlink in the way, with the reason in rep.
 */
int	sfs_open_view(int rootfd, const char *target, uint64_t mnt_id,
	    int *fdp, struct sfs_report *rep);

#endif
