/* sipmsg: checks and edits on Sofia-SIP messages, and their serialization.
 *
 * Sofia's parser is lenient (a header it cannot parse is set aside, not
 * refused), so every "must be well-formed" rule of the proxy lives here.
 * Edits follow the encoding-cache rule: a header is either replaced through
 * msg_header_insert or has its cached text cleared after an in-place edit. */
#ifndef FEDPROXY_SIPMSG_H
#define FEDPROXY_SIPMSG_H

#include <stdbool.h>
#include <stdint.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

struct conn;

/* 0 when the request may be processed, else a 400 reason phrase in *phrase. */
int sipmsg_check_request(msg_t *msg, sip_t *sip, const char **phrase);
/* 0 when a response can be matched to a transaction, else -EBADMSG. */
int sipmsg_check_response(msg_t *msg, sip_t *sip);

/* A response to req with the request's Via, From, To (given a tag unless
 * status is 100 or it has one), Call-ID and CSeq, and Content-Length 0. */
msg_t *sipmsg_response(msg_t *req, int status, const char *phrase);
/* Add a header given as text ("Retry-After: 30") before serializing. */
int sipmsg_add_header(msg_t *msg, const char *line);

/* RFC 3261 18.2.1 / RFC 3581: note where the request really came from. */
void sipmsg_mark_received(msg_t *msg, sip_t *sip, const char *ip, uint16_t port);
/* Decrement Max-Forwards (insert 70 when absent). False when it was 0. */
bool sipmsg_decrement_max_forwards(msg_t *msg, sip_t *sip);
/* Our Via on top: "SIP/2.0/<transport> host:port;branch=<branch>". 0 or
 * -errno. */
int sipmsg_push_via(msg_t *msg, sip_t *sip, const char *transport, const char *host,
		    uint16_t port, const char *branch);
/* Our Record-Route entry on top: "<sip:host:port;params>". 0 or -errno. */
int sipmsg_push_record_route(msg_t *msg, sip_t *sip, const char *host, uint16_t port,
			     const char *params);

/* The value of the first header of this name that Sofia does not know
 * (e.g. ms-diagnostics), or NULL. */
const char *sipmsg_extension_value(const sip_t *sip, const char *name);

/* Remove every header of this name (known or not). */
void sipmsg_remove_named(msg_t *msg, sip_t *sip, const char *name);

/* Log the whole message ("trace" switch): direction is "in from"/"out to". */
void sipmsg_trace(const char *direction, const struct conn *c, msg_t *msg);

/* Serialize msg and queue it on c. 0 or -errno. */
int sipmsg_send(struct conn *c, msg_t *msg);

/* The domain of a From/To/R-URI, or "-" for logs. */
const char *sipmsg_from_domain(const sip_t *sip);
const char *sipmsg_call_id(const sip_t *sip);
/* URI port as a number, or def when absent. */
uint16_t sipmsg_url_port(const url_t *url, uint16_t def);

#endif
