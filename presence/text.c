/* text: the small text rules every presence file shares: white space,
 * the status-text length limit on a UTF-8 boundary, UTF-8 validity,
 * case-insensitive words, and entity URIs. */
#include "presence/presence_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* XML white space: what PIDF values and notes are trimmed of. */
bool pres_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void pres_text_fit(const char **s, size_t *len, size_t max)
{
	const char *p = *s;
	size_t n = *len;

	while (n && pres_is_space((unsigned char)*p))
		p++, n--;
	while (n && pres_is_space((unsigned char)p[n - 1]))
		n--;
	if (n > max) {
		/* Back off continuation bytes (10xxxxxx) so that no character
		 * is cut in two. */
		n = max;
		while (n && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
		while (n && pres_is_space((unsigned char)p[n - 1]))
			n--;
	}
	*s = p;
	*len = n;
}

/* Length of the UTF-8 sequence led by c, 0 for a byte that cannot lead. */
static size_t utf8_lead(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

bool pres_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n = utf8_lead(*p);

		if (n == 0 || (size_t)(end - p) < n)
			return false;
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		/* Overlong three- and four-byte forms, surrogates, > U+10FFFF. */
		if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
		    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
			return false;
		p += n;
	}
	return true;
}

bool pres_word_eq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* Schemes an entity may carry; AOL sends none at all. */
static const char *const entity_schemes[] = { "sip:", "sips:", "pres:", "im:" };

static const char *skip_scheme(const char *s)
{
	for (size_t i = 0; i < sizeof(entity_schemes) / sizeof(entity_schemes[0]); i++) {
		size_t n = strlen(entity_schemes[i]);

		if (strncasecmp(s, entity_schemes[i], n) == 0)
			return s + n;
	}
	return s;
}

/* Characters a host name may hold (IPv6 references included). */
static bool host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '[' || c == ']' || c == ':';
}

int pres_entity_normalise(const char *in, char out[PRES_ENTITY_MAX])
{
	const char *user = skip_scheme(in), *at = strchr(user, '@'), *host, *end;
	size_t ulen, hlen;

	if (!at || at == user)
		return -EBADMSG;
	ulen = (size_t)(at - user);
	/* No blanks or markup; no ':' either (another scheme, or a password). */
	if (ulen != strcspn(user, " \t\r\n<>\"@:"))
		return -EBADMSG;
	host = at + 1;
	/* URI parameters and headers are not part of the identity. */
	end = host + strcspn(host, ";?");
	for (hlen = 0; host + hlen < end; hlen++)
		if (!host_char((unsigned char)host[hlen]))
			return -EBADMSG;
	if (hlen == 0 || 4 + ulen + 1 + hlen + 1 > PRES_ENTITY_MAX)
		return -EBADMSG;
	memcpy(out, "sip:", 4);
	memcpy(out + 4, user, ulen);
	out[4 + ulen] = '@';
	for (size_t i = 0; i < hlen; i++)
		out[5 + ulen + i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
	out[5 + ulen + hlen] = '\0';
	return 0;
}

bool pres_entity_in_domain(const char *entity, const char *domain)
{
	const char *at = strrchr(entity, '@');

	return at && strcasecmp(at + 1, domain) == 0;
}
