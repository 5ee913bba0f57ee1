/*
 * The runtime-spec "State" a runtime writes to a hook's stdin:
 *
 *	{"ociVersion": "1.0.2", "id": "web", "status": "creating",
 *	 "pid": 4242, "bundle": "/run/containers/web",
 *	 "annotations": {"io.hush.service": "web",
 *			 "io.hush.claim": "HUSHCLM-1-..."}}
 */
#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "err.h"
#include "oci.h"
#include "oci_json.h"

/* Longest ociVersion and status accepted ("1.2.0", "creating"). */
#define OCI_WORD_MAX	64

static int
id_check(const char *s, size_t len, char *why, size_t whylen)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '/') {
			oci_why(why, whylen, "id: contains '/'");
			return HUSH_E_FORMAT;
		}
		if (c <= 0x20 || c >= 0x7f) {
			oci_why(why, whylen, "id: byte %zu (0x%02x) is not "
			    "printable ASCII", i, c);
			return HUSH_E_FORMAT;
		}
	}
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		oci_why(why, whylen, "id: '%s' is not a usable name", s);
		return HUSH_E_FORMAT;
	}
	return 0;
}

/* A required string member: absent is an error too. */
static int
need_string(const json_t *doc, const char *key, size_t max, const char **s,
    size_t *len, char *why, size_t whylen)
{
	int r;

	r = oci_get_string(doc, key, key, max, s, len, why, whylen);
	if (r == HUSH_E_NOTFOUND) {
		oci_why(why, whylen, "%s: missing", key);
		return HUSH_E_FORMAT;
	}
	return r;
}

static int
get_pid(const json_t *doc, enum oci_stage stage, uint32_t *pid, char *why,
    size_t whylen)
{
	const json_t *v;
	json_int_t n;

	*pid = 0;
	if ((v = json_object_get(doc, "pid")) == NULL) {
		if (stage == OCI_POSTSTOP)
			return 0;
		oci_why(why, whylen, "pid: missing (the runtime must give the "
		    "container's process at createRuntime)");
		return HUSH_E_FORMAT;
	}
	if (!json_is_integer(v)) {
		oci_why(why, whylen, "pid: must be an integer, not %s",
		    oci_type_name(v));
		return HUSH_E_FORMAT;
	}
	n = json_integer_value(v);
	/* After its process is gone a runtime may say pid 0, or omit it. */
	if (n < (stage == OCI_POSTSTOP ? 0 : 1) || n > OCI_PID_MAX) {
		oci_why(why, whylen, "pid: %lld is not a process id (expected "
		    "%d to %d)", (long long)n, stage == OCI_POSTSTOP ? 0 : 1,
		    OCI_PID_MAX);
		return HUSH_E_RANGE;
	}
	*pid = (uint32_t)n;
	return 0;
}

int
oci_state_parse(const char *buf, size_t len, enum oci_stage stage,
    struct oci_state *st, char *why, size_t whylen)
{
	json_t *doc;
	const char *s;
	size_t n;
	int r;

	memset(st, 0, sizeof(*st));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = oci_load(buf, len, &doc, why, whylen)) != 0)
		return r;

	/* Required by the runtime-spec; their values do not matter here. */
	if ((r = need_string(doc, "ociVersion", OCI_WORD_MAX, &s, &n, why,
	    whylen)) != 0 ||
	    (r = need_string(doc, "status", OCI_WORD_MAX, &s, &n, why,
	    whylen)) != 0)
		goto out;

	if ((r = need_string(doc, "id", HUSH_CONTAINER_ID_MAX, &s, &n, why,
	    whylen)) != 0 || (r = id_check(s, n, why, whylen)) != 0)
		goto out;
	memcpy(st->id, s, n + 1);

	if ((r = get_pid(doc, stage, &st->pid, why, whylen)) != 0)
		goto out;

	if ((r = need_string(doc, "bundle", HUSH_PATH_MAX, &s, &n, why,
	    whylen)) != 0 || (r = oci_path_check("bundle", s, n, why,
	    whylen)) != 0)
		goto out;
	memcpy(st->bundle, s, n + 1);

	r = oci_get_annotations(doc, stage, &st->ann, why, whylen);
out:
	json_decref(doc);
	if (r != 0) {
		/* Nothing half-parsed leaks out. */
		sodium_memzero(st, sizeof(*st));
	}
	return r;
}
