/* health: node probes (see health.h). */
#include "health.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "log.h"

#define PROBE_BRANCH "z9hG4bK-fphc"

struct probe {
	char *name;                /* owned: the node's name */
	struct hostport addr;      /* host and uri_host owned by this probe */
	enum transport transport;
	bool down;
	unsigned failures;         /* unanswered probes in a row */
	bool outstanding;          /* a probe is out and unanswered */
	char branch[64];
	ev_timer period;           /* next probe */
	ev_timer deadline;         /* answer due */
	struct conn_watch watch;   /* the connection the probe went on */
	struct probe *next;
};

static struct ev_loop *loop;
static struct probe *probes;   /* owned list */
static struct config *cfg;     /* refcounted: the snapshot probed */
static uint64_t counter;

static void period_cb(struct ev_loop *l, ev_timer *w, int revents);
static void deadline_cb(struct ev_loop *l, ev_timer *w, int revents);
static void watch_cb(struct conn_watch *w, struct conn *c, enum conn_event ev);

void health_init(struct ev_loop *l)
{
	loop = l;
}

static struct probe *find_in(struct probe *list, const char *name)
{
	for (struct probe *p = list; p; p = p->next)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

bool health_node_down(const struct config_node *n)
{
	struct probe *p = find_in(probes, n->name);

	return p && p->down;
}

static void mark(struct probe *p, bool ok)
{
	p->outstanding = false;
	ev_timer_stop(loop, &p->deadline);
	conn_unwatch(&p->watch);
	if (ok) {
		p->failures = 0;
		if (p->down)
			log_warn("node %s (%s:%u) is up again", p->name, p->addr.uri_host, p->addr.port);
		p->down = false;
		return;
	}
	if (++p->failures >= cfg->health_failures && !p->down) {
		p->down = true;
		log_warn("node %s (%s:%u) is down: %u probes unanswered", p->name, p->addr.uri_host,
			 p->addr.port, p->failures);
	}
}

static void send_probe(struct probe *p)
{
	struct conn *c = conn_find_outbound(SIDE_INTERNAL, p->transport, p->addr.host, p->addr.port,
					    NULL);
	const char *tp = p->transport == TRANSPORT_TLS ? "TLS" : "TCP";
	char text[1024];
	int n;

	if (!c)
		c = conn_connect(loop, p->addr.host, p->addr.port, NULL, SIDE_INTERNAL, p->transport,
				 cfg);
	if (!c) {
		mark(p, false);
		return;
	}
	snprintf(p->branch, sizeof(p->branch), PROBE_BRANCH "%016" PRIx64, ++counter);
	n = snprintf(text, sizeof(text),
		     "OPTIONS sip:%s:%u;transport=%s SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s:%u;branch=%s\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:fedproxy@%s>;tag=%s\r\n"
		     "To: <sip:%s:%u>\r\n"
		     "Call-ID: %s@%s\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "Content-Length: 0\r\n\r\n",
		     p->addr.uri_host, p->addr.port, p->transport == TRANSPORT_TLS ? "tls" : "tcp", tp,
		     cfg->internal_advertise.uri_host, cfg->internal_advertise.port, p->branch,
		     cfg->public_fqdn, p->branch + 7, p->addr.uri_host, p->addr.port, p->branch + 7,
		     cfg->public_fqdn);
	p->outstanding = true;
	conn_watch(c, &p->watch);
	ev_timer_set(&p->deadline, cfg->health_timeout, 0.);
	ev_timer_start(loop, &p->deadline);
	conn_send(c, text, (size_t)n);
}

static void period_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct probe *p = (struct probe *)((char *)w - offsetof(struct probe, period));

	if (!p->outstanding)
		send_probe(p);
}

static void deadline_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	mark((struct probe *)((char *)w - offsetof(struct probe, deadline)), false);
}

static void watch_cb(struct conn_watch *w, struct conn *c, enum conn_event ev)
{
	struct probe *p = (struct probe *)((char *)w - offsetof(struct probe, watch));

	if (ev == CONN_EV_CLOSED && p->outstanding)
		mark(p, false);
}

bool health_take_response(struct conn *c, msg_t *msg)
{
	sip_t *sip = sip_object(msg);
	const char *branch = sip && sip->sip_via ? sip->sip_via->v_branch : NULL;

	if (!branch || strncmp(branch, PROBE_BRANCH, strlen(PROBE_BRANCH)) != 0)
		return false;
	for (struct probe *p = probes; p; p = p->next) {
		if (p->outstanding && !strcmp(p->branch, branch)) {
			mark(p, true);
			break;
		}
	}
	msg_destroy(msg);
	return true;
}

static void free_probe(struct probe *p)
{
	ev_timer_stop(loop, &p->period);
	ev_timer_stop(loop, &p->deadline);
	conn_unwatch(&p->watch);
	free(p->name);
	free((char *)p->addr.host);
	free((char *)p->addr.uri_host);
	free(p);
}

/* A probe for node n, keeping the state of one it replaces. */
static struct probe *make_probe(const struct config_node *n, struct probe *old)
{
	struct probe *p = calloc(1, sizeof(*p));
	/* Spread the first probes over the interval, so a cluster is not
	 * probed all at once. */
	double first = cfg->health_interval * (0.5 + (random() % 1000) / 2000.0);

	if (!p)
		return NULL;
	p->watch.notify = watch_cb;
	ev_timer_init(&p->deadline, deadline_cb, 0., 0.);
	ev_timer_init(&p->period, period_cb, first, cfg->health_interval);
	p->name = strdup(n->name);
	p->addr.host = strdup(n->address.host);
	p->addr.uri_host = strdup(n->address.uri_host);
	if (!p->name || !p->addr.host || !p->addr.uri_host) {
		free_probe(p); /* nothing started yet: stopping is a no-op */
		return NULL;
	}
	p->addr.port = n->address.port;
	p->transport = n->transport;
	if (old && old->addr.port == p->addr.port && !strcmp(old->addr.host, p->addr.host)) {
		p->down = old->down;
		p->failures = old->failures;
	}
	ev_timer_start(loop, &p->period);
	return p;
}

void health_apply(struct config *next)
{
	struct probe *old = probes, *fresh = NULL;

	config_unref(cfg);
	cfg = config_ref(next);
	probes = NULL;
	for (size_t i = 0; cfg->health_interval > 0 && i < cfg->n_nodes; i++) {
		struct probe *p = make_probe(&cfg->nodes[i], find_in(old, cfg->nodes[i].name));

		if (p) {
			p->next = fresh;
			fresh = p;
		}
	}
	probes = fresh;
	while (old) {
		struct probe *next_old = old->next;

		free_probe(old);
		old = next_old;
	}
}

void health_stop(void)
{
	while (probes) {
		struct probe *p = probes;

		probes = p->next;
		free_probe(p);
	}
	config_unref(cfg);
	cfg = NULL;
}
