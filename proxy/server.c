/* server: listeners, reload and shutdown (see server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "dns.h"
#include "log.h"
#include "request.h"
#include "txn.h"

/* How often draining looks whether the last transaction has finished. */
#define DRAIN_POLL_SECONDS 0.1
/* After accept() ran out of descriptors, pause accepting this long. */
#define ACCEPT_BACKOFF_SECONDS 1.0
#define LISTEN_BACKLOG 511

struct listener {
	ev_io io;
	ev_timer backoff;         /* re-enables io after EMFILE */
	int fd;
	enum conn_side side;
	enum transport transport;
	char addr[300];           /* "ip:port", for logs and comparison */
};

static struct ev_loop *loop;
static struct server_source source;
static struct config *current;              /* refcounted */
static struct listener *listeners[2];       /* owned, by enum conn_side */
static ev_signal sighup, sigterm, sigint;
static ev_timer drain_timer;
static ev_tstamp drain_deadline;

static void accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct listener *ls = (struct listener *)w;

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(ls->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			conn_accept(l, fd, (struct sockaddr *)&peer, len, ls->side, ls->transport,
				    current);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("listener %s: out of descriptors, pausing accept", ls->addr);
			ev_io_stop(l, &ls->io);
			ev_timer_start(l, &ls->backoff);
		}
		return;
	}
}

static void backoff_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct listener *ls = (struct listener *)((char *)w - offsetof(struct listener, backoff));

	ev_io_start(l, &ls->io);
}

static int make_sockaddr(const struct hostport *hp, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, hp->host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(hp->port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, hp->host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(hp->port);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

static struct listener *listener_open(const struct hostport *hp, enum conn_side side,
				      enum transport transport)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	struct listener *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return NULL;
	snprintf(ls->addr, sizeof(ls->addr), "%s:%u", hp->host, hp->port);
	ls->side = side;
	ls->transport = transport;
	if (make_sockaddr(hp, &ss, &len) < 0) {
		log_error("listen %s: not an IP address", ls->addr);
		goto out_free;
	}
	ls->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls->fd < 0)
		goto out_error;
	setsockopt(ls->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls->fd, (struct sockaddr *)&ss, len) < 0 || listen(ls->fd, LISTEN_BACKLOG) < 0)
		goto out_close;
	ev_io_init(&ls->io, accept_cb, ls->fd, EV_READ);
	ev_timer_init(&ls->backoff, backoff_cb, ACCEPT_BACKOFF_SECONDS, 0.);
	ev_io_start(loop, &ls->io);
	log_info("listening on %s (%s, %s)", ls->addr, transport == TRANSPORT_TLS ? "tls" : "tcp",
		 side == SIDE_EXTERNAL ? "external" : "internal");
	return ls;
out_close:
	close(ls->fd);
out_error:
	log_error("listen %s: %s", ls->addr, strerror(errno));
out_free:
	free(ls);
	return NULL;
}

static void listener_close(struct listener *ls)
{
	if (!ls)
		return;
	ev_io_stop(loop, &ls->io);
	ev_timer_stop(loop, &ls->backoff);
	close(ls->fd);
	free(ls);
}

/* Listener wanted for one side under cfg. */
static void side_spec(const struct config *cfg, enum conn_side side, const struct hostport **hp,
		      enum transport *tp)
{
	*hp = side == SIDE_EXTERNAL ? &cfg->external_listen : &cfg->internal_listen;
	*tp = side == SIDE_EXTERNAL ? TRANSPORT_TLS : cfg->internal_transport;
}

static bool listener_matches(const struct listener *ls, const struct hostport *hp,
			     enum transport tp)
{
	char addr[300];

	snprintf(addr, sizeof(addr), "%s:%u", hp->host, hp->port);
	return ls && ls->transport == tp && strcmp(ls->addr, addr) == 0;
}

/* Open what the new snapshot needs before closing what it drops, so a
 * reload that cannot bind changes nothing. */
static int apply_listeners(const struct config *cfg)
{
	struct listener *fresh[2] = { NULL, NULL };

	for (int side = 0; side < 2; side++) {
		const struct hostport *hp;
		enum transport tp;

		side_spec(cfg, side, &hp, &tp);
		if (listener_matches(listeners[side], hp, tp))
			continue;
		fresh[side] = listener_open(hp, side, tp);
		if (!fresh[side]) {
			listener_close(fresh[0]);
			return -1;
		}
	}
	for (int side = 0; side < 2; side++) {
		if (!fresh[side])
			continue;
		listener_close(listeners[side]);
		listeners[side] = fresh[side];
	}
	return 0;
}

static struct config *load_config(void)
{
	if (source.file)
		return config_load_file(source.file);
	return config_load_text("(built-in fedproxy.conf)", source.default_text);
}

static void install(struct config *cfg)
{
	const char *old = current ? current->dns_servers : NULL;
	const char *new = cfg->dns_servers;

	if (current && (old ? !new || strcmp(old, new) : new != NULL))
		dns_set_servers(new);
	config_unref(current);
	current = cfg;
	log_set_level(cfg->log_level);
	request_set_config(cfg);
}

int server_reload(void)
{
	struct config *cfg = load_config();

	if (!cfg) {
		log_error("reload failed: keeping the running configuration");
		return -1;
	}
	if (apply_listeners(cfg) < 0) {
		log_error("reload failed: cannot open the new listeners; keeping the running configuration");
		config_unref(cfg);
		return -1;
	}
	install(cfg);
	log_info("reload done: %s (%zu nodes, %zu static routes)", cfg->file, cfg->n_nodes,
		 cfg->n_routes);
	return 0;
}

static void sighup_cb(struct ev_loop *l, ev_signal *w, int revents)
{
	log_info("SIGHUP: reloading");
	server_reload();
}

static void drain_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	if (txn_open_count() > 0 && ev_now(l) < drain_deadline)
		return;
	if (txn_open_count() > 0)
		log_warn("drain timeout: %u transactions abandoned", txn_open_count());
	ev_timer_stop(l, w);
	conn_close_all("shutting down");
	ev_break(l, EVBREAK_ALL);
}

static void sigterm_cb(struct ev_loop *l, ev_signal *w, int revents)
{
	if (ev_is_active(&drain_timer))
		return;
	log_info("signal %d: no new connections; draining %u transactions", w->signum,
		 txn_open_count());
	for (int side = 0; side < 2; side++) {
		listener_close(listeners[side]);
		listeners[side] = NULL;
	}
	drain_deadline = ev_now(l) + current->drain_timeout;
	ev_timer_init(&drain_timer, drain_cb, 0., DRAIN_POLL_SECONDS);
	ev_timer_again(l, &drain_timer);
	drain_cb(l, &drain_timer, 0);
}

int server_start(struct ev_loop *l, const struct server_source *src)
{
	struct config *cfg;

	loop = l;
	source = *src;
	signal(SIGPIPE, SIG_IGN);
	request_init(l);
	cfg = load_config();
	if (!cfg)
		return -1;
	if (dns_init(l, cfg->dns_servers) < 0 || apply_listeners(cfg) < 0) {
		config_unref(cfg);
		return -1;
	}
	install(cfg);
	ev_signal_init(&sighup, sighup_cb, SIGHUP);
	ev_signal_init(&sigterm, sigterm_cb, SIGTERM);
	ev_signal_init(&sigint, sigterm_cb, SIGINT);
	ev_signal_start(l, &sighup);
	ev_signal_start(l, &sigterm);
	ev_signal_start(l, &sigint);
	return 0;
}
