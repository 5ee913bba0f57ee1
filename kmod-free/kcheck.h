/*
 * Kernel feature checks: hush relies on stock kernel interfaces instead of
 * a module, so before hushd trusts them we probe each one for real (a
 * throwaway keyring, namespace or mount) rather than reading kernel config.
 * Nothing is loaded and nothing outside forked children is changed.
 */
#ifndef HUSH_KCHECK_H
#define HUSH_KCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* kcheck_run() never reports more features than this. */
#define KCHECK_MAX	16

struct kcheck_result {
	const char	*name;		/* "keyring", "tmpfs-noswap", ... */
	bool		 required;	/* hushd must not run without it */
	bool		 ok;
	/*
	 * Not ok, but the kernel has the feature: it answers only in the
	 * initial network namespace and the caller runs in another one.
	 */
	bool		 netns_only;
	char		 detail[160];	/* why not, or e.g. "ABI 4" */
};

/*
 * Runs the checks in a fixed order, filling out[0..max); returns how many
 * it ran.  Forks short-lived children for checks that change namespaces or
 * keyrings, so call it before starting threads.
 *
 * pretend_missing, NULL in production, is a comma-separated list of
 * names whose checks report missing (detail KCHECK_PRETENDED) without
 * probing, so tests can see how hush reacts to a missing feature on a
 * kernel that has it.  It can only turn a check off, never make a missing
 * feature look present.  The programs take it from HUSH_KCHECK_DISABLE in
 * test builds (-DHUSH_TEST_HOOKS) only.
 */
#define KCHECK_PRETENDED	"pretended missing (test hook HUSH_KCHECK_DISABLE)"
size_t		 kcheck_run(struct kcheck_result *out, size_t max,
		    const char *pretend_missing);

/* What breaks without feature name, for operators; NULL if unknown. */
const char	*kcheck_impact(const char *name);
/*
 * What kcheck_run() should pretend is missing: $HUSH_KCHECK_DISABLE in
 * builds with HUSH_TEST_HOOKS (tests/integration/t_kcheck.sh), NULL in
 * every other build, so a production hushd cannot be talked out of its
 * checks by its environment.
 */
const char	*kcheck_test_missing(void);

#endif
