/*
 * The pieces oci_state.c and oci_config.c share: loading a document,
 * typed member access that names the field in its errors, and the
 * annotations, which both documents carry.  `field` is always the full
 * dotted name of what is read ("root.path"), for messages.
 */
#ifndef HOOK_OCI_JSON_H
#define HOOK_OCI_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "oci.h"

/* Longest excerpt of runtime-written text quoted in a message. */
#define OCI_EXCERPT_MAX	48

void	oci_why(char *why, size_t whylen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* "an object", "a string", "an integer", ... for "must be X, not Y". */
const char *oci_type_name(const json_t *v);

/*
 * Up to OCI_EXCERPT_MAX bytes of s[0..len), anything but printable ASCII
 * as '?', "..." when cut; buf needs OCI_EXCERPT_MAX + 4 bytes.
 */
const char *oci_excerpt(const char *s, size_t len, char *buf, size_t cap);

/*
 * Parses buf[0..len) as one JSON object, refusing duplicate keys and NUL
 * in strings.  The caller's message names the document.
 */
int	oci_load(const char *buf, size_t len, json_t **out, char *why,
	    size_t whylen);

/*
 * The string member key of obj, 1..max bytes: 0 with *s and *len (s is
 * NUL-terminated and owned by obj), HUSH_E_NOTFOUND when absent, else an
 * error naming field.
 */
int	oci_get_string(const json_t *obj, const char *key, const char *field,
	    size_t max, const char **s, size_t *len, char *why, size_t whylen);

/* A path as hush carries it: absolute, no control characters. */
int	oci_path_check(const char *field, const char *s, size_t len, char *why,
	    size_t whylen);

/*
 * The "annotations" member of doc, if any: an object whose values are all
 * strings; OCI_SERVICE_ANNOTATION, if there, must be a valid service name.
 * With a service, at OCI_CREATE_RUNTIME, OCI_CLAIM_ANNOTATION too, if
 * there, must pass oci_claim_check().  A claim without a service is not
 * looked at: such a container is not hush's.
 */
int	oci_get_annotations(const json_t *doc, enum oci_stage stage,
	    struct oci_annotations *ann, char *why, size_t whylen);

/*
 * From now on jansson wipes every block it frees (documents, the lexer's
 * buffers): they may hold a claim.  Process-wide; for the hook's main().
 */
void	oci_json_wipe_freed(void);

#endif
