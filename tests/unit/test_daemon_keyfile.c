/*
 * Unit tests for daemon/parent/keyfile.c: node.keys in clear and sealed
 * form, in a private temporary state directory per test; the checksum of
 * format 2 (every flipped byte is "damaged", never a wrong key), and files
 * of format 1 (no checksum) still read and reported as old.
 *
 * Setting HUSH_KEYFILE_SEED_DIR writes a clear and a sealed key file (the
 * latter under KEK bytes 0x00..0x1f, the key the fuzz harness uses) into
 * that directory as seeds for tests/fuzz/fuzz_daemon_keyfile.c.
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

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "msg.h"
#include "parent/node_state.h"
#include "seal.h"
#include "secbuf.h"
#include "wire.h"

#define KF_HDR		9	/* "HUSHKF02" + mode */
#define KF_SUM		32	/* BLAKE2b-256 of everything before it */
#define NODE_KEY_LEN	138	/* a P-256 PKCS#8 key is about this long */

struct kf_test {
	char		 dir[64];
	char		 path[96];
	struct secbuf	 dek, node_key, seal_key;
	uint8_t		 kek[32], kek2[32];
	char		 why[512];
};

static int
setup(void **state)
{
	struct kf_test *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/hush-kf-test-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/node.keys", t->dir);
	if (secbuf_alloc(&t->dek, 32) != 0 || secbuf_alloc(&t->node_key, NODE_KEY_LEN) != 0 ||
	    secbuf_alloc(&t->seal_key, 32) != 0)
		return -1;
	randombytes_buf(t->dek.p, t->dek.len);
	randombytes_buf(t->seal_key.p, t->seal_key.len);
	randombytes_buf(t->node_key.p, t->node_key.len);
	for (size_t i = 0; i < sizeof(t->kek); i++)
		t->kek[i] = (uint8_t)i;
	randombytes_buf(t->kek2, sizeof(t->kek2));
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct kf_test *t = *state;
	DIR *d;
	struct dirent *de;
	char p[512];

	if ((d = opendir(t->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", t->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(t->dir);
	secbuf_free(&t->dek);
	secbuf_free(&t->node_key);
	secbuf_free(&t->seal_key);
	free(t);
	return 0;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd;

	assert_true((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void
spit(const char *path, const uint8_t *p, size_t len)
{
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0);
	if (len > 0)
		assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

/* keyfile_read; on success checks the keys against t, on failure that none came back. */
static int
read_check(struct kf_test *t, const uint8_t *kek)
{
	struct secbuf dek = SECBUF_INIT, nk = SECBUF_INIT, sk = SECBUF_INIT;
	int r;

	r = keyfile_read(t->dir, kek, &dek, &nk, &sk, NULL, t->why, sizeof(t->why));
	if (r == 0) {
		assert_int_equal(dek.len, t->dek.len);
		assert_memory_equal(dek.p, t->dek.p, dek.len);
		assert_int_equal(nk.len, t->node_key.len);
		assert_memory_equal(nk.p, t->node_key.p, nk.len);
		assert_int_equal(sk.len, t->seal_key.len);
		assert_memory_equal(sk.p, t->seal_key.p, sk.len);
	} else {
		assert_null(dek.p);
		assert_null(nk.p);
		assert_null(sk.p);
	}
	secbuf_free(&dek);
	secbuf_free(&nk);
	secbuf_free(&sk);
	return r;
}

/* Only that the call returns, and hands back nothing on failure. */
static int
read_any(struct kf_test *t, const uint8_t *kek)
{
	struct secbuf dek = SECBUF_INIT, nk = SECBUF_INIT;
	int r;

	r = keyfile_read(t->dir, kek, &dek, &nk, NULL, NULL, t->why, sizeof(t->why));
	if (r == 0) {
		assert_int_equal(dek.len, 32);
		assert_true(nk.len >= 1 && nk.len <= 2048);
	} else {
		assert_null(dek.p);
		assert_null(nk.p);
	}
	secbuf_free(&dek);
	secbuf_free(&nk);
	return r;
}

static int
count_entries(const char *dir)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
write_seed(const char *name, const char *path)
{
	const char *dir = getenv("HUSH_KEYFILE_SEED_DIR");
	char out[4096];
	uint8_t *p;
	size_t len;

	if (dir == NULL || *dir == '\0')
		return;
	p = slurp(path, &len);
	snprintf(out, sizeof(out), "%s/%s", dir, name);
	spit(out, p, len);
	free(p);
}

static void
test_missing(void **state)
{
	struct kf_test *t = *state;
	bool wrapped;

	assert_int_equal(read_check(t, NULL), HUSH_E_NOTFOUND);
	assert_int_equal(read_check(t, t->kek), HUSH_E_NOTFOUND);
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped, t->why, sizeof(t->why)), HUSH_E_NOTFOUND);
}

static void
test_clear_roundtrip(void **state)
{
	struct kf_test *t = *state;
	uint8_t *p;
	size_t len;
	bool wrapped = true;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped, t->why, sizeof(t->why)), 0);
	assert_false(wrapped);
	assert_int_equal(read_check(t, NULL), 0);
	/* A clear file needs no key, and one given is not an error. */
	assert_int_equal(read_check(t, t->kek), 0);
	p = slurp(t->path, &len);
	assert_memory_equal(p, "HUSHKF02", 8);
	assert_int_equal(p[8], 0);
	/* The clear form does hold the DEK (the sealed one must not). */
	assert_non_null(memmem(p, len, t->dek.p, 32));
	free(p);
	/* Nothing else (no temp file) is left in the directory. */
	assert_int_equal(count_entries(t->dir), 1);
	write_seed("clear", t->path);
}

static void
test_sealed_roundtrip(void **state)
{
	struct kf_test *t = *state;
	uint8_t *p;
	size_t len;
	bool wrapped = false;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, t->kek), 0);
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped, t->why, sizeof(t->why)), 0);
	assert_true(wrapped);
	assert_int_equal(read_check(t, t->kek), 0);
	assert_int_equal(read_check(t, NULL), HUSH_E_LOCKED);
	p = slurp(t->path, &len);
	assert_memory_equal(p, "HUSHKF02", 8);
	assert_int_equal(p[8], 1);
	/* Neither key appears in clear. */
	assert_null(memmem(p, len, t->dek.p, 32));
	assert_null(memmem(p, len, t->node_key.p, 16));
	free(p);
	assert_int_equal(count_entries(t->dir), 1);
	write_seed("sealed", t->path);

	/* Rewritten clear (autolock off), then sealed again under another key. */
	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	assert_int_equal(read_check(t, NULL), 0);
	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, t->kek2), 0);
	assert_int_equal(read_check(t, t->kek2), 0);
	assert_int_equal(read_check(t, t->kek), HUSH_E_BADKEY);
	assert_int_equal(count_entries(t->dir), 1);
}

static void
test_wrong_kek(void **state)
{
	struct kf_test *t = *state;
	struct stat st1, st2;
	uint8_t *before, *after;
	size_t lb, la;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, t->kek), 0);
	assert_int_equal(stat(t->path, &st1), 0);
	before = slurp(t->path, &lb);
	assert_int_equal(read_check(t, t->kek2), HUSH_E_BADKEY);
	after = slurp(t->path, &la);
	assert_int_equal(stat(t->path, &st2), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(after, before, lb);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_true(st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
	    st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
	/* The right key still opens it. */
	assert_int_equal(read_check(t, t->kek), 0);
	free(before);
	free(after);
}

static void
test_file_mode(void **state)
{
	struct kf_test *t = *state;
	struct stat st;
	mode_t old;

	/* Even under a permissive umask. */
	old = umask(0);
	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, t->kek), 0);
	umask(old);
	assert_int_equal(stat(t->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* Replacing a file that was left world-readable fixes the mode. */
	assert_int_equal(chmod(t->path, 0644), 0);
	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/*
 * A key file of a hush before sealing keys: read, with no sealing key,
 * which the parent then makes (seal_key.c); and a sealing key is not
 * asked for when the caller does not want it.
 */
static void
test_no_seal_key(void **state)
{
	struct kf_test *t = *state;
	struct secbuf dek = SECBUF_INIT, nk = SECBUF_INIT, sk = SECBUF_INIT;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, NULL, t->kek), 0);
	assert_int_equal(keyfile_read(t->dir, t->kek, &dek, &nk, &sk, NULL, t->why,
	    sizeof(t->why)), 0);
	assert_int_equal(dek.len, 32);
	assert_int_equal(nk.len, t->node_key.len);
	assert_int_equal(sk.len, 0);
	assert_null(sk.p);
	secbuf_free(&dek);
	secbuf_free(&nk);
	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	assert_int_equal(keyfile_read(t->dir, NULL, &dek, &nk, NULL, NULL, t->why,
	    sizeof(t->why)), 0);
	secbuf_free(&dek);
	secbuf_free(&nk);
}

/* why names the file and says it is damaged. */
static void
assert_damaged(struct kf_test *t)
{
	char want[160];

	snprintf(want, sizeof(want), "%s is damaged: ", t->path);
	if (strncmp(t->why, want, strlen(want)) != 0)
		fail_msg("why does not start with '%s': '%s'", want, t->why);
}

/*
 * Every flipped byte of a sealed file is reported as damage, naming the
 * file, and never as a wrong unlock key: the checksum is checked first.
 */
static void
test_byte_flips_sealed(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct kf_test *t = *state;
	uint8_t *orig;
	size_t len;
	bool wrapped;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, t->kek), 0);
	orig = slurp(t->path, &len);
	assert_int_equal(len, KF_HDR + 12 + 6 + 32 + 6 + NODE_KEY_LEN + 6 + 32 + SEAL_OVERHEAD +
	    KF_SUM);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(masks); k++) {
			orig[i] ^= masks[k];
			spit(t->path, orig, len);
			t->why[0] = '\0';
			assert_int_equal(read_check(t, t->kek), HUSH_E_CORRUPT);
			assert_damaged(t);
			/* Damage is found before the key is asked for, and at start. */
			assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
			assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped, t->why,
			    sizeof(t->why)), HUSH_E_CORRUPT);
			assert_damaged(t);
			orig[i] ^= masks[k];
		}
	}
	spit(t->path, orig, len);
	assert_int_equal(read_check(t, t->kek), 0);
	/* Intact, with another key: that is a wrong key, not damage. */
	assert_int_equal(read_check(t, t->kek2), HUSH_E_BADKEY);
	assert_non_null(strstr(t->why, "the unlock key does not open"));
	assert_non_null(strstr(t->why, t->path));
	free(orig);
}

/* A clear file: every flipped byte is found too (format 1 had no check). */
static void
test_byte_flips_clear(void **state)
{
	struct kf_test *t = *state;
	uint8_t *orig;
	size_t len;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	orig = slurp(t->path, &len);
	for (size_t i = 0; i < len; i++) {
		orig[i] ^= 0x01;
		spit(t->path, orig, len);
		t->why[0] = '\0';
		assert_int_equal(read_any(t, NULL), HUSH_E_CORRUPT);
		assert_damaged(t);
		orig[i] ^= 0x01;
	}
	spit(t->path, orig, len);
	assert_int_equal(read_check(t, NULL), 0);
	free(orig);
}

static void
test_truncated(void **state)
{
	struct kf_test *t = *state;
	uint8_t *sealed, *clear;
	size_t slen, clen;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, t->kek), 0);
	sealed = slurp(t->path, &slen);
	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	clear = slurp(t->path, &clen);

	for (size_t n = 0; n < slen; n++) {
		/* Every length up to the header and checksum, then a sample. */
		if (n > KF_HDR + KF_SUM + 2 && n % 13 != 0 && n != slen - 1)
			continue;
		spit(t->path, sealed, n);
		assert_int_equal(read_check(t, t->kek), HUSH_E_CORRUPT);
		assert_damaged(t);
		assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	}
	for (size_t n = 0; n < clen; n++) {
		spit(t->path, clear, n);
		assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
		assert_damaged(t);
	}
	/* One byte more: the checksum no longer sits at the end. */
	clear = realloc(clear, clen + 1);
	assert_non_null(clear);
	clear[clen] = 0;
	spit(t->path, clear, clen + 1);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	free(sealed);
	free(clear);
}

/* A key file as format 1 wrote it: no checksum. */
static void
write_v1(struct kf_test *t, const uint8_t *kek)
{
	struct wire_enc e;
	const uint8_t *msg;
	size_t msglen, sealed;
	uint8_t out[4096];

	wire_enc_init(&e, REC_KEYFILE, 0, 4096);
	wire_put_bytes(&e, T_DEK, t->dek.p, t->dek.len);
	wire_put_bytes(&e, T_NODE_KEY, t->node_key.p, t->node_key.len);
	wire_put_bytes(&e, T_SEAL_KEY, t->seal_key.p, t->seal_key.len);
	assert_int_equal(wire_enc_finish(&e, &msg, &msglen), 0);
	memcpy(out, "HUSHKF01", 8);
	out[8] = kek != NULL;
	if (kek != NULL)
		assert_int_equal(seal(kek, 0, "hush/keyfile", msg, msglen, out + KF_HDR,
		    sizeof(out) - KF_HDR, &sealed), 0);
	else {
		memcpy(out + KF_HDR, msg, msglen);
		sealed = msglen;
	}
	spit(t->path, out, KF_HDR + sealed);
	wire_enc_free(&e);
}

/* keyfile_read with old_format; checks the keys on success. */
static int
read_old(struct kf_test *t, const uint8_t *kek, bool *old_format)
{
	struct secbuf dek = SECBUF_INIT, nk = SECBUF_INIT, sk = SECBUF_INIT;
	int r;

	*old_format = false;
	r = keyfile_read(t->dir, kek, &dek, &nk, &sk, old_format, t->why, sizeof(t->why));
	if (r == 0) {
		assert_memory_equal(dek.p, t->dek.p, 32);
		assert_int_equal(nk.len, t->node_key.len);
		assert_int_equal(sk.len, 32);
	}
	secbuf_free(&dek);
	secbuf_free(&nk);
	secbuf_free(&sk);
	return r;
}

/* Format 1 still reads, says it is old, and the next write is format 2. */
static void
test_old_format(void **state)
{
	struct kf_test *t = *state;
	bool old, wrapped;
	uint8_t *p;
	size_t len;

	write_v1(t, NULL);
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped, t->why, sizeof(t->why)), 0);
	assert_false(wrapped);
	assert_int_equal(read_old(t, NULL, &old), 0);
	assert_true(old);
	write_v1(t, t->kek);
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped, t->why, sizeof(t->why)), 0);
	assert_true(wrapped);
	assert_int_equal(read_old(t, t->kek, &old), 0);
	assert_true(old);
	assert_int_equal(read_old(t, NULL, &old), HUSH_E_LOCKED);
	/* Without a checksum a wrong key and damage look alike, and it says so. */
	assert_int_equal(read_old(t, t->kek2, &old), HUSH_E_BADKEY);
	assert_non_null(strstr(t->why, "may also be damaged"));

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, t->kek), 0);
	p = slurp(t->path, &len);
	assert_memory_equal(p, "HUSHKF02", 8);
	free(p);
	assert_int_equal(read_old(t, t->kek, &old), 0);
	assert_false(old);
}

static void
test_bad_mode_and_size(void **state)
{
	struct kf_test *t = *state;
	uint8_t *p, *big;
	size_t len;
	bool wrapped;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	p = slurp(t->path, &len);
	p[8] = 2;
	spit(t->path, p, len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	assert_int_equal(read_check(t, t->kek), HUSH_E_CORRUPT);
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped, t->why, sizeof(t->why)), HUSH_E_CORRUPT);
	p[8] = 0xff;
	spit(t->path, p, len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);

	/* Bad magic (a format 3 that does not exist). */
	p[8] = 0;
	p[7] = '3';
	spit(t->path, p, len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	free(p);

	/* Over 8192 bytes: refused before it is parsed. */
	big = calloc(1, 8193);
	assert_non_null(big);
	memcpy(big, "HUSHKF01", 8);
	spit(t->path, big, 8193);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped, t->why, sizeof(t->why)), HUSH_E_CORRUPT);
	big[8] = 1;
	spit(t->path, big, 8193);
	assert_int_equal(read_check(t, t->kek), HUSH_E_CORRUPT);
	/* Exactly 8192 bytes of garbage after a valid header. */
	big[8] = 0;
	memset(big + 9, 0x41, 8192 - 9);
	spit(t->path, big, 8192);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	big[8] = 1;
	big[9] = SEAL_VERSION;
	spit(t->path, big, 8192);
	assert_int_equal(read_check(t, t->kek), HUSH_E_BADKEY);
	free(big);
}

/* Well-formed clear files whose record breaks the schema. */
static void
test_bad_record(void **state)
{
	struct kf_test *t = *state;
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;
	uint8_t out[4096], key[2049];

	memset(key, 7, sizeof(key));
	memcpy(out, "HUSHKF01", 8);
	out[8] = 0;

	/* A 31-byte DEK. */
	wire_enc_init(&e, REC_KEYFILE, 0, 4096);
	wire_put_bytes(&e, T_DEK, key, 31);
	wire_put_bytes(&e, T_NODE_KEY, key, 10);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	memcpy(out + 9, buf, len);
	spit(t->path, out, 9 + len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	wire_enc_free(&e);

	/* No node key. */
	wire_enc_init(&e, REC_KEYFILE, 0, 4096);
	wire_put_bytes(&e, T_DEK, key, 32);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	memcpy(out + 9, buf, len);
	spit(t->path, out, 9 + len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	wire_enc_free(&e);

	/* Node key of 2049 bytes. */
	wire_enc_init(&e, REC_KEYFILE, 0, 4096);
	wire_put_bytes(&e, T_DEK, key, 32);
	wire_put_bytes(&e, T_NODE_KEY, key, 2049);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	memcpy(out + 9, buf, len);
	spit(t->path, out, 9 + len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	wire_enc_free(&e);

	/* Another message type. */
	wire_enc_init(&e, REC_SECRET, 0, 4096);
	wire_put_bytes(&e, T_DEK, key, 32);
	wire_put_bytes(&e, T_NODE_KEY, key, 10);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	memcpy(out + 9, buf, len);
	spit(t->path, out, 9 + len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	wire_enc_free(&e);

	/* Valid, and a trailing byte after it. */
	wire_enc_init(&e, REC_KEYFILE, 0, 4096);
	wire_put_bytes(&e, T_DEK, key, 32);
	wire_put_bytes(&e, T_NODE_KEY, key, 2048);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	memcpy(out + 9, buf, len);
	spit(t->path, out, 9 + len);
	assert_int_equal(read_any(t, NULL), 0);
	out[9 + len] = 0;
	spit(t->path, out, 9 + len + 1);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	wire_enc_free(&e);
}

/* A format 2 file around body, with a checksum that matches. */
static void
spit_v2(struct kf_test *t, uint8_t mode, const uint8_t *body, size_t len)
{
	uint8_t out[8192];

	assert_true(KF_HDR + len + KF_SUM <= sizeof(out));
	memcpy(out, "HUSHKF02", 8);
	out[8] = mode;
	memcpy(out + KF_HDR, body, len);
	crypto_generichash(out + KF_HDR + len, KF_SUM, out, KF_HDR + len, NULL, 0);
	spit(t->path, out, KF_HDR + len + KF_SUM);
}

/*
 * Checksums that match bytes that were never a key file (a bug, or a
 * forger): still refused, as damaged, naming the file.
 */
static void
test_bad_record_v2(void **state)
{
	struct kf_test *t = *state;
	struct wire_enc e;
	const uint8_t *buf;
	size_t len, sealed;
	uint8_t key[64], box[256];

	memset(key, 7, sizeof(key));
	wire_enc_init(&e, REC_KEYFILE, 0, 4096);
	wire_put_bytes(&e, T_DEK, key, 31);
	wire_put_bytes(&e, T_NODE_KEY, key, 10);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	spit_v2(t, 0, buf, len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	assert_damaged(t);
	/* The same, sealed under the right key. */
	assert_int_equal(seal(t->kek, 0, "hush/keyfile", buf, len, box, sizeof(box), &sealed), 0);
	spit_v2(t, 1, box, sealed);
	assert_int_equal(read_check(t, t->kek), HUSH_E_CORRUPT);
	assert_damaged(t);
	/* An unknown sealing version. */
	box[0] = SEAL_VERSION + 1;
	spit_v2(t, 1, box, sealed);
	assert_int_equal(read_check(t, t->kek), HUSH_E_CORRUPT);
	assert_damaged(t);
	wire_enc_free(&e);
	/* Mode 2, nothing else wrong. */
	spit_v2(t, 2, key, 0);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	assert_non_null(strstr(t->why, "byte 8"));
	/* Empty bodies. */
	spit_v2(t, 0, key, 0);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	spit_v2(t, 1, key, 0);
	assert_int_equal(read_check(t, t->kek), HUSH_E_CORRUPT);
	assert_int_equal(read_check(t, NULL), HUSH_E_LOCKED);
}

/* node.keys must be a regular file reached without following a link. */
static void
test_not_a_file(void **state)
{
	struct kf_test *t = *state;
	char other[128];

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	snprintf(other, sizeof(other), "%s/elsewhere", t->dir);
	assert_int_equal(rename(t->path, other), 0);
	assert_int_equal(symlink("elsewhere", t->path), 0);
	assert_true(read_check(t, NULL) < 0);
	assert_int_equal(unlink(t->path), 0);
	assert_int_equal(mkdir(t->path, 0700), 0);
	assert_true(read_check(t, NULL) < 0);
	assert_int_equal(rmdir(t->path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sealed_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_kek, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_seal_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_flips_sealed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_flips_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_mode_and_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_record_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
