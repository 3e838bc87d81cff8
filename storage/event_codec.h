// The value stored for one event, format version 3.
//
//   version:u8 (=3) | severity:u8 | facility:u8 | flags:u8 | input:u8
//   received_minus_timestamp: zigzag varint (ns)
//   raw:     varint length | bytes
//   host, app, message:  string ref
//   message_json: string ref (Event::json_message(); length 0: none)
//   field_count: varint, then field_count × (name: string ref, value: string ref,
//                                             type: u8, a FieldType)
//
// Version 2 is the same without message_json, version 1 also without the
// type byte (every field a string); both are still read.
//
// A "string ref" is varint (length << 1 | is_slice); if is_slice, a varint
// offset into `raw` follows, else the bytes. Parsed values are mostly slices
// of the raw line (the message, SD values, JSON strings without escapes), so
// keeping the raw line costs little more than keeping the parsed event alone.
// The timestamp lives in the key (keys.h), not here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/base/event.h"

namespace sluice::storage {

constexpr uint8_t kEventValueVersion = 3;

// Appends the encoding of `event` (whose fields are `fields`) to `out`.
void encode_event_value(const Event& event, const Field* fields, std::string& out);

// A decoded event whose strings are views into the encoded value (or, for
// field names, into the value too); valid while the value's bytes are.
struct EventView {
  int64_t timestamp_ns = 0;
  int64_t received_ns = 0;
  uint8_t severity = kUnknownSeverity;
  uint8_t facility = kUnknownFacility;
  uint8_t flags = 0;
  uint8_t input = 0;
  std::string_view raw, host, app, message;
  std::string_view message_json;  // see Event::message_json; empty if none
  std::vector<Field> fields;  // reused across decodes by the caller
};

// Decodes `value` into `view` (timestamp_ns must be set by the caller from
// the key first). Returns false on a corrupt or unknown-version value.
bool decode_event_value(std::string_view value, EventView& view);

}  // namespace sluice::storage
