/*
 * libraft's allocator, replaced so that every block is wiped before it goes
 * back to the C library: entry buffers pass through here in clear before
 * they are sealed and after they are opened, and freed heap must never
 * carry those bytes into a later allocation that reaches disk.
 */
#include <malloc.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include "raft_proc.h"

static void *
zh_malloc(void *data, size_t size)
{
	return malloc(size);
}

static void
zh_free(void *data, void *ptr)
{
	if (ptr == NULL)
		return;
	sodium_memzero(ptr, malloc_usable_size(ptr));
	free(ptr);
}

static void *
zh_calloc(void *data, size_t nmemb, size_t size)
{
	return calloc(nmemb, size);
}

/*
 * Never realloc(), which may move a block and leave the old copy unwiped;
 * but never a copy per call either.  libraft grows the array of entries
 * it loads at start one segment's worth at a time, and a copy each time
 * made a restart quadratic in the log's length: 40 s for 315,000 entries.
 * A block that still has room is returned as it is; one that has not is
 * moved to one at least twice as large, so growth costs O(1) a byte.
 */
static void *
zh_realloc(void *data, void *ptr, size_t size)
{
	size_t old, cap;
	void *n;

	if (ptr == NULL)
		return malloc(size);
	if (size == 0) {
		zh_free(data, ptr);
		return NULL;
	}
	old = malloc_usable_size(ptr);
	if (size <= old)
		return ptr;
	cap = old <= SIZE_MAX / 2 && 2 * old > size ? 2 * old : size;
	if ((n = malloc(cap)) == NULL && (cap == size || (n = malloc(size)) == NULL))
		return NULL;
	memcpy(n, ptr, old);
	zh_free(data, ptr);
	return n;
}

static void *
zh_aligned_alloc(void *data, size_t alignment, size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, alignment, size) != 0)
		return NULL;
	return p;
}

static void
zh_aligned_free(void *data, size_t alignment, void *ptr)
{
	zh_free(data, ptr);
}

static struct raft_heap zeroing_heap = {
	.data = NULL,
	.malloc = zh_malloc,
	.free = zh_free,
	.calloc = zh_calloc,
	.realloc = zh_realloc,
	.aligned_alloc = zh_aligned_alloc,
	.aligned_free = zh_aligned_free,
};

void
raft_heap_install_zeroing(void)
{
	raft_heap_set(&zeroing_heap);
}
