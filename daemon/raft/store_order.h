/*
 * The store's records in the order of their ids, for lists (store_page.c):
 * a page starts just after its cursor, found by binary search, instead of
 * sorting every record for every page.
 *
 * Writes keep it cheap and lists put it right: an added record goes on an
 * unsorted tail, a removed one leaves a hole, and the first list after
 * some writes sorts the tail, merges it in and closes the holes -- once,
 * however many pages follow.  pos[] (slot -> place in order[]) is what
 * lets a removal, and the store's moving of its last record into the
 * freed slot, cost the same at any size.
 */
#ifndef HUSH_STORE_ORDER_H
#define HUSH_STORE_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "store_index.h"

struct store_order {
	uint32_t		*order;		/* slots; STORE_INDEX_NONE for a hole */
	size_t			 n, cap;
	size_t			 nsorted;	/* order[0..nsorted) is sorted */
	size_t			 nholes;
	uint32_t		*pos;		/* slot -> index in order */
	size_t			 poscap;
	store_index_key_fn	 key_of;
	const void *const	*records;
};

void	store_order_init(struct store_order *o, store_index_key_fn key_of,
	    const void *const *records);
void	store_order_free(struct store_order *o);
void	store_order_clear(struct store_order *o);
/* The record at slot is new. */
int	store_order_add(struct store_order *o, uint32_t slot);
/* The record at slot is gone, and the one at last (if not slot) moved there. */
void	store_order_remove(struct store_order *o, uint32_t slot, uint32_t last);
/* Sorts what writes left unsorted; then order[0..n) is in key order. */
int	store_order_ready(struct store_order *o);
/* After store_order_ready(): where the first key after cursor is (n if none). */
size_t	store_order_after(const struct store_order *o, const char *cursor);

#endif
