/* pidf: the grammar that reads a presence document into a struct pres_doc.
 *
 * It accepts every variant of reference section 1.3 and 5, wherever the
 * pieces sit: PIDF (RFC 3863) and a pidf-full (RFC 5262) root; activities
 * in RFC 4480 form (one element each, under dm:person or a tuple) and in
 * the pre-RFC rpid-status form (text in ep:activity, inside <status>);
 * notes at presence, tuple and person level with xml:lang; jabber:client
 * show; rpid:user-input idle on persons, tuples and devices; several
 * tuples and persons. And Lync's enhanced-presence categories: the
 * aggregate state's availability and activity token, and the note
 * category. Calendar data, meeting subjects and locations match no rule,
 * so they are never even copied (privacy, section 5).
 *
 * Nothing is decided here: classify.c weighs what was read. */
#include "presence/presence_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NS_PIDF "urn:ietf:params:xml:ns:pidf"
#define NS_DIFF "urn:ietf:params:xml:ns:pidf-diff"
#define NS_DM "urn:ietf:params:xml:ns:pidf:data-model"
#define NS_RPID "urn:ietf:params:xml:ns:pidf:rpid"
#define NS_EP "urn:ietf:params:xml:ns:pidf:status:rpid-status"
#define NS_JABBER "jabber:client"
#define NS_CAT "http://schemas.microsoft.com/2006/09/sip/categories"
#define NS_STATE "http://schemas.microsoft.com/2006/09/sip/state"
#define NS_NOTE "http://schemas.microsoft.com/2006/09/sip/note"

/* Tokens and timestamps are short; longer ones can match nothing. */
#define WORD_MAX 32
#define STAMP_MAX 40

enum kind {
	K_SKIP = PRES_KIND_SKIP,
	K_DOC = PRES_KIND_DOC,
	K_DIFF,       /* pidf-diff: a partial document */
	K_PRESENCE,   /* presence or pidf-full */
	K_TUPLE,
	K_STATUS,
	K_BASIC,
	K_SHOW,
	K_NOTE,       /* pidf:note or dm:note, of the current owner */
	K_TIMESTAMP,
	K_PERSON,
	K_DEVICE,
	K_ACTIVITIES, /* rpid:activities or ep:activities */
	K_ACT_TEXT,   /* ep:activity: the word is the text */
	K_ACT_ELEM,   /* an rpid activity: the word is the element's name */
	K_OTHER,      /* rpid:other: free text */
	K_USER_INPUT,
	K_CATEGORIES,
	K_CATEGORY,
	K_MS_STATE,
	K_MS_AVAIL,
	K_MS_ACTIVITY,
	K_MS_CUSTOM,
	K_MS_NOTE,
	K_MS_BODY,
	K_COUNT
};

/* Kinds of Microsoft category (its name attribute). */
enum { CAT_OTHER, CAT_STATE, CAT_NOTE };

static const struct pres_grammar_rule rules[] = {
	{ K_DOC, K_PRESENCE, NS_PIDF, "presence" },
	{ K_DOC, K_PRESENCE, NS_DIFF, "pidf-full" },
	{ K_DOC, K_DIFF, NS_DIFF, "pidf-diff" },
	{ K_DOC, K_CATEGORIES, NS_CAT, "categories" },
	{ K_PRESENCE, K_TUPLE, NS_PIDF, "tuple" },
	{ K_PRESENCE, K_NOTE, NS_PIDF, "note" },
	{ K_PRESENCE, K_PERSON, NS_DM, "person" },
	{ K_PRESENCE, K_DEVICE, NS_DM, "device" },
	{ K_TUPLE, K_STATUS, NS_PIDF, "status" },
	{ K_TUPLE, K_NOTE, NS_PIDF, "note" },
	{ K_TUPLE, K_TIMESTAMP, NS_PIDF, "timestamp" },
	{ K_TUPLE, K_ACTIVITIES, NS_RPID, "activities" },
	{ K_TUPLE, K_ACTIVITIES, NS_EP, "activities" },
	{ K_TUPLE, K_USER_INPUT, NS_RPID, "user-input" },
	{ K_TUPLE, K_SHOW, NS_JABBER, "show" },
	{ K_STATUS, K_BASIC, NS_PIDF, "basic" },
	{ K_STATUS, K_SHOW, NS_JABBER, "show" },
	{ K_STATUS, K_ACTIVITIES, NS_EP, "activities" },
	{ K_STATUS, K_ACTIVITIES, NS_RPID, "activities" },
	{ K_STATUS, K_USER_INPUT, NS_RPID, "user-input" },
	{ K_PERSON, K_ACTIVITIES, NS_RPID, "activities" },
	{ K_PERSON, K_NOTE, NS_DM, "note" },
	{ K_PERSON, K_TIMESTAMP, NS_DM, "timestamp" },
	{ K_PERSON, K_USER_INPUT, NS_RPID, "user-input" },
	{ K_DEVICE, K_USER_INPUT, NS_RPID, "user-input" },
	{ K_ACTIVITIES, K_ACT_TEXT, NS_EP, "activity" },
	{ K_ACTIVITIES, K_OTHER, NS_RPID, "other" },
	{ K_ACTIVITIES, K_ACT_ELEM, NS_RPID, NULL },
	{ K_CATEGORIES, K_CATEGORY, NS_CAT, "category" },
	{ K_CATEGORY, K_MS_STATE, NS_STATE, "state" },
	{ K_CATEGORY, K_MS_NOTE, NS_NOTE, "note" },
	{ K_MS_STATE, K_MS_AVAIL, NS_STATE, "availability" },
	{ K_MS_STATE, K_MS_ACTIVITY, NS_STATE, "activity" },
	{ K_MS_ACTIVITY, K_MS_CUSTOM, NS_STATE, "custom" },
	{ K_MS_NOTE, K_MS_BODY, NS_NOTE, "body" },
};

/* ---- PIDF ---- */

static int diff_start(struct pres_xml *x, void *ctx, const char *name, const struct pres_attrs *a)
{
	return pres_xml_refuse(x, -ENOTSUP, "partial PIDF (pidf-diff) not supported");
}

/* The document element: what it is, and whose presence (entity_attr). */
static int root_start(struct pres_xml *x, struct pres_doc *d, enum pres_root root,
		      const struct pres_attrs *a, const char *entity_attr)
{
	d->root = root;
	d->entity = pres_xml_attr(x, a, NULL, entity_attr);
	return 0;
}

static int presence_start(struct pres_xml *x, void *ctx, const char *name,
			  const struct pres_attrs *a)
{
	return root_start(x, ctx, PRES_ROOT_PIDF, a, "entity");
}

/* Make slot the holder being read (and the owner of its notes). */
static int hold(struct pres_doc *d, struct pres_holder *slot, int owner)
{
	d->cur = slot;
	d->owner = owner;
	return 0;
}

static void unhold(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	hold(ctx, NULL, PRES_OWN_PRESENCE);
}

/* The next slot of a capped array becomes the holder being read; past
 * the cap the element is skipped, whole. */
static int hold_next(struct pres_doc *d, struct pres_holder *slots, unsigned *n, unsigned max,
		     int first_owner)
{
	if (*n == max)
		return 1;
	(*n)++;
	return hold(d, &slots[*n - 1], first_owner + (int)*n - 1);
}

static int tuple_start(struct pres_xml *x, void *ctx, const char *name, const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;

	return hold_next(d, d->tuples, &d->n_tuples, PRES_TUPLES_MAX, PRES_OWN_TUPLE(0));
}

static int person_start(struct pres_xml *x, void *ctx, const char *name, const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;

	return hold_next(d, d->persons, &d->n_persons, PRES_PERSONS_MAX, PRES_OWN_PERSON(0));
}

static int device_start(struct pres_xml *x, void *ctx, const char *name, const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;

	return hold(d, &d->devices, PRES_OWN_PRESENCE);
}

static void basic_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct pres_doc *d = ctx;

	if (pres_word_eq(text, len, "open"))
		d->cur->basic = PRES_BASIC_OPEN;
	else if (pres_word_eq(text, len, "closed"))
		d->cur->basic = PRES_BASIC_CLOSED;
}

static void show_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct pres_doc *d = ctx;

	d->cur->show = text;
}

static void timestamp_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct pres_doc *d = ctx;

	d->cur->timestamp = text;
}

static void add_note(struct pres_doc *d, const char *text, size_t len, const char *lang, int owner)
{
	if (!len || d->n_notes == PRES_DOC_NOTES_MAX)
		return;
	d->notes[d->n_notes++] = (struct pres_note){ { text, len, lang }, owner };
}

static void note_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct pres_doc *d = ctx;

	add_note(d, text, len, pres_xml_lang(x), d->owner);
}

/* The first activity recognised counts; others are ignored (an unknown
 * one leaves the holder "available if open", section 2.4). */
static void activity_word(struct pres_doc *d, const char *w, size_t len)
{
	struct pres_activity a;

	if (d->cur->act.state == PRES_ST_NONE && pres_activity_word(w, len, &a))
		d->cur->act = a;
}

static void act_text_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	activity_word(ctx, text, len);
}

static int act_elem_start(struct pres_xml *x, void *ctx, const char *name,
			  const struct pres_attrs *a)
{
	activity_word(ctx, name, strlen(name));
	return 0;
}

/* Free text for when there is no note (EXPECTED.md, "Source text"). */
static void set_other(struct pres_holder *h, const char *text, size_t len, const char *lang)
{
	if (!h->other.len)
		h->other = (struct pres_text){ text, len, lang };
}

static void other_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct pres_doc *d = ctx;

	set_other(d->cur, text, len, pres_xml_lang(x));
}

static int user_input_start(struct pres_xml *x, void *ctx, const char *name,
			    const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;
	const char *since = pres_xml_attr(x, a, NULL, "last-input");

	if (since && !d->cur->last_input)
		d->cur->last_input = since;
	return 0;
}

static void user_input_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct pres_doc *d = ctx;

	if (pres_word_eq(text, len, "idle"))
		d->cur->idle = true;
}

/* ---- Microsoft categories ---- */

static int categories_start(struct pres_xml *x, void *ctx, const char *name,
			    const struct pres_attrs *a)
{
	return root_start(x, ctx, PRES_ROOT_CATEGORIES, a, "uri");
}

/* Only state and note categories are read; the rest is skipped unread. */
static int category_start(struct pres_xml *x, void *ctx, const char *name,
			  const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;
	const char *cat = pres_xml_attr(x, a, NULL, "name");

	d->category = !cat ? CAT_OTHER : !strcmp(cat, "state") ? CAT_STATE :
		      !strcmp(cat, "note") ? CAT_NOTE : CAT_OTHER;
	return d->category == CAT_OTHER;
}

/* What watchers get is the aggregate state; any other state instance is
 * read only while no aggregate one has been. */
static int ms_state_start(struct pres_xml *x, void *ctx, const char *name,
			  const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;
	const char *type = pres_xml_attr(x, a, "http://www.w3.org/2001/XMLSchema-instance", "type");
	bool aggregate = type && !strcmp(type, "aggregateState");

	if (d->category != CAT_STATE || d->ms_aggregate || (!aggregate && d->availability))
		return 1;
	memset(&d->ms, 0, sizeof(d->ms));
	d->availability = 0;
	d->ms_aggregate = aggregate;
	d->ms.last_input = pres_xml_attr(x, a, NULL, "lastActive");
	return hold(d, &d->ms, PRES_OWN_PRESENCE);
}

/* A number of up to 9 digits; anything else leaves "no information"
 * (section 2.1: a non-numeric availability spoils that category only). */
static void ms_avail_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct pres_doc *d = ctx;

	if (len && len <= 9 && strspn(text, "0123456789") == len)
		d->availability = strtoul(text, NULL, 10);
}

static int ms_activity_start(struct pres_xml *x, void *ctx, const char *name,
			     const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;
	const char *token = pres_xml_attr(x, a, NULL, "token");
	struct pres_activity act;

	if (token && pres_activity_word(token, strlen(token), &act))
		d->ms.act.qual = act.qual;
	return 0;
}

static int ms_custom_start(struct pres_xml *x, void *ctx, const char *name,
			   const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;
	const char *lcid = pres_xml_attr(x, a, NULL, "LCID");

	/* The LCID stands in for xml:lang. */
	d->ms_lang = lcid ? pres_lcid_lang(strtoul(lcid, NULL, 10)) : NULL;
	return 0;
}

static void ms_custom_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct pres_doc *d = ctx;

	set_other(&d->ms, text, len, d->ms_lang);
}

static int ms_note_start(struct pres_xml *x, void *ctx, const char *name,
			 const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;

	return d->category != CAT_NOTE;
}

/* A personal note, or an out-of-office one (its start/end time is never
 * read). */
static int ms_body_start(struct pres_xml *x, void *ctx, const char *name,
			 const struct pres_attrs *a)
{
	struct pres_doc *d = ctx;
	const char *type = pres_xml_attr(x, a, NULL, "type");

	d->owner = !type ? -1 : !strcmp(type, "personal") ? PRES_OWN_MS_PERSONAL :
		   !strcmp(type, "OOF") ? PRES_OWN_MS_OOF : -1;
	return d->owner < 0;
}

static const struct pres_kind kinds[K_COUNT] = {
	[K_DIFF] = { 0, diff_start, NULL },
	[K_PRESENCE] = { 0, presence_start, NULL },
	[K_TUPLE] = { 0, tuple_start, unhold },
	[K_BASIC] = { WORD_MAX, NULL, basic_end },
	[K_SHOW] = { WORD_MAX, NULL, show_end },
	[K_NOTE] = { PRES_TEXT_MAX, NULL, note_end },
	[K_TIMESTAMP] = { STAMP_MAX, NULL, timestamp_end },
	[K_PERSON] = { 0, person_start, unhold },
	[K_DEVICE] = { 0, device_start, unhold },
	[K_ACT_TEXT] = { WORD_MAX, NULL, act_text_end },
	[K_ACT_ELEM] = { 0, act_elem_start, NULL },
	[K_OTHER] = { PRES_TEXT_MAX, NULL, other_end },
	[K_USER_INPUT] = { WORD_MAX, user_input_start, user_input_end },
	[K_CATEGORIES] = { 0, categories_start, NULL },
	[K_CATEGORY] = { 0, category_start, NULL },
	[K_MS_STATE] = { 0, ms_state_start, unhold },
	[K_MS_AVAIL] = { WORD_MAX, NULL, ms_avail_end },
	[K_MS_ACTIVITY] = { 0, ms_activity_start, NULL },
	[K_MS_CUSTOM] = { PRES_TEXT_MAX, ms_custom_start, ms_custom_end },
	[K_MS_NOTE] = { 0, ms_note_start, NULL },
	[K_MS_BODY] = { PRES_TEXT_MAX, ms_body_start, note_end },
};

static const struct pres_grammar grammar = { rules, sizeof(rules) / sizeof(rules[0]), kinds };

int pres_doc_read(const char *body, size_t len, const char *charset, struct pres_doc *d,
		  struct pres_arena *arena, const char **reason)
{
	int rc;

	memset(d, 0, sizeof(*d));
	rc = pres_xml_read(body, len, charset, &grammar, d, arena, reason);
	if (rc == 0 && d->root == PRES_ROOT_NONE) {
		*reason = "not a presence document";
		rc = -EBADMSG;
	}
	return rc;
}
