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
 */
#include <sodium.h>
#include <string.h>

#include "err.h"
#include "keyring.h"
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
	struct secbuf pt = SECBUF_INIT;
	uint8_t *out = NULL;
	size_t outlen;
	int r;

	if (len > WIRE_MAX_MSG)
		return HUSH_E_TOOBIG;
	if ((r = secbuf_alloc(&pt, HEAD_BYTES + len)) != 0 ||
	    (out = malloc(HEAD_BYTES + len + SEAL_OVERHEAD)) == NULL) {
		secbuf_free(&pt);
		return r != 0 ? r : HUSH_E_NOMEM;
	}
	memcpy(pt.p, nonce, PEER_NONCE_BYTES);
	put_u64(pt.p + PEER_NONCE_BYTES, (uint64_t)now);
	memcpy(pt.p + HEAD_BYTES, msg, len);
	if ((r = seal(dek, 0, purpose, pt.p, pt.len, out, HEAD_BYTES + len + SEAL_OVERHEAD,
	    &outlen)) == 0)
		wire_put_bytes(e, T_SEALED, out, outlen);
	free(out);
	secbuf_free(&pt);
	return r;
}

int
peer_open_with(const uint8_t dek[SEAL_KEY_BYTES], const char *purpose, int64_t now,
    const struct wire_msg *m, uint8_t nonce[PEER_NONCE_BYTES], struct secbuf *msg)
{
	struct secbuf pt = SECBUF_INIT;
	const uint8_t *blob;
	size_t len, ptlen;
	int64_t when;
	int r;

	*msg = (struct secbuf)SECBUF_INIT;
	if (wire_get_bytes(m, T_SEALED, &blob, &len) != 0 || len < SEAL_OVERHEAD + HEAD_BYTES)
		return HUSH_E_AUTH;
	if ((r = secbuf_alloc(&pt, len - SEAL_OVERHEAD)) != 0)
		return r;
	if (seal_open(dek, purpose, blob, len, pt.p, pt.len, &ptlen) != 0 ||
	    ptlen < HEAD_BYTES) {
		r = HUSH_E_AUTH;
		goto out;
	}
	when = (int64_t)get_u64(pt.p + PEER_NONCE_BYTES);
	if (when < now - PEER_SEAL_WINDOW || when > now + PEER_SEAL_WINDOW) {
		r = HUSH_E_AUTH;
		goto out;
	}
	if ((r = secbuf_dup(msg, pt.p + HEAD_BYTES, ptlen - HEAD_BYTES)) != 0)
		goto out;
	memcpy(nonce, pt.p, PEER_NONCE_BYTES);
 out:
	secbuf_free(&pt);
	return r;
}

/* The DEK from the parent's keyring, for the two below. */
static int
get_dek(struct secbuf *dek)
{
	int r;

	if ((r = keyring_get(KEY_DEK, dek)) != 0)
		return r;
	if (dek->len != SEAL_KEY_BYTES) {
		secbuf_free(dek);
		return HUSH_E_CRYPTO;
	}
	return 0;
}

int
peer_seal(const char *purpose, const uint8_t nonce[PEER_NONCE_BYTES], const uint8_t *msg,
    size_t len, struct wire_enc *e)
{
	struct secbuf dek = SECBUF_INIT;
	int r;

	if ((r = get_dek(&dek)) != 0)
		return r;
	r = peer_seal_with(dek.p, purpose, nonce, parent_now(), msg, len, e);
	secbuf_free(&dek);
	return r;
}

int
peer_open(const char *purpose, const struct wire_msg *m, uint8_t nonce[PEER_NONCE_BYTES],
    struct secbuf *msg)
{
	struct secbuf dek = SECBUF_INIT;
	int r;

	*msg = (struct secbuf)SECBUF_INIT;
	if ((r = get_dek(&dek)) != 0)
		return r;
	r = peer_open_with(dek.p, purpose, parent_now(), m, nonce, msg);
	secbuf_free(&dek);
	return r;
}
