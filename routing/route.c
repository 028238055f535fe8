/* route: next-hop decision (see route.h). */
#include "route.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "proxy/sipmsg.h"

static bool is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* host is as Sofia parsed it from a URI or a Via: IPv6 in brackets. */
static bool same_hostport(const struct hostport *hp, const char *host, uint16_t port)
{
	return hp->uri_host && strcasecmp(hp->uri_host, host) == 0 && hp->port == port;
}

/* One of our external ports: the main one or a node's PAT port. */
static bool is_public_port(const struct config *cfg, uint16_t port)
{
	if (port == cfg->external_listen.port)
		return true;
	for (size_t i = 0; i < cfg->n_nodes; i++)
		if (cfg->nodes[i].public_port == port)
			return true;
	return false;
}

bool route_is_us(const struct config *cfg, const char *host, uint16_t port)
{
	if (!host)
		return false;
	if (cfg->public_fqdn && strcasecmp(host, cfg->public_fqdn) == 0)
		return port == 0 || is_public_port(cfg, port);
	if (port == 0)
		return false;
	return same_hostport(&cfg->external_listen, host, port) ||
	       same_hostport(&cfg->internal_listen, host, port) ||
	       same_hostport(&cfg->internal_advertise, host, port);
}

static void reject(struct route_target *t, int status, const char *phrase, const char *why)
{
	t->verdict = ROUTE_REJECT;
	t->status = status;
	t->phrase = phrase;
	t->why = why;
}

const struct config_node *route_source_node(const struct config *cfg, const char *via_host,
					    uint16_t via_port, const char *peer_ip)
{
	const struct config_node *by_ip = NULL;
	size_t at_ip = 0;

	for (size_t i = 0; i < cfg->n_nodes; i++) {
		const struct config_node *n = &cfg->nodes[i];

		if (via_host && same_hostport(&n->address, via_host, via_port))
			return n;
		if (peer_ip && !strcmp(n->address.host, peer_ip)) {
			by_ip = n;
			at_ip++;
		}
	}
	return at_ip == 1 ? by_ip : NULL;
}

static void to_node(struct route_target *t, const struct config_node *n, const char *why)
{
	t->verdict = ROUTE_FORWARD;
	t->side = SIDE_INTERNAL;
	t->transport = n->transport;
	t->host = n->address.host;
	t->ip = n->address.host;
	t->port = n->address.port;
	t->node = n;
	t->why = why;
}

static bool is_down(const struct route_request *req, const struct config_node *n)
{
	return req->node_down && req->node_down(n);
}

static void to_live_node(const struct route_request *req, struct route_target *t,
			 const struct config_node *n, const char *why)
{
	if (is_down(req, n)) {
		reject(t, 503, "Node Down", "the node is down");
		t->node = n;
		return;
	}
	to_node(t, n, why);
}

/* A new request from outside: the routing node, its standby while it is
 * down, or the node behind the PAT port it arrived on. */
static void new_inbound(const struct config *cfg, const struct route_request *req,
			struct route_target *t)
{
	const struct config_node *n = config_routing_node(cfg);
	const struct config_node *standby = config_standby_node(cfg);

	if (req->arrival_node && (n = config_node_by_name(cfg, req->arrival_node))) {
		to_live_node(req, t, n, "new inbound request on the node's public port");
		return;
	}
	n = config_routing_node(cfg);
	if (is_down(req, n) && standby && !is_down(req, standby)) {
		to_node(t, standby, "new inbound request, standby (routing node down)");
		return;
	}
	to_live_node(req, t, n, "new inbound request, routing node");
}

/* Toward a foreign host: reuse, static route address, or an IP literal. */
static void to_foreign_host(const struct config *cfg, struct route_target *t, const char *host,
			    uint16_t port, const char *why)
{
	const struct config_route *r;

	t->verdict = ROUTE_FORWARD;
	t->side = SIDE_EXTERNAL;
	t->transport = TRANSPORT_TLS;
	t->host = host;
	t->port = port;
	t->ip = is_ip(host) ? host : NULL;
	t->why = why;
	for (size_t i = 0; !t->ip && i < cfg->n_routes; i++) {
		r = &cfg->routes[i];
		if (strcasecmp(r->host.host, host) == 0)
			t->ip = r->address;
	}
}

static void to_domain(const struct config *cfg, struct route_target *t, const char *domain)
{
	const struct config_route *r = config_route_for(cfg, domain);

	if (!r) {
		t->verdict = ROUTE_FORWARD;
		t->side = SIDE_EXTERNAL;
		t->transport = TRANSPORT_TLS;
		t->srv_domain = domain;
		t->why = "DNS SRV _sipfederationtls._tcp";
		return;
	}
	to_foreign_host(cfg, t, r->host.host, r->host.port, "static route");
	t->ip = r->address;
}

/* An in-dialog request whose Route set ended with our entries. */
static void in_dialog(const struct config *cfg, const struct route_request *req,
		      struct route_target *t)
{
	const struct rr_token *h = req->hint;
	const url_t *ru = req->request_uri;

	if (req->arrived_on == SIDE_EXTERNAL) {
		const struct config_node *n;

		if (h && h->node[0])
			n = config_node_by_name(cfg, h->node);
		else if (req->arrival_node)
			n = config_node_by_name(cfg, req->arrival_node);
		else
			n = config_routing_node(cfg);
		if (!n) {
			reject(t, 404, "Dialog Node Unknown", "node named in Route is not configured");
			return;
		}
		to_live_node(req, t, n, "in-dialog, node from Route");
		t->flow = h ? h->flow : 0;
		return;
	}
	/* RFC 3263: a name without a port is a domain: its static route, or
	 * its SRV record. */
	if (!ru->url_port && !is_ip(ru->url_host))
		to_domain(cfg, t, ru->url_host);
	else
		to_foreign_host(cfg, t, ru->url_host, sipmsg_url_port(ru, 5061),
				"in-dialog, Request-URI");
	t->flow = h ? h->flow : 0;
}

void route_decide(const struct config *cfg, const struct route_request *req,
		  struct route_target *out)
{
	const url_t *ru = req->request_uri;

	memset(out, 0, sizeof(*out));
	if (req->next_route) {
		if (req->arrived_on == SIDE_EXTERNAL) {
			/* A foreign edge may only route through us to the inside. */
			reject(out, 403, "Route Not Allowed", "foreign Route beyond this proxy");
			return;
		}
		to_foreign_host(cfg, out, req->next_route->url_host,
				sipmsg_url_port(req->next_route, 5061), "Route header");
		out->flow = req->hint ? req->hint->flow : 0;
		return;
	}
	if (req->had_our_route) {
		in_dialog(cfg, req, out);
		return;
	}
	if (route_is_us(cfg, ru->url_host, sipmsg_url_port(ru, 0)) && !ru->url_user) {
		if (strcmp(req->method, "OPTIONS") == 0) {
			out->verdict = ROUTE_LOCAL;
			out->why = "addressed to the proxy";
		} else {
			reject(out, 404, "Not Found", "addressed to the proxy");
		}
		return;
	}
	if (req->arrived_on == SIDE_EXTERNAL)
		new_inbound(cfg, req, out);
	else
		to_domain(cfg, out, ru->url_host);
}
