/*
 * Which process a pid names: its start time.  Pids are reused, so hush
 * names a container's init by pid and start time together, in the
 * mounter's table and in the parent's records of attached containers.
 */
#ifndef HUSH_PROC_START_H
#define HUSH_PROC_START_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The start time of pid in clock ticks since boot (/proc/PID/stat field
 * 22), which with the pid names one process for as long as the system
 * runs.  *dead is set when the process has ended but not been reaped (a
 * zombie).  HUSH_E_NOTFOUND when there is no such process.
 */
int	proc_start_time(pid_t pid, uint64_t *start, bool *dead);

/*
 * A pid is only a name; a pidfd is the process itself.  The hook takes
 * one as soon as it has read the runtime's state, hushd keeps it with the
 * container, and whatever hushd opens under /proc/PID is used only if the
 * pidfd's process still lives afterwards (proc_pidfd_alive()): a pid
 * reused by another process in between is then never mistaken for it.
 */

/*
 * The pid pidfd refers to, from /proc/self/fdinfo ("Pid:").  HUSH_E_INVAL
 * when fd is not a pidfd, HUSH_E_NOTFOUND when its process has ended and
 * been reaped.
 */
int	proc_pidfd_pid(int pidfd, pid_t *pid);
/* 0 while pidfd's process runs; HUSH_E_NOTFOUND once it has exited. */
int	proc_pidfd_alive(int pidfd);
/*
 * A pidfd of pid, provided pid is still the process that started at
 * start (proc_start_time()): for a process known only by name, from a
 * record that outlived the pidfd.  HUSH_E_NOTFOUND when it is not.
 */
int	proc_pin(pid_t pid, uint64_t start, int *pidfd);

#endif
