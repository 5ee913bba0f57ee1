/*
 * Telling systemd how hushd is doing (Type=notify; sd_notify(3)'s
 * NOTIFY_SOCKET protocol): READY=1 once the control socket is served, a
 * STATUS= line whenever the parent's state changes, STOPPING=1 on the way
 * out.
 *
 * The datagrams are written here rather than with libsystemd's sd_notify(),
 * which opens a new socket for every message: the parent's seccomp filter
 * and Landlock rules, applied after start-up, need not allow socket() or
 * connect() then.  notify_open() makes and connects the one socket at
 * start; every later message is a single sendto() on that descriptor.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "parent.h"

#define NOTIFY_ENV	"NOTIFY_SOCKET"

static int notify_fd = -1;
static int notify_last = -1;	/* the state last reported; -1: none */
/*
 * The "NOTIFY_SOCKET=..." string, which unsetenv() drops from environ
 * without freeing it: main()'s proc_title_init() copied the environment to
 * the heap, and the leak checker of a sanitizer build (which hushd's
 * children run before their seccomp filter) would report it.
 */
static const char *volatile notify_env_string;	/* volatile: a store never read */

int
notify_open(char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *env = getenv(NOTIFY_ENV);
	socklen_t salen;
	size_t len;
	int fd;

	if (env == NULL || *env == '\0')
		return 0;		/* not started by systemd as Type=notify */
	len = strlen(env);
	/* systemd names a path or, with a leading '@', an abstract address. */
	if ((env[0] != '/' && env[0] != '@') || len < 2 || len >= sizeof(sa.sun_path)) {
		snprintf(why, whylen, "NOTIFY_SOCKET must be an absolute path or an "
		    "abstract socket name ('@…') of at most %zu bytes; it is '%.120s'",
		    sizeof(sa.sun_path) - 1, env);
		return HUSH_E_INVAL;
	}
	memcpy(sa.sun_path, env, len);
	if (env[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(why, whylen, "cannot create the notify socket: %s", strerror(errno));
		return HUSH_E_SYS;
	}
	if (connect(fd, (struct sockaddr *)&sa, salen) != 0) {
		snprintf(why, whylen, "cannot connect to NOTIFY_SOCKET %.120s: %s", env,
		    strerror(errno));
		close(fd);
		return HUSH_E_IO;
	}
	notify_fd = fd;
	/* Our children and the programs they run are not the service's main process. */
	notify_env_string = env - strlen(NOTIFY_ENV "=");
	unsetenv(NOTIFY_ENV);
	return 0;
}

/*
 * One datagram; never blocks the poll loop (a full queue at systemd's end
 * costs a status line, not a stalled daemon).
 */
static void
notify_send(const char *msg)
{
	if (notify_fd < 0)
		return;
	if (send(notify_fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_warn("cannot notify systemd (%.40s…): %s", msg, strerror(errno));
}

static const char *
state_status(enum parent_state s)
{
	switch (s) {
	case PS_BOOTING:
		return "reading its state";
	case PS_UNINITIALIZED:
		return "uninitialized";
	case PS_INITIALIZING:
		return "initializing";
	case PS_LOCKED:
		return "locked";
	case PS_STARTING:
		return "starting";
	case PS_READY:
		return "serving";
	case PS_DEGRADED:
		return "degraded";
	}
	fatal("unknown parent state %d", (int)s);
}

void
notify_ready(const struct parent *p)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", state_status(p->state));
	notify_send(msg);
	notify_last = (int)p->state;
}

void
notify_state(const struct parent *p)
{
	char msg[1100];

	if (notify_last < 0 || notify_last == (int)p->state)
		return;			/* before READY=1, or unchanged */
	if (p->state == PS_DEGRADED)	/* p->store.health starts "degraded: " */
		snprintf(msg, sizeof(msg), "STATUS=%s", p->store.health);
	else
		snprintf(msg, sizeof(msg), "STATUS=%s", state_status(p->state));
	notify_send(msg);
	notify_last = (int)p->state;
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=stopping");
	notify_last = -1;
}

void
notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
