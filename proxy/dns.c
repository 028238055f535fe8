/* dns: c-ares under libev, with a TTL cache (see dns.h).
 *
 * c-ares tells us through its socket-state callback which sockets to watch;
 * we keep one ev_io per socket and one ev_timer for its retransmissions,
 * re-armed from ares_timeout() after every call into c-ares. */
#include "dns.h"

#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "log.h"

/* c-ares keeps a few UDP sockets and a TCP one per server. */
#define MAX_SOCKETS 16
/* Remember a failed lookup this long, so a dead domain is not asked again
 * for every request. */
#define NEGATIVE_TTL 30
/* Cache no answer longer than this, whatever its TTL says. */
#define MAX_TTL 3600
#define CACHE_SIZE 1024
#define SRV_PREFIX "_sipfederationtls._tcp."

enum dns_kind {
	DNS_SRV = 0,
	DNS_ADDR,
};

struct cache_entry {
	enum dns_kind kind;
	char name[DNS_NAME_MAX];
	ev_tstamp expires;
	struct dns_result result;
};

struct dns_query {
	enum dns_kind kind;
	char name[DNS_NAME_MAX];
	dns_done done;           /* NULL once cancelled */
	void *arg;
	bool starting;           /* inside the call that started it */
	ev_timer later;          /* delivers an answer c-ares gave at once */
	struct dns_result result;
};

struct sock_watch {
	ev_io io;
	int fd; /* -1: slot free */
};

static struct ev_loop *loop;
static ares_channel channel;
static struct sock_watch socks[MAX_SOCKETS];
static ev_timer retransmit;
static struct cache_entry cache[CACHE_SIZE]; /* direct-mapped by name hash */

static void rearm_timer(void)
{
	struct timeval tv, *t = ares_timeout(channel, NULL, &tv);

	ev_timer_stop(loop, &retransmit);
	if (t) {
		ev_timer_set(&retransmit, t->tv_sec + t->tv_usec / 1e6, 0.);
		ev_timer_start(loop, &retransmit);
	}
}

static void io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct sock_watch *s = (struct sock_watch *)w;

	ares_process_fd(channel, (revents & EV_READ) ? s->fd : ARES_SOCKET_BAD,
			(revents & EV_WRITE) ? s->fd : ARES_SOCKET_BAD);
	rearm_timer();
}

static void timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm_timer();
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct sock_watch *slot = NULL;

	for (int i = 0; i < MAX_SOCKETS; i++) {
		if (socks[i].fd == fd) {
			slot = &socks[i];
			break;
		}
		if (!slot && socks[i].fd < 0)
			slot = &socks[i];
	}
	if (!slot) {
		log_error("dns: more than %d resolver sockets", MAX_SOCKETS);
		return;
	}
	ev_io_stop(loop, &slot->io);
	if (!readable && !writable) {
		slot->fd = -1;
		return;
	}
	slot->fd = fd;
	ev_io_init(&slot->io, io_cb, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
	ev_io_start(loop, &slot->io);
}

static int make_channel(const char *servers)
{
	struct ares_options opts = {
		.sock_state_cb = sock_state_cb,
		.timeout = 2000, /* ms per try */
		.tries = 2,
	};
	int r = ares_init_options(&channel, &opts,
				  ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);

	if (r != ARES_SUCCESS) {
		log_error("dns: cannot start the resolver: %s", ares_strerror(r));
		return -1;
	}
	if (servers && *servers && (r = ares_set_servers_ports_csv(channel, servers)) != ARES_SUCCESS) {
		log_error("dns: bad server list '%s': %s", servers, ares_strerror(r));
		ares_destroy(channel);
		channel = NULL;
		return -1;
	}
	return 0;
}

int dns_init(struct ev_loop *l, const char *servers)
{
	loop = l;
	for (int i = 0; i < MAX_SOCKETS; i++)
		socks[i].fd = -1;
	ev_timer_init(&retransmit, timer_cb, 0., 0.);
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return -1;
	return make_channel(servers);
}

int dns_set_servers(const char *servers)
{
	int r = ares_set_servers_ports_csv(channel, servers && *servers ? servers : NULL);

	memset(cache, 0, sizeof(cache));
	return r == ARES_SUCCESS ? 0 : -1;
}

/* ---- cache ---- */

static struct cache_entry *slot_for(enum dns_kind kind, const char *name)
{
	unsigned long h = 5381 + kind;

	for (const char *p = name; *p; p++)
		h = h * 33 + (unsigned char)(*p | 0x20);
	return &cache[h % CACHE_SIZE];
}

static int cached(enum dns_kind kind, const char *name, struct dns_result *out)
{
	struct cache_entry *e = slot_for(kind, name);

	if (e->kind != kind || strcasecmp(e->name, name) != 0 || e->expires < ev_now(loop))
		return -ENOENT;
	*out = e->result;
	return 0;
}

static void remember(enum dns_kind kind, const char *name, const struct dns_result *r, int ttl)
{
	struct cache_entry *e = slot_for(kind, name);

	if (ttl > MAX_TTL)
		ttl = MAX_TTL;
	e->kind = kind;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->expires = ev_now(loop) + (r->status == 0 ? ttl : NEGATIVE_TTL);
	e->result = *r;
}

/* RFC 2782: lowest priority first; within one priority, pick by weight. */
static void order_srv(struct dns_result *r)
{
	struct dns_srv out[DNS_MAX_RECORDS];
	bool used[DNS_MAX_RECORDS] = { false };

	for (size_t k = 0; k < r->n; k++) {
		int best = -1;
		unsigned total = 0;

		for (size_t i = 0; i < r->n; i++)
			if (!used[i] && (best < 0 || r->srv[i].priority < r->srv[best].priority))
				best = (int)i;
		for (size_t i = 0; i < r->n; i++)
			if (!used[i] && r->srv[i].priority == r->srv[best].priority)
				total += r->srv[i].weight + 1u;
		unsigned pick = (unsigned)random() % total;

		for (size_t i = 0; i < r->n; i++) {
			if (used[i] || r->srv[i].priority != r->srv[best].priority)
				continue;
			if (pick < r->srv[i].weight + 1u) {
				best = (int)i;
				break;
			}
			pick -= r->srv[i].weight + 1u;
		}
		used[best] = true;
		out[k] = r->srv[best];
	}
	memcpy(r->srv, out, r->n * sizeof(out[0]));
}

int dns_srv_cached(const char *domain, struct dns_result *out)
{
	if (cached(DNS_SRV, domain, out) < 0)
		return -ENOENT;
	if (out->status == 0)
		order_srv(out);
	return 0;
}

int dns_addr_cached(const char *host, struct dns_result *out)
{
	return cached(DNS_ADDR, host, out);
}

/* ---- lookups ---- */

static int map_status(int ares_status)
{
	switch (ares_status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME:
		return -ENOENT;
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	default:
		return -EIO;
	}
}

/* The smallest TTL among the answer records (c-ares 1.18 does not give SRV
 * TTLs): skip the question, then read each answer's fixed fields. */
static int answer_ttl(const unsigned char *buf, int len)
{
	const unsigned char *p = buf + 12, *end = buf + len;
	unsigned qd, an;
	int ttl = MAX_TTL;
	long skip;
	char *name;

	if (len < 12)
		return NEGATIVE_TTL;
	qd = (unsigned)buf[4] << 8 | buf[5];
	an = (unsigned)buf[6] << 8 | buf[7];
	for (unsigned i = 0; i < qd + an; i++) {
		if (ares_expand_name(p, buf, len, &name, &skip) != ARES_SUCCESS)
			return NEGATIVE_TTL;
		ares_free_string(name);
		p += skip;
		if (i < qd) {
			p += 4; /* type, class */
			continue;
		}
		if (p + 10 > end)
			return NEGATIVE_TTL;
		int rr_ttl = (int)((unsigned)p[4] << 24 | (unsigned)p[5] << 16 | p[6] << 8 | p[7]);

		if (rr_ttl < ttl)
			ttl = rr_ttl;
		p += 10 + (p[8] << 8 | p[9]);
	}
	return ttl;
}

static void deliver(struct dns_query *q)
{
	if (q->done) {
		if (q->kind == DNS_SRV && q->result.status == 0)
			order_srv(&q->result);
		q->done(q->arg, &q->result);
	}
	free(q);
}

static void later_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	deliver((struct dns_query *)((char *)w - offsetof(struct dns_query, later)));
}

static void finish(struct dns_query *q, struct dns_result *r, int ttl)
{
	remember(q->kind, q->name, r, ttl);
	if (r->status < 0)
		log_warn("dns: %s lookup of %s failed: %s", q->kind == DNS_SRV ? "SRV" : "address",
			 q->name, r->status == -ENOENT ? "no such record" : strerror(-r->status));
	q->result = *r;
	if (q->starting) {
		/* c-ares answered inside the starting call (a numeric host, a
		 * hosts-file name): the caller does not hold q yet. */
		ev_timer_init(&q->later, later_cb, 0., 0.);
		ev_timer_start(loop, &q->later);
		return;
	}
	deliver(q);
}

static void srv_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_query *q = arg;
	struct dns_result r = { .status = map_status(status) };
	struct ares_srv_reply *list = NULL;

	if (r.status == 0 && ares_parse_srv_reply(abuf, alen, &list) != ARES_SUCCESS)
		r.status = -EIO;
	for (struct ares_srv_reply *s = list; s && r.n < DNS_MAX_RECORDS; s = s->next) {
		struct dns_srv *d = &r.srv[r.n++];

		snprintf(d->host, sizeof(d->host), "%s", s->host);
		d->port = s->port;
		d->priority = s->priority;
		d->weight = s->weight;
	}
	if (r.status == 0 && r.n == 0)
		r.status = -ENOENT;
	ares_free_data(list);
	finish(q, &r, r.status == 0 ? answer_ttl(abuf, alen) : NEGATIVE_TTL);
}

static void addr_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct dns_query *q = arg;
	struct dns_result r = { .status = map_status(status) };
	int ttl = MAX_TTL;

	for (struct ares_addrinfo_node *n = ai ? ai->nodes : NULL; n && r.n < DNS_MAX_RECORDS;
	     n = n->ai_next) {
		const void *a = n->ai_family == AF_INET6
					? (const void *)&((struct sockaddr_in6 *)n->ai_addr)->sin6_addr
					: (const void *)&((struct sockaddr_in *)n->ai_addr)->sin_addr;

		inet_ntop(n->ai_family, a, r.ip[r.n++], sizeof(r.ip[0]));
		if (n->ai_ttl < ttl)
			ttl = n->ai_ttl;
	}
	if (r.status == 0 && r.n == 0)
		r.status = -ENOENT;
	if (ai)
		ares_freeaddrinfo(ai);
	finish(q, &r, ttl);
}

static struct dns_query *new_query(enum dns_kind kind, const char *name, dns_done done, void *arg)
{
	struct dns_query *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->kind = kind;
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->done = done;
	q->arg = arg;
	q->starting = true;
	return q;
}

struct dns_query *dns_srv_lookup(const char *domain, dns_done done, void *arg)
{
	struct dns_query *q = new_query(DNS_SRV, domain, done, arg);
	char name[DNS_NAME_MAX + sizeof(SRV_PREFIX)];

	if (!q)
		return NULL;
	snprintf(name, sizeof(name), SRV_PREFIX "%s", domain);
	ares_query(channel, name, 1 /* C_IN */, 33 /* T_SRV */, srv_cb, q);
	q->starting = false;
	rearm_timer();
	return q;
}

struct dns_query *dns_addr_lookup(const char *host, dns_done done, void *arg)
{
	struct dns_query *q = new_query(DNS_ADDR, host, done, arg);
	struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC };

	if (!q)
		return NULL;
	ares_getaddrinfo(channel, host, NULL, &hints, addr_cb, q);
	q->starting = false;
	rearm_timer();
	return q;
}

void dns_cancel(struct dns_query *q)
{
	if (q)
		q->done = NULL;
}
