/*
 * Key material held in the kernel keyring rather than in process memory
 * that could be swapped, dumped or read through /proc/PID/mem.
 *
 * hushd keeps its KEK, DEK and node TLS key as "user" keys in a private,
 * anonymous session keyring.  Every key (and the keyring) grants rights to
 * the possessor only: a process possesses a key when it can reach it from
 * its own thread, process or session keyring.  Children inherit the session
 * keyring across fork(), so a child that must not hold keys calls
 * keyring_join_private() straight after fork(): from then on the parent's
 * keys are unreachable and, lacking any user/group/other rights, unreadable
 * even by the same uid.
 */
#ifndef HUSH_KEYRING_H
#define HUSH_KEYRING_H

#include <stddef.h>

#include "secbuf.h"

/* Largest payload the kernel's "user" key type accepts. */
#define KEYRING_MAX_PAYLOAD	32767

/*
 * Joins a new anonymous session keyring and restricts it to its possessor.
 * Keys reachable through the previous session keyring are no longer
 * possessed afterwards.
 */
int	keyring_join_private(void);

/*
 * Adds, or replaces the payload of, the "user" key desc (e.g. "hush:kek")
 * in the session keyring with possessor-only rights.  len must be 1 to
 * KEYRING_MAX_PAYLOAD.
 */
int	keyring_put(const char *desc, const void *data, size_t len);

/*
 * Reads the session keyring's "user" key desc into a new guarded buffer that
 * the caller frees with secbuf_free().  HUSH_E_NOTFOUND if there is none.
 */
int	keyring_get(const char *desc, struct secbuf *out);
/*
 * The same into buf, guarded memory the caller keeps for reuse, for a key
 * read at each use (the DEK, once per forwarded request): a new guarded
 * buffer each time costs an mmap, an mprotect and a munmap.  *len is the
 * payload's size; HUSH_E_TOOBIG (and buf wiped) if it exceeds cap.
 */
int	keyring_get_into(const char *desc, uint8_t *buf, size_t cap, size_t *len);

/* Invalidates and unlinks desc from the session keyring; absent is fine. */
int	keyring_drop(const char *desc);

/*
 * Reads the "user" key desc from the caller's user keyring (where
 * systemd-ask-password caches passphrases) into a new guarded buffer.
 * HUSH_E_NOTFOUND if there is none.
 */
int	keyring_user_lookup(const char *desc, struct secbuf *out);

#endif
