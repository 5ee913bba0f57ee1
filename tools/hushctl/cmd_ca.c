/*
 * ca: the cluster's root certificate, and its rotation, as `docker swarm
 * ca` does them.  A rotation runs in the managers (README "Rotate the
 * CA"); this command starts one and, unless told to --detach, watches it
 * by asking CTL_CA every CA_POLL_MS until every node trusts only the new
 * root, then prints that root.
 *
 * Progress goes to stderr and the root to stdout, so that `hushctl ca
 * --rotate >root.pem` keeps the certificate and still shows the operator
 * the progress.  For the same reason stderr is what decides between bars
 * redrawn in place (a terminal) and one plain line per change (a log, a
 * test reading it).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca_args.h"
#include "ca_progress.h"
#include "ca_root.h"
#include "client.h"
#include "err.h"
#include "extca_spec.h"
#include "hushctl.h"
#include "msg.h"
#include "output.h"

static const char ca_help[] =
    "Usage:  hushctl ca [OPTIONS]\n"
    "\n"
    "Print the cluster's root CA certificate, or rotate it (on a manager)\n"
    "\n"
    "Options:\n"
    "      --ca-cert FILE          With --rotate: the new root certificate\n"
    "                              (PEM), instead of one hushd makes\n"
    "      --ca-key FILE           With --ca-cert: the new root's key (PEM)\n"
    "      --cert-expiry DURATION  With --rotate: validity of node\n"
    "                              certificates from now on, at least 1h\n"
    "  -d, --detach                Do not wait for a rotation to complete\n"
    "      --external-ca SPEC      With --rotate and --ca-cert: the external\n"
    "                              CA that holds the new root's key:\n"
    "                              protocol=cfssl,url=https://HOST[:PORT]\n"
    "                              [,cacert=FILE]\n"
    "  -q, --quiet                 Show no progress, only the certificate\n"
    "      --rotate                Rotate the root CA: cross-sign a new root,\n"
    "                              renew every node, replace the join tokens\n"
    "  -h, --help                  Print this help\n";

/* How often a watch asks for the rotation's figures. */
#define CA_POLL_MS		500
/*
 * A manager whose store is a moment behind the leader's may answer with
 * the state before this rotation: only after this long without ever
 * seeing it is another root a replaced rotation.
 */
#define CA_OTHER_GRACE_MS	10000
/* T_CA_CERT and T_CA_NEXT hold at most this much PEM (lib/msg.c). */
#define CA_PEM_MAX		16384
#define CA_WAIT_TEXT_MAX	1024

enum {
	OPT_ROTATE = OPT_LONG_BASE,
	OPT_CA_CERT,
	OPT_CA_KEY,
	OPT_EXTERNAL_CA,
	OPT_CERT_EXPIRY,
};

/* CTL_CA's answer. */
struct ca_answer {
	char			cert[CA_PEM_MAX + 1];
	char			next[CA_PEM_MAX + 1];
	bool			has_next;
	struct ca_figures	f;
	char			waiting[CA_WAIT_TEXT_MAX + 1];	/* sanitized */
};

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms unless interrupted first. */
static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (!interrupted && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* PEM as it goes to stdout: as hushd holds it, ending in a newline. */
static void
print_pem(const char *pem)
{
	size_t len = strlen(pem);

	fputs(pem, stdout);
	if (len == 0 || pem[len - 1] != '\n')
		putchar('\n');
}

/* Asks CTL_CA; prints why and returns EXIT_FAIL on failure. */
static int
ask_ca(const struct ctl *ctl, struct ca_answer *a)
{
	char waiting[CA_WAIT_TEXT_MAX + 1];
	struct wire_enc e;
	struct reply rep;
	int r;

	client_request(&e, CTL_CA);
	r = client_call(ctl->socket, "ca", &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	memset(a, 0, sizeof(*a));
	if ((r = wire_get_str(rep.msg, T_CA_CERT, a->cert, sizeof(a->cert))) != 0 ||
	    (r = wire_get_u8(rep.msg, T_CA_PHASE, &a->f.phase)) != 0) {
		reply_free(&rep);
		return fail("ca: bad reply from hushd: %s", hush_strerror(r));
	}
	a->has_next = wire_get_str(rep.msg, T_CA_NEXT, a->next,
	    sizeof(a->next)) == 0;
	/* Absent counts are zero: nothing to wait for. */
	(void)wire_get_u32(rep.msg, T_NODES_TOTAL, &a->f.total);
	(void)wire_get_u32(rep.msg, T_NODES_TRUSTING, &a->f.trusting);
	(void)wire_get_u32(rep.msg, T_NODES_RENEWED, &a->f.renewed);
	if (wire_get_str(rep.msg, T_STATUS_TEXT, waiting, sizeof(waiting)) == 0)
		sanitize(waiting, a->waiting, sizeof(a->waiting));
	reply_free(&rep);
	return 0;
}

/* What the watch drew last, so a terminal's drawing goes back over it. */
struct display {
	bool	quiet, tty;
	int	nlines;				/* lines drawn on the terminal */
	char	last[CA_PROGRESS_MAX];		/* what was drawn last */
};

static void
show(struct display *d, const struct ca_answer *a)
{
	char text[CA_PROGRESS_MAX];
	int n;

	if (d->quiet)
		return;
	if (!d->tty) {
		if (ca_progress_line(&a->f, a->waiting, text, sizeof(text)) != 0 ||
		    strcmp(text, d->last) == 0)
			return;
		fprintf(stderr, "%s\n", text);
		snprintf(d->last, sizeof(d->last), "%s", text);
		return;
	}
	if (ca_progress_lines(&a->f, a->waiting, text, sizeof(text), &n) != 0 ||
	    strcmp(text, d->last) == 0)
		return;
	/* Back to the first line drawn, and clear from there down. */
	if (d->nlines > 0)
		fprintf(stderr, "\r\033[%dA\033[J", d->nlines);
	fputs(text, stderr);
	fflush(stderr);
	d->nlines = n;
	snprintf(d->last, sizeof(d->last), "%s", text);
}

/*
 * Watches the rotation to ours until it completes, is replaced, or the
 * operator interrupts; first is the answer already in hand, if any.  On
 * completion prints the new root to stdout.
 */
static int
watch(const struct ctl *ctl, const char *ours, bool quiet,
    const struct ca_answer *first)
{
	struct sigaction sa, old_int, old_term;
	struct display d;
	struct ca_answer *a;
	enum ca_verdict v;
	int64_t start = now_ms();
	bool seen = false;
	int r = EXIT_OK;

	if ((a = malloc(sizeof(*a))) == NULL)
		return fail("ca: %s", hush_strerror(HUSH_E_NOMEM));
	memset(&d, 0, sizeof(d));
	d.quiet = quiet;
	d.tty = isatty(STDERR_FILENO) == 1;
	/* No SA_RESTART: the pause between two questions ends at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	for (;;) {
		if (first != NULL) {
			*a = *first;
			first = NULL;
		} else if (ask_ca(ctl, a) != 0) {
			r = fail("ca: stopped watching: the rotation goes on; "
			    "watch it with 'hushctl ca'");
			break;
		}
		v = ca_judge(ours, a->cert, a->has_next ? a->next : NULL, &a->f);
		if (v == CA_GOING)
			seen = true;
		else if (v == CA_OTHER && !seen &&
		    now_ms() - start < CA_OTHER_GRACE_MS)
			v = CA_GOING;
		show(&d, a);
		if (v == CA_DONE) {
			if (!quiet)
				fprintf(stderr, "CA rotation complete: every node "
				    "trusts the new root only\n");
			print_pem(a->cert);
			break;
		}
		if (v == CA_OTHER) {
			r = fail("ca: another CA rotation replaced this one: the "
			    "cluster moves to another root now; see 'hushctl ca'");
			break;
		}
		pause_ms(CA_POLL_MS);
		if (interrupted) {
			if (d.tty && d.nlines > 0)
				fputc('\n', stderr);
			r = fail("ca: stopped watching: the rotation goes on; "
			    "watch it with 'hushctl ca'");
			break;
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(a);
	return r;
}

/* Without --rotate: the root, after the rotation under way unless detach. */
static int
show_root(const struct ctl *ctl, bool detach, bool quiet)
{
	struct ca_answer *a;
	char *ours;
	int r;

	if ((a = malloc(sizeof(*a))) == NULL)
		return fail("ca: %s", hush_strerror(HUSH_E_NOMEM));
	if ((r = ask_ca(ctl, a)) != 0) {
		free(a);
		return r;
	}
	if (a->f.phase == CA_PHASE_NONE || detach || !a->has_next) {
		if (a->f.phase != CA_PHASE_NONE)
			fprintf(stderr, "hushctl: ca: a CA rotation is in "
			    "progress; this is the current root%s\n",
			    detach ? ": run 'hushctl ca' to watch the rotation" : "");
		print_pem(a->cert);
		free(a);
		return EXIT_OK;
	}
	/* The next root is the one watched; a itself is the first answer. */
	if ((ours = strdup(a->next)) == NULL) {
		free(a);
		return fail("ca: %s", hush_strerror(HUSH_E_NOMEM));
	}
	r = watch(ctl, ours, quiet, a);
	free(ours);
	free(a);
	return r;
}

static int
rotate(const struct ctl *ctl, const struct ca_root *root, bool have_expiry,
    uint64_t expiry, bool detach, bool quiet)
{
	struct wire_enc e;
	struct reply rep;
	char *next;
	int r;

	if ((next = malloc(CA_PEM_MAX + 1)) == NULL)
		return fail("ca: %s", hush_strerror(HUSH_E_NOMEM));
	client_request(&e, CTL_CA_ROTATE);
	client_put_req_id(&e);
	ca_root_put(&e, root);
	if (have_expiry)
		wire_put_u64(&e, T_CERT_EXPIRY, expiry);
	r = client_call(ctl->socket, "ca", &e, &rep);
	wire_enc_free(&e);
	if (r != 0) {
		free(next);
		return EXIT_FAIL;
	}
	r = wire_get_str(rep.msg, T_CA_NEXT, next, CA_PEM_MAX + 1);
	reply_free(&rep);
	if (r != 0) {
		free(next);
		return fail("ca: bad reply from hushd: %s", hush_strerror(r));
	}
	if (detach) {
		print_pem(next);
		r = EXIT_OK;
	} else {
		r = watch(ctl, next, quiet, NULL);
	}
	free(next);
	return r;
}

int
cmd_ca(const struct ctl *ctl, int argc, char **argv)
{
	int detach = 0, quiet = 0;	/* flags: set by cmd_getopt() */
	const struct option opts[] = {
		{ "rotate",	 no_argument,	    NULL, OPT_ROTATE },
		{ "ca-cert",	 required_argument, NULL, OPT_CA_CERT },
		{ "ca-key",	 required_argument, NULL, OPT_CA_KEY },
		{ "external-ca", required_argument, NULL, OPT_EXTERNAL_CA },
		{ "cert-expiry", required_argument, NULL, OPT_CERT_EXPIRY },
		{ "detach",	 no_argument,	    &detach, 'd' },
		{ "quiet",	 no_argument,	    &quiet, 'q' },
		OPTS_HELP_END,
	};
	const char *cert_path = NULL, *key_path = NULL, *spec = NULL;
	struct ca_args a = { 0 };
	struct extca_spec extca;
	struct ca_root root;
	uint64_t expiry = 0;
	char why[320];
	int c, r, stop;

	while ((c = cmd_getopt("ca", ca_help, argc, argv, ":dqh", opts,
	    &stop)) != -1) {
		switch (c) {
		case OPT_ROTATE:
			a.rotate = true;
			break;
		case OPT_CA_CERT:
			cert_path = optarg;
			a.ca_cert = true;
			break;
		case OPT_CA_KEY:
			key_path = optarg;
			a.ca_key = true;
			break;
		case OPT_EXTERNAL_CA:
			spec = optarg;
			a.external_ca = true;
			break;
		case OPT_CERT_EXPIRY:
			if (arg_cert_expiry(optarg, &expiry, why, sizeof(why)) != 0)
				return usage_error("ca", "%s", why);
			a.cert_expiry = true;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if (optind < argc)
		return usage_error("ca", "unexpected argument '%.64s'",
		    argv[optind]);
	if (ca_args_check(&a, why, sizeof(why)) != 0)
		return usage_error("ca", "%s", why);
	if (spec != NULL && extca_spec_parse(spec, &extca, why, sizeof(why)) != 0)
		return usage_error("ca", "%s", why);
	if (!a.rotate)
		return show_root(ctl, detach != 0, quiet != 0);

	if ((r = ca_root_read("ca", cert_path, key_path,
	    spec != NULL ? &extca : NULL, &root)) != 0)
		return r;
	r = rotate(ctl, &root, a.cert_expiry, expiry, detach != 0, quiet != 0);
	ca_root_free(&root);
	return r;
}
