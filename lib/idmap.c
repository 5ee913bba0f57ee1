#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "idmap.h"

/* The largest id a map may cover: (uint32_t)-1 means "no id" to the kernel. */
#define IDMAP_ID_LAST	0xfffffffeu

void
idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof(*m));
}

/* [a, a + n) and [b, b + k) share an id; no sum can wrap, both are checked. */
static int
overlap(uint32_t a, uint32_t n, uint32_t b, uint32_t k)
{
	return (uint64_t)a < (uint64_t)b + k && (uint64_t)b < (uint64_t)a + n;
}

int
idmap_add(struct idmap *m, uint32_t inner, uint32_t outer, uint32_t count,
    char *why, size_t whylen)
{
	const struct idmap_extent *e;
	size_t i;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (m->n >= IDMAP_MAX) {
		set_why(why, whylen, "more than %d mappings (the kernel's limit)",
		    IDMAP_MAX);
		return HUSH_E_TOOBIG;
	}
	if (count == 0) {
		set_why(why, whylen, "maps no ids (size 0)");
		return HUSH_E_RANGE;
	}
	if ((uint64_t)inner + count - 1 > IDMAP_ID_LAST) {
		set_why(why, whylen, "container ids %lu-%llu run past %lu",
		    (unsigned long)inner,
		    (unsigned long long)inner + count - 1,
		    (unsigned long)IDMAP_ID_LAST);
		return HUSH_E_RANGE;
	}
	if ((uint64_t)outer + count - 1 > IDMAP_ID_LAST) {
		set_why(why, whylen, "host ids %lu-%llu run past %lu",
		    (unsigned long)outer,
		    (unsigned long long)outer + count - 1,
		    (unsigned long)IDMAP_ID_LAST);
		return HUSH_E_RANGE;
	}
	/* Quadratic, like the kernel: at most 340 * 339 / 2 comparisons. */
	for (i = 0; i < m->n; i++) {
		e = &m->ext[i];
		if (overlap(inner, count, e->inner, e->count)) {
			set_why(why, whylen, "container ids %lu-%lu overlap "
			    "entry %zu", (unsigned long)inner,
			    (unsigned long)(inner + (count - 1)), i);
			return HUSH_E_EXISTS;
		}
		if (overlap(outer, count, e->outer, e->count)) {
			set_why(why, whylen, "host ids %lu-%lu overlap entry %zu",
			    (unsigned long)outer,
			    (unsigned long)(outer + (count - 1)), i);
			return HUSH_E_EXISTS;
		}
	}
	m->ext[m->n].inner = inner;
	m->ext[m->n].outer = outer;
	m->ext[m->n].count = count;
	m->n++;
	return 0;
}

int
idmap_to_host(const struct idmap *m, uint32_t inner, uint32_t *outer)
{
	const struct idmap_extent *e;
	size_t i;

	for (i = 0; i < m->n; i++) {
		e = &m->ext[i];
		/* idmap_add() guarantees outer + (inner - e->inner) fits. */
		if (inner >= e->inner && inner - e->inner < e->count) {
			*outer = e->outer + (inner - e->inner);
			return 0;
		}
	}
	return HUSH_E_NOTFOUND;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void
idmap_put(struct wire_enc *e, uint16_t tag, const struct idmap *m)
{
	uint8_t buf[IDMAP_WIRE_MAX];
	size_t i;

	if (m->n == 0)
		return;
	for (i = 0; i < m->n && i < IDMAP_MAX; i++) {
		put_be32(buf + i * IDMAP_WIRE_EXTENT, m->ext[i].inner);
		put_be32(buf + i * IDMAP_WIRE_EXTENT + 4, m->ext[i].outer);
		put_be32(buf + i * IDMAP_WIRE_EXTENT + 8, m->ext[i].count);
	}
	wire_put_bytes(e, tag, buf, i * IDMAP_WIRE_EXTENT);
}

int
idmap_decode(const uint8_t *p, size_t len, struct idmap *m, char *why,
    size_t whylen)
{
	char sub[128];
	size_t i;
	int r;

	idmap_init(m);
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (len == 0 || len % IDMAP_WIRE_EXTENT != 0) {
		set_why(why, whylen, "id map of %zu bytes is not a list of "
		    "%d-byte entries", len, IDMAP_WIRE_EXTENT);
		return HUSH_E_FORMAT;
	}
	if (len > IDMAP_WIRE_MAX) {
		set_why(why, whylen, "id map has more than %d entries",
		    IDMAP_MAX);
		return HUSH_E_TOOBIG;
	}
	for (i = 0; i < len / IDMAP_WIRE_EXTENT; i++, p += IDMAP_WIRE_EXTENT) {
		if ((r = idmap_add(m, get_be32(p), get_be32(p + 4),
		    get_be32(p + 8), sub, sizeof(sub))) != 0) {
			set_why(why, whylen, "id map entry %zu: %s", i, sub);
			idmap_init(m);
			return r;
		}
	}
	return 0;
}

/* One decimal u32 at *pp, at most 10 digits; *pp moves past it. */
static int
parse_u32(const char **pp, const char *end, uint32_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	size_t digits = 0;

	while (p < end && *p >= '0' && *p <= '9' && digits < 11) {
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || digits > 10 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	*pp = p;
	return 0;
}

static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

int
idmap_parse_proc(const char *text, size_t len, struct idmap *m, bool *identity,
    char *why, size_t whylen)
{
	const char *p = text, *end = text + len;
	uint32_t v[3];
	char sub[128];
	size_t line = 0;
	int r;

	idmap_init(m);
	*identity = false;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	while (p < end) {
		line++;
		for (int k = 0; k < 3; k++) {
			p = skip_blanks(p, end);
			if (parse_u32(&p, end, &v[k]) != 0 || (p < end && *p != ' ' &&
			    *p != '\n')) {
				set_why(why, whylen, "id map line %zu is not three numbers",
				    line);
				idmap_init(m);
				return HUSH_E_FORMAT;
			}
		}
		p = skip_blanks(p, end);
		if (p < end && *p++ != '\n') {
			set_why(why, whylen, "id map line %zu has more than three numbers",
			    line);
			idmap_init(m);
			return HUSH_E_FORMAT;
		}
		/* The initial namespace's map: ids are the host's own. */
		if (line == 1 && v[0] == 0 && v[1] == 0 && v[2] == UINT32_MAX && p == end) {
			*identity = true;
			return 0;
		}
		if ((r = idmap_add(m, v[0], v[1], v[2], sub, sizeof(sub))) != 0) {
			set_why(why, whylen, "id map line %zu: %s", line, sub);
			idmap_init(m);
			return r;
		}
	}
	if (m->n == 0) {
		set_why(why, whylen, "the user namespace has no id map yet");
		return HUSH_E_NOTFOUND;
	}
	return 0;
}
