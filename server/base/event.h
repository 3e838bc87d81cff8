// Event and EventBatch: parsed records, as parse workers hand them to the
// store. Every string is a view into the source RawBatch or into the
// EventBatch's arena; both outlive the EventBatch's use by the store.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "server/base/arena.h"
#include "server/base/raw_batch.h"

namespace sluice {

constexpr uint8_t kUnknownSeverity = 255;
constexpr uint8_t kUnknownFacility = 255;

// Event flags, stored with the event.
enum EventFlag : uint8_t {
  kFlagParseFailure = 1 << 0,  // the input could not be fully parsed; raw kept
  kFlagTruncated = 1 << 1,     // the frame exceeded the size limit
};

// What a field's text means, so that JSON output and numeric comparisons
// treat "200" from %{INT:status:int} as a number. Stored with the field.
enum class FieldType : uint8_t { kString = 0, kInt = 1, kFloat = 2, kBool = 3 };

// A field of an event. Several fields with the same name form an array, in
// order (grok's "capture into an existing field").
struct Field {
  std::string_view name;
  std::string_view value;
  FieldType type = FieldType::kString;
};

// The bytes a JSON string escapes as \", \\ and \/: no word byte, so an
// escape of one keeps the string's words (see Event::message_json).
inline bool is_word_keeping_escape(char c) { return c == '"' || c == '\\' || c == '/'; }

// How many escapes the bytes of a JSON string (between its quotes) hold if
// every one is of a is_word_keeping_escape() byte; -1 if another one is there.
inline int64_t count_word_keeping_escapes(std::string_view escaped) {
  int64_t escapes = 0;
  const char* p = escaped.data();
  const char* const end = p + escaped.size();
  while (p != end && (p = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)))) != nullptr) {
    if (p + 1 == end || !is_word_keeping_escape(p[1])) return -1;
    p += 2;
    ++escapes;
  }
  return escapes;
}

struct Event {
  int64_t timestamp_ns = 0;  // the event's own time, or received_ns if it has none
  int64_t received_ns = 0;
  std::string_view host;
  std::string_view app;
  std::string_view message;
  std::string_view raw;       // the original bytes of the record
  // A message decoded from a JSON string of `raw` whose only escapes are
  // \", \\ and \/ (so its words are the string's): that string's bytes in
  // `raw`, escapes and all, and the message view it was decoded to. The
  // store keeps such a message as a slice of the line instead of a second
  // copy. A stage that sets another message leaves them behind: they count
  // only while `message` is still `message_json_decoded` (json_message()).
  std::string_view message_json;
  std::string_view message_json_decoded;
  uint32_t first_field = 0;   // into EventBatch::fields
  uint32_t field_count = 0;
  uint8_t severity = kUnknownSeverity;
  uint8_t facility = kUnknownFacility;
  uint8_t flags = 0;
  InputId input = InputId::kSyslogTcp;

  // message_json if it still describes `message`; empty otherwise.
  std::string_view json_message() const {
    return message.data() == message_json_decoded.data() && message.size() == message_json_decoded.size()
               ? message_json
               : std::string_view();
  }
};

struct EventBatch {
  Arena arena;
  std::vector<Event> events;
  std::vector<Field> fields;

  void clear() {
    arena.reset();
    events.clear();
    fields.clear();
  }
  // Fields of one event, valid until the batch changes.
  const Field* fields_of(const Event& e) const { return fields.data() + e.first_field; }
};

// RFC5424 section 6.2.1 names, used in search results and queries.
inline std::string_view severity_name(uint8_t severity) {
  static constexpr std::string_view kNames[] = {"emerg", "alert", "crit",   "err",
                                                "warning", "notice", "info", "debug"};
  return severity < 8 ? kNames[severity] : std::string_view();
}

inline std::string_view facility_name(uint8_t facility) {
  static constexpr std::string_view kNames[] = {
      "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
      "uucp",   "cron",   "authpriv", "ftp",  "ntp",    "security", "console", "solaris-cron",
      "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
  return facility < 24 ? kNames[facility] : std::string_view();
}

}  // namespace sluice
