/* digits: numbers and bytes as text on the per-request path, where printf's
 * format parsing costs more than the conversion itself. */
#ifndef FEDPROXY_DIGITS_H
#define FEDPROXY_DIGITS_H

#include <stddef.h>
#include <stdint.h>

/* Room for any uint32_t in decimal, with its NUL. */
#define DECIMAL_TEXT_MAX sizeof("4294967295")

/* n bytes as 2n lower-case hex digits, without a NUL. */
static inline void hex_encode(const unsigned char *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		*out++ = digits[bytes[i] >> 4];
		*out++ = digits[bytes[i] & 0xf];
	}
}

/* v in decimal, written at the end of buf; returns where the text starts. */
static inline const char *decimal_text(uint32_t v, char buf[DECIMAL_TEXT_MAX])
{
	char *p = buf + DECIMAL_TEXT_MAX - 1;

	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return p;
}

#endif
