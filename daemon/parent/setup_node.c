/*
 * What `hushctl init`, `join` and `restore` share: the node's addresses
 * from the request; and for init and restore, once the cluster's CA is in
 * the pki process, this manager's own key and certificate, then every file
 * and keyring entry a restart needs (parent.h, setup_*).  Each one rolls
 * back through NE_SETUP_FAILED if a later step fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "keyring.h"
#include "log.h"
#include "parent.h"
#include "node_sign.h"
#include "pki_calls.h"
#include "x509.h"

int
setup_addresses(struct parent *p, const struct wire_msg *m, char *why, size_t whylen)
{
	char addr[ADDR_MAX + 1], host[64];

	memset(&p->node, 0, sizeof(p->node));
	if (wire_get_str(m, T_ADVERTISE_ADDR, addr, sizeof(addr)) != 0) {
		addr_default_ipv4(host, sizeof(host));
		snprintf(addr, sizeof(addr), "%s", host);
	}
	if (addr_normalize(addr, HUSH_DEFAULT_PORT, p->node.advertise,
	    sizeof(p->node.advertise), why, whylen) != 0)
		return HUSH_E_INVAL;
	if (wire_get_str(m, T_LISTEN_ADDR, addr, sizeof(addr)) != 0)
		snprintf(addr, sizeof(addr), "0.0.0.0:%d", HUSH_DEFAULT_PORT);
	if (addr_normalize(addr, HUSH_DEFAULT_PORT, p->node.listen, sizeof(p->node.listen),
	    why, whylen) != 0)
		return HUSH_E_INVAL;
	return 0;
}

int
setup_issue(struct op *op, struct secbuf *node_key, struct pki_cert *cert, uint64_t expiry,
    op_done_cb cb, char *why, size_t whylen)
{
	struct parent *p = op->p;
	struct pki_issue_req req;
	uint8_t *csr = NULL;
	size_t csrlen;
	int r;

	/* The node key is made here and never leaves this process's keyring. */
	if ((r = x509_key_generate(node_key)) != 0 ||
	    (r = x509_csr_create(node_key, &csr, &csrlen)) != 0) {
		snprintf(why, whylen, "cannot create the node key");
		return r;
	}
	req = (struct pki_issue_req){ .csr = csr, .csrlen = csrlen,
	    .node_id = p->node.node_id, .role = ROLE_MANAGER,
	    .cluster_id = p->node.cluster_id, .lifetime = expiry };
	r = node_sign(op, &req, cert, cb);
	free(csr);
	if (r != 0)
		snprintf(why, whylen, "no CA can sign for this node now");
	return r;
}

int
setup_persist(struct parent *p, const struct setup_keys *k, uint8_t seal_pub[SEAL_PUB_BYTES],
    char *why, size_t whylen)
{
	struct secbuf seal = SECBUF_INIT;
	int r;

	if ((r = seal_key_new(&seal, seal_pub)) != 0) {
		snprintf(why, whylen, "cannot make the sealing key: %s", hush_strerror(r));
		return r;
	}
	if ((r = keyfile_write(p->cfg.state_dir, k->dek, k->node_key, &seal, k->kek)) != 0) {
		snprintf(why, whylen, "cannot write node.keys: %s", hush_strerror(r));
		goto out;
	}
	if ((r = node_state_write_cert(p->cfg.state_dir, "ca.crt", k->ca_cert)) != 0 ||
	    (r = node_state_write_cert(p->cfg.state_dir, "node.crt", k->node_cert)) != 0) {
		snprintf(why, whylen, "cannot write certificates: %s", hush_strerror(r));
		goto out;
	}
	if ((r = keyring_put(KEY_DEK, k->dek->p, k->dek->len)) != 0 ||
	    (r = keyring_put(KEY_NODE, k->node_key->p, k->node_key->len)) != 0 ||
	    (r = keyring_put(KEY_SEAL, seal.p, seal.len)) != 0 ||
	    (k->kek != NULL && (r = keyring_put(KEY_KEK, k->kek, 32)) != 0)) {
		snprintf(why, whylen, "cannot store keys in the kernel keyring: %s",
		    hush_strerror(r));
		goto out;
	}
out:
	secbuf_free(&seal);
	return r;
}

void
setup_start_store(struct op *op, op_done_cb ready)
{
	struct parent *p = op->p;
	int r;

	p->store.bootstrap = true;
	lifecycle_wait_ready(p, op, ready);
	if ((r = lifecycle_start_raft(p, true)) != 0)
		log_warn("raft start deferred: %s", hush_strerror(r));
}
