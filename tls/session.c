/* session: GnuTLS under libev, non-blocking (see session.h).
 *
 * GNUTLS_E_AGAIN means "call again when the socket is ready"; which way is
 * told by gnutls_record_get_direction(). A send that returned EAGAIN has
 * already built its record, so the next call must be
 * gnutls_record_send(s, NULL, 0): we keep the length it was for. */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "creds.h"
#include "peer_names.h"
#include "verify.h"
#include "proxy/log.h"

struct tls_session {
	gnutls_session_t s;      /* owned */
	struct tls_creds *creds; /* refcounted */
	size_t send_pending;     /* bytes of a send that returned EAGAIN */
};

static struct tls_session *session_of(struct conn *c)
{
	return conn_transport_data(c);
}

int tls_session_attach(struct conn *c, struct tls_creds *creds, bool client,
		       const char *server_name)
{
	struct tls_session *t = calloc(1, sizeof(*t));
	unsigned flags = (client ? GNUTLS_CLIENT : GNUTLS_SERVER) | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL;

	if (!t)
		return -ENOMEM;
	if (!creds || gnutls_init(&t->s, flags) < 0) {
		free(t);
		return -ENOMEM;
	}
	t->creds = tls_creds_ref(creds);
	conn_set_transport_data(c, t);
	gnutls_priority_set(t->s, tls_creds_priority(creds));
	gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, tls_creds_certificates(creds));
	if (client) {
		gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, server_name, strlen(server_name));
		gnutls_session_set_verify_cert(t->s, server_name, 0);
	} else {
		gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(t->s, NULL, 0);
		gnutls_session_ticket_enable_server(t->s, tls_creds_ticket_key(creds));
	}
	gnutls_transport_set_int(t->s, conn_fd(c));
	/* Our own timer bounds the handshake (GnuTLS's is for blocking use). */
	gnutls_handshake_set_timeout(t->s, 0);
	return 0;
}

static int tls_handshake(struct conn *c)
{
	struct tls_session *t = session_of(c);
	int r;

	do {
		r = gnutls_handshake(t->s);
	} while (r < 0 && r != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(r));
	if (r == GNUTLS_E_AGAIN)
		return -EAGAIN;
	if (r < 0) {
		if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
			conn_set_fail_reason(
				c, tls_verify_reason(gnutls_session_get_verify_cert_status(t->s)));
		else if (r == GNUTLS_E_NO_CERTIFICATE_FOUND || r == GNUTLS_E_CERTIFICATE_REQUIRED)
			conn_set_fail_reason(c, "peer sent no certificate");
		else
			conn_set_fail_reason(c, gnutls_strerror(r));
		/* Tell the peer why before we hang up. */
		gnutls_alert_send_appropriate(t->s, r);
		return -EPROTO;
	}
	conn_set_peer_names(c, tls_peer_names(t->s));
	log_debug("conn %llu: TLS %s with %s, peer %s%s", (unsigned long long)conn_id(c),
		  gnutls_protocol_get_name(gnutls_protocol_get_version(t->s)), conn_peer(c),
		  conn_peer_names(c) && conn_peer_names(c)[0] ? conn_peer_names(c)[0] : "(no name)",
		  gnutls_session_is_resumed(t->s) ? " (resumed)" : "");
	return 0;
}

static ssize_t tls_recv(struct conn *c, char *buf, size_t len)
{
	struct tls_session *t = session_of(c);

	for (;;) {
		ssize_t n = gnutls_record_recv(t->s, buf, len);

		if (n >= 0)
			return n;
		if (n == GNUTLS_E_AGAIN)
			return -EAGAIN;
		if (n == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal((int)n))
			continue; /* a warning alert, a rehandshake request: carry on */
		/* TLS 1.3: a peer that rejects our client certificate says so
		 * only now, on the first read after "handshake completed". */
		conn_set_fail_reason(c, gnutls_strerror((int)n));
		return n == GNUTLS_E_PREMATURE_TERMINATION ? 0 : -EPROTO;
	}
}

static ssize_t tls_send(struct conn *c, const char *buf, size_t len)
{
	struct tls_session *t = session_of(c);
	ssize_t n;

	if (t->send_pending) {
		n = gnutls_record_send(t->s, NULL, 0);
		if (n >= 0) {
			n = (ssize_t)t->send_pending;
			t->send_pending = 0;
		}
	} else {
		if (len > 16384)
			len = 16384; /* one record per call */
		n = gnutls_record_send(t->s, buf, len);
		if (n == GNUTLS_E_AGAIN)
			t->send_pending = len;
	}
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	if (n < 0) {
		conn_set_fail_reason(c, gnutls_strerror((int)n));
		return -EPIPE;
	}
	return n;
}

static bool tls_pending(struct conn *c)
{
	return gnutls_record_check_pending(session_of(c)->s) > 0;
}

static bool tls_want_write(struct conn *c)
{
	return gnutls_record_get_direction(session_of(c)->s) == 1;
}

static void tls_release(struct conn *c)
{
	struct tls_session *t = session_of(c);

	/* Best effort close_notify: non-blocking, so it may not go out. */
	gnutls_bye(t->s, GNUTLS_SHUT_WR);
	gnutls_deinit(t->s);
	tls_creds_unref(t->creds);
	free(t);
	conn_set_transport_data(c, NULL);
}

const gnutls_datum_t *tls_session_peer_chain(struct conn *c, unsigned *n)
{
	*n = 0;
	return gnutls_certificate_get_peers(session_of(c)->s, n);
}

const struct conn_ops tls_conn_ops = {
	.name = "tls",
	.handshake = tls_handshake,
	.recv = tls_recv,
	.send = tls_send,
	.pending = tls_pending,
	.want_write = tls_want_write,
	.release = tls_release,
};
