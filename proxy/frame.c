/* frame: stream reassembly of SIP messages (see frame.h).
 *
 * Bytes are taken straight from the caller's buffer (borrowed until
 * frame_next() says FRAME_NEED_MORE) and each byte is copied once, into
 * Sofia-SIP's buffer for the message it belongs to (msg_recv_iovec,
 * msg_recv_commit, msg_extract). We find the end of the headers ourselves,
 * counting header lines on the way, and give the parser only the header
 * block; once it has parsed the Content-Length we know the message's total
 * length and give it exactly the body. So the parser never holds bytes of
 * the next message (when it ends one before we would, at a lone CR, what
 * it did not take goes back to the input), and no framer buffer outlives
 * a feed: an idle connection costs only struct frame. The CR/LFs between messages are
 * skipped (and counted as pings) here; Sofia never sees them: with
 * MSG_FLG_EXTRACT_COPY it fails on a message that starts with one. */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

/* We hold messages to the exact cap and give Sofia at most the cap plus
 * one byte; its own limit, which bites early (it grows buffers in 512-byte
 * steps), is a backstop. It is met first only when Sofia ends the headers
 * before our scan does and allocates for the body: kept where it was when
 * the parser was fed 4 KiB at a time, so such a message is refused as
 * before. */
#define SOFIA_SLACK (4096 + 1024)
/* Sofia receives into at most two blocks (a body chunk, then its buffer). */
#define FRAME_MAX_VECTORS 4
/* CR LF CR LF between messages: one keep-alive ping. */
#define PING_LEN 4

struct frame {
	size_t max_size;
	unsigned max_headers;    /* header lines allowed, the start line aside */
	unsigned header_lines;   /* cur's lines seen so far, the start line too */
	msg_t *cur;              /* owned: message being received, or NULL */
	size_t cur_bytes;        /* bytes given to cur so far */
	size_t msg_len;          /* cur's total length, 0 until its headers
				    and Content-Length have been parsed */
	bool headers_scanned;    /* our scan has seen cur's empty line */
	bool at_line_start;      /* header scan: the last byte ended a line */
	const char *in;          /* borrowed: fed bytes not yet taken */
	size_t in_len;
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
	free(f);
}

static bool is_crlf(char c)
{
	return c == '\r' || c == '\n';
}

int frame_feed(struct frame *f, const char *buf, size_t len)
{
	if (f->failed != FRAME_NEED_MORE)
		return -EPROTO;
	if (f->in_len > 0)
		return -EBUSY;
	f->in = buf;
	f->in_len = len;
	return 0;
}

static void take(struct frame *f, size_t n)
{
	f->in += n;
	f->in_len -= n;
}

/* Between messages: eat CR/LFs, counting pings. */
static void skip_crlf(struct frame *f)
{
	while (f->in_len > 0 && is_crlf(*f->in)) {
		if (++f->crlf_run == PING_LEN) {
			f->pending_pings++;
			f->crlf_run = 0;
		}
		take(f, 1);
	}
	if (f->in_len > 0)
		f->crlf_run = 0; /* a message starts */
}

static enum frame_event fail(struct frame *f, enum frame_event why, msg_t **msg)
{
	f->failed = why;
	f->in_len = 0; /* the stream is done with */
	/* Bytes given beyond where Sofia ends cur (it may end the headers
	 * first, at a lone CR) wait in a next message of its own, which
	 * msg_destroy(cur) would not free. */
	msg_destroy(msg_next(f->cur));
	*msg = f->cur;
	f->cur = NULL;
	return why;
}

static int start_message(struct frame *f)
{
	/* EXTRACT_COPY keeps each header's raw text, so headers we do not
	 * touch (Microsoft's signed Record-Route among them) leave
	 * byte-for-byte. */
	f->cur = msg_create(sip_default_mclass(), MSG_FLG_EXTRACT_COPY);
	if (!f->cur)
		return -ENOMEM;
	msg_maxsize(f->cur, f->max_size + SOFIA_SLACK);
	f->cur_bytes = 0;
	f->headers_scanned = false;
	f->msg_len = 0;
	f->header_lines = 0;
	f->at_line_start = false;
	return 0;
}

/* Find where cur's headers end (an empty line; Sofia also takes bare LF),
 * so an announced body can be measured against the cap before it comes,
 * and count the header lines on the way. Looks at p[0..len); returns how
 * many of those bytes are header bytes: len, or up to the end of the empty
 * line or of the line over max_headers. */
static size_t scan_headers(struct frame *f, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *lf = memchr(p + i, '\n', len - i);
		size_t eol = lf ? (size_t)(lf - p) : len;

		/* CRs alone do not make a line non-empty. */
		while (f->at_line_start && i < eol && p[i] == '\r')
			i++;
		if (i < eol)
			f->at_line_start = false;
		if (!lf)
			break;
		i = eol + 1;
		if (f->at_line_start) {
			f->headers_scanned = true;
			return i;
		}
		f->at_line_start = true;
		if (++f->header_lines > f->max_headers + 1 && f->max_headers)
			return i; /* the start line, then headers */
	}
	return len;
}

static bool too_many_headers(const struct frame *f)
{
	return f->max_headers && f->header_lines > f->max_headers + 1;
}

/* Copy n bytes from src into the parser's buffer for cur. */
static int give(struct frame *f, const char *src, size_t n)
{
	msg_iovec_t vec[FRAME_MAX_VECTORS];
	issize_t nvec = msg_recv_iovec(f->cur, vec, FRAME_MAX_VECTORS, n, 0);
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
	f->cur_bytes += n;
	return 0;
}

/* Too many header lines: let Sofia parse the ones before the limit, ended
 * with an empty line, so the refusal can still be answered (a 400 needs
 * Via, CSeq and Call-ID). */
static enum frame_event refuse_headers(struct frame *f, size_t upto, msg_t **msg)
{
	if (give(f, f->in, upto) == 0 && give(f, "\r\n", 2) == 0)
		msg_extract(f->cur);
	return fail(f, FRAME_TOO_MANY_HEADERS, msg);
}

/* cur is complete. Sofia may end a message before we would (it also takes
 * a lone CR as a line end): the bytes it did not need, always the tail of
 * the last `given`, go back to the input to start the next message. */
static enum frame_event complete(struct frame *f, size_t given, msg_t **msg)
{
	msg_t *rest = msg_next(f->cur);
	size_t leftover = msg_buf_committed(rest);

	msg_destroy(rest);
	if (leftover > given)
		return fail(f, FRAME_BROKEN, msg); /* not in the input any more */
	f->in -= leftover;
	f->in_len += leftover;
	f->cur_bytes -= leftover;
	if (f->cur_bytes > f->max_size)
		return fail(f, FRAME_TOO_LARGE, msg);
	*msg = f->cur;
	f->cur = NULL;
	return FRAME_MESSAGE;
}

/* The length cur's headers announce, once we have given the parser all of
 * them: theirs plus the Content-Length, or 0 when they announce none (Sofia
 * then fails on the first body byte). */
static size_t announced_len(const struct frame *f)
{
	sip_t *sip = sip_object(f->cur);
	size_t headers = f->cur_bytes;

	if (!sip || !sip->sip_content_length)
		return 0;
	/* Sofia may end the headers before our scan does (at a lone CR): what
	 * it holds of the body then is not headers. */
	if (sip->sip_payload)
		headers -= sip->sip_payload->pl_common->h_len;
	return headers + sip->sip_content_length->l_length;
}

/* Let Sofia parse the `given` bytes just handed over. FRAME_NEED_MORE: cur
 * is still incomplete. */
static enum frame_event parse(struct frame *f, size_t given, msg_t **msg)
{
	int r = msg_extract(f->cur);
	/* A message that overruns the limit in its body comes back "complete"
	 * with TOOLARGE and TRUNC set: check the flags whatever r says. */
	unsigned bad = msg_get_flags(f->cur, MSG_FLG_ERROR | MSG_FLG_TOOLARGE | MSG_FLG_TRUNC);

	if (bad & MSG_FLG_TOOLARGE)
		return fail(f, FRAME_TOO_LARGE, msg);
	if (r < 0 || bad)
		return fail(f, FRAME_BROKEN, msg);
	if (r > 0)
		return complete(f, given, msg);
	/* Incomplete: every byte it holds is its own. Refuse as soon as the
	 * headers announce a total over the cap. */
	if (f->headers_scanned && !f->msg_len)
		f->msg_len = announced_len(f);
	if (f->cur_bytes > f->max_size || f->msg_len > f->max_size)
		return fail(f, FRAME_TOO_LARGE, msg);
	return FRAME_NEED_MORE;
}

/* Hand cur its next input bytes: the rest of its header block, else the
 * rest of its body, never more than one byte over the cap. */
static enum frame_event receive(struct frame *f, msg_t **msg)
{
	size_t n = f->in_len, room = f->max_size + 1 - f->cur_bytes;

	if (n > room)
		n = room;
	if (!f->headers_scanned) {
		/* Counted before Sofia parses them: ten thousand tiny headers
		 * fit the size cap but cost a header object each. */
		n = scan_headers(f, f->in, n);
		if (too_many_headers(f))
			return refuse_headers(f, n, msg);
	} else if (f->msg_len > f->cur_bytes && n > f->msg_len - f->cur_bytes) {
		n = f->msg_len - f->cur_bytes;
	}
	if (give(f, f->in, n) < 0)
		return fail(f, FRAME_TOO_LARGE, msg);
	take(f, n);
	return parse(f, n, msg);
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
			if (f->in_len == 0)
				return FRAME_NEED_MORE;
			if (start_message(f) < 0)
				return fail(f, FRAME_BROKEN, msg);
		}
		if (f->in_len == 0)
			return FRAME_NEED_MORE;
		enum frame_event ev = receive(f, msg);

		if (ev != FRAME_NEED_MORE)
			return ev;
	}
}

bool frame_in_message(const struct frame *f)
{
	return f->cur != NULL || f->in_len > 0;
}
