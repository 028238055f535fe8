/* test_sipmsg: request checks and header edits (proxy/sipmsg.h).
 *
 * Messages are parsed the way the framer parses them (MSG_FLG_EXTRACT_COPY,
 * so untouched headers keep their raw text) and serialized the way
 * sipmsg_send does (msg_serialize, msg_prepare, msg_iovec); the tables
 * assert whole header lines of the output. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "proxy/sipmsg.h"

/* A request: request line, Via line(s), then more header lines. */
#define RQ(rline, via, more)                                                   \
	rline "\r\n" via "From: <sip:alice@partner.example.test>;tag=f1\r\n"   \
	"To: <sip:bob@example.test>\r\n" more "\r\n"
#define RLINE "MESSAGE sip:bob@example.test SIP/2.0"
#define VIA "Via: SIP/2.0/TLS edge.partner.example.test:5061;branch=z9hG4bK-1\r\n"
#define TAIL "Max-Forwards: 70\r\nCall-ID: c1@p\r\nCSeq: 7 MESSAGE\r\nContent-Length: 0\r\n"
#define GOOD RQ(RLINE, VIA, TAIL)

static msg_t *parse(const char *text)
{
	msg_t *msg = msg_make(sip_default_mclass(), MSG_FLG_EXTRACT_COPY, text,
			      (ssize_t)strlen(text));

	assert_non_null(msg);
	assert_non_null(sip_object(msg));
	return msg;
}

/* The bytes sipmsg_send would write. Free with free(). */
static char *wire(msg_t *msg)
{
	msg_iovec_t vec[256];
	isize_t n;
	size_t len = 0;
	char *out;

	assert_true(msg_serialize(msg, NULL) >= 0);
	assert_true(msg_prepare(msg) >= 0);
	n = msg_iovec(msg, vec, 256);
	assert_true(n > 0 && n <= 256);
	for (isize_t i = 0; i < n; i++)
		len += vec[i].mv_len;
	out = malloc(len + 1);
	assert_non_null(out);
	len = 0;
	for (isize_t i = 0; i < n; i++) {
		memcpy(out + len, vec[i].mv_base, vec[i].mv_len);
		len += vec[i].mv_len;
	}
	out[len] = '\0';
	return out;
}

/* The nth (0-based) line of text starting with prefix, without its CRLF,
 * in buf; NULL when there is none. */
static const char *line_of(const char *text, const char *prefix, int nth, char *buf,
			   size_t buflen)
{
	size_t plen = strlen(prefix);

	for (const char *p = text; p && *p; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL) {
		if (strncmp(p, prefix, plen) != 0 || nth-- > 0)
			continue;
		size_t n = strcspn(p, "\r\n");

		snprintf(buf, buflen, "%.*s", (int)n, p);
		return buf;
	}
	return NULL;
}

/* ---- sipmsg_check_request ---- */

struct check_row {
	int line;
	const char *desc;
	const char *text;
	const char *phrase; /* NULL: the request passes */
};

#define MALFORMED "Malformed Header"
#define MANDATORY "Missing or Inconsistent Mandatory Header"

static const struct check_row check_rows[] = {
	{ ROW("good request"), GOOD, NULL },
	{ ROW("good INVITE with body"), RQ("INVITE sip:bob@example.test SIP/2.0", VIA,
	  "Max-Forwards: 70\r\nCall-ID: c1@p\r\nCSeq: 1 INVITE\r\nContact: <sip:a@192.0.2.1>\r\n"
	  "Content-Type: text/plain\r\nContent-Length: 2\r\n") "hi", NULL },
	{ ROW("CSeq number not a number"), RQ(RLINE, VIA,
	  "Max-Forwards: 70\r\nCall-ID: c1@p\r\nCSeq: seven MESSAGE\r\nContent-Length: 0\r\n"),
	  MALFORMED },
	{ ROW("CSeq method differs from the request's"), RQ(RLINE, VIA,
	  "Max-Forwards: 70\r\nCall-ID: c1@p\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n"),
	  MANDATORY },
	{ ROW("no CSeq"),
	  RQ(RLINE, VIA, "Max-Forwards: 70\r\nCall-ID: c1@p\r\nContent-Length: 0\r\n"),
	  MANDATORY },
	{ ROW("broken Via"), RQ(RLINE, "Via: garbage\r\n", TAIL), MALFORMED },
	{ ROW("no Via"), RQ(RLINE, "", TAIL), MANDATORY },
	{ ROW("Via without branch"), RQ(RLINE, "Via: SIP/2.0/TLS edge.partner.example.test\r\n",
	  TAIL), "Via Without Branch" },
	{ ROW("no Call-ID"), RQ(RLINE, VIA, "Max-Forwards: 70\r\nCSeq: 7 MESSAGE\r\n"
	  "Content-Length: 0\r\n"), MANDATORY },
	{ ROW("Max-Forwards not a number"), RQ(RLINE, VIA, "Max-Forwards: many\r\nCall-ID: c1@p\r\n"
	  "CSeq: 7 MESSAGE\r\nContent-Length: 0\r\n"), MALFORMED },
	{ ROW("Max-Forwards negative"), RQ(RLINE, VIA, "Max-Forwards: -1\r\nCall-ID: c1@p\r\n"
	  "CSeq: 7 MESSAGE\r\nContent-Length: 0\r\n"), MALFORMED },
	{ ROW("From broken"), "MESSAGE sip:bob@example.test SIP/2.0\r\n" VIA
	  "From: <sip:alice@partner.example.test\r\nTo: <sip:bob@example.test>\r\n" TAIL "\r\n",
	  MALFORMED },
	{ ROW("no To"), "MESSAGE sip:bob@example.test SIP/2.0\r\n" VIA
	  "From: <sip:alice@partner.example.test>;tag=f1\r\n" TAIL "\r\n", MANDATORY },
	{ ROW("Request-URI is *"), RQ("OPTIONS * SIP/2.0", VIA, "Max-Forwards: 70\r\n"
	  "Call-ID: c1@p\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n"), "Bad Request-URI" },
	{ ROW("Request-URI without a host"), RQ("MESSAGE tel:+15551234 SIP/2.0", VIA, TAIL),
	  "Bad Request-URI" },
	{ ROW("no Content-Length"), RQ(RLINE, VIA, "Max-Forwards: 70\r\nCall-ID: c1@p\r\n"
	  "CSeq: 7 MESSAGE\r\n"), "Missing Content-Length" },
};

static void test_check_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(check_rows); i++) {
		const struct check_row *r = &check_rows[i];
		msg_t *msg = parse(r->text);
		const char *phrase = NULL;
		int rc = sipmsg_check_request(msg, sip_object(msg), &phrase);

		CHECK_INT(r, rc, r->phrase ? -EBADMSG : 0);
		if (r->phrase)
			CHECK_STR(r, phrase, r->phrase);
		msg_destroy(msg);
	}
	rows_done();
}

/* ---- sipmsg_mark_received ---- */

struct received_row {
	int line;
	const char *desc;
	const char *via;  /* the top Via line of the request */
	const char *ip;
	unsigned port;
	const char *want; /* the top Via line after marking */
};

#define VIA_HOST "Via: SIP/2.0/TLS edge.partner.example.test:5061;branch=z9hG4bK-1"
#define VIA_IP "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-1"

static const struct received_row received_rows[] = {
	{ ROW("host name differs from the source"), VIA_HOST, "192.0.2.1", 40000,
	  VIA_HOST ";received=192.0.2.1" },
	{ ROW("host is the source IP: unchanged"), VIA_IP, "192.0.2.1", 40000, VIA_IP },
	{ ROW("another IP than the source"), VIA_IP, "198.51.100.2", 40000,
	  VIA_IP ";received=198.51.100.2" },
	{ ROW("rport asked: filled, and received added (RFC 3581)"), VIA_IP ";rport", "192.0.2.1",
	  40000, VIA_IP ";rport=40000;received=192.0.2.1" },
	{ ROW("rport asked, host differs"), VIA_HOST ";rport", "192.0.2.1", 5061,
	  VIA_HOST ";rport=5061;received=192.0.2.1" },
	{ ROW("a forged rport value is replaced"), VIA_IP ";rport=1", "192.0.2.1", 40000,
	  VIA_IP ";rport=40000;received=192.0.2.1" },
	{ ROW("a forged received is replaced"), VIA_HOST ";received=203.0.113.9", "192.0.2.1",
	  40000, VIA_HOST ";received=192.0.2.1" },
	{ ROW("IPv6 source"), VIA_HOST, "2001:db8::1", 40000, VIA_HOST ";received=2001:db8::1" },
};

static void test_received_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(received_rows); i++) {
		const struct received_row *r = &received_rows[i];
		char text[1024], got[512], *out;
		msg_t *msg;

		snprintf(text, sizeof(text), RQ(RLINE, "%s\r\n", TAIL), r->via);
		msg = parse(text);
		sipmsg_mark_received(msg, sip_object(msg), r->ip, (uint16_t)r->port);
		out = wire(msg);
		CHECK_STR(r, line_of(out, "Via:", 0, got, sizeof(got)), r->want);
		free(out);
		msg_destroy(msg);
	}
	rows_done();
}

/* ---- sipmsg_decrement_max_forwards ---- */

struct mf_row {
	int line;
	const char *desc;
	const char *header; /* the Max-Forwards line, or "" */
	bool want_rc;
	const char *want;   /* the Max-Forwards line after */
};

static const struct mf_row mf_rows[] = {
	{ ROW("70 becomes 69"), "Max-Forwards: 70\r\n", true, "Max-Forwards: 69" },
	{ ROW("1 becomes 0"), "Max-Forwards: 1\r\n", true, "Max-Forwards: 0" },
	{ ROW("0 is the end: refused, unchanged"), "Max-Forwards: 0\r\n", false,
	  "Max-Forwards: 0" },
	{ ROW("255 becomes 254"), "Max-Forwards: 255\r\n", true, "Max-Forwards: 254" },
	{ ROW("absent: 70 is inserted"), "", true, "Max-Forwards: 70" },
};

static void test_max_forwards_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(mf_rows); i++) {
		const struct mf_row *r = &mf_rows[i];
		char text[1024], got[128], *out;
		msg_t *msg;

		snprintf(text, sizeof(text),
			 RQ(RLINE, VIA,
			    "%sCall-ID: c1@p\r\nCSeq: 7 MESSAGE\r\nContent-Length: 0\r\n"),
			 r->header);
		msg = parse(text);
		CHECK_INT(r, sipmsg_decrement_max_forwards(msg, sip_object(msg)), r->want_rc);
		out = wire(msg);
		CHECK_STR(r, line_of(out, "Max-Forwards:", 0, got, sizeof(got)), r->want);
		CHECK_TRUE(r, line_of(out, "Max-Forwards:", 1, got, sizeof(got)) == NULL);
		free(out);
		msg_destroy(msg);
	}
	rows_done();
}

/* ---- pushing our Via and Record-Route ---- */

struct via_row {
	int line;
	const char *desc;
	const char *transport, *host;
	unsigned port;
	const char *branch;
	const char *want; /* the top Via line after pushing */
};

static const struct via_row via_rows[] = {
	{ ROW("inside, TCP"), "TCP", "10.1.2.3", 5066, "z9hG4bK-fp1",
	  "Via: SIP/2.0/TCP 10.1.2.3:5066;branch=z9hG4bK-fp1" },
	{ ROW("outside, TLS, a name"), "TLS", "fedproxy.example.test", 5061, "z9hG4bK-2",
	  "Via: SIP/2.0/TLS fedproxy.example.test:5061;branch=z9hG4bK-2" },
	{ ROW("largest port"), "TLS", "192.0.2.5", 65535, "z9hG4bK-3",
	  "Via: SIP/2.0/TLS 192.0.2.5:65535;branch=z9hG4bK-3" },
	{ ROW("one-digit port"), "TCP", "192.0.2.5", 7, "z9hG4bK-4",
	  "Via: SIP/2.0/TCP 192.0.2.5:7;branch=z9hG4bK-4" },
	{ ROW("a branch as forward.c makes it"), "TLS", "fedproxy.example.test", 5061,
	  "z9hG4bK-fp1a2b3c4d0000000000000001.0123456789abcdef0123456789abcdef",
	  "Via: SIP/2.0/TLS fedproxy.example.test:5061;"
	  "branch=z9hG4bK-fp1a2b3c4d0000000000000001.0123456789abcdef0123456789abcdef" },
};

/* Ours on top of the two the request came with, which stay as they were. */
static void check_pushed_via(const struct via_row *r, msg_t *msg)
{
	char got[256], *out = wire(msg);

	CHECK_STR(r, sip_object(msg)->sip_via->v_branch, r->branch);
	CHECK_STR(r, line_of(out, "Via:", 0, got, sizeof(got)), r->want);
	CHECK_STR(r, line_of(out, "Via:", 1, got, sizeof(got)), VIA_HOST);
	CHECK_STR(r, line_of(out, "Via:", 2, got, sizeof(got)),
		  "Via: SIP/2.0/TCP 10.0.0.5:5070;branch=z9hG4bK-0");
	CHECK_TRUE(r, line_of(out, "Via:", 3, got, sizeof(got)) == NULL);
	free(out);
}

static void test_push_via_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(via_rows); i++) {
		const struct via_row *r = &via_rows[i];
		msg_t *msg = parse(RQ(RLINE, VIA "Via: SIP/2.0/TCP 10.0.0.5:5070;branch=z9hG4bK-0\r\n",
				      TAIL));

		if (CHECK_INT(r, sipmsg_push_via(msg, sip_object(msg), r->transport, r->host,
						 (uint16_t)r->port, r->branch), 0))
			check_pushed_via(r, msg);
		msg_destroy(msg);
	}
	rows_done();
}

/* Two of ours, as forward.c pushes them, on top of the one there. */
static void test_push_record_route(void **state)
{
	msg_t *msg =
		parse(RQ(RLINE, VIA, "Record-Route: <sip:p1.partner.example.test;lr>\r\n" TAIL));
	sip_t *sip = sip_object(msg);
	char got[256], *out;

	assert_int_equal(sipmsg_push_record_route(msg, sip, "fedproxy.example.test", 5061,
						  "transport=tls;lr;fpx=e"), 0);
	assert_int_equal(sipmsg_push_record_route(msg, sip, "10.1.2.3", 5066,
						  "transport=tcp;lr;fpx=i"), 0);
	/* What request.c will look for when the entry comes back as a Route. */
	assert_true(url_param(sip->sip_record_route->r_url->url_params, "fpx", got, sizeof(got)) > 0);
	assert_string_equal(got, "i");
	out = wire(msg);
	assert_string_equal(line_of(out, "Record-Route:", 0, got, sizeof(got)),
			    "Record-Route: <sip:10.1.2.3:5066;transport=tcp;lr;fpx=i>");
	assert_string_equal(line_of(out, "Record-Route:", 1, got, sizeof(got)),
			    "Record-Route: <sip:fedproxy.example.test:5061;transport=tls;lr;fpx=e>");
	assert_string_equal(line_of(out, "Record-Route:", 2, got, sizeof(got)),
			    "Record-Route: <sip:p1.partner.example.test;lr>");
	assert_null(line_of(out, "Record-Route:", 3, got, sizeof(got)));
	free(out);
	msg_destroy(msg);
}

/* Edits leave every other header byte for byte (EXTRACT_COPY). */
static void test_untouched_headers_kept(void **state)
{
	msg_t *msg = parse(RQ(RLINE, VIA,
			      "Record-Route: <sip:p1.partner.example.test;lr>;x=Y%41\r\n"
			      "X-Odd:   spaced   value\r\n" TAIL));
	sip_t *sip = sip_object(msg);
	char got[256], *out;

	assert_int_equal(
		sipmsg_push_via(msg, sip, "TLS", "fedproxy.example.test", 5061, "z9hG4bK-2"), 0);
	assert_true(sipmsg_decrement_max_forwards(msg, sip));
	out = wire(msg);
	assert_string_equal(line_of(out, "Record-Route:", 0, got, sizeof(got)),
			    "Record-Route: <sip:p1.partner.example.test;lr>;x=Y%41");
	assert_string_equal(line_of(out, "X-Odd:", 0, got, sizeof(got)), "X-Odd:   spaced   value");
	assert_string_equal(line_of(out, "From:", 0, got, sizeof(got)),
			    "From: <sip:alice@partner.example.test>;tag=f1");
	assert_true(strncmp(out, RLINE "\r\n", strlen(RLINE) + 2) == 0);
	free(out);
	msg_destroy(msg);
}

/* ---- sipmsg_remove_named ---- */

struct remove_row {
	int line;
	const char *desc;
	const char *name;
	const char *before; /* header lines between From/To and TAIL */
	const char *after;  /* what is left of them */
};

static const struct remove_row remove_rows[] = {
	{ ROW("known header, two lines"), "Proxy-Require",
	  "Proxy-Require: ms-benotify\r\nSubject: hi\r\nProxy-Require: other\r\n",
	  "Subject: hi\r\n" },
	{ ROW("known header, a comma list"), "Supported",
	  "Supported: timer, path\r\nSubject: hi\r\n", "Subject: hi\r\n" },
	{ ROW("unknown header, name in another case"), "x-odd",
	  "X-Odd: 1\r\nSubject: hi\r\nX-ODD: 2\r\nX-Odder: 3\r\n",
	  "Subject: hi\r\nX-Odder: 3\r\n" },
	{ ROW("known header in compact form"), "Subject", "s: hi\r\nX-Odd: 1\r\n",
	  "X-Odd: 1\r\n" },
	{ ROW("absent header: nothing changes"), "Subject", "X-Odd: 1\r\n", "X-Odd: 1\r\n" },
};

static void test_remove_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(remove_rows); i++) {
		const struct remove_row *r = &remove_rows[i];
		char before[1024], after[1024], *out;
		msg_t *msg;

		snprintf(before, sizeof(before), RQ(RLINE, VIA, "%s" TAIL), r->before);
		snprintf(after, sizeof(after), RQ(RLINE, VIA, "%s" TAIL), r->after);
		msg = parse(before);
		sipmsg_remove_named(msg, sip_object(msg), r->name);
		out = wire(msg);
		CHECK_STR(r, out, after);
		free(out);
		msg_destroy(msg);
	}
	rows_done();
}

/* ---- sipmsg_response ---- */

struct response_row {
	int line;
	const char *desc;
	const char *request;
	int status;
	const char *phrase;
	const char *want_to;   /* To line, or a prefix when want_tag */
	bool want_tag;         /* a tag of ours follows want_to */
	const char *want_cseq; /* CSeq line */
};

static const struct response_row response_rows[] = {
	{ ROW("404 gets a To tag"), GOOD, 404, "Not Found", "To: <sip:bob@example.test>;tag=", true,
	  "CSeq: 7 MESSAGE" },
	{ ROW("100 has no To tag"), GOOD, 100, "Trying", "To: <sip:bob@example.test>", false,
	  "CSeq: 7 MESSAGE" },
	{ ROW("an existing To tag is kept"), "MESSAGE sip:bob@example.test SIP/2.0\r\n" VIA
	  "From: <sip:alice@partner.example.test>;tag=f1\r\nTo: <sip:bob@example.test>;tag=t9\r\n"
	  TAIL "\r\n", 481, "Call/Transaction Does Not Exist", "To: <sip:bob@example.test>;tag=t9",
	  false, "CSeq: 7 MESSAGE" },
	{ ROW("two Vias, both copied"),
	  RQ(RLINE, VIA "Via: SIP/2.0/TCP 10.0.0.5:5070;branch=z9hG4bK-0;received=10.0.0.6\r\n",
	     TAIL), 503, "Service Unavailable",
	  "To: <sip:bob@example.test>;tag=", true, "CSeq: 7 MESSAGE" },
	{ ROW("unparseable CSeq: answered with CSeq 0 and the method"), RQ(RLINE, VIA,
	  "Max-Forwards: 70\r\nCall-ID: c1@p\r\nCSeq: seven MESSAGE\r\nContent-Length: 0\r\n"), 400,
	  "Malformed Header", "To: <sip:bob@example.test>;tag=", true, "CSeq: 0 MESSAGE" },
};

/* Every line of the request starting with prefix is in the response, in
 * the same order, and no other. */
static bool same_lines(const struct response_row *r, const char *req, const char *resp,
		       const char *prefix)
{
	char a[512], b[512];
	int i = 0;
	bool ok = true;

	for (; line_of(req, prefix, i, a, sizeof(a)); i++)
		ok = ok && CHECK_STR(r, line_of(resp, prefix, i, b, sizeof(b)), a);
	return ok && CHECK_TRUE(r, !line_of(resp, prefix, i, b, sizeof(b)));
}

static void check_response(const struct response_row *r, msg_t *resp)
{
	char *req = NULL, *out = wire(resp), got[512], first[128];
	msg_t *again = parse(r->request);
	size_t plen = strlen(r->want_to);

	snprintf(first, sizeof(first), "SIP/2.0 %d %s\r\n", r->status, r->phrase);
	CHECK_TRUE(r, strncmp(out, first, strlen(first)) == 0);
	req = wire(again);
	same_lines(r, req, out, "Via:");
	same_lines(r, req, out, "From:");
	same_lines(r, req, out, "Call-ID:");
	CHECK_STR(r, line_of(out, "CSeq:", 0, got, sizeof(got)), r->want_cseq);
	CHECK_STR(r, line_of(out, "Content-Length:", 0, got, sizeof(got)), "Content-Length: 0");
	CHECK_STR(r, line_of(out, "Server:", 0, got, sizeof(got)), "Server: fedproxy");
	if (CHECK_TRUE(r, line_of(out, "To:", 0, got, sizeof(got)) != NULL)) {
		if (r->want_tag)
			CHECK_TRUE(r, strncmp(got, r->want_to, plen) == 0 && strlen(got) > plen &&
					      !strchr(got + plen, ';'));
		else
			CHECK_STR(r, got, r->want_to);
	}
	free(req);
	free(out);
	msg_destroy(again);
}

static void test_response_table(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(response_rows); i++) {
		const struct response_row *r = &response_rows[i];
		msg_t *req = parse(r->request);
		msg_t *resp = sipmsg_response(req, r->status, r->phrase);

		if (CHECK_TRUE(r, resp != NULL))
			check_response(r, resp);
		msg_destroy(resp);
		msg_destroy(req);
	}
	rows_done();
}

static void test_response_tags_differ(void **state)
{
	msg_t *req = parse(GOOD);
	msg_t *a = sipmsg_response(req, 486, "Busy Here");
	msg_t *b = sipmsg_response(req, 486, "Busy Here");

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(sip_object(a)->sip_to->a_tag);
	assert_string_not_equal(sip_object(a)->sip_to->a_tag, sip_object(b)->sip_to->a_tag);
	msg_destroy(a);
	msg_destroy(b);
	msg_destroy(req);
}

static void test_add_header(void **state)
{
	msg_t *req = parse(GOOD);
	msg_t *resp = sipmsg_response(req, 503, "Service Unavailable");
	char got[128], *out;

	assert_non_null(resp);
	assert_int_equal(sipmsg_add_header(resp, "Retry-After: 30"), 0);
	out = wire(resp);
	assert_string_equal(line_of(out, "Retry-After:", 0, got, sizeof(got)), "Retry-After: 30");
	free(out);
	msg_destroy(resp);
	msg_destroy(req);
}

/* ---- small accessors ---- */

static void test_accessors(void **state)
{
	msg_t *msg = parse(GOOD);
	su_home_t home[1] = { SU_HOME_INIT(home) };

	assert_string_equal(sipmsg_from_domain(sip_object(msg)), "partner.example.test");
	assert_string_equal(sipmsg_call_id(sip_object(msg)), "c1@p");
	assert_string_equal(sipmsg_from_domain(NULL), "-");
	assert_string_equal(sipmsg_call_id(NULL), "-");
	assert_int_equal(sipmsg_url_port(url_make(home, "sip:h.test:5070"), 5061), 5070);
	assert_int_equal(sipmsg_url_port(url_make(home, "sip:h.test"), 5061), 5061);
	assert_int_equal(sipmsg_url_port(url_make(home, "sip:[2001:db8::1]:5080;lr"), 0), 5080);
	su_home_deinit(home);
	msg_destroy(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_received_table),
		cmocka_unit_test(test_max_forwards_table),
		cmocka_unit_test(test_push_via_table),
		cmocka_unit_test(test_push_record_route),
		cmocka_unit_test(test_untouched_headers_kept),
		cmocka_unit_test(test_remove_table),
		cmocka_unit_test(test_response_table),
		cmocka_unit_test(test_response_tags_differ),
		cmocka_unit_test(test_add_header),
		cmocka_unit_test(test_accessors),
	};

	return cmocka_run_group_tests_name("sipmsg", tests, NULL, NULL);
}
