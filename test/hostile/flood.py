#!/usr/bin/env python3
"""hostile-flood: a connection flood from one address.

[limits] max_connections_per_address = 8. From 127.0.0.1, 8 TLS connections
with the partner's certificate are opened and each gets a MESSAGE answered
(held). Then, for 3 s or 3000 connections, TCP connections from 127.0.0.1 in
batches of 50, and one more TLS connection with the partner's certificate:
the proxy must close each of them at once (within 2 s), while the 8 held
ones stay usable (a second MESSAGE on each gets 200) and the partner's edge
from 127.0.0.2 (its own address, its own count) gets its MESSAGE answered
during and after the flood. Refusals are logged at most once a second, each
line counting those suppressed since the last: after one more refusal a
second later, the lines account for every refused connection. Then the 8
held connections are closed: the count for 127.0.0.1 must come back to zero,
so 8 new TLS connections from there work again and a 9th is refused. VmRSS
of the proxy may grow by less than 3 MB. Ports 24720-24739.
"""
import contextlib
import os
import re
import ssl
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import peer  # noqa: E402
from harness import ATTACKER  # noqa: E402

PER_ADDRESS = 8
FLOOD_SECONDS = 3
FLOOD_MAX = 3000
BATCH = 50
CLOSE_WITHIN = 2.0
RSS_LIMIT_KB = 3072
REFUSED_RE = (r'connection from 127\.0\.0\.1 refused: \d+ open from that address '
              r'\(max_connections_per_address\)')


def message_on(h, p, label):
    """A MESSAGE on an open connection p must get 200 (the node sees it)."""
    cid = 'held-%s' % label
    h.check(p.send(peer.message(cid)), '%s: cannot send on the held connection' % label)
    try:
        answer = p.read_message(5)
    except (peer.Closed, peer.Timeout) as e:
        h.fail('%s: no answer on a held connection: %s' % (label, e))
    h.check(answer.status == 200 and answer.call_id == cid,
            '%s: got %r on a held connection, want 200' % (label, answer.start))
    h.expect_at_node(cid)


@contextlib.contextmanager
def hold(h, label):
    """PER_ADDRESS TLS connections from the attacker's address, each one
    used once; closed when the block ends, whatever happens in it."""
    held = []
    try:
        for i in range(PER_ADDRESS):
            try:
                held.append(h.partner(source=ATTACKER))
            except (ssl.SSLError, OSError) as e:
                h.fail('%s: held connection %d of %d refused: %s' %
                       (label, i + 1, PER_ADDRESS, e))
            message_on(h, held[-1], '%s-%d' % (label, i))
        yield held
    finally:
        for p in held:
            p.close()


def refused_tls(h, label):
    """One more TLS connection with the partner's certificate from the
    attacker's address must be refused: handshake error, or closed with no
    answer to its MESSAGE."""
    cid = 'over-limit-%s' % label
    try:
        p = h.partner(source=ATTACKER)
    except (ssl.SSLError, OSError):
        return
    with p:
        p.send(peer.message(cid))
        msgs, closed, _ = p.read_until_closed(CLOSE_WITHIN)
    h.check(closed and not msgs, '%s: a TLS connection over the per-address limit was '
            'served: answers %s, closed %s' % (label, [m.start for m in msgs], closed))


def main(h):
    h.start(limits={'max_connections_per_address': str(PER_ADDRESS)})
    h.good('warm-up')
    before = h.rss()

    with h.case('flood above max_connections_per_address'), hold(h, 'first') as held:
        mark = h.log_mark()
        start = time.monotonic()
        opened = late = 0
        while time.monotonic() - start < FLOOD_SECONDS and opened < FLOOD_MAX:
            batch = []
            try:
                for _ in range(BATCH):
                    batch.append((peer.tcp_connect(h.ext_port, ATTACKER), time.monotonic()))
                opened += len(batch)
                if opened == BATCH:
                    h.good('during the flood')
                ended = peer.watch_eofs([s for s, _ in batch], time.monotonic() + CLOSE_WITHIN)
            finally:
                for s, _ in batch:
                    s.close()
            late += len([1 for s, t in batch
                         if ended[s][0] is None or ended[s][0] - t > CLOSE_WITHIN])
        h.result('flood: %d of %d connections over the limit closed within %.1f s, in %.1f s'
                 % (opened - late, opened, CLOSE_WITHIN, time.monotonic() - start))
        h.check(not late, '%d of %d connections over the limit not closed within %.1f s'
                % (late, opened, CLOSE_WITHIN))
        refused_tls(h, 'flood')
        for i, p in enumerate(held):
            message_on(h, p, 'first-again-%d' % i)
        h.good('after the flood')
        # One more refusal a second later writes the count of the
        # suppressed ones: then every refusal is accounted for.
        time.sleep(1.1)
        s = peer.tcp_connect(h.ext_port, ATTACKER)
        closed, _, _ = peer.wait_eof(s, CLOSE_WITHIN)
        s.close()
        h.check(closed, 'the last connection over the limit was not closed within %.1f s'
                % CLOSE_WITHIN)
        elapsed = time.monotonic() - start
        h.wait_log(REFUSED_RE, 3, mark, 2)
        lines = [x for x in h.log().splitlines()[mark:] if re.search(REFUSED_RE, x)]
        counted = sum(1 + int(re.search(r'and (\d+) more like it suppressed', x).group(1))
                      if 'suppressed' in x else 1 for x in lines)
        refused = opened + 2
        h.result('flood: %d refusals logged in %d lines over %.1f s' %
                 (counted, len(lines), elapsed))
        h.check(len(lines) <= int(elapsed) + 2, '%d refusal log lines in %.1f s: want at most '
                'one a second' % (len(lines), elapsed))
        h.check(counted == refused, 'refusals logged (lines + suppressed): %d, connections '
                'refused: %d' % (counted, refused))

    with h.case('per-address count back to zero'):
        # The proxy sees the 8 closes; give it a moment.
        time.sleep(0.5)
        with hold(h, 'second'):
            refused_tls(h, 'second')
        h.good('after the second set')

    with h.case('memory'):
        h.rss_bounded('flood', before, RSS_LIMIT_KB)


harness.run(main, 'hostile-flood', 24720)
