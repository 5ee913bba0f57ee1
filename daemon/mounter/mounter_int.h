/* Shared by the files of daemon/mounter/ only. */
#ifndef HUSH_MOUNTER_INT_H
#define HUSH_MOUNTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "msg.h"
#include "proc_start.h"
#include "secretfs.h"

/* Longest container id (runc allows any printable string). */
#define MNT_ID_MAX	1024

/*
 * The files of an MNTR_ATTACH or MNTR_PUBLISH.  Names are copies (they
 * need a NUL); data points into the received message, so the secret
 * bytes are never copied and the channel wipes them when the message is
 * freed.  Valid only while that message is.
 */
struct mnt_files {
	struct secretfs_file	*f;
	size_t			 n;
};

/*
 * Every T_FILE of m as REC_FILE: schema, a name secretfs_name_ok()
 * accepts, mode within 0777, an owner other than -1, at most
 * SECRETFS_MAX_FILES files.  HUSH_E_PROTO or HUSH_E_INVAL with why.
 */
int	mnt_files_decode(const struct wire_msg *m, struct mnt_files *out,
	    char *why, size_t whylen);
void	mnt_files_free(struct mnt_files *fs);

/* A file mounted on its own at an absolute target (see mounter.h). */
struct mnt_bind {
	char		 target[SECRETFS_NAME_MAX + 1];
	uint64_t	 id;		/* its unique mount id */
};

/* One container the mounter holds. */
struct mnt_ctr {
	struct mnt_ctr	*next;
	char		 id[MNT_ID_MAX + 1];
	pid_t		 pid;
	uint64_t	 start;		/* /proc/PID/stat field 22 */
	int		 pidfd;		/* pins pid: see proc_start.h */
	int		 wfd;		/* the writable tmpfs: keeps it alive */
	uint64_t	 view_id;	/* unique mount id of the container's view */
	char		*root;
	char		*target;
	size_t		 nfiles;
	uint64_t	 prune_at;	/* monotonic ms; 0: nothing kept */
	struct mnt_bind	*binds;		/* the file mounts made, in binds.c */
	size_t		 nbinds;
};

/* c as secretfs reaches it: pid, pidfd, rootfs path. */
struct secretfs_ctr mnt_ctr_sfs(const struct mnt_ctr *c);

/*
 * After fs has been published into c's tmpfs: mounts each file of fs
 * with an absolute target at that target, or swaps it in for the one
 * there, and unmounts those of c->binds fs no longer has.  c->binds
 * follows what was done, also on failure.
 */
int	mnt_binds_sync(struct mnt_ctr *c, const struct mnt_files *fs,
	    char *why, size_t whylen);
/*
 * For an adopted c, before anything is published into it: unmounts the
 * file mounts an earlier mounter made, found by the files of the current
 * generation they show (their ids were lost with that mounter).
 */
int	mnt_binds_adopt(struct mnt_ctr *c, char *why, size_t whylen);
/* Unmounts every file mount of c (errors are logged) and forgets them. */
void	mnt_binds_drop(struct mnt_ctr *c, bool unmount);

#endif
