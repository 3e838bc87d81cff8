// Reindex: rebuilds store partitions from raw segments with the current
// config (e.g. after changing grok patterns). `sluice reindex` runs it with
// the server stopped (the store is locked while a server runs).
//
// The partitions of the days in [from, to] are dropped, then every frame of
// the source segments is parsed again through the pipelines and its events
// of those days are stored. Without a range, the days the source segments'
// receive times span (one day of slack either side, for events whose own
// time differs) are rebuilt.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "config/options.h"
#include "server/base/expected.h"

namespace sluice::server {

struct ReindexRequest {
  std::string source_dir;  // "": <data_dir>/raw
  int64_t from_ns = 0;     // both 0: derived from the segments
  int64_t to_ns = 0;
};

struct ReindexProgress {
  uint64_t segments_total = 0, segments_done = 0;
  uint64_t bytes_total = 0, bytes_done = 0;
  uint64_t frames = 0, events = 0, events_outside_range = 0;
  int64_t first_day = 0, last_day = 0;
};

Expected<ReindexProgress> reindex(const config::ServerOptions& options, const ReindexRequest& request,
                                  const std::function<void(const ReindexProgress&)>& on_progress);

}  // namespace sluice::server
