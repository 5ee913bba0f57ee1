/*
 * Authenticated encryption of records at rest and in memory: raft entries,
 * snapshots, key files, sealed secret values.
 *
 * XChaCha20-Poly1305 (IETF) with a unique 24-byte nonce per record: 16
 * random bytes drawn once per process (and again in a forked child) and a
 * 64-bit counter (seal.c says why); the nonce is long enough that the
 * random part alone keeps processes sharing a key apart, for any number
 * of records
 * under one key.  A record is
 *
 *	u8 version (SEAL_VERSION) | u8 key_id | nonce[24] | ciphertext + tag[16]
 *
 * The associated data is the purpose string followed by the version and
 * key_id bytes, so a record opens only for the purpose it was sealed for and
 * its header cannot be altered (e.g. re-labelled with another key_id).
 *
 * Purposes are short printable-ASCII constants such as "hush/raft-entry",
 * "hush/snapshot", "hush/keyfile", "hush/secret-value".
 */
#ifndef HUSH_SEAL_H
#define HUSH_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_VERSION		1
#define SEAL_KEY_BYTES		32
#define SEAL_NONCE_BYTES	24
#define SEAL_TAG_BYTES		16
#define SEAL_HDR_BYTES		(2 + SEAL_NONCE_BYTES)
#define SEAL_OVERHEAD		(2 + 24 + 16)
#define SEAL_MAX_PURPOSE	64	/* bytes, excluding the NUL */

/*
 * Seals ptlen bytes of pt into out, which needs ptlen + SEAL_OVERHEAD bytes
 * (HUSH_E_TOOBIG otherwise).  pt and out must not overlap.  HUSH_E_INVAL for
 * a purpose that is empty, too long or not printable ASCII.
 */
int	seal(const uint8_t key[SEAL_KEY_BYTES], uint8_t key_id, const char *purpose,
	    const uint8_t *pt, size_t ptlen, uint8_t *out, size_t outcap, size_t *outlen);

/*
 * The key_id of a record, to choose the key before seal_open().  Checks the
 * version (HUSH_E_VERSION) and minimum length (HUSH_E_TRUNCATED) only: the
 * key_id is not authenticated until seal_open() succeeds.
 */
int	seal_peek_key_id(const uint8_t *rec, size_t len, uint8_t *key_id);

/*
 * Opens a record into out, which needs len - SEAL_OVERHEAD bytes
 * (HUSH_E_TOOBIG otherwise) and may be a secbuf.  HUSH_E_TRUNCATED if len is
 * under SEAL_OVERHEAD, HUSH_E_VERSION for an unknown version, HUSH_E_AUTH for
 * any tampering, wrong key or wrong purpose.  On failure out holds no
 * plaintext and *outlen is 0.  rec and out must not overlap.
 */
int	seal_open(const uint8_t key[SEAL_KEY_BYTES], const char *purpose,
	    const uint8_t *rec, size_t len, uint8_t *out, size_t outcap, size_t *outlen);

#endif
