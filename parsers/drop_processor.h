// drop: drops the event. Which events is the processor's condition (`if:`),
// applied by the pipeline runner before calling process(); this processor
// only answers kDrop.
#pragma once

#include <memory>

#include "config/pipeline_options.h"
#include "parsers/processor.h"
#include "server/base/expected.h"

namespace sluice::parsers {

// Thread-safe: stateless.
class DropProcessor final : public Processor {
 public:
  // Never fails; Expected for symmetry with the other processors.
  static Expected<std::unique_ptr<Processor>> create(const config::DropOptions& options);

  std::unique_ptr<Scratch> make_scratch() const override { return std::make_unique<NoScratch>(); }
  ProcessResult process(EventContext&, Scratch&) const override { return ProcessResult::kDrop; }
  std::string_view kind() const override { return "drop"; }
};

}  // namespace sluice::parsers
