/*
 * Open addressing with linear probing, and deletion by shifting the run
 * after the hole back, so that no tombstone ever lengthens a probe: a
 * store with much churn (create, remove, create...) keeps short probes
 * without a rebuild.  The table stays at most 5/8 full.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store_index.h"

#define MIN_CAP	64

void
store_index_init(struct store_index *ix, store_index_key_fn key_of, const void *const *records)
{
	memset(ix, 0, sizeof(*ix));
	ix->key_of = key_of;
	ix->records = records;
	randombytes_buf(ix->hashkey, sizeof(ix->hashkey));
}

void
store_index_free(struct store_index *ix)
{
	free(ix->ent);
	ix->ent = NULL;
	ix->cap = ix->n = 0;
}

void
store_index_clear(struct store_index *ix)
{
	if (ix->ent != NULL)
		memset(ix->ent, 0, ix->cap * sizeof(*ix->ent));
	ix->n = 0;
}

static uint32_t
hash_of(const struct store_index *ix, const char *key)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, (const uint8_t *)key, strlen(key), ix->hashkey);
	memcpy(&v, h, sizeof(v));
	return v != 0 ? v : 1;
}

static const char *
key_at(const struct store_index *ix, uint32_t slot)
{
	return ix->key_of(*ix->records, slot);
}

/* The entry holding key, or the empty one where it would go. */
static size_t
probe(const struct store_index *ix, const char *key, uint32_t h)
{
	size_t mask = ix->cap - 1, i = h & mask;

	while (ix->ent[i].hash != 0) {
		if (ix->ent[i].hash == h && strcmp(key_at(ix, ix->ent[i].slot), key) == 0)
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

uint32_t
store_index_find(const struct store_index *ix, const char *key)
{
	size_t i;

	if (ix->n == 0)
		return STORE_INDEX_NONE;
	i = probe(ix, key, hash_of(ix, key));
	return ix->ent[i].hash != 0 ? ix->ent[i].slot : STORE_INDEX_NONE;
}

static int
grow(struct store_index *ix)
{
	size_t ncap = ix->cap ? ix->cap * 2 : MIN_CAP, mask = ncap - 1;
	struct store_index_ent *n;

	if ((n = calloc(ncap, sizeof(*n))) == NULL)
		return HUSH_E_NOMEM;
	for (size_t i = 0; i < ix->cap; i++) {
		size_t j;

		if (ix->ent[i].hash == 0)
			continue;
		for (j = ix->ent[i].hash & mask; n[j].hash != 0; j = (j + 1) & mask)
			;
		n[j] = ix->ent[i];
	}
	free(ix->ent);
	ix->ent = n;
	ix->cap = ncap;
	return 0;
}

int
store_index_add(struct store_index *ix, const char *key, uint32_t slot)
{
	uint32_t h = hash_of(ix, key);
	size_t i;
	int r;

	if ((ix->n + 1) * 8 > ix->cap * 5 && (r = grow(ix)) != 0)
		return r;
	i = probe(ix, key, h);
	if (ix->ent[i].hash == 0)
		ix->n++;
	ix->ent[i].hash = h;
	ix->ent[i].slot = slot;
	return 0;
}

void
store_index_del(struct store_index *ix, const char *key)
{
	size_t mask, i, j;

	if (ix->n == 0)
		return;
	mask = ix->cap - 1;
	i = probe(ix, key, hash_of(ix, key));
	if (ix->ent[i].hash == 0)
		return;
	ix->n--;
	/*
	 * Close the hole: an entry further along the run moves into it
	 * unless its home lies cyclically after the hole and up to itself,
	 * where a probe for it still starts past the hole.
	 */
	for (j = (i + 1) & mask; ix->ent[j].hash != 0; j = (j + 1) & mask) {
		size_t home = ix->ent[j].hash & mask;

		if (((j - home) & mask) < ((j - i) & mask))
			continue;
		ix->ent[i] = ix->ent[j];
		i = j;
	}
	ix->ent[i].hash = 0;
	ix->ent[i].slot = 0;
}

void
store_index_move(struct store_index *ix, const char *key, uint32_t slot)
{
	size_t i;

	if (ix->n == 0)
		return;
	i = probe(ix, key, hash_of(ix, key));
	if (ix->ent[i].hash != 0)
		ix->ent[i].slot = slot;
}
