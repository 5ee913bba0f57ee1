/*
 * hush-oci-hook [--control-socket PATH] createRuntime|poststop
 *
 * The runtime runs this at createRuntime (host namespaces, before
 * pivot_root: the container's pid and rootfs path are the host's) and at
 * poststop, with the runtime-spec state on stdin.  This file reads the
 * command line and decides; oci_*.c parse, request.c talks to hushd.
 *
 * The order is what keeps unrelated containers safe: the state is read
 * first, and a container without io.hush.service is let go (exit 0,
 * nothing printed, hushd not contacted) before anything else is looked
 * at.  Only then is the rest of config.json held to hush's rules.
 *
 * At createRuntime the container's process is pinned by a pidfd as soon
 * as the state names it, and the pidfd goes to hushd with the request:
 * if that process dies and its pid is reused meanwhile, hushd can tell,
 * instead of handing secrets to whatever now has the number.  Taking the
 * pidfd is the one thing done before the opt-in is known; its failure
 * is only reported to a container that asked for secrets.
 *
 * The claim (the proof, from `hushctl service claim`, that whoever
 * started the container may have the service's secrets) is read from
 * the same annotations as the service and from config.json's
 * process.env, forwarded, and wiped; it never appears in a message.
 *
 * poststop: a failure to reach hushd is reported and the status is 1,
 * like any other failure.  The runtime-spec has runtimes log a failed
 * poststop hook and carry on, so this only puts the line in the log;
 * hushd also drops a container's secrets when its process exits.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "hook.h"
#include "oci_json.h"

/*
 * What SIGALRM prints.  Two slots so the line can be changed (once the
 * container id is known) without the handler ever seeing half of it.
 */
static char alarm_line[2][HUSH_CONTAINER_ID_MAX + 128];
static size_t alarm_len[2];
static volatile sig_atomic_t alarm_slot;

static void
on_alarm(int sig)
{
	ssize_t n;

	(void)sig;
	n = write(STDERR_FILENO, alarm_line[alarm_slot], alarm_len[alarm_slot]);
	(void)n;
	_exit(EXIT_FAIL);
}

static void
set_alarm_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
set_alarm_line(const char *fmt, ...)
{
	int next = alarm_slot == 0 ? 1 : 0, n;
	va_list ap;

	va_start(ap, fmt);
	n = vsnprintf(alarm_line[next], sizeof(alarm_line[next]), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	alarm_len[next] = (size_t)n;
	if ((size_t)n >= sizeof(alarm_line[next])) {
		/* Cut short, but still one whole line. */
		alarm_len[next] = sizeof(alarm_line[next]) - 1;
		alarm_line[next][alarm_len[next] - 1] = '\n';
	}
	alarm_slot = next;
}

static void
usage(FILE *out)
{
	fprintf(out,
	    "Usage:  " HOOK_NAME " [OPTIONS] createRuntime|poststop\n"
	    "\n"
	    "OCI runtime hook.  With the container's state on stdin, asks the\n"
	    "local hushd to deliver the secrets of the service the container\n"
	    "names in its io.hush.service annotation (createRuntime), or to\n"
	    "drop them (poststop).  The container proves it may have them with\n"
	    "the service's claim ('hushctl service claim NAME'), given in its\n"
	    "io.hush.claim annotation or its HUSH_CLAIM environment variable.\n"
	    "Containers without io.hush.service are left alone.\n"
	    "\n"
	    "Options:\n"
	    "      --control-socket PATH   hushd's control socket (default: $"
	    HOOK_SOCKET_ENV ",\n"
	    "                              else " HOOK_DEFAULT_SOCKET ")\n"
	    "  -h, --help                  Print this help\n"
	    "  -v, --version               Print the version\n");
}

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(HOOK_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nSee '" HOOK_NAME " --help'.\n", stderr);
	return EXIT_USAGE;
}

static int
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs(HOOK_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

/* What read_all() gave: it may hold a claim. */
static void
free_input(char *buf, size_t len)
{
	sodium_memzero(buf, len);
	free(buf);
}

/*
 * The bundle's config.json at the depth stage needs; cfg is left zeroed
 * on failure, which has been reported.
 */
static int
load_config(const struct oci_state *st, enum oci_stage stage,
    struct oci_config *cfg)
{
	char why[1024 + HUSH_PATH_MAX], *buf;
	size_t len;
	int r;

	if ((r = read_config(st->bundle, &buf, &len, why, sizeof(why))) != 0)
		return fail("%s: %s", st->id, why);
	r = oci_config_parse(buf, len, st->bundle, stage, cfg, why, sizeof(why));
	free_input(buf, len);
	if (r != 0)
		return fail("%s: %s/config.json: %s", st->id, st->bundle, why);
	return EXIT_OK;
}

/*
 * A pidfd of pid, or -1 with errno set.  glibc has had pidfd_open(2)
 * since 2.36 only; the system call is the same everywhere (Linux 5.3).
 */
static int
pin(uint32_t pid)
{
	long fd;

	fd = syscall(SYS_pidfd_open, (pid_t)pid, 0u);
	return fd < 0 ? -1 : (int)fd;
}

/* The one line for a pidfd that could not be had; e is pin()'s errno. */
static int
pin_failed(const struct oci_state *st, int e)
{
	if (e == ESRCH)
		return fail("%s: process %u does not exist (the runtime's state "
		    "names it)", st->id, (unsigned int)st->pid);
	return fail("%s: cannot pin process %u: %s%s", st->id,
	    (unsigned int)st->pid, strerror(e),
	    e == ENOSYS ? " (pidfd_open needs Linux 5.3 or later)" : "");
}

/* createRuntime, once the container has opted in. */
static int
attach(const struct hook *h, struct oci_state *st, struct oci_config *cfg,
    int pidfd)
{
	const struct oci_annotations *ann;
	const char *claim;
	char why[256];

	if (load_config(st, OCI_CREATE_RUNTIME, cfg) != EXIT_OK)
		return EXIT_FAIL;
	/* The claim must come from where the service came from. */
	ann = st->ann.present ? &st->ann : &cfg->ann;
	if (!ann->has_service)
		return fail("%s: %s/config.json: changed while it was being "
		    "read (it no longer has " OCI_SERVICE_ANNOTATION ")",
		    st->id, st->bundle);
	if (oci_claim_pick(ann, cfg, &claim, why, sizeof(why)) != 0)
		return fail("%s: %s", st->id, why);
	return hook_attach(h, st, ann->service, claim, pidfd, cfg) == 0 ?
	    EXIT_OK : EXIT_FAIL;
}

static int
run(const struct hook *h, enum oci_stage stage)
{
	static struct oci_state st;
	static struct oci_config cfg;
	const struct oci_annotations *ann;
	char why[1024], *buf;
	size_t len;
	int r, pidfd = -1, pin_errno = 0;

	if ((r = read_all(STDIN_FILENO, OCI_STATE_MAX, "OCI state on stdin",
	    &buf, &len, why, sizeof(why))) != 0)
		return fail("%s", why);
	r = oci_state_parse(buf, len, stage, &st, why, sizeof(why));
	free_input(buf, len);
	if (r != 0)
		return fail("OCI state on stdin: %s", why);
	set_alarm_line(HOOK_NAME ": %s: gave up after %d s (hushd at %s did "
	    "not answer in time)\n", st.id, HOOK_TIMEOUT_S, h->socket);

	/*
	 * Before anything else is read: the longer the wait, the longer the
	 * pid of a process that died could be reused.
	 */
	if (stage == OCI_CREATE_RUNTIME && (pidfd = pin(st.pid)) < 0)
		pin_errno = errno;

	/*
	 * Runtimes copy the config's annotations into the state, but leave
	 * the member out when there are none: only then look at the config.
	 */
	ann = &st.ann;
	r = EXIT_OK;
	if (!st.ann.present) {
		if ((r = load_config(&st, OCI_POSTSTOP, &cfg)) != EXIT_OK)
			goto out;
		ann = &cfg.ann;
	}
	if (!ann->has_service)
		goto out;

	if (stage == OCI_POSTSTOP)
		r = hook_detach(h, &st) == 0 ? EXIT_OK : EXIT_FAIL;
	else if (pidfd < 0)
		r = pin_failed(&st, pin_errno);
	else
		r = attach(h, &st, &cfg, pidfd);
out:
	if (pidfd >= 0)
		close(pidfd);
	/* Both hold the claim, if there is one. */
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(&cfg, sizeof(cfg));
	return r;
}

int
main(int argc, char **argv)
{
	enum { OPT_SOCKET = 256 };
	static const struct option opts[] = {
		{ "control-socket", required_argument, NULL, OPT_SOCKET },
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa;
	struct hook h;
	enum oci_stage stage;
	const char *env;
	int c;

	memset(&h, 0, sizeof(h));
	opterr = 0;
	/* '+': options end at the stage. */
	while ((c = getopt_long(argc, argv, "+:hv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			if (*optarg == '\0')
				return usage_error("--control-socket is empty");
			h.socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'v':
			printf(HOOK_NAME " %s\n", HOOK_VERSION);
			return EXIT_OK;
		case ':':
			return usage_error("option '%.64s' needs a value",
			    argv[optind - 1]);
		default:
			return usage_error("unknown option '%.64s'",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no stage given (createRuntime or poststop)");
	if (strcmp(argv[optind], "createRuntime") == 0)
		stage = OCI_CREATE_RUNTIME;
	else if (strcmp(argv[optind], "poststop") == 0)
		stage = OCI_POSTSTOP;
	else
		return usage_error("unknown stage '%.64s' (expected "
		    "createRuntime or poststop)", argv[optind]);
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%.64s' after the stage",
		    argv[optind + 1]);
	if (h.socket == NULL) {
		env = getenv(HOOK_SOCKET_ENV);
		h.socket = env != NULL && *env != '\0' ? env :
		    HOOK_DEFAULT_SOCKET;
	}

	/*
	 * A claim passes through this process, in jansson's memory and
	 * ours: keep it out of core files, and wipe what is freed.  Best
	 * effort; neither call fails in practice.
	 */
	(void)setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	oci_json_wipe_freed();

	/* The runtime waits on us: bound the whole run, whatever blocks. */
	set_alarm_line(HOOK_NAME ": gave up after %d s reading the OCI state\n",
	    HOOK_TIMEOUT_S);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return fail("cannot set up the time limit");
	/* A closed stderr or socket must not end us without a status. */
	signal(SIGPIPE, SIG_IGN);
	h.deadline_ms = hook_now_ms() + HOOK_TIMEOUT_S * 1000 - HOOK_MARGIN_MS;
	alarm(HOOK_TIMEOUT_S);
	return run(&h, stage);
}
