/* rr: signed Record-Route tokens (see rr.h). */
#include "rr.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

/* Hex digits of the mac kept: 64 bits, beyond guessing over a SIP link. */
#define MAC_HEX 16

static int mac_hex(const char *secret, const char *text, size_t len, char out[MAC_HEX + 1])
{
	unsigned char digest[32];

	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, strlen(secret), text, len, digest) < 0)
		return -EINVAL;
	for (int i = 0; i < MAC_HEX / 2; i++)
		sprintf(out + 2 * i, "%02x", digest[i]);
	return 0;
}

static int valid_node(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RR_NODE_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int rr_token_encode(const char *secret, const struct rr_token *t, char *out, size_t outlen)
{
	char mac[MAC_HEX + 1];
	const char *node = t->node[0] ? t->node : "-";
	int n;

	if ((t->side != 'e' && t->side != 'i') || (t->node[0] && !valid_node(t->node)))
		return -EINVAL;
	n = snprintf(out, outlen, "%c.%s.%016" PRIx64, t->side, node, t->flow);
	if (n < 0 || (size_t)n + 1 + MAC_HEX >= outlen)
		return -ENOSPC;
	if (mac_hex(secret, out, (size_t)n, mac) < 0)
		return -EINVAL;
	snprintf(out + n, outlen - (size_t)n, ".%s", mac);
	return 0;
}

int rr_token_decode(const char *secret, const char *value, struct rr_token *t)
{
	const char *dot1, *dot2, *dot3;
	char mac[MAC_HEX + 1], *end;
	size_t nodelen;

	dot1 = strchr(value, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	dot3 = dot2 ? strchr(dot2 + 1, '.') : NULL;
	if (!dot3 || dot1 != value + 1 || (value[0] != 'e' && value[0] != 'i'))
		return -EBADMSG;
	nodelen = (size_t)(dot2 - dot1 - 1);
	if (nodelen == 0 || nodelen > RR_NODE_MAX || dot3 - dot2 - 1 != 16 ||
	    strlen(dot3 + 1) != MAC_HEX)
		return -EBADMSG;
	if (mac_hex(secret, value, (size_t)(dot3 - value), mac) < 0 ||
	    gnutls_memcmp(mac, dot3 + 1, MAC_HEX) != 0)
		return -EBADMSG;
	t->side = value[0];
	t->flow = strtoull(dot2 + 1, &end, 16);
	if (end != dot3)
		return -EBADMSG;
	memcpy(t->node, dot1 + 1, nodelen);
	t->node[nodelen] = '\0';
	if (!strcmp(t->node, "-"))
		t->node[0] = '\0';
	else if (!valid_node(t->node))
		return -EBADMSG;
	return 0;
}
