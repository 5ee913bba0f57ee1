/*
 * A privilege-separated child of hushd: how it is started and confined, its
 * channel to the parent, restart back-off, and the parent's calls to it
 * that await a reply.  The parent is the only process that talks to every
 * child; children never talk to each other.
 */
#ifndef HUSH_CHILD_H
#define HUSH_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/types.h>

#include "chan.h"
#include "sandbox.h"
#include "wire.h"

struct child;

/* Everything that distinguishes one child process from another. */
struct child_desc {
	const char		*name;		/* "pki", "raft" */
	size_t			 max_msg;	/* channel limit, both ways */
	bool			 allow_fds;	/* may fds cross this channel? */
	const uint16_t		*from_child;	/* request/event types it may send */
	const cap_value_t	*caps;		/* capabilities it keeps */
	size_t			 ncaps;
	/*
	 * Needs no root at all: runs as the unprivileged user set with
	 * child_set_user() (`hush`), keeping no capability (caps must be
	 * empty).
	 */
	bool			 unprivileged;
	/*
	 * Its working directory, entered while still root: a process that
	 * runs as the user reaches a directory of its own below a path it
	 * could not walk (raft's below the state dir).  NULL: "/".
	 */
	const char		*workdir;
	/*
	 * Holds private keys in OpenSSL (net: the TLS key; pki: the CA key):
	 * gets OpenSSL's locked secure heap (lib/keyheap.h) before its sandbox.
	 */
	bool			 keyheap;
	/*
	 * Its Landlock rules and seccomp allow-list (kmod-free/sandbox.h),
	 * applied last; written down in daemon/<name>/<name>_sandbox.c.
	 */
	const struct sandbox_policy *sandbox;
	/* The child's entry point, run after confinement; never returns. */
	void			(*main)(int fd);
};

/* Called with the reply (already validated against its schema) or an error. */
typedef void (*call_cb)(void *arg, int status, const struct wire_msg *reply,
    int fd, const char *detail);

struct call {
	struct call	*next;
	uint32_t	 id;
	uint16_t	 reply_type;
	call_cb		 cb;
	void		*arg;
};

struct child {
	const struct child_desc	*desc;
	pid_t			 pid;		/* 0 while not running */
	struct chan		 ch;
	/* Read end of the pipe its SIGSYS handler reports a trapped call on. */
	int			 trap_fd;
	/* ": forbidden system call X" once it reported one, else "". */
	char			 trap_note[160];
	uint32_t		 next_id;
	struct call		*calls;
	unsigned		 backoff_ms;
	uint64_t		 started_ms;	/* monotonic */
	uint64_t		 restart_at_ms;	/* when to respawn, 0 = now */
	unsigned		 restarts;
};

uint64_t child_now_ms(void);

/*
 * The uid and gid of the unprivileged user that children marked
 * unprivileged switch to; the parent sets it once, before any spawn.
 */
void	child_set_user(uid_t uid, gid_t gid);
void	child_init(struct child *c, const struct child_desc *desc);
/*
 * Has the launcher start c's process (daemon/privsep/launcher.h); returns
 * 0 with c->pid set and its channel open.
 */
int	child_spawn(struct child *c);
/*
 * The same, forked from the calling process itself rather than through
 * the launcher: for the unit tests, which drive one kind of process alone
 * (several at once) and reap it themselves.
 */
int	child_spawn_here(struct child *c);
/*
 * The child's process is gone (reaped by the parent): fail its pending
 * calls with HUSH_E_UNAVAIL, close the channel and schedule a restart with
 * exponential back-off, reset after a minute of stable running.
 */
void	child_exited(struct child *c);
/*
 * Reads what arrived on c->trap_fd (poll it): a trapped call of a process
 * the child forked is logged at once, the child's own kept for
 * child_death_detail().
 */
void	child_trap_read(struct child *c);
/*
 * Why the child died, for the reaper's log line: the system call its
 * seccomp filter trapped, if it reported one, else "".
 */
void	child_death_detail(struct child *c, char *buf, size_t len);
/*
 * Kill the child for a protocol violation (through the launcher, whose
 * child it is); its exit report restarts it.
 */
void	child_kill(struct child *c, const char *why);

/* A request id for a message that child_call() will send. */
uint32_t child_next_id(struct child *c);
/*
 * Send a finished request (built with child_next_id()'s id) and remember
 * to run cb when the matching reply arrives (cb NULL: an error reply is
 * logged, nothing else).  On failure cb is not called.
 */
__attribute__((warn_unused_result))
int	child_call(struct child *c, struct wire_enc *req, int fd, call_cb cb, void *arg);
/*
 * The caller gives up on every call made with arg: their replies, when
 * they come, are dropped quietly (descriptors closed).
 */
void	child_call_abandon(struct child *c, void *arg);
/* Route a reply from the child to its waiting call; <0 = violation. */
__attribute__((warn_unused_result))
int	child_reply(struct child *c, const uint8_t *buf, size_t len, int fd);

/*
 * The child side (child_run.c).  child_run() confines the new process as
 * d says and runs d->main(fd); trap_fd is where its SIGSYS handler
 * reports, parent the pid that forked it (it dies with it).
 */
void	child_run(const struct child_desc *d, int fd, int trap_fd, pid_t parent)
	    __attribute__((__noreturn__));
/*
 * Forks a process that runs child_run(d, ...): 0 with its pid, the
 * caller's end of its channel and the read end of its SIGSYS report pipe,
 * or -errno.  The caller has run child_preload() once: the child inherits
 * what it loaded and reads no file for it.
 */
int	child_fork(const struct child_desc *d, pid_t *pid, int *chan_fd, int *trap_fd);
/*
 * Loads what libraries read from files on first use (time zone, OpenSSL's
 * configuration, libgcc_s), before a sandbox takes the files away.
 */
void	child_preload(void);
#ifdef HUSH_TEST_HOOKS
/* HUSH_TEST_SANDBOX's faults for the process named role (child_run.c). */
void	child_test_faults_arm(const char *role);
#endif

#endif
