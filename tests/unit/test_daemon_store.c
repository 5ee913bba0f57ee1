/*
 * Unit tests for daemon/raft/store.c, the replicated state machine: every
 * command is built with wire_enc, parsed with msg_parse exactly as the raft
 * log would deliver it, and applied; queries and snapshots are checked
 * through their encoded answers.
 *
 * Setting HUSH_STORE_SEED_DIR writes the snapshots made here into that
 * directory (seeds for tests/fuzz/fuzz_daemon_store.c).
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
#include "id.h"
#include "msg.h"
#include "names.h"
#include "raft/store.h"
#include "seal.h"
#include "store_fixture.h"
#include "wire.h"

#define CA_CERT	"-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"
#define ADDR	"192.0.2.10:2377"
#define EXPIRY	(90ull * 24 * 3600)


static const uint16_t cmd_types[] = {
	CMD_CLUSTER_INIT, CMD_TOKEN_ROTATE, CMD_SECRET_CREATE, CMD_SECRET_RM,
	CMD_CLUSTER_UPDATE, CMD_CA_ROTATE, CMD_CA_ADVANCE, 0
};
static const uint16_t qry_types[] = { QRY_CLUSTER, QRY_SECRET_LIST, QRY_SECRET_GET, 0 };

/* Decoded messages are big: keep them off the stack. */
static struct wire_msg cmd, qry, reply, rec;
/* The records of a list reply (T_RECORDS), as fields: tests stay under 256. */
static struct wire_msg items;
static struct wire_enc page_enc;	/* the last page_query() answer */
static int seed_no;

#define next_req(rid)	store_fixture_req((rid), 0xa5)
#define new_store()	store_fixture_new()
#define del_store(s)	store_fixture_del(s)

/* The value of secret ref, opened from the store's memory, NUL-terminated. */
static size_t
value_of(struct store *s, const char *ref, uint8_t *out, size_t cap)
{
	struct store_secret *x = store_secret_find(s, ref);
	size_t n = 0;

	assert_non_null(x);
	assert_int_equal(seal_open(s->memkey, SECRET_PURPOSE, x->sealed, x->sealed_len, out,
	    cap - 1, &n), 0);
	out[n] = '\0';
	return n;
}


/* Finish, parse as a command, apply.  Returns store_apply's result. */
static int
apply_enc(struct store *s, struct wire_enc *e, unsigned *changed)
{
	const uint8_t *buf;
	size_t len;
	char why[256];
	unsigned dummy;
	int r;

	assert_int_equal(wire_enc_finish(e, &buf, &len), 0);
	r = msg_parse(buf, len, WIRE_MAX_MSG, cmd_types, &cmd, why, sizeof(why));
	if (r != 0)
		fail_msg("command does not parse: %s", why);
	r = store_apply(s, &cmd, changed != NULL ? changed : &dummy);
	wire_enc_free(e);
	return r;
}

static int
outcome_code(struct store *s, const uint8_t rid[16])
{
	const struct store_outcome *o = store_outcome(s, rid);

	assert_non_null(o);
	return o->code;
}

static const char *
outcome_msg(struct store *s, const uint8_t rid[16])
{
	const struct store_outcome *o = store_outcome(s, rid);

	assert_non_null(o);
	return o->errmsg != NULL ? o->errmsg : "";
}

static void
enc_init(struct wire_enc *e, uint8_t rid[16], const uint8_t *kek)
{
	char cid[HUSH_ID_LEN + 1], nid[HUSH_ID_LEN + 1];
	uint8_t w[16], m[16], cakey[100];

	assert_int_equal(hush_id_new(cid), 0);
	assert_int_equal(hush_id_new(nid), 0);
	memset(w, 'w', sizeof(w));
	memset(m, 'm', sizeof(m));
	memset(cakey, 'k', sizeof(cakey));
	next_req(rid);
	wire_enc_init(e, CMD_CLUSTER_INIT, 0, WIRE_MAX_MSG);
	wire_put_bytes(e, T_REQ_ID, rid, 16);
	wire_put_str(e, T_CLUSTER_ID, cid);
	wire_put_str(e, T_CA_CERT, CA_CERT);
	wire_put_bytes(e, T_CA_KEY, cakey, sizeof(cakey));
	wire_put_bytes(e, T_WORKER_SECRET, w, 16);
	wire_put_bytes(e, T_MANAGER_SECRET, m, 16);
	wire_put_u64(e, T_CERT_EXPIRY, EXPIRY);
	if (kek != NULL)
		wire_put_bytes(e, T_KEK, kek, 32);
	wire_put_str(e, T_NODE_ID, nid);
	wire_put_str(e, T_ADVERTISE_ADDR, ADDR);
	wire_put_i64(e, T_CREATED, 1700000000);
}

static void
init_cluster(struct store *s, const uint8_t *kek)
{
	struct wire_enc e;
	uint8_t rid[16];
	unsigned changed = 0;

	enc_init(&e, rid, kek);
	assert_int_equal(apply_enc(s, &e, &changed), 0);
	assert_int_equal(outcome_code(s, rid), 0);
	assert_true(changed & STORE_CHG_CLUSTER);
	assert_true(s->cluster.present);
}

/* CMD_SECRET_CREATE; labels is a NULL-terminated list. */
static void
enc_create(struct wire_enc *e, const uint8_t rid[16], const char *id, const char *name,
    const char *data, const char *const *labels)
{
	wire_enc_init(e, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(e, T_REQ_ID, rid, 16);
	wire_put_str(e, T_SECRET_ID, id);
	wire_put_str(e, T_NAME, name);
	wire_put_bytes(e, T_DATA, data, strlen(data));
	for (; labels != NULL && *labels != NULL; labels++)
		wire_put_str(e, T_LABEL, *labels);
	wire_put_i64(e, T_CREATED, 1700000100);
}

/* Creates a secret; returns its outcome code, the new id in id_out. */
static int
create(struct store *s, const char *name, const char *data, const char *const *labels,
    char id_out[HUSH_ID_LEN + 1], uint8_t rid_out[16])
{
	struct wire_enc e;
	char id[HUSH_ID_LEN + 1];
	uint8_t rid[16];

	assert_int_equal(hush_id_new(id), 0);
	next_req(rid);
	enc_create(&e, rid, id, name, data, labels);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	if (id_out != NULL)
		memcpy(id_out, id, sizeof(id));
	if (rid_out != NULL)
		memcpy(rid_out, rid, 16);
	return outcome_code(s, rid);
}

static int
rm(struct store *s, const char *const *refs, size_t n, uint8_t rid_out[16])
{
	struct wire_enc e;
	uint8_t rid[16];

	next_req(rid);
	wire_enc_init(&e, CMD_SECRET_RM, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	for (size_t i = 0; i < n; i++)
		wire_put_str(&e, T_REF, refs[i]);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	if (rid_out != NULL)
		memcpy(rid_out, rid, 16);
	return outcome_code(s, rid);
}

#define UPD_AUTOLOCK_OFF	0
#define UPD_AUTOLOCK_ON		1
#define UPD_AUTOLOCK_NONE	2

static int
update(struct store *s, int autolock, const uint8_t *kek, uint64_t expiry, unsigned *changed,
    uint8_t rid_out[16])
{
	struct wire_enc e;
	uint8_t rid[16];

	next_req(rid);
	wire_enc_init(&e, CMD_CLUSTER_UPDATE, 0, 256);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	if (autolock != UPD_AUTOLOCK_NONE)
		wire_put_bool(&e, T_AUTOLOCK, autolock == UPD_AUTOLOCK_ON);
	if (kek != NULL)
		wire_put_bytes(&e, T_KEK, kek, 32);
	if (expiry != 0)
		wire_put_u64(&e, T_CERT_EXPIRY, expiry);
	assert_int_equal(apply_enc(s, &e, changed), 0);
	if (rid_out != NULL)
		memcpy(rid_out, rid, 16);
	return outcome_code(s, rid);
}

static int
rotate(struct store *s, const uint8_t *w, const uint8_t *m, uint8_t rid_out[16])
{
	struct wire_enc e;
	uint8_t rid[16];

	next_req(rid);
	wire_enc_init(&e, CMD_TOKEN_ROTATE, 0, 256);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	if (w != NULL)
		wire_put_bytes(&e, T_WORKER_SECRET, w, 16);
	if (m != NULL)
		wire_put_bytes(&e, T_MANAGER_SECRET, m, 16);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	if (rid_out != NULL)
		memcpy(rid_out, rid, 16);
	return outcome_code(s, rid);
}

/*
 * Runs a query; the encoded reply stays in *out (caller frees) and is
 * parsed into `reply`.  Returns store_query's result.
 */
static int
query(struct store *s, uint16_t type, const char *const *refs, size_t n, struct wire_enc *out)
{
	struct wire_enc q;
	const uint8_t *buf;
	size_t len;
	uint16_t allowed[3] = { (uint16_t)(type | MSG_REPLY), MSG_ERROR, 0 };
	char why[256];
	int r;

	wire_enc_init(&q, type, 77, 4096);
	for (size_t i = 0; i < n; i++)
		wire_put_str(&q, T_REF, refs[i]);
	assert_int_equal(wire_enc_finish(&q, &buf, &len), 0);
	if (msg_parse(buf, len, WIRE_MAX_MSG, qry_types, &qry, why, sizeof(why)) != 0)
		fail_msg("query does not parse: %s", why);
	r = store_query(s, &qry, out);
	wire_enc_free(&q);
	if (r != 0) {
		wire_enc_free(out);
		return r;
	}
	assert_int_equal(wire_enc_finish(out, &buf, &len), 0);
	if (msg_parse(buf, len, WIRE_MAX_MSG, allowed, &reply, why, sizeof(why)) != 0)
		fail_msg("reply does not parse: %s", why);
	assert_int_equal(reply.hdr.request_id, 77);
	memset(&items, 0, sizeof(items));
	{
		const uint8_t *list;
		size_t llen;

		if (wire_get_bytes(&reply, T_RECORDS, &list, &llen) == 0)
			assert_int_equal(wire_decode_fields(list, llen, &items), 0);
	}
	return 0;
}

/* The status of a query's reply: 0 or the MSG_ERROR code, detail in d. */
static int
query_status(struct store *s, uint16_t type, const char *const *refs, size_t n,
    char *d, size_t dlen)
{
	struct wire_enc e;
	int r;

	assert_int_equal(query(s, type, refs, n, &e), 0);
	r = msg_reply_status(&reply, d, dlen);
	wire_enc_free(&e);
	return r;
}

static void
write_seed(const uint8_t *buf, size_t len)
{
	const char *dir = getenv("HUSH_STORE_SEED_DIR");
	char path[4096];
	FILE *f;

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/snapshot-%02d", dir, seed_no++);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
test_before_init(void **state)
{
	struct store *s = new_store();
	uint8_t rid[16], kek[32];
	const char *refs[1] = { "x" };
	char d[256];
	unsigned changed = 1;

	assert_int_equal(create(s, "early", "v", NULL, NULL, rid), HUSH_E_NOTINIT);
	assert_int_equal(s->nsecrets, 0);
	assert_int_equal(rm(s, refs, 1, NULL), HUSH_E_NOTINIT);
	memset(kek, 1, sizeof(kek));
	assert_int_equal(update(s, UPD_AUTOLOCK_ON, kek, 0, &changed, NULL), HUSH_E_NOTINIT);
	assert_int_equal(changed, 0);
	assert_int_equal(rotate(s, kek, NULL, NULL), HUSH_E_NOTINIT);
	assert_int_equal(query_status(s, QRY_CLUSTER, NULL, 0, d, sizeof(d)), HUSH_E_NOTINIT);
	assert_int_equal(query_status(s, QRY_SECRET_LIST, NULL, 0, d, sizeof(d)), 0);
	assert_int_equal(wire_count(&items, T_SECRET), 0);
	/* The early create is remembered: after init, its retry is still refused. */
	init_cluster(s, NULL);
	{
		struct wire_enc e;
		char id[HUSH_ID_LEN + 1];

		assert_int_equal(hush_id_new(id), 0);
		enc_create(&e, rid, id, "early", "v", NULL);
		assert_int_equal(apply_enc(s, &e, NULL), 0);
		assert_int_equal(s->nsecrets, 0);
		assert_int_equal(outcome_code(s, rid), HUSH_E_NOTINIT);
	}
	del_store(s);
}

static void
test_init_twice(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	uint8_t rid[16];
	unsigned changed = 1;

	init_cluster(s, NULL);
	enc_init(&e, rid, NULL);
	assert_int_equal(apply_enc(s, &e, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(outcome_code(s, rid), HUSH_E_ALREADYINIT);
	assert_non_null(strstr(outcome_msg(s, rid), "already"));
	del_store(s);
}

/* Parses the records of a list/get reply in `reply`. */
static void
check_record(size_t i, const char *id, const char *name, size_t data_len,
    const char *const *labels)
{
	const struct wire_field *f = wire_find(&items, T_SECRET, i);
	char why[256], s[700];
	uint32_t u;
	int64_t c, up;
	size_t n = 0;

	assert_non_null(f);
	if (msg_parse_record(f->val, f->len, REC_SECRET, &rec, why, sizeof(why)) != 0)
		fail_msg("record: %s", why);
	assert_int_equal(wire_get_str(&rec, T_SECRET_ID, s, sizeof(s)), 0);
	if (id != NULL)
		assert_string_equal(s, id);
	assert_int_equal(wire_get_str(&rec, T_NAME, s, sizeof(s)), 0);
	assert_string_equal(s, name);
	assert_int_equal(wire_get_u32(&rec, T_DATA_LEN, &u), 0);
	assert_int_equal(u, data_len);
	assert_int_equal(wire_get_u32(&rec, T_VERSION, &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(wire_get_i64(&rec, T_CREATED, &c), 0);
	assert_int_equal(wire_get_i64(&rec, T_UPDATED, &up), 0);
	assert_true(c == 1700000100 && up == c);
	for (; labels != NULL && labels[n] != NULL; n++) {
		assert_int_equal(wire_field_str(wire_find(&rec, T_LABEL, n), s, sizeof(s)), 0);
		assert_string_equal(s, labels[n]);
	}
	assert_int_equal(wire_count(&rec, T_LABEL), n);
}

static const char *const labels_a[] = { "env=prod", "team=db", NULL };
static const char *const labels_b[] = { "tier=", NULL };
static const char *const labels_c[] = { "a.b/c-d_e=some value with spaces", "x=1", "y=2", NULL };

static void
test_create_list_get(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	char ida[HUSH_ID_LEN + 1], idb[HUSH_ID_LEN + 1], idc[HUSH_ID_LEN + 1], d[256];
	uint8_t rid[16];
	const struct store_outcome *o;
	const char *refs[3];

	init_cluster(s, NULL);
	assert_int_equal(create(s, "alpha", "value-a", labels_a, ida, rid), 0);
	o = store_outcome(s, rid);
	assert_non_null(o->ids);
	assert_string_equal(o->ids, ida);
	assert_null(o->errmsg);
	assert_int_equal(create(s, "beta", "bb", labels_b, idb, NULL), 0);
	assert_int_equal(create(s, "gamma.1", "c", labels_c, idc, NULL), 0);
	assert_int_equal(s->nsecrets, 3);

	assert_int_equal(query(s, QRY_SECRET_LIST, NULL, 0, &e), 0);
	assert_int_equal(reply.hdr.type, QRY_SECRET_LIST | MSG_REPLY);
	assert_int_equal(wire_count(&items, T_SECRET), 3);
	/* A list goes in id order (store_page.c), whatever the order of creation. */
	{
		const char *ids[3] = { ida, idb, idc }, *names[3] = { "alpha", "beta", "gamma.1" };
		const char *const *lbl[3] = { labels_a, labels_b, labels_c };
		size_t lens[3] = { 7, 2, 1 }, order[3] = { 0, 1, 2 }, t;

		for (size_t i = 0; i < 3; i++)
			for (size_t j = i + 1; j < 3; j++)
				if (strcmp(ids[order[j]], ids[order[i]]) < 0) {
					t = order[i];
					order[i] = order[j];
					order[j] = t;
				}
		for (size_t i = 0; i < 3; i++)
			check_record(i, ids[order[i]], names[order[i]], lens[order[i]],
			    lbl[order[i]]);
	}
	wire_enc_free(&e);

	/* Get by name and by id, in the order asked. */
	refs[0] = idc;
	refs[1] = "alpha";
	assert_int_equal(query(s, QRY_SECRET_GET, refs, 2, &e), 0);
	assert_int_equal(reply.hdr.type, QRY_SECRET_GET | MSG_REPLY);
	assert_int_equal(wire_count(&items, T_SECRET), 2);
	check_record(0, idc, "gamma.1", 1, labels_c);
	check_record(1, ida, "alpha", 7, labels_a);
	wire_enc_free(&e);

	/* One unknown ref: the whole answer is an error naming it. */
	refs[0] = "beta";
	refs[1] = "nosuch";
	assert_int_equal(query_status(s, QRY_SECRET_GET, refs, 2, d, sizeof(d)),
	    HUSH_E_NOTFOUND);
	assert_non_null(strstr(d, "nosuch"));
	del_store(s);
}

static void
test_create_refusals(void **state)
{
	static const char *const dup_label[] = { "k=1", "k=2", NULL };
	static const char *const bad_label[] = { "=v", NULL };
	struct store *s = new_store();
	struct wire_enc e;
	char id[HUSH_ID_LEN + 1];
	uint8_t rid[16];

	init_cluster(s, NULL);
	assert_int_equal(create(s, "db", "v", NULL, id, NULL), 0);
	/* Duplicate name. */
	assert_int_equal(create(s, "db", "w", NULL, NULL, rid), HUSH_E_EXISTS);
	assert_non_null(strstr(outcome_msg(s, rid), "'db'"));
	assert_null(store_outcome(s, rid)->ids);
	/* Duplicate id. */
	next_req(rid);
	enc_create(&e, rid, id, "other", "v", NULL);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	assert_int_equal(outcome_code(s, rid), HUSH_E_EXISTS);
	/* A name that is another secret's id. */
	assert_int_equal(create(s, id, "v", NULL, NULL, rid), HUSH_E_EXISTS);
	/* Bad names, labels and ids are recorded as INVAL, nothing added. */
	assert_int_equal(create(s, "-bad", "v", NULL, NULL, rid), HUSH_E_INVAL);
	assert_true(strlen(outcome_msg(s, rid)) > 0);
	assert_int_equal(create(s, "has space", "v", NULL, NULL, NULL), HUSH_E_INVAL);
	assert_int_equal(create(s, "lbl", "v", dup_label, NULL, rid), HUSH_E_INVAL);
	assert_non_null(strstr(outcome_msg(s, rid), "twice"));
	assert_int_equal(create(s, "lbl", "v", bad_label, NULL, NULL), HUSH_E_INVAL);
	next_req(rid);
	enc_create(&e, rid, "ZZZZZZZZZZZZZZZZZZZZZZZZZ", "idcase", "v", NULL);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	assert_int_equal(outcome_code(s, rid), HUSH_E_INVAL);
	next_req(rid);
	enc_create(&e, rid, "zzzzzzzzzzzzzzzzzzzzzzzzz", "overflow", "v", NULL);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	assert_int_equal(outcome_code(s, rid), HUSH_E_INVAL);
	assert_int_equal(s->nsecrets, 1);
	/* A name can be reused once the refused attempts are done. */
	assert_int_equal(create(s, "lbl", "v", labels_a, NULL, NULL), 0);
	assert_int_equal(s->nsecrets, 2);
	del_store(s);
}

static void
test_same_req_id_once(void **state)
{
	struct store *s = new_store();
	struct wire_enc e;
	char id[HUSH_ID_LEN + 1], id2[HUSH_ID_LEN + 1];
	uint8_t rid[16];
	const struct store_outcome *o;

	init_cluster(s, NULL);
	assert_int_equal(create(s, "once", "v", NULL, id, rid), 0);
	/* The same command again. */
	enc_create(&e, rid, id, "once", "v", NULL);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	/* And a different command under the same request id. */
	assert_int_equal(hush_id_new(id2), 0);
	enc_create(&e, rid, id2, "twice", "v", NULL);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	wire_enc_init(&e, CMD_SECRET_RM, 0, 256);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_REF, "once");
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	assert_int_equal(s->nsecrets, 1);
	assert_string_equal(s->secrets[0].name, "once");
	o = store_outcome(s, rid);
	assert_int_equal(o->code, 0);
	assert_string_equal(o->ids, id);
	assert_int_equal(s->dedup_count, 2);	/* init + create */
	del_store(s);
}

static void
test_rm(void **state)
{
	struct store *s = new_store();
	char ida[HUSH_ID_LEN + 1], idb[HUSH_ID_LEN + 1], idc[HUSH_ID_LEN + 1], want[64];
	const char *refs[3];
	uint8_t rid[16];
	struct wire_enc e;

	init_cluster(s, NULL);
	assert_int_equal(create(s, "a", "1", NULL, ida, NULL), 0);
	assert_int_equal(create(s, "b", "2", NULL, idb, NULL), 0);
	assert_int_equal(create(s, "c", "3", NULL, idc, NULL), 0);

	/* One unknown ref: nothing is removed and the ref is named. */
	refs[0] = "a";
	refs[1] = "missing-one";
	refs[2] = idc;
	assert_int_equal(rm(s, refs, 3, rid), HUSH_E_NOTFOUND);
	assert_non_null(strstr(outcome_msg(s, rid), "'missing-one'"));
	assert_null(store_outcome(s, rid)->ids);
	assert_int_equal(s->nsecrets, 3);

	/* Two, one by name and one by id. */
	refs[0] = idc;
	refs[1] = "a";
	assert_int_equal(rm(s, refs, 2, rid), 0);
	assert_int_equal(s->nsecrets, 1);
	assert_string_equal(s->secrets[0].name, "b");
	/* Ids in the order the request named them. */
	snprintf(want, sizeof(want), "%s %s", idc, ida);
	assert_string_equal(store_outcome(s, rid)->ids, want);
	assert_int_equal(query(s, QRY_SECRET_LIST, NULL, 0, &e), 0);
	assert_int_equal(wire_count(&items, T_SECRET), 1);
	check_record(0, idb, "b", 1, NULL);
	wire_enc_free(&e);

	/* The same secret twice in one command. */
	refs[0] = "b";
	refs[1] = idb;
	assert_int_equal(rm(s, refs, 2, rid), 0);
	assert_string_equal(store_outcome(s, rid)->ids, idb);
	assert_int_equal(s->nsecrets, 0);
	/* Now gone. */
	assert_int_equal(rm(s, refs, 1, NULL), HUSH_E_NOTFOUND);
	del_store(s);
}

/* The KEK and expiry as QRY_CLUSTER reports them. */
static void
cluster_view(struct store *s, bool *autolock, uint8_t kek[32], bool *has_kek,
    uint64_t *expiry)
{
	struct wire_enc e;
	const uint8_t *p;
	size_t len;

	assert_int_equal(query(s, QRY_CLUSTER, NULL, 0, &e), 0);
	assert_int_equal(reply.hdr.type, QRY_CLUSTER | MSG_REPLY);
	assert_int_equal(wire_get_bool(&reply, T_AUTOLOCK, autolock), 0);
	assert_int_equal(wire_get_u64(&reply, T_CERT_EXPIRY, expiry), 0);
	*has_kek = wire_get_bytes(&reply, T_KEK, &p, &len) == 0;
	if (*has_kek) {
		assert_int_equal(len, 32);
		memcpy(kek, p, 32);
	}
	wire_enc_free(&e);
}

static void
test_cluster_update(void **state)
{
	struct store *s = new_store();
	uint8_t k1[32], k2[32], got[32], rid[16];
	bool autolock, has_kek;
	unsigned changed;
	uint64_t expiry;

	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x22, sizeof(k2));
	init_cluster(s, NULL);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_false(autolock);
	assert_false(has_kek);
	assert_int_equal(expiry, EXPIRY);

	/* Rotating a key while autolock is off. */
	changed = 1;
	assert_int_equal(update(s, UPD_AUTOLOCK_NONE, k1, 0, &changed, NULL), HUSH_E_NOTLOCKED);
	assert_int_equal(changed, 0);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_false(autolock);
	assert_false(has_kek);

	/* Enabling needs a key; disabling must not get one. */
	assert_int_equal(update(s, UPD_AUTOLOCK_ON, NULL, 0, &changed, NULL), HUSH_E_INVAL);
	assert_int_equal(update(s, UPD_AUTOLOCK_OFF, k1, 0, &changed, rid), HUSH_E_INVAL);
	assert_true(strlen(outcome_msg(s, rid)) > 0);

	/* On, with a key. */
	assert_int_equal(update(s, UPD_AUTOLOCK_ON, k1, 0, &changed, NULL), 0);
	assert_true(changed & STORE_CHG_CLUSTER);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_true(autolock);
	assert_true(has_kek);
	assert_memory_equal(got, k1, 32);

	/* Rotation while on. */
	assert_int_equal(update(s, UPD_AUTOLOCK_NONE, k2, 0, &changed, NULL), 0);
	assert_true(changed & STORE_CHG_CLUSTER);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_true(autolock);
	assert_memory_equal(got, k2, 32);

	/* Off. */
	assert_int_equal(update(s, UPD_AUTOLOCK_OFF, NULL, 0, &changed, NULL), 0);
	assert_true(changed & STORE_CHG_CLUSTER);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_false(autolock);
	assert_false(has_kek);
	assert_int_equal(s->cluster.kek.len, 0);

	/* And rotation is refused again. */
	assert_int_equal(update(s, UPD_AUTOLOCK_NONE, k2, 0, &changed, NULL), HUSH_E_NOTLOCKED);

	/* Certificate expiry bounds. */
	assert_int_equal(update(s, UPD_AUTOLOCK_NONE, NULL, 3599, &changed, rid), HUSH_E_RANGE);
	assert_non_null(strstr(outcome_msg(s, rid), "1h"));
	assert_int_equal(changed, 0);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_int_equal(expiry, EXPIRY);
	assert_int_equal(update(s, UPD_AUTOLOCK_NONE, NULL, 3600, &changed, NULL), 0);
	assert_true(changed & STORE_CHG_CLUSTER);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_int_equal(expiry, 3600);
	assert_int_equal(update(s, UPD_AUTOLOCK_NONE, NULL, UINT64_MAX, &changed, NULL), 0);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_true(expiry == UINT64_MAX);
	del_store(s);
}

/*
 * Regression (once a bug in daemon/raft/store.c, apply_cluster_update): the new certificate
 * expiry is stored before the autolock/KEK checks run, so a command that is
 * refused (and recorded as refused, with cluster_changed false) still
 * changes the expiry.
 */
static void
test_refused_update_changes_nothing(void **state)
{
	struct store *s = new_store();
	uint8_t k1[32], got[32];
	bool autolock, has_kek;
	unsigned changed;
	uint64_t expiry;

	memset(k1, 0x11, sizeof(k1));
	init_cluster(s, NULL);
	/* autolock=true without a key, plus a new expiry. */
	assert_int_equal(update(s, UPD_AUTOLOCK_ON, NULL, 7200, &changed, NULL), HUSH_E_INVAL);
	assert_int_equal(changed, 0);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_int_equal(expiry, EXPIRY);
	/* A key rotation while unlocked, plus a new expiry. */
	assert_int_equal(update(s, UPD_AUTOLOCK_NONE, k1, 9000, &changed, NULL),
	    HUSH_E_NOTLOCKED);
	cluster_view(s, &autolock, got, &has_kek, &expiry);
	assert_int_equal(expiry, EXPIRY);
	del_store(s);
}

static void
test_token_rotate(void **state)
{
	struct store *s = new_store();
	uint8_t w[16], m[16];
	struct wire_enc e;
	const uint8_t *p;
	size_t len;

	init_cluster(s, NULL);
	memset(w, 0x77, sizeof(w));
	memset(m, 0x88, sizeof(m));
	assert_int_equal(rotate(s, w, NULL, NULL), 0);
	assert_int_equal(query(s, QRY_CLUSTER, NULL, 0, &e), 0);
	assert_int_equal(wire_get_bytes(&reply, T_WORKER_SECRET, &p, &len), 0);
	assert_memory_equal(p, w, 16);
	assert_int_equal(wire_get_bytes(&reply, T_MANAGER_SECRET, &p, &len), 0);
	assert_int_equal(p[0], 'm');
	wire_enc_free(&e);
	assert_int_equal(rotate(s, NULL, m, NULL), 0);
	assert_int_equal(query(s, QRY_CLUSTER, NULL, 0, &e), 0);
	assert_int_equal(wire_get_bytes(&reply, T_WORKER_SECRET, &p, &len), 0);
	assert_memory_equal(p, w, 16);
	assert_int_equal(wire_get_bytes(&reply, T_MANAGER_SECRET, &p, &len), 0);
	assert_memory_equal(p, m, 16);
	wire_enc_free(&e);
	del_store(s);
}

/* A command type the store does not know is recorded as a protocol error. */
static void
test_unknown_command(void **state)
{
	static const uint16_t other[] = { CTL_UNLOCK_KEY, 0 };
	struct store *s = new_store();
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;
	uint8_t rid[16];
	char why[256];
	unsigned changed = 1;

	next_req(rid);
	wire_enc_init(&e, CTL_UNLOCK_KEY, 0, 256);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_bool(&e, T_ROTATE, false);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	assert_int_equal(msg_parse(buf, len, 256, other, &cmd, why, sizeof(why)), 0);
	assert_int_equal(store_apply(s, &cmd, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(outcome_code(s, rid), HUSH_E_PROTO);
	wire_enc_free(&e);
	del_store(s);
}

/* Encoded records of a list reply, sorted. */
struct recs {
	size_t	 n;
	uint8_t	*p[64];
	size_t	 len[64];
};

static void
collect_list(struct store *s, struct recs *r)
{
	struct wire_enc e;

	memset(r, 0, sizeof(*r));
	assert_int_equal(query(s, QRY_SECRET_LIST, NULL, 0, &e), 0);
	r->n = wire_count(&items, T_SECRET);
	assert_true(r->n <= 64);
	for (size_t i = 0; i < r->n; i++) {
		const struct wire_field *f = wire_find(&items, T_SECRET, i);

		r->p[i] = malloc(f->len);
		assert_non_null(r->p[i]);
		memcpy(r->p[i], f->val, f->len);
		r->len[i] = f->len;
	}
	wire_enc_free(&e);
	/* Insertion sort by (length, bytes). */
	for (size_t i = 1; i < r->n; i++) {
		for (size_t j = i; j > 0; j--) {
			int c = r->len[j - 1] != r->len[j] ?
			    (r->len[j - 1] < r->len[j] ? -1 : 1) :
			    memcmp(r->p[j - 1], r->p[j], r->len[j]);
			uint8_t *tp;
			size_t tl;

			if (c <= 0)
				break;
			tp = r->p[j]; r->p[j] = r->p[j - 1]; r->p[j - 1] = tp;
			tl = r->len[j]; r->len[j] = r->len[j - 1]; r->len[j - 1] = tl;
		}
	}
}

static void
recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->p[i]);
}

/* The QRY_CLUSTER reply bytes (or the error reply). */
static uint8_t *
cluster_bytes(struct store *s, size_t *lenp)
{
	struct wire_enc e;
	const uint8_t *buf;
	uint8_t *out;

	assert_int_equal(query(s, QRY_CLUSTER, NULL, 0, &e), 0);
	assert_int_equal(wire_enc_finish(&e, &buf, lenp), 0);
	out = malloc(*lenp);
	assert_non_null(out);
	memcpy(out, buf, *lenp);
	wire_enc_free(&e);
	return out;
}

static void
assert_same_answers(struct store *a, struct store *b)
{
	struct recs ra, rb;
	uint8_t *ca, *cb;
	size_t la, lb;

	collect_list(a, &ra);
	collect_list(b, &rb);
	assert_int_equal(ra.n, rb.n);
	for (size_t i = 0; i < ra.n; i++) {
		assert_int_equal(ra.len[i], rb.len[i]);
		assert_memory_equal(ra.p[i], rb.p[i], ra.len[i]);
	}
	recs_free(&ra);
	recs_free(&rb);
	ca = cluster_bytes(a, &la);
	cb = cluster_bytes(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ca, cb, la);
	free(ca);
	free(cb);
}

static void
snap_free(uint8_t *p, size_t len)
{
	sodium_memzero(p, len);
	free(p);
}

/* ---- CA rotation (store_ca.c) ---- */

#define NEXT_CERT "-----BEGIN CERTIFICATE-----\nnext root\n-----END CERTIFICATE-----\n"
#define OTHER_CERT "-----BEGIN CERTIFICATE-----\nother root\n-----END CERTIFICATE-----\n"

static int
ca_rotate(struct store *s, const char *next, uint8_t digest_fill, bool with_key, bool cross,
    uint8_t rid[16])
{
	struct wire_enc e;
	uint8_t d[32], key[64];

	memset(d, digest_fill, sizeof(d));
	memset(key, 'K', sizeof(key));
	next_req(rid);
	wire_enc_init(&e, CMD_CA_ROTATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_bytes(&e, T_DIGEST, d, sizeof(d));
	wire_put_str(&e, T_CA_NEXT, next);
	if (with_key)
		wire_put_bytes(&e, T_CA_NEXT_KEY, key, sizeof(key));
	if (cross)
		wire_put_str(&e, T_CA_CROSS, "cross-signed");
	wire_put_i64(&e, T_CREATED, 1700000100);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	return outcome_code(s, rid);
}

static int
ca_advance(struct store *s, uint8_t digest_fill, uint8_t phase, bool secrets, unsigned *changed)
{
	struct wire_enc e;
	uint8_t d[32], w[16], m[16], rid[16];

	memset(d, digest_fill, sizeof(d));
	memset(w, 'W', sizeof(w));
	memset(m, 'M', sizeof(m));
	next_req(rid);
	wire_enc_init(&e, CMD_CA_ADVANCE, 0, 1024);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_bytes(&e, T_DIGEST, d, sizeof(d));
	wire_put_u8(&e, T_CA_PHASE, phase);
	if (secrets) {
		wire_put_bytes(&e, T_WORKER_SECRET, w, 16);
		wire_put_bytes(&e, T_MANAGER_SECRET, m, 16);
	}
	assert_int_equal(apply_enc(s, &e, changed), 0);
	return outcome_code(s, rid);
}

/* The rotation's phase and next root as QRY_CLUSTER answers them. */
static uint8_t
ca_phase_of(struct store *s, char *next, size_t cap)
{
	struct wire_enc e;
	uint8_t phase = CA_PHASE_NONE;

	next[0] = '\0';
	assert_int_equal(query(s, QRY_CLUSTER, NULL, 0, &e), 0);
	(void)wire_get_u8(&reply, T_CA_PHASE, &phase);
	(void)wire_get_str(&reply, T_CA_NEXT, next, cap);
	wire_enc_free(&e);
	return phase;
}

static void
test_ca_rotation(void **state)
{
	struct store *s = new_store(), *t = new_store();
	uint8_t rid[16], *snap;
	size_t len;
	char next[256];
	unsigned changed = 0;

	/* Before a cluster exists there is nothing to rotate. */
	assert_int_equal(ca_rotate(s, NEXT_CERT, 1, true, true, rid), HUSH_E_NOTINIT);
	init_cluster(s, NULL);
	/* A next root without a key must name an external CA. */
	assert_int_equal(ca_rotate(s, NEXT_CERT, 1, false, false, rid), HUSH_E_INVAL);
	assert_int_equal(ca_phase_of(s, next, sizeof(next)), CA_PHASE_NONE);

	assert_int_equal(ca_rotate(s, OTHER_CERT, 2, true, true, rid), 0);
	assert_int_equal(ca_phase_of(s, next, sizeof(next)), CA_PHASE_TRUST);
	assert_string_equal(next, OTHER_CERT);
	/* A second rotation replaces the first. */
	assert_int_equal(ca_rotate(s, NEXT_CERT, 1, true, true, rid), 0);
	assert_int_equal(ca_phase_of(s, next, sizeof(next)), CA_PHASE_TRUST);
	assert_string_equal(next, NEXT_CERT);
	/* An advance for the replaced rotation changes nothing. */
	assert_int_equal(ca_advance(s, 2, CA_PHASE_RENEW, false, NULL), HUSH_E_NOTFOUND);
	/* Nor may it skip the renewals, or go back. */
	assert_int_equal(ca_advance(s, 1, CA_PHASE_NONE, true, NULL), HUSH_E_INVAL);
	assert_int_equal(ca_advance(s, 1, CA_PHASE_TRUST, false, NULL), HUSH_E_INVAL);
	assert_int_equal(ca_phase_of(s, next, sizeof(next)), CA_PHASE_TRUST);

	assert_int_equal(ca_advance(s, 1, CA_PHASE_RENEW, false, &changed), 0);
	assert_true(changed & STORE_CHG_CLUSTER);
	assert_int_equal(ca_phase_of(s, next, sizeof(next)), CA_PHASE_RENEW);
	assert_int_equal(ca_advance(s, 1, CA_PHASE_RENEW, false, NULL), HUSH_E_INVAL);

	/* The rotation survives a snapshot, and digests the same. */
	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	assert_int_equal(store_restore(t, snap, len), 0);
	snap_free(snap, len);
	assert_int_equal(ca_phase_of(t, next, sizeof(next)), CA_PHASE_RENEW);
	assert_same_answers(s, t);

	/* Finishing needs the new tokens, then makes the next root current. */
	assert_int_equal(ca_advance(s, 1, CA_PHASE_NONE, false, NULL), HUSH_E_PROTO);
	assert_int_equal(ca_advance(s, 1, CA_PHASE_NONE, true, NULL), 0);
	assert_int_equal(ca_phase_of(s, next, sizeof(next)), CA_PHASE_NONE);
	assert_string_equal(s->cluster.ca_cert, NEXT_CERT);
	assert_int_equal(s->cluster.ca_key.len, 64);
	assert_int_equal(s->cluster.ca_key.p[0], 'K');
	assert_int_equal(s->cluster.tokens.p[0], 'W');
	assert_int_equal(s->cluster.tokens.p[16], 'M');
	assert_null(s->cluster.rotation.next_cert);
	/* ...once: the same advance again finds no rotation. */
	assert_int_equal(ca_advance(s, 1, CA_PHASE_NONE, true, NULL), HUSH_E_NOTFOUND);
	del_store(s);
	del_store(t);
}

static void
test_snapshot_restore(void **state)
{
	static const char *const gone[] = { "gone", NULL };
	struct store *s = new_store(), *t = new_store();
	uint8_t kek[32], rid_gone[16], rid_fail[16], rid_dup[16];
	uint8_t *snap, *snap2;
	size_t len, len2;
	char id_gone[HUSH_ID_LEN + 1];
	struct wire_enc e;

	/* Empty store: header only, restores to empty. */
	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	write_seed(snap, len);
	assert_int_equal(store_restore(t, snap, len), 0);
	assert_false(t->cluster.present);
	assert_int_equal(t->nsecrets, 0);
	snap_free(snap, len);

	memset(kek, 0x5a, sizeof(kek));
	init_cluster(s, kek);
	assert_int_equal(create(s, "alpha", "value-a", labels_a, NULL, NULL), 0);
	assert_int_equal(create(s, "beta", "bb", labels_b, NULL, NULL), 0);
	assert_int_equal(create(s, "gone", "x", NULL, id_gone, rid_gone), 0);
	assert_int_equal(create(s, "gamma", "ccc", labels_c, NULL, NULL), 0);
	assert_int_equal(create(s, "alpha", "dup", NULL, NULL, rid_dup), HUSH_E_EXISTS);
	assert_int_equal(rm(s, gone, 1, NULL), 0);
	assert_int_equal(rm(s, gone, 1, rid_fail), HUSH_E_NOTFOUND);

	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	write_seed(snap, len);
	assert_int_equal(store_restore(t, snap, len), 0);
	assert_int_equal(t->nsecrets, 3);
	assert_int_equal(t->dedup_count, s->dedup_count);
	assert_same_answers(s, t);

	/* Snapshots are plaintext: the restored store writes the same bytes. */
	assert_int_equal(store_snapshot(t, &snap2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(snap2, snap, len);
	snap_free(snap2, len2);

	/* The outcomes survived, with their messages and ids. */
	assert_int_equal(outcome_code(t, rid_gone), 0);
	assert_string_equal(store_outcome(t, rid_gone)->ids, id_gone);
	assert_int_equal(outcome_code(t, rid_dup), HUSH_E_EXISTS);
	assert_string_equal(outcome_msg(t, rid_dup), outcome_msg(s, rid_dup));
	assert_int_equal(outcome_code(t, rid_fail), HUSH_E_NOTFOUND);
	assert_non_null(strstr(outcome_msg(t, rid_fail), "'gone'"));

	/* Replaying the old create of "gone" changes nothing after restore. */
	enc_create(&e, rid_gone, id_gone, "gone", "x", NULL);
	assert_int_equal(apply_enc(t, &e, NULL), 0);
	assert_int_equal(t->nsecrets, 3);
	assert_same_answers(s, t);

	/* Restoring over a populated store replaces its contents. */
	assert_int_equal(create(t, "extra", "e", NULL, NULL, NULL), 0);
	assert_int_equal(store_restore(t, snap, len), 0);
	assert_int_equal(t->nsecrets, 3);
	assert_same_answers(s, t);

	/* The restored secret values are intact. */
	assert_int_equal(store_snapshot(t, &snap2, &len2), 0);
	/* Values travel sealed, never in clear, even inside the sealed snapshot. */
	assert_null(memmem(snap2, len2, "value-a", 7));
	{
		uint8_t v[64];

		assert_int_equal(value_of(t, "alpha", v, sizeof(v)), 7);
		assert_string_equal((char *)v, "value-a");
	}
	assert_memory_equal(snap2, snap, len);
	snap_free(snap2, len2);

	snap_free(snap, len);
	del_store(s);
	del_store(t);
}

/* A larger snapshot with a secret of the maximum size. */
static void
test_snapshot_big_secret(void **state)
{
	struct store *s = new_store(), *t = new_store();
	struct wire_enc e;
	char id[HUSH_ID_LEN + 1];
	uint8_t rid[16], *data, *snap;
	size_t len;

	init_cluster(s, NULL);
	data = malloc(HUSH_SECRET_MAX);
	assert_non_null(data);
	randombytes_buf(data, HUSH_SECRET_MAX);
	assert_int_equal(hush_id_new(id), 0);
	next_req(rid);
	wire_enc_init(&e, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_SECRET_ID, id);
	wire_put_str(&e, T_NAME, "big");
	wire_put_bytes(&e, T_DATA, data, HUSH_SECRET_MAX);
	wire_put_i64(&e, T_CREATED, 1700000100);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	assert_int_equal(outcome_code(s, rid), 0);
	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	assert_null(memmem(snap, len, data, HUSH_SECRET_MAX));
	assert_int_equal(store_restore(t, snap, len), 0);
	assert_same_answers(s, t);
	snap_free(snap, len);
	{
		uint8_t *v = malloc(HUSH_SECRET_MAX + 1);

		assert_non_null(v);
		assert_int_equal(value_of(t, t->secrets[0].id, v, HUSH_SECRET_MAX + 1),
		    HUSH_SECRET_MAX);
		assert_memory_equal(v, data, HUSH_SECRET_MAX);
		free(v);
	}
	free(data);
	del_store(s);
	del_store(t);
}

static void
test_dedup_ring(void **state)
{
	struct store *s = new_store(), *t = new_store();
	uint8_t rid_init[16], rid_first[16], rid_second[16], rid_last[16], rid[16];
	uint8_t w[16], *snap;
	size_t len, i;
	struct wire_enc e;

	enc_init(&e, rid_init, NULL);
	assert_int_equal(apply_enc(s, &e, NULL), 0);
	memset(w, 1, sizeof(w));
	/* Fill the ring exactly: init + 4095 rotations. */
	for (i = 0; i < STORE_DEDUP_MAX - 1; i++) {
		assert_int_equal(rotate(s, w, NULL, rid), 0);
		if (i == 0)
			memcpy(rid_first, rid, 16);
		if (i == 1)
			memcpy(rid_second, rid, 16);
	}
	assert_int_equal(s->dedup_count, STORE_DEDUP_MAX);
	assert_non_null(store_outcome(s, rid_init));

	/* One more evicts the oldest, the init. */
	assert_int_equal(rotate(s, w, NULL, rid_last), 0);
	assert_int_equal(s->dedup_count, STORE_DEDUP_MAX);
	assert_null(store_outcome(s, rid_init));
	assert_non_null(store_outcome(s, rid_first));
	assert_non_null(store_outcome(s, rid_last));

	/* A snapshot keeps the ring's order: the next eviction is rid_first. */
	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	assert_int_equal(store_restore(t, snap, len), 0);
	snap_free(snap, len);
	assert_int_equal(t->dedup_count, STORE_DEDUP_MAX);
	assert_null(store_outcome(t, rid_init));
	assert_int_equal(rotate(t, w, NULL, NULL), 0);
	assert_null(store_outcome(t, rid_first));
	assert_non_null(store_outcome(t, rid_second));
	assert_non_null(store_outcome(t, rid_last));

	/* The forgotten init is applied afresh: now refused as a second init. */
	{
		char cid[HUSH_ID_LEN + 1];
		uint8_t sec[16], cakey[4] = { 1, 2, 3, 4 };

		assert_int_equal(hush_id_new(cid), 0);
		memset(sec, 3, sizeof(sec));
		wire_enc_init(&e, CMD_CLUSTER_INIT, 0, WIRE_MAX_MSG);
		wire_put_bytes(&e, T_REQ_ID, rid_init, 16);
		wire_put_str(&e, T_CLUSTER_ID, cid);
		wire_put_str(&e, T_CA_CERT, CA_CERT);
		wire_put_bytes(&e, T_CA_KEY, cakey, sizeof(cakey));
		wire_put_bytes(&e, T_WORKER_SECRET, sec, 16);
		wire_put_bytes(&e, T_MANAGER_SECRET, sec, 16);
		wire_put_u64(&e, T_CERT_EXPIRY, EXPIRY);
		wire_put_str(&e, T_NODE_ID, cid);
		wire_put_str(&e, T_ADVERTISE_ADDR, ADDR);
		wire_put_i64(&e, T_CREATED, 1);
		assert_int_equal(apply_enc(s, &e, NULL), 0);
	}
	assert_int_equal(outcome_code(s, rid_init), HUSH_E_ALREADYINIT);
	del_store(s);
	del_store(t);
}

/* ---- restore refusals ---------------------------------------------------- */

struct sbuf {
	uint8_t	*p;
	size_t	 len;
};

static void
sb_add(struct sbuf *b, const void *p, size_t len)
{
	uint8_t *n = realloc(b->p, b->len + len + 1);

	assert_non_null(n);
	b->p = n;
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void
sb_enc(struct sbuf *b, struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;

	assert_int_equal(wire_enc_finish(e, &buf, &len), 0);
	sb_add(b, buf, len);
	wire_enc_free(e);
}

/* Hand-made snapshots carry values in clear, as versions 1 and 2 did. */
#define HANDMADE_VERSION	2

static void
sb_header(struct sbuf *b, uint32_t version)
{
	struct wire_enc e;

	wire_enc_init(&e, SNAP_HEADER, 0, 64);
	wire_put_u32(&e, T_VERSION, version);
	sb_enc(b, &e);
}

static void
sb_cluster(struct sbuf *b, int autolock, bool kek)
{
	struct wire_enc e;
	uint8_t k[32], sec[16];

	memset(k, 9, sizeof(k));
	memset(sec, 8, sizeof(sec));
	wire_enc_init(&e, SNAP_CLUSTER, 0, 65536);
	wire_put_str(&e, T_CLUSTER_ID, "0123456789abcdefghijklmno");
	wire_put_str(&e, T_CA_CERT, CA_CERT);
	wire_put_bytes(&e, T_CA_KEY, k, 10);
	wire_put_bytes(&e, T_WORKER_SECRET, sec, 16);
	wire_put_bytes(&e, T_MANAGER_SECRET, sec, 16);
	wire_put_u64(&e, T_CERT_EXPIRY, EXPIRY);
	wire_put_bool(&e, T_AUTOLOCK, autolock != 0);
	if (kek)
		wire_put_bytes(&e, T_KEK, k, 32);
	wire_put_str(&e, T_ADVERTISE_ADDR, ADDR);
	wire_put_i64(&e, T_CREATED, 5);
	sb_enc(b, &e);
}

static void
sb_secret(struct sbuf *b, const char *id, const char *name)
{
	struct wire_enc e;

	wire_enc_init(&e, SNAP_SECRET, 0, 65536);
	wire_put_str(&e, T_SECRET_ID, id);
	wire_put_str(&e, T_NAME, name);
	wire_put_i64(&e, T_CREATED, 1);
	wire_put_i64(&e, T_UPDATED, 2);
	wire_put_u32(&e, T_VERSION, 1);
	wire_put_str(&e, T_LABEL, "k=v");
	wire_put_bytes(&e, T_DATA, "data", 4);
	sb_enc(b, &e);
}

static void
sb_dedup(struct sbuf *b, uint8_t fill, uint32_t code)
{
	struct wire_enc e;
	uint8_t rid[16];

	memset(rid, fill, sizeof(rid));
	wire_enc_init(&e, SNAP_DEDUP, 0, 65536);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_u32(&e, T_ERRCODE, code);
	if (code != 0)
		wire_put_str(&e, T_ERRMSG, "it failed");
	else
		wire_put_str(&e, T_SECRET_ID, "0123456789abcdefghijklmnp");
	sb_enc(b, &e);
}

#define ID1	"0123456789abcdefghijklmn1"
#define ID2	"0123456789abcdefghijklmn2"

/* Restores b into a store that holds a secret; on refusal it must be empty. */
static int
try_restore(struct sbuf *b)
{
	struct store *s = new_store();
	int r;

	init_cluster(s, NULL);
	assert_int_equal(create(s, "prior", "p", NULL, NULL, NULL), 0);
	r = store_restore(s, b->p, b->len);
	if (r != 0) {
		assert_false(s->cluster.present);
		assert_int_equal(s->nsecrets, 0);
		assert_int_equal(s->dedup_count, 0);
	}
	del_store(s);
	free(b->p);
	memset(b, 0, sizeof(*b));
	return r;
}

static void
test_restore_good_handmade(void **state)
{
	struct sbuf b = { NULL, 0 };
	struct store *s = new_store();
	uint8_t rid[16];

	sb_header(&b, HANDMADE_VERSION);
	sb_cluster(&b, 1, true);
	sb_secret(&b, ID1, "one");
	sb_secret(&b, ID2, "two");
	sb_dedup(&b, 0x42, 0);
	sb_dedup(&b, 0x43, (uint32_t)-HUSH_E_EXISTS);
	write_seed(b.p, b.len);
	assert_int_equal(store_restore(s, b.p, b.len), 0);
	assert_true(s->cluster.present);
	assert_true(s->cluster.autolock);
	assert_int_equal(s->nsecrets, 2);
	memset(rid, 0x43, sizeof(rid));
	assert_int_equal(outcome_code(s, rid), HUSH_E_EXISTS);
	assert_string_equal(outcome_msg(s, rid), "it failed");
	memset(rid, 0x42, sizeof(rid));
	assert_int_equal(outcome_code(s, rid), 0);
	del_store(s);
	free(b.p);
}

static void
test_restore_refusals(void **state)
{
	struct sbuf b = { NULL, 0 };
	struct store *s = new_store();
	uint8_t x = 0;

	/* Empty. */
	assert_int_equal(store_restore(s, &x, 0), HUSH_E_CORRUPT);
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);
	del_store(s);

	/* No header at all. */
	sb_cluster(&b, 0, false);
	sb_secret(&b, ID1, "one");
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);

	/* Header not first. */
	sb_cluster(&b, 0, false);
	sb_header(&b, HANDMADE_VERSION);
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);

	/* Two headers. */
	sb_header(&b, HANDMADE_VERSION);
	sb_header(&b, HANDMADE_VERSION);
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);

	/* Wrong version. */
	sb_header(&b, STORE_SNAP_VERSION + 1);
	sb_cluster(&b, 0, false);
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);
	sb_header(&b, 0);
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);

	/* Truncated last message, at several points. */
	for (size_t cut = 1; cut < 40; cut += 7) {
		sb_header(&b, HANDMADE_VERSION);
		sb_cluster(&b, 0, false);
		sb_secret(&b, ID1, "one");
		b.len -= cut;
		assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);
	}
	/* Garbage after the last message. */
	sb_header(&b, HANDMADE_VERSION);
	sb_add(&b, "\x00\x01", 2);
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);

	/* Same name twice; same id twice. */
	sb_header(&b, HANDMADE_VERSION);
	sb_cluster(&b, 0, false);
	sb_secret(&b, ID1, "one");
	sb_secret(&b, ID2, "one");
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);
	sb_header(&b, HANDMADE_VERSION);
	sb_secret(&b, ID1, "one");
	sb_secret(&b, ID1, "two");
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);

	/* Two cluster records. */
	sb_header(&b, HANDMADE_VERSION);
	sb_cluster(&b, 0, false);
	sb_cluster(&b, 0, false);
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);

	/* Autolock without a KEK, and a KEK without autolock. */
	sb_header(&b, HANDMADE_VERSION);
	sb_cluster(&b, 1, false);
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);
	sb_header(&b, HANDMADE_VERSION);
	sb_cluster(&b, 0, true);
	assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);

	/* A message that is not a snapshot record. */
	{
		struct wire_enc e;
		uint8_t rid[16];

		sb_header(&b, HANDMADE_VERSION);
		next_req(rid);
		wire_enc_init(&e, CMD_TOKEN_ROTATE, 0, 64);
		wire_put_bytes(&e, T_REQ_ID, rid, 16);
		sb_enc(&b, &e);
		assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);
	}

	/* A secret with a duplicated label key. */
	{
		struct wire_enc e;

		sb_header(&b, HANDMADE_VERSION);
		wire_enc_init(&e, SNAP_SECRET, 0, 65536);
		wire_put_str(&e, T_SECRET_ID, ID1);
		wire_put_str(&e, T_NAME, "one");
		wire_put_i64(&e, T_CREATED, 1);
		wire_put_i64(&e, T_UPDATED, 2);
		wire_put_u32(&e, T_VERSION, 1);
		wire_put_str(&e, T_LABEL, "k=v");
		wire_put_str(&e, T_LABEL, "k=w");
		wire_put_bytes(&e, T_DATA, "data", 4);
		sb_enc(&b, &e);
		assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);
	}

	/* A snapshot record missing a required field. */
	{
		struct wire_enc e;

		sb_header(&b, HANDMADE_VERSION);
		wire_enc_init(&e, SNAP_DEDUP, 0, 256);
		wire_put_u32(&e, T_ERRCODE, 0);
		sb_enc(&b, &e);
		assert_int_equal(try_restore(&b), HUSH_E_CORRUPT);
	}

	/* The well-formed baseline of the cases above restores. */
	sb_header(&b, HANDMADE_VERSION);
	sb_cluster(&b, 0, false);
	sb_secret(&b, ID1, "one");
	sb_secret(&b, ID2, "two");
	assert_int_equal(try_restore(&b), 0);
}

/*
 * Regression (once a bug in daemon/raft/store.c, restore_dedup): the T_SECRET_ID values of a
 * SNAP_DEDUP record are only length-checked by the schema (25 bytes, no
 * NUL) and joined with spaces into store_outcome.ids; store_snapshot()
 * splits that string on spaces again.  An id containing a space is
 * accepted by store_restore(), but the snapshot written afterwards carries
 * short T_SECRET_ID fields that store_restore() refuses: the store cannot
 * reproduce a state it accepted.  (Found by fuzz_daemon_store.)
 */
static void
test_restore_refuses_malformed_dedup_id(void **state)
{
	struct sbuf b = { NULL, 0 };
	struct store *s = new_store();
	struct wire_enc e;
	uint8_t rid[16], *snap = NULL;
	size_t len = 0;

	memset(rid, 0x42, sizeof(rid));
	sb_header(&b, HANDMADE_VERSION);
	wire_enc_init(&e, SNAP_DEDUP, 0, 256);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_u32(&e, T_ERRCODE, 0);
	wire_put_str(&e, T_SECRET_ID, "0123456789abc efghijklmno");
	sb_enc(&b, &e);
	/* Either refused, or it survives its own snapshot. */
	if (store_restore(s, b.p, b.len) == 0) {
		assert_int_equal(store_snapshot(s, &snap, &len), 0);
		assert_int_equal(store_restore(s, snap, len), 0);
		snap_free(snap, len);
	}
	free(b.p);
	del_store(s);
}

/*
 * A removal's outcome (one id per removed secret) must fit in one snapshot
 * record, so removals are capped at STORE_RM_MAX: over it nothing is
 * removed; at it the removal works and the store still snapshots.
 */
static void
test_rm_bounded_by_snapshot_record(void **state)
{
	struct store *s = new_store(), *t = new_store();
	const char *refs[STORE_RM_MAX + 1];
	char names[STORE_RM_MAX + 1][8];
	uint8_t rid[16], *snap = NULL;
	size_t len = 0;

	init_cluster(s, NULL);
	for (size_t i = 0; i < STORE_RM_MAX + 1; i++) {
		snprintf(names[i], sizeof(names[i]), "s%zu", i);
		assert_int_equal(create(s, names[i], "v", NULL, NULL, NULL), 0);
		refs[i] = names[i];
	}
	assert_int_equal(rm(s, refs, STORE_RM_MAX + 1, rid), HUSH_E_INVAL);
	assert_int_equal(s->nsecrets, STORE_RM_MAX + 1);
	assert_int_equal(rm(s, refs, STORE_RM_MAX, rid), 0);
	assert_int_equal(s->nsecrets, 1);
	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	assert_int_equal(store_restore(t, snap, len), 0);
	assert_non_null(store_outcome(t, rid));
	snap_free(snap, len);
	del_store(s);
	del_store(t);
}

/*
 * Regression (once a bug in daemon/raft/store.c, put_secret_meta): a secret whose labels add up
 * to more than the 8192-byte record cap is accepted by store_apply (every
 * label is individually valid), but its REC_SECRET then cannot be encoded,
 * so every QRY_SECRET_LIST fails from then on (and QRY_SECRET_GET of it).
 */
static void
test_oversized_labels_refused(void **state)
{
	struct store *s = new_store();
	const char *labels[15];
	char lab[14][LABEL_KEY_MAX + LABEL_VALUE_MAX + 2];
	struct wire_enc e;
	size_t klen = 100;
	int code;

	init_cluster(s, NULL);
	assert_int_equal(create(s, "small", "v", labels_a, NULL, NULL), 0);
	/* 14 labels of a 100-byte key and a 512-byte value: ~8.6 KB. */
	for (size_t i = 0; i < 14; i++) {
		memset(lab[i], 'x', klen);
		lab[i][0] = 'k';
		lab[i][1] = (char)('a' + i);
		lab[i][klen] = '=';
		memset(lab[i] + klen + 1, 'v', LABEL_VALUE_MAX);
		lab[i][klen + 1 + LABEL_VALUE_MAX] = '\0';
		labels[i] = lab[i];
	}
	labels[14] = NULL;
	code = create(s, "many-labels", "v", labels, NULL, NULL);
	/* Either the command is refused, or listing still works. */
	if (code == 0) {
		assert_int_equal(query(s, QRY_SECRET_LIST, NULL, 0, &e), 0);
		assert_int_equal(wire_count(&items, T_SECRET), 2);
		wire_enc_free(&e);
	} else
		assert_int_equal(s->nsecrets, 1);
	del_store(s);
}


/*
 * One page of a list (cursor NULL: the first) or of an inspect (refs);
 * the reply parsed into `reply`.  Returns how many records it holds.
 */
static size_t
page_query(struct store *s, uint16_t type, const char *cursor, const char *const *refs,
    size_t nrefs)
{
	static const uint16_t types[] = { QRY_SECRET_LIST, QRY_SECRET_GET, 0 };
	uint16_t allowed[] = { (uint16_t)(type | MSG_REPLY), 0 };
	struct wire_enc q, *out = &page_enc;
	const uint8_t *buf, *list, *val;
	size_t len, llen, off = 0, vlen, n = 0;
	uint16_t tag;
	char why[256];

	wire_enc_free(out);
	wire_enc_init(&q, type, 5, 65536);
	if (cursor != NULL)
		wire_put_str(&q, T_CURSOR, cursor);
	for (size_t i = 0; i < nrefs; i++)
		wire_put_str(&q, T_REF, refs[i]);
	assert_int_equal(wire_enc_finish(&q, &buf, &len), 0);
	if (msg_parse(buf, len, WIRE_MAX_MSG, types, &qry, why, sizeof(why)) != 0)
		fail_msg("query: %s", why);
	assert_int_equal(store_query(s, &qry, out), 0);
	wire_enc_free(&q);
	assert_int_equal(wire_enc_finish(out, &buf, &len), 0);
	if (msg_parse(buf, len, WIRE_MAX_MSG, allowed, &reply, why, sizeof(why)) != 0)
		fail_msg("reply: %s", why);
	assert_int_equal(wire_get_bytes(&reply, T_RECORDS, &list, &llen), 0);
	assert_true(llen <= HUSH_PAGE_BYTES);
	while (wire_list_next(list, llen, &off, &tag, &val, &vlen) == 1) {
		assert_int_equal(tag, T_SECRET);
		n++;
	}
	return n;
}

/*
 * Lists and inspects larger than a page (store_page.c): a list walked
 * after each T_CURSOR gives every secret once, in id order, each page
 * within HUSH_PAGE_BYTES; a cursor naming no secret (one removed since)
 * goes on from where it would sort; an inspect too large for one page
 * says in T_COUNT how many refs it answered.
 */
static void
test_pages(void **state)
{
	enum { N = 1500 };
	static char ids[N][HUSH_ID_LEN + 1], names[N][16];
	static const char *refs[N];
	static char lbl[8][520];
	const char *labels[9];
	struct store *s = new_store();
	char cursor[HUSH_CURSOR_MAX + 1] = "", last[HUSH_ID_LEN + 1] = "", next[HUSH_CURSOR_MAX + 1];
	size_t seen = 0, pages = 0, n, done;
	uint32_t count;

	init_cluster(s, NULL);
	for (int k = 0; k < 8; k++) {
		snprintf(lbl[k], sizeof(lbl[k]), "l%d=", k);
		memset(lbl[k] + 3, 'v', 500);
		lbl[k][503] = '\0';
		labels[k] = lbl[k];
	}
	labels[8] = NULL;
	/* ~4 KiB each: ~6 MB in all, more than any one message may hold */
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "s%05d", i);
		assert_int_equal(create(s, names[i], "v", labels, ids[i], NULL), 0);
		refs[i] = names[i];
	}
	for (;;) {
		n = page_query(s, QRY_SECRET_LIST, pages == 0 ? NULL : cursor, NULL, 0);
		assert_true(n > 0);
		for (size_t i = 0; i < n; i++) {
			char id[HUSH_ID_LEN + 1];
			const struct wire_field *f;
			const uint8_t *list, *val;
			size_t llen, off = 0, vlen;
			uint16_t tag;

			assert_int_equal(wire_get_bytes(&reply, T_RECORDS, &list, &llen), 0);
			for (size_t k = 0; k <= i; k++)
				assert_int_equal(wire_list_next(list, llen, &off, &tag, &val, &vlen), 1);
			assert_int_equal(msg_parse_record(val, vlen, REC_SECRET, &rec, NULL, 0), 0);
			f = wire_find(&rec, T_SECRET_ID, 0);
			assert_non_null(f);
			assert_int_equal(wire_field_str(f, id, sizeof(id)), 0);
			assert_true(strcmp(id, last) > 0);	/* in id order, none twice */
			memcpy(last, id, sizeof(last));
		}
		seen += n;
		pages++;
		if (wire_get_str(&reply, T_CURSOR, next, sizeof(next)) != 0)
			break;
		assert_string_equal(next, last);
		memcpy(cursor, next, sizeof(cursor));
	}
	assert_int_equal(seen, N);
	assert_true(pages >= N * 4000 / HUSH_PAGE_BYTES);

	/* a cursor that names no secret: the ones after it */
	assert_int_equal(page_query(s, QRY_SECRET_LIST, "zzzzzzzzzzzzzzzzzzzzzzzzz", NULL, 0), 0);
	assert_int_equal(wire_get_str(&reply, T_CURSOR, next, sizeof(next)), HUSH_E_NOTFOUND);

	/* an inspect of 256: pages of refs, in the order asked */
	for (done = 0; done < 256;) {
		n = page_query(s, QRY_SECRET_GET, NULL, refs + done, 256 - done);
		if (wire_get_u32(&reply, T_COUNT, &count) == 0) {
			assert_int_equal(count, n);
			assert_true(n > 0 && n < 256 - done);
		} else {
			assert_int_equal(n, 256 - done);
		}
		done += n;
	}
	assert_int_equal(done, 256);
	wire_enc_free(&page_enc);
	del_store(s);
}

/*
 * Version 3 carries values sealed under the memory key every manager
 * derives from the DEK: a store with another key (another cluster's
 * DEK) refuses such a snapshot rather than hold values it cannot open,
 * and a version 3 record with its value in clear is refused too.
 */
static void
test_restore_sealed_values_need_the_key(void **state)
{
	static const uint8_t other[32] = { 0x43 };
	struct store *s = new_store(), *u = new_store();
	struct sbuf b = { 0 };
	uint8_t *snap = NULL;
	size_t len = 0;

	init_cluster(s, NULL);
	assert_int_equal(create(s, "one", "value", NULL, NULL, NULL), 0);
	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	store_use_key(u, other);
	assert_int_equal(store_restore(u, snap, len), HUSH_E_CORRUPT);
	assert_int_equal(u->nsecrets, 0);
	store_use_key(u, test_memory_dek);
	assert_int_equal(store_restore(u, snap, len), 0);
	assert_int_equal(u->nsecrets, 1);
	snap_free(snap, len);

	sb_header(&b, STORE_SNAP_VERSION);
	sb_cluster(&b, 0, false);
	sb_secret(&b, ID1, "clear");	/* T_DATA, as version 2 had it */
	assert_int_equal(store_restore(u, b.p, b.len), HUSH_E_CORRUPT);
	free(b.p);
	del_store(s);
	del_store(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_init),
		cmocka_unit_test(test_init_twice),
		cmocka_unit_test(test_create_list_get),
		cmocka_unit_test(test_create_refusals),
		cmocka_unit_test(test_same_req_id_once),
		cmocka_unit_test(test_rm),
		cmocka_unit_test(test_cluster_update),
		cmocka_unit_test(test_refused_update_changes_nothing),
		cmocka_unit_test(test_token_rotate),
		cmocka_unit_test(test_ca_rotation),
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_snapshot_restore),
		cmocka_unit_test(test_snapshot_big_secret),
		cmocka_unit_test(test_dedup_ring),
		cmocka_unit_test(test_restore_sealed_values_need_the_key),
		cmocka_unit_test(test_restore_good_handmade),
		cmocka_unit_test(test_restore_refusals),
		cmocka_unit_test(test_restore_refuses_malformed_dedup_id),
		cmocka_unit_test(test_rm_bounded_by_snapshot_record),
		cmocka_unit_test(test_oversized_labels_refused),
		cmocka_unit_test(test_pages),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
