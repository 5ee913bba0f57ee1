/*
 * A digest of the whole replicated state, so that two managers' stores can
 * be compared: at the same applied index, every manager must report the
 * same digest, whatever order its records sit in memory, whether it built
 * them entry by entry or from a snapshot.  Computed only when an operator
 * (or a test) asks for it: it reads every record and opens every value.
 *
 * What goes in: the cluster record, every node, every secret (its value
 * included: two replicas that agree on metadata but hold different bytes
 * must not agree here) and every service.  What stays out: the table of
 * recent request outcomes (store.h, dedup), a bounded cache for retries
 * that a snapshot does not rebuild in the same ring order.
 *
 * Each record is hashed on its own into 32 bytes, with a kind byte first
 * and every field length-prefixed, so no two different records encode
 * alike; sets inside a record (labels, constraints, grants) are sorted
 * first.  The record hashes are then sorted, and the digest is the keyed
 * hash of the counts followed by that sorted list: the order records were
 * inserted in does not matter.
 *
 * Everything is keyed by a subkey of the DEK: the digest appears in
 * `hushctl status` output, and an unkeyed hash of a store holding, say,
 * one short password would let whoever sees it guess that password.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "seal.h"
#include "store.h"

/* The subkey's purpose: a digest key is never any other key. */
#define DIGEST_PURPOSE		"hush/store-digest/v1"

enum digest_kind {
	DK_CLUSTER = 1,
	DK_NODE,
	DK_SECRET,
	DK_SERVICE,
};

struct digest_ctx {
	uint8_t		*key;		/* guarded, STORE_DIGEST_BYTES */
	uint8_t		(*recs)[STORE_DIGEST_BYTES];
	size_t		 nrecs;
	struct secbuf	 plain;		/* one value at a time */
};

static void
put_bytes(crypto_generichash_state *h, const void *p, size_t len)
{
	uint8_t n[8];
	uint64_t v = len;

	for (int i = 7; i >= 0; i--, v >>= 8)
		n[i] = (uint8_t)v;
	crypto_generichash_update(h, n, sizeof(n));
	if (len > 0)
		crypto_generichash_update(h, p, len);
}

static void
put_str(crypto_generichash_state *h, const char *s)
{
	put_bytes(h, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static void
put_u64(crypto_generichash_state *h, uint64_t v)
{
	uint8_t b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
	put_bytes(h, b, sizeof(b));
}

static void
begin(const struct digest_ctx *c, crypto_generichash_state *h, enum digest_kind kind)
{
	uint8_t k = (uint8_t)kind;

	crypto_generichash_init(h, c->key, STORE_DIGEST_BYTES, STORE_DIGEST_BYTES);
	crypto_generichash_update(h, &k, 1);
}

static void
end(struct digest_ctx *c, crypto_generichash_state *h)
{
	crypto_generichash_final(h, c->recs[c->nrecs++], STORE_DIGEST_BYTES);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, STORE_DIGEST_BYTES);
}

/* A set of strings, in sorted order, so the set's order does not count. */
static int
put_str_set(crypto_generichash_state *h, char *const *v, size_t n)
{
	char **sorted;

	put_u64(h, n);
	if (n == 0)
		return 0;
	if ((sorted = malloc(n * sizeof(*sorted))) == NULL)
		return HUSH_E_NOMEM;
	memcpy(sorted, v, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (size_t i = 0; i < n; i++)
		put_str(h, sorted[i]);
	free(sorted);
	return 0;
}

static void
digest_cluster(struct digest_ctx *c, const struct store_cluster *x)
{
	crypto_generichash_state h;

	begin(c, &h, DK_CLUSTER);
	put_str(&h, x->id);
	put_str(&h, x->ca_cert);
	put_bytes(&h, x->ca_key.p, x->ca_key.len);
	/* only where there is one: a cluster without keeps the digest it had */
	if (x->extca_url != NULL) {
		put_str(&h, x->extca_url);
		put_str(&h, x->extca_cacert != NULL ? x->extca_cacert : "");
	}
	put_bytes(&h, x->tokens.p, x->tokens.len);
	put_u64(&h, x->cert_expiry);
	put_u64(&h, x->autolock);
	put_bytes(&h, x->kek.p, x->kek.len);
	put_str(&h, x->advertise);
	put_u64(&h, (uint64_t)x->created);
	put_u64(&h, x->rotation.phase);
	if (x->rotation.phase != CA_PHASE_NONE) {
		put_bytes(&h, x->rotation.digest, sizeof(x->rotation.digest));
		put_str(&h, x->rotation.next_cert);
		put_bytes(&h, x->rotation.next_key.p, x->rotation.next_key.len);
		put_str(&h, x->rotation.cross_cert != NULL ? x->rotation.cross_cert : "");
		put_str(&h, x->rotation.next_extca_url != NULL ? x->rotation.next_extca_url : "");
		put_str(&h, x->rotation.next_extca_cacert != NULL ?
		    x->rotation.next_extca_cacert : "");
		put_u64(&h, (uint64_t)x->rotation.started);
	}
	end(c, &h);
}

static int
digest_node(struct digest_ctx *c, const struct store_node *x)
{
	crypto_generichash_state h;
	int r;

	begin(c, &h, DK_NODE);
	put_str(&h, x->id);
	put_u64(&h, x->role);
	put_str(&h, x->addr);
	put_str(&h, x->availability);
	put_u64(&h, (uint64_t)x->created);
	put_u64(&h, x->removed);
	if ((r = put_str_set(&h, x->labels, x->nlabels)) != 0)
		return r;
	put_u64(&h, x->has_seal);
	if (x->has_seal)
		put_bytes(&h, x->seal_pub, sizeof(x->seal_pub));
	end(c, &h);
	return 0;
}

static int
digest_secret(struct digest_ctx *c, const struct store *s, const struct store_secret *x)
{
	crypto_generichash_state h;
	size_t plen;
	int r;

	if ((r = seal_open(s->memkey, SECRET_PURPOSE, x->sealed, x->sealed_len,
	    c->plain.p, c->plain.len, &plen)) != 0)
		return r;
	begin(c, &h, DK_SECRET);
	put_str(&h, x->id);
	put_str(&h, x->name);
	put_u64(&h, x->version);
	put_u64(&h, (uint64_t)x->created);
	put_u64(&h, (uint64_t)x->updated);
	if ((r = put_str_set(&h, x->labels, x->nlabels)) == 0) {
		put_bytes(&h, c->plain.p, plen);
		end(c, &h);
	}
	sodium_memzero(c->plain.p, plen);
	return r;
}

static int
digest_service(struct digest_ctx *c, const struct store_service *x)
{
	crypto_generichash_state h, g;
	uint8_t (*grants)[STORE_DIGEST_BYTES] = NULL;
	int r;

	/* Grants are a set too: each hashed alone, then sorted. */
	if (x->ngrants > 0 && (grants = calloc(x->ngrants, sizeof(*grants))) == NULL)
		return HUSH_E_NOMEM;
	for (size_t i = 0; i < x->ngrants; i++) {
		crypto_generichash_init(&g, c->key, STORE_DIGEST_BYTES, STORE_DIGEST_BYTES);
		put_str(&g, x->grants[i].secret_id);
		put_str(&g, x->grants[i].target);
		put_u64(&g, x->grants[i].uid);
		put_u64(&g, x->grants[i].gid);
		put_u64(&g, x->grants[i].mode);
		crypto_generichash_final(&g, grants[i], STORE_DIGEST_BYTES);
	}
	if (x->ngrants > 0)
		qsort(grants, x->ngrants, sizeof(*grants), cmp_hash);
	begin(c, &h, DK_SERVICE);
	put_str(&h, x->id);
	put_str(&h, x->name);
	put_u64(&h, (uint64_t)x->created);
	put_u64(&h, (uint64_t)x->updated);
	put_u64(&h, x->version);
	put_u64(&h, x->ngrants);
	for (size_t i = 0; i < x->ngrants; i++)
		put_bytes(&h, grants[i], STORE_DIGEST_BYTES);
	free(grants);
	if ((r = put_str_set(&h, x->constraints, x->nconstraints)) != 0)
		return r;
	put_u64(&h, x->has_claim);
	if (x->has_claim) {
		put_bytes(&h, x->claim_digest, sizeof(x->claim_digest));
		put_u64(&h, (uint64_t)x->claim_issued);
	}
	end(c, &h);
	return 0;
}

int
store_digest(const struct store *s, const uint8_t dek[SEAL_KEY_BYTES], struct store_digest *out)
{
	struct digest_ctx c;
	crypto_generichash_state h;
	size_t total, maxval = 1;
	int r = 0;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	total = (s->cluster.present ? 1 : 0) + s->nnodes + s->nsecrets + s->nservices;
	for (size_t i = 0; i < s->nsecrets; i++)
		if (s->secrets[i].data_len > maxval)
			maxval = s->secrets[i].data_len;
	/* One guarded buffer for every value: sodium_malloc per value costs mmaps. */
	if ((c.key = sodium_malloc(STORE_DIGEST_BYTES)) == NULL ||
	    (c.recs = calloc(total > 0 ? total : 1, sizeof(*c.recs))) == NULL ||
	    (r = secbuf_alloc(&c.plain, maxval)) != 0) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	crypto_generichash(c.key, STORE_DIGEST_BYTES, (const uint8_t *)DIGEST_PURPOSE,
	    strlen(DIGEST_PURPOSE), dek, SEAL_KEY_BYTES);

	if (s->cluster.present)
		digest_cluster(&c, &s->cluster);
	for (size_t i = 0; r == 0 && i < s->nnodes; i++)
		r = digest_node(&c, &s->nodes[i]);
	for (size_t i = 0; r == 0 && i < s->nsecrets; i++)
		r = digest_secret(&c, s, &s->secrets[i]);
	for (size_t i = 0; r == 0 && i < s->nservices; i++)
		r = digest_service(&c, &s->services[i]);
	if (r != 0)
		goto out;

	qsort(c.recs, c.nrecs, sizeof(*c.recs), cmp_hash);
	crypto_generichash_init(&h, c.key, STORE_DIGEST_BYTES, STORE_DIGEST_BYTES);
	put_u64(&h, s->nnodes);
	put_u64(&h, s->nsecrets);
	put_u64(&h, s->nservices);
	put_u64(&h, c.nrecs);
	for (size_t i = 0; i < c.nrecs; i++)
		crypto_generichash_update(&h, c.recs[i], STORE_DIGEST_BYTES);
	crypto_generichash_final(&h, out->hash, sizeof(out->hash));
	out->nsecrets = s->nsecrets;
	out->nservices = s->nservices;
	out->nnodes = s->nnodes;
out:
	if (c.key != NULL)
		sodium_free(c.key);
	free(c.recs);
	secbuf_free(&c.plain);
	return r;
}

void
store_digest_put(const struct store *s, const uint8_t dek[SEAL_KEY_BYTES], struct wire_enc *e)
{
	struct store_digest d;
	int r;

	/* Left out, the answer says "no digest"; the log says why. */
	if ((r = store_digest(s, dek, &d)) != 0) {
		log_err("cannot compute the store's digest: %s", hush_strerror(r));
		return;
	}
	wire_put_bytes(e, T_STORE_DIGEST, d.hash, sizeof(d.hash));
	wire_put_u64(e, T_STORE_SECRETS, d.nsecrets);
	wire_put_u64(e, T_STORE_SERVICES, d.nservices);
	wire_put_u64(e, T_STORE_NODES, d.nnodes);
}
