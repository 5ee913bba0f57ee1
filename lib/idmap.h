/*
 * The uid or gid mapping of a user namespace, as the kernel keeps it in
 * /proc/PID/uid_map: up to IDMAP_MAX extents, each mapping `count` ids
 * starting at `inner` (as the container sees them) onto as many ids
 * starting at `outer` (as the host sees them).
 *
 * idmap_add() enforces the kernel's own rules (map_write() in
 * kernel/user_namespace.c): count is at least 1, neither range runs past
 * 4294967294 (the id -1 is never mapped), and no two extents overlap on
 * either side.  A map that passes is therefore one the kernel would have
 * accepted, and translation is a function in both directions.
 *
 * The hook reads a container's maps from its OCI config and sends them to
 * hushd, which uses idmap_to_host() to give the files it writes into the
 * container the owners the service asked for.  On the wire (T_UID_MAP,
 * T_GID_MAP) a map is its extents in order, each three big-endian u32:
 * inner, outer, count.  One packed field per map, not one field per
 * extent: 2 * IDMAP_MAX extents would not fit in WIRE_MAX_FIELDS.
 */
#ifndef HUSH_IDMAP_H
#define HUSH_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define IDMAP_MAX		340	/* the kernel's UID_GID_MAP_MAX_EXTENTS */
#define IDMAP_WIRE_EXTENT	12
#define IDMAP_WIRE_MAX		(IDMAP_MAX * IDMAP_WIRE_EXTENT)

struct idmap_extent {
	uint32_t	inner;		/* first id inside the container */
	uint32_t	outer;		/* the host id it maps to */
	uint32_t	count;
};

struct idmap {
	size_t			n;
	struct idmap_extent	ext[IDMAP_MAX];
};

void	idmap_init(struct idmap *m);

/*
 * Appends an extent.  HUSH_E_RANGE for a count of 0 or a range running
 * past the largest mappable id, HUSH_E_EXISTS when it overlaps an earlier
 * extent on either side, HUSH_E_TOOBIG when the map already holds
 * IDMAP_MAX.  why gets one line without any prefix, naming the earlier
 * extent by its index ("entry 2") in an overlap; m is unchanged on error.
 */
int	idmap_add(struct idmap *m, uint32_t inner, uint32_t outer,
	    uint32_t count, char *why, size_t whylen);

/*
 * The host id of the container id `inner`: 0 and *outer, or
 * HUSH_E_NOTFOUND when no extent covers it (the kernel shows such an id as
 * the overflow id, 65534; a file must never get that by accident).
 */
int	idmap_to_host(const struct idmap *m, uint32_t inner, uint32_t *outer);

/* Adds m to e as one BYTES field of tag (nothing for an empty map). */
void	idmap_put(struct wire_enc *e, uint16_t tag, const struct idmap *m);

/*
 * Reads the packed form back, checking every extent with idmap_add():
 * HUSH_E_FORMAT when len is 0 or not a multiple of IDMAP_WIRE_EXTENT,
 * HUSH_E_TOOBIG over IDMAP_MAX extents, else idmap_add()'s codes.
 */
int	idmap_decode(const uint8_t *p, size_t len, struct idmap *m, char *why,
	    size_t whylen);

/*
 * Reads the text of /proc/PID/uid_map or gid_map: one extent per line,
 * three decimal numbers separated by blanks.  The kernel writes it, but
 * the numbers were chosen by whoever set the namespace up, and the file is
 * read through a pid that could have been reused: every extent still goes
 * through idmap_add().  The initial user namespace's map ("0 0
 * 4294967295") sets *identity and leaves m empty; an empty file (a user
 * namespace whose map is not written yet) is HUSH_E_NOTFOUND; anything
 * else that is not a valid map is HUSH_E_FORMAT or idmap_add()'s code,
 * with the line in why.
 */
int	idmap_parse_proc(const char *text, size_t len, struct idmap *m,
	    bool *identity, char *why, size_t whylen);

#endif
