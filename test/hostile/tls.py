#!/usr/bin/env python3
"""hostile-tls: the TLS failure matrix, and a CRL that is reloaded.

Foreign clients from 127.0.0.1, each on a new connection, each sending a
MESSAGE when its handshake lets it:
  TLS 1.1             offers TLS 1.0-1.1 only (ciphers DEFAULT:@SECLEVEL=0)
  TLS 1.0             offers TLS 1.0 only
  no certificate      presents no client certificate
  untrusted CA        rogue.pem, from a CA not in ca_bundle
  expired             expired.pem (validity 2020-2021)
  not yet valid       a leaf made here by certtool, valid from 2035, signed
                      by the test intermediate
  wrong name          other.pem (edge.other.example.test) sends From the
                      partner's domain: the handshake is fine, the request
                      gets 403 with Warning "Denied by peer identity"
  revoked (CRL)       revoked.pem (edge.partner.example.test): accepted while
                      [external] crl names nothing; then the CRL is made
                      again with it, `fedproxyctl reload`: its connection
                      from before the reload is closed (logged, a MESSAGE
                      on it unanswered), the partner's carries on, one
                      accepted before the reload but with its handshake
                      after it is refused, and so is a new connection
Every refusal: no SIP answer, nothing at the routing node, a log line
"from 127.0.0.1:PORT tls failed: TLS handshake failed: REASON". Counted
reasons must be distinct per kind of failure: `fedproxyctl stats` ("tls
handshakes:" / "failed: REASON COUNT") must list exactly "peer sent no
certificate" 1, "peer certificate from an untrusted CA" 1, "peer
certificate expired" 1, "peer certificate not yet valid" 1, "peer
certificate revoked" 2, and one reason naming the version, 2 (TLS 1.1 and
1.0); "ok" counts the handshakes that worked; /metrics
(fedproxy_tls_handshakes_total) says the same. The partner's edge (from
127.0.0.2) gets its MESSAGE answered before, between and after. Ports
24840-24859.
"""
import os
import re
import ssl
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import peer  # noqa: E402
from harness import ATTACKER  # noqa: E402

RSS_LIMIT_KB = 3072
HELD_REVOKED = 20  # connections of the revoked leaf open across the reload
REASONS = {
    'no certificate': 'peer sent no certificate',
    'untrusted CA': 'peer certificate from an untrusted CA',
    'expired': 'peer certificate expired',
    'not yet valid': 'peer certificate not yet valid',
    'revoked (CRL)': 'peer certificate revoked',
}


def make_future_leaf(h):
    """future.pem/.key: valid from 2035, signed by the test intermediate."""
    key, pem, tmpl = (h.path('pki', 'future.' + x) for x in ('key', 'pem', 'tmpl'))
    with open(tmpl, 'w') as f:
        f.write('cn = "%s"\ndns_name = "%s"\n' % (peer.PARTNER_FQDN, peer.PARTNER_FQDN) +
                'activation_date = "2035-01-01 00:00:00 UTC"\n'
                'expiration_date = "2036-01-01 00:00:00 UTC"\n'
                'tls_www_server\ntls_www_client\nsigning_key\n')
    h.certtool('--generate-privkey', '--key-type=ecdsa', '--curve=secp256r1', '--no-text',
               '--outfile=' + key)
    h.certtool('--generate-certificate', '--load-privkey=' + key, '--template=' + tmpl,
               '--load-ca-certificate=' + h.path('pki', 'int.pem'),
               '--load-ca-privkey=' + h.path('pki', 'int.key'), '--no-text', '--outfile=' + pem)


def make_crl(h, number, *revoked):
    """pki/crl.pem from the intermediate, listing the certificates revoked
    (names in the PKI); replaced in one rename."""
    tmpl = h.path('pki', 'crl.tmpl')
    with open(tmpl, 'w') as f:
        f.write('crl_next_update = 30\ncrl_number = %d\n' % number)
    out = h.path('pki', 'crl.pem.new')
    args = ['--generate-crl', '--load-ca-privkey=' + h.path('pki', 'int.key'),
            '--load-ca-certificate=' + h.path('pki', 'int.pem'), '--template=' + tmpl,
            '--no-text', '--outfile=' + out]
    if revoked:
        listed = h.path('pki', 'revoked-list.pem')
        with open(listed, 'wb') as f:
            for name in revoked:
                with open(h.path('pki', name + '.pem'), 'rb') as c:
                    f.write(c.read())
        args.append('--load-certificate=' + listed)
    h.certtool(*args)
    os.replace(out, h.path('pki', 'crl.pem'))


class Matrix:
    def __init__(self, h):
        self.h = h
        self.ok_handshakes = 0  # handshakes the proxy must count as ok

    def context(self, cert=None, **kw):
        chain, key = self.h.cert(cert) if cert else (None, None)
        return peer.tls_context(self.h.path('pki', 'ca.pem'), chain, key, **kw)

    def refused(self, what, context, reason=None):
        """A connection with context must be refused: the handshake fails,
        or the MESSAGE sent after it gets no answer and the connection ends.
        With reason: the proxy's log line names it."""
        h = self.h
        cid = 'refused-' + re.sub(r'[^a-z0-9]+', '-', what.lower())
        try:
            p = peer.Peer(h.ext_port, context=context, source=ATTACKER)
        except (ssl.SSLError, OSError) as e:
            local = getattr(e, 'local', None)
            seen = 'handshake failed on the client side: %s' % e
        else:
            local = p.local
            with p:
                p.send(peer.message(cid))
                msgs, closed, _ = p.read_until_closed(5)
            h.check(not msgs, '%s: not refused: the MESSAGE got %s' %
                    (what, [m.start for m in msgs]))
            h.check(closed, '%s: not refused: connection still open 5 s after the MESSAGE' % what)
            seen = 'handshake done on the client side, then closed: %s' % p.closed
        h.check(local is not None, '%s: no local address' % what)
        line = r'from 127\.0\.0\.1:%d tls failed: TLS handshake failed: (.*)$' % local[1]
        h.wait_log(line, 3)
        logged = [re.search(line, x).group(1) for x in h.log().splitlines() if re.search(line, x)]
        if reason:
            h.check(logged == [reason], '%s: proxy logged %s, want the reason %r' %
                    (what, logged, reason))
        h.result('%s: refused (%s); proxy: %s' % (what, seen, logged[0]))
        return logged[0]

    def accepted(self, what, cert, source=ATTACKER):
        """cert's MESSAGE gets 200 from the node."""
        h = self.h
        cid = 'accepted-' + re.sub(r'[^a-z0-9]+', '-', what.lower())
        try:
            with h.partner(source=source, cert=cert) as p:
                self.ok_handshakes += 1
                p.send(peer.message(cid))
                got = p.read_message(5)
        except (ssl.SSLError, OSError, peer.Closed, peer.Timeout) as e:
            h.fail('%s: refused: %s%s' % (what, e, h.log_about(getattr(e, 'local', None) or
                                                            p.local)))
        h.check(got.status == 200 and got.call_id == cid, '%s: got %r, want 200' %
                (what, got.start))
        h.expect_at_node(cid)
        h.result('%s: accepted, 200' % what)

    def good(self, label):
        self.h.good(label)
        self.ok_handshakes += 1


def stats_reasons(h, text):
    """(ok count, {reason: count}) from `fedproxyctl stats`."""
    ok, failed, inside = None, {}, False
    for line in text.splitlines():
        if not line.startswith(' '):
            inside = line == 'tls handshakes:'
            continue
        if not inside:
            continue
        m = re.match(r'^  ok (\d+)$', line)
        if m:
            ok = int(m.group(1))
            continue
        m = re.match(r'^  failed: (.*) (\d+)$', line)
        h.check(m, 'fedproxyctl stats: unexpected line under "tls handshakes:": %r' % line)
        h.check(m.group(1) not in failed, 'fedproxyctl stats: reason %r twice' % m.group(1))
        failed[m.group(1)] = int(m.group(2))
    return ok, failed


def metrics_reasons(h, text):
    ok, failed = None, {}
    for line in text.splitlines():
        m = re.match(r'^fedproxy_tls_handshakes_total\{outcome="(ok|failed)",reason="((?:[^"\\]|'
                     r'\\.)*)"\} (\d+)$', line)
        if not m:
            continue
        reason = re.sub(r'\\(.)', lambda x: '\n' if x.group(1) == 'n' else x.group(1), m.group(2))
        if m.group(1) == 'ok':
            ok = int(m.group(3))
        else:
            failed[reason] = int(m.group(3))
    return ok, failed


def check_counters(h, mx, version_reason):
    want = {REASONS[k]: 1 for k in REASONS}
    want[REASONS['revoked (CRL)']] = 2  # a new connection, and one begun before the reload
    if version_reason:
        want[version_reason] = 2
    for source, (ok, failed) in (('fedproxyctl stats', stats_reasons(h, h.stats())),
                                 ('/metrics', metrics_reasons(h, h.metrics()))):
        h.result('%s: tls handshakes ok %s, failed %s' % (source, ok, failed))
        h.check(failed == want, '%s: failed handshakes by reason: got %s, want %s' %
                (source, failed, want))
        h.check(ok == mx.ok_handshakes, '%s: %s handshakes ok, want %d' %
                (source, ok, mx.ok_handshakes))
    h.check(len(set(want)) == 6, 'the six kinds of refusal do not have six distinct reasons: %s'
            % want)
    text = h.stats()
    h.check(re.search(r'^  MESSAGE +deny +1$', text, re.M),
            'fedproxyctl stats: want "MESSAGE deny 1" (the wrong name):\n%s' % text)


def main(h):
    h.leaf('other', 'edge.other.example.test')
    h.leaf('revoked', peer.PARTNER_FQDN)
    make_future_leaf(h)
    make_crl(h, 1)
    h.start(external={'crl': 'pki/crl.pem'})
    mx = Matrix(h)
    mx.good('warm-up')
    before = h.rss()
    version_reason = None

    with h.case('revoked leaf, not yet in the CRL'):
        mx.accepted('revoked leaf before the CRL lists it', 'revoked')

    with h.case('TLS 1.1'):
        ctx = mx.context('partner', min_version=ssl.TLSVersion.TLSv1,
                         max_version=ssl.TLSVersion.TLSv1_1, ciphers='DEFAULT:@SECLEVEL=0')
        version_reason = mx.refused('TLS 1.1', ctx)
        h.check(re.search(r'version', version_reason, re.I),
                'TLS 1.1: the reason %r does not name the version' % version_reason)
    with h.case('TLS 1.0'):
        ctx = mx.context('partner', min_version=ssl.TLSVersion.TLSv1,
                         max_version=ssl.TLSVersion.TLSv1, ciphers='DEFAULT:@SECLEVEL=0')
        mx.refused('TLS 1.0', ctx, version_reason)
    with h.case('no certificate'):
        mx.refused('no certificate', mx.context(None), REASONS['no certificate'])
    with h.case('untrusted CA'):
        mx.refused('untrusted CA', mx.context('rogue'), REASONS['untrusted CA'])
    with h.case('expired'):
        mx.refused('expired', mx.context('expired'), REASONS['expired'])
    with h.case('not yet valid'):
        mx.refused('not yet valid', mx.context('future'), REASONS['not yet valid'])
    mx.good('after the refusals')

    with h.case('wrong name for the From domain'):
        cid = 'wrong-name'
        try:
            with h.partner(source=ATTACKER, cert='other') as p:
                mx.ok_handshakes += 1
                p.send(peer.message(cid))
                got = p.read_message(5)
        except (ssl.SSLError, OSError, peer.Closed, peer.Timeout) as e:
            h.fail('wrong name: no SIP answer: %s' % e)
        h.check(got.status == 403 and got.call_id == cid, 'wrong name: got %r, want 403' %
                got.start)
        warning = got.header('warning') or ''
        h.check(re.search(r'"Denied by peer identity"', warning),
                'wrong name: Warning %r, want "Denied by peer identity"' % warning)
        h.result('wrong name: %s, Warning: %s' % (got.start, warning))

    with h.case('revoked by the reloaded CRL'):
        # All open before the reload: the revoked leaf's connections (more
        # than the proxy's first batch of 16 to close) must be closed by it,
        # the partner's must carry on.
        held_all = [h.partner(source=ATTACKER, cert='revoked') for _ in range(HELD_REVOKED)]
        held = held_all[0]
        kept = h.partner()
        mx.ok_handshakes += HELD_REVOKED + 1
        # Accepted before the reload, its handshake only after it.
        early = peer.Peer(h.ext_port, tls=False, source=ATTACKER)
        make_crl(h, 2, 'revoked')
        mark = h.log_mark()
        rc, out = h.ctl('reload')
        h.check(rc == 0, 'fedproxyctl reload exited %d: %s' % (rc, out))
        h.wait_log(r'reload done: ', 5, mark)
        # First, within the handshake timeout (3 s) of its accept.
        with early:
            try:
                early.sock = mx.context('revoked').wrap_socket(
                    early.raw, server_hostname=peer.PROXY_FQDN)
                early.send(peer.message('revoked-early'))
                msgs, closed, _ = early.read_until_closed(5)
            except (ssl.SSLError, OSError) as e:
                msgs, closed = [], 'handshake failed on the client side: %s' % e
        h.check(not msgs and closed, 'a handshake begun before the reload with the revoked '
                'leaf: got %s, closed %s; want it refused' % ([m.start for m in msgs], closed))
        h.wait_log(r'from 127\.0\.0\.1:%d tls failed: TLS handshake failed: %s$' %
                   (early.local[1], REASONS['revoked (CRL)']), 3, mark)
        for p in held_all:
            h.wait_log(r'conn \d+: 127\.0\.0\.1:%d: peer certificate revoked under the new '
                       r'configuration: closing$' % p.local[1], 3, mark)
        for p in held_all[1:]:
            with p:
                _, closed, _ = p.read_until_closed(3)
            h.check(closed, 'a revoked leaf\'s connection from before the reload still open '
                    '3 s after it')
        with held:
            try:
                held.send(peer.message('revoked-held'))
                msgs, closed, _ = held.read_until_closed(5)
            except OSError as e:  # the close came first
                msgs, closed = [], 'send failed: %s' % e
        h.check(not msgs and closed, 'the revoked leaf\'s connection from before the reload: '
                'got %s, closed %s; want it closed, unanswered' % ([m.start for m in msgs], closed))
        with kept:
            kept.send(peer.message('kept-after-reload'))
            got = kept.read_message(5)
        h.check(got.status == 200, 'the partner\'s connection from before the reload: got %r, '
                'want 200' % got.start)
        h.expect_at_node('kept-after-reload')
        mx.refused('revoked (CRL)', mx.context('revoked'), REASONS['revoked (CRL)'])
        h.result('a connection of the revoked leaf opened before the reload: closed by it; the '
                 'partner\'s: 200 after it')
    mx.good('after the reload')

    with h.case('counters'):
        check_counters(h, mx, version_reason)
    with h.case('memory'):
        h.rss_bounded('tls', before, RSS_LIMIT_KB)


harness.run(main, 'hostile-tls', 24840)
