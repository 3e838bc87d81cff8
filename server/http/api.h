// Api: the HTTP routes — web viewer assets, /api/search, /api/ingest,
// /metrics and /healthz.
//
// Searches run on libuv's thread pool (the query pool), never on the HTTP
// loop. Ingest hands the request body to the ingest queue as one batch and
// answers only once the workers report the batch stored.
// Thread: the HTTP loop only (handle() and the callbacks it arranges).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/options.h"
#include "server/http/http_server.h"
#include "server/ingest_queue.h"
#include "server/metrics.h"
#include "server/pipeline_holder.h"
#include "storage/event_store.h"

namespace sluice::server {

class Api {
 public:
  Api(LoopThread& loop, IngestQueue& queue, storage::EventStore& store, ServerMetrics& metrics,
      const config::ServerOptions& options, const PipelineHolder& pipelines);

  // Must be called once before handle(): the server that answers requests.
  void attach(HttpServer& http) { http_ = &http; }

  void handle(HttpRequest& request);

 private:
  void answer(const HttpRequest& request, std::string_view route, HttpResponse response);
  void handle_search(HttpRequest& request);
  void handle_ingest(HttpRequest& request);
  void handle_grok(HttpRequest& request);

  LoopThread& loop_;
  IngestQueue& queue_;
  storage::EventStore& store_;
  ServerMetrics& metrics_;
  const config::ServerOptions options_;
  const PipelineHolder& pipelines_;
  HttpServer* http_ = nullptr;
};

// Writes a field value as JSON: ints and floats as numbers (when the text is
// a valid JSON number), bools as true/false, everything else as a string.
void append_typed_value(std::string& out, std::string_view value, FieldType type);

// The sluice_pipeline_failures_total family for /metrics.
void append_pipeline_metrics(std::string& out, const std::shared_ptr<const parsers::PipelineSet>& pipelines);

// Decodes %XX escapes and '+' (as a space) of a query-string component.
std::string url_decode(std::string_view text);

// The value of `key` in a query string, decoded; nullopt if absent.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

// A time bound of the API: RFC3339, "now", "now-15m" (s, m, h, d, w), or
// Unix milliseconds. nullopt if not one of these.
std::optional<int64_t> parse_time_bound(std::string_view text, int64_t now_ns);

}  // namespace sluice::server
