/* conn: SIP stream connections on the libev loop (see conn.h).
 *
 * Event flow for one connection:
 *   CONNECTING --writable, SO_ERROR 0--> HANDSHAKE (TLS) or OPEN (TCP)
 *   HANDSHAKE  --ops.handshake() == 0--> OPEN
 *   OPEN: readable -> ops.recv -> frame_feed -> handler.message per message;
 *         writable -> flush the output buffer through ops.send.
 * One timer per connection serves all deadlines: while connecting or
 * handshaking it is the handshake timeout; while a message is half-read it
 * is the message timeout; otherwise the idle timeout. */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <unistd.h>
#include <assert.h>
#include <sofia-sip/htable.h>
#include <gnutls/crypto.h>

#include "frame.h"
#include "admission.h"
#include "log.h"
#include "stats.h"
#include "tcp.h"
#include "tls/session.h"
#include "tls/creds.h"
#include "tls/verify.h"

/* Plaintext read chunk: one TLS record's worth. */
#define READ_CHUNK 16384
/* Input taken from one connection per loop pass: about one full TLS record
 * (some 40 MESSAGEs). A peer sending in bulk then waits its turn behind the
 * other connections, and the answers of the pass go out before the next
 * one, so requests on a quiet connection are not stuck behind a burst. */
#define READ_BUDGET READ_CHUNK
/* Smallest output buffer: a keep-alive answer or an ordinary request fits. */
#define OUTPUT_MIN 2048
/* A peer that does not read what we send may pin at most this many times the
 * message cap in our output buffer before we drop it. */
#define OUTPUT_BACKLOG_FACTOR 4

TAILQ_HEAD(conn_watch_list, conn_watch);

struct conn {
	ev_io io;
	ev_timer timer;               /* handshake / message / idle deadline */
	struct ev_loop *loop;         /* borrowed */
	int fd;
	uint64_t id;
	unsigned refs;
	enum conn_state state;
	enum conn_side side;
	enum transport transport;
	bool outbound;
	bool was_open;
	bool counted;                 /* in the per-address limit count */
	bool reading_done;            /* input refused after a framing error */
	bool write_blocked;           /* the transport said EAGAIN to our output */
	bool flush_queued;            /* in flush_queue */
	bool read_deferred;           /* in read_backlog */
	const char *done_reason;      /* static: why, for the close */
	unsigned pins;                /* transactions that answer on it */
	const struct conn_ops *ops;
	void *transport_data;         /* owned by ops (e.g. the TLS session) */
	struct config *cfg;           /* refcounted: snapshot at creation */
	struct frame *frame;          /* owned */
	char peer[INET6_ADDRSTRLEN + 8];
	char peer_ip[INET6_ADDRSTRLEN];
	uint16_t peer_port;
	char *server_name;            /* owned: the host we dialled, or NULL */
	char *pat_node;               /* owned: node of the public port, or NULL */
	char **peer_names;            /* owned: NULL-terminated cert names */
	size_t dest_hash;             /* outbound: its key in by_dest */
	bool in_dest_index;
	struct name_entry *name_entries; /* owned: its peer names in by_name */
	const char *fail_reason;      /* static string, or NULL */
	char *out;                    /* owned output buffer, NULL when empty */
	size_t out_len, out_cap;
	ev_tstamp started;            /* creation: the handshake deadline base */
	ev_tstamp last_activity;      /* last bytes in or out */
	unsigned long msgs_in, msgs_out;
	char *domain;                 /* owned: see conn_set_domain */
	ev_tstamp message_started;    /* first bytes of a pending message, or 0 */
	struct conn_watch_list watchers;
	TAILQ_ENTRY(conn) link;       /* in all_conns */
	TAILQ_ENTRY(conn) flush_link; /* in flush_queue, with a reference */
	TAILQ_ENTRY(conn) read_link;  /* in read_backlog, with a reference */
};

TAILQ_HEAD(conn_list, conn);
static struct conn_list all_conns = TAILQ_HEAD_INITIALIZER(all_conns);
/* Connections with output queued during this loop pass. */
static struct conn_list flush_queue = TAILQ_HEAD_INITIALIZER(flush_queue);
/* Connections whose TLS session holds decrypted input beyond their read
 * budget: the socket will not wake us for it. */
static struct conn_list read_backlog = TAILQ_HEAD_INITIALIZER(read_backlog);
static ev_prepare flusher;      /* writes flush_queue before each poll */
/* The snapshot conn_recheck_peers last checked against (refcounted): the
 * one in force. */
static struct config *trust_cfg;
static ev_check backlog_resumer; /* feeds read_backlog after each poll */
static ev_idle backlog_pending;  /* active: the poll must not block */
static unsigned n_conns;
/* Connection ids travel in our signed Record-Route tokens; starting from a
 * random value per process keeps a token from an earlier run (or the other
 * instance of a pair) from naming an unrelated connection of ours. */
static uint64_t next_id;
static const struct conn_handler *handler;

/* Connections by id, for the flow hints in our Record-Route entries. */
HTABLE_DECLARE_WITH(conn_htable, ch, struct conn, size_t, uint64_t);
#define CONN_HASH(c) ((c)->id)
HTABLE_PROTOS_WITH(conn_htable, ch, struct conn, size_t, uint64_t);
HTABLE_BODIES_WITH(conn_htable, ch, struct conn, CONN_HASH, size_t, uint64_t);
static conn_htable_t by_id[1];

/* Outbound connections by destination (side, transport, address, TLS
 * name): every forwarded request looks up the connection to its next hop,
 * and thousands of idle partner connections must not make that slower. */
HTABLE_DECLARE_WITH(dest_htable, dh, struct conn, size_t, size_t);
#define DEST_HASH(c) ((c)->dest_hash)
HTABLE_PROTOS_WITH(dest_htable, dh, struct conn, size_t, size_t);
HTABLE_BODIES_WITH(dest_htable, dh, struct conn, DEST_HASH, size_t, size_t);
static dest_htable_t by_dest[1];

/* Open external connections by each name of their peer's certificate, for
 * requests to a foreign edge we already hold a connection from. */
struct name_entry {
	struct conn *conn;
	const char *name;  /* one of conn->peer_names */
	size_t hash;
};
HTABLE_DECLARE_WITH(name_htable, nh, struct name_entry, size_t, size_t);
#define NAME_HASH(e) ((e)->hash)
HTABLE_PROTOS_WITH(name_htable, nh, struct name_entry, size_t, size_t);
HTABLE_BODIES_WITH(name_htable, nh, struct name_entry, NAME_HASH, size_t, size_t);
static name_htable_t by_name[1];

static su_home_t table_home[1] = { SU_HOME_INIT(table_home) };

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

/* FNV-1a over a name folded to lower case: DNS names compare without case. */
static uint64_t fold_hash(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)tolower((unsigned char)*s)) * FNV_PRIME;
	return h;
}

static size_t dest_key(enum conn_side side, enum transport transport, const char *ip,
		       uint16_t port, const char *server_name)
{
	uint64_t h = fold_hash(FNV_OFFSET, ip);

	h = (h ^ ((uint64_t)side << 32 | (uint64_t)transport << 16 | port)) * FNV_PRIME;
	/* Over TCP the name plays no part in which connection fits. */
	if (transport == TRANSPORT_TLS)
		h = fold_hash(h, server_name);
	return (size_t)h;
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void flush_queue_cb(struct ev_loop *loop, ev_prepare *w, int revents);
static void resume_backlog_cb(struct ev_loop *loop, ev_check *w, int revents);
static void keep_polling_cb(struct ev_loop *loop, ev_idle *w, int revents);

void conn_set_handler(const struct conn_handler *h)
{
	handler = h;
}

static void set_nonblocking(int fd)
{
	int one = 1;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void note_peer(struct conn *c, const struct sockaddr *sa)
{
	const void *a;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		a = &s6->sin6_addr;
		c->peer_port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;

		a = &s4->sin_addr;
		c->peer_port = ntohs(s4->sin_port);
	}
	inet_ntop(sa->sa_family, a, c->peer_ip, sizeof(c->peer_ip));
	snprintf(c->peer, sizeof(c->peer), sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 c->peer_ip, c->peer_port);
}

static void arm_timer(struct conn *c, double seconds)
{
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_set(&c->timer, seconds, 0.);
	ev_timer_start(c->loop, &c->timer);
}

/* The deadline that applies in the connection's present state. Handshake
 * and message deadlines count from when they began, so a peer trickling a
 * byte at a time cannot stretch them; idle counts from the last traffic. */
static void rearm_deadline(struct conn *c)
{
	ev_tstamp now = ev_now(c->loop);

	if (c->state != CONN_OPEN) {
		arm_timer(c, c->started + c->cfg->handshake_timeout - now);
	} else if (c->reading_done) {
		/* Answers still owed get at most a transaction's time. */
		if (!ev_is_active(&c->timer))
			arm_timer(c, c->cfg->transaction_timeout);
	} else if (frame_in_message(c->frame)) {
		if (!c->message_started)
			c->message_started = now;
		arm_timer(c, c->message_started + c->cfg->message_timeout - now);
	} else {
		c->message_started = 0;
		arm_timer(c, c->cfg->idle_timeout);
	}
}

static void set_io(struct conn *c, int events)
{
	if (c->io.events == events && ev_is_active(&c->io))
		return;
	ev_io_stop(c->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(c->loop, &c->io);
}

/* The watchers that work once per loop pass for all connections. They do
 * not keep the loop running by themselves (ev_unref). */
static void start_pass_watchers(struct ev_loop *loop)
{
	ev_prepare_init(&flusher, flush_queue_cb);
	ev_prepare_start(loop, &flusher);
	ev_unref(loop);
	ev_check_init(&backlog_resumer, resume_backlog_cb);
	ev_check_start(loop, &backlog_resumer);
	ev_unref(loop);
	ev_idle_init(&backlog_pending, keep_polling_cb);
}

static struct conn *conn_new(struct ev_loop *loop, int fd, enum conn_side side,
			     enum transport transport, struct config *cfg)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->frame = frame_new(cfg->max_message_size, cfg->max_headers);
	if (!c->frame || (conn_htable_is_full(by_id) && conn_htable_resize(table_home, by_id, 0) < 0)) {
		frame_free(c->frame);
		free(c);
		return NULL;
	}
	if (!ev_is_active(&flusher))
		start_pass_watchers(loop);
	c->loop = loop;
	c->fd = fd;
	if (next_id == 0) {
		gnutls_rnd(GNUTLS_RND_NONCE, &next_id, sizeof(next_id));
		next_id = (next_id >> 2) + 1; /* far from wrapping, never 0 */
	}
	c->id = next_id++;
	c->refs = 1; /* the registry's, dropped by conn_close() */
	c->side = side;
	c->transport = transport;
	c->cfg = config_ref(cfg);
	c->ops = transport == TRANSPORT_TLS ? &tls_conn_ops : &tcp_conn_ops;
	c->started = ev_now(loop);
	c->last_activity = c->started;
	TAILQ_INIT(&c->watchers);
	ev_io_init(&c->io, io_cb, fd, EV_READ);
	ev_timer_init(&c->timer, timer_cb, 0., 0.);
	TAILQ_INSERT_TAIL(&all_conns, c, link);
	n_conns++;
	conn_htable_append(by_id, c);
	return c;
}

/* The credentials a connection of c's side and direction uses under cfg. */
static struct tls_creds *creds_in(const struct config *cfg, const struct conn *c)
{
	const struct config_tls *t = c->side == SIDE_EXTERNAL ? &cfg->external_tls
							      : &cfg->internal_tls;

	return c->outbound ? t->client : t->server;
}

/* Start the transport: TLS sessions need their handshake first. */
static int start_transport(struct conn *c)
{
	if (c->transport == TRANSPORT_TCP) {
		c->state = CONN_OPEN;
		c->was_open = true;
		return 0;
	}
	c->state = CONN_HANDSHAKE;
	return tls_session_attach(c, creds_in(c->cfg, c), c->outbound, c->server_name);
}

struct conn *conn_accept(struct ev_loop *loop, int fd, const struct sockaddr *peer,
			 socklen_t peerlen, enum conn_side side, enum transport transport,
			 const char *pat_node, struct config *cfg)
{
	struct conn *c;

	set_nonblocking(fd);
	c = conn_new(loop, fd, side, transport, cfg);
	if (!c) {
		close(fd);
		return NULL;
	}
	c->pat_node = pat_node ? strdup(pat_node) : NULL;
	note_peer(c, peer);
	if (!admission_connection(cfg, c->peer_ip, n_conns - 1)) {
		c->fail_reason = "over a connection limit";
		c->state = CONN_OPEN; /* closed quietly: the limit logged it */
		conn_close(c, "refused");
		return NULL;
	}
	c->counted = true;
	if (start_transport(c) < 0) {
		conn_close(c, "transport setup failed");
		return NULL;
	}
	log_debug("conn %llu: accepted %s from %s (%s)", (unsigned long long)c->id,
		  c->ops->name, c->peer, side == SIDE_EXTERNAL ? "external" : "internal");
	set_io(c, EV_READ);
	rearm_deadline(c);
	return c;
}

struct conn *conn_connect(struct ev_loop *loop, const char *ip, uint16_t port,
			  const char *server_name, enum conn_side side,
			  enum transport transport, struct config *cfg)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	socklen_t len;
	struct conn *c;
	int fd;

	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		errno = EINVAL;
		return NULL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	set_nonblocking(fd);
	c = conn_new(loop, fd, side, transport, cfg);
	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->outbound = true;
	c->server_name = server_name ? strdup(server_name) : NULL;
	note_peer(c, (struct sockaddr *)&ss);
	c->dest_hash = dest_key(side, transport, c->peer_ip, port, c->server_name);
	if (dest_htable_is_full(by_dest) && dest_htable_resize(table_home, by_dest, 0) < 0) {
		conn_close(c, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	dest_htable_append(by_dest, c);
	c->in_dest_index = true;
	c->state = CONN_CONNECTING;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		int err = errno;

		conn_set_fail_reason(c, strerror(err));
		conn_close(c, "connect failed");
		errno = err;
		return NULL;
	}
	log_debug("conn %llu: dialling %s %s (%s)", (unsigned long long)c->id, c->ops->name,
		  c->peer, server_name ? server_name : "-");
	set_io(c, EV_WRITE);
	rearm_deadline(c);
	return c;
}

static void notify_watchers(struct conn *c, enum conn_event ev)
{
	struct conn_watch *w, *next;

	/* A watcher may detach itself (or others) while being told. */
	for (w = TAILQ_FIRST(&c->watchers); w; w = next) {
		next = TAILQ_NEXT(w, link);
		if (ev == CONN_EV_CLOSED) {
			TAILQ_REMOVE(&c->watchers, w, link);
			w->conn = NULL;
		}
		w->notify(w, c, ev);
	}
}

static void grow_output(struct conn *c, size_t need)
{
	size_t cap = c->out_cap ? c->out_cap : OUTPUT_MIN;

	while (cap < need)
		cap *= 2;
	if (cap != c->out_cap) {
		char *p = realloc(c->out, cap);

		if (!p)
			return;
		c->out = p;
		c->out_cap = cap;
	}
}

/* Push queued output through the transport until it would block. 0: all
 * written; -EAGAIN: the rest waits for EV_WRITE; other <0: failed. */
static int flush_output(struct conn *c)
{
	while (c->out_len > 0) {
		ssize_t n = c->ops->send(c, c->out, c->out_len);

		c->write_blocked = n == -EAGAIN;
		if (n == -EAGAIN)
			return -EAGAIN;
		if (n < 0) {
			conn_set_fail_reason(c, "send failed");
			return (int)n;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	/* Most connections are idle most of the time: an empty buffer is
	 * given back rather than kept for the connection's life. */
	free(c->out);
	c->out = NULL;
	c->out_cap = 0;
	return 0;
}

static void update_io(struct conn *c)
{
	int events = c->reading_done ? 0 : EV_READ;

	if (c->state == CONN_CONNECTING)
		events = EV_WRITE;
	else if (c->state == CONN_HANDSHAKE)
		events = c->ops->want_write(c) ? EV_WRITE : EV_READ;
	else if (c->write_blocked)
		events |= EV_WRITE;
	if (events)
		set_io(c, events);
	else
		ev_io_stop(c->loop, &c->io);
}

/* After a framing error: close once the answers still owed on this
 * connection (its pinned transactions) and the queued bytes are out. */
static void finish_if_done(struct conn *c)
{
	if (c->reading_done && c->pins == 0 && c->out_len == 0 && c->state == CONN_OPEN)
		conn_close(c, c->done_reason);
}

static void stop_reading(struct conn *c, const char *why)
{
	c->reading_done = true;
	c->done_reason = why;
	update_io(c);
	finish_if_done(c);
}

void conn_pin(struct conn *c)
{
	c->pins++;
}

void conn_unpin(struct conn *c)
{
	c->pins--;
	finish_if_done(c);
}

int conn_send(struct conn *c, const char *data, size_t len)
{
	if (c->state == CONN_CLOSED)
		return -EPIPE;
	if (c->out_len + len > OUTPUT_BACKLOG_FACTOR * c->cfg->max_message_size) {
		conn_close(c, "output backlog over limit (peer not reading)");
		return -ENOBUFS;
	}
	grow_output(c, c->out_len + len);
	if (c->out_cap < c->out_len + len) {
		conn_close(c, "out of memory");
		return -ENOMEM;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	c->last_activity = ev_now(c->loop);
	/* Written at the end of the loop pass (flush_queue_cb), together with
	 * whatever else the pass queues for this connection. */
	if (!c->flush_queued) {
		c->flush_queued = true;
		/* The reference apart: TAILQ_INSERT_TAIL evaluates its element
		 * more than once. */
		conn_ref(c);
		TAILQ_INSERT_TAIL(&flush_queue, c, flush_link);
	}
	return 0;
}

/* Write what is queued; on failure the connection closes. */
static void write_out(struct conn *c)
{
	int r = flush_output(c);

	if (r < 0 && r != -EAGAIN) {
		conn_close(c, c->fail_reason);
		return;
	}
	finish_if_done(c);
	if (c->state == CONN_OPEN)
		update_io(c);
}

static void flush_queue_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&flush_queue))) {
		TAILQ_REMOVE(&flush_queue, c, flush_link);
		c->flush_queued = false;
		/* Before it opens, its output waits for become_open(). */
		if (c->state == CONN_OPEN && !c->write_blocked)
			write_out(c);
		conn_unref(c);
	}
}

/* An open external connection answers for every name of its peer's
 * certificate. Without memory for the index it still works; requests to
 * that peer then dial a connection of their own. */
static void index_peer_names(struct conn *c)
{
	size_t n = 0;

	if (c->side != SIDE_EXTERNAL || !c->peer_names)
		return;
	while (c->peer_names[n])
		n++;
	/* One more, zeroed: the end of the list for unindex_peer_names(). */
	c->name_entries = calloc(n + 1, sizeof(*c->name_entries));
	for (size_t i = 0; c->name_entries && i < n; i++) {
		struct name_entry *e = &c->name_entries[i];

		if (name_htable_is_full(by_name) && name_htable_resize(table_home, by_name, 0) < 0) {
			log_warn("conn %llu: out of memory indexing its peer's names",
				 (unsigned long long)c->id);
			return;
		}
		e->conn = c;
		e->name = c->peer_names[i];
		e->hash = (size_t)fold_hash(FNV_OFFSET, e->name);
		name_htable_append(by_name, e);
	}
}

static void unindex_peer_names(struct conn *c)
{
	for (struct name_entry *e = c->name_entries; e && e->conn; e++)
		name_htable_remove(by_name, e);
	free(c->name_entries);
	c->name_entries = NULL;
}

static void become_open(struct conn *c)
{
	c->state = CONN_OPEN;
	c->was_open = true;
	index_peer_names(c);
	log_debug("conn %llu: open %s %s", (unsigned long long)c->id, c->ops->name, c->peer);
	notify_watchers(c, CONN_EV_OPEN);
	if (c->state == CONN_OPEN)
		write_out(c);
}

static void on_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_set_fail_reason(c, strerror(err));
		conn_close(c, "connect failed");
		return;
	}
	if (start_transport(c) < 0) {
		conn_close(c, "transport setup failed");
		return;
	}
	if (c->state == CONN_OPEN)
		become_open(c);
}

/* A handshake begun before the last reload was verified against the trust
 * of its own snapshot: its peer must pass the current one's too. NULL, or
 * why not. */
static const char *stale_trust(struct conn *c)
{
	const gnutls_datum_t *chain;
	unsigned n;

	if (!trust_cfg || c->cfg == trust_cfg)
		return NULL;
	chain = tls_session_peer_chain(c, &n);
	return tls_recheck_peer(NULL, creds_in(trust_cfg, c), chain, n);
}

static void on_handshake(struct conn *c)
{
	int r = c->ops->handshake(c);
	const char *why;

	if (r == -EAGAIN)
		return;
	if (r == 0 && (why = stale_trust(c))) {
		conn_set_fail_reason(c, why);
		r = -EPROTO;
	}
	stats_handshake(r < 0 ? (c->fail_reason ? c->fail_reason : "unknown") : NULL);
	if (r < 0) {
		conn_close(c, "TLS handshake failed");
		return;
	}
	become_open(c);
}

static void dispatch_frames(struct conn *c)
{
	static const char pong[] = "\r\n";
	enum frame_event ev;
	msg_t *msg;

	while (c->state == CONN_OPEN && (ev = frame_next(c->frame, &msg)) != FRAME_NEED_MORE) {
		switch (ev) {
		case FRAME_MESSAGE:
			c->msgs_in++;
			handler->message(c, msg);
			break;
		case FRAME_PING:
			conn_send(c, pong, sizeof(pong) - 1);
			break;
		case FRAME_TOO_LARGE:
			handler->stream_error(c, msg, 413, "Message Too Large");
			stop_reading(c, "message over max_message_size");
			return;
		case FRAME_TOO_MANY_HEADERS:
			handler->stream_error(c, msg, 400, "Too Many Headers");
			stop_reading(c, "message over max_headers");
			return;
		default:
			handler->stream_error(c, msg, 400, "Bad Message Framing");
			stop_reading(c, "framing lost");
			return;
		}
	}
}

/* Come back to c in the next loop pass: its TLS session holds input it has
 * decrypted already, which the socket will not wake us for. */
static void defer_reading(struct conn *c)
{
	if (c->read_deferred)
		return;
	c->read_deferred = true;
	conn_ref(c); /* apart from the macro, as in conn_send */
	TAILQ_INSERT_TAIL(&read_backlog, c, read_link);
	ev_idle_start(c->loop, &backlog_pending);
}

static void on_readable(struct conn *c)
{
	char buf[READ_CHUNK];
	size_t taken = 0;

	while (taken < READ_BUDGET && c->state == CONN_OPEN && !c->reading_done) {
		ssize_t n = c->ops->recv(c, buf, sizeof(buf));

		if (n == -EAGAIN)
			return;
		if (n == 0) {
			conn_close(c, "closed by peer");
			return;
		}
		if (n < 0) {
			conn_close(c, conn_fail_reason(c) ? conn_fail_reason(c) : "read error");
			return;
		}
		taken += (size_t)n;
		c->last_activity = ev_now(c->loop);
		frame_feed(c->frame, buf, (size_t)n);
		dispatch_frames(c);
	}
	/* What is still in the socket wakes us in the next pass by itself. */
	if (c->state == CONN_OPEN && !c->reading_done && c->ops->pending(c))
		defer_reading(c);
}

/* After each poll: the deferred connections read again in this pass, each
 * its budget, in turn with those the poll found readable. */
static void resume_backlog_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct conn_list due = TAILQ_HEAD_INITIALIZER(due);
	struct conn *c;

	/* Those deferred again while reading wait for the next pass. */
	TAILQ_CONCAT(&due, &read_backlog, read_link);
	ev_idle_stop(loop, &backlog_pending);
	while ((c = TAILQ_FIRST(&due))) {
		TAILQ_REMOVE(&due, c, read_link);
		c->read_deferred = false;
		if (c->state == CONN_OPEN && !c->reading_done)
			ev_feed_event(loop, &c->io, EV_READ);
		conn_unref(c);
	}
}

/* Nothing to do: an active idle watcher only keeps the poll from blocking
 * while deferred input waits (resume_backlog_cb reads it). */
static void keep_polling_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, io));

	conn_ref(c); /* callbacks below may close it: free only after we return */
	if (c->state == CONN_CONNECTING)
		on_connected(c);
	if (c->state == CONN_HANDSHAKE)
		on_handshake(c);
	if (c->state == CONN_OPEN && (revents & EV_WRITE))
		write_out(c);
	if (c->state == CONN_OPEN && (revents & EV_READ) && !c->reading_done)
		on_readable(c);
	if (c->state != CONN_CLOSED)
		finish_if_done(c);
	if (c->state != CONN_CLOSED) {
		update_io(c);
		rearm_deadline(c);
	}
	conn_unref(c);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, timer));

	conn_ref(c);
	/* A TLS handshake that ran out of time failed like any other, and is
	 * counted with them (fedproxyctl stats, /metrics). */
	if (c->state == CONN_HANDSHAKE)
		stats_handshake("handshake timeout");
	if (c->state != CONN_OPEN)
		conn_close(c, "handshake timeout");
	else if (c->reading_done)
		conn_close(c, c->done_reason);
	else if (frame_in_message(c->frame))
		conn_close(c, "incomplete message timeout");
	else
		conn_close(c, "idle timeout");
	conn_unref(c);
}

void conn_close(struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSED)
		return;
	bool was_open = c->state == CONN_OPEN;

	if (was_open)
		log_debug("conn %llu: closing %s: %s", (unsigned long long)c->id, c->peer, why);
	else
		log_warn("conn %llu: %s %s %s failed: %s%s%s", (unsigned long long)c->id,
			 c->outbound ? "to" : "from", c->peer, c->ops->name, why,
			 c->fail_reason ? ": " : "", c->fail_reason ? c->fail_reason : "");
	/* Best effort: what is queued (a 413, a last answer) still goes. */
	if (was_open && c->out_len > 0)
		flush_output(c);
	c->state = CONN_CLOSED;
	ev_io_stop(c->loop, &c->io);
	ev_timer_stop(c->loop, &c->timer);
	if (c->transport_data)
		c->ops->release(c);
	close(c->fd);
	c->fd = -1;
	TAILQ_REMOVE(&all_conns, c, link);
	n_conns--;
	if (c->counted)
		admission_connection_closed(c->peer_ip);
	conn_htable_remove(by_id, c);
	if (c->in_dest_index)
		dest_htable_remove(by_dest, c);
	unindex_peer_names(c);
	notify_watchers(c, CONN_EV_CLOSED);
	conn_unref(c); /* the registry's reference */
}

struct conn *conn_ref(struct conn *c)
{
	c->refs++;
	return c;
}

void conn_unref(struct conn *c)
{
	if (!c || --c->refs > 0)
		return;
	frame_free(c->frame);
	config_unref(c->cfg);
	if (c->peer_names) {
		for (char **p = c->peer_names; *p; p++)
			free(*p);
		free(c->peer_names);
	}
	free(c->server_name);
	free(c->pat_node);
	free(c->domain);
	free(c->out);
	free(c);
}

void conn_watch(struct conn *c, struct conn_watch *w)
{
	w->conn = c;
	TAILQ_INSERT_TAIL(&c->watchers, w, link);
}

void conn_unwatch(struct conn_watch *w)
{
	if (!w->conn)
		return;
	TAILQ_REMOVE(&w->conn->watchers, w, link);
	w->conn = NULL;
}

struct conn *conn_by_id(uint64_t id)
{
	struct conn **slot;

	for (slot = conn_htable_hash(by_id, id); *slot; slot = conn_htable_next(by_id, slot))
		if ((*slot)->id == id)
			return *slot;
	return NULL;
}

static bool same_name(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

struct conn *conn_find_outbound(enum conn_side side, enum transport transport,
				const char *ip, uint16_t port, const char *server_name)
{
	size_t h = dest_key(side, transport, ip, port, server_name);
	struct conn **slot;

	if (by_dest->dh_size == 0)
		return NULL;
	for (slot = dest_htable_hash(by_dest, h); *slot; slot = dest_htable_next(by_dest, slot)) {
		struct conn *c = *slot;

		if (c->dest_hash == h && c->side == side && c->transport == transport &&
		    c->peer_port == port && strcmp(c->peer_ip, ip) == 0 &&
		    (transport == TRANSPORT_TCP || same_name(c->server_name, server_name)))
			return c;
	}
	return NULL;
}

struct conn *conn_find_by_peer_name(const char *host)
{
	size_t h = (size_t)fold_hash(FNV_OFFSET, host);
	struct name_entry **slot;

	if (by_name->nh_size == 0)
		return NULL;
	for (slot = name_htable_hash(by_name, h); *slot; slot = name_htable_next(by_name, slot))
		if ((*slot)->hash == h && same_name((*slot)->name, host))
			return (*slot)->conn;
	return NULL;
}

void conn_set_domain(struct conn *c, const char *domain)
{
	if (c->domain && !strcasecmp(c->domain, domain))
		return;
	free(c->domain);
	c->domain = strdup(domain);
}

void conn_count_sent(struct conn *c)
{
	c->msgs_out++;
}

void conn_foreach(void (*fn)(const struct conn_info *info, void *arg), void *arg)
{
	struct conn *c;

	TAILQ_FOREACH(c, &all_conns, link) {
		ev_tstamp now = ev_now(c->loop);
		struct conn_info info = {
			.id = c->id,
			.peer = c->peer,
			.side = c->side,
			.transport = c->transport,
			.outbound = c->outbound,
			.state = c->state,
			.peer_name = c->peer_names ? c->peer_names[0] : NULL,
			.domain = c->domain,
			.age = now - c->started,
			.idle = now - c->last_activity,
			.msgs_in = c->msgs_in,
			.msgs_out = c->msgs_out,
		};

		fn(&info, arg);
	}
}

void conn_recheck_peers(struct config *cfg)
{
	struct tls_recheck *r = tls_recheck_begin();
	uint64_t *doomed = NULL;
	size_t n_doomed = 0, cap = 0;
	struct conn *c;

	/* Decide first, close after: closing runs watchers that may close
	 * other connections of the list. */
	TAILQ_FOREACH(c, &all_conns, link) {
		const gnutls_datum_t *chain;
		const char *why;
		uint64_t *more;
		unsigned n;

		if (c->transport != TRANSPORT_TLS || c->state != CONN_OPEN)
			continue;
		chain = tls_session_peer_chain(c, &n);
		why = tls_recheck_peer(r, creds_in(cfg, c), chain, n);
		if (!why)
			continue;
		if (n_doomed == cap) {
			/* Doubling: a CA dropped from the bundle dooms them all. */
			cap = cap ? 2 * cap : 16;
			more = realloc(doomed, cap * sizeof(*doomed));
			if (!more) {
				log_error("recheck of peer certificates: out of memory; the "
					  "connections not yet checked stay open");
				break;
			}
			doomed = more;
		}
		log_warn("conn %llu: %s: %s under the new configuration: closing",
			 (unsigned long long)c->id, c->peer, why);
		doomed[n_doomed++] = c->id;
	}
	tls_recheck_end(r);
	config_unref(trust_cfg);
	trust_cfg = config_ref(cfg);
	for (size_t i = 0; i < n_doomed; i++)
		if ((c = conn_by_id(doomed[i])))
			conn_close(c, "peer certificate no longer trusted");
	free(doomed);
}

void conn_close_all(const char *why)
{
	struct conn *c;

	while (!TAILQ_EMPTY(&all_conns))
		conn_close(TAILQ_FIRST(&all_conns), why);
	/* The loop stops after this pass, so its prepare and check watchers
	 * will not run again to drop the references their queues hold. */
	while ((c = TAILQ_FIRST(&flush_queue))) {
		TAILQ_REMOVE(&flush_queue, c, flush_link);
		c->flush_queued = false;
		conn_unref(c);
	}
	while ((c = TAILQ_FIRST(&read_backlog))) {
		TAILQ_REMOVE(&read_backlog, c, read_link);
		c->read_deferred = false;
		conn_unref(c);
	}
}

unsigned conn_count(void)
{
	return n_conns;
}

uint64_t conn_id(const struct conn *c) { return c->id; }
enum conn_side conn_side(const struct conn *c) { return c->side; }
enum conn_state conn_state(const struct conn *c) { return c->state; }
enum transport conn_transport(const struct conn *c) { return c->transport; }
bool conn_is_outbound(const struct conn *c) { return c->outbound; }
bool conn_was_open(const struct conn *c) { return c->was_open; }
const char *conn_peer(const struct conn *c) { return c->peer; }
const char *conn_pat_node(const struct conn *c) { return c->pat_node; }
const char *conn_peer_ip(const struct conn *c) { return c->peer_ip; }
uint16_t conn_peer_port(const struct conn *c) { return c->peer_port; }
struct config *conn_config(const struct conn *c) { return c->cfg; }
int conn_fd(const struct conn *c) { return c->fd; }
void *conn_transport_data(const struct conn *c) { return c->transport_data; }
void conn_set_transport_data(struct conn *c, void *data) { c->transport_data = data; }
const char *conn_server_name(const struct conn *c) { return c->server_name; }
const char *conn_fail_reason(const struct conn *c) { return c->fail_reason; }

const char *const *conn_peer_names(const struct conn *c)
{
	return (const char *const *)c->peer_names;
}

void conn_set_peer_names(struct conn *c, char **names)
{
	c->peer_names = names;
}

void conn_set_fail_reason(struct conn *c, const char *why)
{
	c->fail_reason = why;
}
