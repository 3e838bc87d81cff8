#!/usr/bin/env python3
"""Store benchmark: ingest rate, bytes on disk, time to searchable, retention
and search latency of the real server, on a generated multi-day stream, plus
bytes on disk for the Loghub samples.

Driven by bench/store_bench.sh (which builds sluice and sluice_gen_logs,
installs zstd if missing and copies the binaries aside); see bench/README.md,
"Store: ingest, bytes on disk, time to searchable, retention". Python 3
standard library only.

Once per invocation: generate N events with sluice_gen_logs (LF framing,
spread over --days days ending now), deal the lines round-robin into C files
(one per connection), and measure the sender alone against a sink that
discards. Per run: start sluice on a fresh data directory, send the C files
over C TCP connections in parallel (sendfile) while a probe sends one unique
marker line every --probe-interval-ms over its own connection and polls the
search API until it finds it; poll /metrics until N (+ the probes) are
stored; run a few searches; read CPU and peak RSS; stop with SIGTERM (every
buffer is written as blocks) and measure store/ and raw/. Then start sluice
again on the same directory with store.retention_days set so that the oldest
day partitions are expired, time their drops, and check that a search finds
none of their events. After the runs: zstd -19 --long=27 of the stream (once:
it is slow), then the Loghub files, each through a fresh server.

Progress goes to stderr; stdout carries only the markdown report. Any failed
check (fewer events stored than sent, a nonzero exit, a probe never found, a
dropped day still searchable) raises RuntimeError: exit 1 with the message,
and the work directory is kept.
"""

import argparse
import datetime
import glob
import hashlib
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
import threading
import time
import urllib.parse

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20
DAY_S = 86400

# Poll period of /metrics while waiting for "all stored": one cheap GET.
POLL_S = 0.005
# Reference figure of the issue: Elasticsearch's bytes per event on disk.
ES_BYTES_PER_EVENT = 1800
# Goals of the issue.
GOAL_RSS_MIB = 256
GOAL_STORE_OVER_ZSTD = 1.0
GOAL_SEARCHABLE_P99_S = 1.0

CHILDREN = []


def log(msg):
    print(f"store_bench: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------- processes
def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    CHILDREN.append(p)
    return p


def stop(p, timeout_s=300.0):
    """SIGTERM, wait; returns (exit code, seconds it took)."""
    t0 = time.monotonic()
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise RuntimeError(f"pid {p.pid} did not exit within {timeout_s:.0f} s of SIGTERM")
    return p.returncode, time.monotonic() - t0


def kill_all():
    for p in CHILDREN:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except OSError:
                pass
    for p in CHILDREN:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def machine_busy_s():
    with open("/proc/stat") as f:
        fields = f.readline().split()
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + steal) / CLK_TCK


def own_and_children_cpu():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dir_bytes(path):
    """Apparent bytes of every file below path (as `du -sb`, without the
    directories' own sizes), split into RocksDB table files (*.sst), write-ahead
    logs (*.log), RocksDB's info log (LOG, LOG.old.*) and the rest."""
    parts = {"total": 0, "sst": 0, "wal": 0, "info_log": 0, "other": 0, "files": 0}
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                size = os.lstat(os.path.join(dirpath, name)).st_size
            except FileNotFoundError:
                continue
            parts["total"] += size
            parts["files"] += 1
            if name.endswith(".sst"):
                parts["sst"] += size
            elif name == "LOG" or name.startswith("LOG.old"):
                parts["info_log"] += size
            elif name.endswith(".log"):
                parts["wal"] += size
            else:
                parts["other"] += size
    return parts


# --------------------------------------------------------------- HTTP
class Http:
    """One keep-alive connection; reconnects once on error."""

    def __init__(self, port, timeout_s=30):
        self.port, self.timeout_s, self.conn = port, timeout_s, None

    def get(self, path):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()


def metrics(client):
    status, body = client.get("/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def metric_sum(m, prefix):
    return sum(v for k, v in m.items() if k.startswith(prefix))


def search(client, q="", frm=None, to=None, limit=100):
    params = {"q": q, "limit": str(limit)}
    if frm:
        params["from"] = frm
    if to:
        params["to"] = to
    t0 = time.monotonic()
    status, body = client.get("/api/search?" + urllib.parse.urlencode(params))
    elapsed = time.monotonic() - t0
    if status != 200:
        raise RuntimeError(f"search {params} answered {status}: {body[:300]!r}")
    return json.loads(body), elapsed


def rfc3339(unix_s):
    return datetime.datetime.fromtimestamp(unix_s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_number(name):
    return (datetime.date.fromisoformat(name) - datetime.date(1970, 1, 1)).days


def day_bounds(name):
    d = day_number(name)
    return rfc3339(d * DAY_S), rfc3339(d * DAY_S + DAY_S - 1)


# --------------------------------------------------------------- sluice
class Server:
    """sluice serve on free ports; stderr is read by a thread that keeps every
    line with the monotonic time it arrived (the retention check parses them)."""

    def __init__(self, binary, data, log_path, config=None):
        self.sport, self.hport = free_port(), free_port()
        argv = [binary, "serve", "--data", data, "--syslog", f"127.0.0.1:{self.sport}",
                "--http", f"127.0.0.1:{self.hport}"]
        if config:
            argv += ["--config", config]
        self.lines, self.log_path = [], log_path
        self.log_f = open(log_path, "w")
        self.t_start = time.monotonic()
        self.p = spawn(argv, stdout=self.log_f, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.client = Http(self.hport)

    def _read(self):
        for line in self.p.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))
            self.log_f.write(line)
            self.log_f.flush()

    def wait_ready(self, timeout_s=120):
        deadline = time.monotonic() + timeout_s
        while True:
            self.check_alive()
            try:
                if self.client.get("/healthz")[0] == 200:
                    return time.monotonic() - self.t_start
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"sluice /healthz never answered 200; see {self.log_path}")
            time.sleep(0.01)

    def check_alive(self):
        if self.p.poll() is not None:
            raise RuntimeError(f"sluice exited with {self.p.returncode}; see {self.log_path}")

    def stop(self):
        self.client.close()
        rc, took = stop(self.p)
        self.reader.join(timeout=10)
        self.log_f.close()
        if rc != 0:
            raise RuntimeError(f"sluice exited with {rc} on SIGTERM; see {self.log_path}")
        return took


# --------------------------------------------------------------- senders
# One process per connection (no GIL shared with the poller): connect, say
# "ready", wait for "go" on stdin, then sendfile() the whole file; half-close
# and read until the server closes, so the socket never closes with unread
# bytes (a RST makes the receiver's kernel drop what it has not read yet).
SENDER = r'''
import json, socket, sys, time
path, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
print("ready", flush=True)
sys.stdin.readline()
start = time.time_ns()
with open(path, "rb") as f:
    sent = s.sendfile(f)
end = time.time_ns()
s.shutdown(socket.SHUT_WR)
s.settimeout(900)
while s.recv(65536):
    pass
s.close()
print(json.dumps({"start_unix_ns": start, "end_unix_ns": end, "bytes": sent}), flush=True)
'''

# The sink of the sender-alone measurement: accepts C connections, reads each
# to its end (1 MiB recv_into, one thread per connection) and closes it.
SINK = r'''
import json, socket, sys, threading
c = int(sys.argv[1])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(c)
print(ls.getsockname()[1], flush=True)
total = [0] * c
def drain(i, s):
    buf = bytearray(1 << 20)
    while True:
        n = s.recv_into(buf)
        if not n:
            break
        total[i] += n
    s.close()
threads = []
for i in range(c):
    s, _ = ls.accept()
    t = threading.Thread(target=drain, args=(i, s))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
print(json.dumps({"bytes": sum(total)}), flush=True)
'''


def start_senders(parts, port):
    senders = []
    for path in parts:
        p = spawn([sys.executable, "-c", SENDER, path, str(port)], stdin=subprocess.PIPE,
                  stdout=subprocess.PIPE, text=True)
        senders.append(p)
    for p in senders:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError("a sender could not connect")
    for p in senders:
        p.stdin.write("go\n")
        p.stdin.flush()
    return senders


def finish_senders(senders, timeout_s=900):
    results = []
    for p in senders:
        out, _ = p.communicate(timeout=timeout_s)
        if p.returncode != 0:
            raise RuntimeError(f"a sender failed with exit code {p.returncode}")
        results.append(json.loads(out))
    return {"start_unix_ns": min(r["start_unix_ns"] for r in results),
            "end_unix_ns": max(r["end_unix_ns"] for r in results),
            "bytes": sum(r["bytes"] for r in results)}


def sender_alone(parts, total_bytes, n):
    sink = spawn([sys.executable, "-c", SINK, str(len(parts))], stdout=subprocess.PIPE, text=True)
    port = int(sink.stdout.readline())
    sent = finish_senders(start_senders(parts, port))
    got = json.loads(sink.communicate(timeout=120)[0])
    if got["bytes"] != total_bytes or sent["bytes"] != total_bytes:
        raise RuntimeError(f"sender alone: sent {sent['bytes']}, sink got {got['bytes']} of {total_bytes} bytes")
    secs = (sent["end_unix_ns"] - sent["start_unix_ns"]) / 1e9
    return {"seconds": round(secs, 3), "events_per_s": round(n / secs), "mib_per_s": round(total_bytes / MIB / secs, 1)}


# --------------------------------------------------------------- probe
class Probe(threading.Thread):
    """Every interval, sends one line with a unique marker token (stamped with
    the current time) over its own TCP connection, then polls the search API
    for the marker until an event comes back; keeps found - sent. The next
    probe goes out an interval after the previous one was sent, or when it
    was found if that took longer: one probe in flight at a time."""

    def __init__(self, sport, hport, tag, interval_s, poll_s, timeout_s=60):
        super().__init__(daemon=True)
        self.sport, self.tag, self.interval_s, self.poll_s, self.timeout_s = sport, tag, interval_s, poll_s, timeout_s
        self.client = Http(hport)
        self.stop_evt = threading.Event()
        self.sent = 0
        self.latencies = []   # seconds, found - sent
        self.search_s = []    # round trip of the search that found it
        self.polls = 0
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the main thread
            self.error = f"probe: {e}"

    def _run(self):
        sock = socket.create_connection(("127.0.0.1", self.sport))
        i = 0
        next_send = time.monotonic()
        while not self.stop_evt.is_set():
            pause = next_send - time.monotonic()
            if pause > 0 and self.stop_evt.wait(pause):
                break
            marker = f"sbprobe{self.tag}n{i}"
            now = time.time()
            stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            line = f"<14>1 {stamp} bench-probe storebench - - - probe {marker} sent\n".encode()
            sent_ns, sent_mono = time.time_ns(), time.monotonic()
            sock.sendall(line)
            self.sent += 1
            # Over the minutes around the marker's time, as someone following
            # the newest events would: a poll that does not find it then reads
            # only the newest partition's recent events, so it is short and
            # the found time is precise.
            path = "/api/search?" + urllib.parse.urlencode(
                {"q": marker, "limit": "1", "from": rfc3339(int(now) - 5), "to": rfc3339(int(now) + 300)})
            while True:
                t0 = time.monotonic()
                status, body = self.client.get(path)
                found_ns = time.time_ns()
                self.polls += 1
                if status != 200:
                    raise RuntimeError(f"search answered {status}: {body[:200]!r}")
                if json.loads(body)["count"] >= 1:
                    self.latencies.append((found_ns - sent_ns) / 1e9)
                    self.search_s.append(time.monotonic() - t0)
                    break
                if time.monotonic() - sent_mono > self.timeout_s:
                    raise RuntimeError(f"marker {marker} not found {self.timeout_s} s after it was sent")
                time.sleep(self.poll_s)
            next_send = sent_mono + self.interval_s
            i += 1
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(30)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass
        sock.close()
        self.client.close()


def search_look(client, stream, repeats, needle_hits):
    """Median round trips of a rare-token search (the needle, over the whole
    range) and a common-token one (`GET`, limit 100)."""
    rare, common = [], []
    for _ in range(repeats):
        r, s = search(client, stream["needle"], limit=100)
        if r["count"] != needle_hits:
            raise RuntimeError(f"the needle {stream['needle']} was found {r['count']} times, not {needle_hits}")
        rare.append(s)
        r, s = search(client, "GET", limit=100)
        if r["count"] != 100:
            raise RuntimeError(f"'GET' found {r['count']} events, expected 100")
        common.append(s)
    return {"rare_s": round(statistics.median(rare), 4), "common_s": round(statistics.median(common), 4),
            "rare_all_s": [round(x, 4) for x in rare], "common_all_s": [round(x, 4) for x in common]}


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


# --------------------------------------------------------------- one run
DROP_RE = re.compile(r"sluice: retention: dropped partition (\d{4}-\d\d-\d\d) \(([^)]*)\)(?: in ([0-9.]+) ms)?")


def one_run(a, run, stream):
    d = os.path.join(a.work, f"run{run}")
    data = os.path.join(d, "data")
    os.makedirs(d)
    n = stream["events"]
    server = Server(a.sluice, data, os.path.join(d, "sluice.log"))
    probe = None
    senders = []
    try:
        server.wait_ready()
        client = server.client
        cpu0 = cpu_seconds(server.p.pid)
        busy0, ours0, t0 = machine_busy_s(), own_and_children_cpu(), time.monotonic()
        probe = Probe(server.sport, server.hport, f"{a.tag}r{run}", a.probe_interval_ms / 1000,
                      a.probe_poll_ms / 1000)
        probe.start()
        senders = start_senders(stream["parts"], server.sport)
        key = 'sluice_events_stored_total{input="syslog_tcp"}'
        deadline = time.monotonic() + a.timeout
        max_buffered, samples, stored = 0, 0, 0
        while True:
            m = metrics(client)
            now_ns = time.time_ns()
            probes_sent = probe.sent  # read after the fetch: stored >= n + this means all n are in
            samples += 1
            stored = int(m.get(key, 0))
            max_buffered = max(max_buffered, int(m.get("sluice_store_buffered_events", 0)))
            if stored >= n + probes_sent:
                done_ns = now_ns
                break
            server.check_alive()
            if probe.error:
                raise RuntimeError(probe.error)
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {stored} of {n} events (+{probes_sent} probes) stored after {a.timeout:.0f} s")
            time.sleep(POLL_S)
        probe.stop_evt.set()
        probe.join(timeout=120)
        if probe.error:
            raise RuntimeError(probe.error)
        sent = finish_senders(senders)
        senders = []
        if sent["bytes"] != stream["bytes"]:
            raise RuntimeError(f"the senders sent {sent['bytes']} of {stream['bytes']} bytes")
        cpu = cpu_seconds(server.p.pid) - cpu0
        others = (machine_busy_s() - busy0) - cpu - (own_and_children_cpu() - ours0)
        others_pct = 100 * max(0.0, others) / ((time.monotonic() - t0) * os.cpu_count())

        # The count check: every event sent is received and stored, once.
        expected = n + probe.sent
        m = metrics(client)
        received = int(m.get('sluice_events_received_total{input="syslog_tcp"}', 0))
        stored = int(m.get(key, 0))
        dropped = int(metric_sum(m, "sluice_events_dropped_total"))
        errors = int(metric_sum(m, "sluice_ingest_errors_total"))
        failures = int(metric_sum(m, "sluice_parse_failures_total"))
        if received != expected or stored != expected:
            raise RuntimeError(f"sent {expected} events ({n} + {probe.sent} probes), "
                               f"received {received}, stored {stored}")
        if dropped or errors:
            raise RuntimeError(f"{dropped} events dropped, {errors} ingest errors")
        if len(probe.latencies) != probe.sent:
            raise RuntimeError(f"{probe.sent} probes sent, {len(probe.latencies)} found")

        # Search quick look, over the whole range, right after the ingest:
        # blocks plus what is still buffered.
        buffered_at_search = int(m.get("sluice_store_buffered_events", 0))
        look = search_look(client, stream, a.search_repeats, 1)
        # The days that retention will drop must hold events now.
        for day in a.expire_days:
            frm, to = day_bounds(day)
            r, _ = search(client, "", frm, to, limit=1)
            if r["count"] != 1:
                raise RuntimeError(f"no event of {day} found before retention")

        rss_mib = proc_status_kib(server.p.pid, "VmHWM") / 1024
        blocks_before_stop = int(m.get("sluice_store_blocks_written_total", 0))
        shutdown_s = server.stop()
        store, raw = dir_bytes(os.path.join(data, "store")), dir_bytes(os.path.join(data, "raw"))
        wall = (done_ns - sent["start_unix_ns"]) / 1e9
        result = {
            "run": run, "events": n, "probes": probe.sent, "stored": stored,
            "wall_s": round(wall, 3), "events_per_s": round(n / wall), "mib_per_s": round(stream["bytes"] / MIB / wall, 2),
            "senders_s": round((sent["end_unix_ns"] - sent["start_unix_ns"]) / 1e9, 3),
            "cpu_s": round(cpu, 2), "cpu_s_per_1m": round(cpu * 1e6 / n, 2),
            "peak_rss_mib": round(rss_mib, 1), "max_buffered_events": max_buffered,
            "parse_failures": failures, "metric_samples": samples, "others_cpu_pct": round(others_pct, 1),
            "blocks_before_stop": blocks_before_stop, "shutdown_s": round(shutdown_s, 2),
            "store": store, "raw": raw,
            "store_bytes_per_event": round(store["total"] / stored, 2),
            "raw_log_bytes_per_event": round(raw["total"] / stored, 2),
            "searchable": {
                "probes": probe.sent, "p50_s": round(percentile(probe.latencies, 50), 4),
                "p99_s": round(percentile(probe.latencies, 99), 4), "max_s": round(max(probe.latencies), 4),
                "mean_s": round(statistics.mean(probe.latencies), 4),
                "search_rtt_p50_s": round(percentile(probe.search_s, 50), 4), "polls": probe.polls},
            "search": dict(look, buffered_events=buffered_at_search),
        }
        result["retention"] = retention_run(a, d, data, stream)
        return result
    finally:
        if probe is not None:
            probe.stop_evt.set()
        for p in senders:
            if p.poll() is None:
                p.kill()
        if server.p.poll() is None:
            try:
                server.stop()
            except RuntimeError as e:
                log(str(e))


def retention_run(a, d, data, stream):
    """Restarts sluice on the run's data with store.retention_days = a.retention_days:
    times the drops of the expired partitions and checks they are gone."""
    config = os.path.join(d, "retention.yaml")
    with open(config, "w") as f:
        f.write(f"store:\n  retention_days: {a.retention_days}\n")
    today = int(time.time()) // DAY_S
    expired = sorted(day for day in stream["per_day"] if day_number(day) + a.retention_days < today)
    if not expired:
        raise RuntimeError(f"retention_days {a.retention_days} expires none of {sorted(stream['per_day'])}")
    store_before = dir_bytes(os.path.join(data, "store"))["total"]
    server = Server(a.sluice, data, os.path.join(d, "sluice-retention.log"), config)
    try:
        ready_s = server.wait_ready()
        deadline = time.monotonic() + a.timeout
        while True:
            drops = [(t, DROP_RE.search(line)) for t, line in list(server.lines)]
            drops = [(t, m) for t, m in drops if m]
            if len(drops) >= len(expired):
                break
            server.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(drops)} of {len(expired)} partitions dropped after {a.timeout:.0f} s")
            time.sleep(0.01)
        days = sorted(m.group(1) for _, m in drops)
        if days != expired:
            raise RuntimeError(f"retention dropped {days}, expected {expired}")
        # Every event of a dropped day is gone; the newest day is still there.
        for day in expired:
            frm, to = day_bounds(day)
            r, _ = search(server.client, "", frm, to, limit=1)
            if r["count"] != 0:
                raise RuntimeError(f"an event of {day} is still found after its partition was dropped")
        newest = max(stream["per_day"])
        frm, to = day_bounds(newest)
        if search(server.client, "", frm, to, limit=1)[0]["count"] != 1:
            raise RuntimeError(f"no event of {newest} found after retention")
        # The same searches with every event in blocks (nothing buffered
        # after the clean stop), the expired days gone.
        needle_day = datetime.datetime.fromtimestamp(stream["needle_unix_us"] / 1e6, datetime.timezone.utc)
        look = search_look(server.client, stream, a.search_repeats,
                           0 if f"{needle_day:%Y-%m-%d}" in expired else 1)
        m = metrics(server.client)
        dropped_metric = int(m.get('sluice_store_partitions_dropped_total{reason="age"}', 0))
        if dropped_metric != len(expired):
            raise RuntimeError(f"sluice_store_partitions_dropped_total{{reason=\"age\"}} is {dropped_metric}")
        per_drop = [float(m.group(3)) / 1000 if m.group(3) else None for _, m in drops]
        result = {
            "retention_days": a.retention_days, "dropped": days,
            "dropped_events": sum(stream["per_day"][day] for day in days),
            "ready_s": round(ready_s, 3),
            "start_to_last_drop_s": round(drops[-1][0] - server.t_start, 3),
            "per_drop_s": [None if x is None else round(x, 4) for x in per_drop],
            "store_before": store_before, "search": look,
            "events_left": sum(n for day, n in stream["per_day"].items() if day not in expired),
        }
    finally:
        if server.p.poll() is None:
            server.stop()
    result["store_after"] = dir_bytes(os.path.join(data, "store"))["total"]
    return result


# --------------------------------------------------------------- zstd
def zstd_bytes(path, args):
    t0 = time.monotonic()
    p = subprocess.run(["zstd", *args, "-c", "-q", path], stdout=subprocess.PIPE, check=True)
    return len(p.stdout), time.monotonic() - t0


def zstd_bytes_streamed(path, args):
    """Compressed size without holding the output: counted from a pipe."""
    t0 = time.monotonic()
    p = spawn(["zstd", *args, "-c", "-q", path], stdout=subprocess.PIPE)
    total = 0
    while True:
        chunk = p.stdout.read(1 << 20)
        if not chunk:
            break
        total += len(chunk)
    if p.wait() != 0:
        raise RuntimeError(f"zstd {' '.join(args)} failed with {p.returncode}")
    return total, time.monotonic() - t0


def generator_fingerprint(a):
    """What the generator writes for fixed flags: a different generator (or
    seed, or span) gives a different stream, and the cached zstd figures no
    longer apply."""
    p = subprocess.run([a.gen, "--count", "20000", "--seed", str(a.seed), "--days", str(a.days),
                        "--end", "1700000000"], capture_output=True, check=True)
    return hashlib.sha256(p.stdout).hexdigest()[:16]


def stream_zstd(a, stream):
    """zstd -19 --long=27 -T2 (and -3) of the stream. -19 takes about as long
    as all the runs together, so the figures are kept in a cache file next to
    the results, keyed by the generator's fingerprint, events, seed and days:
    a later stream with the same key differs only in its end time."""
    key = f"{generator_fingerprint(a)}-{a.events}-{a.seed}-{a.days}"
    cache = {}
    if a.zstd_cache and os.path.exists(a.zstd_cache):
        with open(a.zstd_cache) as f:
            cache = json.load(f)
        if key in cache:
            hit = cache[key]
            log(f"zstd figures from {a.zstd_cache} (computed {hit['date']})")
            return dict(hit["zstd19"], cached=hit["date"]), dict(hit["zstd3"], cached=hit["date"])
    log("zstd -19 --long=27 -T2 of the stream (slow)")
    b, secs = zstd_bytes_streamed(stream["path"], ["-19", "--long=27", "-T2"])
    z19 = {"bytes": b, "seconds": round(secs, 1), "bytes_per_event": round(b / a.events, 2)}
    b, secs = zstd_bytes_streamed(stream["path"], ["-3", "-T2"])
    z3 = {"bytes": b, "seconds": round(secs, 1), "bytes_per_event": round(b / a.events, 2)}
    if a.zstd_cache:
        cache[key] = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                      "stream_bytes": stream["bytes"], "zstd19": z19, "zstd3": z3}
        os.makedirs(os.path.dirname(a.zstd_cache) or ".", exist_ok=True)
        with open(a.zstd_cache, "w") as f:
            json.dump(cache, f, indent=1)
    return z19, z3


# --------------------------------------------------------------- Loghub
def loghub_files(root):
    if not root or not os.path.isdir(root):
        return []
    return sorted(glob.glob(os.path.join(root, "*", "*.log")))


def loghub_one(a, path, i):
    d = os.path.join(a.work, f"loghub{i}")
    data = os.path.join(d, "data")
    os.makedirs(d)
    with open(path, "rb") as f:
        text = f.read()
    lines = [line for line in text.split(b"\n") if line]
    # Octet counting: each line is delivered exactly as in the file, whatever
    # it starts with (an LF-framed line starting "460810 ..." would read as a
    # length).
    stream = os.path.join(d, "stream.bin")
    with open(stream, "wb") as f:
        f.write(b"".join(b"%d %s" % (len(line), line) for line in lines))
    # No retention: lines with RFC 3164 times carry no year, and the months
    # already past this year would be dropped as older than 30 days.
    config = os.path.join(d, "sluice.yaml")
    with open(config, "w") as f:
        f.write("store:\n  retention_days: 0\n")
    server = Server(a.sluice, data, os.path.join(d, "sluice.log"), config)
    try:
        server.wait_ready()
        sent = finish_senders(start_senders([stream], server.sport))
        key = 'sluice_events_stored_total{input="syslog_tcp"}'
        deadline = time.monotonic() + 120
        while True:
            m = metrics(server.client)
            if int(m.get(key, 0)) >= len(lines):
                break
            server.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path}: {int(m.get(key, 0))} of {len(lines)} lines stored")
            time.sleep(0.02)
        stored = int(m.get(key, 0))
        failures = int(metric_sum(m, 'sluice_parse_failures_total{input="syslog_tcp"'))
        partitions = int(m.get("sluice_store_partitions", 0))
        if stored != len(lines) or sent["bytes"] != os.path.getsize(stream):
            raise RuntimeError(f"{path}: sent {len(lines)} lines, stored {stored}")
        server.stop()
    finally:
        if server.p.poll() is None:
            server.stop()
    store, raw = dir_bytes(os.path.join(data, "store")), dir_bytes(os.path.join(data, "raw"))
    z19, _ = zstd_bytes(path, ["-19", "--long=27", "-T2"])
    n = len(lines)
    if not a.keep:
        shutil.rmtree(d)
    return {"dataset": os.path.basename(os.path.dirname(path)), "file": os.path.basename(path),
            "lines": n, "file_bytes": len(text), "parse_failures": failures, "partitions": partitions,
            "store": store, "raw": raw, "zstd19_bytes": z19,
            "file_bytes_per_event": round(len(text) / n, 1),
            "store_bytes_per_event": round(store["total"] / n, 1),
            "store_data_bytes_per_event": round((store["sst"] + store["wal"]) / n, 1),
            "raw_log_bytes_per_event": round(raw["total"] / n, 1),
            "zstd19_bytes_per_event": round(z19 / n, 1),
            "store_over_zstd19": round(store["total"] / z19, 2),
            "store_data_over_zstd19": round((store["sst"] + store["wal"]) / z19, 2)}


# --------------------------------------------------------------- stream
def make_stream(a):
    path = os.path.join(a.work, "stream.txt")
    end = int(time.time()) - 60  # a minute back: nothing lands in the future
    t0 = time.monotonic()
    with open(path, "wb") as out:
        p = subprocess.run([a.gen, "--count", str(a.events), "--seed", str(a.seed), "--days", str(a.days),
                            "--end", str(end), "--framing", "lf"], stdout=out, stderr=subprocess.PIPE,
                           check=False)
    if p.returncode != 0:
        raise RuntimeError(f"sluice_gen_logs failed: {p.stderr.decode()[-500:]}")
    gen_s = time.monotonic() - t0
    summary = json.loads(p.stderr.decode().strip().splitlines()[-1])
    if summary["bytes"] != os.path.getsize(path) or summary["events"] != a.events:
        raise RuntimeError("the generator's summary does not match its output")
    # Deal the lines round-robin into one file per connection: every
    # connection carries the whole time span, in order, so the merged stream
    # the server sees advances in time as a real one does.
    parts = []
    if a.connections == 1:
        parts = [path]
    else:
        prefix = os.path.join(a.work, "part.")
        subprocess.run(["split", "-n", f"r/{a.connections}", "-d", "-a", "3", path, prefix], check=True)
        parts = sorted(glob.glob(prefix + "*"))
    summary.update({"path": path, "parts": parts, "generate_s": round(gen_s, 2), "end": end})
    return summary


# --------------------------------------------------------------- report
def machine_info():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
                 platform.processor() or "unknown")
    mem = next((int(l.split()[1]) // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal:")), None)
    return {"nproc": os.cpu_count(), "cpu_model": model, "mem_total_mib": mem, "kernel": platform.release()}


def git(root, *args):
    p = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def med(runs, get):
    return statistics.median(get(r) for r in runs)


def spread(runs, get, fmt):
    values = [get(r) for r in runs]
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def yes_no(ok):
    return "**met**" if ok else "**not met**"


def report(a, stream, sender, runs, z19, z3, loghub, out_path):
    mach = machine_info()
    commit, dirty = a.commit, a.dirty
    n = stream["events"]
    raw_b = stream["bytes"]
    stored = med(runs, lambda r: r["stored"])
    medians = {
        "events_per_s": med(runs, lambda r: r["events_per_s"]),
        "mib_per_s": med(runs, lambda r: r["mib_per_s"]),
        "cpu_s_per_1m": med(runs, lambda r: r["cpu_s_per_1m"]),
        "peak_rss_mib": med(runs, lambda r: r["peak_rss_mib"]),
        "store_bytes_per_event": med(runs, lambda r: r["store_bytes_per_event"]),
        "raw_log_bytes_per_event": med(runs, lambda r: r["raw_log_bytes_per_event"]),
        "searchable_p50_s": med(runs, lambda r: r["searchable"]["p50_s"]),
        "searchable_p99_s": med(runs, lambda r: r["searchable"]["p99_s"]),
        "searchable_max_s": med(runs, lambda r: r["searchable"]["max_s"]),
        "search_rare_s": med(runs, lambda r: r["search"]["rare_s"]),
        "search_common_s": med(runs, lambda r: r["search"]["common_s"]),
        "search_blocks_rare_s": med(runs, lambda r: r["retention"]["search"]["rare_s"]),
        "search_blocks_common_s": med(runs, lambda r: r["retention"]["search"]["common_s"]),
        "retention_start_to_last_drop_s": med(runs, lambda r: r["retention"]["start_to_last_drop_s"]),
        "shutdown_s": med(runs, lambda r: r["shutdown_s"]),
    }
    store_b = med(runs, lambda r: r["store"]["total"])
    raw_log_b = med(runs, lambda r: r["raw"]["total"])
    ratio = store_b / z19["bytes"]
    worst_p99 = max(r["searchable"]["p99_s"] for r in runs)
    worst_rss = max(r["peak_rss_mib"] for r in runs)
    goals = {"peak_rss_le_256_mib": worst_rss <= GOAL_RSS_MIB,
             "store_le_zstd19": ratio <= GOAL_STORE_OVER_ZSTD,
             "searchable_p99_le_1s": worst_p99 <= GOAL_SEARCHABLE_P99_S}
    days = sorted(stream["per_day"])
    probes = [r["searchable"]["probes"] for r in runs]

    P = print
    P("## Store: ingest, bytes on disk, time to searchable, retention\n")
    P(f"- command: `{a.command}`")
    P(f"- commit {commit}{' (dirty)' if dirty else ''} when the run started, sluice built "
      f"{datetime.datetime.fromtimestamp(os.path.getmtime(a.sluice), datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
      f"report {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    P(f"- machine: {mach['nproc']} × {mach['cpu_model']}, {mach['mem_total_mib']} MiB RAM, Linux {mach['kernel']}; "
      f"others' CPU during ingest (worst run): {max(r['others_cpu_pct'] for r in runs):.1f} %"
      f"{' — SUSPECT: something else was running' if max(r['others_cpu_pct'] for r in runs) > 10 else ''}")
    P(f"- stream: {n:,} events from `sluice_gen_logs --seed {a.seed} --days {a.days}` (RFC 5424, LF framing), "
      f"{raw_b / MIB:,.1f} MiB, {raw_b / n:.1f} bytes/event, {len(days)} day partitions "
      f"({days[0]} … {days[-1]}); generated in {stream['generate_s']:.1f} s; sent over {a.connections} TCP "
      f"connections (sendfile), lines dealt round-robin")
    P(f"- {len(runs)} run(s), medians (min–max); probes every {a.probe_interval_ms} ms during ingest "
      f"({min(probes)}–{max(probes)} per run)\n")

    P("| figure | result | goal |")
    P("| --- | ---: | --- |")
    P(f"| ingest into the store, events/s | {spread(runs, lambda r: r['events_per_s'], lambda v: f'{v:,.0f}')} | |")
    P(f"| ingest, MiB/s of raw text | {spread(runs, lambda r: r['mib_per_s'], lambda v: f'{v:.1f}')} | |")
    P(f"| sender alone (to a discarding sink), events/s | {sender['events_per_s']:,.0f} ({sender['mib_per_s']:.0f} MiB/s) | |")
    P(f"| server CPU s per 1M events | {spread(runs, lambda r: r['cpu_s_per_1m'], lambda v: f'{v:.2f}')} | |")
    P(f"| peak RSS (VmHWM), MiB | {spread(runs, lambda r: r['peak_rss_mib'], lambda v: f'{v:.0f}')} | ≤ {GOAL_RSS_MIB}: {yes_no(goals['peak_rss_le_256_mib'])} |")
    P(f"| time to searchable p50, ms | {spread(runs, lambda r: r['searchable']['p50_s'] * 1000, lambda v: f'{v:.0f}')} | |")
    P(f"| time to searchable p99, ms | {spread(runs, lambda r: r['searchable']['p99_s'] * 1000, lambda v: f'{v:.0f}')} | ≤ 1000: {yes_no(goals['searchable_p99_le_1s'])} |")
    P(f"| time to searchable max, ms | {spread(runs, lambda r: r['searchable']['max_s'] * 1000, lambda v: f'{v:.0f}')} | |")
    P(f"| of which the finding search's round trip (p50), ms | {spread(runs, lambda r: r['searchable']['search_rtt_p50_s'] * 1000, lambda v: f'{v:.0f}')} | |")
    buffered = med(runs, lambda r: r["search"]["buffered_events"])
    left = runs[0]["retention"]["events_left"]
    P(f"| search right after the ingest ({buffered:,.0f} events still buffered), rare token (1 hit), whole range, ms | "
      f"{spread(runs, lambda r: r['search']['rare_s'] * 1000, lambda v: f'{v:.0f}')} | |")
    P(f"| … common token `GET` (limit 100), ms | {spread(runs, lambda r: r['search']['common_s'] * 1000, lambda v: f'{v:.0f}')} | |")
    P(f"| search after the restart (all {left:,} events left in blocks), rare token, ms | "
      f"{spread(runs, lambda r: r['retention']['search']['rare_s'] * 1000, lambda v: f'{v:.0f}')} | |")
    P(f"| … common token `GET` (limit 100), ms | "
      f"{spread(runs, lambda r: r['retention']['search']['common_s'] * 1000, lambda v: f'{v:.0f}')} | |")
    P(f"| SIGTERM to exit (writes the buffers as blocks), s | {spread(runs, lambda r: r['shutdown_s'], lambda v: f'{v:.2f}')} | |")
    P("")

    P("| bytes on disk | total | bytes/event | vs zstd -19 |")
    P("| --- | ---: | ---: | ---: |")
    P(f"| raw stream (the text sent) | {raw_b / MIB:,.1f} MiB | {raw_b / n:.1f} | {raw_b / z19['bytes']:.2f}× |")
    P(f"| `zstd -3` of the stream (reference) | {z3['bytes'] / MIB:,.1f} MiB | {z3['bytes'] / n:.1f} | {z3['bytes'] / z19['bytes']:.2f}× |")
    P(f"| `zstd -19 --long=27 -T2` of the stream | {z19['bytes'] / MIB:,.1f} MiB | {z19['bytes'] / n:.1f} | 1.00× |")
    P(f"| **sluice store/** (blocks, filters, postings, RocksDB) | {store_b / MIB:,.1f} MiB | {store_b / stored:.1f} | "
      f"**{ratio:.2f}×** (goal ≤ 1.0: {yes_no(goals['store_le_zstd19'])}) |")
    sst = med(runs, lambda r: r["store"]["sst"])
    info = med(runs, lambda r: r["store"]["info_log"])
    wal = med(runs, lambda r: r["store"]["wal"])
    P(f"| … of which table files (*.sst) / WAL / RocksDB LOG | {sst / MIB:,.1f} / {wal / MIB:,.1f} / {info / MIB:,.2f} MiB | "
      f"{sst / stored:.1f} / {wal / stored:.1f} / {info / stored:.2f} | |")
    P(f"| sluice raw/ (raw segment log, the write-ahead log) | {raw_log_b / MIB:,.1f} MiB | {raw_log_b / stored:.1f} | "
      f"{raw_log_b / z19['bytes']:.2f}× |")
    P(f"| store/ + raw/ | {(store_b + raw_log_b) / MIB:,.1f} MiB | {(store_b + raw_log_b) / stored:.1f} | "
      f"{(store_b + raw_log_b) / z19['bytes']:.2f}× |")
    P(f"| Elasticsearch (figure of the issue) | | ~{ES_BYTES_PER_EVENT:,} | |")
    if "cached" in z19:
        P(f"\nThe zstd figures come from `{os.path.relpath(a.zstd_cache, a.root)}`, computed {z19['cached']} for a stream "
          f"of the same generator, size, seed and days (differing only in its end time); -19 took {z19['seconds']:.0f} s "
          f"then. `--no-zstd-cache` computes them again.\n")
    else:
        P(f"\nzstd -19 took {z19['seconds']:.0f} s for the stream (once, not per run).\n")

    ret = [r["retention"] for r in runs]
    per_drop = [x for r in ret for x in r["per_drop_s"] if x is not None]
    P(f"**Retention.** Restarted on each run's data with `store.retention_days: {a.retention_days}`: "
      f"dropped {', '.join(ret[0]['dropped'])} ({ret[0]['dropped_events']:,} events; "
      f"{ret[0]['store_before'] / MIB:,.0f} → {ret[0]['store_after'] / MIB:,.0f} MiB of store). "
      f"Start to /healthz: {spread(runs, lambda r: r['retention']['ready_s'], lambda v: f'{v:.2f}')} s; "
      f"start to the last \"dropped partition\" line: "
      f"{spread(runs, lambda r: r['retention']['start_to_last_drop_s'], lambda v: f'{v:.2f}')} s"
      + (f"; per drop (the line's \"in N ms\"): median {statistics.median(per_drop) * 1000:.0f} ms, "
         f"max {max(per_drop) * 1000:.0f} ms" if per_drop else "")
      + ". A search over each dropped day finds nothing afterwards; the newest day is still found.\n")

    P("| run | events/s | MiB/s | wall s | senders s | CPU s | peak RSS MiB | max buffered | store B/ev | raw log B/ev | "
      "probes | searchable p50 / p99 / max ms | search rare / common ms: live, after restart | shutdown s | drops ms | "
      "others' CPU % |")
    P("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- | ---: |")
    for r in runs:
        s = r["searchable"]
        drops = " / ".join("?" if x is None else f"{x * 1000:.0f}" for x in r["retention"]["per_drop_s"])
        P(f"| {r['run']} | {r['events_per_s']:,} | {r['mib_per_s']} | {r['wall_s']} | {r['senders_s']} | {r['cpu_s']} | "
          f"{r['peak_rss_mib']:.0f} | {r['max_buffered_events']:,} | {r['store_bytes_per_event']} | "
          f"{r['raw_log_bytes_per_event']} | {s['probes']} | {s['p50_s'] * 1000:.0f} / {s['p99_s'] * 1000:.0f} / "
          f"{s['max_s'] * 1000:.0f} | {r['search']['rare_s'] * 1000:.0f} / {r['search']['common_s'] * 1000:.0f}, "
          f"{r['retention']['search']['rare_s'] * 1000:.0f} / {r['retention']['search']['common_s'] * 1000:.0f} | "
          f"{r['shutdown_s']} | {drops} | {r['others_cpu_pct']} |")

    if loghub:
        tot_n = sum(x["lines"] for x in loghub)
        tot = {k: sum(x[k] for x in loghub) for k in ("file_bytes", "zstd19_bytes")}
        tot_store = sum(x["store"]["total"] for x in loghub)
        tot_data = sum(x["store"]["sst"] + x["store"]["wal"] for x in loghub)
        tot_raw = sum(x["raw"]["total"] for x in loghub)
        fixed = statistics.median(x["store"]["total"] - x["store"]["sst"] - x["store"]["wal"] for x in loghub)
        P(f"\n### Loghub samples ({os.path.relpath(a.loghub, a.root)})\n")
        P("Each file's lines, octet-counted over one TCP connection to a fresh server, then SIGTERM. "
          f"Bytes per event; \"store data\" is store/ without RocksDB's fixed files (*.sst and WAL only): "
          f"with 2,000 lines, the fixed files (MANIFEST, OPTIONS, ...; {fixed / 1024:.1f} KiB) add "
          f"{fixed / 2000:.1f} bytes per line. "
          "Events go to the day partition of their own time when the line has one sluice reads (RFC 3164 "
          "times, without a year, are taken as this year; retention is off here so none is dropped), "
          "else to the day they were received; each partition is at least one block. \"parse failures\" "
          "are lines that are not complete syslog messages, stored with the `_parse_failure` flag.\n")
        P("| dataset | lines | day partitions | file | zstd -19 | store | store data | raw log | store / zstd | "
          "store data / zstd | parse failures |")
        P("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for x in loghub:
            P(f"| {x['dataset']} | {x['lines']:,} | {x['partitions']} | {x['file_bytes_per_event']} | {x['zstd19_bytes_per_event']} | "
              f"{x['store_bytes_per_event']} | {x['store_data_bytes_per_event']} | {x['raw_log_bytes_per_event']} | "
              f"{x['store_over_zstd19']:.2f}× | {x['store_data_over_zstd19']:.2f}× | {x['parse_failures']:,} |")
        P(f"| all | {tot_n:,} | {sum(x['partitions'] for x in loghub)} | {tot['file_bytes'] / tot_n:.1f} | {tot['zstd19_bytes'] / tot_n:.1f} | "
          f"{tot_store / tot_n:.1f} | {tot_data / tot_n:.1f} | {tot_raw / tot_n:.1f} | "
          f"{tot_store / tot['zstd19_bytes']:.2f}× | {tot_data / tot['zstd19_bytes']:.2f}× | "
          f"{sum(x['parse_failures'] for x in loghub):,} |")
    elif a.loghub:
        P(f"\nLoghub: no `*/*.log` under {os.path.relpath(a.loghub, a.root)}; skipped.")

    P("\nGoals: peak RSS ≤ 256 MiB " + yes_no(goals["peak_rss_le_256_mib"])
      + f" (worst run {worst_rss:.0f} MiB); store ≤ 1.0× zstd -19 " + yes_no(goals["store_le_zstd19"])
      + f" ({ratio:.2f}×); time to searchable p99 ≤ 1 s " + yes_no(goals["searchable_p99_le_1s"])
      + f" (worst run {worst_p99 * 1000:.0f} ms).")
    if min(probes) < 100:
        P(f"\nOnly {min(probes)} probes in the shortest run (fewer than 100): the percentiles are rough.")

    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    stream_json = {k: v for k, v in stream.items() if k not in ("path", "parts")}
    with open(out_path, "w") as f:
        json.dump({"schema": 1, "commit": commit, "dirty": dirty,
                   "sluice_built": datetime.datetime.fromtimestamp(os.path.getmtime(a.sluice), datetime.timezone.utc).isoformat(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                   "command": a.command, "machine": mach, "connections": a.connections,
                   "probe_interval_ms": a.probe_interval_ms, "stream": stream_json, "sender_alone": sender,
                   "zstd19": z19, "zstd3": z3, "medians": medians,
                   "store_over_zstd19": round(ratio, 3), "goals": goals, "runs": runs, "loghub": loghub}, f, indent=1)
    log(f"wrote {out_path}")


# --------------------------------------------------------------- main
def add_common_args(p, command):
    """The arguments the wrapper scripts pass to this driver and to
    query_bench.py alike: binaries, work directory, the stream, output."""
    p.add_argument("--root", required=True)
    p.add_argument("--sluice", required=True)
    p.add_argument("--gen", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--events", type=int, default=10_000_000)
    p.add_argument("--days", type=int, default=4)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--timeout", type=float, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--command", default=command)
    p.add_argument("--keep", action="store_true")


def main():
    p = argparse.ArgumentParser(prog="store_bench.py")
    add_common_args(p, "bench/store_bench.sh")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--loghub", default="")
    p.add_argument("--retention-days", type=int, default=None)
    p.add_argument("--probe-interval-ms", type=float, default=50)
    p.add_argument("--probe-poll-ms", type=float, default=10)
    p.add_argument("--search-repeats", type=int, default=7)
    p.add_argument("--zstd-cache", default=None, help="cache of the stream's zstd figures; '' = none")
    a = p.parse_args()
    if a.zstd_cache is None:
        a.zstd_cache = os.path.join(os.path.dirname(a.out) or ".", "store_zstd_cache.json")
    if a.events < 1000 or a.runs < 1 or a.days < 2 or a.connections < 1:
        shutil.rmtree(a.work, ignore_errors=True)  # still empty
        raise RuntimeError("need --events >= 1000, --runs >= 1, --days >= 2, --connections >= 1")
    # Expire the oldest two days by default: the first, partial day and the
    # first whole one.
    if a.retention_days is None:
        a.retention_days = max(1, a.days - 2)
    if a.timeout <= 0:
        a.timeout = max(300.0, a.events / 10_000)
    a.tag = os.urandom(3).hex()
    # The tree as the binaries were copied (it may change during a long run).
    a.commit = git(a.root, "rev-parse", "--short", "HEAD")
    a.dirty = bool(git(a.root, "status", "--porcelain", "--untracked-files=no"))

    ok = False
    try:
        log(f"generating {a.events:,} events over {a.days} days (seed {a.seed})")
        stream = make_stream(a)
        log(f"stream: {stream['bytes'] / MIB:,.1f} MiB in {stream['generate_s']} s; days {stream['per_day']}")
        today = int(time.time()) // DAY_S
        a.expire_days = sorted(day for day in stream["per_day"] if day_number(day) + a.retention_days < today)
        sender = sender_alone(stream["parts"], stream["bytes"], a.events)
        log(f"sender alone: {sender['events_per_s']:,} events/s, {sender['mib_per_s']} MiB/s")
        runs = []
        for run in range(1, a.runs + 1):
            r = one_run(a, run, stream)
            s = r["searchable"]
            log(f"run {run}: {r['events_per_s']:,} events/s, peak RSS {r['peak_rss_mib']:.0f} MiB, "
                f"store {r['store_bytes_per_event']} B/event, searchable p50/p99 {s['p50_s'] * 1000:.0f}/"
                f"{s['p99_s'] * 1000:.0f} ms over {s['probes']} probes, drops "
                f"{r['retention']['per_drop_s']} s, others' CPU {r['others_cpu_pct']} %")
            runs.append(r)
            if not a.keep:
                shutil.rmtree(os.path.join(a.work, f"run{run}"))
        z19, z3 = stream_zstd(a, stream)
        log(f"zstd -19: {z19['bytes_per_event']} B/event in {z19['seconds']} s; zstd -3: {z3['bytes_per_event']}")
        loghub = []
        files = loghub_files(a.loghub)
        if a.loghub and not files:
            log(f"no Loghub files under {a.loghub}; skipping")
        for i, path in enumerate(files):
            x = loghub_one(a, path, i)
            log(f"loghub {x['dataset']}: store {x['store_bytes_per_event']} B/event, zstd-19 "
                f"{x['zstd19_bytes_per_event']}")
            loghub.append(x)
        report(a, stream, sender, runs, z19, z3, loghub, a.out)
        ok = True
    finally:
        kill_all()
        if ok and not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)
        else:
            log(f"kept {a.work}")


def on_signal(signum, _frame):
    kill_all()
    sys.exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        main()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        log(f"error: {e}")
        sys.exit(1)
