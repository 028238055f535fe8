/* server: the process around the SIP layer: the listeners, the current
 * config snapshot, reload on SIGHUP and draining on SIGTERM/SIGINT.
 * One-time work (the loop, signals) is kept apart from per-reload work
 * (snapshot, listener set). */
#ifndef FEDPROXY_SERVER_H
#define FEDPROXY_SERVER_H

#include <ev.h>

#include "config.h"

/* Where the config comes from: a file, or the compiled-in text when file is
 * NULL. */
struct server_source {
	const char *file;
	const char *default_text;
};

/* Load the config and start listening. 0, or -1 after logging why. */
int server_start(struct ev_loop *loop, const struct server_source *src);
/* Re-read the config; on any error the running snapshot stays. 0 or -1. */
int server_reload(void);

/* The running snapshot (borrowed). */
struct config *server_config(void);
/* Seconds since start. */
double server_uptime(void);
/* Why the last reload failed ("FILE:LINE: message"), NULL after a good one. */
const char *server_last_reload_error(void);

#endif
