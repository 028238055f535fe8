/* body: pres_translate(), the entry point: which bodies are translated
 * (by dialect and Content-Type), and the result's framing. */
#include "presence/presence_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pres_dialect_from_name(const char *name)
{
	static const char *const names[] = {
		[PRES_DIALECT_LYNC] = "lync", [PRES_DIALECT_AOL] = "aol", [PRES_DIALECT_PIDF] = "pidf"
	};

	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

/* Translate in (an XML document or a multipart list) into out. */
static int translate_body(const struct pres_table *t, enum pres_direction dir,
			  const struct pres_route *r, enum pres_ct c, const struct pres_input *in,
			  struct pres_buf *out, const char **row, const char **reason)
{
	char charset[64];

	if (c == PRES_CT_MULTIPART)
		return pres_multipart_translate(t, dir, r, in, out, row, reason);
	return pres_translate_doc(t, dir, r, in,
				  pres_ct_param(in->content_type, "charset", charset, sizeof(charset)) ?
				  charset : NULL, out, row, reason);
}

/* Decide before any parsing: 1 to pass in through untouched, <0 to
 * refuse it, 0 to translate it as *c. */
static int admit(const struct pres_input *in, const struct pres_route *r, enum pres_ct *c,
		 const char **reason)
{
	if (!r || !in->len || !in->content_type)
		return 1;
	*c = pres_ct_class(in->content_type);
	if (*c == PRES_CT_OTHER || *c == PRES_CT_RLMI)
		return 1;
	if (*c == PRES_CT_UNSUPPORTED) {
		*reason = "presence format not supported";
		return -ENOTSUP;
	}
	if (in->len > PRES_BODY_MAX) {
		*reason = "presence body too large";
		return -EMSGSIZE;
	}
	return 0;
}

int pres_translate(const struct pres_table *t, enum pres_direction dir, enum pres_dialect d,
		   const struct pres_input *in, struct pres_result *result, const char **reason)
{
	const struct pres_route *r = pres_route_of(d, dir);
	struct pres_buf out = { 0 };
	enum pres_ct c = PRES_CT_OTHER;
	int rc;

	memset(result, 0, sizeof(*result));
	if ((rc = admit(in, r, &c, reason)) != 0)
		return rc;
	rc = translate_body(t, dir, r, c, in, &out, &result->row, reason);
	if (rc == 0 && (rc = pres_buf_finish(&out)) < 0)
		*reason = "out of memory";
	if (rc < 0) {
		free(out.p);
		result->row = NULL;
		return rc;
	}
	result->body = out.p;
	result->len = out.len;
	/* A multipart body keeps its boundary and root part. */
	result->content_type = c == PRES_CT_MULTIPART ? in->content_type : "application/pidf+xml";
	return 0;
}
