#!/usr/bin/env python3
"""hostile-garbage: garbage after a valid message.

Each kind of garbage follows a valid MESSAGE on a new TLS connection
(partner certificate, from 127.0.0.1), twice:
  same write    the MESSAGE and the garbage in one send (the answers may
                come in either order)
  after answer  the MESSAGE, its 200, then the garbage
Kinds: a text line ("GARBAGE GARBAGE", blank line), 4 kB of seeded random
bytes, a second request with Content-Length "abc", one with Content-Length
-5, a TLS ClientHello inside the TLS stream, 1 kB of NUL bytes.
Wanted every time: the valid MESSAGE is forwarded once and its 200 comes
back; after that the garbage gets a 400 or the connection is closed, within
[proxy] message_timeout (4 s here) + 2 s; no other answer; nothing of the
garbage reaches the routing node (at the end it has seen exactly the valid
MESSAGEs and the partner's). After each case the partner's edge (from
127.0.0.2) gets a MESSAGE answered. VmRSS of the proxy may grow by less than
3 MB. Ports 24780-24799.
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import peer  # noqa: E402
from harness import ATTACKER  # noqa: E402

MESSAGE_TIMEOUT = 4
RSS_LIMIT_KB = 3072


def bad_request(cid, content_length):
    return peer.message(cid, body=b'', content_type=None, content_length=content_length)


GARBAGE = [
    ('text line', lambda tag: b'GARBAGE GARBAGE\r\n\r\n'),
    ('random bytes', lambda tag: peer.random_bytes(4096, 20261121)),
    ('Content-Length abc', lambda tag: bad_request('cl-abc-' + tag, 'abc')),
    ('Content-Length -5', lambda tag: bad_request('cl-neg-' + tag, '-5')),
    ('ClientHello', lambda tag: peer.client_hello()),
    ('NUL bytes', lambda tag: b'\0' * 1024),
]


def one(h, kind, make, mode):
    tag = '%s-%s' % (kind.replace(' ', '-'), mode.replace(' ', '-'))
    cid = 'valid-' + tag
    garbage = make(tag)
    with h.partner(source=ATTACKER) as p:
        h.expect_at_node(cid)
        if mode == 'same write':
            # Answers of two transactions on one stream come in any order:
            # the 400 for the garbage may overtake the node's 200.
            p.send(peer.message(cid) + garbage)
            msgs, closed, rest = p.read_until_closed(MESSAGE_TIMEOUT + 2)
            valid = [m for m in msgs if m.call_id == cid]
            msgs = [m for m in msgs if m.call_id != cid]
            h.check(len(valid) == 1 and valid[0].status == 200,
                    '%s, %s: the valid MESSAGE got %r, want one 200%s' %
                    (kind, mode, [m.start for m in valid], h.log_about(p.local)))
        else:
            p.send(peer.message(cid))
            try:
                first = p.read_message(5)
            except (peer.Closed, peer.Timeout) as e:
                time.sleep(0.5)  # the node's answer, if it comes, is in the log by then
                h.fail('%s, %s: no answer to the valid MESSAGE: %s%s' %
                       (kind, mode, e.__class__.__name__ + ' ' + str(e), h.log_about(p.local)))
            h.check(first.status == 200 and first.call_id == cid,
                    '%s, %s: the valid MESSAGE got %r (Call-ID %s), want 200' %
                    (kind, mode, first.start, first.call_id))
            p.send(garbage)
            msgs, closed, rest = p.read_until_closed(MESSAGE_TIMEOUT + 2)
        local = p.local
    others = [m.start for m in msgs if m.status != 400]
    h.check(not others, '%s, %s: answers to the garbage other than 400: %s' % (kind, mode, others))
    h.check(len(msgs) <= 1, '%s, %s: %d answers to the garbage: %s' %
            (kind, mode, len(msgs), [m.start for m in msgs]))
    h.check(msgs or closed, '%s, %s: no 400 and the connection still open %d s later%s' %
            (kind, mode, MESSAGE_TIMEOUT + 2, h.log_about(local)))
    h.result('%s, %s: 200, then %s' % (kind, mode, (msgs[0].start if msgs else 'closed') +
                                       (' and closed' if msgs and closed else '')))


def main(h):
    h.start(proxy={'message_timeout': str(MESSAGE_TIMEOUT)})
    h.good('warm-up')
    before = h.rss()
    for kind, make in GARBAGE:
        for mode in ('same write', 'after answer'):
            with h.case('%s, %s' % (kind, mode)):
                one(h, kind, make, mode)
                h.good('after %s, %s' % (kind, mode))
    with h.case('memory'):
        h.rss_bounded('garbage', before, RSS_LIMIT_KB)


harness.run(main, 'hostile-garbage', 24780)
