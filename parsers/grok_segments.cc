#include "parsers/grok_segments.h"

#include <optional>

namespace sluice::parsers {
namespace {

constexpr size_t npos = std::string_view::npos;

bool is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9');
}

bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }

// At re[i] == '[': the index after the class's closing ']', or npos.
size_t skip_class(std::string_view re, size_t i) {
  const size_t n = re.size();
  ++i;
  if (i < n && re[i] == '^')
    ++i;
  if (i < n && re[i] == ']')
    ++i; // a leading ']' is literal
  while (i < n) {
    const char c = re[i];
    if (c == '\\') {
      i += 2;
    } else if (c == '[' && i + 1 < n && re[i + 1] == ':') {
      size_t end = re.find(":]", i + 2);
      if (end == npos)
        return npos;
      i = end + 2;
    } else if (c == ']') {
      return i + 1;
    } else {
      ++i;
    }
  }
  return npos;
}

// At re[i] == '\\': the index after the escape, or npos for escapes the plan
// does not model (\Q...\E, octal, \C). `literal` is set for an escaped ASCII
// punctuation byte or space, which stands for itself.
size_t skip_escape(std::string_view re, size_t i, std::optional<char> &literal) {
  const size_t n = re.size();
  literal.reset();
  if (i + 1 >= n)
    return npos;
  const char e = re[i + 1];
  if (!is_alnum(e)) {
    if (!is_ascii(e))
      return npos;
    literal = e;
    return i + 2;
  }
  if (e == 'p' || e == 'P' || e == 'x') {
    if (i + 2 < n && re[i + 2] == '{') {
      size_t end = re.find('}', i + 3);
      return end == npos ? npos : end + 1;
    }
    return e == 'x' ? i + 4 : i + 3;
  }
  if (e == 'Q' || e == 'C' || (e >= '0' && e <= '9'))
    return npos;
  return i + 2; // \d \w \s \b \A \z \t \n ...
}

// Walks `re` from `i`, stepping over escapes and bracket classes whole, and
// calls visit(j) at every other byte j until it returns true. Returns that
// j, re.size() at the end, or npos for an unterminated class.
template <typename Visit>
size_t walk(std::string_view re, size_t i, Visit visit) {
  while (i < re.size()) {
    if (re[i] == '\\') {
      i += 2;
    } else if (re[i] == '[') {
      i = skip_class(re, i);
      if (i == npos)
        return npos;
    } else if (visit(i)) {
      return i;
    } else {
      ++i;
    }
  }
  return re.size();
}

bool opens_capture(std::string_view re, size_t i) {
  return re[i] == '(' && !(i + 1 < re.size() && re[i + 1] == '?');
}

// At re[i] == '(': the index after the matching ')', or npos. Counts the
// capturing groups it contains, itself included.
size_t skip_group(std::string_view re, size_t i, int &captures) {
  int depth = 0;
  size_t close = walk(re, i, [&](size_t j) {
    if (opens_capture(re, j))
      ++captures;
    if (re[j] == '(')
      ++depth;
    return re[j] == ')' && --depth == 0;
  });
  return close == npos || close == re.size() ? npos : close + 1;
}

// What the plan needs to know of a regex as a whole: its capturing groups
// and where its top-level branches are separated.
struct Shape {
  bool ok = false;
  int captures = 0;
  std::vector<size_t> bars; // top-level '|'
};

Shape shape_of(std::string_view re) {
  Shape shape;
  int depth = 0;
  shape.ok = walk(re, 0, [&](size_t j) {
               if (opens_capture(re, j))
                 ++shape.captures;
               if (re[j] == '(')
                 ++depth;
               else if (re[j] == ')')
                 --depth;
               else if (re[j] == '|' && depth == 0)
                 shape.bars.push_back(j);
               return false;
             }) != npos;
  return shape;
}

// After an item at re[i]: the index after its quantifier (if any), or npos
// for a brace that is not a well-formed repeat.
size_t skip_quantifier(std::string_view re, size_t i, bool &quantified) {
  const size_t n = re.size();
  quantified = false;
  if (i < n && (re[i] == '*' || re[i] == '+' || re[i] == '?')) {
    ++i;
  } else if (i < n && re[i] == '{') {
    size_t end = re.find('}', i);
    if (end == npos || end == i + 1)
      return npos;
    for (size_t k = i + 1; k < end; ++k) {
      if (!((re[k] >= '0' && re[k] <= '9') || re[k] == ','))
        return npos;
    }
    i = end + 1;
  } else {
    return i;
  }
  quantified = true;
  if (i < n && re[i] == '?')
    ++i; // lazy
  return i;
}

bool has_top_level_alternation(std::string_view re) {
  Shape shape = shape_of(re);
  return !shape.ok || !shape.bars.empty();
}

// A whole-text capture group with nothing captured inside: `(...)`.
bool is_single_capture_group(std::string_view text) {
  if (text.size() < 2 || text[0] != '(' || text[1] == '?')
    return false;
  int captures = 0;
  return skip_group(text, 0, captures) == text.size() && captures == 1;
}

// `(?:A|B|...)` covering all of `text`: its branches with their captures.
std::vector<GrokPart> alternatives_of(std::string_view text,
                                             int first_capture) {
  int captures = 0;
  if (!text.starts_with("(?:") || skip_group(text, 0, captures) != text.size())
    return {};
  std::string_view inner = text.substr(3, text.size() - 4);
  Shape shape = shape_of(inner);
  if (!shape.ok || shape.bars.empty())
    return {};
  shape.bars.push_back(inner.size());
  std::vector<GrokPart> out;
  int next = first_capture;
  size_t begin = 0;
  for (size_t bar : shape.bars) {
    GrokPart alternative;
    std::string_view branch = inner.substr(begin, bar - begin);
    alternative.text = std::string(branch);
    alternative.first_capture = next;
    alternative.captures = shape_of(branch).captures;
    alternative.is_single_capture = is_single_capture_group(branch);
    next += alternative.captures;
    out.push_back(std::move(alternative));
    begin = bar + 1;
  }
  if (next - first_capture != captures)
    return {};
  return out;
}

struct Item {
  bool literal = false;
  char byte = 0;
  std::string_view text;
  int first_capture = 0;
  int captures = 0;
  bool single_capture = false;
  bool opaque = false; // the unsplittable remainder of the top level
};

// Splits a concatenation (no top-level '|') into items, flattening plain
// non-capturing groups. Returns the offset where it stopped (re.size() when
// everything was split).
size_t split(std::string_view re, int &next_capture, std::vector<Item> &out) {
  const size_t n = re.size();
  size_t i = 0;
  while (i < n) {
    const size_t start = i;
    const char c = re[i];
    Item item;
    item.first_capture = next_capture;
    std::optional<char> literal;
    std::string_view flatten;
    bool capture_group = false;
    if (c == '\\') {
      i = skip_escape(re, i, literal);
    } else if (c == '[') {
      i = skip_class(re, i);
    } else if (c == '(') {
      size_t end = skip_group(re, i, item.captures);
      if (end != npos) {
        std::string_view opener = re.substr(i);
        if (opener.starts_with("(?:")) {
          flatten = re.substr(i + 3, end - 1 - (i + 3));
        } else if (opener.size() > 1 && opener[1] == '?') {
          size_t j = 2;
          while (j < opener.size() && (is_alnum(opener[j]) || opener[j] == '-'))
            ++j;
          if (j < opener.size() && opener[j] == ')')
            return start; // (?flags) changes everything after it
        } else {
          capture_group = true;
        }
      }
      i = end;
    } else if (c == '.' || c == '^' || c == '$') {
      ++i;
    } else if (is_ascii(c) && c != '|' && c != ')' && c != '{' && c != '}' &&
               c != ']' && c != '*' && c != '+' && c != '?') {
      literal = c;
      ++i;
    } else {
      return start;
    }
    if (i == npos)
      return start;
    bool quantified = false;
    i = skip_quantifier(re, i, quantified);
    if (i == npos)
      return start;

    if (quantified) {
      literal.reset();
      flatten = {};
      capture_group = false;
    }
    if (!flatten.empty() && !has_top_level_alternation(flatten)) {
      std::vector<Item> inner;
      int inner_capture = next_capture;
      if (split(flatten, inner_capture, inner) == flatten.size()) {
        out.insert(out.end(), inner.begin(), inner.end());
        next_capture = inner_capture;
        continue;
      }
    }
    if (literal) {
      item.literal = true;
      item.byte = *literal;
    }
    item.text = re.substr(start, i - start);
    item.single_capture = capture_group && item.captures == 1;
    next_capture += item.captures;
    out.push_back(item);
  }
  return n;
}

} // namespace

bool GrokSegments::useful() const {
  for (const GrokSegment &step : steps) {
    if (step.kind == GrokSegment::Kind::kPiece)
      return true;
  }
  return false;
}

GrokSegments plan_segments(std::string_view regex, int capture_count) {
  GrokSegments plan;
  if (regex.empty() || has_top_level_alternation(regex))
    return plan;
  std::vector<Item> items;
  int next_capture = 0;
  size_t stopped = split(regex, next_capture, items);
  if (stopped < regex.size()) {
    Item tail;
    tail.opaque = true;
    tail.text = regex.substr(stopped);
    tail.first_capture = next_capture;
    Shape shape = shape_of(tail.text);
    if (!shape.ok)
      return {};
    tail.captures = shape.captures;
    next_capture += tail.captures;
    items.push_back(tail);
  }
  if (next_capture != capture_count)
    return {}; // the splitter misread the regex: do not guess

  size_t k = 0;
  for (; k < items.size(); ++k) {
    const Item &item = items[k];
    if (item.literal) {
      if (plan.steps.empty() ||
          plan.steps.back().kind != GrokSegment::Kind::kLiteral)
        plan.steps.push_back(GrokSegment{});
      plan.steps.back().text += item.byte;
      continue;
    }
    const bool last = k + 1 == items.size();
    const bool before_literal = !last && items[k + 1].literal;
    if (item.opaque || !(last || before_literal))
      break;
    GrokSegment piece;
    piece.kind = GrokSegment::Kind::kPiece;
    piece.text = std::string(item.text);
    piece.first_capture = item.first_capture;
    piece.captures = item.captures;
    piece.is_single_capture = item.single_capture;
    for (size_t j = k; j < items.size(); ++j)
      piece.suffix.append(items[j].text);
    if (piece.captures > 0 && !piece.is_single_capture)
      piece.alternatives = alternatives_of(piece.text, piece.first_capture);
    plan.steps.push_back(std::move(piece));
  }
  if (k < items.size()) {
    GrokSegment rest;
    rest.kind = GrokSegment::Kind::kRest;
    rest.first_capture = items[k].first_capture;
    rest.captures = capture_count - rest.first_capture;
    for (; k < items.size(); ++k)
      rest.text.append(items[k].text);
    rest.suffix = rest.text;
    plan.steps.push_back(std::move(rest));
  }
  return plan;
}

} // namespace sluice::parsers
