/*
 * libFuzzer harness for lib/backup_contents.c: the plaintext chunks of a
 * backup file, after the container (fuzz_backup_file.c) authenticated them.
 *
 * The input is a list of chunks, each a 2-byte big-endian length and that
 * many bytes (fewer at the input's end); the last chunk is final, as the
 * container would say; a lone trailing byte is dropped.  Every chunk is fed
 * from an exact-size copy, so ASan sees any read past it.
 *
 * The same chunks are fed twice, keeping the records (a restore) and only
 * counting them (--verify): both must come to the same answer, the same
 * reason and the same counts.  Beyond no crash, the harness checks what
 * the header promises: a refusal is a negative code with a printable
 * reason; each accepted chunk moves the phase as its kind says; an
 * accepted records chunk adds exactly its own records (counted here from
 * their headers, by type) and, with keep, exactly its own bytes; a return
 * of 0 after the final chunk means BC_DONE with everything the manifest
 * promised; and nothing is taken after that.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup_contents.h"
#include "err.h"
#include "id.h"
#include "msg.h"
#include "wire.h"

#include "harness.h"

#define MAXCHUNKS	256

struct chunk {
	const uint8_t	*p;
	size_t		 len;
};

/* What one feeding of the chunks came to. */
struct run {
	int		 rc;
	size_t		 fed;		/* chunks accepted */
	char		 why[256];
	struct backup_contents c;
};

/* The records of an accepted chunk, counted from their headers. */
struct tally {
	uint64_t	 records, secrets, services, nodes, clusters;
};

static void
tally_chunk(const uint8_t *p, size_t len, struct tally *t)
{
	struct wire_hdr h;
	size_t off = 0;

	while (off < len) {
		/* It was accepted: every record in it is whole. */
		if (wire_peek_hdr(p + off, len - off, &h) != 0 ||
		    h.length > len - off - WIRE_HDR_LEN)
			abort();
		t->records++;
		t->secrets += h.type == SNAP_SECRET;
		t->services += h.type == SNAP_SERVICE;
		t->nodes += h.type == SNAP_NODE;
		t->clusters += h.type == SNAP_CLUSTER;
		off += WIRE_HDR_LEN + h.length;
	}
}

static void
feed_all(struct run *x, const struct chunk *ch, size_t n, bool keep)
{
	struct backup_contents *c = &x->c;
	enum backup_contents_phase before;
	struct tally t;
	size_t i, kept = 0;
	uint8_t *copy;
	bool final;

	memset(&t, 0, sizeof(t));
	backup_contents_init(c, keep);
	x->rc = 0;
	x->fed = 0;
	x->why[0] = '\0';
	for (i = 0; i < n; i++) {
		final = i == n - 1;
		before = c->phase;
		if ((copy = (uint8_t *)fuzz_exact_copy(ch[i].p, ch[i].len)) == NULL)
			abort();
		x->rc = backup_contents_feed(c, copy, ch[i].len, final, x->why,
		    sizeof(x->why));
		if (x->rc != 0) {
			free(copy);
			if (x->rc != HUSH_E_CORRUPT && x->rc != HUSH_E_VERSION)
				abort();
			fuzz_check_why(x->why);
			return;
		}
		x->fed++;
		switch (before) {
		case BC_MANIFEST:
			if (c->phase != BC_KEYS || c->man.version != BACKUP_CONTENTS_VERSION ||
			    !hush_id_valid(c->man.cluster_id) ||
			    !hush_id_valid(c->man.node_id))
				abort();
			break;
		case BC_KEYS:
			if (c->phase != BC_RECORDS || c->dek.len != 32)
				abort();
			break;
		case BC_RECORDS:
			if (final) {
				if (c->phase != BC_DONE)
					abort();
				break;
			}
			if (c->phase != BC_RECORDS)
				abort();
			tally_chunk(copy, ch[i].len, &t);
			if (keep) {
				if (c->len != kept + ch[i].len ||
				    (ch[i].len > 0 && memcmp(c->records + kept, copy,
				    ch[i].len) != 0))
					abort();
				kept += ch[i].len;
			}
			break;
		case BC_DONE:
			abort();	/* nothing is taken after the end */
		}
		free(copy);
		if (c->nrecords != t.records || c->nsecrets != t.secrets ||
		    c->nservices != t.services || c->nnodes != t.nodes ||
		    c->nclusters != t.clusters)
			abort();
		if (keep ? c->len != kept : (c->records != NULL || c->len != 0))
			abort();
	}
	if (n == 0)
		return;
	/* Every chunk taken, the final one too: a whole, consistent backup. */
	if (c->phase != BC_DONE || c->nclusters != 1 || c->nrecords < 2 ||
	    c->man.secrets != c->nsecrets || c->man.services != c->nservices ||
	    c->man.nodes != c->nnodes ||
	    c->nsecrets + c->nservices + c->nnodes + c->nclusters >= c->nrecords)
		abort();
	/* The header first, then the cluster: what a restore reads first. */
	if (keep) {
		struct wire_hdr h;

		if (wire_peek_hdr(c->records, c->len, &h) != 0 || h.type != SNAP_HEADER)
			abort();
	}
	/* And it stays ended, whatever comes, final or not. */
	for (i = 0; i < 2; i++) {
		x->why[0] = '\0';
		if (backup_contents_feed(c, ch[i == 0 ? 0 : n - 1].p,
		    ch[i == 0 ? 0 : n - 1].len, i == 0, x->why,
		    sizeof(x->why)) != HUSH_E_CORRUPT || c->phase != BC_DONE)
			abort();
		fuzz_check_why(x->why);
	}
	x->why[0] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct chunk ch[MAXCHUNKS];
	static struct run kept, counted;
	size_t n = 0, off = 0, len;

	while (size - off >= 2 && n < MAXCHUNKS) {
		len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		ch[n].p = data + off;
		ch[n].len = len;
		n++;
		off += len;
	}

	feed_all(&kept, ch, n, true);
	feed_all(&counted, ch, n, false);
	if (kept.rc != counted.rc || kept.fed != counted.fed ||
	    strcmp(kept.why, counted.why) != 0 ||
	    kept.c.phase != counted.c.phase ||
	    kept.c.nrecords != counted.c.nrecords ||
	    kept.c.nsecrets != counted.c.nsecrets ||
	    kept.c.nservices != counted.c.nservices ||
	    kept.c.nnodes != counted.c.nnodes ||
	    kept.c.snap_version != counted.c.snap_version ||
	    memcmp(&kept.c.man, &counted.c.man, sizeof(kept.c.man)) != 0)
		abort();
	backup_contents_free(&kept.c);
	backup_contents_free(&counted.c);
	return 0;
}
