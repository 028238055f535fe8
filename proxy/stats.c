/* stats: counters (see stats.h). */
#include "stats.h"

#include <string.h>
#include <strings.h>

#define NAMED_MAX 64

/* Methods counted by name; anything else is "other". */
static const char *const methods[] = {
	"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "MESSAGE", "INFO", "SUBSCRIBE",
	"NOTIFY", "BENOTIFY", "PUBLISH", "REFER", "UPDATE", "PRACK", "NEGOTIATE", "other",
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static const char *const decisions[STATS_DECISIONS] = {
	[STATS_FORWARD] = "forward",
	[STATS_DENY] = "deny",
	[STATS_REJECT] = "reject",
	[STATS_ANSWER] = "answer",
};

/* A counter per name, for names known only at run time. */
struct named {
	char name[96];
	unsigned long count;
};

struct named_table {
	struct named rows[NAMED_MAX];
	size_t n;
	unsigned long other;
};

static unsigned long requests[N_METHODS][STATS_DECISIONS];
static unsigned long responses[7]; /* by class: [1]..[6] */
static unsigned long handshakes_ok;
static struct named_table handshake_failures;
static unsigned long reloads[2]; /* [0] failed, [1] ok */
static struct named_table translations;

static void count_named(struct named_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->rows[i].name, name) == 0) {
			t->rows[i].count++;
			return;
		}
	}
	if (t->n == NAMED_MAX) {
		t->other++;
		return;
	}
	snprintf(t->rows[t->n].name, sizeof(t->rows[t->n].name), "%s", name);
	t->rows[t->n++].count = 1;
}

void stats_request(const char *method, enum stats_decision d)
{
	size_t m = 0;

	while (m < N_METHODS - 1 && strcasecmp(methods[m], method) != 0)
		m++;
	requests[m][d]++;
}

void stats_response(int status)
{
	if (status >= 100 && status < 700)
		responses[status / 100]++;
}

void stats_handshake(const char *reason)
{
	if (reason)
		count_named(&handshake_failures, reason);
	else
		handshakes_ok++;
}

void stats_reload(bool ok)
{
	reloads[ok]++;
}

unsigned long stats_reloads(bool ok)
{
	return reloads[ok];
}

void stats_translation(const char *row)
{
	count_named(&translations, row);
}

void stats_write_text(FILE *out)
{
	fprintf(out, "requests (method decision count):\n");
	for (size_t m = 0; m < N_METHODS; m++)
		for (int d = 0; d < STATS_DECISIONS; d++)
			if (requests[m][d])
				fprintf(out, "  %-10s %-8s %lu\n", methods[m], decisions[d], requests[m][d]);
	fprintf(out, "responses sent upstream:\n");
	for (int c = 1; c <= 6; c++)
		fprintf(out, "  %dxx %lu\n", c, responses[c]);
	fprintf(out, "tls handshakes:\n  ok %lu\n", handshakes_ok);
	for (size_t i = 0; i < handshake_failures.n; i++)
		fprintf(out, "  failed: %s %lu\n", handshake_failures.rows[i].name,
			handshake_failures.rows[i].count);
	fprintf(out, "reloads:\n  ok %lu\n  failed %lu\n", reloads[1], reloads[0]);
	fprintf(out, "presence translations (mapping row count):\n");
	for (size_t i = 0; i < translations.n; i++)
		fprintf(out, "  %s %lu\n", translations.rows[i].name, translations.rows[i].count);
}

/* A label value with '\', '"' and newlines escaped (Prometheus text format). */
static void write_label(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

/* One sample per name; `label` is the label list up to the name's label. */
static void write_named(FILE *out, const char *metric, const char *label,
			const struct named_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		fprintf(out, "%s{%s=\"", metric, label);
		write_label(out, t->rows[i].name);
		fprintf(out, "\"} %lu\n", t->rows[i].count);
	}
	if (t->other)
		fprintf(out, "%s{%s=\"other\"} %lu\n", metric, label, t->other);
}

void stats_write_prometheus(FILE *out)
{
	fprintf(out, "# HELP fedproxy_requests_total SIP requests received, by method and decision.\n"
		     "# TYPE fedproxy_requests_total counter\n");
	for (size_t m = 0; m < N_METHODS; m++)
		for (int d = 0; d < STATS_DECISIONS; d++)
			fprintf(out, "fedproxy_requests_total{method=\"%s\",decision=\"%s\"} %lu\n",
				methods[m], decisions[d], requests[m][d]);
	fprintf(out, "# HELP fedproxy_responses_total SIP responses sent upstream, by class.\n"
		     "# TYPE fedproxy_responses_total counter\n");
	for (int c = 1; c <= 6; c++)
		fprintf(out, "fedproxy_responses_total{class=\"%dxx\"} %lu\n", c, responses[c]);
	fprintf(out, "# HELP fedproxy_tls_handshakes_total TLS handshakes, by outcome and reason.\n"
		     "# TYPE fedproxy_tls_handshakes_total counter\n"
		     "fedproxy_tls_handshakes_total{outcome=\"ok\",reason=\"\"} %lu\n",
		handshakes_ok);
	write_named(out, "fedproxy_tls_handshakes_total", "outcome=\"failed\",reason",
		    &handshake_failures);
	fprintf(out, "# HELP fedproxy_reloads_total Configuration reloads, by outcome.\n"
		     "# TYPE fedproxy_reloads_total counter\n"
		     "fedproxy_reloads_total{outcome=\"ok\"} %lu\n"
		     "fedproxy_reloads_total{outcome=\"failed\"} %lu\n",
		reloads[1], reloads[0]);
	fprintf(out, "# HELP fedproxy_translations_total Presence documents translated, by mapping row.\n"
		     "# TYPE fedproxy_translations_total counter\n");
	write_named(out, "fedproxy_translations_total", "row", &translations);
}
