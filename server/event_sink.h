// EventSink: where every parsed batch goes — the raw segment log and the
// store, in one order.
//
// A worker hands over a raw batch and its events. The sink compresses the
// raw frame without a lock, then, under one short lock, appends the frame to
// the raw log and the events to the store, so the store's per-partition
// replay points follow the log's frame order. Acknowledgements wait for the
// fsync that covers the frame (raw.fsync). Once a second the maintenance
// thread writes due blocks, enforces retention, rotates segments by age and
// deletes local segments that are indexed, archived (if an archive is
// configured) and past raw retention.
//
// On open, frames the store does not yet hold in blocks are replayed through
// the same BatchParser the workers use, so every durable record is stored
// exactly once after a crash.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/options.h"
#include "server/base/expected.h"
#include "server/batch_parser.h"
#include "server/metrics.h"
#include "storage/event_store.h"
#include "storage/raw_log.h"
#include "storage/segment_archive.h"

namespace sluice::server {

struct ReplayReport {
  uint64_t segments = 0;
  uint64_t frames = 0;
  uint64_t records = 0;
  uint64_t events = 0;
  std::vector<std::string> problems;  // corrupt frames met (the good prefix is used)
};

class EventSink {
 public:
  // Opens the raw log (recovering a crashed segment) and the store.
  // `file_system` null: the real one.
  static Expected<std::unique_ptr<EventSink>> open(const config::ServerOptions& options, ServerMetrics& metrics,
                                                   storage::FileSystem* file_system = nullptr);
  ~EventSink();

  // Replays raw frames the store lacks. Call before any commit().
  Expected<ReplayReport> replay(BatchParser& parser);

  // Starts the maintenance thread (and the archive's uploader).
  void start();
  // Called by commit() on the worker's thread after each batch is stored
  // (the live tail); set before workers start.
  void set_commit_listener(std::function<void(const EventBatch&)> listener) {
    commit_listener_ = std::move(listener);
  }

  // Appends `raw` to the raw log and `events` to the store. Returns the
  // frame's sequence number; an error (disk full, store flush failing)
  // means nothing was appended, and the caller may retry.
  Expected<uint64_t> commit(const RawBatch& raw, const EventBatch& events);
  // Calls `callback` once frame `seq` is on disk (at once if it is).
  void when_durable(uint64_t seq, std::function<void(const Status&)> callback);

  // Stops maintenance, writes every buffer as blocks, closes the current
  // segment and gives the archive until `archive_deadline_ns` (monotonic)
  // to upload what waits.
  Status close(int64_t archive_deadline_ns);

  storage::EventStore& store() { return *store_; }
  storage::RawLogWriter& raw_log() { return *raw_log_; }
  storage::SegmentArchive* archive() { return archive_.get(); }

  // One maintenance pass (tests and the maintenance thread).
  Status maintain();

 private:
  std::function<void(const EventBatch&)> commit_listener_;
  EventSink(const config::ServerOptions& options, ServerMetrics& metrics);
  void maintenance_loop() noexcept;
  Status delete_expired_segments();
  void render_metrics(std::string& out) const;

  const config::ServerOptions options_;
  ServerMetrics& metrics_;
  storage::FileSystem* file_system_ = nullptr;
  std::string raw_dir_;
  std::unique_ptr<storage::EventStore> store_;
  std::unique_ptr<storage::RawLogWriter> raw_log_;
  std::unique_ptr<storage::SegmentArchive> archive_;

  std::mutex commit_mutex_;

  // Closed raw segments' info, for the retention pass each second: each
  // segment's frame headers are read once (delete_expired_segments).
  std::mutex segment_cache_mutex_;
  storage::SegmentInfoCache segment_cache_;

  std::mutex maintenance_mutex_;
  std::condition_variable maintenance_wake_;
  bool stopping_ = false;
  std::thread maintenance_thread_;

  std::atomic<uint64_t> commit_errors_{0};
  std::atomic<uint64_t> segments_deleted_{0};
  std::atomic<uint64_t> replayed_events_{0};
  std::atomic<uint64_t> maintenance_errors_{0};
  std::atomic<uint64_t> recovered_bytes_discarded_{0};
};

}  // namespace sluice::server
