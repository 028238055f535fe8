/* frame: stream reassembly of SIP messages (see frame.h).
 *
 * Bytes read from the stream wait in `pending` until the message being
 * received needs them; they go to Sofia-SIP's parser (msg_recv_iovec,
 * msg_recv_commit, msg_extract) at most FEED_CHUNK at a time, so the parser
 * never holds more than the current message plus one chunk. When a message
 * completes, msg_next() hands back the bytes that followed it; we move them
 * to the front of `pending` and start the next message ourselves, after
 * skipping (and counting) the CR/LFs between messages. Sofia never sees those
 * CR/LFs: with MSG_FLG_EXTRACT_COPY it fails on a message that starts with
 * one. */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

/* Bytes handed to the parser per step. */
#define FEED_CHUNK 4096
/* Sofia grows buffers in 512-byte steps, so its own limit bites a little
 * early: give it room, and hold messages to the exact cap ourselves. */
#define SOFIA_SLACK (FEED_CHUNK + 1024)
/* A read covers at most the tail of one message and the head of the next. */
#define FRAME_MAX_VECTORS 4
/* CR LF CR LF between messages: one keep-alive ping. */
#define PING_LEN 4

struct frame {
	size_t max_size;
	unsigned max_headers;    /* header lines allowed (request line too) */
	unsigned header_lines;   /* cur's header lines seen so far */
	msg_t *cur;              /* owned: message being received, or NULL */
	size_t cur_bytes;        /* bytes given to cur so far */
	size_t header_len;       /* cur's header length with the blank line, 0
				    until that line has been seen */
	bool at_line_start;      /* header scan: the last byte ended a line */
	char *pending;           /* owned: bytes not yet given to the parser */
	size_t pending_len, pending_cap;
	unsigned crlf_run;       /* CR/LF bytes seen in a row between messages */
	unsigned pending_pings;  /* pings seen but not yet reported */
	enum frame_event failed; /* FRAME_NEED_MORE, or the sticky failure */
};

struct frame *frame_new(size_t max_size, unsigned max_headers)
{
	struct frame *f = calloc(1, sizeof(*f));

	if (f) {
		f->max_size = max_size;
		f->max_headers = max_headers;
	}
	return f;
}

void frame_free(struct frame *f)
{
	if (!f)
		return;
	if (f->cur)
		msg_destroy(f->cur);
	free(f->pending);
	free(f);
}

static bool is_crlf(char c)
{
	return c == '\r' || c == '\n';
}

/* Put bytes at the end (or, for a message's leftovers, the front) of the
 * pending buffer. */
static int stash(struct frame *f, const char *buf, size_t len, bool front)
{
	if (f->pending_len + len > f->pending_cap) {
		size_t cap = f->pending_cap ? f->pending_cap : FEED_CHUNK;
		char *p;

		while (cap < f->pending_len + len)
			cap *= 2;
		p = realloc(f->pending, cap);
		if (!p)
			return -ENOMEM;
		f->pending = p;
		f->pending_cap = cap;
	}
	if (front) {
		memmove(f->pending + len, f->pending, f->pending_len);
		memcpy(f->pending, buf, len);
	} else {
		memcpy(f->pending + f->pending_len, buf, len);
	}
	f->pending_len += len;
	return 0;
}

static void consume(struct frame *f, size_t n)
{
	memmove(f->pending, f->pending + n, f->pending_len - n);
	f->pending_len -= n;
}

int frame_feed(struct frame *f, const char *buf, size_t len)
{
	if (f->failed != FRAME_NEED_MORE)
		return -EPROTO;
	return stash(f, buf, len, false);
}

/* Between messages: eat CR/LFs, counting pings. */
static void skip_crlf(struct frame *f)
{
	size_t n = 0;

	while (n < f->pending_len && is_crlf(f->pending[n])) {
		if (++f->crlf_run == PING_LEN) {
			f->pending_pings++;
			f->crlf_run = 0;
		}
		n++;
	}
	consume(f, n);
	if (f->pending_len > 0)
		f->crlf_run = 0; /* a message starts */
}

static enum frame_event fail(struct frame *f, enum frame_event why, msg_t **msg)
{
	f->failed = why;
	f->pending_len = 0; /* the stream is done with */
	*msg = f->cur;
	f->cur = NULL;
	return why;
}

/* Find where cur's headers end (an empty line; Sofia also takes bare LF),
 * so an announced body can be measured against the cap before it comes. */
/* Returns len, or where the line over max_headers ends. */
static size_t scan_headers(struct frame *f, const char *p, size_t len)
{
	for (size_t i = 0; i < len && f->header_len == 0; i++) {
		if (p[i] == '\n') {
			if (f->at_line_start)
				f->header_len = f->cur_bytes + i + 1;
			else if (++f->header_lines > f->max_headers + 1 && f->max_headers)
				return i + 1; /* the start line, then headers */
			f->at_line_start = true;
		} else if (p[i] != '\r') {
			f->at_line_start = false;
		}
	}
	return len;
}

/* Hand the parser n pending bytes (or, with text, those instead). */
static int give(struct frame *f, const char *text, size_t n)
{
	msg_iovec_t vec[FRAME_MAX_VECTORS];
	issize_t nvec = msg_recv_iovec(f->cur, vec, FRAME_MAX_VECTORS, n, 0);
	const char *src = text ? text : f->pending;
	size_t copied = 0;

	if (nvec < 0)
		return -1;
	for (issize_t i = 0; i < nvec && copied < n; i++) {
		size_t k = n - copied;

		if (k > vec[i].mv_len)
			k = vec[i].mv_len;
		memcpy(vec[i].mv_base, src + copied, k);
		copied += k;
	}
	msg_recv_commit(f->cur, n, 0);
	if (!text)
		consume(f, n);
	f->cur_bytes += n;
	return 0;
}

/* Too many header lines: let Sofia parse the ones before the limit, ended
 * with an empty line, so the refusal can still be answered (a 400 needs
 * Via, CSeq and Call-ID). */
static enum frame_event refuse_headers(struct frame *f, size_t upto, msg_t **msg)
{
	if (give(f, NULL, upto) == 0 && give(f, "\r\n", 2) == 0)
		msg_extract(f->cur);
	return fail(f, FRAME_TOO_MANY_HEADERS, msg);
}

/* Give the parser the next chunk of pending bytes. */
static enum frame_event feed_parser(struct frame *f, msg_t **msg)
{
	size_t len = f->pending_len < FEED_CHUNK ? f->pending_len : FEED_CHUNK, upto;

	if (!f->cur) {
		/* EXTRACT_COPY keeps each header's raw text, so headers we do
		 * not touch (Microsoft's signed Record-Route among them) leave
		 * byte-for-byte. */
		f->cur = msg_create(sip_default_mclass(), MSG_FLG_EXTRACT_COPY);
		if (!f->cur)
			return fail(f, FRAME_BROKEN, msg);
		msg_maxsize(f->cur, f->max_size + SOFIA_SLACK);
		f->cur_bytes = 0;
		f->header_len = 0;
		f->header_lines = 0;
		f->at_line_start = false;
	}
	/* Counted before Sofia parses them: ten thousand tiny headers fit the
	 * size cap but cost a header object each. */
	upto = scan_headers(f, f->pending, len);
	if (upto < len || (f->header_len == 0 && f->max_headers &&
			   f->header_lines > f->max_headers + 1))
		return refuse_headers(f, upto, msg);
	if (give(f, NULL, len) < 0)
		return fail(f, FRAME_TOO_LARGE, msg);
	return FRAME_NEED_MORE;
}

/* cur is complete: take back the bytes that followed it. */
static enum frame_event complete(struct frame *f, msg_t **msg)
{
	msg_t *next = msg_next(f->cur);
	size_t leftover = 0;

	if (next) {
		leftover = msg_buf_committed(next);
		if (stash(f, msg_buf_committed_data(next), leftover, true) < 0) {
			msg_destroy(next);
			return fail(f, FRAME_BROKEN, msg);
		}
		msg_destroy(next);
	}
	if (f->cur_bytes - leftover > f->max_size)
		return fail(f, FRAME_TOO_LARGE, msg);
	*msg = f->cur;
	f->cur = NULL;
	return FRAME_MESSAGE;
}

enum frame_event frame_next(struct frame *f, msg_t **msg)
{
	*msg = NULL;
	for (;;) {
		if (f->pending_pings) {
			f->pending_pings--;
			return FRAME_PING;
		}
		if (f->failed != FRAME_NEED_MORE)
			return f->failed;
		if (!f->cur) {
			skip_crlf(f);
			if (f->pending_pings)
				continue;
			if (f->pending_len == 0)
				return FRAME_NEED_MORE;
		}
		if (f->cur) {
			int r = msg_extract(f->cur);
			/* A message that overruns the limit in its body comes
			 * back "complete" with TOOLARGE and TRUNC set: check the
			 * flags whatever r says. */
			unsigned bad = msg_get_flags(f->cur, MSG_FLG_ERROR | MSG_FLG_TOOLARGE |
								     MSG_FLG_TRUNC);

			if (bad & MSG_FLG_TOOLARGE)
				return fail(f, FRAME_TOO_LARGE, msg);
			if (r < 0 || bad)
				return fail(f, FRAME_BROKEN, msg);
			if (r > 0)
				return complete(f, msg);
			/* Incomplete: every byte it holds is its own. Refuse as
			 * soon as the headers announce a total over the cap. */
			sip_t *sip = sip_object(f->cur);

			if (f->cur_bytes > f->max_size ||
			    (f->header_len && sip && sip->sip_content_length &&
			     f->header_len + sip->sip_content_length->l_length > f->max_size))
				return fail(f, FRAME_TOO_LARGE, msg);
			if (f->pending_len == 0)
				return FRAME_NEED_MORE;
		}
		enum frame_event ev = feed_parser(f, msg);

		if (ev != FRAME_NEED_MORE)
			return ev;
	}
}

bool frame_in_message(const struct frame *f)
{
	return f->cur != NULL || f->pending_len > 0;
}
