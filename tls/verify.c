/* verify: peer chain verification outside the handshake (see verify.h). */
#include "verify.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "creds.h"

/* Chains longer than this are not ones the handshake accepted. */
#define MAX_CHAIN 16
/* Distinct (credentials, chain) pairs remembered in one pass; past that,
 * chains are verified each time. */
#define RECHECK_SLOTS 256
#define CHAIN_DIGEST_LEN 32 /* SHA-256 */

struct recheck_slot {
	const struct tls_creds *creds; /* NULL: free slot */
	unsigned char digest[CHAIN_DIGEST_LEN];
	const char *verdict;
};

struct tls_recheck {
	struct recheck_slot slots[RECHECK_SLOTS];
};

const char *tls_verify_reason(unsigned status)
{
	if (status & GNUTLS_CERT_EXPIRED)
		return "peer certificate expired";
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return "peer certificate not yet valid";
	if (status & GNUTLS_CERT_REVOKED)
		return "peer certificate revoked";
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		return "peer certificate does not name the host dialled";
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return "peer certificate from an untrusted CA";
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "peer certificate not for this purpose";
	return "peer certificate invalid";
}

static const char *verify_chain(struct tls_creds *creds, const gnutls_datum_t *chain, unsigned n)
{
	gnutls_x509_trust_list_t trust;
	gnutls_x509_crt_t crts[MAX_CHAIN];
	const char *why = NULL;
	unsigned status = 0, k;

	if (n > MAX_CHAIN)
		return "peer certificate chain too long";
	/* The credentials' own list: their CAs, with the CRLs checked in. */
	gnutls_certificate_get_trust_list(tls_creds_certificates(creds), &trust);
	for (k = 0; k < n; k++) {
		if (gnutls_x509_crt_init(&crts[k]) < 0)
			goto out; /* out of memory: cannot tell */
		if (gnutls_x509_crt_import(crts[k], &chain[k], GNUTLS_X509_FMT_DER) < 0) {
			k++; /* this one is initialized too */
			why = "peer certificate invalid";
			goto out;
		}
	}
	if (gnutls_x509_trust_list_verify_crt2(trust, crts, n, NULL, 0,
					       GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
						       GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
					       &status, NULL) < 0)
		why = "peer certificate invalid";
	else if (status)
		why = tls_verify_reason(status);
out:
	while (k > 0)
		gnutls_x509_crt_deinit(crts[--k]);
	return why;
}

/* The slot for (creds, digest): its own, or the free one to fill; NULL
 * when the table is full. */
static struct recheck_slot *find_slot(struct tls_recheck *r, const struct tls_creds *creds,
				      const unsigned char *digest)
{
	unsigned start;

	memcpy(&start, digest, sizeof(start));
	for (unsigned i = 0; i < RECHECK_SLOTS; i++) {
		struct recheck_slot *s = &r->slots[(start + i) % RECHECK_SLOTS];

		if (!s->creds || (s->creds == creds && !memcmp(s->digest, digest, CHAIN_DIGEST_LEN)))
			return s;
	}
	return NULL;
}

static bool chain_digest(const gnutls_datum_t *chain, unsigned n, unsigned char *out)
{
	gnutls_hash_hd_t h;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return false;
	for (unsigned i = 0; i < n; i++)
		gnutls_hash(h, chain[i].data, chain[i].size);
	gnutls_hash_deinit(h, out);
	return true;
}

struct tls_recheck *tls_recheck_begin(void)
{
	return calloc(1, sizeof(struct tls_recheck));
}

const char *tls_recheck_peer(struct tls_recheck *r, struct tls_creds *creds,
			     const gnutls_datum_t *chain, unsigned n)
{
	unsigned char digest[CHAIN_DIGEST_LEN];
	struct recheck_slot *s;

	if (!chain || n == 0)
		return NULL; /* no peer certificate to check */
	if (!r || !chain_digest(chain, n, digest) || !(s = find_slot(r, creds, digest)))
		return verify_chain(creds, chain, n);
	if (!s->creds) {
		s->creds = creds;
		memcpy(s->digest, digest, CHAIN_DIGEST_LEN);
		s->verdict = verify_chain(creds, chain, n);
	}
	return s->verdict;
}

void tls_recheck_end(struct tls_recheck *r)
{
	free(r);
}
