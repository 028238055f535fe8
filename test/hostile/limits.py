#!/usr/bin/env python3
"""hostile-limits: oversize messages and header floods.

[proxy] max_message_size = 65536, [limits] max_headers = 256. Each case on
a connection of its own with the partner's certificate, from 127.0.0.1:
  oversize body       Content-Length 100000 and the body: 30000 bytes,
                      then (after the partner's edge from 127.0.0.2 has had
                      a MESSAGE answered) the rest
  oversize header     a 100 kB Subject header
  one byte over       a message of 65537 bytes in all
  announced only      Content-Length: 99999999 and a short body
  large but allowed   a message of 60000 bytes: forwarded, answered 200,
                      the connection stays (the control)
  1 MB x 10           ten connections each sending 1 MB, while the
                      partner's edge sends a MESSAGE every 0.5 s
  10k tiny headers    10000 header lines "h:1" (the message fits 64 kB)
  10k headers         10000 header lines "X-Flood-NNNNN: 1"
  256 headers         exactly max_headers header lines: forwarded, 200
  257 headers         one more: refused
A refused request gets 413 (size) or 400 "Too Many Headers" (count) with
its Call-ID, then the connection is closed (within 2 s) and nothing reaches
the routing node. After each case the partner's edge still gets its MESSAGE
answered. VmRSS of the proxy may grow by less than 3 MB over all cases.
Ports 24740-24759.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import peer  # noqa: E402
from harness import ATTACKER  # noqa: E402

MAX_SIZE = 65536
MAX_HEADERS = 256
RSS_LIMIT_KB = 3072
STANDARD_HEADERS = 8  # Via, Max-Forwards, From, To, Call-ID, CSeq, Content-Type, Content-Length


def sized(cid, total):
    """A MESSAGE of exactly total bytes (the body pads it)."""
    n = max(total - len(peer.message(cid, body=b'x')), 1)
    m = peer.message(cid, body=b'x' * n)
    for _ in range(5):
        if len(m) == total:
            return m
        n += total - len(m)
        m = peer.message(cid, body=b'x' * n)
    raise harness.Fail('cannot make a message of %d bytes' % total)


def refused(h, cid, parts, status, phrase=None, between=None):
    """Sends parts (bytes) on a new connection; the answer must be status
    (and phrase) for cid, then the connection must close."""
    with h.partner(source=ATTACKER) as p:
        for i, part in enumerate(parts):
            p.send(part)  # may fail once the proxy has closed: fine
            if i == 0 and between:
                between()
        msgs, closed, rest = p.read_until_closed(5)
    h.check(msgs, '%s: no answer (closed: %s, %d other bytes)%s' %
            (cid, closed, len(rest), h.log_about(p.local)))
    got = msgs[0]
    h.check(got.status == status and (phrase is None or got.reason == phrase),
            '%s: got %r, want %d %s' % (cid, got.start, status, phrase or ''))
    h.check(got.call_id == cid, '%s: answer with Call-ID %s' % (cid, got.call_id))
    h.check(len(msgs) == 1, '%s: more answers: %s' % (cid, [m.start for m in msgs]))
    h.check(closed, '%s: connection still open 5 s after the %d' % (cid, status))


def accepted(h, cid, data):
    """data on a new connection must be forwarded and answered 200; the
    connection stays open."""
    with h.partner(source=ATTACKER) as p:
        p.send(data)
        try:
            got = p.read_message(5)
        except (peer.Closed, peer.Timeout) as e:
            h.fail('%s: no answer: %s' % (cid, e))
        h.check(got.status == 200 and got.call_id == cid, '%s: got %r, want 200' %
                (cid, got.start))
        h.expect_at_node(cid)
        closed, _, _ = p.wait_closed(0.5)
        h.check(not closed, '%s: connection closed after the 200' % cid)


def headers(cid, count, fmt):
    """A MESSAGE with count header lines in all (fmt % i for the extra ones)."""
    return peer.message(cid, extra=[fmt % i if '%' in fmt else fmt
                                     for i in range(count - STANDARD_HEADERS)])


def main(h):
    h.start(proxy={'max_message_size': str(MAX_SIZE)},
            limits={'max_headers': str(MAX_HEADERS)})
    h.good('warm-up')
    before = h.rss()

    with h.case('oversize body'):
        m = peer.message('big-body', body=b'b' * 100000)
        refused(h, 'big-body', [m[:30000], m[30000:]], 413,
                between=lambda: h.good('during oversize body'))
        h.good('after oversize body')

    with h.case('oversize header'):
        refused(h, 'big-header', [peer.message('big-header', extra=['Subject: ' + 's' * 100000])],
                413)
        h.good('after oversize header')

    with h.case('one byte over max_message_size'):
        refused(h, 'one-over', [sized('one-over', MAX_SIZE + 1)], 413)
        h.good('after one byte over')

    with h.case('oversize announced only'):
        refused(h, 'announced', [peer.message('announced', content_length='99999999')], 413)
        h.good('after announced')

    with h.case('large but allowed'):
        accepted(h, 'large-60000', sized('large-60000', 60000))
        h.good('after large but allowed')

    with h.case('1 MB x 10'):
        loop = h.good_loop()
        try:
            for i in range(10):
                cid = 'mega-%d' % i
                refused(h, cid, [peer.message(cid, body=b'm' * (1 << 20))], 413)
        finally:
            n = loop.finish('1 MB x 10')
        h.result('1 MB x 10: %d well-behaved MESSAGEs answered meanwhile' % n)
        h.good('after 1 MB x 10')

    with h.case('10k tiny headers'):
        m = headers('tiny-10k', 10000, 'h:1')
        h.check(len(m) < MAX_SIZE, '10k tiny headers: %d bytes, not under the size cap' % len(m))
        refused(h, 'tiny-10k', [m], 400, 'Too Many Headers')
        h.good('after 10k tiny headers')

    with h.case('10k headers'):
        refused(h, 'flood-10k', [headers('flood-10k', 10000, 'X-Flood-%05d: 1')], 400,
                'Too Many Headers')
        h.good('after 10k headers')

    with h.case('max_headers exactly'):
        accepted(h, 'headers-256', headers('headers-256', MAX_HEADERS, 'X-Pad-%05d: padding'))

    with h.case('max_headers + 1'):
        refused(h, 'headers-257', [headers('headers-257', MAX_HEADERS + 1, 'X-Pad-%05d: padding')],
                400, 'Too Many Headers')
        h.good('after max_headers + 1')

    with h.case('memory'):
        h.rss_bounded('limits', before, RSS_LIMIT_KB)


harness.run(main, 'hostile-limits', 24740)
