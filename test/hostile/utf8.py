#!/usr/bin/env python3
"""hostile-utf8: invalid UTF-8 in headers and bodies.

One MESSAGE per case on a new TLS connection (partner certificate, from
127.0.0.1), with invalid UTF-8 (overlong forms, surrogates, 5-byte forms,
lone continuation bytes, truncated sequences, 0xFE/0xFF) in:
  From display name, To display name, Subject, a header name, the
  Request-URI user part, the Call-ID, a text/plain;charset=UTF-8 body, and
  a body that ends inside a sequence.
Each must be either forwarded untouched (200 from the routing node, which
received the very bytes sent: the header line, request line or body) or
refused with 400 and not forwarded; never a crash. After each case the
partner's edge (from 127.0.0.2) gets a MESSAGE answered. VmRSS of the proxy
may grow by less than 3 MB. Ports 24800-24819.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import peer  # noqa: E402
from harness import ATTACKER  # noqa: E402

RSS_LIMIT_KB = 3072
BAD = b'\xc0\xaf \xed\xa0\x80 \xf8\x88\x80\x80\x80 \x80 \xfe\xff \xc3\x28'


def cases():
    """(name, Call-ID, request bytes, the bytes the node must see)."""
    out = []

    def add(name, cid, msg, must):
        out.append((name, cid, msg, must))

    frm = b'"\xff\xfe Al\xc3\x28ce" <sip:alice@partner.example.test>;tag=u-from'
    add('From display name', 'u-from', peer.message('u-from', from_header=frm),
        b'\r\nFrom: ' + frm + b'\r\n')
    to = b'To: "B\xed\xa0\x80b \xc0\xaf" <sip:bob@example.test>'
    m = peer.message('u-to').replace(b'To: <sip:bob@example.test>', to)
    add('To display name', 'u-to', m, b'\r\n' + to + b'\r\n')
    add('Subject', 'u-subject', peer.message('u-subject', extra=[b'Subject: ' + BAD]),
        b'\r\nSubject: ' + BAD + b'\r\n')
    add('header name', 'u-hname', peer.message('u-hname', extra=[b'X-\xff\xfe-Name: value']),
        b'\r\nX-\xff\xfe-Name: value\r\n')
    ruri = b'sip:b\xffob@example.test'
    add('Request-URI user', 'u-ruri', peer.message('u-ruri', request_uri=ruri),
        b'MESSAGE ' + ruri + b' SIP/2.0\r\n')
    cid = 'u-callid-\xc3\x28\xff'.encode('latin-1')
    add('Call-ID', cid.decode('latin-1'), peer.message(cid), b'\r\nCall-ID: ' + cid + b'\r\n')
    body = b'Hello ' + BAD + b' end.'
    add('body', 'u-body', peer.message('u-body', body=body,
                                       content_type=b'text/plain;charset=UTF-8'),
        b'\r\n\r\n' + body)
    body = b'truncated \xe2\x82'
    add('body ending inside a sequence', 'u-trunc',
        peer.message('u-trunc', body=body, content_type=b'text/plain;charset=UTF-8'),
        b'\r\n\r\n' + body)
    return out


def one(h, name, cid, msg, must):
    with h.partner(source=ATTACKER) as p:
        p.send(msg)
        try:
            got = p.read_message(5)
        except (peer.Closed, peer.Timeout) as e:
            h.fail('%s: no answer: %s %s%s' % (name, e.__class__.__name__, e,
                                               h.log_about(p.local)))
    h.check(got.call_id == cid, '%s: answer %r carries Call-ID %r, want %r' %
            (name, got.start, got.call_id, cid))
    if got.status == 400:
        h.result('%s: refused, %s' % (name, got.start))
        return
    h.check(got.status == 200, '%s: got %r, want 200 (forwarded) or 400' % (name, got.start))
    h.expect_at_node(cid)
    at_node = [raw for _, c, raw in h.node_requests() if c == cid]
    h.check(len(at_node) == 1, '%s: the node received it %d times' % (name, len(at_node)))
    h.check(must in at_node[0], '%s: forwarded, but the node did not get %r untouched; it got: %r'
            % (name, must, at_node[0]))
    h.result('%s: forwarded untouched, 200' % name)


def main(h):
    h.start()
    h.good('warm-up')
    before = h.rss()
    for name, cid, msg, must in cases():
        with h.case(name):
            one(h, name, cid, msg, must)
            h.good('after %s' % name)
    with h.case('memory'):
        h.rss_bounded('utf8', before, RSS_LIMIT_KB)


harness.run(main, 'hostile-utf8', 24800)
