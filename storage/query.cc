#include "storage/query.h"

#include <charconv>

#include "server/base/raw_batch.h"
#include "storage/token_filter.h"

namespace sluice::storage {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// `needle` is already lowercase.
bool contains_ignore_case(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  const char first = needle[0];
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (ascii_lower(haystack[i]) != first) continue;
    size_t j = 1;
    while (j < needle.size() && ascii_lower(haystack[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return true;
  }
  return false;
}

// True if the tokens of `text` contain term.tokens consecutively (KMP over
// tokens, so "a a b" is found in "a a a b").
bool contains_tokens(std::string_view text, const QueryTerm& term) {
  if (term.tokens.empty()) return contains_ignore_case(text, term.value);
  thread_local std::string scratch;
  size_t matched = 0;
  bool found = false;
  for_each_token(text, scratch, [&](std::string_view token) {
    if (found) return;
    while (matched > 0 && token != term.tokens[matched]) matched = term.token_failure[matched - 1];
    if (token == term.tokens[matched]) ++matched;
    if (matched == term.tokens.size()) found = true;
  });
  return found;
}

void prepare_tokens(QueryTerm& term) {
  std::string scratch;
  for_each_token(term.value, scratch, [&](std::string_view token) { term.tokens.emplace_back(token); });
  const size_t n = term.tokens.size();
  term.token_failure.assign(n, 0);
  for (size_t i = 1, k = 0; i < n; ++i) {
    while (k > 0 && term.tokens[i] != term.tokens[k]) k = term.token_failure[k - 1];
    if (term.tokens[i] == term.tokens[k]) ++k;
    term.token_failure[i] = static_cast<uint32_t>(k);
  }
}

bool is_text_field(std::string_view field) { return field.empty() || field == "raw"; }

bool equals_ignore_case(std::string_view text, std::string_view lowered) {
  if (text.size() != lowered.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (ascii_lower(text[i]) != lowered[i]) return false;
  }
  return true;
}

bool matches_code(uint8_t code, std::string_view name, std::string_view lowered) {
  if (equals_ignore_case(name, lowered)) return true;
  unsigned number = 0;
  auto [end, ec] = std::from_chars(lowered.data(), lowered.data() + lowered.size(), number);
  return ec == std::errc() && end == lowered.data() + lowered.size() && number == code;
}

bool term_matches(const QueryTerm& term, const EventView& event) {
  const std::string_view field = term.field;
  if (field.empty()) return contains_tokens(event.message, term);
  if (field == "host") return equals_ignore_case(event.host, term.value);
  if (field == "app") return equals_ignore_case(event.app, term.value);
  if (field == "message") return equals_ignore_case(event.message, term.value);
  // The raw line is searched like the message: it is the full text.
  if (field == "raw") return contains_tokens(event.raw, term);
  if (field == "severity") {
    return event.severity != kUnknownSeverity &&
           matches_code(event.severity, severity_name(event.severity), term.value);
  }
  if (field == "facility") {
    return event.facility != kUnknownFacility &&
           matches_code(event.facility, facility_name(event.facility), term.value);
  }
  if (field == "_truncated") return equals_ignore_case((event.flags & kFlagTruncated) ? "true" : "false", term.value);
  if (field == "_parse_failure") {
    return equals_ignore_case((event.flags & kFlagParseFailure) ? "true" : "false", term.value);
  }
  if (field == "input") {
    return event.input < kInputCount &&
           equals_ignore_case(input_name(static_cast<InputId>(event.input)), term.value);
  }
  for (const Field& candidate : event.fields) {
    if (candidate.name == field && equals_ignore_case(candidate.value, term.value)) return true;
  }
  return false;
}

bool is_field_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '@' || c == '-';
}

Status syntax_error(size_t position, std::string_view what) {
  return Status::error("position " + std::to_string(position + 1) + ": " + std::string(what));
}

// Reads a quoted string starting at text[pos] == '"'; `pos` ends after the
// closing quote. Backslash escapes the next character.
Status read_quoted(std::string_view text, size_t& pos, std::string& out) {
  const size_t start = pos++;
  while (pos < text.size() && text[pos] != '"') {
    if (text[pos] == '\\' && pos + 1 < text.size()) ++pos;
    out.push_back(ascii_lower(text[pos++]));
  }
  if (pos >= text.size()) return syntax_error(start, "unterminated quote; expected a closing \"");
  ++pos;
  return Status::ok();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

Expected<Query> parse_query(std::string_view text) {
  Query query;
  size_t pos = 0;
  bool negate_next = false;
  size_t negation_position = 0;
  while (true) {
    while (pos < text.size() && is_space(text[pos])) ++pos;
    if (pos >= text.size()) break;
    const size_t start = pos;
    const char c = text[pos];
    if (c == '(' || c == ')') {
      return syntax_error(pos, "parentheses are not supported; expected a word or field:value");
    }
    QueryTerm term;
    term.negated = negate_next;
    negate_next = false;
    if (c == '-' && pos + 1 < text.size() && !is_space(text[pos + 1])) {
      if (term.negated) return syntax_error(pos, "double negation; expected a word or field:value");
      negate_next = true;
      negation_position = pos;
      ++pos;
      continue;
    }
    if (c == '"') {
      Status status = read_quoted(text, pos, term.value);
      if (!status) return status;
      query.terms.push_back(std::move(term));
      continue;
    }
    size_t end = pos;
    while (end < text.size() && !is_space(text[end]) && text[end] != ':' && text[end] != '"') ++end;
    std::string_view word = text.substr(pos, end - pos);
    if (end < text.size() && text[end] == ':' && !word.empty()) {
      for (size_t i = 0; i < word.size(); ++i) {
        if (!is_field_char(word[i])) {
          return syntax_error(pos + i, "invalid character in field name");
        }
      }
      term.field = std::string(word);
      pos = end + 1;
      if (pos >= text.size() || is_space(text[pos])) {
        return syntax_error(pos, "expected a value after '" + term.field + ":'");
      }
      if (text[pos] == '"') {
        Status status = read_quoted(text, pos, term.value);
        if (!status) return status;
      } else {
        while (pos < text.size() && !is_space(text[pos])) term.value.push_back(ascii_lower(text[pos++]));
      }
      query.terms.push_back(std::move(term));
      continue;
    }
    if (end < text.size() && text[end] == ':') {
      return syntax_error(end, "expected a field name before ':'");
    }
    if (word == "AND" && !term.negated) {
      pos = end;
      continue;
    }
    if (word == "NOT" && !term.negated) {
      negate_next = true;
      negation_position = start;
      pos = end;
      continue;
    }
    if (word == "OR") return syntax_error(start, "OR is not supported yet; terms are ANDed");
    for (char ch : word) term.value.push_back(ascii_lower(ch));
    pos = end;
    query.terms.push_back(std::move(term));
  }
  if (negate_next) return syntax_error(negation_position, "expected a term after the negation");
  for (QueryTerm& term : query.terms) {
    if (is_text_field(term.field)) prepare_tokens(term);
  }
  return query;
}

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
  for (const QueryTerm& term : query.terms) {
    if (term.negated) continue;
    if (is_text_field(term.field) || term.field == "message") {
      // message:value is equality, so the value's tokens are the message's.
      std::string scratch;
      // Long numbers are not in block filters (token_filter.h): a block
      // without them in its filter may still hold them.
      for_each_token(term.value, scratch, [&](std::string_view token) {
        if (in_block_filter(token)) hashes.push_back(text_token_hash(token));
      });
    } else if (term.field != "_truncated" && term.field != "_parse_failure") {
      const std::string value = canonical_code_value(term.field, term.value);
      if (in_block_filter(value)) hashes.push_back(field_token_hash(term.field, value));
    }
  }
  return hashes;
}

bool query_matches(const Query& query, const EventView& event) {
  for (const QueryTerm& term : query.terms) {
    if (term_matches(term, event) == term.negated) return false;
  }
  return true;
}

}  // namespace sluice::storage
