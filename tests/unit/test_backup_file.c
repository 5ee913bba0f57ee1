/*
 * Unit tests for lib/backup_file.c: the sealed container of backup files.
 * Files are written by the real writer into real temporary files, then
 * damaged in every way the format promises to notice, and read back from
 * memory and from fds (regular files and a pipe).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "backup_file.h"
#include "err.h"

/* A name that must never appear in clear in a backup. */
#define SECRET_NAME	"db/prod/postgres-password"
#define FAST_OPS	BACKUP_OPSLIMIT_MIN
#define FAST_MEM	BACKUP_MEMLIMIT_KIB_MIN

static uint8_t kek[BACKUP_KEK_BYTES];

/* A file's bytes and where each chunk starts (its length field). */
struct file {
	uint8_t		*b;
	size_t		 len;
	size_t		 nchunks;
	size_t		 start[8];
	size_t		 clen[8];	/* ciphertext length */
};

struct chunk {
	const uint8_t	*p;
	size_t		 len;
};

static int
setup(void **state)
{
	randombytes_buf(kek, sizeof(kek));
	return 0;
}

/* An empty regular file, already unlinked. */
static int
temp_fd(void)
{
	char path[] = "/tmp/hush-test-backup-XXXXXX";
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	return fd;
}

/* All of fd's bytes, from its start. */
static uint8_t *
slurp(int fd, size_t *len)
{
	struct stat st;
	uint8_t *b;
	ssize_t n;

	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	n = pread(fd, b, (size_t)st.st_size, 0);
	assert_int_equal(n, st.st_size);
	*len = (size_t)n;
	return b;
}

/* The key for h: from the KEK, or the passphrase "pw" for kind 2. */
static void
key_for(const struct backup_hdr *h, uint8_t key[BACKUP_KEY_BYTES])
{
	if (h->kind == BACKUP_KEY_PASSPHRASE)
		assert_int_equal(backup_key_from_passphrase("pw", 2, h, key), 0);
	else
		assert_int_equal(backup_key_from_kek(kek, h, key), 0);
}

/*
 * Writes chunks (the last one final) into a temporary file with the real
 * writer and returns its bytes with the chunk offsets.
 */
static void
write_file(struct file *f, struct backup_hdr *h, const struct chunk *c,
    size_t n)
{
	struct backup_writer w;
	uint8_t key[BACKUP_KEY_BYTES];
	size_t i, off = BACKUP_HDR_BYTES;
	int fd = temp_fd();

	assert_true(n <= 8);
	key_for(h, key);
	assert_int_equal(backup_writer_open(&w, fd, h, key), 0);
	assert_int_equal(backup_writer_bytes(&w), BACKUP_HDR_BYTES);
	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		assert_int_equal(backup_writer_put(&w, c[i].p, c[i].len,
		    i == n - 1), 0);
		f->start[i] = off;
		f->clen[i] = c[i].len + BACKUP_CHUNK_OVERHEAD;
		off += BACKUP_LEN_BYTES + f->clen[i];
		assert_int_equal(backup_writer_bytes(&w), off);
	}
	f->nchunks = n;
	backup_writer_close(&w);
	f->b = slurp(fd, &f->len);
	assert_int_equal(f->len, off);
	close(fd);
}

/* Three small chunks under the KEK, the shape most damage tests use. */
static void
small_file(struct file *f)
{
	static uint8_t a[100], b[50], c[10];
	struct chunk ch[] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct backup_hdr h;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(c, 'c', sizeof(c));
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	write_file(f, &h, ch, 3);
}

/* What reading a whole file came to. */
struct outcome {
	int	 rc;		/* 0 when every chunk was read and next() said 0 */
	size_t	 chunks;	/* chunks handed out */
	bool	 saw_final;
	char	 why[256];
};

/*
 * Reads a file from r (opened already, or failed with open_rc) to its end
 * with the key its (possibly damaged) header calls for, as a restore would.
 */
static void
read_rest(struct backup_reader *r, int open_rc, struct outcome *o)
{
	uint8_t key[BACKUP_KEY_BYTES];
	const uint8_t *p;
	size_t len;
	bool final;
	int rc;

	o->chunks = 0;
	o->saw_final = false;
	if ((o->rc = open_rc) != 0)
		return;
	key_for(backup_reader_hdr(r), key);
	assert_int_equal(backup_reader_key(r, key, o->why, sizeof(o->why)), 0);
	for (;;) {
		rc = backup_reader_next(r, &p, &len, &final, o->why,
		    sizeof(o->why));
		if (rc < 0) {
			o->rc = rc;
			assert_null(p);
			assert_int_equal(len, 0);
			/* A failed reader stays failed. */
			assert_int_equal(backup_reader_next(r, &p, &len, &final,
			    NULL, 0), HUSH_E_INVAL);
			break;
		}
		if (rc == 0) {
			o->rc = 0;
			assert_true(o->saw_final);
			break;
		}
		assert_false(o->saw_final);
		o->chunks++;
		o->saw_final = final;
	}
	backup_reader_close(r);
}

static void
read_mem(const uint8_t *b, size_t len, struct outcome *o)
{
	struct backup_reader r;

	memset(o, 0, sizeof(*o));
	read_rest(&r, backup_reader_open_mem(&r, b, len, o->why, sizeof(o->why)),
	    o);
}

static void
read_fd(int fd, struct outcome *o)
{
	struct backup_reader r;

	memset(o, 0, sizeof(*o));
	read_rest(&r, backup_reader_open_fd(&r, fd, o->why, sizeof(o->why)), o);
}

/* The same bytes through a regular file. */
static void
read_via_file(const uint8_t *b, size_t len, struct outcome *o)
{
	int fd = temp_fd();

	assert_int_equal(write(fd, b, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	read_fd(fd, o);
	close(fd);
}

/* The reason names what it should: contains want. */
static void
assert_why(const struct outcome *o, const char *want)
{
	if (strstr(o->why, want) == NULL)
		fail_msg("why \"%s\" does not say \"%s\"", o->why, want);
}

/* The reason says the file ends at byte n (not at n0 or n5). */
static void
assert_ends_at(const struct outcome *o, size_t n)
{
	char want[48];
	const char *at;

	snprintf(want, sizeof(want), "it ends at byte %zu", n);
	at = strstr(o->why, want);
	if (at == NULL || (at[strlen(want)] >= '0' && at[strlen(want)] <= '9'))
		fail_msg("why \"%s\" does not say \"%s\"", o->why, want);
}

/* ---- round trips --------------------------------------------------------- */

static void
test_roundtrip_file(void **state)
{
	static uint8_t big[BACKUP_CHUNK_MAX], tail[1000];
	struct chunk ch[] = {
		{ (const uint8_t *)SECRET_NAME, sizeof(SECRET_NAME) - 1 },
		{ (const uint8_t *)"", 0 },
		{ big, sizeof(big) },
		{ tail, sizeof(tail) },
	};
	struct backup_reader r;
	struct backup_hdr h;
	struct file f;
	const uint8_t *p;
	uint8_t key[BACKUP_KEY_BYTES];
	char why[256];
	size_t i, len;
	bool final;
	int fd, pass;

	randombytes_buf(big, sizeof(big));
	randombytes_buf(tail, sizeof(tail));
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	write_file(&f, &h, ch, 4);
	/* Nothing in clear: not the name, not a stretch of the big chunk. */
	assert_null(memmem(f.b, f.len, SECRET_NAME, sizeof(SECRET_NAME) - 1));
	assert_null(memmem(f.b, f.len, big + 1000, 32));
	assert_memory_equal(f.b, BACKUP_MAGIC, 8);

	key_for(&h, key);
	/* Once from a real file, once from memory: the same chunks. */
	for (pass = 0; pass < 2; pass++) {
		fd = -1;
		if (pass == 0) {
			fd = temp_fd();
			assert_int_equal(write(fd, f.b, f.len), (ssize_t)f.len);
			assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
			assert_int_equal(backup_reader_open_fd(&r, fd, why,
			    sizeof(why)), 0);
		} else {
			assert_int_equal(backup_reader_open_mem(&r, f.b, f.len,
			    why, sizeof(why)), 0);
		}
		assert_int_equal(backup_reader_hdr(&r)->kind, BACKUP_KEY_UNLOCK);
		assert_memory_equal(backup_reader_hdr(&r)->salt, h.salt, 16);
		assert_memory_equal(backup_reader_hdr(&r)->stream, h.stream, 24);
		assert_int_equal(backup_reader_key(&r, key, why, sizeof(why)), 0);
		for (i = 0; i < 4; i++) {
			assert_int_equal(backup_reader_next(&r, &p, &len, &final,
			    why, sizeof(why)), 1);
			assert_int_equal(len, ch[i].len);
			if (len > 0)
				assert_memory_equal(p, ch[i].p, len);
			assert_non_null(p);
			assert_int_equal(final, i == 3);
		}
		assert_int_equal(backup_reader_next(&r, &p, &len, &final, why,
		    sizeof(why)), 0);
		assert_null(p);
		assert_false(final);
		/* And stays at its end. */
		assert_int_equal(backup_reader_next(&r, &p, &len, &final, why,
		    sizeof(why)), 0);
		backup_reader_close(&r);
		if (fd >= 0)
			close(fd);
	}
	free(f.b);
}

/* A file of one empty final chunk, and one whose final chunk is empty. */
static void
test_empty_chunks(void **state)
{
	struct chunk one[] = { { NULL, 0 } };
	struct chunk two[] = { { (const uint8_t *)"x", 1 }, { NULL, 0 } };
	struct backup_hdr h;
	struct outcome o;
	struct file f;

	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	write_file(&f, &h, one, 1);
	assert_int_equal(f.len, BACKUP_HDR_BYTES + 4 + BACKUP_CHUNK_OVERHEAD);
	read_mem(f.b, f.len, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.chunks, 1);
	free(f.b);

	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	write_file(&f, &h, two, 2);
	read_via_file(f.b, f.len, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.chunks, 2);
	free(f.b);
}

/* A chunk's plaintext is wiped when the next one is read. */
static void
test_plaintext_wiped_on_reuse(void **state)
{
	static uint8_t a[4096], b[16];
	struct chunk ch[] = { { a, sizeof(a) }, { b, sizeof(b) }, { NULL, 0 } };
	struct backup_reader r;
	struct backup_hdr h;
	struct file f;
	const uint8_t *p1, *p2;
	uint8_t key[BACKUP_KEY_BYTES];
	size_t len, i;
	bool final;

	memset(a, 0x5a, sizeof(a));
	memset(b, 0x33, sizeof(b));
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	write_file(&f, &h, ch, 3);
	key_for(&h, key);
	assert_int_equal(backup_reader_open_mem(&r, f.b, f.len, NULL, 0), 0);
	assert_int_equal(backup_reader_key(&r, key, NULL, 0), 0);
	assert_int_equal(backup_reader_next(&r, &p1, &len, &final, NULL, 0), 1);
	assert_int_equal(len, sizeof(a));
	assert_int_equal(backup_reader_next(&r, &p2, &len, &final, NULL, 0), 1);
	/* The same buffer, now the short chunk and nothing of the long one. */
	assert_ptr_equal(p1, p2);
	assert_memory_equal(p2, b, sizeof(b));
	for (i = sizeof(b); i < sizeof(a); i++)
		assert_int_equal(p1[i], 0);
	backup_reader_close(&r);
	free(f.b);
}

/* ---- keys ---------------------------------------------------------------- */

static void
test_header_defaults(void **state)
{
	struct backup_hdr h, h2, back;
	uint8_t raw[BACKUP_HDR_BYTES];

	backup_hdr_new(&h, BACKUP_KEY_PASSPHRASE);
	assert_int_equal(h.kind, 2);
	assert_int_equal(h.opslimit, 3);
	assert_int_equal(h.memlimit_kib, 65536);
	backup_hdr_new(&h2, BACKUP_KEY_PASSPHRASE);
	assert_memory_not_equal(h.salt, h2.salt, sizeof(h.salt));

	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	assert_int_equal(h.kind, 1);
	assert_int_equal(h.opslimit, 0);
	assert_int_equal(h.memlimit_kib, 0);

	/* Encode and parse agree, byte for byte on the documented layout. */
	backup_hdr_new(&h, BACKUP_KEY_PASSPHRASE);
	h.opslimit = 4;
	h.memlimit_kib = 0x00012345;
	randombytes_buf(h.stream, sizeof(h.stream));
	backup_hdr_encode(&h, raw);
	assert_memory_equal(raw, "HUSHBAK1\x02\0\0\0\0\0\0\x04\0\x01\x23\x45", 20);
	assert_memory_equal(raw + 20, h.salt, 16);
	assert_memory_equal(raw + 36, h.stream, 24);
	assert_int_equal(backup_hdr_parse(raw, sizeof(raw), &back, NULL, 0), 0);
	assert_memory_equal(&back, &h, sizeof(h));
}

static void
test_kek_key(void **state)
{
	struct backup_hdr h, h2;
	crypto_generichash_state st;
	uint8_t key[32], key2[32], want[32], other[32];

	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	assert_int_equal(backup_key_from_kek(kek, &h, key), 0);
	/* What the header comment says: keyed BLAKE2b-256 of context||salt. */
	crypto_generichash_init(&st, kek, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)"hush/backup-key/1", 17);
	crypto_generichash_update(&st, h.salt, 16);
	crypto_generichash_final(&st, want, 32);
	assert_memory_equal(key, want, 32);
	/* Deterministic; another salt or another KEK, another key. */
	assert_int_equal(backup_key_from_kek(kek, &h, key2), 0);
	assert_memory_equal(key, key2, 32);
	h2 = h;
	h2.salt[15] ^= 1;
	assert_int_equal(backup_key_from_kek(kek, &h2, key2), 0);
	assert_memory_not_equal(key, key2, 32);
	memcpy(other, kek, 32);
	other[0] ^= 1;
	assert_int_equal(backup_key_from_kek(other, &h, key2), 0);
	assert_memory_not_equal(key, key2, 32);
	/* Only for a header of its kind; the key comes back wiped. */
	backup_hdr_new(&h2, BACKUP_KEY_PASSPHRASE);
	assert_int_equal(backup_key_from_kek(kek, &h2, key2), HUSH_E_INVAL);
	assert_true(sodium_is_zero(key2, 32));
}

static void
test_passphrase_key(void **state)
{
	static const uint8_t msg[] = "chunk under a passphrase";
	struct chunk ch[] = { { msg, sizeof(msg) } };
	struct backup_reader r;
	struct backup_hdr h, h1;
	struct outcome o;
	struct file f;
	const uint8_t *p;
	uint8_t key[32], want[32];
	char why[256];
	size_t len;
	bool final;

	backup_hdr_new(&h, BACKUP_KEY_PASSPHRASE);
	h.opslimit = FAST_OPS;
	h.memlimit_kib = FAST_MEM;
	assert_int_equal(backup_key_from_passphrase("pw", 2, &h, key), 0);
	assert_int_equal(crypto_pwhash(want, 32, "pw", 2, h.salt, FAST_OPS,
	    (size_t)FAST_MEM * 1024, crypto_pwhash_ALG_ARGON2ID13), 0);
	assert_memory_equal(key, want, 32);

	/* A whole file under it (read_mem derives from "pw" too). */
	write_file(&f, &h, ch, 1);
	assert_int_equal(f.b[8], 2);
	assert_memory_equal(f.b + 12, "\0\0\0\x01\0\0\x20\0", 8);
	read_mem(f.b, f.len, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.chunks, 1);

	/* The wrong passphrase is told as such. */
	assert_int_equal(backup_reader_open_mem(&r, f.b, f.len, why,
	    sizeof(why)), 0);
	assert_int_equal(backup_key_from_passphrase("pW", 2,
	    backup_reader_hdr(&r), key), 0);
	assert_int_equal(backup_reader_key(&r, key, why, sizeof(why)), 0);
	assert_int_equal(backup_reader_next(&r, &p, &len, &final, why,
	    sizeof(why)), HUSH_E_AUTH);
	assert_string_equal(why, "the key does not open this backup: wrong "
	    "unlock key or passphrase, or its first 106 bytes are damaged");
	backup_reader_close(&r);
	free(f.b);

	/* Refused: an empty passphrase, a header of the other kind. */
	assert_int_equal(backup_key_from_passphrase("", 0, &h, key),
	    HUSH_E_INVAL);
	assert_true(sodium_is_zero(key, 32));
	assert_int_equal(backup_key_from_passphrase(NULL, 0, &h, key),
	    HUSH_E_INVAL);
	backup_hdr_new(&h1, BACKUP_KEY_UNLOCK);
	assert_int_equal(backup_key_from_passphrase("pw", 2, &h1, key),
	    HUSH_E_INVAL);
	/* Limits a reader would refuse are not spent either. */
	h.memlimit_kib = BACKUP_MEMLIMIT_KIB_MAX + 1;
	assert_int_equal(backup_key_from_passphrase("pw", 2, &h, key),
	    HUSH_E_INVAL);
}

static void
test_wrong_key(void **state)
{
	struct backup_reader r;
	struct outcome o;
	struct file f;
	const uint8_t *p;
	uint8_t key[32];
	char want[160];
	size_t len;
	bool final;

	small_file(&f);
	assert_int_equal(backup_reader_open_mem(&r, f.b, f.len, NULL, 0), 0);
	randombytes_buf(key, sizeof(key));
	assert_int_equal(backup_reader_key(&r, key, NULL, 0), 0);
	assert_int_equal(backup_reader_next(&r, &p, &len, &final, o.why,
	    sizeof(o.why)), HUSH_E_AUTH);
	assert_null(p);
	snprintf(want, sizeof(want), "the key does not open this backup: wrong "
	    "unlock key or passphrase, or its first %zu bytes are damaged",
	    f.start[1]);
	assert_string_equal(o.why, want);
	backup_reader_close(&r);
	free(f.b);
}

/* ---- damage -------------------------------------------------------------- */

/* What a flip of byte off (by mask) of f must come to. */
static int
expected_after_flip(const struct file *f, size_t off, uint8_t mask,
    const char **says)
{
	uint8_t v = f->b[off] ^ mask;
	size_t k, fieldoff;
	uint32_t l;
	uint8_t lb[4];

	*says = NULL;
	if (off < 7)
		return HUSH_E_FORMAT;
	if (off == 7)
		return v >= '0' && v <= '9' ? HUSH_E_VERSION : HUSH_E_FORMAT;
	if (off == 8) {
		*says = "key kind";
		return v == BACKUP_KEY_PASSPHRASE ? HUSH_E_RANGE : HUSH_E_CORRUPT;
	}
	if (off < 12) {
		*says = "reserved";
		return HUSH_E_CORRUPT;
	}
	if (off < 20) {
		*says = "must be 0";
		return HUSH_E_CORRUPT;
	}
	if (off < BACKUP_HDR_BYTES) {
		*says = "the key does not open this backup";
		return HUSH_E_AUTH;
	}
	for (k = f->nchunks; k-- > 0;) {
		if (off >= f->start[k])
			break;
	}
	fieldoff = off - f->start[k];
	if (fieldoff < 4) {
		memcpy(lb, f->b + f->start[k], 4);
		lb[fieldoff] ^= mask;
		l = (uint32_t)lb[0] << 24 | (uint32_t)lb[1] << 16 |
		    (uint32_t)lb[2] << 8 | lb[3];
		if (l < BACKUP_CHUNK_MIN || l > BACKUP_CHUNK_MAX + 17) {
			*says = "length field";
			return HUSH_E_CORRUPT;
		}
		if (f->start[k] + 4 + l > f->len) {
			*says = "truncated";
			return HUSH_E_TRUNCATED;
		}
	}
	if (k == 0) {
		*says = "the key does not open this backup";
		return HUSH_E_AUTH;
	}
	*says = "does not authenticate";
	return HUSH_E_CORRUPT;
}

static void
test_every_flip_refused(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct outcome o;
	struct file f;
	const char *says;
	uint8_t *b;
	size_t off, m, n = 0;
	int want;

	small_file(&f);
	b = malloc(f.len);
	assert_non_null(b);
	/* Every byte of this small file, three ways. */
	for (off = 0; off < f.len; off++) {
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(b, f.b, f.len);
			b[off] ^= masks[m];
			want = expected_after_flip(&f, off, masks[m], &says);
			read_mem(b, f.len, &o);
			if (o.rc != want)
				fail_msg("flip 0x%02x at byte %zu: %d (%s), want %d",
				    masks[m], off, o.rc, o.why, want);
			if (says != NULL)
				assert_why(&o, says);
			/* No chunk at or past the damage was handed out. */
			assert_false(o.saw_final);
			n++;
		}
	}
	assert_int_equal(n, f.len * 3);
	/* A later chunk's damage names where that chunk starts. */
	memcpy(b, f.b, f.len);
	b[f.start[2] + 10] ^= 1;
	read_mem(b, f.len, &o);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);
	assert_int_equal(o.chunks, 2);
	{
		char want_s[128];

		snprintf(want_s, sizeof(want_s), "the backup is damaged at byte "
		    "%zu (chunk 3 does not authenticate)", f.start[2]);
		assert_string_equal(o.why, want_s);
	}
	free(b);
	free(f.b);
}

/* The same over a file with a 4 MiB chunk, at a sample of offsets. */
static void
test_flips_in_big_file(void **state)
{
	static uint8_t big[BACKUP_CHUNK_MAX];
	struct chunk ch[] = { { big, 300 }, { big, sizeof(big) }, { big, 7 } };
	struct backup_hdr h;
	struct outcome o;
	struct file f;
	const char *says;
	size_t offs[16], i, n = 0;
	int want;

	randombytes_buf(big, sizeof(big));
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	write_file(&f, &h, ch, 3);
	offs[n++] = 9;
	offs[n++] = 40;
	offs[n++] = f.start[0] + 3;
	offs[n++] = f.start[0] + 100;
	offs[n++] = f.start[1];
	offs[n++] = f.start[1] + 3;
	offs[n++] = f.start[1] + 4;
	offs[n++] = f.start[1] + 2 * 1024 * 1024;
	offs[n++] = f.start[2] - 1;
	offs[n++] = f.start[2] + 2;
	offs[n++] = f.len - 1;
	for (i = 0; i < n; i++) {
		want = expected_after_flip(&f, offs[i], 0x01, &says);
		f.b[offs[i]] ^= 0x01;
		read_mem(f.b, f.len, &o);
		if (o.rc != want)
			fail_msg("flip at byte %zu: %d (%s), want %d", offs[i],
			    o.rc, o.why, want);
		if (says != NULL)
			assert_why(&o, says);
		f.b[offs[i]] ^= 0x01;
	}
	/* And undamaged it still reads, from a file too. */
	read_via_file(f.b, f.len, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.chunks, 3);
	free(f.b);
}

static void
test_truncation(void **state)
{
	struct outcome o;
	struct file f;
	size_t cut, k;
	bool boundary;

	small_file(&f);
	for (cut = 0; cut < f.len; cut++) {
		read_mem(f.b, cut, &o);
		if (o.rc != HUSH_E_TRUNCATED)
			fail_msg("cut at %zu: %d (%s)", cut, o.rc, o.why);
		assert_why(&o, "the backup is truncated");
		assert_ends_at(&o, cut);
		if (cut >= BACKUP_HDR_BYTES)
			assert_why(&o, "before its final chunk");
		assert_false(o.saw_final);
		/* At chunk boundaries, through a real file as well. */
		boundary = cut == 0 || cut == BACKUP_HDR_BYTES;
		for (k = 0; k < f.nchunks; k++)
			boundary |= cut == f.start[k] || cut == f.start[k] + 2;
		if (boundary) {
			read_via_file(f.b, cut, &o);
			assert_int_equal(o.rc, HUSH_E_TRUNCATED);
			assert_ends_at(&o, cut);
		}
	}
	/* A file that is only its header. */
	read_mem(f.b, BACKUP_HDR_BYTES, &o);
	assert_string_equal(o.why, "the backup is truncated: it ends at byte 60 "
	    "before its final chunk");
	/* Cut right after the second chunk: two chunks read, then refused. */
	read_mem(f.b, f.start[2], &o);
	assert_int_equal(o.rc, HUSH_E_TRUNCATED);
	assert_int_equal(o.chunks, 2);
	free(f.b);
}

static void
test_trailing_data(void **state)
{
	struct outcome o;
	struct file f;
	uint8_t *b;
	char want[128];
	int pfd[2];

	small_file(&f);
	b = calloc(1, f.len + 1000);
	assert_non_null(b);
	memcpy(b, f.b, f.len);

	read_mem(b, f.len + 1, &o);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);
	snprintf(want, sizeof(want), "1 bytes of trailing data after the "
	    "backup's final chunk (which ends at byte %zu)", f.len);
	assert_string_equal(o.why, want);
	/* The final chunk itself is not handed out. */
	assert_int_equal(o.chunks, 2);
	assert_false(o.saw_final);

	read_via_file(b, f.len + 1000, &o);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);
	assert_why(&o, "1000 bytes of trailing data");

	/* Through a pipe, which has no size to ask for. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(write(pfd[1], b, f.len + 999), (ssize_t)(f.len + 999));
	close(pfd[1]);
	read_fd(pfd[0], &o);
	close(pfd[0]);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);
	assert_why(&o, "999 bytes of trailing data");
	/* And a whole one through a pipe reads. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(write(pfd[1], b, f.len), (ssize_t)f.len);
	close(pfd[1]);
	read_fd(pfd[0], &o);
	close(pfd[0]);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.chunks, 3);
	free(b);
	free(f.b);
}

/*
 * A reader on a pipe fed a few bytes at a time (as from a slow disk or
 * ssh) gets short reads everywhere, and must still read the whole file.
 */
static void
test_short_reads(void **state)
{
	struct outcome o;
	struct file f;
	size_t off, n;
	pid_t pid;
	int pfd[2], status;

	small_file(&f);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		for (off = 0; off < f.len; off += n) {
			n = f.len - off < 5 ? f.len - off : 5;
			if (write(pfd[1], f.b + off, n) != (ssize_t)n)
				_exit(1);
			usleep(200);
		}
		_exit(0);
	}
	close(pfd[1]);
	read_fd(pfd[0], &o);
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.chunks, 3);
	/* The writer was not cut off (SIGPIPE) by a reader that quit early. */
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(f.b);
}

/* f's chunks in the order idx[] gives (n of them), after its header. */
static size_t
rearrange(const struct file *f, const size_t *idx, size_t n, uint8_t *out)
{
	size_t i, o = BACKUP_HDR_BYTES, l;

	memcpy(out, f->b, BACKUP_HDR_BYTES);
	for (i = 0; i < n; i++) {
		l = 4 + f->clen[idx[i]];
		memcpy(out + o, f->b + f->start[idx[i]], l);
		o += l;
	}
	return o;
}

static void
test_reordered_chunks(void **state)
{
	static uint8_t p[4][64];
	struct chunk ch[] = { { p[0], 64 }, { p[1], 64 }, { p[2], 64 }, { p[3], 64 } };
	static const size_t swap23[] = { 0, 2, 1, 3 }, swap12[] = { 1, 0, 2, 3 },
	    dup2[] = { 0, 1, 1, 2, 3 }, drop2[] = { 0, 2, 3 },
	    nofinal[] = { 0, 1, 2 }, final_early[] = { 0, 3 };
	struct backup_hdr h;
	struct outcome o;
	struct file f, g;
	uint8_t b[1024];
	size_t n;

	randombytes_buf(p, sizeof(p));
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	write_file(&f, &h, ch, 4);

	n = rearrange(&f, swap23, 4, b);
	read_mem(b, n, &o);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);
	assert_int_equal(o.chunks, 1);
	assert_why(&o, "chunk 2 does not authenticate");

	n = rearrange(&f, swap12, 4, b);
	read_mem(b, n, &o);
	assert_int_equal(o.rc, HUSH_E_AUTH);

	n = rearrange(&f, dup2, 5, b);
	read_mem(b, n, &o);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);
	assert_int_equal(o.chunks, 2);
	assert_why(&o, "chunk 3 does not authenticate");

	n = rearrange(&f, drop2, 3, b);
	read_mem(b, n, &o);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);
	assert_why(&o, "chunk 2 does not authenticate");

	n = rearrange(&f, nofinal, 3, b);
	read_mem(b, n, &o);
	assert_int_equal(o.rc, HUSH_E_TRUNCATED);
	assert_int_equal(o.chunks, 3);

	n = rearrange(&f, final_early, 2, b);
	read_mem(b, n, &o);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);

	/*
	 * A chunk spliced in from another file under the same KEK (another
	 * salt, so another key; and another stream) does not open either.
	 */
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	write_file(&g, &h, ch, 4);
	memcpy(b, f.b, f.len);
	memcpy(b + f.start[2], g.b + g.start[2], 4 + g.clen[2]);
	read_mem(b, f.len, &o);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);
	assert_why(&o, "chunk 3 does not authenticate");
	/* Another file's header in front of this file's chunks: the key. */
	memcpy(b, g.b, BACKUP_HDR_BYTES);
	memcpy(b + BACKUP_HDR_BYTES, f.b + BACKUP_HDR_BYTES,
	    f.len - BACKUP_HDR_BYTES);
	read_mem(b, f.len, &o);
	assert_int_equal(o.rc, HUSH_E_AUTH);
	free(g.b);
	free(f.b);
}

/* ---- header -------------------------------------------------------------- */

static void
hdr_expect(const uint8_t *raw, size_t len, int want, const char *msg)
{
	struct backup_hdr h;
	struct outcome o;
	char why[256] = "";

	assert_int_equal(backup_hdr_parse(raw, len, &h, why, sizeof(why)), want);
	if (msg != NULL)
		assert_string_equal(why, msg);
	/* The reader says the same when it opens such a file. */
	read_mem(raw, len, &o);
	assert_int_equal(o.rc, want);
	if (msg != NULL)
		assert_string_equal(o.why, msg);
}

static void
test_header_refused(void **state)
{
	struct backup_hdr h;
	uint8_t raw[BACKUP_HDR_BYTES], b[BACKUP_HDR_BYTES];
	static const struct { uint32_t ops, mem; int ok; } lim[] = {
		{ 0, 65536, 0 }, { 1, 65536, 1 }, { 10, 65536, 1 },
		{ 11, 65536, 0 }, { 0xffffffff, 65536, 0 },
		{ 3, 8191, 0 }, { 3, 8192, 1 }, { 3, 1048576, 1 },
		{ 3, 1048577, 0 }, { 3, 0, 0 },
	};
	size_t i;

	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	backup_hdr_encode(&h, raw);

	memcpy(b, raw, sizeof(b));
	memcpy(b, "HUSHBAK", 7);
	b[0] = 'h';
	hdr_expect(b, sizeof(b), HUSH_E_FORMAT,
	    "not a hush backup file (its first 8 bytes are not HUSHBAK1)");
	hdr_expect((const uint8_t *)"PK\3\4", 4, HUSH_E_FORMAT, NULL);
	memcpy(b, "HUSHBAK2", 8);
	hdr_expect(b, sizeof(b), HUSH_E_VERSION, "this is a hush backup file "
	    "of format version 2; this hush reads version 1");

	memcpy(b, raw, sizeof(b));
	b[8] = 7;
	hdr_expect(b, sizeof(b), HUSH_E_CORRUPT,
	    "unknown key kind 7 in the backup header");
	b[8] = 0;
	hdr_expect(b, sizeof(b), HUSH_E_CORRUPT,
	    "unknown key kind 0 in the backup header");

	for (i = 9; i < 12; i++) {
		memcpy(b, raw, sizeof(b));
		b[i] = 0x40;
		hdr_expect(b, sizeof(b), HUSH_E_CORRUPT, "bytes 9..11 of the "
		    "backup header are reserved and must be zero");
	}

	/* Argon2id limits in an unlock-key file. */
	memcpy(b, raw, sizeof(b));
	b[15] = 1;
	hdr_expect(b, sizeof(b), HUSH_E_CORRUPT, NULL);

	/* Argon2id limits of a passphrase file, at and past each bound. */
	backup_hdr_new(&h, BACKUP_KEY_PASSPHRASE);
	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		struct backup_hdr back;

		h.opslimit = lim[i].ops;
		h.memlimit_kib = lim[i].mem;
		backup_hdr_encode(&h, b);
		if (lim[i].ok)
			assert_int_equal(backup_hdr_parse(b, sizeof(b), &back,
			    NULL, 0), 0);
		else
			hdr_expect(b, sizeof(b), HUSH_E_RANGE, NULL);
	}
	h.opslimit = 3;
	h.memlimit_kib = 99999999;
	backup_hdr_encode(&h, b);
	hdr_expect(b, sizeof(b), HUSH_E_RANGE, "Argon2id memlimit 99999999 KiB "
	    "in the backup header is out of range (8192..1048576)");
	h.opslimit = 11;
	h.memlimit_kib = 65536;
	backup_hdr_encode(&h, b);
	hdr_expect(b, sizeof(b), HUSH_E_RANGE, "Argon2id opslimit 11 in the "
	    "backup header is out of range (1..10)");

	/* Short headers: truncated, saying where. */
	hdr_expect(raw, 59, HUSH_E_TRUNCATED, "the backup is truncated: it ends "
	    "at byte 59, inside its 60-byte header");
	hdr_expect(raw, 0, HUSH_E_TRUNCATED, NULL);
}

/* A header and one hand-made chunk length field (and n bytes after it). */
static void
length_expect(uint32_t l, size_t n, int want, const char *says)
{
	struct backup_hdr h;
	struct outcome o;
	uint8_t *b;

	b = calloc(1, BACKUP_HDR_BYTES + 4 + n);
	assert_non_null(b);
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	randombytes_buf(h.stream, sizeof(h.stream));
	backup_hdr_encode(&h, b);
	b[60] = (uint8_t)(l >> 24);
	b[61] = (uint8_t)(l >> 16);
	b[62] = (uint8_t)(l >> 8);
	b[63] = (uint8_t)l;
	read_mem(b, BACKUP_HDR_BYTES + 4 + n, &o);
	assert_int_equal(o.rc, want);
	assert_why(&o, says);
	free(b);
}

static void
test_chunk_length_range(void **state)
{
	const uint32_t max = BACKUP_CHUNK_MAX + BACKUP_CHUNK_OVERHEAD;

	length_expect(0, 100, HUSH_E_CORRUPT, "the backup is damaged at byte 60 "
	    "(chunk 1's length field says 0 bytes, outside 17..4194321)");
	length_expect(16, 100, HUSH_E_CORRUPT, "says 16 bytes");
	length_expect(max + 1, 100, HUSH_E_CORRUPT, "says 4194322 bytes");
	length_expect(0xffffffffu, 100, HUSH_E_CORRUPT, "says 4294967295 bytes");
	/* In range but past the end: the file was cut. */
	length_expect(max, 100, HUSH_E_TRUNCATED, "inside chunk 1, which would "
	    "end at byte 4194385");
	length_expect(17, 16, HUSH_E_TRUNCATED, "it ends at byte 80");
	/* In range and there, but not a chunk: the first one, so AUTH. */
	length_expect(17, 17, HUSH_E_AUTH, "its first 81 bytes");
}

/* A chunk with a tag hush never writes, sealed with the right key. */
static void
test_foreign_tag(void **state)
{
	crypto_secretstream_xchacha20poly1305_state st;
	struct backup_hdr h;
	struct outcome o;
	uint8_t b[BACKUP_HDR_BYTES + 4 + 17 + 3], key[32];
	unsigned long long cl;

	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	key_for(&h, key);
	assert_int_equal(crypto_secretstream_xchacha20poly1305_init_push(&st,
	    h.stream, key), 0);
	backup_hdr_encode(&h, b);
	assert_int_equal(crypto_secretstream_xchacha20poly1305_push(&st, b + 64,
	    &cl, (const uint8_t *)"abc", 3, b, BACKUP_HDR_BYTES,
	    crypto_secretstream_xchacha20poly1305_TAG_PUSH), 0);
	memcpy(b + 60, "\0\0\0\x14", 4);
	read_mem(b, sizeof(b), &o);
	assert_int_equal(o.rc, HUSH_E_CORRUPT);
	assert_why(&o, "carries secretstream tag 1, which hush never writes");
	/* The same chunk without the header as AD: the header is authenticated. */
	assert_int_equal(crypto_secretstream_xchacha20poly1305_init_push(&st,
	    h.stream, key), 0);
	assert_int_equal(crypto_secretstream_xchacha20poly1305_push(&st, b + 64,
	    &cl, (const uint8_t *)"abc", 3, NULL, 0,
	    crypto_secretstream_xchacha20poly1305_TAG_FINAL), 0);
	read_mem(b, sizeof(b), &o);
	assert_int_equal(o.rc, HUSH_E_AUTH);
}

/* ---- misuse -------------------------------------------------------------- */

static void
test_writer_misuse(void **state)
{
	static uint8_t big[BACKUP_CHUNK_MAX + 1];
	struct backup_writer w;
	struct backup_hdr h;
	uint8_t key[32];
	char path[] = "/tmp/hush-test-backup-XXXXXX";
	int fd, pfd[2], ro;

	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	key_for(&h, key);

	fd = temp_fd();
	assert_int_equal(backup_writer_open(&w, fd, &h, key), 0);
	assert_int_equal(backup_writer_put(&w, big, sizeof(big), false),
	    HUSH_E_TOOBIG);
	assert_int_equal(backup_writer_put(&w, NULL, 1, false), HUSH_E_INVAL);
	assert_int_equal(backup_writer_put(&w, big, 1, true), 0);
	assert_int_equal(backup_writer_put(&w, big, 1, true), HUSH_E_INVAL);
	assert_int_equal(backup_writer_bytes(&w), 60 + 4 + 18);
	backup_writer_close(&w);
	/* Not into a file that holds something already. */
	assert_int_equal(backup_writer_open(&w, fd, &h, key), HUSH_E_EXISTS);
	close(fd);

	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(backup_writer_open(&w, pfd[1], &h, key), HUSH_E_INVAL);
	close(pfd[0]);
	close(pfd[1]);

	/* A header its own reader would refuse is not written. */
	fd = temp_fd();
	h.kind = 3;
	assert_int_equal(backup_writer_open(&w, fd, &h, key), HUSH_E_INVAL);
	h.kind = BACKUP_KEY_PASSPHRASE;
	h.opslimit = 11;
	h.memlimit_kib = 65536;
	assert_int_equal(backup_writer_open(&w, fd, &h, key), HUSH_E_INVAL);
	close(fd);

	/* A write error is reported, and again on every later put. */
	backup_hdr_new(&h, BACKUP_KEY_UNLOCK);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	ro = open(path, O_RDONLY);
	assert_true(ro >= 0);
	unlink(path);
	assert_int_equal(backup_writer_open(&w, ro, &h, key), HUSH_E_IO);
	backup_writer_close(&w);
	assert_int_equal(backup_writer_open(&w, fd, &h, key), 0);
	/* Turn the writer's fd into the read-only one behind its back. */
	assert_int_equal(dup2(ro, fd), fd);
	assert_int_equal(backup_writer_put(&w, big, 10, false), HUSH_E_IO);
	assert_int_equal(errno, EBADF);
	assert_int_equal(backup_writer_put(&w, big, 10, true), HUSH_E_IO);
	backup_writer_close(&w);
	close(fd);
	close(ro);
}

static void
test_reader_misuse(void **state)
{
	struct backup_reader r;
	struct file f;
	const uint8_t *p;
	uint8_t key[32];
	char why[128];
	size_t len;
	bool final;

	small_file(&f);
	assert_int_equal(backup_reader_open_mem(&r, f.b, f.len, NULL, 0), 0);
	assert_int_equal(backup_reader_next(&r, &p, &len, &final, why,
	    sizeof(why)), HUSH_E_INVAL);
	assert_string_equal(why, "no key was given to open the backup with");
	key_for(backup_reader_hdr(&r), key);
	assert_int_equal(backup_reader_key(&r, key, NULL, 0), 0);
	assert_int_equal(backup_reader_key(&r, key, NULL, 0), HUSH_E_INVAL);
	backup_reader_close(&r);
	/* close() twice, and after a failed open, is harmless. */
	backup_reader_close(&r);
	assert_int_equal(backup_reader_open_mem(&r, f.b, 3, NULL, 0),
	    HUSH_E_TRUNCATED);
	backup_reader_close(&r);
	assert_int_equal(backup_reader_open_fd(&r, -1, NULL, 0), HUSH_E_INVAL);
	free(f.b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_file),
		cmocka_unit_test(test_empty_chunks),
		cmocka_unit_test(test_plaintext_wiped_on_reuse),
		cmocka_unit_test(test_header_defaults),
		cmocka_unit_test(test_kek_key),
		cmocka_unit_test(test_passphrase_key),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_every_flip_refused),
		cmocka_unit_test(test_flips_in_big_file),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_trailing_data),
		cmocka_unit_test(test_short_reads),
		cmocka_unit_test(test_reordered_chunks),
		cmocka_unit_test(test_header_refused),
		cmocka_unit_test(test_chunk_length_range),
		cmocka_unit_test(test_foreign_tag),
		cmocka_unit_test(test_writer_misuse),
		cmocka_unit_test(test_reader_misuse),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}
