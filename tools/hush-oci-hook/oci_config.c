/*
 * The parts of a bundle's config.json (runtime-spec "Spec") the hook
 * forwards to hushd:
 *
 *	{"root": {"path": "rootfs"},
 *	 "process": {"env": ["PATH=/bin", "HUSH_CLAIM=HUSHCLM-1-..."]},
 *	 "annotations": {"io.hush.service": "web"},
 *	 "linux": {"uidMappings": [{"containerID": 0, "hostID": 100000,
 *				     "size": 65536}],
 *		   "gidMappings": [...]}}
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "oci.h"
#include "oci_json.h"

int
oci_root_resolve(const char *bundle, const char *path,
    char out[HUSH_PATH_MAX + 1], char *why, size_t whylen)
{
	/* bundle + '/' + path, and the normalised result, which is never longer */
	char joined[2 * (HUSH_PATH_MAX + 1)], norm[sizeof(joined)];
	const char *p, *c, *slash;
	size_t o = 0, clen;

	out[0] = '\0';
	if (path[0] == '\0') {
		oci_why(why, whylen, "root.path: is empty");
		return HUSH_E_FORMAT;
	}
	if (path[0] == '/')
		p = path;
	else {
		if (bundle[0] != '/' || (size_t)snprintf(joined, sizeof(joined),
		    "%s/%s", bundle, path) >= sizeof(joined)) {
			oci_why(why, whylen, "root.path: cannot be resolved "
			    "against the bundle");
			return HUSH_E_INVAL;
		}
		p = joined;
	}
	/* norm[0..o) is always "" or "/a/b"; one component at a time. */
	for (c = p; *c != '\0'; c += clen) {
		while (*c == '/')
			c++;
		clen = strcspn(c, "/");
		if (clen == 0 || (clen == 1 && c[0] == '.'))
			continue;
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			if (o == 0) {
				oci_why(why, whylen, "root.path: '..' leads "
				    "above /");
				return HUSH_E_FORMAT;
			}
			norm[o] = '\0';
			slash = strrchr(norm, '/');
			o = (size_t)(slash - norm);
			continue;
		}
		norm[o++] = '/';
		memcpy(norm + o, c, clen);
		o += clen;
	}
	if (o == 0) {
		oci_why(why, whylen, "root.path: resolves to / (the host's "
		    "root directory)");
		return HUSH_E_FORMAT;
	}
	if (o > HUSH_PATH_MAX) {
		oci_why(why, whylen, "root.path: is longer than %d bytes once "
		    "resolved", HUSH_PATH_MAX);
		return HUSH_E_TOOBIG;
	}
	memcpy(out, norm, o);
	out[o] = '\0';
	return 0;
}

static int
get_root(const json_t *doc, const char *bundle, char out[HUSH_PATH_MAX + 1],
    char *why, size_t whylen)
{
	const json_t *root;
	const char *s;
	size_t len, i;
	int r;

	if ((root = json_object_get(doc, "root")) == NULL) {
		oci_why(why, whylen, "root: missing (hush needs the container's "
		    "root filesystem)");
		return HUSH_E_FORMAT;
	}
	if (!json_is_object(root)) {
		oci_why(why, whylen, "root: must be an object, not %s",
		    oci_type_name(root));
		return HUSH_E_FORMAT;
	}
	r = oci_get_string(root, "path", "root.path", HUSH_PATH_MAX, &s, &len,
	    why, whylen);
	if (r == HUSH_E_NOTFOUND) {
		oci_why(why, whylen, "root.path: missing");
		return HUSH_E_FORMAT;
	}
	if (r != 0)
		return r;
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			oci_why(why, whylen, "root.path: contains a control "
			    "character");
			return HUSH_E_FORMAT;
		}
	}
	return oci_root_resolve(bundle, s, out, why, whylen);
}

/* One of containerID, hostID, size: an integer that fits in 32 bits. */
static int
get_u32(const json_t *obj, const char *key, const char *field, size_t idx,
    uint32_t *out, char *why, size_t whylen)
{
	const json_t *v;
	json_int_t n;

	if ((v = json_object_get(obj, key)) == NULL) {
		oci_why(why, whylen, "%s[%zu].%s: missing", field, idx, key);
		return HUSH_E_FORMAT;
	}
	if (!json_is_integer(v)) {
		oci_why(why, whylen, "%s[%zu].%s: must be an integer, not %s",
		    field, idx, key, oci_type_name(v));
		return HUSH_E_FORMAT;
	}
	n = json_integer_value(v);
	if (n < 0 || n > (json_int_t)UINT32_MAX) {
		oci_why(why, whylen, "%s[%zu].%s: %lld is out of range (0 to "
		    "4294967295)", field, idx, key, (long long)n);
		return HUSH_E_RANGE;
	}
	*out = (uint32_t)n;
	return 0;
}

/* linux.uidMappings or linux.gidMappings; an empty array is no mapping. */
static int
get_map(const json_t *linux_obj, const char *key, const char *field,
    struct idmap *map, bool *present, char *why, size_t whylen)
{
	const json_t *arr, *e;
	uint32_t inner, outer, count;
	char sub[128];
	size_t i;
	int r;

	idmap_init(map);
	*present = false;
	if ((arr = json_object_get(linux_obj, key)) == NULL)
		return 0;
	if (!json_is_array(arr)) {
		oci_why(why, whylen, "%s: must be an array, not %s", field,
		    oci_type_name(arr));
		return HUSH_E_FORMAT;
	}
	if (json_array_size(arr) > IDMAP_MAX) {
		oci_why(why, whylen, "%s: %zu entries, more than the kernel's "
		    "limit of %d", field, json_array_size(arr), IDMAP_MAX);
		return HUSH_E_TOOBIG;
	}
	json_array_foreach(arr, i, e) {
		if (!json_is_object(e)) {
			oci_why(why, whylen, "%s[%zu]: must be an object, not %s",
			    field, i, oci_type_name(e));
			return HUSH_E_FORMAT;
		}
		if ((r = get_u32(e, "containerID", field, i, &inner, why,
		    whylen)) != 0 ||
		    (r = get_u32(e, "hostID", field, i, &outer, why,
		    whylen)) != 0 ||
		    (r = get_u32(e, "size", field, i, &count, why,
		    whylen)) != 0)
			return r;
		if ((r = idmap_add(map, inner, outer, count, sub,
		    sizeof(sub))) != 0) {
			oci_why(why, whylen, "%s[%zu]: %s", field, i, sub);
			return r;
		}
	}
	*present = map->n > 0;
	return 0;
}

static int
get_userns(const json_t *doc, struct oci_config *cfg, char *why, size_t whylen)
{
	const json_t *lx;
	bool has_uid, has_gid;
	int r;

	if ((lx = json_object_get(doc, "linux")) == NULL)
		return 0;
	if (!json_is_object(lx)) {
		oci_why(why, whylen, "linux: must be an object, not %s",
		    oci_type_name(lx));
		return HUSH_E_FORMAT;
	}
	if ((r = get_map(lx, "uidMappings", "linux.uidMappings", &cfg->uid,
	    &has_uid, why, whylen)) != 0 ||
	    (r = get_map(lx, "gidMappings", "linux.gidMappings", &cfg->gid,
	    &has_gid, why, whylen)) != 0)
		return r;
	/* Files need both an owner and a group that exist in the container. */
	if (has_uid != has_gid) {
		oci_why(why, whylen, "%s: missing while %s is set",
		    has_uid ? "linux.gidMappings" : "linux.uidMappings",
		    has_uid ? "linux.uidMappings" : "linux.gidMappings");
		return HUSH_E_FORMAT;
	}
	cfg->userns = has_uid;
	return 0;
}

/*
 * OCI_CLAIM_ENV in process.env, an array of "KEY=VALUE" strings as
 * execve(2) takes them.  An entry without '=' defines nothing and is
 * skipped.  The variable given twice is refused unless both say the same:
 * the process sees one of them (getenv(3) the first), hushd would be
 * sent the other.
 */
static int
get_env_claim(const json_t *doc, struct oci_config *cfg, char *why,
    size_t whylen)
{
	static const char prefix[] = OCI_CLAIM_ENV "=";
	const json_t *proc, *env, *e;
	const char *s;
	char field[64];
	size_t i, len, first = 0;
	int r;

	if ((proc = json_object_get(doc, "process")) == NULL)
		return 0;
	if (!json_is_object(proc)) {
		oci_why(why, whylen, "process: must be an object, not %s",
		    oci_type_name(proc));
		return HUSH_E_FORMAT;
	}
	if ((env = json_object_get(proc, "env")) == NULL)
		return 0;
	if (!json_is_array(env)) {
		oci_why(why, whylen, "process.env: must be an array, not %s",
		    oci_type_name(env));
		return HUSH_E_FORMAT;
	}
	json_array_foreach(env, i, e) {
		if (!json_is_string(e)) {
			oci_why(why, whylen, "process.env[%zu]: must be a "
			    "string, not %s", i, oci_type_name(e));
			return HUSH_E_FORMAT;
		}
		s = json_string_value(e);
		len = json_string_length(e);
		if (len < sizeof(prefix) - 1 ||
		    memcmp(s, prefix, sizeof(prefix) - 1) != 0)
			continue;
		s += sizeof(prefix) - 1;
		len -= sizeof(prefix) - 1;
		snprintf(field, sizeof(field), "process.env[%zu] (%s)", i,
		    OCI_CLAIM_ENV);
		oci_claim_trim(s, &len);
		if ((r = oci_claim_check(field, s, len, why, whylen)) != 0)
			return r;
		if (!cfg->has_env_claim) {
			memcpy(cfg->env_claim, s, len);
			cfg->has_env_claim = true;
			first = i;
			continue;
		}
		if (len != strlen(cfg->env_claim) ||
		    sodium_memcmp(cfg->env_claim, s, len) != 0) {
			oci_why(why, whylen, "process.env: the container gives "
			    "two different claims (environment %s, at [%zu] and "
			    "[%zu]); give one", OCI_CLAIM_ENV, first, i);
			return HUSH_E_FORMAT;
		}
	}
	return 0;
}

int
oci_claim_pick(const struct oci_annotations *ann, const struct oci_config *cfg,
    const char **claim, char *why, size_t whylen)
{
	*claim = NULL;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	/* Both arrays are NUL-padded: comparing them whole compares lengths. */
	if (ann->has_claim && cfg->has_env_claim &&
	    sodium_memcmp(ann->claim, cfg->env_claim,
	    sizeof(ann->claim)) != 0) {
		oci_why(why, whylen, "the container gives two different claims "
		    "(annotation %s and environment %s); give one",
		    OCI_CLAIM_ANNOTATION, OCI_CLAIM_ENV);
		return HUSH_E_FORMAT;
	}
	if (ann->has_claim)
		*claim = ann->claim;
	else if (cfg->has_env_claim)
		*claim = cfg->env_claim;
	return 0;
}

int
oci_config_parse(const char *buf, size_t len, const char *bundle,
    enum oci_stage stage, struct oci_config *cfg, char *why, size_t whylen)
{
	json_t *doc;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = oci_load(buf, len, &doc, why, whylen)) != 0)
		return r;
	if ((r = oci_get_annotations(doc, stage, &cfg->ann, why, whylen)) != 0)
		goto out;
	/* After the container is gone, only whether it opted in matters. */
	if (stage == OCI_POSTSTOP)
		goto out;
	if ((r = get_root(doc, bundle, cfg->root, why, whylen)) != 0 ||
	    (r = get_userns(doc, cfg, why, whylen)) != 0)
		goto out;
	r = get_env_claim(doc, cfg, why, whylen);
out:
	json_decref(doc);
	if (r != 0)
		sodium_memzero(cfg, sizeof(*cfg));
	return r;
}
