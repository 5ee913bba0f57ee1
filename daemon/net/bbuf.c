/*
 * Byte queues with a hard maximum for plaintext on its way into or out of
 * TLS.  Every byte that leaves a queue, or is left behind by a move, is
 * wiped, and they live in locked memory (lockmem.h): these hold secret
 * values, join tokens and raft entries.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lockmem.h"
#include "net_int.h"

void
bbuf_init(struct bbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Make want bytes of contiguous tail room if the maximum allows. */
static int
bbuf_reserve(struct bbuf *b, size_t want)
{
	uint8_t *np;
	size_t ncap;

	if (want > b->max - b->len)
		return HUSH_E_TOOBIG;
	if (b->cap - b->off - b->len >= want)
		return 0;
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len);
		/* The moved-from bytes are copies of live data: wipe them. */
		sodium_memzero(b->p + b->len, b->off);
		b->off = 0;
		if (b->cap - b->len >= want)
			return 0;
	}
	ncap = b->cap > 0 ? b->cap : 4096;
	while (ncap - b->len < want)
		ncap *= 2;
	if (ncap > b->max)
		ncap = b->max;
	if ((np = lockmem_alloc(ncap)) == NULL)
		return HUSH_E_NOMEM;
	if (b->len > 0)
		memcpy(np, b->p, b->len);
	lockmem_free(b->p);	/* wipes */
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
bbuf_append(struct bbuf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = bbuf_reserve(b, n)) != 0)
		return r;
	memcpy(b->p + b->off + b->len, p, n);
	b->len += n;
	return 0;
}

size_t
bbuf_prepare(struct bbuf *b, size_t want, uint8_t **tail)
{
	size_t room = b->max - b->len;

	*tail = NULL;
	if (want > room)
		want = room;
	if (want == 0 || bbuf_reserve(b, want) != 0)
		return 0;
	*tail = b->p + b->off + b->len;
	return b->cap - b->off - b->len < room ? b->cap - b->off - b->len : room;
}

void
bbuf_commit(struct bbuf *b, size_t n)
{
	b->len += n;
}

void
bbuf_consume(struct bbuf *b, size_t n)
{
	sodium_memzero(b->p + b->off, n);
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

void
bbuf_free(struct bbuf *b)
{
	lockmem_free(b->p);	/* wipes */
	b->p = NULL;
	b->off = b->len = b->cap = 0;
}
