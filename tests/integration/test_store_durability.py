#!/usr/bin/env python3
"""End to end: the raw segment log and the store across restarts and crashes.

  - round trip: records sent over TCP are in the closed raw segment exactly as
    sent (decoded independently: zstd CLI + this file's parser), and are
    searchable after a restart;
  - SIGKILL during a high-rate HTTP ingest from several clients: after the
    restart every acknowledged record is stored exactly once (replayed from
    the raw log), and nothing unacknowledged is stored twice;
  - a torn raw segment tail: detected at start, counted, the good prefix is
    replayed and ingest goes on.

    python3 test_store_durability.py PATH-TO-SLUICE [TEST-NAME...]
"""

import json
import os
import secrets
import sys
import threading

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import clients  # noqa: E402
import harness  # noqa: E402
import raw_segments  # noqa: E402
from harness import check, check_eq, log  # noqa: E402

LINES_PER_REQUEST = 100
SENDERS = 4
MAX_REQUESTS_PER_SENDER = 20  # 8,000 records at most: one search can list them all
KILL_AFTER_ACKED = 2000


def post_ndjson(server, lines):
    body = "".join(json.dumps({"message": line}) + "\n" for line in lines).encode()
    return harness.http_request("POST", server.url("/api/ingest"), body=body,
                                headers={"Content-Type": "application/x-ndjson"}, timeout=30)


def all_with_marker(server, marker, limit=10000):
    events = server.search_events(marker, limit=limit)
    return [event["message"] for event in events]


def test_round_trip_through_segments_and_restart(ctx):
    server = clients.start_sluice(ctx)
    marker = "rt" + secrets.token_hex(5)
    now = clients.rfc5424_now()
    lines = [f"<134>1 {now} host{i % 3} app - - - {marker} line {i}" for i in range(500)]
    server.send_tcp("".join(line + "\n" for line in lines).encode())
    server.wait_for_events(marker, 500, limit=1000)
    server.stop()

    segments = raw_segments.segment_files(server.data_dir)
    check(segments and all(path.endswith(".seg") for path in segments),
          "a clean stop leaves only closed (.seg) raw segments", segments)
    records = []
    for path in segments:
        records += raw_segments.decode_segment(path)[1]
    ours = [r for r in records if marker.encode() in r["frame"]]
    check_eq([r["frame"].rstrip(b"\n").decode() for r in ours], lines,
             "the raw segment holds every line exactly as sent, in order")
    check(all(r["input"] == 1 and r["peer"].startswith("127.0.0.1") for r in ours),
          "each record keeps its input (syslog_tcp) and peer address")

    restarted = clients.restart_sluice(ctx, server)
    found = all_with_marker(restarted, marker)
    check_eq(len(found), 500, "every event is searchable after the restart")
    metrics = restarted.metrics()
    check_eq(metrics.value("sluice_replayed_events"), 0.0,
             "nothing is replayed after a clean stop (all was in blocks)")
    restarted.stop()


def test_acknowledged_http_records_survive_sigkill_once(ctx):
    server = clients.start_sluice(ctx)
    marker = "hk" + secrets.token_hex(5)
    acked, unacked = set(), set()
    lock = threading.Lock()
    state = {"acked": 0}

    def sender(sender_id):
        for request in range(MAX_REQUESTS_PER_SENDER):
            ids = [f"s{sender_id}r{request}n{n}" for n in range(LINES_PER_REQUEST)]
            try:
                response = post_ndjson(server, [f"{marker} {i}" for i in ids])
            except OSError:
                with lock:
                    unacked.update(ids)
                return  # the server is gone
            with lock:
                if response.status == 200 and response.json().get("accepted") == len(ids):
                    acked.update(ids)
                    state["acked"] += len(ids)
                else:
                    unacked.update(ids)

    threads = [threading.Thread(target=sender, args=(s,), daemon=True) for s in range(SENDERS)]
    for thread in threads:
        thread.start()
    harness.wait_until(lambda: state["acked"] >= KILL_AFTER_ACKED, 60,
                       f"{KILL_AFTER_ACKED} records acknowledged", interval=0.001, max_interval=0.005)
    clients.kill_sluice(server)
    for thread in threads:
        thread.join(60)
    log(f"  ==   acknowledged before the kill: {len(acked)}; sent without an answer: {len(unacked)}")
    check(len(acked) < SENDERS * MAX_REQUESTS_PER_SENDER * LINES_PER_REQUEST,
          "the kill came while records were still being sent")

    restarted = clients.restart_sluice(ctx, server)
    found = [message.split(" ", 1)[1] for message in all_with_marker(restarted, marker)]
    counts = {}
    for record_id in found:
        counts[record_id] = counts.get(record_id, 0) + 1
    lost = sorted(acked - set(counts))
    check(not lost, f"all {len(acked)} acknowledged records are stored after the restart",
          f"{len(lost)} lost, e.g. {lost[:5]}")
    twice = sorted(i for i, n in counts.items() if n > 1)
    check(not twice, "every record is stored exactly once", f"{len(twice)} stored twice, e.g. {twice[:5]}")
    check(set(counts) <= acked | unacked, "nothing was stored that was not sent")
    metrics = restarted.metrics()
    replayed = metrics.value("sluice_replayed_events") or 0
    check(replayed >= 1, f"the restart replayed the raw log ({replayed:.0f} events)")
    restarted.stop()


def test_torn_segment_tail_is_cut_and_the_prefix_kept(ctx):
    server = clients.start_sluice(ctx)
    marker = "tt" + secrets.token_hex(5)
    first = [f"{marker} first {i}" for i in range(50)]
    second = [f"{marker} second {i}" for i in range(50)]
    for batch in (first, second):
        response = post_ndjson(server, batch)
        check_eq(response.status, 200, "POST /api/ingest")
    clients.kill_sluice(server)

    open_segments = raw_segments.segment_files(server.data_dir, suffixes=(".open",))
    check_eq(len(open_segments), 1, "SIGKILL leaves the current segment open")
    path = open_segments[0]
    frames, records = raw_segments.decode_segment(path)
    check(len(frames) >= 2, "both requests are frames of the open segment")
    size = os.path.getsize(path)
    # Cut the last frame (the second request) in the middle of its payload.
    with open(path, "r+b") as f:
        f.truncate(size - 20)
    log(f"  ==   cut {path} from {size} to {size - 20} bytes")

    restarted = clients.restart_sluice(ctx, server)
    stderr = restarted.stderr_text()
    check("raw log recovery" in stderr, "the start reports the torn tail", stderr[-2000:])
    metrics = restarted.metrics()
    check((metrics.value("sluice_raw_recovery_discarded_bytes") or 0) > 0,
          "the discarded bytes are counted")
    found = all_with_marker(restarted, marker)
    check_eq(sorted(m for m in found if " first " in m), sorted(first),
             "every record before the torn frame is stored")
    check_eq([m for m in found if " second " in m], [], "the torn frame's records are not invented")
    # The log goes on after the cut.
    third = [f"{marker} third {i}" for i in range(10)]
    check_eq(post_ndjson(restarted, third).status, 200, "ingest after recovery")
    restarted.wait_for_events(f"{marker} third", 10)
    restarted.stop()


if __name__ == "__main__":
    harness.main([test_round_trip_through_segments_and_restart,
                  test_acknowledged_http_records_survive_sigkill_once,
                  test_torn_segment_tail_is_cut_and_the_prefix_kept])
