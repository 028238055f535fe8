/* verify: why a peer's certificate chain fails verification, and checking
 * the chains of open connections again when a reload brings new trust (CA
 * bundle, CRL): a partner whose certificate was just revoked must not keep
 * the connections it opened before.
 *
 * A recheck pass verifies each distinct chain once (federation peers are
 * few, their connections many): tls_recheck_begin, tls_recheck_peer per
 * connection, tls_recheck_end. */
#ifndef FEDPROXY_TLS_VERIFY_H
#define FEDPROXY_TLS_VERIFY_H

#include <gnutls/gnutls.h>

struct tls_creds;
struct tls_recheck;

/* The reason, as a short phrase, for a gnutls_certificate_status_t that is
 * not 0 ("peer certificate revoked", ...). */
const char *tls_verify_reason(unsigned status);

/* NULL when out of memory: tls_recheck_peer then verifies every chain. */
struct tls_recheck *tls_recheck_begin(void);
/* NULL when chain (n certificates, DER, leaf first, as the peer sent it)
 * still verifies against creds' CAs and CRLs, else why not. Validity dates
 * are not checked again: the handshake did, and expiry is not what a reload
 * changes. */
const char *tls_recheck_peer(struct tls_recheck *r, struct tls_creds *creds,
			     const gnutls_datum_t *chain, unsigned n);
void tls_recheck_end(struct tls_recheck *r);

#endif
