#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "err.h"
#include "launcher.h"
#include "log.h"
#include "msg.h"
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

void
child_init(struct child *c, const struct child_desc *desc)
{
	memset(c, 0, sizeof(*c));
	c->desc = desc;
	c->ch.fd = -1;
	c->trap_fd = -1;
	c->backoff_ms = BACKOFF_MIN_MS;
}

static void
child_started(struct child *c, pid_t pid, int chan_fd, int trap_fd)
{
	const struct child_desc *d = c->desc;

	if (c->trap_fd >= 0)
		close(c->trap_fd);
	c->trap_fd = trap_fd;
	c->trap_note[0] = '\0';
	fcntl(trap_fd, F_SETFL, fcntl(trap_fd, F_GETFL) | O_NONBLOCK);
	fcntl(chan_fd, F_SETFL, fcntl(chan_fd, F_GETFL) | O_NONBLOCK);
	chan_init(&c->ch, chan_fd, d->name, d->max_msg, d->allow_fds);
	c->pid = pid;
	c->started_ms = child_now_ms();
	log_info("started %s process (pid %ld)", d->name, (long)pid);
}

int
child_spawn(struct child *c)
{
	int chan_fd, trap_fd, r;
	pid_t pid;

	if ((r = launcher_spawn(c->desc, &pid, &chan_fd, &trap_fd)) != 0)
		return r;
	child_started(c, pid, chan_fd, trap_fd);
	return 0;
}

int
child_spawn_here(struct child *c)
{
	int chan_fd, trap_fd, r;
	pid_t pid;

	child_preload();
	if ((r = child_fork(c->desc, &pid, &chan_fd, &trap_fd)) != 0) {
		errno = -r;
		return HUSH_E_SYS;
	}
	child_started(c, pid, chan_fd, trap_fd);
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
child_trap_read(struct child *c)
{
	struct sandbox_trap t;
	char what[128];

	while (sandbox_trap_read(c->trap_fd, &t, what, sizeof(what))) {
		/*
		 * A process the child forked (the mounter's helpers) inherits
		 * the pipe: its death is news now, the child's own when the
		 * child is reaped.
		 */
		if (t.pid != c->pid)
			log_err("a process the %s process started (pid %ld) was killed "
			    "by its sandbox: %s", c->desc->name, (long)t.pid, what);
		else
			snprintf(c->trap_note, sizeof(c->trap_note), ": %s", what);
	}
}

void
child_death_detail(struct child *c, char *buf, size_t len)
{
	child_trap_read(c);
	snprintf(buf, len, "%s", c->trap_note);
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
	if (launcher_kill(c->desc, c->pid) != 0)
		log_err("cannot reach the launcher to kill the %s process", c->desc->name);
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
		/*
		 * A broken channel means the process is dying and the reaper
		 * will restart it: to the caller that is "unavailable, retry",
		 * the same as if the death had been noticed first.  Seen as a
		 * create failing with a bare "I/O error" when the raft process
		 * was killed between two requests.
		 */
		return r == HUSH_E_IO ? HUSH_E_UNAVAIL : r;
	}
	k->next = c->calls;
	c->calls = k;
	return 0;
}

static void
abandoned(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	if (fd >= 0)
		close(fd);
}

void
child_call_abandon(struct child *c, void *arg)
{
	for (struct call *k = c->calls; k != NULL; k = k->next) {
		if (k->arg == arg) {
			k->cb = abandoned;
			k->arg = NULL;
		}
	}
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
