#!/usr/bin/env python3
"""End to end: the web viewer in a real browser (Debian's chromium driven by
playwright-core) against the real server.

    python3 test_web_viewer.py PATH-TO-SLUICE [TEST-NAME...]

Seeds events over POST /api/ingest with current timestamps (distinct hosts,
apps, fields; a hostile HTML message; a U+202E message; a 20 KB line; 10,000
bulk events), then runs `node tests/web/viewer_test.js BASE-URL ARTIFACT-DIR`,
which does the clicking and prints what it measured. Screenshots land in the
artifact dir: $SLUICE_TEST_ARTIFACTS/web if set, else <build dir>/artifacts/web.

Needs node, /usr/bin/chromium (scripts/install_deps.sh --test) and
playwright-core in .tools/node (scripts/install_node_tools.sh); a missing one
fails the test.
"""

import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import check  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIEWER_TEST = os.path.join(REPO, "tests", "web", "viewer_test.js")
PLAYWRIGHT = os.path.join(REPO, ".tools", "node", "node_modules", "playwright-core")
CHROMIUM = "/usr/bin/chromium"
# The browser test waits on conditions with its own deadlines; this bounds
# the whole run if chromium hangs.
BROWSER_TIMEOUT_S = 240

HOSTS = ("web-01", "web-02", "db-01")
APPS = ("nginx", "sshd", "cron", "api")
SEVERITIES = ("info", "warning", "err", "info", "debug")
USERS = ("alice", "bob", "carol o'hara", "dave", "erin")  # 5: coprime with the 3 hosts
HOSTILE_MESSAGE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
RTL_MESSAGE = "invoice \u202egpj.exe\u202c from \x1b[31mmallory"
SEEDED = 60
BULK = 10000


def artifact_dir(binary):
    """$SLUICE_TEST_ARTIFACTS/web, else artifacts/web in the build dir of `binary`."""
    base = os.environ.get("SLUICE_TEST_ARTIFACTS")
    if base:
        return os.path.join(os.path.abspath(base), "web")
    directory = os.path.dirname(binary)
    while directory != os.path.dirname(directory):
        if os.path.isfile(os.path.join(directory, "CMakeCache.txt")):
            return os.path.join(directory, "artifacts", "web")
        directory = os.path.dirname(directory)
    return os.path.join(os.path.dirname(binary), "artifacts", "web")


def rfc3339_ms_ago(now_ns, ms):
    return harness.format_rfc3339_ns(now_ns - ms * 1_000_000)


def ingest(server, records):
    body = ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    response = harness.http_post(server.url("/api/ingest"), body, timeout=60)
    check(response.status == 200, f"POST /api/ingest of {len(records)} event(s)", repr(response))
    reply = response.json()
    check(reply.get("accepted") == len(records),
          f"all {len(records)} seeded event(s) accepted", repr(reply)[:300])


def seed(server, marker, bulk_marker):
    """Ingests the events the browser test looks at; returns what it expects."""
    now = harness.now_ns()
    records = []
    by_host, by_app = {}, {}
    by_host_app = {}
    for i in range(SEEDED):
        host, app = HOSTS[i % len(HOSTS)], APPS[i % len(APPS)]
        by_host[host] = by_host.get(host, 0) + 1
        by_app[app] = by_app.get(app, 0) + 1
        by_host_app[f"{host}/{app}"] = by_host_app.get(f"{host}/{app}", 0) + 1
        records.append({
            # Spread over the last 50 minutes, so the histogram has many bars.
            "timestamp": rfc3339_ms_ago(now, 5_000 + i * 50_000),
            "host": host, "app": app, "severity": SEVERITIES[i % len(SEVERITIES)],
            "message": f"{marker} request {i} handled path=/item/{i}",
            "user": USERS[i % len(USERS)], "status": (200, 404, 500)[i % 3],
            "latency_ms": 10 + i,
        })
    records.append({"timestamp": rfc3339_ms_ago(now, 1_000), "host": "evil-host", "app": "evil",
                    "severity": "alert", "message": HOSTILE_MESSAGE,
                    "link": "javascript:window.__pwned=3"})
    records.append({"timestamp": rfc3339_ms_ago(now, 2_000), "host": "rtl-host", "app": "mail",
                    "severity": "notice", "message": RTL_MESSAGE})
    records.append({"timestamp": rfc3339_ms_ago(now, 3_000), "host": "huge-host", "app": "dump",
                    "severity": "info", "message": "huge " + "0123456789abcdef" * 1280})
    ingest(server, records)
    bulk = [{"timestamp": rfc3339_ms_ago(now, 10_000 + i * 150), "host": f"bulk-{i % 7}",
             "app": "bulk", "severity": "info", "message": f"{bulk_marker} n={i} payload {i * 7919}"}
            for i in range(BULK)]
    ingest(server, bulk)
    server.wait_for_events(marker, SEEDED)
    server.wait_for_events(bulk_marker, BULK, limit=BULK)
    for host in ("evil-host", "rtl-host", "huge-host"):
        server.wait_for_events(f"host:{host}", 1)
    return {
        "marker": marker, "seeded": SEEDED, "seeded_at_ms": now // 1_000_000,
        "by_host": by_host, "by_app": by_app,
        "by_host_app": by_host_app, "hostile_message": HOSTILE_MESSAGE,
        "rtl_message": RTL_MESSAGE, "bulk_marker": bulk_marker, "bulk": BULK,
        "tail_marker": "wt" + secrets.token_hex(5),
    }


def endpoint_status(server, path):
    """Status of GET `path` without reading a body (a stream never ends)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_web_viewer(ctx):
    node = harness.require_tool("node", "apt-get install nodejs (scripts/install_deps.sh --test)")
    if not os.access(CHROMIUM, os.X_OK):
        raise harness.ToolMissing(f"{CHROMIUM} is missing; apt-get install chromium "
                                  "(scripts/install_deps.sh --test)")
    if not os.path.isfile(os.path.join(PLAYWRIGHT, "package.json")):
        raise harness.ToolMissing(f"{PLAYWRIGHT} is missing; run scripts/install_node_tools.sh")

    artifacts = artifact_dir(ctx.binary)
    shutil.rmtree(artifacts, ignore_errors=True)
    os.makedirs(artifacts, exist_ok=True)
    harness.log(f"  artifacts (screenshots): {artifacts}")

    server = ctx.start_server()
    expected = seed(server, "wv" + secrets.token_hex(5), "wb" + secrets.token_hex(5))

    # The viewer's contract with the API; name what is missing up front.
    missing = []
    for path in ("/api/histogram?q=x", "/api/fields?q=x", "/api/tail?q=x"):
        status = endpoint_status(server, path)
        if status == 404:
            missing.append(path.split("?")[0])
    if missing:
        harness.log(f"  FAIL the viewer's endpoints are missing: {', '.join(missing)} "
                    "(the browser test runs anyway; their steps will fail)")

    with open(os.path.join(artifacts, "seed.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1)
    started = time.monotonic()
    env = dict(os.environ, NODE_PATH=os.path.dirname(PLAYWRIGHT), SLUICE_CHROMIUM=CHROMIUM)
    try:
        result = subprocess.run([node, VIEWER_TEST, server.base_url, artifacts],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                timeout=BROWSER_TIMEOUT_S, env=env, cwd=ctx.workdir)
    except subprocess.TimeoutExpired as error:
        raise harness.CheckFailed(
            f"viewer_test.js did not finish within {BROWSER_TIMEOUT_S}s; "
            f"output so far:\n{(error.stdout or b'').decode(errors='replace')}") from None
    output = result.stdout.decode(errors="replace")
    for line in output.rstrip("\n").split("\n"):
        harness.log(f"  | {line}")
    harness.log(f"  browser test took {time.monotonic() - started:.1f}s; screenshots: {artifacts}")
    check(not missing, "the API serves /api/histogram, /api/fields and /api/tail",
          f"missing: {', '.join(missing)}")
    check(result.returncode == 0, "tests/web/viewer_test.js passed",
          f"exit code {result.returncode}; see the steps above and {artifacts}")
    server.stop()


if __name__ == "__main__":
    harness.main([test_web_viewer])
