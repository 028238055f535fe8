"""peer: a foreign edge as the hostile tests need one (standard library only).

A Peer is one stream connection to the proxy: TLS with an optional client
certificate (the proxy's certificate is verified against the test CA and its
name), or plain TCP (the inside listener, or raw bytes to the TLS port). It
sends bytes as they are given and reads SIP messages back, counting the CRLF
keep-alive pongs that come before them.

    p = Peer(port, cert='pki/partner-chain.pem', key='pki/partner.key',
             ca='pki/ca.pem', source='127.0.0.2')
    p.send(message('id-1'))
    answer = p.read_message(5)        # Message, or raises Closed / Timeout

Every wait has a deadline: nothing here blocks longer than the timeout given.
"""

import re
import select
import selectors
import socket
import ssl
import time

PROXY_FQDN = 'fedproxy.example.test'
PARTNER_DOMAIN = 'partner.example.test'
PARTNER_FQDN = 'edge.' + PARTNER_DOMAIN
FOREIGN_URI = 'sip:alice@' + PARTNER_DOMAIN
LOCAL_URI = 'sip:bob@example.test'


class Closed(Exception):
    """The connection ended (EOF, reset, or a TLS alert); .data: what came
    before it that did not form a message."""

    def __init__(self, why, data=b''):
        super().__init__(why)
        self.why = why
        self.data = data


class Timeout(Exception):
    """Nothing complete arrived before the deadline."""


class Message:
    """One SIP message as read: start line, headers (name, value) in order,
    body, and the raw bytes."""

    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b'\r\n\r\n')
        lines = head.split(b'\r\n')
        self.start = lines[0].decode('latin-1')
        self.headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b':')
            self.headers.append((name.strip().decode('latin-1').lower(),
                                 value.strip().decode('latin-1')))

    @property
    def status(self):
        """The status code of a response, else None."""
        parts = self.start.split(' ', 2)
        if parts[0] == 'SIP/2.0' and len(parts) > 1 and parts[1].isdigit():
            return int(parts[1])
        return None

    @property
    def reason(self):
        parts = self.start.split(' ', 2)
        return parts[2] if self.status is not None and len(parts) > 2 else ''

    def header(self, *names):
        """The first value of a header spelt one of names (lower case)."""
        for n, v in self.headers:
            if n in names:
                return v
        return None

    def header_all(self, *names):
        return [v for n, v in self.headers if n in names]

    @property
    def call_id(self):
        return self.header('call-id', 'i')

    def __repr__(self):
        return '<Message %r>' % self.start


def tls_context(ca=None, cert=None, key=None, max_version=None, min_version=None,
                ciphers=None):
    """A client context: verifies the proxy against ca (by PROXY_FQDN),
    presents cert/key when given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        ctx.load_verify_locations(ca)
        ctx.check_hostname = True
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    if ciphers:
        ctx.set_ciphers(ciphers)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def client_hello(server_name=PROXY_FQDN):
    """The bytes of a real TLS ClientHello (as a client would send first)."""
    ctx = tls_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=server_name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def tcp_connect(port, source=None, host='127.0.0.1', timeout=5.0):
    """A plain TCP connection to host:port, from source (an IP) when given."""
    return socket.create_connection((host, port), timeout,
                                    source_address=(source, 0) if source else None)


def wait_eof(sock, timeout):
    """Reads sock until the peer ends it or timeout seconds pass. Returns
    (closed, data, seconds waited): closed is True on EOF, reset or a TLS
    error; data is whatever arrived (e.g. an alert, a 400)."""
    start = time.monotonic()
    deadline = start + timeout
    data = b''
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, data, time.monotonic() - start
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return False, data, time.monotonic() - start
        except (ssl.SSLError, OSError):
            return True, data, time.monotonic() - start
        if not chunk:
            return True, data, time.monotonic() - start
        data += chunk


def watch_eofs(socks, deadline):
    """Waits (until time.monotonic() reaches deadline) for the peer to end
    each of socks. Returns {sock: (monotonic time it ended or None, bytes
    received before)}; a reset counts as an end. Reads what arrives."""
    sel = selectors.DefaultSelector()
    ended = {}
    for s in socks:
        s.setblocking(False)
        ended[s] = [None, b'']
        sel.register(s, selectors.EVENT_READ)
    try:
        while sel.get_map() and time.monotonic() < deadline:
            for key, _ in sel.select(max(0.0, min(0.5, deadline - time.monotonic()))):
                s = key.fileobj
                try:
                    chunk = s.recv(65536)
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
                except OSError:
                    chunk = b''
                if chunk:
                    ended[s][1] += chunk
                    continue
                ended[s][0] = time.monotonic()
                sel.unregister(s)
    finally:
        sel.close()
    return {s: tuple(v) for s, v in ended.items()}


class Peer:
    """One connection to the proxy. With tls (the default) the handshake
    runs in the constructor and its errors (ssl.SSLError, OSError) reach the
    caller."""

    def __init__(self, port, *, cert=None, key=None, ca=None, source=None,
                 host='127.0.0.1', tls=True, timeout=5.0, server_name=PROXY_FQDN,
                 context=None):
        self.raw = tcp_connect(port, source, host, timeout)
        self.local = self.raw.getsockname()
        self.sock = self.raw
        self.buf = b''
        self.pongs = 0
        self.closed = None
        try:
            if tls:
                ctx = context or tls_context(ca, cert, key)
                self.sock = ctx.wrap_socket(self.raw, server_hostname=server_name)
        except BaseException as e:
            e.local = self.local  # for the caller's messages
            self.raw.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        """Sends all of data; False when the connection is already gone."""
        try:
            self.sock.settimeout(10)
            self.sock.sendall(data)
            return True
        except (ssl.SSLError, OSError):
            return False

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout('nothing complete within the deadline')
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            raise Timeout('nothing complete within the deadline') from None
        except ssl.SSLError as e:
            self.closed = 'TLS error: %s' % e
            raise Closed(self.closed, self.buf) from None
        except OSError as e:
            self.closed = 'error: %s' % e
            raise Closed(self.closed, self.buf) from None
        if not chunk:
            self.closed = 'EOF'
            raise Closed('EOF', self.buf)
        self.buf += chunk

    def read_message(self, timeout=5.0):
        """The next SIP message (CRLF pongs before it are counted in
        self.pongs); raises Closed or Timeout."""
        deadline = time.monotonic() + timeout
        while True:
            while self.buf[:2] == b'\r\n':
                self.buf = self.buf[2:]
                self.pongs += 1
            end = self.buf.find(b'\r\n\r\n')
            if end > 0:
                head = Message(self.buf[:end + 4])
                length = int(head.header('content-length', 'l') or 0)
                total = end + 4 + length
                if len(self.buf) >= total:
                    raw, self.buf = self.buf[:total], self.buf[total:]
                    return Message(raw)
            self._fill(deadline)

    def read_until_closed(self, timeout):
        """Messages until the connection ends: (messages, closed, leftover
        bytes). closed is False when timeout passed first."""
        deadline = time.monotonic() + timeout
        msgs = []
        while True:
            try:
                msgs.append(self.read_message(max(deadline - time.monotonic(), 0)))
            except Closed as e:
                return msgs, True, e.data
            except Timeout:
                return msgs, False, self.buf

    def wait_closed(self, timeout):
        """wait_eof on this connection (after whatever is buffered)."""
        closed, data, waited = wait_eof(self.sock, timeout)
        return closed, self.buf + data, waited


def message(call_id, *, from_uri=FOREIGN_URI, to_uri=LOCAL_URI, body=b'Hello.',
            extra=(), method='MESSAGE', request_uri=None, content_type=b'text/plain',
            via_host=PARTNER_FQDN, content_length=None, from_header=None):
    """A request (bytes) from the foreign user to the local user. extra:
    more header lines (bytes or str, without CRLF) after the usual ones;
    from_header replaces the whole From value."""
    def b(s):
        return s if isinstance(s, bytes) else s.encode()
    ruri = b(request_uri or to_uri)
    cid = b(call_id)
    token = re.sub(rb"[^A-Za-z0-9.!%*_+`'~-]", b'-', cid)  # for branch and tag
    lines = [
        b'%s %s SIP/2.0' % (b(method), ruri),
        b'Via: SIP/2.0/TLS %s:5061;branch=z9hG4bK-%s;rport' % (b(via_host), token),
        b'Max-Forwards: 70',
        b'From: ' + (b(from_header) if from_header is not None
                     else b'<%s>;tag=t-%s' % (b(from_uri), token)),
        b'To: <%s>' % b(to_uri),
        b'Call-ID: ' + cid,
        b'CSeq: 1 ' + b(method),
    ]
    lines += [b(x) for x in extra]
    if body and content_type:
        lines.append(b'Content-Type: ' + b(content_type))
    lines.append(b'Content-Length: ' + (b(str(len(body))) if content_length is None
                                        else b(content_length)))
    return b'\r\n'.join(lines) + b'\r\n\r\n' + body


def pump(sock, data, on_data, timeout, may_send=None):
    """Sends data on a non-blocking socket (TLS or not) while reading what
    comes back, handing each chunk read to on_data; may_send(bytes sent so
    far), when given, holds sending back while it is false (flow control).
    Returns (bytes sent, why it stopped: 'sent', 'closed: ...' or
    'timeout')."""
    sock.setblocking(False)
    view = memoryview(data)
    sent = 0
    deadline = time.monotonic() + timeout
    why = 'timeout'
    try:
        while time.monotonic() < deadline:
            want_write = sent < len(view)
            if not want_write:
                why = 'sent'
                break
            writing = [sock] if may_send is None or may_send(sent) else []
            r, w, _ = select.select([sock], writing, [], 0.5)
            if r or (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                try:
                    while True:
                        chunk = sock.recv(65536)
                        if not chunk:
                            return sent, 'closed: EOF'
                        on_data(chunk)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    pass
                except (ssl.SSLError, OSError) as e:
                    return sent, 'closed: %s' % e
            if w:
                try:
                    sent += sock.send(view[sent:sent + 16384])
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    pass
                except (ssl.SSLError, OSError) as e:
                    return sent, 'closed: %s' % e
        return sent, why
    finally:
        sock.setblocking(True)


def drain(sock, on_data, quiet, timeout):
    """Reads sock until nothing has come for quiet seconds (or timeout):
    each chunk goes to on_data. Returns 'quiet', 'timeout' or 'closed: ...'."""
    deadline = time.monotonic() + timeout
    while True:
        now = time.monotonic()
        if now >= deadline:
            return 'timeout'
        sock.settimeout(min(quiet, deadline - now))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return 'quiet' if time.monotonic() < deadline else 'timeout'
        except (ssl.SSLError, OSError) as e:
            return 'closed: %s' % e
        if not chunk:
            return 'closed: EOF'
        on_data(chunk)


def random_bytes(n, seed):
    """n bytes from a seeded generator: the same garbage on every run."""
    import random
    return random.Random(seed).randbytes(n)


__all__ = ['Peer', 'Message', 'Closed', 'Timeout', 'message', 'client_hello',
           'tcp_connect', 'wait_eof', 'watch_eofs', 'tls_context', 'pump', 'drain', 'random_bytes',
           'PROXY_FQDN', 'PARTNER_DOMAIN', 'PARTNER_FQDN', 'FOREIGN_URI', 'LOCAL_URI']
