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

extern const struct child_desc mounter_child;
/* Its Landlock rules and system call allow-list: mounter_sandbox.c */
extern const struct sandbox_policy mounter_sandbox;

/* The mounter's main loop over the parent's channel fd; returns at EOF. */
void	mounter_main(int fd);

#endif
