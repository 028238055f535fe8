/* server: listeners, reload and shutdown (see server.h). */
#include "server.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "conn.h"
#include "control.h"
#include "dns.h"
#include "health.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "stats.h"
#include "txn.h"

/* How often draining looks whether the last transaction has finished. */
#define DRAIN_POLL_SECONDS 0.1

static struct ev_loop *loop;
static struct server_source source;
static struct config *current;              /* refcounted */
static ev_signal sighup, sigterm, sigint;
static ev_timer drain_timer;
static ev_tstamp drain_deadline;
static ev_tstamp started;
static char last_reload_error[600];

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
	health_apply(cfg);
	/* A certificate the new CRL revokes (or a CA no longer trusted) must
	 * not keep the connections it opened before. */
	conn_recheck_peers(cfg);
}

/* The sockets cfg names: the control socket and /metrics are opened
 * first and dropped again if the SIP listeners cannot follow, so that a
 * failure changes nothing. 0 or -1 (logged). */
static int open_sockets(struct config *cfg)
{
	if (control_prepare(loop, cfg) < 0 || metrics_prepare(loop, cfg) < 0 ||
	    listeners_apply(loop, cfg) < 0) {
		control_abort();
		metrics_abort();
		return -1;
	}
	control_commit();
	metrics_commit();
	return 0;
}

static void reload_failed(const char *why)
{
	stats_reload(false);
	snprintf(last_reload_error, sizeof(last_reload_error), "%s", why);
}

struct config *server_config(void)
{
	return current;
}

double server_uptime(void)
{
	return ev_now(loop) - started;
}

const char *server_last_reload_error(void)
{
	return last_reload_error[0] ? last_reload_error : NULL;
}

int server_reload(void)
{
	struct config *cfg = load_config();

	if (!cfg) {
		log_error("reload failed: keeping the running configuration");
		reload_failed(config_first_error());
		return -1;
	}
	if (open_sockets(cfg) < 0) {
		log_error("reload failed: cannot open the new sockets; keeping the running configuration");
		config_unref(cfg);
		reload_failed("cannot open the new listeners, control socket or metrics address (see the log)");
		return -1;
	}
	install(cfg);
	stats_reload(true);
	last_reload_error[0] = '\0';
	log_info("reload done: %s (%zu nodes, %zu static routes)", cfg->file, cfg->n_nodes,
		 cfg->n_routes);
	return 0;
}

static void sighup_cb(struct ev_loop *l, ev_signal *w, int revents)
{
	log_info("SIGHUP: reloading");
	/* systemd (Type=notify) hears when a reload starts and ends. */
	sd_notify(0, "RELOADING=1");
	server_reload();
	sd_notify(0, "READY=1");
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
	sd_notify(0, "STOPPING=1");
	listeners_close_all();
	control_stop();
	metrics_stop();
	health_stop();
	drain_deadline = ev_now(l) + current->drain_timeout;
	ev_timer_init(&drain_timer, drain_cb, 0., DRAIN_POLL_SECONDS);
	ev_timer_again(l, &drain_timer);
	drain_cb(l, &drain_timer, 0);
}

/* After the sockets are bound: run as the configured unprivileged user.
 * What reloads later read (certificates, keys) must be readable by it. */
static int drop_privileges(const char *user)
{
	struct passwd *pw;

	if (!user || getuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		log_error("[proxy] user %s: no such user", user);
		return -1;
	}
	if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		log_error("cannot become user %s: %s", user, strerror(errno));
		return -1;
	}
	log_info("running as user %s", user);
	return 0;
}

int server_start(struct ev_loop *l, const struct server_source *src)
{
	struct config *cfg;

	loop = l;
	source = *src;
	signal(SIGPIPE, SIG_IGN);
	request_init(l);
	health_init(l);
	cfg = load_config();
	if (!cfg)
		return -1;
	started = ev_now(l);
	if (dns_init(l, cfg->dns_servers) < 0 || open_sockets(cfg) < 0) {
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
	if (drop_privileges(cfg->user) < 0)
		return -1;
	sd_notify(0, "READY=1");
	return 0;
}
