/*
 * The proc connector parser on crafted datagrams (good, odd and malformed),
 * and the real thing: a child that exits must be reported by the kernel.
 * The live test needs CAP_NET_ADMIN (make check runs as root) and fails,
 * not skips, without it: the daemon depends on these events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "err.h"
#include "procwatch.h"

struct seen {
	int	 n;
	pid_t	 pid[8];
	uint32_t code[8], sig[8];
};

static void
on_exit_ev(void *arg, pid_t pid, uint32_t code, uint32_t sig)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->pid[s->n] = pid;
		s->code[s->n] = code;
		s->sig[s->n] = sig;
	}
	s->n++;
}

/* Append one netlink message carrying a proc event to buf at *off. */
static void
put_event(uint8_t *buf, size_t *off, uint32_t idx, uint32_t what, pid_t pid, pid_t tgid,
    uint32_t code, size_t evlen)
{
	struct nlmsghdr h;
	struct cn_msg cn;
	struct proc_event ev;
	size_t len = NLMSG_LENGTH(sizeof(cn) + evlen);

	memset(&ev, 0, sizeof(ev));
	ev.what = what;
	ev.event_data.exit.process_pid = pid;
	ev.event_data.exit.process_tgid = tgid;
	ev.event_data.exit.exit_code = code;
	ev.event_data.exit.exit_signal = 17;
	memset(&cn, 0, sizeof(cn));
	cn.id.idx = idx;
	cn.id.val = CN_VAL_PROC;
	cn.len = (uint16_t)evlen;
	memset(&h, 0, sizeof(h));
	h.nlmsg_len = (uint32_t)len;
	h.nlmsg_type = NLMSG_DONE;
	memcpy(buf + *off, &h, sizeof(h));
	memcpy(buf + *off + sizeof(h), &cn, sizeof(cn));
	memcpy(buf + *off + sizeof(h) + sizeof(cn), &ev, evlen < sizeof(ev) ? evlen : sizeof(ev));
	*off += NLMSG_ALIGN(len);
}

static void
test_exit_reported(void **state)
{
	uint8_t buf[1024] __attribute__((aligned(8))) = { 0 };
	struct seen s = { 0 };
	size_t off = 0;

	put_event(buf, &off, CN_IDX_PROC, PROC_EVENT_EXIT, 4242, 4242, 7 << 8,
	    sizeof(struct proc_event));
	assert_int_equal(procwatch_parse(buf, off, on_exit_ev, &s), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.pid[0], 4242);
	assert_int_equal(s.code[0], 7 << 8);
	assert_int_equal(s.sig[0], 17);
}

static void
test_ignored_events(void **state)
{
	uint8_t buf[1024] __attribute__((aligned(8))) = { 0 };
	struct seen s = { 0 };
	size_t off = 0;

	/* a thread of 100 ends, a fork, another connector's message */
	put_event(buf, &off, CN_IDX_PROC, PROC_EVENT_EXIT, 101, 100, 0, sizeof(struct proc_event));
	put_event(buf, &off, CN_IDX_PROC, PROC_EVENT_FORK, 102, 102, 0, sizeof(struct proc_event));
	put_event(buf, &off, CN_IDX_PROC + 1, PROC_EVENT_EXIT, 103, 103, 0,
	    sizeof(struct proc_event));
	put_event(buf, &off, CN_IDX_PROC, PROC_EVENT_EXIT, 104, 104, 0, sizeof(struct proc_event));
	assert_int_equal(procwatch_parse(buf, off, on_exit_ev, &s), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.pid[0], 104);
}

static void
test_malformed(void **state)
{
	uint8_t buf[1024] __attribute__((aligned(8)));
	struct seen s = { 0 };
	struct nlmsghdr h;
	size_t off = 0, good;

	/* a good event first: a bad datagram must report nothing at all */
	memset(buf, 0, sizeof(buf));
	put_event(buf, &off, CN_IDX_PROC, PROC_EVENT_EXIT, 50, 50, 0, sizeof(struct proc_event));
	good = off;

	/* shorter than a netlink header */
	assert_int_equal(procwatch_parse(buf, good + 8, on_exit_ev, &s), HUSH_E_FORMAT);
	/* a header claiming more than was received */
	memset(&h, 0, sizeof(h));
	h.nlmsg_len = 4096;
	memcpy(buf + good, &h, sizeof(h));
	assert_int_equal(procwatch_parse(buf, good + 64, on_exit_ev, &s), HUSH_E_FORMAT);
	/* a length with the top bit set (an int comparison would pass it) */
	h.nlmsg_len = 0xa0a0004cu;
	memcpy(buf + good, &h, sizeof(h));
	assert_int_equal(procwatch_parse(buf, good + 64, on_exit_ev, &s), HUSH_E_FORMAT);
	/* a header claiming less than itself */
	h.nlmsg_len = 8;
	memcpy(buf + good, &h, sizeof(h));
	assert_int_equal(procwatch_parse(buf, good + 64, on_exit_ev, &s), HUSH_E_FORMAT);
	assert_int_equal(s.n, 0);

	/* cn_msg.len beyond the netlink message */
	off = 0;
	memset(buf, 0, sizeof(buf));
	put_event(buf, &off, CN_IDX_PROC, PROC_EVENT_EXIT, 51, 51, 0, sizeof(struct proc_event));
	{
		struct cn_msg cn;

		memcpy(&cn, buf + NLMSG_HDRLEN, sizeof(cn));
		cn.len = 4000;
		memcpy(buf + NLMSG_HDRLEN, &cn, sizeof(cn));
	}
	assert_int_equal(procwatch_parse(buf, off, on_exit_ev, &s), HUSH_E_FORMAT);
	/* an exit event cut short */
	off = 0;
	memset(buf, 0, sizeof(buf));
	put_event(buf, &off, CN_IDX_PROC, PROC_EVENT_EXIT, 52, 52, 0,
	    offsetof(struct proc_event, event_data) + 4);
	assert_int_equal(procwatch_parse(buf, off, on_exit_ev, &s), HUSH_E_FORMAT);
	/* a payload too short for cn_msg */
	off = 0;
	memset(buf, 0, sizeof(buf));
	memset(&h, 0, sizeof(h));
	h.nlmsg_len = NLMSG_LENGTH(8);
	h.nlmsg_type = NLMSG_DONE;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(procwatch_parse(buf, NLMSG_ALIGN(h.nlmsg_len), on_exit_ev, &s),
	    HUSH_E_FORMAT);
	/* empty and oversized datagrams */
	assert_int_equal(procwatch_parse(buf, 0, on_exit_ev, &s), 0);
	assert_int_equal(s.n, 0);
}

static void
test_live_child_exit(void **state)
{
	struct procwatch w;
	struct seen s = { 0 };
	struct pollfd pfd;
	char why[256];
	pid_t child;
	int r, status, found = -1;
	time_t until;

	r = procwatch_open(&w, why, sizeof(why));
	if (r != 0)
		fail_msg("the proc connector is needed and must work here: %s", why);
	if ((child = fork()) == 0)
		_exit(7);
	assert_true(child > 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	until = time(NULL) + 5;
	while (found < 0 && time(NULL) < until) {
		pfd.fd = w.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		r = procwatch_read(&w, on_exit_ev, &s);
		assert_true(r >= 0 || r == HUSH_E_TRUNCATED);
		for (int i = 0; i < s.n && i < 8; i++)
			if (s.pid[i] == child)
				found = i;
		if (s.n >= 8 && found < 0)
			s.n = 0;	/* a busy machine: keep looking */
	}
	procwatch_close(&w);
	assert_true(found >= 0);
	assert_int_equal(s.code[found], 7 << 8);
}

/*
 * More exits than the socket holds: the kernel drops events (ENOBUFS) and
 * procwatch_read must say so, because the caller then has to check every
 * process it tracks by other means.  The buffer is shrunk to the
 * kernel's minimum so a few hundred exits overflow it.
 */
static void
test_overflow_reported(void **state)
{
	struct procwatch w;
	struct seen s = { 0 };
	char why[256];
	int small = 1, r, status, truncated = 0;
	pid_t child;

	(void)state;
	r = procwatch_open(&w, why, sizeof(why));
	if (r != 0)
		fail_msg("the proc connector is needed and must work here: %s", why);
	assert_int_equal(setsockopt(w.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	for (int i = 0; i < 300; i++) {
		if ((child = fork()) == 0)
			_exit(0);
		assert_true(child > 0);
		assert_int_equal(waitpid(child, &status, 0), child);
	}
	/* drain: the overflow is reported once, then reads carry on */
	for (int i = 0; i < 100; i++) {
		s.n = 0;
		if ((r = procwatch_read(&w, on_exit_ev, &s)) == HUSH_E_TRUNCATED)
			truncated++;
		else {
			assert_true(r >= 0);
			if (r == 0)
				break;
		}
	}
	procwatch_close(&w);
	assert_true(truncated >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_reported),
		cmocka_unit_test(test_ignored_events),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_live_child_exit),
		cmocka_unit_test(test_overflow_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
