/* stats: the counters fedproxyctl and /metrics show. One process, one loop:
 * plain integers, no locking. Names with a variable part (handshake failure
 * reasons, mapping rows) live in small fixed tables; past their size the
 * rest is counted under "other". */
#ifndef FEDPROXY_STATS_H
#define FEDPROXY_STATS_H

#include <stdbool.h>
#include <stdio.h>

enum stats_decision {
	STATS_FORWARD = 0, /* sent on to a next hop */
	STATS_DENY,        /* refused by the federation policy */
	STATS_REJECT,      /* refused by routing or a check (4xx/5xx of ours) */
	STATS_ANSWER,      /* answered by the proxy itself (OPTIONS, NEGOTIATE) */
	STATS_DECISIONS,
};

void stats_request(const char *method, enum stats_decision d);
/* A response sent upstream (relayed or ours). */
void stats_response(int status);
/* reason: NULL when the handshake succeeded. */
void stats_handshake(const char *reason);
void stats_reload(bool ok);
void stats_translation(const char *row);

unsigned long stats_reloads(bool ok);

/* Human-readable ("stats" command) and Prometheus text exposition. */
void stats_write_text(FILE *out);
void stats_write_prometheus(FILE *out);

#endif
