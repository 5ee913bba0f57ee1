/*
 * The mounter process: the only hushd process with CAP_SYS_ADMIN.  It
 * builds each container's /run/secrets tmpfs (kmod-free/secretfs.h),
 * attaches it in the container's mount namespace, replaces its files on
 * updates, and drops it when the parent says so or when the container's
 * init process exits (kmod-free/procwatch.h).  It opens no sockets and
 * runs nothing; all it sees are the parent's MNT_* requests.
 *
 *	MNTR_ATTACH	new tmpfs, files, read-only view in the container;
 *			or (T_ADOPT) take back a view attached before this
 *			mounter started (it died, or hushd restarted) and
 *			publish the current files into it
 *	MNTR_PUBLISH	replace a container's files atomically
 *	MNTR_DETACH	forget a container: close the tmpfs, unmount the view
 *	MNTR_LIST	the containers held, for tests and hushctl
 *	MNTR_EVENT	(to the parent) a container's init exited; already
 *			forgotten
 */
#ifndef HUSH_MOUNTER_H
#define HUSH_MOUNTER_H

#include "child.h"

/* A request carries at most WIRE_MAX_FIELDS files of HUSH_SECRET_MAX. */
#define MOUNTER_MAX_MSG		WIRE_MAX_MSG
/* Where a container's files appear when MNTR_ATTACH names no target. */
#define MOUNTER_TARGET		"/run/secrets"
/*
 * A grant whose target is absolute (/etc/app/db.conf) is published in
 * the tmpfs as MOUNTER_ABS_DIR plus its target (".@abs/etc/app/db.conf")
 * and bind-mounted, that one file alone, at its target in the rootfs.  No
 * relative target can clash with it: '@' is not a character a target may
 * have (lib/secret_ref.c).  The container also sees the file at
 * /run/secrets/.@abs/etc/app/db.conf, a hidden name, with the same owner
 * and mode: nothing it could not read anyway.
 */
#define MOUNTER_ABS_DIR		".@abs"

extern const struct child_desc mounter_child;
/* Its Landlock rules and system call allow-list: mounter_sandbox.c */
extern const struct sandbox_policy mounter_sandbox;

/* The mounter's main loop over the parent's channel fd; returns at EOF. */
void	mounter_main(int fd);

#endif
