/* test_policy: the federation policy (routing/policy.h).
 *
 * policy_check() and its helpers are pure, so every row is the request
 * facts, the config they are judged under and the expected verdict with the
 * rule that decided it. A row's config is TEST_CONFIG_VALID (helpers.h:
 * local domain example.test, privacy_mode allow_list by default, a static
 * route partner.example.test -> edge.partner.example.test) followed by the
 * row's own text, which starts inside [policy]; each distinct text is loaded
 * once and kept until the end of the program.
 *
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing/policy.h"

/* ---- configs, loaded on first use ---- */

struct loaded {
	const char *text; /* the row's config text (a string literal) */
	struct config *cfg;
};

static struct loaded loaded[32];
static size_t n_loaded;

/* TEST_CONFIG_VALID followed by text, or NULL when it does not load (the
 * loader has logged why). */
static struct config *config_with(const char *text)
{
	static const char base[] = TEST_CONFIG_VALID;
	struct loaded *l;
	char *full;

	for (size_t i = 0; i < n_loaded; i++)
		if (strcmp(loaded[i].text, text) == 0)
			return loaded[i].cfg;
	assert_true(n_loaded < ARRAY_LEN(loaded));
	full = malloc(sizeof(base) + strlen(text));
	assert_non_null(full);
	memcpy(full, base, sizeof(base) - 1);
	strcpy(full + sizeof(base) - 1, text);
	l = &loaded[n_loaded++];
	l->text = text;
	l->cfg = config_load_pki("policy.conf", full);
	free(full);
	return l->cfg;
}

/* ---- what a row expects ---- */

struct want {
	enum policy_verdict verdict;
	const char *rule;
};

#define ALLOW_OFF { POLICY_ALLOW, "privacy_mode off" }
#define ALLOW_ENTRY { POLICY_ALLOW, "allow_list entry" }
#define ALLOW_ROUTE { POLICY_ALLOW, "static route" }
#define ALLOW_UNLISTED { POLICY_ALLOW, "deny_list, not listed" }
#define DENY_ENTRY { POLICY_DENY, "deny_list entry" }
#define ALLOW_OTHER_DIR { POLICY_ALLOW, "deny_list entry for the other direction" }
#define DENY_OTHER_DIR { POLICY_DENY, "allow_list entry for the other direction" }
#define DENY_UNLISTED { POLICY_DENY, "allow_list, not listed" }
#define DENY_RELAY { POLICY_DENY, "relay refused" }
#define DENY_PEER { POLICY_DENY, "peer identity" }
#define NEED_PEER { POLICY_NEED_PEER_NAMES, "peer identity" }

static const char *verdict_name(enum policy_verdict v)
{
	switch (v) {
	case POLICY_ALLOW:
		return "ALLOW";
	case POLICY_DENY:
		return "DENY";
	case POLICY_NEED_PEER_NAMES:
		return "NEED_PEER_NAMES";
	}
	return "(not a verdict)";
}

/* The result of one policy_check() against w; label says which request it
 * was; detail (when set) is a part the detail must contain. */
static void check_result(int line, const char *desc, const char *label,
			 const struct policy_result *res, const struct want *w, const char *detail)
{
	char what[160];

	snprintf(what, sizeof(what), "%s: verdict", label);
	row_str(__FILE__, line, desc, what, verdict_name(res->verdict), verdict_name(w->verdict));
	snprintf(what, sizeof(what), "%s: rule", label);
	row_str(__FILE__, line, desc, what, res->rule, w->rule);
	row_check(__FILE__, line, desc, res->detail[0] != '\0', "%s: empty detail", label);
	if (detail)
		row_check(__FILE__, line, desc, strstr(res->detail, detail) != NULL,
			  "%s: detail \"%s\" lacks \"%s\"", label, res->detail, detail);
}

/* A result that fails every check until policy_check() fills it. */
static struct policy_result *fresh_result(struct policy_result *res)
{
	memset(res, 0, sizeof(*res));
	res->verdict = (enum policy_verdict)-1;
	return res;
}

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NO_NAMES NULL      /* no certificate names at all */
#define UNKNOWN NULL       /* expected edge names not known yet */
#define EMPTY NAMES(NULL)  /* a list with no name in it */

#define EDGE "edge.partner.example.test"
#define PARTNER "partner.example.test"

/* ---- privacy modes: which foreign domains may pass, which way ----
 *
 * Each row is one domain under one config, and what an inbound request from
 * it and an outbound request to it get. The inbound request is otherwise
 * good (local target, a certificate naming an expected edge), so the
 * privacy rule alone decides, and it is the rule of an ALLOW too. */

/* One mode, and two [domain] entries (exact and wildcard) of one direction. */
#define MATRIX(mode, dir)                                                      \
	"privacy_mode = " mode "\n"                                            \
	"[domain peer.test]\ndirection = " dir "\n"                            \
	"[domain *.partner.test]\ndirection = " dir "\n"
#define AL_BOTH MATRIX("allow_list", "both")
#define AL_IN MATRIX("allow_list", "inbound")
#define AL_OUT MATRIX("allow_list", "outbound")
#define DL_BOTH MATRIX("deny_list", "both")
#define DL_IN MATRIX("deny_list", "inbound")
#define DL_OUT MATRIX("deny_list", "outbound")
#define OFF_BOTH MATRIX("off", "both")
#define OFF_IN MATRIX("off", "inbound")
#define OFF_OUT MATRIX("off", "outbound")

/* The exact entry and a wildcard entry for a name under it. */
#define EXACT_AND_WILD(mode)                                                   \
	"privacy_mode = " mode "\n"                                            \
	"[domain *.partner.test]\ndirection = both\n"                          \
	"[domain blocked.partner.test]\ndirection = outbound\n"
#define EXACT_FIRST                                                            \
	"[domain blocked.partner.test]\ndirection = outbound\n"                \
	"[domain *.partner.test]\ndirection = both\n"
#define TWO_WILDCARDS                                                          \
	"[domain *.partner.test]\ndirection = both\n"                          \
	"[domain *.eu.partner.test]\ndirection = inbound\n"
/* A [domain] entry of one direction for the routed domain. */
#define ROUTED_ENTRY(mode, dir)                                                \
	"privacy_mode = " mode "\n"                                            \
	"[domain partner.example.test]\ndirection = " dir "\n"

struct domain_row {
	int line;
	const char *desc;
	const char *conf;
	const char *domain;
	struct want in;  /* an inbound request from the domain */
	struct want out; /* an outbound request to the domain */
};

static const struct domain_row domain_rows[] = {
	/* ---- allow_list, entries for both directions ---- */
	{ ROW("allow_list/both: exact entry"), AL_BOTH, "peer.test", ALLOW_ENTRY, ALLOW_ENTRY },
	{ ROW("allow_list/both: exact entry, other case"), AL_BOTH, "Peer.TEST", ALLOW_ENTRY,
	  ALLOW_ENTRY },
	{ ROW("allow_list/both: an exact entry does not cover a subdomain"), AL_BOTH,
	  "sip.peer.test", DENY_UNLISTED, DENY_UNLISTED },
	{ ROW("allow_list/both: *.suffix covers the suffix itself"), AL_BOTH, "partner.test",
	  ALLOW_ENTRY, ALLOW_ENTRY },
	{ ROW("allow_list/both: *.suffix covers a subdomain"), AL_BOTH, "sip.partner.test",
	  ALLOW_ENTRY, ALLOW_ENTRY },
	{ ROW("allow_list/both: *.suffix covers a deeper subdomain"), AL_BOTH,
	  "a.b.partner.test", ALLOW_ENTRY, ALLOW_ENTRY },
	{ ROW("allow_list/both: *.suffix, other case"), AL_BOTH, "SIP.Partner.TEST", ALLOW_ENTRY,
	  ALLOW_ENTRY },
	{ ROW("allow_list/both: look-alike of the suffix"), AL_BOTH, "evilpartner.test",
	  DENY_UNLISTED, DENY_UNLISTED },
	/* ---- allow_list, inbound entries ---- */
	{ ROW("allow_list/inbound: exact entry"), AL_IN, "peer.test", ALLOW_ENTRY,
	  DENY_OTHER_DIR },
	{ ROW("allow_list/inbound: exact entry, other case"), AL_IN, "PEER.test", ALLOW_ENTRY,
	  DENY_OTHER_DIR },
	{ ROW("allow_list/inbound: an exact entry does not cover a subdomain"), AL_IN,
	  "sip.peer.test", DENY_UNLISTED, DENY_UNLISTED },
	{ ROW("allow_list/inbound: *.suffix covers the suffix itself"), AL_IN, "partner.test",
	  ALLOW_ENTRY, DENY_OTHER_DIR },
	{ ROW("allow_list/inbound: *.suffix covers a subdomain"), AL_IN, "sip.partner.test",
	  ALLOW_ENTRY, DENY_OTHER_DIR },
	{ ROW("allow_list/inbound: *.suffix covers a deeper subdomain"), AL_IN,
	  "a.b.partner.test", ALLOW_ENTRY, DENY_OTHER_DIR },
	{ ROW("allow_list/inbound: *.suffix, other case"), AL_IN, "sip.PARTNER.test",
	  ALLOW_ENTRY, DENY_OTHER_DIR },
	{ ROW("allow_list/inbound: look-alike of the suffix"), AL_IN, "evilpartner.test",
	  DENY_UNLISTED, DENY_UNLISTED },
	/* ---- allow_list, outbound entries ---- */
	{ ROW("allow_list/outbound: exact entry"), AL_OUT, "peer.test", DENY_OTHER_DIR,
	  ALLOW_ENTRY },
	{ ROW("allow_list/outbound: exact entry, other case"), AL_OUT, "peer.TEST",
	  DENY_OTHER_DIR, ALLOW_ENTRY },
	{ ROW("allow_list/outbound: an exact entry does not cover a subdomain"), AL_OUT,
	  "sip.peer.test", DENY_UNLISTED, DENY_UNLISTED },
	{ ROW("allow_list/outbound: *.suffix covers the suffix itself"), AL_OUT, "partner.test",
	  DENY_OTHER_DIR, ALLOW_ENTRY },
	{ ROW("allow_list/outbound: *.suffix covers a subdomain"), AL_OUT, "sip.partner.test",
	  DENY_OTHER_DIR, ALLOW_ENTRY },
	{ ROW("allow_list/outbound: *.suffix covers a deeper subdomain"), AL_OUT,
	  "a.b.partner.test", DENY_OTHER_DIR, ALLOW_ENTRY },
	{ ROW("allow_list/outbound: *.suffix, other case"), AL_OUT, "Sip.Partner.Test",
	  DENY_OTHER_DIR, ALLOW_ENTRY },
	{ ROW("allow_list/outbound: look-alike of the suffix"), AL_OUT, "evilpartner.test",
	  DENY_UNLISTED, DENY_UNLISTED },
	/* ---- deny_list, entries for both directions ---- */
	{ ROW("deny_list/both: exact entry"), DL_BOTH, "peer.test", DENY_ENTRY, DENY_ENTRY },
	{ ROW("deny_list/both: exact entry, other case"), DL_BOTH, "Peer.TEST", DENY_ENTRY,
	  DENY_ENTRY },
	{ ROW("deny_list/both: an exact entry does not cover a subdomain"), DL_BOTH,
	  "sip.peer.test", ALLOW_UNLISTED, ALLOW_UNLISTED },
	{ ROW("deny_list/both: *.suffix covers the suffix itself"), DL_BOTH, "partner.test",
	  DENY_ENTRY, DENY_ENTRY },
	{ ROW("deny_list/both: *.suffix covers a subdomain"), DL_BOTH, "sip.partner.test",
	  DENY_ENTRY, DENY_ENTRY },
	{ ROW("deny_list/both: *.suffix covers a deeper subdomain"), DL_BOTH, "a.b.partner.test",
	  DENY_ENTRY, DENY_ENTRY },
	{ ROW("deny_list/both: *.suffix, other case"), DL_BOTH, "SIP.Partner.TEST", DENY_ENTRY,
	  DENY_ENTRY },
	{ ROW("deny_list/both: look-alike of the suffix"), DL_BOTH, "evilpartner.test",
	  ALLOW_UNLISTED, ALLOW_UNLISTED },
	/* ---- deny_list, inbound entries ---- */
	{ ROW("deny_list/inbound: exact entry"), DL_IN, "peer.test", DENY_ENTRY, ALLOW_OTHER_DIR },
	{ ROW("deny_list/inbound: exact entry, other case"), DL_IN, "PEER.test", DENY_ENTRY,
	  ALLOW_OTHER_DIR },
	{ ROW("deny_list/inbound: an exact entry does not cover a subdomain"), DL_IN,
	  "sip.peer.test", ALLOW_UNLISTED, ALLOW_UNLISTED },
	{ ROW("deny_list/inbound: *.suffix covers the suffix itself"), DL_IN, "partner.test",
	  DENY_ENTRY, ALLOW_OTHER_DIR },
	{ ROW("deny_list/inbound: *.suffix covers a subdomain"), DL_IN, "sip.partner.test",
	  DENY_ENTRY, ALLOW_OTHER_DIR },
	{ ROW("deny_list/inbound: *.suffix covers a deeper subdomain"), DL_IN,
	  "a.b.partner.test", DENY_ENTRY, ALLOW_OTHER_DIR },
	{ ROW("deny_list/inbound: *.suffix, other case"), DL_IN, "sip.PARTNER.test", DENY_ENTRY,
	  ALLOW_OTHER_DIR },
	{ ROW("deny_list/inbound: look-alike of the suffix"), DL_IN, "evilpartner.test",
	  ALLOW_UNLISTED, ALLOW_UNLISTED },
	/* ---- deny_list, outbound entries ---- */
	{ ROW("deny_list/outbound: exact entry"), DL_OUT, "peer.test", ALLOW_OTHER_DIR,
	  DENY_ENTRY },
	{ ROW("deny_list/outbound: exact entry, other case"), DL_OUT, "peer.TEST",
	  ALLOW_OTHER_DIR, DENY_ENTRY },
	{ ROW("deny_list/outbound: an exact entry does not cover a subdomain"), DL_OUT,
	  "sip.peer.test", ALLOW_UNLISTED, ALLOW_UNLISTED },
	{ ROW("deny_list/outbound: *.suffix covers the suffix itself"), DL_OUT, "partner.test",
	  ALLOW_OTHER_DIR, DENY_ENTRY },
	{ ROW("deny_list/outbound: *.suffix covers a subdomain"), DL_OUT, "sip.partner.test",
	  ALLOW_OTHER_DIR, DENY_ENTRY },
	{ ROW("deny_list/outbound: *.suffix covers a deeper subdomain"), DL_OUT,
	  "a.b.partner.test", ALLOW_OTHER_DIR, DENY_ENTRY },
	{ ROW("deny_list/outbound: *.suffix, other case"), DL_OUT, "Sip.Partner.Test",
	  ALLOW_OTHER_DIR, DENY_ENTRY },
	{ ROW("deny_list/outbound: look-alike of the suffix"), DL_OUT, "evilpartner.test",
	  ALLOW_UNLISTED, ALLOW_UNLISTED },
	/* ---- off: entries change nothing ---- */
	{ ROW("off/both: exact entry"), OFF_BOTH, "peer.test", ALLOW_OFF, ALLOW_OFF },
	{ ROW("off/both: exact entry, other case"), OFF_BOTH, "Peer.TEST", ALLOW_OFF, ALLOW_OFF },
	{ ROW("off/both: subdomain of an exact entry"), OFF_BOTH, "sip.peer.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/both: *.suffix, the suffix itself"), OFF_BOTH, "partner.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/both: *.suffix, a subdomain"), OFF_BOTH, "sip.partner.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/both: *.suffix, a deeper subdomain"), OFF_BOTH, "a.b.partner.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/both: *.suffix, other case"), OFF_BOTH, "SIP.Partner.TEST", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/both: look-alike of the suffix"), OFF_BOTH, "evilpartner.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/inbound: exact entry"), OFF_IN, "peer.test", ALLOW_OFF, ALLOW_OFF },
	{ ROW("off/inbound: exact entry, other case"), OFF_IN, "PEER.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/inbound: subdomain of an exact entry"), OFF_IN, "sip.peer.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/inbound: *.suffix, the suffix itself"), OFF_IN, "partner.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/inbound: *.suffix, a subdomain"), OFF_IN, "sip.partner.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/inbound: *.suffix, a deeper subdomain"), OFF_IN, "a.b.partner.test",
	  ALLOW_OFF, ALLOW_OFF },
	{ ROW("off/inbound: *.suffix, other case"), OFF_IN, "sip.PARTNER.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/inbound: look-alike of the suffix"), OFF_IN, "evilpartner.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/outbound: exact entry"), OFF_OUT, "peer.test", ALLOW_OFF, ALLOW_OFF },
	{ ROW("off/outbound: exact entry, other case"), OFF_OUT, "peer.TEST", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/outbound: subdomain of an exact entry"), OFF_OUT, "sip.peer.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/outbound: *.suffix, the suffix itself"), OFF_OUT, "partner.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/outbound: *.suffix, a subdomain"), OFF_OUT, "sip.partner.test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/outbound: *.suffix, a deeper subdomain"), OFF_OUT, "a.b.partner.test",
	  ALLOW_OFF, ALLOW_OFF },
	{ ROW("off/outbound: *.suffix, other case"), OFF_OUT, "Sip.Partner.Test", ALLOW_OFF,
	  ALLOW_OFF },
	{ ROW("off/outbound: look-alike of the suffix"), OFF_OUT, "evilpartner.test", ALLOW_OFF,
	  ALLOW_OFF },
	/* ---- static routes ---- */
	{ ROW("allow_list: a domain with only a [route] is allowed"), "", PARTNER, ALLOW_ROUTE,
	  ALLOW_ROUTE },
	{ ROW("allow_list: a routed domain in another case"), "", "Partner.EXAMPLE.test",
	  ALLOW_ROUTE, ALLOW_ROUTE },
	{ ROW("allow_list: a route covers its domain only, not a subdomain"), "",
	  "sip.partner.example.test", DENY_UNLISTED, DENY_UNLISTED },
	{ ROW("allow_list: neither [domain] nor [route]"), "", "unknown.test", DENY_UNLISTED,
	  DENY_UNLISTED },
	{ ROW("allow_list: no domain at all"), "", NULL, DENY_UNLISTED, DENY_UNLISTED },
	{ ROW("deny_list: a route does not make a domain listed"), "privacy_mode = deny_list\n",
	  PARTNER, ALLOW_UNLISTED, ALLOW_UNLISTED },
	{ ROW("deny_list: an entry denies a routed domain"), ROUTED_ENTRY("deny_list", "both"),
	  PARTNER, DENY_ENTRY, DENY_ENTRY },
	{ ROW("off: a routed domain"), "privacy_mode = off\n", PARTNER, ALLOW_OFF, ALLOW_OFF },
	/* A routed domain with its own [domain] entry passes only the ways
	 * the entry names: the route stands for an entry only without one. */
	{ ROW("allow_list: routed domain, [domain] outbound only"),
	  ROUTED_ENTRY("allow_list", "outbound"), PARTNER, DENY_OTHER_DIR, ALLOW_ENTRY },
	{ ROW("allow_list: routed domain, [domain] inbound only"),
	  ROUTED_ENTRY("allow_list", "inbound"), PARTNER, ALLOW_ENTRY, DENY_OTHER_DIR },
	/* ---- the most specific entry decides ---- */
	{ ROW("allow_list: exact entry beats the wildcard"), EXACT_AND_WILD("allow_list"),
	  "blocked.partner.test", DENY_OTHER_DIR, ALLOW_ENTRY },
	{ ROW("allow_list: exact entry beats the wildcard, other case"),
	  EXACT_AND_WILD("allow_list"), "Blocked.PARTNER.test", DENY_OTHER_DIR, ALLOW_ENTRY },
	{ ROW("allow_list: a sibling of the exact entry: the wildcard"),
	  EXACT_AND_WILD("allow_list"), "sip.partner.test", ALLOW_ENTRY, ALLOW_ENTRY },
	{ ROW("allow_list: below the exact entry: the wildcard"), EXACT_AND_WILD("allow_list"),
	  "sip.blocked.partner.test", ALLOW_ENTRY, ALLOW_ENTRY },
	{ ROW("allow_list: exact entry written first beats the wildcard"), EXACT_FIRST,
	  "blocked.partner.test", DENY_OTHER_DIR, ALLOW_ENTRY },
	{ ROW("deny_list: exact entry beats the wildcard"), EXACT_AND_WILD("deny_list"),
	  "blocked.partner.test", ALLOW_OTHER_DIR, DENY_ENTRY },
	{ ROW("deny_list: a sibling of the exact entry: the wildcard"),
	  EXACT_AND_WILD("deny_list"), "sip.partner.test", DENY_ENTRY, DENY_ENTRY },
	{ ROW("the longer wildcard beats the shorter"), TWO_WILDCARDS, "sip.eu.partner.test",
	  ALLOW_ENTRY, DENY_OTHER_DIR },
	{ ROW("the longer wildcard covers its suffix itself"), TWO_WILDCARDS, "eu.partner.test",
	  ALLOW_ENTRY, DENY_OTHER_DIR },
	{ ROW("outside the longer wildcard: the shorter"), TWO_WILDCARDS, "us.partner.test",
	  ALLOW_ENTRY, ALLOW_ENTRY },
};

/* One direction of a domain row: policy_domain_allowed() directly, then a
 * whole request through policy_check(). */
static void check_domain_way(const struct domain_row *r, const struct config *cfg,
			     bool inbound)
{
	static const char *const edge[] = { "sip.edge.test", NULL };
	const struct want *w = inbound ? &r->in : &r->out;
	const char *rule = NULL;
	char label[160];
	bool ok = policy_domain_allowed(cfg, r->domain, inbound ? DIR_INBOUND : DIR_OUTBOUND,
					&rule);
	struct policy_request req = {
		.inbound = inbound,
		.from_domain = inbound ? r->domain : "example.test",
		.to_domain = inbound ? "example.test" : r->domain,
		.request_uri_host = inbound ? "example.test" : r->domain,
		.peer_names = inbound ? edge : NULL,
		.expected = inbound ? edge : NULL,
	};
	struct policy_result res;

	snprintf(label, sizeof(label), "policy_domain_allowed(%s, %s)",
		 r->domain ? r->domain : "NULL", inbound ? "inbound" : "outbound");
	row_int(__FILE__, r->line, r->desc, label, ok, w->verdict == POLICY_ALLOW);
	row_str(__FILE__, r->line, r->desc, label, rule, w->rule);

	snprintf(label, sizeof(label), "%s %s", inbound ? "inbound from" : "outbound to",
		 r->domain ? r->domain : "NULL");
	policy_check(cfg, &req, fresh_result(&res));
	check_result(r->line, r->desc, label, &res, w, NULL);
}

static void test_domain_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(domain_rows); i++) {
		const struct domain_row *r = &domain_rows[i];
		const struct config *cfg = config_with(r->conf);

		if (!CHECK_TRUE(r, cfg != NULL))
			continue;
		check_domain_way(r, cfg, true);
		check_domain_way(r, cfg, false);
	}
	rows_done();
}

/* ---- whole requests: local targets, peer identity, outbound ---- */

#define WILDCARD_CERTS "allow_wildcard_certificates = yes\n"
#define TWO_LOCAL "local_domains = example.test, example.org\n"
/* An Office 365 style tenant: its edges carry a name outside its domain. */
#define TENANT "[domain tenant.test]\npeer_names = sipfed.online.lync.com\n"
#define ONE_WAY                                                                \
	"[domain in.test]\ndirection = inbound\n"                              \
	"[domain out.test]\ndirection = outbound\n"

struct check_row {
	int line;
	const char *desc;
	const char *conf;
	bool inbound;
	bool in_dialog;
	const char *from;
	const char *to;
	const char *ruri_host;
	const char *const *peer_names;
	const char *const *expected;
	struct want want;
	const char *detail; /* a part of the detail, or NULL */
};

/* An inbound request from the routed partner's edge. */
#define IN_NEW(to, ruri) true, false, PARTNER, to, ruri
#define IN_DIALOG(to, ruri) true, true, PARTNER, to, ruri
#define LOCAL_NEW IN_NEW("example.test", "example.test")
#define GOOD_EDGE NAMES(EDGE), NAMES(EDGE)
/* An outbound request from an inside user. */
#define OUT_NEW(to) false, false, "example.test", to, to

static const struct check_row check_rows[] = {
	/* ---- inbound: the target must be local ---- */
	{ ROW("new request to a local user"), "", LOCAL_NEW, GOOD_EDGE, ALLOW_ROUTE,
	  "certificate " EDGE },
	{ ROW("local domain in another case"), "", IN_NEW("EXAMPLE.test", "Example.TEST"),
	  GOOD_EDGE, ALLOW_ROUTE },
	{ ROW("the second local domain"), TWO_LOCAL, IN_NEW("example.org", "example.org"),
	  GOOD_EDGE, ALLOW_ROUTE },
	{ ROW("Request-URI and To in two different local domains"), TWO_LOCAL,
	  IN_NEW("example.org", "example.test"), GOOD_EDGE, ALLOW_ROUTE },
	{ ROW("Request-URI host foreign: no relay"), "", IN_NEW("example.test", PARTNER),
	  GOOD_EDGE, DENY_RELAY, "Request-URI host " PARTNER },
	{ ROW("Request-URI host a subdomain of a local domain"), "",
	  IN_NEW("example.test", "sip.example.test"), GOOD_EDGE, DENY_RELAY,
	  "Request-URI host sip.example.test" },
	{ ROW("Request-URI host an IPv4 address"), "", IN_NEW("example.test", "192.0.2.7"),
	  GOOD_EDGE, DENY_RELAY, "Request-URI host 192.0.2.7" },
	{ ROW("Request-URI host a loopback address"), "", IN_NEW("example.test", "127.0.0.1"),
	  GOOD_EDGE, DENY_RELAY, "127.0.0.1" },
	{ ROW("Request-URI host an IPv6 reference"), "",
	  IN_NEW("example.test", "[2001:db8::7]"), GOOD_EDGE, DENY_RELAY, "[2001:db8::7]" },
	{ ROW("Request-URI local, To foreign"), "", IN_NEW("other.test", "example.test"),
	  GOOD_EDGE, DENY_RELAY, "To domain other.test" },
	{ ROW("Request-URI local, To an IP address"), "", IN_NEW("192.0.2.7", "example.test"),
	  GOOD_EDGE, DENY_RELAY, "To domain 192.0.2.7" },
	{ ROW("To in the second local domain, which is not configured"), "",
	  IN_NEW("example.org", "example.test"), GOOD_EDGE, DENY_RELAY, "To domain example.org" },
	/* ---- inbound in-dialog: no target check, the rest still holds ---- */
	{ ROW("in-dialog to a contact IP and a foreign To"), "",
	  IN_DIALOG("other.test", "192.0.2.55"), GOOD_EDGE, ALLOW_ROUTE },
	{ ROW("in-dialog from a domain not on the allow list"), "",
	  true, true, "unknown.test", "example.test", "192.0.2.55", GOOD_EDGE, DENY_UNLISTED,
	  "From domain unknown.test" },
	{ ROW("in-dialog, certificate of another domain"), "",
	  IN_DIALOG("example.test", "192.0.2.55"), NAMES("edge.evil.test"), NAMES(EDGE),
	  DENY_PEER },
	{ ROW("in-dialog, edges unknown: look them up"), "",
	  IN_DIALOG("example.test", "192.0.2.55"), NAMES(EDGE), UNKNOWN, NEED_PEER },
	/* ---- inbound: the order of the checks ---- */
	{ ROW("privacy before the target"), "",
	  true, false, "unknown.test", "other.test", "other.test", GOOD_EDGE, DENY_UNLISTED,
	  "From domain unknown.test" },
	{ ROW("target before the peer lookup"), "", IN_NEW("example.test", "other.test"),
	  NAMES(EDGE), UNKNOWN, DENY_RELAY },
	/* ---- inbound: peer identity ---- */
	{ ROW("edges unknown: look them up"), "", LOCAL_NEW, NAMES(EDGE), UNKNOWN, NEED_PEER,
	  "edges of " PARTNER " unknown" },
	{ ROW("edges unknown, no certificate names yet"), "", LOCAL_NEW, NO_NAMES, UNKNOWN,
	  NEED_PEER },
	{ ROW("certificate names the second expected edge"), "", LOCAL_NEW, NAMES(EDGE),
	  NAMES("edge1.partner.example.test", EDGE), ALLOW_ROUTE },
	{ ROW("the second certificate name is an expected edge"), "", LOCAL_NEW,
	  NAMES("other.test", EDGE), NAMES(EDGE), ALLOW_ROUTE },
	{ ROW("certificate names another domain's edge"), "", LOCAL_NEW, NAMES("edge.evil.test"),
	  NAMES(EDGE), DENY_PEER, "certificate edge.evil.test" },
	{ ROW("certificate name in another case"), "", LOCAL_NEW,
	  NAMES("EDGE.Partner.Example.Test"), NAMES(EDGE), ALLOW_ROUTE },
	{ ROW("expected name in another case"), "", LOCAL_NEW, NAMES(EDGE),
	  NAMES("Edge.PARTNER.example.test"), ALLOW_ROUTE },
	{ ROW("certificate names the bare domain, edges carry sip-style names"), "", LOCAL_NEW,
	  NAMES(PARTNER), NAMES(EDGE), DENY_PEER },
	{ ROW("certificate name with a look-alike suffix"), "", LOCAL_NEW,
	  NAMES(EDGE ".evil.test"), NAMES(EDGE), DENY_PEER },
	{ ROW("CN-only certificate: its CN is the one name"), TENANT,
	  true, false, "tenant.test", "example.test", "example.test",
	  NAMES("sipfed.online.lync.com"), NAMES("sipfed.online.lync.com"), ALLOW_ENTRY },
	{ ROW("CN-only certificate of another edge"), TENANT,
	  true, false, "tenant.test", "example.test", "example.test",
	  NAMES("sip.tenant.test"), NAMES("sipfed.online.lync.com"), DENY_PEER },
	{ ROW("no certificate names"), "", LOCAL_NEW, NO_NAMES, NAMES(EDGE), DENY_PEER,
	  "(no name)" },
	{ ROW("an empty list of certificate names"), "", LOCAL_NEW, EMPTY, NAMES(EDGE),
	  DENY_PEER, "(no name)" },
	{ ROW("no edge expected (SRV found none)"), "", LOCAL_NEW, NAMES(EDGE), EMPTY, DENY_PEER,
	  "(none)" },
	{ ROW("wildcard certificate, wildcards off"), "", LOCAL_NEW,
	  NAMES("*.partner.example.test"), NAMES(EDGE), DENY_PEER },
	{ ROW("wildcard certificate, wildcards on"), WILDCARD_CERTS, LOCAL_NEW,
	  NAMES("*.partner.example.test"), NAMES(EDGE), ALLOW_ROUTE },
	{ ROW("wildcard certificate, expected edge two labels down"), WILDCARD_CERTS, LOCAL_NEW,
	  NAMES("*.partner.example.test"), NAMES("a.edge.partner.example.test"), DENY_PEER },
	{ ROW("wildcard certificate, expected name is its suffix"), WILDCARD_CERTS, LOCAL_NEW,
	  NAMES("*.partner.example.test"), NAMES(PARTNER), DENY_PEER },
	/* ---- outbound: the target domain, outbound direction ---- */
	{ ROW("outbound to a routed domain"), "", OUT_NEW(PARTNER), NO_NAMES, UNKNOWN,
	  ALLOW_ROUTE, "target domain " PARTNER },
	{ ROW("outbound to an unlisted domain"), "", OUT_NEW("unknown.test"), NO_NAMES, UNKNOWN,
	  DENY_UNLISTED, "target domain unknown.test" },
	{ ROW("outbound to an outbound entry"), ONE_WAY, OUT_NEW("out.test"), NO_NAMES, UNKNOWN,
	  ALLOW_ENTRY },
	{ ROW("outbound to an inbound-only entry"), ONE_WAY, OUT_NEW("in.test"), NO_NAMES,
	  UNKNOWN, DENY_OTHER_DIR, "target domain in.test" },
	{ ROW("inbound from the inbound-only entry"), ONE_WAY,
	  true, false, "in.test", "example.test", "example.test", NAMES("sip.in.test"),
	  NAMES("sip.in.test"), ALLOW_ENTRY },
	{ ROW("inbound from the outbound-only entry"), ONE_WAY,
	  true, false, "out.test", "example.test", "example.test", NAMES("sip.out.test"),
	  NAMES("sip.out.test"), DENY_OTHER_DIR, "From domain out.test" },
	{ ROW("outbound: the From domain does not count"), ONE_WAY,
	  false, false, "in.test", "out.test", "out.test", NO_NAMES, UNKNOWN, ALLOW_ENTRY },
	{ ROW("outbound: To decides, not the Request-URI host"), ONE_WAY,
	  false, false, "example.test", "in.test", "out.test", NO_NAMES, UNKNOWN,
	  DENY_OTHER_DIR },
	{ ROW("outbound in-dialog to a contact IP"), "",
	  false, true, "example.test", PARTNER, "192.0.2.55", NO_NAMES, UNKNOWN, ALLOW_ROUTE },
	{ ROW("outbound, privacy off"), "privacy_mode = off\n", OUT_NEW("unknown.test"),
	  NO_NAMES, UNKNOWN, ALLOW_OFF },
	{ ROW("outbound to a deny_list entry"), "privacy_mode = deny_list\n" ONE_WAY,
	  OUT_NEW("out.test"), NO_NAMES, UNKNOWN, DENY_ENTRY },
};

static void test_check_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(check_rows); i++) {
		const struct check_row *r = &check_rows[i];
		const struct config *cfg = config_with(r->conf);
		struct policy_request req = {
			.inbound = r->inbound,
			.in_dialog = r->in_dialog,
			.from_domain = r->from,
			.to_domain = r->to,
			.request_uri_host = r->ruri_host,
			.peer_names = r->peer_names,
			.expected = r->expected,
		};
		struct policy_result res;

		if (!CHECK_TRUE(r, cfg != NULL))
			continue;
		policy_check(cfg, &req, fresh_result(&res));
		check_result(r->line, r->desc, "policy_check", &res, &r->want, r->detail);
	}
	rows_done();
}

/* ---- certificate names against expected edge names ---- */

struct names_row {
	int line;
	const char *desc;
	const char *conf;
	const char *const *cert;
	const char *const *expected;
	bool want;
};

static const struct names_row names_rows[] = {
	{ ROW("same name"), "", NAMES("sip.partner.test"), NAMES("sip.partner.test"), true },
	{ ROW("same name, other case"), "", NAMES("SIP.Partner.test"), NAMES("sip.partner.TEST"),
	  true },
	{ ROW("another name"), "", NAMES("sip.partner.test"), NAMES("edge.partner.test"), false },
	{ ROW("any certificate name against any expected name"), "",
	  NAMES("a.test", "b.test", "sip.partner.test"),
	  NAMES("c.test", "sip.partner.test", "d.test"), true },
	{ ROW("a name that only ends like the expected one"), "", NAMES("xsip.partner.test"),
	  NAMES("sip.partner.test"), false },
	{ ROW("no certificate names"), "", NO_NAMES, NAMES("sip.partner.test"), false },
	{ ROW("no expected names"), "", NAMES("sip.partner.test"), NO_NAMES, false },
	{ ROW("empty lists"), "", EMPTY, EMPTY, false },
	{ ROW("wildcards off: *.suffix is refused"), "", NAMES("*.partner.test"),
	  NAMES("sip.partner.test"), false },
	{ ROW("wildcards on: one label"), WILDCARD_CERTS, NAMES("*.partner.test"),
	  NAMES("sip.partner.test"), true },
	{ ROW("wildcards on: one label, other case"), WILDCARD_CERTS, NAMES("*.Partner.TEST"),
	  NAMES("SIP.partner.test"), true },
	{ ROW("wildcards on: two labels"), WILDCARD_CERTS, NAMES("*.partner.test"),
	  NAMES("a.b.partner.test"), false },
	{ ROW("wildcards on: the suffix itself"), WILDCARD_CERTS, NAMES("*.partner.test"),
	  NAMES("partner.test"), false },
	{ ROW("wildcards on: an empty label"), WILDCARD_CERTS, NAMES("*.partner.test"),
	  NAMES(".partner.test"), false },
	{ ROW("wildcards on: a look-alike suffix"), WILDCARD_CERTS, NAMES("*.partner.test"),
	  NAMES("sip.evilpartner.test"), false },
	{ ROW("wildcards on: the suffix followed by more"), WILDCARD_CERTS,
	  NAMES("*.partner.test"), NAMES("sip.partner.test.evil.test"), false },
	{ ROW("wildcards on: a partial-label wildcard is no wildcard"), WILDCARD_CERTS,
	  NAMES("sip*.partner.test"), NAMES("sip1.partner.test"), false },
	{ ROW("wildcards on: a wildcard not in the first label"), WILDCARD_CERTS,
	  NAMES("sip.*.test"), NAMES("sip.partner.test"), false },
	{ ROW("wildcards on: the wildcard as the second certificate name"), WILDCARD_CERTS,
	  NAMES("other.test", "*.partner.test"), NAMES("sip.partner.test"), true },
	{ ROW("wildcards on: exact names still match"), WILDCARD_CERTS, NAMES("sip.partner.test"),
	  NAMES("sip.partner.test"), true },
};

static void test_names_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(names_rows); i++) {
		const struct names_row *r = &names_rows[i];
		const struct config *cfg = config_with(r->conf);

		if (!CHECK_TRUE(r, cfg != NULL))
			continue;
		CHECK_INT(r, policy_names_match(cfg, r->cert, r->expected), r->want);
	}
	rows_done();
}

/* ---- the edge names a domain is configured with ---- */

#define PEERS                                                                  \
	"[domain tenant.test]\n"                                               \
	"peer_names = sipfed.online.lync.com, sip2.tenant.test\n"              \
	"[domain partner.example.test]\n"                                      \
	"peer_names = edge2.partner.example.test\n"                            \
	"[domain *.wild.test]\n"                                               \
	"peer_names = sip.wild.test\n"                                         \
	"[domain bare.test]\n"                                                 \
	"direction = both\n"                                                   \
	"[domain blank.test]\n"                                                \
	"peer_names =\n"

#define OUT_MAX 6

struct peers_row {
	int line;
	const char *desc;
	const char *conf;
	const char *domain;
	size_t max;                 /* room in out, NULL included */
	bool want;
	const char *names[OUT_MAX]; /* what out holds, NULL-ended */
};

static const struct peers_row peers_rows[] = {
	{ ROW("[route] only: its host"), "", PARTNER, OUT_MAX, true, { EDGE } },
	{ ROW("[route] only, domain in another case"), "", "Partner.EXAMPLE.test", OUT_MAX, true,
	  { EDGE } },
	{ ROW("a subdomain of a routed domain: nothing"), "", "sip.partner.example.test",
	  OUT_MAX, false },
	{ ROW("unknown domain: nothing"), "", "unknown.test", OUT_MAX, false },
	{ ROW("[domain] peer_names only"), PEERS, "tenant.test", OUT_MAX, true,
	  { "sipfed.online.lync.com", "sip2.tenant.test" } },
	{ ROW("[domain] peer_names, domain in another case"), PEERS, "TENANT.test", OUT_MAX, true,
	  { "sipfed.online.lync.com", "sip2.tenant.test" } },
	{ ROW("[domain] peer_names plus the [route] host"), PEERS, PARTNER, OUT_MAX, true,
	  { "edge2.partner.example.test", EDGE } },
	{ ROW("wildcard [domain], a subdomain"), PEERS, "sip.wild.test", OUT_MAX, true,
	  { "sip.wild.test" } },
	{ ROW("wildcard [domain], the suffix itself"), PEERS, "wild.test", OUT_MAX, true,
	  { "sip.wild.test" } },
	{ ROW("[domain] without peer_names: nothing"), PEERS, "bare.test", OUT_MAX, false },
	{ ROW("[domain] with empty peer_names: nothing"), PEERS, "blank.test", OUT_MAX, false },
	{ ROW("out holds one name: the first peer name"), PEERS, "tenant.test", 2, true,
	  { "sipfed.online.lync.com" } },
	{ ROW("out holds one name: the route host is left out"), PEERS, PARTNER, 2, true,
	  { "edge2.partner.example.test" } },
};

static void test_peers_table(void **state)
{
	static const char *const untouched = "(untouched)";

	for (size_t i = 0; i < ARRAY_LEN(peers_rows); i++) {
		const struct peers_row *r = &peers_rows[i];
		const struct config *cfg = config_with(r->conf);
		const char *out[OUT_MAX + 1];
		size_t n;

		if (!CHECK_TRUE(r, cfg != NULL))
			continue;
		for (n = 0; n < ARRAY_LEN(out); n++)
			out[n] = untouched;
		CHECK_INT(r, policy_configured_peer_names(cfg, r->domain, out, r->max), r->want);
		for (n = 0; n < r->max && r->names[n]; n++)
			CHECK_STR(r, out[n], r->names[n]);
		CHECK_TRUE(r, n < r->max && out[n] == NULL);
		for (n = r->max; n < ARRAY_LEN(out); n++)
			CHECK_TRUE(r, out[n] == untouched);
	}
	rows_done();
}

/* ---- local domains ---- */

struct local_row {
	int line;
	const char *desc;
	const char *conf;
	const char *domain;
	bool want;
};

static const struct local_row local_rows[] = {
	{ ROW("the local domain"), "", "example.test", true },
	{ ROW("the local domain in another case"), "", "Example.TEST", true },
	{ ROW("a subdomain"), "", "sip.example.test", false },
	{ ROW("a look-alike"), "", "evilexample.test", false },
	{ ROW("the local domain followed by more"), "", "example.test.evil.test", false },
	{ ROW("the proxy's own name"), "", "fedproxy.example.test", false },
	{ ROW("an IP address"), "", "127.0.0.1", false },
	{ ROW("empty"), "", "", false },
	{ ROW("no domain"), "", NULL, false },
	{ ROW("one of two local domains"), TWO_LOCAL, "example.org", true },
	{ ROW("the other of two local domains"), TWO_LOCAL, "EXAMPLE.test", true },
	{ ROW("a domain not in the list"), "", "example.org", false },
};

static void test_local_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(local_rows); i++) {
		const struct local_row *r = &local_rows[i];
		const struct config *cfg = config_with(r->conf);

		if (!CHECK_TRUE(r, cfg != NULL))
			continue;
		CHECK_INT(r, policy_is_local_domain(cfg, r->domain), r->want);
	}
	rows_done();
}

static int setup(void **state)
{
	if (config_with(""))
		return 0;
	pki_remove(); /* cmocka skips the teardown of a failed setup */
	return -1;
}

static int teardown(void **state)
{
	while (n_loaded > 0)
		config_unref(loaded[--n_loaded].cfg);
	pki_remove();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_table),
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_names_table),
		cmocka_unit_test(test_peers_table),
		cmocka_unit_test(test_local_table),
	};

	return cmocka_run_group_tests_name("policy", tests, setup, teardown);
}
