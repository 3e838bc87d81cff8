// Api: the HTTP routes — web viewer assets, /api/search, /api/ingest,
// /metrics and /healthz.
//
// Searches run on libuv's thread pool (the query pool), never on the HTTP
// loop. Ingest hands the request body to the ingest queue as one batch and
// answers only once the workers report the batch stored.
// Thread: the HTTP loop only (handle() and the callbacks it arranges).
#pragma once

#include <unordered_map>
#include <memory>
#include <atomic>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "config/options.h"
#include "server/http/compat_api.h"
#include "server/http/http_server.h"
#include "server/http/live_tail.h"
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
  void attach(HttpServer& http) {
    http_ = &http;
    tail_.attach(http);
    compat_.attach(http);
    http.set_stream_closed_listener([this](uint64_t id) { tail_.unsubscribe(id); });
    http.set_closed_listener([this](uint64_t id) { cancel_pending(id); });
  }

  void handle(HttpRequest& request);
  // Thread-safe: hands a committed batch to the live tails.
  void publish(const EventBatch& batch) { tail_.publish(batch); }
  // Ends live tails; on the HTTP loop, before it closes.
  void close_streams() { tail_.close(); }

 private:
  void answer(const HttpRequest& request, std::string_view route, HttpResponse response);
  // q, from and to of the read endpoints, parsed.
  struct ReadParams {
    storage::Query query;
    int64_t from_ns = std::numeric_limits<int64_t>::min();
    int64_t to_ns = std::numeric_limits<int64_t>::max();
    bool has_from = false;
    bool has_to = false;
    int64_t deadline_ns = 0;  // monotonic
    // Set when the client hangs up before its answer: the store stops the
    // search as at its deadline, so abandoned histograms do not hold the
    // query threads (a viewer moving on to the next query closes them).
    std::shared_ptr<std::atomic<bool>> cancelled;
  };
  bool read_common(const HttpRequest& request, ReadParams& out, HttpResponse& error);
  void cancel_pending(uint64_t connection_id);
  // `cancelled` (of read_common) is forgotten once the work is done.
  void run_on_pool(const HttpRequest& request, std::string route, std::shared_ptr<std::atomic<bool>> cancelled,
                   std::function<HttpResponse()> work);
  void handle_search(HttpRequest& request);
  void handle_histogram(HttpRequest& request);
  void handle_fields(HttpRequest& request);
  void handle_tail(HttpRequest& request);
  void handle_ingest(HttpRequest& request);
  void handle_grok(HttpRequest& request);

  LoopThread& loop_;
  IngestQueue& queue_;
  storage::EventStore& store_;
  ServerMetrics& metrics_;
  const config::ServerOptions options_;
  const PipelineHolder& pipelines_;
  HttpServer* http_ = nullptr;
  // Loop thread only: the cancel flag of each connection's read request
  // in flight on the query pool.
  std::unordered_map<uint64_t, std::weak_ptr<std::atomic<bool>>> pending_reads_;
  LiveTail tail_;
  CompatApi compat_;  // Elasticsearch bulk API, collectd
};

// An event as the API writes it: {"id", "timestamp", "received", "host",
// "app", "severity", "facility", "message", "input", "raw", "fields"}.
void append_event_json(std::string& out, const storage::StoredEvent& event);
void append_event_view_json(std::string& out, const storage::EventView& event);

// The field sidebar (/api/fields) summarises this many newest matches, as
// Kibana's Discover does, and lists this many top values per field.
constexpr uint32_t kFieldSampleEvents = 500;
constexpr size_t kFieldTopValues = 10;

// A page cursor (and an event's id, with skip 0) as text: three hex
// numbers "TIMESTAMP-TIEBREAK-SKIP". nullopt for anything else.
std::string encode_cursor(const storage::SearchCursor& cursor);
std::optional<storage::SearchCursor> decode_cursor(std::string_view text);

// A histogram interval: "500ms", "30s", "5m", "1h", "1d", "1w" or plain
// milliseconds; nullopt if not positive or not one of these.
std::optional<int64_t> parse_interval(std::string_view text);
// The interval a chart of `span_ns` gets when none is asked for: the
// first of 1s, 5s, 10s, 30s, 1m, 5m, 10m, 30m, 1h, 3h, 6h, 12h, 1d, 1w,
// 30d that gives at most 120 buckets.
int64_t auto_interval_ns(int64_t span_ns);

// {"fields":[{"name":..,"count":..,"values":[{"value":..,"count":..}]}],
// "sampled":N}: the attributes (host, app, severity, facility, input) and
// every parsed field of `events`, with how many events have each and its
// `top` most frequent values; fields by count, then name.
void append_field_summary(std::string& out, const std::vector<storage::StoredEvent>& events, size_t top);

// A 400 answer for a query syntax error: {"error": message, "position": N,
// "expected": what} when the message reads "position N: expected what".
HttpResponse query_error_response(std::string_view message);

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
