"""harness: what the hostile tests share (standard library only).

    h = Harness('hostile-example', BASE_PORT)     # temp dir, PKI, ports
    h.start(proxy={...}, limits={...})            # config, proxy, sipp node
    h.good('before')                              # a well-behaved transaction
    ... the attack, assertions (h.check / h.fail) ...
    h.finish()                                    # SIGTERM: exit 0 wanted

run(main, name, base) runs main(h) and exits 0 (pass), 1 (fail: the logs
are printed and the temp dir kept) or 77 (skip). Every process the test
starts is recorded and stopped by its PID at the end; every wait is bounded.

Ports: BASE..BASE+19 belong to the test: BASE the proxy's mutual-TLS
listener, +1 its inside TCP listener, +2 the routing node (sipp), +3 the
/metrics endpoint, +4 a DNS port where nothing answers.

Addresses: attacks come from 127.0.0.1; the well-behaved foreign edge
(partner certificate) connects from 127.0.0.2, also loopback, so per-address
limits on the attacker do not touch it.
"""

import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import peer

ATTACKER = '127.0.0.1'
GOOD = '127.0.0.2'
HERE = os.path.dirname(os.path.abspath(__file__))


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def status_kb(pid, key):
    """A /proc/PID/status value in kB (VmRSS, VmHWM, ...)."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise Fail('no %s in /proc/%d/status' % (key, pid))


class GoodLoop:
    """The partner's MESSAGE at once and then every 0.5 s, in a thread,
    while an attack runs (at most 120 of them); finish() fails on any that
    failed."""

    def __init__(self, h):
        self.h = h
        self.stop = threading.Event()
        self.done = 0
        self.errors = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        for i in range(120):
            if i and self.stop.wait(0.5):
                return
            try:
                self.h.good('during %d' % i, timeout=5)
                self.done += 1
            except Fail as e:
                self.errors.append(str(e))

    def finish(self, what):
        """Stops the loop; returns how many MESSAGEs were answered."""
        self.stop.set()
        self.thread.join(10)
        self.h.check(not self.thread.is_alive(), '%s: the well-behaved peer is stuck' % what)
        self.h.check(not self.errors, '%s: %d well-behaved MESSAGEs failed during it: %s' %
                     (what, len(self.errors), self.errors[:3]))
        self.h.check(self.done > 0, '%s: no well-behaved MESSAGE completed during it' % what)
        return self.done


class Harness:
    def __init__(self, name, base):
        self.name = name
        self.base = base
        self.procs = {}        # name -> Popen
        self.logs = {}         # name -> log file
        self.dir = None
        self.expected = []     # Call-IDs the node must have received
        self.good_n = 0
        self.lock = threading.Lock()
        self.results = []      # lines for the summary
        self.failed = []       # cases that failed
        self.fedproxy = os.environ.get('FEDPROXY')
        if not self.fedproxy:
            raise Skip('FEDPROXY is not set (meson sets it)')
        if not os.access(self.fedproxy, os.X_OK):
            raise Fail('FEDPROXY=%s is not an executable' % self.fedproxy)
        self.fedproxy = os.path.realpath(self.fedproxy)
        self.ctl_exe = os.environ.get('FEDPROXYCTL') or os.path.join(
            os.path.dirname(self.fedproxy), 'fedproxyctl')
        self.source_root = os.environ.get('SOURCE_ROOT') or os.path.dirname(os.path.dirname(HERE))
        for tool in ('sipp', 'certtool', 'ss'):
            if not shutil.which(tool):
                raise Skip('%s is not installed' % tool)
        self.ext_port = base
        self.int_port = base + 1
        self.node_port = base + 2
        self.metrics_port = base + 3
        self.dns_port = base + 4
        busy = self.sh(['ss', '-Hltn', '( sport >= :%d and sport <= :%d )' % (base, base + 19)])
        if busy.strip():
            raise Fail('ports %d-%d are in use: %s' % (base, base + 19, busy.strip()))
        self.dir = tempfile.mkdtemp(prefix='hostile-%s.' % name)
        self.pki = os.path.join(self.dir, 'pki')
        self.mkpki()

    # --- small things ------------------------------------------------------

    def say(self, text):
        print('%s: %s' % (self.name, text), flush=True)

    def fail(self, text):
        raise Fail(text)

    def check(self, cond, text):
        if not cond:
            raise Fail(text)

    def result(self, text):
        """A line for the summary printed at the end (pass or fail)."""
        self.results.append(text)
        self.say(text)

    @contextlib.contextmanager
    def case(self, name):
        """One case of the test: a Fail inside ends the case, is recorded,
        and the test goes on with the next case (it fails at the end). A
        proxy that is gone fails the rest at once."""
        self.say('case %s ...' % name)
        try:
            yield
            self.alive()
        except Fail as e:
            self.failed.append('%s: %s' % (name, e))
            self.result('case %s: FAIL: %s' % (name, e))
            self.alive()
        else:
            self.result('case %s: ok' % name)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def sh(self, argv, timeout=30, check=False):
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True)
        if check and r.returncode != 0:
            raise Fail('%s exited %d: %s' % (' '.join(argv), r.returncode, r.stdout))
        return r.stdout

    # --- PKI -----------------------------------------------------------------

    def mkpki(self):
        self.sh([os.path.join(self.source_root, 'test/certs/mkpki.sh'), self.pki], check=True)

    def leaf(self, name, *dns_names):
        """One more edge certificate from the test intermediate (mkpki.sh --leaf)."""
        self.sh([os.path.join(self.source_root, 'test/certs/mkpki.sh'), '--leaf', self.pki,
                 name] + list(dns_names), check=True)

    def certtool(self, *args):
        return self.sh(['certtool'] + list(args), check=True)

    def cert(self, name):
        """(chain or cert, key) paths of a certificate of the PKI."""
        chain = self.path('pki', name + '-chain.pem')
        if not os.path.exists(chain):
            chain = self.path('pki', name + '.pem')
        return chain, self.path('pki', name + '.key')

    # --- processes -------------------------------------------------------------

    def spawn(self, name, argv, log):
        if name in self.procs:
            raise Fail('%s started twice' % name)
        self.logs[name] = log
        with open(log, 'ab') as out:
            self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, cwd='/')
        return self.procs[name]

    def stop(self, name, sig=signal.SIGTERM, wait=3):
        """Signals process name (one we started) and waits; SIGKILL after
        wait seconds. Returns its exit status (None: had to be killed)."""
        p = self.procs.pop(name, None)
        if not p:
            return None
        if p.poll() is None:
            p.send_signal(sig)
            try:
                return p.wait(wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
                return None
        return p.returncode

    def wait_listen(self, port, name, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.sh(['ss', '-Hltn', 'sport = :%d' % port]).strip():
                return
            if self.procs[name].poll() is not None:
                raise Fail('%s exited (%s) before listening on port %d' %
                           (name, self.procs[name].returncode, port))
            time.sleep(0.1)
        raise Fail('%s is not listening on port %d after %d s' % (name, port, seconds))

    # --- the proxy ---------------------------------------------------------------

    def config(self, **sections):
        """The config text: defaults for this test's ports, each keyword a
        section (underscores for spaces: domain_partner) whose dict is merged
        over the defaults (a value None drops the key)."""
        conf = {
            'proxy': {
                'public_fqdn': peer.PROXY_FQDN,
                'log_level': 'debug',
                'trace': 'yes',
                'max_message_size': '65536',
                'handshake_timeout': '3',
                'message_timeout': '4',
                'drain_timeout': '2',
                'route_secret': self.name + '-secret',
            },
            'external': {
                'listen': '127.0.0.1:%d' % self.ext_port,
                'certificate': 'pki/fedproxy-chain.pem',
                'key': 'pki/fedproxy.key',
                'ca_bundle': 'pki/ca.pem',
            },
            'internal': {'listen': '127.0.0.1:%d' % self.int_port, 'transport': 'tcp'},
            'node routing': {
                'address': '127.0.0.1:%d' % self.node_port,
                'transport': 'tcp',
                'role': 'routing',
            },
            'health': {'interval': '0'},
            'policy': {'local_domains': 'example.test'},
            'domain ' + peer.PARTNER_DOMAIN: {
                'direction': 'both',
                'peer_names': peer.PARTNER_FQDN,
            },
            'limits': {},
            'control': {
                'socket': self.path('control.sock'),
                'metrics': '127.0.0.1:%d' % self.metrics_port,
            },
            'dns': {'servers': '127.0.0.1:%d' % self.dns_port},
        }
        for key, values in sections.items():
            sec = key.replace('_', ' ', 1) if key.startswith('domain_') else key
            conf.setdefault(sec, {}).update(values)
        out = ['; %s: written by test/hostile/harness.py' % self.name]
        for sec, values in conf.items():
            out.append('[%s]' % sec)
            out += ['%s = %s' % (k, v) for k, v in values.items() if v is not None]
            out.append('')
        return '\n'.join(out)

    def write_config(self, **sections):
        self.conf = self.path('fedproxy.conf')
        with open(self.conf + '.new', 'w') as f:
            f.write(self.config(**sections))
        os.replace(self.conf + '.new', self.conf)

    def start(self, node=True, **sections):
        """Config (write_config), fedproxy -t, the proxy, the routing node."""
        self.write_config(**sections)
        r = subprocess.run([self.fedproxy, '-c', self.conf, '-t'], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        if r.returncode != 0:
            raise Fail('fedproxy -t refused the config: %s' % r.stdout)
        self.proxy_log = self.path('proxy.log')
        self.proxy = self.spawn('proxy', [self.fedproxy, '-c', self.conf], self.proxy_log)
        self.wait_listen(self.ext_port, 'proxy')
        self.wait_listen(self.int_port, 'proxy')
        if node:
            self.start_node()

    def start_node(self):
        self.node_msg = self.path('node.msg')
        self.spawn('node', ['sipp', '-sf', os.path.join(HERE, 'node.xml'), '-t', 't1',
                            '-i', '127.0.0.1', '-p', str(self.node_port), '-nostdin',
                            '-max_socket', '64', '-timeout', '300', '-trace_msg',
                            '-message_file', self.node_msg, '-trace_err', '-error_file',
                            self.path('node.err')], self.path('node.out'))
        self.wait_listen(self.node_port, 'node')

    def alive(self):
        """The proxy is still running (a crash fails the test here)."""
        rc = self.proxy.poll()
        if rc is not None:
            raise Fail('fedproxy is gone: exit status %d%s' % (
                rc, ' (signal %s)' % signal.Signals(-rc).name if rc < 0 else ''))

    def rss(self):
        """(VmRSS, VmHWM) of the proxy in kB."""
        self.alive()
        return status_kb(self.proxy.pid, 'VmRSS'), status_kb(self.proxy.pid, 'VmHWM')

    def sanitized(self):
        """The proxy runs with AddressSanitizer (libasan mapped)."""
        with open('/proc/%d/maps' % self.proxy.pid) as f:
            return 'libasan' in f.read()

    def rss_bounded(self, case, before, limit_kb):
        """Asserts that VmRSS grew by less than limit_kb since before (a
        value of rss()); records the figures. Returns the growth."""
        after = self.rss()
        grow = after[0] - before[0]
        self.result('%s: VmRSS %d kB -> %d kB (%+d kB; limit +%d), VmHWM %d kB -> %d kB' %
                    (case, before[0], after[0], grow, limit_kb, before[1], after[1]))
        if self.sanitized():
            self.result('%s: memory bound not asserted: AddressSanitizer build (its quarantine '
                        'keeps freed memory)' % case)
            return grow
        self.check(grow < limit_kb, '%s: VmRSS grew by %d kB (from %d to %d kB), limit %d kB' %
                   (case, grow, before[0], after[0], limit_kb))
        return grow

    def log(self):
        with open(self.proxy_log, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def log_count(self, regex, since=0):
        """Lines of proxy.log (after the first `since` lines) matching regex."""
        lines = self.log().splitlines()[since:]
        return len([x for x in lines if re.search(regex, x)])

    def log_about(self, local, limit=6):
        """The proxy's log lines (not message traces) about the peer at
        local (ip, port): for failure messages."""
        at = '%s:%d' % tuple(local[:2])
        lines = [x for x in self.log().splitlines()
                 if re.match(r'\d{4}-\d\d-\d\dT', x) and re.search(re.escape(at) + r'\b', x)
                 and ' trace ' not in x]
        return ('; proxy log: ' + ' | '.join(lines[-limit:])) if lines else '; proxy log: nothing'

    def log_mark(self):
        return len(self.log().splitlines())

    def wait_log(self, regex, seconds, since=0, count=1):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.log_count(regex, since) >= count:
                return
            time.sleep(0.1)
        raise Fail('proxy.log: %d line(s) matching /%s/ wanted after %d s, found %d' %
                   (count, regex, seconds, self.log_count(regex, since)))

    def finish(self):
        """The proxy must stop on SIGTERM with exit 0; the node must have
        received exactly the expected requests; then the test passes."""
        try:
            self.check_node()
        except Fail as e:
            self.failed.append(str(e))
            self.result('FAIL: %s' % e)
        rc = self.stop('proxy', wait=10)
        self.check(rc == 0, 'fedproxy exited %s on SIGTERM (None: killed after 10 s)' % rc)
        if self.failed:
            raise Fail('%d case(s) failed:\n  %s' % (len(self.failed), '\n  '.join(self.failed)))

    # --- the well-behaved peer and the node -----------------------------------------

    def partner(self, source=GOOD, cert='partner', **kw):
        """A TLS connection with a certificate of the PKI (default the
        partner's), from source."""
        chain, key = self.cert(cert)
        return peer.Peer(self.ext_port, cert=chain, key=key, ca=self.path('pki', 'ca.pem'),
                         source=source, **kw)

    def good(self, label, timeout=5):
        """A well-behaved transaction: a MESSAGE from the partner's edge (its
        certificate, from 127.0.0.2) gets 200 from the routing node through
        the proxy. Returns the seconds it took."""
        with self.lock:
            self.good_n += 1
            n = self.good_n
        cid = 'good-%d-%s@%s' % (n, re.sub(r'[^A-Za-z0-9.+-]+', '-', label), self.name)
        start = time.monotonic()
        try:
            with self.partner() as p:
                p.send(peer.message(cid))
                answer = p.read_message(timeout)
        except (peer.Closed, peer.Timeout, OSError) as e:
            raise Fail('well-behaved MESSAGE %s (%s): no answer: %s' % (cid, label, e))
        took = time.monotonic() - start
        self.check(answer.status == 200 and answer.call_id == cid,
                   'well-behaved MESSAGE %s (%s): got %r (Call-ID %s), want 200' %
                   (cid, label, answer.start, answer.call_id))
        self.expected.append(cid)
        return took

    def good_loop(self):
        """A GoodLoop: well-behaved MESSAGEs every 0.5 s until its finish()."""
        return GoodLoop(self)

    def expect_at_node(self, call_id):
        self.expected.append(call_id)

    def node_requests(self):
        """[(start line, Call-ID, raw bytes)] of the requests the node received
        (sipp's -trace_msg file)."""
        if not os.path.exists(self.path('node.msg')):
            return []
        with open(self.path('node.msg'), 'rb') as f:
            data = f.read()
        out = []
        # Each entry: a dashed line, "TCP message received [N] bytes :", a
        # blank line, then the N bytes as they came.
        for m in re.finditer(rb'message received \[(\d+)\] bytes :\n\n', data):
            raw = data[m.end():m.end() + int(m.group(1))]
            msg = peer.Message(raw)
            if msg.status is None:
                out.append((msg.start, msg.call_id, raw))
        return out

    def node_call_ids(self, seconds=3):
        """The Call-IDs the node received, once the expected ones are all in
        (sipp writes its trace as it goes; waits up to seconds)."""
        deadline = time.monotonic() + seconds
        while True:
            got = [cid for _, cid, _ in self.node_requests()]
            if all(c in got for c in self.expected) or time.monotonic() > deadline:
                return got
            time.sleep(0.2)

    def check_node(self):
        got = self.node_call_ids()
        self.check(sorted(got) == sorted(self.expected),
                   'requests at the routing node: got %s, want exactly %s' %
                   (got, self.expected))

    # --- counters ------------------------------------------------------------------

    def ctl(self, *args):
        r = subprocess.run([self.ctl_exe, '-s', self.path('control.sock')] + list(args),
                           capture_output=True, text=True, timeout=10)
        return r.returncode, r.stdout + r.stderr

    def stats(self):
        """`fedproxyctl stats` as text; fails when it fails."""
        rc, out = self.ctl('stats')
        self.check(rc == 0, 'fedproxyctl stats exited %d: %s' % (rc, out))
        return out

    def metrics(self):
        c = http.client.HTTPConnection('127.0.0.1', self.metrics_port, timeout=5)
        c.request('GET', '/metrics')
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        self.check(r.status == 200, 'GET /metrics: HTTP %d' % r.status)
        return body

    # --- end -------------------------------------------------------------------------

    def cleanup(self, ok):
        for name in list(self.procs):
            self.stop(name)
        if not self.dir:
            return
        if not ok:
            self.dump()
            self.say('logs kept in %s' % self.dir)
        elif os.environ.get('KEEP_TEMP'):
            self.say('logs kept in %s' % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dump(self):
        for name in ('fedproxy.conf', 'proxy.log', 'node.err', 'node.msg'):
            p = self.path(name)
            if not os.path.exists(p) or os.path.getsize(p) == 0:
                continue
            with open(p, 'rb') as f:
                lines = f.read().decode('utf-8', 'replace').splitlines()
            print('\n===== %s (last 200 lines of %d) =====' % (name, len(lines)), file=sys.stderr)
            print('\n'.join(lines[-200:]), file=sys.stderr)


def run(main, name, base):
    """Runs main(h) for a Harness(name, base); exits 0, 1 or 77."""
    h = None
    ok = False
    try:
        h = Harness(name, base)
        main(h)
        h.finish()
        ok = True
        h.say('PASS')
        code = 0
    except Skip as e:
        print('%s: SKIP: %s' % (name, e), flush=True)
        ok = True
        code = 77
    except Fail as e:
        print('%s: FAIL: %s' % (name, e), file=sys.stderr, flush=True)
        code = 1
    except Exception:
        traceback.print_exc()
        print('%s: FAIL: unexpected error in the test' % name, file=sys.stderr, flush=True)
        code = 1
    finally:
        if h:
            h.cleanup(ok)
            if h.results:
                print('%s: summary:\n  %s' % (name, '\n  '.join(h.results)), flush=True)
    sys.exit(code)
