#!/usr/bin/env python3
"""End to end: bad input on every stream input, with good traffic around it.

  - TCP: garbage bytes, a frame cut short by the close, octet counts that lie
    (too large, zero, non-numeric, 20 digits), a 1 MiB frame (LF and
    octet-counted) against the 64 KiB limit, invalid UTF-8; UDP garbage;
  - a client sending one byte at a time (a few seconds) while others flow;
  - 2,000 idle connections at once, then more than ingest.max_connections;
  - TLS: a client that never sends a ClientHello, plaintext on the TLS port;
  - RELP: clients that violate the protocol.
After each: the server still answers /healthz, the good messages sent before,
after and on the same connection (where the framing allows resynchronizing)
are stored exactly, and the counter of that kind of bad input moved.

    python3 test_bad_input.py PATH-TO-SLUICE [TEST-NAME...]
"""

import secrets
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import clients  # noqa: E402
import harness  # noqa: E402
from clients import RelpClient, Stream  # noqa: E402
from harness import check, check_eq  # noqa: E402

MAX_MESSAGE_BYTES = 64 * 1024  # ingest.max_message_bytes, the default
ERRORS = "sluice_ingest_errors_total"
HANDSHAKE_TIMEOUT_MS = 1500
IDLE_CONNECTIONS = 2000
MAX_CONNECTIONS = 2100


# ---------------------------------------------------------------- good traffic


def good_stream(marker, name, count, input="syslog_tcp"):
    return Stream(marker, name, count, host="goodhost", app="goodapp", severity="info",
                  facility="local0", input=input)


def frame(stream, i, octet=False):
    """Message i of `stream` as an RFC5424 frame (<134> = local0.info)."""
    if stream.sent_lo is None:
        stream.sent_lo = harness.now_ns()
    text = f"<134>1 {clients.rfc5424_now()} goodhost goodapp - - - {stream.message(i)}".encode()
    return (f"{len(text)} ".encode() + text) if octet else text + b"\n"


def frames(stream, start, stop, octet=False):
    return b"".join(frame(stream, i, octet) for i in range(start, stop))


def healthy(server):
    check(server.running(), "the server process is still running")
    check_eq(harness.http_get(server.url("/healthz"), timeout=5).status, 200, "GET /healthz")


def wait_counter_grows(server, before, what, names_and_labels):
    """Waits until the sum of the given counters exceeds its value `before`
    (a dict from snapshot()); returns the growth per series that grew."""
    def grown():
        metrics = server.metrics()
        growth = {}
        for name, labels in names_and_labels:
            delta = (metrics.value(name, **labels) or 0) - before.get((name, _key(labels)), 0)
            if delta:
                growth[_series(name, labels)] = delta
        return growth if sum(growth.values()) > 0 else None

    growth = harness.wait_until(grown, 10, what)
    check(True, f"{what}: " + ", ".join(f"{k} +{v:g}" for k, v in growth.items()))
    return growth


def _series(name, labels):
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _key(labels):
    return tuple(sorted(labels.items()))


def snapshot(server, names_and_labels):
    metrics = server.metrics()
    return {(name, _key(labels)): metrics.value(name, **labels) or 0
            for name, labels in names_and_labels}


def error_reasons(input_name, *reasons):
    return [(ERRORS, {"input": input_name, "reason": r}) for r in reasons]


# ---------------------------------------------------------------- TCP framing


def tcp_case(server, marker, name, bad, counters, resyncs):
    """Sends good messages on their own connection before and after, and on
    the bad connection before the bad bytes (and after them when `resyncs`:
    the bad frame ends where a new one can start); then checks the good ones
    are stored, the server is healthy and one of `counters` grew."""
    log_name = name.replace("_", " ")
    harness.log(f"  --   case: {log_name}")
    before = snapshot(server, counters)
    stream = good_stream(marker, name.replace("_", ""), 60)
    server.send_tcp(frames(stream, 0, 20))
    after_bad = frames(stream, 30, 40) if resyncs else b""
    server.send_tcp(frames(stream, 20, 30), bad, after_bad)
    if not resyncs:
        server.send_tcp(frames(stream, 30, 40, octet=True))
    server.send_tcp(frames(stream, 40, 60, octet=True))
    stream.verify(stream.wait_all(server))
    healthy(server)
    wait_counter_grows(server, before, f"{log_name}: counted", counters)
    return stream


def test_tcp_framing_abuse(ctx):
    server = clients.start_sluice(ctx)
    marker = "bi" + secrets.token_hex(5)
    tcp = "syslog_tcp"

    garbage = (b"\x00\x01\x02garbage\xff\xfe\r\n" + bytes(range(11, 256)) + b"\n"
               + b"]]]] <<< >>> not syslog at all\n" + b"\x1b[31m\x07\n")
    tcp_case(server, marker, "garbage", garbage,
             [("sluice_parse_failures_total", {"input": tcp})] + error_reasons(
                 tcp, "octet_count_invalid"), resyncs=True)
    # UDP garbage: the datagram is one message.
    before = snapshot(server, [("sluice_parse_failures_total", {"input": "syslog_udp"})])
    server.send_udp(b"\xff\xfe\x00\x01 garbage datagram " + bytes(range(128, 256)))
    server.send_udp(b"]]] <<<")
    udp = good_stream(marker, "udpgood", 20, input="syslog_udp")
    for i in range(udp.count):
        server.send_udp(frame(udp, i)[:-1])
    udp.verify(udp.wait_all(server))
    wait_counter_grows(server, before, "UDP garbage: counted as parse failure",
                       [("sluice_parse_failures_total", {"input": "syslog_udp"})])

    bad_body = b"<14>1 - badhost badapp - - - lying octet count"
    tcp_case(server, marker, "truncated_frame", f"500 {bad_body.decode()}".encode(),
             error_reasons(tcp, "frame_incomplete", "frame_truncated"), resyncs=False)
    tcp_case(server, marker, "count_too_large", b"99999999 " + bad_body,
             error_reasons(tcp, "octet_count_invalid", "frame_incomplete", "frame_truncated"),
             resyncs=False)
    tcp_case(server, marker, "count_zero", b"0 " + bad_body + b"\n",
             error_reasons(tcp, "octet_count_invalid"), resyncs=True)
    tcp_case(server, marker, "count_not_numeric", b"12ab " + bad_body + b"\n",
             error_reasons(tcp, "octet_count_invalid"), resyncs=True)
    tcp_case(server, marker, "count_20_digits", b"12345678901234567890 " + bad_body + b"\n",
             error_reasons(tcp, "octet_count_invalid"), resyncs=True)

    # 1 MiB frames against the 64 KiB limit: stored truncated and flagged.
    truncated_counters = [("sluice_events_truncated_total", {"input": tcp})]
    big_tokens = []
    for name, octet in (("huge_lf", False), ("huge_octet", True)):
        token = f"{marker}big{name.replace('_', '')}"
        big_tokens.append(token)
        body = (f"<14>1 - bighost bigapp - - - {token} ".encode()
                + b"x" * (1024 * 1024))
        bad = (f"{len(body)} ".encode() + body) if octet else body + b"\n"
        before = snapshot(server, truncated_counters + error_reasons(tcp, "frame_truncated"))
        tcp_case(server, marker, name, bad, truncated_counters, resyncs=True)
        wait_counter_grows(server, before, f"{name}: reason=frame_truncated counted",
                           error_reasons(tcp, "frame_truncated"))
        events = server.search_events(token)
        check_eq(len(events), 1, f"{name}: the 1 MiB frame is stored once")
        event = events[0]
        check_eq((event.get("host"), event.get("app")), ("bighost", "bigapp"),
                 f"{name}: host and app of the truncated frame")
        check_eq((event.get("fields") or {}).get("_truncated"), True,
                 f"{name}: flagged with the field _truncated=true")
        message = event.get("message") or ""
        check(message.startswith(token) and set(message[len(token) + 1:]) <= {"x"},
              f"{name}: its message is the start of the one sent", message[:100])
        check(len(event.get("raw") or "") <= MAX_MESSAGE_BYTES,
              f"{name}: raw is cut at the 64 KiB limit", len(event.get("raw") or ""))
        check(len(message) >= MAX_MESSAGE_BYTES - 100,
              f"{name}: the message keeps the first 64 KiB", len(message))

    # Invalid UTF-8: stored, and served as valid JSON (the response parsed).
    token = f"{marker}badutf"
    bad = (f"<14>1 - utfhost utfapp - - - {token} ".encode()
           + b"lone \xff\xfe overlong \xc0\xaf cut \xe2\x82 surrogate \xed\xa0\x80 end\n")
    tcp_case(server, marker, "invalid_utf8", bad,
             [("sluice_events_stored_total", {"input": tcp})], resyncs=True)
    events = server.search_events(token)
    check_eq(len(events), 1, "invalid UTF-8: the message is stored once")
    message = events[0].get("message") or ""
    check(message.startswith(f"{token} lone ") and message.endswith(" end"),
          "invalid UTF-8: the valid text around the bad bytes is kept", repr(message))
    try:
        message.encode("utf-8")  # fails on lone surrogates, e.g. a "\ud800" escape
        valid = True
    except UnicodeEncodeError:
        valid = False
    check(valid, "invalid UTF-8: the message served is valid Unicode", repr(message))

    # Last, so that a failure here leaves the cases above reported.
    for token in big_tokens:
        check_eq(len(server.search_events(f"{token} _truncated:true")), 1,
                 f"the query '{token} _truncated:true' finds the truncated frame")
    server.stop()


# ---------------------------------------------------------------- slow client


def test_slow_client(ctx):
    server = clients.start_sluice(ctx)
    marker = "sc" + secrets.token_hex(5)
    token = f"{marker}slow"
    slow_frame = f"<14>1 - slowhost slowapp - - - {token}\n".encode()
    per_byte_s = 3.0 / len(slow_frame)  # the whole frame over about 3 seconds
    half = len(slow_frame) // 2
    fast_stored = threading.Event()
    state = {"sent": 0, "error": None}

    def trickle():
        try:
            with socket.create_connection(("127.0.0.1", server.syslog_port), timeout=10) as s:
                for index, byte in enumerate(slow_frame):
                    if index == half:
                        # Mid-frame until the fast clients are through (bounded).
                        fast_stored.wait(clients.STREAM_TIMEOUT_S)
                    s.sendall(bytes([byte]))
                    state["sent"] += 1
                    time.sleep(per_byte_s)  # pacing the sender, not waiting for a condition
        except OSError as error:
            state["error"] = error

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    stream = good_stream(marker, "fast", 2000)
    try:
        for start in range(0, stream.count, 200):  # ten connections, while the slow one trickles
            server.send_tcp(frames(stream, start, start + 200, octet=start % 400 == 0))
        stream.verify(stream.wait_all(server))
        check(0 < state["sent"] < len(slow_frame),
              "every fast message was stored while the slow client was mid-frame",
              f"{state['sent']} of {len(slow_frame)} bytes sent")
    finally:
        fast_stored.set()
    healthy(server)
    thread.join(clients.STREAM_TIMEOUT_S)
    check(state["error"] is None and state["sent"] == len(slow_frame),
          "the slow client could send all its bytes", state["error"] or state["sent"])
    events = server.wait_for_events(token, 1)
    check_eq([(e.get("host"), e.get("app"), e.get("message")) for e in events],
             [("slowhost", "slowapp", token)], "the slowly sent frame is stored whole")
    server.stop()


# ---------------------------------------------------------------- connections


def test_idle_connections(ctx):
    clients.raise_fd_limit(3 * MAX_CONNECTIONS + 1000)
    server = clients.start_sluice(
        ctx, config_text=f"ingest:\n  max_connections: {MAX_CONNECTIONS}\n")
    marker = "ic" + secrets.token_hex(5)
    idle = []
    try:
        started = time.monotonic()
        for _ in range(IDLE_CONNECTIONS):
            idle.append(socket.create_connection(("127.0.0.1", server.syslog_port), timeout=10))
        check(True, f"{IDLE_CONNECTIONS} idle connections open "
                    f"({time.monotonic() - started:.1f}s)")
        metrics = server.metrics()
        if metrics.has("sluice_tcp_connections"):
            harness.wait_until(
                lambda: (server.metrics().value("sluice_tcp_connections") or 0)
                >= IDLE_CONNECTIONS, 10, f"sluice_tcp_connections >= {IDLE_CONNECTIONS}")
            check(True, "the server holds every idle connection (sluice_tcp_connections)")
        healthy(server)

        stream = good_stream(marker, "busy", 2000)
        with socket.create_connection(("127.0.0.1", server.syslog_port), timeout=10) as busy:
            busy.sendall(frames(stream, 0, 1000, octet=True))
            busy.sendall(frames(stream, 1000, 2000))
        stream.verify(stream.wait_all(server))
        check(True, "messages on another connection are stored while 2000 others idle")

        # Past ingest.max_connections new connections are refused and counted.
        limit = error_reasons("syslog_tcp", "connection_limit")
        before = snapshot(server, limit)
        extra = MAX_CONNECTIONS - IDLE_CONNECTIONS + 50
        for _ in range(extra):
            try:
                idle.append(socket.create_connection(("127.0.0.1", server.syslog_port),
                                                     timeout=10))
            except OSError:
                pass  # refused before or at accept: also fine
        wait_counter_grows(server, before,
                           f"connections past max_connections={MAX_CONNECTIONS} counted", limit)
        healthy(server)
    finally:
        for sock in idle:
            sock.close()
    after = good_stream(marker, "afteridle", 200)
    server.send_tcp(frames(after, 0, after.count))
    after.verify(after.wait_all(server))
    healthy(server)
    server.stop()


# ---------------------------------------------------------------- TLS


def tls_send(ca, port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        tls = ca.wrap(raw)
        tls.sendall(data)
        clients.tls_close(tls)


def test_tls_abuse(ctx):
    ca = clients.make_test_ca(ctx)
    server = clients.start_sluice(
        ctx, tls=ca, config_text=f"ingest:\n  handshake_timeout_ms: {HANDSHAKE_TIMEOUT_MS}\n")
    marker = "tl" + secrets.token_hex(5)
    reasons = error_reasons("syslog_tls", "tls_handshake", "handshake_timeout")

    # A client that connects and never sends a ClientHello.
    before = snapshot(server, reasons)
    silent = socket.create_connection(("127.0.0.1", server.tls_port), timeout=10)
    opened = time.monotonic()
    try:
        stream = good_stream(marker, "tlsgood", 1000, input="syslog_tls")
        tls_send(ca, server.tls_port, frames(stream, 0, 500, octet=True))
        tls_send(ca, server.tls_port, frames(stream, 500, 1000))
        stream.verify(stream.wait_all(server))
        check(True, "TLS clients are served while a silent one holds a connection")
        healthy(server)
        clients.wait_closed_by_peer(silent, HANDSHAKE_TIMEOUT_MS / 1000 + 10,
                                    "the server to close the silent TLS connection")
        check(True, f"the silent connection was closed after "
                    f"{time.monotonic() - opened:.1f}s (handshake timeout "
                    f"{HANDSHAKE_TIMEOUT_MS} ms)")
    finally:
        silent.close()
    wait_counter_grows(server, before, "the handshake that never started is counted", reasons)

    # Plaintext syslog on the TLS port.
    before = snapshot(server, reasons)
    token = f"{marker}plain"
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) as plain:
        plain.sendall(f"<14>1 - plainhost plainapp - - - {token}\n".encode() * 20)
        clients.wait_closed_by_peer(plain, 10, "the server to close the plaintext connection")
    check(True, "plaintext on the TLS port: connection closed")
    wait_counter_grows(server, before, "plaintext on the TLS port counted", reasons)
    after = good_stream(marker, "tlsafter", 200, input="syslog_tls")
    tls_send(ca, server.tls_port, frames(after, 0, after.count, octet=True))
    after.verify(after.wait_all(server))
    check_eq(server.search_events(token), [], "nothing of the plaintext was stored")
    healthy(server)
    server.stop()


# ---------------------------------------------------------------- RELP


def relp_send(server, stream, start, stop):
    """Sends messages [start, stop) over RELP with our client; all must be acked 200."""
    client = RelpClient(server.relp_port)
    client.open()
    sent = [client.send_frame("syslog", frame(stream, i)[:-1]) for i in range(start, stop)]
    acks = dict(client.read_response() for _ in sent)
    client.close()
    check_eq(sorted(acks), sent, f"[{stream.name}] every RELP txnr answered")
    check(all(code == 200 for code in acks.values()), f"[{stream.name}] every answer is 200",
          {t: c for t, c in acks.items() if c != 200})


def test_relp_abuse(ctx):
    server = clients.start_sluice(ctx, relp=True)
    marker = "rp" + secrets.token_hex(5)
    open_frame = b"1 open 37 relp_version=0\ncommands=syslog\nx=y\n"
    # Broken framing: the server cannot find the next frame and must hang up.
    violations = [
        ("not RELP at all", b"hello, this is not RELP\n"),
        ("DATALEN far too large", b"1 open 99999999999999 relp_version=0\n"),
        ("non-numeric TXNR", b"abc open 0\n"),
        ("missing LF trailer", open_frame + b"2 syslog 5 helloX2 syslog 5 hello\n"),
    ]
    per_round = 50
    stream = good_stream(marker, "relpgood", per_round * (len(violations) + 2), input="relp")
    relp_send(server, stream, 0, per_round)
    reasons = error_reasons("relp", "relp_protocol")
    for index, (what, data) in enumerate(violations, 1):
        harness.log(f"  --   case: {what}")
        before = snapshot(server, reasons)
        with socket.create_connection(("127.0.0.1", server.relp_port), timeout=10) as sock:
            sock.sendall(data)
            reply = clients.wait_closed_by_peer(sock, 10, f"the server to close after: {what}")
        check(True, f"{what}: connection closed (the server said {reply[:80]!r})")
        wait_counter_grows(server, before, f"{what}: counted as relp_protocol", reasons)
        healthy(server)
        relp_send(server, stream, index * per_round, (index + 1) * per_round)

    # A command before "open": refused (a non-200 answer, or the session
    # closed), counted, and the message not stored.
    harness.log("  --   case: syslog before open")
    token = f"{marker}notopen"
    before = snapshot(server, reasons)
    client = RelpClient(server.relp_port)
    txnr = client.send_frame("syslog", f"<14>1 - h a - - - {token}".encode())
    try:
        answer = client.read_response()
    except (clients.RelpError, OSError) as error:
        answer = f"closed ({error})"
    client.sock.close()
    check(answer != (txnr, 200), "syslog before open: not acknowledged 200", repr(answer))
    wait_counter_grows(server, before, "syslog before open: counted as relp_protocol", reasons)
    healthy(server)
    last = len(violations) + 1
    relp_send(server, stream, last * per_round, (last + 1) * per_round)
    stream.verify(stream.wait_all(server))
    check_eq(server.search_events(token), [], "syslog before open: the message was not stored")
    server.stop()


if __name__ == "__main__":
    harness.main([test_tcp_framing_abuse, test_slow_client, test_idle_connections,
                  test_tls_abuse, test_relp_abuse])
