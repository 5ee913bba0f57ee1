/*
 * Unit tests for daemon/raft/store_services.c and the commands that came
 * with services: secret update, secret rm refused while in use, node
 * labels.  Commands are built with wire_enc and parsed with msg_parse as
 * the raft log delivers them, then applied; answers are read back through
 * store_query and snapshots through store_restore.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "seal.h"
#include "id.h"
#include "msg.h"
#include "raft/store.h"
#include "store_fixture.h"
#include "wire.h"


static const uint16_t cmd_types[] = {
	CMD_CLUSTER_INIT, CMD_SECRET_CREATE, CMD_SECRET_RM, CMD_NODE_ADD, CMD_NODE_UPDATE,
	CMD_SERVICE_CREATE, CMD_SERVICE_UPDATE, CMD_SERVICE_RM, CMD_SECRET_UPDATE, 0
};
static const uint16_t qry_types[] = { QRY_SERVICE_LIST, QRY_SERVICE_GET, QRY_NODE_GET,
	QRY_ASSIGNMENTS, 0 };

static struct wire_msg cmd, qry, reply, rec, grant;
static char node_id[HUSH_ID_LEN + 1];
/* the first node's sealing key pair: its values come sealed to it */
static uint8_t seal_pub[crypto_box_PUBLICKEYBYTES], seal_sk[crypto_box_SECRETKEYBYTES];

#define next_req(rid)	store_fixture_req((rid), 0x5c)
#define del_store(s)	store_fixture_del(s)

static int
apply_enc(struct store *s, struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;
	char why[256];
	unsigned changed;
	int r;

	assert_int_equal(wire_enc_finish(e, &buf, &len), 0);
	if (msg_parse(buf, len, WIRE_MAX_MSG, cmd_types, &cmd, why, sizeof(why)) != 0)
		fail_msg("command does not parse: %s", why);
	r = store_apply(s, &cmd, &changed);
	wire_enc_free(e);
	return r;
}

/* Apply; the outcome's code, its message in why (if not NULL). */
static int
run(struct store *s, struct wire_enc *e, const uint8_t rid[16], const char **why)
{
	const struct store_outcome *o;

	assert_int_equal(apply_enc(s, e), 0);
	assert_non_null(o = store_outcome(s, rid));
	if (why != NULL)
		*why = o->errmsg != NULL ? o->errmsg : "";
	return o->code;
}

static struct store *
new_store(void)
{
	struct store *s = store_fixture_new();
	struct wire_enc e;
	char cid[HUSH_ID_LEN + 1];
	uint8_t rid[16], tok[16], cakey[64];

	assert_int_equal(hush_id_new(cid), 0);
	assert_int_equal(hush_id_new(node_id), 0);
	memset(tok, 't', sizeof(tok));
	memset(cakey, 'k', sizeof(cakey));
	next_req(rid);
	wire_enc_init(&e, CMD_CLUSTER_INIT, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_CLUSTER_ID, cid);
	wire_put_str(&e, T_CA_CERT, "cert");
	wire_put_bytes(&e, T_CA_KEY, cakey, sizeof(cakey));
	wire_put_bytes(&e, T_WORKER_SECRET, tok, 16);
	wire_put_bytes(&e, T_MANAGER_SECRET, tok, 16);
	wire_put_u64(&e, T_CERT_EXPIRY, 86400);
	wire_put_str(&e, T_NODE_ID, node_id);
	wire_put_str(&e, T_ADVERTISE_ADDR, "192.0.2.1:4477");
	wire_put_i64(&e, T_CREATED, 1700000000);
	assert_int_equal(crypto_box_keypair(seal_pub, seal_sk), 0);
	wire_put_bytes(&e, T_SEAL_PUB, seal_pub, sizeof(seal_pub));
	assert_int_equal(run(s, &e, rid, NULL), 0);
	return s;
}


static void
secret(struct store *s, const char *name, char id[HUSH_ID_LEN + 1])
{
	struct wire_enc e;
	char tmp[HUSH_ID_LEN + 1];
	uint8_t rid[16];

	if (id == NULL)
		id = tmp;
	assert_int_equal(hush_id_new(id), 0);
	next_req(rid);
	wire_enc_init(&e, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_SECRET_ID, id);
	wire_put_str(&e, T_NAME, name);
	wire_put_bytes(&e, T_DATA, "v", 1);
	wire_put_i64(&e, T_CREATED, 1700000100);
	assert_int_equal(run(s, &e, rid, NULL), 0);
}

/* "REF[,TARGET[,MODE]]" is enough for tests: uid 1, gid 2. */
static void
put_grant(struct wire_enc *e, const char *ref, const char *target, uint32_t mode)
{
	struct wire_enc g;
	const uint8_t *buf;
	size_t len;

	wire_enc_init_fields(&g, 1024);
	wire_put_str(&g, T_REF, ref);
	wire_put_str(&g, T_TARGET, target != NULL ? target : ref);
	wire_put_u32(&g, T_UID, 1);
	wire_put_u32(&g, T_GID, 2);
	wire_put_u32(&g, T_MODE, mode);
	assert_int_equal(wire_enc_finish(&g, &buf, &len), 0);
	wire_put_bytes(e, T_GRANT, buf, len);
	wire_enc_free(&g);
}

static void
begin(struct wire_enc *e, uint16_t type, uint8_t rid[16])
{
	next_req(rid);
	wire_enc_init(e, type, 0, WIRE_MAX_MSG);
	wire_put_bytes(e, T_REQ_ID, rid, 16);
}

static void
begin_create(struct wire_enc *e, uint8_t rid[16], const char *name, char id[HUSH_ID_LEN + 1])
{
	char tmp[HUSH_ID_LEN + 1];

	begin(e, CMD_SERVICE_CREATE, rid);
	assert_int_equal(hush_id_new(id != NULL ? id : tmp), 0);
	wire_put_str(e, T_SERVICE_ID, id != NULL ? id : tmp);
	wire_put_str(e, T_NAME, name);
	wire_put_i64(e, T_CREATED, 1700000200);
}

static void
begin_update(struct wire_enc *e, uint8_t rid[16], const char *ref)
{
	begin(e, CMD_SERVICE_UPDATE, rid);
	wire_put_str(e, T_REF, ref);
	wire_put_i64(e, T_UPDATED, 1700000300);
}

/* The query's answer, parsed into reply; returns its status. */
/* Run the query q (consumed) against s; its answer parsed into reply. */
static int
ask(struct store *s, struct wire_enc *q)
{
	static uint8_t copy[WIRE_MAX_MSG];
	static const uint16_t any[] = { QRY_SERVICE_LIST | MSG_REPLY,
	    QRY_SERVICE_GET | MSG_REPLY, QRY_NODE_GET | MSG_REPLY,
	    QRY_ASSIGNMENTS | MSG_REPLY, MSG_ERROR, 0 };
	struct wire_enc a;
	const uint8_t *buf;
	size_t len;
	char why[256];
	int r;

	assert_int_equal(wire_enc_finish(q, &buf, &len), 0);
	assert_int_equal(msg_parse(buf, len, WIRE_MAX_MSG, qry_types, &qry, why, sizeof(why)), 0);
	assert_int_equal(store_query(s, &qry, &a), 0);
	wire_enc_free(q);
	assert_int_equal(wire_enc_finish(&a, &buf, &len), 0);
	memcpy(copy, buf, len);
	wire_enc_free(&a);
	if (msg_parse(copy, len, WIRE_MAX_MSG, any, &reply, why, sizeof(why)) != 0)
		fail_msg("answer does not parse: %s", why);
	r = msg_reply_status(&reply, why, sizeof(why));
	if (r != 0)
		print_message("query: %s\n", why);
	return r;
}

static int
query(struct store *s, uint16_t type, const char *ref)
{
	struct wire_enc q;

	wire_enc_init(&q, type, 7, 4096);
	if (ref != NULL)
		wire_put_str(&q, T_REF, ref);
	return ask(s, &q);
}

/* The first record of the answer in reply, parsed into rec. */
static int
first_record(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *m)
{
	int *n = arg;

	if ((*n)++ == 0)
		memcpy(&rec, m, sizeof(rec));
	return 0;
}

static int
get_service(struct store *s, const char *ref)
{
	int n = 0;

	assert_int_equal(query(s, QRY_SERVICE_GET, ref), 0);
	assert_int_equal(msg_records_each(&reply, T_SERVICE, REC_SERVICE, first_record, &n), 0);
	return n;
}

/* The nth grant of the service in rec, parsed into grant. */
static void
get_grant(size_t nth)
{
	const struct wire_field *f = wire_find(&rec, T_GRANT, nth);
	char why[256];

	assert_non_null(f);
	if (msg_parse_record(f->val, f->len, REC_SERVICE_GRANT, &grant, why, sizeof(why)) != 0)
		fail_msg("grant does not parse: %s", why);
}

static void
assert_str_field(const struct wire_msg *m, uint16_t tag, const char *want)
{
	char got[1100];

	assert_int_equal(wire_get_str(m, tag, got, sizeof(got)), 0);
	assert_string_equal(got, want);
}

static void
test_create_and_query(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	uint8_t rid[16];
	char db[HUSH_ID_LEN + 1], svc[HUSH_ID_LEN + 1];
	uint32_t u;
	uint64_t v;
	int n = 0;

	secret(s, "db", db);
	secret(s, "tls", NULL);
	begin_create(&e, rid, "web", svc);
	put_grant(&e, "db", NULL, 0400);
	put_grant(&e, db, "/run/secrets/db_copy", 0444);	/* same secret, by id */
	put_grant(&e, "tls", "/etc/tls/key", 0440);
	wire_put_str(&e, T_CONSTRAINT, "node.role==manager");
	wire_put_str(&e, T_CONSTRAINT, "node.role==manager");	/* kept once */
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_string_equal(store_outcome(s, rid)->ids, svc);
	assert_int_equal(s->nservices, 1);

	assert_int_equal(get_service(s, "web"), 1);
	assert_str_field(&rec, T_SERVICE_ID, svc);
	assert_int_equal(wire_get_u64(&rec, T_VERSION, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(wire_count(&rec, T_GRANT), 3);
	assert_int_equal(wire_count(&rec, T_CONSTRAINT), 1);
	get_grant(1);
	assert_str_field(&grant, T_SECRET_ID, db);
	assert_str_field(&grant, T_NAME, "db");		/* resolved at query time */
	assert_str_field(&grant, T_TARGET, "db_copy");	/* /run/secrets/ dropped */
	assert_int_equal(wire_get_u32(&grant, T_MODE, &u), 0);
	assert_int_equal(u, 0444);
	get_grant(2);
	assert_str_field(&grant, T_TARGET, "/etc/tls/key");
	assert_int_equal(wire_get_u32(&grant, T_UID, &u), 0);
	assert_int_equal(u, 1);

	/* By id too; the list has it. */
	assert_int_equal(get_service(s, svc), 1);
	assert_int_equal(query(s, QRY_SERVICE_LIST, NULL), 0);
	assert_int_equal(msg_records_each(&reply, T_SERVICE, REC_SERVICE, first_record, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(query(s, QRY_SERVICE_GET, "nope"), HUSH_E_NOTFOUND);
	del_store(s);
}

static void
test_create_refusals(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	uint8_t rid[16];
	const char *why;

	secret(s, "db", NULL);
	begin_create(&e, rid, "web", NULL);
	put_grant(&e, "missing", NULL, 0444);
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_NOTFOUND);
	assert_string_equal(why, "secret 'missing' not found");

	begin_create(&e, rid, "web", NULL);
	put_grant(&e, "db", "x", 0444);
	put_grant(&e, "db", "/run/secrets/x", 0400);
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_INVAL);
	assert_string_equal(why, "target 'x' is used twice");

	begin_create(&e, rid, "web", NULL);
	put_grant(&e, "db", "../etc/passwd", 0444);
	assert_int_equal(run(s, &e, rid, NULL), HUSH_E_INVAL);
	begin_create(&e, rid, "web", NULL);
	put_grant(&e, "db", NULL, 04755);
	assert_int_equal(run(s, &e, rid, NULL), HUSH_E_INVAL);
	begin_create(&e, rid, "-bad-", NULL);
	assert_int_equal(run(s, &e, rid, NULL), HUSH_E_INVAL);
	assert_int_equal(s->nservices, 0);

	begin_create(&e, rid, "web", NULL);
	assert_int_equal(run(s, &e, rid, NULL), 0);
	begin_create(&e, rid, "web", NULL);
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_EXISTS);
	assert_string_equal(why, "service 'web' already exists");
	assert_int_equal(s->nservices, 1);
	del_store(s);
}

static void
test_update(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	uint8_t rid[16];
	const char *why;
	uint64_t v;
	int64_t t;

	secret(s, "a", NULL);
	secret(s, "b", NULL);
	begin_create(&e, rid, "web", NULL);
	put_grant(&e, "a", NULL, 0444);
	put_grant(&e, "a", "a2", 0444);
	wire_put_str(&e, T_CONSTRAINT, "node.role==worker");
	assert_int_equal(run(s, &e, rid, NULL), 0);

	/* Not granted: refused, nothing changes. */
	begin_update(&e, rid, "web");
	put_grant(&e, "b", NULL, 0444);
	wire_put_str(&e, T_SECRET_RM, "b");
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_NOTFOUND);
	assert_string_equal(why, "secret 'b' is not granted to service 'web'");
	begin_update(&e, rid, "web");
	wire_put_str(&e, T_CONSTRAINT_RM, "node.role==manager");
	assert_int_equal(run(s, &e, rid, NULL), HUSH_E_NOTFOUND);
	begin_update(&e, rid, "nope");
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_NOTFOUND);
	assert_string_equal(why, "service 'nope' not found");
	assert_int_equal(get_service(s, "web"), 1);
	assert_int_equal(wire_get_u64(&rec, T_VERSION, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(wire_count(&rec, T_GRANT), 2);

	/* --secret-rm drops every grant of the secret; a target can be reused at once. */
	begin_update(&e, rid, "web");
	wire_put_str(&e, T_SECRET_RM, "a");
	put_grant(&e, "b", "a", 0400);
	wire_put_str(&e, T_CONSTRAINT_RM, "node.role==worker");
	wire_put_str(&e, T_CONSTRAINT, "node.labels.zone==eu");
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(get_service(s, "web"), 1);
	assert_int_equal(wire_get_u64(&rec, T_VERSION, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(wire_get_i64(&rec, T_UPDATED, &t), 0);
	assert_int_equal(t, 1700000300);
	assert_int_equal(wire_count(&rec, T_GRANT), 1);
	get_grant(0);
	assert_str_field(&grant, T_NAME, "b");
	assert_str_field(&grant, T_TARGET, "a");
	assert_str_field(&rec, T_CONSTRAINT, "node.labels.zone==eu");

	/* A duplicate target through an update. */
	begin_update(&e, rid, "web");
	put_grant(&e, "a", NULL, 0444);
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_INVAL);
	assert_string_equal(why, "target 'a' is used twice");
	del_store(s);
}

static void
test_rm_and_secret_in_use(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	uint8_t rid[16];
	const char *why;
	char db[HUSH_ID_LEN + 1];

	secret(s, "db", db);
	secret(s, "free", NULL);
	begin_create(&e, rid, "zeta", NULL);
	put_grant(&e, "db", NULL, 0444);
	assert_int_equal(run(s, &e, rid, NULL), 0);
	begin_create(&e, rid, "alpha", NULL);
	put_grant(&e, "db", NULL, 0444);
	assert_int_equal(run(s, &e, rid, NULL), 0);

	/* All or nothing: "free" stays too. */
	begin(&e, CMD_SECRET_RM, rid);
	wire_put_str(&e, T_REF, "free");
	wire_put_str(&e, T_REF, db);
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_INUSE);
	assert_string_equal(why, "secret 'db' is in use by service(s): alpha, zeta");
	assert_int_equal(s->nsecrets, 2);

	/* Service rm is all or nothing as well. */
	begin(&e, CMD_SERVICE_RM, rid);
	wire_put_str(&e, T_REF, "alpha");
	wire_put_str(&e, T_REF, "nope");
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_NOTFOUND);
	assert_int_equal(s->nservices, 2);
	begin(&e, CMD_SERVICE_RM, rid);
	wire_put_str(&e, T_REF, "alpha");
	wire_put_str(&e, T_REF, "zeta");
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(s->nservices, 0);

	begin(&e, CMD_SECRET_RM, rid);
	wire_put_str(&e, T_REF, "db");
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(s->nsecrets, 1);
	del_store(s);
}

static void
test_secret_update(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	uint8_t rid[16];
	char id[HUSH_ID_LEN + 1];

	secret(s, "db", id);
	begin(&e, CMD_SECRET_UPDATE, rid);
	wire_put_str(&e, T_REF, "db");
	wire_put_bytes(&e, T_DATA, "second-value", 12);
	wire_put_i64(&e, T_UPDATED, 1700000999);
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_string_equal(store_outcome(s, rid)->ids, id);
	assert_int_equal(s->secrets[0].version, 2);
	assert_int_equal(s->secrets[0].updated, 1700000999);
	assert_int_equal(s->secrets[0].data_len, 12);
	{
		uint8_t v[32];
		size_t n = 0;

		assert_int_equal(seal_open(s->memkey, SECRET_PURPOSE, s->secrets[0].sealed,
		    s->secrets[0].sealed_len, v, sizeof(v), &n), 0);
		assert_int_equal(n, 12);
		assert_memory_equal(v, "second-value", 12);
	}

	begin(&e, CMD_SECRET_UPDATE, rid);
	wire_put_str(&e, T_REF, "nope");
	wire_put_bytes(&e, T_DATA, "x", 1);
	wire_put_i64(&e, T_UPDATED, 1700001000);
	assert_int_equal(run(s, &e, rid, NULL), HUSH_E_NOTFOUND);
	del_store(s);
}

static void
test_node_labels(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	uint8_t rid[16];
	const char *why;
	char got[700];
	int n = 0;

	begin(&e, CMD_NODE_UPDATE, rid);
	wire_put_str(&e, T_NODE_ID, node_id);
	wire_put_str(&e, T_LABEL, "zone=eu");
	wire_put_str(&e, T_LABEL, "disk=ssd");
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(s->nodes[0].nlabels, 2);

	/* Replace one, remove the other. */
	begin(&e, CMD_NODE_UPDATE, rid);
	wire_put_str(&e, T_NODE_ID, node_id);
	wire_put_str(&e, T_LABEL_RM, "disk");
	wire_put_str(&e, T_LABEL, "zone=us");
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(s->nodes[0].nlabels, 1);
	assert_string_equal(s->nodes[0].labels[0], "zone=us");

	/* Removing a label that is not there changes nothing. */
	begin(&e, CMD_NODE_UPDATE, rid);
	wire_put_str(&e, T_NODE_ID, node_id);
	wire_put_str(&e, T_LABEL, "x=y");
	wire_put_str(&e, T_LABEL_RM, "disk");
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_NOTFOUND);
	assert_non_null(strstr(why, "no label 'disk'"));
	assert_int_equal(s->nodes[0].nlabels, 1);

	assert_int_equal(query(s, QRY_NODE_GET, node_id), 0);
	assert_int_equal(msg_records_each(&reply, T_NODE, REC_NODE, first_record, &n), 0);
	assert_int_equal(wire_get_str(&rec, T_LABEL, got, sizeof(got)), 0);
	assert_string_equal(got, "zone=us");
	del_store(s);
}

static void
test_snapshot_round_trip(void **state)
{
	struct store *s = new_store(), *t = store_fixture_new();
	struct wire_enc e;
	uint8_t rid[16], *snap, *snap2;
	size_t len, len2;
	uint64_t v;

	secret(s, "a", NULL);
	secret(s, "b", NULL);
	begin_create(&e, rid, "web", NULL);
	put_grant(&e, "a", NULL, 0400);
	put_grant(&e, "b", "/etc/b", 0444);
	wire_put_str(&e, T_CONSTRAINT, "node.labels.zone==eu");
	assert_int_equal(run(s, &e, rid, NULL), 0);
	begin_update(&e, rid, "web");
	wire_put_str(&e, T_SECRET_RM, "b");
	assert_int_equal(run(s, &e, rid, NULL), 0);
	begin(&e, CMD_NODE_UPDATE, rid);
	wire_put_str(&e, T_NODE_ID, node_id);
	wire_put_str(&e, T_LABEL, "zone=eu");
	assert_int_equal(run(s, &e, rid, NULL), 0);

	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	assert_int_equal(store_restore(t, snap, len), 0);
	assert_int_equal(t->nservices, 1);
	assert_int_equal(t->nodes[0].nlabels, 1);
	assert_string_equal(t->nodes[0].labels[0], "zone=eu");
	assert_int_equal(get_service(t, "web"), 1);
	assert_int_equal(wire_get_u64(&rec, T_VERSION, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(wire_count(&rec, T_GRANT), 1);
	assert_str_field(&rec, T_CONSTRAINT, "node.labels.zone==eu");

	/* The same bytes again, and "a" is still refused removal. */
	assert_int_equal(store_snapshot(t, &snap2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(snap2, snap, len);
	free(snap2);
	begin(&e, CMD_SECRET_RM, rid);
	wire_put_str(&e, T_REF, "a");
	assert_int_equal(run(t, &e, rid, NULL), HUSH_E_INUSE);

	/* A version 1 snapshot with a service in it is corrupt. */
	{
		struct wire_enc h;
		const uint8_t *hb;
		size_t hl;

		wire_enc_init(&h, SNAP_HEADER, 0, 64);
		wire_put_u32(&h, T_VERSION, 1);
		assert_int_equal(wire_enc_finish(&h, &hb, &hl), 0);
		assert_int_equal(hl, 12 + 10);
		assert_int_equal(memcmp(snap, hb, hl - 4), 0);	/* same but the number */
		memcpy(snap, hb, hl);
		wire_enc_free(&h);
		assert_int_equal(store_restore(t, snap, len), HUSH_E_CORRUPT);
	}
	free(snap);
	del_store(s);
	del_store(t);
}


static int assignments(struct store *s, const char *id, const uint8_t *digest,
    const char *have);

/* A claim digest of the byte b, and the update that sets it. */
static void
claim_update(struct wire_enc *e, uint8_t rid[16], const char *ref, uint8_t b, bool rotate)
{
	uint8_t d[32];

	memset(d, b, sizeof(d));
	begin_update(e, rid, ref);
	wire_put_bytes(e, T_CLAIM_DIGEST, d, sizeof(d));
	if (rotate)
		wire_put_bool(e, T_ROTATE, true);
}

/* rec's claim digest is 32 bytes of b (0: rec has none). */
static void
assert_claim(uint8_t b)
{
	const struct wire_field *f = wire_find(&rec, T_CLAIM_DIGEST, 0);
	uint8_t want[32];
	int64_t issued;

	if (b == 0) {
		assert_null(f);
		assert_null(wire_find(&rec, T_CLAIM_ISSUED, 0));
		return;
	}
	memset(want, b, sizeof(want));
	assert_non_null(f);
	assert_int_equal(f->len, 32);
	assert_memory_equal(f->val, want, 32);
	assert_int_equal(wire_get_i64(&rec, T_CLAIM_ISSUED, &issued), 0);
	assert_int_equal(issued, 1700000300);
}

/*
 * A service's claim: none at creation, one set by an update, kept against
 * a second one unless rotated, carried by the answers, by a snapshot, and
 * by the assignment a node gets -- the digest only, there is nothing else.
 */
static void
test_claims(void **state)
{
	struct store *s = new_store(), *t = store_fixture_new();
	struct wire_enc e;
	uint8_t rid[16], *snap;
	const char *why;
	uint64_t v;
	size_t len;

	secret(s, "a", NULL);
	begin_create(&e, rid, "web", NULL);
	put_grant(&e, "a", NULL, 0400);
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(get_service(s, "web"), 1);
	assert_claim(0);

	claim_update(&e, rid, "web", 0x11, false);
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(get_service(s, "web"), 1);
	assert_claim(0x11);
	/* a new claim is a change the service's nodes must hear of */
	assert_int_equal(wire_get_u64(&rec, T_VERSION, &v), 0);
	assert_int_equal(v, 2);

	/* a second one without --rotate: refused, the first stays */
	claim_update(&e, rid, "web", 0x22, false);
	assert_int_equal(run(s, &e, rid, &why), HUSH_E_EXISTS);
	assert_non_null(strstr(why, "already has a claim"));
	assert_int_equal(get_service(s, "web"), 1);
	assert_claim(0x11);
	claim_update(&e, rid, "web", 0x22, true);
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(get_service(s, "web"), 1);
	assert_claim(0x22);
	/* rotating the claim of a service that has none is just issuing one */
	begin_create(&e, rid, "api", NULL);
	assert_int_equal(run(s, &e, rid, NULL), 0);
	claim_update(&e, rid, "api", 0x33, true);
	assert_int_equal(run(s, &e, rid, NULL), 0);
	/* a digest of the wrong size never gets past the schema */
	{
		struct wire_enc bad;
		const uint8_t *buf;
		size_t blen;
		char w[256];

		begin_update(&bad, rid, "web");
		wire_put_bytes(&bad, T_CLAIM_DIGEST, "short", 5);
		assert_int_equal(wire_enc_finish(&bad, &buf, &blen), 0);
		assert_int_not_equal(msg_parse(buf, blen, WIRE_MAX_MSG, cmd_types, &cmd, w,
		    sizeof(w)), 0);
		wire_enc_free(&bad);
	}

	/* the assignment a node gets carries the digest */
	assert_int_equal(assignments(s, node_id, NULL, NULL), 0);
	{
		int n = 0;

		assert_int_equal(msg_records_each(&reply, T_SERVICE, REC_SERVICE, first_record,
		    &n), 0);
		assert_true(n >= 1);
	}

	/* through a snapshot */
	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	assert_int_equal(store_restore(t, snap, len), 0);
	free(snap);
	assert_int_equal(get_service(t, "web"), 1);
	assert_claim(0x22);
	del_store(s);
	del_store(t);
}

/* ---- assignments (store_assign.c) ------------------------------------- */


/* QRY_ASSIGNMENTS for node id, parsed into reply; returns its status. */
static int
assignments(struct store *s, const char *id, const uint8_t *digest, const char *have)
{
	struct wire_enc q;

	wire_enc_init(&q, QRY_ASSIGNMENTS, 9, 4096);
	wire_put_str(&q, T_NODE_ID, id);
	if (digest != NULL)
		wire_put_bytes(&q, T_DIGEST, digest, 32);
	if (have != NULL)
		wire_put_str(&q, T_HAVE, have);
	return ask(s, &q);
}

static int
count_record(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *m)
{
	char name[65];

	assert_int_equal(wire_get_str(m, T_NAME, name, sizeof(name)), 0);
	strcat(arg, name);
	strcat(arg, " ");
	return 0;
}

/* The names of the services in the answer, each followed by a space. */
static const char *
placed_names(void)
{
	static char names[1024];

	names[0] = '\0';
	if (wire_find(&reply, T_RECORDS, 0) != NULL)
		assert_int_equal(msg_records_each(&reply, T_SERVICE, REC_SERVICE, count_record,
		    names), 0);
	return names;
}

static void
placed_service(struct store *s, const char *name, const char *secret, const char *constraint)
{
	struct wire_enc e;
	uint8_t rid[16];

	begin_create(&e, rid, name, NULL);
	put_grant(&e, secret, NULL, 0400);
	if (constraint != NULL)
		wire_put_str(&e, T_CONSTRAINT, constraint);
	assert_int_equal(run(s, &e, rid, NULL), 0);
}

static void
test_assignments_placement(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	uint8_t rid[16], d1[32], d2[32];
	const uint8_t *p;
	char sa[HUSH_ID_LEN + 1], other[HUSH_ID_LEN + 1], have[64];
	size_t len;

	secret(s, "sa", sa);
	secret(s, "sb", NULL);
	secret(s, "sc", NULL);
	placed_service(s, "a", "sa", "node.role==manager");
	placed_service(s, "b", "sb", "node.role==worker");
	placed_service(s, "c", "sc", "node.labels.zone==x");

	/* The manager holds a, and only a's value. */
	assert_int_equal(assignments(s, node_id, NULL, NULL), 0);
	assert_string_equal(placed_names(), "a ");
	assert_int_equal(wire_count(&reply, T_SECRET_DATA), 1);
	{
		struct wire_msg v;
		char why[128], id[HUSH_ID_LEN + 1];

		uint8_t value[8];

		p = wire_find(&reply, T_SECRET_DATA, 0)->val;
		len = wire_find(&reply, T_SECRET_DATA, 0)->len;
		assert_int_equal(msg_parse_record(p, len, REC_SECRET_DATA, &v, why, sizeof(why)), 0);
		assert_int_equal(wire_get_str(&v, T_SECRET_ID, id, sizeof(id)), 0);
		assert_string_equal(id, sa);
		/* the value, sealed to the node's key: only its parent opens it */
		assert_int_equal(wire_get_bytes(&v, T_SEALED, &p, &len), 0);
		assert_int_equal(len, 1 + crypto_box_SEALBYTES);
		assert_int_equal(crypto_box_seal_open(value, p, len, seal_pub, seal_sk), 0);
		assert_memory_equal(value, "v", 1);
	}
	assert_int_equal(wire_get_bytes(&reply, T_DIGEST, &p, &len), 0);
	memcpy(d1, p, 32);

	/* Up to date: the digest alone. */
	assert_int_equal(assignments(s, node_id, d1, NULL), 0);
	assert_null(wire_find(&reply, T_RECORDS, 0));
	assert_int_equal(wire_count(&reply, T_SECRET_DATA), 0);

	/* A value the node holds at the current version is not sent again. */
	snprintf(have, sizeof(have), "%s:1", sa);
	assert_int_equal(assignments(s, node_id, NULL, have), 0);
	assert_string_equal(placed_names(), "a ");
	assert_int_equal(wire_count(&reply, T_SECRET_DATA), 0);
	snprintf(have, sizeof(have), "%s:0", sa);
	assert_int_equal(assignments(s, node_id, NULL, have), 0);
	assert_int_equal(wire_count(&reply, T_SECRET_DATA), 1);

	/* A label places c too, and changes the digest. */
	begin(&e, CMD_NODE_UPDATE, rid);
	wire_put_str(&e, T_NODE_ID, node_id);
	wire_put_str(&e, T_LABEL, "zone=x");
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(assignments(s, node_id, d1, NULL), 0);
	assert_string_equal(placed_names(), "a c ");
	assert_int_equal(wire_count(&reply, T_SECRET_DATA), 2);
	assert_int_equal(wire_get_bytes(&reply, T_DIGEST, &p, &len), 0);
	memcpy(d2, p, 32);
	assert_memory_not_equal(d1, d2, 32);

	/* A new version of a granted secret changes the digest too. */
	begin(&e, CMD_SECRET_UPDATE, rid);
	wire_put_str(&e, T_REF, "sa");
	wire_put_bytes(&e, T_DATA, "v2", 2);
	wire_put_i64(&e, T_UPDATED, 1700000400);
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(assignments(s, node_id, d2, NULL), 0);
	assert_non_null(wire_find(&reply, T_RECORDS, 0));

	/* Nodes the store does not know get nothing. */
	assert_int_equal(hush_id_new(other), 0);
	assert_int_equal(assignments(s, other, NULL, NULL), HUSH_E_NOTFOUND);
	del_store(s);
}

/*
 * Sealing keys in the node table: a node that joined with an older hush
 * has none and is sent nothing, saying why; its own key may then be set
 * once, never replaced.
 */
static void
test_seal_keys(void **state)
{
	struct store *s = new_store();
	struct store_node *n;
	struct wire_enc e;
	uint8_t rid[16], other[32];
	char why[256];
	const char *msg;

	secret(s, "sa", NULL);
	placed_service(s, "a", "sa", NULL);
	assert_int_equal(assignments(s, node_id, NULL, NULL), 0);
	/* as a node from before sealing keys */
	assert_non_null(n = store_node_find(s, node_id));
	n->has_seal = false;
	assert_int_equal(assignments(s, node_id, NULL, NULL), HUSH_E_PERM);
	assert_int_equal(msg_reply_status(&reply, why, sizeof(why)), HUSH_E_PERM);
	assert_non_null(strstr(why, "has no sealing key"));
	/* the node records its key: set once */
	begin(&e, CMD_NODE_UPDATE, rid);
	wire_put_str(&e, T_NODE_ID, node_id);
	wire_put_bytes(&e, T_SEAL_PUB, seal_pub, sizeof(seal_pub));
	assert_int_equal(run(s, &e, rid, NULL), 0);
	assert_int_equal(assignments(s, node_id, NULL, NULL), 0);
	memset(other, 0x42, sizeof(other));
	begin(&e, CMD_NODE_UPDATE, rid);
	wire_put_str(&e, T_NODE_ID, node_id);
	wire_put_bytes(&e, T_SEAL_PUB, other, sizeof(other));
	assert_int_equal(run(s, &e, rid, &msg), HUSH_E_EXISTS);
	assert_non_null(strstr(msg, "already has a sealing key"));
	assert_memory_equal(n->seal_pub, seal_pub, sizeof(seal_pub));
	/* a node is added with its key, or not at all */
	{
		struct wire_enc bad;
		const uint8_t *buf;
		size_t len;
		char node2[HUSH_ID_LEN + 1], w[256];

		assert_int_equal(hush_id_new(node2), 0);
		begin(&bad, CMD_NODE_ADD, rid);
		wire_put_str(&bad, T_NODE_ID, node2);
		wire_put_u8(&bad, T_ROLE, ROLE_WORKER);
		wire_put_str(&bad, T_ADVERTISE_ADDR, "192.0.2.2:4477");
		wire_put_i64(&bad, T_CREATED, 1700000400);
		assert_int_equal(wire_enc_finish(&bad, &buf, &len), 0);
		assert_int_not_equal(msg_parse(buf, len, WIRE_MAX_MSG, cmd_types, &cmd, w,
		    sizeof(w)), 0);
		wire_enc_free(&bad);
	}
	del_store(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_query),
		cmocka_unit_test(test_create_refusals),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_rm_and_secret_in_use),
		cmocka_unit_test(test_secret_update),
		cmocka_unit_test(test_node_labels),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_seal_keys),
		cmocka_unit_test(test_assignments_placement),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
