#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/securebits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "caps.h"
#include "err.h"

/*
 * Securebits for a root process that must never regain capabilities:
 *
 *  NOROOT (+locked): without it, execve() by uid 0 fills the permitted set
 *	from the bounding set, whatever the binary.  With it, a program we
 *	run gets only what file capabilities and the ambient set grant, and
 *	NO_NEW_PRIVS already neutralises file capabilities.
 *  NO_CAP_AMBIENT_RAISE (+locked): the ambient set is the one way kept
 *	capabilities survive execve() of an ordinary binary; we clear it
 *	and make sure nothing can refill it.
 *  KEEP_CAPS cleared and locked: so dropping to a non-root uid always
 *	empties the permitted set; a compromised domain cannot arrange to
 *	carry capabilities into another uid.
 *  NO_SETUID_FIXUP cleared and locked: the kernel's setuid "fixup" is
 *	what empties the permitted set when every uid becomes non-zero.
 *	Setting NO_SETUID_FIXUP would let capabilities follow a switch to an
 *	unprivileged uid, the opposite of hardening, so we keep the fixup
 *	and lock it on.
 *
 * Locking all four means no later code in this process, compromised or
 * not, can relax them; children inherit them across fork and execve.
 */
#define CAPS_SECBITS_SET	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |       \
	SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED |    \
	SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED)
#define CAPS_SECBITS_CLEAR	(SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP)

static bool
cap_kept(cap_value_t c, const cap_value_t *keep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == c)
			return true;
	return false;
}

static int
set_securebits(void)
{
	int old, want;

	if ((old = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0)) == -1)
		return HUSH_E_SYS;
	want = (old & ~CAPS_SECBITS_CLEAR) | CAPS_SECBITS_SET;
	/* Already set and locked: no CAP_SETPCAP needed to repeat ourselves. */
	if (want == old)
		return 0;
	if (prctl(PR_SET_SECUREBITS, (unsigned long)want, 0, 0, 0) == -1)
		return HUSH_E_SYS;
	return 0;
}

static int
drop_bounding(const cap_value_t *keep, size_t n, cap_value_t ncaps)
{
	int in;

	for (cap_value_t c = 0; c < ncaps; c++) {
		if (cap_kept(c, keep, n))
			continue;
		/* Dropping needs CAP_SETPCAP even for a cap already gone. */
		if ((in = cap_get_bound(c)) == -1)
			return HUSH_E_SYS;
		if (in && cap_drop_bound(c) == -1)
			return HUSH_E_SYS;
	}
	return 0;
}

static int
set_sets(const cap_value_t *keep, size_t n)
{
	static const cap_flag_t flags[] = {
		CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE
	};
	cap_t caps;
	int r = 0, save;

	if ((caps = cap_init()) == NULL)
		return HUSH_E_NOMEM;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]) && r == 0; i++) {
		if (n > 0 && cap_set_flag(caps, flags[i], (int)n, keep,
		    CAP_SET) == -1)
			r = HUSH_E_SYS;
	}
	if (r == 0 && cap_set_proc(caps) == -1)
		r = HUSH_E_SYS;
	save = errno;
	cap_free(caps);
	errno = save;
	return r;
}

int
caps_limit(const cap_value_t *keep, size_t n)
{
	cap_value_t ncaps = cap_max_bits();
	int r;

	if (n > 0 && keep == NULL)
		return HUSH_E_INVAL;
	for (size_t i = 0; i < n; i++)
		if (keep[i] < 0 || keep[i] >= ncaps)
			return HUSH_E_INVAL;

	/*
	 * Order matters: securebits and the bounding set both need
	 * CAP_SETPCAP in the effective set, which the final capset() may
	 * remove, so they come first.
	 */
	if ((r = set_securebits()) != 0)
		return r;
	if ((r = drop_bounding(keep, n, ncaps)) != 0)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		return HUSH_E_SYS;
	return set_sets(keep, n);
}

/* Every uid and gid is the one asked for, and root's cannot come back. */
static int
check_switched(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
		return HUSH_E_SYS;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid || getgroups(0, NULL) != 0)
		return HUSH_E_INTERNAL;
	/* As OpenSSH does: a setuid(0) that works means something is wrong. */
	if (setuid(0) == 0 || setgid(0) == 0)
		return HUSH_E_INTERNAL;
	return 0;
}

int
caps_limit_as(uid_t uid, gid_t gid)
{
	cap_value_t ncaps = cap_max_bits();
	int r;

	if (uid == 0 || gid == 0)
		return HUSH_E_INVAL;
	if ((r = set_securebits()) != 0)
		return r;
	if ((r = drop_bounding(NULL, 0, ncaps)) != 0)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		return HUSH_E_SYS;
	/* Groups first: after the uid switch CAP_SETGID is gone. */
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return HUSH_E_SYS;
	if ((r = check_switched(uid, gid)) != 0)
		return r;
	/* Already empty after the switch; this also clears inheritable. */
	return set_sets(NULL, 0);
}

static int
parse_mask(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 16);
	if (end == s || errno != 0 || (*end != '\n' && *end != '\0'))
		return HUSH_E_FORMAT;
	*out = (uint64_t)v;
	return 0;
}

int
caps_read_status(pid_t pid, uint64_t *eff, uint64_t *prm, uint64_t *bnd,
    uint64_t *amb)
{
	static const char *const keys[] = {
		"CapEff:", "CapPrm:", "CapBnd:", "CapAmb:"
	};
	uint64_t *outs[] = { eff, prm, bnd, amb };
	uint64_t vals[4];
	unsigned int found = 0, wanted = 0;
	char path[64], line[256];
	bool at_start = true;
	FILE *f;
	int r = 0, save;

	if (pid < 0)
		return HUSH_E_INVAL;
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/status");
	else
		snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return HUSH_E_SYS;

	for (size_t i = 0; i < 4; i++)
		if (outs[i] != NULL)
			wanted |= 1u << i;
	while (r == 0 && fgets(line, sizeof(line), f) != NULL) {
		/* A long line (Groups:, Cpus_allowed_list:) arrives in pieces. */
		bool start = at_start;

		at_start = strchr(line, '\n') != NULL;
		if (!start)
			continue;
		for (size_t i = 0; i < 4; i++) {
			size_t kl = strlen(keys[i]);

			if (strncmp(line, keys[i], kl) != 0)
				continue;
			if (found & (1u << i)) {
				r = HUSH_E_FORMAT;
				break;
			}
			r = parse_mask(line + kl + strspn(line + kl, " \t"),
			    &vals[i]);
			found |= 1u << i;
			break;
		}
	}
	if (r == 0 && ferror(f))
		r = HUSH_E_SYS;
	save = errno;
	fclose(f);
	errno = save;
	if (r != 0)
		return r;
	if ((found & wanted) != wanted)
		return HUSH_E_FORMAT;
	for (size_t i = 0; i < 4; i++)
		if (outs[i] != NULL)
			*outs[i] = vals[i];
	return 0;
}
