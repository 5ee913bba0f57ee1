#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

static char log_role[32] = "hush";
static enum log_level log_level = LOG_LVL_INFO;

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void
log_init(const char *role, enum log_level level)
{
	log_set_role(role);
	log_level = level;
}

void
log_set_role(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warn") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return HUSH_E_INVAL;
}

static void log_vwrite(enum log_level, const char *, const char *, va_list)
	__attribute__((format(printf, 3, 0)));

static void
log_vwrite(enum log_level lvl, const char *func, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	/* One write() per line so lines from several processes never interleave. */
	n = snprintf(line, sizeof(line), "%s[%ld]: %s: %s: ", log_role,
	    (long)getpid(), level_names[lvl], func);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	n = (int)strlen(line);
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_msg(enum log_level lvl, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	log_vwrite(lvl, func, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *func, int code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (code != 0)
		log_msg(LOG_LVL_ERR, func, "fatal: %s: %s", msg, hush_strerror(code));
	else
		log_msg(LOG_LVL_ERR, func, "fatal: %s", msg);
	exit(1);
}
