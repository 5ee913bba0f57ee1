/*
 * Record sealing; see seal.h for the layout.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "err.h"
#include "seal.h"

/* Catch a libsodium or header change that would silently change the format. */
_Static_assert(SEAL_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
    "key size");
_Static_assert(SEAL_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
    "nonce size");
_Static_assert(SEAL_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES,
    "tag size");
_Static_assert(SEAL_OVERHEAD == SEAL_HDR_BYTES + SEAL_TAG_BYTES, "overhead");

/* purpose || version || key_id */
#define SEAL_AD_MAX	(SEAL_MAX_PURPOSE + 2)

/*
 * Builds the associated data.  The header bytes always sit in the last two
 * positions, so two different purposes can never yield the same AD; the
 * printable-ASCII rule keeps purposes human-checkable constants.
 */
static int
make_ad(const char *purpose, uint8_t version, uint8_t key_id,
    uint8_t ad[SEAL_AD_MAX], size_t *adlen)
{
	size_t i, plen;

	if (purpose == NULL)
		return HUSH_E_INVAL;
	plen = strnlen(purpose, SEAL_MAX_PURPOSE + 1);
	if (plen == 0 || plen > SEAL_MAX_PURPOSE)
		return HUSH_E_INVAL;
	for (i = 0; i < plen; i++) {
		if (purpose[i] < 0x21 || purpose[i] > 0x7e)
			return HUSH_E_INVAL;
	}
	memcpy(ad, purpose, plen);
	ad[plen] = version;
	ad[plen + 1] = key_id;
	*adlen = plen + 2;
	return 0;
}

/*
 * Nonces: a random prefix per process and a counter, not 24 random bytes
 * per record.  randombytes_buf() is a getrandom() system call each time,
 * and sealing every value of a 100,000-secret store on a restore, or each
 * write's value and raft entry under load, spent a quarter of its time
 * there.  A nonce must never repeat under one key: within a process the
 * counter sees to that, between processes (every manager seals with the
 * DEK) the 128-bit random prefix does, and a forked child, which inherits
 * the parent's prefix and counter, draws a prefix of its own before its
 * first seal (every hush process that seals is made by fork(), which runs
 * the handler below).
 */
static pthread_mutex_t nonce_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool		ready;
	uint8_t		prefix[16];
	uint64_t	counter;
} nonce_state;

static void
nonce_forget(void)
{
	/* In the child, which has one thread: no lock is held or needed. */
	sodium_memzero(&nonce_state, sizeof(nonce_state));
}

__attribute__((constructor)) static void
nonce_start(void)
{
	pthread_atfork(NULL, NULL, nonce_forget);
}

static void
next_nonce(uint8_t out[SEAL_NONCE_BYTES])
{
	uint64_t c;

	pthread_mutex_lock(&nonce_mu);
	if (!nonce_state.ready || nonce_state.counter == UINT64_MAX) {
		randombytes_buf(nonce_state.prefix, sizeof(nonce_state.prefix));
		nonce_state.counter = 0;
		nonce_state.ready = true;
	}
	c = nonce_state.counter++;
	memcpy(out, nonce_state.prefix, sizeof(nonce_state.prefix));
	pthread_mutex_unlock(&nonce_mu);
	for (int i = 7; i >= 0; i--, c >>= 8)
		out[sizeof(nonce_state.prefix) + (size_t)i] = (uint8_t)c;
}
_Static_assert(SEAL_NONCE_BYTES == 16 + 8, "nonce layout");

int
seal(const uint8_t key[SEAL_KEY_BYTES], uint8_t key_id, const char *purpose,
    const uint8_t *pt, size_t ptlen, uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t ad[SEAL_AD_MAX];
	size_t adlen;
	unsigned long long clen;
	int r;

	if (outlen != NULL)
		*outlen = 0;
	if (key == NULL || out == NULL || outlen == NULL ||
	    (pt == NULL && ptlen != 0))
		return HUSH_E_INVAL;
	if ((r = make_ad(purpose, SEAL_VERSION, key_id, ad, &adlen)) != 0)
		return r;
	if (ptlen > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
	    ptlen > SIZE_MAX - SEAL_OVERHEAD)
		return HUSH_E_TOOBIG;
	if (outcap < ptlen + SEAL_OVERHEAD)
		return HUSH_E_TOOBIG;

	out[0] = SEAL_VERSION;
	out[1] = key_id;
	next_nonce(out + 2);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + SEAL_HDR_BYTES,
	    &clen, pt, ptlen, ad, adlen, NULL, out + 2, key) != 0) {
		sodium_memzero(out, ptlen + SEAL_OVERHEAD);
		return HUSH_E_CRYPTO;
	}
	if (clen != (unsigned long long)ptlen + SEAL_TAG_BYTES) {
		sodium_memzero(out, ptlen + SEAL_OVERHEAD);
		return HUSH_E_INTERNAL;
	}
	*outlen = ptlen + SEAL_OVERHEAD;
	return 0;
}

/* Version first so a future format is reported as such, not as truncation. */
static int
check_header(const uint8_t *rec, size_t len)
{
	if (rec == NULL && len != 0)
		return HUSH_E_INVAL;
	if (len < 1)
		return HUSH_E_TRUNCATED;
	if (rec[0] != SEAL_VERSION)
		return HUSH_E_VERSION;
	if (len < SEAL_OVERHEAD)
		return HUSH_E_TRUNCATED;
	return 0;
}

int
seal_peek_key_id(const uint8_t *rec, size_t len, uint8_t *key_id)
{
	int r;

	if (key_id == NULL)
		return HUSH_E_INVAL;
	if ((r = check_header(rec, len)) != 0)
		return r;
	*key_id = rec[1];
	return 0;
}

int
seal_open(const uint8_t key[SEAL_KEY_BYTES], const char *purpose,
    const uint8_t *rec, size_t len, uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t ad[SEAL_AD_MAX], dummy[1];
	size_t adlen, ptlen;
	unsigned long long mlen = 0;
	int r;

	if (outlen != NULL)
		*outlen = 0;
	if (key == NULL || outlen == NULL || (out == NULL && outcap != 0))
		return HUSH_E_INVAL;
	if ((r = check_header(rec, len)) != 0)
		return r;
	if ((r = make_ad(purpose, rec[0], rec[1], ad, &adlen)) != 0)
		return r;
	ptlen = len - SEAL_OVERHEAD;
	if (outcap < ptlen)
		return HUSH_E_TOOBIG;
	/*
	 * out may be NULL for an empty plaintext; libsodium gives NULL its own
	 * meaning in places, so hand it a harmless pointer instead.
	 */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(ptlen > 0 ? out : dummy,
	    &mlen, NULL, rec + SEAL_HDR_BYTES, len - SEAL_HDR_BYTES, ad, adlen,
	    rec + 2, key) != 0 || mlen != ptlen) {
		/*
		 * libsodium verifies before decrypting, but do not depend on
		 * that: whatever landed in out must not be mistaken for data.
		 */
		if (ptlen > 0)
			sodium_memzero(out, ptlen);
		return HUSH_E_AUTH;
	}
	*outlen = ptlen;
	return 0;
}
