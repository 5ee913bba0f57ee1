/*
 * lib/idmap.c: translation known answers, the kernel's rules for a map
 * (count, overflow, overlap, 340 extents), and the packed wire form as it
 * travels in CTL_CONTAINER_ATTACH.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "idmap.h"
#include "msg.h"

static struct idmap map, back;
static struct wire_msg msg;

static void
add_ok(struct idmap *m, uint32_t inner, uint32_t outer, uint32_t count)
{
	char why[128];

	assert_int_equal(idmap_add(m, inner, outer, count, why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

static void
add_fail(struct idmap *m, uint32_t inner, uint32_t outer, uint32_t count,
    int r, const char *msgtext)
{
	char why[128];
	size_t n = m->n, i;

	assert_int_equal(idmap_add(m, inner, outer, count, why, sizeof(why)), r);
	assert_int_equal(m->n, n);
	if (msgtext != NULL)
		assert_string_equal(why, msgtext);
	for (i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= 0x20 && why[i] < 0x7f);
	assert_true(i > 0);
	assert_int_equal(idmap_add(m, inner, outer, count, NULL, 0), r);
}

static void
to_host(const struct idmap *m, uint32_t inner, uint32_t want)
{
	uint32_t got = 0;

	assert_int_equal(idmap_to_host(m, inner, &got), 0);
	assert_int_equal(got, want);
}

static void
unmapped(const struct idmap *m, uint32_t inner)
{
	uint32_t got = 12345;

	assert_int_equal(idmap_to_host(m, inner, &got), HUSH_E_NOTFOUND);
	assert_int_equal(got, 12345);
}

/* The usual rootless-style map: 65536 ids from 100000. */
static void
test_translate_one_range(void **state)
{
	(void)state;
	idmap_init(&map);
	add_ok(&map, 0, 100000, 65536);
	to_host(&map, 0, 100000);
	to_host(&map, 1000, 101000);
	to_host(&map, 65535, 165535);
	unmapped(&map, 65536);
	unmapped(&map, UINT32_MAX);
}

/* Several extents, given out of order, as podman's --uidmap allows. */
static void
test_translate_several(void **state)
{
	(void)state;
	idmap_init(&map);
	add_ok(&map, 1, 200001, 999);
	add_ok(&map, 0, 1000, 1);
	add_ok(&map, 5000, 300000, 10);
	to_host(&map, 0, 1000);
	to_host(&map, 1, 200001);
	to_host(&map, 999, 200999);
	unmapped(&map, 1000);
	unmapped(&map, 4999);
	to_host(&map, 5000, 300000);
	to_host(&map, 5009, 300009);
	unmapped(&map, 5010);
}

static void
test_translate_edges(void **state)
{
	(void)state;
	/* No extents: nothing is mapped, not even 0. */
	idmap_init(&map);
	unmapped(&map, 0);
	/* The largest map the kernel takes: every id but -1. */
	add_ok(&map, 0, 0, UINT32_MAX);
	to_host(&map, 0, 0);
	to_host(&map, 4294967294u, 4294967294u);
	unmapped(&map, UINT32_MAX);
	/* An extent ending exactly at the last mappable id. */
	idmap_init(&map);
	add_ok(&map, 4294967294u, 7, 1);
	to_host(&map, 4294967294u, 7);
	unmapped(&map, 4294967293u);
}

static void
test_add_refused(void **state)
{
	(void)state;
	idmap_init(&map);
	add_fail(&map, 0, 0, 0, HUSH_E_RANGE, "maps no ids (size 0)");
	add_fail(&map, UINT32_MAX, 0, 1, HUSH_E_RANGE,
	    "container ids 4294967295-4294967295 run past 4294967294");
	add_fail(&map, 0, 4294967000u, 1000, HUSH_E_RANGE,
	    "host ids 4294967000-4294967999 run past 4294967294");
	add_fail(&map, 1, 1, UINT32_MAX, HUSH_E_RANGE, NULL);
	add_fail(&map, UINT32_MAX, UINT32_MAX, UINT32_MAX, HUSH_E_RANGE, NULL);

	add_ok(&map, 0, 100000, 1000);
	/* Touching is fine; sharing one id on either side is not. */
	add_ok(&map, 1000, 101000, 1000);
	add_fail(&map, 1999, 500000, 1, HUSH_E_EXISTS,
	    "container ids 1999-1999 overlap entry 1");
	add_fail(&map, 3000, 100999, 2, HUSH_E_EXISTS,
	    "host ids 100999-101000 overlap entry 0");
	/* One extent wholly inside another, and one covering all. */
	add_fail(&map, 10, 900000, 5, HUSH_E_EXISTS, NULL);
	add_fail(&map, 0, 0, UINT32_MAX, HUSH_E_EXISTS, NULL);
	assert_int_equal(map.n, 2);
}

static void
test_add_limit(void **state)
{
	uint32_t i;

	(void)state;
	idmap_init(&map);
	for (i = 0; i < IDMAP_MAX; i++)
		add_ok(&map, i * 10, 100000 + i * 10, 10);
	assert_int_equal(map.n, IDMAP_MAX);
	add_fail(&map, 100000, 900000, 1, HUSH_E_TOOBIG,
	    "more than 340 mappings (the kernel's limit)");
	to_host(&map, 3399, 103399);
	unmapped(&map, 3400);
}

static void
test_wire_roundtrip(void **state)
{
	static const uint16_t attach[] = { CTL_CONTAINER_ATTACH, 0 };
	const uint8_t *buf, *p;
	struct wire_enc e;
	size_t len, plen;
	char why[256];
	uint32_t i;

	(void)state;
	idmap_init(&map);
	for (i = 0; i < IDMAP_MAX; i++)
		add_ok(&map, i * 3, 4000000000u - i * 3, 3);
	/* The request the hook sends, with both maps at their largest. */
	wire_enc_init(&e, CTL_CONTAINER_ATTACH, 1, WIRE_MAX_MSG);
	wire_put_str(&e, T_CONTAINER_ID, "c1");
	wire_put_str(&e, T_SERVICE_NAME, "web");
	wire_put_u32(&e, T_PID, 4242);
	wire_put_str(&e, T_ROOT_PATH, "/run/b/rootfs");
	wire_put_str(&e, T_BUNDLE, "/run/b");
	idmap_put(&e, T_UID_MAP, &map);
	idmap_put(&e, T_GID_MAP, &map);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	assert_int_equal(msg_parse(buf, len, WIRE_MAX_MSG, attach, &msg, why,
	    sizeof(why)), 0);
	assert_int_equal(wire_get_bytes(&msg, T_UID_MAP, &p, &plen), 0);
	assert_int_equal(plen, IDMAP_WIRE_MAX);
	/* Big-endian inner, outer, count. */
	assert_memory_equal(p, "\x00\x00\x00\x00\xee\x6b\x28\x00\x00\x00\x00\x03",
	    12);
	assert_int_equal(idmap_decode(p, plen, &back, why, sizeof(why)), 0);
	assert_int_equal(back.n, map.n);
	assert_memory_equal(back.ext, map.ext, sizeof(map.ext));
	wire_enc_free(&e);

	/* No map, no field: the container keeps the host's ids. */
	idmap_init(&map);
	wire_enc_init(&e, CTL_CONTAINER_ATTACH, 1, WIRE_MAX_MSG);
	idmap_put(&e, T_UID_MAP, &map);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	assert_int_equal(len, WIRE_HDR_LEN);
	wire_enc_free(&e);
}

static void
test_decode_refused(void **state)
{
	static const uint8_t overlap[24] = {
		0, 0, 0, 0,  0, 1, 0, 0,  0, 0, 0, 10,
		0, 0, 0, 5,  0, 2, 0, 0,  0, 0, 0, 1,
	};
	static uint8_t big[IDMAP_WIRE_MAX + IDMAP_WIRE_EXTENT];
	char why[256];

	(void)state;
	assert_int_equal(idmap_decode(overlap, 0, &back, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_int_equal(idmap_decode(overlap, 13, &back, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "id map of 13 bytes is not a list of 12-byte "
	    "entries");
	assert_int_equal(idmap_decode(overlap, 24, &back, why, sizeof(why)),
	    HUSH_E_EXISTS);
	assert_string_equal(why, "id map entry 1: container ids 5-5 overlap "
	    "entry 0");
	assert_int_equal(back.n, 0);
	assert_int_equal(idmap_decode(overlap, 12, &back, why, sizeof(why)), 0);
	to_host(&back, 9, 65545);
	/* A count of 0 inside an otherwise valid list. */
	assert_int_equal(idmap_decode(big, 12, &back, why, sizeof(why)),
	    HUSH_E_RANGE);
	assert_string_equal(why, "id map entry 0: maps no ids (size 0)");
	assert_int_equal(idmap_decode(big, sizeof(big), &back, why, sizeof(why)),
	    HUSH_E_TOOBIG);
}

static void
test_parse_proc(void **state)
{
	struct idmap m;
	char why[256];
	bool identity;
	uint32_t out;
	/* what the kernel prints: each number right-aligned in 10 columns */
	static const char two[] =
	    "         0     100000      65536\n"
	    "     65536          0          1\n";
	static const char init_ns[] = "         0          0 4294967295\n";

	(void)state;
	assert_int_equal(idmap_parse_proc(two, strlen(two), &m, &identity, why,
	    sizeof(why)), 0);
	assert_false(identity);
	assert_int_equal(m.n, 2);
	assert_int_equal(idmap_to_host(&m, 33, &out), 0);
	assert_int_equal(out, 100033);
	assert_int_equal(idmap_to_host(&m, 65536, &out), 0);
	assert_int_equal(out, 0);

	assert_int_equal(idmap_parse_proc(init_ns, strlen(init_ns), &m, &identity,
	    why, sizeof(why)), 0);
	assert_true(identity);
	assert_int_equal(m.n, 0);
	/* no trailing newline is fine */
	assert_int_equal(idmap_parse_proc("0 1000 1", 8, &m, &identity, why,
	    sizeof(why)), 0);
	assert_int_equal(m.n, 1);

	assert_int_equal(idmap_parse_proc("", 0, &m, &identity, why, sizeof(why)),
	    HUSH_E_NOTFOUND);
	assert_non_null(strstr(why, "no id map yet"));

#define BAD(text, code, words) do {					\
	why[0] = '\0';							\
	assert_int_equal(idmap_parse_proc(text, strlen(text), &m, &identity, \
	    why, sizeof(why)), code);					\
	assert_non_null(strstr(why, words));				\
	assert_int_equal(m.n, 0);					\
	assert_false(identity);						\
} while (0)
	BAD("0 100000\n", HUSH_E_FORMAT, "line 1 is not three numbers");
	BAD("0 100000 65536 7\n", HUSH_E_FORMAT, "line 1 has more than three");
	BAD("0 1 1\nx 2 1\n", HUSH_E_FORMAT, "line 2 is not three numbers");
	BAD("0 -1 1\n", HUSH_E_FORMAT, "line 1");
	BAD("0 4294967296 1\n", HUSH_E_FORMAT, "line 1");
	BAD("0 00000000001 1\n", HUSH_E_FORMAT, "line 1");
	BAD("0 1\t1\n", HUSH_E_FORMAT, "line 1");
	BAD("\n", HUSH_E_FORMAT, "line 1");
	BAD("0 100 0\n", HUSH_E_RANGE, "line 1");
	BAD("0 100 10\n5 200 10\n", HUSH_E_EXISTS, "line 2");
	/* the identity map only as the whole file */
	BAD("0 0 4294967295\n0 0 1\n", HUSH_E_EXISTS, "line 2");
#undef BAD
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translate_one_range),
		cmocka_unit_test(test_translate_several),
		cmocka_unit_test(test_translate_edges),
		cmocka_unit_test(test_add_refused),
		cmocka_unit_test(test_add_limit),
		cmocka_unit_test(test_wire_roundtrip),
		cmocka_unit_test(test_decode_refused),
		cmocka_unit_test(test_parse_proc),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
