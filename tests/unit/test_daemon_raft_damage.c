/*
 * Unit tests for daemon/raft/damage.c: what it calls damaged in libraft's
 * files (metadata1/2, snapshot .meta, our sealed snapshot, open segments)
 * and what it must not (a sound file, the torn tail a crash leaves in an
 * open segment), on files built here byte by byte; every truncation and
 * many single-byte flips; and raft_damage_scan() over a directory.
 *
 * Setting HUSH_DAMAGE_SEED_DIR writes one sound file of each kind there,
 * prefixed with the selector byte of tests/fuzz/fuzz_daemon_raft_damage.c,
 * as its seeds.
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

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "raft/raft_proc.h"
#include "seal.h"

#define OUT_CAP	512

static uint8_t dek[32];
static char out[OUT_CAP];

/* CRC-32, polynomial 0x04c11db7, MSB first, init 0: libraft's, written again. */
static uint32_t
crc(const uint8_t *p, size_t n, uint32_t c)
{
	for (size_t i = 0; i < n; i++) {
		c ^= (uint32_t)p[i] << 24;
		for (int b = 0; b < 8; b++)
			c = (c & 0x80000000u) ? (c << 1) ^ 0x04c11db7u : c << 1;
	}
	return c;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Checks the result, and that out is a terminated string naming the file. */
static int
judged(int bad, const char *name)
{
	assert_true(bad == 0 || bad == 1);
	if (bad) {
		assert_non_null(memchr(out, '\0', sizeof(out)));
		assert_non_null(strstr(out, name));
	}
	out[0] = '\0';
	return bad;
}

static void
write_seed(uint8_t sel, const char *name, const uint8_t *b, size_t len)
{
	const char *dir = getenv("HUSH_DAMAGE_SEED_DIR");
	char path[4096];
	FILE *f;

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "we"));
	assert_int_equal(fputc(sel, f), sel);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
}

/* ---- metadata1/2 ------------------------------------------------------ */

static void
test_metadata(void **state)
{
	uint8_t b[40] = { 0 };

	put64(b, 1);
	put64(b + 8, 1);	/* version */
	put64(b + 16, 3);	/* term */
	assert_int_equal(judged(raft_damage_metadata("metadata1", b, 32, out, OUT_CAP),
	    "metadata1"), 0);
	write_seed(0, "metadata", b, 32);
	for (size_t n = 0; n < sizeof(b); n++)
		if (n != 32)
			assert_int_equal(judged(raft_damage_metadata("metadata1", b, n, out,
			    OUT_CAP), "metadata1"), 1);
	for (size_t i = 0; i < 8; i++) {
		b[i] ^= 0x10;
		assert_int_equal(judged(raft_damage_metadata("metadata2", b, 32, out, OUT_CAP),
		    "metadata2"), 1);
		b[i] ^= 0x10;
	}
	put64(b, 0);
	assert_int_equal(raft_damage_metadata("metadata1", b, 32, out, OUT_CAP), 1);
	assert_non_null(strstr(out, "format word (bytes 0-7) is 0"));
	assert_int_equal(raft_damage_metadata("metadata1", NULL, 0, out, OUT_CAP), 1);
}

/* ---- snapshot .meta --------------------------------------------------- */

static size_t
make_meta(uint8_t *b, size_t conflen)
{
	put64(b, 1);
	put64(b + 16, 7);		/* configuration index */
	put64(b + 24, conflen);
	for (size_t i = 0; i < conflen; i++)
		b[32 + i] = (uint8_t)(i * 7 + 1);
	put64(b + 8, crc(b + 32, conflen, crc(b + 16, 16, 0)));
	return 32 + conflen;
}

static void
test_snapshot_meta(void **state)
{
	const char *name = "snapshot-1-7-123.meta";
	uint8_t b[128];
	size_t len = make_meta(b, 40);

	assert_int_equal(judged(raft_damage_snapshot_meta(name, b, len, out, OUT_CAP), name), 0);
	write_seed(1, "snapshot_meta", b, len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(judged(raft_damage_snapshot_meta(name, b, n, out, OUT_CAP),
		    name), 1);
	/* One byte more than the length word says. */
	b[len] = 0;
	assert_int_equal(judged(raft_damage_snapshot_meta(name, b, len + 1, out, OUT_CAP),
	    name), 1);
	/* Every byte but the checksum word's upper half, which libraft ignores too. */
	for (size_t i = 0; i < len; i++) {
		if (i >= 12 && i < 16)
			continue;
		b[i] ^= 0x01;
		assert_int_equal(judged(raft_damage_snapshot_meta(name, b, len, out, OUT_CAP),
		    name), 1);
		b[i] ^= 0x01;
	}
	b[20] ^= 0x80;
	assert_int_equal(raft_damage_snapshot_meta(name, b, len, out, OUT_CAP), 1);
	assert_non_null(strstr(out, "checksum mismatch"));
	b[20] ^= 0x80;
	/* A zero-length configuration, consistent with its checksum. */
	len = make_meta(b, 0);
	assert_int_equal(judged(raft_damage_snapshot_meta(name, b, len, out, OUT_CAP), name), 1);
	/* A length word of 2^64 - 1. */
	len = make_meta(b, 8);
	put64(b + 24, UINT64_MAX);
	assert_int_equal(judged(raft_damage_snapshot_meta(name, b, len, out, OUT_CAP), name), 1);
}

/* ---- snapshot payload ------------------------------------------------- */

static size_t
make_snapshot(uint8_t *b, size_t cap, const uint8_t *key)
{
	uint8_t payload[100];
	size_t sealed;

	memset(payload, 0x5c, sizeof(payload));
	memcpy(b, SNAPSHOT_MAGIC, 8);
	assert_int_equal(seal(key, 0, SNAPSHOT_PURPOSE, payload, sizeof(payload), b + 8,
	    cap - 8, &sealed), 0);
	return 8 + sealed;
}

static void
test_snapshot(void **state)
{
	const char *name = "snapshot-2-40-999";
	uint8_t b[256], other[32];
	size_t len = make_snapshot(b, sizeof(b), dek);

	assert_int_equal(judged(raft_damage_snapshot(name, b, len, dek, out, OUT_CAP), name), 0);
	write_seed(2, "snapshot", b, len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(judged(raft_damage_snapshot(name, b, n, dek, out, OUT_CAP),
		    name), 1);
	for (size_t i = 0; i < len; i++) {
		b[i] ^= 0x40;
		assert_int_equal(judged(raft_damage_snapshot(name, b, len, dek, out, OUT_CAP),
		    name), 1);
		b[i] ^= 0x40;
	}
	b[50] ^= 1;
	assert_int_equal(raft_damage_snapshot(name, b, len, dek, out, OUT_CAP), 1);
	assert_non_null(strstr(out, "(index 40, term 2)"));
	assert_non_null(strstr(out, "fails authentication"));
	b[50] ^= 1;
	/* Another data key: the same as damage, as far as this node can tell. */
	randombytes_buf(other, sizeof(other));
	assert_int_equal(judged(raft_damage_snapshot(name, b, len, other, out, OUT_CAP), name), 1);
	/* A name that is not snapshot-T-I-S still gets a message. */
	b[0] ^= 1;
	assert_int_equal(judged(raft_damage_snapshot("snapshot-x", b, len, dek, out, OUT_CAP),
	    "snapshot-x"), 1);
}

/* ---- open segments ---------------------------------------------------- */

/* Appends a batch of n entries of size len each at b + off; returns its end. */
static size_t
add_batch(uint8_t *b, size_t off, unsigned n, uint32_t len, uint8_t fill)
{
	size_t h = off + 8, data;


	put64(b + h, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = b + h + 8 + 16 * i;

		put64(e, 1);		/* term */
		e[8] = 1;		/* RAFT_COMMAND */
		e[9] = e[10] = e[11] = 0;
		put32(e + 12, len);
	}
	data = h + 8 + 16 * n;
	memset(b + data, fill, (size_t)n * len);
	put32(b + off, crc(b + h, 8 + 16 * n, 0));
	put32(b + off + 4, crc(b + data, (size_t)n * len, 0));
	return data + (size_t)n * len;
}

#define SEG_LEN 4096

/* format | batch of 1 | batch of 2 | batch of 1 | zeros; *ends gets each batch's end */
static void
make_segment(uint8_t *b, size_t ends[3])
{
	memset(b, 0, SEG_LEN);
	put64(b, 1);
	ends[0] = add_batch(b, 8, 1, 16, 0x11);
	ends[1] = add_batch(b, ends[0], 2, 24, 0x22);
	ends[2] = add_batch(b, ends[1], 1, 8, 0x33);
}

static void
test_open_segment(void **state)
{
	uint8_t *b = calloc(1, SEG_LEN);
	size_t ends[3];

	assert_non_null(b);
	/* Never written: all zeros, or nothing at all. */
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 0);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, 0, out, OUT_CAP),
	    "open-1"), 0);
	make_segment(b, ends);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 0);
	write_seed(3, "open_segment", b, ends[2] + 64);
	/* Exactly as long as its batches (no preallocated tail). */
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, ends[2], out, OUT_CAP),
	    "open-1"), 0);

	/* Any flip before the last batch is damage: batches follow it. */
	for (size_t i = 0; i < ends[1]; i++) {
		b[i] ^= 0x04;
		if (!judged(raft_damage_open_segment("open-2", b, SEG_LEN, out, OUT_CAP), "open-2"))
			fail_msg("flip at byte %zu of %zu not found", i, ends[1]);
		b[i] ^= 0x04;
	}
	b[ends[0] + 40] ^= 0xff;
	assert_int_equal(raft_damage_open_segment("open-2", b, SEG_LEN, out, OUT_CAP), 1);
	assert_non_null(strstr(out, "entries batch 2 starting at byte"));
	b[ends[0] + 40] ^= 0xff;

	/* The last batch torn by a crash: its end zeroed, or all of it. */
	memset(b + ends[2] - 4, 0, 4);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 0);
	memset(b + ends[1], 0, ends[2] - ends[1]);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 0);
	/* Half a header written. */
	make_segment(b, ends);
	memset(b + ends[1] + 12, 0, ends[2] - ends[1] - 12);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 0);

	/* Every truncation of a sound segment is either sound or a torn tail. */
	make_segment(b, ends);
	for (size_t n = 8; n <= ends[2]; n++)
		assert_int_equal(judged(raft_damage_open_segment("open-1", b, n, out, OUT_CAP),
		    "open-1"), 0);
	/* Shorter than the format word, and not zero. */
	for (size_t n = 1; n < 8; n++)
		assert_int_equal(judged(raft_damage_open_segment("open-1", b, n, out, OUT_CAP),
		    "open-1"), 1);

	/* Wrong format word; format 0 with data. */
	put64(b, 2);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 1);
	put64(b, 0);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 1);

	/* Entry counts of 0, huge and 2^64 - 1 in the first batch, data after it. */
	make_segment(b, ends);
	put64(b + 16, 0);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 1);
	put64(b + 16, (uint64_t)1 << 40);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 1);
	put64(b + 16, UINT64_MAX);
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 1);

	/* An unknown entry type, with a header checksum that matches. */
	make_segment(b, ends);
	b[8 + 16 + 8] = 9;
	put32(b + 8, crc(b + 16, 8 + 16, 0));
	assert_int_equal(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP), 1);
	assert_non_null(strstr(out, "entry type 9"));

	/* Data lengths that overflow the file, with a matching header checksum. */
	make_segment(b, ends);
	put32(b + 8 + 16 + 12, UINT32_MAX);
	put32(b + 8, crc(b + 16, 8 + 16, 0));
	assert_int_equal(judged(raft_damage_open_segment("open-1", b, SEG_LEN, out, OUT_CAP),
	    "open-1"), 1);
	free(b);
}

/* ---- the scan over a directory ---------------------------------------- */

static void
spit(const char *name, const uint8_t *b, size_t len)
{
	int fd;

	assert_true((fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
}

static void
test_scan(void **state)
{
	char dir[] = "/tmp/hush-damage-test-XXXXXX", cwd[4096];
	uint8_t md[32] = { 0 }, meta[128], snap[256], *seg = calloc(1, SEG_LEN);
	size_t ends[3], mlen, slen;

	assert_non_null(seg);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	put64(md, 1);
	spit("metadata1", md, sizeof(md));
	mlen = make_meta(meta, 24);
	spit("snapshot-1-7-5.meta", meta, mlen);
	slen = make_snapshot(snap, sizeof(snap), dek);
	spit("snapshot-1-7-5", snap, slen);
	make_segment(seg, ends);
	spit("open-1", seg, SEG_LEN);
	spit("0000000000000001-0000000000000006", seg, 64);	/* libraft checks these */
	assert_int_equal(raft_damage_scan(dek, out, OUT_CAP), 0);
	assert_string_equal(out, "");

	seg[30] ^= 1;
	spit("open-1", seg, SEG_LEN);
	assert_int_equal(raft_damage_scan(dek, out, OUT_CAP), 1);
	assert_non_null(strstr(out, "open-1: entries batch 1 starting at byte 8"));
	seg[30] ^= 1;
	spit("open-1", seg, SEG_LEN);

	snap[slen - 1] ^= 1;
	spit("snapshot-1-7-5", snap, slen);
	assert_int_equal(raft_damage_scan(dek, out, OUT_CAP), 1);
	assert_non_null(strstr(out, "snapshot-1-7-5 (index 7, term 1)"));
	snap[slen - 1] ^= 1;
	spit("snapshot-1-7-5", snap, slen);

	md[0] = 9;
	spit("metadata1", md, sizeof(md));
	assert_int_equal(raft_damage_scan(dek, out, OUT_CAP), 1);
	assert_non_null(strstr(out, "metadata1: format word"));

	unlink("metadata1");
	unlink("snapshot-1-7-5.meta");
	unlink("snapshot-1-7-5");
	unlink("open-1");
	unlink("0000000000000001-0000000000000006");
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rmdir(dir), 0);
	free(seg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_snapshot_meta),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_open_segment),
		cmocka_unit_test(test_scan),
	};

	if (sodium_init() < 0)
		return 1;
	for (size_t i = 0; i < sizeof(dek); i++)
		dek[i] = (uint8_t)(0xa0 + i);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
