/*
 * Landlock and seccomp for hushd's children; the policies themselves live
 * beside each process (daemon/<process>/<process>_sandbox.c).
 *
 * Why the filter traps instead of killing outright (SCMP_ACT_KILL_PROCESS):
 * a process killed by the kernel leaves its parent a bare "signal 31" and
 * the system call only in the kernel's audit log, which the parent may not
 * be able to read.  With SCMP_ACT_TRAP the kernel delivers SIGSYS with the
 * call's number in siginfo; our handler -- installed before the filter,
 * async-signal-safe, and unable to stop the outcome -- writes that number
 * to a pipe the parent holds and re-raises SIGSYS with the default action,
 * so the process still dies by SIGSYS and the parent logs which call it
 * was.  The handler cannot be used to survive a trap: SA_RESETHAND has
 * already restored the default action when it runs, and a second trap
 * (from a call the handler itself is not allowed) kills at once.  A
 * foreign architecture is not trapped but killed (SCMP_FLTATR_ACT_BADARCH).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "sandbox.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

/*
 * Landlock's access rights by the ABI that introduced them; Debian's
 * headers may predate the newer ones, and the values are kernel ABI.
 */
#define LL_FS_V1	((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER	(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE	(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV	(1ULL << 15)		/* ABI 5 */
#define LL_FS_EXECUTE	(1ULL << 0)
#define LL_FS_READ_FILE	(1ULL << 2)
#define LL_FS_READ_DIR	(1ULL << 3)
#define LL_NET_BIND_TCP	(1ULL << 0)		/* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL	(1ULL << 1)
#define LL_RULE_PATH_BENEATH 1

/* struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix. */
struct ll_ruleset_attr {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;
	uint64_t	 scoped;
};

struct ll_path_beneath {
	uint64_t	 allowed_access;
	int32_t		 parent_fd;
} __attribute__((packed));

static int trap_report_fd = -1;

int
sandbox_report_fd(void)
{
	return trap_report_fd;
}

int
sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static int
landlock_add_path(int ruleset, const char *dir, uint64_t access)
{
	struct ll_path_beneath pb;
	int fd, r = 0;

	if ((fd = open(dir, O_PATH | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && access == LL_FS_READ_FILE)
			return 0;	/* an optional file, e.g. /etc/gai.conf */
		log_err("landlock: cannot open %s: %s", dir, strerror(errno));
		return HUSH_E_SYS;
	}
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) != 0) {
		log_err("landlock: cannot allow %s: %s", dir, strerror(errno));
		r = HUSH_E_SYS;
	}
	close(fd);
	return r;
}

static int
landlock_apply(const struct sandbox_policy *p)
{
	struct ll_ruleset_attr attr;
	uint64_t fs_all;
	size_t attr_size;
	int abi, ruleset, r = 0;

	if (p->fs == SB_NO_LANDLOCK)
		return 0;
	if ((abi = sandbox_landlock_abi()) < 1) {
		log_warn("the kernel offers no Landlock: the %s process runs without "
		    "file and network rules (hush-kcheck says why)", p->role);
		return 0;
	}
	fs_all = LL_FS_V1;
	if (abi >= 2)
		fs_all |= LL_FS_REFER;
	if (abi >= 3)
		fs_all |= LL_FS_TRUNCATE;
	if (abi >= 5)
		fs_all |= LL_FS_IOCTL_DEV;

	memset(&attr, 0, sizeof(attr));
	attr_size = sizeof(attr.handled_access_fs);
	attr.handled_access_fs = fs_all;
	if (abi >= 4) {
		attr_size = offsetof(struct ll_ruleset_attr, scoped);
		attr.handled_access_net = p->tcp ? 0 :
		    LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	}
	if (abi >= 6) {
		attr_size = sizeof(attr);
		/* No abstract unix sockets or signals outside the domain. */
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	}
	if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0)) < 0) {
		log_err("landlock_create_ruleset: %s", strerror(errno));
		return HUSH_E_SYS;
	}
	if (p->fs == SB_FS_DIRS && p->rw_dirs != NULL)
		for (size_t i = 0; r == 0 && p->rw_dirs[i] != NULL; i++)
			r = landlock_add_path(ruleset, p->rw_dirs[i],
			    fs_all & ~LL_FS_EXECUTE);
	if (p->ro_files != NULL)
		for (size_t i = 0; r == 0 && p->ro_files[i] != NULL; i++)
			r = landlock_add_path(ruleset, p->ro_files[i], LL_FS_READ_FILE);
	if (p->ro_dirs != NULL)
		for (size_t i = 0; r == 0 && p->ro_dirs[i] != NULL; i++)
			r = landlock_add_path(ruleset, p->ro_dirs[i],
			    LL_FS_READ_FILE | LL_FS_READ_DIR);
	if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		log_err("landlock_restrict_self: %s", strerror(errno));
		r = HUSH_E_SYS;
	}
	close(ruleset);
	return r;
}

static void
on_sigsys(int sig, siginfo_t *si, void *uc)
{
	struct sandbox_trap t;

	(void)sig;
	(void)uc;
	t.pid = (int32_t)getpid();
	t.nr = si->si_syscall;
	t.arch = si->si_arch;
	/* One small write to a pipe is atomic; nothing to do if it fails. */
	if (trap_report_fd >= 0 && write(trap_report_fd, &t, sizeof(t)) < 0)
		t.nr = -1;
	/* Pending until we return; SA_RESETHAND made it fatal. */
	syscall(SYS_tgkill, t.pid, (pid_t)syscall(SYS_gettid), SIGSYS);
}

static int
rule_add(scmp_filter_ctx ctx, const char *role, const struct sandbox_call *c, int nr)
{
	struct scmp_arg_cmp cmp[2];
	int r;

	for (unsigned i = 0; i < c->ncmp && i < 2; i++) {
		cmp[i].arg = c->cmp[i].arg;
		cmp[i].op = SCMP_CMP_MASKED_EQ;
		cmp[i].datum_a = c->cmp[i].mask;
		cmp[i].datum_b = c->cmp[i].value;
	}
	if ((r = seccomp_rule_add_array(ctx, c->fail_errno != 0 ?
	    SCMP_ACT_ERRNO((uint32_t)c->fail_errno) : SCMP_ACT_ALLOW, nr,
	    c->ncmp < 2 ? c->ncmp : 2, cmp)) != 0) {
		log_err("%s: cannot allow %s: %s", role, c->name, strerror(-r));
		return HUSH_E_SYS;
	}
	return 0;
}

/* Does any list allow (not fail) the call named name? */
static bool
allowed_in(const struct sandbox_call *const *lists, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		for (const struct sandbox_call *c = lists[i]; c->name != NULL; c++)
			if (c->fail_errno == 0 && strcmp(c->name, name) == 0)
				return true;
	return false;
}

/*
 * One filter allowing what any of the lists allows.  With one list that
 * is the list; with several (the launcher's union) a call that one list
 * fails with an errno and another allows is allowed, and a rule that
 * repeats another is skipped.
 */
static int
seccomp_apply(const char *role, const struct sandbox_call *const *lists, size_t n,
    bool lsan_at_exit, int report_fd)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	int nr, r = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		return HUSH_E_SYS;
	trap_report_fd = report_fd;

	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL)
		return HUSH_E_NOMEM;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0) {
		r = HUSH_E_SYS;
		goto out;
	}
	for (size_t l = 0; l < n; l++) {
		for (const struct sandbox_call *c = lists[l]; c->name != NULL; c++) {
			if ((nr = seccomp_syscall_resolve_name(c->name)) == __NR_SCMP_ERROR) {
				log_err("%s: unknown system call %s in the allow-list",
				    role, c->name);
				r = HUSH_E_INVAL;
				goto out;
			}
			if (n > 1 && c->fail_errno != 0 && allowed_in(lists, n, c->name))
				continue;
			if ((r = rule_add(ctx, role, c, nr)) != 0)
				goto out;
		}
	}
#ifdef __SANITIZE_ADDRESS__
	/*
	 * AddressSanitizer builds (make unit-asan) only: the runtime takes
	 * down each thread's alternate signal stack when the thread ends,
	 * and asks for the thread's CPU affinity when one starts (raft's
	 * libuv threads died of it in an ASan hushd).
	 */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sched_getaffinity), 0) != 0) {
		r = HUSH_E_SYS;
		goto out;
	}
	/*
	 * LeakSanitizer's check at exit: a helper task sharing our memory
	 * (clone without CLONE_THREAD) ptrace()s every thread, lists them in
	 * /proc/self/task and reads /proc/self/maps, with the legacy open and
	 * getdents.  It blocks SIGSYS, so a call missing here kills it
	 * silently and leaves the process spinning at exit.
	 */
	if (lsan_at_exit) {
		const int lsan_calls[] = {
			SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(prctl),
			SCMP_SYS(wait4), SCMP_SYS(rt_sigaction), SCMP_SYS(getppid),
			SCMP_SYS(sched_yield), SCMP_SYS(open), SCMP_SYS(openat),
			SCMP_SYS(getdents), SCMP_SYS(getdents64), SCMP_SYS(read),
			SCMP_SYS(exit), SCMP_SYS(gettid),
			SCMP_SYS(ioctl),	/* the report: is stderr a tty? */
		};

		for (size_t i = 0; i < sizeof(lsan_calls) / sizeof(lsan_calls[0]); i++) {
			if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, lsan_calls[i], 0) != 0) {
				r = HUSH_E_SYS;
				goto out;
			}
		}
	}
#endif
	/* The handler's own report (datum_b spelled out: clang wants every field). */
	if (report_fd >= 0 && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
	    SCMP_A0(SCMP_CMP_EQ, (uint64_t)report_fd, 0)) != 0) {
		r = HUSH_E_SYS;
		goto out;
	}
	if ((r = seccomp_load(ctx)) != 0) {
		log_err("%s: seccomp_load: %s", role, strerror(-r));
		r = HUSH_E_SYS;
	}
out:
	seccomp_release(ctx);
	return r;
}

int
sandbox_apply(const struct sandbox_policy *p, int report_fd)
{
	const struct sandbox_call *lists[1] = { p->calls };
	int r;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return HUSH_E_INVAL;
#ifdef __SANITIZE_ADDRESS__
	/*
	 * AddressSanitizer builds only.  LeakSanitizer's end-of-process check
	 * stops the world with a ptrace()ing thread and reads /proc/self:
	 * nothing a sandboxed process may do.  Check now instead, which also
	 * turns the check at exit off; what the sandboxed process leaks from
	 * here on goes unreported -- except for a policy that asks to keep the
	 * check at exit, which then stays ptrace()able by itself (dumpable;
	 * it has no CAP_SYS_PTRACE) and gets the calls below.
	 */
	if (!p->lsan_at_exit)
		__lsan_do_leak_check();
	else if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
		return HUSH_E_SYS;
#endif
	if ((r = landlock_apply(p)) != 0)
		return r;
	return seccomp_apply(p->role, lists, 1, p->lsan_at_exit, report_fd);
}

int
sandbox_apply_union(const char *role, const struct sandbox_call *own,
    const struct sandbox_policy *const *ps, size_t n, int report_fd)
{
	const struct sandbox_call *lists[16];

	if (n + 1 > sizeof(lists) / sizeof(lists[0]))
		return HUSH_E_INVAL;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return HUSH_E_INVAL;
#ifdef __SANITIZE_ADDRESS__
	__lsan_do_leak_check();
#endif
	lists[0] = own;
	for (size_t i = 0; i < n; i++)
		lists[i + 1] = ps[i]->calls;
	return seccomp_apply(role, lists, n + 1, false, report_fd);
}

void
sandbox_set_report_fd(int fd)
{
	trap_report_fd = fd;
}

void
sandbox_trap_describe(const struct sandbox_trap *t, char *buf, size_t len)
{
	char *name = seccomp_syscall_resolve_num_arch(t->arch, t->nr);

	snprintf(buf, len, "forbidden system call %s (nr %d)",
	    name != NULL ? name : "?", (int)t->nr);
	free(name);
}

bool
sandbox_trap_read(int fd, struct sandbox_trap *t, char *what, size_t len)
{
	if (fd < 0 || read(fd, t, sizeof(*t)) != (ssize_t)sizeof(*t))
		return false;
	sandbox_trap_describe(t, what, len);
	return true;
}
