/*
 * Node and cluster identifiers: 128 random bits written as 25 base36
 * characters, so they are safe in file names, JSON and shell arguments.
 */
#ifndef HUSH_ID_H
#define HUSH_ID_H

#include <stdbool.h>
#include <stdint.h>

#define HUSH_ID_LEN	25
#define HUSH_ID_BYTES	16

/* Writes a fresh random id and its NUL; returns 0 or a HUSH_E_* code. */
int		hush_id_new(char out[HUSH_ID_LEN + 1]);
/* True iff s is exactly HUSH_ID_LEN chars of [0-9a-z] worth < 2^128. */
bool		hush_id_valid(const char *s);
/*
 * The raft server id for a node id: the first 8 bytes (big-endian) of
 * SHA-256 of the id string, never 0 because raft reserves it.
 */
uint64_t	hush_id_raft(const char *id);

#endif
