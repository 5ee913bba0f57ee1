/*
 * The mounter's main loop: one thread (setns() into a mount namespace
 * needs a single-threaded caller, see secretfs_attach()), one poll() over
 * the parent's channel and the proc connector, and a timer for pruning
 * old generations.
 *
 * A message from the parent that does not parse, of a type this channel
 * does not carry or whose fields break the schema (a missing pid, an
 * over-long name) is refused with MSG_ERROR and the loop goes on, as in
 * every child (daemon/privsep/from_parent.c): nothing has been touched
 * yet, and refusing that one request is enough.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "from_parent.h"
#include "log.h"
#include "mounter_ops.h"
#include "procwatch.h"

static const uint16_t from_mounter[] = { MNTR_EVENT, 0 };

/*
 * Each capability kept, and why.  Measured on 6.18 by removing one at a
 * time: tests/unit/test_daemon_mounter.c fails without each of the first
 * five, with the error quoted.
 *
 *	CAP_SYS_ADMIN	fsopen/fsmount/open_tree/move_mount/umount2
 *			("fsopen(tmpfs): Operation not permitted")
 *	CAP_SYS_CHROOT	setns() into a mount namespace wants it besides
 *			CAP_SYS_ADMIN: the namespace brings its own root
 *			("setns ...: Operation not permitted")
 *	CAP_SYS_PTRACE	opening /proc/PID/ns/mnt is a ptrace-read check,
 *			and a container's init holds capabilities we lack
 *			("/proc/PID/ns/mnt: Permission denied")
 *	CAP_DAC_OVERRIDE making run/secrets in a rootfs that belongs
 *			to a user-namespaced container's mapped root
 *			(t_runtimes: "making /run/secrets in the rootfs:
 *			Permission denied")
 *	CAP_CHOWN	files belong to the container's users
 *			("chown 'db_pw': Operation not permitted")
 *	CAP_FOWNER	fchmod() after that chown: the file is not ours
 *			("chmod 'db_pw': Operation not permitted")
 *	CAP_NET_ADMIN	the proc connector's exit events.  Linux 6.6 and
 *			later let anyone listen (the tests pass without it
 *			on 6.18), but Debian 12's 6.1 refuses, and without
 *			exit events we refuse to run.
 *
 * Not needed: CAP_KILL (kill(pid, 0) failing with EPERM still says the
 * process exists; we look for ESRCH).
 */
static const cap_value_t mounter_caps[] = {
	CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SYS_PTRACE, CAP_DAC_OVERRIDE,
	CAP_CHOWN, CAP_FOWNER, CAP_NET_ADMIN,
};

const struct child_desc mounter_child = {
	.name = "mounter",
	.max_msg = MOUNTER_MAX_MSG,
	.allow_fds = true,	/* an attach's pidfd, from the parent */
	.from_child = from_mounter,
	.caps = mounter_caps,
	.ncaps = sizeof(mounter_caps) / sizeof(mounter_caps[0]),
	.sandbox = &mounter_sandbox,
	.main = mounter_main,
};

static const uint16_t from_parent[] = {
	MNTR_ATTACH, MNTR_PUBLISH, MNTR_DETACH, MNTR_LIST, 0
};

static struct chan ch;
static struct wire_msg *pm;	/* the parent's request: big, not on the stack */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
send_parent(struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish(e, &buf, &len)) == 0)
		r = chan_send_wait(&ch, buf, len, -1);
	wire_enc_free(e);
	/*
	 * The parent is gone (killed, say): stop, as when it closes.  The
	 * mounts stay with their containers; a restarted hushd adopts them.
	 */
	if (r == HUSH_E_IO) {
		log_debug("the parent is gone; shutting down");
		_exit(0);
	}
	if (r != 0)
		fatal_r(r, "sending to the parent");
}

/* The container's init is gone: forget it and tell the parent. */
static void
ctr_exited(struct mnt_ctr *c)
{
	struct wire_enc e;

	log_info("container %.64s: process %ld exited, secrets dropped",
	    c->id, (long)c->pid);
	wire_enc_init(&e, MNTR_EVENT, 0, 4096);
	wire_put_str(&e, T_CONTAINER_ID, c->id);
	wire_put_str(&e, T_STATUS_TEXT, "exited");
	/* no namespace left to unmount from */
	mnt_ctr_drop(c, false);
	send_parent(&e);
}

/*
 * Whether c's init has ended: no such pid, a pid now used by another
 * process, or a zombie.  Checked this way both after an exit event (which
 * may be an old one, about an earlier process with the same pid) and
 * after the kernel dropped events.
 */
static bool
ctr_gone(const struct mnt_ctr *c)
{
	uint64_t start;
	bool dead;

	if (kill(c->pid, 0) == -1 && errno == ESRCH)
		return true;
	if (proc_start_time(c->pid, &start, &dead) != 0)
		return true;
	return start != c->start || dead;
}

static void
on_exit_event(void *arg, pid_t pid, uint32_t code, uint32_t sig)
{
	struct mnt_ctr *c, *next;

	for (c = mnt_ctr_list(); c != NULL; c = next) {
		next = c->next;
		if (c->pid == pid && ctr_gone(c))
			ctr_exited(c);
	}
}

static void
check_all(void)
{
	struct mnt_ctr *c, *next;

	for (c = mnt_ctr_list(); c != NULL; c = next) {
		next = c->next;
		if (ctr_gone(c))
			ctr_exited(c);
	}
}

static const uint16_t with_fd[] = { MNTR_ATTACH, 0 };	/* its pidfd */

static const struct parent_link parent = {
	.child = "mounter",
	.max_msg = MOUNTER_MAX_MSG,
	.allowed = from_parent,
	.with_fd = with_fd,
	.send = send_parent,
};

static void
handle(struct chan_msg *cm)
{
	struct wire_enc e;
	char why[1024] = "";
	uint16_t type;
	int r;

	/* The parent sends the mounter requests only: no answer can be bad. */
	if (parent_msg_take(&parent, cm, pm, why, sizeof(why)) != PARENT_MSG_OK)
		return;
	type = pm->hdr.type;
	wire_enc_init(&e, type | MSG_REPLY, pm->hdr.request_id, MOUNTER_MAX_MSG);
	why[0] = '\0';
	switch (type) {
	case MNTR_ATTACH:
		r = mnt_attach(pm, &cm->fd, &e, now_ms(), why, sizeof(why));
		break;
	case MNTR_PUBLISH:
		r = mnt_publish(pm, &e, now_ms(), why, sizeof(why));
		break;
	case MNTR_DETACH:
		r = mnt_detach(pm, why, sizeof(why));
		break;
	case MNTR_LIST:
		r = mnt_list(pm, &e);
		break;
	default:
		fatal("unhandled request type 0x%04x", type);
	}
	if (r == 0)
		r = e.err;
	if (r != 0) {
		wire_enc_free(&e);
		/* A failure fails e, and send_parent() is fatal on that. */
		(void)!msg_error_reply(&e, pm->hdr.request_id, r, why);
	}
	send_parent(&e);
}

/* Prunes what is due; the poll timeout until the next one, or -1. */
static int
prune_due(void)
{
	uint64_t now = now_ms(), next = 0;

	for (struct mnt_ctr *c = mnt_ctr_list(); c != NULL; c = c->next) {
		if (c->prune_at != 0 && c->prune_at <= now)
			mnt_ctr_prune(c);
		if (c->prune_at != 0 && (next == 0 || c->prune_at < next))
			next = c->prune_at;
	}
	return next == 0 ? -1 : (int)(next - now);
}

void
mounter_main(int fd)
{
	struct procwatch w;
	struct pollfd pfd[2];
	struct chan_msg cm;
	char why[256];
	int r, timeout;

	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	if ((pm = malloc(sizeof(*pm))) == NULL)
		fatal("out of memory");
	/*
	 * Without exit events a killed container's bytes would stay until
	 * the parent says so: refuse to run rather than quietly hold them.
	 */
	if ((r = procwatch_open(&w, why, sizeof(why))) != 0)
		fatal_r(r, "process exit events: %s", why);
	chan_init(&ch, fd, "parent", MOUNTER_MAX_MSG, mounter_child.allow_fds);
	for (;;) {
		pfd[0].fd = ch.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = w.fd;
		pfd[1].events = POLLIN;
		/* helpers stuck past their deadline: looked for once a second */
		timeout = prune_due();
		if (secretfs_reap_strays() > 0 && (timeout < 0 || timeout > 1000))
			timeout = 1000;
		if (poll(pfd, 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		if (pfd[1].revents != 0) {
			r = procwatch_read(&w, on_exit_event, NULL);
			if (r == HUSH_E_TRUNCATED)
				check_all();
			else if (r < 0)
				fatal_r(r, "reading process exit events");
		}
		if (pfd[0].revents == 0)
			continue;
		if ((r = chan_recv(&ch, &cm)) == HUSH_E_IO)
			break;		/* the parent closed the channel */
		if (r < 0)
			parent_msg_lost(&parent, &ch, r);
		if (r == 1) {
			handle(&cm);
			chan_msg_free(&cm);	/* wipes the secret bytes */
		}
	}
	while (mnt_ctr_list() != NULL)
		mnt_ctr_drop(mnt_ctr_list(), false);
	procwatch_close(&w);
	chan_close(&ch);
	free(pm);
}
