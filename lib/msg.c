/*
 * The schema of every hush message.  Bounds here are the first line of
 * defence: a field longer than declared never reaches a handler.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "msg.h"

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
#define F_CA_KEY(flags)		F(T_CA_KEY, WIRE_BYTES, flags, 1, 2048)
#define F_SECRET_DATA		F(T_DATA, WIRE_BYTES, REQ, 1, HUSH_SECRET_MAX)
#define F_RECORDS(tag)		F(tag, WIRE_BYTES, REP, 1, 8192)

static const struct wire_field_spec f_error[] = {
	F(T_ERRCODE, WIRE_U32, REQ, 0, 0),
	F(T_ERRMSG, WIRE_STR, 0, 0, 1024),
};

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
};

static const struct wire_field_spec f_init[] = {
	F_REQ_ID,
	F(T_AUTOLOCK, WIRE_BOOL, REQ, 0, 0),
	F(T_CERT_EXPIRY, WIRE_U64, 0, 0, 0),
	F_ADDR(T_ADVERTISE_ADDR, 0),
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
static const struct wire_field_spec f_secret_records[] = {
	F_RECORDS(T_SECRET),
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
static const struct wire_field_spec f_pki_ca_load[] = {
	F_CA_CERT(REQ),
	F_CA_KEY(REQ),
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
};

static const struct wire_field_spec f_raft_start[] = {
	F_KEY32(T_DEK, REQ),
	F_ID(T_NODE_ID, REQ),
	F_ADDR(T_ADDRESS, REQ),
	F(T_BOOTSTRAP, WIRE_BOOL, REQ, 0, 0),
	F(T_SNAP_THRESHOLD, WIRE_U32, REQ, 0, 0),
	F(T_SNAP_TRAILING, WIRE_U32, REQ, 0, 0),
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
static const struct wire_field_spec f_raft_status_r[] = {
	F(T_RAFT_TERM, WIRE_U64, REQ, 0, 0),
	F(T_RAFT_LEADER, WIRE_STR, REQ, 0, 25),
	F(T_RAFT_STATE, WIRE_STR, REQ, 1, 16),
	F(T_RAFT_INDEX, WIRE_U64, REQ, 0, 0),
};
static const struct wire_field_spec f_raft_event[] = {
	F(T_EVENT, WIRE_U16, REQ, 0, 0),
	F(T_AUTOLOCK, WIRE_BOOL, 0, 0, 0),
	F_KEY32(T_KEK, 0),
	F(T_CERT_EXPIRY, WIRE_U64, 0, 0, 0),
};
static const struct wire_field_spec f_raft_connect[] = {
	F_ADDR(T_ADDRESS, REQ),
};
static const struct wire_field_spec f_raft_inbound[] = {
	F_ID(T_PEER_ID, REQ),
	F_ADDR(T_ADDRESS, REQ),
};

static const struct wire_field_spec f_cmd_cluster_init[] = {
	F_REQ_ID,
	F_ID(T_CLUSTER_ID, REQ),
	F_CA_CERT(REQ),
	F_CA_KEY(REQ),
	F_SECRET16(T_WORKER_SECRET, REQ),
	F_SECRET16(T_MANAGER_SECRET, REQ),
	F(T_CERT_EXPIRY, WIRE_U64, REQ, 0, 0),
	F_KEY32(T_KEK, 0),
	F_ID(T_NODE_ID, REQ),
	F_ADDR(T_ADVERTISE_ADDR, REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
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
	F_CA_KEY(REQ),
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
static const struct wire_field_spec f_snap_secret[] = {
	F_ID(T_SECRET_ID, REQ),
	F_NAME(REQ),
	F(T_CREATED, WIRE_I64, REQ, 0, 0),
	F(T_UPDATED, WIRE_I64, REQ, 0, 0),
	F(T_VERSION, WIRE_U32, REQ, 0, 0),
	F_LABELS,
	F_SECRET_DATA,
};
static const struct wire_field_spec f_snap_dedup[] = {
	F_REQ_ID,
	F(T_ERRCODE, WIRE_U32, REQ, 0, 0),
	F(T_ERRMSG, WIRE_STR, 0, 0, 1024),
	F_ID(T_SECRET_ID, REP),
};

static const struct wire_field_spec f_rec_keyfile[] = {
	F_KEY32(T_DEK, REQ),
	F(T_NODE_KEY, WIRE_BYTES, REQ, 1, 2048),
};

#define S(type, fields) { type, #type, fields, sizeof(fields) / sizeof(fields[0]) }
#define S0(type) { type, #type, NULL, 0 }

static const struct wire_msg_spec specs[] = {
	S(MSG_ERROR, f_error),

	S0(CTL_STATUS),
	S(CTL_STATUS | MSG_REPLY, f_status_r),
	S(CTL_INIT, f_init),
	S(CTL_INIT | MSG_REPLY, f_init_r),
	S(CTL_JOIN_TOKEN, f_join_token),
	S(CTL_JOIN_TOKEN | MSG_REPLY, f_join_token_r),
	S(CTL_SECRET_CREATE, f_secret_create),
	S(CTL_SECRET_CREATE | MSG_REPLY, f_secret_id_r),
	S0(CTL_SECRET_LIST),
	S(CTL_SECRET_LIST | MSG_REPLY, f_secret_records),
	S(CTL_SECRET_INSPECT, f_refs),
	S(CTL_SECRET_INSPECT | MSG_REPLY, f_secret_records),
	S(CTL_SECRET_RM, f_secret_rm),
	S(CTL_SECRET_RM | MSG_REPLY, f_secret_id_r),
	S(CTL_UPDATE, f_update),
	S(CTL_UPDATE | MSG_REPLY, f_kek_opt),
	S(CTL_UNLOCK, f_kek_req),
	S0(CTL_UNLOCK | MSG_REPLY),
	S(CTL_UNLOCK_KEY, f_unlock_key),
	S(CTL_UNLOCK_KEY | MSG_REPLY, f_kek_req),
	S(CTL_TEST_FAULT, f_test_fault),
	S0(CTL_TEST_FAULT | MSG_REPLY),

	S(PKI_CA_CREATE, f_pki_ca_create),
	S(PKI_CA_CREATE | MSG_REPLY, f_pki_ca_r),
	S(PKI_CA_LOAD, f_pki_ca_load),
	S(PKI_CA_LOAD | MSG_REPLY, f_pki_digest_r),
	S(PKI_ISSUE, f_pki_issue),
	S(PKI_ISSUE | MSG_REPLY, f_pki_issue_r),

	S(RAFTP_START, f_raft_start),
	S0(RAFTP_START | MSG_REPLY),
	S(RAFTP_PROPOSE, f_raft_propose),
	S(RAFTP_PROPOSE | MSG_REPLY, f_raft_propose_r),
	S(RAFTP_QUERY, f_raft_query),
	S(RAFTP_QUERY | MSG_REPLY, f_raft_query),
	S0(RAFTP_STATUS),
	S(RAFTP_STATUS | MSG_REPLY, f_raft_status_r),
	S(RAFTP_EVENT, f_raft_event),
	S(RAFTP_CONNECT, f_raft_connect),
	S0(RAFTP_CONNECT | MSG_REPLY),
	S(RAFTP_INBOUND, f_raft_inbound),

	S(CMD_CLUSTER_INIT, f_cmd_cluster_init),
	S(CMD_TOKEN_ROTATE, f_cmd_token_rotate),
	S(CMD_SECRET_CREATE, f_cmd_secret_create),
	S(CMD_SECRET_RM, f_secret_rm),
	S(CMD_CLUSTER_UPDATE, f_cmd_cluster_update),

	S0(QRY_CLUSTER),
	S(QRY_CLUSTER | MSG_REPLY, f_cluster),
	S0(QRY_SECRET_LIST),
	S(QRY_SECRET_LIST | MSG_REPLY, f_secret_records),
	S(QRY_SECRET_GET, f_refs),
	S(QRY_SECRET_GET | MSG_REPLY, f_secret_records),

	S(REC_SECRET, f_rec_secret),
	S(SNAP_HEADER, f_snap_header),
	S(SNAP_CLUSTER, f_cluster),
	S(SNAP_SECRET, f_snap_secret),
	S(SNAP_DEDUP, f_snap_dedup),
	S(REC_KEYFILE, f_rec_keyfile),
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

int
msg_error_reply(struct wire_enc *e, uint32_t request_id, int code, const char *detail)
{
	wire_enc_init(e, MSG_ERROR, request_id, 2048);
	wire_put_u32(e, T_ERRCODE, (uint32_t)-code);
	if (detail != NULL && *detail != '\0')
		wire_put_str(e, T_ERRMSG, detail);
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
