/*
 * Keeping the children supplied with what they need after every (re)start:
 * the raft process gets the DEK from the keyring, the pki process gets the
 * CA from the store.  And keeping node.keys in step with the cluster's
 * autolock setting, which the raft process reports after each change.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keyring.h"
#include "log.h"
#include "node_sign.h"
#include "parent.h"
#include "pki_calls.h"
#include "raft_proc_calls.h"
#include "store_calls.h"

void
lifecycle_wait_ready(struct parent *p, struct op *op, op_done_cb done)
{
	op->on_ready = done;
	op->next_waiting = p->store.waiting_ready;
	p->store.waiting_ready = op;
}

bool
lifecycle_unpark(struct parent *p, struct op *op)
{
	struct op **pp;

	for (pp = &p->store.waiting_ready; *pp != NULL; pp = &(*pp)->next_waiting)
		if (*pp == op) {
			*pp = op->next_waiting;
			op->next_waiting = NULL;
			return true;
		}
	return false;
}

/*
 * The lists (ops waiting, forwarded calls) are not dropped: their ops
 * still have clients to answer, and their owners drain them.
 */
void
store_part_reset(struct store_part *s)
{
	s->phase = RAFT_IDLE;
	s->hold = RAFT_RUN;
	s->disk_checked_ms = 0;
	s->bootstrap = false;
	s->damaged = 0;
	s->error[0] = '\0';
	s->health[0] = '\0';
	s->repair_aside[0] = '\0';
	s->leader[0] = '\0';
}

void
cluster_settings_reset(struct cluster_settings *s)
{
	free(s->extca_url);
	free(s->extca_cacert);
	free(s->ca_root);
	memset(s, 0, sizeof(*s));
	s->ca = PKI_NO_CA;
}

void
lifecycle_wake_waiting(struct parent *p, int status, const char *detail)
{
	struct op *op = p->store.waiting_ready, *next;

	p->store.waiting_ready = NULL;
	for (; op != NULL; op = next) {
		next = op->next_waiting;
		op->on_ready(op, status, NULL, detail);
	}
}

/* The stored CA on its way from the store to the pki process. */
struct ca_load {
	struct cluster_record	 cluster;
	uint8_t			 digest[32];	/* what pki_ca_load() fills in */
};

static void
ca_load_free(void *arg)
{
	struct ca_load *x = arg;

	cluster_record_clear(&x->cluster);
	free(x);
}

static void
ca_loaded(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct ca_load *x = op->ctx;

	if (status != 0) {
		log_err("the pki process refused the stored CA: %s",
		    detail && *detail ? detail : hush_strerror(status));
	} else {
		memcpy(p->settings.token_digest, x->digest, sizeof(p->settings.token_digest));
		p->settings.have_digest = true;
		p->settings.ca = PKI_CA_LOADED;
		log_debug("root CA loaded into the pki process");
	}
	op_free(op);
}

static void
cluster_read(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct ca_load *x = op->ctx;
	struct pki_ca_state st;
	int r;

	if (status != 0) {
		if (status != HUSH_E_NOTINIT)
			log_err("cannot read the cluster record: %s",
			    detail && *detail ? detail : hush_strerror(status));
		op_free(op);
		return;
	}
	p->settings.autolock = x->cluster.autolock;
	p->settings.cert_expiry = x->cluster.cert_expiry;
	ca_learn(p, x->cluster.ca_cert, x->cluster.ca_phase != CA_PHASE_NONE ?
	    x->cluster.next_cert : NULL, x->cluster.cross_cert, x->cluster.ca_phase);
	/*
	 * Without the key here an external CA signs: node_sign() asks it.  In
	 * a rotation's RENEW phase the next root signs, whoever holds its key.
	 */
	if (x->cluster.ca_phase == CA_PHASE_RENEW)
		r = node_sign_set_extca(p, x->cluster.next_key.len == 0 ?
		    x->cluster.next_extca_url : NULL, x->cluster.next_extca_cacert,
		    x->cluster.next_cert);
	else
		r = node_sign_set_extca(p, x->cluster.ca_key.len == 0 ? x->cluster.extca_url :
		    NULL, x->cluster.extca_cacert, x->cluster.ca_cert);
	if (r != 0) {
		log_warn("cannot keep the external CA's settings: out of memory");
		op_free(op);
		return;
	}
	/* The same op waits for pki now; the digest comes back in its ctx. */
	st = (struct pki_ca_state){
		.cert = (const uint8_t *)x->cluster.ca_cert, .certlen = x->cluster.ca_certlen,
		.key = x->cluster.ca_key.len > 0 ? x->cluster.ca_key.p : NULL,
		.keylen = x->cluster.ca_key.len,
		.phase = x->cluster.ca_phase,
	};
	if (x->cluster.ca_phase != CA_PHASE_NONE) {
		st.next = (const uint8_t *)x->cluster.next_cert;
		st.nextlen = strlen(x->cluster.next_cert);
		st.next_key = x->cluster.next_key.len > 0 ? x->cluster.next_key.p : NULL;
		st.next_keylen = x->cluster.next_key.len;
		st.cross = (const uint8_t *)x->cluster.cross_cert;
		st.crosslen = x->cluster.cross_cert != NULL ? strlen(x->cluster.cross_cert) : 0;
	}
	if ((r = pki_ca_load_state(op, &st, x->digest, ca_loaded)) != 0) {
		log_warn("cannot send the CA to the pki process: %s", hush_strerror(r));
		op_free(op);
	}
}

void
lifecycle_load_ca(struct parent *p)
{
	struct ca_load *x;
	struct op *op;

	if (p->store.phase != RAFT_UP || p->pki.pid <= 0)
		return;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return;
	if ((op = op_internal(p, x, ca_load_free)) == NULL) {
		free(x);
		return;
	}
	if (store_cluster_read(op, STORE_HERE, &x->cluster, cluster_read) != 0)
		op_free(op);
}

static void
raft_started(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;

	op_free(op);

	if (status != 0) {
		p->store.phase = RAFT_IDLE;
		log_err("the raft store did not start: %s",
		    detail && *detail ? detail : hush_strerror(status));
		/* What degraded.c reports if the process exits as damaged. */
		snprintf(p->store.error, sizeof(p->store.error), "%s",
		    detail && *detail ? detail : hush_strerror(status));
		lifecycle_wake_waiting(p, status, detail);
		return;
	}
	p->store.phase = RAFT_UP;
	/* The new process reports its leader next (raft_leader_moved()). */
	p->store.leader[0] = '\0';
	p->store.damaged = 0;
	p->store.error[0] = '\0';
	p->store.bootstrap = false;
	log_info("the raft store is ready");
	(void)node_event(p, NE_STORE_UP);
	lifecycle_load_ca(p);
	seal_key_register(p);
	lifecycle_wake_waiting(p, 0, NULL);
}

int
lifecycle_start_raft(struct parent *p, bool bootstrap)
{
	struct secbuf dek = SECBUF_INIT;
	struct raft_proc_start_req req;
	struct op *op;
	char aside[sizeof(p->store.repair_aside)];
	int r;

	if (p->store.phase != RAFT_IDLE)
		return 0;
	if (p->raft.pid <= 0 || p->raft.ch.fd < 0 || p->store.hold != RAFT_RUN ||
	    p->node.role != ROLE_MANAGER)
		return HUSH_E_UNAVAIL;
	if ((r = keyring_get(KEY_DEK, &dek)) != 0) {
		log_err("the data key is not in the keyring: %s", hush_strerror(r));
		return r;
	}
	if ((op = op_internal(p, NULL, NULL)) == NULL) {
		secbuf_free(&dek);
		return HUSH_E_NOMEM;
	}
	/* Once: a later restart must not set the rebuilt log aside again. */
	snprintf(aside, sizeof(aside), "%s", p->store.repair_aside);
	p->store.repair_aside[0] = '\0';
	req = (struct raft_proc_start_req){
		.dek = &dek,
		.node_id = p->node.node_id,
		.advertise = p->node.advertise,
		.bootstrap = bootstrap,
		.snap_threshold = p->cfg.snapshot_threshold,
		.snap_trailing = p->cfg.snapshot_trailing,
		.set_aside = aside[0] != '\0' ? aside : NULL,
		.force_new = p->store.force_op != NULL,
		.first_cmd = p->store.force_cmd,
		.first_cmd_len = p->store.force_cmd_len,
	};
	r = raft_proc_start(op, &req, raft_started);
	secbuf_free(&dek);
	if (r != 0) {
		op_free(op);
		return r;
	}
	p->store.phase = RAFT_STARTING;
	/* Once: answered when this start is (ops_force_new.c). */
	if (p->store.force_op != NULL) {
		lifecycle_wait_ready(p, p->store.force_op, p->store.force_op->on_ready);
		p->store.force_op = NULL;
		sodium_memzero(p->store.force_cmd, sizeof(p->store.force_cmd));
		p->store.force_cmd_len = 0;
	}
	return 0;
}

void
lifecycle_child_started(struct parent *p, struct child *c)
{
	if (c == &p->raft) {
		p->store.phase = RAFT_IDLE;
		if (p->node.role != ROLE_MANAGER)
			return;		/* workers (and new nodes) keep no store */
		/* READY becomes STARTING, whose entry starts the store. */
		(void)node_event(p, NE_STORE_DOWN);
		if (p->state == PS_STARTING || (p->state == PS_INITIALIZING && p->store.bootstrap))
			lifecycle_start_raft(p, p->store.bootstrap);
	} else if (c == &p->pki) {
		p->settings.ca = PKI_NO_CA;
		lifecycle_load_ca(p);
	} else if (c == &p->mounter) {
		containers_mounter_started(p);
	}
}

/*
 * node.keys follows the cluster's autolock setting on every manager: sealed
 * by the current KEK while autolock is on, in clear when it is off.
 */
static void
sync_keyfile(struct parent *p, bool autolock, const uint8_t *kek)
{
	struct secbuf cur = SECBUF_INIT, dek = SECBUF_INIT, node = SECBUF_INIT;
	bool have_cur;
	int r;

	have_cur = keyring_get(KEY_KEK, &cur) == 0;
	if (autolock && have_cur && cur.len == 32 && sodium_memcmp(cur.p, kek, 32) == 0)
		goto out;
	if (!autolock && !have_cur)
		goto out;
	if ((r = keyring_get(KEY_DEK, &dek)) != 0 || (r = keyring_get(KEY_NODE, &node)) != 0) {
		log_err("cannot re-seal node.keys: keys missing from the keyring: %s",
		    hush_strerror(r));
		goto out;
	}
	if ((r = seal_key_write_keyfile(p, &dek, &node, autolock ? kek : NULL)) != 0) {
		log_err("cannot re-seal node.keys: %s", hush_strerror(r));
		goto out;
	}
	if (autolock)
		r = keyring_put(KEY_KEK, kek, 32);
	else
		r = keyring_drop(KEY_KEK);
	if (r != 0)
		log_err("cannot update the unlock key in the keyring: %s", hush_strerror(r));
	log_info(autolock ? "node.keys is now sealed by the current unlock key" :
	    "autolock is off: node.keys is no longer sealed");
out:
	secbuf_free(&cur);
	secbuf_free(&dek);
	secbuf_free(&node);
}

void
lifecycle_raft_event(struct parent *p, const struct wire_msg *m)
{
	const uint8_t *kek = NULL;
	char leader[263] = "";
	size_t len;
	uint16_t ev;
	bool autolock = false;

	if (wire_get_u16(m, T_EVENT, &ev) != 0)
		return;
	switch (ev) {
	case EV_APPLIED_CLUSTER:
		wire_get_bool(m, T_AUTOLOCK, &autolock);
		wire_get_u64(m, T_CERT_EXPIRY, &p->settings.cert_expiry);
		if (autolock && wire_get_bytes(m, T_KEK, &kek, &len) != 0) {
			child_kill(&p->raft, "autolock event without a key");
			return;
		}
		p->settings.autolock = autolock;
		sync_keyfile(p, autolock, kek);
		/* The CA may have moved (a rotation): pki and this node follow. */
		lifecycle_load_ca(p);
		break;
	case EV_NODES:
		cluster_nodes_event(p, m);
		break;
	case EV_ASSIGNMENTS:
		assign_store_changed(p);
		break;
	case EV_LEADERSHIP:
		wire_get_str(m, T_LEADER_ADDR, leader, sizeof(leader));
		raft_leader_moved(p, leader);
		break;
	default:
		log_warn("unknown event %u from the raft process", ev);
		break;
	}
}

