// Server: `sluice serve` — wires the store, the ingest queue, the parse
// workers, the ingest loop (syslog listeners) and the HTTP loop, runs until
// SIGTERM or SIGINT, then shuts down against the flow of data: stop inputs,
// drain the queue, flush the store, close the loops.
#pragma once

#include "config/options.h"

namespace sluice::server {

// Returns the process exit code. Startup errors are printed as one line
// "sluice: ..." on stderr with a non-zero code.
int run_server(const config::ServerOptions& options);

}  // namespace sluice::server
