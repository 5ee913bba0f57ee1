/*
 * Answering a list a page at a time (msg.h, HUSH_PAGE_BYTES), the same
 * way in every process that holds a table: the records whose key sorts
 * after the request's cursor, in key order, as many as fit a page.
 */
#ifndef HUSH_PAGE_H
#define HUSH_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "msg.h"
#include "wire.h"

/*
 * Keeps, in keys[0..n), only the keys that sort (strcmp) after cursor, or
 * all of them when cursor is NULL, and sorts them; returns how many.
 */
size_t	page_keys_after(const char **keys, size_t n, const char *cursor);

/*
 * After one record went into list, which held before bytes and already
 * had taken records: true if the page keeps it (the first record always
 * stays: no record is larger than a page), else false with the record
 * taken back out and the page full.
 */
bool	page_keep(struct wire_enc *list, size_t before, size_t taken);

/* How large a page's list encoder must be so that putting any one record never fails. */
#define PAGE_LIST_MAX	(HUSH_PAGE_BYTES + HUSH_SERVICE_RECORD_MAX + 4096)

#endif
