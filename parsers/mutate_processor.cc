#include "parsers/mutate_processor.h"

#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice::parsers {
namespace {

std::string_view* slot_of(Event& event, std::string_view name) {
  if (name == "message") return &event.message;
  if (name == "host") return &event.host;
  if (name == "app") return &event.app;
  return nullptr;
}

Field* event_fields(EventContext& context) { return context.batch.fields.data() + context.event.first_field; }

// Calls visit(std::string_view& value, FieldType* type) for the slot (type
// null) or every field named `name`.
template <typename Visit>
void for_each_value(EventContext& context, std::string_view name, Visit&& visit) {
  if (std::string_view* slot = slot_of(context.event, name)) {
    if (!slot->empty()) visit(*slot, static_cast<FieldType*>(nullptr));
    return;
  }
  Field* fields = event_fields(context);
  for (uint32_t i = 0; i < context.event.field_count; ++i) {
    if (fields[i].name == name) visit(fields[i].value, &fields[i].type);
  }
}

std::string at(const config::Position& position, std::string_view message) {
  std::string out = position.to_string();
  out += ": ";
  out += message;
  return out;
}

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

// `value` with every ASCII letter mapped; a view of the original when
// nothing changes, else an arena copy.
template <char (*Map)(char)>
std::string_view map_case(Arena& arena, std::string_view value) {
  size_t first = 0;
  while (first < value.size() && Map(value[first]) == value[first]) ++first;
  if (first == value.size()) return value;
  char* out = arena.allocate(value.size());
  std::memcpy(out, value.data(), first);
  for (size_t i = first; i < value.size(); ++i) out[i] = Map(value[i]);
  return {out, value.size()};
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// The JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
bool is_json_number(std::string_view text) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == text.size();
}

bool parse_double(std::string_view text, double& out) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
  return result.ec == std::errc() && result.ptr == text.data() + text.size() && std::isfinite(out);
}

std::string_view copy_number(Arena& arena, std::string_view current, const char* begin, const char* end) {
  const std::string_view canonical(begin, static_cast<size_t>(end - begin));
  return canonical == current ? current : arena.copy(canonical);
}

// Converts in place; false (value and type untouched) if it doesn't convert.
bool convert_value(Arena& arena, MutateProcessor::ConvertType type, std::string_view& value, FieldType& field_type) {
  char buffer[32];
  switch (type) {
    case MutateProcessor::ConvertType::kString:
      field_type = FieldType::kString;
      return true;
    case MutateProcessor::ConvertType::kInt: {
      std::string_view digits = value;
      if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
      int64_t number = 0;
      const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), number);
      if (parsed.ec == std::errc() && parsed.ptr == digits.data() + digits.size() && !digits.empty()) {
        const char* end = std::to_chars(buffer, buffer + sizeof buffer, number).ptr;
        value = copy_number(arena, value, buffer, end);
        field_type = FieldType::kInt;
        return true;
      }
      double real = 0;
      // Logstash truncates "3.9" to 3; beyond int64 the value stays.
      if (!parse_double(value, real) || std::fabs(real) >= 9.2e18) return false;
      const char* end = std::to_chars(buffer, buffer + sizeof buffer, static_cast<int64_t>(real)).ptr;
      value = copy_number(arena, value, buffer, end);
      field_type = FieldType::kInt;
      return true;
    }
    case MutateProcessor::ConvertType::kFloat: {
      double real = 0;
      if (!parse_double(value, real)) return false;
      // Stored text must read as a JSON number (".5", "+1", "1." don't).
      if (!is_json_number(value)) {
        const char* end = std::to_chars(buffer, buffer + sizeof buffer, real).ptr;
        value = arena.copy(std::string_view(buffer, static_cast<size_t>(end - buffer)));
      }
      field_type = FieldType::kFloat;
      return true;
    }
    case MutateProcessor::ConvertType::kBool: {
      static constexpr std::string_view kTrue[] = {"true", "t", "yes", "y", "1"};
      static constexpr std::string_view kFalse[] = {"false", "f", "no", "n", "0"};
      for (std::string_view word : kTrue) {
        if (iequals(value, word)) {
          value = "true";
          field_type = FieldType::kBool;
          return true;
        }
      }
      for (std::string_view word : kFalse) {
        if (iequals(value, word)) {
          value = "false";
          field_type = FieldType::kBool;
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// RE2::GlobalReplace's loop over a caller-owned buffer: `out` is cleared and
// reused, so its capacity survives from event to event. Returns the number
// of replacements (0: `out` is not meaningful).
int global_replace(const RE2& regex, std::string_view text, std::string_view rewrite, int groups,
                   std::string& out) {
  re2::StringPiece vec[10];
  const re2::StringPiece input(text.data(), text.size());
  out.clear();
  const char* p = text.data();
  const char* const end = text.data() + text.size();
  const char* last_end = nullptr;
  int count = 0;
  while (p <= end) {
    if (!regex.Match(input, static_cast<size_t>(p - text.data()), text.size(), RE2::UNANCHORED, vec, groups)) break;
    if (p < vec[0].data()) out.append(p, static_cast<size_t>(vec[0].data() - p));
    if (vec[0].data() == last_end && vec[0].empty()) {
      // An empty match right after the previous match: step over one
      // character instead, as GlobalReplace does.
      if (p >= end) break;
      size_t step = utf8_length(static_cast<unsigned char>(*p));
      if (step > static_cast<size_t>(end - p)) step = static_cast<size_t>(end - p);
      out.append(p, step);
      p += step;
      continue;
    }
    regex.Rewrite(&out, re2::StringPiece(rewrite.data(), rewrite.size()), vec, groups);
    p = vec[0].data() + vec[0].size();
    last_end = p;
    ++count;
  }
  if (count == 0) return 0;
  if (p < end) out.append(p, static_cast<size_t>(end - p));
  return count;
}

// Thread: one worker.
class MutateScratch final : public Scratch {
 public:
  std::vector<std::unique_ptr<RE2>> regexes;  // one per gsub entry
  std::string buffer;                         // gsub output before the arena copy
};

}  // namespace

MutateProcessor::~MutateProcessor() = default;

Expected<std::unique_ptr<Processor>> MutateProcessor::create(const config::MutateOptions& options) {
  std::unique_ptr<MutateProcessor> processor(new MutateProcessor());
  auto check_name = [](std::string_view operation, const std::string& name) -> Status {
    if (name.empty()) return Status::error("mutate: " + std::string(operation) + ": empty field name");
    return Status::ok();
  };
  for (const auto& [from, to] : options.rename) {
    if (Status s = check_name("rename", from); !s) return s;
    if (Status s = check_name("rename", to); !s) return s;
    processor->rename_.emplace_back(from, to);
  }
  for (const auto& [field, type] : options.convert) {
    if (Status s = check_name("convert", field); !s) return s;
    ConvertType converted;
    const std::string& name = type.value;
    if (name == "int" || name == "integer") {
      converted = ConvertType::kInt;
    } else if (name == "float") {
      converted = ConvertType::kFloat;
    } else if (name == "bool" || name == "boolean") {
      converted = ConvertType::kBool;
    } else if (name == "string") {
      converted = ConvertType::kString;
    } else {
      return Status::error(at(type.position, "mutate convert \"" + field + "\": unknown type \"" + name +
                                                 "\" (expected int, integer, float, bool, boolean or string)"));
    }
    processor->convert_.push_back({field, converted});
  }
  for (const auto& gsub : options.gsub) {
    if (Status s = check_name("gsub", gsub.field); !s) return s;
    RE2::Options re_options;
    re_options.set_log_errors(false);
    auto regex = std::make_unique<RE2>(gsub.pattern.value, re_options);
    if (!regex->ok()) {
      return Status::error(at(gsub.pattern.position, "mutate gsub \"" + gsub.field + "\": invalid regular expression \"" +
                                                         gsub.pattern.value + "\": " + regex->error()));
    }
    std::string problem;
    if (!regex->CheckRewriteString(gsub.replacement, &problem)) {
      return Status::error(at(gsub.pattern.position, "mutate gsub \"" + gsub.field + "\": replacement \"" +
                                                         gsub.replacement + "\": " + problem));
    }
    const int groups = 1 + RE2::MaxSubmatch(gsub.replacement);
    processor->gsub_.push_back(Gsub{gsub.field, std::move(regex), gsub.replacement, groups});
  }
  for (const auto& field : options.uppercase) {
    if (Status s = check_name("uppercase", field); !s) return s;
    processor->uppercase_.push_back(field);
  }
  for (const auto& field : options.lowercase) {
    if (Status s = check_name("lowercase", field); !s) return s;
    processor->lowercase_.push_back(field);
  }
  for (const auto& field : options.remove) {
    if (Status s = check_name("remove", field); !s) return s;
    processor->remove_.push_back(field);
  }
  for (const auto& [field, separator] : options.split) {
    if (Status s = check_name("split", field); !s) return s;
    if (separator.empty()) return Status::error("mutate: split \"" + field + "\": empty separator");
    processor->split_.emplace_back(field, separator);
  }
  for (const auto& [field, value] : options.add) {
    if (Status s = check_name("add", field); !s) return s;
    Add add{field, {}};
    size_t pos = 0;
    while (pos < value.size()) {
      const size_t open = value.find("%{", pos);
      if (open == std::string::npos) {
        add.segments.push_back({false, value.substr(pos)});
        break;
      }
      if (open > pos) add.segments.push_back({false, value.substr(pos, open - pos)});
      const size_t close = value.find('}', open + 2);
      if (close == std::string::npos || close == open + 2) {
        return Status::error("mutate: add \"" + field + "\": " +
                             (close == std::string::npos ? "unclosed %{" : "empty %{}") + " in \"" + value + "\"");
      }
      add.segments.push_back({true, value.substr(open + 2, close - open - 2)});
      pos = close + 1;
    }
    processor->add_.push_back(std::move(add));
  }
  return std::unique_ptr<Processor>(std::move(processor));
}

std::unique_ptr<Scratch> MutateProcessor::make_scratch() const {
  auto scratch = std::make_unique<MutateScratch>();
  for (const Gsub& gsub : gsub_) {
    scratch->regexes.push_back(std::make_unique<RE2>(gsub.regex->pattern(), gsub.regex->options()));
  }
  return scratch;
}

void MutateProcessor::apply_gsub(EventContext& context, const Gsub& gsub, const RE2& regex,
                                 std::string& buffer) const {
  for_each_value(context, gsub.field, [&](std::string_view& value, FieldType*) {
    if (global_replace(regex, value, gsub.replacement, gsub.groups_needed, buffer) == 0) return;
    value = context.batch.arena.copy(buffer);
  });
}

ProcessResult MutateProcessor::process(EventContext& context, Scratch& scratch_base) const {
  auto& scratch = static_cast<MutateScratch&>(scratch_base);
  Event& event = context.event;
  Arena& arena = context.batch.arena;

  for (const auto& [from, to] : rename_) {
    if (from == to) continue;
    if (std::string_view* from_slot = slot_of(event, from)) {
      const std::string_view value = *from_slot;
      if (value.empty()) continue;
      *from_slot = {};
      if (std::string_view* to_slot = slot_of(event, to)) {
        *to_slot = value;
      } else {
        fields::set(context, arena.copy(to), value);
      }
      continue;
    }
    std::string_view first;
    if (!fields::get(context, from, first)) continue;
    if (std::string_view* to_slot = slot_of(event, to)) {
      *to_slot = first;
      fields::remove(context, from);
      continue;
    }
    fields::remove(context, to);
    const std::string_view name = arena.copy(to);
    Field* fields = event_fields(context);
    for (uint32_t i = 0; i < event.field_count; ++i) {
      if (fields[i].name == from) fields[i].name = name;
    }
  }

  for (const Convert& convert : convert_) {
    for_each_value(context, convert.field, [&](std::string_view& value, FieldType* type) {
      if (type != nullptr) convert_value(arena, convert.type, value, *type);
    });
  }

  for (size_t i = 0; i < gsub_.size(); ++i) apply_gsub(context, gsub_[i], *scratch.regexes[i], scratch.buffer);

  for (const std::string& field : uppercase_) {
    for_each_value(context, field, [&](std::string_view& value, FieldType*) { value = map_case<to_upper>(arena, value); });
  }
  for (const std::string& field : lowercase_) {
    for_each_value(context, field, [&](std::string_view& value, FieldType*) { value = map_case<to_lower>(arena, value); });
  }

  for (const std::string& field : remove_) fields::remove(context, field);

  for (const auto& [field, separator] : split_) {
    if (slot_of(event, field) != nullptr) continue;
    const Field* fields = event_fields(context);
    uint32_t count = 0;
    Field original;
    for (uint32_t i = 0; i < event.field_count; ++i) {
      if (fields[i].name == field) {
        original = fields[i];
        ++count;
      }
    }
    if (count != 1) continue;
    std::string_view rest = original.value;
    // Ruby's String#split drops trailing empty parts.
    while (rest.size() >= separator.size() && rest.ends_with(separator)) rest.remove_suffix(separator.size());
    fields::remove(context, field);
    while (true) {
      const size_t at_separator = rest.find(separator);
      fields::add(context, original.name, rest.substr(0, at_separator));
      if (at_separator == std::string_view::npos) break;
      rest.remove_prefix(at_separator + separator.size());
    }
  }

  for (const Add& add : add_) {
    size_t length = 0;
    for (const Segment& segment : add.segments) {
      std::string_view value;
      if (segment.reference && fields::get(context, segment.text, value)) {
        length += value.size();
      } else {
        length += segment.text.size() + (segment.reference ? 3 : 0);  // "%{" "}"
      }
    }
    char* out = length == 0 ? nullptr : arena.allocate(length);
    size_t written = 0;
    auto put = [&](std::string_view text) {
      if (!text.empty()) std::memcpy(out + written, text.data(), text.size());
      written += text.size();
    };
    for (const Segment& segment : add.segments) {
      std::string_view value;
      if (!segment.reference) {
        put(segment.text);
      } else if (fields::get(context, segment.text, value)) {
        put(value);
      } else {
        put("%{");
        put(segment.text);
        put("}");
      }
    }
    const std::string_view value(out, written);
    if (std::string_view* slot = slot_of(event, add.field)) {
      if (slot->empty()) *slot = value;
    } else {
      fields::add(context, arena.copy(add.field), value);
    }
  }
  return ProcessResult::kOk;
}

}  // namespace sluice::parsers
