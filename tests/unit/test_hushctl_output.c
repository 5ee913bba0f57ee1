/*
 * hushctl's pure helpers: the exact text of times, tables, JSON and the
 * unlock-key paragraph, node listings, and the local checks of
 * command-line values.
 * Unit tests link only libhush.a, so the helpers are compiled in here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../tools/hushctl/args.c"
#include "../../tools/hushctl/output.c"

#define D	86400
#define H	3600

/* Captures what a printer writes to a FILE. */
struct capture {
	FILE	*f;
	char	*buf;
	size_t	 len;
};

static void
cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static const char *
cap_close(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->buf;
}

static void
check_human(uint64_t secs, const char *want)
{
	char out[FMT_MAX];

	assert_int_equal(fmt_human_duration(secs, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void
test_human_duration(void **state)
{
	(void)state;
	check_human(0, "Less than a second");
	check_human(1, "1 second");
	check_human(2, "2 seconds");
	check_human(59, "59 seconds");
	check_human(60, "About a minute");
	check_human(119, "About a minute");
	check_human(120, "2 minutes");
	check_human(3599, "59 minutes");
	check_human(3600, "About an hour");
	check_human(5399, "About an hour");
	check_human(5400, "2 hours");
	check_human(47 * H, "47 hours");
	check_human(48 * H, "2 days");
	check_human(13 * D, "13 days");
	check_human(14 * D, "2 weeks");
	check_human(59 * D, "8 weeks");
	check_human(60 * D, "2 months");
	check_human(729 * D, "24 months");
	check_human(730 * D, "2 years");
	check_human(3650 * D, "10 years");
	check_human(UINT64_MAX, "584942417355 years");
}

static void
test_ago(void **state)
{
	char out[FMT_MAX];

	(void)state;
	assert_int_equal(fmt_ago(1000, 1150, out, sizeof(out)), 0);
	assert_string_equal(out, "2 minutes ago");
	assert_int_equal(fmt_ago(1000, 1000, out, sizeof(out)), 0);
	assert_string_equal(out, "Less than a second ago");
	/* A creation time ahead of our clock is skew, not the future. */
	assert_int_equal(fmt_ago(5000, 1000, out, sizeof(out)), 0);
	assert_string_equal(out, "Less than a second ago");
	assert_int_equal(fmt_ago(INT64_MIN, INT64_MAX, out, sizeof(out)), 0);
	assert_string_equal(out, "584942417355 years ago");
	/* Too small a buffer is an error, never a silently cut string. */
	assert_int_equal(fmt_ago(0, 150, out, 8), HUSH_E_TOOBIG);
	assert_string_equal(out, "");
}

static void
check_until(int64_t when, int64_t now, const char *want)
{
	char out[FMT_MAX];

	assert_int_equal(fmt_until(when, now, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void
test_until(void **state)
{
	(void)state;
	check_until(89 * D + 100, 0, "in 89 days");
	check_until(2 * D, 0, "in 2 days");
	check_until(2 * D - 1, 0, "in 47 hours");
	check_until(2 * H, 0, "in 2 hours");
	check_until(2 * H - 1, 0, "in 119 minutes");
	check_until(120, 0, "in 2 minutes");
	check_until(119, 0, "in 119 seconds");
	check_until(1, 0, "in 1 second");
	check_until(0, 0, "0 seconds ago");
	check_until(0, 3 * D, "3 days ago");
}

static void
test_rfc3339(void **state)
{
	char out[FMT_MAX];

	(void)state;
	assert_int_equal(fmt_rfc3339(0, out, sizeof(out)), 0);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	assert_int_equal(fmt_rfc3339(1700000000, out, sizeof(out)), 0);
	assert_string_equal(out, "2023-11-14T22:13:20Z");
	assert_int_equal(fmt_rfc3339(-1, out, sizeof(out)), 0);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	assert_int_equal(fmt_rfc3339(253402300799, out, sizeof(out)), 0);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
	/* Past year 9999 RFC 3339 has no spelling. */
	assert_int_equal(fmt_rfc3339(253402300800, out, sizeof(out)), HUSH_E_RANGE);
	assert_int_equal(fmt_rfc3339(INT64_MAX, out, sizeof(out)), HUSH_E_RANGE);
	assert_string_equal(out, "");
	assert_int_equal(fmt_rfc3339(0, out, 20), HUSH_E_TOOBIG);
	assert_int_equal(fmt_rfc3339(0, out, 21), 0);
}

static void
test_utc(void **state)
{
	char out[FMT_MAX];

	(void)state;
	assert_int_equal(fmt_utc(1803204000, out, sizeof(out)), 0);
	assert_string_equal(out, "2027-02-21 10:00:00 UTC");
}

static void
test_sanitize(void **state)
{
	char out[16];

	(void)state;
	sanitize("ok\x1b[2Jx\x7f\n", out, sizeof(out));
	assert_string_equal(out, "ok?[2Jx??");
	sanitize("0123456789abcdefghij", out, sizeof(out));
	assert_string_equal(out, "0123456789abcde");
	/* Bytes above ASCII (UTF-8) are left alone: they are not controls. */
	sanitize("caf\xc3\xa9", out, sizeof(out));
	assert_string_equal(out, "caf\xc3\xa9");
}

static void
test_table(void **state)
{
	static const char *const hdr[] = { "A", "LONGER HEADER", "LAST" };
	static const char *const r1[] = { "a-rather-long-cell", "x", "tail" };
	static const char *const r2[] = { "b", ("\x1b" "y"), "" };
	struct capture c;
	struct table t;

	(void)state;
	assert_int_equal(table_init(&t, 3, hdr), 0);
	assert_int_equal(table_add(&t, r1), 0);
	assert_int_equal(table_add(&t, r2), 0);
	cap_open(&c);
	assert_int_equal(table_print(&t, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "A                    LONGER HEADER   LAST\n"
	    "a-rather-long-cell   x               tail\n"
	    "b                    ?y              \n");
	free(c.buf);
	table_free(&t);

	/* Narrow columns still get the minimum width. */
	assert_int_equal(table_init(&t, 2, (const char *const[]){ "A", "B" }), 0);
	cap_open(&c);
	assert_int_equal(table_print(&t, c.f), 0);
	assert_string_equal(cap_close(&c), "A         B\n");
	free(c.buf);
	table_free(&t);
}

static char *labels_a[] = { (char *)"env=prod", (char *)"team=a=b" };
static char *labels_bad[] = { (char *)"k=caf\xe9", (char *)"nokv" };

static void
test_secret_views(void **state)
{
	struct secret_view v[3];
	struct capture c;
	int64_t now = 1700000000;

	(void)state;
	memset(v, 0, sizeof(v));
	strcpy(v[0].id, "ccccccccccccccccccccccccc");
	strcpy(v[0].name, "zeta");
	v[0].created = now - 150;
	v[0].updated = now - 30;
	strcpy(v[1].id, "ddddddddddddddddddddddddd");
	strcpy(v[1].name, "alpha.db-password");
	v[1].created = now - 3 * D;
	v[1].updated = now - 4000;
	strcpy(v[2].id, "bbbbbbbbbbbbbbbbbbbbbbbbb");
	strcpy(v[2].name, "mid");
	v[2].created = v[2].updated = now;

	secret_views_sort(v, 3);
	assert_string_equal(v[0].name, "alpha.db-password");
	assert_string_equal(v[1].name, "mid");
	assert_string_equal(v[2].name, "zeta");

	cap_open(&c);
	assert_int_equal(secret_views_table(v, 3, now, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "ID                          NAME                CREATED                  UPDATED\n"
	    "ddddddddddddddddddddddddd   alpha.db-password   3 days ago               About an hour ago\n"
	    "bbbbbbbbbbbbbbbbbbbbbbbbb   mid                 Less than a second ago   Less than a second ago\n"
	    "ccccccccccccccccccccccccc   zeta                2 minutes ago            30 seconds ago\n");
	free(c.buf);

	/* An empty listing is still a header, as docker prints it. */
	cap_open(&c);
	assert_int_equal(secret_views_table(v, 0, now, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "ID        NAME      CREATED   UPDATED\n");
	free(c.buf);
}

static void
test_secret_json(void **state)
{
	struct secret_view v;
	struct capture c;
	json_t *j;

	(void)state;
	memset(&v, 0, sizeof(v));
	strcpy(v.id, "ccccccccccccccccccccccccc");
	strcpy(v.name, "db");
	v.created = 1700000000;
	v.updated = 1700000100;
	v.version = 7;
	v.size = 42;
	v.labels = labels_a;
	v.nlabels = 2;
	assert_non_null(j = secret_view_json(&v));
	cap_open(&c);
	assert_int_equal(print_json(j, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "{\n"
	    "    \"ID\": \"ccccccccccccccccccccccccc\",\n"
	    "    \"Name\": \"db\",\n"
	    "    \"Labels\": {\n"
	    "        \"env\": \"prod\",\n"
	    "        \"team\": \"a=b\"\n"
	    "    },\n"
	    "    \"CreatedAt\": \"2023-11-14T22:13:20Z\",\n"
	    "    \"UpdatedAt\": \"2023-11-14T22:15:00Z\",\n"
	    "    \"Version\": 7,\n"
	    "    \"Size\": 42\n"
	    "}\n");
	free(c.buf);
	json_decref(j);

	/* Not UTF-8, and a label without '=': degrade, do not fail. */
	v.labels = labels_bad;
	assert_non_null(j = secret_view_json(&v));
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "Labels"), "k")), "caf?");
	assert_int_equal(json_object_size(json_object_get(j, "Labels")), 1);
	json_decref(j);
}

/* A node record as cmd_node.c decodes it. */
static void
mknode(struct node_view *v, char c, uint8_t role, const char *addr,
    const char *raft, bool reachable)
{
	memset(v, 0, sizeof(*v));
	memset(v->id, c, HUSH_ID_LEN);
	v->id[HUSH_ID_LEN] = '\0';
	v->role = role;
	snprintf(v->addr, sizeof(v->addr), "%s", addr);
	snprintf(v->availability, sizeof(v->availability), "active");
	if (raft != NULL)
		snprintf(v->raft_state, sizeof(v->raft_state), "%s", raft);
	v->reachable = reachable;
	v->created = 1700000000;
}

static void
test_node_strings(void **state)
{
	struct node_view v;
	char out[NODE_TEXT_MAX + 1];

	(void)state;
	assert_string_equal(node_role_name(ROLE_MANAGER), "manager");
	assert_string_equal(node_role_name(ROLE_WORKER), "worker");
	assert_string_equal(node_role_name(0), "unknown");
	assert_string_equal(node_role_name(9), "unknown");

	mknode(&v, 'a', ROLE_MANAGER, "10.0.0.1:4477", "leader", true);
	assert_string_equal(node_status(&v), "Ready");
	assert_string_equal(node_manager_status(&v), "Leader");
	snprintf(v.raft_state, sizeof(v.raft_state), "reachable");
	assert_string_equal(node_manager_status(&v), "Reachable");
	snprintf(v.raft_state, sizeof(v.raft_state), "unreachable");
	v.reachable = false;
	assert_string_equal(node_manager_status(&v), "Unreachable");
	assert_string_equal(node_status(&v), "Down");
	/* A manager whose state the daemon did not give, or one not known. */
	v.raft_state[0] = '\0';
	assert_string_equal(node_manager_status(&v), "Unknown");
	snprintf(v.raft_state, sizeof(v.raft_state), "candidate");
	assert_string_equal(node_manager_status(&v), "Unknown");
	/* A worker has no manager status, whatever the record says. */
	mknode(&v, 'b', ROLE_WORKER, "10.0.0.2:4477", "leader", true);
	assert_string_equal(node_manager_status(&v), "");
	assert_string_equal(node_status(&v), "Ready");

	node_availability(&v, out, sizeof(out));
	assert_string_equal(out, "Active");
	snprintf(v.availability, sizeof(v.availability), "drain");
	node_availability(&v, out, sizeof(out));
	assert_string_equal(out, "Drain");
	snprintf(v.availability, sizeof(v.availability), "pause");
	node_availability(&v, out, sizeof(out));
	assert_string_equal(out, "Pause");
	snprintf(v.availability, sizeof(v.availability), "Odd\x1b");
	node_availability(&v, out, sizeof(out));
	assert_string_equal(out, "Odd\x1b");	/* the table sanitizes it */

	assert_false(node_removed(&v));
	snprintf(v.status_text, sizeof(v.status_text), "removed");
	assert_true(node_removed(&v));
	snprintf(v.status_text, sizeof(v.status_text), "removing");
	assert_false(node_removed(&v));
}

static void
test_natural_cmp(void **state)
{
	(void)state;
	assert_int_equal(natural_cmp("10.0.0.2:4477", "10.0.0.10:4477"), -1);
	assert_int_equal(natural_cmp("10.0.0.10:4477", "10.0.0.2:4477"), 1);
	assert_int_equal(natural_cmp("10.0.0.2:4477", "10.0.0.2:4477"), 0);
	assert_int_equal(natural_cmp("10.0.0.2:80", "10.0.0.2:4477"), -1);
	assert_int_equal(natural_cmp("node-9:1", "node-10:1"), -1);
	assert_int_equal(natural_cmp("a", "b"), -1);
	assert_int_equal(natural_cmp("a", "a1"), -1);
	assert_int_equal(natural_cmp("", ""), 0);
	/* Leading zeros do not count; the sort falls back to strcmp then. */
	assert_int_equal(natural_cmp("h007", "h7"), 0);
	assert_int_equal(natural_cmp("h0", "h00"), 0);
	assert_int_equal(natural_cmp("h00", "h01"), -1);
	/* Runs longer than any integer type still compare. */
	assert_int_equal(natural_cmp("x99999999999999999999999",
	    "x100000000000000000000000"), -1);
	assert_int_equal(natural_cmp("[fe80::2]:4477", "[fe80::10]:4477"), -1);
}

static void
test_node_sort(void **state)
{
	struct node_view v[7];
	size_t n;

	(void)state;
	mknode(&v[0], 'a', ROLE_WORKER, "10.0.0.10:4477", NULL, true);
	mknode(&v[1], 'b', ROLE_MANAGER, "10.0.0.9:4477", "reachable", true);
	mknode(&v[2], 'c', ROLE_WORKER, "10.0.0.2:4477", NULL, false);
	mknode(&v[3], 'd', ROLE_MANAGER, "10.0.0.10:4477", "leader", true);
	mknode(&v[4], 'e', ROLE_WORKER, "10.0.0.3:4477", NULL, true);
	snprintf(v[4].status_text, sizeof(v[4].status_text), "removed");
	/* Same address twice (a node that rejoined): the id decides. */
	mknode(&v[5], 'g', ROLE_WORKER, "10.0.0.2:4477", NULL, true);
	mknode(&v[6], 'f', ROLE_WORKER, "10.0.0.2:4477", NULL, true);

	n = node_views_live(v, 7);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		assert_false(node_removed(&v[i]));
	/* The survivors keep their order. */
	assert_int_equal(v[4].id[0], 'g');
	assert_int_equal(v[5].id[0], 'f');

	node_views_sort(v, n);
	assert_int_equal(v[0].id[0], 'b');	/* managers first, */
	assert_int_equal(v[1].id[0], 'd');	/* 10.0.0.9 before 10.0.0.10 */
	assert_int_equal(v[2].id[0], 'c');
	assert_int_equal(v[3].id[0], 'f');
	assert_int_equal(v[4].id[0], 'g');
	assert_int_equal(v[5].id[0], 'a');

	/* Nothing to drop, nothing to sort. */
	assert_int_equal(node_views_live(v, 0), 0);
	node_views_sort(v, 0);
	node_views_sort(v, 1);
	assert_int_equal(v[0].id[0], 'b');
}

static void
test_node_table(void **state)
{
	struct node_view v[4];
	struct capture c;

	(void)state;
	mknode(&v[0], 'a', ROLE_MANAGER, "10.0.0.1:4477", "leader", true);
	mknode(&v[1], 'b', ROLE_MANAGER, "10.0.0.2:4477", "unreachable", false);
	mknode(&v[2], 'c', ROLE_WORKER, "[fe80::1]:4477", NULL, true);
	snprintf(v[2].availability, sizeof(v[2].availability), "drain");
	mknode(&v[3], 'd', ROLE_WORKER, "w\x1b[2J:4477", NULL, false);
	/* TLS STATUS from T_TLS_STATUS; absent or unknown words are "Unknown". */
	snprintf(v[0].tls_status, sizeof(v[0].tls_status), "ready");
	snprintf(v[1].tls_status, sizeof(v[1].tls_status), "needs-rotation");
	snprintf(v[3].tls_status, sizeof(v[3].tls_status), "Ready");

	cap_open(&c);
	assert_int_equal(node_views_table(v, 4, "bbbbbbbbbbbbbbbbbbbbbbbbb",
	    c.f), 0);
	assert_string_equal(cap_close(&c),
	    "ID                            ADDRESS          STATUS    AVAILABILITY   MANAGER STATUS   TLS STATUS\n"
	    "aaaaaaaaaaaaaaaaaaaaaaaaa     10.0.0.1:4477    Ready     Active         Leader           Ready\n"
	    "bbbbbbbbbbbbbbbbbbbbbbbbb *   10.0.0.2:4477    Down      Active         Unreachable      Needs Rotation\n"
	    "ccccccccccccccccccccccccc     [fe80::1]:4477   Ready     Drain                           Unknown\n"
	    "ddddddddddddddddddddddddd     w?[2J:4477       Down      Active                          Unknown\n");
	free(c.buf);

	/* No self (status did not say): no mark, and the column is narrower. */
	cap_open(&c);
	assert_int_equal(node_views_table(v, 1, NULL, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "ID                          ADDRESS         STATUS    AVAILABILITY   MANAGER STATUS   TLS STATUS\n"
	    "aaaaaaaaaaaaaaaaaaaaaaaaa   10.0.0.1:4477   Ready     Active         Leader           Ready\n");
	free(c.buf);

	/* An empty cluster listing is still a header. */
	cap_open(&c);
	assert_int_equal(node_views_table(v, 0, "", c.f), 0);
	assert_string_equal(cap_close(&c),
	    "ID        ADDRESS   STATUS    AVAILABILITY   MANAGER STATUS   TLS STATUS\n");
	free(c.buf);
}

static void
test_node_json(void **state)
{
	struct node_view v;
	struct capture c;
	json_t *j;

	(void)state;
	mknode(&v, 'a', ROLE_MANAGER, "10.0.0.1:4477", "leader", true);
	snprintf(v.tls_status, sizeof(v.tls_status), "needs-rotation");
	assert_non_null(j = node_view_json(&v));
	cap_open(&c);
	assert_int_equal(print_json(j, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "{\n"
	    "    \"ID\": \"aaaaaaaaaaaaaaaaaaaaaaaaa\",\n"
	    "    \"Address\": \"10.0.0.1:4477\",\n"
	    "    \"Role\": \"manager\",\n"
	    "    \"Status\": \"Ready\",\n"
	    "    \"Availability\": \"Active\",\n"
	    "    \"ManagerStatus\": \"Leader\",\n"
	    "    \"TLSStatus\": \"Needs Rotation\",\n"
	    "    \"CreatedAt\": \"2023-11-14T22:13:20Z\"\n"
	    "}\n");
	free(c.buf);
	json_decref(j);

	mknode(&v, 'b', ROLE_WORKER, "10.0.0.2:4477", NULL, false);
	assert_non_null(j = node_view_json(&v));
	assert_string_equal(json_string_value(json_object_get(j, "Role")),
	    "worker");
	assert_string_equal(json_string_value(json_object_get(j, "Status")),
	    "Down");
	assert_string_equal(json_string_value(json_object_get(j,
	    "ManagerStatus")), "");
	assert_string_equal(json_string_value(json_object_get(j, "TLSStatus")),
	    "Unknown");
	json_decref(j);

	/* inspect: shaped like docker node inspect. */
	mknode(&v, 'a', ROLE_MANAGER, "10.0.0.1:4477", "leader", true);
	v.has_updated = true;
	v.updated = 1700000100;
	snprintf(v.tls_status, sizeof(v.tls_status), "ready");
	assert_non_null(j = node_view_inspect_json(&v));
	cap_open(&c);
	assert_int_equal(print_json(j, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "{\n"
	    "    \"ID\": \"aaaaaaaaaaaaaaaaaaaaaaaaa\",\n"
	    "    \"CreatedAt\": \"2023-11-14T22:13:20Z\",\n"
	    "    \"UpdatedAt\": \"2023-11-14T22:15:00Z\",\n"
	    "    \"Spec\": {\n"
	    "        \"Labels\": {},\n"
	    "        \"Role\": \"manager\",\n"
	    "        \"Availability\": \"active\"\n"
	    "    },\n"
	    "    \"Status\": {\n"
	    "        \"State\": \"ready\",\n"
	    "        \"Addr\": \"10.0.0.1:4477\",\n"
	    "        \"TLSStatus\": \"Ready\"\n"
	    "    },\n"
	    "    \"ManagerStatus\": {\n"
	    "        \"Leader\": true,\n"
	    "        \"Reachability\": \"reachable\",\n"
	    "        \"Addr\": \"10.0.0.1:4477\"\n"
	    "    }\n"
	    "}\n");
	free(c.buf);
	json_decref(j);

	/* Labels: one "key=value" line each, values free text. */
	snprintf(v.labels, sizeof(v.labels), "zone=eu\nnote=a=b c\n");
	assert_non_null(j = node_view_inspect_json(&v));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j,
	    "Spec"), "Labels"), "note")), "a=b c");
	assert_int_equal(json_object_size(json_object_get(json_object_get(j, "Spec"),
	    "Labels")), 2);
	json_decref(j);
	v.labels[0] = '\0';

	snprintf(v.raft_state, sizeof(v.raft_state), "unreachable");
	v.reachable = false;
	assert_non_null(j = node_view_inspect_json(&v));
	assert_false(json_is_true(json_object_get(json_object_get(j,
	    "ManagerStatus"), "Leader")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j,
	    "ManagerStatus"), "Reachability")), "unreachable");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j,
	    "Status"), "State")), "down");
	json_decref(j);

	/* A worker has no ManagerStatus; no T_UPDATED, no UpdatedAt. */
	mknode(&v, 'b', ROLE_WORKER, "10.0.0.2:4477", NULL, true);
	assert_non_null(j = node_view_inspect_json(&v));
	assert_null(json_object_get(j, "ManagerStatus"));
	assert_null(json_object_get(j, "UpdatedAt"));
	assert_int_equal(json_object_size(j), 4);
	json_decref(j);
}

/* A container view: hushd's (with service and time) or the mounter's. */
static void
ctr(struct container_view *v, const char *id, const char *service, uint32_t pid,
    uint32_t files, int64_t attached)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->id, sizeof(v->id), "%s", id);
	snprintf(v->service, sizeof(v->service), "%s", service);
	v->pid = pid;
	v->files = files;
	v->attached = attached;
}

static void
test_container_views(void **state)
{
	const int64_t now = 1700000000;
	struct container_view v[3];
	struct capture c;
	json_t *j;

	(void)state;
	ctr(&v[0], "old", "web", 4242, 2, now - 3 * H);
	ctr(&v[1], "b\x1b[2Jnew", "db", 77, 0, now - 5);
	ctr(&v[2], "a-new", "db", 78, 1, now - 5);
	container_views_sort(v, 3);
	/* Newest first; an id breaks the tie. */
	assert_string_equal(v[0].id, "a-new");
	assert_string_equal(v[2].id, "old");

	cap_open(&c);
	assert_int_equal(container_views_table(v, 3, false, now, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "CONTAINER ID   SERVICE   PID       FILES     ATTACHED\n"
	    "a-new          db        78        1         5 seconds ago\n"
	    "b?[2Jnew       db        77        0         5 seconds ago\n"
	    "old            web       4242      2         3 hours ago\n");
	free(c.buf);

	/* The mounter's table has no service and no time. */
	cap_open(&c);
	assert_int_equal(container_views_table(v, 1, true, now, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "CONTAINER ID   PID       FILES\n"
	    "a-new          78        1\n");
	free(c.buf);
	cap_open(&c);
	assert_int_equal(container_views_table(v, 0, true, now, c.f), 0);
	assert_string_equal(cap_close(&c), "CONTAINER ID   PID       FILES\n");
	free(c.buf);

	assert_non_null(j = container_view_json(&v[2], false));
	cap_open(&c);
	assert_int_equal(print_json(j, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "{\n"
	    "    \"ID\": \"old\",\n"
	    "    \"Service\": \"web\",\n"
	    "    \"Pid\": 4242,\n"
	    "    \"Files\": 2,\n"
	    "    \"AttachedAt\": \"2023-11-14T19:13:20Z\"\n"
	    "}\n");
	free(c.buf);
	json_decref(j);
	assert_non_null(j = container_view_json(&v[2], true));
	cap_open(&c);
	assert_int_equal(print_json(j, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "{\n"
	    "    \"ID\": \"old\",\n"
	    "    \"Pid\": 4242,\n"
	    "    \"Files\": 2\n"
	    "}\n");
	free(c.buf);
	json_decref(j);
}

static void
test_unlock_key_paragraph(void **state)
{
	uint8_t kek[32];
	struct capture c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kek); i++)
		kek[i] = (uint8_t)i;
	cap_open(&c);
	assert_int_equal(print_unlock_key(kek, c.f), 0);
	assert_string_equal(cap_close(&c),
	    "To unlock a cluster manager after it restarts, run 'hushctl "
	    "unlock' and provide the following key:\n"
	    "\n"
	    "    HUSHKEY-1-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
	    "\n"
	    "Remember to store this key in a password manager, since without "
	    "it you will not be able to restart the manager.\n");
	free(c.buf);
}

static void
test_arg_bool(void **state)
{
	char why[160];
	bool b = false;

	(void)state;
	assert_int_equal(arg_bool("--autolock", "true", &b, why, sizeof(why)), 0);
	assert_true(b);
	assert_int_equal(arg_bool("--autolock", "FALSE", &b, why, sizeof(why)), 0);
	assert_false(b);
	assert_int_equal(arg_bool("--autolock", "1", &b, why, sizeof(why)), 0);
	assert_true(b);
	assert_int_equal(arg_bool("--autolock", "maybe", &b, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "--autolock: invalid value 'maybe' (use true or false)");
	/* Input with escapes is not echoed back to the terminal. */
	assert_int_equal(arg_bool("--autolock", "\x1b]0;x", &b, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_null(strchr(why, '\x1b'));
}

static void
test_arg_role(void **state)
{
	char why[160];
	uint8_t role = 0;

	(void)state;
	assert_int_equal(arg_role("worker", &role, why, sizeof(why)), 0);
	assert_int_equal(role, ROLE_WORKER);
	assert_int_equal(arg_role("manager", &role, why, sizeof(why)), 0);
	assert_int_equal(role, ROLE_MANAGER);
	assert_int_equal(arg_role("Manager", &role, why, sizeof(why)), HUSH_E_FORMAT);
	assert_string_equal(why, "invalid role 'Manager': must be worker or manager");
}

static void
test_arg_cert_expiry(void **state)
{
	char why[320];
	uint64_t s = 0;

	(void)state;
	assert_int_equal(arg_cert_expiry("90d", &s, why, sizeof(why)), 0);
	assert_int_equal(s, 90 * D);
	assert_int_equal(arg_cert_expiry("1h", &s, why, sizeof(why)), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(arg_cert_expiry("59m59s", &s, why, sizeof(why)),
	    HUSH_E_RANGE);
	assert_string_equal(why, "--cert-expiry must be at least 1h");
	assert_int_equal(arg_cert_expiry("0s", &s, why, sizeof(why)), HUSH_E_RANGE);
	assert_int_equal(arg_cert_expiry("90", &s, why, sizeof(why)), HUSH_E_FORMAT);
	assert_memory_equal(why, "--cert-expiry: ", 15);
}

static void
test_arg_misc(void **state)
{
	char why[160], ref[REF_MAX + 2], addr[ADDR_MAX + 2];
	enum out_format f = FORMAT_TABLE;

	(void)state;
	assert_int_equal(arg_format("json", false, &f, why, sizeof(why)), 0);
	assert_int_equal(f, FORMAT_JSON);
	assert_int_equal(arg_format("table", true, &f, why, sizeof(why)), 0);
	assert_int_equal(f, FORMAT_TABLE);
	assert_int_equal(arg_format("table", false, &f, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "--format: unsupported format 'table' (use json)");
	assert_int_equal(arg_format("{{.ID}}", true, &f, why, sizeof(why)),
	    HUSH_E_FORMAT);

	assert_int_equal(arg_ref("db", why, sizeof(why)), 0);
	assert_int_equal(arg_ref("", why, sizeof(why)), HUSH_E_FORMAT);
	memset(ref, 'a', REF_MAX);
	ref[REF_MAX] = '\0';
	assert_int_equal(arg_ref(ref, why, sizeof(why)), 0);
	ref[REF_MAX] = 'a';
	ref[REF_MAX + 1] = '\0';
	assert_int_equal(arg_ref(ref, why, sizeof(why)), HUSH_E_TOOBIG);

	assert_int_equal(arg_addr("10.0.0.5", why, sizeof(why)), 0);
	assert_int_equal(arg_addr("[fe80::1]:4477", why, sizeof(why)), 0);
	assert_int_equal(arg_addr("", why, sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(arg_addr("a b", why, sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(arg_addr("a\nb", why, sizeof(why)), HUSH_E_FORMAT);
	memset(addr, 'h', ADDR_MAX + 1);
	addr[ADDR_MAX + 1] = '\0';
	assert_int_equal(arg_addr(addr, why, sizeof(why)), HUSH_E_TOOBIG);
}

static void
test_arg_hostport(void **state)
{
	char why[320], out[ADDR_MAX + 1], addr[ADDR_MAX + 2];

	(void)state;
	assert_int_equal(arg_hostport("--listen-addr", "10.0.0.5", out,
	    sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "10.0.0.5:4477");
	assert_int_equal(arg_hostport("--listen-addr", "0.0.0.0:5000", out,
	    sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "0.0.0.0:5000");
	assert_int_equal(arg_hostport("--listen-addr", "[::]", out,
	    sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "[::]:4477");
	assert_int_equal(arg_hostport("manager address", "mgr-1.example", out,
	    sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "mgr-1.example:4477");

	assert_int_equal(arg_hostport("--listen-addr", "", out, sizeof(out),
	    why, sizeof(why)), HUSH_E_FORMAT);
	assert_string_equal(why, "--listen-addr is empty");
	assert_int_equal(arg_hostport("--listen-addr", "h:0", out, sizeof(out),
	    why, sizeof(why)), HUSH_E_INVAL);
	assert_string_equal(why, "--listen-addr: port in 'h:0' must be a "
	    "number from 1 to 65535");
	assert_int_equal(arg_hostport("manager address", "::1", out,
	    sizeof(out), why, sizeof(why)), HUSH_E_INVAL);
	assert_string_equal(why, "manager address: IPv6 address '::1' must be "
	    "written as [ADDR]:PORT");
	assert_int_equal(arg_hostport("--advertise-addr", "a_b", out,
	    sizeof(out), why, sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(arg_hostport("--advertise-addr", "[zz]:1", out,
	    sizeof(out), why, sizeof(why)), HUSH_E_INVAL);
	/* Escapes never reach why, which addr_normalize() would quote. */
	assert_int_equal(arg_hostport("--advertise-addr", "a\x1b[2J", out,
	    sizeof(out), why, sizeof(why)), HUSH_E_FORMAT);
	assert_null(strchr(why, '\x1b'));
	assert_int_equal(arg_hostport("--advertise-addr", "a b", out,
	    sizeof(out), why, sizeof(why)), HUSH_E_FORMAT);
	memset(addr, 'h', ADDR_MAX + 1);
	addr[ADDR_MAX + 1] = '\0';
	assert_int_equal(arg_hostport("--listen-addr", addr, out, sizeof(out),
	    why, sizeof(why)), HUSH_E_TOOBIG);
}

static void
test_arg_node_ref(void **state)
{
	char why[160], ref[REF_MAX + 2];

	(void)state;
	assert_int_equal(arg_node_ref("abcdefghijklmnopqrstuvwxy", why,
	    sizeof(why)), 0);
	assert_int_equal(arg_node_ref("", why, sizeof(why)), HUSH_E_FORMAT);
	assert_string_equal(why, "empty node ID");
	assert_int_equal(arg_node_ref("a\x1b", why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "node ID contains control characters");
	memset(ref, 'a', REF_MAX);
	ref[REF_MAX] = '\0';
	assert_int_equal(arg_node_ref(ref, why, sizeof(why)), 0);
	ref[REF_MAX] = 'a';
	ref[REF_MAX + 1] = '\0';
	assert_int_equal(arg_node_ref(ref, why, sizeof(why)), HUSH_E_TOOBIG);
	assert_string_equal(why, "node ID is longer than 64 characters");
}

static void
test_labels(void **state)
{
	struct labels l = LABELS_INIT;
	char why[320], kv[32];
	int i;

	(void)state;
	assert_int_equal(labels_add(&l, "env=prod", why, sizeof(why)), 0);
	assert_int_equal(labels_add(&l, "team=a=b", why, sizeof(why)), 0);
	assert_int_equal(labels_add(&l, "empty=", why, sizeof(why)), 0);
	/* "env" is a prefix of "environment": not a duplicate. */
	assert_int_equal(labels_add(&l, "environment=x", why, sizeof(why)), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.kv[0], "env=prod");
	assert_string_equal(l.kv[1], "team=a=b");
	assert_string_equal(l.kv[2], "empty=");

	assert_int_equal(labels_add(&l, "env=dev", why, sizeof(why)), HUSH_E_EXISTS);
	assert_string_equal(why, "duplicate label key 'env'");
	assert_int_equal(labels_add(&l, "novalue", why, sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(labels_add(&l, "=v", why, sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(labels_add(&l, "k=a\nb", why, sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(l.n, 4);
	labels_free(&l);
	assert_int_equal(l.n, 0);

	/* The message must fit the field budget of one request. */
	for (i = 0; i < LABELS_MAX; i++) {
		snprintf(kv, sizeof(kv), "k%d=v", i);
		assert_int_equal(labels_add(&l, kv, why, sizeof(why)), 0);
	}
	assert_int_equal(labels_add(&l, "one=more", why, sizeof(why)), HUSH_E_TOOBIG);
	labels_free(&l);
}

static void
test_trim(void **state)
{
	const char *s = "    HUSHKEY-1-abc \r\n";
	size_t start, len;

	(void)state;
	trim_span(s, strlen(s), &start, &len);
	assert_int_equal(start, 4);
	assert_int_equal(len, strlen("HUSHKEY-1-abc"));
	trim_span(" \t\n", 3, &start, &len);
	assert_int_equal(len, 0);
	trim_span("", 0, &start, &len);
	assert_int_equal(start, 0);
	assert_int_equal(len, 0);
	trim_span("x", 1, &start, &len);
	assert_int_equal(start, 0);
	assert_int_equal(len, 1);
}

static int
setup(void **state)
{
	(void)state;
	/* print_unlock_key uses sodium guarded memory. */
	return sodium_init() < 0 ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human_duration),
		cmocka_unit_test(test_ago),
		cmocka_unit_test(test_until),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_utc),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_secret_views),
		cmocka_unit_test(test_secret_json),
		cmocka_unit_test(test_node_strings),
		cmocka_unit_test(test_natural_cmp),
		cmocka_unit_test(test_node_sort),
		cmocka_unit_test(test_node_table),
		cmocka_unit_test(test_node_json),
		cmocka_unit_test(test_container_views),
		cmocka_unit_test(test_unlock_key_paragraph),
		cmocka_unit_test(test_arg_bool),
		cmocka_unit_test(test_arg_role),
		cmocka_unit_test(test_arg_cert_expiry),
		cmocka_unit_test(test_arg_misc),
		cmocka_unit_test(test_arg_hostport),
		cmocka_unit_test(test_arg_node_ref),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_trim),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
