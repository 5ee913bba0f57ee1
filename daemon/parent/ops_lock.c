/*
 * Autolock: unlock, unlock-key, and `update` (autolock on/off, cert expiry).
 * The KEK lives in the replicated store (so every manager can re-seal its
 * node.keys when it changes) and, on an unlocked manager, in the keyring.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keyring.h"
#include "log.h"
#include "parent.h"
#include "pki/pki.h"
#include "store_calls.h"
#include "unlock_key.h"

struct kek_ctx {
	struct secbuf	 kek;		/* empty when no new key was made */
	int		 autolock;	/* what an update sets it to; -1: unchanged */
	bool		 rotate;	/* unlock-key --rotate */
};

static void
kek_ctx_free(void *arg)
{
	struct kek_ctx *x = arg;

	secbuf_free(&x->kek);
	free(x);
}

/* The op's context, with a fresh KEK in it when with_key. */
static struct kek_ctx *
new_ctx(struct op *op, bool with_key)
{
	struct kek_ctx *x;

	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (with_key && secbuf_alloc(&x->kek, 32) != 0)) {
		free(x);
		return NULL;
	}
	if (with_key)
		randombytes_buf(x->kek.p, 32);
	x->autolock = -1;
	op->ctx = x;
	op->ctx_free = kek_ctx_free;
	return x;
}

static void
reply_kek(struct op *op, uint16_t type, const struct secbuf *kek)
{
	struct wire_enc e;

	wire_enc_init(&e, type | MSG_REPLY, op->client_req, 256);
	if (kek != NULL)
		wire_put_bytes(&e, T_KEK, kek->p, kek->len);
	op_reply(op, &e);
}

static void
unlocked(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	reply_kek(op, CTL_UNLOCK, NULL);
}

struct unlock_wait {
	int64_t		 deadline;	/* parent_mono() seconds */
};

static void
unlock_wait_free(void *arg)
{
	free(arg);
}

void
unlock_tick(struct parent *p)
{
	struct op *op, *next;
	struct wire_enc e;

	for (op = p->store.waiting_ready; op != NULL; op = next) {
		const struct unlock_wait *w = op->ctx;

		next = op->next_waiting;
		if (op->on_ready != unlocked || w == NULL || parent_mono() < w->deadline ||
		    !lifecycle_unpark(p, op))
			continue;
		wire_enc_init(&e, CTL_UNLOCK | MSG_REPLY, op->client_req, 512);
		wire_put_str(&e, T_STATUS_TEXT, p->store.leader[0] == '\0' ?
		    "unlocked, but the raft store is not serving yet: no raft leader is "
		    "known (see 'hushctl status'; if the other managers are lost for good, "
		    "'hushctl init --force-new-cluster')" :
		    "unlocked, but the raft store is not serving yet (see 'hushctl status')");
		op_reply(op, &e);
	}
}

/*
 * Opens node.keys with kek and loads the node's keys into the keyring; the
 * node is then STARTING and the caller brings the store up.  HUSH_E_BADKEY
 * when kek does not open node.keys: nothing changed.
 */
static int
unlock_with(struct parent *p, const uint8_t *kek, size_t len, char *why, size_t whylen)
{
	struct secbuf dek = SECBUF_INIT, node = SECBUF_INIT, seal = SECBUF_INIT;
	bool old_format = false;
	int r;

	r = keyfile_read(p->cfg.state_dir, kek, &dek, &node, &seal, &old_format, why, whylen);
	if (r == 0 && ((r = keyring_put(KEY_DEK, dek.p, dek.len)) != 0 ||
	    (r = keyring_put(KEY_NODE, node.p, node.len)) != 0 ||
	    (r = keyring_put(KEY_KEK, kek, len)) != 0 ||
	    (r = seal_key_load(p, &seal, kek)) != 0))
		snprintf(why, whylen, "cannot load the node's keys: %s", hush_strerror(r));
	if (r == 0 && old_format)
		keyfile_upgrade(p, &dek, &node, kek);
	secbuf_free(&dek);
	secbuf_free(&node);
	secbuf_free(&seal);
	if (r != 0)
		return r;
	/* STARTING: net first, then the store (node_fsm.c). */
	(void)node_event(p, NE_KEYS_LOADED);
	return 0;
}

void
op_unlock(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	const uint8_t *kek;
	char why[512] = "";
	size_t len;
	int r;

	wire_get_bytes(m, T_KEK, &kek, &len);
	r = unlock_with(p, kek, len, why, sizeof(why));
	if (r == HUSH_E_BADKEY) {
		log_warn("unlock refused: %s", why);
		audit_unlock(p, false);
		op_error(op, HUSH_E_BADKEY, NULL);
		return;
	}
	if (r != 0) {
		log_err("unlock failed: %s", why);
		audit_unlock(p, false);
		op_error(op, r, why);
		return;
	}
	log_info("unlocked with the unlock key");
	audit_unlock(p, true);
	{
		struct unlock_wait *w = calloc(1, sizeof(*w));

		if (w != NULL) {
			w->deadline = parent_mono() + UNLOCK_WAIT_SECS;
			op->ctx = w;
			op->ctx_free = unlock_wait_free;
		}
	}
	lifecycle_wait_ready(p, op, unlocked);
}

/* Most entries of a cached key tried; systemd appends one per prompt. */
#define CACHED_MAX_ENTRIES	16

static bool
is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Tries one entry of the cached list: HUSH_E_BADKEY (and a reason in why)
 * when it is no unlock key or not this node's.
 */
static int
try_cached_entry(struct parent *p, const uint8_t *s, size_t len, char *why, size_t whylen)
{
	struct secbuf kek = SECBUF_INIT;
	int r;

	/* What was typed may end in a newline (keyctl add, a pasted line). */
	while (len > 0 && is_blank(s[0])) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	if (len == 0) {
		snprintf(why, whylen, "it is empty");
		return HUSH_E_BADKEY;
	}
	if ((r = secbuf_alloc(&kek, UNLOCK_KEY_BYTES)) != 0) {
		snprintf(why, whylen, "%s", hush_strerror(r));
		return r;
	}
	if (unlock_key_parse((const char *)s, len, kek.p, why, whylen) != 0) {
		secbuf_free(&kek);
		return HUSH_E_BADKEY;
	}
	r = unlock_with(p, kek.p, kek.len, why, whylen);
	secbuf_free(&kek);
	if (r == HUSH_E_BADKEY)
		snprintf(why, whylen, "it is an unlock key, but it does not open node.keys "
		    "(another node's, or an older key)");
	return r;
}

void
unlock_from_cache(struct parent *p)
{
	struct secbuf cached = SECBUF_INIT;
	char why[256];
	size_t off, n = 0, i = 0, elen;
	const uint8_t *end;
	int r;

	if (p->state != PS_LOCKED)
		return;
	r = keyring_user_lookup(UNLOCK_KEY_CACHE_NAME, &cached);
	if (r == HUSH_E_NOTFOUND) {
		log_info("no cached '%s' key in the user keyring: waiting for "
		    "'hushctl unlock'", UNLOCK_KEY_CACHE_NAME);
		return;
	}
	if (r != 0) {
		log_warn("cannot read the cached '%s' key from the user keyring: %s; "
		    "waiting for 'hushctl unlock'", UNLOCK_KEY_CACHE_NAME, hush_strerror(r));
		return;
	}
	/* systemd-ask-password caches a list: entries separated by NUL bytes. */
	for (off = 0; off < cached.len; off += elen + 1) {
		end = memchr(cached.p + off, '\0', cached.len - off);
		elen = end != NULL ? (size_t)(end - (cached.p + off)) : cached.len - off;
		n++;
	}
	for (off = 0; off < cached.len && i < CACHED_MAX_ENTRIES; off += elen + 1) {
		end = memchr(cached.p + off, '\0', cached.len - off);
		elen = end != NULL ? (size_t)(end - (cached.p + off)) : cached.len - off;
		i++;
		r = try_cached_entry(p, cached.p + off, elen, why, sizeof(why));
		if (r == 0) {
			log_info("unlocked with the cached '%s' key from the user keyring "
			    "(entry %zu of %zu)", UNLOCK_KEY_CACHE_NAME, i, n);
			audit_unlock(p, true);
			secbuf_free(&cached);
			return;
		}
		log_warn("the cached '%s' key, entry %zu of %zu, does not unlock this node: %s",
		    UNLOCK_KEY_CACHE_NAME, i, n, why);
		if (r != HUSH_E_BADKEY)
			break;
	}
	if (i < n)
		log_warn("the cached '%s' key holds %zu entries; only the first %zu were tried",
		    UNLOCK_KEY_CACHE_NAME, n, i);
	secbuf_free(&cached);
	audit_unlock(p, false);
	log_warn("still locked: no cached '%s' key unlocks this node; run 'hushctl unlock'",
	    UNLOCK_KEY_CACHE_NAME);
}

static void
kek_committed(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct kek_ctx *x = op->ctx;

	if (x->rotate)
		audit_unlock_key_rotate(op->p, status == 0);
	if (x->autolock >= 0)
		audit_autolock(op->p, x->autolock == 1, status == 0);
	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	reply_kek(op, op->type, x->kek.p != NULL ? &x->kek : NULL);
}

void
op_unlock_key(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct secbuf cur = SECBUF_INIT;
	struct kek_ctx *x;
	struct store_cluster_change change;
	const struct wire_field *req_id = wire_find(m, T_REQ_ID, 0);
	bool rotate = false;
	int r;

	wire_get_bool(m, T_ROTATE, &rotate);
	if (!p->settings.autolock) {
		if (rotate)
			audit_unlock_key_rotate(p, false);
		op_error(op, HUSH_E_NOTLOCKED, "autolock is not enabled: no unlock key is in use "
		    "(enable it with 'hushctl update --autolock=true')");
		return;
	}
	if (!rotate) {
		if ((r = keyring_get(KEY_KEK, &cur)) != 0) {
			op_error(op, r, "the unlock key is not in the keyring");
			return;
		}
		reply_kek(op, CTL_UNLOCK_KEY, &cur);
		secbuf_free(&cur);
		return;
	}
	if ((x = new_ctx(op, true)) == NULL) {
		audit_unlock_key_rotate(p, false);
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	x->rotate = true;
	change = (struct store_cluster_change){ .req_id = req_id->val, .kek = &x->kek };
	if ((r = store_cluster_update(op, &change, kek_committed)) != 0) {
		audit_unlock_key_rotate(p, false);
		op_error(op, r, NULL);
	}
}

void
op_update(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	const struct wire_field *req_id = wire_find(m, T_REQ_ID, 0);
	struct store_cluster_change change;
	struct kek_ctx *x = NULL;
	bool autolock, has_autolock, has_expiry;
	uint64_t expiry;
	int r;

	has_autolock = wire_get_bool(m, T_AUTOLOCK, &autolock) == 0;
	has_expiry = wire_get_u64(m, T_CERT_EXPIRY, &expiry) == 0;
	if (!has_autolock && !has_expiry) {
		op_error(op, HUSH_E_INVAL, "nothing to update: give --autolock or --cert-expiry");
		return;
	}
	if (has_expiry && (expiry < PKI_CERT_MIN_LIFETIME || expiry > PKI_CERT_MAX_LIFETIME)) {
		op_error(op, HUSH_E_RANGE, "--cert-expiry must be between 1h and 3650d");
		return;
	}
	/* Turning on what is on already keeps the current key, as Swarm does. */
	if (has_autolock && autolock == p->settings.autolock)
		has_autolock = false;
	if (!has_autolock && !has_expiry) {
		reply_kek(op, CTL_UPDATE, NULL);
		return;
	}
	if ((x = new_ctx(op, has_autolock && autolock)) == NULL) {
		if (has_autolock)
			audit_autolock(p, autolock, false);
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	if (has_autolock)
		x->autolock = autolock ? 1 : 0;
	change = (struct store_cluster_change){ .req_id = req_id->val,
	    .set_autolock = has_autolock, .autolock = has_autolock && autolock,
	    .kek = x->kek.p != NULL ? &x->kek : NULL,
	    .set_expiry = has_expiry, .cert_expiry = has_expiry ? expiry : 0 };
	if ((r = store_cluster_update(op, &change, kek_committed)) != 0) {
		if (has_autolock)
			audit_autolock(p, autolock, false);
		op_error(op, r, NULL);
	}
}
