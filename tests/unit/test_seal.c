/* Unit tests for lib/seal.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "seal.h"
#include "secbuf.h"

#define PURPOSE	"hush/secret-value"
#define PT	"correct horse battery staple"
#define PTLEN	(sizeof(PT) - 1)
#define RECLEN	(PTLEN + SEAL_OVERHEAD)

static uint8_t key[SEAL_KEY_BYTES];
static uint8_t key2[SEAL_KEY_BYTES];

static int
setup(void **state)
{
	randombytes_buf(key, sizeof(key));
	randombytes_buf(key2, sizeof(key2));
	return 0;
}

static void
seal_pt(uint8_t *rec, uint8_t key_id, const char *purpose)
{
	size_t len = 0;

	assert_int_equal(seal(key, key_id, purpose, (const uint8_t *)PT, PTLEN,
	    rec, RECLEN, &len), 0);
	assert_int_equal(len, RECLEN);
}

/* True if every byte of out is zero: the wipe on failure happened. */
static int
wiped(const uint8_t *out, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (out[i] != 0)
			return 0;
	}
	return 1;
}

static void
test_roundtrip(void **state)
{
	uint8_t rec[RECLEN], out[PTLEN], kid = 0;
	size_t len = 0;

	seal_pt(rec, 7, PURPOSE);
	assert_int_equal(rec[0], SEAL_VERSION);
	assert_int_equal(rec[1], 7);
	assert_int_equal(seal_peek_key_id(rec, sizeof(rec), &kid), 0);
	assert_int_equal(kid, 7);
	assert_int_equal(seal_open(key, PURPOSE, rec, sizeof(rec), out,
	    sizeof(out), &len), 0);
	assert_int_equal(len, PTLEN);
	assert_memory_equal(out, PT, PTLEN);
	/* The ciphertext does not contain the plaintext. */
	assert_null(memmem(rec, sizeof(rec), "horse", 5));
}

static void
test_roundtrip_secbuf(void **state)
{
	uint8_t rec[RECLEN];
	struct secbuf sb = SECBUF_INIT;
	size_t len = 0;

	seal_pt(rec, 0, "hush/keyfile");
	assert_int_equal(secbuf_alloc(&sb, PTLEN), 0);
	assert_int_equal(seal_open(key, "hush/keyfile", rec, sizeof(rec), sb.p,
	    sb.len, &len), 0);
	assert_int_equal(len, PTLEN);
	assert_memory_equal(sb.p, PT, PTLEN);
	secbuf_free(&sb);
}

static void
test_large(void **state)
{
	size_t n = 1 << 20, len = 0;
	uint8_t *pt = malloc(n), *rec = malloc(n + SEAL_OVERHEAD), *out = malloc(n);

	assert_non_null(pt);
	assert_non_null(rec);
	assert_non_null(out);
	randombytes_buf(pt, n);
	assert_int_equal(seal(key, 255, "hush/snapshot", pt, n, rec,
	    n + SEAL_OVERHEAD, &len), 0);
	assert_int_equal(len, n + SEAL_OVERHEAD);
	assert_int_equal(seal_open(key, "hush/snapshot", rec, len, out, n, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(out, pt, n);
	free(pt);
	free(rec);
	free(out);
}

static void
test_every_byte_flipped(void **state)
{
	uint8_t rec[RECLEN], out[PTLEN];
	size_t i, len;
	int bit, r;

	seal_pt(rec, 3, PURPOSE);
	for (i = 0; i < sizeof(rec); i++) {
		for (bit = 0; bit < 8; bit++) {
			rec[i] ^= (uint8_t)(1 << bit);
			memset(out, 0xee, sizeof(out));
			len = 99;
			r = seal_open(key, PURPOSE, rec, sizeof(rec), out,
			    sizeof(out), &len);
			assert_int_equal(r, i == 0 ? HUSH_E_VERSION : HUSH_E_AUTH);
			assert_int_equal(len, 0);
			if (r == HUSH_E_AUTH)
				assert_true(wiped(out, sizeof(out)));
			rec[i] ^= (uint8_t)(1 << bit);
		}
	}
	assert_int_equal(seal_open(key, PURPOSE, rec, sizeof(rec), out,
	    sizeof(out), &len), 0);
}

static void
test_wrong_key_purpose(void **state)
{
	uint8_t rec[RECLEN], out[PTLEN];
	size_t len;

	seal_pt(rec, 1, PURPOSE);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(seal_open(key2, PURPOSE, rec, sizeof(rec), out,
	    sizeof(out), &len), HUSH_E_AUTH);
	assert_true(wiped(out, sizeof(out)));
	assert_int_equal(seal_open(key, "hush/raft-entry", rec, sizeof(rec), out,
	    sizeof(out), &len), HUSH_E_AUTH);
	/* A prefix or extension of the purpose is another purpose. */
	assert_int_equal(seal_open(key, "hush/secret-valu", rec, sizeof(rec), out,
	    sizeof(out), &len), HUSH_E_AUTH);
	assert_int_equal(seal_open(key, PURPOSE "s", rec, sizeof(rec), out,
	    sizeof(out), &len), HUSH_E_AUTH);
	assert_int_equal(seal_open(key, PURPOSE, rec, sizeof(rec), out,
	    sizeof(out), &len), 0);
}

static void
test_key_id_change(void **state)
{
	uint8_t rec[RECLEN], out[PTLEN], kid;
	size_t len;

	seal_pt(rec, 1, PURPOSE);
	rec[1] = 2;
	/* peek does not authenticate, open does. */
	assert_int_equal(seal_peek_key_id(rec, sizeof(rec), &kid), 0);
	assert_int_equal(kid, 2);
	assert_int_equal(seal_open(key, PURPOSE, rec, sizeof(rec), out,
	    sizeof(out), &len), HUSH_E_AUTH);
}

static void
test_truncated(void **state)
{
	uint8_t rec[RECLEN], out[PTLEN], kid;
	size_t i, len;

	seal_pt(rec, 1, PURPOSE);
	for (i = 0; i < SEAL_OVERHEAD; i++) {
		assert_int_equal(seal_open(key, PURPOSE, rec, i, out,
		    sizeof(out), &len), HUSH_E_TRUNCATED);
		assert_int_equal(seal_peek_key_id(rec, i, &kid), HUSH_E_TRUNCATED);
	}
	/* Cut anywhere in the ciphertext: the tag no longer verifies. */
	for (i = SEAL_OVERHEAD; i < sizeof(rec); i++)
		assert_int_equal(seal_open(key, PURPOSE, rec, i, out,
		    sizeof(out), &len), HUSH_E_AUTH);
	assert_int_equal(seal_open(key, PURPOSE, NULL, 0, out, sizeof(out),
	    &len), HUSH_E_TRUNCATED);
}

static void
test_version(void **state)
{
	uint8_t rec[RECLEN], out[PTLEN], kid;
	size_t len;

	seal_pt(rec, 1, PURPOSE);
	rec[0] = 2;
	assert_int_equal(seal_peek_key_id(rec, sizeof(rec), &kid), HUSH_E_VERSION);
	assert_int_equal(seal_open(key, PURPOSE, rec, sizeof(rec), out,
	    sizeof(out), &len), HUSH_E_VERSION);
	/* The version is reported even for a short record. */
	assert_int_equal(seal_peek_key_id(rec, 1, &kid), HUSH_E_VERSION);
}

static void
test_empty_plaintext(void **state)
{
	uint8_t rec[SEAL_OVERHEAD], out[1];
	size_t len = 99;

	assert_int_equal(seal(key, 9, PURPOSE, NULL, 0, rec, sizeof(rec), &len), 0);
	assert_int_equal(len, SEAL_OVERHEAD);
	assert_int_equal(seal_open(key, PURPOSE, rec, sizeof(rec), NULL, 0,
	    &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(seal_open(key, PURPOSE, rec, sizeof(rec), out,
	    sizeof(out), &len), 0);
	assert_int_equal(len, 0);
	/* Still authenticated. */
	rec[SEAL_OVERHEAD - 1] ^= 1;
	assert_int_equal(seal_open(key, PURPOSE, rec, sizeof(rec), NULL, 0,
	    &len), HUSH_E_AUTH);
	rec[SEAL_OVERHEAD - 1] ^= 1;
	assert_int_equal(seal_open(key, "hush/snapshot", rec, sizeof(rec), NULL, 0,
	    &len), HUSH_E_AUTH);
}

static void
test_outcap(void **state)
{
	uint8_t rec[RECLEN + 1], out[PTLEN];
	size_t len = 99;

	assert_int_equal(seal(key, 1, PURPOSE, (const uint8_t *)PT, PTLEN, rec,
	    RECLEN - 1, &len), HUSH_E_TOOBIG);
	assert_int_equal(len, 0);
	assert_int_equal(seal(key, 1, PURPOSE, (const uint8_t *)PT, PTLEN, rec,
	    RECLEN + 1, &len), 0);
	assert_int_equal(len, RECLEN);
	assert_int_equal(seal_open(key, PURPOSE, rec, RECLEN, out, PTLEN - 1,
	    &len), HUSH_E_TOOBIG);
	assert_int_equal(len, 0);
	assert_int_equal(seal(key, 1, PURPOSE, (const uint8_t *)PT, SIZE_MAX, rec,
	    sizeof(rec), &len), HUSH_E_TOOBIG);
}

static void
test_bad_purpose(void **state)
{
	uint8_t rec[RECLEN], out[PTLEN];
	char longp[SEAL_MAX_PURPOSE + 2];
	size_t len;

	assert_int_equal(seal(key, 1, NULL, (const uint8_t *)PT, PTLEN, rec,
	    sizeof(rec), &len), HUSH_E_INVAL);
	assert_int_equal(seal(key, 1, "", (const uint8_t *)PT, PTLEN, rec,
	    sizeof(rec), &len), HUSH_E_INVAL);
	assert_int_equal(seal(key, 1, "hush/a\x01", (const uint8_t *)PT, PTLEN,
	    rec, sizeof(rec), &len), HUSH_E_INVAL);
	assert_int_equal(seal(key, 1, "hush a", (const uint8_t *)PT, PTLEN,
	    rec, sizeof(rec), &len), HUSH_E_INVAL);
	memset(longp, 'a', sizeof(longp));
	longp[SEAL_MAX_PURPOSE + 1] = '\0';
	assert_int_equal(seal(key, 1, longp, (const uint8_t *)PT, PTLEN, rec,
	    sizeof(rec), &len), HUSH_E_INVAL);
	longp[SEAL_MAX_PURPOSE] = '\0';
	seal_pt(rec, 1, longp);
	assert_int_equal(seal_open(key, longp, rec, sizeof(rec), out,
	    sizeof(out), &len), 0);
	assert_int_equal(seal_open(key, NULL, rec, sizeof(rec), out,
	    sizeof(out), &len), HUSH_E_INVAL);
}

static void
test_nonces_differ(void **state)
{
	uint8_t a[RECLEN], b[RECLEN];

	seal_pt(a, 1, PURPOSE);
	seal_pt(b, 1, PURPOSE);
	assert_memory_equal(a, b, 2);
	assert_memory_not_equal(a + 2, b + 2, SEAL_NONCE_BYTES);
	assert_memory_not_equal(a + SEAL_HDR_BYTES, b + SEAL_HDR_BYTES,
	    RECLEN - SEAL_HDR_BYTES);
}

/*
 * A forked child inherits the nonce prefix and counter: its seals must not
 * repeat the parent's nonces under the same key (seal.c draws a new prefix
 * in the child).
 */
static void
test_fork_new_nonces(void **state)
{
	uint8_t a[RECLEN], b[RECLEN], c[RECLEN];
	int fds[2], status;
	pid_t pid;

	seal_pt(a, 1, PURPOSE);
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		seal_pt(c, 1, PURPOSE);
		_exit(write(fds[1], c, sizeof(c)) == (ssize_t)sizeof(c) ? 0 : 1);
	}
	assert_true(pid > 0);
	close(fds[1]);
	assert_int_equal(read(fds[0], c, sizeof(c)), (ssize_t)sizeof(c));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's next seal would use its counter's next value. */
	seal_pt(b, 1, PURPOSE);
	assert_memory_not_equal(a + 2, c + 2, 16);
	assert_memory_not_equal(b + 2, c + 2, SEAL_NONCE_BYTES);
	/* Within the parent: one prefix, the counter moving on. */
	assert_memory_equal(a + 2, b + 2, 16);
	assert_memory_not_equal(a + 2 + 16, b + 2 + 16, 8);
}

/* In place, as fsm.c seals a snapshot: the plaintext where the ciphertext goes. */
static void
test_in_place(void **state)
{
	uint8_t buf[SEAL_OVERHEAD + 1000], want[1000], got[1000];
	size_t outlen, ptlen;

	randombytes_buf(want, sizeof(want));
	memcpy(buf + SEAL_HDR_BYTES, want, sizeof(want));
	assert_int_equal(seal(key, 0, PURPOSE, buf + SEAL_HDR_BYTES, sizeof(want), buf,
	    sizeof(buf), &outlen), 0);
	assert_int_equal(outlen, sizeof(buf));
	assert_memory_not_equal(buf + SEAL_HDR_BYTES, want, sizeof(want));
	assert_int_equal(seal_open(key, PURPOSE, buf, outlen, got, sizeof(got), &ptlen), 0);
	assert_int_equal(ptlen, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_secbuf),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_every_byte_flipped),
		cmocka_unit_test(test_wrong_key_purpose),
		cmocka_unit_test(test_key_id_change),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_empty_plaintext),
		cmocka_unit_test(test_outcap),
		cmocka_unit_test(test_bad_purpose),
		cmocka_unit_test(test_nonces_differ),
		cmocka_unit_test(test_fork_new_nonces),
		cmocka_unit_test(test_in_place),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}
