#!/usr/bin/env python3
"""End-to-end ingest benchmark: sluice vs a private rsyslogd, per syslog transport.

Driven by bench/run.sh (which builds the binaries and installs rsyslog and its
modules); see bench/README.md for what each figure means. Python 3 standard
library only.

Transports: tcp (RFC 6587 octet counting), tcp-lf (LF framing), udp (RFC 5426),
tls (RFC 5425, octet counting in TLS), relp (RELP). Per run, transport and
system: start the server on free ports with that input, replay N events with
sluice_loadgen --transport T, poll until all N are stored (sluice: the
sluice_events_stored_total{input=...} counter; rsyslog: N lines in its output
file), then read CPU and peak RSS from /proc, stop it cleanly with SIGTERM and
measure the bytes it left on disk. Output is checked: sluice must report
exactly N received and N stored; rsyslog's file must hold exactly the N
generated messages (order-independent checksum). UDP may lose datagrams: the
run ends when the count stops growing, loss is reported, and every stored
message must still be one of those sent, once.

Progress goes to stderr; stdout carries only the markdown report.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

# Poll period while waiting for "all stored". Small against any run worth
# timing (1 M events take seconds) yet cheap for the server: one /metrics GET.
POLL_S = 0.005

# UDP may lose datagrams, so "all N stored" may never come: once the sender is
# done, the run ends when the count has not grown for this long. Both servers
# store within tens of milliseconds of receiving (sluice: 20 ms batch age;
# rsyslog: omfile flushes each batch).
UDP_SETTLE_S = 1.5

TRANSPORTS = ["tcp", "tcp-lf", "udp", "tls", "relp"]

# Events per run and transport. A full default run (5 transports x 2 systems x
# 3 runs) takes about 3 minutes on 2 cores: UDP is paced (1 M events at the
# default 150,000/s is ~7 s per run) and rsyslog's RELP input takes ~10 s, the
# rest 1.5-2.5 s each.
DEFAULT_EVENTS = 1_000_000

# sluice's per-input label in /metrics, and the serve flag that enables it.
SLUICE_INPUT = {"tcp": "syslog_tcp", "tcp-lf": "syslog_tcp", "udp": "syslog_udp",
                "tls": "syslog_tls", "relp": "relp"}
SLUICE_FLAG = {"tls": "--syslog-tls", "relp": "--relp"}

# In run tags: the same length for every transport and system.
TAG_ABBREV = {"tcp": "tc", "tcp-lf": "lf", "udp": "ud", "tls": "tl", "relp": "rl"}

TRANSPORT_DESC = {
    "tcp": "TCP, RFC 6587 octet counting (`LEN SP MSG`)",
    "tcp-lf": "TCP, RFC 6587 LF framing (`MSG LF`)",
    "udp": "UDP, RFC 5426, one datagram per message, paced",
    "tls": "TLS (RFC 5425: octet counting inside TLS), server certificate verified",
    "relp": "RELP, window of unacknowledged messages; timed to the last ack",
}

CHILDREN = []  # every Popen we start; killed on any exit path


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------
# Processes


def spawn(argv, log_path, **kw):
    logf = open(log_path, "wb")
    p = subprocess.Popen(argv, stdout=kw.pop("stdout", logf), stderr=logf,
                         stdin=subprocess.DEVNULL, **kw)
    p.log_path = log_path
    CHILDREN.append(p)
    return p


def stop(p, timeout_s=60.0):
    """SIGTERM, wait; returns the exit code (SIGKILL and raise on timeout)."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise BenchError(f"{p.args[0]} did not exit within {timeout_s:.0f}s of SIGTERM")


def kill_all():
    for p in CHILDREN:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + 5
    for p in CHILDREN:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def log_tail(p, n=20):
    try:
        with open(p.log_path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        return "\n".join("    " + l for l in lines[-n:])
    except OSError:
        return "    (no log)"


def check_alive(p, what):
    if p.poll() is not None:
        raise BenchError(f"{what} exited with code {p.returncode}; log {p.log_path}:\n{log_tail(p)}")


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based).
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise BenchError(f"no VmHWM in /proc/{pid}/status")


def du_bytes(path):
    out = subprocess.run(["du", "-sb", path], check=True, capture_output=True, text=True).stdout
    return int(out.split()[0])


def machine_busy_s():
    """CPU seconds the whole machine has spent in user, nice, system and steal
    time (/proc/stat). Interrupt and softirq time is left out: on loopback most
    of it is our own traffic."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + steal) / CLK_TCK


class OthersCpu:
    """CPU time used during a run by processes other than the server, the load
    generator and this script: the machine's busy time minus ours. It tells a
    run disturbed by someone else's build from a slow server."""

    def __init__(self, server_pid):
        self.pid = server_pid
        self.t0 = self._sample()
        self.start = time.monotonic()

    def _sample(self):
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the load generator, once reaped
        return (machine_busy_s(), cpu_seconds(self.pid),
                me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime)

    def measure(self):
        """(CPU seconds, percent of all cores) since construction. Call after the
        load generator has been waited for, before stopping the server."""
        t1 = self._sample()
        elapsed = time.monotonic() - self.start
        cpu = max(0.0, (t1[0] - self.t0[0]) - (t1[1] - self.t0[1]) - (t1[2] - self.t0[2]))
        return round(cpu, 2), round(100 * cpu / (max(elapsed, 1e-3) * os.cpu_count()), 1)


def udp_rcvbuf_errors():
    """Host-wide count of datagrams the kernel dropped for a full receive buffer."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [l.split() for l in f if l.startswith("Udp:")]
        header, values = rows[0], rows[1]
        return int(values[header.index("RcvbufErrors")])
    except (OSError, IndexError, ValueError):
        return None


def udp_bound(port):
    """True once some socket is bound to UDP 127.0.0.1:port (or 0.0.0.0:port)."""
    want = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    try:
        with open("/proc/net/udp") as f:
            return any(l.split()[1] in want for l in list(f)[1:])
    except OSError:
        return False


# ---------------------------------------------------------------------------
# Ports and HTTP


def free_port(udp_too=False):
    """A port free for TCP (and UDP) on 127.0.0.1 right now."""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        try:
            if udp_too:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
                finally:
                    u.close()
            return port
        finally:
            t.close()
    raise BenchError("no free port found")


def http_get(port, path, timeout_s=2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


METRIC_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metric_value(text, name, labels):
    """Value of the sample `name` whose labels include `labels`, or None."""
    for line in text.splitlines():
        m = METRIC_RE.match(line)
        if not m or m.group(1) != name:
            continue
        have = dict(LABEL_RE.findall(m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


def metric_sum(text, name, labels):
    """Sum of all samples of `name` whose labels include `labels` (0 if none)."""
    total = 0.0
    for line in text.splitlines():
        m = METRIC_RE.match(line)
        if not m or m.group(1) != name:
            continue
        have = dict(LABEL_RE.findall(m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


def wait_until(what, deadline_s, cond, alive=()):
    """Polls cond() until truthy or the deadline; checks `alive` processes."""
    deadline = time.monotonic() + deadline_s
    while True:
        v = cond()
        if v:
            return v
        for p, name in alive:
            check_alive(p, name)
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {deadline_s:.0f}s waiting for {what}")
        time.sleep(POLL_S)


class Completion:
    """Decides when a run is over, from a stored-events count polled every POLL_S.

    Reliable transports: when the count reaches N. UDP: also when the load
    generator has exited and the count has not grown for UDP_SETTLE_S. `t_end_ns`
    is the wall clock of the poll that first saw the final count."""

    def __init__(self, n, transport, loadgen):
        self.n, self.udp, self.loadgen = n, transport == "udp", loadgen
        self.count, self.t_end_ns, self.t_change = 0, None, time.monotonic()

    def update(self, count):
        if count is None:
            return False
        if count > self.count or self.t_end_ns is None:
            if count > self.count:
                self.t_change = time.monotonic()
            self.count, self.t_end_ns = count, time.time_ns()
        if self.count >= self.n:
            return True
        return (self.udp and self.loadgen.poll() is not None
                and time.monotonic() - self.t_change >= UDP_SETTLE_S)


# ---------------------------------------------------------------------------
# Certificates


def make_pki(root, tmp):
    """A throwaway CA and a server certificate for 127.0.0.1 (and localhost)."""
    pki = os.path.join(tmp, "pki")
    script = os.path.join(root, "tests", "tls_test_ca.sh")
    if os.path.exists(script):
        subprocess.run(["bash", script, pki, "sluice bench"], check=True, capture_output=True)
    else:
        os.makedirs(pki)
        cnf = os.path.join(pki, "openssl.cnf")
        with open(cnf, "w") as f:
            f.write("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n"
                    "[ca_ext]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n"
                    "[server_ext]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n"
                    "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n")
        env = dict(os.environ, OPENSSL_CONF=cnf)
        common = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc", "-days", "2", "-sha256"]
        subprocess.run(["openssl", "req", "-x509", *common, "-keyout", f"{pki}/ca.key", "-subj",
                        "/O=sluice/CN=sluice bench CA", "-extensions", "ca_ext", "-out", f"{pki}/ca.pem"],
                       check=True, capture_output=True, env=env)
        subprocess.run(["openssl", "req", "-x509", *common, "-keyout", f"{pki}/server.key", "-subj",
                        "/O=sluice/CN=localhost", "-CA", f"{pki}/ca.pem", "-CAkey", f"{pki}/ca.key",
                        "-set_serial", "2", "-extensions", "server_ext", "-out", f"{pki}/server.pem"],
                       check=True, capture_output=True, env=env)
    return {"ca": f"{pki}/ca.pem", "cert": f"{pki}/server.pem", "key": f"{pki}/server.key"}


# ---------------------------------------------------------------------------
# Load generator and the expected stream


def start_loadgen(args, transport, n, port, tag, tmp):
    argv = [args.loadgen, "--transport", transport, "--host", "127.0.0.1", "--port", str(port),
            "--count", str(n), "--seed", str(args.seed), "--connections", str(args.connections),
            "--tag", tag]
    if transport == "udp":
        argv += ["--udp-rate", str(args.udp_rate)]
    elif transport == "tls":
        argv += ["--tls-ca", args.pki["ca"]]
    elif transport == "relp":
        argv += ["--relp-window", str(args.relp_window)]
    return spawn(argv, os.path.join(tmp, f"loadgen-{tag}.log"), stdout=subprocess.PIPE)


def finish_loadgen(p, timeout_s=600):
    out, _ = p.communicate(timeout=timeout_s)
    if p.returncode != 0:
        raise BenchError(f"loadgen failed (code {p.returncode}):\n{log_tail(p)}")
    return json.loads(out.decode().strip().splitlines()[-1])


def _line_key(line):
    """64-bit identity of one message: CRC32 and Adler-32 side by side."""
    return (zlib.crc32(line) << 32) | zlib.adler32(line)


class Expected:
    """The untagged stream of N messages: an order-independent digest (count,
    bytes, sum of CRC32s) and, on demand, the set of message keys (to check a
    lossy UDP output).

    Runs differ only by their tag, so one of these serves every run and
    transport with the same N."""

    def __init__(self, args, n):
        self.args, self.n = args, n
        self.lines = self.bytes = self.crc_sum = 0
        self.first = None
        self._keys = None
        for line in self._stream():
            if self.first is None:
                self.first = line
            self.lines += 1
            self.bytes += len(line)
            self.crc_sum = (self.crc_sum + zlib.crc32(line)) & 0xFFFFFFFFFFFFFFFF

    def _stream(self):
        p = subprocess.Popen([self.args.loadgen, "--print-sample", str(self.n), "--seed", str(self.args.seed)],
                             stdout=subprocess.PIPE)
        CHILDREN.append(p)
        for raw in p.stdout:
            yield raw.rstrip(b"\n")
        if p.wait() != 0:
            raise BenchError("loadgen --print-sample failed")

    def keys(self):
        if self._keys is None:
            self._keys = {_line_key(line) for line in self._stream()}
            if len(self._keys) != self.n:
                raise BenchError("the generated stream has colliding message keys")
        return self._keys


def untagged_lines(path, tag):
    """The messages of a file holding one received message per line, tag removed."""
    sd = b'[bench run="' + tag.encode() + b'"]'
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            # <PRI>1 TIMESTAMP HOST APP PROCID MSGID, then SD and MSG.
            parts = line.rstrip(b"\n").split(b" ", 6)
            if len(parts) < 7 or not parts[6].startswith(sd + b" "):
                raise BenchError(f"{path}:{n}: not a message tagged {sd.decode()}: {line[:200]!r}")
            parts[6] = b"-" + parts[6][len(sd):]
            yield b" ".join(parts)


def check_rsyslog_output(path, tag, expected, lossy):
    """Raises unless the file holds exactly the generated messages (lossy, and
    fewer lines: a subset of them, each at most once). Returns (lines, bytes
    of the untagged messages)."""
    lines = size = crc_sum = 0
    first = None
    for line in untagged_lines(path, tag):
        if first is None:
            first = line
        lines += 1
        size += len(line)
        crc_sum = (crc_sum + zlib.crc32(line)) & 0xFFFFFFFFFFFFFFFF
    if lossy and lines < expected.lines:
        keys, seen = expected.keys(), set()
        for n, line in enumerate(untagged_lines(path, tag), 1):
            key = _line_key(line)
            if key not in keys:
                raise BenchError(f"{path}:{n}: a message that was never sent: {line[:200]!r}")
            if key in seen:
                raise BenchError(f"{path}:{n}: a message stored twice: {line[:200]!r}")
            seen.add(key)
    elif (lines, size, crc_sum) != (expected.lines, expected.bytes, expected.crc_sum):
        raise BenchError(
            f"rsyslog output differs from the generated stream: {lines} lines/{size} B "
            f"vs {expected.lines}/{expected.bytes} B; first line {first!r} vs {expected.first!r}")
    return lines, size


# ---------------------------------------------------------------------------
# One run of each system


def figures(n, stored, lg, t_end_ns, cpu_s, rss_bytes, disk_bytes, stored_payload_bytes):
    if stored <= 0:
        raise BenchError(f"none of the {n} events was stored")
    wall_s = (t_end_ns - lg["start_unix_ns"]) / 1e9
    per = stored
    return {
        "events": n,
        "stored": stored,
        "lost": n - stored,
        "loss_pct": round(100.0 * (n - stored) / n, 3),
        "wall_s": round(wall_s, 4),
        "events_per_s": round(stored / wall_s, 1),
        "mib_per_s": round(stored_payload_bytes / (1 << 20) / wall_s, 3),
        "cpu_s": round(cpu_s, 3),
        "cpu_s_per_million": round(cpu_s / (per / 1e6), 3),
        "peak_rss_mib": round(rss_bytes / (1 << 20), 1),
        "disk_bytes": disk_bytes,
        "bytes_per_event": round(disk_bytes / per, 2),
        "loadgen_send_s": round(lg["seconds"], 4),
        "payload_bytes": lg["payload_bytes"],
    }


def sluice_supports(sluice):
    """The serve flags this sluice binary knows (from `serve --help`)."""
    try:
        out = subprocess.run([sluice, "serve", "--help"], capture_output=True, text=True, timeout=30)
        return out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchError(f"{sluice} serve --help: {e}") from None


def run_sluice(args, transport, n, tmp, tag):
    data = os.path.join(tmp, "sluice-data")
    os.makedirs(data)
    sport, hport = free_port(udp_too=True), free_port()
    argv = [args.sluice, "serve", "--data", data, "--syslog", f"127.0.0.1:{sport}",
            "--http", f"127.0.0.1:{hport}"]
    port = sport
    if transport == "tls":
        port = free_port()
        argv += ["--syslog-tls", f"127.0.0.1:{port}", "--tls-cert", args.pki["cert"],
                 "--tls-key", args.pki["key"]]
    elif transport == "relp":
        port = free_port()
        argv += ["--relp", f"127.0.0.1:{port}"]
    srv = spawn(argv, os.path.join(tmp, "sluice.log"))
    alive = [(srv, "sluice")]

    def healthy():
        try:
            return http_get(hport, "/healthz")[0] == 200
        except OSError:
            return False

    wait_until("sluice /healthz 200", 30, healthy, alive)
    lbl = {"input": SLUICE_INPUT[transport]}

    def counters():
        status, body = http_get(hport, "/metrics")
        if status != 200:
            raise BenchError(f"GET /metrics: HTTP {status}")
        text = body.decode(errors="replace")
        return {"received": metric_value(text, "sluice_events_received_total", lbl),
                "stored": metric_value(text, "sluice_events_stored_total", lbl),
                "dropped": metric_sum(text, "sluice_events_dropped_total", lbl),
                "errors": metric_sum(text, "sluice_ingest_errors_total", lbl)}

    udp_errors0 = udp_rcvbuf_errors()
    others = OthersCpu(srv.pid)
    lg_proc = start_loadgen(args, transport, n, port, tag, tmp)
    alive.append((lg_proc, "loadgen"))
    done = Completion(n, transport, lg_proc)

    def all_stored():
        try:
            stored = counters()["stored"]
        except (OSError, http.client.HTTPException):
            return False  # a busy HTTP loop is no failure; the deadline decides
        return done.update(stored)

    # The load generator must not fail unseen (a refused TLS handshake would
    # otherwise look like a slow server until the deadline).
    try:
        wait_until(f"sluice_events_stored_total{{input=\"{lbl['input']}\"}} {n}",
                   args.timeout(n), lambda: all_stored() or loadgen_failed(lg_proc), [(srv, "sluice")])
    except BenchError as e:
        try:
            c = counters()
        except Exception:  # noqa: BLE001 - diagnostics only
            c = "?"
        raise BenchError(f"{e} (counters {c}; log {srv.log_path})") from None
    lg = finish_loadgen(lg_proc)
    others_cpu = others.measure()
    check_alive(srv, "sluice")
    c = counters()
    cpu_s = cpu_seconds(srv.pid)
    rss = peak_rss_bytes(srv.pid)
    udp_errors1 = udp_rcvbuf_errors()
    rc = stop(srv)
    if rc != 0:
        raise BenchError(f"sluice exited with code {rc} on SIGTERM; log {srv.log_path}:\n{log_tail(srv)}")
    received, stored = c["received"], c["stored"]
    if transport == "udp":
        if stored is None or stored > n or (received is not None and received != stored):
            raise BenchError(f"sluice counted received={received} stored={stored} of {n} sent")
    elif stored != n or (received is not None and received != n):
        raise BenchError(f"sluice counted received={received} stored={stored}, expected {n}")
    stored = int(stored)
    # The stream's messages have near-equal sizes: scale for what was lost.
    r = figures(n, stored, lg, max(done.t_end_ns, lg["end_unix_ns"]), cpu_s, rss, du_bytes(data),
                lg["payload_bytes"] * stored / n)
    r["others_cpu_s"], r["others_busy_pct"] = others_cpu
    r["server_dropped"] = int(c["dropped"])
    r["ingest_errors"] = int(c["errors"])
    if transport == "udp" and udp_errors0 is not None and udp_errors1 is not None:
        r["udp_rcvbuf_errors"] = udp_errors1 - udp_errors0
    return r


def loadgen_failed(p):
    if p.poll() is not None and p.returncode != 0:
        raise BenchError(f"loadgen failed (code {p.returncode}):\n{log_tail(p)}")
    return False


# rsyslog: one private instance per run, only the input under test. Its UDP
# receive buffer is asked for as large as sluice's (sluice asks 8 MiB, which
# the kernel caps at net.core.rmem_max and doubles; rsyslog as root uses
# SO_RCVBUFFORCE, which skips the cap but doubles too: 4m gives 8 MiB either
# way on a stock 4 MiB rmem_max box).
RSYSLOG_HEAD = """\
# Private benchmark instance: no /dev/log, no kernel log, no system rules.
global(workDirectory="{work}" maxMessageSize="64k" net.enableDNS="off"{tls_global})
template(name="bench_raw" type="string" string="%rawmsg%\\n")
ruleset(name="bench") {{
  action(type="omfile" file="{out}" template="bench_raw")
}}
"""
RSYSLOG_INPUT = {
    "tcp": 'module(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="{port}" ruleset="bench")\n',
    "tcp-lf": 'module(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="{port}" ruleset="bench")\n',
    "udp": 'module(load="imudp")\n'
           'input(type="imudp" address="127.0.0.1" port="{port}" ruleset="bench" rcvbufSize="4m")\n',
    "tls": 'module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")\n'
           'input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="bench")\n',
    "relp": 'module(load="imrelp")\ninput(type="imrelp" address="127.0.0.1" port="{port}" ruleset="bench")\n',
}
RSYSLOG_DESC = {
    "tcp": "imtcp", "tcp-lf": "imtcp", "udp": "imudp (rcvbufSize 4m)",
    "tls": "imtcp + ossl stream driver (mode 1, anon)", "relp": "imrelp",
}


def run_rsyslog(args, transport, n, tmp, tag, expected):
    work = os.path.join(tmp, "rsyslog-work")
    os.makedirs(work)
    out = os.path.join(tmp, "rsyslog-out.log")
    conf = os.path.join(tmp, "rsyslog.conf")
    port = free_port(udp_too=transport == "udp")
    tls_global = ""
    if transport == "tls":
        tls_global = (f'\n  DefaultNetstreamDriverCAFile="{args.pki["ca"]}"'
                      f'\n  DefaultNetstreamDriverCertFile="{args.pki["cert"]}"'
                      f'\n  DefaultNetstreamDriverKeyFile="{args.pki["key"]}"')
    with open(conf, "w") as f:
        f.write(RSYSLOG_HEAD.format(work=work, out=out, tls_global=tls_global))
        f.write(RSYSLOG_INPUT[transport].format(port=port))
    srv = spawn([args.rsyslogd, "-n", "-f", conf, "-i", os.path.join(tmp, "rsyslog.pid")],
                os.path.join(tmp, "rsyslog.log"))
    alive = [(srv, "rsyslogd")]

    def listening():
        if transport == "udp":
            return udp_bound(port)
        try:
            # A bare connect and close: rsyslog may log a failed TLS handshake
            # or an empty RELP session for it, which is harmless.
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    wait_until(f"rsyslogd listening on {port}", 30, listening, alive)

    udp_errors0 = udp_rcvbuf_errors()
    others = OthersCpu(srv.pid)
    lg_proc = start_loadgen(args, transport, n, port, tag, tmp)
    alive.append((lg_proc, "loadgen"))
    done = Completion(n, transport, lg_proc)
    # Count lines incrementally: re-reading a growing 250 MB file every poll
    # would make the observer the bottleneck.
    state = {"f": None, "lines": 0}

    def all_written():
        if state["f"] is None:
            if not os.path.exists(out):
                return done.update(0)
            state["f"] = open(out, "rb")
        while True:
            chunk = state["f"].read(1 << 20)
            if not chunk:
                break
            state["lines"] += chunk.count(b"\n")
        return done.update(state["lines"])

    try:
        wait_until(f"{n} lines in {out}", args.timeout(n), lambda: all_written() or loadgen_failed(lg_proc),
                   [(srv, "rsyslogd")])
    except BenchError as e:
        raise BenchError(f"{e} (have {state['lines']} lines; log {srv.log_path})") from None
    finally:
        if state["f"]:
            state["f"].close()
    lg = finish_loadgen(lg_proc)
    others_cpu = others.measure()
    check_alive(srv, "rsyslogd")
    cpu_s = cpu_seconds(srv.pid)
    rss = peak_rss_bytes(srv.pid)
    udp_errors1 = udp_rcvbuf_errors()
    rc = stop(srv)
    if rc != 0:
        raise BenchError(f"rsyslogd exited with code {rc} on SIGTERM; log {srv.log_path}:\n{log_tail(srv)}")
    if not os.path.exists(out):
        open(out, "wb").close()  # omfile creates it with the first message: none arrived
    stored, untagged_bytes = check_rsyslog_output(out, tag, expected, lossy=transport == "udp")
    # What was stored as sent: the tag replaced the SD "-" of every message.
    stored_bytes = untagged_bytes + stored * (len(f'[bench run="{tag}"]') - 1)
    if stored != done.count:
        raise BenchError(f"rsyslog wrote {stored - done.count} lines after the run had ended "
                         f"({done.count} when it ended)")
    r = figures(n, stored, lg, max(done.t_end_ns, lg["end_unix_ns"]), cpu_s, rss,
                os.path.getsize(out), stored_bytes)
    r["others_cpu_s"], r["others_busy_pct"] = others_cpu
    if transport == "udp" and udp_errors0 is not None and udp_errors1 is not None:
        r["udp_rcvbuf_errors"] = udp_errors1 - udp_errors0
    return r


# ---------------------------------------------------------------------------
# Report

METRICS = [  # key, label, format
    ("events_per_s", "events/s (stored)", "{:,.0f}"),
    ("mib_per_s", "MiB/s (payload)", "{:.1f}"),
    ("wall_s", "wall s (first byte → all stored)", "{:.3f}"),
    ("cpu_s_per_million", "CPU s per 1M events", "{:.2f}"),
    ("peak_rss_mib", "peak RSS MiB", "{:.1f}"),
    ("bytes_per_event", "bytes on disk / event", "{:.1f}"),
    ("loss_pct", "lost %", "{:.2f}"),
]
RATIO_KEYS = ["events_per_s", "mib_per_s", "cpu_s_per_million", "peak_rss_mib", "bytes_per_event"]
# A run during which other processes used more of the machine than this
# (percent of all cores over the run's wall time) is flagged as noisy.
OTHERS_NOISY_PCT = 10
MEDIAN_EXTRA = ["cpu_s", "disk_bytes", "stored", "lost", "loadgen_send_s"]


def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_mib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_mib = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "mem_total_mib": mem_mib,
            "kernel": platform.release()}


def git(*a):
    try:
        return subprocess.run(["git", *a], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def rsyslog_version(rsyslogd):
    try:
        out = subprocess.run([rsyslogd, "-v"], capture_output=True, text=True).stdout
        m = re.search(r"rsyslogd\s+(\S+)", out)
        return m.group(1) if m else None
    except OSError:
        return None


def fmt(key, v):
    if v is None:
        return "–"
    return dict((k, f) for k, _, f in METRICS)[key].format(v)


def ratio_cell(v):
    return "–" if v is None else f"{v:.2f}×"


def markdown(report):
    m = report["machine"]
    systems = report["systems"]
    both = "sluice" in systems and "rsyslog" in systems
    lines = [
        "## sluice end-to-end ingest benchmark, per syslog transport",
        "",
        f"- commit: `{report['commit']}`{' (dirty tree)' if report['dirty'] else ''}",
        f"- machine: {m['nproc']} × {m['cpu_model']}, {m['mem_total_mib']} MiB RAM, Linux {m['kernel']}",
        f"- date: {report['date']}",
        f"- command: `{report['command']}`",
        f"- stream: RFC 5424, seed {report['seed']}, ~{report['mean_message_bytes']:.0f} B per message, "
        f"{report['connections']} connection(s); {report['runs']} run(s), medians shown",
        f"- udp paced at {report['udp_rate']:,} events/s" if report["udp_rate"] else "- udp unpaced",
        f"- relp window: {report['relp_window']} unacknowledged messages per connection",
    ]
    busy = max(r["others_busy_pct"] for tr in report["transports"].values() for sy in tr["systems"].values()
               for r in sy["runs"])
    lines.append(f"- other processes used at most {busy:.0f} % of the machine's CPU during a run"
                 + (f" (above {OTHERS_NOISY_PCT} %: expect noise, see the last column of \"All runs\")"
                    if busy > OTHERS_NOISY_PCT else ""))
    if "rsyslog" in systems:
        lines.append(f"- peer: rsyslogd {report.get('rsyslog_version')} (input → omfile, each received "
                     "message verbatim, one per line)")
    transports = report["transports"]

    if both:
        lines += ["", "### Summary: sluice / rsyslog (medians)", "",
                  "Above 1 is better for events/s and MiB/s, below 1 for the others.", "",
                  "| transport | events | sluice events/s | rsyslog events/s | events/s | MiB/s | "
                  "CPU s/1M | peak RSS | disk B/event | lost % (median, worst run) sluice / rsyslog |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for t, tr in transports.items():
            sl, rs, ra = tr["systems"]["sluice"]["median"], tr["systems"]["rsyslog"]["median"], tr["ratios"]
            loss = (f"{sl['loss_pct']:.2f} (max {sl['loss_pct_max']:.2f}) / "
                    f"{rs['loss_pct']:.2f} (max {rs['loss_pct_max']:.2f})") if t == "udp" else "–"
            lines.append(f"| {t} | {tr['events']:,} | {sl['events_per_s']:,.0f} | {rs['events_per_s']:,.0f} | "
                         + " | ".join(ratio_cell(ra.get(k)) for k in RATIO_KEYS) + f" | {loss} |")

    for t, tr in transports.items():
        lines += ["", f"### {t}: {TRANSPORT_DESC[t]}", "",
                  f"{tr['events']:,} events ({tr['payload_bytes']:,} B payload)"
                  + (f"; rsyslog input: {RSYSLOG_DESC[t]}" if "rsyslog" in systems else ""), "",
                  "| metric (median) | " + " | ".join(systems) + (" | sluice / rsyslog |" if both else " |"),
                  "| --- | " + " | ".join("---:" for _ in systems) + (" | ---: |" if both else " |")]
        for key, label, _ in METRICS:
            if key == "loss_pct" and t != "udp":
                continue
            row = [fmt(key, tr["systems"][s]["median"].get(key)) for s in systems]
            ratio = tr["ratios"].get(key) if both else None
            lines.append(f"| {label} | " + " | ".join(row) +
                         ((f" | {ratio_cell(ratio)} |" if key in RATIO_KEYS else " | |") if both else " |"))

    lines += ["", "### All runs", "",
              "| transport | system | run | stored | lost | wall s | events/s | MiB/s | CPU s | CPU s/1M | "
              "peak RSS MiB | disk B | B/event | others' CPU % |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for t, tr in transports.items():
        for s in systems:
            for i, r in enumerate(tr["systems"][s]["runs"], 1):
                lost = f"{r['lost']:,}"
                if "udp_rcvbuf_errors" in r:
                    lost += f" (kernel rcvbuf drops {r['udp_rcvbuf_errors']:,})"
                lines.append(f"| {t} | {s} | {i} | {r['stored']:,} | {lost} | {r['wall_s']:.3f} | "
                             f"{r['events_per_s']:,.0f} | {r['mib_per_s']:.1f} | {r['cpu_s']:.2f} | "
                             f"{r['cpu_s_per_million']:.2f} | {r['peak_rss_mib']:.1f} | {r['disk_bytes']:,} | "
                             f"{r['bytes_per_event']:.1f} | {r['others_busy_pct']:.0f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------


def parse_list(text, allowed, what):
    items = [x.strip() for x in text.split(",") if x.strip()]
    for x in items:
        if x not in allowed:
            raise SystemExit(f"macro.py: unknown {what} {x!r} (one of {', '.join(allowed)})")
    if not items:
        raise SystemExit(f"macro.py: no {what} given")
    return list(dict.fromkeys(items))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=None,
                    help=f"events per run, every transport (default {DEFAULT_EVENTS})")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--transports", default=",".join(TRANSPORTS), help="comma list of " + ",".join(TRANSPORTS))
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--udp-rate", type=int, default=150_000, help="udp: events/s sent, 0 = unpaced")
    ap.add_argument("--relp-window", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--systems", default="sluice,rsyslog", help="comma list: sluice,rsyslog")
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--rsyslogd", default=shutil.which("rsyslogd") or "/usr/sbin/rsyslogd")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds to wait for all events stored (default 60 + events/5000)")
    ap.add_argument("--out", required=True, help="JSON results file")
    ap.add_argument("--command", default="bench/run.sh", help="command line to record in the report")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = ap.parse_args()
    if (args.events is not None and args.events <= 0) or args.runs <= 0 or args.connections <= 0:
        ap.error("--events, --runs and --connections must be positive")
    fixed_timeout = args.timeout
    args.timeout = (lambda n: fixed_timeout) if fixed_timeout else (lambda n: 60 + n / 5000)
    systems = parse_list(args.systems, ["sluice", "rsyslog"], "system")
    transports = parse_list(args.transports, TRANSPORTS, "transport")
    events = {t: args.events or DEFAULT_EVENTS for t in transports}

    if "sluice" in systems:
        help_text = sluice_supports(args.sluice)
        missing = [t for t in transports if t in SLUICE_FLAG and SLUICE_FLAG[t] not in help_text]
        if missing:
            raise BenchError(f"{args.sluice} has no {', '.join(SLUICE_FLAG[t] for t in missing)} "
                             f"(serve --help): build a newer sluice or leave out --transports "
                             f"{','.join(missing)}")

    top_tmp = tempfile.mkdtemp(prefix="sluice-bench-")
    try:
        args.pki = make_pki(os.getcwd(), top_tmp) if "tls" in transports else None
        expected = {}
        if "rsyslog" in systems:
            for n in sorted(set(events.values())):
                log(f"computing the expected digest of {n} messages")
                expected[n] = Expected(args, n)
        results = {t: {s: [] for s in systems} for t in transports}
        payload = {}
        stamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
        for run in range(args.runs):
            for ti, t in enumerate(transports):
                n = events[t]
                # Alternate the order so neither system always runs on a warmer cache.
                order = systems if (run + ti) % 2 == 0 else list(reversed(systems))
                for s in order:
                    tmp = tempfile.mkdtemp(prefix=f"{t}-{s}-", dir=top_tmp)
                    # Same length for both systems: the tag is stored with every event.
                    tag = f"{stamp}-{run + 1}-{TAG_ABBREV[t]}-{s[:2]}"
                    log(f"run {run + 1}/{args.runs}: {t} {s} ({n} events, tag {tag})")
                    keep = args.keep
                    try:
                        if s == "sluice":
                            r = run_sluice(args, t, n, tmp, tag)
                        else:
                            r = run_rsyslog(args, t, n, tmp, tag, expected[n])
                    except BenchError:
                        keep = True  # the logs and data explain the failure
                        log(f"kept {tmp} for inspection")
                        raise
                    finally:
                        kill_all()
                        CHILDREN.clear()
                        if not keep:
                            shutil.rmtree(tmp, ignore_errors=True)
                    payload[t] = r["payload_bytes"]
                    extra = f", lost {r['lost']:,} ({r['loss_pct']:.2f} %)" if t == "udp" else ""
                    log(f"  {t} {s}: {r['events_per_s']:,.0f} events/s, {r['cpu_s_per_million']:.2f} CPU s/1M, "
                        f"{r['peak_rss_mib']:.1f} MiB RSS, {r['bytes_per_event']:.1f} B/event{extra}")
                    results[t][s].append(r)
    except BaseException:
        log(f"kept {top_tmp} (certificates and failed runs)")
        raise
    if not args.keep:
        shutil.rmtree(top_tmp, ignore_errors=True)
    else:
        log(f"kept {top_tmp}")

    report = {
        "schema": 2,
        "commit": git("rev-parse", "--short", "HEAD") or "none",
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "command": args.command,
        "runs": args.runs,
        "connections": args.connections,
        "seed": args.seed,
        "udp_rate": args.udp_rate,
        "relp_window": args.relp_window,
        "systems": systems,
        "mean_message_bytes": statistics.mean(payload[t] / events[t] for t in transports),
        "transports": {},
    }
    if "rsyslog" in systems:
        report["rsyslog_version"] = rsyslog_version(args.rsyslogd)
    for t in transports:
        tr = {"events": events[t], "payload_bytes": payload[t], "systems": {}, "ratios": {}}
        for s in systems:
            runs = results[t][s]
            median = {k: statistics.median(r[k] for r in runs) for k, _, _ in METRICS}
            for k in MEDIAN_EXTRA:
                median[k] = statistics.median(r[k] for r in runs)
            median["loss_pct_max"] = max(r["loss_pct"] for r in runs)
            tr["systems"][s] = {"runs": runs, "median": median}
        if "sluice" in systems and "rsyslog" in systems:
            a, b = tr["systems"]["sluice"]["median"], tr["systems"]["rsyslog"]["median"]
            tr["ratios"] = {k: round(a[k] / b[k], 3) if b[k] else None for k in RATIO_KEYS}
        report["transports"][t] = tr

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(markdown(report), flush=True)
    log(f"wrote {args.out}")


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    try:
        main()
    except BenchError as e:
        log(f"FAILED: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
    finally:
        kill_all()
