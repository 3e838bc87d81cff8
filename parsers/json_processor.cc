#include "parsers/json_processor.h"

#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <string>
#include <vector>

namespace sluice::parsers {
namespace {

// Deeper objects are kept as JSON text in one field: a depth bomb must not
// cost a field per level (the same limit as JsonEventParser).
constexpr int kMaxFlattenDepth = 16;

using fields::is_slot_name;
using fields::remove_preexisting;

// Thread: one worker. The parser and buffers grow to the largest document
// seen and are then reused, so steady state allocates nothing.
class JsonScratch final : public Scratch {
 public:
  simdjson::dom::parser parser;
  std::vector<char> padded;  // the source plus SIMDJSON_PADDING bytes
  std::string json_text;     // arrays re-serialised, before the arena copy
};

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 15];
      }
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_number(std::string& out, simdjson::dom::element value) {
  char number[32];
  char* end = number;
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
      end = std::to_chars(number, number + sizeof number, value.get_int64().value_unsafe()).ptr;
      break;
    case simdjson::dom::element_type::UINT64:
      end = std::to_chars(number, number + sizeof number, value.get_uint64().value_unsafe()).ptr;
      break;
    default:
      end = std::to_chars(number, number + sizeof number, value.get_double().value_unsafe()).ptr;
  }
  out.append(number, static_cast<size_t>(end - number));
}

// Compact JSON text of `value`, into `out` (cleared by the caller). Written
// here rather than with simdjson::minify, which returns a new std::string.
void serialize(std::string& out, simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY: {
      out += '[';
      bool first = true;
      // Held in a local: ranging over value_unsafe() of a temporary result
      // would iterate a destroyed object.
      const simdjson::dom::array array = value.get_array().value_unsafe();
      for (simdjson::dom::element item : array) {
        if (!first) out += ',';
        first = false;
        serialize(out, item);
      }
      out += ']';
      return;
    }
    case simdjson::dom::element_type::OBJECT: {
      out += '{';
      bool first = true;
      const simdjson::dom::object object = value.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair member : object) {
        if (!first) out += ',';
        first = false;
        append_escaped(out, member.key);
        out += ':';
        serialize(out, member.value);
      }
      out += '}';
      return;
    }
    case simdjson::dom::element_type::STRING:
      append_escaped(out, value.get_string().value_unsafe());
      return;
    case simdjson::dom::element_type::BOOL:
      out += value.get_bool().value_unsafe() ? "true" : "false";
      return;
    case simdjson::dom::element_type::NULL_VALUE:
      out += "null";
      return;
    default:
      append_number(out, value);
  }
}

struct Walker {
  EventContext& context;
  JsonScratch& scratch;
  uint32_t preexisting;

  Arena& arena() { return context.batch.arena; }

  std::string_view join(std::string_view prefix, std::string_view key) {
    if (prefix.empty()) return arena().copy(key);
    char* joined = arena().allocate(prefix.size() + 1 + key.size());
    std::memcpy(joined, prefix.data(), prefix.size());
    joined[prefix.size()] = '.';
    std::memcpy(joined + prefix.size() + 1, key.data(), key.size());
    return {joined, prefix.size() + 1 + key.size()};
  }

  // Values are copied into the arena: the parser's buffers are reused by
  // the next document while the event lives on.
  void store(std::string_view name, simdjson::dom::element value, bool top_level) {
    std::string_view text;
    FieldType type = FieldType::kString;
    switch (value.type()) {
      case simdjson::dom::element_type::STRING:
        text = arena().copy(value.get_string().value_unsafe());
        break;
      case simdjson::dom::element_type::INT64:
      case simdjson::dom::element_type::UINT64:
      case simdjson::dom::element_type::DOUBLE:
        scratch.json_text.clear();
        append_number(scratch.json_text, value);
        text = arena().copy(scratch.json_text);
        type = value.type() == simdjson::dom::element_type::DOUBLE ? FieldType::kFloat : FieldType::kInt;
        break;
      case simdjson::dom::element_type::BOOL:
        text = value.get_bool().value_unsafe() ? "true" : "false";
        type = FieldType::kBool;
        break;
      case simdjson::dom::element_type::NULL_VALUE:
        text = "null";
        break;
      default:  // arrays, and objects past the flattening depth
        scratch.json_text.clear();
        serialize(scratch.json_text, value);
        text = arena().copy(scratch.json_text);
    }
    if (top_level && is_slot_name(name)) {
      fields::set(context, name, text);
    } else {
      remove_preexisting(context, name, preexisting);
      fields::add(context, name, text, type);
    }
  }

  void walk_object(simdjson::dom::object object, std::string_view prefix, int depth) {
    for (simdjson::dom::key_value_pair member : object) {
      const std::string_view name = join(prefix, member.key);
      simdjson::dom::element value = member.value;
      if (value.is_object() && depth < kMaxFlattenDepth) {
        walk_object(value.get_object().value_unsafe(), name, depth + 1);
      } else {
        store(name, value, prefix.empty());
      }
    }
  }
};

}  // namespace

Expected<std::unique_ptr<Processor>> JsonProcessor::create(const config::JsonOptions& options) {
  if (options.source.empty()) return Status::error("json: source must name a field");
  return std::unique_ptr<Processor>(new JsonProcessor(options));
}

std::unique_ptr<Scratch> JsonProcessor::make_scratch() const { return std::make_unique<JsonScratch>(); }

ProcessResult JsonProcessor::process(EventContext& context, Scratch& scratch_base) const {
  auto& scratch = static_cast<JsonScratch&>(scratch_base);
  std::string_view source;
  if (!fields::get(context, options_.source, source) || source.empty()) return ProcessResult::kOk;

  // Fields and slots hold views with no padding guarantee, so the text is
  // copied once into a buffer that has it.
  const size_t needed = source.size() + simdjson::SIMDJSON_PADDING;
  if (scratch.padded.size() < needed) scratch.padded.resize(needed + needed / 2);
  std::memcpy(scratch.padded.data(), source.data(), source.size());
  std::memset(scratch.padded.data() + source.size(), 0, simdjson::SIMDJSON_PADDING);

  simdjson::dom::element root;
  if (scratch.parser.parse(scratch.padded.data(), source.size(), /*realloc_if_needed=*/false).get(root)) {
    return ProcessResult::kFailed;
  }
  Walker walker{context, scratch, context.event.field_count};
  const std::string_view target = options_.target;
  if (root.is_object()) {
    std::string_view prefix;
    if (!target.empty()) prefix = context.batch.arena.copy(target);
    walker.walk_object(root.get_object().value_unsafe(), prefix, 0);
    return ProcessResult::kOk;
  }
  if (target.empty()) return ProcessResult::kFailed;
  walker.store(context.batch.arena.copy(target), root, /*top_level=*/true);
  return ProcessResult::kOk;
}

}  // namespace sluice::parsers
