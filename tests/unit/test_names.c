#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "names.h"

static void
name_ok(const char *s)
{
	char why[128];

	assert_int_equal(secret_name_check(s, strlen(s), why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

static void
name_fail(const char *s, size_t len, int r, const char *msg)
{
	char why[256];
	size_t i;

	snprintf(why, sizeof(why), "unset");
	assert_int_equal(secret_name_check(s, len, why, sizeof(why)), r);
	if (msg != NULL)
		assert_string_equal(why, msg);
	assert_true(strlen(why) > 0);
	for (i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= 0x20 && why[i] < 0x7f);
	assert_int_equal(secret_name_check(s, len, NULL, 0), r);
}

static void
test_name_ok(void **state)
{
	char max[SECRET_NAME_MAX + 1];

	(void)state;
	name_ok("a");
	name_ok("7");
	name_ok("db-password");
	name_ok("DB_PASSWORD.v2");
	name_ok("a.b-c_d");
	name_ok("a..b");
	memset(max, 'x', SECRET_NAME_MAX);
	max[SECRET_NAME_MAX] = '\0';
	name_ok(max);
}

static void
test_name_bad(void **state)
{
	char big[SECRET_NAME_MAX + 2];

	(void)state;
	name_fail("", 0, HUSH_E_FORMAT, "secret name is empty");
	name_fail("x..", 3, HUSH_E_FORMAT,
	    "secret name 'x..' must end with a letter or digit");
	name_fail(".x", 2, HUSH_E_FORMAT,
	    "secret name '.x' must start with a letter or digit");
	name_fail("-", 1, HUSH_E_FORMAT, NULL);
	name_fail("_a", 2, HUSH_E_FORMAT, NULL);
	name_fail("a_", 2, HUSH_E_FORMAT, NULL);
	name_fail("caf\xc3\xa9", 5, HUSH_E_FORMAT, "secret name contains "
	    "'\\xc3' which is not allowed (use A-Z a-z 0-9 _ . -)");
	name_fail("a/b", 3, HUSH_E_FORMAT, "secret name contains '/' which "
	    "is not allowed (use A-Z a-z 0-9 _ . -)");
	name_fail("a b", 3, HUSH_E_FORMAT, NULL);
	name_fail("a\nb", 3, HUSH_E_FORMAT, "secret name contains '\\x0a' "
	    "which is not allowed (use A-Z a-z 0-9 _ . -)");
	name_fail("a\x1b[2J", 5, HUSH_E_FORMAT, NULL);
	name_fail("../etc", 6, HUSH_E_FORMAT, NULL);
	/* len includes a NUL: the NUL is a character, not the end. */
	name_fail("abc", 4, HUSH_E_FORMAT, "secret name contains '\\x00' "
	    "which is not allowed (use A-Z a-z 0-9 _ . -)");
	name_fail("a\0b", 3, HUSH_E_FORMAT, NULL);

	memset(big, 'x', sizeof(big));
	name_fail(big, SECRET_NAME_MAX + 1, HUSH_E_TOOBIG,
	    "secret name is longer than 64 characters");
	name_fail(big, SIZE_MAX, HUSH_E_TOOBIG, NULL);
	assert_int_equal(secret_name_check(NULL, 1, NULL, 0), HUSH_E_INVAL);
	assert_int_equal(secret_name_check(NULL, 0, NULL, 0), HUSH_E_FORMAT);
}

/* Service names follow the secret-name rule; only the wording differs. */
static void
test_service_name(void **state)
{
	char why[256], big[SERVICE_NAME_MAX + 1];

	(void)state;
	assert_int_equal(service_name_check("web", 3, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(service_name_check("db-pw.v2_x", 10, why,
	    sizeof(why)), 0);
	assert_int_equal(service_name_check("", 0, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "service name is empty");
	assert_int_equal(service_name_check("web.", 4, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "service name 'web.' must end with a letter "
	    "or digit");
	assert_int_equal(service_name_check("a/b", 3, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "service name contains '/' which is not "
	    "allowed (use A-Z a-z 0-9 _ . -)");
	memset(big, 'w', sizeof(big));
	assert_int_equal(service_name_check(big, SERVICE_NAME_MAX, why,
	    sizeof(why)), 0);
	assert_int_equal(service_name_check(big, SERVICE_NAME_MAX + 1, why,
	    sizeof(why)), HUSH_E_TOOBIG);
	assert_string_equal(why, "service name is longer than 64 characters");
}

static void
label_ok(const char *kv, const char *wk, const char *wv)
{
	char key[LABEL_KEY_MAX + 1], val[LABEL_VALUE_MAX + 1], why[128];

	assert_int_equal(label_parse(kv, key, sizeof(key), val, sizeof(val),
	    why, sizeof(why)), 0);
	assert_string_equal(key, wk);
	assert_string_equal(val, wv);
	assert_string_equal(why, "");
}

static void
label_fail(const char *kv, int r, const char *msg)
{
	char key[LABEL_KEY_MAX + 1], val[LABEL_VALUE_MAX + 1], why[256];
	size_t i;

	snprintf(why, sizeof(why), "unset");
	assert_int_equal(label_parse(kv, key, sizeof(key), val, sizeof(val),
	    why, sizeof(why)), r);
	if (msg != NULL)
		assert_string_equal(why, msg);
	assert_string_equal(key, "");
	assert_string_equal(val, "");
	for (i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= 0x20 && why[i] < 0x7f);
	assert_true(i > 0);
	assert_int_equal(label_parse(kv, key, sizeof(key), val, sizeof(val),
	    NULL, 0), r);
}

static void
test_label_ok(void **state)
{
	char kv[LABEL_KEY_MAX + 1 + LABEL_VALUE_MAX + 1];
	char key[LABEL_KEY_MAX + 1], val[LABEL_VALUE_MAX + 1];

	(void)state;
	label_ok("env=prod", "env", "prod");
	label_ok("env=", "env", "");
	label_ok("a=b=c", "a", "b=c");
	label_ok("com.example/team-name_1=Platform Team",
	    "com.example/team-name_1", "Platform Team");
	label_ok("k=caf\xc3\xa9", "k", "caf\xc3\xa9");
	label_ok("k= spaces and ~!@#$%^&*() ", "k", " spaces and ~!@#$%^&*() ");
	label_ok("9=x", "9", "x");

	memset(kv, 'k', LABEL_KEY_MAX);
	kv[LABEL_KEY_MAX] = '=';
	memset(kv + LABEL_KEY_MAX + 1, 'v', LABEL_VALUE_MAX);
	kv[sizeof(kv) - 1] = '\0';
	assert_int_equal(label_parse(kv, key, sizeof(key), val, sizeof(val),
	    NULL, 0), 0);
	assert_int_equal(strlen(key), LABEL_KEY_MAX);
	assert_int_equal(strlen(val), LABEL_VALUE_MAX);
	/* Exactly-sized buffers are enough; one less is not. */
	assert_int_equal(label_parse(kv, key, sizeof(key) - 1, val, sizeof(val),
	    NULL, 0), HUSH_E_TOOBIG);
	assert_int_equal(label_parse(kv, key, sizeof(key), val, sizeof(val) - 1,
	    NULL, 0), HUSH_E_TOOBIG);
}

static void
test_label_bad(void **state)
{
	char kv[LABEL_KEY_MAX + 2 + LABEL_VALUE_MAX + 2];

	(void)state;
	label_fail("foo", HUSH_E_FORMAT, "label 'foo' must be KEY=VALUE");
	label_fail("", HUSH_E_FORMAT, "label '' must be KEY=VALUE");
	label_fail("a\x1b" "b", HUSH_E_FORMAT,
	    "label 'a\\x1bb' must be KEY=VALUE");
	label_fail("=v", HUSH_E_FORMAT,
	    "label has an empty key (expected KEY=VALUE)");
	label_fail("-k=v", HUSH_E_FORMAT,
	    "label key '-k' must start with a letter or digit");
	label_fail(".k=v", HUSH_E_FORMAT, NULL);
	label_fail("/k=v", HUSH_E_FORMAT, NULL);
	label_fail("k k=v", HUSH_E_FORMAT, "label key contains ' ' which is "
	    "not allowed (use A-Z a-z 0-9 . _ / -)");
	label_fail("k\xc3\xa9=v", HUSH_E_FORMAT, NULL);
	label_fail("k:x=v", HUSH_E_FORMAT, NULL);

	/* Value problems never quote the value. */
	label_fail("k=hunter2\n", HUSH_E_FORMAT,
	    "label 'k' value contains a control character");
	label_fail("k=\thunter2", HUSH_E_FORMAT, NULL);
	label_fail("k=hunter2\x7f", HUSH_E_FORMAT, NULL);
	label_fail("k=hunter2\x1b[0m", HUSH_E_FORMAT, NULL);

	memset(kv, 'k', LABEL_KEY_MAX + 1);
	kv[LABEL_KEY_MAX + 1] = '=';
	kv[LABEL_KEY_MAX + 2] = '\0';
	label_fail(kv, HUSH_E_TOOBIG, "label key is longer than 128 "
	    "characters");

	memset(kv, 'v', sizeof(kv));
	memcpy(kv, "k=", 2);
	kv[2 + LABEL_VALUE_MAX + 1] = '\0';
	label_fail(kv, HUSH_E_TOOBIG,
	    "label 'k' value is longer than 512 bytes");
}

static void
test_label_long_nokv_quoted_short(void **state)
{
	char kv[4096], key[8], val[8], why[512];

	(void)state;
	memset(kv, 'x', sizeof(kv) - 1);
	kv[sizeof(kv) - 1] = '\0';
	assert_int_equal(label_parse(kv, key, sizeof(key), val, sizeof(val),
	    why, sizeof(why)), HUSH_E_FORMAT);
	assert_true(strlen(why) < 100);
	assert_non_null(strstr(why, "...' must be KEY=VALUE"));
}

static void
test_label_args(void **state)
{
	char key[8], val[8];

	(void)state;
	assert_int_equal(label_parse(NULL, key, sizeof(key), val, sizeof(val),
	    NULL, 0), HUSH_E_INVAL);
	assert_int_equal(label_parse("k=v", NULL, 0, val, sizeof(val), NULL, 0),
	    HUSH_E_INVAL);
	assert_int_equal(label_parse("k=v", key, sizeof(key), NULL, 0, NULL, 0),
	    HUSH_E_INVAL);
	assert_int_equal(label_parse("k=v", key, 0, val, 0, NULL, 0),
	    HUSH_E_TOOBIG);
}

/* The halves constraint parsing reuses: exact lengths, same rules. */
static void
test_label_halves(void **state)
{
	char v[LABEL_VALUE_MAX + 1], why[128];

	(void)state;
	assert_int_equal(label_key_check("zone==x", 4, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(label_key_check("zone", 5, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "label key contains '\\x00' which is not "
	    "allowed (use A-Z a-z 0-9 . _ / -)");
	assert_int_equal(label_key_check("-k", 2, NULL, 0), HUSH_E_FORMAT);
	assert_int_equal(label_key_check("a=b", 3, NULL, 0), HUSH_E_FORMAT);
	assert_int_equal(label_key_check("", 0, NULL, 0), HUSH_E_FORMAT);
	assert_int_equal(label_key_check(NULL, 1, NULL, 0), HUSH_E_INVAL);

	assert_int_equal(label_value_check("", 0, why, sizeof(why)), 0);
	assert_int_equal(label_value_check(NULL, 0, NULL, 0), 0);
	assert_int_equal(label_value_check("a b=c", 5, NULL, 0), 0);
	assert_int_equal(label_value_check("ab", 3, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "value contains a control character");
	memset(v, 'v', sizeof(v));
	assert_int_equal(label_value_check(v, LABEL_VALUE_MAX, NULL, 0), 0);
	assert_int_equal(label_value_check(v, LABEL_VALUE_MAX + 1, why,
	    sizeof(why)), HUSH_E_TOOBIG);
	assert_string_equal(why, "value is longer than 512 bytes");
	assert_int_equal(label_value_check(NULL, 1, NULL, 0), HUSH_E_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_name_bad),
		cmocka_unit_test(test_service_name),
		cmocka_unit_test(test_label_ok),
		cmocka_unit_test(test_label_bad),
		cmocka_unit_test(test_label_long_nokv_quoted_short),
		cmocka_unit_test(test_label_args),
		cmocka_unit_test(test_label_halves),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
