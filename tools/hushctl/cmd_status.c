/*
 * status: what this node is, for people or (--format json) for scripts.
 * The daemon answers it even while locked, so it is the first thing to
 * run when something is wrong; every field but three is optional and a
 * missing one is simply not shown.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "ca_progress.h"
#include "client.h"
#include "duration.h"
#include "err.h"
#include "hushctl.h"
#include "msg.h"
#include "output.h"

static const char status_help[] =
    "Usage:  hushctl status [OPTIONS]\n"
    "\n"
    "Show the state of this node (works while the node is locked)\n"
    "\n"
    "Options:\n"
    "      --digest          Also show a digest of this manager's whole store,\n"
    "                        to compare replicas (reads every record)\n"
    "      --format FORMAT   table (default) or json\n"
    "  -h, --help            Print this help\n";

/* Widest text field in the reply (T_ADVERTISE_ADDR) plus its NUL. */
#define STR_MAX		(ADDR_MAX + 1)

/* The reply's fields; has_* say which optional ones were present. */
struct status {
	bool		initialized, locked, autolock;
	bool		has_autolock, has_role, has_term, has_index;
	bool		has_not_after, has_expiry, has_leader;
	char		version[STR_MAX], node[STR_MAX], cluster[STR_MAX];
	char		leader[STR_MAX], state[STR_MAX], addr[STR_MAX];
	char		storage[STR_MAX], notice[257];
	char		health[1025];	/* "degraded: why", or "" when healthy */
	char		audit[257];	/* where audit records go, for people */
	uint8_t		audit_sink;	/* 1 kernel audit, 2 the log; 0 not said */
	bool		has_count, has_containers, has_free, has_need;
	char		state_dir[4097];
	uint64_t	disk_free, disk_need;
	uint32_t	count;		/* services placed on this node */
	uint32_t	containers;	/* containers it delivered secrets into */
	json_t		*held;		/* "secret id:version" it holds */
	uint8_t		role;
	uint64_t	term, index, expiry;
	int64_t		not_after;
	/* status --digest: this replica's store at index (T_STORE_*) */
	bool		has_digest;
	char		digest[2 * 32 + 1];
	uint64_t	store_secrets, store_services, store_nodes;
	/* this node's certificate against the CA; a manager's CA rotation */
	char		tls_status[33];
	bool		has_ca_phase;
	uint8_t		ca_phase;
};

/* The digest, in hex, with the counts it covers; all of them or none. */
static void
read_digest(const struct wire_msg *m, struct status *s)
{
	const uint8_t *d;
	size_t len;

	if (wire_get_bytes(m, T_STORE_DIGEST, &d, &len) != 0 || len != 32 ||
	    wire_get_u64(m, T_STORE_SECRETS, &s->store_secrets) != 0 ||
	    wire_get_u64(m, T_STORE_SERVICES, &s->store_services) != 0 ||
	    wire_get_u64(m, T_STORE_NODES, &s->store_nodes) != 0)
		return;
	for (size_t i = 0; i < len; i++)
		snprintf(s->digest + 2 * i, 3, "%02x", d[i]);
	s->has_digest = true;
}

static void
read_status(const struct wire_msg *m, struct status *s)
{
	memset(s, 0, sizeof(*s));
	(void)wire_get_bool(m, T_INITIALIZED, &s->initialized);
	(void)wire_get_bool(m, T_LOCKED, &s->locked);
	(void)wire_get_str(m, T_HUSH_VERSION, s->version, sizeof(s->version));
	(void)wire_get_str(m, T_NODE_ID, s->node, sizeof(s->node));
	(void)wire_get_str(m, T_CLUSTER_ID, s->cluster, sizeof(s->cluster));
	(void)wire_get_str(m, T_RAFT_STATE, s->state, sizeof(s->state));
	(void)wire_get_str(m, T_ADVERTISE_ADDR, s->addr, sizeof(s->addr));
	(void)wire_get_str(m, T_KEY_STORAGE, s->storage, sizeof(s->storage));
	(void)wire_get_str(m, T_STATUS_TEXT, s->notice, sizeof(s->notice));
	(void)wire_get_str(m, T_HEALTH, s->health, sizeof(s->health));
	(void)wire_get_str(m, T_AUDIT_TEXT, s->audit, sizeof(s->audit));
	(void)wire_get_u8(m, T_AUDIT_SINK, &s->audit_sink);
	s->has_count = wire_get_u32(m, T_COUNT, &s->count) == 0;
	s->has_containers = wire_get_u32(m, T_CONTAINERS, &s->containers) == 0;
	(void)wire_get_str(m, T_STATE_DIR, s->state_dir, sizeof(s->state_dir));
	s->has_free = wire_get_u64(m, T_DISK_FREE, &s->disk_free) == 0;
	s->has_need = wire_get_u64(m, T_DISK_NEED, &s->disk_need) == 0;
	if ((s->held = json_array()) != NULL) {
		char have[64];

		for (size_t i = 0; i < wire_count(m, T_HAVE); i++)
			if (wire_field_str(wire_find(m, T_HAVE, i), have, sizeof(have)) == 0)
				json_array_append_new(s->held, json_string(have));
	}
	s->has_leader = wire_get_str(m, T_RAFT_LEADER, s->leader,
	    sizeof(s->leader)) == 0;
	s->has_autolock = wire_get_bool(m, T_AUTOLOCK, &s->autolock) == 0;
	s->has_role = wire_get_u8(m, T_ROLE, &s->role) == 0;
	s->has_term = wire_get_u64(m, T_RAFT_TERM, &s->term) == 0;
	s->has_index = wire_get_u64(m, T_RAFT_INDEX, &s->index) == 0;
	s->has_not_after = wire_get_i64(m, T_CERT_NOT_AFTER, &s->not_after) == 0;
	s->has_expiry = wire_get_u64(m, T_CERT_EXPIRY, &s->expiry) == 0;
	read_digest(m, s);
	(void)wire_get_str(m, T_TLS_STATUS, s->tls_status, sizeof(s->tls_status));
	s->has_ca_phase = wire_get_u8(m, T_CA_PHASE, &s->ca_phase) == 0;
}

static const char *
yesno(bool b)
{
	return b ? "yes" : "no";
}

/* One "Label:  value" line; values from the daemon are sanitized. */
static void
line(const char *label, const char *value)
{
	char v[1100];

	sanitize(value, v, sizeof(v));
	printf("%-18s%s\n", label, v);
}

static void
print_raft(const struct status *s)
{
	char buf[256], leader[STR_MAX];
	size_t n = 0;

	buf[0] = '\0';
	if (s->state[0] != '\0')
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", s->state);
	if (s->has_term)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sterm %llu",
		    n > 0 ? ", " : "", (unsigned long long)s->term);
	if (s->has_index && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sindex %llu",
		    n > 0 ? ", " : "", (unsigned long long)s->index);
	if (s->has_leader && n < sizeof(buf)) {
		sanitize(s->leader, leader, sizeof(leader));
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s%s",
		    n > 0 ? ", " : "",
		    leader[0] != '\0' ? "leader " : "no leader", leader);
	}
	if (n > 0)
		line("Raft:", buf);
}

/* n bytes as people read them: "512 KiB", "31.5 MiB", "2.0 GiB". */
static void
fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

/*
 * "/var/lib/hush (1.2 GiB free)", and when that is below what the node
 * needs to take writes, says so: a full disk is the first thing to rule
 * out when writes fail.
 */
static void
print_disk(const struct status *s)
{
	char fr[32], nd[32], buf[4097 + 128];

	if (s->state_dir[0] == '\0' || !s->has_free)
		return;
	fmt_bytes(s->disk_free, fr, sizeof(fr));
	if (s->has_need && s->disk_free < s->disk_need) {
		fmt_bytes(s->disk_need, nd, sizeof(nd));
		snprintf(buf, sizeof(buf), "%s (%s free: too little, %s needed "
		    "to take writes)", s->state_dir, fr, nd);
	} else {
		snprintf(buf, sizeof(buf), "%s (%s free)", s->state_dir, fr);
	}
	line("State dir:", buf);
}

/* The wire's enum audit_sink (kmod-free/audit.h) as a word. */
static const char *
audit_sink_name(uint8_t sink)
{
	switch (sink) {
	case 1:
		return "kernel";
	case 2:
		return "log";
	default:
		return NULL;
	}
}

/*
 * What this node has of its own, in a cluster or not: the containers it
 * delivered secrets into (out of one, only if any remain: 'leave' does
 * not detach them), its disk, its audit records and its version.
 */
static void
print_local(const struct status *s)
{
	char buf[16];

	if (s->has_containers && (s->initialized || s->containers > 0)) {
		snprintf(buf, sizeof(buf), "%u", s->containers);
		line("Containers here:", buf);
	}
	print_disk(s);
	if (s->audit[0] != '\0')
		line("Audit:", s->audit);
	if (s->version[0] != '\0')
		line("Version:", s->version);
}

static void
print_human(const struct status *s, int64_t now)
{
	char when[FMT_MAX], rel[FMT_MAX], buf[2 * FMT_MAX + 32];

	if (!s->initialized) {
		printf("This node is not part of a cluster\n");
		print_local(s);
		return;
	}
	if (s->notice[0] != '\0')
		line("Attention:", s->notice);
	line("Health:", s->health[0] != '\0' ? s->health : "ok");
	if (s->node[0] != '\0')
		line("Node ID:", s->node);
	if (s->has_role)
		line("Role:", node_role_name(s->role));
	if (s->cluster[0] != '\0')
		line("Cluster ID:", s->cluster);
	line("Locked:", yesno(s->locked));
	if (s->has_autolock)
		line("Autolock:", yesno(s->autolock));
	print_raft(s);
	if (s->has_not_after && fmt_utc(s->not_after, when, sizeof(when)) == 0 &&
	    fmt_until(s->not_after, now, rel, sizeof(rel)) == 0) {
		snprintf(buf, sizeof(buf), "%s %s (%s)",
		    s->not_after > now ? "expires" : "expired", when, rel);
		line("Certificate:", buf);
	}
	if (s->has_expiry && duration_format(s->expiry, buf, sizeof(buf)) == 0)
		line("Cert expiry:", buf);
	if (s->tls_status[0] != '\0')
		line("TLS status:", node_tls_status(s->tls_status));
	if (s->has_ca_phase && s->ca_phase != CA_PHASE_NONE) {
		snprintf(buf, sizeof(buf), "%s (watch it: hushctl ca)",
		    ca_phase_text(s->ca_phase));
		line("CA rotation:", buf);
	}
	if (s->addr[0] != '\0')
		line("Advertise:", s->addr);
	if (s->storage[0] != '\0')
		line("Keys held in:", s->storage);
	if (s->has_digest) {
		snprintf(buf, sizeof(buf), "%s", s->digest);
		line("Store digest:", buf);
		snprintf(buf, sizeof(buf), "%llu secret(s), %llu service(s), %llu node(s) "
		    "at index %llu", (unsigned long long)s->store_secrets,
		    (unsigned long long)s->store_services,
		    (unsigned long long)s->store_nodes, (unsigned long long)s->index);
		line("Store holds:", buf);
	}
	if (s->has_count) {
		snprintf(buf, sizeof(buf), "%u service(s), %zu secret value(s) held",
		    s->count, s->held != NULL ? json_array_size(s->held) : 0);
		line("Placed here:", buf);
	}
	print_local(s);
}

/* Adds key: value, counting failures (allocation) into *bad. */
static void
put(json_t *o, const char *key, json_t *v, int *bad)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*bad = 1;
}

static json_t *
status_json(const struct status *s)
{
	char buf[FMT_MAX];
	json_t *o;
	int bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	put(o, "initialized", json_boolean(s->initialized), &bad);
	put(o, "locked", json_boolean(s->locked), &bad);
	put(o, "health", json_text(s->health[0] != '\0' ? s->health : "ok"), &bad);
	put(o, "degraded", json_boolean(strncmp(s->health, "degraded", 8) == 0), &bad);
	if (s->node[0] != '\0')
		put(o, "node_id", json_text(s->node), &bad);
	if (s->has_role)
		put(o, "role", json_string(node_role_name(s->role)), &bad);
	if (s->cluster[0] != '\0')
		put(o, "cluster_id", json_text(s->cluster), &bad);
	if (s->has_autolock)
		put(o, "autolock", json_boolean(s->autolock), &bad);
	if (s->state[0] != '\0')
		put(o, "raft_state", json_text(s->state), &bad);
	if (s->has_term)
		put(o, "raft_term", json_integer((json_int_t)s->term), &bad);
	if (s->has_index)
		put(o, "raft_index", json_integer((json_int_t)s->index), &bad);
	if (s->has_leader)
		put(o, "raft_leader", json_text(s->leader), &bad);
	if (s->has_digest) {
		/* computed at raft_index */
		put(o, "store_digest", json_string(s->digest), &bad);
		put(o, "store_secrets", json_integer((json_int_t)s->store_secrets), &bad);
		put(o, "store_services", json_integer((json_int_t)s->store_services), &bad);
		put(o, "store_nodes", json_integer((json_int_t)s->store_nodes), &bad);
	}
	if (s->has_not_after && fmt_rfc3339(s->not_after, buf, sizeof(buf)) == 0)
		put(o, "cert_not_after", json_string(buf), &bad);
	if (s->has_expiry) {
		if (duration_format(s->expiry, buf, sizeof(buf)) == 0)
			put(o, "cert_expiry", json_string(buf), &bad);
		put(o, "cert_expiry_seconds", json_integer((json_int_t)s->expiry),
		    &bad);
	}
	if (s->tls_status[0] != '\0')
		put(o, "tls_status", json_string(node_tls_status(s->tls_status)), &bad);
	if (s->has_ca_phase)
		put(o, "ca_rotation_phase", json_integer(s->ca_phase), &bad);
	if (s->addr[0] != '\0')
		put(o, "advertise_addr", json_text(s->addr), &bad);
	if (s->storage[0] != '\0')
		put(o, "key_storage", json_text(s->storage), &bad);
	put(o, "version", json_text(s->version), &bad);
	if (s->notice[0] != '\0')
		put(o, "attention", json_text(s->notice), &bad);
	if (s->has_count) {
		put(o, "services_placed", json_integer(s->count), &bad);
		put(o, "secrets_held", json_incref(s->held), &bad);
	}
	if (s->has_containers)
		put(o, "containers_here", json_integer(s->containers), &bad);
	if (s->state_dir[0] != '\0')
		put(o, "state_dir", json_text(s->state_dir), &bad);
	if (s->has_free)
		put(o, "disk_free_bytes", json_integer((json_int_t)s->disk_free), &bad);
	if (s->has_need)
		put(o, "disk_needed_bytes", json_integer((json_int_t)s->disk_need), &bad);
	if (audit_sink_name(s->audit_sink) != NULL)
		put(o, "audit", json_string(audit_sink_name(s->audit_sink)), &bad);
	if (s->audit[0] != '\0')
		put(o, "audit_detail", json_text(s->audit), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
cmd_status(const struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_FORMAT = OPT_LONG_BASE, OPT_DIGEST };
	static const struct option opts[] = {
		{ "format",	required_argument, NULL, OPT_FORMAT },
		{ "digest",	no_argument,	   NULL, OPT_DIGEST },
		OPTS_HELP_END,
	};
	enum out_format format = FORMAT_TABLE;
	bool digest = false;
	struct status s;
	struct wire_enc e;
	struct reply rep;
	char why[160];
	json_t *j;
	int c, r, stop;

	while ((c = cmd_getopt("status", status_help, argc, argv, ":h", opts, &stop)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (arg_format(optarg, true, &format, why,
			    sizeof(why)) != 0)
				return usage_error("status", "%s", why);
			break;
		case OPT_DIGEST:
			digest = true;
			break;
		}
	}
	if (stop >= 0)
		return stop;
	if (optind < argc)
		return usage_error("status", "unexpected argument '%.64s'",
		    argv[optind]);

	client_request(&e, CTL_STATUS);
	if (digest)
		wire_put_bool(&e, T_DIGEST_WANTED, true);
	r = client_call(ctl->socket, "status", &e, &rep);
	wire_enc_free(&e);
	if (r != 0)
		return EXIT_FAIL;
	read_status(rep.msg, &s);
	reply_free(&rep);
	/* Only a running manager's raft has a store to digest: say so, never print nothing. */
	if (digest && !s.has_digest) {
		char st[sizeof(s.state)];

		sanitize(s.state[0] != '\0' ? s.state : "none", st, sizeof(st));
		json_decref(s.held);
		return fail("status: no store digest: this node is not a running manager "
		    "(raft state: %s)", st);
	}

	if (format == FORMAT_TABLE) {
		print_human(&s, (int64_t)time(NULL));
		json_decref(s.held);
		return EXIT_OK;
	}
	j = status_json(&s);
	json_decref(s.held);
	if (j == NULL)
		return fail("status: %s", hush_strerror(HUSH_E_NOMEM));
	r = print_json(j, stdout);
	json_decref(j);
	return r == 0 ? EXIT_OK : EXIT_FAIL;
}
