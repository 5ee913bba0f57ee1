/*
 * The child side of a privilege-separated hushd process: what runs between
 * the launcher's fork() and the process's own main loop.  It cuts every
 * handle inherited from the launcher, drops privileges and confines itself
 * (daemon/privsep/launcher.c starts it; kmod-free/sandbox.c is the last step).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "child.h"
#include "err.h"
#include "keyheap.h"
#include "keyring.h"
#include "log.h"
#include "proc_harden.h"
#include "sandbox.h"

/* The unprivileged user (0 = not set; it may never be root). */
static uid_t	run_uid;
static gid_t	run_gid;

void
child_set_user(uid_t uid, gid_t gid)
{
	run_uid = uid;
	run_gid = gid;
}

/*
 * For a child that needs no root: clears the bounding and ambient sets,
 * becomes the unprivileged user with no capability left, and sets again
 * what the uid switch reset (the dumpable flag, the parent-death signal).
 * The caps_limit() that follows then only confirms the empty sets.
 */
static void
become_unprivileged(const struct child_desc *d, pid_t parent)
{
	int r;

	if (d->ncaps != 0 || run_uid == 0 || run_gid == 0)
		fatal("no unprivileged user to run as");
	if ((r = caps_limit_as(run_uid, run_gid)) != 0)
		fatal_r(r, "cannot become uid %lu gid %lu", (unsigned long)run_uid,
		    (unsigned long)run_gid);
	if (proc_die_with_parent(parent) != 0 || proc_harden() != 0)
		fatal("cannot harden the process again after the uid switch");
}

#ifdef HUSH_TEST_HOOKS
#include <seccomp.h>

/*
 * Test builds only.  HUSH_TEST_SANDBOX="raft=socket,raft=open:/etc/hostname"
 * arms, in the named processes ("parent" too), SIGUSR2 to make that system call (with zero
 * arguments; the filter should kill the process) and SIGUSR1 to try to
 * open that path and write the outcome to the log (Landlock should refuse
 * it).  tests/integration/t_sandbox.sh sends the signals.
 */
static long test_nr = -1;
static char test_path[256];

static size_t
test_put(char *buf, size_t at, size_t len, const char *s)
{
	while (*s != '\0' && at < len)
		buf[at++] = *s++;
	return at;
}

static void
test_fault(int sig)
{
	char line[400], num[16];
	size_t n = 0, k = sizeof(num);
	int fd, e;

	if (sig == SIGUSR2) {
		syscall(test_nr, 0, 0, 0, 0, 0, 0);
		return;
	}
	fd = open(test_path, O_RDONLY | O_CLOEXEC);
	e = errno;
	num[--k] = '\0';
	do
		num[--k] = (char)('0' + e % 10);
	while ((e /= 10) != 0 && k > 0);
	n = test_put(line, n, sizeof(line) - 1, "hushd: test: open ");
	n = test_put(line, n, sizeof(line) - 1, test_path);
	if (fd >= 0) {
		n = test_put(line, n, sizeof(line) - 1, ": opened\n");
		close(fd);
	} else {
		n = test_put(line, n, sizeof(line) - 1, ": refused, errno ");
		n = test_put(line, n, sizeof(line) - 1, num + k);
		n = test_put(line, n, sizeof(line) - 1, "\n");
	}
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void
child_test_faults_arm(const char *role)
{
	const char *env = getenv("HUSH_TEST_SANDBOX");
	char spec[512], *item, *save, *act;
	size_t rl = strlen(role);

	if (env == NULL || snprintf(spec, sizeof(spec), "%s", env) >= (int)sizeof(spec))
		return;
	for (item = strtok_r(spec, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		if (strncmp(item, role, rl) != 0 || item[rl] != '=')
			continue;
		act = item + rl + 1;
		if (strncmp(act, "open:", 5) == 0) {
			snprintf(test_path, sizeof(test_path), "%s", act + 5);
			signal(SIGUSR1, test_fault);
		} else if ((test_nr = seccomp_syscall_resolve_name(act)) >= 0) {
			signal(SIGUSR2, test_fault);
		}
	}
}
#endif

static void *
preload_thread(void *arg)
{
	pthread_exit(arg);
}

/*
 * Libraries that read files the first time they are used: load them now,
 * before Landlock and seccomp take the files and the calls away.  OpenSSL
 * reads its configuration (openssl.cnf), glibc the time zone; and glibc
 * dlopen()s libgcc_s the first time a thread ends in pthread_exit(), as
 * getaddrinfo_a()'s helper threads in net do -- that would need files
 * and executable mappings, so one thread ends that way here.
 */
void
child_preload(void)
{
	pthread_t t;

	tzset();
	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
		fatal("cannot initialise OpenSSL");
	if (pthread_create(&t, NULL, preload_thread, NULL) != 0 ||
	    pthread_join(t, NULL) != 0)
		fatal("cannot start a thread");
}

/*
 * Runs in the new process, forked by the launcher.  The order is the one
 * OpenSSH uses: first cut every inherited handle (fds, keyring
 * possession, signal state), then
 * rlimits and NO_NEW_PRIVS, then capabilities; Landlock and the seccomp
 * filter come last so the confinement steps themselves need no syscalls
 * the filter would forbid.
 */
void
child_run(const struct child_desc *d, int fd, int trap_fd, pid_t parent)
{
	char title[32];
	sigset_t none;
	int keep[2] = { fd, trap_fd }, devnull, r;

	/* Under the launcher's filter until our own: report as ourselves. */
	sandbox_set_report_fd(trap_fd);
	if (proc_die_with_parent(parent) != 0)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);

	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	if (proc_close_fds_from(STDERR_FILENO + 1, keep, 2) != 0)
		fatal("cannot close inherited descriptors");

	snprintf(title, sizeof(title), "hushd: %s", d->name);
	proc_set_title(title);
	log_set_role(title);

	if (chdir(d->workdir != NULL ? d->workdir : "/") != 0)
		fatal("cannot enter %s: %s", d->workdir != NULL ? d->workdir : "/",
		    strerror(errno));
	/* Not the session keyring of whoever started hushd. */
	if (keyring_join_private() != 0)
		fatal("cannot leave the inherited session keyring");
	if (proc_harden() != 0)
		fatal("cannot harden the process");
	if (d->unprivileged)
		become_unprivileged(d, parent);
	if (caps_limit(d->caps, d->ncaps) != 0)
		fatal("cannot drop capabilities");
	/* The libraries' files were loaded before the fork (child_fork()). */
#ifdef HUSH_TEST_HOOKS
	child_test_faults_arm(d->name);
#endif
	if (d->keyheap && keyheap_init() != 0)
		fatal("cannot set up the %s process's heap for private keys", d->name);
	if (d->sandbox == NULL)
		fatal("no sandbox policy for the %s process", d->name);
	if ((r = sandbox_apply(d->sandbox, trap_fd)) != 0)
		fatal_r(r, "cannot sandbox the %s process", d->name);
	d->main(fd);
	_exit(0);
}


int
child_fork(const struct child_desc *d, pid_t *pid, int *chan_fd, int *trap_fd)
{
	int sv[2], tp[2], e;
	pid_t self = getpid();

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	/* The child writes at most a few records: a pipe's buffer holds them. */
	if (pipe2(tp, O_CLOEXEC) != 0) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	fflush(NULL);
	if ((*pid = fork()) < 0) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		close(tp[0]);
		close(tp[1]);
		return -e;
	}
	if (*pid == 0)
		child_run(d, sv[1], tp[1], self);
	close(sv[1]);
	close(tp[1]);
	*chan_fd = sv[0];
	*trap_fd = tp[0];
	return 0;
}
