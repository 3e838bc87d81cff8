// Why a JSON record was refused: the `reason` label of
// sluice_ingest_rejected_total and the "error" text of POST /api/ingest.
// Separate from json_event.h so that metrics need no simdjson.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::parsers {

enum class JsonError : uint8_t {
  kNone = 0,
  kInvalidJson,    // a syntax error (bad literal, stray bytes, two documents...)
  kTruncated,      // the text ends inside the object: a cut or unterminated line
  kInvalidUtf8,    // simdjson validates UTF-8 in strings and keys
  kDepthLimit,     // nested deeper than kJsonMaxDepth
  kNotObject,      // valid JSON, but an array, string, number...
  kTooLong,        // longer than the input's limit (json_tcp.max_line_bytes)
  kBodyTooLarge,   // HTTP: the decompressed body is over http.max_decompressed_bytes
  kEmpty,          // HTTP: an array element that is empty (e.g. "[1,,2]")
  kCount,
};
constexpr size_t kJsonErrorCount = static_cast<size_t>(JsonError::kCount);

// Deeper documents are refused (simdjson's own limit is 1024): a depth bomb
// costs neither a deep parse nor a field per level.
constexpr size_t kJsonMaxDepth = 128;

// The metric label: "invalid_json", "truncated", "invalid_utf8", ...
constexpr std::string_view json_error_label(JsonError error) {
  switch (error) {
    case JsonError::kNone: return "none";
    case JsonError::kInvalidJson: return "invalid_json";
    case JsonError::kTruncated: return "truncated";
    case JsonError::kInvalidUtf8: return "invalid_utf8";
    case JsonError::kDepthLimit: return "depth_limit";
    case JsonError::kNotObject: return "not_object";
    case JsonError::kTooLong: return "too_long";
    case JsonError::kBodyTooLarge: return "body_too_large";
    case JsonError::kEmpty: return "empty";
    case JsonError::kCount: break;
  }
  return "unknown";
}

// The text a client reads; static, so views of it outlive any batch.
constexpr std::string_view json_error_message(JsonError error) {
  switch (error) {
    case JsonError::kNone: return "";
    case JsonError::kInvalidJson: return "invalid JSON";
    case JsonError::kTruncated: return "truncated JSON: the text ends inside the object";
    case JsonError::kInvalidUtf8: return "invalid UTF-8";
    case JsonError::kDepthLimit: return "nested deeper than 128 levels";
    case JsonError::kNotObject: return "not a JSON object";
    case JsonError::kTooLong: return "longer than the size limit of one event";
    case JsonError::kBodyTooLarge: return "decompressed body larger than http.max_decompressed_bytes";
    case JsonError::kEmpty: return "empty element";
    case JsonError::kCount: break;
  }
  return "unknown";
}

// The error whose message is `message` (the reason text of a RecordError);
// kInvalidJson for a text of another origin.
constexpr JsonError json_error_of(std::string_view message) {
  for (size_t i = 1; i < kJsonErrorCount; ++i) {
    if (json_error_message(static_cast<JsonError>(i)) == message) return static_cast<JsonError>(i);
  }
  return JsonError::kInvalidJson;
}

}  // namespace sluice::parsers
