/* nexthop: pick or open the connection for a routing target (nexthop.h). */
#include "nexthop.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct conn *nexthop_conn(struct ev_loop *loop, const struct route_target *t,
			  struct config *cfg, const char **why)
{
	struct conn *c = t->flow ? conn_by_id(t->flow) : NULL;

	if (c && conn_state(c) != CONN_CLOSED && conn_side(c) == t->side)
		return c;
	if (t->side == SIDE_EXTERNAL && (c = conn_find_by_peer_name(t->host)))
		return c;
	if (!t->ip) {
		*why = "no address for the next hop";
		return NULL;
	}
	c = conn_find_outbound(t->side, t->transport, t->ip, t->port, t->host);
	if (c)
		return c;
	c = conn_connect(loop, t->ip, t->port, t->host, t->side, t->transport, cfg);
	if (!c)
		*why = strerror(errno);
	return c;
}

void nexthop_describe(const struct route_target *t, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s:%u/%s%s%s", t->ip ? t->ip : t->host, t->port,
		 t->transport == TRANSPORT_TLS ? "tls" : "tcp", t->node ? " node=" : "",
		 t->node ? t->node->name : "");
}
