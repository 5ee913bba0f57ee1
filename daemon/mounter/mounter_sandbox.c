/*
 * What the mounter process may do: build tmpfs mounts with the new mount
 * API, write secret files into them, and attach them inside containers'
 * mount namespaces from a forked, single-threaded helper (fork + setns,
 * never exec); watch process exits through the netlink proc connector;
 * read /proc for the containers' pids and namespaces.
 *
 * Landlock: none.  The kernel refuses mount(), move_mount() and every
 * other mount-topology change to a process whose Landlock domain handles
 * file access; any Landlock domain, even one that only restricts TCP,
 * refuses ptrace-mode access to processes outside it, which is what
 * opening a container's /proc/PID/ns/mnt is; and the paths it must reach
 * -- any container's rootfs, wherever a runtime put it -- are not known in
 * advance anyway.  What confines it instead is this list: no network (no
 * connect(), and socket() only for the netlink proc connector), no exec,
 * no new namespaces, setns into mount namespaces only; and openat2 with
 * RESOLVE_IN_ROOT for paths inside a container.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>

#include "mounter.h"
#include "sandbox.h"

#define NEW_NAMESPACES	(CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
			 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWTIME)

static const struct sandbox_call mounter_calls[] = {
	/* exit, SIGSYS report, memory, locks, random, clocks (sandbox.h) */
	SANDBOX_BASE_CALLS,
	/* the channel to the parent, and socketpairs to its helpers */
	SB_CALL("recvmsg"), SB_CALL("sendmsg"), SB_CALL("poll"),
	SB_ARG("socketpair", 0, AF_UNIX),
	/* process exit events: the netlink proc connector (libmnl) */
	SB_ARG2("socket", 0, AF_NETLINK, 2, NETLINK_CONNECTOR),
	SB_CALL("bind"), SB_CALL("getsockname"), SB_CALL("setsockopt"),
	SB_CALL("sendto"), SB_CALL("recvfrom"),
	/* a tmpfs through the mount API, attached in a container */
	SB_CALL("fsopen"), SB_CALL("fsconfig"), SB_CALL("fsmount"), SB_CALL("fspick"),
	SB_CALL("open_tree"), SB_CALL("mount_setattr"), SB_CALL("move_mount"),
	SB_CALL("umount2"),
	SB_ARG("setns", 1, CLONE_NEWNS),
	/* the helper that enters a container's namespace: fork, no exec */
	SB_NONE_OF("clone", 0, NEW_NAMESPACES | CLONE_THREAD), SB_FAIL("clone3", ENOSYS),
	SB_CALL("set_robust_list"), SB_CALL("wait4"), SB_CALL("pipe2"),
	/* does a container's process still exist?  (signal 0 only) */
	SB_ARG("kill", 1, 0),
	/*
	 * A container's process pinned: a pidfd of a pid, which the helper
	 * enters (setns above takes it) and which, polled, says whether what
	 * /proc/PID showed was still that process.
	 */
	SB_CALL("pidfd_open"),
	/* the helper's deadline, on itself (secretfs_ns.c) */
	SB_CALL("alarm"),
	/* files: /proc, container paths, the secret files it writes */
	SB_CALL("openat"), SB_CALL("openat2"), SB_CALL("read"), SB_CALL("write"),
	SB_CALL("close_range"), SB_CALL("dup"), SB_CALL("fcntl"),
	SB_CALL("newfstatat"), SB_CALL("fstat"), SB_CALL("statx"), SB_CALL("fstatfs"),
	SB_CALL("getdents64"), SB_CALL("readlinkat"), SB_CALL("mkdirat"),
	SB_CALL("symlinkat"), SB_CALL("renameat"), SB_CALL("renameat2"),
	SB_CALL("unlinkat"), SB_CALL("fchmod"), SB_CALL("fchmodat"), SB_CALL("fchown"),
	SB_CALL("fchownat"), SB_CALL("umask"),
	/* the helper unmounts a stale mount by its fd: fchdir + umount2(".") */
	SB_CALL("fchdir"),
	SB_END
};

const struct sandbox_policy mounter_sandbox = {
	.role = "mounter",
	.calls = mounter_calls,
	.fs = SB_NO_LANDLOCK,
	.tcp = true,		/* no Landlock; socket() is limited above */
};
