/*
 * What the raft process may do: libraft's disk I/O in the raft directory
 * (libuv's loop, Linux AIO, a thread pool) and its channel to the parent,
 * over which its peer streams arrive as socketpair fds.  It creates no
 * socket, connects nowhere and executes nothing.
 */
#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>

#include "raft_proc.h"
#include "sandbox.h"

static const struct sandbox_call raft_calls[] = {
	/* exit, SIGSYS report, memory, locks, random, clocks (sandbox.h) */
	SANDBOX_BASE_CALLS,
	/* the channel to the parent, and peer streams received as fds */
	SB_CALL("recvmsg"), SB_CALL("sendmsg"), SB_CALL("shutdown"),
	/* libuv's event loop */
	SB_CALL("epoll_create1"), SB_CALL("epoll_ctl"), SB_CALL("epoll_wait"),
	SB_CALL("epoll_pwait"), SB_CALL("eventfd2"), SB_CALL("pipe2"),
	SB_CALL("fcntl"), SB_ARG("ioctl", 1, FIONBIO), SB_CALL("dup"),
	/* libuv's thread pool (libraft's blocking file work): threads only */
	SB_ALL_OF("clone", 0, CLONE_THREAD), SB_FAIL("clone3", ENOSYS),
	SB_CALL("set_robust_list"), SB_CALL("rseq"), SB_CALL("sched_yield"),
	SB_PTR("prlimit64", 2, 0),	/* pthread reads RLIMIT_STACK */
	SB_CALL("rt_sigaction"),	/* glibc's own signals for threads */
	/* the raft directory (Landlock limits these to it) */
	SB_CALL("openat"), SB_CALL("newfstatat"), SB_CALL("statx"),
	SB_CALL("statfs"),	/* room left for the log (lib/disk_space.c) */
	SB_CALL("fstat"), SB_CALL("getdents64"), SB_CALL("lseek"),
	SB_CALL("read"), SB_CALL("pread64"), SB_CALL("preadv"),
	SB_CALL("write"), SB_CALL("writev"), SB_CALL("pwrite64"), SB_CALL("pwritev"),
	SB_CALL("fallocate"), SB_CALL("ftruncate"), SB_CALL("fsync"), SB_CALL("fdatasync"),
	SB_CALL("rename"), SB_CALL("renameat"), SB_CALL("linkat"),
	SB_CALL("unlink"), SB_CALL("unlinkat"), SB_CALL("mkdirat"),
	/* libraft writes segments with Linux AIO where the file system can */
	SB_CALL("io_setup"), SB_CALL("io_submit"), SB_CALL("io_getevents"),
	SB_CALL("io_destroy"),
	SB_END
};

/* libuv opens /dev/null at start to keep an fd in reserve. */
static const char *const raft_files[] = { "/dev/null", NULL };
/* Its working directory, raft_proc_dir (see child_desc.workdir). */
static const char *const raft_dirs[] = { ".", NULL };

const struct sandbox_policy raft_sandbox = {
	.role = "raft",
	.calls = raft_calls,
	.fs = SB_FS_DIRS,
	.rw_dirs = raft_dirs,
	.ro_files = raft_files,
	.tcp = false,
};
