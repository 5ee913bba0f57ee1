/*
 * A hash index from a record's key (its id, or its name) to its slot in
 * the store's array of records.  The store applies every write and
 * answers every lookup in the raft process's one thread, so the index is
 * what keeps a write's cost the same at 100 secrets and at 100,000.
 *
 * The index holds slots, not keys: it asks key_of() for the key of a
 * slot, so a record's key is stored once, in the record.  Hashes are
 * keyed (SipHash, a random key per index), so that names chosen to
 * collide cannot turn lookups back into a scan of every record.
 */
#ifndef HUSH_STORE_INDEX_H
#define HUSH_STORE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define STORE_INDEX_NONE	UINT32_MAX

typedef const char *(*store_index_key_fn)(const void *records, uint32_t slot);

struct store_index_ent {
	uint32_t	hash;		/* of the key; 0 marks an empty entry */
	uint32_t	slot;
};

struct store_index {
	struct store_index_ent	*ent;
	size_t			 cap;	/* a power of two, or 0 */
	size_t			 n;
	store_index_key_fn	 key_of;
	const void *const	*records;	/* where the array of records is, now */
	uint8_t			 hashkey[16];
};

/* records points at the store's pointer to its array, which may move. */
void	store_index_init(struct store_index *ix, store_index_key_fn key_of,
	    const void *const *records);
void	store_index_free(struct store_index *ix);
/* Forgets every key (the store was emptied); keeps the hash key. */
void	store_index_clear(struct store_index *ix);

/* The slot of key, or STORE_INDEX_NONE. */
uint32_t store_index_find(const struct store_index *ix, const char *key);
/* Adds key (not present) at slot; HUSH_E_NOMEM when the table cannot grow. */
int	store_index_add(struct store_index *ix, const char *key, uint32_t slot);
/* Removes key; nothing happens if it is not present. */
void	store_index_del(struct store_index *ix, const char *key);
/* key (present) now lives at slot. */
void	store_index_move(struct store_index *ix, const char *key, uint32_t slot);

#endif
