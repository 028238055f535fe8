/* txn: proxy transactions (see txn.h for the state machine). */
#include "txn.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <assert.h>
#include <sofia-sip/htable.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>

#include "log.h"
#include "sipmsg.h"
#include "stats.h"

/* A 503 for a next hop that failed tells the sender when to try again. */
static const char *const retry_after[] = { "Retry-After: 30", NULL };

/* Hop-by-hop requests we build (CANCEL, ACK) start afresh. */
#define MAX_FORWARDS_FRESH "70"

enum txn_state {
	TXN_TRYING = 0, /* forwarded (or about to be), no response yet */
	TXN_PROCEEDING, /* a provisional response came back */
	TXN_COMPLETED,  /* final non-2xx sent upstream (INVITE: awaiting ACK) */
	TXN_ACCEPTED,   /* INVITE 2xx sent upstream: relay retransmitted 2xx */
	TXN_TERMINATED, /* done, being freed */
};

struct txn {
	enum txn_state state;
	bool invite;
	bool cancel_pending;         /* CANCEL asked before any provisional */
	bool cancel_sent;
	bool responded;              /* any response came from downstream */
	bool reconnected;            /* sent again after its connection dropped */
	const struct txn_owner *owner; /* borrowed, with owner_arg */
	void *owner_arg;
	int final_status;            /* sent upstream, 0 before */
	ev_timer timer;              /* B/F, C, H or L by state */
	msg_t *request;              /* owned: the request as received */
	struct conn *in;             /* refcounted: where responses go */
	struct config *cfg;          /* refcounted: snapshot it started with */
	struct txn_key server_key;   /* its strings in key_text */
	msg_t *forwarded;            /* owned: the request as we sent it */
	struct conn_watch out;       /* the connection it went out on */
	char *branch;                /* owned: our Via branch */
	unsigned long client_hash;
	char *next_hop;              /* owned, for the log */
	ev_tstamp started;
	char key_text[];             /* server_key's strings, each NUL-ended */
};

HTABLE_DECLARE_WITH(txn_table, tt, struct txn, size_t, unsigned long);
#define SERVER_HASH(t) ((t)->server_key.hash)
#define CLIENT_HASH(t) ((t)->client_hash)
HTABLE_PROTOS_WITH(txn_table, tt, struct txn, size_t, unsigned long);
HTABLE_BODIES_WITH(txn_table, tt, struct txn, SERVER_HASH, size_t, unsigned long);
/* A second table type over the same entries, hashed by our branch. */
HTABLE_DECLARE_WITH(txn_ctable, ct, struct txn, size_t, unsigned long);
HTABLE_PROTOS_WITH(txn_ctable, ct, struct txn, size_t, unsigned long);
HTABLE_BODIES_WITH(txn_ctable, ct, struct txn, CLIENT_HASH, size_t, unsigned long);

static struct ev_loop *loop;
static txn_table_t servers[1];
static txn_ctable_t clients[1];
static su_home_t home[1] = { SU_HOME_INIT(home) };
static unsigned n_txns;
static unsigned n_open; /* transactions still waiting for a final answer */

static void timer_cb(struct ev_loop *l, ev_timer *w, int revents);
static void out_notify(struct conn_watch *w, struct conn *c, enum conn_event ev);

void txn_init(struct ev_loop *l)
{
	loop = l;
}

unsigned txn_count(void)
{
	return n_txns;
}

unsigned txn_open_count(void)
{
	return n_open;
}

static const char *canonical_method(const char *method)
{
	return strcmp(method, "ACK") == 0 ? "INVITE" : method;
}

/* 64-bit FNV-1a: cheap, and spreads short keys over the table well. */
#define FNV_OFFSET 14695981039346656037UL
#define FNV_PRIME 1099511628211UL

/* FNV-1a over s and its NUL, from h: the NUL keeps ("ab", "c") apart from
 * ("a", "bc"). */
static unsigned long hash_field(unsigned long h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	} while (*s++);
	return h;
}

void txn_key_make(struct txn_key *k, const sip_t *sip, const char *method)
{
	const sip_via_t *v = sip->sip_via;

	k->branch = v->v_branch;
	k->host = v->v_host;
	k->port = v->v_port ? v->v_port : "";
	k->method = canonical_method(method);
	k->hash = hash_field(FNV_OFFSET, k->branch);
	k->hash = hash_field(k->hash, k->host);
	k->hash = hash_field(k->hash, k->port);
	k->hash = hash_field(k->hash, k->method);
}

static bool same_key(const struct txn_key *a, const struct txn_key *b)
{
	return a->hash == b->hash && strcmp(a->branch, b->branch) == 0 &&
	       strcmp(a->host, b->host) == 0 && strcmp(a->port, b->port) == 0 &&
	       strcmp(a->method, b->method) == 0;
}

struct txn *txn_find_server(const struct txn_key *k)
{
	if (!servers->tt_table)
		return NULL;
	for (struct txn **p = txn_table_hash(servers, k->hash); *p; p = txn_table_next(servers, p))
		if (same_key(&(*p)->server_key, k))
			return *p;
	return NULL;
}

static struct txn *find_client(const char *branch)
{
	unsigned long h;

	if (!branch || !clients->ct_table)
		return NULL;
	h = msg_hash_string(branch);
	for (struct txn **p = txn_ctable_hash(clients, h); *p; p = txn_ctable_next(clients, p))
		if ((*p)->client_hash == h && strcmp((*p)->branch, branch) == 0)
			return *p;
	return NULL;
}

/* Copy s to *at and move *at past the copy and its NUL; returns the copy. */
static const char *copy_field(char **at, const char *s)
{
	const char *copy = *at;

	*at = stpcpy(*at, s) + 1;
	return copy;
}

/* t's own copy of k, its strings in t->key_text. */
static void keep_key(struct txn *t, const struct txn_key *k)
{
	char *at = t->key_text;

	t->server_key.branch = copy_field(&at, k->branch);
	t->server_key.host = copy_field(&at, k->host);
	t->server_key.port = copy_field(&at, k->port);
	t->server_key.method = copy_field(&at, k->method);
	t->server_key.hash = k->hash;
}

struct txn *txn_create(struct conn *in, msg_t *msg, struct config *cfg, const struct txn_key *k)
{
	sip_t *sip = sip_object(msg);
	size_t key_len = strlen(k->branch) + strlen(k->host) + strlen(k->port) +
			 strlen(k->method) + 4; /* and their NULs */
	/* The key's strings ride in the transaction's own allocation. */
	struct txn *t = calloc(1, sizeof(*t) + key_len);

	if (!t)
		return NULL;
	if (txn_table_is_full(servers) && txn_table_resize(home, servers, 0) < 0) {
		free(t);
		return NULL;
	}
	keep_key(t, k);
	t->request = msg;
	t->in = conn_ref(in);
	conn_pin(in); /* it owes a final answer there */
	t->cfg = config_ref(cfg);
	t->invite = sip->sip_request->rq_method == sip_method_invite;
	t->out.notify = out_notify;
	t->started = ev_now(loop);
	ev_timer_init(&t->timer, timer_cb, 0., 0.);
	/* Timer B (INVITE) or Timer F (others), 64*T1, from now: it also
	 * bounds the time spent finding the next hop. */
	ev_timer_set(&t->timer, cfg->transaction_timeout, 0.);
	ev_timer_start(loop, &t->timer);
	txn_table_append(servers, t);
	n_txns++;
	n_open++;
	return t;
}

void txn_set_owner(struct txn *t, const struct txn_owner *ops, void *arg)
{
	t->owner = ops;
	t->owner_arg = arg;
}

/* The owner hears once that it is no longer needed. */
static void release_owner(struct txn *t)
{
	const struct txn_owner *owner = t->owner;

	t->owner = NULL;
	if (owner)
		owner->abandon(t->owner_arg);
}

static void destroy(struct txn *t)
{
	release_owner(t);
	ev_timer_stop(loop, &t->timer);
	txn_table_remove(servers, t);
	if (t->branch)
		txn_ctable_remove(clients, t);
	conn_unwatch(&t->out);
	if (!t->final_status)
		conn_unpin(t->in);
	conn_unref(t->in);
	config_unref(t->cfg);
	msg_destroy(t->request);
	if (t->forwarded)
		msg_destroy(t->forwarded);
	free(t->branch);
	free(t->next_hop);
	if (!t->final_status)
		n_open--;
	free(t);
	n_txns--;
}

static void arm(struct txn *t, double seconds)
{
	ev_timer_stop(loop, &t->timer);
	ev_timer_set(&t->timer, seconds, 0.);
	ev_timer_start(loop, &t->timer);
}

static void log_outcome(const struct txn *t, int status)
{
	sip_t *sip = sip_object(t->request);

	log_info("req out %s call-id=%s from=%s peer=%s next-hop=%s status=%d time=%.3fs",
		 sip->sip_request->rq_method_name, sipmsg_call_id(sip), sipmsg_from_domain(sip),
		 conn_peer(t->in), t->next_hop ? t->next_hop : "-", status,
		 ev_now(loop) - t->started);
}

/* Send a response upstream on the connection the request came in on. */
static void send_upstream(struct txn *t, msg_t *resp)
{
	if (conn_state(t->in) == CONN_CLOSED) {
		log_warn("response for %s dropped: upstream connection %s is closed",
			 sipmsg_call_id(sip_object(t->request)), conn_peer(t->in));
		return;
	}
	if (t->cfg->trace)
		sipmsg_trace("out to", t->in, resp);
	stats_response(sip_object(resp)->sip_status->st_status);
	sipmsg_send(t->in, resp);
}

/* After the final response went upstream: linger or end. */
static void finish(struct txn *t, int status)
{
	t->final_status = status;
	n_open--;
	conn_unpin(t->in);
	release_owner(t);
	log_outcome(t, status);
	if (!t->invite) {
		t->state = TXN_TERMINATED;
		destroy(t);
		return;
	}
	/* Timer H (await ACK for a non-2xx) or Timer L (relay 2xx again). */
	t->state = status >= 300 ? TXN_COMPLETED : TXN_ACCEPTED;
	arm(t, t->cfg->transaction_timeout);
}

/* A hop-by-hop request (CANCEL or ACK) for our forwarded INVITE. */
static msg_t *build_hop_request(struct txn *t, sip_method_t method, const char *name,
				const sip_to_t *to)
{
	sip_t *fs = sip_object(t->forwarded);
	msg_t *m = msg_create(sip_default_mclass(), 0);
	sip_t *s = sip_object(m);
	su_home_t *h = msg_home(m);

	if (!m)
		return NULL;
	if (msg_header_insert(m, (msg_pub_t *)s,
			      (msg_header_t *)sip_request_create(h, method, name,
								 (url_string_t *)fs->sip_request->rq_url,
								 NULL)) < 0 ||
	    msg_header_insert(m, (msg_pub_t *)s, msg_header_dup_one(h, (msg_header_t *)fs->sip_via)) < 0 ||
	    (fs->sip_route && sip_add_dup(m, s, (sip_header_t *)fs->sip_route) < 0) ||
	    sip_add_dup(m, s, (sip_header_t *)fs->sip_from) < 0 ||
	    sip_add_dup(m, s, (sip_header_t *)to) < 0 ||
	    sip_add_dup(m, s, (sip_header_t *)fs->sip_call_id) < 0 ||
	    msg_header_insert(m, (msg_pub_t *)s,
			      (msg_header_t *)sip_cseq_create(h, fs->sip_cseq->cs_seq, method, name)) < 0 ||
	    sipmsg_add_header(m, "Max-Forwards: " MAX_FORWARDS_FRESH) < 0 ||
	    sip_complete_message(m) < 0) {
		msg_destroy(m);
		return NULL;
	}
	return m;
}

static void send_downstream_hop(struct txn *t, sip_method_t method, const char *name,
				const sip_to_t *to)
{
	msg_t *m;

	if (!t->out.conn)
		return; /* the branch's connection is gone: nothing to tell */
	m = build_hop_request(t, method, name, to);
	if (!m)
		return;
	sipmsg_send(t->out.conn, m);
	msg_destroy(m);
}

static void send_cancel(struct txn *t)
{
	if (t->cancel_sent || !t->forwarded)
		return;
	t->cancel_sent = true;
	send_downstream_hop(t, sip_method_cancel, "CANCEL", sip_object(t->forwarded)->sip_to);
}

void txn_reply(struct txn *t, int status, const char *phrase, const char *const *extra)
{
	msg_t *resp;

	if (t->final_status)
		return; /* a final answer already went upstream */
	resp = sipmsg_response(t->request, status, phrase);
	for (; resp && extra && *extra; extra++)
		sipmsg_add_header(resp, *extra);
	if (resp) {
		send_upstream(t, resp);
		msg_destroy(resp);
	}
	if (status < 200)
		return;
	if (t->invite && t->state == TXN_PROCEEDING)
		send_cancel(t);
	finish(t, status);
}

void txn_forward(struct txn *t, msg_t *fwd, struct conn *out, const char *branch,
		 const char *next_hop)
{
	if (txn_ctable_is_full(clients) && txn_ctable_resize(home, clients, 0) < 0) {
		msg_destroy(fwd);
		txn_reply(t, 500, "Out Of Memory", NULL);
		return;
	}
	if (t->forwarded) {
		/* Failover: the earlier branch never reached anyone. */
		txn_ctable_remove(clients, t);
		conn_unwatch(&t->out);
		msg_destroy(t->forwarded);
		free(t->branch);
		free(t->next_hop);
	}
	t->forwarded = fwd;
	t->branch = strdup(branch);
	t->client_hash = msg_hash_string(branch);
	t->next_hop = next_hop ? strdup(next_hop) : NULL;
	txn_ctable_append(clients, t);
	conn_watch(out, &t->out);
	if (t->cfg->trace)
		sipmsg_trace("out to", out, fwd);
	if (sipmsg_send(out, fwd) < 0)
		txn_reply(t, 503, "Next Hop Unreachable", retry_after);
}

void txn_cancel(struct txn *t)
{
	if (t->final_status)
		return;
	if (!t->forwarded)
		txn_reply(t, 487, "Request Terminated", NULL); /* nothing went out yet */
	else if (t->state == TXN_PROCEEDING)
		send_cancel(t);
	else
		t->cancel_pending = true; /* RFC 3261 9.1: wait for a provisional */
}

void txn_ack_received(struct txn *t)
{
	if (t->state == TXN_COMPLETED) {
		t->state = TXN_TERMINATED;
		destroy(t);
	}
}

static void out_notify(struct conn_watch *w, struct conn *c, enum conn_event ev)
{
	struct txn *t = (struct txn *)((char *)w - offsetof(struct txn, out));

	if (ev != CONN_EV_CLOSED || t->final_status)
		return;
	if (!conn_was_open(c) && !t->responded && t->owner && t->owner->retry(t->owner_arg))
		return;
	/* lync-interop C1: a pooled connection the peer closed must not fail
	 * the request; one more try on a new connection. */
	if (conn_was_open(c) && !t->responded && !t->reconnected && t->owner) {
		t->reconnected = true;
		if (t->owner->reconnect(t->owner_arg))
			return;
	}
	/* RFC 3261 8.1.3.1: a transport failure counts as a 503. */
	txn_reply(t, 503, "Next Hop Unreachable", retry_after);
}

static void timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct txn *t = (struct txn *)((char *)w - offsetof(struct txn, timer));

	switch (t->state) {
	case TXN_TRYING:
		/* Timer B / F: nothing came back. */
		txn_reply(t, 408, "Request Timeout", NULL);
		break;
	case TXN_PROCEEDING:
		/* Timer C: the INVITE rang too long; cancel the branch. */
		send_cancel(t);
		txn_reply(t, 408, "Request Timeout", NULL);
		break;
	default:
		/* Timer H / L: stop waiting for the ACK or for 2xx copies. */
		t->state = TXN_TERMINATED;
		destroy(t);
		break;
	}
}

/* Relay a downstream response upstream: pop our Via first. */
static void relay(struct txn *t, msg_t *msg)
{
	sip_t *sip = sip_object(msg);

	sip_via_remove(msg, sip);
	send_upstream(t, msg);
}

static void on_provisional(struct txn *t, msg_t *msg, int status)
{
	if (t->state == TXN_TRYING && t->invite) {
		t->state = TXN_PROCEEDING;
		/* Timer C replaces Timer B once the INVITE is ringing. */
		arm(t, t->cfg->invite_timeout);
		if (t->cancel_pending)
			send_cancel(t);
	} else if (t->invite && t->state == TXN_PROCEEDING) {
		arm(t, t->cfg->invite_timeout); /* Timer C restarts per 1xx */
	}
	if (status > 100 && !t->final_status)
		relay(t, msg); /* 100 Trying is hop-by-hop */
}

static void on_final(struct txn *t, msg_t *msg, int status)
{
	sip_t *sip = sip_object(msg);

	if (t->invite && status >= 300)
		/* RFC 3261 17.1.1.3: the client transaction ACKs a non-2xx. */
		send_downstream_hop(t, sip_method_ack, "ACK", sip->sip_to);
	if (t->final_status) {
		/* Late: only INVITE 2xx copies are relayed (RFC 6026). */
		if (t->state == TXN_ACCEPTED && status < 300)
			relay(t, msg);
		return;
	}
	relay(t, msg);
	finish(t, status);
}

void txn_on_response(struct conn *c, msg_t *msg)
{
	sip_t *sip = sip_object(msg);
	struct txn *t;
	const char *diag;
	int status;

	if (sipmsg_check_response(msg, sip) < 0) {
		log_warn("malformed response from %s dropped", conn_peer(c));
		goto out_destroy;
	}
	t = find_client(sip->sip_via->v_branch);
	status = sip->sip_status->st_status;
	if (!t) {
		log_debug("response %d from %s matches no transaction: dropped", status, conn_peer(c));
		goto out_destroy;
	}
	if (sip->sip_cseq->cs_method == sip_method_cancel)
		goto out_destroy; /* the answer to our own CANCEL: hop-by-hop */
	t->responded = true;
	/* A Microsoft peer explains its refusals here (lync-interop D4). */
	if ((diag = sipmsg_extension_value(sip, "ms-diagnostics")))
		log_info("ms-diagnostics on %d for %s from %s: %s", status, sipmsg_call_id(sip),
			 conn_peer(c), diag);
	if (status < 200)
		on_provisional(t, msg, status);
	else
		on_final(t, msg, status);
out_destroy:
	msg_destroy(msg);
}
