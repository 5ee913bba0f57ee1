/*
 * Unit tests for lib/msg.c: the schema table itself, msg_parse with its
 * allowed-type list, the bounds that matter most (names, secret values,
 * request ids), nested records and the error reply helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "msg.h"
#include "wire.h"

#define NTYPES		0x10000

static struct wire_msg msg, rec, items;
static const uint16_t all_ctl[] = { CTL_SECRET_CREATE, CTL_STATUS, MSG_ERROR, 0 };
static uint8_t req_id[HUSH_REQ_ID_LEN + 1];	/* one spare for the over-long case */

static int
setup(void **state)
{
	randombytes_buf(req_id, sizeof(req_id));
	return 0;
}

static void
test_table_unique(void **state)
{
	const struct wire_msg_spec *s, *lo = NULL, *hi = NULL;
	size_t n = 0, i, j;
	unsigned int t;
	bool seen_name;

	for (t = 0; t < NTYPES; t++) {
		if ((s = msg_spec((uint16_t)t)) == NULL) {
			assert_string_equal(msg_type_name((uint16_t)t), "unknown");
			continue;
		}
		n++;
		assert_int_equal(s->type, t);
		assert_non_null(s->name);
		assert_string_equal(msg_type_name((uint16_t)t), s->name);
		if (lo == NULL || s < lo)
			lo = s;
		if (hi == NULL || s > hi)
			hi = s;
		assert_true(s->nfields == 0 || s->fields != NULL);
		assert_true(s->nfields <= WIRE_MAX_FIELDS);
		for (i = 0; i < s->nfields; i++) {
			const struct wire_field_spec *f = &s->fields[i];

			assert_non_null(f->name);
			assert_true(f->tag != 0);
			for (j = 0; j < i; j++) {
				if (s->fields[j].tag == f->tag)
					fail_msg("%s: tag %u declared twice",
					    s->name, f->tag);
			}
			if (f->kind == WIRE_BYTES || f->kind == WIRE_STR)
				assert_true(f->min_len <= f->max_len);
			/* A REQUIRED|REPEATED field is fine; flags are only these two. */
			assert_int_equal(f->flags & ~(uint32_t)(WIRE_F_REQUIRED |
			    WIRE_F_REPEATED), 0);
		}
	}
	assert_true(n > 0);
	/*
	 * msg_spec() returns the first entry of a type, so a duplicated type
	 * would hide an entry of the table: every entry between the lowest and
	 * highest address must be reachable, one per type.
	 */
	assert_int_equal((size_t)(hi - lo) + 1, n);
	/* Names are unique too. */
	for (t = 0; t < NTYPES; t++) {
		if ((s = msg_spec((uint16_t)t)) == NULL)
			continue;
		seen_name = false;
		for (const struct wire_msg_spec *o = lo; o <= hi; o++) {
			if (strcmp(o->name, s->name) == 0) {
				assert_false(seen_name);
				seen_name = true;
			}
		}
	}
}

/* The commands and records the store and key file rely on exist. */
static void
test_table_has_types(void **state)
{
	static const uint16_t need[] = {
		MSG_ERROR, CTL_SECRET_CREATE, CMD_CLUSTER_INIT, CMD_TOKEN_ROTATE,
		CMD_SECRET_CREATE, CMD_SECRET_RM, CMD_CLUSTER_UPDATE, QRY_CLUSTER,
		QRY_CLUSTER | MSG_REPLY, QRY_SECRET_LIST, QRY_SECRET_LIST | MSG_REPLY,
		QRY_SECRET_GET, QRY_SECRET_GET | MSG_REPLY, REC_SECRET, SNAP_HEADER,
		SNAP_CLUSTER, SNAP_SECRET, SNAP_DEDUP, REC_KEYFILE,
	};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		assert_non_null(msg_spec(need[i]));
	assert_null(msg_spec(0));
	assert_null(msg_spec(0xffff));
}

/* A CTL_SECRET_CREATE with the given name and data sizes. */
static void
enc_create(struct wire_enc *e, const char *name, size_t datalen, size_t reqlen)
{
	uint8_t *data;

	data = malloc(datalen ? datalen : 1);
	assert_non_null(data);
	memset(data, 'v', datalen);
	wire_enc_init(e, CTL_SECRET_CREATE, 99, WIRE_MAX_MSG);
	wire_put_bytes(e, T_REQ_ID, req_id, reqlen);
	if (name != NULL)
		wire_put_str(e, T_NAME, name);
	wire_put_bytes(e, T_DATA, data, datalen);
	wire_put_str(e, T_LABEL, "env=prod");
	wire_put_str(e, T_LABEL, "team=db");
	free(data);
}

static int
parse_enc(struct wire_enc *e, const uint16_t *allowed, char *why, size_t whylen)
{
	const uint8_t *buf;
	size_t len;

	assert_int_equal(wire_enc_finish(e, &buf, &len), 0);
	return msg_parse(buf, len, WIRE_MAX_MSG, allowed, &msg, why, whylen);
}

static void
test_secret_create_parses(void **state)
{
	struct wire_enc e;
	const uint8_t *p;
	size_t len;
	char why[256], name[65];

	enc_create(&e, "db-password", 12, HUSH_REQ_ID_LEN);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), 0);
	assert_int_equal(msg.hdr.type, CTL_SECRET_CREATE);
	assert_int_equal(msg.hdr.request_id, 99);
	assert_int_equal(wire_get_str(&msg, T_NAME, name, sizeof(name)), 0);
	assert_string_equal(name, "db-password");
	assert_int_equal(wire_get_bytes(&msg, T_REQ_ID, &p, &len), 0);
	assert_int_equal(len, HUSH_REQ_ID_LEN);
	assert_memory_equal(p, req_id, len);
	assert_int_equal(wire_count(&msg, T_LABEL), 2);
	wire_enc_free(&e);
}

static void
test_type_not_allowed(void **state)
{
	static const uint16_t only_status[] = { CTL_STATUS, 0 };
	static const uint16_t nothing[] = { 0 };
	struct wire_enc e;
	char why[256];

	enc_create(&e, "a", 1, HUSH_REQ_ID_LEN);
	assert_int_equal(parse_enc(&e, only_status, why, sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "CTL_SECRET_CREATE"));
	assert_non_null(strstr(why, "0x0104"));
	assert_int_equal(parse_enc(&e, nothing, why, sizeof(why)), HUSH_E_PROTO);
	wire_enc_free(&e);

	/* An allowed type that has no schema is refused, not trusted. */
	{
		static const uint16_t odd[] = { 0x4242, 0 };

		wire_enc_init(&e, 0x4242, 1, 64);
		assert_int_equal(parse_enc(&e, odd, why, sizeof(why)), HUSH_E_PROTO);
		assert_non_null(strstr(why, "0x4242"));
		wire_enc_free(&e);
	}
	/* A reply type is not its request type. */
	wire_enc_init(&e, CTL_STATUS | MSG_REPLY, 1, 64);
	assert_int_equal(parse_enc(&e, only_status, why, sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "CTL_STATUS"));
	wire_enc_free(&e);
}

static void
error_roundtrip(int code, const char *detail)
{
	static const uint16_t err_only[] = { MSG_ERROR, 0 };
	struct wire_enc e;
	char why[256], got[1100];

	assert_int_equal(msg_error_reply(&e, 1234, code, detail), 0);
	assert_int_equal(parse_enc(&e, err_only, why, sizeof(why)), 0);
	assert_int_equal(msg.hdr.request_id, 1234);
	assert_int_equal(msg_reply_status(&msg, got, sizeof(got)), code);
	assert_string_equal(got, detail != NULL ? detail : "");
	wire_enc_free(&e);
}

static void
test_error_roundtrip(void **state)
{
	char longd[1025];
	int code;

	error_roundtrip(HUSH_E_EXISTS, "secret 'db' already exists");
	error_roundtrip(HUSH_E_LOCKED, NULL);
	error_roundtrip(HUSH_E_NOTFOUND, "");
	for (code = -1; code >= HUSH_E_MIN; code--)
		error_roundtrip(code, hush_strerror(code));
	/* The longest detail the schema accepts. */
	memset(longd, 'd', 1024);
	longd[1024] = '\0';
	error_roundtrip(HUSH_E_INTERNAL, longd);
}

static void
test_reply_status_not_error(void **state)
{
	struct wire_enc e;
	char why[256], d[16] = "junk";
	static const uint16_t st[] = { CTL_STATUS, 0 };

	wire_enc_init(&e, CTL_STATUS, 5, 64);
	assert_int_equal(parse_enc(&e, st, why, sizeof(why)), 0);
	assert_int_equal(msg_reply_status(&msg, d, sizeof(d)), 0);
	assert_string_equal(d, "");
	wire_enc_free(&e);
}

/* A MSG_ERROR whose code is written by hand. */
static int
status_of_code(uint32_t code)
{
	static const uint16_t err_only[] = { MSG_ERROR, 0 };
	struct wire_enc e;
	char why[256], d[64];
	int r;

	wire_enc_init(&e, MSG_ERROR, 1, 256);
	wire_put_u32(&e, T_ERRCODE, code);
	wire_put_str(&e, T_ERRMSG, "detail");
	assert_int_equal(parse_enc(&e, err_only, why, sizeof(why)), 0);
	r = msg_reply_status(&msg, d, sizeof(d));
	assert_string_equal(d, "detail");
	wire_enc_free(&e);
	return r;
}

static void
test_error_code_range(void **state)
{
	assert_int_equal(status_of_code(1), HUSH_E_NOMEM);
	assert_int_equal(status_of_code((uint32_t)-HUSH_E_MIN), HUSH_E_MIN);
	/* Out of range, and 0 (an error reply claiming success). */
	assert_int_equal(status_of_code((uint32_t)-HUSH_E_MIN + 1), HUSH_E_PROTO);
	assert_int_equal(status_of_code(1000), HUSH_E_PROTO);
	assert_int_equal(status_of_code(0x80000000u), HUSH_E_PROTO);
	assert_int_equal(status_of_code(0xffffffffu), HUSH_E_PROTO);
	assert_int_equal(status_of_code(0), HUSH_E_PROTO);
}

static void
test_required_and_duplicate(void **state)
{
	struct wire_enc e;
	char why[256];

	/* No T_NAME. */
	enc_create(&e, NULL, 5, HUSH_REQ_ID_LEN);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "NAME"));
	assert_non_null(strstr(why, "missing"));
	wire_enc_free(&e);

	/* No T_REQ_ID. */
	wire_enc_init(&e, CTL_SECRET_CREATE, 1, 256);
	wire_put_str(&e, T_NAME, "x");
	wire_put_bytes(&e, T_DATA, "v", 1);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "REQ_ID"));
	wire_enc_free(&e);

	/* T_NAME twice. */
	enc_create(&e, "one", 5, HUSH_REQ_ID_LEN);
	wire_put_str(&e, T_NAME, "two");
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "repeated"));
	wire_enc_free(&e);

	/* Labels may repeat (enc_create puts two). */
	enc_create(&e, "one", 5, HUSH_REQ_ID_LEN);
	wire_put_str(&e, T_LABEL, "x=y");
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), 0);
	wire_enc_free(&e);

	/* A tag this message does not declare. */
	enc_create(&e, "one", 5, HUSH_REQ_ID_LEN);
	wire_put_bool(&e, T_ROTATE, true);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_PROTO);
	wire_enc_free(&e);
}

static void
test_bounds(void **state)
{
	struct wire_enc e;
	char why[256], name[70];

	memset(name, 'n', sizeof(name));
	name[64] = '\0';
	enc_create(&e, name, 1, HUSH_REQ_ID_LEN);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), 0);
	wire_enc_free(&e);
	name[64] = 'n';
	name[65] = '\0';
	enc_create(&e, name, 1, HUSH_REQ_ID_LEN);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_TOOBIG);
	assert_non_null(strstr(why, "NAME"));
	wire_enc_free(&e);
	/* Empty name. */
	enc_create(&e, "", 1, HUSH_REQ_ID_LEN);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_PROTO);
	wire_enc_free(&e);

	/* Secret value: 511999 is the largest. */
	enc_create(&e, "big", HUSH_SECRET_MAX, HUSH_REQ_ID_LEN);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), 0);
	wire_enc_free(&e);
	enc_create(&e, "big", HUSH_SECRET_MAX + 1, HUSH_REQ_ID_LEN);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_TOOBIG);
	assert_non_null(strstr(why, "DATA"));
	wire_enc_free(&e);
	enc_create(&e, "empty", 0, HUSH_REQ_ID_LEN);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_PROTO);
	wire_enc_free(&e);

	/* Request ids are exactly 16 bytes. */
	enc_create(&e, "r", 1, HUSH_REQ_ID_LEN - 1);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "REQ_ID"));
	wire_enc_free(&e);
	enc_create(&e, "r", 1, 0);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_PROTO);
	wire_enc_free(&e);
	enc_create(&e, "r", 1, HUSH_REQ_ID_LEN + 1);
	assert_true(parse_enc(&e, all_ctl, why, sizeof(why)) < 0);
	wire_enc_free(&e);

	/* A NUL inside a string. */
	wire_enc_init(&e, CTL_SECRET_CREATE, 1, 256);
	wire_put_bytes(&e, T_REQ_ID, req_id, 16);
	wire_put_bytes(&e, T_NAME, "a\0b", 3);
	wire_put_bytes(&e, T_DATA, "v", 1);
	assert_int_equal(parse_enc(&e, all_ctl, why, sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "NUL"));
	wire_enc_free(&e);
}

/* The max argument to msg_parse caps the whole message. */
static void
test_parse_max(void **state)
{
	struct wire_enc e;
	const uint8_t *buf;
	size_t len;
	char why[256];

	enc_create(&e, "m", 100, HUSH_REQ_ID_LEN);
	assert_int_equal(wire_enc_finish(&e, &buf, &len), 0);
	assert_int_equal(msg_parse(buf, len, len, all_ctl, &msg, why, sizeof(why)), 0);
	assert_int_equal(msg_parse(buf, len, len - 1, all_ctl, &msg, why, sizeof(why)),
	    HUSH_E_TOOBIG);
	assert_int_equal(msg_parse(buf, len - 1, len, all_ctl, &msg, why, sizeof(why)),
	    HUSH_E_TRUNCATED);
	assert_non_null(strstr(why, "undecodable"));
	wire_enc_free(&e);
}

/* A REC_SECRET carried in a list reply, then parsed as a record. */
static void
test_rec_secret_roundtrip(void **state)
{
	static const uint16_t list_r[] = { QRY_SECRET_LIST | MSG_REPLY, 0 };
	static const char *ids[2] = {
		"0123456789abcdefghijklmno", "zyxwvutsrqponmlkjihgfedcb"
	};
	struct wire_enc e, r, l;
	const uint8_t *buf;
	size_t len, i;
	char why[256], s[700];
	uint32_t u;
	int64_t t;

	wire_enc_init(&e, QRY_SECRET_LIST | MSG_REPLY, 3, WIRE_MAX_MSG);
	wire_enc_init_list(&l, WIRE_MAX_MSG);
	for (i = 0; i < 2; i++) {
		wire_enc_init_fields(&r, 8192);
		wire_put_str(&r, T_SECRET_ID, ids[i]);
		wire_put_str(&r, T_NAME, i == 0 ? "alpha" : "beta");
		wire_put_i64(&r, T_CREATED, -5 - (int64_t)i);
		wire_put_i64(&r, T_UPDATED, INT64_MAX);
		wire_put_u32(&r, T_VERSION, 7 + (uint32_t)i);
		wire_put_u32(&r, T_DATA_LEN, HUSH_SECRET_MAX);
		wire_put_str(&r, T_LABEL, "k=v");
		wire_put_str(&r, T_LABEL, "k2=");
		assert_int_equal(wire_enc_finish(&r, &buf, &len), 0);
		wire_put_bytes(&l, T_SECRET, buf, len);
		wire_enc_free(&r);
	}
	assert_int_equal(wire_enc_finish(&l, &buf, &len), 0);
	wire_put_bytes(&e, T_RECORDS, buf, len);
	wire_enc_free(&l);
	assert_int_equal(parse_enc(&e, list_r, why, sizeof(why)), 0);
	{
		const uint8_t *lp;
		size_t ll;

		assert_int_equal(wire_get_bytes(&msg, T_RECORDS, &lp, &ll), 0);
		assert_int_equal(wire_decode_fields(lp, ll, &items), 0);
	}
	assert_int_equal(wire_count(&items, T_SECRET), 2);
	for (i = 0; i < 2; i++) {
		const struct wire_field *f = wire_find(&items, T_SECRET, i);

		assert_non_null(f);
		assert_int_equal(msg_parse_record(f->val, f->len, REC_SECRET, &rec,
		    why, sizeof(why)), 0);
		assert_int_equal(wire_get_str(&rec, T_SECRET_ID, s, sizeof(s)), 0);
		assert_string_equal(s, ids[i]);
		assert_int_equal(wire_get_str(&rec, T_NAME, s, sizeof(s)), 0);
		assert_string_equal(s, i == 0 ? "alpha" : "beta");
		assert_int_equal(wire_get_i64(&rec, T_CREATED, &t), 0);
		assert_int_equal(t, -5 - (int64_t)i);
		assert_int_equal(wire_get_i64(&rec, T_UPDATED, &t), 0);
		assert_true(t == INT64_MAX);
		assert_int_equal(wire_get_u32(&rec, T_VERSION, &u), 0);
		assert_int_equal(u, 7 + i);
		assert_int_equal(wire_get_u32(&rec, T_DATA_LEN, &u), 0);
		assert_int_equal(u, HUSH_SECRET_MAX);
		assert_int_equal(wire_count(&rec, T_LABEL), 2);
		assert_int_equal(wire_field_str(wire_find(&rec, T_LABEL, 1), s, sizeof(s)), 0);
		assert_string_equal(s, "k2=");
	}
	wire_enc_free(&e);

	/* A record missing T_VERSION, and one with a bad id length. */
	wire_enc_init_fields(&r, 8192);
	wire_put_str(&r, T_SECRET_ID, ids[0]);
	wire_put_str(&r, T_NAME, "alpha");
	wire_put_i64(&r, T_CREATED, 1);
	wire_put_i64(&r, T_UPDATED, 1);
	wire_put_u32(&r, T_DATA_LEN, 1);
	assert_int_equal(wire_enc_finish(&r, &buf, &len), 0);
	assert_int_equal(msg_parse_record(buf, len, REC_SECRET, &rec, why, sizeof(why)),
	    HUSH_E_PROTO);
	assert_non_null(strstr(why, "VERSION"));
	wire_enc_free(&r);
	wire_enc_init_fields(&r, 8192);
	wire_put_str(&r, T_SECRET_ID, "short");
	assert_int_equal(wire_enc_finish(&r, &buf, &len), 0);
	assert_int_equal(msg_parse_record(buf, len, REC_SECRET, &rec, why, sizeof(why)),
	    HUSH_E_PROTO);
	wire_enc_free(&r);
	/* Garbage, and an unknown record type. */
	assert_int_equal(msg_parse_record((const uint8_t *)"\x00\x10\xff", 3, REC_SECRET,
	    &rec, why, sizeof(why)), HUSH_E_FORMAT);
	assert_int_equal(msg_parse_record(NULL, 0, 0x4242, &rec, why, sizeof(why)),
	    HUSH_E_INTERNAL);
	/* A record of only optional fields may be empty; REC_SECRET may not. */
	assert_int_equal(msg_parse_record(NULL, 0, REC_SECRET, &rec, why, sizeof(why)),
	    HUSH_E_PROTO);
}

static int
count_container(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *r)
{
	char id[HUSH_CONTAINER_ID_MAX + 1], svc[64];
	uint32_t pid, count;
	int64_t t;

	assert_int_equal(wire_get_str(r, T_CONTAINER_ID, id, sizeof(id)), 0);
	assert_int_equal(wire_get_str(r, T_SERVICE_NAME, svc, sizeof(svc)), 0);
	assert_int_equal(wire_get_u32(r, T_PID, &pid), 0);
	assert_int_equal(wire_get_u32(r, T_COUNT, &count), 0);
	assert_int_equal(wire_get_i64(r, T_CREATED, &t), 0);
	assert_string_equal(svc, "web");
	assert_int_equal(pid, 4242);
	assert_true(t == 1700000000);
	(*(size_t *)arg)++;
	return 0;
}

/* One REC_CONTAINER: id, service, pid, files and attach time. */
static void
put_container(struct wire_enc *l, const char *id, bool with_time)
{
	struct wire_enc r;
	const uint8_t *buf;
	size_t len;

	wire_enc_init_fields(&r, 8192);
	wire_put_str(&r, T_CONTAINER_ID, id);
	wire_put_str(&r, T_SERVICE_NAME, "web");
	wire_put_u32(&r, T_PID, 4242);
	wire_put_u32(&r, T_COUNT, 2);
	if (with_time)
		wire_put_i64(&r, T_CREATED, 1700000000);
	assert_int_equal(wire_enc_finish(&r, &buf, &len), 0);
	wire_put_bytes(l, T_CONTAINER, buf, len);
	wire_enc_free(&r);
}

/*
 * CTL_CONTAINER_LIST: its numbers (appended after the hook's requests,
 * which tests/integration/t_hook_cli.sh pins), its request, and a reply
 * of REC_CONTAINERs, whose every field is required.
 */
static void
test_container_list(void **state)
{
	static const uint16_t req[] = { CTL_CONTAINER_LIST, 0 };
	static const uint16_t rep[] = { CTL_CONTAINER_LIST | MSG_REPLY, 0 };
	char id[HUSH_CONTAINER_ID_MAX + 2], why[256];
	struct wire_enc e, l;
	const uint8_t *buf;
	size_t len, n = 0;
	bool b;

	assert_int_equal(CTL_CONTAINER_ATTACH, 0x011b);
	assert_int_equal(CTL_CONTAINER_LIST, CTL_CONTAINER_DETACH + 1);
	assert_int_equal(T_CONTAINER, T_MOUNT + 1);
	assert_int_equal(T_MOUNTER, T_MOUNT + 2);
	assert_int_equal(T_CONTAINERS, T_MOUNT + 3);
	assert_int_equal(REC_CONTAINER, REC_SECRET_DATA + 1);

	/* The request: nothing, or T_MOUNTER. */
	wire_enc_init(&e, CTL_CONTAINER_LIST, 5, 256);
	assert_int_equal(parse_enc(&e, req, why, sizeof(why)), 0);
	wire_enc_free(&e);
	wire_enc_init(&e, CTL_CONTAINER_LIST, 5, 256);
	wire_put_bool(&e, T_MOUNTER, true);
	assert_int_equal(parse_enc(&e, req, why, sizeof(why)), 0);
	assert_int_equal(wire_get_bool(&msg, T_MOUNTER, &b), 0);
	assert_true(b);
	wire_enc_free(&e);

	/* Two records, one with the longest id a runtime may use. */
	memset(id, 'x', HUSH_CONTAINER_ID_MAX);
	id[HUSH_CONTAINER_ID_MAX] = '\0';
	wire_enc_init(&e, CTL_CONTAINER_LIST | MSG_REPLY, 5, WIRE_MAX_MSG);
	wire_enc_init_list(&l, WIRE_MAX_MSG);
	put_container(&l, "c1", true);
	put_container(&l, id, true);
	assert_int_equal(wire_enc_finish(&l, &buf, &len), 0);
	wire_put_bytes(&e, T_RECORDS, buf, len);
	wire_enc_free(&l);
	assert_int_equal(parse_enc(&e, rep, why, sizeof(why)), 0);
	assert_int_equal(msg_records_each(&msg, T_CONTAINER, REC_CONTAINER, count_container,
	    &n), 0);
	assert_int_equal(n, 2);
	/* Read as the mounter's list, the same bytes are refused. */
	assert_int_equal(msg_records_each(&msg, T_MOUNT, REC_MOUNT, count_container, &n),
	    HUSH_E_PROTO);
	wire_enc_free(&e);

	/* A record without its attach time, or with an over-long id. */
	id[HUSH_CONTAINER_ID_MAX] = 'x';
	id[HUSH_CONTAINER_ID_MAX + 1] = '\0';
	for (int i = 0; i < 2; i++) {
		wire_enc_init(&e, CTL_CONTAINER_LIST | MSG_REPLY, 5, WIRE_MAX_MSG);
		wire_enc_init_list(&l, WIRE_MAX_MSG);
		put_container(&l, i == 0 ? "c1" : id, i != 0);
		assert_int_equal(wire_enc_finish(&l, &buf, &len), 0);
		wire_put_bytes(&e, T_RECORDS, buf, len);
		wire_enc_free(&l);
		assert_int_equal(parse_enc(&e, rep, why, sizeof(why)), 0);
		assert_int_equal(msg_records_each(&msg, T_CONTAINER, REC_CONTAINER,
		    count_container, &n), i == 0 ? HUSH_E_PROTO : HUSH_E_TOOBIG);
		wire_enc_free(&e);
	}
}

static int
count_record(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *r)
{
	(*(size_t *)arg)++;
	return 0;
}

/*
 * A record list is all of one item tag: an entry of another tag (or one
 * too large to be a record) fails the walk, and is not taken for the
 * end of a shorter list.
 */
static void
test_records_stray_entry(void **state)
{
	static const uint16_t list_r[] = { QRY_SECRET_LIST | MSG_REPLY, 0 };
	struct wire_enc e, r, l;
	const uint8_t *buf;
	size_t len, n;
	char why[256];
	uint8_t *big;

	for (int stray = 0; stray < 3; stray++) {
		wire_enc_init(&e, QRY_SECRET_LIST | MSG_REPLY, 3, WIRE_MAX_MSG);
		wire_enc_init_list(&l, WIRE_MAX_MSG);
		wire_enc_init_fields(&r, 8192);
		wire_put_str(&r, T_SECRET_ID, "0123456789abcdefghijklmno");
		wire_put_str(&r, T_NAME, "alpha");
		wire_put_i64(&r, T_CREATED, 1);
		wire_put_i64(&r, T_UPDATED, 1);
		wire_put_u32(&r, T_VERSION, 1);
		wire_put_u32(&r, T_DATA_LEN, 1);
		assert_int_equal(wire_enc_finish(&r, &buf, &len), 0);
		wire_put_bytes(&l, T_SECRET, buf, len);
		if (stray == 1) {
			wire_put_bytes(&l, T_NODE, buf, len);
		} else if (stray == 2) {
			assert_non_null(big = calloc(1, 8193));
			wire_put_bytes(&l, T_SECRET, big, 8193);
			free(big);
		}
		wire_put_bytes(&l, T_SECRET, buf, len);
		wire_enc_free(&r);
		assert_int_equal(wire_enc_finish(&l, &buf, &len), 0);
		wire_put_bytes(&e, T_RECORDS, buf, len);
		wire_enc_free(&l);
		assert_int_equal(parse_enc(&e, list_r, why, sizeof(why)), 0);
		n = 0;
		assert_int_equal(msg_records_each(&msg, T_SECRET, REC_SECRET, count_record, &n),
		    stray == 0 ? 0 : HUSH_E_PROTO);
		assert_int_equal(n, stray == 0 ? 2 : 1);
		wire_enc_free(&e);
	}
}

/* MNTR_ATTACH's adopt mode: new tags at the end, the reply's ids required. */
static void
test_mnt_attach_adopt(void **state)
{
	static const uint16_t req[] = { MNTR_ATTACH, 0 };
	static const uint16_t rep[] = { MNTR_ATTACH | MSG_REPLY, 0 };
	struct wire_enc e;
	uint64_t v;
	char why[256];
	bool b;

	(void)state;
	assert_int_equal(T_ADOPT, T_CONTAINERS + 1);
	assert_int_equal(T_VIEW_ID, T_CONTAINERS + 2);
	assert_int_equal(T_START_TIME, T_CONTAINERS + 3);
	assert_int_equal(MNTR_ATTACH, 0x0b01);

	wire_enc_init(&e, MNTR_ATTACH, 1, 4096);
	wire_put_str(&e, T_CONTAINER_ID, "c1");
	wire_put_u32(&e, T_PID, 42);
	wire_put_str(&e, T_ROOT_PATH, "/r");
	wire_put_bool(&e, T_ADOPT, true);
	wire_put_u64(&e, T_VIEW_ID, (uint64_t)1 << 40);
	wire_put_u64(&e, T_START_TIME, 12345);
	assert_int_equal(parse_enc(&e, req, why, sizeof(why)), 0);
	assert_int_equal(wire_get_bool(&msg, T_ADOPT, &b), 0);
	assert_true(b);
	assert_int_equal(wire_get_u64(&msg, T_VIEW_ID, &v), 0);
	assert_true(v == (uint64_t)1 << 40);
	wire_enc_free(&e);

	/* a u32 where the u64 goes */
	wire_enc_init(&e, MNTR_ATTACH, 1, 4096);
	wire_put_str(&e, T_CONTAINER_ID, "c1");
	wire_put_u32(&e, T_PID, 42);
	wire_put_str(&e, T_ROOT_PATH, "/r");
	wire_put_u32(&e, T_VIEW_ID, 7);
	assert_int_equal(parse_enc(&e, req, why, sizeof(why)), HUSH_E_PROTO);
	wire_enc_free(&e);

	/* the reply: count, view id and start time, all required */
	wire_enc_init(&e, MNTR_ATTACH | MSG_REPLY, 1, 256);
	wire_put_u32(&e, T_COUNT, 2);
	wire_put_u64(&e, T_VIEW_ID, 9);
	wire_put_u64(&e, T_START_TIME, 10);
	assert_int_equal(parse_enc(&e, rep, why, sizeof(why)), 0);
	wire_enc_free(&e);
	wire_enc_init(&e, MNTR_ATTACH | MSG_REPLY, 1, 256);
	wire_put_u32(&e, T_COUNT, 2);
	wire_put_u64(&e, T_VIEW_ID, 9);
	assert_int_equal(parse_enc(&e, rep, why, sizeof(why)), HUSH_E_PROTO);
	assert_non_null(strstr(why, "START_TIME"));
	wire_enc_free(&e);
}


/*
 * Paging fields (msg.h, HUSH_PAGE_BYTES): T_CURSOR in list requests and
 * list replies, T_COUNT in inspect replies, each bounded and of one kind,
 * and neither where the other belongs.
 */
static void
test_paging_fields(void **state)
{
	static const uint16_t lists[] = { CTL_SECRET_LIST, CTL_NODE_LIST, CTL_SERVICE_LIST,
		CTL_ASSIGNMENTS, CTL_CONTAINER_LIST, QRY_SECRET_LIST, QRY_NODE_LIST,
		QRY_SERVICE_LIST, MNTR_LIST, 0 };
	static const uint16_t list_r[] = { CTL_SECRET_LIST | MSG_REPLY, 0 };
	static const uint16_t get_r[] = { CTL_SECRET_INSPECT | MSG_REPLY, 0 };
	char why[256], *longest;
	struct wire_enc e;
	uint16_t one[2] = { 0, 0 };

	assert_non_null(longest = malloc(HUSH_CURSOR_MAX + 2));
	memset(longest, 'k', HUSH_CURSOR_MAX + 1);
	longest[HUSH_CURSOR_MAX + 1] = '\0';
	for (const uint16_t *t = lists; *t != 0; t++) {
		one[0] = *t;
		/* none (from the start), and the longest key */
		wire_enc_init(&e, *t, 1, 4096);
		assert_int_equal(parse_enc(&e, one, why, sizeof(why)), 0);
		wire_enc_free(&e);
		wire_enc_init(&e, *t, 1, 4096);
		longest[HUSH_CURSOR_MAX] = '\0';
		wire_put_str(&e, T_CURSOR, longest);
		assert_int_equal(parse_enc(&e, one, why, sizeof(why)), 0);
		wire_enc_free(&e);
		/* one byte longer */
		wire_enc_init(&e, *t, 1, 4096);
		longest[HUSH_CURSOR_MAX] = 'k';
		wire_put_str(&e, T_CURSOR, longest);
		assert_int_equal(parse_enc(&e, one, why, sizeof(why)), HUSH_E_TOOBIG);
		assert_non_null(strstr(why, "CURSOR"));
		wire_enc_free(&e);
		/* empty, twice, with a NUL, of another kind */
		wire_enc_init(&e, *t, 1, 4096);
		wire_put_bytes(&e, T_CURSOR, "", 0);
		assert_int_equal(parse_enc(&e, one, why, sizeof(why)), HUSH_E_PROTO);
		wire_enc_free(&e);
		wire_enc_init(&e, *t, 1, 4096);
		wire_put_str(&e, T_CURSOR, "a");
		wire_put_str(&e, T_CURSOR, "b");
		assert_int_equal(parse_enc(&e, one, why, sizeof(why)), HUSH_E_PROTO);
		wire_enc_free(&e);
		wire_enc_init(&e, *t, 1, 4096);
		wire_put_bytes(&e, T_CURSOR, "a\0b", 3);
		assert_int_equal(parse_enc(&e, one, why, sizeof(why)), HUSH_E_PROTO);
		wire_enc_free(&e);
		/* a count is an inspect's, never a list request's */
		wire_enc_init(&e, *t, 1, 4096);
		wire_put_u32(&e, T_COUNT, 1);
		assert_int_equal(parse_enc(&e, one, why, sizeof(why)), HUSH_E_PROTO);
		wire_enc_free(&e);
	}
	free(longest);

	/* A list reply: T_CURSOR yes, T_COUNT no. */
	wire_enc_init(&e, CTL_SECRET_LIST | MSG_REPLY, 1, 4096);
	wire_put_bytes(&e, T_RECORDS, "", 0);
	wire_put_str(&e, T_CURSOR, "0123456789abcdefghijklmno");
	assert_int_equal(parse_enc(&e, list_r, why, sizeof(why)), 0);
	wire_enc_free(&e);
	wire_enc_init(&e, CTL_SECRET_LIST | MSG_REPLY, 1, 4096);
	wire_put_bytes(&e, T_RECORDS, "", 0);
	wire_put_u32(&e, T_COUNT, 3);
	assert_int_equal(parse_enc(&e, list_r, why, sizeof(why)), HUSH_E_PROTO);
	wire_enc_free(&e);

	/* An inspect reply: T_COUNT a u32, exactly; no T_CURSOR. */
	wire_enc_init(&e, CTL_SECRET_INSPECT | MSG_REPLY, 1, 4096);
	wire_put_bytes(&e, T_RECORDS, "", 0);
	wire_put_u32(&e, T_COUNT, 3);
	assert_int_equal(parse_enc(&e, get_r, why, sizeof(why)), 0);
	wire_enc_free(&e);
	wire_enc_init(&e, CTL_SECRET_INSPECT | MSG_REPLY, 1, 4096);
	wire_put_bytes(&e, T_RECORDS, "", 0);
	wire_put_u16(&e, T_COUNT, 3);
	assert_int_equal(parse_enc(&e, get_r, why, sizeof(why)), HUSH_E_PROTO);
	wire_enc_free(&e);
	wire_enc_init(&e, CTL_SECRET_INSPECT | MSG_REPLY, 1, 4096);
	wire_put_bytes(&e, T_RECORDS, "", 0);
	wire_put_str(&e, T_CURSOR, "x");
	assert_int_equal(parse_enc(&e, get_r, why, sizeof(why)), HUSH_E_PROTO);
	wire_enc_free(&e);
}

/* An error's detail is cut to what T_ERRMSG allows, never refused. */
static void
test_error_detail_cut(void **state)
{
	static const uint16_t err[] = { MSG_ERROR, 0 };
	char big[3000], why[256], got[MSG_ERRMSG_MAX + 1];
	struct wire_enc e;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* a two-byte character across the cut is not split */
	big[MSG_ERRMSG_MAX - 1] = (char)0xc3;
	big[MSG_ERRMSG_MAX] = (char)0xa9;
	assert_int_equal(msg_error_reply(&e, 5, HUSH_E_TOOBIG, big), 0);
	assert_int_equal(parse_enc(&e, err, why, sizeof(why)), 0);
	assert_int_equal(msg_reply_status(&msg, got, sizeof(got)), HUSH_E_TOOBIG);
	assert_int_equal(strlen(got), MSG_ERRMSG_MAX - 1);
	wire_enc_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_unique),
		cmocka_unit_test(test_table_has_types),
		cmocka_unit_test(test_secret_create_parses),
		cmocka_unit_test(test_type_not_allowed),
		cmocka_unit_test(test_error_roundtrip),
		cmocka_unit_test(test_reply_status_not_error),
		cmocka_unit_test(test_error_code_range),
		cmocka_unit_test(test_required_and_duplicate),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_parse_max),
		cmocka_unit_test(test_rec_secret_roundtrip),
		cmocka_unit_test(test_records_stray_entry),
		cmocka_unit_test(test_paging_fields),
		cmocka_unit_test(test_error_detail_cut),
		cmocka_unit_test(test_container_list),
		cmocka_unit_test(test_mnt_attach_adopt),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}
