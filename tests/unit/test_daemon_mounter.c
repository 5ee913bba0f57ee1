/*
 * The mounter process against the real kernel, as root.
 *
 * main() first moves this process into a mount namespace of its own,
 * private all the way down, with a tmpfs on its temporary directory, so
 * nothing made here reaches the host.  Each test spawns the real mounter
 * with the privsep machinery (child_init + child_spawn_here: confinement and
 * the capability set of mounter_child included) and talks to it over its
 * channel as the parent would.  A "container" is a forked child that
 * unshares its mount namespace and waits on a pipe; we look into it
 * through /proc/PID/root and /proc/PID/mountinfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "log.h"
#include "mounter/mounter.h"
#include "mounter/mounter_int.h"
#include "msg.h"
#include "ns_fixture.h"

#define TARGET	"/run/secrets"

static char tmpdir[64];

struct fx {
	char		 rootfs[128];
	char		 view[192];	/* <rootfs>/run/secrets */
	struct child	 mounter;
	struct ns_ctr	 ctr;		/* the container */
	int		 send_fd;	/* goes with the next request, or -1 */
	uint32_t	 next_id;
	struct chan_msg	 cm;		/* the last message received */
	struct wire_msg	 m;		/* parsed from cm */
};

static const uint16_t to_parent[] = {
	MNTR_ATTACH | MSG_REPLY, MNTR_PUBLISH | MSG_REPLY, MNTR_DETACH | MSG_REPLY,
	MNTR_LIST | MSG_REPLY, MNTR_EVENT, MSG_ERROR, 0
};

/* ---- plumbing ---------------------------------------------------------- */

static int
setup(void **state)
{
	static unsigned seq;
	struct fx *fx;

	assert_non_null(fx = calloc(1, sizeof(*fx)));
	ns_ctr_init(&fx->ctr);
	fx->send_fd = -1;
	fx->cm.fd = -1;
	snprintf(fx->rootfs, sizeof(fx->rootfs), "%s/rootfs%u", tmpdir, seq++);
	snprintf(fx->view, sizeof(fx->view), "%s" TARGET, fx->rootfs);
	assert_int_equal(mkdir(fx->rootfs, 0755), 0);
	child_init(&fx->mounter, &mounter_child);
	assert_int_equal(child_spawn_here(&fx->mounter), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	int st;

	chan_msg_free(&fx->cm);
	/*
	 * EOF on its channel ends the mounter, which must exit cleanly.
	 * Before the container ends: its exit event would be sent to a
	 * parent that is gone, which is fatal.
	 */
	chan_close(&fx->mounter.ch);
	assert_int_equal(waitpid(fx->mounter.pid, &st, 0), fx->mounter.pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ns_ctr_stop(&fx->ctr);
	free(fx);
	return 0;
}

/* The container must not hold the mounter's channel: it would never see EOF. */
static void
ctr_start(struct fx *fx)
{
	ns_ctr_start(&fx->ctr, fx->mounter.ch.fd);
}

static void
put_file(struct wire_enc *e, const char *name, uint32_t uid, uint32_t gid,
    uint32_t mode, const char *data)
{
	struct wire_enc f;
	const uint8_t *b;
	size_t l;

	wire_enc_init_fields(&f, 65536);
	wire_put_str(&f, T_NAME, name);
	wire_put_u32(&f, T_UID, uid);
	wire_put_u32(&f, T_GID, gid);
	wire_put_u32(&f, T_MODE, mode);
	if (data != NULL)
		wire_put_bytes(&f, T_DATA, data, strlen(data));
	assert_int_equal(wire_enc_finish(&f, &b, &l), 0);
	wire_put_bytes(e, T_FILE, b, l);
	wire_enc_free(&f);
}

static void
req_init(struct fx *fx, struct wire_enc *e, uint16_t type)
{
	wire_enc_init(e, type, ++fx->next_id, WIRE_MAX_MSG);
}

/* Receives the next message into fx->m, or fails after timeout_ms. */
static void
recv_msg(struct fx *fx, int timeout_ms)
{
	char why[512];
	int r;

	chan_msg_free(&fx->cm);
	if ((r = chan_recv_wait(&fx->mounter.ch, &fx->cm, timeout_ms)) != 1)
		fail_msg("no message from the mounter: %s", hush_strerror(r));
	if ((r = msg_parse(fx->cm.buf, fx->cm.len, MOUNTER_MAX_MSG, to_parent,
	    &fx->m, why, sizeof(why))) != 0)
		fail_msg("mounter sent: %s", why);
}

/* Sends e; returns the reply's status, its detail in detail. */
static int
call(struct fx *fx, struct wire_enc *e, char *detail, size_t dlen)
{
	const uint8_t *b;
	size_t l;
	uint32_t id = fx->next_id;

	assert_int_equal(wire_enc_finish(e, &b, &l), 0);
	assert_int_equal(chan_send_wait(&fx->mounter.ch, b, l, fx->send_fd), 0);
	fx->send_fd = -1;
	wire_enc_free(e);
	recv_msg(fx, 10000);
	assert_int_equal(fx->m.hdr.request_id, id);
	return msg_reply_status(&fx->m, detail, dlen);
}

static void
call_ok(struct fx *fx, struct wire_enc *e)
{
	char detail[1024];
	int r;

	if ((r = call(fx, e, detail, sizeof(detail))) != 0)
		fail_msg("%s: %s", hush_strerror(r), detail);
}

/* Expects an error reply code whose detail contains want. */
static void
call_refused(struct fx *fx, struct wire_enc *e, int code, const char *want)
{
	char detail[1024];
	int r;

	r = call(fx, e, detail, sizeof(detail));
	if (r != code || strstr(detail, want) == NULL)
		fail_msg("got %d (%s) '%s'; wanted %d with '%s'", r,
		    hush_strerror(r), detail, code, want);
}

static void
attach_req(struct fx *fx, struct wire_enc *e, const char *id)
{
	req_init(fx, e, MNTR_ATTACH);
	wire_put_str(e, T_CONTAINER_ID, id);
	wire_put_u32(e, T_PID, (uint32_t)fx->ctr.pid);
	wire_put_str(e, T_ROOT_PATH, fx->rootfs);
	fx->send_fd = fx->ctr.pidfd;
}

static void
attach_two(struct fx *fx, const char *id)
{
	struct wire_enc e;
	uint32_t n;

	attach_req(fx, &e, id);
	put_file(&e, "db_pw", 1000, 1001, 0440, "hunter2");
	put_file(&e, "app/cfg", 0, 0, 0400, "key=value\n");
	call_ok(fx, &e);
	assert_int_equal(wire_get_u32(&fx->m, T_COUNT, &n), 0);
	assert_int_equal(n, 2);
}

struct listed {
	char		id[MNT_ID_MAX + 1];
	uint32_t	pid, count;
	size_t		n;
};

static int
list_one(void *arg, const uint8_t *raw, size_t len, const struct wire_msg *rec)
{
	struct listed *l = arg;

	l->n++;
	assert_int_equal(wire_get_str(rec, T_CONTAINER_ID, l->id,
	    sizeof(l->id)), 0);
	assert_int_equal(wire_get_u32(rec, T_PID, &l->pid), 0);
	assert_int_equal(wire_get_u32(rec, T_COUNT, &l->count), 0);
	return 0;
}

static void
list(struct fx *fx, struct listed *l)
{
	struct wire_enc e;

	memset(l, 0, sizeof(*l));
	req_init(fx, &e, MNTR_LIST);
	call_ok(fx, &e);
	assert_int_equal(msg_records_each(&fx->m, T_MOUNT, REC_MOUNT, list_one,
	    l), 0);
}

static const char *
ctr_path(const struct fx *fx, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/root%s/%s", (int)fx->ctr.pid, fx->view, rel);
	return buf;
}

static void
check_file(const struct fx *fx, const char *name, const char *data,
    uid_t uid, gid_t gid, mode_t mode)
{
	char path[512], buf[256];
	struct stat st;
	ssize_t n;
	int fd;

	ctr_path(fx, name, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fail_msg("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, strlen(data));
	assert_memory_equal(buf, data, (size_t)n);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
	assert_int_equal(st.st_mode & 07777, mode);
}

/*
 * The line of /proc/PID/mountinfo for the mount at path, or "" if none;
 * fails if more than one.
 */
static void
mountinfo_at(pid_t pid, const char *path, char *out, size_t outlen)
{
	char file[64], *line = NULL;
	size_t cap = 0, plen = strlen(path);
	int count = 0;
	FILE *f;

	out[0] = '\0';
	snprintf(file, sizeof(file), "/proc/%d/mountinfo", (int)pid);
	assert_non_null(f = fopen(file, "r"));
	while (getline(&line, &cap, f) > 0) {
		char *p = line;

		/* fields 1-4, then the mount point */
		for (int i = 0; i < 4 && p != NULL; i++)
			if ((p = strchr(p, ' ')) != NULL)
				p++;
		if (p != NULL && strncmp(p, path, plen) == 0 && p[plen] == ' ') {
			snprintf(out, outlen, "%s", line);
			count++;
		}
	}
	free(line);
	fclose(f);
	assert_true(count <= 1);
}

static bool
ctr_has(const struct fx *fx, const char *rel)
{
	char path[512];

	return access(ctr_path(fx, rel, path, sizeof(path)), F_OK) == 0;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_attach_publish_detach(void **state)
{
	struct fx *fx = *state;
	char info[1024], path[512];
	struct wire_enc e;
	struct listed l;
	uint32_t n;
	int fd;

	ctr_start(fx);
	attach_two(fx, "ctr-1");
	check_file(fx, "db_pw", "hunter2", 1000, 1001, 0440);
	check_file(fx, "app/cfg", "key=value\n", 0, 0, 0400);

	/* read-only, a noswap tmpfs, in the container only */
	mountinfo_at(fx->ctr.pid, fx->view, info, sizeof(info));
	assert_true(info[0] != '\0');
	assert_non_null(strstr(info, " ro,"));
	assert_non_null(strstr(info, " - tmpfs "));
	assert_non_null(strstr(info, "noswap"));
	/* capped to the data: two files of one page each */
	assert_non_null(strstr(info, ",size=8k,"));
	mountinfo_at(getpid(), fx->view, info, sizeof(info));
	assert_string_equal(info, "");
	fd = open(ctr_path(fx, "new", path, sizeof(path)), O_WRONLY | O_CREAT,
	    0600);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EROFS);

	list(fx, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.id, "ctr-1");
	assert_int_equal(l.pid, (uint32_t)fx->ctr.pid);
	assert_int_equal(l.count, 2);

	/* an update: db_pw changes, app/cfg goes */
	req_init(fx, &e, MNTR_PUBLISH);
	wire_put_str(&e, T_CONTAINER_ID, "ctr-1");
	put_file(&e, "db_pw", 1000, 1001, 0400, "correct horse");
	call_ok(fx, &e);
	assert_int_equal(wire_get_u32(&fx->m, T_COUNT, &n), 0);
	assert_int_equal(n, 1);
	check_file(fx, "db_pw", "correct horse", 1000, 1001, 0400);
	assert_false(ctr_has(fx, "app"));
	assert_false(ctr_has(fx, "app/cfg"));
	/* the old generation outlives the swap briefly, then goes */
	assert_true(ctr_has(fx, "..data_1/db_pw"));
	for (int i = 0; i < 50 && ctr_has(fx, "..data_1"); i++)
		usleep(100 * 1000);
	assert_false(ctr_has(fx, "..data_1"));
	assert_true(ctr_has(fx, "..data_2/db_pw"));
	/* the cap grew for the swap and is back to the one page left */
	for (int i = 0; i < 50; i++) {
		mountinfo_at(fx->ctr.pid, fx->view, info, sizeof(info));
		if (strstr(info, ",size=4k,") != NULL)
			break;
		usleep(100 * 1000);
	}
	assert_non_null(strstr(info, ",size=4k,"));
	list(fx, &l);
	assert_int_equal(l.count, 1);

	req_init(fx, &e, MNTR_DETACH);
	wire_put_str(&e, T_CONTAINER_ID, "ctr-1");
	call_ok(fx, &e);
	list(fx, &l);
	assert_int_equal(l.n, 0);
	mountinfo_at(fx->ctr.pid, fx->view, info, sizeof(info));
	assert_string_equal(info, "");
	assert_false(ctr_has(fx, "db_pw"));
}

static void
test_exit_event(void **state)
{
	struct fx *fx = *state;
	char id[64];
	struct listed l;
	struct timespec t0, t1;

	ctr_start(fx);
	attach_two(fx, "ctr-killed");
	list(fx, &l);
	assert_int_equal(l.n, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* not reaped yet: the mounter sees a zombie, then nothing */
	assert_int_equal(kill(fx->ctr.pid, SIGKILL), 0);
	recv_msg(fx, 5000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(fx->m.hdr.type, MNTR_EVENT);
	assert_int_equal(wire_get_str(&fx->m, T_CONTAINER_ID, id, sizeof(id)),
	    0);
	assert_string_equal(id, "ctr-killed");
	assert_int_equal(wire_get_str(&fx->m, T_STATUS_TEXT, id, sizeof(id)),
	    0);
	assert_string_equal(id, "exited");
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	list(fx, &l);
	assert_int_equal(l.n, 0);
}

static void
test_refused(void **state)
{
	struct fx *fx = *state;
	struct wire_enc e;
	struct listed l;

	ctr_start(fx);

	/* no pid: the schema */
	req_init(fx, &e, MNTR_ATTACH);
	wire_put_str(&e, T_CONTAINER_ID, "c");
	wire_put_str(&e, T_ROOT_PATH, fx->rootfs);
	call_refused(fx, &e, HUSH_E_PROTO, "PID");

	/* a relative rootfs */
	req_init(fx, &e, MNTR_ATTACH);
	wire_put_str(&e, T_CONTAINER_ID, "c");
	wire_put_u32(&e, T_PID, (uint32_t)fx->ctr.pid);
	wire_put_str(&e, T_ROOT_PATH, "rootfs");
	call_refused(fx, &e, HUSH_E_INVAL, "absolute");

	/* bad file names */
	attach_req(fx, &e, "c");
	put_file(&e, "../etc/passwd", 0, 0, 0400, "x");
	call_refused(fx, &e, HUSH_E_INVAL, "'..'");
	attach_req(fx, &e, "c");
	put_file(&e, "/abs", 0, 0, 0400, "x");
	call_refused(fx, &e, HUSH_E_INVAL, "relative");
	attach_req(fx, &e, "c");
	put_file(&e, "a", 0, 0, 04755, "x");
	call_refused(fx, &e, HUSH_E_INVAL, "mode");

	/* a file record without its mode */
	attach_req(fx, &e, "c");
	{
		struct wire_enc f;
		const uint8_t *b;
		size_t len;

		wire_enc_init_fields(&f, 1024);
		wire_put_str(&f, T_NAME, "a");
		wire_put_u32(&f, T_UID, 0);
		wire_put_u32(&f, T_GID, 0);
		assert_int_equal(wire_enc_finish(&f, &b, &len), 0);
		wire_put_bytes(&e, T_FILE, b, len);
		wire_enc_free(&f);
	}
	call_refused(fx, &e, HUSH_E_PROTO, "MODE");

	/* a pid that is no process, with a pidfd of another */
	req_init(fx, &e, MNTR_ATTACH);
	wire_put_str(&e, T_CONTAINER_ID, "c");
	wire_put_u32(&e, T_PID, 0x3ffffffe);
	wire_put_str(&e, T_ROOT_PATH, fx->rootfs);
	fx->send_fd = fx->ctr.pidfd;
	call_refused(fx, &e, HUSH_E_PROTO, "is not of process");
	/* no pidfd at all: a new attach must come pinned */
	attach_req(fx, &e, "c");
	fx->send_fd = -1;
	call_refused(fx, &e, HUSH_E_PROTO, "no pidfd");
	/* a pidfd on a request that takes none */
	req_init(fx, &e, MNTR_LIST);
	fx->send_fd = fx->ctr.pidfd;
	call_refused(fx, &e, HUSH_E_PROTO, "a descriptor came with");

	/* unknown containers */
	req_init(fx, &e, MNTR_PUBLISH);
	wire_put_str(&e, T_CONTAINER_ID, "nobody");
	call_refused(fx, &e, HUSH_E_NOTFOUND, "nobody");
	req_init(fx, &e, MNTR_DETACH);
	wire_put_str(&e, T_CONTAINER_ID, "nobody");
	call_refused(fx, &e, HUSH_E_NOTFOUND, "nobody");

	/* nothing was left behind by all that */
	list(fx, &l);
	assert_int_equal(l.n, 0);

	/* a duplicate attach, after a good one */
	attach_two(fx, "dup");
	attach_req(fx, &e, "dup");
	call_refused(fx, &e, HUSH_E_EXISTS, "already");
	/* an existing mount is refused unless forced */
	attach_req(fx, &e, "other");
	call_refused(fx, &e, HUSH_E_INUSE, "mount point");
	attach_req(fx, &e, "other");
	wire_put_bool(&e, T_FORCE, true);
	put_file(&e, "top", 0, 0, 0444, "on top");
	call_ok(fx, &e);
	check_file(fx, "top", "on top", 0, 0, 0444);

	/* still serving */
	list(fx, &l);
	assert_int_equal(l.n, 2);
}

/* mnt_files_decode() alone, on hand-made MNTR_PUBLISH messages. */
static int
decode(void (*build)(struct wire_enc *), struct mnt_files *fs, char *why,
    size_t whylen)
{
	static struct wire_msg m;
	struct wire_enc e;
	const uint8_t *b;
	size_t l;
	int r;

	wire_enc_init(&e, MNTR_PUBLISH, 1, WIRE_MAX_MSG);
	wire_put_str(&e, T_CONTAINER_ID, "c");
	build(&e);
	assert_int_equal(wire_enc_finish(&e, &b, &l), 0);
	assert_int_equal(wire_decode(b, l, WIRE_MAX_MSG, &m), 0);
	r = mnt_files_decode(&m, fs, why, whylen);
	if (r == 0) {
		/* names are copies; data must point into the message */
		for (size_t i = 0; i < fs->n; i++)
			assert_true(fs->f[i].len == 0 ||
			    (fs->f[i].data >= b && fs->f[i].data < b + l));
	}
	wire_enc_free(&e);
	return r;
}

static void b_good(struct wire_enc *e)
{
	put_file(e, "a", 1, 2, 0400, "x");
	put_file(e, "d/b", 3, 4, 0644, NULL);
}
static void b_garbage(struct wire_enc *e)
{
	wire_put_bytes(e, T_FILE, "\x00\x10\xff\xff", 4);
}
static void b_truncated(struct wire_enc *e)
{
	/* T_NAME claiming 100 bytes, carrying 1 */
	wire_put_bytes(e, T_FILE, "\x00\x10\x00\x00\x00\x64" "a", 7);
}
static void b_no_mode(struct wire_enc *e)
{
	struct wire_enc f;
	const uint8_t *b;
	size_t l;

	wire_enc_init_fields(&f, 1024);
	wire_put_str(&f, T_NAME, "a");
	wire_put_u32(&f, T_UID, 0);
	wire_put_u32(&f, T_GID, 0);
	assert_int_equal(wire_enc_finish(&f, &b, &l), 0);
	wire_put_bytes(e, T_FILE, b, l);
	wire_enc_free(&f);
}
static void b_unknown_tag(struct wire_enc *e)
{
	struct wire_enc f;
	const uint8_t *b;
	size_t l;

	wire_enc_init_fields(&f, 1024);
	wire_put_str(&f, T_NAME, "a");
	wire_put_u32(&f, T_UID, 0);
	wire_put_u32(&f, T_GID, 0);
	wire_put_u32(&f, T_MODE, 0400);
	wire_put_u32(&f, T_PID, 1);
	assert_int_equal(wire_enc_finish(&f, &b, &l), 0);
	wire_put_bytes(e, T_FILE, b, l);
	wire_enc_free(&f);
}
static void b_uid_minus_1(struct wire_enc *e)
{
	put_file(e, "a", UINT32_MAX, 0, 0400, "x");
}
static void b_setuid(struct wire_enc *e)
{
	put_file(e, "a", 0, 0, 04400, "x");
}
static void b_dotdot(struct wire_enc *e)
{
	put_file(e, "a/../b", 0, 0, 0400, "x");
}
static void b_layout(struct wire_enc *e)
{
	put_file(e, "..data", 0, 0, 0400, "x");
}
static void b_ctl(struct wire_enc *e)
{
	put_file(e, "a\x1b[2J", 0, 0, 0400, "x");
}
static void b_long(struct wire_enc *e)
{
	char name[300];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	put_file(e, name, 0, 0, 0400, "x");
}

static void
test_rec_file_decode(void **state)
{
	static const struct {
		void	(*build)(struct wire_enc *);
		int	 code;
		const char *want;
	} bad[] = {
		{ b_garbage, HUSH_E_PROTO, "file 1" },
		{ b_truncated, HUSH_E_PROTO, "file 1" },
		{ b_no_mode, HUSH_E_PROTO, "MODE" },
		{ b_unknown_tag, HUSH_E_PROTO, "file 1" },
		{ b_uid_minus_1, HUSH_E_INVAL, "uid" },
		{ b_setuid, HUSH_E_INVAL, "mode" },
		{ b_dotdot, HUSH_E_INVAL, "'..'" },
		{ b_layout, HUSH_E_INVAL, "'..'" },
		{ b_ctl, HUSH_E_INVAL, "control" },
		{ b_long, HUSH_E_PROTO, "NAME" },
	};
	struct mnt_files fs;
	char why[512];
	int r;

	(void)state;
	assert_int_equal(decode(b_good, &fs, why, sizeof(why)), 0);
	assert_int_equal(fs.n, 2);
	assert_string_equal(fs.f[0].name, "a");
	assert_int_equal(fs.f[0].len, 1);
	assert_int_equal(fs.f[0].uid, 1);
	assert_int_equal(fs.f[0].gid, 2);
	assert_int_equal(fs.f[0].mode, 0400);
	assert_string_equal(fs.f[1].name, "d/b");
	assert_int_equal(fs.f[1].len, 0);	/* no T_DATA: empty */
	assert_int_equal(fs.f[1].mode, 0644);
	mnt_files_free(&fs);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		r = decode(bad[i].build, &fs, why, sizeof(why));
		if (r != bad[i].code || strstr(why, bad[i].want) == NULL)
			fail_msg("case %zu: %d '%s'; wanted %d with '%s'", i, r,
			    why, bad[i].code, bad[i].want);
		assert_int_equal(fs.n, 0);
		assert_null(fs.f);
	}
}

/* The file of an absolute target, as the container sees it. */
static const char *
abs_path(const struct fx *fx, const char *target, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/root%s%s", (int)fx->ctr.pid, fx->rootfs,
	    target);
	return buf;
}

static void
publish_abs(struct fx *fx, const char *data)
{
	struct wire_enc e;

	req_init(fx, &e, MNTR_PUBLISH);
	wire_put_str(&e, T_CONTAINER_ID, "ctr-abs");
	put_file(&e, "db_pw", 0, 0, 0400, "hunter2");
	if (data != NULL)
		put_file(&e, MOUNTER_ABS_DIR "/etc/app/db.conf", 33, 0, 0400,
		    data);
	call_ok(fx, &e);
}

static void
check_abs(const struct fx *fx, const char *data)
{
	char path[512], mnt[512], info[1024], buf[64];
	struct stat st;
	ssize_t n;
	int fd;

	abs_path(fx, "/etc/app/db.conf", path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fail_msg("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, strlen(data));
	assert_memory_equal(buf, data, (size_t)n);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 33);
	assert_int_equal(st.st_mode & 07777, 0400);
	snprintf(mnt, sizeof(mnt), "%s/etc/app/db.conf", fx->rootfs);
	mountinfo_at(fx->ctr.pid, mnt, info, sizeof(info));	/* one at most */
	assert_non_null(strstr(info, " ro,nosuid,nodev,noexec"));
	mountinfo_at(getpid(), mnt, info, sizeof(info));
	assert_string_equal(info, "");
}

static bool
abs_mounted(const struct fx *fx)
{
	char mnt[512], info[1024];

	snprintf(mnt, sizeof(mnt), "%s/etc/app/db.conf", fx->rootfs);
	mountinfo_at(fx->ctr.pid, mnt, info, sizeof(info));
	return info[0] != '\0';
}

static void
test_abs_targets(void **state)
{
	struct fx *fx = *state;
	char path[512], info[1024];
	struct wire_enc e;
	struct listed l;

	ctr_start(fx);
	attach_req(fx, &e, "ctr-abs");
	put_file(&e, "db_pw", 0, 0, 0400, "hunter2");
	put_file(&e, MOUNTER_ABS_DIR "/etc/app/db.conf", 33, 0, 0400, "v1");
	call_ok(fx, &e);
	check_abs(fx, "v1");
	/* also under its hidden name in the view */
	check_file(fx, MOUNTER_ABS_DIR "/etc/app/db.conf", "v1", 33, 0, 0400);

	publish_abs(fx, "v2");
	check_abs(fx, "v2");
	publish_abs(fx, NULL);
	assert_false(abs_mounted(fx));
	/* the empty mount point stays */
	assert_int_equal(access(abs_path(fx, "/etc/app/db.conf", path,
	    sizeof(path)), F_OK), 0);
	publish_abs(fx, "v3");
	check_abs(fx, "v3");

	req_init(fx, &e, MNTR_DETACH);
	wire_put_str(&e, T_CONTAINER_ID, "ctr-abs");
	call_ok(fx, &e);
	assert_false(abs_mounted(fx));
	mountinfo_at(fx->ctr.pid, fx->view, info, sizeof(info));
	assert_string_equal(info, "");

	/* a symlink on the way: refused, and the view is taken away too */
	snprintf(path, sizeof(path), "%s/opt", fx->rootfs);
	assert_int_equal(symlink("/tmp", path), 0);
	attach_req(fx, &e, "ctr-abs2");
	put_file(&e, "db_pw", 0, 0, 0400, "hunter2");
	put_file(&e, MOUNTER_ABS_DIR "/opt/hush-test-abs.conf", 33, 0, 0400,
	    "v1");
	call_refused(fx, &e, HUSH_E_PERM, "symlink");
	mountinfo_at(fx->ctr.pid, fx->view, info, sizeof(info));
	assert_string_equal(info, "");
	assert_int_equal(access("/tmp/hush-test-abs.conf", F_OK), -1);
	list(fx, &l);
	assert_int_equal(l.n, 0);
}

static void
test_proc_start(void **state)
{
	uint64_t a, b;
	bool dead;
	pid_t pid;

	(void)state;
	assert_int_equal(proc_start_time(getpid(), &a, &dead), 0);
	assert_false(dead);
	assert_int_equal(proc_start_time(getpid(), &b, &dead), 0);
	assert_true(a == b && a > 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(0);
	/* a zombie until reaped */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(proc_start_time(pid, &b, &dead), 0);
		if (dead)
			break;
		usleep(10000);
	}
	assert_true(dead);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(proc_start_time(pid, &b, &dead), HUSH_E_NOTFOUND);
}

/*
 * What hushd does after its mounter died: the process is gone with its
 * table and writable fds, the views stay in the containers.  Killed for
 * real here, and a new one spawned, as the parent's supervisor does.
 */
static void
mounter_restart(struct fx *fx)
{
	int st;

	chan_msg_free(&fx->cm);
	assert_int_equal(kill(fx->mounter.pid, SIGKILL), 0);
	assert_int_equal(waitpid(fx->mounter.pid, &st, 0), fx->mounter.pid);
	assert_true(WIFSIGNALED(st));
	chan_close(&fx->mounter.ch);
	child_init(&fx->mounter, &mounter_child);
	assert_int_equal(child_spawn_here(&fx->mounter), 0);
}

static void
adopt_req(struct fx *fx, struct wire_enc *e, const char *id, uint64_t view,
    uint64_t start)
{
	attach_req(fx, e, id);
	wire_put_bool(e, T_ADOPT, true);
	wire_put_u64(e, T_VIEW_ID, view);
	wire_put_u64(e, T_START_TIME, start);
}

static void
test_adopt(void **state)
{
	struct fx *fx = *state;
	char info[1024];
	struct wire_enc e;
	struct listed l;
	uint64_t view, start, v2, s2;
	uint32_t n;

	ctr_start(fx);
	attach_two(fx, "ctr-a");
	assert_int_equal(wire_get_u64(&fx->m, T_VIEW_ID, &view), 0);
	assert_int_equal(wire_get_u64(&fx->m, T_START_TIME, &start), 0);

	mounter_restart(fx);
	/* the container keeps what it had; the new mounter holds nothing */
	check_file(fx, "db_pw", "hunter2", 1000, 1001, 0440);
	list(fx, &l);
	assert_int_equal(l.n, 0);

	/* refused, and the view is left as it was */
	adopt_req(fx, &e, "ctr-a", view, start + 1);
	put_file(&e, "db_pw", 1000, 1001, 0440, "wrong");
	call_refused(fx, &e, HUSH_E_NOTFOUND, "is not the one");
	adopt_req(fx, &e, "ctr-a", view + 1, start);
	put_file(&e, "db_pw", 1000, 1001, 0440, "wrong");
	call_refused(fx, &e, HUSH_E_NOTFOUND, "not on top");
	attach_req(fx, &e, "ctr-a");
	wire_put_bool(&e, T_ADOPT, true);
	call_refused(fx, &e, HUSH_E_PROTO, "mount id");
	check_file(fx, "db_pw", "hunter2", 1000, 1001, 0440);
	list(fx, &l);
	assert_int_equal(l.n, 0);

	/* adopted with a new set: a new value, app/cfg revoked; and with no
	 * pidfd, as after hushd restarted: the mounter pins it itself */
	adopt_req(fx, &e, "ctr-a", view, start);
	fx->send_fd = -1;
	put_file(&e, "db_pw", 1000, 1001, 0400, "rotated");
	call_ok(fx, &e);
	assert_int_equal(wire_get_u32(&fx->m, T_COUNT, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(wire_get_u64(&fx->m, T_VIEW_ID, &v2), 0);
	assert_int_equal(wire_get_u64(&fx->m, T_START_TIME, &s2), 0);
	assert_true(v2 == view && s2 == start);
	check_file(fx, "db_pw", "rotated", 1000, 1001, 0400);
	assert_false(ctr_has(fx, "app"));
	/* the previous set is pruned soon after, as after a publish */
	for (int i = 0; i < 50 && ctr_has(fx, "..data_1"); i++)
		usleep(100 * 1000);
	assert_false(ctr_has(fx, "..data_1"));
	mountinfo_at(fx->ctr.pid, fx->view, info, sizeof(info));
	assert_non_null(strstr(info, " ro,"));
	list(fx, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.id, "ctr-a");
	assert_int_equal(l.count, 1);

	/* held like any attach: updates, a second adopt refused, detach */
	req_init(fx, &e, MNTR_PUBLISH);
	wire_put_str(&e, T_CONTAINER_ID, "ctr-a");
	call_ok(fx, &e);
	assert_false(ctr_has(fx, "db_pw"));
	adopt_req(fx, &e, "ctr-a", view, start);
	call_refused(fx, &e, HUSH_E_EXISTS, "already");
	req_init(fx, &e, MNTR_DETACH);
	wire_put_str(&e, T_CONTAINER_ID, "ctr-a");
	call_ok(fx, &e);
	mountinfo_at(fx->ctr.pid, fx->view, info, sizeof(info));
	assert_string_equal(info, "");
	/* and once it is gone, there is nothing to adopt */
	adopt_req(fx, &e, "ctr-a", view, start);
	call_refused(fx, &e, HUSH_E_NOTFOUND, "/run/secrets");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rec_file_decode),
		cmocka_unit_test(test_proc_start),
		cmocka_unit_test_setup_teardown(test_attach_publish_detach,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_event, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abs_targets, setup,
		    teardown),
	};
	const char *step;
	int r;

	log_init("test", LOG_LVL_WARN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hush-mounter.XXXXXX");
	if ((step = ns_private_tmpdir(tmpdir)) != NULL) {
		fprintf(stderr, "%s: %s (tests need root)\n", step, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	ns_tmpdir_remove(tmpdir);
	return r;
}
