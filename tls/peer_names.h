/* peer_names: the identities a verified peer certificate asserts. */
#ifndef FEDPROXY_TLS_PEER_NAMES_H
#define FEDPROXY_TLS_PEER_NAMES_H

#include <gnutls/gnutls.h>

/* The DNS subjectAltNames of the session's peer certificate, lower-cased;
 * when it has none, its subject CN (RFC 6125 section 6.4.4). A malloc'd
 * NULL-terminated array of malloc'd strings, or NULL. */
char **tls_peer_names(gnutls_session_t s);

#endif
