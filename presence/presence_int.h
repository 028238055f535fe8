/* presence_int.h: what the files of presence/ share (the API is presence.h).
 *
 * The pipeline of one document, file by file:
 *
 *   xml.c       safe libxml2 SAX parse, driven by a grammar (a table of
 *               parent kind + element -> child kind, and per-kind handlers)
 *   pidf.c      the grammar for PIDF (every dialect variant) and Microsoft
 *               categories: fills a struct pres_doc
 *   classify.c  pres_doc -> struct pres_source: a state of the source
 *               system's vocabulary, and the source's status texts
 *   translate.c the mapping table + status rule: -> struct pres_target
 *   emit.c      struct pres_target -> PIDF text
 *
 * around it: body.c (Content-Type dispatch: pres_translate), multipart.c
 * and rlmi.c (multipart/related RLMI bodies), table.c (the mapping file),
 * vocab.c (the closed vocabularies), text.c (text and URI helpers).
 *
 * Text pointers (`const char *` in the structs below) are borrowed from
 * the parse arena or the table unless a comment says otherwise: they live
 * until the document is written. */
#ifndef FEDPROXY_PRESENCE_INT_H
#define FEDPROXY_PRESENCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "presence/presence.h"

/* Status texts carried per document (one per language). */
#define PRES_NOTES_MAX 8
/* Longest entity URI kept. */
#define PRES_ENTITY_MAX 256

/* ---- vocabularies (vocab.c) ---- */

enum pres_sys {
	PRES_SYS_LYNC,
	PRES_SYS_AOL,
	PRES_SYS_XMPP,        /* third-party XMPP client on the inside cluster */
	PRES_SYS_JABBER8,
	PRES_SYS_FED_JABBER8,
	PRES_SYS_FED_XMPP,
	PRES_SYS_WEBEX,
	PRES_SYS_SAMETIME,
	PRES_SYS_COUNT
};

enum pres_state {
	PRES_ST_NONE, /* nothing said; "*" in a table row */
	PRES_ST_AVAILABLE,
	PRES_ST_AVAILABLE_IDLE,
	PRES_ST_BUSY,
	PRES_ST_BUSY_IDLE,
	PRES_ST_DND,
	PRES_ST_BRB,
	PRES_ST_AWAY,
	PRES_ST_OFFLINE,
	PRES_ST_CHAT,
	PRES_ST_XA,
	PRES_ST_IDLE,
	PRES_ST_COUNT
};

enum pres_qual {
	PRES_Q_NONE,
	PRES_Q_ON_THE_PHONE,
	PRES_Q_IN_A_CONFERENCE,
	PRES_Q_IN_A_MEETING,
	PRES_Q_OUT_OF_OFFICE,
	PRES_Q_URGENT_ONLY,
	PRES_Q_IN_PRESENTATION,
	PRES_Q_COUNT
};

/* How a state of a system we write is put in PIDF. */
struct pres_render {
	bool known;           /* false: the system has no such state to write */
	bool open;            /* basic open, else closed */
	const char *show;     /* jabber:client show, or NULL */
	const char *activity; /* RPID activity, or NULL */
	bool idle;            /* rpid:user-input idle */
};

/* The two systems a dialect translates between in one direction. */
struct pres_route {
	enum pres_sys src, dst;
};

/* A state as the wire says it, in Lync's vocabulary (section 2.4). */
struct pres_activity {
	enum pres_state state;
	enum pres_qual qual;
};

/* Name lookups: the index, or -1. */
int pres_sys_find(const char *name, size_t len);
int pres_state_find(const char *name, size_t len);
int pres_qual_find(const char *name, size_t len);
const char *pres_sys_name(enum pres_sys s);
const char *pres_state_name(enum pres_state s);
const char *pres_qual_name(enum pres_qual q);
bool pres_sys_has_state(enum pres_sys s, enum pres_state st);
bool pres_sys_has_qual(enum pres_sys s, enum pres_qual q);
/* A state another vocabulary classified, in s's own words (AOL has no
 * busy or idle variants); st itself when s has it or has no equivalent. */
enum pres_state pres_sys_fold(enum pres_sys s, enum pres_state st);
/* How s writes st; render->known is false for states s cannot write. */
const struct pres_render *pres_render_of(enum pres_sys s, enum pres_state st);
/* True for foreign systems: they also get the pre-RFC activity form. */
bool pres_sys_foreign(enum pres_sys s);
/* NULL for PRES_DIALECT_PIDF (no translation). */
const struct pres_route *pres_route_of(enum pres_dialect d, enum pres_direction dir);
/* A PIDF activity word (RFC 4480 element name, rpid-status text or Lync
 * token), case-insensitive. false when unknown. */
bool pres_activity_word(const char *w, size_t len, struct pres_activity *a);
/* A jabber:client show value in xmpp's (xmpp true) or Lync's vocabulary;
 * PRES_ST_NONE when unknown. */
enum pres_state pres_show_word(const char *w, size_t len, bool xmpp);
/* A Lync availability number (section 2.1); PRES_ST_NONE for 0. */
enum pres_state pres_ms_availability(unsigned long v);
/* A Windows LCID as a language tag, or NULL. */
const char *pres_lcid_lang(unsigned long lcid);

/* ---- the mapping table (table.c) ---- */

struct pres_row {
	uint8_t dir;       /* enum pres_direction */
	uint8_t src_sys, src_state, src_qual, dst_sys, dst_state;
	uint8_t rule;      /* enum pres_rule */
	char *text;        /* owned: SET/DEFAULT text, else NULL */
	size_t text_len;
	char *label;       /* owned: "NAME:LINE ORIGIN" */
	unsigned line;
};

/* The row deciding (dir, src, st, q, dst): st+q, then st, then "*". */
const struct pres_row *pres_table_find(const struct pres_table *t, enum pres_direction dir,
				       enum pres_sys src, enum pres_state st, enum pres_qual q,
				       enum pres_sys dst);

/* ---- text helpers (text.c) ---- */

bool pres_is_space(int c);
/* Trim white space, cut to at most max bytes on a UTF-8 character
 * boundary, trim trailing white space again. */
void pres_text_fit(const char **s, size_t *len, size_t max);
bool pres_utf8_valid(const char *s, size_t len);
/* s[0..len) equals word, ASCII case-insensitively. */
bool pres_word_eq(const char *s, size_t len, const char *word);
/* Rewrite an entity (sip:, sips:, pres:, im: or no scheme, as AOL sends
 * it) as "sip:user@host" with the host in lower case. 0 or -EBADMSG. */
int pres_entity_normalise(const char *in, char out[PRES_ENTITY_MAX]);
/* The host of a normalised entity equals domain (case-insensitive). */
bool pres_entity_in_domain(const char *entity, const char *domain);

/* ---- the output buffer (emit.c) ---- */

struct pres_buf {
	char *p;     /* owned: malloc'd */
	size_t len, cap;
	bool oom;    /* an append failed; the content is incomplete */
};

void pres_buf_add(struct pres_buf *b, const char *s, size_t n);
void pres_buf_str(struct pres_buf *b, const char *s);
/* s[0..n) escaped for element content. */
void pres_buf_text(struct pres_buf *b, const char *s, size_t n);
/* ` name="value"`, the value escaped. */
void pres_buf_attr(struct pres_buf *b, const char *name, const char *value);
/* NUL-terminate and hand b's text over: 0, or -ENOMEM (b freed). */
int pres_buf_finish(struct pres_buf *b);

/* ---- the safe XML reader (xml.c) ---- */

/* Every grammar's kind 0 skips an element and what it holds; kind 1 is
 * the virtual parent of the document element. */
#define PRES_KIND_SKIP 0
#define PRES_KIND_DOC 1

struct pres_xml;

/* Where collected texts and attribute copies go; cap bytes at p. */
struct pres_arena {
	char *p;
	size_t used, cap;
};

/* The attributes of one element, as libxml2's SAX2 hands them over. */
struct pres_attrs {
	const unsigned char **v; /* 5 pointers an attribute */
	int n;
};

struct pres_kind {
	/* Text collected for end(): at most this many bytes once fitted
	 * (pres_text_fit); 0 collects none. */
	uint16_t text_max;
	/* 0 to go on, 1 to skip this element and its content, <0 to refuse
	 * the document (through pres_xml_refuse). May be NULL. */
	int (*start)(struct pres_xml *x, void *ctx, const char *name, const struct pres_attrs *a);
	/* text is NULL when text_max is 0. May be NULL. */
	void (*end)(struct pres_xml *x, void *ctx, const char *text, size_t len);
};

/* An element of namespace ns named name (any name when NULL) under an
 * element of kind parent is of kind child; the first match wins. */
struct pres_grammar_rule {
	uint8_t parent, child;
	const char *ns, *name;
};

struct pres_grammar {
	const struct pres_grammar_rule *rules;
	size_t n_rules;
	const struct pres_kind *kinds;
};

/* Initialise libxml2 once per process (idempotent). */
void pres_xml_init(void);
/* Parse body[0..len) once, calling g's handlers with ctx. charset is the
 * Content-Type charset parameter or NULL. 0, or -EBADMSG with *reason
 * (or what a handler refused with). */
int pres_xml_read(const char *body, size_t len, const char *charset, const struct pres_grammar *g,
		  void *ctx, struct pres_arena *arena, const char **reason);
/* An attribute's value, copied into the arena, or NULL. */
const char *pres_xml_attr(struct pres_xml *x, const struct pres_attrs *a, const char *ns,
			  const char *name);
/* The xml:lang in force at the current element, or NULL. */
const char *pres_xml_lang(const struct pres_xml *x);
/* Stop the parse; pres_xml_read returns err with reason. Returns err. */
int pres_xml_refuse(struct pres_xml *x, int err, const char *reason);
/* Room for the texts of a document of len bytes, in stack (n bytes) when
 * it fits, else malloc'd. 0 or -ENOMEM. */
int pres_arena_init(struct pres_arena *a, char *stack, size_t n, size_t len);
void pres_arena_release(struct pres_arena *a, const char *stack);

/* ---- a presence document as read (pidf.c) ---- */

#define PRES_TUPLES_MAX 16
#define PRES_PERSONS_MAX 4
#define PRES_DOC_NOTES_MAX 32

enum pres_basic { PRES_BASIC_NONE, PRES_BASIC_OPEN, PRES_BASIC_CLOSED };
enum pres_root { PRES_ROOT_NONE, PRES_ROOT_PIDF, PRES_ROOT_CATEGORIES };

struct pres_text {
	const char *s;
	size_t len;
	const char *lang; /* NULL: none */
};

/* What one tuple, person, the devices, or a Microsoft state says. */
struct pres_holder {
	enum pres_basic basic;     /* tuples */
	const char *show;          /* jabber:client show, tuples */
	struct pres_activity act;  /* the first activity recognised */
	struct pres_text other;    /* rpid:other or Microsoft custom text */
	const char *timestamp;
	bool idle;                 /* rpid:user-input idle */
	const char *last_input;    /* its last-input, or Microsoft lastActive */
};

/* Who a note belongs to: the presence, a tuple, a person, a Microsoft
 * note category. */
#define PRES_OWN_PRESENCE 0
#define PRES_OWN_TUPLE(i) (1 + (i))
#define PRES_OWN_PERSON(i) (1 + PRES_TUPLES_MAX + (i))
#define PRES_OWN_MS_PERSONAL PRES_OWN_PERSON(PRES_PERSONS_MAX)
#define PRES_OWN_MS_OOF (PRES_OWN_MS_PERSONAL + 1)

struct pres_note {
	struct pres_text t;
	int owner;
};

struct pres_doc {
	enum pres_root root;
	const char *entity;              /* as written, or NULL */
	struct pres_holder tuples[PRES_TUPLES_MAX];
	unsigned n_tuples;
	struct pres_holder persons[PRES_PERSONS_MAX];
	unsigned n_persons;
	struct pres_holder devices;      /* idle only, every device merged */
	struct pres_holder ms;           /* the Microsoft state category read */
	unsigned long availability;      /* its availability, 0 for none */
	struct pres_note notes[PRES_DOC_NOTES_MAX];
	unsigned n_notes;
	/* reader state */
	struct pres_holder *cur;         /* the holder being read, or NULL */
	int owner;                       /* owner of the notes being read */
	int category;                    /* kind of the category being read */
	bool ms_aggregate;               /* ms came from an aggregateState */
	const char *ms_lang;             /* language of the custom text being read */
};

/* Read a PIDF or categories document into d (zeroed first). 0, or <0
 * with *reason. */
int pres_doc_read(const char *body, size_t len, const char *charset, struct pres_doc *d,
		  struct pres_arena *arena, const char **reason);

/* ---- classification (classify.c) ---- */

/* What a document says, in the vocabulary of the system that wrote it. */
struct pres_source {
	bool known;               /* false: no availability at all */
	enum pres_state state;
	enum pres_qual qual;
	struct pres_text notes[PRES_NOTES_MAX];
	unsigned n_notes;
	const char *last_input;   /* idle since, or NULL */
};

/* A foreign document (PIDF of any variant, or categories): Lync's
 * vocabulary. */
void pres_classify_foreign(const struct pres_doc *d, struct pres_source *s);
/* An inside document (RFC 8048 PIDF): xmpp's vocabulary. */
void pres_classify_inside(const struct pres_doc *d, struct pres_source *s);

/* ---- mapping (translate.c) and writing (emit.c) ---- */

/* What to write. */
struct pres_target {
	const struct pres_render *render; /* NULL: nothing known */
	const char *show;                 /* jabber:client show, or NULL */
	bool legacy;                      /* also the rpid-status activity */
	struct pres_text notes[PRES_NOTES_MAX];
	unsigned n_notes;
	const char *last_input;
	const char *row;                  /* the deciding row's label */
};

/* Map s (a state of r->src) through t to r->dst. */
void pres_map(const struct pres_table *t, enum pres_direction dir, const struct pres_route *r,
	      const struct pres_source *s, struct pres_target *out);
/* Translate one XML document and append its PIDF to out. *row gets the
 * deciding row. 0, or <0 with *reason (see pres_translate). */
int pres_translate_doc(const struct pres_table *t, enum pres_direction dir,
		       const struct pres_route *r, const struct pres_input *in,
		       const char *charset, struct pres_buf *out, const char **row,
		       const char **reason);
/* Append t's PIDF for entity (normalised) to b. */
void pres_emit_pidf(struct pres_buf *b, const char *entity, const struct pres_target *t);

/* ---- Content-Type and multipart bodies (multipart.c, rlmi.c) ---- */

/* What a Content-Type means to us. */
enum pres_ct {
	PRES_CT_OTHER,       /* not presence: passes untouched */
	PRES_CT_XML,         /* PIDF, pidf-diff or Microsoft categories */
	PRES_CT_MULTIPART,   /* multipart/related of an RLMI list */
	PRES_CT_RLMI,        /* the RLMI list part itself */
	PRES_CT_UNSUPPORTED, /* presence we do not translate (XPIDF, msrtc.pidf) */
};

enum pres_ct pres_ct_class(const char *ct);
/* ct's media type equals type (case-insensitive, parameters ignored). */
bool pres_ct_is(const char *ct, const char *type);
/* The value of ct's parameter name into out (unquoted): true when found
 * and it fits. */
bool pres_ct_param(const char *ct, const char *name, char *out, size_t outlen);
/* Translate a multipart/related RLMI body part by part into out. */
int pres_multipart_translate(const struct pres_table *t, enum pres_direction dir,
			     const struct pres_route *r, const struct pres_input *in,
			     struct pres_buf *out, const char **row, const char **reason);
/* Rewrite an RLMI list without the instances RFC 4662 does not know
 * (Microsoft's resubscribe), appending it to out. */
int pres_rlmi_filter(const char *body, size_t len, const char *charset, struct pres_buf *out,
		     const char **reason);

#endif
