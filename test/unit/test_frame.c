/* test_frame: the stream framer (proxy/frame.h).
 *
 * One table of raw streams. Each row is fed whole, byte by byte, and cut at
 * random points (a seeded PRNG: SPLITS_PER_ROW cuttings of 0..11 cuts), and
 * every way must give the same events: messages (method, Call-ID, exact
 * body), keep-alive pings, and how the stream ends (clean, inside a message,
 * too large, broken). Each read comes in a buffer of its own, scribbled over
 * and freed once drained: the framer only borrows it. Raw texts use the
 * "{cN}" notation of helpers.h for long bodies and headers. */
#include "helpers.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "proxy/frame.h"

#define SPLITS_PER_ROW 2000
#define MAX_CUTS 11
#define MAX_EVENTS 16
#define MAX_MSGS 4

/* A request's header lines, each ended with eol, without the empty line;
 * `extra` is more header lines, `cl` the Content-Length text. */
#define HEAD(eol, method, callid, extra, cl)                                   \
	method " sip:bob@partner.example.test SIP/2.0" eol                     \
	"Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-" callid eol           \
	"Max-Forwards: 70" eol                                                 \
	"From: <sip:alice@example.test>;tag=a1" eol                            \
	"To: <sip:bob@partner.example.test>" eol                               \
	"Call-ID: " callid eol                                                 \
	"CSeq: 1 " method eol extra "Content-Length: " cl eol
/* A request with CRLF line ends. */
#define REQ(method, callid, extra, cl, body)                                   \
	HEAD("\r\n", method, callid, extra, cl) "\r\n" body

#define SDP                                                                    \
	"v=0\r\n"                                                              \
	"o=alice 1 1 IN IP4 192.0.2.1\r\n"                                     \
	"s=-\r\n"                                                              \
	"c=IN IP4 192.0.2.1\r\n"                                               \
	"t=0 0\r\n"                                                            \
	"m=audio 49170 RTP/AVP 0\r\n"
/* strlen(SDP) */
#define SDP_LEN "92"

#define MSG_A REQ("MESSAGE", "a@x", "Content-Type: text/plain\r\n", "5", "hello")
#define INVITE_B REQ("INVITE", "b@x", "Content-Type: application/sdp\r\n", SDP_LEN, SDP)
#define OPTIONS_C REQ("OPTIONS", "c@x", "", "0", "")
#define PING "\r\n\r\n"

struct want_msg {
	const char *method;
	const char *call_id;
	const char *body; /* raw notation, expanded like the stream */
};

struct frame_row {
	int line;
	const char *desc;
	const char *raw;
	long cap;         /* >0: the cap; else the stream's own length + cap */
	const char *events; /* M message, P ping, L too large, H too many headers,
			       B broken */
	struct want_msg msgs[MAX_MSGS];
	bool ends_inside; /* the stream stops inside a message */
	const char *culprit; /* L or B: Call-ID of the message handed out with
				it (to answer 413 or 400), NULL: not checked */
	unsigned max_headers; /* 0: no header-count limit */
};

static const struct frame_row rows[] = {
	/* ---- pipelining, keep-alives, bodies ---- */
	{ ROW("pipelined MESSAGE, INVITE with SDP, OPTIONS"), MSG_A INVITE_B OPTIONS_C, 65536,
	  "MMM",
	  { { "MESSAGE", "a@x", "hello" }, { "INVITE", "b@x", SDP }, { "OPTIONS", "c@x", "" } } },
	{ ROW("a lone CRLF is a pong: nothing happens"), "\r\n", 65536, "" },
	{ ROW("CRLF CRLF alone is one ping"), PING, 65536, "P" },
	{ ROW("three CRLFs: one ping and half of the next"), PING "\r\n", 65536, "P" },
	{ ROW("two pings"), PING PING, 65536, "PP" },
	{ ROW("leading CRLF (a pong) before a message"), "\r\n" MSG_A, 65536, "M",
	  { { "MESSAGE", "a@x", "hello" } } },
	{ ROW("single CRLFs between messages are not pings"), MSG_A "\r\n" OPTIONS_C "\r\n", 65536,
	  "MM", { { "MESSAGE", "a@x", "hello" }, { "OPTIONS", "c@x", "" } } },
	{ ROW("pings before, between and after messages"),
	  PING MSG_A PING PING INVITE_B PING "\r\n", 65536, "PMPPMP",
	  { { "MESSAGE", "a@x", "hello" }, { "INVITE", "b@x", SDP } } },
	{ ROW("CRLF CRLF inside a body is body, not a ping"),
	  REQ("MESSAGE", "d@x", "", "12", "\r\n\r\nab\r\n\r\n\r\n") OPTIONS_C, 65536, "MM",
	  { { "MESSAGE", "d@x", "\r\n\r\nab\r\n\r\n\r\n" }, { "OPTIONS", "c@x", "" } } },
	{ ROW("body of 3000 bytes spans reads"),
	  REQ("MESSAGE", "e@x", "", "3000", "{y2999}z") MSG_A, 65536, "MM",
	  { { "MESSAGE", "e@x", "{y2999}z" }, { "MESSAGE", "a@x", "hello" } } },
	{ ROW("body of 10000 bytes, over several parser chunks"),
	  REQ("MESSAGE", "e2@x", "", "10000", "a{b9998}c") OPTIONS_C, 65536, "MM",
	  { { "MESSAGE", "e2@x", "a{b9998}c" }, { "OPTIONS", "c@x", "" } } },
	{ ROW("stream ends inside the headers"), MSG_A "OPTIONS sip:x SIP/2.0\r\nVia: SIP",
	  65536, "M", { { "MESSAGE", "a@x", "hello" } }, true },
	{ ROW("stream ends inside the body"), REQ("MESSAGE", "f@x", "", "10", "12345"), 65536,
	  "", { { NULL } }, true },
	{ ROW("two messages and a ping in one read"), MSG_A OPTIONS_C PING, 65536, "MMP",
	  { { "MESSAGE", "a@x", "hello" }, { "OPTIONS", "c@x", "" } } },
	{ ROW("a message, then the start of the next one's body"),
	  MSG_A REQ("MESSAGE", "f2@x", "", "10", "12345"), 65536, "M",
	  { { "MESSAGE", "a@x", "hello" } }, true },
	{ ROW("headers without Content-Length, then nothing yet"),
	  "OPTIONS sip:x@y SIP/2.0\r\nCall-ID: o@x\r\nCSeq: 1 OPTIONS\r\n\r\n", 65536, "",
	  { { NULL } }, true },
	/* ---- line ends other than CRLF, taken as Sofia takes them ---- */
	{ ROW("bare LF line ends"), HEAD("\n", "MESSAGE", "lf@x", "", "5") "\nhello" OPTIONS_C,
	  65536, "MM", { { "MESSAGE", "lf@x", "hello" }, { "OPTIONS", "c@x", "" } } },
	{ ROW("lone CR line ends"), HEAD("\r", "MESSAGE", "cr@x", "", "5") "\rhello" OPTIONS_C,
	  65536, "MM", { { "MESSAGE", "cr@x", "hello" }, { "OPTIONS", "c@x", "" } } },
	/* Sofia ends the headers at the second CR, before our empty line. */
	{ ROW("lone CR before CR LF: the headers end there"),
	  HEAD("\r\n", "OPTIONS", "cr2@x", "", "0\r") OPTIONS_C, 65536, "MM",
	  { { "OPTIONS", "cr2@x", "" }, { "OPTIONS", "c@x", "" } } },
	{ ROW("lone CR line ends, then a ping"), HEAD("\r", "OPTIONS", "cr3@x", "", "0") "\r" PING
	  OPTIONS_C, 65536, "MPM", { { "OPTIONS", "cr3@x", "" }, { "OPTIONS", "c@x", "" } } },
	/* Our scan ends the headers at the LF LF of the body: the total is
	 * measured from where Sofia ended them. */
	{ ROW("lone CR line ends, exactly at the cap, LF LF in the body"),
	  HEAD("\r", "MESSAGE", "cr5@x", "", "20") "\rab\n\ncdefghijklmnopqr", 0, "M",
	  { { "MESSAGE", "cr5@x", "ab\n\ncdefghijklmnopqr" } } },
	{ ROW("what follows a lone-CR end of headers is the next message"),
	  HEAD("\r\n", "OPTIONS", "cr4@x", "", "0\r") "X-A: 1\r\n\r\n" OPTIONS_C, 65536, "MB",
	  { { "OPTIONS", "cr4@x", "" } } },
	/* ---- the size cap ---- */
	{ ROW("message exactly at the cap"), REQ("MESSAGE", "g@x", "", "600", "{q600}"), 0, "M",
	  { { "MESSAGE", "g@x", "{q600}" } } },
	{ ROW("1.6 KB message under a 2000-byte cap"), REQ("MESSAGE", "g@x", "", "1400", "{q1400}"),
	  2000, "M", { { "MESSAGE", "g@x", "{q1400}" } } },
	{ ROW("four small messages, together over the cap"), MSG_A MSG_A MSG_A MSG_A, 1024, "MMMM",
	  { { "MESSAGE", "a@x", "hello" }, { "MESSAGE", "a@x", "hello" },
	    { "MESSAGE", "a@x", "hello" }, { "MESSAGE", "a@x", "hello" } } },
	{ ROW("headers + body one byte over the cap"), REQ("MESSAGE", "g@x", "", "600", "{q600}"),
	  -1, "L" },
	{ ROW("10 KB message exactly at the cap"), REQ("MESSAGE", "g2@x", "", "10000", "{r10000}"),
	  0, "M", { { "MESSAGE", "g2@x", "{r10000}" } } },
	{ ROW("10 KB message one byte over the cap"),
	  REQ("MESSAGE", "g2@x", "", "10000", "{r10000}"), -1, "L", .culprit = "g2@x" },
	/* The second message is 247 bytes of headers and 777 or 778 of body. */
	{ ROW("message exactly at the cap after a good one"),
	  MSG_A REQ("MESSAGE", "g3@x", "", "777", "{r777}"), 1024, "MM",
	  { { "MESSAGE", "a@x", "hello" }, { "MESSAGE", "g3@x", "{r777}" } } },
	{ ROW("message one byte over the cap after a good one"),
	  MSG_A REQ("MESSAGE", "g3@x", "", "778", "{r778}"), 1024, "ML",
	  { { "MESSAGE", "a@x", "hello" } } },
	/* ---- header count ---- */
	{ ROW("exactly max_headers headers"), REQ("MESSAGE", "n1@x", "X-A: 1\r\nX-B: 2\r\n", "0", ""),
	  65536, "M", { { "MESSAGE", "n1@x", "" } }, .max_headers = 9 },
	{ ROW("one header over max_headers"), REQ("MESSAGE", "n2@x", "X-A: 1\r\nX-B: 2\r\n", "0", ""),
	  65536, "H", .max_headers = 8 },
	{ ROW("header line beyond the cap"), REQ("MESSAGE", "h@x", "Subject: {s3000}\r\n", "0", ""),
	  1024, "L", .culprit = "h@x" },
	{ ROW("header line beyond a cap larger than a parser chunk"),
	  REQ("MESSAGE", "h2@x", "Subject: {s20000}\r\n", "0", ""), 8192, "L" },
	{ ROW("Content-Length beyond the cap"), REQ("MESSAGE", "i@x", "", "5000", "{b5000}"), 1024,
	  "L", .culprit = "i@x" },
	{ ROW("Content-Length beyond the cap, headers only so far"),
	  REQ("MESSAGE", "i2@x", "", "2000", ""), 1024, "L" },
	/* The body (900) fits the cap but headers (247) + body do not:
	 * refused as soon as the headers are in. */
	{ ROW("headers + announced body beyond the cap, headers only so far"),
	  REQ("MESSAGE", "i3@x", "", "900", ""), 1024, "L" },
	{ ROW("largest 32-bit Content-Length, little body sent"),
	  REQ("MESSAGE", "j@x", "", "4294967295", "abc"), 1024, "L" },
	{ ROW("Content-Length over 32 bits is broken framing"),
	  REQ("MESSAGE", "j@x", "", "99999999999", "abc"), 1024, "B" },
	{ ROW("good message, then one over the cap"),
	  MSG_A REQ("MESSAGE", "k@x", "", "2000", "{b2000}"), 1024, "ML",
	  { { "MESSAGE", "a@x", "hello" } } },
	/* ---- broken framing ---- */
	{ ROW("Content-Length: abc"), REQ("MESSAGE", "l@x", "", "abc", "hello"), 65536, "B",
	  .culprit = "l@x" },
	{ ROW("negative Content-Length"), REQ("MESSAGE", "l@x", "", "-5", "hello"), 65536, "B" },
	{ ROW("two different Content-Length headers"),
	  REQ("MESSAGE", "m@x", "Content-Length: 3\r\n", "5", "hello"), 65536, "B" },
	{ ROW("garbage instead of a request line"), "HELLO THERE\r\n\r\n", 65536, "B" },
	{ ROW("no Content-Length on a stream (RFC 3261 18.3) is broken framing"),
	  "OPTIONS sip:x@y SIP/2.0\r\nCall-ID: o@x\r\nCSeq: 1 OPTIONS\r\n\r\n" MSG_A, 65536,
	  "B" },
	{ ROW("ping, good message, then broken framing"),
	  PING MSG_A REQ("MESSAGE", "n@x", "", "x5", "hello"), 65536, "PMB",
	  { { "MESSAGE", "a@x", "hello" } } },
};

/* ---- one feeding of a stream ---- */

struct outcome {
	char events[MAX_EVENTS + 1];
	size_t n_events;
	msg_t *msgs[MAX_MSGS];
	size_t n_msgs;
	bool inside;        /* frame_in_message() at the end */
	bool sticky_ok;     /* a failure repeated, and feeding then said -EPROTO */
	int first_feed_err; /* the first non-zero frame_feed() return */
	char culprit[64];   /* Call-ID handed out with L or B, or "" */
};

static void outcome_free(struct outcome *o)
{
	for (size_t i = 0; i < o->n_msgs; i++)
		msg_destroy(o->msgs[i]);
}

static void note(struct outcome *o, char what, msg_t *msg)
{
	if (o->n_events < MAX_EVENTS)
		o->events[o->n_events++] = what;
	if (what == 'M' && o->n_msgs < MAX_MSGS) {
		o->msgs[o->n_msgs++] = msg;
		return;
	}
	if (msg && sip_object(msg) && sip_object(msg)->sip_call_id)
		snprintf(o->culprit, sizeof(o->culprit), "%s", sip_object(msg)->sip_call_id->i_id);
	if (msg)
		msg_destroy(msg); /* the culprit of L or B, or one message too many */
}

/* After a failure: it repeats without a message, and feeding is refused. */
static bool failure_sticks(struct frame *f, enum frame_event ev)
{
	msg_t *msg = (msg_t *)1;
	bool ok = frame_next(f, &msg) == ev && msg == NULL;

	return frame_feed(f, "x", 1) == -EPROTO && ok && frame_next(f, &msg) == ev && !msg;
}

/* Drain events; true when the stream failed. */
static bool drain(struct frame *f, struct outcome *o)
{
	static const char code[] = {
		[FRAME_MESSAGE] = 'M', [FRAME_PING] = 'P', [FRAME_TOO_LARGE] = 'L',
		[FRAME_TOO_MANY_HEADERS] = 'H', [FRAME_BROKEN] = 'B',
	};
	enum frame_event ev;
	msg_t *msg;

	for (int guard = 0; guard < 64; guard++) {
		ev = frame_next(f, &msg);
		if (ev == FRAME_NEED_MORE)
			return false;
		note(o, code[ev], msg);
		if (ev == FRAME_TOO_LARGE || ev == FRAME_TOO_MANY_HEADERS || ev == FRAME_BROKEN) {
			o->sticky_ok = failure_sticks(f, ev);
			return true;
		}
	}
	note(o, '!', NULL); /* frame_next never said FRAME_NEED_MORE */
	return true;
}

/* Feed one read from a buffer of its own, as a connection's read buffer,
 * and drain it; the framer only borrows the bytes, so they are scribbled
 * over and freed after the drain (valgrind sees a later read). True when
 * the stream failed. */
static bool feed_read(struct frame *f, const char *bytes, size_t n, struct outcome *o)
{
	char *read_buf = malloc(n);
	int r;
	bool failed;

	assert_non_null(read_buf);
	memcpy(read_buf, bytes, n);
	r = frame_feed(f, read_buf, n);
	if (r && !o->first_feed_err)
		o->first_feed_err = r;
	failed = drain(f, o);
	memset(read_buf, 'X', n);
	free(read_buf);
	return failed;
}

/* Feed buf cut at cuts[0..ncuts) (sorted), draining after every read. */
static void feed(const char *buf, size_t len, size_t cap, unsigned max_headers,
		 const size_t *cuts, size_t ncuts, struct outcome *o)
{
	struct frame *f = frame_new(cap, max_headers);
	size_t from = 0;

	assert_non_null(f);
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		bool failed;

		if (to <= from)
			continue;
		failed = feed_read(f, buf + from, to - from, o);
		from = to;
		if (failed)
			break;
	}
	o->inside = frame_in_message(f);
	frame_free(f);
}

/* ---- checking one outcome against its row ---- */

struct where {
	int line;
	const char *desc;
};

static bool check_msg(const struct where *w, msg_t *msg, const struct want_msg *want)
{
	sip_t *sip = sip_object(msg);
	size_t blen;
	char *body = repeat_expand(want->body, &blen);
	bool ok = CHECK_TRUE(w, sip && sip->sip_request && sip->sip_call_id);

	if (ok) {
		const sip_payload_t *pl = sip->sip_payload;

		ok = CHECK_STR(w, sip->sip_request->rq_method_name, want->method) &&
		     CHECK_STR(w, sip->sip_call_id->i_id, want->call_id) &&
		     CHECK_INT(w, pl ? pl->pl_len : 0, blen) &&
		     CHECK_TRUE(w, blen == 0 || memcmp(pl->pl_data, body, blen) == 0);
	}
	free(body);
	return ok;
}

static bool check_outcome(const struct frame_row *r, const struct where *w,
			  const struct outcome *o)
{
	size_t n_want = 0;
	bool failed = strpbrk(r->events, "LB") != NULL;
	bool ok = CHECK_STR(w, o->events, r->events);

	for (const char *e = r->events; *e; e++)
		n_want += *e == 'M';
	ok = ok && CHECK_INT(w, o->n_msgs, n_want);
	for (size_t i = 0; ok && i < n_want; i++)
		ok = check_msg(w, o->msgs[i], &r->msgs[i]);
	if (failed && r->culprit)
		ok = ok && CHECK_STR(w, o->culprit, r->culprit);
	if (failed)
		return ok && CHECK_TRUE(w, o->sticky_ok);
	return ok && CHECK_INT(w, o->first_feed_err, 0) && CHECK_INT(w, o->inside, r->ends_inside);
}

/* ---- the cuttings ---- */

static uint64_t prng_state;

static uint64_t prng(void)
{
	/* splitmix64 */
	uint64_t z = (prng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* "desc [N bytes, how they were cut]" */
static void describe(char *out, size_t outlen, const char *desc, const size_t *cuts, size_t n,
		     size_t len)
{
	int k = snprintf(out, outlen, "%s [%zu bytes, ", desc, len);

	if (n > MAX_CUTS) {
		snprintf(out + k, outlen - (size_t)k, "byte by byte]");
		return;
	}
	if (n == 0) {
		snprintf(out + k, outlen - (size_t)k, "in one read]");
		return;
	}
	k += snprintf(out + k, outlen - (size_t)k, "reads cut at");
	for (size_t i = 0; i < n && (size_t)k < outlen; i++)
		k += snprintf(out + k, outlen - (size_t)k, " %zu", cuts[i]);
	if ((size_t)k < outlen)
		snprintf(out + k, outlen - (size_t)k, "]");
}

/* Feed one cutting and check it; false (and a report) on a mismatch. */
static bool try_cutting(const struct frame_row *r, const char *buf, size_t len, size_t cap,
			const size_t *cuts, size_t ncuts)
{
	char desc[512];
	struct where w = { r->line, desc };
	struct outcome o;
	bool ok;

	describe(desc, sizeof(desc), r->desc, cuts, ncuts, len);
	feed(buf, len, cap, r->max_headers, cuts, ncuts, &o);
	ok = check_outcome(r, &w, &o);
	outcome_free(&o);
	return ok;
}

static void run_row(const struct frame_row *r)
{
	size_t len, cuts[MAX_CUTS];
	char *buf = repeat_expand(r->raw, &len);
	size_t cap = r->cap > 0 ? (size_t)r->cap : (size_t)((long)len + r->cap);
	size_t *every = malloc((len + 1) * sizeof(*every));
	bool ok;

	assert_non_null(every);
	for (size_t i = 0; i < len; i++)
		every[i] = i + 1;
	ok = try_cutting(r, buf, len, cap, NULL, 0) &&
	     try_cutting(r, buf, len, cap, every, len);
	for (int s = 0; ok && s < SPLITS_PER_ROW; s++) {
		size_t n = (size_t)(prng() % (MAX_CUTS + 1));

		for (size_t i = 0; i < n; i++)
			cuts[i] = len > 1 ? 1 + (size_t)(prng() % (len - 1)) : 0;
		qsort(cuts, n, sizeof(cuts[0]), cmp_size);
		ok = try_cutting(r, buf, len, cap, cuts, n);
	}
	free(every);
	free(buf);
}

static void test_stream_table(void **state)
{
	prng_state = 20240601;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		run_row(&rows[i]);
	rows_done();
}

/* Feeding again before the last bytes are drained is refused: they are
 * borrowed, and would be lost. */
static void test_feed_before_drain(void **state)
{
	static const char msg_a[] = MSG_A;
	struct frame *f = frame_new(65536, 0);
	msg_t *msg;

	assert_non_null(f);
	assert_int_equal(frame_feed(f, msg_a, 10), 0);
	assert_int_equal(frame_feed(f, msg_a + 10, sizeof(msg_a) - 11), -EBUSY);
	assert_int_equal(frame_next(f, &msg), FRAME_NEED_MORE);
	assert_true(frame_in_message(f));
	assert_int_equal(frame_feed(f, msg_a + 10, sizeof(msg_a) - 11), 0);
	assert_int_equal(frame_next(f, &msg), FRAME_MESSAGE);
	msg_destroy(msg);
	assert_int_equal(frame_next(f, &msg), FRAME_NEED_MORE);
	assert_false(frame_in_message(f));
	frame_free(f);
}

/* The raw notation and the SDP length the rows rely on. */
static void test_fixtures(void **state)
{
	size_t len;
	char *s = repeat_expand("a{b3}c{\n2}", &len);

	assert_int_equal(len, 7);
	assert_memory_equal(s, "abbbc\n\n", 8);
	free(s);
	assert_int_equal(strlen(SDP), atoi(SDP_LEN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_stream_table),
		cmocka_unit_test(test_feed_before_drain),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
