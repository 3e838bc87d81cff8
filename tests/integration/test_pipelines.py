#!/usr/bin/env python3
"""Pipelines end to end: check-config, serve refusing a bad config, grok +
date + mutate on real syslog traffic, failure tagging, SIGHUP reload (a bad
config is rejected and the old pipelines keep running), the grok debugger on
the command line and over HTTP, and the per-processor failure metric.

    python3 test_pipelines.py PATH-TO-SLUICE [TEST-NAME...]
"""

import datetime
import json
import os
import secrets
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NGINX_CONFIG = """\
pipelines:
  - name: nginx
    inputs: [syslog_tcp]
    if: app == "nginx"
    processors:
      - grok:
          patterns: ['%{COMBINEDAPACHELOG}']
      - date:
          source: timestamp
          formats: ['%d/%b/%Y:%H:%M:%S %z']
      - mutate:
          convert: {response: int, bytes: int}
          remove: [timestamp]
"""

KV_CONFIG = """\
pipelines:
  - name: kv
    if: app == "nginx"
    processors:
      - kv: {source: message, field_split: " ", value_split: "="}
"""

BAD_CONFIG = """\
pipelines:
  - name: broken
    processors:
      - grok:
          patterns: ['%{NO_SUCH_PATTERN:x}']
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


# Yesterday, so that store retention (30 days by default) never drops the
# events whatever the date the suite runs on.
YESTERDAY = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)


def access_line(marker, status):
    stamp = YESTERDAY.strftime("%d/%b/%Y")  # the C locale's English month names
    return (f'10.1.2.3 - bob [{stamp}:10:00:00 +0100] "GET /{marker} HTTP/1.1" {status} 512 '
            f'"-" "curl/8"')


def send_syslog(server, app, message):
    frame = f"<14>1 {YESTERDAY.isoformat()}T12:00:00Z web-1 {app} - - - {message}".encode()
    server.send_tcp(str(len(frame)).encode() + b" " + frame)


def test_check_config(ctx):
    rc, out, err, _ = ctx.run_sluice(["check-config", os.path.join(SOURCE_DIR, "config/examples/pipelines.yaml")])
    check_eq(rc, 0, f"check-config accepts the shipped example ({err.strip()})")
    check("ok" in out + err, "check-config says ok")
    bad = os.path.join(ctx.workdir, "bad.yaml")
    write(bad, BAD_CONFIG)
    rc, out, err, _ = ctx.run_sluice(["check-config", bad])
    check_eq(rc, 1, "check-config rejects an unknown pattern name")
    check(f"{bad}:5:" in err and "NO_SUCH_PATTERN" in err,
          f"the error names file, line and pattern: {err.strip()}")
    rc, out, err, seconds = ctx.run_sluice(["serve", "--config", bad, "--data", ctx.workdir + "/d",
                                            "--syslog", "127.0.0.1:0", "--http", "127.0.0.1:0"])
    check(rc != 0, "serve refuses to start on the same config")
    check(f"{bad}:5:" in err, f"with the same positioned message: {err.strip()}")


def test_grok_pipeline_and_reload(ctx):
    config = os.path.join(ctx.workdir, "sluice.yaml")
    write(config, NGINX_CONFIG)
    server = ctx.server(extra_args=["--config", config]).start()
    marker = secrets.token_hex(5)

    send_syslog(server, "nginx", access_line(marker, 404))
    send_syslog(server, "nginx", f"this is not an access line {marker}")
    send_syslog(server, "other", access_line(marker + "-x", 200))
    events = server.wait_for_events(marker, 3)
    parsed = [e for e in events if e["app"] == "nginx" and "GET" in e["message"]][0]
    fields = parsed["fields"]
    check_eq(fields.get("clientip"), "10.1.2.3", "grok extracted clientip")
    check_eq(fields.get("response"), 404, "mutate convert made response an integer")
    check_eq(fields.get("bytes"), 512, "and bytes")
    check("timestamp" not in fields, "mutate removed the timestamp field")
    check_eq(parsed["timestamp"], f"{YESTERDAY.isoformat()}T09:00:00.000000000Z",
             "date set the event time from the log")
    check("_parse_failure" not in fields, "a parsed line is not tagged")
    unparsed = [e for e in events if "not an access line" in e["message"]][0]
    check_eq(unparsed["fields"].get("_parse_failure"), True, "a line grok cannot parse is tagged and kept")
    other = [e for e in events if e["app"] == "other"][0]
    check("clientip" not in other["fields"], "events of other apps skip the pipeline")
    found = server.search_events(f"response:404 {marker}")
    check_eq(len(found), 1, "parsed fields are searchable")
    metrics = server.metrics()
    check_eq(metrics.value("sluice_pipeline_failures_total", pipeline="nginx", processor="grok#1"), 1,
             "the grok failure is counted per pipeline and processor")

    # A bad config on SIGHUP is rejected; the running pipelines stay.
    write(config, BAD_CONFIG)
    server.proc.send_signal(signal.SIGHUP)
    harness.wait_until(lambda: "reload rejected" in server.stderr_text(), 10, "the rejected reload is logged")
    marker2 = secrets.token_hex(5)
    send_syslog(server, "nginx", access_line(marker2, 500))
    event = server.wait_for_events(marker2, 1)[0]
    check_eq(event["fields"].get("response"), 500, "the old pipeline still parses after a bad reload")

    # A good config on SIGHUP replaces the pipelines without a restart.
    write(config, KV_CONFIG)
    server.proc.send_signal(signal.SIGHUP)
    harness.wait_until(lambda: "reloaded 1 pipeline" in server.stderr_text(), 10, "the reload is logged")
    marker3 = secrets.token_hex(5)
    send_syslog(server, "nginx", f"user=alice action=login tag={marker3}")
    event = server.wait_for_events(marker3, 1)[0]
    check_eq(event["fields"].get("user"), "alice", "the new kv pipeline runs after SIGHUP")
    check_eq(server.proc.poll(), None, "the server kept running through both reloads")
    server.stop()


def test_grok_debugger(ctx):
    lines = access_line("dbg", 200) + "\nno match here\n"
    result = subprocess.run([ctx.binary, "grok", "%{COMBINEDAPACHELOG}"], input=lines.encode(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    check_eq(result.returncode, 0, "sluice grok exits 0")
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    check_eq(len(rows), 2, "one result per input line")
    check_eq(rows[0]["fields"]["verb"], "GET", "the CLI extracts fields")
    check_eq(rows[1]["matched"], False, "and reports a line that does not match")
    bad = subprocess.run([ctx.binary, "grok", "%{NOPE:x}"], input=b"", stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=20)
    check(bad.returncode != 0 and b"NOPE" in bad.stderr, "an unknown pattern name is an error")

    server = ctx.server().start()
    body = json.dumps({"pattern": "%{IP:client} %{INT:n:int}", "lines": "1.2.3.4 17\nnope"}).encode()
    response = harness.http_post(server.url("/api/grok"), body, content_type="application/json")
    check_eq(response.status, 200, "POST /api/grok answers 200")
    results = response.json()["results"]
    check_eq(results[0]["fields"], {"client": "1.2.3.4", "n": 17}, "with typed fields")
    check_eq(results[1]["matched"], False, "and non-matching lines")
    bad = harness.http_post(server.url("/api/grok"), json.dumps({"pattern": "(", "lines": "x"}).encode(),
                            content_type="application/json")
    check_eq(bad.status, 400, "a bad pattern answers 400")
    server.stop()


if __name__ == "__main__":
    harness.main([test_check_config, test_grok_pipeline_and_reload, test_grok_debugger])
