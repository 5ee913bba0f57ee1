/*
 * Fixtures for the tests that mount things as root against the real
 * kernel (test_secretfs, test_daemon_mounter): a private place to mount
 * in, and a "container" to mount into.
 */
#ifndef HUSH_TEST_NS_FIXTURE_H
#define HUSH_TEST_NS_FIXTURE_H

#include <sys/types.h>

/*
 * Moves this process into a mount namespace of its own, private all the
 * way down, and mounts a tmpfs on a new directory made from dir (a
 * mkdtemp() template, rewritten in place): nothing mounted here can reach
 * the host, which only ever sees an empty directory come and go.  NULL,
 * or the step that failed with errno set.
 */
const char	*ns_private_tmpdir(char *dir);

/* Undoes ns_private_tmpdir(), whatever is still mounted below dir. */
void		 ns_tmpdir_remove(const char *dir);

/*
 * A "container": a forked child in a mount namespace of its own (a copy
 * of ours), blocked until its pipe closes; we look into it through
 * /proc/PID/root and /proc/PID/mountinfo.
 */
struct ns_ctr {
	pid_t	 pid;		/* holds its mount namespace; -1: none */
	int	 pidfd;		/* pins pid, as the hook's does */
	int	 pipe;		/* closing it ends the container */
};

void	ns_ctr_init(struct ns_ctr *c);

/*
 * Starts c; the child closes keep_out first (-1: none), a descriptor
 * whose other end must see EOF when this process closes its copy.
 * Fails the running test if the child cannot start.
 */
void	ns_ctr_start(struct ns_ctr *c, int keep_out);

/* Ends c and waits for it; nothing if it is not running. */
void	ns_ctr_stop(struct ns_ctr *c);

/* Waits for pid and returns its exit status; a death fails the test. */
int	ns_wait_child(pid_t pid);

#endif
