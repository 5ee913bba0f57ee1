/*
 * Refused control connections, logged without flooding the log.  A hung
 * tool that reconnects in a loop, or 300 idle connections, would
 * otherwise write one line each.  The first refusal after a quiet spell
 * is logged at once, with the client's pid and why, so an operator sees
 * who; the ones that follow within CONTROL_LOG_EVERY_MS are only counted
 * and summed up in one line when that time has passed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "parent.h"

static const char *const kind_text[REFUSED_KINDS] = {
	[REFUSED_NOT_ROOT]	= "not root",
	[REFUSED_IDLE]		= "no whole request within the deadline",
	[REFUSED_EVICTED]	= "evicted while idle (too many pending)",
	[REFUSED_CLI_FULL]	= "hushctl pool full",
	[REFUSED_HOOK_FULL]	= "container pool full",
	[REFUSED_TOOBIG]	= "request too large",
	[REFUSED_MALFORMED]	= "malformed request",
	[REFUSED_UNREAD]	= "reply not read",
	[REFUSED_ACCEPT]	= "accept failed",
};

static unsigned long	counted[REFUSED_KINDS];
static int64_t		last_log_ms = -CONTROL_LOG_EVERY_MS;

static int64_t
now_ms(void)
{
	return (int64_t)child_now_ms();
}

void
control_refused(enum control_refusal why, pid_t pid, const char *detail)
{
	int64_t now = now_ms();

	if (why >= REFUSED_KINDS)
		return;
	if (now - last_log_ms < CONTROL_LOG_EVERY_MS) {
		counted[why]++;
		return;
	}
	last_log_ms = now;
	if (pid > 0)
		log_warn("control socket: refused a connection (pid %ld): %s; "
		    "refusals in the next %d s are counted and logged then",
		    (long)pid, detail, CONTROL_LOG_EVERY_MS / 1000);
	else
		log_warn("control socket: %s; refusals in the next %d s are "
		    "counted and logged then", detail, CONTROL_LOG_EVERY_MS / 1000);
}

int
control_refusals_flush(void)
{
	char line[512];
	unsigned long total = 0;
	size_t off = 0;
	int64_t now = now_ms(), due = last_log_ms + CONTROL_LOG_EVERY_MS;
	int n;

	for (size_t i = 0; i < REFUSED_KINDS; i++)
		total += counted[i];
	if (total == 0)
		return -1;
	if (now < due)
		return (int)(due - now);
	line[0] = '\0';
	for (size_t i = 0; i < REFUSED_KINDS; i++) {
		if (counted[i] == 0)
			continue;
		n = snprintf(line + off, sizeof(line) - off, "%s%lu %s",
		    off == 0 ? "" : ", ", counted[i], kind_text[i]);
		if (n > 0 && (size_t)n < sizeof(line) - off)
			off += (size_t)n;
		counted[i] = 0;
	}
	log_warn("control socket: refused %lu more connection(s) in the last %lld s (%s); "
	    "see 'Control socket limits' in hushd(8)", total,
	    (long long)((now - last_log_ms + 999) / 1000), line);
	last_log_ms = now;
	return -1;
}
