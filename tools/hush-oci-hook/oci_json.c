#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "names.h"
#include "oci_json.h"

#define STR(x)		#x
#define XSTR(x)		STR(x)
/* What a claim may look like, for messages. */
#define CLAIM_SHAPE	"expected 1 to " XSTR(OCI_CLAIM_MAX) " printable " \
			"ASCII characters without spaces"

/* Before each block jansson allocates: its size, so the block can be wiped. */
union wiped_hdr {
	size_t		len;
	max_align_t	align;
};

static void *
wiped_malloc(size_t len)
{
	union wiped_hdr *h;

	if (len > SIZE_MAX - sizeof(*h) ||
	    (h = malloc(sizeof(*h) + len)) == NULL)
		return NULL;
	h->len = len;
	return h + 1;
}

static void
wiped_free(void *p)
{
	union wiped_hdr *h;

	if (p == NULL)
		return;
	h = (union wiped_hdr *)p - 1;
	sodium_memzero(p, h->len);
	free(h);
}

void
oci_json_wipe_freed(void)
{
	json_set_alloc_funcs(wiped_malloc, wiped_free);
}

void
oci_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

const char *
oci_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

const char *
oci_excerpt(const char *s, size_t len, char *buf, size_t cap)
{
	size_t i, n;

	if (cap < OCI_EXCERPT_MAX + 4) {
		if (cap > 0)
			buf[0] = '\0';
		return buf;
	}
	n = len < OCI_EXCERPT_MAX ? len : OCI_EXCERPT_MAX;
	for (i = 0; i < n; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

int
oci_load(const char *buf, size_t len, json_t **out, char *why, size_t whylen)
{
	char text[OCI_EXCERPT_MAX + 4], *near;
	json_error_t jerr;
	json_t *doc;

	*out = NULL;
	if (len == 0) {
		oci_why(why, whylen, "empty (no JSON at all)");
		return HUSH_E_FORMAT;
	}
	/*
	 * Duplicate keys are refused: two "pid" members would let the
	 * runtime and the hook each believe a different one.
	 */
	if ((doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		/*
		 * jansson quotes up to 20 bytes of the token it stopped at
		 * ("invalid token near 'xyz'"), which may be the start of a
		 * claim: keep its words and the position only.  A duplicated
		 * key is still named, as a key is never a claim.
		 */
		if (json_error_code(&jerr) != json_error_duplicate_key &&
		    (near = strstr(jerr.text, " near '")) != NULL)
			*near = '\0';
		oci_why(why, whylen, "not valid JSON: %s (line %d, column %d)",
		    oci_excerpt(jerr.text, strlen(jerr.text), text,
		    sizeof(text)), jerr.line, jerr.column);
		return HUSH_E_FORMAT;
	}
	if (!json_is_object(doc)) {
		oci_why(why, whylen, "must be a JSON object, not %s",
		    oci_type_name(doc));
		json_decref(doc);
		return HUSH_E_FORMAT;
	}
	*out = doc;
	return 0;
}

int
oci_get_string(const json_t *obj, const char *key, const char *field,
    size_t max, const char **s, size_t *len, char *why, size_t whylen)
{
	const json_t *v;

	if ((v = json_object_get(obj, key)) == NULL)
		return HUSH_E_NOTFOUND;
	if (!json_is_string(v)) {
		oci_why(why, whylen, "%s: must be a string, not %s", field,
		    oci_type_name(v));
		return HUSH_E_FORMAT;
	}
	*s = json_string_value(v);
	*len = json_string_length(v);
	if (*len == 0) {
		oci_why(why, whylen, "%s: is empty", field);
		return HUSH_E_FORMAT;
	}
	if (*len > max) {
		oci_why(why, whylen, "%s: is longer than %zu bytes", field, max);
		return HUSH_E_TOOBIG;
	}
	return 0;
}

int
oci_path_check(const char *field, const char *s, size_t len, char *why,
    size_t whylen)
{
	char ex[OCI_EXCERPT_MAX + 4];
	size_t i;

	if (len == 0 || s[0] != '/') {
		oci_why(why, whylen, "%s: '%s' is not an absolute path", field,
		    oci_excerpt(s, len, ex, sizeof(ex)));
		return HUSH_E_FORMAT;
	}
	/* Legal in a file name, but no runtime writes them; logs would break. */
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			oci_why(why, whylen, "%s: contains a control character",
			    field);
			return HUSH_E_FORMAT;
		}
	}
	return 0;
}

void
oci_claim_trim(const char *s, size_t *len)
{
	if (*len > 0 && s[*len - 1] == '\n')
		(*len)--;
}

int
oci_claim_check(const char *field, const char *s, size_t len, char *why,
    size_t whylen)
{
	size_t i;

	if (len == 0) {
		oci_why(why, whylen, "%s: malformed claim (0 bytes; "
		    CLAIM_SHAPE ")", field);
		return HUSH_E_FORMAT;
	}
	if (len > OCI_CLAIM_MAX) {
		oci_why(why, whylen, "%s: malformed claim (%zu bytes; "
		    CLAIM_SHAPE ")", field, len);
		return HUSH_E_TOOBIG;
	}
	/* Where, never what: the other bytes may be a good claim. */
	for (i = 0; i < len; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f)
			continue;
		if (i == len - 1 && s[i] == '\n')
			oci_why(why, whylen, "%s: malformed claim (%zu bytes, "
			    "the last one a newline; " CLAIM_SHAPE ")", field,
			    len);
		else
			oci_why(why, whylen, "%s: malformed claim (%zu bytes, "
			    "byte %zu is a space, a control character or "
			    "not ASCII; " CLAIM_SHAPE ")", field, len, i);
		return HUSH_E_FORMAT;
	}
	return 0;
}

int
oci_get_annotations(const json_t *doc, enum oci_stage stage,
    struct oci_annotations *ann, char *why, size_t whylen)
{
	char ex[OCI_EXCERPT_MAX + 4], sub[256];
	const char *key, *s;
	json_t *obj, *v;
	size_t len;
	int r;

	memset(ann, 0, sizeof(*ann));
	if ((obj = json_object_get(doc, "annotations")) == NULL)
		return 0;
	if (!json_is_object(obj)) {
		oci_why(why, whylen, "annotations: must be an object, not %s",
		    oci_type_name(obj));
		return HUSH_E_FORMAT;
	}
	ann->present = true;
	/* The runtime-spec says values are strings; hold it to that. */
	json_object_foreach(obj, key, v) {
		if (!json_is_string(v)) {
			oci_why(why, whylen, "annotations: the value of '%s' "
			    "must be a string, not %s", oci_excerpt(key,
			    strlen(key), ex, sizeof(ex)), oci_type_name(v));
			return HUSH_E_FORMAT;
		}
	}
	if ((v = json_object_get(obj, OCI_SERVICE_ANNOTATION)) == NULL)
		return 0;
	s = json_string_value(v);
	len = json_string_length(v);
	if ((r = service_name_check(s, len, sub, sizeof(sub))) != 0) {
		oci_why(why, whylen, "annotations." OCI_SERVICE_ANNOTATION ": %s",
		    sub);
		return r;
	}
	memcpy(ann->service, s, len);
	ann->service[len] = '\0';
	ann->has_service = true;

	/* The claim goes with the service, and only createRuntime sends it. */
	if (stage == OCI_POSTSTOP ||
	    (v = json_object_get(obj, OCI_CLAIM_ANNOTATION)) == NULL)
		return 0;
	s = json_string_value(v);
	len = json_string_length(v);
	oci_claim_trim(s, &len);
	if ((r = oci_claim_check("annotations." OCI_CLAIM_ANNOTATION, s, len,
	    why, whylen)) != 0)
		return r;
	memcpy(ann->claim, s, len);
	ann->has_claim = true;
	return 0;
}
