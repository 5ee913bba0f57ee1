/* Netlink datagrams from the kernel; see netlink.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "netlink.h"

int
nl_recv_kernel(int fd, void *buf, size_t cap, int flags, size_t *got)
{
	struct sockaddr_nl from;
	struct iovec iov = { buf, cap };
	struct msghdr mh;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &from;
	mh.msg_namelen = sizeof(from);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if ((n = recvmsg(fd, &mh, flags)) < 0)
		return -errno;
	if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
		return NL_RECV_FOREIGN;
	if (mh.msg_flags & MSG_TRUNC)
		return NL_RECV_CUT;
	*got = (size_t)n;
	return 0;
}

/* The length of the message at off, with its padding if the datagram has it. */
static size_t
step_of(const struct nlmsghdr *h, size_t len, size_t off)
{
	return NLMSG_ALIGN(h->nlmsg_len) < len - off ? NLMSG_ALIGN(h->nlmsg_len) : len - off;
}

int
nl_check(const uint8_t *buf, size_t len)
{
	struct nlmsghdr h;
	size_t off;

	for (off = 0; off < len; off += step_of(&h, len, off)) {
		if (len - off < sizeof(h))
			return HUSH_E_FORMAT;
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			return HUSH_E_FORMAT;
	}
	return 0;
}

bool
nl_next(const uint8_t *buf, size_t len, size_t *off, struct nlmsghdr *h,
    const uint8_t **payload, size_t *plen)
{
	if (*off >= len)
		return false;
	memcpy(h, buf + *off, sizeof(*h));
	*payload = buf + *off + sizeof(*h);
	*plen = h->nlmsg_len - sizeof(*h);
	*off += step_of(h, len, *off);
	return true;
}
