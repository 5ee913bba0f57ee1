/*
 * The options every `hushctl ... ls` takes, parsed in one place so that
 * the four listings answer -q, --format and --help, and refuse what they
 * do not take, in the same words.
 */
#include <getopt.h>
#include <stdio.h>

#include "args.h"
#include "hushctl.h"

enum { OPT_FORMAT = OPT_LONG_BASE, OPT_EXTRA };

int
ls_options(const char *cmd, const char *help, const char *extra, int argc, char **argv,
    struct ls_opts *out)
{
	struct option opts[] = {
		{ "quiet",	no_argument,	   NULL, 'q' },
		{ "format",	required_argument, NULL, OPT_FORMAT },
		{ "help",	no_argument,	   NULL, 'h' },
		{ extra,	no_argument,	   NULL, OPT_EXTRA },
		{ NULL, 0, NULL, 0 },
	};
	char why[160];
	int c, stop;

	out->quiet = false;
	out->format = FORMAT_TABLE;
	out->extra = false;
	while ((c = cmd_getopt(cmd, help, argc, argv, ":qh", opts, &stop)) != -1) {
		switch (c) {
		case 'q':
			out->quiet = true;
			break;
		case OPT_FORMAT:
			if (arg_format(optarg, true, &out->format, why, sizeof(why)) != 0)
				return usage_error(cmd, "%s", why);
			break;
		case OPT_EXTRA:
			out->extra = true;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%.64s'", argv[optind]);
	return -1;
}
