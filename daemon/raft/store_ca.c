/*
 * A CA rotation in the replicated store (enum ca_phase in lib/msg.h says
 * what each phase waits for; daemon/parent/ca_rotation.c drives it).
 *
 * The store only records where the rotation stands; it checks nothing
 * about the certificates, which pki made or checked before the command was
 * proposed.  What it does hold to is the order: a rotation is named by its
 * next root's SPKI digest, and an advance names the rotation it is for, so
 * a leader that proposes "advance" for a rotation the operator has since
 * replaced changes nothing -- whichever order the two commit in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "err.h"
#include "store.h"

void
store_ca_free(struct store_rotation *r)
{
	free(r->next_cert);
	secbuf_free(&r->next_key);
	free(r->cross_cert);
	free(r->next_extca_url);
	free(r->next_extca_cacert);
	memset(r, 0, sizeof(*r));
}

/* An optional string field, copied; *out stays NULL when it is absent. */
static int
opt_str(const struct wire_msg *m, uint16_t tag, char **out)
{
	const struct wire_field *f = wire_find(m, tag, 0);

	*out = NULL;
	if (f == NULL)
		return 0;
	if ((*out = strndup((const char *)f->val, f->len)) == NULL)
		return HUSH_E_NOMEM;
	return 0;
}

/* The rotation's fields of m (a command or a snapshot record) into r. */
static int
take(struct store_rotation *r, const struct wire_msg *m, uint16_t url_tag,
    uint16_t cacert_tag, uint16_t started_tag)
{
	const uint8_t *p;
	size_t len;
	int rc;

	if (wire_get_bytes(m, T_DIGEST, &p, &len) != 0 || len != sizeof(r->digest) ||
	    wire_get_i64(m, started_tag, &r->started) != 0 ||
	    wire_find(m, T_CA_NEXT, 0) == NULL)
		return HUSH_E_PROTO;
	memcpy(r->digest, p, sizeof(r->digest));
	if ((rc = opt_str(m, T_CA_NEXT, &r->next_cert)) != 0 ||
	    (rc = opt_str(m, T_CA_CROSS, &r->cross_cert)) != 0 ||
	    (rc = opt_str(m, url_tag, &r->next_extca_url)) != 0 ||
	    (rc = opt_str(m, cacert_tag, &r->next_extca_cacert)) != 0)
		return rc;
	if (wire_get_bytes(m, T_CA_NEXT_KEY, &p, &len) == 0 &&
	    (rc = secbuf_dup(&r->next_key, p, len)) != 0)
		return rc;
	return 0;
}

static int
apply_rotate(struct store *s, const struct wire_msg *m, char *why, size_t whylen)
{
	struct store_rotation r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = take(&r, m, T_EXTCA_URL, T_EXTCA_CACERT, T_CREATED)) != 0) {
		store_ca_free(&r);
		return rc;
	}
	if (r.next_key.len == 0 && r.next_extca_url == NULL) {
		store_ca_free(&r);
		snprintf(why, whylen, "the next root has neither a key nor an external CA");
		return HUSH_E_INVAL;
	}
	/* A rotation under way is replaced: the operator asked for another root. */
	store_ca_free(&s->cluster.rotation);
	s->cluster.rotation = r;
	s->cluster.rotation.phase = CA_PHASE_TRUST;
	return 0;
}

/* The next root becomes the only one, and the join tokens change with it. */
static int
finish(struct store *s, const struct wire_msg *m, char *why, size_t whylen)
{
	struct store_cluster *c = &s->cluster;
	struct store_rotation *r = &c->rotation;
	const uint8_t *w, *mg;
	size_t wl, ml;

	if (r->phase != CA_PHASE_RENEW) {
		snprintf(why, whylen, "the rotation's nodes have not all renewed yet");
		return HUSH_E_INVAL;
	}
	if (wire_get_bytes(m, T_WORKER_SECRET, &w, &wl) != 0 ||
	    wire_get_bytes(m, T_MANAGER_SECRET, &mg, &ml) != 0) {
		snprintf(why, whylen, "a rotation ends with new join tokens");
		return HUSH_E_PROTO;
	}
	free(c->ca_cert);
	c->ca_cert = r->next_cert;
	r->next_cert = NULL;
	secbuf_free(&c->ca_key);
	c->ca_key = r->next_key;
	r->next_key = (struct secbuf)SECBUF_INIT;
	/* The root's signer comes with it: hush's pki, or the external CA that holds its key. */
	free(c->extca_url);
	free(c->extca_cacert);
	c->extca_url = r->next_extca_url;
	c->extca_cacert = r->next_extca_cacert;
	r->next_extca_url = r->next_extca_cacert = NULL;
	memcpy(c->tokens.p, w, 16);
	memcpy(c->tokens.p + 16, mg, 16);
	store_ca_free(r);
	return 0;
}

static int
apply_advance(struct store *s, const struct wire_msg *m, char *why, size_t whylen)
{
	struct store_rotation *r = &s->cluster.rotation;
	const uint8_t *d;
	size_t len;
	uint8_t phase;

	if (wire_get_bytes(m, T_DIGEST, &d, &len) != 0 || len != sizeof(r->digest) ||
	    wire_get_u8(m, T_CA_PHASE, &phase) != 0)
		return HUSH_E_PROTO;
	if (r->phase == CA_PHASE_NONE || sodium_memcmp(d, r->digest, sizeof(r->digest)) != 0) {
		snprintf(why, whylen, "that CA rotation is no longer under way");
		return HUSH_E_NOTFOUND;
	}
	switch (phase) {
	case CA_PHASE_RENEW:
		if (r->phase != CA_PHASE_TRUST) {
			snprintf(why, whylen, "the rotation is past that phase");
			return HUSH_E_INVAL;
		}
		r->phase = CA_PHASE_RENEW;
		return 0;
	case CA_PHASE_NONE:
		return finish(s, m, why, whylen);
	default:
		snprintf(why, whylen, "a rotation cannot go back to phase %u", phase);
		return HUSH_E_INVAL;
	}
}

int
store_ca_apply(struct store *s, const struct wire_msg *cmd, char *why, size_t whylen)
{
	if (!s->cluster.present)
		return HUSH_E_NOTINIT;
	if (cmd->hdr.type == CMD_CA_ROTATE)
		return apply_rotate(s, cmd, why, whylen);
	return apply_advance(s, cmd, why, whylen);
}

void
store_ca_put(struct wire_enc *e, const struct store_rotation *r)
{
	if (r->phase == CA_PHASE_NONE)
		return;
	wire_put_u8(e, T_CA_PHASE, r->phase);
	wire_put_bytes(e, T_DIGEST, r->digest, sizeof(r->digest));
	wire_put_str(e, T_CA_NEXT, r->next_cert);
	if (r->next_key.len > 0)
		wire_put_bytes(e, T_CA_NEXT_KEY, r->next_key.p, r->next_key.len);
	if (r->cross_cert != NULL)
		wire_put_str(e, T_CA_CROSS, r->cross_cert);
	if (r->next_extca_url != NULL)
		wire_put_str(e, T_NEXT_EXTCA_URL, r->next_extca_url);
	if (r->next_extca_cacert != NULL)
		wire_put_str(e, T_NEXT_EXTCA_CACERT, r->next_extca_cacert);
	wire_put_i64(e, T_UPDATED, r->started);
}

int
store_ca_restore(struct store_rotation *r, const struct wire_msg *m)
{
	uint8_t phase = CA_PHASE_NONE;
	int rc;

	memset(r, 0, sizeof(*r));
	if (wire_find(m, T_CA_PHASE, 0) == NULL)
		return 0;
	if (wire_get_u8(m, T_CA_PHASE, &phase) != 0 ||
	    (phase != CA_PHASE_TRUST && phase != CA_PHASE_RENEW))
		return HUSH_E_CORRUPT;
	if ((rc = take(r, m, T_NEXT_EXTCA_URL, T_NEXT_EXTCA_CACERT, T_UPDATED)) != 0) {
		store_ca_free(r);
		return rc == HUSH_E_PROTO ? HUSH_E_CORRUPT : rc;
	}
	r->phase = phase;
	return 0;
}
