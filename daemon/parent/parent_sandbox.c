/*
 * What the parent may do once it serves.  It holds every key and talks to
 * every other process, so it is the one an attacker on the control socket
 * or behind a compromised child would aim for; and, with the children
 * started by the launcher (daemon/privsep/launcher.c), it needs none of
 * their privileges.  It keeps:
 * - the audit capabilities it was started with (CAP_AUDIT_WRITE for the
 *   records, CAP_AUDIT_CONTROL to ask whether auditing is on) and nothing
 *   else -- no capability over file permissions, no CAP_SYS_ADMIN, no
 *   CAP_KILL (the launcher stops children);
 * - Landlock: its state dir, run dir and the control socket's directory,
 *   read-write; /proc read-only (container processes' start times and id
 *   maps); no TCP at all (net holds the network);
 * - the system calls below: no fork, execve, ptrace, mount or namespace
 *   call, no new socket but a route netlink one (the control socket and
 *   the audit socket are opened before), no kill.
 * Everything it opens at run time it opened once before confinement or
 * finds under those directories.
 */
#include <errno.h>
#include <libgen.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>

#include "caps.h"
#include "child.h"
#include "err.h"
#include "log.h"
#include "parent.h"
#include "sandbox.h"

static const struct sandbox_call parent_calls[] = {
	/* exit, SIGSYS report, memory, locks, random, clocks (sandbox.h) */
	SANDBOX_BASE_CALLS,
	/* the poll loop: control clients, children's channels, signalfd, timer */
	SB_CALL("poll"), SB_CALL("read"), SB_CALL("write"),
	SB_CALL("accept4"), SB_CALL("recvmsg"), SB_CALL("sendmsg"),
	/* a refused client's socket is shut for reading before it is closed */
	SB_CALL("shutdown"),
	SB_CALL("sendto"), SB_CALL("recvfrom"),	/* launcher, audit netlink */
	SB_ARG2("getsockopt", 1, SOL_SOCKET, 2, SO_PEERCRED),	/* who a client is */
	SB_CALL("fcntl"), SB_CALL("dup"),
	SB_CALL("getuid"), SB_CALL("geteuid"), SB_CALL("getgid"), SB_CALL("getegid"),
	/*
	 * getifaddrs(), for the address `hushctl init` advertises when not
	 * told one: a route netlink socket, which reads without privilege.
	 */
	SB_ARG2("socket", 0, AF_NETLINK, 2, NETLINK_ROUTE),
	SB_CALL("bind"), SB_CALL("getsockname"),
	/* the launcher, its one child: reaped when it dies */
	SB_CALL("wait4"),
	/* the kernel keyring: this node's keys */
	SB_CALL("keyctl"), SB_CALL("add_key"),
	/* state dir, run dir, /proc (Landlock limits these to them) */
	SB_CALL("openat"), SB_CALL("newfstatat"), SB_CALL("fstat"), SB_CALL("statx"),
	SB_CALL("statfs"),	/* free space in the state dir (lib/disk_space.c) */
	SB_CALL("lseek"), SB_CALL("getdents64"), SB_CALL("pread64"),
	SB_CALL("fsync"), SB_CALL("fdatasync"), SB_CALL("ftruncate"), SB_CALL("fchmod"),
	SB_CALL("rename"), SB_CALL("renameat"), SB_CALL("unlink"), SB_CALL("unlinkat"),
	SB_CALL("mkdir"), SB_CALL("mkdirat"), SB_CALL("flock"),
	SB_END
};

static char	state_dir[PATH_MAX], run_dir[PATH_MAX], control_dir[PATH_MAX];
static const char *const parent_dirs[] = { state_dir, run_dir, control_dir, NULL };
static const char *const parent_ro_dirs[] = { "/proc", NULL };

static const struct sandbox_policy parent_sandbox = {
	.role = "parent",
	.calls = parent_calls,
	.fs = SB_FS_DIRS,
	.rw_dirs = parent_dirs,
	.ro_dirs = parent_ro_dirs,
	.tcp = false,
	/* its leaks after start-up are most of hushd's: check them at exit */
	.lsan_at_exit = true,
};

/*
 * The audit capabilities it holds now: a hushd started without them (or a
 * test that took them away) must not get them back here.
 */
static int
limit_caps(void)
{
	const cap_value_t wanted[] = { CAP_AUDIT_WRITE, CAP_AUDIT_CONTROL };
	cap_value_t keep[2];
	cap_flag_value_t v;
	size_t n = 0;
	cap_t now;

	if ((now = cap_get_proc()) == NULL)
		return HUSH_E_SYS;
	for (size_t i = 0; i < 2; i++)
		if (cap_get_flag(now, wanted[i], CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
			keep[n++] = wanted[i];
	cap_free(now);
	return caps_limit(keep, n);
}

int
parent_confine(const struct hushd_config *cfg, int trap_fd)
{
	char sock[PATH_MAX];
	int r;

	snprintf(state_dir, sizeof(state_dir), "%s", cfg->state_dir);
	snprintf(run_dir, sizeof(run_dir), "%s", cfg->run_dir);
	snprintf(sock, sizeof(sock), "%s", cfg->control_socket);
	snprintf(control_dir, sizeof(control_dir), "%s", dirname(sock));
	if ((r = limit_caps()) != 0) {
		log_err("cannot limit the parent's capabilities");
		return r;
	}
	child_preload();
#ifdef HUSH_TEST_HOOKS
	child_test_faults_arm("parent");
#endif
	return sandbox_apply(&parent_sandbox, trap_fd);
}
