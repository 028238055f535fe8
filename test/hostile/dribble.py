#!/usr/bin/env python3
"""hostile-dribble: a message dribbled one byte per second.

[proxy] message_timeout = 4. On TLS connections with the partner's
certificate, from 127.0.0.1:
  five dribblers      five connections each send a valid MESSAGE one byte a
                      second: each must be closed 4 s after its first byte
                      (not before 4 - 0.25 s, not after 4 + 1.5 s: a byte
                      does not push the deadline back), and none reaches the
                      routing node; the partner's edge (from 127.0.0.2) gets
                      its MESSAGE answered meanwhile and after
  after a message     a MESSAGE answered 200, 2 s of quiet, then the next
                      one dribbled: closed 4 s after its first byte (the
                      deadline counts from the message, not the connection)
  slow but in time    a MESSAGE in three pieces 1.5 s apart (3 s in all):
                      answered 200, the connection stays (the control)
VmRSS of the proxy may grow by less than 3 MB. Ports 24820-24839.
"""
import os
import select
import ssl
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import peer  # noqa: E402
from harness import ATTACKER  # noqa: E402

MESSAGE_TIMEOUT = 4
EARLY = 0.25
LATE = 1.5
DRIBBLERS = 5
RSS_LIMIT_KB = 3072


class Dribble:
    """One connection sending data one byte a second (see dribble())."""

    def __init__(self, p, data):
        self.p = p
        self.data = data
        self.sent = 0
        self.first = None   # when the first byte went
        self.closed = None  # when the proxy ended the connection
        self.got = b''


def dribble(drib, seconds, at=None):
    """One byte a second on each of drib (Dribble), all in this thread (a
    TLS connection is not for two threads), until the proxy has closed each
    or seconds have passed; at: {tick: function} runs after that tick's
    bytes went out."""
    at = at or {}
    for d in drib:
        d.p.sock.setblocking(False)
    start = time.monotonic()
    for tick in range(int(seconds) + 1):
        # Until the tick: watch for the ends.
        while True:
            live = [d for d in drib if d.closed is None]
            left = start + tick - time.monotonic()
            if not live or left <= 0:
                break
            ready, _, _ = select.select([d.p.sock for d in live], [], [], left)
            for d in live:
                if d.p.sock not in ready and not d.p.sock.pending():
                    continue
                try:
                    chunk = d.p.sock.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    continue
                except OSError:
                    chunk = b''
                if chunk:
                    d.got += chunk
                else:
                    d.closed = time.monotonic()
        if not live:
            break
        for d in live:
            if d.sent >= len(d.data):
                continue
            try:
                d.p.sock.send(d.data[d.sent:d.sent + 1])
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                continue
            except OSError:
                d.closed = time.monotonic()
                continue
            d.first = d.first or time.monotonic()
            d.sent += 1
        if tick in at:
            at[tick]()
    for d in drib:
        d.p.sock.setblocking(True)


def closed_in_time(h, what, d):
    h.check(d.first is not None, '%s: the first byte was never sent' % what)
    h.check(d.closed is not None, '%s: still open %.1f s after its first byte (%d bytes sent)%s'
            % (what, MESSAGE_TIMEOUT + LATE, d.sent, h.log_about(d.p.local)))
    took = d.closed - d.first
    h.check(MESSAGE_TIMEOUT - EARLY <= took <= MESSAGE_TIMEOUT + LATE,
            '%s: closed %.2f s after its first byte (%d bytes sent), want %d s' %
            (what, took, d.sent, MESSAGE_TIMEOUT))
    h.check(d.got == b'', '%s: got %r before the close' % (what, d.got[:80]))
    h.wait_log(r'closing %s:%d: incomplete message timeout$' % tuple(d.p.local[:2]), 2)
    return took


def five_dribblers(h):
    drib = []
    took = []

    def during():
        took.append(h.good('during the dribble'))

    try:
        for i in range(DRIBBLERS):
            drib.append(Dribble(h.partner(source=ATTACKER), peer.message('dribbled-%d' % i)))
        dribble(drib, MESSAGE_TIMEOUT + LATE + 1, {2: during})
    finally:
        for d in drib:
            d.p.close()
    h.check(took and took[0] < 2, 'the well-behaved MESSAGE took %s s during the dribble' % took)
    times = [closed_in_time(h, 'dribbler %d' % i, d) for i, d in enumerate(drib)]
    h.result('five dribblers: closed %.2f-%.2f s after their first byte, after %d-%d bytes' %
             (min(times), max(times), min(d.sent for d in drib), max(d.sent for d in drib)))


def after_message(h):
    with h.partner(source=ATTACKER) as p:
        p.send(peer.message('before-dribble'))
        h.expect_at_node('before-dribble')
        got = p.read_message(5)
        h.check(got.status == 200, 'the MESSAGE before the dribble got %r' % got.start)
        time.sleep(2)
        d = Dribble(p, peer.message('dribbled-after'))
        dribble([d], MESSAGE_TIMEOUT + LATE + 1)
        took = closed_in_time(h, 'dribble after a message', d)
    h.result('after a message: closed %.2f s after the first dribbled byte' % took)


def slow_in_time(h):
    m = peer.message('slow-in-time')
    third = len(m) // 3
    with h.partner(source=ATTACKER) as p:
        for i, part in enumerate((m[:third], m[third:2 * third], m[2 * third:])):
            if i:
                time.sleep(1.5)
            h.check(p.send(part), 'piece %d of a slow MESSAGE: connection closed%s' %
                    (i + 1, h.log_about(p.local)))
        h.expect_at_node('slow-in-time')
        try:
            got = p.read_message(5)
        except (peer.Closed, peer.Timeout) as e:
            h.fail('a MESSAGE sent in 3 s: no answer: %s%s' % (e, h.log_about(p.local)))
        h.check(got.status == 200, 'a MESSAGE sent in 3 s: got %r' % got.start)
        closed, _, _ = p.wait_closed(0.5)
        h.check(not closed, 'a MESSAGE sent in 3 s: connection closed after the 200')


def main(h):
    h.start(proxy={'message_timeout': str(MESSAGE_TIMEOUT)})
    h.good('warm-up')
    before = h.rss()
    with h.case('five dribblers'):
        five_dribblers(h)
        h.good('after the dribblers')
    with h.case('dribble after a message'):
        after_message(h)
        h.good('after the dribble after a message')
    with h.case('slow but in time'):
        slow_in_time(h)
    with h.case('memory'):
        h.rss_bounded('dribble', before, RSS_LIMIT_KB)


harness.run(main, 'hostile-dribble', 24820)
