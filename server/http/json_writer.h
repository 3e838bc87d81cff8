// Minimal JSON output for API responses.
//
// Log content is hostile: strings are escaped for JSON and additionally
// '<', '>', '&', U+2028 and U+2029 become \u escapes, so a response stays
// inert even if something renders it as HTML or JavaScript. Bytes that are
// not valid UTF-8 become U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::server {

void append_json_string(std::string& out, std::string_view text);

}  // namespace sluice::server
