#include "storage/event_codec.h"

#include <functional>

namespace sluice::storage {
namespace {

void put_varint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool get_varint(std::string_view in, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) return false;
    const uint8_t byte = static_cast<uint8_t>(in[pos++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void put_string_ref(std::string_view text, std::string_view raw, std::string& out) {
  // A view that points inside the raw line is stored as (offset, length).
  std::less_equal<const char*> le;
  if (!text.empty() && !raw.empty() && le(raw.data(), text.data()) &&
      le(text.data() + text.size(), raw.data() + raw.size())) {
    put_varint((uint64_t{text.size()} << 1) | 1, out);
    put_varint(static_cast<uint64_t>(text.data() - raw.data()), out);
    return;
  }
  put_varint(uint64_t{text.size()} << 1, out);
  out.append(text);
}

bool get_string_ref(std::string_view in, size_t& pos, std::string_view raw, std::string_view& text) {
  uint64_t tag;
  if (!get_varint(in, pos, tag)) return false;
  const uint64_t length = tag >> 1;
  if (tag & 1) {
    uint64_t offset;
    if (!get_varint(in, pos, offset) || offset > raw.size() || length > raw.size() - offset) {
      return false;
    }
    text = raw.substr(offset, length);
    return true;
  }
  if (length > in.size() - pos) return false;
  text = in.substr(pos, length);
  pos += length;
  return true;
}

}  // namespace

void encode_event_value(const Event& event, const Field* fields, std::string& out) {
  out.push_back(static_cast<char>(kEventValueVersion));
  out.push_back(static_cast<char>(event.severity));
  out.push_back(static_cast<char>(event.facility));
  out.push_back(static_cast<char>(event.flags));
  out.push_back(static_cast<char>(event.input));
  put_varint(zigzag(event.received_ns - event.timestamp_ns), out);
  put_varint(event.raw.size(), out);
  out.append(event.raw);
  put_string_ref(event.host, event.raw, out);
  put_string_ref(event.app, event.raw, out);
  put_string_ref(event.message, event.raw, out);
  put_string_ref(event.json_message(), event.raw, out);
  put_varint(event.field_count, out);
  for (uint32_t i = 0; i < event.field_count; ++i) {
    put_string_ref(fields[i].name, event.raw, out);
    put_string_ref(fields[i].value, event.raw, out);
    out.push_back(static_cast<char>(fields[i].type));
  }
}

bool decode_event_value(std::string_view value, EventView& view) {
  const uint8_t version = value.empty() ? 0 : static_cast<uint8_t>(value[0]);
  if (value.size() < 5 || version < 1 || version > 3) return false;
  view.severity = static_cast<uint8_t>(value[1]);
  view.facility = static_cast<uint8_t>(value[2]);
  view.flags = static_cast<uint8_t>(value[3]);
  view.input = static_cast<uint8_t>(value[4]);
  size_t pos = 5;
  uint64_t delta, raw_length, field_count;
  if (!get_varint(value, pos, delta)) return false;
  view.received_ns = view.timestamp_ns + unzigzag(delta);
  if (!get_varint(value, pos, raw_length) || raw_length > value.size() - pos) return false;
  view.raw = value.substr(pos, raw_length);
  pos += raw_length;
  if (!get_string_ref(value, pos, view.raw, view.host) ||
      !get_string_ref(value, pos, view.raw, view.app) ||
      !get_string_ref(value, pos, view.raw, view.message)) {
    return false;
  }
  view.message_json = {};
  if (version >= 3 && !get_string_ref(value, pos, view.raw, view.message_json)) return false;
  if (!get_varint(value, pos, field_count) || field_count > value.size()) return false;
  view.fields.clear();
  for (uint64_t i = 0; i < field_count; ++i) {
    Field field;
    if (!get_string_ref(value, pos, view.raw, field.name) ||
        !get_string_ref(value, pos, view.raw, field.value)) {
      return false;
    }
    if (version >= 2) {
      if (pos >= value.size()) return false;
      const uint8_t type = static_cast<uint8_t>(value[pos++]);
      if (type > static_cast<uint8_t>(FieldType::kBool)) return false;
      field.type = static_cast<FieldType>(type);
    }
    view.fields.push_back(field);
  }
  return pos == value.size();
}

}  // namespace sluice::storage
