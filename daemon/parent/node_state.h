/*
 * What a node remembers about itself between restarts, in the state dir:
 *   node.json              identity (ids, role, addresses, cert expiry); no secrets
 *   certificates/ca.crt    the cluster's root CA certificate (public)
 *   certificates/node.crt  this node's certificate (public)
 *   node.keys              DEK + node TLS key; sealed by the KEK under autolock
 *   raft/                  libraft's log and snapshots (entries sealed by the DEK)
 * node.json is written last during init, so its presence means "initialized".
 */
#ifndef HUSH_NODE_STATE_H
#define HUSH_NODE_STATE_H

#include <stdbool.h>
#include <sys/types.h>
#include <stdint.h>

#include "id.h"
#include "secbuf.h"

#define NODE_MAX_MANAGERS	8

struct node_state {
	bool	 initialized;
	char	 node_id[HUSH_ID_LEN + 1];
	char	 cluster_id[HUSH_ID_LEN + 1];
	int	 role;			/* enum node_role */
	char	 advertise[263];
	char	 listen[263];
	int64_t	 cert_not_after;
	/* Where the managers were last known to be: a restarted worker has no
	 * store to ask, so it reaches the cluster through these. */
	char	 managers[NODE_MAX_MANAGERS][263];
	size_t	 nmanagers;
};

int	node_state_load(const char *state_dir, struct node_state *n, char *why, size_t whylen);
int	node_state_save(const char *state_dir, const struct node_state *n);
int	node_state_write_cert(const char *state_dir, const char *name, const char *pem);
/* certificates/NAME as a NUL-terminated string (malloc'd), or NULL. */
#define NODE_CERT_MAX 16383
char	*node_state_read_cert(const char *state_dir, const char *name);
/*
 * node_certs.c: certificates/ca.crt is a CA certificate, certificates/
 * node.crt a certificate, and (node_key not NULL) node.crt carries that
 * key; otherwise why names the file that is wrong.  HUSH_E_CORRUPT for a
 * file that is not what it should be, HUSH_E_INVAL for a key mismatch.
 */
int	node_certs_check(const char *state_dir, const struct secbuf *node_key, char *why,
	    size_t whylen);
/*
 * certificates/node.crt as its leaf and, after a renewal during a CA
 * rotation, the intermediate presented after it (*chain NULL: none).
 */
int	node_certs_read(const char *state_dir, char **leaf, char **chain);
/* Refuse to start on a state dir left half-initialized by a crash. */
bool	node_state_has_leftovers(const char *state_dir);
/*
 * Create the state dir tree with private permissions (see node_state.c):
 * raft_uid/raft_gid are the user the raft process runs as.
 */
int	node_state_prepare(const char *state_dir, uid_t raft_uid, gid_t raft_gid,
	    char *why, size_t whylen);
/* Unlink every file directly in dir (the raft log, the certificates). */
void	remove_dir_files(const char *dir);
/* Write a file atomically: temp file, fsync, rename, fsync the directory. */
int	write_file_atomic(const char *path, const void *data, size_t len, int mode);

/*
 * keyfile.c: node.keys, the DEK, the node's TLS key and its sealing key (an
 * X25519 secret key, seal_key.c), with a checksum that every read checks.
 * Every failure leaves a message naming the file in why: HUSH_E_CORRUPT
 * ("<state dir>/node.keys is damaged: ...") when its bytes are not what
 * was written, HUSH_E_NOTFOUND when it is missing.
 */
int	keyfile_is_wrapped(const char *state_dir, bool *wrapped, char *why, size_t whylen);
/* kek NULL: stored in clear (autolock off).  Always writes the current format. */
int	keyfile_write(const char *state_dir, const struct secbuf *dek,
	    const struct secbuf *node_key, const struct secbuf *seal_key, const uint8_t *kek);
/*
 * HUSH_E_BADKEY when the KEK does not open it (the checksum matched, so it
 * is the key, not the file), HUSH_E_LOCKED when it is sealed and kek is
 * NULL.  seal_key may be NULL; it is left empty for a key file written
 * before sealing keys.  *old_format (may be NULL) is set when the file is
 * in the format without a checksum, which the caller should rewrite.
 */
int	keyfile_read(const char *state_dir, const uint8_t *kek, struct secbuf *dek,
	    struct secbuf *node_key, struct secbuf *seal_key, bool *old_format, char *why,
	    size_t whylen);

#endif
