/* test_config: the INI loader (proxy/config.h).
 *
 * A table of broken configs, each with the FILE:LINE and the words the error
 * log must show; the values of a valid config and the defaults; file-based
 * loading (relative paths, the shipped example); hostport_parse. The
 * certificates come from a PKI made once for this program (helpers.h). */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/config.h"

#define NAME "unit.conf"

/* Pieces of a small valid config; the line numbers in the table count them:
 * PROXY is lines 1-2, EXTERNAL 3-7 (certificate on 5, key on 6, ca_bundle
 * on 7), INTERNAL 8-9, ROUTING_NODE 10-12. Every text loaded gets POLICY
 * appended unless it has a [policy] section, so errors about something
 * missing, which name the last line, are written LAST. */
#define PROXY "[proxy]\npublic_fqdn = fedproxy.example.test\n"
#define EXT_FILES                                                              \
	"certificate = @PKI@/fedproxy-chain.pem\n"                             \
	"key = @PKI@/fedproxy.key\n"                                           \
	"ca_bundle = @PKI@/ca.pem\n"
#define EXTERNAL "[external]\nlisten = 127.0.0.1:5061\n" EXT_FILES
#define INTERNAL "[internal]\nlisten = 127.0.0.1:5060\n"
#define ROUTING_NODE "[node r1]\naddress = 127.0.0.1:5070\nrole = routing\n"
#define GOOD PROXY EXTERNAL INTERNAL ROUTING_NODE
#define POLICY "[policy]\nlocal_domains = example.test\n"
#define LAST 0

/* ---- broken configs ---- */

struct want_error {
	unsigned line; /* LAST: the last line of the text */
	const char *words;
};

struct broken_row {
	int line;
	const char *desc;
	const char *text;
	struct want_error errors[2]; /* the second is optional (words NULL) */
};

static const struct broken_row broken_rows[] = {
	/* ---- syntax and keys ---- */
	{ ROW("syntax error line"), PROXY "this is not ini\n" EXTERNAL INTERNAL ROUTING_NODE,
	  { { 3, "syntax error" } } },
	{ ROW("unknown key"), PROXY "colour = blue\n" EXTERNAL INTERNAL ROUTING_NODE,
	  { { 3, "unknown key 'colour' in [proxy]" } } },
	{ ROW("key of another section"), PROXY "listen = 127.0.0.1:1\n" EXTERNAL INTERNAL
	  ROUTING_NODE,
	  { { 3, "unknown key 'listen' in [proxy]" } } },
	{ ROW("unknown section (reported at its header)"), GOOD "[bogus]\nfoo = 1\n",
	  { { 13, "unknown section [bogus]" } } },
	{ ROW("an empty [node] section still counts (and lacks an address)"),
	  GOOD "[node empty]\n", { { 13, "[node empty] needs 'address'" } } },
	{ ROW("every error is reported, not just the first"),
	  PROXY "log_level = loud\ntrace = maybe\n" EXTERNAL INTERNAL ROUTING_NODE,
	  { { 3, "log_level = loud: expected error, warn, info or debug" },
	    { 4, "trace = maybe: expected yes or no" } } },
	/* ---- values ---- */
	{ ROW("max_message_size too small"), PROXY "max_message_size = 12\n" EXTERNAL INTERNAL
	  ROUTING_NODE, { { 3, "max_message_size = 12: expected a size in bytes from 1024" } } },
	{ ROW("max_message_size over 64 MiB"), PROXY "max_message_size = 67108865\n" EXTERNAL
	  INTERNAL ROUTING_NODE, { { 3, "max_message_size = 67108865: expected a size" } } },
	{ ROW("max_message_size negative"), PROXY "max_message_size = -2048\n" EXTERNAL INTERNAL
	  ROUTING_NODE, { { 3, "max_message_size = -2048: expected a size" } } },
	{ ROW("idle_timeout negative"), PROXY "idle_timeout = -1\n" EXTERNAL INTERNAL ROUTING_NODE,
	  { { 3, "idle_timeout = -1: expected a duration in seconds" } } },
	{ ROW("idle_timeout zero"), PROXY "idle_timeout = 0\n" EXTERNAL INTERNAL ROUTING_NODE,
	  { { 3, "idle_timeout = 0: expected a duration" } } },
	{ ROW("invite_timeout with a unit"), PROXY "invite_timeout = 3m\n" EXTERNAL INTERNAL
	  ROUTING_NODE, { { 3, "invite_timeout = 3m: expected a duration" } } },
	{ ROW("drain_timeout nan"), PROXY "drain_timeout = nan\n" EXTERNAL INTERNAL ROUTING_NODE,
	  { { 3, "drain_timeout = nan: expected a duration" } } },
	{ ROW("public_fqdn with a port"), "[proxy]\npublic_fqdn = fedproxy.example.test:5061\n"
	  EXTERNAL INTERNAL ROUTING_NODE,
	  { { 2, "public_fqdn = fedproxy.example.test:5061: expected a host name" } } },
	{ ROW("listen without a port"), PROXY "[external]\nlisten = nocolon\n" EXT_FILES INTERNAL
	  ROUTING_NODE, { { 4, "listen = nocolon: expected host:port" } } },
	{ ROW("external listen is a name"), PROXY "[external]\nlisten = localhost:5061\n" EXT_FILES
	  INTERNAL ROUTING_NODE, { { 4, "[external] listen must be an IP address" } } },
	{ ROW("internal listen is a name"), PROXY EXTERNAL "[internal]\nlisten = localhost:5060\n"
	  ROUTING_NODE, { { 9, "[internal] listen must be an IP address" } } },
	{ ROW("listen with port 0"), PROXY EXTERNAL "[internal]\nlisten = 127.0.0.1:0\n"
	  ROUTING_NODE, { { 9, "listen = 127.0.0.1:0: expected host:port" } } },
	{ ROW("internal transport udp"), GOOD "[internal]\ntransport = udp\n",
	  { { 14, "transport = udp: expected tcp or tls" } } },
	{ ROW("node role boss"), PROXY EXTERNAL INTERNAL "[node r1]\naddress = 127.0.0.1:5070\n"
	  "role = boss\n", { { 12, "role = boss: expected routing, standby or member" } } },
	{ ROW("route port 0"), GOOD "[route p.test]\nhost = 192.0.2.1\nport = 0\n",
	  { { 15, "port = 0: expected a port from 1 to 65535" } } },
	{ ROW("route address not an IP"),
	  GOOD "[route p.test]\nhost = e.p.test\naddress = e.p.test\n",
	  { { 15, "address = e.p.test: expected an IPv4 or IPv6 address" } } },
	/* ---- nodes ---- */
	{ ROW("duplicate [node r1], apart"),
	  GOOD "[node m1]\naddress = 127.0.0.2:5070\n[node r1]\naddress = 127.0.0.3:5070\n",
	  { { 15, "a [node] section of this name already exists" } } },
	/* A section opens a new entry even when it repeats the name of the
	 * section just before it. */
	{ ROW("duplicate [node r1], back to back"), GOOD "[node r1]\naddress = 127.0.0.9:5070\n",
	  { { 13, "a [node] section of this name already exists" } } },
	{ ROW("duplicate [route]"), GOOD "[route p.test]\nhost = 192.0.2.1\n[route P.TEST]\n"
	  "host = 192.0.2.2\n", { { 15, "a [route] section for this domain already exists" } } },
	{ ROW("no routing node"), PROXY EXTERNAL INTERNAL "[node m1]\naddress = 127.0.0.2:5070\n"
	  "role = member\n", { { LAST, "exactly one [node] needs 'role = routing' (found 0)" } } },
	{ ROW("no node at all"), PROXY EXTERNAL INTERNAL,
	  { { LAST, "exactly one [node] needs 'role = routing' (found 0)" } } },
	{ ROW("two routing nodes"), GOOD "[node r2]\naddress = 127.0.0.3:5070\nrole = routing\n",
	  { { LAST, "exactly one [node] needs 'role = routing' (found 2)" } } },
	{ ROW("node without address"), GOOD "[node m1]\nrole = member\n",
	  { { 13, "[node m1] needs 'address'" } } },
	{ ROW("node address is a name"), PROXY EXTERNAL INTERNAL
	  "[node r1]\nrole = routing\naddress = localhost:5070\n",
	  { { 12, "[node r1] address must be an IP address" } } },
	{ ROW("node name with a dot"), GOOD "[node m.1]\naddress = 127.0.0.2:5070\n",
	  { { 13, "node names are letters, digits, '-' and '_'" } } },
	/* Longer than inih's 50-byte section buffer: the whole name must
	 * reach the check. */
	{ ROW("node name of 65 characters"), GOOD "[node {x65}]\naddress = 127.0.0.2:5070\n",
	  { { 13, "node names are letters, digits, '-' and '_' (at most 64)" } } },
	/* ---- whole-file checks ---- */
	{ ROW("missing public_fqdn"), "[proxy]\nlog_level = info\n" EXTERNAL INTERNAL ROUTING_NODE,
	  { { LAST, "[proxy] needs 'public_fqdn'" } } },
	{ ROW("missing external listen"), PROXY "[external]\n" EXT_FILES INTERNAL ROUTING_NODE,
	  { { LAST, "[external] needs 'listen'" } } },
	{ ROW("missing internal listen"), PROXY EXTERNAL "[internal]\ntransport = tcp\n"
	  ROUTING_NODE, { { LAST, "[internal] needs 'listen'" } } },
	{ ROW("route without host"), GOOD "[route p.test]\nport = 5061\n",
	  { { 13, "[route p.test] needs 'host'" } } },
	{ ROW("route by name without address"), GOOD "[route p.test]\nhost = e.p.test\n",
	  { { 13, "[route p.test] needs 'address'" } } },
	/* ---- TLS material ---- */
	{ ROW("unreadable certificate file"), PROXY "[external]\nlisten = 127.0.0.1:5061\n"
	  "certificate = @PKI@/missing.pem\nkey = @PKI@/fedproxy.key\nca_bundle = @PKI@/ca.pem\n"
	  INTERNAL ROUTING_NODE, { { 5, "certificate = " } } },
	{ ROW("missing key"), PROXY "[external]\nlisten = 127.0.0.1:5061\n"
	  "certificate = @PKI@/fedproxy-chain.pem\nca_bundle = @PKI@/ca.pem\n" INTERNAL
	  ROUTING_NODE, { { LAST, "[external] needs 'key'" } } },
	{ ROW("expired certificate"), PROXY "[external]\nlisten = 127.0.0.1:5061\n"
	  "certificate = @PKI@/expired.pem\nkey = @PKI@/expired.key\nca_bundle = @PKI@/ca.pem\n"
	  INTERNAL ROUTING_NODE, { { 5, "has expired" } } },
	{ ROW("key does not match the certificate"), PROXY "[external]\nlisten = 127.0.0.1:5061\n"
	  "certificate = @PKI@/fedproxy-chain.pem\nkey = @PKI@/partner.key\n"
	  "ca_bundle = @PKI@/ca.pem\n" INTERNAL ROUTING_NODE, { { 6, "cannot use key" } } },
	{ ROW("CA bundle holds no certificate"), PROXY "[external]\nlisten = 127.0.0.1:5061\n"
	  "certificate = @PKI@/fedproxy-chain.pem\nkey = @PKI@/fedproxy.key\n"
	  "ca_bundle = @PKI@/fedproxy.key\n" INTERNAL ROUTING_NODE,
	  { { 7, "no CA certificate loaded" } } },
	{ ROW("bad TLS priority"), PROXY EXTERNAL "tls_priority = NORMAL:+BOGUS\n" INTERNAL
	  ROUTING_NODE, { { 8, "bad TLS priority string" } } },
	{ ROW("client_certificate without client_key"), PROXY EXTERNAL
	  "client_certificate = @PKI@/fedproxy-chain.pem\n" INTERNAL ROUTING_NODE,
	  { { 8, "client_certificate and client_key go together" } } },
	{ ROW("internal TLS without certificates"), PROXY EXTERNAL
	  "[internal]\nlisten = 127.0.0.1:5060\ntransport = tls\n" ROUTING_NODE,
	  { { LAST, "[internal] needs 'certificate'" } } },
};

/* text in the "{cN}" notation, expanded, with POLICY appended when it has
 * no [policy]. */
static char *widen(const char *text)
{
	size_t len;
	char *wide = repeat_expand(text, &len);

	if (strstr(wide, "[policy]"))
		return wide;
	wide = realloc(wide, len + sizeof(POLICY));
	assert_non_null(wide);
	memcpy(wide + len, POLICY, sizeof(POLICY));
	return wide;
}

/* Load text (widened), capturing the log; *last gets its number of lines. */
static struct config *load_logged(const char *text, char **log, unsigned *last)
{
	char *wide = widen(text);
	struct config *c;

	if (last) {
		*last = 0;
		for (const char *p = wide; (p = strchr(p, '\n')); p++)
			++*last;
	}
	capture_begin();
	c = config_load_pki(NAME, wide);
	*log = capture_end();
	free(wide);
	return c;
}

/* A log line holding "NAME:LINE: " followed (anywhere later) by words. */
static bool logged(const char *log, unsigned line, const char *words)
{
	char where[64];
	int n = snprintf(where, sizeof(where), " %s:%u: ", NAME, line);

	for (const char *p = log; (p = strstr(p, where)); p += n) {
		const char *eol = strchr(p, '\n');
		const char *w = strstr(p + n, words);

		if (w && (!eol || w < eol))
			return true;
	}
	return false;
}

static void test_broken_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(broken_rows); i++) {
		const struct broken_row *r = &broken_rows[i];
		char *log;
		unsigned last;
		struct config *c = load_logged(r->text, &log, &last);

		CHECK_TRUE(r, c == NULL);
		for (int e = 0; e < 2 && r->errors[e].words; e++) {
			unsigned line = r->errors[e].line == LAST ? last : r->errors[e].line;

			row_check(__FILE__, r->line, r->desc, logged(log, line, r->errors[e].words),
				  "no \"%s:%u: ...%s\" in the log:\n%s", NAME, line,
				  r->errors[e].words, log);
		}
		config_unref(c);
		free(log);
	}
	rows_done();
}

/* Long lines and long section names: a config either keeps them whole or
 * is refused naming their line. Returns the config, or NULL after checking
 * the refusal. */
static struct config *whole_or_refused_at(const char *text, unsigned line)
{
	char *log;
	struct config *c = load_logged(text, &log, NULL);
	bool ok = c || (logged(log, line, "") && !logged(log, line + 1, ""));

	if (!ok)
		print_error("refused, but not (only) at line %u:\n%s", line, log);
	free(log);
	assert_true(ok);
	return c;
}

/* A line longer than inih's 200-byte buffer keeps its whole value. */
static void test_long_line(void **state)
{
	struct config *c = whole_or_refused_at(PROXY "route_secret = {x300}\n" EXTERNAL INTERNAL
					       ROUTING_NODE, 3);
	size_t len = c ? strlen(c->route_secret) : 300;

	config_unref(c);
	assert_int_equal(len, 300);
}

/* A [route DOMAIN] name longer than inih's 50-byte section buffer is kept
 * whole, so the route is found for the real domain. */
static void test_long_route_domain(void **state)
{
	static const char domain[] = "presence.federation.partner-company.example.test";
	char text[512];
	struct config *c;
	bool found;

	snprintf(text, sizeof(text), GOOD "[route %s]\nhost = 192.0.2.1\n", domain);
	c = whole_or_refused_at(text, 13);
	found = !c || config_route_for(c, domain);
	config_unref(c);
	assert_true(found);
}

/* ---- valid configs ---- */

static void test_valid_values(void **state)
{
	char *log;
	struct config *c = load_logged(TEST_CONFIG_VALID, &log, NULL);
	const struct config_node *r1, *m1;
	const struct config_route *rt;
	char path[256];

	assert_string_equal(log, "");
	free(log);
	assert_non_null(c);
	assert_string_equal(c->file, NAME);
	assert_string_equal(c->public_fqdn, "fedproxy.example.test");
	assert_string_equal(c->route_secret, "unit-secret");
	assert_string_equal(c->external_listen.host, "127.0.0.1");
	assert_int_equal(c->external_listen.port, 5061);
	assert_string_equal(c->internal_listen.host, "127.0.0.1");
	assert_int_equal(c->internal_listen.port, 5060);
	assert_string_equal(c->internal_advertise.host, "10.1.2.3");
	assert_int_equal(c->internal_advertise.port, 5066);
	snprintf(path, sizeof(path), "%s/fedproxy-chain.pem", pki_dir());
	assert_string_equal(c->external_tls.certificate.path, path);
	assert_int_equal(c->external_tls.certificate.line, 6);
	assert_non_null(c->external_tls.server);
	assert_ptr_equal(c->external_tls.client, c->external_tls.server);
	assert_null(c->internal_tls.server); /* internal is plain TCP */

	assert_int_equal(c->n_nodes, 2);
	r1 = config_routing_node(c);
	assert_non_null(r1);
	assert_string_equal(r1->name, "r1");
	assert_int_equal(r1->role, NODE_ROUTING);
	assert_int_equal(r1->transport, TRANSPORT_TCP);
	assert_string_equal(r1->address.host, "127.0.0.1");
	assert_int_equal(r1->address.port, 5070);
	assert_int_equal(r1->line, 12);
	m1 = config_node_by_name(c, "m1");
	assert_non_null(m1);
	assert_int_equal(m1->role, NODE_MEMBER);
	assert_string_equal(m1->address.host, "127.0.0.2");
	assert_int_equal(m1->address.port, 5072);
	assert_null(config_node_by_name(c, "M1")); /* node names are exact */

	assert_int_equal(c->n_routes, 1);
	rt = config_route_for(c, "Partner.EXAMPLE.test");
	assert_non_null(rt);
	assert_string_equal(rt->domain, "partner.example.test");
	assert_string_equal(rt->host.host, "edge.partner.example.test");
	assert_int_equal(rt->host.port, 5062);
	assert_string_equal(rt->address, "192.0.2.10");
	assert_null(config_route_for(c, "example.test"));

	/* References: the snapshot lives until the last unref. */
	assert_ptr_equal(config_ref(c), c);
	config_unref(c);
	assert_string_equal(c->public_fqdn, "fedproxy.example.test");
	config_unref(c);
}

static void test_defaults(void **state)
{
	char *log;
	struct config *c = load_logged(GOOD "[route p.test]\nhost = 192.0.2.7\n", &log, NULL);

	assert_string_equal(log, "");
	free(log);
	assert_non_null(c);
	assert_int_equal(c->max_message_size, 1048576);
	assert_true(c->idle_timeout == 1800);
	assert_true(c->handshake_timeout == 10);
	assert_true(c->message_timeout == 30);
	assert_true(c->transaction_timeout == 32);
	assert_true(c->invite_timeout == 180);
	assert_true(c->drain_timeout == 5);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_false(c->trace);
	assert_int_equal(c->internal_transport, TRANSPORT_TCP);
	/* No advertise: the listen address. */
	assert_string_equal(c->internal_advertise.host, "127.0.0.1");
	assert_int_equal(c->internal_advertise.port, 5060);
	/* No route_secret: 32 random bytes in hex. */
	assert_non_null(c->route_secret);
	assert_int_equal(strlen(c->route_secret), 64);
	assert_int_equal(strspn(c->route_secret, "0123456789abcdef"), 64);
	/* A route's port defaults to 5061, its address to none. */
	assert_int_equal(c->routes[0].host.port, 5061);
	assert_null(c->routes[0].address);
	config_unref(c);
}

static void test_values_set(void **state)
{
	char *log;
	struct config *c = load_logged(PROXY "log_level = debug\ntrace = yes\n"
				       "max_message_size = 4096\nidle_timeout = 0.5\n"
				       EXTERNAL INTERNAL ROUTING_NODE
				       "[node m2]\naddress = [::1]:5080\n", &log, NULL);

	assert_string_equal(log, "");
	free(log);
	assert_non_null(c);
	assert_int_equal(c->log_level, LOG_LVL_DEBUG);
	assert_true(c->trace);
	assert_int_equal(c->max_message_size, 4096);
	assert_true(c->idle_timeout == 0.5);
	assert_string_equal(c->nodes[1].address.host, "::1");
	assert_int_equal(c->nodes[1].address.port, 5080);
	assert_int_equal(c->nodes[1].role, NODE_MEMBER);
	config_unref(c);
}

/* ---- from files ---- */

static char *write_file(const char *name, const char *text)
{
	char *path = malloc(512);
	FILE *f;

	assert_non_null(path);
	snprintf(path, 512, "%s/%s", pki_dir(), name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Relative file names resolve against the config file's directory. */
static void test_file_relative_paths(void **state)
{
	char *path = write_file("relative.conf", PROXY "[external]\nlisten = 127.0.0.1:5061\n"
				"certificate = fedproxy-chain.pem\nkey = fedproxy.key\n"
				"ca_bundle = ca.pem\n" INTERNAL ROUTING_NODE POLICY);
	char want[512];
	struct config *c = config_load_file(path);

	assert_non_null(c);
	snprintf(want, sizeof(want), "%s/ca.pem", pki_dir());
	assert_string_equal(c->external_tls.ca_bundle.path, want);
	assert_string_equal(c->file, path);
	config_unref(c);
	unlink(path);
	free(path);
}

static void test_file_missing(void **state)
{
	char *log;
	struct config *c;

	capture_begin();
	c = config_load_file("/nonexistent/fedproxy.conf");
	log = capture_end();
	assert_null(c);
	assert_non_null(strstr(log, "/nonexistent/fedproxy.conf:0: cannot open"));
	free(log);
}

/* The commented example in etc/ is the reference: it must load as shipped,
 * beside a pki/ directory and the shipped presence table. */
static void test_shipped_example(void **state)
{
	char link[512], conf[512], cmd[1200];
	struct config *c;

	snprintf(link, sizeof(link), "%s/pki", pki_dir());
	assert_int_equal(symlink(".", link) == 0 || errno == EEXIST, 1);
	snprintf(conf, sizeof(conf), "%s/fedproxy.conf", pki_dir());
	snprintf(cmd, sizeof(cmd), "cp '%s/etc/fedproxy.conf' '%s/etc/presence-map.conf' '%s'",
		 SOURCE_ROOT, SOURCE_ROOT, pki_dir());
	assert_int_equal(system(cmd), 0);
	c = config_load_file(conf);
	assert_non_null(c);
	assert_string_equal(c->public_fqdn, "fedproxy.example.test");
	assert_int_equal(c->max_message_size, 1048576);
	assert_non_null(config_routing_node(c));
	assert_non_null(config_route_for(c, "partner.example.test"));
	assert_non_null(c->presence);
	config_unref(c);
}

/* ---- hostport_parse ---- */

struct hostport_row {
	int line;
	const char *desc;
	const char *text;
	int want_rc;
	const char *host;
	unsigned port;
	const char *uri_host; /* as SIP writes it */
};

static const struct hostport_row hostport_rows[] = {
	{ ROW("IPv4 and port"), "192.0.2.1:5061", 0, "192.0.2.1", 5061, "192.0.2.1" },
	{ ROW("name and port"), "edge.example.test:1", 0, "edge.example.test", 1, "edge.example.test" },
	{ ROW("bracketed IPv6"), "[2001:db8::1]:65535", 0, "2001:db8::1", 65535, "[2001:db8::1]" },
	{ ROW("bare IPv6 is ambiguous"), "2001:db8::1:5060", -EINVAL },
	{ ROW("no port"), "host", -EINVAL },
	{ ROW("empty port"), "host:", -EINVAL },
	{ ROW("empty host"), ":5060", -EINVAL },
	{ ROW("empty brackets"), "[]:5060", -EINVAL },
	{ ROW("IPv6 without port"), "[::1]", -EINVAL },
	{ ROW("IPv6 without closing bracket"), "[::1:5060", -EINVAL },
	{ ROW("port 0"), "host:0", -EINVAL },
	{ ROW("port 65536"), "host:65536", -EINVAL },
	{ ROW("port with junk"), "host:50x", -EINVAL },
	{ ROW("negative port"), "host:-1", -EINVAL },
};

static void test_hostport_table(void **state)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };

	for (size_t i = 0; i < ARRAY_LEN(hostport_rows); i++) {
		const struct hostport_row *r = &hostport_rows[i];
		struct hostport hp = { 0 };

		if (!CHECK_INT(r, hostport_parse(home, r->text, &hp), r->want_rc) || r->want_rc)
			continue;
		CHECK_STR(r, hp.host, r->host);
		CHECK_INT(r, hp.port, r->port);
		CHECK_STR(r, hp.uri_host, r->uri_host);
	}
	su_home_deinit(home);
	rows_done();
}

static int teardown(void **state)
{
	pki_remove();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broken_table),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_long_route_domain),
		cmocka_unit_test(test_valid_values),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_set),
		cmocka_unit_test(test_file_relative_paths),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_shipped_example),
		cmocka_unit_test(test_hostport_table),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, teardown);
}
