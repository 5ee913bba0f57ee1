/*
 * What the hushctl command files share: the command entry points that
 * main.c dispatches to, and the few helpers that keep every command's
 * error and usage output in the same shape.
 *
 * Exit statuses follow the usual convention: 0 success, 1 the operation
 * failed (daemon error, I/O), 2 the command line was wrong.
 */
#ifndef HUSHCTL_H
#define HUSHCTL_H

#include <stdbool.h>

#include "args.h"

#ifndef HUSHCTL_VERSION
#define HUSHCTL_VERSION		"0.1.0"
#endif
#define HUSHCTL_DEFAULT_SOCKET	"/run/hush/control.sock"
#define HUSHCTL_SOCKET_ENV	"HUSH_CONTROL_SOCKET"

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* Long-only options use values above any short option character. */
#define OPT_LONG_BASE	256

struct ctl {
	const char	*socket;	/* path of hushd's control socket */
};

/*
 * A command receives its own arguments with argv[0] naming it ("init",
 * "create"), parses them with getopt_long and returns the exit status.
 */
/* cmd_recover.c: disaster recovery. */
int	init_force_new_cluster(const struct ctl *ctl, bool force);
int	cmd_backup(const struct ctl *ctl, int argc, char **argv);
int	cmd_restore(const struct ctl *ctl, int argc, char **argv);
struct secbuf;
/* cmd_lock.c: an unlock key typed or piped, parsed into kek; prints its error. */
int	read_kek(struct secbuf *kek);
int	cmd_init(const struct ctl *, int, char **);
int	cmd_join(const struct ctl *, int, char **);
int	cmd_join_token(const struct ctl *, int, char **);
int	cmd_leave(const struct ctl *, int, char **);
int	cmd_update(const struct ctl *, int, char **);
int	cmd_status(const struct ctl *, int, char **);
int	cmd_unlock(const struct ctl *, int, char **);
int	cmd_unlock_key(const struct ctl *, int, char **);
/* cmd_ca.c: the root CA certificate and its rotation. */
int	cmd_ca(const struct ctl *, int, char **);

/*
 * "hushctl: CMD: message" plus a pointer to "hushctl CMD --help" on
 * stderr; returns EXIT_USAGE so callers can `return usage_error(...)`.
 * cmd is the full command path ("secret create"), or NULL for hushctl
 * itself.
 */
int	usage_error(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Reports getopt_long's '?' or ':' result c as a usage error. */
int	getopt_error(const char *cmd, int c, char **argv);
/* "hushctl: message" on stderr; returns EXIT_FAIL. */
int	fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes a command's help text to stdout and returns EXIT_OK. */
int	show_help(const char *text);

struct option;

/* The end of every command's option table: -h/--help, which cmd_getopt() answers. */
#define OPTS_HELP_END	{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }

/*
 * getopt_long() for a command (cmd names it in messages, help is its
 * --help text): the next option its loop must handle, else -1.  At -1,
 * *stop is -1 when the options ended, or the exit status to return:
 * -h/--help printed help, or an unknown option or a missing value was
 * reported.  An entry of longopts with a flag is a flag: given by its
 * long name or its short letter (val), it sets *flag = val and does
 * not come back.
 */
int	cmd_getopt(const char *cmd, const char *help, int argc, char **argv,
	    const char *shortopts, const struct option *longopts, int *stop);
/* For a command whose options are all flags: -1 to go on, else the exit status. */
int	cmd_flags(const char *cmd, const char *help, int argc, char **argv,
	    const char *shortopts, const struct option *longopts);

/* What an `ls` was asked for (ls_options.c). */
struct ls_opts {
	bool		 quiet;		/* -q: IDs only */
	enum out_format	 format;	/* --format table|json */
	bool		 extra;		/* its own flag, e.g. --mounter */
};
/*
 * Parses the options every `ls` takes: -q, --format table|json, --help,
 * and, when extra is not NULL, one flag of its own by that long name.
 * Returns -1 when the listing should go on with *out filled, else the
 * exit status to return (help printed, or a usage error reported).
 */
int	ls_options(const char *cmd, const char *help, const char *extra, int argc,
	    char **argv, struct ls_opts *out);

/*
 * What the REF arguments of a command are (refs.c), for its messages: at
 * least one is required, so many at once are too many, and check refuses
 * one as typed (arg_ref, arg_node_ref).
 */
struct ref_kind {
	const char	*one;		/* "NODE (an ID)" */
	const char	*many;		/* "nodes" */
	int		(*check)(const char *s, char *why, size_t whylen);
};
/* Checks and counts the REF arguments from optind on: 0, else the exit status. */
int	take_refs(const char *cmd, const struct ref_kind *k, int argc, char **argv,
	    size_t max);
/*
 * The options of every inspect (-f/--format json, -h/--help), then its REF
 * arguments, as many as one request holds.  Returns -1 when the inspect
 * should go on, else the exit status to return.
 */
int	inspect_options(const char *cmd, const char *help, const struct ref_kind *k,
	    int argc, char **argv);
/*
 * rm and its kin: a command whose options are -h/--help, and -f/--force
 * if force, and whose arguments are REFs.  Its request of type names every
 * one, with T_REQ_ID so that a retry is safe (hushd finds them all before
 * it changes any), and T_FORCE if force.  When it succeeds each argument
 * is printed as given, on a line of its own between done_before and
 * done_after.
 */
struct ref_change {
	const char		*cmd, *help;
	const struct ref_kind	*kind;
	uint16_t		 type;
	bool			 force;
	const char		*done_before, *done_after;
};
/* Parses the options, checks the REFs (take_refs()), sends, prints: the exit status. */
int	change_refs(const struct ctl *ctl, const struct ref_change *rc, int argc,
	    char **argv);

/*
 * A command with subcommands ("secret", "node", "service", "container"):
 * its table is all its file declares; main.c runs argv[1] from it, or
 * answers help or a usage error for the group.
 */
struct subcommand {
	const char	*name;
	int		(*run)(const struct ctl *, int, char **);
};
struct command_group {
	const char		*name;
	const char		*help;
	const struct subcommand	*subs;		/* ends with { NULL, NULL } */
};
extern const struct command_group container_group, node_group, secret_group,
	    service_group;

#endif
