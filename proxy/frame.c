/* frame: stream reassembly of SIP messages (see frame.h).
 *
 * Sofia-SIP call sequence, per read: msg_recv_iovec() hands out one or two
 * buffer vectors (two when the read spans the end of the current message and
 * the start of a hidden follow-on message), we copy the bytes in and commit
 * them; msg_extract() then says incomplete, complete or broken, and
 * msg_next() yields the follow-on message holding the leftover bytes. */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

/* A read covers at most the tail of one message and the head of the next. */
#define FRAME_MAX_VECTORS 4

/* CR LF CR LF between messages: one keep-alive ping. */
#define PING_LEN 4

struct frame {
	size_t max_size;
	msg_t *cur;              /* owned: message being received, or NULL */
	unsigned crlf_run;       /* CR/LF bytes seen in a row between messages */
	unsigned pending_pings;  /* pings seen but not yet reported */
	enum frame_event failed; /* FRAME_NEED_MORE, or the sticky failure */
};

struct frame *frame_new(size_t max_size)
{
	struct frame *f = calloc(1, sizeof(*f));

	if (f)
		f->max_size = max_size;
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

static void count_crlf(struct frame *f, const char *p, size_t n)
{
	for (size_t i = 0; i < n && is_crlf(p[i]); i++) {
		if (++f->crlf_run == PING_LEN) {
			f->pending_pings++;
			f->crlf_run = 0;
		}
	}
}

static msg_t *new_message(const struct frame *f)
{
	/* EXTRACT_COPY keeps each header's raw text, so headers we do not touch
	 * (Microsoft's signed Record-Route among them) leave byte-for-byte. */
	msg_t *m = msg_create(sip_default_mclass(), MSG_FLG_EXTRACT_COPY);

	if (m)
		msg_maxsize(m, f->max_size);
	return m;
}

int frame_feed(struct frame *f, const char *buf, size_t len)
{
	msg_iovec_t vec[FRAME_MAX_VECTORS];
	issize_t nvec;

	if (f->failed != FRAME_NEED_MORE)
		return -EPROTO;
	if (!f->cur) {
		size_t skip = 0;

		while (skip < len && is_crlf(buf[skip]))
			skip++;
		count_crlf(f, buf, skip);
		buf += skip;
		len -= skip;
		if (len == 0)
			return 0;
		f->crlf_run = 0;
		f->cur = new_message(f);
		if (!f->cur)
			return -ENOMEM;
	}
	nvec = msg_recv_iovec(f->cur, vec, FRAME_MAX_VECTORS, len, 0);
	if (nvec < 0) {
		f->failed = FRAME_TOO_LARGE;
		return errno == ENOMEM ? -ENOMEM : -ENOBUFS;
	}
	size_t copied = 0;

	for (issize_t i = 0; i < nvec && copied < len; i++) {
		size_t n = len - copied;

		if (n > vec[i].mv_len)
			n = vec[i].mv_len;
		memcpy(vec[i].mv_base, buf + copied, n);
		copied += n;
	}
	msg_recv_commit(f->cur, len, 0);
	return 0;
}

/* The message after a complete one holds the bytes that followed it. Count
 * its leading CR/LFs as keep-alives; drop it when that is all it holds. */
static void take_next(struct frame *f, msg_t *next)
{
	const char *data;
	size_t n, lead = 0;

	f->cur = next;
	if (!next)
		return;
	msg_maxsize(next, f->max_size);
	msg_set_flags(next, MSG_FLG_EXTRACT_COPY);
	data = msg_buf_committed_data(next);
	n = msg_buf_committed(next);
	while (lead < n && is_crlf(data[lead]))
		lead++;
	f->crlf_run = 0;
	count_crlf(f, data, lead);
	if (lead == n) {
		msg_destroy(next);
		f->cur = NULL;
	}
}

static enum frame_event fail(struct frame *f, enum frame_event why, msg_t **msg)
{
	f->failed = why;
	*msg = f->cur;
	f->cur = NULL;
	return why;
}

enum frame_event frame_next(struct frame *f, msg_t **msg)
{
	int r;
	unsigned bad;

	*msg = NULL;
	if (f->pending_pings) {
		f->pending_pings--;
		return FRAME_PING;
	}
	if (f->failed != FRAME_NEED_MORE) {
		/* Hand out what was parsed of the culprit once, then only the
		 * verdict. */
		*msg = f->cur;
		f->cur = NULL;
		return f->failed;
	}
	if (!f->cur)
		return FRAME_NEED_MORE;
	r = msg_extract(f->cur);
	/* A message that overruns the cap in its body comes back "complete"
	 * with TOOLARGE and TRUNC set: check the flags whatever r says. */
	bad = msg_get_flags(f->cur, MSG_FLG_ERROR | MSG_FLG_TOOLARGE | MSG_FLG_TRUNC);
	if (bad & MSG_FLG_TOOLARGE)
		return fail(f, FRAME_TOO_LARGE, msg);
	if (r < 0 || bad)
		return fail(f, FRAME_BROKEN, msg);
	if (r == 0)
		return FRAME_NEED_MORE;
	*msg = f->cur;
	take_next(f, msg_next(f->cur));
	return FRAME_MESSAGE;
}

bool frame_in_message(const struct frame *f)
{
	return f->cur != NULL;
}
