/* forward: route, police, resolve and send a request that request.c has
 * checked. It may wait for DNS (the From domain's edges, to check the peer's
 * certificate; the target domain's SRV record and addresses), so every step
 * after the first can run later from the loop.
 *
 *   route_decide -> LOCAL / REJECT answered here
 *                -> policy_check (may look up the From domain's edges)
 *                -> find the next hop: flow hint, a connection to that
 *                   edge, a static address, or SRV -> A/AAAA, trying each
 *                   target in turn when a connection fails before opening
 *                -> copy, rewrite (our Routes out, Record-Route, Via) and
 *                   send, through the transaction (ACK and BENOTIFY go
 *                   statelessly: nobody answers them). */
#ifndef FEDPROXY_FORWARD_H
#define FEDPROXY_FORWARD_H

#include <stdbool.h>
#include <ev.h>
#include <sofia-sip/msg.h>

#include "config.h"
#include "conn.h"
#include "txn.h"
#include "routing/rr.h"

/* What a request's Route header says about us. */
struct route_info {
	unsigned ours;           /* leading Route entries that name this proxy */
	bool token_ok[2];        /* a verified token, per enum conn_side */
	struct rr_token token[2];
	bool forged;             /* one of ours carried a token that fails */
};

void forward_init(struct ev_loop *loop);

/* Hex digits of the loop hash (RFC 3261 16.6 step 8) in our branches. */
#define LOOP_HASH_HEX 16

/* Take over a checked request (msg ownership passes); loop_hash is its
 * LOOP_HASH_HEX digits, key finds its server transaction (unused when it
 * goes statelessly). */
void forward_request(struct conn *in, msg_t *msg, struct config *cfg,
		     const struct route_info *ri, const char loop_hash[LOOP_HASH_HEX + 1],
		     const struct txn_key *key);

#endif
