/* health: OPTIONS probes to every inside node, and which nodes are down.
 *
 * Each node gets an OPTIONS every [health] interval on its usual connection.
 * Any response within [health] timeout counts as alive; a node that misses
 * [health] failures probes in a row is down, and one answered probe brings
 * it back. State changes are logged. Routing asks health_node_down() (new
 * inbound requests go to the standby while the routing node is down; a
 * request for a down node gets 503). State is kept by node name across
 * reloads. */
#ifndef FEDPROXY_HEALTH_H
#define FEDPROXY_HEALTH_H

#include <stdbool.h>
#include <ev.h>
#include <sofia-sip/msg.h>

#include "config.h"
#include "conn.h"

void health_init(struct ev_loop *loop);
/* Probe the nodes of cfg (a new snapshot): new nodes start as up, removed
 * ones are forgotten, the others keep their state. */
void health_apply(struct config *cfg);
bool health_node_down(const struct config_node *n);
/* A response to one of our probes? Then it is consumed (msg destroyed). */
bool health_take_response(struct conn *c, msg_t *msg);
/* Stop probing (shutdown). */
void health_stop(void);

#endif
