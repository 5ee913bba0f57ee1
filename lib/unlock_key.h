/*
 * The unlock key that autolock hands the operator once:
 *
 *	HUSHKEY-1-<43 characters of unpadded standard base64>
 *
 * It encodes the 32-byte key-encrypting key itself, so the parser writes
 * straight into caller memory (sodium guarded) and keeps no copies.
 */
#ifndef HUSH_UNLOCK_KEY_H
#define HUSH_UNLOCK_KEY_H

#include <stddef.h>
#include <stdint.h>

#define UNLOCK_KEY_PREFIX	"HUSHKEY-"
#define UNLOCK_KEY_VERSION	"1"
#define UNLOCK_KEY_BYTES	32
#define UNLOCK_KEY_B64_CHARS	43
#define UNLOCK_KEY_LEN		53	/* without the NUL */
/*
 * The kernel keyring "user" key (in root's user keyring) under which
 * `hushctl unlock --ask` has systemd-ask-password cache what was typed, and
 * which a locked hushd reads at start.
 */
#define UNLOCK_KEY_CACHE_NAME	"hush-unlock"

/* Writes the key text and a NUL; HUSH_E_TOOBIG if outcap < LEN + 1. */
int	unlock_key_format(const uint8_t key[UNLOCK_KEY_BYTES], char *out,
	    size_t outcap);
/*
 * Strictly parses s[0..len): prefix, version, length, alphabet and
 * canonical encoding.  Failures return HUSH_E_PREFIX, _VERSION, _FORMAT
 * or _ENCODING, zero key, and write a one-line message to why (if
 * non-NULL) that never contains key characters.
 */
int	unlock_key_parse(const char *s, size_t len,
	    uint8_t key[UNLOCK_KEY_BYTES], char *why, size_t whylen);
int	unlock_key_new(uint8_t key[UNLOCK_KEY_BYTES]);

#endif
