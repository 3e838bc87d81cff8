// RawBatch: framed but unparsed records, as the IO loops hand them to the
// parse workers. One contiguous byte buffer plus one small record per frame,
// so a batch of thousands of messages is two allocations, reused via a pool.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/base/bytes.h"

namespace sluice {

// Which listener a record came through. Indexes per-input metrics, so the
// values are dense; names are in input_name().
// Stored with every event: append new inputs, never renumber.
enum class InputId : uint8_t {
  kSyslogUdp = 0,
  kSyslogTcp = 1,
  kHttpNdjson = 2,
  kSyslogTls = 3,
  kRelp = 4,
  kJsonTcp = 5,     // JSON lines over TCP
  kGelfUdp = 6,     // Graylog's GELF over UDP (chunked, compressed)
  kGelfTcp = 7,     // GELF over TCP, null-byte delimited
  kGelfHttp = 8,    // GELF over HTTP, POST /gelf
  kEsBulk = 9,      // Elasticsearch bulk API, POST /_bulk
  kCollectd = 10,   // collectd write_http, JSON format
};
constexpr size_t kInputCount = 11;

inline std::string_view input_name(InputId id) {
  switch (id) {
    case InputId::kSyslogUdp: return "syslog_udp";
    case InputId::kSyslogTcp: return "syslog_tcp";
    case InputId::kHttpNdjson: return "http_ndjson";
    case InputId::kSyslogTls: return "syslog_tls";
    case InputId::kRelp: return "relp";
    case InputId::kJsonTcp: return "json_tcp";
    case InputId::kGelfUdp: return "gelf_udp";
    case InputId::kGelfTcp: return "gelf_tcp";
    case InputId::kGelfHttp: return "gelf_http";
    case InputId::kEsBulk: return "es_bulk";
    case InputId::kCollectd: return "collectd";
  }
  return "unknown";
}

// How the bytes of a record are to be read.
// Stored in raw segments: append new formats, never renumber.
//   kJson      one JSON object, mapped by parsers/json_event
//   kGelf      one GELF JSON object (already reassembled and decompressed)
//   kCollectd  one collectd value list: an object of the JSON array collectd's
//              write_http posts (POST /collectd splits the array), one event
enum class RecordFormat : uint8_t { kSyslog = 0, kJson = 1, kGelf = 2, kCollectd = 3 };

struct RawRecord {
  uint32_t offset;       // into RawBatch::bytes
  uint32_t length;
  uint32_t peer_offset;  // sender's address as text, into RawBatch::bytes
  uint16_t peer_length;
  InputId input;
  RecordFormat format;
  bool truncated;        // the frame was longer than the size limit
  int64_t received_ns;
};

// Bytes readable past the end of `bytes` when a batch reaches a parser:
// simdjson reads up to 64 bytes beyond a document instead of copying it.
constexpr size_t kRawBatchPaddingBytes = 64;

// A record a worker refused (e.g. invalid JSON), by index in the batch.
struct RecordError {
  uint32_t record_index;
  std::string_view reason;  // static text
};

// What became of a batch: handed to RawBatch::on_stored.
struct BatchOutcome {
  bool stored_ok = false;  // the store accepted the batch's events
  uint32_t stored = 0;     // events written
  std::vector<RecordError> rejected;
};

struct RawBatch {
  std::string bytes;
  std::vector<RawRecord> records;
  // Called once on a worker thread after the batch's events are in the
  // store (or failed to be). Set by inputs that acknowledge (HTTP ingest);
  // empty otherwise. Must not block; the outcome lives only for the call.
  std::function<void(const BatchOutcome&)> on_stored;

  void append(std::string_view frame, std::string_view peer, InputId input,
              RecordFormat format, bool truncated, int64_t received_ns) {
    RawRecord record;
    // A connection's records share its peer's bytes: held once, so that
    // `bytes` is the frames one after another with a peer between them
    // only where it changes (the raw log stores it as it is).
    if (!records.empty() && records.back().peer_length == peer.size() &&
        same_bytes(bytes.data() + records.back().peer_offset, peer.data(), peer.size())) {
      record.peer_offset = records.back().peer_offset;
      record.peer_length = records.back().peer_length;
    } else {
      record.peer_offset = static_cast<uint32_t>(bytes.size());
      record.peer_length = static_cast<uint16_t>(peer.size());
      bytes.append(peer);
    }
    record.offset = static_cast<uint32_t>(bytes.size());
    record.length = static_cast<uint32_t>(frame.size());
    bytes.append(frame);
    record.input = input;
    record.format = format;
    record.truncated = truncated;
    record.received_ns = received_ns;
    records.push_back(record);
  }

  std::string_view frame(const RawRecord& r) const { return {bytes.data() + r.offset, r.length}; }
  std::string_view peer(const RawRecord& r) const {
    return {bytes.data() + r.peer_offset, r.peer_length};
  }

  void clear() {
    bytes.clear();
    records.clear();
    on_stored = nullptr;
  }
  size_t size_bytes() const { return bytes.size() + records.size() * sizeof(RawRecord); }
};

}  // namespace sluice
