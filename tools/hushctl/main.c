/*
 * hushctl: the operator's command line for hushd.  This file only parses
 * the global options and dispatches; each command group lives in its own
 * cmd_*.c over the small client library in client.c.
 */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "hushctl.h"

/* A command runs itself (run) or one of its group's subcommands (group). */
struct command {
	const char			*name;
	int				(*run)(const struct ctl *, int, char **);
	const struct command_group	*group;
	const char			*summary;
};

static const struct command commands[] = {
	{ "backup",	cmd_backup, NULL,	"Write a sealed backup of the store, or check one" },
	{ "ca",		cmd_ca, NULL,	"Print or rotate the cluster's root CA certificate" },
	{ "container",	NULL, &container_group,	"List the containers this node delivered secrets into" },
	{ "init",	cmd_init, NULL,	"Initialize a cluster with this node as its first manager" },
	{ "join",	cmd_join, NULL,	"Join this node to a cluster as a worker or a manager" },
	{ "join-token",	cmd_join_token, NULL,	"Show or rotate a join token" },
	{ "leave",	cmd_leave, NULL,	"Leave the cluster" },
	{ "node",	NULL, &node_group,	"Manage the nodes of the cluster" },
	{ "restore",	cmd_restore, NULL,	"Make this node the only manager of a backed-up cluster" },
	{ "secret",	NULL, &secret_group,	"Manage secrets" },
	{ "service",	NULL, &service_group,	"Manage services: named grants of secrets" },
	{ "status",	cmd_status, NULL,	"Show the state of this node" },
	{ "unlock",	cmd_unlock, NULL,	"Unlock a locked manager" },
	{ "unlock-key",	cmd_unlock_key, NULL,	"Show or rotate the unlock key" },
	{ "update",	cmd_update, NULL,	"Update the cluster's settings" },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
main_help(FILE *out)
{
	size_t i;

	fprintf(out,
	    "Usage:  hushctl [OPTIONS] COMMAND [ARGS...]\n"
	    "\n"
	    "Manage a hush cluster and its secrets through the local hushd.\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-12s%s\n", commands[i].name, commands[i].summary);
	fprintf(out,
	    "\n"
	    "Options:\n"
	    "      --control-socket PATH   hushd's control socket (default: $"
	    HUSHCTL_SOCKET_ENV ",\n"
	    "                              else " HUSHCTL_DEFAULT_SOCKET ")\n"
	    "  -h, --help                  Print this help\n"
	    "  -v, --version               Print the version\n"
	    "\n"
	    "Run 'hushctl COMMAND --help' for more information on a command.\n");
}

int
usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("hushctl: ", stderr);
	if (cmd != NULL)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nSee 'hushctl%s%s --help'.\n", cmd != NULL ? " " : "",
	    cmd != NULL ? cmd : "");
	return EXIT_USAGE;
}

int
getopt_error(const char *cmd, int c, char **argv)
{
	const char *given = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, '\0' };
	int len;

	/*
	 * getopt leaves the offending word at argv[optind - 1] except for a
	 * short option inside a cluster ("-qx"), which only optopt names.
	 */
	if (optopt > 0 && optopt < OPT_LONG_BASE &&
	    strncmp(given, "--", 2) != 0)
		given = shortopt;
	len = (int)strcspn(given, "=");
	if (c == ':')
		return usage_error(cmd, "option '%.*s' needs a value", len, given);
	return usage_error(cmd, "unknown option '%.*s'", len, given);
}

int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("hushctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int
show_help(const char *text)
{
	fputs(text, stdout);
	return EXIT_OK;
}

/* Runs argv[1] from g's table, or answers help / a usage error for g. */
static int
run_group(const struct ctl *ctl, const struct command_group *g, int argc, char **argv)
{
	const struct subcommand *sub;

	if (argc < 2) {
		fputs(g->help, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return show_help(g->help);
	for (sub = g->subs; sub->name != NULL; sub++) {
		if (strcmp(argv[1], sub->name) == 0) {
			optind = 0;
			return sub->run(ctl, argc - 1, argv + 1);
		}
	}
	if (argv[1][0] == '-')
		return usage_error(g->name, "unknown option '%.64s'", argv[1]);
	return usage_error(g->name, "unknown command '%.64s'", argv[1]);
}

static int
run_command(const struct command *cmd, const struct ctl *ctl, int argc, char **argv)
{
	if (cmd->group != NULL)
		return run_group(ctl, cmd->group, argc, argv);
	return cmd->run(ctl, argc, argv);
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Output that never reached stdout (a full disk, a closed pipe) is a failure. */
static int
finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "hushctl: cannot write output: %s\n",
		    strerror(errno));
		return status == EXIT_OK ? EXIT_FAIL : status;
	}
	return status;
}

int
main(int argc, char **argv)
{
	enum { OPT_SOCKET = OPT_LONG_BASE };
	static const struct option opts[] = {
		{ "control-socket", required_argument, NULL, OPT_SOCKET },
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd;
	struct ctl ctl;
	const char *env;
	char *help_argv[3];
	int c;

	ctl.socket = NULL;
	opterr = 0;
	/* '+': global options end at the command, whose own options follow. */
	while ((c = getopt_long(argc, argv, "+:hv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			if (*optarg == '\0')
				return usage_error(NULL, "--control-socket is empty");
			ctl.socket = optarg;
			break;
		case 'h':
			main_help(stdout);
			return finish(EXIT_OK);
		case 'v':
			printf("hushctl %s\n", HUSHCTL_VERSION);
			return finish(EXIT_OK);
		default:
			return getopt_error(NULL, c, argv);
		}
	}
	if (ctl.socket == NULL) {
		env = getenv(HUSHCTL_SOCKET_ENV);
		ctl.socket = env != NULL && *env != '\0' ? env :
		    HUSHCTL_DEFAULT_SOCKET;
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		main_help(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		if (argc == 1) {
			main_help(stdout);
			return finish(EXIT_OK);
		}
		if ((cmd = find_command(argv[1])) == NULL)
			return usage_error(NULL, "unknown command '%.64s'", argv[1]);
		/* "help CMD" is "CMD --help". */
		help_argv[0] = argv[1];
		help_argv[1] = (char *)"--help";
		help_argv[2] = NULL;
		optind = 0;
		return finish(run_command(cmd, &ctl, 2, help_argv));
	}
	if ((cmd = find_command(argv[0])) == NULL)
		return usage_error(NULL, "unknown command '%.64s'", argv[0]);
	/*
	 * Secret data and unlock keys pass through this process, some of it
	 * in ordinary heap (request and reply buffers): keep it out of core
	 * files.  Best effort; neither call fails in practice.
	 */
	(void)setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Secret bytes and keys live in sodium guarded memory. */
	if (sodium_init() < 0)
		return fail("cannot initialise libsodium");
	/* optind = 0 makes glibc's getopt start afresh on the command's argv. */
	optind = 0;
	return finish(run_command(cmd, &ctl, argc, argv));
}
