/* config_reader: feed inih whole lines, counted (see config_reader.h). */
#include "config_reader.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Debian's inih keeps this much of a section name (MAX_SECTION - 1). */
#define INIH_SECTION_MAX 49
#define ALIAS_MARK '\x01'

/* The next physical line into r->buf, without its line ending. */
static bool read_physical(struct config_reader *r)
{
	ssize_t n;

	if (r->fp) {
		n = getline(&r->buf, &r->cap, r->fp);
		if (n < 0)
			return false;
	} else {
		const char *nl;

		if (!r->text || !*r->text)
			return false;
		nl = strchr(r->text, '\n');
		n = nl ? nl - r->text + 1 : (ssize_t)strlen(r->text);
		if ((size_t)n + 1 > r->cap) {
			char *p = realloc(r->buf, (size_t)n + 1);

			if (!p)
				return false;
			r->buf = p;
			r->cap = (size_t)n + 1;
		}
		memcpy(r->buf, r->text, (size_t)n);
		r->buf[n] = '\0';
		r->text += n;
	}
	while (n > 0 && (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r'))
		r->buf[--n] = '\0';
	r->line++;
	return true;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Keep text aside; the alias index, or -1. */
static int keep(struct config_reader *r, const char *text)
{
	char **grown = realloc(r->aliases, (r->n_aliases + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	r->aliases = grown;
	r->aliases[r->n_aliases] = strdup(text);
	return r->aliases[r->n_aliases] ? (int)r->n_aliases++ : -1;
}

/* A value as inih would read it: no inline "; comment", trimmed. */
static char *plain_value(char *v)
{
	for (char *p = v; *p; p++) {
		if (*p == ';' && p > v && isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	}
	return trim(v);
}

char *config_reader_next(char *buf, int size, void *user)
{
	struct config_reader *r = user;
	char *s, *eq, *close;
	int alias;

	if (!read_physical(r))
		return NULL;
	s = trim(r->buf);
	if (*s == '[' && (close = strchr(s, ']'))) {
		r->section_line = r->line;
		*close = '\0';
		r->on_section(r->arg, trim(s + 1));
		if (close - s - 1 > INIH_SECTION_MAX) {
			if ((alias = keep(r, trim(s + 1))) >= 0)
				snprintf(buf, (size_t)size, "[%c%d]\n", ALIAS_MARK, alias);
			return buf;
		}
		*close = ']';
	} else if (strlen(s) + 2 > (size_t)size && (eq = strchr(s, '='))) {
		*eq = '\0';
		if ((alias = keep(r, plain_value(eq + 1))) >= 0)
			snprintf(buf, (size_t)size, "%s=%c%d\n", s, ALIAS_MARK, alias);
		return buf;
	}
	/* A line still too long (a bare word): inih sees its head and says
	 * where the syntax is wrong. */
	snprintf(buf, (size_t)size, "%s\n", s);
	return buf;
}

const char *config_reader_resolve(const struct config_reader *r, const char *s)
{
	char *end;
	unsigned long i;

	if (s[0] != ALIAS_MARK)
		return s;
	i = strtoul(s + 1, &end, 10);
	return *end == '\0' && i < r->n_aliases ? r->aliases[i] : s;
}

void config_reader_release(struct config_reader *r)
{
	for (size_t i = 0; i < r->n_aliases; i++)
		free(r->aliases[i]);
	free(r->aliases);
	free(r->buf);
}
