#include "parsers/json_event.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "server/base/time_format.h"

namespace sluice::parsers {
namespace {

// Nested objects deeper than this are kept as JSON text in one field: a
// depth bomb must not cost a field per level.
constexpr int kMaxFlattenDepth = 16;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

enum class Slot { kNone, kMessage, kTimestamp, kHost, kApp, kSeverity, kFacility };

Slot slot_of(std::string_view key) {
  if (key == "message" || key == "msg" || key == "short_message") return Slot::kMessage;
  if (key == "timestamp" || key == "@timestamp" || key == "time") return Slot::kTimestamp;
  if (key == "host" || key == "hostname") return Slot::kHost;
  if (key == "app" || key == "program" || key == "service" || key == "appname") return Slot::kApp;
  if (key == "severity" || key == "level") return Slot::kSeverity;
  if (key == "facility") return Slot::kFacility;
  return Slot::kNone;
}

// Unix time in seconds, milliseconds or nanoseconds, told apart by size:
// below 1e11 are seconds (until the year 5138), below 1e14 milliseconds.
bool timestamp_from_integer(int64_t number, int64_t& out_ns) {
  if (number < 0) return false;
  if (number < 100'000'000'000) {
    out_ns = number * 1'000'000'000;
  } else if (number < 100'000'000'000'000) {
    out_ns = number * 1'000'000;
  } else {
    out_ns = number;
  }
  return true;
}

bool timestamp_from_double(double number, int64_t& out_ns) {
  if (!std::isfinite(number) || number < 0 || number >= 9e18) return false;
  double scale = number < 1e11 ? 1e9 : (number < 1e14 ? 1e6 : 1.0);
  // Split off the whole part first so the fraction keeps its precision.
  const double whole = std::floor(number);
  out_ns = static_cast<int64_t>(whole) * static_cast<int64_t>(scale) +
           std::llround((number - whole) * scale);
  return true;
}

struct Walker {
  EventBatch& batch;
  Event& event;
  bool message_set = false;
  bool timestamp_set = false;

  void add_field(std::string_view name, std::string_view value, FieldType type) {
    batch.fields.push_back({name, value, type});
    ++event.field_count;
  }

  static FieldType type_of(simdjson::dom::element value) {
    switch (value.type()) {
      case simdjson::dom::element_type::INT64:
      case simdjson::dom::element_type::UINT64: return FieldType::kInt;
      case simdjson::dom::element_type::DOUBLE: return FieldType::kFloat;
      case simdjson::dom::element_type::BOOL: return FieldType::kBool;
      default: return FieldType::kString;
    }
  }

  // Fills a well-known slot; false if the value doesn't fit the slot (it is
  // then kept as an ordinary field).
  bool fill_slot(Slot slot, simdjson::dom::element value, std::string_view text) {
    const bool is_string = value.is_string();
    switch (slot) {
      case Slot::kMessage:
        if (message_set || !is_string) return false;
        event.message = text;
        message_set = true;
        return true;
      case Slot::kHost:
        if (!event.host.empty() || !is_string) return false;
        event.host = text;
        return true;
      case Slot::kApp:
        if (!event.app.empty() || !is_string) return false;
        event.app = text;
        return true;
      case Slot::kTimestamp: {
        if (timestamp_set) return false;
        int64_t ns = 0;
        if (is_string) {
          auto parsed = parse_rfc3339(text);
          if (!parsed) return false;
          ns = *parsed;
        } else if (value.is_int64()) {
          if (!timestamp_from_integer(value.get_int64().value_unsafe(), ns)) return false;
        } else if (value.is_double()) {
          if (!timestamp_from_double(value.get_double().value_unsafe(), ns)) return false;
        } else {
          return false;
        }
        event.timestamp_ns = ns;
        timestamp_set = true;
        return true;
      }
      case Slot::kSeverity: {
        if (event.severity != kUnknownSeverity) return false;
        const uint8_t severity = severity_from_text(text);
        if (severity == kUnknownSeverity) return false;
        event.severity = severity;
        return true;
      }
      case Slot::kFacility: {
        if (event.facility != kUnknownFacility) return false;
        for (uint8_t code = 0; code < 24; ++code) {
          char digits[3];
          auto end = std::to_chars(digits, digits + 3, code).ptr;
          if (iequals(text, facility_name(code)) || text == std::string_view(digits, end - digits)) {
            event.facility = code;
            return true;
          }
        }
        return false;
      }
      case Slot::kNone:
        return false;
    }
    return false;
  }

  // Scalars as text in the arena (the parser's buffers are reused by the
  // next parse, while the event lives on until the store has it).
  std::string_view text_of(simdjson::dom::element value) {
    char number[32];
    switch (value.type()) {
      case simdjson::dom::element_type::STRING:
        return batch.arena.copy(value.get_string().value_unsafe());
      case simdjson::dom::element_type::INT64: {
        auto end = std::to_chars(number, number + sizeof number, value.get_int64().value_unsafe()).ptr;
        return batch.arena.copy(std::string_view(number, end - number));
      }
      case simdjson::dom::element_type::UINT64: {
        auto end = std::to_chars(number, number + sizeof number, value.get_uint64().value_unsafe()).ptr;
        return batch.arena.copy(std::string_view(number, end - number));
      }
      case simdjson::dom::element_type::DOUBLE: {
        auto end = std::to_chars(number, number + sizeof number, value.get_double().value_unsafe()).ptr;
        return batch.arena.copy(std::string_view(number, end - number));
      }
      case simdjson::dom::element_type::BOOL:
        return value.get_bool().value_unsafe() ? "true" : "false";
      case simdjson::dom::element_type::NULL_VALUE:
        return "null";
      default:
        // Arrays, and objects past the flattening depth, keep their JSON
        // text. Rare, so the temporary string is acceptable.
        return batch.arena.copy(simdjson::minify(value));
    }
  }

  void walk_object(simdjson::dom::object object, std::string_view prefix, int depth) {
    for (simdjson::dom::key_value_pair member : object) {
      const std::string_view key = member.key;
      std::string_view name;
      if (prefix.empty()) {
        name = batch.arena.copy(key);
      } else {
        char* joined = batch.arena.allocate(prefix.size() + 1 + key.size());
        std::memcpy(joined, prefix.data(), prefix.size());
        joined[prefix.size()] = '.';
        std::memcpy(joined + prefix.size() + 1, key.data(), key.size());
        name = std::string_view(joined, prefix.size() + 1 + key.size());
      }
      simdjson::dom::element value = member.value;
      if (value.is_object() && depth < kMaxFlattenDepth) {
        walk_object(value.get_object().value_unsafe(), name, depth + 1);
        continue;
      }
      const std::string_view text = text_of(value);
      const Slot slot = prefix.empty() ? slot_of(key) : Slot::kNone;
      if (slot != Slot::kNone && fill_slot(slot, value, text)) continue;
      add_field(name, text, type_of(value));
    }
  }
};

}  // namespace

uint8_t severity_from_text(std::string_view text) {
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') return static_cast<uint8_t>(text[0] - '0');
  struct Alias {
    std::string_view name;
    uint8_t severity;
  };
  static constexpr Alias kAliases[] = {
      {"emerg", 0}, {"emergency", 0}, {"panic", 0}, {"fatal", 0}, {"alert", 1},
      {"crit", 2},  {"critical", 2},  {"err", 3},   {"error", 3}, {"warning", 4},
      {"warn", 4},  {"notice", 5},    {"info", 6},  {"information", 6},
      {"informational", 6}, {"debug", 7}, {"trace", 7}};
  for (const Alias& alias : kAliases) {
    if (iequals(text, alias.name)) return alias.severity;
  }
  return kUnknownSeverity;
}

std::string_view JsonEventParser::parse(std::string_view text, size_t readable_bytes,
                                        EventBatch& batch, Event& event) {
  event.first_field = static_cast<uint32_t>(batch.fields.size());
  event.field_count = 0;
  if (readable_bytes < text.size() + simdjson::SIMDJSON_PADDING) return "internal: unpadded input";
  simdjson::dom::element root;
  if (parser_.parse(text.data(), text.size(), /*realloc_if_needed=*/false).get(root)) {
    return "invalid JSON";
  }
  if (!root.is_object()) return "not a JSON object";
  Walker walker{batch, event};
  walker.walk_object(root.get_object().value_unsafe(), {}, 0);
  if (!walker.message_set) event.message = text;
  return {};
}

}  // namespace sluice::parsers
