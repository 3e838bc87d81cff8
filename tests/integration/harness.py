"""Shared helpers for sluice's end-to-end tests (python3 standard library only).

The tests start the real `sluice` binary on free loopback ports with a fresh
temporary data dir and drive it with real clients (logger, curl, promtool).
They wait for conditions with deadlines, never with fixed sleeps, and treat a
missing external tool as a failure: a test that cannot run has not passed.

Usage from a test file:

    import harness
    def test_something(ctx):
        server = ctx.start_server()
        ...
        harness.check(cond, "what was checked")
    if __name__ == "__main__":
        harness.main([test_something])

The binary is argv[1], else $SLUICE_BIN.
"""

import calendar
import ctypes
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

# Generous enough for a sanitizer build on a loaded CI machine; a healthy
# release build starts in well under a second.
STARTUP_TIMEOUT_S = 30.0
# The contract: SIGTERM drains, flushes and exits 0 within a few seconds.
STOP_TIMEOUT_S = 10.0
# How long an accepted event may take to become searchable (syslog inputs are
# batched by age, so this is a deadline, not an expectation).
SEARCHABLE_TIMEOUT_S = 15.0


class CheckFailed(AssertionError):
    """A check of the server's behaviour failed."""


class ToolMissing(AssertionError):
    """An external tool the test needs is not installed: a failure, not a skip."""


# ---------------------------------------------------------------- checks


def log(text):
    print(text, flush=True)


def check(condition, what, detail=None):
    """Passes (and prints) or raises CheckFailed naming `what`."""
    if not condition:
        message = what if detail is None else f"{what}: {detail}"
        raise CheckFailed(message)
    log(f"  ok   {what}")


def check_eq(actual, expected, what):
    check(actual == expected, what, f"expected {expected!r}, got {actual!r}")


class ProcessExited(Exception):
    """Raised inside a wait when the process being waited on has died: ends the wait."""

    def __init__(self, rc):
        super().__init__(f"exited with code {rc}")
        self.rc = rc


def wait_until(predicate, timeout, what, interval=0.02, max_interval=0.25):
    """Polls `predicate` until it returns a truthy value, which is returned.

    Exceptions raised by the predicate count as "not yet" (the server may not
    be listening yet), except ProcessExited, which ends the wait at once. On
    timeout, raises CheckFailed naming `what` and the last result or error.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            result = predicate()
            if result:
                return result
            last = f"last result: {result!r}"
        except ProcessExited:
            raise
        except CheckFailed as error:
            last = f"last error: {error}"
        except Exception as error:  # noqa: BLE001 - reported on timeout
            last = f"last error: {type(error).__name__}: {error}"
        if time.monotonic() >= deadline:
            raise CheckFailed(f"timed out after {timeout:.1f}s waiting for {what}; {last}")
        time.sleep(interval)
        interval = min(interval * 1.5, max_interval)


# ---------------------------------------------------------------- tools


def require_tool(name, package_hint):
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(
            f"required tool '{name}' is not on PATH; install it ({package_hint}). "
            "A missing tool fails the test instead of skipping it.")
    return path


def run_cmd(args, timeout=30, input_bytes=None, check_rc=True, cwd=None):
    """Runs a command, returns CompletedProcess with bytes stdout/stderr."""
    try:
        result = subprocess.run(args, input=input_bytes, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as error:
        raise CheckFailed(f"command did not finish within {timeout}s: {args!r}") from error
    if check_rc and result.returncode != 0:
        raise CheckFailed(
            f"command failed with exit code {result.returncode}: {args!r}\n"
            f"stdout: {result.stdout.decode(errors='replace')}\n"
            f"stderr: {result.stderr.decode(errors='replace')}")
    return result


# ---------------------------------------------------------------- ports

_handed_out_ports = set()


def _udp_port_free(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        try:
            udp.bind((host, port))
            return True
        except OSError:
            return False


def free_port(host="127.0.0.1"):
    """A port free for both TCP and UDP on `host` right now.

    Another process may still take it before the server binds; Server.start
    retries with new ports when the server reports an address in use.
    """
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            if port in _handed_out_ports:
                continue
            if not _udp_port_free(host, port):
                continue
        _handed_out_ports.add(port)
        return port
    raise RuntimeError("could not find a free TCP+UDP port")


# ---------------------------------------------------------------- HTTP

# Never go through a proxy from the environment: the server is on loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise CheckFailed(f"response is not JSON ({error}): {self.text[:500]!r}") from error

    def content_type(self):
        return self.headers.get("Content-Type", "")

    def __repr__(self):
        return f"<Response {self.status} {self.text[:300]!r}>"


def http_request(method, url, body=None, headers=None, timeout=10.0):
    """Returns a Response for every HTTP status; raises only on transport errors."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _opener.open(request, timeout=timeout) as reply:
            return Response(reply.status, reply.headers, reply.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


def http_get(url, timeout=10.0):
    return http_request("GET", url, timeout=timeout)


def http_post(url, body, content_type="application/x-ndjson", timeout=10.0):
    return http_request("POST", url, body=body, headers={"Content-Type": content_type},
                        timeout=timeout)


# ---------------------------------------------------------------- time


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$")


def parse_rfc3339_ns(text):
    """RFC3339 → nanoseconds since the epoch (keeps all 9 fraction digits)."""
    match = _RFC3339.match(text or "")
    if not match:
        raise CheckFailed(f"not an RFC3339 timestamp: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    seconds = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute),
                               int(second), 0, 0, 0))
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    nanos = int((fraction or "").ljust(9, "0")) if fraction else 0
    return seconds * 1_000_000_000 + nanos


def format_rfc3339_ns(ns, offset_minutes=0):
    """Nanoseconds since the epoch → RFC3339 with 9 fraction digits and `offset`."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    zone = datetime.timezone(datetime.timedelta(minutes=offset_minutes))
    moment = datetime.datetime.fromtimestamp(seconds, tz=zone)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}"
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return text + f"{sign}{hours:02d}:{minutes:02d}"


def now_ns():
    return time.time_ns()


# ---------------------------------------------------------------- metrics

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


class Metrics:
    """Parsed Prometheus text exposition: samples and declared TYPEs."""

    def __init__(self, text):
        self.text = text
        self.samples = []  # (name, {label: value}, float)
        self.types = {}
        for line_number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 4 and parts[1] == "TYPE":
                    self.types[parts[2]] = parts[3].strip()
                continue
            match = _SAMPLE.match(line)
            if not match:
                raise CheckFailed(f"/metrics line {line_number} is not a sample: {line!r}")
            name, label_text, value = match.group(1), match.group(3), match.group(4)
            labels = {}
            if label_text:
                for label in _LABEL.finditer(label_text):
                    labels[label.group(1)] = label.group(2).replace('\\"', '"').replace(
                        "\\n", "\n").replace("\\\\", "\\")
            self.samples.append((name, labels, float(value)))

    def value(self, name, **labels):
        """Sum of the samples of `name` whose labels include `labels`; None if none."""
        total = None
        for sample_name, sample_labels, value in self.samples:
            if sample_name != name:
                continue
            if all(sample_labels.get(k) == v for k, v in labels.items()):
                total = (total or 0.0) + value
        return total

    def has(self, name):
        return name in self.types or any(s[0] == name for s in self.samples)


# ---------------------------------------------------------------- server


def _set_parent_death_signal():
    """In the child: die with SIGKILL if the test process dies (e.g. ctest timeout)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort, Linux only
        pass


def server_env():
    # RFC3164 timestamps carry no zone; pin the server's so tests can predict
    # how it resolves them.
    return dict(os.environ, TZ="UTC")


def spawn(args, stdout_path, stderr_path, cwd=None):
    """Starts a child process with output captured to files and a death signal."""
    stdout = open(stdout_path, "ab")
    stderr = open(stderr_path, "ab")
    try:
        return subprocess.Popen(args, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                cwd=cwd, env=server_env(),
                                preexec_fn=_set_parent_death_signal)
    finally:
        stdout.close()
        stderr.close()


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(no file)"
    text = data.decode("utf-8", errors="replace")
    return text if len(text) <= limit else "...\n" + text[-limit:]


class Server:
    """One `sluice serve` process on loopback ports."""

    _count = 0

    def __init__(self, ctx, data_dir=None, syslog_port=None, http_port=None, extra_args=(),
                 cwd=None, args=None):
        Server._count += 1
        self.ctx = ctx
        self.name = f"server{Server._count}"
        # None: a fresh temporary dir; False: no --data flag (the default ./data).
        self.data_dir = (tempfile.mkdtemp(prefix="data-", dir=ctx.workdir)
                         if data_dir is None else data_dir)
        self.syslog_port = syslog_port
        self.http_port = http_port
        self._fixed_syslog_port = syslog_port is not None
        self._fixed_http_port = http_port is not None
        self.extra_args = list(extra_args)
        self.args_override = args  # the whole command line after the binary
        # Never the caller's directory: a relative path must not land in the source tree.
        self.cwd = cwd or ctx.workdir
        self.proc = None
        self.stdout_path = os.path.join(ctx.workdir, f"{self.name}.stdout")
        self.stderr_path = os.path.join(ctx.workdir, f"{self.name}.stderr")

    # -- addresses
    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def url(self, path, **params):
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return self.base_url + path + (("?" + query) if query else "")

    def args(self):
        if self.args_override is not None:
            return [self.ctx.binary] + list(self.args_override)
        args = [self.ctx.binary, "serve", "--syslog", f"127.0.0.1:{self.syslog_port}",
                "--http", f"127.0.0.1:{self.http_port}"]
        if self.data_dir is not False:
            args += ["--data", self.data_dir]
        return args + self.extra_args

    # -- lifecycle
    def start(self, timeout=STARTUP_TIMEOUT_S, attempts=3):
        """Starts the process and waits until GET /healthz answers 200."""
        for attempt in range(1, attempts + 1):
            if not self._fixed_syslog_port:
                self.syslog_port = free_port()
            if not self._fixed_http_port:
                self.http_port = free_port()
            with open(self.stderr_path, "ab") as f:
                f.write(f"--- start attempt {attempt}: {' '.join(self.args())}\n".encode())
            self.proc = spawn(self.args(), self.stdout_path, self.stderr_path, cwd=self.cwd)
            self.ctx.processes.append(self.proc)
            try:
                self.wait_healthy(timeout)
                return self
            except CheckFailed:
                rc = self.proc.poll()
                port_clash = rc is not None and re.search(
                    r"in use|EADDRINUSE", _tail(self.stderr_path, 300), re.I)
                fixed = self._fixed_syslog_port and self._fixed_http_port
                if port_clash and not fixed and attempt < attempts:
                    log(f"  note {self.name}: ports were taken meanwhile, retrying on new ports")
                    continue
                raise
        raise AssertionError("unreachable")

    def wait_healthy(self, timeout=STARTUP_TIMEOUT_S):
        def healthy():
            rc = self.proc.poll()
            if rc is not None:
                raise ProcessExited(rc)
            return http_get(self.url("/healthz"), timeout=2.0).status == 200

        try:
            wait_until(healthy, timeout, f"{self.name} GET /healthz == 200")
        except ProcessExited as exited:
            raise CheckFailed(
                f"{self.name} exited with code {exited.rc} before becoming healthy; stderr:\n"
                f"{_tail(self.stderr_path)}") from None
        except CheckFailed as error:
            raise CheckFailed(f"{error}\n{self.name} stderr:\n{_tail(self.stderr_path)}") from None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        """Sends `sig`, requires exit code 0 within `timeout`; returns seconds taken."""
        if self.proc is None:
            raise CheckFailed(f"{self.name} was never started")
        if self.proc.poll() is not None:
            raise CheckFailed(f"{self.name} had already exited with code {self.proc.returncode}; "
                              f"stderr:\n{_tail(self.stderr_path)}")
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise CheckFailed(f"{self.name} did not exit within {timeout}s of "
                              f"{signal.Signals(sig).name}; killed it. stderr:\n"
                              f"{_tail(self.stderr_path)}") from None
        elapsed = time.monotonic() - started
        if rc != 0:
            raise CheckFailed(f"{self.name} exited with code {rc} after {signal.Signals(sig).name}"
                              f" (expected 0); stderr:\n{_tail(self.stderr_path)}")
        return elapsed

    def stderr_text(self):
        return _tail(self.stderr_path, 100000)

    # -- API
    def search(self, q=None, expect_status=200, **params):
        """GET /api/search; returns the decoded JSON, requiring `expect_status`."""
        response = http_get(self.url("/api/search", q=q, **params))
        if response.status != expect_status:
            raise CheckFailed(f"GET /api/search q={q!r} {params}: expected HTTP {expect_status}, "
                              f"got {response.status}: {response.text[:500]}")
        return response.json()

    def search_events(self, q, **params):
        body = self.search(q, **params)
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            raise CheckFailed(f"search q={q!r}: response has no events list: {body!r}"[:800])
        return body["events"]

    def wait_for_events(self, q, count, timeout=SEARCHABLE_TIMEOUT_S, **params):
        """Waits until the search `q` returns at least `count` events; returns them."""
        def found():
            events = self.search_events(q, **params)
            return events if len(events) >= count else None
        return wait_until(found, timeout, f"search {q!r} to return {count} event(s)")

    def metrics(self):
        response = http_get(self.url("/metrics"))
        if response.status != 200:
            raise CheckFailed(f"GET /metrics: HTTP {response.status}: {response.text[:300]}")
        return Metrics(response.text)

    # -- senders
    def send_tcp(self, *chunks, close=True):
        """Connects to the syslog TCP port and writes each chunk with its own send."""
        sock = socket.create_connection(("127.0.0.1", self.syslog_port), timeout=10)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        finally:
            if close:
                sock.close()
        return None if close else sock

    def send_udp(self, datagram):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(datagram, ("127.0.0.1", self.syslog_port))


# ---------------------------------------------------------------- runner


class Context:
    """Per-test state: the binary, a work dir, and every process to clean up."""

    def __init__(self, binary, test_name):
        self.binary = binary
        self.workdir = tempfile.mkdtemp(prefix=f"sluice-it-{test_name}-")
        self.processes = []
        self.servers = []

    def server(self, **kwargs):
        server = Server(self, **kwargs)
        self.servers.append(server)
        return server

    def start_server(self, **kwargs):
        return self.server(**kwargs).start()

    def run_sluice(self, args, timeout=10, cwd=None):
        """Runs the binary to completion; returns (rc, stdout, stderr, seconds)."""
        started = time.monotonic()
        try:
            result = subprocess.run([self.binary] + list(args), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                    timeout=timeout, cwd=cwd or self.workdir,
                                    env=server_env(), preexec_fn=_set_parent_death_signal)
        except subprocess.TimeoutExpired as error:
            raise CheckFailed(
                f"`sluice {' '.join(args)}` did not exit within {timeout}s") from error
        return (result.returncode, result.stdout.decode(errors="replace"),
                result.stderr.decode(errors="replace"), time.monotonic() - started)

    def cleanup(self):
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass


def find_binary(argv):
    path = argv[1] if len(argv) > 1 else os.environ.get("SLUICE_BIN")
    if not path:
        raise SystemExit("usage: python3 TEST.py PATH-TO-SLUICE (or set SLUICE_BIN)")
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise SystemExit(f"FAIL: sluice binary {path!r} does not exist or is not executable")
    return path


def main(tests, argv=None):
    """Runs each test function with a fresh Context; exits 1 if any failed."""
    argv = sys.argv if argv is None else argv
    binary = find_binary(argv)
    only = set(argv[2:])
    failures = []
    for test in tests:
        if only and test.__name__ not in only:
            continue
        ctx = Context(binary, test.__name__)
        log(f"RUN  {test.__name__}")
        started = time.monotonic()
        try:
            test(ctx)
        except Exception as error:  # noqa: BLE001 - every failure is reported
            failures.append(test.__name__)
            kind = "missing tool" if isinstance(error, ToolMissing) else type(error).__name__
            log(f"FAIL {test.__name__} ({kind}): {error}")
            if not isinstance(error, (CheckFailed, ToolMissing)):
                traceback.print_exc(file=sys.stdout)
            for server in ctx.servers:
                log(f"---- {server.name} stderr ({server.stderr_path}):\n"
                    f"{_tail(server.stderr_path)}")
            log(f"     work dir kept: {ctx.workdir}")
            ctx.cleanup()
            continue
        ctx.cleanup()
        shutil.rmtree(ctx.workdir, ignore_errors=True)
        log(f"PASS {test.__name__} ({time.monotonic() - started:.1f}s)")
    if failures:
        log(f"{len(failures)} test(s) failed: {', '.join(failures)}")
        sys.exit(1)
    log("all tests passed")
    sys.exit(0)
