// The grok debugger behind `sluice grok` and POST /api/grok: compiles one
// expression and reports, line by line, the fields it extracts or that it
// did not match — so users build patterns against real lines before putting
// them in the config.
#pragma once

#include <string>
#include <string_view>

#include "server/base/expected.h"

namespace sluice::server {

// Matches every line of `lines` (LF-separated; a trailing CR is dropped)
// against `expression` and appends one JSON object per line to `out`,
// separated by `separator`:
//   {"line":1,"matched":true,"fields":{"clientip":"1.2.3.4","bytes":512}}
//   {"line":2,"matched":false}
// Same-name captures are arrays; :int and :float captures are numbers.
// Returns the compile error (with its column) if the expression is bad.
Status grok_debug(std::string_view expression, std::string_view lines, std::string_view separator,
                  std::string& out);

}  // namespace sluice::server
