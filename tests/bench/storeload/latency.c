/*
 * Latencies kept whole (8 bytes a request) and sorted once at the end:
 * exact percentiles, and a run of a few hundred thousand requests costs a
 * few MiB.
 */
#include <stdlib.h>
#include <string.h>

#include "storeload.h"

int
sl_lat_add(struct sl_lat *l, uint64_t ns)
{
	uint64_t *grown;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 4096 : l->cap * 2;
		if ((grown = realloc(l->ns, cap * sizeof(*grown))) == NULL)
			return -1;
		l->ns = grown;
		l->cap = cap;
	}
	l->ns[l->n++] = ns;
	return 0;
}

int
sl_lat_merge(struct sl_lat *into, const struct sl_lat *from)
{
	for (size_t i = 0; i < from->n; i++)
		if (sl_lat_add(into, from->ns[i]) != 0)
			return -1;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void
sl_lat_sort(struct sl_lat *l)
{
	if (l->n > 1)
		qsort(l->ns, l->n, sizeof(*l->ns), cmp_u64);
}

/* Nearest rank on a sorted list: the smallest value with p % at or below it. */
double
sl_lat_pct_ms(struct sl_lat *l, double p)
{
	size_t rank;

	if (l->n == 0)
		return 0;
	rank = (size_t)((p / 100.0) * (double)l->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return (double)l->ns[rank - 1] / 1e6;
}

void
sl_lat_free(struct sl_lat *l)
{
	free(l->ns);
	memset(l, 0, sizeof(*l));
}
