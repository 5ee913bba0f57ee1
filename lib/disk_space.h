/*
 * Free space in the state directory, and how much of it hushd needs.
 *
 * libraft preallocates its log in segments of HUSH_RAFT_SEGMENT_BYTES and
 * keeps two spare ones prepared beside the one being written; once one of
 * those writes fails for want of space, its I/O stays failed until the
 * raft process starts again.  So hushd never lets libraft get there: the
 * parent refuses init and join, and the raft process every write, while
 * less than HUSH_RAFT_DISK_NEED is free, and each says how much is.
 */
#ifndef HUSH_DISK_SPACE_H
#define HUSH_DISK_SPACE_H

#include <stddef.h>
#include <stdint.h>

#define HUSH_RAFT_SEGMENT_BYTES	(8u * 1024 * 1024)
/* Three segments, and one more for a snapshot and the metadata files. */
#define HUSH_RAFT_DISK_NEED	(4ull * HUSH_RAFT_SEGMENT_BYTES)
/*
 * Below this hushd does not start: it could not be sure to write its
 * node files, certificates and key file whole.
 */
#define HUSH_DISK_FLOOR		(1ull * 1024 * 1024)

/* Bytes an unprivileged writer may still use under path; 0 with errno set on error. */
int	disk_free(const char *path, uint64_t *free_bytes);
/*
 * 0 when at least need bytes are free under path; else HUSH_E_NOSPACE (or
 * HUSH_E_IO if it cannot tell) with why saying "no space left on SHOWN: N
 * bytes free, M needed".  shown names path for people (NULL: path itself),
 * for a process that reaches its directory as ".".
 */
int	disk_check(const char *path, const char *shown, uint64_t need, char *why,
	    size_t whylen);

#endif
