/* peer_names: read the names of the peer's certificate (see peer_names.h). */
#include "peer_names.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/x509.h>

/* A certificate with more names than this is cut short: enough for any real
 * edge (Microsoft edges carry a handful of sip.<domain> names). */
#define MAX_NAMES 64

static char *lower_dup(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (!d)
		return NULL;
	for (size_t i = 0; i < len; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[len] = '\0';
	return d;
}

static size_t collect_dns_sans(gnutls_x509_crt_t crt, char **names)
{
	size_t n = 0;

	for (unsigned seq = 0; n < MAX_NAMES; seq++) {
		char buf[256];
		size_t len = sizeof(buf);
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &len, NULL);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_DNSNAME && (names[n] = lower_dup(buf, len)))
			n++;
	}
	return n;
}

static size_t collect_cn(gnutls_x509_crt_t crt, char **names)
{
	char buf[256];
	size_t len = sizeof(buf);

	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len) < 0)
		return 0;
	names[0] = lower_dup(buf, len);
	return names[0] ? 1 : 0;
}

char **tls_peer_names(gnutls_session_t s)
{
	const gnutls_datum_t *chain;
	unsigned chain_len = 0;
	gnutls_x509_crt_t crt;
	char **names;
	size_t n;

	chain = gnutls_certificate_get_peers(s, &chain_len);
	if (!chain || chain_len == 0 || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	/* GnuTLS decoded and verified this very certificate in the handshake
	 * (the first one, for a resumed session), sanity checks included
	 * (version, duplicate extensions): repeating them here would cost an
	 * eighth of this function. The decode itself cannot be shared: GnuTLS
	 * keeps only the DER of the peer's chain. */
	gnutls_x509_crt_set_flags(crt, GNUTLS_X509_CRT_FLAG_IGNORE_SANITY);
	names = calloc(MAX_NAMES + 1, sizeof(*names));
	if (names && gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) >= 0) {
		n = collect_dns_sans(crt, names);
		if (n == 0)
			collect_cn(crt, names);
	}
	gnutls_x509_crt_deinit(crt);
	return names;
}
