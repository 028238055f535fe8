/* route: where a request goes next. A pure function of (request facts,
 * config snapshot): no sockets, no DNS; the caller turns the target into a
 * connection.
 *
 * Rules (DESIGN section 3):
 *  - a new request from a foreign edge goes to the designated routing node
 *    (its standby while it is down), or, when it came in on a node's own
 *    public port (PAT), to that node;
 *  - a new request from the inside goes to the static route of the
 *    Request-URI's domain, else to the edge its DNS SRV record names (a
 *    static route that cannot be reached never falls back to DNS);
 *  - an in-dialog request (it carried our Record-Route entries back as
 *    Route) goes to the node and connection named in our signed token, or
 *    along the Route entries that remain after ours;
 *  - a request for a node that is down is answered 503 (Retry-After);
 *  - OPTIONS addressed to the proxy itself is answered locally. */
#ifndef FEDPROXY_ROUTE_H
#define FEDPROXY_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <sofia-sip/url.h>

#include "proxy/config.h"
#include "proxy/conn.h"
#include "rr.h"

/* What the caller found in the request. */
struct route_request {
	enum conn_side arrived_on;       /* side of the connection it came on */
	const char *method;              /* method name */
	const url_t *request_uri;
	const url_t *next_route;         /* first Route entry left after ours */
	const struct rr_token *hint;     /* our verified token for the side the
					    request goes to, or NULL */
	bool had_our_route;              /* at least one Route entry was ours */
	const char *arrival_node;        /* PAT: node of the public port it came
					    in on, NULL for the main port */
	bool (*node_down)(const struct config_node *n); /* NULL: all up */
};

enum route_verdict {
	ROUTE_FORWARD = 0, /* send to target */
	ROUTE_LOCAL,       /* the proxy answers it (OPTIONS to us) */
	ROUTE_REJECT,      /* answer status/phrase */
};

struct route_target {
	enum route_verdict verdict;
	int status;                      /* ROUTE_REJECT */
	const char *phrase;              /* ROUTE_REJECT */
	enum conn_side side;
	enum transport transport;
	const char *host;                /* TLS server name, or the IP */
	const char *ip;                  /* IP to dial */
	uint16_t port;
	const char *srv_domain;          /* find the edge by DNS SRV for this
					    domain (host, ip and port unset) */
	const struct config_node *node;  /* inside node, or NULL */
	uint64_t flow;                   /* preferred connection id, 0 none */
	const char *why;                 /* the rule, for the log */
};

/* Decide. String fields of the result point into cfg or into req. */
void route_decide(const struct config *cfg, const struct route_request *req,
		  struct route_target *out);

/* True when host[:port] names this proxy (public FQDN or a listener). */
bool route_is_us(const struct config *cfg, const char *host, uint16_t port);

/* The inside node a request from the inside came from: the node whose
 * address is the top Via's sent-by, else the only node at the peer's IP;
 * NULL when neither settles it. */
const struct config_node *route_source_node(const struct config *cfg, const char *via_host,
					    uint16_t via_port, const char *peer_ip);

#endif
