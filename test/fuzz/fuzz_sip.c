/* fuzz_sip: hostile bytes on a connection, through everything a request
 * meets before any I/O: the framer (cut into reads as the first byte says),
 * Sofia's parser, our well-formedness checks, the Route token check, the
 * routing decision and the federation policy. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "fuzz_config.h"
#include "proxy/frame.h"
#include "proxy/sipmsg.h"
#include "routing/policy.h"
#include "routing/route.h"
#include "routing/rr.h"

static struct config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	sip_update_default_mclass(sip_extend_mclass(NULL));
	cfg = fuzz_config();
	return 0;
}

/* Every Route entry's token, as request.c reads them. */
static void check_tokens(const sip_t *sip)
{
	for (const sip_route_t *r = sip->sip_route; r; r = r->r_next) {
		char value[160];
		struct rr_token tok;

		if (url_param(r->r_url->url_params, RR_PARAM, value, sizeof(value)) > 0)
			rr_token_decode(cfg->route_key, value, &tok);
	}
}

static void decide(sip_t *sip, enum conn_side side)
{
	static const char *const names[] = { "edge.partner.example.test", NULL };
	struct route_target t;
	struct route_request rq = {
		.arrived_on = side,
		.method = sip->sip_request->rq_method_name,
		.request_uri = sip->sip_request->rq_url,
		.next_route = sip->sip_route ? sip->sip_route->r_url : NULL,
		.had_our_route = sip->sip_route != NULL,
	};
	struct policy_request pr = {
		.inbound = side == SIDE_EXTERNAL,
		.in_dialog = sip->sip_to->a_tag != NULL,
		.from_domain = sip->sip_from->a_url->url_host,
		.to_domain = sip->sip_to->a_url->url_host,
		.request_uri_host = sip->sip_request->rq_url->url_host,
		.peer_names = names,
		.expected = names,
	};
	struct policy_result res;

	route_decide(cfg, &rq, &t);
	policy_check(cfg, &pr, &res);
}

static void handle(msg_t *msg)
{
	sip_t *sip = sip_object(msg);
	const char *phrase;

	if (sip && sip->sip_request && sipmsg_check_request(msg, sip, &phrase) == 0) {
		sipmsg_mark_received(msg, sip, "192.0.2.7", 5061);
		check_tokens(sip);
		decide(sip, SIDE_EXTERNAL);
		decide(sip, SIDE_INTERNAL);
		msg_destroy(sipmsg_response(msg, 400, "Fuzz"));
	} else if (sip && sip->sip_status) {
		sipmsg_check_response(msg, sip);
	}
	msg_destroy(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame *f = frame_new(65536, 256);
	/* The first byte picks the read size, so one input is also tried cut
	 * into pieces. */
	size_t chunk = size ? (size_t)data[0] % 64 + 1 : 1, at = 1;
	enum frame_event ev;
	msg_t *msg;

	while (at < size) {
		size_t n = size - at < chunk ? size - at : chunk;

		frame_feed(f, (const char *)data + at, n);
		at += n;
		while ((ev = frame_next(f, &msg)) != FRAME_NEED_MORE) {
			if (ev == FRAME_MESSAGE)
				handle(msg);
			else if (msg)
				msg_destroy(msg);
			if (ev != FRAME_MESSAGE && ev != FRAME_PING)
				goto out_free;
		}
	}
out_free:
	frame_free(f);
	return 0;
}
