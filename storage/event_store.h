// EventStore: the indexed, time-partitioned store of parsed events.
//
// Format version 1 is one RocksDB database under `<data_dir>/store`, with
// events keyed by (partition day, timestamp, sequence) — see keys.h — and
// values in event_codec.h's layout, compressed by RocksDB with zstd.
// Searches walk the key range of [from, to] backwards, so newest come first.
//
// Thread-safe: append() from every parse worker, search() from the query
// pool, concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/options.h"
#include "server/base/event.h"
#include "server/base/expected.h"
#include "storage/query.h"

namespace rocksdb {
class DB;
}

namespace sluice::storage {

// One search hit, owned: results leave the store and cross threads.
struct StoredEvent {
  int64_t timestamp_ns = 0;
  int64_t received_ns = 0;
  uint8_t severity = kUnknownSeverity;
  uint8_t facility = kUnknownFacility;
  uint8_t flags = 0;
  uint8_t input = 0;
  std::string host, app, message, raw;
  struct OwnedField {
    std::string name;
    std::string value;
    FieldType type = FieldType::kString;
  };
  std::vector<OwnedField> fields;  // same-name fields form an array, in order
};

struct SearchRequest {
  Query query;
  int64_t from_ns = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t to_ns = std::numeric_limits<int64_t>::max();    // inclusive
  uint32_t limit = 100;
  int64_t deadline_monotonic_ns = std::numeric_limits<int64_t>::max();
};

struct SearchResult {
  std::vector<StoredEvent> events;  // newest first
  bool partial = false;             // the deadline cut the scan short
  uint64_t scanned = 0;             // events examined
};

class EventStore {
 public:
  // Opens (creating if needed) the store under options.data_dir. Fails with
  // a message naming the directory if it cannot be created or locked.
  static Expected<std::unique_ptr<EventStore>> open(const config::StoreOptions& options);
  ~EventStore();

  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Writes every event of `batch` in one atomic write; when it returns OK
  // the events are in the write-ahead log and visible to searches.
  Status append(const EventBatch& batch);

  Expected<SearchResult> search(const SearchRequest& request) const;

  // Writes memtables out and syncs the WAL: the store is complete on disk.
  Status flush();

 private:
  EventStore(rocksdb::DB* db, uint64_t open_count);

  rocksdb::DB* db_;
  // High bits of every sequence number written in this run; see keys.h.
  const uint64_t sequence_base_;
  std::atomic<uint64_t> next_sequence_{0};
};

}  // namespace sluice::storage
