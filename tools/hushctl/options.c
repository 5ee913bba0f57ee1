/*
 * The option loop every command shares: getopt_long() over the
 * command's own table, with -h/--help and the usage errors answered
 * here in the same words for every command, and flags set from the
 * table itself.
 */
#include <getopt.h>
#include <stddef.h>

#include "hushctl.h"

/* The entry of a short option c that only sets a flag, if any. */
static const struct option *
short_flag(const struct option *longopts, int c)
{
	for (; longopts->name != NULL; longopts++)
		if (longopts->flag != NULL && longopts->val == c)
			return longopts;
	return NULL;
}

int
cmd_getopt(const char *cmd, const char *help, int argc, char **argv,
    const char *shortopts, const struct option *longopts, int *stop)
{
	const struct option *f;
	int c;

	*stop = -1;
	for (;;) {
		c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == 0)
			continue;	/* a long flag: getopt_long set it */
		if ((f = short_flag(longopts, c)) != NULL) {
			*f->flag = f->val;
			continue;
		}
		switch (c) {
		case -1:
			return -1;
		case 'h':
			*stop = show_help(help);
			return -1;
		case '?':
		case ':':
			*stop = getopt_error(cmd, c, argv);
			return -1;
		default:
			return c;
		}
	}
}

int
cmd_flags(const char *cmd, const char *help, int argc, char **argv,
    const char *shortopts, const struct option *longopts)
{
	int c, stop;

	/* Every option in the table is a flag or help: none comes back. */
	if ((c = cmd_getopt(cmd, help, argc, argv, shortopts, longopts,
	    &stop)) != -1)
		return getopt_error(cmd, c, argv);
	return stop;
}
