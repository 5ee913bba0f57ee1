/*
 * Unit tests for daemon/raft/store_digest.c: stores built by applying the
 * same commands in different orders digest alike; a store that differs in
 * any one thing a replica could get wrong (a value, a name, a label, a
 * version, a timestamp, a node, a grant, one secret more) digests
 * differently; and so does the same store under another DEK.  Also the
 * schema of the status fields that carry it.
 *
 * The digest is also the oracle of disaster recovery's commands: a backup's
 * records loaded a few at a time (CMD_STORE_LOAD) make the same store, a
 * load into a store that holds a cluster changes nothing, a forced new
 * cluster (CMD_FORCE_NEW_CLUSTER) removes exactly the other managers.
 *
 * Every store here is built through store_apply() from parsed commands,
 * as the raft log delivers them; the "diverged replica" cases then change
 * one field of one record in memory, which is what a replica that applied
 * something wrongly would hold.
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
#include "raft/store.h"
#include "store_fixture.h"
#include "wire.h"

#define NSECRETS 40


static uint8_t dek[32];

static void
rid_for(uint8_t rid[16], uint32_t n)
{
	memset(rid, 0x3c, 16);
	memcpy(rid + 12, &n, 4);
}

static void
apply(struct store *s, struct wire_enc *e, const uint8_t rid[16])
{
	const struct store_outcome *o;

	store_fixture_apply(s, e);
	assert_non_null(o = store_outcome(s, rid));
	if (o->code != 0)
		fail_msg("command refused: %s", o->errmsg != NULL ? o->errmsg : "");
}

/* A fixed id per number: the same record in every store.  A leading 0
 * keeps it under 2^128 (hush_id_valid). */
static void
id_for(char id[HUSH_ID_LEN + 1], char kind, unsigned n)
{
	snprintf(id, HUSH_ID_LEN + 1, "0%c%023u", kind, n);
}

static void
init_cluster(struct store *s)
{
	struct wire_enc e;
	char cid[HUSH_ID_LEN + 1], nid[HUSH_ID_LEN + 1];
	uint8_t rid[16], w[16], m[16], cakey[64];

	id_for(cid, 'c', 1);
	id_for(nid, 'n', 1);
	memset(w, 'w', sizeof(w));
	memset(m, 'm', sizeof(m));
	memset(cakey, 'k', sizeof(cakey));
	rid_for(rid, 1);
	wire_enc_init(&e, CMD_CLUSTER_INIT, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_CLUSTER_ID, cid);
	wire_put_str(&e, T_CA_CERT, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	wire_put_bytes(&e, T_CA_KEY, cakey, sizeof(cakey));
	wire_put_bytes(&e, T_WORKER_SECRET, w, 16);
	wire_put_bytes(&e, T_MANAGER_SECRET, m, 16);
	wire_put_u64(&e, T_CERT_EXPIRY, 90ull * 24 * 3600);
	wire_put_str(&e, T_NODE_ID, nid);
	wire_put_str(&e, T_ADVERTISE_ADDR, "192.0.2.1:4477");
	wire_put_i64(&e, T_CREATED, 1700000000);
	apply(s, &e, rid);
}

/* Secret n: name sN, value vN, labels in an order that depends on n. */
static void
create_secret(struct store *s, unsigned n)
{
	struct wire_enc e;
	char id[HUSH_ID_LEN + 1], name[32], val[32];
	uint8_t rid[16];

	id_for(id, 's', n);
	snprintf(name, sizeof(name), "s%u", n);
	snprintf(val, sizeof(val), "value-%u", n);
	rid_for(rid, 100 + n);
	wire_enc_init(&e, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_SECRET_ID, id);
	wire_put_str(&e, T_NAME, name);
	wire_put_bytes(&e, T_DATA, val, strlen(val));
	wire_put_str(&e, T_LABEL, "team=a");
	wire_put_str(&e, T_LABEL, n % 2 ? "env=prod" : "env=test");
	wire_put_i64(&e, T_CREATED, 1700000100 + n);
	apply(s, &e, rid);
}

static void
create_service(struct store *s, unsigned n, const unsigned *secrets, size_t nsecrets)
{
	struct wire_enc e, g;
	const uint8_t *buf;
	size_t len;
	char id[HUSH_ID_LEN + 1], name[32], target[32];
	uint8_t rid[16];

	id_for(id, 'v', n);
	snprintf(name, sizeof(name), "svc%u", n);
	rid_for(rid, 10000 + n);
	wire_enc_init(&e, CMD_SERVICE_CREATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_SERVICE_ID, id);
	wire_put_str(&e, T_NAME, name);
	wire_put_i64(&e, T_CREATED, 1700000200);
	for (size_t i = 0; i < nsecrets; i++) {
		snprintf(name, sizeof(name), "s%u", secrets[i]);
		snprintf(target, sizeof(target), "f%u", secrets[i]);
		wire_enc_init_fields(&g, 1024);
		wire_put_str(&g, T_REF, name);
		wire_put_str(&g, T_TARGET, target);
		wire_put_u32(&g, T_UID, 1);
		wire_put_u32(&g, T_GID, 2);
		wire_put_u32(&g, T_MODE, 0400);
		assert_int_equal(wire_enc_finish(&g, &buf, &len), 0);
		wire_put_bytes(&e, T_GRANT, buf, len);
		wire_enc_free(&g);
	}
	apply(s, &e, rid);
}

/* The same content, secrets created in the order given. */
static struct store *
build(const unsigned *order)
{
	static const unsigned grants[] = { 3, 7 };
	struct store *s = store_fixture_new();

	init_cluster(s);
	for (unsigned i = 0; i < NSECRETS; i++)
		create_secret(s, order[i]);
	create_service(s, 1, grants, 2);
	return s;
}

#define del_store(s)	store_fixture_del(s)

static void
digest_of(const struct store *s, struct store_digest *d)
{
	assert_int_equal(store_digest(s, dek, d), 0);
}

static void
order_forward(unsigned *o)
{
	for (unsigned i = 0; i < NSECRETS; i++)
		o[i] = i;
}

static void
order_shuffled(unsigned *o)
{
	/* A fixed permutation: 17 is coprime with 40. */
	for (unsigned i = 0; i < NSECRETS; i++)
		o[i] = (i * 17 + 5) % NSECRETS;
}

static void
test_same_content_any_order(void **state)
{
	unsigned a[NSECRETS], b[NSECRETS];
	struct store *x, *y;
	struct store_digest dx, dy, dx2;

	(void)state;
	order_forward(a);
	order_shuffled(b);
	x = build(a);
	y = build(b);
	/* The orders really differ in memory. */
	assert_string_not_equal(x->secrets[1].name, y->secrets[1].name);
	digest_of(x, &dx);
	digest_of(y, &dy);
	assert_memory_equal(dx.hash, dy.hash, sizeof(dx.hash));
	assert_int_equal(dx.nsecrets, NSECRETS);
	assert_int_equal(dx.nservices, 1);
	assert_int_equal(dx.nnodes, 1);
	assert_int_equal(dy.nsecrets, NSECRETS);
	/* Computing it twice gives the same answer and changes nothing. */
	digest_of(x, &dx2);
	assert_memory_equal(dx.hash, dx2.hash, sizeof(dx.hash));
	del_store(x);
	del_store(y);
}

/* A store restored from another's snapshot digests like it. */
static void
test_snapshot_round_trip(void **state)
{
	unsigned a[NSECRETS];
	struct store *x, *y;
	struct store_digest dx, dy;
	uint8_t *buf;
	size_t len;

	(void)state;
	order_forward(a);
	x = build(a);
	assert_int_equal(store_snapshot(x, &buf, &len), 0);
	y = store_fixture_new();
	assert_int_equal(store_restore(y, buf, len), 0);
	sodium_memzero(buf, len);
	free(buf);
	digest_of(x, &dx);
	digest_of(y, &dy);
	assert_memory_equal(dx.hash, dy.hash, sizeof(dx.hash));
	del_store(x);
	del_store(y);
}

/* What a diverged replica could hold: one field of one record changed. */
enum divergence {
	DV_VALUE, DV_NAME, DV_LABEL, DV_LABEL_GONE, DV_VERSION, DV_CREATED, DV_UPDATED,
	DV_ID, DV_NODE_ADDR, DV_NODE_ROLE, DV_GRANT_MODE, DV_GRANT_SECRET, DV_SERVICE_NAME,
	DV_EXTRA_SECRET, DV_MISSING_SECRET, DV_CLUSTER_TOKENS, DV_KEY,
	DV_COUNT
};

static void
diverge(struct store *s, enum divergence d)
{
	struct store_secret *x = &s->secrets[5];
	struct wire_enc e;
	uint8_t rid[16];

	switch (d) {
	case DV_VALUE:
		/* The same length, version and timestamps: only the bytes differ. */
		rid_for(rid, 20000);
		wire_enc_init(&e, CMD_SECRET_UPDATE, 0, WIRE_MAX_MSG);
		wire_put_bytes(&e, T_REQ_ID, rid, 16);
		wire_put_str(&e, T_REF, x->name);
		wire_put_bytes(&e, T_DATA, "value-X", 7);
		wire_put_i64(&e, T_UPDATED, x->updated);
		apply(s, &e, rid);
		x->version--;
		break;
	case DV_NAME:
		x->name[0] = 't';
		break;
	case DV_LABEL:
		x->labels[0][0] = 'T';
		break;
	case DV_LABEL_GONE:
		x->nlabels--;
		free(x->labels[x->nlabels]);
		break;
	case DV_VERSION:
		x->version++;
		break;
	case DV_CREATED:
		x->created++;
		break;
	case DV_UPDATED:
		x->updated++;
		break;
	case DV_ID:
		x->id[HUSH_ID_LEN - 1] = 'z';
		break;
	case DV_NODE_ADDR:
		s->nodes[0].addr[0] = '9';
		break;
	case DV_NODE_ROLE:
		s->nodes[0].role = ROLE_WORKER;
		break;
	case DV_GRANT_MODE:
		s->services[0].grants[0].mode = 0444;
		break;
	case DV_GRANT_SECRET:
		id_for(s->services[0].grants[0].secret_id, 's', 8);
		break;
	case DV_SERVICE_NAME:
		s->services[0].name[0] = 'S';
		break;
	case DV_EXTRA_SECRET:
		create_secret(s, NSECRETS);
		break;
	case DV_MISSING_SECRET:
		/* The last one: nothing else moves. */
		s->nsecrets--;
		free(s->secrets[s->nsecrets].sealed);
		for (size_t i = 0; i < s->secrets[s->nsecrets].nlabels; i++)
			free(s->secrets[s->nsecrets].labels[i]);
		free(s->secrets[s->nsecrets].labels);
		break;
	case DV_CLUSTER_TOKENS:
		s->cluster.tokens.p[0] ^= 1;
		break;
	case DV_KEY:
	case DV_COUNT:
		break;
	}
}

static void
test_diverged_replica_differs(void **state)
{
	unsigned a[NSECRETS];
	struct store *good;
	struct store_digest dg;

	(void)state;
	order_forward(a);
	good = build(a);
	digest_of(good, &dg);
	for (int d = 0; d < DV_COUNT; d++) {
		struct store *bad = build(a);
		struct store_digest db;
		uint8_t other[32];

		diverge(bad, (enum divergence)d);
		if (d == DV_KEY) {
			/* The same store under another cluster's DEK. */
			memcpy(other, dek, sizeof(other));
			other[0] ^= 1;
			assert_int_equal(store_digest(bad, other, &db), 0);
		} else {
			digest_of(bad, &db);
		}
		if (memcmp(dg.hash, db.hash, sizeof(dg.hash)) == 0)
			fail_msg("divergence %d went unnoticed", d);
		del_store(bad);
	}
	del_store(good);
}

/* The digest's counts are the store's. */
static void
test_counts(void **state)
{
	struct store s;
	struct store_digest d;

	(void)state;
	assert_int_equal(store_init(&s), 0);
	store_use_key(&s, test_memory_dek);
	digest_of(&s, &d);
	assert_int_equal(d.nsecrets, 0);
	assert_int_equal(d.nnodes, 0);
	init_cluster(&s);
	create_secret(&s, 1);
	create_secret(&s, 2);
	digest_of(&s, &d);
	assert_int_equal(d.nsecrets, 2);
	assert_int_equal(d.nnodes, 1);
	assert_int_equal(d.nservices, 0);
	store_free(&s);
}

/* ---- disaster recovery ---- */

/* Applies e; the outcome's code, and its ids into ids (may be NULL). */
static int
apply_code(struct store *s, struct wire_enc *e, const uint8_t rid[16], char *ids, size_t cap)
{
	const struct store_outcome *o;

	store_fixture_apply(s, e);
	assert_non_null(o = store_outcome(s, rid));
	if (ids != NULL)
		snprintf(ids, cap, "%s", o->ids != NULL ? o->ids : "");
	return o->code;
}

static int
load(struct store *s, uint32_t n, uint32_t version, bool first, const uint8_t *recs,
    size_t len)
{
	struct wire_enc e;
	uint8_t rid[16];

	rid_for(rid, 50000 + n);
	wire_enc_init(&e, CMD_STORE_LOAD, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_u32(&e, T_VERSION, version);
	wire_put_bool(&e, T_BOOTSTRAP, first);
	wire_put_bytes(&e, T_RECORDS, recs, len);
	return apply_code(s, &e, rid, NULL, 0);
}

/* Where the record after the one at off starts. */
static size_t
next_record(const uint8_t *b, size_t len, size_t off)
{
	struct wire_hdr h;

	assert_int_equal(wire_peek_hdr(b + off, len - off, &h), 0);
	return off + WIRE_HDR_LEN + h.length;
}

/* A snapshot's records in commands of 7 records: the same store. */
static void
test_load_in_pieces(void **state)
{
	unsigned a[NSECRETS];
	struct store *x, *y;
	struct store_digest dx, dy;
	uint8_t *buf;
	size_t len, off, start;
	uint32_t n = 0;

	(void)state;
	order_shuffled(a);
	x = build(a);
	assert_int_equal(store_snapshot(x, &buf, &len), 0);
	y = store_fixture_new();
	/* Not before the cluster's record: the first command starts with it. */
	start = next_record(buf, len, 0);
	assert_int_equal(load(y, n++, STORE_SNAP_VERSION, true, buf + next_record(buf, len,
	    start), len - next_record(buf, len, start)), HUSH_E_CORRUPT);
	store_fixture_del(y);
	y = store_fixture_new();
	/* A load that goes on when none began is refused. */
	assert_int_equal(load(y, n++, STORE_SNAP_VERSION, false, buf + start, len - start),
	    HUSH_E_INVAL);
	/* A version this hush does not read, refused. */
	assert_int_equal(load(y, n++, STORE_SNAP_VERSION + 1, true, buf + start, len - start),
	    HUSH_E_VERSION);
	digest_of(y, &dy);
	assert_int_equal(dy.nsecrets, 0);
	off = start;
	while (off < len) {
		size_t end = off;

		for (int k = 0; k < 7 && end < len; k++)
			end = next_record(buf, len, end);
		assert_int_equal(load(y, n++, STORE_SNAP_VERSION, off == start, buf + off,
		    end - off), 0);
		off = end;
	}
	digest_of(x, &dx);
	digest_of(y, &dy);
	assert_memory_equal(dx.hash, dy.hash, sizeof(dx.hash));
	assert_int_equal(dy.nsecrets, NSECRETS);
	/* Once a cluster is there, a first load changes nothing. */
	assert_int_equal(load(y, n++, STORE_SNAP_VERSION, true, buf + start, len - start),
	    HUSH_E_EXISTS);
	digest_of(y, &dy);
	assert_memory_equal(dx.hash, dy.hash, sizeof(dx.hash));
	sodium_memzero(buf, len);
	free(buf);
	del_store(x);
	del_store(y);
}

static void
add_node(struct store *s, unsigned n, uint8_t role)
{
	struct wire_enc e;
	char id[HUSH_ID_LEN + 1], addr[32];
	uint8_t rid[16], pub[32];

	id_for(id, 'n', n);
	snprintf(addr, sizeof(addr), "192.0.2.%u:4477", n);
	memset(pub, (int)n, sizeof(pub));
	rid_for(rid, 20000 + n);
	wire_enc_init(&e, CMD_NODE_ADD, 0, 4096);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_NODE_ID, id);
	wire_put_u8(&e, T_ROLE, role);
	wire_put_str(&e, T_ADVERTISE_ADDR, addr);
	wire_put_i64(&e, T_CREATED, 1700000300);
	wire_put_bytes(&e, T_SEAL_PUB, pub, 32);
	apply(s, &e, rid);
}

static int
force_new(struct store *s, unsigned self, uint32_t n, char *ids, size_t cap)
{
	struct wire_enc e;
	char id[HUSH_ID_LEN + 1];
	uint8_t rid[16];

	id_for(id, 'n', self);
	rid_for(rid, 30000 + n);
	wire_enc_init(&e, CMD_FORCE_NEW_CLUSTER, 0, 4096);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_NODE_ID, id);
	wire_put_str(&e, T_ADVERTISE_ADDR, "198.51.100.7:4477");
	wire_put_i64(&e, T_CREATED, 1700000400);
	return apply_code(s, &e, rid, ids, cap);
}

/* The others managers go, the workers and the store's content stay. */
static void
test_force_new_cluster(void **state)
{
	unsigned a[NSECRETS];
	struct store *s;
	struct store_digest before, after;
	char ids[512], want[512], id2[HUSH_ID_LEN + 1], id3[HUSH_ID_LEN + 1];
	struct store_node *n;

	(void)state;
	order_forward(a);
	s = build(a);
	add_node(s, 2, ROLE_MANAGER);
	add_node(s, 3, ROLE_MANAGER);
	add_node(s, 4, ROLE_WORKER);
	digest_of(s, &before);
	id_for(id2, 'n', 2);
	id_for(id3, 'n', 3);
	assert_int_equal(force_new(s, 3, 1, ids, sizeof(ids)), 0);
	/* Node 3 stays, 1 and 2 go; the worker stays. */
	snprintf(want, sizeof(want), "%s", ids);
	{
		char id1[HUSH_ID_LEN + 1];

		id_for(id1, 'n', 1);
		assert_non_null(strstr(want, id1));
		assert_non_null(strstr(want, id2));
		assert_null(strstr(want, id3));
	}
	assert_int_equal(store_node_managers(s), 1);
	assert_non_null(n = store_node_find(s, id3));
	assert_false(n->removed);
	assert_string_equal(n->addr, "198.51.100.7:4477");
	assert_true(store_node_find(s, id2)->removed);
	{
		char id4[HUSH_ID_LEN + 1];

		id_for(id4, 'n', 4);
		assert_false(store_node_find(s, id4)->removed);
	}
	digest_of(s, &after);
	assert_int_equal(after.nsecrets, before.nsecrets);
	assert_memory_not_equal(after.hash, before.hash, sizeof(after.hash));
	/* A removed node cannot be the base of a new cluster. */
	assert_int_equal(force_new(s, 2, 2, ids, sizeof(ids)), HUSH_E_PERM);
	assert_int_equal(store_node_managers(s), 1);
	/* A restore's node is not in the table: it is added, as the only manager. */
	assert_int_equal(force_new(s, 9, 3, ids, sizeof(ids)), 0);
	assert_non_null(strstr(ids, id3));
	assert_int_equal(store_node_managers(s), 1);
	{
		char id9[HUSH_ID_LEN + 1];

		id_for(id9, 'n', 9);
		assert_non_null(n = store_node_find(s, id9));
		assert_int_equal(n->role, ROLE_MANAGER);
		assert_false(n->removed);
	}
	del_store(s);
}

/* A backup's mark changes nothing but its own outcome. */
static void
test_backup_mark(void **state)
{
	unsigned a[NSECRETS];
	struct store *s;
	struct store_digest before, after;
	struct wire_enc e;
	uint8_t rid[16];

	(void)state;
	order_forward(a);
	s = build(a);
	digest_of(s, &before);
	rid_for(rid, 40000);
	wire_enc_init(&e, CMD_BACKUP_MARK, 0, 128);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	assert_int_equal(apply_code(s, &e, rid, NULL, 0), 0);
	digest_of(s, &after);
	assert_memory_equal(before.hash, after.hash, sizeof(before.hash));
	del_store(s);
}

/* The answer's digest, from the less trusted raft process, is exactly 32 bytes. */
static void
test_status_schema(void **state)
{
	static const uint16_t raft_r[] = { RAFTP_STATUS | MSG_REPLY, 0 };
	static const uint16_t ctl[] = { CTL_STATUS, 0 };
	static struct wire_msg m;
	uint8_t d[33];
	char why[256];

	(void)state;
	memset(d, 7, sizeof(d));
	for (size_t len = 31; len <= 33; len++) {
		struct wire_enc e;
		const uint8_t *buf;
		size_t blen;
		int r;

		wire_enc_init(&e, RAFTP_STATUS | MSG_REPLY, 1, 1024);
		wire_put_u64(&e, T_RAFT_TERM, 1);
		wire_put_str(&e, T_RAFT_LEADER, "");
		wire_put_str(&e, T_RAFT_STATE, "follower");
		wire_put_u64(&e, T_RAFT_INDEX, 9);
		wire_put_bytes(&e, T_STORE_DIGEST, d, len);
		wire_put_u64(&e, T_STORE_SECRETS, 1);
		assert_int_equal(wire_enc_finish(&e, &buf, &blen), 0);
		r = msg_parse(buf, blen, WIRE_MAX_MSG, raft_r, &m, why, sizeof(why));
		if (len == 32)
			assert_int_equal(r, 0);
		else
			assert_int_not_equal(r, 0);
		wire_enc_free(&e);
	}
	/* A status request may ask for it, and carry nothing else. */
	for (int bad = 0; bad <= 1; bad++) {
		struct wire_enc e;
		const uint8_t *buf;
		size_t blen;
		int r;

		wire_enc_init(&e, CTL_STATUS, 1, 1024);
		wire_put_bool(&e, T_DIGEST_WANTED, true);
		if (bad)
			wire_put_bytes(&e, T_STORE_DIGEST, d, 32);
		assert_int_equal(wire_enc_finish(&e, &buf, &blen), 0);
		r = msg_parse(buf, blen, WIRE_MAX_MSG, ctl, &m, why, sizeof(why));
		if (bad)
			assert_int_not_equal(r, 0);
		else
			assert_int_equal(r, 0);
		wire_enc_free(&e);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_content_any_order),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_diverged_replica_differs),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_load_in_pieces),
		cmocka_unit_test(test_force_new_cluster),
		cmocka_unit_test(test_backup_mark),
		cmocka_unit_test(test_status_schema),
	};

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(dek, sizeof(dek));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
