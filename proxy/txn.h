/* txn: transaction-stateful forwarding (RFC 3261 sections 16 and 17, for
 * reliable transports only, so retransmission timers A, E, G never run).
 *
 * A proxy transaction pairs the server transaction of a received request
 * with the one client transaction it forwards (fedproxy never forks):
 *
 *   TRYING      forwarded, no response yet        Timer B/F running
 *   PROCEEDING  a provisional came back (INVITE)  Timer C running
 *   COMPLETED   final non-2xx sent upstream       INVITE: Timer H, waits ACK
 *   ACCEPTED    INVITE 2xx sent upstream          Timer L, relays 2xx again
 *
 * A non-INVITE transaction ends as soon as its final response is relayed
 * (Timer J and K are zero on reliable transports). Server transactions are
 * found by (top Via branch, sent-by, method), client ones by our branch. */
#ifndef FEDPROXY_TXN_H
#define FEDPROXY_TXN_H

#include <stdbool.h>
#include <ev.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "conn.h"

struct txn;

void txn_init(struct ev_loop *loop);

/* What finds a server transaction: the request's top Via branch and
 * sent-by, and the method it matches. Made once per request, for the
 * lookup and then for the new transaction; the strings are borrowed from
 * the request. */
struct txn_key {
	const char *branch;
	const char *host;
	const char *port;   /* "" when the Via has none */
	const char *method; /* ACK's is INVITE */
	unsigned long hash; /* of the four strings */
};

/* The key of the transaction sip belongs to when it is (or matches) a
 * `method` request: CANCEL passes "INVITE". */
void txn_key_make(struct txn_key *k, const sip_t *sip, const char *method);

/* The server transaction with key k, or NULL. */
struct txn *txn_find_server(const struct txn_key *k);

/* A new transaction for a request received on `in` (msg ownership passes),
 * found by k from now on (its strings are copied), run under the config
 * snapshot cfg (a reference is taken: the transaction finishes with the
 * timeouts it started with, whatever reloads happen). NULL when out of
 * memory. */
struct txn *txn_create(struct conn *in, msg_t *msg, struct config *cfg, const struct txn_key *k);

/* Whoever prepares the forwarding of a transaction (request.c, while it
 * waits for DNS or dials). */
struct txn_owner {
	/* The transaction ended before it was forwarded (a CANCEL, Timer F):
	 * stop preparing, the transaction is gone. */
	void (*abandon)(void *arg);
	/* The connection it went out on failed before it ever opened: true when
	 * the owner forwarded it again (txn_forward) to another target, false
	 * when none is left (the transaction then answers 503). */
	bool (*retry)(void *arg);
	/* The open connection it went out on closed before any response (a
	 * peer that dropped an idle pooled connection as we used it): true
	 * when the owner sent it again on a fresh connection. Asked once. */
	bool (*reconnect)(void *arg);
};

/* Register the owner; NULL ops when it is done with the transaction. */
void txn_set_owner(struct txn *t, const struct txn_owner *ops, void *arg);

/* Answer upstream ourselves, with optional extra header lines (NULL-ended).
 * A final answer ends the forwarding side (a CANCEL goes downstream when an
 * INVITE branch is pending) and may free t: do not use t afterwards. */
void txn_reply(struct txn *t, int status, const char *phrase, const char *const *extra);

/* Send the forwarded request fwd (ownership passes) on out, where branch is
 * the one in the Via we pushed and next_hop names out for the log (NULL
 * when the outcome line will not be written). Timer B/F runs from the
 * transaction's creation. Calling it again before any response replaces
 * the branch (SRV failover). */
void txn_forward(struct txn *t, msg_t *fwd, struct conn *out, const char *branch,
		 const char *next_hop);

/* The upstream CANCEL matched this INVITE transaction. */
void txn_cancel(struct txn *t);
/* The upstream ACK for our non-2xx final arrived. */
void txn_ack_received(struct txn *t);

/* A response from downstream (msg ownership passes). */
void txn_on_response(struct conn *c, msg_t *msg);

/* Transactions alive, and those of them still waiting for a final answer
 * (what draining on shutdown waits for). */
unsigned txn_count(void);
unsigned txn_open_count(void);

#endif
