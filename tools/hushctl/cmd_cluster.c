/*
 * Cluster membership and settings: init, join, join-token, leave, update.
 * Wording follows docker swarm's so the instructions read the same.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cfssl.h"
#include "client.h"
#include "err.h"
#include "hushctl.h"
#include "join_token.h"
#include "msg.h"
#include "output.h"
#include "readfile.h"
#include "unlock_key.h"

static const char init_help[] =
    "Usage:  hushctl init [OPTIONS]\n"
    "\n"
    "Initialize a cluster with this node as its first manager\n"
    "\n"
    "Options:\n"
    "      --advertise-addr ADDR[:PORT]  Address other nodes reach this node at\n"
    "                                    (default port 4477)\n"
    "      --autolock[=true|false]       Require the unlock key to start a manager\n"
    "                                    after it restarts\n"
"      --ca-cert FILE                The cluster's root certificate (PEM), which\n"
    "                                    the external CA issues under\n"
    "      --ca-key FILE                 That root's key (not with --external-ca)\n"
    "      --cert-expiry DURATION        Validity of node certificates, at least 1h\n"
    "                                    (e.g. 90d, 2160h; default 90d)\n"
    "      --external-ca protocol=cfssl,url=https://HOST[:PORT][,cacert=FILE]\n"
    "                                    Have this cfssl CA sign every node\n"
    "                                    certificate: the root key never enters\n"
    "                                    the cluster; cacert: the PEM its TLS\n"
    "                                    certificate chains to (default: the root)\n"
    "      --force-new-cluster           On a manager of a cluster that lost its\n"
    "                                    quorum: make it the only manager, keeping\n"
    "                                    its store; the other managers are removed\n"
    "      --force                       With --force-new-cluster: even while a\n"
    "                                    quorum of managers answers\n"
    "      --listen-addr ADDR[:PORT]     Address to listen on for other nodes\n"
    "                                    (default 0.0.0.0:4477)\n"
    "  -h, --help                        Print this help\n";

static const char join_help[] =
    "Usage:  hushctl join [OPTIONS] --token TOKEN HOST[:PORT]\n"
    "\n"
    "Join this node to a cluster through the manager at HOST[:PORT] (default\n"
    "port 4477), as a worker or as a manager: the token decides which.  Run\n"
    "'hushctl join-token' on a manager for the command.  A new manager first\n"
    "catches up with the cluster, which can take a minute.\n"
    "\n"
    "Options:\n"
    "      --advertise-addr ADDR[:PORT]  Address other nodes reach this node at\n"
    "                                    (default: this host's first IPv4\n"
    "                                    address; default port 4477)\n"
    "      --listen-addr ADDR[:PORT]     Address to listen on for other nodes\n"
    "                                    (default 0.0.0.0:4477)\n"
    "      --token TOKEN                 Join token (required)\n"
    "  -h, --help                        Print this help\n";

static const char join_token_help[] =
    "Usage:  hushctl join-token [OPTIONS] (worker|manager)\n"
    "\n"
    "Show the command that joins a node to this cluster in a role\n"
    "\n"
    "Options:\n"
    "  -q, --quiet    Only print the token\n"
    "      --rotate   Replace the token; nodes that already joined are unaffected\n"
    "  -h, --help     Print this help\n";

static const char leave_help[] =
    "Usage:  hushctl leave [OPTIONS]\n"
    "\n"
    "Leave the cluster.  This node forgets its certificate and keys, and a\n"
    "manager its copy of the store.  Demote a manager before it leaves: a\n"
    "manager that leaves can cost the cluster its raft quorum.\n"
    "\n"
    "Options:\n"
    "  -f, --force   Leave even though this node is a manager\n"
    "  -h, --help    Print this help\n";

static const char update_help[] =
    "Usage:  hushctl update [OPTIONS]\n"
    "\n"
    "Update the cluster's settings\n"
    "\n"
    "Options:\n"
    "      --autolock[=true|false]   Require the unlock key to start a manager\n"
    "                                after it restarts\n"
    "      --cert-expiry DURATION    Validity of node certificates, at least 1h\n"
    "                                (e.g. 90d, 2160h)\n"
    "  -h, --help                    Print this help\n";

enum {
	OPT_AUTOLOCK = OPT_LONG_BASE,
	OPT_CERT_EXPIRY,
	OPT_ADVERTISE_ADDR,
	OPT_LISTEN_ADDR,
	OPT_ROTATE,
	OPT_TOKEN,
	OPT_FORCE_NEW,
	OPT_FORCE,
	OPT_CA_CERT,
	OPT_CA_KEY,
	OPT_EXTERNAL_CA,
};

/* A new manager catches up with the cluster before hushd replies: up to 60 s. */
#define JOIN_REPLY_MS	90000

/* A required string field; validation guaranteed it, a failure is a bug. */
static int
get_str(const struct reply *rep, const char *what, uint16_t tag, char *out,
    size_t cap)
{
	int r;

	if ((r = wire_get_str(rep->msg, tag, out, cap)) != 0) {
		fprintf(stderr, "hushctl: %s: bad reply from hushd: %s\n", what,
		    hush_strerror(r));
		return EXIT_FAIL;
	}
	return 0;
}

/* The key in a reply's optional T_KEK, or NULL; it stays in the reply's buffer. */
static const uint8_t *
reply_kek(const struct reply *rep)
{
	const uint8_t *p;
	size_t len;

	if (wire_get_bytes(rep->msg, T_KEK, &p, &len) != 0 ||
	    len != UNLOCK_KEY_BYTES)
		return NULL;
	return p;
}

static void
print_join(const char *role, const char *token, const char *addr)
{
	char a[ADDR_MAX + 1];

	sanitize(addr, a, sizeof(a));
	printf("To add a %s to this cluster, run the following command:\n\n"
	    "    hushctl join --token %s %s\n", role, token, a);
}

/* --cert-expiry's value, checked; usage errors are reported here. */
static int
opt_cert_expiry(const char *cmd, const char *s, uint64_t *secs)
{
	char why[320];

	if (arg_cert_expiry(s, secs, why, sizeof(why)) != 0)
		return usage_error(cmd, "%s", why);
	return 0;
}

static int
opt_autolock(const char *cmd, const char *s, bool *on)
{
	char why[160];

	/* Bare --autolock means true, as with docker's boolean flags. */
	if (s == NULL) {
		*on = true;
		return 0;
	}
	if (arg_bool("--autolock", s, on, why, sizeof(why)) != 0)
		return usage_error(cmd, "%s", why);
	return 0;
}

static int
extra_args(const char *cmd, int argc, char **argv)
{
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%.64s'",
		    argv[optind]);
	return 0;
}

/* The root and external CA options of init, as given and as read. */
struct init_ca {
	const char	*cert_path, *key_path, *extca;
	struct secbuf	 cert, key, cacert;
	size_t		 certlen, keylen, cacertlen;
	char		 url[1025];
};

static void
init_ca_free(struct init_ca *ca)
{
	secbuf_free(&ca->cert);
	secbuf_free(&ca->key);
	secbuf_free(&ca->cacert);
}

/* A PEM file the daemon takes at most max bytes of. */
static int
read_pem(const char *opt, const char *path, size_t max, struct secbuf *buf, size_t *len)
{
	int r;

	if ((r = read_bounded("init", path, max, true, buf, len)) != 0)
		return r;
	if (*len > max || *len == 0) {
		secbuf_free(buf);
		return usage_error("init", "%s %.200s: the file is %s", opt, path,
		    *len == 0 ? "empty" : "too large");
	}
	return 0;
}

/*
 * --external-ca protocol=cfssl,url=URL[,cacert=FILE] (Docker's form), and
 * the files --ca-cert, --ca-key and cacert= name, read whole.
 */
static int
init_ca_read(struct init_ca *ca)
{
	char spec[2048], *save = NULL, *kv, *v, proto[16] = "", cacert[1024] = "", why[600];
	struct cfssl_url u;
	int r;

	if (ca->extca != NULL) {
		if (ca->key_path != NULL)
			return usage_error("init", "--ca-key cannot go with --external-ca: the "
			    "external CA holds the root's key");
		if (ca->cert_path == NULL)
			return usage_error("init", "--external-ca needs --ca-cert: the root "
			    "certificate the external CA issues under");
		if (strlen(ca->extca) >= sizeof(spec))
			return usage_error("init", "--external-ca is too long");
		snprintf(spec, sizeof(spec), "%s", ca->extca);
		for (kv = strtok_r(spec, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
			if ((v = strchr(kv, '=')) == NULL)
				return usage_error("init", "--external-ca: '%.64s' is not KEY=VALUE", kv);
			*v++ = '\0';
			if (strcmp(kv, "protocol") == 0 && strlen(v) < sizeof(proto))
				snprintf(proto, sizeof(proto), "%s", v);
			else if (strcmp(kv, "url") == 0 && strlen(v) < sizeof(ca->url))
				snprintf(ca->url, sizeof(ca->url), "%s", v);
			else if (strcmp(kv, "cacert") == 0 && strlen(v) < sizeof(cacert))
				snprintf(cacert, sizeof(cacert), "%s", v);
			else
				return usage_error("init", "--external-ca: unknown or overlong key "
				    "'%.64s' (protocol, url, cacert)", kv);
		}
		if (strcmp(proto, "cfssl") != 0)
			return usage_error("init", "--external-ca: protocol=cfssl is the only "
			    "protocol hush speaks");
		if (ca->url[0] == '\0')
			return usage_error("init", "--external-ca needs url=https://HOST[:PORT]");
		if (cfssl_url_parse(ca->url, &u, why, sizeof(why)) != 0)
			return usage_error("init", "--external-ca: %s", why);
		if (cacert[0] != '\0' &&
		    (r = read_pem("--external-ca cacert=", cacert, 16384, &ca->cacert,
		    &ca->cacertlen)) != 0)
			return r;
	}
	if (ca->cert_path != NULL &&
	    (r = read_pem("--ca-cert", ca->cert_path, 16384, &ca->cert, &ca->certlen)) != 0)
		return r;
	if (ca->key_path != NULL &&
	    (r = read_pem("--ca-key", ca->key_path, 8192, &ca->key, &ca->keylen)) != 0)
		return r;
	return 0;
}

int
cmd_init(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "autolock",	   optional_argument, NULL, OPT_AUTOLOCK },
		{ "cert-expiry",   required_argument, NULL, OPT_CERT_EXPIRY },
		{ "advertise-addr", required_argument, NULL, OPT_ADVERTISE_ADDR },
		{ "listen-addr",   required_argument, NULL, OPT_LISTEN_ADDR },
		{ "force-new-cluster", no_argument, NULL, OPT_FORCE_NEW },
		{ "force",	   no_argument,	      NULL, OPT_FORCE },
		{ "ca-cert",	   required_argument, NULL, OPT_CA_CERT },
		{ "ca-key",	   required_argument, NULL, OPT_CA_KEY },
		{ "external-ca",   required_argument, NULL, OPT_EXTERNAL_CA },
		OPTS_HELP_END,
	};
	struct init_ca ca = { .cert = SECBUF_INIT, .key = SECBUF_INIT, .cacert = SECBUF_INIT };
	char node[HUSH_ID_LEN + 1], cluster[HUSH_ID_LEN + 1];
	char token[JOIN_TOKEN_LEN + 1], addr[ADDR_MAX + 1], why[320];
	bool force_new = false, force = false, others = false;
	char listen_addr[ADDR_MAX + 1];
	const char *advertise = NULL;
	const uint8_t *kek;
	struct wire_enc e;
	struct reply rep;
	bool autolock = false, have_expiry = false, have_listen = false;
	uint64_t expiry = 0;
	int c, r, stop;

	while ((c = cmd_getopt("init", init_help, argc, argv, ":h", opts, &stop)) != -1) {
		switch (c) {
		case OPT_FORCE_NEW:
			force_new = true;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_CA_CERT:
			ca.cert_path = optarg;
			others = true;
			break;
		case OPT_CA_KEY:
			ca.key_path = optarg;
			others = true;
			break;
		case OPT_EXTERNAL_CA:
			ca.extca = optarg;
			others = true;
			break;
		case OPT_AUTOLOCK:
			if ((r = opt_autolock("init", optarg, &autolock)) != 0)
				return r;
			others = true;
			break;
		case OPT_CERT_EXPIRY:
			if ((r = opt_cert_expiry("init", optarg, &expiry)) != 0)
				return r;
			have_expiry = others = true;
			break;
		case OPT_ADVERTISE_ADDR:
			if (arg_addr(optarg, why, sizeof(why)) != 0)
				return usage_error("init", "%s", why);
			advertise = optarg;
			others = true;
			break;
		case OPT_LISTEN_ADDR:
			if (arg_hostport("--listen-addr", optarg, listen_addr,
			    sizeof(listen_addr), why, sizeof(why)) != 0)
				return usage_error("init", "%s", why);
			have_listen = others = true;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if ((r = extra_args("init", argc, argv)) != 0)
		return r;
	if (force && !force_new)
		return usage_error("init", "--force goes with --force-new-cluster");
	/* The cluster is there already: its settings are not this command's. */
	if (force_new && others)
		return usage_error("init", "--force-new-cluster keeps the cluster's "
		    "settings and addresses: it takes no other option but --force");
	if (force_new)
		return init_force_new_cluster(ctl, force);
	if ((r = init_ca_read(&ca)) != 0) {
		init_ca_free(&ca);
		return r;
	}

	client_request(&e, CTL_INIT);
	client_put_req_id(&e);
	wire_put_bool(&e, T_AUTOLOCK, autolock);
	if (have_expiry)
		wire_put_u64(&e, T_CERT_EXPIRY, expiry);
	if (advertise != NULL)
		wire_put_str(&e, T_ADVERTISE_ADDR, advertise);
	if (have_listen)
		wire_put_str(&e, T_LISTEN_ADDR, listen_addr);
	if (ca.cert.p != NULL)
		wire_put_bytes(&e, T_CA_CERT, ca.cert.p, ca.certlen);
	if (ca.key.p != NULL)
		wire_put_bytes(&e, T_CA_KEY, ca.key.p, ca.keylen);
	if (ca.extca != NULL)
		wire_put_str(&e, T_EXTCA_URL, ca.url);
	if (ca.cacert.p != NULL)
		wire_put_bytes(&e, T_EXTCA_CACERT, ca.cacert.p, ca.cacertlen);
	r = client_call(ctl->socket, "init", &e, &rep);
	wire_enc_free(&e);
	init_ca_free(&ca);
	if (r != 0)
		return EXIT_FAIL;

	if (get_str(&rep, "init", T_NODE_ID, node, sizeof(node)) != 0 ||
	    get_str(&rep, "init", T_CLUSTER_ID, cluster, sizeof(cluster)) != 0 ||
	    get_str(&rep, "init", T_WORKER_TOKEN, token, sizeof(token)) != 0 ||
	    get_str(&rep, "init", T_ADVERTISE_ADDR, addr, sizeof(addr)) != 0) {
		reply_free(&rep);
		return EXIT_FAIL;
	}
	r = EXIT_OK;
	printf("Cluster initialized: current node (%s) is now a manager.\n"
	    "Cluster ID: %s\n\n", node, cluster);
	print_join("worker", token, addr);
	printf("\nTo add a manager to this cluster, run 'hushctl join-token "
	    "manager' and follow the instructions.\n");
	if ((kek = reply_kek(&rep)) != NULL) {
		putchar('\n');
		if (print_unlock_key(kek, stdout) != 0)
			r = fail("init: cannot print the unlock key");
	}
	sodium_memzero(token, sizeof(token));
	reply_free(&rep);
	return r;
}

int
cmd_join(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token",	   required_argument, NULL, OPT_TOKEN },
		{ "advertise-addr", required_argument, NULL, OPT_ADVERTISE_ADDR },
		{ "listen-addr",   required_argument, NULL, OPT_LISTEN_ADDR },
		OPTS_HELP_END,
	};
	/*
	 * CTL_JOIN has no T_REQ_ID: a second copy would be a second join, so
	 * it is sent once, and given the time a new manager needs.
	 */
	static const struct client_opts once = { JOIN_REPLY_MS, true,
	    "the join may still complete: run 'hushctl status' to check", false, -1 };
	char remote[ADDR_MAX + 1], advertise[ADDR_MAX + 1];
	char listen_addr[ADDR_MAX + 1], why[320];
	const char *token = NULL;
	struct join_token parsed;
	struct wire_enc e;
	struct reply rep;
	bool have_advertise = false, have_listen = false;
	uint8_t role;
	int c, r, stop;

	while ((c = cmd_getopt("join", join_help, argc, argv, ":h", opts, &stop)) != -1) {
		switch (c) {
		case OPT_TOKEN:
			token = optarg;
			break;
		case OPT_ADVERTISE_ADDR:
			if (arg_hostport("--advertise-addr", optarg, advertise,
			    sizeof(advertise), why, sizeof(why)) != 0)
				return usage_error("join", "%s", why);
			have_advertise = true;
			break;
		case OPT_LISTEN_ADDR:
			if (arg_hostport("--listen-addr", optarg, listen_addr,
			    sizeof(listen_addr), why, sizeof(why)) != 0)
				return usage_error("join", "%s", why);
			have_listen = true;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if (token == NULL)
		return usage_error("join", "--token is required");
	if (optind >= argc)
		return usage_error("join", "requires the address of a manager: "
		    "HOST[:PORT]");
	if (arg_hostport("manager address", argv[optind], remote,
	    sizeof(remote), why, sizeof(why)) != 0)
		return usage_error("join", "%s", why);
	optind++;
	if ((r = extra_args("join", argc, argv)) != 0)
		return r;
	/* A typo is caught here; whether the token is right, the manager says. */
	r = join_token_parse(token, strlen(token), &parsed, why, sizeof(why));
	sodium_memzero(&parsed, sizeof(parsed));
	if (r != 0)
		return fail("invalid join token: %s", why);

	client_request(&e, CTL_JOIN);
	wire_put_str(&e, T_TOKEN, token);
	wire_put_str(&e, T_ADDRESS, remote);
	if (have_advertise)
		wire_put_str(&e, T_ADVERTISE_ADDR, advertise);
	if (have_listen)
		wire_put_str(&e, T_LISTEN_ADDR, listen_addr);
	r = client_call_opts(ctl->socket, "join", &e, &rep, &once);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	if ((r = wire_get_u8(rep.msg, T_ROLE, &role)) != 0) {
		reply_free(&rep);
		return fail("join: bad reply from hushd: %s", hush_strerror(r));
	}
	reply_free(&rep);
	if (role == ROLE_MANAGER)
		printf("This node joined a cluster as a manager.\n");
	else if (role == ROLE_WORKER)
		printf("This node joined a cluster as a worker.\n");
	else
		printf("This node joined a cluster.\n");
	return EXIT_OK;
}

int
cmd_join_token(const struct ctl *ctl, int argc, char **argv)
{
	int quiet = 0, rotate = 0;	/* flags: set by cmd_flags() */
	const struct option opts[] = {
		{ "quiet",	no_argument, &quiet, 'q' },
		{ "rotate",	no_argument, &rotate, OPT_ROTATE },
		OPTS_HELP_END,
	};
	char token[JOIN_TOKEN_LEN + 1], addr[ADDR_MAX + 1], why[160];
	const char *role_name;
	struct wire_enc e;
	struct reply rep;
	uint8_t role;
	int r;

	if ((r = cmd_flags("join-token", join_token_help, argc, argv, ":qh", opts)) >= 0)
		return r;
	if (optind >= argc)
		return usage_error("join-token", "give the role: worker or "
		    "manager");
	role_name = argv[optind++];
	if (arg_role(role_name, &role, why, sizeof(why)) != 0)
		return usage_error("join-token", "%s", why);
	if ((r = extra_args("join-token", argc, argv)) != 0)
		return r;

	client_request(&e, CTL_JOIN_TOKEN);
	client_put_req_id(&e);
	wire_put_u8(&e, T_ROLE, role);
	wire_put_bool(&e, T_ROTATE, rotate != 0);
	r = client_call(ctl->socket, "join-token", &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	if (get_str(&rep, "join-token", T_TOKEN, token, sizeof(token)) != 0 ||
	    get_str(&rep, "join-token", T_ADVERTISE_ADDR, addr,
	    sizeof(addr)) != 0) {
		reply_free(&rep);
		return EXIT_FAIL;
	}
	if (quiet)
		printf("%s\n", token);
	else {
		if (rotate)
			printf("Successfully rotated %s join token.\n\n", role_name);
		print_join(role_name, token, addr);
	}
	sodium_memzero(token, sizeof(token));
	reply_free(&rep);
	return EXIT_OK;
}

int
cmd_leave(const struct ctl *ctl, int argc, char **argv)
{
	int force = 0;		/* a flag: set by cmd_flags() */
	const struct option opts[] = {
		{ "force",	no_argument, &force, 'f' },
		OPTS_HELP_END,
	};
	/* CTL_LEAVE has no T_REQ_ID either: a repeat would find no cluster. */
	static const struct client_opts once = { 0, true,
	    "the node may have left all the same: run 'hushctl status' to check", false, -1 };
	struct wire_enc e;
	struct reply rep;
	int r;

	if ((r = cmd_flags("leave", leave_help, argc, argv, ":fh", opts)) >= 0)
		return r;
	if ((r = extra_args("leave", argc, argv)) != 0)
		return r;

	client_request(&e, CTL_LEAVE);
	wire_put_bool(&e, T_FORCE, force != 0);
	r = client_call_opts(ctl->socket, "leave", &e, &rep, &once);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	reply_free(&rep);
	printf("Node left the cluster.\n");
	return EXIT_OK;
}

int
cmd_update(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "autolock",	 optional_argument, NULL, OPT_AUTOLOCK },
		{ "cert-expiry", required_argument, NULL, OPT_CERT_EXPIRY },
		OPTS_HELP_END,
	};
	const uint8_t *kek;
	struct wire_enc e;
	struct reply rep;
	bool autolock = false, have_autolock = false, have_expiry = false;
	uint64_t expiry = 0;
	int c, r, stop;

	while ((c = cmd_getopt("update", update_help, argc, argv, ":h", opts, &stop)) != -1) {
		switch (c) {
		case OPT_AUTOLOCK:
			if ((r = opt_autolock("update", optarg, &autolock)) != 0)
				return r;
			have_autolock = true;
			break;
		case OPT_CERT_EXPIRY:
			if ((r = opt_cert_expiry("update", optarg, &expiry)) != 0)
				return r;
			have_expiry = true;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if ((r = extra_args("update", argc, argv)) != 0)
		return r;
	if (!have_autolock && !have_expiry)
		return usage_error("update", "nothing to update: give "
		    "--autolock or --cert-expiry");

	client_request(&e, CTL_UPDATE);
	client_put_req_id(&e);
	if (have_autolock)
		wire_put_bool(&e, T_AUTOLOCK, autolock);
	if (have_expiry)
		wire_put_u64(&e, T_CERT_EXPIRY, expiry);
	r = client_call(ctl->socket, "update", &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	r = EXIT_OK;
	printf("Cluster updated.\n");
	/* Turning autolock on hands out the new key, once. */
	if ((kek = reply_kek(&rep)) != NULL) {
		putchar('\n');
		if (print_unlock_key(kek, stdout) != 0)
			r = fail("update: cannot print the unlock key");
	}
	reply_free(&rep);
	return r;
}
