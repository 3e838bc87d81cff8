#!/usr/bin/env python3
"""End to end: the search API (cursor pages, histogram, fields, live tail,
query errors, partial answers) and `sluice search` / `sluice tail`, driven
with curl and the CLI against a real server.

    python3 test_search_api.py PATH-TO-SLUICE [TEST-NAME...]
"""

import datetime
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402


def rfc3339(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ndjson(events):
    return ("\n".join(json.dumps(e) for e in events) + "\n").encode()


def ingest(server, events):
    response = harness.http_post(server.url("/api/ingest"), ndjson(events))
    check_eq(response.status, 200, f"POST /api/ingest: {response.text[:300]}")


def get_json(server, path, expect=200, **params):
    response = harness.http_get(server.url(path, **params))
    check_eq(response.status, expect, f"GET {path} {params}: {response.text[:300]}")
    return response.json()


def seed(server, marker, count, base):
    """`count` events one second apart ending at `base`, on three hosts, some
    sharing a timestamp, with a status field."""
    events = []
    for i in range(count):
        ts = base - (i // 3)  # three events per second: ties for the cursor
        events.append({"timestamp": rfc3339(ts), "host": f"web-{i % 3}", "app": "shop",
                       "message": f"{marker} request {i} status {200 + (i % 4) * 100}",
                       "status": 200 + (i % 4) * 100, "n": i})
    for start in range(0, count, 500):
        ingest(server, events[start:start + 500])
    return events


def test_cursor_pages(ctx):
    server = ctx.start_server()
    marker = "cur" + secrets.token_hex(4)
    base = int(time.time()) - 60
    events = seed(server, marker, 1200, base)
    server.wait_for_events(marker, 1, limit=1)
    harness.wait_until(lambda: get_json(server, "/api/histogram", q=marker)["total"] == 1200, 15,
                       "all 1200 events searchable")
    seen, cursor, pages, newest = [], None, 0, None
    while True:
        params = {"q": marker, "limit": 97}
        if cursor:
            params["cursor"] = cursor
        body = get_json(server, "/api/search", **params)
        pages += 1
        for event in body["events"]:
            seen.append(event["fields"]["n"])
            check("id" in event and event["id"], "every event has an id")
        # Concurrent ingest: newer events never enter later pages.
        ingest(server, [{"timestamp": rfc3339(base + 10 + pages), "message": f"{marker} late {pages}", "n": -pages}])
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
        check(pages < 100, "pagination ends")
    check_eq(sorted(seen), list(range(1200)), "pages hold every event exactly once")
    check_eq(pages, 13, "1200 events in pages of 97")
    # Newest first across pages: n grows as timestamps fall.
    order = [events[n]["timestamp"] for n in seen]
    check(order == sorted(order, reverse=True), "events come newest first across pages")
    bad = harness.http_get(server.url("/api/search", q=marker, cursor="not-a-cursor"))
    check_eq(bad.status, 400, "a forged cursor is refused")


def test_histogram_and_fields(ctx):
    server = ctx.start_server()
    marker = "hist" + secrets.token_hex(4)
    base = int(time.time()) - 3600
    seed(server, marker, 900, base)
    harness.wait_until(lambda: get_json(server, "/api/histogram", q=marker)["total"] == 900, 15,
                       "900 events counted")
    body = get_json(server, "/api/histogram", q=marker, **{"from": rfc3339(base - 400), "to": rfc3339(base + 1),
                                                           "interval": "1m"})
    check_eq(body["interval_ms"], 60000, "interval as asked")
    counts = [b["count"] for b in body["buckets"]]
    check_eq(sum(counts), 900, "buckets add up to the total")
    check_eq(body["total"], 900, "total")
    # 300 seconds of events at 3 per second: full minutes hold 180.
    check(max(counts) == 180, f"a whole minute holds 180 events: {counts}")
    starts = [b["t"] for b in body["buckets"]]
    check(all(b - a == 60000 for a, b in zip(starts, starts[1:])), "buckets are contiguous")
    check(starts[0] % 60000 == 0, "buckets start on whole minutes")
    # A field filter narrows the histogram; the automatic interval is chosen.
    body = get_json(server, "/api/histogram", q=f"{marker} status:500", **{"from": "now-2h"})
    check_eq(body["total"], 225, "status:500 is a quarter")
    check(len(body["buckets"]) <= 121, f"automatic interval gives at most 121 buckets: {len(body['buckets'])}")
    fields = get_json(server, "/api/fields", q=marker)
    by_name = {f["name"]: f for f in fields["fields"]}
    check_eq(fields["sampled"], 500, "the sidebar samples 500 events")
    check_eq(by_name["host"]["count"], 500, "every sampled event has a host")
    check_eq(sorted(v["value"] for v in by_name["host"]["values"]), ["web-0", "web-1", "web-2"], "host values")
    check_eq(sorted(v["value"] for v in by_name["status"]["values"]), ["200", "300", "400", "500"], "status values")
    check_eq(sum(v["count"] for v in by_name["status"]["values"]), 500, "status counts add up")


def test_errors_and_partial(ctx):
    server = ctx.start_server()
    for path in ("/api/search", "/api/histogram", "/api/fields", "/api/tail"):
        response = harness.http_get(server.url(path, q='status:"open'))
        check_eq(response.status, 400, f"{path}: a syntax error is a 400")
        body = response.json()
        check(isinstance(body.get("position"), int), f"{path}: the error names a position: {body}")
        check(body.get("error", "").startswith("q: "), f"{path}: the error says what: {body}")
    response = harness.http_get(server.url("/api/histogram", interval="7y"))
    check_eq(response.status, 400, "a bad interval is a 400")
    response = harness.http_get(server.url("/api/histogram", interval="1s", **{"from": "now-30d"}))
    check_eq(response.status, 400, "too many buckets is a 400")
    # A deadline of 0 ms: the search answers at once, partial, and is counted.
    config = os.path.join(ctx.workdir, "partial.yaml")
    with open(config, "w") as f:
        f.write("search:\n  timeout_ms: 0\n")
    strict = ctx.start_server(extra_args=["--config", config])
    marker = "part" + secrets.token_hex(4)
    seed(strict, marker, 30, int(time.time()))
    harness.wait_until(lambda: strict.metrics().value("sluice_events_stored_total", input="http_ndjson") == 30, 15,
                       "30 events stored")
    body = get_json(strict, "/api/search", q=marker)
    check_eq(body["partial"], True, "a search past its deadline says partial")
    check(strict.metrics().value("sluice_search_partial_total") >= 1, "partial searches are counted")


def test_abandoned_requests_stop(ctx):
    """A client that hangs up before its answer: the server stops the work
    (counted as abandoned, not as partial) and goes on answering others."""
    server = ctx.start_server()
    marker = "gone" + secrets.token_hex(4)
    seed(server, marker, 3000, int(time.time()))
    harness.wait_until(lambda: server.metrics().value("sluice_events_stored_total", input="http_ndjson") == 3000, 30,
                       "3000 events stored")
    # A regex reads every event of the range; the request and the hang-up
    # (FIN) leave together, so the server sees the close while it works.
    target = "/api/histogram?" + urllib.parse.urlencode({"q": "/.*request.*/", "interval": "1s", "from": "now-2h"})
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.http_port)) as s:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            s.shutdown(socket.SHUT_WR)
    harness.wait_until(lambda: server.metrics().value("sluice_search_abandoned_total") >= 1, 15,
                       "a request whose client hung up is stopped and counted as abandoned")
    check_eq(server.metrics().value("sluice_search_partial_total"), 0, "abandoned requests are not partial answers")
    body = get_json(server, "/api/histogram", q="/.*request.*/", interval="1h", **{"from": "now-2h"})
    check_eq(sum(b["count"] for b in body["buckets"]), 3000, "the server still answers in full afterwards")
    check_eq(body["partial"], False, "and not partial")


def test_live_tail(ctx):
    curl = harness.require_tool("curl", "apt-get install curl")
    server = ctx.start_server()
    marker = "tail" + secrets.token_hex(4)
    out_path = os.path.join(ctx.workdir, "tail.txt")
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([curl, "-sN", server.url("/api/tail", q=f"{marker} AND NOT skip")], stdout=out)
    ctx.processes.append(proc)
    cli_path = os.path.join(ctx.workdir, "cli_tail.txt")
    with open(cli_path, "wb") as out:
        cli = subprocess.Popen([ctx.binary, "tail", marker, "--server", server.base_url], stdout=out,
                               stderr=subprocess.STDOUT)
    ctx.processes.append(cli)
    harness.wait_until(lambda: server.metrics().value("sluice_tail_clients") == 2, 10, "two tails open")
    now = time.time()
    ingest(server, [{"timestamp": rfc3339(now), "message": f"{marker} one"},
                    {"timestamp": rfc3339(now), "message": f"{marker} skip this"},
                    {"timestamp": rfc3339(now - 86400 * 3), "message": f"{marker} old but new to us"},
                    {"timestamp": rfc3339(now), "message": "unrelated"}])
    logger = harness.require_tool("logger", "apt-get install bsdutils")
    harness.run_cmd([logger, "--rfc5424", "-T", "-n", "127.0.0.1", "-P", str(server.syslog_port), "-t", "tl",
                     f"{marker} via syslog"])

    def tailed():
        with open(out_path, "rb") as f:
            text = f.read().decode(errors="replace")
        messages = []
        for line in text.splitlines():
            if line.startswith("data: "):
                messages += [e["message"] for e in json.loads(line[6:])["events"]]
        return messages if len(messages) >= 3 else None
    messages = harness.wait_until(tailed, 10, "the tail to deliver three events")
    check_eq(sorted(messages), sorted([f"{marker} one", f"{marker} old but new to us", f"{marker} via syslog"]),
             "the tail sends new matches only, whatever their timestamp")
    harness.wait_until(lambda: open(cli_path).read().count(marker) >= 4, 10, "sluice tail prints four events")
    text = open(cli_path).read()
    check(f"{marker} via syslog" in text and "unrelated" not in text, "sluice tail prints matches", text)
    proc.terminate()
    harness.wait_until(lambda: server.metrics().value("sluice_tail_clients") == 1, 10,
                       "a closed tail is forgotten")
    cli.terminate()
    server.stop()  # SIGTERM with tails open still exits 0 promptly


def test_cli_search(ctx):
    server = ctx.start_server()
    marker = "cli" + secrets.token_hex(4)
    base = int(time.time()) - 10
    seed(server, marker, 250, base)
    harness.wait_until(lambda: get_json(server, "/api/histogram", q=marker)["total"] == 250, 15, "250 stored")
    rc, out, err, _ = ctx.run_sluice(["search", f"{marker} host:web-1", "--limit", "40", "--server", server.base_url])
    check_eq(rc, 0, f"sluice search exits 0: {err}")
    lines = out.splitlines()
    check_eq(len(lines), 40, "40 lines")
    check(all(" web-1 shop[" in line and marker in line for line in lines), "each line is TIME HOST APP[SEV]: MSG")
    check(lines == sorted(lines), "oldest first")
    rc, out, err, _ = ctx.run_sluice(["search", marker, "--limit", "250", "--json", "--from", "now-1h",
                                      "--server", server.base_url])
    check_eq(rc, 0, f"sluice search --json exits 0: {err}")
    ns = [json.loads(line)["fields"]["n"] for line in out.splitlines()]
    check_eq(sorted(ns), list(range(250)), "--json over several pages: every event once")
    rc, out, err, _ = ctx.run_sluice(["search", '(unclosed', "--server", server.base_url])
    check_eq(rc, 2, "a syntax error exits 2")
    check("position" in err, f"and names the position: {err}")


if __name__ == "__main__":
    harness.main([test_cursor_pages, test_histogram_and_fields, test_errors_and_partial, test_abandoned_requests_stop,
                  test_live_tail,
                  test_cli_search])
