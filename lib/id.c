#include <sodium.h>
#include <string.h>

#include "base36.h"
#include "err.h"
#include "id.h"

int
hush_id_new(char out[HUSH_ID_LEN + 1])
{
	uint8_t raw[HUSH_ID_BYTES];
	int r;

	if (out == NULL)
		return HUSH_E_INVAL;
	randombytes_buf(raw, sizeof(raw));
	r = base36_encode(raw, sizeof(raw), HUSH_ID_LEN, out, HUSH_ID_LEN + 1);
	sodium_memzero(raw, sizeof(raw));
	return r;
}

bool
hush_id_valid(const char *s)
{
	uint8_t raw[HUSH_ID_BYTES];

	/* strnlen: an unterminated over-long string is read no further. */
	if (s == NULL || strnlen(s, HUSH_ID_LEN + 1) != HUSH_ID_LEN)
		return false;
	/* 36^25 > 2^128, so a 25-digit string may still overflow 16 bytes. */
	return base36_decode(s, HUSH_ID_LEN, raw, sizeof(raw)) == 0;
}

uint64_t
hush_id_raft(const char *id)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	uint64_t v;
	size_t i;

	/*
	 * Hashing rather than decoding keeps the mapping stable even for
	 * ids minted by a future, different scheme; a NULL id hashes as "".
	 */
	if (id == NULL)
		id = "";
	crypto_hash_sha256(h, (const unsigned char *)id, strlen(id));
	v = 0;
	for (i = 0; i < 8; i++)
		v = (v << 8) | h[i];
	return v == 0 ? 1 : v;
}
