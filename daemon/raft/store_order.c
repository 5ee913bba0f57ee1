#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store_order.h"

void
store_order_init(struct store_order *o, store_index_key_fn key_of, const void *const *records)
{
	memset(o, 0, sizeof(*o));
	o->key_of = key_of;
	o->records = records;
}

void
store_order_free(struct store_order *o)
{
	free(o->order);
	free(o->pos);
	o->order = o->pos = NULL;
	o->n = o->cap = o->poscap = o->nsorted = o->nholes = 0;
}

void
store_order_clear(struct store_order *o)
{
	o->n = o->nsorted = o->nholes = 0;
}

static const char *
key_at(const struct store_order *o, uint32_t slot)
{
	return o->key_of(*o->records, slot);
}

static int
reserve(uint32_t **a, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 64;
	uint32_t *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((n = reallocarray(*a, ncap, sizeof(**a))) == NULL)
		return HUSH_E_NOMEM;
	*a = n;
	*cap = ncap;
	return 0;
}

int
store_order_add(struct store_order *o, uint32_t slot)
{
	if (reserve(&o->order, &o->cap, o->n + 1) != 0 ||
	    reserve(&o->pos, &o->poscap, (size_t)slot + 1) != 0)
		return HUSH_E_NOMEM;
	o->pos[slot] = (uint32_t)o->n;
	o->order[o->n++] = slot;
	return 0;
}

void
store_order_remove(struct store_order *o, uint32_t slot, uint32_t last)
{
	o->order[o->pos[slot]] = STORE_INDEX_NONE;
	o->nholes++;
	if (slot != last) {
		o->pos[slot] = o->pos[last];
		o->order[o->pos[slot]] = slot;
	}
}

static int
cmp_slots(const void *a, const void *b, void *arg)
{
	const struct store_order *o = arg;

	return strcmp(key_at(o, *(const uint32_t *)a), key_at(o, *(const uint32_t *)b));
}

int
store_order_ready(struct store_order *o)
{
	size_t i, w, a, b, tail;
	uint32_t *m = NULL;

	if (o->nsorted == o->n && o->nholes == 0)
		return 0;
	/* Before anything changes: out of memory must leave o as it was. */
	if (o->nsorted > 0 && o->nsorted < o->n &&
	    (m = malloc(o->n * sizeof(*m))) == NULL)
		return HUSH_E_NOMEM;
	/* Close the holes, keeping each part's order. */
	for (i = w = 0, tail = 0; i < o->n; i++) {
		if (i == o->nsorted)
			tail = w;
		if (o->order[i] != STORE_INDEX_NONE)
			o->order[w++] = o->order[i];
	}
	if (o->nsorted == o->n)
		tail = w;
	o->n = w;
	o->nholes = 0;
	qsort_r(o->order + tail, o->n - tail, sizeof(*o->order), cmp_slots, o);
	if (m != NULL && tail > 0 && tail < o->n) {
		for (a = 0, b = tail, w = 0; a < tail || b < o->n;) {
			if (b == o->n || (a < tail && cmp_slots(&o->order[a], &o->order[b], o) < 0))
				m[w++] = o->order[a++];
			else
				m[w++] = o->order[b++];
		}
		memcpy(o->order, m, o->n * sizeof(*m));
	}
	free(m);
	for (i = 0; i < o->n; i++)
		o->pos[o->order[i]] = (uint32_t)i;
	o->nsorted = o->n;
	return 0;
}

size_t
store_order_after(const struct store_order *o, const char *cursor)
{
	size_t lo = 0, hi = o->n;

	if (cursor == NULL)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(key_at(o, o->order[mid]), cursor) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
