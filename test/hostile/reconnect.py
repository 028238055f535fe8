#!/usr/bin/env python3
"""hostile-reconnect: a next hop that drops the connection with a request
on it must not fail the request.

The routing node here is a small TCP server of this script: it reads the
first request on its first connection and closes that connection without an
answer (as a node that restarts, or a peer that drops an idle pooled
connection just as we use it). The proxy must send the request once more on
a new connection (lync-interop C1), where the node answers 200, and that
200 reaches the foreign edge. Then a node that drops every connection: the
request gets 503 (with Retry-After), after exactly one second try. Ports
24860-24879.
"""
import os
import re
import socket
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import peer  # noqa: E402


def read_request(conn):
    """One SIP request from conn (head and Content-Length body), or None."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    length = int(re.search(rb'(?im)^content-length:\s*(\d+)', head).group(1))
    while len(body) < length:
        body += conn.recv(4096)
    return head


def answer(head):
    """A 200 for the request head: its Via, From, To, Call-ID, CSeq."""
    keep = [line for line in head.split(b'\r\n')[1:]
            if re.match(rb'(?i)(via|from|to|call-id|cseq):', line)]
    return b'\r\n'.join([b'SIP/2.0 200 OK'] + keep + [b'Content-Length: 0', b'', b''])


class DroppingNode:
    """Accepts connections on port; drops the first `drops` with their
    request unanswered, answers on the others. Counts the requests."""

    def __init__(self, port, drops):
        self.drops = drops
        self.requests = 0
        self.open = []
        self.sock = socket.create_server(('127.0.0.1', port))
        self.sock.settimeout(10)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            head = read_request(conn)
            if head is None:
                conn.close()
                continue
            self.requests += 1
            if self.drops > 0:
                self.drops -= 1
                conn.close()
                continue
            # Listed before it answers: once the proxy has the answer,
            # drop_all() must find this connection.
            self.open.append(conn)
            conn.sendall(answer(head))
            threading.Thread(target=self.keep, args=(conn,), daemon=True).start()

    def keep(self, conn):
        """Answer further requests on an answering connection."""
        while (head := read_request(conn)) is not None:
            self.requests += 1
            conn.sendall(answer(head))

    def drop_all(self, drops):
        """From now on drop the next `drops` requests; close what is open."""
        self.drops = drops
        self.requests = 0
        for conn in self.open:
            conn.shutdown(socket.SHUT_RDWR)
        self.open = []


def send_one(h, cid):
    with h.partner() as p:
        p.send(peer.message(cid))
        return p.read_message(10)


def main(h):
    h.start(node=False)
    node = DroppingNode(h.node_port, drops=1)
    with h.case('dropped once'):
        got = send_one(h, 'drop-once')
        h.check(got.status == 200 and got.call_id == 'drop-once',
                'after one dropped connection: got %r, want 200' % got.start)
        h.check(node.requests == 2, 'the node saw %d requests, want 2' % node.requests)
        h.check(h.log_count(r'drop-once: connection to the next hop dropped') == 1,
                'no "sending again" log line for drop-once')
        h.result('200 after one dropped connection; the node saw 2 requests')
    node.drop_all(10)
    # The first case's drop logged one such line already: wait for the next.
    h.wait_log(r'closing 127\.0\.0\.1:%d: closed by peer' % h.node_port, 5, count=2)
    with h.case('dropped always'):
        got = send_one(h, 'drop-always')
        h.check(got.status == 503 and got.header('retry-after') is not None,
                'a node that always drops: got %r, want 503 with Retry-After' % got.start)
        h.check(node.requests == 2, 'the node saw %d requests, want 2 (one retry)' % node.requests)
        h.result('503 with Retry-After after one retry; the node saw 2 requests')


harness.run(main, 'hostile-reconnect', 24860)
