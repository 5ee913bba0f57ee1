#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chan.h"
#include "err.h"
#include "lockmem.h"
#include "wire.h"

struct chan_out {
	struct chan_out	*next;
	uint8_t		*buf;
	size_t		 len, off;
	int		 fd;		/* passed with the first chunk */
};

void
chan_init(struct chan *c, int fd, const char *name, size_t max_msg, bool allow_fds)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->name = name;
	c->max_msg = max_msg < WIRE_MAX_MSG ? max_msg : WIRE_MAX_MSG;
	c->allow_fds = allow_fds;
	c->rfd = -1;
}

static void
reset_rx(struct chan *c)
{
	/* Nothing is read past rneed, the size it was allocated for. */
	lockmem_free_used(c->rbuf, c->rneed);
	c->rbuf = NULL;
	c->rlen = c->rneed = 0;
	if (c->rfd >= 0)
		close(c->rfd);
	c->rfd = -1;
}

void
chan_close(struct chan *c)
{
	struct chan_out *o, *next;

	for (o = c->out_head; o != NULL; o = next) {
		next = o->next;
		lockmem_free_used(o->buf, o->len);
		if (o->fd >= 0)
			close(o->fd);
		free(o);
	}
	c->out_head = c->out_tail = NULL;
	c->out_bytes = 0;
	reset_rx(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

bool
chan_pending(const struct chan *c)
{
	return c->out_head != NULL;
}

int
chan_send(struct chan *c, const uint8_t *msg, size_t len, int fd)
{
	struct chan_out *o;
	int r;

	if (c->fd < 0)
		return HUSH_E_IO;
	if (len < WIRE_HDR_LEN || len > c->max_msg)
		return HUSH_E_TOOBIG;
	if (fd >= 0 && !c->allow_fds)
		return HUSH_E_INVAL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return HUSH_E_NOMEM;
	if ((o->buf = lockmem_alloc(len)) == NULL) {
		free(o);
		return HUSH_E_NOMEM;
	}
	memcpy(o->buf, msg, len);
	o->len = len;
	o->fd = -1;
	if (fd >= 0 && (o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		lockmem_free(o->buf);
		free(o);
		return HUSH_E_SYS;
	}
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += len;
	r = chan_flush(c);
	return r == HUSH_E_UNAVAIL ? 0 : r;
}

static ssize_t
send_chunk(int sock, const uint8_t *p, size_t n, int fd)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *cmsg;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)p;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int
chan_flush(struct chan *c)
{
	struct chan_out *o;
	ssize_t n;
	size_t want;

	while ((o = c->out_head) != NULL) {
		want = o->len - o->off;
		if (want > CHAN_CHUNK)
			want = CHAN_CHUNK;
		n = send_chunk(c->fd, o->buf + o->off, want, o->off == 0 ? o->fd : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				return HUSH_E_UNAVAIL;
			return HUSH_E_IO;
		}
		/* SEQPACKET sends all or nothing. */
		if ((size_t)n != want)
			return HUSH_E_IO;
		if (o->off == 0 && o->fd >= 0) {
			close(o->fd);
			o->fd = -1;
		}
		o->off += want;
		if (o->off == o->len) {
			c->out_head = o->next;
			if (c->out_head == NULL)
				c->out_tail = NULL;
			c->out_bytes -= o->len;
			lockmem_free_used(o->buf, o->len);
			free(o);
		}
	}
	return 0;
}

/* Pull at most one fd out of the control data; anything else is a violation. */
static int
take_fds(struct chan *c, struct msghdr *mh, bool first, int *fd_out)
{
	struct cmsghdr *cmsg;
	int bad = 0, nfd = 0, fds[8];
	size_t i, n;

	*fd_out = -1;
	if (mh->msg_flags & MSG_CTRUNC)
		bad = 1;
	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL; cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
			if (nfd < (int)(sizeof(fds) / sizeof(fds[0])))
				fds[nfd++] = fd;
			else
				close(fd);
			bad = bad || !first || !c->allow_fds || nfd > 1;
		}
	}
	if (bad) {
		for (i = 0; i < (size_t)nfd; i++)
			close(fds[i]);
		return HUSH_E_PROTO;
	}
	if (nfd == 1)
		*fd_out = fds[0];
	return 0;
}

/*
 * One datagram (or a peek at one) into buf, with room for ctllen bytes of
 * control data; recvmsg(), not recv(): the sandboxes allow the one call.
 */
static ssize_t
recv_dgram(int fd, struct msghdr *mh, struct iovec *iov, void *buf, size_t len,
    void *ctl, size_t ctllen, int flags)
{
	ssize_t n;

	memset(mh, 0, sizeof(*mh));
	iov->iov_base = buf;
	iov->iov_len = len;
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
	mh->msg_control = ctl;
	mh->msg_controllen = ctllen;
	do {
		n = recvmsg(fd, mh, MSG_DONTWAIT | flags);
	} while (n < 0 && errno == EINTR);
	return n;
}

/*
 * Takes a refused datagram off the socket and closes what it carried;
 * recvmsg()'s result (0 at the end of the stream).
 */
static ssize_t
drop_datagram(struct chan *c)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int) * 8)];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cmsg;
	uint8_t b[1];
	size_t i, n;
	ssize_t got;

	if ((got = recv_dgram(c->fd, &mh, &iov, b, sizeof(b), cm.buf, sizeof(cm.buf),
	    MSG_CMSG_CLOEXEC | MSG_TRUNC)) < 0)
		return got;
	for (cmsg = CMSG_FIRSTHDR(&mh); cmsg != NULL; cmsg = CMSG_NXTHDR(&mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
	return got;
}

size_t
chan_discard_input(struct chan *c, size_t max)
{
	size_t n = 0;

	reset_rx(c);
	while (c->fd >= 0 && n < max && drop_datagram(c) > 0)
		n++;
	return n;
}

/*
 * Starts a message: peeks at its header alone (no file descriptors come
 * with a peek that offers no room for them) so that the message can go
 * straight into locked memory of its own size, never through the stack.
 * Returns 1 when c->rbuf is ready, 0 if nothing is waiting, or an error.
 */
static int
start_rx(struct chan *c)
{
	uint8_t hb[WIRE_HDR_LEN];
	struct msghdr mh;
	struct iovec iov;
	struct wire_hdr hdr;
	ssize_t n;
	size_t total;
	int r;

	if ((n = recv_dgram(c->fd, &mh, &iov, hb, sizeof(hb), NULL, 0, MSG_PEEK)) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return HUSH_E_IO;
	}
	/* SEQPACKET: a zero-length read is the peer closing. */
	if (n == 0)
		return HUSH_E_IO;
	if ((r = wire_peek_hdr(hb, (size_t)n, &hdr)) == 0) {
		total = (size_t)WIRE_HDR_LEN + hdr.length;
		if (hdr.length > c->max_msg || total > c->max_msg) {
			c->refused_len = total;
			r = HUSH_E_TOOBIG;
		}
		else if ((c->rbuf = lockmem_alloc(total)) == NULL)
			r = HUSH_E_NOMEM;
	}
	if (r != 0) {
		drop_datagram(c);
		return r;
	}
	c->rneed = total;
	c->rlen = 0;
	return 1;
}

int
chan_recv(struct chan *c, struct chan_msg *m)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;
	size_t want;
	bool first;
	int fd, r;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (c->fd < 0)
		return HUSH_E_IO;
	if (c->rbuf == NULL && (r = start_rx(c)) <= 0) {
		if (r < 0)
			reset_rx(c);
		return r;
	}
	first = c->rlen == 0;
	want = c->rneed - c->rlen;
	if (want > CHAN_CHUNK)
		want = CHAN_CHUNK;
	if ((n = recv_dgram(c->fd, &mh, &iov, c->rbuf + c->rlen, want, cm.buf,
	    sizeof(cm.buf), MSG_CMSG_CLOEXEC)) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return HUSH_E_IO;
	}
	if ((r = take_fds(c, &mh, first, &fd)) != 0)
		goto violation;
	/* Longer than the header promised, or than a chunk. */
	if (mh.msg_flags & MSG_TRUNC) {
		r = HUSH_E_PROTO;
		goto violation_fd;
	}
	if (n == 0) {
		if (fd >= 0)
			close(fd);
		return first ? HUSH_E_IO : HUSH_E_TRUNCATED;
	}
	/* Only a full-sized chunk may be followed by more. */
	if ((size_t)n < want) {
		r = first ? HUSH_E_TRUNCATED : HUSH_E_PROTO;
		goto violation_fd;
	}
	if (first)
		c->rfd = fd;
	c->rlen += (size_t)n;
	if (c->rlen < c->rneed)
		return 0;

	m->buf = c->rbuf;
	m->len = c->rneed;
	m->fd = c->rfd;
	c->rbuf = NULL;
	c->rlen = c->rneed = 0;
	c->rfd = -1;
	return 1;

violation_fd:
	if (fd >= 0)
		close(fd);
violation:
	reset_rx(c);
	return r;
}

void
chan_msg_free(struct chan_msg *m)
{
	lockmem_free_used(m->buf, m->len);
	m->buf = NULL;
	m->len = 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return HUSH_E_SYS;
	if (n == 0)
		return HUSH_E_TIMEOUT;
	return 0;
}

int
chan_send_wait(struct chan *c, const uint8_t *msg, size_t len, int fd)
{
	int r;

	if ((r = chan_send(c, msg, len, fd)) != 0)
		return r;
	while ((r = chan_flush(c)) == HUSH_E_UNAVAIL)
		if ((r = wait_fd(c->fd, POLLOUT, -1)) != 0)
			return r;
	return r;
}

int
chan_recv_wait(struct chan *c, struct chan_msg *m, int timeout_ms)
{
	int r;

	for (;;) {
		if ((r = chan_recv(c, m)) != 0)
			return r;
		if ((r = wait_fd(c->fd, POLLIN, timeout_ms)) != 0)
			return r;
	}
}
