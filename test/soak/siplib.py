"""siplib: what the soak's agents share (standard library only).

SIP messages are test/hostile/peer.py's: peer.Message parses them, and
peer.message builds the foreign edge's requests. On top of that, for
asyncio streams (TCP or TLS):

    conn = Conn(reader, writer, 'label')
    await conn.serve(on_request, on_response)   # until the connection ends
    (on_request must answer every request but ACK with answer_later)
    conn.send(request(...)); answer_later(rng, conn, response(msg, 200, 'OK'))
    conn.drop()                                 # abrupt: RST, no close_notify

Pending follows the requests an agent sent until their final response
(by the branch of their Via), and tells what became of each one: one of
OUTCOMES. The inside nodes (sipnode.py) run in processes of their own and
write a Journal (a line per request sent and per outcome); the soak
(soak.py) reads them back with replay() into a Tally, as it does with its
own outcomes.

Every wait here has a deadline: Pending.sweep() ends what nobody answered.
"""

import asyncio
import collections
import json
import os
import re
import socket
import ssl
import struct
import sys
import time

sys.dont_write_bytecode = True  # nothing written next to the imported code
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'hostile'))
import peer  # noqa: E402  (test/hostile/peer.py)

# What became of a request, in the order of the summary's columns:
#   2xx        answered 2xx
#   503, 408   answered so by the proxy (only right when its next hop was down)
#   other      any other final response
#   abandoned  its sender dropped its own connection (or was killed) first
#   lost       the other side closed the connection while it was pending
#   unanswered no final response within the deadline
OUTCOMES = ('2xx', '503', '408', 'other', 'abandoned', 'lost', 'unanswered')

# Agents answer after a random delay up to this long (seconds), so that
# there are requests in flight whenever a connection is dropped.
ANSWER_DELAY = 0.1

BRANCH = re.compile(r';\s*branch=([^;,\s]+)', re.I)
ENDED = (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError,
         OSError)


def now():
    """The soak's clock: CLOCK_MONOTONIC, the same in every process."""
    return time.monotonic()


def branch_of(msg):
    """The branch of a message's top Via (peer.Message), or None."""
    via = msg.header('via', 'v')
    m = BRANCH.search(via or '')
    return m.group(1) if m else None


def outcome_of(status):
    if 200 <= status < 300:
        return '2xx'
    if status in (503, 408):
        return str(status)
    return 'other'


async def read_message(reader):
    """The next SIP message on an asyncio stream (CRLF keep-alives
    skipped), as a peer.Message. Raises one of ENDED when the stream ends."""
    while True:
        head = (await reader.readuntil(b'\r\n\r\n')).lstrip(b'\r\n')
        if head:
            break
    length = int(peer.Message(head).header('content-length', 'l') or 0)
    body = await reader.readexactly(length) if length else b''
    return peer.Message(head + body)


def request(method, ruri, headers, body=b''):
    """A request (bytes): the start line, headers (str lines), a
    Content-Length, the body."""
    lines = ['%s %s SIP/2.0' % (method, ruri)] + list(headers)
    lines.append('Content-Length: %d' % len(body))
    return '\r\n'.join(lines).encode() + b'\r\n\r\n' + body


def response(req, status, reason, to_tag=None, extra=(), record_route=False):
    """A response (bytes, no body) to req (peer.Message): its Vias, From,
    To (with to_tag when it has none), Call-ID and CSeq; its Record-Route
    when record_route (a 2xx that makes a dialog); extra header lines."""
    to = req.header('to', 't') or ''
    if to_tag and ';tag=' not in to.lower():
        to += ';tag=' + to_tag
    lines = ['SIP/2.0 %d %s' % (status, reason)]
    lines += ['Via: ' + v for v in req.header_all('via', 'v')]
    if record_route:
        lines += ['Record-Route: ' + v for v in req.header_all('record-route')]
    lines += ['From: ' + (req.header('from', 'f') or ''), 'To: ' + to,
              'Call-ID: ' + (req.call_id or ''), 'CSeq: ' + (req.header('cseq') or '')]
    lines += list(extra)
    lines.append('Content-Length: 0')
    return '\r\n'.join(lines).encode() + b'\r\n\r\n'


def answer_later(rng, conn, data):
    """The answer to a request that came in on conn: conn.send(data) after
    up to ANSWER_DELAY seconds (rng: a random.Random); nothing goes when
    the connection is gone by then."""
    def send():
        conn.owed -= 1
        conn.send(data)
    asyncio.get_running_loop().call_later(rng.uniform(0, ANSWER_DELAY), send)


class Conn:
    """One SIP connection of an asyncio stream pair."""

    def __init__(self, reader, writer, label):
        self.reader = reader
        self.writer = writer
        self.label = label
        self.dropped = False  # we ended it on purpose (drop())
        self.closed = None    # why it ended, once it has
        self.owed = 0         # requests that came in on it and await our answer

    def usable(self):
        """Not ended, nor being ended (a drop() takes effect later)."""
        return not self.closed and not self.writer.transport.is_closing()

    def send(self, data):
        """Queues data; False when the connection is gone already."""
        if not self.usable():
            return False
        self.writer.write(data)
        return True

    def backlog(self):
        """Bytes written and not yet taken by the kernel."""
        return self.writer.transport.get_write_buffer_size()

    def drop(self):
        """Ends the connection abruptly: RST (SO_LINGER 0), no TLS close_notify."""
        self.dropped = True
        sock = self.writer.get_extra_info('socket')
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        except (OSError, AttributeError):
            pass
        self.writer.transport.abort()

    async def serve(self, on_request, on_response):
        """Hands each message to on_request(conn, msg) or on_response(msg)
        until the connection ends; then self.closed says why."""
        why = 'EOF'
        try:
            while True:
                msg = await read_message(self.reader)
                if msg.status is None:
                    self.owed += not msg.start.startswith('ACK ')
                    on_request(self, msg)
                else:
                    on_response(msg)
        except asyncio.IncompleteReadError:
            why = 'EOF'
        except ENDED as e:
            why = '%s: %s' % (type(e).__name__, e)
        finally:
            self.closed = 'dropped by us' if self.dropped else why
            self.writer.transport.abort()


class Pending:
    """The requests an agent sent that await a final response, by branch.
    on_outcome(branch, kind, outcome, t_sent, t_end, status, reason) hears
    the end of each one, once."""

    def __init__(self, deadline, on_outcome):
        self.deadline = deadline
        self.on_outcome = on_outcome
        self.open = {}       # branch -> [kind, t_sent, conn]
        self.given_up = set()  # branches swept as unanswered
        self.late = 0        # finals for requests already given up
        self.stray = 0       # responses that match nothing we sent

    def sent(self, branch, kind, conn):
        self.open[branch] = [kind, now(), conn]

    def end(self, branch, outcome, status=0, reason=''):
        kind, t_sent, _ = self.open.pop(branch)
        self.on_outcome(branch, kind, outcome, t_sent, now(), status, reason)

    def response(self, msg):
        """A response that came back; finals end their request."""
        if msg.status < 200:
            return
        branch = branch_of(msg)
        if branch in self.open:
            self.end(branch, outcome_of(msg.status), msg.status, msg.reason)
        elif branch in self.given_up:
            self.late += 1
        else:
            self.stray += 1

    def conn_ended(self, conn):
        """conn is gone: what was pending on it is abandoned (we dropped
        it) or lost (the other side closed it)."""
        for branch in [b for b, v in self.open.items() if v[2] is conn]:
            if conn.dropped:
                self.end(branch, 'abandoned', reason='own connection dropped')
            else:
                self.end(branch, 'lost', reason='connection closed: %s' % conn.closed)

    def sweep(self):
        """Ends as unanswered what waited longer than the deadline."""
        limit = now() - self.deadline
        for branch in [b for b, v in self.open.items() if v[1] < limit]:
            self.given_up.add(branch)
            self.end(branch, 'unanswered', reason='no final response in %g s' % self.deadline)


class Tally:
    """Outcomes by kind of request, with what the summary needs."""

    def __init__(self):
        self.rows = collections.defaultdict(collections.Counter)  # kind -> outcome -> n
        self.reasons = collections.Counter()                     # (outcome, status reason)
        self.faults = []    # (kind, outcome, t_sent, t_end, status, reason) for 503/408
        self.failures = []  # the same for other/lost/unanswered (first 50)
        self.n_failures = 0

    def record(self, kind, outcome, t_sent, t_end, status=0, reason=''):
        self.rows[kind][outcome] += 1
        if outcome != '2xx':
            self.reasons[(outcome, ('%d %s' % (status, reason)) if status else reason)] += 1
        item = (kind, outcome, t_sent, t_end, status, reason)
        if outcome in ('503', '408'):
            self.faults.append(item)
        elif outcome in ('other', 'lost', 'unanswered'):
            self.n_failures += 1
            if len(self.failures) < 50:
                self.failures.append(item)

    def merge(self, other):
        for kind, counts in other.rows.items():
            self.rows[kind].update(counts)
        self.reasons.update(other.reasons)
        self.faults += other.faults
        self.failures += other.failures[:max(0, 50 - len(self.failures))]
        self.n_failures += other.n_failures

    def sent(self):
        return sum(sum(c.values()) for c in self.rows.values())


class Journal:
    """An inside node's record, a line per event (tab-separated), written
    as it goes so that it outlives a SIGKILL:
        S t branch kind                 a request sent
        O t branch outcome status reason  its end
        E t text                        something the node did (a drop)
        C t {json}                      the node's counters so far
        Q t                             quiescent: stopped, nothing pending
    """

    def __init__(self, path):
        self.f = open(path, 'a', buffering=1)

    def line(self, *fields):
        self.f.write('\t'.join([fields[0], '%.3f' % now()] + [str(x) for x in fields[1:]]) + '\n')


def replay(path, tally, killed):
    """Feeds the outcomes of a node's journal into tally. Requests with no
    outcome were abandoned when the node was killed (killed=True), else
    unanswered. Returns (events, counters, quiescent)."""
    sent = {}
    events = []
    counters = {}
    quiet = False
    with open(path) as f:
        for line in f:
            p = line.rstrip('\n').split('\t')
            if len(p) < 2 or not line.endswith('\n'):
                continue  # a line cut short by a SIGKILL
            t = float(p[1])
            if p[0] == 'S':
                sent[p[2]] = (p[3], t)
            elif p[0] == 'O' and p[2] in sent:
                kind, t_sent = sent.pop(p[2])
                tally.record(kind, p[3], t_sent, t, int(p[4]), p[5] if len(p) > 5 else '')
            elif p[0] == 'E':
                events.append((t, p[2]))
            elif p[0] == 'C':
                counters = json.loads(p[2])
            elif p[0] == 'Q':
                quiet = True
    for kind, t_sent in sent.values():
        if killed:
            tally.record(kind, 'abandoned', t_sent, t_sent, 0, 'sender killed')
        else:
            tally.record(kind, 'unanswered', t_sent, t_sent, 0, 'no outcome in the journal')
    return events, counters, quiet


async def paced(rate, running, fire):
    """Calls fire() rate times a second, evenly, while running() is true
    (after a stall, at most 100 at once: the rest are skipped)."""
    start = now()
    due_before = 0
    while running():
        due = int((now() - start) * rate)
        for _ in range(min(due - due_before, 100)):
            fire()
        due_before = due
        await asyncio.sleep(0.01)
