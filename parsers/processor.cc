#include "parsers/processor.h"

#include "server/base/assert.h"

namespace sluice::parsers::fields {
namespace {

std::string_view* slot_of(Event& event, std::string_view name) {
  if (name == "message") return &event.message;
  if (name == "host") return &event.host;
  if (name == "app") return &event.app;
  return nullptr;
}

Field* first_field(const EventContext& context) {
  return context.batch.fields.data() + context.event.first_field;
}

void check_tail(const EventContext& context) {
  SLUICE_ASSERT(context.event.first_field + context.event.field_count == context.batch.fields.size(),
                "an event's fields are the tail of its batch while it is processed");
}

}  // namespace

bool get(const EventContext& context, std::string_view name, std::string_view& value) {
  if (const std::string_view* slot = slot_of(context.event, name)) {
    value = *slot;
    return !slot->empty();
  }
  const Field* fields = first_field(context);
  for (uint32_t i = 0; i < context.event.field_count; ++i) {
    if (fields[i].name == name) {
      value = fields[i].value;
      return true;
    }
  }
  return false;
}

void add(EventContext& context, std::string_view name, std::string_view value, FieldType type) {
  check_tail(context);
  context.batch.fields.push_back(Field{name, value, type});
  ++context.event.field_count;
}

void set(EventContext& context, std::string_view name, std::string_view value, FieldType type) {
  if (auto* slot = slot_of(context.event, name)) {
    *slot = value;
    return;
  }
  remove(context, name);
  add(context, name, value, type);
}

bool remove(EventContext& context, std::string_view name) {
  if (auto* slot = slot_of(context.event, name)) {
    const bool had = !slot->empty();
    *slot = {};
    return had;
  }
  check_tail(context);
  auto& all = context.batch.fields;
  const size_t begin = context.event.first_field;
  size_t kept = begin;
  for (size_t i = begin; i < all.size(); ++i) {
    if (all[i].name != name) all[kept++] = all[i];
  }
  const bool removed = kept != all.size();
  all.resize(kept);
  context.event.field_count = static_cast<uint32_t>(kept - begin);
  return removed;
}

bool is_slot_name(std::string_view name) { return name == "message" || name == "host" || name == "app"; }

void remove_preexisting(EventContext& context, std::string_view name, uint32_t& preexisting) {
  const Field* fields = context.batch.fields.data() + context.event.first_field;
  bool found = false;
  for (uint32_t i = 0; i < preexisting && !found; ++i) found = fields[i].name == name;
  if (!found) return;
  const uint32_t before = context.event.field_count;
  remove(context, name);
  const uint32_t removed = before - context.event.field_count;
  preexisting = removed < preexisting ? preexisting - removed : 0;
}

bool exists(const EventContext& context, std::string_view name) {
  std::string_view ignored;
  return get(context, name, ignored);
}

}  // namespace sluice::parsers::fields
