/* translate: the pure mapping step (the table row and its status rule),
 * and the road of one XML document: read, check, classify, map, write.
 * Document in, document out: no I/O, one parse. */
#include "presence/presence_int.h"

#include <errno.h>
#include <string.h>

/* The status texts the row's rule leaves (reference section 4.3). */
static unsigned apply_rule(const struct pres_row *row, const struct pres_source *s,
			   struct pres_text *out)
{
	if (row->rule == PRES_RULE_KEEP || (row->rule == PRES_RULE_DEFAULT && s->n_notes)) {
		memcpy(out, s->notes, s->n_notes * sizeof(*out));
		return s->n_notes;
	}
	if (row->rule == PRES_RULE_NONE)
		return 0;
	out[0] = (struct pres_text){ row->text, row->text_len, NULL };
	return 1;
}

void pres_map(const struct pres_table *t, enum pres_direction dir, const struct pres_route *r,
	      const struct pres_source *s, struct pres_target *out)
{
	enum pres_state st = pres_sys_fold(r->src, s->state);
	enum pres_qual q = pres_sys_has_qual(r->src, s->qual) ? s->qual : PRES_Q_NONE;
	const struct pres_row *row;

	memset(out, 0, sizeof(*out));
	out->row = "no-state";
	if (!s->known)
		return;
	/* Never NULL: a table loads only with a "*" row for each route. */
	row = pres_table_find(t, dir, r->src, pres_sys_has_state(r->src, st) ? st : PRES_ST_NONE, q,
			      r->dst);
	out->render = pres_render_of(r->dst, row->dst_state);
	/* RFC 8048 carries the XMPP show even to those who cannot read it. */
	out->show = out->render->show ? out->render->show : pres_render_of(r->src, st)->show;
	out->legacy = pres_sys_foreign(r->dst);
	out->n_notes = apply_rule(row, s, out->notes);
	out->last_input = s->last_input;
	out->row = row->label;
}

/* What must hold before a document is translated at all. */
static int check_doc(enum pres_direction dir, const struct pres_doc *d, const char *domain,
		     char entity[PRES_ENTITY_MAX], const char **reason)
{
	if (d->root == PRES_ROOT_CATEGORIES && dir == PRES_OUTBOUND) {
		*reason = "Microsoft categories are not sent from inside";
		return -ENOTSUP;
	}
	if (!d->entity || pres_entity_normalise(d->entity, entity) < 0) {
		*reason = "presence entity missing or not an address";
		return -EBADMSG;
	}
	if (domain && !pres_entity_in_domain(entity, domain)) {
		*reason = "presence entity not in the sender's domain";
		return -EACCES;
	}
	return 0;
}

int pres_translate_doc(const struct pres_table *t, enum pres_direction dir,
		       const struct pres_route *r, const struct pres_input *in,
		       const char *charset, struct pres_buf *out, const char **row,
		       const char **reason)
{
	char stack[8192], entity[PRES_ENTITY_MAX];
	struct pres_arena arena;
	struct pres_doc doc;
	struct pres_source src;
	struct pres_target tgt;
	int rc;

	if (pres_arena_init(&arena, stack, sizeof(stack), in->len) < 0) {
		*reason = "out of memory";
		return -ENOMEM;
	}
	rc = pres_doc_read(in->body, in->len, charset, &doc, &arena, reason);
	if (rc == 0)
		rc = check_doc(dir, &doc, in->peer_domain, entity, reason);
	if (rc == 0) {
		if (dir == PRES_INBOUND)
			pres_classify_foreign(&doc, &src);
		else
			pres_classify_inside(&doc, &src);
		pres_map(t, dir, r, &src, &tgt);
		pres_emit_pidf(out, entity, &tgt);
		*row = tgt.row;
	}
	pres_arena_release(&arena, stack);
	return rc;
}
