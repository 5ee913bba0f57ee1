/*
 * lib/netlink.c: the walk over crafted datagrams (good, odd and
 * malformed), and the receive against real netlink sockets: the kernel's
 * answer (NETLINK_ROUTE), one cut short, and a datagram another process
 * sent to our port (NETLINK_USERSOCK), which must not pass as the
 * kernel's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/rtnetlink.h>

#include "err.h"
#include "netlink.h"

/* Appends a message of type with plen payload bytes of fill at *off. */
static void
put_msg(uint8_t *buf, size_t *off, uint16_t type, size_t plen, uint8_t fill)
{
	struct nlmsghdr h = { .nlmsg_len = (uint32_t)NLMSG_LENGTH(plen), .nlmsg_type = type };

	memcpy(buf + *off, &h, sizeof(h));
	memset(buf + *off + sizeof(h), fill, plen);
	*off += NLMSG_ALIGN(h.nlmsg_len);
}

static void
test_walk(void **state)
{
	uint8_t buf[256] __attribute__((aligned(8)));
	const uint8_t *payload;
	struct nlmsghdr h;
	size_t len = 0, off = 0, plen;

	(void)state;
	memset(buf, 0, sizeof(buf));
	put_msg(buf, &len, 20, 5, 0xaa);	/* padded to 8 */
	put_msg(buf, &len, 21, 3, 0xbb);
	assert_int_equal(nl_check(buf, len), 0);
	assert_true(nl_next(buf, len, &off, &h, &payload, &plen));
	assert_int_equal(h.nlmsg_type, 20);
	assert_int_equal(plen, 5);
	assert_ptr_equal(payload, buf + NLMSG_HDRLEN);
	assert_int_equal(payload[4], 0xaa);
	assert_true(nl_next(buf, len, &off, &h, &payload, &plen));
	assert_int_equal(h.nlmsg_type, 21);
	assert_int_equal(plen, 3);
	assert_int_equal(payload[0], 0xbb);
	assert_false(nl_next(buf, len, &off, &h, &payload, &plen));

	/* The last message's padding may be left out. */
	len -= 1;
	assert_int_equal(nl_check(buf, len), 0);
	off = 0;
	assert_true(nl_next(buf, len, &off, &h, &payload, &plen));
	assert_true(nl_next(buf, len, &off, &h, &payload, &plen));
	assert_int_equal(off, len);
	assert_false(nl_next(buf, len, &off, &h, &payload, &plen));

	/* Nothing is no message, and fine. */
	assert_int_equal(nl_check(buf, 0), 0);
	off = 0;
	assert_false(nl_next(buf, 0, &off, &h, &payload, &plen));
}

static void
test_malformed(void **state)
{
	uint8_t buf[256] __attribute__((aligned(8)));
	struct nlmsghdr h;
	size_t good = 0;

	(void)state;
	memset(buf, 0, sizeof(buf));
	put_msg(buf, &good, 20, 4, 0);

	/* a second message shorter than a header */
	assert_int_equal(nl_check(buf, good + 8), HUSH_E_FORMAT);
	/* a header claiming more than was received */
	memset(&h, 0, sizeof(h));
	h.nlmsg_len = 4096;
	memcpy(buf + good, &h, sizeof(h));
	assert_int_equal(nl_check(buf, good + 64), HUSH_E_FORMAT);
	/* a length with the top bit set (an int comparison would pass it) */
	h.nlmsg_len = 0xa0a0004cu;
	memcpy(buf + good, &h, sizeof(h));
	assert_int_equal(nl_check(buf, good + 64), HUSH_E_FORMAT);
	/* a header claiming less than itself, and zero (the walk would not move) */
	h.nlmsg_len = 8;
	memcpy(buf + good, &h, sizeof(h));
	assert_int_equal(nl_check(buf, good + 64), HUSH_E_FORMAT);
	h.nlmsg_len = 0;
	memcpy(buf + good, &h, sizeof(h));
	assert_int_equal(nl_check(buf, good + 64), HUSH_E_FORMAT);
	/* one byte short of its own length */
	h.nlmsg_len = 64;
	memcpy(buf + good, &h, sizeof(h));
	assert_int_equal(nl_check(buf, good + 63), HUSH_E_FORMAT);
	assert_int_equal(nl_check(buf, good + 64), 0);
}

/* Asks the kernel about the loopback link; its answer is ~1 KiB. */
static void
ask_route(int fd, uint32_t seq)
{
	struct {
		struct nlmsghdr	 h;
		struct ifinfomsg ifi;
	} req;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = seq;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = 1;
	assert_int_equal(sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&to,
	    sizeof(to)), (ssize_t)req.h.nlmsg_len);
}

static void
test_recv_kernel(void **state)
{
	uint8_t buf[8192] __attribute__((aligned(8)));
	const uint8_t *payload;
	struct nlmsghdr h;
	size_t got = 0, off = 0, plen;
	int fd;

	(void)state;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	assert_true(fd >= 0);
	assert_int_equal(nl_recv_kernel(fd, buf, sizeof(buf), MSG_DONTWAIT, &got), -EAGAIN);
	assert_int_equal(errno, EAGAIN);

	ask_route(fd, 7);
	assert_int_equal(nl_recv_kernel(fd, buf, sizeof(buf), 0, &got), 0);
	assert_true(got > NLMSG_HDRLEN + sizeof(struct ifinfomsg));
	assert_int_equal(nl_check(buf, got), 0);
	assert_true(nl_next(buf, got, &off, &h, &payload, &plen));
	assert_int_equal(h.nlmsg_type, RTM_NEWLINK);
	assert_int_equal(h.nlmsg_seq, 7);

	/* The same answer into too small a buffer is lost, not half read. */
	ask_route(fd, 8);
	got = 12345;
	assert_int_equal(nl_recv_kernel(fd, buf, 64, 0, &got), NL_RECV_CUT);
	assert_int_equal(got, 12345);
	assert_int_equal(nl_recv_kernel(fd, buf, sizeof(buf), MSG_DONTWAIT, &got), -EAGAIN);
	close(fd);
}

static void
test_recv_foreign(void **state)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	socklen_t alen = sizeof(a);
	uint8_t buf[256] __attribute__((aligned(8)));
	size_t off = 0, got = 12345;
	int rx, tx;

	(void)state;
	rx = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK);
	tx = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK);
	assert_true(rx >= 0 && tx >= 0);
	assert_int_equal(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(rx, (struct sockaddr *)&a, &alen), 0);
	assert_true(a.nl_pid != 0);

	/* A well-formed message, but from a process's port, not the kernel's. */
	memset(buf, 0, sizeof(buf));
	put_msg(buf, &off, NLMSG_NOOP, 4, 0);
	assert_int_equal(sendto(tx, buf, off, 0, (struct sockaddr *)&a, sizeof(a)),
	    (ssize_t)off);
	assert_int_equal(nl_recv_kernel(rx, buf, sizeof(buf), 0, &got), NL_RECV_FOREIGN);
	assert_int_equal(got, 12345);
	close(rx);
	close(tx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_recv_kernel),
		cmocka_unit_test(test_recv_foreign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
