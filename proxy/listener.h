/* listener: the listening sockets a config snapshot asks for: the external
 * (federation, mutual TLS) port, one external port per node that has a
 * public_port (PAT), and the internal port. Reload reconciles the set: what
 * is new is opened first, and only when all of it opened is what was dropped
 * closed, so a reload that cannot bind changes nothing. */
#ifndef FEDPROXY_LISTENER_H
#define FEDPROXY_LISTENER_H

#include <ev.h>

#include "config.h"

/* Make the listeners match cfg; new connections get cfg (a reference is
 * kept). 0, or -1 after logging why (the old set stays). */
int listeners_apply(struct ev_loop *loop, struct config *cfg);
/* Stop listening (shutdown). */
void listeners_close_all(void);

#endif
