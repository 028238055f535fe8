/* presence_bench: what one presence translation costs (presence.h).
 *
 * Translates a ~1 KB Lync NOTIFY body (PIDF, rpid-status activity, two
 * notes, CIPID, the padding a real server adds) inbound, and a ~1 KB
 * inside PIDF outbound, RUNS times ITERATIONS each, and prints the median
 * run in microseconds of CPU per translation (min and max beside it). Figures
 * only: it never fails a build (DESIGN section 4). The table is the
 * shipped etc/presence-map.conf, or the file named as first argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "presence/presence.h"

#ifndef PRESENCE_MAP
#define PRESENCE_MAP "etc/presence-map.conf"
#endif

#define RUNS 9
#define ITERATIONS 2000
#define WARMUP 500

/* What a Lync edge sends a PIDF-only watcher (reference section 1.3). */
static const char lync_notify[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
	"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\r\n"
	"          xmlns:ep=\"urn:ietf:params:xml:ns:pidf:status:rpid-status\"\r\n"
	"          xmlns:ci=\"urn:ietf:params:xml:ns:pidf:cipid\"\r\n"
	"          entity=\"sip:farah.haddad@fabrikam.example\">\r\n"
	"  <tuple id=\"0\">\r\n"
	"    <status>\r\n"
	"      <basic>open</basic>\r\n"
	"      <ep:activities>\r\n"
	"        <ep:activity>away</ep:activity>\r\n"
	"      </ep:activities>\r\n"
	"    </status>\r\n"
	"    <contact priority=\"1\">sip:farah.haddad@fabrikam.example</contact>\r\n"
	"    <note xml:lang=\"de\">Mittagspause bis 13 Uhr, danach im Gebäude 4, Raum 2.17 "
	"erreichbar. Dringendes bitte per Telefon.</note>\r\n"
	"    <note xml:lang=\"en\">Lunch break until 1 pm, then in building 4, room 2.17. "
	"Urgent matters by phone, please.</note>\r\n"
	"    <timestamp>2024-03-05T12:01:44Z</timestamp>\r\n"
	"  </tuple>\r\n"
	"  <ci:display-name>Farah Haddad</ci:display-name>\r\n"
	"  <ci:homepage>https://intranet.fabrikam.example/people/farah.haddad</ci:homepage>\r\n"
	"  <ci:card>https://intranet.fabrikam.example/people/farah.haddad/vcard</ci:card>\r\n"
	"  <ci:icon>https://intranet.fabrikam.example/people/farah.haddad/photo.png</ci:icon>\r\n"
	"</presence>\r\n";

/* What the inside cluster sends for a user with two resources. */
static const char inside_notify[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
	"          xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
	"          xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
	"          entity=\"pres:ivan.petrov@corp.example\">\n"
	"  <tuple id=\"ID-jabber-win\">\n"
	"    <status>\n"
	"      <basic>open</basic>\n"
	"      <show xmlns=\"jabber:client\">dnd</show>\n"
	"    </status>\n"
	"    <contact priority=\"0.393\">sip:ivan.petrov@corp.example</contact>\n"
	"    <note xml:lang=\"en\">In a meeting with the Leeds team until 3 pm</note>\n"
	"    <note xml:lang=\"de\">Im Meeting mit dem Team in Leeds bis 15 Uhr</note>\n"
	"    <timestamp>2024-03-05T13:58:40Z</timestamp>\n"
	"  </tuple>\n"
	"  <tuple id=\"ID-phone\">\n"
	"    <status>\n"
	"      <basic>open</basic>\n"
	"      <show xmlns=\"jabber:client\">away</show>\n"
	"    </status>\n"
	"    <contact priority=\"0\">sip:ivan.petrov@corp.example</contact>\n"
	"    <note xml:lang=\"en\">Mobile</note>\n"
	"    <timestamp>2024-03-05T13:40:02Z</timestamp>\n"
	"  </tuple>\n"
	"  <dm:person id=\"p-ivan\">\n"
	"    <rpid:activities>\n"
	"      <rpid:busy/>\n"
	"    </rpid:activities>\n"
	"  </dm:person>\n"
	"</presence>\n";

/* CPU time of this process: on a shared machine, time the scheduler or
 * the hypervisor gave to others is not the translation's cost. */
static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One translation, its result freed; exits on failure (a broken bench
 * would print a meaningless figure). */
static void translate_once(const struct pres_table *t, enum pres_direction dir,
			   const struct pres_input *in)
{
	struct pres_result r;
	const char *reason = NULL;

	if (pres_translate(t, dir, PRES_DIALECT_LYNC, in, &r, &reason) != 0) {
		fprintf(stderr, "presence_bench: translation failed: %s\n", reason ? reason : "?");
		exit(1);
	}
	free(r.body);
}

static void bench(const struct pres_table *t, const char *what, enum pres_direction dir,
		  const char *body)
{
	struct pres_input in = { "application/pidf+xml", body, strlen(body), NULL };
	double runs[RUNS];

	for (int i = 0; i < WARMUP; i++)
		translate_once(t, dir, &in);
	for (int r = 0; r < RUNS; r++) {
		double start = now_us();

		for (int i = 0; i < ITERATIONS; i++)
			translate_once(t, dir, &in);
		runs[r] = (now_us() - start) / ITERATIONS;
	}
	qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
	printf("%-9s %5zu-byte body: %6.2f us per translation (median of %d runs of %d; "
	       "min %.2f, max %.2f); %.2f us per KB\n",
	       what, in.len, runs[RUNS / 2], RUNS, ITERATIONS, runs[0], runs[RUNS - 1],
	       runs[RUNS / 2] * 1024 / in.len);
}

static void report(void *arg, unsigned line, const char *msg)
{
	fprintf(stderr, "%s:%u: %s\n", (const char *)arg, line, msg);
}

int main(int argc, char **argv)
{
	const char *map = argc > 1 ? argv[1] : PRESENCE_MAP;
	struct pres_table *t = pres_table_load(map, report, (void *)map);

	if (!t)
		return 1;
	bench(t, "inbound", PRES_INBOUND, lync_notify);
	bench(t, "outbound", PRES_OUTBOUND, inside_notify);
	pres_table_free(t);
	return 0;
}
