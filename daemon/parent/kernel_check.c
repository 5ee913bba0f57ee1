/*
 * hushd's start-up check of the kernel: the same probes hush-kcheck runs
 * (kmod-free/kcheck.c), so the daemon never starts on a kernel where a
 * protection it promises would silently be missing.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "err.h"
#include "kcheck.h"
#include "log.h"
#include "parent.h"

int
parent_kernel_check(void)
{
	struct kcheck_result res[KCHECK_MAX];
	size_t n, missing = 0;

	n = kcheck_run(res, KCHECK_MAX, kcheck_test_missing());
	for (size_t i = 0; i < n; i++) {
		const struct kcheck_result *r = &res[i];
		const char *impact = kcheck_impact(r->name);

		if (r->ok) {
			log_debug("kernel feature %s: ok%s%s", r->name,
			    r->detail[0] != '\0' ? ", " : "", r->detail);
			continue;
		}
		if (!r->required) {
			log_warn("kernel feature %s is missing (optional): %s [%s]", r->name,
			    impact, r->detail);
			continue;
		}
		/*
		 * The kernel has it, only not from this network namespace (the
		 * integration tests run managers in their own): the node can
		 * still serve the cluster, and the mounter says again, each
		 * time it starts, why it cannot deliver.
		 */
		if (r->netns_only) {
			log_warn("kernel feature %s is unreachable from this network "
			    "namespace: %s [%s]", r->name, impact, r->detail);
			continue;
		}
		log_err("required kernel feature %s is missing: %s [%s]", r->name, impact,
		    r->detail);
		missing++;
	}
	if (missing > 0) {
		log_err("refusing to start: %zu required kernel feature%s missing "
		    "(hush-kcheck prints the full report)", missing, missing == 1 ? " is" : "s are");
		return HUSH_E_NOTFOUND;
	}
	return 0;
}
