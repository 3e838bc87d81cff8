// Command-line parsing for the `sluice` binary.
#pragma once

#include <string>
#include <vector>

#include "config/options.h"

namespace sluice::server {

// Runs `sluice ARGS...` and returns the exit code.
int run_cli(const std::vector<std::string>& args);

// The outcome of parsing `serve`'s flags: options, or help, or an error.
struct ServeCommand {
  config::ServerOptions options;
  bool show_help = false;
};
Expected<ServeCommand> parse_serve_flags(const std::vector<std::string>& flags);

// Every reason `options` (as parse_serve_flags loaded them) cannot run:
// cross-key validation ("FILE: message") and building the pipelines
// ("FILE:LINE:COL: message" each). Empty if the server may start. Used by
// `sluice check-config` and, before anything starts, by `sluice serve`.
std::vector<std::string> check_config(const config::ServerOptions& options);

}  // namespace sluice::server
