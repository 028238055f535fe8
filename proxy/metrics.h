/* metrics: the Prometheus text endpoint (GET /metrics) on the [control]
 * metrics address, served by libmicrohttpd driven from our libev loop
 * (MHD's epoll descriptor is one ev_io; its timeouts one ev_timer), so the
 * counters are read on the loop's own thread. A reload that names another
 * address (or none) moves it, opening the new one before the reload
 * commits: an address that cannot be bound fails the reload. */
#ifndef FEDPROXY_METRICS_H
#define FEDPROXY_METRICS_H

#include <ev.h>

#include "config.h"

/* Start or reload in two steps, as control_prepare/commit/abort
 * (control.h): 0 (also when no address is configured) or -1 after logging
 * why. */
int metrics_prepare(struct ev_loop *loop, const struct config *cfg);
void metrics_commit(void);
void metrics_abort(void);
/* Stop serving (at shutdown). */
void metrics_stop(void);

#endif
