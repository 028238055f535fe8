/* log: levelled log lines to stderr and, with -s, to syslog.
 *
 * Levels are named for their audience: error (the operator must act), warn
 * (something was refused or failed), info (one line per request and its
 * outcome), debug (developers). The level is checked before any formatting. */
#ifndef FEDPROXY_LOG_H
#define FEDPROXY_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_SILENT = -1, /* nothing at all (fuzzers, unit tests) */
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

extern enum log_level log_threshold;

/* True when a line at this level will be written: text made only for the
 * log is built only then. */
static inline bool log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

/* Parse "error", "warn", "info" or "debug". 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);
void log_set_level(enum log_level level);
/* Also send every line to syslog (the -s flag). */
void log_use_syslog(bool on);

void log_write(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A warning caused by a peer, at most once a second per kind; the next
 * line says how many were suppressed. */
void log_limited(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(level, ...)                                                     \
	do {                                                                   \
		if ((level) <= log_threshold)                                  \
			log_write((level), __VA_ARGS__);                       \
	} while (0)
#define log_error(...) log_at(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
