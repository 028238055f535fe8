/* request: receive, check, route and forward requests (see request.h).
 *
 * The pipeline for one request (RFC 3261 section 16.3 to 16.6):
 *   check well-formedness (400) -> note received/rport -> ACK and CANCEL
 *   rules -> absorb retransmissions -> find our own Route entries and their
 *   tokens -> loop check (482) -> route_decide -> Max-Forwards (483) ->
 *   transaction, 100 Trying for INVITE -> copy, pop our Routes, add
 *   Record-Route and Via -> send on the next hop's connection. */
#include "request.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>

#include "conn.h"
#include "log.h"
#include "nexthop.h"
#include "sipmsg.h"
#include "txn.h"
#include "routing/route.h"
#include "routing/rr.h"

/* Our branches: the RFC 3261 cookie, our mark, a unique part, '.', the loop
 * hash (RFC 3261 16.6 step 8). */
#define BRANCH_PREFIX "z9hG4bK-fp"
#define LOOP_HASH_HEX 16

#define ALLOW_METHODS                                                                      \
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, SUBSCRIBE, NOTIFY, "      \
	"PUBLISH, REFER, UPDATE, PRACK, BENOTIFY"

static struct ev_loop *loop;
static struct config *current; /* refcounted */
static uint32_t boot_id;       /* tells our branches apart from another run's */
static uint64_t branch_counter;

/* What the Route header says about us. */
struct route_info {
	unsigned ours;                  /* leading Route entries that are ours */
	bool token_ok[2];               /* per side (enum conn_side) */
	struct rr_token token[2];
	bool forged;                    /* one of ours carried a bad token */
};

static void on_message(struct conn *c, msg_t *msg);
static void on_stream_error(struct conn *c, msg_t *msg, int status, const char *phrase);

static const struct conn_handler handler = {
	.message = on_message,
	.stream_error = on_stream_error,
};

void request_init(struct ev_loop *l)
{
	loop = l;
	gnutls_rnd(GNUTLS_RND_NONCE, &boot_id, sizeof(boot_id));
	txn_init(l);
	conn_set_handler(&handler);
}

void request_set_config(struct config *cfg)
{
	struct config *old = current;

	current = config_ref(cfg);
	config_unref(old);
}

static void reply_stateless(struct conn *c, msg_t *req, int status, const char *phrase,
			    const char *const *extra)
{
	msg_t *resp = sipmsg_response(req, status, phrase);

	for (; resp && extra && *extra; extra++)
		sipmsg_add_header(resp, *extra);
	if (resp) {
		sipmsg_send(c, resp);
		msg_destroy(resp);
	}
}

static void on_stream_error(struct conn *c, msg_t *msg, int status, const char *phrase)
{
	sip_t *sip = msg ? sip_object(msg) : NULL;

	log_warn("framing error from %s: %d %s%s", conn_peer(c), status, phrase,
		 sip && sip->sip_request ? "" : " (unanswerable: dropped)");
	/* Answerable only when the headers a response needs were parsed. */
	if (sip && sip->sip_request && sip->sip_via && sip->sip_cseq && sip->sip_call_id &&
	    sip->sip_request->rq_method != sip_method_ack)
		reply_stateless(c, msg, status, phrase, NULL);
	if (msg)
		msg_destroy(msg);
}

static bool is_our_via(const struct config *cfg, const sip_via_t *v)
{
	return v->v_branch && strncmp(v->v_branch, BRANCH_PREFIX, strlen(BRANCH_PREFIX)) == 0 &&
	       route_is_us(cfg, v->v_host, v->v_port ? (uint16_t)atoi(v->v_port) : 0);
}

/* Walk the leading Route entries that name us; collect their tokens. */
static void read_our_routes(const struct config *cfg, const sip_t *sip, struct route_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	for (const sip_route_t *r = sip->sip_route; r; r = r->r_next) {
		char value[160];
		struct rr_token tok;

		if (!route_is_us(cfg, r->r_url->url_host, sipmsg_url_port(r->r_url, 0)) &&
		    !route_is_us(cfg, r->r_url->url_host,
				 sipmsg_url_port(r->r_url, r->r_url->url_type == url_sips ? 5061 : 5060)))
			break;
		ri->ours++;
		if (url_param(r->r_url->url_params, RR_PARAM, value, sizeof(value)) <= 0)
			continue;
		if (rr_token_decode(cfg->route_secret, value, &tok) < 0) {
			ri->forged = true;
			continue;
		}
		int side = tok.side == 'e' ? SIDE_EXTERNAL : SIDE_INTERNAL;

		ri->token[side] = tok;
		ri->token_ok[side] = true;
	}
}

static const sip_route_t *route_after_ours(const sip_t *sip, unsigned ours)
{
	const sip_route_t *r = sip->sip_route;

	while (r && ours--)
		r = r->r_next;
	return r;
}

/* RFC 3261 16.6 step 8: a hash of what stays the same when a request
 * spirals but repeats when it loops. */
static void loop_hash(const sip_t *sip, const sip_route_t *rest, char out[LOOP_HASH_HEX + 1])
{
	char buf[2048];
	unsigned char digest[20];
	int n;

	n = snprintf(buf, sizeof(buf), "%s %s@%s:%s|%s|%s|%s|%" PRIu32 "|%s",
		     sip->sip_request->rq_method_name,
		     sip->sip_request->rq_url->url_user ? sip->sip_request->rq_url->url_user : "",
		     sip->sip_request->rq_url->url_host,
		     sip->sip_request->rq_url->url_port ? sip->sip_request->rq_url->url_port : "",
		     sip->sip_from->a_tag ? sip->sip_from->a_tag : "",
		     sip->sip_to->a_tag ? sip->sip_to->a_tag : "", sip->sip_call_id->i_id,
		     sip->sip_cseq->cs_seq, rest ? rest->r_url->url_host : "");
	if (n < 0)
		n = 0;
	gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf),
			 digest);
	for (int i = 0; i < LOOP_HASH_HEX / 2; i++)
		sprintf(out + 2 * i, "%02x", digest[i]);
}

static bool is_loop(const struct config *cfg, const sip_t *sip, const char *hash)
{
	for (const sip_via_t *v = sip->sip_via; v; v = v->v_next) {
		const char *dot;

		if (!is_our_via(cfg, v))
			continue;
		dot = strrchr(v->v_branch, '.');
		if (dot && strcmp(dot + 1, hash) == 0)
			return true;
	}
	return false;
}

static void make_branch(char *out, size_t len, const char *hash)
{
	snprintf(out, len, BRANCH_PREFIX "%08" PRIx32 "%08" PRIx64 ".%s", boot_id,
		 ++branch_counter, hash);
}

/* Our address as seen from one side, for Via and Record-Route. */
static void our_side(const struct config *cfg, enum conn_side side, const char **host,
		     uint16_t *port, enum transport *tp)
{
	if (side == SIDE_EXTERNAL) {
		*host = cfg->public_fqdn;
		*port = cfg->external_listen.port;
		*tp = TRANSPORT_TLS;
	} else {
		*host = cfg->internal_advertise.host;
		*port = cfg->internal_advertise.port;
		*tp = cfg->internal_transport;
	}
}

/* One of our Record-Route entries, facing `side`, reachable over `flow`. */
static int push_rr(msg_t *fwd, const struct config *cfg, enum conn_side side,
		   const struct config_node *node, uint64_t flow)
{
	struct rr_token tok = { .side = side == SIDE_EXTERNAL ? 'e' : 'i', .flow = flow };
	char value[160], uri[512];
	const char *host;
	uint16_t port;
	enum transport tp;

	if (node)
		snprintf(tok.node, sizeof(tok.node), "%s", node->name);
	if (rr_token_encode(cfg->route_secret, &tok, value, sizeof(value)) < 0)
		return -1;
	our_side(cfg, side, &host, &port, &tp);
	snprintf(uri, sizeof(uri), "sip:%s:%u;transport=%s;lr;" RR_PARAM "=%s", host, port,
		 tp == TRANSPORT_TLS ? "tls" : "tcp", value);
	return sipmsg_push_record_route(fwd, sip_object(fwd), uri);
}

/* The copy we send: our Route entries gone, Max-Forwards down, our
 * Record-Route (out-of-dialog requests only) and Via on top. */
static msg_t *build_forward(msg_t *msg, const struct config *cfg, const struct route_info *ri,
			    const struct route_target *t, struct conn *in, struct conn *out,
			    const char *branch)
{
	msg_t *fwd = msg_copy(msg);
	sip_t *sip;
	const char *host;
	uint16_t port;
	enum transport tp;

	if (!fwd)
		return NULL;
	sip = sip_object(fwd);
	for (unsigned i = 0; i < ri->ours; i++)
		sip_route_remove(fwd, sip);
	sipmsg_decrement_max_forwards(fwd, sip);
	if (!sip->sip_to->a_tag && sip->sip_request->rq_method != sip_method_ack) {
		/* Double record-routing (RFC 5658): the entry facing where the
		 * request came from first, the one facing where it goes on top. */
		if (push_rr(fwd, cfg, conn_side(in), t->node, conn_id(in)) < 0 ||
		    push_rr(fwd, cfg, t->side, t->node, conn_id(out)) < 0)
			goto out_destroy;
	}
	our_side(cfg, t->side, &host, &port, &tp);
	if (sipmsg_push_via(fwd, sip, tp == TRANSPORT_TLS ? "TLS" : "TCP", host, port, branch) < 0)
		goto out_destroy;
	return fwd;
out_destroy:
	msg_destroy(fwd);
	return NULL;
}

static void log_decision(const struct conn *c, const sip_t *sip, const char *verdict,
			 const char *detail, const char *why)
{
	log_info("req in  %s call-id=%s from=%s peer=%s/%s -> %s %s (%s)",
		 sip->sip_request->rq_method_name, sipmsg_call_id(sip), sipmsg_from_domain(sip),
		 conn_peer(c), conn_side(c) == SIDE_EXTERNAL ? "external" : "internal", verdict,
		 detail, why);
}

static void answer_locally(struct conn *c, msg_t *msg, sip_t *sip)
{
	static const char *const options_extra[] = { ALLOW_METHODS, "Accept: application/sdp, application/pidf+xml, text/plain", NULL };

	log_decision(c, sip, "answer", "200", "addressed to the proxy");
	reply_stateless(c, msg, 200, "OK", options_extra);
}

/* ACK: absorb the one for our non-2xx, relay a 2xx ACK along the Route. */
static void handle_ack(struct conn *c, msg_t *msg, sip_t *sip, const struct config *cfg,
		       const struct route_info *ri, const struct route_target *t, const char *hash)
{
	struct txn *tx = txn_find_server(sip, "ACK");
	char branch[96];
	const char *why = NULL;
	struct conn *out;
	msg_t *fwd;

	if (tx) {
		txn_ack_received(tx);
		return;
	}
	if (t->verdict != ROUTE_FORWARD || !(out = nexthop_conn(loop, t, current, &why))) {
		log_warn("ACK %s from %s dropped: %s", sipmsg_call_id(sip), conn_peer(c),
			 why ? why : "no route");
		return;
	}
	/* Stateless: the branch is derived so every copy of this ACK gets the
	 * same one. */
	snprintf(branch, sizeof(branch), BRANCH_PREFIX "%08lx.%s",
		 msg_hash_string(sip->sip_via->v_branch), hash);
	fwd = build_forward(msg, cfg, ri, t, c, out, branch);
	if (fwd) {
		sipmsg_send(out, fwd);
		msg_destroy(fwd);
	}
}

static void handle_cancel(struct conn *c, msg_t *msg, sip_t *sip)
{
	struct txn *tx = txn_find_server(sip, "INVITE");

	if (!tx) {
		log_decision(c, sip, "answer", "481", "CANCEL matches no INVITE");
		reply_stateless(c, msg, 481, "Call/Transaction Does Not Exist", NULL);
		return;
	}
	log_decision(c, sip, "answer", "200", "CANCEL of a pending INVITE");
	reply_stateless(c, msg, 200, "OK", NULL);
	txn_cancel(tx);
}

static void forward(struct conn *c, msg_t *msg, sip_t *sip, const struct route_info *ri,
		    const struct route_target *t, const char *hash)
{
	char branch[96], hop[300];
	const char *why = NULL;
	struct txn *tx;
	struct conn *out;
	msg_t *fwd;

	nexthop_describe(t, hop, sizeof(hop));
	log_decision(c, sip, "forward", hop, t->why);
	tx = txn_create(c, msg, current);
	if (!tx) {
		reply_stateless(c, msg, 500, "Out Of Memory", NULL);
		msg_destroy(msg);
		return;
	}
	if (sip->sip_request->rq_method == sip_method_invite)
		txn_reply(tx, 100, "Trying", NULL);
	out = nexthop_conn(loop, t, current, &why);
	if (!out) {
		log_warn("next hop %s for %s unreachable: %s", hop, sipmsg_call_id(sip), why);
		txn_reply(tx, 503, "Next Hop Unreachable", (const char *const[]){ "Retry-After: 30", NULL });
		return;
	}
	make_branch(branch, sizeof(branch), hash);
	fwd = build_forward(msg, current, ri, t, c, out, branch);
	if (!fwd) {
		txn_reply(tx, 500, "Cannot Build Request", NULL);
		return;
	}
	txn_forward(tx, fwd, out, branch, hop);
}

static void on_request(struct conn *c, msg_t *msg, sip_t *sip)
{
	const char *phrase;
	struct route_info ri;
	struct route_request rq;
	struct route_target t;
	char hash[LOOP_HASH_HEX + 1];
	enum conn_side arrived = conn_side(c);

	if (sipmsg_check_request(msg, sip, &phrase) < 0) {
		log_warn("bad request from %s: 400 %s", conn_peer(c), phrase);
		if (!sip->sip_request || sip->sip_request->rq_method != sip_method_ack)
			reply_stateless(c, msg, 400, phrase, NULL);
		goto out_destroy;
	}
	sipmsg_mark_received(msg, sip, conn_peer_ip(c), conn_peer_port(c));
	if (sip->sip_request->rq_method == sip_method_cancel) {
		handle_cancel(c, msg, sip);
		goto out_destroy;
	}
	if (sip->sip_request->rq_method != sip_method_ack && txn_find_server(sip, sip->sip_request->rq_method_name)) {
		log_debug("retransmission of %s from %s absorbed", sipmsg_call_id(sip), conn_peer(c));
		goto out_destroy;
	}
	read_our_routes(current, sip, &ri);
	if (ri.forged) {
		log_decision(c, sip, "reject", "403", "Route token failed its integrity check");
		reply_stateless(c, msg, 403, "Forbidden Route", NULL);
		goto out_destroy;
	}
	const sip_route_t *rest = route_after_ours(sip, ri.ours);

	loop_hash(sip, rest, hash);
	if (is_loop(current, sip, hash)) {
		log_decision(c, sip, "reject", "482", "loop detected");
		reply_stateless(c, msg, 482, "Loop Detected", NULL);
		goto out_destroy;
	}
	enum conn_side toward = arrived == SIDE_EXTERNAL ? SIDE_INTERNAL : SIDE_EXTERNAL;

	rq = (struct route_request){
		.arrived_on = arrived,
		.method = sip->sip_request->rq_method_name,
		.request_uri = sip->sip_request->rq_url,
		.next_route = rest ? rest->r_url : NULL,
		.hint = ri.token_ok[toward] ? &ri.token[toward] : NULL,
		.had_our_route = ri.ours > 0,
	};
	route_decide(current, &rq, &t);
	if (sip->sip_request->rq_method == sip_method_ack) {
		handle_ack(c, msg, sip, current, &ri, &t, hash);
		goto out_destroy;
	}
	if (t.verdict == ROUTE_LOCAL) {
		answer_locally(c, msg, sip);
		goto out_destroy;
	}
	if (t.verdict == ROUTE_REJECT) {
		char code[8];

		snprintf(code, sizeof(code), "%d", t.status);
		log_decision(c, sip, "reject", code, t.why);
		reply_stateless(c, msg, t.status, t.phrase, NULL);
		goto out_destroy;
	}
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		log_decision(c, sip, "reject", "483", "Max-Forwards reached 0");
		reply_stateless(c, msg, 483, "Too Many Hops", NULL);
		goto out_destroy;
	}
	forward(c, msg, sip, &ri, &t, hash); /* msg ownership passes */
	return;
out_destroy:
	msg_destroy(msg);
}

static void on_message(struct conn *c, msg_t *msg)
{
	sip_t *sip = sip_object(msg);

	if (current->trace)
		sipmsg_trace("in from", c, msg);
	if (sip && sip->sip_status)
		txn_on_response(c, msg);
	else if (sip && sip->sip_request)
		on_request(c, msg, sip);
	else {
		log_warn("unparseable message from %s dropped", conn_peer(c));
		msg_destroy(msg);
	}
}
