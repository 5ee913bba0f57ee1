/*
 * The parent's typed calls to the mounter (mounter_calls.h).  To add a
 * request to a child: write one wrapper here, in the same shape -- build
 * the request from typed arguments, decode the answer in one static
 * function, go through op_call().
 */
#include <stdio.h>

#include "err.h"
#include "log.h"
#include "mounter/mounter.h"
#include "mounter_calls.h"
#include "op_call.h"

/* Sends e to the mounter (with fd, or -1) and frees it, whatever happens. */
static int
mounter_send(struct op *op, struct wire_enc *e, int fd, op_call_decode decode, void *out,
    op_done_cb cb)
{
	int r = op_call(&op->p->mounter, e, fd, op, decode, out, cb);

	wire_enc_free(e);
	return r;
}

/*
 * svc's files for c into e; one delivery is one mounter message, so a
 * set that does not fit is refused now, saying so, rather than never
 * answered.
 */
static int
put_set(struct op *op, struct wire_enc *e, const struct container *c,
    const struct assigned_service *svc, char *why, size_t whylen)
{
	int r = ctr_put_files(op->p, e, c, svc, why, whylen);

	if (r == 0 && e->err == HUSH_E_TOOBIG) {
		r = HUSH_E_TOOBIG;
		snprintf(why, whylen, "the secrets of service '%s' are larger than one "
		    "delivery can carry (%u bytes in all)", c->service,
		    (unsigned)MOUNTER_MAX_MSG);
	}
	return r;
}

static int
attached(struct op *op, const struct wire_msg *reply, void *arg, char *why, size_t whylen)
{
	struct mounter_view *out = arg;

	/* The schema requires all three. */
	if (wire_get_u32(reply, T_COUNT, &out->count) != 0 ||
	    wire_get_u64(reply, T_VIEW_ID, &out->view_id) != 0 ||
	    wire_get_u64(reply, T_START_TIME, &out->start) != 0) {
		snprintf(why, whylen, "the mounter answered without its view");
		return HUSH_E_PROTO;
	}
	return 0;
}

int
mounter_attach(struct op *op, const struct container *c, const struct assigned_service *svc,
    struct mounter_view *out, op_done_cb cb, char *why, size_t whylen)
{
	struct wire_enc e;
	int r;

	wire_enc_init(&e, MNTR_ATTACH, child_next_id(&op->p->mounter), WIRE_MAX_MSG);
	wire_put_str(&e, T_CONTAINER_ID, c->id);
	wire_put_u32(&e, T_PID, (uint32_t)c->pid);
	wire_put_str(&e, T_ROOT_PATH, c->root);
	if ((r = put_set(op, &e, c, svc, why, whylen)) != 0) {
		wire_enc_free(&e);
		return r;
	}
	/* the mounter gets a copy of the pidfd; ours pins it for adoption */
	if ((r = mounter_send(op, &e, c->pidfd, attached, out, cb)) != 0)
		snprintf(why, whylen, "the mounter process is not available");
	return r;
}

static int
counted(struct op *op, const struct wire_msg *reply, void *arg, char *why, size_t whylen)
{
	if (wire_get_u32(reply, T_COUNT, arg) != 0) {
		snprintf(why, whylen, "the mounter answered without a count");
		return HUSH_E_PROTO;
	}
	return 0;
}

static void
adopt_msg(struct op *op, const struct container *c, struct wire_enc *e)
{
	wire_enc_init(e, MNTR_ATTACH, child_next_id(&op->p->mounter), WIRE_MAX_MSG);
	wire_put_str(e, T_CONTAINER_ID, c->id);
	wire_put_u32(e, T_PID, (uint32_t)c->pid);
	wire_put_str(e, T_ROOT_PATH, c->root);
	wire_put_str(e, T_TARGET, c->target);
	wire_put_bool(e, T_ADOPT, true);
	wire_put_u64(e, T_VIEW_ID, c->view_id);
	wire_put_u64(e, T_START_TIME, c->start);
}

int
mounter_adopt(struct op *op, const struct container *c, const struct assigned_service **svc,
    uint32_t *count, op_done_cb cb)
{
	struct wire_enc e;
	char why[512];

	adopt_msg(op, c, &e);
	if (*svc != NULL && ctr_put_files(op->p, &e, c, *svc, why, sizeof(why)) != 0) {
		log_err("container %.64s: %s; its files are taken away", c->id, why);
		wire_enc_free(&e);
		adopt_msg(op, c, &e);
		*svc = NULL;
	}
	/* without a pidfd (a record from before hushd restarted) the mounter pins it */
	return mounter_send(op, &e, c->pidfd, counted, count, cb);
}

int
mounter_publish(struct op *op, const struct container *c, const struct assigned_service *svc,
    op_done_cb cb, char *why, size_t whylen)
{
	struct wire_enc e;
	int r;

	wire_enc_init(&e, MNTR_PUBLISH, child_next_id(&op->p->mounter), WIRE_MAX_MSG);
	wire_put_str(&e, T_CONTAINER_ID, c->id);
	if ((r = put_set(op, &e, c, svc, why, whylen)) != 0) {
		wire_enc_free(&e);
		return r;
	}
	if ((r = mounter_send(op, &e, -1, NULL, NULL, cb)) != 0)
		snprintf(why, whylen, "the mounter process is not available");
	return r;
}

int
mounter_detach(struct op *op, const char *id, op_done_cb cb)
{
	struct wire_enc e;

	wire_enc_init(&e, MNTR_DETACH, child_next_id(&op->p->mounter), 2048);
	wire_put_str(&e, T_CONTAINER_ID, id);
	return mounter_send(op, &e, -1, NULL, NULL, cb);
}

static int
mount_record_ok(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	return 0;
}

/*
 * Passed on as it came once every record checks out: a mounter that
 * sends garbage is restarted, not believed.
 */
static int
listed(struct op *op, const struct wire_msg *reply, void *arg, char *why, size_t whylen)
{
	struct mounter_list *out = arg;
	const struct wire_field *f;

	if (msg_records_each(reply, T_MOUNT, REC_MOUNT, mount_record_ok, NULL) != 0 ||
	    wire_get_bytes(reply, T_RECORDS, &out->records, &out->len) != 0) {
		child_kill(&op->p->mounter, "malformed mount record");
		out->misbehaved = true;
		snprintf(why, whylen, "the mounter process misbehaved and was restarted");
		return HUSH_E_UNAVAIL;
	}
	if ((f = wire_find(reply, T_CURSOR, 0)) != NULL) {
		out->cursor = f->val;
		out->cursorlen = f->len;
	}
	return 0;
}

int
mounter_list(struct op *op, const char *cursor, struct mounter_list *out, op_done_cb cb)
{
	struct wire_enc e;

	wire_enc_init(&e, MNTR_LIST, child_next_id(&op->p->mounter), HUSH_CURSOR_MAX + 64);
	if (cursor != NULL)
		wire_put_str(&e, T_CURSOR, cursor);
	return mounter_send(op, &e, -1, listed, out, cb);
}
