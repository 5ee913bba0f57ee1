/*
 * Per-process hardening that every hush process applies to itself: no core
 * dumps or ptrace by same-uid processes, no privilege gain at execve(), a
 * tie to the parent's lifetime, a recognisable title, and no stray fds.
 */
#ifndef HUSH_PROC_HARDEN_H
#define HUSH_PROC_HARDEN_H

#include <stddef.h>
#include <sys/types.h>

/*
 * RLIMIT_CORE 0, then not dumpable, then PR_SET_NO_NEW_PRIVS.  Credential
 * changes and execve() reset "dumpable", so call this after any setuid();
 * no_new_privs is per thread, so call it before starting threads.
 */
int	proc_harden(void);

/*
 * Makes the kernel SIGKILL the caller when parent exits, then _exit()s at
 * once if parent is already gone (we were reparented before the prctl).
 * Call in the child right after fork(), with the pid fork()'s caller had.
 */
int	proc_die_with_parent(pid_t parent);

/*
 * Prepares the argv/environ area to be overwritten by proc_set_title():
 * moves environ and the argv strings to the heap (argv[] stays usable and
 * getenv() keeps working).  Call once from main(), before starting threads.
 */
void	proc_title_init(int argc, char **argv);

/*
 * Sets the title shown by ps and /proc/PID/cmdline (truncated to the space
 * the original argv and environment occupied) and the kernel's comm, which
 * keeps 15 bytes.  Without proc_title_init() only comm changes.
 */
void	proc_set_title(const char *title);

/* Closes every fd >= lowfd except those listed in keep. */
int	proc_close_fds_from(int lowfd, const int *keep, size_t nkeep);

#endif
