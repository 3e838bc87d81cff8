#include "parsers/gelf.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice::parsers {
namespace {

bool is_blank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// GELF's timestamp: Unix seconds, optionally with decimals. Beyond what
// int64 nanoseconds hold (year 2262), or negative, it is not a time.
bool seconds_to_ns(double seconds, int64_t& out_ns) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds >= 9.2e9) return false;
  const double whole = std::floor(seconds);
  out_ns = static_cast<int64_t>(whole) * 1'000'000'000 + std::llround((seconds - whole) * 1e9);
  return true;
}

FieldType type_of(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64: return FieldType::kInt;
    case simdjson::dom::element_type::DOUBLE: return FieldType::kFloat;
    case simdjson::dom::element_type::BOOL: return FieldType::kBool;
    default: return FieldType::kString;
  }
}

// A value as text in the arena: the parser's buffers are reused by the next
// parse, while the event lives until the store has it.
std::string_view text_of(simdjson::dom::element value, Arena& arena) {
  char number[32];
  switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      return arena.copy(value.get_string().value_unsafe());
    case simdjson::dom::element_type::INT64: {
      auto end = std::to_chars(number, number + sizeof number, value.get_int64().value_unsafe()).ptr;
      return arena.copy(std::string_view(number, end - number));
    }
    case simdjson::dom::element_type::UINT64: {
      auto end = std::to_chars(number, number + sizeof number, value.get_uint64().value_unsafe()).ptr;
      return arena.copy(std::string_view(number, end - number));
    }
    case simdjson::dom::element_type::DOUBLE: {
      auto end = std::to_chars(number, number + sizeof number, value.get_double().value_unsafe()).ptr;
      return arena.copy(std::string_view(number, end - number));
    }
    case simdjson::dom::element_type::BOOL:
      return value.get_bool().value_unsafe() ? "true" : "false";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
    default:
      // Arrays and objects (the GELF spec allows neither) keep their JSON
      // text. Rare, so the temporary string is acceptable.
      return arena.copy(simdjson::minify(value));
  }
}

bool timestamp_of(simdjson::dom::element value, int64_t& out_ns) {
  if (value.is_int64()) return seconds_to_ns(static_cast<double>(value.get_int64().value_unsafe()), out_ns);
  if (value.is_uint64()) return seconds_to_ns(static_cast<double>(value.get_uint64().value_unsafe()), out_ns);
  if (value.is_double()) return seconds_to_ns(value.get_double().value_unsafe(), out_ns);
  if (value.is_string()) {
    // Some senders quote it: "1700000000.123".
    const std::string_view text = value.get_string().value_unsafe();
    double seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size()) return false;
    return seconds_to_ns(seconds, out_ns);
  }
  return false;
}

// Syslog severity 0-7 from a number or its text; kUnknownSeverity otherwise.
uint8_t severity_of(simdjson::dom::element value) {
  if (value.is_int64()) {
    const int64_t level = value.get_int64().value_unsafe();
    return level >= 0 && level <= 7 ? static_cast<uint8_t>(level) : kUnknownSeverity;
  }
  if (value.is_string()) {
    const std::string_view text = value.get_string().value_unsafe();
    if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') return static_cast<uint8_t>(text[0] - '0');
  }
  return kUnknownSeverity;
}

}  // namespace

std::string_view GelfParser::parse(std::string_view text, size_t readable_bytes, EventBatch& batch,
                                   Event& event) {
  if (readable_bytes < text.size() + simdjson::SIMDJSON_PADDING) return "GELF: internal: unpadded input";
  simdjson::dom::element root;
  if (parser_.parse(text.data(), text.size(), /*realloc_if_needed=*/false).get(root)) {
    return "GELF: invalid JSON";
  }
  if (!root.is_object()) return "GELF: not a JSON object";
  const simdjson::dom::object object = root.get_object().value_unsafe();

  // The mandatory keys first, so a refused object leaves nothing behind.
  std::string_view host;
  std::string_view short_message;
  std::string_view message_fallback;
  bool has_short_message = false;
  for (simdjson::dom::key_value_pair member : object) {
    const std::string_view key = member.key;
    if (key == "host") {
      if (!member.value.is_string()) return "GELF: host is not a string";
      host = member.value.get_string().value_unsafe();
    } else if (key == "short_message") {
      if (!member.value.is_string()) return "GELF: short_message is not a string";
      short_message = member.value.get_string().value_unsafe();
      has_short_message = true;
    } else if (key == "message" && member.value.is_string()) {
      message_fallback = member.value.get_string().value_unsafe();
    }
  }
  if (is_blank(host)) return "GELF: missing host";
  // Like Graylog, `message` stands in for a missing short_message.
  if (!has_short_message) short_message = message_fallback;
  if (is_blank(short_message)) return "GELF: missing short_message";

  const uint32_t first_field = static_cast<uint32_t>(batch.fields.size());
  event.first_field = first_field;
  event.field_count = 0;
  event.host = batch.arena.copy(host);
  event.message = batch.arena.copy(short_message);
  for (simdjson::dom::key_value_pair member : object) {
    std::string_view key = member.key;
    const simdjson::dom::element value = member.value;
    if (key == "host" || key == "short_message" || key == "version") continue;
    if (key == "message" && !has_short_message) continue;  // became the message
    if (key == "timestamp") {
      int64_t ns = 0;
      if (timestamp_of(value, ns)) {
        event.timestamp_ns = ns;
        continue;
      }
    } else if (key == "level") {
      const uint8_t severity = severity_of(value);
      if (severity != kUnknownSeverity) {
        event.severity = severity;
        continue;
      }
    }
    if (key.size() > 1 && key[0] == '_') {
      key.remove_prefix(1);
      if (key == "id") continue;  // reserved by Graylog: the message's own id
    }
    batch.fields.push_back({batch.arena.copy(key), text_of(value, batch.arena), type_of(value)});
    ++event.field_count;
  }
  return {};
}

void mark_gelf_failure(std::string_view text, std::string_view reason, Event& event, EventBatch& batch) {
  event.flags |= kFlagParseFailure;
  event.message = text;
  batch.fields.push_back({"gelf_error", reason, FieldType::kString});
  ++event.field_count;
}

}  // namespace sluice::parsers
