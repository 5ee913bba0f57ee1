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
#include "store_calls.h"

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

/* Answer with the ids a command's outcome carries; tag says what they are here. */
void
op_reply_ids(struct op *op, int status, const char *detail, uint16_t tag)
{
	const struct store_applied *a = op->ctx;
	struct wire_enc e;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	wire_enc_init(&e, op->type | MSG_REPLY, op->client_req, 65536);
	for (size_t i = 0; i < a->nids; i++)
		wire_put_str(&e, tag, a->ids[i]);
	if (a->duplicate)
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
	audit_secret(op->p, audit_op(op), NULL, 0, false);
	op_error(op, code, detail);
}

/* The store's answer to a secret command: the audit record, then the reply. */
void
op_secret_ids_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	const struct store_applied *a = op->ctx;

	audit_secret(op->p, audit_op(op), a->ids, a->nids, status == 0);
	op_reply_ids(op, status, detail, T_SECRET_ID);
}

void
op_secret_create(struct op *op, const struct wire_msg *m)
{
	const struct wire_field *name;
	struct store_applied *a;
	char id[HUSH_ID_LEN + 1], why[512];
	int r;

	name = wire_find(m, T_NAME, 0);
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
	if ((a = store_applied_in(op)) == NULL) {
		op_secret_failed(op, HUSH_E_NOMEM, NULL);
		return;
	}
	if ((r = store_secret_create(op, m, id, a, op_secret_ids_done)) != 0)
		op_secret_failed(op, r, NULL);
}

void
op_secret_rm(struct op *op, const struct wire_msg *m)
{
	struct store_applied *a;
	int r;

	if ((a = store_applied_in(op)) == NULL) {
		op_secret_failed(op, HUSH_E_NOMEM, NULL);
		return;
	}
	if ((r = store_secret_rm(op, m, a, op_secret_ids_done)) != 0)
		op_secret_failed(op, r, NULL);
}

void
op_secret_list(struct op *op, const struct wire_msg *m)
{
	op_relay_list(op, m, store_secret_list);
}

void
op_secret_inspect(struct op *op, const struct wire_msg *m)
{
	op_relay_get(op, m, store_secret_get);
}
