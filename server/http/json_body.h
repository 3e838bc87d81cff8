// The shapes of a JSON ingest body (POST /api/ingest) and how they split
// into records, one JSON object each. Pure, unit-tested in json_body_test.cc.
//
//   NDJSON       one object per line (LF, CRLF tolerated; blank lines
//                skipped); record number = line number
//   JSON array   [ {...}, {...} ]; record number = element index + 1
//   one object   {...}, possibly spanning lines; record number 1
//
// The shape: an NDJSON Content-Type (application/x-ndjson, application/ndjson,
// application/jsonl, application/x-jsonlines...) means NDJSON; otherwise
// the first non-space byte decides: '[' an array, '{' one object if the
// body holds exactly one top-level value, else NDJSON.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace sluice::server {

enum class JsonBodyShape : uint8_t { kNdjson, kArray, kObject };

// False for Content-Types that cannot be JSON (text/html, multipart/*,
// application/xml...). Accepted: none, application/json and any +json,
// the NDJSON types, text/plain, application/octet-stream and
// application/x-www-form-urlencoded (what `curl --data-binary` sends by
// default). Parameters (";charset=utf-8") are ignored.
bool json_content_type_allowed(std::string_view content_type);

JsonBodyShape detect_json_body_shape(std::string_view content_type, std::string_view body);

// Where the first top-level JSON value starting at body[start] ends (one
// past its last byte), scanning brackets and strings without parsing; npos
// if the body ends first.
size_t json_value_end(std::string_view body, size_t start);

// Calls on_record(uint32_t number, std::string_view text) for each record of
// `body`, in order. Texts are trimmed of surrounding whitespace; an array
// element may be empty ("[1,,2]") and the caller refuses it. A body that
// breaks the array's own syntax yields what it can: an unterminated array's
// last element is passed as is (it will not parse), bytes after the closing
// ']' become one more record (which will not parse either).
template <typename OnRecord>
void split_json_body(std::string_view body, JsonBodyShape shape, OnRecord&& on_record);

// --- implementation ---

namespace json_body_detail {
inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}
// Skips strings (with their escapes) and nesting from `start`. kValue: the
// index just after the bracket that closes the first object or array;
// kElement: the index of the first ',' or closing bracket outside the
// brackets opened after `start` (an array element's end). npos if the body
// ends first.
enum class JsonScan { kValue, kElement };
size_t scan_json(std::string_view body, size_t start, JsonScan mode);
}  // namespace json_body_detail

template <typename OnRecord>
void split_json_body(std::string_view body, JsonBodyShape shape, OnRecord&& on_record) {
  using json_body_detail::is_space;
  using json_body_detail::trim;
  if (shape == JsonBodyShape::kObject) {
    const std::string_view text = trim(body);
    if (!text.empty()) on_record(uint32_t{1}, text);
    return;
  }
  if (shape == JsonBodyShape::kNdjson) {
    uint32_t line_number = 0;
    size_t start = 0;
    while (start < body.size()) {
      size_t end = body.find('\n', start);
      if (end == std::string_view::npos) end = body.size();
      ++line_number;
      const std::string_view line = trim(body.substr(start, end - start));
      start = end + 1;
      if (!line.empty()) on_record(line_number, line);
    }
    return;
  }
  // An array: elements end at a ',' or ']' outside strings and brackets.
  size_t pos = 0;
  while (pos < body.size() && is_space(body[pos])) ++pos;
  ++pos;  // the '['
  uint32_t number = 0;
  bool first = true;
  while (true) {
    size_t start = pos;
    while (start < body.size() && is_space(body[start])) ++start;
    if (start >= body.size()) return;  // unterminated, nothing more
    if (body[start] == ']' && first) {
      pos = start + 1;
      break;
    }
    first = false;
    const size_t scanned = json_body_detail::scan_json(body, start, json_body_detail::JsonScan::kElement);
    const size_t i = scanned == std::string_view::npos ? body.size() : scanned;
    ++number;
    on_record(number, trim(body.substr(start, std::min(i, body.size()) - start)));
    if (i >= body.size()) return;
    pos = i + 1;
    if (body[i] == ']') break;
  }
  const std::string_view rest = trim(body.substr(std::min(pos, body.size())));
  if (!rest.empty()) on_record(number + 1, rest);
}

}  // namespace sluice::server
