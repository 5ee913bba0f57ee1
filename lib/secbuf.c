#include <sodium.h>
#include <string.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

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
#if defined(__SANITIZE_ADDRESS__)
	/*
	 * The sanitizers make sodium's mlock() a no-op; lock as production
	 * does, so that sanitized tests see the memory production has.
	 * munmap() in sodium_free() drops the lock.
	 */
	(void)syscall(SYS_mlock, b->p, len == 0 ? 1 : len);
#endif
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
