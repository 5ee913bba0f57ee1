/*
 * What one manager's parent says to another's through the two net
 * processes: a command forwarded to the leader (DSP_FORWARD), a query
 * (DSP_QUERY), and the leader's answers.  Each may hold a secret value
 * (secret create), a key (the cluster record: the CA key, the KEK, the
 * join tokens' secrets) or a secret's name, and the net processes, which
 * parse the network's input and terminate TLS, must see none of it: a
 * compromised net, or a stolen manager certificate, would otherwise read
 * the cluster's keys with one query.  So they travel sealed with the DEK,
 * which only the managers' parents (and raft processes) hold:
 *
 *	seal(DEK, purpose, nonce[16] | time[8] | message)
 *
 * The purpose says which way and what ("hush/dsp-query" ...), so a
 * request cannot pass for an answer.  The nonce, random per request, comes
 * back in the answer: an answer is accepted only for the request it
 * names, whatever net does with request ids.  The time bounds a replay by
 * net: a request older (or newer) than PEER_SEAL_WINDOW is refused, and
 * one replayed within it is a command the store has applied already and
 * answers from its request-id memory.
 *
 * Every forwarded write passes here four times (sealed and opened, on
 * each side), so nothing here maps memory per call: the plaintext is in
 * lockmem's cached buffers (bytes in transit), and the DEK is read from
 * the keyring, at each use as before, into one guarded buffer kept for
 * that and wiped after each use.
 */
#include <sodium.h>
#include <string.h>

#include "err.h"
#include "keyring.h"
#include "lockmem.h"
#include "parent.h"
#include "seal.h"

#define HEAD_BYTES	(PEER_NONCE_BYTES + 8)

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
peer_seal_with(const uint8_t dek[SEAL_KEY_BYTES], const char *purpose,
    const uint8_t nonce[PEER_NONCE_BYTES], int64_t now, const uint8_t *msg, size_t len,
    struct wire_enc *e)
{
	uint8_t *pt, *out = NULL;
	size_t outlen;
	int r;

	if (len > WIRE_MAX_MSG)
		return HUSH_E_TOOBIG;
	if ((pt = lockmem_alloc(HEAD_BYTES + len)) == NULL ||
	    (out = malloc(HEAD_BYTES + len + SEAL_OVERHEAD)) == NULL) {
		lockmem_free(pt);
		return HUSH_E_NOMEM;
	}
	memcpy(pt, nonce, PEER_NONCE_BYTES);
	put_u64(pt + PEER_NONCE_BYTES, (uint64_t)now);
	memcpy(pt + HEAD_BYTES, msg, len);
	if ((r = seal(dek, 0, purpose, pt, HEAD_BYTES + len, out,
	    HEAD_BYTES + len + SEAL_OVERHEAD, &outlen)) == 0)
		wire_put_bytes(e, T_SEALED, out, outlen);
	free(out);
	lockmem_free(pt);	/* wipes */
	return r;
}

int
peer_open_with(const uint8_t dek[SEAL_KEY_BYTES], const char *purpose, int64_t now,
    const struct wire_msg *m, uint8_t nonce[PEER_NONCE_BYTES], uint8_t **msg, size_t *msglen)
{
	const uint8_t *blob;
	uint8_t *pt;
	size_t len, ptlen;
	int64_t when;

	*msg = NULL;
	*msglen = 0;
	if (wire_get_bytes(m, T_SEALED, &blob, &len) != 0 || len < SEAL_OVERHEAD + HEAD_BYTES)
		return HUSH_E_AUTH;
	if ((pt = lockmem_alloc(len - SEAL_OVERHEAD)) == NULL)
		return HUSH_E_NOMEM;
	if (seal_open(dek, purpose, blob, len, pt, len - SEAL_OVERHEAD, &ptlen) != 0 ||
	    ptlen < HEAD_BYTES) {
		lockmem_free(pt);
		return HUSH_E_AUTH;
	}
	when = (int64_t)get_u64(pt + PEER_NONCE_BYTES);
	if (when < now - PEER_SEAL_WINDOW || when > now + PEER_SEAL_WINDOW) {
		lockmem_free(pt);
		return HUSH_E_AUTH;
	}
	memcpy(nonce, pt, PEER_NONCE_BYTES);
	memmove(pt, pt + HEAD_BYTES, ptlen - HEAD_BYTES);
	*msg = pt;
	*msglen = ptlen - HEAD_BYTES;
	return 0;
}

/* The DEK from the parent's keyring, for the two below; dek_done() after. */
static struct secbuf dek_slot = SECBUF_INIT;

static int
dek_get(const uint8_t **dek)
{
	size_t len;
	int r;

	if (dek_slot.p == NULL && (r = secbuf_alloc(&dek_slot, SEAL_KEY_BYTES)) != 0)
		return r;
	if ((r = keyring_get_into(KEY_DEK, dek_slot.p, dek_slot.len, &len)) != 0)
		return r == HUSH_E_TOOBIG ? HUSH_E_CRYPTO : r;
	if (len != SEAL_KEY_BYTES) {
		sodium_memzero(dek_slot.p, dek_slot.len);
		return HUSH_E_CRYPTO;
	}
	*dek = dek_slot.p;
	return 0;
}

static void
dek_done(void)
{
	sodium_memzero(dek_slot.p, dek_slot.len);
}

int
peer_seal(const char *purpose, const uint8_t nonce[PEER_NONCE_BYTES], const uint8_t *msg,
    size_t len, struct wire_enc *e)
{
	const uint8_t *dek;
	int r;

	if ((r = dek_get(&dek)) != 0)
		return r;
	r = peer_seal_with(dek, purpose, nonce, parent_now(), msg, len, e);
	dek_done();
	return r;
}

int
peer_open(const char *purpose, const struct wire_msg *m, uint8_t nonce[PEER_NONCE_BYTES],
    uint8_t **msg, size_t *msglen)
{
	const uint8_t *dek;
	int r;

	*msg = NULL;
	*msglen = 0;
	if ((r = dek_get(&dek)) != 0)
		return r;
	r = peer_open_with(dek, purpose, parent_now(), m, nonce, msg, msglen);
	dek_done();
	return r;
}
