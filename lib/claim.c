#include <sodium.h>
#include <string.h>

#include "base36.h"
#include "claim.h"
#include "err.h"
#include "id.h"
#include "join_token.h"
#include "keytext.h"
#include "unlock_key.h"

#define PREFIX_LEN	(sizeof(CLAIM_PREFIX) - 1)
#define HEAD		CLAIM_PREFIX CLAIM_VERSION "-"
#define HEAD_LEN	(sizeof(HEAD) - 1)

_Static_assert(HEAD_LEN + HUSH_ID_LEN + 1 + CLAIM_SECRET_CHARS == CLAIM_LEN,
    "claim layout");
/* The other texts an operator holds share the prefix's length. */
_Static_assert(sizeof(JOIN_TOKEN_PREFIX) - 1 == PREFIX_LEN &&
    sizeof(UNLOCK_KEY_PREFIX) - 1 == PREFIX_LEN, "operator text prefixes");

/*
 * BLAKE2b personalisation, so a claim's digest never equals a hash of the
 * same bytes made for anything else; zero-padded to 16 bytes by the
 * initialiser.
 */
#define PERSONAL	"hush-claim-v1"
_Static_assert(sizeof(PERSONAL) <= crypto_generichash_blake2b_PERSONALBYTES,
    "claim personalisation");
static const unsigned char claim_personal[
    crypto_generichash_blake2b_PERSONALBYTES] = PERSONAL;
/* With these sizes the BLAKE2b call in claim_digest() cannot fail. */
_Static_assert(CLAIM_DIGEST_BYTES >= crypto_generichash_blake2b_BYTES_MIN &&
    CLAIM_DIGEST_BYTES <= crypto_generichash_blake2b_BYTES_MAX,
    "claim digest size");

int
claim_new(const char *service_id, struct claim *out)
{
	if (out == NULL)
		return HUSH_E_INVAL;
	sodium_memzero(out, sizeof(*out));
	if (!hush_id_valid(service_id))
		return HUSH_E_INVAL;
	memcpy(out->service_id, service_id, HUSH_ID_LEN);
	out->service_id[HUSH_ID_LEN] = '\0';
	randombytes_buf(out->secret, sizeof(out->secret));
	return 0;
}

int
claim_format(const struct claim *c, char *out, size_t outcap)
{
	char *p;
	int r;

	if (c == NULL || out == NULL)
		return HUSH_E_INVAL;
	if (outcap < CLAIM_LEN + 1) {
		if (outcap > 0)
			out[0] = '\0';
		return HUSH_E_TOOBIG;
	}
	/* hush_id_valid also bounds the id: exactly HUSH_ID_LEN, terminated. */
	if (!hush_id_valid(c->service_id)) {
		out[0] = '\0';
		return HUSH_E_INVAL;
	}
	p = out;
	memcpy(p, HEAD, HEAD_LEN);
	p += HEAD_LEN;
	memcpy(p, c->service_id, HUSH_ID_LEN);
	p += HUSH_ID_LEN;
	*p++ = '-';
	/* 36^50 > 256^32: every secret fits its width, so this cannot fail. */
	if ((r = base36_encode(c->secret, sizeof(c->secret),
	    CLAIM_SECRET_CHARS, p, CLAIM_SECRET_CHARS + 1)) != 0) {
		sodium_memzero(out, CLAIM_LEN + 1);
		return r;
	}
	return 0;
}

/*
 * The service id is not secret, but it is not echoed either: in a claim
 * that lost its dashes the "id" runs into the secret.
 */
static int
parse_service_id(const char *p, size_t n, struct claim *t, char *why,
    size_t whylen)
{
	uint8_t raw[HUSH_ID_BYTES];
	int r;

	if (n != HUSH_ID_LEN) {
		set_why(why, whylen, "claim service id must be %d base36 "
		    "characters", HUSH_ID_LEN);
		return HUSH_E_FORMAT;
	}
	memcpy(t->service_id, p, HUSH_ID_LEN);
	t->service_id[HUSH_ID_LEN] = '\0';
	if (hush_id_valid(t->service_id))
		return 0;
	/* Only to tell the operator which rule the id broke. */
	if ((r = keytext_base36("claim service id", p, n, raw, sizeof(raw), why,
	    whylen)) != 0)
		return r;
	set_why(why, whylen, "claim service id is not a service id");
	return HUSH_E_ENCODING;
}

static const struct keytext_kind kind = {
	"claim", CLAIM_PREFIX, CLAIM_VERSION, HEAD "...",
};

/* The operator holds three such texts: name the wrong one. */
static void
why_wrong_text(const char *s, size_t len, char *why, size_t whylen)
{
	if (len < PREFIX_LEN)
		return;
	if (memcmp(s, JOIN_TOKEN_PREFIX, PREFIX_LEN) == 0)
		set_why(why, whylen, "this is a join token, not a claim (a claim "
		    "starts with " CLAIM_PREFIX ")");
	else if (memcmp(s, UNLOCK_KEY_PREFIX, PREFIX_LEN) == 0)
		set_why(why, whylen, "this is an unlock key, not a claim (a claim "
		    "starts with " CLAIM_PREFIX ")");
}

int
claim_parse(const char *s, size_t len, struct claim *out, char *why,
    size_t whylen)
{
	struct claim t;
	const char *p;
	size_t n, rem;
	int r;

	if ((r = keytext_begin(&kind, s, len, out, sizeof(*out), &p, &rem, why,
	    whylen)) != 0) {
		if (r == HUSH_E_PREFIX)
			why_wrong_text(s, len, why, whylen);
		return r;
	}
	memset(&t, 0, sizeof(t));

	n = keytext_field_len(p, KEYTEXT_MIN(rem, HUSH_ID_LEN + 1));
	if ((r = parse_service_id(p, n, &t, why, whylen)) != 0 ||
	    (r = keytext_skip(kind.what, "secret", &p, &rem, n, why, whylen)) != 0 ||
	    (r = keytext_tail_base36(kind.what, "secret", p, rem,
	    CLAIM_SECRET_CHARS, t.secret, sizeof(t.secret), why, whylen)) != 0)
		goto out;
	memcpy(out, &t, sizeof(t));
 out:
	sodium_memzero(&t, sizeof(t));
	return r;
}

/*
 * The service id is deliberately not hashed: hushctl computes the digest
 * it sends to hushd before it knows anything but the secret, so the
 * digest must depend on the secret alone.  The id in a claim only lets
 * hushd say "this claim is for another service" instead of a bare refusal.
 */
void
claim_digest(const struct claim *c, uint8_t out[CLAIM_DIGEST_BYTES])
{
	/* No key, no salt; cannot fail (see the _Static_asserts above). */
	(void)crypto_generichash_blake2b_salt_personal(out, CLAIM_DIGEST_BYTES,
	    c->secret, sizeof(c->secret), NULL, 0, NULL, claim_personal);
}

bool
claim_digest_equal(const uint8_t a[CLAIM_DIGEST_BYTES],
    const uint8_t b[CLAIM_DIGEST_BYTES])
{
	return sodium_memcmp(a, b, CLAIM_DIGEST_BYTES) == 0;
}

void
claim_wipe(struct claim *c)
{
	if (c != NULL)
		sodium_memzero(c, sizeof(*c));
}
