/*
 * Process exits from the proc connector; see procwatch.h.  The datagrams
 * come from the kernel, but they are still parsed as bytes of unknown
 * shape: every length is checked against what was received before a
 * field is read, and nothing is read through a cast of the buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "err.h"
#include "netlink.h"
#include "procwatch.h"

/* Room for bursts of exits (each datagram is ~80 bytes) between reads. */
#define PROCWATCH_RCVBUF	(1024 * 1024)
/* One datagram: the kernel sends one event per datagram, ~100 bytes. */
#define PROCWATCH_BUF		8192

/* What an exit event occupies: the header of proc_event plus its exit part. */
#define EXIT_EVENT_LEN	(offsetof(struct proc_event, event_data) + \
			    sizeof(((struct proc_event *)0)->event_data.exit))

/* Ask the kernel to start (LISTEN) or stop (IGNORE) sending us events. */
static int
send_op(int fd, uint32_t portid, enum proc_cn_mcast_op op)
{
	uint8_t buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))] __attribute__((aligned(8)));
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nlh;
	struct cn_msg *cn;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_pid = portid;
	cn = mnl_nlmsg_put_extra_header(nlh, sizeof(*cn) + sizeof(op));
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -1;
	return 0;
}

static int
open_here(struct procwatch *w, char *why, size_t whylen)
{
	struct mnl_socket *nl;
	int size = PROCWATCH_RCVBUF, fd, e;

	w->fd = -1;
	w->portid = 0;
	if ((nl = mnl_socket_open2(NETLINK_CONNECTOR, SOCK_NONBLOCK | SOCK_CLOEXEC)) == NULL) {
		snprintf(why, whylen, "cannot open the proc connector: %s", strerror(errno));
		return HUSH_E_SYS;
	}
	fd = mnl_socket_get_fd(nl);
	/* FORCE needs CAP_NET_ADMIN, which listening needs anyway. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (mnl_socket_bind(nl, CN_IDX_PROC, MNL_SOCKET_AUTOPID) != 0) {
		snprintf(why, whylen, "cannot join the proc connector's group: %s",
		    strerror(errno));
		goto fail;
	}
	if (send_op(fd, mnl_socket_get_portid(nl), PROC_CN_MCAST_LISTEN) != 0) {
		snprintf(why, whylen, "cannot subscribe to process events: %s%s", strerror(errno),
		    errno == EPERM ? " (needs CAP_NET_ADMIN in the initial network namespace)" :
		    "");
		goto fail;
	}
	/* Keep the descriptor only: reads go through recvmsg() to see the sender. */
	w->portid = mnl_socket_get_portid(nl);
	if ((w->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		snprintf(why, whylen, "cannot keep the proc connector: %s", strerror(errno));
		goto fail;
	}
	mnl_socket_close(nl);
	return 0;
fail:
	/* procwatch_open() looks at why the kernel said no */
	e = errno;
	mnl_socket_close(nl);
	errno = e;
	return HUSH_E_SYS;
}

/*
 * The kernel serves the proc connector in the initial network namespace
 * only: from any other the subscription is refused with ECONNREFUSED.
 * Entering init's namespace for the socket would need /proc/1/ns/net,
 * which hardened hosts (and this project's CI machine) refuse even to
 * root, so say plainly where hushd must run instead.
 */
int
procwatch_open(struct procwatch *w, char *why, size_t whylen)
{
	int r;

	if ((r = open_here(w, why, whylen)) != 0 && errno == ECONNREFUSED)
		snprintf(why, whylen, "the kernel's proc connector answers in the initial "
		    "network namespace only; run hushd in the host's network namespace");
	return r;
}

void
procwatch_close(struct procwatch *w)
{
	if (w->fd < 0)
		return;
	/* The kernel counts listeners system-wide and emits events while the
	 * count is not zero: give ours back. */
	(void)send_op(w->fd, w->portid, PROC_CN_MCAST_IGNORE);
	close(w->fd);
	w->fd = -1;
}

/* One cn_msg payload of `len` bytes at p. */
static int
parse_cn(const uint8_t *p, size_t len, procwatch_exit_fn fn, void *arg)
{
	struct cn_msg cn;
	struct proc_event ev;

	if (len < sizeof(cn))
		return HUSH_E_FORMAT;
	memcpy(&cn, p, sizeof(cn));
	if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC)
		return 0;		/* another connector's message: not ours to read */
	if (cn.len > len - sizeof(cn) ||
	    cn.len < offsetof(struct proc_event, event_data))
		return HUSH_E_FORMAT;
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, p + sizeof(cn), cn.len < sizeof(ev) ? cn.len : sizeof(ev));
	if (ev.what != PROC_EVENT_EXIT)
		return 0;
	if (cn.len < EXIT_EVENT_LEN)
		return HUSH_E_FORMAT;
	/* A thread's exit is not the process's: only the leader's counts. */
	if (ev.event_data.exit.process_pid != ev.event_data.exit.process_tgid ||
	    ev.event_data.exit.process_pid <= 0)
		return 0;
	fn(arg, ev.event_data.exit.process_pid, ev.event_data.exit.exit_code,
	    ev.event_data.exit.exit_signal);
	return 1;
}

/* The walk is netlink.c's: see there why it is not libmnl's. */
int
procwatch_parse(const uint8_t *buf, size_t len, procwatch_exit_fn fn, void *arg)
{
	struct nlmsghdr h;
	const uint8_t *payload;
	size_t off = 0, plen;
	int n = 0, r;

	/* Every header first: a bad datagram reports nothing. */
	if (len > PROCWATCH_BUF || nl_check(buf, len) != 0)
		return HUSH_E_FORMAT;
	while (nl_next(buf, len, &off, &h, &payload, &plen)) {
		if (h.nlmsg_type == NLMSG_ERROR || h.nlmsg_type == NLMSG_NOOP)
			continue;
		if ((r = parse_cn(payload, plen, fn, arg)) < 0)
			return r;
		n += r;
	}
	return n;
}

int
procwatch_read(struct procwatch *w, procwatch_exit_fn fn, void *arg)
{
	uint8_t buf[PROCWATCH_BUF] __attribute__((aligned(8)));
	size_t got;
	int n = 0, r;
	bool lost = false;

	/* Only the kernel speaks on this group; a cut datagram is lost. */
	for (;;) {
		r = nl_recv_kernel(w->fd, buf, sizeof(buf), 0, &got);
		if (r == -EINTR || r == NL_RECV_FOREIGN)
			continue;
		if (r == -ENOBUFS || r == NL_RECV_CUT) {
			lost = true;
			continue;
		}
		if (r == -EAGAIN || r == -EWOULDBLOCK)
			break;
		if (r < 0)
			return HUSH_E_SYS;
		if ((r = procwatch_parse(buf, got, fn, arg)) < 0)
			lost = true;
		else
			n += r;
	}
	return lost ? HUSH_E_TRUNCATED : n;
}
