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

static void
service_ids_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	op_reply_ids(op, status, detail, T_SERVICE_ID);
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

/* The outcome's home, for an op that has no ctx yet; answers ENOMEM itself. */
static struct store_applied *
applied(struct op *op)
{
	struct store_applied *a = store_applied_in(op);

	if (a == NULL)
		op_error(op, HUSH_E_NOMEM, NULL);
	return a;
}

void
op_service_create(struct op *op, const struct wire_msg *m)
{
	const struct wire_field *name = wire_find(m, T_NAME, 0);
	struct store_applied *a;
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
	if ((a = applied(op)) == NULL)
		return;
	if ((r = store_service_create(op, m, id, a, service_ids_done)) != 0)
		op_error(op, r, NULL);
}

void
op_service_update(struct op *op, const struct wire_msg *m)
{
	struct store_applied *a;
	char why[512];
	int r;

	if ((r = check_grants(m, why, sizeof(why))) != 0) {
		op_error(op, r, why);
		return;
	}
	if ((a = applied(op)) == NULL)
		return;
	if ((r = store_service_update(op, m, a, service_ids_done)) != 0)
		op_error(op, r, NULL);
}

void
op_service_rm(struct op *op, const struct wire_msg *m)
{
	struct store_applied *a;
	int r;

	if ((a = applied(op)) == NULL)
		return;
	if ((r = store_service_rm(op, m, a, service_ids_done)) != 0)
		op_error(op, r, NULL);
}

void
op_service_list(struct op *op, const struct wire_msg *m)
{
	op_relay_list(op, m, store_service_list);
}

void
op_service_inspect(struct op *op, const struct wire_msg *m)
{
	op_relay_get(op, m, store_service_get);
}

void
op_secret_update(struct op *op, const struct wire_msg *m)
{
	struct store_applied *a;
	int r;

	if ((a = store_applied_in(op)) == NULL) {
		op_secret_failed(op, HUSH_E_NOMEM, NULL);
		return;
	}
	if ((r = store_secret_update(op, m, a, op_secret_ids_done)) != 0)
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
