/* creds: refcounted GnuTLS credentials (certificate chain, key, trust) plus
 * the priority cache they are used with.
 *
 * A session keeps a pointer to the credentials it was started with and GnuTLS
 * does not copy them, so every session holds a reference; a reload builds new
 * credentials and the old ones go when their last session does. */
#ifndef FEDPROXY_TLS_CREDS_H
#define FEDPROXY_TLS_CREDS_H

#include <stddef.h>
#include <gnutls/gnutls.h>

struct tls_creds;

/* Which input a load failure is about, so the caller can name its line. */
enum tls_creds_part {
	TLS_PART_CERTIFICATE = 0,
	TLS_PART_KEY,
	TLS_PART_CA_BUNDLE,
	TLS_PART_PRIORITY,
	TLS_PART_CRL,
};

struct tls_creds_spec {
	const char *certificate; /* PEM chain, leaf first */
	const char *key;         /* PEM private key */
	const char *ca_bundle;   /* PEM CA certificates to verify peers with */
	const char *crl;         /* PEM revocation lists, or NULL */
	const char *priority;    /* GnuTLS priority string */
};

/* Load and check (readable, key matches certificate, certificate currently
 * valid, at least one CA). 0 and *out with one reference, or -1 with *part
 * and err (a sentence) saying what is wrong. */
int tls_creds_load(const struct tls_creds_spec *spec, struct tls_creds **out,
		   enum tls_creds_part *part, char *err, size_t errlen);

struct tls_creds *tls_creds_ref(struct tls_creds *c);
void tls_creds_unref(struct tls_creds *c);

gnutls_certificate_credentials_t tls_creds_certificates(const struct tls_creds *c);
gnutls_priority_t tls_creds_priority(const struct tls_creds *c);
/* Session ticket key (server side), generated per load. */
const gnutls_datum_t *tls_creds_ticket_key(const struct tls_creds *c);

#endif
