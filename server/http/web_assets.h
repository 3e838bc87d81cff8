// The web viewer's files, embedded into the binary at build time from web/
// by web/embed.cmake, so the viewer works offline and needs no install step.
#pragma once

#include <string_view>

namespace sluice::web {

struct Asset {
  std::string_view path;          // URL path, e.g. "/" or "/app.js"
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;
};

// Returns the asset served at `path`, or nullptr. "/" is web/index.html.
const Asset* find_asset(std::string_view path);

}  // namespace sluice::web
