/*
 * Sealing a few key bytes to one node's P-256 key (ECIES), so that the
 * cluster's data key and unlock key can cross the network-facing process on
 * their way to a joining manager without that process being able to read
 * them.  The joiner's CSR is the only thing the leader has to go on: its
 * self-signature proves the joiner holds the private key, and the public
 * key inside it is what we seal to.
 *
 * A blob is
 *
 *	u8 version (KEYWRAP_VERSION) | ephemeral P-256 point[65] | seal() record
 *
 * where the point is uncompressed SEC1 (0x04 || X || Y) and the seal()
 * record (seal.h, key_id 0) is keyed with
 *
 *	HKDF-SHA256(ikm  = ECDH(ephemeral, recipient) x-coordinate,
 *	            salt = version || ephemeral point || recipient point,
 *	            info = purpose)
 *
 * Both points enter the salt in uncompressed form whatever encoding the CSR
 * used, so the two ends always agree on it.  Putting the blob's first 66
 * bytes in the salt binds the version and the ephemeral key to the derived
 * key: altering either gives a different key and the record fails to open.
 *
 * Purposes follow seal.h: 1 to SEAL_MAX_PURPOSE printable ASCII bytes, no
 * spaces, e.g. "hush/join-dek".
 */
#ifndef HUSH_KEYWRAP_H
#define HUSH_KEYWRAP_H

#include <stddef.h>
#include <stdint.h>

#include "seal.h"
#include "secbuf.h"

#define KEYWRAP_VERSION		1
#define KEYWRAP_POINT_BYTES	65	/* uncompressed P-256 point */
#define KEYWRAP_HDR_BYTES	(1 + KEYWRAP_POINT_BYTES)
#define KEYWRAP_OVERHEAD	(KEYWRAP_HDR_BYTES + SEAL_OVERHEAD)

/* Largest plaintext, and so largest blob: this carries keys, not data. */
#define KEYWRAP_MAX		512
#define KEYWRAP_BLOB_MAX	(KEYWRAP_MAX + KEYWRAP_OVERHEAD)

/*
 * Seals ptlen bytes of pt to the P-256 public key in csr_der, a DER CSR
 * that must pass the same checks the CA applies (x509_csr_sign: size bound,
 * strict DER, ecdsa-with-SHA256 self-signature that verifies, valid EC
 * P-256 named-curve key).  out needs ptlen + KEYWRAP_OVERHEAD bytes.
 *
 * HUSH_E_INVAL for bad arguments, a bad purpose or a CSR key that is not
 * P-256; HUSH_E_TOOBIG for ptlen over KEYWRAP_MAX or too little room;
 * HUSH_E_AUTH if the CSR's signature does not verify; HUSH_E_TRUNCATED /
 * HUSH_E_TOOBIG / HUSH_E_FORMAT for a CSR that is empty, too large or
 * malformed; HUSH_E_CRYPTO when OpenSSL or libsodium fails.  On failure
 * *outlen is 0.
 */
int	keywrap_seal_to_csr(const uint8_t *csr_der, size_t csr_len,
	    const char *purpose, const uint8_t *pt, size_t ptlen, uint8_t *out,
	    size_t outcap, size_t *outlen);

/*
 * Opens a blob with the node's private key (PKCS#8 DER, as from
 * x509_key_generate) into out, which needs len - KEYWRAP_OVERHEAD bytes and
 * should be guarded memory (a secbuf).
 *
 * HUSH_E_TRUNCATED for a blob shorter than KEYWRAP_OVERHEAD; HUSH_E_VERSION
 * for a version other than KEYWRAP_VERSION; HUSH_E_TOOBIG for a blob over
 * KEYWRAP_BLOB_MAX or too little room in out; HUSH_E_FORMAT for an
 * ephemeral key that is not an uncompressed point on P-256 (the point at
 * infinity included) or an inner record header we never write;
 * HUSH_E_AUTH for a wrong key, a wrong purpose or any other alteration;
 * HUSH_E_INVAL / HUSH_E_FORMAT for bad arguments or a key_der that is not a
 * P-256 key.  On failure out holds no plaintext and *outlen is 0.
 */
int	keywrap_open(const struct secbuf *key_der, const char *purpose,
	    const uint8_t *blob, size_t len, uint8_t *out, size_t outcap,
	    size_t *outlen);

#endif
