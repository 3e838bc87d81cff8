#include "server/grok_debugger.h"

#include <vector>

#include "parsers/grok.h"
#include "server/http/api.h"
#include "server/http/json_writer.h"

namespace sluice::server {

Status grok_debug(std::string_view expression, std::string_view lines, std::string_view separator,
                  std::string& out) {
  auto compiled = parsers::GrokPattern::compile(expression, parsers::PatternLibrary::builtin());
  if (!compiled) return compiled.error();
  const parsers::GrokPattern& pattern = compiled.value();
  parsers::GrokMatcher matcher(pattern);
  Arena arena;
  size_t start = 0;
  size_t line_number = 0;
  bool first_line = true;
  while (start < lines.size()) {
    size_t end = lines.find('\n', start);
    if (end == std::string_view::npos) end = lines.size();
    std::string_view line = lines.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!first_line) out.append(separator);
    first_line = false;
    out += "{\"line\":" + std::to_string(line_number);
    if (!matcher.match(line)) {
      out += ",\"matched\":false}";
      continue;
    }
    out += ",\"matched\":true,\"fields\":{";
    const auto& captures = pattern.captures();
    bool first_field = true;
    for (size_t i = 0; i < captures.size(); ++i) {
      // Grok semantics: captures that did not take part or are empty are not set.
      bool earlier = false;
      for (size_t j = 0; j < i && !earlier; ++j) earlier = captures[j].field == captures[i].field;
      if (earlier) continue;
      std::vector<std::string_view> values;
      for (size_t j = i; j < captures.size(); ++j) {
        if (captures[j].field != captures[i].field) continue;
        const std::string_view value = matcher.capture(j);
        if (value.data() == nullptr || value.empty()) continue;
        values.push_back(parsers::convert_capture(value, captures[j].type, arena));
      }
      if (values.empty()) continue;
      if (!first_field) out.push_back(',');
      first_field = false;
      append_json_string(out, captures[i].field);
      out.push_back(':');
      if (values.size() > 1) out.push_back('[');
      for (size_t k = 0; k < values.size(); ++k) {
        if (k != 0) out.push_back(',');
        append_typed_value(out, values[k], captures[i].type);
      }
      if (values.size() > 1) out.push_back(']');
    }
    out += "}}";
    arena.reset();
  }
  return Status::ok();
}

}  // namespace sluice::server
