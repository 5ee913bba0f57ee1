/*
 * Services, as replicated state: named grants of secrets with placement
 * constraints.  Everything a command carries is checked again here, because
 * this is what decides: the CLI and the parent only check early for a
 * clearer answer.  A refused command changes nothing.
 *
 * Grants arrive naming secrets by name or id (REC_GRANT) and are stored by
 * id; answers resolve the ids back to the secrets' names at query time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constraint.h"
#include "err.h"
#include "msg.h"
#include "names.h"
#include "secret_ref.h"
#include "store.h"

#define SECRETS_DIR_PREFIX "/run/secrets/"

static void
service_free(struct store_service *x)
{
	for (size_t i = 0; i < x->nconstraints; i++)
		free(x->constraints[i]);
	free(x->constraints);
	free(x->grants);
	memset(x, 0, sizeof(*x));
}

void
store_services_free(struct store *s)
{
	for (size_t i = 0; i < s->nservices; i++)
		service_free(&s->services[i]);
	free(s->services);
	s->services = NULL;
	s->nservices = s->capservices = 0;
}

struct store_service *
store_service_find(struct store *s, const char *ref)
{
	for (size_t i = 0; i < s->nservices; i++)
		if (strcmp(s->services[i].id, ref) == 0)
			return &s->services[i];
	for (size_t i = 0; i < s->nservices; i++)
		if (strcmp(s->services[i].name, ref) == 0)
			return &s->services[i];
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t
store_secret_users(struct store *s, const char *secret_id, char *out, size_t outlen)
{
	const char **names;
	size_t n = 0, o = 0;

	if (outlen > 0)
		out[0] = '\0';
	if ((names = calloc(s->nservices + 1, sizeof(*names))) == NULL)
		return s->nservices;	/* cannot list them; still refuse */
	for (size_t i = 0; i < s->nservices; i++) {
		for (size_t g = 0; g < s->services[i].ngrants; g++) {
			if (strcmp(s->services[i].grants[g].secret_id, secret_id) == 0) {
				names[n++] = s->services[i].name;
				break;
			}
		}
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", names[i]);
	free(names);
	return n;
}

/* A field of m as a C string; HUSH_E_PROTO if it does not fit. */
static int
field_str(const struct wire_field *f, char *out, size_t cap)
{
	return f != NULL && wire_field_str(f, out, cap) == 0 ? 0 : HUSH_E_PROTO;
}

/*
 * A target is a file name under /run/secrets or an absolute path; the same
 * file may be spelled both ways, so /run/secrets/X is kept as X.
 */
static int
check_target(char *target, char *why, size_t whylen)
{
	size_t plen = strlen(SECRETS_DIR_PREFIX);

	if (strncmp(target, SECRETS_DIR_PREFIX, plen) == 0)
		memmove(target, target + plen, strlen(target + plen) + 1);
	return secret_target_check(target, why, whylen) == 0 ? 0 : HUSH_E_INVAL;
}

/* Stored in canonical form, so --constraint-rm finds it however it is spelled. */
static int
check_constraint(const char *text, char *canon, size_t canonlen, char *why, size_t whylen)
{
	struct constraint c;

	if (constraint_parse(text, &c, why, whylen) != 0)
		return HUSH_E_INVAL;
	if (constraint_format(&c, canon, canonlen) != 0) {
		snprintf(why, whylen, "a constraint is too long");
		return HUSH_E_INVAL;
	}
	return 0;
}

/* The service being built or changed: checked as a whole, then swapped in. */
struct draft {
	struct store_grant	 grants[HUSH_SERVICE_GRANTS_MAX];
	size_t			 ngrants;
	char			*constraints[HUSH_SERVICE_CONSTRAINTS_MAX];
	size_t			 nconstraints;
	struct wire_msg		 rec;
	char			 text[HUSH_CONSTRAINT_MAX + 1];
};

static void
draft_free(struct draft *d)
{
	for (size_t i = 0; i < d->nconstraints; i++)
		free(d->constraints[i]);
	free(d);
}

static int
draft_from(struct draft **out, const struct store_service *x)
{
	struct draft *d;

	if ((*out = d = calloc(1, sizeof(*d))) == NULL)
		return HUSH_E_NOMEM;
	if (x == NULL)
		return 0;
	/* a service may grant nothing: no array to copy from */
	if (x->ngrants > 0)
		memcpy(d->grants, x->grants, x->ngrants * sizeof(*x->grants));
	d->ngrants = x->ngrants;
	for (size_t i = 0; i < x->nconstraints; i++) {
		if ((d->constraints[i] = strdup(x->constraints[i])) == NULL)
			return HUSH_E_NOMEM;
		d->nconstraints++;
	}
	return 0;
}

/* One nested grant (REC_GRANT or, from a snapshot, REC_SERVICE_GRANT) into g. */
static int
grant_parse(struct store *s, struct draft *d, const struct wire_field *f, uint16_t rec_type,
    struct store_grant *g, char *why, size_t whylen)
{
	char ref[65];
	struct store_secret *x;
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = msg_parse_record(f->val, f->len, rec_type, &d->rec, why, whylen)) != 0)
		return r == HUSH_E_NOMEM ? r : HUSH_E_PROTO;
	if (field_str(wire_find(&d->rec, T_TARGET, 0), g->target, sizeof(g->target)) != 0 ||
	    wire_get_u32(&d->rec, T_UID, &g->uid) != 0 ||
	    wire_get_u32(&d->rec, T_GID, &g->gid) != 0 ||
	    wire_get_u32(&d->rec, T_MODE, &g->mode) != 0)
		return HUSH_E_PROTO;
	if (rec_type == REC_SERVICE_GRANT) {
		if (field_str(wire_find(&d->rec, T_SECRET_ID, 0), g->secret_id,
		    sizeof(g->secret_id)) != 0)
			return HUSH_E_PROTO;
	} else {
		if (field_str(wire_find(&d->rec, T_REF, 0), ref, sizeof(ref)) != 0)
			return HUSH_E_PROTO;
		if ((x = store_secret_find(s, ref)) == NULL) {
			snprintf(why, whylen, "secret '%s' not found", ref);
			return HUSH_E_NOTFOUND;
		}
		memcpy(g->secret_id, x->id, sizeof(g->secret_id));
	}
	if ((r = check_target(g->target, why, whylen)) != 0)
		return r;
	if (g->mode > 0777) {
		snprintf(why, whylen, "mode %o of '%s' has more than permission bits", g->mode,
		    g->target);
		return HUSH_E_INVAL;
	}
	if (g->uid == UINT32_MAX || g->gid == UINT32_MAX) {
		snprintf(why, whylen, "uid and gid of '%s' must be below 4294967295", g->target);
		return HUSH_E_INVAL;
	}
	return 0;
}

static int
draft_add_grant(struct draft *d, const struct store_grant *g, char *why, size_t whylen)
{
	for (size_t i = 0; i < d->ngrants; i++) {
		if (strcmp(d->grants[i].target, g->target) == 0) {
			snprintf(why, whylen, "target '%s' is used twice", g->target);
			return HUSH_E_INVAL;
		}
	}
	if (d->ngrants == HUSH_SERVICE_GRANTS_MAX) {
		snprintf(why, whylen, "a service can grant at most %d secrets",
		    HUSH_SERVICE_GRANTS_MAX);
		return HUSH_E_INVAL;
	}
	d->grants[d->ngrants++] = *g;
	return 0;
}

static int
draft_add_grants(struct store *s, struct draft *d, const struct wire_msg *m, uint16_t rec_type,
    char *why, size_t whylen)
{
	struct store_grant g;
	int r;

	for (size_t i = 0; i < wire_count(m, T_GRANT); i++) {
		if ((r = grant_parse(s, d, wire_find(m, T_GRANT, i), rec_type, &g, why,
		    whylen)) != 0 ||
		    (r = draft_add_grant(d, &g, why, whylen)) != 0)
			return r;
	}
	return 0;
}

/* A constraint already set is not added again (docker does the same). */
static int
draft_add_constraints(struct draft *d, const struct wire_msg *m, char *why, size_t whylen)
{
	char canon[HUSH_CONSTRAINT_MAX + 1];
	size_t i, j;
	int r;

	for (i = 0; i < wire_count(m, T_CONSTRAINT); i++) {
		if (field_str(wire_find(m, T_CONSTRAINT, i), d->text, sizeof(d->text)) != 0)
			return HUSH_E_PROTO;
		if ((r = check_constraint(d->text, canon, sizeof(canon), why, whylen)) != 0)
			return r;
		for (j = 0; j < d->nconstraints; j++)
			if (strcmp(d->constraints[j], canon) == 0)
				break;
		if (j < d->nconstraints)
			continue;
		if (d->nconstraints == HUSH_SERVICE_CONSTRAINTS_MAX) {
			snprintf(why, whylen, "a service can have at most %d constraints",
			    HUSH_SERVICE_CONSTRAINTS_MAX);
			return HUSH_E_INVAL;
		}
		if ((d->constraints[d->nconstraints] = strdup(canon)) == NULL)
			return HUSH_E_NOMEM;
		d->nconstraints++;
	}
	return 0;
}

/* The draft's grants and constraints replace x's. */
static int
draft_commit(struct draft *d, struct store_service *x)
{
	struct store_grant *g = NULL;
	char **c = NULL;

	if ((d->ngrants > 0 && (g = calloc(d->ngrants, sizeof(*g))) == NULL) ||
	    (d->nconstraints > 0 && (c = calloc(d->nconstraints, sizeof(*c))) == NULL)) {
		free(g);
		return HUSH_E_NOMEM;
	}
	for (size_t i = 0; i < x->nconstraints; i++)
		free(x->constraints[i]);
	free(x->constraints);
	free(x->grants);
	if (d->ngrants > 0)
		memcpy(g, d->grants, d->ngrants * sizeof(*g));
	x->grants = g;
	x->ngrants = d->ngrants;
	if (d->nconstraints > 0)
		memcpy(c, d->constraints, d->nconstraints * sizeof(*c));
	x->constraints = c;
	x->nconstraints = d->nconstraints;
	d->nconstraints = 0;	/* the strings now belong to x */
	return 0;
}

static int
add_service(struct store *s, struct store_service *x)
{
	if (s->nservices == s->capservices) {
		size_t ncap = s->capservices ? s->capservices * 2 : 16;
		struct store_service *n = reallocarray(s->services, ncap, sizeof(*n));

		if (n == NULL)
			return HUSH_E_NOMEM;
		s->services = n;
		s->capservices = ncap;
	}
	s->services[s->nservices++] = *x;
	memset(x, 0, sizeof(*x));
	return 0;
}

/* Name and id of a new service (from a command or a snapshot) are free and well formed. */
static int
check_new(struct store *s, const struct store_service *x, char *why, size_t whylen)
{
	if (secret_name_check(x->name, strlen(x->name), why, whylen) != 0)
		return HUSH_E_INVAL;
	if (!hush_id_valid(x->id)) {
		snprintf(why, whylen, "malformed service id");
		return HUSH_E_INVAL;
	}
	if (store_service_find(s, x->name) != NULL) {
		snprintf(why, whylen, "service '%s' already exists", x->name);
		return HUSH_E_EXISTS;
	}
	if (store_service_find(s, x->id) != NULL) {
		snprintf(why, whylen, "service id %s already exists", x->id);
		return HUSH_E_EXISTS;
	}
	return 0;
}

static int
apply_create(struct store *s, const struct wire_msg *m, char *ids, size_t idslen,
    char *why, size_t whylen)
{
	struct store_service x;
	struct draft *d;
	int r;

	memset(&x, 0, sizeof(x));
	if (field_str(wire_find(m, T_SERVICE_ID, 0), x.id, sizeof(x.id)) != 0 ||
	    field_str(wire_find(m, T_NAME, 0), x.name, sizeof(x.name)) != 0 ||
	    wire_get_i64(m, T_CREATED, &x.created) != 0)
		return HUSH_E_PROTO;
	if ((r = check_new(s, &x, why, whylen)) != 0)
		return r;
	x.updated = x.created;
	x.version = 1;
	if ((r = draft_from(&d, NULL)) != 0)
		return r;
	if ((r = draft_add_grants(s, d, m, REC_GRANT, why, whylen)) == 0 &&
	    (r = draft_add_constraints(d, m, why, whylen)) == 0 &&
	    (r = draft_commit(d, &x)) == 0 &&
	    (r = add_service(s, &x)) == 0)
		snprintf(ids, idslen, "%s", s->services[s->nservices - 1].id);
	service_free(&x);
	draft_free(d);
	return r;
}

/*
 * A new claim digest in an update (hushctl service claim), into *digest;
 * NULL when the update brings none.  A service that has a claim keeps it
 * unless the command says T_ROTATE: two operators issuing claims at once
 * must not silently cut off the containers of the one who came first.
 */
static int
take_claim(const struct wire_msg *m, const struct store_service *x,
    const uint8_t **digest, char *why, size_t whylen)
{
	const struct wire_field *f = wire_find(m, T_CLAIM_DIGEST, 0);
	bool rotate = false;

	*digest = NULL;
	if (f == NULL)
		return 0;
	if (f->len != sizeof(x->claim_digest))
		return HUSH_E_PROTO;
	(void)wire_get_bool(m, T_ROTATE, &rotate);
	if (x->has_claim && !rotate) {
		snprintf(why, whylen, "service '%s' already has a claim; --rotate "
		    "replaces it (new containers then need the new one)", x->name);
		return HUSH_E_EXISTS;
	}
	*digest = f->val;
	return 0;
}

/*
 * Removals first, then additions, so one update can move a secret to
 * another target: --secret-rm db --secret-add db,target=new.
 */
static int
apply_update(struct store *s, const struct wire_msg *m, char *ids, size_t idslen,
    char *why, size_t whylen)
{
	struct store_service *x;
	struct store_secret *sec;
	struct draft *d = NULL;
	const uint8_t *claim = NULL;
	char ref[65];
	int64_t updated;
	size_t i, j, w, before;
	int r;

	if (field_str(wire_find(m, T_REF, 0), ref, sizeof(ref)) != 0 ||
	    wire_get_i64(m, T_UPDATED, &updated) != 0)
		return HUSH_E_PROTO;
	if ((x = store_service_find(s, ref)) == NULL) {
		snprintf(why, whylen, "service '%s' not found", ref);
		return HUSH_E_NOTFOUND;
	}
	if ((r = draft_from(&d, x)) != 0)
		goto out;
	for (i = 0; i < wire_count(m, T_SECRET_RM); i++) {
		if ((r = field_str(wire_find(m, T_SECRET_RM, i), ref, sizeof(ref))) != 0)
			goto out;
		sec = store_secret_find(s, ref);
		before = d->ngrants;
		for (j = 0, w = 0; sec != NULL && j < d->ngrants; j++)
			if (strcmp(d->grants[j].secret_id, sec->id) != 0)
				d->grants[w++] = d->grants[j];
		if (sec != NULL)
			d->ngrants = w;
		if (sec == NULL || d->ngrants == before) {
			snprintf(why, whylen, "secret '%s' is not granted to service '%s'", ref,
			    x->name);
			r = HUSH_E_NOTFOUND;
			goto out;
		}
	}
	if ((r = take_claim(m, x, &claim, why, whylen)) != 0)
		goto out;
	for (i = 0; i < wire_count(m, T_CONSTRAINT_RM); i++) {
		char canon[HUSH_CONSTRAINT_MAX + 1];

		if ((r = field_str(wire_find(m, T_CONSTRAINT_RM, i), d->text,
		    sizeof(d->text))) != 0 ||
		    (r = check_constraint(d->text, canon, sizeof(canon), why, whylen)) != 0)
			goto out;
		for (j = 0; j < d->nconstraints; j++)
			if (strcmp(d->constraints[j], canon) == 0)
				break;
		if (j == d->nconstraints) {
			snprintf(why, whylen, "constraint '%.200s' is not set on service '%s'",
			    canon, x->name);
			r = HUSH_E_NOTFOUND;
			goto out;
		}
		free(d->constraints[j]);
		memmove(&d->constraints[j], &d->constraints[j + 1],
		    (d->nconstraints - j - 1) * sizeof(d->constraints[0]));
		d->nconstraints--;
	}
	if ((r = draft_add_grants(s, d, m, REC_GRANT, why, whylen)) != 0 ||
	    (r = draft_add_constraints(d, m, why, whylen)) != 0 ||
	    (r = draft_commit(d, x)) != 0)
		goto out;
	x->version++;
	x->updated = updated;
	if (claim != NULL) {
		memcpy(x->claim_digest, claim, sizeof(x->claim_digest));
		x->has_claim = true;
		x->claim_issued = updated;
	}
	snprintf(ids, idslen, "%s", x->id);
out:
	if (d != NULL)
		draft_free(d);
	return r;
}

/* All or nothing, like secret rm. */
static int
apply_rm(struct store *s, const struct wire_msg *m, char *ids, size_t idslen,
    char *why, size_t whylen)
{
	size_t nref = wire_count(m, T_REF), n = 0, o;
	struct store_service *x;
	char ref[65];
	bool *doomed;

	if (nref > STORE_RM_MAX) {
		snprintf(why, whylen, "at most %d services can be removed at once", STORE_RM_MAX);
		return HUSH_E_INVAL;
	}
	if ((doomed = calloc(s->nservices + 1, sizeof(bool))) == NULL)
		return HUSH_E_NOMEM;
	for (size_t i = 0; i < nref; i++) {
		if (field_str(wire_find(m, T_REF, i), ref, sizeof(ref)) != 0) {
			free(doomed);
			return HUSH_E_PROTO;
		}
		if ((x = store_service_find(s, ref)) == NULL) {
			snprintf(why, whylen, "service '%s' not found", ref);
			free(doomed);
			return HUSH_E_NOTFOUND;
		}
		doomed[x - s->services] = true;
	}
	ids[0] = '\0';
	for (size_t i = 0, w = 0; i < s->nservices; i++) {
		if (doomed[i]) {
			o = strlen(ids);
			snprintf(ids + o, idslen - o, "%s%s", o ? " " : "", s->services[i].id);
			service_free(&s->services[i]);
			n++;
			continue;
		}
		if (w != i)
			s->services[w] = s->services[i];
		w++;
	}
	s->nservices -= n;
	free(doomed);
	return 0;
}

int
store_service_apply(struct store *s, const struct wire_msg *cmd, char *ids, size_t idslen,
    char *why, size_t whylen)
{
	switch (cmd->hdr.type) {
	case CMD_SERVICE_CREATE:
		return apply_create(s, cmd, ids, idslen, why, whylen);
	case CMD_SERVICE_UPDATE:
		return apply_update(s, cmd, ids, idslen, why, whylen);
	case CMD_SERVICE_RM:
		return apply_rm(s, cmd, ids, idslen, why, whylen);
	default:
		return HUSH_E_PROTO;
	}
}

static void
put_grant(struct store *s, struct wire_enc *e, const struct store_grant *g, bool names)
{
	struct wire_enc rec;
	struct store_secret *sec;
	const uint8_t *buf;
	size_t len;

	wire_enc_init_fields(&rec, 1024);
	wire_put_str(&rec, T_SECRET_ID, g->secret_id);
	if (names && (sec = store_secret_find(s, g->secret_id)) != NULL)
		wire_put_str(&rec, T_NAME, sec->name);
	wire_put_str(&rec, T_TARGET, g->target);
	wire_put_u32(&rec, T_UID, g->uid);
	wire_put_u32(&rec, T_GID, g->gid);
	wire_put_u32(&rec, T_MODE, g->mode);
	if (wire_enc_finish(&rec, &buf, &len) == 0)
		wire_put_bytes(e, T_GRANT, buf, len);
	else if (e->err == 0)
		e->err = rec.err;
	wire_enc_free(&rec);
}

static void
put_service_fields(struct store *s, struct wire_enc *e, const struct store_service *x,
    bool names)
{
	wire_put_str(e, T_SERVICE_ID, x->id);
	wire_put_str(e, T_NAME, x->name);
	wire_put_i64(e, T_CREATED, x->created);
	wire_put_i64(e, T_UPDATED, x->updated);
	wire_put_u64(e, T_VERSION, x->version);
	for (size_t i = 0; i < x->ngrants; i++)
		put_grant(s, e, &x->grants[i], names);
	for (size_t i = 0; i < x->nconstraints; i++)
		wire_put_str(e, T_CONSTRAINT, x->constraints[i]);
	if (x->has_claim) {
		wire_put_bytes(e, T_CLAIM_DIGEST, x->claim_digest,
		    sizeof(x->claim_digest));
		wire_put_i64(e, T_CLAIM_ISSUED, x->claim_issued);
	}
}

void
store_service_put(struct store *s, struct wire_enc *e, uint16_t tag, const struct store_service *x)
{
	struct wire_enc rec;
	const uint8_t *buf;
	size_t len;

	if (tag == 0) {
		put_service_fields(s, e, x, false);
		return;
	}
	wire_enc_init_fields(&rec, HUSH_SERVICE_RECORD_MAX);
	put_service_fields(s, &rec, x, true);
	if (wire_enc_finish(&rec, &buf, &len) == 0)
		wire_put_bytes(e, tag, buf, len);
	else if (e->err == 0)
		e->err = rec.err;
	wire_enc_free(&rec);
}

/* A snapshot's service: held to the same rules as a command's. */
int
store_service_restore(struct store *s, const struct wire_msg *m)
{
	const struct wire_field *f;
	struct store_service x;
	struct draft *d;
	char why[256];
	int r;

	memset(&x, 0, sizeof(x));
	if (field_str(wire_find(m, T_SERVICE_ID, 0), x.id, sizeof(x.id)) != 0 ||
	    field_str(wire_find(m, T_NAME, 0), x.name, sizeof(x.name)) != 0 ||
	    wire_get_i64(m, T_CREATED, &x.created) != 0 ||
	    wire_get_i64(m, T_UPDATED, &x.updated) != 0 ||
	    wire_get_u64(m, T_VERSION, &x.version) != 0 || x.version == 0)
		return HUSH_E_CORRUPT;
	if (check_new(s, &x, why, sizeof(why)) != 0)
		return HUSH_E_CORRUPT;
	/* a snapshot of a hush before claims has none: its services wait for one */
	if ((f = wire_find(m, T_CLAIM_DIGEST, 0)) != NULL) {
		if (f->len != sizeof(x.claim_digest) ||
		    wire_get_i64(m, T_CLAIM_ISSUED, &x.claim_issued) != 0)
			return HUSH_E_CORRUPT;
		memcpy(x.claim_digest, f->val, sizeof(x.claim_digest));
		x.has_claim = true;
	}
	if ((r = draft_from(&d, NULL)) != 0)
		return r;
	if ((r = draft_add_grants(s, d, m, REC_SERVICE_GRANT, why, sizeof(why))) == 0 &&
	    (r = draft_add_constraints(d, m, why, sizeof(why))) == 0) {
		/* Secrets come before services in a snapshot: each grant's secret exists. */
		for (size_t i = 0; r == 0 && i < d->ngrants; i++)
			if (store_secret_find(s, d->grants[i].secret_id) == NULL)
				r = HUSH_E_CORRUPT;
		if (r == 0 && (r = draft_commit(d, &x)) == 0)
			r = add_service(s, &x);
	}
	service_free(&x);
	draft_free(d);
	return r == 0 || r == HUSH_E_NOMEM ? r : HUSH_E_CORRUPT;
}
