/*
 * The kernel audit trail (NETLINK_AUDIT): one user-space record per event,
 * sent to the kernel, which stamps it (time, serial, pid, uid, auid,
 * session, LSM context) and hands it to auditd or, with no auditd, to the
 * kernel log and the AUDIT_NLGRP_READLOG multicast group.
 *
 * Two halves: a record formatter that needs no kernel (audit_rec_*), and
 * the socket (audit_open/audit_send).  Where the kernel cannot take the
 * record — no audit support, auditing disabled, not permitted, refused
 * from a user namespace other than the initial one — audit_send says so
 * and the caller writes the same text to its log instead; audit_sink()
 * tells which of the two is in use and why.
 */
#ifndef HUSH_AUDIT_H
#define HUSH_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every record hush sends has type AUDIT_TRUSTED_APP (1121), "trusted
 * application message - freestyle text", the type libaudit gives
 * daemons whose events fit none of the specific user types.  The
 * specific ones would be read wrongly: AUDIT_USER_AUTH, USER_ACCT,
 * USER_LOGIN and friends are what aureport counts as logins and
 * authentications of a user account (acct=, exe=, terminal=), and an
 * unlock of a hush node or a delivery into a container is neither.  One
 * type for all of hush also makes `ausearch -m TRUSTED_APP` find them
 * all; the op= field says which event a record is.
 */
#define HUSH_AUDIT_TYPE		1121

/*
 * The record's text, NUL included.  The kernel cuts a user message at
 * 8560 bytes (AUDIT_MESSAGE_TEXT_MAX); hush's stay well under, so the
 * kernel never cuts one and the fallback log line stays readable.
 */
#define HUSH_AUDIT_TEXT_MAX	4096
/* An untrusted value longer than this (raw bytes) is cut to it. */
#define HUSH_AUDIT_VALUE_MAX	1024

struct audit_rec {
	char		 text[HUSH_AUDIT_TEXT_MAX];
	size_t		 len;
	bool		 cut;		/* a value or field had to be shortened or left out */
	bool		 done;
};

/*
 * Build "op=OP key=value ... [truncated=yes] res=success|failed".  Keys
 * are the caller's constants ([a-z_]+).  Space for the closing fields is
 * always kept, so a record stays one well-formed line whatever was put
 * in it: a field that does not fit is written as key=? (or left out)
 * and the record says truncated=yes.
 */
void	audit_rec_init(struct audit_rec *r, const char *op);
/*
 * A value hush made or checked itself (an id, a count, a word): written
 * bare when it is only [A-Za-z0-9._:-], else encoded as audit_rec_str
 * does.  NULL or "" is written as "?", the audit convention for unknown.
 */
void	audit_rec_token(struct audit_rec *r, const char *key, const char *v);
/*
 * A value from outside (container id, service name): written the way
 * the audit userspace encodes untrusted strings — key="value" when it
 * has no quote (double or single), space, control or non-ASCII byte, else
 * key=HEX (upper-case hex of every byte, no quotes), which ausearch -i
 * decodes.
 */
void	audit_rec_str(struct audit_rec *r, const char *key, const void *v, size_t len);
void	audit_rec_u64(struct audit_rec *r, const char *key, uint64_t v);
/* Close the record; returns its text (one line, no newline). */
const char *audit_rec_finish(struct audit_rec *r, bool success);

enum audit_sink {
	AUDIT_SINK_KERNEL = 1,
	AUDIT_SINK_LOG = 2,
};

struct mnl_socket;

struct audit {
	struct mnl_socket	*nl;		/* NULL when the kernel has no audit socket */
	uint32_t		 portid;
	uint32_t		 seq;
	bool			 can_query;	/* AUDIT_GET allowed (CAP_AUDIT_CONTROL) */
	enum audit_sink		 sink;
	char			 why[192];	/* why the sink is the log, or a note */
	int64_t			 probed_ms;	/* CLOCK_MONOTONIC of the last audit_probe() */
};

/*
 * How long audit_send() trusts the last probe.  The kernel answers
 * AUDIT_GET from a kernel thread it creates for each answer: asked
 * before every record, that was a tenth of a write's cost under load.
 * The price is that for up to this long after an operator disables
 * auditing, records go to the kernel, which drops them; status (which
 * probes) and the next record after this long find out.
 */
#define AUDIT_PROBE_MS	1000

/*
 * Open the socket and find out whether the kernel will take records.
 * Never fails: where it cannot, the sink is the log and why says so.
 */
void	audit_open(struct audit *a);
void	audit_close(struct audit *a);
/* Look again (auditing may have been enabled or disabled since). */
void	audit_probe(struct audit *a);
/*
 * Send one finished record.  0: the kernel took it.  Otherwise a negative
 * HUSH_E_* code, the sink is now the log and a->why says why; the caller
 * writes the record there.
 */
int	audit_send(struct audit *a, const char *text);
/* What the kernel's answers to one request said. */
struct audit_reply {
	bool		 acked;		/* an NLMSG_ERROR came: err is its errno (<= 0) */
	int		 err;
	bool		 got_status;	/* an AUDIT_GET answer came */
	uint32_t	 enabled;	/* its audit_enabled */
};

/*
 * The parser audit_send uses on one datagram from the kernel: what it
 * says about request seq is added to *out; messages for other requests
 * are skipped.  Anything malformed is refused whole with HUSH_E_FORMAT.
 */
int	audit_parse_reply(const uint8_t *buf, size_t len, uint32_t seq, struct audit_reply *out);

/* What `hushctl status` shows: "kernel audit" or "log (kernel audit unavailable: ...)". */
void	audit_describe(const struct audit *a, char *buf, size_t len);

#endif
