#include <sodium.h>
#include <string.h>

#include "err.h"
#include "secbuf.h"

int
secbuf_alloc(struct secbuf *b, size_t len)
{
	/* sodium_malloc(0) is legal but returns a pointer we must still free. */
	b->p = sodium_malloc(len == 0 ? 1 : len);
	if (b->p == NULL) {
		b->len = 0;
		return HUSH_E_NOMEM;
	}
	b->len = len;
	return 0;
}

int
secbuf_dup(struct secbuf *b, const void *src, size_t len)
{
	int r;

	if ((r = secbuf_alloc(b, len)) != 0)
		return r;
	if (len > 0)
		memcpy(b->p, src, len);
	return 0;
}

void
secbuf_free(struct secbuf *b)
{
	if (b->p != NULL)
		sodium_free(b->p);	/* sodium_free wipes before unmapping */
	b->p = NULL;
	b->len = 0;
}
