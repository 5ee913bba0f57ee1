#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "constraint.h"
#include "err.h"
#include "id.h"
#include "msg.h"

#define WHY_MAX	200

/* Valid ids: a leading '1' keeps 25 base36 digits below 2^128. */
#define ID_A	"1aaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B	"1bbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C	"1cccccccccccccccccccccccc"

static void
check_why(const char *why)
{
	size_t i;

	assert_true(strlen(why) > 0);
	assert_true(strlen(why) <= WHY_MAX);
	for (i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= 0x20 && why[i] < 0x7f);
}

static void
roundtrip(const struct constraint *c, const char *canon)
{
	struct constraint back;
	char buf[CONSTRAINT_MAX_TEXT];

	assert_int_equal(constraint_format(c, buf, sizeof(buf)), 0);
	if (canon != NULL)
		assert_string_equal(buf, canon);
	assert_int_equal(constraint_parse(buf, &back, NULL, 0), 0);
	assert_int_equal(back.key, c->key);
	assert_int_equal(back.equal, c->equal);
	assert_string_equal(back.label, c->label);
	assert_string_equal(back.value, c->value);
}

static void
c_ok(const char *text, enum constraint_key key, const char *label,
    bool equal, const char *value, const char *canon)
{
	struct constraint c;
	char why[256];

	snprintf(why, sizeof(why), "unset");
	assert_int_equal(constraint_parse(text, &c, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(c.key, key);
	assert_string_equal(c.label, label);
	assert_int_equal(c.equal, equal);
	assert_string_equal(c.value, value);
	roundtrip(&c, canon);
}

static void
c_fail(const char *text, int r, const char *needle)
{
	struct constraint out, zero;
	char why[256];

	memset(&zero, 0, sizeof(zero));
	memset(&out, 0xa5, sizeof(out));
	snprintf(why, sizeof(why), "unset");
	assert_int_equal(constraint_parse(text, &out, why, sizeof(why)), r);
	check_why(why);
	assert_true(strncmp(why, "constraint", 10) == 0);
	if (strstr(why, needle) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", text, why, needle);
	/* Tests spell sensitive-looking values hunter2: never echoed. */
	assert_null(strstr(why, "hunter2"));
	assert_memory_equal(&out, &zero, sizeof(out));
	assert_int_equal(constraint_parse(text, &out, NULL, 0), r);
}

static void
test_forms(void **state)
{
	(void)state;
	c_ok("node.id==" ID_A, CK_NODE_ID, "", true, ID_A, "node.id==" ID_A);
	c_ok("node.id!=" ID_A, CK_NODE_ID, "", false, ID_A, "node.id!=" ID_A);
	c_ok("node.role==manager", CK_NODE_ROLE, "", true, "manager", NULL);
	c_ok("node.role!=manager", CK_NODE_ROLE, "", false, "manager", NULL);
	c_ok("node.role==worker", CK_NODE_ROLE, "", true, "worker", NULL);
	c_ok("node.role!=worker", CK_NODE_ROLE, "", false, "worker", NULL);
	c_ok("node.labels.zone==eu-1", CK_NODE_LABEL, "zone", true, "eu-1",
	    "node.labels.zone==eu-1");
	c_ok("node.labels.zone!=eu-1", CK_NODE_LABEL, "zone", false, "eu-1",
	    "node.labels.zone!=eu-1");
	c_ok("node.labels.com.example/team_1==Platform Team", CK_NODE_LABEL,
	    "com.example/team_1", true, "Platform Team", NULL);
	c_ok("node.labels.9==x", CK_NODE_LABEL, "9", true, "x", NULL);
	/* Empty values are label values too (a node may carry "k="). */
	c_ok("node.labels.k==", CK_NODE_LABEL, "k", true, "",
	    "node.labels.k==");
	c_ok("node.labels.k!=", CK_NODE_LABEL, "k", false, "", NULL);
	/* The first operator splits; the value may hold more. */
	c_ok("node.labels.k==a==b", CK_NODE_LABEL, "k", true, "a==b",
	    "node.labels.k==a==b");
	c_ok("node.labels.k!=a!=b", CK_NODE_LABEL, "k", false, "a!=b", NULL);
	c_ok("node.labels.k==a=b", CK_NODE_LABEL, "k", true, "a=b", NULL);
	c_ok("node.labels.k==caf\xc3\xa9", CK_NODE_LABEL, "k", true,
	    "caf\xc3\xa9", NULL);
}

static void
test_spacing(void **state)
{
	(void)state;
	c_ok("node.role == manager", CK_NODE_ROLE, "", true, "manager",
	    "node.role==manager");
	c_ok("  node.role==manager  ", CK_NODE_ROLE, "", true, "manager",
	    "node.role==manager");
	c_ok("\tnode.role\t!=\tworker\t", CK_NODE_ROLE, "", false, "worker",
	    "node.role!=worker");
	c_ok(" node.labels.zone  ==  eu west ", CK_NODE_LABEL, "zone", true,
	    "eu west", "node.labels.zone==eu west");
	c_ok("node.labels.k ==  ", CK_NODE_LABEL, "k", true, "",
	    "node.labels.k==");
	c_ok("node.id == " ID_B, CK_NODE_ID, "", true, ID_B, "node.id==" ID_B);
}

static void
test_operator_bad(void **state)
{
	(void)state;
	c_fail("", HUSH_E_FORMAT, "constraint is empty");
	c_fail("   \t ", HUSH_E_FORMAT, "constraint is empty");
	c_fail("=", HUSH_E_FORMAT, "constraint '=...' has a single '=', "
	    "which is not an operator (use == or !=)");
	c_fail("node.role=manager", HUSH_E_FORMAT,
	    "constraint 'node.role=...' has a single '='");
	c_fail("node.labels.k=hunter2", HUSH_E_FORMAT, "single '='");
	c_fail("node.role", HUSH_E_FORMAT,
	    "constraint 'node.role' needs == or !=");
	c_fail("node.role<>manager", HUSH_E_FORMAT, "needs == or !=");
	c_fail("node.role!manager", HUSH_E_FORMAT, "needs == or !=");
	c_fail("node.role= =manager", HUSH_E_FORMAT, "single '='");
	c_fail("node.role =! manager", HUSH_E_FORMAT, "single '='");
	c_fail("===", HUSH_E_FORMAT, "no key before '=='");
	c_fail("==manager", HUSH_E_FORMAT, "no key before '=='");
	c_fail("  != worker", HUSH_E_FORMAT, "no key before '!='");
	c_fail("node.role===manager", HUSH_E_FORMAT,
	    "operator '===' is not supported");
	c_fail("node.role!==manager", HUSH_E_FORMAT,
	    "operator '!==' is not supported");
	c_fail("node.labels.k== =v", HUSH_E_FORMAT, "operator '===' is not");
	c_fail("node.labels.k====v", HUSH_E_FORMAT, "operator '===' is not");
}

static void
test_key_bad(void **state)
{
	char text[LABEL_KEY_MAX + 64], key[LABEL_KEY_MAX + 1];

	(void)state;
	c_fail("node.hostname==x", HUSH_E_FORMAT,
	    "constraint key 'node.hostname' is not supported");
	c_fail("node.platform.os==linux", HUSH_E_FORMAT,
	    "'node.platform.os' is not supported");
	c_fail("engine.labels.k==v", HUSH_E_FORMAT, "is not supported");
	c_fail("NODE.ROLE==manager", HUSH_E_FORMAT, "is not supported");
	c_fail("node.labels==x", HUSH_E_FORMAT,
	    "'node.labels' is not supported");
	c_fail("node.Labels.k==x", HUSH_E_FORMAT, "is not supported");
	c_fail("node . role==manager", HUSH_E_FORMAT, "is not supported");
	c_fail("no\x1b[2Jde==x", HUSH_E_FORMAT, "'no\\x1b[2Jde'");
	c_fail("node.labels.==x", HUSH_E_FORMAT, "needs a label key");
	c_fail("node.labels. ==x", HUSH_E_FORMAT, "needs a label key");
	c_fail("node.labels.-k==x", HUSH_E_FORMAT,
	    "label key '-k' must start with a letter or digit");
	c_fail("node.labels.a b==x", HUSH_E_FORMAT,
	    "label key contains ' '");
	c_fail("node.labels.a:b==x", HUSH_E_FORMAT, "label key contains ':'");
	c_fail("node.labels.a=b==x", HUSH_E_FORMAT, "label key contains '='");
	c_fail("node.labels.a!b==x", HUSH_E_FORMAT, "label key contains '!'");
	snprintf(text, sizeof(text), "node.labels.%0*d==x", LABEL_KEY_MAX + 1,
	    0);
	c_fail(text, HUSH_E_TOOBIG, "label key is longer than 128");
	memset(key, 'k', LABEL_KEY_MAX);
	key[LABEL_KEY_MAX] = '\0';
	snprintf(text, sizeof(text), "node.labels.%s==x", key);
	c_ok(text, CK_NODE_LABEL, key, true, "x", text);
}

static void
test_role_values(void **state)
{
	(void)state;
	c_fail("node.role==Manager", HUSH_E_FORMAT,
	    "node.role must be manager or worker");
	c_fail("node.role==admin", HUSH_E_FORMAT, "manager or worker");
	c_fail("node.role!=leader", HUSH_E_FORMAT, "manager or worker");
	c_fail("node.role==", HUSH_E_FORMAT, "manager or worker");
	c_fail("node.role==manager worker", HUSH_E_FORMAT, "manager or worker");
	c_fail("node.role==managers", HUSH_E_FORMAT, "manager or worker");
	/* The value itself is never echoed. */
	c_fail("node.role==hunter2", HUSH_E_FORMAT, "manager or worker");
}

static void
test_id_values(void **state)
{
	char id[HUSH_ID_LEN + 1], text[64];

	(void)state;
	assert_int_equal(hush_id_new(id), 0);
	snprintf(text, sizeof(text), "node.id==%s", id);
	c_ok(text, CK_NODE_ID, "", true, id, text);

	c_fail("node.id==", HUSH_E_FORMAT, "node.id must be a node id");
	c_fail("node.id==abc", HUSH_E_FORMAT, "node.id must be a node id");
	c_fail("node.id==1AAAAAAAAAAAAAAAAAAAAAAAA", HUSH_E_FORMAT, "node id");
	c_fail("node.id==" ID_A "a", HUSH_E_FORMAT, "node id");
	c_fail("node.id==" ID_A " x", HUSH_E_FORMAT, "node id");
	c_fail("node.id==1aaaaaaaaaaaaaaaaaaaaaaa-", HUSH_E_FORMAT, "node id");
	/* 25 base36 digits that do not fit in 128 bits. */
	c_fail("node.id==zzzzzzzzzzzzzzzzzzzzzzzzz", HUSH_E_FORMAT, "node id");
	c_fail("node.id!=worker", HUSH_E_FORMAT, "node id");
}

static void
test_value_bad(void **state)
{
	char text[LABEL_VALUE_MAX + 64], why[256];
	struct constraint c;

	(void)state;
	c_fail("node.labels.k==hunter2\x01", HUSH_E_FORMAT,
	    "constraint node.labels.k value contains a control character");
	c_fail("node.labels.k==a\nb", HUSH_E_FORMAT, "control character");
	c_fail("node.labels.k==a\x7f", HUSH_E_FORMAT, "control character");
	assert_int_equal(constraint_parse("node.labels.k==hunter2\x1b", &c, why,
	    sizeof(why)), HUSH_E_FORMAT);
	assert_null(strstr(why, "hunter2"));

	snprintf(text, sizeof(text), "node.labels.k==%0*d", LABEL_VALUE_MAX, 0);
	c_ok(text, CK_NODE_LABEL, "k", true, text + 15, NULL);
	snprintf(text, sizeof(text), "node.labels.k==%0*d", LABEL_VALUE_MAX + 1,
	    0);
	c_fail(text, HUSH_E_TOOBIG, "value is longer than 512 bytes");
}

static void
test_long_text(void **state)
{
	char text[CONSTRAINT_MAX_TEXT + 64];

	(void)state;
	memset(text, ' ', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "node.role==manager", 18);
	c_fail(text, HUSH_E_TOOBIG, "longer than 1024 bytes");
	/* Exactly the limit, blanks and all, is fine. */
	text[CONSTRAINT_MAX_TEXT] = '\0';
	c_ok(text, CK_NODE_ROLE, "", true, "manager", "node.role==manager");
	/* A long operator-less text is quoted short. */
	memset(text, 'x', CONSTRAINT_MAX_TEXT);
	c_fail(text, HUSH_E_FORMAT, "...' needs == or !=");
	memcpy(text + 900, "==y", 3);
	c_fail(text, HUSH_E_FORMAT, "...' is not supported");
}

/* Three nodes and what each constraint says about them. */
static const struct node_label mgr_labels[] = {
	{ "zone", "eu" }, { "disk", "ssd" }, { "empty", "" },
};
static const struct node_label wrk_labels[] = {
	{ "zone", "us" }, { NULL, "ignored" },
};
static const struct node_facts nodes[] = {
	{ ID_A, ROLE_MANAGER, mgr_labels, 3 },
	{ ID_B, ROLE_WORKER, wrk_labels, 2 },
	{ ID_C, ROLE_WORKER, NULL, 0 },		/* no labels at all */
};

static const struct {
	const char	*text;
	bool		 want[3];	/* manager A, worker B, bare worker C */
} match_table[] = {
	{ "node.role==manager",		{ true, false, false } },
	{ "node.role!=manager",		{ false, true, true } },
	{ "node.role==worker",		{ false, true, true } },
	{ "node.role!=worker",		{ true, false, false } },
	{ "node.id==" ID_A,		{ true, false, false } },
	{ "node.id!=" ID_A,		{ false, true, true } },
	{ "node.id==" ID_C,		{ false, false, true } },
	{ "node.labels.zone==eu",	{ true, false, false } },
	{ "node.labels.zone!=eu",	{ false, true, true } },
	{ "node.labels.zone==us",	{ false, true, false } },
	{ "node.labels.zone!=us",	{ true, false, true } },
	{ "node.labels.zone==EU",	{ false, false, false } },
	{ "node.labels.disk==ssd",	{ true, false, false } },
	{ "node.labels.disk!=ssd",	{ false, true, true } },
	{ "node.labels.missing==x",	{ false, false, false } },
	{ "node.labels.missing!=x",	{ true, true, true } },
	/* Set to "" is not the same as missing. */
	{ "node.labels.empty==",	{ true, false, false } },
	{ "node.labels.empty!=",	{ false, true, true } },
	{ "node.labels.missing==",	{ false, false, false } },
	{ "node.labels.missing!=",	{ true, true, true } },
};

static void
test_match_table(void **state)
{
	struct constraint c;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(match_table) / sizeof(match_table[0]); i++) {
		assert_int_equal(constraint_parse(match_table[i].text, &c,
		    NULL, 0), 0);
		for (j = 0; j < 3; j++) {
			if (constraint_match(&c, &nodes[j]) !=
			    match_table[i].want[j])
				fail_msg("%s on node %zu: want %d",
				    match_table[i].text, j,
				    match_table[i].want[j]);
		}
	}
}

static void
test_match_all(void **state)
{
	struct constraint c[3];
	size_t j;

	(void)state;
	for (j = 0; j < 3; j++)
		assert_true(constraints_match(NULL, 0, &nodes[j]));
	assert_int_equal(constraint_parse("node.role==worker", &c[0], NULL, 0),
	    0);
	assert_int_equal(constraint_parse("node.labels.zone!=us", &c[1], NULL,
	    0), 0);
	assert_false(constraints_match(c, 2, &nodes[0]));
	assert_false(constraints_match(c, 2, &nodes[1]));
	assert_true(constraints_match(c, 2, &nodes[2]));
	assert_true(constraints_match(c, 1, &nodes[1]));
	assert_int_equal(constraint_parse("node.id!=" ID_C, &c[2], NULL, 0), 0);
	for (j = 0; j < 3; j++)
		assert_false(constraints_match(c, 3, &nodes[j]));
	assert_false(constraints_match(c, 1, NULL));
	assert_false(constraints_match(NULL, 1, &nodes[0]));
}

static void
test_match_fails_closed(void **state)
{
	struct constraint c;
	struct node_facts anon = { NULL, ROLE_WORKER, NULL, 0 };
	struct node_facts odd = { ID_A, 7, NULL, 0 };

	(void)state;
	assert_int_equal(constraint_parse("node.role!=manager", &c, NULL, 0),
	    0);
	assert_false(constraint_match(NULL, &nodes[1]));
	assert_false(constraint_match(&c, NULL));
	/* A node that does not know its id is no node to place on. */
	assert_false(constraint_match(&c, &anon));
	/* A node whose role is neither manager nor worker is corrupt. */
	assert_false(constraint_match(&c, &odd));
	c.equal = true;
	assert_false(constraint_match(&c, &odd));

	/* Structs parse could not have produced match nothing. */
	snprintf(c.value, sizeof(c.value), "admin");
	c.equal = false;
	assert_false(constraint_match(&c, &nodes[0]));
	assert_false(constraint_match(&c, &nodes[1]));
	c.key = (enum constraint_key)7;
	assert_false(constraint_match(&c, &nodes[0]));
	c.equal = true;
	assert_false(constraint_match(&c, &nodes[0]));
}

static void
test_format_invalid(void **state)
{
	struct constraint c, good;
	char buf[CONSTRAINT_MAX_TEXT];
	size_t n;

	(void)state;
	assert_int_equal(constraint_parse("node.labels.k==v", &good, NULL, 0),
	    0);
	assert_int_equal(constraint_format(NULL, buf, sizeof(buf)),
	    HUSH_E_INVAL);
	assert_int_equal(constraint_format(&good, NULL, 0), HUSH_E_INVAL);

	c = good; snprintf(c.value, sizeof(c.value), " v");
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	assert_string_equal(buf, "");
	c = good; snprintf(c.value, sizeof(c.value), "v ");
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	c = good; snprintf(c.value, sizeof(c.value), "=v");
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	c = good; snprintf(c.value, sizeof(c.value), "a\nb");
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	c = good; memset(c.value, 'v', sizeof(c.value));
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	c = good; c.label[0] = '\0';
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	c = good; snprintf(c.label, sizeof(c.label), "a=b");
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	c = good; memset(c.label, 'k', sizeof(c.label));
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	/* A role or id constraint carries no label. */
	c = good; c.key = CK_NODE_ROLE;
	snprintf(c.value, sizeof(c.value), "manager");
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	c.label[0] = '\0';
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "node.role==manager");
	snprintf(c.value, sizeof(c.value), "admin");
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	c.key = CK_NODE_ID;
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);
	c.key = (enum constraint_key)7;
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), HUSH_E_INVAL);

	/* Buffer sizes. */
	n = sizeof("node.labels.k==v");
	assert_int_equal(constraint_format(&good, buf, n), 0);
	assert_string_equal(buf, "node.labels.k==v");
	assert_int_equal(constraint_format(&good, buf, n - 1), HUSH_E_TOOBIG);
	assert_string_equal(buf, "");
	assert_int_equal(constraint_format(&good, buf, 0), HUSH_E_TOOBIG);
}

static void
test_format_longest(void **state)
{
	struct constraint c;
	char buf[CONSTRAINT_MAX_TEXT];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.key = CK_NODE_LABEL;
	memset(c.label, 'k', LABEL_KEY_MAX);
	memset(c.value, 'v', LABEL_VALUE_MAX);
	assert_int_equal(constraint_format(&c, buf, sizeof(buf)), 0);
	assert_true(strlen(buf) < CONSTRAINT_MAX_TEXT);
	roundtrip(&c, NULL);
}

static void
test_args(void **state)
{
	struct constraint c;
	char why[64];

	(void)state;
	assert_int_equal(constraint_parse(NULL, &c, why, sizeof(why)),
	    HUSH_E_INVAL);
	assert_int_equal(constraint_parse("node.role==manager", NULL, why,
	    sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(constraint_parse("node.role==manager", &c, NULL, 0),
	    0);
	assert_int_equal(constraint_parse("x", &c, why, 11), HUSH_E_FORMAT);
	assert_string_equal(why, "constraint");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_spacing),
		cmocka_unit_test(test_operator_bad),
		cmocka_unit_test(test_key_bad),
		cmocka_unit_test(test_role_values),
		cmocka_unit_test(test_id_values),
		cmocka_unit_test(test_value_bad),
		cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_match_all),
		cmocka_unit_test(test_match_fails_closed),
		cmocka_unit_test(test_format_invalid),
		cmocka_unit_test(test_format_longest),
		cmocka_unit_test(test_args),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
