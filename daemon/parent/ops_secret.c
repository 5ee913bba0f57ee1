/*
 * Secrets: create, list, inspect, remove.  Names and labels are checked here
 * for a quick, clear answer, and again when the command is applied, which is
 * what actually decides (a name may be taken between the two).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "names.h"
#include "parent.h"

static int
check_labels(const struct wire_msg *m, char *why, size_t whylen)
{
	char key[LABEL_KEY_MAX + 1], val[LABEL_VALUE_MAX + 1], kv[LABEL_KEY_MAX + LABEL_VALUE_MAX + 2];

	for (size_t i = 0; i < wire_count(m, T_LABEL); i++) {
		const struct wire_field *f = wire_find(m, T_LABEL, i);

		if (f->len >= sizeof(kv))
			return HUSH_E_TOOBIG;
		memcpy(kv, f->val, f->len);
		kv[f->len] = '\0';
		if (label_parse(kv, key, sizeof(key), val, sizeof(val), why, whylen) != 0)
			return HUSH_E_INVAL;
	}
	return 0;
}

static int
record_ok(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	return 0;
}

/* Check every REC_SECRET record of a query answer, then pass the list on. */
static int
copy_records(struct op *op, const struct wire_msg *from, struct wire_enc *to)
{
	const uint8_t *list;
	size_t len;
	int r;

	if ((r = msg_records_each(from, T_SECRET, REC_SECRET, record_ok, NULL)) != 0) {
		child_kill(&op->p->raft, "malformed secret record");
		return r;
	}
	wire_get_bytes(from, T_RECORDS, &list, &len);
	wire_put_bytes(to, T_RECORDS, list, len);
	page_mark_out(to, from);
	return 0;
}

static void
records_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct wire_enc e;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	wire_enc_init(&e, op->type | MSG_REPLY, op->client_req, WIRE_MAX_MSG);
	if (copy_records(op, reply, &e) != 0) {
		wire_enc_free(&e);
		op_error(op, HUSH_E_UNAVAIL, "the raft process misbehaved and was restarted");
		return;
	}
	op_reply(op, &e);
}

/*
 * Answer with the ids a command's outcome carries: the raft process reports
 * them as T_SECRET_ID whatever they name; tag says what they are here.
 */
void
op_reply_ids(struct op *op, int status, const struct wire_msg *reply, const char *detail,
    uint16_t tag)
{
	struct wire_enc e;
	char id[HUSH_ID_LEN + 1];
	bool dup = false;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	wire_enc_init(&e, op->type | MSG_REPLY, op->client_req, 65536);
	for (size_t i = 0; i < wire_count(reply, T_SECRET_ID); i++) {
		wire_field_str(wire_find(reply, T_SECRET_ID, i), id, sizeof(id));
		wire_put_str(&e, tag, id);
	}
	if (wire_get_bool(reply, T_DUPLICATE, &dup) == 0 && dup)
		wire_put_bool(&e, T_DUPLICATE, true);
	op_reply(op, &e);
}

/* The audit trail's name for a secret request. */
static const char *
audit_op(const struct op *op)
{
	switch (op->type) {
	case CTL_SECRET_CREATE:
		return "secret-create";
	case CTL_SECRET_UPDATE:
		return "secret-update";
	case CTL_SECRET_RM:
		return "secret-rm";
	default:
		return "secret-?";
	}
}

/* A secret request that ends before its command reaches the store. */
void
op_secret_failed(struct op *op, int code, const char *detail)
{
	audit_secret(op->p, audit_op(op), NULL, false);
	op_error(op, code, detail);
}

/* The store's answer to a secret command: the audit record, then the reply. */
void
op_secret_ids_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	audit_secret(op->p, audit_op(op), reply, status == 0);
	op_reply_ids(op, status, reply, detail, T_SECRET_ID);
}

void
op_secret_create(struct op *op, const struct wire_msg *m)
{
	struct wire_enc cmd;
	const struct wire_field *name, *data, *req_id;
	char id[HUSH_ID_LEN + 1], why[512];
	int r;

	name = wire_find(m, T_NAME, 0);
	data = wire_find(m, T_DATA, 0);
	req_id = wire_find(m, T_REQ_ID, 0);
	if (secret_name_check((const char *)name->val, name->len, why, sizeof(why)) != 0) {
		op_secret_failed(op, HUSH_E_INVAL, why);
		return;
	}
	if ((r = check_labels(m, why, sizeof(why))) != 0) {
		op_secret_failed(op, r, why);
		return;
	}
	if (hush_id_new(id) != 0) {
		op_secret_failed(op, HUSH_E_CRYPTO, NULL);
		return;
	}
	wire_enc_init(&cmd, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&cmd, T_REQ_ID, req_id->val, req_id->len);
	wire_put_str(&cmd, T_SECRET_ID, id);
	wire_put_bytes(&cmd, T_NAME, name->val, name->len);
	wire_put_bytes(&cmd, T_DATA, data->val, data->len);
	for (size_t i = 0; i < wire_count(m, T_LABEL); i++) {
		const struct wire_field *f = wire_find(m, T_LABEL, i);

		wire_put_bytes(&cmd, T_LABEL, f->val, f->len);
	}
	wire_put_i64(&cmd, T_CREATED, parent_now());
	r = raft_propose(op, &cmd, op_secret_ids_done);
	wire_enc_free(&cmd);
	if (r != 0)
		op_secret_failed(op, r, NULL);
}

void
op_secret_rm(struct op *op, const struct wire_msg *m)
{
	struct wire_enc cmd;
	const struct wire_field *req_id = wire_find(m, T_REQ_ID, 0);
	int r;

	wire_enc_init(&cmd, CMD_SECRET_RM, 0, 65536);
	wire_put_bytes(&cmd, T_REQ_ID, req_id->val, req_id->len);
	for (size_t i = 0; i < wire_count(m, T_REF); i++) {
		const struct wire_field *f = wire_find(m, T_REF, i);

		wire_put_bytes(&cmd, T_REF, f->val, f->len);
	}
	r = raft_propose(op, &cmd, op_secret_ids_done);
	wire_enc_free(&cmd);
	if (r != 0)
		op_secret_failed(op, r, NULL);
}

void
op_secret_list(struct op *op, const struct wire_msg *m)
{
	struct wire_enc q;
	int r;

	wire_enc_init(&q, QRY_SECRET_LIST, 0, HUSH_CURSOR_MAX + 64);
	page_cursor_in(&q, m);
	r = raft_query(op, &q, records_done);
	wire_enc_free(&q);
	if (r != 0)
		op_error(op, r, NULL);
}

void
op_secret_inspect(struct op *op, const struct wire_msg *m)
{
	struct wire_enc q;
	int r;

	wire_enc_init(&q, QRY_SECRET_GET, 0, 65536);
	for (size_t i = 0; i < wire_count(m, T_REF); i++) {
		const struct wire_field *f = wire_find(m, T_REF, i);

		wire_put_bytes(&q, T_REF, f->val, f->len);
	}
	r = raft_query(op, &q, records_done);
	wire_enc_free(&q);
	if (r != 0)
		op_error(op, r, NULL);
}
