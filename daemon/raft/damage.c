/*
 * Naming what is damaged in the raft directory, and setting it aside.
 *
 * libraft names a damaged segment itself ("load closed segment X: entries
 * batch 1 starting at byte 8: data checksum mismatch"), but not everything:
 * a snapshot whose payload does not open is only RAFT_CORRUPT from our
 * fsm_restore(), a .meta whose checksum fails is silently passed over for an
 * older snapshot (and the next error blames a segment), and metadata1/2
 * carry no checksum at all.  So when raft cannot start, this file looks at
 * every file whose format it knows and names the first that is damaged,
 * with the byte range or the entry index where that applies.  It reads
 * only: nothing here repairs or removes.
 *
 * Formats, as libraft 0.22 writes them (all words little-endian u64):
 *   metadata1/2          format(1) | version | term | voted_for     (32 bytes)
 *   snapshot-T-I-S.meta  format(1) | crc32 | config index | config len | config
 *                        crc32: libraft's (poly 0x04c11db7, MSB first, init 0)
 *                        over the last two header words and the config bytes
 *   snapshot-T-I-S       SNAPSHOT_MAGIC | payload sealed with the DEK
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "raft_proc.h"
#include "seal.h"

#define UV_DISK_FORMAT	1
#define META_HDR	32
#define METADATA_SIZE	32
/* Larger than anything we write; a bigger file is not read whole. */
#define SNAPSHOT_READ_MAX ((size_t)512 << 20)

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* libraft's checksum: CRC-32, polynomial 0x04c11db7, MSB first, no xor. */
static uint32_t
raft_crc32(const uint8_t *p, size_t n, uint32_t crc)
{
	while (n-- > 0) {
		crc ^= (uint32_t)*p++ << 24;
		for (int b = 0; b < 8; b++)
			crc = crc & 0x80000000u ? crc << 1 ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

/* The whole file, or NULL (with errno) if it cannot be read. */
static uint8_t *
read_all(const char *name, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size > SNAPSHOT_READ_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	while (off < (size_t)st.st_size) {
		if ((n = read(fd, buf + off, (size_t)st.st_size - off)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	*len = off;
	return buf;
}

static int
check_metadata(const char *name, char *out, size_t cap)
{
	uint8_t *b;
	size_t len;
	int bad = 0;

	if ((b = read_all(name, &len)) == NULL) {
		snprintf(out, cap, "%s: cannot be read: %s", name, strerror(errno));
		return 1;
	}
	if (len != METADATA_SIZE) {
		snprintf(out, cap, "%s: %zu bytes, a metadata file has %d", name, len,
		    METADATA_SIZE);
		bad = 1;
	} else if (le64(b) != UV_DISK_FORMAT) {
		snprintf(out, cap, "%s: format word (bytes 0-7) is %llu, expected %d", name,
		    (unsigned long long)le64(b), UV_DISK_FORMAT);
		bad = 1;
	}
	free(b);
	return bad;
}

static int
check_snapshot_meta(const char *name, char *out, size_t cap)
{
	uint8_t *b;
	size_t len;
	uint64_t clen;
	uint32_t crc;
	int bad = 1;

	if ((b = read_all(name, &len)) == NULL) {
		snprintf(out, cap, "%s: cannot be read: %s", name, strerror(errno));
		return 1;
	}
	if (len < META_HDR)
		snprintf(out, cap, "%s: %zu bytes, shorter than its %d-byte header", name,
		    len, META_HDR);
	else if (le64(b) != UV_DISK_FORMAT)
		snprintf(out, cap, "%s: format word (bytes 0-7) is %llu, expected %d", name,
		    (unsigned long long)le64(b), UV_DISK_FORMAT);
	else if ((clen = le64(b + 24)) == 0 || clen != len - META_HDR)
		snprintf(out, cap, "%s: configuration length (bytes 24-31) says %llu, the "
		    "file holds %zu", name, (unsigned long long)clen, len - META_HDR);
	else if ((crc = raft_crc32(b + META_HDR, len - META_HDR,
	    raft_crc32(b + 16, 16, 0))) != (uint32_t)le64(b + 8))
		snprintf(out, cap, "%s: checksum mismatch (bytes 8-15 say %08x, bytes "
		    "16-%zu give %08x)", name, (uint32_t)le64(b + 8), len - 1, crc);
	else
		bad = 0;
	free(b);
	return bad;
}

static int
check_snapshot_data(const char *name, const uint8_t *dek, char *out, size_t cap)
{
	const size_t ml = sizeof(SNAPSHOT_MAGIC) - 1;
	unsigned long long term, index, stamp;
	uint8_t *b, *plain;
	size_t len, plen;
	int r;

	if ((b = read_all(name, &len)) == NULL) {
		snprintf(out, cap, "%s: cannot be read: %s", name, strerror(errno));
		return 1;
	}
	if (sscanf(name, "snapshot-%llu-%llu-%llu", &term, &index, &stamp) != 3)
		term = index = 0;
	if (len < ml + SEAL_OVERHEAD || memcmp(b, SNAPSHOT_MAGIC, ml) != 0) {
		snprintf(out, cap, "%s (index %llu, term %llu): bytes 0-%zu are not the "
		    "hush snapshot header", name, index, term, ml - 1);
		free(b);
		return 1;
	}
	if ((plain = malloc(len)) == NULL) {
		free(b);
		return 0;
	}
	r = seal_open(dek, SNAPSHOT_PURPOSE, b + ml, len - ml, plain, len, &plen);
	if (r == 0)
		memset(plain, 0, plen);
	free(plain);
	free(b);
	if (r == 0)
		return 0;
	snprintf(out, cap, "%s (index %llu, term %llu): the sealed payload (bytes "
	    "%zu-%zu) fails authentication with the data key", name, index, term, ml,
	    len - 1);
	return 1;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
raft_damage_scan(const uint8_t *dek, char *out, size_t cap)
{
	struct dirent **names;
	const char *n;
	size_t nl;
	int count, found = 0;

	out[0] = '\0';
	if ((count = scandir(".", &names, NULL, by_name)) < 0)
		return 0;
	/* Newest snapshot first: that is the one a start loads. */
	for (int i = count - 1; i >= 0; i--) {
		n = names[i]->d_name;
		nl = strlen(n);
		if (found)
			continue;
		if (strcmp(n, "metadata1") == 0 || strcmp(n, "metadata2") == 0)
			found = check_metadata(n, out, cap);
		else if (strncmp(n, "snapshot-", 9) == 0 && nl > 5 &&
		    strcmp(n + nl - 5, ".meta") == 0)
			found = check_snapshot_meta(n, out, cap);
		else if (strncmp(n, "snapshot-", 9) == 0 && strchr(n, '.') == NULL)
			found = check_snapshot_data(n, dek, out, cap);
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return found;
}

int
raft_set_aside(const char *dir, char *why, size_t whylen)
{
	struct dirent **names;
	int count, moved = 0, r = 0, dfd;

	if (dir[0] == '\0' || strchr(dir, '/') != NULL || dir[0] == '.') {
		snprintf(why, whylen, "invalid directory name '%s'", dir);
		return HUSH_E_INVAL;
	}
	if (mkdirat(AT_FDCWD, dir, 0700) != 0) {
		snprintf(why, whylen, "cannot create %.200s/%s: %s", raft_proc_dir, dir,
		    strerror(errno));
		return HUSH_E_IO;
	}
	/* The listing first: renaming while reading a directory may skip entries. */
	if ((count = scandir(".", &names, NULL, by_name)) < 0) {
		snprintf(why, whylen, "cannot list %.200s: %s", raft_proc_dir, strerror(errno));
		return HUSH_E_IO;
	}
	for (int i = 0; i < count; i++) {
		char to[512];

		/* Only libraft's files: earlier set-aside directories stay put. */
		if (r == 0 && names[i]->d_type == DT_REG) {
			snprintf(to, sizeof(to), "%s/%s", dir, names[i]->d_name);
			if (renameat(AT_FDCWD, names[i]->d_name, AT_FDCWD, to) == 0) {
				moved++;
			} else {
				snprintf(why, whylen, "cannot move %s into %s: %s",
				    names[i]->d_name, dir, strerror(errno));
				r = HUSH_E_IO;
			}
		}
		free(names[i]);
	}
	free(names);
	if ((dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	if (r == 0)
		log_warn("raft data set aside: %d files moved to %s/%s (kept for "
		    "inspection; nothing was deleted)", moved, raft_proc_dir, dir);
	return r;
}
