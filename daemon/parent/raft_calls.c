/*
 * The parent's ways into the replicated store: propose a command, or ask
 * a query -- its own, built by a wrapper in store_calls.c, or a peer's.
 * Both travel inside a RAFTP_* message to the local raft process; when it
 * is not the leader, the same bytes go to the leader as a DSP_* request
 * through the net process.  Every answer is validated here against the
 * schema of what was asked.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lockmem.h"
#include "log.h"
#include "op_call.h"
#include "parent.h"

struct raft_call {
	struct raft_call *next;		/* in parent.forwards while with a leader */
	char		 target[263];	/* the leader it went to */
	struct op	*op;
	op_done_cb	 cb;
	op_call_decode	 decode;	/* store_calls.c's, or NULL: cb sees the reply */
	void		*out;
	uint16_t	 query_type;	/* 0 for a proposal */
	bool		 forward_ok;
	bool		 asked_local;	/* the local raft process has seen it */
	bool		 local;
	uint8_t		*raw;		/* the command or query, for forwarding */
	size_t		 rawlen;
	uint8_t		 nonce[PEER_NONCE_BYTES];	/* its answer must bring it back */
};

/* Takes rc off the list of requests waiting on another manager's answer. */
static void
forward_unlink(struct raft_call *rc)
{
	struct raft_call **rp;

	for (rp = &rc->op->p->store.forwards; *rp != NULL; rp = &(*rp)->next) {
		if (*rp == rc) {
			*rp = rc->next;
			return;
		}
	}
}

static void
call_free(struct raft_call *rc)
{
	lockmem_free(rc->raw);	/* wipes: a command may carry a secret value */
	free(rc);
}

/*
 * The store's answer, checked against its schema: decoded into the
 * wrapper's typed result, then cb with reply NULL; or, with no decoder,
 * handed to cb as it is.
 */
static void
succeed(struct raft_call *rc, const struct wire_msg *reply)
{
	char why[512];
	int r;

	if (rc->decode == NULL) {
		rc->cb(rc->op, 0, reply, NULL);
		return;
	}
	if ((r = rc->decode(rc->op, reply, rc->out, why, sizeof(why))) != 0)
		rc->cb(rc->op, r, NULL, why);
	else
		rc->cb(rc->op, 0, NULL, NULL);
}

/* Parse the QRY_* answer carried in T_QUERY of m and hand it to the caller. */
static void
finish_query(struct raft_call *rc, const struct wire_msg *m)
{
	struct wire_msg *inner;
	const uint8_t *buf;
	uint16_t allowed[3];
	size_t len;
	char why[256], detail[1100];
	int r;

	if ((inner = malloc(sizeof(*inner))) == NULL) {
		rc->cb(rc->op, HUSH_E_NOMEM, NULL, NULL);
		return;
	}
	allowed[0] = rc->query_type | MSG_REPLY;
	allowed[1] = MSG_ERROR;
	allowed[2] = 0;
	if (wire_get_bytes(m, T_QUERY, &buf, &len) != 0 ||
	    (r = msg_parse(buf, len, WIRE_MAX_MSG, allowed, inner, why, sizeof(why))) != 0) {
		log_err("malformed query answer: %s", why);
		rc->cb(rc->op, HUSH_E_UNAVAIL, NULL, "a malformed answer was refused");
	} else if ((r = msg_reply_status(inner, detail, sizeof(detail))) != 0) {
		rc->cb(rc->op, r, NULL, detail);
	} else {
		succeed(rc, inner);
	}
	free(inner);
}

static int send_local(struct raft_call *rc);

/*
 * The leader's answer: sealed with the DEK for this request (peer_seal.c),
 * and inside, what its raft process answered (or its error); or an error
 * the leader gave before it could open the request.
 */
static void
forwarded(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct raft_call *rc = arg;
	uint8_t *inner = NULL;
	size_t innerlen = 0;
	struct wire_msg *m = NULL, *im = NULL;
	uint8_t nonce[PEER_NONCE_BYTES];
	uint16_t allowed[3] = { 0, MSG_ERROR, 0 };
	char d[1100], why[256];

	forward_unlink(rc);
	if (status != 0) {
		rc->cb(rc->op, status == HUSH_E_TIMEOUT ? HUSH_E_UNAVAIL : status, NULL, detail);
		goto out;
	}
	if ((m = malloc(sizeof(*m))) == NULL || (im = malloc(sizeof(*im))) == NULL) {
		rc->cb(rc->op, HUSH_E_NOMEM, NULL, NULL);
		goto out;
	}
	if ((status = cluster_rpc_unwrap(reply, rc->query_type ? DSP_QUERY : DSP_FORWARD, m, d,
	    sizeof(d))) != 0) {
		rc->cb(rc->op, status, NULL, d);
		goto out;
	}
	if (peer_open(rc->query_type ? PURPOSE_DSP_QUERY_R : PURPOSE_DSP_FORWARD_R, m, nonce,
	    &inner, &innerlen) != 0 || sodium_memcmp(nonce, rc->nonce, sizeof(nonce)) != 0) {
		log_err("the raft leader's answer was not sealed for this request: refused");
		rc->cb(rc->op, HUSH_E_UNAVAIL, NULL, "the raft leader's answer could not be "
		    "authenticated");
		goto out;
	}
	allowed[0] = (rc->query_type ? RAFTP_QUERY : RAFTP_PROPOSE) | MSG_REPLY;
	if (msg_parse(inner, innerlen, WIRE_MAX_MSG, allowed, im, why, sizeof(why)) != 0) {
		log_err("malformed answer from the raft leader: %s", why);
		rc->cb(rc->op, HUSH_E_UNAVAIL, NULL, "a malformed answer was refused");
	} else if ((status = msg_reply_status(im, d, sizeof(d))) == HUSH_E_NOTLEADER &&
	    !rc->asked_local) {
		/*
		 * Sent straight to where the leader last was, and it is no
		 * longer there: ask the local raft process, as when no leader
		 * was known.  Nothing was applied (a follower never proposes).
		 */
		rc->op->p->store.leader[0] = '\0';
		if (send_local(rc) == 0)
			rc = NULL;	/* the local answer finishes it */
		else
			rc->cb(rc->op, HUSH_E_UNAVAIL, NULL, d);
	} else if (status != 0) {
		rc->cb(rc->op, status, NULL, d);
	} else if (rc->query_type) {
		finish_query(rc, im);
	} else {
		succeed(rc, im);
	}
out:
	lockmem_free(inner);	/* wipes */
	free(im);
	free(m);
	if (rc != NULL)
		call_free(rc);
}

/* Sealed: neither net process may read a command, a query or its answer. */
static int
forward_to(struct raft_call *rc, const char *addr)
{
	struct parent *p = rc->op->p;
	struct wire_enc req;
	int r;

	randombytes_buf(rc->nonce, sizeof(rc->nonce));
	wire_enc_init(&req, rc->query_type ? DSP_QUERY : DSP_FORWARD, 1, WIRE_MAX_MSG);
	if ((r = peer_seal(rc->query_type ? PURPOSE_DSP_QUERY : PURPOSE_DSP_FORWARD, rc->nonce,
	    rc->raw, rc->rawlen, &req)) == 0)
		r = cluster_rpc(p, addr, &req, forwarded, rc);
	wire_enc_free(&req);
	if (r != 0)
		return r;
	snprintf(rc->target, sizeof(rc->target), "%s", addr);
	rc->next = p->store.forwards;
	p->store.forwards = rc;
	return 0;
}

static void
leader_known(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct raft_call *rc = arg;
	struct parent *p = rc->op->p;
	char addr[263];

	if (status != 0 || wire_get_str(reply, T_LEADER_ADDR, addr, sizeof(addr)) != 0 ||
	    strcmp(addr, p->node.advertise) == 0) {
		rc->cb(rc->op, HUSH_E_UNAVAIL, NULL, "no raft leader is known to this manager: "
		    "it cannot reach a quorum (a majority) of the managers");
		call_free(rc);
		return;
	}
	if (forward_to(rc, addr) != 0) {
		rc->cb(rc->op, HUSH_E_UNAVAIL, NULL, "cannot reach the raft leader");
		call_free(rc);
	}
}

/*
 * The raft process reports a new leader (addr; "" while none is known).
 * A request with the former leader may never be answered: that process
 * can be stopped or starved rather than dead, and then its connection
 * stays open until net's 10 s deadline, or until it resumes.  So the
 * moment the leader moves, each such request fails as "outcome unknown",
 * which the client retries under the same request id: the new leader
 * applies it, or finds it already applied (the dedup table, raft/store.c)
 * and says so.  A late answer from the former leader is dropped.
 */
void
raft_leader_moved(struct parent *p, const char *addr)
{
	struct raft_call *rc, **rp;
	char detail[700];

	snprintf(p->store.leader, sizeof(p->store.leader), "%s", addr);
	for (rp = &p->store.forwards; (rc = *rp) != NULL;) {
		if (*addr != '\0' && strcmp(rc->target, addr) == 0) {
			rp = &rc->next;
			continue;
		}
		*rp = rc->next;
		child_call_abandon(&p->net, rc);
		snprintf(detail, sizeof(detail), "the raft leader changed while this "
		    "request was with the former leader at %s%s%s; its outcome is "
		    "unknown: retry it", rc->target, *addr != '\0' ? ", the leader "
		    "is now at " : "", addr);
		log_info("%s", detail);
		rc->cb(rc->op, HUSH_E_UNAVAIL, NULL, detail);
		call_free(rc);
	}
}

static void
local_done(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct raft_call *rc = arg;
	struct parent *p = rc->op->p;
	struct wire_enc e;

	if (status == HUSH_E_NOTLEADER && rc->forward_ok) {
		wire_enc_init(&e, RAFTP_STATUS, child_next_id(&p->raft), 64);
		if (child_call(&p->raft, &e, -1, leader_known, rc) == 0) {
			wire_enc_free(&e);
			return;
		}
		wire_enc_free(&e);
		status = HUSH_E_UNAVAIL;
	}
	if (status != 0)
		rc->cb(rc->op, status, NULL, detail);
	else if (rc->query_type)
		finish_query(rc, reply);
	else
		succeed(rc, reply);
	call_free(rc);
}

static int
send_local(struct raft_call *rc)
{
	struct parent *p = rc->op->p;
	struct wire_enc e;
	int r;

	rc->asked_local = true;
	wire_enc_init(&e, rc->query_type ? RAFTP_QUERY : RAFTP_PROPOSE, child_next_id(&p->raft),
	    WIRE_MAX_MSG);
	wire_put_bytes(&e, rc->query_type ? T_QUERY : T_COMMAND, rc->raw, rc->rawlen);
	if (rc->local)
		wire_put_bool(&e, T_FORCE, true);
	r = child_call(&p->raft, &e, -1, local_done, rc);
	wire_enc_free(&e);
	return r;
}

static int
start(struct op *op, const uint8_t *raw, size_t len, bool query, bool forward_ok, bool local,
    op_call_decode decode, void *out, op_done_cb cb)
{
	struct raft_call *rc;
	int r;

	if (op->p->store.phase != RAFT_UP)
		return HUSH_E_UNAVAIL;
	if (len < WIRE_HDR_LEN || (rc = calloc(1, sizeof(*rc))) == NULL)
		return len < WIRE_HDR_LEN ? HUSH_E_PROTO : HUSH_E_NOMEM;
	if ((rc->raw = lockmem_alloc(len)) == NULL) {
		free(rc);
		return HUSH_E_NOMEM;
	}
	memcpy(rc->raw, raw, len);
	rc->rawlen = len;
	rc->op = op;
	rc->cb = cb;
	rc->decode = decode;
	rc->out = out;
	rc->forward_ok = forward_ok;
	rc->local = local;
	if (query)
		rc->query_type = (uint16_t)(raw[2] << 8 | raw[3]);
	/*
	 * A follower sends a write (or a leader's query) straight to the
	 * leader it last heard of: asking its own raft process first, to be
	 * told "not the leader", then where the leader is, cost two round
	 * trips to it per request, most of a forwarded write's time here.
	 */
	if (forward_ok && !local && op->p->store.leader[0] != '\0' &&
	    strcmp(op->p->store.leader, op->p->node.advertise) != 0 &&
	    forward_to(rc, op->p->store.leader) == 0)
		return 0;
	r = send_local(rc);
	if (r != 0)
		call_free(rc);
	return r;
}

static int
start_enc(struct op *op, struct wire_enc *e, bool query, bool local, op_call_decode decode,
    void *out, op_done_cb cb)
{
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish(e, &buf, &len)) != 0)
		return r;
	return start(op, buf, len, query, true, local, decode, out, cb);
}

int
raft_propose_raw(struct op *op, const uint8_t *cmd, size_t len, op_done_cb cb)
{
	return start(op, cmd, len, false, false, false, NULL, NULL, cb);
}

int
raft_query_raw(struct op *op, const uint8_t *qry, size_t len, op_done_cb cb)
{
	return start(op, qry, len, true, false, false, NULL, NULL, cb);
}

int
raft_call(struct op *op, struct wire_enc *e, enum raft_way way, op_call_decode decode, void *out,
    op_done_cb cb)
{
	return start_enc(op, e, way != RAFT_PROPOSE, way == RAFT_QUERY_HERE, decode, out, cb);
}

static int
status_decode(struct op *op, const struct wire_msg *reply, void *out, char *why,
    size_t whylen)
{
	struct raft_status *rs = out;
	const uint8_t *d;
	size_t dlen;

	memset(rs, 0, sizeof(*rs));
	/* The schema made term, index, state and leader required. */
	wire_get_u64(reply, T_RAFT_TERM, &rs->term);
	wire_get_u64(reply, T_RAFT_INDEX, &rs->index);
	wire_get_str(reply, T_RAFT_STATE, rs->state, sizeof(rs->state));
	wire_get_str(reply, T_RAFT_LEADER, rs->leader, sizeof(rs->leader));
	wire_get_str(reply, T_LEADER_ADDR, rs->leader_addr, sizeof(rs->leader_addr));
	/* The schema fixed the digest at 32 bytes. */
	if (wire_get_bytes(reply, T_STORE_DIGEST, &d, &dlen) == 0 && dlen == sizeof(rs->digest) &&
	    wire_get_u64(reply, T_STORE_SECRETS, &rs->secrets) == 0 &&
	    wire_get_u64(reply, T_STORE_SERVICES, &rs->services) == 0 &&
	    wire_get_u64(reply, T_STORE_NODES, &rs->nodes) == 0) {
		memcpy(rs->digest, d, sizeof(rs->digest));
		rs->has_digest = true;
	}
	if (wire_get_u32(reply, T_COUNT, &rs->voters) != 0)
		rs->voters = 0;
	for (size_t i = 0; i < wire_count(reply, T_PEER_ID) && i < MAX_PEERS; i++)
		if (wire_field_str(wire_find(reply, T_PEER_ID, i), rs->other_voters[rs->nother_voters],
		    sizeof(rs->other_voters[0])) == 0)
			rs->nother_voters++;
	return 0;
}

int
raft_status(struct op *op, bool digest, struct raft_status *out, op_done_cb cb)
{
	struct parent *p = op->p;
	struct wire_enc e;
	int r;

	wire_enc_init(&e, RAFTP_STATUS, child_next_id(&p->raft), 64);
	if (digest)
		wire_put_bool(&e, T_DIGEST_WANTED, true);
	r = op_call(&p->raft, &e, -1, op, status_decode, out, cb);
	wire_enc_free(&e);
	return r;
}
