/*
 * The managers' side of a CA rotation (enum ca_phase in lib/msg.h; README
 * "Rotate the CA"): where every node stands, as this manager hears it --
 * the trust bundle each node's heartbeats say it holds, and the root that
 * issued the certificate net verified -- what heartbeat answers tell the
 * nodes, and the leader moving the rotation on once every node that is up
 * is where the phase wants it.  ca_follow.c is each node following.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "parent.h"
#include "store_calls.h"

/* The root a node's certificate should come from in this phase. */
static const uint8_t *
want_issuer(const struct ca_part *c)
{
	return c->phase == CA_PHASE_NONE ? c->root_spki : c->next_spki;
}

static bool
removed(const struct parent *p, const char *id)
{
	for (size_t i = 0; i < p->view.nremoved; i++)
		if (strcmp(p->view.removed[i], id) == 0)
			return true;
	return false;
}

void
ca_counts(const struct parent *p, uint32_t *total, uint32_t *trusting, uint32_t *renewed)
{
	const struct ca_part *c = &p->ca;
	const uint8_t *issuer = want_issuer(c);

	/* This node first: it is up by definition. */
	*total = 1;
	*trusting = c->has_trust && sodium_memcmp(c->trust, c->want_trust, 32) == 0;
	*renewed = c->has_issuer && sodium_memcmp(c->issuer, issuer, 32) == 0;
	for (size_t i = 0; i < p->view.nseen; i++) {
		const struct peer_seen *s = &p->view.seen[i];

		if (strcmp(s->id, p->node.node_id) == 0 || removed(p, s->id) ||
		    !cluster_peer_reachable(p, s->id))
			continue;
		(*total)++;
		if (s->has_trust && sodium_memcmp(s->trust, c->want_trust, 32) == 0)
			(*trusting)++;
		if (s->has_issuer && sodium_memcmp(s->issuer, issuer, 32) == 0)
			(*renewed)++;
	}
}

const char *
ca_tls_status(const struct parent *p, const char *node_id)
{
	const struct ca_part *c = &p->ca;
	const uint8_t *issuer = want_issuer(c);

	if (!c->known)
		return "unknown";
	if (strcmp(node_id, p->node.node_id) == 0)
		return c->has_issuer && sodium_memcmp(c->issuer, issuer, 32) == 0 &&
		    c->has_trust && sodium_memcmp(c->trust, c->want_trust, 32) == 0 ?
		    "ready" : "needs-rotation";
	for (size_t i = 0; i < p->view.nseen; i++) {
		const struct peer_seen *s = &p->view.seen[i];

		if (strcmp(s->id, node_id) != 0)
			continue;
		if (!s->has_issuer)
			return "unknown";
		return sodium_memcmp(s->issuer, issuer, 32) == 0 && s->has_trust &&
		    sodium_memcmp(s->trust, c->want_trust, 32) == 0 ? "ready" :
		    "needs-rotation";
	}
	return "unknown";
}

/*
 * What a manager's heartbeat answer says about the CA: all of it during a
 * rotation, and otherwise only to a node whose trust is not what it
 * should be (peer_trust NULL: it did not say).
 */
void
ca_heartbeat_put(const struct parent *p, struct wire_enc *e, const uint8_t *peer_trust)
{
	const struct ca_part *c = &p->ca;

	if (!c->known || (c->phase == CA_PHASE_NONE && peer_trust != NULL &&
	    sodium_memcmp(peer_trust, c->want_trust, 32) == 0))
		return;
	wire_put_str(e, T_CA_CERT, c->root);
	wire_put_u8(e, T_CA_PHASE, c->phase);
	if (c->next != NULL)
		wire_put_str(e, T_CA_NEXT, c->next);
	if (c->cross != NULL)
		wire_put_str(e, T_CA_CROSS, c->cross);
}

/* ---- the leader moves the rotation on ---- */

static void
advanced(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;

	/* Committed: the store's event ends it (ca_learn), not this answer. */
	if (status != 0)
		p->ca.advancing = false;
	if (status != 0)
		log_warn("the CA rotation could not move on: %s", detail && *detail ? detail :
		    hush_strerror(status));
	op_free(op);
}

static void
advance(struct parent *p, uint8_t phase)
{
	uint8_t w[16], m[16];
	struct op *op;

	if ((op = op_internal(p, NULL, NULL)) == NULL)
		return;
	randombytes_buf(w, sizeof(w));
	randombytes_buf(m, sizeof(m));
	p->ca.advancing = true;
	p->ca.advance_at = parent_mono();
	log_info("every node that is up %s: the CA rotation moves on to %s",
	    phase == CA_PHASE_RENEW ? "trusts the next root" : "has a certificate from it",
	    phase == CA_PHASE_RENEW ? "renewing certificates" :
	    "dropping the old root and replacing the join tokens");
	if (store_ca_advance(op, p->ca.next_spki, phase, phase == CA_PHASE_NONE ? w : NULL,
	    phase == CA_PHASE_NONE ? m : NULL, advanced) != 0) {
		p->ca.advancing = false;
		op_free(op);
	}
	sodium_memzero(w, sizeof(w));
	sodium_memzero(m, sizeof(m));
}

/*
 * What the rotation waits for, for people (CTL_CA); "" when nothing.  A
 * manager whose network came up lately has not heard every node yet.
 */
void
ca_waiting_for(const struct parent *p, char *buf, size_t len)
{
	uint32_t total, trusting, renewed;

	buf[0] = '\0';
	if (!p->ca.known || p->ca.phase == CA_PHASE_NONE)
		return;
	if (p->view.net != NET_UP || parent_mono() - p->ca.net_up_at < CA_SETTLE_SECS) {
		snprintf(buf, len, "this manager is still hearing from the nodes");
		return;
	}
	ca_counts(p, &total, &trusting, &renewed);
	if (trusting < total)
		snprintf(buf, len, "waiting for %u of %u nodes to trust the next root",
		    total - trusting, total);
	else if (p->ca.phase == CA_PHASE_RENEW && renewed < total)
		snprintf(buf, len, "waiting for %u of %u nodes to renew their certificates",
		    total - renewed, total);
}

void
ca_leader_tick(struct parent *p)
{
	char held[128];

	/* An advance whose answer or event never came (a leadership change). */
	if (p->ca.advancing && parent_mono() - p->ca.advance_at > 10)
		p->ca.advancing = false;
	if (!p->ca.known || p->ca.phase == CA_PHASE_NONE || p->ca.advancing ||
	    p->node.role != ROLE_MANAGER || p->store.phase != RAFT_UP ||
	    strcmp(p->store.leader, p->node.advertise) != 0)
		return;
	/*
	 * "Every node that is up" is every node this manager heard lately:
	 * until it has listened for longer than a node takes to count as
	 * down, a node it has not heard yet is not down, only unheard -- and
	 * moving on without it would lock it out for good.
	 */
	ca_waiting_for(p, held, sizeof(held));
	if (held[0] != '\0')
		return;
	advance(p, p->ca.phase == CA_PHASE_TRUST ? CA_PHASE_RENEW : CA_PHASE_NONE);
}
