/*
 * The service claim an operator gives a container so that hushd delivers
 * a service's secrets to it:
 *
 *	HUSHCLM-1-<service id>-<secret>
 *
 * service id is the service's hush id (25 base36 chars); secret is 32
 * random bytes (50 base36 chars).  A container proves with its claim that
 * whoever started it was given the claim by the operator of that service:
 * an image, a name or an annotation alone names a service, it proves
 * nothing.
 *
 * hushd stores only the digest of the secret (claim_digest), so neither
 * the store, a manager's disk, a worker nor the network ever holds a
 * claim; a container's claim is hashed where it arrives and compared with
 * the stored digest.  Rotation is a new secret: its digest replaces the
 * old one, and the old claim stops working.
 */
#ifndef HUSH_CLAIM_H
#define HUSH_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "id.h"

#define CLAIM_PREFIX		"HUSHCLM-"
#define CLAIM_VERSION		"1"
#define CLAIM_SECRET_BYTES	32
#define CLAIM_SECRET_CHARS	50
#define CLAIM_DIGEST_BYTES	32
#define CLAIM_LEN		86	/* without the NUL */

struct claim {
	char	service_id[HUSH_ID_LEN + 1];
	uint8_t	secret[CLAIM_SECRET_BYTES];
};

/*
 * A claim on service_id (which must pass hush_id_valid) with a fresh
 * random secret.  HUSH_E_INVAL for a bad id; on failure *out is zeroed.
 */
int	claim_new(const char *service_id, struct claim *out);
/*
 * Writes the claim and a NUL; HUSH_E_TOOBIG if outcap < CLAIM_LEN+1,
 * HUSH_E_INVAL if c's service id is not valid.
 */
int	claim_format(const struct claim *c, char *out, size_t outcap);
/*
 * Strictly parses s[0..len) (no surrounding whitespace, no NUL).  On
 * failure returns HUSH_E_PREFIX, _VERSION, _FORMAT, _ENCODING or _RANGE,
 * zeroes *out, and writes a one-line operator message to why (if non-NULL)
 * that never contains secret characters.  A join token or an unlock key
 * given by mistake is named as such.
 */
int	claim_parse(const char *s, size_t len, struct claim *out, char *why,
	    size_t whylen);
/*
 * The digest hushd stores for a claim: BLAKE2b-256 of the secret alone,
 * personalised "hush-claim-v1".
 */
void	claim_digest(const struct claim *c, uint8_t out[CLAIM_DIGEST_BYTES]);
/* Constant-time comparison of two digests. */
bool	claim_digest_equal(const uint8_t a[CLAIM_DIGEST_BYTES],
	    const uint8_t b[CLAIM_DIGEST_BYTES]);
/* Zeroes *c (c may be NULL). */
void	claim_wipe(struct claim *c);

#endif
