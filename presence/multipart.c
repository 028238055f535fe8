/* multipart: Content-Type classes and parameters, and multipart/related
 * bodies of an RLMI list (RFC 4662 over RFC 2387): split at the boundary,
 * translate the presence parts, filter the list part, copy the others,
 * and join them again with the same boundary and Content-IDs, so the
 * caller's Content-Type (its start and boundary) still describes the
 * result. Preamble and epilogue are dropped (RFC 2046 says to ignore them). */
#include "presence/presence_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PARTS_MAX 64
/* RFC 2046 section 5.1.1. */
#define BOUNDARY_MAX 70
#define PART_CT_MAX 256

static const struct ct_type {
	const char *type;
	enum pres_ct c;
} ct_types[] = {
	{ "application/pidf+xml", PRES_CT_XML },
	{ "application/pidf-diff+xml", PRES_CT_XML },
	{ "application/msrtc-event-categories+xml", PRES_CT_XML },
	{ "multipart/related", PRES_CT_MULTIPART },
	{ "application/rlmi+xml", PRES_CT_RLMI },
	{ "application/xpidf+xml", PRES_CT_UNSUPPORTED },
	{ "text/xml+msrtc.pidf", PRES_CT_UNSUPPORTED },
};

bool pres_ct_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	ct += strspn(ct, " \t");
	return !strncasecmp(ct, type, n) &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

enum pres_ct pres_ct_class(const char *ct)
{
	char type[64];

	for (size_t i = 0; i < sizeof(ct_types) / sizeof(ct_types[0]); i++) {
		if (!pres_ct_is(ct, ct_types[i].type))
			continue;
		if (ct_types[i].c != PRES_CT_MULTIPART)
			return ct_types[i].c;
		/* Only a list of presence resources is ours. */
		return pres_ct_param(ct, "type", type, sizeof(type)) &&
		       pres_ct_is(type, "application/rlmi+xml") ? PRES_CT_MULTIPART : PRES_CT_OTHER;
	}
	return PRES_CT_OTHER;
}

/* A parameter value at v (quoted-string or token) into out[outlen]
 * (outlen 0: nowhere); *end is where it stops. false if it did not fit. */
static bool param_value(const char *v, char *out, size_t outlen, const char **end)
{
	bool quoted = *v == '"', fits = outlen > 0;
	size_t n = 0;

	for (v += quoted; *v && (quoted ? *v != '"' : !strchr("; \t", *v)); v++) {
		if (quoted && *v == '\\' && v[1])
			v++;
		if (n + 1 < outlen)
			out[n++] = *v;
		else
			fits = false;
	}
	if (outlen)
		out[n] = '\0';
	*end = quoted && *v ? v + 1 : v;
	return fits;
}

bool pres_ct_param(const char *ct, const char *name, char *out, size_t outlen)
{
	const char *p = strchr(ct, ';');

	while (p && *p == ';') {
		const char *key = p + 1 + strspn(p + 1, " \t"), *v, *end;
		size_t klen = strcspn(key, "= \t;");

		v = key + klen + strspn(key + klen, " \t");
		if (*v != '=') {
			p = strchr(key, ';');
			continue;
		}
		v += 1 + strspn(v + 1, " \t");
		if (klen == strlen(name) && !strncasecmp(key, name, klen))
			return param_value(v, out, outlen, &end);
		param_value(v, NULL, 0, &end);
		p = end + strspn(end, " \t");
	}
	return false;
}

/* ---- parts ---- */

struct part {
	const char *head; /* header lines, each with its CRLF */
	size_t head_len;
	const char *body;
	size_t len;
};

/* Headers end at the first empty line; a part may have none. */
static int split_head(const char *p, size_t len, struct part *pt)
{
	const char *blank = len >= 2 && !memcmp(p, "\r\n", 2) ? p - 2 : memmem(p, len, "\r\n\r\n", 4);

	if (!blank)
		return -1;
	pt->head = p;
	pt->head_len = (size_t)(blank + 2 - p);
	pt->body = blank + 4;
	pt->len = (size_t)(p + len - pt->body);
	return 0;
}

/* The parts between delimiters (delim is CRLF "--" boundary); the first
 * may open the body without its CRLF. The count, or -1 when the body is
 * not a closed multipart. */
static int split_parts(const char *body, size_t len, const char *delim, size_t dlen,
		       struct part *parts)
{
	const char *end = body + len, *p = memmem(body, len, delim, dlen);
	int n = 0;

	if (len >= dlen - 2 && !memcmp(body, delim + 2, dlen - 2))
		p = body + dlen - 2;
	else if (p)
		p += dlen;
	while (p) {
		const char *next;

		if (end - p >= 2 && !memcmp(p, "--", 2))
			return n;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || memcmp(p, "\r\n", 2) || n == PARTS_MAX)
			return -1;
		p += 2;
		next = memmem(p, (size_t)(end - p), delim, dlen);
		if (!next || split_head(p, (size_t)(next - p), &parts[n++]) < 0)
			return -1;
		p = next + dlen;
	}
	return -1;
}

/* line[0..len) is header name (with its colon). */
static bool is_header(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && !strncasecmp(line, name, n) && line[n] == ':';
}

/* The part's Content-Type, trimmed, into out; false when absent or long. */
static bool part_type(const struct part *pt, char *out, size_t outlen)
{
	const char *end = pt->head + pt->head_len;

	for (const char *line = pt->head, *eol; line < end; line = eol + 2) {
		const char *v = line + 13;
		size_t n;

		eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (!is_header(line, (size_t)(eol - line), "Content-Type"))
			continue;
		n = (size_t)(eol - v);
		pres_text_fit(&v, &n, outlen);
		if (n >= outlen)
			return false;
		memcpy(out, v, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

/* The part's headers for a translated body: a new type, no length. */
static void translated_head(struct pres_buf *out, const struct part *pt)
{
	const char *end = pt->head + pt->head_len;

	for (const char *line = pt->head, *eol; line < end; line = eol + 2) {
		eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (!is_header(line, (size_t)(eol - line), "Content-Type") &&
		    !is_header(line, (size_t)(eol - line), "Content-Length"))
			pres_buf_add(out, line, (size_t)(eol + 2 - line));
	}
	pres_buf_str(out, "Content-Type: application/pidf+xml\r\n");
}

/* Translate (or filter, or copy) one part's body into out. */
static int part_body(const struct pres_table *t, enum pres_direction dir,
		     const struct pres_route *r, const struct pres_input *in, enum pres_ct c,
		     const char *ct, const struct part *pt, struct pres_buf *out,
		     const char **row, const char **reason)
{
	struct pres_input part = { ct, pt->body, pt->len, in->peer_domain };
	char charset[64];
	const char *cs = pres_ct_param(ct, "charset", charset, sizeof(charset)) ? charset : NULL;

	if (c == PRES_CT_XML)
		return pres_translate_doc(t, dir, r, &part, cs, out, row, reason);
	if (c == PRES_CT_RLMI)
		return pres_rlmi_filter(pt->body, pt->len, cs, out, reason);
	if (c == PRES_CT_UNSUPPORTED) {
		*reason = "presence format not supported";
		return -ENOTSUP;
	}
	pres_buf_add(out, pt->body, pt->len);
	return 0;
}

static int join_part(const struct pres_table *t, enum pres_direction dir,
		     const struct pres_route *r, const struct pres_input *in, const struct part *pt,
		     const char *delim, struct pres_buf *out, const char **row, const char **reason)
{
	char ct[PART_CT_MAX] = "";
	enum pres_ct c = part_type(pt, ct, sizeof(ct)) ? pres_ct_class(ct) : PRES_CT_OTHER;
	const char *part_row = NULL;
	size_t start;
	int rc;

	pres_buf_str(out, delim + 2);
	pres_buf_str(out, "\r\n");
	if (c == PRES_CT_XML)
		translated_head(out, pt);
	else
		pres_buf_add(out, pt->head, pt->head_len);
	pres_buf_str(out, "\r\n");
	start = out->len;
	if ((rc = part_body(t, dir, r, in, c, ct, pt, out, &part_row, reason)) < 0)
		return rc;
	/* What we wrote holds no CR; a lenient reader might split at LF. */
	if (c != PRES_CT_OTHER && !out->oom &&
	    memmem(out->p + start, out->len - start, delim + 1, strlen(delim + 1))) {
		*reason = "multipart boundary inside a translated part";
		return -EBADMSG;
	}
	if (!*row)
		*row = part_row;
	pres_buf_str(out, "\r\n");
	return 0;
}

int pres_multipart_translate(const struct pres_table *t, enum pres_direction dir,
			     const struct pres_route *r, const struct pres_input *in,
			     struct pres_buf *out, const char **row, const char **reason)
{
	char boundary[BOUNDARY_MAX + 1], delim[BOUNDARY_MAX + 5];
	struct part parts[PARTS_MAX];
	int n, rc;

	if (!pres_ct_param(in->content_type, "boundary", boundary, sizeof(boundary)) || !*boundary) {
		*reason = "multipart without a usable boundary";
		return -EBADMSG;
	}
	snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	if ((n = split_parts(in->body, in->len, delim, strlen(delim), parts)) <= 0) {
		*reason = "multipart body not well-formed";
		return -EBADMSG;
	}
	for (int i = 0; i < n; i++)
		if ((rc = join_part(t, dir, r, in, &parts[i], delim, out, row, reason)) < 0)
			return rc;
	pres_buf_str(out, delim + 2);
	pres_buf_str(out, "--\r\n");
	return 0;
}
