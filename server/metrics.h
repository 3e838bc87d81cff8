// The server's counters and their Prometheus text exposition (format 0.0.4).
//
// Counters are plain atomics updated once per batch by the thread doing the
// work; render() reads them on the HTTP loop. Thread-safe.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "server/base/counter.h"
#include "server/base/raw_batch.h"

namespace sluice::server {

// Why an event was dropped; the `reason` label.
enum class DropReason : uint8_t { kQueueFull = 0, kStoreError = 1 };
constexpr size_t kDropReasonCount = 2;

struct PerInput {
  Counter received;        // events accepted from the network
  Counter stored;          // events committed to the store
  Counter parse_failures;  // events stored with the parse-failure flag
  Counter rejected;        // records refused (invalid JSON in HTTP ingest)
  Counter truncated;       // frames cut at max_message_bytes
  Counter received_bytes;
  std::array<Counter, kDropReasonCount> dropped;
};

class ServerMetrics {
 public:
  PerInput& input(InputId id) { return inputs_[static_cast<size_t>(id)]; }

  Gauge queue_bytes;
  Gauge queue_batches;
  Counter tcp_connections_accepted;
  Gauge tcp_connections_open;
  Counter batches_stored;
  Counter store_errors;
  Counter search_requests;
  Counter search_errors;

  // `route` is one of a fixed set of names (never a raw URL), so label
  // cardinality stays bounded.
  void count_http_request(std::string_view route, int status_code);

  // The exposition text of every metric, plus process_* figures.
  std::string render() const;

 private:
  std::array<PerInput, kInputCount> inputs_;
  mutable std::mutex http_mutex_;
  std::map<std::pair<std::string, int>, uint64_t> http_requests_;
};

}  // namespace sluice::server
