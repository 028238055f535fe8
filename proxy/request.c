/* request: receive and check requests, answer what is ours to answer, and
 * hand the rest to forward.c (see request.h).
 *
 * The checks for one request (RFC 3261 section 16.3):
 *   well-formed (400) -> note received/rport -> CANCEL (200 + cancel the
 *   branch, or 481) -> ACK of our non-2xx (absorbed) -> retransmission
 *   (absorbed) -> NEGOTIATE (answered) -> Proxy-Require (420) ->
 *   Max-Forwards (483) -> our own Route entries and their tokens (403 when
 *   forged) -> loop (482) -> forward. */
#include "request.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>

#include "conn.h"
#include "digits.h"
#include "log.h"
#include "forward.h"
#include "health.h"
#include "stats.h"
#include "sipmsg.h"
#include "txn.h"
#include "routing/route.h"

/* Our branches begin with this (forward.c makes them). */
#define BRANCH_PREFIX "z9hG4bK-fp"

static struct config *current; /* refcounted */

static void on_message(struct conn *c, msg_t *msg);
static void on_stream_error(struct conn *c, msg_t *msg, int status, const char *phrase);

static const struct conn_handler handler = {
	.message = on_message,
	.stream_error = on_stream_error,
};

void request_init(struct ev_loop *l)
{
	forward_init(l);
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

	stats_response(status);
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
	/* Answerable only when the headers a response needs were parsed. */
	bool answerable = sip && sip->sip_request && sip->sip_via && sip->sip_cseq &&
			  sip->sip_call_id && sip->sip_request->rq_method != sip_method_ack;

	log_limited("framing", "framing error from %s: %d %s%s", conn_peer(c), status, phrase,
		    answerable ? "" : " (unanswerable: dropped)");
	if (answerable)
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
		if (rr_token_decode(cfg->route_key, value, &tok) < 0) {
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
 * spirals but repeats when it loops, to compare with the one in our own
 * earlier Via. The fields are gathered, with separators that keep "ab|c"
 * apart from "a|bc", into the text fedproxy has always hashed (when it
 * fits in 2 KB), so older versions and every instance that sees the
 * request again agree on the value (hence unkeyed). One SHA-1 over a stack
 * buffer is cheaper than feeding GnuTLS field by field. 0, or -EIO when
 * GnuTLS cannot hash. */
static int loop_hash(const sip_t *sip, const sip_route_t *rest, char out[LOOP_HASH_HEX + 1])
{
	const url_t *ruri = sip->sip_request->rq_url;
	char cseq[DECIMAL_TEXT_MAX], text[2048];
	const char *const fields[] = {
		sip->sip_request->rq_method_name, " ", ruri->url_user, "@", ruri->url_host, ":",
		ruri->url_port, "|", sip->sip_from->a_tag, "|", sip->sip_to->a_tag, "|",
		sip->sip_call_id->i_id, "|", decimal_text(sip->sip_cseq->cs_seq, cseq), "|",
		rest ? rest->r_url->url_host : NULL,
	};
	unsigned char digest[20];
	size_t len = 0, n;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!fields[i])
			continue; /* absent: empty */
		n = strnlen(fields[i], sizeof(text) - len); /* cut at 2 KB */
		memcpy(text + len, fields[i], n);
		len += n;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, text, len, digest) < 0)
		return -EIO;
	hex_encode(digest, LOOP_HASH_HEX / 2, out);
	out[LOOP_HASH_HEX] = '\0';
	return 0;
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

static void log_answer(const struct conn *c, const sip_t *sip, int status, const char *why)
{
	stats_request(sip->sip_request->rq_method_name, status < 300 ? STATS_ANSWER : STATS_REJECT);
	log_info("req in  %s call-id=%s from=%s peer=%s/%s -> answer %d (%s)",
		 sip->sip_request->rq_method_name, sipmsg_call_id(sip), sipmsg_from_domain(sip),
		 conn_peer(c), conn_side(c) == SIDE_EXTERNAL ? "external" : "internal", status, why);
}

static void handle_cancel(struct conn *c, msg_t *msg, sip_t *sip)
{
	struct txn_key invite;
	struct txn *tx;

	txn_key_make(&invite, sip, "INVITE");
	tx = txn_find_server(&invite);

	if (!tx) {
		log_answer(c, sip, 481, "CANCEL matches no INVITE");
		reply_stateless(c, msg, 481, "Call/Transaction Does Not Exist", NULL);
		return;
	}
	log_answer(c, sip, 200, "CANCEL of a pending INVITE");
	reply_stateless(c, msg, 200, "OK", NULL);
	txn_cancel(tx);
}

/* MS-SIPCOMP: a Microsoft peer may ask to compress the connection. We
 * answer it here, hop by hop, and decline by leaving Compression out. */
static void handle_negotiate(struct conn *c, msg_t *msg, sip_t *sip)
{
	log_answer(c, sip, 200, "NEGOTIATE answered locally, compression declined");
	reply_stateless(c, msg, 200, "OK", NULL);
}

/* RFC 3261 16.3 step 6: option tags the proxy must understand. Returns the
 * first one we do not tolerate, or NULL. */
static const char *unsupported_proxy_require(const struct config *cfg, const sip_t *sip)
{
	const sip_proxy_require_t *pr = sip->sip_proxy_require;

	for (size_t i = 0; pr && pr->k_items && pr->k_items[i]; i++) {
		const char **ok = cfg->tolerated_proxy_require;

		while (ok && *ok && strcasecmp(*ok, pr->k_items[i]) != 0)
			ok++;
		if (!ok || !*ok)
			return pr->k_items[i];
	}
	return NULL;
}

/* Checks that need no routing; false when the request was answered. */
static bool admit(struct conn *c, msg_t *msg, sip_t *sip, struct route_info *ri, char *hash)
{
	const char *tag;

	if (sip->sip_content_length->l_length > current->max_body_size) {
		log_answer(c, sip, 413, "body over max_body_size");
		reply_stateless(c, msg, 413, "Body Too Large", NULL);
		return false;
	}
	if (txn_count() >= current->max_transactions) {
		log_limited("transactions", "request from %s refused: %u transactions open "
			    "(max_transactions)", conn_peer(c), txn_count());
		log_answer(c, sip, 503, "max_transactions reached");
		reply_stateless(c, msg, 503, "Overloaded", (const char *const[]){ "Retry-After: 5", NULL });
		return false;
	}
	if ((tag = unsupported_proxy_require(current, sip))) {
		char unsupported[160];

		snprintf(unsupported, sizeof(unsupported), "Unsupported: %s", tag);
		log_answer(c, sip, 420, "Proxy-Require option not supported");
		reply_stateless(c, msg, 420, "Bad Extension", (const char *const[]){ unsupported, NULL });
		return false;
	}
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		if (sip->sip_request->rq_method == sip_method_options) {
			/* RFC 3261 16.3 step 3: the proxy may answer it itself. */
			log_answer(c, sip, 200, "OPTIONS with Max-Forwards 0");
			reply_stateless(c, msg, 200, "OK", NULL);
		} else {
			log_answer(c, sip, 483, "Max-Forwards reached 0");
			reply_stateless(c, msg, 483, "Too Many Hops", NULL);
		}
		return false;
	}
	read_our_routes(current, sip, ri);
	if (ri->forged) {
		log_answer(c, sip, 403, "Route token failed its integrity check");
		reply_stateless(c, msg, 403, "Forbidden Route", NULL);
		return false;
	}
	if (loop_hash(sip, route_after_ours(sip, ri->ours), hash) < 0) {
		log_answer(c, sip, 500, "loop hash failed");
		reply_stateless(c, msg, 500, "Server Internal Error", NULL);
		return false;
	}
	if (is_loop(current, sip, hash)) {
		log_answer(c, sip, 482, "loop detected");
		reply_stateless(c, msg, 482, "Loop Detected", NULL);
		return false;
	}
	return true;
}

static void on_request(struct conn *c, msg_t *msg, sip_t *sip)
{
	const char *phrase;
	struct route_info ri;
	char hash[LOOP_HASH_HEX + 1];
	struct txn_key key;
	struct txn *tx;

	if (sipmsg_check_request(msg, sip, &phrase) < 0) {
		log_warn("bad request from %s: 400 %s", conn_peer(c), phrase);
		if (sip->sip_request->rq_method != sip_method_ack)
			reply_stateless(c, msg, 400, phrase, NULL);
		goto out_destroy;
	}
	sipmsg_mark_received(msg, sip, conn_peer_ip(c), conn_peer_port(c));
	if (sip->sip_request->rq_method == sip_method_cancel) {
		handle_cancel(c, msg, sip);
		goto out_destroy;
	}
	/* Made once: for the lookups here, then for the new transaction. */
	txn_key_make(&key, sip, sip->sip_request->rq_method_name);
	switch (sip->sip_request->rq_method) {
	case sip_method_ack:
		/* The ACK for a non-2xx final of ours ends that transaction. */
		if ((tx = txn_find_server(&key))) {
			txn_ack_received(tx);
			goto out_destroy;
		}
		break;
	default:
		if (txn_find_server(&key)) {
			log_debug("retransmission of %s from %s absorbed", sipmsg_call_id(sip),
				  conn_peer(c));
			goto out_destroy;
		}
		if (strcasecmp(sip->sip_request->rq_method_name, "NEGOTIATE") == 0) {
			handle_negotiate(c, msg, sip);
			goto out_destroy;
		}
		break;
	}
	if (!admit(c, msg, sip, &ri, hash))
		goto out_destroy;
	forward_request(c, msg, current, &ri, hash, &key); /* msg ownership passes */
	return;
out_destroy:
	msg_destroy(msg);
}

static void on_message(struct conn *c, msg_t *msg)
{
	sip_t *sip = sip_object(msg);

	if (current->trace)
		sipmsg_trace("in from", c, msg);
	if (sip && sip->sip_status) {
		if (!health_take_response(c, msg))
			txn_on_response(c, msg);
	}
	else if (sip && sip->sip_request)
		on_request(c, msg, sip);
	else {
		log_warn("unparseable message from %s dropped", conn_peer(c));
		msg_destroy(msg);
	}
}
