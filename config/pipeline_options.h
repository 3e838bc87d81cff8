// Typed specs of pipelines and processors, as read from the config file.
//
// config/ only reads and checks shapes and types; parsers/ builds the
// processors from these specs (compiling grok patterns, regexes and
// conditions) and reports what fails there with the same Position, so that
// every error reads "FILE:LINE:COL: message".
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sluice::config {

// Where a value was written in the config file (1-based line and column).
struct Position {
  std::string file;
  int line = 0;
  int column = 0;
  // "FILE:LINE:COL", or "<built-in>" for a value that was not read from a file.
  std::string to_string() const;
};

template <typename T>
struct Located {
  T value{};
  Position position;
};

struct GrokOptions {
  std::string source = "message";                  // the field matched against
  std::vector<Located<std::string>> patterns;      // tried in order, first match wins
  std::vector<std::string> overwrite;              // fields replaced rather than added to
  // Custom pattern definitions inline: NAME -> regex with %{...} references.
  std::vector<std::pair<std::string, Located<std::string>>> pattern_definitions;
  std::vector<Located<std::string>> patterns_dirs;  // files of "NAME regex" lines
};

struct KvOptions {
  std::string source = "message";
  std::string field_split = " ";   // any of these characters separates pairs
  std::string value_split = "=";   // any of these characters separates key and value
  std::string trim_key;            // characters stripped from both ends of keys
  std::string trim_value;          // characters stripped from both ends of values
  std::string prefix;              // prepended to every key
  std::string target;              // "" = top level; else keys become target.key
};

struct JsonOptions {
  std::string source = "message";
  std::string target;  // "" = top level; else keys become target.key
};

struct DateOptions {
  std::string source = "timestamp";
  // "ISO8601", "UNIX", "UNIX_MS", or strftime-style ("%d/%b/%Y:%H:%M:%S %z").
  std::vector<Located<std::string>> formats;
  Located<std::string> timezone{"UTC", {}};  // for formats without a zone: UTC or +hh:mm
  std::string target;  // "" = the event time; else a field set to RFC3339
};

struct MutateOptions {
  std::vector<std::pair<std::string, std::string>> rename;  // from -> to
  std::vector<std::string> remove;
  std::vector<std::pair<std::string, std::string>> add;      // field -> value (added, not replaced)
  std::vector<std::string> lowercase;
  std::vector<std::string> uppercase;
  std::vector<std::pair<std::string, Located<std::string>>> convert;  // field -> int|float|bool|string
  std::vector<std::pair<std::string, std::string>> split;    // field -> separator (makes an array)
  struct Gsub {
    std::string field;
    Located<std::string> pattern;  // RE2
    std::string replacement;       // \1 style references
  };
  std::vector<Gsub> gsub;
};

struct DropOptions {};

struct ProcessorSpec {
  std::string kind;  // grok, kv, json, date, mutate, drop
  Position position;
  // Optional per-processor condition (`if:`); empty = always. For drop,
  // the condition says which events to drop.
  Located<std::string> condition;
  GrokOptions grok;
  KvOptions kv;
  JsonOptions json;
  DateOptions date;
  MutateOptions mutate;
  DropOptions drop;
};

struct PipelineSpec {
  std::string name;
  Position position;
  std::vector<std::string> inputs;  // input names (syslog_tcp...); empty = all
  Located<std::string> condition;   // empty = every event of those inputs
  std::vector<ProcessorSpec> processors;
  // What happens when a processor fails: "tag" (tag _parse_failure and
  // keep, the default) or the name of another pipeline to run instead.
  Located<std::string> on_failure{"tag", {}};
};

}  // namespace sluice::config
