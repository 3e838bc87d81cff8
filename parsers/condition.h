// Condition: the small expression language of pipeline and processor
// conditions (`if:`), compiled once when the pipeline is built and evaluated
// per event without touching the heap.
//
// Grammar (keywords are lower case; `&&`, `||` and `!` are accepted too):
//
//   expr       := and_expr ( "or" and_expr )*
//   and_expr   := unary ( "and" unary )*
//   unary      := "not" unary | "(" expr ")" | "exists" "(" reference ")" | comparison
//   comparison := value ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) value
//               | value ( "=~" | "!~" ) STRING          RE2, partial match
//               | value ( "in" | "not in" ) value        substring
//   value      := reference | STRING | NUMBER
//   reference  := message | host | app | severity | facility | input
//               | fields.NAME | NAME | [NAME][NAME]...   parsed fields
//
// - STRING is "..." or '...'; inside it \" (or \') and \\ stand for the quote
//   and the backslash; any other backslash is kept as written, so regexes
//   read naturally: "^web-\d+$".
// - NUMBER is -?DIGITS(.DIGITS)?.
// - Bare NAMEs other than the six slots are parsed fields; `fields.host` is
//   the parsed field "host", not the slot. NAME characters: letters, digits,
//   _ @ . - (the first one not a digit, '.' or '-'). `[a][b]` is "a.b".
// - `severity` is 0-7 and compares with numbers or syslog names ("err",
//   "warning", also written bare: severity <= warning); `facility` likewise
//   with 0-23 or "local0"... `input` is the input's name ("syslog_udp").
// - == and != compare text, or numbers when either side is a NUMBER or
//   severity/facility. <, <=, >, >= always compare numbers: field text that
//   is not a number makes the comparison false.
// - A field with several values (an array) satisfies ==, <, =~, in... when
//   any value does; !=, !~ and `not in` are their negations. A missing field
//   (or unknown severity) satisfies none of the positive forms, so
//   `missing != "x"` is true, as in Logstash.
// - Precedence: not > and > or.
//
// Errors name the 1-based column: "column 12: expected a string after =~";
// the caller prefixes the file position.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/processor.h"
#include "server/base/expected.h"

namespace re2 {
class RE2;
}

namespace sluice::parsers {

// Per-worker state of one Condition: its own copies of the compiled RE2s
// (sharing is safe, but their DFA cache lock contends across threads).
// Thread: owned by one worker.
class ConditionScratch {
 public:
  ConditionScratch();
  ~ConditionScratch();
  ConditionScratch(ConditionScratch&&) noexcept;
  ConditionScratch& operator=(ConditionScratch&&) noexcept;

 private:
  friend class Condition;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;
};

// Thread-safe once built: evaluate() is const and keeps its mutable state in
// the caller's ConditionScratch.
class Condition {
 public:
  // A condition that is always true (what an empty `if:` means).
  Condition();
  ~Condition();
  Condition(Condition&&) noexcept;
  Condition& operator=(Condition&&) noexcept;

  // Compiles `text`; empty or blank text is an error ("column 1: expected a
  // condition"), so callers test for an absent condition themselves.
  static Expected<Condition> compile(std::string_view text);

  bool always_true() const { return root_ < 0; }
  // The source text, for messages.
  const std::string& text() const { return text_; }

  // One per worker; compiles its RE2 copies (not per event).
  std::unique_ptr<ConditionScratch> make_scratch() const;

  // Whether the event satisfies the condition. `scratch` must come from this
  // condition's make_scratch(). Allocates nothing.
  bool evaluate(const EventContext& context, ConditionScratch& scratch) const;

  // Same, sharing this condition's own RE2s: for tests and one-off use.
  bool evaluate(const EventContext& context) const;

  // Public for the implementation's helpers; not part of the API.
  struct Operand;
  struct Node;

 private:
  friend class ConditionParser;
  bool eval_node(int32_t index, const EventContext& context,
                 const std::vector<std::unique_ptr<re2::RE2>>& regexes) const;
  bool eval_comparison(const Node& node, const EventContext& context,
                       const std::vector<std::unique_ptr<re2::RE2>>& regexes) const;

  std::string text_;
  int32_t root_ = -1;              // into nodes_; -1 = always true
  std::vector<Node> nodes_;
  std::vector<Operand> operands_;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;
};

}  // namespace sluice::parsers
