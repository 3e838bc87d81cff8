#!/usr/bin/env python3
"""End to end with a real syslog-ng (Debian's syslog-ng-core, unpacked by
scripts/install_syslog_ng.sh because it conflicts with rsyslog as a package).

One private syslog-ng reads three files the test writes (file() sources with
flags(no-parse), each with its own program, host, facility and priority) and
forwards each through one destination:
  - syslog() over TCP: RFC5424 with RFC6587 octet counting,
  - network() over TCP with flags(syslog-protocol): RFC5424, LF-terminated,
  - network() over UDP: its RFC3164 default.
Each stream is a few thousand distinct messages; each must be stored once with
the right host, app, severity, facility, input, message and timestamp.

    python3 test_syslog_ng.py PATH-TO-SLUICE [TEST-NAME...]
"""

import os
import secrets
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import clients  # noqa: E402
import harness  # noqa: E402
from clients import Stream, SyslogNg  # noqa: E402
from harness import check  # noqa: E402

SECOND = clients.SECOND
COUNT = 2000  # messages per stream


def syslog_ng_config(daemon, streams_and_destinations):
    sources = []
    for index, (stream, destination) in enumerate(streams_and_destinations):
        expected = stream.expected
        path = daemon.path(f"{stream.name}.log")
        open(path, "a").close()
        stream.input_path = path
        sources.append(f"""
source s{index} {{
  file("{path}" flags(no-parse) follow-freq(0.1)
       program-override("{expected['app']}") host-override("{expected['host']}")
       default-facility({expected['facility']}) default-priority({expected['severity']}));
}};
destination d{index} {{ {destination[:-1]} persist-name("d{index}")); }};
log {{ source(s{index}); destination(d{index}); flags(flow-control); }};
""")
    return f"""@version: {SyslogNg.version()}
# private syslog-ng of an integration test
options {{
  use-dns(no); dns-cache(no); use-fqdn(no); keep-hostname(yes); chain-hostnames(no);
  stats-freq(0); mark-freq(0); frac-digits(6); log-fifo-size(20000);
}};
source s_internal {{ internal(); }};
destination d_internal {{ file("{daemon.path('internal.log')}"); }};
log {{ source(s_internal); destination(d_internal); }};
{''.join(sources)}"""


def test_syslog_ng_forwarding(ctx):
    clients.require_syslog_ng()
    server = clients.start_sluice(ctx)
    marker = "ng" + secrets.token_hex(5)
    port = server.syslog_port
    streams = [
        (Stream(marker, "syslogtcp", COUNT, host="ngsyslog", app="ngsyslogtcp",
                severity="warning", facility="local2", input="syslog_tcp"),
         f'syslog("127.0.0.1" transport("tcp") port({port}))'),
        (Stream(marker, "protocoltcp", COUNT, host="ngproto", app="ngprototcp",
                severity="err", facility="local6", input="syslog_tcp"),
         f'network("127.0.0.1" transport("tcp") port({port}) flags(syslog-protocol))'),
        (Stream(marker, "bsdudp", COUNT, host="ngbsd", app="ngbsdudp", severity="info",
                facility="uucp", input="syslog_udp", precision_ns=SECOND),
         f'network("127.0.0.1" transport("udp") port({port}))'),
    ]
    daemon = SyslogNg(ctx, "syslog-ng", lambda d: syslog_ng_config(d, streams)).start()
    check(True, f"syslog-ng started from {clients.SYSLOG_NG_DIR}")
    for stream, _ in streams:
        if stream.expected["input"] != "syslog_udp":
            stream.write_file(stream.input_path)
    for stream, _ in streams:
        if stream.expected["input"] == "syslog_udp":
            stream.write_file_chunked(server, stream.input_path)
    for stream, _ in streams:
        try:
            by_seq = stream.wait_all(server)
        except harness.CheckFailed as error:
            raise harness.CheckFailed(
                f"{error}\n{daemon.diagnostics()}\ninternal.log:\n"
                f"{harness._tail(daemon.path('internal.log'), 3000)}") from None
        check(True, f"[{stream.name}] all {stream.count} messages searchable")
        stream.verify(by_seq)
    daemon.stop()
    check(os.path.exists(daemon.path("syslog-ng.persist")),
          "syslog-ng kept its persist file in the test's dir")
    server.stop()


if __name__ == "__main__":
    harness.main([test_syslog_ng_forwarding])
