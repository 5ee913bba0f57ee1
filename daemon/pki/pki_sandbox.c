/*
 * What the pki process may do.  It holds the root CA key and parses CSRs
 * that came from the network (through the parent), so it gets the least:
 * its socketpair to the parent, memory and random bytes.  It opens no file
 * and no socket, and executes nothing.
 */
#include <sys/socket.h>
#include <unistd.h>

#include "pki.h"
#include "sandbox.h"

static const struct sandbox_call pki_calls[] = {
	/* exit, SIGSYS report, memory, locks, random, clocks (sandbox.h) */
	SANDBOX_BASE_CALLS,
	/* the socketpair to the parent: one message per call, no fds */
	SB_CALL("recvmsg"), SB_CALL("sendmsg"), SB_CALL("read"), SB_CALL("poll"),
	/* the log */
	SB_ARG("write", 0, STDERR_FILENO),
	SB_END
};

const struct sandbox_policy pki_sandbox = {
	.role = "pki",
	.calls = pki_calls,
	/* Not one file: OpenSSL's configuration is read before (child.c). */
	.fs = SB_FS_NONE,
	.tcp = false,
};
