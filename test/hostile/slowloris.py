#!/usr/bin/env python3
"""hostile-slowloris: TLS handshakes that never finish.

From 127.0.0.1, per round, 50 connections to the mutual-TLS port that never
finish their handshake: 20 send nothing, 20 send the first 100 bytes of a
real ClientHello, 5 send a whole ClientHello and then nothing (the proxy has
answered and waits for the client's Finished), 5 dribble a ClientHello one
byte every 0.5 s (which must not push the deadline back). Each must be
closed by the proxy at [proxy] handshake_timeout (3 s here) after it was
opened: not before 3 - 0.25 s, not after 3 + 1.5 s. The proxy logs one
"tls failed: handshake timeout" line per connection, counts each as a
failed handshake ("handshake timeout" in `fedproxyctl stats`), and its open
connection count (fedproxy_connections in /metrics) comes back to where it
was. While the connections hang, the partner's edge (from 127.0.0.2) gets
its MESSAGE answered 200 by the routing node, and again after each round.
Two rounds; VmRSS of the proxy may grow by less than 3 MB over both.
Ports 24700-24719.
"""
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import peer  # noqa: E402
from harness import ATTACKER  # noqa: E402

HANDSHAKE_TIMEOUT = 3
EARLY = 0.25
LATE = 1.5
ROUNDS = 2
RSS_LIMIT_KB = 3072
KINDS = (('silent', 20), ('partial ClientHello', 20), ('whole ClientHello', 5),
         ('dribbled ClientHello', 5))


def connections_gauge(h):
    for line in h.metrics().splitlines():
        if line.startswith('fedproxy_connections '):
            return int(line.split()[1])
    h.fail('no fedproxy_connections in /metrics')


def dribble(sock, data, stop):
    """One byte of data every 0.5 s until it is all sent, the connection
    fails or stop is set."""
    for b in data:
        if stop.wait(0.5):
            return
        try:
            sock.send(bytes([b]))
        except OSError:
            return


def one_round(h, n):
    hello = peer.client_hello()
    h.check(len(hello) > 200, 'ClientHello of %d bytes only' % len(hello))
    gauge = connections_gauge(h)
    mark = h.log_mark()
    conns = []  # (kind, sock, opened at)
    stop = threading.Event()
    threads = []
    for kind, count in KINDS:
        for _ in range(count):
            s = peer.tcp_connect(h.ext_port, ATTACKER)
            opened = time.monotonic()
            if kind == 'partial ClientHello':
                s.sendall(hello[:100])
            elif kind == 'whole ClientHello':
                s.sendall(hello)
            elif kind == 'dribbled ClientHello':
                t = threading.Thread(target=dribble, args=(s, hello, stop), daemon=True)
                t.start()
                threads.append(t)
            conns.append((kind, s, opened))
    try:
        time.sleep(1)
        took = h.good('during round %d' % n)
        h.check(took < 2, 'round %d: the well-behaved MESSAGE took %.2f s during the attack'
                % (n, took))
        ended = peer.watch_eofs([s for _, s, _ in conns],
                                conns[-1][2] + HANDSHAKE_TIMEOUT + LATE + 0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(2)
        for _, s, _ in conns:
            s.close()
    bad = []
    for kind, s, opened in conns:
        at = ended[s][0]
        if at is None:
            bad.append('%s: still open %.1f s after it was opened' %
                       (kind, HANDSHAKE_TIMEOUT + LATE))
        elif not HANDSHAKE_TIMEOUT - EARLY <= at - opened <= HANDSHAKE_TIMEOUT + LATE:
            bad.append('%s: closed %.2f s after it was opened' % (kind, at - opened))
    times = sorted(ended[s][0] - o for _, s, o in conns if ended[s][0] is not None)
    if times:
        h.result('round %d: %d/%d closed by the proxy, %.2f-%.2f s after opening' %
                 (n, len(times), len(conns), times[0], times[-1]))
    h.check(not bad, 'round %d: %d of %d connections not closed at the handshake timeout '
            '(%d s): %s' % (n, len(bad), len(conns), HANDSHAKE_TIMEOUT, '; '.join(bad[:5])))
    h.wait_log(r'from 127\.0\.0\.1:\d+ tls failed: handshake timeout$', 3, mark, len(conns))
    logged = h.log_count(r'from 127\.0\.0\.1:\d+ tls failed: handshake timeout$', mark)
    h.check(logged == len(conns), 'round %d: %d "handshake timeout" log lines for %d connections'
            % (n, logged, len(conns)))
    counted = timeouts_counted(h)
    h.check(counted == n * len(conns), 'round %d: fedproxyctl stats counts %d handshake '
            'timeouts, want %d' % (n, counted, n * len(conns)))
    after = connections_gauge(h)
    h.check(after == gauge, 'round %d: fedproxy_connections %d after the round, %d before'
            % (n, after, gauge))
    h.good('after round %d' % n)


def timeouts_counted(h):
    """The "failed: handshake timeout N" count of `fedproxyctl stats`
    ("tls handshakes:" section), 0 when absent."""
    inside = False
    for line in h.stats().splitlines():
        if not line.startswith(' '):
            inside = line == 'tls handshakes:'
        elif inside and line.startswith('  failed: handshake timeout '):
            return int(line.rsplit(' ', 1)[1])
    return 0


def main(h):
    h.start(proxy={'handshake_timeout': str(HANDSHAKE_TIMEOUT)})
    h.good('warm-up')
    before = h.rss()
    for n in range(1, ROUNDS + 1):
        with h.case('slowloris round %d' % n):
            one_round(h, n)
            h.result('round %d: VmRSS %d kB' % (n, h.rss()[0]))
    with h.case('memory after %d rounds' % ROUNDS):
        h.rss_bounded('slowloris', before, RSS_LIMIT_KB)


harness.run(main, 'hostile-slowloris', 24700)
