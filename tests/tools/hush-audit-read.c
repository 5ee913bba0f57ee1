/*
 * hush-audit-read: the integration tests' view of the kernel audit trail,
 * without auditd.  Built by `make test-daemon`; never installed.
 *
 *   hush-audit-read status          prints "enabled=N" (AUDIT_GET)
 *   hush-audit-read enable 0|1      sets the kernel's audit_enabled, prints
 *                                   "was=N" (AUDIT_SET; CAP_AUDIT_CONTROL)
 *   hush-audit-read read SECS [TYPE]
 *                                   joins AUDIT_NLGRP_READLOG (CAP_AUDIT_READ,
 *                                   initial network namespace) and prints,
 *                                   one a line, each record of TYPE (default
 *                                   1121, AUDIT_TRUSTED_APP) for SECS seconds;
 *                                   "# listening" on stderr once joined.
 *
 * Exit status 0, or 2 with the kernel's reason on stderr.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#define BUF	16384

static int
die(const char *what)
{
	fprintf(stderr, "hush-audit-read: %s: %s\n", what, strerror(errno));
	return 2;
}

/* One request; the AUDIT_GET answer (if asked for) into st. */
static int
talk(struct mnl_socket *nl, uint16_t type, const void *payload, size_t plen,
    struct audit_status *st)
{
	uint8_t buf[BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh, h;
	struct nlmsgerr e;
	bool acked = false, got = st == NULL;
	size_t off, n;
	ssize_t r;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	if (plen > 0)
		memcpy(mnl_nlmsg_put_extra_header(nlh, plen), payload, plen);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while (!acked || !got) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };

		if (poll(&pfd, 1, 2000) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((r = recv(pfd.fd, buf, sizeof(buf), 0)) < 0)
			return -1;
		n = (size_t)r;
		for (off = 0; off + sizeof(h) <= n; off += NLMSG_ALIGN(h.nlmsg_len)) {
			memcpy(&h, buf + off, sizeof(h));
			if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > n - off)
				break;
			if (h.nlmsg_type == NLMSG_ERROR &&
			    h.nlmsg_len >= sizeof(h) + sizeof(e.error)) {
				memcpy(&e.error, buf + off + sizeof(h), sizeof(e.error));
				if (e.error != 0) {
					errno = -e.error;
					return -1;
				}
				acked = true;
			} else if (h.nlmsg_type == AUDIT_GET && st != NULL) {
				size_t len = h.nlmsg_len - sizeof(h);

				memset(st, 0, sizeof(*st));
				memcpy(st, buf + off + sizeof(h), len < sizeof(*st) ? len : sizeof(*st));
				got = true;
			}
		}
	}
	return 0;
}

static int
read_records(unsigned secs, unsigned type)
{
	uint8_t buf[BUF] __attribute__((aligned(8)));
	struct mnl_socket *nl;
	struct nlmsghdr h;
	time_t end = time(NULL) + (time_t)secs;
	size_t off, n;
	ssize_t r;

	if ((nl = mnl_socket_open(NETLINK_AUDIT)) == NULL)
		return die("cannot open the audit socket");
	if (mnl_socket_bind(nl, 1U << (AUDIT_NLGRP_READLOG - 1), MNL_SOCKET_AUTOPID) != 0)
		return die("cannot join the audit log group");
	fprintf(stderr, "# listening\n");
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (time(NULL) < end) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((r = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT)) < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
				continue;
			return die("recv");
		}
		n = (size_t)r;
		for (off = 0; off + sizeof(h) <= n; off += NLMSG_ALIGN(h.nlmsg_len)) {
			memcpy(&h, buf + off, sizeof(h));
			if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > n - off)
				break;
			if (h.nlmsg_type != type)
				continue;
			/* The text is not NUL-terminated; show odd bytes as '?'. */
			for (size_t i = sizeof(h); i < h.nlmsg_len; i++) {
				uint8_t c = buf[off + i];

				if (c == '\0')
					break;
				putchar(c >= 0x20 && c < 0x7f ? c : '?');
			}
			putchar('\n');
		}
	}
	mnl_socket_close(nl);
	return 0;
}

int
main(int argc, char **argv)
{
	struct mnl_socket *nl;
	struct audit_status st;

	if (argc >= 3 && strcmp(argv[1], "read") == 0)
		return read_records((unsigned)strtoul(argv[2], NULL, 10),
		    argc >= 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 1121);
	if ((nl = mnl_socket_open(NETLINK_AUDIT)) == NULL)
		return die("cannot open the audit socket");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) != 0)
		return die("bind");
	if (argc == 2 && strcmp(argv[1], "status") == 0) {
		if (talk(nl, AUDIT_GET, NULL, 0, &st) != 0)
			return die("AUDIT_GET");
		printf("enabled=%u\n", st.enabled);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "enable") == 0 &&
	    (strcmp(argv[2], "0") == 0 || strcmp(argv[2], "1") == 0)) {
		if (talk(nl, AUDIT_GET, NULL, 0, &st) != 0)
			return die("AUDIT_GET");
		printf("was=%u\n", st.enabled);
		memset(&st, 0, sizeof(st));
		st.mask = AUDIT_STATUS_ENABLED;
		st.enabled = argv[2][0] == '1';
		if (talk(nl, AUDIT_SET, &st, sizeof(st), NULL) != 0)
			return die("AUDIT_SET");
		return 0;
	}
	fprintf(stderr, "usage: hush-audit-read status | enable 0|1 | read SECS [TYPE]\n");
	return 2;
}
