/*
 * What the parent carries through for paged lists and inspects (msg.h,
 * HUSH_PAGE_BYTES): the client's cursor into the store's query, and the
 * store's "where to go on" (T_CURSOR) or "how many refs this page
 * answered" (T_COUNT) back into the client's reply.  The page's records
 * are the store's, already bounded by it; the parent adds none.
 */
#include "parent.h"

void
page_cursor_in(struct wire_enc *q, const struct wire_msg *m)
{
	const struct wire_field *f;

	if (m != NULL && (f = wire_find(m, T_CURSOR, 0)) != NULL)
		wire_put_bytes(q, T_CURSOR, f->val, f->len);
}

void
page_mark_out(struct wire_enc *e, const struct wire_msg *reply)
{
	const struct wire_field *f;

	if ((f = wire_find(reply, T_CURSOR, 0)) != NULL)
		wire_put_bytes(e, T_CURSOR, f->val, f->len);
	if ((f = wire_find(reply, T_COUNT, 0)) != NULL)
		wire_put_bytes(e, T_COUNT, f->val, f->len);
}
