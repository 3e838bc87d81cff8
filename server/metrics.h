// The server's counters and their Prometheus text exposition (format 0.0.4).
//
// Counters are plain atomics updated once per batch by the thread doing the
// work; render() reads them on the HTTP loop. Thread-safe.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/base/counter.h"
#include "parsers/json_errors.h"
#include "server/base/raw_batch.h"

namespace sluice::server {

// Why an event was dropped; the `reason` label.
// kShutdown: the raw log could not take a batch (e.g. a full disk) and the
// server was stopped before it could.
enum class DropReason : uint8_t { kQueueFull = 0, kStoreError = 1, kPipelineDrop = 2, kShutdown = 3 };
constexpr size_t kDropReasonCount = 4;

// Bad input met by an input, by kind; the `reason` label of
// sluice_ingest_errors_total.
enum class IngestError : uint8_t {
  kOctetCountInvalid = 0,  // a frame starts with digits that are no valid MSG-LEN
  kFrameTruncated,         // a frame longer than ingest.max_message_bytes
  kFrameIncomplete,        // the connection ended inside a frame
  kTlsHandshake,           // the TLS handshake failed
  kTlsError,               // a TLS record or alert error after the handshake
  kHandshakeTimeout,       // no complete handshake in time (TLS)
  kRelpProtocol,           // a RELP protocol violation
  kConnectionLimit,        // connection refused: too many open
  kCount,
};
constexpr size_t kIngestErrorCount = static_cast<size_t>(IngestError::kCount);
std::string_view ingest_error_name(IngestError error);

struct PerInput {
  Counter received;        // events accepted from the network
  Counter stored;          // events committed to the store
  Counter parse_failures;  // events stored with the parse-failure flag
  Counter rejected;        // records refused (invalid JSON in HTTP ingest)
  Counter truncated;       // frames cut at max_message_bytes
  Counter received_bytes;
  std::array<Counter, kDropReasonCount> dropped;
  std::array<Counter, kIngestErrorCount> errors;
  // JSON records that failed to parse (refused, or kept as raw text on
  // json_tcp), by reason: sluice_json_errors_total.
  std::array<Counter, parsers::kJsonErrorCount> json_errors;
  void count_error(IngestError error, uint64_t n = 1) { errors[static_cast<size_t>(error)].add(n); }
  void count_json_error(parsers::JsonError error, uint64_t n = 1) {
    json_errors[static_cast<size_t>(error)].add(n);
  }
};

class ServerMetrics {
 public:
  PerInput& input(InputId id) { return inputs_[static_cast<size_t>(id)]; }

  Gauge queue_bytes;
  Gauge queue_batches;
  Counter tcp_connections_accepted;  // all stream inputs
  Gauge tcp_connections_open;
  Counter batches_stored;
  Counter store_errors;
  Counter search_requests;
  Counter search_errors;
  Counter search_partial;  // cut short by the deadline
  Counter search_abandoned;  // the client hung up first; stopped early
  Counter tail_events_sent;
  Counter tail_events_dropped;  // a tail client too slow, or over its rate
  Gauge tail_clients;

  // `route` is one of a fixed set of names (never a raw URL), so label
  // cardinality stays bounded.
  void count_http_request(std::string_view route, int status_code);

  // The exposition text of every metric, plus process_* figures.
  std::string render() const;

  // Metrics kept by other components (the raw log, the store, the archive):
  // `section` appends complete families to the text. Set before serving.
  using Section = std::function<void(std::string&)>;
  void add_section(Section section) { sections_.push_back(std::move(section)); }

 private:
  std::array<PerInput, kInputCount> inputs_;
  std::vector<Section> sections_;
  mutable std::mutex http_mutex_;
  std::map<std::pair<std::string, int>, uint64_t> http_requests_;
};

}  // namespace sluice::server
