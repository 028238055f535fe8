/* config_reader: the line source inih parses a config from.
 *
 * It counts lines (so every key is reported with FILE:LINE), reports each
 * [section] header as it starts (also one with no keys, which inih itself
 * never mentions), and carries lines that Debian's inih build cannot
 * hold (it reads at most 199 bytes a line and keeps 49 bytes of a section
 * name): such a section name or value is handed to inih as a short alias,
 * "\x01N", which config_reader_resolve() turns back into the real text. */
#ifndef FEDPROXY_CONFIG_READER_H
#define FEDPROXY_CONFIG_READER_H

#include <stdbool.h>
#include <stdio.h>

struct config_reader {
	FILE *fp;               /* borrowed: the source, or NULL */
	const char *text;       /* borrowed: the source when fp is NULL */
	unsigned line;          /* physical line last read */
	unsigned section_line;  /* line of the last [section] header */
	/* Told of every [section] header as it is read, before its keys. */
	void (*on_section)(void *arg, const char *name);
	void *arg;
	char **aliases;         /* owned: texts too long for inih */
	size_t n_aliases;
	char *buf;              /* owned: the physical line being read */
	size_t cap;
};

/* An ini_reader: fills buf (size bytes) with the next line, or NULL at the
 * end. `user` is the struct config_reader. */
char *config_reader_next(char *buf, int size, void *user);

/* The real text behind what inih handed over (itself when not an alias). */
const char *config_reader_resolve(const struct config_reader *r, const char *s);

void config_reader_release(struct config_reader *r);

#endif
