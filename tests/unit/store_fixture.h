/*
 * What the unit tests of the raft process's store share: a store on the
 * heap that seals values under one fixed key, as every manager's does
 * under the key it derives from the DEK (store_use_key()), so that a
 * snapshot of one test store restores into another.
 */
#ifndef HUSH_TEST_STORE_FIXTURE_H
#define HUSH_TEST_STORE_FIXTURE_H

#include <stdint.h>

#include "raft/store.h"
#include "wire.h"

extern const uint8_t test_memory_dek[32];

/* store_init() and store_use_key(test_memory_dek); fails the test otherwise. */
struct store *store_fixture_new(void);
void	store_fixture_del(struct store *s);
/*
 * Finishes e, parses it as a command and applies it, failing the test if
 * it does not parse or the store cannot go on; frees e.  What the command
 * itself caused is its outcome (store_outcome()).
 */
void	store_fixture_apply(struct store *s, struct wire_enc *e);
/* A request id: fill, then a counter of its own in the last four bytes. */
void	store_fixture_req(uint8_t rid[16], uint8_t fill);

#endif
