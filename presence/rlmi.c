/* rlmi: rewrite the RLMI list part of a batched NOTIFY (RFC 4662) for the
 * other side: the same list, resources and instances, minus the instances
 * whose state RFC 4662 does not define. Lync's "resubscribe" (with its
 * poolFqdn) tells a Microsoft client to subscribe to a contact itself; it
 * is no state change and must not reach XMPP (reference section 5).
 *
 * Written while it is read (a grammar whose handlers emit), so nothing
 * but the list itself is kept. */
#include "presence/presence_int.h"

#include <errno.h>
#include <string.h>

#define NS_RLMI "urn:ietf:params:xml:ns:rlmi"

enum kind { K_SKIP = PRES_KIND_SKIP, K_DOC = PRES_KIND_DOC, K_LIST, K_RESOURCE, K_INSTANCE, K_COUNT };

static const struct pres_grammar_rule rules[] = {
	{ K_DOC, K_LIST, NS_RLMI, "list" },
	{ K_LIST, K_RESOURCE, NS_RLMI, "resource" },
	{ K_RESOURCE, K_INSTANCE, NS_RLMI, "instance" },
};

struct rlmi {
	struct pres_buf *out; /* borrowed */
	bool list;            /* a list element was read */
};

/* A start tag: head, then those of names[] the element has (as they
 * were), then tail. */
static void start_tag(struct pres_xml *x, const struct pres_attrs *a, struct pres_buf *out,
		      const char *head, const char *const *names, const char *tail)
{
	pres_buf_str(out, head);
	for (; *names; names++) {
		const char *v = pres_xml_attr(x, a, NULL, *names);

		if (v)
			pres_buf_attr(out, *names, v);
	}
	pres_buf_str(out, tail);
}

static int list_start(struct pres_xml *x, void *ctx, const char *name, const struct pres_attrs *a)
{
	static const char *const names[] = { "uri", "version", "fullState", NULL };
	struct rlmi *l = ctx;

	l->list = true;
	start_tag(x, a, l->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<list xmlns=\"" NS_RLMI "\"",
		  names, ">\n");
	return 0;
}

static void list_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct rlmi *l = ctx;

	pres_buf_str(l->out, "</list>\n");
}

static int resource_start(struct pres_xml *x, void *ctx, const char *name,
			  const struct pres_attrs *a)
{
	static const char *const names[] = { "uri", NULL };
	struct rlmi *l = ctx;

	start_tag(x, a, l->out, " <resource", names, ">\n");
	return 0;
}

static void resource_end(struct pres_xml *x, void *ctx, const char *text, size_t len)
{
	struct rlmi *l = ctx;

	pres_buf_str(l->out, " </resource>\n");
}

static int instance_start(struct pres_xml *x, void *ctx, const char *name,
			  const struct pres_attrs *a)
{
	static const char *const names[] = { "id", "state", "reason", "cid", NULL };
	struct rlmi *l = ctx;
	const char *state = pres_xml_attr(x, a, NULL, "state");

	if (!state || (strcmp(state, "active") && strcmp(state, "pending") &&
		       strcmp(state, "terminated")))
		return 1;
	start_tag(x, a, l->out, "  <instance", names, "/>\n");
	return 0;
}

static const struct pres_kind kinds[K_COUNT] = {
	[K_LIST] = { 0, list_start, list_end },
	[K_RESOURCE] = { 0, resource_start, resource_end },
	[K_INSTANCE] = { 0, instance_start, NULL },
};

static const struct pres_grammar grammar = { rules, sizeof(rules) / sizeof(rules[0]), kinds };

int pres_rlmi_filter(const char *body, size_t len, const char *charset, struct pres_buf *out,
		     const char **reason)
{
	struct rlmi l = { out, false };
	char stack[4096];
	struct pres_arena arena;
	int rc;

	if (pres_arena_init(&arena, stack, sizeof(stack), len) < 0) {
		*reason = "out of memory";
		return -ENOMEM;
	}
	rc = pres_xml_read(body, len, charset, &grammar, &l, &arena, reason);
	if (rc == 0 && !l.list) {
		*reason = "not an RLMI list";
		rc = -EBADMSG;
	}
	pres_arena_release(&arena, stack);
	return rc;
}
