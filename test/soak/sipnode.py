#!/usr/bin/env python3
"""sipnode: an inside presence node for the soak (standard library only).

    sipnode.py NAME PORT PROXY_PORT RATE SEED DEADLINE BODY JOURNAL

Listens on 127.0.0.1:PORT (TCP) and answers every request 200 (after up
to siplib.ANSWER_DELAY): MESSAGE, OPTIONS (the proxy's health probes too),
NOTIFY, and SUBSCRIBE, which makes a dialog (its Record-Route copied, a
Contact, a To tag): 10 to 200 ms after that 200 the node sends a NOTIFY in
the dialog (Route = the Record-Route, to the subscriber's Contact) with
the presence document BODY (XMPP PIDF) over its own connection to the
proxy's inside listener (127.0.0.1:PROXY_PORT). On that connection it
also sends RATE requests a second of its own to alice@partner.example.test:
MESSAGE, OPTIONS and SUBSCRIBE (5:3:2). Every request it sends goes into
JOURNAL (siplib.Journal) with its outcome (siplib.Pending: no final
response in DEADLINE seconds is unanswered).

Signals (from the soak, which started it):
    SIGHUP   start sending requests of our own (none before)
    SIGUSR1  drop (RST) every connection the proxy opened to us
    SIGUSR2  drop (RST) our own connection to the proxy
    SIGINT   stop sending requests of our own (NOTIFYs still go); write Q to
             the journal once nothing is pending
    SIGTERM  exit 0
"""

import asyncio
import json
import os
import random
import re
import signal
import sys

import siplib
from siplib import peer

WEIGHTS = {'MESSAGE': 5, 'OPTIONS': 3, 'SUBSCRIBE': 2}


class Node:
    def __init__(self, argv):
        (self.name, port, proxy_port, rate, seed, deadline, body, journal) = argv
        self.port = int(port)
        self.proxy_port = int(proxy_port)
        self.rate = float(rate)
        self.rng = random.Random('%s-%s' % (seed, self.name))
        # Branches, tags and Call-IDs are new in every process, a restarted one too.
        self.tag = '%s%dp%d' % (self.name, self.rng.randrange(1 << 30), os.getpid())
        with open(body, 'rb') as f:
            self.body = f.read()
        self.journal = siplib.Journal(journal)
        self.pending = siplib.Pending(float(deadline), self.outcome)
        self.accepted = set()
        self.uplink = None
        self.connecting = asyncio.Lock()
        self.tasks = set()  # NOTIFYs and requests on their way out
        self.uplink_task = None
        self.state = 'waiting'  # for SIGHUP; then 'sending'; 'stopped' after SIGINT
        self.load = None
        self.n = 0
        self.received = {}
        self.counts = {'NOTIFY sent': 0, 'drops of accepted': 0, 'drops of uplink': 0,
                       'uplink connects': 0, 'uplink closed by the proxy': 0,
                       'skipped (backlog)': 0}
        self.done = asyncio.Event()

    # --- the journal --------------------------------------------------------

    def outcome(self, branch, kind, outcome, t_sent, t_end, status, reason):
        self.journal.line('O', branch, outcome, status, reason)

    def counters(self):
        self.journal.line('C', json.dumps({'received': self.received, **self.counts,
                                           'late finals': self.pending.late,
                                           'stray responses': self.pending.stray}))

    # --- the server side ---------------------------------------------------------

    async def accept(self, reader, writer):
        conn = siplib.Conn(reader, writer, 'from proxy')
        self.accepted.add(conn)
        try:
            await conn.serve(self.on_request, self.pending.response)
        finally:
            self.accepted.discard(conn)
            self.pending.conn_ended(conn)

    def on_request(self, conn, msg):
        method = msg.start.split(' ', 1)[0]
        self.received[method] = self.received.get(method, 0) + 1
        if method == 'ACK':
            return
        if method != 'SUBSCRIBE':
            siplib.answer_later(self.rng, conn, siplib.response(msg, 200, 'OK', to_tag=self.tag))
            return
        self.n += 1
        tag = '%s-d%d' % (self.tag, self.n)
        siplib.answer_later(self.rng, conn, siplib.response(
            msg, 200, 'OK', to_tag=tag, record_route=True, extra=(
                'Contact: <sip:bob@127.0.0.1:%d;transport=tcp>' % self.port,
                'Expires: %s' % (msg.header('expires') or '600'))))
        self.later(siplib.ANSWER_DELAY + self.rng.uniform(0.01, 0.2), self.notify(msg, tag))

    def later(self, delay, coro):
        async def run():
            await asyncio.sleep(delay)
            await coro
        task = asyncio.ensure_future(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def notify(self, sub, tag):
        """The NOTIFY of the dialog sub (a SUBSCRIBE we answered with tag)
        made: to its Contact, through its Record-Route, From its To."""
        contact = re.search(r'<([^>]*)>', sub.header('contact', 'm') or '')
        headers = ['Route: ' + v for v in sub.header_all('record-route')]
        headers += ['From: %s;tag=%s' % (sub.header('to', 't'), tag),
                    'To: ' + sub.header('from', 'f'), 'Call-ID: ' + sub.call_id,
                    'CSeq: 1 NOTIFY', 'Contact: <sip:bob@127.0.0.1:%d;transport=tcp>' % self.port,
                    'Event: presence', 'Subscription-State: active;expires=600',
                    'Content-Type: application/pidf+xml']
        self.counts['NOTIFY sent'] += 1
        await self.send('NOTIFY', contact.group(1) if contact else sub.start.split(' ')[1],
                        headers, self.body, 'NOTIFY in>out ' + self.name)

    # --- the client side ---------------------------------------------------------------

    async def connection(self):
        """Our connection to the proxy's inside listener (made again after
        a drop); None when it cannot be made in 5 s."""
        async with self.connecting:
            if self.uplink and self.uplink.usable():
                return self.uplink
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection('127.0.0.1', self.proxy_port), 5)
            except (OSError, asyncio.TimeoutError):
                return None
            self.counts['uplink connects'] += 1
            self.uplink = conn = siplib.Conn(reader, writer, 'to proxy')
            self.uplink_task = asyncio.ensure_future(self.serve_uplink(conn))
            return conn

    async def serve_uplink(self, conn):
        try:
            await conn.serve(self.on_request, self.pending.response)
        finally:
            if not conn.dropped and self.state != 'stopped':
                self.counts['uplink closed by the proxy'] += 1
                self.journal.line('E', 'our connection to the proxy ended: %s' % conn.closed)
            self.pending.conn_ended(conn)

    async def send(self, method, ruri, headers, body, kind):
        self.n += 1
        branch = 'z9hG4bK-%s-%d' % (self.tag, self.n)
        data = siplib.request(method, ruri, [
            'Via: SIP/2.0/TCP 127.0.0.1:%d;branch=%s;rport' % (self.port, branch),
            'Max-Forwards: 70'] + headers, body)
        self.journal.line('S', branch, kind)
        self.pending.sent(branch, kind, None)
        conn = await self.connection()
        if branch not in self.pending.open:
            return  # swept meanwhile
        if conn is None or not conn.send(data):
            self.pending.end(branch, 'lost', reason='no connection to the proxy')
            return
        self.pending.open[branch][2] = conn

    def originate(self):
        if self.uplink and self.uplink.backlog() > 1 << 20:
            self.counts['skipped (backlog)'] += 1
            return
        method = self.rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
        self.n += 1
        cid = '%s-%d@soak.inside' % (self.tag, self.n)
        headers = ['From: <%s>;tag=%s-f%d' % (peer.LOCAL_URI, self.tag, self.n),
                   'To: <%s>' % peer.FOREIGN_URI, 'Call-ID: ' + cid, 'CSeq: 1 ' + method]
        body = b''
        if method == 'MESSAGE':
            headers.append('Content-Type: text/plain')
            body = b'Hello from inside, %d.' % self.n
        elif method == 'SUBSCRIBE':
            headers += ['Event: presence', 'Accept: application/pidf+xml', 'Expires: 600',
                        'Contact: <sip:bob@127.0.0.1:%d;transport=tcp>' % self.port]
        self.later(0, self.send(method, peer.FOREIGN_URI, headers, body,
                                '%s in>out %s' % (method, self.name)))

    # --- signals and the main loop ------------------------------------------------------

    def drop_accepted(self):
        self.counts['drops of accepted'] += 1
        self.journal.line('E', 'dropped %d connection(s) from the proxy, %d answer(s) owed on them'
                          % (len(self.accepted), sum(c.owed for c in self.accepted)))
        for conn in list(self.accepted):
            conn.drop()

    def drop_uplink(self):
        self.counts['drops of uplink'] += 1
        up = self.uplink and self.uplink.usable()
        self.journal.line('E', 'dropped our connection to the proxy, %d request(s) in flight on it'
                          % sum(1 for v in self.pending.open.values() if v[2] is self.uplink)
                          if up else 'no connection to the proxy to drop')
        if up:
            self.uplink.drop()

    def start(self):
        if self.state == 'waiting':
            self.state = 'sending'
            self.journal.line('E', 'sending %g requests/s' % self.rate)
            self.load = asyncio.ensure_future(siplib.paced(
                self.rate, lambda: self.state == 'sending', self.originate))

    def stop(self):
        self.state = 'stopped'

    async def main(self):
        # The handlers first: the soak signals us once we listen.
        loop = asyncio.get_running_loop()
        for sig, handler in ((signal.SIGHUP, self.start), (signal.SIGINT, self.stop),
                             (signal.SIGUSR1, self.drop_accepted),
                             (signal.SIGUSR2, self.drop_uplink), (signal.SIGTERM, self.done.set)):
            loop.add_signal_handler(sig, handler)
        server = await asyncio.start_server(self.accept, '127.0.0.1', self.port)
        self.journal.line('E', 'listening on port %d' % self.port)
        quiet = False
        while not self.done.is_set():
            try:
                await asyncio.wait_for(self.done.wait(), 1)
            except asyncio.TimeoutError:
                pass
            self.pending.sweep()
            self.counters()
            if self.state == 'stopped' and not quiet and not self.pending.open and not self.tasks:
                quiet = True
                self.journal.line('Q')
        if self.load:
            self.load.cancel()
        server.close()
        self.counters()
        return 0


if __name__ == '__main__':
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    sys.exit(asyncio.run(Node(sys.argv[1:]).main()))
