#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "duration.h"
#include "err.h"

static void
expect_ok(const char *s, uint64_t want)
{
	uint64_t got = 12345;
	char why[128];

	assert_int_equal(duration_parse(s, &got, why, sizeof(why)), 0);
	assert_true(got == want);
	assert_string_equal(why, "");
}

static void
expect_fail(const char *s, int r, const char *msg)
{
	uint64_t got = 12345;
	char why[256];

	snprintf(why, sizeof(why), "unset");
	assert_int_equal(duration_parse(s, &got, why, sizeof(why)), r);
	assert_true(got == 0);
	if (msg != NULL)
		assert_string_equal(why, msg);
	assert_true(strlen(why) > 0);
	assert_null(strchr(why, '\n'));
	assert_int_equal(duration_parse(s, &got, NULL, 0), r);
}

static void
expect_fmt(uint64_t secs, const char *want)
{
	char out[DURATION_STR_MAX];
	uint64_t back;

	assert_int_equal(duration_format(secs, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(duration_parse(out, &back, NULL, 0), 0);
	assert_true(back == secs);
}

static void
test_parse_ok(void **state)
{
	(void)state;
	expect_ok("2160h", 2160 * 3600);
	expect_ok("90d", 90 * 86400);
	expect_ok("1h30m", 5400);
	expect_ok("45m", 2700);
	expect_ok("3600s", 3600);
	expect_ok("1d12h", 129600);
	expect_ok("1d1h1m1s", 90061);
	expect_ok("1d1s", 86401);
	expect_ok("0s", 0);
	expect_ok("0d0h0m0s", 0);
	expect_ok("007m", 420);
	expect_ok("90m", 5400);	/* minutes beyond an hour are fine */
	expect_ok("18446744073709551615s", UINT64_MAX);
	expect_ok("213503982334601d7h0m14s", UINT64_MAX - 1);
	expect_ok("213503982334601d7h0m15s", UINT64_MAX);
}

static void
test_parse_bare_number(void **state)
{
	(void)state;
	expect_fail("3600", HUSH_E_FORMAT,
	    "duration '3600' needs a unit: s, m, h or d");
	expect_fail("0", HUSH_E_FORMAT,
	    "duration '0' needs a unit: s, m, h or d");
	expect_fail("1h30", HUSH_E_FORMAT,
	    "duration '1h30' needs a unit: s, m, h or d");
}

static void
test_parse_malformed(void **state)
{
	(void)state;
	expect_fail("", HUSH_E_FORMAT, "duration is empty");
	expect_fail("-5m", HUSH_E_FORMAT,
	    "duration '-5m' must not be negative");
	expect_fail("+5m", HUSH_E_FORMAT, NULL);
	expect_fail("h", HUSH_E_FORMAT, NULL);
	expect_fail(" 5m", HUSH_E_FORMAT, NULL);
	expect_fail("5m ", HUSH_E_FORMAT,
	    "duration '5m ' has trailing characters after the last unit");
	expect_fail("5 m", HUSH_E_FORMAT, NULL);
	expect_fail("1.5h", HUSH_E_FORMAT, NULL);
	expect_fail("1,5h", HUSH_E_FORMAT, NULL);
	expect_fail("5x", HUSH_E_FORMAT,
	    "duration '5x' has an unknown unit (use s, m, h or d)");
	expect_fail("5ms", HUSH_E_FORMAT, NULL);
	expect_fail("5us", HUSH_E_FORMAT, NULL);
	expect_fail("5H", HUSH_E_FORMAT, NULL);
	expect_fail("5w", HUSH_E_FORMAT, NULL);
	expect_fail("5y", HUSH_E_FORMAT, NULL);
	expect_fail("5min", HUSH_E_FORMAT, NULL);
	expect_fail("1h-5m", HUSH_E_FORMAT, NULL);
	expect_fail("5m\n", HUSH_E_FORMAT, NULL);
	expect_fail("0x10s", HUSH_E_FORMAT, NULL);
	expect_fail("1e3s", HUSH_E_FORMAT, NULL);
	expect_fail("5\xc2\xb5s", HUSH_E_FORMAT, NULL);
}

static void
test_parse_order(void **state)
{
	(void)state;
	expect_fail("30m1h", HUSH_E_FORMAT, "duration '30m1h' must give each "
	    "unit at most once, largest first (d, h, m, s)");
	expect_fail("1h1h", HUSH_E_FORMAT, NULL);
	expect_fail("1s1d", HUSH_E_FORMAT, NULL);
	expect_fail("1d1d", HUSH_E_FORMAT, NULL);
}

static void
test_parse_overflow(void **state)
{
	(void)state;
	expect_fail("18446744073709551616s", HUSH_E_RANGE,
	    "duration '18446744073709551616s' is too large");
	expect_fail("99999999999999999999999999999999999999s", HUSH_E_RANGE,
	    NULL);
	expect_fail("213503982334602d", HUSH_E_RANGE, NULL);
	expect_fail("213503982334601d7h0m16s", HUSH_E_RANGE, NULL);
	expect_fail("5124095576030432h", HUSH_E_RANGE, NULL);
	expect_fail("213503982334601d23h59m59s", HUSH_E_RANGE, NULL);
	expect_fail("18446744073709551615s1s", HUSH_E_FORMAT, NULL);
}

static void
test_parse_message_is_safe(void **state)
{
	char why[512];
	uint64_t v;
	char longs[200];
	size_t i;

	(void)state;
	/* Control bytes from the input come back as \xNN, never raw. */
	assert_int_equal(duration_parse("5\x1b[2Jm", &v, why, sizeof(why)),
	    HUSH_E_FORMAT);
	assert_null(strchr(why, '\x1b'));
	assert_non_null(strstr(why, "\\x1b"));
	/* Long input is cut short in the message. */
	memset(longs, '1', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	assert_int_equal(duration_parse(longs, &v, why, sizeof(why)),
	    HUSH_E_RANGE);
	assert_true(strlen(why) < 100);
	assert_non_null(strstr(why, "..."));
	for (i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= 0x20 && why[i] < 0x7f);
}

static void
test_parse_args(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(duration_parse(NULL, &v, NULL, 0), HUSH_E_INVAL);
	assert_int_equal(duration_parse("1s", NULL, NULL, 0), HUSH_E_INVAL);
}

static void
test_format(void **state)
{
	char out[DURATION_STR_MAX];

	(void)state;
	expect_fmt(0, "0s");
	expect_fmt(1, "1s");
	expect_fmt(59, "59s");
	expect_fmt(60, "1m");
	expect_fmt(3600, "1h");
	expect_fmt(5400, "1h30m");
	expect_fmt(86400, "1d");
	expect_fmt(90 * 86400, "90d");
	expect_fmt(129600, "1d12h");
	expect_fmt(90061, "1d1h1m1s");
	expect_fmt(86401, "1d1s");
	expect_fmt(UINT64_MAX, "213503982334601d7h15s");

	assert_int_equal(duration_format(5400, out, 5), HUSH_E_TOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(duration_format(5400, out, 6), 0);
	assert_string_equal(out, "1h30m");
	assert_int_equal(duration_format(0, out, 2), HUSH_E_TOOBIG);
	assert_int_equal(duration_format(0, out, 0), HUSH_E_TOOBIG);
	assert_int_equal(duration_format(0, NULL, 10), HUSH_E_INVAL);
}

static void
test_format_roundtrip_random(void **state)
{
	char out[DURATION_STR_MAX];
	uint64_t v, back;
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		randombytes_buf(&v, sizeof(v));
		v >>= (unsigned int)(i % 64);
		assert_int_equal(duration_format(v, out, sizeof(out)), 0);
		assert_int_equal(duration_parse(out, &back, NULL, 0), 0);
		assert_true(v == back);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bare_number),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_order),
		cmocka_unit_test(test_parse_overflow),
		cmocka_unit_test(test_parse_message_is_safe),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_roundtrip_random),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
