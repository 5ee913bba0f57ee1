/*
 * hush-oci-hook's state parser on arbitrary bytes, at both stages: no
 * crash, a printable message on failure and nothing left in the struct,
 * and on success every promise oci.h makes about the fields, checked
 * independently of the parser.
 * The hook's sources are not in libhush.a, so they are compiled in here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/hush-oci-hook/oci_json.c"
#include "../../tools/hush-oci-hook/oci_state.c"
/* As the hook runs it (fuzz_oci_config keeps jansson's default). */
#define FUZZ_SETUP()	oci_json_wipe_freed()
#include "harness.h"

static struct oci_state st;
static const struct oci_state zero;

static void
check_state(enum oci_stage stage)
{
	size_t i, len = strnlen(st.id, sizeof(st.id));

	/* id: 1..1024 bytes of printable ASCII, no space, no '/', not . or .. */
	if (len == 0 || len > HUSH_CONTAINER_ID_MAX)
		abort();
	for (i = 0; i < len; i++) {
		if (st.id[i] <= ' ' || st.id[i] > '~' || st.id[i] == '/')
			abort();
	}
	if (strcmp(st.id, ".") == 0 || strcmp(st.id, "..") == 0)
		abort();
	if (st.pid > OCI_PID_MAX || (stage == OCI_CREATE_RUNTIME && st.pid == 0))
		abort();
	len = strnlen(st.bundle, sizeof(st.bundle));
	if (len == 0 || len > HUSH_PATH_MAX || st.bundle[0] != '/')
		abort();
	for (i = 0; i < len; i++) {
		if ((unsigned char)st.bundle[i] < 0x20 || st.bundle[i] == 0x7f)
			abort();
	}
	if (st.ann.has_service) {
		if (!st.ann.present || service_name_check(st.ann.service,
		    strlen(st.ann.service), NULL, 0) != 0)
			abort();
	} else if (st.ann.service[0] != '\0')
		abort();
	/*
	 * A claim only beside a service, only at createRuntime; printable,
	 * no space, NUL-padded to the end (oci_claim_pick compares arrays).
	 */
	len = strnlen(st.ann.claim, sizeof(st.ann.claim));
	if (st.ann.has_claim) {
		if (!st.ann.has_service || stage != OCI_CREATE_RUNTIME ||
		    len == 0 || len > OCI_CLAIM_MAX)
			abort();
		for (i = 0; i < len; i++) {
			if (st.ann.claim[i] <= ' ' || st.ann.claim[i] > '~')
				abort();
		}
	} else if (len != 0)
		abort();
	for (i = len; i < sizeof(st.ann.claim); i++) {
		if (st.ann.claim[i] != '\0')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum oci_stage stages[] = { OCI_CREATE_RUNTIME, OCI_POSTSTOP };
	char why[1024];
	char *buf;
	size_t i;
	int r, ok[2];

	if ((buf = fuzz_exact_copy(data, size)) == NULL)
		return 0;
	for (i = 0; i < 2; i++) {
		r = oci_state_parse(buf, size, stages[i], &st, why, sizeof(why));
		if (r != 0) {
			if (r < HUSH_E_MIN || memcmp(&st, &zero, sizeof(st)) != 0)
				abort();
			fuzz_check_why(why);
		} else {
			if (why[0] != '\0')
				abort();
			check_state(stages[i]);
		}
		ok[i] = r == 0;
	}
	/* poststop asks less of a state than createRuntime, never more. */
	if (ok[0] && !ok[1])
		abort();
	free(buf);
	return 0;
}
