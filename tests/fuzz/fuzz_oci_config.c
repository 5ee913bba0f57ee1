/*
 * hush-oci-hook's config.json parser on arbitrary bytes, at both stages,
 * and root.path resolution on the same bytes as a path.  On success the
 * root must be absolute and normalised (resolving it again changes
 * nothing) and the id maps must be ones the kernel would take and that
 * translate, claims have the shape oci.h promises, and picking between
 * the annotation's and the environment's never quotes either; on failure
 * a printable message and nothing left behind.
 * The hook's sources are not in libhush.a, so they are compiled in here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/hush-oci-hook/oci_config.c"
#include "../../tools/hush-oci-hook/oci_json.c"
#include "harness.h"

#define BUNDLE	"/run/hush-fuzz/bundle"

static struct oci_config cfg;
static const struct oci_config zero;
static struct idmap again;

/* Absolute, no empty, "." or ".." component, no trailing '/', not "/". */
static void
check_normal(const char *p)
{
	char out[HUSH_PATH_MAX + 1], why[256];
	size_t len = strnlen(p, HUSH_PATH_MAX + 1);

	if (len == 0 || len > HUSH_PATH_MAX || p[0] != '/' || p[len - 1] == '/')
		abort();
	if (strstr(p, "//") != NULL || strstr(p, "/./") != NULL ||
	    strstr(p, "/../") != NULL)
		abort();
	if ((len >= 2 && strcmp(p + len - 2, "/.") == 0) ||
	    (len >= 3 && strcmp(p + len - 3, "/..") == 0))
		abort();
	if (oci_root_resolve("/elsewhere", p, out, why, sizeof(why)) != 0 ||
	    strcmp(out, p) != 0)
		abort();
}

static void
check_map(const struct idmap *m)
{
	const struct idmap_extent *e;
	uint32_t host;
	size_t i;

	idmap_init(&again);
	for (i = 0; i < m->n; i++) {
		e = &m->ext[i];
		if (idmap_add(&again, e->inner, e->outer, e->count, NULL, 0) != 0)
			abort();
		if (idmap_to_host(m, e->inner, &host) != 0 || host != e->outer)
			abort();
		if (idmap_to_host(m, e->inner + (e->count - 1), &host) != 0 ||
		    host != e->outer + (e->count - 1))
			abort();
	}
}

/*
 * A claim as oci.h promises it: 1..OCI_CLAIM_MAX bytes of printable
 * ASCII without spaces, NUL-padded to the end of its array (which
 * oci_claim_pick relies on to compare whole arrays).
 */
static void
check_claim(const char *c, size_t cap)
{
	size_t i, len = strnlen(c, cap);

	if (len == 0 || len > OCI_CLAIM_MAX)
		abort();
	for (i = 0; i < len; i++) {
		if (c[i] <= ' ' || c[i] > '~')
			abort();
	}
	for (; i < cap; i++) {
		if (c[i] != '\0')
			abort();
	}
}

static void
check_no_claim(const char *c, size_t cap)
{
	size_t i;

	for (i = 0; i < cap; i++) {
		if (c[i] != '\0')
			abort();
	}
}

/*
 * Whether why quotes claim.  The refusal names the annotation and the
 * variable, so a claim that is (part of) those words, such as a
 * variable HUSH_CLAIM=HUSH_CLAIM, is found in it without being quoted.
 */
static bool
quotes(const char *why, const char *claim)
{
	static const char words[] = "the container gives two different claims (annotation "
	    OCI_CLAIM_ANNOTATION " and environment " OCI_CLAIM_ENV "); give one";

	return strlen(claim) >= 8 && strstr(why, claim) != NULL && strstr(words, claim) == NULL;
}

/* Picking between the two never quotes either claim. */
static void
check_pick(void)
{
	const char *claim;
	char why[512];
	int r;

	r = oci_claim_pick(&cfg.ann, &cfg, &claim, why, sizeof(why));
	if (r != 0) {
		if (!cfg.ann.has_claim || !cfg.has_env_claim || claim != NULL ||
		    strcmp(cfg.ann.claim, cfg.env_claim) == 0)
			abort();
		fuzz_check_why(why);
		if (quotes(why, cfg.ann.claim) || quotes(why, cfg.env_claim))
			abort();
		return;
	}
	if (why[0] != '\0')
		abort();
	if (cfg.ann.has_claim ? claim != cfg.ann.claim :
	    cfg.has_env_claim ? claim != cfg.env_claim : claim != NULL)
		abort();
	if (claim != NULL && cfg.ann.has_claim && cfg.has_env_claim &&
	    strcmp(cfg.ann.claim, cfg.env_claim) != 0)
		abort();
}

static void
fuzz_config(const char *buf, size_t size, enum oci_stage stage)
{
	char why[1024];
	int r;

	r = oci_config_parse(buf, size, BUNDLE, stage, &cfg, why, sizeof(why));
	if (r != 0) {
		if (r < HUSH_E_MIN || memcmp(&cfg, &zero, sizeof(cfg)) != 0)
			abort();
		fuzz_check_why(why);
		return;
	}
	if (why[0] != '\0')
		abort();
	if (cfg.ann.has_service && (!cfg.ann.present || service_name_check(
	    cfg.ann.service, strlen(cfg.ann.service), NULL, 0) != 0))
		abort();
	/* A claim only beside a service, and only where it is used. */
	if (cfg.ann.has_claim) {
		if (!cfg.ann.has_service || stage != OCI_CREATE_RUNTIME)
			abort();
		check_claim(cfg.ann.claim, sizeof(cfg.ann.claim));
	} else
		check_no_claim(cfg.ann.claim, sizeof(cfg.ann.claim));
	if (cfg.has_env_claim) {
		if (stage != OCI_CREATE_RUNTIME)
			abort();
		check_claim(cfg.env_claim, sizeof(cfg.env_claim));
	} else
		check_no_claim(cfg.env_claim, sizeof(cfg.env_claim));
	if (stage == OCI_POSTSTOP) {
		if (cfg.root[0] != '\0' || cfg.userns || cfg.uid.n != 0)
			abort();
		return;
	}
	check_pick();
	check_normal(cfg.root);
	if (cfg.userns != (cfg.uid.n > 0) || cfg.userns != (cfg.gid.n > 0))
		abort();
	check_map(&cfg.uid);
	check_map(&cfg.gid);
}

static void
fuzz_root(const uint8_t *data, size_t size)
{
	char path[HUSH_PATH_MAX + 1], out[HUSH_PATH_MAX + 1], why[256];
	int r;

	if (size > HUSH_PATH_MAX)
		size = HUSH_PATH_MAX;
	memcpy(path, data, size);
	path[size] = '\0';
	r = oci_root_resolve(BUNDLE, path, out, why, sizeof(why));
	if (r != 0) {
		if (r < HUSH_E_MIN || out[0] != '\0')
			abort();
		fuzz_check_why(why);
		return;
	}
	check_normal(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if ((buf = fuzz_exact_copy(data, size)) == NULL)
		return 0;
	fuzz_config(buf, size, OCI_CREATE_RUNTIME);
	fuzz_config(buf, size, OCI_POSTSTOP);
	free(buf);
	fuzz_root(data, size);
	return 0;
}
