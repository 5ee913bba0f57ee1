/*
 * The records a restarted hushd reads back from its run directory
 * (daemon/parent/containers_record.c): what it writes parses back to the
 * same container, and anything else in those files -- they are untrusted
 * input -- is refused with a reason, never believed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "err.h"
#include "parent/containers.h"

static const char boot[] = "0f7c2b1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b";

static void
sample(struct container *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", "ctr/1 \xc3\xbc");	/* any character */
	snprintf(c->service, sizeof(c->service), "web");
	snprintf(c->root, sizeof(c->root), "/var/lib/ctr/rootfs");
	snprintf(c->target, sizeof(c->target), "/run/secrets");
	c->pid = 1234;
	c->start = 987654;
	c->view_id = (uint64_t)1 << 40;
	c->attached = 1700000000;
}

/* Parses text as the record file of id. */
static int
parse(const char *id, const char *text, struct container *out, char *why, size_t whylen)
{
	char name[CTR_RECORD_NAME_MAX], b[CTR_BOOT_ID_LEN + 1];

	ctr_record_name(id, ".json", name, sizeof(name));
	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	return ctr_record_parse(name, text, strlen(text), out, b, why, whylen);
}

static void
test_round_trip(void **state)
{
	struct container c, back;
	char name[CTR_RECORD_NAME_MAX], b[CTR_BOOT_ID_LEN + 1], why[256];
	char *text;

	(void)state;
	sample(&c);
	assert_non_null(text = ctr_record_text(&c, boot));
	ctr_record_name(c.id, ".json", name, sizeof(name));
	assert_int_equal(strlen(name), CTR_RECORD_HEX + 5);
	memset(&back, 0, sizeof(back));
	assert_int_equal(ctr_record_parse(name, text, strlen(text), &back, b, why,
	    sizeof(why)), 0);
	assert_string_equal(back.id, c.id);
	assert_string_equal(back.service, c.service);
	assert_string_equal(back.root, c.root);
	assert_string_equal(back.target, c.target);
	assert_int_equal(back.pid, c.pid);
	assert_true(back.start == c.start);
	assert_true(back.view_id == c.view_id);
	assert_true(back.attached == c.attached);
	assert_string_equal(b, boot);
	/* no secret, no map: only what identifies the container */
	assert_null(strstr(text, "uid"));
	free(text);
}

static void
test_names(void **state)
{
	char a[CTR_RECORD_NAME_MAX], b[CTR_RECORD_NAME_MAX];

	(void)state;
	ctr_record_name("c1", ".json", a, sizeof(a));
	ctr_record_name("c1", ".json", b, sizeof(b));
	assert_string_equal(a, b);
	ctr_record_name("c2", ".json", b, sizeof(b));
	assert_string_not_equal(a, b);
	/* BLAKE2b-128 of "c1", as t_adopt.sh computes it with Python */
	assert_string_equal(a, "3f8510636a81e131400479a2f400711d.json");
	ctr_record_name("../../etc/passwd", ".tmp", b, sizeof(b));
	assert_null(strchr(b, '/'));
}

static void
test_unwritable(void **state)
{
	struct container c;

	(void)state;
	sample(&c);
	snprintf(c.id, sizeof(c.id), "bad \xff utf-8");
	assert_null(ctr_record_text(&c, boot));
	sample(&c);
	c.view_id = UINT64_MAX;
	assert_null(ctr_record_text(&c, boot));
}

/* The sample record with key set to the JSON value v (NULL: removed). */
static char *
variant(const char *key, const char *v)
{
	struct container c;
	json_error_t jerr;
	json_t *o;
	char *text;

	sample(&c);
	assert_non_null(text = ctr_record_text(&c, boot));
	assert_non_null(o = json_loads(text, 0, &jerr));
	free(text);
	if (v == NULL)
		assert_int_equal(json_object_del(o, key), 0);
	else
		assert_int_equal(json_object_set_new(o, key, json_loads(v,
		    JSON_DECODE_ANY, &jerr)), 0);
	assert_non_null(text = json_dumps(o, JSON_COMPACT));
	json_decref(o);
	return text;
}

static void
test_refused(void **state)
{
	static const struct {
		const char	*key, *value, *want;
	} bad[] = {
		{ "version", "2", "version 2" },
		{ "version", NULL, "no version" },
		{ "version", "\"1\"", "no version" },
		{ "service", "\"../x\"", "service" },
		{ "service", "\"\"", "service" },
		{ "service", NULL, "service" },
		{ "pid", "1", "pid" },
		{ "pid", "0", "pid" },
		{ "pid", "2147483648", "pid" },
		{ "pid", "-5", "pid" },
		{ "pid", "12.5", "pid" },
		{ "start", "-1", "start" },
		{ "view_id", "0", "view id" },
		{ "attached", "\"now\"", "attach" },
		{ "boot_id", "\"short\"", "boot id" },
		{ "boot_id", "5", "boot id" },
		{ "root", "\"relative/rootfs\"", "absolute" },
		{ "root", "\"\"", "absolute" },
		{ "target", "\"run/secrets\"", "absolute" },
		{ "target", NULL, "absolute" },
	};
	struct container c;
	char why[256], *text, big[HUSH_PATH_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text = variant(bad[i].key, bad[i].value);
		if (parse("ctr/1 \xc3\xbc", text, &c, why, sizeof(why)) != HUSH_E_FORMAT ||
		    strstr(why, bad[i].want) == NULL)
			fail_msg("%s=%s: '%s', wanted '%s'", bad[i].key,
			    bad[i].value ? bad[i].value : "(none)", why, bad[i].want);
		free(text);
	}
	/* a root one byte too long for any path */
	memset(big, 'a', sizeof(big));
	big[0] = '"';
	big[1] = '/';
	big[HUSH_PATH_MAX + 2] = '"';
	big[HUSH_PATH_MAX + 3] = '\0';
	text = variant("root", big);
	assert_int_equal(parse("ctr/1 \xc3\xbc", text, &c, why, sizeof(why)),
	    HUSH_E_FORMAT);
	free(text);

	/* a record under another container's name */
	text = variant("pid", "77");
	assert_int_equal(parse("ctr-2", text, &c, why, sizeof(why)), HUSH_E_FORMAT);
	assert_non_null(strstr(why, "its name is not that of container"));
	free(text);
	/* an id with a NUL in it, or none */
	text = variant("id", "\"cXXXXXXd\"");
	memcpy(strstr(text, "XXXXXX"), "\\u0000", 6);
	assert_int_equal(parse("c", text, &c, why, sizeof(why)), HUSH_E_FORMAT);
	free(text);
	text = variant("id", "\"\"");
	assert_int_equal(parse("", text, &c, why, sizeof(why)), HUSH_E_FORMAT);
	assert_non_null(strstr(why, "container id"));
	free(text);

	/* not a record at all */
	assert_int_equal(parse("c", "", &c, why, sizeof(why)), HUSH_E_FORMAT);
	assert_non_null(strstr(why, "not JSON"));
	assert_int_equal(parse("c", "{\"version\":1", &c, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_int_equal(parse("c", "[1]", &c, why, sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(parse("c", "{\"version\":1,\"version\":1}", &c, why,
	    sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(parse("c", "null", &c, why, sizeof(why)), HUSH_E_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unwritable),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
