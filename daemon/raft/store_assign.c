/*
 * What one node must hold: the services placed on it — every constraint
 * matches the node's id, role and labels — and the values of the secrets
 * those services grant.  A node never receives a secret for a service not
 * placed on it: this is the one place that decides it.
 *
 * The answer carries a digest of the whole assignment (services, their
 * versions and grants, the versions of the granted secrets), computed from
 * replicated state only, so every manager gives the same digest for the
 * same state and a node can move between managers.  A node that already
 * holds that digest gets the digest alone; otherwise it gets the services
 * and the values it lacks (it says which id@version it holds), as many as
 * fit in HUSH_ASSIGN_ANSWER_MAX, with T_MORE when it must ask again for
 * the rest.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint.h"
#include "err.h"
#include "msg.h"
#include "seal.h"
#include "store.h"

/* Room for the envelope of each value, and for the rest of an answer. */
#define VALUE_OVERHEAD	256
#define ANSWER_SLACK	4096
/* The services placed on one node leave room for the largest value. */
#define SERVICES_MAX	(HUSH_ASSIGN_ANSWER_MAX - HUSH_SECRET_MAX - VALUE_OVERHEAD - ANSWER_SLACK)

/* The node's labels as constraint_match wants them; "k=v" split in place. */
struct facts {
	struct node_facts	 f;
	struct node_label	 labels[STORE_NODE_LABELS_MAX];
	char			 buf[STORE_NODE_LABELS_MAX][LABEL_KEY_MAX + LABEL_VALUE_MAX + 2];
};

static void
facts_of(const struct store_node *n, struct facts *x)
{
	size_t k = 0;
	char *eq;

	for (size_t i = 0; i < n->nlabels && k < STORE_NODE_LABELS_MAX; i++) {
		snprintf(x->buf[k], sizeof(x->buf[k]), "%s", n->labels[i]);
		if ((eq = strchr(x->buf[k], '=')) == NULL)
			continue;
		*eq = '\0';
		x->labels[k].key = x->buf[k];
		x->labels[k].value = eq + 1;
		k++;
	}
	x->f.id = n->id;
	x->f.role = n->role;
	x->f.labels = x->labels;
	x->f.nlabels = k;
}

/* Fails closed: a constraint the store cannot parse places nothing. */
static bool
placed(const struct store_service *svc, const struct node_facts *f)
{
	struct constraint c;
	char why[256];

	for (size_t i = 0; i < svc->nconstraints; i++) {
		if (constraint_parse(svc->constraints[i], &c, why, sizeof(why)) != 0 ||
		    !constraint_match(&c, f))
			return false;
	}
	return true;
}

static void
hash_str(crypto_generichash_state *h, const char *s)
{
	/* The NUL ends each string: "ab"+"c" and "a"+"bc" differ. */
	crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

static void
hash_u64(crypto_generichash_state *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	crypto_generichash_update(h, b, sizeof(b));
}

/* Whether the node said it holds this secret at this version. */
static bool
node_has(const struct wire_msg *q, const struct store_secret *x)
{
	char want[HUSH_ID_LEN + 16];
	size_t n;

	snprintf(want, sizeof(want), "%s:%u", x->id, x->version);
	n = strlen(want);
	for (size_t i = 0; i < wire_count(q, T_HAVE); i++) {
		const struct wire_field *f = wire_find(q, T_HAVE, i);

		if (f->len == n && memcmp(f->val, want, n) == 0)
			return true;
	}
	return false;
}

/*
 * The value of x for node, sealed to the node parent's sealing key: from
 * here to that parent it passes the manager's parent and, for another
 * node, two net processes, none of which may read it.
 */
static int
put_value(struct store *s, struct wire_enc *e, const struct store_secret *x,
    const struct store_node *node)
{
	struct secbuf plain = SECBUF_INIT;
	struct wire_enc rec;
	const uint8_t *buf;
	uint8_t *box;
	size_t outlen, len;
	int r;

	/* Guarded memory, one value at a time, wiped before returning. */
	if ((r = secbuf_alloc(&plain, x->data_len ? x->data_len : 1)) != 0)
		return r;
	if ((r = seal_open(s->memkey, SECRET_PURPOSE, x->sealed, x->sealed_len,
	    plain.p, plain.len, &outlen)) != 0) {
		secbuf_free(&plain);
		return r;
	}
	if ((box = malloc(outlen + crypto_box_SEALBYTES)) == NULL) {
		secbuf_free(&plain);
		return HUSH_E_NOMEM;
	}
	r = crypto_box_seal(box, plain.p, outlen, node->seal_pub) == 0 ? 0 : HUSH_E_CRYPTO;
	secbuf_free(&plain);
	if (r != 0) {
		free(box);
		return r;
	}
	wire_enc_init(&rec, REC_SECRET_DATA, 0, HUSH_SECRET_MAX + 1024);
	wire_put_str(&rec, T_SECRET_ID, x->id);
	wire_put_u32(&rec, T_VERSION, x->version);
	wire_put_bytes(&rec, T_SEALED, box, outlen + crypto_box_SEALBYTES);
	free(box);
	if ((r = wire_enc_finish(&rec, &buf, &len)) == 0)
		wire_put_bytes(e, T_SECRET_DATA, buf + WIRE_HDR_LEN, len - WIRE_HDR_LEN);
	wire_enc_free(&rec);	/* wipes: the encoder held the value too */
	return r;
}

int
store_assignments(struct store *s, const struct wire_msg *q, struct wire_enc *e)
{
	crypto_generichash_state h;
	unsigned char digest[32];
	const uint8_t *have;
	struct store_node *node;
	struct facts *fx;
	struct wire_enc list;
	bool *on, *sent, more = false;
	char id[HUSH_ID_LEN + 1], why[256];
	size_t havelen, used;
	int r = 0;

	wire_get_str(q, T_NODE_ID, id, sizeof(id));
	if ((node = store_node_find(s, id)) == NULL || node->removed) {
		wire_enc_free(e);
		snprintf(why, sizeof(why), node == NULL ? "node %s is not a member" :
		    "node %s was removed from the cluster", id);
		return msg_error_reply(e, q->hdr.request_id, node == NULL ? HUSH_E_NOTFOUND :
		    HUSH_E_PERM, why);
	}
	if (!node->has_seal) {
		wire_enc_free(e);
		snprintf(why, sizeof(why), "node %s has no sealing key (it joined with an older "
		    "hush): nothing can be sent to it; make it leave and join again", id);
		return msg_error_reply(e, q->hdr.request_id, HUSH_E_PERM, why);
	}
	fx = calloc(1, sizeof(*fx));
	on = calloc(s->nservices + 1, sizeof(bool));
	sent = calloc(s->nsecrets + 1, sizeof(bool));
	if (fx == NULL || on == NULL || sent == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	facts_of(node, fx);

	crypto_generichash_init(&h, NULL, 0, sizeof(digest));
	for (size_t i = 0; i < s->nservices; i++) {
		const struct store_service *svc = &s->services[i];

		if (!(on[i] = placed(svc, &fx->f)))
			continue;
		hash_str(&h, svc->id);
		hash_u64(&h, svc->version);
		for (size_t g = 0; g < svc->ngrants; g++) {
			const struct store_grant *gr = &svc->grants[g];
			const struct store_secret *x = store_secret_find(s, gr->secret_id);

			hash_str(&h, gr->secret_id);
			hash_u64(&h, x != NULL ? x->version : 0);
			hash_str(&h, gr->target);
			hash_u64(&h, ((uint64_t)gr->uid << 32) | gr->gid);
			hash_u64(&h, gr->mode);
		}
	}
	crypto_generichash_final(&h, digest, sizeof(digest));
	wire_put_bytes(e, T_DIGEST, digest, sizeof(digest));
	if (wire_get_bytes(q, T_DIGEST, &have, &havelen) == 0 && havelen == sizeof(digest) &&
	    sodium_memcmp(have, digest, sizeof(digest)) == 0)
		goto out;		/* the node is up to date */

	wire_enc_init_list(&list, SERVICES_MAX);
	for (size_t i = 0; i < s->nservices; i++)
		if (on[i])
			store_service_put(s, &list, T_SERVICE, &s->services[i]);
	if ((r = wire_enc_finish(&list, &have, &havelen)) == 0)
		wire_put_bytes(e, T_RECORDS, have, havelen);
	wire_enc_free(&list);
	if (r != 0) {
		wire_enc_free(e);
		snprintf(why, sizeof(why), "the services placed on node %s exceed %d bytes",
		    id, SERVICES_MAX);
		r = msg_error_reply(e, q->hdr.request_id, HUSH_E_TOOBIG, why);
		goto out;
	}
	used = e->len + ANSWER_SLACK;
	for (size_t i = 0; i < s->nservices && r == 0; i++) {
		if (!on[i])
			continue;
		for (size_t g = 0; g < s->services[i].ngrants && r == 0; g++) {
			struct store_secret *x = store_secret_find(s,
			    s->services[i].grants[g].secret_id);

			if (x == NULL || sent[x - s->secrets] || node_has(q, x))
				continue;
			if (used + x->data_len + VALUE_OVERHEAD > HUSH_ASSIGN_ANSWER_MAX ||
			    e->nfields >= WIRE_MAX_FIELDS - 4) {
				more = true;
				continue;
			}
			sent[x - s->secrets] = true;
			used += x->data_len + VALUE_OVERHEAD;
			r = put_value(s, e, x, node);
		}
	}
	if (more)
		wire_put_bool(e, T_MORE, true);
out:
	free(fx);
	free(on);
	free(sent);
	if (r == 0)
		r = e->err;
	return r;
}
