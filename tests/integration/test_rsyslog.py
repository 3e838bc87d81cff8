#!/usr/bin/env python3
"""End to end with real senders: private rsyslogd instances and util-linux logger.

Each rsyslogd reads the lines the test appends to a file (imfile, with a fixed
tag, facility and severity) and forwards them to sluice with
  - omfwd TCP, octet-counted, template RSYSLOG_SyslogProtocol23Format (RFC5424),
  - omfwd TCP, LF-framed, the default RSYSLOG_TraditionalForwardFormat (RFC3164),
  - omfwd UDP (RFC3164),
  - omfwd TCP over TLS (RFC5425) with StreamDriver "ossl", server auth,
  - omrelp (its default RSYSLOG_ForwardFormat),
and, against a server that requires client certificates, omfwd TLS with the
"gtls" driver and a client certificate (a client without one is refused).
`logger` sends RFC5424 and RFC3164 over TCP and UDP. Every stream is a few
thousand distinct messages; each must be stored once with the right host, app,
severity, facility, input, message and timestamp.

    python3 test_rsyslog.py PATH-TO-SLUICE [TEST-NAME...]
"""

import secrets
import socket
import ssl
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import clients  # noqa: E402
import harness  # noqa: E402
from clients import Rsyslog, Stream, omfwd  # noqa: E402
from harness import check, check_eq  # noqa: E402

SECOND = clients.SECOND
COUNT = 2000  # messages per stream
LOGGER_TIMEOUT_S = 60


def rsyslog_streams(marker, server, ca):
    """(Stream, Rsyslog kwargs) per way rsyslog forwards."""
    tls_globals = clients.rsyslog_tls_globals(ca, with_client_cert=False)
    return [
        (Stream(marker, "tcpoc", COUNT, host="rshosttcpoc", app="rstcpoc", severity="notice",
                facility="local4", input="syslog_tcp"),
         dict(action=omfwd(server.syslog_port, "tcp", template="RSYSLOG_SyslogProtocol23Format",
                           framing="octet-counted"))),
        (Stream(marker, "tcplf", COUNT, host="rshosttcplf", app="rstcplf", severity="warning",
                facility="local5", input="syslog_tcp", precision_ns=SECOND),
         dict(action=omfwd(server.syslog_port, "tcp"))),
        (Stream(marker, "udp", COUNT, host="rshostudp", app="rsudp", severity="err",
                facility="daemon", input="syslog_udp", precision_ns=SECOND),
         dict(action=omfwd(server.syslog_port, "udp"))),
        (Stream(marker, "tls", COUNT, host="rshosttls", app="rstls", severity="crit",
                facility="auth", input="syslog_tls"),
         dict(action=omfwd(server.tls_port, "tcp", template="RSYSLOG_SyslogProtocol23Format",
                           framing="octet-counted", driver="ossl"),
              global_extra=tls_globals, modules=("lmnsd_ossl",))),
        (Stream(marker, "relp", COUNT, host="rshostrelp", app="rsrelp", severity="info",
                facility="local7", input="relp"),
         dict(action=f'action(type="omrelp" target="127.0.0.1" port="{server.relp_port}")',
              modules=("omrelp",))),
    ]


def run_rsyslog_streams(ctx, server, streams):
    """Starts one rsyslogd per stream, feeds each its messages, waits for all
    to be searchable, verifies them and stops the rsyslogds."""
    daemons = []
    for stream, kwargs in streams:
        expected = stream.expected
        daemon = Rsyslog(ctx, f"rsyslog-{stream.name}", tag=expected["app"],
                         facility=expected["facility"], severity=expected["severity"],
                         hostname=expected["host"], **kwargs)
        daemons.append(daemon.start())
    check(True, f"{len(daemons)} rsyslogd instances started")
    for (stream, _), daemon in zip(streams, daemons):
        if stream.expected["input"] != "syslog_udp":
            stream.write_file(daemon.input_path)
    for (stream, _), daemon in zip(streams, daemons):
        if stream.expected["input"] == "syslog_udp":
            stream.write_file_chunked(server, daemon.input_path)
    for (stream, _), daemon in zip(streams, daemons):
        try:
            by_seq = stream.wait_all(server)
        except harness.CheckFailed as error:
            raise harness.CheckFailed(f"{error}\n{daemon.diagnostics()}") from None
        stream.verify(by_seq)
    for daemon in daemons:
        daemon.stop()


def test_rsyslog_forwarding(ctx):
    clients.require_rsyslog("imfile", "omrelp", "lmnsd_ossl")
    ca = clients.make_test_ca(ctx)
    server = clients.start_sluice(ctx, tls=ca, relp=True)
    check(True, f"server healthy (syslog {server.syslog_port}, tls {server.tls_port}, "
                f"relp {server.relp_port})")
    marker = "rs" + secrets.token_hex(5)
    streams = rsyslog_streams(marker, server, ca)
    run_rsyslog_streams(ctx, server, streams)

    metrics = server.metrics()
    for input_name in ("syslog_tcp", "syslog_udp", "syslog_tls", "relp"):
        wanted = sum(s.count for s, _ in streams if s.expected["input"] == input_name)
        received = metrics.value("sluice_events_received_total", input=input_name) or 0
        stored = metrics.value("sluice_events_stored_total", input=input_name) or 0
        check(received >= wanted and stored >= wanted,
              f"metrics count every {input_name} message as received and stored",
              f"received {received}, stored {stored}, sent {wanted}")
    server.stop()


def test_rsyslog_tls_client_cert_required(ctx):
    clients.require_rsyslog("imfile", "lmnsd_gtls")
    ca = clients.make_test_ca(ctx)
    server = clients.start_sluice(ctx, tls=ca, client_ca=True, require_client_cert=True)
    marker = "rc" + secrets.token_hex(5)

    # A client without a certificate is refused, and what it sent is not stored.
    before = clients.counter(server, "sluice_ingest_errors_total", input="syslog_tls",
                             reason="tls_handshake")
    refused_token = f"{marker}nocert"
    refused = False
    detail = ""
    try:
        with socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) as raw:
            with ca.wrap(raw) as tls:
                # TLS 1.3: the client's handshake may finish before the server
                # has checked for a certificate; the refusal comes with the
                # first read.
                tls.sendall(f"<14>1 - nocert app - - - {refused_token}\n".encode())
                data = tls.recv(100)
                refused = data == b""
                detail = f"read {data!r}"
    except (ssl.SSLError, ConnectionError, OSError) as error:
        refused = True
        detail = f"{type(error).__name__}: {error}"
    check(refused, "a TLS client without a certificate is refused", detail)
    harness.wait_until(
        lambda: clients.counter(server, "sluice_ingest_errors_total", input="syslog_tls",
                                reason="tls_handshake") > before,
        10, "sluice_ingest_errors_total{input=syslog_tls,reason=tls_handshake} to grow")
    check(True, "the refusal is counted as reason=tls_handshake")

    stream = Stream(marker, "gtls", COUNT, host="rshostgtls", app="rsgtls", severity="alert",
                    facility="local0", input="syslog_tls")
    run_rsyslog_streams(ctx, server, [(stream, dict(
        action=omfwd(server.tls_port, "tcp", template="RSYSLOG_SyslogProtocol23Format",
                     framing="octet-counted", driver="gtls"),
        global_extra=clients.rsyslog_tls_globals(ca, with_client_cert=True),
        modules=("lmnsd_gtls",)))])
    check_eq(server.search_events(refused_token), [],
             "nothing from the refused client was stored")
    server.stop()


def test_logger(ctx):
    logger = harness.require_tool("logger", "util-linux logger: apt-get install bsdutils")
    server = clients.start_sluice(ctx)
    marker = "lg" + secrets.token_hex(5)
    host = socket.gethostname()
    variants = [
        # (stream, logger flags)
        (Stream(marker, "tcp5424", COUNT, host=host, app="lgtcp5424", severity="info",
                facility="local1", input="syslog_tcp"),
         ["--tcp", "--rfc5424", "--octet-count", "-p", "local1.info"]),
        (Stream(marker, "tcp3164", COUNT, host=host, app="lgtcp3164", severity="debug",
                facility="user", input="syslog_tcp", precision_ns=SECOND),
         ["--tcp", "--rfc3164", "-p", "user.debug"]),
        (Stream(marker, "udp5424", COUNT, host=host, app="lgudp5424", severity="emerg",
                facility="mail", input="syslog_udp"),
         ["--udp", "--rfc5424=notq", "-p", "mail.emerg"]),
        (Stream(marker, "udp3164", COUNT, host=host, app="lgudp3164", severity="notice",
                facility="cron", input="syslog_udp", precision_ns=SECOND),
         ["--udp", "--rfc3164", "-p", "cron.notice"]),
    ]
    for stream, flags in variants:
        # One logger process sends each line of its standard input as a
        # message; over UDP a chunk at a time, each waited for (no burst drops).
        udp = stream.expected["input"] == "syslog_udp"
        chunk = clients.UDP_CHUNK if udp else stream.count
        stream.sent_lo = harness.now_ns()
        for start in range(0, stream.count, chunk):
            stop = min(start + chunk, stream.count)
            text = "".join(line + "\n" for line in stream.lines(start, stop)).encode()
            result = subprocess.run(
                [logger, "-n", "127.0.0.1", "-P", str(server.syslog_port),
                 "-t", stream.expected["app"]] + flags,
                input=text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                timeout=LOGGER_TIMEOUT_S, env=harness.server_env())
            check_eq(result.returncode, 0,
                     f"[{stream.name}] logger {' '.join(flags)} sent lines {start}-{stop - 1} "
                     f"({result.stderr.decode(errors='replace').strip()})")
            if udp:
                stream.wait_prefix(server, stop)
    for stream, _ in variants:
        stream.verify(stream.wait_all(server))
    server.stop()


if __name__ == "__main__":
    harness.main([test_rsyslog_forwarding, test_rsyslog_tls_client_cert_required, test_logger])
