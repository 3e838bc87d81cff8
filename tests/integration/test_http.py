#!/usr/bin/env python3
"""End to end: /metrics (validated by promtool), /healthz and the web viewer.

    python3 test_http.py PATH-TO-SLUICE [TEST-NAME...]
"""

import json
import os
import secrets
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

INPUTS = ("syslog_tcp", "syslog_udp", "http_ndjson")
COUNTERS = ("sluice_events_received_total", "sluice_events_stored_total",
            "sluice_parse_failures_total", "sluice_events_dropped_total",
            "sluice_http_requests_total")
GAUGES = ("sluice_queue_bytes", "sluice_queue_batches")


def delta(before, after, name, **labels):
    return (after.value(name, **labels) or 0.0) - (before.value(name, **labels) or 0.0)


def promtool_check(promtool, text):
    result = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    check(result.returncode == 0, "promtool check metrics accepts /metrics",
          f"exit {result.returncode}: {result.stdout.decode(errors='replace')}")


def test_metrics(ctx):
    promtool = harness.require_tool("promtool", "apt-get install prometheus")
    logger = harness.require_tool("logger", "util-linux logger: apt-get install bsdutils")
    curl = harness.require_tool("curl", "apt-get install curl")
    server = ctx.start_server()
    marker = "sm" + secrets.token_hex(5)

    response = harness.http_get(server.url("/metrics"))
    check_eq(response.status, 200, "GET /metrics status")
    check(response.content_type().startswith("text/plain"), "/metrics Content-Type is text/plain",
          response.content_type())
    promtool_check(promtool, response.text)
    before = harness.Metrics(response.text)
    for name in COUNTERS:
        check(before.has(name), f"{name} is exposed")
        check_eq(before.types.get(name), "counter", f"{name} TYPE")
    for name in GAUGES:
        check_eq(before.types.get(name), "gauge", f"{name} TYPE")
        value = before.value(name)
        check(value is not None and value >= 0, f"{name} has a non-negative sample", repr(value))

    # One event over each syslog input, two (plus one bad line) over HTTP.
    port = str(server.syslog_port)
    harness.run_cmd([logger, "--rfc5424", "--octet-count", "-T", "-n", "127.0.0.1", "-P", port,
                     "-t", "mtcp", f"metrics tcp {marker}"])
    harness.run_cmd([logger, "--rfc5424", "-d", "-n", "127.0.0.1", "-P", port, "-t", "mudp",
                     f"metrics udp {marker}"])
    body = "\n".join([json.dumps({"message": f"metrics json one {marker}"}),
                      "{bad json",
                      json.dumps({"message": f"metrics json two {marker}"})]) + "\n"
    result = harness.run_cmd([curl, "-sS", "--noproxy", "*", "-w", "\n%{http_code}",
                              "-H", "Content-Type: application/x-ndjson", "--data-binary", "@-",
                              server.url("/api/ingest")], input_bytes=body.encode())
    reply, _, code = result.stdout.decode().rpartition("\n")
    check_eq(code, "200", f"curl POST /api/ingest ({reply.strip()})")
    check_eq(json.loads(reply).get("accepted"), 2, "NDJSON accepted count")
    server.wait_for_events(marker, 4)

    def counters_moved():
        after = server.metrics()
        ready = all(delta(before, after, "sluice_events_stored_total", input=i) >= 1
                    for i in INPUTS)
        return after if ready else None
    after = harness.wait_until(counters_moved, harness.SEARCHABLE_TIMEOUT_S,
                               "stored counters of every input to move")
    for name, input_name, expected in (
            ("sluice_events_received_total", "syslog_tcp", 1),
            ("sluice_events_stored_total", "syslog_tcp", 1),
            ("sluice_events_received_total", "syslog_udp", 1),
            ("sluice_events_stored_total", "syslog_udp", 1),
            ("sluice_events_stored_total", "http_ndjson", 2)):
        check_eq(delta(before, after, name, input=input_name), expected,
                 f'{name}{{input="{input_name}"}} moved by exactly {expected}')
    received_http = delta(before, after, "sluice_events_received_total", input="http_ndjson")
    check(received_http in (2, 3), 'sluice_events_received_total{input="http_ndjson"} moved by '
          "the lines received (2 valid, 1 invalid)", repr(received_http))
    check(delta(before, after, "sluice_http_requests_total", path="/api/ingest", code="200") >= 1,
          'sluice_http_requests_total{path="/api/ingest",code="200"} moved')
    check(delta(before, after, "sluice_http_requests_total", path="/api/search", code="200") >= 1,
          'sluice_http_requests_total{path="/api/search",code="200"} moved')
    promtool_check(promtool, after.text)

    # A frame that is not syslog is counted as a parse failure.
    server.send_tcp(f"<999> this is not syslog {marker}\n".encode())
    harness.wait_until(
        lambda: delta(before, server.metrics(), "sluice_parse_failures_total",
                      input="syslog_tcp") >= 1,
        harness.SEARCHABLE_TIMEOUT_S, 'sluice_parse_failures_total{input="syslog_tcp"} to move')
    check(True, 'sluice_parse_failures_total{input="syslog_tcp"} moved after a bad frame')

    # A bad search is counted with its code.
    check_eq(harness.http_get(server.url("/api/search", q="(")).status, 400, "bad query → 400")
    harness.wait_until(
        lambda: delta(before, server.metrics(), "sluice_http_requests_total",
                      path="/api/search", code="400") >= 1,
        5, 'sluice_http_requests_total{path="/api/search",code="400"} to move')
    check(True, 'sluice_http_requests_total{path="/api/search",code="400"} moved')

    # Idle again: the queue empties.
    harness.wait_until(lambda: server.metrics().value("sluice_queue_bytes") == 0,
                       harness.SEARCHABLE_TIMEOUT_S, "sluice_queue_bytes to return to 0")
    check(True, "sluice_queue_bytes returns to 0 when idle")
    final = server.metrics()
    check_eq(final.value("sluice_queue_batches"), 0.0, "sluice_queue_batches is 0 when idle")
    promtool_check(promtool, final.text)
    server.stop()


def test_health_and_viewer(ctx):
    server = ctx.start_server()
    response = harness.http_get(server.url("/healthz"))
    check_eq((response.status, response.text.strip()), (200, "ok"), "GET /healthz → 200 ok")

    page = harness.http_get(server.url("/"))
    check_eq(page.status, 200, "GET / status")
    check(page.content_type().startswith("text/html"), "GET / is text/html", page.content_type())
    lowered = page.text.lower()
    check("<html" in lowered or "<!doctype html" in lowered, "GET / is an HTML page",
          page.text[:200])
    check("app.js" in page.text, "the page loads app.js")

    script = harness.http_get(server.url("/app.js"))
    check_eq(script.status, 200, "GET /app.js status")
    check("javascript" in script.content_type(), "GET /app.js is JavaScript",
          script.content_type())
    check(len(script.body.strip()) > 0, "app.js is not empty")
    check("/api/search" in script.text, "app.js queries /api/search")
    server.stop()


def curl_post(curl, url, path, extra=()):
    result = harness.run_cmd([curl, "-sS", "--noproxy", "*", "-w", "\n%{http_code}",
                              "-H", "Content-Type: application/x-ndjson", *extra,
                              "--data-binary", f"@{path}", url], timeout=60)
    reply, _, code = result.stdout.decode().rpartition("\n")
    return code, reply.strip()


def test_ingest_http_variants(ctx):
    curl = harness.require_tool("curl", "apt-get install curl")
    server = ctx.start_server()
    marker = "sv" + secrets.token_hex(5)
    url = server.url("/api/ingest")

    # Chunked transfer encoding, CRLF line ends, no newline after the last line.
    path = f"{ctx.workdir}/crlf.ndjson"
    with open(path, "w", newline="") as f:
        f.write("\r\n".join(json.dumps({"message": f"crlf {marker}c{n}x"}) for n in range(3)))
    code, reply = curl_post(curl, url, path, ["-H", "Transfer-Encoding: chunked"])
    check_eq(code, "200", f"chunked POST with CRLF lines ({reply})")
    check_eq(json.loads(reply).get("accepted"), 3, "chunked POST: all 3 lines accepted")
    for n in range(3):
        events = server.search_events(f"{marker}c{n}x")
        check_eq([e.get("message") for e in events], [f"crlf {marker}c{n}x"],
                 f"line {n + 1} stored once, without CR")

    # A 2 MB body (curl sends Expect: 100-continue above 1 MB).
    lines = 20000
    path = f"{ctx.workdir}/big.ndjson"
    with open(path, "w") as f:
        for n in range(lines):
            f.write(json.dumps({"message": f"bulk {marker}b{n}x padding " + "p" * 60,
                                "app": "bulk"}) + "\n")
    check(os.path.getsize(path) > 2_000_000, "bulk body is over 2 MB")
    code, reply = curl_post(curl, url, path)
    check_eq(code, "200", f"2 MB POST ({reply[:200]})")
    check_eq(json.loads(reply).get("accepted"), lines, f"2 MB POST: all {lines} accepted")
    for n in (0, lines // 2, lines - 1):
        check_eq(len(server.search_events(f"{marker}b{n}x")), 1, f"bulk line {n + 1} searchable")

    # Several requests over one keep-alive connection, as browsers do.
    urls = [server.url("/healthz"), server.url("/"), server.url("/app.js"),
            server.url("/api/search", q=marker), server.url("/metrics")]
    result = harness.run_cmd([curl, "-sS", "--noproxy", "*", "-o", "/dev/null", "-o",
                              "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-o",
                              "/dev/null", "-w", "%{http_code} %{num_connects}\n", *urls])
    replies = [line.split() for line in result.stdout.decode().split("\n") if line.strip()]
    check_eq([r[0] for r in replies], ["200"] * len(urls), "keep-alive: every request answered")
    check_eq(sum(int(r[1]) for r in replies), 1, "keep-alive: one connection for all requests")
    server.stop()


if __name__ == "__main__":
    harness.main([test_metrics, test_health_and_viewer, test_ingest_http_variants])
