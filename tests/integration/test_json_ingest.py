"""End to end: JSON ingest — POST /api/ingest (NDJSON, arrays, single objects;
gzip, deflate and zstd bodies via curl) and JSON lines over TCP (--json-tcp),
each event found with its fields via GET /api/search; and bad input: invalid,
truncated and deeply nested JSON, huge strings, duplicate keys, invalid UTF-8,
a zip bomb and wrong Content-Types, answered per line or per request and
counted in /metrics, with the valid events of the same request kept and the
server still running.

    python3 test_json_ingest.py PATH-TO-SLUICE [TEST-NAME...]
"""

import gzip
import json
import os
import re
import secrets
import socket
import zlib

import harness
from harness import check, check_eq

JSON_ERRORS = "sluice_json_errors_total"


def start(ctx, config_text=None):
    port = harness.free_port()
    args = ["--json-tcp", f"127.0.0.1:{port}"]
    if config_text is not None:
        path = os.path.join(ctx.workdir, "sluice.yaml")
        with open(path, "w") as f:
            f.write(config_text)
        args = ["--config", path] + args
    server = ctx.start_server(extra_args=args)
    server.json_port = port
    return server


def curl_post(ctx, server, data_path, headers=(), path="/api/ingest"):
    """POSTs a file's bytes with curl; returns (status, parsed JSON or text)."""
    curl = harness.require_tool("curl", "apt-get install curl")
    out_path = os.path.join(ctx.workdir, "reply-" + secrets.token_hex(4))
    args = [curl, "-sS", "--noproxy", "*", "-o", out_path, "-w", "%{http_code}"]
    for header in headers:
        args += ["-H", header]
    args += ["--data-binary", f"@{data_path}", server.url(path)]
    result = harness.run_cmd(args, timeout=60)
    with open(out_path, "rb") as f:
        body = f.read()
    status = int(result.stdout.decode().strip())
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


def write(ctx, name, data):
    path = os.path.join(ctx.workdir, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def find_one(server, token):
    events = server.wait_for_events(token, 1)
    check_eq(len(events), 1, f"exactly one event for {token}")
    return events[0]


def check_event(server, token, **expected):
    event = find_one(server, token)
    fields = expected.pop("fields", {})
    for key, value in expected.items():
        check_eq(event.get(key), value, f"{token}: {key}")
    for key, value in fields.items():
        check_eq(event["fields"].get(key), value, f"{token}: field {key}")
    return event


def test_http_shapes_and_encodings(ctx):
    server = start(ctx)
    m = "hj" + secrets.token_hex(4)
    zstd = harness.require_tool("zstd", "apt-get install zstd")

    # NDJSON with a valid, an invalid and another valid line.
    ndjson = "\n".join([
        json.dumps({"message": f"nd one {m}a1", "host": "web-1", "app": "shop", "level": "error",
                    "http": {"status": 502, "path": "/pay"}, "tags": ["a", "b"]}),
        '{"message": "broken", oops}',
        json.dumps({"msg": f"nd two {m}a2", "hostname": "web-2", "@timestamp": "2026-11-22T10:00:00Z"}),
    ]) + "\n"
    status, reply = curl_post(ctx, server, write(ctx, "a.ndjson", ndjson),
                              ["Content-Type: application/x-ndjson"])
    check_eq(status, 200, f"NDJSON POST ({reply})")
    check_eq(reply, {"accepted": 2, "rejected": 1, "errors": [{"line": 2, "error": "invalid JSON"}]},
             "NDJSON reply")
    check_event(server, f"{m}a1", host="web-1", app="shop", severity="err", input="http_ndjson",
                fields={"http.status": 502, "http.path": "/pay", "tags": '["a","b"]'})
    check_event(server, f"{m}a2", host="web-2", timestamp="2026-11-22T10:00:00.000000000Z")

    # A JSON array (element 2 is not an object) and a single pretty-printed object.
    array = json.dumps([{"message": f"arr {m}b1", "n": 1}, [1, 2], {"message": f"arr {m}b3", "n": 3}],
                       indent=2)
    status, reply = curl_post(ctx, server, write(ctx, "b.json", array), ["Content-Type: application/json"])
    check_eq(status, 200, f"array POST ({reply})")
    check_eq(reply, {"accepted": 2, "rejected": 1, "errors": [{"line": 2, "error": "not a JSON object"}]},
             "array reply: element index + 1")
    check_event(server, f"{m}b3", fields={"n": 3})
    single = json.dumps({"message": f"single {m}c1", "service": {"name": "api"}}, indent=4)
    status, reply = curl_post(ctx, server, write(ctx, "c.json", single), ["Content-Type: application/json"])
    check_eq((status, reply), (200, {"accepted": 1, "rejected": 0, "errors": []}), "single object")
    check_event(server, f"{m}c1", app="api")

    # Compressed bodies: gzip, deflate (zlib) and zstd (the CLI).
    def body(letter):
        lines = [json.dumps({"message": f"zip {m} {m}{letter}{n}", "seq": n}) for n in range(500)]
        return ("\n".join(lines) + "\n").encode()

    gz = write(ctx, "d.ndjson.gz", gzip.compress(body("d")))
    status, reply = curl_post(ctx, server, gz, ["Content-Encoding: gzip", "Content-Type: application/x-ndjson"])
    check_eq((status, reply.get("accepted") if isinstance(reply, dict) else reply), (200, 500), "gzip body")
    deflated = write(ctx, "e.ndjson.zz", zlib.compress(body("e")))
    status, reply = curl_post(ctx, server, deflated, ["Content-Encoding: deflate"])
    check_eq((status, reply.get("accepted") if isinstance(reply, dict) else reply), (200, 500), "deflate body")
    zplain = write(ctx, "f.ndjson", body("f"))
    harness.run_cmd([zstd, "-q", "-f", zplain, "-o", zplain + ".zst"])
    status, reply = curl_post(ctx, server, zplain + ".zst", ["Content-Encoding: zstd"])
    check_eq((status, reply.get("accepted") if isinstance(reply, dict) else reply), (200, 500), "zstd body")
    for letter in "def":
        for n in (0, 250, 499):
            check_event(server, f"{m}{letter}{n}", fields={"seq": n})
    check_eq(len(server.wait_for_events(m, 1500, limit=5000)), 1500, "every compressed event stored once")
    server.stop()


def test_json_lines_over_tcp(ctx):
    server = start(ctx)
    m = "tj" + secrets.token_hex(4)
    count = 3000
    payload = bytearray()
    for n in range(count):
        event = {"message": f"tcp event {m} t{m}n{n}", "host": f"h{n % 7}", "app": "gen",
                 "level": ["info", "warn", "error"][n % 3], "req": {"id": n, "ok": n % 2 == 0}}
        payload += json.dumps(event).encode() + (b"\r\n" if n % 2 else b"\n")
    payload += b"\n"  # a blank line is skipped
    payload += b'{"message": "not json ' + m.encode() + b'\n'  # stored as raw text, flagged
    payload += json.dumps({"message": f"last {m} t{m}last"}).encode()  # no final newline
    with socket.create_connection(("127.0.0.1", server.json_port), timeout=10) as sock:
        # Odd-sized writes split lines across reads.
        for pos in range(0, len(payload), 7001):
            sock.sendall(payload[pos:pos + 7001])
    events = server.wait_for_events(m, count + 2, limit=10000)
    check_eq(len(events), count + 2, "every line stored once")
    by_token = {}
    for event in events:
        for word in event["message"].split():
            if word.startswith("t" + m):
                by_token[word] = event
    for n in range(count):
        event = by_token.get(f"t{m}n{n}")
        check(event is not None, f"event {n} found")
        check_eq((event["host"], event["app"], event["input"], event["fields"].get("req.id")),
                 (f"h{n % 7}", "gen", "json_tcp", n), f"event {n} fields")
        check_eq(event["severity"], ["info", "warning", "err"][n % 3], f"event {n} severity")
    check(f"t{m}last" in by_token, "a last line without newline is stored at close")
    bad = [e for e in events if e["fields"].get("_parse_failure")]
    check_eq(len(bad), 1, "the invalid line is kept as raw text with _parse_failure")
    check(bad[0]["message"].startswith('{"message": "not json'), "raw text kept", bad[0]["message"])
    for n in (0, 1234, count - 1):
        check_eq(len(server.search_events(f"t{m}n{n}")), 1, f"event {n} found by its own token")
    metrics = server.metrics()
    check(metrics.value(JSON_ERRORS, input="json_tcp", reason="truncated") >= 1,
          "json_tcp truncated JSON counted")
    check(metrics.value("sluice_events_stored_total", input="json_tcp") >= count + 2, "stored counted")

    # A line over json_tcp.max_line_bytes: cut, flagged, counted; the next line intact.
    server.stop()
    server = start(ctx, config_text="json_tcp:\n  max_line_bytes: 1000\n")
    huge = json.dumps({"message": f"huge {m}h1 " + "x" * 5000}).encode()
    after = json.dumps({"message": f"after {m}h2"}).encode()
    with socket.create_connection(("127.0.0.1", server.json_port), timeout=10) as sock:
        sock.sendall(huge + b"\n" + after + b"\n")
    event = find_one(server, f"{m}h2")
    check_eq(event["fields"].get("_parse_failure"), None, "the line after a huge one parses")
    cut = server.wait_for_events(f"{m}h1", 1)[0]
    check_eq((cut["fields"].get("_truncated"), cut["fields"].get("_parse_failure")), (True, True),
             "the huge line is cut and flagged")
    check_eq(len(cut["raw"]), 1000, "cut at max_line_bytes")
    check(server.metrics().value("sluice_ingest_errors_total", input="json_tcp", reason="frame_truncated") >= 1,
          "frame_truncated counted")
    server.stop()


def test_bad_input(ctx):
    server = start(ctx, config_text="http:\n  max_decompressed_bytes: 1048576\n")
    m = "bj" + secrets.token_hex(4)
    before = server.metrics()
    depth_bomb = '{"a":' * 5000 + "1" + "}" * 5000
    lines = [
        json.dumps({"message": f"good {m}g1"}).encode(),           # 1
        b'{"message": "truncated',                                # 2
        depth_bomb.encode(),                                      # 3
        b'{"message": "bad \xc3\x28 utf8"}',                      # 4
        json.dumps({"message": f"dup {m}g5", "k": 1, "k": 2}).encode(),  # 5 (json.dumps keeps one)
        b'{"message": "dup keys ' + m.encode() + b'g6", "k": "first", "k": "second"}',  # 6
        json.dumps({"message": f"huge {m}g7", "blob": "y" * 2_000_000}).encode(),  # 7: over 1 MiB
        b"not json at all",                                       # 8
        json.dumps({"message": f"good {m}g9"}).encode(),           # 9
    ]
    status, reply = curl_post(ctx, server, write(ctx, "bad.ndjson", b"\n".join(lines)),
                              ["Content-Type: application/x-ndjson"])
    check_eq(status, 200, f"mixed request ({reply})")
    errors = {e["line"]: e["error"] for e in reply["errors"]}
    check_eq(sorted(errors), [2, 3, 4, 7, 8], f"rejected lines ({reply})")
    check("truncated" in errors[2], "truncated JSON named", errors[2])
    check("deeper" in errors[3], "depth bomb named", errors[3])
    check("UTF-8" in errors[4], "invalid UTF-8 named", errors[4])
    check("size limit" in errors[7], "huge string named", errors[7])
    check_eq(reply["accepted"], 4, "valid lines of the same request kept")
    find_one(server, f"{m}g1")
    find_one(server, f"{m}g9")
    dup = check_event(server, f"{m}g6")
    check_eq(dup["fields"].get("k"), ["first", "second"], "duplicate keys: both kept")

    # Request-level errors.
    bomb = write(ctx, "bomb.gz", gzip.compress(b"\n" * (20 << 20)))
    check(os.path.getsize(bomb) < 100_000, "the bomb is small")
    status, reply = curl_post(ctx, server, bomb, ["Content-Encoding: gzip"])
    check_eq(status, 413, f"zip bomb ({reply})")
    check("max_decompressed_bytes" in reply.get("error", ""), "zip bomb message", reply)
    html = write(ctx, "page.html", "<html></html>")
    status, reply = curl_post(ctx, server, html, ["Content-Type: text/html"])
    check_eq(status, 415, f"text/html ({reply})")
    check("text/html" in reply.get("error", ""), "415 names the type", reply)
    curl = harness.require_tool("curl", "apt-get install curl")
    result = harness.run_cmd([curl, "-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}",
                              "-F", f"file=@{html}", server.url("/api/ingest")])
    check_eq(result.stdout.decode().strip(), "415", "multipart upload")
    status, reply = curl_post(ctx, server, html, ["Content-Encoding: br"])
    check_eq(status, 415, f"unknown Content-Encoding ({reply})")
    corrupt = write(ctx, "corrupt.gz", gzip.compress(b'{"a":1}\n' * 1000)[:50])
    status, reply = curl_post(ctx, server, corrupt, ["Content-Encoding: gzip"])
    check_eq(status, 400, f"cut gzip body ({reply})")

    after = server.metrics()

    def moved(reason, by):
        delta = (after.value(JSON_ERRORS, input="http_ndjson", reason=reason) or 0) - \
                (before.value(JSON_ERRORS, input="http_ndjson", reason=reason) or 0)
        check_eq(delta, by, f"{JSON_ERRORS}{{reason={reason}}} moved by {by}")

    for reason, by in (("truncated", 1), ("depth_limit", 1), ("invalid_utf8", 1), ("too_long", 1),
                       ("invalid_json", 1), ("body_too_large", 1)):
        moved(reason, by)
    check_eq(after.value("sluice_http_requests_total", path="/api/ingest", code="415"), 3.0,
             "415s counted")
    check(server.running(), "the server keeps running")
    status, reply = curl_post(ctx, server, write(ctx, "ok.ndjson", json.dumps({"message": f"still {m}s1"})))
    check_eq((status, reply.get("accepted")), (200, 1), "ingest still works")
    server.stop()


def test_mapping_config(ctx):
    server = start(ctx, config_text=(
        "json:\n"
        "  message_keys: [text]\n"
        "  timestamp_keys: [when]\n"
        "  timestamp_format: unix_ms\n"
        "  host_keys: [source.host]\n"
        "  app_keys: [component]\n"))
    m = "mj" + secrets.token_hex(4)
    line = json.dumps({"text": f"mapped {m}x1", "message": "kept as a field", "when": 1795341600250,
                       "source": {"host": "edge-3"}, "component": "router"})
    with socket.create_connection(("127.0.0.1", server.json_port), timeout=10) as sock:
        sock.sendall(line.encode() + b"\n")
    check_event(server, f"{m}x1", host="edge-3", app="router", message=f"mapped {m}x1",
                timestamp="2026-11-22T10:00:00.250000000Z", fields={"message": "kept as a field"})
    server.stop()


def test_escaped_messages(ctx):
    """Messages with escapes come back decoded, found by their words, and
    their lines byte for byte: from the buffer, and from the blocks after a
    restart (a message whose only escapes are \\" \\\\ \\/ is stored as its
    string in the line, others as text of their own)."""
    server = start(ctx)
    m = "te" + secrets.token_hex(4)
    count = 600
    lines, expected = [], {}
    for n in range(count):
        token = f"{m}n{n}"
        kind = n % 4
        if kind == 0:
            message = f'say "hi" to {token} {m}'
            line = json.dumps({"message": message, "host": "h1"})
        elif kind == 1:
            message = f"path C:\\dir/{token} ok {m}"
            line = '{"message":"path C:\\\\dir\\/' + token + ' ok ' + m + '","host":"h1"}'
        elif kind == 2:
            message = f"two\nlines {token} {m}"
            line = json.dumps({"message": message, "host": "h1"})
        else:
            message = f"caf\u00e9 {token} {m}"
            line = json.dumps({"message": message, "host": "h1"})  # \u00e9 in the line
        check_eq(json.loads(line)["message"], message, f"line {n} is the JSON of its message")
        lines.append(line)
        expected[token] = (message, line)
    path = write(ctx, "escaped.ndjson", "\n".join(lines) + "\n")
    status, reply = curl_post(ctx, server, path, headers=["Content-Type: application/x-ndjson"])
    check_eq((status, reply.get("accepted") if isinstance(reply, dict) else reply), (200, count), "all accepted")

    def check_all(srv, when):
        events = srv.wait_for_events(m, count, limit=10000)
        check_eq(len(events), count, f"{when}: every event stored once")
        for event in events:
            token = re.search(m + r"n\d+", event["message"]).group(0)
            message, line = expected[token]
            check_eq(event["message"], message, f"{when}: {token} message decoded")
            check_eq(event["raw"], line, f"{when}: {token} line byte for byte")
        for word, kind in (("hi", 0), ("dir", 1), ("lines", 2), ("caf\u00e9", 3)):
            found = srv.search_events(f"{m}n{kind + 4} {word}")
            check_eq([e["message"] for e in found], [expected[f"{m}n{kind + 4}"][0]], f"{when}: found by '{word}'")

    check_all(server, "buffered")
    server.stop()
    restarted = ctx.start_server(data_dir=server.data_dir)
    check_all(restarted, "after a restart")
    restarted.stop()


if __name__ == "__main__":
    harness.main([test_http_shapes_and_encodings, test_json_lines_over_tcp, test_bad_input,
                  test_mapping_config, test_escaped_messages])
