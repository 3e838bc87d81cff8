// PatternLibrary: grok pattern names -> RE2 definitions.
//
// The built-in library defines the 317 names of Logstash's legacy pattern set
// (logstash-patterns-core, patterns/legacy/*) so that existing grok expressions
// work unchanged. The definitions were written for this project as RE2 regexes
// (no lookaround, no atomic groups, no backreferences); see grok_patterns.cc
// for where they approximate the Onigmo originals and why.
//
// Thread: immutable after construction; builtin() is safe to share.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/base/status.h"

namespace sluice::parsers {

struct PatternDefinition {
  std::string_view name;
  std::string_view definition;
};

// The built-in definitions, in the order of the legacy pattern files.
std::span<const PatternDefinition> builtin_pattern_definitions();

class PatternLibrary {
public:
  PatternLibrary() = default;

  // The built-in definitions, built once on first use.
  static const PatternLibrary &builtin();

  // A copy with `custom` added; custom definitions replace built-ins of the
  // same name (as Logstash's pattern_definitions do).
  PatternLibrary
  with(const std::vector<std::pair<std::string, std::string>> &custom) const;

  // Adds or replaces one definition.
  void set(std::string name, std::string definition);

  // Reads "NAME regex" lines; blank lines and lines starting with '#' are
  // skipped. `source` names the text in errors ("patterns/extra:3: ...").
  Status load_text(std::string_view text, std::string_view source);
  // load_text() on a file, or on every regular file of a directory (sorted
  // by name), as Logstash's patterns_dir. Runs at pipeline build time only.
  Status load_file(const std::string &path);

  // The definition of `name`, or nullptr.
  const std::string *find(std::string_view name) const;
  size_t size() const { return definitions_.size(); }
  std::vector<std::string> names() const;

private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>()(s);
    }
  };
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>>
      definitions_;
};

} // namespace sluice::parsers
