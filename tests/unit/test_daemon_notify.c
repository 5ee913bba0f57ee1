/*
 * Unit tests for daemon/parent/notify.c: the NOTIFY_SOCKET protocol as
 * systemd's end sees it, over a path and an abstract datagram socket, and
 * the NOTIFY_SOCKET values it refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "parent/parent.h"

/* systemd's end: a datagram socket bound at name ('@' for abstract). */
static int
listener(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	int fd;

	assert_true(strlen(name) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, name, strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_true((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

/* The next datagram, or "" if none is waiting. */
static const char *
next_msg(int fd)
{
	static char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0) {
		assert_int_equal(errno, EAGAIN);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

static void
walk_states(int fd)
{
	static struct parent p;
	char why[256] = "";

	assert_int_equal(notify_open(why, sizeof(why)), 0);
	assert_null(getenv("NOTIFY_SOCKET"));
	p.state = PS_LOCKED;
	notify_state(&p);		/* before READY=1: nothing */
	assert_string_equal(next_msg(fd), "");
	notify_ready(&p);
	assert_string_equal(next_msg(fd), "READY=1\nSTATUS=locked");
	notify_state(&p);		/* unchanged: nothing */
	assert_string_equal(next_msg(fd), "");
	p.state = PS_STARTING;
	notify_state(&p);
	assert_string_equal(next_msg(fd), "STATUS=starting");
	p.state = PS_READY;
	notify_state(&p);
	assert_string_equal(next_msg(fd), "STATUS=serving");
	notify_stopping();
	assert_string_equal(next_msg(fd), "STOPPING=1\nSTATUS=stopping");
	notify_close();
	notify_stopping();		/* closed: nothing, no crash */
	assert_string_equal(next_msg(fd), "");
}

static void
test_path(void **state)
{
	char dir[] = "/tmp/hush-notify.XXXXXX", path[128];
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	walk_states(fd);
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void
test_abstract(void **state)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@hush-notify-test-%ld", (long)getpid());
	fd = listener(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	walk_states(fd);
	close(fd);
}

static void
test_unset_is_quiet(void **state)
{
	static struct parent p;
	char why[64] = "";

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_open(why, sizeof(why)), 0);
	p.state = PS_READY;
	notify_ready(&p);		/* no socket: nothing to do */
	notify_stopping();
	notify_close();
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(notify_open(why, sizeof(why)), 0);
	unsetenv("NOTIFY_SOCKET");
}

static void
refused(const char *value, int code, const char *text)
{
	char why[256] = "";

	assert_int_equal(setenv("NOTIFY_SOCKET", value, 1), 0);
	assert_int_equal(notify_open(why, sizeof(why)), code);
	if (strstr(why, text) == NULL)
		fail_msg("NOTIFY_SOCKET '%.40s': '%s' lacks '%s'", value, why, text);
	/* Refused, so left for whoever looks next. */
	assert_non_null(getenv("NOTIFY_SOCKET"));
	unsetenv("NOTIFY_SOCKET");
}

static void
test_refused(void **state)
{
	char longname[200];

	refused("run/notify", HUSH_E_INVAL, "must be an absolute path");
	refused("@", HUSH_E_INVAL, "must be an absolute path");
	refused("vsock:2:1234", HUSH_E_INVAL, "must be an absolute path");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	refused(longname, HUSH_E_INVAL, "at most 107 bytes");
	refused("/nonexistent/hush/notify", HUSH_E_IO, "cannot connect to NOTIFY_SOCKET");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_abstract),
		cmocka_unit_test(test_unset_is_quiet),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
