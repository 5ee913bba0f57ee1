/*
 * Services (named grants), the update of a secret's data, and node labels.
 * The parent checks what it cheaply can for a quick, clear answer; the store
 * checks everything again when the command is applied, and that decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "names.h"
#include "parent.h"
#include "store_calls.h"

static int
record_ok(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	struct wire_msg *g = arg;
	char why[256];
	int r;

	/* The grants nested in each service must be well formed too. */
	for (size_t i = 0; i < wire_count(rec, T_GRANT); i++) {
		const struct wire_field *f = wire_find(rec, T_GRANT, i);

		if ((r = msg_parse_record(f->val, f->len, REC_SERVICE_GRANT, g, why,
		    sizeof(why))) != 0)
			return r;
	}
	return 0;
}

static void
records_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct wire_msg *g;
	struct wire_enc e;
	const uint8_t *list;
	size_t len;
	int r;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	if ((g = malloc(sizeof(*g))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	r = msg_records_each(reply, T_SERVICE, REC_SERVICE, record_ok, g);
	free(g);
	if (r != 0) {
		child_kill(&op->p->raft, "malformed service record");
		op_error(op, HUSH_E_UNAVAIL, "the raft process misbehaved and was restarted");
		return;
	}
	wire_get_bytes(reply, T_RECORDS, &list, &len);
	wire_enc_init(&e, op->type | MSG_REPLY, op->client_req, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_RECORDS, list, len);
	page_mark_out(&e, reply);
	op_reply(op, &e);
}

static void
service_ids_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	op_reply_ids(op, status, reply, detail, T_SERVICE_ID);
}

static void
empty_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct wire_enc e;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	wire_enc_init(&e, op->type | MSG_REPLY, op->client_req, 64);
	op_reply(op, &e);
}

/* Copy every field with tag from m to e, as is: the schema bounded them. */
static void
copy_all(struct wire_enc *e, const struct wire_msg *m, uint16_t tag)
{
	for (size_t i = 0; i < wire_count(m, tag); i++) {
		const struct wire_field *f = wire_find(m, tag, i);

		wire_put_bytes(e, tag, f->val, f->len);
	}
}

/* Each T_GRANT must be a REC_GRANT; bad ones are answered here, not logged. */
static int
check_grants(const struct wire_msg *m, char *why, size_t whylen)
{
	struct wire_msg *g;
	int r = 0;

	if (wire_count(m, T_GRANT) > HUSH_SERVICE_GRANTS_MAX) {
		snprintf(why, whylen, "a service can grant at most %d secrets",
		    HUSH_SERVICE_GRANTS_MAX);
		return HUSH_E_INVAL;
	}
	if ((g = malloc(sizeof(*g))) == NULL)
		return HUSH_E_NOMEM;
	for (size_t i = 0; r == 0 && i < wire_count(m, T_GRANT); i++) {
		const struct wire_field *f = wire_find(m, T_GRANT, i);
		char inner[200];

		if ((r = msg_parse_record(f->val, f->len, REC_GRANT, g, inner,
		    sizeof(inner))) != 0) {
			snprintf(why, whylen, "malformed secret grant: %s", inner);
			r = HUSH_E_PROTO;
		}
	}
	free(g);
	return r;
}

static void
propose(struct op *op, struct wire_enc *cmd, op_done_cb cb)
{
	int r = raft_propose(op, cmd, cb);

	wire_enc_free(cmd);
	if (r != 0)
		op_error(op, r, NULL);
}

void
op_service_create(struct op *op, const struct wire_msg *m)
{
	const struct wire_field *name = wire_find(m, T_NAME, 0), *req_id = wire_find(m, T_REQ_ID, 0);
	struct wire_enc cmd;
	char id[HUSH_ID_LEN + 1], why[512];
	int r;

	if (secret_name_check((const char *)name->val, name->len, why, sizeof(why)) != 0) {
		op_error(op, HUSH_E_INVAL, why);
		return;
	}
	if ((r = check_grants(m, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	if (hush_id_new(id) != 0) {
		op_error(op, HUSH_E_CRYPTO, NULL);
		return;
	}
	wire_enc_init(&cmd, CMD_SERVICE_CREATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&cmd, T_REQ_ID, req_id->val, req_id->len);
	wire_put_str(&cmd, T_SERVICE_ID, id);
	wire_put_bytes(&cmd, T_NAME, name->val, name->len);
	wire_put_i64(&cmd, T_CREATED, parent_now());
	copy_all(&cmd, m, T_GRANT);
	copy_all(&cmd, m, T_CONSTRAINT);
	propose(op, &cmd, service_ids_done);
}

void
op_service_update(struct op *op, const struct wire_msg *m)
{
	const struct wire_field *req_id = wire_find(m, T_REQ_ID, 0);
	struct wire_enc cmd;
	char why[512];
	int r;

	if ((r = check_grants(m, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	wire_enc_init(&cmd, CMD_SERVICE_UPDATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&cmd, T_REQ_ID, req_id->val, req_id->len);
	copy_all(&cmd, m, T_REF);
	copy_all(&cmd, m, T_GRANT);
	copy_all(&cmd, m, T_SECRET_RM);
	copy_all(&cmd, m, T_CONSTRAINT);
	copy_all(&cmd, m, T_CONSTRAINT_RM);
	/* only the digest: the claim itself stays with hushctl (claim.h) */
	copy_all(&cmd, m, T_CLAIM_DIGEST);
	copy_all(&cmd, m, T_ROTATE);
	wire_put_i64(&cmd, T_UPDATED, parent_now());
	propose(op, &cmd, service_ids_done);
}

void
op_service_rm(struct op *op, const struct wire_msg *m)
{
	const struct wire_field *req_id = wire_find(m, T_REQ_ID, 0);
	struct wire_enc cmd;

	wire_enc_init(&cmd, CMD_SERVICE_RM, 0, 65536);
	wire_put_bytes(&cmd, T_REQ_ID, req_id->val, req_id->len);
	copy_all(&cmd, m, T_REF);
	propose(op, &cmd, service_ids_done);
}

static void
query(struct op *op, const struct wire_msg *m, uint16_t type)
{
	struct wire_enc q;
	int r;

	wire_enc_init(&q, type, 0, 65536);
	if (type == QRY_SERVICE_GET)
		copy_all(&q, m, T_REF);
	else
		page_cursor_in(&q, m);
	r = raft_query(op, &q, records_done);
	wire_enc_free(&q);
	if (r != 0)
		op_error(op, r, NULL);
}

void
op_service_list(struct op *op, const struct wire_msg *m)
{
	query(op, m, QRY_SERVICE_LIST);
}

void
op_service_inspect(struct op *op, const struct wire_msg *m)
{
	query(op, m, QRY_SERVICE_GET);
}

void
op_secret_update(struct op *op, const struct wire_msg *m)
{
	const struct wire_field *req_id = wire_find(m, T_REQ_ID, 0);
	struct wire_enc cmd;
	int r;

	wire_enc_init(&cmd, CMD_SECRET_UPDATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&cmd, T_REQ_ID, req_id->val, req_id->len);
	copy_all(&cmd, m, T_REF);
	copy_all(&cmd, m, T_DATA);
	wire_put_i64(&cmd, T_UPDATED, parent_now());
	r = raft_propose(op, &cmd, op_secret_ids_done);
	wire_enc_free(&cmd);
	if (r != 0)
		op_secret_failed(op, r, NULL);
}

/* Labels only; the store knows nodes by id. */
void
op_node_update(struct op *op, const struct wire_msg *m)
{
	const struct wire_field *req_id = wire_find(m, T_REQ_ID, 0);
	struct store_node_change change;
	char ref[65], why[200];
	int r;

	if (wire_get_str(m, T_REF, ref, sizeof(ref)) != 0 || !hush_id_valid(ref)) {
		snprintf(why, sizeof(why), "node '%s' not found", ref);
		op_error(op, HUSH_E_NOTFOUND, why);
		return;
	}
	if (wire_count(m, T_LABEL) + wire_count(m, T_LABEL_RM) == 0) {
		op_error(op, HUSH_E_INVAL, "nothing to update");
		return;
	}
	change = (struct store_node_change){ .req_id = req_id->val, .node_id = ref, .labels = m };
	if ((r = store_node_update(op, &change, empty_done)) != 0)
		op_error(op, r, NULL);
}
