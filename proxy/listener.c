/* listener: listening sockets and their reconciliation (see listener.h). */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

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
	char *node;               /* owned: PAT node of this port, or NULL */
	bool wanted;              /* asked for by the snapshot being applied */
	char *wanted_node;        /* owned: its node there, until committed */
	struct listener *next;
};

static struct ev_loop *loop;
static struct listener *listeners; /* owned list */
static struct config *current;     /* refcounted: given to new connections */

static void accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct listener *ls = (struct listener *)w;

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(ls->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			conn_accept(l, fd, (struct sockaddr *)&peer, len, ls->side, ls->transport,
				    ls->node, current);
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

static int make_sockaddr(const char *ip, uint16_t port, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

static struct listener *open_listener(const char *ip, uint16_t port, enum conn_side side,
				      enum transport transport)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	struct listener *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return NULL;
	snprintf(ls->addr, sizeof(ls->addr), "%s:%u", ip, port);
	ls->side = side;
	ls->transport = transport;
	if (make_sockaddr(ip, port, &ss, &len) < 0) {
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
	return ls;
out_close:
	close(ls->fd);
out_error:
	log_error("listen %s: %s", ls->addr, strerror(errno));
out_free:
	free(ls);
	return NULL;
}

static void free_listener(struct listener *ls)
{
	ev_io_stop(loop, &ls->io);
	ev_timer_stop(loop, &ls->backoff);
	close(ls->fd);
	free(ls->node);
	free(ls->wanted_node);
	free(ls);
}

static struct listener *find(struct listener *list, const char *addr, enum conn_side side,
			     enum transport transport)
{
	for (struct listener *ls = list; ls; ls = ls->next)
		if (ls->side == side && ls->transport == transport && !strcmp(ls->addr, addr))
			return ls;
	return NULL;
}

/* Ask for one listener: keep the running one, or open it into *fresh. */
static int want(struct listener **fresh, const char *ip, uint16_t port, enum conn_side side,
		enum transport transport, const char *node)
{
	char addr[300];
	struct listener *ls;

	snprintf(addr, sizeof(addr), "%s:%u", ip, port);
	ls = find(listeners, addr, side, transport);
	if (!ls) {
		ls = open_listener(ip, port, side, transport);
		if (!ls)
			return -1;
		ls->next = *fresh;
		*fresh = ls;
	}
	ls->wanted = true;
	free(ls->wanted_node);
	ls->wanted_node = node ? strdup(node) : NULL;
	return 0;
}

/* Commit: kept listeners take their new node, the others go. */
static void drop_unwanted(struct listener **list)
{
	for (struct listener **pp = list; *pp;) {
		struct listener *ls = *pp;

		if (ls->wanted) {
			ls->wanted = false;
			free(ls->node);
			ls->node = ls->wanted_node;
			ls->wanted_node = NULL;
			pp = &ls->next;
			continue;
		}
		log_info("stopped listening on %s", ls->addr);
		*pp = ls->next;
		free_listener(ls);
	}
}

int listeners_apply(struct ev_loop *l, struct config *cfg)
{
	struct listener *fresh = NULL;
	const char *ext_ip = cfg->external_listen.host;
	int r = want(&fresh, ext_ip, cfg->external_listen.port, SIDE_EXTERNAL, TRANSPORT_TLS, NULL);

	loop = l;
	for (size_t i = 0; r == 0 && i < cfg->n_nodes; i++)
		if (cfg->nodes[i].public_port)
			r = want(&fresh, ext_ip, cfg->nodes[i].public_port, SIDE_EXTERNAL,
				 TRANSPORT_TLS, cfg->nodes[i].name);
	if (r == 0)
		r = want(&fresh, cfg->internal_listen.host, cfg->internal_listen.port, SIDE_INTERNAL,
			 cfg->internal_transport, NULL);
	if (r < 0) {
		/* Undo: the running set stays as it was. */
		for (struct listener *ls = listeners; ls; ls = ls->next) {
			ls->wanted = false;
			free(ls->wanted_node);
			ls->wanted_node = NULL;
		}
		while (fresh) {
			struct listener *next = fresh->next;

			free_listener(fresh);
			fresh = next;
		}
		return -1;
	}
	drop_unwanted(&listeners);
	while (fresh) {
		struct listener *ls = fresh;

		fresh = ls->next;
		ls->wanted = false;
		ls->node = ls->wanted_node;
		ls->wanted_node = NULL;
		ls->next = listeners;
		listeners = ls;
		ev_io_start(loop, &ls->io);
		log_info("listening on %s (%s, %s%s%s)", ls->addr,
			 ls->transport == TRANSPORT_TLS ? "tls" : "tcp",
			 ls->side == SIDE_EXTERNAL ? "external" : "internal",
			 ls->node ? ", node " : "", ls->node ? ls->node : "");
	}
	config_unref(current);
	current = config_ref(cfg);
	return 0;
}

void listeners_close_all(void)
{
	while (listeners) {
		struct listener *ls = listeners;

		listeners = ls->next;
		free_listener(ls);
	}
	config_unref(current);
	current = NULL;
}
