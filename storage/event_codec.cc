#include "storage/event_codec.h"

#include <cstring>
#include <functional>

#include "storage/varint.h"

namespace sluice::storage {
namespace {

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

// A string as (offset, length) when it points inside the raw line, else
// as its length and bytes; into memory that has room for it.
char* write_string_ref(char* p, std::string_view text, std::string_view raw) {
  std::less_equal<const char*> le;
  if (!text.empty() && !raw.empty() && le(raw.data(), text.data()) &&
      le(text.data() + text.size(), raw.data() + raw.size())) {
    p = write_varint(p, (uint64_t{text.size()} << 1) | 1);
    return write_varint(p, static_cast<uint64_t>(text.data() - raw.data()));
  }
  p = write_varint(p, uint64_t{text.size()} << 1);
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

constexpr size_t kMaxStringRefBytes = 2 * kMaxVarintBytes;  // without its text

}  // namespace

// Sized once and written through a pointer: the store encodes every event
// it takes, and a push_back per byte cost a capacity check each.
void encode_event_value(const Event& event, const Field* fields, std::string& out) {
  const std::string_view message_json = event.json_message();
  // An upper bound: every string as if it were no slice of the line.
  size_t bound = 5 + 3 * kMaxVarintBytes + event.raw.size() + 4 * kMaxStringRefBytes + event.host.size() +
                 event.app.size() + event.message.size() + message_json.size();
  for (uint32_t i = 0; i < event.field_count; ++i) {
    bound += 2 * kMaxStringRefBytes + 1 + fields[i].name.size() + fields[i].value.size();
  }
  const size_t start = out.size();
  out.resize(start + bound);
  char* p = out.data() + start;
  *p++ = static_cast<char>(kEventValueVersion);
  *p++ = static_cast<char>(event.severity);
  *p++ = static_cast<char>(event.facility);
  *p++ = static_cast<char>(event.flags);
  *p++ = static_cast<char>(event.input);
  p = write_varint(p, zigzag(event.received_ns - event.timestamp_ns));
  p = write_varint(p, event.raw.size());
  if (!event.raw.empty()) std::memcpy(p, event.raw.data(), event.raw.size());
  p += event.raw.size();
  p = write_string_ref(p, event.host, event.raw);
  p = write_string_ref(p, event.app, event.raw);
  p = write_string_ref(p, event.message, event.raw);
  p = write_string_ref(p, message_json, event.raw);
  p = write_varint(p, event.field_count);
  for (uint32_t i = 0; i < event.field_count; ++i) {
    p = write_string_ref(p, fields[i].name, event.raw);
    p = write_string_ref(p, fields[i].value, event.raw);
    *p++ = static_cast<char>(fields[i].type);
  }
  out.resize(static_cast<size_t>(p - out.data()));
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
