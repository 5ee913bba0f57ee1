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

#endif
