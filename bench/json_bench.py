#!/usr/bin/env python3
"""JSON ingest benchmark: the same events as syslog over TCP (LF framing),
as JSON lines over TCP (--json-tcp), as NDJSON over HTTP (POST /api/ingest)
and as Elasticsearch bulk requests (POST /_bulk), in one run, against one
sluice binary.

    bench/json_bench.sh [--events N] [--runs R] [--transports LIST] [--build-dir DIR]

Per transport and run: a fresh `sluice serve` with its own data dir; every
event is generated and framed before the clock starts; the clock runs from
the first byte sent until sluice_events_stored_total{input} reaches N (polled
on /metrics, more often as the end nears, the last polls a few ms apart).
Figures: events/s, MiB/s of the bytes sent (JSON text or syslog lines plus
framing), and the server's CPU seconds per million
events (utime + stime from /proc). For es-bulk the bytes sent are the
documents plus their action lines ({"index":{"_index":"bench"}}) and LFs.
Medians over the runs. The "others busy" column is the CPU that processes
other than sluice and this script used during the run, in percent of all
cores: the machine is shared.

Equivalent content: event i has the same time, host, app, pid, severity and
message text in every transport. The syslog form is RFC 5424
`<PRI>1 TIME HOST APP PID - - MSG`; the JSON form is
{"timestamp":TIME,"host":HOST,"app":APP,"pid":PID,"severity":SEV,"message":MSG}
(pid becomes a field; the syslog pid is parsed too). es-bulk sends the same
JSON documents, each after an action line; sluice adds "_index" as a field.
"""

import argparse
import http.client
import json
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
INPUT = {"syslog-tcp": "syslog_tcp", "json-tcp": "json_tcp", "http-ndjson": "http_ndjson",
         "es-bulk": "es_bulk"}
HTTP_PATH = {"http-ndjson": "/api/ingest", "es-bulk": "/_bulk"}
BULK_ACTION = b'{"index":{"_index":"bench"}}'
SEVERITIES = ["err", "warning", "notice", "info", "info", "info", "debug"]
SEVERITY_CODE = {"err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
HTTP_BODY_EVENTS = 8192  # events per POST (~2.5 MiB; es-bulk: 8192 documents, ~2.7 MiB)
HTTP_SENDERS = 2         # concurrent POSTs: one uploads while one is stored


def log(msg):
    print(f"[json-bench] {msg}", file=sys.stderr, flush=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_s():
    with open("/proc/stat") as f:
        fields = f.readline().split()
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + steal) / CLK_TCK


def self_cpu_s():
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate(n, seed):
    """Event i as (syslog line, JSON line), both without the newline."""
    rng = random.Random(seed)
    hosts = [f"web-{i:02d}" for i in range(24)]
    apps = ["nginx", "sshd", "orders", "billing", "auth"]
    paths = ["/", "/cart", "/api/v1/orders", "/api/v1/users/me", "/static/app.js", "/login", "/search"]
    agents = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "Go-http-client/1.1", "python-requests/2.31"]
    base = 1740787200_000000  # 2025-03-01T00:00:00Z in microseconds
    t = base
    syslog, jsonl = [], []
    for i in range(n):
        t += rng.randint(1, 1000)
        secs, micros = divmod(t, 1_000_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{micros:06d}Z"
        host, app = rng.choice(hosts), rng.choice(apps)
        pid = rng.randint(100, 65000)
        sev = rng.choice(SEVERITIES)
        ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        msg = (f'{ip} - - "GET {rng.choice(paths)}?id={rng.randint(1, 10**6)} HTTP/1.1" '
               f'{rng.choice([200, 200, 200, 301, 404, 500])} {rng.randint(100, 50000)} '
               f'"{rng.choice(agents)}" rt={rng.random():.3f} req={i}')
        syslog.append(f"<{8 + SEVERITY_CODE[sev]}>1 {stamp} {host} {app} {pid} - - {msg}".encode())
        jsonl.append(json.dumps({"timestamp": stamp, "host": host, "app": app, "pid": pid,
                                 "severity": sev, "message": msg}, separators=(",", ":")).encode())
    return syslog, jsonl


def metric(port, name, labels, conn=None):
    """One sample from /metrics; over `conn` (kept alive) when given."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    if own:
        conn.close()
    want = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return None


def send_tcp(port, payload):
    with socket.create_connection(("127.0.0.1", port)) as sock:
        view = memoryview(payload)
        for pos in range(0, len(view), 256 * 1024):
            sock.sendall(view[pos:pos + 256 * 1024])


def send_http(port, path, bodies, errors):
    lock = threading.Lock()
    queue = list(reversed(bodies))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            while True:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/x-ndjson"})
                reply = conn.getresponse()
                data = reply.read()
                if reply.status == 429:  # backpressure: retry as told
                    time.sleep(float(reply.getheader("Retry-After", "1")) / 10)
                    continue
                if reply.status != 200:
                    errors.append(f"HTTP {reply.status}: {data[:200]!r}")
                elif path == "/_bulk" and b'"errors":false' not in data[:100]:
                    # {"took":N,"errors":B,"items":[...]}: "errors" precedes the items.
                    errors.append(f"bulk answer with errors: {data[:200]!r}")
                break
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(HTTP_SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def one_run(args, transport, lines, payload, tmp):
    data = tempfile.mkdtemp(prefix="data-", dir=tmp)
    sport, hport, jport = free_port(), free_port(), free_port()
    argv = [args.sluice, "serve", "--data", data, "--syslog", f"127.0.0.1:{sport}",
            "--http", f"127.0.0.1:{hport}", "--json-tcp", f"127.0.0.1:{jport}"]
    log_path = os.path.join(tmp, f"sluice-{transport}.log")
    with open(log_path, "ab") as log_file:
        srv = subprocess.Popen(argv, stdout=log_file, stderr=log_file, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{hport}/healthz", timeout=1).read()
                break
            except OSError:
                if srv.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sluice did not start; see {log_path}")
                time.sleep(0.02)
        n = len(lines)
        labels = {"input": INPUT[transport]}
        bodies = []
        if transport == "http-ndjson":
            bodies = [b"\n".join(lines[i:i + HTTP_BODY_EVENTS]) + b"\n" for i in range(0, n, HTTP_BODY_EVENTS)]
        elif transport == "es-bulk":
            bodies = [b"".join(BULK_ACTION + b"\n" + doc + b"\n" for doc in lines[i:i + HTTP_BODY_EVENTS])
                      for i in range(0, n, HTTP_BODY_EVENTS)]
        cpu0, busy0, me0 = cpu_seconds(srv.pid), machine_busy_s(), self_cpu_s()
        t0 = time.monotonic()
        errors = []
        if transport in HTTP_PATH:
            sender = threading.Thread(target=send_http, args=(hport, HTTP_PATH[transport], bodies, errors))
        else:
            sender = threading.Thread(target=send_tcp, args=(sport if transport == "syslog-tcp" else jport, payload))
        sender.start()
        deadline = time.monotonic() + max(120, n / 20000)
        # Each poll costs the server a /metrics render (~0.2 ms of CPU) and
        # this script as much again: polled every 5 ms over a 1.5 s run that
        # was 5 % of the machine, taken from the server being measured. So
        # the next poll is due after half the time the remaining events
        # should take at the rate so far (at least 2 ms, at most 100 ms):
        # a dozen or two polls a run, and the last ones close together.
        poller = http.client.HTTPConnection("127.0.0.1", hport, timeout=5)
        polls = 0
        while True:
            polls += 1
            stored = metric(hport, "sluice_events_stored_total", labels, poller) or 0
            now = time.monotonic()
            if stored >= n:
                break
            if now > deadline or srv.poll() is not None:
                raise RuntimeError(f"{transport}: {stored} of {n} stored before the deadline; see {log_path}")
            rate = stored / (now - t0)
            remaining_s = (n - stored) / rate if rate > 0 else 0.1
            time.sleep(min(0.1, max(0.002, remaining_s / 2)))
        elapsed = now - t0
        poller.close()
        sender.join()
        if errors:
            raise RuntimeError(f"{transport}: {errors[0]}")
        cpu = cpu_seconds(srv.pid) - cpu0
        me = self_cpu_s() - me0
        others = max(0.0, machine_busy_s() - busy0 - cpu - me)
        sent = sum(len(b) for b in bodies) if bodies else len(payload)
        parse_failures = metric(hport, "sluice_parse_failures_total", labels) or 0
        srv.send_signal(signal.SIGTERM)
        if srv.wait(60) != 0:
            raise RuntimeError(f"sluice exited with code {srv.returncode}; see {log_path}")
        return {"seconds": elapsed, "events_per_s": n / elapsed, "mib_per_s": sent / elapsed / 2**20,
                "cpu_s_per_m": cpu / n * 1e6, "bytes": sent, "parse_failures": parse_failures,
                "others_busy_pct": 100 * others / (elapsed * os.cpu_count()),
                "loadgen_cpu_pct": 100 * me / (elapsed * os.cpu_count()), "polls": polls}
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
        shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--transports", default="syslog-tcp,json-tcp,http-ndjson,es-bulk")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    transports = args.transports.split(",")
    for t in transports:
        if t not in INPUT:
            ap.error(f"unknown transport {t!r}; one of {', '.join(INPUT)}")
    log(f"generating {args.events} events")
    syslog, jsonl = generate(args.events, args.seed)
    payloads = {"syslog-tcp": b"\n".join(syslog) + b"\n", "json-tcp": b"\n".join(jsonl) + b"\n",
                "http-ndjson": None, "es-bulk": None}
    lines = {"syslog-tcp": syslog, "json-tcp": jsonl, "http-ndjson": jsonl, "es-bulk": jsonl}
    tmp = tempfile.mkdtemp(prefix="json-bench-")
    results = {t: [] for t in transports}
    try:
        # Interleaved (run 1 of each, run 2 of each...), so a burst of load
        # from others does not land on one transport only.
        for run in range(args.runs):
            for t in transports:
                r = one_run(args, t, lines[t], payloads[t], tmp)
                log(f"{t} run {run + 1}: {r['events_per_s']:,.0f} events/s, {r['mib_per_s']:.1f} MiB/s, "
                    f"{r['cpu_s_per_m']:.2f} CPU s/M events, others busy {r['others_busy_pct']:.0f}%")
                results[t].append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"JSON ingest benchmark: {args.events:,} events per run, median of {args.runs} runs, "
          f"{os.cpu_count()} cores, load average at the end {' '.join(load)}\n")
    print("| transport | bytes/event | events/s | MiB/s | server CPU s per M events | others busy | parse failures |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    summary = {}
    for t in transports:
        rs = results[t]
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        summary[t] = {"median": med, "runs": rs}
        print(f"| {t} | {med['bytes'] / args.events:.0f} | {med['events_per_s']:,.0f} | {med['mib_per_s']:.1f} | "
              f"{med['cpu_s_per_m']:.2f} | {med['others_busy_pct']:.0f}% | {med['parse_failures']:.0f} |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"events": args.events, "runs": args.runs, "results": summary}, f, indent=1)


if __name__ == "__main__":
    main()
