#!/usr/bin/env python3
"""Syslog over IPv6: a listener on [::] takes TCP and UDP from ::1 and, being
dual-stack, from 127.0.0.1 too; a large datagram arrives whole.

    python3 test_ipv6.py PATH-TO-SLUICE [TEST-NAME...]
"""

import secrets
import socket
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import harness  # noqa: E402
from harness import check, check_eq  # noqa: E402


def test_ipv6_dual_stack(ctx):
    syslog_port = harness.free_port()
    http_port = harness.free_port()
    data_dir = ctx.workdir + "/data"
    server = ctx.server(syslog_port=syslog_port, http_port=http_port, data_dir=data_dir,
                        args=["serve", "--syslog", f"[::]:{syslog_port}",
                              "--http", f"127.0.0.1:{http_port}", "--data", data_dir]).start()
    marker = secrets.token_hex(6)
    now = harness.format_rfc3339_ns(harness.now_ns())  # retention never drops it

    with socket.create_connection(("::1", syslog_port), timeout=10) as sock:
        sock.sendall(f"<13>1 {now} v6host app - - - tcp6 {marker}\n".encode())
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
        sock.sendto(f"<13>1 {now} v6host app - - - udp6 {marker}".encode(),
                    ("::1", syslog_port))
    # The largest datagram loopback carries whole: 60,000 bytes of message.
    big = "x" * 60000
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
        sock.sendto(f"<13>1 {now} v6host app - - - big {marker} {big}".encode(),
                    ("::1", syslog_port))
    with socket.create_connection(("127.0.0.1", syslog_port), timeout=10) as sock:
        sock.sendall(f"<13>1 {now} v4host app - - - tcp4 {marker}\n".encode())

    events = server.wait_for_events(marker, 4)
    by_word = {event["message"].split()[0]: event for event in events}
    check_eq(sorted(by_word), ["big", "tcp4", "tcp6", "udp6"], "the four messages arrived")
    check_eq(by_word["tcp6"]["input"], "syslog_tcp", "TCP over IPv6 is syslog_tcp")
    check_eq(by_word["udp6"]["input"], "syslog_udp", "UDP over IPv6 is syslog_udp")
    check_eq(by_word["big"]["message"], f"big {marker} {big}", "the large datagram is whole")
    check("_truncated" not in by_word["big"]["fields"], "the large datagram is not truncated")
    check_eq(by_word["tcp4"]["host"], "v4host", "IPv4 reaches the dual-stack listener")
    server.stop()


if __name__ == "__main__":
    harness.main([test_ipv6_dual_stack])
