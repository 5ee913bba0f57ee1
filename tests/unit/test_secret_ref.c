#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "secret_ref.h"

/* The longest message any input may produce (the brief's ~200 bytes). */
#define WHY_MAX	200

static void
check_why(const char *why)
{
	size_t i;

	assert_true(strlen(why) > 0);
	assert_true(strlen(why) <= WHY_MAX);
	for (i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= 0x20 && why[i] < 0x7f);
}

/* Parses, formats, parses again: both parses must agree field by field. */
static void
roundtrip(const struct secret_ref *r)
{
	struct secret_ref back;
	char buf[SECRET_REF_STR_MAX];

	assert_int_equal(secret_ref_format(r, buf, sizeof(buf)), 0);
	assert_int_equal(secret_ref_parse(buf, &back, NULL, 0), 0);
	assert_string_equal(back.source, r->source);
	assert_string_equal(back.target, r->target);
	assert_int_equal(back.uid, r->uid);
	assert_int_equal(back.gid, r->gid);
	assert_int_equal(back.mode, r->mode);
}

static void
ref_ok(const char *text, const char *source, const char *target,
    uint32_t uid, uint32_t gid, uint32_t mode)
{
	struct secret_ref r;
	char why[256];

	snprintf(why, sizeof(why), "unset");
	assert_int_equal(secret_ref_parse(text, &r, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_string_equal(r.source, source);
	assert_string_equal(r.target, target);
	assert_int_equal(r.uid, uid);
	assert_int_equal(r.gid, gid);
	assert_int_equal(r.mode, mode);
	roundtrip(&r);
}

/*
 * Fails with code r; why starts with the quoted text and contains needle
 * (the key or problem it must name); the output struct is all zero.
 */
static void
ref_fail(const char *text, int r, const char *needle)
{
	struct secret_ref out, zero;
	char why[256];

	memset(&zero, 0, sizeof(zero));
	memset(&out, 0xa5, sizeof(out));
	snprintf(why, sizeof(why), "unset");
	assert_int_equal(secret_ref_parse(text, &out, why, sizeof(why)), r);
	check_why(why);
	assert_true(strncmp(why, "--secret '", 10) == 0);
	if (strstr(why, needle) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", text, why, needle);
	assert_memory_equal(&out, &zero, sizeof(out));
	assert_int_equal(secret_ref_parse(text, &out, NULL, 0), r);
}

static void
target_ok(const char *t)
{
	char why[256];

	snprintf(why, sizeof(why), "unset");
	assert_int_equal(secret_target_check(t, why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

static void
target_fail(const char *t, int r, const char *needle)
{
	char why[256];

	snprintf(why, sizeof(why), "unset");
	assert_int_equal(secret_target_check(t, why, sizeof(why)), r);
	check_why(why);
	if (strstr(why, needle) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", t, why, needle);
	assert_int_equal(secret_target_check(t, NULL, 0), r);
}

static void
test_defaults(void **state)
{
	(void)state;
	ref_ok("db", "db", "db", 0, 0, 0444);
	ref_ok("source=db", "db", "db", 0, 0, 0444);
	ref_ok("src=db", "db", "db", 0, 0, 0444);
	ref_ok("db.password-v2_x", "db.password-v2_x", "db.password-v2_x",
	    0, 0, 0444);
}

static void
test_every_key(void **state)
{
	(void)state;
	ref_ok("db,target=app.conf", "db", "app.conf", 0, 0, 0444);
	ref_ok("db,uid=1000", "db", "db", 1000, 0, 0444);
	ref_ok("db,gid=1001", "db", "db", 0, 1001, 0444);
	ref_ok("db,mode=0400", "db", "db", 0, 0, 0400);
	ref_ok("db,mode=400", "db", "db", 0, 0, 0400);
	ref_ok("db,target=app.conf,uid=1000,gid=1001,mode=0440", "db",
	    "app.conf", 1000, 1001, 0440);
	ref_ok("source=db,target=/etc/app/db.conf", "db", "/etc/app/db.conf",
	    0, 0, 0444);
	ref_ok("src=db,target=conf/db", "db", "conf/db", 0, 0, 0444);
}

static void
test_numbers(void **state)
{
	(void)state;
	ref_ok("db,uid=0,gid=0", "db", "db", 0, 0, 0444);
	ref_ok("db,uid=4294967294,gid=4294967294", "db", "db", 4294967294U,
	    4294967294U, 0444);
	ref_ok("db,uid=007", "db", "db", 7, 0, 0444);
	ref_ok("db,mode=0", "db", "db", 0, 0, 0);
	ref_ok("db,mode=0000", "db", "db", 0, 0, 0);
	ref_ok("db,mode=7", "db", "db", 0, 0, 07);
	ref_ok("db,mode=777", "db", "db", 0, 0, 0777);
	ref_ok("db,mode=0777", "db", "db", 0, 0, 0777);
}

static void
test_targets_ok(void **state)
{
	char t[SECRET_TARGET_MAX + 1], text[SECRET_TARGET_MAX + 16];

	(void)state;
	target_ok("db");
	target_ok(".hidden");
	target_ok("a.b/c-d_e");
	target_ok("a..b");
	target_ok("x..");
	target_ok("/etc/app/db.conf");
	target_ok("/procfs/x");
	target_ok("/device");
	target_ok("/system");
	target_ok("/run/secrets/db");
	target_ok("/run/secretsx");
	memset(t, 'x', SECRET_TARGET_MAX);
	t[SECRET_TARGET_MAX] = '\0';
	target_ok(t);
	snprintf(text, sizeof(text), "db,target=%s", t);
	ref_ok(text, "db", t, 0, 0, 0444);

	/* One file, two spellings: stored the short way. */
	ref_ok("db,target=/run/secrets/db.conf", "db", "db.conf", 0, 0, 0444);
	ref_ok("db,target=/run/secrets/a/b", "db", "a/b", 0, 0, 0444);
}

static void
test_order_independent(void **state)
{
	static const char *fields[] = {
		"source=db", "target=a/b", "uid=5", "gid=6", "mode=0440",
	};
	size_t idx[5] = { 0, 1, 2, 3, 4 }, c[5] = { 0 };
	char text[128];
	size_t i, j, k, n;

	(void)state;
	/* All 120 orders, by Heap's algorithm (iterative). */
	n = 0;
	for (i = 0; ; ) {
		text[0] = '\0';
		for (k = 0; k < 5; k++) {
			if (k > 0)
				strcat(text, ",");
			strcat(text, fields[idx[k]]);
		}
		ref_ok(text, "db", "a/b", 5, 6, 0440);
		n++;
		while (i < 5 && c[i] >= i) {
			c[i] = 0;
			i++;
		}
		if (i >= 5)
			break;
		j = (i % 2 == 0) ? 0 : c[i];
		k = idx[j];
		idx[j] = idx[i];
		idx[i] = k;
		c[i]++;
		i = 0;
	}
	assert_int_equal(n, 120);

	ref_ok("db,mode=0440,gid=6,uid=5,target=a/b", "db", "a/b", 5, 6, 0440);
	ref_ok("mode=0440,src=db", "db", "db", 0, 0, 0440);
}

static void
test_format(void **state)
{
	struct secret_ref r;
	char buf[SECRET_REF_STR_MAX];

	(void)state;
	assert_int_equal(secret_ref_parse("db", &r, NULL, 0), 0);
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "source=db,target=db,uid=0,gid=0,mode=0444");

	assert_int_equal(secret_ref_parse("mode=7,gid=2,src=db,uid=1,"
	    "target=/run/secrets/x/y", &r, NULL, 0), 0);
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "source=db,target=x/y,uid=1,gid=2,mode=0007");
}

static void
test_format_sizes(void **state)
{
	struct secret_ref r;
	char buf[SECRET_REF_STR_MAX + 8];
	size_t n;

	(void)state;
	/* The longest struct fills SECRET_REF_STR_MAX exactly. */
	memset(&r, 0, sizeof(r));
	memset(r.source, 's', SECRET_NAME_MAX);
	memset(r.target, 't', SECRET_TARGET_MAX);
	r.uid = r.gid = 4294967294U;
	r.mode = 0777;
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), 0);
	n = strlen(buf);
	assert_int_equal(n, SECRET_REF_STR_MAX - 1);
	roundtrip(&r);
	assert_int_equal(secret_ref_format(&r, buf, n + 1), 0);
	assert_int_equal(secret_ref_format(&r, buf, n), HUSH_E_TOOBIG);
	assert_string_equal(buf, "");
	assert_int_equal(secret_ref_format(&r, buf, 1), HUSH_E_TOOBIG);
	assert_int_equal(secret_ref_format(&r, buf, 0), HUSH_E_TOOBIG);
}

static void
test_format_invalid(void **state)
{
	struct secret_ref r, good;
	char buf[SECRET_REF_STR_MAX];

	(void)state;
	assert_int_equal(secret_ref_parse("db", &good, NULL, 0), 0);
	assert_int_equal(secret_ref_format(NULL, buf, sizeof(buf)),
	    HUSH_E_INVAL);
	assert_int_equal(secret_ref_format(&good, NULL, 0), HUSH_E_INVAL);

	/* Only structs secret_ref_parse could have produced. */
	r = good; snprintf(r.source, sizeof(r.source), "-db");
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	assert_string_equal(buf, "");
	r = good; r.source[0] = '\0';
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	r = good; memset(r.source, 'a', sizeof(r.source));
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	r = good; snprintf(r.target, sizeof(r.target), "../x");
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	r = good; snprintf(r.target, sizeof(r.target), "a,uid=5");
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	r = good; memset(r.target, 'a', sizeof(r.target));
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	/* Would read back as "x", not as itself. */
	r = good; snprintf(r.target, sizeof(r.target), "/run/secrets/x");
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	r = good; r.uid = UINT32_MAX;
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	r = good; r.gid = UINT32_MAX;
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	r = good; r.mode = 04755;
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
	r = good; r.mode = 01000;
	assert_int_equal(secret_ref_format(&r, buf, sizeof(buf)), HUSH_E_INVAL);
}

static void
test_syntax_bad(void **state)
{
	(void)state;
	ref_fail("", HUSH_E_FORMAT, "empty");
	ref_fail("db,target=a,target=b", HUSH_E_FORMAT,
	    "target is given more than once");
	ref_fail("db,uid=1,uid=1", HUSH_E_FORMAT,
	    "uid is given more than once");
	ref_fail("db,gid=1,mode=0400,gid=2", HUSH_E_FORMAT,
	    "gid is given more than once");
	ref_fail("db,mode=0400,mode=0400", HUSH_E_FORMAT,
	    "mode is given more than once");
	ref_fail("db,foo=bar", HUSH_E_FORMAT, "unknown key 'foo'");
	ref_fail("db,Target=x", HUSH_E_FORMAT, "unknown key 'Target'");
	ref_fail("db, target=x", HUSH_E_FORMAT, "unknown key ' target'");
	ref_fail("db,target=", HUSH_E_FORMAT, "target has an empty value");
	ref_fail("db,uid=", HUSH_E_FORMAT, "uid has an empty value");
	ref_fail("db,gid=", HUSH_E_FORMAT, "gid has an empty value");
	ref_fail("db,mode=", HUSH_E_FORMAT, "mode has an empty value");
	ref_fail("source=", HUSH_E_FORMAT, "source has an empty value");
	ref_fail("src=,target=x", HUSH_E_FORMAT, "source has an empty value");
	ref_fail("=x", HUSH_E_FORMAT, "field '=x' has no key before '='");
	ref_fail("db,=x", HUSH_E_FORMAT, "no key before '='");
	ref_fail("db,=", HUSH_E_FORMAT, "no key before '='");
	ref_fail("db,", HUSH_E_FORMAT, "empty field");
	ref_fail("db,,target=x", HUSH_E_FORMAT, "empty field");
	ref_fail(",db", HUSH_E_FORMAT, "empty field");
	ref_fail(",", HUSH_E_FORMAT, "empty field");
	ref_fail(",,", HUSH_E_FORMAT, "empty field");
	ref_fail("db,target=x,", HUSH_E_FORMAT, "empty field");
}

static void
test_source_bad(void **state)
{
	char text[SECRET_NAME_MAX + 16];

	(void)state;
	ref_fail("target=x", HUSH_E_FORMAT, "no secret name");
	ref_fail("uid=1,gid=2", HUSH_E_FORMAT, "no secret name");
	ref_fail("db,source=db", HUSH_E_FORMAT,
	    "secret name is given more than once");
	ref_fail("source=a,src=b", HUSH_E_FORMAT, "more than once");
	ref_fail("src=a,src=a", HUSH_E_FORMAT, "more than once");
	ref_fail("target=x,db", HUSH_E_FORMAT,
	    "field 'db' is not KEY=VALUE");
	ref_fail("db,other", HUSH_E_FORMAT, "only the first field");
	ref_fail("db,target=a,b", HUSH_E_FORMAT, "field 'b' is not KEY=VALUE");
	ref_fail("-db", HUSH_E_FORMAT, "secret name '-db' must start");
	ref_fail("db-", HUSH_E_FORMAT, "secret name 'db-' must end");
	ref_fail("db/x", HUSH_E_FORMAT, "secret name contains '/'");
	ref_fail("source=a b", HUSH_E_FORMAT, "secret name contains ' '");
	ref_fail("..", HUSH_E_FORMAT, "secret name");
	ref_fail("d\x1b[2Jb", HUSH_E_FORMAT, "secret name contains '\\x1b'");
	memset(text, 'n', SECRET_NAME_MAX + 1);
	text[SECRET_NAME_MAX + 1] = '\0';
	ref_fail(text, HUSH_E_TOOBIG, "secret name is longer than 64");
}

static void
test_target_bad(void **state)
{
	char t[SECRET_TARGET_MAX + 2], text[SECRET_TARGET_MAX + 32];

	(void)state;
	ref_fail("db,target=../x", HUSH_E_FORMAT, "'..' component");
	ref_fail("db,target=a/../b", HUSH_E_FORMAT, "'..' component");
	ref_fail("db,target=a/..", HUSH_E_FORMAT, "'..' component");
	ref_fail("db,target=./a", HUSH_E_FORMAT, "'.' component");
	ref_fail("db,target=.", HUSH_E_FORMAT, "'.' component");
	ref_fail("db,target=/", HUSH_E_FORMAT, "target '/'");
	ref_fail("db,target=/proc/x", HUSH_E_FORMAT, "under /proc");
	ref_fail("db,target=/proc", HUSH_E_FORMAT, "under /proc");
	ref_fail("db,target=/sys/kernel/x", HUSH_E_FORMAT, "under /sys");
	ref_fail("db,target=/dev/null", HUSH_E_FORMAT, "under /dev");
	ref_fail("db,target=..data", HUSH_E_FORMAT, "starts with '..'");
	ref_fail("db,target=..data_tmp", HUSH_E_FORMAT, "'..data_tmp'");
	ref_fail("db,target=a/...", HUSH_E_FORMAT, "starts with '..'");
	ref_fail("db,target=/run/secrets/..data", HUSH_E_FORMAT,
	    "starts with '..'");
	ref_fail("db,target=a//b", HUSH_E_FORMAT, "empty component");
	ref_fail("db,target=a/", HUSH_E_FORMAT, "empty component");
	ref_fail("db,target=//a", HUSH_E_FORMAT, "empty component");
	ref_fail("db,target=/run/secrets", HUSH_E_FORMAT,
	    "secrets directory itself");
	ref_fail("db,target=/run/secrets/", HUSH_E_FORMAT, "empty component");
	ref_fail("db,target=a b", HUSH_E_FORMAT, "target contains ' '");
	ref_fail("db,target=a=b", HUSH_E_FORMAT, "target contains '='");
	ref_fail("db,target=a\\b", HUSH_E_FORMAT, "target contains '\\x5c'");
	ref_fail("db,target=caf\xc3\xa9", HUSH_E_FORMAT,
	    "target contains '\\xc3'");
	memset(t, 'x', SECRET_TARGET_MAX + 1);
	t[SECRET_TARGET_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "db,target=%s", t);
	ref_fail(text, HUSH_E_TOOBIG, "target is longer than 255 bytes");
}

static void
test_target_check(void **state)
{
	char t[SECRET_TARGET_MAX + 64];

	(void)state;
	target_fail("", HUSH_E_FORMAT, "target is empty");
	target_fail("../x", HUSH_E_FORMAT,
	    "target '../x' has a '..' component");
	target_fail("a/../b", HUSH_E_FORMAT, "'..' component");
	target_fail("/", HUSH_E_FORMAT, "not a file");
	target_fail("/proc/x", HUSH_E_FORMAT, "target must not be under /proc");
	target_fail("/proc", HUSH_E_FORMAT, "under /proc");
	target_fail("/sys", HUSH_E_FORMAT, "under /sys");
	target_fail("/dev/shm/x", HUSH_E_FORMAT, "under /dev");
	target_fail("..data", HUSH_E_FORMAT, "target component '..data' starts "
	    "with '..'");
	target_fail("a//b", HUSH_E_FORMAT, "empty component");
	target_fail("a/", HUSH_E_FORMAT, "empty component");
	target_fail("/a/", HUSH_E_FORMAT, "empty component");
	target_fail("a/./b", HUSH_E_FORMAT, "'.' component");
	target_fail("a\nb", HUSH_E_FORMAT, "'\\x0a'");
	target_fail("a'b", HUSH_E_FORMAT, "'\\x27'");
	memset(t, 'x', sizeof(t) - 1);
	t[sizeof(t) - 1] = '\0';
	target_fail(t, HUSH_E_TOOBIG, "longer than 255");
	t[SECRET_TARGET_MAX + 1] = '\0';
	target_fail(t, HUSH_E_TOOBIG, "longer than 255");
	/* A long bad target is quoted short. */
	memset(t, 'x', SECRET_TARGET_MAX);
	t[SECRET_TARGET_MAX] = '\0';
	t[100] = '/';
	t[101] = '/';
	target_fail(t, HUSH_E_FORMAT, "...' has an empty component");
	assert_int_equal(secret_target_check(NULL, NULL, 0), HUSH_E_INVAL);
}

static void
test_ids_bad(void **state)
{
	static const char *bad[] = {
		"-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "one",
		"\xef\xbc\x91", "1\t", "--1",
	};
	char text[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "db,uid=%s", bad[i]);
		ref_fail(text, HUSH_E_FORMAT, "uid must be a decimal number");
		snprintf(text, sizeof(text), "db,gid=%s", bad[i]);
		ref_fail(text, HUSH_E_FORMAT, "gid must be a decimal number");
	}
	ref_fail("db,uid=4294967295", HUSH_E_RANGE, "uid is out of range");
	ref_fail("db,gid=4294967295", HUSH_E_RANGE, "gid is out of range");
	ref_fail("db,uid=4294967296", HUSH_E_RANGE, "uid is out of range");
	ref_fail("db,uid=18446744073709551616", HUSH_E_RANGE, "uid");
	ref_fail("db,gid=99999999999999999999999999999999", HUSH_E_RANGE,
	    "gid is out of range");
	/* A later non-digit is a syntax error, whatever the digits before. */
	ref_fail("db,uid=99999999999x", HUSH_E_FORMAT, "uid must be");
}

static void
test_mode_bad(void **state)
{
	struct secret_ref r;
	char why[256];

	(void)state;
	assert_int_equal(secret_ref_parse("db,mode=999", &r, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "--secret 'db,mode=999': mode must be octal "
	    "permission bits (0 to 0777)");

	ref_fail("db,mode=8", HUSH_E_FORMAT, "mode must be octal");
	ref_fail("db,mode=0o400", HUSH_E_FORMAT, "mode must be octal");
	ref_fail("db,mode=0x1ff", HUSH_E_FORMAT, "mode must be octal");
	ref_fail("db,mode=-400", HUSH_E_FORMAT, "mode must be octal");
	ref_fail("db,mode=+400", HUSH_E_FORMAT, "mode must be octal");
	ref_fail("db,mode= 400", HUSH_E_FORMAT, "mode must be octal");
	ref_fail("db,mode=r--r--r--", HUSH_E_FORMAT, "mode must be octal");
	ref_fail("db,mode=00400", HUSH_E_FORMAT, "mode must be at most 4");
	ref_fail("db,mode=12345670", HUSH_E_FORMAT, "mode must be at most 4");
	ref_fail("db,mode=04755", HUSH_E_FORMAT, "mode must be at most 4");
	ref_fail("db,mode=4755", HUSH_E_RANGE, "mode 4755 sets setuid");
	ref_fail("db,mode=4755", HUSH_E_RANGE, "mode 4755");
	ref_fail("db,mode=2440", HUSH_E_RANGE, "setgid");
	ref_fail("db,mode=1777", HUSH_E_RANGE, "sticky");
	ref_fail("db,mode=7777", HUSH_E_RANGE, "0 to 0777");
	ref_fail("db,mode=1000", HUSH_E_RANGE, "mode 1000");
}

static void
test_messages_short(void **state)
{
	char big[8192], why[512];
	struct secret_ref r;

	(void)state;
	/* Over the limit: refused before parsing, quoted short. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ref_fail(big, HUSH_E_TOOBIG, "longer than 1024 bytes");
	assert_int_equal(secret_ref_parse(big, &r, why, sizeof(why)),
	    HUSH_E_TOOBIG);
	assert_non_null(strstr(why, "...'"));

	/* Under the limit but long, with escapes: still short. */
	memcpy(big, "db,target=", 10);
	memset(big + 10, '\x1b', 200);
	big[210] = '\0';
	ref_fail(big, HUSH_E_FORMAT, "target contains '\\x1b'");
	memcpy(big, "db,target=", 10);
	memset(big + 10, 'y', 300);
	big[310] = '\0';
	ref_fail(big, HUSH_E_TOOBIG, "target is longer");
	memcpy(big, "db,", 3);
	memset(big + 3, 'k', 900);
	memcpy(big + 903, "=v", 3);
	ref_fail(big, HUSH_E_FORMAT, "unknown key 'kkkk");

	/* A small why buffer gets a terminated prefix. */
	assert_int_equal(secret_ref_parse("db,uid=-1", &r, why, 12),
	    HUSH_E_FORMAT);
	assert_string_equal(why, "--secret 'd");
}

static void
test_args(void **state)
{
	struct secret_ref r;
	char why[64];

	(void)state;
	assert_int_equal(secret_ref_parse(NULL, &r, why, sizeof(why)),
	    HUSH_E_INVAL);
	assert_int_equal(secret_ref_parse("db", NULL, why, sizeof(why)),
	    HUSH_E_INVAL);
	assert_int_equal(secret_ref_parse("db", &r, NULL, 0), 0);
	assert_int_equal(secret_ref_parse("db", &r, why, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_targets_ok),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_sizes),
		cmocka_unit_test(test_format_invalid),
		cmocka_unit_test(test_syntax_bad),
		cmocka_unit_test(test_source_bad),
		cmocka_unit_test(test_target_bad),
		cmocka_unit_test(test_target_check),
		cmocka_unit_test(test_ids_bad),
		cmocka_unit_test(test_mode_bad),
		cmocka_unit_test(test_messages_short),
		cmocka_unit_test(test_args),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
