/* control: the control socket (see control.h). Answers are built whole in
 * memory (open_memstream) and written as the client reads them. */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "health.h"
#include "log.h"
#include "server.h"
#include "stats.h"
#include "txn.h"

/* A command line is short; a client that sends more is not one of ours. */
#define COMMAND_MAX 256
/* A client that has not sent its command by then is dropped. */
#define CLIENT_TIMEOUT 5.0

struct client {
	ev_io io;
	ev_timer timer;
	int fd;
	char command[COMMAND_MAX];
	size_t command_len;
	char *answer;                /* owned */
	size_t answer_len, answer_sent;
};

/* A listening control socket; fd -1 when there is none. */
struct endpoint {
	int fd;
	char *path; /* owned */
};

static struct ev_loop *loop;
static ev_io listen_io;          /* on active.fd while it is open */
static struct endpoint active = { -1, NULL };
/* Opened by control_prepare for a reload, until commit or abort. */
static struct endpoint staged = { -1, NULL };
static bool staged_change;       /* the prepared config names another path */

static void client_free(struct client *cl)
{
	ev_io_stop(loop, &cl->io);
	ev_timer_stop(loop, &cl->timer);
	close(cl->fd);
	free(cl->answer);
	free(cl);
}

static const char *side_name(enum conn_side s)
{
	return s == SIDE_EXTERNAL ? "external" : "internal";
}

static void write_connection(const struct conn_info *ci, void *arg)
{
	FILE *out = arg;

	fprintf(out, "%-22s %-8s %-8s %-4s %-28s %-24s %8.0f %8.0f %8lu %8lu\n", ci->peer,
		side_name(ci->side), ci->outbound ? "outbound" : "inbound",
		ci->transport == TRANSPORT_TLS ? "tls" : "tcp",
		ci->peer_name ? ci->peer_name : "-", ci->domain ? ci->domain : "-", ci->age,
		ci->idle, ci->msgs_in, ci->msgs_out);
}

static void write_status(FILE *out)
{
	const struct config *cfg = server_config();

	fprintf(out, "fedproxy %s, pid %d, up %.0f s\n", FEDPROXY_VERSION, (int)getpid(),
		server_uptime());
	fprintf(out, "config %s\n", cfg->file);
	fprintf(out, "connections %u, transactions %u (%u waiting for a final answer)\n",
		conn_count(), txn_count(), txn_open_count());
	fprintf(out, "reloads ok %lu, failed %lu%s%s\n", stats_reloads(true), stats_reloads(false),
		server_last_reload_error() ? "; last failure: " : "",
		server_last_reload_error() ? server_last_reload_error() : "");
	for (size_t i = 0; i < cfg->n_nodes; i++) {
		const struct config_node *n = &cfg->nodes[i];

		fprintf(out, "node %s %s:%u %s %s public port %u\n", n->name, n->address.uri_host,
			n->address.port,
			n->role == NODE_ROUTING ? "routing" : n->role == NODE_STANDBY ? "standby" : "member",
			health_node_down(n) ? "DOWN" : "up", config_node_public_port(cfg, n));
	}
}

static void run_command(struct client *cl)
{
	FILE *out = open_memstream(&cl->answer, &cl->answer_len);
	char *cmd = cl->command;

	if (!out)
		return;
	cmd[strcspn(cmd, "\r\n")] = '\0';
	if (!strcmp(cmd, "status")) {
		write_status(out);
	} else if (!strcmp(cmd, "connections")) {
		fprintf(out, "%-22s %-8s %-8s %-4s %-28s %-24s %8s %8s %8s %8s\n", "peer", "side",
			"dir", "tp", "certificate", "domain", "age_s", "idle_s", "msgs_in",
			"msgs_out");
		conn_foreach(write_connection, out);
	} else if (!strcmp(cmd, "stats")) {
		stats_write_text(out);
	} else if (!strcmp(cmd, "reload")) {
		log_info("reload asked on the control socket");
		if (server_reload() == 0)
			fprintf(out, "reload ok\n");
		else
			fprintf(out, "reload failed: %s\n", server_last_reload_error());
	} else {
		fprintf(out, "error: unknown command '%s' (status, connections, stats, reload)\n",
			cmd);
	}
	fclose(out);
}

static void client_io(struct ev_loop *l, ev_io *w, int revents)
{
	struct client *cl = (struct client *)w;
	ssize_t n;

	if (!cl->answer) {
		n = read(cl->fd, cl->command + cl->command_len, COMMAND_MAX - 1 - cl->command_len);
		if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
			client_free(cl);
			return;
		}
		if (n < 0)
			return;
		cl->command_len += (size_t)n;
		cl->command[cl->command_len] = '\0';
		if (!strchr(cl->command, '\n') && cl->command_len < COMMAND_MAX - 1)
			return;
		run_command(cl);
		if (!cl->answer) {
			client_free(cl);
			return;
		}
		ev_io_stop(l, &cl->io);
		ev_io_set(&cl->io, cl->fd, EV_WRITE);
		ev_io_start(l, &cl->io);
		return;
	}
	n = write(cl->fd, cl->answer + cl->answer_sent, cl->answer_len - cl->answer_sent);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n > 0)
		cl->answer_sent += (size_t)n;
	if (n <= 0 || cl->answer_sent == cl->answer_len)
		client_free(cl);
}

static void client_timeout(struct ev_loop *l, ev_timer *w, int revents)
{
	client_free((struct client *)((char *)w - offsetof(struct client, timer)));
}

static void accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct client *cl;

	if (fd < 0)
		return;
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return;
	}
	cl->fd = fd;
	ev_io_init(&cl->io, client_io, fd, EV_READ);
	ev_io_start(l, &cl->io);
	ev_timer_init(&cl->timer, client_timeout, CLIENT_TIMEOUT, 0.);
	ev_timer_start(l, &cl->timer);
}

/* Bind and listen on path into e (not yet watched). 0 or -1 after logging. */
static int endpoint_open(const char *path, struct endpoint *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("control socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	e->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* A socket file left by an earlier run would make bind fail. */
	unlink(sa.sun_path);
	if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(e->fd, 16) < 0 || !(e->path = strdup(path))) {
		log_error("control socket %s: %s", sa.sun_path, strerror(errno));
		if (e->fd >= 0)
			close(e->fd);
		e->fd = -1;
		return -1;
	}
	return 0;
}

static void endpoint_close(struct endpoint *e)
{
	if (e->fd < 0)
		return;
	close(e->fd);
	e->fd = -1;
	unlink(e->path);
	free(e->path);
	e->path = NULL;
}

static bool same_path(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int control_prepare(struct ev_loop *l, const struct config *cfg)
{
	loop = l;
	staged_change = !same_path(cfg->control_socket, active.path);
	if (!staged_change || !cfg->control_socket)
		return 0;
	return endpoint_open(cfg->control_socket, &staged);
}

void control_commit(void)
{
	if (!staged_change)
		return;
	staged_change = false;
	control_stop();
	active = staged;
	staged = (struct endpoint){ -1, NULL };
	if (active.fd < 0) {
		log_info("control socket closed");
		return;
	}
	ev_io_init(&listen_io, accept_cb, active.fd, EV_READ);
	ev_io_start(loop, &listen_io);
	log_info("control socket %s", active.path);
}

void control_abort(void)
{
	staged_change = false;
	endpoint_close(&staged);
}

void control_stop(void)
{
	if (active.fd >= 0)
		ev_io_stop(loop, &listen_io);
	endpoint_close(&active);
}
