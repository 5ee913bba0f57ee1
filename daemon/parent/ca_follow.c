/*
 * A node following the cluster's CA through a rotation (enum ca_phase in
 * lib/msg.h; README "Rotate the CA").
 *
 * Every node learns the CA from whoever knows it: a manager from its own
 * store (lifecycle.c), any node from the managers' heartbeat answers,
 * which arrive over mutual TLS from a manager this node verified.  From
 * that it keeps two things true of itself:
 *
 * - its trust bundle (certificates/ca.crt, and net's anchors) is the
 *   current root, followed by the next one during a rotation;
 * - during the RENEW phase its certificate comes from the next root: it
 *   renews, as it would at 50-80 % of its life, only sooner.
 *
 * The leader alone moves the rotation on (ca_leader.c), once every node
 * that is up reports what the phase waits for.  What a node reports is
 * split by trust: the trust bundle it holds is its own word (a heartbeat
 * field: lying only keeps the lie from working), while which root issued
 * its certificate is what net verified in the handshake, never a claim.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "join_token.h"
#include "keyring.h"
#include "log.h"
#include "net_calls.h"
#include "parent.h"
#include "x509.h"

/* A node renews for a rotation at most this often while it has not converged. */
#define CA_RENEW_EVERY_SECS	10
/* ...at a random point within this many seconds, so nodes do not all ask at once. */
#define CA_RENEW_SPREAD_SECS	3

void
ca_part_reset(struct ca_part *c)
{
	free(c->root);
	free(c->next);
	free(c->cross);
	memset(c, 0, sizeof(*c));
}

static int
spki_of(const char *pem, uint8_t out[32])
{
	struct x509_cert_info info;
	int r;

	if ((r = x509_cert_info(pem, strlen(pem), &info)) != 0)
		return r;
	memcpy(out, info.spki_sha256, 32);
	return 0;
}

/* The trust bundle the phase wants: the current root, then the next. */
static char *
want_bundle(const struct ca_part *c)
{
	return x509_bundle_join(c->root, c->next);
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* What this node holds now, from its files: after start, a join, a renewal. */
void
ca_own_refresh(struct parent *p)
{
	char *ca = node_state_read_cert(p->cfg.state_dir, "ca.crt");
	char *crt = node_state_read_cert(p->cfg.state_dir, "node.crt");
	char why[256];
	size_t n = 0;

	p->ca.has_trust = p->ca.has_issuer = false;
	if (ca != NULL) {
		p->ca.has_trust = join_token_digest_pem(ca, strlen(ca), p->ca.trust) == 0;
		if (crt != NULL)
			p->ca.has_issuer = x509_verify_chain(crt, strlen(crt), ca, strlen(ca),
			    parent_now(), p->ca.issuer, why, sizeof(why)) == 0;
	}
	/*
	 * A node trusting one root knows the CA from it until told otherwise
	 * (a worker hears of the CA only when something changes), so that its
	 * own TLS status can be judged; a manager's store says more at once.
	 * What it learns is what it holds: there is nothing to follow.
	 */
	if (ca != NULL && !p->ca.known && x509_bundle_count(ca, strlen(ca), &n) == 0 && n == 1)
		ca_learn(p, ca, NULL, NULL, CA_PHASE_NONE);
	free(ca);
	free(crt);
}

/*
 * Once the rotation is over, the cross-signed intermediate a node renewed
 * with vouches only to nodes that still trust the old root: none should.
 * Present the leaf alone, as before any rotation.
 */
static void
drop_chain(struct parent *p)
{
	struct secbuf key = SECBUF_INIT;
	char *leaf = NULL, *chain = NULL;
	int r;

	if (node_certs_read(p->cfg.state_dir, &leaf, &chain) != 0 || chain == NULL)
		goto out;
	if ((r = keyring_get(KEY_NODE, &key)) != 0 ||
	    (r = node_state_write_cert(p->cfg.state_dir, "node.crt", leaf)) != 0) {
		log_warn("cannot drop the old root's intermediate from node.crt: %s",
		    hush_strerror(r));
		goto out;
	}
	if (p->view.net == NET_UP &&
	    net_reload_full(p, &(struct net_reload_req){ .cert = leaf, .key = &key }) != 0)
		log_warn("the net process did not take the certificate without its intermediate");
out:
	secbuf_free(&key);
	free(leaf);
	free(chain);
}

/*
 * Adopt the bundle the phase wants, unless this node's own certificate
 * would not verify under it: then the cluster finished a rotation while
 * this node was away, and only a new join can bring it back.
 */
static void
follow_trust(struct parent *p)
{
	char *bundle, *crt, why[256];
	uint8_t issuer[32];
	int r;

	if (p->ca.has_trust && sodium_memcmp(p->ca.trust, p->ca.want_trust, 32) == 0)
		return;
	if ((bundle = want_bundle(&p->ca)) == NULL)
		return;
	crt = node_state_read_cert(p->cfg.state_dir, "node.crt");
	r = crt == NULL ? HUSH_E_IO : x509_verify_chain(crt, strlen(crt), bundle,
	    strlen(bundle), parent_now(), issuer, why, sizeof(why));
	free(crt);
	if (r != 0) {
		if (!p->ca.refused_logged)
			log_err("the cluster's CA changed and this node's certificate is not "
			    "from a root it trusts any more (%s): the rotation finished "
			    "while this node was away; run 'hushctl leave --force' and join "
			    "again with a current token", r == HUSH_E_IO ?
			    "no certificate" : why);
		p->ca.refused_logged = true;
		free(bundle);
		return;
	}
	if ((r = node_state_write_cert(p->cfg.state_dir, "ca.crt", bundle)) != 0) {
		log_err("cannot write the new trust bundle: %s", hush_strerror(r));
		free(bundle);
		return;
	}
	if (p->view.net == NET_UP &&
	    net_reload_full(p, &(struct net_reload_req){ .ca = bundle }) != 0)
		log_warn("the net process did not take the new trust bundle");
	log_info("this node now trusts %s", p->ca.next != NULL ?
	    "the current and the next root CA" : "the current root CA only");
	free(bundle);
	if (p->ca.phase == CA_PHASE_NONE)
		drop_chain(p);
	ca_own_refresh(p);
	/* Tell the managers at once: the rotation waits on every node saying so. */
	cluster_heartbeat(p);
}

void
ca_follow(struct parent *p)
{
	if (!p->ca.known || !p->node.initialized || p->view.removed_self)
		return;
	follow_trust(p);
	if (p->ca.phase != CA_PHASE_RENEW || !p->ca.has_issuer ||
	    sodium_memcmp(p->ca.issuer, p->ca.next_spki, 32) == 0)
		return;
	if (p->ca.renew_asked != 0 && parent_mono() - p->ca.renew_asked < CA_RENEW_EVERY_SECS)
		return;
	if (renew_soon(p, (int64_t)randombytes_uniform(CA_RENEW_SPREAD_SECS + 1))) {
		p->ca.renew_asked = parent_mono();
		log_info("the cluster is rotating its CA: renewing this node's certificate");
	}
}

void
ca_learn(struct parent *p, const char *root, const char *next, const char *cross,
    uint8_t phase)
{
	struct ca_part *c = &p->ca;
	uint8_t root_spki[32], next_spki[32] = { 0 };
	char *bundle;

	if (root == NULL || (phase != CA_PHASE_NONE) != (next != NULL) ||
	    phase > CA_PHASE_RENEW || spki_of(root, root_spki) != 0 ||
	    (next != NULL && spki_of(next, next_spki) != 0)) {
		log_warn("ignored a CA description that does not hold together");
		return;
	}
	if (c->known && c->phase == phase && same_str(c->root, root) &&
	    same_str(c->next, next) && same_str(c->cross, cross)) {
		ca_follow(p);
		return;
	}
	free(c->root);
	free(c->next);
	free(c->cross);
	c->root = strdup(root);
	c->next = next != NULL ? strdup(next) : NULL;
	c->cross = cross != NULL ? strdup(cross) : NULL;
	if (c->root == NULL || (next != NULL && c->next == NULL) ||
	    (cross != NULL && c->cross == NULL)) {
		ca_part_reset(c);
		return;
	}
	/* The phase a leader's advance moved to has arrived: it may act again. */
	if (c->phase != phase || !same_str(c->next, next))
		c->advancing = false;
	if (c->known && c->phase != phase)
		log_info("the CA rotation is now in phase %s", phase == CA_PHASE_TRUST ?
		    "trust" : phase == CA_PHASE_RENEW ? "renew" : "none (finished)");
	c->phase = phase;
	memcpy(c->root_spki, root_spki, 32);
	memcpy(c->next_spki, next_spki, 32);
	if ((bundle = want_bundle(c)) == NULL) {
		ca_part_reset(c);
		return;
	}
	(void)join_token_digest_pem(bundle, strlen(bundle), c->want_trust);
	free(bundle);
	c->known = true;
	c->renew_asked = 0;
	c->refused_logged = false;
	ca_follow(p);
}

/* Whether pem is one of the roots this node trusts now (certificates/ca.crt). */
static bool
trusted_now(const struct parent *p, const char *pem)
{
	char *ca = node_state_read_cert(p->cfg.state_dir, "ca.crt"), *one;
	size_t n = 0, len;
	bool found = false;

	if (ca == NULL || x509_bundle_count(ca, strlen(ca), &n) != 0)
		n = 0;
	for (size_t i = 0; i < n && !found; i++) {
		if (x509_bundle_get(ca, strlen(ca), i, &one, &len) != 0)
			break;
		found = strcmp(one, pem) == 0;
		free(one);
	}
	free(ca);
	return found;
}

/*
 * What a heartbeat answer may make this node trust.  It comes from a
 * manager this node verified -- but through this node's net process, and
 * what the parent writes into ca.crt outlives that process.  So the
 * current root must already be trusted here, and a next root not trusted
 * yet must come with its cross-signed certificate, made by that current
 * root's key.  Only a rotation away from an external CA has none (no key
 * here could cross-sign): then the manager's word is all there is.
 */
static bool
heartbeat_ca_ok(const struct parent *p, const char *root, const char *next,
    const char *cross)
{
	char why[256];

	if (!trusted_now(p, root)) {
		log_warn("a manager's heartbeat names a root CA this node does not trust: "
		    "ignored");
		return false;
	}
	if (next == NULL || trusted_now(p, next))
		return true;
	if (cross == NULL) {
		log_info("the next root CA comes without a cross-signed certificate (the "
		    "current root's key is an external CA's): taken on the manager's word");
		return true;
	}
	if (x509_ca_check_cross(cross, strlen(cross), root, strlen(root), next, strlen(next),
	    why, sizeof(why)) != 0) {
		log_warn("a manager's heartbeat names a next root CA that the current root "
		    "did not cross-sign (%s): ignored", why);
		return false;
	}
	return true;
}

/* A heartbeat answer's CA fields, from a manager whose store is live. */
void
ca_heartbeat_take(struct parent *p, const struct wire_msg *m)
{
	const struct wire_field *fr = wire_find(m, T_CA_CERT, 0);
	const struct wire_field *fn = wire_find(m, T_CA_NEXT, 0);
	const struct wire_field *fc = wire_find(m, T_CA_CROSS, 0);
	char *root = NULL, *next = NULL, *cross = NULL;
	uint8_t phase = CA_PHASE_NONE;

	/* A manager follows its own store, which is never behind what it says. */
	if (fr == NULL || (p->node.role == ROLE_MANAGER && p->store.phase == RAFT_UP))
		return;
	(void)wire_get_u8(m, T_CA_PHASE, &phase);
	root = strndup((const char *)fr->val, fr->len);
	if (fn != NULL)
		next = strndup((const char *)fn->val, fn->len);
	if (fc != NULL)
		cross = strndup((const char *)fc->val, fc->len);
	if (root != NULL && (fn == NULL || next != NULL) && (fc == NULL || cross != NULL) &&
	    heartbeat_ca_ok(p, root, next, cross))
		ca_learn(p, root, next, cross, phase);
	free(root);
	free(next);
	free(cross);
}
