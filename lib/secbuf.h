/*
 * A buffer for key or secret bytes: sodium guarded memory (mlocked, guard
 * pages, canary) that is wiped when freed.  Locked memory is scarce here
 * (RLIMIT_MEMLOCK is 8 MiB), so bulk ciphertext never goes in one of these.
 */
#ifndef HUSH_SECBUF_H
#define HUSH_SECBUF_H

#include <stddef.h>
#include <stdint.h>

struct secbuf {
	uint8_t	*p;
	size_t	 len;
};

#define SECBUF_INIT { NULL, 0 }

/* Allocates len bytes (len may be 0); returns HUSH_E_NOMEM on failure. */
int	secbuf_alloc(struct secbuf *b, size_t len);
/* Copies len bytes of src into a new guarded buffer. */
int	secbuf_dup(struct secbuf *b, const void *src, size_t len);
/* Wipes and frees; safe on an empty buffer and idempotent. */
void	secbuf_free(struct secbuf *b);

#endif
