/* creds: load, check and refcount GnuTLS credentials (see creds.h). */
#include "creds.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <gnutls/x509.h>

struct tls_creds {
	unsigned refs;
	gnutls_certificate_credentials_t certs; /* owned */
	gnutls_priority_t priority;             /* owned */
	gnutls_datum_t ticket_key;              /* owned */
};

static int fail(enum tls_creds_part *part, enum tls_creds_part which, char *err,
		size_t errlen, const char *fmt, ...)
{
	va_list ap;

	*part = which;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The leaf must be valid now: an expired certificate would only show up as
 * every peer refusing us. */
static int check_leaf_dates(const char *file, enum tls_creds_part *part, char *err, size_t errlen)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	gnutls_datum_t data;
	int r = -1;

	if (gnutls_load_file(file, &data) < 0)
		return fail(part, TLS_PART_CERTIFICATE, err, errlen, "cannot read %s", file);
	if (gnutls_x509_crt_list_import2(&crts, &n, &data, GNUTLS_X509_FMT_PEM, 0) < 0 || n == 0) {
		fail(part, TLS_PART_CERTIFICATE, err, errlen, "%s holds no PEM certificate", file);
		goto out_free_data;
	}
	time_t now = time(NULL);

	if (gnutls_x509_crt_get_expiration_time(crts[0]) < now)
		fail(part, TLS_PART_CERTIFICATE, err, errlen, "certificate in %s has expired", file);
	else if (gnutls_x509_crt_get_activation_time(crts[0]) > now)
		fail(part, TLS_PART_CERTIFICATE, err, errlen, "certificate in %s is not valid yet", file);
	else
		r = 0;
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
out_free_data:
	gnutls_free(data.data);
	return r;
}

int tls_creds_load(const struct tls_creds_spec *spec, struct tls_creds **out,
		   enum tls_creds_part *part, char *err, size_t errlen)
{
	struct tls_creds *c = calloc(1, sizeof(*c));
	const char *errpos = NULL;
	int r;

	if (!c)
		return fail(part, TLS_PART_CERTIFICATE, err, errlen, "out of memory");
	c->refs = 1;
	if (gnutls_certificate_allocate_credentials(&c->certs) < 0) {
		fail(part, TLS_PART_CERTIFICATE, err, errlen, "out of memory");
		goto out_free;
	}
	r = gnutls_certificate_set_x509_trust_file(c->certs, spec->ca_bundle, GNUTLS_X509_FMT_PEM);
	if (r <= 0) {
		fail(part, TLS_PART_CA_BUNDLE, err, errlen, "no CA certificate loaded from %s%s%s",
		     spec->ca_bundle, r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
		goto out_free;
	}
	if (spec->crl &&
	    (r = gnutls_certificate_set_x509_crl_file(c->certs, spec->crl, GNUTLS_X509_FMT_PEM)) < 0) {
		fail(part, TLS_PART_CRL, err, errlen, "cannot load the CRL %s: %s", spec->crl,
		     gnutls_strerror(r));
		goto out_free;
	}
	if (check_leaf_dates(spec->certificate, part, err, errlen) < 0)
		goto out_free;
	r = gnutls_certificate_set_x509_key_file(c->certs, spec->certificate, spec->key,
						 GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		fail(part, TLS_PART_KEY,
		     err, errlen, "cannot use key %s with certificate %s: %s", spec->key,
		     spec->certificate, gnutls_strerror(r));
		goto out_free;
	}
	r = gnutls_priority_init(&c->priority, spec->priority, &errpos);
	if (r < 0) {
		fail(part, TLS_PART_PRIORITY, err, errlen, "bad TLS priority string near '%s': %s",
		     errpos ? errpos : "", gnutls_strerror(r));
		goto out_free;
	}
	if (gnutls_session_ticket_key_generate(&c->ticket_key) < 0) {
		fail(part, TLS_PART_PRIORITY, err, errlen, "cannot generate a session ticket key");
		goto out_free;
	}
	*out = c;
	return 0;
out_free:
	tls_creds_unref(c);
	return -1;
}

struct tls_creds *tls_creds_ref(struct tls_creds *c)
{
	if (c)
		c->refs++;
	return c;
}

void tls_creds_unref(struct tls_creds *c)
{
	if (!c || --c->refs > 0)
		return;
	if (c->certs)
		gnutls_certificate_free_credentials(c->certs);
	if (c->priority)
		gnutls_priority_deinit(c->priority);
	gnutls_free(c->ticket_key.data);
	free(c);
}

gnutls_certificate_credentials_t tls_creds_certificates(const struct tls_creds *c)
{
	return c->certs;
}

gnutls_priority_t tls_creds_priority(const struct tls_creds *c)
{
	return c->priority;
}

const gnutls_datum_t *tls_creds_ticket_key(const struct tls_creds *c)
{
	return &c->ticket_key;
}
