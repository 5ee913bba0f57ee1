/*
 * node.keys: the node's DEK, TLS key and sealing key.  With autolock the
 * record is sealed by the KEK, so nothing in the state dir opens without
 * the unlock key; without autolock it is stored in clear (owner-only), as
 * Swarm does, and protects only against reading the raft log without this
 * file.
 *
 * Layout (format 2, written since issue 14):
 *   "HUSHKF02" | u8 mode (0 clear, 1 sealed) | body | BLAKE2b-256
 * body is the REC_KEYFILE message, sealed under purpose "hush/keyfile"
 * when mode is 1.  The last 32 bytes are an unkeyed BLAKE2b-256 hash of
 * everything before them.  It is a checksum, not a MAC: any key that could
 * authenticate a clear file would have to be in the same directory.  What
 * it gives is that every read notices damage (a clear file had no check at
 * all, so a flipped bit went into the keyring unnoticed), and, for a
 * sealed file, that a damaged file is told apart from a wrong unlock key:
 * the hash is checked before the KEK is tried, so an AEAD failure on a
 * file whose hash matches can only be the key.
 *
 * Format 1 ("HUSHKF01", the same without the hash) is still read, and the
 * parent rewrites it as format 2 once it has opened it (keyfile_write
 * always writes format 2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "msg.h"
#include "node_state.h"
#include "seal.h"

#define KF_MAGIC_V1	"HUSHKF01"
#define KF_MAGIC_V2	"HUSHKF02"
#define KF_MAGIC_LEN	8
#define KF_HDR		(KF_MAGIC_LEN + 1)		/* magic + mode */
#define KF_SUM_LEN	crypto_generichash_BYTES	/* 32 */
#define KF_MAX		8192
#define KF_PURPOSE	"hush/keyfile"

/* node.keys as read: which format, and where its body is within raw. */
struct kf_file {
	struct secbuf	 raw;
	int		 version;	/* 1 or 2 */
	bool		 sealed;
	const uint8_t	*body;
	size_t		 bodylen;
};

static int
kf_path(char *out, size_t cap, const char *state_dir)
{
	int n = snprintf(out, cap, "%s/node.keys", state_dir);

	return n < 0 || (size_t)n >= cap ? HUSH_E_TOOBIG : 0;
}

/* Every "damaged" message starts the same way, so operators can grep it. */
static int
kf_damaged(const char *path, char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s is damaged: %s", path, what);
	return HUSH_E_CORRUPT;
}

static int
kf_read_raw(const char *path, struct secbuf *raw, char *why, size_t whylen)
{
	struct stat st;
	char what[96];
	size_t off = 0;
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		r = errno == ENOENT ? HUSH_E_NOTFOUND : HUSH_E_IO;
		snprintf(why, whylen, "%s: cannot be opened: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kf_damaged(path, why, whylen, "not a regular file");
	}
	if (st.st_size < KF_HDR || st.st_size > KF_MAX) {
		close(fd);
		snprintf(what, sizeof(what), "%lld bytes long, a key file has %d to %d",
		    (long long)st.st_size, KF_HDR, KF_MAX);
		return kf_damaged(path, why, whylen, what);
	}
	if ((r = secbuf_alloc(raw, (size_t)st.st_size)) != 0) {
		close(fd);
		snprintf(why, whylen, "%s: %s", path, hush_strerror(r));
		return r;
	}
	while (off < raw->len) {
		n = read(fd, raw->p + off, raw->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "%s: cannot be read: %s", path,
			    n < 0 ? strerror(errno) : "it shrank while being read");
			close(fd);
			secbuf_free(raw);
			return HUSH_E_IO;
		}
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

/*
 * Reads node.keys into guarded memory (it may be the clear form) and
 * checks its header and, for format 2, its checksum.
 */
static int
kf_load(const char *state_dir, struct kf_file *f, char *why, size_t whylen)
{
	char path[PATH_MAX], what[128];
	uint8_t sum[KF_SUM_LEN];
	size_t covered;
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = kf_path(path, sizeof(path), state_dir)) != 0) {
		snprintf(why, whylen, "%s/node.keys: path too long", state_dir);
		return r;
	}
	if ((r = kf_read_raw(path, &f->raw, why, whylen)) != 0)
		return r;
	if (memcmp(f->raw.p, KF_MAGIC_V2, KF_MAGIC_LEN) == 0)
		f->version = 2;
	else if (memcmp(f->raw.p, KF_MAGIC_V1, KF_MAGIC_LEN) == 0)
		f->version = 1;
	else {
		r = kf_damaged(path, why, whylen, "bytes 0-7 are not \"HUSHKF02\" (or "
		    "the older \"HUSHKF01\")");
		goto fail;
	}
	if (f->version == 2) {
		if (f->raw.len < KF_HDR + KF_SUM_LEN) {
			snprintf(what, sizeof(what), "%zu bytes long, too short for its "
			    "header and %d-byte checksum", f->raw.len, KF_SUM_LEN);
			r = kf_damaged(path, why, whylen, what);
			goto fail;
		}
		covered = f->raw.len - KF_SUM_LEN;
		crypto_generichash(sum, sizeof(sum), f->raw.p, covered, NULL, 0);
		if (sodium_memcmp(sum, f->raw.p + covered, sizeof(sum)) != 0) {
			snprintf(what, sizeof(what), "the checksum in bytes %zu-%zu does not "
			    "match bytes 0-%zu", covered, f->raw.len - 1, covered - 1);
			r = kf_damaged(path, why, whylen, what);
			goto fail;
		}
	} else
		covered = f->raw.len;
	if (f->raw.p[KF_MAGIC_LEN] > 1) {
		snprintf(what, sizeof(what), "byte 8 (the mode) is %u, expected 0 (clear) "
		    "or 1 (sealed)", f->raw.p[KF_MAGIC_LEN]);
		r = kf_damaged(path, why, whylen, what);
		goto fail;
	}
	f->sealed = f->raw.p[KF_MAGIC_LEN] == 1;
	f->body = f->raw.p + KF_HDR;
	f->bodylen = covered - KF_HDR;
	return 0;
fail:
	secbuf_free(&f->raw);
	return r;
}

int
keyfile_is_wrapped(const char *state_dir, bool *wrapped, char *why, size_t whylen)
{
	struct kf_file f;
	int r;

	if ((r = kf_load(state_dir, &f, why, whylen)) != 0)
		return r;
	*wrapped = f.sealed;
	secbuf_free(&f.raw);
	return 0;
}

int
keyfile_write(const char *state_dir, const struct secbuf *dek, const struct secbuf *node_key,
    const struct secbuf *seal_key, const uint8_t *kek)
{
	char path[PATH_MAX];
	struct wire_enc e;
	struct secbuf out = SECBUF_INIT;
	const uint8_t *msg;
	size_t msglen, bodylen;
	int r;

	if ((r = kf_path(path, sizeof(path), state_dir)) != 0)
		return r;
	wire_enc_init(&e, REC_KEYFILE, 0, KF_MAX);
	wire_put_bytes(&e, T_DEK, dek->p, dek->len);
	wire_put_bytes(&e, T_NODE_KEY, node_key->p, node_key->len);
	if (seal_key != NULL && seal_key->len > 0)
		wire_put_bytes(&e, T_SEAL_KEY, seal_key->p, seal_key->len);
	if ((r = wire_enc_finish(&e, &msg, &msglen)) != 0)
		goto out;
	if ((r = secbuf_alloc(&out, KF_HDR + msglen + SEAL_OVERHEAD + KF_SUM_LEN)) != 0)
		goto out;
	memcpy(out.p, KF_MAGIC_V2, KF_MAGIC_LEN);
	if (kek != NULL) {
		out.p[KF_MAGIC_LEN] = 1;
		if ((r = seal(kek, 0, KF_PURPOSE, msg, msglen, out.p + KF_HDR,
		    out.len - KF_HDR - KF_SUM_LEN, &bodylen)) != 0)
			goto out;
	} else {
		out.p[KF_MAGIC_LEN] = 0;
		memcpy(out.p + KF_HDR, msg, msglen);
		bodylen = msglen;
	}
	crypto_generichash(out.p + KF_HDR + bodylen, KF_SUM_LEN, out.p, KF_HDR + bodylen,
	    NULL, 0);
	if (KF_HDR + bodylen + KF_SUM_LEN > KF_MAX) {
		r = HUSH_E_TOOBIG;
		goto out;
	}
	r = write_file_atomic(path, out.p, KF_HDR + bodylen + KF_SUM_LEN, 0600);
out:
	wire_enc_free(&e);
	secbuf_free(&out);
	return r;
}

/* The clear record: a REC_KEYFILE message with a DEK and a node key. */
static int
kf_decode(const char *path, const uint8_t *plain, size_t plen, struct secbuf *dek,
    struct secbuf *node_key, struct secbuf *seal_key, char *why, size_t whylen)
{
	static const uint16_t kf_types[] = { REC_KEYFILE, 0 };
	struct wire_msg *m;
	const uint8_t *p;
	char pwhy[128];
	size_t len;
	int r;

	if ((m = malloc(sizeof(*m))) == NULL) {
		snprintf(why, whylen, "%s: %s", path, hush_strerror(HUSH_E_NOMEM));
		return HUSH_E_NOMEM;
	}
	if (msg_parse(plain, plen, KF_MAX, kf_types, m, pwhy, sizeof(pwhy)) != 0) {
		r = kf_damaged(path, why, whylen, pwhy);
		goto out;
	}
	if ((r = wire_get_bytes(m, T_DEK, &p, &len)) != 0 || (r = secbuf_dup(dek, p, len)) != 0)
		goto fail;
	if ((r = wire_get_bytes(m, T_NODE_KEY, &p, &len)) != 0 ||
	    (r = secbuf_dup(node_key, p, len)) != 0)
		goto fail;
	if (seal_key != NULL && wire_get_bytes(m, T_SEAL_KEY, &p, &len) == 0 &&
	    (r = secbuf_dup(seal_key, p, len)) != 0)
		goto fail;
	r = 0;
	goto out;
fail:
	snprintf(why, whylen, "%s: %s", path, hush_strerror(r));
	secbuf_free(dek);
	secbuf_free(node_key);
out:
	free(m);
	return r;
}

int
keyfile_read(const char *state_dir, const uint8_t *kek, struct secbuf *dek,
    struct secbuf *node_key, struct secbuf *seal_key, bool *old_format, char *why,
    size_t whylen)
{
	struct secbuf plain = SECBUF_INIT;
	struct kf_file f;
	char path[PATH_MAX];
	size_t plen;
	int r;

	if ((r = kf_load(state_dir, &f, why, whylen)) != 0)
		return r;
	(void)kf_path(path, sizeof(path), state_dir);	/* kf_load checked it */
	if (f.sealed) {
		if (kek == NULL) {
			snprintf(why, whylen, "%s is sealed by the unlock key", path);
			r = HUSH_E_LOCKED;
			goto out;
		}
		if ((r = secbuf_alloc(&plain, f.bodylen)) != 0)
			goto out;
		r = seal_open(kek, KF_PURPOSE, f.body, f.bodylen, plain.p, plain.len, &plen);
		if (r == HUSH_E_AUTH && f.version == 2) {
			/* Its checksum matched: the bytes are as written. */
			snprintf(why, whylen, "the unlock key does not open %s", path);
			r = HUSH_E_BADKEY;
			goto out;
		}
		if (r == HUSH_E_AUTH) {
			snprintf(why, whylen, "the unlock key does not open %s (an older "
			    "format without a checksum: it may also be damaged)", path);
			r = HUSH_E_BADKEY;
			goto out;
		}
		if (r != 0) {
			r = kf_damaged(path, why, whylen, r == HUSH_E_VERSION ?
			    "byte 9 is not a known sealing version" :
			    "its sealed record is too short");
			goto out;
		}
		r = kf_decode(path, plain.p, plen, dek, node_key, seal_key, why, whylen);
	} else
		r = kf_decode(path, f.body, f.bodylen, dek, node_key, seal_key, why, whylen);
	if (r == 0 && old_format != NULL)
		*old_format = f.version < 2;
out:
	secbuf_free(&plain);
	secbuf_free(&f.raw);
	return r;
}
