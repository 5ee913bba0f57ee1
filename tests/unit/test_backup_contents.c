/*
 * Unit tests for lib/backup_contents.c: what the sealed chunks of a backup
 * file hold.  Chunk sequences are built here message by message with the
 * wire encoder, the way daemon/raft/backup_write.c writes them (manifest,
 * keys, the store's snapshot records in several chunks, BACKUP_END), then
 * broken one promise at a time: each refusal must come at the chunk that
 * breaks it, with a reason that names what is wrong.  The end-to-end tests
 * go through a real backup_writer and backup_reader in a temporary file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "backup_contents.h"
#include "backup_file.h"
#include "err.h"
#include "id.h"
#include "msg.h"
#include "seal.h"
#include "wire.h"

#define MAXCHUNKS	16
#define NOTHING		0	/* no field left out */

/* Ids of the backed-up cluster, made once (hush_id_new). */
static char cluster_id[HUSH_ID_LEN + 1], node_id[HUSH_ID_LEN + 1];
static char other_cluster_id[HUSH_ID_LEN + 1];
static uint8_t dek[32];

/* A growing byte string: one chunk, or what a restore should keep. */
struct buf {
	uint8_t		*p;
	size_t		 len;
};

/* A sequence of chunks, the last one final unless told otherwise. */
struct seq {
	struct buf	 c[MAXCHUNKS];
	size_t		 n;
};

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(hush_id_new(cluster_id), 0);
	assert_int_equal(hush_id_new(node_id), 0);
	assert_int_equal(hush_id_new(other_cluster_id), 0);
	randombytes_buf(dek, sizeof(dek));
	return 0;
}

static void
buf_add(struct buf *b, const uint8_t *p, size_t len)
{
	b->p = realloc(b->p, b->len + len + 1);
	assert_non_null(b->p);
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

/* Finishes e and appends its bytes to b. */
static void
buf_add_enc(struct buf *b, struct wire_enc *e)
{
	const uint8_t *p;
	size_t len;

	assert_int_equal(wire_enc_finish(e, &p, &len), 0);
	buf_add(b, p, len);
	wire_enc_free(e);
}

static void
seq_free(struct seq *s)
{
	size_t i;

	for (i = 0; i < MAXCHUNKS; i++)
		free(s->c[i].p);
	memset(s, 0, sizeof(*s));
}

/* The next chunk of s, empty, to add messages to. */
static struct buf *
seq_next(struct seq *s)
{
	assert_true(s->n < MAXCHUNKS);
	return &s->c[s->n++];
}

/* ---- messages, as the writer and the store write them ------------------- */

struct man_opts {
	uint32_t	 version;
	const char	*cluster_id, *node_id;
	uint64_t	 secrets, services, nodes;
	uint16_t	 omit;		/* a tag to leave out, or NOTHING */
};

static struct man_opts
man_default(void)
{
	struct man_opts o = {
		.version = BACKUP_CONTENTS_VERSION,
		.cluster_id = cluster_id,
		.node_id = node_id,
		.secrets = 3, .services = 1, .nodes = 2,
		.omit = NOTHING,
	};

	return o;
}

static void
add_manifest(struct buf *b, const struct man_opts *o)
{
	struct wire_enc e;

	wire_enc_init(&e, BACKUP_MANIFEST, 0, 1024);
	if (o->omit != T_VERSION)
		wire_put_u32(&e, T_VERSION, o->version);
	if (o->omit != T_CLUSTER_ID)
		wire_put_str(&e, T_CLUSTER_ID, o->cluster_id);
	if (o->omit != T_NODE_ID)
		wire_put_str(&e, T_NODE_ID, o->node_id);
	if (o->omit != T_CREATED)
		wire_put_i64(&e, T_CREATED, 1700000000);
	if (o->omit != T_RAFT_INDEX)
		wire_put_u64(&e, T_RAFT_INDEX, 4242);
	if (o->omit != T_STORE_SECRETS)
		wire_put_u64(&e, T_STORE_SECRETS, o->secrets);
	if (o->omit != T_STORE_SERVICES)
		wire_put_u64(&e, T_STORE_SERVICES, o->services);
	if (o->omit != T_STORE_NODES)
		wire_put_u64(&e, T_STORE_NODES, o->nodes);
	if (o->omit != T_AUTOLOCK)
		wire_put_bool(&e, T_AUTOLOCK, true);
	wire_put_bool(&e, T_FORCE, true);
	buf_add_enc(b, &e);
}

static void
add_keys(struct buf *b, size_t deklen)
{
	struct wire_enc e;
	uint8_t k[64];

	assert_true(deklen <= sizeof(k));
	memset(k, 0x5a, sizeof(k));
	memcpy(k, dek, deklen < sizeof(dek) ? deklen : sizeof(dek));
	wire_enc_init(&e, BACKUP_KEYS, 0, 128);
	wire_put_bytes(&e, T_DEK, k, deklen);
	buf_add_enc(b, &e);
}

static void
add_end(struct buf *b, uint32_t count)
{
	struct wire_enc e;

	wire_enc_init(&e, BACKUP_END, 0, 64);
	wire_put_u32(&e, T_COUNT, count);
	buf_add_enc(b, &e);
}

static void
add_snap_header_version(struct buf *b, uint32_t version)
{
	struct wire_enc e;

	wire_enc_init(&e, SNAP_HEADER, 0, 64);
	wire_put_u32(&e, T_VERSION, version);
	buf_add_enc(b, &e);
}

static void
add_snap_header(struct buf *b)
{
	add_snap_header_version(b, 3);
}

static void
add_snap_cluster(struct buf *b, const char *id)
{
	static const uint8_t ca_key[100] = { 1 }, ws[16] = { 2 }, ms[16] = { 3 };
	struct wire_enc e;

	wire_enc_init(&e, SNAP_CLUSTER, 0, 4096);
	wire_put_str(&e, T_CLUSTER_ID, id);
	wire_put_str(&e, T_CA_CERT, "-----BEGIN CERTIFICATE-----\n...\n");
	wire_put_bytes(&e, T_CA_KEY, ca_key, sizeof(ca_key));
	wire_put_bytes(&e, T_WORKER_SECRET, ws, sizeof(ws));
	wire_put_bytes(&e, T_MANAGER_SECRET, ms, sizeof(ms));
	wire_put_u64(&e, T_CERT_EXPIRY, 1800000000);
	wire_put_bool(&e, T_AUTOLOCK, true);
	wire_put_str(&e, T_ADVERTISE_ADDR, "10.0.0.1:7946");
	wire_put_i64(&e, T_CREATED, 1600000000);
	buf_add_enc(b, &e);
}

static void
add_snap_secret(struct buf *b, int i)
{
	uint8_t sealed[40 + SEAL_OVERHEAD];
	char id[HUSH_ID_LEN + 1], name[32];
	struct wire_enc e;

	assert_int_equal(hush_id_new(id), 0);
	snprintf(name, sizeof(name), "db/secret-%d", i);
	memset(sealed, i, sizeof(sealed));
	wire_enc_init(&e, SNAP_SECRET, 0, 4096);
	wire_put_str(&e, T_SECRET_ID, id);
	wire_put_str(&e, T_NAME, name);
	wire_put_i64(&e, T_CREATED, 1600000000 + i);
	wire_put_i64(&e, T_UPDATED, 1600000100 + i);
	wire_put_u32(&e, T_VERSION, (uint32_t)i);
	wire_put_str(&e, T_LABEL, "env=prod");
	wire_put_bytes(&e, T_SEALED, sealed, sizeof(sealed));
	buf_add_enc(b, &e);
}

static void
add_snap_node(struct buf *b, int i)
{
	char id[HUSH_ID_LEN + 1];
	struct wire_enc e;

	assert_int_equal(hush_id_new(id), 0);
	wire_enc_init(&e, SNAP_NODE, 0, 4096);
	wire_put_str(&e, T_NODE_ID, i == 0 ? node_id : id);
	wire_put_u8(&e, T_ROLE, 1);
	wire_put_str(&e, T_ADVERTISE_ADDR, "10.0.0.1:7946");
	wire_put_str(&e, T_AVAILABILITY, "active");
	wire_put_i64(&e, T_CREATED, 1600000000 + i);
	buf_add_enc(b, &e);
}

static void
add_snap_service(struct buf *b, int i)
{
	char id[HUSH_ID_LEN + 1], name[32];
	struct wire_enc e;

	assert_int_equal(hush_id_new(id), 0);
	snprintf(name, sizeof(name), "web-%d", i);
	wire_enc_init(&e, SNAP_SERVICE, 0, 4096);
	wire_put_str(&e, T_SERVICE_ID, id);
	wire_put_str(&e, T_NAME, name);
	wire_put_i64(&e, T_CREATED, 1600000000);
	wire_put_i64(&e, T_UPDATED, 1600000000);
	wire_put_u64(&e, T_VERSION, 1);
	buf_add_enc(b, &e);
}

/* A request's outcome the store remembers; counted as a record, nothing more. */
static void
add_snap_dedup(struct buf *b)
{
	uint8_t req[HUSH_REQ_ID_LEN];
	struct wire_enc e;

	memset(req, 7, sizeof(req));
	wire_enc_init(&e, SNAP_DEDUP, 0, 4096);
	wire_put_bytes(&e, T_REQ_ID, req, sizeof(req));
	wire_put_u32(&e, T_ERRCODE, 0);
	buf_add_enc(b, &e);
}

/*
 * The records of a store with 3 secrets, 2 nodes and a service (and a
 * dedup entry) over three chunks: 9 records.
 */
#define VALID_RECORDS	9
static void
add_valid_records(struct seq *s)
{
	struct buf *b;

	b = seq_next(s);
	add_snap_header(b);
	add_snap_cluster(b, cluster_id);
	add_snap_secret(b, 1);
	b = seq_next(s);
	add_snap_node(b, 0);
	add_snap_secret(b, 2);
	add_snap_service(b, 1);
	b = seq_next(s);
	add_snap_dedup(b);
	add_snap_node(b, 1);
	add_snap_secret(b, 3);
}

/* A whole valid backup's chunks. */
static void
valid_seq(struct seq *s)
{
	struct man_opts o = man_default();

	memset(s, 0, sizeof(*s));
	add_manifest(seq_next(s), &o);
	add_keys(seq_next(s), 32);
	add_valid_records(s);
	add_end(seq_next(s), VALID_RECORDS);
}

/* A valid backup up to its records, for a test to finish its own way. */
static void
valid_head(struct seq *s)
{
	struct man_opts o = man_default();

	memset(s, 0, sizeof(*s));
	add_manifest(seq_next(s), &o);
	add_keys(seq_next(s), 32);
}

/* The manifest of an empty store, and its keys. */
static void
empty_head(struct seq *s)
{
	struct man_opts o = man_default();

	o.secrets = o.services = o.nodes = 0;
	memset(s, 0, sizeof(*s));
	add_manifest(seq_next(s), &o);
	add_keys(seq_next(s), 32);
}

/* ---- feeding ------------------------------------------------------------ */

/*
 * Feeds s's chunks (the last one final) to c until one is refused: 0, or
 * the refusal's code with *at the chunk's index.
 */
static int
feed_seq(struct backup_contents *c, const struct seq *s, size_t *at, char *why,
    size_t whylen)
{
	size_t i;
	int r;

	why[0] = '\0';
	for (i = 0; i < s->n; i++) {
		if ((r = backup_contents_feed(c, s->c[i].p, s->c[i].len, i == s->n - 1, why,
		    whylen)) != 0) {
			*at = i;
			return r;
		}
	}
	*at = s->n;
	return 0;
}

/*
 * s must be refused with code at chunk index at, with why holding each of
 * the words; with keep on and off alike.  Frees s.
 */
static void
refused(struct seq *s, int code, size_t at, const char *w1, const char *w2)
{
	struct backup_contents c;
	char why[512];
	size_t where;
	int keep;

	for (keep = 0; keep < 2; keep++) {
		backup_contents_init(&c, keep);
		assert_int_equal(feed_seq(&c, s, &where, why, sizeof(why)), code);
		if (where != at || strstr(why, w1) == NULL ||
		    (w2 != NULL && strstr(why, w2) == NULL))
			fail_msg("refused at chunk %zu (expected %zu): \"%s\"; expected "
			    "\"%s\"%s%s", where, at, why, w1, w2 ? " and " : "", w2 ? w2 : "");
		assert_int_not_equal(c.phase, BC_DONE);
		backup_contents_free(&c);
	}
	seq_free(s);
}

/* ---- the valid backup --------------------------------------------------- */

static void
test_valid(void **state)
{
	struct backup_contents c;
	struct buf all = { NULL, 0 };
	struct seq s;
	char why[512];
	size_t at, i;
	int keep;

	(void)state;
	valid_seq(&s);
	/* What a restore keeps: every record, exactly as they came, in order. */
	for (i = 2; i < s.n - 1; i++)
		buf_add(&all, s.c[i].p, s.c[i].len);

	for (keep = 0; keep < 2; keep++) {
		backup_contents_init(&c, keep);
		assert_int_equal(c.phase, BC_MANIFEST);
		if (feed_seq(&c, &s, &at, why, sizeof(why)) != 0)
			fail_msg("refused at chunk %zu: %s", at, why);
		assert_int_equal(c.phase, BC_DONE);

		assert_int_equal(c.man.version, BACKUP_CONTENTS_VERSION);
		assert_string_equal(c.man.cluster_id, cluster_id);
		assert_string_equal(c.man.node_id, node_id);
		assert_int_equal(c.man.created, 1700000000);
		assert_int_equal(c.man.index, 4242);
		assert_int_equal(c.man.secrets, 3);
		assert_int_equal(c.man.services, 1);
		assert_int_equal(c.man.nodes, 2);
		assert_true(c.man.autolock);
		assert_true(c.man.force);

		assert_int_equal(c.dek.len, 32);
		assert_memory_equal(c.dek.p, dek, 32);
		assert_int_equal(c.snap_version, 3);
		assert_int_equal(c.nrecords, VALID_RECORDS);
		assert_int_equal(c.nsecrets, 3);
		assert_int_equal(c.nservices, 1);
		assert_int_equal(c.nnodes, 2);
		assert_int_equal(c.nclusters, 1);
		if (keep) {
			assert_int_equal(c.len, all.len);
			assert_non_null(c.records);
			assert_memory_equal(c.records, all.p, all.len);
		} else {
			assert_int_equal(c.len, 0);
			assert_null(c.records);
		}

		/* Freed: nothing held, ready again, keep as it was. */
		backup_contents_free(&c);
		assert_null(c.records);
		assert_int_equal(c.len, 0);
		assert_null(c.dek.p);
		assert_int_equal(c.phase, BC_MANIFEST);
		assert_int_equal(c.keep, keep);
	}
	free(all.p);
	seq_free(&s);
}

/* Without T_FORCE (it is optional) the manifest says the backup was not forced. */
static void
test_valid_unforced_and_phases(void **state)
{
	struct backup_contents c;
	struct wire_enc e;
	struct buf m = { NULL, 0 };
	struct seq s;
	char why[512];
	size_t i;

	(void)state;
	valid_seq(&s);
	wire_enc_init(&e, BACKUP_MANIFEST, 0, 1024);
	wire_put_u32(&e, T_VERSION, BACKUP_CONTENTS_VERSION);
	wire_put_str(&e, T_CLUSTER_ID, cluster_id);
	wire_put_str(&e, T_NODE_ID, node_id);
	wire_put_i64(&e, T_CREATED, 1);
	wire_put_u64(&e, T_RAFT_INDEX, 2);
	wire_put_u64(&e, T_STORE_SECRETS, 3);
	wire_put_u64(&e, T_STORE_SERVICES, 1);
	wire_put_u64(&e, T_STORE_NODES, 2);
	wire_put_bool(&e, T_AUTOLOCK, false);
	buf_add_enc(&m, &e);
	free(s.c[0].p);
	s.c[0] = m;

	/* One phase per chunk of its kind: manifest, keys, records..., done. */
	backup_contents_init(&c, true);
	for (i = 0; i < s.n; i++) {
		assert_int_equal(c.phase, i == 0 ? BC_MANIFEST : i == 1 ? BC_KEYS : BC_RECORDS);
		assert_int_equal(backup_contents_feed(&c, s.c[i].p, s.c[i].len, i == s.n - 1,
		    why, sizeof(why)), 0);
	}
	assert_int_equal(c.phase, BC_DONE);
	assert_false(c.man.force);
	assert_false(c.man.autolock);
	backup_contents_free(&c);
	seq_free(&s);
}

/* Empty records chunks and one record per chunk are all the same store. */
static void
test_valid_other_chunking(void **state)
{
	struct backup_contents c;
	struct seq s, t;
	struct buf *b;
	char why[512];
	size_t at, i, off;
	uint8_t *p;

	(void)state;
	valid_seq(&s);
	/* Re-cut the records one per chunk, with an empty chunk first. */
	valid_head(&t);
	(void)seq_next(&t);
	for (i = 2; i < s.n - 1; i++) {
		p = s.c[i].p;
		for (off = 0; off < s.c[i].len; ) {
			struct wire_hdr h;

			assert_int_equal(wire_peek_hdr(p + off, s.c[i].len - off, &h), 0);
			b = seq_next(&t);
			buf_add(b, p + off, WIRE_HDR_LEN + h.length);
			off += WIRE_HDR_LEN + h.length;
		}
	}
	add_end(seq_next(&t), VALID_RECORDS);
	assert_int_equal(t.n, 2 + 1 + VALID_RECORDS + 1);

	backup_contents_init(&c, true);
	if (feed_seq(&c, &t, &at, why, sizeof(why)) != 0)
		fail_msg("refused at chunk %zu: %s", at, why);
	assert_int_equal(c.phase, BC_DONE);
	assert_int_equal(c.nrecords, VALID_RECORDS);
	assert_int_equal(c.len, s.c[2].len + s.c[3].len + s.c[4].len);
	assert_memory_equal(c.records, s.c[2].p, s.c[2].len);
	backup_contents_free(&c);
	seq_free(&s);
	seq_free(&t);
}

/* ---- the manifest and keys ---------------------------------------------- */

static void
test_first_chunk_not_manifest(void **state)
{
	struct seq s;

	(void)state;
	/* The keys first. */
	valid_seq(&s);
	free(s.c[0].p);
	memmove(&s.c[0], &s.c[1], sizeof(s.c[0]) * (s.n - 1));
	memset(&s.c[--s.n], 0, sizeof(s.c[0]));
	refused(&s, HUSH_E_CORRUPT, 0, "manifest is malformed", "BACKUP_KEYS");

	/* A snapshot record first. */
	valid_seq(&s);
	free(s.c[0].p);
	s.c[0].p = NULL;
	s.c[0].len = 0;
	add_snap_header(&s.c[0]);
	refused(&s, HUSH_E_CORRUPT, 0, "manifest is malformed", "SNAP_HEADER");

	/* Nothing at all in it. */
	valid_seq(&s);
	s.c[0].len = 0;
	refused(&s, HUSH_E_CORRUPT, 0, "manifest is malformed", "undecodable");

	/* A manifest with a byte more after it. */
	valid_seq(&s);
	buf_add(&s.c[0], (const uint8_t *)"x", 1);
	refused(&s, HUSH_E_CORRUPT, 0, "manifest is malformed", NULL);
}

static void
test_manifest_lacks_field(void **state)
{
	static const struct {
		uint16_t	 tag;
		const char	*name;
	} req[] = {
		{ T_VERSION, "'VERSION'" },
		{ T_CLUSTER_ID, "'CLUSTER_ID'" },
		{ T_NODE_ID, "'NODE_ID'" },
		{ T_CREATED, "'CREATED'" },
		{ T_RAFT_INDEX, "'RAFT_INDEX'" },
		{ T_STORE_SECRETS, "'STORE_SECRETS'" },
		{ T_STORE_SERVICES, "'STORE_SERVICES'" },
		{ T_STORE_NODES, "'STORE_NODES'" },
		{ T_AUTOLOCK, "'AUTOLOCK'" },
	};
	struct man_opts o;
	struct seq s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		valid_seq(&s);
		free(s.c[0].p);
		memset(&s.c[0], 0, sizeof(s.c[0]));
		o = man_default();
		o.omit = req[i].tag;
		add_manifest(&s.c[0], &o);
		refused(&s, HUSH_E_CORRUPT, 0, "manifest is malformed", req[i].name);
	}
}

static void
test_manifest_version(void **state)
{
	static const uint32_t bad[] = { 0, BACKUP_CONTENTS_VERSION + 1, UINT32_MAX };
	struct man_opts o;
	struct seq s;
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		valid_seq(&s);
		free(s.c[0].p);
		memset(&s.c[0], 0, sizeof(s.c[0]));
		o = man_default();
		o.version = bad[i];
		add_manifest(&s.c[0], &o);
		snprintf(want, sizeof(want), "contents of version %u", bad[i]);
		refused(&s, HUSH_E_VERSION, 0, want, "reads version 1");
	}
}

/* A store this hush cannot load is refused by --verify, not only by a restore. */
static void
test_snapshot_version(void **state)
{
	static const uint32_t bad[] = { 0, HUSH_SNAP_VERSION + 1, UINT32_MAX };
	struct seq s;
	char want[80];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		empty_head(&s);
		add_snap_header_version(seq_next(&s), bad[i]);
		add_end(seq_next(&s), 1);
		snprintf(want, sizeof(want), "snapshot version %u", bad[i]);
		refused(&s, HUSH_E_VERSION, 2, want, "reads versions 1 to 3");
	}
}

static void
test_manifest_malformed_ids(void **state)
{
	/* Right length (the schema's check), wrong alphabet or too big. */
	static const char *bad[] = {
		"ABCDEFGHIJKLMNOPQRSTUVWXY",
		"zzzzzzzzzzzzzzzzzzzzzzzzz",
		"0000000000000000000000-00",
	};
	struct man_opts o;
	struct seq s;
	size_t i;
	int which;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (which = 0; which < 2; which++) {
			valid_seq(&s);
			free(s.c[0].p);
			memset(&s.c[0], 0, sizeof(s.c[0]));
			o = man_default();
			if (which == 0)
				o.cluster_id = bad[i];
			else
				o.node_id = bad[i];
			add_manifest(&s.c[0], &o);
			refused(&s, HUSH_E_CORRUPT, 0, "manifest names a malformed id", NULL);
		}
	}
	/* Of the wrong length: the schema says so. */
	valid_seq(&s);
	free(s.c[0].p);
	memset(&s.c[0], 0, sizeof(s.c[0]));
	o = man_default();
	o.cluster_id = "abc";
	add_manifest(&s.c[0], &o);
	refused(&s, HUSH_E_CORRUPT, 0, "manifest is malformed", "'CLUSTER_ID'");
}

static void
test_keys(void **state)
{
	static const size_t bad[] = { 0, 16, 31, 33, 64 };
	struct seq s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		valid_seq(&s);
		free(s.c[1].p);
		memset(&s.c[1], 0, sizeof(s.c[1]));
		add_keys(&s.c[1], bad[i]);
		refused(&s, HUSH_E_CORRUPT, 1, "key chunk is malformed", "'DEK'");
	}

	/* A second manifest where the keys belong. */
	valid_seq(&s);
	free(s.c[1].p);
	s.c[1].p = malloc(s.c[0].len);
	assert_non_null(s.c[1].p);
	memcpy(s.c[1].p, s.c[0].p, s.c[0].len);
	s.c[1].len = s.c[0].len;
	refused(&s, HUSH_E_CORRUPT, 1, "key chunk is malformed", "BACKUP_MANIFEST");

	/* No keys at all: records right after the manifest. */
	valid_seq(&s);
	free(s.c[1].p);
	memmove(&s.c[1], &s.c[2], sizeof(s.c[0]) * (s.n - 2));
	memset(&s.c[--s.n], 0, sizeof(s.c[0]));
	refused(&s, HUSH_E_CORRUPT, 1, "key chunk is malformed", "undecodable");

	/* The same with one record in that chunk: named by its type. */
	valid_seq(&s);
	s.c[1].len = 0;
	add_snap_header(&s.c[1]);
	refused(&s, HUSH_E_CORRUPT, 1, "key chunk is malformed", "SNAP_HEADER");
}

/* ---- the records -------------------------------------------------------- */

static void
test_record_cut(void **state)
{
	struct seq s;
	struct buf *b;
	size_t cut;

	(void)state;
	/* The cluster record cut in the middle; nothing follows in its chunk. */
	valid_head(&s);
	b = seq_next(&s);
	add_snap_header(b);
	cut = b->len;
	add_snap_cluster(b, cluster_id);
	b->len = cut + (b->len - cut) / 2;
	add_end(seq_next(&s), 2);
	refused(&s, HUSH_E_CORRUPT, 2, "record 2 of the backup is cut short", NULL);

	/* Only part of a record's header at a chunk's end. */
	valid_seq(&s);
	buf_add(&s.c[3], s.c[4].p, WIRE_HDR_LEN - 1);
	refused(&s, HUSH_E_CORRUPT, 3, "record 7 of the backup is cut short", NULL);

	/* A record split over two chunks: each chunk holds whole records only. */
	valid_seq(&s);
	buf_add(&s.c[3], s.c[4].p, 20);
	memmove(s.c[4].p, s.c[4].p + 20, s.c[4].len - 20);
	s.c[4].len -= 20;
	refused(&s, HUSH_E_CORRUPT, 3, "record 7 of the backup is cut short", NULL);
}

static void
test_record_wrong_type(void **state)
{
	struct man_opts o = man_default();
	struct wire_enc e;
	struct seq s;
	struct buf *b;

	(void)state;
	/* A manifest among the records. */
	valid_seq(&s);
	add_manifest(&s.c[3], &o);
	refused(&s, HUSH_E_CORRUPT, 3, "record 7 of the backup is malformed",
	    "BACKUP_MANIFEST");

	/* A secret's public record (REC_SECRET), not a snapshot's. */
	valid_seq(&s);
	wire_enc_init(&e, REC_SECRET, 0, 1024);
	wire_put_str(&e, T_NAME, "x");
	buf_add_enc(&s.c[2], &e);
	refused(&s, HUSH_E_CORRUPT, 2, "record 4 of the backup is malformed", "REC_SECRET");

	/* A snapshot record that breaks its schema: a secret without a name. */
	valid_head(&s);
	b = seq_next(&s);
	add_snap_header(b);
	add_snap_cluster(b, cluster_id);
	wire_enc_init(&e, SNAP_SECRET, 0, 1024);
	wire_put_str(&e, T_SECRET_ID, cluster_id);
	wire_put_i64(&e, T_CREATED, 1);
	wire_put_i64(&e, T_UPDATED, 1);
	wire_put_u32(&e, T_VERSION, 1);
	buf_add_enc(b, &e);
	add_end(seq_next(&s), 3);
	refused(&s, HUSH_E_CORRUPT, 2, "record 3 of the backup is malformed", "'NAME'");

	/* A record of a wire version this hush does not speak: not "cut short". */
	valid_seq(&s);
	s.c[3].p[1] = 2;
	refused(&s, HUSH_E_CORRUPT, 3, "record 4 of the backup is malformed",
	    "unsupported version");

	/* A record longer than any message may be. */
	valid_seq(&s);
	memset(s.c[3].p + 8, 0xff, 4);
	refused(&s, HUSH_E_CORRUPT, 3, "record 4 of the backup is malformed", "too large");

	/* A BACKUP_END in the middle of a records chunk. */
	valid_seq(&s);
	add_end(&s.c[3], 5);
	refused(&s, HUSH_E_CORRUPT, 3, "record 7 of the backup is malformed", "BACKUP_END");
}

static void
test_snap_header_place(void **state)
{
	struct seq s;
	struct buf *b;

	(void)state;
	/* The cluster first: no header. */
	valid_head(&s);
	b = seq_next(&s);
	add_snap_cluster(b, cluster_id);
	add_end(seq_next(&s), 1);
	refused(&s, HUSH_E_CORRUPT, 2, "record 1 of the backup is out of place", "SNAP_CLUSTER");

	/* A secret first. */
	valid_head(&s);
	b = seq_next(&s);
	add_snap_secret(b, 1);
	add_end(seq_next(&s), 1);
	refused(&s, HUSH_E_CORRUPT, 2, "record 1 of the backup is out of place", "SNAP_SECRET");

	/* A header twice, right after the first. */
	valid_head(&s);
	b = seq_next(&s);
	add_snap_header(b);
	add_snap_header(b);
	add_end(seq_next(&s), 2);
	refused(&s, HUSH_E_CORRUPT, 2, "record 2 of the backup is out of place", "SNAP_HEADER");

	/* A header again, later and in another chunk. */
	valid_seq(&s);
	add_snap_header(&s.c[4]);
	refused(&s, HUSH_E_CORRUPT, 4, "record 10 of the backup is out of place", "SNAP_HEADER");
}

static void
test_snap_cluster_place(void **state)
{
	struct backup_contents c;
	struct seq s;
	struct buf *b;
	char why[512];
	size_t at;

	(void)state;
	/* A secret where the cluster belongs. */
	valid_head(&s);
	b = seq_next(&s);
	add_snap_header(b);
	add_snap_secret(b, 1);
	add_snap_cluster(b, cluster_id);
	add_end(seq_next(&s), 3);
	refused(&s, HUSH_E_CORRUPT, 2, "record 2 of the backup is out of place", "SNAP_SECRET");

	/* The cluster twice. */
	valid_seq(&s);
	add_snap_cluster(&s.c[3], cluster_id);
	refused(&s, HUSH_E_CORRUPT, 3, "record 7 of the backup is out of place", "SNAP_CLUSTER");

	/* Of another cluster than the manifest says. */
	valid_head(&s);
	b = seq_next(&s);
	add_snap_header(b);
	add_snap_cluster(b, other_cluster_id);
	add_end(seq_next(&s), 2);
	refused(&s, HUSH_E_CORRUPT, 2, "store is of another cluster than its manifest", NULL);

	/*
	 * No cluster record: only the header, or no records at all.  The
	 * manifest promises an empty store, so that nothing else is amiss.
	 */
	empty_head(&s);
	add_snap_header(seq_next(&s));
	add_end(seq_next(&s), 1);
	refused(&s, HUSH_E_CORRUPT, 3, "no cluster record", NULL);

	empty_head(&s);
	add_end(seq_next(&s), 0);
	refused(&s, HUSH_E_CORRUPT, 2, "no cluster record", NULL);

	/* Such an empty store with its cluster record is a backup. */
	empty_head(&s);
	add_snap_header(seq_next(&s));
	add_snap_cluster(seq_next(&s), cluster_id);
	add_end(seq_next(&s), 2);
	backup_contents_init(&c, true);
	if (feed_seq(&c, &s, &at, why, sizeof(why)) != 0)
		fail_msg("refused at chunk %zu: %s", at, why);
	assert_int_equal(c.phase, BC_DONE);
	backup_contents_free(&c);
	seq_free(&s);
}

/* ---- the counts and the end --------------------------------------------- */

static void
test_end_count(void **state)
{
	static const uint32_t bad[] = { 0, VALID_RECORDS - 1, VALID_RECORDS + 1, UINT32_MAX };
	struct seq s;
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		valid_seq(&s);
		s.c[s.n - 1].len = 0;
		add_end(&s.c[s.n - 1], bad[i]);
		snprintf(want, sizeof(want), "promises %u records and holds %u", bad[i],
		    VALID_RECORDS);
		refused(&s, HUSH_E_CORRUPT, 5, want, NULL);
	}

	/* An end without its count. */
	valid_seq(&s);
	s.c[s.n - 1].len = 0;
	{
		struct wire_enc e;

		wire_enc_init(&e, BACKUP_END, 0, 64);
		buf_add_enc(&s.c[s.n - 1], &e);
	}
	refused(&s, HUSH_E_CORRUPT, 5, "end is malformed", "'COUNT'");
}

static void
test_manifest_counts(void **state)
{
	static const struct {
		uint64_t	 secrets, services, nodes;
	} bad[] = {
		{ 2, 1, 2 }, { 4, 1, 2 }, { 3, 0, 2 }, { 3, 2, 2 }, { 3, 1, 1 },
		{ 3, 1, 3 }, { UINT64_MAX, 1, 2 }, { 0, 0, 0 },
	};
	struct man_opts o;
	struct seq s;
	char want[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		valid_seq(&s);
		free(s.c[0].p);
		memset(&s.c[0], 0, sizeof(s.c[0]));
		o = man_default();
		o.secrets = bad[i].secrets;
		o.services = bad[i].services;
		o.nodes = bad[i].nodes;
		add_manifest(&s.c[0], &o);
		snprintf(want, sizeof(want), "manifest promises %llu secrets, %llu services "
		    "and %llu nodes; it holds 3, 1 and 2", (unsigned long long)bad[i].secrets,
		    (unsigned long long)bad[i].services, (unsigned long long)bad[i].nodes);
		refused(&s, HUSH_E_CORRUPT, 5, want, NULL);
	}
}

static void
test_final_not_end(void **state)
{
	struct seq s;

	(void)state;
	/* The records' last chunk is final: the end never comes. */
	valid_seq(&s);
	free(s.c[--s.n].p);
	memset(&s.c[s.n], 0, sizeof(s.c[0]));
	refused(&s, HUSH_E_CORRUPT, 4, "ends before", NULL);

	/* The manifest alone, final. */
	valid_seq(&s);
	s.n = 1;
	refused(&s, HUSH_E_CORRUPT, 0, "ends before", NULL);

	/* Manifest and keys, the keys final. */
	valid_seq(&s);
	s.n = 2;
	refused(&s, HUSH_E_CORRUPT, 1, "ends before", NULL);

	/* An end, but where the keys belong: final and not after the records. */
	valid_head(&s);
	free(s.c[1].p);
	memset(&s.c[1], 0, sizeof(s.c[1]));
	add_end(&s.c[1], 0);
	refused(&s, HUSH_E_CORRUPT, 1, "ends before", NULL);

	/* An empty final chunk. */
	valid_seq(&s);
	s.c[s.n - 1].len = 0;
	refused(&s, HUSH_E_CORRUPT, 5, "ends before", NULL);
}

static void
test_end_not_final(void **state)
{
	struct seq s;

	(void)state;
	/* The end, then another records chunk, final. */
	valid_seq(&s);
	add_snap_secret(seq_next(&s), 4);
	refused(&s, HUSH_E_CORRUPT, 5, "end is not its final chunk", NULL);

	/* The end twice. */
	valid_seq(&s);
	add_end(seq_next(&s), VALID_RECORDS);
	refused(&s, HUSH_E_CORRUPT, 5, "end is not its final chunk", NULL);
}

static void
test_after_end(void **state)
{
	struct backup_contents c;
	struct seq s;
	char why[512];
	size_t at, i;
	int keep, final;

	(void)state;
	valid_seq(&s);
	for (keep = 0; keep < 2; keep++) {
		for (final = 0; final < 2; final++) {
			backup_contents_init(&c, keep);
			assert_int_equal(feed_seq(&c, &s, &at, why, sizeof(why)), 0);
			/* Whatever comes after, final or not, even another end. */
			for (i = 0; i < s.n; i++) {
				why[0] = '\0';
				assert_int_equal(backup_contents_feed(&c, s.c[i].p, s.c[i].len,
				    final, why, sizeof(why)), HUSH_E_CORRUPT);
				assert_non_null(strstr(why, "goes on after its end"));
			}
			/* And what it holds stays as it was. */
			assert_int_equal(c.phase, BC_DONE);
			assert_int_equal(c.nrecords, VALID_RECORDS);
			backup_contents_free(&c);
		}
	}
	seq_free(&s);
}

/* ---- through a real backup file ----------------------------------------- */

static const uint8_t kek[BACKUP_KEK_BYTES] = { 0x11, 0x22, 0x33 };

/* s written by the real writer into an unlinked temporary file, at offset 0. */
static int
write_backup(const struct seq *s, const bool *final_at)
{
	char path[] = "/tmp/hush-test-contents-XXXXXX";
	struct backup_writer w;
	struct backup_hdr h;
	uint8_t key[BACKUP_KEY_BYTES];
	size_t i;
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(unlink(path), 0);
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	assert_int_equal(backup_key_from_kek(kek, &h, key), 0);
	assert_int_equal(backup_writer_open(&w, fd, &h, key), 0);
	for (i = 0; i < s->n; i++)
		assert_int_equal(backup_writer_put(&w, s->c[i].p, s->c[i].len,
		    final_at != NULL ? final_at[i] : i == s->n - 1), 0);
	backup_writer_close(&w);
	sodium_memzero(key, sizeof(key));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* The file at fd read into c (keep as told): backup_contents_read's code. */
static int
read_backup(int fd, struct backup_contents *c, bool keep, char *why, size_t whylen)
{
	struct backup_reader r;
	uint8_t key[BACKUP_KEY_BYTES];
	int rc;

	backup_contents_init(c, keep);
	assert_int_equal(backup_reader_open_fd(&r, fd, why, whylen), 0);
	assert_int_equal(backup_key_from_kek(kek, backup_reader_hdr(&r), key), 0);
	assert_int_equal(backup_reader_key(&r, key, why, whylen), 0);
	why[0] = '\0';
	rc = backup_contents_read(c, &r, why, whylen);
	backup_reader_close(&r);
	sodium_memzero(key, sizeof(key));
	return rc;
}

static void
test_read_file(void **state)
{
	struct backup_contents c;
	struct seq s;
	char why[512];
	size_t i, off;
	int fd, keep;

	(void)state;
	valid_seq(&s);
	fd = write_backup(&s, NULL);
	for (keep = 0; keep < 2; keep++) {
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		if (read_backup(fd, &c, keep, why, sizeof(why)) != 0)
			fail_msg("a valid backup refused: %s", why);
		assert_int_equal(c.phase, BC_DONE);
		assert_int_equal(c.nrecords, VALID_RECORDS);
		assert_string_equal(c.man.cluster_id, cluster_id);
		assert_memory_equal(c.dek.p, dek, 32);
		if (keep) {
			for (i = 2, off = 0; i < s.n - 1; off += s.c[i].len, i++)
				assert_memory_equal(c.records + off, s.c[i].p, s.c[i].len);
			assert_int_equal(c.len, off);
		} else {
			assert_null(c.records);
		}
		backup_contents_free(&c);
	}
	close(fd);
	seq_free(&s);
}

/* A sound container whose chunks do not make a backup: refused all the same. */
static void
test_read_file_refused(void **state)
{
	struct backup_contents c;
	struct seq s;
	char why[512];
	bool final_at[MAXCHUNKS];
	size_t i;
	int fd;

	(void)state;
	/* Sealed and finalized properly, but its final chunk holds records. */
	valid_seq(&s);
	free(s.c[--s.n].p);
	memset(&s.c[s.n], 0, sizeof(s.c[0]));
	fd = write_backup(&s, NULL);
	assert_int_equal(read_backup(fd, &c, true, why, sizeof(why)), HUSH_E_CORRUPT);
	assert_non_null(strstr(why, "ends before"));
	assert_int_not_equal(c.phase, BC_DONE);
	backup_contents_free(&c);
	close(fd);
	seq_free(&s);

	/* Its end is not its final chunk: a records chunk comes after. */
	valid_seq(&s);
	add_snap_secret(seq_next(&s), 9);
	fd = write_backup(&s, NULL);
	assert_int_equal(read_backup(fd, &c, false, why, sizeof(why)), HUSH_E_CORRUPT);
	assert_non_null(strstr(why, "end is not its final chunk"));
	backup_contents_free(&c);
	close(fd);
	seq_free(&s);

	/* The counts do not add up. */
	valid_seq(&s);
	s.c[s.n - 1].len = 0;
	add_end(&s.c[s.n - 1], VALID_RECORDS + 1);
	fd = write_backup(&s, NULL);
	assert_int_equal(read_backup(fd, &c, true, why, sizeof(why)), HUSH_E_CORRUPT);
	assert_non_null(strstr(why, "promises 10 records and holds 9"));
	backup_contents_free(&c);
	close(fd);
	seq_free(&s);

	/*
	 * The container's own fault comes through as the reader says it: the
	 * file stops after the records, with no final chunk at all.
	 */
	valid_seq(&s);
	for (i = 0; i < s.n; i++)
		final_at[i] = false;
	s.n--;		/* the end is never written */
	fd = write_backup(&s, final_at);
	assert_int_equal(read_backup(fd, &c, true, why, sizeof(why)), HUSH_E_TRUNCATED);
	assert_true(why[0] != '\0');
	assert_int_equal(c.phase, BC_RECORDS);
	assert_int_equal(c.nrecords, VALID_RECORDS);
	backup_contents_free(&c);
	close(fd);
	s.n++;
	seq_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_valid_unforced_and_phases),
		cmocka_unit_test(test_valid_other_chunking),
		cmocka_unit_test(test_first_chunk_not_manifest),
		cmocka_unit_test(test_manifest_lacks_field),
		cmocka_unit_test(test_manifest_version),
		cmocka_unit_test(test_snapshot_version),
		cmocka_unit_test(test_manifest_malformed_ids),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_record_cut),
		cmocka_unit_test(test_record_wrong_type),
		cmocka_unit_test(test_snap_header_place),
		cmocka_unit_test(test_snap_cluster_place),
		cmocka_unit_test(test_end_count),
		cmocka_unit_test(test_manifest_counts),
		cmocka_unit_test(test_final_not_end),
		cmocka_unit_test(test_end_not_final),
		cmocka_unit_test(test_after_end),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_file_refused),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}
