// The explicit table of processor kinds: one line per kind, no static
// registration magic. Building is validate-then-construct.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "config/pipeline_options.h"
#include "parsers/processor.h"
#include "server/base/expected.h"

namespace sluice::parsers {

using ProcessorFactory = Expected<std::unique_ptr<Processor>> (*)(const config::ProcessorSpec& spec);

struct ProcessorKind {
  std::string_view kind;  // as written in the config: grok, kv, json, date, mutate, drop
  ProcessorFactory create;
};

const std::vector<ProcessorKind>& processor_kinds();

}  // namespace sluice::parsers
