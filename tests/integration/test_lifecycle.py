#!/usr/bin/env python3
"""End to end: command line, startup failures, signals and drain on shutdown.

    python3 test_lifecycle.py PATH-TO-SLUICE [TEST-NAME...]
"""

import json
import os
import secrets
import signal
import socket
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402

# "Quickly": a startup failure must not hang or retry for long.
FAIL_FAST_S = 5.0


def check_one_line_failure(ctx, args, what, mentions=()):
    rc, stdout, stderr, seconds = ctx.run_sluice(args, timeout=FAIL_FAST_S * 2)
    lines = stderr.rstrip("\n").split("\n") if stderr.strip() else []
    check(rc != 0, f"{what}: non-zero exit", f"exit {rc}; stderr {stderr!r}")
    check(len(lines) == 1, f"{what}: exactly one line on stderr", repr(stderr))
    check(lines[0].startswith("sluice: "), f"{what}: the line starts with 'sluice: '",
          repr(lines[0]))
    check(seconds < FAIL_FAST_S, f"{what}: exits quickly", f"{seconds:.1f}s")
    for text in mentions:
        check(text in lines[0], f"{what}: the message names {text!r}", repr(lines[0]))
    return lines[0]


def serve_args(ctx, syslog_port=None, http_port=None, data_dir=None):
    data_dir = data_dir or os.path.join(ctx.workdir, "data-" + secrets.token_hex(3))
    return ["serve", "--data", data_dir,
            "--syslog", f"127.0.0.1:{syslog_port or harness.free_port()}",
            "--http", f"127.0.0.1:{http_port or harness.free_port()}"]


def test_help(ctx):
    rc, stdout, stderr, _ = ctx.run_sluice(["--help"])
    check_eq(rc, 0, "sluice --help exits 0")
    check("serve" in stdout + stderr, "sluice --help mentions serve", repr(stdout + stderr))
    rc, stdout, stderr, _ = ctx.run_sluice(["serve", "--help"])
    check_eq(rc, 0, "sluice serve --help exits 0")
    for flag in ("--config", "--data", "--syslog", "--http", "--workers"):
        check(flag in stdout + stderr, f"sluice serve --help documents {flag}")


def test_bad_flags(ctx):
    base = serve_args(ctx)
    check_one_line_failure(ctx, base + ["--no-such-flag"], "unknown flag", ["--no-such-flag"])
    check_one_line_failure(ctx, base + ["--workers", "abc"], "non-numeric --workers")
    check_one_line_failure(ctx, base + ["--syslog"], "flag without its value")
    check_one_line_failure(ctx, serve_args(ctx, http_port="99999"), "port out of range")
    check_one_line_failure(ctx, base + ["--config", os.path.join(ctx.workdir, "missing.yaml")],
                           "missing config file", ["missing.yaml"])
    check_one_line_failure(ctx, ["no-such-command"], "unknown subcommand")


def test_port_in_use(ctx):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        port = tcp.getsockname()[1]
        check_one_line_failure(ctx, serve_args(ctx, http_port=port), "HTTP port in use",
                               [str(port)])
        check_one_line_failure(ctx, serve_args(ctx, syslog_port=port),
                               "syslog TCP port in use", [str(port)])
    udp_port = harness.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", udp_port))
        check_one_line_failure(ctx, serve_args(ctx, syslog_port=udp_port),
                               "syslog UDP port in use", [str(udp_port)])


def test_unwritable_data_dir(ctx):
    # A path under a regular file cannot be created, even by root.
    regular = os.path.join(ctx.workdir, "regular-file")
    with open(regular, "w") as f:
        f.write("not a directory\n")
    bad = os.path.join(regular, "data")
    check_one_line_failure(ctx, serve_args(ctx, data_dir=bad), "data dir under a regular file",
                           [bad])
    check_one_line_failure(ctx, serve_args(ctx, data_dir=regular), "data dir is a regular file",
                           [regular])


def test_signals(ctx):
    for sig in (signal.SIGTERM, signal.SIGINT):
        server = ctx.start_server()
        elapsed = server.stop(sig)
        check(elapsed < 5, f"{sig.name}: exit 0 quickly ({elapsed:.2f}s)")

    # Open idle connections must not hold up shutdown.
    server = ctx.start_server(extra_args=["--workers", "2"])
    check(True, "starts with --workers 2")
    idle_tcp = socket.create_connection(("127.0.0.1", server.syslog_port))
    idle_tcp.sendall(b"<13>1 - - - - - - half a line without its newline")
    idle_http = socket.create_connection(("127.0.0.1", server.http_port))
    idle_http.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    elapsed = server.stop()
    check(elapsed < 5, f"SIGTERM with idle TCP and HTTP clients: exit 0 ({elapsed:.2f}s)")
    idle_tcp.close()
    idle_http.close()

    # Without --data, the store is ./data in the working directory.
    cwd = os.path.join(ctx.workdir, "cwd")
    os.mkdir(cwd)
    server = ctx.start_server(data_dir=False, cwd=cwd)
    check(os.path.isdir(os.path.join(cwd, "data")), "default data dir is ./data")
    server.stop()


def test_config_file(ctx):
    syslog_port, http_port = harness.free_port(), harness.free_port()
    data_dir = os.path.join(ctx.workdir, "configured-data")
    config = os.path.join(ctx.workdir, "sluice.yaml")
    with open(config, "w") as f:
        f.write(f"data_dir: {data_dir}\n"
                f"listen:\n"
                f"  syslog: 127.0.0.1:{syslog_port}\n"
                f"  http: 127.0.0.1:{http_port}\n"
                f"ingest:\n"
                f"  workers: 2\n")
    server = ctx.server(syslog_port=syslog_port, http_port=http_port,
                        args=["serve", "--config", config]).start()
    check(True, "serve --config FILE listens where the file says")
    check(os.path.isdir(data_dir), "serve --config FILE uses the file's data_dir")
    server.stop()

    # Flags override the file.
    server = ctx.start_server(extra_args=["--config", config])
    check(True, "flags override the config file's addresses")
    server.stop()

    shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config",
                           "sluice.yaml")
    server = ctx.start_server(extra_args=["--config", shipped])
    check(True, "the shipped config/sluice.yaml is accepted")
    server.stop()

    bad = os.path.join(ctx.workdir, "bad.yaml")
    with open(bad, "w") as f:
        f.write("listen:\n  sylog: 127.0.0.1:1\n")
    check_one_line_failure(ctx, serve_args(ctx) + ["--config", bad], "unknown config key",
                           ["bad.yaml", "sylog"])


def test_drain_on_sigterm(ctx):
    """Everything accepted before SIGTERM is searchable after a restart.

    Enough events that batches are still queued or being written when the
    signal arrives, so shutdown has to drain rather than just exit.
    """
    server = ctx.start_server()
    marker = "sd" + secrets.token_hex(5)
    per_group = 100  # below the default search limit, so each group is one search
    tcp_groups, tcp_connections, json_groups = 100, 4, 20

    # Syslog over TCP on several connections: accepted once counted as received.
    before = server.metrics().value("sluice_events_received_total", input="syslog_tcp") or 0
    sockets = []
    for connection in range(tcp_connections):
        lines = [f"<14>1 - drainhost drainapp - - - drain {marker}g{n % tcp_groups}x n{n}\n"
                 for n in range(tcp_groups * per_group) if n % tcp_connections == connection]
        sockets.append(server.send_tcp("".join(lines).encode(), close=False))

    # NDJSON: accepted when the POST answers 200.
    json_total = json_groups * per_group
    body = "".join(json.dumps({"message": f"drainjs {marker}j{n % json_groups}x n{n}"}) + "\n"
                   for n in range(json_total))
    response = harness.http_post(server.url("/api/ingest"), body.encode(), timeout=60)
    check_eq(response.status, 200, f"POST {json_total} NDJSON lines")
    check_eq(response.json().get("accepted"), json_total, f"all {json_total} accepted")

    target = before + tcp_groups * per_group
    harness.wait_until(
        lambda: (server.metrics().value("sluice_events_received_total", input="syslog_tcp")
                 or 0) >= target,
        harness.SEARCHABLE_TIMEOUT_S * 2, f"{tcp_groups * per_group} TCP events received")
    elapsed = server.stop()
    check(True, f"SIGTERM right after, with TCP clients still connected: exit 0 in "
                f"{elapsed:.2f}s")
    for sock in sockets:
        sock.close()

    again = ctx.start_server(data_dir=server.data_dir)
    for prefix, groups in (("g", tcp_groups), ("j", json_groups)):
        missing = []
        for group in range(groups):
            token = f"{marker}{prefix}{group}x"
            events = again.search_events(token, limit=per_group * 2)
            numbers = sorted(int(e["message"].rsplit(" n", 1)[1]) for e in events)
            expected = list(range(group, groups * per_group, groups))
            if numbers != expected:
                missing.append(f"{token}: {len(numbers)} of {len(expected)}")
        source = "TCP" if prefix == "g" else "NDJSON"
        check(not missing, f"after restart: all {groups * per_group} {source} events, "
                           "each exactly once", "; ".join(missing[:10]))
    again.stop()


def test_restart_twice_keeps_one_copy(ctx):
    """Replaying the raw log on startup must not duplicate stored events."""
    server = ctx.start_server()
    marker = "sr" + secrets.token_hex(5)
    response = harness.http_post(server.url("/api/ingest"),
                                 (json.dumps({"message": f"once {marker}"}) + "\n").encode())
    check_eq(response.status, 200, "POST one event")
    server.send_tcp(f"<14>1 - h a - - - once tcp {marker}\n".encode())
    server.wait_for_events(marker, 2)
    data_dir = server.data_dir
    server.stop()
    for round_number in (1, 2):
        server = ctx.start_server(data_dir=data_dir)
        events = server.search_events(marker)
        check_eq(len(events), 2, f"restart {round_number}: exactly the two events")
        server.stop()


if __name__ == "__main__":
    harness.main([test_help, test_bad_flags, test_port_in_use, test_unwritable_data_dir,
                  test_signals, test_config_file, test_drain_on_sigterm,
                  test_restart_twice_keeps_one_copy])
