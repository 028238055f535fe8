/* dns: asynchronous DNS for federation discovery (c-ares on the libev loop)
 * with a TTL cache.
 *
 * Foreign edges are found through _sipfederationtls._tcp.<domain> SRV
 * records (Microsoft's federation convention, not NAPTR) and then A/AAAA.
 * c-ares retries truncated answers over TCP by itself. Lookups answered from
 * the cache return at once; others complete later through the callback. */
#ifndef FEDPROXY_DNS_H
#define FEDPROXY_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <ev.h>

#define DNS_MAX_RECORDS 8
#define DNS_NAME_MAX 256

struct dns_srv {
	char host[DNS_NAME_MAX];
	uint16_t port;
	uint16_t priority;
	uint16_t weight;
};

/* A lookup result: status 0, -ENOENT (no such name or no such record),
 * -ETIMEDOUT, or -EIO. SRV targets come in RFC 2782 order: by priority,
 * and weighted-random within one priority. */
struct dns_result {
	int status;
	size_t n;
	struct dns_srv srv[DNS_MAX_RECORDS]; /* SRV lookups */
	char ip[DNS_MAX_RECORDS][46];        /* address lookups */
};

typedef void (*dns_done)(void *arg, const struct dns_result *r);
struct dns_query;

/* servers: "ip:port,ip:port" for c-ares, or NULL/"" for /etc/resolv.conf.
 * 0 or -1 after logging why. */
int dns_init(struct ev_loop *loop, const char *servers);
/* Apply a new server list (on reload); the cache is dropped. */
int dns_set_servers(const char *servers);

/* From the cache: 0 and *out filled, or -ENOENT when not cached. */
int dns_srv_cached(const char *name, struct dns_result *out);
int dns_addr_cached(const char *host, struct dns_result *out);

/* Start a lookup; done(arg, result) is called from the loop later. NULL
 * when out of memory. */
struct dns_query *dns_srv_lookup(const char *name, dns_done done, void *arg);
struct dns_query *dns_addr_lookup(const char *host, dns_done done, void *arg);
/* The requester is gone: the lookup still fills the cache, but done is not
 * called. */
void dns_cancel(struct dns_query *q);

#endif
