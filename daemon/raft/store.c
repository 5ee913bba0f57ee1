#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "msg.h"
#include "names.h"
#include "seal.h"
#include "store.h"


static const char *
secret_id_of(const void *records, uint32_t slot)
{
	return ((const struct store_secret *)records)[slot].id;
}

static const char *
secret_name_of(const void *records, uint32_t slot)
{
	return ((const struct store_secret *)records)[slot].name;
}

static const char *
outcome_key_of(const void *records, uint32_t slot)
{
	return ((const struct store_outcome *)records)[slot].key;
}

int
store_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
	if ((s->memkey = sodium_malloc(SEAL_KEY_BYTES)) == NULL)
		return HUSH_E_NOMEM;
	if ((s->dedup = calloc(STORE_DEDUP_MAX, sizeof(*s->dedup))) == NULL) {
		sodium_free(s->memkey);
		s->memkey = NULL;
		return HUSH_E_NOMEM;
	}
	randombytes_buf(s->memkey, SEAL_KEY_BYTES);
	store_index_init(&s->secret_ids, secret_id_of, (const void *const *)&s->secrets);
	store_index_init(&s->secret_names, secret_name_of, (const void *const *)&s->secrets);
	store_index_init(&s->dedup_index, outcome_key_of, (const void *const *)&s->dedup);
	store_order_init(&s->secret_order, secret_id_of, (const void *const *)&s->secrets);
	return 0;
}

static void
secret_free(struct store_secret *x)
{
	for (size_t i = 0; i < x->nlabels; i++)
		free(x->labels[i]);
	free(x->labels);
	free(x->sealed);
	memset(x, 0, sizeof(*x));
}

static void
cluster_free(struct store_cluster *c)
{
	free(c->ca_cert);
	secbuf_free(&c->ca_key);
	free(c->extca_url);
	free(c->extca_cacert);
	secbuf_free(&c->tokens);
	secbuf_free(&c->kek);
	store_ca_free(&c->rotation);
	memset(c, 0, sizeof(*c));
}

static void
outcome_free(struct store_outcome *o)
{
	free(o->errmsg);
	free(o->ids);
	memset(o, 0, sizeof(*o));
}

void
store_reset(struct store *s)
{
	for (size_t i = 0; i < s->nsecrets; i++)
		secret_free(&s->secrets[i]);
	free(s->secrets);
	s->secrets = NULL;
	s->nsecrets = s->capsecrets = 0;
	store_index_clear(&s->secret_ids);
	store_index_clear(&s->secret_names);
	store_order_clear(&s->secret_order);
	cluster_free(&s->cluster);
	store_nodes_free(s);
	store_services_free(s);
	for (size_t i = 0; s->dedup != NULL && i < STORE_DEDUP_MAX; i++)
		outcome_free(&s->dedup[i]);
	store_index_clear(&s->dedup_index);
	s->dedup_next = s->dedup_count = 0;
}

void
store_free(struct store *s)
{
	store_reset(s);
	if (s->memkey != NULL)
		sodium_free(s->memkey);
	s->memkey = NULL;
	free(s->dedup);
	s->dedup = NULL;
	store_index_free(&s->secret_ids);
	store_index_free(&s->secret_names);
	store_index_free(&s->dedup_index);
	store_order_free(&s->secret_order);
}

static void
outcome_key(const uint8_t req_id[16], char key[33])
{
	sodium_bin2hex(key, 33, req_id, 16);
}

void
store_use_key(struct store *s, const uint8_t dek[SEAL_KEY_BYTES])
{
	static const char purpose[] = "hush/store-memory-key";

	/* A key of its own, not the DEK itself: values never open as entries. */
	crypto_generichash(s->memkey, SEAL_KEY_BYTES, (const uint8_t *)purpose,
	    sizeof(purpose) - 1, dek, SEAL_KEY_BYTES);
}

const struct store_outcome *
store_outcome(const struct store *s, const uint8_t req_id[16])
{
	char key[33];
	uint32_t slot;

	outcome_key(req_id, key);
	slot = store_index_find(&s->dedup_index, key);
	return slot == STORE_INDEX_NONE ? NULL : &s->dedup[slot];
}

/* The ring forgets the oldest outcome; 4096 is far more than can be in flight. */
static int
outcome_record(struct store *s, const uint8_t *req_id, int code, const char *errmsg,
    const char *ids)
{
	uint32_t slot = (uint32_t)s->dedup_next;
	struct store_outcome *o = &s->dedup[slot];

	/* Only its own entry: a restored ring may name one request twice. */
	if (o->key[0] != '\0' && store_index_find(&s->dedup_index, o->key) == slot)
		store_index_del(&s->dedup_index, o->key);
	outcome_free(o);
	memcpy(o->req_id, req_id, 16);
	outcome_key(req_id, o->key);
	o->code = code;
	if ((errmsg != NULL && *errmsg != '\0' && (o->errmsg = strdup(errmsg)) == NULL) ||
	    (ids != NULL && *ids != '\0' && (o->ids = strdup(ids)) == NULL) ||
	    store_index_add(&s->dedup_index, o->key, slot) != 0) {
		outcome_free(o);
		return HUSH_E_NOMEM;
	}
	s->dedup_next = (s->dedup_next + 1) % STORE_DEDUP_MAX;
	if (s->dedup_count < STORE_DEDUP_MAX)
		s->dedup_count++;
	return 0;
}

/* By id first: a name that happens to be another secret's id never hides it. */
struct store_secret *
store_secret_find(struct store *s, const char *ref)
{
	uint32_t slot = store_index_find(&s->secret_ids, ref);

	if (slot == STORE_INDEX_NONE)
		slot = store_index_find(&s->secret_names, ref);
	return slot == STORE_INDEX_NONE ? NULL : &s->secrets[slot];
}

static int
copy_labels(const struct wire_msg *m, struct store_secret *x, char *why, size_t whylen)
{
	char key[LABEL_KEY_MAX + 1], val[LABEL_VALUE_MAX + 1], str[LABEL_KEY_MAX + LABEL_VALUE_MAX + 2];
	size_t n = wire_count(m, T_LABEL), total = 0;

	if (n == 0)
		return 0;
	if ((x->labels = calloc(n, sizeof(char *))) == NULL)
		return HUSH_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct wire_field *f = wire_find(m, T_LABEL, i);

		if (f == NULL || f->len >= sizeof(str))
			return HUSH_E_PROTO;
		memcpy(str, f->val, f->len);
		str[f->len] = '\0';
		if (label_parse(str, key, sizeof(key), val, sizeof(val), why, whylen) != 0)
			return HUSH_E_INVAL;
		for (size_t j = 0; j < x->nlabels; j++) {
			size_t klen = strlen(key);

			if (strncmp(x->labels[j], key, klen) == 0 && x->labels[j][klen] == '=') {
				snprintf(why, whylen, "label '%s' is given twice", key);
				return HUSH_E_INVAL;
			}
		}
		total += f->len;
		if (total > STORE_LABELS_MAX) {
			snprintf(why, whylen, "labels are larger than %d bytes in total",
			    STORE_LABELS_MAX);
			return HUSH_E_INVAL;
		}
		if ((x->labels[x->nlabels] = strdup(str)) == NULL)
			return HUSH_E_NOMEM;
		x->nlabels++;
	}
	return 0;
}

static int
seal_value(struct store *s, struct store_secret *x, const uint8_t *data, size_t len)
{
	size_t outlen;

	if ((x->sealed = malloc(len + SEAL_OVERHEAD)) == NULL)
		return HUSH_E_NOMEM;
	x->sealed_len = len + SEAL_OVERHEAD;
	x->data_len = len;
	return seal(s->memkey, 0, SECRET_PURPOSE, data, len, x->sealed, x->sealed_len, &outlen);
}

/*
 * Room for n secrets.  A restore asks for all of them at once: growing
 * by doubling there copied and page-faulted the array over and over, a
 * fifth of its time at 100,000 secrets.
 */
static int
reserve_secrets(struct store *s, size_t n)
{
	struct store_secret *a;

	if (n <= s->capsecrets)
		return 0;
	if ((a = reallocarray(s->secrets, n, sizeof(*a))) == NULL)
		return HUSH_E_NOMEM;
	s->secrets = a;
	s->capsecrets = n;
	return 0;
}

static int
add_secret(struct store *s, struct store_secret *x)
{
	uint32_t slot = (uint32_t)s->nsecrets;

	if (s->nsecrets == s->capsecrets &&
	    reserve_secrets(s, s->capsecrets ? s->capsecrets * 2 : 64) != 0)
		return HUSH_E_NOMEM;
	s->secrets[slot] = *x;
	if (store_index_add(&s->secret_ids, x->id, slot) != 0 ||
	    store_index_add(&s->secret_names, x->name, slot) != 0 ||
	    store_order_add(&s->secret_order, slot) != 0) {
		store_index_del(&s->secret_ids, x->id);
		store_index_del(&s->secret_names, x->name);
		memset(&s->secrets[slot], 0, sizeof(s->secrets[slot]));
		return HUSH_E_NOMEM;
	}
	s->nsecrets++;
	memset(x, 0, sizeof(*x));
	return 0;
}

/*
 * Frees the secret at slot and fills the hole with the last one: the
 * array has no order (lists go by id, store_page.c), and a removal costs
 * the same however many secrets there are.
 */
static void
remove_secret(struct store *s, uint32_t slot)
{
	uint32_t last = (uint32_t)s->nsecrets - 1;

	store_index_del(&s->secret_ids, s->secrets[slot].id);
	store_index_del(&s->secret_names, s->secrets[slot].name);
	store_order_remove(&s->secret_order, slot, last);
	secret_free(&s->secrets[slot]);
	if (slot != last) {
		s->secrets[slot] = s->secrets[last];
		/* The index finds it by the key still readable at last. */
		store_index_move(&s->secret_ids, s->secrets[slot].id, slot);
		store_index_move(&s->secret_names, s->secrets[slot].name, slot);
		memset(&s->secrets[last], 0, sizeof(s->secrets[last]));
	}
	s->nsecrets--;
}

static int
apply_secret_create(struct store *s, const struct wire_msg *m, char *ids, size_t idslen,
    char *why, size_t whylen)
{
	struct store_secret x;
	const uint8_t *data;
	size_t len;
	int r;

	memset(&x, 0, sizeof(x));
	if (!s->cluster.present)
		return HUSH_E_NOTINIT;
	if (wire_get_str(m, T_SECRET_ID, x.id, sizeof(x.id)) != 0 ||
	    wire_get_str(m, T_NAME, x.name, sizeof(x.name)) != 0 ||
	    wire_get_i64(m, T_CREATED, &x.created) != 0 ||
	    wire_get_bytes(m, T_DATA, &data, &len) != 0)
		return HUSH_E_PROTO;
	if (secret_name_check(x.name, strlen(x.name), why, whylen) != 0)
		return HUSH_E_INVAL;
	if (!hush_id_valid(x.id)) {
		snprintf(why, whylen, "malformed secret id");
		return HUSH_E_INVAL;
	}
	if (store_secret_find(s, x.name) != NULL) {
		snprintf(why, whylen, "secret '%s' already exists", x.name);
		return HUSH_E_EXISTS;
	}
	if (store_secret_find(s, x.id) != NULL) {
		snprintf(why, whylen, "secret id %s already exists", x.id);
		return HUSH_E_EXISTS;
	}
	x.updated = x.created;
	x.version = 1;
	if ((r = copy_labels(m, &x, why, whylen)) != 0 ||
	    (r = seal_value(s, &x, data, len)) != 0 ||
	    (r = add_secret(s, &x)) != 0) {
		secret_free(&x);
		return r;
	}
	snprintf(ids, idslen, "%s", s->secrets[s->nsecrets - 1].id);
	return 0;
}

/*
 * All or nothing: a name that does not resolve, or a secret a service
 * grants, removes no secret at all.  The outcome names the removed ids in
 * the order the request named them, each once.
 */
static int
apply_secret_rm(struct store *s, const struct wire_msg *m, char *ids, size_t idslen,
    char *why, size_t whylen)
{
	size_t nref = wire_count(m, T_REF), n = 0, o = 0;
	char ref[65], users[512];
	uint32_t slots[STORE_RM_MAX];

	if (!s->cluster.present)
		return HUSH_E_NOTINIT;
	/* Its outcome (one id per secret) must fit in one snapshot record. */
	if (nref > STORE_RM_MAX) {
		snprintf(why, whylen, "at most %d secrets can be removed at once", STORE_RM_MAX);
		return HUSH_E_INVAL;
	}
	for (size_t i = 0; i < nref; i++) {
		const struct wire_field *f = wire_find(m, T_REF, i);
		struct store_secret *x;
		uint32_t slot;
		size_t j;

		if (f == NULL || f->len >= sizeof(ref))
			return HUSH_E_PROTO;
		memcpy(ref, f->val, f->len);
		ref[f->len] = '\0';
		if ((x = store_secret_find(s, ref)) == NULL) {
			snprintf(why, whylen, "secret '%s' not found", ref);
			return HUSH_E_NOTFOUND;
		}
		/* A granted secret stays: its services would lose a file they rely on. */
		if (store_secret_users(s, x->id, users, sizeof(users)) > 0) {
			snprintf(why, whylen, "secret '%s' is in use by service(s): %s",
			    x->name, users);
			return HUSH_E_INUSE;
		}
		slot = (uint32_t)(x - s->secrets);
		for (j = 0; j < n && slots[j] != slot; j++)
			;
		if (j == n)
			slots[n++] = slot;
	}
	/* Ids first: each removal moves the last secret into the hole. */
	ids[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(ids + o, idslen - o, "%s%s", o ? " " : "",
		    s->secrets[slots[i]].id);
	for (size_t i = 0; i < n; i++) {
		char id[HUSH_ID_LEN + 1];

		memcpy(id, ids + i * (HUSH_ID_LEN + 1), HUSH_ID_LEN);
		id[HUSH_ID_LEN] = '\0';
		remove_secret(s, store_index_find(&s->secret_ids, id));
	}
	return 0;
}

/* New data for an existing secret: a new version, sealed like the first. */
static int
apply_secret_update(struct store *s, const struct wire_msg *m, char *ids, size_t idslen,
    char *why, size_t whylen)
{
	struct store_secret *x, nv;
	const uint8_t *data;
	char ref[65];
	int64_t updated;
	size_t len;
	int r;

	if (!s->cluster.present)
		return HUSH_E_NOTINIT;
	if (wire_get_str(m, T_REF, ref, sizeof(ref)) != 0 ||
	    wire_get_bytes(m, T_DATA, &data, &len) != 0 ||
	    wire_get_i64(m, T_UPDATED, &updated) != 0)
		return HUSH_E_PROTO;
	if ((x = store_secret_find(s, ref)) == NULL) {
		snprintf(why, whylen, "secret '%s' not found", ref);
		return HUSH_E_NOTFOUND;
	}
	if (x->version == UINT32_MAX) {
		snprintf(why, whylen, "secret '%s' cannot be updated again", x->name);
		return HUSH_E_RANGE;
	}
	memset(&nv, 0, sizeof(nv));
	if ((r = seal_value(s, &nv, data, len)) != 0) {
		free(nv.sealed);
		return r;
	}
	free(x->sealed);
	x->sealed = nv.sealed;
	x->sealed_len = nv.sealed_len;
	x->data_len = nv.data_len;
	x->version++;
	x->updated = updated;
	snprintf(ids, idslen, "%s", x->id);
	return 0;
}

static int
get_secbuf(const struct wire_msg *m, uint16_t tag, struct secbuf *out)
{
	const uint8_t *p;
	size_t len;

	if (wire_get_bytes(m, tag, &p, &len) != 0)
		return HUSH_E_PROTO;
	secbuf_free(out);
	return secbuf_dup(out, p, len);
}

/*
 * The root's key, or the external CA that holds it (URL, and the PEM its
 * TLS must chain to when it is not the root): a record has one or the
 * other.
 */
static int
get_ca_key_or_extca(const struct wire_msg *m, struct store_cluster *c)
{
	const struct wire_field *f;
	int r;

	if (wire_find(m, T_CA_KEY, 0) != NULL && (r = get_secbuf(m, T_CA_KEY, &c->ca_key)) != 0)
		return r;
	if ((f = wire_find(m, T_EXTCA_URL, 0)) != NULL &&
	    (c->extca_url = strndup((const char *)f->val, f->len)) == NULL)
		return HUSH_E_NOMEM;
	if ((f = wire_find(m, T_EXTCA_CACERT, 0)) != NULL &&
	    (c->extca_cacert = strndup((const char *)f->val, f->len)) == NULL)
		return HUSH_E_NOMEM;
	if ((c->ca_key.len == 0) == (c->extca_url == NULL))
		return HUSH_E_PROTO;
	return 0;
}

static int
apply_cluster_init(struct store *s, const struct wire_msg *m, char *why, size_t whylen)
{
	struct store_cluster *c = &s->cluster;
	const uint8_t *w, *mg;
	size_t wl, ml, certlen;
	const struct wire_field *cert;
	int r;

	if (c->present) {
		snprintf(why, whylen, "the cluster is already initialized");
		return HUSH_E_ALREADYINIT;
	}
	if ((cert = wire_find(m, T_CA_CERT, 0)) == NULL ||
	    wire_get_str(m, T_CLUSTER_ID, c->id, sizeof(c->id)) != 0 ||
	    wire_get_str(m, T_ADVERTISE_ADDR, c->advertise, sizeof(c->advertise)) != 0 ||
	    wire_get_u64(m, T_CERT_EXPIRY, &c->cert_expiry) != 0 ||
	    wire_get_i64(m, T_CREATED, &c->created) != 0 ||
	    wire_get_bytes(m, T_WORKER_SECRET, &w, &wl) != 0 ||
	    wire_get_bytes(m, T_MANAGER_SECRET, &mg, &ml) != 0) {
		cluster_free(c);
		return HUSH_E_PROTO;
	}
	certlen = cert->len;
	if ((c->ca_cert = malloc(certlen + 1)) == NULL ||
	    (r = secbuf_alloc(&c->tokens, 32)) != 0) {
		cluster_free(c);
		return HUSH_E_NOMEM;
	}
	if ((r = get_ca_key_or_extca(m, c)) != 0) {
		cluster_free(c);
		if (r == HUSH_E_PROTO)
			snprintf(why, whylen, "a cluster needs its root's key or an external CA, "
			    "and not both");
		return r;
	}
	memcpy(c->ca_cert, cert->val, certlen);
	c->ca_cert[certlen] = '\0';
	memcpy(c->tokens.p, w, 16);
	memcpy(c->tokens.p + 16, mg, 16);
	if (wire_find(m, T_KEK, 0) != NULL) {
		if ((r = get_secbuf(m, T_KEK, &c->kek)) != 0) {
			cluster_free(c);
			return r;
		}
		c->autolock = true;
	}
	c->present = true;
	{
		char node[HUSH_ID_LEN + 1];

		if (wire_get_str(m, T_NODE_ID, node, sizeof(node)) != 0) {
			cluster_free(c);
			return HUSH_E_PROTO;
		}
		if ((r = store_node_add(s, node, ROLE_MANAGER, c->advertise, c->created,
		    why, whylen)) != 0) {
			cluster_free(c);
			return r;
		}
		store_node_take_seal(&s->nodes[s->nnodes - 1], m);
	}
	return 0;
}

static int
apply_token_rotate(struct store *s, const struct wire_msg *m)
{
	const uint8_t *p;
	size_t len;

	if (!s->cluster.present)
		return HUSH_E_NOTINIT;
	if (wire_get_bytes(m, T_WORKER_SECRET, &p, &len) == 0)
		memcpy(s->cluster.tokens.p, p, 16);
	if (wire_get_bytes(m, T_MANAGER_SECRET, &p, &len) == 0)
		memcpy(s->cluster.tokens.p + 16, p, 16);
	return 0;
}

static int
apply_cluster_update(struct store *s, const struct wire_msg *m, char *why, size_t whylen)
{
	struct store_cluster *c = &s->cluster;
	bool autolock, has_autolock, has_kek;
	uint64_t expiry;
	int r;

	if (!c->present)
		return HUSH_E_NOTINIT;
	bool has_expiry;

	has_autolock = wire_get_bool(m, T_AUTOLOCK, &autolock) == 0;
	has_kek = wire_find(m, T_KEK, 0) != NULL;
	/* Check everything before changing anything: a refused update is a no-op. */
	has_expiry = wire_get_u64(m, T_CERT_EXPIRY, &expiry) == 0;
	if (has_expiry && expiry < 3600) {
		snprintf(why, whylen, "certificate expiry must be at least 1h");
		return HUSH_E_RANGE;
	}
	if (has_autolock && autolock && !has_kek) {
		snprintf(why, whylen, "enabling autolock needs a key");
		return HUSH_E_INVAL;
	}
	if (has_autolock && !autolock && has_kek) {
		snprintf(why, whylen, "a key given while disabling autolock");
		return HUSH_E_INVAL;
	}
	if (!has_autolock && has_kek && !c->autolock)
		return HUSH_E_NOTLOCKED;
	if (has_expiry)
		c->cert_expiry = expiry;
	if (has_kek) {
		if ((r = get_secbuf(m, T_KEK, &c->kek)) != 0)
			return r;
		c->autolock = true;
	} else if (has_autolock && !autolock) {
		secbuf_free(&c->kek);
		c->autolock = false;
	}
	return 0;
}

/*
 * Whether what cmd did may change what some node must hold: services and
 * nodes (roles, labels) decide placements, and a secret's new value goes
 * to the nodes of the services granting it.  A new secret is granted by
 * nothing yet, and a granted secret cannot be removed, so creating and
 * removing secrets change nothing there: they must not make every node
 * ask again, or each write would cost a walk of every placement.
 */
static bool
changes_placements(struct store *s, const struct wire_msg *cmd, const char *ids)
{
	switch (cmd->hdr.type) {
	case CMD_TOKEN_ROTATE:
	case CMD_CLUSTER_UPDATE:
	case CMD_SECRET_CREATE:
	case CMD_SECRET_RM:
	case CMD_BACKUP_MARK:
		return false;
	case CMD_SECRET_UPDATE:
		return store_secret_users(s, ids, NULL, 0) > 0;
	default:
		return true;
	}
}

static int apply_store_load(struct store *s, const struct wire_msg *cmd, char *why,
    size_t whylen);

int
store_apply(struct store *s, const struct wire_msg *cmd, unsigned *changed)
{
	const uint8_t *req_id;
	size_t len;
	char why[1024] = "", *ids;
	size_t idslen = (size_t)(HUSH_ID_LEN + 1) * 512;
	int code, r;

	*changed = 0;
	if (wire_get_bytes(cmd, T_REQ_ID, &req_id, &len) != 0 || len != 16)
		return 0;	/* cannot happen after validation; ignore */
	if (store_outcome(s, req_id) != NULL)
		return 0;	/* the same request committed twice: apply once */
	if ((ids = calloc(1, idslen)) == NULL)
		return HUSH_E_NOMEM;
	switch (cmd->hdr.type) {
	case CMD_CLUSTER_INIT:
		code = apply_cluster_init(s, cmd, why, sizeof(why));
		*changed = code == 0 ? STORE_CHG_CLUSTER | STORE_CHG_NODES : 0;
		break;
	case CMD_TOKEN_ROTATE:
		code = apply_token_rotate(s, cmd);
		*changed = code == 0 ? STORE_CHG_CLUSTER : 0;
		break;
	case CMD_SECRET_CREATE:
		code = apply_secret_create(s, cmd, ids, idslen, why, sizeof(why));
		break;
	case CMD_SECRET_RM:
		code = apply_secret_rm(s, cmd, ids, idslen, why, sizeof(why));
		break;
	case CMD_CLUSTER_UPDATE:
		code = apply_cluster_update(s, cmd, why, sizeof(why));
		*changed = code == 0 ? STORE_CHG_CLUSTER : 0;
		break;
	case CMD_SECRET_UPDATE:
		code = apply_secret_update(s, cmd, ids, idslen, why, sizeof(why));
		break;
	case CMD_SERVICE_CREATE:
	case CMD_SERVICE_UPDATE:
	case CMD_SERVICE_RM:
		code = s->cluster.present ? store_service_apply(s, cmd, ids, idslen, why,
		    sizeof(why)) : HUSH_E_NOTINIT;
		break;
	case CMD_NODE_ADD:
	case CMD_NODE_UPDATE:
	case CMD_NODE_REMOVE:
		code = s->cluster.present ? store_node_apply(s, cmd, why, sizeof(why)) :
		    HUSH_E_NOTINIT;
		*changed = code == 0 ? STORE_CHG_NODES : 0;
		break;
	case CMD_FORCE_NEW_CLUSTER:
		code = s->cluster.present ? store_node_force_new(s, cmd, ids, idslen, why,
		    sizeof(why)) : HUSH_E_NOTINIT;
		*changed = code == 0 ? STORE_CHG_NODES : 0;
		break;
	case CMD_STORE_LOAD:
		code = apply_store_load(s, cmd, why, sizeof(why));
		/* Even a refused load may have applied records before the bad one. */
		*changed = STORE_CHG_CLUSTER | STORE_CHG_NODES;
		break;
	case CMD_BACKUP_MARK:
		code = 0;	/* its index is all it is for */
		break;
	case CMD_CA_ROTATE:
	case CMD_CA_ADVANCE:
		code = store_ca_apply(s, cmd, why, sizeof(why));
		*changed = code == 0 ? STORE_CHG_CLUSTER : 0;
		break;
	default:
		code = HUSH_E_PROTO;
		snprintf(why, sizeof(why), "unknown command type 0x%04x", cmd->hdr.type);
		break;
	}
	if (code == HUSH_E_NOMEM) {
		free(ids);
		return code;
	}
	if (code == 0 && changes_placements(s, cmd, ids))
		*changed |= STORE_CHG_ASSIGN;
	r = outcome_record(s, req_id, code, why, code == 0 ? ids : NULL);
	free(ids);
	return r;
}

void
store_put_ids(struct wire_enc *e, uint16_t tag, const char *ids)
{
	const char *p = ids, *end;

	while (p != NULL && *p != '\0') {
		if (*p == ' ') {
			p++;
			continue;
		}
		if ((end = strchr(p, ' ')) == NULL)
			end = p + strlen(p);
		wire_put_bytes(e, tag, p, (size_t)(end - p));
		p = end;
	}
}

void
store_secret_put(struct wire_enc *e, const struct store_secret *x)
{
	/* In place: a list of 100,000 records is not 100,000 encoders. */
	size_t rec = wire_put_nested_begin(e, T_SECRET);

	wire_put_str(e, T_SECRET_ID, x->id);
	wire_put_str(e, T_NAME, x->name);
	wire_put_i64(e, T_CREATED, x->created);
	wire_put_i64(e, T_UPDATED, x->updated);
	wire_put_u32(e, T_VERSION, x->version);
	wire_put_u32(e, T_DATA_LEN, (uint32_t)x->data_len);
	for (size_t i = 0; i < x->nlabels; i++)
		wire_put_str(e, T_LABEL, x->labels[i]);
	wire_put_nested_end(e, rec, 8192 - WIRE_HDR_LEN);
}

static void
put_cluster(struct wire_enc *e, const struct store_cluster *c)
{
	wire_put_str(e, T_CLUSTER_ID, c->id);
	wire_put_str(e, T_CA_CERT, c->ca_cert);
	if (c->ca_key.len > 0)
		wire_put_bytes(e, T_CA_KEY, c->ca_key.p, c->ca_key.len);
	if (c->extca_url != NULL)
		wire_put_str(e, T_EXTCA_URL, c->extca_url);
	if (c->extca_cacert != NULL)
		wire_put_str(e, T_EXTCA_CACERT, c->extca_cacert);
	wire_put_bytes(e, T_WORKER_SECRET, c->tokens.p, 16);
	wire_put_bytes(e, T_MANAGER_SECRET, c->tokens.p + 16, 16);
	wire_put_u64(e, T_CERT_EXPIRY, c->cert_expiry);
	wire_put_bool(e, T_AUTOLOCK, c->autolock);
	if (c->autolock)
		wire_put_bytes(e, T_KEK, c->kek.p, c->kek.len);
	wire_put_str(e, T_ADVERTISE_ADDR, c->advertise);
	wire_put_i64(e, T_CREATED, c->created);
	store_ca_put(e, &c->rotation);
}

void
store_cluster_event(const struct store *s, struct wire_enc *e)
{
	wire_put_u16(e, T_EVENT, EV_APPLIED_CLUSTER);
	wire_put_bool(e, T_AUTOLOCK, s->cluster.autolock);
	if (s->cluster.autolock)
		wire_put_bytes(e, T_KEK, s->cluster.kek.p, s->cluster.kek.len);
	wire_put_u64(e, T_CERT_EXPIRY, s->cluster.cert_expiry);
}

int
store_query(struct store *s, const struct wire_msg *q, struct wire_enc *e)
{
	uint32_t id = q->hdr.request_id;

	switch (q->hdr.type) {
	case QRY_CLUSTER:
		wire_enc_init(e, q->hdr.type | MSG_REPLY, id, WIRE_MAX_MSG - 1024);
		if (!s->cluster.present)
			break;
		put_cluster(e, &s->cluster);
		return e->err;
	case QRY_SECRET_LIST:
	case QRY_NODE_LIST:
	case QRY_SERVICE_LIST:
	case QRY_SECRET_GET:
	case QRY_NODE_GET:
	case QRY_SERVICE_GET:
		return store_page(s, q, e);
	case QRY_ASSIGNMENTS:
		wire_enc_init(e, q->hdr.type | MSG_REPLY, id, WIRE_MAX_MSG - 1024);
		return store_assignments(s, q, e);
	default:
		wire_enc_init(e, q->hdr.type | MSG_REPLY, id, 64);
		wire_enc_free(e);
		return msg_error_reply(e, id, HUSH_E_PROTO, "unknown query");
	}
	wire_enc_free(e);
	return msg_error_reply(e, id, HUSH_E_NOTINIT, NULL);
}

/*
 * Snapshot plaintext: a run of complete wire messages, header first, in
 * one buffer with `tail` spare bytes always kept at its end (see
 * store_snapshot_room()).
 */
struct growbuf {
	uint8_t	*p;
	size_t	 len, cap, tail;
};

/* Room for more bytes, tail included. */
static int
grow_reserve(struct growbuf *g, size_t more)
{
	size_t ncap;
	uint8_t *n;

	if (g->len + more + g->tail <= g->cap)
		return 0;
	ncap = g->cap ? g->cap * 2 : 65536;
	while (ncap < g->len + more + g->tail)
		ncap *= 2;
	/* Never realloc: the old block holds secret values and is wiped. */
	if ((n = malloc(ncap)) == NULL)
		return HUSH_E_NOMEM;
	if (g->p != NULL) {
		memcpy(n, g->p, g->len);
		sodium_memzero(g->p, g->len);
		free(g->p);
	}
	g->p = n;
	g->cap = ncap;
	return 0;
}

static int
grow_append(struct growbuf *g, struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;
	int r;

	if ((r = wire_enc_finish(e, &buf, &len)) != 0 || (r = grow_reserve(g, len)) != 0)
		return r;
	memcpy(g->p + g->len, buf, len);
	g->len += len;
	return 0;
}

/*
 * A value goes into a snapshot as it is held, sealed under the memory key
 * (the snapshot as a whole is sealed again, with the DEK): opening and
 * copying each one was most of a snapshot's time, with the raft loop
 * standing still.
 */
static int
snap_secret(struct growbuf *g, const struct store_secret *x)
{
	struct wire_enc e;
	int r;

	wire_enc_init(&e, SNAP_SECRET, 0, WIRE_MAX_MSG);
	wire_put_str(&e, T_SECRET_ID, x->id);
	wire_put_str(&e, T_NAME, x->name);
	wire_put_i64(&e, T_CREATED, x->created);
	wire_put_i64(&e, T_UPDATED, x->updated);
	wire_put_u32(&e, T_VERSION, x->version);
	for (size_t i = 0; i < x->nlabels; i++)
		wire_put_str(&e, T_LABEL, x->labels[i]);
	wire_put_bytes(&e, T_SEALED, x->sealed, x->sealed_len);
	r = grow_append(g, &e);
	wire_enc_free(&e);
	return r;
}

/*
 * What the secrets take in a snapshot, near enough to size its buffer
 * once: growing it by doubling copied and page-faulted it three times
 * over, at 100,000 secrets a third of a snapshot's time.
 */
static size_t
secrets_snap_bytes(const struct store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nsecrets; i++) {
		const struct store_secret *x = &s->secrets[i];

		/* header, six fields (id, name, created, updated, version, data) */
		n += WIRE_HDR_LEN + 6 * WIRE_FIELD_HDR_LEN + HUSH_ID_LEN + strlen(x->name) +
		    8 + 8 + 4 + x->sealed_len;
		for (size_t j = 0; j < x->nlabels; j++)
			n += WIRE_FIELD_HDR_LEN + strlen(x->labels[j]);
	}
	return n;
}

int
store_snapshot(struct store *s, uint8_t **buf, size_t *len)
{
	return store_snapshot_room(s, 0, 0, buf, len);
}

int
store_snapshot_room(struct store *s, size_t head, size_t tail, uint8_t **buf, size_t *len)
{
	struct growbuf g = { NULL, head, 0, tail };
	struct wire_enc e;
	int r;

	/* The rest (nodes, services, outcomes) grows it if it must. */
	if ((r = grow_reserve(&g, secrets_snap_bytes(s) + 256 * 1024)) != 0)
		return r;
	wire_enc_init(&e, SNAP_HEADER, 0, 64);
	wire_put_u32(&e, T_VERSION, STORE_SNAP_VERSION);
	r = grow_append(&g, &e);
	wire_enc_free(&e);
	if (r == 0 && s->cluster.present) {
		wire_enc_init(&e, SNAP_CLUSTER, 0, 65536);
		put_cluster(&e, &s->cluster);
		r = grow_append(&g, &e);
		wire_enc_free(&e);
	}
	for (size_t i = 0; r == 0 && i < s->nnodes; i++) {
		struct wire_enc ne;

		wire_enc_init(&ne, SNAP_NODE, 0, 8192);
		store_node_put(&ne, 0, &s->nodes[i], SNAP_NODE);
		r = grow_append(&g, &ne);
		wire_enc_free(&ne);
	}
	for (size_t i = 0; r == 0 && i < s->nsecrets; i++)
		r = snap_secret(&g, &s->secrets[i]);
	/* After the secrets: restoring a service checks that its secrets exist. */
	for (size_t i = 0; r == 0 && i < s->nservices; i++) {
		wire_enc_init(&e, SNAP_SERVICE, 0, HUSH_SERVICE_RECORD_MAX + 1024);
		store_service_put(s, &e, 0, &s->services[i]);
		r = grow_append(&g, &e);
		wire_enc_free(&e);
	}
	for (size_t k = 0; r == 0 && k < s->dedup_count; k++) {
		/* Oldest first, so the ring comes back in the same order. */
		size_t i = (s->dedup_next + STORE_DEDUP_MAX - s->dedup_count + k) % STORE_DEDUP_MAX;
		const struct store_outcome *o = &s->dedup[i];

		wire_enc_init(&e, SNAP_DEDUP, 0, 65536);
		wire_put_bytes(&e, T_REQ_ID, o->req_id, 16);
		wire_put_u32(&e, T_ERRCODE, (uint32_t)-o->code);
		if (o->errmsg != NULL)
			wire_put_str(&e, T_ERRMSG, o->errmsg);
		store_put_ids(&e, T_SECRET_ID, o->ids);
		r = grow_append(&g, &e);
		wire_enc_free(&e);
	}
	if (r != 0) {
		if (g.p != NULL) {
			sodium_memzero(g.p, g.len);
			free(g.p);
		}
		return r;
	}
	*buf = g.p;
	*len = g.len - head;
	return 0;
}

static int
restore_cluster(struct store *s, const struct wire_msg *m)
{
	struct store_cluster *c = &s->cluster;
	const struct wire_field *cert = wire_find(m, T_CA_CERT, 0);
	const uint8_t *p;
	size_t len;
	int r;

	if (c->present || cert == NULL)
		return HUSH_E_CORRUPT;
	if (wire_get_str(m, T_CLUSTER_ID, c->id, sizeof(c->id)) != 0 ||
	    wire_get_str(m, T_ADVERTISE_ADDR, c->advertise, sizeof(c->advertise)) != 0 ||
	    wire_get_u64(m, T_CERT_EXPIRY, &c->cert_expiry) != 0 ||
	    wire_get_bool(m, T_AUTOLOCK, &c->autolock) != 0 ||
	    wire_get_i64(m, T_CREATED, &c->created) != 0)
		return HUSH_E_CORRUPT;
	if ((c->ca_cert = malloc(cert->len + 1)) == NULL)
		return HUSH_E_NOMEM;
	memcpy(c->ca_cert, cert->val, cert->len);
	c->ca_cert[cert->len] = '\0';
	if ((r = get_ca_key_or_extca(m, c)) != 0)
		return r == HUSH_E_PROTO ? HUSH_E_CORRUPT : r;
	if ((r = secbuf_alloc(&c->tokens, 32)) != 0)
		return r;
	if (wire_get_bytes(m, T_WORKER_SECRET, &p, &len) != 0)
		return HUSH_E_CORRUPT;
	memcpy(c->tokens.p, p, 16);
	if (wire_get_bytes(m, T_MANAGER_SECRET, &p, &len) != 0)
		return HUSH_E_CORRUPT;
	memcpy(c->tokens.p + 16, p, 16);
	if (c->autolock != (wire_find(m, T_KEK, 0) != NULL))
		return HUSH_E_CORRUPT;
	if (c->autolock && (r = get_secbuf(m, T_KEK, &c->kek)) != 0)
		return r;
	if ((r = store_ca_restore(&c->rotation, m)) != 0)
		return r;
	c->present = true;
	return 0;
}

/*
 * Version 3 carries the value sealed under the memory key, which every
 * manager derives from the DEK (store_use_key()): checked to open (into
 * check, a buffer for the largest value, reused), then kept as it is.
 * Earlier versions carry it in clear, sealed here.
 */
static int
restore_secret(struct store *s, const struct wire_msg *m, uint32_t version,
    struct secbuf *check)
{
	struct store_secret x;
	const uint8_t *data;
	size_t len, outlen;
	char why[256];
	int r;

	memset(&x, 0, sizeof(x));
	if (wire_get_str(m, T_SECRET_ID, x.id, sizeof(x.id)) != 0 ||
	    wire_get_str(m, T_NAME, x.name, sizeof(x.name)) != 0 ||
	    wire_get_i64(m, T_CREATED, &x.created) != 0 ||
	    wire_get_i64(m, T_UPDATED, &x.updated) != 0 ||
	    wire_get_u32(m, T_VERSION, &x.version) != 0 ||
	    wire_get_bytes(m, version >= 3 ? T_SEALED : T_DATA, &data, &len) != 0)
		return HUSH_E_CORRUPT;
	if (store_secret_find(s, x.id) != NULL || store_secret_find(s, x.name) != NULL)
		return HUSH_E_CORRUPT;
	if ((r = copy_labels(m, &x, why, sizeof(why))) != 0) {
		secret_free(&x);
		return r == HUSH_E_INVAL ? HUSH_E_CORRUPT : r;
	}
	if (version >= 3) {
		if (len < SEAL_OVERHEAD + 1 || len - SEAL_OVERHEAD > check->len ||
		    seal_open(s->memkey, SECRET_PURPOSE, data, len, check->p, check->len,
		    &outlen) != 0) {
			secret_free(&x);
			return HUSH_E_CORRUPT;
		}
		sodium_memzero(check->p, outlen);
		if ((x.sealed = malloc(len)) == NULL) {
			secret_free(&x);
			return HUSH_E_NOMEM;
		}
		memcpy(x.sealed, data, len);
		x.sealed_len = len;
		x.data_len = outlen;
	} else if ((r = seal_value(s, &x, data, len)) != 0) {
		secret_free(&x);
		return r;
	}
	if ((r = add_secret(s, &x)) != 0) {
		secret_free(&x);
		return r;
	}
	return 0;
}

static int
restore_dedup(struct store *s, const struct wire_msg *m)
{
	char ids[(HUSH_ID_LEN + 1) * 512], id[HUSH_ID_LEN + 1], errmsg[1025];
	const uint8_t *req_id;
	size_t len, o = 0;
	uint32_t code;

	if (wire_get_bytes(m, T_REQ_ID, &req_id, &len) != 0 ||
	    wire_get_u32(m, T_ERRCODE, &code) != 0)
		return HUSH_E_CORRUPT;
	ids[0] = '\0';
	for (size_t i = 0; i < wire_count(m, T_SECRET_ID) && i < 512; i++) {
		const struct wire_field *f = wire_find(m, T_SECRET_ID, i);

		memcpy(id, f->val, f->len);
		id[f->len] = '\0';
		if (!hush_id_valid(id))
			return HUSH_E_CORRUPT;
		o += (size_t)snprintf(ids + o, sizeof(ids) - o, "%s%s", o ? " " : "", id);
	}
	if (wire_get_str(m, T_ERRMSG, errmsg, sizeof(errmsg)) != 0)
		errmsg[0] = '\0';
	return outcome_record(s, req_id, hush_err_from_wire(code), errmsg, ids);
}

/* The whole message at *off in buf, one of types, parsed into m; *off moves past it. */
static int
next_record(const uint8_t *buf, size_t len, size_t *off, const uint16_t *types,
    struct wire_msg *m, char *why, size_t whylen)
{
	struct wire_hdr hdr;
	size_t mlen;
	int r;

	if ((r = wire_peek_hdr(buf + *off, len - *off, &hdr)) != 0)
		return r;
	mlen = (size_t)WIRE_HDR_LEN + hdr.length;
	if (mlen > len - *off)
		return HUSH_E_TRUNCATED;
	if ((r = msg_parse(buf + *off, mlen, WIRE_MAX_MSG, types, m, why, whylen)) != 0)
		return r;
	*off += mlen;
	return 0;
}

/* One snapshot record after the header, of snapshot version `version`. */
static int
restore_record(struct store *s, const struct wire_msg *m, uint32_t version,
    struct secbuf *check)
{
	int r = 0;

	switch (m->hdr.type) {
	case SNAP_CLUSTER:
		return restore_cluster(s, m);
	case SNAP_SECRET:
		if (version >= 3 && check->p == NULL && (r = secbuf_alloc(check,
		    HUSH_SECRET_MAX)) != 0)
			return r;
		return restore_secret(s, m, version, check);
	case SNAP_NODE:
		return store_node_restore(s, m);
	case SNAP_SERVICE:
		return version >= 2 ? store_service_restore(s, m) : HUSH_E_CORRUPT;
	case SNAP_DEDUP:
		return restore_dedup(s, m);
	default:
		return HUSH_E_CORRUPT;
	}
}

/*
 * CMD_STORE_LOAD: a backup's records, loaded a command at a time (a
 * command is far smaller than a store) into a store that holds no cluster
 * yet (the first, T_BOOTSTRAP) or is being loaded.  The parent has read
 * the whole backup and checked every record before it proposes the first
 * one; a record refused here still leaves the ones before it applied, the
 * same on every replica, and the restore that proposed it fails.
 */
static int
apply_store_load(struct store *s, const struct wire_msg *cmd, char *why, size_t whylen)
{
	static const uint16_t snap_types[] = { SNAP_CLUSTER, SNAP_NODE, SNAP_SECRET,
	    SNAP_DEDUP, SNAP_SERVICE, 0 };
	struct secbuf check = SECBUF_INIT;
	struct wire_msg *m;
	const uint8_t *buf;
	size_t len, off = 0, n = 0;
	uint32_t version;
	bool first;
	int r = 0;

	if (wire_get_u32(cmd, T_VERSION, &version) != 0 ||
	    wire_get_bool(cmd, T_BOOTSTRAP, &first) != 0 ||
	    wire_get_bytes(cmd, T_RECORDS, &buf, &len) != 0)
		return HUSH_E_PROTO;
	if (version < STORE_SNAP_VERSION_MIN || version > STORE_SNAP_VERSION) {
		snprintf(why, whylen, "records of snapshot version %u: this hush reads "
		    "versions %u to %u", version, STORE_SNAP_VERSION_MIN, STORE_SNAP_VERSION);
		return HUSH_E_VERSION;
	}
	if (first == s->cluster.present) {
		snprintf(why, whylen, first ? "the store already holds a cluster: a backup "
		    "loads only into an empty one" : "no backup is being loaded");
		return first ? HUSH_E_EXISTS : HUSH_E_INVAL;
	}
	if ((m = malloc(sizeof(*m))) == NULL)
		return HUSH_E_NOMEM;
	while (r == 0 && off < len) {
		if ((r = next_record(buf, len, &off, snap_types, m, why, whylen)) != 0)
			break;
		/* The cluster comes first: what follows is checked against it. */
		if (++n == 1 && first && m->hdr.type != SNAP_CLUSTER) {
			r = HUSH_E_CORRUPT;
			break;
		}
		r = restore_record(s, m, version, &check);
	}
	free(m);
	secbuf_free(&check);
	if (r != 0 && why[0] == '\0')
		snprintf(why, whylen, "record %zu of the backup's load at byte %zu: %s", n,
		    off, hush_strerror(r));
	return r == HUSH_E_NOMEM ? r : (r != 0 ? HUSH_E_CORRUPT : 0);
}

/* How many SNAP_SECRET records buf holds, by their headers alone. */
static size_t
count_secrets(const uint8_t *buf, size_t len)
{
	struct wire_hdr hdr;
	size_t off = 0, n = 0;

	while (off < len && wire_peek_hdr(buf + off, len - off, &hdr) == 0 &&
	    hdr.length <= len - off - WIRE_HDR_LEN) {
		if (hdr.type == SNAP_SECRET)
			n++;
		off += (size_t)WIRE_HDR_LEN + hdr.length;
	}
	return n;
}

int
store_restore(struct store *s, const uint8_t *buf, size_t len)
{
	static const uint16_t snap_types[] = { SNAP_HEADER, SNAP_CLUSTER, SNAP_NODE,
	    SNAP_SECRET, SNAP_DEDUP, SNAP_SERVICE, 0 };
	struct wire_msg *m;
	size_t off = 0;
	uint32_t version = 0;
	struct secbuf check = SECBUF_INIT;
	char why[256];
	bool first = true;
	int r = 0;

	if ((m = malloc(sizeof(*m))) == NULL)
		return HUSH_E_NOMEM;
	store_reset(s);
	if ((r = reserve_secrets(s, count_secrets(buf, len))) != 0) {
		free(m);
		return r;
	}
	while (r == 0 && off < len) {
		if ((r = next_record(buf, len, &off, snap_types, m, why, sizeof(why))) != 0)
			break;
		if (first != (m->hdr.type == SNAP_HEADER)) {
			r = HUSH_E_CORRUPT;
			break;
		}
		if (m->hdr.type == SNAP_HEADER) {
			first = false;
			if (wire_get_u32(m, T_VERSION, &version) != 0 ||
			    version < STORE_SNAP_VERSION_MIN || version > STORE_SNAP_VERSION)
				r = HUSH_E_VERSION;
		} else {
			r = restore_record(s, m, version, &check);
		}
	}
	free(m);
	secbuf_free(&check);
	if (r == 0 && first)
		r = HUSH_E_CORRUPT;
	if (r != 0)
		store_reset(s);
	return r == HUSH_E_NOMEM ? r : (r != 0 ? HUSH_E_CORRUPT : 0);
}
