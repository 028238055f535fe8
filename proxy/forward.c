/* forward: the stages after a request was checked (see forward.h). */
#include "forward.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>

#include "admission.h"
#include "dns.h"
#include "health.h"
#include "log.h"
#include "sipmsg.h"
#include "stats.h"
#include "txn.h"
#include "presence/presence.h"
#include "routing/policy.h"
#include "routing/route.h"

#define BRANCH_PREFIX "z9hG4bK-fp"
#define RETRY_AFTER "Retry-After: 30"
#define ALLOW_METHODS                                                                      \
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, SUBSCRIBE, NOTIFY, "      \
	"PUBLISH, REFER, UPDATE, PRACK, BENOTIFY, NEGOTIATE"
/* Headers a foreign peer may not assert to the inside (lync-interop D5). */
static const char *const untrusted_inbound[] = {
	"ms-edge-proxy-message-trust", "P-Asserted-Identity", "P-Preferred-Identity", NULL,
};

/* Room for the next hop as the log names it. */
#define HOP_TEXT_MAX 320

/* What finding foreign edges by DNS takes (some 7 KB): allocated only for
 * a request whose sender's edges or next hop are looked up, never for one
 * going to an inside node, a known flow or a static address. */
struct fwd_dns {
	char expected_buf[DNS_MAX_RECORDS][DNS_NAME_MAX]; /* the sender's edges, by SRV */
	struct dns_result targets;   /* edges to try (SRV, or the one host) */
	size_t next_target;
	struct dns_result addrs;     /* addresses of the current edge */
	size_t next_addr;
};

/* One request on its way. */
struct fwd {
	struct conn *in;             /* refcounted: where it came from */
	struct config *cfg;          /* refcounted: the snapshot it runs under */
	msg_t *msg;                  /* owned when stateless, else the txn's */
	struct txn *txn;             /* NULL: stateless (ACK, BENOTIFY) */
	struct route_info ri;
	char hash[LOOP_HASH_HEX + 1]; /* the loop hash, for our branches */
	struct route_target target;
	const struct config_node *node; /* the inside node of the dialog, or NULL */
	const char *domain;          /* the foreign domain, in msg; NULL until policed */
	struct dns_query *query;     /* the lookup we wait for, or NULL */
	bool identity_known;         /* expected[] is filled */
	const char *expected[DNS_MAX_RECORDS + 2];
	struct fwd_dns *dns;         /* owned, NULL until a lookup needs it */
	const char *host;            /* borrowed (cfg, msg or dns->targets): the
					current edge's TLS name; NULL: dial by
					address (inside nodes) */
	uint16_t port;               /* the current edge's */
	char *body;                  /* owned: the translated presence body, or NULL */
	size_t body_len;
	const char *body_type;       /* its Content-Type (static, or in msg) */
	bool accept_pidf;            /* outbound SUBSCRIBE to Lync: Accept PIDF only */
};

static struct ev_loop *loop;
static uint32_t boot_id;      /* tells our branches apart from another run's */
static uint64_t branch_counter;

static void police(struct fwd *f);
static void resolve(struct fwd *f);
static void try_next_target(struct fwd *f);
static void try_next_addr(struct fwd *f);
static bool translate(struct fwd *f);

void forward_init(struct ev_loop *l)
{
	loop = l;
	gnutls_rnd(GNUTLS_RND_NONCE, &boot_id, sizeof(boot_id));
}

static void free_fwd(struct fwd *f)
{
	dns_cancel(f->query);
	free(f->dns);
	free(f->body);
	if (!f->txn && f->msg)
		msg_destroy(f->msg);
	conn_unref(f->in);
	config_unref(f->cfg);
	free(f);
}

static sip_t *sip_of(const struct fwd *f)
{
	return sip_object(f->msg);
}

/* ---- answering upstream ---- */

/* A final answer of ours. For a stateful request f may be freed by this
 * (the transaction lets go of its owner): do not touch f afterwards. */
static void answer(struct fwd *f, int status, const char *phrase, const char *const *extra)
{
	if (f->txn) {
		txn_reply(f->txn, status, phrase, extra);
		return;
	}
	/* ACK and BENOTIFY get no answers: drop, and say so. */
	log_warn("%s %s from %s dropped: %d %s", sip_of(f)->sip_request->rq_method_name,
		 sipmsg_call_id(sip_of(f)), conn_peer(f->in), status, phrase);
	free_fwd(f);
}

static void log_decision(const struct fwd *f, enum stats_decision d, const char *detail,
			 const char *why)
{
	static const char *const verdicts[STATS_DECISIONS] = {
		[STATS_FORWARD] = "forward",
		[STATS_DENY] = "deny",
		[STATS_REJECT] = "reject",
		[STATS_ANSWER] = "answer",
	};
	sip_t *sip = sip_of(f);
	const char *verdict = verdicts[d];

	stats_request(sip->sip_request->rq_method_name, d);
	log_info("req in  %s call-id=%s from=%s peer=%s/%s -> %s %s (%s)",
		 sip->sip_request->rq_method_name, sipmsg_call_id(sip), sipmsg_from_domain(sip),
		 conn_peer(f->in), conn_side(f->in) == SIDE_EXTERNAL ? "external" : "internal",
		 verdict, detail, why);
}

static void fail_unreachable(struct fwd *f, const char *why)
{
	log_warn("next hop for %s unreachable: %s", sipmsg_call_id(sip_of(f)), why);
	answer(f, 503, "Next Hop Unreachable", (const char *const[]){ RETRY_AFTER, NULL });
}

/* ---- building the request we send ---- */

/* Our address as seen from one side. Outside, the port is the public
 * (PAT) port of the dialog's node, so the foreign edge's later requests come
 * back to the port that leads to that node. */
static void our_side(const struct config *cfg, enum conn_side side,
		     const struct config_node *node, const char **host, uint16_t *port,
		     enum transport *tp)
{
	if (side == SIDE_EXTERNAL) {
		*host = cfg->public_fqdn;
		*port = config_node_public_port(cfg, node);
		*tp = TRANSPORT_TLS;
	} else {
		*host = cfg->internal_advertise.uri_host;
		*port = cfg->internal_advertise.port;
		*tp = cfg->internal_transport;
	}
}

/* One of our Record-Route entries, facing `side`, reachable over `flow`:
 * <sip:HOST:PORT;transport=T;lr;fpx=TOKEN>. Two per out-of-dialog request,
 * so the parameters are copied together, not formatted. */
static int push_rr(msg_t *out, const struct config *cfg, enum conn_side side,
		   const struct config_node *node, uint64_t flow)
{
	/* The parameters before the token, by transport (of one length). */
	static const char prefix[][sizeof("transport=tls;lr;" RR_PARAM "=")] = {
		[TRANSPORT_TCP] = "transport=tcp;lr;" RR_PARAM "=",
		[TRANSPORT_TLS] = "transport=tls;lr;" RR_PARAM "=",
	};
	const size_t prefix_len = sizeof(prefix[0]) - 1;
	struct rr_token tok = { .side = side == SIDE_EXTERNAL ? 'e' : 'i', .flow = flow };
	char params[sizeof(prefix[0]) + RR_TOKEN_MAX];
	const char *host;
	uint16_t port;
	enum transport tp;

	/* tok.node is zeroed past what is copied, so it stays terminated. */
	if (node)
		memcpy(tok.node, node->name, strnlen(node->name, RR_NODE_MAX));
	our_side(cfg, side, node, &host, &port, &tp);
	memcpy(params, prefix[tp], prefix_len);
	if (rr_token_encode(cfg->route_key, &tok, params + prefix_len,
			    sizeof(params) - prefix_len) < 0)
		return -1;
	return sipmsg_push_record_route(out, sip_object(out), host, port, params);
}

/* Going inside: drop what only a hop to us needed (tolerated Proxy-Require
 * tags, all of them since request.c refused the others) and what a
 * foreign peer may not assert. */
static void clean_inbound(msg_t *out, sip_t *sip)
{
	if (sip->sip_proxy_require)
		msg_header_remove_all(out, (msg_pub_t *)sip, (msg_header_t *)sip->sip_proxy_require);
	for (const char *const *name = untrusted_inbound; *name; name++)
		sipmsg_remove_named(out, sip, *name);
}

/* The translated presence document in place of the original body. */
static int replace_body(const struct fwd *f, msg_t *out, sip_t *sip)
{
	su_home_t *home = msg_home(out);
	msg_header_t *pl = (msg_header_t *)sip_payload_create(home, f->body, (isize_t)f->body_len);
	msg_header_t *ct = (msg_header_t *)sip_content_type_make(home, f->body_type);

	if (!pl || !ct || msg_header_insert(out, (msg_pub_t *)sip, pl) < 0 ||
	    msg_header_insert(out, (msg_pub_t *)sip, ct) < 0)
		return -1;
	/* Content-Length follows the new payload. */
	return sip_complete_message(out);
}

/* The copy we send: our Route entries gone, Max-Forwards down, our
 * Record-Route (out-of-dialog requests only) and Via on top. */
static msg_t *build_forward(struct fwd *f, struct conn *out, const char *branch)
{
	msg_t *copy = msg_copy(f->msg);
	const struct route_target *t = &f->target;
	sip_t *sip;
	const char *host;
	uint16_t port;
	enum transport tp;

	if (!copy)
		return NULL;
	sip = sip_object(copy);
	for (unsigned i = 0; i < f->ri.ours; i++)
		sip_route_remove(copy, sip);
	sipmsg_decrement_max_forwards(copy, sip);
	if (conn_side(f->in) == SIDE_EXTERNAL && t->side == SIDE_INTERNAL)
		clean_inbound(copy, sip);
	if (f->body && replace_body(f, copy, sip) < 0)
		goto out_destroy;
	if (f->accept_pidf &&
	    (msg_header_remove_all(copy, (msg_pub_t *)sip, (msg_header_t *)sip->sip_accept),
	     sipmsg_add_header(copy, "Accept: application/pidf+xml") < 0))
		goto out_destroy;
	if (!sip->sip_to->a_tag && sip->sip_request->rq_method != sip_method_ack) {
		/* Double record-routing (RFC 5658): the entry facing where the
		 * request came from first, the one facing where it goes on top. */
		if (push_rr(copy, f->cfg, conn_side(f->in), f->node, conn_id(f->in)) < 0 ||
		    push_rr(copy, f->cfg, t->side, f->node, conn_id(out)) < 0)
			goto out_destroy;
	}
	our_side(f->cfg, t->side, f->node, &host, &port, &tp);
	if (sipmsg_push_via(copy, sip, tp == TRANSPORT_TLS ? "TLS" : "TCP", host, port, branch) < 0)
		goto out_destroy;
	return copy;
out_destroy:
	msg_destroy(copy);
	return NULL;
}

static void make_branch(const struct fwd *f, char *out, size_t len)
{
	if (f->txn)
		snprintf(out, len, BRANCH_PREFIX "%08" PRIx32 "%08" PRIx64 ".%s", boot_id,
			 ++branch_counter, f->hash);
	else /* stateless: every copy of this request must get the same one */
		snprintf(out, len, BRANCH_PREFIX "%08lx.%s",
			 msg_hash_string(sip_of(f)->sip_via->v_branch), f->hash);
}

/* The next hop as the log names it, written to buf. */
static const char *describe_hop(const struct fwd *f, const char *ip, uint16_t port,
				char buf[HOP_TEXT_MAX])
{
	const struct route_target *t = &f->target;

	snprintf(buf, HOP_TEXT_MAX, "%s:%u/%s%s%s%s%s", ip, port,
		 t->transport == TRANSPORT_TLS ? "tls" : "tcp", t->node ? " node=" : "",
		 t->node ? t->node->name : "", f->host ? " host=" : "", f->host ? f->host : "");
	return buf;
}

/* Send on out, the connection to the next hop at ip:port. */
static void send_on(struct fwd *f, struct conn *out, const char *ip, uint16_t port)
{
	char branch[96], hop[HOP_TEXT_MAX];
	msg_t *copy;

	make_branch(f, branch, sizeof(branch));
	copy = build_forward(f, out, branch);
	if (!copy) {
		answer(f, 500, "Cannot Build Request", NULL);
		return;
	}
	if (f->target.side == SIDE_EXTERNAL && f->domain)
		conn_set_domain(out, f->domain);
	if (f->txn) {
		/* The hop is only for the transaction's outcome line. */
		txn_forward(f->txn, copy, out, branch,
			    log_enabled(LOG_LVL_INFO) ? describe_hop(f, ip, port, hop) : NULL);
		return; /* f stays the owner, for failover */
	}
	sipmsg_send(out, copy);
	msg_destroy(copy);
	free_fwd(f);
}

/* ---- finding the next hop ---- */

/* f's DNS part, allocated the first time a lookup needs it; NULL when out
 * of memory. */
static struct fwd_dns *need_dns(struct fwd *f)
{
	if (!f->dns)
		f->dns = calloc(1, sizeof(*f->dns));
	return f->dns;
}

static void dial(struct fwd *f, const char *ip, uint16_t port)
{
	const struct route_target *t = &f->target;
	const char *name = f->host ? f->host : ip;
	struct conn *c = conn_find_outbound(t->side, t->transport, ip, port, name);
	char hop[HOP_TEXT_MAX];
	int err;

	if (!c)
		c = conn_connect(loop, ip, port, name, t->side, t->transport, f->cfg);
	if (!c) {
		err = errno;
		log_warn("cannot dial %s for %s: %s", describe_hop(f, ip, port, hop),
			 sipmsg_call_id(sip_of(f)), strerror(err));
		try_next_addr(f);
		return;
	}
	send_on(f, c, ip, port);
}

static void on_addrs(void *arg, const struct dns_result *r)
{
	struct fwd *f = arg;

	f->query = NULL;
	f->dns->addrs = *r;
	f->dns->next_addr = 0;
	try_next_addr(f);
}

/* Without a DNS part there was only the one address, already tried. */
static void try_next_addr(struct fwd *f)
{
	struct fwd_dns *d = f->dns;

	if (d && d->addrs.status == 0 && d->next_addr < d->addrs.n) {
		dial(f, d->addrs.ip[d->next_addr++], f->port);
		return;
	}
	try_next_target(f);
}

/* The next edge of the plan: reuse a connection to it, or look it up. */
static void try_next_target(struct fwd *f)
{
	struct fwd_dns *d = f->dns;
	struct conn *c;

	if (!d || d->next_target >= d->targets.n) {
		fail_unreachable(f, "no next hop could be reached");
		return;
	}
	f->host = d->targets.srv[d->next_target].host;
	f->port = d->targets.srv[d->next_target].port;
	d->next_target++;
	d->addrs.n = 0;
	if ((c = conn_find_by_peer_name(f->host))) {
		send_on(f, c, conn_peer_ip(c), conn_peer_port(c));
		return;
	}
	if (dns_addr_cached(f->host, &d->addrs) == 0) {
		d->next_addr = 0;
		try_next_addr(f);
		return;
	}
	f->query = dns_addr_lookup(f->host, on_addrs, f);
	if (!f->query)
		fail_unreachable(f, "out of memory");
}

/* One edge to try: the target's own host. */
static void plan_single(struct fwd *f, const char *host, uint16_t port)
{
	struct fwd_dns *d = f->dns;

	d->targets = (struct dns_result){ .n = 1 };
	snprintf(d->targets.srv[0].host, sizeof(d->targets.srv[0].host), "%s", host);
	d->targets.srv[0].port = port;
	d->next_target = 0;
}

static void on_srv(void *arg, const struct dns_result *r)
{
	struct fwd *f = arg;

	f->query = NULL;
	if (r->status == -ENOENT && f->cfg->a_record_fallback) {
		plan_single(f, f->target.srv_domain, 5061);
	} else if (r->status < 0) {
		fail_unreachable(f, r->status == -ENOENT ? "no _sipfederationtls._tcp record"
							 : "DNS lookup failed");
		return;
	} else {
		f->dns->targets = *r;
		f->dns->next_target = 0;
	}
	try_next_target(f);
}

static void resolve(struct fwd *f)
{
	const struct route_target *t = &f->target;
	struct conn *c = t->flow ? conn_by_id(t->flow) : NULL;
	struct dns_result cached;

	if (c && conn_state(c) != CONN_CLOSED && conn_side(c) == t->side) {
		send_on(f, c, conn_peer_ip(c), conn_peer_port(c));
		return;
	}
	/* Inside nodes are dialled by address. */
	f->host = t->side == SIDE_INTERNAL ? NULL : t->host;
	if (t->side == SIDE_INTERNAL || t->ip) {
		dial(f, t->ip, t->port);
		return;
	}
	if (!need_dns(f)) {
		fail_unreachable(f, "out of memory");
		return;
	}
	if (!t->srv_domain) {
		plan_single(f, t->host, t->port);
		try_next_target(f);
		return;
	}
	if (dns_srv_cached(t->srv_domain, &cached) == 0) {
		on_srv(f, &cached);
		return;
	}
	f->query = dns_srv_lookup(t->srv_domain, on_srv, f);
	if (!f->query)
		fail_unreachable(f, "out of memory");
}

/* The transaction's connection failed before it opened: next address,
 * then next edge. */
static bool owner_retry(void *arg)
{
	struct fwd *f = arg;
	struct fwd_dns *d = f->dns;

	if (f->target.side == SIDE_INTERNAL || !d ||
	    (d->next_addr >= d->addrs.n && d->next_target >= d->targets.n))
		return false;
	try_next_addr(f);
	return true;
}

/* Its connection dropped before any answer: find the next hop afresh (the
 * dropped connection is gone from every lookup, so this dials anew). */
static bool owner_reconnect(void *arg)
{
	struct fwd *f = arg;

	log_info("%s: connection to the next hop dropped before an answer; sending again",
		 sipmsg_call_id(sip_of(f)));
	f->target.flow = 0;
	if (f->dns) {
		f->dns->next_target = f->dns->targets.n = 0;
		f->dns->next_addr = f->dns->addrs.n = 0;
	}
	resolve(f);
	return true;
}

static void owner_abandon(void *arg)
{
	free_fwd(arg);
}

static const struct txn_owner owner_ops = {
	.abandon = owner_abandon,
	.retry = owner_retry,
	.reconnect = owner_reconnect,
};

/* ---- policy ---- */

static void deny(struct fwd *f, const struct policy_result *p)
{
	char warning[512], code[8];

	snprintf(code, sizeof(code), "%d", f->cfg->deny_status);
	log_decision(f, STATS_DENY, code, p->rule);
	log_warn("denied %s from %s: %s: %s", sipmsg_call_id(sip_of(f)), conn_peer(f->in), p->rule,
		 p->detail);
	snprintf(warning, sizeof(warning), "Warning: 399 %s \"Denied by %s\"", f->cfg->public_fqdn,
		 p->rule);
	answer(f, f->cfg->deny_status, f->cfg->deny_reason, (const char *const[]){ warning, NULL });
}

static void take_srv_names(struct fwd *f, const struct dns_result *r)
{
	size_t n = 0;

	for (size_t i = 0; r->status == 0 && i < r->n; i++) {
		snprintf(f->dns->expected_buf[n], DNS_NAME_MAX, "%s", r->srv[i].host);
		f->expected[n] = f->dns->expected_buf[n];
		n++;
	}
	f->expected[n] = NULL;
	f->identity_known = true;
}

static void on_identity_srv(void *arg, const struct dns_result *r)
{
	struct fwd *f = arg;

	f->query = NULL;
	if (r->status == -ETIMEDOUT || r->status == -EIO) {
		answer(f, 503, "Cannot Verify Peer", (const char *const[]){ RETRY_AFTER, NULL });
		return;
	}
	take_srv_names(f, r);
	police(f);
}

/* Names the From domain's edges may carry: from the config, the SRV cache,
 * or a lookup (then police() runs again when it answers). */
static bool find_expected(struct fwd *f, const char *domain)
{
	struct dns_result cached;

	if (f->identity_known)
		return true;
	if (policy_configured_peer_names(f->cfg, domain, f->expected, DNS_MAX_RECORDS + 2)) {
		f->identity_known = true;
		return true;
	}
	if (!need_dns(f)) {
		answer(f, 500, "Out Of Memory", NULL);
		return false;
	}
	if (dns_srv_cached(domain, &cached) == 0) {
		take_srv_names(f, &cached);
		return true;
	}
	f->query = dns_srv_lookup(domain, on_identity_srv, f);
	if (!f->query)
		answer(f, 500, "Out Of Memory", NULL);
	return false;
}

/* Where a forwarded request goes, as its log line names it, in buf. */
static const char *describe_target(const struct route_target *t, char *buf, size_t len)
{
	if (t->node)
		snprintf(buf, len, "node=%s", t->node->name);
	else if (t->srv_domain)
		snprintf(buf, len, "domain=%s", t->srv_domain);
	else
		snprintf(buf, len, "host=%s", t->host);
	return buf;
}

static void police(struct fwd *f)
{
	sip_t *sip = sip_of(f);
	bool inbound = conn_side(f->in) == SIDE_EXTERNAL;
	bool in_dialog = f->ri.ours > 0;
	const char *target_domain = in_dialog || !sip->sip_request->rq_url->url_host
					    ? sip->sip_to->a_url->url_host
					    : sip->sip_request->rq_url->url_host;
	struct policy_request pr = {
		.inbound = inbound,
		.in_dialog = in_dialog,
		.from_domain = sip->sip_from->a_url->url_host,
		.to_domain = inbound ? sip->sip_to->a_url->url_host : target_domain,
		.request_uri_host = sip->sip_request->rq_url->url_host,
		.peer_names = conn_peer_names(f->in),
		.expected = f->identity_known ? f->expected : NULL,
	};
	struct policy_result res;

	policy_check(f->cfg, &pr, &res);
	if (res.verdict == POLICY_NEED_PEER_NAMES) {
		if (find_expected(f, pr.from_domain))
			police(f);
		return;
	}
	if (res.verdict == POLICY_DENY) {
		deny(f, &res);
		return;
	}
	/* The foreign domain this request is about, for the connection list. */
	f->domain = inbound ? pr.from_domain : pr.to_domain;
	if (inbound && !admission_request(f->cfg, f->domain, ev_now(loop))) {
		log_decision(f, STATS_REJECT, "503", "domain_rate exceeded");
		answer(f, 503, "Rate Limit Exceeded", (const char *const[]){ "Retry-After: 1", NULL });
		return;
	}
	if (!translate(f))
		return;
	if (inbound && f->domain)
		conn_set_domain(f->in, f->domain);
	char to[300];

	log_decision(f, STATS_FORWARD,
		     log_enabled(LOG_LVL_INFO) ? describe_target(&f->target, to, sizeof(to)) : "",
		     f->target.why);
	resolve(f);
}

/* ---- presence ---- */

static bool is_presence(const sip_t *sip)
{
	return sip->sip_event && strcasecmp(sip->sip_event->o_type, "presence") == 0;
}

/* NOTIFY, BENOTIFY and PUBLISH of the presence package, to or from a domain
 * that speaks Lync or AOL: the body in the other side's form. false when
 * the request was refused (400: the body cannot be translated). */
static bool translate(struct fwd *f)
{
	sip_t *sip = sip_of(f);
	const char *m = sip->sip_request->rq_method_name, *reason = NULL;
	bool inbound = conn_side(f->in) == SIDE_EXTERNAL;
	int dialect = config_dialect_for(f->cfg, f->domain);
	struct pres_input in = { .body = sip->sip_payload ? sip->sip_payload->pl_data : NULL };
	struct pres_result out;
	int r;

	f->accept_pidf = !inbound && dialect == PRES_DIALECT_LYNC && is_presence(sip) &&
			 sip->sip_request->rq_method == sip_method_subscribe;
	if (!f->cfg->presence || dialect == PRES_DIALECT_PIDF || !is_presence(sip) || !in.body ||
	    (strcasecmp(m, "NOTIFY") && strcasecmp(m, "BENOTIFY") && strcasecmp(m, "PUBLISH")))
		return true;
	in.len = sip->sip_payload->pl_len;
	in.content_type = sip->sip_content_type
				  ? sip_header_as_string(msg_home(f->msg),
							 (sip_header_t *)sip->sip_content_type)
				  : NULL;
	/* The presentity is the notifier (From) of a NOTIFY, the target (To)
	 * of a PUBLISH; from outside, it must be in the sender's domain. */
	if (inbound)
		in.peer_domain = sip->sip_request->rq_method == sip_method_publish
					 ? sip->sip_to->a_url->url_host
					 : sip->sip_from->a_url->url_host;
	r = pres_translate(f->cfg->presence, inbound ? PRES_INBOUND : PRES_OUTBOUND, dialect, &in,
			   &out, &reason);
	if (r == 1)
		return true;
	if (r < 0) {
		char why[200];

		snprintf(why, sizeof(why), "Reason: SIP;cause=400;text=\"%s\"", reason);
		log_decision(f, STATS_REJECT, "400", reason);
		answer(f, 400, "Bad Presence Document", (const char *const[]){ why, NULL });
		return false;
	}
	f->body = out.body;
	f->body_len = out.len;
	f->body_type = out.content_type;
	stats_translation(out.row);
	log_debug("presence %s %s translated by %s", inbound ? "from" : "to", f->domain, out.row);
	return true;
}

/* ---- entry ---- */

/* The inside node a request from the inside belongs to: the one named in
 * our Route token when it is in a dialog, else the one that sent it. */
static const struct config_node *source_node(const struct fwd *f)
{
	const struct rr_token *tok = f->ri.token_ok[SIDE_INTERNAL] ? &f->ri.token[SIDE_INTERNAL]
								   : NULL;
	const sip_via_t *v = sip_of(f)->sip_via;

	if (tok && tok->node[0])
		return config_node_by_name(f->cfg, tok->node);
	return route_source_node(f->cfg, v->v_host, v->v_port ? (uint16_t)atoi(v->v_port) : 5060,
				 conn_peer_ip(f->in));
}

static void decide(struct fwd *f)
{
	sip_t *sip = sip_of(f);
	enum conn_side arrived = conn_side(f->in);
	enum conn_side toward = arrived == SIDE_EXTERNAL ? SIDE_INTERNAL : SIDE_EXTERNAL;
	const sip_route_t *rest = sip->sip_route;
	struct route_request rq;

	for (unsigned i = 0; rest && i < f->ri.ours; i++)
		rest = rest->r_next;
	rq = (struct route_request){
		.arrived_on = arrived,
		.method = sip->sip_request->rq_method_name,
		.request_uri = sip->sip_request->rq_url,
		.next_route = rest ? rest->r_url : NULL,
		.hint = f->ri.token_ok[toward] ? &f->ri.token[toward] : NULL,
		.had_our_route = f->ri.ours > 0,
		.arrival_node = conn_pat_node(f->in),
		.node_down = health_node_down,
	};
	route_decide(f->cfg, &rq, &f->target);
	f->node = f->target.node;
	if (arrived == SIDE_INTERNAL)
		f->node = source_node(f);
	if (f->target.verdict == ROUTE_LOCAL) {
		log_decision(f, STATS_ANSWER, "200", f->target.why);
		answer(f, 200, "OK", (const char *const[]){ ALLOW_METHODS, NULL });
		return;
	}
	if (f->target.verdict == ROUTE_REJECT) {
		char code[8];

		snprintf(code, sizeof(code), "%d", f->target.status);
		log_decision(f, STATS_REJECT, code, f->target.why);
		answer(f, f->target.status, f->target.phrase,
		       f->target.status == 503 ? (const char *const[]){ RETRY_AFTER, NULL } : NULL);
		return;
	}
	police(f);
}

/* Requests nobody answers go without a transaction. */
static bool stateless(const sip_t *sip)
{
	return sip->sip_request->rq_method == sip_method_ack ||
	       strcasecmp(sip->sip_request->rq_method_name, "BENOTIFY") == 0;
}

void forward_request(struct conn *in, msg_t *msg, struct config *cfg,
		     const struct route_info *ri, const char loop_hash[LOOP_HASH_HEX + 1],
		     const struct txn_key *key)
{
	sip_t *sip = sip_object(msg);
	struct fwd *f = calloc(1, sizeof(*f));

	if (!f) {
		msg_destroy(msg);
		return;
	}
	f->in = conn_ref(in);
	f->cfg = config_ref(cfg);
	f->msg = msg;
	f->ri = *ri;
	memcpy(f->hash, loop_hash, sizeof(f->hash));
	if (!stateless(sip)) {
		f->txn = txn_create(in, msg, cfg, key);
		if (!f->txn) {
			answer(f, 500, "Out Of Memory", NULL);
			return;
		}
		txn_set_owner(f->txn, &owner_ops, f);
		if (sip->sip_request->rq_method == sip_method_invite)
			txn_reply(f->txn, 100, "Trying", NULL);
	}
	decide(f);
}
