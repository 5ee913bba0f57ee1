/*
 * The two requests the hook makes of hushd, and the one-line error a
 * runtime shows its user when one fails.  Both are safe to resend (hushd
 * keys them by container id, msg.h), so an unknown outcome is retried
 * until the hook's deadline.  An attach passes the pidfd of the
 * container's process with every attempt, so that each one names the
 * process the runtime meant, not merely its number.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl_client.h"
#include "err.h"
#include "hook.h"
#include "msg.h"

int64_t
hook_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of the run for hushd; never nothing, the alarm is the bound. */
static int
budget_ms(const struct hook *h)
{
	int64_t left = h->deadline_ms - hook_now_ms();

	return left < 500 ? 500 : (int)left;
}

static void
report(const struct hook *h, const char *id, const struct ctl_error *err)
{
	const char *gave_up = err->gave_up ? " (gave up waiting for hushd)" : "";
	int e = err->sys_errno;

	if (err->impostor) {
		/*
		 * Not hushd, and sent nothing: the text names the socket and
		 * who serves it, which is about the node, not the container.
		 */
		fprintf(stderr, HOOK_NAME ": %s\n", err->text);
		return;
	}
	if (err->unreachable && e != 0) {
		/* Nothing was sent, so say only what stopped the connection. */
		fprintf(stderr, HOOK_NAME ": cannot reach hushd at %s: %s%s\n",
		    h->socket, strerror(e),
		    e == ENOENT || e == ECONNREFUSED ? " (is hushd running?)" : "");
		return;
	}
	if (e != 0) {
		/* hushd went away while the request was being retried. */
		fprintf(stderr, HOOK_NAME ": %s: %s%s\n", id, err->text, gave_up);
		return;
	}
	/* Any other text starts with the container id, the request's "what". */
	fprintf(stderr, HOOK_NAME ": %s%s\n", err->text, gave_up);
}

/* fd: passed with the request (each attempt), or -1 for none. */
static int
call(const struct hook *h, const struct oci_state *st, struct wire_enc *e,
    int fd, struct ctl_reply *rep)
{
	struct ctl_opts opts;
	struct ctl_error err;
	int r;

	memset(&opts, 0, sizeof(opts));
	opts.budget_ms = budget_ms(h);
	if (fd >= 0) {
		opts.send_fd = true;
		opts.fd = fd;
	}
	if ((r = ctl_call(h->socket, st->id, e, rep, &opts, &err)) != 0)
		report(h, st->id, &err);
	return r;
}

int
hook_attach(const struct hook *h, const struct oci_state *st,
    const char *service, const char *claim, int pidfd,
    const struct oci_config *cfg)
{
	struct wire_enc e;
	struct ctl_reply rep;
	int r;

	ctl_request(&e, CTL_CONTAINER_ATTACH);
	wire_put_str(&e, T_CONTAINER_ID, st->id);
	wire_put_str(&e, T_SERVICE_NAME, service);
	wire_put_u32(&e, T_PID, st->pid);
	wire_put_str(&e, T_ROOT_PATH, cfg->root);
	wire_put_str(&e, T_BUNDLE, st->bundle);
	/* None given: hushd refuses the container and says why. */
	if (claim != NULL)
		wire_put_str(&e, T_CLAIM, claim);
	if (cfg->userns) {
		idmap_put(&e, T_UID_MAP, &cfg->uid);
		idmap_put(&e, T_GID_MAP, &cfg->gid);
	}
	/* wire_enc_free() wipes the encoded claim. */
	r = call(h, st, &e, pidfd, &rep);
	wire_enc_free(&e);
	if (r == 0)
		ctl_reply_free(&rep);
	return r;
}

int
hook_detach(const struct hook *h, const struct oci_state *st)
{
	struct wire_enc e;
	struct ctl_reply rep;
	int r;

	ctl_request(&e, CTL_CONTAINER_DETACH);
	wire_put_str(&e, T_CONTAINER_ID, st->id);
	r = call(h, st, &e, -1, &rep);
	wire_enc_free(&e);
	if (r == 0)
		ctl_reply_free(&rep);
	return r;
}
