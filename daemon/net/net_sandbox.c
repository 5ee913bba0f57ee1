/*
 * What the net process may do: TCP with TLS (OpenSSL) to and from other
 * nodes, and the socketpairs that carry plaintext streams to the parent
 * and the raft process.  Its certificate and key come over the channel
 * from the parent: it reads no file (not the state dir) but what glibc's
 * resolver needs to look a peer's name up, and executes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "net.h"
#include "sandbox.h"

static const struct sandbox_call net_calls[] = {
	/* exit, SIGSYS report, memory, locks, random, clocks (sandbox.h) */
	SANDBOX_BASE_CALLS,
	/* the channel to the parent, with fds */
	SB_CALL("recvmsg"), SB_CALL("sendmsg"), SB_CALL("poll"),
	/* TCP to and from peers: IPv4 and IPv6 only */
	SB_ARG("socket", 0, AF_INET), SB_ARG("socket", 0, AF_INET6),
	SB_CALL("bind"), SB_CALL("listen"), SB_CALL("accept4"), SB_CALL("connect"),
	SB_CALL("getsockopt"), SB_CALL("setsockopt"), SB_CALL("getsockname"),
	SB_CALL("getpeername"), SB_CALL("shutdown"), SB_CALL("fcntl"),
	SB_CALL("read"), SB_CALL("write"), SB_CALL("recvfrom"), SB_CALL("sendto"),
	/* the plaintext side of each relayed stream */
	SB_ARG("socketpair", 0, AF_UNIX),
	/* (sysinfo, which OpenSSL's secure heap asks too, is in the base list) */
	/*
	 * Peer names: getaddrinfo_a() resolves in helper threads, reads the
	 * resolver's files (Landlock: net_files below, read-only), asks the
	 * kernel which address families are configured (AI_ADDRCONFIG: a
	 * NETLINK_ROUTE dump) and queries DNS over UDP.  Its attempt to
	 * reach nscd is refused rather than trapped.
	 */
	SB_ALL_OF("clone", 0, CLONE_THREAD), SB_FAIL("clone3", ENOSYS),
	SB_CALL("set_robust_list"), SB_CALL("rseq"), SB_CALL("rt_sigaction"),
	SB_NONE_OF("openat", 2, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND),
	SB_CALL("newfstatat"), SB_CALL("fstat"), SB_CALL("lseek"), SB_CALL("uname"),
	SB_ARG2("socket", 0, AF_NETLINK, 2, NETLINK_ROUTE),
	SB_FAIL_ARG("socket", 0, AF_UNIX, EACCES),
	SB_CALL("sendmmsg"), SB_ARG("ioctl", 1, FIONREAD),
	SB_END
};

static const char *const net_files[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf",
	"/etc/gai.conf", NULL
};

const struct sandbox_policy net_sandbox = {
	.role = "net",
	.calls = net_calls,
	.fs = SB_FS_NONE,
	.ro_files = net_files,
	.tcp = true,
};
