#!/usr/bin/env python3
"""Search benchmark: latency of the real server's search, histogram and
fields endpoints on a store at rest, next to ripgrep over the raw text.

Driven by bench/query_bench.sh (which builds sluice and sluice_gen_logs,
installs ripgrep if missing and copies the binaries aside); see
bench/README.md, "Search: latency against ripgrep". Python 3 standard
library only; reuses bench/store_bench.py (the stream, the server, the
senders, /metrics) as a module.

Once: generate N events with sluice_gen_logs (LF framing, --days days ending
now), deal the lines to C files and send them over C TCP connections to a
fresh `sluice serve` (default configuration); poll /metrics until N are
stored; stop with SIGTERM (every buffer is written as blocks) and start
sluice again on the same data directory: the store at rest. Then each job's
HTTP request --repeats times, round-robin over the jobs, on one keep-alive
connection (after one untimed warm-up round), and the same jobs with rg over
the stream file (--rg-repeats times each, after one untimed run).

Every answer is checked (counts, the events' contents, histogram buckets
against rg's); a job whose query the build rejects (HTTP 400), or answers
wrongly, while it is marked optional (the regex) is reported as not
supported by this build; any other failed check raises RuntimeError: exit 1
with the message, and the work directory is kept.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store_bench as sb  # noqa: E402

MIB = sb.MIB
# Goals of the issue (stated for 10,000,000 events).
GOAL_RARE_S = 0.050
GOAL_RARE_VS_RG = 50.0
GOAL_HISTOGRAM_S = 0.200
GOAL_EVENTS = 10_000_000
GOAL_PAINT_MS = 300
FIELDS_SAMPLE = 500  # /api/fields summarises the newest 500 matches


def log(msg):
    print(f"query_bench: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------- the jobs
# The regex is anchored to the whole message (RE2, like Lucene's), so it
# spells out the rest of the line.
REGEX_Q = "/Failed password for invalid user [a-z]+ .*/"
REGEX_PY = re.compile(r"Failed password for invalid user [a-z]+ .*", re.S)
# rg: the RFC 5424 header is `<PRI>1 TIME HOST APP PROCID MSGID SD MSG`, and
# the generator writes `-` for SD, so the message starts after 7 spaces.
RG_APP_SSHD = r"^\S+ \S+ \S+ sshd "
RG_HOUR = r"^<[0-9]+>1 (\S{13})"                       # 2026-11-28T01
RG_HOUR_SSHD = r"(?i)^<[0-9]+>1 (\S{13})\S* (?:\S+ ){5}.*\bsshd\b"


def jobs(needle):
    """name, endpoint, params, check, rg command (None: no equivalent),
    optional (may be unsupported by this build), what it is."""
    return [
        {"name": "rare", "title": "rare token (the needle, 1 hit)", "path": "/api/search",
         "params": {"q": needle, "limit": "100"}, "expect": 1, "optional": False,
         "check": lambda e: needle in e["raw"],
         "rg": ["rg", "-F", "-c", needle], "rg_note": "counts the matching lines of the whole file"},
        {"name": "common", "title": "common token `GET`, limit 100", "path": "/api/search",
         "params": {"q": "GET", "limit": "100"}, "expect": 100, "optional": False,
         "check": lambda e: re.search(r"(?i)\bget\b", e["message"]),
         "rg": ["rg", "-F", "-m", "100", "GET"], "rg_note": "the oldest 100 lines (sluice: the newest 100)"},
        {"name": "field", "title": "field filter `app:sshd`, limit 100", "path": "/api/search",
         "params": {"q": "app:sshd", "limit": "100"}, "expect": 100, "optional": False,
         "check": lambda e: e["app"] == "sshd",
         "rg": ["rg", "-m", "100", RG_APP_SSHD], "rg_note": "APP column of the header, oldest 100"},
        {"name": "phrase", "title": 'phrase `"Failed password"`, limit 100', "path": "/api/search",
         "params": {"q": '"Failed password"', "limit": "100"}, "expect": 100, "optional": False,
         "check": lambda e: re.search(r"(?i)\bfailed\W+password\b", e["message"]),
         "rg": ["rg", "-F", "-m", "100", "Failed password"], "rg_note": "oldest 100"},
        {"name": "regex", "title": f"regex `{REGEX_Q}`, limit 100", "path": "/api/search",
         "params": {"q": REGEX_Q, "limit": "100"}, "expect": 100, "optional": True,
         "check": lambda e: REGEX_PY.fullmatch(e["message"]),
         "rg": ["rg", "-m", "100", "Failed password for invalid user [a-z]+"], "rg_note": "oldest 100"},
        {"name": "histogram", "title": "histogram, whole range, q empty, 1 h buckets", "path": "/api/histogram",
         "params": {"q": "", "interval": "1h"}, "optional": False,
         "rg": "hist", "rg_pattern": RG_HOUR,
         "rg_note": "hourly counts; the stream is in time order, so `uniq -c` needs no `sort`"},
        {"name": "histogram_sshd", "title": "histogram, whole range, q `sshd`, 1 h buckets", "path": "/api/histogram",
         "params": {"q": "sshd", "interval": "1h"}, "optional": False,
         "rg": "hist", "rg_pattern": RG_HOUR_SSHD,
         "rg_note": "hourly counts of the lines with the word `sshd` in the message (case ignored), as sluice's `sshd`"},
        {"name": "fields", "title": "fields, whole range, q empty", "path": "/api/fields",
         "params": {"q": ""}, "optional": False, "rg": None},
        {"name": "fields_sshd", "title": "fields, whole range, q `sshd`", "path": "/api/fields",
         "params": {"q": "sshd"}, "optional": False, "rg": None},
    ]


class Unsupported(Exception):
    pass


def check_answer(job, status, body, n, rg_hist):
    """Raises Unsupported (optional jobs) or RuntimeError on a wrong answer;
    returns the parsed answer."""
    what = f"{job['path']}?{urllib.parse.urlencode(job['params'])}"
    if status == 400 and job["optional"]:
        raise Unsupported(f"HTTP 400: {body[:200].decode(errors='replace')}")
    if status != 200:
        raise RuntimeError(f"{what} answered {status}: {body[:300]!r}")
    d = json.loads(body)
    if d.get("partial"):
        # A partial answer is a timeout (search.timeout_ms): its latency is the
        # timeout, not the search. Counted and reported, not fatal.
        return d
    if job["path"] == "/api/search":
        bad = [e for e in d["events"] if not job["check"](e)]
        if d["count"] != job["expect"] or len(d["events"]) != d["count"] or bad:
            msg = (f"{what}: {d['count']} events, expected {job['expect']}"
                   + (f"; {len(bad)} do not match, e.g. {bad[0]['raw'][:160]!r}" if bad else ""))
            if job["optional"]:
                raise Unsupported(f"HTTP 200 but a wrong answer ({msg})")
            raise RuntimeError(msg)
        times = [e["timestamp"] for e in d["events"]]
        if times != sorted(times, reverse=True):
            raise RuntimeError(f"{what}: events not newest first")
    elif job["path"] == "/api/histogram":
        got = {b["t"]: b["count"] for b in d["buckets"] if b["count"]}
        if sum(got.values()) != d["total"]:
            raise RuntimeError(f"{what}: buckets sum to {sum(got.values())}, total {d['total']}")
        if not job["params"]["q"] and d["total"] != n:
            raise RuntimeError(f"{what}: total {d['total']}, expected {n}")
        if rg_hist is not None and got != rg_hist:
            diff = sorted(set(got.items()) ^ set(rg_hist.items()))[:4]
            raise RuntimeError(f"{what}: buckets differ from rg's (total {d['total']} vs "
                               f"{sum(rg_hist.values())}), e.g. {diff}")
    elif job["path"] == "/api/fields":
        names = {f["name"] for f in d["fields"]}
        if not {"host", "app"} <= names:
            raise RuntimeError(f"{what}: no host/app summary in {sorted(names)[:10]}")
        app = next(f for f in d["fields"] if f["name"] == "app")
        want = min(FIELDS_SAMPLE, n)
        if not job["params"]["q"] and app["count"] != want:
            raise RuntimeError(f"{what}: app counted in {app['count']} events, expected {want}")
    return d


# --------------------------------------------------------------- rg
def run_rg(argv, path):
    """One rg run; (seconds, stdout)."""
    t0 = time.perf_counter()
    p = sb.spawn(argv + [path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    secs = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {err.decode()[-300:]}")
    return secs, out


def run_rg_hist(pattern, path):
    """rg -o -r '$1' PATTERN FILE | uniq -c; (seconds, {bucket ms: count})."""
    t0 = time.perf_counter()
    rg = sb.spawn(["rg", "-o", "-r", "$1", pattern, path], stdout=subprocess.PIPE)
    uniq = sb.spawn(["uniq", "-c"], stdin=rg.stdout, stdout=subprocess.PIPE)
    rg.stdout.close()
    out = uniq.communicate()[0]
    rg.wait()
    secs = time.perf_counter() - t0
    if rg.returncode not in (0, 1) or uniq.returncode != 0:
        raise RuntimeError(f"rg | uniq -c failed ({rg.returncode}, {uniq.returncode})")
    buckets = {}
    for line in out.decode().splitlines():
        count, hour = line.split()
        t = datetime.datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=datetime.timezone.utc)
        ms = int(t.timestamp()) * 1000
        buckets[ms] = buckets.get(ms, 0) + int(count)
    return secs, buckets


def rg_job(job, path, repeats):
    """Warm-up run (checked), then `repeats` timed runs."""
    times = []
    result = None
    for i in range(repeats + 1):
        if job["rg"] == "hist":
            secs, result = run_rg_hist(job["rg_pattern"], path)
        else:
            secs, out = run_rg(job["rg"], path)
            lines = out.decode(errors="replace").splitlines()
            result = int(lines[0]) if job["name"] == "rare" else len(lines)
            if result != job["expect"]:
                raise RuntimeError(f"{' '.join(job['rg'])}: {result}, expected {job['expect']}")
        if i:
            times.append(secs)
    cmd = (f"rg -o -r '$1' '{job['rg_pattern']}' FILE | uniq -c" if job["rg"] == "hist"
           else " ".join(a if re.fullmatch(r"[\w.-]+", a) else f"'{a}'" for a in job["rg"]) + " FILE")
    return {"command": cmd, "median_s": round(statistics.median(times), 4), "all_s": [round(x, 4) for x in times],
            "result": result if job["rg"] != "hist" else sum(result.values()),
            "buckets": result if job["rg"] == "hist" else None}


# --------------------------------------------------------------- phases
def ingest(a, stream, data, logdir):
    """Fresh server, the stream over C connections, all N stored; SIGTERM."""
    n = stream["events"]
    server = sb.Server(a.sluice, data, os.path.join(logdir, "sluice-ingest.log"))
    senders = []
    try:
        server.wait_ready()
        senders = sb.start_senders(stream["parts"], server.sport)
        key = 'sluice_events_stored_total{input="syslog_tcp"}'
        deadline = time.monotonic() + a.timeout
        while True:
            m = sb.metrics(server.client)
            stored = int(m.get(key, 0))
            if stored >= n:
                done_ns = time.time_ns()
                break
            server.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {stored} of {n} events stored after {a.timeout:.0f} s")
            time.sleep(0.02)
        sent = sb.finish_senders(senders)
        senders = []
        m = sb.metrics(server.client)
        received = int(m.get('sluice_events_received_total{input="syslog_tcp"}', 0))
        stored = int(m.get(key, 0))
        dropped = int(sb.metric_sum(m, "sluice_events_dropped_total"))
        errors = int(sb.metric_sum(m, "sluice_ingest_errors_total"))
        if sent["bytes"] != stream["bytes"] or received != n or stored != n:
            raise RuntimeError(f"sent {sent['bytes']} of {stream['bytes']} bytes; {n} events, "
                               f"received {received}, stored {stored}")
        if dropped or errors:
            raise RuntimeError(f"{dropped} events dropped, {errors} ingest errors")
        shutdown_s = server.stop()
        wall = (done_ns - sent["start_unix_ns"]) / 1e9
        return {"wall_s": round(wall, 3), "events_per_s": round(n / wall), "shutdown_s": round(shutdown_s, 2)}
    finally:
        for p in senders:
            if p.poll() is None:
                p.kill()
        if server.p.poll() is None:
            try:
                server.stop()
            except RuntimeError as e:
                log(str(e))


def busy_gauge():
    return sb.machine_busy_s(), sb.own_and_children_cpu(), time.monotonic()


def others_pct(start, server_cpu_s):
    busy0, ours0, t0 = start
    others = (sb.machine_busy_s() - busy0) - server_cpu_s - (sb.own_and_children_cpu() - ours0)
    return round(100 * max(0.0, others) / ((time.monotonic() - t0) * os.cpu_count()), 1)


def sluice_phase(a, server, js, n, rg_hists):
    """One warm-up round, then `repeats` rounds, round-robin over the jobs."""
    client = server.client
    res = {j["name"]: {"all_s": [], "took_ms": [], "partial": 0, "first_s": None, "status": "ok"} for j in js}
    cpu0 = sb.cpu_seconds(server.p.pid)
    gauge = busy_gauge()
    for rnd in range(a.repeats + 1):
        for j in js:
            r = res[j["name"]]
            if r["status"] != "ok":
                continue
            path = j["path"] + "?" + urllib.parse.urlencode(j["params"])
            t0 = time.perf_counter()
            status, body = client.get(path)
            secs = time.perf_counter() - t0
            try:
                d = check_answer(j, status, body, n, rg_hists.get(j["name"]))
            except Unsupported as e:
                r.update(status="unsupported", reason=str(e))
                log(f"{j['name']}: not supported by this build: {e}")
                continue
            if rnd == 0:
                r["first_s"] = round(secs, 4)
                r["answer"] = {k: v for k, v in d.items() if k in ("count", "total", "partial", "interval_ms")}
                continue
            r["all_s"].append(round(secs, 4))
            r["took_ms"].append(d.get("took_ms"))
            r["partial"] += bool(d.get("partial"))
        log(f"round {rnd}/{a.repeats}" + (" (warm-up)" if rnd == 0 else ""))
    cpu = sb.cpu_seconds(server.p.pid) - cpu0
    for r in res.values():
        if r["status"] == "ok":
            r["median_s"] = round(statistics.median(r["all_s"]), 4)
            r["p99_s"] = round(sb.percentile(r["all_s"], 99), 4)
            r["took_ms_median"] = statistics.median(r["took_ms"])
    return res, {"server_cpu_s": round(cpu, 2), "others_cpu_pct": others_pct(gauge, cpu)}


# --------------------------------------------------------------- viewer
def viewer_phase(a, server, needle):
    """The web viewer's first results paint (bench/viewer_paint.js) for the
    needle, all events and a common word, on the store at rest."""
    script = os.path.join(a.root, "bench", "viewer_paint.js")
    queries = [needle, "", "sshd"]
    log(f"viewer: {a.viewer_runs} cold navigations per query in chromium")
    chromium = os.environ.get("SLUICE_CHROMIUM", "/usr/bin/chromium")
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip() or chromium
    r = subprocess.run(["node", script, f"http://127.0.0.1:{server.hport}", str(a.viewer_runs)] + queries,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"bench/viewer_paint.js failed ({r.returncode}): {r.stderr.strip()[-600:]}")
    out = []
    for line in r.stdout.splitlines():
        v = json.loads(line)
        v["median_ms"] = statistics.median(v["frame_ms"])
        out.append(v)
        log(f"viewer {v['query'] or '(all)'}: median {v['median_ms']:.0f} ms")
    return {"chromium": version, "runs": a.viewer_runs, "queries": out}


# --------------------------------------------------------------- report
def fmt_ms(s):
    if s is None:
        return "—"
    return f"{s * 1000:.1f}" if s < 0.01 else f"{s * 1000:.0f}"


def yes_no(ok):
    return "**met**" if ok else "**not met**"


def report(a, stream, ingest_r, restart_s, disk, sl, sl_phase, rg, rg_phase, viewer, mach, out_path):
    n = stream["events"]
    P = print
    js = {j["name"]: j for j in jobs(stream["needle"])}
    ratios = {}
    for name, r in sl.items():
        if r["status"] == "ok" and rg.get(name):
            ratios[name] = round(rg[name]["median_s"] / r["median_s"], 1)
    rare, hist = sl["rare"], sl["histogram"]
    goals = {"rare_le_50ms": rare["median_s"] <= GOAL_RARE_S,
             "rare_ge_50x_rg": ratios.get("rare", 0) >= GOAL_RARE_VS_RG,
             "histogram_le_200ms": hist["median_s"] <= GOAL_HISTOGRAM_S,
             "viewer_paint_le_300ms": (None if viewer is None else
                                       all(v["median_ms"] <= GOAL_PAINT_MS for v in viewer["queries"])),
             "events": n, "goal_events": GOAL_EVENTS}

    P("## Search: latency against ripgrep\n")
    P(f"- command: `{a.command}`")
    P(f"- commit {a.commit}{' (dirty)' if a.dirty else ''} when the run started, sluice built "
      f"{datetime.datetime.fromtimestamp(os.path.getmtime(a.sluice), datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
      f"report {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    worst = max(sl_phase["others_cpu_pct"], rg_phase["others_cpu_pct"])
    P(f"- machine: {mach['nproc']} × {mach['cpu_model']}, {mach['mem_total_mib']} MiB RAM, Linux {mach['kernel']}; "
      f"others' CPU during the sluice queries {sl_phase['others_cpu_pct']:.1f} %, during the rg runs "
      f"{rg_phase['others_cpu_pct']:.1f} %{' — SUSPECT: something else was running' if worst > 10 else ''}")
    days = sorted(stream["per_day"])
    P(f"- stream: {n:,} events from `sluice_gen_logs --seed {a.seed} --days {a.days}` (RFC 5424, LF framing), "
      f"{stream['bytes'] / MIB:,.1f} MiB ({days[0]} … {days[-1]}); needle `{stream['needle']}`")
    P(f"- ingest over {a.connections} TCP connections: {ingest_r['events_per_s']:,} events/s "
      f"({ingest_r['wall_s']} s), SIGTERM to exit {ingest_r['shutdown_s']} s; restart on the same data "
      f"directory to /healthz: {restart_s:.2f} s")
    P(f"- data directory at rest: {disk['total'] / MIB:,.1f} MiB ({disk['total'] / n:.1f} bytes/event; "
      f"store/ {disk['store'] / MIB:,.1f} MiB, raw/ {disk['raw'] / MIB:,.1f} MiB); the stream file "
      f"{stream['bytes'] / MIB:,.1f} MiB, in the page cache for rg")
    P(f"- sluice: {a.repeats} timed rounds after one warm-up round, jobs round-robin, one keep-alive HTTP "
      f"connection from Python; wall-clock round trip (p99 is nearest-rank: of {a.repeats} it is the "
      f"{'maximum' if a.repeats < 100 else 'p99'}), `took_ms` is the server's own figure. "
      f"Server CPU during the rounds: {sl_phase['server_cpu_s']} s")
    P(f"- rg {a.rg_version}: one untimed run, then the median of {a.rg_repeats}; one file, so one search thread\n")

    P("| job | sluice median ms | p99 ms | took_ms median | first (after restart) ms | rg median ms | rg / sluice |")
    P("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in sl.items():
        j = js[name]
        g = rg.get(name)
        rg_ms = fmt_ms(g["median_s"]) if g else "—"
        if r["status"] != "ok":
            P(f"| {j['title']} | **not supported by this build** | | | | {rg_ms} | |")
            continue
        partial = f" ({r['partial']} partial)" if r["partial"] else ""
        P(f"| {j['title']} | {fmt_ms(r['median_s'])}{partial} | {fmt_ms(r['p99_s'])} | {r['took_ms_median']:g} | "
          f"{fmt_ms(r['first_s'])} | {rg_ms} | {f'{ratios[name]:,}×' if name in ratios else '—'} |")
    P("")
    for name, r in sl.items():
        if r["status"] != "ok":
            P(f"**{js[name]['title']}: not supported by this build** — {r['reason']}\n")
    P("What rg runs (FILE = the stream; `-m 100` stops at the first 100 matches, which are the oldest, "
      "while sluice returns the newest 100):\n")
    P("| job | rg command | rg result |")
    P("| --- | --- | --- |")
    for name, g in rg.items():
        j = js[name]
        if j["rg"] == "hist":
            res = f"{len(g['buckets'])} hours, {g['result']:,} lines"
        elif name == "rare":
            res = f"count {g['result']}"
        else:
            res = f"{g['result']:,} lines"
        cmd = g["command"].replace("|", "\\|")  # a pipe ends a markdown table cell
        P(f"| {j['title']} | `{cmd}` | {res}; {j['rg_note']} |")
    P("\nChecks: the needle is 1 event for both; every search answer has the expected count, newest "
      "first, and each event matches the query; the histograms' non-empty hourly buckets equal rg's "
      "counts bucket for bucket (q empty: total = all events); `/api/fields` summarises the newest "
      f"{FIELDS_SAMPLE} matches and has no rg equivalent.\n")
    note = "" if n == GOAL_EVENTS else f" (the goals are set for {GOAL_EVENTS:,} events; this run has {n:,})"
    P(f"Goals{note}: rare-token search ≤ 50 ms median {yes_no(goals['rare_le_50ms'])} "
      f"({fmt_ms(rare['median_s'])} ms); ≥ 50× faster than rg {yes_no(goals['rare_ge_50x_rg'])} "
      f"({ratios.get('rare', 0):,}×); histogram over all events ≤ 200 ms {yes_no(goals['histogram_le_200ms'])} "
      f"({fmt_ms(hist['median_s'])} ms).")
    if viewer is not None:
        P(f"\n### The web viewer's first paint\n")
        P(f"`node bench/viewer_paint.js` drives {viewer['chromium']} (headless, playwright-core): per query, one "
          f"untimed navigation, then {a.viewer_runs} cold navigations (a fresh browser context each) to "
          "`/?q=QUERY&range=all` on the same server and store, timed from navigation start to the frame after the "
          "first result rows were appended (the viewer's performance marks). The page asks for the histogram and "
          "the field sidebar once the rows are in, as it always does; closing the context aborts them.\n")
        P("| query | first results paint, median ms | min–max ms | rows in the first paint |")
        P("| --- | ---: | ---: | ---: |")
        for v in viewer["queries"]:
            label = f"`{v['query']}`" if v["query"] else "(empty: all events)"
            P(f"| {label} | {v['median_ms']:.0f} | {min(v['frame_ms']):.0f}–{max(v['frame_ms']):.0f} | {v['rows']} |")
        P(f"\nGoal: first meaningful paint with results ≤ {GOAL_PAINT_MS} ms on loopback "
          f"{yes_no(goals['viewer_paint_le_300ms'])}.")

    os.makedirs(os.path.dirname(out_path) or ".", exist_ok=True)
    stream_json = {k: v for k, v in stream.items() if k not in ("path", "parts")}
    for g in rg.values():
        if g.get("buckets") is not None:
            g["buckets"] = len(g["buckets"])
    jobs_json = {name: dict({k: v for k, v in js[name].items() if k in ("title", "path", "params")},
                            sluice=sl[name], rg=rg.get(name), rg_over_sluice=ratios.get(name))
                 for name in sl}
    with open(out_path, "w") as f:
        json.dump({"schema": 1, "commit": a.commit, "dirty": a.dirty,
                   "sluice_built": datetime.datetime.fromtimestamp(os.path.getmtime(a.sluice),
                                                                   datetime.timezone.utc).isoformat(),
                   "date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "command": a.command,
                   "machine": mach, "connections": a.connections, "repeats": a.repeats,
                   "rg_repeats": a.rg_repeats, "rg_version": a.rg_version, "stream": stream_json,
                   "ingest": ingest_r, "restart_s": round(restart_s, 3), "disk": disk,
                   "sluice_phase": sl_phase, "rg_phase": rg_phase, "jobs": jobs_json, "viewer": viewer,
                   "goals": goals}, f, indent=1)
    log(f"wrote {out_path}")


# --------------------------------------------------------------- main
def main():
    p = argparse.ArgumentParser(prog="query_bench.py")
    sb.add_common_args(p, "bench/query_bench.sh")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--rg-repeats", type=int, default=5)
    p.add_argument("--viewer-runs", type=int, default=5)
    p.add_argument("--no-viewer", action="store_true")
    a = p.parse_args()
    # Fewer events than 20,000 hold fewer than 100 matches of the regex job.
    if a.events < 20_000 or a.repeats < 1 or a.rg_repeats < 1 or a.days < 1 or a.connections < 1:
        shutil.rmtree(a.work, ignore_errors=True)  # still empty
        raise RuntimeError("need --events >= 20000, --repeats >= 1, --rg-repeats >= 1, --days >= 1, --connections >= 1")
    if a.timeout <= 0:
        a.timeout = max(300.0, a.events / 10_000)
    a.commit = sb.git(a.root, "rev-parse", "--short", "HEAD")
    a.dirty = bool(sb.git(a.root, "status", "--porcelain", "--untracked-files=no"))
    a.rg_version = subprocess.run(["rg", "--version"], capture_output=True, text=True).stdout.split("\n")[0]

    ok = False
    try:
        log(f"generating {a.events:,} events over {a.days} days (seed {a.seed})")
        stream = sb.make_stream(a)
        n = stream["events"]
        log(f"stream: {stream['bytes'] / MIB:,.1f} MiB in {stream['generate_s']} s; needle {stream['needle']}")
        data = os.path.join(a.work, "data")
        ingest_r = ingest(a, stream, data, a.work)
        log(f"ingest: {ingest_r['events_per_s']:,} events/s; stopped in {ingest_r['shutdown_s']} s")
        if not a.keep:  # the dealt copies; rg reads the whole stream
            for part in stream["parts"]:
                if part != stream["path"]:
                    os.remove(part)
        store, raw = sb.dir_bytes(os.path.join(data, "store")), sb.dir_bytes(os.path.join(data, "raw"))
        disk = {"total": sb.dir_bytes(data)["total"], "store": store["total"], "raw": raw["total"],
                "store_sst": store["sst"]}
        js = jobs(stream["needle"])

        # rg first for the histograms' buckets (the sluice answers are checked
        # against them); its timed runs come after sluice's, page cache warm.
        rg_hists = {}
        for j in js:
            if j["rg"] == "hist":
                rg_hists[j["name"]] = run_rg_hist(j["rg_pattern"], stream["path"])[1]
        if sum(rg_hists["histogram"].values()) != n:
            raise RuntimeError(f"rg's hourly buckets hold {sum(rg_hists['histogram'].values())} lines, not {n}")

        server = sb.Server(a.sluice, data, os.path.join(a.work, "sluice-query.log"))
        try:
            restart_s = server.wait_ready()
            log(f"restarted in {restart_s:.2f} s; {a.repeats} rounds of {len(js)} jobs")
            sl, sl_phase = sluice_phase(a, server, js, n, rg_hists)
            viewer = None if a.no_viewer else viewer_phase(a, server, stream["needle"])
            server.stop()
        finally:
            if server.p.poll() is None:
                server.stop()
        for name, r in sl.items():
            if r["status"] == "ok":
                log(f"sluice {name}: median {fmt_ms(r['median_s'])} ms, p99 {fmt_ms(r['p99_s'])} ms")

        rg = {}
        gauge = busy_gauge()
        for j in js:
            if j["rg"] is None:
                continue
            rg[j["name"]] = rg_job(j, stream["path"], a.rg_repeats)
            log(f"rg {j['name']}: median {fmt_ms(rg[j['name']]['median_s'])} ms")
        rg_phase = {"others_cpu_pct": others_pct(gauge, 0.0)}
        report(a, stream, ingest_r, restart_s, disk, sl, sl_phase, rg, rg_phase, viewer, sb.machine_info(), a.out)
        ok = True
    finally:
        sb.kill_all()
        if ok and not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)
        else:
            log(f"kept {a.work}")


def on_signal(signum, _frame):
    sb.kill_all()
    sys.exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        main()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        log(f"error: {e}")
        sys.exit(1)
