/*
 * The schema of every hush message.  Bounds here are the first line of
 * defence: a field longer than declared never reaches a handler.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "idmap.h"
#include "msg.h"
#include "seal.h"
#include "names.h"

#define REQ WIRE_F_REQUIRED
#define REP WIRE_F_REPEATED
#define F(tag, kind, flags, min, max) { tag, &#tag[2], kind, flags, min, max }

#define F_ID(tag, flags)	F(tag, WIRE_STR, flags, 25, 25)
#define F_REQ_ID		F(T_REQ_ID, WIRE_BYTES, REQ, HUSH_REQ_ID_LEN, HUSH_REQ_ID_LEN)
#define F_KEY32(tag, flags)	F(tag, WIRE_BYTES, flags, 32, 32)
#define F_SECRET16(tag, flags)	F(tag, WIRE_BYTES, flags, 16, 16)
#define F_NAME(flags)		F(T_NAME, WIRE_STR, flags, 1, 64)
#define F_LABELS		F(T_LABEL, WIRE_STR, REP, 2, 128 + 1 + 512)
#define F_ADDR(tag, flags)	F(tag, WIRE_STR, flags, 1, 262)
#define F_CA_CERT(flags)	F(T_CA_CERT, WIRE_STR, flags, 1, 16384)
/* An operator's own root may be RSA up to 4096 bits: its PKCS#8 PEM fits. */
#define F_CA_KEY(flags)		F(T_CA_KEY, WIRE_BYTES, flags, 1, 8192)
#define F_CA_NEXT(flags)	F(T_CA_NEXT, WIRE_STR, flags, 1, 16384)
#define F_CA_NEXT_KEY(flags)	F(T_CA_NEXT_KEY, WIRE_BYTES, flags, 1, 8192)
#define F_CA_CROSS(flags)	F(T_CA_CROSS, WIRE_STR, flags, 1, 16384)
#define F_CA_CHAIN(flags)	F(T_CA_CHAIN, WIRE_STR, flags, 1, 16384)
#define F_CA_PHASE(flags)	F(T_CA_PHASE, WIRE_U8, flags, 0, 0)
#define F_EXTCA(flags) \
	F(T_EXTCA_URL, WIRE_STR, flags, 9, 1024), \
	F(T_EXTCA_CACERT, WIRE_STR, 0, 1, 16384)
#define F_SECRET_DATA		F(T_DATA, WIRE_BYTES, REQ, 1, HUSH_SECRET_MAX)
#define F_RECORDS(tag)		F(T_RECORDS, WIRE_BYTES, REQ, 0, WIRE_MAX_MSG - 4096)
/* Paging (msg.h, HUSH_PAGE_BYTES): where a list goes on, how much an inspect answered. */
#define F_CURSOR		F(T_CURSOR, WIRE_STR, 0, 1, HUSH_CURSOR_MAX)
#define F_ANSWERED		F(T_COUNT, WIRE_U32, 0, 0, 0)

/* A list request: from the start, or after T_CURSOR. */
static const struct wire_field_spec f_list[] = {
	F_CURSOR,
};

/*
 * Assignments: a node says what it holds (the digest of its last complete
 * assignment, and id:version of each value); the answer is the digest
 * alone when nothing changed, else the services placed on the node and
 * the values it lacks.
 */
#define F_HAVE		F(T_HAVE, WIRE_STR, REP, 27, 25 + 1 + 10)
static const struct wire_field_spec f_dsp_assignments[] = {
	F_KEY32(T_DIGEST, 0),
	F_HAVE,
};
static const struct wire_field_spec f_qry_assignments[] = {
	F_ID(T_NODE_ID, REQ),
	F_KEY32(T_DIGEST, 0),
	F_HAVE,
};
static const struct wire_field_spec f_assignments_r[] = {
	F_KEY32(T_DIGEST, REQ),
	F(T_RECORDS, WIRE_BYTES, 0, 0, WIRE_MAX_MSG - 4096),
	F(T_SECRET_DATA, WIRE_BYTES, REP, 1, HUSH_SECRET_MAX + 256),
	F(T_MORE, WIRE_BOOL, 0, 0, 0),
};
static const struct wire_field_spec f_ctl_assignments_r[] = {
	F(T_RECORDS, WIRE_BYTES, REQ, 0, WIRE_MAX_MSG - 4096),
	F_HAVE,
	F_KEY32(T_DIGEST, 0),
	F_CURSOR,
};
/*
 * A value for the node it is placed on, sealed to that node's sealing key
 * (crypto_box_seal: 48 bytes more than the value) by the raft process that
 * read it: neither net process in between, nor the manager's parent, can
 * open it.
 */
static const struct wire_field_spec f_rec_secret_data[] = {
	F_ID(T_SECRET_ID, REQ),
	F(T_VERSION, WIRE_U32, REQ, 0, 0),
	F(T_SEALED, WIRE_BYTES, REQ, 1 + 48, HUSH_SECRET_MAX + 48),
};

static const struct wire_field_spec f_error[] = {
	F(T_ERRCODE, WIRE_U32, REQ, 0, 0),
	F(T_ERRMSG, WIRE_STR, 0, 0, MSG_ERRMSG_MAX),
};

/* status --digest (msg.h T_DIGEST_WANTED): asked for, and answered. */
static const struct wire_field_spec f_status[] = {
	F(T_DIGEST_WANTED, WIRE_BOOL, 0, 0, 0),
};
#define F_STORE_DIGEST \
	F(T_STORE_DIGEST, WIRE_BYTES, 0, 32, 32), \
	F(T_STORE_SECRETS, WIRE_U64, 0, 0, 0), \
	F(T_STORE_SERVICES, WIRE_U64, 0, 0, 0), \
	F(T_STORE_NODES, WIRE_U64, 0, 0, 0)
static const struct wire_field_spec f_status_r[] = {
	F(T_INITIALIZED, WIRE_BOOL, REQ, 0, 0),
	F(T_LOCKED, WIRE_BOOL, REQ, 0, 0),
	F(T_HUSH_VERSION, WIRE_STR, REQ, 1, 32),
	F_ID(T_NODE_ID, 0),
	F_ID(T_CLUSTER_ID, 0),
	F(T_ROLE, WIRE_U8, 0, 0, 0),
	F(T_AUTOLOCK, WIRE_BOOL, 0, 0, 0),
	F(T_RAFT_TERM, WIRE_U64, 0, 0, 0),
	F(T_RAFT_LEADER, WIRE_STR, 0, 0, 25),
	F(T_RAFT_STATE, WIRE_STR, 0, 1, 16),
	F(T_RAFT_INDEX, WIRE_U64, 0, 0, 0),
	F(T_CERT_NOT_AFTER, WIRE_I64, 0, 0, 0),
	F(T_CERT_EXPIRY, WIRE_U64, 0, 0, 0),
	F_ADDR(T_ADVERTISE_ADDR, 0),
	F(T_KEY_STORAGE, WIRE_STR, 0, 1, 64),
	F(T_STATUS_TEXT, WIRE_STR, 0, 1, 256),	/* what the operator must act on */
	F(T_COUNT, WIRE_U32, 0, 0, 0),		/* services placed on this node */
	F_HAVE,					/* secret values it holds, id:version */
	F(T_CONTAINERS, WIRE_U32, 0, 0, 0),	/* containers it delivered into */
	F(T_AUDIT_SINK, WIRE_U8, 0, 0, 0),	/* kernel audit (1) or the log (2) */
	F(T_AUDIT_TEXT, WIRE_STR, 0, 1, 256),
	F(T_STATE_DIR, WIRE_STR, 0, 1, HUSH_PATH_MAX),
	F(T_DISK_FREE, WIRE_U64, 0, 0, 0),
	F(T_DISK_NEED, WIRE_U64, 0, 0, 0),
	F(T_HEALTH, WIRE_STR, 0, 1, 1024),	/* "degraded: why" */
	F_STORE_DIGEST,
	F(T_TLS_STATUS, WIRE_STR, 0, 1, 32),	/* this node's certificate against the CA */
	F_CA_PHASE(0),				/* a manager's view of a CA rotation */
};

static const struct wire_field_spec f_init[] = {
	F_REQ_ID,
	F(T_AUTOLOCK, WIRE_BOOL, REQ, 0, 0),
	F(T_CERT_EXPIRY, WIRE_U64, 0, 0, 0),
	F_ADDR(T_ADVERTISE_ADDR, 0),
	F_ADDR(T_LISTEN_ADDR, 0),
	/* the operator's own root (--ca-cert, --ca-key as the file holds it),
	 * or an external CA's root and where to reach it (--external-ca) */
	F_CA_CERT(0),
	F_CA_KEY(0),
	F_EXTCA(0),
};
static const struct wire_field_spec f_init_r[] = {
	F_ID(T_NODE_ID, REQ),
	F_ID(T_CLUSTER_ID, REQ),
	F(T_WORKER_TOKEN, WIRE_STR, REQ, 86, 86),
	F(T_MANAGER_TOKEN, WIRE_STR, REQ, 86, 86),
	F_ADDR(T_ADVERTISE_ADDR, REQ),
	F_KEY32(T_KEK, 0),
};

static const struct wire_field_spec f_join_token[] = {
	F_REQ_ID,
	F(T_ROLE, WIRE_U8, REQ, 0, 0),
	F(T_ROTATE, WIRE_BOOL, REQ, 0, 0),
};
static const struct wire_field_spec f_join_token_r[] = {
	F(T_TOKEN, WIRE_STR, REQ, 86, 86),
	F_ADDR(T_ADVERTISE_ADDR, REQ),
};

static const struct wire_field_spec f_secret_create[] = {
	F_REQ_ID,
	F_NAME(REQ),
	F_SECRET_DATA,
	F_LABELS,
};
static const struct wire_field_spec f_secret_id_r[] = {
	F_ID(T_SECRET_ID, REQ | REP),
	F(T_DUPLICATE, WIRE_BOOL, 0, 0, 0),
};
static const struct wire_field_spec f_secret_list_r[] = {
	F_RECORDS(T_SECRET),
	F_CURSOR,
};
static const struct wire_field_spec f_secret_records[] = {
	F_RECORDS(T_SECRET),
	F_ANSWERED,
};
static const struct wire_field_spec f_refs[] = {
	F(T_REF, WIRE_STR, REQ | REP, 1, 64),
};
static const struct wire_field_spec f_secret_rm[] = {
	F_REQ_ID,
	F(T_REF, WIRE_STR, REQ | REP, 1, 64),
};

static const struct wire_field_spec f_update[] = {
	F_REQ_ID,
	F(T_AUTOLOCK, WIRE_BOOL, 0, 0, 0),
	F(T_CERT_EXPIRY, WIRE_U64, 0, 0, 0),
};
static const struct wire_field_spec f_kek_opt[] = {
	F_KEY32(T_KEK, 0),
};
static const struct wire_field_spec f_kek_req[] = {
	F_KEY32(T_KEK, REQ),
};
/* Unlocked; what the operator should know if the store is not serving yet. */
static const struct wire_field_spec f_unlock_r[] = {
	F(T_STATUS_TEXT, WIRE_STR, 0, 1, 256),
};
static const struct wire_field_spec f_unlock_key[] = {
	F_REQ_ID,
	F(T_ROTATE, WIRE_BOOL, REQ, 0, 0),
};
static const struct wire_field_spec f_test_fault[] = {
	F(T_CHILD, WIRE_STR, REQ, 1, 16),
	F(T_FAULT, WIRE_STR, REQ, 1, 32),
};

static const struct wire_field_spec f_pki_ca_create[] = {
	F(T_NOW, WIRE_I64, REQ, 0, 0),
	F(T_LIFETIME, WIRE_U64, REQ, 0, 0),
};
static const struct wire_field_spec f_pki_ca_r[] = {
	F_CA_CERT(REQ),
	F_CA_KEY(REQ),
	F(T_DIGEST, WIRE_BYTES, REQ, 32, 32),
};
/* Without T_CA_KEY an external CA signs: pki knows the root but cannot issue. */
static const struct wire_field_spec f_pki_ca_load[] = {
	F_CA_CERT(REQ),
	F_CA_KEY(0),
	F_CA_NEXT(0),
	F_CA_NEXT_KEY(0),
	F_CA_CROSS(0),
	F_CA_PHASE(0),
};
static const struct wire_field_spec f_pki_ca_rotate[] = {
	F(T_NOW, WIRE_I64, REQ, 0, 0),
	F(T_LIFETIME, WIRE_U64, REQ, 0, 0),
	F_CA_CERT(0),	/* supplied root: the operator's, or an external CA's */
	F_CA_KEY(0),	/* its key, PEM or DER as the operator gave it */
};
static const struct wire_field_spec f_pki_ca_rotate_r[] = {
	F_CA_NEXT(REQ),
	F_CA_NEXT_KEY(0),
	F_CA_CROSS(0),
	F_KEY32(T_DIGEST, REQ),	/* SPKI digest of the next root */
};
static const struct wire_field_spec f_pki_digest_r[] = {
	F(T_DIGEST, WIRE_BYTES, REQ, 32, 32),
};
static const struct wire_field_spec f_pki_issue[] = {
	F(T_CSR, WIRE_BYTES, REQ, 1, 8192),
	F(T_SUBJ_CN, WIRE_STR, REQ, 1, 64),
	F(T_SUBJ_OU, WIRE_STR, REQ, 1, 64),
	F(T_SUBJ_O, WIRE_STR, REQ, 1, 64),
	F(T_NOW, WIRE_I64, REQ, 0, 0),
	F(T_LIFETIME, WIRE_U64, REQ, 0, 0),
};
static const struct wire_field_spec f_pki_issue_r[] = {
	F(T_CERT, WIRE_STR, REQ, 1, 16384),
	F(T_CERT_NOT_AFTER, WIRE_I64, REQ, 0, 0),
	F_CA_CHAIN(0),
};

static const struct wire_field_spec f_raft_start[] = {
	F_KEY32(T_DEK, REQ),
	F_ID(T_NODE_ID, REQ),
	F_ADDR(T_ADDRESS, REQ),
	F(T_BOOTSTRAP, WIRE_BOOL, REQ, 0, 0),
	F(T_SNAP_THRESHOLD, WIRE_U32, REQ, 0, 0),
	F(T_SNAP_TRAILING, WIRE_U32, REQ, 0, 0),
	F(T_SET_ASIDE, WIRE_STR, 0, 1, 63),	/* node repair: the old files' new home */
	F(T_FORCE_NEW, WIRE_BOOL, 0, 0, 0),	/* force-new-cluster: recover as the only voter */
	/* committed before the store reports ready: the forced cluster's node table */
	F(T_COMMAND, WIRE_BYTES, 0, WIRE_HDR_LEN, 4096),
};
/* A forced new cluster's start: the managers its node table removed. */
static const struct wire_field_spec f_raft_start_r[] = {
	F_ID(T_PEER_ID, REP),
};
static const struct wire_field_spec f_raft_propose[] = {
	F(T_COMMAND, WIRE_BYTES, REQ, WIRE_HDR_LEN, HUSH_SECRET_MAX + 65536),
};
static const struct wire_field_spec f_raft_propose_r[] = {
	F_ID(T_SECRET_ID, REP),
	F(T_DUPLICATE, WIRE_BOOL, 0, 0, 0),
	F(T_RAFT_INDEX, WIRE_U64, REQ, 0, 0),
};
static const struct wire_field_spec f_raft_query[] = {
	F(T_QUERY, WIRE_BYTES, REQ, WIRE_HDR_LEN, WIRE_MAX_MSG - 64),
};
static const struct wire_field_spec f_raft_query_req[] = {
	F(T_QUERY, WIRE_BYTES, REQ, WIRE_HDR_LEN, WIRE_MAX_MSG - 64),
	F(T_FORCE, WIRE_BOOL, 0, 0, 0),	/* answer from this replica, even a follower */
};
static const struct wire_field_spec f_raft_status_r[] = {
	F_ADDR(T_LEADER_ADDR, 0),
	F(T_RAFT_TERM, WIRE_U64, REQ, 0, 0),
	F(T_RAFT_LEADER, WIRE_STR, REQ, 0, 25),
	F(T_RAFT_STATE, WIRE_STR, REQ, 1, 16),
	F(T_RAFT_INDEX, WIRE_U64, REQ, 0, 0),
	F_STORE_DIGEST,
	/* the voters of its configuration: how many, and the others' ids */
	F(T_COUNT, WIRE_U32, 0, 0, 0),
	F_ID(T_PEER_ID, REP),
};
static const struct wire_field_spec f_raft_event[] = {
	F(T_EVENT, WIRE_U16, REQ, 0, 0),
	F_ID(T_PEER_ID, REP),		/* removed nodes */
	F_ADDR(T_MANAGER_ADDR, REP),
	F_ID(T_NODE_ID, REP),		/* managers */
	F(T_AUTOLOCK, WIRE_BOOL, 0, 0, 0),
	F_KEY32(T_KEK, 0),
	F(T_CERT_EXPIRY, WIRE_U64, 0, 0, 0),
	F_ADDR(T_LEADER_ADDR, 0),	/* EV_LEADERSHIP: absent while none is known */
	F(T_RAFT_TERM, WIRE_U64, 0, 0, 0),
};
static const struct wire_field_spec f_raft_connect[] = {
	F_ADDR(T_ADDRESS, REQ),
};
static const struct wire_field_spec f_raft_demote[] = {
	F_ID(T_NODE_ID, REQ),
};
static const struct wire_field_spec f_raft_inbound[] = {
	F_ID(T_PEER_ID, REQ),
	F_ADDR(T_ADDRESS, REQ),
};

static const struct wire_field_spec f_cmd_cluster_init[] = {
	F_REQ_ID,
	F_ID(T_CLUSTER_ID, REQ),
	F_CA_CERT(REQ),
	F_CA_KEY(0),		/* absent: an external CA holds it */
	F_SECRET16(T_WORKER_SECRET, REQ),
	F_SECRET16(T_MANAGER_SECRET, REQ),
	F(T_CERT_EXPIRY, WIRE_U64, REQ, 0, 0),
	F_KEY32(T_KEK, 0),
	F_EXTCA(0),
	F_ID(T_NODE_ID, REQ),
	F_ADDR(T_ADVERTISE_ADDR, REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
	F_KEY32(T_SEAL_PUB, 0),
};
static const struct wire_field_spec f_cmd_token_rotate[] = {
	F_REQ_ID,
	F_SECRET16(T_WORKER_SECRET, 0),
	F_SECRET16(T_MANAGER_SECRET, 0),
};
static const struct wire_field_spec f_cmd_secret_create[] = {
	F_REQ_ID,
	F_ID(T_SECRET_ID, REQ),
	F_NAME(REQ),
	F_SECRET_DATA,
	F_LABELS,
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
};
static const struct wire_field_spec f_cmd_cluster_update[] = {
	F_REQ_ID,
	F(T_AUTOLOCK, WIRE_BOOL, 0, 0, 0),
	F_KEY32(T_KEK, 0),
	F(T_CERT_EXPIRY, WIRE_U64, 0, 0, 0),
};

static const struct wire_field_spec f_cluster[] = {
	F_ID(T_CLUSTER_ID, REQ),
	F_CA_CERT(REQ),
	F_CA_KEY(0),		/* absent: an external CA holds it */
	F_EXTCA(0),
	/* a rotation under way (enum ca_phase) */
	F_CA_PHASE(0),
	F_CA_NEXT(0),
	F_CA_NEXT_KEY(0),
	F_CA_CROSS(0),
	F(T_NEXT_EXTCA_URL, WIRE_STR, 0, 9, 1024),
	F(T_NEXT_EXTCA_CACERT, WIRE_STR, 0, 1, 16384),
	F_KEY32(T_DIGEST, 0),			/* SPKI digest of the next root */
	F(T_UPDATED, WIRE_I64, 0, 0, 0),	/* when the rotation began */
	F_SECRET16(T_WORKER_SECRET, REQ),
	F_SECRET16(T_MANAGER_SECRET, REQ),
	F(T_CERT_EXPIRY, WIRE_U64, REQ, 0, 0),
	F(T_AUTOLOCK, WIRE_BOOL, REQ, 0, 0),
	F_KEY32(T_KEK, 0),
	F_ADDR(T_ADVERTISE_ADDR, REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
};

static const struct wire_field_spec f_rec_secret[] = {
	F_ID(T_SECRET_ID, REQ),
	F_NAME(REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
	F(T_UPDATED, WIRE_I64, REQ, 0, 0),
	F(T_VERSION, WIRE_U32, REQ, 0, 0),
	F(T_DATA_LEN, WIRE_U32, REQ, 0, 0),
	F_LABELS,
};
static const struct wire_field_spec f_snap_header[] = {
	F(T_VERSION, WIRE_U32, REQ, 0, 0),
};
/* The value in clear (T_DATA, snapshot versions 1 and 2) or sealed (3). */
static const struct wire_field_spec f_snap_secret[] = {
	F_ID(T_SECRET_ID, REQ),
	F_NAME(REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
	F(T_UPDATED, WIRE_I64, REQ, 0, 0),
	F(T_VERSION, WIRE_U32, REQ, 0, 0),
	F_LABELS,
	F(T_DATA, WIRE_BYTES, 0, 1, HUSH_SECRET_MAX),
	F(T_SEALED, WIRE_BYTES, 0, 1 + SEAL_OVERHEAD, HUSH_SECRET_MAX + SEAL_OVERHEAD),
};
static const struct wire_field_spec f_snap_dedup[] = {
	F_REQ_ID,
	F(T_ERRCODE, WIRE_U32, REQ, 0, 0),
	F(T_ERRMSG, WIRE_STR, 0, 0, MSG_ERRMSG_MAX),
	F_ID(T_SECRET_ID, REP),
};

static const struct wire_field_spec f_rec_keyfile[] = {
	F_KEY32(T_DEK, REQ),
	F(T_NODE_KEY, WIRE_BYTES, REQ, 1, 2048),
	/* absent in a key file of a hush before sealing keys: one is made */
	F_KEY32(T_SEAL_KEY, 0),
};

#define F_CERT(flags)		F(T_CERT, WIRE_STR, flags, 1, 16384)
#define F_NODE_KEY(flags)	F(T_NODE_KEY, WIRE_BYTES, flags, 1, 2048)
#define F_ALPN			F(T_ALPN, WIRE_STR, REQ, 1, 32)
#define F_CSR			F(T_CSR, WIRE_BYTES, REQ, 1, 8192)
#define F_TOKEN			F(T_TOKEN, WIRE_STR, REQ, 86, 86)
#define F_PAYLOAD		F(T_PAYLOAD, WIRE_BYTES, REQ, WIRE_HDR_LEN, HUSH_ASSIGN_ANSWER_MAX + WIRE_HDR_LEN)
#define F_PEER			F_ID(T_PEER_ID, REQ), F(T_ROLE, WIRE_U8, REQ, 0, 0), F_ID(T_CLUSTER_ID, REQ)

static const struct wire_field_spec f_net_start[] = {
	F_ID(T_NODE_ID, REQ),
	F_ID(T_CLUSTER_ID, REQ),
	F(T_ROLE, WIRE_U8, REQ, 0, 0),
	F_CERT(REQ),
	F_NODE_KEY(REQ),
	F_CA_CERT(REQ),		/* the trust bundle */
	F_ADDR(T_LISTEN_ADDR, REQ),
	F_CA_CHAIN(0),		/* presented after T_CERT */
};
static const struct wire_field_spec f_net_reload[] = {
	F_CERT(0),
	F_NODE_KEY(0),
	F_CA_CERT(0),
	F_CA_CHAIN(0),
	F_ID(T_PEER_ID, REP),		/* removed nodes: refuse their certificates */
};
static const struct wire_field_spec f_net_connect[] = {
	F_ADDR(T_ADDRESS, REQ),
	F_ALPN,
	F_ID(T_PEER_ID, 0),		/* the node we expect to reach, if known */
};
static const struct wire_field_spec f_net_peer[] = {
	F_PEER,
};
static const struct wire_field_spec f_net_inbound[] = {
	F_ALPN,
	F_PEER,
	F_ADDR(T_ADDRESS, REQ),
};
/*
 * A join proves the token without sending it: T_JOIN_PROOF is an HMAC of
 * the request (CSR, sealing key, address) under the token's secret, which
 * neither net process ever holds (ops_join.c).  T_DIGEST, the CA digest
 * the token names, is for the joiner's net to pin the manager's CA.
 */
#define F_JOIN_REQUEST \
	F_CSR, \
	F_KEY32(T_SEAL_PUB, REQ), \
	F_KEY32(T_JOIN_PROOF, REQ), \
	F_ADDR(T_ADVERTISE_ADDR, REQ)
static const struct wire_field_spec f_net_join[] = {
	F_ADDR(T_ADDRESS, REQ),
	F_KEY32(T_DIGEST, REQ),
	F_JOIN_REQUEST,
};
static const struct wire_field_spec f_join_result[] = {
	/* for a manager: the cluster's DEK (and KEK under autolock), sealed to
	 * the joiner's sealing key so that no process in between sees them */
	F(T_DEK, WIRE_BYTES, 0, 1, 512),
	F(T_KEK, WIRE_BYTES, 0, 1, 512),
	F_ID(T_NODE_ID, REQ),
	F_ID(T_CLUSTER_ID, REQ),
	F_CERT(REQ),
	F_CA_CERT(0),		/* the trust bundle */
	F_CA_CHAIN(0),		/* to present after T_CERT */
	F(T_ROLE, WIRE_U8, REQ, 0, 0),
	F(T_CERT_NOT_AFTER, WIRE_I64, REQ, 0, 0),
	F_ADDR(T_MANAGER_ADDR, REP),
	F_ID(T_PEER_ID, REP),		/* the managers' ids, in T_MANAGER_ADDR's order */
};
static const struct wire_field_spec f_net_join_serve[] = {
	F_JOIN_REQUEST,
	F_ADDR(T_ADDRESS, REQ),
};
static const struct wire_field_spec f_net_rpc[] = {
	F_ADDR(T_ADDRESS, REQ),
	F_PAYLOAD,
};
static const struct wire_field_spec f_payload[] = {
	F_PAYLOAD,
};
static const struct wire_field_spec f_net_peer_request[] = {
	F_PEER,
	F_PAYLOAD,
	F_KEY32(T_ISSUER_DIGEST, REQ),	/* from the verified chain */
};
static const struct wire_field_spec f_net_extca_sign[] = {
	F_EXTCA(REQ),
	F_CSR,
	F(T_SUBJ_CN, WIRE_STR, REQ, 1, 64),
	F(T_SUBJ_OU, WIRE_STR, REQ, 1, 64),
	F(T_SUBJ_O, WIRE_STR, REQ, 1, 64),
};
static const struct wire_field_spec f_net_extca_sign_r[] = {
	F_CERT(REQ),
	F_CA_CHAIN(0),
};
/* The trust bundle: the current root first, then a rotation's next root. */
static const struct wire_field_spec f_join_hello[] = {
	F_CA_CERT(REQ),
};
static const struct wire_field_spec f_join_request[] = {
	F_JOIN_REQUEST,
};
/*
 * What managers forward to the leader (DSP_FORWARD, DSP_QUERY) and its
 * answers travel sealed with the cluster's DEK, which the managers'
 * parents hold and their net processes do not (peer_seal.c): a command,
 * a query or an answer may hold a secret value, a key or a secret's name.
 */
#define F_SEALED	F(T_SEALED, WIRE_BYTES, REQ, 1, WIRE_MAX_MSG - 1024)
static const struct wire_field_spec f_dsp_sealed[] = {
	F_SEALED,
};
static const struct wire_field_spec f_dsp_renew[] = {
	F_CSR,
};
static const struct wire_field_spec f_dsp_renew_r[] = {
	F_CERT(REQ),
	F_CA_CHAIN(0),
	F(T_CERT_NOT_AFTER, WIRE_I64, REQ, 0, 0),
	/* a node promoted to manager gets the cluster keys, sealed to its CSR */
	F(T_DEK, WIRE_BYTES, 0, 1, 512),
	F(T_KEK, WIRE_BYTES, 0, 1, 512),
};
static const struct wire_field_spec f_dsp_heartbeat_r[] = {
	F(T_ROLE, WIRE_U8, 0, 0, 0),	/* the role the store gives the sender */
	F_ADDR(T_MANAGER_ADDR, REP),	/* where the managers are now */
	F_ID(T_NODE_ID, REP),		/* their ids, in the same order */
	/* what the store says about the CA: the node's trust follows it */
	F_CA_CERT(0),
	F_CA_NEXT(0),
	F_CA_CROSS(0),
	F_CA_PHASE(0),
};
static const struct wire_field_spec f_dsp_heartbeat[] = {
	F(T_STATUS_TEXT, WIRE_STR, 0, 0, 256),
	F(T_HEALTH, WIRE_STR, 0, 1, 256),	/* the sender cannot serve: why */
	F_KEY32(T_TRUST_DIGEST, 0),		/* the trust bundle the sender holds */
};
static const struct wire_field_spec f_node_repair_r[] = {
	F(T_STATUS_TEXT, WIRE_STR, REQ, 1, 256),
};

#define F_NODE_FIELDS \
	F_ID(T_NODE_ID, REQ), \
	F(T_ROLE, WIRE_U8, REQ, 0, 0), \
	F_ADDR(T_ADVERTISE_ADDR, REQ), \
	F(T_AVAILABILITY, WIRE_STR, REQ, 1, 16), \
	F(T_CREATED, WIRE_I64, REQ, 0, 0), \
	F(T_STATUS_TEXT, WIRE_STR, 0, 1, 16), \
	F_LABELS, \
	/* what a node's assignments and keys are sealed to; absent for a \
	 * node that joined with a hush before sealing keys */ \
	F_KEY32(T_SEAL_PUB, 0)

static const struct wire_field_spec f_rec_node[] = {
	F_NODE_FIELDS,
	/* what the answering manager sees live, not replicated */
	F(T_RAFT_STATE, WIRE_STR, 0, 1, 16),
	F(T_REACHABLE, WIRE_BOOL, 0, 0, 0),
	F(T_UPDATED, WIRE_I64, 0, 0, 0),
	F(T_TLS_STATUS, WIRE_STR, 0, 1, 32),
};
static const struct wire_field_spec f_snap_node[] = {
	F_NODE_FIELDS,
};
static const struct wire_field_spec f_cmd_node_add[] = {
	F_REQ_ID,
	F_ID(T_NODE_ID, REQ),
	F(T_ROLE, WIRE_U8, REQ, 0, 0),
	F_ADDR(T_ADVERTISE_ADDR, REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
	F_KEY32(T_SEAL_PUB, REQ),
};
static const struct wire_field_spec f_cmd_node_update[] = {
	F_REQ_ID,
	F_ID(T_NODE_ID, REQ),
	/* a manager's own, once: one that had none before sealing keys */
	F_KEY32(T_SEAL_PUB, 0),
	F(T_ROLE, WIRE_U8, 0, 0, 0),
	F(T_AVAILABILITY, WIRE_STR, 0, 1, 16),
	F_LABELS,				/* labels to add or replace */
	F(T_LABEL_RM, WIRE_STR, REP, 1, 128),	/* label keys to remove */
};
static const struct wire_field_spec f_cmd_node_remove[] = {
	F_REQ_ID,
	F_ID(T_NODE_ID, REQ),
};
static const struct wire_field_spec f_node_list_r[] = {
	F_RECORDS(T_NODE),
	F_CURSOR,
};
static const struct wire_field_spec f_node_records[] = {
	F_RECORDS(T_NODE),
	F_ANSWERED,
};
static const struct wire_field_spec f_ctl_join[] = {
	F_TOKEN,
	F_ADDR(T_ADDRESS, REQ),
	F_ADDR(T_ADVERTISE_ADDR, 0),
	F_ADDR(T_LISTEN_ADDR, 0),
};
static const struct wire_field_spec f_ctl_join_r[] = {
	F_ID(T_NODE_ID, REQ),
	F_ID(T_CLUSTER_ID, REQ),
	F(T_ROLE, WIRE_U8, REQ, 0, 0),
};
static const struct wire_field_spec f_ctl_node_refs[] = {
	F_REQ_ID,
	F(T_REF, WIRE_STR, REQ | REP, 1, 64),
	F(T_FORCE, WIRE_BOOL, 0, 0, 0),
};
static const struct wire_field_spec f_ctl_leave[] = {
	F(T_FORCE, WIRE_BOOL, 0, 0, 0),
};

/* Services (named grants) and the updates of secrets and nodes. */
#define F_GRANTS		F(T_GRANT, WIRE_BYTES, REP, 1, 1024)
#define F_CONSTRAINTS		F(T_CONSTRAINT, WIRE_STR, REP, 1, HUSH_CONSTRAINT_MAX)
#define F_GRANT_FILE \
	F(T_TARGET, WIRE_STR, REQ, 1, HUSH_TARGET_MAX), \
	F(T_UID, WIRE_U32, REQ, 0, 0), \
	F(T_GID, WIRE_U32, REQ, 0, 0), \
	F(T_MODE, WIRE_U32, REQ, 0, 0)

static const struct wire_field_spec f_rec_grant[] = {
	F(T_REF, WIRE_STR, REQ, 1, 64),		/* the secret, by name or id */
	F_GRANT_FILE,
};
static const struct wire_field_spec f_rec_service_grant[] = {
	F_ID(T_SECRET_ID, REQ),
	F_NAME(0),				/* answers only: the secret's name now */
	F_GRANT_FILE,
};
static const struct wire_field_spec f_rec_service[] = {
	F_ID(T_SERVICE_ID, REQ),
	F_NAME(REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
	F(T_UPDATED, WIRE_I64, REQ, 0, 0),
	F(T_VERSION, WIRE_U64, REQ, 0, 0),
	F_GRANTS,
	F_CONSTRAINTS,
	/* absent: no claim issued yet, and no container may have its secrets */
	F(T_CLAIM_DIGEST, WIRE_BYTES, 0, 32, 32),
	F(T_CLAIM_ISSUED, WIRE_I64, 0, 0, 0),
};
static const struct wire_field_spec f_service_list_r[] = {
	F_RECORDS(T_SERVICE),
	F_CURSOR,
};
static const struct wire_field_spec f_service_records[] = {
	F_RECORDS(T_SERVICE),
	F_ANSWERED,
};
static const struct wire_field_spec f_service_id_r[] = {
	F_ID(T_SERVICE_ID, REQ | REP),
	F(T_DUPLICATE, WIRE_BOOL, 0, 0, 0),
};
static const struct wire_field_spec f_ctl_service_create[] = {
	F_REQ_ID,
	F_NAME(REQ),
	F_GRANTS,
	F_CONSTRAINTS,
};
static const struct wire_field_spec f_cmd_service_create[] = {
	F_REQ_ID,
	F_ID(T_SERVICE_ID, REQ),
	F_NAME(REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
	F_GRANTS,
	F_CONSTRAINTS,
};
#define F_SERVICE_CHANGES \
	F(T_REF, WIRE_STR, REQ, 1, 64), \
	F_GRANTS, \
	F(T_SECRET_RM, WIRE_STR, REP, 1, 64), \
	F_CONSTRAINTS, \
	F(T_CONSTRAINT_RM, WIRE_STR, REP, 1, HUSH_CONSTRAINT_MAX), \
	/* a new claim (hushctl service claim); T_ROTATE: replace one */ \
	F(T_CLAIM_DIGEST, WIRE_BYTES, 0, 32, 32), \
	F(T_ROTATE, WIRE_BOOL, 0, 0, 0)
static const struct wire_field_spec f_ctl_service_update[] = {
	F_REQ_ID,
	F_SERVICE_CHANGES,
};
static const struct wire_field_spec f_cmd_service_update[] = {
	F_REQ_ID,
	F_SERVICE_CHANGES,
	F(T_UPDATED, WIRE_I64, REQ, 0, 0),
};
static const struct wire_field_spec f_ctl_secret_update[] = {
	F_REQ_ID,
	F(T_REF, WIRE_STR, REQ, 1, 64),
	F_SECRET_DATA,
};
static const struct wire_field_spec f_cmd_secret_update[] = {
	F_REQ_ID,
	F(T_REF, WIRE_STR, REQ, 1, 64),
	F_SECRET_DATA,
	F(T_UPDATED, WIRE_I64, REQ, 0, 0),
};
static const struct wire_field_spec f_ctl_node_update[] = {
	F_REQ_ID,
	F(T_REF, WIRE_STR, REQ, 1, 64),
	F_LABELS,
	F(T_LABEL_RM, WIRE_STR, REP, 1, 128),
};

#define F_CONTAINER_ID		F(T_CONTAINER_ID, WIRE_STR, REQ, 1, HUSH_CONTAINER_ID_MAX)
#define F_IDMAP(tag)		F(tag, WIRE_BYTES, 0, IDMAP_WIRE_EXTENT, IDMAP_WIRE_MAX)

static const struct wire_field_spec f_container_attach[] = {
	F_CONTAINER_ID,
	F(T_SERVICE_NAME, WIRE_STR, REQ, 1, SERVICE_NAME_MAX),
	F(T_PID, WIRE_U32, REQ, 0, 0),
	F(T_ROOT_PATH, WIRE_STR, REQ, 1, HUSH_PATH_MAX),
	F(T_BUNDLE, WIRE_STR, REQ, 1, HUSH_PATH_MAX),
	/* absent: the container gave none, which hushd refuses with a reason */
	F(T_CLAIM, WIRE_STR, 0, 1, 128),
	/* both absent: the container shares the host's user namespace */
	F_IDMAP(T_UID_MAP),
	F_IDMAP(T_GID_MAP),
};
static const struct wire_field_spec f_container_attach_r[] = {
	F(T_COUNT, WIRE_U32, 0, 0, 0),	/* files delivered */
};
static const struct wire_field_spec f_container_detach[] = {
	F_CONTAINER_ID,
};
static const struct wire_field_spec f_container_list[] = {
	F(T_MOUNTER, WIRE_BOOL, 0, 0, 0),
	F_CURSOR,
};
/* T_CONTAINER items (REC_CONTAINER), or T_MOUNT (REC_MOUNT) if T_MOUNTER asked. */
static const struct wire_field_spec f_container_list_r[] = {
	F_RECORDS(T_CONTAINER),
	F_CURSOR,
};
static const struct wire_field_spec f_rec_container[] = {
	F_CONTAINER_ID,
	F(T_SERVICE_NAME, WIRE_STR, REQ, 1, SERVICE_NAME_MAX),
	F(T_PID, WIRE_U32, REQ, 0, 0),
	F(T_COUNT, WIRE_U32, REQ, 0, 0),	/* files delivered */
	F(T_CREATED, WIRE_I64, REQ, 0, 0),	/* when: unix time of the attach */
};
/*
 * The mounter's messages.  A container id is the runtime's (runc allows
 * any printable string); the rootfs path is as long as a path may be.
 * One T_FILE holds one secret and its metadata, so it is bounded by the
 * largest secret plus room for the name and three integers.
 */
#define MNT_FILE_MAX		(HUSH_SECRET_MAX + 1024)
#define F_FILES			F(T_FILE, WIRE_BYTES, REP, 1, MNT_FILE_MAX)

/*
 * With T_ADOPT the tmpfs is not made but taken back from the view with
 * T_VIEW_ID, attached for the process T_PID that started at T_START_TIME
 * (both required then; the mounter checks).
 */
static const struct wire_field_spec f_mnt_attach[] = {
	F_CONTAINER_ID,
	F(T_PID, WIRE_U32, REQ, 0, 0),
	F(T_ROOT_PATH, WIRE_STR, REQ, 1, 4095),
	F(T_TARGET, WIRE_STR, 0, 1, 4095),
	F(T_FORCE, WIRE_BOOL, 0, 0, 0),
	F_FILES,
	F(T_ADOPT, WIRE_BOOL, 0, 0, 0),
	F(T_VIEW_ID, WIRE_U64, 0, 0, 0),
	F(T_START_TIME, WIRE_U64, 0, 0, 0),
};
/* What the parent keeps to adopt the view after a restart. */
static const struct wire_field_spec f_mnt_attach_r[] = {
	F(T_COUNT, WIRE_U32, REQ, 0, 0),
	F(T_VIEW_ID, WIRE_U64, REQ, 0, 0),
	F(T_START_TIME, WIRE_U64, REQ, 0, 0),
};
static const struct wire_field_spec f_mnt_publish[] = {
	F_CONTAINER_ID,
	F_FILES,
};
static const struct wire_field_spec f_mnt_count_r[] = {
	F(T_COUNT, WIRE_U32, REQ, 0, 0),
};
static const struct wire_field_spec f_mnt_container[] = {
	F_CONTAINER_ID,
};
static const struct wire_field_spec f_mnt_records[] = {
	F_RECORDS(T_MOUNT),
	F_CURSOR,
};
static const struct wire_field_spec f_mnt_event[] = {
	F_CONTAINER_ID,
	F(T_STATUS_TEXT, WIRE_STR, REQ, 1, 256),
};
static const struct wire_field_spec f_rec_file[] = {
	F(T_NAME, WIRE_STR, REQ, 1, 255),	/* SECRETFS_NAME_MAX */
	F(T_UID, WIRE_U32, REQ, 0, 0),
	F(T_GID, WIRE_U32, REQ, 0, 0),
	F(T_MODE, WIRE_U32, REQ, 0, 0),
	F(T_DATA, WIRE_BYTES, 0, 0, HUSH_SECRET_MAX),	/* absent: empty file */
};
static const struct wire_field_spec f_rec_mount[] = {
	F_CONTAINER_ID,
	F(T_PID, WIRE_U32, REQ, 0, 0),
	F(T_COUNT, WIRE_U32, REQ, 0, 0),
};

/*
 * Disaster recovery.  A backup's header is BACKUP_HDR_BYTES (60, in
 * lib/backup_file.h, which lib/ cannot include here without a cycle:
 * the size is checked where the file is written and read).
 */
#define F_BACKUP_HDR(flags)	F(T_BACKUP_HDR, WIRE_BYTES, flags, 60, 60)
#define F_BACKUP_KEY(flags)	F_KEY32(T_BACKUP_KEY, flags)
/* What a backup holds: its manifest, the answer to a backup, and to --verify. */
#define F_BACKUP_SUMMARY \
	F_ID(T_CLUSTER_ID, REQ), \
	F_ID(T_NODE_ID, REQ),			/* the manager it was taken on */ \
	F(T_CREATED, WIRE_I64, REQ, 0, 0),	/* when, unix time */ \
	F(T_RAFT_INDEX, WIRE_U64, REQ, 0, 0),	/* the store as applied up to here */ \
	F(T_STORE_SECRETS, WIRE_U64, REQ, 0, 0), \
	F(T_STORE_SERVICES, WIRE_U64, REQ, 0, 0), \
	F(T_STORE_NODES, WIRE_U64, REQ, 0, 0), \
	F(T_AUTOLOCK, WIRE_BOOL, REQ, 0, 0), \
	F(T_FORCE, WIRE_BOOL, 0, 0, 0)		/* taken without asking the leader */
static const struct wire_field_spec f_backup_manifest[] = {
	F(T_VERSION, WIRE_U32, REQ, 0, 0),	/* of the backup's contents */
	F_BACKUP_SUMMARY,
};
static const struct wire_field_spec f_backup_keys[] = {
	F_KEY32(T_DEK, REQ),
};
static const struct wire_field_spec f_backup_end[] = {
	F(T_COUNT, WIRE_U32, REQ, 0, 0),	/* snapshot records before it */
};
static const struct wire_field_spec f_ctl_force_new[] = {
	F_REQ_ID,
	F(T_FORCE, WIRE_BOOL, 0, 0, 0),
};
static const struct wire_field_spec f_ctl_force_new_r[] = {
	F_ID(T_NODE_ID, REQ),
	F_ID(T_CLUSTER_ID, REQ),
	F_ID(T_PEER_ID, REP),			/* the managers removed */
};
static const struct wire_field_spec f_ctl_backup[] = {
	F_REQ_ID,
	F_BACKUP_HDR(0),
	F_BACKUP_KEY(0),
	F(T_FORCE, WIRE_BOOL, 0, 0, 0),
};
static const struct wire_field_spec f_backup_r[] = {
	F_BACKUP_SUMMARY,
	F(T_BYTES, WIRE_U64, REQ, 0, 0),
};
static const struct wire_field_spec f_ctl_restore[] = {
	F_REQ_ID,
	F_BACKUP_KEY(REQ),
	F_ADDR(T_ADVERTISE_ADDR, 0),
	F_ADDR(T_LISTEN_ADDR, 0),
};
static const struct wire_field_spec f_ctl_restore_r[] = {
	F_ID(T_NODE_ID, REQ),
	F_ID(T_CLUSTER_ID, REQ),
	F_ADDR(T_ADVERTISE_ADDR, REQ),
	F(T_STORE_SECRETS, WIRE_U64, REQ, 0, 0),
	F(T_STORE_SERVICES, WIRE_U64, REQ, 0, 0),
	F(T_STORE_NODES, WIRE_U64, REQ, 0, 0),
	F(T_RAFT_INDEX, WIRE_U64, REQ, 0, 0),	/* the backup's */
	F_ID(T_PEER_ID, REP),			/* the managers removed */
};
static const struct wire_field_spec f_raft_backup[] = {
	F_BACKUP_HDR(REQ),
	F_BACKUP_KEY(REQ),
	F(T_RAFT_INDEX, WIRE_U64, REQ, 0, 0),	/* wait until applied this far */
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
	F(T_FORCE, WIRE_BOOL, 0, 0, 0),
};
static const struct wire_field_spec f_cmd_force_new[] = {
	F_REQ_ID,
	F_ID(T_NODE_ID, REQ),
	F_ADDR(T_ADVERTISE_ADDR, REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
	F_KEY32(T_SEAL_PUB, 0),
};
/* Below a proposal's cap (f_raft_propose), with room for the rest. */
#define STORE_LOAD_RECORDS_MAX	(HUSH_SECRET_MAX + 32768)
static const struct wire_field_spec f_cmd_store_load[] = {
	F_REQ_ID,
	F(T_VERSION, WIRE_U32, REQ, 0, 0),
	F(T_BOOTSTRAP, WIRE_BOOL, REQ, 0, 0),
	F(T_RECORDS, WIRE_BYTES, REQ, 1, STORE_LOAD_RECORDS_MAX),
};
static const struct wire_field_spec f_cmd_backup_mark[] = {
	F_REQ_ID,
};
static const struct wire_field_spec f_cmd_ca_rotate[] = {
	F_REQ_ID,
	F_KEY32(T_DIGEST, REQ),		/* SPKI digest of the next root */
	F_CA_NEXT(REQ),
	F_CA_NEXT_KEY(0),
	F_CA_CROSS(0),
	F_EXTCA(0),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
};
static const struct wire_field_spec f_cmd_ca_advance[] = {
	F_REQ_ID,
	F_KEY32(T_DIGEST, REQ),		/* SPKI digest of the rotation's next root */
	F_CA_PHASE(REQ),
	/* to CA_PHASE_NONE: the join tokens' new secrets */
	F_SECRET16(T_WORKER_SECRET, 0),
	F_SECRET16(T_MANAGER_SECRET, 0),
};
static const struct wire_field_spec f_ctl_ca_r[] = {
	F_CA_CERT(REQ),
	F_CA_NEXT(0),
	F_CA_PHASE(REQ),
	F(T_NODES_TOTAL, WIRE_U32, 0, 0, 0),
	F(T_NODES_TRUSTING, WIRE_U32, 0, 0, 0),
	F(T_NODES_RENEWED, WIRE_U32, 0, 0, 0),
	F(T_STATUS_TEXT, WIRE_STR, 0, 1, 1024),
	F_EXTCA(0),
};
static const struct wire_field_spec f_ctl_ca_rotate[] = {
	F_REQ_ID,
	F_CA_CERT(0),
	F_CA_KEY(0),
	F_EXTCA(0),
	F(T_CERT_EXPIRY, WIRE_U64, 0, 0, 0),
};
static const struct wire_field_spec f_ctl_ca_rotate_r[] = {
	F_CA_NEXT(REQ),
	F_CA_PHASE(REQ),
};

#define S(type, fields) { type, #type, fields, sizeof(fields) / sizeof(fields[0]) }
#define S0(type) { type, #type, NULL, 0 }

static const struct wire_msg_spec specs[] = {
	S(MSG_ERROR, f_error),

	S(CTL_STATUS, f_status),
	S(CTL_STATUS | MSG_REPLY, f_status_r),
	S(CTL_INIT, f_init),
	S(CTL_INIT | MSG_REPLY, f_init_r),
	S(CTL_JOIN_TOKEN, f_join_token),
	S(CTL_JOIN_TOKEN | MSG_REPLY, f_join_token_r),
	S(CTL_SECRET_CREATE, f_secret_create),
	S(CTL_SECRET_CREATE | MSG_REPLY, f_secret_id_r),
	S(CTL_SECRET_LIST, f_list),
	S(CTL_SECRET_LIST | MSG_REPLY, f_secret_list_r),
	S(CTL_SECRET_INSPECT, f_refs),
	S(CTL_SECRET_INSPECT | MSG_REPLY, f_secret_records),
	S(CTL_SECRET_RM, f_secret_rm),
	S(CTL_SECRET_RM | MSG_REPLY, f_secret_id_r),
	S(CTL_UPDATE, f_update),
	S(CTL_UPDATE | MSG_REPLY, f_kek_opt),
	S(CTL_UNLOCK, f_kek_req),
	S(CTL_UNLOCK | MSG_REPLY, f_unlock_r),
	S(CTL_UNLOCK_KEY, f_unlock_key),
	S(CTL_UNLOCK_KEY | MSG_REPLY, f_kek_req),
	S(CTL_TEST_FAULT, f_test_fault),
	S0(CTL_TEST_FAULT | MSG_REPLY),
	S(CTL_JOIN, f_ctl_join),
	S(CTL_JOIN | MSG_REPLY, f_ctl_join_r),
	S(CTL_NODE_LIST, f_list),
	S(CTL_NODE_LIST | MSG_REPLY, f_node_list_r),
	S(CTL_NODE_INSPECT, f_refs),
	S(CTL_NODE_INSPECT | MSG_REPLY, f_node_records),
	S(CTL_NODE_PROMOTE, f_ctl_node_refs),
	S0(CTL_NODE_PROMOTE | MSG_REPLY),
	S(CTL_NODE_DEMOTE, f_ctl_node_refs),
	S0(CTL_NODE_DEMOTE | MSG_REPLY),
	S(CTL_NODE_RM, f_ctl_node_refs),
	S0(CTL_NODE_RM | MSG_REPLY),
	S(CTL_LEAVE, f_ctl_leave),
	S0(CTL_LEAVE | MSG_REPLY),
	S(CTL_SERVICE_CREATE, f_ctl_service_create),
	S(CTL_SERVICE_CREATE | MSG_REPLY, f_service_id_r),
	S(CTL_SERVICE_LIST, f_list),
	S(CTL_SERVICE_LIST | MSG_REPLY, f_service_list_r),
	S(CTL_SERVICE_INSPECT, f_refs),
	S(CTL_SERVICE_INSPECT | MSG_REPLY, f_service_records),
	S(CTL_SERVICE_UPDATE, f_ctl_service_update),
	S(CTL_SERVICE_UPDATE | MSG_REPLY, f_service_id_r),
	S(CTL_SERVICE_RM, f_secret_rm),
	S(CTL_SERVICE_RM | MSG_REPLY, f_service_id_r),
	S(CTL_SECRET_UPDATE, f_ctl_secret_update),
	S(CTL_SECRET_UPDATE | MSG_REPLY, f_secret_id_r),
	S(CTL_NODE_UPDATE, f_ctl_node_update),
	S0(CTL_NODE_UPDATE | MSG_REPLY),
	S(CTL_ASSIGNMENTS, f_list),
	S(CTL_ASSIGNMENTS | MSG_REPLY, f_ctl_assignments_r),
	S(CTL_CONTAINER_ATTACH, f_container_attach),
	S(CTL_CONTAINER_ATTACH | MSG_REPLY, f_container_attach_r),
	S(CTL_CONTAINER_DETACH, f_container_detach),
	S0(CTL_CONTAINER_DETACH | MSG_REPLY),
	S(CTL_CONTAINER_LIST, f_container_list),
	S(CTL_CONTAINER_LIST | MSG_REPLY, f_container_list_r),
	S(CTL_NODE_REPAIR, f_ctl_leave),
	S(CTL_NODE_REPAIR | MSG_REPLY, f_node_repair_r),
	S(CTL_FORCE_NEW_CLUSTER, f_ctl_force_new),
	S(CTL_FORCE_NEW_CLUSTER | MSG_REPLY, f_ctl_force_new_r),
	S(CTL_BACKUP, f_ctl_backup),
	S(CTL_BACKUP | MSG_REPLY, f_backup_r),
	S(CTL_RESTORE, f_ctl_restore),
	S(CTL_RESTORE | MSG_REPLY, f_ctl_restore_r),
	S0(CTL_CA),
	S(CTL_CA | MSG_REPLY, f_ctl_ca_r),
	S(CTL_CA_ROTATE, f_ctl_ca_rotate),
	S(CTL_CA_ROTATE | MSG_REPLY, f_ctl_ca_rotate_r),

	S(PKI_CA_CREATE, f_pki_ca_create),
	S(PKI_CA_CREATE | MSG_REPLY, f_pki_ca_r),
	S(PKI_CA_LOAD, f_pki_ca_load),
	S(PKI_CA_LOAD | MSG_REPLY, f_pki_digest_r),
	S(PKI_ISSUE, f_pki_issue),
	S(PKI_ISSUE | MSG_REPLY, f_pki_issue_r),
	S(PKI_CA_ROTATE, f_pki_ca_rotate),
	S(PKI_CA_ROTATE | MSG_REPLY, f_pki_ca_rotate_r),

	S(RAFTP_START, f_raft_start),
	S(RAFTP_START | MSG_REPLY, f_raft_start_r),
	S(RAFTP_PROPOSE, f_raft_propose),
	S(RAFTP_PROPOSE | MSG_REPLY, f_raft_propose_r),
	S(RAFTP_QUERY, f_raft_query_req),
	S(RAFTP_QUERY | MSG_REPLY, f_raft_query),
	S(RAFTP_STATUS, f_status),
	S(RAFTP_STATUS | MSG_REPLY, f_raft_status_r),
	S(RAFTP_EVENT, f_raft_event),
	S(RAFTP_CONNECT, f_raft_connect),
	S0(RAFTP_CONNECT | MSG_REPLY),
	S(RAFTP_INBOUND, f_raft_inbound),
	S(RAFTP_DEMOTE, f_raft_demote),
	S0(RAFTP_DEMOTE | MSG_REPLY),
	S(RAFTP_BACKUP, f_raft_backup),
	S(RAFTP_BACKUP | MSG_REPLY, f_backup_r),

	S(NET_START, f_net_start),
	S0(NET_START | MSG_REPLY),
	S(NET_RELOAD, f_net_reload),
	S0(NET_RELOAD | MSG_REPLY),
	S(NET_CONNECT, f_net_connect),
	S(NET_CONNECT | MSG_REPLY, f_net_peer),
	S(NET_INBOUND, f_net_inbound),
	S(NET_JOIN, f_net_join),
	S(NET_JOIN | MSG_REPLY, f_join_result),
	S(NET_JOIN_SERVE, f_net_join_serve),
	S(NET_JOIN_SERVE | MSG_REPLY, f_join_result),
	S(NET_RPC, f_net_rpc),
	S(NET_RPC | MSG_REPLY, f_payload),
	S(NET_PEER_REQUEST, f_net_peer_request),
	S(NET_PEER_REQUEST | MSG_REPLY, f_payload),
	S(NET_EXTCA_SIGN, f_net_extca_sign),
	S(NET_EXTCA_SIGN | MSG_REPLY, f_net_extca_sign_r),

	S(JOIN_HELLO, f_join_hello),
	S(JOIN_REQUEST, f_join_request),
	S(JOIN_REQUEST | MSG_REPLY, f_join_result),
	S(DSP_FORWARD, f_dsp_sealed),
	S(DSP_FORWARD | MSG_REPLY, f_dsp_sealed),
	S(DSP_QUERY, f_dsp_sealed),
	S(DSP_QUERY | MSG_REPLY, f_dsp_sealed),
	S(DSP_RENEW, f_dsp_renew),
	S(DSP_RENEW | MSG_REPLY, f_dsp_renew_r),
	S(DSP_HEARTBEAT, f_dsp_heartbeat),
	S(DSP_HEARTBEAT | MSG_REPLY, f_dsp_heartbeat_r),
	S(DSP_ASSIGNMENTS, f_dsp_assignments),
	S(DSP_ASSIGNMENTS | MSG_REPLY, f_assignments_r),
	/* Who is to become a spare is the peer's certificate, never a field. */
	S0(DSP_REPAIR),
	S0(DSP_REPAIR | MSG_REPLY),

	S(CMD_CLUSTER_INIT, f_cmd_cluster_init),
	S(CMD_TOKEN_ROTATE, f_cmd_token_rotate),
	S(CMD_SECRET_CREATE, f_cmd_secret_create),
	S(CMD_SECRET_RM, f_secret_rm),
	S(CMD_CLUSTER_UPDATE, f_cmd_cluster_update),
	S(CMD_NODE_ADD, f_cmd_node_add),
	S(CMD_NODE_UPDATE, f_cmd_node_update),
	S(CMD_NODE_REMOVE, f_cmd_node_remove),
	S(CMD_SERVICE_CREATE, f_cmd_service_create),
	S(CMD_SERVICE_UPDATE, f_cmd_service_update),
	S(CMD_SERVICE_RM, f_secret_rm),
	S(CMD_SECRET_UPDATE, f_cmd_secret_update),
	S(CMD_FORCE_NEW_CLUSTER, f_cmd_force_new),
	S(CMD_STORE_LOAD, f_cmd_store_load),
	S(CMD_BACKUP_MARK, f_cmd_backup_mark),
	S(CMD_CA_ROTATE, f_cmd_ca_rotate),
	S(CMD_CA_ADVANCE, f_cmd_ca_advance),

	S0(QRY_CLUSTER),
	S(QRY_CLUSTER | MSG_REPLY, f_cluster),
	S(QRY_SECRET_LIST, f_list),
	S(QRY_SECRET_LIST | MSG_REPLY, f_secret_list_r),
	S(QRY_SECRET_GET, f_refs),
	S(QRY_SECRET_GET | MSG_REPLY, f_secret_records),
	S(QRY_NODE_LIST, f_list),
	S(QRY_NODE_LIST | MSG_REPLY, f_node_list_r),
	S(QRY_NODE_GET, f_refs),
	S(QRY_NODE_GET | MSG_REPLY, f_node_records),
	S(QRY_SERVICE_LIST, f_list),
	S(QRY_SERVICE_LIST | MSG_REPLY, f_service_list_r),
	S(QRY_SERVICE_GET, f_refs),
	S(QRY_SERVICE_GET | MSG_REPLY, f_service_records),
	S(QRY_ASSIGNMENTS, f_qry_assignments),
	S(QRY_ASSIGNMENTS | MSG_REPLY, f_assignments_r),

	S(REC_SECRET, f_rec_secret),
	S(SNAP_HEADER, f_snap_header),
	S(SNAP_CLUSTER, f_cluster),
	S(SNAP_SECRET, f_snap_secret),
	S(SNAP_DEDUP, f_snap_dedup),
	S(REC_KEYFILE, f_rec_keyfile),
	S(REC_NODE, f_rec_node),
	S(SNAP_NODE, f_snap_node),
	S(REC_SERVICE, f_rec_service),
	S(SNAP_SERVICE, f_rec_service),
	S(REC_GRANT, f_rec_grant),
	S(REC_SERVICE_GRANT, f_rec_service_grant),
	S(REC_SECRET_DATA, f_rec_secret_data),
	S(REC_CONTAINER, f_rec_container),

	S(MNTR_ATTACH, f_mnt_attach),
	S(MNTR_ATTACH | MSG_REPLY, f_mnt_attach_r),
	S(MNTR_PUBLISH, f_mnt_publish),
	S(MNTR_PUBLISH | MSG_REPLY, f_mnt_count_r),
	S(MNTR_DETACH, f_mnt_container),
	S0(MNTR_DETACH | MSG_REPLY),
	S(MNTR_LIST, f_list),
	S(MNTR_LIST | MSG_REPLY, f_mnt_records),
	S(MNTR_EVENT, f_mnt_event),
	S(REC_FILE, f_rec_file),
	S(REC_MOUNT, f_rec_mount),

	S(BACKUP_MANIFEST, f_backup_manifest),
	S(BACKUP_KEYS, f_backup_keys),
	S(BACKUP_END, f_backup_end),
};

const struct wire_msg_spec *
msg_spec(uint16_t type)
{
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (specs[i].type == type)
			return &specs[i];
	return NULL;
}

const char *
msg_type_name(uint16_t type)
{
	const struct wire_msg_spec *s = msg_spec(type);

	return s != NULL ? s->name : "unknown";
}

int
msg_parse(const uint8_t *buf, size_t len, size_t max, const uint16_t *allowed,
    struct wire_msg *m, char *why, size_t whylen)
{
	const struct wire_msg_spec *spec;
	int r;

	if ((r = wire_decode(buf, len, max, m)) != 0) {
		snprintf(why, whylen, "undecodable message: %s", hush_strerror(r));
		return r;
	}
	for (; *allowed != 0; allowed++)
		if (*allowed == m->hdr.type)
			break;
	if (*allowed == 0) {
		snprintf(why, whylen, "message type 0x%04x (%s) not allowed here",
		    m->hdr.type, msg_type_name(m->hdr.type));
		return HUSH_E_PROTO;
	}
	if ((spec = msg_spec(m->hdr.type)) == NULL) {
		snprintf(why, whylen, "message type 0x%04x has no schema", m->hdr.type);
		return HUSH_E_PROTO;
	}
	return wire_validate(m, spec, why, whylen);
}

int
msg_parse_record(const uint8_t *buf, size_t len, uint16_t rec_type,
    struct wire_msg *m, char *why, size_t whylen)
{
	const struct wire_msg_spec *spec = msg_spec(rec_type);
	int r;

	if (spec == NULL)
		return HUSH_E_INTERNAL;
	if ((r = wire_decode_fields(buf, len, m)) != 0) {
		snprintf(why, whylen, "undecodable record: %s", hush_strerror(r));
		return r;
	}
	m->hdr.type = rec_type;
	return wire_validate(m, spec, why, whylen);
}

/* How large one record of a list may be: a service carries its grants. */
static size_t
record_max(uint16_t rec_type)
{
	return rec_type == REC_SERVICE ? HUSH_SERVICE_RECORD_MAX : 8192;
}

int
msg_records_each(const struct wire_msg *m, uint16_t item_tag, uint16_t rec_type,
    msg_record_fn fn, void *arg)
{
	struct wire_msg *rec;
	const uint8_t *list, *val;
	size_t len, off = 0, vlen;
	uint16_t tag;
	char why[256];
	int r;

	if ((r = wire_get_bytes(m, T_RECORDS, &list, &len)) != 0)
		return r;
	if ((rec = malloc(sizeof(*rec))) == NULL)
		return HUSH_E_NOMEM;
	while ((r = wire_list_next(list, len, &off, &tag, &val, &vlen)) == 1) {
		/*
		 * Each record is bounded as a message would be.  A stray entry
		 * is an error, not the end of the list: r is still
		 * wire_list_next()'s 1 here, which the return below would turn
		 * into success with the rest of the list unread.
		 */
		if (tag != item_tag || vlen > record_max(rec_type)) {
			r = HUSH_E_PROTO;
			break;
		}
		if ((r = msg_parse_record(val, vlen, rec_type, rec, why, sizeof(why))) != 0 ||
		    (r = fn(arg, val, vlen, rec)) != 0)
			break;
	}
	free(rec);
	return r < 0 ? r : 0;
}

/*
 * A detail longer than T_ERRMSG allows is cut (at a character boundary)
 * rather than failing the reply: the receiver would refuse the whole
 * message and the caller would learn nothing at all.
 */
int
msg_error_reply(struct wire_enc *e, uint32_t request_id, int code, const char *detail)
{
	size_t n;

	wire_enc_init(e, MSG_ERROR, request_id, 2048);
	wire_put_u32(e, T_ERRCODE, (uint32_t)-code);
	if (detail != NULL && *detail != '\0') {
		if ((n = strlen(detail)) > MSG_ERRMSG_MAX) {
			n = MSG_ERRMSG_MAX;
			while (n > 0 && ((unsigned char)detail[n] & 0xc0) == 0x80)
				n--;
		}
		wire_put_bytes(e, T_ERRMSG, detail, n);
	}
	return e->err;
}

int
msg_reply_status(const struct wire_msg *m, char *detail, size_t detaillen)
{
	uint32_t code;

	if (detaillen > 0)
		detail[0] = '\0';
	if (m->hdr.type != MSG_ERROR)
		return 0;
	if (wire_get_u32(m, T_ERRCODE, &code) != 0)
		return HUSH_E_PROTO;
	if (detaillen > 0 && wire_get_str(m, T_ERRMSG, detail, detaillen) != 0)
		detail[0] = '\0';
	code = (uint32_t)hush_err_from_wire(code);
	return (int)code == 0 ? HUSH_E_PROTO : (int)code;
}
