/*
 * The launcher: the process that starts (forks and confines) every other
 * hushd child on the parent's behalf, so that the parent itself can be
 * confined more tightly than any of them.  See launcher.c for why.
 *
 * Parent side: launcher_start() once at start-up, before any key is loaded
 * and before the parent confines itself; then launcher_spawn() and
 * launcher_kill() for the children, launcher_fd() in the poll set and
 * launcher_next_exit() for their exit reports; launcher_stop() at the end.
 */
#ifndef HUSH_LAUNCHER_H
#define HUSH_LAUNCHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "child.h"
#include "sandbox.h"

/*
 * Forks the launcher.  roles are every child it may ever start, the same
 * table in both processes (the parent names a child by its index); the
 * launcher keeps the union of their capabilities and what it needs to
 * hand them out.  Returns 0 in the parent.
 */
int	launcher_start(const struct child_desc *const *roles, size_t nroles);
pid_t	launcher_pid(void);
/* Readable when the launcher has reported something (launcher_next_exit()). */
int	launcher_fd(void);
/*
 * The write end of the pipe the parent's own SIGSYS handler reports on:
 * the launcher outlives a trapped parent long enough to log the call.
 */
int	launcher_parent_trap_fd(void);
/*
 * Why the launcher died, for the parent's last log line: ": forbidden
 * system call X" if its filter trapped one, else "".
 */
void	launcher_death_detail(char *buf, size_t len);

/*
 * Starts the child d.  Blocks until the launcher answers; exit reports
 * that arrive meanwhile are queued for launcher_next_exit().  On success
 * *chan_fd is the parent's end of its channel and *trap_fd the read end of
 * its SIGSYS report pipe.
 */
int	launcher_spawn(const struct child_desc *d, pid_t *pid, int *chan_fd, int *trap_fd);
/* SIGKILLs d's process if pid is still the one running for d. */
int	launcher_kill(const struct child_desc *d, pid_t pid);
/*
 * One exit report: 1 with the child's pid and wait status, 0 when none is
 * waiting, HUSH_E_IO when the launcher is gone.  Does not block.
 */
int	launcher_next_exit(pid_t *pid, int *status);
/*
 * Closes the channel, which tells the launcher to SIGKILL what still runs,
 * reap it and exit; waits for it (at most a few seconds).
 */
void	launcher_stop(void);
/*
 * Waits up to ms milliseconds for the launcher to end and reaps it: 1 with
 * its wait status, 0 if it still runs, -1 if it was reaped already.
 */
int	launcher_reap(int *status, unsigned ms);

/* The launcher's own system calls (launcher_sandbox.c). */
extern const struct sandbox_call launcher_calls[];

/*
 * A request from the parent, as the launcher reads it: a fixed-size
 * record in host byte order (both ends are the same binary).  The parent
 * is the less privileged side, so the launcher takes nothing on trust.
 */
enum launch_op { LAUNCH_SPAWN = 1, LAUNCH_KILL = 2 };
struct launch_req {
	uint32_t	 op;
	uint32_t	 role;		/* index in the launcher's table */
	int32_t		 pid;		/* LAUNCH_KILL: the process meant; else 0 */
};

/*
 * Checks len bytes from the parent against a table of nroles roles: 0
 * with *out filled, else HUSH_E_FORMAT (size, op, pid) or HUSH_E_RANGE
 * (role).  Exposed for the fuzz harness and unit test.
 */
int	launch_req_decode(const void *buf, size_t len, size_t nroles,
	    struct launch_req *out);

#endif
