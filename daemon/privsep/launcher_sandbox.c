/*
 * What the launcher may do.  Its filter is inherited by every child it
 * forks, which stack their own on top, so the filter it installs
 * (kmod-free/sandbox.c, sandbox_apply_union()) allows what this list
 * allows plus everything any child's list allows -- and nothing else:
 * no execve, ptrace, bpf, module loading or keyring-wide calls anywhere in
 * hushd.  This list is the launcher's own work and what a new child does
 * before its own filter (daemon/privsep/child_run.c): close inherited fds,
 * leave the session keyring, set its limits, drop capabilities or switch
 * user, and install Landlock and seccomp.  The libraries' lazily read
 * files are loaded before this filter (child_preload()), once, and the
 * children inherit them.
 */
#include <sched.h>

#include "launcher.h"
#include "sandbox.h"

const struct sandbox_call launcher_calls[] = {
	/* exit, SIGSYS report, memory, locks, random, clocks (sandbox.h) */
	SANDBOX_BASE_CALLS,
	/* its loop: the parent's requests, signalfd, children's exits */
	SB_CALL("poll"), SB_CALL("read"), SB_CALL("write"),
	SB_CALL("recvfrom"), SB_CALL("sendmsg"),
	SB_CALL("wait4"), SB_CALL("kill"),
	/* a new child: fork (into no new namespace), its channel and pipe */
	SB_NONE_OF("clone", 0, CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
	    CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP),
	SB_CALL("set_robust_list"),	/* glibc's fork, in the new child */
	SB_CALL("socketpair"), SB_CALL("pipe2"),
	SB_CALL("fcntl"),
	/* ... then in the child, up to its own filter */
	SB_CALL("close_range"), SB_CALL("openat"), SB_CALL("dup2"),	/* /dev/null */
	SB_CALL("getppid"), SB_CALL("rt_sigaction"), SB_CALL("prctl"),
	SB_CALL("chdir"),		/* child_desc.workdir, else "/" */
	SB_CALL("keyctl"),		/* a session keyring of its own */
	SB_CALL("prlimit64"),		/* RLIMIT_CORE 0 */
	SB_CALL("capget"), SB_CALL("capset"),
	SB_CALL("setgroups"), SB_CALL("setresgid"), SB_CALL("setresuid"),
	SB_CALL("setuid"), SB_CALL("setgid"),	/* caps.c: a setuid(0) that works is a bug */
	SB_CALL("getresgid"), SB_CALL("getresuid"), SB_CALL("getuid"), SB_CALL("geteuid"),
	SB_CALL("getgid"), SB_CALL("getegid"), SB_CALL("getgroups"),
	SB_CALL("landlock_create_ruleset"), SB_CALL("landlock_add_rule"),
	SB_CALL("landlock_restrict_self"), SB_CALL("seccomp"),
	SB_END
};
