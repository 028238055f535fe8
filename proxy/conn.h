/* conn: one SIP stream connection (TLS or TCP) driven by the libev loop.
 *
 * A connection owns its socket, its transport session (behind conn_ops, so
 * TLS and cleartext TCP look the same to the SIP layer), a framer for what it
 * reads and a buffer for what it writes. It hands every complete message to
 * the handler set with conn_set_handler(), answers keep-alive pings itself,
 * and closes itself on idle, handshake and incomplete-message timeouts.
 *
 * Lifetime: refcounted. conn_close() ends the connection at once (watchers
 * are told) but the memory lives until the last conn_unref(), so a callback
 * may close the connection it was called for. */
#ifndef FEDPROXY_CONN_H
#define FEDPROXY_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <ev.h>
#include <sofia-sip/msg.h>

#include "config.h"

struct conn;
struct tls_creds;

enum conn_side {
	SIDE_EXTERNAL = 0, /* towards foreign federation edges */
	SIDE_INTERNAL,     /* towards the inside presence nodes */
};

enum conn_state {
	CONN_CONNECTING = 0, /* outbound TCP connect in progress */
	CONN_HANDSHAKE,      /* TLS handshake in progress */
	CONN_OPEN,           /* carrying SIP */
	CONN_CLOSED,         /* done: no more I/O, waiting for the last unref */
};

/* The transport under a connection: TLS sessions and plain TCP both
 * implement it (tls/session.c, proxy/tcp.c). */
struct conn_ops {
	const char *name; /* "tls" or "tcp", for logs */
	/* Advance the handshake. 0: done; -EAGAIN: wait for I/O in the
	 * direction conn_ops.want_write() names; other <0: failed, and
	 * conn_fail_reason() says why. */
	int (*handshake)(struct conn *c);
	/* >0 bytes read; 0 the peer closed; -EAGAIN; other <0 error. */
	ssize_t (*recv)(struct conn *c, char *buf, size_t len);
	/* >0 bytes taken; -EAGAIN (call again with the same bytes); <0 error. */
	ssize_t (*send)(struct conn *c, const char *buf, size_t len);
	/* Bytes already read from the socket and waiting inside the session. */
	bool (*pending)(struct conn *c);
	/* The last -EAGAIN was waiting to write, not to read. */
	bool (*want_write)(struct conn *c);
	/* Best-effort orderly close (TLS close_notify), then release. */
	void (*release)(struct conn *c);
};

/* What the owner of a connection hears about it. */
enum conn_event {
	CONN_EV_OPEN = 0, /* handshake done: the connection carries SIP */
	CONN_EV_CLOSED,   /* closed, or failed before it opened */
};

/* A watcher embedded in whoever waits on a connection (a transaction). */
struct conn_watch {
	void (*notify)(struct conn_watch *w, struct conn *c, enum conn_event ev);
	TAILQ_ENTRY(conn_watch) link; /* in the connection's watcher list */
	struct conn *conn;             /* borrowed while attached */
};

/* The SIP layer above all connections. */
struct conn_handler {
	/* A complete, framed message (ownership passes). */
	void (*message)(struct conn *c, msg_t *msg);
	/* The stream failed with a message that may be answerable: status 400
	 * or 413; msg (owned, possibly NULL) is what was parsed of it. The
	 * connection closes after the handler returns. */
	void (*stream_error)(struct conn *c, msg_t *msg, int status, const char *phrase);
};

void conn_set_handler(const struct conn_handler *h);

/* Accept a socket from a listener. pat_node names the node behind the
 * public port it came in on (NULL for the main ports). The connection keeps
 * a reference to cfg (the snapshot current at accept time). NULL on
 * failure (fd closed). */
struct conn *conn_accept(struct ev_loop *loop, int fd, const struct sockaddr *peer,
			 socklen_t peerlen, enum conn_side side, enum transport transport,
			 const char *pat_node, struct config *cfg);

/* Dial ip:port. With TLS, server_name is sent as SNI and the peer's
 * certificate must name it. Output written before the connection opens is
 * kept and sent once it does. NULL on immediate failure (errno set). */
struct conn *conn_connect(struct ev_loop *loop, const char *ip, uint16_t port,
			  const char *server_name, enum conn_side side,
			  enum transport transport, struct config *cfg);

/* Queue bytes for sending. 0, or -EPIPE when the connection is closed,
 * -ENOBUFS when its output backlog is over the limit (it is then closed). */
int conn_send(struct conn *c, const char *data, size_t len);

void conn_close(struct conn *c, const char *why);
/* A transaction will answer on c (pin) or is done with it (unpin): after a
 * framing error the connection stays open until the answers it owes are
 * out. */
void conn_pin(struct conn *c);
void conn_unpin(struct conn *c);
struct conn *conn_ref(struct conn *c);
void conn_unref(struct conn *c);

void conn_watch(struct conn *c, struct conn_watch *w);
void conn_unwatch(struct conn_watch *w);

/* Lookups for connection reuse. All return a borrowed pointer or NULL. */
struct conn *conn_by_id(uint64_t id);
/* An open or opening outbound connection to ip:port on this side. */
struct conn *conn_find_outbound(enum conn_side side, enum transport transport,
				const char *ip, uint16_t port, const char *server_name);
/* An open, authenticated external TLS connection whose peer certificate
 * names host (RFC 6125 DNS-ID, else CN). */
struct conn *conn_find_by_peer_name(const char *host);

/* Accessors. */
uint64_t conn_id(const struct conn *c);
enum conn_side conn_side(const struct conn *c);
enum conn_state conn_state(const struct conn *c);
enum transport conn_transport(const struct conn *c);
bool conn_is_outbound(const struct conn *c);
/* It reached CONN_OPEN at some point (false: it failed connecting or in
 * its handshake). */
bool conn_was_open(const struct conn *c);
const char *conn_peer(const struct conn *c);   /* "ip:port" */
const char *conn_pat_node(const struct conn *c); /* see conn_accept */
const char *conn_peer_ip(const struct conn *c);
uint16_t conn_peer_port(const struct conn *c);
struct config *conn_config(const struct conn *c); /* borrowed */
/* The verified peer certificate's DNS names (or CN), NULL-terminated. */
const char *const *conn_peer_names(const struct conn *c);

/* For transport implementations. */
int conn_fd(const struct conn *c);
void *conn_transport_data(const struct conn *c);
void conn_set_transport_data(struct conn *c, void *data);
const char *conn_server_name(const struct conn *c);
void conn_set_peer_names(struct conn *c, char **names); /* takes ownership */
void conn_set_fail_reason(struct conn *c, const char *why);
const char *conn_fail_reason(const struct conn *c);

/* What `fedproxyctl connections` shows of one connection. */
struct conn_info {
	uint64_t id;
	const char *peer;          /* "ip:port" */
	enum conn_side side;
	enum transport transport;
	bool outbound;
	enum conn_state state;
	const char *peer_name;     /* first certificate name, or NULL */
	const char *domain;        /* last foreign domain it spoke for, or NULL */
	double age, idle;          /* seconds */
	unsigned long msgs_in, msgs_out;
};

/* Call fn for every live connection. */
void conn_foreach(void (*fn)(const struct conn_info *info, void *arg), void *arg);
/* The foreign domain the connection last carried an allowed request for. */
void conn_set_domain(struct conn *c, const char *domain);
/* One more SIP message went out on it. */
void conn_count_sent(struct conn *c);

/* When cfg comes into force (start, reload): verify the peer chain of every
 * open TLS connection again against cfg's trust (CA bundles, CRLs) and
 * close those that fail, with a log line each. A handshake still under way
 * is checked against cfg when it completes. */
void conn_recheck_peers(struct config *cfg);
/* Close every connection (shutdown). */
void conn_close_all(const char *why);
unsigned conn_count(void);

#endif
