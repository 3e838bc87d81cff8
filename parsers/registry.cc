#include "parsers/registry.h"

#include "parsers/date_processor.h"
#include "parsers/drop_processor.h"
#include "parsers/grok_patterns.h"
#include "parsers/grok_processor.h"
#include "parsers/json_processor.h"
#include "parsers/kv_processor.h"
#include "parsers/mutate_processor.h"

namespace sluice::parsers {

const std::vector<ProcessorKind>& processor_kinds() {
  static const std::vector<ProcessorKind> kKinds = {
      {"grok", [](const config::ProcessorSpec& s) { return GrokProcessor::create(s.grok, PatternLibrary::builtin()); }},
      {"kv", [](const config::ProcessorSpec& s) { return KvProcessor::create(s.kv); }},
      {"json", [](const config::ProcessorSpec& s) { return JsonProcessor::create(s.json); }},
      {"date", [](const config::ProcessorSpec& s) { return DateProcessor::create(s.date); }},
      {"mutate", [](const config::ProcessorSpec& s) { return MutateProcessor::create(s.mutate); }},
      {"drop", [](const config::ProcessorSpec& s) { return DropProcessor::create(s.drop); }},
  };
  return kKinds;
}

}  // namespace sluice::parsers
