#include "parsers/pipeline.h"

#include <unordered_map>

#include "parsers/registry.h"
#include "server/base/raw_batch.h"

namespace sluice::parsers {

// How deep on_failure routing may chain: a route back to an earlier
// pipeline must not loop forever.
constexpr int kMaxRouteDepth = 4;

struct PipelineSet::Step {
  std::unique_ptr<Processor> processor;
  std::unique_ptr<Condition> condition;  // null: always
  std::string label;                     // "grok#1"
  mutable std::atomic<uint64_t> failures{0};
};

struct PipelineSet::Pipeline {
  std::string name;
  uint32_t input_mask = 0;               // bit per InputId; 0 = every input
  std::unique_ptr<Condition> condition;  // null: every event of those inputs
  std::vector<std::unique_ptr<Step>> steps;
  int on_failure = -1;                   // index of the pipeline to route to; -1 = tag
};


namespace {

std::string at(const config::Position& position, std::string_view message) {
  return position.to_string() + ": " + std::string(message);
}

Expected<std::unique_ptr<Condition>> compile_condition(const config::Located<std::string>& text) {
  if (text.value.empty()) return std::unique_ptr<Condition>();
  auto compiled = Condition::compile(text.value);
  if (!compiled) return Status::error(at(text.position, "condition: " + compiled.error().message()));
  return std::make_unique<Condition>(std::move(compiled.value()));
}

}  // namespace

PipelineSet::~PipelineSet() = default;

size_t PipelineSet::size() const { return pipelines_.size(); }

std::vector<std::string> PipelineSet::check(const std::vector<config::PipelineSpec>& specs) {
  std::vector<std::string> errors;
  std::unordered_map<std::string, size_t> index_of;
  for (size_t i = 0; i < specs.size(); ++i) index_of.emplace(specs[i].name, i);
  for (const config::PipelineSpec& spec : specs) {
    for (const std::string& input : spec.inputs) {
      bool known = false;
      for (size_t id = 0; id < kInputCount; ++id) known |= input_name(static_cast<InputId>(id)) == input;
      if (!known) errors.push_back(at(spec.position, "pipeline " + spec.name + ": unknown input '" + input + "'"));
    }
    if (auto condition = compile_condition(spec.condition); !condition) {
      errors.push_back(condition.error().message());
    }
    const std::string& route = spec.on_failure.value;
    if (route != "tag" && index_of.find(route) == index_of.end()) {
      errors.push_back(at(spec.on_failure.position,
                          "on_failure: no pipeline named '" + route + "' (or 'tag')"));
    }
    for (const config::ProcessorSpec& processor : spec.processors) {
      if (auto condition = compile_condition(processor.condition); !condition) {
        errors.push_back(condition.error().message());
      }
      const ProcessorKind* kind = nullptr;
      for (const auto& candidate : processor_kinds()) {
        if (candidate.kind == processor.kind) kind = &candidate;
      }
      if (kind == nullptr) {
        errors.push_back(at(processor.position, "unknown processor '" + processor.kind + "'"));
        continue;
      }
      if (auto built = kind->create(processor); !built) errors.push_back(built.error().message());
    }
  }
  return errors;
}

Expected<std::shared_ptr<const PipelineSet>> PipelineSet::build(const std::vector<config::PipelineSpec>& specs) {
  std::vector<std::string> errors = check(specs);
  if (!errors.empty()) return Status::error(errors.front());
  std::shared_ptr<PipelineSet> set(new PipelineSet());
  std::unordered_map<std::string, size_t> index_of;
  for (size_t i = 0; i < specs.size(); ++i) index_of.emplace(specs[i].name, i);
  for (const config::PipelineSpec& spec : specs) {
    Pipeline& pipeline = set->pipelines_.emplace_back();
    pipeline.name = spec.name;
    for (const std::string& input : spec.inputs) {
      for (size_t id = 0; id < kInputCount; ++id) {
        if (input_name(static_cast<InputId>(id)) == input) pipeline.input_mask |= 1u << id;
      }
    }
    pipeline.condition = std::move(compile_condition(spec.condition).value());
    pipeline.on_failure = spec.on_failure.value == "tag" ? -1 : static_cast<int>(index_of[spec.on_failure.value]);
    size_t position = 0;
    for (const config::ProcessorSpec& processor : spec.processors) {
      auto step = std::make_unique<Step>();
      for (const auto& kind : processor_kinds()) {
        if (kind.kind == processor.kind) step->processor = std::move(kind.create(processor).value());
      }
      step->condition = std::move(compile_condition(processor.condition).value());
      step->label = processor.kind + "#" + std::to_string(++position);
      pipeline.steps.push_back(std::move(step));
    }
  }
  return std::shared_ptr<const PipelineSet>(std::move(set));
}

std::unique_ptr<PipelineScratch> PipelineSet::make_scratch() const {
  auto scratch = std::make_unique<PipelineScratch>();
  for (const Pipeline& pipeline : pipelines_) {
    scratch->pipeline_conditions.push_back(pipeline.condition ? pipeline.condition->make_scratch() : nullptr);
    auto& processors = scratch->processors.emplace_back();
    auto& conditions = scratch->step_conditions.emplace_back();
    for (const auto& step : pipeline.steps) {
      processors.push_back(step->processor->make_scratch());
      conditions.push_back(step->condition ? step->condition->make_scratch() : nullptr);
    }
    scratch->failures.emplace_back(pipeline.steps.size(), 0);
  }
  return scratch;
}

PipelineSet::Outcome PipelineSet::run(EventContext& context, PipelineScratch& scratch) const {
  const uint32_t input_bit = 1u << static_cast<uint32_t>(context.event.input);
  for (size_t i = 0; i < pipelines_.size(); ++i) {
    const Pipeline& pipeline = pipelines_[i];
    if (pipeline.input_mask != 0 && (pipeline.input_mask & input_bit) == 0) continue;
    if (pipeline.condition && !pipeline.condition->evaluate(context, *scratch.pipeline_conditions[i])) continue;
    return run_pipeline(i, context, scratch, 0);
  }
  return Outcome::kUnmatched;
}

PipelineSet::Outcome PipelineSet::run_pipeline(size_t index, EventContext& context, PipelineScratch& scratch,
                                               int depth) const {
  const Pipeline& pipeline = pipelines_[index];
  for (size_t s = 0; s < pipeline.steps.size(); ++s) {
    const Step& step = *pipeline.steps[s];
    if (step.condition && !step.condition->evaluate(context, *scratch.step_conditions[index][s])) continue;
    const ProcessResult result = step.processor->process(context, *scratch.processors[index][s]);
    if (result == ProcessResult::kDrop) return Outcome::kDropped;
    if (result == ProcessResult::kFailed) {
      ++scratch.failures[index][s];
      if (pipeline.on_failure >= 0 && depth < kMaxRouteDepth) {
        return run_pipeline(static_cast<size_t>(pipeline.on_failure), context, scratch, depth + 1);
      }
      return Outcome::kFailed;
    }
  }
  return Outcome::kOk;
}

void PipelineSet::publish_counts(PipelineScratch& scratch) const {
  for (size_t p = 0; p < pipelines_.size(); ++p) {
    for (size_t s = 0; s < pipelines_[p].steps.size(); ++s) {
      uint64_t& count = scratch.failures[p][s];
      if (count != 0) {
        pipelines_[p].steps[s]->failures.fetch_add(count, std::memory_order_relaxed);
        count = 0;
      }
    }
  }
}

std::vector<PipelineSet::FailureCount> PipelineSet::failure_counts() const {
  std::vector<FailureCount> counts;
  for (const Pipeline& pipeline : pipelines_) {
    for (const auto& step : pipeline.steps) {
      counts.push_back({pipeline.name, step->label, step->failures.load(std::memory_order_relaxed)});
    }
  }
  return counts;
}

}  // namespace sluice::parsers
