#!/usr/bin/env python3
"""End to end: GELF (Graylog Extended Log Format) over UDP, TCP and HTTP.

A real GELF client, gelf-pro from npm (tests/gelf/send.js), sends thousands
of numbered events over UDP (zlib, chunked — every tenth event is large
enough to need several chunks), over TCP (NUL framed) and, as the GELF text it
builds, POSTed to /gelf (plain, gzip, deflate). Each event is then found
through /api/search with its host, message, level, time and typed
additional fields, and by field queries. Hand-made datagrams cover what
gelf-pro does not send: uncompressed and gzip UDP, chunks out of order and
duplicated, and `_id` (reserved, ignored). Bad input: invalid JSON and
objects without host or short_message (kept as parse failures, the valid
events around them kept; 400 over HTTP), a zip bomb (refused, counted), and
a storm of chunks that never complete (evicted at the cap, expired after
5 s, counted; the server keeps running).

    python3 test_gelf.py PATH-TO-SLUICE [TEST-NAME...]
"""

import gzip
import json
import os
import secrets
import socket
import sys
import time
import zlib

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import check, check_eq, parse_rfc3339_ns  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SENDER = os.path.join(ROOT, "tests", "gelf", "send.js")
GELF_PRO = os.path.join(ROOT, ".tools", "node", "node_modules", "gelf-pro")
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
STREAM_TIMEOUT_S = 60.0


def require_gelf_pro():
    harness.require_tool("node", "apt-get install nodejs")
    if not os.path.isfile(os.path.join(GELF_PRO, "package.json")):
        raise harness.ToolMissing(f"gelf-pro is not installed in {GELF_PRO}; run scripts/install_node_tools.sh")


def start_gelf_server(ctx, config_text=None):
    port = harness.free_port()
    extra = ["--gelf", f"127.0.0.1:{port}"]
    if config_text is not None:
        path = os.path.join(ctx.workdir, "gelf.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(config_text)
        extra += ["--config", path]
    server = ctx.server(extra_args=extra).start()
    server.gelf_port = port
    return server


def send_with_gelf_pro(server, transport, marker, count, base_ts, big_every=0):
    port = server.http_port if transport.startswith("http") else server.gelf_port
    result = harness.run_cmd(["node", SENDER, transport, "127.0.0.1", str(port), marker, str(count),
                              str(base_ts), str(big_every), GELF_PRO], timeout=180, check_rc=False)
    out = result.stdout.decode(errors="replace")
    check(result.returncode == 0, f"gelf-pro sent {count} events over {transport}",
          out + result.stderr.decode(errors="replace")[-2000:])


def counter(server, name, **labels):
    value = server.metrics().value(name, **labels)
    return 0.0 if value is None else value


def udp_send(server, datagram):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(datagram, ("127.0.0.1", server.gelf_port))


def chunks_of(message_id, payload, size):
    pieces = [payload[i:i + size] for i in range(0, len(payload), size)]
    return [b"\x1e\x0f" + message_id + bytes([seq, len(pieces)]) + piece for seq, piece in enumerate(pieces)]


def verify_stream(server, marker, transport, count, base_ts, input_name):
    def all_found():
        events = server.search_events(f"{marker} transport:{transport}", limit=10000)
        return events if len(events) >= count else None
    events = harness.wait_until(all_found, STREAM_TIMEOUT_S, f"{count} {transport} events to be searchable")
    by_seq = {}
    duplicates = []
    for event in events:
        seq = event["fields"].get("seq")
        if seq in by_seq:
            duplicates.append(seq)
        by_seq[seq] = event
    check(not duplicates, f"{transport}: no event stored twice", duplicates[:10])
    check_eq(sorted(by_seq), list(range(count)), f"{transport}: every event 0..{count - 1} found once")
    problems = []
    for i, event in by_seq.items():
        fields = event["fields"]
        expected = {
            "message": f"{marker} {transport} event {i}", "host": f"gelf-host-{i % 3}",
            "severity": SEVERITIES[i % 8], "input": input_name}
        for key, value in expected.items():
            if event.get(key) != value:
                problems.append(f"event {i}: {key} {event.get(key)!r} != {value!r}")
        for key, value in {"user": f"u{i}", "status": 200 + i % 5, "ratio": 0.5, "transport": transport}.items():
            if fields.get(key) != value:
                problems.append(f"event {i}: field {key} {fields.get(key)!r} != {value!r}")
        for absent in ("version", "level", "timestamp", "host", "short_message", "_parse_failure"):
            if absent in fields:
                problems.append(f"event {i}: unexpected field {absent}")
        want_ns = (base_ts * 1000 + i) * 1_000_000
        if abs(parse_rfc3339_ns(event["timestamp"]) - want_ns) > 1000:
            problems.append(f"event {i}: timestamp {event['timestamp']} != {want_ns} ns")
        if ("blob" in fields) != (transport == "udp" and i % 10 == 0):
            problems.append(f"event {i}: blob present: {'blob' in fields}")
        if not event.get("raw", "").startswith("{"):
            problems.append(f"event {i}: raw is not the GELF JSON: {event.get('raw', '')[:80]!r}")
    check(not problems, f"{transport}: all {count} events carry their GELF attributes and fields",
          "; ".join(problems[:10]))
    # Field queries: _status 203 was sent by every i with i % 5 == 3.
    hits = server.search_events(f"{marker} transport:{transport} status:203", limit=10000)
    check_eq(len(hits), len([i for i in range(count) if i % 5 == 3]),
             f"{transport}: the field query status:203 finds exactly its events")


def test_gelf_clients(ctx):
    require_gelf_pro()
    server = start_gelf_server(ctx)
    marker = "gelfrun" + secrets.token_hex(4)
    base_ts = int(time.time()) - 600
    send_with_gelf_pro(server, "udp", marker, 2000, base_ts, big_every=10)
    send_with_gelf_pro(server, "tcp", marker, 1500, base_ts)
    send_with_gelf_pro(server, "http", marker, 300, base_ts)
    send_with_gelf_pro(server, "httpgzip", marker, 150, base_ts)
    send_with_gelf_pro(server, "httpdeflate", marker, 150, base_ts)
    verify_stream(server, marker, "udp", 2000, base_ts, "gelf_udp")
    verify_stream(server, marker, "tcp", 1500, base_ts, "gelf_tcp")
    verify_stream(server, marker, "http", 300, base_ts, "gelf_http")
    verify_stream(server, marker, "httpgzip", 150, base_ts, "gelf_http")
    verify_stream(server, marker, "httpdeflate", 150, base_ts, "gelf_http")
    check(counter(server, "sluice_gelf_errors_total", reason="chunk_expired") == 0,
          "no chunked message of gelf-pro expired")

    # What gelf-pro does not send: plain and gzip datagrams, chunks out of
    # order with a duplicate, and the reserved _id.
    token = "gelfhand" + secrets.token_hex(4)
    plain = {"version": "1.1", "host": "hand-1", "short_message": f"{token} plain", "level": 3,
             "timestamp": base_ts + 0.5, "_id": "forged", "_kind": "plain", "full_message": "long\ntext"}
    udp_send(server, json.dumps(plain).encode())
    zipped = dict(plain, short_message=f"{token} gzip", _kind="gzip")
    udp_send(server, gzip.compress(json.dumps(zipped).encode()))
    big = dict(plain, short_message=f"{token} chunked", _kind="chunked", _pad=secrets.token_hex(3000))
    pieces = chunks_of(secrets.token_bytes(8), gzip.compress(json.dumps(big).encode()), 1000)
    check(len(pieces) >= 3, "the hand-made chunked message has several chunks")
    for piece in [pieces[-1], pieces[0], pieces[0]] + pieces[1:-1]:
        udp_send(server, piece)
    events = server.wait_for_events(token, 3)
    by_kind = {e["fields"].get("kind"): e for e in events}
    check_eq(sorted(by_kind), ["chunked", "gzip", "plain"], "plain, gzip and out-of-order chunked UDP arrive once each")
    for kind, event in by_kind.items():
        check("id" not in event["fields"] and "_id" not in event["fields"], f"{kind}: _id is reserved and ignored")
        check_eq(event["fields"].get("full_message"), "long\ntext", f"{kind}: full_message is a field")
        check_eq(event["severity"], "err", f"{kind}: level 3 is severity err")
        check_eq(parse_rfc3339_ns(event["timestamp"]), base_ts * 1_000_000_000 + 500_000_000,
                 f"{kind}: the timestamp's decimals are kept")
    check(counter(server, "sluice_gelf_errors_total", input="gelf_udp", reason="chunk_duplicate") >= 1,
          "the duplicate chunk was counted")


def test_gelf_bad_input(ctx):
    server = start_gelf_server(ctx, config_text="gelf:\n  max_open_messages: 200\n")
    token = "gelfbad" + secrets.token_hex(4)
    failures_before = counter(server, "sluice_parse_failures_total", input="gelf_tcp")

    # Invalid objects between valid ones on one TCP connection: all kept.
    frames = [
        {"host": "h", "short_message": f"{token} valid-1", "_n": 1},
        f"{{not json {token} broken".encode(),
        {"short_message": f"{token} nohost"},
        {"host": "h", "short_message": f"{token} valid-2", "_n": 2},
    ]
    payload = b"".join((f if isinstance(f, bytes) else json.dumps(f).encode()) + b"\0" for f in frames)
    with socket.create_connection(("127.0.0.1", server.gelf_port), timeout=10) as sock:
        sock.sendall(payload)
    events = server.wait_for_events(token, 4)
    by_message = {e["message"]: e for e in events}
    for n in (1, 2):
        event = by_message.get(f"{token} valid-{n}")
        check(event is not None and event["fields"].get("n") == n and "_parse_failure" not in event["fields"],
              f"valid event {n} around the invalid ones is stored intact")
    failed = [e for e in events if e["fields"].get("_parse_failure")]
    check_eq(sorted(e["fields"].get("gelf_error") for e in failed), ["GELF: invalid JSON", "GELF: missing host"],
             "invalid JSON and a missing host are stored as parse failures with their reason")
    check(all(e["raw"] == e["message"] for e in failed), "a parse failure keeps its raw text as the message")
    harness.wait_until(lambda: counter(server, "sluice_parse_failures_total", input="gelf_tcp") - failures_before >= 2,
                       10, "sluice_parse_failures_total{input=gelf_tcp} to count both")

    # HTTP refuses what it cannot take, with the reason.
    url = server.url("/gelf")
    response = harness.http_request("POST", url, b"{not json", {"Content-Type": "application/json"})
    check_eq(response.status, 400, "POST /gelf with invalid JSON: 400")
    check("invalid JSON" in response.text, "the 400 names the reason", response.text)
    response = harness.http_request("POST", url, json.dumps({"host": "h"}).encode())
    check_eq(response.status, 400, "POST /gelf without short_message: 400")
    bomb = gzip.compress(b"\0" * (64 << 20))
    response = harness.http_request("POST", url, bomb, {"Content-Encoding": "gzip"})
    check_eq(response.status, 413, "POST /gelf with a zip bomb: 413")
    response = harness.http_request("POST", url, b"x", {"Content-Encoding": "br"})
    check_eq(response.status, 415, "POST /gelf with an unknown Content-Encoding: 415")
    check(counter(server, "sluice_events_rejected_total", input="gelf_http") >= 3, "HTTP refusals are counted")
    response = harness.http_request("POST", url, json.dumps({"host": "h", "short_message": f"{token} http-ok"}).encode())
    check_eq(response.status, 202, "POST /gelf with a valid object: 202 Accepted")
    server.wait_for_events(f"{token} http-ok", 1)

    # A UDP zip bomb is refused and counted.
    before = counter(server, "sluice_gelf_errors_total", input="gelf_udp", reason="message_too_large")
    udp_send(server, zlib.compress(b" " * (64 << 20), 9)[:60000])  # truncated bomb: too large before corrupt
    udp_send(server, zlib.compress(b" " * (8 << 20), 9))
    harness.wait_until(
        lambda: counter(server, "sluice_gelf_errors_total", input="gelf_udp", reason="message_too_large") - before >= 2,
        10, "sluice_gelf_errors_total{reason=message_too_large} to count the zip bombs")

    # A storm of chunks that never complete: bounded by the cap, then expired.
    for n in range(1000):
        udp_send(server, b"\x1e\x0f" + n.to_bytes(8, "little") + bytes([0, 4]) + b"x" * 1000)
    harness.wait_until(
        lambda: counter(server, "sluice_gelf_errors_total", input="gelf_udp", reason="chunk_evicted") >= 800,
        10, "chunk_evicted to count the messages over gelf.max_open_messages")
    check(counter(server, "sluice_gelf_open_messages") <= 200, "at most gelf.max_open_messages stay open")
    harness.wait_until(lambda: counter(server, "sluice_gelf_open_messages") == 0
                       and counter(server, "sluice_gelf_errors_total", reason="chunk_expired") >= 1,
                       15, "the incomplete messages to expire after 5 s")
    check_eq(counter(server, "sluice_gelf_open_bytes"), 0.0, "no chunk bytes are held after expiry")

    # Still serving: a valid datagram after all that is stored.
    udp_send(server, json.dumps({"host": "h", "short_message": f"{token} after-storm"}).encode())
    server.wait_for_events(f"{token} after-storm", 1)
    check(server.running(), "the server kept running through the bad input")


if __name__ == "__main__":
    harness.main([test_gelf_clients, test_gelf_bad_input])
