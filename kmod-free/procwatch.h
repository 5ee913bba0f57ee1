/*
 * Process exits from the kernel's proc connector (NETLINK_CONNECTOR,
 * multicast group CN_IDX_PROC).  A container's secrets must be dropped when
 * the container ends even if its runtime never runs the poststop hook
 * (the runtime was killed, or the container was SIGKILLed and nobody
 * called `delete`), so the daemon watches for its init process to exit.
 *
 * The kernel drops events when the socket's buffer is full; procwatch_read
 * then returns HUSH_E_TRUNCATED and the caller must check every process it
 * tracks by other means (kill(pid, 0), /proc/PID/stat start time).
 */
#ifndef HUSH_PROCWATCH_H
#define HUSH_PROCWATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct procwatch {
	int		 fd;
	uint32_t	 portid;
};

/* A whole process (its thread-group leader) ended. */
typedef void (*procwatch_exit_fn)(void *arg, pid_t pid, uint32_t exit_code,
    uint32_t exit_signal);

/*
 * Works in the initial network namespace only; needs CAP_NET_ADMIN there
 * before Linux 6.6.
 */
int	procwatch_open(struct procwatch *w, char *why, size_t whylen);
void	procwatch_close(struct procwatch *w);

/*
 * Read what is queued without blocking and report exits.  Returns the
 * number of exits reported, HUSH_E_TRUNCATED when the kernel dropped
 * events, or another negative error.
 */
int	procwatch_read(struct procwatch *w, procwatch_exit_fn fn, void *arg);

/*
 * The parser procwatch_read uses on one datagram: netlink messages
 * carrying cn_msg carrying proc_event.  Anything malformed is refused
 * whole with HUSH_E_FORMAT; returns the number of exits reported.
 */
int	procwatch_parse(const uint8_t *buf, size_t len, procwatch_exit_fn fn, void *arg);

#endif
