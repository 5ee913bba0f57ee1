/*
 * hush-oci-hook's config.json parser on arbitrary bytes, at both stages,
 * and root.path resolution on the same bytes as a path.  On success the
 * root must be absolute and normalised (resolving it again changes
 * nothing) and the id maps must be ones the kernel would take and that
 * translate; on failure a printable message and nothing left behind.
 * The hook's sources are not in libhush.a, so they are compiled in here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../tools/hush-oci-hook/oci_config.c"
#include "../../tools/hush-oci-hook/oci_json.c"

#define BUNDLE	"/run/hush-fuzz/bundle"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct oci_config cfg;
static const struct oci_config zero;
static struct idmap again;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	return 0;
}

static void
check_why(const char *why)
{
	size_t i;

	if (why[0] == '\0')
		abort();
	for (i = 0; why[i] != '\0'; i++) {
		if (why[i] < 0x20 || why[i] > 0x7e)
			abort();
	}
}

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

static void
fuzz_config(const char *buf, size_t size, enum oci_stage stage)
{
	char why[1024];
	int r;

	r = oci_config_parse(buf, size, BUNDLE, stage, &cfg, why, sizeof(why));
	if (r != 0) {
		if (r < HUSH_E_MIN || memcmp(&cfg, &zero, sizeof(cfg)) != 0)
			abort();
		check_why(why);
		return;
	}
	if (why[0] != '\0')
		abort();
	if (cfg.ann.has_service && (!cfg.ann.present || service_name_check(
	    cfg.ann.service, strlen(cfg.ann.service), NULL, 0) != 0))
		abort();
	if (stage == OCI_POSTSTOP) {
		if (cfg.root[0] != '\0' || cfg.userns || cfg.uid.n != 0)
			abort();
		return;
	}
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
		check_why(why);
		return;
	}
	check_normal(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	/* Exactly size bytes, so ASan sees any read past the end. */
	if ((buf = malloc(size == 0 ? 1 : size)) == NULL)
		return 0;
	memcpy(buf, data, size);
	fuzz_config(buf, size, OCI_CREATE_RUNTIME);
	fuzz_config(buf, size, OCI_POSTSTOP);
	free(buf);
	fuzz_root(data, size);
	return 0;
}
