#include "parsers/json_event.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "parsers/date_processor.h"
#include "server/base/bytes.h"
#include "server/base/time_format.h"

namespace sluice::parsers {
namespace {

using Slot = JsonEventParser::Slot;
using TimeFormat = JsonEventParser::TimeFormat;
using SlotKey = JsonEventParser::SlotKey;

// Nested objects deeper than this are kept as JSON text in one field: a
// deep object must not cost a field per level.
constexpr int kMaxFlattenDepth = 16;
constexpr size_t kSlotCount = static_cast<size_t>(Slot::kCount);

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

// Unix time told apart by size: below 1e11 seconds (until the year 5138),
// below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
int64_t auto_scale(double magnitude) {
  if (magnitude < 1e11) return 1'000'000'000;
  if (magnitude < 1e14) return 1'000'000;
  if (magnitude < 1e17) return 1'000;
  return 1;
}

bool scaled_integer(int64_t number, int64_t scale, int64_t& out_ns) {
  if (number < 0 || (scale > 1 && number > INT64_MAX / scale)) return false;
  out_ns = number * scale;
  return true;
}

bool scaled_double(double number, int64_t scale, int64_t& out_ns) {
  if (!std::isfinite(number) || number < 0 || number * static_cast<double>(scale) >= 9e18) return false;
  // Split off the whole part first so the fraction keeps its precision.
  const double whole = std::floor(number);
  out_ns = static_cast<int64_t>(whole) * scale + std::llround((number - whole) * static_cast<double>(scale));
  return true;
}

int64_t fixed_scale(TimeFormat format) {
  switch (format) {
    case TimeFormat::kUnixS: return 1'000'000'000;
    case TimeFormat::kUnixMs: return 1'000'000;
    case TimeFormat::kUnixUs: return 1'000;
    default: return 1;
  }
}

// Classifies a simdjson failure; `text` tells a cut-off object from a
// malformed one (only looked at on this error path).
JsonError classify(simdjson::error_code code, std::string_view text) {
  switch (code) {
    case simdjson::DEPTH_ERROR: return JsonError::kDepthLimit;
    case simdjson::UTF8_ERROR: return JsonError::kInvalidUtf8;
    case simdjson::UNCLOSED_STRING:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return JsonError::kTruncated;
    case simdjson::TAPE_ERROR: {
      // More opening than closing brackets outside strings: the text ends
      // inside the object.
      int64_t open = 0;
      bool in_string = false;
      for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
          if (c == '\\') ++i;
          else if (c == '"') in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++open;
        } else if (c == '}' || c == ']') {
          --open;
        }
      }
      return open > 0 || in_string ? JsonError::kTruncated : JsonError::kInvalidJson;
    }
    default: return JsonError::kInvalidJson;
  }
}

// Finds the top-level members' keys and values in the JSON text itself, in
// document order (the order simdjson's DOM gives them), so that a key or a
// value whose text is its own bytes there (no escapes; a number written as
// it renders) becomes a view of the raw line instead of an arena copy. The
// store keeps such views as slices of the line: cut out of it, not stored
// twice. The first member it cannot follow (an escaped key, a nested
// object or array) ends the walk: the rest are copied, as before.
class RawCursor {
 public:
  explicit RawCursor(std::string_view text) : text_(text) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == '{') {
      ++at_;
    } else {
      at_ = kLost;
    }
  }

  // The key's bytes in the text; empty when not found, after which every
  // call gives up.
  std::string_view key(std::string_view decoded) {
    if (at_ == kLost) return {};
    skip_space();
    if (at_ < text_.size() && text_[at_] == ',') {
      ++at_;
      skip_space();
    }
    const std::string_view found = quoted(decoded);
    skip_space();
    if (found.empty() || at_ >= text_.size() || text_[at_] != ':') return lose();
    ++at_;
    skip_space();
    return found;
  }

  // A string value's bytes in the text, if unescaped; empty otherwise (an
  // escaped string is stepped over, so the next members are still found,
  // and its bytes between the quotes, escapes and all, go to `escaped`).
  std::string_view string_value(std::string_view decoded, std::string_view& escaped) {
    escaped = {};
    if (at_ == kLost || at_ >= text_.size() || text_[at_] != '"') return lose();
    const std::string_view found = quoted(decoded);
    if (!found.empty() || decoded.empty()) return found;
    // Escaped: step over it. Its end is the first quote after an even
    // number of backslashes. Every escape is longer than the bytes it
    // decodes to, so that quote is no nearer than the decoded length: the
    // search starts there, and an escaped message's quotes before it are
    // never looked at.
    const char* const begin = text_.data();
    const char* const end = begin + text_.size();
    const char* const inner_begin = begin + at_ + 1;
    const char* from = inner_begin + std::min(decoded.size(), static_cast<size_t>(end - inner_begin));
    while (from < end) {
      const auto* quote = static_cast<const char*>(std::memchr(from, '"', static_cast<size_t>(end - from)));
      if (quote == nullptr) break;
      size_t backslashes = 0;
      while (quote - backslashes > inner_begin && quote[-1 - static_cast<std::ptrdiff_t>(backslashes)] == '\\') {
        ++backslashes;
      }
      if (backslashes % 2 == 0) {
        const size_t inner = at_ + 1;
        at_ = static_cast<size_t>(quote + 1 - begin);
        escaped = text_.substr(inner, at_ - 1 - inner);
        return {};
      }
      from = quote + 1;
    }
    return lose();
  }

  // A scalar's bytes in the text (a number, true, false, null) if they are
  // `rendered` exactly; empty otherwise.
  std::string_view scalar_value(std::string_view rendered) {
    if (at_ == kLost) return {};
    size_t end = at_;
    while (end < text_.size() && is_scalar_byte(text_[end])) ++end;
    const std::string_view found = text_.substr(at_, end - at_);
    at_ = end;
    if (found.empty()) return lose();
    return found == rendered ? found : std::string_view();
  }

  // A value the cursor does not follow (an object, an array).
  void give_up() { at_ = kLost; }

 private:
  static constexpr size_t kLost = std::string_view::npos;

  static bool is_scalar_byte(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '.' || c == 'E';
  }

  std::string_view lose() {
    at_ = kLost;
    return {};
  }

  void skip_space() {
    // JSON's white space is all at or below ' ': one compare for most bytes.
    while (at_ < text_.size() && static_cast<unsigned char>(text_[at_]) <= ' ' &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }

  // `"decoded"` at the cursor: its inner bytes, and the cursor after it.
  std::string_view quoted(std::string_view decoded) {
    const size_t inner = at_ + 1;
    if (at_ >= text_.size() || text_[at_] != '"' || inner + decoded.size() >= text_.size() ||
        text_[inner + decoded.size()] != '"' ||
        !same_bytes(text_.data() + inner, decoded.data(), decoded.size())) {
      return {};
    }
    at_ = inner + decoded.size() + 1;
    return text_.substr(inner, decoded.size());
  }

  std::string_view text_;
  size_t at_ = 0;
};

struct Walker {
  EventBatch& batch;
  Event& event;
  const std::vector<SlotKey>& keys;       // by name length
  const std::vector<uint32_t>& key_starts;  // per length, into keys
  TimeFormat time_format;
  const DateProcessor* time_pattern;
  RawCursor cursor;
  // Per slot: the rank of the key that filled it (255 = empty) and the
  // field it came from, to give back if a better-ranked key displaces it.
  struct Filled {
    uint8_t rank = 255;
    Field field;
  };
  std::array<Filled, kSlotCount> filled{};
  // The last string text_of() decoded from escapes, as it is in the text.
  std::string_view last_escaped;

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

  bool parse_time(simdjson::dom::element value, std::string_view text, int64_t& ns) const {
    const bool is_string = value.is_string();
    switch (time_format) {
      case TimeFormat::kAuto:
        if (is_string) {
          auto parsed = parse_rfc3339(text);
          if (!parsed) return false;
          ns = *parsed;
          return true;
        }
        if (value.is_int64()) {
          const int64_t n = value.get_int64().value_unsafe();
          return scaled_integer(n, auto_scale(static_cast<double>(n)), ns);
        }
        if (value.is_double()) {
          const double d = value.get_double().value_unsafe();
          return scaled_double(d, auto_scale(d), ns);
        }
        return false;
      case TimeFormat::kRfc3339: {
        if (!is_string) return false;
        auto parsed = parse_rfc3339(text);
        if (!parsed) return false;
        ns = *parsed;
        return true;
      }
      case TimeFormat::kUnixS:
      case TimeFormat::kUnixMs:
      case TimeFormat::kUnixUs:
      case TimeFormat::kUnixNs: {
        const int64_t scale = fixed_scale(time_format);
        if (value.is_int64()) return scaled_integer(value.get_int64().value_unsafe(), scale, ns);
        if (value.is_double()) return scaled_double(value.get_double().value_unsafe(), scale, ns);
        if (!is_string || text.empty()) return false;
        int64_t whole = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), whole);
        if (ec == std::errc() && end == text.data() + text.size()) return scaled_integer(whole, scale, ns);
        double d = 0;
        auto [dend, dec] = std::from_chars(text.data(), text.data() + text.size(), d);
        if (dec == std::errc() && dend == text.data() + text.size()) return scaled_double(d, scale, ns);
        return false;
      }
      case TimeFormat::kPattern:
        return is_string && time_pattern != nullptr && time_pattern->parse_text(text, event.received_ns, ns);
    }
    return false;
  }

  // Writes a slot if the value fits it; false leaves the event unchanged.
  bool fill_slot(Slot slot, simdjson::dom::element value, std::string_view text) {
    const bool is_string = value.is_string();
    switch (slot) {
      case Slot::kMessage:
        if (!is_string) return false;
        event.message = text;
        // \n, \t or \u00e9 would join or split words: such strings do not count.
        event.message_json = !last_escaped.empty() && count_word_keeping_escapes(last_escaped) >= 0
                                 ? last_escaped
                                 : std::string_view();
        event.message_json_decoded = text;
        return true;
      case Slot::kHost:
        if (!is_string || text.empty()) return false;
        event.host = text;
        return true;
      case Slot::kApp:
        if (!is_string || text.empty()) return false;
        event.app = text;
        return true;
      case Slot::kTimestamp: {
        int64_t ns = 0;
        if (!parse_time(value, text, ns)) return false;
        event.timestamp_ns = ns;
        return true;
      }
      case Slot::kSeverity: {
        const uint8_t severity = severity_from_text(text);
        if (severity == kUnknownSeverity) return false;
        event.severity = severity;
        return true;
      }
      case Slot::kFacility: {
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
      case Slot::kCount:
        return false;
    }
    return false;
  }

  // Scalars as text: a view of the raw line where `follow` finds it there
  // (top-level members), else a copy in the arena (the parser's buffers are
  // reused by the next parse, while the event lives on until the store has
  // it).
  std::string_view text_of(simdjson::dom::element value, bool follow) {
    char number[32];
    last_escaped = {};
    auto scalar = [&](std::string_view rendered, bool copy) -> std::string_view {
      const std::string_view in_raw = follow ? cursor.scalar_value(rendered) : std::string_view();
      if (!in_raw.empty()) return in_raw;
      return copy ? batch.arena.copy(rendered) : rendered;
    };
    switch (value.type()) {
      case simdjson::dom::element_type::STRING: {
        const std::string_view decoded = value.get_string().value_unsafe();
        const std::string_view in_raw = follow ? cursor.string_value(decoded, last_escaped) : std::string_view();
        return in_raw.empty() ? batch.arena.copy(decoded) : in_raw;
      }
      case simdjson::dom::element_type::INT64: {
        auto end = std::to_chars(number, number + sizeof number, value.get_int64().value_unsafe()).ptr;
        return scalar(std::string_view(number, end - number), true);
      }
      case simdjson::dom::element_type::UINT64: {
        auto end = std::to_chars(number, number + sizeof number, value.get_uint64().value_unsafe()).ptr;
        return scalar(std::string_view(number, end - number), true);
      }
      case simdjson::dom::element_type::DOUBLE: {
        auto end = std::to_chars(number, number + sizeof number, value.get_double().value_unsafe()).ptr;
        return scalar(std::string_view(number, end - number), true);
      }
      case simdjson::dom::element_type::BOOL:
        return scalar(value.get_bool().value_unsafe() ? "true" : "false", false);
      case simdjson::dom::element_type::NULL_VALUE:
        return scalar("null", false);
      default:
        // Arrays, and objects past the flattening depth, keep their JSON
        // text. Rare, so the temporary string is acceptable.
        if (follow) cursor.give_up();
        return batch.arena.copy(simdjson::minify(value));
    }
  }

  const SlotKey* slot_key_of(std::string_view name) const {
    // Only the few keys of the name's length, and their first byte before the rest.
    if (name.size() + 1 >= key_starts.size()) return nullptr;
    for (uint32_t k = key_starts[name.size()]; k < key_starts[name.size() + 1]; ++k) {
      const SlotKey& key = keys[k];
      if ((name.empty() || key.name[0] == name[0]) && same_bytes(key.name.data(), name.data(), name.size())) {
        return &key;
      }
    }
    return nullptr;
  }

  void take(std::string_view name, simdjson::dom::element value, bool follow) {
    const std::string_view text = text_of(value, follow);
    const FieldType type = type_of(value);
    const SlotKey* key = value.is_array() || value.is_object() ? nullptr : slot_key_of(name);
    if (key != nullptr) {
      Filled& slot = filled[static_cast<size_t>(key->slot)];
      if (key->rank < slot.rank && fill_slot(key->slot, value, text)) {
        if (slot.rank != 255) add_field(slot.field.name, slot.field.value, slot.field.type);
        slot.rank = key->rank;
        // Member by member: a whole Field built on the stack and copied
        // with 16-byte loads stalled on its 8-byte stores (store forwarding).
        slot.field.name = name;
        slot.field.value = text;
        slot.field.type = type;
        return;
      }
    }
    add_field(name, text, type);
  }

  void walk_object(simdjson::dom::object object, std::string_view prefix, int depth) {
    for (simdjson::dom::key_value_pair member : object) {
      const std::string_view key = member.key;
      std::string_view name;
      // Only top-level members are followed in the raw text.
      const bool follow = depth == 0;
      if (prefix.empty()) {
        name = follow ? cursor.key(key) : std::string_view();
        if (name.empty()) name = batch.arena.copy(key);
      } else {
        char* joined = batch.arena.allocate(prefix.size() + 1 + key.size());
        std::memcpy(joined, prefix.data(), prefix.size());
        joined[prefix.size()] = '.';
        std::memcpy(joined + prefix.size() + 1, key.data(), key.size());
        name = std::string_view(joined, prefix.size() + 1 + key.size());
      }
      simdjson::dom::element value = member.value;
      if (value.is_object() && depth < kMaxFlattenDepth) {
        if (follow) cursor.give_up();
        walk_object(value.get_object().value_unsafe(), name, depth + 1);
        continue;
      }
      take(name, value, follow);
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
  // The common ones first: this runs for every JSON event with a level.
  static constexpr Alias kAliases[] = {
      {"info", 6},  {"error", 3},  {"warn", 4},     {"warning", 4}, {"debug", 7},
      {"notice", 5}, {"err", 3},   {"trace", 7},    {"crit", 2},    {"critical", 2},
      {"fatal", 0}, {"alert", 1},  {"emerg", 0},    {"emergency", 0}, {"panic", 0},
      {"information", 6}, {"informational", 6}};
  for (const Alias& alias : kAliases) {
    if (iequals(text, alias.name)) return alias.severity;
  }
  return kUnknownSeverity;
}

JsonEventParser::JsonEventParser() : JsonEventParser(config::JsonMappingOptions{}) {}

JsonEventParser::JsonEventParser(const config::JsonMappingOptions& options) {
  // The depth limit is kept when the parser later grows its capacity.
  // A failed allocation (out of memory) surfaces as a parse error later.
  if (parser_.allocate(64 * 1024, kJsonMaxDepth) != simdjson::SUCCESS) mapping_error_ = "out of memory";
  auto add = [&](const std::vector<std::string>& names, Slot slot) {
    uint8_t rank = 0;
    for (const std::string& name : names) {
      // A name listed for two slots goes to the first.
      bool listed = false;
      for (const SlotKey& key : keys_) listed = listed || key.name == name;
      if (!listed) keys_.push_back({name, slot, rank});
      if (rank < 254) ++rank;
    }
  };
  add(options.message_keys, Slot::kMessage);
  add(options.timestamp_keys, Slot::kTimestamp);
  add(options.host_keys, Slot::kHost);
  add(options.app_keys, Slot::kApp);
  add(options.severity_keys, Slot::kSeverity);
  add(options.facility_keys, Slot::kFacility);
  // Names are distinct, so their order does not decide a match.
  std::stable_sort(keys_.begin(), keys_.end(),
                   [](const SlotKey& a, const SlotKey& b) { return a.name.size() < b.name.size(); });
  const size_t longest = keys_.empty() ? 0 : keys_.back().name.size();
  key_starts_.assign(longest + 2, 0);
  for (const SlotKey& key : keys_) ++key_starts_[key.name.size() + 1];
  for (size_t n = 1; n < key_starts_.size(); ++n) key_starts_[n] += key_starts_[n - 1];
  const std::string& format = options.timestamp_format;
  if (format == "auto" || format.empty()) {
    time_format_ = TimeFormat::kAuto;
  } else if (format == "rfc3339") {
    time_format_ = TimeFormat::kRfc3339;
  } else if (format == "unix_s") {
    time_format_ = TimeFormat::kUnixS;
  } else if (format == "unix_ms") {
    time_format_ = TimeFormat::kUnixMs;
  } else if (format == "unix_us") {
    time_format_ = TimeFormat::kUnixUs;
  } else if (format == "unix_ns") {
    time_format_ = TimeFormat::kUnixNs;
  } else {
    config::DateOptions date;
    date.source = "json";
    date.formats.push_back({format, {}});
    auto created = DateProcessor::create(date);
    if (created) {
      time_pattern_.reset(static_cast<DateProcessor*>(created.value().release()));
      time_format_ = TimeFormat::kPattern;
    } else {
      mapping_error_ = "json.timestamp_format: " + created.error().message();
      time_format_ = TimeFormat::kAuto;
    }
  }
}

JsonEventParser::~JsonEventParser() = default;

std::string_view JsonEventParser::parse(std::string_view text, size_t readable_bytes,
                                        EventBatch& batch, Event& event) {
  event.first_field = static_cast<uint32_t>(batch.fields.size());
  event.field_count = 0;
  last_error_ = JsonError::kNone;
  if (readable_bytes < text.size() + simdjson::SIMDJSON_PADDING) return "internal: unpadded input";
  simdjson::dom::element root;
  if (auto code = parser_.parse(text.data(), text.size(), /*realloc_if_needed=*/false).get(root)) {
    last_error_ = classify(code, text);
    return json_error_message(last_error_);
  }
  if (!root.is_object()) {
    last_error_ = JsonError::kNotObject;
    return json_error_message(last_error_);
  }
  Walker walker{batch, event, keys_, key_starts_, time_format_, time_pattern_.get(), RawCursor(text), {}, {}};
  walker.walk_object(root.get_object().value_unsafe(), {}, 0);
  if (walker.filled[static_cast<size_t>(Slot::kMessage)].rank == 255) event.message = text;
  return {};
}

}  // namespace sluice::parsers
