/* admission: admission limits that keep one hostile or broken peer from
 * exhausting the proxy ([limits] in the config): connections in all and per
 * source address, concurrent transactions, and a request rate per foreign
 * domain (a token bucket: the rate, with bursts of twice the rate; Microsoft
 * edges allow discovered partners 20 messages/s). Refusals are logged at
 * most once a second per kind, with the number suppressed. */
#ifndef FEDPROXY_ADMISSION_H
#define FEDPROXY_ADMISSION_H

#include <stdbool.h>
#include <ev.h>

#include "config.h"

/* May a new inbound connection from ip be accepted? If so it is counted
 * until admission_connection_closed(ip). */
bool admission_connection(const struct config *cfg, const char *ip, unsigned open_now);
void admission_connection_closed(const char *ip);

/* May one more request from this foreign domain pass now? */
bool admission_request(const struct config *cfg, const char *domain, ev_tstamp now);

#endif
