/*
 * libFuzzer harness for lib/backup_file.c's reader: a backup file of
 * arbitrary bytes, opened with a fixed key, read chunk by chunk to its end.
 * It must never crash, must fail only with the codes the header promises
 * and a printable reason, must say AUTH only before the first chunk opened,
 * and must hand out at most one final chunk, after which it says 0.  The
 * same bytes are also read through an fd (a memfd, as a regular file) and
 * must come to exactly the same chunks and the same reason.
 *
 * Kind 1 files get their key from a fixed KEK (bytes 0x00..0x1f), as a
 * restore would; kind 2 files get a fixed key (bytes 0x40..0x5f) directly,
 * since Argon2id per input would leave no time for anything else.  The
 * seed corpus holds real files made with those keys.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "backup_file.h"
#include "err.h"

static int memfd = -1;
static uint8_t kek[BACKUP_KEK_BYTES];
static uint8_t pwkey[BACKUP_KEY_BYTES];

static void
setup(void)
{
	size_t i;

	for (i = 0; i < sizeof(kek); i++) {
		kek[i] = (uint8_t)i;
		pwkey[i] = (uint8_t)(0x40 + i);
	}
	if ((memfd = memfd_create("fuzz_backup_file", 0)) < 0)
		abort();
}

#define FUZZ_SETUP()	setup()
#include "harness.h"

/* What one read of a file came to. */
struct trace {
	int		 rc;		/* the open's or the last next()'s */
	size_t		 chunks;
	bool		 final;
	uint8_t		 digest[32];	/* over every chunk's length and bytes */
	char		 why[256];
};

static bool
open_rc_ok(int rc)
{
	return rc == HUSH_E_FORMAT || rc == HUSH_E_VERSION ||
	    rc == HUSH_E_TRUNCATED || rc == HUSH_E_CORRUPT || rc == HUSH_E_RANGE;
}

static void
read_all(struct backup_reader *r, int open_rc, size_t size, struct trace *t)
{
	crypto_generichash_state h;
	const struct backup_hdr *hdr;
	const uint8_t *p;
	uint8_t key[BACKUP_KEY_BYTES], n[8];
	size_t len, i;
	bool final;
	int rc = 0;

	crypto_generichash_init(&h, NULL, 0, sizeof(t->digest));
	t->chunks = 0;
	t->final = false;
	if ((t->rc = open_rc) != 0) {
		if (!open_rc_ok(open_rc))
			abort();
		fuzz_check_why(t->why);
		goto out;
	}
	hdr = backup_reader_hdr(r);
	if (hdr->kind == BACKUP_KEY_UNLOCK) {
		if (backup_key_from_kek(kek, hdr, key) != 0)
			abort();
	} else if (hdr->kind == BACKUP_KEY_PASSPHRASE) {
		memcpy(key, pwkey, sizeof(key));
	} else {
		abort();	/* the parser let an unknown kind through */
	}
	if (backup_reader_key(r, key, t->why, sizeof(t->why)) != 0)
		abort();
	for (;;) {
		rc = backup_reader_next(r, &p, &len, &final, t->why,
		    sizeof(t->why));
		if (rc == 0) {
			if (!t->final || p != NULL || len != 0 || final)
				abort();
			break;
		}
		if (rc < 0) {
			if (p != NULL || len != 0 || final)
				abort();
			if (rc != HUSH_E_AUTH && rc != HUSH_E_CORRUPT &&
			    rc != HUSH_E_TRUNCATED)
				abort();
			/* Only the first chunk is where the key is tried. */
			if (rc == HUSH_E_AUTH && t->chunks != 0)
				abort();
			fuzz_check_why(t->why);
			t->rc = rc;
			/* And it stays ended. */
			if (backup_reader_next(r, &p, &len, &final, NULL, 0) !=
			    HUSH_E_INVAL)
				abort();
			break;
		}
		if (rc != 1 || t->final || p == NULL || len > BACKUP_CHUNK_MAX)
			abort();
		t->chunks++;
		t->final = final;
		for (i = 0; i < 8; i++)
			n[i] = (uint8_t)((uint64_t)len >> (8 * i));
		crypto_generichash_update(&h, n, sizeof(n));
		crypto_generichash_update(&h, p, len);
	}
	/* Every chunk costs at least a length field and its overhead. */
	if (BACKUP_HDR_BYTES + t->chunks * (BACKUP_LEN_BYTES +
	    BACKUP_CHUNK_OVERHEAD) > size)
		abort();
	t->rc = rc < 0 ? rc : 0;
 out:
	crypto_generichash_final(&h, t->digest, sizeof(t->digest));
	backup_reader_close(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backup_reader r;
	struct trace m, f;
	char *copy;

	memset(&m, 0, sizeof(m));
	memset(&f, 0, sizeof(f));

	/* Exactly size bytes, so ASan sees any read past the end. */
	if ((copy = fuzz_exact_copy(data, size)) == NULL)
		return 0;
	read_all(&r, backup_reader_open_mem(&r, (const uint8_t *)copy, size,
	    m.why, sizeof(m.why)), size, &m);
	free(copy);

	if (ftruncate(memfd, 0) != 0 ||
	    (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size) ||
	    lseek(memfd, 0, SEEK_SET) != 0)
		abort();
	read_all(&r, backup_reader_open_fd(&r, memfd, f.why, sizeof(f.why)),
	    size, &f);

	if (m.rc != f.rc || m.chunks != f.chunks || m.final != f.final ||
	    memcmp(m.digest, f.digest, sizeof(m.digest)) != 0 ||
	    (m.rc != 0 && strcmp(m.why, f.why) != 0))
		abort();
	return 0;
}
