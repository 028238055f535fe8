/* config: parse an INI file into a snapshot and check it (see config.h).
 *
 * inih does the INI syntax; we feed it through a reader that counts lines,
 * so every handler call knows the line of its key. Each key has one entry in
 * a keyword table with its parse function; the function returns an error
 * sentence or NULL, and the caller prefixes FILE:LINE. All problems are
 * reported, not just the first. */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <ini.h>
#include <gnutls/crypto.h>
#include <sofia-sip/su_string.h>

#include "config_reader.h"
#include "presence/presence.h"
#include "routing/rr.h"
#include "tls/creds.h"

#define DEFAULT_TLS_PRIORITY                                                                   \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"          \
	"-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:"             \
	"%SERVER_PRECEDENCE"

/* Bytes of random route secret made when the config gives none. */
#define RANDOM_SECRET_BYTES 32

struct parse_state {
	struct config *cfg;
	const char *dir;              /* directory relative paths resolve against */
	struct config_reader reader;  /* the lines, and where we are in them */
	bool section_ok;              /* keys of the current section are taken */
	unsigned errors;
};

static void report(struct parse_state *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static char first_error[600];

/* One problem, at FILE:LINE (the config, or a file it names). */
static void report_in(struct parse_state *ps, const char *file, unsigned line, const char *msg)
{
	log_error("%s:%u: %s", file, line, msg);
	if (ps->errors++ == 0)
		snprintf(first_error, sizeof(first_error), "%s:%u: %s", file, line, msg);
}

static void report(struct parse_state *ps, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report_in(ps, ps->cfg->file, line, msg);
}

const char *config_first_error(void)
{
	return first_error;
}

/* ---- value parsers: NULL on success, else what is wrong ---- */

typedef const char *(*value_parser)(struct parse_state *ps, const char *value, void *field);

static const char *parse_string(struct parse_state *ps, const char *value, void *field)
{
	*(const char **)field = su_strdup(ps->cfg->home, value);
	return NULL;
}

/* A string where empty means "not set". */
static const char *parse_optional(struct parse_state *ps, const char *value, void *field)
{
	*(const char **)field = *value ? su_strdup(ps->cfg->home, value) : NULL;
	return NULL;
}

static const char *parse_fqdn(struct parse_state *ps, const char *value, void *field)
{
	if (!*value || strchr(value, ':') || strchr(value, ' '))
		return "expected a host name";
	*(const char **)field = su_strdup(ps->cfg->home, value);
	return NULL;
}

static const char *parse_bool(struct parse_state *ps, const char *value, void *field)
{
	if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcmp(value, "1"))
		*(bool *)field = true;
	else if (!strcasecmp(value, "no") || !strcasecmp(value, "false") || !strcmp(value, "0"))
		*(bool *)field = false;
	else
		return "expected yes or no";
	return NULL;
}

static const char *parse_size(struct parse_state *ps, const char *value, void *field)
{
	char *end;
	unsigned long long v = strtoull(value, &end, 10);

	if (!*value)
		return NULL; /* empty: keep the default */
	/* 1 KiB .. 64 MiB: below, no real SIP message fits; above, one peer
	 * could pin that much memory per connection. */
	if (*value == '-' || *end || end == value || v < 1024 || v > 64ull << 20)
		return "expected a size in bytes from 1024 to 67108864";
	*(size_t *)field = (size_t)v;
	return NULL;
}

static const char *parse_seconds(struct parse_state *ps, const char *value, void *field)
{
	char *end;
	double v = strtod(value, &end);

	if (*end || end == value || !(v > 0) || v > 86400 * 7)
		return "expected a duration in seconds, more than 0 and at most a week";
	*(double *)field = v;
	return NULL;
}

static const char *parse_count(struct parse_state *ps, const char *value, void *field)
{
	char *end;
	unsigned long v = strtoul(value, &end, 10);

	if (*value == '-' || *end || end == value || v == 0 || v > 100)
		return "expected a whole number from 1 to 100";
	*(unsigned *)field = (unsigned)v;
	return NULL;
}

static const char *parse_limit(struct parse_state *ps, const char *value, void *field)
{
	char *end;
	unsigned long v = strtoul(value, &end, 10);

	if (*value == '-' || *end || end == value || v == 0 || v > 10000000)
		return "expected a whole number from 1 to 10000000";
	*(unsigned *)field = (unsigned)v;
	return NULL;
}

static const char *parse_rate(struct parse_state *ps, const char *value, void *field)
{
	char *end;
	double v = strtod(value, &end);

	if (*end || end == value || v < 0 || v > 1e6)
		return "expected requests per second, 0 (off) to 1000000";
	*(double *)field = v;
	return NULL;
}

/* Like parse_seconds, but 0 is allowed (off). */
static const char *parse_period(struct parse_state *ps, const char *value, void *field)
{
	if (strcmp(value, "0") == 0) {
		*(double *)field = 0;
		return NULL;
	}
	return parse_seconds(ps, value, field);
}

static const char *parse_log_level(struct parse_state *ps, const char *value, void *field)
{
	return log_level_parse(value, field) < 0 ? "expected error, warn, info or debug" : NULL;
}

static const char *parse_transport(struct parse_state *ps, const char *value, void *field)
{
	if (!strcasecmp(value, "tcp"))
		*(enum transport *)field = TRANSPORT_TCP;
	else if (!strcasecmp(value, "tls"))
		*(enum transport *)field = TRANSPORT_TLS;
	else
		return "expected tcp or tls";
	return NULL;
}

static const char *parse_role(struct parse_state *ps, const char *value, void *field)
{
	if (!strcasecmp(value, "routing"))
		*(enum node_role *)field = NODE_ROUTING;
	else if (!strcasecmp(value, "member"))
		*(enum node_role *)field = NODE_MEMBER;
	else if (!strcasecmp(value, "standby"))
		*(enum node_role *)field = NODE_STANDBY;
	else
		return "expected routing, standby or member";
	return NULL;
}

static const char *parse_port(struct parse_state *ps, const char *value, void *field)
{
	char *end;
	unsigned long v = strtoul(value, &end, 10);

	if (!*value)
		return NULL; /* empty: keep the default */
	if (*end || end == value || v == 0 || v > 65535)
		return "expected a port from 1 to 65535";
	*(uint16_t *)field = (uint16_t)v;
	return NULL;
}

static const char *parse_hostport_value(struct parse_state *ps, const char *value, void *field)
{
	struct hostport *hp = field;

	if (!*value)
		return NULL; /* empty: keep the default */
	if (hostport_parse(ps->cfg->home, value, hp) < 0)
		return "expected host:port";
	hp->line = ps->reader.line;
	return NULL;
}

static bool is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static const char *parse_ip(struct parse_state *ps, const char *value, void *field)
{
	if (!*value)
		return NULL;
	if (!is_ip_literal(value))
		return "expected an IPv4 or IPv6 address";
	*(const char **)field = su_strdup(ps->cfg->home, value);
	return NULL;
}

static const char *parse_file(struct parse_state *ps, const char *value, void *field)
{
	struct config_file *f = field;

	f->line = ps->reader.line;
	if (!*value) {
		f->path = NULL;
		return NULL;
	}
	f->path = value[0] == '/' ? su_strdup(ps->cfg->home, value)
				  : su_sprintf(ps->cfg->home, "%s/%s", ps->dir, value);
	if (access(f->path, R_OK) < 0)
		return su_sprintf(ps->cfg->home, "cannot read %s: %s", f->path, strerror(errno));
	return NULL;
}

/* A list: names separated by commas and/or spaces. */
static const char *parse_list(struct parse_state *ps, const char *value, void *field)
{
	char *copy = su_strdup(ps->cfg->home, value), *save = NULL;
	size_t n = 0;
	const char **list = su_zalloc(ps->cfg->home, (strlen(value) / 2 + 2) * sizeof(*list));

	if (!copy || !list)
		return "out of memory";
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
		list[n++] = tok;
	*(const char ***)field = list;
	return NULL;
}

static const char *parse_privacy(struct parse_state *ps, const char *value, void *field)
{
	static const char *const names[] = { "allow_list", "deny_list", "off" };

	for (int i = 0; i < 3; i++) {
		if (!strcmp(value, names[i])) {
			*(enum privacy_mode *)field = i;
			return NULL;
		}
	}
	return "expected allow_list, deny_list or off";
}

static const char *parse_direction(struct parse_state *ps, const char *value, void *field)
{
	if (!strcmp(value, "both"))
		*(enum direction *)field = DIR_BOTH;
	else if (!strcmp(value, "inbound"))
		*(enum direction *)field = DIR_INBOUND;
	else if (!strcmp(value, "outbound"))
		*(enum direction *)field = DIR_OUTBOUND;
	else
		return "expected both, inbound or outbound";
	return NULL;
}

static const char *parse_dialect(struct parse_state *ps, const char *value, void *field)
{
	int d = pres_dialect_from_name(value);

	if (!*value)
		return NULL; /* empty: keep the default */
	if (d < 0)
		return "expected lync, aol or pidf";
	*(int *)field = d;
	return NULL;
}

static const char *parse_status(struct parse_state *ps, const char *value, void *field)
{
	char *end;
	long v = strtol(value, &end, 10);

	if (*end || end == value || v < 400 || v > 699)
		return "expected a SIP error status from 400 to 699";
	*(int *)field = (int)v;
	return NULL;
}

/* A file name that need not exist yet (a socket we create). */
static const char *parse_path(struct parse_state *ps, const char *value, void *field)
{
	if (!*value)
		*(const char **)field = NULL;
	else if (value[0] == '/')
		*(const char **)field = su_strdup(ps->cfg->home, value);
	else
		*(const char **)field = su_sprintf(ps->cfg->home, "%s/%s", ps->dir, value);
	return NULL;
}

static const char *parse_priority(struct parse_state *ps, const char *value, void *field)
{
	struct config_tls *t = field;

	t->priority = su_strdup(ps->cfg->home, value);
	t->priority_line = ps->reader.line;
	return NULL;
}

/* ---- keyword table ---- */

enum section_kind {
	SEC_PROXY = 0,
	SEC_EXTERNAL,
	SEC_INTERNAL,
	SEC_POLICY,
	SEC_DNS,
	SEC_HEALTH,
	SEC_CONTROL,
	SEC_LIMITS,
	SEC_PRESENCE,
	SEC_NODE,
	SEC_ROUTE,
	SEC_DOMAIN,
};

struct keyword {
	enum section_kind section;
	const char *name;
	value_parser parse;
	size_t offset; /* into struct config, config_node or config_route */
};

#define CFG(f) offsetof(struct config, f)
#define NODE(f) offsetof(struct config_node, f)
#define ROUTE(f) offsetof(struct config_route, f)
#define DOMAIN(f) offsetof(struct config_domain, f)

static const struct keyword keywords[] = {
	{ SEC_PROXY, "public_fqdn", parse_fqdn, CFG(public_fqdn) },
	{ SEC_PROXY, "log_level", parse_log_level, CFG(log_level) },
	{ SEC_PROXY, "trace", parse_bool, CFG(trace) },
	{ SEC_PROXY, "max_message_size", parse_size, CFG(max_message_size) },
	{ SEC_PROXY, "idle_timeout", parse_seconds, CFG(idle_timeout) },
	{ SEC_PROXY, "handshake_timeout", parse_seconds, CFG(handshake_timeout) },
	{ SEC_PROXY, "message_timeout", parse_seconds, CFG(message_timeout) },
	{ SEC_PROXY, "transaction_timeout", parse_seconds, CFG(transaction_timeout) },
	{ SEC_PROXY, "invite_timeout", parse_seconds, CFG(invite_timeout) },
	{ SEC_PROXY, "drain_timeout", parse_seconds, CFG(drain_timeout) },
	{ SEC_PROXY, "route_secret", parse_string, CFG(route_secret) },
	{ SEC_PROXY, "user", parse_optional, CFG(user) },
	{ SEC_EXTERNAL, "listen", parse_hostport_value, CFG(external_listen) },
	{ SEC_EXTERNAL, "certificate", parse_file, CFG(external_tls.certificate) },
	{ SEC_EXTERNAL, "key", parse_file, CFG(external_tls.key) },
	{ SEC_EXTERNAL, "ca_bundle", parse_file, CFG(external_tls.ca_bundle) },
	{ SEC_EXTERNAL, "crl", parse_file, CFG(external_tls.crl) },
	{ SEC_EXTERNAL, "client_certificate", parse_file, CFG(external_tls.client_certificate) },
	{ SEC_EXTERNAL, "client_key", parse_file, CFG(external_tls.client_key) },
	{ SEC_EXTERNAL, "tls_priority", parse_priority, CFG(external_tls) },
	{ SEC_INTERNAL, "listen", parse_hostport_value, CFG(internal_listen) },
	{ SEC_INTERNAL, "transport", parse_transport, CFG(internal_transport) },
	{ SEC_INTERNAL, "advertise", parse_hostport_value, CFG(internal_advertise) },
	{ SEC_INTERNAL, "certificate", parse_file, CFG(internal_tls.certificate) },
	{ SEC_INTERNAL, "key", parse_file, CFG(internal_tls.key) },
	{ SEC_INTERNAL, "ca_bundle", parse_file, CFG(internal_tls.ca_bundle) },
	{ SEC_INTERNAL, "crl", parse_file, CFG(internal_tls.crl) },
	{ SEC_INTERNAL, "tls_priority", parse_priority, CFG(internal_tls) },
	{ SEC_NODE, "address", parse_hostport_value, NODE(address) },
	{ SEC_NODE, "transport", parse_transport, NODE(transport) },
	{ SEC_NODE, "role", parse_role, NODE(role) },
	{ SEC_NODE, "public_port", parse_port, NODE(public_port) },
	{ SEC_HEALTH, "interval", parse_period, CFG(health_interval) },
	{ SEC_HEALTH, "timeout", parse_seconds, CFG(health_timeout) },
	{ SEC_HEALTH, "failures", parse_count, CFG(health_failures) },
	{ SEC_ROUTE, "host", parse_fqdn, ROUTE(host.host) },
	{ SEC_ROUTE, "port", parse_port, ROUTE(host.port) },
	{ SEC_ROUTE, "address", parse_ip, ROUTE(address) },
	{ SEC_POLICY, "privacy_mode", parse_privacy, CFG(privacy_mode) },
	{ SEC_POLICY, "local_domains", parse_list, CFG(local_domains) },
	{ SEC_POLICY, "deny_status", parse_status, CFG(deny_status) },
	{ SEC_POLICY, "deny_reason", parse_string, CFG(deny_reason) },
	{ SEC_POLICY, "tolerated_proxy_require", parse_list, CFG(tolerated_proxy_require) },
	{ SEC_POLICY, "allow_wildcard_certificates", parse_bool, CFG(allow_wildcard_certificates) },
	{ SEC_POLICY, "a_record_fallback", parse_bool, CFG(a_record_fallback) },
	{ SEC_DNS, "servers", parse_string, CFG(dns_servers) },
	{ SEC_LIMITS, "max_connections", parse_limit, CFG(max_connections) },
	{ SEC_LIMITS, "max_connections_per_address", parse_limit, CFG(max_connections_per_address) },
	{ SEC_LIMITS, "max_headers", parse_limit, CFG(max_headers) },
	{ SEC_LIMITS, "max_body_size", parse_size, CFG(max_body_size) },
	{ SEC_LIMITS, "max_transactions", parse_limit, CFG(max_transactions) },
	{ SEC_LIMITS, "domain_rate", parse_rate, CFG(domain_rate) },
	{ SEC_CONTROL, "socket", parse_path, CFG(control_socket) },
	{ SEC_CONTROL, "metrics", parse_hostport_value, CFG(metrics_listen) },
	{ SEC_DOMAIN, "direction", parse_direction, DOMAIN(direction) },
	{ SEC_DOMAIN, "peer_names", parse_list, DOMAIN(peer_names) },
	{ SEC_DOMAIN, "dialect", parse_dialect, DOMAIN(dialect) },
	{ SEC_PRESENCE, "table", parse_file, CFG(presence_table) },
	{ SEC_PRESENCE, "default_dialect", parse_dialect, CFG(default_dialect) },
};

/* "node NAME" -> SEC_NODE with *arg = NAME; -1 for an unknown section. */
static int section_kind(const char *section, const char **arg)
{
	static const char *const fixed[] = { "proxy", "external", "internal", "policy", "dns",
					     "health", "control", "limits", "presence" };

	*arg = NULL;
	for (int i = 0; i < 9; i++)
		if (!strcmp(section, fixed[i]))
			return i;
	if (!strncmp(section, "node ", 5) && section[5]) {
		*arg = section + 5;
		return SEC_NODE;
	}
	if (!strncmp(section, "route ", 6) && section[6]) {
		*arg = section + 6;
		return SEC_ROUTE;
	}
	if (!strncmp(section, "domain ", 7) && section[7]) {
		*arg = section + 7;
		return SEC_DOMAIN;
	}
	return -1;
}

static void *grow(su_home_t *home, void *array, size_t n, size_t size)
{
	void *p = su_realloc(home, array, (n + 1) * size);

	if (p)
		memset((char *)p + n * size, 0, size);
	return p;
}

/* First key of a [node]/[route] section: add its entry. */
static const char *open_entry(struct parse_state *ps, int kind, const char *arg)
{
	struct config *c = ps->cfg;

	if (kind == SEC_NODE) {
		/* The name travels in our Record-Route token: keep it a token. */
		if (!rr_node_name_valid(arg))
			return "node names are letters, digits, '-' and '_' (at most 64)";
		if (config_node_by_name(c, arg))
			return "a [node] section of this name already exists";
		c->nodes = grow(c->home, c->nodes, c->n_nodes, sizeof(*c->nodes));
		struct config_node *n = &c->nodes[c->n_nodes++];

		n->name = su_strdup(c->home, arg);
		n->line = ps->reader.section_line;
		return NULL;
	}
	if (kind == SEC_DOMAIN) {
		const char *bare = strncmp(arg, "*.", 2) == 0 ? arg + 2 : arg;

		if (!*bare || strchr(bare, '*') || strchr(bare, ':'))
			return "expected a domain, or *. and a domain";
		for (size_t i = 0; i < c->n_domains; i++)
			if (!strcasecmp(c->domains[i].name, arg))
				return "a [domain] section of this name already exists";
		c->domains = grow(c->home, c->domains, c->n_domains, sizeof(*c->domains));
		struct config_domain *d = &c->domains[c->n_domains++];

		d->name = su_strdup(c->home, arg);
		d->direction = DIR_BOTH;
		d->dialect = -1;
		d->line = ps->reader.section_line;
		return NULL;
	}
	if (config_route_for(c, arg))
		return "a [route] section for this domain already exists";
	c->routes = grow(c->home, c->routes, c->n_routes, sizeof(*c->routes));
	struct config_route *r = &c->routes[c->n_routes++];

	r->domain = su_strdup(c->home, arg);
	r->host.port = 5061;
	r->line = ps->reader.section_line;
	return NULL;
}

static void *field_base(struct parse_state *ps, int kind)
{
	if (kind == SEC_NODE)
		return &ps->cfg->nodes[ps->cfg->n_nodes - 1];
	if (kind == SEC_ROUTE)
		return &ps->cfg->routes[ps->cfg->n_routes - 1];
	if (kind == SEC_DOMAIN)
		return &ps->cfg->domains[ps->cfg->n_domains - 1];
	return ps->cfg;
}

/* A [section] header: name it known, and open its entry ([node], [route],
 * [domain]) here, so a section without keys still counts. */
static void on_section(void *user, const char *section)
{
	struct parse_state *ps = user;
	const char *arg, *err;
	int kind = section_kind(section, &arg);

	ps->section_ok = false;
	if (kind < 0) {
		report(ps, ps->reader.line, "unknown section [%s]", section);
		return;
	}
	if (arg && (err = open_entry(ps, kind, arg))) {
		report(ps, ps->reader.line, "%s", err);
		return;
	}
	ps->section_ok = true;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	const char *arg, *err = NULL;
	int kind;

	section = config_reader_resolve(&ps->reader, section);
	value = config_reader_resolve(&ps->reader, value);
	kind = section_kind(section, &arg);
	if (kind < 0 || !ps->section_ok)
		return 1; /* on_section() said what is wrong with it */
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		const struct keyword *k = &keywords[i];

		if ((int)k->section != kind || strcmp(k->name, name) != 0)
			continue;
		err = k->parse(ps, value, (char *)field_base(ps, kind) + k->offset);
		if (err)
			report(ps, ps->reader.line, "%s = %s: %s", name, value, err);
		return 1;
	}
	report(ps, ps->reader.line, "unknown key '%s' in [%s]", name, section);
	return 1;
}

/* ---- whole-snapshot checks, after every key is read ---- */

/* Lync SUBSCRIBEs carry Proxy-Require: ms-benotify (MS-SIP); a proxy that
 * answers 420 to it breaks presence with every Microsoft edge. */
static const char *default_tolerated[] = { "ms-benotify", NULL };

static void set_defaults(struct config *c)
{
	c->log_level = LOG_LVL_INFO;
	c->max_message_size = 1 << 20;
	c->idle_timeout = 1800;
	c->handshake_timeout = 10;
	c->message_timeout = 30;
	c->transaction_timeout = 32;
	c->invite_timeout = 180;
	c->drain_timeout = 5;
	c->external_tls.priority = DEFAULT_TLS_PRIORITY;
	c->internal_tls.priority = DEFAULT_TLS_PRIORITY;
	c->internal_transport = TRANSPORT_TCP;
	c->max_connections = 100000;
	c->max_connections_per_address = 64;
	c->max_headers = 256;
	c->max_transactions = 50000;
	c->domain_rate = 100;
	c->health_interval = 10;
	c->health_timeout = 5;
	c->health_failures = 2;
	c->default_dialect = PRES_DIALECT_LYNC;
	c->privacy_mode = PRIVACY_ALLOW_LIST;
	c->deny_status = 403;
	c->deny_reason = "Forbidden";
	c->tolerated_proxy_require = default_tolerated;
}

static void require_file(struct parse_state *ps, const struct config_file *f,
			 const char *section, const char *key)
{
	if (!f->path)
		report(ps, f->line ? f->line : ps->reader.line, "[%s] needs '%s'", section, key);
}

/* Load one credentials set; a failure names the line of the culprit. */
static struct tls_creds *load_creds(struct parse_state *ps, const struct config_tls *t,
				    const struct config_file *cert, const struct config_file *key)
{
	struct tls_creds_spec spec = {
		.certificate = cert->path,
		.key = key->path,
		.ca_bundle = t->ca_bundle.path,
		.crl = t->crl.path,
		.priority = t->priority,
	};
	const unsigned lines[] = {
		[TLS_PART_CERTIFICATE] = cert->line,
		[TLS_PART_KEY] = key->line,
		[TLS_PART_CA_BUNDLE] = t->ca_bundle.line,
		[TLS_PART_PRIORITY] = t->priority_line,
		[TLS_PART_CRL] = t->crl.line,
	};
	enum tls_creds_part part;
	struct tls_creds *creds;
	char err[512];

	if (!cert->path || !key->path || !t->ca_bundle.path)
		return NULL; /* already reported as missing or unreadable */
	if (tls_creds_load(&spec, &creds, &part, err, sizeof(err)) < 0) {
		report(ps, lines[part] ? lines[part] : ps->reader.line, "%s", err);
		return NULL;
	}
	return creds;
}

static void load_tls(struct parse_state *ps, struct config_tls *t, const char *section)
{
	const struct config_file *ccert = t->client_certificate.path ? &t->client_certificate
								      : &t->certificate;
	const struct config_file *ckey = t->client_key.path ? &t->client_key : &t->key;

	require_file(ps, &t->certificate, section, "certificate");
	require_file(ps, &t->key, section, "key");
	require_file(ps, &t->ca_bundle, section, "ca_bundle");
	if (!t->client_certificate.path != !t->client_key.path)
		report(ps, t->client_certificate.line ? t->client_certificate.line
						      : t->client_key.line,
		       "[%s] client_certificate and client_key go together", section);
	t->server = load_creds(ps, t, &t->certificate, &t->key);
	if (ccert != &t->certificate)
		t->client = load_creds(ps, t, ccert, ckey);
	else
		t->client = tls_creds_ref(t->server);
}

/* PAT: each public port leads to one node, and none is another listener's. */
static void check_public_port(struct parse_state *ps, const struct config_node *n, size_t index)
{
	const struct config *c = ps->cfg;

	if (!n->public_port)
		return;
	if (n->public_port == c->external_listen.port ||
	    (n->public_port == c->internal_listen.port &&
	     c->internal_listen.host && c->external_listen.host &&
	     !strcmp(c->internal_listen.host, c->external_listen.host)))
		report(ps, n->line, "[node %s] public_port %u is already a listener's port", n->name,
		       n->public_port);
	for (size_t j = 0; j < index; j++)
		if (c->nodes[j].public_port == n->public_port)
			report(ps, n->line, "[node %s] public_port %u is also node %s's", n->name,
			       n->public_port, c->nodes[j].name);
}

static void check_nodes(struct parse_state *ps)
{
	struct config *c = ps->cfg;
	size_t routing = 0, standby = 0;
	bool tls_nodes = false;

	for (size_t i = 0; i < c->n_nodes; i++) {
		struct config_node *n = &c->nodes[i];

		if (!n->address.host)
			report(ps, n->line, "[node %s] needs 'address'", n->name);
		else if (!is_ip_literal(n->address.host))
			report(ps, n->address.line, "[node %s] address must be an IP address", n->name);
		routing += n->role == NODE_ROUTING;
		standby += n->role == NODE_STANDBY;
		tls_nodes |= n->transport == TRANSPORT_TLS;
		check_public_port(ps, n, i);
	}
	if (routing != 1)
		report(ps, ps->reader.line, "exactly one [node] needs 'role = routing' (found %zu)", routing);
	if (standby > 1)
		report(ps, ps->reader.line, "at most one [node] may have 'role = standby' (found %zu)",
		       standby);
	if (tls_nodes || c->internal_transport == TRANSPORT_TLS)
		load_tls(ps, &c->internal_tls, "internal");
}

static void check_routes(struct parse_state *ps)
{
	struct config *c = ps->cfg;

	for (size_t i = 0; i < c->n_routes; i++) {
		struct config_route *r = &c->routes[i];

		if (!r->host.host)
			report(ps, r->line, "[route %s] needs 'host'", r->domain);
		else if (!r->address && !is_ip_literal(r->host.host))
			report(ps, r->line, "[route %s] needs 'address' (the IP to dial %s at)",
			       r->domain, r->host.host);
	}
}

static void make_route_secret(struct config *c)
{
	unsigned char raw[RANDOM_SECRET_BYTES];
	char hex[2 * RANDOM_SECRET_BYTES + 1];

	gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(hex + 2 * i, "%02x", raw[i]);
	c->route_secret = su_strdup(c->home, hex);
}

static void report_table(void *arg, unsigned line, const char *msg)
{
	struct parse_state *ps = arg;

	report_in(ps, ps->cfg->presence_table.path, line, msg);
}

/* The presence mapping table: its own FILE:LINE errors. Without one, every
 * presence body passes untouched. */
static void load_presence(struct parse_state *ps)
{
	struct config *c = ps->cfg;

	if (c->presence_table.path)
		c->presence = pres_table_load(c->presence_table.path, report_table, ps);
}

static void check_whole(struct parse_state *ps)
{
	struct config *c = ps->cfg;

	/* Errors about what is missing point at the end of the file. */
	if (!c->public_fqdn)
		report(ps, ps->reader.line, "[proxy] needs 'public_fqdn'");
	if (!c->external_listen.host)
		report(ps, ps->reader.line, "[external] needs 'listen'");
	else if (!is_ip_literal(c->external_listen.host))
		report(ps, c->external_listen.line, "[external] listen must be an IP address");
	if (!c->internal_listen.host)
		report(ps, ps->reader.line, "[internal] needs 'listen'");
	else if (!is_ip_literal(c->internal_listen.host))
		report(ps, c->internal_listen.line, "[internal] listen must be an IP address");
	if (!c->internal_advertise.host)
		c->internal_advertise = c->internal_listen;
	if (!c->max_body_size || c->max_body_size > c->max_message_size)
		c->max_body_size = c->max_message_size;
	if (!c->local_domains || !c->local_domains[0])
		report(ps, ps->reader.line, "[policy] needs 'local_domains' (the SIP domains of the inside users)");
	if (!c->route_secret || !*c->route_secret)
		make_route_secret(c);
	c->route_key = rr_key_new(c->route_secret);
	if (!c->route_key)
		report(ps, ps->reader.line, "cannot key HMAC-SHA256 with the route secret");
	load_tls(ps, &c->external_tls, "external");
	load_presence(ps);
	check_nodes(ps);
	check_routes(ps);
}

/* ---- public ---- */

static void release_creds(void *arg)
{
	struct config *c = arg;

	tls_creds_unref(c->external_tls.server);
	tls_creds_unref(c->external_tls.client);
	tls_creds_unref(c->internal_tls.server);
	tls_creds_unref(c->internal_tls.client);
	pres_table_free(c->presence);
	rr_key_free(c->route_key);
}

static struct config *load(struct parse_state *ps, const char *name)
{
	struct config *c = su_home_new(sizeof(*c));
	int r;

	if (!c)
		return NULL;
	su_home_destructor(c->home, release_creds);
	c->file = su_strdup(c->home, name);
	set_defaults(c);
	ps->cfg = c;
	ps->reader.on_section = on_section;
	ps->reader.arg = ps;
	r = ini_parse_stream(config_reader_next, &ps->reader, on_key, ps);
	if (r > 0)
		report(ps, (unsigned)r, "syntax error (expected [section] or key = value)");
	else if (r < 0)
		report(ps, 0, "cannot read the file");
	if (ps->errors == 0)
		check_whole(ps);
	config_reader_release(&ps->reader);
	if (ps->errors) {
		su_home_unref(c->home);
		return NULL;
	}
	return c;
}

struct config *config_load_file(const char *file)
{
	struct parse_state ps = { 0 };
	char *slash;
	struct config *c;
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", file);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	ps.dir = dir;
	ps.reader.fp = fopen(file, "r");
	if (!ps.reader.fp) {
		log_error("%s:0: cannot open: %s", file, strerror(errno));
		return NULL;
	}
	c = load(&ps, file);
	fclose(ps.reader.fp);
	return c;
}

struct config *config_load_text(const char *name, const char *text)
{
	struct parse_state ps = { .dir = ".", .reader.text = text };

	return load(&ps, name);
}

struct config *config_ref(struct config *c)
{
	return su_home_ref(c->home) ? c : NULL;
}

void config_unref(struct config *c)
{
	if (c)
		su_home_unref(c->home);
}

const struct config_node *config_routing_node(const struct config *c)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].role == NODE_ROUTING)
			return &c->nodes[i];
	return NULL;
}

const struct config_node *config_standby_node(const struct config *c)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].role == NODE_STANDBY)
			return &c->nodes[i];
	return NULL;
}

uint16_t config_node_public_port(const struct config *c, const struct config_node *n)
{
	return n && n->public_port ? n->public_port : c->external_listen.port;
}

const struct config_node *config_node_by_name(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (!strcmp(c->nodes[i].name, name))
			return &c->nodes[i];
	return NULL;
}

/* "*.example.com" covers example.com and every name below it. */
static bool domain_matches(const char *pattern, const char *domain)
{
	size_t pl, dl;

	if (strncmp(pattern, "*.", 2) != 0)
		return strcasecmp(pattern, domain) == 0;
	pattern += 2;
	pl = strlen(pattern);
	dl = strlen(domain);
	if (dl == pl)
		return strcasecmp(pattern, domain) == 0;
	return dl > pl && domain[dl - pl - 1] == '.' && strcasecmp(domain + dl - pl, pattern) == 0;
}

const struct config_domain *config_domain_for(const struct config *c, const char *domain)
{
	const struct config_domain *wild = NULL;

	for (size_t i = 0; i < c->n_domains; i++) {
		const struct config_domain *d = &c->domains[i];

		if (!domain_matches(d->name, domain))
			continue;
		if (d->name[0] != '*')
			return d;
		/* the longest wildcard suffix is the most specific */
		if (!wild || strlen(d->name) > strlen(wild->name))
			wild = d;
	}
	return wild;
}

int config_dialect_for(const struct config *c, const char *domain)
{
	const struct config_domain *d = domain ? config_domain_for(c, domain) : NULL;

	return d && d->dialect >= 0 ? d->dialect : c->default_dialect;
}

const struct config_route *config_route_for(const struct config *c, const char *domain)
{
	for (size_t i = 0; i < c->n_routes; i++)
		if (!strcasecmp(c->routes[i].domain, domain))
			return &c->routes[i];
	return NULL;
}

int hostport_parse(su_home_t *home, const char *text, struct hostport *out)
{
	const char *colon;
	char *end;
	unsigned long port;
	size_t hostlen;
	const bool bracketed = text[0] == '[';

	if (bracketed) {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		colon = close + 1;
		text++;
		hostlen = (size_t)(close - text);
	} else {
		colon = strrchr(text, ':');
		if (!colon || strchr(text, ':') != colon)
			return -EINVAL;
		hostlen = (size_t)(colon - text);
	}
	port = strtoul(colon + 1, &end, 10);
	if (hostlen == 0 || *end || end == colon + 1 || port == 0 || port > 65535)
		return -EINVAL;
	out->host = su_strndup(home, text, hostlen);
	/* SIP writes an IPv6 literal as it was given here, in brackets. */
	out->uri_host = bracketed ? su_strndup(home, text - 1, hostlen + 2) : out->host;
	out->port = (uint16_t)port;
	return 0;
}
