#!/usr/bin/env python3
"""hostile-crlf: CRLF floods (RFC 5626 keep-alives gone wild).

  read flood      4 MiB of CRLF on one TLS connection (partner certificate,
                  from 127.0.0.1) while reading what comes back, with at most
                  16384 pings unanswered (32 kB of pongs pending, well under
                  the proxy's output backlog limit of 4 x max_message_size,
                  so a proxy that keeps up never has reason to drop it):
                  exactly one
                  CRLF pong per CRLFCRLF ping (1048576 pongs, 2 MiB, nothing
                  else); meanwhile the partner's edge from 127.0.0.2 gets a
                  MESSAGE answered every 0.5 s. The connection then stays
                  usable: CRLFCRLF, a MESSAGE, CRLFCRLF on it get two pongs and
                  the 200.
  unread flood    CRLF sent without ever reading the pongs (at most 64 MiB or
                  20 s): the proxy must drop the connection once its output
                  backlog is over its limit ("peer not reading"), not buffer
                  pongs without end.
VmRSS of the proxy may grow by less than 3 MB over each case (VmHWM is
reported too). Ports 24760-24779.
"""
import os
import socket
import ssl
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import peer  # noqa: E402
from harness import ATTACKER  # noqa: E402

FLOOD = 4 << 20
WINDOW = 16384
UNREAD_MAX = 64 << 20
UNREAD_SECONDS = 20
RSS_LIMIT_KB = 3072


def read_flood(h):
    got = {'bytes': 0, 'other': 0}

    def on_data(chunk):
        got['bytes'] += len(chunk)
        got['other'] += len(chunk) - chunk.count(b'\r\n') * 2

    with h.partner(source=ATTACKER) as p:
        good = h.good_loop()
        start = time.monotonic()
        try:
            # At most WINDOW pings unanswered: the proxy's pending pongs
            # stay far below its output backlog limit.
            sent, why = peer.pump(p.sock, b'\r\n' * (FLOOD // 2), on_data, 40,
                                  lambda sent: sent // 4 - got['bytes'] // 2 < WINDOW)
            h.check(why == 'sent', 'flood stopped after %d of %d bytes: %s%s' %
                    (sent, FLOOD, why, h.log_about(p.local)))
            why = peer.drain(p.sock, on_data, 1.0, 20)
            h.check(why == 'quiet', 'after the flood: %s%s' % (why, h.log_about(p.local)))
        finally:
            n = good.finish('read flood')
        took = time.monotonic() - start
        pings = FLOOD // 4
        h.result('read flood: %d bytes of CRLF sent, %d bytes back (%d pongs; %d other bytes) '
                 'in %.1f s; %d well-behaved MESSAGEs answered meanwhile' %
                 (FLOOD, got['bytes'], got['bytes'] // 2, got['other'], took, n))
        h.check(got['other'] == 0 and got['bytes'] == 2 * pings,
                'read flood: %d bytes back (%d not CRLF), want %d pongs (%d bytes)' %
                (got['bytes'], got['other'], pings, 2 * pings))
        cid = 'after-crlf-flood'
        h.check(p.send(b'\r\n\r\n' + peer.message(cid) + b'\r\n\r\n'),
                'cannot send on the flooded connection')
        h.expect_at_node(cid)
        try:
            answer = p.read_message(5)
        except (peer.Closed, peer.Timeout) as e:
            h.fail('no answer to a MESSAGE after the flood: %s%s' % (e, h.log_about(p.local)))
        h.check(answer.status == 200 and answer.call_id == cid,
                'after the flood: got %r, want 200' % answer.start)
        rest = {'data': p.buf}
        why = peer.drain(p.sock, lambda c: rest.update(data=rest['data'] + c), 0.5, 3)
        pongs = p.pongs + rest['data'].count(b'\r\n')
        h.check(pongs == 2 and not rest['data'].replace(b'\r\n', b'') and why == 'quiet',
                'after the flood: %d pongs around the 200 (want 2), then %r, %s' %
                (pongs, rest['data'][:60], why))


def unread_flood(h):
    mark = h.log_mark()
    with h.partner(source=ATTACKER) as p:
        start = time.monotonic()
        sent = 0
        why = 'limit'
        chunk = b'\r\n' * 32768
        p.sock.settimeout(5)
        while sent < UNREAD_MAX and time.monotonic() - start < UNREAD_SECONDS:
            try:
                p.sock.sendall(chunk)
            except (socket.timeout, TimeoutError):
                why = 'send blocked 5 s (the proxy stopped reading but kept the connection)'
                break
            except (ssl.SSLError, OSError) as e:
                why = 'closed: %s' % e
                break
            sent += len(chunk)
        took = time.monotonic() - start
        local = p.local
    h.result('unread flood: %d bytes of CRLF sent in %.1f s, then %s' % (sent, took, why))
    h.check(why.startswith('closed'), 'unread flood: %d bytes sent, then %s%s' %
            (sent, why, h.log_about(local)))
    h.wait_log(r'closing %s:%d: output backlog over limit' % local, 3, mark)


def main(h):
    h.start()
    h.good('warm-up')
    with h.case('read flood'):
        before = h.rss()
        read_flood(h)
        h.good('after read flood')
        h.rss_bounded('read flood', before, RSS_LIMIT_KB)
    with h.case('unread flood'):
        before = h.rss()
        unread_flood(h)
        h.good('after unread flood')
        h.rss_bounded('unread flood', before, RSS_LIMIT_KB)


harness.run(main, 'hostile-crlf', 24760)
