#!/usr/bin/env python3
"""End to end: raw segments archived to a real S3-compatible server (s3rver),
checked with Debian's AWS CLI, listed and restored with `sluice archive`, and
reindexed into a fresh store.

  - upload on rotation and on SIGTERM: object keys by date/node, sizes equal to
    the local segments, each downloaded segment decodes (zstd CLI) to exactly
    the lines sent; a manifest entry per segment;
  - `sluice archive ls` lists them; `sluice archive restore` fetches them
    (sha256-checked); `sluice reindex --source` rebuilds a new store from them;
  - the endpoint down: segments wait, failures are counted, and everything is
    uploaded once the endpoint comes up.

    python3 test_archive.py PATH-TO-SLUICE [TEST-NAME...]
"""

import os
import re
import secrets
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import clients  # noqa: E402
import harness  # noqa: E402
import raw_segments  # noqa: E402
from harness import check, check_eq, log  # noqa: E402
from s3rver import ACCESS_KEY, SECRET_KEY, S3rver  # noqa: E402

BUCKET = "sluice-archive"
NODE = "testnode"


def archive_config(endpoint, segment_max_age_s=3600):
    return (f"raw:\n  segment_max_age_s: {segment_max_age_s}\n"
            f"archive:\n  endpoint: {endpoint}\n  bucket: {BUCKET}\n  prefix: logs\n"
            f"  node: {NODE}\n  access_key_id: {ACCESS_KEY}\n  secret_access_key: {SECRET_KEY}\n"
            f"  shutdown_deadline_s: 20\n")


def send_lines(server, marker, start, count):
    # Stamped now: retention (30 days by default) must not drop them.
    now = clients.rfc5424_now()
    lines = [f"<13>1 {now} web{i % 2} app - - - {marker} n{i}" for i in range(start, start + count)]
    server.send_tcp("".join(line + "\n" for line in lines).encode())
    return lines


def records_with(records, marker):
    return [r["frame"].rstrip(b"\n").decode() for r in records if marker.encode() in r["frame"]]


def test_upload_list_restore_reindex(ctx):
    s3 = S3rver(ctx).start()
    s3.make_bucket(BUCKET)
    config = archive_config(s3.endpoint)
    server = clients.start_sluice(ctx, config_text=config)
    marker = "ar" + secrets.token_hex(5)
    sent = send_lines(server, marker, 0, 300)
    server.wait_for_events(marker, 300, limit=1000)
    # Sent last, just before SIGTERM: the shutdown must close the segment and
    # upload it before exiting.
    sent += send_lines(server, marker, 300, 20)
    server.wait_for_events(marker, 320, limit=1000)
    server.stop(timeout=30)
    check("upload of" not in server.stderr_text(), "no upload failed", server.stderr_text()[-2000:])

    objects = s3.list(BUCKET, "logs/")
    log(f"  ==   objects: {sorted(objects)}")
    segment_keys = sorted(k for k in objects if k.endswith(".slr"))
    manifest_keys = sorted(k for k in objects if k.startswith(f"logs/manifest/{NODE}/"))
    check(segment_keys, "segments were uploaded")
    for key in segment_keys:
        check(re.fullmatch(rf"logs/raw/\d{{4}}/\d{{2}}/\d{{2}}/{NODE}/\d{{6}}-[0-9a-f]{{16}}\.slr", key),
              f"{key} follows PREFIX/raw/YYYY/MM/DD/NODE/HHMMSS-ID.slr")
    check_eq(len(manifest_keys), len(segment_keys), "one manifest entry per segment")

    local = {os.path.basename(p)[:16]: p for p in raw_segments.segment_files(server.data_dir)}
    download = tempfile.mkdtemp(prefix="download-", dir=ctx.workdir)
    records = []
    for key in segment_keys:
        segment_id = key.rsplit("-", 1)[1][:16]
        check(segment_id in local, f"{key} is a local segment too (raw retention keeps it)")
        check_eq(objects[key], os.path.getsize(local[segment_id]), f"{key} has the local segment's size")
        path = os.path.join(download, os.path.basename(key))
        s3.aws("s3", "cp", f"s3://{BUCKET}/{key}", path)
        records += raw_segments.decode_segment(path)[1]
    check_eq(records_with(records, marker), sent,
             "the downloaded segments decompress to exactly the lines sent, in order")

    config_path = os.path.join(ctx.workdir, "archive.yaml")
    with open(config_path, "w") as f:
        f.write(config)
    rc, out, err, _ = ctx.run_sluice(["archive", "ls", "--config", config_path], timeout=60)
    check_eq(rc, 0, f"sluice archive ls (stderr: {err[-500:]})")
    for key in segment_keys:
        check(key in out, f"archive ls lists {key}")

    restore_dir = os.path.join(ctx.workdir, "restored")
    rc, out, err, _ = ctx.run_sluice(["archive", "restore", "--config", config_path, "--from", "now-1d",
                                      "--to", "now", "--dir", restore_dir], timeout=60)
    check_eq(rc, 0, f"sluice archive restore (stderr: {err[-500:]})")
    restored = sorted(os.listdir(restore_dir))
    check_eq(len(restored), len(segment_keys), f"one restored file per archived segment: {restored}")

    fresh_data = tempfile.mkdtemp(prefix="reindexed-", dir=ctx.workdir)
    progress = os.path.join(ctx.workdir, "reindex.prom")
    rc, out, err, _ = ctx.run_sluice(["reindex", "--data", fresh_data, "--source", restore_dir,
                                      "--metrics-file", progress], timeout=120)
    check_eq(rc, 0, f"sluice reindex --source (stdout: {out[-300:]} stderr: {err[-500:]})")
    check("reindexed" in out, "reindex reports what it did", out)
    with open(progress) as f:
        metrics = harness.Metrics(f.read())
    promtool = harness.require_tool("promtool", "prometheus")
    harness.run_cmd([promtool, "check", "metrics"], input_bytes=metrics.text.encode())
    check_eq(metrics.value("sluice_reindex_running"), 0.0, "the progress file says the reindex finished")
    check_eq(metrics.value("sluice_reindex_segments_done"), float(len(segment_keys)),
             "progress counts every restored segment")
    check_eq(metrics.value("sluice_reindex_events"), float(len(sent)), "progress counts every event")
    rebuilt = ctx.start_server(data_dir=fresh_data)
    found = rebuilt.search_events(marker, limit=1000)
    check_eq(sorted(e["message"].split()[-1] for e in found), sorted(l.split()[-1] for l in sent),
             "the reindexed store holds every archived event")
    rebuilt.stop()

    # The same in one step, straight from the archive.
    direct_data = tempfile.mkdtemp(prefix="from-archive-", dir=ctx.workdir)
    rc, out, err, _ = ctx.run_sluice(["reindex", "--config", config_path, "--data", direct_data, "--archive"],
                                     timeout=120)
    check_eq(rc, 0, f"sluice reindex --archive (stdout: {out[-300:]} stderr: {err[-500:]})")
    check(not os.path.exists(os.path.join(direct_data, "reindex-restore")),
          "the temporary restore directory is removed")
    direct = ctx.start_server(data_dir=direct_data)
    check_eq(len(direct.search_events(marker, limit=1000)), len(sent),
             "reindex --archive stores every archived event")
    direct.stop()


def test_endpoint_down_then_up(ctx):
    s3 = S3rver(ctx)  # not started: the endpoint is down
    server = clients.start_sluice(ctx, config_text=archive_config(s3.endpoint, segment_max_age_s=1))
    marker = "dn" + secrets.token_hex(5)
    sent = send_lines(server, marker, 0, 50)
    server.wait_for_events(marker, 50)

    def waiting_and_failing():
        metrics = server.metrics()
        return ((metrics.value("sluice_archive_upload_failures_total") or 0) >= 1 and
                (metrics.value("sluice_archive_pending_segments") or 0) >= 1)
    harness.wait_until(waiting_and_failing, 30, "a closed segment waits and its upload failures are counted")
    metrics = server.metrics()
    check((metrics.value("sluice_archive_pending_bytes") or 0) > 0, "pending bytes are reported")

    s3.start()
    s3.make_bucket(BUCKET)

    def all_uploaded():
        metrics = server.metrics()
        return ((metrics.value("sluice_archive_pending_segments") or 0) == 0 and
                (metrics.value("sluice_archive_segments_uploaded_total") or 0) >= 1)
    harness.wait_until(all_uploaded, 90, "every waiting segment uploaded once the endpoint is up")
    objects = s3.list(BUCKET, f"logs/raw/")
    check(any(k.endswith(".slr") for k in objects), "segments are in the bucket", objects)
    server.stop(timeout=30)
    records = []
    download = tempfile.mkdtemp(prefix="download-", dir=ctx.workdir)
    for key in sorted(s3.list(BUCKET, "logs/raw/")):
        path = os.path.join(download, os.path.basename(key))
        s3.aws("s3", "cp", f"s3://{BUCKET}/{key}", path)
        records += raw_segments.decode_segment(path)[1]
    check_eq(records_with(records, marker), sent, "what waited arrived complete")


if __name__ == "__main__":
    harness.main([test_upload_list_restore_reindex, test_endpoint_down_then_up])
