/* emit: write PIDF (and the XML the other writers need) into a growing
 * buffer: escaping, and the one PIDF shape fedproxy sends both ways.
 *
 * The shape depends only on the target, never on what the source said
 * beyond it: no timestamps, fixed tuple and person ids, no device ids. So
 * a politely blocked watcher gets the same bytes as for a real offline
 * (reference section 5). */
#include "presence/presence_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NS_DECLS_PERSON \
	" xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"" \
	" xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\""
#define NS_DECL_LEGACY " xmlns:ep=\"urn:ietf:params:xml:ns:pidf:status:rpid-status\""
/* A PIDF of a few notes fits without a second allocation. */
#define BUF_FIRST 1024

static bool grow(struct pres_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : BUF_FIRST;
	char *p;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (!(p = realloc(b->p, cap))) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void pres_buf_add(struct pres_buf *b, const char *s, size_t n)
{
	if (grow(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

void pres_buf_str(struct pres_buf *b, const char *s)
{
	pres_buf_add(b, s, strlen(s));
}

/* What a byte becomes in content (attr false) or in a quoted attribute;
 * NULL for itself. CR is always a reference, so output never holds a raw
 * CR LF pair (a MIME delimiter needs one). */
static const char *escape(char c, bool attr)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '\r': return "&#13;";
	case '"': return attr ? "&quot;" : NULL;
	case '\n': return attr ? "&#10;" : NULL;
	case '\t': return attr ? "&#9;" : NULL;
	default: return NULL;
	}
}

static void add_escaped(struct pres_buf *b, const char *s, size_t n, bool attr)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		const char *e = escape(s[i], attr);

		if (!e)
			continue;
		pres_buf_add(b, s + run, i - run);
		pres_buf_str(b, e);
		run = i + 1;
	}
	pres_buf_add(b, s + run, n - run);
}

void pres_buf_text(struct pres_buf *b, const char *s, size_t n)
{
	add_escaped(b, s, n, false);
}

void pres_buf_attr(struct pres_buf *b, const char *name, const char *value)
{
	pres_buf_str(b, " ");
	pres_buf_str(b, name);
	pres_buf_str(b, "=\"");
	add_escaped(b, value, strlen(value), true);
	pres_buf_str(b, "\"");
}

int pres_buf_finish(struct pres_buf *b)
{
	if (!grow(b, 0)) {
		free(b->p);
		b->p = NULL;
		return -ENOMEM;
	}
	b->p[b->len] = '\0';
	return 0;
}

/* <status>: basic, the XMPP show, the pre-RFC activity for Lync. */
static void emit_status(struct pres_buf *b, const struct pres_target *t)
{
	const struct pres_render *r = t->render;

	pres_buf_str(b, "  <status>\n   <basic>");
	pres_buf_str(b, r->open ? "open" : "closed");
	pres_buf_str(b, "</basic>\n");
	if (r->open && t->show) {
		pres_buf_str(b, "   <show xmlns=\"jabber:client\">");
		pres_buf_str(b, t->show);
		pres_buf_str(b, "</show>\n");
	}
	if (r->activity && t->legacy) {
		pres_buf_str(b, "   <ep:activities><ep:activity>");
		pres_buf_str(b, r->activity);
		pres_buf_str(b, "</ep:activity></ep:activities>\n");
	}
	pres_buf_str(b, "  </status>\n");
}

static void emit_notes(struct pres_buf *b, const struct pres_target *t)
{
	for (unsigned i = 0; i < t->n_notes; i++) {
		pres_buf_str(b, "  <note");
		if (t->notes[i].lang)
			pres_buf_attr(b, "xml:lang", t->notes[i].lang);
		pres_buf_str(b, ">");
		pres_buf_text(b, t->notes[i].s, t->notes[i].len);
		pres_buf_str(b, "</note>\n");
	}
}

/* dm:person: the RFC 4480 activity and idle, for SIP readers. */
static void emit_person(struct pres_buf *b, const struct pres_target *t)
{
	const struct pres_render *r = t->render;

	pres_buf_str(b, " <dm:person id=\"p0\">\n");
	if (r->activity) {
		pres_buf_str(b, "  <rpid:activities><rpid:");
		pres_buf_str(b, r->activity);
		pres_buf_str(b, "/></rpid:activities>\n");
	}
	if (r->idle) {
		pres_buf_str(b, "  <rpid:user-input");
		if (t->last_input)
			pres_buf_attr(b, "last-input", t->last_input);
		pres_buf_str(b, ">idle</rpid:user-input>\n");
	}
	pres_buf_str(b, " </dm:person>\n");
}

void pres_emit_pidf(struct pres_buf *b, const char *entity, const struct pres_target *t)
{
	const struct pres_render *r = t->render;
	bool person = r && (r->activity || r->idle);

	pres_buf_str(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"");
	if (person)
		pres_buf_str(b, NS_DECLS_PERSON);
	if (r && r->activity && t->legacy)
		pres_buf_str(b, NS_DECL_LEGACY);
	pres_buf_attr(b, "entity", entity);
	if (!r) {
		/* Nothing known: a presence with no tuple. */
		pres_buf_str(b, "/>\n");
		return;
	}
	pres_buf_str(b, ">\n <tuple id=\"t0\">\n");
	emit_status(b, t);
	emit_notes(b, t);
	pres_buf_str(b, " </tuple>\n");
	if (person)
		emit_person(b, t);
	pres_buf_str(b, "</presence>\n");
}
