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
#include "store_calls.h"

struct token_ctx {
	int			 role;
	struct cluster_record	 cluster;
};

static void
token_ctx_free(void *arg)
{
	struct token_ctx *x = arg;

	cluster_record_clear(&x->cluster);
	free(x);
}

static void
token_cluster(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;
	struct token_ctx *x = op->ctx;
	struct join_token t;
	struct wire_enc e;
	char tok[JOIN_TOKEN_LEN + 1];

	if (status != 0) {
		op_error(op, status, detail);
		return;
	}
	if (!p->settings.have_digest) {
		op_error(op, HUSH_E_UNAVAIL, "the root CA is still loading");
		return;
	}
	memcpy(t.digest, p->settings.token_digest, 32);
	memcpy(t.secret, x->role == ROLE_MANAGER ? x->cluster.manager_secret :
	    x->cluster.worker_secret, 16);
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
	struct token_ctx *x = op->ctx;
	int r;

	if ((r = store_cluster_read(op, STORE_LEADER, &x->cluster, token_cluster)) != 0)
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
	op->ctx_free = token_ctx_free;
	if (!rotate) {
		read_tokens(op);
		return;
	}
	join_token_new_secret(secret);
	r = store_token_rotate(op, req_id->val, role, secret, rotated);
	sodium_memzero(secret, sizeof(secret));
	if (r != 0)
		op_error(op, r, NULL);
}
