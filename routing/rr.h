/* rr: the token fedproxy carries in its own Record-Route entries.
 *
 * Routing is dialog-stateless: what an in-dialog request needs (which inside
 * node owns the dialog, which connection reaches the far side) rides in our
 * Record-Route URI as one parameter, `fpx`, signed with the configured
 * route_secret so a foreign edge cannot steer a request to a node or
 * connection of its choosing:
 *
 *     fpx=<side>.<node>.<flow>.<mac>
 *
 * side: 'e' or 'i', the side the entry faces; node: the inside node of the
 * dialog ('-' for none); flow: the id of the connection that reaches that
 * side (16 hex digits, 0 for none); mac: the first 16 hex digits of
 * HMAC-SHA256(route_secret, "<side>.<node>.<flow>"). Pure: no I/O. */
#ifndef FEDPROXY_RR_H
#define FEDPROXY_RR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_PARAM "fpx"
/* Longest node name the token carries. */
#define RR_NODE_MAX 64
/* Longest token: side, node, flow and mac with their dots (no NUL). */
#define RR_TOKEN_MAX (1 + 1 + RR_NODE_MAX + 1 + 16 + 1 + 16)

/* A node name the token can carry: 1 to RR_NODE_MAX letters, digits, '-'
 * and '_' (config.c holds [node NAME] sections to it). */
bool rr_node_name_valid(const char *s);

struct rr_token {
	char side;                  /* 'e' external, 'i' internal */
	char node[RR_NODE_MAX + 1]; /* "" for none */
	uint64_t flow;              /* 0 for none */
};

/* route_secret keyed into HMAC-SHA256 once (a config snapshot holds one), so
 * that a token costs the hash of its own text, not a key schedule too; it
 * also remembers the macs it made last (hence not const below). */
struct rr_key;

/* NULL when out of memory, or when this GnuTLS cannot copy an HMAC state. */
struct rr_key *rr_key_new(const char *secret);
/* NULL is a no-op. */
void rr_key_free(struct rr_key *key);

/* Write the parameter value for t into out, NUL-terminated.
 * 0 or -ENOSPC / -EINVAL / -ENOMEM. */
int rr_token_encode(struct rr_key *key, const struct rr_token *t, char *out,
		    size_t outlen);
/* Parse and verify a parameter value. 0, or -EBADMSG when it is malformed
 * or its mac does not match (or could not be computed). */
int rr_token_decode(struct rr_key *key, const char *value, struct rr_token *t);

#endif
