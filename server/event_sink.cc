#include "server/event_sink.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "server/base/clock.h"

namespace sluice::server {
namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out.append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, uint64_t value) {
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            uint64_t value) {
  family(out, name, type, help);
  sample(out, name, value);
}

}  // namespace

EventSink::EventSink(const config::ServerOptions& options, ServerMetrics& metrics)
    : options_(options), metrics_(metrics) {}

Expected<std::unique_ptr<EventSink>> EventSink::open(const config::ServerOptions& options, ServerMetrics& metrics,
                                                     storage::FileSystem* file_system) {
  std::unique_ptr<EventSink> sink(new EventSink(options, metrics));
  sink->file_system_ = file_system != nullptr ? file_system : &storage::default_file_system();
  sink->raw_dir_ = (std::filesystem::path(options.store.data_dir) / "raw").string();

  auto store = storage::EventStore::open(options.store);
  if (!store) return store.error();
  sink->store_ = std::move(store.value());

  if (options.archive.enabled()) {
    auto archive = storage::SegmentArchive::open(
        options.archive, (std::filesystem::path(options.store.data_dir) / "archive").string(), sink->file_system_);
    if (!archive) return archive.error();
    sink->archive_ = std::move(archive.value());
  }

  storage::RawLogOptions raw_options;
  raw_options.dir = sink->raw_dir_;
  raw_options.segment_max_bytes = options.raw.segment_max_bytes;
  raw_options.segment_max_age_ns = static_cast<int64_t>(options.raw.segment_max_age_s) * 1000000000;
  raw_options.fsync = options.raw.fsync == "interval" ? storage::FsyncPolicy::kInterval : storage::FsyncPolicy::kAlways;
  raw_options.fsync_interval_ms = options.raw.fsync_interval_ms;
  raw_options.fs = sink->file_system_;
  raw_options.min_next_seq = sink->store_->highest_raw_seq() + 1;
  if (sink->archive_) {
    storage::SegmentArchive* archive = sink->archive_.get();
    raw_options.on_segment_closed = [archive](const storage::SegmentInfo& segment) { archive->enqueue(segment); };
  }
  storage::RecoveryReport recovery;
  auto raw_log = storage::RawLogWriter::open(raw_options, &recovery);
  if (!raw_log) return raw_log.error().with_context("open raw log " + sink->raw_dir_);
  sink->raw_log_ = std::move(raw_log.value());
  for (const std::string& problem : recovery.problems) {
    std::fprintf(stderr, "sluice: raw log recovery: %s\n", problem.c_str());
  }
  sink->recovered_bytes_discarded_ = recovery.bytes_discarded;
  if (sink->archive_) {
    storage::SegmentArchive* archive = sink->archive_.get();
    // Segments closed in an earlier run (or just recovered) that never made it up.
    auto segments = storage::list_segments(sink->raw_dir_, sink->file_system_);
    if (!segments) return segments.error();
    for (const storage::SegmentInfo& segment : *segments) {
      if (segment.closed && !archive->is_archived(segment.id)) archive->enqueue(segment);
    }
  }
  metrics.add_section([sink = sink.get()](std::string& out) { sink->render_metrics(out); });
  return sink;
}

EventSink::~EventSink() {
  {
    std::lock_guard lock(maintenance_mutex_);
    stopping_ = true;
  }
  maintenance_wake_.notify_all();
  if (maintenance_thread_.joinable()) maintenance_thread_.join();
}

Expected<ReplayReport> EventSink::replay(BatchParser& parser) {
  ReplayReport report;
  const uint64_t from_seq = store_->replay_from();
  std::vector<std::string> problems;
  auto segments = storage::list_segments(raw_dir_, file_system_, &problems);
  if (!segments) return segments.error().with_context("replay");
  RawBatch raw;
  EventBatch events;
  BatchOutcome outcome;
  BatchTally tally;
  for (const storage::SegmentInfo& segment : *segments) {
    if (segment.frames == 0 || segment.last_seq < from_seq) continue;
    auto reader = storage::RawSegmentReader::open(segment.path, file_system_);
    if (!reader) {
      report.problems.push_back(reader.error().message());
      continue;
    }
    ++report.segments;
    uint64_t seq = 0;
    while (true) {
      auto more = reader->next(raw, seq);
      if (!more) {
        report.problems.push_back(more.error().message());
        break;
      }
      if (!*more) break;
      if (seq < from_seq) continue;
      parser.parse(raw, events, outcome, tally);
      Status status = store_->append(events, seq);
      if (!status) return status.with_context("replay " + segment.path);
      ++report.frames;
      report.records += raw.records.size();
      report.events += events.events.size();
    }
  }
  replayed_events_ = report.events;
  return report;
}

void EventSink::start() {
  if (archive_) archive_->start();
  maintenance_thread_ = std::thread([this] { maintenance_loop(); });
}

Expected<uint64_t> EventSink::commit(const RawBatch& raw, const EventBatch& events) {
  // Buffers beyond their bound (blocks are written slower than events
  // arrive): this worker writes blocks first. That is the backpressure, and
  // it bounds memory; a failing block write (a full disk) is refused, so the
  // worker retries and the queue pushes back on the inputs.
  if (store_->stats().buffered_bytes > options_.store.max_buffered_bytes) {
    Status flushed = store_->flush_due(/*wait=*/true, /*everything=*/true);
    if (!flushed || store_->stats().buffered_bytes > 2 * options_.store.max_buffered_bytes) {
      commit_errors_.fetch_add(1, std::memory_order_relaxed);
      return Status::error("store buffers full: blocks cannot be written" +
                           (flushed ? std::string() : ": " + flushed.message()));
    }
  }
  // The expensive parts (compression, encoding) outside the lock.
  thread_local storage::PreparedFrame frame;
  thread_local storage::PreparedEvents prepared;
  Status status = raw_log_->prepare(raw, frame);
  if (!status) return status;
  store_->prepare(events, prepared);
  uint64_t seq = 0;
  {
    std::lock_guard lock(commit_mutex_);
    auto committed = raw_log_->commit(frame);
    if (!committed) {
      commit_errors_.fetch_add(1, std::memory_order_relaxed);
      return committed.error();
    }
    seq = *committed;
    status = store_->append_prepared(prepared, seq);
    if (!status) return status;
  }
  if (commit_listener_) commit_listener_(events);
  // A buffer that just became full is written by this worker, unless
  // other threads have taken all of it already.
  status = store_->flush_due(/*wait=*/false);
  if (!status) {
    maintenance_errors_.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "sluice: write blocks: %s\n", status.message().c_str());
  }
  return seq;
}

void EventSink::when_durable(uint64_t seq, std::function<void(const Status&)> callback) {
  raw_log_->when_durable(seq, std::move(callback));
}

Status EventSink::maintain() {
  Status status = raw_log_->rotate_if_due();
  Status stored = store_->maintain();
  if (status) status = stored;
  Status deleted = delete_expired_segments();
  if (status) status = deleted;
  return status;
}

Status EventSink::delete_expired_segments() {
  const uint32_t retention_days = options_.raw.retention_days;
  const uint64_t max_bytes = options_.raw.max_bytes;
  if (retention_days == 0 && max_bytes == 0) return Status::ok();
  std::lock_guard cache_lock(segment_cache_mutex_);
  auto segments = storage::list_segments(raw_dir_, file_system_, nullptr, &segment_cache_);
  if (!segments) return segments.error().with_context("raw retention");
  const uint64_t indexed_through = store_->durable_through();
  uint64_t total = 0;
  for (const auto& segment : *segments) {
    if (segment.closed) total += segment.bytes;
  }
  const int64_t now = wall_now_ns();
  bool synced = false;
  for (const storage::SegmentInfo& segment : *segments) {
    if (!segment.closed) continue;
    const bool too_old = retention_days != 0 &&
                         segment.max_received_ns < now - static_cast<int64_t>(retention_days) * kNanosPerDay;
    const bool over_cap = max_bytes != 0 && total > max_bytes;
    if (!too_old && !over_cap) continue;
    // Never lose a record: only segments wholly in blocks, and uploaded.
    if (segment.last_seq > indexed_through) break;
    if (archive_ && !archive_->is_archived(segment.id)) continue;
    if (!synced) {
      Status status = store_->sync_log();
      if (!status) return status.with_context("raw retention");
      synced = true;
    }
    Status status = file_system_->remove(segment.path);
    if (!status) return status.with_context("raw retention");
    total -= segment.bytes;
    segments_deleted_.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "sluice: raw retention: deleted segment %s (%s)\n", segment.path.c_str(),
                 too_old ? "past raw.retention_days" : "over raw.max_bytes");
  }
  return Status::ok();
}

void EventSink::maintenance_loop() noexcept {
  std::unique_lock lock(maintenance_mutex_);
  while (!stopping_) {
    maintenance_wake_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) break;
    lock.unlock();
    Status status = maintain();
    if (!status) {
      maintenance_errors_.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "sluice: maintenance: %s\n", status.message().c_str());
    }
    lock.lock();
  }
}

Status EventSink::close(int64_t archive_deadline_ns) {
  {
    std::lock_guard lock(maintenance_mutex_);
    stopping_ = true;
  }
  maintenance_wake_.notify_all();
  if (maintenance_thread_.joinable()) maintenance_thread_.join();
  Status status = store_->flush();
  Status closed = raw_log_->close();
  if (status) status = closed;
  if (archive_) {
    Status drained = archive_->drain(archive_deadline_ns);
    if (status) status = drained;
  }
  return status;
}

void EventSink::render_metrics(std::string& out) const {
  const storage::RawLogWriter::Stats raw = raw_log_->stats();
  metric(out, "sluice_raw_log_frames_total", "counter", "Frames (one per batch) appended to the raw segment log.", raw.frames);
  metric(out, "sluice_raw_log_records_total", "counter", "Records appended to the raw segment log.", raw.records);
  metric(out, "sluice_raw_log_bytes_total", "counter", "Bytes (compressed) written to the raw segment log.", raw.bytes_written);
  metric(out, "sluice_raw_log_fsyncs_total", "counter", "fsyncs of the raw segment log (group commits).", raw.fsyncs);
  metric(out, "sluice_raw_log_write_errors_total", "counter", "Failed appends to the raw log (e.g. disk full); retried.", raw.write_errors);
  metric(out, "sluice_raw_log_sync_errors_total", "counter", "Failed fsyncs of the raw log.", raw.sync_errors);
  metric(out, "sluice_raw_segments_closed_total", "counter", "Raw segments closed (rotated).", raw.segments_closed);
  metric(out, "sluice_raw_segments_deleted_total", "counter", "Raw segments deleted by raw retention.",
         segments_deleted_.load(std::memory_order_relaxed));
  metric(out, "sluice_raw_recovery_discarded_bytes", "gauge", "Bytes of a torn or corrupt segment tail discarded at start.",
         recovered_bytes_discarded_.load(std::memory_order_relaxed));
  metric(out, "sluice_replayed_events", "gauge", "Events replayed from the raw log at start (after a crash).",
         replayed_events_.load(std::memory_order_relaxed));
  metric(out, "sluice_commit_errors_total", "counter", "Batches the raw log or store refused (retried until accepted).",
         commit_errors_.load(std::memory_order_relaxed));
  metric(out, "sluice_maintenance_errors_total", "counter", "Failed maintenance passes (block writes, retention).",
         maintenance_errors_.load(std::memory_order_relaxed));

  const storage::StoreStats store = store_->stats();
  metric(out, "sluice_store_blocks_written_total", "counter", "Blocks written to the store.", store.blocks_written);
  metric(out, "sluice_store_block_bytes_written_total", "counter", "Bytes of blocks and filters written.", store.block_bytes_written);
  metric(out, "sluice_store_events_flushed_total", "counter", "Events moved from memory into blocks.", store.events_flushed);
  metric(out, "sluice_store_flush_errors_total", "counter", "Failed block writes (the events stay buffered).", store.flush_errors);
  metric(out, "sluice_store_buffered_events", "gauge", "Events searchable in memory, not yet in blocks.", store.buffered_events);
  metric(out, "sluice_store_buffered_bytes", "gauge", "Bytes of events not yet in blocks.", store.buffered_bytes);
  metric(out, "sluice_store_partitions", "gauge", "Day partitions in the store.", store.partitions);
  metric(out, "sluice_store_disk_bytes", "gauge", "Bytes of partitions on disk, as of the last retention check.", store.disk_bytes);
  metric(out, "sluice_store_filter_reads_total", "counter", "Block filters searches read from disk (then kept in memory).",
         store.filter_reads);
  metric(out, "sluice_store_filter_cache_bytes", "gauge", "Bytes of block filters kept in memory for searches.",
         store.filter_cache_bytes);
  metric(out, "sluice_store_replay_skipped_events_total", "counter",
         "Replayed events already in blocks, skipped (stored exactly once).", store.events_skipped_on_replay);
  family(out, "sluice_store_partitions_dropped_total", "counter", "Partitions dropped by retention, per rule.");
  out.append("sluice_store_partitions_dropped_total{reason=\"age\"} ").append(std::to_string(store.partitions_dropped_age)).append("\n");
  out.append("sluice_store_partitions_dropped_total{reason=\"size\"} ").append(std::to_string(store.partitions_dropped_size)).append("\n");

  if (archive_) {
    const storage::ArchiveStats archive = archive_->stats();
    metric(out, "sluice_archive_segments_uploaded_total", "counter", "Raw segments uploaded and confirmed.", archive.segments_uploaded);
    metric(out, "sluice_archive_bytes_uploaded_total", "counter", "Bytes of raw segments uploaded.", archive.bytes_uploaded);
    metric(out, "sluice_archive_upload_failures_total", "counter", "Segment uploads that failed (retried with backoff).", archive.upload_failures);
    metric(out, "sluice_archive_request_retries_total", "counter", "S3 requests retried.", archive.request_retries);
    metric(out, "sluice_archive_pending_segments", "gauge", "Closed segments waiting for upload.", archive.pending_segments);
    metric(out, "sluice_archive_pending_bytes", "gauge", "Bytes of closed segments waiting for upload.", archive.pending_bytes);
    metric(out, "sluice_archive_at_risk_bytes", "gauge", "Pending bytes beyond archive.max_pending_bytes.", archive.at_risk_bytes);
  }
}

}  // namespace sluice::server
