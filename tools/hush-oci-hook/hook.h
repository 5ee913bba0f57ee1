/*
 * hush-oci-hook: run by an OCI runtime (runc, crun; podman and CRI-O through
 * hooks.d) at createRuntime and poststop with the container's state on
 * stdin.  A container that carries the io.hush.service annotation, and
 * the service's claim (annotation io.hush.claim or environment
 * HUSH_CLAIM), gets that service's secrets from the local hushd, which
 * judges the claim; any other container is left alone without hushd even
 * being asked.
 *
 * Exit statuses: 0 done (or nothing to do), 1 failed (one line on
 * stderr), 2 wrong command line.  A non-zero status at createRuntime
 * stops the container from starting; at poststop the runtime only logs it.
 */
#ifndef HOOK_H
#define HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "oci.h"

#ifndef HOOK_VERSION
#define HOOK_VERSION		"0.1.0"
#endif
#define HOOK_NAME		"hush-oci-hook"
#define HOOK_DEFAULT_SOCKET	"/run/hush/control.sock"
#define HOOK_SOCKET_ENV		"HUSH_CONTROL_SOCKET"

/*
 * The runtime blocks on its hooks, so the whole run is bounded: hushd
 * gets HOOK_TIMEOUT_S less a margin to answer, and an alarm ends the
 * process at HOOK_TIMEOUT_S whatever it is waiting for.
 */
#define HOOK_TIMEOUT_S		10
#define HOOK_MARGIN_MS		1000

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* input.c */

/*
 * Reads fd to its end into a fresh buffer of at most max bytes (plus a
 * NUL the parsers do not need but a debugger likes).  HUSH_E_TOOBIG when
 * there is more; what names the input in why ("OCI state on stdin").
 * The bytes may hold a claim: wipe them before freeing.
 */
int	read_all(int fd, size_t max, const char *what, char **buf, size_t *len,
	    char *why, size_t whylen);
/* The bundle's config.json, a regular file of at most OCI_CONFIG_MAX bytes. */
int	read_config(const char *bundle, char **buf, size_t *len, char *why,
	    size_t whylen);

/* request.c: the requests to hushd; each prints its own error line. */

struct hook {
	const char	*socket;	/* hushd's control socket */
	int64_t		 deadline_ms;	/* hook_now_ms() by which hushd answers */
};

/*
 * createRuntime: CTL_CONTAINER_ATTACH for service, which st or cfg named,
 * with claim (NULL: the container gave none) and pidfd, a pidfd of
 * st->pid passed along with every attempt.
 */
int	hook_attach(const struct hook *h, const struct oci_state *st,
	    const char *service, const char *claim, int pidfd,
	    const struct oci_config *cfg);
/* poststop: CTL_CONTAINER_DETACH. */
int	hook_detach(const struct hook *h, const struct oci_state *st);

int64_t	hook_now_ms(void);

#endif
