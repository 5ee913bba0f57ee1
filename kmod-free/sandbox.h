/*
 * The last confinement step of every hushd child: a Landlock domain (which
 * files and TCP ports it may reach) and a seccomp filter (which system
 * calls it may make).  Each process writes its policy down in one file,
 * daemon/<process>/<process>_sandbox.c, as tables of the types below, so
 * that a reviewer reads what a process may do in one place.
 */
#ifndef HUSH_SANDBOX_H
#define HUSH_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

/* One argument test: (argument & mask) == value. */
struct sandbox_cmp {
	unsigned	 arg;		/* 0..5 */
	uint64_t	 mask;
	uint64_t	 value;
};

/*
 * One allowed system call, by the name libseccomp knows it by.  With
 * ncmp > 0 it is allowed only when every test holds; several entries
 * with the same name are alternatives (any one may match).
 */
struct sandbox_call {
	const char		*name;
	unsigned		 ncmp;
	struct sandbox_cmp	 cmp[2];
	/* Not allowed but failed with this errno instead of trapping. */
	int			 fail_errno;
};

/* Arguments are ints or flags: compare the low 32 bits only. */
#define SB_INT			0xffffffffULL
#define SB_CALL(n)		{ .name = (n), .ncmp = 0 }
#define SB_ARG(n, a, v)		{ .name = (n), .ncmp = 1, \
				  .cmp = { { (a), SB_INT, (uint64_t)(v) } } }
#define SB_ARG2(n, a, v, b, w)	{ .name = (n), .ncmp = 2, \
				  .cmp = { { (a), SB_INT, (uint64_t)(v) }, \
					   { (b), SB_INT, (uint64_t)(w) } } }
/* Allowed when none of the bits in m is set in argument a. */
#define SB_NONE_OF(n, a, m)	{ .name = (n), .ncmp = 1, \
				  .cmp = { { (a), (uint64_t)(m), 0 } } }
/* Allowed when every bit in m is set in argument a. */
#define SB_ALL_OF(n, a, m)	{ .name = (n), .ncmp = 1, \
				  .cmp = { { (a), (uint64_t)(m), (uint64_t)(m) } } }
/* A pointer (all 64 bits) argument equal to v, e.g. NULL. */
#define SB_PTR(n, a, v)		{ .name = (n), .ncmp = 1, \
				  .cmp = { { (a), ~(uint64_t)0, (uint64_t)(v) } } }
/* Fails with errno e (e.g. ENOSYS so that glibc falls back to a call we can check). */
#define SB_FAIL(n, e)		{ .name = (n), .ncmp = 0, .fail_errno = (e) }
#define SB_FAIL_ARG(n, a, v, e)	{ .name = (n), .ncmp = 1, \
				  .cmp = { { (a), SB_INT, (uint64_t)(v) } }, .fail_errno = (e) }
#define SB_END			{ .name = NULL }

/*
 * What every child needs whatever it does, listed in each table so that
 * the table is complete on its own:
 * - exit, and the SIGSYS report itself (sandbox.c's handler writes one
 *   record, then re-raises the signal with tgkill and returns through
 *   rt_sigreturn into the default action);
 * - memory: malloc (brk, mmap, munmap, mremap, madvise), sodium_malloc's
 *   guard pages and locking (mprotect, mlock, munlock), and OpenSSL's
 *   secure heap, which locks with mlock2 (lib/keyheap.h) -- never
 *   executable memory: no new code may appear in a sandboxed process;
 * - glibc's locks (futex), random bytes (getrandom), clocks, and writes to
 *   stderr, which is the daemon's log.
 */
#define SANDBOX_BASE_CALLS						\
	SB_CALL("exit"), SB_CALL("exit_group"),				\
	SB_CALL("rt_sigreturn"), SB_CALL("rt_sigprocmask"),		\
	SB_CALL("getpid"), SB_CALL("gettid"), SB_CALL("tgkill"),	\
	SB_CALL("brk"), SB_NONE_OF("mmap", 2, PROT_EXEC),		\
	SB_CALL("munmap"), SB_CALL("mremap"), SB_CALL("madvise"),	\
	SB_NONE_OF("mprotect", 2, PROT_EXEC),				\
	SB_CALL("mlock"), SB_CALL("mlock2"), SB_CALL("munlock"),	\
	SB_CALL("futex"), SB_CALL("getrandom"),				\
	SB_CALL("clock_gettime"), SB_CALL("clock_nanosleep"),		\
	SB_CALL("close"),						\
	/* glibc's qsort() asks the memory size for arrays over 1 KiB */ \
	SB_CALL("sysinfo"),						\
	/* a call interrupted by a stop (SIGSTOP, ptrace) resumes with it */ \
	SB_CALL("restart_syscall")

/* What Landlock lets a process reach on disk and on the network. */
enum sandbox_fs {
	SB_FS_NONE,		/* no file at all (beyond the fds it holds) */
	SB_FS_DIRS,		/* only below the directories in rw_dirs */
	/*
	 * No Landlock domain at all.  Landlock refuses every mount operation
	 * to a process whose domain handles file access, and any domain
	 * refuses ptrace-mode access (opening /proc/PID/ns/mnt, for one) to
	 * processes outside it: the mounter can have none.  Its sandbox file
	 * says what confines it instead.
	 */
	SB_NO_LANDLOCK,
};

struct sandbox_policy {
	const char		*role;
	const struct sandbox_call *calls;	/* ends with SB_END */
	enum sandbox_fs		 fs;
	/* SB_FS_DIRS: directories read, written and created below. */
	const char *const	*rw_dirs;	/* NULL-terminated */
	/* Single files it may open for reading (skipped if absent). */
	const char *const	*ro_files;	/* NULL-terminated */
	/* Directories below which it may read files and list directories. */
	const char *const	*ro_dirs;	/* NULL-terminated */
	/* May bind and connect TCP sockets (else refused from Landlock ABI 4). */
	bool			 tcp;
	/*
	 * AddressSanitizer builds only: keep LeakSanitizer's check at exit
	 * (see sandbox.c) rather than checking once when confined.  For a
	 * process whose leaks matter after start-up and that can afford the
	 * extra calls in a test build: the parent.
	 */
	bool			 lsan_at_exit;
};

/*
 * Confines the calling process with policy p: Landlock first (it opens
 * the allowed directories), then the seccomp filter, whose default action
 * traps; the SIGSYS handler writes one struct sandbox_trap to report_fd
 * (the parent's end reads it, see sandbox_trap_describe()) and the process
 * then dies by SIGSYS.  Must run single-threaded, after NO_NEW_PRIVS and
 * after every other confinement step.  On a kernel without Landlock it
 * logs a warning and goes on (hush-kcheck reports it); any other failure
 * is returned, and the caller must not run unconfined.
 */
int	sandbox_apply(const struct sandbox_policy *p, int report_fd);

/*
 * A seccomp filter (no Landlock) allowing what own or any of ps[0..n)
 * allows: for a process whose children stack their own filters on it
 * (the launcher), so that it has one at all.  Same trap and report as
 * sandbox_apply().
 */
int	sandbox_apply_union(const char *role, const struct sandbox_call *own,
	    const struct sandbox_policy *const *ps, size_t n, int report_fd);

/*
 * The fd a sandboxed process's SIGSYS handler reports on (-1 if none): a
 * process it forks must keep it open to be heard, or name its own with
 * sandbox_set_report_fd() (a child in the making under its launcher's
 * filter).
 */
int	sandbox_report_fd(void);
void	sandbox_set_report_fd(int fd);

/* What a trapped process tells its parent before it dies. */
struct sandbox_trap {
	int32_t		 pid;
	int32_t		 nr;		/* system call number */
	uint32_t	 arch;		/* AUDIT_ARCH_* */
};

/* "forbidden system call execve (nr 59)" */
void	sandbox_trap_describe(const struct sandbox_trap *t, char *buf, size_t len);

/*
 * Reads one report from fd (the read end of a report pipe, non-blocking
 * where the caller must not wait) into *t and describes it in what.
 * false: none (fd < 0, nothing there, or a short read, which a pipe's
 * atomic small write rules out from a real handler).
 */
bool	sandbox_trap_read(int fd, struct sandbox_trap *t, char *what, size_t len);

/* The Landlock ABI version of the running kernel, 0 if none. */
int	sandbox_landlock_abi(void);

#endif
