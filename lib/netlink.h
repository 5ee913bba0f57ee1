/*
 * Datagrams from the kernel over netlink (the audit socket, the proc
 * connector), received and walked without libmnl's walk:
 * mnl_nlmsg_ok()/mnl_nlmsg_next() compare nlmsg_len as an int, so a
 * length of 2^31 or more passes the check and the walk leaves the buffer
 * (found by tests/fuzz/fuzz_procwatch.c).  Every header is checked
 * against what was received before anything is taken from a datagram,
 * and nothing is read through a cast of the buffer.
 */
#ifndef HUSH_NETLINK_H
#define HUSH_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

/* nl_recv_kernel()'s answers besides 0 and -errno. */
#define NL_RECV_FOREIGN	1	/* not from the kernel: dropped */
#define NL_RECV_CUT	2	/* longer than the buffer: lost */

/*
 * One datagram from netlink socket fd into buf[0..cap) (recvmsg() with
 * flags): 0 and its length in *got, NL_RECV_FOREIGN, NL_RECV_CUT, or a
 * negative errno (errno is left set too).  Only the kernel (port 0) is
 * listened to: another process may send to our port.
 */
int	nl_recv_kernel(int fd, void *buf, size_t cap, int flags, size_t *got);

/*
 * 0 if buf[0..len) is whole netlink messages, each header inside the
 * datagram and no shorter than itself (the last message's alignment
 * padding may be left out), else HUSH_E_FORMAT.  Nothing else is looked
 * at: what a message's payload must hold is the caller's to check.
 */
int	nl_check(const uint8_t *buf, size_t len);

/*
 * Steps through a datagram nl_check() accepted, *off from 0: the message
 * at *off, its header copied to *h and its payload, *plen bytes, at
 * *payload; *off moves to the next.  false at the end.
 */
bool	nl_next(const uint8_t *buf, size_t len, size_t *off, struct nlmsghdr *h,
	    const uint8_t **payload, size_t *plen);

#endif
