/*
 * The record lists of hushd's list and inspect replies, decoded into
 * arrays of views for the commands that print them (secrets, nodes), and
 * fetched a page at a time (msg.h, HUSH_PAGE_BYTES) until the last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "err.h"
#include "hushctl.h"
#include "msg.h"
#include "records.h"

void
free_records(void *views, size_t n, size_t view_size, view_free_fn free_view)
{
	for (size_t i = 0; free_view != NULL && i < n; i++)
		free_view((char *)views + i * view_size);
	free(views);
}

struct fill_ctx {
	char		*v;
	size_t		 n, cap, size;
	view_decode_fn	 decode;
	view_free_fn	 free_view;
};

static int
count_record(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	(*(size_t *)arg)++;
	return 0;
}

static int
fill_record(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	struct fill_ctx *fc = arg;
	void *view;
	int r;

	if (fc->n == fc->cap)
		return HUSH_E_PROTO;
	view = fc->v + fc->n * fc->size;
	if ((r = fc->decode(rec, view)) != 0) {
		if (fc->free_view != NULL)
			fc->free_view(view);
		return r;
	}
	fc->n++;
	return 0;
}

int
decode_records(const char *cmd, const struct wire_msg *m, uint16_t item_tag, uint16_t rec_type,
    size_t view_size, view_decode_fn decode, view_free_fn free_view, void **out, size_t *nout)
{
	struct fill_ctx fc = { *out, *nout, 0, view_size, decode, free_view };
	size_t more = 0;
	char *grown;
	int r;

	if ((r = msg_records_each(m, item_tag, rec_type, count_record, &more)) != 0)
		goto bad;
	fc.cap = fc.n + more;
	if ((grown = realloc(fc.v, (fc.cap > 0 ? fc.cap : 1) * view_size)) == NULL) {
		r = HUSH_E_NOMEM;
		goto bad;
	}
	memset(grown + fc.n * view_size, 0, more * view_size);
	fc.v = grown;
	if ((r = msg_records_each(m, item_tag, rec_type, fill_record, &fc)) != 0)
		goto bad;
	*out = fc.v;
	*nout = fc.n;
	return 0;
bad:
	free_records(fc.v, fc.n, view_size, free_view);
	*out = NULL;
	*nout = 0;
	if (r == HUSH_E_NOMEM)
		return fail("%s: %s", cmd, hush_strerror(r));
	return fail("%s: bad reply from hushd: %s", cmd, hush_strerror(r));
}

int
records_page(void *arg, const struct wire_msg *m)
{
	struct record_pages *rp = arg;

	return decode_records(rp->cmd, m, rp->item_tag, rp->rec_type, rp->view_size,
	    rp->decode, rp->free_view, &rp->v, &rp->n);
}

int
list_all(const char *socket, const char *cmd, uint16_t type, list_extra_fn extra,
    const void *xarg, page_fn page, void *arg)
{
	char cursor[HUSH_CURSOR_MAX + 1] = "", next[HUSH_CURSOR_MAX + 1];
	struct wire_enc e;
	struct reply rep;
	int r;

	for (;;) {
		client_request(&e, type);
		if (extra != NULL)
			extra(&e, xarg);
		if (cursor[0] != '\0')
			wire_put_str(&e, T_CURSOR, cursor);
		r = client_call(socket, cmd, &e, &rep);
		wire_enc_free(&e);
		if (r != 0)
			return EXIT_FAIL;
		r = page(arg, rep.msg);
		if (r == 0 && (r = wire_get_str(rep.msg, T_CURSOR, next, sizeof(next))) != 0) {
			reply_free(&rep);
			return r == HUSH_E_NOTFOUND ? 0 : fail("%s: bad reply from hushd: "
			    "%s", cmd, hush_strerror(r));
		}
		reply_free(&rep);
		if (r != 0)
			return r;
		/* Pages go forward by key: one that does not would never end. */
		if (strcmp(next, cursor) <= 0)
			return fail("%s: bad reply from hushd: a page did not move the "
			    "listing forward", cmd);
		memcpy(cursor, next, sizeof(cursor));
	}
}

int
inspect_all(const char *socket, const char *cmd, uint16_t type, char *const *refs,
    size_t nrefs, page_fn page, void *arg)
{
	struct wire_enc e;
	struct reply rep;
	size_t done = 0;
	uint32_t answered;
	int r;

	while (done < nrefs) {
		client_request(&e, type);
		for (size_t i = done; i < nrefs; i++)
			wire_put_str(&e, T_REF, refs[i]);
		r = client_call(socket, cmd, &e, &rep);
		wire_enc_free(&e);
		if (r != 0)
			return EXIT_FAIL;
		r = page(arg, rep.msg);
		if (r == 0) {
			/* Absent: every ref asked was answered. */
			if ((r = wire_get_u32(rep.msg, T_COUNT, &answered)) == HUSH_E_NOTFOUND) {
				answered = (uint32_t)(nrefs - done);
				r = 0;
			} else if (r != 0 || answered == 0 || answered >= nrefs - done)
				r = fail("%s: bad reply from hushd: %s", cmd, r != 0 ?
				    hush_strerror(r) : "a page answered no name or too many");
		}
		reply_free(&rep);
		if (r != 0)
			return r;
		done += answered;
	}
	return 0;
}
