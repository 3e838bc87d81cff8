"""Real syslog clients for sluice's end-to-end tests: private rsyslogd and
syslog-ng instances, a test CA, a minimal RELP client, and checks of a stream
of thousands of distinct messages (python3 standard library only).

Every client runs as a private instance in the test's work dir, with its own
config, pid file, work/persist files and state; never the system service.

  rsyslogd       Debian's rsyslog, rsyslog-relp (omrelp), rsyslog-openssl
                 (StreamDriver "ossl") and rsyslog-gnutls ("gtls").
  syslog-ng      Debian's syslog-ng-core, which conflicts with rsyslog as a
                 package, so scripts/install_syslog_ng.sh unpacks it into
                 $SLUICE_SYSLOG_NG_DIR (default /opt/sluice-test/syslog-ng);
                 it runs from there with --module-path and LD_LIBRARY_PATH.
  openssl        for tests/tls_test_ca.sh, which makes the test CA.

scripts/install_deps.sh --test installs all of them. A missing one fails
the test (harness.ToolMissing), it never skips.
"""

import glob
import os
import re
import resource
import signal
import socket
import ssl
import subprocess

import harness
from harness import check, log

SECOND = 1_000_000_000
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTALL_HINT = "run scripts/install_deps.sh --test"

SYSLOG_NG_DIR = os.environ.get("SLUICE_SYSLOG_NG_DIR", "/opt/sluice-test/syslog-ng")

# rsyslog and syslog-ng are quick to start; generous for a loaded CI box.
CLIENT_START_TIMEOUT_S = 15.0
CLIENT_STOP_TIMEOUT_S = 15.0
# How long a stream of a few thousand messages may take to be all searchable.
STREAM_TIMEOUT_S = 30.0
# UDP streams go a chunk at a time, each waited for: no drops from a burst.
UDP_CHUNK = 500


# ---------------------------------------------------------------- sluice


def start_sluice(ctx, tls=None, client_ca=False, require_client_cert=False, relp=False,
                 config_text=None, data_dir=None, ports=None, attempts=3):
    """Starts `sluice serve` with the syslog TCP/UDP and HTTP listeners and,
    as asked, the TLS (`tls`: a TestCa) and RELP listeners.

    `ports` (from a server started earlier) restarts on the same ports; else
    free ones are picked, and picked again if the server finds one taken.
    The returned harness.Server also has .tls_port, .relp_port, .ports and
    .start_kwargs (to restart it with restart_sluice).
    """
    config_path = None
    if config_text is not None:
        config_path = os.path.join(ctx.workdir, f"sluice-{harness.Server._count + 1}.yaml")
        with open(config_path, "w", encoding="utf-8") as f:
            f.write(config_text)
    last_error = None
    for attempt in range(1, attempts + 1):
        chosen = dict(ports) if ports else {
            "syslog": harness.free_port(), "http": harness.free_port(),
            "tls": harness.free_port() if tls else None,
            "relp": harness.free_port() if relp else None}
        extra = []
        if config_path:
            extra += ["--config", config_path]
        if tls:
            extra += ["--syslog-tls", f"127.0.0.1:{chosen['tls']}",
                      "--tls-cert", tls.server_cert, "--tls-key", tls.server_key]
            if client_ca:
                extra += ["--tls-client-ca", tls.ca]
            if require_client_cert:
                extra += ["--tls-require-client-cert"]
        if relp:
            extra += ["--relp", f"127.0.0.1:{chosen['relp']}"]
        server = ctx.server(data_dir=data_dir, syslog_port=chosen["syslog"],
                            http_port=chosen["http"], extra_args=extra)
        server.tls_port = chosen["tls"]
        server.relp_port = chosen["relp"]
        server.ports = chosen
        server.start_kwargs = dict(tls=tls, client_ca=client_ca,
                                   require_client_cert=require_client_cert, relp=relp,
                                   config_text=config_text)
        try:
            return server.start(attempts=1)
        except harness.CheckFailed as error:
            last_error = error
            clash = re.search(r"in use|EADDRINUSE", str(error), re.I)
            if ports or not clash or attempt == attempts:
                raise
            log("  note ports were taken meanwhile, retrying on new ports")
    raise last_error


def restart_sluice(ctx, server):
    """A new server process on `server`'s data dir and ports (after a kill or stop)."""
    return start_sluice(ctx, data_dir=server.data_dir, ports=server.ports, **server.start_kwargs)


def kill_sluice(server):
    """SIGKILL: no drain, no flush. Returns once the process is gone."""
    check(server.running(), f"{server.name} is running before SIGKILL")
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)


def counter(server, name, **labels):
    value = server.metrics().value(name, **labels)
    return 0.0 if value is None else value


def raise_fd_limit(wanted):
    """Raises this process's (and so its children's) open-file limit to `wanted`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY and hard < wanted:
        raise harness.CheckFailed(f"RLIMIT_NOFILE hard limit {hard} < {wanted} needed by the test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


# ---------------------------------------------------------------- TLS


class TestCa:
    """A CA, a server certificate for localhost and 127.0.0.1, and a client
    certificate, as made by tests/tls_test_ca.sh."""

    def __init__(self, ca, server_cert, server_key, client_cert, client_key):
        self.ca = ca
        self.server_cert = server_cert
        self.server_key = server_key
        self.client_cert = client_cert
        self.client_key = client_key

    def wrap(self, raw, with_client_cert=False):
        """A TLS client on the connected socket `raw` that verifies the server
        against the CA and the name localhost; handshakes at once."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca)
        if with_client_cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context.wrap_socket(raw, server_hostname="localhost")


def make_test_ca(ctx, name="sluice test"):
    """A fresh CA with server (localhost, 127.0.0.1) and client certificates,
    made by tests/tls_test_ca.sh in the test's work dir."""
    harness.require_tool("openssl", f"Debian package openssl; {INSTALL_HINT}")
    directory = os.path.join(ctx.workdir, "ca")
    script = os.path.join(REPO_ROOT, "tests", "tls_test_ca.sh")
    harness.run_cmd(["bash", script, directory, name], timeout=60)
    ca = TestCa(*(os.path.join(directory, f) for f in (
        "ca.pem", "server.pem", "server.key", "client.pem", "client.key")))
    for path in vars(ca).values():
        check(os.path.isfile(path), f"tls_test_ca.sh wrote {os.path.basename(path)}")
    return ca


def tls_close(tls):
    """Closes a client TLS connection the way real senders do: close_notify,
    then read until the server has closed too. A plain close() with unread
    data (TLS 1.3 session tickets) resets the connection, and a reset makes
    the server's kernel drop what the server had not read yet."""
    try:
        raw = tls.unwrap()
    except (ssl.SSLError, OSError):
        raw = None
    if raw is not None:
        raw.settimeout(10)
        try:
            while raw.recv(65536):
                pass
        except OSError:
            pass
        raw.close()
    tls.close()


def rfc5424_now():
    """The current time as an RFC5424 TIMESTAMP: UTC, at most 6 fraction digits."""
    text = harness.format_rfc3339_ns(harness.now_ns())  # ...SS.nnnnnnnnnZ
    return text[:-4] + "Z"


# ---------------------------------------------------------------- streams


class Stream:
    """`count` distinct messages from one sender, and what each must look like
    once stored: one event per message, with these attributes.

    Message i is "<token> seq=<i> <tail>"; the token (the run's marker plus
    the stream's name) is a bare word the search finds. `precision_ns` is the
    timestamp resolution the sender's format carries (1 s for RFC3164).
    """

    TAIL = "user=alice action=login result=ok caf\u00e9 \u00fcber"

    def __init__(self, marker, name, count, host, app, severity, facility, input,
                 precision_ns=1000):
        self.token = f"{marker}{name}"
        self.name = name
        self.count = count
        self.expected = {"host": host, "app": app, "severity": severity,
                         "facility": facility, "input": input}
        self.precision_ns = precision_ns
        self.sent_lo = None  # ns: before the first message left the test
        self._seq = re.compile(re.escape(self.token) + r" seq=(\d+) ")

    def message(self, i):
        return f"{self.token} seq={i:05d} {self.TAIL}"

    def lines(self, start=0, stop=None):
        return [self.message(i) for i in range(start, self.count if stop is None else stop)]

    def write_file(self, path, start=0, stop=None):
        """Appends messages [start, stop) to `path`, one per line, and flushes."""
        if self.sent_lo is None:
            self.sent_lo = harness.now_ns()
        with open(path, "a", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in self.lines(start, stop)))

    def seq_of(self, event):
        match = self._seq.match(event.get("message") or "")
        return int(match.group(1)) if match else None

    def collect(self, server):
        """{seq: [events]} of what the search finds now for this stream's token."""
        by_seq = {}
        for event in server.search_events(self.token, limit=10000):
            seq = self.seq_of(event)
            by_seq.setdefault(seq, []).append(event)
        return by_seq

    def wait_all(self, server, timeout=STREAM_TIMEOUT_S):
        """Waits until every message is found; returns {seq: [events]}.

        On timeout, fails naming how many and which are missing.
        """
        return self.wait_prefix(server, self.count, timeout)

    def wait_prefix(self, server, stop, timeout=STREAM_TIMEOUT_S):
        """Waits until messages [0, stop) are all found; returns {seq: [events]}."""
        state = {}

        def complete():
            state["by_seq"] = self.collect(server)
            return all(i in state["by_seq"] for i in range(stop))

        try:
            harness.wait_until(complete, timeout, f"messages 0-{stop - 1} of {self.token}",
                               max_interval=0.5)
        except harness.CheckFailed:
            by_seq = state.get("by_seq", {})
            missing = [i for i in range(stop) if i not in by_seq]
            raise harness.CheckFailed(
                f"[{self.name}] {len(missing)} of {stop} messages not found within "
                f"{timeout:.0f}s; missing seq {summarize(missing)}") from None
        return state["by_seq"]

    def write_file_chunked(self, server, path, chunk=None):
        """Appends the stream to `path` a chunk at a time, waiting until each
        chunk is stored before the next: a lossless pace for UDP, whose
        bursts can overflow a loaded machine's socket buffers."""
        chunk = chunk or UDP_CHUNK
        for start in range(0, self.count, chunk):
            stop = min(start + chunk, self.count)
            self.write_file(path, start, stop)
            self.wait_prefix(server, stop)

    def verify(self, by_seq, found_ns=None, allow_duplicates=False, allow_missing=False):
        """Checks each message is there once (duplicates allowed if asked:
        counted and returned; missing ones too, for plain TCP across a crash)
        with the expected attributes and a timestamp in the send window.
        Returns the sequence numbers stored more than once."""
        found_ns = found_ns or harness.now_ns()
        label = f"[{self.name}]"
        strays = by_seq.get(None, [])
        check(not strays, f"{label} every event found by the token is one of ours",
              repr(strays[:3])[:600])
        missing = [i for i in range(self.count) if i not in by_seq]
        if not allow_missing:
            check(not missing, f"{label} all {self.count} messages stored",
                  f"missing {len(missing)}: seq {summarize(missing)}")
        duplicates = sorted(seq for seq, events in by_seq.items()
                            if seq is not None and len(events) > 1)
        if not allow_duplicates:
            check(not duplicates, f"{label} each message stored exactly once",
                  f"{len(duplicates)} stored more than once: seq {summarize(duplicates)}")
        events = [(seq, e) for seq, found in sorted(by_seq.items(), key=lambda kv: kv[0])
                  for e in found]
        for key, value in self.expected.items():
            wrong = [(seq, e.get(key)) for seq, e in events if e.get(key) != value]
            check(not wrong, f"{label} {key} is {value!r} on every event",
                  f"{len(wrong)} differ, e.g. {wrong[:5]}")
        wrong = [(seq, e.get("message")) for seq, e in events
                 if e.get("message") != self.message(seq)]
        check(not wrong, f"{label} message is exactly the text sent, on every event",
              f"{len(wrong)} differ, e.g. expected {self.message(wrong[0][0])!r}, "
              f"got {wrong[0][1]!r}" if wrong else None)
        lo = self.sent_lo - self.sent_lo % self.precision_ns
        hi = found_ns + SECOND
        stamps = []
        wrong = []
        for seq, e in events:
            try:
                ns = harness.parse_rfc3339_ns(e.get("timestamp"))
            except harness.CheckFailed:
                wrong.append((seq, e.get("timestamp")))
                continue
            stamps.append(ns)
            if not (lo <= ns <= hi and str(e["timestamp"]).endswith("Z")):
                wrong.append((seq, e.get("timestamp")))
        check(not wrong, f"{label} timestamp is UTC and within the send window on every event",
              f"{len(wrong)} outside [{harness.format_rfc3339_ns(lo)}, "
              f"{harness.format_rfc3339_ns(hi)}], e.g. {wrong[:5]}")
        if self.precision_ns < SECOND:
            check(any(ns % SECOND for ns in stamps),
                  f"{label} timestamps keep their sub-second part")
        return duplicates


def summarize(numbers, limit=20):
    """"3, 4, 5, 9" → "3-5, 9" (at most `limit` ranges)."""
    ranges = []
    for n in sorted(numbers):
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges[:limit])
    return text + (f", ... ({len(ranges) - limit} more ranges)" if len(ranges) > limit else "")


# ---------------------------------------------------------------- processes


class _Daemon:
    """A client daemon run in the foreground with output captured to files."""

    def __init__(self, ctx, name):
        self.ctx = ctx
        self.name = name
        self.dir = os.path.join(ctx.workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.stdout_path = os.path.join(self.dir, "stdout")
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.proc = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def _spawn(self, args, env=None):
        stdout = open(self.stdout_path, "ab")
        stderr = open(self.stderr_path, "ab")
        try:
            self.proc = subprocess.Popen(
                args, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, cwd=self.dir,
                env=env or harness.server_env(), preexec_fn=harness._set_parent_death_signal)
        finally:
            stdout.close()
            stderr.close()
        self.ctx.processes.append(self.proc)

    def diagnostics(self):
        return f"{self.name} stderr:\n{harness._tail(self.stderr_path, 3000)}"

    def _wait_started(self, pid_path):
        def started():
            if self.proc.poll() is not None:
                raise harness.ProcessExited(self.proc.returncode)
            return os.path.exists(pid_path) and os.path.getsize(pid_path) > 0

        try:
            harness.wait_until(started, CLIENT_START_TIMEOUT_S, f"{self.name} to write {pid_path}")
        except harness.ProcessExited as exited:
            raise harness.CheckFailed(f"{self.name} exited with code {exited.rc} at start; "
                                      f"{self.diagnostics()}") from None
        except harness.CheckFailed as error:
            raise harness.CheckFailed(f"{error}\n{self.diagnostics()}") from None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM and wait; a client that does not stop fails the test."""
        if not self.running():
            raise harness.CheckFailed(f"{self.name} is not running (exit "
                                      f"{self.proc and self.proc.returncode}); "
                                      f"{self.diagnostics()}")
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(CLIENT_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise harness.CheckFailed(f"{self.name} did not stop within "
                                      f"{CLIENT_STOP_TIMEOUT_S}s of SIGTERM") from None


# ---------------------------------------------------------------- rsyslog

_RSYSLOG_MODULES = {
    "imfile": "rsyslog",
    "omrelp": "rsyslog-relp",
    "lmnsd_ossl": "rsyslog-openssl",
    "lmnsd_gtls": "rsyslog-gnutls",
}


def require_rsyslog(*modules):
    """rsyslogd and the named modules (e.g. "omrelp"); a missing one fails."""
    rsyslogd = harness.require_tool("rsyslogd", f"Debian package rsyslog; {INSTALL_HINT}")
    for module in modules:
        found = glob.glob(f"/usr/lib/*/rsyslog/{module}.so") + glob.glob(
            f"/usr/lib/rsyslog/{module}.so")
        if not found:
            raise harness.ToolMissing(
                f"rsyslog module {module} is not installed (Debian package "
                f"{_RSYSLOG_MODULES.get(module, 'rsyslog')}); {INSTALL_HINT}")
    return rsyslogd


class Rsyslog(_Daemon):
    """A private `rsyslogd -n` that forwards the lines appended to its input
    file (imfile, with a fixed tag, facility and severity) through `action`.

    Its own work directory, pid file and local host name; rsyslog's internal
    messages go to a local file (internal.log), never to the server.
    """

    def __init__(self, ctx, name, action, tag, facility, severity, hostname,
                 modules=(), global_extra=""):
        super().__init__(ctx, name)
        self.input_path = self.path("input.log")
        open(self.input_path, "a").close()
        os.makedirs(self.path("work"), exist_ok=True)
        self.config_path = self.path("rsyslog.conf")
        self.pid_path = self.path("rsyslogd.pid")
        # Netstream drivers (lmnsd_*) load themselves when an action names
        # them; a module() statement for one crashes rsyslogd 8.2302 (gtls).
        module_lines = "\n".join(f'module(load="{m}")' for m in modules
                                 if not m.startswith("lmnsd_"))
        config = f"""# private rsyslogd of an integration test
global(workDirectory="{self.path('work')}" localHostName="{hostname}"
       maxMessageSize="256k" processInternalMessages="on" {global_extra})
module(load="imfile" mode="inotify")
{module_lines}
input(type="imfile" file="{self.input_path}" tag="{tag}:" facility="{facility}"
      severity="{severity}" ruleset="forward" freshStartTail="off")
ruleset(name="forward") {{
  {action}
}}
# rsyslog's own messages (default ruleset) stay here.
*.* action(type="omfile" file="{self.path('internal.log')}")
"""
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(config)
        self.rsyslogd = require_rsyslog("imfile", *[m for m in modules])

    def start(self):
        self._spawn([self.rsyslogd, "-n", "-f", self.config_path, "-i", self.pid_path])
        self._wait_started(self.pid_path)
        return self

    def diagnostics(self):
        return (f"{super().diagnostics()}\n{self.name} internal.log:\n"
                f"{harness._tail(self.path('internal.log'), 3000)}")


def omfwd(port, protocol, template=None, framing=None, driver=None, extra=""):
    """An rsyslog omfwd action to 127.0.0.1:port."""
    text = f'action(type="omfwd" target="127.0.0.1" port="{port}" protocol="{protocol}"'
    if template:
        text += f' template="{template}"'
    if framing:
        text += f' TCP_Framing="{framing}"'
    if driver:
        # The server's certificate must chain to the test CA and name
        # "localhost" (tests/tls_test_ca.sh).
        text += (f' StreamDriver="{driver}" StreamDriverMode="1"'
                 f' StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost"')
    return text + (" " + extra if extra else "") + ")"


def rsyslog_tls_globals(ca, with_client_cert):
    text = f'DefaultNetstreamDriverCAFile="{ca.ca}"'
    if with_client_cert:
        text += (f' DefaultNetstreamDriverCertFile="{ca.client_cert}"'
                 f' DefaultNetstreamDriverKeyFile="{ca.client_key}"')
    return text


# ---------------------------------------------------------------- syslog-ng


def require_syslog_ng():
    binary = os.path.join(SYSLOG_NG_DIR, "usr", "sbin", "syslog-ng")
    if not os.access(binary, os.X_OK):
        raise harness.ToolMissing(
            f"syslog-ng is not unpacked at {SYSLOG_NG_DIR} (set SLUICE_SYSLOG_NG_DIR or run "
            f"scripts/install_syslog_ng.sh; {INSTALL_HINT})")
    return binary


class SyslogNg(_Daemon):
    """A private syslog-ng (foreground) from the unpacked syslog-ng-core, with
    its own config, pid file, control socket and persist file."""

    def __init__(self, ctx, name, make_config):
        """`make_config(daemon)` returns the config text; it may use daemon.path()."""
        super().__init__(ctx, name)
        self.binary = require_syslog_ng()
        self.config_path = self.path("syslog-ng.conf")
        self.pid_path = self.path("syslog-ng.pid")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(make_config(self))

    @staticmethod
    def version():
        with open(os.path.join(SYSLOG_NG_DIR, "VERSION"), encoding="ascii") as f:
            full = f.read().strip()  # e.g. 3.38.1-5+deb12u1
        return ".".join(full.split(".")[:2])

    def start(self):
        libs = os.path.join(SYSLOG_NG_DIR, "usr", "lib", "syslog-ng")
        env = dict(harness.server_env(), LD_LIBRARY_PATH=libs)
        self._spawn([self.binary, "--foreground", "--stderr", "--no-caps",
                     "--cfgfile", self.config_path,
                     "--module-path", os.path.join(libs, self.version()),
                     "--pidfile", self.pid_path,
                     "--control", self.path("syslog-ng.ctl"),
                     "--persist-file", self.path("syslog-ng.persist")], env=env)
        self._wait_started(self.pid_path)
        return self


# ---------------------------------------------------------------- RELP


class RelpError(Exception):
    pass


class RelpClient:
    """A minimal RELP client (librelp's wire format): open, syslog, close.

    Frames are "TXNR SP COMMAND SP DATALEN [SP DATA] LF".
    """

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""
        self.next_txnr = 1

    def send_frame(self, command, data=b""):
        txnr = self.next_txnr
        self.next_txnr += 1
        frame = f"{txnr} {command} {len(data)}".encode()
        if data:
            frame += b" " + data
        self.sock.sendall(frame + b"\n")
        return txnr

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RelpError(f"connection closed by the server (have {self.buffer!r})")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _read_token(self, ends):
        token = b""
        while True:
            byte = self._read(1)
            if byte in ends:
                return token, byte
            token += byte
            if len(token) > 32:
                raise RelpError(f"bad RELP header from the server: {token!r}...")

    def read_frame(self):
        """Returns (txnr, command, data)."""
        txnr, _ = self._read_token((b" ",))
        command, _ = self._read_token((b" ",))
        length, end = self._read_token((b" ", b"\n"))
        if not (txnr.isdigit() and length.isdigit()):
            raise RelpError(f"bad RELP header from the server: {txnr!r} {command!r} {length!r}")
        if end == b"\n":  # DATALEN 0: "TXNR COMMAND 0\n"
            if int(length) != 0:
                raise RelpError(f"RELP frame of {int(length)} bytes without data")
            return int(txnr), command.decode(), b""
        data = self._read(int(length))
        trailer = self._read(1)
        if trailer != b"\n":
            raise RelpError(f"RELP frame without LF trailer: {trailer!r}")
        return int(txnr), command.decode(), data

    def read_response(self):
        """The next "rsp" frame as (txnr, code); code is None for an empty
        rsp (librelp answers "close" so). A serverclose raises."""
        txnr, command, data = self.read_frame()
        if command != "rsp":
            raise RelpError(f"expected rsp, got {command} {data!r}")
        if not data:
            return txnr, None
        if not data[:3].isdigit():
            raise RelpError(f"rsp without a status code: {data!r}")
        return txnr, int(data[:3])

    def open(self):
        offers = b"relp_version=0\nrelp_software=sluice-test,1,x\ncommands=syslog"
        txnr = self.send_frame("open", offers)
        got, code = self.read_response()
        if (got, code) != (txnr, 200):
            raise RelpError(f"open answered txnr {got} code {code}")

    def close(self):
        try:
            txnr = self.send_frame("close")
            got, _ = self.read_response()
            if got != txnr:
                raise RelpError(f"close answered for txnr {got}, not {txnr}")
        finally:
            self.sock.close()


def wait_closed_by_peer(sock, timeout, what):
    """Waits until the peer closes `sock` (EOF or reset); returns the bytes it sent first."""
    sock.settimeout(0.2)
    received = bytearray()

    def closed():
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not chunk:
            return True
        received.extend(chunk)
        return False

    harness.wait_until(closed, timeout, what, interval=0.0)
    return bytes(received)

