/*
 * The node's sealing key: an X25519 key pair of the parent's own, kept in
 * node.keys (sealed by the KEK under autolock) and in the parent's
 * keyring, never given to a child.  Whatever another node sends this one
 * that its net process must not read -- the cluster's keys when it joins
 * or becomes a manager, the values of the secrets placed on it -- is
 * sealed to the public half (crypto_box_seal): net holds the TLS key, not
 * this one, so a compromised net, or a thief of the node's certificate,
 * gets ciphertext.
 *
 * The managers know each node's public half from the node table, where
 * the manager that served the node's join put it, from a request the join
 * token authenticated (ops_join.c): never from what a peer's net says.
 *
 * A node whose node.keys predates sealing keys makes one the first time
 * it loads its keys; a manager then records it in the node table itself
 * (lifecycle.c).  A worker cannot: it must leave and join again, and its
 * managers refuse to send it values meanwhile, saying so.
 */
#include <sodium.h>
#include <string.h>

#include "err.h"
#include "keyring.h"
#include "log.h"
#include "parent.h"
#include "store_calls.h"

int
seal_key_public(uint8_t pub[SEAL_PUB_BYTES])
{
	struct secbuf sk = SECBUF_INIT;
	int r;

	if ((r = keyring_get(KEY_SEAL, &sk)) != 0)
		return r;
	r = sk.len == crypto_box_SECRETKEYBYTES &&
	    crypto_scalarmult_base(pub, sk.p) == 0 ? 0 : HUSH_E_CRYPTO;
	secbuf_free(&sk);
	return r;
}

int
seal_key_open(const uint8_t *box, size_t len, struct secbuf *out)
{
	struct secbuf sk = SECBUF_INIT;
	uint8_t pub[SEAL_PUB_BYTES];
	int r;

	*out = (struct secbuf)SECBUF_INIT;
	if (len <= crypto_box_SEALBYTES)
		return HUSH_E_AUTH;
	if ((r = keyring_get(KEY_SEAL, &sk)) != 0)
		return r;
	if (sk.len != crypto_box_SECRETKEYBYTES || crypto_scalarmult_base(pub, sk.p) != 0) {
		r = HUSH_E_CRYPTO;
		goto out;
	}
	if ((r = secbuf_alloc(out, len - crypto_box_SEALBYTES)) != 0)
		goto out;
	if (crypto_box_seal_open(out->p, box, len, pub, sk.p) != 0) {
		secbuf_free(out);
		r = HUSH_E_AUTH;
	}
 out:
	secbuf_free(&sk);
	return r;
}

int
seal_key_new(struct secbuf *sk, uint8_t pub[SEAL_PUB_BYTES])
{
	int r;

	if ((r = secbuf_alloc(sk, crypto_box_SECRETKEYBYTES)) != 0)
		return r;
	if (crypto_box_keypair(pub, sk->p) != 0) {
		secbuf_free(sk);
		return HUSH_E_CRYPTO;
	}
	return 0;
}

int
seal_key_load(struct parent *p, const struct secbuf *from_file, const uint8_t *kek)
{
	struct secbuf sk = SECBUF_INIT, dek = SECBUF_INIT, node = SECBUF_INIT;
	uint8_t pub[SEAL_PUB_BYTES];
	int r;

	if (from_file->len == crypto_box_SECRETKEYBYTES)
		return keyring_put(KEY_SEAL, from_file->p, from_file->len);
	/* A key file from before sealing keys: make one and keep it. */
	if ((r = seal_key_new(&sk, pub)) != 0 ||
	    (r = keyring_get(KEY_DEK, &dek)) != 0 ||
	    (r = keyring_get(KEY_NODE, &node)) != 0 ||
	    (r = keyfile_write(p->cfg.state_dir, &dek, &node, &sk, kek)) != 0 ||
	    (r = keyring_put(KEY_SEAL, sk.p, sk.len)) != 0)
		goto out;
	p->settings.seal_key_unregistered = true;
	log_warn("node.keys had no sealing key (written by an older hush): one was made%s",
	    p->node.role == ROLE_MANAGER ? "; it is recorded in the node table once the "
	    "store is up" : "; a worker cannot record it: run 'hushctl leave' and join "
	    "again, or this node gets no secrets");
 out:
	secbuf_free(&sk);
	secbuf_free(&dek);
	secbuf_free(&node);
	return r;
}

int
seal_key_write_keyfile(struct parent *p, const struct secbuf *dek, const struct secbuf *node,
    const uint8_t *kek)
{
	struct secbuf sk = SECBUF_INIT;
	int r;

	if ((r = keyring_get(KEY_SEAL, &sk)) == 0)
		r = keyfile_write(p->cfg.state_dir, dek, node, &sk, kek);
	secbuf_free(&sk);
	return r;
}

void
keyfile_upgrade(struct parent *p, const struct secbuf *dek, const struct secbuf *node,
    const uint8_t *kek)
{
	int r;

	if ((r = seal_key_write_keyfile(p, dek, node, kek)) != 0)
		log_warn("cannot rewrite %s/node.keys with a checksum: %s (it is read as "
		    "it is, without one)", p->cfg.state_dir, hush_strerror(r));
	else
		log_info("%s/node.keys rewritten in the current format, with a checksum",
		    p->cfg.state_dir);
}

static void
registered(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;

	if (status == 0 || status == HUSH_E_EXISTS) {
		p->settings.seal_key_unregistered = false;
		log_info("this node's sealing key is in the node table");
	} else {
		log_warn("cannot record this node's sealing key yet: %s (tried again at "
		    "the next start of the store)", detail && *detail ? detail :
		    hush_strerror(status));
	}
	op_free(op);
}

/*
 * A manager that made its sealing key at start (an older node.keys)
 * records it in the node table, once the store is up.  Only a node that
 * has none gets one (store_nodes.c), so this cannot replace a key.
 */
void
seal_key_register(struct parent *p)
{
	uint8_t pub[SEAL_PUB_BYTES], req_id[16];
	struct store_node_change change;
	struct op *op;

	if (!p->settings.seal_key_unregistered || p->node.role != ROLE_MANAGER || p->store.phase != RAFT_UP ||
	    seal_key_public(pub) != 0 || (op = calloc(1, sizeof(*op))) == NULL)
		return;
	op->p = p;
	randombytes_buf(req_id, sizeof(req_id));
	change = (struct store_node_change){ .req_id = req_id, .node_id = p->node.node_id,
	    .seal_pub = pub };
	if (store_node_update(op, &change, registered) != 0)
		op_free(op);
}
