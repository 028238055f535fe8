/* test_route: the next-hop decision (routing/route.h).
 *
 * route_decide() is pure, so each row is the request facts and the whole
 * expected target. The config is TEST_CONFIG_VALID (helpers.h): routing
 * node r1 at 127.0.0.1:5070, member m1 at 127.0.0.2:5072, public FQDN
 * fedproxy.example.test, listeners 127.0.0.1:5061 (external) and
 * 127.0.0.1:5060 (internal, advertised as 10.1.2.3:5066), and a static route
 * partner.example.test -> edge.partner.example.test:5062 at 192.0.2.10.
 * A domain without a static route is found through DNS SRV: the target then
 * names srv_domain, and the caller resolves it. */
#include "helpers.h"

#include <stdint.h>
#include <stdio.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include "routing/route.h"

static struct config *cfg;

#define EXT SIDE_EXTERNAL
#define INT SIDE_INTERNAL
#define NO_HINT NULL, 0

struct want_target {
	enum route_verdict verdict;
	int status;                /* ROUTE_REJECT only */
	enum conn_side side;       /* ROUTE_FORWARD only, from here on */
	enum transport transport;
	const char *host;
	const char *ip;
	unsigned port;
	const char *node;          /* name, or NULL for none */
	uint64_t flow;
	const char *srv_domain;    /* when set, host and port are not checked */
};

struct route_row {
	int line;
	const char *desc;
	enum conn_side from;
	const char *method;
	const char *ruri;
	const char *next_route;    /* or NULL */
	bool had_our_route;
	const char *hint_node;     /* NULL: no hint at all */
	uint64_t hint_flow;
	struct want_target want;
};

#define TO_R1 { ROUTE_FORWARD, 0, INT, TRANSPORT_TCP, "127.0.0.1", "127.0.0.1", 5070, "r1", 0 }
#define TO_PARTNER                                                             \
	{ ROUTE_FORWARD, 0, EXT, TRANSPORT_TLS, "edge.partner.example.test", "192.0.2.10", \
	  5062, NULL, 0 }
#define SRV(domain, flow)                                                      \
	{ ROUTE_FORWARD, 0, EXT, TRANSPORT_TLS, NULL, NULL, 0, NULL, flow, domain }
#define REJECT(status) { ROUTE_REJECT, status }
#define LOCAL { ROUTE_LOCAL }

static const struct route_row rows[] = {
	/* ---- new requests ---- */
	{ ROW("inbound INVITE goes to the routing node"), EXT, "INVITE",
	  "sip:alice@example.test", NULL, false, NO_HINT, TO_R1 },
	{ ROW("inbound, whatever the domain, goes to the routing node"), EXT, "MESSAGE",
	  "sip:bob@partner.example.test", NULL, false, NO_HINT, TO_R1 },
	{ ROW("outbound to a routed domain"), INT, "MESSAGE", "sip:bob@partner.example.test",
	  NULL, false, NO_HINT, TO_PARTNER },
	{ ROW("outbound, domain in another case"), INT, "SUBSCRIBE",
	  "sip:bob@PARTNER.Example.TEST", NULL, false, NO_HINT, TO_PARTNER },
	{ ROW("outbound to a domain without a static route: DNS SRV"), INT, "MESSAGE",
	  "sip:bob@unknown.test", NULL, false, NO_HINT, SRV("unknown.test", 0) },
	{ ROW("outbound to a subdomain of a routed domain: DNS SRV"), INT, "MESSAGE",
	  "sip:bob@sub.partner.example.test", NULL, false, NO_HINT,
	  SRV("sub.partner.example.test", 0) },
	/* ---- Route headers beyond ours ---- */
	{ ROW("inbound with a foreign next Route"), EXT, "MESSAGE", "sip:alice@example.test",
	  "sip:evil.test;lr", false, NO_HINT, REJECT(403) },
	{ ROW("inbound in-dialog with a foreign Route after ours"), EXT, "BYE",
	  "sip:alice@127.0.0.2", "sip:evil.test;lr", true, "m1", 3, REJECT(403) },
	{ ROW("outbound along a Route to the route's host"), INT, "BYE", "sip:bob@198.51.100.9",
	  "sip:edge.partner.example.test:5062;lr", true, NO_HINT, TO_PARTNER },
	{ ROW("outbound along a Route to an IP, with a flow hint"), INT, "BYE",
	  "sip:bob@edge.partner.example.test", "sip:198.51.100.7:5070;lr", true, "", 9,
	  { ROUTE_FORWARD, 0, EXT, TRANSPORT_TLS, "198.51.100.7", "198.51.100.7", 5070, NULL,
	    9 } },
	{ ROW("outbound along a Route to an unknown name: to be resolved"), INT, "BYE",
	  "sip:bob@partner.example.test", "sip:other.test;lr", true, NO_HINT,
	  { ROUTE_FORWARD, 0, EXT, TRANSPORT_TLS, "other.test", NULL, 5061, NULL, 0 } },
	/* ---- in-dialog, our Record-Route came back ---- */
	{ ROW("inbound in-dialog to the hint's node and flow"), EXT, "BYE",
	  "sip:alice@127.0.0.2:5072", NULL, true, "m1", 0x1234,
	  { ROUTE_FORWARD, 0, INT, TRANSPORT_TCP, "127.0.0.2", "127.0.0.2", 5072, "m1",
	    0x1234 } },
	{ ROW("inbound in-dialog without a hint: routing node"), EXT, "BYE",
	  "sip:alice@127.0.0.2:5072", NULL, true, NO_HINT, TO_R1 },
	{ ROW("inbound in-dialog, hint without node: routing node, hint's flow"), EXT, "BYE",
	  "sip:alice@127.0.0.2:5072", NULL, true, "", 5,
	  { ROUTE_FORWARD, 0, INT, TRANSPORT_TCP, "127.0.0.1", "127.0.0.1", 5070, "r1", 5 } },
	{ ROW("inbound in-dialog, hint names an unknown node"), EXT, "BYE",
	  "sip:alice@127.0.0.2:5072", NULL, true, "ghost", 5, REJECT(404) },
	{ ROW("outbound in-dialog to an IP contact"), INT, "BYE", "sip:bob@192.0.2.55:5065", NULL,
	  true, NO_HINT,
	  { ROUTE_FORWARD, 0, EXT, TRANSPORT_TLS, "192.0.2.55", "192.0.2.55", 5065, NULL, 0 } },
	{ ROW("outbound in-dialog to the route's host: its address"), INT, "BYE",
	  "sip:bob@edge.partner.example.test:5063", NULL, true, NO_HINT,
	  { ROUTE_FORWARD, 0, EXT, TRANSPORT_TLS, "edge.partner.example.test", "192.0.2.10", 5063,
	    NULL, 0 } },
	/* A Request-URI naming a domain with a static route uses the route,
	 * as new requests do: DNS must not be used for that partner. */
	{ ROW("outbound in-dialog to a domain: its static route"), INT, "BYE",
	  "sip:bob@partner.example.test", NULL, true, NO_HINT, TO_PARTNER },
	{ ROW("outbound in-dialog to an unknown domain, with a flow"), INT, "BYE",
	  "sip:bob@elsewhere.test", NULL, true, "", 7, SRV("elsewhere.test", 7) },
	{ ROW("outbound in-dialog to an unknown domain, no flow"), INT, "BYE",
	  "sip:bob@elsewhere.test", NULL, true, NO_HINT, SRV("elsewhere.test", 0) },
	{ ROW("outbound in-dialog to a name with a port: no SRV"), INT, "BYE",
	  "sip:bob@elsewhere.test:5070", NULL, true, NO_HINT,
	  { ROUTE_FORWARD, 0, EXT, TRANSPORT_TLS, "elsewhere.test", NULL, 5070, NULL, 0 } },
	/* ---- addressed to the proxy ---- */
	{ ROW("OPTIONS to the public FQDN"), EXT, "OPTIONS", "sip:fedproxy.example.test", NULL,
	  false, NO_HINT, LOCAL },
	{ ROW("OPTIONS to the FQDN in another case, external port"), EXT, "OPTIONS",
	  "sip:FEDPROXY.example.TEST:5061", NULL, false, NO_HINT, LOCAL },
	{ ROW("OPTIONS to the FQDN on a port that is not ours"), EXT, "OPTIONS",
	  "sip:fedproxy.example.test:5099", NULL, false, NO_HINT, TO_R1 },
	{ ROW("OPTIONS with a user part is for a user"), EXT, "OPTIONS",
	  "sip:alice@fedproxy.example.test", NULL, false, NO_HINT, TO_R1 },
	{ ROW("OPTIONS from inside to the internal listener"), INT, "OPTIONS",
	  "sip:127.0.0.1:5060", NULL, false, NO_HINT, LOCAL },
	{ ROW("OPTIONS from inside to the advertised address"), INT, "OPTIONS",
	  "sip:10.1.2.3:5066", NULL, false, NO_HINT, LOCAL },
	{ ROW("MESSAGE to the proxy itself"), EXT, "MESSAGE", "sip:fedproxy.example.test", NULL,
	  false, NO_HINT, REJECT(404) },
	{ ROW("INVITE from inside to the proxy itself"), INT, "INVITE", "sip:127.0.0.1:5060",
	  NULL, false, NO_HINT, REJECT(404) },
};

static void check_target(const struct route_row *r, const struct route_target *t)
{
	const struct want_target *w = &r->want;

	if (!CHECK_INT(r, t->verdict, w->verdict))
		return;
	if (w->verdict == ROUTE_REJECT) {
		CHECK_INT(r, t->status, w->status);
		CHECK_TRUE(r, t->phrase && *t->phrase);
		return;
	}
	CHECK_TRUE(r, t->why && *t->why);
	if (w->verdict != ROUTE_FORWARD)
		return;
	CHECK_INT(r, t->side, w->side);
	CHECK_INT(r, t->transport, w->transport);
	CHECK_STR(r, t->srv_domain, w->srv_domain);
	CHECK_STR(r, t->ip, w->ip);
	if (!w->srv_domain) {
		CHECK_STR(r, t->host, w->host);
		CHECK_INT(r, t->port, w->port);
	}
	CHECK_STR(r, t->node ? t->node->name : NULL, w->node);
	CHECK_INT(r, t->flow, w->flow);
}

static void test_decide_table(void **state)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const struct route_row *r = &rows[i];
		struct rr_token hint = { .side = r->from == EXT ? 'i' : 'e', .flow = r->hint_flow };
		struct route_request req = {
			.arrived_on = r->from,
			.method = r->method,
			.request_uri = url_make(home, r->ruri),
			.next_route = r->next_route ? url_make(home, r->next_route) : NULL,
			.hint = r->hint_node ? &hint : NULL,
			.had_our_route = r->had_our_route,
		};
		struct route_target t;

		if (r->hint_node)
			snprintf(hint.node, sizeof(hint.node), "%s", r->hint_node);
		if (!CHECK_TRUE(r, req.request_uri && (req.next_route || !r->next_route)))
			continue;
		route_decide(cfg, &req, &t);
		check_target(r, &t);
	}
	su_home_deinit(home);
	rows_done();
}

struct is_us_row {
	int line;
	const char *desc;
	const char *host;
	unsigned port;
	bool want;
};

static const struct is_us_row is_us_rows[] = {
	{ ROW("public FQDN, no port"), "fedproxy.example.test", 0, true },
	{ ROW("public FQDN in another case, external port"), "FedProxy.Example.Test", 5061, true },
	{ ROW("public FQDN, internal port"), "fedproxy.example.test", 5060, false },
	{ ROW("external listener"), "127.0.0.1", 5061, true },
	{ ROW("internal listener"), "127.0.0.1", 5060, true },
	{ ROW("advertised internal address"), "10.1.2.3", 5066, true },
	{ ROW("advertised host, other port"), "10.1.2.3", 5060, false },
	{ ROW("listener IP without a port"), "127.0.0.1", 0, false },
	{ ROW("the routing node is not us"), "127.0.0.1", 5070, false },
	{ ROW("the partner's edge"), "edge.partner.example.test", 5062, false },
	{ ROW("a suffix of our FQDN"), "example.test", 0, false },
	{ ROW("no host"), NULL, 0, false },
};

static void test_is_us_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(is_us_rows); i++) {
		const struct is_us_row *r = &is_us_rows[i];

		CHECK_INT(r, route_is_us(cfg, r->host, (uint16_t)r->port), r->want);
	}
	rows_done();
}

/* The config above with an IPv6 inside. Sofia hands URI and Via hosts over
 * with their brackets, so that is how they must match. */
static void test_ipv6_hosts(void **state)
{
	struct config *c = config_load_pki("route6.conf", TEST_CONFIG_VALID
					   "[internal]\n"
					   "listen = [::1]:5060\n"
					   "advertise = [2001:db8::5]:5066\n"
					   "[node v6]\n"
					   "address = [2001:db8::7]:5074\n"
					   "role = member\n");
	const struct config_node *n;

	assert_non_null(c);
	assert_true(route_is_us(c, "[2001:db8::5]", 5066));
	assert_true(route_is_us(c, "[::1]", 5060));
	assert_false(route_is_us(c, "[2001:db8::5]", 5060));
	assert_false(route_is_us(c, "[2001:db8::7]", 5074));
	n = route_source_node(c, "[2001:db8::7]", 5074, NULL);
	assert_non_null(n);
	assert_string_equal(n->name, "v6");
	/* The socket's peer address is bare. */
	n = route_source_node(c, NULL, 0, "2001:db8::7");
	assert_non_null(n);
	assert_string_equal(n->name, "v6");
	config_unref(c);
}

static int setup(void **state)
{
	cfg = config_load_pki("route.conf", TEST_CONFIG_VALID);
	if (!cfg)
		pki_remove(); /* cmocka skips the teardown of a failed setup */
	return cfg ? 0 : -1;
}

static int teardown(void **state)
{
	config_unref(cfg);
	pki_remove();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_table),
		cmocka_unit_test(test_is_us_table),
		cmocka_unit_test(test_ipv6_hosts),
	};

	return cmocka_run_group_tests_name("route", tests, setup, teardown);
}
