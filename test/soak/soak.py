#!/usr/bin/env python3
"""soak: fedproxy under mixed traffic with faults, for MINUTES (run.sh).

    FEDPROXY=build/proxy/fedproxy test/soak/soak.py MINUTES

The hostile tests' harness (test/hostile/harness.py) makes the PKI, writes
the config (log_level warn), starts the proxy and stops what was started;
on top of it (README.md tells more):

  - two inside nodes (sipnode.py, a process each): "routing" and member
    "b" (public port BASE+6), probed by the proxy every 2 s;
  - foreign edges: 6 TLS connections (partner certificate) to the main
    port, whose new requests go to the routing node, and 2 to b's public
    port, which go to b; and the partner's edge server (TLS, partner
    certificate, requires the proxy's), the static route of
    partner.example.test, which answers what the inside sends out. Every
    agent answers 200 after 0 to siplib.ANSWER_DELAY (0.1 s);
  - load: RATE requests a second (SOAK_RATE, default 150): 70 % from the
    foreign connections (MESSAGE 5 : SUBSCRIBE 3 : OPTIONS 2, one in four
    to b's port), 30 % from the nodes (MESSAGE 5 : OPTIONS 3 : SUBSCRIBE
    2), plus the NOTIFY that the node sends in each dialog a foreign
    SUBSCRIBE made (about 180 transactions a second in all);
  - faults: SIGHUP every 30 s (a changed good config, then a broken one,
    in turn); every 20 s a foreign drop (RST, no TLS close_notify), in
    turn one foreign connection (once a request of ours is in flight on
    it) and the proxy's connection to the edge server (once it owes the
    proxy an answer); every 20 s, 10 s after those, an inside drop, in
    turn the connections the proxy opened to a node (SIGUSR1 to it) and
    the node's own connection to the proxy (SIGUSR2); at half time node b
    is killed (SIGKILL) and started again 8 s later;
  - the proxy's VmRSS (and connections, transactions, descriptors) every
    10 s.

Every request sent must end with a final response: 2xx, or 503/408 when a
fault touched its next hop at the time (the fault's window: 2 s from a
drop; for b, from its kill to 6 s after its restart). Requests whose own
sender dropped its connection, or was killed, with them pending are
"abandoned" and counted apart. Pass: no request unanswered, lost (its
connection closed by the proxy under it), answered anything else, or
503/408 outside a fault window; reloads counted by the proxy as sent; no
transaction left in the proxy once all is answered; VmRSS after the first
minute grew less than SOAK_RSS_LIMIT_KB (4096); the proxy alive throughout
and exiting 0 on SIGTERM. Exit 0 pass, 1 fail, 77 skip (a tool missing).
"""

import asyncio
import collections
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import sys
import textwrap
import time

import siplib
from siplib import peer
import harness  # noqa: E402  (test/hostile/harness.py, on the path siplib made)

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = int(os.environ.get('SOAK_BASE_PORT', '24900'))
RATE = float(os.environ.get('SOAK_RATE', '150'))
RSS_LIMIT_KB = int(os.environ.get('SOAK_RSS_LIMIT_KB', '4096'))
SEED = int(os.environ.get('SOAK_SEED') or time.time())
FAULTS = os.environ.get('SOAK_FAULTS', 'yes') != 'no'  # no: the load alone, to compare

NODE_B_PORT = BASE + 5     # node b's address
B_PUBLIC_PORT = BASE + 6   # the proxy's public (PAT) port leading to b
EDGE_PORT = BASE + 7       # the partner's edge server (static route)

WARMUP = 60                # seconds before the RSS is watched
SAMPLE_EVERY = 10
RELOAD_EVERY = 30
DROP_EVERY = 20
TXN_TIMEOUT = 10           # the proxy's transaction_timeout (Timer F)
DEADLINE = TXN_TIMEOUT + 10  # no final response by then: unanswered
HEALTH = {'interval': 2, 'timeout': 2, 'failures': 3}
B_DOWN = 8                 # seconds node b stays dead
FAULT_SLACK = 2            # seconds a drop's window lasts
FOREIGN_SHARE = 0.7
B_SHARE = 0.25             # of the foreign requests, to b's public port
FOREIGN_WEIGHTS = {'MESSAGE': 5, 'SUBSCRIBE': 3, 'OPTIONS': 2}
CLIENTS = {'routing': 6, 'b': 2}
MAX_PENDING = 5000         # bounded: beyond that the load holds back
EDGE_CONTACT = '<sip:alice@%s:%d;transport=tls>' % (peer.PARTNER_FQDN, EDGE_PORT)


def tags_of(kind):
    """The faults that may make a request of this kind end 503/408: its
    next hop's (a node, the edge server; a NOTIFY goes to the foreign
    connection of its dialog, else to the edge server)."""
    method, direction, node = kind.split()
    if direction == 'out>in':
        return {'node:' + node}
    return {'edge', 'client'} if method == 'NOTIFY' else {'edge'}


class Client:
    """One foreign edge's TLS connection to a proxy port, made again a
    second after it ends; answers 200 to what the proxy sends it."""

    def __init__(self, soak, index, node, port):
        self.soak = soak
        self.label = 'client %d (%s)' % (index, node)
        self.node = node
        self.port = port
        self.conn = None

    def live(self):
        return self.conn is not None and self.conn.usable()

    async def run(self):
        s = self.soak
        chain, key = s.h.cert('partner')
        ctx = peer.tls_context(s.h.path('pki', 'ca.pem'), chain, key)
        while not s.closing:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(
                    '127.0.0.1', self.port, ssl=ctx, server_hostname=peer.PROXY_FQDN,
                    local_addr=(harness.GOOD, 0)), 10)
            except (OSError, ssl.SSLError, asyncio.TimeoutError) as e:
                s.problem('%s: cannot connect to port %d: %s' % (self.label, self.port, e))
                await asyncio.sleep(1)
                continue
            self.conn = siplib.Conn(reader, writer, self.label)
            await self.conn.serve(self.on_request, s.pending.response)
            s.pending.conn_ended(self.conn)
            if not self.conn.dropped and not s.closing:
                s.counts['foreign connections closed by the proxy'] += 1
                s.event('%s closed by the proxy: %s' % (self.label, self.conn.closed))
            await asyncio.sleep(1)

    def on_request(self, conn, msg):
        method = msg.start.split(' ', 1)[0]
        self.soak.counts['%s at foreign connections' % method] += 1
        if method == 'NOTIFY' and 'pidf' not in (msg.header('content-type', 'c') or ''):
            self.soak.counts['NOTIFYs at foreign connections without PIDF'] += 1
        if method != 'ACK':
            siplib.answer_later(self.soak.delays, conn,
                                siplib.response(msg, 200, 'OK', to_tag='c%d' % id(conn)))


class Soak:
    def __init__(self, h, minutes):
        self.h = h
        self.duration = minutes * 60
        self.rng = random.Random(SEED)               # the load's and the faults' choices
        self.delays = random.Random(SEED + 1)        # answer delays
        self.tally = siplib.Tally()
        self.pending = siplib.Pending(DEADLINE, self.outcome)
        self.counts = collections.Counter()
        self.drops = collections.Counter()
        self.reloads = collections.Counter()
        self.windows = []    # [start, end, tags, what]: faults, for 503/408
        self.timeline = []   # (t, text)
        self.samples = []    # (t or None at the end, VmRSS kB, connections, transactions, fds)
        self.problems = []
        self.nodes = {'routing': {'port': h.node_port, 'journals': []},
                      'b': {'port': NODE_B_PORT, 'journals': []}}
        self.clients = []
        self.edge_conns = set()
        self.started = False  # the nodes send once the load starts
        self.sending = True
        self.closing = False
        self.edge_tags = 0
        self.n = 0
        self.t0 = siplib.now()
        self.wall0 = time.time()
        self.proxy_exit = None
        self.sigterm = False
        self.final_status = None

    # --- records ------------------------------------------------------------------

    def t(self, at=None):
        return (siplib.now() if at is None else at) - self.t0

    def event(self, text):
        self.timeline.append((self.t(), text))

    def problem(self, text):
        self.event('PROBLEM: ' + text)
        self.problems.append('t=%.0fs %s' % (self.t(), text))
        print('soak: t=%4.0fs PROBLEM: %s' % (self.t(), text), flush=True)

    def fault(self, tags, what, end=None, event=None):
        """A fault window for tags, from now, named what; event: for the
        timeline."""
        start = siplib.now()
        self.windows.append([start, end or start + FAULT_SLACK, set(tags), what])
        if event:
            self.event(event)
        return self.windows[-1]

    def outcome(self, branch, kind, outcome, t_sent, t_end, status, reason):
        self.tally.record(kind, outcome, t_sent, t_end, status, reason)

    # --- configuration --------------------------------------------------------------

    def sections(self, idle_timeout=1800):
        return {
            'proxy': {'log_level': os.environ.get('SOAK_LOG_LEVEL', 'warn'), 'trace': 'no',
                      'transaction_timeout': TXN_TIMEOUT, 'drain_timeout': 5,
                      'idle_timeout': idle_timeout},
            'health': HEALTH,
            'node b': {'address': '127.0.0.1:%d' % NODE_B_PORT, 'transport': 'tcp',
                       'role': 'member', 'public_port': B_PUBLIC_PORT},
            'route ' + peer.PARTNER_DOMAIN: {'host': peer.PARTNER_FQDN, 'port': EDGE_PORT,
                                             'address': '127.0.0.1'},
            'limits': {'domain_rate': 1000},
            'presence': {'table': 'presence-map.conf', 'default_dialect': 'lync'},
        }

    def broken(self):
        """The config with an unknown key in [proxy]: (text, its line)."""
        lines = self.h.config(**self.sections()).split('\n')
        at = lines.index('[proxy]') + 1
        lines.insert(at, 'no_such_key = yes')
        return '\n'.join(lines), at + 1

    def install(self, text):
        with open(self.h.conf + '.new', 'w') as f:
            f.write(text)
        os.replace(self.h.conf + '.new', self.h.conf)

    def setup(self):
        h = self.h
        shutil.copy(os.path.join(h.source_root, 'etc', 'presence-map.conf'), h.dir)
        with open(os.path.join(h.source_root, 'test', 'presence', 'xmpp-available.pidf.xml'),
                  'rb') as f:
            body = re.sub(rb'[\w.-]+@[\w.-]+\.example\b', peer.LOCAL_URI[4:].encode(), f.read())
        self.body = h.path('notify.pidf.xml')
        with open(self.body, 'wb') as f:
            f.write(body)
        # The broken config must be refused, at its line, or the failed
        # reloads would test nothing.
        text, line = self.broken()
        check = h.path('broken-check.conf')
        with open(check, 'w') as f:
            f.write(text)
        r = subprocess.run([h.fedproxy, '-c', check, '-t'], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        h.check(r.returncode != 0 and '%s:%d:' % (check, line) in r.stdout,
                'fedproxy -t on the broken config: exit %d, %r' % (r.returncode, r.stdout))
        h.start(node=False, **self.sections())
        h.wait_listen(B_PUBLIC_PORT, 'proxy')
        for name in self.nodes:  # before the proxy's first probes give up on them
            self.start_node(name)

    # --- the inside nodes ---------------------------------------------------------------

    def start_node(self, name):
        node = self.nodes[name]
        journal = self.h.path('node-%s.%d.journal' % (name, len(node['journals']) + 1))
        node['journals'].append([journal, False])
        self.h.spawn('node-' + name, [
            sys.executable, os.path.join(HERE, 'sipnode.py'), name, str(node['port']),
            str(self.h.int_port), str(RATE * (1 - FOREIGN_SHARE) / len(self.nodes)), str(SEED),
            str(DEADLINE), self.body, journal], self.h.path('node-%s.out' % name))
        self.h.wait_listen(node['port'], 'node-' + name)
        if self.started:
            self.signal_node(name, signal.SIGHUP)  # start sending

    def signal_node(self, name, sig):
        p = self.h.procs.get('node-' + name)
        if p and p.poll() is None:
            p.send_signal(sig)
            return True
        return False

    async def restart_b(self):
        """Node b killed (SIGKILL) and started again B_DOWN s later."""
        self.drops['node b killed and restarted'] += 1
        window = self.fault({'node:b'}, 'node b killed and restarted', end=float('inf'),
                            event='node b killed (SIGKILL)')
        await asyncio.to_thread(self.h.stop, 'node-b', signal.SIGKILL)
        self.nodes['b']['journals'][-1][1] = True
        await asyncio.sleep(B_DOWN)
        await asyncio.to_thread(self.start_node, 'b')
        self.event('node b started again')
        # Back once a probe reaches it: a probe interval and timeout later.
        window[1] = siplib.now() + HEALTH['interval'] + HEALTH['timeout'] + FAULT_SLACK

    # --- the foreign side -----------------------------------------------------------------

    async def edge_accept(self, reader, writer):
        conn = siplib.Conn(reader, writer, 'edge server')
        names = [v for k, v in (writer.get_extra_info('peercert') or {}).get('subjectAltName', ())
                 if k == 'DNS']
        if peer.PROXY_FQDN not in names:
            self.problem('edge server: the proxy presented %s' % names)
        self.counts['connections the proxy made to the edge server'] += 1
        self.edge_conns.add(conn)
        try:
            await conn.serve(self.edge_request, self.pending.response)
        finally:
            self.edge_conns.discard(conn)
            if not conn.dropped and not self.closing:
                self.counts['edge server connections closed by the proxy'] += 1
                self.event('edge server connection closed by the proxy: %s' % conn.closed)

    def edge_request(self, conn, msg):
        method = msg.start.split(' ', 1)[0]
        self.counts['%s at the edge server' % method] += 1
        if method == 'ACK':
            return
        extra, rr = (), False
        if method == 'SUBSCRIBE':
            extra = ('Contact: ' + EDGE_CONTACT, 'Expires: 600')
            rr = True
        self.edge_tags += 1
        siplib.answer_later(self.delays, conn, siplib.response(
            msg, 200, 'OK', to_tag='e%d' % self.edge_tags, extra=extra, record_route=rr))

    def fire(self):
        """One foreign request, on a live connection to the routing node's
        port or b's."""
        if len(self.pending.open) >= MAX_PENDING:
            self.counts['foreign requests held back (too many pending)'] += 1
            return
        node = 'b' if self.rng.random() < B_SHARE else 'routing'
        live = [c for c in self.clients if c.node == node and c.live()]
        if not live:
            self.counts['foreign requests not sent: no connection up'] += 1
            return
        client = self.rng.choice(live)
        method = self.rng.choices(list(FOREIGN_WEIGHTS), list(FOREIGN_WEIGHTS.values()))[0]
        self.n += 1
        cid = 'soak-%d-%d@%s' % (SEED, self.n, peer.PARTNER_FQDN)
        extra, body = (), b''
        if method == 'MESSAGE':
            body = b'Hello from outside, %d.' % self.n
        elif method == 'SUBSCRIBE':
            extra = ('Event: presence', 'Accept: application/pidf+xml', 'Expires: 600',
                     'Contact: ' + EDGE_CONTACT)
        data = peer.message(cid, method=method, extra=extra, body=body)
        if not client.conn.send(data):  # it ended since live(): not sent
            self.counts['foreign requests not sent: no connection up'] += 1
            return
        self.pending.sent(siplib.branch_of(peer.Message(data)), '%s out>in %s' % (method, node),
                          client.conn)

    # --- faults ------------------------------------------------------------------------------

    def status(self):
        """`fedproxyctl status`: {connections, transactions, open, ok, failed}."""
        rc, out = self.h.ctl('status')
        found = {}
        for key, regex in (('connections', r'connections (\d+)'),
                           ('transactions', r'transactions (\d+)'),
                           ('open', r'\((\d+) waiting'), ('ok', r'reloads ok (\d+)'),
                           ('failed', r'reloads ok \d+, failed (\d+)')):
            m = re.search(regex, out)
            if rc != 0 or not m:
                raise harness.Fail('fedproxyctl status (exit %d): %s' % (rc, out.strip()))
            found[key] = int(m.group(1))
        return found

    def reload(self, n):
        """SIGHUP number n: odd ones a good config (a new idle_timeout), even
        ones the broken one; the proxy must count it as such within 5 s."""
        good = n % 2 == 1
        if good:
            self.h.write_config(**self.sections(idle_timeout=1800 + n))
        else:
            self.install(self.broken()[0])
        before = self.status()
        self.h.proxy.send_signal(signal.SIGHUP)
        want = 'ok' if good else 'failed'
        self.reloads['sent ' + want] += 1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            after = self.status()
            if after['ok'] + after['failed'] > before['ok'] + before['failed']:
                break
            time.sleep(0.1)
        got = [k for k in ('ok', 'failed') if after[k] > before[k]]
        self.reloads['counted ' + (got[0] if got else 'none')] += 1
        self.event('SIGHUP %d (%s config): proxy counted %s' % (n, 'good' if good else 'broken',
                                                                 got[0] if got else 'nothing'))
        if got != [want]:
            self.problem('SIGHUP %d with a %s config: the proxy counted %s' %
                         (n, 'good' if good else 'broken', got or 'no reload in 5 s'))

    async def foreign_drop(self, k):
        """Odd: one foreign connection; even: the proxy's connection to
        the edge server (a foreign connection when there is none). Each
        once a request is in flight on it (1 s at most)."""
        edge = [c for c in self.edge_conns if c.usable()]
        if k % 2 == 0 and edge:
            conn = self.rng.choice(edge)
            busy = await self.drop_when(conn, lambda: conn.owed > 0)
            self.drops['edge server connection'] += 1
            self.fault({'edge'}, 'edge server connection dropped',
                       event='dropped an edge server connection%s' % busy)
            return
        live = [c for c in self.clients if c.live()]
        if live:
            client = self.rng.choice(live)
            conn = client.conn
            busy = await self.drop_when(conn, lambda: conn.owed or self.in_flight(conn))
            self.drops['foreign connection'] += 1
            self.fault({'client'}, 'foreign connection dropped',
                       event='dropped %s%s' % (client.label, busy))

    def in_flight(self, conn):
        return sum(1 for v in self.pending.open.values() if v[2] is conn)

    async def drop_when(self, conn, busy):
        """Drops conn once busy() (1 s at most); says how busy it was."""
        for _ in range(100):
            if busy() or conn.closed:
                break
            await asyncio.sleep(0.01)
        n = self.in_flight(conn)
        conn.drop()
        return ', %d request(s) of ours in flight on it, %d answer(s) owed' % (n, conn.owed)

    def inside_drop(self, k):
        """Odd: the connections the proxy opened to a node (SIGUSR1 to it);
        even: the node's own connection to the proxy (SIGUSR2)."""
        name = self.rng.choice([n for n in self.nodes
                                if self.h.procs.get('node-' + n) is not None])
        if k % 2:
            if self.signal_node(name, signal.SIGUSR1):
                self.drops['proxy -> node connections'] += 1
                self.fault({'node:' + name}, 'proxy -> node %s connections dropped' % name)
        elif self.signal_node(name, signal.SIGUSR2):
            self.drops['node -> proxy connection'] += 1  # its requests there: abandoned

    def schedule(self):
        """(t, what, k) of every fault, by time."""
        plan = []
        if not FAULTS:
            return plan
        for k in range(1, int(self.duration // RELOAD_EVERY) + 1):
            plan.append((k * RELOAD_EVERY, 'reload', k))
        for k in range(1, int(self.duration // DROP_EVERY) + 2):
            plan.append((k * DROP_EVERY, 'foreign_drop', k))
            plan.append((k * DROP_EVERY - DROP_EVERY / 2, 'inside_drop', k))
        plan.append((self.duration // 2 + 5, 'restart_b', None))
        return sorted(p for p in plan if p[0] < self.duration - 5)

    async def faults(self):
        restart = None
        for at, what, k in self.schedule():
            await asyncio.sleep(max(0, self.t0 + at - siplib.now()))
            if not self.sending:
                break
            try:
                if what == 'restart_b':
                    restart = asyncio.ensure_future(self.restart_b())
                elif what == 'reload':
                    await asyncio.to_thread(self.reload, k)
                elif what == 'foreign_drop':
                    await self.foreign_drop(k)
                else:
                    self.inside_drop(k)
            except harness.Fail as e:
                self.problem('%s %s: %s' % (what, k or '', e))
        if restart:
            await restart

    # --- watching the proxy -----------------------------------------------------------------

    def sample(self, end=False):
        pid = self.h.proxy.pid
        st = self.status()
        s = (None if end else self.t(), harness.status_kb(pid, 'VmRSS'), st['connections'],
             st['transactions'], len(os.listdir('/proc/%d/fd' % pid)))
        self.samples.append(s)
        return s, st

    async def watch(self):
        """Every second: unanswered requests swept, the proxy alive;
        every SAMPLE_EVERY s: a sample and a progress line."""
        next_sample = self.t0
        while self.sending:
            self.pending.sweep()
            self.h.alive()
            if siplib.now() >= next_sample:
                next_sample += SAMPLE_EVERY
                s, _ = await asyncio.to_thread(self.sample)
                rows = self.tally.rows
                total = collections.Counter()
                for c in rows.values():
                    total.update(c)
                print('soak: t=%4.0fs VmRSS %6d kB, proxy %3d connections %4d transactions; '
                      'foreign requests %d ended (%s), %d pending' % (
                          s[0], s[1], s[2], s[3], sum(total.values()),
                          ', '.join('%s %d' % (k, total[k]) for k in siplib.OUTCOMES
                                    if total[k]), len(self.pending.open)), flush=True)
            await asyncio.sleep(1)

    # --- the run ------------------------------------------------------------------------------

    async def run(self):
        h = self.h
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*h.cert('partner'))
        ctx.load_verify_locations(h.path('pki', 'ca.pem'))
        ctx.verify_mode = ssl.CERT_REQUIRED
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, what: self.problem('soak: %s: %r' % (what.get('message'),
                                                              what.get('exception'))))
        edge = await asyncio.start_server(self.edge_accept, '127.0.0.1', EDGE_PORT, ssl=ctx)
        i = 0
        for node, n in CLIENTS.items():
            for _ in range(n):
                i += 1
                port = h.ext_port if node == 'routing' else B_PUBLIC_PORT
                self.clients.append(Client(self, i, node, port))
        tasks = [asyncio.ensure_future(c.run()) for c in self.clients]
        for _ in range(100):  # 10 s at most for the connections
            if all(c.live() for c in self.clients):
                break
            await asyncio.sleep(0.1)
        self.started = True
        for name in self.nodes:
            self.signal_node(name, signal.SIGHUP)
        self.t0 = siplib.now()
        self.wall0 = time.time()
        print('soak: seed %d, %g min, %g requests/s, %s, ports %d-%d, logs in %s' % (
            SEED, self.duration / 60, RATE, 'faults' if FAULTS else 'NO FAULTS (SOAK_FAULTS=no)',
            BASE, BASE + 19, h.dir), flush=True)
        watch = asyncio.ensure_future(self.watch())
        faults = asyncio.ensure_future(self.faults())
        load = asyncio.ensure_future(siplib.paced(RATE * FOREIGN_SHARE,
                                                  lambda: self.sending, self.fire))
        try:
            while siplib.now() < self.t0 + self.duration:
                await asyncio.sleep(0.5)
                if watch.done():
                    watch.result()  # the proxy is gone: Fail
        finally:
            self.sending = False
            faults.cancel()  # done by now, unless the run ended early
            await asyncio.gather(load, faults, return_exceptions=True)
            watch.cancel()
        self.t_end = siplib.now()
        self.event('load stopped')
        await self.drain()
        self.final_status = (await asyncio.to_thread(self.sample, True))[1]
        self.event('SIGTERM to the proxy')
        self.closing = True
        self.sigterm = True
        self.proxy_exit = await asyncio.to_thread(h.stop, 'proxy', signal.SIGTERM, 15)
        for c in self.clients:
            if c.live():
                c.conn.writer.close()
        for t in tasks:
            if t.done() and t.exception():
                self.problem('soak: a foreign connection failed: %r' % t.exception())
            t.cancel()
        edge.close()
        for name in self.nodes:
            await asyncio.to_thread(h.stop, 'node-' + name)
            with open(h.path('node-%s.out' % name), errors='replace') as f:
                said = f.read().strip()
            if said:  # a node speaks only when something went wrong in it
                self.problem('node %s wrote: %s' % (name, said[-2000:]))

    async def drain(self):
        """After the load: the nodes stop sending (SIGINT); every pending
        request ends (answered or swept); the nodes say Q; the proxy holds
        no transaction. Bounded by DEADLINE + TXN_TIMEOUT + 5 s."""
        for name in self.nodes:
            self.signal_node(name, signal.SIGINT)
        deadline = siplib.now() + DEADLINE + 2
        while siplib.now() < deadline:
            self.pending.sweep()
            journals = [self.nodes[n]['journals'][-1][0] for n in self.nodes]
            if not self.pending.open and all(self.quiet(j) for j in journals):
                break
            await asyncio.sleep(0.5)
        self.pending.sweep()
        deadline = siplib.now() + TXN_TIMEOUT + 3
        st = await asyncio.to_thread(self.status)
        while st['transactions'] and siplib.now() < deadline:
            await asyncio.sleep(0.5)
            st = await asyncio.to_thread(self.status)
        self.event('drained: proxy holds %d transactions (%d waiting for a final answer), '
                   '%d connections' % (st['transactions'], st['open'], st['connections']))
        if st['transactions']:
            self.problem('the proxy still holds %d transactions (%d waiting for a final answer) '
                         '%.0f s after the last request ended' %
                         (st['transactions'], st['open'], TXN_TIMEOUT + 3))

    @staticmethod
    def quiet(journal):
        with open(journal, 'rb') as f:
            f.seek(max(0, os.path.getsize(journal) - 4096))
            return b'\nQ\t' in f.read()

    # --- verdict and summary ------------------------------------------------------------------

    def gather(self):
        """The nodes' journals into the tally; their events and counters."""
        self.node_counters = {}
        for name, node in self.nodes.items():
            for i, (journal, killed) in enumerate(node['journals'], 1):
                events, counters, _ = siplib.replay(journal, self.tally, killed)
                self.node_counters['%s #%d%s' % (name, i, ' (killed)' if killed else '')] = counters
                for t, text in events:
                    if not text.startswith('listening'):
                        self.timeline.append((self.t(t), 'node %s: %s' % (name, text)))

    def explained(self, item):
        """The fault that explains a 503/408 (its next hop's, met between
        the request and its answer), or None."""
        kind, _, t_sent, t_end = item[:4]
        tags = tags_of(kind)
        for start, end, wtags, what in self.windows:
            if wtags & tags and start <= t_end + 1 and end >= t_sent - 1:
                return what
        return None

    def verdict(self):
        rows = self.tally.rows
        self.by_fault = collections.Counter()
        unexplained = []
        for item in self.tally.faults:
            what = self.explained(item)
            self.by_fault[what or 'none'] += 1
            if not what:
                unexplained.append(item)
        self.unexplained = unexplained
        for outcome in ('other', 'lost', 'unanswered'):
            n = sum(c[outcome] for c in rows.values())
            if n:
                self.problems.append('%d request(s) %s' % (n, outcome))
        if unexplained:
            self.problems.append('%d request(s) answered 503/408 with no fault on their next '
                                 'hop at the time' % len(unexplained))
        sent = self.tally.sent()
        took = self.t_end - self.t0
        if sent < 0.5 * RATE * took:
            self.problems.append('only %d requests in %.0f s (%.0f/s wanted)' % (sent, took, RATE))
        after = [s for s in self.samples if s[0] is not None and s[0] >= WARMUP]
        self.rss_after = after
        if len(after) >= 2:
            growth = max(s[1] for s in after) - after[0][1]
            self.rss_growth = growth
            if growth > RSS_LIMIT_KB:
                self.problems.append('VmRSS grew by %d kB after the warm-up (limit %d kB)' %
                                     (growth, RSS_LIMIT_KB))
        else:
            self.rss_growth = None
        if self.sigterm and self.proxy_exit != 0:
            self.problems.append('fedproxy exited %s on SIGTERM (None: killed after 15 s)' %
                                 self.proxy_exit)
        return not self.problems

    def log_kinds(self):
        """proxy.log lines by level and kind (numbers, addresses, Call-IDs
        and names made generic)."""
        kinds = collections.Counter()
        levels = collections.Counter()
        with open(self.h.proxy_log, errors='replace') as f:
            for line in f:
                m = re.match(r'\S+Z (\w+) +(.*)', line.rstrip('\n'))
                if not m:
                    levels['other'] += 1
                    continue
                levels[m.group(1)] += 1
                text = re.sub(r'\S+@\S+', 'CALLID', m.group(2))
                text = re.sub(r'\d+(\.\d+){3}(:\d+)?', 'ADDR', text)
                text = re.sub(r'/tmp/\S+/', '', text)
                text = re.sub(r'\d+', 'N', text)
                kinds[(m.group(1), text)] += 1
        return levels, kinds

    def summary(self, ok):
        out = []
        say = out.append
        rows = self.tally.rows
        say('soak: summary')
        say('  date            %s (seed %d; SOAK_SEED=%d reproduces the choices)' % (
            time.strftime('%Y-%m-%d %H:%M:%S %Z', time.localtime(self.wall0)), SEED, SEED))
        say('  duration        %.0f s of load (%g min), %.0f s to drain' % (
            self.t_end - self.t0, self.duration / 60, self.t(self.t_done) - self.t(self.t_end)))
        sent = self.tally.sent()
        say('  transactions    %d requests sent (%.0f/s) and ended, by kind and outcome:' % (
            sent, sent / max(1, self.t_end - self.t0)))
        head = '    %-24s %7s' + ' %7s' * len(siplib.OUTCOMES)
        say(head % (('kind', 'sent') + siplib.OUTCOMES))
        total = collections.Counter()
        for kind in sorted(rows, key=lambda k: (k.split()[1], k.split()[0], k.split()[2])):
            c = rows[kind]
            total.update(c)
            say(head % ((kind, sum(c.values())) + tuple(c[o] for o in siplib.OUTCOMES)))
        say(head % (('total', sum(total.values())) + tuple(total[o] for o in siplib.OUTCOMES)))
        say(wrap('  not 2xx         ', '; '.join(
            '%s %d' % (r if o in ('503', '408', 'other') else '%s (%s)' % (o, r), n)
            for (o, r), n in sorted(self.tally.reasons.items())) or 'none'))
        say(wrap('  503/408         ', '%d, by the fault on their next hop at the time: %s%s' % (
            len(self.tally.faults), ', '.join('%s %d' % kv for kv in sorted(self.by_fault.items()))
            or '-', '' if not self.unexplained else '; with no fault: %s' %
            self.describe(self.unexplained[:5]))))
        if self.tally.failures:
            say(wrap('  failures        ', '%d, the first ones: %s' % (
                self.tally.n_failures, self.describe(self.tally.failures[:5]))))
        say('  reloads         SIGHUP with a good config %d, counted ok %d; with a broken one %d, '
            'counted failed %d' % (self.reloads['sent ok'], self.reloads['counted ok'],
                                   self.reloads['sent failed'], self.reloads['counted failed']))
        for head, counter in (('  drops           ', self.drops),
                              ('  counters        ', self.counts)):
            say(wrap(head, ', '.join('%s %d' % kv for kv in sorted(counter.items()))))
        say('  late/stray      foreign side: %d late finals, %d stray responses' % (
            self.pending.late, self.pending.stray))
        for name, c in self.node_counters.items():
            say(wrap('  node %-10s ' % name, ', '.join('%s %s' % kv for kv in sorted(c.items()))))
        say('  VmRSS curve     (kB; warm-up %d s; conns/txns/fds of the proxy)' % WARMUP)
        lo = min(s[1] for s in self.samples)
        hi = max(s[1] for s in self.samples)
        say('    %6s %8s %5s %5s %5s' % ('t', 'VmRSS', 'conns', 'txns', 'fds'))
        for s in self.samples:
            bar = '#' * (1 + int(40 * (s[1] - lo) / max(1, hi - lo)))
            say('    %6s %8d %5d %5d %5d  %s' % (('end' if s[0] is None else '%.0fs' % s[0],)
                                                 + s[1:] + (bar,)))
        if self.rss_after:
            values = [s[1] for s in self.rss_after]
            say('  VmRSS after warm-up  min %d kB, max %d kB, first %d kB, last %d kB: growth '
                '%+d kB (limit %d kB)' % (min(values), max(values), values[0], values[-1],
                                          self.rss_growth, RSS_LIMIT_KB))
        say('  proxy at end    %s; exit status on SIGTERM: %s' % (
            'connections %(connections)d, transactions %(transactions)d' % self.final_status
            if self.final_status else 'no status', self.proxy_exit))
        levels, kinds = self.log_kinds()
        say('  proxy log       %s' % ', '.join('%s %d' % kv for kv in sorted(levels.items())))
        for (level, text), n in kinds.most_common(15):
            say('    %6d %-5s %s' % (n, level, text[:150]))
        if not ok or os.environ.get('SOAK_TIMELINE'):
            say('  timeline        (s since the load started)')
            for t, text in sorted(self.timeline):
                say('    %6.1f %s' % (t, text))
        say('  verdict         %s' % ('PASS' if ok else 'FAIL: ' + '; '.join(self.problems)))
        print('\n'.join(out), flush=True)

    def describe(self, items):
        return '; '.join('%s: %s (%s) at t=%.1fs, sent at t=%.1fs' % (
            kind, outcome, ('%d %s' % (status, reason)) if status else reason, self.t(t_end),
            self.t(t_sent)) for kind, outcome, t_sent, t_end, status, reason in items)


def wrap(head, text):
    return textwrap.fill(text, 100, initial_indent=head, subsequent_indent=' ' * len(head),
                         break_on_hyphens=False)


def main():
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    os.environ['PYTHONDONTWRITEBYTECODE'] = '1'
    h = None
    ok = False
    code = 1
    try:
        h = harness.Harness('soak', BASE)
        soak = Soak(h, minutes)
        soak.setup()
        try:
            asyncio.run(soak.run())
        except harness.Fail as e:
            soak.problem(str(e))
            soak.t_end = getattr(soak, 't_end', siplib.now())
        soak.t_done = siplib.now()
        soak.gather()
        ok = soak.verdict()
        soak.summary(ok)
        code = 0 if ok else 1
    except harness.Skip as e:
        print('soak: SKIP: %s' % e, flush=True)
        ok, code = True, 77
    except harness.Fail as e:
        print('soak: FAIL: %s' % e, file=sys.stderr, flush=True)
    finally:
        if h:
            h.cleanup(ok)
    return code


if __name__ == '__main__':
    sys.exit(main())
