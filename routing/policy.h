/* policy: may this request cross the edge? A pure function of (request
 * facts, config snapshot, the peer's certificate names, the names the From
 * domain's edges are expected to carry): no I/O. The caller finds the
 * expected names (config, or the SRV targets of the From domain) and asks
 * again when the verdict is POLICY_NEED_PEER_NAMES.
 *
 * Inbound (from a foreign edge):
 *   1. the From domain passes the privacy mode (seed 003: allow_list,
 *      deny_list, off; [domain] entries exact or "*.suffix", with a
 *      direction; a [route] domain is on the allow list by itself);
 *   2. a new request targets one of our local domains, in the Request-URI
 *      and in To (no foreign-to-foreign relay, no relay to hosts by IP);
 *   3. the peer certificate names one of the From domain's expected edge
 *      names (Microsoft edges carry sip.<domain>-style names, not the bare
 *      domain, so an RFC 5922 bare-domain check would refuse real edges).
 * Outbound (from an inside node): the target domain passes the privacy
 * mode in the outbound direction. */
#ifndef FEDPROXY_POLICY_H
#define FEDPROXY_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "proxy/config.h"

struct policy_request {
	bool inbound;                   /* arrived from a foreign edge */
	bool in_dialog;                 /* it carried our Record-Route back */
	const char *from_domain;
	const char *to_domain;
	const char *request_uri_host;
	const char *const *peer_names;  /* inbound: certificate names, NULL-ended */
	const char *const *expected;    /* inbound: names the From domain's edges
					   may carry, NULL-ended; NULL: unknown */
};

enum policy_verdict {
	POLICY_ALLOW = 0,
	POLICY_DENY,            /* rule and detail say why */
	POLICY_NEED_PEER_NAMES, /* look up the From domain's edges and ask again */
};

struct policy_result {
	enum policy_verdict verdict;
	const char *rule;       /* static: the rule that decided, for Warning and log */
	char detail[256];       /* the facts behind it */
};

void policy_check(const struct config *cfg, const struct policy_request *req,
		  struct policy_result *out);

/* May traffic with this foreign domain pass in this direction? *rule says
 * which rule decided. */
bool policy_domain_allowed(const struct config *cfg, const char *domain, enum direction dir,
			   const char **rule);
bool policy_is_local_domain(const struct config *cfg, const char *domain);
/* The edge names configured for a domain ([domain] peer_names plus the host
 * of its [route]), NULL-ended in out (max slots); false when none is. */
bool policy_configured_peer_names(const struct config *cfg, const char *domain,
				  const char **out, size_t max);
/* Does any certificate name match any expected name? A certificate name
 * "*.example.com" counts only when allow_wildcard_certificates is on, and
 * then covers exactly one label. */
bool policy_names_match(const struct config *cfg, const char *const *cert_names,
			const char *const *expected);

#endif
