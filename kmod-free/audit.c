/*
 * The kernel audit trail; see audit.h.  The kernel's replies are parsed
 * as bytes of unknown shape, as in procwatch.c: every length is checked
 * against what was received before a field is read.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include "audit.h"
#include "err.h"
#include "netlink.h"

/* ---- the record ------------------------------------------------------ */

/* What audit_rec_finish may add; kept free in every record. */
#define CLOSE_RESERVE	(sizeof(" truncated=yes res=success") - 1)
#define KEY_MAX		32

/* Room left for fields, the NUL and the closing fields set aside. */
static size_t
room(const struct audit_rec *r)
{
	size_t lim = HUSH_AUDIT_TEXT_MAX - 1 - CLOSE_RESERVE;

	return r->len < lim ? lim - r->len : 0;
}

static bool
key_ok(const char *key)
{
	size_t n = 0;

	for (; key[n] != '\0'; n++)
		if (n >= KEY_MAX || !((key[n] >= 'a' && key[n] <= 'z') || key[n] == '_'))
			return false;
	return n > 0;
}

static bool
is_token(const uint8_t *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-'))
			return false;
	}
	return len > 0;
}

/*
 * The rule of the kernel's audit_string_contains_control() and libaudit's
 * audit_value_needs_encoding() — a double quote, space, control or
 * non-ASCII byte — plus the single quote: a user record's text reaches the
 * trail inside msg='...', and auparse ends that field at the first one.
 */
static bool
needs_hex(const uint8_t *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (v[i] == '"' || v[i] == '\'' || v[i] < 0x21 || v[i] > 0x7e)
			return true;
	return false;
}

enum how { BARE, QUOTED, HEX };

static void
append(struct audit_rec *r, const char *s, size_t n)
{
	memcpy(r->text + r->len, s, n);
	r->len += n;
	r->text[r->len] = '\0';
}

static void
put_field(struct audit_rec *r, const char *key, const uint8_t *v, size_t len, enum how how)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t klen, need;

	if (r->done)
		return;
	if (!key_ok(key)) {
		r->cut = true;
		return;
	}
	klen = strlen(key);
	if (len > HUSH_AUDIT_VALUE_MAX) {
		/* Part of a value must not pass for all of it: hex, and flagged. */
		len = HUSH_AUDIT_VALUE_MAX;
		how = HEX;
		r->cut = true;
	}
	need = 1 + klen + 1 + (how == HEX ? 2 * len : how == QUOTED ? len + 2 : len);
	if (len == 0 || need > room(r)) {
		if (len > 0)
			r->cut = true;
		if (1 + klen + 2 <= room(r)) {
			append(r, " ", 1);
			append(r, key, klen);
			append(r, "=?", 2);
		}
		return;
	}
	append(r, " ", 1);
	append(r, key, klen);
	append(r, "=", 1);
	switch (how) {
	case BARE:
		append(r, (const char *)v, len);
		break;
	case QUOTED:
		append(r, "\"", 1);
		append(r, (const char *)v, len);
		append(r, "\"", 1);
		break;
	case HEX:
		for (size_t i = 0; i < len; i++) {
			char two[2] = { hex[v[i] >> 4], hex[v[i] & 0x0f] };

			append(r, two, 2);
		}
		break;
	}
}

void
audit_rec_init(struct audit_rec *r, const char *op)
{
	size_t n = op != NULL ? strnlen(op, KEY_MAX + 1) : 0;

	memset(r, 0, sizeof(*r));
	append(r, "op=", 3);
	if (n == 0 || n > KEY_MAX || !is_token((const uint8_t *)op, n)) {
		append(r, "?", 1);
		r->cut = true;
	} else {
		append(r, op, n);
	}
}

void
audit_rec_str(struct audit_rec *r, const char *key, const void *v, size_t len)
{
	if (v == NULL)
		len = 0;
	put_field(r, key, v, len, needs_hex(v, len) ? HEX : QUOTED);
}

void
audit_rec_token(struct audit_rec *r, const char *key, const char *v)
{
	size_t len = v != NULL ? strnlen(v, HUSH_AUDIT_VALUE_MAX + 1) : 0;

	if (len > 0 && len <= HUSH_AUDIT_VALUE_MAX && is_token((const uint8_t *)v, len))
		put_field(r, key, (const uint8_t *)v, len, BARE);
	else
		audit_rec_str(r, key, v, len);
}

void
audit_rec_u64(struct audit_rec *r, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	put_field(r, key, (const uint8_t *)buf, strlen(buf), BARE);
}

const char *
audit_rec_finish(struct audit_rec *r, bool success)
{
	if (!r->done) {
		if (r->cut)
			append(r, " truncated=yes", sizeof(" truncated=yes") - 1);
		if (success)
			append(r, " res=success", sizeof(" res=success") - 1);
		else
			append(r, " res=failed", sizeof(" res=failed") - 1);
		r->done = true;
	}
	return r->text;
}

/* ---- the socket ------------------------------------------------------ */

/* The kernel answers AUDIT_GET from a kernel thread: wait this long at most. */
#define REPLY_WAIT_MS	1000
#define RECV_BUF	16384

static void set_log(struct audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_log(struct audit *a, const char *fmt, ...)
{
	va_list ap;

	a->sink = AUDIT_SINK_LOG;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The walk is netlink.c's (not libmnl's, see there).  Every message is
 * checked before anything is taken from the datagram, so a malformed one
 * reports nothing.
 */
int
audit_parse_reply(const uint8_t *buf, size_t len, uint32_t seq, struct audit_reply *out)
{
	struct audit_status st;
	struct nlmsghdr h;
	const uint8_t *payload;
	int32_t error;
	size_t off, plen;

	if (nl_check(buf, len) != 0)
		return HUSH_E_FORMAT;
	for (off = 0; nl_next(buf, len, &off, &h, &payload, &plen);) {
		if (h.nlmsg_seq == seq && h.nlmsg_type == NLMSG_ERROR) {
			/* an errno, negated, as the kernel sends it (0: an ack) */
			if (plen < sizeof(error))
				return HUSH_E_FORMAT;
			memcpy(&error, payload, sizeof(error));
			if (error > 0 || error < -4095)
				return HUSH_E_FORMAT;
		}
		/* Older kernels send a shorter struct: what is missing reads as 0. */
		if (h.nlmsg_seq == seq && h.nlmsg_type == AUDIT_GET &&
		    plen < offsetof(struct audit_status, enabled) + sizeof(st.enabled))
			return HUSH_E_FORMAT;
	}
	for (off = 0; nl_next(buf, len, &off, &h, &payload, &plen);) {
		if (h.nlmsg_seq != seq)
			continue;	/* a late answer to an earlier request */
		if (h.nlmsg_type == NLMSG_ERROR) {
			memcpy(&error, payload, sizeof(error));
			out->acked = true;
			out->err = error;
		} else if (h.nlmsg_type == AUDIT_GET) {
			memset(&st, 0, sizeof(st));
			memcpy(&st, payload, plen < sizeof(st) ? plen : sizeof(st));
			out->got_status = true;
			out->enabled = st.enabled;
		}
	}
	return 0;
}

/*
 * One request with NLM_F_ACK; returns 0 or the kernel's negative errno,
 * -ETIMEDOUT, or another negative errno of the socket.  enabled, if
 * given, receives audit_enabled from the AUDIT_GET answer.
 */
static int
exchange(struct audit *a, uint16_t type, const void *payload, size_t plen,
    uint32_t *enabled)
{
	uint8_t out[NLMSG_SPACE(HUSH_AUDIT_TEXT_MAX)] __attribute__((aligned(8)));
	uint8_t in[RECV_BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct audit_reply rep;
	int64_t deadline;
	int fd = mnl_socket_get_fd(a->nl);
	uint32_t seq;
	size_t got;
	int r;

	if (plen > HUSH_AUDIT_TEXT_MAX)
		return -EMSGSIZE;
	memset(out, 0, sizeof(out));
	nlh = mnl_nlmsg_put_header(out);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq = ++a->seq;
	if (plen > 0)
		memcpy(mnl_nlmsg_put_extra_header(nlh, plen), payload, plen);
	if (mnl_socket_sendto(a->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	deadline = mono_ms() + REPLY_WAIT_MS;
	memset(&rep, 0, sizeof(rep));
	while (!rep.acked || (rep.err == 0 && enabled != NULL && !rep.got_status)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mono_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		/* Only the kernel (port 0) answers; a cut datagram is not read. */
		r = nl_recv_kernel(fd, in, sizeof(in), MSG_DONTWAIT, &got);
		if (r == -EINTR || r == -EAGAIN || r == -ENOBUFS ||
		    r == NL_RECV_FOREIGN || r == NL_RECV_CUT)
			continue;
		if (r < 0)
			return r;
		if (audit_parse_reply(in, got, seq, &rep) != 0)
			return -EPROTO;
	}
	if (enabled != NULL)
		*enabled = rep.enabled;
	return rep.err;
}

void
audit_probe(struct audit *a)
{
	uint32_t enabled = 0;
	int r;

	if (a->nl == NULL || !a->can_query)
		return;
	a->probed_ms = mono_ms();
	r = exchange(a, AUDIT_GET, NULL, 0, &enabled);
	if (r == -EPERM) {
		/* The kernel will say no to a record soon enough if it must. */
		a->can_query = false;
		a->sink = AUDIT_SINK_KERNEL;
		snprintf(a->why, sizeof(a->why), "whether auditing is enabled is unknown: "
		    "no CAP_AUDIT_CONTROL");
	} else if (r == -ECONNREFUSED) {
		set_log(a, "%s", "the kernel takes audit messages from the initial user "
		    "namespace only");
	} else if (r < 0) {
		set_log(a, "cannot ask the kernel about auditing: %s", strerror(-r));
	} else if (enabled == 0) {
		set_log(a, "%s", "auditing is disabled in the kernel (audit=0 at boot, or "
		    "auditctl -e 0)");
	} else {
		a->sink = AUDIT_SINK_KERNEL;
		a->why[0] = '\0';
	}
}

void
audit_open(struct audit *a)
{
	int one = 1;

	memset(a, 0, sizeof(*a));
	a->can_query = true;
	if ((a->nl = mnl_socket_open2(NETLINK_AUDIT, SOCK_CLOEXEC)) == NULL) {
		if (errno == EPROTONOSUPPORT)
			set_log(a, "%s", "this kernel has no audit support (CONFIG_AUDIT)");
		else
			set_log(a, "cannot open the audit socket: %s", strerror(errno));
		return;
	}
	if (mnl_socket_bind(a->nl, 0, MNL_SOCKET_AUTOPID) != 0) {
		set_log(a, "cannot bind the audit socket: %s", strerror(errno));
		mnl_socket_close(a->nl);
		a->nl = NULL;
		return;
	}
	a->portid = mnl_socket_get_portid(a->nl);
	/* Errors need not echo the whole record back. */
	(void)mnl_socket_setsockopt(a->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	a->sink = AUDIT_SINK_KERNEL;
	audit_probe(a);
}

void
audit_close(struct audit *a)
{
	if (a->nl != NULL)
		mnl_socket_close(a->nl);
	a->nl = NULL;
}

int
audit_send(struct audit *a, const char *text)
{
	size_t len = strnlen(text, HUSH_AUDIT_TEXT_MAX);
	int r;

	if (a->nl == NULL)
		return HUSH_E_UNAVAIL;
	if (len == HUSH_AUDIT_TEXT_MAX)
		return HUSH_E_TOOBIG;
	if (a->can_query) {
		if (a->probed_ms == 0 || mono_ms() - a->probed_ms >= AUDIT_PROBE_MS)
			audit_probe(a);
		if (a->sink == AUDIT_SINK_LOG)
			return HUSH_E_UNAVAIL;
	}
	/* With the NUL: the kernel overwrites the last byte with one. */
	if ((r = exchange(a, HUSH_AUDIT_TYPE, text, len + 1, NULL)) == 0) {
		a->sink = AUDIT_SINK_KERNEL;
		return 0;
	}
	if (r == -EPERM)
		set_log(a, "%s", "not permitted to write audit records (CAP_AUDIT_WRITE)");
	else if (r == -ECONNREFUSED)
		set_log(a, "%s", "the kernel takes audit messages from the initial user "
		    "namespace only");
	else
		set_log(a, "the kernel refused the record: %s", strerror(-r));
	return r == -EPERM ? HUSH_E_PERM : HUSH_E_SYS;
}

void
audit_describe(const struct audit *a, char *buf, size_t len)
{
	if (a->sink == AUDIT_SINK_KERNEL)
		snprintf(buf, len, "kernel audit%s%s%s", a->why[0] != '\0' ? " (" : "",
		    a->why, a->why[0] != '\0' ? ")" : "");
	else
		snprintf(buf, len, "log (kernel audit unavailable: %s)", a->why);
}
