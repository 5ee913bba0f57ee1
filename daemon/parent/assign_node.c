/*
 * This node's side of assignments (see assign.h): ask a manager — or, on
 * a manager, the local store — what is placed here, and keep the answer.
 * A worker's request is held by the manager until something changes, so
 * the next one goes out as soon as an answer is in; a manager asks its
 * own store when the store says something changed.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "page.h"
#include "parent.h"
#include "store_calls.h"

/* Worst case of one request: the have-list stays within the field cap. */
#define ASSIGN_HAVE_MAX	(WIRE_MAX_FIELDS - 8)

static void
service_free(struct assigned_service *s)
{
	free(s->grants);
	free(s->raw);
	memset(s, 0, sizeof(*s));
}

static void
services_free(struct assigned_service *svc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		service_free(&svc[i]);
	free(svc);
}

void
assign_clear(struct parent *p)
{
	struct assignments *a = &p->assign;

	services_free(a->svc, a->nsvc);
	for (size_t i = 0; i < a->nval; i++)
		secbuf_free(&a->val[i].data);
	free(a->val);
	a->svc = NULL;
	a->val = NULL;
	a->nsvc = a->nval = 0;
	a->complete = false;
	a->generation++;
}

const struct assigned_service *
assign_find_service(const struct parent *p, const char *name)
{
	for (size_t i = 0; i < p->assign.nsvc; i++)
		if (strcmp(p->assign.svc[i].name, name) == 0)
			return &p->assign.svc[i];
	return NULL;
}

const struct assigned_value *
assign_find_value(const struct parent *p, const char *secret_id)
{
	for (size_t i = 0; i < p->assign.nval; i++)
		if (strcmp(p->assign.val[i].secret_id, secret_id) == 0)
			return &p->assign.val[i];
	return NULL;
}

static void
put_request(struct parent *p, struct wire_enc *e)
{
	struct assignments *a = &p->assign;
	char have[HUSH_ID_LEN + 16];

	if (a->complete)
		wire_put_bytes(e, T_DIGEST, a->digest, sizeof(a->digest));
	for (size_t i = 0; i < a->nval && i < ASSIGN_HAVE_MAX; i++) {
		snprintf(have, sizeof(have), "%s:%u", a->val[i].secret_id, a->val[i].version);
		wire_put_str(e, T_HAVE, have);
	}
}

/* One REC_SERVICE of the answer, kept raw (for hushctl) and parsed. */
struct take_ctx {
	struct assigned_service	*svc;
	size_t			 n, cap;
};

static int
take_service(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	struct take_ctx *t = arg;
	const struct wire_field *claim;
	struct assigned_service *s;
	struct wire_msg g;
	char why[128];
	int r;

	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 8;
		struct assigned_service *ns = reallocarray(t->svc, ncap, sizeof(*ns));

		if (ns == NULL)
			return HUSH_E_NOMEM;
		t->svc = ns;
		t->cap = ncap;
	}
	s = &t->svc[t->n];
	memset(s, 0, sizeof(*s));
	if ((r = wire_get_str(rec, T_SERVICE_ID, s->id, sizeof(s->id))) != 0 ||
	    (r = wire_get_str(rec, T_NAME, s->name, sizeof(s->name))) != 0 ||
	    (r = wire_get_u64(rec, T_VERSION, &s->version)) != 0)
		return r;
	if ((claim = wire_find(rec, T_CLAIM_DIGEST, 0)) != NULL) {
		/* the schema holds it to 32 bytes */
		memcpy(s->claim_digest, claim->val, sizeof(s->claim_digest));
		s->has_claim = true;
	}
	if ((s->raw = malloc(len)) == NULL)
		return HUSH_E_NOMEM;
	memcpy(s->raw, raw, len);
	s->rawlen = len;
	t->n++;
	s->ngrants = wire_count(rec, T_GRANT);
	if (s->ngrants > 0 && (s->grants = calloc(s->ngrants, sizeof(*s->grants))) == NULL)
		return HUSH_E_NOMEM;
	for (size_t i = 0; i < s->ngrants; i++) {
		const struct wire_field *f = wire_find(rec, T_GRANT, i);
		struct assigned_grant *ag = &s->grants[i];

		if ((r = msg_parse_record(f->val, f->len, REC_SERVICE_GRANT, &g, why,
		    sizeof(why))) != 0 ||
		    (r = wire_get_str(&g, T_SECRET_ID, ag->secret_id, sizeof(ag->secret_id))) != 0 ||
		    (r = wire_get_str(&g, T_TARGET, ag->target, sizeof(ag->target))) != 0 ||
		    (r = wire_get_u32(&g, T_UID, &ag->uid)) != 0 ||
		    (r = wire_get_u32(&g, T_GID, &ag->gid)) != 0 ||
		    (r = wire_get_u32(&g, T_MODE, &ag->mode)) != 0)
			return r;
		(void)wire_get_str(&g, T_NAME, ag->secret_name, sizeof(ag->secret_name));
	}
	return 0;
}

static bool
granted(const struct assigned_service *svc, size_t n, const char *secret_id)
{
	for (size_t i = 0; i < n; i++)
		for (size_t g = 0; g < svc[i].ngrants; g++)
			if (strcmp(svc[i].grants[g].secret_id, secret_id) == 0)
				return true;
	return false;
}

/* Replace or add a value; the old bytes are wiped with their secbuf. */
static int
take_value(struct assignments *a, const struct wire_field *f)
{
	struct wire_msg rec;
	struct assigned_value *v = NULL;
	struct secbuf value = SECBUF_INIT;
	const uint8_t *box;
	char id[HUSH_ID_LEN + 1], why[128];
	uint32_t version;
	size_t len;
	int r;

	if ((r = msg_parse_record(f->val, f->len, REC_SECRET_DATA, &rec, why, sizeof(why))) != 0 ||
	    (r = wire_get_str(&rec, T_SECRET_ID, id, sizeof(id))) != 0 ||
	    (r = wire_get_u32(&rec, T_VERSION, &version)) != 0 ||
	    (r = wire_get_bytes(&rec, T_SEALED, &box, &len)) != 0)
		return r != 0 ? r : HUSH_E_PROTO;
	/* Sealed to this node by the raft process that read it (store_assign.c). */
	if ((r = seal_key_open(box, len, &value)) != 0) {
		log_err("a value for secret %s is not sealed to this node's key: refused", id);
		return r;
	}
	for (size_t i = 0; i < a->nval; i++)
		if (strcmp(a->val[i].secret_id, id) == 0)
			v = &a->val[i];
	if (v == NULL) {
		struct assigned_value *nv = reallocarray(a->val, a->nval + 1, sizeof(*nv));

		if (nv == NULL) {
			secbuf_free(&value);
			return HUSH_E_NOMEM;
		}
		a->val = nv;
		v = &a->val[a->nval++];
		memset(v, 0, sizeof(*v));
		snprintf(v->secret_id, sizeof(v->secret_id), "%s", id);
	}
	secbuf_free(&v->data);
	v->version = version;
	v->data = value;	/* guarded memory, owned by v now */
	return 0;
}

/* Apply a manager's answer (QRY_ASSIGNMENTS or DSP_ASSIGNMENTS reply). */
static int
apply_answer(struct parent *p, const struct wire_msg *m)
{
	struct assignments *a = &p->assign;
	struct take_ctx t = { NULL, 0, 0 };
	const uint8_t *digest;
	size_t len, w;
	bool more = false;
	int r;

	if ((r = wire_get_bytes(m, T_DIGEST, &digest, &len)) != 0 || len != sizeof(a->digest))
		return HUSH_E_PROTO;
	if (wire_find(m, T_RECORDS, 0) == NULL) {
		/* Unchanged: only ever the answer to a complete assignment. */
		return a->complete && sodium_memcmp(digest, a->digest, len) == 0 ? 0 :
		    HUSH_E_PROTO;
	}
	if ((r = msg_records_each(m, T_SERVICE, REC_SERVICE, take_service, &t)) != 0) {
		services_free(t.svc, t.n);
		return r;
	}
	/* All values first: a bad one leaves what we hold as it was. */
	for (size_t i = 0; i < wire_count(m, T_SECRET_DATA); i++) {
		if ((r = take_value(a, wire_find(m, T_SECRET_DATA, i))) != 0) {
			services_free(t.svc, t.n);
			return r;
		}
	}
	services_free(a->svc, a->nsvc);
	a->svc = t.svc;
	a->nsvc = t.n;
	/* Values no service here grants any more are dropped (and wiped). */
	for (size_t i = 0, n = a->nval; i < n; i++)
		if (!granted(a->svc, a->nsvc, a->val[i].secret_id))
			secbuf_free(&a->val[i].data);
	for (size_t i = w = 0; i < a->nval; i++) {
		if (a->val[i].data.p == NULL)
			continue;
		a->val[w++] = a->val[i];
	}
	a->nval = w;
	wire_get_bool(m, T_MORE, &more);
	a->complete = !more;
	a->again = more;
	memcpy(a->digest, digest, sizeof(a->digest));
	a->generation++;
	log_info("assignments: %zu service(s) placed on this node, %zu secret value(s) held%s",
	    a->nsvc, a->nval, more ? " (more to come)" : "");
	/* A partial answer may lack values the containers need: wait for all. */
	if (!more)
		containers_refresh(p);
	return 0;
}

static void
failed(struct parent *p, int status, const char *detail)
{
	struct assignments *a = &p->assign;

	a->inflight = false;
	a->rotor++;
	a->retry_at = parent_mono() + 2;
	log_debug("assignments not refreshed: %s", detail && *detail ? detail :
	    hush_strerror(status));
}

static void
remote_done(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct parent *p = arg;
	struct wire_msg *m;
	char d[1100];

	if (status == 0 && (m = malloc(sizeof(*m))) != NULL) {
		if ((status = cluster_rpc_unwrap(reply, DSP_ASSIGNMENTS, m, d, sizeof(d))) == 0 &&
		    (status = apply_answer(p, m)) != 0)
			snprintf(d, sizeof(d), "the manager's answer was refused");
		free(m);
		if (status == 0) {
			p->assign.inflight = false;
			p->assign.again = true;		/* the manager holds the next one */
			assign_tick(p);
			return;
		}
		detail = d;
	}
	failed(p, status ? status : HUSH_E_NOMEM, detail);
}

static void
local_done(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct parent *p = op->p;

	if (status == 0 && (status = apply_answer(p, reply)) != 0)
		detail = "the store's answer was refused";
	op_free(op);
	if (status != 0) {
		failed(p, status, detail);
		return;
	}
	p->assign.inflight = false;
}

/* A manager asks its own replica, saying what put_request() would. */
static int
ask_store(struct op *op)
{
	struct assignments *a = &op->p->assign;
	size_t n = a->nval < ASSIGN_HAVE_MAX ? a->nval : ASSIGN_HAVE_MAX;
	char (*buf)[HUSH_ID_LEN + 16] = NULL;
	const char **have = NULL;
	int r;

	if (n > 0 && ((buf = calloc(n, sizeof(*buf))) == NULL ||
	    (have = calloc(n, sizeof(*have))) == NULL)) {
		free(buf);
		return HUSH_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(buf[i], sizeof(buf[i]), "%s:%u", a->val[i].secret_id,
		    a->val[i].version);
		have[i] = buf[i];
	}
	r = store_node_assignments(op, op->p->node.node_id, a->complete ? a->digest : NULL,
	    have, n, local_done);
	free(have);
	free(buf);
	return r;
}

static void
ask(struct parent *p)
{
	struct assignments *a = &p->assign;
	struct wire_enc e;
	struct op *op;
	int r;

	if (p->node.role == ROLE_MANAGER) {
		if (p->store.phase != RAFT_UP || (op = calloc(1, sizeof(*op))) == NULL)
			return;
		op->p = p;
		a->inflight = true;
		a->again = false;
		if ((r = ask_store(op)) != 0) {
			op_free(op);
			failed(p, r, NULL);
		}
		return;
	}
	if (p->view.net != NET_UP || p->view.nmanagers == 0 || p->view.removed_self)
		return;
	wire_enc_init(&e, DSP_ASSIGNMENTS, 1, 65536);
	put_request(p, &e);
	a->inflight = true;
	a->again = false;
	if ((r = cluster_rpc(p, p->view.managers[a->rotor % p->view.nmanagers], &e, remote_done,
	    p)) != 0)
		failed(p, r, NULL);
	wire_enc_free(&e);
}

/* Every tick and after each answer: keep one request going. */
void
assign_tick(struct parent *p)
{
	struct assignments *a = &p->assign;

	if (!p->node.initialized || p->state != PS_READY || a->inflight)
		return;
	if (!a->again && a->complete && p->node.role == ROLE_MANAGER)
		return;		/* the store tells us when to look again */
	if (parent_mono() < a->retry_at)
		return;
	ask(p);
}

/* The store applied something that may change placements. */
void
assign_store_changed(struct parent *p)
{
	p->assign.again = true;
	assign_serve_wake(p);
	assign_tick(p);
}

/* CTL_ASSIGNMENTS: what this node holds (never the values). */
void
op_assignments(struct op *op, const struct wire_msg *m)
{
	struct assignments *a = &op->p->assign;
	struct wire_enc e, list;
	const uint8_t *buf;
	const char **ids = NULL;
	char have[HUSH_ID_LEN + 16], cursor[HUSH_CURSOR_MAX + 1];
	size_t len, n, i, before;
	bool from = wire_get_str(m, T_CURSOR, cursor, sizeof(cursor)) == 0;
	int r;

	/* The services a page at a time (lib/page.h), by id. */
	if (a->nsvc > 0 && (ids = calloc(a->nsvc, sizeof(*ids))) == NULL) {
		op_error(op, HUSH_E_NOMEM, NULL);
		return;
	}
	for (i = 0; i < a->nsvc; i++)
		ids[i] = a->svc[i].id;
	n = page_keys_after(ids, a->nsvc, from ? cursor : NULL);
	wire_enc_init_list(&list, PAGE_LIST_MAX);
	for (i = 0; i < n; i++) {
		/* ids[i] is the id member of its assigned_service */
		const struct assigned_service *svc = (const struct assigned_service *)
		    (const void *)(ids[i] - offsetof(struct assigned_service, id));

		before = wire_enc_len(&list);
		wire_put_bytes(&list, T_SERVICE, svc->raw, svc->rawlen);
		if (!page_keep(&list, before, i))
			break;
	}
	if ((r = wire_enc_finish(&list, &buf, &len)) != 0) {
		wire_enc_free(&list);
		free(ids);
		op_error(op, r, NULL);
		return;
	}
	wire_enc_init(&e, CTL_ASSIGNMENTS | MSG_REPLY, op->client_req, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_RECORDS, buf, len);
	wire_enc_free(&list);
	if (i < n)
		wire_put_str(&e, T_CURSOR, ids[i - 1]);
	free(ids);
	/* What the node holds comes with the first page only. */
	for (i = 0; !from && i < a->nval && i < ASSIGN_HAVE_MAX; i++) {
		snprintf(have, sizeof(have), "%s:%u", a->val[i].secret_id, a->val[i].version);
		wire_put_str(&e, T_HAVE, have);
	}
	if (a->complete && !from)
		wire_put_bytes(&e, T_DIGEST, a->digest, sizeof(a->digest));
	op_reply(op, &e);
}
