/*
 * libFuzzer harness for daemon/parent/keyfile.c.  Each input becomes the
 * state directory's node.keys (in a temporary directory private to this
 * process) and is read with a fixed KEK, bytes 0x00..0x1f (the seeds in
 * corpus/daemon_keyfile were sealed under it), and without one.  Whatever
 * opens must hold a 32-byte DEK and a node key of 1..2048 bytes.  Seeds:
 * clear and sealed in format 1 (no checksum), clear-v2 and sealed-v2 in
 * format 2 (BLAKE2b-256 at the end).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "parent/node_state.h"
#include "secbuf.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[96];
static uint8_t kek[32];

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	snprintf(dir, sizeof(dir), "/tmp/hush-fuzz-kf-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/node.keys", dir);
	atexit(cleanup);
	for (size_t i = 0; i < sizeof(kek); i++)
		kek[i] = (uint8_t)i;
	return 0;
}

static int
try_read(const uint8_t *k)
{
	struct secbuf dek = SECBUF_INIT, node_key = SECBUF_INIT;
	int r;

	char why[512];

	r = keyfile_read(dir, k, &dek, &node_key, NULL, NULL, why, sizeof(why));
	if (r == 0) {
		if (dek.len != 32 || node_key.len < 1 || node_key.len > 2048)
			abort();
	} else if (r > 0 || dek.p != NULL || node_key.p != NULL)
		abort();
	secbuf_free(&dek);
	secbuf_free(&node_key);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool wrapped = false;
	char why[512];
	int fd, rk, rn, rw;
	size_t off = 0;
	ssize_t n;

	/* A fresh file, not O_TRUNC: ext4 flushes a truncated file on close. */
	if ((unlink(path) != 0 && errno != ENOENT) ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		abort();
	while (off < size) {
		if ((n = write(fd, data + off, size - off)) <= 0)
			abort();
		off += (size_t)n;
	}
	close(fd);

	rk = try_read(kek);
	rn = try_read(NULL);
	rw = keyfile_is_wrapped(dir, &wrapped, why, sizeof(why));
	/* A sealed file never opens without the key; a clear one reads the same either way. */
	if (rw == 0 && wrapped && rn != HUSH_E_LOCKED)
		abort();
	if (rw == 0 && !wrapped && rk != rn)
		abort();
	if (rw != 0 && (rk != rw || rn != rw))
		abort();
	return 0;
}
