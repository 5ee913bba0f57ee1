#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk_space.h"
#include "err.h"
#include "parent.h"

static void
status_reply(struct op *op, const struct raft_status *raft)
{
	struct parent *p = op->p;
	struct wire_enc e;
	char s[64], how[257], notice[257];
	uint64_t u;

	wire_enc_init(&e, CTL_STATUS | MSG_REPLY, op->client_req, 8192);
	wire_put_bool(&e, T_INITIALIZED, p->node.initialized);
	wire_put_bool(&e, T_LOCKED, p->state == PS_LOCKED);
	wire_put_str(&e, T_HUSH_VERSION, HUSH_VERSION);
	/* Outside the block below: a node that left may still hold containers. */
	wire_put_u32(&e, T_CONTAINERS, (uint32_t)containers_count(p));
	audit_status_text(p, how, sizeof(how));
	wire_put_u8(&e, T_AUDIT_SINK, (uint8_t)p->audit.sink);
	wire_put_str(&e, T_AUDIT_TEXT, how);
	/* A full disk stops a manager's writes (lib/disk_space.h): show it coming. */
	wire_put_str(&e, T_STATE_DIR, p->cfg.state_dir);
	if (disk_free(p->cfg.state_dir, &u) == 0)
		wire_put_u64(&e, T_DISK_FREE, u);
	wire_put_u64(&e, T_DISK_NEED, p->node.initialized && p->node.role == ROLE_WORKER ?
	    HUSH_DISK_FLOOR : HUSH_RAFT_DISK_NEED);
	if (p->node.initialized) {
		wire_put_str(&e, T_NODE_ID, p->node.node_id);
		wire_put_str(&e, T_CLUSTER_ID, p->node.cluster_id);
		wire_put_u8(&e, T_ROLE, (uint8_t)p->node.role);
		wire_put_bool(&e, T_AUTOLOCK, p->settings.autolock);
		wire_put_i64(&e, T_CERT_NOT_AFTER, p->node.cert_not_after);
		wire_put_str(&e, T_ADVERTISE_ADDR, p->node.advertise);
		wire_put_str(&e, T_KEY_STORAGE, "kernel keyring (hushd session)");
		if (p->settings.cert_expiry != 0)
			wire_put_u64(&e, T_CERT_EXPIRY, p->settings.cert_expiry);
		wire_put_u32(&e, T_COUNT, (uint32_t)p->assign.nsvc);
		for (size_t i = 0; i < p->assign.nval && i < 200; i++) {
			snprintf(s, sizeof(s), "%s:%u", p->assign.val[i].secret_id,
			    p->assign.val[i].version);
			wire_put_str(&e, T_HAVE, s);
		}
		if (p->ca.known)
			wire_put_str(&e, T_TLS_STATUS, ca_tls_status(p, p->node.node_id));
		if (p->ca.known && p->node.role == ROLE_MANAGER)
			wire_put_u8(&e, T_CA_PHASE, p->ca.phase);
		if (p->view.removed_self)
			wire_put_str(&e, T_STATUS_TEXT, "this node was removed from the "
			    "cluster: run 'hushctl leave' to reset it, then join again");
		else if (p->ca.untrusted_since != 0 &&
		    parent_mono() - p->ca.untrusted_since >= CA_UNTRUSTED_SECS)
			wire_put_str(&e, T_STATUS_TEXT, "the managers and this node no longer "
			    "trust each other's certificates: if the cluster rotated its CA "
			    "while this node was down, run 'hushctl leave --force' and join "
			    "again with a current token");
		else if (p->view.net_refused[0] != '\0' && p->view.net != NET_UP) {
			/* At most 256 bytes on the wire; the log has it whole. */
			snprintf(notice, sizeof(notice), "this node is cut off from the "
			    "cluster: %.*s", (int)sizeof(notice) - 40, p->view.net_refused);
			wire_put_str(&e, T_STATUS_TEXT, notice);
		} else if (p->settings.extca_error[0] != '\0') {
			/* until it signs again: joins and renewals wait on it */
			snprintf(notice, sizeof(notice), "the external CA cannot sign: %s",
			    p->settings.extca_error);
			wire_put_str(&e, T_STATUS_TEXT, notice);
		}
	}
	if (raft != NULL) {
		wire_put_u64(&e, T_RAFT_TERM, raft->term);
		wire_put_u64(&e, T_RAFT_INDEX, raft->index);
		wire_put_str(&e, T_RAFT_STATE, raft->state);
		wire_put_str(&e, T_RAFT_LEADER, raft->leader);
		if (raft->has_digest) {
			wire_put_bytes(&e, T_STORE_DIGEST, raft->digest, sizeof(raft->digest));
			wire_put_u64(&e, T_STORE_SECRETS, raft->secrets);
			wire_put_u64(&e, T_STORE_SERVICES, raft->services);
			wire_put_u64(&e, T_STORE_NODES, raft->nodes);
		}
	} else if (p->node.initialized && p->node.role == ROLE_MANAGER) {
		wire_put_str(&e, T_RAFT_STATE, p->state == PS_LOCKED ? "locked" :
		    p->state == PS_DEGRADED ? "degraded" : "starting");
	}
	if (p->store.health[0] != '\0')
		wire_put_str(&e, T_HEALTH, p->store.health);
	op_reply(op, &e);
}

/* ctx: the raft process's answer, once it came. */
static void
raft_status_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	status_reply(op, status == 0 ? op->ctx : NULL);
}

void
op_status(struct op *op, const struct wire_msg *m)
{
	struct parent *p = op->p;
	struct raft_status *rs;
	bool digest = false;

	/* Absent means no: a plain status (which tests poll) stays O(1). */
	(void)wire_get_bool(m, T_DIGEST_WANTED, &digest);
	if (p->store.phase == RAFT_UP && (rs = calloc(1, sizeof(*rs))) != NULL) {
		op->ctx = rs;
		op->ctx_free = free;
		if (raft_status(op, digest, rs, raft_status_done) == 0)
			return;
	}
	status_reply(op, NULL);
}
