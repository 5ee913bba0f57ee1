/*
 * Logging to stderr (hushd runs in the foreground; journald adds the time).
 * Every line carries the process role and the function it came from so a
 * line in the journal says which privilege domain produced it.
 * Never pass key or secret bytes, or secret names, to these macros.
 */
#ifndef HUSH_LOG_H
#define HUSH_LOG_H

#include <stdnoreturn.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *role, enum log_level level);
void log_set_role(const char *role);
int  log_level_parse(const char *s, enum log_level *out);
enum log_level log_get_level(void);

void log_msg(enum log_level lvl, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
noreturn void log_fatal(const char *func, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __func__, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __func__, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__)
/* fatal(...) exits; fatal_r(r, ...) appends hush_strerror(r). */
#define fatal(...)        log_fatal(__func__, 0, __VA_ARGS__)
#define fatal_r(r, ...)   log_fatal(__func__, (r), __VA_ARGS__)

#endif
