#!/usr/bin/env python3
"""End to end: every input → the store → /api/search, and again after a restart.

Sends uniquely marked events through
  - util-linux `logger` over TCP (RFC5424, RFC6587 octet counting) and UDP,
  - a raw TCP socket with LF framing (RFC3164) and octet counting (RFC5424
    with structured data), both with frames split across writes,
  - a raw UDP datagram (RFC3164),
  - `curl` POSTing NDJSON to /api/ingest (valid and invalid lines),
then finds each through /api/search and checks every attribute, exercises the
query language on that data set, restarts the server on the same data dir and
requires identical results.

    python3 test_ingest_search.py PATH-TO-SLUICE [TEST-NAME...]
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import (check, check_eq, format_rfc3339_ns, now_ns,  # noqa: E402
                     parse_rfc3339_ns)

SECOND = 1_000_000_000


def rfc3164_timestamp(ns):
    # "Mmm dd hh:mm:ss" with a space-padded day, in UTC (the server runs with TZ=UTC).
    moment = time.gmtime(ns // SECOND)
    return (time.strftime("%b ", moment) + f"{moment.tm_mday:2d}"
            + time.strftime(" %H:%M:%S", moment))


def rfc5424_timestamp_us(ns, offset_minutes):
    # RFC5424 allows at most 6 fraction digits; returns (text, exact ns it denotes).
    ns_us = ns - ns % 1000
    text = format_rfc3339_ns(ns_us, offset_minutes)
    head, rest = text.split(".", 1)
    return head + "." + rest[:6] + rest[9:], ns_us


class Expectation:
    """What one sent event must look like in search results."""

    def __init__(self, token, **attrs):
        self.token = token
        self.attrs = attrs  # top-level keys that must equal
        self.fields = attrs.pop("fields", {})
        self.absent_fields = attrs.pop("absent_fields", ())
        self.timestamp_ns = attrs.pop("timestamp_ns", None)  # exact
        self.timestamp_range = attrs.pop("timestamp_range", None)  # (lo, hi) ns
        self.raw = attrs.pop("raw", None)  # exact; else must contain the token
        self.sent_ns = None


def verify_event(event, exp, found_ns):
    label = exp.token
    check(isinstance(event, dict), f"[{label}] event is an object", repr(event))
    for key, value in exp.attrs.items():
        check_eq(event.get(key), value, f"[{label}] {key}")
    timestamp = parse_rfc3339_ns(event.get("timestamp"))
    check(str(event["timestamp"]).endswith("Z"), f"[{label}] timestamp is in UTC (Z)",
          event["timestamp"])
    if exp.timestamp_ns is not None:
        check_eq(timestamp, exp.timestamp_ns, f"[{label}] timestamp (ns since epoch)")
    if exp.timestamp_range is not None:
        lo, hi = exp.timestamp_range
        check(lo <= timestamp <= hi, f"[{label}] timestamp within its send window",
              f"{event['timestamp']} not in [{format_rfc3339_ns(lo)}, {format_rfc3339_ns(hi)}]")
    received = parse_rfc3339_ns(event.get("received"))
    check(exp.sent_ns - SECOND <= received <= found_ns + SECOND,
          f"[{label}] received between send and find",
          f"{event.get('received')} not in [{format_rfc3339_ns(exp.sent_ns)}, "
          f"{format_rfc3339_ns(found_ns)}]")
    raw = event.get("raw")
    if exp.raw is not None:
        check_eq(raw, exp.raw, f"[{label}] raw is the frame as sent")
    else:
        check(isinstance(raw, str) and exp.token in raw, f"[{label}] raw holds the message",
              repr(raw))
    fields = event.get("fields")
    check(isinstance(fields, dict), f"[{label}] fields is an object", repr(fields))
    for name, value in exp.fields.items():
        got = fields.get(name)
        if isinstance(value, str) and not isinstance(got, str) and got is not None:
            got = json.dumps(got)  # a JSON number or bool may come back unquoted
        check_eq(got, value, f"[{label}] fields[{name!r}]")
    for name in exp.absent_fields:
        check(fields.get(name) in (None, ""), f"[{label}] no {name!r} field for a NILVALUE",
              repr(fields.get(name)))


def tokens_of(events, expectations):
    """Which expectation tokens the events' messages carry."""
    found = set()
    for event in events:
        for exp in expectations:
            if exp.token in (event.get("message") or ""):
                found.add(exp.token)
    return found


def send_all(ctx, server, marker, logger):
    """Sends one event per way in; returns the Expectations."""
    hostname = socket.gethostname()
    expectations = []
    port = str(server.syslog_port)

    # 1. logger, TCP, RFC5424, RFC6587 octet counting, with PID, MSGID and SD.
    exp = Expectation(f"{marker}-lgtcp", host=hostname, app="lgtcpapp", severity="warning",
                      facility="local3", input="syslog_tcp", message=f"msg {marker}-lgtcp",
                      fields={"msgid": "ID47", "sd.ex@32473.k": "v 1",
                              "sd.timeQuality.tzKnown": "1"})
    exp.sent_ns = now_ns()
    proc = subprocess.Popen([logger, "--rfc5424", "--octet-count", "-T", "-n", "127.0.0.1",
                             "-P", port, "-t", "lgtcpapp", "-i", "-p", "local3.warning",
                             "--msgid", "ID47", "--sd-id", "ex@32473", "--sd-param", 'k="v 1"',
                             f"msg {exp.token}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, stderr = proc.communicate(timeout=10)
    check_eq(proc.returncode, 0, f"logger over TCP exits 0 (stderr: {stderr!r})")
    # Started without a shell, logger's own PID is the PROCID that -i sends.
    exp.fields["procid"] = str(proc.pid)
    exp.timestamp_range = (exp.sent_ns - SECOND, now_ns() + SECOND)
    expectations.append(exp)

    # 2. logger, UDP, RFC5424, defaults: user.notice, no PROCID (NILVALUE).
    exp = Expectation(f"{marker}-lgudp", host=hostname, app="lgudpapp", severity="notice",
                      facility="user", input="syslog_udp", message=f"msg {marker}-lgudp",
                      fields={"sd.timeQuality.tzKnown": "1"}, absent_fields=("procid", "msgid"))
    exp.sent_ns = now_ns()
    harness.run_cmd([logger, "--rfc5424", "-d", "-n", "127.0.0.1", "-P", port, "-t", "lgudpapp",
                     f"msg {exp.token}"], timeout=10)
    exp.timestamp_range = (exp.sent_ns - SECOND, now_ns() + SECOND)
    expectations.append(exp)

    # 3. raw TCP, LF framing, RFC3164; two lines in one write, one split over two.
    sent = now_ns()
    ts3164 = rfc3164_timestamp(sent)
    ts3164_ns = (sent // SECOND) * SECOND
    line_a = f"<34>{ts3164} legacyhost su3164[4242]: legacy one {marker}-lfa"
    line_b = f"<13>{ts3164} legacyhost cron3164: legacy two {marker}-lfb"
    line_c = f"<191>{ts3164} legacyhost app3164[7]: legacy three {marker}-lfc h\u00e9llo \u2713"
    for token, line, app, severity, facility, procid, message in (
            (f"{marker}-lfa", line_a, "su3164", "crit", "auth", "4242",
             f"legacy one {marker}-lfa"),
            (f"{marker}-lfb", line_b, "cron3164", "notice", "user", None,
             f"legacy two {marker}-lfb"),
            (f"{marker}-lfc", line_c, "app3164", "debug", "local7", "7",
             f"legacy three {marker}-lfc h\u00e9llo \u2713")):
        exp = Expectation(token, host="legacyhost", app=app, severity=severity, facility=facility,
                          input="syslog_tcp", message=message, raw=line,
                          timestamp_ns=ts3164_ns,
                          fields={"procid": procid} if procid else {},
                          absent_fields=() if procid else ("procid",))
        exp.sent_ns = sent
        expectations.append(exp)
    data = (line_a + "\n" + line_b + "\n" + line_c + "\n").encode()
    split = len((line_a + "\n" + line_b + "\n").encode()) + 12
    server.send_tcp(data[:split], data[split:])

    # 4. raw TCP, octet counting, RFC5424 with escaped structured data, a UTF-8
    #    message and a +05:30 offset; then a frame with NILVALUE time, PROCID,
    #    MSGID and SD. Frames and the length prefix are split across writes.
    sent = now_ns()
    ts_d, ts_d_ns = rfc5424_timestamp_us(sent - 5 * SECOND, 330)
    frame_d = (f'<165>1 {ts_d} rawhost5424 rawapp 777 ID99 '
               f'[exampleSDID@32473 iut="3" eventSource="App \\"q\\" \\]x" eventID="1011"]'
               f'[examplePriority@32473 class="high"] raw 5424 {marker}-ocd h\u00e9llo \u2713')
    frame_e = f'<14>1 - rawhost5424 rawapp2 - - - second frame {marker}-oce'
    exp = Expectation(f"{marker}-ocd", host="rawhost5424", app="rawapp", severity="notice",
                      facility="local4", input="syslog_tcp",
                      message=f"raw 5424 {marker}-ocd h\u00e9llo \u2713", raw=frame_d,
                      timestamp_ns=ts_d_ns,
                      fields={"procid": "777", "msgid": "ID99", "sd.exampleSDID@32473.iut": "3",
                              "sd.exampleSDID@32473.eventSource": 'App "q" ]x',
                              "sd.exampleSDID@32473.eventID": "1011",
                              "sd.examplePriority@32473.class": "high"})
    exp.sent_ns = sent
    expectations.append(exp)
    exp = Expectation(f"{marker}-oce", host="rawhost5424", app="rawapp2", severity="info",
                      facility="user", input="syslog_tcp", message=f"second frame {marker}-oce",
                      raw=frame_e, absent_fields=("procid", "msgid"))
    exp.sent_ns = sent
    exp.timestamp_range = (sent - SECOND, None)  # NILVALUE: the receive time; hi set below
    expectations.append(exp)
    body_d, body_e = frame_d.encode(), frame_e.encode()
    data = f"{len(body_d)} ".encode() + body_d + f"{len(body_e)} ".encode() + body_e
    cut1 = len(f"{len(body_d)} ".encode()) + len(body_d) + 1  # inside the second prefix
    cut2 = cut1 + 20
    server.send_tcp(data[:cut1], data[cut1:cut2], data[cut2:])

    # 5. raw UDP datagram, RFC3164.
    sent = now_ns()
    ts3164 = rfc3164_timestamp(sent)
    datagram = f"<30>{ts3164} udphost udp3164: udp legacy {marker}-udpf"
    exp = Expectation(f"{marker}-udpf", host="udphost", app="udp3164", severity="info",
                      facility="daemon", input="syslog_udp", message=f"udp legacy {marker}-udpf",
                      raw=datagram, timestamp_ns=(sent // SECOND) * SECOND)
    exp.sent_ns = sent
    expectations.append(exp)
    server.send_udp(datagram.encode())

    return expectations


def post_ndjson(ctx, server, marker, curl):
    """POSTs NDJSON with curl; returns (Expectations, response JSON, lines)."""
    sent = now_ns()
    ts_g = sent - 2 * 3600 * SECOND - 123456789  # two hours ago, ns precision
    ts_i = sent - 3600 * SECOND
    line_g = json.dumps({"message": f"ndjson one {marker}-njg", "host": "web-1", "app": "checkout",
                         "timestamp": format_rfc3339_ns(ts_g, 120), "severity": "error",
                         "user_id": 42, "path": "/cart"})
    line_h = json.dumps({"msg": f"ndjson two {marker}-njh", "level": "warning", "host": "web-2",
                         "app": "checkout", "region": "eu"})
    line_i = json.dumps({"message": f"ndjson three {marker}-nji", "host": "web-1",
                         "app": "billing", "timestamp": format_rfc3339_ns(ts_i),
                         "severity": "info", "trace": "abc-123"})
    lines = [line_g, line_h, '{"message": "broken", not json', '["not", "an", "object"]', line_i]
    path = os.path.join(ctx.workdir, "events.ndjson")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    out_path = os.path.join(ctx.workdir, "ingest-response.json")
    result = harness.run_cmd([curl, "-sS", "--noproxy", "*", "-o", out_path, "-w", "%{http_code}",
                              "-H", "Content-Type: application/x-ndjson",
                              "--data-binary", f"@{path}", server.url("/api/ingest")], timeout=30)
    with open(out_path, "rb") as f:
        body = f.read()
    check_eq(result.stdout.decode().strip(), "200", f"curl POST /api/ingest status (body {body!r})")
    try:
        response = json.loads(body)
    except ValueError:
        raise harness.CheckFailed(f"POST /api/ingest body is not JSON: {body!r}") from None

    expectations = []
    for token, line, attrs in (
            (f"{marker}-njg", line_g, dict(host="web-1", app="checkout", severity="err",
                                          message=f"ndjson one {marker}-njg", timestamp_ns=ts_g,
                                          fields={"user_id": "42", "path": "/cart"})),
            (f"{marker}-njh", line_h, dict(host="web-2", app="checkout", severity="warning",
                                          message=f"ndjson two {marker}-njh",
                                          fields={"region": "eu"})),
            (f"{marker}-nji", line_i, dict(host="web-1", app="billing", severity="info",
                                          message=f"ndjson three {marker}-nji",
                                          timestamp_ns=ts_i, fields={"trace": "abc-123"}))):
        exp = Expectation(token, input="http_ndjson", raw=line, **attrs)
        exp.sent_ns = sent
        expectations.append(exp)
    expectations[1].timestamp_range = (sent - SECOND, now_ns() + SECOND)
    return expectations, response


def check_ingest_response(response):
    check(isinstance(response, dict), "ingest response is an object", repr(response))
    check_eq(response.get("accepted"), 3, "ingest response: accepted")
    check_eq(response.get("rejected"), 2, "ingest response: rejected")
    errors = response.get("errors")
    check(isinstance(errors, list), "ingest response: errors is a list", repr(errors))
    check_eq(sorted(e.get("line") for e in errors if isinstance(e, dict)), [3, 4],
             "ingest response: rejected line numbers")
    check(all(isinstance(e.get("error"), str) and e["error"] for e in errors),
          "ingest response: every rejected line has an error message", repr(errors))


def test_ingest_search_restart(ctx):
    logger = harness.require_tool("logger", "util-linux logger: apt-get install bsdutils")
    curl = harness.require_tool("curl", "apt-get install curl")
    server = ctx.start_server()
    check(True, f"server healthy (syslog 127.0.0.1:{server.syslog_port}, "
                f"http 127.0.0.1:{server.http_port})")
    marker = "sl" + secrets.token_hex(5)

    syslog_expectations = send_all(ctx, server, marker, logger)

    ndjson_expectations, response = post_ndjson(ctx, server, marker, curl)
    check_ingest_response(response)
    # The 200 means committed: searchable at once, without waiting.
    for exp in ndjson_expectations:
        events = server.search_events(exp.token)
        check_eq(len(events), 1, f"[{exp.token}] NDJSON event searchable right after the 200")

    expectations = syslog_expectations + ndjson_expectations
    by_token = {}
    for exp in expectations:
        events = server.wait_for_events(exp.token, 1)
        found = now_ns()
        if exp.timestamp_range and exp.timestamp_range[1] is None:
            exp.timestamp_range = (exp.timestamp_range[0], found + SECOND)
        check_eq(len(events), 1, f"[{exp.token}] exactly one event found")
        verify_event(events[0], exp, found)
        by_token[exp.token] = events[0]

    check_query_language(server, marker, expectations)

    # Restart on the same data dir: everything comes back, byte for byte.
    elapsed = server.stop()
    check(True, f"SIGTERM: exit 0 after {elapsed:.2f}s")
    again = ctx.start_server(data_dir=server.data_dir)
    check(True, "restarted on the same data dir")
    for exp in expectations:
        events = again.wait_for_events(exp.token, 1, timeout=10)
        check_eq(len(events), 1, f"[{exp.token}] found once after restart")
        check_eq(events[0], by_token[exp.token], f"[{exp.token}] identical after restart")
    all_events = again.search_events(marker)
    check_eq(tokens_of(all_events, expectations), {e.token for e in expectations},
             "search for the marker finds every event after restart")
    # The reopened store still takes writes.
    response = harness.http_post(again.url("/api/ingest"),
                                 json.dumps({"message": f"after restart {marker}-post"}).encode())
    check_eq(response.status, 200, "POST /api/ingest after restart")
    check_eq(len(again.search_events(f"{marker}-post")), 1, "event ingested after restart found")
    again.stop()


def check_query_language(server, marker, expectations):
    tokens = {e.token for e in expectations}
    body = server.search(marker)
    events = body["events"]
    check_eq(tokens_of(events, expectations), tokens, "bare word finds every event")
    check_eq(len(events), len(expectations), "bare word finds nothing else")
    check_eq(body.get("count"), len(events), "count equals the number of events returned")
    check(body.get("partial") is False, "partial is false", repr(body.get("partial")))
    check(isinstance(body.get("took_ms"), (int, float)), "took_ms is a number",
          repr(body.get("took_ms")))
    stamps = [parse_rfc3339_ns(e["timestamp"]) for e in events]
    check(stamps == sorted(stamps, reverse=True), "results are newest first",
          [e["timestamp"] for e in events])
    check_eq(tokens_of(server.search_events(marker.upper()), expectations), tokens,
             "bare words ignore case")

    def expect(q, wanted, what, **params):
        got = tokens_of(server.search_events(q, **params), expectations)
        check_eq(got, {marker + "-" + t for t in wanted}, f"{what}: q={q!r} {params or ''}".rstrip())

    expect(f"{marker} app:checkout", {"njg", "njh"}, "app:value")
    expect(f"{marker} host:WEB-1", {"njg", "nji"}, "host:value ignores case")
    expect(f"{marker} host:web", set(), "host:value is exact, not a substring")
    expect(f"{marker} severity:warning", {"lgtcp", "njh"}, "severity:name")
    expect(f"{marker} facility:local3", {"lgtcp"}, "facility:name")
    expect(f"{marker} input:syslog_udp", {"lgudp", "udpf"}, "input:syslog_udp")
    expect(f"{marker} input:http_ndjson", {"njg", "njh", "nji"}, "input:http_ndjson")
    expect(f"{marker} input:syslog_tcp", {"lgtcp", "lfa", "lfb", "lfc", "ocd", "oce"},
           "input:syslog_tcp")
    expect(f"{marker} user_id:42", {"njg"}, "JSON key as field")
    expect(f"{marker} procid:4242", {"lfa"}, "procid field")
    expect(f"{marker} msgid:id47", {"lgtcp"}, "msgid field ignores value case")
    expect(f'{marker} sd.exampleSDID@32473.eventSource:"app \\"q\\" ]x"', {"ocd"},
           "structured data field with a quoted value")
    expect(f'"ndjson one {marker}-njg"', {"njg"}, "quoted phrase")
    expect(f'"ndjson {marker}-njg"', set(), "quoted phrase must be contiguous")
    expect(f"{marker} legacy severity:crit facility:auth", {"lfa"}, "terms are ANDed")
    expect(f"{marker} h\u00e9llo", {"lfc", "ocd"}, "UTF-8 word")

    limited = server.search_events(marker, limit=2)
    check_eq([e.get("timestamp") for e in limited], [e.get("timestamp") for e in events[:2]],
             "limit=2 returns the two newest")

    ts_g = next(e.timestamp_ns for e in expectations if e.token == marker + "-njg")
    expect(marker, {"njg"}, "from/to RFC3339 window",
           **{"from": format_rfc3339_ns(ts_g - SECOND), "to": format_rfc3339_ns(ts_g + SECOND)})
    expect(marker, {"njg"}, "from/to RFC3339 window with an offset",
           **{"from": format_rfc3339_ns(ts_g - SECOND, -300),
              "to": format_rfc3339_ns(ts_g + SECOND, 60)})
    recent = server.search_events(marker, **{"from": "now-15m"})
    recent_tokens = tokens_of(recent, expectations)
    check(not recent_tokens & {marker + "-njg", marker + "-nji"}, "from=now-15m excludes older",
          sorted(recent_tokens))
    wanted_recent = {marker + "-" + t for t in ("lgtcp", "lgudp", "ocd", "oce", "njh")}
    check(wanted_recent <= recent_tokens, "from=now-15m includes the recent events",
          sorted(wanted_recent - recent_tokens))
    expect(marker, {"njg"}, "to=now-90m", to="now-90m")
    expect(marker, {"njg", "nji"}, "from=now-3h to=now-30m", **{"from": "now-3h", "to": "now-30m"})


def test_search_rejects_bad_queries(ctx):
    server = ctx.start_server()
    for params, what in (
            ({"q": "("}, "parenthesis"),
            ({"q": '"unterminated'}, "unterminated quote"),
            ({"q": "host:"}, "field without a value"),
            ({"q": "x", "from": "not-a-time"}, "bad from"),
            ({"q": "x", "from": "2025-13-45T99:00:00Z"}, "impossible from"),
            ({"q": "x", "to": "now-15x"}, "bad relative to")):
        response = harness.http_get(server.url("/api/search", **params))
        check_eq(response.status, 400,
                 f"{what} {params!r} → HTTP 400 ({response.text.strip()[:200]})")
        body = response.json()
        check(isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"],
              f"{what}: body is {{\"error\": \"...\"}}", repr(body))
    check_eq(harness.http_get(server.url("/api/search", q="fine")).status, 200,
             "a good query after bad ones still answers 200")
    server.stop()


if __name__ == "__main__":
    harness.main([test_ingest_search_restart, test_search_rejects_bad_queries])
