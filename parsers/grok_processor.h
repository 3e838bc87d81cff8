// grok: matches a field against grok expressions, like Logstash's grok filter
// (legacy pattern mode).
//
// The patterns are tried in order and the first match wins; its non-empty
// captures become fields (keep_empty_captures: false). A capture into a
// field that already has a value appends, making an array (several fields
// with one name, in order); for the event's own slots (message, host, app)
// that means the slot keeps its value and a field of the same name follows.
// Fields listed in `overwrite` are replaced instead (typically `message`).
// :int and :float captures keep their text (normalised as Ruby's to_i/to_f
// would print it) and carry FieldType::kInt/kFloat.
//
// No pattern matching is kFailed; the pipeline tags the event. A missing
// source is matched as the empty string, as Logstash matches nil.to_s. Only
// the first value of an array-valued source is matched.
//
// Hot path: values are views into the source text, names point into the
// compiled patterns (which live as long as the processor), and each worker's
// Scratch holds its own RE2 copies, so steady-state processing allocates
// nothing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/pipeline_options.h"
#include "parsers/grok.h"
#include "parsers/grok_patterns.h"
#include "parsers/processor.h"
#include "server/base/expected.h"

namespace sluice::parsers {

// Thread-safe: immutable after create().
class GrokProcessor final : public Processor {
public:
  // `base` supplies the pattern names; options.patterns_dirs files and then
  // options.pattern_definitions are added on top (later ones win). Errors
  // carry the position of what failed:
  //   "FILE:LINE:COL: grok: unknown pattern name FOO in %{FOO:x} at column 1"
  static Expected<std::unique_ptr<Processor>>
  create(const config::GrokOptions &options, const PatternLibrary &base);

  std::unique_ptr<Scratch> make_scratch() const override;
  ProcessResult process(EventContext &context, Scratch &scratch) const override;
  std::string_view kind() const override { return "grok"; }

private:
  struct Compiled {
    GrokPattern pattern;
    // Per capture: replace (overwrite) rather than append; an event slot.
    std::vector<uint8_t> overwrite;
    std::vector<uint8_t> slot;
  };
  GrokProcessor() = default;

  std::string source_;
  std::vector<Compiled> patterns_;
};

} // namespace sluice::parsers
