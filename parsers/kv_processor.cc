#include "parsers/kv_processor.h"

#include <cstring>

namespace sluice::parsers {
namespace {

using fields::is_slot_name;
using fields::remove_preexisting;

std::string_view trim(std::string_view text, std::string_view chars) {
  if (chars.empty()) return text;
  while (!text.empty() && chars.find(text.front()) != std::string_view::npos) text.remove_prefix(1);
  while (!text.empty() && chars.find(text.back()) != std::string_view::npos) text.remove_suffix(1);
  return text;
}

}  // namespace

Expected<std::unique_ptr<Processor>> KvProcessor::create(const config::KvOptions& options) {
  if (options.source.empty()) return Status::error("kv: source must name a field");
  if (options.field_split.empty()) return Status::error("kv: field_split must not be empty");
  if (options.value_split.empty()) return Status::error("kv: value_split must not be empty");
  for (char c : options.value_split) {
    if (options.field_split.find(c) != std::string::npos) {
      return Status::error(std::string("kv: the character '") + c +
                           "' is in both field_split and value_split");
    }
  }
  std::unique_ptr<KvProcessor> processor(new KvProcessor(options));
  if (!options.target.empty()) processor->name_prefix_ = options.target + ".";
  processor->name_prefix_ += options.prefix;
  return std::unique_ptr<Processor>(std::move(processor));
}

std::unique_ptr<Scratch> KvProcessor::make_scratch() const { return std::make_unique<NoScratch>(); }

ProcessResult KvProcessor::process(EventContext& context, Scratch&) const {
  std::string_view source;
  if (!fields::get(context, options_.source, source) || source.empty()) return ProcessResult::kOk;
  const std::string_view field_split = options_.field_split;
  const std::string_view value_split = options_.value_split;
  auto is_field_split = [&](char c) { return field_split.find(c) != std::string_view::npos; };
  auto is_value_split = [&](char c) { return value_split.find(c) != std::string_view::npos; };

  uint32_t preexisting = context.event.field_count;
  size_t pos = 0;
  const size_t end = source.size();
  while (pos < end) {
    while (pos < end && is_field_split(source[pos])) ++pos;
    if (pos == end) break;
    const size_t key_begin = pos;
    while (pos < end && !is_field_split(source[pos]) && !is_value_split(source[pos])) ++pos;
    if (pos == end || is_field_split(source[pos])) continue;  // no value: skipped
    std::string_view key = source.substr(key_begin, pos - key_begin);
    ++pos;  // the value separator
    std::string_view value;
    const char first = pos < end ? source[pos] : '\0';
    size_t close = std::string_view::npos;
    if (first == '"' || first == '\'') close = source.find(first, pos + 1);
    if (close != std::string_view::npos) {
      value = source.substr(pos + 1, close - pos - 1);
      pos = close + 1;
      // Anything glued to the closing quote up to the next separator is
      // dropped rather than starting a bogus pair.
      while (pos < end && !is_field_split(source[pos])) ++pos;
    } else {
      const size_t value_begin = pos;
      while (pos < end && !is_field_split(source[pos])) ++pos;
      value = source.substr(value_begin, pos - value_begin);
    }
    key = trim(key, options_.trim_key);
    value = trim(value, options_.trim_value);
    if (key.empty() || value.empty()) continue;

    std::string_view name = key;
    if (!name_prefix_.empty()) {
      char* joined = context.batch.arena.allocate(name_prefix_.size() + key.size());
      std::memcpy(joined, name_prefix_.data(), name_prefix_.size());
      std::memcpy(joined + name_prefix_.size(), key.data(), key.size());
      name = std::string_view(joined, name_prefix_.size() + key.size());
    }
    if (is_slot_name(name)) {
      fields::set(context, name, value);
    } else {
      remove_preexisting(context, name, preexisting);
      fields::add(context, name, value);
    }
  }
  return ProcessResult::kOk;
}

}  // namespace sluice::parsers
