/*
 * The plaintext of a backup's chunks, checked (backup_contents.h).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_contents.h"
#include "err.h"
#include "msg.h"

void
backup_contents_init(struct backup_contents *c, bool keep)
{
	memset(c, 0, sizeof(*c));
	c->dek = (struct secbuf)SECBUF_INIT;
	c->keep = keep;
}

void
backup_contents_free(struct backup_contents *c)
{
	secbuf_free(&c->dek);
	if (c->records != NULL) {
		sodium_memzero(c->records, c->len);
		free(c->records);
	}
	backup_contents_init(c, c->keep);
}

/* One message of type that is the whole chunk, into m. */
static int
whole(const uint8_t *chunk, size_t len, uint16_t type, struct wire_msg *m, const char *what,
    char *why, size_t whylen)
{
	const uint16_t allowed[] = { type, 0 };
	char d[256];
	int r;

	if ((r = msg_parse(chunk, len, WIRE_MAX_MSG, allowed, m, d, sizeof(d))) != 0) {
		snprintf(why, whylen, "the backup's %s is malformed: %s", what, d);
		return HUSH_E_CORRUPT;
	}
	return 0;
}

static int
manifest(struct backup_contents *c, const struct wire_msg *m, char *why, size_t whylen)
{
	struct backup_manifest *x = &c->man;

	if (wire_get_u32(m, T_VERSION, &x->version) != 0 ||
	    wire_get_str(m, T_CLUSTER_ID, x->cluster_id, sizeof(x->cluster_id)) != 0 ||
	    wire_get_str(m, T_NODE_ID, x->node_id, sizeof(x->node_id)) != 0 ||
	    wire_get_i64(m, T_CREATED, &x->created) != 0 ||
	    wire_get_u64(m, T_RAFT_INDEX, &x->index) != 0 ||
	    wire_get_u64(m, T_STORE_SECRETS, &x->secrets) != 0 ||
	    wire_get_u64(m, T_STORE_SERVICES, &x->services) != 0 ||
	    wire_get_u64(m, T_STORE_NODES, &x->nodes) != 0 ||
	    wire_get_bool(m, T_AUTOLOCK, &x->autolock) != 0) {
		snprintf(why, whylen, "the backup's manifest lacks a field");
		return HUSH_E_CORRUPT;
	}
	if (wire_get_bool(m, T_FORCE, &x->force) != 0)
		x->force = false;
	if (x->version != BACKUP_CONTENTS_VERSION) {
		snprintf(why, whylen, "the backup holds contents of version %u; this hush "
		    "reads version %u", x->version, BACKUP_CONTENTS_VERSION);
		return HUSH_E_VERSION;
	}
	if (!hush_id_valid(x->cluster_id) || !hush_id_valid(x->node_id)) {
		snprintf(why, whylen, "the backup's manifest names a malformed id");
		return HUSH_E_CORRUPT;
	}
	return 0;
}

static int
keep_bytes(struct backup_contents *c, const uint8_t *b, size_t len)
{
	size_t ncap;
	uint8_t *n;

	if (!c->keep)
		return 0;
	if (c->len + len > c->cap) {
		ncap = c->cap ? c->cap : 1u << 20;
		while (ncap < c->len + len)
			ncap *= 2;
		/* Never realloc: the old block holds the cluster's keys. */
		if ((n = malloc(ncap)) == NULL)
			return HUSH_E_NOMEM;
		if (c->records != NULL) {
			memcpy(n, c->records, c->len);
			sodium_memzero(c->records, c->len);
			free(c->records);
		}
		c->records = n;
		c->cap = ncap;
	}
	memcpy(c->records + c->len, b, len);
	c->len += len;
	return 0;
}

/* A chunk of snapshot records: whole records, header first in the first. */
static int
records(struct backup_contents *c, const uint8_t *chunk, size_t len, char *why,
    size_t whylen)
{
	static const uint16_t types[] = { SNAP_HEADER, SNAP_CLUSTER, SNAP_NODE, SNAP_SECRET,
	    SNAP_DEDUP, SNAP_SERVICE, 0 };
	struct wire_msg *m;
	struct wire_hdr hdr;
	size_t off = 0, mlen;
	char d[256];
	int r = 0;

	if ((m = malloc(sizeof(*m))) == NULL)
		return HUSH_E_NOMEM;
	while (off < len) {
		/* Only a header or body past the chunk's end is "cut short". */
		if ((r = wire_peek_hdr(chunk + off, len - off, &hdr)) == 0 &&
		    (mlen = (size_t)WIRE_HDR_LEN + hdr.length) > len - off)
			r = HUSH_E_TRUNCATED;
		if (r != 0) {
			if (r == HUSH_E_TRUNCATED)
				snprintf(why, whylen, "record %llu of the backup is cut "
				    "short", (unsigned long long)c->nrecords + 1);
			else
				snprintf(why, whylen, "record %llu of the backup is "
				    "malformed: %s", (unsigned long long)c->nrecords + 1,
				    hush_strerror(r));
			r = HUSH_E_CORRUPT;
			break;
		}
		if (msg_parse(chunk + off, mlen, WIRE_MAX_MSG, types, m, d, sizeof(d)) != 0) {
			snprintf(why, whylen, "record %llu of the backup is malformed: %s",
			    (unsigned long long)c->nrecords + 1, d);
			r = HUSH_E_CORRUPT;
			break;
		}
		/* The snapshot's header first, once; then the cluster. */
		if ((c->nrecords == 0) != (m->hdr.type == SNAP_HEADER) ||
		    (c->nrecords == 1) != (m->hdr.type == SNAP_CLUSTER)) {
			snprintf(why, whylen, "record %llu of the backup is out of place "
			    "(a %s)", (unsigned long long)c->nrecords + 1,
			    msg_type_name(m->hdr.type));
			r = HUSH_E_CORRUPT;
			break;
		}
		switch (m->hdr.type) {
		case SNAP_HEADER:
			(void)wire_get_u32(m, T_VERSION, &c->snap_version);
			if (c->snap_version < HUSH_SNAP_VERSION_MIN ||
			    c->snap_version > HUSH_SNAP_VERSION) {
				snprintf(why, whylen, "the backup's store is of snapshot "
				    "version %u; this hush reads versions %u to %u",
				    c->snap_version, HUSH_SNAP_VERSION_MIN, HUSH_SNAP_VERSION);
				r = HUSH_E_VERSION;
			}
			break;
		case SNAP_CLUSTER: {
			char id[HUSH_ID_LEN + 1];

			if (wire_get_str(m, T_CLUSTER_ID, id, sizeof(id)) != 0 ||
			    strcmp(id, c->man.cluster_id) != 0) {
				snprintf(why, whylen, "the backup's store is of another "
				    "cluster than its manifest says");
				r = HUSH_E_CORRUPT;
			}
			c->nclusters++;
			break;
		}
		case SNAP_SECRET:
			c->nsecrets++;
			break;
		case SNAP_SERVICE:
			c->nservices++;
			break;
		case SNAP_NODE:
			c->nnodes++;
			break;
		default:
			break;
		}
		if (r != 0)
			break;
		if ((r = keep_bytes(c, chunk + off, mlen)) != 0) {
			snprintf(why, whylen, "no memory to hold the backup's records");
			break;
		}
		c->nrecords++;
		off += mlen;
	}
	free(m);
	return r;
}

static int
end(struct backup_contents *c, const struct wire_msg *m, char *why, size_t whylen)
{
	const struct backup_manifest *x = &c->man;
	uint32_t count;

	(void)wire_get_u32(m, T_COUNT, &count);
	if (count != c->nrecords) {
		snprintf(why, whylen, "the backup promises %u records and holds %llu",
		    count, (unsigned long long)c->nrecords);
		return HUSH_E_CORRUPT;
	}
	if (c->nclusters != 1 || x->secrets != c->nsecrets || x->services != c->nservices ||
	    x->nodes != c->nnodes) {
		snprintf(why, whylen, "the backup's manifest promises %llu secrets, %llu "
		    "services and %llu nodes; it holds %llu, %llu and %llu%s",
		    (unsigned long long)x->secrets, (unsigned long long)x->services,
		    (unsigned long long)x->nodes, (unsigned long long)c->nsecrets,
		    (unsigned long long)c->nservices, (unsigned long long)c->nnodes,
		    c->nclusters != 1 ? ", and no cluster record" : "");
		return HUSH_E_CORRUPT;
	}
	return 0;
}

int
backup_contents_feed(struct backup_contents *c, const uint8_t *chunk, size_t len, bool final,
    char *why, size_t whylen)
{
	struct wire_msg *m;
	struct wire_hdr hdr;
	const uint8_t *dek;
	size_t deklen;
	bool is_end;
	int r = 0;

	is_end = wire_peek_hdr(chunk, len, &hdr) == 0 && hdr.type == BACKUP_END;
	if (c->phase == BC_DONE) {
		snprintf(why, whylen, "the backup goes on after its end");
		return HUSH_E_CORRUPT;
	}
	/* Only BACKUP_END may be final, and the end must be. */
	if (final != (c->phase == BC_RECORDS && is_end)) {
		snprintf(why, whylen, final ? "the backup ends before its end record" :
		    "the backup's end is not its final chunk");
		return HUSH_E_CORRUPT;
	}
	if (c->phase == BC_RECORDS && !final)
		return records(c, chunk, len, why, whylen);
	if ((m = malloc(sizeof(*m))) == NULL)
		return HUSH_E_NOMEM;
	switch (c->phase) {
	case BC_MANIFEST:
		if ((r = whole(chunk, len, BACKUP_MANIFEST, m, "manifest", why, whylen)) == 0 &&
		    (r = manifest(c, m, why, whylen)) == 0)
			c->phase = BC_KEYS;
		break;
	case BC_KEYS:
		if ((r = whole(chunk, len, BACKUP_KEYS, m, "key chunk", why, whylen)) == 0) {
			(void)wire_get_bytes(m, T_DEK, &dek, &deklen);
			if ((r = secbuf_dup(&c->dek, dek, deklen)) == 0)
				c->phase = BC_RECORDS;
		}
		break;
	case BC_RECORDS:
		if ((r = whole(chunk, len, BACKUP_END, m, "end", why, whylen)) == 0 &&
		    (r = end(c, m, why, whylen)) == 0)
			c->phase = BC_DONE;
		break;
	case BC_DONE:
		break;
	}
	free(m);
	return r;
}

int
backup_contents_read(struct backup_contents *c, struct backup_reader *r, char *why,
    size_t whylen)
{
	const uint8_t *plain;
	size_t len;
	bool final;
	int n;

	while ((n = backup_reader_next(r, &plain, &len, &final, why, whylen)) == 1) {
		if ((n = backup_contents_feed(c, plain, len, final, why, whylen)) != 0)
			return n;
		if (final)
			break;
	}
	if (n < 0)
		return n;
	if (c->phase != BC_DONE) {
		snprintf(why, whylen, "the backup ends before its records do");
		return HUSH_E_CORRUPT;
	}
	return 0;
}
