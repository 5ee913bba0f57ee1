/*
 * OpenSSL's secure heap for the private keys OpenSSL holds: the node's TLS
 * key in net, the CA key in pki, the keys the parent makes and signs
 * with.  Once it exists, OpenSSL puts private-key numbers there (EC
 * scalars, X25519 keys, the temporaries of signing) instead of in its
 * ordinary heap: a locked, never-dumped arena with guard pages, wiped on
 * free.  Our own copies of key bytes are in secbuf (sodium guarded
 * memory); this covers OpenSSL's.
 *
 * Call once per process, before its first key, and after the last fork()
 * that process makes while holding none (memory locks are not inherited):
 * the parent after starting the launcher, a child before its sandbox
 * (OpenSSL may lock the arena with mlock2, which no sandbox allows).
 */
#ifndef HUSH_KEYHEAP_H
#define HUSH_KEYHEAP_H

#include <stddef.h>

#define KEYHEAP_BYTES	(64u * 1024)

/*
 * 0 once the heap is there and locked.  A heap the kernel would not lock
 * (RLIMIT_MEMLOCK spent) still keeps keys out of core dumps and wipes
 * them: that is logged and returns 0.  An error if there is no heap.
 */
int	keyheap_init(void);
/*
 * Makes every free of OpenSSL's ordinary heap wipe what it frees, in this
 * process and those it forks.  OpenSSL takes this only before its first
 * allocation: call it first thing in main(); an error after that.
 */
int	keyheap_wipe_openssl_frees(void);
/* Bytes of the heap in use (tests). */
size_t	keyheap_used(void);

#endif
