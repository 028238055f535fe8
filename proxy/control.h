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
 * A reload that names another path (or none) moves the socket: the new
 * one is opened before the reload commits, so a path that cannot be bound
 * fails the reload and the old socket stays. */
#ifndef FEDPROXY_CONTROL_H
#define FEDPROXY_CONTROL_H

#include <ev.h>

#include "config.h"

/* Start or reload in two steps: prepare opens cfg's socket when its path
 * differs from the running one (0, also when cfg names none, or -1 after
 * logging why); then commit listens on it and closes the old one, or abort
 * closes what prepare opened. */
int control_prepare(struct ev_loop *loop, const struct config *cfg);
void control_commit(void);
void control_abort(void);
/* Close the socket (at shutdown). */
void control_stop(void);

#endif
