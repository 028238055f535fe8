/* tlsload: the mutual-TLS load tool of the fedproxy benchmark.
 *
 * Three modes, all on loopback, all bounded in count and time:
 *
 *   tlsload churn ADDR:PORT -n N -c C   N new mutual-TLS connections, at most
 *           C in flight: connect, handshake (our client certificate), send a
 *           CRLF CRLF keep-alive ping, wait for the CRLF pong (so the server
 *           has finished its side of the handshake), close. Prints one line:
 *           "ok=... failed=... secs=... rate=... tls=...".
 *   tlsload hold ADDR:PORT -c C         reads commands on stdin: a number N
 *           means "hold N connections in all" (opened as in churn, then kept
 *           open and idle); "check" counts those the server has closed since.
 *           Connections are spread over worker processes of at most
 *           --per-proc each, so that no process needs more descriptors than
 *           its limit allows. Answers "held=... failed=... secs=..." and
 *           "alive=... closed=...". EOF closes everything.
 *   tlsload serve ADDR:PORT             the baseline: a GnuTLS-only server (one
 *           epoll loop, non-blocking) with the same certificate, CA, priority
 *           string and client-certificate requirement as fedproxy, answering
 *           pings and nothing else, until SIGTERM. Its CPU per handshake is
 *           "GnuTLS's own" cost.
 *
 * Client options: --cert CHAIN --key KEY (presented to the server),
 * --sni NAME, --sources S (spread connections over 127.0.0.1..S, so that
 * tens of thousands of them do not run out of ephemeral ports),
 * --timeout SECONDS (per command). The client does not verify the server's
 * certificate: the server's work is what is measured, and the client should
 * cost as little as possible. Server options: --cert --key --ca --priority.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#define PING "\r\n\r\n"
#define PONG "\r\n"
#define MAX_EVENTS 256

struct opts {
	struct sockaddr_in addr;
	const char *cert, *key, *ca, *sni, *priority;
	long n;            /* churn: connections */
	int conc;          /* connections in flight */
	int sources;       /* 127.0.0.1 .. 127.0.0.<sources> */
	long per_proc;     /* hold: connections per worker process */
	double timeout;    /* seconds per command */
};

static void die(const char *what)
{
	fprintf(stderr, "tlsload: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void gnutls_check(int r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "tlsload: %s: %s\n", what, gnutls_strerror(r));
		exit(2);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the client side: one connection at a time through its states ---- */

enum link_state {
	L_CONNECTING = 0, /* TCP connect in progress */
	L_HANDSHAKE,      /* TLS handshake in progress */
	L_PONG,           /* ping sent, waiting for the pong */
};

struct link {
	int fd;
	enum link_state state;
	gnutls_session_t s; /* owned */
	unsigned pong;      /* pong bytes seen */
	struct link *prev, *next; /* in the client's in-flight list */
};

struct client {
	const struct opts *o;
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	int ep;
	long started, ok, failed, inflight;
	struct link *flying; /* owned: the connections in flight */
	int *held;          /* hold: descriptors kept open, owned */
	long n_held;
	char desc[160];     /* the first session's TLS parameters */
};

static void client_init(struct client *cl, const struct opts *o)
{
	memset(cl, 0, sizeof(*cl));
	cl->o = o;
	gnutls_check(gnutls_certificate_allocate_credentials(&cl->creds), "credentials");
	gnutls_check(gnutls_certificate_set_x509_key_file(cl->creds, o->cert, o->key,
							  GNUTLS_X509_FMT_PEM), o->cert);
	gnutls_check(gnutls_priority_init(&cl->prio, o->priority, NULL), "priority");
	cl->ep = epoll_create1(EPOLL_CLOEXEC);
	if (cl->ep < 0)
		die("epoll_create1");
	strcpy(cl->desc, "-");
}

static void watch(int ep, int op, struct link *l, bool want_write)
{
	struct epoll_event ev = { .events = want_write ? EPOLLOUT : EPOLLIN, .data.ptr = l };

	if (epoll_ctl(ep, op, l->fd, &ev) < 0)
		die("epoll_ctl");
}

static void link_start(struct client *cl)
{
	const struct opts *o = cl->o;
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct link *l = calloc(1, sizeof(*l));
	int one = 1;

	if (!l)
		die("calloc");
	cl->started++;
	cl->inflight++;
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		die("socket");
	/* A port per (source, destination) pair, chosen at connect time. */
	setsockopt(l->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->next = cl->flying;
	if (cl->flying)
		cl->flying->prev = l;
	cl->flying = l;
	src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(cl->started % o->sources));
	if (bind(l->fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		die("bind");
	if (connect(l->fd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) < 0 &&
	    errno != EINPROGRESS)
		die("connect");
	watch(cl->ep, EPOLL_CTL_ADD, l, true);
}

/* The connection is done with (ok or not): keep its descriptor (hold) or
 * close it. The TLS session is no longer needed either way: an idle
 * connection is a socket, and the server cannot tell. */
static void link_end(struct client *cl, struct link *l, bool ok, bool keep)
{
	epoll_ctl(cl->ep, EPOLL_CTL_DEL, l->fd, NULL);
	if (l->prev)
		l->prev->next = l->next;
	else
		cl->flying = l->next;
	if (l->next)
		l->next->prev = l->prev;
	if (ok && !keep && l->s)
		gnutls_bye(l->s, GNUTLS_SHUT_WR); /* best effort, non-blocking */
	if (l->s)
		gnutls_deinit(l->s);
	if (ok && keep)
		cl->held[cl->n_held++] = l->fd;
	else
		close(l->fd);
	if (ok)
		cl->ok++;
	else
		cl->failed++;
	cl->inflight--;
	free(l);
}

static void begin_tls(struct client *cl, struct link *l)
{
	const struct opts *o = cl->o;

	gnutls_check(gnutls_init(&l->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL),
		     "gnutls_init");
	gnutls_priority_set(l->s, cl->prio);
	gnutls_credentials_set(l->s, GNUTLS_CRD_CERTIFICATE, cl->creds);
	gnutls_server_name_set(l->s, GNUTLS_NAME_DNS, o->sni, strlen(o->sni));
	gnutls_transport_set_int(l->s, l->fd);
	l->state = L_HANDSHAKE;
}

/* Advance one connection; false when it has ended. */
static bool link_step(struct client *cl, struct link *l, bool keep)
{
	int r, err = 0;
	socklen_t len = sizeof(err);
	char buf[512];

	switch (l->state) {
	case L_CONNECTING:
		if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			link_end(cl, l, false, keep);
			return false;
		}
		begin_tls(cl, l);
		/* fall through */
	case L_HANDSHAKE:
		r = gnutls_handshake(l->s);
		if (r == GNUTLS_E_AGAIN || (r < 0 && !gnutls_error_is_fatal(r))) {
			watch(cl->ep, EPOLL_CTL_MOD, l, gnutls_record_get_direction(l->s) == 1);
			return true;
		}
		if (r < 0) {
			link_end(cl, l, false, keep);
			return false;
		}
		if (strcmp(cl->desc, "-") == 0) {
			char *d = gnutls_session_get_desc(l->s);

			snprintf(cl->desc, sizeof(cl->desc), "%s", d ? d : "?");
			gnutls_free(d);
		}
		/* A record this small never blocks on a fresh connection. */
		if (gnutls_record_send(l->s, PING, strlen(PING)) != (ssize_t)strlen(PING)) {
			link_end(cl, l, false, keep);
			return false;
		}
		l->state = L_PONG;
		watch(cl->ep, EPOLL_CTL_MOD, l, false);
		/* fall through */
	case L_PONG:
		for (;;) {
			ssize_t n = gnutls_record_recv(l->s, buf, sizeof(buf));

			if (n == GNUTLS_E_AGAIN)
				return true;
			if (n < 0 && !gnutls_error_is_fatal((int)n))
				continue; /* a session ticket, a warning alert */
			if (n <= 0) {
				link_end(cl, l, false, keep);
				return false;
			}
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] == PONG[l->pong % 2])
					l->pong++;
			if (l->pong >= strlen(PONG)) {
				link_end(cl, l, true, keep);
				return false;
			}
		}
	}
	return true;
}

/* Open `count` more connections (keep: hold them); bounded by o->timeout.
 * Failures are counted, not retried. */
static double client_run(struct client *cl, long count, bool keep)
{
	const struct opts *o = cl->o;
	long goal = cl->started + count;
	double t0 = now(), deadline = t0 + o->timeout;
	struct epoll_event evs[MAX_EVENTS];

	if (keep) {
		int *p = realloc(cl->held, (size_t)(cl->n_held + count + 1) * sizeof(int));

		if (!p)
			die("realloc");
		cl->held = p;
	}
	while ((cl->started < goal || cl->inflight > 0) && now() < deadline) {
		while (cl->started < goal && cl->inflight < o->conc)
			link_start(cl);
		int n = epoll_wait(cl->ep, evs, MAX_EVENTS, 100);

		for (int i = 0; i < n; i++)
			link_step(cl, evs[i].data.ptr, keep);
	}
	/* Out of time: what is still in flight, or not started, failed. */
	while (cl->flying)
		link_end(cl, cl->flying, false, keep);
	cl->failed += goal - cl->started;
	cl->started = goal;
	return now() - t0;
}

/* Held connections the server has closed since (FIN, RST or error). */
static long client_check(struct client *cl)
{
	long closed = 0;

	for (long i = 0; i < cl->n_held; i++) {
		struct pollfd p = { .fd = cl->held[i], .events = POLLRDHUP };

		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			closed++;
	}
	return closed;
}

static int do_churn(const struct opts *o)
{
	struct client cl;
	double secs;

	client_init(&cl, o);
	secs = client_run(&cl, o->n, false);
	printf("ok=%ld failed=%ld secs=%.3f rate=%.1f tls=%s\n", cl.ok, cl.failed, secs,
	       secs > 0 ? cl.ok / secs : 0., cl.desc);
	return cl.failed ? 1 : 0;
}

/* ---- hold: workers, each holding its share, driven over pipes ---- */

struct worker {
	pid_t pid;
	FILE *to, *from; /* owned: command and answer pipes */
	long target;
};

/* A worker's loop: "N" (hold N in all), "check". EOF ends it. */
static void worker_main(const struct opts *o, FILE *in, FILE *out)
{
	struct client cl;
	char line[64];

	client_init(&cl, o);
	while (fgets(line, sizeof(line), in)) {
		if (strncmp(line, "check", 5) == 0) {
			fprintf(out, "%ld %ld %s\n", cl.n_held, client_check(&cl), cl.desc);
		} else {
			long want = atol(line) - cl.n_held;

			client_run(&cl, want > 0 ? want : 0, true);
			fprintf(out, "%ld %ld %s\n", cl.n_held, cl.failed, cl.desc);
		}
		fflush(out);
	}
	exit(0);
}

/* Fork worker number nw of ws[]. The child keeps only its own two pipes:
 * a sibling's command pipe left open in another worker would keep that
 * sibling from ever seeing EOF. */
static void worker_spawn(const struct opts *o, struct worker *ws, int nw)
{
	struct worker *w = &ws[nw];
	int down[2], up[2];

	fflush(stdout);
	if (pipe(down) < 0 || pipe(up) < 0)
		die("pipe");
	w->pid = fork();
	if (w->pid < 0)
		die("fork");
	if (w->pid == 0) {
		for (int i = 0; i < nw; i++) {
			fclose(ws[i].to);
			fclose(ws[i].from);
		}
		close(down[1]);
		close(up[0]);
		worker_main(o, fdopen(down[0], "r"), fdopen(up[1], "w"));
	}
	close(down[0]);
	close(up[1]);
	w->to = fdopen(down[1], "w");
	w->from = fdopen(up[0], "r");
	w->target = 0;
}

/* Send every worker the same command; sum the two numbers they answer. */
static void workers_ask(struct worker *ws, int nw, bool check, long *a, long *b,
			char *desc, size_t desclen)
{
	char line[256];

	for (int i = 0; i < nw; i++) {
		if (check)
			fprintf(ws[i].to, "check\n");
		else
			fprintf(ws[i].to, "%ld\n", ws[i].target);
		fflush(ws[i].to);
	}
	*a = *b = 0;
	for (int i = 0; i < nw; i++) {
		long x = 0, y = 0;
		char d[200] = "-";

		if (fgets(line, sizeof(line), ws[i].from))
			sscanf(line, "%ld %ld %199s", &x, &y, d);
		*a += x;
		*b += y;
		if (i == 0)
			snprintf(desc, desclen, "%s", d);
	}
}

static int do_hold(const struct opts *o)
{
	struct worker ws[64];
	int nw = 0;
	char line[64], desc[200];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		long a, b;

		if (strncmp(line, "check", 5) == 0) {
			workers_ask(ws, nw, true, &a, &b, desc, sizeof(desc));
			printf("alive=%ld closed=%ld\n", a - b, b);
			continue;
		}
		long total = atol(line);
		double t0 = now();

		for (long left = total, i = 0; left > 0; left -= o->per_proc, i++) {
			if (i == (long)(sizeof(ws) / sizeof(ws[0])))
				break;
			if (i == nw)
				worker_spawn(o, ws, nw++);
			ws[i].target = left < o->per_proc ? left : o->per_proc;
		}
		workers_ask(ws, nw, false, &a, &b, desc, sizeof(desc));
		printf("held=%ld failed=%ld secs=%.3f tls=%s\n", a, b, now() - t0, desc);
	}
	for (int i = 0; i < nw; i++) {
		fclose(ws[i].to);
		fclose(ws[i].from);
		waitpid(ws[i].pid, NULL, 0);
	}
	return 0;
}

/* ---- serve: the GnuTLS-only baseline server ---- */

struct peer {
	int fd;
	bool open;          /* handshake done */
	unsigned crlf;      /* CR/LF bytes in a row */
	gnutls_session_t s; /* owned */
};

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void peer_close(int ep, struct peer *p)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
	gnutls_deinit(p->s);
	close(p->fd);
	free(p);
}

static void peer_watch(int ep, struct peer *p, int op)
{
	struct epoll_event ev = { .data.ptr = p };

	ev.events = !p->open && gnutls_record_get_direction(p->s) == 1 ? EPOLLOUT : EPOLLIN;
	epoll_ctl(ep, op, p->fd, &ev);
}

/* Handshake, then answer each CRLF CRLF with CRLF, as a SIP server does. */
static void peer_step(int ep, struct peer *p)
{
	char buf[4096];

	if (!p->open) {
		int r = gnutls_handshake(p->s);

		if (r == GNUTLS_E_AGAIN || (r < 0 && !gnutls_error_is_fatal(r))) {
			peer_watch(ep, p, EPOLL_CTL_MOD);
			return;
		}
		if (r < 0) {
			peer_close(ep, p);
			return;
		}
		p->open = true;
		peer_watch(ep, p, EPOLL_CTL_MOD);
	}
	for (;;) {
		ssize_t n = gnutls_record_recv(p->s, buf, sizeof(buf));

		if (n == GNUTLS_E_AGAIN)
			return;
		if (n < 0 && !gnutls_error_is_fatal((int)n))
			continue;
		if (n <= 0) {
			peer_close(ep, p);
			return;
		}
		for (ssize_t i = 0; i < n; i++) {
			p->crlf = (buf[i] == '\r' || buf[i] == '\n') ? p->crlf + 1 : 0;
			if (p->crlf == 4) {
				gnutls_record_send(p->s, PONG, strlen(PONG));
				p->crlf = 0;
			}
		}
	}
}

static int do_serve(const struct opts *o)
{
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	gnutls_datum_t ticket_key;
	struct epoll_event evs[MAX_EVENTS], lev = { .events = EPOLLIN };
	int one = 1, lfd, ep;

	gnutls_check(gnutls_certificate_allocate_credentials(&creds), "credentials");
	gnutls_check(gnutls_certificate_set_x509_trust_file(creds, o->ca, GNUTLS_X509_FMT_PEM),
		     o->ca);
	gnutls_check(gnutls_certificate_set_x509_key_file(creds, o->cert, o->key,
							  GNUTLS_X509_FMT_PEM), o->cert);
	gnutls_check(gnutls_priority_init(&prio, o->priority, NULL), "priority");
	gnutls_check(gnutls_session_ticket_key_generate(&ticket_key), "ticket key");
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) < 0 ||
	    listen(lfd, 511) < 0)
		die("listen");
	ep = epoll_create1(EPOLL_CLOEXEC);
	lev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	while (!stopping) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 200);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr) {
				peer_step(ep, evs[i].data.ptr);
				continue;
			}
			int fd;

			while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				struct peer *p = calloc(1, sizeof(*p));

				if (!p)
					die("calloc");
				p->fd = fd;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				gnutls_init(&p->s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
				gnutls_priority_set(p->s, prio);
				gnutls_credentials_set(p->s, GNUTLS_CRD_CERTIFICATE, creds);
				gnutls_certificate_server_set_request(p->s, GNUTLS_CERT_REQUIRE);
				gnutls_session_set_verify_cert(p->s, NULL, 0);
				gnutls_session_ticket_enable_server(p->s, &ticket_key);
				gnutls_transport_set_int(p->s, fd);
				peer_watch(ep, p, EPOLL_CTL_ADD);
			}
		}
	}
	return 0;
}

/* ---- command line ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: tlsload churn|hold|serve IP:PORT [-n N] [-c C] [--cert F] [--key F]\n"
		"       [--ca F] [--sni NAME] [--priority S] [--sources S] [--per-proc N]\n"
		"       [--timeout SECONDS]\n");
	exit(2);
}

static void parse_addr(const char *s, struct sockaddr_in *a)
{
	char ip[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		usage();
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
		usage();
}

int main(int argc, char **argv)
{
	struct opts o = {
		.sni = "localhost",
		.priority = "NORMAL",
		.n = 1000,
		.conc = 64,
		.sources = 8,
		.per_proc = 15000,
		.timeout = 120,
	};

	if (argc < 3)
		usage();
	parse_addr(argv[2], &o.addr);
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(a, "-n"))
			o.n = atol(v);
		else if (!strcmp(a, "-c"))
			o.conc = atoi(v);
		else if (!strcmp(a, "--cert"))
			o.cert = v;
		else if (!strcmp(a, "--key"))
			o.key = v;
		else if (!strcmp(a, "--ca"))
			o.ca = v;
		else if (!strcmp(a, "--sni"))
			o.sni = v;
		else if (!strcmp(a, "--priority"))
			o.priority = v;
		else if (!strcmp(a, "--sources"))
			o.sources = atoi(v);
		else if (!strcmp(a, "--per-proc"))
			o.per_proc = atol(v);
		else if (!strcmp(a, "--timeout"))
			o.timeout = atof(v);
		else
			usage();
	}
	if (!o.cert || !o.key || o.conc < 1 || o.sources < 1 || o.per_proc < 1 || o.n < 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	gnutls_check(gnutls_global_init(), "gnutls_global_init");
	if (!strcmp(argv[1], "churn"))
		return do_churn(&o);
	if (!strcmp(argv[1], "hold"))
		return do_hold(&o);
	if (!strcmp(argv[1], "serve")) {
		if (!o.ca)
			usage();
		return do_serve(&o);
	}
	usage();
	return 2;
}
