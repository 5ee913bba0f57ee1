/*
 * The audit record formatter (kmod-free/audit.c) on odd input: whatever
 * goes in, a record is one line of key=value fields within the kernel's
 * limit, untrusted bytes come out encoded as the audit userspace expects,
 * and the outcome field is always there.  The netlink half is exercised
 * against the real kernel by tests/integration/t_audit.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include "audit.h"
#include "err.h"

/* Every field is key=value with a value that is bare, "quoted" or hex. */
static void
assert_well_formed(const char *text)
{
	char *copy = strdup(text), *save = NULL, *f;

	assert_non_null(copy);
	assert_true(strlen(text) < HUSH_AUDIT_TEXT_MAX);
	for (const char *c = text; *c != '\0'; c++)
		assert_true(*c >= 0x20 && *c < 0x7f);
	for (f = strtok_r(copy, " ", &save); f != NULL; f = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(f, '=');

		assert_non_null(eq);
		assert_true(eq > f);
		assert_true(eq[1] != '\0');
		if (eq[1] == '"')
			assert_true(strlen(eq + 1) >= 2 && eq[strlen(eq) - 1] == '"');
	}
	free(copy);
}

static void
test_plain_record(void **state)
{
	struct audit_rec r;

	audit_rec_init(&r, "secret-create");
	audit_rec_token(&r, "node", "d1x5cg2xbhzq71iokccd71ekj");
	audit_rec_token(&r, "secret", "b3p5deg8b5oewd5c55cexapwe");
	assert_string_equal(audit_rec_finish(&r, true), "op=secret-create "
	    "node=d1x5cg2xbhzq71iokccd71ekj secret=b3p5deg8b5oewd5c55cexapwe res=success");
	/* finishing twice changes nothing */
	assert_string_equal(audit_rec_finish(&r, false), "op=secret-create "
	    "node=d1x5cg2xbhzq71iokccd71ekj secret=b3p5deg8b5oewd5c55cexapwe res=success");
}

static void
test_strings_quoted_or_hex(void **state)
{
	struct audit_rec r;

	audit_rec_init(&r, "container-deliver");
	audit_rec_str(&r, "container", "c1", 2);
	audit_rec_str(&r, "service", "web app", 7);		/* space */
	audit_rec_str(&r, "a", "x\"y", 3);			/* double quote */
	audit_rec_str(&r, "b", "it's", 4);			/* single quote: msg='...' */
	audit_rec_str(&r, "c", "l1\nl2", 5);			/* newline */
	audit_rec_str(&r, "d", "\x01\x7f\xff", 3);		/* control, DEL, non-ASCII */
	audit_rec_u64(&r, "files", 3);
	assert_string_equal(audit_rec_finish(&r, false), "op=container-deliver "
	    "container=\"c1\" service=77656220617070 a=782279 b=69742773 "
	    "c=6C310A6C32 d=017FFF files=3 res=failed");
	assert_well_formed(r.text);
}

static void
test_empty_and_missing(void **state)
{
	struct audit_rec r;

	audit_rec_init(&r, "unlock");
	audit_rec_token(&r, "node", "");
	audit_rec_token(&r, "secret", NULL);
	audit_rec_str(&r, "container", NULL, 5);
	audit_rec_str(&r, "service", "", 0);
	assert_string_equal(audit_rec_finish(&r, true),
	    "op=unlock node=? secret=? container=? service=? res=success");
}

static void
test_token_falls_back_to_encoding(void **state)
{
	struct audit_rec r;

	audit_rec_init(&r, "x");
	audit_rec_token(&r, "a", "ok-1.2_3:4");
	audit_rec_token(&r, "b", "no/slash");
	audit_rec_token(&r, "c", "sp ace");
	assert_string_equal(audit_rec_finish(&r, true),
	    "op=x a=ok-1.2_3:4 b=\"no/slash\" c=737020616365 res=success");
}

static void
test_bad_key_and_op(void **state)
{
	struct audit_rec r;

	audit_rec_init(&r, "bad op");
	audit_rec_token(&r, "Node", "x");		/* keys are [a-z_] */
	audit_rec_token(&r, "", "x");
	audit_rec_token(&r, "a=b", "x");
	audit_rec_token(&r, "ok_key", "x");
	assert_string_equal(audit_rec_finish(&r, true),
	    "op=? ok_key=x truncated=yes res=success");
}

static void
test_long_value_is_cut_to_hex(void **state)
{
	struct audit_rec r;
	char *v = malloc(5000);

	assert_non_null(v);
	memset(v, 'a', 5000);
	audit_rec_init(&r, "container-deliver");
	audit_rec_str(&r, "container", v, 5000);
	audit_rec_str(&r, "service", "web", 3);
	audit_rec_finish(&r, true);
	assert_well_formed(r.text);
	/* cut at the limit, hex so it cannot pass for the whole value */
	assert_int_equal(strstr(r.text, " service=") - strstr(r.text, "container="),
	    strlen("container=") + 2 * HUSH_AUDIT_VALUE_MAX);
	assert_non_null(strstr(r.text, "container=6161"));
	assert_non_null(strstr(r.text, " service=\"web\" truncated=yes res=success"));
	free(v);
}

/* Far more than fits: every field whole or key=?, the end always there. */
static void
test_overflow_keeps_the_outcome(void **state)
{
	struct audit_rec r;
	char v[HUSH_AUDIT_VALUE_MAX];
	size_t len;

	memset(v, 'z', sizeof(v));
	audit_rec_init(&r, "container-update");
	for (int i = 0; i < 20; i++)
		audit_rec_str(&r, "container", v, sizeof(v));
	for (int i = 0; i < 2000; i++)
		audit_rec_u64(&r, "files", UINT64_MAX);
	audit_rec_finish(&r, false);
	assert_well_formed(r.text);
	len = strlen(r.text);
	assert_int_equal(len, r.len);
	assert_true(len <= HUSH_AUDIT_TEXT_MAX - 1);
	assert_string_equal(r.text + len - strlen(" truncated=yes res=failed"),
	    " truncated=yes res=failed");
}

/* Each size of value around the limits gives a well-formed record. */
static void
test_every_length_near_the_limit(void **state)
{
	struct audit_rec r;
	char *v = malloc(HUSH_AUDIT_TEXT_MAX);

	assert_non_null(v);
	memset(v, ' ', HUSH_AUDIT_TEXT_MAX);
	for (size_t n = HUSH_AUDIT_VALUE_MAX - 4; n < HUSH_AUDIT_VALUE_MAX + 4; n++) {
		for (size_t pad = 0; pad < 600; pad += 7) {
			audit_rec_init(&r, "x");
			audit_rec_str(&r, "p", v, pad);
			audit_rec_str(&r, "q", v, n);
			audit_rec_str(&r, "s", v, n);
			audit_rec_finish(&r, true);
			assert_well_formed(r.text);
			assert_string_equal(r.text + r.len - strlen(" res=success"),
			    " res=success");
		}
	}
	free(v);
}

static void
test_describe(void **state)
{
	struct audit a;
	char buf[256];

	memset(&a, 0, sizeof(a));
	a.sink = AUDIT_SINK_KERNEL;
	audit_describe(&a, buf, sizeof(buf));
	assert_string_equal(buf, "kernel audit");
	a.sink = AUDIT_SINK_LOG;
	snprintf(a.why, sizeof(a.why), "auditing is disabled");
	audit_describe(&a, buf, sizeof(buf));
	assert_string_equal(buf, "log (kernel audit unavailable: auditing is disabled)");
	/* no socket: nothing is sent, the caller logs */
	assert_int_equal(audit_send(&a, "op=x res=success"), HUSH_E_UNAVAIL);
}

/* One netlink message of type/seq carrying payload, appended at buf+*off. */
static void
put_msg(uint8_t *buf, size_t *off, uint16_t type, uint32_t seq, const void *payload,
    size_t len)
{
	struct nlmsghdr h = { .nlmsg_len = (uint32_t)(sizeof(h) + len), .nlmsg_type = type,
	    .nlmsg_seq = seq };

	memcpy(buf + *off, &h, sizeof(h));
	memcpy(buf + *off + sizeof(h), payload, len);
	*off += NLMSG_ALIGN(sizeof(h) + len);
}

static void
test_parse_reply(void **state)
{
	uint8_t buf[512] __attribute__((aligned(8)));
	struct audit_status st;
	struct audit_reply rep;
	int32_t err;
	size_t n;

	/* AUDIT_GET's answer and the ack, a stale answer to request 6 first */
	memset(&st, 0, sizeof(st));
	st.enabled = 1;
	n = 0;
	err = -EPERM;
	put_msg(buf, &n, NLMSG_ERROR, 6, &err, sizeof(err));
	put_msg(buf, &n, AUDIT_GET, 7, &st, sizeof(st));
	err = 0;
	put_msg(buf, &n, NLMSG_ERROR, 7, &err, sizeof(err));
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(audit_parse_reply(buf, n, 7, &rep), 0);
	assert_true(rep.acked && rep.got_status);
	assert_int_equal(rep.err, 0);
	assert_int_equal(rep.enabled, 1);

	/* a refusal */
	n = 0;
	err = -ECONNREFUSED;
	put_msg(buf, &n, NLMSG_ERROR, 9, &err, sizeof(err));
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(audit_parse_reply(buf, n, 9, &rep), 0);
	assert_true(rep.acked && !rep.got_status);
	assert_int_equal(rep.err, -ECONNREFUSED);

	/* an older kernel's shorter status: what is there is read */
	n = 0;
	put_msg(buf, &n, AUDIT_GET, 3, &st, offsetof(struct audit_status, enabled) + 4);
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(audit_parse_reply(buf, n, 3, &rep), 0);
	assert_int_equal(rep.enabled, 1);

	/* malformed: refused whole, nothing reported */
	n = 0;
	put_msg(buf, &n, AUDIT_GET, 3, &st, 4);			/* too short for enabled */
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(audit_parse_reply(buf, n, 3, &rep), HUSH_E_FORMAT);
	n = 0;
	err = 5;						/* not a negated errno */
	put_msg(buf, &n, NLMSG_ERROR, 3, &err, sizeof(err));
	assert_int_equal(audit_parse_reply(buf, n, 3, &rep), HUSH_E_FORMAT);
	n = 0;
	err = 0;
	put_msg(buf, &n, NLMSG_ERROR, 3, &err, sizeof(err));
	assert_int_equal(audit_parse_reply(buf, n - 1, 3, &rep), HUSH_E_FORMAT);	/* cut */
	((struct nlmsghdr *)buf)->nlmsg_len = 0x80000000u;			/* huge */
	assert_int_equal(audit_parse_reply(buf, n, 3, &rep), HUSH_E_FORMAT);
	assert_false(rep.acked);
	assert_int_equal(audit_parse_reply(buf, 0, 3, &rep), 0);		/* empty */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_record),
		cmocka_unit_test(test_strings_quoted_or_hex),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_token_falls_back_to_encoding),
		cmocka_unit_test(test_bad_key_and_op),
		cmocka_unit_test(test_long_value_is_cut_to_hex),
		cmocka_unit_test(test_overflow_keeps_the_outcome),
		cmocka_unit_test(test_every_length_near_the_limit),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_parse_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
