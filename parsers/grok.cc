#include "parsers/grok.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace sluice::parsers {
namespace {

// RE2's budget for one compiled copy: the program plus its lazily grown DFA
// cache. RE2's default (8 MiB) compiles every legacy pattern (the largest,
// BACULA_LOGLINE, is 12.5k instructions) and measured no slower than 64 MiB
// on 64 KiB lines (bench/micro/grok_bench.cc), and each worker has a copy.
constexpr int64_t kRe2MaxMemBytes = 8 << 20;

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_';
}

// jls-grok's subname characters: [@\[\]A-z0-9_:.-].
bool is_subname_char(char c) {
  return is_name_char(c) || c == '@' || c == '[' || c == ']' || c == ':' ||
         c == '.' || c == '-';
}

// `[a][b]` (Logstash's nested field reference) is the dotted `a.b`.
std::string normalize_field(std::string_view field) {
  if (field.size() < 3 || field.front() != '[' || field.back() != ']')
    return std::string(field);
  std::string out;
  size_t i = 0;
  while (i < field.size()) {
    if (field[i] != '[')
      return std::string(field);
    size_t close = field.find(']', i);
    if (close == std::string_view::npos || close == i + 1)
      return std::string(field);
    if (!out.empty())
      out += '.';
    out.append(field.substr(i + 1, close - i - 1));
    i = close + 1;
  }
  return out;
}

std::string column_suffix(size_t offset) {
  return " at column " + std::to_string(offset + 1);
}

// Unicode-aware replacements for POSIX classes inside brackets: Onigmo
// applies them to all of Unicode for UTF-8 text, RE2 only to ASCII.
std::string_view posix_class(std::string_view name) {
  if (name == "alnum")
    return "\\p{L}\\p{M}\\p{Nd}";
  if (name == "alpha")
    return "\\p{L}\\p{M}";
  if (name == "digit")
    return "\\p{Nd}";
  if (name == "lower")
    return "\\p{Ll}";
  if (name == "upper")
    return "\\p{Lu}";
  if (name == "space")
    return "\\s\\x0B\\p{Z}";
  if (name == "word")
    return "\\w\\p{L}\\p{M}\\p{N}\\p{Pc}";
  if (name == "xdigit")
    return "0-9A-Fa-f";
  if (name == "punct")
    return "[:punct:]\\p{P}";
  return {};
}

class Compiler {
public:
  explicit Compiler(const PatternLibrary &library) : library_(library) {}

  Status run(std::string_view expression) {
    return translate(expression, /*top=*/true);
  }

  std::string regex;
  std::vector<GrokCapture> captures;
  bool line_anchors = false;

private:
  // Where an error inside a referenced definition is reported: the
  // top-level reference that led there.
  std::string context(size_t offset, bool top) const {
    if (top)
      return column_suffix(offset);
    return " in " + std::string(top_ref_) + column_suffix(top_offset_);
  }

  Status error(const std::string &what, size_t offset, bool top) const {
    return Status::error(what + context(offset, top));
  }

  Status translate(std::string_view text, bool top) {
    size_t i = 0;
    const size_t n = text.size();
    while (i < n) {
      const char c = text[i];
      if (c == '\\') {
        if (i + 1 >= n)
          return error("bad regex: trailing backslash", i, top);
        const char e = text[i + 1];
        if (e == 'h') {
          regex += "[0-9A-Fa-f]";
        } else if (e == 'H') {
          regex += "[^0-9A-Fa-f]";
        } else if (e == 'Z') {
          regex += "(?:\\n?\\z)"; // Ruby: end, or before a final newline
        } else if (e == 'k' || e == 'g' || (e >= '1' && e <= '9')) {
          return error("backreferences and subexpression calls (\\" +
                           std::string(1, e) + ") are not supported by RE2",
                       i, top);
        } else {
          regex += c;
          regex += e;
        }
        i += 2;
      } else if (c == '[') {
        regex += '[';
        ++i;
        if (Status s = char_class(text, i, top, /*nested=*/false); !s)
          return s;
      } else if (c == '(') {
        if (Status s = group(text, i, top); !s)
          return s;
      } else if (c == '%' && i + 1 < n && text[i + 1] == '{') {
        if (Status s = reference(text, i, top); !s)
          return s;
      } else {
        if (c == '^' || c == '$')
          line_anchors = true;
        regex += c;
        ++i;
      }
    }
    return Status::ok();
  }

  // At text[i] == '(': translates the group opener.
  Status group(std::string_view text, size_t &i, bool top) {
    const size_t start = i;
    std::string_view rest = text.substr(i);
    if (rest.size() < 2 || rest[1] != '?') {
      regex += "(?:"; // grok keeps only named captures
      ++i;
      return Status::ok();
    }
    auto named = [&](size_t name_start, char close) -> Status {
      size_t end = text.find(close, name_start);
      if (end == std::string_view::npos)
        return error("bad regex: unterminated group name", start, top);
      add_capture(text.substr(name_start, end - name_start));
      regex += '(';
      i = end + 1;
      return Status::ok();
    };
    if (rest.starts_with("(?<=") || rest.starts_with("(?<!")) {
      return error("lookbehind " + std::string(rest.substr(0, 4)) +
                       " is not supported by RE2",
                   start, top);
    }
    if (rest.starts_with("(?=") || rest.starts_with("(?!")) {
      return error("lookahead " + std::string(rest.substr(0, 3)) +
                       " is not supported by RE2",
                   start, top);
    }
    if (rest.starts_with("(?<"))
      return named(i + 3, '>');
    if (rest.starts_with("(?P<"))
      return named(i + 4, '>');
    if (rest.starts_with("(?'"))
      return named(i + 3, '\'');
    if (rest.starts_with("(?P=") || rest.starts_with("(?P>")) {
      return error(
          "backreferences and subexpression calls are not supported by RE2",
          start, top);
    }
    if (rest.starts_with("(?>")) {
      regex += "(?:"; // atomic group: same language, backtracking aside
      i += 3;
      return Status::ok();
    }
    if (rest.starts_with("(?#")) {
      size_t end = text.find(')', i);
      if (end == std::string_view::npos)
        return error("bad regex: unterminated comment", start, top);
      i = end + 1;
      return Status::ok();
    }
    // Flags: Ruby's m is "dot matches newline", RE2's s.
    size_t j = 2;
    while (j < rest.size() && (rest[j] == 'i' || rest[j] == 'm' ||
                               rest[j] == 'x' || rest[j] == '-'))
      ++j;
    if (j > 2 && j < rest.size() && (rest[j] == ')' || rest[j] == ':')) {
      std::string flags(rest.substr(2, j - 2));
      if (flags.find('x') != std::string::npos) {
        return error("extended mode (?x) is not supported by RE2", start, top);
      }
      std::replace(flags.begin(), flags.end(), 'm', 's');
      regex += "(?";
      regex += flags;
      regex += rest[j];
      i += j + 1;
      return Status::ok();
    }
    regex += "(?";
    i += 2;
    return Status::ok();
  }

  // After '[' (already emitted unless nested): the class body up to and
  // including its ']'. Nested classes are flattened into the outer one.
  Status char_class(std::string_view text, size_t &i, bool top, bool nested) {
    const size_t start = i;
    const size_t n = text.size();
    if (i < n && text[i] == '^') {
      if (nested)
        return error("negated nested character classes are not supported", i,
                     top);
      regex += '^';
      ++i;
    }
    if (i < n && text[i] == ']') {
      regex += "\\]";
      ++i;
    }
    while (i < n) {
      const char c = text[i];
      if (c == ']') {
        if (!nested)
          regex += ']';
        ++i;
        return Status::ok();
      }
      if (c == '\\') {
        if (i + 1 >= n)
          break;
        const char e = text[i + 1];
        if (e == 'h') {
          regex += "0-9A-Fa-f";
        } else {
          regex += c;
          regex += e;
        }
        i += 2;
      } else if (c == '[' && i + 1 < n && text[i + 1] == ':') {
        size_t end = text.find(":]", i + 2);
        if (end == std::string_view::npos)
          return error("bad regex: unterminated [:class:]", i, top);
        std::string_view name = text.substr(i + 2, end - i - 2);
        std::string_view unicode = posix_class(name);
        if (unicode.empty()) {
          regex.append(text.substr(i, end + 2 - i));
        } else {
          regex.append(unicode);
        }
        i = end + 2;
      } else if (c == '[') {
        ++i;
        if (Status s = char_class(text, i, top, /*nested=*/true); !s)
          return s;
      } else if (c == '&' && i + 1 < n && text[i + 1] == '&') {
        return error("character class intersection && is not supported by RE2",
                     i, top);
      } else {
        regex += c;
        ++i;
      }
    }
    return error("bad regex: missing ] for character class", start - 1, top);
  }

  // At text[i] == '%', text[i + 1] == '{'.
  Status reference(std::string_view text, size_t &i, bool top) {
    const size_t start = i;
    size_t close = text.find('}', i);
    if (close == std::string_view::npos)
      return error("unterminated %{ reference", start, top);
    std::string_view whole = text.substr(i, close + 1 - i);
    std::string_view body = text.substr(i + 2, close - i - 2);
    size_t k = 0;
    while (k < body.size() && is_name_char(body[k]))
      ++k;
    std::string_view name = body.substr(0, k);
    if (name.empty())
      return error("malformed reference " + std::string(whole), start, top);
    std::string_view subname;
    if (k < body.size() && body[k] == ':') {
      size_t s = ++k;
      while (k < body.size() && is_subname_char(body[k]))
        ++k;
      subname = body.substr(s, k - s);
    }
    if (k < body.size() && body[k] == '=') {
      return error("inline pattern definitions (" + std::string(whole) +
                       ") are not supported",
                   start, top);
    }
    // jls-grok ignores anything else up to '}' ("%{NAGIOSTIME - comment}").

    const std::string *definition = library_.find(name);
    if (definition == nullptr) {
      return error("unknown pattern name " + std::string(name) + " in " +
                       std::string(whole),
                   start, top);
    }
    if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
      std::string chain;
      for (std::string_view s : stack_)
        chain += "%{" + std::string(s) + "} -> ";
      chain += "%{" + std::string(name) + "}";
      return error("recursive pattern: " + chain, start, top);
    }

    if (!subname.empty()) {
      FieldType type = FieldType::kString;
      std::string_view field = subname;
      size_t colon = subname.rfind(':');
      if (colon != std::string_view::npos) {
        std::string_view suffix = subname.substr(colon + 1);
        if (suffix == "int") {
          type = FieldType::kInt;
        } else if (suffix == "float") {
          type = FieldType::kFloat;
        } else {
          return error("unknown type \"" + std::string(suffix) + "\" in " +
                           std::string(whole) + " (int or float)",
                       start, top);
        }
        field = subname.substr(0, colon);
      }
      if (field.empty())
        return error("empty field name in " + std::string(whole), start, top);
      captures.push_back(GrokCapture{normalize_field(field), type});
      regex += '(';
    } else {
      regex += "(?:";
    }
    if (top) {
      top_ref_ = whole;
      top_offset_ = start;
    }
    stack_.push_back(name);
    Status s = translate(*definition, /*top=*/false);
    stack_.pop_back();
    if (!s)
      return s;
    regex += ')';
    i = close + 1;
    return Status::ok();
  }

  void add_capture(std::string_view name) {
    FieldType type = FieldType::kString;
    size_t colon = name.rfind(':');
    if (colon != std::string_view::npos) {
      std::string_view suffix = name.substr(colon + 1);
      if (suffix == "int" || suffix == "float") {
        type = suffix == "int" ? FieldType::kInt : FieldType::kFloat;
        name = name.substr(0, colon);
      }
    }
    captures.push_back(GrokCapture{normalize_field(name), type});
  }

  const PatternLibrary &library_;
  std::vector<std::string_view> stack_;
  std::string_view top_ref_;
  size_t top_offset_ = 0;
};

const RE2 &pick(const RE2 &single_line, const RE2 *multi_line,
                std::string_view text) {
  if (multi_line != nullptr &&
      std::memchr(text.data(), '\n', text.size()) != nullptr) {
    return *multi_line;
  }
  return single_line;
}

// A plain JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  auto digits = [&] {
    size_t b = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      ++i;
    return i - b;
  };
  if (i < n && s[i] == '-')
    ++i;
  if (i < n && s[i] == '0') {
    ++i;
  } else if (i < n && s[i] >= '1' && s[i] <= '9') {
    digits();
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (digits() == 0)
      return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      ++i;
    if (digits() == 0)
      return false;
  }
  return i == n;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

} // namespace

RE2::Options GrokPattern::options() {
  RE2::Options options;
  options.set_dot_nl(true);
  options.set_log_errors(false);
  options.set_max_mem(kRe2MaxMemBytes);
  return options;
}

Expected<GrokPattern> GrokPattern::compile(std::string_view expression,
                                           const PatternLibrary &library) {
  Compiler compiler(library);
  if (Status s = compiler.run(expression); !s)
    return s;

  GrokPattern pattern;
  pattern.expression_ = std::string(expression);
  pattern.regex_ = std::move(compiler.regex);
  pattern.captures_ = std::move(compiler.captures);
  pattern.has_line_anchors_ = compiler.line_anchors;
  pattern.segments_ = plan_segments(
      pattern.regex_, static_cast<int>(pattern.captures_.size()));

  auto single = std::make_shared<RE2>(pattern.regex_, options());
  if (!single->ok()) {
    std::string message = "bad regex: " + single->error();
    size_t at = expression.find(single->error_arg());
    if (!single->error_arg().empty() && at != std::string_view::npos)
      message += column_suffix(at);
    return Status::error(message);
  }
  SLUICE_ASSERT(single->NumberOfCapturingGroups() ==
                    static_cast<int>(pattern.captures_.size()),
                "every RE2 group is a grok capture");
  pattern.single_line_ = std::move(single);
  if (pattern.has_line_anchors_) {
    auto multi = std::make_shared<RE2>("(?m)" + pattern.regex_, options());
    if (!multi->ok())
      return Status::error("bad regex: " + multi->error());
    pattern.multi_line_ = std::move(multi);
  }
  return pattern;
}

bool GrokPattern::match(std::string_view text,
                        std::vector<re2::StringPiece> &groups) const {
  const size_t n = captures_.size() + 1;
  if (groups.size() != n)
    groups.resize(n);
  const RE2 &re = pick(*single_line_, multi_line_.get(), text);
  re2::StringPiece input(text.data(), text.size());
  return re.Match(input, 0, input.size(), RE2::UNANCHORED, groups.data(),
                  static_cast<int>(n));
}

// The per-worker RE2 copies of the segmented plan, per step. `language`
// decides where a piece followed by a literal ends: capture-free and
// leftmost-longest, so one DFA run tells the longest match of the piece
// alone; `alt_language` does the same per branch of a `(?:A|B)` piece. The
// last piece's end is where leftmost-first stops (`preferred`, DFA only).
// `captured` / `alt_captured` extract captures nested deeper. `suffix`
// (compiled on first use) takes over when a piece's boundary is not forced
// on a line, and is the search for a kRest step.
struct GrokMatcher::Segmented {
  struct Step {
    std::unique_ptr<RE2> language;
    std::unique_ptr<RE2> preferred;
    std::unique_ptr<RE2> captured;
    std::vector<std::unique_ptr<RE2>> alt_language;
    std::vector<std::unique_ptr<RE2>> alt_captured;
    std::unique_ptr<RE2> suffix;
  };
  std::vector<Step> steps;
  std::vector<re2::StringPiece> sub; // submatches of a piece or a suffix
};

namespace {

RE2::Options language_options() {
  RE2::Options options = GrokPattern::options();
  options.set_longest_match(true);
  options.set_never_capture(true);
  return options;
}

RE2::Options preferred_options() {
  RE2::Options options = GrokPattern::options();
  options.set_never_capture(true);
  return options;
}

// The RE2 that extracts a part's captures, when its span alone is not its
// one capture.
bool needs_captured(const GrokPart &part) {
  return part.captures > 0 && !part.is_single_capture;
}

} // namespace

GrokMatcher::GrokMatcher(const GrokPattern &pattern, bool segmented)
    : pattern_(&pattern), single_line_(std::make_unique<RE2>(
                              pattern.regex_, GrokPattern::options())),
      groups_(pattern.captures_.size() + 1) {
  if (pattern.has_line_anchors_) {
    multi_line_ =
        std::make_unique<RE2>("(?m)" + pattern.regex_, GrokPattern::options());
  }
  SLUICE_ASSERT(single_line_->ok(), "a copy of a compiled pattern compiles");
  const GrokSegments &plan = pattern.segments_;
  if (!segmented || !plan.useful() || pattern.captures_.empty())
    return;
  auto state = std::make_unique<Segmented>();
  bool ok = true;
  auto compile = [&ok](const std::string &text, const RE2::Options &options,
                       int captures) {
    auto re = std::make_unique<RE2>(text, options);
    ok = ok && re->ok() &&
         (options.never_capture() ||
          re->NumberOfCapturingGroups() == captures);
    return re;
  };
  for (const GrokSegment &segment : plan.steps) {
    Segmented::Step step;
    if (segment.kind == GrokSegment::Kind::kPiece) {
      if (&segment == &plan.steps.back())
        step.preferred = compile(segment.text, preferred_options(), 0);
      else
        step.language = compile(segment.text, language_options(), 0);
      for (const GrokPart &branch : segment.alternatives) {
        step.alt_language.push_back(
            compile(branch.text, language_options(), 0));
        step.alt_captured.push_back(
            needs_captured(branch)
                ? compile(branch.text, GrokPattern::options(), branch.captures)
                : nullptr);
      }
      if (needs_captured(segment) && segment.alternatives.empty())
        step.captured =
            compile(segment.text, GrokPattern::options(), segment.captures);
    }
    state->steps.push_back(std::move(step));
  }
  // A piece that does not compile on its own (it cannot happen for a split
  // of valid RE2, but a wrong plan must never change results) disables the
  // plan.
  if (!ok)
    return;
  state->sub.resize(pattern.captures_.size() + 1); // the largest suffix
  segmented_ = std::move(state);
}

GrokMatcher::GrokMatcher(GrokMatcher &&) noexcept = default;
GrokMatcher &GrokMatcher::operator=(GrokMatcher &&) noexcept = default;
GrokMatcher::~GrokMatcher() = default;

bool GrokMatcher::match(std::string_view text) {
  const RE2 &re = pick(*single_line_, multi_line_.get(), text);
  re2::StringPiece input(text.data(), text.size());
  if (groups_.size() == 1) // without captures RE2 needs only its DFA
    return re.Match(input, 0, input.size(), RE2::UNANCHORED, nullptr, 0);
  if (segmented_ == nullptr || &re != single_line_.get()) {
    return re.Match(input, 0, input.size(), RE2::UNANCHORED, groups_.data(),
                    static_cast<int>(groups_.size()));
  }
  // Most lines match from their first byte, and a parse the plan finds from
  // there is the leftmost match: no search for the bounds is needed.
  size_t found_end = 0;
  if (match_segments(input, 0, found_end)) {
    groups_[0] = re2::StringPiece(text.data(), found_end);
    ++segmented_matches_;
    return true;
  }
  // The bounds of the match: DFA only (forward for the end, backward for
  // the leftmost start), no submatch engine.
  if (!re.Match(input, 0, input.size(), RE2::UNANCHORED, groups_.data(), 1))
    return false;
  const size_t start = groups_[0].data() - text.data();
  const size_t end = start + groups_[0].size();
  if (start > 0 && match_segments(input, start, found_end)) {
    ++segmented_matches_;
    return true;
  }
  // The leftmost-first match over exactly [start, end) is the one the
  // unanchored search reports (it starts at `start` and is preferred over
  // every other parse starting there).
  ++fallback_matches_;
  return re.Match(input, start, end, RE2::ANCHOR_BOTH, groups_.data(),
                  static_cast<int>(groups_.size()));
}

// `start` is where the leftmost match starts if one starts there, so every
// step below reasons about all parses starting at `start` and every search
// that reaches the end is anchored at its start only: it stops where
// leftmost-first stops.
bool GrokMatcher::match_segments(re2::StringPiece input, size_t start,
                                 size_t &found_end) {
  const GrokSegments &plan = pattern_->segments_;
  Segmented &state = *segmented_;
  const char *text = input.data();
  const size_t end = input.size();
  const int capture_count = static_cast<int>(groups_.size()) - 1;
  auto copy_sub = [&](int first_capture, int captures) {
    for (int k = 0; k < captures; ++k)
      groups_[first_capture + k + 1] = state.sub[k + 1];
  };
  auto clear = [&](const GrokPart &part) {
    for (int k = 0; k < part.captures; ++k)
      groups_[part.first_capture + k + 1] = re2::StringPiece();
  };
  // `part` covers [a, b) in every parse considered: its captures.
  auto capture_span = [&](const GrokPart &part, const RE2 *captured, size_t a,
                          size_t b) {
    if (part.is_single_capture) {
      groups_[part.first_capture + 1] = re2::StringPiece(text + a, b - a);
      return true;
    }
    if (part.captures == 0)
      return true;
    if (!captured->Match(input, a, b, RE2::ANCHOR_BOTH, state.sub.data(),
                         part.captures + 1))
      return false;
    copy_sub(part.first_capture, part.captures);
    return true;
  };
  // Piece k covers [a, b): leftmost-first takes the first branch that can.
  auto resolve = [&](size_t k, size_t a, size_t b) {
    const GrokSegment &piece = plan.steps[k];
    const Segmented::Step &step = state.steps[k];
    if (piece.alternatives.empty())
      return capture_span(piece, step.captured.get(), a, b);
    for (size_t i = 0; i < piece.alternatives.size(); ++i) {
      if (step.alt_language[i]->Match(input, a, b, RE2::ANCHOR_BOTH, nullptr,
                                      0)) {
        clear(piece);
        return capture_span(piece.alternatives[i], step.alt_captured[i].get(),
                            a, b);
      }
    }
    return false;
  };
  // Where `language` must end from `a` when a literal starting with
  // `delimiter` follows: every parse ends it at a delimiter it can match up
  // to, so if its longest match ends at a delimiter and no earlier delimiter
  // ends a match of it, that is the one end (a DFA run per earlier
  // delimiter, at most kMaxEarlierDelimiters of them).
  auto forced_by = [&](const RE2 &language, size_t a, char delimiter,
                       size_t &b) {
    constexpr int kMaxEarlierDelimiters = 8;
    re2::StringPiece longest;
    if (!language.Match(input, a, end, RE2::ANCHOR_START, &longest, 1))
      return false;
    const size_t last = longest.data() + longest.size() - text;
    if (last >= end || text[last] != delimiter)
      return false;
    int earlier = 0;
    for (size_t from = a;;) {
      const void *found = std::memchr(text + from, delimiter, last - from);
      if (found == nullptr)
        break;
      const size_t at = static_cast<const char *>(found) - text;
      if (++earlier > kMaxEarlierDelimiters ||
          language.Match(input, a, at, RE2::ANCHOR_BOTH, nullptr, 0))
        return false;
      from = at + 1;
    }
    b = last;
    return true;
  };
  // Piece k starting at `pos`: true with `piece_end` when its end is forced
  // in every parse, or (`assumed`) in every parse through its first branch.
  auto place = [&](size_t k, size_t pos, size_t &piece_end, bool &assumed) {
    const GrokSegment &piece = plan.steps[k];
    const Segmented::Step &step = state.steps[k];
    if (step.preferred != nullptr) { // the last step
      re2::StringPiece match;
      if (!step.preferred->Match(input, pos, end, RE2::ANCHOR_START, &match, 1))
        return false;
      piece_end = match.data() + match.size() - text;
      return resolve(k, pos, piece_end);
    }
    const char delimiter = plan.steps[k + 1].text[0];
    if (forced_by(*step.language, pos, delimiter, piece_end))
      return resolve(k, pos, piece_end);
    if (!piece.alternatives.empty() &&
        forced_by(*step.alt_language[0], pos, delimiter, piece_end)) {
      assumed = true;
      clear(piece);
      return capture_span(piece.alternatives[0], step.alt_captured[0].get(),
                          pos, piece_end);
    }
    return false;
  };
  // One submatch search from step k (at `pos`) on.
  auto run_suffix = [&](size_t k, size_t pos) {
    std::unique_ptr<RE2> &suffix = state.steps[k].suffix;
    const int captures = capture_count - plan.steps[k].first_capture;
    if (suffix == nullptr) {
      suffix = std::make_unique<RE2>(plan.steps[k].suffix,
                                     GrokPattern::options());
      if (!suffix->ok() || suffix->NumberOfCapturingGroups() != captures) {
        suffix.reset();
        return false;
      }
    }
    if (!suffix->Match(input, pos, end, RE2::ANCHOR_START, state.sub.data(),
                       captures + 1))
      return false;
    copy_sub(plan.steps[k].first_capture, captures);
    found_end = state.sub[0].data() + state.sub[0].size() - text;
    return true;
  };

  // The first piece placed by assuming its first branch: if the line
  // contradicts the assumption later, the search from there decides.
  size_t assumed_step = SIZE_MAX, assumed_pos = 0;
  auto contradicted = [&] {
    return assumed_step != SIZE_MAX && run_suffix(assumed_step, assumed_pos);
  };
  size_t pos = start;
  for (size_t k = 0; k < plan.steps.size(); ++k) {
    const GrokSegment &segment = plan.steps[k];
    if (segment.kind == GrokSegment::Kind::kLiteral) {
      if (end - pos < segment.text.size() ||
          std::memcmp(text + pos, segment.text.data(), segment.text.size()) !=
              0)
        return contradicted();
      pos += segment.text.size();
      continue;
    }
    size_t piece_end = 0;
    bool assumed = false;
    if (segment.kind == GrokSegment::Kind::kRest ||
        !place(k, pos, piece_end, assumed))
      return run_suffix(k, pos) || contradicted();
    if (assumed && assumed_step == SIZE_MAX) {
      assumed_step = k;
      assumed_pos = pos;
    }
    pos = piece_end;
  }
  found_end = pos;
  return true;
}

std::string_view convert_capture(std::string_view text, FieldType type,
                                 Arena &arena) {
  if (type == FieldType::kInt) {
    // Ruby's String#to_i: leading whitespace, optional sign, digits; no
    // digits is 0. The result is always a substring of the text except for
    // "-" followed by leading zeros, and "0".
    size_t i = 0;
    while (i < text.size() && is_space(text[i]))
      ++i;
    size_t sign = i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      negative = text[i] == '-';
      ++i;
    }
    size_t digits_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9')
      ++i;
    size_t digits_end = i;
    if (digits_start == digits_end)
      return "0";
    size_t first = digits_start;
    while (first + 1 < digits_end && text[first] == '0')
      ++first;
    std::string_view digits = text.substr(first, digits_end - first);
    if (!negative || digits == "0")
      return digits;
    if (first == sign + 1)
      return text.substr(sign, digits_end - sign);
    char *out = arena.allocate(digits.size() + 1);
    out[0] = '-';
    std::memcpy(out + 1, digits.data(), digits.size());
    return {out, digits.size() + 1};
  }
  if (type == FieldType::kFloat) {
    if (is_json_number(text))
      return text;
    // Ruby's String#to_f: the longest leading decimal number, else 0.0.
    size_t i = 0;
    while (i < text.size() && is_space(text[i]))
      ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      negative = text[i] == '-';
      ++i;
    }
    if (i >= text.size() ||
        !((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
      return "0.0";
    double value = 0;
    auto parsed = std::from_chars(text.data() + i, text.data() + text.size(),
                                  value, std::chars_format::general);
    if (parsed.ec != std::errc()) {
      if (parsed.ec != std::errc::result_out_of_range)
        return "0.0";
    }
    if (negative)
      value = -value;
    constexpr size_t kMaxChars =
        32; // shortest round-trip double, with sign and exponent
    char *out = arena.allocate(kMaxChars);
    auto written = std::to_chars(out, out + kMaxChars, value);
    return {out, static_cast<size_t>(written.ptr - out)};
  }
  return text;
}

} // namespace sluice::parsers
