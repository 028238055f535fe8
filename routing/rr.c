/* rr: signed Record-Route tokens (see rr.h).
 *
 * Every forwarded out-of-dialog request gets two tokens and every in-dialog
 * one has its tokens checked, so this is hot: the text is built with copies
 * and a hex table rather than printf, and the secret is keyed into HMAC
 * once per config snapshot (struct rr_key), each mac then being a copy of
 * that state fed the token's text. The key also remembers the macs it made
 * last: the tokens of a request name the connections it came in and goes
 * out on, and a few connections carry most requests, so most tokens (and
 * the ones in-dialog requests bring back) were signed before. */
#include "rr.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "proxy/digits.h"

/* Hex digits of the mac kept: 64 bits, beyond guessing over a SIP link. */
#define MAC_HEX 16
/* Hex digits of the flow id: all of its 64 bits. */
#define FLOW_HEX 16
/* What the mac signs: "<side>.<node>.<flow>". */
#define SIGNED_MAX (1 + 1 + RR_NODE_MAX + 1 + FLOW_HEX)
/* Macs remembered per key, direct-mapped by a hash of the signed text: a
 * slot per busy connection and side is plenty; a miss only costs the HMAC. */
#define MEMO_SLOTS 64

struct mac_memo {
	size_t len;             /* of text; 0: empty slot */
	char text[SIGNED_MAX];
	char mac[MAC_HEX];
};

struct rr_key {
	gnutls_hmac_hd_t keyed; /* owned: HMAC-SHA256 with the secret absorbed;
				   only its copies are fed text */
	struct mac_memo memo[MEMO_SLOTS];
};

struct rr_key *rr_key_new(const char *secret)
{
	struct rr_key *key = calloc(1, sizeof(*key));
	gnutls_hmac_hd_t probe;

	if (!key)
		return NULL;
	if (gnutls_hmac_init(&key->keyed, GNUTLS_MAC_SHA256, secret, strlen(secret)) < 0)
		goto out_free;
	/* GnuTLS may not support copying a MAC state (an accelerator's, say):
	 * find out at load rather than fail every token later. */
	probe = gnutls_hmac_copy(key->keyed);
	if (!probe)
		goto out_deinit;
	gnutls_hmac_deinit(probe, NULL);
	return key;
out_deinit:
	gnutls_hmac_deinit(key->keyed, NULL);
out_free:
	free(key);
	return NULL;
}

void rr_key_free(struct rr_key *key)
{
	if (!key)
		return;
	gnutls_hmac_deinit(key->keyed, NULL);
	free(key);
}

/* FNV-1a: only spreads texts over the memo's slots. Its entries are macs
 * we computed, so a peer choosing texts that collide only makes misses. */
static size_t memo_slot(const char *text, size_t len)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
	return (size_t)(h % MEMO_SLOTS);
}

/* The first MAC_HEX hex digits of HMAC-SHA256(secret, text[0..len)), without
 * a NUL. 0, or -ENOMEM / -EINVAL. */
static int mac_hex(struct rr_key *key, const char *text, size_t len, char out[MAC_HEX])
{
	struct mac_memo *m = &key->memo[memo_slot(text, len)];
	unsigned char digest[32];
	gnutls_hmac_hd_t h;

	if (m->len == len && memcmp(m->text, text, len) == 0) {
		memcpy(out, m->mac, MAC_HEX);
		return 0;
	}
	h = gnutls_hmac_copy(key->keyed);
	if (!h)
		return -ENOMEM;
	if (gnutls_hmac(h, text, len) < 0) {
		gnutls_hmac_deinit(h, NULL);
		return -EINVAL;
	}
	gnutls_hmac_deinit(h, digest);
	hex_encode(digest, MAC_HEX / 2, out);
	if (len <= SIGNED_MAX) {
		m->len = len;
		memcpy(m->text, text, len);
		memcpy(m->mac, out, MAC_HEX);
	}
	return 0;
}

bool rr_node_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RR_NODE_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int rr_token_encode(struct rr_key *key, const struct rr_token *t, char *out,
		    size_t outlen)
{
	const char *node = t->node[0] ? t->node : "-";
	size_t nodelen = strlen(node);
	/* Most significant digit first, as "%016x" would write it. */
	uint64_t flow = htobe64(t->flow);
	char *p = out;
	int r;

	if ((t->side != 'e' && t->side != 'i') || (t->node[0] && !rr_node_name_valid(t->node)))
		return -EINVAL;
	/* The token and its NUL. */
	if (outlen < 1 + 1 + nodelen + 1 + FLOW_HEX + 1 + MAC_HEX + 1)
		return -ENOSPC;
	*p++ = t->side;
	*p++ = '.';
	memcpy(p, node, nodelen);
	p += nodelen;
	*p++ = '.';
	hex_encode((const unsigned char *)&flow, sizeof(flow), p);
	p += FLOW_HEX;
	/* The mac signs everything before its own dot. */
	r = mac_hex(key, out, (size_t)(p - out), p + 1);
	if (r < 0)
		return r;
	*p = '.';
	p[1 + MAC_HEX] = '\0';
	return 0;
}

int rr_token_decode(struct rr_key *key, const char *value, struct rr_token *t)
{
	const char *dot1, *dot2, *dot3;
	char mac[MAC_HEX], *end;
	size_t nodelen;

	dot1 = strchr(value, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	dot3 = dot2 ? strchr(dot2 + 1, '.') : NULL;
	if (!dot3 || dot1 != value + 1 || (value[0] != 'e' && value[0] != 'i'))
		return -EBADMSG;
	nodelen = (size_t)(dot2 - dot1 - 1);
	if (nodelen == 0 || nodelen > RR_NODE_MAX || dot3 - dot2 - 1 != FLOW_HEX ||
	    strlen(dot3 + 1) != MAC_HEX)
		return -EBADMSG;
	if (mac_hex(key, value, (size_t)(dot3 - value), mac) < 0 ||
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
	else if (!rr_node_name_valid(t->node))
		return -EBADMSG;
	return 0;
}
