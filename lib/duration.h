/*
 * Durations as operators type them (Go/Docker style): one or more
 * <integer><unit> groups, units d, h, m, s, each at most once and largest
 * first: "90d", "2160h", "1h30m", "3600s", "1d12h".
 */
#ifndef HUSH_DURATION_H
#define HUSH_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Enough for the longest duration_format() result plus its NUL. */
#define DURATION_STR_MAX	32

/*
 * Parses the NUL-terminated s into seconds.  HUSH_E_FORMAT for anything
 * malformed, HUSH_E_RANGE if the total does not fit in 64 bits; a one-line
 * message goes to why (if non-NULL).
 */
int	duration_parse(const char *s, uint64_t *seconds, char *why,
	    size_t whylen);
/* Compact form ("90d", "1h30m", "0s") that duration_parse reads back. */
int	duration_format(uint64_t seconds, char *out, size_t outcap);

#endif
