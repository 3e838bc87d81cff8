// One GELF (Graylog Extended Log Format) JSON object -> event fields, mapped
// as Graylog's GELF codec maps it:
//   host            -> the event's host (required, a non-empty string)
//   short_message   -> the event's message (required, a non-empty string)
//   full_message    -> field full_message
//   timestamp       -> the event's time: Unix seconds with optional decimals
//                      (a number, or a number as text); otherwise the
//                      receive time
//   level           -> severity (syslog 0-7, as a number or text)
//   _name           -> field `name` (the underscore dropped); `_id` is
//                      reserved and ignored, as Graylog does
//   version         -> not stored (Graylog does not index it either)
//   other keys      -> fields under their own name (GELF 1.0's facility,
//                      line, file; senders' extras)
// Numbers stay typed as numbers (FieldType::kInt / kFloat), booleans as
// kBool; arrays and objects are kept as their JSON text.
//
// The input is one already reassembled and decompressed GELF payload
// (server/inputs/gelf_* do chunking and compression).
#pragma once

#include <simdjson.h>

#include <string_view>

#include "server/base/event.h"

namespace sluice::parsers {

// Thread: one instance per parse worker (or per loop); reuses its simdjson
// buffers, and strings go to the batch arena, so steady-state parsing
// allocates nothing on the heap.
class GelfParser {
 public:
  // Parses `text` into `event`, appending its fields to `batch.fields`.
  // `readable_bytes` is how many bytes can be read from text.data() (at least
  // text.size() + simdjson::SIMDJSON_PADDING; no copy is made to pad).
  // Returns an empty view on success, or a static reason on failure
  // ("GELF: invalid JSON", "GELF: not a JSON object",
  // "GELF: missing host", "GELF: missing short_message"), leaving no fields
  // behind and the event's message, host and time untouched.
  std::string_view parse(std::string_view text, size_t readable_bytes, EventBatch& batch, Event& event);

 private:
  simdjson::dom::parser parser_;
};

// Marks `event` as a GELF record that failed with `reason`: flagged
// _parse_failure, its whole text as the message (so nothing accepted is
// lost) and the reason in field `gelf_error`.
void mark_gelf_failure(std::string_view text, std::string_view reason, Event& event, EventBatch& batch);

}  // namespace sluice::parsers
