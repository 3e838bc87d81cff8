// EventStore: the indexed, time-partitioned store of parsed events.
//
// Format version 2 (storage/keys.h has the byte layout): one RocksDB
// database under `<data_dir>/store`. Events of one UTC day form a partition.
// A partition's events are buffered in memory, searched there at once, and
// written as columnar blocks (storage/block_codec.h) with a token filter per
// block and postings (block lists) for low-cardinality fields. Every key of
// a partition shares its day prefix, so dropping a partition is a few range
// deletes. Version-1 stores (one key per event) are still read.
//
// Crash safety comes from the raw segment log, not from RocksDB's WAL sync:
// every appended batch names the raw frame it came from (`raw_seq`), and
// each block write records, per partition, the last raw frame it covers.
// After a crash, the server replays frames from replay_from(); append()
// skips the events a partition already holds, so each event is stored once.
//
// Thread-safe: append() from the parse workers (callers serialize appends in
// raw_seq order), search() from any thread, maintain() from one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "config/options.h"
#include "server/base/event.h"
#include "server/base/expected.h"
#include "storage/event_codec.h"
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
  uint64_t tiebreak = 0;           // orders equal timestamps (SearchCursor)
};

// Where the next page of a search starts. Events are ordered newest first
// by (timestamp, tiebreak), the tiebreak a hash of the raw line and receive
// time; events with equal keys are the same line received at the same
// instant, and `skip` counts how many of those earlier pages showed. Pages
// are stable under concurrent ingest: a new event lands before or after the
// cursor, never shifts what a later page holds.
struct SearchCursor {
  int64_t timestamp_ns = 0;
  uint64_t tiebreak = 0;
  uint32_t skip = 0;
};

struct SearchRequest {
  Query query;
  int64_t from_ns = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t to_ns = std::numeric_limits<int64_t>::max();    // inclusive
  uint32_t limit = 100;
  int64_t deadline_monotonic_ns = std::numeric_limits<int64_t>::max();
  // Set (by another thread) when nobody waits for the answer any more: the
  // search stops as at its deadline. Must outlive the call.
  const std::atomic<bool>* cancelled = nullptr;
  std::optional<SearchCursor> after;  // only events after this one (older)
};

struct SearchResult {
  std::vector<StoredEvent> events;  // newest first
  bool partial = false;             // the deadline cut the scan short
  uint64_t scanned = 0;             // events examined
  uint64_t blocks_total = 0;        // blocks in the time range
  uint64_t blocks_skipped = 0;      // ruled out by postings or filters, not read
  std::optional<SearchCursor> next;  // set when the page is full
};

// Orders events that share a timestamp, so that pages of a search are
// disjoint and complete (SearchCursor).
uint64_t event_tiebreak(const EventView& event);

constexpr uint64_t kMaxHistogramBuckets = 10000;

// Counts of matching events per time bucket [from + k*interval, from +
// (k+1)*interval), the last one cut at to_ns (inclusive).
struct HistogramRequest {
  Query query;
  int64_t from_ns = 0;
  int64_t to_ns = 0;
  int64_t interval_ns = 0;
  int64_t deadline_monotonic_ns = std::numeric_limits<int64_t>::max();
  const std::atomic<bool>* cancelled = nullptr;  // as in SearchRequest
};

struct HistogramResult {
  std::vector<uint64_t> counts;
  uint64_t total = 0;
  bool partial = false;      // the deadline cut it short: counts are lower bounds
  uint64_t scanned = 0;      // events looked at one by one
  uint64_t blocks_read = 0;  // blocks decompressed (the rest counted from descriptors)
};

struct PartitionInfo {
  int64_t day = 0;  // days since 1970-01-01
  uint64_t blocks = 0;
  uint64_t events = 0;           // in blocks
  uint64_t buffered_events = 0;  // not yet in a block
  uint64_t bytes = 0;            // on disk (approximate, from RocksDB)
};

// Counters for /metrics; all monotonic except the gauges marked.
struct StoreStats {
  uint64_t blocks_written = 0;
  uint64_t block_bytes_written = 0;
  uint64_t events_flushed = 0;
  uint64_t flush_errors = 0;
  uint64_t events_skipped_on_replay = 0;  // already stored before a crash
  uint64_t partitions_dropped_age = 0;
  uint64_t partitions_dropped_size = 0;
  uint64_t buffered_events = 0;  // gauge
  uint64_t buffered_bytes = 0;   // gauge
  uint64_t partitions = 0;       // gauge
  uint64_t disk_bytes = 0;       // gauge, as of the last retention check
  uint64_t filter_reads = 0;        // block filters read from disk by searches
  uint64_t filter_cache_bytes = 0;  // gauge: filters kept in memory
};

// Events of one day of one batch, encoded for the in-memory buffer
// (defined in event_store.cc).
struct BufferedChunk;

// A batch's events encoded for the store, ready to append: prepare() runs
// without any lock, so a caller that serializes appends (to keep them in
// raw frame order) holds its lock only for append_prepared().
struct PreparedEvents {
  std::vector<std::pair<int64_t, std::shared_ptr<BufferedChunk>>> chunks;
};

class EventStore {
 public:
  using NowFn = std::function<int64_t()>;
  // Opens (creating if needed) the store under options.data_dir. Fails with
  // a message naming the directory if it cannot be created or locked, or if
  // it holds a format newer than this binary reads. `now_ns` is the wall
  // clock of retention and block ages (tests pass a controllable one).
  static Expected<std::unique_ptr<EventStore>> open(const config::StoreOptions& options,
                                                    NowFn now_ns = nullptr);
  ~EventStore();

  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Buffers every event of `batch`, taken from raw frame `raw_seq` (0: not
  // from the raw log, e.g. tests). Calls must come in increasing raw_seq
  // order. Events of a partition whose blocks already cover raw_seq are
  // skipped (replay after a crash). The events are searchable on return.
  Status append(const EventBatch& batch, uint64_t raw_seq);
  // append() in two steps; `prepared` is consumed.
  void prepare(const EventBatch& batch, PreparedEvents& prepared) const;
  Status append_prepared(PreparedEvents& prepared, uint64_t raw_seq);

  // The `limit` newest matches in the range (after the cursor, if any),
  // newest first. Runs on the caller's thread; never blocks appends.
  Expected<SearchResult> search(const SearchRequest& request) const;
  // Matching events per bucket. A query of no terms is answered from block
  // descriptors where a block lies in one bucket, without reading it.
  Expected<HistogramResult> histogram(const HistogramRequest& request) const;
  // The oldest and newest event timestamps held (nullopt: empty store).
  std::optional<std::pair<int64_t, int64_t>> time_extent() const;

  // The first raw frame not yet wholly in blocks: replay starts here.
  uint64_t replay_from() const;
  // The highest raw frame seq the store has recorded; new frames must be
  // numbered above it.
  uint64_t highest_raw_seq() const;
  // Frames up to this one are in blocks, so their raw segments may be
  // deleted — after sync_log() has made that fact itself durable.
  uint64_t durable_through() const;
  Status sync_log();

  // Writes blocks of buffers that are full or older than block_max_age_ms,
  // and, when due, enforces retention. Called about once a second.
  Status maintain();
  // Writes every buffer out as blocks and syncs RocksDB's log.
  Status flush();
  // Writes the blocks of the buffers that are due (full or old), one
  // block's worth of each day that other threads have not taken already:
  // the parse workers call it after each commit, so blocks are encoded on
  // their threads, several at once, and keep pace with ingest (blocks are
  // still written in order). With `wait` false it returns when nothing is
  // left to take; with `wait` true it then waits for the blocks other
  // threads are writing. `everything`: every buffer, due or not (the
  // buffers are over their memory bound).
  Status flush_due(bool wait, bool everything = false);

  // Drops partitions past retention_days or over max_disk_bytes (oldest
  // first). Logs each drop to stderr and counts it.
  Status enforce_retention();
  Status drop_partition(int64_t day);
  std::vector<PartitionInfo> partitions() const;
  StoreStats stats() const;

  // Deletes every partition overlapping [from_day, to_day] (reindex).
  Status drop_partitions(int64_t from_day, int64_t to_day);

 private:
  struct Impl;
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::storage
