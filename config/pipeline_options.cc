// Reads the `pipelines:` section of a config file into PipelineSpecs.
//
// Only shapes and types are checked here (unknown keys, lists that are not
// lists, duplicate names, dangling on_failure routes). What needs compiling
// (grok patterns, regexes, conditions, date formats, convert types) is left
// to parsers/, which reports it at the Position recorded for each value.
//
// Every error found is reported, not just the first, so that
// `sluice check-config` lists all of them in one run.
#include "config/pipeline_options.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "config/options.h"
#include "server/base/raw_batch.h"

namespace sluice::config {

std::string Position::to_string() const {
  if (line <= 0) return "<built-in>";
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

namespace {

constexpr std::string_view kProcessorKinds[] = {"grok", "kv", "json", "date", "mutate", "drop"};

// One key of a mapping with its value. yaml-cpp gives a null value (`key:`
// with nothing after it) the mark of whatever follows, so errors about a
// value point at its key when the value is null.
struct Item {
  std::string name;
  YAML::Node key;
  YAML::Node value;
  YAML::Mark value_mark() const { return value.IsNull() ? key.Mark() : value.Mark(); }
};

std::string quoted_list(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

bool is_identifier(std::string_view text, std::string_view extra) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           extra.find(c) != std::string_view::npos;
  });
}

// Thread: any; one reader per load.
class PipelineReader {
 public:
  PipelineReader(std::string_view source, std::vector<std::string>& errors)
      : source_(source), errors_(errors) {}

  void read_all(const YAML::Node& node, std::vector<PipelineSpec>& out);

 private:
  Position position(const YAML::Mark& mark) const {
    return Position{std::string(source_), mark.line + 1, mark.column + 1};
  }
  void error(const Position& at, std::string message) {
    errors_.push_back(at.to_string() + ": " + message);
  }
  void error(const YAML::Mark& mark, std::string message) { error(position(mark), std::move(message)); }

  // The entries of mapping `node`, in order; reports keys that are not
  // strings, not in `allowed`, or repeated. `where` names the mapping in
  // errors ("grok", "pipeline").
  std::vector<Item> entries(const YAML::Node& node, std::string_view where,
                            const std::vector<std::string_view>& allowed);

  bool read(const Item& item, std::string_view label, std::string& out, bool allow_empty);
  bool read(const Item& item, std::string_view label, Located<std::string>& out, bool allow_empty);
  bool read(const Item& item, std::string_view label, std::vector<std::string>& out);
  bool read(const Item& item, std::string_view label, std::vector<Located<std::string>>& out);
  bool read(const Item& item, std::string_view label, std::vector<std::pair<std::string, std::string>>& out);
  bool read(const Item& item, std::string_view label,
            std::vector<std::pair<std::string, Located<std::string>>>& out);
  bool read_gsub(const Item& item, std::vector<MutateOptions::Gsub>& out);

  void read_pipeline(const YAML::Node& node, PipelineSpec& out, YAML::Mark& name_mark);
  void read_processor(const YAML::Node& node, ProcessorSpec& out);
  void read_options(const Item& kind, ProcessorSpec& out);

  std::string_view source_;
  std::vector<std::string>& errors_;
};

std::vector<Item> PipelineReader::entries(const YAML::Node& node, std::string_view where,
                                          const std::vector<std::string_view>& allowed) {
  std::vector<Item> items;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      error(entry.first.Mark(), "keys in " + std::string(where) + " must be strings");
      continue;
    }
    Item item{entry.first.Scalar(), entry.first, entry.second};
    if (std::find(allowed.begin(), allowed.end(), item.name) == allowed.end()) {
      std::string message = "unknown key '" + item.name + "' in " + std::string(where);
      std::string_view suggestion = suggest_name(item.name, allowed);
      message += suggestion.empty() ? " (known: " + quoted_list(allowed) + ")"
                                    : " (did you mean '" + std::string(suggestion) + "'?)";
      error(item.key.Mark(), std::move(message));
      continue;
    }
    auto previous = std::find_if(items.begin(), items.end(), [&](const Item& i) { return i.name == item.name; });
    if (previous != items.end()) {
      error(item.key.Mark(), "duplicate key '" + item.name + "' in " + std::string(where) + " (first at line " +
                                 std::to_string(previous->key.Mark().line + 1) + ")");
      continue;
    }
    items.push_back(std::move(item));
  }
  return items;
}

bool PipelineReader::read(const Item& item, std::string_view label, std::string& out, bool allow_empty) {
  if (!item.value.IsScalar()) {
    error(item.value_mark(), std::string(label) + ": expected a string");
    return false;
  }
  if (!allow_empty && item.value.Scalar().empty()) {
    error(item.value_mark(), std::string(label) + ": must not be empty");
    return false;
  }
  out = item.value.Scalar();
  return true;
}

bool PipelineReader::read(const Item& item, std::string_view label, Located<std::string>& out,
                          bool allow_empty) {
  if (!read(item, label, out.value, allow_empty)) return false;
  out.position = position(item.value.Mark());
  return true;
}

bool PipelineReader::read(const Item& item, std::string_view label, std::vector<Located<std::string>>& out) {
  if (!item.value.IsSequence()) {
    error(item.value_mark(), std::string(label) + ": expected a list of strings");
    return false;
  }
  bool ok = true;
  out.clear();
  for (const auto& element : item.value) {
    if (!element.IsScalar() || element.Scalar().empty()) {
      error(element.Mark(), std::string(label) +
                                (element.IsScalar() ? ": empty string in the list" : ": expected a list of strings"));
      ok = false;
      continue;
    }
    out.push_back({element.Scalar(), position(element.Mark())});
  }
  return ok;
}

bool PipelineReader::read(const Item& item, std::string_view label, std::vector<std::string>& out) {
  std::vector<Located<std::string>> located;
  if (!read(item, label, located)) return false;
  out.clear();
  for (auto& element : located) out.push_back(std::move(element.value));
  return true;
}

bool PipelineReader::read(const Item& item, std::string_view label,
                          std::vector<std::pair<std::string, Located<std::string>>>& out) {
  if (!item.value.IsMap()) {
    error(item.value_mark(), std::string(label) + ": expected a mapping of strings, like {name: value}");
    return false;
  }
  bool ok = true;
  out.clear();
  for (const auto& entry : item.value) {
    if (!entry.first.IsScalar() || entry.first.Scalar().empty()) {
      error(entry.first.Mark(), std::string(label) + ": keys must be non-empty strings");
      ok = false;
      continue;
    }
    const std::string& key = entry.first.Scalar();
    if (std::any_of(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; })) {
      error(entry.first.Mark(), std::string(label) + ": duplicate key '" + key + "'");
      ok = false;
      continue;
    }
    if (!entry.second.IsScalar()) {
      error(entry.second.IsNull() ? entry.first.Mark() : entry.second.Mark(),
            std::string(label) + "." + key + ": expected a string");
      ok = false;
      continue;
    }
    out.push_back({key, {entry.second.Scalar(), position(entry.second.Mark())}});
  }
  return ok;
}

bool PipelineReader::read(const Item& item, std::string_view label,
                          std::vector<std::pair<std::string, std::string>>& out) {
  std::vector<std::pair<std::string, Located<std::string>>> located;
  if (!read(item, label, located)) return false;
  out.clear();
  for (auto& [key, value] : located) out.emplace_back(std::move(key), std::move(value.value));
  return true;
}

// gsub: a list of [field, regex, replacement] triples (Logstash's order) or
// of {field, pattern, replacement} mappings.
bool PipelineReader::read_gsub(const Item& item, std::vector<MutateOptions::Gsub>& out) {
  constexpr std::string_view kShape =
      "mutate.gsub: expected a list of [field, regex, replacement] or {field, pattern, replacement}";
  if (!item.value.IsSequence()) {
    error(item.value_mark(), std::string(kShape));
    return false;
  }
  bool ok = true;
  out.clear();
  for (const auto& element : item.value) {
    MutateOptions::Gsub gsub;
    if (element.IsSequence()) {
      const bool shaped = element.size() == 3 && element[0].IsScalar() && element[1].IsScalar() &&
                          element[2].IsScalar() && !element[0].Scalar().empty() && !element[1].Scalar().empty();
      if (!shaped) {
        error(element.Mark(), std::string(kShape));
        ok = false;
        continue;
      }
      gsub.field = element[0].Scalar();
      gsub.pattern = {element[1].Scalar(), position(element[1].Mark())};
      gsub.replacement = element[2].Scalar();
    } else if (element.IsMap()) {
      bool has_field = false;
      bool has_pattern = false;
      bool has_replacement = false;
      for (const Item& entry : entries(element, "mutate.gsub", {"field", "pattern", "replacement"})) {
        if (entry.name == "field") has_field = read(entry, "mutate.gsub.field", gsub.field, false);
        if (entry.name == "pattern") has_pattern = read(entry, "mutate.gsub.pattern", gsub.pattern, false);
        if (entry.name == "replacement") {
          has_replacement = read(entry, "mutate.gsub.replacement", gsub.replacement, true);
        }
      }
      if (!has_field || !has_pattern || !has_replacement) {
        error(element.Mark(), "mutate.gsub: each entry needs 'field', 'pattern' and 'replacement'");
        ok = false;
        continue;
      }
    } else {
      error(element.Mark(), std::string(kShape));
      ok = false;
      continue;
    }
    out.push_back(std::move(gsub));
  }
  return ok;
}

void PipelineReader::read_options(const Item& kind, ProcessorSpec& out) {
  const std::string& name = kind.name;
  if (!kind.value.IsNull() && !kind.value.IsMap()) {
    error(kind.value.Mark(), name + ": expected a mapping of options, like '" + name + ": {...}'");
    return;
  }
  auto label = [&](const Item& item) { return name + "." + item.name; };
  // An absent options mapping (`- drop:`) is all defaults.
  const YAML::Node options = kind.value.IsNull() ? YAML::Node(YAML::NodeType::Map) : kind.value;
  auto read_condition = [&](const Item& item) { read(item, label(item), out.condition, false); };
  // A missing required key is not reported on top of an unknown one: that is
  // most likely the same key, misspelt.
  const size_t errors_before = errors_.size();
  auto missing = [&](bool absent) { return absent && errors_.size() == errors_before; };

  if (name == "grok") {
    GrokOptions& grok = out.grok;
    bool has_patterns = false;
    for (const Item& item : entries(options, name,
                                    {"source", "patterns", "overwrite", "pattern_definitions", "patterns_dir", "if"})) {
      if (item.name == "source") read(item, label(item), grok.source, false);
      if (item.name == "patterns") {
        has_patterns = true;
        if (read(item, label(item), grok.patterns) && grok.patterns.empty()) {
          error(item.value_mark(), "grok.patterns: needs at least one pattern");
        }
      }
      if (item.name == "overwrite") read(item, label(item), grok.overwrite);
      if (item.name == "pattern_definitions" && read(item, label(item), grok.pattern_definitions)) {
        for (const auto& [pattern_name, regex] : grok.pattern_definitions) {
          // The names %{NAME} can refer to, as in Logstash's grok.
          if (!is_identifier(pattern_name, "")) {
            error(item.value.Mark(), "grok.pattern_definitions: pattern name '" + pattern_name +
                                         "' may only use letters, digits and '_'");
          }
        }
      }
      if (item.name == "patterns_dir") read(item, label(item), grok.patterns_dirs);
      if (item.name == "if") read_condition(item);
    }
    if (missing(!has_patterns)) error(kind.key.Mark(), "grok needs 'patterns', a list of grok patterns");
  } else if (name == "kv") {
    KvOptions& kv = out.kv;
    for (const Item& item : entries(options, name,
                                    {"source", "field_split", "value_split", "trim_key", "trim_value", "prefix",
                                     "target", "if"})) {
      if (item.name == "source") read(item, label(item), kv.source, false);
      if (item.name == "field_split") read(item, label(item), kv.field_split, false);
      if (item.name == "value_split") read(item, label(item), kv.value_split, false);
      if (item.name == "trim_key") read(item, label(item), kv.trim_key, true);
      if (item.name == "trim_value") read(item, label(item), kv.trim_value, true);
      if (item.name == "prefix") read(item, label(item), kv.prefix, true);
      if (item.name == "target") read(item, label(item), kv.target, true);
      if (item.name == "if") read_condition(item);
    }
  } else if (name == "json") {
    for (const Item& item : entries(options, name, {"source", "target", "if"})) {
      if (item.name == "source") read(item, label(item), out.json.source, false);
      if (item.name == "target") read(item, label(item), out.json.target, true);
      if (item.name == "if") read_condition(item);
    }
  } else if (name == "date") {
    DateOptions& date = out.date;
    bool has_formats = false;
    for (const Item& item : entries(options, name, {"source", "formats", "timezone", "target", "if"})) {
      if (item.name == "source") read(item, label(item), date.source, false);
      if (item.name == "formats") {
        has_formats = true;
        if (read(item, label(item), date.formats) && date.formats.empty()) {
          error(item.value_mark(), "date.formats: needs at least one format");
        }
      }
      if (item.name == "timezone") read(item, label(item), date.timezone, false);
      if (item.name == "target") read(item, label(item), date.target, true);
      if (item.name == "if") read_condition(item);
    }
    if (missing(!has_formats)) {
      error(kind.key.Mark(), "date needs 'formats', a list of ISO8601, UNIX, UNIX_MS or strftime patterns");
    }
  } else if (name == "mutate") {
    MutateOptions& mutate = out.mutate;
    bool has_operation = false;
    for (const Item& item : entries(options, name,
                                    {"rename", "remove", "add", "lowercase", "uppercase", "convert", "split",
                                     "gsub", "if"})) {
      has_operation |= item.name != "if";
      if (item.name == "rename") read(item, label(item), mutate.rename);
      if (item.name == "remove") read(item, label(item), mutate.remove);
      if (item.name == "add") read(item, label(item), mutate.add);
      if (item.name == "lowercase") read(item, label(item), mutate.lowercase);
      if (item.name == "uppercase") read(item, label(item), mutate.uppercase);
      if (item.name == "convert") read(item, label(item), mutate.convert);
      if (item.name == "split") read(item, label(item), mutate.split);
      if (item.name == "gsub") read_gsub(item, mutate.gsub);
      if (item.name == "if") read_condition(item);
    }
    if (missing(!has_operation)) {
      error(kind.key.Mark(),
            "mutate needs at least one of rename, remove, add, lowercase, uppercase, convert, split, gsub");
    }
  } else if (name == "drop") {
    // Drops every event that reaches it; `if:` says which.
    for (const Item& item : entries(options, name, {"if"})) read_condition(item);
  }
}

void PipelineReader::read_processor(const YAML::Node& node, ProcessorSpec& out) {
  constexpr std::string_view kShape = "a processor is a one-key mapping, its kind, like '- grok: {...}'";
  if (!node.IsMap() || node.size() == 0) {
    std::string message(kShape);
    if (node.IsScalar()) {
      const bool known =
          std::find(std::begin(kProcessorKinds), std::end(kProcessorKinds), node.Scalar()) != std::end(kProcessorKinds);
      message += known ? "; write '- " + node.Scalar() + ": {}'" : ", got '" + node.Scalar() + "'";
    }
    error(node.Mark(), std::move(message));
    return;
  }
  auto first = node.begin();
  if (!first->first.IsScalar()) {
    error(first->first.Mark(), std::string(kShape));
    return;
  }
  Item kind{first->first.Scalar(), first->first, first->second};
  out.kind = kind.name;
  out.position = position(kind.key.Mark());
  if (node.size() > 1) {
    // Usually options indented one level too little, or `if:` beside the kind.
    auto next = first;
    ++next;
    const YAML::Node second = next->first;
    const std::string second_name = second.IsScalar() ? second.Scalar() : "?";
    error(second.Mark(), "unexpected key '" + second_name + "' beside '" + kind.name + "': " + std::string(kShape) +
                             "; indent its options (and 'if') under '" + kind.name + ":'");
    return;
  }
  const std::vector<std::string_view> kinds(std::begin(kProcessorKinds), std::end(kProcessorKinds));
  if (std::find(kinds.begin(), kinds.end(), kind.name) == kinds.end()) {
    std::string message = "unknown processor '" + kind.name + "'";
    std::string_view suggestion = suggest_name(kind.name, kinds);
    message += suggestion.empty() ? " (known: " + quoted_list(kinds) + ")"
                                  : " (did you mean '" + std::string(suggestion) + "'?)";
    error(kind.key.Mark(), std::move(message));
    return;
  }
  read_options(kind, out);
}

void PipelineReader::read_pipeline(const YAML::Node& node, PipelineSpec& out, YAML::Mark& name_mark) {
  out.position = position(node.Mark());
  if (!node.IsMap()) {
    error(node.Mark(), "pipelines: each pipeline is a mapping with 'name' and 'processors'");
    return;
  }
  bool has_name = false;
  const size_t errors_before = errors_.size();
  for (const Item& item : entries(node, "pipeline", {"name", "inputs", "if", "on_failure", "processors"})) {
    if (item.name == "name" && read(item, "pipeline.name", out.name, false)) {
      has_name = true;
      name_mark = item.value.Mark();
      // Names appear in metrics labels and on_failure routes.
      if (!is_identifier(out.name, "-.")) {
        error(item.value.Mark(), "pipeline.name: '" + out.name + "' may only use letters, digits, '_', '-' and '.'");
      } else if (out.name == "tag") {
        error(item.value.Mark(), "pipeline.name: 'tag' is reserved (on_failure: tag)");
      }
    }
    if (item.name == "inputs" && read(item, "pipeline.inputs", out.inputs)) {
      std::vector<std::string_view> known;
      for (size_t id = 0; id < kInputCount; ++id) known.push_back(input_name(static_cast<InputId>(id)));
      size_t index = 0;
      for (const auto& element : item.value) {
        const std::string& input = out.inputs[index++];
        if (std::find(known.begin(), known.end(), input) != known.end()) continue;
        std::string message = "pipeline.inputs: unknown input '" + input + "'";
        std::string_view suggestion = suggest_name(input, known);
        message += suggestion.empty() ? " (known: " + quoted_list(known) + ")"
                                      : " (did you mean '" + std::string(suggestion) + "'?)";
        error(element.Mark(), std::move(message));
      }
    }
    if (item.name == "if") read(item, "pipeline.if", out.condition, false);
    if (item.name == "on_failure") read(item, "pipeline.on_failure", out.on_failure, false);
    if (item.name == "processors") {
      if (item.value.IsNull()) continue;  // no processors: events are claimed and stored as parsed
      if (!item.value.IsSequence()) {
        error(item.value.Mark(), "pipeline.processors: expected a list of processors, like '- grok: {...}'");
        continue;
      }
      for (const auto& element : item.value) read_processor(element, out.processors.emplace_back());
    }
  }
  if (!has_name && errors_.size() == errors_before) error(node.Mark(), "pipeline needs a 'name'");
}

void PipelineReader::read_all(const YAML::Node& node, std::vector<PipelineSpec>& out) {
  out.clear();
  if (node.IsNull()) return;  // `pipelines:` with nothing: none
  if (!node.IsSequence()) {
    error(node.Mark(), "pipelines: expected a list of pipelines, each starting '- name: ...'");
    return;
  }
  std::vector<YAML::Mark> name_marks;
  for (const auto& element : node) {
    YAML::Mark name_mark = element.Mark();
    read_pipeline(element, out.emplace_back(), name_mark);
    name_marks.push_back(name_mark);
  }
  std::vector<std::string_view> names;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].name.empty()) continue;
    for (size_t j = 0; j < i; ++j) {
      if (out[j].name == out[i].name) {
        error(name_marks[i], "duplicate pipeline name '" + out[i].name + "' (first at line " +
                                 std::to_string(name_marks[j].line + 1) + ")");
        break;
      }
    }
    names.push_back(out[i].name);
  }
  for (const PipelineSpec& pipeline : out) {
    const Located<std::string>& route = pipeline.on_failure;
    if (route.value == "tag" || pipeline.name.empty()) continue;
    const Position& mark = route.position;
    if (route.value == pipeline.name) {
      error(mark, "on_failure: pipeline '" + pipeline.name + "' cannot route its failures to itself");
    } else if (std::find(names.begin(), names.end(), route.value) == names.end()) {
      std::vector<std::string_view> choices = names;
      choices.push_back("tag");
      std::string message = "on_failure: no pipeline named '" + route.value + "'";
      std::string_view suggestion = suggest_name(route.value, choices);
      message += suggestion.empty() ? " (write 'tag' or the name of another pipeline)"
                                    : " (did you mean '" + std::string(suggestion) + "'?)";
      error(mark, std::move(message));
    }
  }
}

}  // namespace

// Declared in config/options.cc, its only caller: yaml-cpp types stay out of
// every header.
void read_pipelines(const YAML::Node& value, std::string_view source, std::vector<PipelineSpec>& out,
                    std::vector<std::string>& errors) {
  PipelineReader(source, errors).read_all(value, out);
}

}  // namespace sluice::config
