/*
 * The record lists of hushd's list and inspect replies, decoded into
 * arrays of views for the commands that print them (secrets, nodes).
 */
#include <stdlib.h>

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
	struct fill_ctx fc = { NULL, 0, 0, view_size, decode, free_view };
	int r;

	*out = NULL;
	*nout = 0;
	if ((r = msg_records_each(m, item_tag, rec_type, count_record, &fc.cap)) != 0)
		return fail("%s: bad reply from hushd: %s", cmd, hush_strerror(r));
	if ((fc.v = calloc(fc.cap > 0 ? fc.cap : 1, view_size)) == NULL)
		return fail("%s: %s", cmd, hush_strerror(HUSH_E_NOMEM));
	if ((r = msg_records_each(m, item_tag, rec_type, fill_record, &fc)) != 0) {
		free_records(fc.v, fc.n, view_size, free_view);
		return fail("%s: bad reply from hushd: %s", cmd, hush_strerror(r));
	}
	*out = fc.v;
	*nout = fc.n;
	return 0;
}
