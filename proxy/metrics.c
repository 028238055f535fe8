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

static struct ev_loop *loop;
static struct MHD_Daemon *daemon_;
static ev_io epoll_io;
static ev_timer mhd_timer;

static void rearm(void)
{
	MHD_UNSIGNED_LONG_LONG ms;

	ev_timer_stop(loop, &mhd_timer);
	if (MHD_get_timeout(daemon_, &ms) == MHD_YES) {
		ev_timer_set(&mhd_timer, ms / 1000.0, 0.);
		ev_timer_start(loop, &mhd_timer);
	}
}

static void drive(struct ev_loop *l, ev_io *w, int revents)
{
	MHD_run(daemon_);
	rearm();
}

static void drive_timer(struct ev_loop *l, ev_timer *w, int revents)
{
	MHD_run(daemon_);
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

int metrics_start(struct ev_loop *l, const struct config *cfg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;

	loop = l;
	if (!cfg->metrics_listen.host)
		return 0;
	if (inet_pton(AF_INET, cfg->metrics_listen.host, &sa.sin_addr) != 1) {
		log_error("[control] metrics must be an IPv4 address and port");
		return -1;
	}
	sa.sin_port = htons(cfg->metrics_listen.port);
	daemon_ = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, answer,
				   NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CLIENTS,
				   MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	info = daemon_ ? MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		log_error("metrics: cannot listen on %s:%u", cfg->metrics_listen.host,
			  cfg->metrics_listen.port);
		return -1;
	}
	ev_io_init(&epoll_io, drive, info->epoll_fd, EV_READ);
	ev_io_start(loop, &epoll_io);
	ev_timer_init(&mhd_timer, drive_timer, 0., 0.);
	rearm();
	log_info("metrics on http://%s:%u/metrics", cfg->metrics_listen.host,
		 cfg->metrics_listen.port);
	return 0;
}

void metrics_stop(void)
{
	if (!daemon_)
		return;
	ev_io_stop(loop, &epoll_io);
	ev_timer_stop(loop, &mhd_timer);
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
