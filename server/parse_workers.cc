#include "server/parse_workers.h"

#include <array>
#include <cstdio>

#include "parsers/json_event.h"
#include "parsers/syslog_parser.h"

namespace sluice::server {
namespace {

static_assert(simdjson::SIMDJSON_PADDING <= kRawBatchPaddingBytes,
              "raw batches must leave the padding simdjson reads");

struct InputTally {
  uint64_t stored = 0;
  uint64_t parse_failures = 0;
  uint64_t rejected = 0;
  uint64_t dropped_by_pipeline = 0;
};

}  // namespace

ParseWorkers::ParseWorkers(IngestQueue& queue, storage::EventStore& store, ServerMetrics& metrics,
                           const config::IngestOptions& options, const PipelineHolder& pipelines)
    : queue_(queue), store_(store), metrics_(metrics), options_(options), pipelines_(pipelines) {}

ParseWorkers::~ParseWorkers() { join(); }

void ParseWorkers::start(unsigned count) {
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < count; ++i) threads_.emplace_back([this] { run(); });
}

void ParseWorkers::join() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void ParseWorkers::run() noexcept {
  parsers::JsonEventParser json_parser;
  parsers::SyslogOptions syslog_options;
  syslog_options.default_utc_offset_seconds = options_.default_utc_offset_seconds;
  EventBatch events;
  BatchOutcome outcome;
  // The pipelines in force and this worker's state for them, refreshed
  // when a reload swapped the set.
  uint64_t pipelines_generation = ~uint64_t{0};
  std::shared_ptr<const parsers::PipelineSet> pipelines;
  std::unique_ptr<parsers::PipelineScratch> pipeline_scratch;

  while (std::unique_ptr<RawBatch> raw = queue_.pop()) {
    if (pipelines_.generation() != pipelines_generation) {
      pipelines_generation = pipelines_.generation();
      pipelines = pipelines_.get();
      pipeline_scratch = pipelines ? pipelines->make_scratch() : nullptr;
    }
    events.clear();
    outcome.rejected.clear();
    std::array<InputTally, kInputCount> tally{};

    for (uint32_t index = 0; index < raw->records.size(); ++index) {
      const RawRecord& record = raw->records[index];
      std::string_view frame = raw->frame(record);
      if (record.format == RecordFormat::kSyslog) {
        // Octet-counted senders (rsyslog's SyslogProtocol23Format,
        // syslog-ng's syslog()) end the counted body with a newline; like
        // rsyslog, it is not part of the message.
        while (!frame.empty() && (frame.back() == '\n' || frame.back() == '\r' || frame.back() == '\0')) {
          frame.remove_suffix(1);
        }
      }
      Event event;
      event.received_ns = record.received_ns;
      event.input = record.input;
      event.raw = frame;
      if (record.truncated) event.flags |= kFlagTruncated;
      event.first_field = static_cast<uint32_t>(events.fields.size());
      InputTally& counts = tally[static_cast<size_t>(record.input)];

      if (record.format == RecordFormat::kJson) {
        const size_t readable = raw->bytes.capacity() - record.offset;
        const std::string_view error = json_parser.parse(frame, readable, events, event);
        if (!error.empty()) {
          outcome.rejected.push_back({index, error});
          ++counts.rejected;
          continue;
        }
        if (event.timestamp_ns == 0) event.timestamp_ns = event.received_ns;
      } else {
        if (!parsers::parse_syslog_event(frame, syslog_options, events, event)) ++counts.parse_failures;
      }
      // A sender that names no host is known by its address, as rsyslog does.
      if (event.host.empty()) event.host = raw->peer(record);
      if (pipelines && pipelines->size() != 0) {
        parsers::EventContext context{event, events};
        const auto result = pipelines->run(context, *pipeline_scratch);
        if (result == parsers::PipelineSet::Outcome::kDropped) {
          events.fields.resize(event.first_field);
          ++counts.dropped_by_pipeline;
          continue;
        }
        if (result == parsers::PipelineSet::Outcome::kFailed && !(event.flags & kFlagParseFailure)) {
          event.flags |= kFlagParseFailure;
          ++counts.parse_failures;
        }
      }
      ++counts.stored;
      events.events.push_back(event);
    }
    if (pipelines) pipelines->publish_counts(*pipeline_scratch);

    const Status status = store_.append(events);
    outcome.stored_ok = status.is_ok();
    outcome.stored = status.is_ok() ? static_cast<uint32_t>(events.events.size()) : 0;
    if (status.is_ok()) {
      metrics_.batches_stored.add(1);
    } else {
      metrics_.store_errors.add(1);
      std::fprintf(stderr, "sluice: %s\n", status.message().c_str());
    }
    for (size_t i = 0; i < kInputCount; ++i) {
      PerInput& input = metrics_.input(static_cast<InputId>(i));
      if (tally[i].stored != 0) {
        if (status.is_ok()) {
          input.stored.add(tally[i].stored);
        } else {
          input.dropped[static_cast<size_t>(DropReason::kStoreError)].add(tally[i].stored);
        }
      }
      if (tally[i].parse_failures != 0) input.parse_failures.add(tally[i].parse_failures);
      if (tally[i].rejected != 0) input.rejected.add(tally[i].rejected);
      if (tally[i].dropped_by_pipeline != 0) {
        input.dropped[static_cast<size_t>(DropReason::kPipelineDrop)].add(tally[i].dropped_by_pipeline);
      }
    }
    if (raw->on_stored) raw->on_stored(outcome);
    queue_.release_batch(std::move(raw));
  }
}

}  // namespace sluice::server
