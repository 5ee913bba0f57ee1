/*
 * A child's policy for what its parent sends (daemon/privsep/from_parent.c),
 * on its own: malformed messages of every kind go in, and the test checks
 * what the helper makes of each (refused, answered or not, a bad answer
 * to the child's own call) and exactly what answer it would send.
 * tests/unit/test_daemon_children_malformed.c drives the real children.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "from_parent.h"
#include "msg.h"
#include "wire.h"

#define MAX_MSG		4096

static const uint16_t allowed[] = {
	PKI_CA_CREATE, RAFTP_INBOUND, RAFTP_CONNECT | MSG_REPLY, MSG_ERROR, 0
};
static const uint16_t with_fd[] = { RAFTP_INBOUND, 0 };

/* What the helper sent, decoded; the count tells whether it sent at all. */
static unsigned nsent;
static uint8_t sent_buf[8192];
static size_t sent_len;
static struct wire_msg sent;

static void
capture(struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;
	static const uint16_t only_error[] = { MSG_ERROR, 0 };
	char why[256];

	assert_int_equal(wire_enc_finish(e, &buf, &len), 0);
	assert_true(len <= sizeof(sent_buf));
	memcpy(sent_buf, buf, len);
	sent_len = len;
	wire_enc_free(e);
	nsent++;
	assert_int_equal(msg_parse(sent_buf, sent_len, WIRE_MAX_MSG, only_error, &sent,
	    why, sizeof(why)), 0);
}

static const struct parent_link plink = {
	.child = "test",
	.max_msg = MAX_MSG,
	.allowed = allowed,
	.with_fd = with_fd,
	.send = capture,
};

static struct wire_msg m;
static uint8_t buf[MAX_MSG * 2];

static int
setup(void **state)
{
	nsent = 0;
	memset(&m, 0, sizeof(m));
	return 0;
}

/* A header for a body of body_len bytes. */
static void
put_hdr(uint16_t version, uint16_t type, uint32_t id, uint32_t body_len)
{
	buf[0] = version >> 8; buf[1] = version & 0xff;
	buf[2] = type >> 8; buf[3] = type & 0xff;
	buf[4] = id >> 24; buf[5] = id >> 16 & 0xff; buf[6] = id >> 8 & 0xff;
	buf[7] = id & 0xff;
	buf[8] = body_len >> 24; buf[9] = body_len >> 16 & 0xff;
	buf[10] = body_len >> 8 & 0xff; buf[11] = body_len & 0xff;
}

static enum parent_msg
take(size_t len, int fd, char *why, size_t whylen)
{
	struct chan_msg cm = { .buf = buf, .len = len, .fd = fd };

	return parent_msg_take(&plink, &cm, &m, why, whylen);
}

/* The one answer sent: MSG_ERROR to id, HUSH_E_PROTO, its detail holding want. */
static void
assert_refused(uint32_t id, const char *want)
{
	char detail[MSG_ERRMSG_MAX + 1];

	assert_int_equal(nsent, 1);
	assert_int_equal(sent.hdr.request_id, id);
	assert_int_equal(msg_reply_status(&sent, detail, sizeof(detail)), HUSH_E_PROTO);
	if (strstr(detail, want) == NULL || strstr(detail, "the test process refused") == NULL)
		fail_msg("detail '%s' does not say '%s'", detail, want);
}

/* A valid request, so the cases below differ from it in one thing only. */
static size_t
good_request(uint16_t type, uint32_t id)
{
	struct wire_enc e;
	const uint8_t *out;
	size_t len;

	wire_enc_init(&e, type, id, MAX_MSG);
	if (type == PKI_CA_CREATE) {
		wire_put_i64(&e, T_NOW, 1700000000);
		wire_put_u64(&e, T_LIFETIME, 3600);
	} else if (type == RAFTP_INBOUND) {
		wire_put_str(&e, T_PEER_ID, "0123456789abcdefghijklmno");
		wire_put_str(&e, T_ADDRESS, "10.0.0.1:4477");
	}
	assert_int_equal(wire_enc_finish(&e, &out, &len), 0);
	memcpy(buf, out, len);
	wire_enc_free(&e);
	return len;
}

static void
test_valid(void **state)
{
	char why[256];

	assert_int_equal(take(good_request(PKI_CA_CREATE, 5), -1, why, sizeof(why)),
	    PARENT_MSG_OK);
	assert_int_equal(m.hdr.type, PKI_CA_CREATE);
	assert_int_equal(m.nfields, 2);
	assert_int_equal(nsent, 0);
}

static void
test_short_header(void **state)
{
	char why[256];

	good_request(PKI_CA_CREATE, 5);
	for (size_t len = 0; len < WIRE_HDR_LEN; len++) {
		nsent = 0;
		assert_int_equal(take(len, -1, why, sizeof(why)), PARENT_MSG_REFUSED);
		/* No request id to answer: dropped. */
		assert_int_equal(nsent, 0);
		assert_non_null(strstr(why, "unreadable header"));
		assert_int_equal(m.nfields, 0);
	}
}

static void
test_wrong_version(void **state)
{
	char why[256];

	put_hdr(WIRE_VERSION + 1, PKI_CA_CREATE, 5, 0);
	assert_int_equal(take(WIRE_HDR_LEN, -1, why, sizeof(why)), PARENT_MSG_REFUSED);
	assert_int_equal(nsent, 0);
	assert_non_null(strstr(why, "unreadable header"));
}

static void
test_unknown_type(void **state)
{
	char why[256];

	/* Known to hush but not on this channel, then unknown to hush. */
	put_hdr(WIRE_VERSION, PKI_ISSUE, 6, 0);
	assert_int_equal(take(WIRE_HDR_LEN, -1, why, sizeof(why)), PARENT_MSG_REFUSED);
	assert_refused(6, "not allowed here");
	nsent = 0;
	put_hdr(WIRE_VERSION, 0x0777, 7, 0);
	assert_int_equal(take(WIRE_HDR_LEN, -1, why, sizeof(why)), PARENT_MSG_REFUSED);
	assert_refused(7, "message type 0x0777");
	assert_int_equal(m.hdr.request_id, 7);
	assert_int_equal(m.nfields, 0);
}

static void
test_bad_tlv(void **state)
{
	char why[256];
	size_t len = good_request(PKI_CA_CREATE, 8);

	/* The first field claims more bytes than the message holds. */
	buf[WIRE_HDR_LEN + 2] = 0x7f;
	assert_int_equal(take(len, -1, why, sizeof(why)), PARENT_MSG_REFUSED);
	assert_refused(8, "undecodable message");
	assert_int_equal(m.nfields, 0);

	/* The header's length and the bytes that came disagree. */
	nsent = 0;
	len = good_request(PKI_CA_CREATE, 9);
	assert_int_equal(take(len - 1, -1, why, sizeof(why)), PARENT_MSG_REFUSED);
	assert_refused(9, "undecodable message");

	/* A field the schema requires is missing. */
	nsent = 0;
	put_hdr(WIRE_VERSION, PKI_CA_CREATE, 10, 0);
	assert_int_equal(take(WIRE_HDR_LEN, -1, why, sizeof(why)), PARENT_MSG_REFUSED);
	assert_refused(10, "field 'NOW': required but missing");
}

static void
test_oversized(void **state)
{
	char why[256];
	size_t len = MAX_MSG + 1;

	/* Well formed, one field over the channel's limit. */
	put_hdr(WIRE_VERSION, PKI_CA_CREATE, 11, (uint32_t)(len - WIRE_HDR_LEN));
	memset(buf + WIRE_HDR_LEN, 0, len - WIRE_HDR_LEN);
	assert_int_equal(take(len, -1, why, sizeof(why)), PARENT_MSG_REFUSED);
	assert_refused(11, "too large");
}

static void
test_descriptor(void **state)
{
	char why[256];
	int fd;

	assert_true((fd = open("/dev/null", O_RDONLY)) >= 0);
	assert_int_equal(take(good_request(PKI_CA_CREATE, 12), fd, why, sizeof(why)),
	    PARENT_MSG_REFUSED);
	assert_refused(12, "a descriptor came with PKI_CA_CREATE");
	/* A type that may bring one. */
	nsent = 0;
	assert_int_equal(take(good_request(RAFTP_INBOUND, 0), fd, why, sizeof(why)),
	    PARENT_MSG_OK);
	assert_int_equal(nsent, 0);
	close(fd);
}

static void
test_notice_unanswered(void **state)
{
	char why[256];
	size_t len = good_request(RAFTP_INBOUND, 0);

	/* Request id 0: the parent waits for nothing, so nothing is sent. */
	buf[WIRE_HDR_LEN + 2] = 0x7f;
	assert_int_equal(take(len, -1, why, sizeof(why)), PARENT_MSG_REFUSED);
	assert_int_equal(nsent, 0);
	assert_non_null(strstr(why, "undecodable"));
}

static void
test_bad_answer(void **state)
{
	char why[256];

	/* An error answer without its code, and a reply with a stray fd. */
	put_hdr(WIRE_VERSION, MSG_ERROR, 0x80000001u, 0);
	assert_int_equal(take(WIRE_HDR_LEN, -1, why, sizeof(why)), PARENT_MSG_BAD_ANSWER);
	assert_int_equal(m.hdr.request_id, 0x80000001u);
	assert_int_equal(m.hdr.type, MSG_ERROR);
	assert_int_equal(m.nfields, 0);
	assert_non_null(strstr(why, "field 'ERRCODE': required"));
	/* Never answered: that would be a reply to a request the parent never made. */
	assert_int_equal(nsent, 0);

	put_hdr(WIRE_VERSION, PKI_ISSUE | MSG_REPLY, 0x80000002u, 0);
	assert_int_equal(take(WIRE_HDR_LEN, -1, why, sizeof(why)), PARENT_MSG_BAD_ANSWER);
	assert_int_equal(m.hdr.request_id, 0x80000002u);
	assert_non_null(strstr(why, "not allowed here"));
	assert_int_equal(nsent, 0);
}

static void
test_refuse_after_parse(void **state)
{
	struct wire_hdr h = { .version = WIRE_VERSION, .type = PKI_CA_CREATE,
	    .request_id = 13 };

	parent_msg_refuse(&plink, &h, "no command");
	assert_refused(13, "refused a malformed PKI_CA_CREATE: no command");
	nsent = 0;
	h.request_id = 0;
	parent_msg_refuse(&plink, &h, "no command");
	assert_int_equal(nsent, 0);
}

static void
test_channel_refused(void **state)
{
	struct chan ch = { .fd = -1, .refused_len = MAX_MSG + 100 };

	/* What chan_recv() refused is logged and dropped: nothing to answer. */
	parent_msg_lost(&plink, &ch, HUSH_E_TOOBIG);
	parent_msg_lost(&plink, &ch, HUSH_E_TRUNCATED);
	parent_msg_lost(&plink, &ch, HUSH_E_PROTO);
	assert_int_equal(nsent, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_valid, setup),
		cmocka_unit_test_setup(test_short_header, setup),
		cmocka_unit_test_setup(test_wrong_version, setup),
		cmocka_unit_test_setup(test_unknown_type, setup),
		cmocka_unit_test_setup(test_bad_tlv, setup),
		cmocka_unit_test_setup(test_oversized, setup),
		cmocka_unit_test_setup(test_descriptor, setup),
		cmocka_unit_test_setup(test_notice_unanswered, setup),
		cmocka_unit_test_setup(test_bad_answer, setup),
		cmocka_unit_test_setup(test_refuse_after_parse, setup),
		cmocka_unit_test_setup(test_channel_refused, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
