/* admission: connection counts and per-domain token buckets (see admission.h). */
#include "admission.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sofia-sip/htable.h>
#include <sofia-sip/msg_header.h>

#include "log.h"

/* Per-domain buckets kept at most; past that the table starts afresh
 * (only allowed domains get here, so this is rarely reached). */
#define MAX_DOMAINS 4096

struct counted {
	unsigned long hash;
	char key[256];      /* an IP address or a domain */
	unsigned count;     /* connections open from the address */
	double tokens;      /* requests the domain may still send now */
	ev_tstamp refilled; /* when tokens were last topped up */
};

HTABLE_DECLARE_WITH(count_table, ct, struct counted, size_t, unsigned long);
#define COUNTED_HASH(e) ((e)->hash)
HTABLE_PROTOS_WITH(count_table, ct, struct counted, size_t, unsigned long);
HTABLE_BODIES_WITH(count_table, ct, struct counted, COUNTED_HASH, size_t, unsigned long);

static su_home_t home[1] = { SU_HOME_INIT(home) };
static count_table_t by_address[1], by_domain[1];

static struct counted *lookup(count_table_t *t, const char *key, bool create)
{
	unsigned long h = msg_hash_string(key);
	struct counted *e;

	for (struct counted **p = t->ct_table ? count_table_hash(t, h) : NULL; p && *p;
	     p = count_table_next(t, p))
		if ((*p)->hash == h && !strcasecmp((*p)->key, key))
			return *p;
	if (!create || (count_table_is_full(t) && count_table_resize(home, t, 0) < 0))
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->hash = h;
	strncpy(e->key, key, sizeof(e->key) - 1);
	count_table_append(t, e);
	return e;
}

bool admission_connection(const struct config *cfg, const char *ip, unsigned open_now)
{
	struct counted *e;

	if (open_now >= cfg->max_connections) {
		log_limited("connections", "connection from %s refused: %u connections open (max_connections)",
			    ip, open_now);
		return false;
	}
	e = lookup(by_address, ip, true);
	if (!e)
		return false;
	if (e->count >= cfg->max_connections_per_address) {
		log_limited("per-address", "connection from %s refused: %u open from that address "
			    "(max_connections_per_address)", ip, e->count);
		return false;
	}
	e->count++;
	return true;
}

void admission_connection_closed(const char *ip)
{
	struct counted *e = lookup(by_address, ip, false);

	if (e && --e->count == 0) {
		count_table_remove(by_address, e);
		free(e);
	}
}

static void forget_domains(void)
{
	for (size_t i = 0; by_domain->ct_table && i < by_domain->ct_size; i++)
		free(by_domain->ct_table[i]);
	su_free(home, by_domain->ct_table);
	memset(by_domain, 0, sizeof(by_domain));
}

bool admission_request(const struct config *cfg, const char *domain, ev_tstamp now)
{
	struct counted *e;
	double burst = 2 * cfg->domain_rate;

	if (cfg->domain_rate <= 0 || !domain)
		return true;
	if (by_domain->ct_used >= MAX_DOMAINS)
		forget_domains();
	e = lookup(by_domain, domain, true);
	if (!e)
		return false;
	if (e->refilled == 0)
		e->tokens = burst;
	else
		e->tokens += (now - e->refilled) * cfg->domain_rate;
	if (e->tokens > burst)
		e->tokens = burst;
	e->refilled = now;
	if (e->tokens < 1) {
		log_limited("domain-rate", "request from %s refused: over domain_rate %.0f/s",
			    domain, cfg->domain_rate);
		return false;
	}
	e->tokens--;
	return true;
}
