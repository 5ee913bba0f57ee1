/*
 * Asking for the unlock key through systemd-ask-password(1), which
 * prompts on the terminal or, with no terminal (a unit at boot), through
 * systemd's password agents (the console, plymouth), and which keeps what
 * was typed in root's user keyring for a while under a key name, so that a
 * second manager on the host or a quick restart of hushd finds it there.
 */
#ifndef HUSHCTL_ASKPASS_H
#define HUSHCTL_ASKPASS_H

#include <stdbool.h>
#include <stddef.h>

#include "secbuf.h"

#define ASKPASS_PROGRAM	"systemd-ask-password"
/* Most output accepted: a cached list of a few dozen keys. */
#define ASKPASS_MAX	4096

/*
 * Runs `systemd-ask-password --keyname=KEYNAME [--accept-cached]
 * --multiple PROMPT` (found through PATH) with our stdin and stderr, and
 * reads what it prints, one password a line, into out (guarded,
 * NUL-terminated; *len excludes the NUL).  HUSH_E_NOTFOUND, with the
 * reason in why, when the program could not be started at all (the
 * caller then asks on the terminal itself); another negative code when it
 * ran and failed (the operator pressed ^C, no agent answered).
 */
int	askpass_systemd(const char *keyname, const char *prompt, bool accept_cached,
	    struct secbuf *out, size_t *len, char *why, size_t whylen);

#endif
