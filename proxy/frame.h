/* frame: stream reassembly of SIP messages on one connection.
 *
 * RFC 3261 section 18.3: on a stream transport every message carries a
 * Content-Length, and any number of CRLFs may stand between messages. A
 * double CRLF there is an RFC 5626 keep-alive ping, answered with one CRLF.
 *
 * The framer is pure: bytes in, events out, no I/O. It drives Sofia-SIP's
 * streaming parser (msg_recv_iovec / msg_extract), handing it one message's
 * bytes at a time, and enforces the size cap while reading, so a peer can
 * never make it buffer more than max_size + 1 bytes per connection; between
 * messages it holds no buffer at all. */
#ifndef FEDPROXY_FRAME_H
#define FEDPROXY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <sofia-sip/msg.h>

struct frame;

enum frame_event {
	FRAME_NEED_MORE = 0, /* nothing complete: feed more bytes */
	FRAME_MESSAGE,       /* *msg is a complete, parsed message */
	FRAME_PING,          /* a CRLFCRLF keep-alive: answer with one CRLF */
	FRAME_TOO_LARGE,     /* message over the cap: the stream is unusable */
	FRAME_TOO_MANY_HEADERS, /* more header lines than allowed: unusable */
	FRAME_BROKEN,        /* framing lost (bad Content-Length, ...): unusable */
};

/* A framer that accepts messages of at most max_size bytes and max_headers
 * header lines. NULL when out of memory. */
struct frame *frame_new(size_t max_size, unsigned max_headers);
void frame_free(struct frame *f);

/* Take len bytes read from the stream, in order. They are borrowed, not
 * copied: buf must stay valid and unchanged until frame_next() has said
 * FRAME_NEED_MORE or failed, and only then may the next bytes be fed.
 * 0: taken; -EPROTO: the stream already failed; -EBUSY: the bytes fed
 * before are not all drained yet. Drain events with frame_next() until it
 * says FRAME_NEED_MORE: only that parses. */
int frame_feed(struct frame *f, const char *buf, size_t len);

/* The next event. For FRAME_MESSAGE, *msg receives the message (owned by the
 * caller). For FRAME_TOO_LARGE, FRAME_TOO_MANY_HEADERS and FRAME_BROKEN, *msg receives what was
 * parsed of the offending message, or NULL, so the caller may try to answer
 * 413 or 400; the failure repeats on every later call. Otherwise *msg = NULL. */
enum frame_event frame_next(struct frame *f, msg_t **msg);

/* True while part of a message has arrived but not all of it. */
bool frame_in_message(const struct frame *f);

#endif
