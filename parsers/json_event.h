// JSON object text -> event fields, with simdjson's DOM API.
//
// The DOM API dispatches to the best SIMD kernel at run time; On-Demand is
// compiled for the build's target only, which for a portable Debian build
// means its slow fallback kernel.
//
// Well-known keys fill the event's own slots, as Logstash/Graylog users
// expect: message|msg|short_message -> message; timestamp|@timestamp|time
// (RFC3339 or Unix seconds/milliseconds) -> time; host|hostname -> host;
// app|program|service|appname -> app; severity|level (syslog name, common
// alias or 0-7) -> severity; facility (name or 0-23). Every other key becomes
// a field; nested objects become dotted names ("http.status"); arrays are kept
// as their JSON text.
#pragma once

#include <simdjson.h>

#include <string_view>

#include "server/base/event.h"

namespace sluice::parsers {

// Thread: one instance per parse worker; reuses its simdjson buffers, so
// steady-state parsing allocates nothing on the heap.
class JsonEventParser {
 public:
  // Parses `text` into `event` and appends its fields to `batch.fields`.
  // `readable_bytes` is how many bytes can be read from text.data() (at least
  // text.size() + simdjson::SIMDJSON_PADDING): no copy is made to pad.
  // Names and values are copied into batch.arena. Returns an empty view on success, or a short static
  // reason ("invalid JSON", "not a JSON object") on failure, leaving no
  // fields behind.
  std::string_view parse(std::string_view text, size_t readable_bytes, EventBatch& batch, Event& event);

 private:
  simdjson::dom::parser parser_;
};

// Syslog severity from a name ("err", "error", "WARN", "info"...) or "0".."7";
// kUnknownSeverity if not recognised.
uint8_t severity_from_text(std::string_view text);

}  // namespace sluice::parsers
