/* table: load and validate the presence mapping file, and look rows up
 * (presence.h has the format; etc/presence-map.conf documents it).
 *
 * Each column has its parse function (the `columns` keyword table); it
 * returns a message naming the value, and the loader adds the line. A
 * table loads only when every line is good and each dialect's route has
 * a "*" row, so a translation always finds a row. */
#include "presence/presence_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A mapping file is a few KB; refuse what cannot be one. */
#define TABLE_FILE_MAX (1024 * 1024)
#define TABLE_ROWS_MAX 4096
#define FIELDS 7

struct pres_table {
	struct pres_row *rows; /* owned */
	size_t n, cap;
};

struct loader {
	struct pres_table *t;
	const char *name;      /* borrowed: the file's base name, for labels */
	pres_report report;
	void *arg;
	unsigned errors;
};

static void problem(struct loader *ld, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct loader *ld, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld->errors++;
	if (ld->report)
		ld->report(ld->arg, line, msg);
}

/* ---- columns: each fills its part of r, or says what is wrong in err ---- */

typedef const char *(*column_fn)(struct pres_row *r, const char *v, char *err, size_t n);

static const char *col_dir(struct pres_row *r, const char *v, char *err, size_t n)
{
	if (strcmp(v, "in") && strcmp(v, "out")) {
		snprintf(err, n, "\"%s\" is not in or out", v);
		return err;
	}
	r->dir = strcmp(v, "in") ? PRES_OUTBOUND : PRES_INBOUND;
	return NULL;
}

static const char *parse_sys(uint8_t *sys, const char *v, char *err, size_t n)
{
	int s = pres_sys_find(v, strlen(v));

	if (s < 0) {
		snprintf(err, n, "unknown system \"%s\"", v);
		return err;
	}
	*sys = (uint8_t)s;
	return NULL;
}

static const char *col_src_sys(struct pres_row *r, const char *v, char *err, size_t n)
{
	return parse_sys(&r->src_sys, v, err, n);
}

static const char *col_dst_sys(struct pres_row *r, const char *v, char *err, size_t n)
{
	return parse_sys(&r->dst_sys, v, err, n);
}

/* A state of sys; "*" only where star is allowed. */
static const char *parse_state(uint8_t *st, enum pres_sys sys, const char *v, size_t len,
			       bool star, char *err, size_t n)
{
	int s = pres_state_find(v, len);

	if (s < 0 || (s == PRES_ST_NONE && !star) || (s != PRES_ST_NONE && !pres_sys_has_state(sys, s))) {
		snprintf(err, n, "\"%.*s\" is not a state of %s", (int)len, v, pres_sys_name(sys));
		return err;
	}
	*st = (uint8_t)s;
	return NULL;
}

static const char *col_src_state(struct pres_row *r, const char *v, char *err, size_t n)
{
	const char *plus = strchr(v, '+');
	size_t len = plus ? (size_t)(plus - v) : strlen(v);
	const char *msg = parse_state(&r->src_state, r->src_sys, v, len, !plus, err, n);
	int q;

	if (msg || !plus)
		return msg;
	q = pres_qual_find(plus + 1, strlen(plus + 1));
	if (q < 0 || !pres_sys_has_qual(r->src_sys, q)) {
		snprintf(err, n, "\"%s\" is not a qualifier of %s", plus + 1, pres_sys_name(r->src_sys));
		return err;
	}
	r->src_qual = (uint8_t)q;
	return NULL;
}

static const char *col_dst_state(struct pres_row *r, const char *v, char *err, size_t n)
{
	return parse_state(&r->dst_state, r->dst_sys, v, strlen(v), false, err, n);
}

/* A status text as it will be sent: the limits notes get on the wire. */
static const char *check_text(const char *s, size_t len, char *err, size_t n)
{
	const char *p = s;
	size_t fitted = len;

	if (len == 0 || len > PRES_TEXT_MAX || !pres_utf8_valid(s, len)) {
		snprintf(err, n, "text must be 1 to %d bytes of UTF-8", PRES_TEXT_MAX);
		return err;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(err, n, "control character in text");
			return err;
		}
	}
	pres_text_fit(&p, &fitted, PRES_TEXT_MAX);
	if (fitted != len) {
		snprintf(err, n, "text has leading or trailing blanks");
		return err;
	}
	return NULL;
}

/* keep | none | set:"TEXT" | default:"TEXT" */
static const char *col_rule(struct pres_row *r, const char *v, char *err, size_t n)
{
	static const struct { const char *word; enum pres_rule rule; } rules[] = {
		{ "keep", PRES_RULE_KEEP }, { "none", PRES_RULE_NONE },
		{ "set:", PRES_RULE_SET }, { "default:", PRES_RULE_DEFAULT },
	};
	const char *msg;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		size_t w = strlen(rules[i].word), len;

		if (strncmp(v, rules[i].word, w) || (rules[i].word[w - 1] != ':' && v[w]))
			continue;
		r->rule = (uint8_t)rules[i].rule;
		if (rules[i].word[w - 1] != ':')
			return NULL;
		len = strlen(v + w);
		if (len < 2 || v[w] != '"' || v[w + len - 1] != '"' || memchr(v + w + 1, '"', len - 2)) {
			snprintf(err, n, "\"%s\": the text must be in double quotes", v);
			return err;
		}
		if ((msg = check_text(v + w + 1, len - 2, err, n)))
			return msg;
		r->text_len = len - 2;
		r->text = strndup(v + w + 1, len - 2);
		return r->text ? NULL : "out of memory";
	}
	snprintf(err, n, "\"%s\" is not keep, none, set:\"TEXT\" or default:\"TEXT\"", v);
	return err;
}

static const char *col_origin(struct pres_row *r, const char *v, char *err, size_t n)
{
	if (!strcmp(v, "proposed") || !strcmp(v, "local") ||
	    (!strncmp(v, "seed:T", 6) && v[6] >= '1' && v[6] <= '7' && !v[7]))
		return NULL;
	snprintf(err, n, "\"%s\" is not seed:T1..seed:T7, proposed or local", v);
	return err;
}

static const struct column {
	const char *name;
	column_fn parse;
} columns[FIELDS] = {
	{ "direction", col_dir },       { "source system", col_src_sys },
	{ "source state", col_src_state }, { "target system", col_dst_sys },
	{ "target state", col_dst_state }, { "status rule", col_rule },
	{ "origin", col_origin },
};

/* ---- lines ---- */

/* Split s at blanks outside double quotes into f (room for max): the
 * number of fields (may exceed max), or -1 for an open quote. */
static int split_fields(char *s, char **f, int max)
{
	int n = 0;

	for (;;) {
		bool quoted = false;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return n;
		if (n < max)
			f[n] = s;
		n++;
		for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++)
			if (*s == '"')
				quoted = !quoted;
		if (quoted)
			return -1;
		if (*s)
			*s++ = '\0';
	}
}

static const struct pres_row *find_exact(const struct pres_table *t, unsigned dir, unsigned src,
					 unsigned st, unsigned q, unsigned dst)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct pres_row *r = &t->rows[i];

		if (r->dir == dir && r->src_sys == src && r->src_state == st && r->src_qual == q &&
		    r->dst_sys == dst)
			return r;
	}
	return NULL;
}

static int append_row(struct loader *ld, struct pres_row *r, const char *origin)
{
	struct pres_table *t = ld->t;
	char label[256];

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct pres_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		t->rows = rows;
		t->cap = cap;
	}
	snprintf(label, sizeof(label), "%s:%u %s", ld->name, r->line, origin);
	if (!(r->label = strdup(label)))
		return -ENOMEM;
	t->rows[t->n++] = *r;
	return 0;
}

static void parse_row(struct loader *ld, char *line, unsigned no)
{
	struct pres_row r = { .line = no };
	const struct pres_row *dup;
	char *f[FIELDS], err[256];
	int n = split_fields(line, f, FIELDS);

	if (n == 0)
		return;
	if (n != FIELDS) {
		problem(ld, no, n < 0 ? "a double quote is not closed" :
			"%d fields where 7 are needed: dir src_sys src_state dst_sys dst_state status_rule origin", n);
		return;
	}
	for (int i = 0; i < FIELDS; i++) {
		const char *msg = columns[i].parse(&r, f[i], err, sizeof(err));

		if (msg) {
			problem(ld, no, "%s: %s", columns[i].name, msg);
			free(r.text);
			return;
		}
	}
	dup = find_exact(ld->t, r.dir, r.src_sys, r.src_state, r.src_qual, r.dst_sys);
	if (dup || ld->t->n >= TABLE_ROWS_MAX || append_row(ld, &r, f[FIELDS - 1]) < 0) {
		if (dup)
			problem(ld, no, "same mapping as line %u", dup->line);
		else
			problem(ld, no, "too many rows or out of memory");
		free(r.text);
	}
}

/* One physical line: comments and blank lines are skipped. */
static void parse_line(struct loader *ld, char *line, size_t len, unsigned no)
{
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (memchr(line, '\0', len)) {
		problem(ld, no, "NUL byte in line");
		return;
	}
	line += strspn(line, " \t");
	if (*line != '#')
		parse_row(ld, line, no);
}

/* Every translation needs a row: each dialect's route must have "*". */
static void check_defaults(struct loader *ld)
{
	for (int d = PRES_DIALECT_LYNC; d <= PRES_DIALECT_AOL; d++) {
		for (int dir = PRES_INBOUND; dir <= PRES_OUTBOUND; dir++) {
			const struct pres_route *r = pres_route_of(d, dir);

			if (!find_exact(ld->t, dir, r->src, PRES_ST_NONE, PRES_Q_NONE, r->dst))
				problem(ld, 0, "no default row \"%s %s * %s ...\"",
					dir == PRES_INBOUND ? "in" : "out", pres_sys_name(r->src),
					pres_sys_name(r->dst));
		}
	}
}

struct pres_table *pres_table_parse(const char *name, const char *text, size_t len,
				    pres_report report, void *arg)
{
	struct loader ld = { .name = name, .report = report, .arg = arg };
	char *copy = malloc(len + 1);
	unsigned no = 0;

	pres_xml_init();
	ld.t = calloc(1, sizeof(*ld.t));
	if (!copy || !ld.t) {
		problem(&ld, 0, "out of memory");
		goto out_free;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (char *line = copy; line < copy + len;) {
		char *nl = memchr(line, '\n', (size_t)(copy + len - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(copy + len - line);

		line[n] = '\0';
		parse_line(&ld, line, n, ++no);
		line += n + 1;
	}
	check_defaults(&ld);
out_free:
	free(copy);
	if (ld.errors) {
		pres_table_free(ld.t);
		return NULL;
	}
	return ld.t;
}

/* The whole file, NUL-terminated, or NULL (reported). */
static char *read_file(struct loader *ld, const char *file, size_t *len)
{
	FILE *fp = fopen(file, "rb");
	char *buf;

	if (!fp) {
		problem(ld, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	buf = malloc(TABLE_FILE_MAX + 1);
	*len = buf ? fread(buf, 1, TABLE_FILE_MAX + 1, fp) : 0;
	if (!buf || ferror(fp) || *len > TABLE_FILE_MAX) {
		problem(ld, 0, buf && !ferror(fp) ? "larger than 1 MiB" : "cannot read");
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

struct pres_table *pres_table_load(const char *file, pres_report report, void *arg)
{
	struct loader ld = { .report = report, .arg = arg };
	const char *slash = strrchr(file, '/');
	struct pres_table *t;
	size_t len;
	char *text = read_file(&ld, file, &len);

	if (!text)
		return NULL;
	t = pres_table_parse(slash ? slash + 1 : file, text, len, report, arg);
	free(text);
	return t;
}

void pres_table_free(struct pres_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->rows[i].text);
		free(t->rows[i].label);
	}
	free(t->rows);
	free(t);
}

size_t pres_table_size(const struct pres_table *t)
{
	return t->n;
}

const struct pres_row *pres_table_find(const struct pres_table *t, enum pres_direction dir,
				       enum pres_sys src, enum pres_state st, enum pres_qual q,
				       enum pres_sys dst)
{
	const struct pres_row *r = NULL;

	if (q != PRES_Q_NONE)
		r = find_exact(t, dir, src, st, q, dst);
	if (!r && st != PRES_ST_NONE)
		r = find_exact(t, dir, src, st, PRES_Q_NONE, dst);
	return r ? r : find_exact(t, dir, src, PRES_ST_NONE, PRES_Q_NONE, dst);
}

/* "state" or "state+qualifier" as ids. */
static int parse_source(const char *v, int *st, int *q)
{
	const char *plus = strchr(v, '+');

	*st = pres_state_find(v, plus ? (size_t)(plus - v) : strlen(v));
	*q = plus ? pres_qual_find(plus + 1, strlen(plus + 1)) : PRES_Q_NONE;
	return *st < 0 || *q < 0 ? -EINVAL : 0;
}

int pres_table_map(const struct pres_table *t, const char *dir, const char *src_sys,
		   const char *src_state, const char *dst_sys, struct pres_mapping *m)
{
	int src = pres_sys_find(src_sys, strlen(src_sys)), dst = pres_sys_find(dst_sys, strlen(dst_sys));
	int d = !strcmp(dir, "in") ? PRES_INBOUND : !strcmp(dir, "out") ? PRES_OUTBOUND : -1;
	const struct pres_row *r;
	int st, q;

	if (src < 0 || dst < 0 || d < 0 || parse_source(src_state, &st, &q) < 0)
		return -EINVAL;
	if (!(r = pres_table_find(t, d, src, st, q, dst)))
		return -ENOENT;
	m->dst_state = pres_state_name(r->dst_state);
	m->rule = r->rule;
	m->text = r->text;
	m->row = r->label;
	return 0;
}
