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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "child.h"
#include "err.h"
#include "keyring.h"
#include "log.h"
#include "msg.h"
#include "proc_harden.h"
#include "sandbox.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	10000
#define STABLE_MS	60000

uint64_t
child_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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

void
child_init(struct child *c, const struct child_desc *desc)
{
	memset(c, 0, sizeof(*c));
	c->desc = desc;
	c->ch.fd = -1;
	c->trap_fd = -1;
	c->backoff_ms = BACKOFF_MIN_MS;
}

#ifdef HUSH_TEST_HOOKS
#include <seccomp.h>

/*
 * Test builds only.  HUSH_TEST_SANDBOX="raft=socket,raft=open:/etc/hostname"
 * arms, in the named children, SIGUSR2 to make that system call (with zero
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

static void
test_faults_arm(const char *role)
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
static void
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
 * Runs in the new process.  The order is the one OpenSSH uses: first cut
 * every inherited handle (fds, keyring possession, signal state), then
 * rlimits and NO_NEW_PRIVS, then capabilities; Landlock and the seccomp
 * filter come last so the confinement steps themselves need no syscalls
 * the filter would forbid.
 */
static void
child_confine_and_run(const struct child_desc *d, int fd, int trap_fd, pid_t parent)
{
	char title[32];
	sigset_t none;
	int keep[2] = { fd, trap_fd }, devnull, r;

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

	/* Possession of the parent's keys comes through the session keyring. */
	if (keyring_join_private() != 0)
		fatal("cannot leave the parent's session keyring");
	if (proc_harden() != 0)
		fatal("cannot harden the process");
	if (d->unprivileged)
		become_unprivileged(d, parent);
	if (caps_limit(d->caps, d->ncaps) != 0)
		fatal("cannot drop capabilities");
	child_preload();
#ifdef HUSH_TEST_HOOKS
	test_faults_arm(d->name);
#endif
	if (d->sandbox == NULL)
		fatal("no sandbox policy for the %s process", d->name);
	if ((r = sandbox_apply(d->sandbox, trap_fd)) != 0)
		fatal_r(r, "cannot sandbox the %s process", d->name);
	d->main(fd);
	_exit(0);
}

int
child_spawn(struct child *c)
{
	const struct child_desc *d = c->desc;
	int sv[2], tp[2], flags;
	pid_t pid, parent = getpid();

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return HUSH_E_SYS;
	/* The child writes at most a few records: a pipe's buffer holds them. */
	if (pipe2(tp, O_CLOEXEC) != 0) {
		close(sv[0]);
		close(sv[1]);
		return HUSH_E_SYS;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		close(tp[0]);
		close(tp[1]);
		return HUSH_E_SYS;
	}
	if (pid == 0) {
		close(sv[0]);
		close(tp[0]);
		child_confine_and_run(d, sv[1], tp[1], parent);
		_exit(1);
	}
	close(sv[1]);
	close(tp[1]);
	if (c->trap_fd >= 0)
		close(c->trap_fd);
	c->trap_fd = tp[0];
	flags = fcntl(tp[0], F_GETFL);
	fcntl(tp[0], F_SETFL, flags | O_NONBLOCK);
	flags = fcntl(sv[0], F_GETFL);
	fcntl(sv[0], F_SETFL, flags | O_NONBLOCK);
	chan_init(&c->ch, sv[0], d->name, d->max_msg, d->allow_fds);
	c->pid = pid;
	c->started_ms = child_now_ms();
	log_info("started %s process (pid %ld)", d->name, (long)pid);
	return 0;
}

static void
fail_calls(struct child *c, int status, const char *why)
{
	struct call *k, *next;

	k = c->calls;
	c->calls = NULL;
	for (; k != NULL; k = next) {
		next = k->next;
		if (k->cb != NULL)
			k->cb(k->arg, status, NULL, -1, why);
		free(k);
	}
}

void
child_death_detail(struct child *c, char *buf, size_t len)
{
	struct sandbox_trap t;
	char what[128];
	size_t n = 0;

	buf[0] = '\0';
	if (c->trap_fd < 0)
		return;
	/* Its own record, and any from a process it forked (the mounter's). */
	while (read(c->trap_fd, &t, sizeof(t)) == (ssize_t)sizeof(t)) {
		sandbox_trap_describe(&t, what, sizeof(what));
		if (t.pid != c->pid)
			snprintf(buf + n, len - n, "%s%s in its child %ld",
			    n ? "; " : ": ", what, (long)t.pid);
		else
			snprintf(buf + n, len - n, "%s%s", n ? "; " : ": ", what);
		n = strlen(buf);
	}
}

void
child_exited(struct child *c)
{
	uint64_t now = child_now_ms();

	chan_close(&c->ch);
	if (c->trap_fd >= 0) {
		close(c->trap_fd);
		c->trap_fd = -1;
	}
	c->pid = 0;
	if (now - c->started_ms >= STABLE_MS)
		c->backoff_ms = BACKOFF_MIN_MS;
	c->restart_at_ms = now + c->backoff_ms;
	c->backoff_ms *= 2;
	if (c->backoff_ms > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	c->restarts++;
	fail_calls(c, HUSH_E_UNAVAIL, "the daemon's process was restarted, retry");
}

void
child_kill(struct child *c, const char *why)
{
	if (c->pid <= 0)
		return;
	log_err("killing %s process (pid %ld): %s", c->desc->name, (long)c->pid, why);
	kill(c->pid, SIGKILL);
	/* Nothing more is read from it: the channel is untrusted from here. */
	chan_close(&c->ch);
}

uint32_t
child_next_id(struct child *c)
{
	if (++c->next_id == 0)
		c->next_id = 1;
	return c->next_id;
}

int
child_call(struct child *c, struct wire_enc *req, int fd, call_cb cb, void *arg)
{
	const uint8_t *buf;
	struct call *k;
	size_t len;
	int r;

	if (c->pid <= 0 || c->ch.fd < 0)
		return HUSH_E_UNAVAIL;
	if ((r = wire_enc_finish(req, &buf, &len)) != 0)
		return r;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return HUSH_E_NOMEM;
	k->id = req->buf[4] << 24 | req->buf[5] << 16 | req->buf[6] << 8 | req->buf[7];
	k->reply_type = (uint16_t)((req->buf[2] << 8 | req->buf[3]) | MSG_REPLY);
	k->cb = cb;
	k->arg = arg;
	if ((r = chan_send(&c->ch, buf, len, fd)) != 0) {
		free(k);
		return r;
	}
	k->next = c->calls;
	c->calls = k;
	return 0;
}

int
child_reply(struct child *c, const uint8_t *buf, size_t len, int fd)
{
	struct call **kp, *k;
	struct wire_hdr hdr;
	struct wire_msg *m;
	uint16_t allowed[3];
	char why[256], detail[1100];
	int r, status;

	if ((r = wire_peek_hdr(buf, len, &hdr)) != 0)
		return r;
	for (kp = &c->calls; *kp != NULL; kp = &(*kp)->next)
		if ((*kp)->id == hdr.request_id)
			break;
	if ((k = *kp) == NULL) {
		log_err("%s sent a reply to request %u that was never made",
		    c->desc->name, hdr.request_id);
		return HUSH_E_PROTO;
	}
	if ((m = malloc(sizeof(*m))) == NULL)
		return HUSH_E_NOMEM;
	allowed[0] = k->reply_type;
	allowed[1] = MSG_ERROR;
	allowed[2] = 0;
	if ((r = msg_parse(buf, len, c->ch.max_msg, allowed, m, why, sizeof(why))) != 0) {
		log_err("bad reply from %s: %s", c->desc->name, why);
		free(m);
		return r;
	}
	*kp = k->next;
	status = msg_reply_status(m, detail, sizeof(detail));
	if (k->cb != NULL)
		k->cb(k->arg, status, status == 0 ? m : NULL, status == 0 ? fd : -1,
		    status != 0 ? detail : NULL);
	else if (status != 0)
		log_warn("%s: %s", c->desc->name, *detail ? detail : hush_strerror(status));
	free(k);
	free(m);
	return 0;
}
