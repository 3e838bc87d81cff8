#include "server/http/json_body.h"

#include <string>

namespace sluice::server {
namespace {

std::string media_type(std::string_view content_type) {
  const size_t semicolon = content_type.find(';');
  std::string_view type = json_body_detail::trim(content_type.substr(0, semicolon));
  std::string out(type);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

bool is_ndjson_type(const std::string& type) {
  return type == "application/x-ndjson" || type == "application/ndjson" || type == "application/jsonl" ||
         type == "application/x-jsonlines" || type == "application/jsonlines" ||
         type == "application/json-lines" || type == "application/x-json-stream";
}

}  // namespace

bool json_content_type_allowed(std::string_view content_type) {
  const std::string type = media_type(content_type);
  if (type.empty() || type == "application/json" || is_ndjson_type(type)) return true;
  if (type.size() > 5 && type.ends_with("+json")) return true;
  return type == "text/plain" || type == "application/octet-stream" ||
         type == "application/x-www-form-urlencoded";
}

namespace json_body_detail {

size_t scan_json(std::string_view body, size_t start, JsonScan mode) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (mode == JsonScan::kValue) {
        if (--depth <= 0) return i + 1;
      } else {
        if (depth == 0) return i;
        --depth;
      }
    } else if (c == ',' && depth == 0 && mode == JsonScan::kElement) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace json_body_detail

size_t json_value_end(std::string_view body, size_t start) {
  return json_body_detail::scan_json(body, start, json_body_detail::JsonScan::kValue);
}

JsonBodyShape detect_json_body_shape(std::string_view content_type, std::string_view body) {
  if (is_ndjson_type(media_type(content_type))) return JsonBodyShape::kNdjson;
  size_t first = 0;
  while (first < body.size() && json_body_detail::is_space(body[first])) ++first;
  if (first == body.size()) return JsonBodyShape::kNdjson;
  if (body[first] == '[') return JsonBodyShape::kArray;
  if (body[first] != '{') return JsonBodyShape::kNdjson;
  const size_t end = json_value_end(body, first);
  if (end == std::string_view::npos) {
    // Unterminated: one object cut short, unless it has several lines'
    // worth of objects (NDJSON whose first line is broken).
    const size_t newline = body.find('\n', first);
    return newline == std::string_view::npos || json_body_detail::trim(body.substr(newline)).empty()
               ? JsonBodyShape::kObject
               : JsonBodyShape::kNdjson;
  }
  return json_body_detail::trim(body.substr(end)).empty() ? JsonBodyShape::kObject : JsonBodyShape::kNdjson;
}

}  // namespace sluice::server
