/*
 * container ls: the containers this node has delivered secrets into.
 * hushd answers from its own table (service, pid, files, when attached);
 * with --mounter it asks the mounter process instead, which holds the
 * mounts and the bytes, so that an operator (or a test) can see that a
 * container was really let go.  The node is asked directly: this is what
 * one node holds, not cluster state, so it works on workers and while
 * the node is locked or has left its cluster.
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
#include "output.h"
#include "records.h"

static const char container_help[] =
    "Usage:  hushctl container COMMAND\n"
    "\n"
    "Show the containers this node has delivered secrets into\n"
    "\n"
    "Commands:\n"
    "  ls          List the containers holding this node's secrets\n"
    "\n"
    "Run 'hushctl container COMMAND --help' for more information on a command.\n";

static const char ls_help[] =
    "Usage:  hushctl container ls [OPTIONS]\n"
    "\n"
    "List the containers this node has delivered secrets into (attached by\n"
    "the OCI hook since hushd started), newest first\n"
    "\n"
    "Aliases:\n"
    "  ls, list\n"
    "\n"
    "Options:\n"
    "      --format FORMAT   table (default) or json\n"
    "      --mounter         Ask the mounter process, which holds the mounts,\n"
    "                        instead of hushd's own table (no service or time)\n"
    "  -q, --quiet           Only display container IDs\n"
    "  -h, --help            Print this help\n";

enum { OPT_FORMAT = OPT_LONG_BASE, OPT_MOUNTER };

/* REC_CONTAINER, already validated, into a view. */
static int
decode_container(const struct wire_msg *rec, void *view)
{
	struct container_view *v = view;
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = wire_get_str(rec, T_CONTAINER_ID, v->id, sizeof(v->id))) != 0 ||
	    (r = wire_get_str(rec, T_SERVICE_NAME, v->service, sizeof(v->service))) != 0 ||
	    (r = wire_get_u32(rec, T_PID, &v->pid)) != 0 ||
	    (r = wire_get_u32(rec, T_COUNT, &v->files)) != 0 ||
	    (r = wire_get_i64(rec, T_CREATED, &v->attached)) != 0)
		return r;
	return 0;
}

/* REC_MOUNT: the mounter knows no service and no time. */
static int
decode_mount(const struct wire_msg *rec, void *view)
{
	struct container_view *v = view;
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = wire_get_str(rec, T_CONTAINER_ID, v->id, sizeof(v->id))) != 0 ||
	    (r = wire_get_u32(rec, T_PID, &v->pid)) != 0 ||
	    (r = wire_get_u32(rec, T_COUNT, &v->files)) != 0)
		return r;
	return 0;
}

struct container_pages {
	const char		*cmd;
	bool			 mounter;
	struct container_view	*v;
	size_t			 n;
};

static void
ask_mounter(struct wire_enc *e, const void *xarg)
{
	if (((const struct container_pages *)xarg)->mounter)
		wire_put_bool(e, T_MOUNTER, true);
}

/* One page of the list: its records join the others. */
static int
decode_page(void *arg, const struct wire_msg *m)
{
	struct container_pages *cp = arg;

	return decode_records(cp->cmd, m, cp->mounter ? T_MOUNT : T_CONTAINER,
	    cp->mounter ? REC_MOUNT : REC_CONTAINER, sizeof(*cp->v),
	    cp->mounter ? decode_mount : decode_container, NULL, (void **)&cp->v, &cp->n);
}

/* Asks hushd, every page; on success *v holds *n views (free with free()). */
static int
fetch(const struct ctl *ctl, const char *cmd, bool mounter, struct container_view **v,
    size_t *n)
{
	struct container_pages cp = { cmd, mounter, NULL, 0 };
	int r;

	if ((r = list_all(ctl->socket, cmd, CTL_CONTAINER_LIST, ask_mounter, &cp,
	    decode_page, &cp)) != 0) {
		free(cp.v);
		return r;
	}
	*v = cp.v;
	*n = cp.n;
	return 0;
}

/* One id a line; a runtime's id is free text, and this goes to a terminal. */
static int
print_ids(const struct container_view *v, size_t n)
{
	char id[HUSH_CONTAINER_ID_MAX + 1];

	for (size_t i = 0; i < n; i++) {
		sanitize(v[i].id, id, sizeof(id));
		if (printf("%s\n", id) < 0)
			return HUSH_E_IO;
	}
	return 0;
}

struct json_list {
	const struct container_view	*v;
	bool				 mounter;
};

static json_t *
list_item(size_t i, const void *arg)
{
	const struct json_list *l = arg;

	return container_view_json(&l->v[i], l->mounter);
}

static int
print_views_json(const struct container_view *v, size_t n, bool mounter)
{
	struct json_list l = { v, mounter };

	return print_json_list(n, list_item, &l, stdout);
}

static int
container_ls(const struct ctl *ctl, int argc, char **argv)
{
	const char *cmd = "container ls";
	struct container_view *v;
	struct ls_opts o;
	bool mounter;
	size_t n;
	int r;

	if ((r = ls_options(cmd, ls_help, "mounter", argc, argv, &o)) >= 0)
		return r;
	mounter = o.extra;
	if ((r = fetch(ctl, cmd, mounter, &v, &n)) != 0)
		return r;
	container_views_sort(v, n);
	if (o.quiet)		/* IDs only, whatever the format */
		r = print_ids(v, n);
	else if (o.format == FORMAT_TABLE)
		r = container_views_table(v, n, mounter, (int64_t)time(NULL), stdout);
	else
		r = print_views_json(v, n, mounter);
	free(v);
	if (r != 0)
		return fail("%s: %s", cmd, hush_strerror(r));
	return EXIT_OK;
}

static const struct subcommand container_subs[] = {
	{ "ls",		container_ls },
	{ "list",	container_ls },
	{ NULL, NULL },
};

const struct command_group container_group = { "container", container_help, container_subs };
