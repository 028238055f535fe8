/* xml: read one presence body with libxml2, safely, once, and drive a
 * grammar (presence_int.h) over its elements.
 *
 * Safety (reference section 5, "XML safety", "Size", "Character sets"):
 *  - options XML_PARSE_NONET, and never NOENT, DTDLOAD, DTDATTR or HUGE;
 *  - any DOCTYPE stops the parse at the internalSubset event, before the
 *    internal subset is read: no entity is ever declared, so XXE and
 *    billion-laughs bodies end there;
 *  - more than DEPTH_MAX open elements stop the parse;
 *  - the caller caps the body (PRES_BODY_MAX); texts are kept only up to
 *    their kind's limit, in an arena sized from the body;
 *  - SAX only: no tree is built, the body is read in one pass;
 *  - nothing is printed (NOERROR, NOWARNING), and xmlCleanupParser() is
 *    never called: it is for process exit only.
 *
 * One parser context per thread is reused: making one costs about as much
 * as parsing a small body. Its dictionary keeps every element name seen,
 * so the context is replaced once it holds DICT_MAX names (a peer sending
 * fresh names cannot grow it for ever). */
#include "presence/presence_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/dict.h>
#include <libxml/encoding.h>

/* PIDF and categories need 5 levels, RLMI 3; extensions get room. */
#define DEPTH_MAX 32
#define DICT_MAX 4096
/* BCP 47 tags fit in 35 characters (RFC 5646 section 4.4.1). */
#define LANG_MAX 35
#define OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

struct pres_xml {
	xmlParserCtxtPtr ctxt;             /* borrowed: the thread's parser */
	const struct pres_grammar *g;      /* borrowed */
	void *ctx;                         /* borrowed: the grammar's state */
	struct pres_arena *arena;          /* borrowed */
	unsigned depth;                    /* elements open */
	uint8_t kind[DEPTH_MAX + 1];       /* [0]: PRES_KIND_DOC */
	const char *lang[DEPTH_MAX + 1];   /* xml:lang in force, or NULL */
	size_t text[DEPTH_MAX + 1];        /* arena offset of collected text */
	int err;                           /* 0, or why the parse stopped */
	const char *reason;
};

static __thread xmlParserCtxtPtr cached;

void pres_xml_init(void)
{
	xmlInitParser();
}

int pres_arena_init(struct pres_arena *a, char *stack, size_t n, size_t len)
{
	/* Decoded text is at most 3 bytes of UTF-8 per input byte (a
	 * one-byte charset reaching U+0800..U+FFFF), plus a NUL per text. */
	size_t need = 4 * len + 256;

	a->used = 0;
	a->cap = need <= n ? n : need;
	a->p = need <= n ? stack : malloc(need);
	return a->p ? 0 : -ENOMEM;
}

void pres_arena_release(struct pres_arena *a, const char *stack)
{
	if (a->p != stack)
		free(a->p);
	a->p = NULL;
}

int pres_xml_refuse(struct pres_xml *x, int err, const char *reason)
{
	if (!x->err) {
		x->err = err;
		x->reason = reason;
	}
	xmlStopParser(x->ctxt);
	return err;
}

static struct pres_xml *xml_of(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

/* Bytes the arena can still take, keeping one for a closing NUL. */
static size_t room(const struct pres_arena *a)
{
	return a->used < a->cap ? a->cap - a->used - 1 : 0;
}

/* Copy an attribute value into the arena. libxml2's SAX2 hands '&' over
 * as "&#38;" (it decodes that when it builds a tree), so undo it. */
static const char *copy_attr(struct pres_arena *a, const char *v, size_t len)
{
	char *out = a->p + a->used;
	size_t n = 0;

	if (len > room(a))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		out[n++] = v[i];
		if (v[i] == '&' && len - i >= 5 && !memcmp(v + i, "&#38;", 5))
			i += 4;
	}
	out[n] = '\0';
	a->used += n + 1;
	return out;
}

static bool same_ns(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

const char *pres_xml_attr(struct pres_xml *x, const struct pres_attrs *a, const char *ns,
			  const char *name)
{
	for (int i = 0; i < a->n; i++) {
		const char *const *at = (const char *const *)a->v + 5 * i;

		if (!strcmp(at[0], name) && same_ns(at[2], ns))
			return copy_attr(x->arena, at[3], (size_t)(at[4] - at[3]));
	}
	return NULL;
}

const char *pres_xml_lang(const struct pres_xml *x)
{
	return x->lang[x->depth];
}

/* The element's own xml:lang if it has a usable one, else its parent's;
 * xml:lang="" says "no language". */
static const char *element_lang(struct pres_xml *x, const struct pres_attrs *a)
{
	const char *v = pres_xml_attr(x, a, (const char *)XML_XML_NAMESPACE, "lang");
	size_t n;

	if (!v)
		return x->lang[x->depth - 1];
	n = strlen(v);
	return n && n <= LANG_MAX && strspn(v, "abcdefghijklmnopqrstuvwxyz"
					    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n ? v : NULL;
}

static uint8_t child_kind(const struct pres_grammar *g, uint8_t parent, const char *ns,
			  const char *name)
{
	if (parent == PRES_KIND_SKIP || !ns)
		return PRES_KIND_SKIP;
	for (size_t i = 0; i < g->n_rules; i++) {
		const struct pres_grammar_rule *r = &g->rules[i];

		if (r->parent == parent && !strcmp(r->ns, ns) && (!r->name || !strcmp(r->name, name)))
			return r->child;
	}
	return PRES_KIND_SKIP;
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri,
		     int nb_ns, const xmlChar **ns, int nb_attrs, int nb_defaulted,
		     const xmlChar **attrs)
{
	struct pres_xml *x = xml_of(ctx);
	struct pres_attrs a = { attrs, nb_attrs };
	const struct pres_kind *k;
	uint8_t kind;
	int rc = 0;

	if (x->depth == DEPTH_MAX) {
		pres_xml_refuse(x, -EBADMSG, "XML nested too deeply");
		return;
	}
	kind = child_kind(x->g, x->kind[x->depth], (const char *)uri, (const char *)name);
	x->depth++;
	x->kind[x->depth] = kind;
	/* Skipped subtrees copy nothing: the arena holds only what is read. */
	x->lang[x->depth] = kind == PRES_KIND_SKIP ? NULL : element_lang(x, &a);
	k = &x->g->kinds[kind];
	if (kind != PRES_KIND_SKIP && k->start)
		rc = k->start(x, x->ctx, (const char *)name, &a);
	if (rc > 0)
		x->kind[x->depth] = PRES_KIND_SKIP;
	x->text[x->depth] = x->arena->used;
}

static void on_chars(void *ctx, const xmlChar *s, int len)
{
	struct pres_xml *x = xml_of(ctx);
	const struct pres_kind *k = &x->g->kinds[x->kind[x->depth]];
	struct pres_arena *a = x->arena;
	size_t have = a->used - x->text[x->depth], n;

	if (!k->text_max)
		return;
	/* Leading white space is never kept, so a long run of it costs no room. */
	while (!have && len && pres_is_space(*s))
		s++, len--;
	/* One byte past the limit tells pres_text_fit where to cut. */
	n = (size_t)len;
	if (n > k->text_max + 1u - have)
		n = k->text_max + 1u - have;
	if (n > room(a))
		n = room(a);
	memcpy(a->p + a->used, s, n);
	a->used += n;
}

static void on_end(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
	struct pres_xml *x = xml_of(ctx);
	const struct pres_kind *k = &x->g->kinds[x->kind[x->depth]];
	struct pres_arena *a = x->arena;
	const char *text = NULL;
	size_t len = 0;

	if (k->text_max) {
		text = a->p + x->text[x->depth];
		len = a->used - x->text[x->depth];
		pres_text_fit(&text, &len, k->text_max);
		/* Text was stored only with room for its NUL; none, none needed. */
		if (len) {
			((char *)text)[len] = '\0';
			a->used = (size_t)(text - a->p) + len + 1;
		} else {
			text = "";
		}
	}
	if (x->kind[x->depth] != PRES_KIND_SKIP && k->end)
		k->end(x, x->ctx, text, len);
	x->depth--;
}

static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	pres_xml_refuse(xml_of(ctx), -EBADMSG, "DOCTYPE not allowed");
}

/* The thread's parser, with our SAX handlers only. */
static xmlParserCtxtPtr parser(void)
{
	xmlSAXHandler *sax;

	if (cached)
		return cached;
	if (!(cached = xmlNewParserCtxt()))
		return NULL;
	sax = cached->sax;
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->internalSubset = on_doctype;
	sax->startElementNs = on_start;
	sax->endElementNs = on_end;
	sax->characters = on_chars;
	sax->cdataBlock = on_chars;
	return cached;
}

/* A declaration claiming UTF-16 in the first line. */
static bool declares_utf16(const char *body, size_t len)
{
	size_t n = len < 128 ? len : 128;

	for (size_t i = 0; i + 6 <= n && body[i] != '>'; i++)
		if ((body[i] | 0x20) == 'u' && !strncasecmp(body + i, "utf-16", 6))
			return true;
	return false;
}

/* The charset parameter wins; libxml2 would ignore one it does not know
 * and guess, so such a body is refused. Else libxml2 reads the BOM or the
 * declaration, except that "<?xml" in ASCII under a declaration of UTF-16
 * is a Microsoft server's lie (sipe): such a body is UTF-8. */
static int encoding(const char *body, size_t len, const char *charset, const char **enc)
{
	xmlCharEncodingHandlerPtr h;

	*enc = NULL;
	if (charset && *charset) {
		if (!(h = xmlFindCharEncodingHandler(charset)))
			return -EBADMSG;
		xmlCharEncCloseFunc(h);
		*enc = charset;
	} else if (len >= 5 && !memcmp(body, "<?xml", 5) && declares_utf16(body, len)) {
		*enc = "UTF-8";
	}
	return 0;
}

int pres_xml_read(const char *body, size_t len, const char *charset, const struct pres_grammar *g,
		  void *ctx, struct pres_arena *arena, const char **reason)
{
	struct pres_xml x = { .g = g, .ctx = ctx, .arena = arena, .kind = { PRES_KIND_DOC } };
	const char *enc;
	xmlDocPtr doc;
	int rc = 0;

	if (encoding(body, len, charset, &enc) < 0) {
		*reason = "unsupported charset";
		return -EBADMSG;
	}
	if (!(x.ctxt = parser())) {
		*reason = "out of memory";
		return -ENOMEM;
	}
	x.ctxt->_private = &x;
	doc = xmlCtxtReadMemory(x.ctxt, body, (int)len, NULL, enc, OPTIONS);
	x.ctxt->_private = NULL;
	xmlFreeDoc(doc); /* none is built without SAX tree handlers; be sure */
	if (x.err || !x.ctxt->wellFormed) {
		rc = x.err ? x.err : -EBADMSG;
		*reason = x.err ? x.reason : "XML not well-formed";
	}
	if (xmlDictSize(x.ctxt->dict) > DICT_MAX) {
		xmlFreeParserCtxt(x.ctxt);
		cached = NULL;
	}
	return rc;
}
