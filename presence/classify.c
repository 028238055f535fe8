/* classify: weigh what a document says (struct pres_doc) into one state of
 * the source system's vocabulary, plus the status texts to carry
 * (reference sections 2.1, 2.4, 3.2 and 5).
 *
 * Foreign documents (Lync, AOL) are read in Lync's vocabulary, inside
 * ones (the RFC 8048 profile) in xmpp's. Both pick one tuple, the newest
 * person, and notes by precedence person > chosen tuple > presence; with
 * no note at all, rpid:other (or Lync's custom activity text) is the text.
 * Pure: no allocation, no I/O. */
#include "presence/presence_int.h"

#include <string.h>

/* ISO 8601 UTC stamps order as strings; any stamp is newer than none. */
static bool newer(const char *a, const char *b)
{
	return a && (!b || strcmp(a, b) > 0);
}

/* The newest dm:person, else the first; NULL for none (section 5). */
static const struct pres_holder *chosen_person(const struct pres_doc *d, int *owner)
{
	unsigned best = 0;

	for (unsigned i = 1; i < d->n_persons; i++)
		if (newer(d->persons[i].timestamp, d->persons[best].timestamp))
			best = i;
	*owner = PRES_OWN_PERSON(best);
	return d->n_persons ? &d->persons[best] : NULL;
}

/* The tuple of lowest rank, then newest timestamp, then first. */
static unsigned choose_tuple(const struct pres_doc *d, const int *rank)
{
	unsigned best = 0;

	for (unsigned i = 1; i < d->n_tuples; i++)
		if (rank[i] < rank[best] ||
		    (rank[i] == rank[best] && newer(d->tuples[i].timestamp, d->tuples[best].timestamp)))
			best = i;
	return best;
}

/* Add the notes of owner to s; true if it had any. */
static bool take_notes(const struct pres_doc *d, int owner, struct pres_source *s)
{
	for (unsigned i = 0; i < d->n_notes && s->n_notes < PRES_NOTES_MAX; i++)
		if (d->notes[i].owner == owner)
			s->notes[s->n_notes++] = d->notes[i].t;
	return s->n_notes > 0;
}

/* Notes of the first of owners[] that has some, else the other text. */
static void take_texts(const struct pres_doc *d, const int *owners, size_t n,
		       const struct pres_text *other, struct pres_source *s)
{
	for (size_t i = 0; i < n; i++)
		if (take_notes(d, owners[i], s))
			return;
	if (other->len)
		s->notes[s->n_notes++] = *other;
}

/* Person, tuple and presence texts of a PIDF document. */
static void pidf_texts(const struct pres_doc *d, const struct pres_holder *pe, int pe_owner,
		       unsigned t, struct pres_source *s)
{
	const struct pres_holder *tu = &d->tuples[t];
	int owners[] = { pe ? pe_owner : -1, PRES_OWN_TUPLE(t), PRES_OWN_PRESENCE };

	take_texts(d, owners, 3, pe && pe->other.len ? &pe->other : &tu->other, s);
}

/* Who says "idle" (rpid:user-input): the person, the tuple, a device. */
static const struct pres_holder *idle_holder(const struct pres_doc *d,
					     const struct pres_holder *pe,
					     const struct pres_holder *tu)
{
	if (pe && pe->idle)
		return pe;
	if (tu->idle)
		return tu;
	return d->devices.idle ? &d->devices : NULL;
}

/* ---- foreign: Lync's vocabulary ---- */

/* Enhanced presence: the availability range, the token as qualifier, the
 * personal note before an out-of-office one. */
static void classify_categories(const struct pres_doc *d, struct pres_source *s)
{
	static const int owners[] = { PRES_OWN_MS_PERSONAL, PRES_OWN_MS_OOF };
	enum pres_state st = pres_ms_availability(d->availability);

	if (st == PRES_ST_NONE)
		return;
	s->known = true;
	s->state = st;
	s->qual = d->ms.act.qual;
	if (st == PRES_ST_AVAILABLE_IDLE || st == PRES_ST_BUSY_IDLE)
		s->last_input = d->ms.last_input;
	take_texts(d, owners, 2, &d->ms.other, s);
}

/* The activity: the person's, else the chosen tuple's, else its show. */
static struct pres_activity foreign_activity(const struct pres_holder *pe,
					     const struct pres_holder *tu)
{
	struct pres_activity a = { PRES_ST_NONE, PRES_Q_NONE };

	if (pe && pe->act.state != PRES_ST_NONE)
		return pe->act;
	if (tu->act.state != PRES_ST_NONE)
		return tu->act;
	if (tu->show)
		a.state = pres_show_word(tu->show, strlen(tu->show), false);
	return a;
}

/* Open if any tuple is open; no <basic> anywhere means nothing known. */
static void classify_foreign_pidf(const struct pres_doc *d, struct pres_source *s)
{
	int rank[PRES_TUPLES_MAX], pe_owner;
	const struct pres_holder *pe = chosen_person(d, &pe_owner), *tu, *idle;
	struct pres_activity a;
	bool open = false, any = false;
	unsigned t;

	for (unsigned i = 0; i < d->n_tuples; i++) {
		enum pres_basic b = d->tuples[i].basic;

		rank[i] = b == PRES_BASIC_OPEN ? 0 : b == PRES_BASIC_CLOSED ? 1 : 2;
		open |= b == PRES_BASIC_OPEN;
		any |= b != PRES_BASIC_NONE;
	}
	if (!any)
		return;
	tu = &d->tuples[t = choose_tuple(d, rank)];
	a = foreign_activity(pe, tu);
	s->known = true;
	s->state = !open ? PRES_ST_OFFLINE : a.state != PRES_ST_NONE ? a.state : PRES_ST_AVAILABLE;
	s->qual = s->state == PRES_ST_OFFLINE ? PRES_Q_NONE : a.qual;
	if ((idle = idle_holder(d, pe, tu)) && s->state != PRES_ST_OFFLINE) {
		s->last_input = idle->last_input;
		s->state = s->state == PRES_ST_AVAILABLE ? PRES_ST_AVAILABLE_IDLE :
			   s->state == PRES_ST_BUSY ? PRES_ST_BUSY_IDLE : s->state;
	}
	pidf_texts(d, pe, pe_owner, t, s);
}

void pres_classify_foreign(const struct pres_doc *d, struct pres_source *s)
{
	memset(s, 0, sizeof(*s));
	if (d->root == PRES_ROOT_CATEGORIES)
		classify_categories(d, s);
	else
		classify_foreign_pidf(d, s);
}

/* ---- inside: xmpp's vocabulary ---- */

/* "Most available" first (section 5); tuples without <basic> last. */
static const int inside_rank[PRES_ST_COUNT] = {
	[PRES_ST_NONE] = 6, [PRES_ST_AVAILABLE] = 0, [PRES_ST_CHAT] = 0, [PRES_ST_DND] = 1,
	[PRES_ST_AWAY] = 2, [PRES_ST_IDLE] = 3, [PRES_ST_XA] = 4, [PRES_ST_OFFLINE] = 5,
};

/* An RPID activity for SIP watchers as the XMPP show it stands for. */
static enum pres_state activity_show(enum pres_state st)
{
	if (st == PRES_ST_BUSY || st == PRES_ST_BUSY_IDLE || st == PRES_ST_DND)
		return PRES_ST_DND;
	return st == PRES_ST_AWAY || st == PRES_ST_BRB ? PRES_ST_AWAY : PRES_ST_NONE;
}

/* The tuple's only note is "Idle" (Table 7's "Away with status Idle"). */
static bool idle_note(const struct pres_doc *d, int owner)
{
	const struct pres_note *only = NULL;

	for (unsigned i = 0; i < d->n_notes; i++) {
		if (d->notes[i].owner != owner)
			continue;
		if (only)
			return false;
		only = &d->notes[i];
	}
	return only && pres_word_eq(only->t.s, only->t.len, "Idle");
}

/* Section 3.2: show, else the RPID activity; away (or no show) with an
 * idle sign is idle. */
static enum pres_state inside_state(const struct pres_doc *d, unsigned i,
				    const struct pres_holder *pe)
{
	const struct pres_holder *tu = &d->tuples[i];
	enum pres_state st;

	if (tu->basic != PRES_BASIC_OPEN)
		return tu->basic == PRES_BASIC_CLOSED ? PRES_ST_OFFLINE : PRES_ST_NONE;
	if (tu->show)
		st = pres_show_word(tu->show, strlen(tu->show), true);
	else
		st = activity_show(foreign_activity(pe, tu).state);
	if ((st == PRES_ST_AWAY || (st == PRES_ST_NONE && !tu->show)) &&
	    (idle_holder(d, pe, tu) || idle_note(d, PRES_OWN_TUPLE(i))))
		return PRES_ST_IDLE;
	return st == PRES_ST_NONE ? PRES_ST_AVAILABLE : st;
}

void pres_classify_inside(const struct pres_doc *d, struct pres_source *s)
{
	int rank[PRES_TUPLES_MAX], pe_owner;
	enum pres_state st[PRES_TUPLES_MAX];
	const struct pres_holder *pe = chosen_person(d, &pe_owner), *idle;
	bool any = false;
	unsigned t;

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < d->n_tuples; i++) {
		st[i] = inside_state(d, i, pe);
		rank[i] = inside_rank[st[i]];
		any |= st[i] != PRES_ST_NONE;
	}
	if (!any)
		return;
	t = choose_tuple(d, rank);
	s->known = true;
	s->state = st[t];
	if ((idle = idle_holder(d, pe, &d->tuples[t])))
		s->last_input = idle->last_input;
	pidf_texts(d, pe, pe_owner, t, s);
}
