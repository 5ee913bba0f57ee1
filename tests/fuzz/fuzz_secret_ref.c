/*
 * secret_ref_parse and secret_target_check on arbitrary text.  Failures
 * leave a zeroed struct and a short printable message; an accepted text
 * yields a struct that formats and parses back to itself; targets are
 * checked against an independent statement of the rule.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "names.h"
#include "secret_ref.h"

static void
check_why(const char *why, const char *prefix)
{
	if (strlen(why) > 200 || strncmp(why, prefix, strlen(prefix)) != 0)
		abort();
	fuzz_check_why(why);
}

/* The target rule, by splitting a copy with strsep. */
static bool
target_oracle(const char *t)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-/";
	char *copy, *rest, *comp;
	size_t len = strlen(t), n;
	bool abs, good = true;

	if (len < 1 || len > SECRET_TARGET_MAX || strspn(t, ok) != len)
		return false;
	abs = t[0] == '/';
	if (abs && (strcmp(t, "/run/secrets") == 0 ||
	    strcmp(t, "/proc") == 0 || strncmp(t, "/proc/", 6) == 0 ||
	    strcmp(t, "/sys") == 0 || strncmp(t, "/sys/", 5) == 0 ||
	    strcmp(t, "/dev") == 0 || strncmp(t, "/dev/", 5) == 0))
		return false;
	if ((copy = strdup(t + (abs ? 1 : 0))) == NULL)
		abort();
	rest = copy;
	for (n = 0; (comp = strsep(&rest, "/")) != NULL; n++) {
		if (comp[0] == '\0' || strcmp(comp, ".") == 0 ||
		    strncmp(comp, "..", 2) == 0)
			good = false;
	}
	free(copy);
	return good && n > 0;
}

static void
fuzz_target(const char *text)
{
	char why[256];
	int r;

	r = secret_target_check(text, why, sizeof(why));
	if ((r == 0) != target_oracle(text))
		abort();
	if (r == 0) {
		if (why[0] != '\0')
			abort();
	} else {
		if (r != HUSH_E_FORMAT && r != HUSH_E_TOOBIG)
			abort();
		check_why(why, "target");
	}
}

static bool
ref_equal(const struct secret_ref *a, const struct secret_ref *b)
{
	return strcmp(a->source, b->source) == 0 &&
	    strcmp(a->target, b->target) == 0 && a->uid == b->uid &&
	    a->gid == b->gid && a->mode == b->mode;
}

static void
fuzz_ref(const char *text)
{
	static const struct secret_ref zero;
	struct secret_ref ref, back;
	char why[256], buf[SECRET_REF_STR_MAX], buf2[SECRET_REF_STR_MAX];
	int r;

	r = secret_ref_parse(text, &ref, why, sizeof(why));
	if (r != 0) {
		if (r != HUSH_E_FORMAT && r != HUSH_E_TOOBIG &&
		    r != HUSH_E_RANGE)
			abort();
		if (memcmp(&ref, &zero, sizeof(ref)) != 0)
			abort();
		check_why(why, "--secret '");
		return;
	}
	if (why[0] != '\0')
		abort();
	/* Only these bytes can be in an accepted reference. */
	if (strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-/=,") != strlen(text))
		abort();
	if (secret_name_check(ref.source, strlen(ref.source), NULL, 0) != 0 ||
	    !target_oracle(ref.target) ||
	    strncmp(ref.target, "/run/secrets/", 13) == 0 ||
	    ref.uid == UINT32_MAX || ref.gid == UINT32_MAX || ref.mode > 0777)
		abort();

	if (secret_ref_format(&ref, buf, sizeof(buf)) != 0)
		abort();
	memset(&back, 0xa5, sizeof(back));
	if (secret_ref_parse(buf, &back, NULL, 0) != 0 ||
	    !ref_equal(&ref, &back))
		abort();
	/* Canonical: formatting the re-parse gives the same text. */
	if (secret_ref_format(&back, buf2, sizeof(buf2)) != 0 ||
	    strcmp(buf, buf2) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if ((buf = fuzz_cstring(data, size)) == NULL)
		return 0;
	fuzz_ref(buf);
	fuzz_target(buf);
	free(buf);
	return 0;
}
