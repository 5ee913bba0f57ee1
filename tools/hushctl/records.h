#ifndef HUSHCTL_RECORDS_H
#define HUSHCTL_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * The item_tag records (rec_type) in T_RECORDS of a list or inspect reply,
 * decoded one by one and appended to the array of views of view_size
 * bytes at *out (*nout of them; NULL and 0 to start).  On failure the
 * whole array is freed and *out is NULL.  A record
 * that does not decode fails the whole reply; free_view (may be NULL)
 * releases what a view holds, also of a half-decoded one.  Returns 0, or
 * EXIT_FAIL after telling the operator, like the commands that call it.
 */
typedef int	(*view_decode_fn)(const struct wire_msg *rec, void *view);
typedef void	(*view_free_fn)(void *view);
int	decode_records(const char *cmd, const struct wire_msg *m, uint16_t item_tag,
	    uint16_t rec_type, size_t view_size, view_decode_fn decode,
	    view_free_fn free_view, void **out, size_t *nout);
void	free_records(void *views, size_t n, size_t view_size, view_free_fn free_view);

/* What a list or inspect collects, page by page, with records_page(). */
struct record_pages {
	const char	*cmd;
	uint16_t	 item_tag, rec_type;
	size_t		 view_size;
	view_decode_fn	 decode;
	view_free_fn	 free_view;	/* may be NULL */
	void		*v;		/* the views so far: NULL to start */
	size_t		 n;
};
/* A page_fn over a struct record_pages: one page's records join the others. */
int	records_page(void *arg, const struct wire_msg *reply);

/*
 * A list or inspect, every page of it (msg.h, HUSH_PAGE_BYTES): page()
 * sees each reply in turn and returns 0, or EXIT_FAIL after telling the
 * operator.  list_all() sends a request of type (extra, if not NULL, adds
 * its own fields) and again after each reply's T_CURSOR until a reply
 * has none; inspect_all() sends the refs and again those a reply's
 * T_COUNT left out.  Both return 0 or EXIT_FAIL, having said why.
 */
typedef int	(*page_fn)(void *arg, const struct wire_msg *reply);
typedef void	(*list_extra_fn)(struct wire_enc *e, const void *xarg);
int	list_all(const char *socket, const char *cmd, uint16_t type, list_extra_fn extra,
	    const void *xarg, page_fn page, void *arg);
int	inspect_all(const char *socket, const char *cmd, uint16_t type, char *const *refs,
	    size_t nrefs, page_fn page, void *arg);

#endif
