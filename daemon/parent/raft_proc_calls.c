/*
 * The parent's typed calls to the raft process about itself, and its
 * answers to that process's requests (raft_proc_calls.h).
 */
#include <stdio.h>

#include "err.h"
#include "op_call.h"
#include "raft_proc_calls.h"

/* A forced start names the managers it removed (ops_force_new.c). */
static int
start_decoded(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	struct store_part *s = &op->p->store;

	s->nforced_removed = 0;
	for (size_t i = 0; i < wire_count(reply, T_PEER_ID) && i < MAX_PEERS; i++)
		if (wire_field_str(wire_find(reply, T_PEER_ID, i),
		    s->forced_removed[s->nforced_removed], sizeof(s->forced_removed[0])) == 0)
			s->nforced_removed++;
	return 0;
}

int
raft_proc_start(struct op *op, const struct raft_proc_start_req *req, op_done_cb cb)
{
	struct parent *p = op->p;
	struct wire_enc e;
	int r;

	wire_enc_init(&e, RAFTP_START, child_next_id(&p->raft), 4096);
	wire_put_bytes(&e, T_DEK, req->dek->p, req->dek->len);
	wire_put_str(&e, T_NODE_ID, req->node_id);
	wire_put_str(&e, T_ADDRESS, req->advertise);
	wire_put_bool(&e, T_BOOTSTRAP, req->bootstrap);
	wire_put_u32(&e, T_SNAP_THRESHOLD, req->snap_threshold);
	wire_put_u32(&e, T_SNAP_TRAILING, req->snap_trailing);
	if (req->set_aside != NULL)
		wire_put_str(&e, T_SET_ASIDE, req->set_aside);
	if (req->force_new) {
		wire_put_bool(&e, T_FORCE_NEW, true);
		wire_put_bytes(&e, T_COMMAND, req->first_cmd, req->first_cmd_len);
	}
	r = op_call(&p->raft, &e, -1, op, start_decoded, NULL, cb);
	wire_enc_free(&e);
	return r;
}

int
raft_proc_demote(struct op *op, const char *node_id, op_done_cb cb)
{
	struct parent *p = op->p;
	struct wire_enc e;
	int r;

	wire_enc_init(&e, RAFTP_DEMOTE, child_next_id(&p->raft), 128);
	wire_put_str(&e, T_NODE_ID, node_id);
	r = op_call(&p->raft, &e, -1, op, NULL, NULL, cb);
	wire_enc_free(&e);
	return r;
}

static int
backup_decoded(struct op *op, const struct wire_msg *reply, void *arg, char *why,
    size_t whylen)
{
	struct backup_summary *out = arg;

	/* The schema requires all but T_FORCE. */
	if (wire_get_str(reply, T_CLUSTER_ID, out->cluster_id, sizeof(out->cluster_id)) != 0 ||
	    wire_get_str(reply, T_NODE_ID, out->node_id, sizeof(out->node_id)) != 0 ||
	    wire_get_i64(reply, T_CREATED, &out->created) != 0 ||
	    wire_get_u64(reply, T_RAFT_INDEX, &out->index) != 0 ||
	    wire_get_u64(reply, T_STORE_SECRETS, &out->secrets) != 0 ||
	    wire_get_u64(reply, T_STORE_SERVICES, &out->services) != 0 ||
	    wire_get_u64(reply, T_STORE_NODES, &out->nodes) != 0 ||
	    wire_get_u64(reply, T_BYTES, &out->bytes) != 0 ||
	    wire_get_bool(reply, T_AUTOLOCK, &out->autolock) != 0) {
		snprintf(why, whylen, "the raft process answered a backup without its summary");
		return HUSH_E_PROTO;
	}
	if (wire_get_bool(reply, T_FORCE, &out->force) != 0)
		out->force = false;
	return 0;
}

int
raft_proc_backup(struct op *op, int fd, const uint8_t hdr[60], const uint8_t key[32],
    uint64_t min_index, bool force, struct backup_summary *out, op_done_cb cb)
{
	struct parent *p = op->p;
	struct wire_enc e;
	int r;

	wire_enc_init(&e, RAFTP_BACKUP, child_next_id(&p->raft), 512);
	wire_put_bytes(&e, T_BACKUP_HDR, hdr, 60);
	wire_put_bytes(&e, T_BACKUP_KEY, key, 32);
	wire_put_u64(&e, T_RAFT_INDEX, min_index);
	wire_put_i64(&e, T_CREATED, parent_now());
	if (force)
		wire_put_bool(&e, T_FORCE, true);
	r = op_call(&p->raft, &e, fd, op, backup_decoded, out, cb);
	wire_enc_free(&e);
	return r;
}

void
raft_connect_answer(struct parent *p, uint32_t req_id, int fd)
{
	struct wire_enc e;

	wire_enc_init(&e, RAFTP_CONNECT | MSG_REPLY, req_id, 64);
	child_answer(&p->raft, &e, fd);
}

void
raft_inbound(struct parent *p, const char *peer, const char *addr, int fd)
{
	struct wire_enc e;

	wire_enc_init(&e, RAFTP_INBOUND, 0, 1024);
	wire_put_str(&e, T_PEER_ID, peer);
	wire_put_str(&e, T_ADDRESS, addr);
	child_answer(&p->raft, &e, fd);
}

void
raft_propose_answer_encode(struct wire_enc *f, const struct wire_msg *reply)
{
	wire_enc_init(f, RAFTP_PROPOSE | MSG_REPLY, 0, WIRE_MAX_MSG);
	for (size_t i = 0; i < reply->nfields; i++)
		wire_put_bytes(f, reply->fields[i].tag, reply->fields[i].val, reply->fields[i].len);
}

int
raft_query_answer_encode(struct wire_enc *f, const struct wire_msg *reply)
{
	struct wire_enc inner;
	const uint8_t *buf;
	size_t len;
	int r;

	wire_enc_init(&inner, reply->hdr.type, 0, WIRE_MAX_MSG - 1024);
	for (size_t i = 0; i < reply->nfields; i++)
		wire_put_bytes(&inner, reply->fields[i].tag, reply->fields[i].val,
		    reply->fields[i].len);
	wire_enc_init(f, RAFTP_QUERY | MSG_REPLY, 0, WIRE_MAX_MSG);
	if ((r = wire_enc_finish(&inner, &buf, &len)) == 0)
		wire_put_bytes(f, T_QUERY, buf, len);
	wire_enc_free(&inner);
	return r;
}
