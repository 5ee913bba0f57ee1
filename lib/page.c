#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "page.h"

/*
 * Heapsort, not qsort(3): glibc's qsort used to need a system call
 * (sysinfo) the sandboxes did not allow; and this needs no memory of its
 * own.
 */
static void
sift_down(const char **k, size_t root, size_t n)
{
	const char *t;
	size_t child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n && strcmp(k[child + 1], k[child]) > 0)
			child++;
		if (strcmp(k[root], k[child]) >= 0)
			return;
		t = k[root];
		k[root] = k[child];
		k[child] = t;
		root = child;
	}
}

static void
sort_keys(const char **k, size_t n)
{
	const char *t;

	for (size_t i = n / 2; i-- > 0;)
		sift_down(k, i, n);
	while (n > 1) {
		n--;
		t = k[0];
		k[0] = k[n];
		k[n] = t;
		sift_down(k, 0, n);
	}
}

size_t
page_keys_after(const char **keys, size_t n, const char *cursor)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (cursor == NULL || strcmp(keys[i], cursor) > 0)
			keys[m++] = keys[i];
	sort_keys(keys, m);
	return m;
}

/*
 * How full a page may get.  Test builds only: HUSH_TEST_PAGE_BYTES makes
 * pages small, so that lists a test can build in seconds (a handful of
 * nodes or containers) still cross pages in every process that pages.
 */
static size_t
page_limit(void)
{
#ifdef HUSH_TEST_HOOKS
	static size_t limit;

	if (limit == 0) {
		const char *s = getenv("HUSH_TEST_PAGE_BYTES");
		unsigned long v = s != NULL ? strtoul(s, NULL, 10) : 0;

		limit = v > 0 && v < HUSH_PAGE_BYTES ? (size_t)v : HUSH_PAGE_BYTES;
	}
	return limit;
#else
	return HUSH_PAGE_BYTES;
#endif
}

bool
page_keep(struct wire_enc *list, size_t before, size_t taken)
{
	if (taken == 0 || wire_enc_len(list) <= page_limit())
		return true;
	wire_enc_rewind(list, before);
	return false;
}
