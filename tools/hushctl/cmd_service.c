/*
 * service create | ls | inspect | update | rm | claim.  A hush service is a named
 * grant: which secrets, as which files, on which nodes.  The --secret
 * syntax is docker's; the daemon checks everything again.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "claim.h"
#include "client.h"
#include "err.h"
#include "hushctl.h"
#include "msg.h"
#include "names.h"
#include "output.h"
#include "records.h"
#include "service_args.h"

static const char service_help[] =
    "Usage:  hushctl service COMMAND\n"
    "\n"
    "Manage services: named grants of secrets to containers\n"
    "\n"
    "Commands:\n"
    "  claim       Issue the claim a service's containers must present\n"
    "  create      Create a service\n"
    "  inspect     Display detailed information on one or more services\n"
    "  ls          List services\n"
    "  rm          Remove one or more services\n"
    "  update      Update a service\n"
    "\n"
    "Run 'hushctl service COMMAND --help' for more information on a command.\n";

static const char create_help[] =
    "Usage:  hushctl service create [OPTIONS] NAME\n"
    "\n"
    "Create a service.  Containers started with the OCI annotation\n"
    "io.hush.service=NAME and the service's claim (see 'hushctl service\n"
    "claim') get its secrets under /run/secrets.\n"
    "\n"
    "Options:\n"
    "      --constraint EXPR   Placement constraint: node.id, node.role or\n"
    "                          node.labels.KEY, with == or != (repeatable)\n"
    "      --secret SECRET     Grant a secret: SRC[,target=T][,uid=U][,gid=G]\n"
    "                          [,mode=M]; target defaults to the secret's name,\n"
    "                          uid and gid to 0, mode to 0444 (repeatable)\n"
    "  -h, --help              Print this help\n";

static const char update_help[] =
    "Usage:  hushctl service update [OPTIONS] SERVICE\n"
    "\n"
    "Update a service, by name or ID.  Removals apply before additions.\n"
    "\n"
    "Options:\n"
    "      --constraint-add EXPR   Add a placement constraint (repeatable)\n"
    "      --constraint-rm EXPR    Remove a placement constraint (repeatable)\n"
    "      --secret-add SECRET     Grant a secret, as --secret of create (repeatable)\n"
    "      --secret-rm SRC         Remove every grant of a secret (repeatable)\n"
    "  -h, --help                  Print this help\n";

static const char ls_help[] =
    "Usage:  hushctl service ls [OPTIONS]\n"
    "\n"
    "List services (on a manager), or with --placed the services placed on\n"
    "this node as this node holds them (on any node)\n"
    "\n"
    "Aliases:\n"
    "  ls, list\n"
    "\n"
    "Options:\n"
    "      --format FORMAT   table (default) or json\n"
    "      --placed          Only the services placed on this node, from its own copy\n"
    "  -q, --quiet           Only display IDs\n"
    "  -h, --help            Print this help\n";

static const char inspect_help[] =
    "Usage:  hushctl service inspect [OPTIONS] SERVICE [SERVICE...]\n"
    "\n"
    "Display detailed information on one or more services, by name or ID\n"
    "\n"
    "Options:\n"
    "  -f, --format json   Output format; json is the only one and the default\n"
    "  -h, --help          Print this help\n";

static const char claim_help[] =
    "Usage:  hushctl service claim [OPTIONS] SERVICE\n"
    "\n"
    "Issue the claim a container must present to get the secrets of SERVICE\n"
    "(by name or ID), and print it.  hushd keeps only a digest of it: this is\n"
    "the one time it is shown.  Give it to the container as the annotation\n"
    "io.hush.claim=CLAIM or the environment variable HUSH_CLAIM=CLAIM (a\n"
    "podman secret with type=env, a Kubernetes secretKeyRef).\n"
    "\n"
    "Options:\n"
    "      --rotate   Replace the claim the service has: containers already\n"
    "                 running keep their secrets, new ones need the new claim\n"
    "  -h, --help     Print this help\n";

static const char rm_help[] =
    "Usage:  hushctl service rm SERVICE [SERVICE...]\n"
    "\n"
    "Remove one or more services, by name or ID\n"
    "\n"
    "Aliases:\n"
    "  rm, remove\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

enum {
	OPT_FORMAT = OPT_LONG_BASE, OPT_SECRET, OPT_CONSTRAINT, OPT_SECRET_ADD,
	OPT_SECRET_RM, OPT_CONSTRAINT_ADD, OPT_CONSTRAINT_RM, OPT_PLACED
};

/* SERVICE arguments: a name or an ID, checked as a secret's are. */
static const struct ref_kind services = { "SERVICE (a name or an ID)", "services", arg_ref };

/* Besides T_REQ_ID, T_NAME or T_REF: everything else of a request. */
#define CHANGES_MAX	(REFS_MAX - 1)

static void
put_grant(struct wire_enc *e, const struct grant_arg *g)
{
	struct wire_enc rec;
	const uint8_t *buf;
	size_t len;

	wire_enc_init_fields(&rec, 1024);
	wire_put_str(&rec, T_REF, g->source);
	wire_put_str(&rec, T_TARGET, g->target);
	wire_put_u32(&rec, T_UID, g->uid);
	wire_put_u32(&rec, T_GID, g->gid);
	wire_put_u32(&rec, T_MODE, g->mode);
	if (wire_enc_finish(&rec, &buf, &len) == 0)
		wire_put_bytes(e, T_GRANT, buf, len);
	else if (e->err == 0)
		e->err = rec.err;
	wire_enc_free(&rec);
}

/* What create and update gather from their options before one request. */
struct changes {
	struct grant_arg	*grants;
	size_t			 ngrants;
	const char		**secret_rm, **constraints, **constraint_rm;
	size_t			 nsecret_rm, nconstraints, nconstraint_rm;
	char			 (*canon)[CONSTRAINT_ARG_MAX + 1];
};

static int
changes_init(struct changes *c, int argc)
{
	size_t n = (size_t)argc + 1;

	memset(c, 0, sizeof(*c));
	c->grants = calloc(n, sizeof(*c->grants));
	c->secret_rm = calloc(n, sizeof(char *));
	c->constraints = calloc(n, sizeof(char *));
	c->constraint_rm = calloc(n, sizeof(char *));
	c->canon = calloc(n, sizeof(*c->canon));
	return c->grants && c->secret_rm && c->constraints && c->constraint_rm && c->canon ?
	    0 : HUSH_E_NOMEM;
}

static void
changes_free(struct changes *c)
{
	free(c->grants);
	free(c->secret_rm);
	free(c->constraints);
	free(c->constraint_rm);
	free(c->canon);
}

static int
add_constraint(const char *cmd, struct changes *c, const char *text, bool rm)
{
	char why[320];
	char *canon = c->canon[c->nconstraints + c->nconstraint_rm];

	if (constraint_arg(text, canon, CONSTRAINT_ARG_MAX + 1, why, sizeof(why)) != 0)
		return usage_error(cmd, "%s", why);
	if (rm)
		c->constraint_rm[c->nconstraint_rm++] = canon;
	else
		c->constraints[c->nconstraints++] = canon;
	return 0;
}

static void
put_changes(struct wire_enc *e, const struct changes *c)
{
	size_t i;

	for (i = 0; i < c->ngrants; i++)
		put_grant(e, &c->grants[i]);
	for (i = 0; i < c->nsecret_rm; i++)
		wire_put_str(e, T_SECRET_RM, c->secret_rm[i]);
	for (i = 0; i < c->nconstraints; i++)
		wire_put_str(e, T_CONSTRAINT, c->constraints[i]);
	for (i = 0; i < c->nconstraint_rm; i++)
		wire_put_str(e, T_CONSTRAINT_RM, c->constraint_rm[i]);
}

static size_t
changes_count(const struct changes *c)
{
	return c->ngrants + c->nsecret_rm + c->nconstraints + c->nconstraint_rm;
}

/* create and update share their option loop; update passes update=true. */
static int
service_change(const struct ctl *ctl, int argc, char **argv, bool update)
{
	static const struct option create_opts[] = {
		{ "secret",	required_argument, NULL, OPT_SECRET },
		{ "constraint",	required_argument, NULL, OPT_CONSTRAINT },
		OPTS_HELP_END,
	};
	static const struct option update_opts[] = {
		{ "secret-add",	    required_argument, NULL, OPT_SECRET_ADD },
		{ "secret-rm",	    required_argument, NULL, OPT_SECRET_RM },
		{ "constraint-add", required_argument, NULL, OPT_CONSTRAINT_ADD },
		{ "constraint-rm",  required_argument, NULL, OPT_CONSTRAINT_RM },
		OPTS_HELP_END,
	};
	const char *cmd = update ? "service update" : "service create", *name;
	struct changes ch;
	struct wire_enc e;
	struct reply rep;
	char why[320], id[HUSH_ID_LEN + 1];
	int c, r = EXIT_USAGE, stop;

	if (changes_init(&ch, argc) != 0) {
		changes_free(&ch);
		return fail("%s: %s", cmd, hush_strerror(HUSH_E_NOMEM));
	}
	while ((c = cmd_getopt(cmd, update ? update_help : create_help, argc, argv, ":h",
	    update ? update_opts : create_opts, &stop)) != -1) {
		switch (c) {
		case OPT_SECRET:
		case OPT_SECRET_ADD:
			if (grant_arg_parse(optarg, &ch.grants[ch.ngrants], why,
			    sizeof(why)) != 0) {
				usage_error(cmd, "%s", why);
				goto out;
			}
			ch.ngrants++;
			break;
		case OPT_SECRET_RM:
			if (arg_ref(optarg, why, sizeof(why)) != 0) {
				usage_error(cmd, "--secret-rm: %s", why);
				goto out;
			}
			ch.secret_rm[ch.nsecret_rm++] = optarg;
			break;
		case OPT_CONSTRAINT:
		case OPT_CONSTRAINT_ADD:
		case OPT_CONSTRAINT_RM:
			if (add_constraint(cmd, &ch, optarg, c == OPT_CONSTRAINT_RM) != 0)
				goto out;
			break;
		}
	}
	if (stop >= 0) {
		r = stop;
		goto out;
	}
	if (optind + 1 != argc) {
		usage_error(cmd, optind >= argc ? "requires exactly one SERVICE" :
		    "unexpected argument '%.64s'", argv[optind + (optind < argc)]);
		goto out;
	}
	name = argv[optind];
	if (update ? arg_ref(name, why, sizeof(why)) != 0 :
	    secret_name_check(name, strlen(name), why, sizeof(why)) != 0) {
		usage_error(cmd, "%s", why);
		goto out;
	}
	if (update && changes_count(&ch) == 0) {
		usage_error(cmd, "nothing to update");
		goto out;
	}
	if (changes_count(&ch) > CHANGES_MAX || ch.ngrants > HUSH_SERVICE_GRANTS_MAX) {
		usage_error(cmd, "too many changes at once (at most %d grants, %d in all)",
		    HUSH_SERVICE_GRANTS_MAX, CHANGES_MAX);
		goto out;
	}

	client_request(&e, update ? CTL_SERVICE_UPDATE : CTL_SERVICE_CREATE);
	client_put_req_id(&e);
	wire_put_str(&e, update ? T_REF : T_NAME, name);
	put_changes(&e, &ch);
	r = client_call(ctl->socket, cmd, &e, &rep);
	wire_enc_free(&e);
	if (r != 0) {
		r = EXIT_FAIL;
		goto out;
	}
	if (update) {
		printf("%s\n", name);
		r = EXIT_OK;
	} else if (wire_get_str(rep.msg, T_SERVICE_ID, id, sizeof(id)) != 0) {
		r = fail("%s: bad reply from hushd: no service id", cmd);
	} else {
		printf("%s\n", id);
		r = EXIT_OK;
	}
	reply_free(&rep);
out:
	changes_free(&ch);
	return r;
}

static int
service_create(const struct ctl *ctl, int argc, char **argv)
{
	return service_change(ctl, argc, argv, false);
}

static int
service_update(const struct ctl *ctl, int argc, char **argv)
{
	return service_change(ctl, argc, argv, true);
}

/* ---- ls and inspect ----------------------------------------------------- */

struct print_ctx {
	const char	*cmd;
	json_t		*arr;
	struct table	*t;
	bool		 quiet, inspect;
	int64_t		 now;
	struct wire_msg	 grant;
};

static json_t *
grant_json(const struct wire_msg *g)
{
	char id[HUSH_ID_LEN + 1], name[SECRET_NAME_MAX + 1] = "", target[HUSH_TARGET_MAX + 1];
	char num[16];
	uint32_t uid, gid, mode;
	json_t *o, *file;

	if (wire_get_str(g, T_SECRET_ID, id, sizeof(id)) != 0 ||
	    wire_get_str(g, T_TARGET, target, sizeof(target)) != 0 ||
	    wire_get_u32(g, T_UID, &uid) != 0 || wire_get_u32(g, T_GID, &gid) != 0 ||
	    wire_get_u32(g, T_MODE, &mode) != 0)
		return NULL;
	(void)wire_get_str(g, T_NAME, name, sizeof(name));
	if ((o = json_object()) == NULL || (file = json_object()) == NULL) {
		json_decref(o);
		return NULL;
	}
	/* docker's shape: UID and GID are strings, Mode a number. */
	json_object_set_new(file, "Name", json_text(target));
	snprintf(num, sizeof(num), "%u", uid);
	json_object_set_new(file, "UID", json_string(num));
	snprintf(num, sizeof(num), "%u", gid);
	json_object_set_new(file, "GID", json_string(num));
	json_object_set_new(file, "Mode", json_integer(mode));
	json_object_set_new(o, "File", file);
	json_object_set_new(o, "SecretID", json_string(id));
	json_object_set_new(o, "SecretName", json_text(name));
	return o;
}

static json_t *
time_json(int64_t t)
{
	char buf[FMT_MAX];

	return fmt_rfc3339(t, buf, sizeof(buf)) == 0 ? json_string(buf) : json_null();
}

static int
print_record(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	struct print_ctx *pc = arg;
	char id[HUSH_ID_LEN + 1], name[SECRET_NAME_MAX + 1], text[HUSH_CONSTRAINT_MAX + 1];
	char count[16], ago[FMT_MAX + 8];
	int64_t created, updated;
	uint64_t version;
	json_t *o, *spec, *secrets, *place, *cons, *g;
	char why[200];
	int r;

	if ((r = wire_get_str(rec, T_SERVICE_ID, id, sizeof(id))) != 0 ||
	    (r = wire_get_str(rec, T_NAME, name, sizeof(name))) != 0 ||
	    (r = wire_get_i64(rec, T_CREATED, &created)) != 0 ||
	    (r = wire_get_i64(rec, T_UPDATED, &updated)) != 0 ||
	    (r = wire_get_u64(rec, T_VERSION, &version)) != 0)
		return r;
	if (pc->quiet) {
		printf("%s\n", id);
		return 0;
	}
	if (pc->t != NULL) {
		const char *cells[4] = { id, name, count, ago };

		snprintf(count, sizeof(count), "%zu", wire_count(rec, T_GRANT));
		if (fmt_ago(updated, pc->now, ago, sizeof(ago)) != 0)
			snprintf(ago, sizeof(ago), "?");
		return table_add(pc->t, cells);
	}
	if ((o = json_object()) == NULL)
		return HUSH_E_NOMEM;
	json_array_append_new(pc->arr, o);
	json_object_set_new(o, "ID", json_string(id));
	if (!pc->inspect) {
		json_object_set_new(o, "Name", json_text(name));
		json_object_set_new(o, "Secrets", json_integer((json_int_t)wire_count(rec, T_GRANT)));
		json_object_set_new(o, "CreatedAt", time_json(created));
		json_object_set_new(o, "UpdatedAt", time_json(updated));
		return 0;
	}
	json_object_set_new(o, "Version", json_integer((json_int_t)version));
	json_object_set_new(o, "CreatedAt", time_json(created));
	json_object_set_new(o, "UpdatedAt", time_json(updated));
	spec = json_object();
	secrets = json_array();
	place = json_object();
	cons = json_array();
	if (spec == NULL || secrets == NULL || place == NULL || cons == NULL) {
		json_decref(spec);
		json_decref(secrets);
		json_decref(place);
		json_decref(cons);
		return HUSH_E_NOMEM;
	}
	json_object_set_new(o, "Spec", spec);
	json_object_set_new(spec, "Name", json_text(name));
	json_object_set_new(spec, "Secrets", secrets);
	json_object_set_new(spec, "Placement", place);
	json_object_set_new(place, "Constraints", cons);
	for (size_t i = 0; i < wire_count(rec, T_GRANT); i++) {
		const struct wire_field *f = wire_find(rec, T_GRANT, i);

		if ((r = msg_parse_record(f->val, f->len, REC_SERVICE_GRANT, &pc->grant, why,
		    sizeof(why))) != 0)
			return r;
		if ((g = grant_json(&pc->grant)) == NULL)
			return HUSH_E_PROTO;
		json_array_append_new(secrets, g);
	}
	for (size_t i = 0; i < wire_count(rec, T_CONSTRAINT); i++) {
		if ((r = wire_field_str(wire_find(rec, T_CONSTRAINT, i), text, sizeof(text))) != 0)
			return r;
		json_array_append_new(cons, json_text(text));
	}
	/* when the claim in force was issued; never the claim, nor its digest */
	json_object_set_new(o, "ClaimIssuedAt", wire_get_i64(rec, T_CLAIM_ISSUED,
	    &created) == 0 ? time_json(created) : json_null());
	return 0;
}

/* One page of a list or inspect: its services join the table or array. */
static int
print_page(void *arg, const struct wire_msg *reply)
{
	struct print_ctx *pc = arg;
	int r;

	if ((r = msg_records_each(reply, T_SERVICE, REC_SERVICE, print_record, pc)) != 0)
		return fail("%s: %s", pc->cmd, hush_strerror(r));
	return 0;
}

static int
service_show(const struct ctl *ctl, int argc, char **argv, bool inspect)
{
	static const char *const headers[] = { "ID", "NAME", "SECRETS", "UPDATED" };
	const char *cmd = inspect ? "service inspect" : "service ls";
	enum out_format format = inspect ? FORMAT_JSON : FORMAT_TABLE;
	struct print_ctx *pc;
	struct table t;
	bool quiet = false, placed = false;
	int r;

	if (inspect) {
		if ((r = inspect_options(cmd, inspect_help, &services, argc, argv)) >= 0)
			return r;
	} else {
		struct ls_opts o;

		if ((r = ls_options(cmd, ls_help, "placed", argc, argv, &o)) >= 0)
			return r;
		quiet = o.quiet;
		format = o.format;
		placed = o.extra;
	}

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return fail("%s: %s", cmd, hush_strerror(HUSH_E_NOMEM));
	pc->cmd = cmd;
	pc->inspect = inspect;
	pc->now = (int64_t)time(NULL);
	pc->quiet = quiet;
	r = 0;
	if (quiet) {
		/* IDs only, whatever the format. */
	} else if (format == FORMAT_TABLE) {
		r = table_init(&t, 4, headers);
		pc->t = &t;
	} else if (format == FORMAT_JSON && (pc->arr = json_array()) == NULL) {
		r = HUSH_E_NOMEM;
	}
	if (r == 0) {
		/* Every page's records go into one table or array, then print. */
		if (inspect)
			r = inspect_all(ctl->socket, cmd, CTL_SERVICE_INSPECT, argv + optind,
			    (size_t)(argc - optind), print_page, pc);
		else
			r = list_all(ctl->socket, cmd, placed ? CTL_ASSIGNMENTS :
			    CTL_SERVICE_LIST, NULL, NULL, print_page, pc);
		if (r != 0)
			r = EXIT_FAIL;
	} else {
		r = fail("%s: %s", cmd, hush_strerror(r));
	}
	if (r == 0 && pc->t != NULL)
		r = table_print(&t, stdout);
	else if (r == 0 && pc->arr != NULL)
		r = print_json(pc->arr, stdout);
	if (r < 0)
		r = fail("%s: %s", cmd, hush_strerror(r));
	if (pc->t != NULL)
		table_free(&t);
	json_decref(pc->arr);
	free(pc);
	return r != 0 ? r : EXIT_OK;
}

static int
service_ls(const struct ctl *ctl, int argc, char **argv)
{
	return service_show(ctl, argc, argv, false);
}

static int
service_inspect(const struct ctl *ctl, int argc, char **argv)
{
	return service_show(ctl, argc, argv, true);
}

/*
 * The claim is made here, not in hushd: its secret is random bytes from
 * this process, and only their digest goes to hushd, to the raft log and
 * to the nodes the service is placed on.  The service's id, which the
 * claim names so that hushd can tell a claim for another service from a
 * wrong one, comes back in the reply.
 */
static int
service_claim(const struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_ROTATE = OPT_LONG_BASE };
	static const struct option opts[] = {
		{ "rotate",	no_argument, NULL, OPT_ROTATE },
		OPTS_HELP_END,
	};
	const char *cmd = "service claim";
	uint8_t digest[CLAIM_DIGEST_BYTES];
	char text[CLAIM_LEN + 1], why[160];
	struct wire_enc e;
	struct reply rep;
	struct claim cl;
	bool rotate = false;
	int c, r, stop;

	while ((c = cmd_getopt(cmd, claim_help, argc, argv, ":h", opts, &stop)) != -1) {
		switch (c) {
		case OPT_ROTATE:
			rotate = true;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if (optind + 1 != argc)
		return usage_error(cmd, optind >= argc ? "requires exactly one SERVICE" :
		    "unexpected argument '%.64s'", argv[optind + (optind < argc)]);
	if (arg_ref(argv[optind], why, sizeof(why)) != 0)
		return usage_error(cmd, "%s", why);

	memset(&cl, 0, sizeof(cl));
	randombytes_buf(cl.secret, sizeof(cl.secret));
	claim_digest(&cl, digest);
	client_request(&e, CTL_SERVICE_UPDATE);
	client_put_req_id(&e);
	wire_put_str(&e, T_REF, argv[optind]);
	wire_put_bytes(&e, T_CLAIM_DIGEST, digest, sizeof(digest));
	if (rotate)
		wire_put_bool(&e, T_ROTATE, true);
	r = client_call(ctl->socket, cmd, &e, &rep);
	wire_enc_free(&e);
	if (r != 0) {
		claim_wipe(&cl);
		return EXIT_FAIL;
	}
	if (wire_get_str(rep.msg, T_SERVICE_ID, cl.service_id, sizeof(cl.service_id)) != 0 ||
	    claim_format(&cl, text, sizeof(text)) != 0)
		r = fail("%s: bad reply from hushd: no service id", cmd);
	else {
		printf("%s\n", text);
		if (isatty(STDOUT_FILENO))
			fprintf(stderr, "hushd keeps only a digest of this claim: "
			    "store it now, it is not shown again.\n");
		r = EXIT_OK;
	}
	reply_free(&rep);
	claim_wipe(&cl);
	sodium_memzero(text, sizeof(text));
	return r;
}

static int
service_rm(const struct ctl *ctl, int argc, char **argv)
{
	static const struct ref_change rm = { "service rm", rm_help, &services, CTL_SERVICE_RM,
	    false, "", "" };

	return change_refs(ctl, &rm, argc, argv);
}

static const struct subcommand service_subs[] = {
	{ "claim",	service_claim },
	{ "create",	service_create },
	{ "ls",		service_ls },
	{ "list",	service_ls },
	{ "inspect",	service_inspect },
	{ "update",	service_update },
	{ "rm",		service_rm },
	{ "remove",	service_rm },
	{ NULL, NULL },
};

const struct command_group service_group = { "service", service_help, service_subs };
