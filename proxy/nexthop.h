/* nexthop: turn a routing target into a connection to send on.
 *
 * Order (DESIGN section 5): the connection named by the signed flow hint if
 * it is still open on the right side; for a foreign host, any open
 * authenticated connection whose peer certificate names that host (the
 * edge's own inbound connections count); an open outbound connection to the
 * same address; else a new connection. */
#ifndef FEDPROXY_NEXTHOP_H
#define FEDPROXY_NEXTHOP_H

#include <ev.h>

#include "conn.h"
#include "routing/route.h"

/* A borrowed connection (possibly still connecting), or NULL with *why. */
struct conn *nexthop_conn(struct ev_loop *loop, const struct route_target *t,
			  struct config *cfg, const char **why);

/* "ip:port/transport" of the target, for logs. */
void nexthop_describe(const struct route_target *t, char *out, size_t outlen);

#endif
