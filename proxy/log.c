/* log: levelled log lines (see log.h). One line per call, written with a
 * single write so lines from a busy proxy never interleave. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_LVL_INFO;
static bool to_syslog;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

static const int syslog_priority[] = {
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

int log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

void log_use_syslog(bool on)
{
	if (on && !to_syslog)
		openlog("fedproxy", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = on;
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char line[8192];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int head, body;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	head = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000,
			level_names[level]);
	va_start(ap, fmt);
	body = vsnprintf(line + head, sizeof(line) - head - 1, fmt, ap);
	va_end(ap);
	if (body < 0)
		return;
	size_t len = (size_t)head + (size_t)body;

	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2; /* truncated: keep the newline */
	if (to_syslog)
		syslog(syslog_priority[level], "%s", line + head);
	line[len++] = '\n';
	/* Best effort: a log line that cannot be written is not worth dying for. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}
