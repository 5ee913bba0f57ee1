/*
 * The exchange itself lives in lib/ctl_client.c, shared with the OCI hook;
 * this file only words its failures the way every hushctl command does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

void
client_request(struct wire_enc *e, uint16_t type)
{
	ctl_request(e, type);
}

void
client_put_req_id(struct wire_enc *e)
{
	ctl_put_req_id(e);
}

int
client_call(const char *socket, const char *what, struct wire_enc *e,
    struct reply *rep)
{
	return client_call_opts(socket, what, e, rep, NULL);
}

int
client_call_opts(const char *socket, const char *what, struct wire_enc *e,
    struct reply *rep, const struct client_opts *opts)
{
	static const struct client_opts defaults = { 0, false, NULL, false, -1 };
	struct ctl_opts co;
	struct ctl_reply cr;
	struct ctl_error err;
	int r;

	if (opts == NULL)
		opts = &defaults;
	memset(&co, 0, sizeof(co));
	co.reply_ms = opts->reply_ms;
	co.once = opts->once;
	co.send_fd = opts->send_fd;
	co.fd = opts->fd;

	memset(rep, 0, sizeof(*rep));
	rep->raw.fd = -1;
	if ((r = ctl_call(socket, what, e, &cr, &co, &err)) == 0) {
		/* The reply's bytes and parse move to the caller. */
		rep->raw = cr.raw;
		rep->msg = cr.msg;
		return 0;
	}
	if (err.gave_up)
		fprintf(stderr, "hushctl: %s (gave up after %d s of retries)\n",
		    err.text, CLIENT_RETRY_MS / 1000);
	else if (opts->once && err.unknown && opts->unsure != NULL)
		fprintf(stderr, "hushctl: %s; %s\n", err.text, opts->unsure);
	else
		fprintf(stderr, "hushctl: %s\n", err.text);
	return r;
}

void
reply_free(struct reply *rep)
{
	chan_msg_free(&rep->raw);
	free(rep->msg);
	rep->msg = NULL;
}
