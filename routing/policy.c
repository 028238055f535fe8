/* policy: federation policy decisions (see policy.h). */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void decide(struct policy_result *out, enum policy_verdict v, const char *rule,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void decide(struct policy_result *out, enum policy_verdict v, const char *rule,
		   const char *fmt, ...)
{
	va_list ap;

	out->verdict = v;
	out->rule = rule;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
	va_end(ap);
}

bool policy_is_local_domain(const struct config *cfg, const char *domain)
{
	for (const char **d = cfg->local_domains; domain && d && *d; d++)
		if (strcasecmp(*d, domain) == 0)
			return true;
	return false;
}

bool policy_domain_allowed(const struct config *cfg, const char *domain, enum direction dir,
			   const char **rule)
{
	const struct config_domain *d = domain ? config_domain_for(cfg, domain) : NULL;
	bool listed = d && (d->direction & dir);

	switch (cfg->privacy_mode) {
	case PRIVACY_OFF:
		*rule = "privacy_mode off";
		return true;
	case PRIVACY_DENY_LIST:
		if (listed)
			*rule = "deny_list entry";
		else
			*rule = d ? "deny_list entry for the other direction" : "deny_list, not listed";
		return !listed;
	default:
		if (listed) {
			*rule = "allow_list entry";
			return true;
		}
		/* A static route lists its domain, unless a [domain] entry says
		 * which ways it may pass. */
		if (!d && domain && config_route_for(cfg, domain)) {
			*rule = "static route";
			return true;
		}
		*rule = d ? "allow_list entry for the other direction" : "allow_list, not listed";
		return false;
	}
}

bool policy_configured_peer_names(const struct config *cfg, const char *domain,
				  const char **out, size_t max)
{
	const struct config_domain *d = config_domain_for(cfg, domain);
	const struct config_route *r = config_route_for(cfg, domain);
	size_t n = 0;

	if (max == 0)
		return false;
	for (const char **p = d ? d->peer_names : NULL; p && *p && n + 1 < max; p++)
		out[n++] = *p;
	if (r && n + 1 < max)
		out[n++] = r->host.host;
	out[n] = NULL;
	return n > 0;
}

/* RFC 6125 6.4.3, restricted: "*." followed by the rest, one label only. */
static bool name_matches(const struct config *cfg, const char *cert, const char *want)
{
	const char *dot;

	if (strcasecmp(cert, want) == 0)
		return true;
	if (!cfg->allow_wildcard_certificates || strncmp(cert, "*.", 2) != 0)
		return false;
	dot = strchr(want, '.');
	return dot && dot != want && strcasecmp(dot + 1, cert + 2) == 0;
}

bool policy_names_match(const struct config *cfg, const char *const *cert_names,
			const char *const *expected)
{
	for (const char *const *c = cert_names; c && *c; c++)
		for (const char *const *e = expected; e && *e; e++)
			if (name_matches(cfg, *c, *e))
				return true;
	return false;
}

static void check_inbound(const struct config *cfg, const struct policy_request *req,
			  struct policy_result *out)
{
	const char *rule;

	if (!policy_domain_allowed(cfg, req->from_domain, DIR_INBOUND, &rule)) {
		decide(out, POLICY_DENY, rule, "From domain %s", req->from_domain);
		return;
	}
	if (!req->in_dialog && !policy_is_local_domain(cfg, req->request_uri_host)) {
		decide(out, POLICY_DENY, "relay refused", "Request-URI host %s is not a local domain",
		       req->request_uri_host);
		return;
	}
	if (!req->in_dialog && !policy_is_local_domain(cfg, req->to_domain)) {
		decide(out, POLICY_DENY, "relay refused", "To domain %s is not a local domain",
		       req->to_domain);
		return;
	}
	if (!req->expected) {
		decide(out, POLICY_NEED_PEER_NAMES, "peer identity", "edges of %s unknown",
		       req->from_domain);
		return;
	}
	if (!policy_names_match(cfg, req->peer_names, req->expected)) {
		decide(out, POLICY_DENY, "peer identity",
		       "certificate %s does not name an edge of %s (expected %s)",
		       req->peer_names && req->peer_names[0] ? req->peer_names[0] : "(no name)",
		       req->from_domain, req->expected[0] ? req->expected[0] : "(none)");
		return;
	}
	decide(out, POLICY_ALLOW, rule, "From domain %s, certificate %s", req->from_domain,
	       req->peer_names[0]);
}

void policy_check(const struct config *cfg, const struct policy_request *req,
		  struct policy_result *out)
{
	const char *rule;

	if (req->inbound) {
		check_inbound(cfg, req, out);
		return;
	}
	if (!policy_domain_allowed(cfg, req->to_domain, DIR_OUTBOUND, &rule)) {
		decide(out, POLICY_DENY, rule, "target domain %s", req->to_domain);
		return;
	}
	decide(out, POLICY_ALLOW, rule, "target domain %s", req->to_domain);
}
