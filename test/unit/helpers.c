/* helpers: row checks, the test PKI and stderr capture (see helpers.h). */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#ifndef MKPKI_SH
#error "meson passes MKPKI_SH, the path of test/certs/mkpki.sh"
#endif

static unsigned row_failures;

bool row_check(const char *file, int line, const char *desc, bool ok, const char *fmt, ...)
{
	va_list ap;
	char what[1024];

	if (ok)
		return true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	print_error("%s:%d: %s: %s\n", file, line, desc, what);
	row_failures++;
	return false;
}

bool row_int(const char *file, int line, const char *desc, const char *what, long long got,
	     long long want)
{
	return row_check(file, line, desc, got == want, "%s: got %lld, want %lld", what, got,
			 want);
}

bool row_str(const char *file, int line, const char *desc, const char *what, const char *got,
	     const char *want)
{
	bool same = got && want ? strcmp(got, want) == 0 : got == want;

	return row_check(file, line, desc, same, "%s: got \"%s\", want \"%s\"", what,
			 got ? got : "(null)", want ? want : "(null)");
}

void rows_done(void)
{
	unsigned n = row_failures;

	row_failures = 0;
	if (n)
		fail_msg("%u row check(s) failed (see above)", n);
}

/* ---- the "{cN}" notation ---- */

char *repeat_expand(const char *raw, size_t *len)
{
	size_t cap = strlen(raw) + 1, n = 0;
	char *out = malloc(cap);

	assert_non_null(out);
	for (const char *p = raw; *p;) {
		char c = *p;
		size_t count = 1;

		if (c == '{') {
			char *end;

			c = p[1];
			count = strtoul(p + 2, &end, 10);
			assert_true(*end == '}');
			p = end + 1;
		} else {
			p++;
		}
		if (n + count + 1 > cap) {
			cap = (n + count + 1) * 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memset(out + n, c, count);
		n += count;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

/* ---- PKI ---- */

static char pki[64];

const char *pki_dir(void)
{
	char cmd[256];

	if (pki[0])
		return pki;
	snprintf(pki, sizeof(pki), "/tmp/fedproxy-unit-XXXXXX");
	if (!mkdtemp(pki)) {
		pki[0] = '\0';
		fail_msg("mkdtemp failed");
	}
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", MKPKI_SH, pki);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
	return pki;
}

void pki_remove(void)
{
	char cmd[128];

	if (!pki[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
	if (system(cmd) != 0)
		print_error("could not remove %s\n", pki);
	pki[0] = '\0';
}

char *pki_expand(const char *text)
{
	static const char mark[] = "@PKI@";
	const char *dir = pki_dir();
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, mark)); p += sizeof(mark) - 1)
		n++;
	char *out = malloc(strlen(text) + n * strlen(dir) + 1);
	char *o = out;

	assert_non_null(out);
	for (const char *p = text, *m; *p; p = m + sizeof(mark) - 1) {
		m = strstr(p, mark);
		if (!m) {
			strcpy(o, p);
			return out;
		}
		memcpy(o, p, (size_t)(m - p));
		o += m - p;
		o = stpcpy(o, dir);
	}
	*o = '\0';
	return out;
}

struct config *config_load_pki(const char *name, const char *text)
{
	char *expanded = pki_expand(text);
	struct config *c = config_load_text(name, expanded);

	free(expanded);
	return c;
}

/* ---- stderr capture ---- */

static int saved_stderr = -1;
static FILE *capture_file;

void capture_begin(void)
{
	assert_int_equal(saved_stderr, -1);
	capture_file = tmpfile();
	assert_non_null(capture_file);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
}

char *capture_end(void)
{
	struct stat st;
	size_t size;
	char *text;

	fflush(stderr);
	assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
	close(saved_stderr);
	saved_stderr = -1;
	assert_int_equal(fstat(fileno(capture_file), &st), 0);
	size = (size_t)st.st_size;
	text = calloc(1, size + 1);
	assert_non_null(text);
	rewind(capture_file);
	assert_int_equal(fread(text, 1, size, capture_file), size);
	fclose(capture_file);
	capture_file = NULL;
	return text;
}
