#include <errno.h>
#include <fcntl.h>
#include <keyutils.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kcheck.h"

/* A probe that hangs (it should not) must not hang hush-kcheck. */
#define KCHECK_CHILD_SECONDS	10
/* How long to wait for the process connector to acknowledge us. */
#define KCHECK_CN_MSEC		2000

/* netns_only: see struct kcheck_result; only the proc connector sets it. */
typedef bool	(*kcheck_fn)(char *detail, size_t len, bool *netns_only);
typedef int	(*kcheck_child_fn)(char *detail, size_t len);

struct kcheck {
	const char	*name;
	bool		 required;
	const char	*impact;
	kcheck_fn	 run;
};

/* Records what failed and why; returns -1 for the child probes. */
static int
failed(char *detail, size_t len, const char *what)
{
	int e = errno;

	snprintf(detail, len, "%s: %s%s", what, strerror(e),
	    e == EPERM ? " (not root?)" : "");
	return -1;
}

/*
 * Runs fn in a forked child, so namespace and keyring changes die with it.
 * The child passes its detail text back through a pipe.
 */
static bool
in_child(kcheck_child_fn fn, char *detail, size_t len)
{
	char buf[sizeof(((struct kcheck_result *)0)->detail)];
	size_t got = 0;
	ssize_t n;
	int p[2], st, r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		failed(detail, len, "pipe");
		return false;
	}
	if ((pid = fork()) == -1) {
		failed(detail, len, "fork");
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		close(p[0]);
		alarm(KCHECK_CHILD_SECONDS);
		buf[0] = '\0';
		r = fn(buf, sizeof(buf));
		(void)!write(p[1], buf, strlen(buf));
		_exit(r == 0 ? 0 : 1);
	}
	close(p[1]);
	while (got < len - 1) {
		n = read(p[0], detail + got, len - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	detail[got] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR) {
			failed(detail, len, "waitpid");
			return false;
		}
	}
	if (WIFSIGNALED(st)) {
		snprintf(detail, len, "probe process killed by signal %d",
		    WTERMSIG(st));
		return false;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Whether /proc/self/status has a line starting with key. */
static bool
status_has(const char *key)
{
	char line[256];
	bool at_start = true, found = false;
	FILE *f;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		found = at_start && strncmp(line, key, strlen(key)) == 0;
		at_start = strchr(line, '\n') != NULL;
	}
	fclose(f);
	return found;
}

static int
probe_keyring(char *detail, size_t len)
{
	key_serial_t id;
	char c;

	/* A throwaway session keyring: nothing lands in the user's. */
	if (keyctl_join_session_keyring(NULL) == -1)
		return failed(detail, len, "keyctl(JOIN_SESSION_KEYRING)");
	if ((id = add_key("user", "hush:kcheck", "x", 1,
	    KEY_SPEC_SESSION_KEYRING)) == -1)
		return failed(detail, len, "add_key(user)");
	if (keyctl_setperm(id, KEY_POS_ALL) == -1)
		return failed(detail, len, "keyctl(SETPERM)");
	if (keyctl_read(id, &c, 1) != 1)
		return failed(detail, len, "keyctl(READ)");
	if (keyctl_invalidate(id) == -1)
		return failed(detail, len, "keyctl(INVALIDATE)");
	return 0;
}

static bool
check_keyring(char *detail, size_t len, bool *netns_only)
{
	return in_child(probe_keyring, detail, len);
}

static bool
check_seccomp(char *detail, size_t len, bool *netns_only)
{
	static const uint32_t actions[] = {
		SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_ERRNO
	};

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == -1) {
		if (errno == EINVAL)
			snprintf(detail, len, "kernel built without seccomp");
		else
			failed(detail, len, "prctl(PR_GET_SECCOMP)");
		return false;
	}
	if (!status_has("Seccomp:")) {
		snprintf(detail, len, "no Seccomp field in /proc/self/status");
		return false;
	}
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		uint32_t act = actions[i];

		/* Asks whether filter mode supports the action; changes nothing. */
		if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == -1) {
			if (errno == EINVAL)
				snprintf(detail, len, "seccomp filter mode "
				    "unavailable (no SECCOMP_FILTER or action "
				    "%#x)", act);
			else
				failed(detail, len,
				    "seccomp(SECCOMP_GET_ACTION_AVAIL)");
			return false;
		}
	}
	return true;
}

static int
probe_userns(char *detail, size_t len)
{
	if (unshare(CLONE_NEWUSER) == -1) {
		if (errno == ENOSPC) {
			snprintf(detail, len, "unshare(CLONE_NEWUSER): limit "
			    "reached (user.max_user_namespaces)");
			return -1;
		}
		return failed(detail, len, "unshare(CLONE_NEWUSER)");
	}
	return 0;
}

static bool
check_userns(char *detail, size_t len, bool *netns_only)
{
	if (access("/proc/self/ns/user", F_OK) == -1) {
		failed(detail, len, "/proc/self/ns/user");
		return false;
	}
	return in_child(probe_userns, detail, len);
}

static int
probe_mountns(char *detail, size_t len)
{
	if (unshare(CLONE_NEWNS) == -1)
		return failed(detail, len, "unshare(CLONE_NEWNS)");
	return 0;
}

static bool
check_mountns(char *detail, size_t len, bool *netns_only)
{
	return in_child(probe_mountns, detail, len);
}

static int
probe_mount_api(char *detail, size_t len)
{
	static const char *const targets[] = { "/tmp", "/mnt", "/run" };
	const char *target = NULL;
	struct statfs sfs;
	struct stat st;
	int fs, mnt;

	/* Private, so the mount below can never propagate to the host. */
	if (unshare(CLONE_NEWNS) == -1)
		return failed(detail, len, "unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return failed(detail, len, "mount(MS_PRIVATE)");

	if ((fs = fsopen("tmpfs", FSOPEN_CLOEXEC)) == -1)
		return failed(detail, len, "fsopen(tmpfs)");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "64k", 0) == -1)
		return failed(detail, len, "fsconfig(size)");
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == -1)
		return failed(detail, len, "fsconfig(FSCONFIG_CMD_CREATE)");
	if ((mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) == -1)
		return failed(detail, len, "fsmount");

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		if (lstat(targets[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			target = targets[i];
			break;
		}
	}
	if (target == NULL) {
		snprintf(detail, len, "no directory to mount on");
		return -1;
	}
	if (move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) == -1)
		return failed(detail, len, "move_mount");
	if (statfs(target, &sfs) == -1)
		return failed(detail, len, "statfs");
	if (sfs.f_type != TMPFS_MAGIC) {
		snprintf(detail, len, "move_mount succeeded but %s is not the "
		    "new tmpfs", target);
		return -1;
	}
	return 0;
}

static bool
check_mount_api(char *detail, size_t len, bool *netns_only)
{
	return in_child(probe_mount_api, detail, len);
}

/*
 * In this (normally the initial) user namespace, as hushd will mount its
 * tmpfs: the kernel refuses noswap inside other user namespaces.
 */
static bool
check_tmpfs_noswap(char *detail, size_t len, bool *netns_only)
{
	char msg[128];
	ssize_t n;
	int fs;

	if ((fs = fsopen("tmpfs", FSOPEN_CLOEXEC)) == -1) {
		failed(detail, len, "fsopen(tmpfs)");
		return false;
	}
	if (fsconfig(fs, FSCONFIG_SET_FLAG, "noswap", NULL, 0) == 0) {
		close(fs);
		return true;
	}
	failed(detail, len, "fsconfig(noswap)");
	/* The context fd holds the kernel's own words: "e tmpfs: ..." */
	if ((n = read(fs, msg, sizeof(msg) - 1)) > 2) {
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		snprintf(detail, len, "fsconfig(noswap): %s", msg + 2);
	}
	close(fs);
	return false;
}

static bool
check_landlock(char *detail, size_t len, bool *netns_only)
{
	long abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi == -1) {
		if (errno == ENOSYS)
			snprintf(detail, len, "kernel built without Landlock");
		else if (errno == EOPNOTSUPP)
			snprintf(detail, len, "Landlock disabled at boot "
			    "(add landlock to lsm=)");
		else
			failed(detail, len, "landlock_create_ruleset");
		return false;
	}
	snprintf(detail, len, "ABI %ld", abi);
	return abi >= 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Sends a PROC_CN_MCAST_* op.  The kernel multicasts its acknowledgement
 * to every listener with ack set to ours + 1 (seq is its own counter), so
 * a cookie in ack is how we recognise the reply meant for us.
 */
static int
cn_send_op(int fd, uint32_t cookie, uint32_t op)
{
	union {
		struct nlmsghdr	nlh;
		char		buf[NLMSG_SPACE(sizeof(struct cn_msg) +
				    sizeof(uint32_t))];
	} m;
	struct cn_msg *cn;

	memset(&m, 0, sizeof(m));
	m.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
	m.nlh.nlmsg_type = NLMSG_DONE;
	m.nlh.nlmsg_pid = 0;
	cn = NLMSG_DATA(&m.nlh);
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->seq = 0;
	cn->ack = cookie;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	return send(fd, &m, m.nlh.nlmsg_len, 0) == (ssize_t)m.nlh.nlmsg_len ?
	    0 : -1;
}

/*
 * Waits for the acknowledgement of cookie among whatever process events
 * other listeners already cause.  1 acked, 0 no reply, -1 error.
 */
static int
cn_wait_ack(int fd, uint32_t cookie, uint32_t *err)
{
	union {
		struct nlmsghdr	nlh;
		char		buf[8192];
	} m;
	int64_t deadline = now_ms() + KCHECK_CN_MSEC;
	struct nlmsghdr *h;
	struct cn_msg *cn;
	struct proc_event ev;
	ssize_t n;

	while (now_ms() < deadline) {
		if ((n = recv(fd, &m, sizeof(m), 0)) == -1) {
			/* SO_RCVTIMEO: look at the clock again */
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return -1;
		}
		for (h = &m.nlh; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*cn)))
				continue;
			cn = NLMSG_DATA(h);
			if (cn->id.idx != CN_IDX_PROC || cn->ack != cookie + 1 ||
			    cn->len < offsetof(struct proc_event, event_data) +
			    sizeof(ev.event_data.ack) ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + cn->len))
				continue;
			memset(&ev, 0, sizeof(ev));
			memcpy(&ev, cn->data, cn->len < sizeof(ev) ?
			    cn->len : sizeof(ev));
			if (ev.what != PROC_EVENT_NONE)
				continue;
			*err = ev.event_data.ack.err;
			return 1;
		}
	}
	return 0;
}

/*
 * Binding to the group succeeds whenever the connector exists; only the
 * acknowledgement of a listen request shows the process events source
 * (CONFIG_PROC_EVENTS) is there and will talk to us.
 */
static bool
check_proc_connector(char *detail, size_t len, bool *netns_only)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = CN_IDX_PROC,
	};
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };
	uint32_t cookie = (uint32_t)getpid(), err = 0;
	bool ok = false;
	int fd, r;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_CONNECTOR)) == -1) {
		if (errno == EPROTONOSUPPORT)
			snprintf(detail, len, "kernel built without the "
			    "netlink connector");
		else
			failed(detail, len, "socket(NETLINK_CONNECTOR)");
		return false;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		failed(detail, len, "bind(CN_IDX_PROC)");
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		failed(detail, len, "setsockopt(SO_RCVTIMEO)");
		goto out;
	}
	if (cn_send_op(fd, cookie, PROC_CN_MCAST_LISTEN) == -1) {
		/*
		 * The kernel's end of the connector lives in the initial
		 * network namespace only; from any other the send is refused.
		 */
		if (errno == ECONNREFUSED) {
			*netns_only = true;
			snprintf(detail, len, "refused outside the initial "
			    "network namespace; run hushd in the host's");
		} else
			failed(detail, len, "send(PROC_CN_MCAST_LISTEN)");
		goto out;
	}
	if ((r = cn_wait_ack(fd, cookie, &err)) == -1)
		failed(detail, len, "recv");
	else if (r == 0)
		snprintf(detail, len, "no reply to PROC_CN_MCAST_LISTEN (no "
		    "process events, or not in the initial namespaces)");
	else if (err != 0)
		snprintf(detail, len, "PROC_CN_MCAST_LISTEN: %s",
		    strerror((int)err));
	else
		ok = true;
	/* Listening is counted system-wide; do not leave our count behind. */
	(void)cn_send_op(fd, cookie, PROC_CN_MCAST_IGNORE);
out:
	close(fd);
	return ok;
}

static bool
check_audit(char *detail, size_t len, bool *netns_only)
{
	int fd;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_AUDIT)) == -1) {
		if (errno == EPROTONOSUPPORT)
			snprintf(detail, len, "kernel built without audit");
		else
			failed(detail, len, "socket(NETLINK_AUDIT)");
		return false;
	}
	close(fd);
	return true;
}

/*
 * impact completes "without it, ...": what hush loses, in the operator's
 * terms, so a MISSING line says what breaks and not only which probe failed.
 */
static const struct kcheck checks[] = {
	{ "keyring", true,
	    "hushd cannot keep the unlock key, data key and node TLS key in "
	    "the kernel keyring, and refuses to start",
	    check_keyring },
	{ "seccomp", true,
	    "no hushd process can be held to its system-call allow-list; a "
	    "compromised one could make any system call",
	    check_seccomp },
	{ "userns", true,
	    "no container's /proc/PID/uid_map exists, so secret files cannot "
	    "be given their owners and every delivery fails",
	    check_userns },
	{ "mountns", true,
	    "the mounter cannot enter a container's mount namespace, so no "
	    "secret reaches any container",
	    check_mountns },
	{ "mount-api", true,
	    "the mounter cannot build a detached tmpfs and attach it in a "
	    "container (fsopen/fsmount/move_mount), so no secret is delivered",
	    check_mount_api },
	{ "tmpfs-noswap", true,
	    "the secrets tmpfs could be swapped to disk, so the mounter "
	    "refuses to build it and no secret is delivered",
	    check_tmpfs_noswap },
	{ "landlock", true,
	    "no hushd process can be limited to its own paths; a compromised "
	    "one could open any file its uid can reach",
	    check_landlock },
	{ "proc-connector", true,
	    "the mounter gets no container exit events and will not run, so "
	    "no secret is delivered",
	    check_proc_connector },
	{ "audit", false,
	    "security events go to hushd's log only, not to the kernel audit "
	    "trail",
	    check_audit },
};

_Static_assert(sizeof(checks) / sizeof(checks[0]) <= KCHECK_MAX,
    "KCHECK_MAX too small");

/* Whether name is in the comma-separated list (whole names only). */
static bool
listed(const char *list, const char *name)
{
	const char *p, *end;
	size_t nlen = strlen(name);

	if (list == NULL)
		return false;
	for (p = list;; p = end + 1) {
		end = strchrnul(p, ',');
		if ((size_t)(end - p) == nlen && strncmp(p, name, nlen) == 0)
			return true;
		if (*end == '\0')
			return false;
	}
}

size_t
kcheck_run(struct kcheck_result *out, size_t max, const char *pretend_missing)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]) && n < max;
	    i++, n++) {
		const struct kcheck *c = &checks[i];
		struct kcheck_result *r = &out[n];

		r->name = c->name;
		r->required = c->required;
		r->netns_only = false;
		r->detail[0] = '\0';
		if (listed(pretend_missing, c->name)) {
			r->ok = false;
			snprintf(r->detail, sizeof(r->detail), "%s",
			    KCHECK_PRETENDED);
			continue;
		}
		r->ok = c->run(r->detail, sizeof(r->detail), &r->netns_only);
	}
	return n;
}

const char *
kcheck_impact(const char *name)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (strcmp(checks[i].name, name) == 0)
			return checks[i].impact;
	return NULL;
}

const char *
kcheck_test_missing(void)
{
#ifdef HUSH_TEST_HOOKS
	return getenv("HUSH_KCHECK_DISABLE");
#else
	return NULL;
#endif
}
