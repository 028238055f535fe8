/* control: the local control socket fedproxyctl talks to.
 *
 * A client connects to the Unix socket, writes one command line and reads
 * the answer until the proxy closes the connection:
 *   status       version, uptime, config, listeners' counts, nodes' health
 *   connections  the federated connections (as Expressway's "view
 *                federated connections"): peer, direction, certificate
 *                name, domain, age, idle time, message counts
 *   stats        the counters (stats.h)
 *   reload       the same as SIGHUP; answers "reload ok" or
 *                "reload failed: FILE:LINE: message"
 * The socket is created once, at start (a new path needs a restart). */
#ifndef FEDPROXY_CONTROL_H
#define FEDPROXY_CONTROL_H

#include <ev.h>

#include "config.h"

/* Listen on cfg's control socket (none when it names none). 0 or -1. */
int control_start(struct ev_loop *loop, const struct config *cfg);
void control_stop(void);

#endif
