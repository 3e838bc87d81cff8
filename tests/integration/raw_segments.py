"""Reads sluice raw segment files (storage/raw_log.h, format versions 1 and 2)
independently of sluice: the frame headers are parsed here, the payloads are
decompressed by the `zstd` command-line tool, and the records decoded here.
A test that compares these records with what it sent checks the file format
and the compression, not just sluice's own reader."""

import os
import struct
import subprocess

import harness

FILE_MAGIC = b"SLUICERW"
FRAME_MAGIC = 0x52464C53
FRAME_HEADER = struct.Struct("<IIIIQqqI")  # magic, payload, raw, records, seq, min, max, crc


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def decode_segment(path):
    """Returns (frames, records): frame headers as dicts and every record as a
    dict with received_ns, input, format, truncated, peer, frame (bytes)."""
    zstd = harness.require_tool("zstd", "zstd")
    with open(path, "rb") as f:
        data = f.read()
    harness.check(data[:8] == FILE_MAGIC, f"{os.path.basename(path)} starts with {FILE_MAGIC!r}")
    version = struct.unpack_from("<I", data, 8)[0]
    harness.check(version in (1, 2), f"{os.path.basename(path)} format version {version} is 1 or 2")
    pos = 16
    frames, records = [], []
    while pos < len(data):
        magic, payload_len, raw_len, count, seq, lo, hi, _crc = FRAME_HEADER.unpack_from(data, pos)
        harness.check(magic == FRAME_MAGIC, f"frame magic at offset {pos}")
        pos += FRAME_HEADER.size
        payload = data[pos:pos + payload_len]
        pos += payload_len
        # Version 2's two zstd frames decompress to their contents one after
        # the other: the record table, then the bytes.
        raw = subprocess.run([zstd, "-dc"], input=payload, stdout=subprocess.PIPE,
                             check=True).stdout
        harness.check_eq(len(raw), raw_len, f"frame {seq} decompresses to its stated length")
        frames.append({"seq": seq, "records": count, "min_received_ns": lo, "max_received_ns": hi})
        decode = decode_v1_records if version == 1 else decode_v2_records
        records += decode(raw, count, seq)
    return frames, records


def record(received_ns, input_id, fmt, flags, peer, frame):
    return {"received_ns": received_ns, "input": input_id, "format": fmt, "truncated": bool(flags & 1),
            "peer": peer.decode(errors="replace"), "frame": frame}


def decode_v1_records(raw, count, seq):
    records, at = [], 0
    for _ in range(count):
        received_ns, input_id, fmt, flags = struct.unpack_from("<qBBB", raw, at)
        at += 11
        peer_len, at = read_varint(raw, at)
        peer = raw[at:at + peer_len]
        at += peer_len
        frame_len, at = read_varint(raw, at)
        records.append(record(received_ns, input_id, fmt, flags, peer, raw[at:at + frame_len]))
        at += frame_len
    harness.check_eq(at, len(raw), f"frame {seq}'s records fill its payload exactly")
    return records


def decode_v2_records(raw, count, seq):
    table, at, received = [], 0, 0
    for _ in range(count):
        zigzag, at = read_varint(raw, at)
        delta = (zigzag >> 1) ^ -(zigzag & 1)
        received = (received + delta + 2**63) % 2**64 - 2**63
        input_id, fmt, flags = raw[at], raw[at + 1], raw[at + 2]
        at += 3
        peer_code, at = read_varint(raw, at)
        frame_len, at = read_varint(raw, at)
        table.append((received, input_id, fmt, flags, peer_code, frame_len))
    records, peer = [], b""
    for received, input_id, fmt, flags, peer_code, frame_len in table:
        if peer_code != 0:
            peer = raw[at:at + peer_code - 1]
            at += peer_code - 1
        records.append(record(received, input_id, fmt, flags, peer, raw[at:at + frame_len]))
        at += frame_len
    harness.check_eq(at, len(raw), f"frame {seq}'s table and bytes fill its payload exactly")
    return records


def segment_files(data_dir, suffixes=(".seg", ".open")):
    raw_dir = os.path.join(data_dir, "raw")
    if not os.path.isdir(raw_dir):
        return []
    return sorted(os.path.join(raw_dir, name) for name in os.listdir(raw_dir)
                  if name.endswith(suffixes))
