/*
 * A service's reference to a secret, in the syntax of Docker's --secret
 * flag: "NAME" or "NAME,target=T,uid=U,gid=G,mode=M", or with the name
 * given as source=NAME / src=NAME.  The text arrives from the CLI and from
 * the replicated store, so both directions are strict: every accepted text
 * yields a valid struct, and every valid struct formats to text that
 * parses back to it.
 */
#ifndef HUSH_SECRET_REF_H
#define HUSH_SECRET_REF_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"

#define SECRET_TARGET_MAX	255
/* Longest text secret_ref_parse reads; longer is HUSH_E_TOOBIG. */
#define SECRET_REF_TEXT_MAX	1024
/*
 * Enough for the longest secret_ref_format result plus its NUL:
 * "source=" NAME ",target=" TARGET ",uid=" U ",gid=" G ",mode=" MMMM.
 */
#define SECRET_REF_STR_MAX	(7 + SECRET_NAME_MAX + 8 + SECRET_TARGET_MAX + \
				 5 + 10 + 5 + 10 + 6 + 4 + 1)
/* Where relative targets live in the container. */
#define SECRET_DIR		"/run/secrets"
#define SECRET_MODE_DEFAULT	0444

struct secret_ref {
	char	 source[SECRET_NAME_MAX + 1];	/* secret name */
	/* As given, normalised; default = source. */
	char	 target[SECRET_TARGET_MAX + 1];
	uint32_t uid, gid;			/* default 0 */
	uint32_t mode;				/* permissions, default 0444 */
};

/*
 * Parses the NUL-terminated text into *out (zeroed on failure).  Keys may
 * come in any order, each at most once; the source exactly once, either
 * bare as the first field or as source=/src=.  Keys are lower case and no
 * space is trimmed, as in Docker.  uid and gid are decimal 0..4294967294
 * ((uid_t)-1 means "no change" to chown and is refused); mode is 1 to 4
 * octal digits of permission bits 0..0777 (no setuid, setgid or sticky).
 * A target spelled /run/secrets/X is stored as X: both name one file.
 *
 * HUSH_E_FORMAT for syntax, HUSH_E_RANGE for numbers out of range,
 * HUSH_E_TOOBIG for over-long text, names or targets, HUSH_E_INVAL for
 * NULL arguments.  why gets one line of at most ~200 bytes starting
 * "--secret 'TEXT': " with TEXT truncated and made printable.
 */
int	secret_ref_parse(const char *text, struct secret_ref *out, char *why,
	    size_t whylen);

/*
 * Relative targets are files under /run/secrets: 1..255 bytes of
 * components of [A-Za-z0-9_.-], none empty (no "//", no trailing '/'),
 * none "." or "..", none starting with ".." (the atomic-writer layout owns
 * "..data*").  Absolute targets (leading '/') follow the same component
 * rules and must not be "/", nor /run/secrets itself (the directory the
 * relative targets live in), nor under /proc, /sys or /dev.  Returns 0,
 * HUSH_E_FORMAT or HUSH_E_TOOBIG (longer than 255 bytes).
 */
int	secret_target_check(const char *target, char *why, size_t whylen);

/*
 * Canonical text ("source=db,target=db,uid=0,gid=0,mode=0444": every key,
 * mode as four octal digits), which secret_ref_parse reads back to *r.
 * HUSH_E_INVAL if *r is not something secret_ref_parse could have
 * produced, HUSH_E_TOOBIG if len is too small (buf is then "").
 */
int	secret_ref_format(const struct secret_ref *r, char *buf, size_t len);

#endif
