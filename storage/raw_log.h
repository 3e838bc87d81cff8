// The raw segment log: every accepted RawBatch, as received, before parsing.
//
// It is the write-ahead log (acknowledgements wait for its fsync), the source
// the search store is rebuilt from after a crash or on `reindex`, and the unit
// that is archived (closed segments go to S3).
//
// Segment file layout, format version 2 (kRawSegmentFormatVersion; version 1
// is still read). All integers little-endian.
//
//   file header, 16 bytes:
//     magic "SLUICERW" (8 bytes) | format version u32 | reserved u32 (0)
//   then frames, each:
//     frame header, 44 bytes:
//       magic u32 0x52464C53 ("SLFR" on disk) | payload_length u32 |
//       uncompressed_length u32 | record_count u32 | frame_seq u64 |
//       min_received_ns i64 | max_received_ns i64 |
//       crc32c u32 — CRC-32C of the 40 header bytes before it, continued
//                    over the payload
//     payload: payload_length bytes
//
//   Version 2 payload: two zstd frames (each with its content size; their
//   content sizes add up to uncompressed_length):
//     the record table, per record, record_count times:
//       zigzag varint of received_ns minus the previous record's (the
//       first record's: minus 0) | input u8 (InputId) |
//       format u8 (RecordFormat) | flags u8 (bit 0: truncated; others 0) |
//       peer varint: 0 = the previous record's peer (never the first's),
//       else the peer's length + 1 | frame_length varint
//     the bytes: per record in turn, its peer's bytes if it has a new one,
//       then its frame's bytes.
//   The bytes are the batch's buffer as the inputs filled it, compressed
//   where it lies; the table holds what varies little. Version 1 had the
//   fixed fields and the peer in front of every frame, all in one zstd frame.
//
//   Version 1 payload: one zstd frame of, per record, record_count times:
//     received_ns i64 | input u8 (InputId) | format u8 (RecordFormat) |
//     flags u8 (bit 0: truncated; others 0) |
//     peer_length varint | peer bytes | frame_length varint | frame bytes
//   (varint: LEB128, 7 bits a byte, low bits first; zigzag: (v << 1) ^ (v >> 63))
//
// Names: `<id as 16 lowercase hex digits>.open` while being written, renamed
// to `<id>.seg` once complete and fsynced, so a `.seg` is always whole and
// only `.open` files need recovery. Segment ids increase by one per segment
// (starting at 1); frame_seq increases by one per frame (starting at 1) across
// all segments of the directory. Both are derived from the segments present
// when the writer opens: whoever deletes archived segments must keep the
// newest one, or ids and seqs start over.
//
// A frame is one RawBatch: one write, one CRC. A torn or
// corrupt frame ends a segment's readable part — recovery truncates there,
// losing the frames after it in that segment (they were behind a bad one and
// cannot be trusted to be in order).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "server/base/expected.h"
#include "server/base/raw_batch.h"
#include "server/base/status.h"
#include "storage/file_layer.h"

struct ZSTD_DCtx_s;

namespace sluice::storage {

constexpr uint32_t kRawSegmentFormatVersion = 2;  // written; 1 and 2 are read
constexpr size_t kRawSegmentHeaderBytes = 16;
constexpr size_t kRawFrameHeaderBytes = 44;
constexpr uint32_t kRawFrameMagic = 0x52464C53;

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as iSCSI and ext4
// use it: crc32c("123456789") == 0xE3069283. Table-driven, 8 bytes a step.
// crc32c_extend(crc32c(a), b) == crc32c(a + b).
uint32_t crc32c(std::string_view data);
uint32_t crc32c_extend(uint32_t crc, std::string_view data);
// crc32c(a + b) from crc32c(a), crc32c(b) and b's length, without b's bytes:
// lets the payload's CRC be computed outside the commit lock, before the
// header (which holds the frame_seq) exists.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);

enum class FsyncPolicy {
  kAlways,  // fsync whenever unsynced frames exist; frames committed during an fsync share the next
  kInterval,  // fsync at most every fsync_interval_ms
};

struct SegmentInfo {
  uint64_t id = 0;
  std::string path;
  bool closed = false;  // `.seg`, not `.open`
  uint64_t bytes = 0;   // file size
  uint64_t frames = 0, records = 0;
  uint64_t first_seq = 0, last_seq = 0;  // 0, 0 without frames
  int64_t min_received_ns = 0, max_received_ns = 0;
};

struct RawLogOptions {
  std::string dir;  // e.g. <data_dir>/raw; created if missing
  // A segment is the unit of archive upload and of reindex work: large enough
  // that per-object S3 costs stay small, small enough that a crash recovery or
  // an upload retry redoes little.
  uint64_t segment_max_bytes = 256ull << 20;
  // Bounds how long received data waits before it can be archived.
  int64_t segment_max_age_ns = 3600ll * 1000000000;
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  uint32_t fsync_interval_ms = 1000;  // kInterval only
  // zstd level 1: raw syslog compresses well already at the fastest level,
  // and this runs once per batch on the ingest path.
  int zstd_level = 1;
  FileSystem* fs = nullptr;  // null: default_file_system(); must outlive the writer
  std::function<int64_t()>
      now_ns;  // wall clock for segment age; null: wall_now_ns. Called under the writer's lock.
  // Initial value of set_on_segment_closed(): open() is static, so this is the
  // only way to hear about the segments it recovers.
  std::function<void(const SegmentInfo&)> on_segment_closed;
  // Frame seqs start at least here (the store passes the first seq it has
  // not seen), besides following every seq found on disk.
  uint64_t min_next_seq = 0;
};

struct RecoveryReport {
  uint64_t segments_recovered = 0;  // `.open` segments renamed to `.seg`
  uint64_t frames_recovered = 0;    // frames in them
  uint64_t bytes_discarded = 0;     // torn or corrupt tails cut off
  // Each "<path>: offset N: <reason>, discarded M bytes"; reasons include
  // "bad CRC", "incomplete frame", "bad frame magic".
  std::vector<std::string> problems;
};

// A frame compressed outside any lock, then committed in order. Reused: its
// buffer keeps its capacity across prepare() calls.
struct PreparedFrame {
  std::string bytes;  // frame header (seq and CRC filled at commit) + payload
  uint32_t records = 0;
  int64_t min_received_ns = 0, max_received_ns = 0;
  uint32_t payload_crc = 0;  // crc32c of the payload alone, combined at commit
};

// Appends frames to the current segment, rotates segments, and fsyncs on its
// own sync thread (group commit).
//
// Thread-safe. Callbacks (when_durable, on_segment_closed) must not throw —
// they run on threads with nothing to catch an exception (std::terminate) —
// must not block for long, and must not call close() or the destructor.
class RawLogWriter {
 public:
  // Creates the directory if needed. Recovers `.open` segments left by a
  // crash: validates their frames (CRC included), truncates each at its first
  // bad or incomplete frame (reporting it in `report`, which may be null),
  // renames it to `.seg` (or removes it if no frame survives) and reports it
  // through options.on_segment_closed. The next frame_seq follows the highest
  // found in any segment. Then starts the sync thread. Fails on IO errors and
  // on segments of an unknown format version, which it leaves alone.
  static Expected<std::unique_ptr<RawLogWriter>> open(RawLogOptions options,
                                                      RecoveryReport* report);
  ~RawLogWriter();  // close(), ignoring its error

  RawLogWriter(const RawLogWriter&) = delete;
  RawLogWriter& operator=(const RawLogWriter&) = delete;

  // Thread-safe, takes no lock: encodes and zstd-compresses `batch` into
  // `out`, reusing out's capacity and a per-thread zstd context and encode
  // buffer, so it allocates nothing once they have grown. Fails only if the
  // batch exceeds the format's 4 GiB frame limit or zstd fails.
  Status prepare(const RawBatch& batch, PreparedFrame& out) const;

  // Appends `frame` (from prepare()) to the current segment in one write,
  // first closing the segment if the frame would push it past
  // segment_max_bytes or it is older than segment_max_age_ns, and opening one
  // if none is open. Returns the frame's frame_seq. Serialized by an internal
  // mutex; callers may hold their own lock around it to make their order the
  // frame order. The file write happens under that mutex; fsyncs do not,
  // except the one that closes a segment.
  // On a write error (disk full) the partial frame is cut off again, so the
  // segment stays valid, and the error is returned; the seq is not used and
  // later commits try again. If even the cut fails, the segment is set aside
  // as `.open` (recovered at the next open()) and the next commit starts a
  // new one.
  Expected<uint64_t> commit(PreparedFrame& frame);

  // Runs `callback(status)` once an fsync covers frame `seq`: on the sync
  // thread, or at once on the caller's thread if that has already happened.
  // If the fsync that was to cover it fails, the callback gets that error
  // (the frame may be lost; the client should resend). Callbacks still
  // pending at close() run then, with an error if their frame never became
  // durable.
  void when_durable(uint64_t seq, std::function<void(const Status&)> callback);

  // Fsyncs now, on the caller's thread; when it returns OK, everything
  // committed before the call is durable.
  Status sync();
  // Closes the current segment if it has frames: fsync, rename .open → .seg.
  Status rotate();
  // Closes the segment that is due by age, if any. Age rotation must happen
  // without traffic too: the server calls this every second.
  Status rotate_if_due();
  // rotate(), stop the sync thread, fire the pending callbacks. Later commits
  // fail. Returns the rotation's status; calls after the first return OK.
  Status close();
  // Test only: a crash. Stops the sync thread and closes the file without
  // fsync or rename, leaving an `.open` segment for the next open() to
  // recover. Pending callbacks get an error. The writer is then closed.
  void abandon_for_test();

  // Called for each segment closed by rotate/rotate_if_due/close/commit, on
  // the thread that closed it, never under the writer's lock.
  void set_on_segment_closed(std::function<void(const SegmentInfo&)> callback);

  uint64_t last_committed_seq() const { return committed_seq_.load(std::memory_order_acquire); }
  // Highest seq covered by a successful fsync. After an fsync error, frames
  // whose callbacks got that error may be lost even if a later fsync (which
  // moves this past them) succeeds: Linux may drop dirty pages on error.
  uint64_t last_durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }

  struct Stats {
    uint64_t frames = 0, records = 0, bytes_written = 0, fsyncs = 0, write_errors = 0,
             sync_errors = 0, segments_closed = 0;
    uint64_t fsync_ns_total = 0;
  };
  Stats stats() const;  // cheap: relaxed atomic loads

 private:
  using DurableCallback = std::function<void(const Status&)>;

  explicit RawLogWriter(RawLogOptions options);

  // All *_locked functions run under mutex_. Segments they close are added to
  // `closed` for report_closed() after the lock is released.
  Status open_segment_locked();
  Status rotate_locked(std::vector<SegmentInfo>& closed);
  bool due_by_age_locked(int64_t now) const;
  void set_aside_segment_locked();
  Expected<uint64_t> commit_locked(PreparedFrame& frame, std::vector<SegmentInfo>& closed);
  void report_closed(const std::vector<SegmentInfo>& closed);

  // file.sync(), counted and timed in the stats.
  Status timed_sync(WritableFile& file);
  // Fsyncs the current file (or nothing, if every frame is in a closed
  // segment) and records the result for frames up to the last committed.
  Status sync_current();
  // Records that an fsync covering frames up to `seq` ended with `status`
  // and hands the callbacks it settles to the sync thread.
  void mark_synced(uint64_t seq, const Status& status);
  void notify_sync_thread();
  void sync_loop() noexcept;
  void stop_sync_thread();
  void fire_remaining(const Status& status);

  const RawLogOptions options_;
  FileSystem& fs_;
  std::function<int64_t()> now_ns_;

  // Guards the current segment. The file is shared with the sync thread,
  // which copies the pointer under the lock and fsyncs without it; the file
  // closes when the last holder lets go, so a rotation never closes a
  // descriptor that an fsync is about to use.
  mutable std::mutex mutex_;
  std::shared_ptr<WritableFile> file_;
  SegmentInfo segment_;                 // the current one, when file_ is set
  int64_t segment_first_frame_ns_ = 0;  // its age counts from its first frame
  uint64_t next_id_ = 1;
  uint64_t next_seq_ = 1;
  bool closed_ = false;

  // Guards the durability state and the callbacks. Order: mutex_ before
  // sync_mutex_, never the other way.
  std::mutex sync_mutex_;
  std::condition_variable sync_wakeup_;
  std::multimap<uint64_t, DurableCallback> waiting_;       // by seq
  std::vector<std::pair<DurableCallback, Status>> ready_;  // settled, for the sync thread to run
  uint64_t attempted_seq_ = 0;       // highest seq an fsync has tried to cover
  uint64_t failed_through_seq_ = 0;  // frames in (durable, this] met a failed fsync
  Status last_sync_error_;
  bool stop_ = false;
  int64_t last_sync_start_ns_ = 0;  // monotonic, for kInterval
  std::thread sync_thread_;

  std::mutex callback_mutex_;
  std::function<void(const SegmentInfo&)> on_segment_closed_;

  std::atomic<uint64_t> committed_seq_{0};
  std::atomic<uint64_t> durable_seq_{0};
  std::atomic<uint64_t> frames_{0}, records_{0}, bytes_written_{0}, fsyncs_{0}, write_errors_{0},
      sync_errors_{0}, segments_closed_{0}, fsync_ns_total_{0};
};

// Every segment in `dir` (`.open` and `.seg`), sorted by id, with its info.
// Reads frame headers only — no decompression, no CRC check — so it is cheap
// but trusts payloads. A bad or torn tail ends a segment's info there and is
// reported in `problems` ("<path>: offset N: <reason>, M bytes unreadable"),
// not as an error; IO errors and unknown format versions are errors. While a
// writer is active, the tail of its `.open` segment may be a frame being
// written: a problem there is not corruption.
//
// A `.seg` does not change once closed, and an `.open` one only grows, so a
// caller that lists a directory often (the sink's maintenance, every
// second) passes a cache: a closed segment's frame headers are then read
// once (later listings check only its size), and an open segment's are
// read from where the last listing stopped. Segments no longer in the
// directory leave the cache.
struct SegmentInfoCache {
  std::map<uint64_t, SegmentInfo> closed;  // by id; segments read without a problem
  // By id: what the frames up to an offset (the end of a good frame) gave.
  std::map<uint64_t, std::pair<SegmentInfo, uint64_t>> open;
};
Expected<std::vector<SegmentInfo>> list_segments(const std::string& dir, FileSystem* fs = nullptr,
                                                 std::vector<std::string>* problems = nullptr,
                                                 SegmentInfoCache* cache = nullptr);

// Reads one segment file from the start, frame by frame. Reads up to the size
// the file had when opened, so it may read an `.open` segment being written
// (whose last frame may then be incomplete: an error at that end is not
// corruption).
// Thread: one at a time.
class RawSegmentReader {
 public:
  // Checks the file header (magic, version).
  static Expected<RawSegmentReader> open(const std::string& path, FileSystem* fs = nullptr);
  RawSegmentReader(RawSegmentReader&&) noexcept;
  RawSegmentReader& operator=(RawSegmentReader&&) noexcept;
  ~RawSegmentReader();

  // Reads the next frame into `batch` (cleared first; records rebuilt with
  // their frame and peer bytes; bytes capacity reserved for
  // kRawBatchPaddingBytes past the end, as parsers expect) and its seq into
  // `frame_seq`. Returns false at the clean end. A corrupt or torn frame
  // returns an error naming the path, offset and reason; after that next()
  // returns false.
  Expected<bool> next(RawBatch& batch, uint64_t& frame_seq);
  uint64_t offset() const { return offset_; }  // of the next frame

 private:
  RawSegmentReader(FileSystem& fs, std::string path, uint64_t size);
  // A frame's checked payload into `batch`, by the segment's version; the
  // error says what is wrong (next() adds the path and offset).
  Status decode_v1_payload(std::string_view payload, uint32_t uncompressed_length, uint32_t record_count,
                           RawBatch& batch);
  Status decode_v2_payload(std::string_view payload, uint32_t uncompressed_length, uint32_t record_count,
                           RawBatch& batch);

  FileSystem* fs_;
  std::string path_;
  uint64_t size_;
  uint64_t offset_ = kRawSegmentHeaderBytes;
  uint64_t last_seq_ = 0;
  uint32_t version_ = kRawSegmentFormatVersion;
  bool done_ = false;
  std::string window_;  // bytes read ahead
  uint64_t window_offset_ = 0;
  std::string uncompressed_;
  ZSTD_DCtx_s* dctx_ = nullptr;
};

}  // namespace sluice::storage
