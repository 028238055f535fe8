/* presence: translate presence documents between a foreign federation edge
 * (Lync / Skype for Business, legacy AOL) and the inside XMPP presence
 * cluster, driven by a mapping table loaded from a file.
 *
 * Two pieces, both free of I/O once the table is loaded:
 *
 *  - A mapping table (etc/presence-map.conf): one row per line,
 *
 *        dir  src_sys  src_state[+qualifier]|*  dst_sys  dst_state  status_rule  origin
 *
 *    with dir `in` (foreign -> inside) or `out` (inside -> foreign) and
 *    status_rule one of keep, none, set:"TEXT", default:"TEXT". The file
 *    itself documents the vocabulary. A table is immutable once loaded:
 *    a reload loads a new one and swaps it, keeping the old one when the
 *    new one fails.
 *
 *  - pres_translate(): one NOTIFY or PUBLISH body in, one body out. The
 *    body is parsed once with libxml2 (no network, no DTD, no entities,
 *    depth and size caps), classified into a state of the source system
 *    (Lync or AOL inbound, XMPP outbound), mapped through the table, and
 *    written as PIDF: the RFC 8048 profile inside (basic, jabber:client
 *    show, notes), or what Lync reads outside (basic, RPID activity in the
 *    RFC 4480 and the pre-RFC rpid-status forms, notes).
 *
 * A loaded table is never changed, so any number of translations (in any
 * thread: the parser context is cached per thread) may share it; free it
 * only once none uses it. */
#ifndef FEDPROXY_PRESENCE_H
#define FEDPROXY_PRESENCE_H

#include <stddef.h>

/* Largest body translated; a larger one is refused (-EMSGSIZE). */
#define PRES_BODY_MAX (64 * 1024)
/* Longest status text carried, in bytes of UTF-8, cut on a character. */
#define PRES_TEXT_MAX 1024

/* ---- the mapping table ---- */

struct pres_table;

/* Called once per problem found in a table: line is the 1-based line of
 * the file, or 0 for a problem of the whole file (unreadable, a default
 * row missing). msg names the column and the value at fault. */
typedef void (*pres_report)(void *arg, unsigned line, const char *msg);

/* Load and validate FILE. Every problem is reported (not only the first);
 * NULL when there was any, else the table (free with pres_table_free).
 * Also initialises libxml2, so call it before translating. */
struct pres_table *pres_table_load(const char *file, pres_report report, void *arg);
/* The same from text[0..len); name is used in each row's label. */
struct pres_table *pres_table_parse(const char *name, const char *text, size_t len,
				    pres_report report, void *arg);
void pres_table_free(struct pres_table *t);
/* Number of mapping rows. */
size_t pres_table_size(const struct pres_table *t);

/* ---- translation ---- */

/* How the foreign domain speaks: chosen per domain in the config. */
enum pres_dialect {
	PRES_DIALECT_LYNC, /* Lync / S4B PIDF, enhanced-presence categories, RLMI */
	PRES_DIALECT_AOL,  /* AOL's PIDF (scheme-less entity) */
	PRES_DIALECT_PIDF, /* a standard partner: bodies pass untouched */
};

/* "lync", "aol", "pidf" -> the dialect; -1 for any other name. */
int pres_dialect_from_name(const char *name);

enum pres_direction {
	PRES_INBOUND,  /* foreign edge -> inside XMPP users */
	PRES_OUTBOUND, /* inside -> foreign edge */
};

/* The request side of a translation: all borrowed. */
struct pres_input {
	const char *content_type; /* Content-Type value with parameters; NULL when absent */
	const char *body;
	size_t len;
	/* Domain of the presentity as the dialog names it (the From of a
	 * NOTIFY, the To of a PUBLISH); the document's entity must be in it.
	 * NULL skips the check. */
	const char *peer_domain;
};

struct pres_result {
	char *body;               /* owned by the caller: malloc'd, NUL-terminated */
	size_t len;
	/* borrowed: a static string, or in->content_type itself for a
	 * multipart body (its boundary and parts' order are kept) */
	const char *content_type;
	/* borrowed (the table or static): the row that decided, as
	 * "presence-map.conf:12 seed:T1", or "no-state" for a document with no
	 * availability; the first part's for a multipart body. For logs and
	 * metrics; valid while the table lives. */
	const char *row;
};

/* Translate one body.
 *  0: translated; *result filled (free result->body). A document with no
 *     availability at all (no <basic>, no state category) becomes a PIDF
 *     with the entity and no tuple: "nothing known", never dropped.
 *  1: pass through untouched (empty body, no Content-Type, a type that is
 *     not presence, or dialect PIDF); *result is zeroed.
 * <0: refused, *reason a short static text for a 400 Reason header:
 *     -EMSGSIZE  body over PRES_BODY_MAX;
 *     -EBADMSG   not well-formed XML, a DOCTYPE, nested too deeply, not a
 *                presence document, a bad entity, broken multipart;
 *     -ENOTSUP   a presence format we do not translate (XPIDF, LCS 2005
 *                msrtc.pidf, partial PIDF diffs, categories from inside);
 *     -EACCES    the entity is not in in->peer_domain;
 *     -ENOMEM. */
int pres_translate(const struct pres_table *t, enum pres_direction dir, enum pres_dialect d,
		   const struct pres_input *in, struct pres_result *result, const char **reason);

/* ---- one mapping decision, for tests and tools ---- */

enum pres_rule {
	PRES_RULE_KEEP,    /* copy the source's status texts, every language */
	PRES_RULE_NONE,    /* no status text */
	PRES_RULE_SET,     /* exactly the row's text */
	PRES_RULE_DEFAULT, /* the source's texts, else the row's text */
};

struct pres_mapping {
	const char *dst_state; /* static: the target state's name */
	enum pres_rule rule;
	const char *text;      /* borrowed from the table: SET/DEFAULT text, else NULL */
	const char *row;       /* borrowed from the table: the deciding row's label */
};

/* Look a source state up as pres_translate does: STATE+QUALIFIER, then
 * STATE, then the system's "*" row. dir is "in" or "out"; src_state may
 * carry "+qualifier". 0; -EINVAL for an unknown name; -ENOENT when no
 * row applies. */
int pres_table_map(const struct pres_table *t, const char *dir, const char *src_sys,
		   const char *src_state, const char *dst_sys, struct pres_mapping *m);

#endif
