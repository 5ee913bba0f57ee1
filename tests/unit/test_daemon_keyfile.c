/*
 * Unit tests for daemon/parent/keyfile.c: node.keys in clear and sealed
 * form, in a private temporary state directory per test.
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

#define KF_HDR		9	/* "HUSHKF01" + mode */
#define NODE_KEY_LEN	138	/* a P-256 PKCS#8 key is about this long */

struct kf_test {
	char		 dir[64];
	char		 path[96];
	struct secbuf	 dek, node_key, seal_key;
	uint8_t		 kek[32], kek2[32];
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

	r = keyfile_read(t->dir, kek, &dek, &nk, &sk);
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

	r = keyfile_read(t->dir, kek, &dek, &nk, NULL);
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
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped), HUSH_E_NOTFOUND);
}

static void
test_clear_roundtrip(void **state)
{
	struct kf_test *t = *state;
	uint8_t *p;
	size_t len;
	bool wrapped = true;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped), 0);
	assert_false(wrapped);
	assert_int_equal(read_check(t, NULL), 0);
	/* A clear file needs no key, and one given is not an error. */
	assert_int_equal(read_check(t, t->kek), 0);
	p = slurp(t->path, &len);
	assert_memory_equal(p, "HUSHKF01", 8);
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
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped), 0);
	assert_true(wrapped);
	assert_int_equal(read_check(t, t->kek), 0);
	assert_int_equal(read_check(t, NULL), HUSH_E_LOCKED);
	p = slurp(t->path, &len);
	assert_memory_equal(p, "HUSHKF01", 8);
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
	assert_int_equal(keyfile_read(t->dir, t->kek, &dek, &nk, &sk), 0);
	assert_int_equal(dek.len, 32);
	assert_int_equal(nk.len, t->node_key.len);
	assert_int_equal(sk.len, 0);
	assert_null(sk.p);
	secbuf_free(&dek);
	secbuf_free(&nk);
	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	assert_int_equal(keyfile_read(t->dir, NULL, &dek, &nk, NULL), 0);
	secbuf_free(&dek);
	secbuf_free(&nk);
}

static void
test_byte_flips_sealed(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct kf_test *t = *state;
	uint8_t *orig;
	size_t len;
	int r;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, t->kek), 0);
	orig = slurp(t->path, &len);
	assert_int_equal(len, KF_HDR + 12 + 6 + 32 + 6 + NODE_KEY_LEN + 6 + 32 + SEAL_OVERHEAD);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(masks); k++) {
			orig[i] ^= masks[k];
			spit(t->path, orig, len);
			r = read_check(t, t->kek);
			if (r == 0)
				fail_msg("byte %zu ^ 0x%02x accepted", i, masks[k]);
			/* Magic and mode: corrupt; the record itself: refused by the AEAD. */
			if (i < KF_HDR)
				assert_int_equal(r, HUSH_E_CORRUPT);
			else
				assert_true(r == HUSH_E_BADKEY || r == HUSH_E_VERSION);
			orig[i] ^= masks[k];
		}
	}
	spit(t->path, orig, len);
	assert_int_equal(read_check(t, t->kek), 0);
	free(orig);
}

/* A clear file has no integrity, but no flip may crash or return bad sizes. */
static void
test_byte_flips_clear(void **state)
{
	struct kf_test *t = *state;
	uint8_t *orig;
	size_t len;

	assert_int_equal(keyfile_write(t->dir, &t->dek, &t->node_key, &t->seal_key, NULL), 0);
	orig = slurp(t->path, &len);
	for (size_t i = 0; i < len; i++) {
		orig[i] ^= 0xff;
		spit(t->path, orig, len);
		if (i < KF_HDR)
			assert_int_equal(read_any(t, NULL), HUSH_E_CORRUPT);
		else
			(void)read_any(t, NULL);
		orig[i] ^= 0xff;
	}
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
		/* Every length up to the header, then a sample of the rest. */
		if (n > 20 && n % 13 != 0 && n != slen - 1 &&
		    n != KF_HDR + SEAL_OVERHEAD - 1 && n != KF_HDR + SEAL_OVERHEAD)
			continue;
		spit(t->path, sealed, n);
		if (n < KF_HDR)
			assert_int_equal(read_check(t, t->kek), HUSH_E_CORRUPT);
		else
			assert_true(read_check(t, t->kek) < 0);
		/* Without a key a sealed file is locked, however short. */
		if (n >= KF_HDR)
			assert_int_equal(read_check(t, NULL), HUSH_E_LOCKED);
	}
	for (size_t n = 0; n < clen; n++) {
		spit(t->path, clear, n);
		assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	}
	free(sealed);
	free(clear);
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
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped), HUSH_E_CORRUPT);
	p[8] = 0xff;
	spit(t->path, p, len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);

	/* Bad magic. */
	p[8] = 0;
	p[7] = '2';
	spit(t->path, p, len);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	free(p);

	/* Over 8192 bytes: refused before it is parsed. */
	big = calloc(1, 8193);
	assert_non_null(big);
	memcpy(big, "HUSHKF01", 8);
	spit(t->path, big, 8193);
	assert_int_equal(read_check(t, NULL), HUSH_E_CORRUPT);
	assert_int_equal(keyfile_is_wrapped(t->dir, &wrapped), HUSH_E_CORRUPT);
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
		cmocka_unit_test_setup_teardown(test_bad_mode_and_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
