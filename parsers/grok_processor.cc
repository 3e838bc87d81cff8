#include "parsers/grok_processor.h"

#include <algorithm>

namespace sluice::parsers {
namespace {

std::string where(const config::Position &position) {
  if (position.file.empty() && position.line == 0)
    return "<built-in>";
  return position.file + ":" + std::to_string(position.line) + ":" +
         std::to_string(position.column);
}

bool is_slot_name(std::string_view name) {
  return name == "message" || name == "host" || name == "app";
}

class GrokScratch final : public Scratch {
public:
  std::vector<GrokMatcher> matchers;
};

} // namespace

Expected<std::unique_ptr<Processor>>
GrokProcessor::create(const config::GrokOptions &options,
                      const PatternLibrary &base) {
  if (options.patterns.empty())
    return Status::error("grok: at least one pattern is required");
  PatternLibrary library = base;
  for (const auto &dir : options.patterns_dirs) {
    if (Status s = library.load_file(dir.value); !s) {
      return Status::error(where(dir.position) + ": grok: " + s.message());
    }
  }
  for (const auto &[name, definition] : options.pattern_definitions) {
    library.set(name, definition.value);
  }
  // A custom definition that does not compile is reported where it was
  // written, not at each pattern that uses it.
  for (const auto &[name, definition] : options.pattern_definitions) {
    auto compiled = GrokPattern::compile(definition.value, library);
    if (!compiled) {
      return Status::error(where(definition.position) +
                           ": grok: pattern_definitions " + name + ": " +
                           compiled.error().message());
    }
  }

  std::unique_ptr<GrokProcessor> processor(new GrokProcessor());
  processor->source_ = options.source;
  for (const auto &located : options.patterns) {
    auto compiled = GrokPattern::compile(located.value, library);
    if (!compiled) {
      return Status::error(where(located.position) +
                           ": grok: " + compiled.error().message());
    }
    Compiled entry{std::move(compiled).value(), {}, {}};
    for (const GrokCapture &capture : entry.pattern.captures()) {
      const bool overwrite =
          std::find(options.overwrite.begin(), options.overwrite.end(),
                    capture.field) != options.overwrite.end();
      entry.overwrite.push_back(overwrite ? 1 : 0);
      entry.slot.push_back(is_slot_name(capture.field) ? 1 : 0);
    }
    processor->patterns_.push_back(std::move(entry));
  }
  return std::unique_ptr<Processor>(std::move(processor));
}

std::unique_ptr<Scratch> GrokProcessor::make_scratch() const {
  auto scratch = std::make_unique<GrokScratch>();
  scratch->matchers.reserve(patterns_.size());
  for (const Compiled &compiled : patterns_)
    scratch->matchers.emplace_back(compiled.pattern);
  return scratch;
}

ProcessResult GrokProcessor::process(EventContext &context,
                                     Scratch &scratch) const {
  auto &matchers = static_cast<GrokScratch &>(scratch).matchers;
  std::string_view source;
  fields::get(context, source_,
              source); // missing: matched as "" like Logstash's nil.to_s

  for (size_t p = 0; p < patterns_.size(); ++p) {
    GrokMatcher &matcher = matchers[p];
    if (!matcher.match(source))
      continue;
    const Compiled &compiled = patterns_[p];
    const auto &captures = compiled.pattern.captures();
    for (size_t i = 0; i < captures.size(); ++i) {
      std::string_view text = matcher.capture(i);
      if (text.empty())
        continue; // unset or empty: keep_empty_captures is false
      const GrokCapture &capture = captures[i];
      std::string_view value =
          convert_capture(text, capture.type, context.batch.arena);
      if (compiled.overwrite[i]) {
        fields::set(context, capture.field, value, capture.type);
      } else if (compiled.slot[i] && !fields::exists(context, capture.field)) {
        fields::set(context, capture.field, value, capture.type);
      } else {
        fields::add(context, capture.field, value, capture.type);
      }
    }
    return ProcessResult::kOk;
  }
  return ProcessResult::kFailed;
}

} // namespace sluice::parsers
