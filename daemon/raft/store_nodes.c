/*
 * The nodes of the cluster, as replicated state.  What is live (reachable,
 * leader) is not here: each manager knows that for itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "msg.h"
#include "names.h"
#include "store.h"

static void
labels_free(char **labels, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
}

void
store_nodes_free(struct store *s)
{
	for (size_t i = 0; i < s->nnodes; i++)
		labels_free(s->nodes[i].labels, s->nodes[i].nlabels);
	free(s->nodes);
	s->nodes = NULL;
	s->nnodes = s->capnodes = 0;
}

/* The index of key's label in labels[0..n), or n. */
static size_t
label_index(char *const *labels, size_t n, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < n; i++)
		if (strncmp(labels[i], key, klen) == 0 && labels[i][klen] == '=')
			return i;
	return n;
}

/*
 * The node's labels after m's T_LABEL_RM (removals, each key must be set)
 * and T_LABEL (additions, replacing a label of the same key), built aside
 * so that a refused command changes nothing.  restoring: m is a snapshot
 * record, whose labels are the node's whole set.
 */
static int
labels_build(const struct store_node *n, const struct wire_msg *m, bool restoring,
    char ***out, size_t *nout, char *why, size_t whylen)
{
	char key[LABEL_KEY_MAX + 1], val[LABEL_VALUE_MAX + 1];
	char kv[LABEL_KEY_MAX + LABEL_VALUE_MAX + 2];
	size_t nadd = wire_count(m, T_LABEL), nrm = wire_count(m, T_LABEL_RM);
	size_t cnt = 0, total = 0, i, j;
	char **l;
	int r = 0;

	*out = NULL;
	*nout = 0;
	if ((l = calloc(n->nlabels + nadd + 1, sizeof(*l))) == NULL)
		return HUSH_E_NOMEM;
	for (i = 0; !restoring && i < n->nlabels; i++) {
		if ((l[cnt] = strdup(n->labels[i])) == NULL) {
			r = HUSH_E_NOMEM;
			goto out;
		}
		cnt++;
	}
	for (i = 0; i < nrm; i++) {
		if (wire_field_str(wire_find(m, T_LABEL_RM, i), key, sizeof(key)) != 0) {
			r = HUSH_E_PROTO;
			goto out;
		}
		if ((j = label_index(l, cnt, key)) == cnt) {
			snprintf(why, whylen, "node %s has no label '%s'", n->id, key);
			r = HUSH_E_NOTFOUND;
			goto out;
		}
		free(l[j]);
		memmove(&l[j], &l[j + 1], (cnt - j - 1) * sizeof(*l));
		cnt--;
	}
	for (i = 0; i < nadd; i++) {
		if (wire_field_str(wire_find(m, T_LABEL, i), kv, sizeof(kv)) != 0) {
			r = HUSH_E_PROTO;
			goto out;
		}
		if (label_parse(kv, key, sizeof(key), val, sizeof(val), why, whylen) != 0) {
			r = HUSH_E_INVAL;
			goto out;
		}
		if ((j = label_index(l, cnt, key)) < cnt) {
			if (restoring) {
				r = HUSH_E_CORRUPT;
				goto out;
			}
			free(l[j]);
			memmove(&l[j], &l[j + 1], (cnt - j - 1) * sizeof(*l));
			cnt--;
		}
		if ((l[cnt] = strdup(kv)) == NULL) {
			r = HUSH_E_NOMEM;
			goto out;
		}
		cnt++;
	}
	for (i = 0; i < cnt; i++)
		total += strlen(l[i]);
	if (cnt > STORE_NODE_LABELS_MAX) {
		snprintf(why, whylen, "a node can have at most %d labels", STORE_NODE_LABELS_MAX);
		r = HUSH_E_INVAL;
	} else if (total > STORE_LABELS_MAX) {
		snprintf(why, whylen, "labels are larger than %d bytes in total", STORE_LABELS_MAX);
		r = HUSH_E_INVAL;
	}
out:
	if (r != 0) {
		labels_free(l, cnt);
		return r;
	}
	*out = l;
	*nout = cnt;
	return 0;
}

struct store_node *
store_node_find(struct store *s, const char *ref)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i].id, ref) == 0)
			return &s->nodes[i];
	return NULL;
}

size_t
store_node_managers(const struct store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nnodes; i++)
		if (!s->nodes[i].removed && s->nodes[i].role == ROLE_MANAGER)
			n++;
	return n;
}

int
store_node_add(struct store *s, const char *id, uint8_t role, const char *addr,
    int64_t created, char *why, size_t whylen)
{
	struct store_node *n;

	if (!hush_id_valid(id) || (role != ROLE_MANAGER && role != ROLE_WORKER) ||
	    strlen(addr) >= sizeof(n->addr)) {
		snprintf(why, whylen, "malformed node record");
		return HUSH_E_INVAL;
	}
	if ((n = store_node_find(s, id)) != NULL) {
		snprintf(why, whylen, n->removed ? "node %s was removed from the cluster" :
		    "node %s is already a member", id);
		return n->removed ? HUSH_E_PERM : HUSH_E_EXISTS;
	}
	if (s->nnodes == s->capnodes) {
		size_t ncap = s->capnodes ? s->capnodes * 2 : 16;
		struct store_node *nn = reallocarray(s->nodes, ncap, sizeof(*nn));

		if (nn == NULL)
			return HUSH_E_NOMEM;
		s->nodes = nn;
		s->capnodes = ncap;
	}
	n = &s->nodes[s->nnodes++];
	memset(n, 0, sizeof(*n));
	snprintf(n->id, sizeof(n->id), "%s", id);
	n->role = role;
	snprintf(n->addr, sizeof(n->addr), "%s", addr);
	snprintf(n->availability, sizeof(n->availability), "active");
	n->created = created;
	return 0;
}

void
store_node_take_seal(struct store_node *n, const struct wire_msg *m)
{
	const struct wire_field *f = wire_find(m, T_SEAL_PUB, 0);

	if (f != NULL && f->len == sizeof(n->seal_pub)) {
		memcpy(n->seal_pub, f->val, sizeof(n->seal_pub));
		n->has_seal = true;
	}
}

int
store_node_apply(struct store *s, const struct wire_msg *m, char *why, size_t whylen)
{
	char id[HUSH_ID_LEN + 1], addr[263], avail[17];
	struct store_node *n;
	int64_t created;
	uint8_t role;
	int r;

	if (wire_get_str(m, T_NODE_ID, id, sizeof(id)) != 0)
		return HUSH_E_PROTO;
	if (m->hdr.type == CMD_NODE_ADD) {
		if (wire_get_u8(m, T_ROLE, &role) != 0 ||
		    wire_get_str(m, T_ADVERTISE_ADDR, addr, sizeof(addr)) != 0 ||
		    wire_get_i64(m, T_CREATED, &created) != 0)
			return HUSH_E_PROTO;
		if ((r = store_node_add(s, id, role, addr, created, why, whylen)) != 0)
			return r;
		store_node_take_seal(&s->nodes[s->nnodes - 1], m);
		return 0;
	}
	if ((n = store_node_find(s, id)) == NULL || n->removed) {
		snprintf(why, whylen, n ? "node %s was removed from the cluster" :
		    "node %s not found", id);
		return n ? HUSH_E_PERM : HUSH_E_NOTFOUND;
	}
	if (m->hdr.type == CMD_NODE_REMOVE) {
		if (n->role == ROLE_MANAGER && store_node_managers(s) == 1) {
			snprintf(why, whylen, "cannot remove %s: it is the last manager", id);
			return HUSH_E_INVAL;
		}
		n->removed = true;
		return 0;
	}
	/*
	 * A sealing key is set once, for a node that had none (a manager
	 * whose node.keys predates them): replacing one would let whoever
	 * could propose it read what is sealed to the node from then on.
	 */
	if (wire_find(m, T_SEAL_PUB, 0) != NULL) {
		if (n->has_seal) {
			snprintf(why, whylen, "node %s already has a sealing key", id);
			return HUSH_E_EXISTS;
		}
		store_node_take_seal(n, m);
		return 0;
	}
	/* CMD_NODE_UPDATE: everything is checked before anything changes. */
	if (wire_count(m, T_LABEL) + wire_count(m, T_LABEL_RM) > 0) {
		char **labels;
		size_t nlabels;

		if (wire_get_u8(m, T_ROLE, &role) == 0 ||
		    wire_find(m, T_AVAILABILITY, 0) != NULL) {
			snprintf(why, whylen, "labels change on their own, not with a role "
			    "or availability");
			return HUSH_E_INVAL;
		}
		if ((r = labels_build(n, m, false, &labels, &nlabels, why, whylen)) != 0)
			return r;
		labels_free(n->labels, n->nlabels);
		n->labels = labels;
		n->nlabels = nlabels;
		return 0;
	}
	if (wire_get_u8(m, T_ROLE, &role) == 0) {
		if (role != ROLE_MANAGER && role != ROLE_WORKER)
			return HUSH_E_PROTO;
		if (n->role == ROLE_MANAGER && role == ROLE_WORKER &&
		    store_node_managers(s) == 1) {
			snprintf(why, whylen, "cannot demote %s: it is the last manager of "
			    "the cluster", id);
			return HUSH_E_INVAL;
		}
		n->role = role;
	}
	if (wire_get_str(m, T_AVAILABILITY, avail, sizeof(avail)) == 0) {
		if (strcmp(avail, "active") != 0 && strcmp(avail, "pause") != 0 &&
		    strcmp(avail, "drain") != 0) {
			snprintf(why, whylen, "availability must be active, pause or drain");
			return HUSH_E_INVAL;
		}
		snprintf(n->availability, sizeof(n->availability), "%s", avail);
	}
	return 0;
}

/*
 * `hushctl init --force-new-cluster` and `hushctl restore`: the node
 * T_NODE_ID becomes the cluster's only manager.  Every other manager is
 * removed, as `node rm` would (its certificate refused from then on, its
 * raft membership dropped); workers stay, and reconnect by themselves.
 * A restore's node is not in the table yet: it is added, as a manager.
 * The ids removed go into ids, for the operator.
 */
int
store_node_force_new(struct store *s, const struct wire_msg *m, char *ids, size_t idslen,
    char *why, size_t whylen)
{
	char id[HUSH_ID_LEN + 1], addr[263];
	struct store_node *self;
	int64_t created;
	size_t o = 0;
	int r;

	if (wire_get_str(m, T_NODE_ID, id, sizeof(id)) != 0 ||
	    wire_get_str(m, T_ADVERTISE_ADDR, addr, sizeof(addr)) != 0 ||
	    wire_get_i64(m, T_CREATED, &created) != 0)
		return HUSH_E_PROTO;
	if ((self = store_node_find(s, id)) != NULL && self->removed) {
		snprintf(why, whylen, "node %s was removed from the cluster: it cannot "
		    "be its only manager", id);
		return HUSH_E_PERM;
	}
	if (self == NULL) {
		if ((r = store_node_add(s, id, ROLE_MANAGER, addr, created, why, whylen)) != 0)
			return r;
		self = &s->nodes[s->nnodes - 1];
		store_node_take_seal(self, m);
	}
	self->role = ROLE_MANAGER;
	snprintf(self->addr, sizeof(self->addr), "%s", addr);
	for (size_t i = 0; i < s->nnodes; i++) {
		struct store_node *n = &s->nodes[i];

		if (n == self || n->removed || n->role != ROLE_MANAGER)
			continue;
		n->removed = true;
		if (ids != NULL && o + HUSH_ID_LEN + 2 < idslen)
			o += (size_t)snprintf(ids + o, idslen - o, "%s%s", o ? " " : "", n->id);
	}
	return 0;
}

static void
put_node_fields(struct wire_enc *e, const struct store_node *n)
{
	wire_put_str(e, T_NODE_ID, n->id);
	wire_put_u8(e, T_ROLE, n->role);
	wire_put_str(e, T_ADVERTISE_ADDR, n->addr);
	wire_put_str(e, T_AVAILABILITY, n->availability);
	wire_put_i64(e, T_CREATED, n->created);
	if (n->removed)
		wire_put_str(e, T_STATUS_TEXT, "removed");
	for (size_t i = 0; i < n->nlabels; i++)
		wire_put_str(e, T_LABEL, n->labels[i]);
	if (n->has_seal)
		wire_put_bytes(e, T_SEAL_PUB, n->seal_pub, sizeof(n->seal_pub));
}

/* tag 0: the fields go straight into e; else a nested record under tag. */
void
store_node_put(struct wire_enc *e, uint16_t tag, const struct store_node *n, uint16_t rec_type)
{
	struct wire_enc rec;
	const uint8_t *buf;
	size_t len;

	if (tag == 0) {
		put_node_fields(e, n);
		return;
	}
	wire_enc_init(&rec, rec_type, 0, 8192);
	put_node_fields(&rec, n);
	if (wire_enc_finish(&rec, &buf, &len) == 0)
		wire_put_bytes(e, tag, buf + WIRE_HDR_LEN, len - WIRE_HDR_LEN);
	else if (e->err == 0)
		e->err = rec.err;
	wire_enc_free(&rec);
}

int
store_node_restore(struct store *s, const struct wire_msg *m)
{
	char id[HUSH_ID_LEN + 1], addr[263], avail[17], status[17], why[128];
	struct store_node *n;
	int64_t created;
	uint8_t role;
	int r;

	if (wire_get_str(m, T_NODE_ID, id, sizeof(id)) != 0 ||
	    wire_get_u8(m, T_ROLE, &role) != 0 ||
	    wire_get_str(m, T_ADVERTISE_ADDR, addr, sizeof(addr)) != 0 ||
	    wire_get_str(m, T_AVAILABILITY, avail, sizeof(avail)) != 0 ||
	    wire_get_i64(m, T_CREATED, &created) != 0)
		return HUSH_E_CORRUPT;
	if ((r = store_node_add(s, id, role, addr, created, why, sizeof(why))) != 0)
		return r == HUSH_E_NOMEM ? r : HUSH_E_CORRUPT;
	n = &s->nodes[s->nnodes - 1];
	snprintf(n->availability, sizeof(n->availability), "%s", avail);
	store_node_take_seal(n, m);
	if ((r = labels_build(n, m, true, &n->labels, &n->nlabels, why, sizeof(why))) != 0)
		return r == HUSH_E_NOMEM ? r : HUSH_E_CORRUPT;
	if (wire_get_str(m, T_STATUS_TEXT, status, sizeof(status)) == 0) {
		if (strcmp(status, "removed") != 0)
			return HUSH_E_CORRUPT;
		n->removed = true;
	}
	return 0;
}
