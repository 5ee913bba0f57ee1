/*
 * The sealed container of a hush backup file (hushctl backup / restore).
 * What the chunks hold is the caller's business; this file only seals
 * bytes into a file and opens them again, so that the file says nothing in
 * clear (not even the names of the secrets) and any change to it, from a
 * flipped bit to a cut, reordered or spliced chunk, is refused.
 *
 * Layout (all integers big-endian):
 *
 *	off  len
 *	0    8   magic "HUSHBAK1" (the last byte is the format version)
 *	8    1   key kind: 1 = derived from the unlock key (the KEK),
 *	         2 = from an operator passphrase (Argon2id)
 *	9    3   zero (reserved; a reader refuses anything else)
 *	12   4   Argon2id opslimit (0 for kind 1)
 *	16   4   Argon2id memlimit in KiB (0 for kind 1)
 *	20   16  salt, random per file
 *	36   24  crypto_secretstream_xchacha20poly1305 header
 *	60   ... chunks: u32 ciphertext length L, then L bytes of secretstream
 *	         ciphertext; BACKUP_CHUNK_MIN <= L <= BACKUP_CHUNK_MAX + 17
 *
 * The 60 clear bytes are the associated data of the first chunk, so a
 * changed kind, parameter, salt or stream header makes the first chunk
 * fail like a wrong key would (which, with a changed salt, it is).  The
 * last chunk carries TAG_FINAL and every other one TAG_MESSAGE, so a file
 * cut at a chunk boundary is told from a whole one; secretstream chains
 * each chunk to the one before, so dropped, duplicated or reordered chunks
 * do not authenticate.  The length fields are not authenticated by
 * themselves, but a changed one hands the decryption different bytes,
 * which then do not authenticate either.
 *
 * Keys:
 *  - kind 1: BLAKE2b-256 keyed with the 32-byte KEK over
 *    "hush/backup-key/1" || salt.  Anyone holding the unlock key of the
 *    cluster that wrote the file can open it; nobody else.
 *  - kind 2: Argon2id (crypto_pwhash_ALG_ARGON2ID13) of the passphrase with
 *    the salt and the header's limits.  New files get opslimit 3 and 64 MiB;
 *    a reader refuses limits outside 1..10 and 8..1024 MiB before it spends
 *    anything on them, so a hostile file cannot make it run for an hour or
 *    allocate all memory.
 *
 * Errors are negative HUSH_E_* codes with a reason in why naming what is
 * wrong and at which byte:
 *  HUSH_E_FORMAT     not a hush backup file (the magic)
 *  HUSH_E_VERSION    a hush backup file of another format version
 *  HUSH_E_CORRUPT    a bad header field, a chunk length out of range, a
 *                    chunk after the first that does not authenticate,
 *                    trailing bytes after the final chunk
 *  HUSH_E_RANGE      Argon2id limits outside what a reader accepts
 *  HUSH_E_AUTH       the first chunk does not open: the wrong key or
 *                    passphrase, or damage in the first chunk or header
 *                    (cryptography cannot tell these apart)
 *  HUSH_E_TRUNCATED  the file ends before its final chunk
 *  HUSH_E_IO, HUSH_E_NOSPACE, HUSH_E_NOMEM, HUSH_E_INVAL (caller's mistake)
 */
#ifndef HUSH_BACKUP_FILE_H
#define HUSH_BACKUP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define BACKUP_MAGIC		"HUSHBAK1"
#define BACKUP_MAGIC_BYTES	8
#define BACKUP_HDR_BYTES	60
#define BACKUP_SALT_BYTES	16
#define BACKUP_STREAM_BYTES	24
#define BACKUP_KEY_BYTES	32
#define BACKUP_KEK_BYTES	32
/* Plaintext bytes in one chunk, at most. */
#define BACKUP_CHUNK_MAX	(4u * 1024 * 1024)
/* What secretstream adds to each chunk: a tag byte and a 16-byte MAC. */
#define BACKUP_CHUNK_OVERHEAD	17u
#define BACKUP_CHUNK_MIN	BACKUP_CHUNK_OVERHEAD
#define BACKUP_LEN_BYTES	4

/* What backup_hdr_new() puts in a passphrase file. */
#define BACKUP_OPSLIMIT_DEFAULT		3u
#define BACKUP_MEMLIMIT_KIB_DEFAULT	65536u
/* What a reader accepts, and so what a writer may use. */
#define BACKUP_OPSLIMIT_MIN		1u
#define BACKUP_OPSLIMIT_MAX		10u
#define BACKUP_MEMLIMIT_KIB_MIN		8192u
#define BACKUP_MEMLIMIT_KIB_MAX		1048576u

enum backup_kind {
	BACKUP_KEY_UNLOCK = 1,
	BACKUP_KEY_PASSPHRASE = 2,
};

struct backup_hdr {
	uint8_t		kind;		/* enum backup_kind */
	uint32_t	opslimit;
	uint32_t	memlimit_kib;
	uint8_t		salt[BACKUP_SALT_BYTES];
	uint8_t		stream[BACKUP_STREAM_BYTES];
};

/* A header for a new file: a random salt, the default limits for kind. */
void	backup_hdr_new(struct backup_hdr *h, enum backup_kind kind);
/*
 * The first len bytes of a file as a header: HUSH_E_TRUNCATED under
 * BACKUP_HDR_BYTES, else the checks above (magic, version, kind, reserved
 * bytes, limits).  Bytes past the header are not looked at.
 */
int	backup_hdr_parse(const uint8_t *b, size_t len, struct backup_hdr *h,
	    char *why, size_t whylen) __attribute__((warn_unused_result));
void	backup_hdr_encode(const struct backup_hdr *h,
	    uint8_t out[BACKUP_HDR_BYTES]);

/*
 * The file key.  HUSH_E_INVAL if h is not of the matching kind (or its
 * limits are out of range, or the passphrase is empty); HUSH_E_NOMEM if
 * Argon2id cannot have its memory.  key is wiped on failure.
 */
int	backup_key_from_kek(const uint8_t kek[BACKUP_KEK_BYTES],
	    const struct backup_hdr *h, uint8_t key[BACKUP_KEY_BYTES])
	    __attribute__((warn_unused_result));
int	backup_key_from_passphrase(const char *pw, size_t len,
	    const struct backup_hdr *h, uint8_t key[BACKUP_KEY_BYTES])
	    __attribute__((warn_unused_result));

/*
 * Writer.  It runs in the raft process, whose sandbox allows little: after
 * open() (fstat, and the one allocation of its chunk buffer) a put() makes
 * no system call but write().  The fd must be an empty regular file; the
 * writer neither syncs nor closes it.
 *
 * A write error is sticky: every later put() returns it again, and the
 * file is to be thrown away.  errno is left as write() set it.
 */
struct backup_writer {
	int		 fd;
	int		 err;		/* sticky: first failure, 0 if none */
	bool		 final;		/* the final chunk is written */
	uint64_t	 bytes;		/* written, header included */
	uint64_t	 chunks;
	uint8_t		 ad[BACKUP_HDR_BYTES];	/* the first chunk's AD */
	uint8_t		*buf;		/* length field + ciphertext */
	crypto_secretstream_xchacha20poly1305_state st;
};

/*
 * Fills h->stream, writes the header.  HUSH_E_INVAL for a bad h or an fd
 * that is not a regular file, HUSH_E_EXISTS if it is not empty.  The
 * writer holds a copy of the stream state only, not key.
 */
int	backup_writer_open(struct backup_writer *w, int fd,
	    struct backup_hdr *h, const uint8_t key[BACKUP_KEY_BYTES])
	    __attribute__((warn_unused_result));
/*
 * One chunk of at most BACKUP_CHUNK_MAX bytes (HUSH_E_TOOBIG otherwise;
 * 0 bytes is a chunk too).  final marks the last one; nothing may follow
 * it (HUSH_E_INVAL).  HUSH_E_NOSPACE or HUSH_E_IO on a write error.
 */
int	backup_writer_put(struct backup_writer *w, const uint8_t *plain,
	    size_t len, bool final) __attribute__((warn_unused_result));
/* Wipes the stream state and frees the buffer; the fd stays open. */
void	backup_writer_close(struct backup_writer *w);
uint64_t backup_writer_bytes(const struct backup_writer *w);

/*
 * Reader, from an fd (read from its current offset; it is neither sought
 * nor closed) or from memory that outlives the reader.
 */
enum backup_reader_phase {
	BACKUP_R_NEED_KEY,	/* header parsed, no key yet */
	BACKUP_R_CHUNKS,	/* chunks to read */
	BACKUP_R_END,		/* the final chunk was read: next() says 0 */
	BACKUP_R_FAILED,	/* an error ended the reading */
};

struct backup_reader {
	int		 fd;		/* -1 when reading memory */
	const uint8_t	*mem;
	size_t		 memlen;
	uint64_t	 off;		/* bytes of the file consumed */
	uint64_t	 chunks;	/* chunks opened */
	enum backup_reader_phase phase;
	struct backup_hdr hdr;
	uint8_t		 hdr_raw[BACKUP_HDR_BYTES];
	uint8_t		*cbuf;		/* ciphertext read from fd */
	size_t		 ccap;
	uint8_t		*pbuf;		/* plaintext (lockmem) */
	size_t		 pcap, plen;
	crypto_secretstream_xchacha20poly1305_state st;
};

/*
 * Reads and parses the header (backup_hdr_parse's errors; an fd that ends
 * inside it is HUSH_E_TRUNCATED).  On failure r needs no close.
 */
int	backup_reader_open_fd(struct backup_reader *r, int fd, char *why,
	    size_t whylen) __attribute__((warn_unused_result));
int	backup_reader_open_mem(struct backup_reader *r, const uint8_t *b,
	    size_t len, char *why, size_t whylen)
	    __attribute__((warn_unused_result));
const struct backup_hdr *backup_reader_hdr(const struct backup_reader *r);
/*
 * The key to open the chunks with, once.  Whether it is the right one is
 * known only when the first chunk opens (HUSH_E_AUTH then).
 */
int	backup_reader_key(struct backup_reader *r,
	    const uint8_t key[BACKUP_KEY_BYTES], char *why, size_t whylen)
	    __attribute__((warn_unused_result));
/*
 * The next chunk's plaintext, in a buffer the reader owns: valid until the
 * next call, wiped then and on close.  It comes from lockmem (locked while
 * the process's RLIMIT_MEMLOCK budget lasts, never in a core dump) and is
 * only as big as the largest chunk met so far.  Returns 1 and sets *final, 0 once
 * past the final chunk, or a negative code.  The final chunk is handed out
 * only after the check that nothing follows it, so a caller may act on
 * *final (commit a restore) without calling again.  Any error ends the
 * reading: later calls return HUSH_E_INVAL.
 */
int	backup_reader_next(struct backup_reader *r, const uint8_t **plain,
	    size_t *len, bool *final, char *why, size_t whylen)
	    __attribute__((warn_unused_result));
/* Wipes the stream state and the plaintext; the fd stays open. */
void	backup_reader_close(struct backup_reader *r);

#endif
