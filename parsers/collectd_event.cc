#include "parsers/collectd_event.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice::parsers {
namespace {

constexpr size_t kMaxDataSources = 64;

std::string_view joined(Arena& arena, std::string_view prefix, std::string_view name) {
  char* out = arena.allocate(prefix.size() + name.size());
  std::memcpy(out, prefix.data(), prefix.size());
  std::memcpy(out + prefix.size(), name.data(), name.size());
  return {out, prefix.size() + name.size()};
}

// A number as JSON text into `out`; false for anything else (null: NaN).
bool number_text(simdjson::dom::element value, char (&out)[32], size_t& length, FieldType& type) {
  char* end = out;
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
      end = std::to_chars(out, out + sizeof out, value.get_int64().value_unsafe()).ptr;
      type = FieldType::kInt;
      break;
    case simdjson::dom::element_type::UINT64:
      end = std::to_chars(out, out + sizeof out, value.get_uint64().value_unsafe()).ptr;
      type = FieldType::kInt;
      break;
    case simdjson::dom::element_type::DOUBLE: {
      const double number = value.get_double().value_unsafe();
      if (!std::isfinite(number)) return false;
      end = std::to_chars(out, out + sizeof out, number).ptr;
      type = FieldType::kFloat;
      break;
    }
    default:
      return false;
  }
  length = static_cast<size_t>(end - out);
  return true;
}

}  // namespace

std::string_view CollectdParser::parse(std::string_view text, size_t readable_bytes, EventBatch& batch,
                                       Event& event) {
  event.first_field = static_cast<uint32_t>(batch.fields.size());
  event.field_count = 0;
  if (readable_bytes < text.size() + simdjson::SIMDJSON_PADDING) return "internal: unpadded input";
  simdjson::dom::element root;
  if (parser_.parse(text.data(), text.size(), /*realloc_if_needed=*/false).get(root)) return "invalid JSON";
  simdjson::dom::object object;
  if (root.get_object().get(object)) return "not a JSON object";
  simdjson::dom::array values, dsnames, dstypes;
  if (object["values"].get_array().get(values) || object["dsnames"].get_array().get(dsnames)) {
    return "not a collectd value list (values and dsnames arrays)";
  }
  const bool has_types = !object["dstypes"].get_array().get(dstypes);
  if (values.size() != dsnames.size() || values.size() > kMaxDataSources) {
    return "collectd value list: values and dsnames differ in length";
  }
  auto add = [&](std::string_view name, std::string_view value, FieldType type) {
    batch.fields.push_back({name, value, type});
    ++event.field_count;
  };
  auto string_member = [&](const char* key) -> std::string_view {
    std::string_view value;
    if (object[key].get_string().get(value)) return {};
    return value;
  };

  const std::string_view host = string_member("host");
  if (!host.empty()) event.host = batch.arena.copy(host);
  event.app = "collectd";
  event.severity = 6;  // info

  double seconds = 0;
  if (simdjson::dom::element time; !object["time"].get(time)) {
    if (time.is_double()) seconds = time.get_double().value_unsafe();
    else if (time.is_int64()) seconds = static_cast<double>(time.get_int64().value_unsafe());
    else if (time.is_uint64()) seconds = static_cast<double>(time.get_uint64().value_unsafe());
  }
  if (std::isfinite(seconds) && seconds > 0 && seconds < 9e9) {
    const double whole = std::floor(seconds);
    event.timestamp_ns = static_cast<int64_t>(whole) * 1'000'000'000 +
                         static_cast<int64_t>(std::llround((seconds - whole) * 1e9));
  }

  // plugin[-plugin_instance]/type[-type_instance]: collectd's identifier.
  std::string message;
  message.reserve(128);
  for (const char* key : {"plugin", "plugin_instance", "type", "type_instance"}) {
    const std::string_view value = string_member(key);
    const bool instance = std::strstr(key, "instance") != nullptr;
    if (std::strcmp(key, "type") == 0) message.push_back('/');
    if (!value.empty()) {
      if (instance) message.push_back('-');
      message.append(value);
      add(key, batch.arena.copy(value), FieldType::kString);
    }
  }
  if (simdjson::dom::element interval; !object["interval"].get(interval)) {
    char number[32];
    size_t length = 0;
    FieldType type = FieldType::kFloat;
    if (number_text(interval, number, length, type)) {
      add("interval", batch.arena.copy(std::string_view(number, length)), type);
    }
  }
  for (size_t i = 0; i < values.size(); ++i) {
    std::string_view dsname;
    if (dsnames.at(i).get_string().get(dsname) || dsname.empty()) dsname = "value";
    char number[32];
    size_t length = 0;
    FieldType type = FieldType::kFloat;
    message.push_back(i == 0 ? ' ' : ',');
    message.append(dsname);
    message.push_back('=');
    if (number_text(values.at(i).value_unsafe(), number, length, type)) {
      const std::string_view value = batch.arena.copy(std::string_view(number, length));
      add(joined(batch.arena, "values.", dsname), value, type);
      message.append(value);
    } else {
      message.append("nan");
    }
    std::string_view dstype;
    if (has_types && i < dstypes.size() && !dstypes.at(i).get_string().get(dstype)) {
      add(joined(batch.arena, "dstypes.", dsname), batch.arena.copy(dstype), FieldType::kString);
    }
  }
  event.message = batch.arena.copy(message);
  return {};
}

}  // namespace sluice::parsers
