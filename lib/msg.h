/*
 * Every message hush sends on any channel — control socket, privsep
 * socketpairs, replicated raft commands, snapshot records — is declared here
 * with its field schema.  lib/wire.c enforces the schema on receipt, so a
 * handler only ever sees messages whose fields have the declared kinds and
 * bounds.  Numbers are part of the on-disk and on-wire format: append only.
 */
#ifndef HUSH_MSG_H
#define HUSH_MSG_H

#include <stdint.h>

#include "wire.h"

/* Largest secret value, as in Docker (500 KiB - 1 byte... we allow 511999). */
#define HUSH_SECRET_MAX 511999
#define HUSH_REQ_ID_LEN 16

/* Field tags: one namespace for all messages. */
enum msg_tag {
	T_ERRCODE = 1,		/* u32, positive hush_err */
	T_ERRMSG,		/* operator-facing detail */
	T_REQ_ID,		/* 16 bytes chosen by the client: idempotency key */
	T_NODE_ID,
	T_CLUSTER_ID,
	T_ROLE,			/* enum node_role */
	T_LOCKED,
	T_INITIALIZED,
	T_AUTOLOCK,
	T_CERT_EXPIRY,		/* seconds */
	T_ADVERTISE_ADDR,
	T_LISTEN_ADDR,
	T_TOKEN,
	T_KEK,			/* raw 32-byte unlock key */
	T_ROTATE,
	T_NAME,
	T_DATA,
	T_LABEL,		/* "key=value", repeated */
	T_SECRET_ID,
	T_REF,			/* name or id, repeated */
	T_SECRET,		/* nested REC_SECRET, repeated */
	T_CREATED,
	T_UPDATED,
	T_VERSION,
	T_RAFT_TERM,
	T_RAFT_LEADER,
	T_RAFT_STATE,
	T_CERT_NOT_AFTER,
	T_CA_CERT,
	T_CA_KEY,
	T_CSR,
	T_CERT,
	T_SUBJ_CN,
	T_SUBJ_OU,
	T_SUBJ_O,
	T_LIFETIME,
	T_NOW,
	T_DIGEST,
	T_DEK,
	T_ADDRESS,
	T_BOOTSTRAP,
	T_COMMAND,		/* an encoded CMD_* message */
	T_QUERY,		/* an encoded QRY_* message */
	T_WORKER_SECRET,
	T_MANAGER_SECRET,
	T_SNAP_THRESHOLD,
	T_RAFT_INDEX,
	T_DUPLICATE,
	T_EVENT,
	T_PEER_ID,
	T_HUSH_VERSION,
	T_DATA_LEN,
	T_KEY_STORAGE,		/* where keys are held: "kernel keyring" */
	T_SNAP_TRAILING,
	T_CHILD,		/* test builds only: which child */
	T_WORKER_TOKEN,
	T_MANAGER_TOKEN,
	T_FAULT,		/* test builds only: what to do */
	T_NODE_KEY,		/* PKCS#8 DER of the node's TLS key */
};

enum node_role { ROLE_MANAGER = 1, ROLE_WORKER = 2 };

/* Events the raft process reports unprompted (T_EVENT of RAFTP_EVENT). */
enum raft_event_kind {
	EV_APPLIED_CLUSTER = 1,	/* cluster record changed (KEK, expiry, tokens) */
	EV_LEADERSHIP,		/* became or stopped being leader */
};

/* A reply has the request's type with this bit set; MSG_ERROR answers any. */
#define MSG_REPLY 0x8000
#define MSG_IS_REPLY(t) (((t) & MSG_REPLY) != 0)

enum msg_type {
	MSG_ERROR = 0x7fff,

	/* hushctl -> parent over the control socket */
	CTL_STATUS = 0x0101,
	CTL_INIT,
	CTL_JOIN_TOKEN,
	CTL_SECRET_CREATE,
	CTL_SECRET_LIST,
	CTL_SECRET_INSPECT,
	CTL_SECRET_RM,
	CTL_UPDATE,
	CTL_UNLOCK,
	CTL_UNLOCK_KEY,
	CTL_TEST_FAULT,		/* honoured only by test builds */

	/* parent <-> pki */
	PKI_CA_CREATE = 0x0201,
	PKI_CA_LOAD,
	PKI_ISSUE,

	/* parent <-> raft */
	RAFTP_START = 0x0301,
	RAFTP_PROPOSE,
	RAFTP_QUERY,
	RAFTP_STATUS,
	RAFTP_EVENT,		/* raft -> parent, unsolicited */
	RAFTP_CONNECT,		/* raft -> parent: stream to a peer, please */
	RAFTP_INBOUND,		/* parent -> raft: an authenticated peer stream (fd) */

	/* replicated commands, carried in T_COMMAND and in the raft log */
	CMD_CLUSTER_INIT = 0x0401,
	CMD_TOKEN_ROTATE,
	CMD_SECRET_CREATE,
	CMD_SECRET_RM,
	CMD_CLUSTER_UPDATE,

	/* reads of the state machine, carried in T_QUERY */
	QRY_CLUSTER = 0x0501,
	QRY_SECRET_LIST,
	QRY_SECRET_GET,

	/* records nested in other messages and in snapshots */
	REC_SECRET = 0x0601,	/* public metadata of a secret */
	SNAP_HEADER,
	SNAP_CLUSTER,
	SNAP_SECRET,		/* full secret incl. data, only inside a sealed snapshot */
	SNAP_DEDUP,
	REC_KEYFILE,		/* the node's key file, sealed by the KEK under autolock */
};

/* The schema for a message type (replies included); NULL if unknown. */
const struct wire_msg_spec *msg_spec(uint16_t type);
const char *msg_type_name(uint16_t type);

/*
 * Decode + check allowed type + validate: the one entry point for untrusted
 * bytes.  `allowed` lists the types this channel accepts (0-terminated).
 */
int msg_parse(const uint8_t *buf, size_t len, size_t max, const uint16_t *allowed,
    struct wire_msg *m, char *why, size_t whylen);
/* Same for a nested field list validated against a record type's schema. */
int msg_parse_record(const uint8_t *buf, size_t len, uint16_t rec_type,
    struct wire_msg *m, char *why, size_t whylen);

/* Helpers for the common reply shapes. */
int msg_error_reply(struct wire_enc *e, uint32_t request_id, int code, const char *detail);
/* If m is MSG_ERROR, return its (negative) code and copy the detail. */
int msg_reply_status(const struct wire_msg *m, char *detail, size_t detaillen);

#endif
