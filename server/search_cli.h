// `sluice search` and `sluice tail`: the HTTP API from a terminal.
//
//   sluice search 'QUERY' [--from TIME] [--to TIME] [--limit N] [--json] [--server URL]
//   sluice tail 'QUERY' [--json] [--server URL]
//
// Both talk to a running server (default http://127.0.0.1:8080, or
// $SLUICE_URL). search prints the newest N matches (default 100, pages of
// the API followed by cursor) oldest first, as a terminal reader expects the
// newest line at the bottom: "TIMESTAMP HOST APP[SEVERITY]: MESSAGE", or
// with --json one API event object per line. tail follows /api/tail until
// interrupted.
#pragma once

#include <string>
#include <vector>

namespace sluice::server {

int run_search_command(const std::vector<std::string>& args);
int run_tail_command(const std::vector<std::string>& args);

}  // namespace sluice::server
