#include "storage/query.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "server/base/raw_batch.h"
#include "server/base/time_format.h"
#include "storage/token_filter.h"

namespace sluice::storage {
namespace {

using Node = QueryNode;
using Kind = QueryNode::Kind;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool equals_ignore_case(std::string_view text, std::string_view lowered) {
  if (text.size() != lowered.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (ascii_lower(text[i]) != lowered[i]) return false;
  }
  return true;
}

}  // namespace

namespace detail {

// Candidates are the positions whose first and last bytes equal the
// needle's once bit 0x20 (the case bit of ASCII letters) is set in both,
// 16 positions per step; each is then checked byte by byte. For most log
// text that rules out nearly every position without a branch per byte.
bool contains_ignore_case(std::string_view haystack, std::string_view needle) {
  const size_t n = needle.size();
  if (n == 0) return true;
  if (n > haystack.size()) return false;
  const char* const h = haystack.data();
  const size_t last_start = haystack.size() - n;
  const auto first = static_cast<char>(needle[0] | 0x20);
  const auto last = static_cast<char>(needle[n - 1] | 0x20);
  auto matches_at = [&](size_t i) {
    for (size_t j = 0; j < n; ++j) {
      if (ascii_lower(h[i + j]) != needle[j]) return false;
    }
    return true;
  };
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i case_bit = _mm_set1_epi8(0x20);
  const __m128i first_bytes = _mm_set1_epi8(first);
  const __m128i last_bytes = _mm_set1_epi8(last);
  for (; i + 15 <= last_start; i += 16) {
    const __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i)), case_bit);
    const __m128i b = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + n - 1)), case_bit);
    auto mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first_bytes), _mm_cmpeq_epi8(b, last_bytes))));
    while (mask != 0) {
      if (matches_at(i + static_cast<size_t>(__builtin_ctz(mask)))) return true;
      mask &= mask - 1;
    }
  }
#endif
  for (; i <= last_start; ++i) {
    if ((h[i] | 0x20) == first && (h[i + n - 1] | 0x20) == last && matches_at(i)) return true;
  }
  return false;
}

}  // namespace detail

namespace {

using detail::contains_ignore_case;

// Byte-wise, ASCII case ignored; `b` is already lowercase.
int compare_ignore_case(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(ascii_lower(a[i]));
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// A severity or facility given as a number or a name; -1 if neither.
int parse_code(QueryField field, std::string_view lowered_value) {
  unsigned number = 0;
  auto [end, ec] = std::from_chars(lowered_value.data(), lowered_value.data() + lowered_value.size(), number);
  if (ec == std::errc() && end == lowered_value.data() + lowered_value.size()) {
    return number > 255 ? 256 : static_cast<int>(number);
  }
  for (unsigned code = 0; code < 255; ++code) {
    const std::string_view name = field == QueryField::kSeverity ? severity_name(static_cast<uint8_t>(code))
                                                                 : facility_name(static_cast<uint8_t>(code));
    if (name.empty()) break;
    if (name == lowered_value) return static_cast<int>(code);
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Text: tokens and token patterns.

// True if the tokens of `text` contain node.tokens consecutively (KMP over
// tokens, so "a a b" is found in "a a a b").
bool contains_tokens(std::string_view text, const Node& node) {
  if (node.tokens.empty()) return contains_ignore_case(text, node.value);
  // Most events do not match: a token that is not even a substring is
  // ruled out much faster than by tokenizing.
  if (!contains_ignore_case(text, node.tokens[node.longest_token])) return false;
  thread_local std::string scratch;
  size_t matched = 0;
  bool found = false;
  for_each_token(text, scratch, [&](std::string_view token) {
    if (found) return;
    while (matched > 0 && token != node.tokens[matched]) matched = node.token_failure[matched - 1];
    if (token == node.tokens[matched]) ++matched;
    if (matched == node.tokens.size()) found = true;
  });
  return found;
}

// True if consecutive tokens of `text` match node.patterns, one each. A
// shift-and over the patterns: active[s] says the tokens just before matched
// patterns[0, s).
bool contains_patterns(std::string_view text, const Node& node) {
  thread_local std::string scratch;
  thread_local std::vector<uint8_t> active;
  const size_t k = node.patterns.size();
  active.assign(k, 0);
  bool found = false;
  for_each_token(text, scratch, [&](std::string_view token) {
    if (found) return;
    if ((k == 1 || active[k - 1]) && node.patterns[k - 1].matches(token)) {
      found = true;
      return;
    }
    for (size_t s = k - 1; s >= 2; --s) active[s] = active[s - 1] && node.patterns[s - 1].matches(token);
    if (k >= 2) active[1] = node.patterns[0].matches(token);
  });
  return found;
}

void prepare_tokens(Node& node) {
  std::string scratch;
  for_each_token(node.value, scratch, [&](std::string_view token) { node.tokens.emplace_back(token); });
  const size_t n = node.tokens.size();
  for (size_t i = 1; i < n; ++i) {
    if (node.tokens[i].size() > node.tokens[node.longest_token].size()) node.longest_token = static_cast<uint32_t>(i);
  }
  node.token_failure.assign(n, 0);
  for (size_t i = 1, k = 0; i < n; ++i) {
    while (k > 0 && node.tokens[i] != node.tokens[k]) k = node.token_failure[k - 1];
    if (node.tokens[i] == node.tokens[k]) ++k;
    node.token_failure[i] = static_cast<uint32_t>(k);
  }
}

// ---------------------------------------------------------------------------
// Field values.

const char* flag_text(bool set) { return set ? "true" : "false"; }

// Calls fn(value) for each value the node's field has in `event`, as text,
// until fn returns true; returns whether it did. Allocates nothing.
template <class Fn>
bool any_value(const Node& node, const EventView& event, Fn&& fn) {
  switch (node.field) {
    case QueryField::kText:
    case QueryField::kMessage:
      return fn(event.message);
    case QueryField::kRaw:
      return fn(event.raw);
    case QueryField::kHost:
      return fn(event.host);
    case QueryField::kApp:
      return fn(event.app);
    case QueryField::kSeverity:
    case QueryField::kFacility: {
      const bool severity = node.field == QueryField::kSeverity;
      const uint8_t code = severity ? event.severity : event.facility;
      if (code == (severity ? kUnknownSeverity : kUnknownFacility)) return false;
      char digits[4];
      auto [end, ec] = std::to_chars(digits, digits + sizeof digits, code);
      if (fn(std::string_view(digits, static_cast<size_t>(end - digits)))) return true;
      const std::string_view name = severity ? severity_name(code) : facility_name(code);
      return !name.empty() && fn(name);
    }
    case QueryField::kInput:
      return event.input < kInputCount && fn(input_name(static_cast<InputId>(event.input)));
    case QueryField::kTruncated:
      return fn(flag_text(event.flags & kFlagTruncated));
    case QueryField::kParseFailure:
      return fn(flag_text(event.flags & kFlagParseFailure));
    case QueryField::kTimestamp: {
      char text[32];
      return fn(std::string_view(text, format_rfc3339_ns(event.timestamp_ns, text)));
    }
    case QueryField::kParsed:
      for (const Field& field : event.fields) {
        if (field.name == node.field_name && fn(field.value)) return true;
      }
      return false;
  }
  return false;
}

bool equals_matches(const Node& node, const EventView& event) {
  switch (node.field) {
    case QueryField::kSeverity:
      return event.severity != kUnknownSeverity && event.severity == node.code;
    case QueryField::kFacility:
      return event.facility != kUnknownFacility && event.facility == node.code;
    case QueryField::kTimestamp:
      return event.timestamp_ns == node.time_ns;
    default:
      return any_value(node, event, [&](std::string_view value) { return equals_ignore_case(value, node.value); });
  }
}

bool exists_matches(const Node& node, const EventView& event) {
  switch (node.field) {
    case QueryField::kText:
    case QueryField::kMessage:
      return !event.message.empty();
    case QueryField::kRaw:
      return !event.raw.empty();
    case QueryField::kHost:
      return !event.host.empty();
    case QueryField::kApp:
      return !event.app.empty();
    default:
      return any_value(node, event, [](std::string_view) { return true; });
  }
}

// Compares a value with a bound by the rules of query.h: numbers, else
// times, else text. `number` and `time` are the value parsed (or not).
int compare_with_bound(std::string_view value, const std::optional<double>& number,
                       const std::optional<int64_t>& time, const RangeBound& bound) {
  if (bound.is_number && number) return *number < bound.number ? -1 : (*number > bound.number ? 1 : 0);
  if (bound.is_time && time) return *time < bound.time_ns ? -1 : (*time > bound.time_ns ? 1 : 0);
  return compare_ignore_case(value, bound.text);
}

bool within(int lower_cmp, int upper_cmp, const Node& node) {
  if (node.lower.present && (node.lower.inclusive ? lower_cmp < 0 : lower_cmp <= 0)) return false;
  if (node.upper.present && (node.upper.inclusive ? upper_cmp > 0 : upper_cmp >= 0)) return false;
  return true;
}

bool range_matches(const Node& node, const EventView& event) {
  if (node.field == QueryField::kTimestamp) {
    const int64_t t = event.timestamp_ns;
    const int lower = node.lower.present ? (t < node.lower.time_ns ? -1 : (t > node.lower.time_ns ? 1 : 0)) : 0;
    const int upper = node.upper.present ? (t < node.upper.time_ns ? -1 : (t > node.upper.time_ns ? 1 : 0)) : 0;
    return within(lower, upper, node);
  }
  const bool want_number = node.lower.is_number || node.upper.is_number;
  const bool want_time = node.lower.is_time || node.upper.is_time;
  auto check = [&](std::string_view value) {
    const std::optional<double> number = want_number ? parse_number(value) : std::nullopt;
    const std::optional<int64_t> time = want_time ? parse_rfc3339(value) : std::nullopt;
    const int lower = node.lower.present ? compare_with_bound(value, number, time, node.lower) : 0;
    const int upper = node.upper.present ? compare_with_bound(value, number, time, node.upper) : 0;
    return within(lower, upper, node);
  };
  if (node.field == QueryField::kSeverity || node.field == QueryField::kFacility) {
    // Codes compare as numbers: only the first value (the digits) counts.
    bool first = true, result = false;
    any_value(node, event, [&](std::string_view value) {
      if (first) result = check(value);
      first = false;
      return true;
    });
    return result;
  }
  return any_value(node, event, check);
}

bool node_matches(const Node& node, const EventView& event) {
  switch (node.kind) {
    case Kind::kAll:
      return true;
    case Kind::kAnd:
      for (const Node& child : node.children) {
        if (!node_matches(child, event)) return false;
      }
      return true;
    case Kind::kOr:
      for (const Node& child : node.children) {
        if (node_matches(child, event)) return true;
      }
      return false;
    case Kind::kNot:
      return !node_matches(node.children[0], event);
    case Kind::kWords:
      return contains_tokens(node.field == QueryField::kRaw ? event.raw : event.message, node);
    case Kind::kPatterns:
      return contains_patterns(node.field == QueryField::kRaw ? event.raw : event.message, node);
    case Kind::kEquals:
      return equals_matches(node, event);
    case Kind::kWildcard:
      return any_value(node, event, [&](std::string_view value) { return node.glob.matches(value); });
    case Kind::kRegex:
      return any_value(node, event, [&](std::string_view value) {
        return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *node.regex);
      });
    case Kind::kRange:
      return range_matches(node, event);
    case Kind::kExists:
      return exists_matches(node, event);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Parsing.

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_field_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '@' || c == '-';
}

QueryField field_of(std::string_view name) {
  if (name.empty()) return QueryField::kText;
  if (name == "raw") return QueryField::kRaw;
  if (name == "host") return QueryField::kHost;
  if (name == "app") return QueryField::kApp;
  if (name == "message") return QueryField::kMessage;
  if (name == "severity") return QueryField::kSeverity;
  if (name == "facility") return QueryField::kFacility;
  if (name == "input") return QueryField::kInput;
  if (name == "_truncated") return QueryField::kTruncated;
  if (name == "_parse_failure") return QueryField::kParseFailure;
  if (name == "timestamp") return QueryField::kTimestamp;
  return QueryField::kParsed;
}

bool is_text(QueryField field) { return field == QueryField::kText || field == QueryField::kRaw; }

// A word as written, escapes resolved: its bytes and, per byte, whether it
// is an unescaped wildcard ('*', '?') or literal (0).
struct Word {
  std::string text;
  std::vector<uint8_t> wild;
  size_t position = 0;
  bool quoted = false;
  bool has_wildcard() const {
    for (uint8_t w : wild) {
      if (w != 0) return true;
    }
    return false;
  }
  bool only_stars() const {
    if (wild.empty()) return false;
    for (uint8_t w : wild) {
      if (w != '*') return false;
    }
    return true;
  }
};

Glob glob_of(const Word& word, size_t begin, size_t end) {
  Glob glob;
  for (size_t i = begin; i < end; ++i) {
    glob.pattern.push_back(ascii_lower(word.text[i]));
    glob.wild.push_back(word.wild[i]);
  }
  return glob;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool parse(Node& root) {
    if (text_.size() > kMaxQueryBytes) {
      return fail(kMaxQueryBytes, "a query of at most " + std::to_string(kMaxQueryBytes) + " bytes");
    }
    skip_space();
    if (at_end()) {
      root.kind = Kind::kAll;
      return true;
    }
    if (!parse_or(root, nullptr, 0)) return false;
    skip_space();
    if (!at_end()) return fail(pos_, "the end of the query (this ')' closes nothing)");
    return true;
  }

  QueryError error;

 private:
  // A field that a group's terms default to (`host:(a OR b)`).
  struct Context {
    std::string name;
    size_t position;
  };

  bool fail(size_t position, std::string expected) {
    error.position = position;
    error.expected = std::move(expected);
    return false;
  }

  bool at_end() const { return pos_ >= text_.size(); }
  void skip_space() {
    while (!at_end() && is_space(text_[pos_])) ++pos_;
  }
  // A keyword at pos_: the upper-case word followed by a separator.
  bool at_keyword(std::string_view keyword) const {
    if (text_.substr(pos_, keyword.size()) != keyword) return false;
    const size_t next = pos_ + keyword.size();
    return next >= text_.size() || is_space(text_[next]) || text_[next] == '(' || text_[next] == ')' ||
           text_[next] == '"';
  }
  // Whether a term can start at pos_ (after an operator).
  bool term_follows() const {
    return !at_end() && text_[pos_] != ')' && !at_keyword("AND") && !at_keyword("OR");
  }
  bool deeper(int& depth) {
    if (++depth > static_cast<int>(kMaxQueryDepth)) {
      return fail(pos_, "at most " + std::to_string(kMaxQueryDepth) + " nested groups and operators");
    }
    return true;
  }

  bool parse_or(Node& out, const Context* context, int depth) {
    Node first;
    if (!parse_and(first, context, depth)) return false;
    skip_space();
    if (!at_keyword("OR")) {
      out = std::move(first);
      return true;
    }
    out = Node();
    out.kind = Kind::kOr;
    out.children.push_back(std::move(first));
    while (at_keyword("OR")) {
      pos_ += 2;
      skip_space();
      if (!term_follows()) return fail(pos_, "a term after OR");
      Node next;
      if (!parse_and(next, context, depth)) return false;
      out.children.push_back(std::move(next));
      skip_space();
    }
    return true;
  }

  bool parse_and(Node& out, const Context* context, int depth) {
    Node first;
    if (!parse_unary(first, context, depth)) return false;
    out = Node();
    out.kind = Kind::kAnd;
    out.children.push_back(std::move(first));
    while (true) {
      skip_space();
      if (at_end() || text_[pos_] == ')' || at_keyword("OR")) break;
      if (at_keyword("AND")) {
        pos_ += 3;
        skip_space();
        if (!term_follows()) return fail(pos_, "a term after AND");
      }
      Node next;
      if (!parse_unary(next, context, depth)) return false;
      out.children.push_back(std::move(next));
    }
    if (out.children.size() == 1) {
      Node only = std::move(out.children[0]);
      out = std::move(only);
    }
    return true;
  }

  bool parse_unary(Node& out, const Context* context, int depth) {
    skip_space();
    if (at_end() || text_[pos_] == ')' || at_keyword("AND") || at_keyword("OR")) return fail(pos_, "a term");
    const char c = text_[pos_];
    const bool not_keyword = at_keyword("NOT");
    const bool sign = (c == '-' || c == '+') && pos_ + 1 < text_.size() && !is_space(text_[pos_ + 1]) &&
                      text_[pos_ + 1] != ')';
    if (not_keyword || sign) {
      if (!deeper(depth)) return false;
      pos_ += not_keyword ? 3 : 1;
      skip_space();
      if (not_keyword && !term_follows()) return fail(pos_, "a term after NOT");
      Node child;
      if (!parse_unary(child, context, depth)) return false;
      if (c == '+') {
        out = std::move(child);
        return true;
      }
      out = Node();
      out.kind = Kind::kNot;
      out.children.push_back(std::move(child));
      return true;
    }
    if (c == '(') return parse_group(out, context, depth);
    return parse_clause(out, context, depth);
  }

  bool parse_group(Node& out, const Context* context, int depth) {
    const size_t open = pos_;
    if (!deeper(depth)) return false;
    ++pos_;
    skip_space();
    if (!at_end() && text_[pos_] == ')') return fail(pos_, "a term");
    if (at_end()) return fail(pos_, "')' to close the '(' at position " + std::to_string(open));
    if (!parse_or(out, context, depth)) return false;
    skip_space();
    if (at_end()) return fail(pos_, "')' to close the '(' at position " + std::to_string(open));
    ++pos_;  // parse_or stops only at the end or at ')'
    return true;
  }

  // Reads "..." at pos_; backslash escapes the next byte.
  bool read_quoted(Word& word) {
    word.position = pos_;
    word.quoted = true;
    const size_t open = pos_++;
    while (!at_end() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      word.text.push_back(text_[pos_++]);
      word.wild.push_back(0);
    }
    if (at_end()) return fail(pos_, "'\"' to close the quote at position " + std::to_string(open));
    ++pos_;
    return true;
  }

  // Reads an unquoted word up to a space, a parenthesis, a quote, one of
  // `stops`, or (with `stop_at_colon`) an unescaped ':'.
  void read_word(Word& word, bool stop_at_colon, std::string_view stops = {}) {
    word.position = pos_;
    while (!at_end()) {
      char c = text_[pos_];
      if (is_space(c) || c == '(' || c == ')' || c == '"' || (stop_at_colon && c == ':') ||
          stops.find(c) != std::string_view::npos) {
        break;
      }
      uint8_t wild = (c == '*' || c == '?') ? static_cast<uint8_t>(c) : 0;
      if (c == '\\' && pos_ + 1 < text_.size()) {
        c = text_[++pos_];
        wild = 0;
      }
      word.text.push_back(c);
      word.wild.push_back(wild);
      ++pos_;
    }
  }

  bool parse_clause(Node& out, const Context* context, int depth) {
    const char c = text_[pos_];
    const std::string field = context ? context->name : std::string();
    if (c == '"') {
      Word word;
      if (!read_quoted(word)) return false;
      return make_value(out, field, word);
    }
    if (c == '/') return parse_regex(out, field);
    if (c == '[' || c == '{') {
      if (!context) return fail(pos_, "a field name before a range");
      return parse_range(out, field);
    }
    if (context && (c == '>' || c == '<')) return parse_comparison(out, field);
    Word word;
    read_word(word, !context);
    if (!context && !at_end() && text_[pos_] == ':') {
      if (word.text.empty()) return fail(pos_, "a field name before ':'");
      for (size_t i = word.position; i < pos_; ++i) {
        if (!is_field_char(text_[i])) return fail(i, "a field name (letters, digits, '_', '.', '@', '-')");
      }
      ++pos_;
      return parse_field_value(out, Context{word.text, word.position}, depth);
    }
    return make_value(out, field, word);
  }

  bool parse_field_value(Node& out, const Context& context, int depth) {
    if (at_end() || is_space(text_[pos_]) || text_[pos_] == ')') {
      return fail(pos_, "a value after '" + context.name + ":'");
    }
    // A group's terms default to this field: `host:(a OR b)`.
    if (text_[pos_] == '(') return parse_group(out, &context, depth);
    return parse_clause(out, &context, depth);
  }

  bool parse_regex(Node& out, const std::string& field) {
    const size_t open = pos_++;
    std::string pattern;
    while (!at_end() && text_[pos_] != '/') {
      // `\/` is a slash; other escapes are RE2's.
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
        if (text_[pos_ + 1] != '/') pattern.push_back('\\');
        ++pos_;
      }
      pattern.push_back(text_[pos_++]);
    }
    if (at_end()) return fail(pos_, "'/' to close the regular expression at position " + std::to_string(open));
    ++pos_;
    if (field == "_exists_") return fail(open, "a field name after '_exists_:'");
    RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(true);
    auto regex = std::make_shared<const RE2>(pattern, options);
    if (!regex->ok()) return fail(open, "a valid regular expression: " + regex->error());
    out = Node();
    out.kind = Kind::kRegex;
    out.field_name = field;
    out.field = field.empty() ? QueryField::kMessage : field_of(field);
    out.value = std::move(pattern);
    out.regex = std::move(regex);
    return true;
  }

  // Reads one range bound (quoted, `*`, or a word up to a space or a
  // closing bracket) into `bound`.
  bool read_bound(RangeBound& bound, QueryField field, std::string_view stops) {
    Word word;
    if (!at_end() && text_[pos_] == '"') {
      if (!read_quoted(word)) return false;
    } else {
      read_word(word, false, stops);
      if (word.text.empty()) return fail(pos_, "a range bound");
    }
    if (!word.quoted && word.only_stars() && word.text.size() == 1) {
      bound.present = false;
      bound.inclusive = true;
      return true;
    }
    bound.present = true;
    bound.text = lowered(word.text);
    if (field == QueryField::kSeverity || field == QueryField::kFacility) {
      const int code = parse_code(field, bound.text);
      if (code < 0) {
        return fail(word.position, field == QueryField::kSeverity ? "a severity name or number"
                                                                  : "a facility name or number");
      }
      bound.is_number = true;
      bound.number = code;
      bound.text = std::to_string(code);
      return true;
    }
    if (auto number = parse_number(word.text)) {
      bound.is_number = true;
      bound.number = *number;
    }
    if (auto time = parse_rfc3339(word.text)) {
      bound.is_time = true;
      bound.time_ns = *time;
    }
    if (field == QueryField::kTimestamp && !bound.is_time) return fail(word.position, "an RFC3339 time");
    return true;
  }

  bool parse_range(Node& out, const std::string& field) {
    if (field == "_exists_") return fail(pos_, "a field name after '_exists_:'");
    const size_t open = pos_;
    out = Node();
    out.kind = Kind::kRange;
    out.field_name = field;
    out.field = field_of(field);
    if (is_text(out.field)) out.field = QueryField::kRaw;
    const bool lower_inclusive = text_[pos_++] == '[';
    skip_space();
    if (text_.substr(pos_, 3) == "TO ") return fail(pos_, "a range bound");
    if (!read_bound(out.lower, out.field, "]}")) return false;
    if (out.lower.present) out.lower.inclusive = lower_inclusive;
    skip_space();
    if (text_.substr(pos_, 2) != "TO" || (pos_ + 2 < text_.size() && !is_space(text_[pos_ + 2]))) {
      return fail(pos_, "TO");
    }
    pos_ += 2;
    skip_space();
    if (!at_end() && (text_[pos_] == ']' || text_[pos_] == '}')) return fail(pos_, "a range bound");
    if (!read_bound(out.upper, out.field, "]}")) return false;
    skip_space();
    if (at_end()) return fail(pos_, "']' or '}' to close the range at position " + std::to_string(open));
    if (text_[pos_] != ']' && text_[pos_] != '}') return fail(pos_, "']' or '}'");
    if (out.upper.present) out.upper.inclusive = text_[pos_] == ']';
    ++pos_;
    return true;
  }

  bool parse_comparison(Node& out, const std::string& field) {
    if (field == "_exists_") return fail(pos_, "a field name after '_exists_:'");
    const bool greater = text_[pos_] == '>';
    const size_t op_start = pos_++;
    const bool inclusive = !at_end() && text_[pos_] == '=';
    if (inclusive) ++pos_;
    if (at_end() || is_space(text_[pos_]) || text_[pos_] == ')') {
      return fail(pos_, "a value after '" + std::string(text_.substr(op_start, pos_ - op_start)) + "'");
    }
    out = Node();
    out.kind = Kind::kRange;
    out.field_name = field;
    out.field = field_of(field);
    if (is_text(out.field)) out.field = QueryField::kRaw;
    RangeBound& bound = greater ? out.lower : out.upper;
    if (!read_bound(bound, out.field, "")) return false;
    if (!bound.present) return fail(op_start + (inclusive ? 2 : 1), "a value, not '*'");
    bound.inclusive = inclusive;
    return true;
  }

  // A word or quoted value of `field` ("" for bare text).
  bool make_value(Node& out, const std::string& field, const Word& word) {
    out = Node();
    if (field == "_exists_") {
      if (word.text.empty() || word.has_wildcard()) return fail(word.position, "a field name after '_exists_:'");
      out.kind = Kind::kExists;
      out.field_name = word.text;
      out.field = field_of(word.text);
      if (out.field == QueryField::kText) out.field = QueryField::kMessage;
      return true;
    }
    out.field_name = field;
    out.field = field_of(field);
    const bool wild = !word.quoted && word.has_wildcard();
    if (wild && word.only_stars()) {
      // `*` alone: everything; `field:*`: the field exists.
      out.kind = field.empty() ? Kind::kAll : Kind::kExists;
      return true;
    }
    if (is_text(out.field)) {
      if (!wild) {
        out.kind = Kind::kWords;
        out.value = lowered(word.text);
        prepare_tokens(out);
        return true;
      }
      out.kind = Kind::kPatterns;
      out.value = lowered(word.text);
      // Token patterns: maximal runs of token bytes and wildcards.
      size_t i = 0;
      while (i < word.text.size()) {
        auto in_pattern = [&](size_t j) { return word.wild[j] != 0 || token_detail::is_token_byte(word.text[j]); };
        while (i < word.text.size() && !in_pattern(i)) ++i;
        const size_t begin = i;
        while (i < word.text.size() && in_pattern(i)) ++i;
        if (i > begin) out.patterns.push_back(glob_of(word, begin, i));
      }
      return true;
    }
    if (wild) {
      out.kind = Kind::kWildcard;
      out.glob = glob_of(word, 0, word.text.size());
      out.value = lowered(word.text);
      return true;
    }
    out.kind = Kind::kEquals;
    out.value = lowered(word.text);
    if (out.field == QueryField::kSeverity || out.field == QueryField::kFacility) {
      out.code = parse_code(out.field, out.value);
    } else if (out.field == QueryField::kTimestamp) {
      auto time = parse_rfc3339(word.text);
      if (!time) return fail(word.position, "an RFC3339 time");
      out.time_ns = *time;
    }
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Printing.

std::string atom(std::string_view text) {
  bool plain = !text.empty();
  for (char c : text) {
    if (is_space(c) || c == '(' || c == ')' || c == '"' || c == '\\') plain = false;
  }
  if (plain) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string glob_text(const Glob& glob) {
  std::string out;
  for (size_t i = 0; i < glob.pattern.size(); ++i) {
    const char c = glob.pattern[i];
    if (glob.wild[i] == 0 && (c == '*' || c == '?' || c == '\\')) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string field_text(const Node& node) { return node.field_name.empty() ? "message" : node.field_name; }

void print(const Node& node, std::string& out) {
  switch (node.kind) {
    case Kind::kAll:
      out += "*";
      return;
    case Kind::kAnd:
    case Kind::kOr:
      out += node.kind == Kind::kAnd ? "(and" : "(or";
      for (const Node& child : node.children) {
        out += ' ';
        print(child, out);
      }
      out += ')';
      return;
    case Kind::kNot:
      out += "(not ";
      print(node.children[0], out);
      out += ')';
      return;
    case Kind::kWords:
      if (node.tokens.empty()) {
        out += "(substring " + field_text(node) + " " + atom(node.value) + ")";
        return;
      }
      out += "(words " + field_text(node);
      for (const std::string& token : node.tokens) out += " " + atom(token);
      out += ')';
      return;
    case Kind::kPatterns:
      out += "(patterns " + field_text(node);
      for (const Glob& glob : node.patterns) out += " " + atom(glob_text(glob));
      out += ')';
      return;
    case Kind::kEquals:
      out += "(= " + field_text(node) + " " + atom(node.value) + ")";
      return;
    case Kind::kWildcard:
      out += "(wildcard " + field_text(node) + " " + atom(glob_text(node.glob)) + ")";
      return;
    case Kind::kRegex:
      out += "(regex " + field_text(node) + " /" + node.value + "/)";
      return;
    case Kind::kRange: {
      auto bound = [](const RangeBound& b) { return b.present ? atom(b.text) : std::string("*"); };
      out += "(range " + field_text(node) + " ";
      out += node.lower.present && !node.lower.inclusive ? '{' : '[';
      out += bound(node.lower) + " TO " + bound(node.upper);
      out += node.upper.present && !node.upper.inclusive ? '}' : ']';
      out += ')';
      return;
    }
    case Kind::kExists:
      out += "(exists " + field_text(node) + ")";
      return;
  }
}

// ---------------------------------------------------------------------------
// Required terms.

// Calls fn(term) for each term of the top-level AND chain.
template <class Fn>
void for_each_required(const Node& node, Fn&& fn) {
  if (node.kind == Kind::kAnd) {
    for (const Node& child : node.children) for_each_required(child, fn);
    return;
  }
  fn(node);
}

bool is_code(QueryField field) { return field == QueryField::kSeverity || field == QueryField::kFacility; }

bool has_postings_kind(QueryField field) {
  switch (field) {
    case QueryField::kHost:
    case QueryField::kApp:
    case QueryField::kSeverity:
    case QueryField::kFacility:
    case QueryField::kInput:
    case QueryField::kParsed:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool Glob::matches(std::string_view text) const {
  const size_t n = pattern.size();
  size_t p = 0, t = 0;
  size_t star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < n && wild[p] == '*') {
      star = p++;
      mark = t;
      continue;
    }
    if (p < n && (wild[p] == '?' || (wild[p] == 0 && pattern[p] == ascii_lower(text[t])))) {
      ++p;
      ++t;
      continue;
    }
    if (star == std::string::npos) return false;
    p = star + 1;
    t = ++mark;
  }
  while (p < n && wild[p] == '*') ++p;
  return p == n;
}

bool Glob::has_wildcard() const {
  for (uint8_t w : wild) {
    if (w != 0) return true;
  }
  return false;
}

Expected<Query> parse_query(std::string_view text, QueryError* error) {
  Parser parser(text);
  Query query;
  if (!parser.parse(query.root)) {
    if (error != nullptr) *error = parser.error;
    return Status::error(parser.error.message());
  }
  return query;
}

bool query_matches(const Query& query, const EventView& event) { return node_matches(query.root, event); }

std::string canonical_code_value(std::string_view field, std::string_view lowered) {
  if (field != "severity" && field != "facility") return std::string(lowered);
  // The filter and the postings hold codes as plain numbers: "03" is 3.
  unsigned number = 0;
  auto [end, ec] = std::from_chars(lowered.data(), lowered.data() + lowered.size(), number);
  if (ec == std::errc() && end == lowered.data() + lowered.size()) return std::to_string(number);
  return std::string(lowered);
}

std::vector<uint64_t> required_filter_hashes(const Query& query) {
  std::vector<uint64_t> hashes;
  std::string scratch;
  auto add_text = [&](std::string_view text) {
    // Long numbers are not in block filters (token_filter.h): a block
    // without them in its filter may still hold them.
    for_each_token(text, scratch, [&](std::string_view token) {
      if (in_block_filter(token)) hashes.push_back(text_token_hash(token));
    });
  };
  for_each_required(query.root, [&](const Node& node) {
    switch (node.kind) {
      case Kind::kWords:
        add_text(node.value);
        return;
      case Kind::kPatterns:
        // A pattern without wildcards is one whole token (its bytes are
        // token bytes).
        for (const Glob& glob : node.patterns) {
          if (!glob.has_wildcard() && in_block_filter(glob.pattern)) hashes.push_back(text_token_hash(glob.pattern));
        }
        return;
      case Kind::kEquals:
        // message:value is equality, so the value's tokens are the message's.
        if (node.field == QueryField::kMessage) {
          add_text(node.value);
        } else if (has_postings_kind(node.field) && !node.value.empty()) {
          const std::string value = canonical_code_value(node.field_name, node.value);
          if (in_block_filter(value)) hashes.push_back(field_token_hash(node.field_name, value));
        }
        return;
      default:
        return;
    }
  });
  return hashes;
}

std::vector<std::pair<std::string, std::string>> required_posting_terms(const Query& query) {
  std::vector<std::pair<std::string, std::string>> terms;
  for_each_required(query.root, [&](const Node& node) {
    if (node.kind != Kind::kEquals || !has_postings_kind(node.field) || node.value.empty()) return;
    // Postings hold severity and facility as numbers; a name that is no
    // code stays as it is and so finds no block (nor does it match).
    std::string value = is_code(node.field) && node.code >= 0 ? std::to_string(node.code)
                                                              : canonical_code_value(node.field_name, node.value);
    terms.emplace_back(node.field_name, std::move(value));
  });
  return terms;
}

std::string to_string(const Query& query) {
  std::string out;
  print(query.root, out);
  return out;
}

}  // namespace sluice::storage
