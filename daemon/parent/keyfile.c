/*
 * node.keys: the node's DEK and TLS key.  With autolock the whole record is
 * sealed by the KEK, so nothing in the state dir opens without the unlock
 * key; without autolock it is stored in clear (owner-only), as Swarm does,
 * and protects only against reading the raft log without this file.
 *
 * Layout: "HUSHKF01" | u8 mode (0 clear, 1 sealed) | REC_KEYFILE message,
 * sealed under purpose "hush/keyfile" when mode is 1.
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

#define KF_MAGIC "HUSHKF01"
#define KF_MAGIC_LEN 8
#define KF_MAX 8192
#define KF_PURPOSE "hush/keyfile"

static int
kf_path(char *out, size_t cap, const char *state_dir)
{
	int n = snprintf(out, cap, "%s/node.keys", state_dir);

	return n < 0 || (size_t)n >= cap ? HUSH_E_TOOBIG : 0;
}

/* Reads the whole file into guarded memory (it may be the clear form). */
static int
kf_load(const char *state_dir, struct secbuf *raw)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	size_t off = 0;
	int fd, r;

	if ((r = kf_path(path, sizeof(path), state_dir)) != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? HUSH_E_NOTFOUND : HUSH_E_IO;
	if (fstat(fd, &st) != 0 || st.st_size < KF_MAGIC_LEN + 1 || st.st_size > KF_MAX) {
		close(fd);
		return HUSH_E_CORRUPT;
	}
	if ((r = secbuf_alloc(raw, (size_t)st.st_size)) != 0) {
		close(fd);
		return r;
	}
	while (off < raw->len) {
		n = read(fd, raw->p + off, raw->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			secbuf_free(raw);
			return HUSH_E_IO;
		}
		off += (size_t)n;
	}
	close(fd);
	if (memcmp(raw->p, KF_MAGIC, KF_MAGIC_LEN) != 0 || raw->p[KF_MAGIC_LEN] > 1) {
		secbuf_free(raw);
		return HUSH_E_CORRUPT;
	}
	return 0;
}

int
keyfile_is_wrapped(const char *state_dir, bool *wrapped)
{
	struct secbuf raw = SECBUF_INIT;
	int r;

	if ((r = kf_load(state_dir, &raw)) != 0)
		return r;
	*wrapped = raw.p[KF_MAGIC_LEN] == 1;
	secbuf_free(&raw);
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
	size_t msglen, sealed;
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
	if ((r = secbuf_alloc(&out, KF_MAGIC_LEN + 1 + msglen + SEAL_OVERHEAD)) != 0)
		goto out;
	memcpy(out.p, KF_MAGIC, KF_MAGIC_LEN);
	if (kek != NULL) {
		out.p[KF_MAGIC_LEN] = 1;
		if ((r = seal(kek, 0, KF_PURPOSE, msg, msglen, out.p + KF_MAGIC_LEN + 1,
		    out.len - KF_MAGIC_LEN - 1, &sealed)) != 0)
			goto out;
	} else {
		out.p[KF_MAGIC_LEN] = 0;
		memcpy(out.p + KF_MAGIC_LEN + 1, msg, msglen);
		sealed = msglen;
	}
	r = write_file_atomic(path, out.p, KF_MAGIC_LEN + 1 + sealed, 0600);
out:
	wire_enc_free(&e);
	secbuf_free(&out);
	return r;
}

int
keyfile_read(const char *state_dir, const uint8_t *kek, struct secbuf *dek,
    struct secbuf *node_key, struct secbuf *seal_key)
{
	struct secbuf raw = SECBUF_INIT, plain = SECBUF_INIT;
	struct wire_msg *m = NULL;
	const uint8_t *p;
	size_t len, plen;
	char why[128];
	int r;

	if ((r = kf_load(state_dir, &raw)) != 0)
		return r;
	if (raw.p[KF_MAGIC_LEN] == 1) {
		if (kek == NULL) {
			r = HUSH_E_LOCKED;
			goto out;
		}
		if ((r = secbuf_alloc(&plain, raw.len)) != 0)
			goto out;
		r = seal_open(kek, KF_PURPOSE, raw.p + KF_MAGIC_LEN + 1, raw.len - KF_MAGIC_LEN - 1,
		    plain.p, plain.len, &plen);
		if (r == HUSH_E_AUTH) {
			r = HUSH_E_BADKEY;
			goto out;
		}
		if (r != 0)
			goto out;
	} else {
		if ((r = secbuf_dup(&plain, raw.p + KF_MAGIC_LEN + 1, raw.len - KF_MAGIC_LEN - 1)) != 0)
			goto out;
		plen = plain.len;
	}
	if ((m = malloc(sizeof(*m))) == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	{
		static const uint16_t kf_types[] = { REC_KEYFILE, 0 };

		if (msg_parse(plain.p, plen, KF_MAX, kf_types, m, why, sizeof(why)) != 0) {
			r = HUSH_E_CORRUPT;
			goto out;
		}
	}
	if ((r = wire_get_bytes(m, T_DEK, &p, &len)) != 0 || (r = secbuf_dup(dek, p, len)) != 0)
		goto out;
	if ((r = wire_get_bytes(m, T_NODE_KEY, &p, &len)) != 0 ||
	    (r = secbuf_dup(node_key, p, len)) != 0) {
		secbuf_free(dek);
		goto out;
	}
	if (seal_key != NULL && wire_get_bytes(m, T_SEAL_KEY, &p, &len) == 0 &&
	    (r = secbuf_dup(seal_key, p, len)) != 0) {
		secbuf_free(dek);
		secbuf_free(node_key);
		goto out;
	}
out:
	free(m);
	secbuf_free(&plain);
	secbuf_free(&raw);
	return r;
}
