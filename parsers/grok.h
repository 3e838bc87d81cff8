// Grok: Logstash grok expressions compiled to one RE2 regex.
//
// Syntax accepted (Logstash / jls-grok, legacy mode):
//   %{NAME}              the pattern NAME, not captured
//   %{NAME:field}        captured into `field`
//   %{NAME:field:int}    ... converted like Ruby's to_i (also :float, to_f)
//   %{NAME anything}     text after the name up to '}' is ignored (jls-grok)
//   (?<field>...)        inline capture (also (?P<field>...), (?'field'...))
// Field names may be anything Logstash accepts (`[a][b]`, `@x`, `src-ip`):
// captures are RE2 numbered groups mapped to names by a table, so no name has
// to be a valid RE2 group name and one name may be captured several times.
// `[a][b]` becomes the dotted `a.b`.
//
// Ruby regex features are translated where RE2 has an equivalent: every
// other group becomes non-capturing (fewer submatches, faster); `.` matches
// newline (jls-grok compiles with Ruby's MULTILINE, which is DOTALL), and an
// inline Ruby `(?m)` is RE2's `(?s)`; `^`/`$` are line anchors as in Ruby;
// `\h` is a hex digit; POSIX classes in brackets are Unicode-aware; Onigmo's
// nested bracket classes are flattened; atomic groups `(?>...)` become plain
// groups. Lookaround and backreferences do not exist in RE2 and are reported
// as errors naming the construct.
//
// Performance contract: RE2 matches in time linear in the input, so a huge
// non-matching line cannot stall a worker. GrokPattern is immutable and
// shared; each worker builds its own GrokMatcher (its own RE2 objects, so
// workers do not contend on RE2's DFA cache lock) and matches without heap
// allocation.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/grok_patterns.h"
#include "parsers/grok_segments.h"
#include "server/base/event.h"
#include "server/base/expected.h"

namespace sluice::parsers {

struct GrokCapture {
  std::string field; // as the event names it: `[a][b]` is already `a.b`
  FieldType type = FieldType::kString;
};

class GrokPattern {
public:
  // Errors name the position in `expression` (1-based column):
  //   unknown pattern name FOO in %{FOO:x} at column 7
  //   recursive pattern: %{A} -> %{B} -> %{A} in %{A} at column 1
  //   bad regex: missing ): ... (RE2's message)
  static Expected<GrokPattern> compile(std::string_view expression,
                                       const PatternLibrary &library);

  const std::string &expression() const { return expression_; }
  // The RE2 text after expansion and translation (without the line-anchor
  // flag, see multi_line_regex()).
  const std::string &regex() const { return regex_; }
  // captures()[i] is RE2 group i + 1.
  const std::vector<GrokCapture> &captures() const { return captures_; }
  // Whether the expression uses ^ or $, which are line anchors in Ruby.
  bool has_line_anchors() const { return has_line_anchors_; }

  // Matches with the shared RE2 (thread-safe; for tests and one-off use).
  // `groups` is resized to captures().size() + 1 once and reused; on success
  // groups[i + 1] views capture i (data() == nullptr when it did not take
  // part). Returns false on no match.
  bool match(std::string_view text,
             std::vector<re2::StringPiece> &groups) const;

  // The segmented plan (grok_segments.h); useful() is false when the
  // matcher uses one RE2 search.
  const GrokSegments &segments() const { return segments_; }

  // RE2 options shared by every compiled copy (dot_nl, UTF-8, memory budget).
  static RE2::Options options();

private:
  friend class GrokMatcher;
  GrokPattern() = default;

  std::string expression_;
  std::string regex_;
  std::vector<GrokCapture> captures_;
  bool has_line_anchors_ = false;
  GrokSegments segments_;
  // Without / with Ruby's line-anchor semantics. The single-line one is used
  // for text without '\n' (identical results there, and a leading ^ lets
  // RE2 fail in constant time); multi_line_ exists only if anchors are used.
  std::shared_ptr<const RE2> single_line_;
  std::shared_ptr<const RE2> multi_line_;
};

// A per-thread matcher: its own RE2 copies and submatch buffers.
// Thread: used by one thread at a time; the GrokPattern must outlive it.
class GrokMatcher {
public:
  // `segmented` = false always uses one RE2 submatch search (the reference
  // the segmented plan is tested against).
  explicit GrokMatcher(const GrokPattern &pattern, bool segmented = true);
  GrokMatcher(GrokMatcher &&) noexcept;
  GrokMatcher &operator=(GrokMatcher &&) noexcept;
  ~GrokMatcher();

  const GrokPattern &pattern() const { return *pattern_; }
  // Returns false on no match. Allocates nothing of its own; RE2's submatch
  // engines allocate inside RE2 for what the segmented plan leaves to them.
  bool match(std::string_view text);

  // How matches were found: by the segmented plan, or (the plan did not
  // apply to that line) by one submatch search over the match.
  uint64_t segmented_matches() const { return segmented_matches_; }
  uint64_t fallback_matches() const { return fallback_matches_; }
  // Capture i of the last successful match; empty (data() == nullptr) when
  // the group did not take part. Views into the matched text.
  std::string_view capture(size_t i) const {
    const re2::StringPiece &g = groups_[i + 1];
    return std::string_view(g.data(), g.size());
  }

private:
  struct Segmented; // per-step RE2 copies, see grok.cc
  bool match_segments(re2::StringPiece input, size_t start,
                      size_t &found_end);

  const GrokPattern *pattern_;
  std::unique_ptr<RE2> single_line_;
  std::unique_ptr<RE2> multi_line_;
  std::vector<re2::StringPiece> groups_;
  std::unique_ptr<Segmented> segmented_;
  uint64_t segmented_matches_ = 0;
  uint64_t fallback_matches_ = 0;
};

// The text of a typed capture as stored in the event, with Ruby's
// conversion semantics: for kInt, to_i ("+007x" -> "7", "abc" -> "0"); for
// kFloat, to_f (".5" -> "0.5"). Returns a view into `text`, a static string,
// or (floats that are not already a plain JSON number only) `scratch` text
// written into `arena`. Strings are returned unchanged.
std::string_view convert_capture(std::string_view text, FieldType type,
                                 Arena &arena);

} // namespace sluice::parsers
