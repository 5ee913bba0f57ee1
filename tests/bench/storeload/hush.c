/*
 * Requests to hushd as hushctl makes them: lib/ctl_client.c's ctl_call,
 * one connection per request, with its retries (an unknown outcome is
 * resent with the same T_REQ_ID; "busy", when hushd already serves
 * CONTROL_CLI_MAX requests, is resent after CTL_PAUSE_MS).  Busy retries
 * are part of what a client of a loaded hushd waits, so they stay inside
 * the measured latency and are counted besides.
 */
#include <stdio.h>
#include <string.h>

#include "ctl_client.h"
#include "err.h"
#include "msg.h"
#include "storeload.h"
#include "wire.h"

static int
hush_open(struct sl_client *c, char *err, size_t errlen)
{
	return 0;
}

static void
hush_close(struct sl_client *c)
{
}

static int
count_record(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	(*(uint64_t *)arg)++;
	return 0;
}

/* One call; on failure its text into err. */
static int
call(struct sl_client *c, const char *what, struct wire_enc *e,
    struct ctl_reply *rep, unsigned *busy, char *err, size_t errlen)
{
	struct ctl_error ce;
	int r;

	r = ctl_call(c->addr, what, e, rep, NULL, &ce);
	wire_enc_free(e);
	*busy += ce.busy_retries;
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", c->addr, ce.text);
		return -1;
	}
	return 0;
}

/* Every page of the secret list, as hushctl secret ls asks for them. */
static int
list_all(struct sl_client *c, unsigned *busy, char *err, size_t errlen)
{
	char cursor[HUSH_CURSOR_MAX + 1] = "", next[HUSH_CURSOR_MAX + 1];
	struct ctl_reply rep;
	struct wire_enc e;
	uint64_t n = 0;
	int r;

	for (;;) {
		ctl_request(&e, CTL_SECRET_LIST);
		if (cursor[0] != '\0')
			wire_put_str(&e, T_CURSOR, cursor);
		if (call(c, "secret ls", &e, &rep, busy, err, errlen) != 0)
			return -1;
		r = msg_records_each(rep.msg, T_SECRET, REC_SECRET, count_record, &n);
		if (r == 0)
			r = wire_get_str(rep.msg, T_CURSOR, next, sizeof(next));
		ctl_reply_free(&rep);
		if (r == HUSH_E_NOTFOUND)
			break;
		if (r != 0) {
			snprintf(err, errlen, "secret ls: bad reply: %s", hush_strerror(r));
			return -1;
		}
		if (strcmp(next, cursor) <= 0) {
			snprintf(err, errlen, "secret ls: a page did not move forward");
			return -1;
		}
		memcpy(cursor, next, sizeof(cursor));
	}
	c->records = n;
	return 0;
}

static int
hush_request(struct sl_client *c, const char *name, unsigned *busy, char *err,
    size_t errlen)
{
	struct ctl_reply rep;
	struct wire_enc e;
	uint64_t n = 0;
	int r = 0;

	*busy = 0;
	switch (c->cfg->op) {
	case OP_CREATE:
		ctl_request(&e, CTL_SECRET_CREATE);
		ctl_put_req_id(&e);
		wire_put_str(&e, T_NAME, name);
		wire_put_bytes(&e, T_DATA, c->value, c->cfg->value_size);
		if (call(c, "secret create", &e, &rep, busy, err, errlen) != 0)
			return -1;
		if (wire_count(rep.msg, T_SECRET_ID) != 1) {
			snprintf(err, errlen, "secret create %s: no secret id in the reply", name);
			r = -1;
		}
		break;
	case OP_UPDATE:
		ctl_request(&e, CTL_SECRET_UPDATE);
		ctl_put_req_id(&e);
		wire_put_str(&e, T_REF, name);
		wire_put_bytes(&e, T_DATA, c->value, c->cfg->value_size);
		if (call(c, "secret update", &e, &rep, busy, err, errlen) != 0)
			return -1;
		break;
	case OP_GET:
		ctl_request(&e, CTL_SECRET_INSPECT);
		wire_put_str(&e, T_REF, name);
		if (call(c, "secret inspect", &e, &rep, busy, err, errlen) != 0)
			return -1;
		if ((r = msg_records_each(rep.msg, T_SECRET, REC_SECRET, count_record,
		    &n)) != 0 || n != 1) {
			snprintf(err, errlen, "secret inspect %s: %s", name, r != 0 ?
			    hush_strerror(r) : "not exactly one record in the reply");
			r = -1;
		}
		break;
	case OP_LIST:
		return list_all(c, busy, err, errlen);
	}
	ctl_reply_free(&rep);
	return r;
}

const struct sl_target_ops sl_hush = { hush_open, hush_request, hush_close };
