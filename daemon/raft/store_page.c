/*
 * The store's lists and inspects, answered a page at a time (msg.h,
 * HUSH_PAGE_BYTES), so that no number of secrets, nodes or services makes
 * an answer too large for a channel it crosses.
 *
 * A list goes in the order of its records' ids, from just after the
 * request's T_CURSOR, and stops before the record that would take the
 * page over HUSH_PAGE_BYTES (the first record always goes in: none is
 * larger than a page); then T_CURSOR names the last id given.  The
 * cursor is a key, not a position: a record removed or added between two
 * pages moves nothing else, so every record present throughout is
 * listed exactly once.  The answer holds no state here: each page is a
 * query of its own.
 *
 * An inspect answers its T_REFs in order, each with one record; every ref
 * is looked up first, so a name that does not exist is refused before any
 * page is given.  When they do not all fit, T_COUNT says how many this
 * page answers.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "msg.h"
#include "page.h"
#include "store.h"

enum page_kind { PAGE_SECRETS, PAGE_NODES, PAGE_SERVICES };

struct page {
	struct store	*s;
	enum page_kind	 kind;
	uint16_t	 item_tag;
	struct wire_enc	 list;
	size_t		 n;		/* records in the page */
	bool		 full;
};

static void
page_init(struct page *pg, struct store *s, enum page_kind kind)
{
	static const uint16_t tags[] = { T_SECRET, T_NODE, T_SERVICE };

	memset(pg, 0, sizeof(*pg));
	pg->s = s;
	pg->kind = kind;
	pg->item_tag = tags[kind];
	wire_enc_init_list(&pg->list, PAGE_LIST_MAX);
}

/*
 * Put one record (x: a store_secret, store_node or store_service); false,
 * with the record taken back out, when it would overfill the page.
 */
static bool
page_put(struct page *pg, const void *x)
{
	size_t before = wire_enc_len(&pg->list);

	switch (pg->kind) {
	case PAGE_SECRETS:
		store_secret_put(&pg->list, x);
		break;
	case PAGE_NODES:
		store_node_put(&pg->list, T_NODE, x, REC_NODE);
		break;
	case PAGE_SERVICES:
		store_service_put(pg->s, &pg->list, T_SERVICE, x);
		break;
	}
	if (page_keep(&pg->list, before, pg->n)) {
		pg->n++;
		return true;
	}
	pg->full = true;
	return false;
}

/* Close the page's list and carry it in T_RECORDS of e; e's error, if any. */
static int
page_finish(struct page *pg, struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish(&pg->list, &buf, &len)) == 0)
		wire_put_bytes(e, T_RECORDS, buf, len);
	wire_enc_free(&pg->list);
	return r != 0 ? r : e->err;
}

/* The records of one kind as an array: where each one starts, how far apart. */
static size_t
records_of(struct store *s, enum page_kind kind, const char **base, size_t *stride)
{
	switch (kind) {
	case PAGE_SECRETS:
		*base = (const char *)s->secrets;
		*stride = sizeof(*s->secrets);
		return s->nsecrets;
	case PAGE_NODES:
		*base = (const char *)s->nodes;
		*stride = sizeof(*s->nodes);
		return s->nnodes;
	case PAGE_SERVICES:
		*base = (const char *)s->services;
		*stride = sizeof(*s->services);
		return s->nservices;
	}
	return 0;
}

/* Each kind's id is its first member, so a record's address is its key's. */
_Static_assert(offsetof(struct store_secret, id) == 0, "secret id first");
_Static_assert(offsetof(struct store_node, id) == 0, "node id first");
_Static_assert(offsetof(struct store_service, id) == 0, "service id first");

/* Secrets, which may be many, come from the store's order by id. */
static int
list_secrets(struct page *pg, const char *cursor, struct wire_enc *e)
{
	struct store_order *o = &pg->s->secret_order;
	size_t i;
	int r;

	if ((r = store_order_ready(o)) != 0)
		return r;
	for (i = store_order_after(o, cursor); i < o->n &&
	    page_put(pg, &pg->s->secrets[o->order[i]]); i++)
		;
	r = page_finish(pg, e);
	if (r == 0 && pg->full)
		wire_put_str(e, T_CURSOR, pg->s->secrets[o->order[i - 1]].id);
	return r != 0 ? r : e->err;
}

static int
list_page(struct page *pg, const struct wire_msg *q, struct wire_enc *e)
{
	char cursor[HUSH_CURSOR_MAX + 1];
	const char *base, **after = NULL;
	size_t stride, n, m, i;
	int r;

	if ((r = wire_get_str(q, T_CURSOR, cursor, sizeof(cursor))) != 0 &&
	    r != HUSH_E_NOTFOUND)
		return r;
	if (pg->kind == PAGE_SECRETS)
		return list_secrets(pg, r == 0 ? cursor : NULL, e);
	n = records_of(pg->s, pg->kind, &base, &stride);
	if (n > 0 && (after = calloc(n, sizeof(*after))) == NULL)
		return HUSH_E_NOMEM;
	for (i = 0; i < n; i++)
		after[i] = base + i * stride;
	m = page_keys_after(after, n, r == 0 ? cursor : NULL);
	for (i = 0; i < m && page_put(pg, after[i]); i++)
		;
	r = page_finish(pg, e);
	if (r == 0 && pg->full)
		wire_put_str(e, T_CURSOR, after[i - 1]);
	free(after);
	return r != 0 ? r : e->err;
}

static const void *
find_ref(struct page *pg, const char *ref)
{
	switch (pg->kind) {
	case PAGE_SECRETS:
		return store_secret_find(pg->s, ref);
	case PAGE_NODES:
		return store_node_find(pg->s, ref);
	case PAGE_SERVICES:
		return store_service_find(pg->s, ref);
	}
	return NULL;
}

static int
get_page(struct page *pg, const struct wire_msg *q, struct wire_enc *e, char *why,
    size_t whylen)
{
	static const char *const what[] = { "secret", "node", "service" };
	size_t nrefs = wire_count(q, T_REF), i;
	char ref[65];
	int r;

	for (i = 0; i < nrefs; i++) {
		if ((r = wire_field_str(wire_find(q, T_REF, i), ref, sizeof(ref))) != 0)
			return r;
		if (find_ref(pg, ref) == NULL) {
			snprintf(why, whylen, "%s '%s' not found", what[pg->kind], ref);
			return HUSH_E_NOTFOUND;
		}
	}
	for (i = 0; i < nrefs; i++) {
		if (wire_field_str(wire_find(q, T_REF, i), ref, sizeof(ref)) != 0 ||
		    !page_put(pg, find_ref(pg, ref)))
			break;
	}
	r = page_finish(pg, e);
	if (r == 0 && i < nrefs)
		wire_put_u32(e, T_COUNT, (uint32_t)i);
	return r != 0 ? r : e->err;
}

int
store_page(struct store *s, const struct wire_msg *q, struct wire_enc *e)
{
	struct page pg;
	char why[256] = "";
	int r;

	switch (q->hdr.type) {
	case QRY_SECRET_LIST:
	case QRY_SECRET_GET:
		page_init(&pg, s, PAGE_SECRETS);
		break;
	case QRY_NODE_LIST:
	case QRY_NODE_GET:
		page_init(&pg, s, PAGE_NODES);
		break;
	case QRY_SERVICE_LIST:
	case QRY_SERVICE_GET:
		page_init(&pg, s, PAGE_SERVICES);
		break;
	default:
		return HUSH_E_INTERNAL;
	}
	wire_enc_init(e, q->hdr.type | MSG_REPLY, q->hdr.request_id, WIRE_MAX_MSG - 1024);
	if (q->hdr.type == QRY_SECRET_LIST || q->hdr.type == QRY_NODE_LIST ||
	    q->hdr.type == QRY_SERVICE_LIST)
		r = list_page(&pg, q, e);
	else
		r = get_page(&pg, q, e, why, sizeof(why));
	wire_enc_free(&pg.list);
	if (r == 0)
		return 0;
	wire_enc_free(e);
	return msg_error_reply(e, q->hdr.request_id, r, why);
}
