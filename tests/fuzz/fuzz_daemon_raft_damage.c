/*
 * libFuzzer harness for daemon/raft/damage.c, the checks that name a
 * damaged raft file.  The first byte picks the check (0 metadata1/2,
 * 1 snapshot .meta, 2 sealed snapshot, 3 open segment), the rest is the
 * file.  Every answer must be 0 or 1, and a 1 must come with a terminated
 * message naming the file.  The snapshot check uses the data key bytes
 * 0xa0..0xbf, as the seeds (written by tests/unit/test_daemon_raft_damage.c
 * with HUSH_DAMAGE_SEED_DIR) do.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "raft/raft_proc.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t dek[32];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	for (size_t i = 0; i < sizeof(dek); i++)
		dek[i] = (uint8_t)(0xa0 + i);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "metadata1", "snapshot-1-2-3.meta",
	    "snapshot-1-2-3", "open-1" };
	char out[512];
	uint8_t *copy;
	size_t len;
	int r;

	if (size < 1)
		return 0;
	/* An exact-size copy, so that ASan sees any read past the end. */
	len = size - 1;
	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(copy, data + 1, len);
	memset(out, 'x', sizeof(out));
	out[0] = '\0';
	switch (data[0] % 4) {
	case 0:
		r = raft_damage_metadata(names[0], copy, len, out, sizeof(out));
		break;
	case 1:
		r = raft_damage_snapshot_meta(names[1], copy, len, out, sizeof(out));
		break;
	case 2:
		r = raft_damage_snapshot(names[2], copy, len, dek, out, sizeof(out));
		break;
	default:
		r = raft_damage_open_segment(names[3], copy, len, out, sizeof(out));
		break;
	}
	if (r != 0 && r != 1)
		abort();
	if (memchr(out, '\0', sizeof(out)) == NULL)
		abort();
	if (r == 1 && strstr(out, names[data[0] % 4]) == NULL)
		abort();
	free(copy);
	return 0;
}
