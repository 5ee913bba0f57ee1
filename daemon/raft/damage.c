/*
 * Naming what is damaged in the raft directory, and setting it aside.
 *
 * libraft names a damaged segment itself ("load closed segment X: entries
 * batch 1 starting at byte 8: data checksum mismatch"), but not everything:
 * a snapshot whose payload does not open is only RAFT_CORRUPT from our
 * fsm_restore(), a .meta whose checksum fails is silently passed over for an
 * older snapshot (and the next error blames a segment), and metadata1/2
 * carry no checksum at all.  Worse, an open segment (open-N, the one being
 * written) whose batch fails its checksum is cut at that batch, and every
 * batch after it is dropped without an error: libraft takes any bad batch
 * there for the torn tail of a crash, even with good batches after it, so
 * a flipped byte loses acknowledged entries.  So before raft starts, this
 * file looks at every file whose format it knows and names the first that
 * is damaged, with the byte range or the entry index where that applies.
 * It reads only: nothing here repairs or removes.  The checks of one file's
 * bytes are separate functions (raft_damage_*), so that the unit tests and
 * the fuzzer reach them without a directory.
 *
 * Formats, as libraft 0.22 writes them (all words little-endian u64):
 *   metadata1/2          format(1) | version | term | voted_for     (32 bytes)
 *   snapshot-T-I-S.meta  format(1) | crc32 | config index | config len | config
 *                        crc32: libraft's (poly 0x04c11db7, MSB first, init 0)
 *                        over the last two header words and the config bytes
 *   snapshot-T-I-S       SNAPSHOT_MAGIC | payload sealed with the DEK
 *   open-N               format(1) | batches, then zeros up to the preallocated
 *                        size; a batch is crc32(header) | crc32(data) as two
 *                        u32 | header: n | n x (term | type u8, 3 unused,
 *                        length u32) | data, the n payloads back to back
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
/* libraft's bound on entries in one batch: 4 words per entry at least. */
#define SEGMENT_MAX_SIZE	((size_t)8 << 20)
#define BATCH_MAX_ENTRIES	(SEGMENT_MAX_SIZE / 32)
#define BATCH_PREAMBLE		16	/* two crc32 and the entry count */
#define BATCH_ENTRY_HDR		16

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

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

int
raft_damage_metadata(const char *name, const uint8_t *b, size_t len, char *out, size_t cap)
{
	if (len != METADATA_SIZE) {
		snprintf(out, cap, "%s: %zu bytes, a metadata file has %d", name, len,
		    METADATA_SIZE);
		return 1;
	}
	if (le64(b) != UV_DISK_FORMAT) {
		snprintf(out, cap, "%s: format word (bytes 0-7) is %llu, expected %d", name,
		    (unsigned long long)le64(b), UV_DISK_FORMAT);
		return 1;
	}
	return 0;
}

int
raft_damage_snapshot_meta(const char *name, const uint8_t *b, size_t len, char *out,
    size_t cap)
{
	uint64_t clen;
	uint32_t crc;

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
		return 0;
	return 1;
}

int
raft_damage_snapshot(const char *name, const uint8_t *b, size_t len, const uint8_t *dek,
    char *out, size_t cap)
{
	const size_t ml = sizeof(SNAPSHOT_MAGIC) - 1;
	unsigned long long term, index, stamp;
	uint8_t *plain;
	size_t plen;
	int r;

	if (sscanf(name, "snapshot-%llu-%llu-%llu", &term, &index, &stamp) != 3)
		term = index = 0;
	if (len < ml + SEAL_OVERHEAD || memcmp(b, SNAPSHOT_MAGIC, ml) != 0) {
		snprintf(out, cap, "%s (index %llu, term %llu): bytes 0-%zu are not the "
		    "hush snapshot header", name, index, term, ml - 1);
		return 1;
	}
	/* Out of memory is no evidence of damage: libraft will say more. */
	if ((plain = malloc(len)) == NULL)
		return 0;
	r = seal_open(dek, SNAPSHOT_PURPOSE, b + ml, len - ml, plain, len, &plen);
	if (r == 0)
		memset(plain, 0, plen);
	free(plain);
	if (r == 0)
		return 0;
	snprintf(out, cap, "%s (index %llu, term %llu): the sealed payload (bytes "
	    "%zu-%zu) fails authentication with the data key", name, index, term, ml,
	    len - 1);
	return 1;
}

/*
 * The batch at off, as libraft checks it: 0 and its end in *end if it is
 * whole, else -1 with what is wrong in why.  *hdr_ok says whether its
 * header was sound (then *end is known even when the data is not).
 */
static int
batch_at(const uint8_t *b, size_t len, size_t off, size_t *end, bool *hdr_ok, char *why,
    size_t whylen)
{
	uint64_t n, data = 0;
	size_t hlen, p;

	*hdr_ok = false;
	if (len - off < BATCH_PREAMBLE) {
		snprintf(why, whylen, "its preamble runs past the end of the file");
		return -1;
	}
	n = le64(b + off + 8);
	if (n == 0 || n > BATCH_MAX_ENTRIES) {
		snprintf(why, whylen, "its entry count (bytes %zu-%zu) is %llu", off + 8,
		    off + 15, (unsigned long long)n);
		return -1;
	}
	hlen = 8 + (size_t)n * BATCH_ENTRY_HDR;
	if (hlen > len - off - 8) {
		snprintf(why, whylen, "its header of %llu entries runs past the end of "
		    "the file", (unsigned long long)n);
		return -1;
	}
	if (raft_crc32(b + off + 8, hlen, 0) != le32(b + off)) {
		snprintf(why, whylen, "header checksum mismatch (bytes %zu-%zu)", off,
		    off + 8 + hlen - 1);
		return -1;
	}
	for (p = off + 16; p < off + 8 + hlen; p += BATCH_ENTRY_HDR) {
		if (b[p + 8] < RAFT_COMMAND || b[p + 8] > RAFT_CHANGE) {
			snprintf(why, whylen, "entry type %u at byte %zu is unknown",
			    b[p + 8], p + 8);
			return -1;
		}
		data += le32(b + p + 12);
	}
	/* Lengths past the end of the file: its extent is no more known. */
	if (data > len - off - 8 - hlen) {
		snprintf(why, whylen, "its data of %llu bytes runs past the end of the file",
		    (unsigned long long)data);
		return -1;
	}
	*hdr_ok = true;
	*end = off + 8 + hlen + (size_t)data;
	if (raft_crc32(b + off + 8 + hlen, (size_t)data, 0) != le32(b + off + 4)) {
		snprintf(why, whylen, "data checksum mismatch (bytes %zu-%zu)",
		    off + 8 + hlen, *end - 1);
		return -1;
	}
	return 0;
}

int
raft_damage_open_segment(const char *name, const uint8_t *b, size_t len, char *out,
    size_t cap)
{
	size_t off, end, last_nz, probe, pend;
	char why[160], pwhy[8];
	unsigned batch;
	bool hdr_ok, ph;

	/* The last byte that is not zero: past it the file is preallocation. */
	for (last_nz = len; last_nz > 0 && b[last_nz - 1] == 0; last_nz--)
		;
	if (last_nz == 0)
		return 0;		/* empty or never written: libraft drops it */
	if (len < 8 || le64(b) != UV_DISK_FORMAT) {
		snprintf(out, cap, "%s: format word (bytes 0-7) is %llu, expected %d", name,
		    len < 8 ? 0ULL : (unsigned long long)le64(b), UV_DISK_FORMAT);
		return 1;
	}
	for (off = 8, batch = 1; off < last_nz; off = end, batch++) {
		if (batch_at(b, len, off, &end, &hdr_ok, why, sizeof(why)) == 0)
			continue;
		/*
		 * A crash in the middle of an append leaves that batch torn and
		 * nothing after it.  Anything that follows it means the batch
		 * was damaged after it was written: a bad header's extent is
		 * unknown, so look for any sound batch header after it.
		 */
		if (hdr_ok && end >= last_nz)
			return 0;
		if (!hdr_ok) {
			for (probe = off + 8; probe < last_nz; probe += 8)
				if (batch_at(b, len, probe, &pend, &ph, pwhy, sizeof(pwhy)) == 0 ||
				    ph)
					break;
			if (probe >= last_nz)
				return 0;
		}
		snprintf(out, cap, "%s: entries batch %u starting at byte %zu: %s, with "
		    "data after it up to byte %zu (libraft would drop it and every entry "
		    "after it)", name, batch, off, why, last_nz - 1);
		return 1;
	}
	return 0;
}

static int
check_file(const char *name, int (*check)(const char *, const uint8_t *, size_t, char *,
    size_t), char *out, size_t cap)
{
	uint8_t *b;
	size_t len;
	int bad;

	if ((b = read_all(name, &len)) == NULL) {
		snprintf(out, cap, "%s: cannot be read: %s", name, strerror(errno));
		return 1;
	}
	bad = check(name, b, len, out, cap);
	free(b);
	return bad;
}

static int
check_snapshot_data(const char *name, const uint8_t *dek, char *out, size_t cap)
{
	uint8_t *b;
	size_t len;
	int bad;

	if ((b = read_all(name, &len)) == NULL) {
		snprintf(out, cap, "%s: cannot be read: %s", name, strerror(errno));
		return 1;
	}
	bad = raft_damage_snapshot(name, b, len, dek, out, cap);
	free(b);
	return bad;
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
			found = check_file(n, raft_damage_metadata, out, cap);
		else if (strncmp(n, "open-", 5) == 0)
			found = check_file(n, raft_damage_open_segment, out, cap);
		else if (strncmp(n, "snapshot-", 9) == 0 && nl > 5 &&
		    strcmp(n + nl - 5, ".meta") == 0)
			found = check_file(n, raft_damage_snapshot_meta, out, cap);
		else if (strncmp(n, "snapshot-", 9) == 0 && strchr(n, '.') == NULL)
			found = check_snapshot_data(n, dek, out, cap);
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return found;
}

bool
raft_dir_has_log(void)
{
	struct dirent **names;
	bool found = false;
	int count;

	if ((count = scandir(".", &names, NULL, by_name)) < 0)
		return false;
	for (int i = 0; i < count; i++) {
		const char *n = names[i]->d_name;

		/* open-N, N-M (closed segments), snapshot-T-I-S and its .meta */
		if (strncmp(n, "open-", 5) == 0 || strncmp(n, "snapshot-", 9) == 0 ||
		    (n[0] >= '0' && n[0] <= '9' && strchr(n, '-') != NULL))
			found = true;
		free(names[i]);
	}
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
