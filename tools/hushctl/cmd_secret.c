/*
 * secret create | ls | inspect | rm, as docker secret does them.  Secret
 * data is read into guarded memory, bounded, and never printed: the
 * daemon only ever reports metadata back.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "client.h"
#include "err.h"
#include "hushctl.h"
#include "msg.h"
#include "names.h"
#include "output.h"
#include "readfile.h"
#include "records.h"
#include "secbuf.h"

static const char secret_help[] =
    "Usage:  hushctl secret COMMAND\n"
    "\n"
    "Manage secrets\n"
    "\n"
    "Commands:\n"
    "  create      Create a secret from a file or standard input\n"
    "  inspect     Display detailed information on one or more secrets\n"
    "  ls          List secrets\n"
    "  rm          Remove one or more secrets\n"
    "  update      Give a secret new data (a new version)\n"
    "\n"
    "Run 'hushctl secret COMMAND --help' for more information on a command.\n";

static const char create_help[] =
    "Usage:  hushctl secret create [OPTIONS] NAME [FILE|-]\n"
    "\n"
    "Create a secret from FILE, or from standard input if FILE is - or\n"
    "omitted.  The data must be 1 to 511999 bytes.\n"
    "\n"
    "Options:\n"
    "  -l, --label KEY=VALUE   Secret label (repeatable)\n"
    "  -h, --help              Print this help\n";

static const char ls_help[] =
    "Usage:  hushctl secret ls [OPTIONS]\n"
    "\n"
    "List secrets\n"
    "\n"
    "Aliases:\n"
    "  ls, list\n"
    "\n"
    "Options:\n"
    "      --format FORMAT   table (default) or json\n"
    "  -q, --quiet           Only display IDs\n"
    "  -h, --help            Print this help\n";

static const char inspect_help[] =
    "Usage:  hushctl secret inspect [OPTIONS] SECRET [SECRET...]\n"
    "\n"
    "Display detailed information on one or more secrets, by name or ID\n"
    "(metadata only: secret data is never shown)\n"
    "\n"
    "Options:\n"
    "  -f, --format json   Output format; json is the only one and the default\n"
    "  -h, --help          Print this help\n";

static const char rm_help[] =
    "Usage:  hushctl secret rm SECRET [SECRET...]\n"
    "\n"
    "Remove one or more secrets, by name or ID\n"
    "\n"
    "Aliases:\n"
    "  rm, remove\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

static const char update_help[] =
    "Usage:  hushctl secret update SECRET [FILE|-]\n"
    "\n"
    "Give a secret, by name or ID, new data from FILE, or from standard\n"
    "input if FILE is - or omitted; its version goes up by one.\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

enum { OPT_FORMAT = OPT_LONG_BASE };

/* SECRET arguments: a name or an ID. */
static const struct ref_kind secrets = { "SECRET (a name or an ID)", "secrets", arg_ref };

/* Reads FILE (or stdin for NULL or "-") into guarded memory, bounded. */
static int
read_data(const char *path, struct secbuf *buf, size_t *len)
{
	int r;

	if ((r = read_bounded("secret create", path, HUSH_SECRET_MAX, false, buf, len)) != 0)
		return r;
	if (*len == 0) {
		secbuf_free(buf);
		return fail("secret data is empty");
	}
	if (*len > HUSH_SECRET_MAX) {
		secbuf_free(buf);
		return fail("secret data is larger than %d bytes",
		    HUSH_SECRET_MAX);
	}
	return 0;
}

static int
secret_create(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label",	required_argument, NULL, 'l' },
		OPTS_HELP_END,
	};
	const char *cmd = "secret create", *name, *file = NULL;
	struct labels labels = LABELS_INIT;
	struct secbuf data = SECBUF_INIT;
	struct wire_enc e;
	struct reply rep;
	char why[320], id[HUSH_ID_LEN + 1];
	size_t len, i;
	int c, r = EXIT_USAGE, stop;

	while ((c = cmd_getopt(cmd, create_help, argc, argv, ":l:h", opts, &stop)) != -1) {
		switch (c) {
		case 'l':
			if (labels_add(&labels, optarg, why, sizeof(why)) != 0) {
				usage_error(cmd, "%s", why);
				goto out;
			}
			break;
		}
	}
	if (stop >= 0) {
		r = stop;
		goto out;
	}
	if (optind >= argc) {
		usage_error(cmd, "requires a secret NAME");
		goto out;
	}
	name = argv[optind++];
	if (secret_name_check(name, strlen(name), why, sizeof(why)) != 0) {
		usage_error(cmd, "%s", why);
		goto out;
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc) {
		usage_error(cmd, "unexpected argument '%.64s' (give one NAME "
		    "and at most one FILE)", argv[optind]);
		goto out;
	}
	if ((r = read_data(file, &data, &len)) != 0)
		goto out;

	client_request(&e, CTL_SECRET_CREATE);
	client_put_req_id(&e);
	wire_put_str(&e, T_NAME, name);
	wire_put_bytes(&e, T_DATA, data.p, len);
	/* The encoder holds its own (wiped) copy from here on. */
	secbuf_free(&data);
	for (i = 0; i < labels.n; i++)
		wire_put_str(&e, T_LABEL, labels.kv[i]);
	r = client_call(ctl->socket, cmd, &e, &rep);
	wire_enc_free(&e);
	if (r != 0) {
		r = EXIT_FAIL;
		goto out;
	}
	/*
	 * T_DUPLICATE means a retry found the first attempt committed; the
	 * id is the one that attempt created, which is what was asked for.
	 */
	if (wire_get_str(rep.msg, T_SECRET_ID, id, sizeof(id)) != 0)
		r = fail("%s: bad reply from hushd: no secret id", cmd);
	else {
		printf("%s\n", id);
		r = EXIT_OK;
	}
	reply_free(&rep);
out:
	labels_free(&labels);
	return r;
}

static void
free_view(void *view)
{
	secret_view_free(view);
}

static void
views_free(struct secret_view *v, size_t n)
{
	free_records(v, n, sizeof(*v), free_view);
}

/* One REC_SECRET record, already validated, into v. */
static int
view_from_record(const struct wire_msg *rec, struct secret_view *v)
{
	char kv[LABEL_KEY_MAX + 1 + LABEL_VALUE_MAX + 1];
	size_t i, n;
	int r;

	if ((r = wire_get_str(rec, T_SECRET_ID, v->id, sizeof(v->id))) != 0 ||
	    (r = wire_get_str(rec, T_NAME, v->name, sizeof(v->name))) != 0 ||
	    (r = wire_get_i64(rec, T_CREATED, &v->created)) != 0 ||
	    (r = wire_get_i64(rec, T_UPDATED, &v->updated)) != 0 ||
	    (r = wire_get_u32(rec, T_VERSION, &v->version)) != 0 ||
	    (r = wire_get_u32(rec, T_DATA_LEN, &v->size)) != 0)
		return r;
	n = wire_count(rec, T_LABEL);
	if (n == 0)
		return 0;
	if ((v->labels = calloc(n, sizeof(*v->labels))) == NULL)
		return HUSH_E_NOMEM;
	for (i = 0; i < n; i++) {
		if ((r = wire_field_str(wire_find(rec, T_LABEL, i), kv,
		    sizeof(kv))) != 0)
			return r;
		if ((v->labels[i] = strdup(kv)) == NULL)
			return HUSH_E_NOMEM;
		v->nlabels++;
	}
	return 0;
}

static int
decode_view(const struct wire_msg *rec, void *view)
{
	return view_from_record(rec, view);
}

/* The pages of a list or inspect reply, into secret_views. */
#define SECRET_PAGES(cmd)	\
	{ (cmd), T_SECRET, REC_SECRET, sizeof(struct secret_view), decode_view, free_view, \
	    NULL, 0 }

static json_t *
secret_item(size_t i, const void *arg)
{
	return secret_view_json(&((const struct secret_view *)arg)[i]);
}

static int
print_views_json(const struct secret_view *v, size_t n)
{
	return print_json_list(n, secret_item, v, stdout);
}

static int
secret_ls(const struct ctl *ctl, int argc, char **argv)
{
	const char *cmd = "secret ls";
	struct record_pages sp = SECRET_PAGES(cmd);
	struct secret_view *v;
	struct ls_opts o;
	size_t n, i;
	int r;

	if ((r = ls_options(cmd, ls_help, NULL, argc, argv, &o)) >= 0)
		return r;
	if ((r = list_all(ctl->socket, cmd, CTL_SECRET_LIST, NULL, NULL, records_page,
	    &sp)) != 0) {
		views_free(sp.v, sp.n);
		return r;
	}
	v = sp.v;
	n = sp.n;
	secret_views_sort(v, n);

	r = 0;
	if (o.quiet) {
		for (i = 0; i < n; i++)
			printf("%s\n", v[i].id);
	} else {
		switch (o.format) {
		case FORMAT_TABLE:
			r = secret_views_table(v, n, (int64_t)time(NULL), stdout);
			break;
		case FORMAT_JSON:
			r = print_views_json(v, n);
			break;
		}
	}
	views_free(v, n);
	if (r != 0)
		return fail("%s: %s", cmd, hush_strerror(r));
	return EXIT_OK;
}

static int
secret_inspect(const struct ctl *ctl, int argc, char **argv)
{
	const char *cmd = "secret inspect";
	struct record_pages sp = SECRET_PAGES(cmd);
	int r;

	if ((r = inspect_options(cmd, inspect_help, &secrets, argc, argv)) >= 0)
		return r;

	if ((r = inspect_all(ctl->socket, cmd, CTL_SECRET_INSPECT, argv + optind,
	    (size_t)(argc - optind), records_page, &sp)) != 0) {
		views_free(sp.v, sp.n);
		return r;
	}
	r = print_views_json(sp.v, sp.n);
	views_free(sp.v, sp.n);
	if (r != 0)
		return fail("%s: %s", cmd, hush_strerror(r));
	return EXIT_OK;
}

static int
secret_rm(const struct ctl *ctl, int argc, char **argv)
{
	static const struct ref_change rm = { "secret rm", rm_help, &secrets, CTL_SECRET_RM,
	    false, "", "" };

	return change_refs(ctl, &rm, argc, argv);
}

static int
secret_update(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		OPTS_HELP_END,
	};
	const char *cmd = "secret update", *ref, *file = NULL;
	struct secbuf data = SECBUF_INIT;
	struct wire_enc e;
	struct reply rep;
	char why[160];
	size_t len;
	int r, stop;

	if ((stop = cmd_flags(cmd, update_help, argc, argv, ":h", opts)) >= 0)
		return stop;
	if (optind >= argc)
		return usage_error(cmd, "requires a SECRET (a name or an ID)");
	ref = argv[optind++];
	if (arg_ref(ref, why, sizeof(why)) != 0)
		return usage_error(cmd, "%s", why);
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%.64s' (give one SECRET "
		    "and at most one FILE)", argv[optind]);
	if ((r = read_data(file, &data, &len)) != 0)
		return r;
	client_request(&e, CTL_SECRET_UPDATE);
	client_put_req_id(&e);
	wire_put_str(&e, T_REF, ref);
	wire_put_bytes(&e, T_DATA, data.p, len);
	secbuf_free(&data);
	r = client_call(ctl->socket, cmd, &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	reply_free(&rep);
	printf("%s\n", ref);
	return EXIT_OK;
}

static const struct subcommand secret_subs[] = {
	{ "create",	secret_create },
	{ "ls",		secret_ls },
	{ "list",	secret_ls },
	{ "inspect",	secret_inspect },
	{ "rm",		secret_rm },
	{ "remove",	secret_rm },
	{ "update",	secret_update },
	{ NULL, NULL },
};

const struct command_group secret_group = { "secret", secret_help, secret_subs };
