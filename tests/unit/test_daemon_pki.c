/*
 * The pki process in a CA rotation, spawned and confined as hushd does
 * (child_spawn_here) with this test as its parent: PKI_CA_ROTATE makes a
 * next root, checks a supplied one (with its key, or alone for an
 * external CA) and cross-signs it without changing what pki signs with;
 * PKI_CA_LOAD takes a rotation and refuses one that does not hang
 * together (a key of another certificate, a cross-signed certificate of
 * another key), holding nothing afterwards; PKI_ISSUE signs with the next
 * root in phase RENEW and answers the cross-signed certificate as the
 * chain, and refuses when an external CA holds the key.
 *
 * Runs as root, like test_daemon_children_malformed: the child drops to
 * an unprivileged user as it would under hushd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "child.h"
#include "err.h"
#include "join_token.h"
#include "lockmem.h"
#include "msg.h"
#include "pki/pki.h"
#include "secbuf.h"
#include "wire.h"
#include "x509.h"

#define WAIT_MS		15000
#define NOBODY		65534
#define CA_LIFE		((uint64_t)5 * 365 * 24 * 3600)

static struct child kid;
static struct wire_msg wm;
static uint32_t next_id = 1;
static int64_t now;

struct root {
	struct secbuf	 key;
	char		*pem;
	size_t		 len;
};

static void
root_make(struct root *r)
{
	r->key = (struct secbuf)SECBUF_INIT;
	assert_int_equal(x509_ca_create(now, CA_LIFE, &r->key, &r->pem, &r->len), 0);
}

static void
root_free(struct root *r)
{
	secbuf_free(&r->key);
	free(r->pem);
	r->pem = NULL;
}

static void
send_enc(struct wire_enc *e)
{
	const uint8_t *buf;
	size_t len;

	assert_int_equal(wire_enc_finish(e, &buf, &len), 0);
	assert_int_equal(chan_send_wait(&kid.ch, buf, len, -1), 0);
	wire_enc_free(e);
}

/* The answer to request id: 0 with wm the reply, or the error and detail. */
static int
answer(uint32_t id, uint16_t type, char *detail, size_t dlen)
{
	static struct chan_msg cm;
	uint16_t allowed[] = { type | MSG_REPLY, MSG_ERROR, 0 };
	char why[256];
	int r;

	lockmem_free(cm.buf);
	cm.buf = NULL;
	if ((r = chan_recv_wait(&kid.ch, &cm, WAIT_MS)) != 1)
		fail_msg("no answer from pki to request %u: %s (did it die?)", id,
		    hush_strerror(r));
	if (msg_parse(cm.buf, cm.len, WIRE_MAX_MSG, allowed, &wm, why, sizeof(why)) != 0)
		fail_msg("pki answered request %u with something else: %s", id, why);
	assert_int_equal(wm.hdr.request_id, id);
	detail[0] = '\0';
	return msg_reply_status(&wm, detail, dlen);
}

static void
expect_ok(uint32_t id, uint16_t type)
{
	char detail[MSG_ERRMSG_MAX + 1];
	int r;

	if ((r = answer(id, type, detail, sizeof(detail))) != 0)
		fail_msg("request %u refused: %s (%s)", id, detail, hush_strerror(r));
}

static void
expect_refused(uint32_t id, uint16_t type, int code, const char *want)
{
	char detail[MSG_ERRMSG_MAX + 1];
	int r;

	if ((r = answer(id, type, detail, sizeof(detail))) != code)
		fail_msg("request %u: got %d ('%s'), want %d", id, r, detail, code);
	if (strstr(detail, want) == NULL)
		fail_msg("request %u: '%s' does not say '%s'", id, detail, want);
}

/* A copy of a string field of wm, or NULL when absent. */
static char *
field_str(uint16_t tag)
{
	const struct wire_field *f = wire_find(&wm, tag, 0);
	char *s;

	if (f == NULL)
		return NULL;
	assert_non_null(s = strndup((const char *)f->val, f->len));
	return s;
}

struct load {
	const struct root	*cur;
	bool			 cur_key;
	const struct root	*next;
	const struct secbuf	*next_key;
	const char		*cross;
	int			 phase;		/* -1: absent */
};

static uint32_t
send_load(const struct load *l)
{
	struct wire_enc e;
	uint32_t id = next_id++;

	wire_enc_init(&e, PKI_CA_LOAD, id, PKI_MAX_MSG);
	wire_put_str(&e, T_CA_CERT, l->cur->pem);
	if (l->cur_key)
		wire_put_bytes(&e, T_CA_KEY, l->cur->key.p, l->cur->key.len);
	if (l->next != NULL)
		wire_put_str(&e, T_CA_NEXT, l->next->pem);
	if (l->next_key != NULL)
		wire_put_bytes(&e, T_CA_NEXT_KEY, l->next_key->p, l->next_key->len);
	if (l->cross != NULL)
		wire_put_str(&e, T_CA_CROSS, l->cross);
	if (l->phase >= 0)
		wire_put_u8(&e, T_CA_PHASE, (uint8_t)l->phase);
	send_enc(&e);
	return id;
}

static void
load_ok(const struct load *l)
{
	uint8_t digest[32];
	const uint8_t *d;
	size_t len;

	expect_ok(send_load(l), PKI_CA_LOAD);
	/* The join tokens' digest stays the current root's. */
	assert_int_equal(wire_get_bytes(&wm, T_DIGEST, &d, &len), 0);
	assert_int_equal(len, 32);
	assert_int_equal(join_token_digest_pem(l->cur->pem, l->cur->len, digest), 0);
	assert_memory_equal(d, digest, 32);
}

static uint32_t
send_issue(void)
{
	struct secbuf key = SECBUF_INIT;
	struct wire_enc e;
	uint8_t *csr;
	size_t csrlen;
	uint32_t id = next_id++;

	assert_int_equal(x509_key_generate(&key), 0);
	assert_int_equal(x509_csr_create(&key, &csr, &csrlen), 0);
	wire_enc_init(&e, PKI_ISSUE, id, PKI_MAX_MSG);
	wire_put_bytes(&e, T_CSR, csr, csrlen);
	wire_put_str(&e, T_SUBJ_CN, "3xk9q0vz5m1d8c2w7e4r6t0yb");
	wire_put_str(&e, T_SUBJ_OU, X509_OU_WORKER);
	wire_put_str(&e, T_SUBJ_O, "k2j8d0s9f7g6h5a4s3d2f1g0z");
	wire_put_i64(&e, T_NOW, now);
	wire_put_u64(&e, T_LIFETIME, 86400);
	send_enc(&e);
	free(csr);
	secbuf_free(&key);
	return id;
}

/* Issued, by the root `by`, with chain (or none when NULL). */
static void
issue_ok(const struct root *by, const char *chain)
{
	char why[256], *cert, *got_chain;

	expect_ok(send_issue(), PKI_ISSUE);
	assert_non_null(cert = field_str(T_CERT));
	if (x509_verify(cert, strlen(cert), by->pem, by->len, now, why,
	    sizeof(why)) != 0)
		fail_msg("the issued certificate is not the expected root's: %s", why);
	got_chain = field_str(T_CA_CHAIN);
	if (chain == NULL)
		assert_null(got_chain);
	else
		assert_string_equal(got_chain, chain);
	free(got_chain);
	free(cert);
}

static uint32_t
send_rotate(const char *cert, const uint8_t *key, size_t keylen)
{
	struct wire_enc e;
	uint32_t id = next_id++;

	wire_enc_init(&e, PKI_CA_ROTATE, id, PKI_MAX_MSG);
	wire_put_i64(&e, T_NOW, now);
	wire_put_u64(&e, T_LIFETIME, CA_LIFE);
	if (cert != NULL)
		wire_put_str(&e, T_CA_CERT, cert);
	if (key != NULL)
		wire_put_bytes(&e, T_CA_KEY, key, keylen);
	send_enc(&e);
	return id;
}

/* The rotation answered: its parts check out against cur. */
static void
rotation_check(const struct root *cur, bool want_key, bool want_cross,
    char **next_out, char **cross_out)
{
	struct x509_cert_info info;
	struct secbuf key = SECBUF_INIT;
	const struct wire_field *f;
	const uint8_t *d;
	size_t len;
	char *next, *cross, why[256];

	assert_non_null(next = field_str(T_CA_NEXT));
	assert_int_equal(x509_cert_info(next, strlen(next), &info), 0);
	assert_true(info.is_ca);
	assert_int_equal(wire_get_bytes(&wm, T_DIGEST, &d, &len), 0);
	assert_int_equal(len, 32);
	assert_memory_equal(d, info.spki_sha256, 32);
	f = wire_find(&wm, T_CA_NEXT_KEY, 0);
	if (!want_key) {
		assert_null(f);
	} else {
		assert_non_null(f);
		assert_int_equal(secbuf_dup(&key, f->val, f->len), 0);
		assert_true(x509_ca_matches_key(next, strlen(next), &key));
		secbuf_free(&key);
	}
	cross = field_str(T_CA_CROSS);
	if (!want_cross) {
		assert_null(cross);
	} else {
		assert_non_null(cross);
		if (x509_ca_check_cross(cross, strlen(cross), cur->pem, cur->len,
		    next, strlen(next), why, sizeof(why)) != 0)
			fail_msg("cross-signed certificate: %s", why);
	}
	if (next_out != NULL)
		*next_out = next;
	else
		free(next);
	if (cross_out != NULL)
		*cross_out = cross;
	else
		free(cross);
}

static void
spawn(void)
{
	child_init(&kid, &pki_child);
	assert_int_equal(child_spawn_here(&kid), 0);
}

static void
stop(void)
{
	int st;

	chan_close(&kid.ch);
	assert_int_equal(waitpid(kid.pid, &st, 0), kid.pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("the pki process ended with status 0x%x", st);
}

/* ---- PKI_CA_ROTATE ---------------------------------------------------- */

static void
test_rotate(void **state)
{
	struct root cur, sup;
	struct load l = { .cur = &cur, .cur_key = true, .phase = -1 };
	char *next, *odd;
	size_t i, j;

	root_make(&cur);
	root_make(&sup);
	spawn();
	/* Nothing to rotate from yet. */
	expect_refused(send_rotate(NULL, NULL, 0), PKI_CA_ROTATE, HUSH_E_UNAVAIL,
	    "no root CA is loaded");
	/* ...but the operator's own root is checked for a new cluster, uncrossed. */
	expect_ok(send_rotate(sup.pem, sup.key.p, sup.key.len), PKI_CA_ROTATE);
	rotation_check(&cur, true, false, NULL, NULL);
	expect_refused(send_rotate(sup.pem, cur.key.p, cur.key.len), PKI_CA_ROTATE,
	    HUSH_E_INVAL, "the key does not belong to this certificate");
	load_ok(&l);

	/* A fresh next root, with its key, cross-signed. */
	expect_ok(send_rotate(NULL, NULL, 0), PKI_CA_ROTATE);
	rotation_check(&cur, true, true, NULL, NULL);
	/* Nothing changed in pki: the current root still signs. */
	issue_ok(&cur, NULL);

	/* The operator's own, with its key as DER, and with its PEM rewrapped. */
	expect_ok(send_rotate(sup.pem, sup.key.p, sup.key.len), PKI_CA_ROTATE);
	rotation_check(&cur, true, true, &next, NULL);
	assert_string_equal(next, sup.pem);
	free(next);
	assert_non_null(odd = malloc(sup.len + 1));
	for (i = 0, j = 0; i < sup.len; i++) {
		if (sup.pem[i] == '\n' && i > 40 && i + 40 < sup.len && i % 3 == 0)
			continue;
		odd[j++] = sup.pem[i];
	}
	odd[j] = '\0';
	expect_ok(send_rotate(odd, sup.key.p, sup.key.len), PKI_CA_ROTATE);
	rotation_check(&cur, true, true, &next, NULL);
	assert_string_equal(next, sup.pem);	/* canonical again */
	free(next);
	free(odd);

	/* An external CA's root: the certificate alone, no key comes back. */
	expect_ok(send_rotate(sup.pem, NULL, 0), PKI_CA_ROTATE);
	rotation_check(&cur, false, true, NULL, NULL);

	/* Refusals, each saying why. */
	expect_refused(send_rotate(cur.pem, cur.key.p, cur.key.len), PKI_CA_ROTATE,
	    HUSH_E_INVAL, "that is the current root");
	expect_refused(send_rotate(sup.pem, cur.key.p, cur.key.len), PKI_CA_ROTATE,
	    HUSH_E_INVAL, "the key does not belong to this certificate");
	expect_refused(send_rotate(sup.pem, (const uint8_t *)"junk", 4),
	    PKI_CA_ROTATE, HUSH_E_FORMAT, "neither PEM nor PKCS#8 DER");
	expect_refused(send_rotate("junk", NULL, 0), PKI_CA_ROTATE, HUSH_E_FORMAT,
	    "not one PEM certificate");
	expect_refused(send_rotate(NULL, sup.key.p, sup.key.len), PKI_CA_ROTATE,
	    HUSH_E_INVAL, "without its certificate");

	/* With the current root external, nothing can cross-sign. */
	l.cur_key = false;
	load_ok(&l);
	expect_ok(send_rotate(NULL, NULL, 0), PKI_CA_ROTATE);
	rotation_check(&cur, true, false, NULL, NULL);
	stop();
	root_free(&sup);
	root_free(&cur);
}

/* ---- PKI_CA_LOAD and PKI_ISSUE through a rotation ------------------------ */

static void
test_load_and_issue(void **state)
{
	struct root cur, nxt, other;
	struct load l;
	char *cross, *wrong_cross;
	size_t cross_len, wrong_len;

	root_make(&cur);
	root_make(&nxt);
	root_make(&other);
	assert_int_equal(x509_ca_cross_sign(&cur.key, cur.pem, cur.len, nxt.pem,
	    nxt.len, now, &cross, &cross_len), 0);
	/* The current root vouching for another key than the next root's. */
	assert_int_equal(x509_ca_cross_sign(&cur.key, cur.pem, cur.len, other.pem,
	    other.len, now, &wrong_cross, &wrong_len), 0);
	spawn();

	/* TRUST: the current root still signs. */
	l = (struct load){ .cur = &cur, .cur_key = true, .next = &nxt,
	    .next_key = &nxt.key, .cross = cross, .phase = CA_PHASE_TRUST };
	load_ok(&l);
	issue_ok(&cur, NULL);
	/* RENEW: the next root signs, and the chain is the cross-signed one. */
	l.phase = CA_PHASE_RENEW;
	load_ok(&l);
	issue_ok(&nxt, cross);
	/* RENEW without a cross-signature (the old root was external). */
	l.cross = NULL;
	l.cur_key = false;
	load_ok(&l);
	issue_ok(&nxt, NULL);
	/* Back to no rotation: the current root, no chain. */
	l = (struct load){ .cur = &cur, .cur_key = true, .phase = -1 };
	load_ok(&l);
	issue_ok(&cur, NULL);

	/* An external CA holds the key that would sign. */
	l.cur_key = false;
	load_ok(&l);
	expect_refused(send_issue(), PKI_ISSUE, HUSH_E_UNAVAIL,
	    "this cluster's CA is external: an external CA signs its certificates");
	l = (struct load){ .cur = &cur, .cur_key = true, .next = &nxt,
	    .cross = cross, .phase = CA_PHASE_RENEW };
	load_ok(&l);
	expect_refused(send_issue(), PKI_ISSUE, HUSH_E_UNAVAIL, "external");

	/* Forged or broken rotations: refused, and pki then holds nothing. */
	l = (struct load){ .cur = &cur, .cur_key = true, .next = &nxt,
	    .next_key = &nxt.key, .cross = wrong_cross, .phase = CA_PHASE_RENEW };
	expect_refused(send_load(&l), PKI_CA_LOAD, HUSH_E_CORRUPT, "T_CA_CROSS");
	expect_refused(send_issue(), PKI_ISSUE, HUSH_E_UNAVAIL, "no root CA is loaded");
	l.cross = cross;
	l.next_key = &other.key;
	expect_refused(send_load(&l), PKI_CA_LOAD, HUSH_E_CORRUPT, "T_CA_NEXT_KEY");
	expect_refused(send_issue(), PKI_ISSUE, HUSH_E_UNAVAIL, "no root CA is loaded");
	/* A cross-signature by another root than the current one. */
	l = (struct load){ .cur = &other, .cur_key = true, .next = &nxt,
	    .next_key = &nxt.key, .cross = cross, .phase = CA_PHASE_TRUST };
	expect_refused(send_load(&l), PKI_CA_LOAD, HUSH_E_CORRUPT, "T_CA_CROSS");
	/* The current root's key of another root. */
	l = (struct load){ .cur = &cur, .cur_key = false, .phase = -1 };
	{
		struct root mixed = { .pem = cur.pem, .len = cur.len, .key = other.key };

		l.cur = &mixed;
		l.cur_key = true;
		expect_refused(send_load(&l), PKI_CA_LOAD, HUSH_E_CORRUPT, "T_CA_KEY");
	}
	l = (struct load){ .cur = &cur, .cur_key = true, .phase = CA_PHASE_RENEW };
	expect_refused(send_load(&l), PKI_CA_LOAD, HUSH_E_CORRUPT, "T_CA_NEXT");
	l.phase = 7;
	expect_refused(send_load(&l), PKI_CA_LOAD, HUSH_E_CORRUPT, "T_CA_PHASE");
	/* A leaf is not a next root. */
	{
		struct root leaf = { .key = SECBUF_INIT };
		struct x509_subject subj = { .cn = "n", .ou = X509_OU_WORKER, .o = "c" };
		uint8_t *csr;
		size_t csrlen;
		char why[256];

		assert_int_equal(x509_key_generate(&leaf.key), 0);
		assert_int_equal(x509_csr_create(&leaf.key, &csr, &csrlen), 0);
		assert_int_equal(x509_csr_sign(csr, csrlen, &cur.key, cur.pem, cur.len,
		    &subj, now, 86400, &leaf.pem, &leaf.len, why, sizeof(why)), 0);
		l = (struct load){ .cur = &cur, .cur_key = true, .next = &leaf,
		    .phase = CA_PHASE_TRUST };
		expect_refused(send_load(&l), PKI_CA_LOAD, HUSH_E_CORRUPT,
		    "next root (T_CA_NEXT) is not a CA");
		free(csr);
		root_free(&leaf);
	}
	stop();
	free(wrong_cross);
	free(cross);
	root_free(&other);
	root_free(&nxt);
	root_free(&cur);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotate),
		cmocka_unit_test(test_load_and_issue),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_daemon_pki must run as root\n");
		return 1;
	}
	if (sodium_init() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	child_set_user(NOBODY, NOBODY);
	now = (int64_t)time(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
