// mutate: renames, removes, adds, converts and rewrites fields, like
// Logstash's mutate filter.
//
// Operations run in Logstash's documented order (coerce, rename, update,
// replace, convert, gsub, uppercase, capitalize, lowercase, strip, remove,
// split, join, merge, copy), restricted to the ones we have, and `add` runs
// last, as Logstash's add_field does (it is applied once the filter ran):
//
//   rename -> convert -> gsub -> uppercase -> lowercase -> remove -> split -> add
//
// Within one operation, entries run in the order written.
//
// - rename FROM -> TO: every value of FROM moves to TO, replacing what TO
//   held; a missing FROM is a no-op. Slots (message, host, app) work on
//   both sides; a field renamed onto a slot keeps its first value.
// - remove: every value of the field, or the slot, goes.
// - add FIELD -> VALUE: appends a value (a second value of an existing field
//   makes an array); a slot is set only if empty. VALUE may use %{name} to
//   insert the first value of a field or slot; a missing one stays literal
//   ("%{name}"), as in Logstash.
// - lowercase / uppercase: ASCII letters of every value (others kept).
// - convert FIELD -> int|integer, float, bool|boolean, string: sets the
//   fields' FieldType; ints are written canonically ("007" -> "7"; "3.9"
//   -> "3", truncated as Logstash does), floats must be numbers, bools accept
//   true/false, t/f, yes/no, y/n, 1/0 in any case (-> "true"/"false"). A value
//   that doesn't convert is left as it was, type and all (Logstash leaves
//   it). Slots are always text: converting one does nothing.
// - split FIELD -> SEPARATOR: a field with one value becomes one field per
//   part (an array), trailing empty parts dropped like Ruby's String#split.
//   Fields that are already arrays, and slots, are left alone.
// - gsub FIELD, PATTERN, REPLACEMENT: every non-overlapping RE2 match in
//   every value is replaced; \0..\9 in REPLACEMENT insert groups (RE2's
//   GlobalReplace rules, re-implemented over a reused buffer so that no
//   std::string is built per event).
//
// Per event: no heap allocation in steady state; changed values and names
// taken from the options are copied into the batch arena.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/pipeline_options.h"
#include "parsers/processor.h"
#include "server/base/expected.h"

namespace re2 {
class RE2;
}

namespace sluice::parsers {

// Thread-safe: immutable after create(); per-worker RE2 copies in its scratch.
class MutateProcessor final : public Processor {
 public:
  // Errors: an unknown convert type or a bad gsub pattern or replacement
  // (with the option's "FILE:LINE:COL: "), an empty field name, an empty
  // split separator, an unclosed %{ in an add value.
  static Expected<std::unique_ptr<Processor>> create(const config::MutateOptions& options);

  ~MutateProcessor() override;
  std::unique_ptr<Scratch> make_scratch() const override;
  ProcessResult process(EventContext& context, Scratch& scratch) const override;
  std::string_view kind() const override { return "mutate"; }

  enum class ConvertType : uint8_t { kInt, kFloat, kBool, kString };

 private:
  MutateProcessor() = default;

  struct Convert {
    std::string field;
    ConvertType type;
  };
  struct Gsub {
    std::string field;
    std::unique_ptr<re2::RE2> regex;  // the template for each scratch's copy
    std::string replacement;
    int groups_needed;  // 1 + the highest \N in replacement
  };
  // An add value: literal text and %{name} references, alternating.
  struct Segment {
    bool reference;
    std::string text;  // the literal, or the referenced name
  };
  struct Add {
    std::string field;
    std::vector<Segment> segments;
  };

  void apply_gsub(EventContext& context, const Gsub& gsub, const re2::RE2& regex, std::string& buffer) const;

  std::vector<std::pair<std::string, std::string>> rename_;
  std::vector<Convert> convert_;
  std::vector<Gsub> gsub_;
  std::vector<std::string> uppercase_;
  std::vector<std::string> lowercase_;
  std::vector<std::string> remove_;
  std::vector<std::pair<std::string, std::string>> split_;
  std::vector<Add> add_;
};

}  // namespace sluice::parsers
