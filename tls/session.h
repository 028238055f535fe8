/* session: a non-blocking GnuTLS session on a connection's socket, exposed to
 * the connection layer as conn_ops (tls_conn_ops).
 *
 * Server side: TLS 1.2+ per the credentials' priority string, a client
 * certificate is required and its chain verified during the handshake (no
 * EKU is demanded). Client side: SNI = the host dialled, and the server's
 * chain, name and serverAuth purpose are verified during the handshake.
 * After the handshake the peer's certificate names (DNS SANs, else the CN)
 * are stored on the connection for policy and connection reuse. */
#ifndef FEDPROXY_TLS_SESSION_H
#define FEDPROXY_TLS_SESSION_H

#include <stdbool.h>
#include <gnutls/gnutls.h>
#include "proxy/conn.h"

struct tls_creds;

extern const struct conn_ops tls_conn_ops;

/* Start a session on c's socket with creds (a reference is taken).
 * server_name: for a client, the host to send as SNI and to verify.
 * 0 or -errno. */
int tls_session_attach(struct conn *c, struct tls_creds *creds, bool client,
		       const char *server_name);

/* The certificate chain the peer of c's session sent (DER, leaf first; n of
 * them), NULL before the handshake. Owned by the session. */
const gnutls_datum_t *tls_session_peer_chain(struct conn *c, unsigned *n);

#endif
