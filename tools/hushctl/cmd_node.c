/*
 * node ls | inspect | promote | demote | rm, as docker node does them.
 * Only a manager answers; what it reports of the others' health is what
 * it sees live, so two managers may briefly disagree.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "err.h"
#include "hushctl.h"
#include "msg.h"
#include "names.h"
#include "output.h"
#include "records.h"

static const char node_help[] =
    "Usage:  hushctl node COMMAND\n"
    "\n"
    "Manage the nodes of the cluster (on a manager)\n"
    "\n"
    "Commands:\n"
    "  demote      Demote one or more managers to workers\n"
    "  inspect     Display detailed information on one or more nodes\n"
    "  ls          List the nodes of the cluster\n"
    "  promote     Promote one or more workers to managers\n"
    "  repair      Rebuild this manager's raft data from the other managers\n"
    "  rm          Remove one or more nodes from the cluster\n"
    "  update      Update a node's labels\n"
    "\n"
    "Run 'hushctl node COMMAND --help' for more information on a command.\n";

static const char repair_help[] =
    "Usage:  hushctl node repair [OPTIONS]\n"
    "\n"
    "Rebuild this manager's raft data from the other managers: its raft files\n"
    "are moved aside into STATE_DIR/raft/damaged-DATE (kept, never deleted),\n"
    "and it rejoins as the same node and catches up from the leader.  Run it\n"
    "on the damaged manager, once 'hushctl status' says it is degraded.  It is\n"
    "refused on the only manager (there is no peer to copy from: restore the\n"
    "state directory from a backup) and while too few other managers answer\n"
    "to keep a quorum without this one.\n"
    "\n"
    "Options:\n"
    "  -f, --force   Rebuild a manager that is not degraded\n"
    "  -h, --help    Print this help\n";

static const char ls_help[] =
    "Usage:  hushctl node ls [OPTIONS]\n"
    "\n"
    "List the nodes of the cluster; '*' marks this node\n"
    "\n"
    "Aliases:\n"
    "  ls, list\n"
    "\n"
    "Options:\n"
    "      --format FORMAT   table (default) or json\n"
    "  -q, --quiet           Only display IDs\n"
    "  -h, --help            Print this help\n";

static const char inspect_help[] =
    "Usage:  hushctl node inspect [OPTIONS] NODE [NODE...]\n"
    "\n"
    "Display detailed information on one or more nodes, by ID\n"
    "\n"
    "Options:\n"
    "  -f, --format json   Output format; json is the only one and the default\n"
    "  -h, --help          Print this help\n";

static const char promote_help[] =
    "Usage:  hushctl node promote NODE [NODE...]\n"
    "\n"
    "Promote one or more workers to managers, by ID\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

static const char demote_help[] =
    "Usage:  hushctl node demote NODE [NODE...]\n"
    "\n"
    "Demote one or more managers to workers, by ID.  The managers that\n"
    "remain must still be a majority of reachable managers.\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

static const char rm_help[] =
    "Usage:  hushctl node rm [OPTIONS] NODE [NODE...]\n"
    "\n"
    "Remove one or more nodes from the cluster, by ID.  A manager must be\n"
    "demoted first; a node that is not down needs --force.\n"
    "\n"
    "Aliases:\n"
    "  rm, remove\n"
    "\n"
    "Options:\n"
    "  -f, --force   Remove the node even if it is not down\n"
    "  -h, --help    Print this help\n";

static const char update_help[] =
    "Usage:  hushctl node update [OPTIONS] NODE\n"
    "\n"
    "Update a node's labels, by ID.  Labels are what placement constraints\n"
    "such as node.labels.zone==eu match.\n"
    "\n"
    "Options:\n"
    "      --label-add KEY=VALUE   Add or replace a node label (repeatable)\n"
    "      --label-rm KEY          Remove a node label (repeatable)\n"
    "  -h, --help                  Print this help\n";

enum { OPT_FORMAT = OPT_LONG_BASE, OPT_LABEL_ADD, OPT_LABEL_RM };

/* NODE arguments: IDs only, and echoed, so without control characters. */
static const struct ref_kind nodes = { "NODE (an ID)", "nodes", arg_node_ref };

/* One REC_NODE record, already validated, into v. */
static int
view_from_record(const struct wire_msg *rec, struct node_view *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = wire_get_str(rec, T_NODE_ID, v->id, sizeof(v->id))) != 0 ||
	    (r = wire_get_u8(rec, T_ROLE, &v->role)) != 0 ||
	    (r = wire_get_str(rec, T_ADVERTISE_ADDR, v->addr,
	    sizeof(v->addr))) != 0 ||
	    (r = wire_get_str(rec, T_AVAILABILITY, v->availability,
	    sizeof(v->availability))) != 0 ||
	    (r = wire_get_i64(rec, T_CREATED, &v->created)) != 0)
		return r;
	/* The rest is optional: absent leaves the field empty or false. */
	(void)wire_get_str(rec, T_STATUS_TEXT, v->status_text,
	    sizeof(v->status_text));
	(void)wire_get_str(rec, T_RAFT_STATE, v->raft_state,
	    sizeof(v->raft_state));
	(void)wire_get_bool(rec, T_REACHABLE, &v->reachable);
	/* Too long for the buffer is a word this hushctl does not know. */
	(void)wire_get_str(rec, T_TLS_STATUS, v->tls_status,
	    sizeof(v->tls_status));
	v->has_updated = wire_get_i64(rec, T_UPDATED, &v->updated) == 0;
	for (size_t i = 0, o = 0; i < wire_count(rec, T_LABEL); i++) {
		char kv[LABEL_KEY_MAX + LABEL_VALUE_MAX + 2];

		if ((r = wire_field_str(wire_find(rec, T_LABEL, i), kv, sizeof(kv))) != 0)
			return r;
		if (o + strlen(kv) + 2 > sizeof(v->labels))
			return HUSH_E_TOOBIG;
		o += (size_t)snprintf(v->labels + o, sizeof(v->labels) - o, "%s\n", kv);
	}
	return 0;
}

static int
decode_node(const struct wire_msg *rec, void *view)
{
	return view_from_record(rec, view);
}

/* The pages of a list or inspect reply, into node_views. */
#define NODE_PAGES(cmd)	\
	{ (cmd), T_NODE, REC_NODE, sizeof(struct node_view), decode_node, NULL, NULL, 0 }

/* Asks hushd which node it is; self is "" when it does not say. */
static int
local_node_id(const struct ctl *ctl, const char *cmd, char *self, size_t cap)
{
	struct wire_enc e;
	struct reply rep;
	int r;

	client_request(&e, CTL_STATUS);
	r = client_call(ctl->socket, cmd, &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	if (wire_get_str(rep.msg, T_NODE_ID, self, cap) != 0)
		self[0] = '\0';
	reply_free(&rep);
	return 0;
}

static json_t *
node_item(size_t i, const void *arg)
{
	return node_view_json(&((const struct node_view *)arg)[i]);
}

static json_t *
node_inspect_item(size_t i, const void *arg)
{
	return node_view_inspect_json(&((const struct node_view *)arg)[i]);
}

static int
print_nodes_json(const struct node_view *v, size_t n, bool inspect)
{
	return print_json_list(n, inspect ? node_inspect_item : node_item, v, stdout);
}

static int
node_ls(const struct ctl *ctl, int argc, char **argv)
{
	const char *cmd = "node ls";
	struct record_pages np = NODE_PAGES(cmd);
	struct node_view *v;
	struct ls_opts o;
	bool mark;
	char self[HUSH_ID_LEN + 1];
	size_t n, i;
	int r;

	if ((r = ls_options(cmd, ls_help, NULL, argc, argv, &o)) >= 0)
		return r;

	/* Only the table marks this node, so only it needs to ask which. */
	mark = !o.quiet && o.format == FORMAT_TABLE;
	self[0] = '\0';
	if (mark && local_node_id(ctl, cmd, self, sizeof(self)) != 0)
		return EXIT_FAIL;
	if ((r = list_all(ctl->socket, cmd, CTL_NODE_LIST, NULL, NULL, records_page,
	    &np)) != 0) {
		free(np.v);
		return r;
	}
	v = np.v;
	n = node_views_live(v, np.n);
	node_views_sort(v, n);

	r = 0;
	if (o.quiet) {
		for (i = 0; i < n; i++)
			printf("%s\n", v[i].id);
	} else {
		switch (o.format) {
		case FORMAT_TABLE:
			r = node_views_table(v, n, self[0] != '\0' ? self : NULL,
			    stdout);
			break;
		case FORMAT_JSON:
			r = print_nodes_json(v, n, false);
			break;
		}
	}
	free(v);
	if (r != 0)
		return fail("%s: %s", cmd, hush_strerror(r));
	return EXIT_OK;
}

static int
node_inspect(const struct ctl *ctl, int argc, char **argv)
{
	const char *cmd = "node inspect";
	struct record_pages np = NODE_PAGES(cmd);
	struct node_view *v;
	size_t n, i, live;
	int r, status = EXIT_OK;

	if ((r = inspect_options(cmd, inspect_help, &nodes, argc, argv)) >= 0)
		return r;

	if ((r = inspect_all(ctl->socket, cmd, CTL_NODE_INSPECT, argv + optind,
	    (size_t)(argc - optind), records_page, &np)) != 0) {
		free(np.v);
		return r;
	}
	v = np.v;
	n = np.n;
	/* A removed node is no longer in the cluster: as docker, no such node. */
	for (i = 0; i < n; i++)
		if (node_removed(&v[i]))
			status = fail("%s: node %s has been removed from the "
			    "cluster", cmd, v[i].id);
	live = node_views_live(v, n);
	r = print_nodes_json(v, live, true);
	free(v);
	if (r != 0)
		return fail("%s: %s", cmd, hush_strerror(r));
	return status;
}

static int
node_promote(const struct ctl *ctl, int argc, char **argv)
{
	static const struct ref_change promote = { "node promote", promote_help, &nodes,
	    CTL_NODE_PROMOTE, false, "Node ", " promoted to a manager in the cluster." };

	return change_refs(ctl, &promote, argc, argv);
}

static int
node_demote(const struct ctl *ctl, int argc, char **argv)
{
	static const struct ref_change demote = { "node demote", demote_help, &nodes,
	    CTL_NODE_DEMOTE, false, "Manager ", " demoted in the cluster." };

	return change_refs(ctl, &demote, argc, argv);
}

static int
node_rm(const struct ctl *ctl, int argc, char **argv)
{
	static const struct ref_change rm = { "node rm", rm_help, &nodes,
	    CTL_NODE_RM, true, "", "" };

	return change_refs(ctl, &rm, argc, argv);
}

static int
node_update(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label-add",	required_argument, NULL, OPT_LABEL_ADD },
		{ "label-rm",	required_argument, NULL, OPT_LABEL_RM },
		OPTS_HELP_END,
	};
	const char *cmd = "node update";
	struct labels add = LABELS_INIT;
	const char **rm;
	size_t nrm = 0, i;
	struct wire_enc e;
	struct reply rep;
	char why[320], key[LABEL_KEY_MAX + 2], k[LABEL_KEY_MAX + 1], v[8];
	int c, r = EXIT_USAGE, stop;

	if ((rm = calloc((size_t)argc + 1, sizeof(*rm))) == NULL)
		return fail("%s: %s", cmd, hush_strerror(HUSH_E_NOMEM));
	while ((c = cmd_getopt(cmd, update_help, argc, argv, ":h", opts, &stop)) != -1) {
		switch (c) {
		case OPT_LABEL_ADD:
			if (labels_add(&add, optarg, why, sizeof(why)) != 0) {
				usage_error(cmd, "%s", why);
				goto out;
			}
			break;
		case OPT_LABEL_RM:
			/* A key alone: reuse the label rules with an empty value. */
			snprintf(key, sizeof(key), "%.*s=", LABEL_KEY_MAX, optarg);
			if (strchr(optarg, '=') != NULL || strlen(optarg) > LABEL_KEY_MAX ||
			    label_parse(key, k, sizeof(k), v, sizeof(v), why,
			    sizeof(why)) != 0) {
				usage_error(cmd, "--label-rm '%.64s': not a label key", optarg);
				goto out;
			}
			rm[nrm++] = optarg;
			break;
		}
	}
	if (stop >= 0) {
		r = stop;
		goto out;
	}
	if (optind + 1 != argc) {
		usage_error(cmd, optind >= argc ? "requires exactly one NODE" :
		    "requires exactly one NODE, got more");
		goto out;
	}
	if (add.n + nrm == 0) {
		usage_error(cmd, "nothing to update: give --label-add or --label-rm");
		goto out;
	}
	if (add.n + nrm > 64) {
		usage_error(cmd, "too many label changes at once (at most 64)");
		goto out;
	}
	if (arg_node_ref(argv[optind], why, sizeof(why)) != 0) {
		usage_error(cmd, "%s", why);
		goto out;
	}
	client_request(&e, CTL_NODE_UPDATE);
	client_put_req_id(&e);
	wire_put_str(&e, T_REF, argv[optind]);
	for (i = 0; i < add.n; i++)
		wire_put_str(&e, T_LABEL, add.kv[i]);
	for (i = 0; i < nrm; i++)
		wire_put_str(&e, T_LABEL_RM, rm[i]);
	r = client_call(ctl->socket, cmd, &e, &rep);
	wire_enc_free(&e);
	if (r != 0) {
		r = EXIT_FAIL;
		goto out;
	}
	reply_free(&rep);
	printf("%s\n", argv[optind]);
	r = EXIT_OK;
out:
	labels_free(&add);
	free(rm);
	return r;
}

static int
node_repair(const struct ctl *ctl, int argc, char **argv)
{
	int force = 0;		/* a flag: set by cmd_flags() */
	const struct option opts[] = {
		{ "force",	no_argument, &force, 'f' },
		OPTS_HELP_END,
	};
	/* Catching up by snapshot can take longer than a usual request. */
	static const struct client_opts once = { 120000, true,
	    "the repair may still be running: see 'hushctl status'", false, -1 };
	const char *cmd = "node repair";
	struct wire_enc e;
	struct reply rep;
	char text[257], clean[257];
	int r;

	if ((r = cmd_flags(cmd, repair_help, argc, argv, ":fh", opts)) >= 0)
		return r;
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%.64s'", argv[optind]);
	client_request(&e, CTL_NODE_REPAIR);
	wire_put_bool(&e, T_FORCE, force != 0);
	r = client_call_opts(ctl->socket, cmd, &e, &rep, &once);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	if (wire_get_str(rep.msg, T_STATUS_TEXT, text, sizeof(text)) != 0)
		text[0] = '\0';
	reply_free(&rep);
	sanitize(text, clean, sizeof(clean));
	printf("%s\n", clean);
	return EXIT_OK;
}

static const struct subcommand node_subs[] = {
	{ "ls",		node_ls },
	{ "list",	node_ls },
	{ "inspect",	node_inspect },
	{ "promote",	node_promote },
	{ "demote",	node_demote },
	{ "repair",	node_repair },
	{ "rm",		node_rm },
	{ "remove",	node_rm },
	{ "update",	node_update },
	{ NULL, NULL },
};

const struct command_group node_group = { "node", node_help, node_subs };
