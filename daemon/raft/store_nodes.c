/*
 * The nodes of the cluster, as replicated state.  What is live (reachable,
 * leader) is not here: each manager knows that for itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "msg.h"
#include "store.h"

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

int
store_node_apply(struct store *s, const struct wire_msg *m, char *why, size_t whylen)
{
	char id[HUSH_ID_LEN + 1], addr[263], avail[17];
	struct store_node *n;
	int64_t created;
	uint8_t role;

	if (wire_get_str(m, T_NODE_ID, id, sizeof(id)) != 0)
		return HUSH_E_PROTO;
	if (m->hdr.type == CMD_NODE_ADD) {
		if (wire_get_u8(m, T_ROLE, &role) != 0 ||
		    wire_get_str(m, T_ADVERTISE_ADDR, addr, sizeof(addr)) != 0 ||
		    wire_get_i64(m, T_CREATED, &created) != 0)
			return HUSH_E_PROTO;
		return store_node_add(s, id, role, addr, created, why, whylen);
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
	/* CMD_NODE_UPDATE */
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
	wire_enc_init(&rec, rec_type, 0, 4096);
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
	if (wire_get_str(m, T_STATUS_TEXT, status, sizeof(status)) == 0) {
		if (strcmp(status, "removed") != 0)
			return HUSH_E_CORRUPT;
		n->removed = true;
	}
	return 0;
}
