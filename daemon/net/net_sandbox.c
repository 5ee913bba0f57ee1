/*
 * What the net process may do: TCP with TLS (OpenSSL) to and from other
 * nodes, and the socketpairs that carry plaintext streams to the parent
 * and the raft process.  Its certificate and key come over the channel
 * from the parent: it reads no file (not the state dir) and executes
 * nothing.
 */
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
	/* OpenSSL asks how much memory there is for its secure heap */
	SB_CALL("sysinfo"),
	SB_END
};

const struct sandbox_policy net_sandbox = {
	.role = "net",
	.calls = net_calls,
	.fs = SB_FS_NONE,
	.tcp = true,
};
