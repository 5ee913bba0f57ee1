/*
 * Join tokens.  A token is the CA digest (which the pki process computed)
 * plus a per-role secret kept in the replicated store; rotating replaces the
 * secret, so every token handed out before stops working at once.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "join_token.h"
#include "parent.h"

struct token_ctx {
	int		 role;
};

static void
token_cluster(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct token_ctx *x = op->ctx;
	struct join_token t;
	struct wire_enc e;
	const uint8_t *secret;
	size_t len;
	char tok[JOIN_TOKEN_LEN + 1];

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	if (!p->settings.have_digest) {
		op_error(op, HUSH_E_UNAVAIL, "the root CA is still loading");
		return;
	}
	if (wire_get_bytes(reply, x->role == ROLE_MANAGER ? T_MANAGER_SECRET : T_WORKER_SECRET,
	    &secret, &len) != 0) {
		op_error(op, HUSH_E_PROTO, NULL);
		return;
	}
	memcpy(t.digest, p->settings.token_digest, 32);
	memcpy(t.secret, secret, 16);
	join_token_format(&t, tok, sizeof(tok));
	wire_enc_init(&e, CTL_JOIN_TOKEN | MSG_REPLY, op->client_req, 1024);
	wire_put_str(&e, T_TOKEN, tok);
	wire_put_str(&e, T_ADVERTISE_ADDR, p->node.advertise);
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(tok, sizeof(tok));
	op_reply(op, &e);
}

static void
read_tokens(struct op *op)
{
	struct wire_enc q;
	int r;

	wire_enc_init(&q, QRY_CLUSTER, 0, 64);
	r = raft_query(op, &q, token_cluster);
	wire_enc_free(&q);
	if (r != 0)
		op_error(op, r, NULL);
}

static void
rotated(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	read_tokens(op);
}

void
op_join_token(struct op *op, const struct wire_msg *m)
{
	const struct wire_field *req_id = wire_find(m, T_REQ_ID, 0);
	struct token_ctx *x;
	struct wire_enc cmd;
	uint8_t role, secret[16];
	bool rotate = false;
	int r;

	wire_get_u8(m, T_ROLE, &role);
	wire_get_bool(m, T_ROTATE, &rotate);
	if (role != ROLE_MANAGER && role != ROLE_WORKER) {
		op_error(op, HUSH_E_INVAL, "role must be worker or manager");
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	x->role = role;
	op->ctx = x;
	op->ctx_free = free;
	if (!rotate) {
		read_tokens(op);
		return;
	}
	join_token_new_secret(secret);
	wire_enc_init(&cmd, CMD_TOKEN_ROTATE, 0, 256);
	wire_put_bytes(&cmd, T_REQ_ID, req_id->val, req_id->len);
	wire_put_bytes(&cmd, role == ROLE_MANAGER ? T_MANAGER_SECRET : T_WORKER_SECRET, secret, 16);
	sodium_memzero(secret, sizeof(secret));
	r = raft_propose(op, &cmd, rotated);
	wire_enc_free(&cmd);
	if (r != 0)
		op_error(op, r, NULL);
}
