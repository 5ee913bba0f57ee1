/*
 * The sealed container of hush backup files; see backup_file.h for the
 * layout and what each error means.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "backup_file.h"
#include "err.h"
#include "lockmem.h"

/* A libsodium whose sizes differed would silently change the format. */
_Static_assert(BACKUP_STREAM_BYTES ==
    crypto_secretstream_xchacha20poly1305_HEADERBYTES, "stream header");
_Static_assert(BACKUP_KEY_BYTES ==
    crypto_secretstream_xchacha20poly1305_KEYBYTES, "key size");
_Static_assert(BACKUP_CHUNK_OVERHEAD ==
    crypto_secretstream_xchacha20poly1305_ABYTES, "chunk overhead");
_Static_assert(BACKUP_SALT_BYTES == crypto_pwhash_argon2id_SALTBYTES,
    "Argon2id salt");
_Static_assert(BACKUP_HDR_BYTES == BACKUP_MAGIC_BYTES + 4 + 4 + 4 +
    BACKUP_SALT_BYTES + BACKUP_STREAM_BYTES, "header layout");

/* Header offsets. */
#define OFF_KIND	8
#define OFF_RESERVED	9
#define OFF_OPSLIMIT	12
#define OFF_MEMLIMIT	16
#define OFF_SALT	20
#define OFF_STREAM	36

#define CHUNK_CT_MAX	(BACKUP_CHUNK_MAX + BACKUP_CHUNK_OVERHEAD)
#define KEK_CONTEXT	"hush/backup-key/1"

#define TAG_MESSAGE	crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL	crypto_secretstream_xchacha20poly1305_TAG_FINAL

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- header ------------------------------------------------------------ */

void
backup_hdr_new(struct backup_hdr *h, enum backup_kind kind)
{
	memset(h, 0, sizeof(*h));
	h->kind = (uint8_t)kind;
	if (kind == BACKUP_KEY_PASSPHRASE) {
		h->opslimit = BACKUP_OPSLIMIT_DEFAULT;
		h->memlimit_kib = BACKUP_MEMLIMIT_KIB_DEFAULT;
	}
	randombytes_buf(h->salt, sizeof(h->salt));
}

/*
 * The rules on a header's fields, for the one read from a file and for the
 * one a writer is handed alike: a writer must not make a file its own
 * reader would refuse.
 */
static int
hdr_check(const struct backup_hdr *h, char *why, size_t whylen)
{
	switch (h->kind) {
	case BACKUP_KEY_UNLOCK:
		if (h->opslimit != 0 || h->memlimit_kib != 0) {
			set_why(why, whylen, "Argon2id limits (opslimit %" PRIu32
			    ", memlimit %" PRIu32 " KiB) in the header of a "
			    "backup keyed by the unlock key, where they must be 0",
			    h->opslimit, h->memlimit_kib);
			return HUSH_E_CORRUPT;
		}
		return 0;
	case BACKUP_KEY_PASSPHRASE:
		if (h->opslimit < BACKUP_OPSLIMIT_MIN ||
		    h->opslimit > BACKUP_OPSLIMIT_MAX) {
			set_why(why, whylen, "Argon2id opslimit %" PRIu32 " in "
			    "the backup header is out of range (%u..%u)",
			    h->opslimit, BACKUP_OPSLIMIT_MIN, BACKUP_OPSLIMIT_MAX);
			return HUSH_E_RANGE;
		}
		if (h->memlimit_kib < BACKUP_MEMLIMIT_KIB_MIN ||
		    h->memlimit_kib > BACKUP_MEMLIMIT_KIB_MAX) {
			set_why(why, whylen, "Argon2id memlimit %" PRIu32 " KiB "
			    "in the backup header is out of range (%u..%u)",
			    h->memlimit_kib, BACKUP_MEMLIMIT_KIB_MIN,
			    BACKUP_MEMLIMIT_KIB_MAX);
			return HUSH_E_RANGE;
		}
		return 0;
	default:
		set_why(why, whylen, "unknown key kind %u in the backup header",
		    h->kind);
		return HUSH_E_CORRUPT;
	}
}

int
backup_hdr_parse(const uint8_t *b, size_t len, struct backup_hdr *h,
    char *why, size_t whylen)
{
	size_t n = len < BACKUP_MAGIC_BYTES ? len : BACKUP_MAGIC_BYTES;

	memset(h, 0, sizeof(*h));
	/*
	 * "HUSHBAK" and another digit is a backup this hush is too old (or
	 * too new) for: say so rather than "not a backup".
	 */
	if (n == BACKUP_MAGIC_BYTES &&
	    memcmp(b, BACKUP_MAGIC, BACKUP_MAGIC_BYTES - 1) == 0 &&
	    b[BACKUP_MAGIC_BYTES - 1] != BACKUP_MAGIC[BACKUP_MAGIC_BYTES - 1] &&
	    b[BACKUP_MAGIC_BYTES - 1] >= '0' && b[BACKUP_MAGIC_BYTES - 1] <= '9') {
		set_why(why, whylen, "this is a hush backup file of format "
		    "version %c; this hush reads version %c",
		    b[BACKUP_MAGIC_BYTES - 1], BACKUP_MAGIC[BACKUP_MAGIC_BYTES - 1]);
		return HUSH_E_VERSION;
	}
	if (memcmp(b, BACKUP_MAGIC, n) != 0) {
		set_why(why, whylen, "not a hush backup file (its first %d bytes "
		    "are not %s)", BACKUP_MAGIC_BYTES, BACKUP_MAGIC);
		return HUSH_E_FORMAT;
	}
	if (len < BACKUP_HDR_BYTES) {
		set_why(why, whylen, "the backup is truncated: it ends at byte "
		    "%zu, inside its %d-byte header", len, BACKUP_HDR_BYTES);
		return HUSH_E_TRUNCATED;
	}
	if (b[OFF_RESERVED] != 0 || b[OFF_RESERVED + 1] != 0 ||
	    b[OFF_RESERVED + 2] != 0) {
		set_why(why, whylen, "bytes %d..%d of the backup header are "
		    "reserved and must be zero", OFF_RESERVED, OFF_RESERVED + 2);
		return HUSH_E_CORRUPT;
	}
	h->kind = b[OFF_KIND];
	h->opslimit = get_be32(b + OFF_OPSLIMIT);
	h->memlimit_kib = get_be32(b + OFF_MEMLIMIT);
	memcpy(h->salt, b + OFF_SALT, sizeof(h->salt));
	memcpy(h->stream, b + OFF_STREAM, sizeof(h->stream));
	return hdr_check(h, why, whylen);
}

void
backup_hdr_encode(const struct backup_hdr *h, uint8_t out[BACKUP_HDR_BYTES])
{
	memcpy(out, BACKUP_MAGIC, BACKUP_MAGIC_BYTES);
	out[OFF_KIND] = h->kind;
	memset(out + OFF_RESERVED, 0, 3);
	put_be32(out + OFF_OPSLIMIT, h->opslimit);
	put_be32(out + OFF_MEMLIMIT, h->memlimit_kib);
	memcpy(out + OFF_SALT, h->salt, sizeof(h->salt));
	memcpy(out + OFF_STREAM, h->stream, sizeof(h->stream));
}

/* ---- keys -------------------------------------------------------------- */

int
backup_key_from_kek(const uint8_t kek[BACKUP_KEK_BYTES],
    const struct backup_hdr *h, uint8_t key[BACKUP_KEY_BYTES])
{
	crypto_generichash_state st;
	int r = HUSH_E_CRYPTO;

	if (kek == NULL || h == NULL || key == NULL ||
	    h->kind != BACKUP_KEY_UNLOCK || hdr_check(h, NULL, 0) != 0) {
		if (key != NULL)
			sodium_memzero(key, BACKUP_KEY_BYTES);
		return HUSH_E_INVAL;
	}
	/*
	 * The context string keeps this key apart from anything else ever
	 * derived from the KEK; the salt makes it one key per file.
	 */
	if (crypto_generichash_init(&st, kek, BACKUP_KEK_BYTES,
	    BACKUP_KEY_BYTES) == 0 &&
	    crypto_generichash_update(&st, (const uint8_t *)KEK_CONTEXT,
	    sizeof(KEK_CONTEXT) - 1) == 0 &&
	    crypto_generichash_update(&st, h->salt, sizeof(h->salt)) == 0 &&
	    crypto_generichash_final(&st, key, BACKUP_KEY_BYTES) == 0)
		r = 0;
	sodium_memzero(&st, sizeof(st));
	if (r != 0)
		sodium_memzero(key, BACKUP_KEY_BYTES);
	return r;
}

int
backup_key_from_passphrase(const char *pw, size_t len,
    const struct backup_hdr *h, uint8_t key[BACKUP_KEY_BYTES])
{
	if (key == NULL)
		return HUSH_E_INVAL;
	sodium_memzero(key, BACKUP_KEY_BYTES);
	if (pw == NULL || len == 0 || h == NULL ||
	    h->kind != BACKUP_KEY_PASSPHRASE || hdr_check(h, NULL, 0) != 0)
		return HUSH_E_INVAL;
	if (crypto_pwhash(key, BACKUP_KEY_BYTES, pw, len, h->salt,
	    h->opslimit, (size_t)h->memlimit_kib * 1024,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(key, BACKUP_KEY_BYTES);
		return errno == ENOMEM ? HUSH_E_NOMEM : HUSH_E_CRYPTO;
	}
	return 0;
}

/* ---- writer ------------------------------------------------------------ */

/* All of p to fd, through short writes and signals; 0 or an errno. */
static int
write_full(int fd, const uint8_t *p, size_t len, uint64_t *written)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
		*written += (uint64_t)n;
	}
	return 0;
}

static int
write_err(int e)
{
	return e == ENOSPC || e == EDQUOT ? HUSH_E_NOSPACE : HUSH_E_IO;
}

int
backup_writer_open(struct backup_writer *w, int fd, struct backup_hdr *h,
    const uint8_t key[BACKUP_KEY_BYTES])
{
	struct stat st;
	int e, r;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (h == NULL || key == NULL || fd < 0 || hdr_check(h, NULL, 0) != 0)
		return HUSH_E_INVAL;
	if (fstat(fd, &st) != 0)
		return HUSH_E_IO;
	if (!S_ISREG(st.st_mode))
		return HUSH_E_INVAL;
	if (st.st_size != 0)
		return HUSH_E_EXISTS;
	/* Once, here, so that put() makes no system call but write(). */
	if ((w->buf = malloc(BACKUP_LEN_BYTES + CHUNK_CT_MAX)) == NULL)
		return HUSH_E_NOMEM;
	if (crypto_secretstream_xchacha20poly1305_init_push(&w->st, h->stream,
	    key) != 0) {
		r = HUSH_E_CRYPTO;
		goto fail;
	}
	backup_hdr_encode(h, w->ad);
	if ((e = write_full(fd, w->ad, sizeof(w->ad), &w->bytes)) != 0) {
		r = write_err(e);
		goto fail;
	}
	w->fd = fd;
	return 0;
 fail:
	e = errno;
	backup_writer_close(w);
	errno = e;
	return r;
}

int
backup_writer_put(struct backup_writer *w, const uint8_t *plain, size_t len,
    bool final)
{
	unsigned long long ctlen = 0;
	uint8_t tag = final ? TAG_FINAL : TAG_MESSAGE;
	int e;

	if (w->err != 0)
		return w->err;
	if (w->buf == NULL || w->final || (plain == NULL && len != 0))
		return HUSH_E_INVAL;
	if (len > BACKUP_CHUNK_MAX)
		return HUSH_E_TOOBIG;
	/* The clear header is authenticated with the first chunk. */
	if (crypto_secretstream_xchacha20poly1305_push(&w->st,
	    w->buf + BACKUP_LEN_BYTES, &ctlen, plain, len,
	    w->chunks == 0 ? w->ad : NULL, w->chunks == 0 ? sizeof(w->ad) : 0,
	    tag) != 0 || ctlen != len + BACKUP_CHUNK_OVERHEAD) {
		w->err = HUSH_E_CRYPTO;
		return w->err;
	}
	put_be32(w->buf, (uint32_t)ctlen);
	w->chunks++;
	if ((e = write_full(w->fd, w->buf, BACKUP_LEN_BYTES + (size_t)ctlen,
	    &w->bytes)) != 0) {
		w->err = write_err(e);
		errno = e;
		return w->err;
	}
	if (final) {
		w->final = true;
		sodium_memzero(&w->st, sizeof(w->st));
	}
	return 0;
}

void
backup_writer_close(struct backup_writer *w)
{
	sodium_memzero(&w->st, sizeof(w->st));
	free(w->buf);
	w->buf = NULL;
	w->fd = -1;
}

uint64_t
backup_writer_bytes(const struct backup_writer *w)
{
	return w->bytes;
}

/* ---- reader ------------------------------------------------------------ */

/*
 * Up to len bytes from fd into p, through short reads and signals; fewer
 * only at end of file.  0 or an errno.
 */
static int
read_full(int fd, uint8_t *p, size_t len, size_t *got)
{
	ssize_t n;

	*got = 0;
	while (*got < len) {
		n = read(fd, p + *got, len - *got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/*
 * The next len bytes of the file, or fewer at its end: from memory in
 * place, from an fd into dst (which has room for len).
 */
static int
take(struct backup_reader *r, uint8_t *dst, size_t len, const uint8_t **p,
    size_t *got, char *why, size_t whylen)
{
	size_t left;
	int e;

	if (r->fd < 0) {
		left = r->memlen - (size_t)r->off;
		*got = len < left ? len : left;
		*p = r->mem + r->off;
	} else {
		if ((e = read_full(r->fd, dst, len, got)) != 0) {
			set_why(why, whylen, "reading the backup at byte %" PRIu64
			    ": %s", r->off + *got, strerror(e));
			return HUSH_E_IO;
		}
		*p = dst;
	}
	r->off += *got;
	return 0;
}

/*
 * How many bytes follow the final chunk.  A regular file says by its size;
 * anything else is read to its end.
 */
static int
trailing_bytes(struct backup_reader *r, uint64_t *n, char *why, size_t whylen)
{
	struct stat st;
	size_t got;
	off_t pos;
	int e;

	*n = 0;
	if (r->fd < 0) {
		*n = r->memlen - (size_t)r->off;
		return 0;
	}
	if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (pos = lseek(r->fd, 0, SEEK_CUR)) >= 0) {
		*n = st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
		return 0;
	}
	do {
		if ((e = read_full(r->fd, r->cbuf, r->ccap, &got)) != 0) {
			set_why(why, whylen, "reading the backup past its final "
			    "chunk: %s", strerror(e));
			return HUSH_E_IO;
		}
		*n += got;
	} while (got == r->ccap);
	return 0;
}

static int
reader_open(struct backup_reader *r, char *why, size_t whylen)
{
	const uint8_t *p;
	size_t got;
	int rc;

	if ((rc = take(r, r->hdr_raw, BACKUP_HDR_BYTES, &p, &got, why,
	    whylen)) != 0)
		return rc;
	if ((rc = backup_hdr_parse(p, got, &r->hdr, why, whylen)) != 0)
		return rc;
	if (p != r->hdr_raw)
		memcpy(r->hdr_raw, p, BACKUP_HDR_BYTES);
	r->phase = BACKUP_R_NEED_KEY;
	return 0;
}

static void
reader_init(struct backup_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->phase = BACKUP_R_FAILED;
}

int
backup_reader_open_fd(struct backup_reader *r, int fd, char *why,
    size_t whylen)
{
	int rc;

	reader_init(r);
	if (fd < 0) {
		set_why(why, whylen, "no file to read the backup from");
		return HUSH_E_INVAL;
	}
	r->fd = fd;
	if ((rc = reader_open(r, why, whylen)) != 0)
		backup_reader_close(r);
	return rc;
}

int
backup_reader_open_mem(struct backup_reader *r, const uint8_t *b, size_t len,
    char *why, size_t whylen)
{
	int rc;

	reader_init(r);
	if (b == NULL && len != 0) {
		set_why(why, whylen, "no bytes to read the backup from");
		return HUSH_E_INVAL;
	}
	r->mem = b;
	r->memlen = len;
	if ((rc = reader_open(r, why, whylen)) != 0)
		backup_reader_close(r);
	return rc;
}

const struct backup_hdr *
backup_reader_hdr(const struct backup_reader *r)
{
	return &r->hdr;
}

int
backup_reader_key(struct backup_reader *r, const uint8_t key[BACKUP_KEY_BYTES],
    char *why, size_t whylen)
{
	if (r->phase != BACKUP_R_NEED_KEY || key == NULL) {
		set_why(why, whylen, "the backup reader is not waiting for a key");
		return HUSH_E_INVAL;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&r->st,
	    r->hdr.stream, key) != 0) {
		set_why(why, whylen, "libsodium refused the backup's stream "
		    "header");
		r->phase = BACKUP_R_FAILED;
		return HUSH_E_CRYPTO;
	}
	r->phase = BACKUP_R_CHUNKS;
	return 0;
}

/* Room for len bytes of ciphertext from an fd. */
static int
cbuf_reserve(struct backup_reader *r, size_t len)
{
	uint8_t *n;

	if (r->fd < 0 || len <= r->ccap)
		return 0;
	if ((n = realloc(r->cbuf, len)) == NULL)
		return HUSH_E_NOMEM;
	r->cbuf = n;
	r->ccap = len;
	return 0;
}

/* Room for len bytes of plaintext; what the buffer held is wiped. */
static int
pbuf_reserve(struct backup_reader *r, size_t len)
{
	if (r->pbuf != NULL && len <= r->pcap)
		return 0;
	lockmem_free_used(r->pbuf, r->plen);
	r->plen = 0;
	r->pcap = 0;
	/* lockmem_alloc(0) still gives a pointer to hand out. */
	if ((r->pbuf = lockmem_alloc(len)) == NULL)
		return HUSH_E_NOMEM;
	r->pcap = len;
	return 0;
}

/* Ends the reading: nothing secret stays behind. */
static int
reader_fail(struct backup_reader *r, int rc)
{
	sodium_memzero(&r->st, sizeof(r->st));
	if (r->pbuf != NULL)
		sodium_memzero(r->pbuf, r->plen);
	r->plen = 0;
	r->phase = BACKUP_R_FAILED;
	return rc;
}

int
backup_reader_next(struct backup_reader *r, const uint8_t **plain,
    size_t *len, bool *final, char *why, size_t whylen)
{
	unsigned long long mlen = 0;
	const uint8_t *p;
	uint8_t lenbuf[BACKUP_LEN_BYTES], tag = 0;
	uint64_t start = r->off, chunk = r->chunks + 1, trail;
	uint32_t clen;
	size_t got;
	int rc;

	*plain = NULL;
	*len = 0;
	*final = false;
	switch (r->phase) {
	case BACKUP_R_CHUNKS:
		break;
	case BACKUP_R_END:
		return 0;
	case BACKUP_R_NEED_KEY:
		set_why(why, whylen, "no key was given to open the backup with");
		return HUSH_E_INVAL;
	case BACKUP_R_FAILED:
	default:
		set_why(why, whylen, "an earlier error ended the reading of "
		    "this backup");
		return HUSH_E_INVAL;
	}
	if (r->pbuf != NULL)
		sodium_memzero(r->pbuf, r->plen);
	r->plen = 0;

	if ((rc = take(r, lenbuf, sizeof(lenbuf), &p, &got, why, whylen)) != 0)
		return reader_fail(r, rc);
	if (got < BACKUP_LEN_BYTES) {
		set_why(why, whylen, "the backup is truncated: it ends at byte %"
		    PRIu64 " before its final chunk", r->off);
		return reader_fail(r, HUSH_E_TRUNCATED);
	}
	clen = get_be32(p);
	if (clen < BACKUP_CHUNK_MIN || clen > CHUNK_CT_MAX) {
		set_why(why, whylen, "the backup is damaged at byte %" PRIu64
		    " (chunk %" PRIu64 "'s length field says %" PRIu32 " bytes, "
		    "outside %u..%u)", start, chunk, clen, BACKUP_CHUNK_MIN,
		    CHUNK_CT_MAX);
		return reader_fail(r, HUSH_E_CORRUPT);
	}
	if ((rc = cbuf_reserve(r, clen)) != 0) {
		set_why(why, whylen, "no memory for chunk %" PRIu64 " of the "
		    "backup (%" PRIu32 " bytes)", chunk, clen);
		return reader_fail(r, rc);
	}
	if ((rc = take(r, r->cbuf, clen, &p, &got, why, whylen)) != 0)
		return reader_fail(r, rc);
	if (got < clen) {
		set_why(why, whylen, "the backup is truncated: it ends at byte %"
		    PRIu64 " before its final chunk (inside chunk %" PRIu64
		    ", which would end at byte %" PRIu64 ")", r->off, chunk,
		    start + BACKUP_LEN_BYTES + clen);
		return reader_fail(r, HUSH_E_TRUNCATED);
	}
	/* Only now: a length that the file does not back costs nothing. */
	if ((rc = pbuf_reserve(r, clen - BACKUP_CHUNK_OVERHEAD)) != 0) {
		set_why(why, whylen, "no memory for chunk %" PRIu64 " of the "
		    "backup (%" PRIu32 " bytes)", chunk, clen);
		return reader_fail(r, rc);
	}

	if (crypto_secretstream_xchacha20poly1305_pull(&r->st, r->pbuf, &mlen,
	    &tag, p, clen, r->chunks == 0 ? r->hdr_raw : NULL,
	    r->chunks == 0 ? BACKUP_HDR_BYTES : 0) != 0) {
		/*
		 * The first chunk is the first use of the key: a wrong key and
		 * damage up to its end look the same.  Past it the key is
		 * known good, so a failure there is damage.
		 */
		if (r->chunks == 0) {
			set_why(why, whylen, "the key does not open this backup: "
			    "wrong unlock key or passphrase, or its first %"
			    PRIu64 " bytes are damaged", r->off);
			return reader_fail(r, HUSH_E_AUTH);
		}
		set_why(why, whylen, "the backup is damaged at byte %" PRIu64
		    " (chunk %" PRIu64 " does not authenticate)", start, chunk);
		return reader_fail(r, HUSH_E_CORRUPT);
	}
	r->plen = (size_t)mlen;
	r->chunks = chunk;
	if (tag != TAG_MESSAGE && tag != TAG_FINAL) {
		/* Authentic, so written with the key, but not by hush. */
		set_why(why, whylen, "chunk %" PRIu64 " of the backup (at byte %"
		    PRIu64 ") carries secretstream tag %u, which hush never "
		    "writes", chunk, start, tag);
		return reader_fail(r, HUSH_E_CORRUPT);
	}
	if (tag == TAG_FINAL) {
		if ((rc = trailing_bytes(r, &trail, why, whylen)) != 0)
			return reader_fail(r, rc);
		if (trail > 0) {
			set_why(why, whylen, "%" PRIu64 " bytes of trailing data "
			    "after the backup's final chunk (which ends at byte %"
			    PRIu64 ")", trail, r->off);
			return reader_fail(r, HUSH_E_CORRUPT);
		}
		sodium_memzero(&r->st, sizeof(r->st));
		r->phase = BACKUP_R_END;
		*final = true;
	}
	*plain = r->pbuf;
	*len = r->plen;
	return 1;
}

void
backup_reader_close(struct backup_reader *r)
{
	sodium_memzero(&r->st, sizeof(r->st));
	lockmem_free_used(r->pbuf, r->plen);
	free(r->cbuf);
	r->pbuf = NULL;
	r->cbuf = NULL;
	r->pcap = r->plen = r->ccap = 0;
	r->phase = BACKUP_R_FAILED;
	r->fd = -1;
}
