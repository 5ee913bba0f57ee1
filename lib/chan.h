/*
 * A message channel over a SOCK_SEQPACKET socket: privsep socketpairs and
 * the control socket.  One logical message (lib/wire.h framing) travels as
 * one or more datagrams of at most CHAN_CHUNK bytes, so a 512 KiB secret
 * never depends on raising socket buffer limits (which needs privilege).
 *
 * Each channel has its own maximum message size and says whether it may
 * carry a file descriptor; a peer that breaks either rule, or the framing,
 * has violated the protocol.  The reader decides what follows: the parent
 * and the control socket close the channel, a child drops the message and
 * reads on (daemon/privsep/from_parent.c).
 */
#ifndef HUSH_CHAN_H
#define HUSH_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAN_CHUNK (32u * 1024)

struct chan_out;

struct chan {
	int		 fd;
	const char	*name;		/* for log lines: "raft", "pki", "control" */
	size_t		 max_msg;
	bool		 allow_fds;
	/* reassembly of the message being received */
	uint8_t		*rbuf;
	size_t		 rlen, rneed;
	int		 rfd;
	/* what the header of a message refused as too big claimed, in bytes */
	size_t		 refused_len;
	/* outbound queue, flushed when the socket is writable */
	struct chan_out	*out_head, *out_tail;
	size_t		 out_bytes;
};

/* A received message; owns buf (wiped on free) and fd (-1 if none). */
struct chan_msg {
	uint8_t	*buf;
	size_t	 len;
	int	 fd;
};

void	chan_init(struct chan *c, int fd, const char *name, size_t max_msg, bool allow_fds);
/* Closes the socket, drops queued output and any half-received message. */
void	chan_close(struct chan *c);

/*
 * Queue a message (a complete wire message) and an optional fd to pass with
 * it (-1 for none; the fd is dup'ed, the caller keeps its own), then try to
 * send.  Returns 0 when queued or sent; <0 on a dead socket.
 */
__attribute__((warn_unused_result))
int	chan_send(struct chan *c, const uint8_t *msg, size_t len, int fd);
/* Send what is queued; 0 when the queue is empty, HUSH_E_UNAVAIL if the
 * socket is full, <0 if the peer is gone. */
__attribute__((warn_unused_result))
int	chan_flush(struct chan *c);
bool	chan_pending(const struct chan *c);

/*
 * Read one datagram.  Returns 1 and fills *m when a whole message has
 * arrived, 0 if more datagrams are needed or nothing was there (EAGAIN),
 * HUSH_E_IO on orderly EOF, or another negative code for a protocol
 * violation; the datagram that broke the rule is gone from the socket
 * either way.
 */
int	chan_recv(struct chan *c, struct chan_msg *m);
void	chan_msg_free(struct chan_msg *m);

/*
 * Throws away every datagram waiting on the socket (and any fd one
 * carries), at most max of them; the number thrown away.  Before closing
 * a socket whose peer may still be sending: a Unix socket closed with
 * unread data resets its peer, which may then never read the reply it
 * was sent.  Shut the socket for reading first, so that the peer stops.
 */
size_t	chan_discard_input(struct chan *c, size_t max);

/* Blocking helpers for single-purpose processes and the CLI. */
__attribute__((warn_unused_result))
int	chan_send_wait(struct chan *c, const uint8_t *msg, size_t len, int fd);
int	chan_recv_wait(struct chan *c, struct chan_msg *m, int timeout_ms);

#endif
