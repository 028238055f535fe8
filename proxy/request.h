/* request: the SIP layer above the connections. Every framed message comes
 * here: responses go to their transaction; requests are checked, answered
 * locally, or routed and forwarded through a new transaction. */
#ifndef FEDPROXY_REQUEST_H
#define FEDPROXY_REQUEST_H

#include <ev.h>

#include "config.h"

/* Register as the connection handler. */
void request_init(struct ev_loop *loop);
/* The snapshot new requests are handled with (a reference is taken; the
 * previous one is released). */
void request_set_config(struct config *cfg);

#endif
