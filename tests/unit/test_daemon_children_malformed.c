/*
 * Every child of hushd (pki, raft, net, the mounter), spawned and confined
 * as hushd does (child_spawn_here), with this test as its parent: each
 * gets malformed requests (a type it does not take, a type unknown to
 * hush, fields that do not decode, a descriptor with a request that takes
 * none, an answer to a call it never made) and must answer every request
 * with MSG_ERROR HUSH_E_PROTO, then answer a valid request as usual and,
 * at the end, exit cleanly when its channel closes.  Before the policy of
 * daemon/privsep/from_parent.c, pki, raft and net exited on the first of
 * these and the mounter on a type it does not take.
 *
 * Runs as root (the mounter keeps CAP_SYS_ADMIN, and its exit events need
 * CAP_NET_ADMIN on older kernels), like test_daemon_mounter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "child.h"
#include "err.h"
#include "id.h"
#include "lockmem.h"
#include "mounter/mounter.h"
#include "msg.h"
#include "net/net.h"
#include "pki/pki.h"
#include "raft/raft_proc.h"
#include "secbuf.h"
#include "wire.h"
#include "x509.h"

#define WAIT_MS		15000
#define NOBODY		65534

static struct child kid;
static struct wire_msg wm;
static uint32_t next_id = 1000;

static void
spawn(const struct child_desc *d)
{
	child_init(&kid, d);
	assert_int_equal(child_spawn_here(&kid), 0);
}

/* EOF on its channel ends a child, which must exit cleanly: it was alive. */
static void
stop(void)
{
	int st;

	chan_close(&kid.ch);
	assert_int_equal(waitpid(kid.pid, &st, 0), kid.pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("the %s process ended with status 0x%x", kid.desc->name, st);
}

static void
send_raw(const uint8_t *buf, size_t len, int fd)
{
	assert_int_equal(chan_send_wait(&kid.ch, buf, len, fd), 0);
}

static void
send_enc(struct wire_enc *e, int fd)
{
	const uint8_t *buf;
	size_t len;

	assert_int_equal(wire_enc_finish(e, &buf, &len), 0);
	send_raw(buf, len, fd);
	wire_enc_free(e);
}

/*
 * The next message from the child, which must answer request id: 0 and
 * wm holding a reply of type|MSG_REPLY, or MSG_ERROR's code and detail.
 * cm keeps the bytes wm points into until the next call.
 */
static int
answer(uint32_t id, uint16_t type, char *detail, size_t dlen)
{
	static struct chan_msg cm;
	uint16_t allowed[] = { type | MSG_REPLY, MSG_ERROR, 0 };
	char why[256];
	int r;

	lockmem_free(cm.buf);
	cm.buf = NULL;
	r = chan_recv_wait(&kid.ch, &cm, WAIT_MS);
	if (r != 1)
		fail_msg("no answer from the %s process to request %u: %s (did it die?)",
		    kid.desc->name, id, hush_strerror(r));
	if (cm.fd >= 0)
		close(cm.fd);
	cm.fd = -1;
	if (msg_parse(cm.buf, cm.len, WIRE_MAX_MSG, allowed, &wm, why, sizeof(why)) != 0)
		fail_msg("the %s process answered request %u with something else: %s",
		    kid.desc->name, id, why);
	assert_int_equal(wm.hdr.request_id, id);
	return msg_reply_status(&wm, detail, dlen);
}

/* The child answers request id with HUSH_E_PROTO, naming what was wrong. */
static void
assert_refused(uint32_t id, const char *want)
{
	char detail[MSG_ERRMSG_MAX + 1];
	int r;

	if ((r = answer(id, 0, detail, sizeof(detail))) != HUSH_E_PROTO)
		fail_msg("the %s process answered request %u with %d ('%s'), not a "
		    "protocol error", kid.desc->name, id, r, detail);
	if (strstr(detail, want) == NULL)
		fail_msg("the %s process's answer '%s' does not say '%s'",
		    kid.desc->name, detail, want);
}

static void
put_hdr(uint8_t *b, uint16_t type, uint32_t id, uint32_t body_len)
{
	b[0] = WIRE_VERSION >> 8; b[1] = WIRE_VERSION & 0xff;
	b[2] = type >> 8; b[3] = type & 0xff;
	b[4] = id >> 24; b[5] = id >> 16 & 0xff; b[6] = id >> 8 & 0xff; b[7] = id & 0xff;
	b[8] = body_len >> 24; b[9] = body_len >> 16 & 0xff;
	b[10] = body_len >> 8 & 0xff; b[11] = body_len & 0xff;
}

/*
 * What every child must refuse and answer: request is a type it takes;
 * bare one it takes that needs no field, to send with a descriptor (0 if
 * its channel carries none at all).
 */
static void
refuses_malformed(uint16_t request, uint16_t bare)
{
	uint8_t b[WIRE_HDR_LEN + 6];
	uint32_t id;
	int fd;

	/* A request of another channel: the control socket's. */
	id = next_id++;
	put_hdr(b, CTL_STATUS, id, 0);
	send_raw(b, WIRE_HDR_LEN, -1);
	assert_refused(id, "not allowed here");

	/* A type no channel carries. */
	id = next_id++;
	put_hdr(b, 0x0777, id, 0);
	send_raw(b, WIRE_HDR_LEN, -1);
	assert_refused(id, "message type 0x0777");

	/* Its own type, with a field claiming more bytes than there are. */
	id = next_id++;
	put_hdr(b, request, id, 6);
	b[12] = 0; b[13] = T_NAME; b[14] = 0x7f; b[15] = 0xff; b[16] = 0; b[17] = 0;
	send_raw(b, sizeof(b), -1);
	assert_refused(id, "undecodable message");

	if (bare == 0)
		return;
	/* A descriptor with a request that takes none. */
	id = next_id++;
	assert_true((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	put_hdr(b, bare, id, 0);
	send_raw(b, WIRE_HDR_LEN, fd);
	close(fd);
	assert_refused(id, "a descriptor came with");
}

/* An error answer from the parent to a call the child never made. */
static void
stray_answer(uint32_t id)
{
	struct wire_enc e;

	assert_int_equal(msg_error_reply(&e, id, HUSH_E_UNAVAIL, "stray"), 0);
	send_enc(&e, -1);
}

/* ---- the four children ---------------------------------------------------- */

static void
test_pki(void **state)
{
	struct wire_enc e;
	char detail[MSG_ERRMSG_MAX + 1];
	uint32_t id;

	spawn(&pki_child);
	refuses_malformed(PKI_ISSUE, 0);
	/* Then a real CA, as at 'hushctl init'. */
	id = next_id++;
	wire_enc_init(&e, PKI_CA_CREATE, id, 4096);
	wire_put_i64(&e, T_NOW, (int64_t)time(NULL));
	wire_put_u64(&e, T_LIFETIME, PKI_CA_LIFETIME);
	send_enc(&e, -1);
	if (answer(id, PKI_CA_CREATE, detail, sizeof(detail)) != 0)
		fail_msg("PKI_CA_CREATE: %s", detail);
	assert_non_null(wire_find(&wm, T_CA_CERT, 0));
	stop();
}

static void
test_raft(void **state)
{
	struct wire_enc e;
	char detail[MSG_ERRMSG_MAX + 1], state_name[32];
	uint32_t id;

	spawn(&raft_child);
	refuses_malformed(RAFTP_PROPOSE, RAFTP_STATUS);
	/* A connect answer it never asked for (its own ids have the top bit). */
	stray_answer(0x80000001u);
	id = next_id++;
	wire_enc_init(&e, RAFTP_STATUS, id, 64);
	send_enc(&e, -1);
	if (answer(id, RAFTP_STATUS, detail, sizeof(detail)) != 0)
		fail_msg("RAFTP_STATUS: %s", detail);
	assert_int_equal(wire_get_str(&wm, T_RAFT_STATE, state_name, sizeof(state_name)), 0);
	assert_string_equal(state_name, "stopped");
	stop();
}

static void
test_net(void **state)
{
	struct secbuf cakey = SECBUF_INIT, key = SECBUF_INIT;
	struct x509_subject subj;
	struct wire_enc e;
	char *capem, *cert, node[HUSH_ID_LEN + 1], cluster[HUSH_ID_LEN + 1];
	char detail[MSG_ERRMSG_MAX + 1];
	uint8_t *csr;
	size_t calen, csrlen, certlen;
	uint32_t id;

	/* A worker of a new cluster: it starts without listening. */
	assert_int_equal(x509_ca_create((int64_t)time(NULL), PKI_CA_LIFETIME, &cakey,
	    &capem, &calen), 0);
	assert_int_equal(hush_id_new(node), 0);
	assert_int_equal(hush_id_new(cluster), 0);
	assert_int_equal(x509_key_generate(&key), 0);
	assert_int_equal(x509_csr_create(&key, &csr, &csrlen), 0);
	memset(&subj, 0, sizeof(subj));
	snprintf(subj.cn, sizeof(subj.cn), "%s", node);
	snprintf(subj.ou, sizeof(subj.ou), "%s", X509_OU_WORKER);
	snprintf(subj.o, sizeof(subj.o), "%s", cluster);
	assert_int_equal(x509_csr_sign(csr, csrlen, &cakey, capem, calen, &subj,
	    (int64_t)time(NULL), 86400, &cert, &certlen, detail, sizeof(detail)), 0);

	spawn(&net_child);
	refuses_malformed(NET_START, NET_RELOAD);
	stray_answer(4242);
	id = next_id++;
	wire_enc_init(&e, NET_START, id, WIRE_MAX_MSG);
	wire_put_str(&e, T_NODE_ID, node);
	wire_put_str(&e, T_CLUSTER_ID, cluster);
	wire_put_u8(&e, T_ROLE, ROLE_WORKER);
	wire_put_str(&e, T_CERT, cert);
	wire_put_bytes(&e, T_NODE_KEY, key.p, key.len);
	wire_put_str(&e, T_CA_CERT, capem);
	wire_put_str(&e, T_LISTEN_ADDR, "127.0.0.1:1");
	send_enc(&e, -1);
	if (answer(id, NET_START, detail, sizeof(detail)) != 0)
		fail_msg("NET_START: %s", detail);
	stop();
	secbuf_free(&cakey);
	secbuf_free(&key);
	free(capem);
	free(cert);
	free(csr);
}

static void
test_mounter(void **state)
{
	struct wire_enc e;
	char detail[MSG_ERRMSG_MAX + 1];
	uint32_t id;

	spawn(&mounter_child);
	refuses_malformed(MNTR_DETACH, MNTR_LIST);
	id = next_id++;
	wire_enc_init(&e, MNTR_LIST, id, 64);
	send_enc(&e, -1);
	if (answer(id, MNTR_LIST, detail, sizeof(detail)) != 0)
		fail_msg("MNTR_LIST: %s", detail);
	stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki),
		cmocka_unit_test(test_raft),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_mounter),
	};
	char dir[] = "/tmp/hush-test-raft-XXXXXX";
	int r;

	if (geteuid() != 0) {
		fprintf(stderr, "test_daemon_children_malformed must run as root\n");
		return 1;
	}
	if (sodium_init() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	child_set_user(NOBODY, NOBODY);
	/* The raft process starts in its directory, as the unprivileged user. */
	if (mkdtemp(dir) == NULL || chown(dir, NOBODY, NOBODY) != 0)
		return 1;
	snprintf(raft_proc_dir, sizeof(raft_proc_dir), "%s", dir);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return r;
}
