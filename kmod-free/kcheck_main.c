/*
 * hush-kcheck: tells an operator, before hushd is installed or started,
 * whether this kernel offers every interface hush uses in place of a
 * kernel module, and what breaks for each one that is missing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcheck.h"

#define KCHECK_VERSION	"0.1.0"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hush-kcheck [--help | --version]\n"
	    "\n"
	    "Checks, without loading any kernel module, that the running kernel\n"
	    "offers each feature hushd needs.  Run it as root: several checks\n"
	    "create namespaces or mounts in short-lived child processes.\n"
	    "\n"
	    "Exit status: 0 if every required feature is present, 1 if any is\n"
	    "missing, 2 on a usage error.\n");
}

int
main(int argc, char **argv)
{
	struct kcheck_result res[KCHECK_MAX];
	size_t n, nreq = 0, missing = 0, optional_missing = 0;
	bool help = false, version = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			help = true;
		else if (strcmp(argv[i], "--version") == 0)
			version = true;
		else {
			fprintf(stderr, "hush-kcheck: unknown argument '%s'\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (help) {
		usage(stdout);
		return 0;
	}
	if (version) {
		printf("hush-kcheck " KCHECK_VERSION "\n");
		return 0;
	}

	if (geteuid() != 0)
		fprintf(stderr, "hush-kcheck: not running as root, so the "
		    "namespace and mount checks will fail\n");
	/* The checks fork; nothing buffered may be duplicated. */
	fflush(stdout);
	n = kcheck_run(res, KCHECK_MAX, kcheck_test_missing());
	for (size_t i = 0; i < n; i++) {
		const struct kcheck_result *r = &res[i];
		const char *impact = kcheck_impact(r->name);
		bool has_detail = r->detail[0] != '\0';

		if (r->required)
			nreq++;
		if (r->ok) {
			printf("ok       %s%s%s%s\n", r->name,
			    has_detail ? " (" : "", r->detail,
			    has_detail ? ")" : "");
			continue;
		}
		if (r->required) {
			missing++;
			printf("MISSING  %s: ", r->name);
		} else {
			optional_missing++;
			printf("missing (optional) %s: ", r->name);
		}
		printf("%s%s%s%s\n", impact != NULL ? impact : "unknown impact",
		    has_detail ? " [" : "", r->detail, has_detail ? "]" : "");
	}

	if (missing == 0)
		printf("hush-kcheck: all %zu required kernel features present",
		    nreq);
	else
		printf("hush-kcheck: %zu of %zu required kernel features "
		    "missing: do not run hushd on this kernel", missing, nreq);
	if (optional_missing > 0)
		printf(" (%zu optional missing)", optional_missing);
	printf("\n");
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("hush-kcheck: stdout");
		return 1;
	}
	return missing == 0 ? 0 : 1;
}
