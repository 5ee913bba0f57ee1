/*
 * Memory for bytes in transit that may be secret: messages on the control
 * socket and the privsep channels, encode buffers, and net's plaintext
 * queues.  Unlike secbuf (sodium guarded memory: two guard pages and an
 * mlock per buffer, for long-lived keys), these buffers come and go with
 * every message, so they come from a small cache of locked, never-dumped
 * pages and cost no system call once warm.
 *
 * Locked memory is a per-process limit (RLIMIT_MEMLOCK; 8 MiB on many
 * systems, and hushd's processes hold no CAP_IPC_LOCK).  A process spends
 * at most its limit less a reserve kept for secbuf keys.  Past that, or if
 * the kernel refuses, a buffer is still wiped and kept out of core dumps
 * but may be swapped: the process says so once in the log rather than
 * failing the request.
 *
 * Memory from lockmem_alloc() is zeroed.  lockmem_free() wipes all of it.
 */
#ifndef HUSH_LOCKMEM_H
#define HUSH_LOCKMEM_H

#include <stdbool.h>
#include <stddef.h>

/* NULL (errno ENOMEM) when no memory at all can be had; len may be 0. */
void	*lockmem_alloc(size_t len);
/* Wipes and releases p (from lockmem_alloc); NULL is a no-op. */
void	 lockmem_free(void *p);
/*
 * The same for a buffer of which only the first used bytes were ever
 * written (an encoder's high-water mark): only those are wiped, the rest
 * being still the zeros it came with.  A 4 KiB wipe per small message was
 * most of the cost of a list of 100,000 records.  A caller that is not
 * sure uses lockmem_free().
 */
void	 lockmem_free_used(void *p, size_t used);

struct lockmem_stats {
	size_t	locked;		/* bytes this process holds locked */
	size_t	budget;		/* the most it will lock */
	size_t	cached;		/* wiped buffers kept for reuse */
	size_t	unlocked_allocs; /* buffers handed out unlocked */
};

void	lockmem_stats(struct lockmem_stats *st);
/* True if p's pages are locked (tests use it). */
bool	lockmem_is_locked(const void *p);
/*
 * Reads RLIMIT_MEMLOCK again and empties the cache.  Runs by itself at
 * program start, before any sandbox forbids getrlimit; tests call it after
 * changing the limit.
 */
void	lockmem_init(void);

#endif
