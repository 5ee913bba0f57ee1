/*
 * The commands that name objects by reference (NODE, SECRET, SERVICE
 * arguments): the check of those arguments, the options of inspect, and
 * the one request by which rm, promote and demote change them all.  Each
 * noun is refused and echoed in the same words by every command.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "args.h"
#include "client.h"
#include "hushctl.h"
#include "msg.h"

/*
 * How many REF arguments fit in one request: every field counts against
 * WIRE_MAX_FIELDS.  An inspect has nothing but its T_REFs; a change also
 * has its T_REQ_ID (which REFS_MAX leaves room for), and T_FORCE if any.
 */
#define INSPECT_REFS_MAX	(REFS_MAX + 1)
#define CHANGE_REFS_MAX(force)	((force) ? REFS_MAX - 1 : REFS_MAX)

int
take_refs(const char *cmd, const struct ref_kind *k, int argc, char **argv,
    size_t max)
{
	char why[160];
	int i;

	if (optind >= argc)
		return usage_error(cmd, "requires at least one %s", k->one);
	if ((size_t)(argc - optind) > max)
		return usage_error(cmd, "too many %s at once (at most %zu)",
		    k->many, max);
	for (i = optind; i < argc; i++)
		if (k->check(argv[i], why, sizeof(why)) != 0)
			return usage_error(cmd, "%s", why);
	return 0;
}

int
inspect_options(const char *cmd, const char *help, const struct ref_kind *k,
    int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format",	required_argument, NULL, 'f' },
		OPTS_HELP_END,
	};
	enum out_format format;
	char why[160];
	int c, r, stop;

	while ((c = cmd_getopt(cmd, help, argc, argv, ":f:h", opts, &stop)) != -1) {
		switch (c) {
		case 'f':
			/* docker's Go templates are not offered: only json. */
			if (arg_format(optarg, false, &format, why,
			    sizeof(why)) != 0)
				return usage_error(cmd, "%s", why);
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if ((r = take_refs(cmd, k, argc, argv, INSPECT_REFS_MAX)) != 0)
		return r;
	return -1;
}

int
change_refs(const struct ctl *ctl, const struct ref_change *rc, int argc, char **argv)
{
	int force = 0;		/* a flag: set by cmd_flags() */
	const struct option opts[] = {
		OPTS_HELP_END,
	};
	const struct option force_opts[] = {
		{ "force",	no_argument, &force, 'f' },
		OPTS_HELP_END,
	};
	struct wire_enc e;
	struct reply rep;
	int i, r;

	if ((r = cmd_flags(rc->cmd, rc->help, argc, argv, rc->force ? ":fh" : ":h",
	    rc->force ? force_opts : opts)) >= 0)
		return r;
	if ((r = take_refs(rc->cmd, rc->kind, argc, argv,
	    CHANGE_REFS_MAX(rc->force))) != 0)
		return r;

	client_request(&e, rc->type);
	client_put_req_id(&e);
	for (i = optind; i < argc; i++)
		wire_put_str(&e, T_REF, argv[i]);
	if (rc->force)
		wire_put_bool(&e, T_FORCE, force != 0);
	r = client_call(ctl->socket, rc->cmd, &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	reply_free(&rep);
	/* As docker does: one line per argument, as given, name or id. */
	for (i = optind; i < argc; i++)
		printf("%s%s%s\n", rc->done_before, argv[i], rc->done_after);
	return EXIT_OK;
}
