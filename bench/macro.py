#!/usr/bin/env python3
"""End-to-end ingest benchmark: sluice vs a private rsyslogd, same stream.

Driven by bench/run.sh (which builds the binaries and installs rsyslog); see
bench/README.md for what each figure means. Python 3 standard library only.

Per run and system: start the server on free ports, replay N events with
sluice_loadgen, poll until all N are stored (sluice: the
sluice_events_stored_total{input="syslog_tcp"} counter; rsyslog: N lines in
its output file), then read CPU and peak RSS from /proc, stop it cleanly with
SIGTERM and measure the bytes it left on disk. Output is checked: sluice must
report exactly N received and N stored; rsyslog's file must hold exactly the
N generated messages (order-independent checksum).

Progress goes to stderr; stdout carries only the markdown report.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
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


# ---------------------------------------------------------------------------
# Load generator


def start_loadgen(args, port, tag, tmp):
    argv = [args.loadgen, "--host", "127.0.0.1", "--port", str(port), "--count", str(args.events),
            "--seed", str(args.seed), "--connections", str(args.connections), "--tag", tag]
    return spawn(argv, os.path.join(tmp, f"loadgen-{tag}.log"), stdout=subprocess.PIPE)


def finish_loadgen(p):
    out, _ = p.communicate(timeout=600)
    if p.returncode != 0:
        raise BenchError(f"loadgen failed (code {p.returncode}):\n{log_tail(p)}")
    return json.loads(out.decode().strip().splitlines()[-1])


def _digest(lines):
    n = size = crc = 0
    first = None
    for line in lines:
        if first is None:
            first = line
        n += 1
        size += len(line)
        crc = (crc + zlib.crc32(line)) & 0xFFFFFFFFFFFFFFFF
    return {"lines": n, "bytes": size, "crc_sum": crc, "first": first}


def expected_digest(args):
    """Order-independent digest (count, bytes, sum of CRC32s) of the untagged stream.

    Runs differ only by their tag, so one digest serves all of them."""
    p = subprocess.Popen([args.loadgen, "--print-sample", str(args.events), "--seed", str(args.seed)],
                         stdout=subprocess.PIPE)
    CHILDREN.append(p)
    d = _digest(line.rstrip(b"\n") for line in p.stdout)
    if p.wait() != 0:
        raise BenchError("loadgen --print-sample failed")
    return d


def file_digest(path, tag):
    """Digest of a file holding one received message per line, tag removed."""
    sd = b'[bench run="' + tag.encode() + b'"]'

    def untagged(f):
        for n, line in enumerate(f, 1):
            # <PRI>1 TIMESTAMP HOST APP PROCID MSGID, then SD and MSG.
            parts = line.rstrip(b"\n").split(b" ", 6)
            if len(parts) < 7 or not parts[6].startswith(sd + b" "):
                raise BenchError(f"{path}:{n}: not a message tagged {sd.decode()}: {line[:200]!r}")
            parts[6] = b"-" + parts[6][len(sd):]
            yield b" ".join(parts)

    with open(path, "rb") as f:
        return _digest(untagged(f))


# ---------------------------------------------------------------------------
# One run of each system


def figures(args, lg, t_end_ns, cpu_s, rss_bytes, disk_bytes):
    wall_s = (t_end_ns - lg["start_unix_ns"]) / 1e9
    n = args.events
    return {
        "wall_s": round(wall_s, 4),
        "events_per_s": round(n / wall_s, 1),
        "mib_per_s": round(lg["payload_bytes"] / (1 << 20) / wall_s, 3),
        "cpu_s": round(cpu_s, 3),
        "cpu_s_per_million": round(cpu_s / (n / 1e6), 3),
        "peak_rss_mib": round(rss_bytes / (1 << 20), 1),
        "disk_bytes": disk_bytes,
        "bytes_per_event": round(disk_bytes / n, 2),
        "loadgen_send_s": round(lg["seconds"], 4),
        "payload_bytes": lg["payload_bytes"],
    }


def run_sluice(args, tmp, tag):
    data = os.path.join(tmp, "sluice-data")
    os.makedirs(data)
    sport, hport = free_port(udp_too=True), free_port()
    argv = [args.sluice, "serve", "--data", data, "--syslog", f"127.0.0.1:{sport}",
            "--http", f"127.0.0.1:{hport}"]
    srv = spawn(argv, os.path.join(tmp, "sluice.log"))
    alive = [(srv, "sluice")]

    def healthy():
        try:
            return http_get(hport, "/healthz")[0] == 200
        except OSError:
            return False

    wait_until("sluice /healthz 200", 30, healthy, alive)

    def counters():
        status, body = http_get(hport, "/metrics")
        if status != 200:
            raise BenchError(f"GET /metrics: HTTP {status}")
        text = body.decode(errors="replace")
        lbl = {"input": "syslog_tcp"}
        return (metric_value(text, "sluice_events_received_total", lbl),
                metric_value(text, "sluice_events_stored_total", lbl))

    lg_proc = start_loadgen(args, sport, tag, tmp)
    alive.append((lg_proc, "loadgen"))
    t_end_ns = None

    def all_stored():
        nonlocal t_end_ns
        try:
            stored = counters()[1]
        except (OSError, http.client.HTTPException):
            return False  # a busy HTTP loop is no failure; the deadline decides
        if stored is not None and stored >= args.events:
            t_end_ns = time.time_ns()
            return True
        return False

    try:
        wait_until(f"sluice_events_stored_total{{input=\"syslog_tcp\"}} {args.events}",
                   args.timeout, all_stored, [(srv, "sluice")])
    except BenchError as e:
        try:
            rec, sto = counters()
        except Exception:  # noqa: BLE001 - diagnostics only
            rec = sto = "?"
        raise BenchError(f"{e} (received={rec}, stored={sto}; log {srv.log_path})") from None
    lg = finish_loadgen(lg_proc)
    check_alive(srv, "sluice")
    received, stored = counters()
    cpu_s = cpu_seconds(srv.pid)
    rss = peak_rss_bytes(srv.pid)
    rc = stop(srv)
    if rc != 0:
        raise BenchError(f"sluice exited with code {rc} on SIGTERM; log {srv.log_path}:\n{log_tail(srv)}")
    if received != args.events or stored != args.events:
        raise BenchError(f"sluice counted received={received} stored={stored}, expected {args.events}")
    return figures(args, lg, t_end_ns, cpu_s, rss, du_bytes(data))


RSYSLOG_CONF = """\
# Private benchmark instance: no /dev/log, no kernel log, no system rules.
global(workDirectory="{work}" maxMessageSize="64k" net.enableDNS="off")
module(load="imtcp")
template(name="bench_raw" type="string" string="%rawmsg%\\n")
ruleset(name="bench") {{
  action(type="omfile" file="{out}" template="bench_raw")
}}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="bench")
"""


def run_rsyslog(args, tmp, tag, expected):
    work = os.path.join(tmp, "rsyslog-work")
    os.makedirs(work)
    out = os.path.join(tmp, "rsyslog-out.log")
    conf = os.path.join(tmp, "rsyslog.conf")
    port = free_port()
    with open(conf, "w") as f:
        f.write(RSYSLOG_CONF.format(work=work, out=out, port=port))
    srv = spawn([args.rsyslogd, "-n", "-f", conf, "-i", os.path.join(tmp, "rsyslog.pid")],
                os.path.join(tmp, "rsyslog.log"))
    alive = [(srv, "rsyslogd")]

    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    wait_until(f"rsyslogd listening on {port}", 30, listening, alive)

    lg_proc = start_loadgen(args, port, tag, tmp)
    alive.append((lg_proc, "loadgen"))
    # Count lines incrementally: re-reading a growing 250 MB file every poll
    # would make the observer the bottleneck.
    state = {"f": None, "lines": 0}
    t_end_ns = None

    def all_written():
        nonlocal t_end_ns
        if state["f"] is None:
            if not os.path.exists(out):
                return False
            state["f"] = open(out, "rb")
        while True:
            chunk = state["f"].read(1 << 20)
            if not chunk:
                break
            state["lines"] += chunk.count(b"\n")
        if state["lines"] >= args.events:
            t_end_ns = time.time_ns()
            return True
        return False

    try:
        wait_until(f"{args.events} lines in {out}", args.timeout, all_written, [(srv, "rsyslogd")])
    except BenchError as e:
        raise BenchError(f"{e} (have {state['lines']} lines; log {srv.log_path})") from None
    finally:
        if state["f"]:
            state["f"].close()
    lg = finish_loadgen(lg_proc)
    check_alive(srv, "rsyslogd")
    cpu_s = cpu_seconds(srv.pid)
    rss = peak_rss_bytes(srv.pid)
    rc = stop(srv)
    if rc != 0:
        raise BenchError(f"rsyslogd exited with code {rc} on SIGTERM; log {srv.log_path}:\n{log_tail(srv)}")
    got = file_digest(out, tag)
    if (got["lines"], got["bytes"], got["crc_sum"]) != (expected["lines"], expected["bytes"],
                                                      expected["crc_sum"]):
        raise BenchError(
            f"rsyslog output differs from the generated stream: {got['lines']} lines/{got['bytes']} B "
            f"vs {expected['lines']}/{expected['bytes']} B; first line {got['first']!r} "
            f"vs {expected['first']!r}")
    return figures(args, lg, t_end_ns, cpu_s, rss, os.path.getsize(out))


# ---------------------------------------------------------------------------
# Report

METRICS = [  # key, label, format, in ratio table
    ("events_per_s", "events/s", "{:,.0f}"),
    ("mib_per_s", "MiB/s (payload)", "{:.1f}"),
    ("wall_s", "wall s (first byte → all stored)", "{:.3f}"),
    ("cpu_s_per_million", "CPU s per 1M events", "{:.2f}"),
    ("peak_rss_mib", "peak RSS MiB", "{:.1f}"),
    ("bytes_per_event", "bytes on disk / event", "{:.1f}"),
]
RATIO_KEYS = ["events_per_s", "mib_per_s", "cpu_s_per_million", "peak_rss_mib", "bytes_per_event"]


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


def markdown(report):
    m = report["machine"]
    systems = list(report["systems"])
    lines = [
        "## sluice end-to-end ingest benchmark",
        "",
        f"- commit: `{report['commit']}`{' (dirty tree)' if report['dirty'] else ''}",
        f"- machine: {m['nproc']} × {m['cpu_model']}, {m['mem_total_mib']} MiB RAM, Linux {m['kernel']}",
        f"- date: {report['date']}",
        f"- command: `{report['command']}`",
        f"- stream: {report['events']:,} events ({report['payload_bytes']:,} B payload), "
        f"seed {report['seed']}, {report['connections']} TCP connection(s), RFC 5424 octet-counted; "
        f"{report['runs']} run(s), medians shown",
    ]
    if "rsyslog" in report["systems"]:
        lines.append(f"- peer: rsyslogd {report.get('rsyslog_version')} (imtcp → omfile, each received message verbatim, one per line)")
    lines += ["", "| metric (median) | " + " | ".join(systems) + (" | sluice / rsyslog |" if report["ratios"] else " |"),
              "| --- | " + " | ".join("---:" for _ in systems) + (" | ---: |" if report["ratios"] else " |")]
    for key, label, _ in METRICS:
        row = [fmt(key, report["systems"][s]["median"].get(key)) for s in systems]
        ratio = report["ratios"].get(key) if report["ratios"] else None
        lines.append(f"| {label} | " + " | ".join(row) +
                     (f" | {ratio:.2f}× |" if ratio is not None else (" | |" if report["ratios"] else " |")))
    lines += ["", "| system | run | wall s | events/s | MiB/s | CPU s | CPU s/1M | peak RSS MiB | disk B | B/event |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for s in systems:
        for i, r in enumerate(report["systems"][s]["runs"], 1):
            lines.append(f"| {s} | {i} | {r['wall_s']:.3f} | {r['events_per_s']:,.0f} | {r['mib_per_s']:.1f} | "
                         f"{r['cpu_s']:.2f} | {r['cpu_s_per_million']:.2f} | {r['peak_rss_mib']:.1f} | "
                         f"{r['disk_bytes']:,} | {r['bytes_per_event']:.1f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connections", type=int, default=1)
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
    if args.events <= 0 or args.runs <= 0:
        ap.error("--events and --runs must be positive")
    if args.timeout is None:
        args.timeout = 60 + args.events / 5000
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for s in systems:
        if s not in ("sluice", "rsyslog"):
            ap.error(f"unknown system {s!r}")

    expected = None
    if "rsyslog" in systems:
        log(f"computing the expected digest of {args.events} messages")
        expected = expected_digest(args)
    results = {s: [] for s in systems}
    payload_bytes = None
    stamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
    for run in range(args.runs):
        # Alternate the order so neither system always runs on a warmer cache.
        order = systems if run % 2 == 0 else list(reversed(systems))
        for s in order:
            tmp = tempfile.mkdtemp(prefix=f"sluice-bench-{s}-")
            # Same length for both systems: the tag is stored with every event.
            tag = f"{stamp}-{run + 1}-{s[:2]}"
            log(f"run {run + 1}/{args.runs}: {s} ({args.events} events, tag {tag}, dir {tmp})")
            keep = args.keep
            try:
                if s == "sluice":
                    r = run_sluice(args, tmp, tag)
                else:
                    r = run_rsyslog(args, tmp, tag, expected)
            except BenchError:
                keep = True  # the logs and data explain the failure
                log(f"kept {tmp} for inspection")
                raise
            finally:
                kill_all()
                CHILDREN.clear()
                if not keep:
                    shutil.rmtree(tmp, ignore_errors=True)
            payload_bytes = r["payload_bytes"]
            log(f"  {s}: {r['events_per_s']:,.0f} events/s, {r['cpu_s_per_million']:.2f} CPU s/1M, "
                f"{r['peak_rss_mib']:.1f} MiB RSS, {r['bytes_per_event']:.1f} B/event")
            results[s].append(r)

    report = {
        "schema": 1,
        "commit": git("rev-parse", "--short", "HEAD") or "none",
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "command": args.command,
        "events": args.events,
        "payload_bytes": payload_bytes,
        "runs": args.runs,
        "connections": args.connections,
        "seed": args.seed,
        "systems": {},
        "ratios": {},
    }
    if "rsyslog" in systems:
        report["rsyslog_version"] = rsyslog_version(args.rsyslogd)
    for s in systems:
        runs = results[s]
        median = {k: statistics.median(r[k] for r in runs) for k, _, _ in METRICS}
        median["cpu_s"] = statistics.median(r["cpu_s"] for r in runs)
        median["disk_bytes"] = statistics.median(r["disk_bytes"] for r in runs)
        report["systems"][s] = {"runs": runs, "median": median}
    if "sluice" in systems and "rsyslog" in systems:
        a, b = report["systems"]["sluice"]["median"], report["systems"]["rsyslog"]["median"]
        report["ratios"] = {k: round(a[k] / b[k], 3) if b[k] else None for k in RATIO_KEYS}

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(markdown(report))
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
