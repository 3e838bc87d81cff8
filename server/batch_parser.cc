#include "server/batch_parser.h"

namespace sluice::server {

static_assert(simdjson::SIMDJSON_PADDING <= kRawBatchPaddingBytes,
              "raw batches must leave the padding simdjson reads");

BatchParser::BatchParser(const config::IngestOptions& options, const PipelineHolder& pipelines)
    : pipelines_holder_(pipelines), json_parser_(options.json) {
  syslog_options_.default_utc_offset_seconds = options.default_utc_offset_seconds;
}

void BatchParser::parse(const RawBatch& raw, EventBatch& events, BatchOutcome& outcome, BatchTally& tally) {
  if (pipelines_holder_.generation() != pipelines_generation_) {
    pipelines_generation_ = pipelines_holder_.generation();
    pipelines_ = pipelines_holder_.get();
    pipeline_scratch_ = pipelines_ ? pipelines_->make_scratch() : nullptr;
  }
  events.clear();
  outcome.rejected.clear();
  tally = BatchTally{};

  for (uint32_t index = 0; index < raw.records.size(); ++index) {
    const RawRecord& record = raw.records[index];
    std::string_view frame = raw.frame(record);
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
      const size_t readable = raw.bytes.capacity() - record.offset;
      const std::string_view error = json_parser_.parse(frame, readable, events, event);
      if (!error.empty()) {
        ++counts.json_errors[static_cast<size_t>(json_parser_.last_error())];
        // JSON lines over TCP have no one to tell: like a syslog line that
        // does not parse, the line is kept as raw text, flagged. Inputs
        // that answer per record (HTTP) refuse it instead.
        if (record.input != InputId::kJsonTcp) {
          outcome.rejected.push_back({index, error});
          ++counts.rejected;
          continue;
        }
        event.message = frame;
        event.flags |= kFlagParseFailure;
        ++counts.parse_failures;
      }
      if (event.timestamp_ns == 0) event.timestamp_ns = event.received_ns;
    } else if (record.format == RecordFormat::kGelf) {
      // An invalid GELF object is kept as raw text, flagged and counted,
      // with the reason in field gelf_error (POST /gelf refuses it first).
      const size_t readable = raw.bytes.capacity() - record.offset;
      const std::string_view error = gelf_parser_.parse(frame, readable, events, event);
      if (!error.empty()) {
        parsers::mark_gelf_failure(frame, error, event, events);
        ++counts.parse_failures;
      }
      if (event.timestamp_ns == 0) event.timestamp_ns = event.received_ns;
    } else if (record.format == RecordFormat::kCollectd) {
      const size_t readable = raw.bytes.capacity() - record.offset;
      const std::string_view error = collectd_parser_.parse(frame, readable, events, event);
      if (!error.empty()) {
        outcome.rejected.push_back({index, error});
        ++counts.rejected;
        continue;
      }
      if (event.timestamp_ns == 0) event.timestamp_ns = event.received_ns;
    } else {
      if (!parsers::parse_syslog_event(frame, syslog_options_, events, event)) ++counts.parse_failures;
    }
    // A sender that names no host is known by its address, as rsyslog does.
    if (event.host.empty()) event.host = raw.peer(record);
    if (pipelines_ && pipelines_->size() != 0) {
      parsers::EventContext context{event, events};
      const auto result = pipelines_->run(context, *pipeline_scratch_);
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
  if (pipelines_) pipelines_->publish_counts(*pipeline_scratch_);
}

}  // namespace sluice::server
