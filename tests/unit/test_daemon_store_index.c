/*
 * Randomized tests of the store's lookup structures, each against a naive
 * reference, with fixed seeds so that a failure reproduces:
 *
 *  - store_index (daemon/raft/store_index.c): adds, removals and moves
 *    over an array of records this test owns, driven exactly as store.c
 *    drives them (swap-remove: the last record moves into the freed slot),
 *    compared with a linear search of the array; in a table kept small
 *    enough that probe runs wrap around its end, and through growth;
 *  - store_order (daemon/raft/store_order.c): adds and swap-removes with
 *    store_order_ready() at random moments, compared with a sort of the
 *    live keys, and store_order_after() for every kind of cursor;
 *  - the store itself, through store_apply() and store_query(): thousands
 *    of secrets created, removed, updated and re-created, every one found
 *    by id and by name (or not, once removed), a paged list giving each
 *    exactly once in id order, the same after a snapshot and restore, and
 *    the dedup ring forgetting exactly what is more than 4096 commands old.
 *
 * The hash keys of the indexes are set from the seed too (they are random
 * in the daemon), so the tables' layouts, not only the operations, repeat.
 */
#include <stdarg.h>
#include <stdbool.h>
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
#include "raft/store_index.h"
#include "raft/store_order.h"
#include "store_fixture.h"
#include "wire.h"

/* ---- a reproducible generator ------------------------------------------- */


static uint64_t rng_state;

static void
rng_seed(uint64_t seed)
{
	rng_state = seed;
}

/* splitmix64 */
static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t
rng_below(size_t n)
{
	return (size_t)(rng_next() % n);
}

static void
fixed_hashkey(struct store_index *ix)
{
	for (size_t i = 0; i < sizeof(ix->hashkey); i++)
		ix->hashkey[i] = (uint8_t)rng_next();
}

/*
 * Key number i of a family: the prefix, then i in binary as 'a'/'b'
 * without its leading 1.  Distinct for distinct i, and many are prefixes
 * of others ("xa" < "xaa" < "xab" < "xb"...), the case a compare that
 * stops early gets wrong.
 */
static void
pool_key(char *out, size_t outlen, const char *prefix, size_t i)
{
	size_t v = i + 1, o, bits = 0;

	o = (size_t)snprintf(out, outlen, "%s", prefix);
	for (size_t t = v; t > 1; t >>= 1)
		bits++;
	while (bits-- > 0 && o + 1 < outlen)
		out[o++] = (v >> bits) & 1 ? 'b' : 'a';
	out[o] = '\0';
}

/* ---- store_index against a linear search -------------------------------- */

#define IX_POOL	8192

struct irec {
	char	id[32];
	char	name[32];
	size_t	id_no, name_no;		/* pool numbers, for the live maps */
};

static struct irec *irecs;	/* the store's array: realloc moves it */
static size_t nirecs, capirecs;
static uint32_t id_slot[IX_POOL], name_slot[IX_POOL];	/* pool number -> slot */
static struct store_index ix_ids, ix_names;
static size_t wrapped_seen;	/* entries seen stored before their home */

static const char *
irec_id(const void *records, uint32_t slot)
{
	return ((const struct irec *)records)[slot].id;
}

static const char *
irec_name(const void *records, uint32_t slot)
{
	return ((const struct irec *)records)[slot].name;
}

/* The reference: where key is, by reading every record. */
static uint32_t
linear_find(const char *key, bool by_name)
{
	for (size_t i = 0; i < nirecs; i++)
		if (strcmp(by_name ? irecs[i].name : irecs[i].id, key) == 0)
			return (uint32_t)i;
	return STORE_INDEX_NONE;
}

/*
 * The table itself: no entry is cut off from its home by an empty one
 * (what backward-shift deletion must keep true), and it holds n entries.
 */
static void
check_table(const struct store_index *ix)
{
	size_t mask = ix->cap - 1, count = 0;

	if (ix->cap == 0) {
		assert_int_equal(ix->n, 0);
		return;
	}
	for (size_t i = 0; i < ix->cap; i++) {
		size_t home;

		if (ix->ent[i].hash == 0)
			continue;
		count++;
		assert_true(ix->ent[i].slot < nirecs);
		home = ix->ent[i].hash & mask;
		if (home > i)
			wrapped_seen++;
		for (size_t j = home; j != i; j = (j + 1) & mask)
			if (ix->ent[j].hash == 0)
				fail_msg("entry %zu (home %zu) is behind the empty entry %zu",
				    i, home, j);
	}
	assert_int_equal(count, ix->n);
}

static void
check_index_full(void)
{
	assert_int_equal(ix_ids.n, nirecs);
	assert_int_equal(ix_names.n, nirecs);
	check_table(&ix_ids);
	check_table(&ix_names);
	/* n entries, each record's keys at its slot: a bijection. */
	for (size_t i = 0; i < nirecs; i++) {
		assert_int_equal(store_index_find(&ix_ids, irecs[i].id), i);
		assert_int_equal(store_index_find(&ix_names, irecs[i].name), i);
		assert_int_equal(id_slot[irecs[i].id_no], i);
		assert_int_equal(name_slot[irecs[i].name_no], i);
	}
}

static void
irec_add(void)
{
	size_t idn, namen;
	uint32_t slot = (uint32_t)nirecs;

	do
		idn = rng_below(IX_POOL);
	while (id_slot[idn] != STORE_INDEX_NONE);
	do
		namen = rng_below(IX_POOL);
	while (name_slot[namen] != STORE_INDEX_NONE);
	if (nirecs == capirecs) {
		/* Grow by one at a time now and then: the array moves often. */
		capirecs = capirecs < 8 ? capirecs + 1 : capirecs + capirecs / 4;
		assert_non_null(irecs = reallocarray(irecs, capirecs, sizeof(*irecs)));
	}
	memset(&irecs[slot], 0, sizeof(irecs[slot]));
	pool_key(irecs[slot].id, sizeof(irecs[slot].id), "i", idn);
	pool_key(irecs[slot].name, sizeof(irecs[slot].name), "n", namen);
	irecs[slot].id_no = idn;
	irecs[slot].name_no = namen;
	assert_int_equal(store_index_add(&ix_ids, irecs[slot].id, slot), 0);
	assert_int_equal(store_index_add(&ix_names, irecs[slot].name, slot), 0);
	nirecs++;
	id_slot[idn] = slot;
	name_slot[namen] = slot;
}

/* As store.c's remove_secret(): keys out, last record in, its keys moved. */
static void
irec_remove(uint32_t slot)
{
	uint32_t last = (uint32_t)nirecs - 1;

	store_index_del(&ix_ids, irecs[slot].id);
	store_index_del(&ix_names, irecs[slot].name);
	id_slot[irecs[slot].id_no] = STORE_INDEX_NONE;
	name_slot[irecs[slot].name_no] = STORE_INDEX_NONE;
	if (slot != last) {
		irecs[slot] = irecs[last];
		store_index_move(&ix_ids, irecs[slot].id, slot);
		store_index_move(&ix_names, irecs[slot].name, slot);
		id_slot[irecs[slot].id_no] = slot;
		name_slot[irecs[slot].name_no] = slot;
	}
	memset(&irecs[last], 0, sizeof(irecs[last]));
	nirecs--;
}

/* A lookup of any pool key, present or not, against the linear search. */
static void
irec_probe(void)
{
	char key[32];
	bool by_name = rng_below(2) == 0;

	pool_key(key, sizeof(key), by_name ? "n" : "i", rng_below(IX_POOL));
	assert_int_equal(store_index_find(by_name ? &ix_names : &ix_ids, key),
	    linear_find(key, by_name));
}

/* ops random steps keeping between lo and hi records; full checks every so often. */
static void
index_phase(size_t ops, size_t lo, size_t hi, size_t check_every)
{
	for (size_t k = 0; k < ops; k++) {
		size_t what = rng_below(10);
		size_t before = ix_ids.n;

		if ((what < 4 && nirecs < hi) || nirecs < lo || nirecs == 0) {
			irec_add();
			assert_int_equal(ix_ids.n, before + 1);
		} else if (what < 8 && nirecs > lo) {
			irec_remove((uint32_t)rng_below(nirecs));
			assert_int_equal(ix_ids.n, before - 1);
		} else {
			irec_probe();
		}
		if (k % check_every == 0)
			check_index_full();
	}
	check_index_full();
}

static void
index_reset(void)
{
	free(irecs);
	irecs = NULL;
	nirecs = capirecs = 0;
	for (size_t i = 0; i < IX_POOL; i++)
		id_slot[i] = name_slot[i] = STORE_INDEX_NONE;
	store_index_init(&ix_ids, irec_id, (const void *const *)&irecs);
	store_index_init(&ix_names, irec_name, (const void *const *)&irecs);
	fixed_hashkey(&ix_ids);
	fixed_hashkey(&ix_names);
}

static void
index_done(void)
{
	store_index_free(&ix_ids);
	store_index_free(&ix_names);
	free(irecs);
	irecs = NULL;
	nirecs = capirecs = 0;
}

/*
 * Churn in the smallest table (64 entries, at most 40 used, so it never
 * grows): runs of entries wrap around its end all the time, and every
 * deletion's shift must treat the wrap as the run going on.
 */
static void
test_index_small_table_wraps(void **state)
{
	static const uint64_t seeds[] = { 1, 0x5eed, 0xfeedface, 424242 };

	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		rng_seed(seeds[s]);
		index_reset();
		wrapped_seen = 0;
		/* Empty index: nothing found, a removal does nothing. */
		assert_int_equal(store_index_find(&ix_ids, "i"), STORE_INDEX_NONE);
		store_index_del(&ix_ids, "i");
		store_index_move(&ix_ids, "i", 3);
		assert_int_equal(ix_ids.n, 0);
		index_phase(20000, 0, 40, 1);
		assert_int_equal(ix_ids.cap, 64);
		index_phase(5000, 30, 40, 1);
		assert_int_equal(ix_ids.cap, 64);
		/* Not a test of luck: runs did cross the end of the table. */
		assert_true(wrapped_seen > 100);
		/* A key not present: a removal and a move change nothing. */
		{
			char key[32];
			size_t n;

			do
				n = rng_below(IX_POOL);
			while (id_slot[n] != STORE_INDEX_NONE);
			pool_key(key, sizeof(key), "i", n);
			store_index_del(&ix_ids, key);
			store_index_move(&ix_ids, key, 0);
			check_index_full();
		}
		index_done();
	}
}

/*
 * Growth from the smallest table to thousands of entries (each doubling
 * rehashes what may be wrapped runs), then shrinking back to nothing with
 * removals only, then reuse after a clear.
 */
static void
test_index_growth_and_churn(void **state)
{
	static const uint64_t seeds[] = { 7, 0xabcdef };

	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		rng_seed(seeds[s]);
		index_reset();
		index_phase(12000, 0, 5000, 97);	/* adds lead: grows */
		for (size_t k = 0; k < 4; k++)
			index_phase(4000, 3000, 5000, 251);
		assert_true(ix_ids.cap >= 4096);
		while (nirecs > 0) {
			irec_remove((uint32_t)rng_below(nirecs));
			if (nirecs % 211 == 0)
				check_index_full();
			if (rng_below(4) == 0)
				irec_probe();
		}
		check_index_full();
		assert_int_equal(ix_ids.n, 0);

		/* Cleared (as store_reset does): empty, and usable again. */
		index_phase(2000, 0, 300, 50);
		store_index_clear(&ix_ids);
		store_index_clear(&ix_names);
		for (size_t i = 0; i < nirecs; i++) {
			assert_int_equal(store_index_find(&ix_ids, irecs[i].id), STORE_INDEX_NONE);
			id_slot[irecs[i].id_no] = name_slot[irecs[i].name_no] = STORE_INDEX_NONE;
		}
		nirecs = 0;
		check_table(&ix_ids);
		index_phase(3000, 0, 500, 31);
		index_done();
	}
}

/* ---- store_order against a sort ---------------------------------------- */

#define ORD_POOL 16384

struct orec {
	char	key[40];
	size_t	no;
};

static struct orec *orecs;
static size_t norecs, caporecs;
static bool ord_live[ORD_POOL];
static struct store_order ord;

static const char *
orec_key(const void *records, uint32_t slot)
{
	return ((const struct orec *)records)[slot].key;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The live keys, sorted: the reference. */
static const char **
sorted_keys(void)
{
	const char **k = calloc(norecs + 1, sizeof(*k));

	assert_non_null(k);
	for (size_t i = 0; i < norecs; i++)
		k[i] = orecs[i].key;
	qsort(k, norecs, sizeof(*k), cmp_str);
	return k;
}

/* How many of the n sorted keys sort at or before cursor, counted one by one. */
static size_t
linear_after(const char **k, size_t n, const char *cursor)
{
	size_t m = 0;

	while (m < n && strcmp(k[m], cursor) <= 0)
		m++;
	return m;
}

static void
orec_add(void)
{
	size_t no;

	do
		no = rng_below(ORD_POOL);
	while (ord_live[no]);
	if (norecs == caporecs) {
		caporecs = caporecs < 8 ? caporecs + 1 : caporecs + caporecs / 4;
		assert_non_null(orecs = reallocarray(orecs, caporecs, sizeof(*orecs)));
	}
	/* Two families, so that keys also differ early. */
	pool_key(orecs[norecs].key, sizeof(orecs[norecs].key), no % 2 ? "k" : "j", no / 2);
	orecs[norecs].no = no;
	ord_live[no] = true;
	assert_int_equal(store_order_add(&ord, (uint32_t)norecs), 0);
	norecs++;
}

/* As store.c: the order is told first, then the last record moves. */
static void
orec_remove(uint32_t slot)
{
	uint32_t last = (uint32_t)norecs - 1;

	store_order_remove(&ord, slot, last);
	ord_live[orecs[slot].no] = false;
	if (slot != last)
		orecs[slot] = orecs[last];
	memset(&orecs[last], 0, sizeof(orecs[last]));
	norecs--;
}

/* After store_order_ready(): the order is the sorted reference, cursors land right. */
static void
check_order(void)
{
	const char **k;
	char cur[48];

	assert_int_equal(store_order_ready(&ord), 0);
	assert_int_equal(ord.n, norecs);
	assert_int_equal(ord.nsorted, norecs);
	assert_int_equal(ord.nholes, 0);
	k = sorted_keys();
	for (size_t i = 0; i < norecs; i++) {
		assert_true(ord.order[i] < norecs);
		assert_string_equal(orecs[ord.order[i]].key, k[i]);
		assert_int_equal(ord.pos[ord.order[i]], i);
	}
	/* Cursors: none, before all, after all, each key, keys not there. */
	assert_int_equal(store_order_after(&ord, NULL), 0);
	assert_int_equal(store_order_after(&ord, ""), 0);
	assert_int_equal(store_order_after(&ord, "a"), 0);
	assert_int_equal(store_order_after(&ord, "\x7f"), norecs);
	assert_int_equal(store_order_after(&ord, "zzzz"), norecs);
	for (size_t i = 0; i < norecs; i++)
		assert_int_equal(store_order_after(&ord, k[i]), i + 1);
	for (size_t t = 0; t < 64; t++) {
		size_t no = rng_below(ORD_POOL);

		pool_key(cur, sizeof(cur), no % 2 ? "k" : "j", no / 2);
		/* Also a key's neighbours: one character less, one more. */
		if (t % 3 == 1 && strlen(cur) > 1)
			cur[strlen(cur) - 1] = '\0';
		else if (t % 3 == 2)
			strcat(cur, "0");
		assert_int_equal(store_order_after(&ord, cur), linear_after(k, norecs, cur));
	}
	free(k);
}

static void
order_reset(void)
{
	free(orecs);
	orecs = NULL;
	norecs = caporecs = 0;
	memset(ord_live, 0, sizeof(ord_live));
	store_order_init(&ord, orec_key, (const void *const *)&orecs);
}

static void
order_done(void)
{
	store_order_free(&ord);
	free(orecs);
	orecs = NULL;
	norecs = caporecs = 0;
}

/*
 * Writes between lists of every length (none, one, dozens, thousands),
 * so store_order_ready() meets a tail alone, holes alone, holes in both
 * the sorted part and the tail, a tail emptied by removals, and
 * everything removed.
 */
static void
order_phase(size_t rounds, size_t lo, size_t hi, size_t max_writes)
{
	for (size_t r = 0; r < rounds; r++) {
		size_t writes = rng_below(max_writes + 1);

		for (size_t w = 0; w < writes; w++) {
			if ((rng_below(2) == 0 && norecs < hi) || norecs <= lo || norecs == 0)
				orec_add();
			else
				orec_remove((uint32_t)rng_below(norecs));
		}
		check_order();
	}
}

static void
test_order_random(void **state)
{
	static const uint64_t seeds[] = { 3, 0xc0ffee, 99991 };

	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		rng_seed(seeds[s]);
		order_reset();
		check_order();				/* empty */
		order_phase(300, 0, 60, 8);		/* small, few writes per list */
		order_phase(40, 0, 4000, 400);		/* growing: long tails */
		order_phase(40, 1500, 4000, 3000);	/* much churn between lists */
		order_phase(200, 1500, 4000, 3);	/* a hole or an add per list */
		/* Everything removed, some in the sorted part, some in a tail. */
		for (size_t k = 0; k < 50; k++)
			orec_add();
		while (norecs > 0)
			orec_remove((uint32_t)rng_below(norecs));
		check_order();
		/* Cleared (store_reset): empty, and usable again. */
		order_phase(20, 0, 500, 200);
		store_order_clear(&ord);
		memset(ord_live, 0, sizeof(ord_live));
		norecs = 0;
		check_order();
		order_phase(20, 0, 500, 200);
		order_done();
	}
}

/* ---- the store ---------------------------------------------------------- */

#define CA_CERT	"-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"

static struct wire_msg qry, reply, rec;	/* big: off the stack */
#define next_req(rid)	store_fixture_req((rid), 0x3c)
#define del_store(s)	store_fixture_del(s)

/* Hash keys from the seed too, so that table layouts repeat. */
static struct store *
new_store(void)
{
	struct store *s = store_fixture_new();

	fixed_hashkey(&s->secret_ids);
	fixed_hashkey(&s->secret_names);
	fixed_hashkey(&s->dedup_index);
	return s;
}


#define apply_enc(s, e)	store_fixture_apply((s), (e))

static const struct store_outcome *
outcome(struct store *s, const uint8_t rid[16])
{
	const struct store_outcome *o = store_outcome(s, rid);

	assert_non_null(o);
	return o;
}

static void
init_cluster(struct store *s)
{
	struct wire_enc e;
	uint8_t rid[16], w[16], m[16], cakey[32];

	memset(w, 'w', sizeof(w));
	memset(m, 'm', sizeof(m));
	memset(cakey, 'k', sizeof(cakey));
	next_req(rid);
	wire_enc_init(&e, CMD_CLUSTER_INIT, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_CLUSTER_ID, "0000000000000000000000001");
	wire_put_str(&e, T_CA_CERT, CA_CERT);
	wire_put_bytes(&e, T_CA_KEY, cakey, sizeof(cakey));
	wire_put_bytes(&e, T_WORKER_SECRET, w, 16);
	wire_put_bytes(&e, T_MANAGER_SECRET, m, 16);
	wire_put_u64(&e, T_CERT_EXPIRY, 90ull * 24 * 3600);
	wire_put_str(&e, T_NODE_ID, "0000000000000000000000002");
	wire_put_str(&e, T_ADVERTISE_ADDR, "192.0.2.10:2377");
	wire_put_i64(&e, T_CREATED, 1700000000);
	apply_enc(s, &e);
	assert_int_equal(outcome(s, rid)->code, 0);
}

/* What the test expects of each secret it ever created. */
struct msecret {
	char		id[HUSH_ID_LEN + 1];
	char		name[65];
	uint32_t	version;
	bool		live;
};

#define MS_MAX	8000

static struct msecret model[MS_MAX];
static size_t nmodel, id_counter;

/*
 * A valid id (base36, below 2^128: it starts with '0'), distinct per
 * call, in an order unrelated to creation; three long shared prefixes so
 * that comparisons run deep.
 */
static void
make_id(char out[HUSH_ID_LEN + 1])
{
	static const char *const prefix[] = {
		"0000000000000000000", "0000000000000000001", "0zzzzzzzzzzzzzzzzzz"
	};
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	/* 1000003 is prime to 36^6: a permutation of the counter. */
	uint64_t v = (uint64_t)(id_counter++) * 1000003u % 2176782336u;

	memcpy(out, prefix[rng_below(3)], 19);
	for (int i = 24; i >= 19; i--) {
		out[i] = digits[v % 36];
		v /= 36;
	}
	out[HUSH_ID_LEN] = '\0';
}

static struct msecret *
model_by_name(const char *name)
{
	for (size_t i = 0; i < nmodel; i++)
		if (model[i].live && strcmp(model[i].name, name) == 0)
			return &model[i];
	return NULL;
}

/* Creates a secret, new name or (reuse) a removed one's; checks it worked. */
static void
create_one(struct store *s, bool reuse)
{
	static char lbl[6][520];
	char reused[65] = "";
	struct msecret *m;
	struct wire_enc e;
	uint8_t rid[16];
	size_t nl = rng_below(7);

	assert_true(nmodel < MS_MAX);
	m = &model[nmodel];
	memset(m, 0, sizeof(*m));
	make_id(m->id);
	for (size_t t = 0; reuse && t < 20 && reused[0] == '\0'; t++) {
		struct msecret *old = &model[rng_below(nmodel)];

		if (!old->live && model_by_name(old->name) == NULL)
			memcpy(reused, old->name, sizeof(reused));
	}
	if (reused[0] != '\0')
		memcpy(m->name, reused, sizeof(m->name));
	else
		pool_key(m->name, sizeof(m->name), "s", nmodel);
	m->version = 1;
	next_req(rid);
	wire_enc_init(&e, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_SECRET_ID, m->id);
	wire_put_str(&e, T_NAME, m->name);
	wire_put_bytes(&e, T_DATA, m->name, strlen(m->name));
	/* Records of different sizes, so pages end at different places. */
	for (size_t i = 0; i < nl; i++) {
		size_t vlen = rng_below(LABEL_VALUE_MAX);

		snprintf(lbl[i], sizeof(lbl[i]), "k%zu=", i);
		memset(lbl[i] + 3, 'v', vlen);
		lbl[i][3 + vlen] = '\0';
		wire_put_str(&e, T_LABEL, lbl[i]);
	}
	wire_put_i64(&e, T_CREATED, 1700000100);
	apply_enc(s, &e);
	if (outcome(s, rid)->code != 0)
		fail_msg("creating %s (%s): %s", m->name, m->id, outcome(s, rid)->errmsg);
	m->live = true;
	nmodel++;
}

static size_t
nlive(void)
{
	size_t n = 0;

	for (size_t i = 0; i < nmodel; i++)
		n += model[i].live;
	return n;
}

/* A random live secret of the model. */
static struct msecret *
pick_live(void)
{
	struct msecret *m;

	do
		m = &model[rng_below(nmodel)];
	while (!m->live);
	return m;
}

/* One CMD_SECRET_RM of these refs; the outcome's code. */
static int
rm_refs(struct store *s, const char *const *refs, size_t n, char *ids_out, size_t idslen)
{
	const struct store_outcome *o;
	struct wire_enc e;
	uint8_t rid[16];

	next_req(rid);
	wire_enc_init(&e, CMD_SECRET_RM, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	for (size_t i = 0; i < n; i++)
		wire_put_str(&e, T_REF, refs[i]);
	apply_enc(s, &e);
	o = outcome(s, rid);
	if (ids_out != NULL)
		snprintf(ids_out, idslen, "%s", o->ids != NULL ? o->ids : "");
	return o->code;
}

/*
 * Removes k random live secrets in one command, each named by id or by
 * name, one of them (twice) by both; checks the outcome names each
 * removed id once, in the order first named.
 */
static void
rm_random(struct store *s, size_t k, bool twice)
{
	static const char *refs[STORE_RM_MAX];
	static struct msecret *picked[STORE_RM_MAX];
	static char ids[(HUSH_ID_LEN + 1) * STORE_RM_MAX + 1];
	char want[(HUSH_ID_LEN + 1) * STORE_RM_MAX + 1];
	size_t n = 0, np = 0, o = 0;

	assert_true(k + 1 <= STORE_RM_MAX && k <= nlive());
	while (np < k) {
		struct msecret *m = pick_live();
		size_t j;

		for (j = 0; j < np && picked[j] != m; j++)
			;
		if (j < np)
			continue;
		picked[np++] = m;
		refs[n++] = rng_below(2) ? m->id : m->name;
		if (twice && np == 1)
			refs[n++] = refs[0] == m->id ? m->name : m->id;
	}
	/* The second naming of the first secret goes somewhere in the middle. */
	if (twice && n > 2) {
		size_t at = 2 + rng_below(n - 2);
		const char *t = refs[1];

		memmove(&refs[1], &refs[2], (at - 1) * sizeof(*refs));
		refs[at] = t;
	}
	assert_int_equal(rm_refs(s, refs, n, ids, sizeof(ids)), 0);
	want[0] = '\0';
	for (size_t i = 0; i < np; i++) {
		o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%s", o ? " " : "",
		    picked[i]->id);
		picked[i]->live = false;
	}
	assert_string_equal(ids, want);
}

/* A refused removal (one ref names nothing) removes nothing. */
static void
rm_refused(struct store *s)
{
	const char *refs[4];

	refs[0] = pick_live()->id;
	refs[1] = pick_live()->name;
	refs[2] = "no-such-secret";
	refs[3] = pick_live()->name;
	assert_int_equal(rm_refs(s, refs, 4, NULL, 0), HUSH_E_NOTFOUND);
}

static void
update_one(struct store *s)
{
	struct msecret *m = pick_live();
	struct wire_enc e;
	uint8_t rid[16];

	next_req(rid);
	wire_enc_init(&e, CMD_SECRET_UPDATE, 0, WIRE_MAX_MSG);
	wire_put_bytes(&e, T_REQ_ID, rid, 16);
	wire_put_str(&e, T_REF, rng_below(2) ? m->id : m->name);
	wire_put_bytes(&e, T_DATA, "new value", 9);
	wire_put_i64(&e, T_UPDATED, 1700000200);
	apply_enc(s, &e);
	assert_int_equal(outcome(s, rid)->code, 0);
	m->version++;
}

/* One QRY_SECRET_LIST page after cursor (NULL: the first); parsed into reply. */
static struct wire_enc page_enc;

static void
list_page(struct store *s, const char *cursor)
{
	static const uint16_t types[] = { QRY_SECRET_LIST, 0 };
	static const uint16_t allowed[] = { QRY_SECRET_LIST | MSG_REPLY, 0 };
	struct wire_enc q;
	const uint8_t *buf;
	size_t len;
	char why[256];

	wire_enc_free(&page_enc);
	wire_enc_init(&q, QRY_SECRET_LIST, 9, 4096);
	if (cursor != NULL)
		wire_put_str(&q, T_CURSOR, cursor);
	assert_int_equal(wire_enc_finish(&q, &buf, &len), 0);
	if (msg_parse(buf, len, WIRE_MAX_MSG, types, &qry, why, sizeof(why)) != 0)
		fail_msg("query: %s", why);
	assert_int_equal(store_query(s, &qry, &page_enc), 0);
	wire_enc_free(&q);
	assert_int_equal(wire_enc_finish(&page_enc, &buf, &len), 0);
	if (msg_parse(buf, len, WIRE_MAX_MSG, allowed, &reply, why, sizeof(why)) != 0)
		fail_msg("reply: %s", why);
}

struct listed {
	char		id[HUSH_ID_LEN + 1];
	char		name[65];
	uint32_t	version;
};

/*
 * The whole list, page by page after each T_CURSOR; between pages,
 * between(s) may write.  Returns how many records; *pages how many pages.
 */
static size_t
list_all(struct store *s, struct listed *out, size_t max, size_t *pages,
    void (*between)(struct store *))
{
	char cursor[HUSH_CURSOR_MAX + 1];
	size_t n = 0;

	*pages = 0;
	for (;;) {
		const uint8_t *list, *val;
		size_t llen, off = 0, vlen, onpage = 0;
		uint16_t tag;

		list_page(s, *pages == 0 ? NULL : cursor);
		(*pages)++;
		assert_int_equal(wire_get_bytes(&reply, T_RECORDS, &list, &llen), 0);
		assert_true(llen <= HUSH_PAGE_BYTES);
		while (wire_list_next(list, llen, &off, &tag, &val, &vlen) == 1) {
			assert_int_equal(tag, T_SECRET);
			assert_true(n < max);
			assert_int_equal(msg_parse_record(val, vlen, REC_SECRET, &rec, NULL, 0), 0);
			assert_int_equal(wire_get_str(&rec, T_SECRET_ID, out[n].id,
			    sizeof(out[n].id)), 0);
			assert_int_equal(wire_get_str(&rec, T_NAME, out[n].name,
			    sizeof(out[n].name)), 0);
			assert_int_equal(wire_get_u32(&rec, T_VERSION, &out[n].version), 0);
			/* In id order, none twice, across pages too. */
			if (n > 0)
				assert_true(strcmp(out[n - 1].id, out[n].id) < 0);
			n++;
			onpage++;
		}
		if (wire_get_str(&reply, T_CURSOR, cursor, sizeof(cursor)) != 0)
			break;
		assert_true(onpage > 0);
		assert_string_equal(cursor, out[n - 1].id);
		if (between != NULL)
			between(s);
	}
	return n;
}

static int
cmp_model_id(const void *a, const void *b)
{
	return strcmp((*(const struct msecret *const *)a)->id,
	    (*(const struct msecret *const *)b)->id);
}

static struct listed listed[MS_MAX];

/*
 * Every secret the model holds is found by id and by name; every removed
 * one is not (its name may belong to a newer secret); the paged list is
 * the live ones, each once, in id order, with their names and versions.
 */
static void
check_store(struct store *s, size_t min_pages)
{
	static struct msecret *live[MS_MAX];
	size_t n = 0, got, pages;

	for (size_t i = 0; i < nmodel; i++) {
		struct msecret *m = &model[i];
		struct store_secret *x = store_secret_find(s, m->id);

		if (m->live) {
			if (x == NULL)
				fail_msg("secret %s (%s) not found by id", m->name, m->id);
			assert_string_equal(x->id, m->id);
			assert_string_equal(x->name, m->name);
			assert_int_equal(x->version, m->version);
			assert_ptr_equal(store_secret_find(s, m->name), x);
			live[n++] = m;
		} else {
			if (x != NULL)
				fail_msg("removed secret %s (%s) still found by id", m->name, m->id);
			x = store_secret_find(s, m->name);
			if (x != NULL) {
				assert_string_not_equal(x->id, m->id);
				assert_non_null(model_by_name(m->name));
			}
		}
	}
	assert_int_equal(s->nsecrets, n);
	qsort(live, n, sizeof(*live), cmp_model_id);
	got = list_all(s, listed, MS_MAX, &pages, NULL);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(listed[i].id, live[i]->id);
		assert_string_equal(listed[i].name, live[i]->name);
		assert_int_equal(listed[i].version, live[i]->version);
	}
	assert_true(pages >= min_pages);
}

/* Writes between two pages of a list: some removals, some creations. */
static void
churn_between_pages(struct store *s)
{
	rm_random(s, 1 + rng_below(5), false);
	for (size_t k = rng_below(5); k > 0; k--)
		create_one(s, rng_below(2) == 0);
}

static void
test_store_secrets_random(void **state)
{
	struct store *s, *t;
	uint8_t *snap;
	size_t len, pages, got;
	bool *live_before;

	rng_seed(0x5ec7e75);
	nmodel = 0;
	s = new_store();
	init_cluster(s);
	for (size_t i = 0; i < 3000; i++)
		create_one(s, false);
	/* ~850 bytes a record on average: about ten pages of 256 KiB. */
	check_store(s, 6);

	for (size_t round = 0; round < 12; round++) {
		rm_random(s, 1 + rng_below(STORE_RM_MAX - 1), round % 2 == 0);
		rm_random(s, 1, false);
		rm_refused(s);
		for (size_t k = 0; k < 20; k++)
			update_one(s);
		for (size_t k = 0; k < 120; k++)
			create_one(s, rng_below(3) == 0);
		check_store(s, 2);
	}

	/*
	 * Writes between pages: every secret present from the first page to
	 * the last is listed exactly once, and no id twice (list_all).
	 */
	assert_non_null(live_before = calloc(nmodel + 1, sizeof(*live_before)));
	{
		size_t nbefore = nmodel;

		for (size_t i = 0; i < nbefore; i++)
			live_before[i] = model[i].live;
		got = list_all(s, listed, MS_MAX, &pages, churn_between_pages);
		assert_true(pages > 2);
		for (size_t i = 0; i < nbefore; i++) {
			size_t seen = 0;

			if (!live_before[i] || !model[i].live)
				continue;
			for (size_t j = 0; j < got; j++)
				seen += strcmp(listed[j].id, model[i].id) == 0;
			assert_int_equal(seen, 1);
		}
	}
	free(live_before);
	check_store(s, 2);

	/* A snapshot restored into a second store answers the same. */
	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	t = new_store();
	assert_int_equal(store_restore(t, snap, len), 0);
	sodium_memzero(snap, len);
	free(snap);
	check_store(t, 2);
	/* The restored store's indexes keep up with more writes. */
	for (size_t round = 0; round < 3; round++) {
		rm_random(t, 1 + rng_below(100), true);
		for (size_t k = 0; k < 10; k++)
			update_one(t);
		for (size_t k = 0; k < 50; k++)
			create_one(t, true);
		check_store(t, 2);
	}

	/* Removing every secret, a command at a time. */
	while (nlive() > 0) {
		size_t k = nlive() < STORE_RM_MAX - 1 ? nlive() : STORE_RM_MAX - 1;

		rm_random(t, k, k > 1);
	}
	check_store(t, 1);
	assert_int_equal(t->nsecrets, 0);
	create_one(t, true);
	check_store(t, 1);
	wire_enc_free(&page_enc);
	del_store(s);
	del_store(t);
}

/*
 * The dedup ring by what a replay does: a create replayed while its
 * outcome is among the last 4096 is not applied again; after 4096 later
 * commands it is forgotten and applied as new.  Every request id in the
 * window is remembered and none before it, after the ring (and its
 * index) turned over twice, and after a snapshot and restore.
 */
static void
test_dedup_window(void **state)
{
	enum { N = 2 * STORE_DEDUP_MAX + 777 };
	static uint8_t rids[N][16];
	struct store *s, *t;
	struct wire_enc e;
	uint8_t rid_create[16], w[16], *snap;
	size_t len;

	rng_seed(0xdedc);
	nmodel = 0;
	s = new_store();
	init_cluster(s);
	memset(w, 7, sizeof(w));

	/* The create, then 4095 other commands: it is still remembered. */
	next_req(rid_create);
	for (int pass = 0; pass < 3; pass++) {
		wire_enc_init(&e, CMD_SECRET_CREATE, 0, WIRE_MAX_MSG);
		wire_put_bytes(&e, T_REQ_ID, rid_create, 16);
		wire_put_str(&e, T_SECRET_ID, pass == 0 ? "0000000000000000000000010" :
		    "0000000000000000000000011");
		wire_put_str(&e, T_NAME, pass == 0 ? "first" : "replayed");
		wire_put_bytes(&e, T_DATA, "v", 1);
		wire_put_i64(&e, T_CREATED, 1);
		apply_enc(s, &e);
		if (pass == 0) {
			for (size_t i = 0; i < STORE_DEDUP_MAX - 1; i++) {
				struct wire_enc r;

				next_req(rids[i]);
				wire_enc_init(&r, CMD_TOKEN_ROTATE, 0, 256);
				wire_put_bytes(&r, T_REQ_ID, rids[i], 16);
				wire_put_bytes(&r, T_WORKER_SECRET, w, 16);
				apply_enc(s, &r);
			}
		} else if (pass == 1) {
			/* Remembered: not applied a second time. */
			assert_null(store_secret_find(s, "replayed"));
			assert_non_null(store_secret_find(s, "first"));
			assert_non_null(store_outcome(s, rids[0]));
			/* One more command pushes the create out of the window. */
			next_req(rids[STORE_DEDUP_MAX - 1]);
			wire_enc_init(&e, CMD_TOKEN_ROTATE, 0, 256);
			wire_put_bytes(&e, T_REQ_ID, rids[STORE_DEDUP_MAX - 1], 16);
			apply_enc(s, &e);
			assert_null(store_outcome(s, rid_create));
		}
	}
	/* Forgotten: applied as a new command. */
	assert_non_null(store_secret_find(s, "replayed"));
	assert_null(store_outcome(s, rids[0]));	/* pushed out by the replay */

	/* Twice round the ring: exactly the last 4096 are remembered. */
	for (size_t i = STORE_DEDUP_MAX; i < N; i++) {
		next_req(rids[i]);
		wire_enc_init(&e, CMD_TOKEN_ROTATE, 0, 256);
		wire_put_bytes(&e, T_REQ_ID, rids[i], 16);
		apply_enc(s, &e);
	}
	assert_int_equal(s->dedup_index.n, STORE_DEDUP_MAX);
	for (size_t i = 0; i < N; i++) {
		if (i < N - STORE_DEDUP_MAX)
			assert_null(store_outcome(s, rids[i]));
		else
			assert_non_null(store_outcome(s, rids[i]));
	}

	/* The same in a restored store, whose ring then turns on. */
	assert_int_equal(store_snapshot(s, &snap, &len), 0);
	t = new_store();
	assert_int_equal(store_restore(t, snap, len), 0);
	sodium_memzero(snap, len);
	free(snap);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(store_outcome(t, rids[i]) != NULL, i >= N - STORE_DEDUP_MAX);
	for (size_t i = 0; i < 100; i++) {
		uint8_t rid[16];

		next_req(rid);
		wire_enc_init(&e, CMD_TOKEN_ROTATE, 0, 256);
		wire_put_bytes(&e, T_REQ_ID, rid, 16);
		apply_enc(t, &e);
		assert_non_null(store_outcome(t, rid));
	}
	for (size_t i = 0; i < N; i++)
		assert_int_equal(store_outcome(t, rids[i]) != NULL,
		    i >= N - STORE_DEDUP_MAX + 100);
	assert_int_equal(t->dedup_index.n, STORE_DEDUP_MAX);
	del_store(s);
	del_store(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_small_table_wraps),
		cmocka_unit_test(test_index_growth_and_churn),
		cmocka_unit_test(test_order_random),
		cmocka_unit_test(test_store_secrets_random),
		cmocka_unit_test(test_dedup_window),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
