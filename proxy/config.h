/* config: one immutable, refcounted snapshot of fedproxy's configuration.
 *
 * A snapshot is built from an INI file (or the compiled-in default), checked
 * as a whole, and then only read. Reload builds a new one and swaps the
 * current pointer; connections and transactions keep a reference to the
 * snapshot they started with (config_ref / config_unref), so it is freed when
 * the last of them is gone. A snapshot is a Sofia su_home: every string and
 * table in it is allocated from it and goes with it. */
#ifndef FEDPROXY_CONFIG_H
#define FEDPROXY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sofia-sip/su_alloc.h>

#include "log.h"

struct tls_creds;
struct pres_table;
struct rr_key;

enum transport {
	TRANSPORT_TCP = 0,
	TRANSPORT_TLS,
};

/* A host (name or IP literal) and port, as written in the config. */
struct hostport {
	const char *host; /* owned by the snapshot home; bare, for sockets */
	/* The host as SIP writes it, in a URI or a Via: an IPv6 literal in
	 * brackets (Sofia keeps them in url_host and v_host), else host. */
	const char *uri_host;
	uint16_t port;
	unsigned line;    /* where the config set it, 0 for a default */
};

/* A file named in the config, with the line that named it (for errors). */
struct config_file {
	const char *path; /* owned; resolved against the config's directory */
	unsigned line;
};

/* TLS material of one side: what we present and what we trust. */
struct config_tls {
	struct config_file certificate;        /* chain PEM, leaf first */
	struct config_file key;
	struct config_file ca_bundle;
	struct config_file crl;                /* optional revocation lists */
	struct config_file client_certificate; /* optional, for dialling out */
	struct config_file client_key;
	const char *priority;                  /* GnuTLS priority string */
	unsigned priority_line;
	struct tls_creds *server;              /* refcounted: listener side */
	struct tls_creds *client;              /* refcounted: dialling side */
};

enum node_role {
	NODE_MEMBER = 0, /* an ordinary cluster node */
	NODE_ROUTING,    /* the designated routing node (or the load-balancer
			    VIP in front of the cluster): new inbound requests */
	NODE_STANDBY,    /* takes new inbound requests while the routing node
			    is down */
};

struct config_node {
	const char *name;          /* owned */
	struct hostport address;   /* where fedproxy reaches the node */
	enum transport transport;
	enum node_role role;
	uint16_t public_port;      /* PAT: the external port leading to this
				      node; 0: the [external] listen port */
	unsigned line;             /* of the [node NAME] section */
};

struct config_route {
	const char *domain;        /* owned, lower case */
	struct hostport host;      /* TLS server name and port */
	const char *address;       /* owned: IP to dial instead of resolving, or NULL */
	unsigned line;
};

/* Seed 003 privacy modes. */
enum privacy_mode {
	PRIVACY_ALLOW_LIST = 0, /* only listed domains (the default) */
	PRIVACY_DENY_LIST,      /* every domain but the listed ones */
	PRIVACY_OFF,            /* every domain */
};

/* Which way a [domain] entry applies. Flags: both = inbound | outbound. */
enum direction {
	DIR_INBOUND = 1,  /* requests from the domain's edges to us */
	DIR_OUTBOUND = 2, /* requests from our nodes to the domain */
	DIR_BOTH = 3,
};

/* A [domain NAME] policy entry: an exact domain or "*.suffix" (the suffix
 * domain and every subdomain). */
struct config_domain {
	const char *name;          /* owned, as written: "partner.test" or "*.partner.test" */
	enum direction direction;
	int dialect;               /* enum pres_dialect, or -1: [presence] default */
	const char **peer_names;   /* owned, NULL-ended: certificate names its
				      edges may carry; NULL: use SRV targets */
	unsigned line;
};

struct config {
	su_home_t home[1];         /* the snapshot's allocator and refcount */
	const char *file;          /* owned: config file name for messages */

	/* [proxy] */
	const char *public_fqdn;
	enum log_level log_level;
	bool trace;
	size_t max_message_size;
	double idle_timeout;
	double handshake_timeout;
	double message_timeout;
	double transaction_timeout;
	double invite_timeout;
	double drain_timeout;
	const char *route_secret;  /* owned; never empty after loading */
	struct rr_key *route_key;  /* owned: route_secret keyed for rr tokens */
	const char *user;          /* run as this user after binding, or NULL */

	/* [external] */
	struct hostport external_listen;
	struct config_tls external_tls;

	/* [internal] */
	struct hostport internal_listen;
	enum transport internal_transport;
	struct hostport internal_advertise;
	struct config_tls internal_tls;

	struct config_node *nodes; /* owned array */
	size_t n_nodes;
	struct config_route *routes; /* owned array */
	size_t n_routes;

	/* [policy] */
	enum privacy_mode privacy_mode;
	const char **local_domains;        /* owned, NULL-ended */
	int deny_status;                   /* answer to a denied request */
	const char *deny_reason;
	const char **tolerated_proxy_require; /* owned, NULL-ended option tags */
	bool allow_wildcard_certificates;  /* "*.example.com" in a peer certificate */
	bool a_record_fallback;            /* no SRV record: try the domain's A/AAAA */

	/* [health] */
	double health_interval;            /* OPTIONS probe period per node, 0: off */
	double health_timeout;             /* a probe unanswered this long failed */
	unsigned health_failures;          /* failed probes in a row: node down */

	/* [limits] */
	unsigned max_connections;          /* open connections in all */
	unsigned max_connections_per_address; /* inbound, per source IP */
	unsigned max_headers;              /* header lines in one message */
	size_t max_body_size;              /* Content-Length of one message */
	unsigned max_transactions;         /* alive at once */
	double domain_rate;                /* requests/s per foreign domain, 0: off */

	/* [presence] */
	struct config_file presence_table; /* the mapping file, path NULL: none */
	struct pres_table *presence;       /* owned: loaded from it, or NULL */
	int default_dialect;               /* enum pres_dialect */

	/* [control] */
	const char *control_socket;        /* Unix socket path, or NULL: none */
	struct hostport metrics_listen;    /* Prometheus /metrics, host NULL: off */

	/* [dns] */
	const char *dns_servers;           /* "ip:port,..." or NULL for resolv.conf */

	struct config_domain *domains;     /* owned array */
	size_t n_domains;
};

/* Build a snapshot from FILE. On any problem, log every one of them as
 * "FILE:LINE: message" at error level and return NULL. With load_tls false,
 * certificates are still read and checked but credentials are not kept. */
struct config *config_load_file(const char *file);

/* Same from text in memory (the compiled-in default); relative file names
 * resolve against the current directory, and `name` stands for FILE. */
struct config *config_load_text(const char *name, const char *text);

/* The first problem the last failed load reported ("FILE:LINE: message"). */
const char *config_first_error(void);

struct config *config_ref(struct config *c);
void config_unref(struct config *c);

/* The node with the routing role (there is exactly one), and the standby
 * (at most one, else NULL). */
const struct config_node *config_routing_node(const struct config *c);
const struct config_node *config_standby_node(const struct config *c);
/* The external port that leads to node n (PAT). */
uint16_t config_node_public_port(const struct config *c, const struct config_node *n);
const struct config_node *config_node_by_name(const struct config *c, const char *name);
/* The [domain] entry that covers a domain (exact before wildcard), or NULL. */
const struct config_domain *config_domain_for(const struct config *c, const char *domain);
/* The presence dialect (enum pres_dialect) a foreign domain speaks. */
int config_dialect_for(const struct config *c, const char *domain);
/* The static route for a domain (case-insensitive), or NULL. */
const struct config_route *config_route_for(const struct config *c, const char *domain);

/* Parse "host:port" or "[v6]:port" into out, allocating from home.
 * 0 or -EINVAL. */
int hostport_parse(su_home_t *home, const char *text, struct hostport *out);

#endif
