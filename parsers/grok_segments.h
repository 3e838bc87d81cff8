// The segmented plan for matching a compiled grok regex faster than one RE2
// submatch search.
//
// Why: RE2 extracts submatches with its NFA once a program is too large for
// its bit-state backtracker, and grok programs are large (IPORHOST alone
// carries the whole IPv6 grammar): %{COMBINEDAPACHELOG} runs at ~15 MiB/s
// that way. But most grok expressions are a sequence of fields separated by
// literal text (`%{IPORHOST:clientip} %{USER:ident} \[%{HTTPDATE:ts}\] ...`),
// and there the field boundaries are forced: a piece followed by a literal
// that starts with byte c ends where its longest match ends, if a c is there
// and no earlier c ends a match of the piece. Each such boundary is found
// with a capture-free, longest-match DFA run of that piece alone (and one
// DFA run per earlier c, usually none); only the remainder after the last forced boundary needs a
// submatch search, on a shorter text with a much smaller program. A piece
// whose boundary is not forced on a line (`%{DATA}` before a quote can run
// past it) hands the rest of the line to one search of the regex from that
// piece on.
//
// Exactness: a boundary is taken only when it is the one place the piece can
// end before its literal, so every parse of the overall match has the same
// boundaries and the pieces' captures are the ones RE2's
// leftmost-first search reports; anything else falls back to the full search.
// The plan is built from the regex text sluice itself generated (grok.cc), so
// the splitter only needs to understand that RE2 syntax; whatever it does not
// understand ends the plan there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::parsers {

// A part of the regex and the grok captures inside it, as indices into
// GrokPattern::captures(): [first_capture, first_capture + captures).
struct GrokPart {
  std::string text;
  int first_capture = 0;
  int captures = 0;
  // Exactly one capture group with nothing captured inside: its span is the
  // capture (no submatch search needed).
  bool is_single_capture = false;
};

struct GrokSegment : GrokPart {
  // kLiteral: `text` is the bytes (ASCII only, so memchr cannot land inside
  // a UTF-8 sequence). kPiece: a part whose end the plan looks for. kRest:
  // the remainder after the last piece the plan can place, for one submatch
  // search; always the last step.
  enum class Kind { kLiteral, kPiece, kRest };
  Kind kind = Kind::kLiteral;
  // kPiece and kRest: the regex from here to the end, for when this piece's
  // boundary is not forced on a line: the steps before it were, so one
  // submatch search of the suffix over what is left gives the same captures.
  // Its captures are [first_capture, capture count).
  std::string suffix;
  // kPiece, when it is `(?:A|B|...)`: its branches. On a span the piece must
  // cover, the first branch that matches the whole span is the one
  // leftmost-first picks, so captures come from a DFA check per branch
  // instead of a submatch search. And where the piece's boundary is not
  // forced but its first branch's is, the first branch is assumed (it is
  // preferred over the others) until the line proves otherwise.
  std::vector<GrokPart> alternatives;
};

struct GrokSegments {
  // Literals and pieces, each piece followed by a literal or last (then it
  // extends to where leftmost-first ends it); possibly a kRest at the end.
  std::vector<GrokSegment> steps;

  // Worth using: at least one piece boundary is found without RE2's
  // submatch engine.
  bool useful() const;
};

// Splits `regex` (as GrokPattern::regex(), with `capture_count` capturing
// groups). Returns an empty plan (useful() == false) when the top level is an
// alternation, sets flags, or starts with something the plan cannot use.
GrokSegments plan_segments(std::string_view regex, int capture_count);

} // namespace sluice::parsers
