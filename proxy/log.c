/* log: levelled log lines (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/uio.h>
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
	char head[64], *body = NULL;
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(head, sizeof(head), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)tv.tv_usec / 1000, level_names[level]);
	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (to_syslog)
		syslog(syslog_priority[level], "%s", body);
	struct iovec iov[3] = {
		{ head, strlen(head) },
		{ body, (size_t)n },
		{ "\n", 1 },
	};

	/* One writev per line, so lines from a busy proxy never interleave.
	 * Best effort: a log line that cannot be written is not worth dying for. */
	if (writev(STDERR_FILENO, iov, 3) < 0)
		n = 0;
	free(body);
}

/* Kinds of peer-caused warnings seen, for log_limited(). */
#define LIMITED_KINDS 32

struct limited {
	const char *kind;          /* borrowed: a string literal */
	time_t last;               /* second of the last line written */
	unsigned long suppressed;  /* lines not written since */
};

void log_limited(const char *kind, const char *fmt, ...)
{
	static struct limited kinds[LIMITED_KINDS];
	time_t now = time(NULL);
	struct limited *k = NULL;
	char msg[512];
	va_list ap;

	for (int i = 0; i < LIMITED_KINDS && !k; i++)
		if (!kinds[i].kind || kinds[i].kind == kind || !strcmp(kinds[i].kind, kind))
			k = &kinds[i];
	if (!k || LOG_LVL_WARN > log_threshold)
		return;
	k->kind = kind;
	if (k->last == now) {
		k->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (k->suppressed)
		log_write(LOG_LVL_WARN, "%s (and %lu more like it suppressed)", msg, k->suppressed);
	else
		log_write(LOG_LVL_WARN, "%s", msg);
	k->last = now;
	k->suppressed = 0;
}
