// PipelineSet: the pipelines of the config, built and ready to run.
//
// Built once from validated specs (every grok pattern, regex and condition
// compiled; every error carries its "FILE:LINE:COL"), then immutable and
// shared by all parse workers; a SIGHUP builds a new set and swaps it in.
// Each worker keeps a PipelineScratch per set for per-thread state.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/pipeline_options.h"
#include "parsers/condition.h"
#include "parsers/processor.h"
#include "server/base/expected.h"

namespace sluice::parsers {

// A worker's state for one PipelineSet, made by PipelineSet::make_scratch().
// Thread: one worker.
class PipelineScratch {
 public:
  // [pipeline][step]: each processor's and condition's per-thread state.
  std::vector<std::vector<std::unique_ptr<Scratch>>> processors;
  std::vector<std::vector<std::unique_ptr<ConditionScratch>>> step_conditions;
  std::vector<std::unique_ptr<ConditionScratch>> pipeline_conditions;
  std::vector<std::vector<uint64_t>> failures;
};

class PipelineSet {
 public:
  // Builds every pipeline; the first error is returned. All errors of a
  // config are reported by check_pipelines().
  static Expected<std::shared_ptr<const PipelineSet>> build(const std::vector<config::PipelineSpec>& specs);

  // Every error of the specs, one "FILE:LINE:COL: message" each; empty if
  // the specs build.
  static std::vector<std::string> check(const std::vector<config::PipelineSpec>& specs);

  ~PipelineSet();

  std::unique_ptr<PipelineScratch> make_scratch() const;

  enum class Outcome : uint8_t {
    kUnmatched,  // no pipeline takes this event: stored as parsed
    kOk,         // a pipeline ran to the end
    kFailed,     // a processor failed; the event is tagged _parse_failure and kept
    kDropped,    // a drop processor matched: the event is not stored
  };
  // Runs the first pipeline whose inputs and condition match the event.
  Outcome run(EventContext& context, PipelineScratch& scratch) const;

  // Adds the failure counts gathered in `scratch` to this set's counters
  // and resets them: once per batch, so counting costs no atomics per event.
  void publish_counts(PipelineScratch& scratch) const;

  struct FailureCount {
    std::string pipeline;
    std::string processor;  // "grok#1": kind and 1-based position
    uint64_t failures;
  };
  std::vector<FailureCount> failure_counts() const;

  size_t size() const;

 private:
  struct Step;
  struct Pipeline;
  PipelineSet() = default;
  Outcome run_pipeline(size_t index, EventContext& context, PipelineScratch& scratch, int depth) const;

  std::vector<Pipeline> pipelines_;
};

}  // namespace sluice::parsers
