/*
 * Capability reduction for hush processes that run as root: each privilege
 * domain keeps exactly the capabilities it needs and can never get the
 * others back, neither directly nor by executing a program.
 */
#ifndef HUSH_CAPS_H
#define HUSH_CAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/types.h>

/*
 * Sets the effective, permitted and inheritable sets to exactly keep[0..n),
 * drops every other capability from the bounding set, clears the ambient
 * set and locks the securebits (see caps.c) so that root gains nothing at
 * execve().  The caller must still hold CAP_SETPCAP the first time; a
 * repeated call with the same or a smaller keep also works without it.
 * HUSH_E_INVAL for a capability the kernel does not know.
 *
 * Capabilities and securebits belong to a thread, and new threads copy
 * their creator's: call this before starting any thread.
 */
int	caps_limit(const cap_value_t *keep, size_t n);

/*
 * caps_limit() with no capability kept, for a process that needs no root
 * at all: between clearing the bounding and ambient sets and emptying the
 * others it drops supplementary groups and sets the real, effective and
 * saved gid and uid to gid and uid, then makes sure none of them can be
 * got back.  With KEEP_CAPS off and locked, the kernel empties the
 * permitted set at the uid switch, so nothing follows the process into
 * the new uid.  HUSH_E_INVAL for uid or gid 0.
 *
 * A credential change resets the "dumpable" flag and the parent-death
 * signal: set both again afterwards (proc_harden(), proc_die_with_parent()).
 */
int	caps_limit_as(uid_t uid, gid_t gid);

/*
 * Reads the CapEff, CapPrm, CapBnd and CapAmb masks (bit N = capability N)
 * from /proc/PID/status; pid 0 means the calling process.  Any of the
 * output pointers may be NULL.
 */
int	caps_read_status(pid_t pid, uint64_t *eff, uint64_t *prm, uint64_t *bnd,
	    uint64_t *amb);

#endif
