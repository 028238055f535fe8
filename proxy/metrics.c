/* metrics: /metrics over libmicrohttpd on the libev loop (see metrics.h). */
#include "metrics.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "conn.h"
#include "log.h"
#include "stats.h"
#include "txn.h"

/* Scrapers are few; more concurrent clients than this are refused. */
#define MAX_CLIENTS 8

/* A running endpoint: the daemon and the address it listens on (daemon
 * NULL: none). */
struct endpoint {
	struct MHD_Daemon *daemon;
	char host[INET_ADDRSTRLEN];
	uint16_t port;
};

static struct ev_loop *loop;
static struct endpoint active;
/* Started by metrics_prepare for a reload, until commit or abort. */
static struct endpoint staged;
static bool staged_change;       /* the prepared config names another address */
static ev_io epoll_io;           /* on active.daemon's epoll descriptor */
static ev_timer mhd_timer;       /* active.daemon's next timeout */

static void rearm(void)
{
	MHD_UNSIGNED_LONG_LONG ms;

	ev_timer_stop(loop, &mhd_timer);
	if (MHD_get_timeout(active.daemon, &ms) == MHD_YES) {
		ev_timer_set(&mhd_timer, ms / 1000.0, 0.);
		ev_timer_start(loop, &mhd_timer);
	}
}

static void drive(struct ev_loop *l, ev_io *w, int revents)
{
	MHD_run(active.daemon);
	rearm();
}

static void drive_timer(struct ev_loop *l, ev_timer *w, int revents)
{
	MHD_run(active.daemon);
	rearm();
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *mc, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct MHD_Response *resp;
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	enum MHD_Result r;
	bool found = !strcmp(url, "/metrics") && !strcmp(method, "GET");

	out = open_memstream(&body, &len);
	if (!out)
		return MHD_NO;
	if (found) {
		stats_write_prometheus(out);
		fprintf(out, "# HELP fedproxy_connections Open connections.\n"
			     "# TYPE fedproxy_connections gauge\nfedproxy_connections %u\n"
			     "# HELP fedproxy_transactions Transactions alive.\n"
			     "# TYPE fedproxy_transactions gauge\nfedproxy_transactions %u\n",
			conn_count(), txn_count());
	} else {
		fprintf(out, "not found: try GET /metrics\n");
	}
	fclose(out);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type",
				found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
	r = MHD_queue_response(mc, found ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, resp);
	MHD_destroy_response(resp);
	return r;
}

/* Start a daemon on hp into e (not yet driven). 0 or -1 after logging. */
static int endpoint_open(const struct hostport *hp, struct endpoint *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	if (inet_pton(AF_INET, hp->host, &sa.sin_addr) != 1) {
		log_error("[control] metrics must be an IPv4 address and port");
		return -1;
	}
	sa.sin_port = htons(hp->port);
	e->daemon = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, answer, NULL,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CLIENTS,
				     MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!e->daemon || !MHD_get_daemon_info(e->daemon, MHD_DAEMON_INFO_EPOLL_FD)) {
		log_error("metrics: cannot listen on %s:%u", hp->host, hp->port);
		if (e->daemon)
			MHD_stop_daemon(e->daemon);
		e->daemon = NULL;
		return -1;
	}
	snprintf(e->host, sizeof(e->host), "%s", hp->host);
	e->port = hp->port;
	return 0;
}

static void endpoint_close(struct endpoint *e)
{
	if (e->daemon)
		MHD_stop_daemon(e->daemon);
	*e = (struct endpoint){ 0 };
}

static bool same_address(const struct hostport *hp, const struct endpoint *e)
{
	if (!hp->host || !e->daemon)
		return !hp->host && !e->daemon;
	return hp->port == e->port && !strcmp(hp->host, e->host);
}

int metrics_prepare(struct ev_loop *l, const struct config *cfg)
{
	loop = l;
	staged_change = !same_address(&cfg->metrics_listen, &active);
	if (!staged_change || !cfg->metrics_listen.host)
		return 0;
	return endpoint_open(&cfg->metrics_listen, &staged);
}

void metrics_commit(void)
{
	if (!staged_change)
		return;
	staged_change = false;
	metrics_stop();
	active = staged;
	staged = (struct endpoint){ 0 };
	if (!active.daemon) {
		log_info("metrics endpoint closed");
		return;
	}
	/* endpoint_open made sure the daemon has its epoll descriptor. */
	ev_io_init(&epoll_io, drive,
		   MHD_get_daemon_info(active.daemon, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd, EV_READ);
	ev_io_start(loop, &epoll_io);
	ev_timer_init(&mhd_timer, drive_timer, 0., 0.);
	rearm();
	log_info("metrics on http://%s:%u/metrics", active.host, active.port);
}

void metrics_abort(void)
{
	staged_change = false;
	endpoint_close(&staged);
}

void metrics_stop(void)
{
	if (active.daemon) {
		ev_io_stop(loop, &epoll_io);
		ev_timer_stop(loop, &mhd_timer);
	}
	endpoint_close(&active);
}
