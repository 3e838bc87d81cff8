// SegmentArchive: uploads closed raw segments to S3-compatible storage.
//
// Object layout under archive.prefix (P) for this server (archive.node, N):
//   P/raw/YYYY/MM/DD/N/HHMMSS-ID.slr    the segment file as written
//                                       (storage/raw_log.h), dated by its
//                                       first record's receive time (UTC)
//   P/manifest/N/ID.json                one manifest entry per segment:
//                                       key, size, sha256, record/frame
//                                       counts, seq and time ranges
// `sluice archive ls` lists the manifest; `restore` fetches the segments
// overlapping a time range, verifies their sha256, and writes them where
// `sluice reindex --source DIR` reads them.
//
// Segments wait on disk while the endpoint is down (retried with backoff);
// past archive.max_pending_bytes they are counted as at risk. A segment is
// "archived" once its upload is confirmed (HEAD size matches) — a local
// marker under <data_dir>/archive/ then lets raw retention delete it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/options.h"
#include "server/base/expected.h"
#include "storage/file_layer.h"
#include "storage/raw_log.h"

namespace sluice::storage {

struct ArchiveStats {
  uint64_t segments_uploaded = 0;
  uint64_t bytes_uploaded = 0;
  uint64_t upload_failures = 0;   // attempts of a whole segment that failed
  uint64_t request_retries = 0;   // S3 requests retried inside an attempt
  uint64_t pending_segments = 0;  // gauge
  uint64_t pending_bytes = 0;     // gauge
  uint64_t at_risk_bytes = 0;     // gauge: pending beyond max_pending_bytes
  int64_t last_upload_unix_ns = 0;
};

struct ManifestEntry {
  std::string key;  // of the segment object
  std::string node;
  uint64_t segment_id = 0;
  uint64_t bytes = 0;
  std::string sha256;
  uint64_t records = 0, frames = 0;
  uint64_t first_seq = 0, last_seq = 0;
  int64_t min_received_ns = 0, max_received_ns = 0;
};

class SegmentArchive {
 public:
  // `state_dir` keeps the upload markers (<data_dir>/archive).
  static Expected<std::unique_ptr<SegmentArchive>> open(const config::ArchiveOptions& options,
                                                        const std::string& state_dir, FileSystem* fs = nullptr);
  virtual ~SegmentArchive() = default;

  // Starts the uploader thread.
  virtual void start() = 0;
  // Queues a closed segment (thread-safe; from the raw log's close callback
  // and, at start, for every closed segment not yet archived).
  virtual void enqueue(const SegmentInfo& segment) = 0;
  virtual bool is_archived(uint64_t segment_id) const = 0;
  // Uploads what is queued until done or `deadline_monotonic_ns`, then
  // stops the thread. Returns an error naming what is left if time ran out.
  virtual Status drain(int64_t deadline_monotonic_ns) = 0;
  virtual ArchiveStats stats() const = 0;
};

// Object key of a segment (see the layout above).
std::string archive_segment_key(const config::ArchiveOptions& options, const std::string& node,
                                const SegmentInfo& segment);
// archive.node, or the host name when empty.
std::string archive_node_name(const config::ArchiveOptions& options);

// Every manifest entry under the prefix (all nodes), sorted by time.
Expected<std::vector<ManifestEntry>> list_archive(const config::ArchiveOptions& options);
// Downloads the segments overlapping [from_ns, to_ns] into `to_dir`,
// verifying each one's sha256; `progress(done, total)` after each.
Expected<std::vector<ManifestEntry>> restore_archive(const config::ArchiveOptions& options, int64_t from_ns,
                                                     int64_t to_ns, const std::string& to_dir,
                                                     const std::function<void(size_t, size_t)>& progress);

}  // namespace sluice::storage
