// JSON object text -> event fields, with simdjson's DOM API.
//
// The DOM API dispatches to the best SIMD kernel at run time; On-Demand is
// compiled for the build's target only, which for a portable Debian build
// means its slow fallback kernel.
//
// Well-known keys fill the event's own slots, as Logstash/Graylog users
// expect; which keys, and in what priority, is config (json.*, see
// config::JsonMappingOptions and config/sluice.yaml). Defaults:
//   message    message | msg | log | short_message   (a string)
//   time       @timestamp | timestamp | time | ts    (json.timestamp_format:
//              auto = RFC3339 strings, Unix numbers in s/ms/us/ns by size)
//   host       host | hostname | host.name           (a string)
//   app        app | program | service | appname | service.name
//   severity   severity | level | log.level  (syslog name, common alias or 0-7)
//   facility   facility                      (name or 0-23)
// A key listed earlier wins over one listed later wherever it appears in the
// object; a displaced value, or one that does not fit its slot (a number as
// message, an unparseable time), is kept as an ordinary field.
//
// Every other key becomes a field. Nested objects become dotted names
// ("http.status"), and slot keys match dotted names too ("host.name").
// Arrays are kept as one field holding their minified JSON text. Objects
// nested deeper than 16 levels are kept as JSON text in one field; documents
// deeper than kJsonMaxDepth (128) are refused. Duplicate keys: every
// occurrence is kept as a field of that name (simdjson keeps them all); a
// slot takes the first that fits. Strings must be valid UTF-8 (simdjson
// validates); escapes are decoded. Without a message key, the message is
// the whole JSON text.
#pragma once

#include <simdjson.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "parsers/json_errors.h"
#include "server/base/event.h"

namespace sluice::parsers {

class DateProcessor;

// Thread: one instance per parse worker; reuses its simdjson buffers, so
// steady-state parsing allocates nothing on the heap.
class JsonEventParser {
 public:
  // The default mapping (config::JsonMappingOptions{}).
  JsonEventParser();
  // `options` should have passed config::validate(); a timestamp pattern
  // that does not compile falls back to "auto" (reported by mapping_error()).
  explicit JsonEventParser(const config::JsonMappingOptions& options);
  ~JsonEventParser();
  JsonEventParser(const JsonEventParser&) = delete;
  JsonEventParser& operator=(const JsonEventParser&) = delete;

  // Parses `text` into `event` and appends its fields to `batch.fields`.
  // `readable_bytes` is how many bytes can be read from text.data() (at least
  // text.size() + simdjson::SIMDJSON_PADDING): no copy is made to pad.
  // Top-level names and values that appear as themselves in `text` (no
  // escapes; numbers written as they render) are views of it, so `text`
  // must live as long as the event (it is the raw line); the others are
  // copied into batch.arena. A message decoded from an escaped string
  // whose escapes are only \", \\ and \/ also gets that string's bytes in
  // `text` as event.message_json (the store keeps it as a slice of the
  // line, not a copy). Returns an empty view on
  // success, or json_error_message(last_error()) on failure ("invalid JSON",
  // "not a JSON object"...: static text), leaving no fields behind.
  std::string_view parse(std::string_view text, size_t readable_bytes, EventBatch& batch, Event& event);

  // Why the last parse() failed; JsonError::kNone after a success.
  JsonError last_error() const { return last_error_; }

  // Non-empty if the options' timestamp pattern did not compile.
  const std::string& mapping_error() const { return mapping_error_; }

  // Public for the implementation.
  enum class Slot : uint8_t { kNone, kMessage, kTimestamp, kHost, kApp, kSeverity, kFacility, kCount };
  enum class TimeFormat : uint8_t { kAuto, kRfc3339, kUnixS, kUnixMs, kUnixUs, kUnixNs, kPattern };
  struct SlotKey {
    std::string name;
    Slot slot;
    uint8_t rank;  // position in its list: lower wins
  };

 private:
  simdjson::dom::parser parser_;
  std::vector<SlotKey> keys_;  // by name length
  // keys_[key_starts_[n], key_starts_[n + 1]) are the keys of n bytes.
  std::vector<uint32_t> key_starts_;
  TimeFormat time_format_ = TimeFormat::kAuto;
  std::unique_ptr<DateProcessor> time_pattern_;
  std::string mapping_error_;
  JsonError last_error_ = JsonError::kNone;
};

// Syslog severity from a name ("err", "error", "WARN", "info"...) or "0".."7";
// kUnknownSeverity if not recognised.
uint8_t severity_from_text(std::string_view text);

}  // namespace sluice::parsers
