#include "server/reindex.h"

#include <algorithm>
#include <filesystem>

#include "server/batch_parser.h"
#include "server/pipeline_holder.h"
#include "storage/event_store.h"
#include "storage/keys.h"
#include "storage/raw_log.h"

namespace sluice::server {

Expected<ReindexProgress> reindex(const config::ServerOptions& options, const ReindexRequest& request,
                                  const std::function<void(const ReindexProgress&)>& on_progress) {
  const bool local = request.source_dir.empty();
  const std::string source =
      local ? (std::filesystem::path(options.store.data_dir) / "raw").string() : request.source_dir;
  std::vector<std::string> problems;
  auto segments = storage::list_segments(source, nullptr, &problems);
  if (!segments) return segments.error().with_context("reindex: list " + source);
  ReindexProgress progress;
  int64_t min_received = std::numeric_limits<int64_t>::max(), max_received = std::numeric_limits<int64_t>::min();
  for (const storage::SegmentInfo& segment : *segments) {
    if (segment.frames == 0) continue;
    ++progress.segments_total;
    progress.bytes_total += segment.bytes;
    min_received = std::min(min_received, segment.min_received_ns);
    max_received = std::max(max_received, segment.max_received_ns);
  }
  if (request.from_ns != 0 || request.to_ns != 0) {
    progress.first_day = storage::partition_day_of(request.from_ns);
    progress.last_day = storage::partition_day_of(request.to_ns);
  } else if (progress.segments_total != 0) {
    progress.first_day = storage::partition_day_of(min_received) - 1;
    progress.last_day = storage::partition_day_of(max_received) + 1;
  } else {
    return Status::error("reindex: no raw segments in " + source);
  }

  PipelineHolder pipelines;
  auto built = parsers::PipelineSet::build(options.pipelines);
  if (!built) return built.error().with_context("reindex: pipelines");
  pipelines.set(std::move(built.value()));

  auto store = storage::EventStore::open(options.store);
  if (!store) {
    return store.error().with_context("reindex (is a server running on " + options.store.data_dir + "?)");
  }
  Status status = (*store)->drop_partitions(progress.first_day, progress.last_day);
  if (!status) return status.with_context("reindex");

  BatchParser parser(options.ingest, pipelines);
  RawBatch raw;
  EventBatch events, kept;
  BatchOutcome outcome;
  BatchTally tally;
  if (on_progress) on_progress(progress);
  for (const storage::SegmentInfo& segment : *segments) {
    if (segment.frames == 0) continue;
    auto reader = storage::RawSegmentReader::open(segment.path);
    if (!reader) return reader.error().with_context("reindex");
    uint64_t seq = 0;
    while (true) {
      auto more = reader->next(raw, seq);
      if (!more) return more.error().with_context("reindex");
      if (!*more) break;
      parser.parse(raw, events, outcome, tally);
      // Only the dropped days are rebuilt; the others keep what they hold.
      kept.clear();
      for (const Event& event : events.events) {
        const int64_t day = storage::partition_day_of(event.timestamp_ns);
        if (day < progress.first_day || day > progress.last_day) {
          ++progress.events_outside_range;
          continue;
        }
        Event copy = event;
        copy.first_field = static_cast<uint32_t>(kept.fields.size());
        const Field* fields = events.fields_of(event);
        kept.fields.insert(kept.fields.end(), fields, fields + event.field_count);
        kept.events.push_back(copy);
      }
      // Local frames keep their sequence numbers, so the store's replay
      // point stays true; frames from elsewhere (a restore) carry none.
      status = (*store)->append(kept, local ? seq : 0);
      if (!status) return status.with_context("reindex");
      ++progress.frames;
      progress.events += kept.events.size();
      status = (*store)->maintain();
      if (!status) return status.with_context("reindex");
    }
    ++progress.segments_done;
    progress.bytes_done += segment.bytes;
    if (on_progress) on_progress(progress);
  }
  status = (*store)->flush();
  if (!status) return status.with_context("reindex");
  return progress;
}

}  // namespace sluice::server
