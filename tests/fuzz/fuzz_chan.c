/*
 * libFuzzer harness for the receiving side of lib/chan.c.  The input is a
 * channel configuration byte followed by datagrams, each
 *
 *	u8 flags | u16 length (big-endian, capped at CHAN_CHUNK) | bytes
 *
 * written with sendmsg() into one end of a fresh SOCK_SEQPACKET socketpair
 * (non-blocking: writing stops when the socket is full), optionally with
 * one or two descriptors attached.  The other end is drained with
 * chan_recv() until it reports a violation or EOF.  Whatever arrives must
 * be a complete message, and no descriptor may outlive the input.
 *
 *	config bit 0:	the channel accepts descriptors
 *	config bit 1:	max_msg is 4 KiB instead of 600 KiB
 *	config bit 2:	close the sending end after writing (EOF paths)
 *	flags bit 0:	attach one descriptor; bit 1: attach another
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "chan.h"
#include "err.h"
#include "wire.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DGRAMS	64

#define FD_WATCH	64	/* descriptors below this are compared per input */

static int devnull = -1;
/*
 * Taken afresh for every input: between two inputs libFuzzer itself may
 * open descriptors for good (the pipes to its symbolizer, the first time
 * it prints a NEW_FUNC), which are no leak of ours.
 */
static bool fd_open_before[FD_WATCH];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		abort();
	return 0;
}

/* Which of the low descriptors are open now. */
static void
fd_snapshot(bool open_now[FD_WATCH])
{
	for (int fd = 0; fd < FD_WATCH; fd++)
		open_now[fd] = fcntl(fd, F_GETFD) >= 0;
}

static bool
send_dgram(int sock, const uint8_t *p, size_t len, int nfds)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int) * 2)];
	} cm;
	struct cmsghdr *cmsg;
	int fds[2] = { devnull, devnull };
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)nfds);
	}
	do {
		n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n >= 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan rx;
	struct chan_msg m;
	struct wire_hdr hdr;
	size_t off = 1, len, max_msg;
	uint8_t config, flags;
	int sv[2], r, sent = 0, i, nfds;

	if (size < 1)
		return 0;
	fd_snapshot(fd_open_before);
	config = data[0];
	max_msg = (config & 2) ? 4096 : 600 * 1024;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	chan_init(&rx, sv[1], "fuzz", max_msg, (config & 1) != 0);

	while (sent < MAX_DGRAMS && size - off >= 3) {
		flags = data[off];
		len = ((size_t)data[off + 1] << 8) | data[off + 2];
		off += 3;
		if (len > CHAN_CHUNK)
			len = CHAN_CHUNK;
		if (len > size - off)
			len = size - off;
		nfds = (flags & 1) + ((flags >> 1) & 1);
		if (!send_dgram(sv[0], data + off, len, nfds))
			break;
		off += len;
		sent++;
	}
	if (config & 4) {
		close(sv[0]);
		sv[0] = -1;
	}

	/* One chan_recv per datagram, and one more for EOF or EAGAIN. */
	for (i = 0; i <= sent; i++) {
		r = chan_recv(&rx, &m);
		if (r < 0) {
			if (m.buf != NULL || m.fd != -1)
				abort();
			break;
		}
		if (r == 1) {
			if (m.len < WIRE_HDR_LEN || m.len > max_msg ||
			    wire_peek_hdr(m.buf, m.len, &hdr) != 0 ||
			    m.len != WIRE_HDR_LEN + (size_t)hdr.length)
				abort();
			if (m.fd >= 0 && (config & 1) == 0)
				abort();
			chan_msg_free(&m);
		} else if (m.buf != NULL || m.fd != -1)
			abort();
	}
	chan_close(&rx);
	if (sv[0] >= 0)
		close(sv[0]);
	/* Every descriptor that was passed has been closed again. */
	{
		bool now[FD_WATCH];

		fd_snapshot(now);
		if (memcmp(now, fd_open_before, sizeof(now)) != 0)
			abort();
	}
	return 0;
}
