/* metrics: the Prometheus text endpoint (GET /metrics) on the [control]
 * metrics address, served by libmicrohttpd driven from our libev loop
 * (MHD's epoll descriptor is one ev_io; its timeouts one ev_timer), so the
 * counters are read on the loop's own thread. Started once (a new address
 * needs a restart). */
#ifndef FEDPROXY_METRICS_H
#define FEDPROXY_METRICS_H

#include <ev.h>

#include "config.h"

/* 0 (also when no address is configured) or -1 after logging why. */
int metrics_start(struct ev_loop *loop, const struct config *cfg);
void metrics_stop(void);

#endif
