/*
 * secretfs against the real kernel, as root.
 *
 * Each test first moves this process into a mount namespace of its own,
 * private all the way down, and mounts a tmpfs on its temporary directory:
 * no mount made here can reach the host, and the host only ever sees an
 * empty directory come and go.  A "container" is a forked child that
 * unshares its mount namespace again and waits; we look into it through
 * /proc/PID/root and /proc/PID/mountinfo, or from a helper that setns()es
 * into it.  Children report through their exit status: cmocka's asserts
 * run in this process only.
 */
#include <dirent.h>
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
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "ns_fixture.h"
#include "secretfs.h"

#define TARGET		"/run/secrets"
/* The container of fx as secretfs takes it, with root as its rootfs path. */
#define CTR(fx, r)	(&(struct secretfs_ctr){ (fx)->ctr.pid, (fx)->ctr.pidfd, (r) })
#define BLOB		4096
#define READS		10000

struct fx {
	char	 dir[64];	/* our temporary dir, a private tmpfs */
	char	 rootfs[96];	/* <dir>/rootfs */
	char	 view[160];	/* <rootfs>/run/secrets */
	struct ns_ctr	 ctr;	/* the container */
	int	 wfd;
	int	 rofd;
};

/* ---- plumbing ---------------------------------------------------------- */

static void
mkdirs(const char *base, const char *rel)
{
	char path[512];
	char *p;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	for (p = path + strlen(base) + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		if ((*p = c) == '\0')
			break;
	}
}

static int
setup(void **state)
{
	struct fx *fx;
	const char *step;

	assert_non_null(fx = calloc(1, sizeof(*fx)));
	ns_ctr_init(&fx->ctr);
	fx->wfd = fx->rofd = -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/hush-secretfs.XXXXXX");
	if ((step = ns_private_tmpdir(fx->dir)) != NULL)
		fail_msg("%s: %s (tests need root)", step, strerror(errno));
	snprintf(fx->rootfs, sizeof(fx->rootfs), "%s/rootfs", fx->dir);
	snprintf(fx->view, sizeof(fx->view), "%s" TARGET, fx->rootfs);
	assert_int_equal(mkdir(fx->rootfs, 0755), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	ns_ctr_stop(&fx->ctr);
	if (fx->wfd != -1)
		close(fx->wfd);
	if (fx->rofd != -1)
		close(fx->rofd);
	ns_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* A process that has ended and been reaped, and a pidfd of it. */
static pid_t
gone_process(int *pidfd)
{
	pid_t pid;

	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		_exit(0);
	assert_true((*pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) >= 0);
	assert_int_equal(ns_wait_child(pid), 0);
	return pid;
}

/* Forks a helper in the container's mount namespace running fn(arg). */
static pid_t
in_ctr_start(const struct fx *fx, int (*fn)(const struct fx *, void *),
    void *arg)
{
	char path[64];
	pid_t pid;
	int fd;

	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)fx->ctr.pid);
		if ((fd = open(path, O_RDONLY)) == -1 ||
		    setns(fd, CLONE_NEWNS) == -1)
			_exit(99);
		_exit(fn(fx, arg));
	}
	return pid;
}

static int
in_ctr(const struct fx *fx, int (*fn)(const struct fx *, void *), void *arg)
{
	return ns_wait_child(in_ctr_start(fx, fn, arg));
}

/* A path in the container's view, reached from here. */
static const char *
ctr_path(const struct fx *fx, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/root%s%s%s", (int)fx->ctr.pid, fx->view,
	    rel[0] != '\0' ? "/" : "", rel);
	return buf;
}

static size_t
slurp(const char *path, char *buf, size_t cap)
{
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fail_msg("open %s: %s", path, strerror(errno));
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	return len;
}

static void
publish_ok(int wfd, const struct secretfs_file *f, size_t n)
{
	char why[512] = "";
	int r;

	if ((r = secretfs_publish(wfd, f, n, why, sizeof(why))) != 0)
		fail_msg("publish: %s: %s", hush_strerror(r), why);
}

/* A fresh tmpfs with files, its read-only view, attached in a container. */
static void
bring_up(struct fx *fx, size_t cap, const struct secretfs_file *f, size_t n)
{
	char why[512] = "";
	int r;

	if ((r = secretfs_create(cap, &fx->wfd, why, sizeof(why))) != 0)
		fail_msg("create: %s: %s", hush_strerror(r), why);
	publish_ok(fx->wfd, f, n);
	if ((r = secretfs_ro_view(fx->wfd, &fx->rofd, why, sizeof(why))) != 0)
		fail_msg("ro_view: %s: %s", hush_strerror(r), why);
	ns_ctr_start(&fx->ctr, -1);
	if ((r = secretfs_attach(fx->rofd, CTR(fx, fx->rootfs), TARGET, 0, why,
	    sizeof(why))) != 0)
		fail_msg("attach: %s: %s", hush_strerror(r), why);
}

/* ---- mountinfo --------------------------------------------------------- */

struct mnt {
	char	opts[256];	/* per-mount: "ro,nosuid,..." */
	char	fstype[32];
	char	super[256];	/* superblock: "rw,size=64k,..." */
};

/*
 * How many mounts /proc/PID/mountinfo lists at path; m gets the one on
 * top: the one no other mount there sits on.  (The listing is in order of
 * mount id, not of stacking.)
 */
static int
mounts_at(pid_t pid, const char *path, struct mnt *m)
{
	char file[64], *line = NULL, *tok[64], *save, *p;
	unsigned long ids[8], parents[8];
	struct mnt found[8];
	size_t cap = 0;
	int count = 0, nt, dash, top = -1;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%d/mountinfo", (int)pid);
	assert_non_null(f = fopen(file, "r"));
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		nt = 0;
		for (p = strtok_r(line, " ", &save); p != NULL && nt < 64;
		    p = strtok_r(NULL, " ", &save))
			tok[nt++] = p;
		for (dash = 6; dash < nt && strcmp(tok[dash], "-") != 0; dash++)
			;
		if (nt < 6 || dash + 3 >= nt || strcmp(tok[4], path) != 0)
			continue;
		assert_true(count < 8);
		ids[count] = strtoul(tok[0], NULL, 10);
		parents[count] = strtoul(tok[1], NULL, 10);
		snprintf(found[count].opts, sizeof(found[count].opts), "%s",
		    tok[5]);
		snprintf(found[count].fstype, sizeof(found[count].fstype), "%s",
		    tok[dash + 1]);
		snprintf(found[count].super, sizeof(found[count].super), "%s",
		    tok[dash + 3]);
		count++;
	}
	free(line);
	fclose(f);
	for (int i = 0; i < count && top == -1; i++) {
		top = i;
		for (int k = 0; k < count; k++)
			if (parents[k] == ids[i])
				top = -1;
	}
	if (m != NULL && count > 0) {
		assert_true(top != -1);
		*m = found[top];
	}
	return count;
}

/* Whether the comma-separated list has opt exactly. */
static bool
has_opt(const char *list, const char *opt)
{
	size_t len = strlen(opt);
	const char *p;

	for (p = list; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")]
	    == ',')) {
		if (strncmp(p, opt, len) == 0 && (p[len] == ',' ||
		    p[len] == '\0'))
			return true;
	}
	return false;
}

/* ---- tmpfs snapshots --------------------------------------------------- */

struct snap {
	char	buf[16384];
	size_t	len;
};

/* Everything under dirfd/name: type, owner, mode, link target, content. */
static void
snap_walk(int dirfd, const char *path, struct snap *s)
{
	char target[512], data[256], sub[512];
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *d;
	int fd;

	assert_true((fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY)) >= 0);
	assert_non_null(d = fdopendir(fd));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		assert_int_equal(fstatat(dirfd, sub, &st, AT_SYMLINK_NOFOLLOW),
		    0);
		s->len += (size_t)snprintf(s->buf + s->len, sizeof(s->buf) -
		    s->len, "%s %o %u:%u", sub, (unsigned int)st.st_mode,
		    (unsigned int)st.st_uid, (unsigned int)st.st_gid);
		if (S_ISLNK(st.st_mode)) {
			assert_true((n = readlinkat(dirfd, sub, target,
			    sizeof(target) - 1)) > 0);
			target[n] = '\0';
			s->len += (size_t)snprintf(s->buf + s->len,
			    sizeof(s->buf) - s->len, " -> %s", target);
		} else if (S_ISREG(st.st_mode)) {
			assert_true((fd = openat(dirfd, sub, O_RDONLY)) >= 0);
			n = read(fd, data, sizeof(data) - 1);
			close(fd);
			assert_true(n >= 0);
			data[n] = '\0';
			s->len += (size_t)snprintf(s->buf + s->len,
			    sizeof(s->buf) - s->len, " '%s'", data);
		}
		s->len += (size_t)snprintf(s->buf + s->len, sizeof(s->buf) -
		    s->len, "\n");
		assert_true(s->len < sizeof(s->buf) - 1);
		if (S_ISDIR(st.st_mode))
			snap_walk(dirfd, sub, s);
	}
	closedir(d);
}

static void
snapshot(int wfd, struct snap *s)
{
	s->len = 0;
	s->buf[0] = '\0';
	snap_walk(wfd, ".", s);
}

/* ---- the set most tests publish ---------------------------------------- */

static const char pw1[] = "hunter2";
static const char key1[] = "-----BEGIN PRIVATE KEY-----\nabc\n";
static const char cfg1[] = "db=postgres\n";

static const struct secretfs_file set1[] = {
	{ "db_pw", (const uint8_t *)pw1, sizeof(pw1) - 1, 1000, 1001, 0400 },
	{ "tls.key", (const uint8_t *)key1, sizeof(key1) - 1, 0, 1002, 0440 },
	{ "app/cfg", (const uint8_t *)cfg1, sizeof(cfg1) - 1, 1003, 1004,
	    0444 },
};
#define NSET1	(sizeof(set1) / sizeof(set1[0]))

static void
check_file(const struct fx *fx, const struct secretfs_file *f)
{
	char path[512], buf[256];
	struct stat st;

	ctr_path(fx, f->name, path, sizeof(path));
	assert_int_equal(slurp(path, buf, sizeof(buf)), f->len);
	assert_memory_equal(buf, f->data, f->len);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_uid, f->uid);
	assert_int_equal(st.st_gid, f->gid);
	assert_int_equal(st.st_mode & 07777, f->mode);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_create_publish_attach(void **state)
{
	struct fx *fx = *state;
	char path[512], target[64];
	struct stat st;
	struct mnt m;
	ssize_t n;

	bring_up(fx, 64 * 1024, set1, NSET1);
	for (size_t i = 0; i < NSET1; i++)
		check_file(fx, &set1[i]);

	/* the layout */
	n = readlink(ctr_path(fx, "..data", path, sizeof(path)), target,
	    sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "..data_1");
	n = readlink(ctr_path(fx, "app", path, sizeof(path)), target,
	    sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "..data/app");
	assert_int_equal(stat(ctr_path(fx, "", path, sizeof(path)), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(stat(ctr_path(fx, "..data_1/app", path, sizeof(path)),
	    &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	/* attach made rootfs/run and rootfs/run/secrets */
	snprintf(path, sizeof(path), "%s/run", fx->rootfs);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);

	/* mounted in the container, read-only, with the options asked for */
	assert_int_equal(mounts_at(fx->ctr.pid, fx->view, &m), 1);
	assert_string_equal(m.fstype, "tmpfs");
	assert_true(has_opt(m.opts, "ro"));
	assert_true(has_opt(m.opts, "nosuid"));
	assert_true(has_opt(m.opts, "nodev"));
	assert_true(has_opt(m.opts, "noexec"));
	assert_true(has_opt(m.super, "noswap"));
	assert_true(has_opt(m.super, "size=64k"));
	assert_true(has_opt(m.super, "mode=755"));
	/* and nowhere in our namespace */
	assert_int_equal(mounts_at(getpid(), fx->view, NULL), 0);
}

static int
try_write(const struct fx *fx, void *arg)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/new", fx->view);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) != -1)
		return 1;
	if (errno != EROFS)
		return 2;
	snprintf(path, sizeof(path), "%s/db_pw", fx->view);
	if ((fd = open(path, O_WRONLY | O_TRUNC)) != -1)
		return 3;
	if (errno != EROFS)
		return 4;
	snprintf(path, sizeof(path), "%s/..data_1/db_pw", fx->view);
	if (unlink(path) != -1 || errno != EROFS)
		return 5;
	return 0;
}

static void
test_view_read_only(void **state)
{
	struct fx *fx = *state;
	char why[256];
	int fd;

	bring_up(fx, 64 * 1024, set1, NSET1);
	/* root in the container cannot write: the mount is read-only */
	assert_int_equal(in_ctr(fx, try_write, NULL), 0);

	/* a second view of our own, before it is attached anywhere */
	close(fx->rofd);
	assert_int_equal(secretfs_ro_view(fx->wfd, &fx->rofd, why,
	    sizeof(why)), 0);
	fd = openat(fx->rofd, "x", O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EROFS);
	/* while the writable mount still writes */
	assert_true((fd = openat(fx->wfd, "scratch", O_WRONLY | O_CREAT |
	    O_EXCL, 0600)) >= 0);
	close(fd);
	assert_int_equal(unlinkat(fx->wfd, "scratch", 0), 0);
}

static void
test_republish(void **state)
{
	static const char pw2[] = "correct horse battery staple";
	const struct secretfs_file set2[] = {
		{ "db_pw", (const uint8_t *)pw2, sizeof(pw2) - 1, 1000, 1001,
		    0440 },
		set1[2],
	};
	struct fx *fx = *state;
	char path[512], buf[256], target[64];
	struct stat st;
	ssize_t n;
	int old;

	bring_up(fx, 64 * 1024, set1, NSET1);
	/* a reader that opened the old file keeps the old content */
	assert_true((old = open(ctr_path(fx, "db_pw", path, sizeof(path)),
	    O_RDONLY)) >= 0);

	publish_ok(fx->wfd, set2, 2);
	check_file(fx, &set2[0]);
	check_file(fx, &set2[1]);
	assert_int_equal(lstat(ctr_path(fx, "tls.key", path, sizeof(path)),
	    &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(lstat(ctr_path(fx, "..data_1", path, sizeof(path)),
	    &st), -1);
	assert_int_equal(errno, ENOENT);
	n = readlink(ctr_path(fx, "..data", path, sizeof(path)), target,
	    sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "..data_2");

	n = read(old, buf, sizeof(buf));
	assert_int_equal(n, sizeof(pw1) - 1);
	assert_memory_equal(buf, pw1, sizeof(pw1) - 1);
	close(old);

	/* an empty set: every name goes, the layout stays */
	publish_ok(fx->wfd, NULL, 0);
	assert_int_equal(lstat(ctr_path(fx, "db_pw", path, sizeof(path)), &st),
	    -1);
	assert_int_equal(lstat(ctr_path(fx, "app", path, sizeof(path)), &st),
	    -1);
	assert_int_equal(lstat(ctr_path(fx, "..data_2", path, sizeof(path)),
	    &st), -1);
	assert_int_equal(stat(ctr_path(fx, "..data_3", path, sizeof(path)),
	    &st), 0);
	/* and back */
	publish_ok(fx->wfd, set1, NSET1);
	for (size_t i = 0; i < NSET1; i++)
		check_file(fx, &set1[i]);
}

struct counts {
	long	reads;		/* complete, consistent reads */
	long	noent;		/* opens that lost to a removal */
	long	mixed;
	long	shortr;
	long	errors;
	long	a;
	long	b;
};

/*
 * READS complete reads of the blob; every one must be all 'A' or all 'B'
 * and exactly BLOB bytes.  ENOENT is retried: a reader can lose the race
 * with the removal of the generation it was resolving.
 */
static int
reader(const struct fx *fx, void *arg)
{
	struct counts *c = arg;
	char path[512], buf[2 * BLOB];
	size_t len;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/blob", fx->view);
	while (c->reads < READS) {
		if ((fd = open(path, O_RDONLY)) == -1) {
			if (errno != ENOENT || ++c->noent > READS)
				return 1;
			continue;
		}
		len = 0;
		while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0)
			len += (size_t)n;
		close(fd);
		if (n == -1) {
			c->errors++;
			return 2;
		}
		if (len != BLOB) {
			c->shortr++;
			continue;
		}
		if (buf[0] != 'A' && buf[0] != 'B') {
			c->mixed++;
			continue;
		}
		if (memchr(buf, buf[0] == 'A' ? 'B' : 'A', len) != NULL ||
		    memcmp(buf, buf + 1, len - 1) != 0) {
			c->mixed++;
			continue;
		}
		c->reads++;
		if (buf[0] == 'A')
			c->a++;
		else
			c->b++;
	}
	return 0;
}

static void
test_atomic_readers(void **state)
{
	static uint8_t as[BLOB], bs[BLOB];
	struct secretfs_file f = { "blob", as, BLOB, 1000, 1000, 0444 };
	struct fx *fx = *state;
	struct counts *c;
	long publishes = 0;
	pid_t pid;
	int st;

	memset(as, 'A', sizeof(as));
	memset(bs, 'B', sizeof(bs));
	/* room for two blobs, as the swap needs */
	bring_up(fx, 3 * BLOB, &f, 1);
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	assert_true(c != MAP_FAILED);
	memset(c, 0, sizeof(*c));

	pid = in_ctr_start(fx, reader, c);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		f.data = (publishes++ % 2 == 0) ? bs : as;
		publish_ok(fx->wfd, &f, 1);
	}
	print_message("%ld reads, %ld publishes, A %ld, B %ld, ENOENT "
	    "retried %ld\n", c->reads, publishes, c->a, c->b, c->noent);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(c->reads, READS);
	assert_int_equal(c->mixed, 0);
	assert_int_equal(c->shortr, 0);
	assert_int_equal(c->errors, 0);
	/* the test means something only if the content did change under it */
	assert_true(c->a > 0);
	assert_true(c->b > 0);
	assert_true(publishes > 10);
	/*
	 * Losing the race with a removal takes a reader preempted at just
	 * the wrong moment: a few per thousand publishes here.  One per
	 * publish would mean the set is not swapped in one step.
	 */
	if (c->noent > publishes / 4 + 10)
		fail_msg("ENOENT %ld times in %ld publishes", c->noent,
		    publishes);
	munmap(c, sizeof(*c));
}

static void
expect_attach_refused(struct fx *fx, const char *what)
{
	char why[512] = "";
	int r;

	r = secretfs_attach(fx->rofd, CTR(fx, fx->rootfs), TARGET, 0, why,
	    sizeof(why));
	assert_int_equal(r, HUSH_E_PERM);
	if (strstr(why, what) == NULL || strstr(why, "symlink") == NULL)
		fail_msg("why does not name %s: %s", what, why);
}

/* Nothing mounted, and no "secrets" made, at dir or below the rootfs. */
static void
assert_untouched(const struct fx *fx, const char *dir)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/secrets", dir);
	assert_int_equal(mounts_at(fx->ctr.pid, path, NULL), 0);
	assert_int_equal(lstat(path, &st), -1);
	snprintf(path, sizeof(path), "%s%s/secrets", fx->rootfs, dir);
	assert_int_equal(mounts_at(fx->ctr.pid, path, NULL), 0);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(mounts_at(fx->ctr.pid, fx->view, NULL), 0);
}

static void
test_hostile_rootfs(void **state)
{
	struct fx *fx = *state;
	char outside[128], run[160], rel[256], why[256], path[512];
	struct stat st;

	assert_int_equal(secretfs_create(16384, &fx->wfd, why, sizeof(why)), 0);
	publish_ok(fx->wfd, set1, NSET1);
	assert_int_equal(secretfs_ro_view(fx->wfd, &fx->rofd, why,
	    sizeof(why)), 0);
	ns_ctr_start(&fx->ctr, -1);

	/* a host directory the image would like us to mount over */
	snprintf(outside, sizeof(outside), "%s/outside", fx->dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(run, sizeof(run), "%s/run", fx->rootfs);

	/* /run -> <host dir>: absolute */
	assert_int_equal(symlink(outside, run), 0);
	expect_attach_refused(fx, "/run ");
	assert_untouched(fx, outside);

	/* /run -> ../../../<host dir>: climbing out */
	assert_int_equal(unlink(run), 0);
	snprintf(rel, sizeof(rel), "../../../../../../..%s", outside);
	assert_int_equal(symlink(rel, run), 0);
	expect_attach_refused(fx, "/run ");
	assert_untouched(fx, outside);

	/* /run -> /var/run, inside the rootfs: refused all the same */
	assert_int_equal(unlink(run), 0);
	mkdirs(fx->rootfs, "var/run");
	assert_int_equal(symlink("/var/run", run), 0);
	expect_attach_refused(fx, "/run ");
	snprintf(path, sizeof(path), "%s/var/run/secrets", fx->rootfs);
	assert_int_equal(lstat(path, &st), -1);

	/* the last component: /run/secrets -> <host dir> */
	assert_int_equal(unlink(run), 0);
	assert_int_equal(mkdir(run, 0755), 0);
	assert_int_equal(symlink(outside, fx->view), 0);
	expect_attach_refused(fx, "/run/secrets ");
	assert_int_equal(mounts_at(fx->ctr.pid, outside, NULL), 0);

	/* a dangling one: mkdir sees EEXIST, the reopen refuses it */
	assert_int_equal(unlink(fx->view), 0);
	assert_int_equal(symlink("/nonexistent", fx->view), 0);
	expect_attach_refused(fx, "/run/secrets ");
	assert_int_equal(lstat("/nonexistent", &st), -1);

	/* refusals leave the mount detached and usable */
	assert_int_equal(unlink(fx->view), 0);
	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, fx->rootfs), TARGET,
	    0, why, sizeof(why)), 0);
	assert_int_equal(mounts_at(fx->ctr.pid, fx->view, NULL), 1);
	check_file(fx, &set1[0]);
	assert_int_equal(mounts_at(fx->ctr.pid, outside, NULL), 0);
	assert_int_equal(mounts_at(getpid(), fx->view, NULL), 0);
}

static int
premount(const struct fx *fx, void *arg)
{
	char path[512];
	int fd;

	if (mount("tmpfs", fx->view, "tmpfs", 0, "size=4k") == -1)
		return 1;
	snprintf(path, sizeof(path), "%s/podman-secret", fx->view);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0400)) == -1)
		return 2;
	close(fd);
	return 0;
}

static void
test_over_mount(void **state)
{
	struct fx *fx = *state;
	char why[512] = "", path[512];
	struct stat st;
	struct mnt m;

	assert_int_equal(secretfs_create(16384, &fx->wfd, why, sizeof(why)), 0);
	publish_ok(fx->wfd, set1, NSET1);
	assert_int_equal(secretfs_ro_view(fx->wfd, &fx->rofd, why,
	    sizeof(why)), 0);
	ns_ctr_start(&fx->ctr, -1);
	/* the runtime's own secrets, mounted in the container only */
	mkdirs(fx->rootfs, "run/secrets");
	assert_int_equal(in_ctr(fx, premount, NULL), 0);

	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, fx->rootfs), TARGET,
	    0, why, sizeof(why)), HUSH_E_INUSE);
	if (strstr(why, TARGET) == NULL || strstr(why, "mount point") == NULL ||
	    strstr(why, "tmpfs") == NULL)
		fail_msg("why does not say what is there: %s", why);
	print_message("refused: %s\n", why);
	assert_int_equal(mounts_at(fx->ctr.pid, fx->view, NULL), 1);
	assert_int_equal(stat(ctr_path(fx, "podman-secret", path, sizeof(path)),
	    &st), 0);

	/* asked to, we stack on top and hide it */
	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, fx->rootfs), TARGET,
	    SECRETFS_ALLOW_OVER_MOUNT, why, sizeof(why)), 0);
	assert_int_equal(mounts_at(fx->ctr.pid, fx->view, &m), 2);
	assert_true(has_opt(m.opts, "ro"));
	assert_true(has_opt(m.super, "noswap"));
	check_file(fx, &set1[0]);
	assert_int_equal(stat(ctr_path(fx, "podman-secret", path, sizeof(path)),
	    &st), -1);
}

static void
test_attach_args(void **state)
{
	struct fx *fx = *state;
	char why[256];
	pid_t gone;
	int gonefd;

	assert_int_equal(secretfs_create(4096, &fx->wfd, why, sizeof(why)), 0);
	assert_int_equal(secretfs_ro_view(fx->wfd, &fx->rofd, why,
	    sizeof(why)), 0);
	ns_ctr_start(&fx->ctr, -1);
	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, "rootfs"), TARGET,
	    0, why, sizeof(why)), HUSH_E_INVAL);
	/* a container not pinned by a pidfd */
	assert_int_equal(secretfs_attach(fx->rofd, &(struct secretfs_ctr){
	    fx->ctr.pid, -1, fx->rootfs }, TARGET, 0, why, sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, fx->rootfs),
	    "/run/../etc", 0, why, sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, fx->rootfs), "/", 0,
	    why, sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, fx->rootfs),
	    "/run//secrets", 0, why, sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, fx->rootfs), TARGET,
	    0x80, why, sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, fx->rootfs), NULL,
	    0, why, sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_attach(-1, CTR(fx, fx->rootfs), TARGET, 0,
	    why, sizeof(why)), HUSH_E_INVAL);
	/* a rootfs that is not there (in the container) */
	assert_int_equal(secretfs_attach(fx->rofd, CTR(fx, "/nonexistent/rfs"),
	    TARGET, 0, why, sizeof(why)), HUSH_E_NOTFOUND);
	assert_non_null(strstr(why, "/nonexistent/rfs"));
	/* a process that is gone */
	gone = gone_process(&gonefd);
	assert_int_equal(secretfs_attach(fx->rofd, &(struct secretfs_ctr){
	    gone, gonefd, fx->rootfs }, TARGET, 0, why, sizeof(why)),
	    HUSH_E_NOTFOUND);
	/* a live pid, but the pidfd of another process: the pidfd wins */
	assert_int_equal(secretfs_attach(fx->rofd, &(struct secretfs_ctr){
	    fx->ctr.pid, gonefd, fx->rootfs }, TARGET, 0, why, sizeof(why)),
	    HUSH_E_NOTFOUND);
	close(gonefd);
	/* and nothing was attached by any of it */
	assert_int_equal(mounts_at(fx->ctr.pid, fx->view, NULL), 0);
}

static void
test_names(void **state)
{
	static const char *const bad[] = {
		"", "/abs", "../x", "a/../b", "..", ".", "./a", "a/.", "a/./b",
		"..data", "..data_1", "a/..b", "a/", "a//b", "/", "x\ny",
		"tab\there", "del\x7f",
	};
	static const char *const good[] = {
		"db_pw", "app/cfg", ".env", "a.b", "a/b/c/d", "x..y", "a/.b",
		"UPPER-case_1.2", "caf\xc3\xa9",
	};
	char why[256], name[SECRETFS_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (secretfs_name_ok(bad[i], why, sizeof(why)))
			fail_msg("bad name %zu accepted", i);
		assert_true(why[0] != '\0');
		assert_null(strchr(why, '\n'));
	}
	assert_false(secretfs_name_ok(NULL, why, sizeof(why)));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!secretfs_name_ok(good[i], why, sizeof(why)))
			fail_msg("good name %s refused: %s", good[i], why);
	memset(name, 'n', sizeof(name));
	name[SECRETFS_NAME_MAX] = '\0';
	assert_true(secretfs_name_ok(name, why, sizeof(why)));
	name[SECRETFS_NAME_MAX] = 'n';
	name[SECRETFS_NAME_MAX + 1] = '\0';
	assert_false(secretfs_name_ok(name, why, sizeof(why)));
	assert_non_null(strstr(why, "255"));
	/* NULL why is fine */
	assert_false(secretfs_name_ok("..", NULL, 0));
}

/* A refused publish returns code and leaves the tmpfs exactly as it was. */
static void
expect_refused(int wfd, const struct secretfs_file *f, size_t n, int code,
    const char *what)
{
	struct snap *before, *after;
	char why[512] = "";
	int r;

	assert_non_null(before = malloc(sizeof(*before)));
	assert_non_null(after = malloc(sizeof(*after)));
	snapshot(wfd, before);
	r = secretfs_publish(wfd, f, n, why, sizeof(why));
	if (r != code)
		fail_msg("%s: got %s (%s), want %s", what, hush_strerror(r),
		    why, hush_strerror(code));
	if (why[0] == '\0' || strchr(why, '\n') != NULL)
		fail_msg("%s: no one-line reason: '%s'", what, why);
	snapshot(wfd, after);
	if (before->len != after->len ||
	    memcmp(before->buf, after->buf, before->len) != 0)
		fail_msg("%s changed the tmpfs:\n%s---\n%s", what, before->buf,
		    after->buf);
	free(before);
	free(after);
}

static void
test_refused_publish(void **state)
{
	static struct secretfs_file many[SECRETFS_MAX_FILES + 1];
	static char manynames[SECRETFS_MAX_FILES + 1][8];
	static uint8_t big[5 * 4096];
	struct secretfs_file f[3];
	struct fx *fx = *state;
	char why[512], longname[SECRETFS_NAME_MAX + 2];
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *noaccess;
	int fd;

	assert_int_equal(page, 4096);
	/* room for 4 pages; set1 takes 3 */
	assert_int_equal(secretfs_create(4 * 4096, &fx->wfd, why, sizeof(why)),
	    0);
	publish_ok(fx->wfd, set1, NSET1);

#define REFUSE(idx, nm, code) do {					\
	memcpy(f, set1, sizeof(set1));					\
	f[idx].name = (nm);						\
	expect_refused(fx->wfd, f, NSET1, code, "name " #nm);		\
} while (0)
	REFUSE(0, "../x", HUSH_E_INVAL);
	REFUSE(1, "/abs", HUSH_E_INVAL);
	REFUSE(2, "a/../b", HUSH_E_INVAL);
	REFUSE(2, "..data", HUSH_E_INVAL);
	REFUSE(0, "", HUSH_E_INVAL);
	REFUSE(1, NULL, HUSH_E_INVAL);
	memset(longname, 'x', sizeof(longname));
	longname[SECRETFS_NAME_MAX + 1] = '\0';
	REFUSE(1, longname, HUSH_E_INVAL);
	REFUSE(1, "db_pw", HUSH_E_INVAL);	/* twice */
	REFUSE(0, "app", HUSH_E_INVAL);		/* file where app/ is */
	REFUSE(0, "app/cfg/x", HUSH_E_INVAL);	/* a dir where a file is */
#undef REFUSE

	memcpy(f, set1, sizeof(set1));
	f[0].mode = 04755;
	expect_refused(fx->wfd, f, NSET1, HUSH_E_INVAL, "setuid mode");
	memcpy(f, set1, sizeof(set1));
	f[0].uid = (uid_t)-1;
	expect_refused(fx->wfd, f, NSET1, HUSH_E_INVAL, "uid -1");
	memcpy(f, set1, sizeof(set1));
	f[0].data = NULL;
	expect_refused(fx->wfd, f, NSET1, HUSH_E_INVAL, "no data");
	expect_refused(fx->wfd, NULL, 1, HUSH_E_INVAL, "no files");

	for (size_t i = 0; i < SECRETFS_MAX_FILES + 1; i++) {
		snprintf(manynames[i], sizeof(manynames[i]), "f%zu", i);
		many[i] = set1[0];
		many[i].name = manynames[i];
	}
	expect_refused(fx->wfd, many, SECRETFS_MAX_FILES + 1, HUSH_E_TOOBIG,
	    "too many files");

	/* 5 pages can never fit a 4-page cap */
	memset(big, 'b', sizeof(big));
	memcpy(f, set1, sizeof(set1));
	f[0].data = big;
	f[0].len = sizeof(big);
	expect_refused(fx->wfd, f, 1, HUSH_E_TOOBIG, "larger than the cap");
	/* 2 pages fit the cap, but not beside the 3 of the current set */
	f[0].len = 2 * 4096;
	expect_refused(fx->wfd, f, 1, HUSH_E_NOSPACE, "no room beside");

	/* down to one page, so that the sets below fit beside it */
	publish_ok(fx->wfd, set1, 1);

	/*
	 * A failure half-way through writing: the kernel cannot read the
	 * last file's data (EFAULT).  The new generation must go again.
	 */
	noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	    0);
	assert_true(noaccess != MAP_FAILED);
	memcpy(f, set1, sizeof(set1));
	f[2].name = "zz_last";
	f[2].data = noaccess;
	f[2].len = 16;
	expect_refused(fx->wfd, f, NSET1, HUSH_E_SYS, "EFAULT mid-way");
	munmap(noaccess, 4096);

	/* an interrupted earlier publish's leftovers are swept */
	assert_int_equal(mkdirat(fx->wfd, "..data_77", 0700), 0);
	assert_true((fd = openat(fx->wfd, "..data_77/db_pw", O_WRONLY |
	    O_CREAT, 0600)) >= 0);
	close(fd);
	assert_int_equal(symlinkat("..data_77", fx->wfd, "..data_tmp"), 0);
	publish_ok(fx->wfd, set1, NSET1);
	assert_int_equal(faccessat(fx->wfd, "..data_77", F_OK,
	    AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(fx->wfd, "..data_tmp", F_OK,
	    AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(fx->wfd, "..data_2", F_OK,
	    AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(fx->wfd, "..data_3", F_OK, 0), 0);
	assert_int_equal(faccessat(fx->wfd, "tls.key", F_OK, 0), 0);

	/* not a tmpfs: refused before anything is swept */
	assert_true((fd = open("/proc", O_PATH | O_DIRECTORY)) >= 0);
	assert_int_equal(secretfs_publish(fd, set1, NSET1, why, sizeof(why)),
	    HUSH_E_INVAL);
	close(fd);
}

static void
test_create_args(void **state)
{
	struct fx *fx = *state;
	char why[256];
	struct mnt m;
	int fd;

	assert_int_equal(secretfs_create(SIZE_MAX, &fx->wfd, why, sizeof(why)),
	    HUSH_E_RANGE);
	assert_int_equal(fx->wfd, -1);
	assert_int_equal(secretfs_create(10, NULL, why, sizeof(why)),
	    HUSH_E_INVAL);
	assert_int_equal(secretfs_ro_view(-1, &fx->rofd, why, sizeof(why)),
	    HUSH_E_INVAL);
	/* 0 and 1 byte both give one page */
	assert_int_equal(secretfs_create(0, &fx->wfd, why, sizeof(why)), 0);
	assert_int_equal(secretfs_ro_view(fx->wfd, &fx->rofd, why, sizeof(why)),
	    0);
	mkdirs(fx->rootfs, "run/secrets");
	assert_int_equal(move_mount(fx->rofd, "", AT_FDCWD, fx->view,
	    MOVE_MOUNT_F_EMPTY_PATH), 0);
	assert_int_equal(mounts_at(getpid(), fx->view, &m), 1);
	assert_true(has_opt(m.super, "size=4k"));
	assert_true(has_opt(m.super, "noswap"));
	assert_true(has_opt(m.opts, "ro"));
	/* an fd on a mount keeps it busy */
	close(fx->rofd);
	fx->rofd = -1;
	assert_int_equal(umount2(fx->view, 0), 0);
	close(fx->wfd);
	assert_int_equal(secretfs_create(1, &fx->wfd, why, sizeof(why)), 0);
	fd = openat(fx->wfd, "x", O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "y", 1), 1);
	close(fd);
}

/* The cap follows the data: grown for a publish, shrunk after, never below use. */
static void
test_resize(void **state)
{
	static uint8_t two[2 * 4096];
	struct secretfs_file f = { "big", two, sizeof(two), 0, 0, 0400 };
	struct fx *fx = *state;
	struct statfs sfs;
	char why[256];
	struct mnt m;

	memset(two, 't', sizeof(two));
	assert_int_equal(secretfs_create(1, &fx->wfd, why, sizeof(why)), 0);
	assert_int_equal(secretfs_publish(fx->wfd, &f, 1, why, sizeof(why)),
	    HUSH_E_TOOBIG);
	assert_int_equal(secretfs_resize(fx->wfd, 4 * 4096, why, sizeof(why)), 0);
	assert_int_equal(fstatfs(fx->wfd, &sfs), 0);
	assert_int_equal(sfs.f_blocks, 4);
	publish_ok(fx->wfd, &f, 1);

	/* below what is in use: refused, the cap unchanged */
	assert_int_equal(secretfs_resize(fx->wfd, 4096, why, sizeof(why)),
	    HUSH_E_NOSPACE);
	assert_non_null(strstr(why, "resizing the tmpfs"));
	assert_int_equal(fstatfs(fx->wfd, &sfs), 0);
	assert_int_equal(sfs.f_blocks, 4);
	/* down to exactly the data */
	assert_int_equal(secretfs_resize(fx->wfd, sizeof(two), why, sizeof(why)), 0);
	assert_int_equal(fstatfs(fx->wfd, &sfs), 0);
	assert_int_equal(sfs.f_blocks, 2);
	assert_int_equal(sfs.f_bfree, 0);

	/* the attached view sees the new cap and keeps noswap */
	assert_int_equal(secretfs_ro_view(fx->wfd, &fx->rofd, why, sizeof(why)),
	    0);
	mkdirs(fx->rootfs, "run/secrets");
	assert_int_equal(move_mount(fx->rofd, "", AT_FDCWD, fx->view,
	    MOVE_MOUNT_F_EMPTY_PATH), 0);
	assert_int_equal(secretfs_resize(fx->wfd, 3 * 4096, why, sizeof(why)), 0);
	assert_int_equal(mounts_at(getpid(), fx->view, &m), 1);
	assert_true(has_opt(m.super, "size=12k"));
	assert_true(has_opt(m.super, "noswap"));
	assert_true(has_opt(m.opts, "ro"));

	assert_int_equal(secretfs_resize(-1, 4096, why, sizeof(why)),
	    HUSH_E_INVAL);
	assert_int_equal(secretfs_resize(fx->wfd, SIZE_MAX, why, sizeof(why)),
	    HUSH_E_RANGE);
}

static int
write_refused(const struct fx *fx, void *arg)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/new", fx->view);
	if (open(path, O_WRONLY | O_CREAT | O_EXCL, 0600) != -1)
		return 1;
	return errno == EROFS ? 0 : 2;
}

/*
 * The writer is lost (as when the mounter dies): its fds close, the view
 * stays in the container with the old files.  Adopting it gives a new
 * writable fd on the same tmpfs; what is published through it is what
 * the container reads, and its view stays read-only.
 */
static void
test_adopt(void **state)
{
	static const char pw2[] = "rotated";
	const struct secretfs_file set2[] = {
		{ "db_pw", (const uint8_t *)pw2, sizeof(pw2) - 1, 1000, 1001,
		    0400 },
	};
	struct fx *fx = *state;
	char why[512] = "", path[512];
	uint64_t view, wid;
	struct stat st;
	struct mnt m;
	int r;

	bring_up(fx, 3 * 4096, set1, NSET1);
	assert_int_equal(secretfs_mount_id(fx->rofd, &view, why, sizeof(why)),
	    0);
	close(fx->wfd);
	close(fx->rofd);
	fx->wfd = fx->rofd = -1;
	check_file(fx, &set1[0]);

	if ((r = secretfs_adopt(CTR(fx, fx->rootfs), TARGET, view, &fx->wfd,
	    why, sizeof(why))) != 0)
		fail_msg("adopt: %s: %s", hush_strerror(r), why);
	assert_true(fx->wfd >= 0);
	/* our own mount of the tmpfs, not the container's view */
	assert_int_equal(secretfs_mount_id(fx->wfd, &wid, why, sizeof(why)),
	    0);
	assert_true(wid != view);
	assert_int_equal(mounts_at(getpid(), fx->view, NULL), 0);

	/* a revocation and a new value, grown past the three-page cap */
	if ((r = secretfs_publish_flags(fx->wfd, set2, 1,
	    SECRETFS_KEEP_PREVIOUS | SECRETFS_GROW, why, sizeof(why))) != 0)
		fail_msg("publish through the adopted fd: %s: %s",
		    hush_strerror(r), why);
	check_file(fx, &set2[0]);
	assert_int_equal(lstat(ctr_path(fx, "tls.key", path, sizeof(path)),
	    &st), -1);
	assert_int_equal(lstat(ctr_path(fx, "app", path, sizeof(path)), &st),
	    -1);
	assert_int_equal(secretfs_prune(fx->wfd, why, sizeof(why)), 0);
	assert_int_equal(secretfs_shrink(fx->wfd, why, sizeof(why)), 0);
	assert_int_equal(lstat(ctr_path(fx, "..data_1", path, sizeof(path)),
	    &st), -1);

	/* the container's view: the same mount, still read-only */
	assert_int_equal(mounts_at(fx->ctr.pid, fx->view, &m), 1);
	assert_true(has_opt(m.opts, "ro"));
	assert_true(has_opt(m.opts, "nosuid"));
	assert_true(has_opt(m.super, "noswap"));
	assert_int_equal(in_ctr(fx, write_refused, NULL), 0);

	/* twice is fine: a second writer on the same tmpfs */
	{
		int again = -1;

		assert_int_equal(secretfs_adopt(CTR(fx, fx->rootfs), TARGET,
		    view, &again, why, sizeof(why)), 0);
		close(again);
	}
}

/* A ramfs at the target with the right id is still not ours to write. */
static void
test_adopt_refused(void **state)
{
	struct fx *fx = *state;
	char why[512] = "";
	uint64_t view, other;
	pid_t dead;
	int fd = 7, fs, ram, deadfd;

	bring_up(fx, 3 * 4096, set1, NSET1);
	assert_int_equal(secretfs_mount_id(fx->rofd, &view, why, sizeof(why)),
	    0);

	/* another id: gone, or something else is on top */
	assert_int_equal(secretfs_adopt(CTR(fx, fx->rootfs), TARGET, view + 1,
	    &fd, why, sizeof(why)), HUSH_E_NOTFOUND);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(why, "not on top at /run/secrets"));
	/* no such target */
	assert_int_equal(secretfs_adopt(CTR(fx, fx->rootfs), "/run/other",
	    view, &fd, why, sizeof(why)), HUSH_E_NOTFOUND);
	assert_non_null(strstr(why, "/run/other"));
	/* no such process */
	dead = gone_process(&deadfd);
	assert_int_equal(secretfs_adopt(&(struct secretfs_ctr){ dead, deadfd,
	    fx->rootfs }, TARGET, view, &fd, why, sizeof(why)), HUSH_E_NOTFOUND);
	close(deadfd);
	/* bad arguments */
	assert_int_equal(secretfs_adopt(CTR(fx, "rel"), TARGET, view, &fd, why,
	    sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_adopt(CTR(fx, fx->rootfs), TARGET, 0, &fd, why,
	    sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_adopt(CTR(fx, fx->rootfs), "/run/../etc",
	    view, &fd, why, sizeof(why)), HUSH_E_INVAL);

	/* a ramfs stacked on top, adopted by its own id: not a tmpfs */
	assert_true((fs = fsopen("ramfs", FSOPEN_CLOEXEC)) >= 0);
	assert_int_equal(fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0), 0);
	assert_true((ram = fsmount(fs, FSMOUNT_CLOEXEC, 0)) >= 0);
	close(fs);
	assert_int_equal(secretfs_mount_id(ram, &other, why, sizeof(why)), 0);
	assert_int_equal(secretfs_attach(ram, CTR(fx, fx->rootfs), TARGET,
	    SECRETFS_ALLOW_OVER_MOUNT, why, sizeof(why)), 0);
	close(ram);
	assert_int_equal(secretfs_adopt(CTR(fx, fx->rootfs), TARGET, other,
	    &fd, why, sizeof(why)), HUSH_E_PERM);
	assert_non_null(strstr(why, "not a tmpfs"));
	assert_int_equal(fd, -1);
	/* and ours, now underneath, is not on top any more */
	assert_int_equal(secretfs_adopt(CTR(fx, fx->rootfs), TARGET, view,
	    &fd, why, sizeof(why)), HUSH_E_NOTFOUND);
}

/* ---- single files at absolute targets ---------------------------------- */

#define ABS_NAME	"abs/etc/app/db.conf"
#define ABS_TARGET	"/etc/app/db.conf"

/* A path in the container's rootfs, reached from here. */
static const char *
ctr_rootfs_path(const struct fx *fx, const char *abs, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/root%s%s", (int)fx->ctr.pid, fx->rootfs, abs);
	return buf;
}

/* Clones name from fx->wfd and makes one change at target. */
static int
bind_one(struct fx *fx, const char *name, const char *target,
    uint64_t old_id, uint64_t *new_id, char *why, size_t whylen)
{
	struct secretfs_bind b;
	size_t done = 99;
	uint64_t id = 0;
	int fd = -1, r;

	if (name != NULL && (r = secretfs_file_clone(fx->wfd, name, &fd, &id,
	    why, whylen)) != 0)
		fail_msg("file_clone: %s: %s", hush_strerror(r), why);
	memset(&b, 0, sizeof(b));
	b.target = target;
	b.fd = fd;
	b.old_id = old_id;
	r = secretfs_binds(CTR(fx, fx->rootfs), TARGET, 0, &b, 1, &done, why, whylen);
	assert_int_equal(done, r == 0 ? 1 : 0);
	if (fd != -1)
		close(fd);
	if (new_id != NULL)
		*new_id = r == 0 ? id : 0;
	return r;
}

static int
write_fails_erofs(const struct fx *fx, void *arg)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s%s", fx->rootfs, (const char *)arg);
	if ((fd = open(path, O_WRONLY)) != -1)
		return 1;
	return errno == EROFS ? 0 : 2;
}

static void
check_abs(const struct fx *fx, const char *target, const char *data,
    uid_t uid, mode_t mode)
{
	char path[512], buf[256];
	struct stat st;
	struct mnt m;

	ctr_rootfs_path(fx, target, path, sizeof(path));
	assert_int_equal(slurp(path, buf, sizeof(buf)), strlen(data));
	assert_memory_equal(buf, data, strlen(data));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_mode & 07777, mode);
	snprintf(path, sizeof(path), "%s%s", fx->rootfs, target);
	assert_int_equal(mounts_at(fx->ctr.pid, path, &m), 1);
	assert_true(has_opt(m.opts, "ro"));
	assert_true(has_opt(m.opts, "nosuid"));
	assert_true(has_opt(m.opts, "nodev"));
	assert_true(has_opt(m.opts, "noexec"));
	assert_string_equal(m.fstype, "tmpfs");
	assert_int_equal(in_ctr(fx, write_fails_erofs, (void *)target), 0);
}

static void
test_binds(void **state)
{
	static const char v1[] = "user=app\npass=one\n";
	static const char v2[] = "user=app\npass=two\n";
	struct secretfs_file f[] = {
		{ "db_pw", (const uint8_t *)pw1, sizeof(pw1) - 1, 0, 0, 0444 },
		{ ABS_NAME, (const uint8_t *)v1, sizeof(v1) - 1, 33, 33, 0400 },
	};
	struct fx *fx = *state;
	char why[512] = "", path[512];
	struct secretfs_bind b;
	uint64_t id1, id2;
	struct stat st;

	bring_up(fx, 64 * 1024, f, 2);
	assert_int_equal(bind_one(fx, ABS_NAME, ABS_TARGET, 0, &id1, why,
	    sizeof(why)), 0);
	check_abs(fx, ABS_TARGET, v1, 33, 0400);
	/* the directories and the mount point were made, root's as /etc */
	snprintf(path, sizeof(path), "%s/etc/app", fx->rootfs);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	/* the host sees the empty mount point only, and no mount */
	snprintf(path, sizeof(path), "%s" ABS_TARGET, fx->rootfs);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(mounts_at(getpid(), path, NULL), 0);

	/* a new version: swapped beneath, one mount there still */
	f[1].data = (const uint8_t *)v2;
	publish_ok(fx->wfd, f, 2);
	assert_int_equal(bind_one(fx, ABS_NAME, ABS_TARGET, id1, &id2, why,
	    sizeof(why)), 0);
	assert_true(id2 != id1);
	check_abs(fx, ABS_TARGET, v2, 33, 0400);

	/* the old id is gone: a swap or removal by it finds nothing */
	assert_int_equal(bind_one(fx, ABS_NAME, ABS_TARGET, id1, NULL, why,
	    sizeof(why)), HUSH_E_NOTFOUND);
	check_abs(fx, ABS_TARGET, v2, 33, 0400);
	assert_int_equal(bind_one(fx, NULL, ABS_TARGET, id1, NULL, why,
	    sizeof(why)), 0);
	check_abs(fx, ABS_TARGET, v2, 33, 0400);

	/* removed: the empty mount point stays */
	assert_int_equal(bind_one(fx, NULL, ABS_TARGET, id2, NULL, why,
	    sizeof(why)), 0);
	assert_int_equal(mounts_at(fx->ctr.pid, path, NULL), 0);
	assert_int_equal(stat(ctr_rootfs_path(fx, ABS_TARGET, path,
	    sizeof(path)), &st), 0);
	assert_int_equal(st.st_size, 0);
	/* and may take a new mount */
	assert_int_equal(bind_one(fx, ABS_NAME, ABS_TARGET, 0, &id1, why,
	    sizeof(why)), 0);
	check_abs(fx, ABS_TARGET, v2, 33, 0400);

	/* removal by the file shown, its mount id unknown (adoption) */
	assert_int_equal(fstatat(fx->wfd, "..data/" ABS_NAME, &st, 0), 0);
	b = (struct secretfs_bind){ .target = ABS_TARGET, .fd = -1,
	    .dev = st.st_dev, .ino = st.st_ino + 1 };
	assert_int_equal(secretfs_binds(CTR(fx, fx->rootfs), TARGET, 0, &b, 1, NULL, why,
	    sizeof(why)), 0);
	check_abs(fx, ABS_TARGET, v2, 33, 0400);	/* another file: kept */
	b.ino = st.st_ino;
	assert_int_equal(secretfs_binds(CTR(fx, fx->rootfs), TARGET, 0, &b, 1, NULL, why,
	    sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s" ABS_TARGET, fx->rootfs);
	assert_int_equal(mounts_at(fx->ctr.pid, path, NULL), 0);
}

struct abs_counts {
	struct counts	c;
	volatile int	stop;	/* set once enough swaps were made */
};

/* Reads <rootfs>/blob until told to stop, and at least READS times. */
static int
abs_reader(const struct fx *fx, void *arg)
{
	struct abs_counts *ac = arg;
	struct counts *c = &ac->c;
	char path[512], buf[2 * BLOB];
	size_t len;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/blob", fx->rootfs);
	while (c->reads < READS || !ac->stop) {
		if ((fd = open(path, O_RDONLY)) == -1) {
			c->noent++;
			return 1;
		}
		len = 0;
		while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0)
			len += (size_t)n;
		close(fd);
		if (n == -1) {
			c->errors++;
			return 2;
		}
		if (len != BLOB) {
			c->shortr++;
			continue;
		}
		if (memchr(buf, buf[0] == 'A' ? 'B' : 'A', len) != NULL ||
		    (buf[0] != 'A' && buf[0] != 'B')) {
			c->mixed++;
			continue;
		}
		c->reads++;
		if (buf[0] == 'A')
			c->a++;
		else
			c->b++;
	}
	return 0;
}

/* Readers of a swapped file mount see the old or the new file, whole. */
static void
test_binds_atomic(void **state)
{
	static uint8_t as[BLOB], bs[BLOB];
	struct secretfs_file f = { "blob", as, BLOB, 1000, 1000, 0444 };
	struct fx *fx = *state;
	char why[512] = "";
	struct abs_counts *ac;
	struct counts *c;
	long swaps = 0;
	uint64_t id, next;
	pid_t pid;
	int st, r;

	memset(as, 'A', sizeof(as));
	memset(bs, 'B', sizeof(bs));
	/* the pinned old file counts too until its mount goes */
	bring_up(fx, 4 * BLOB, &f, 1);
	assert_int_equal(bind_one(fx, "blob", "/blob", 0, &id, why,
	    sizeof(why)), 0);
	ac = mmap(NULL, sizeof(*ac), PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	assert_true(ac != MAP_FAILED);
	memset(ac, 0, sizeof(*ac));
	c = &ac->c;

	pid = in_ctr_start(fx, abs_reader, ac);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (swaps == 300)
			ac->stop = 1;
		f.data = (swaps % 2 == 0) ? bs : as;
		publish_ok(fx->wfd, &f, 1);
		if ((r = bind_one(fx, "blob", "/blob", id, &next, why,
		    sizeof(why))) != 0)
			fail_msg("swap %ld: %s: %s", swaps, hush_strerror(r),
			    why);
		id = next;
		swaps++;
	}
	print_message("%ld reads, %ld swaps, A %ld, B %ld\n", c->reads, swaps,
	    c->a, c->b);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(c->reads >= READS);
	assert_int_equal(c->mixed, 0);
	assert_int_equal(c->shortr, 0);
	assert_int_equal(c->errors, 0);
	assert_int_equal(c->noent, 0);
	assert_true(c->a > 0);
	assert_true(c->b > 0);
	assert_true(swaps >= 300);
	/* one mount left on the path: every old one was taken away */
	snprintf(why, sizeof(why), "%s/blob", fx->rootfs);
	assert_int_equal(mounts_at(fx->ctr.pid, why, NULL), 1);
	munmap(ac, sizeof(*ac));
}

static int
premount_file(const struct fx *fx, void *arg)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", fx->rootfs, (const char *)arg);
	return mount("/dev/null", path, NULL, MS_BIND, NULL) == -1;
}

static void
test_binds_refused(void **state)
{
	struct secretfs_file f[] = {
		{ ABS_NAME, (const uint8_t *)pw1, sizeof(pw1) - 1, 0, 0, 0400 },
		{ "db_pw", (const uint8_t *)pw1, sizeof(pw1) - 1, 0, 0, 0400 },
	};
	struct fx *fx = *state;
	char why[512] = "", path[512], outside[128];
	struct secretfs_bind b[2];
	uint64_t id;
	size_t done;
	int fd, fd2;

	bring_up(fx, 64 * 1024, f, 2);
	snprintf(outside, sizeof(outside), "%s/outside", fx->dir);
	assert_int_equal(mkdir(outside, 0755), 0);

	/* a symlink on the way: /etc -> <host dir> */
	snprintf(path, sizeof(path), "%s/etc", fx->rootfs);
	assert_int_equal(symlink(outside, path), 0);
	assert_int_equal(bind_one(fx, ABS_NAME, ABS_TARGET, 0, NULL, why,
	    sizeof(why)), HUSH_E_PERM);
	assert_non_null(strstr(why, "symlink"));
	snprintf(path, sizeof(path), "%s/app", outside);
	assert_int_equal(access(path, F_OK), -1);

	/* the last component a symlink, even a dangling one */
	snprintf(path, sizeof(path), "%s/etc", fx->rootfs);
	assert_int_equal(unlink(path), 0);
	mkdirs(fx->rootfs, "etc/app");
	snprintf(path, sizeof(path), "%s" ABS_TARGET, fx->rootfs);
	assert_int_equal(symlink("/nonexistent", path), 0);
	assert_int_equal(bind_one(fx, ABS_NAME, ABS_TARGET, 0, NULL, why,
	    sizeof(why)), HUSH_E_PERM);
	assert_non_null(strstr(why, "symlink"));
	assert_int_equal(access("/nonexistent", F_OK), -1);

	/* a directory */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(bind_one(fx, ABS_NAME, ABS_TARGET, 0, NULL, why,
	    sizeof(why)), HUSH_E_EXISTS);
	assert_non_null(strstr(why, "directory"));
	assert_int_equal(mounts_at(fx->ctr.pid, path, NULL), 0);

	/* something mounted there already */
	assert_int_equal(rmdir(path), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(in_ctr(fx, premount_file, (void *)ABS_TARGET), 0);
	assert_int_equal(bind_one(fx, ABS_NAME, ABS_TARGET, 0, NULL, why,
	    sizeof(why)), HUSH_E_INUSE);
	assert_non_null(strstr(why, "mount point"));
	assert_int_equal(mounts_at(fx->ctr.pid, path, NULL), 1);

	/* one refusal in a batch: nothing is mounted, not even the first */
	assert_int_equal(secretfs_file_clone(fx->wfd, "db_pw", &fd, &id, why,
	    sizeof(why)), 0);
	assert_int_equal(secretfs_file_clone(fx->wfd, ABS_NAME, &fd2, &id, why,
	    sizeof(why)), 0);
	b[0] = (struct secretfs_bind){ .target = "/etc/first", .fd = fd };
	b[1] = (struct secretfs_bind){ .target = ABS_TARGET, .fd = fd2 };
	assert_int_equal(secretfs_binds(CTR(fx, fx->rootfs), TARGET, 0, b, 2, &done, why,
	    sizeof(why)), HUSH_E_INUSE);
	assert_int_equal(done, 0);
	snprintf(path, sizeof(path), "%s/etc/first", fx->rootfs);
	assert_int_equal(mounts_at(fx->ctr.pid, path, NULL), 0);
	/* the clones stay detached: usable elsewhere */
	b[1].target = "/etc/second";
	assert_int_equal(secretfs_binds(CTR(fx, fx->rootfs), TARGET, 0, b, 2, &done, why,
	    sizeof(why)), 0);
	assert_int_equal(done, 2);
	assert_int_equal(mounts_at(fx->ctr.pid, path, NULL), 1);
	close(fd);
	close(fd2);

	/* bad arguments */
	b[0] = (struct secretfs_bind){ .target = "etc/x", .fd = -1,
	    .old_id = 5 };
	assert_int_equal(secretfs_binds(CTR(fx, fx->rootfs), TARGET, 0, b, 1, &done, why,
	    sizeof(why)), HUSH_E_INVAL);
	b[0] = (struct secretfs_bind){ .target = "/etc/../x", .fd = -1,
	    .old_id = 5 };
	assert_int_equal(secretfs_binds(CTR(fx, fx->rootfs), TARGET, 0, b, 1, &done, why,
	    sizeof(why)), HUSH_E_INVAL);
	b[0] = (struct secretfs_bind){ .target = "/etc/x", .fd = -1 };
	assert_int_equal(secretfs_binds(CTR(fx, fx->rootfs), TARGET, 0, b, 1, &done, why,
	    sizeof(why)), HUSH_E_INVAL);
	b[0] = b[1] = (struct secretfs_bind){ .target = "/etc/x", .fd = -1,
	    .old_id = 5 };
	assert_int_equal(secretfs_binds(CTR(fx, fx->rootfs), TARGET, 0, b, 2, &done, why,
	    sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_file_clone(fx->wfd, "nonexistent", &fd, &id,
	    why, sizeof(why)), HUSH_E_NOTFOUND);
	assert_int_equal(secretfs_file_clone(fx->wfd, "abs", &fd, &id, why,
	    sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(secretfs_file_clone(fx->wfd, "../x", &fd, &id, why,
	    sizeof(why)), HUSH_E_INVAL);
	assert_int_equal(fd, -1);
}

/*
 * A tmpfs taken back with secretfs_adopt() can only be cloned inside the
 * container's namespace: secretfs_binds_view() mounts and swaps from the
 * view there.
 */
static void
test_binds_view(void **state)
{
	static const char v1[] = "one", v2[] = "two";
	struct secretfs_file f = { ABS_NAME, (const uint8_t *)v1,
	    sizeof(v1) - 1, 33, 0, 0400 };
	struct fx *fx = *state;
	char why[512] = "", path[512];
	struct secretfs_bind b;
	uint64_t view, id, first;
	int wfd2 = -1, fd = -1;

	bring_up(fx, 64 * 1024, &f, 1);
	assert_int_equal(secretfs_mount_id(fx->rofd, &view, why, sizeof(why)),
	    0);
	assert_int_equal(secretfs_adopt(CTR(fx, fx->rootfs), TARGET, view,
	    &wfd2, why, sizeof(why)), 0);
	/* the kernel refuses to clone the adopted mount out here */
	assert_int_not_equal(secretfs_file_clone(wfd2, ABS_NAME, &fd, &id, why,
	    sizeof(why)), 0);
	assert_int_equal(fd, -1);

	b = (struct secretfs_bind){ .target = ABS_TARGET, .fd = -1,
	    .from = ABS_NAME };
	assert_int_equal(secretfs_binds_view(CTR(fx, fx->rootfs), TARGET, view,
	    &b, 1, NULL, why, sizeof(why)), 0);
	assert_true(b.new_id != 0);
	check_abs(fx, ABS_TARGET, v1, 33, 0400);
	first = b.new_id;

	f.data = (const uint8_t *)v2;
	publish_ok(wfd2, &f, 1);
	b.old_id = first;
	assert_int_equal(secretfs_binds_view(CTR(fx, fx->rootfs), TARGET, view,
	    &b, 1, NULL, why, sizeof(why)), 0);
	assert_true(b.new_id != 0 && b.new_id != first);
	check_abs(fx, ABS_TARGET, v2, 33, 0400);

	/* a name not published: refused before anything changes */
	b = (struct secretfs_bind){ .target = "/etc/other", .fd = -1,
	    .from = "nonexistent" };
	assert_int_equal(secretfs_binds_view(CTR(fx, fx->rootfs), TARGET, view,
	    &b, 1, NULL, why, sizeof(why)), HUSH_E_NOTFOUND);
	snprintf(path, sizeof(path), "%s/etc/other", fx->rootfs);
	assert_int_equal(access(path, F_OK), -1);
	/* a view that is not there */
	b.from = ABS_NAME;
	assert_int_equal(secretfs_binds_view(CTR(fx, fx->rootfs), TARGET,
	    view + 1000, &b, 1, NULL, why, sizeof(why)), HUSH_E_NOTFOUND);
	/* an fd is for secretfs_binds() */
	b.fd = 0;
	assert_int_equal(secretfs_binds_view(CTR(fx, fx->rootfs), TARGET, view,
	    &b, 1, NULL, why, sizeof(why)), HUSH_E_INVAL);
	close(wfd2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_resize, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_args, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_publish_attach,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_read_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_republish, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_atomic_readers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_rootfs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_over_mount, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_attach_args, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_publish, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_binds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binds_atomic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_binds_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_binds_view, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
