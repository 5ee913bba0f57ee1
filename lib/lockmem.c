/*
 * Locked buffers for bytes in transit; see lockmem.h.
 *
 * Every buffer is its own anonymous mapping, rounded up to a power-of-two
 * number of pages (up to LM_MAX_CLASS), so that mlock() takes exactly its
 * pages and nothing that malloc() later hands to someone else.  A 16-byte
 * header in front of the caller's bytes says how big the mapping is and
 * whether this process holds it locked.
 *
 * Memory locks are not inherited across fork() (the launcher forks every
 * hushd child), so a child starts with nothing locked: the atfork handler
 * empties the inherited cache and bumps a generation number, and a buffer
 * from before the fork is then simply unmapped when freed.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lockmem.h"
#include "log.h"

/*
 * Under AddressSanitizer the slack past the caller's length, and a cached
 * buffer, are poisoned, so that an overrun or a use after free is caught
 * as it was when these buffers came from malloc().
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define LM_POISON(p, n)		ASAN_POISON_MEMORY_REGION((p), (n))
#define LM_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
/*
 * The sanitizers turn mlock() into a silent no-op (for mlockall()'s sake,
 * which would lock the shadow); a range this small they have no quarrel
 * with, and sanitized runs should lock what production locks.
 */
#include <sys/syscall.h>
#define lm_mlock(p, n)		((int)syscall(SYS_mlock, (p), (n)))
#else
#define lm_mlock(p, n)		mlock((p), (n))
#define LM_POISON(p, n)		((void)(p), (void)(n))
#define LM_UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define LM_MAGIC	0x4c4du
#define LM_HDR		16u
#define LM_PAGE		4096u
#define LM_NCLASS	9u		/* 4 KiB .. 1 MiB */
#define LM_DIRECT	0xffu		/* a mapping above the largest class */
#define LM_PER_CLASS	64u	/* 64 requests in flight each hold a few (control.c) */
#define LM_CACHE_MAX	(1024u * 1024u)
/*
 * What a process leaves of its limit to sodium_malloc()'s keys, which
 * sodium locks too but never reports failing to.
 */
#define LM_RESERVE_MIN	(1024u * 1024u)
#define LM_UNLIMITED	(64u * 1024u * 1024u)

struct lm_hdr {
	size_t		map_len;
	uint32_t	gen;
	uint16_t	magic;
	uint8_t		klass;
	uint8_t		locked;
};
_Static_assert(sizeof(struct lm_hdr) == LM_HDR, "header size");

static pthread_mutex_t lm_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct lm_hdr	*free[LM_NCLASS][LM_PER_CLASS];
	unsigned	 nfree[LM_NCLASS];
	size_t		 cached, cache_max;
	size_t		 locked, budget;
	size_t		 unlocked_allocs;
	unsigned long long limit;	/* RLIMIT_MEMLOCK at start, bytes */
	uint32_t	 gen;
	int		 warned;
} lm;

static size_t
class_bytes(unsigned k)
{
	return (size_t)LM_PAGE << k;
}

/* Must hold lm_mu. */
static void
drain_cache(void)
{
	unsigned k;

	for (k = 0; k < LM_NCLASS; k++) {
		while (lm.nfree[k] > 0) {
			struct lm_hdr *h = lm.free[k][--lm.nfree[k]];

			if (h->locked && h->gen == lm.gen)
				lm.locked -= h->map_len;
			LM_UNPOISON((uint8_t *)h + LM_HDR, h->map_len - LM_HDR);
			munmap(h, h->map_len);
		}
	}
	lm.cached = 0;
}

void
lockmem_init(void)
{
	struct rlimit rl;
	size_t reserve;

	pthread_mutex_lock(&lm_mu);
	drain_cache();
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
		lm.limit = 0;
		lm.budget = LM_UNLIMITED;
	} else {
		lm.limit = (unsigned long long)rl.rlim_cur;
		reserve = (size_t)(rl.rlim_cur / 8);
		if (reserve < LM_RESERVE_MIN)
			reserve = LM_RESERVE_MIN;
		lm.budget = rl.rlim_cur > 2 * (rlim_t)reserve ?
		    (size_t)rl.rlim_cur - reserve : (size_t)(rl.rlim_cur / 2);
		if (lm.budget > LM_UNLIMITED)
			lm.budget = LM_UNLIMITED;
	}
	lm.cache_max = lm.budget / 4 < LM_CACHE_MAX ? lm.budget / 4 : LM_CACHE_MAX;
	lm.warned = 0;
	pthread_mutex_unlock(&lm_mu);
}

static void
atfork_prepare(void)
{
	pthread_mutex_lock(&lm_mu);
}

static void
atfork_parent(void)
{
	pthread_mutex_unlock(&lm_mu);
}

static void
atfork_child(void)
{
	/* The cache's pages came over unlocked; give them back. */
	drain_cache();
	lm.locked = 0;
	lm.unlocked_allocs = 0;
	lm.gen++;
	lm.warned = 0;
	pthread_mutex_unlock(&lm_mu);
}

__attribute__((constructor)) static void
lockmem_start(void)
{
	lockmem_init();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void
warn_unlocked(size_t map_len, int err, size_t locked, unsigned long long limit)
{
	char lim[48];

	if (limit == 0)
		snprintf(lim, sizeof(lim), "unlimited");
	else
		snprintf(lim, sizeof(lim), "%llu KiB", limit / 1024);
	if (err != 0)
		log_warn("the kernel would not lock a %zu KiB message buffer (%s): "
		    "messages that may hold secrets can now be swapped out; raise "
		    "hushd's RLIMIT_MEMLOCK (LimitMEMLOCK= in its unit, now %s)",
		    map_len / 1024, strerror(err), lim);
	else
		log_warn("%zu KiB of message buffers are locked, all this process "
		    "spends of its RLIMIT_MEMLOCK (%s) beside its keys: messages "
		    "that may hold secrets can now be swapped out; raise "
		    "LimitMEMLOCK= in hushd's unit", locked / 1024, lim);
}

void *
lockmem_alloc(size_t len)
{
	struct lm_hdr *h;
	size_t need, map_len, locked_now;
	unsigned k = LM_DIRECT;
	unsigned long long limit;
	int err = 0, warn = 0;
	void *p;

	if (len > SIZE_MAX - LM_HDR - LM_PAGE) {
		errno = ENOMEM;
		return NULL;
	}
	need = len + LM_HDR;
	if (need <= class_bytes(LM_NCLASS - 1)) {
		for (k = 0; class_bytes(k) < need; k++)
			;
		map_len = class_bytes(k);
		pthread_mutex_lock(&lm_mu);
		if (lm.nfree[k] > 0) {
			h = lm.free[k][--lm.nfree[k]];
			lm.cached -= h->map_len;
			pthread_mutex_unlock(&lm_mu);
			LM_UNPOISON((uint8_t *)h + LM_HDR, len);
			return (uint8_t *)h + LM_HDR;
		}
		pthread_mutex_unlock(&lm_mu);
	} else {
		map_len = (need + LM_PAGE - 1) & ~(size_t)(LM_PAGE - 1);
	}

	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	/* Best effort: an old kernel without it still gets locked pages. */
	(void)madvise(p, map_len, MADV_DONTDUMP);
	h = p;
	h->map_len = map_len;
	h->magic = LM_MAGIC;
	h->klass = (uint8_t)k;
	h->locked = 0;

	pthread_mutex_lock(&lm_mu);
	h->gen = lm.gen;
	if (lm.locked + map_len <= lm.budget) {
		lm.locked += map_len;
		h->locked = 1;
	}
	pthread_mutex_unlock(&lm_mu);
	if (h->locked && lm_mlock(p, map_len) != 0) {
		err = errno;
		h->locked = 0;
		pthread_mutex_lock(&lm_mu);
		if (h->gen == lm.gen)
			lm.locked -= map_len;
		pthread_mutex_unlock(&lm_mu);
	}
	if (!h->locked) {
		pthread_mutex_lock(&lm_mu);
		lm.unlocked_allocs++;
		if (!lm.warned) {
			lm.warned = 1;
			warn = 1;
		}
		locked_now = lm.locked;
		limit = lm.limit;
		pthread_mutex_unlock(&lm_mu);
		if (warn)
			warn_unlocked(map_len, err, locked_now, limit);
	}
	LM_POISON((uint8_t *)h + LM_HDR + len, map_len - LM_HDR - len);
	return (uint8_t *)h + LM_HDR;
}

static void
release(void *p, size_t used)
{
	struct lm_hdr *h;
	size_t map_len;

	if (p == NULL)
		return;
	h = (struct lm_hdr *)(void *)((uint8_t *)p - LM_HDR);
	/* Anything else here is a heap bug: stop before unmapping at random. */
	if (h->magic != LM_MAGIC)
		abort();
	map_len = h->map_len;
	if (used > map_len - LM_HDR)
		used = map_len - LM_HDR;
	LM_UNPOISON(p, map_len - LM_HDR);
	sodium_memzero(p, used);
	LM_POISON(p, map_len - LM_HDR);

	pthread_mutex_lock(&lm_mu);
	if (h->gen == lm.gen) {
		/* Only locked buffers are worth keeping: the point is no syscall. */
		if (h->klass != LM_DIRECT && h->locked &&
		    lm.nfree[h->klass] < LM_PER_CLASS &&
		    lm.cached + map_len <= lm.cache_max) {
			lm.free[h->klass][lm.nfree[h->klass]++] = h;
			lm.cached += map_len;
			pthread_mutex_unlock(&lm_mu);
			return;
		}
		if (h->locked)
			lm.locked -= map_len;
	}
	pthread_mutex_unlock(&lm_mu);
	/* munmap() drops the lock with the pages. */
	LM_UNPOISON(p, map_len - LM_HDR);
	munmap(h, map_len);
}

void
lockmem_free(void *p)
{
	release(p, SIZE_MAX);
}

void
lockmem_free_used(void *p, size_t used)
{
	release(p, used);
}

bool
lockmem_is_locked(const void *p)
{
	const struct lm_hdr *h;
	bool r;

	if (p == NULL)
		return false;
	h = (const struct lm_hdr *)(const void *)((const uint8_t *)p - LM_HDR);
	pthread_mutex_lock(&lm_mu);
	r = h->locked && h->gen == lm.gen;
	pthread_mutex_unlock(&lm_mu);
	return r;
}

void
lockmem_stats(struct lockmem_stats *st)
{
	pthread_mutex_lock(&lm_mu);
	st->locked = lm.locked;
	st->budget = lm.budget;
	st->cached = lm.cached;
	st->unlocked_allocs = lm.unlocked_allocs;
	pthread_mutex_unlock(&lm_mu);
}
