/*
 * Lists and inspects the parent only relays: a page of the store's
 * records goes to the client as it came (store_page_put), its cursor and
 * count with it.  Secrets and services are served this way; nodes are
 * not, because node ls adds what this node sees live (ops_node.c).
 */
#include "err.h"
#include "parent.h"
#include "store_calls.h"

/* ctx: the store_page the store's answer was decoded into. */
static void
page_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct wire_enc e;

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	wire_enc_init(&e, op->type | MSG_REPLY, op->client_req, WIRE_MAX_MSG);
	store_page_put(&e, op->ctx);
	op_reply(op, &e);
}

void
op_relay_list(struct op *op, const struct wire_msg *m, store_list_fn list)
{
	struct store_page *pg;
	char cursor[HUSH_CURSOR_MAX + 1];
	bool from = wire_get_str(m, T_CURSOR, cursor, sizeof(cursor)) == 0;
	int r;

	if ((pg = store_page_in(op)) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	if ((r = list(op, from ? cursor : NULL, pg, page_done)) != 0)
		op_error(op, r, NULL);
}

void
op_relay_get(struct op *op, const struct wire_msg *m, store_get_fn get)
{
	struct store_page *pg;
	int r;

	if ((pg = store_page_in(op)) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	if ((r = get(op, m, pg, page_done)) != 0)
		op_error(op, r, NULL);
}
