// BatchParser: one raw batch in, its events out — the parsing a worker does,
// shared by the parse workers, crash replay and `sluice reindex`, so a
// replayed or reindexed record becomes exactly the event live ingest makes.
//
// Holds per-thread state (simdjson parser, pipeline scratch): one per thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "config/options.h"
#include "parsers/collectd_event.h"
#include "parsers/gelf.h"
#include "parsers/json_event.h"
#include "parsers/pipeline.h"
#include "parsers/syslog_parser.h"
#include "server/base/event.h"
#include "server/pipeline_holder.h"

namespace sluice::server {

struct InputTally {
  uint64_t stored = 0;
  uint64_t parse_failures = 0;
  uint64_t rejected = 0;
  uint64_t dropped_by_pipeline = 0;
  // JSON records that failed to parse, by parsers::JsonError.
  std::array<uint32_t, parsers::kJsonErrorCount> json_errors{};
};
using BatchTally = std::array<InputTally, kInputCount>;

class BatchParser {
 public:
  BatchParser(const config::IngestOptions& options, const PipelineHolder& pipelines);

  // Clears `events`, `tally` and `outcome.rejected`, then parses every record
  // of `raw` through the pipelines in force. Records refused (invalid JSON)
  // are listed in outcome.rejected; dropped ones are only counted.
  void parse(const RawBatch& raw, EventBatch& events, BatchOutcome& outcome, BatchTally& tally);

 private:
  const PipelineHolder& pipelines_holder_;
  parsers::JsonEventParser json_parser_;
  parsers::GelfParser gelf_parser_;
  parsers::CollectdParser collectd_parser_;  // RecordFormat::kCollectd
  parsers::SyslogOptions syslog_options_;
  // The pipelines in force and this thread's state for them, refreshed
  // when a reload swapped the set.
  uint64_t pipelines_generation_ = ~uint64_t{0};
  std::shared_ptr<const parsers::PipelineSet> pipelines_;
  std::unique_ptr<parsers::PipelineScratch> pipeline_scratch_;
};

}  // namespace sluice::server
