#include "server/http/api.h"

#include <charconv>
#include <memory>

#include "server/base/clock.h"
#include "server/base/time_format.h"
#include "server/grok_debugger.h"
#include "server/http/json_writer.h"

#include <simdjson.h>
#include "server/http/web_assets.h"

namespace sluice::server {
namespace {

HttpResponse json_error(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = "{\"error\":";
  append_json_string(response.body, message);
  response.body += "}\n";
  return response;
}

void append_time(std::string& out, int64_t ns) {
  char text[32];
  const size_t length = format_rfc3339_ns(ns, text);
  out.push_back('"');
  out.append(text, length);
  out.push_back('"');
}

// A JSON number only if the text is one, so a bad conversion can never
// produce invalid JSON.
bool is_json_number(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
  if (text[i] == '0' && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') return false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  }
  return i == text.size();
}

}  // namespace

void append_typed_value(std::string& out, std::string_view value, FieldType type) {
  if ((type == FieldType::kInt || type == FieldType::kFloat) && is_json_number(value)) {
    out.append(value);
  } else if (type == FieldType::kBool && (value == "true" || value == "false")) {
    out.append(value);
  } else {
    append_json_string(out, value);
  }
}

namespace {

void append_event(std::string& out, const storage::StoredEvent& event) {
  out += "{\"timestamp\":";
  append_time(out, event.timestamp_ns);
  out += ",\"received\":";
  append_time(out, event.received_ns);
  out += ",\"host\":";
  append_json_string(out, event.host);
  out += ",\"app\":";
  append_json_string(out, event.app);
  out += ",\"severity\":";
  append_json_string(out, severity_name(event.severity));
  out += ",\"facility\":";
  append_json_string(out, facility_name(event.facility));
  out += ",\"message\":";
  append_json_string(out, event.message);
  out += ",\"input\":";
  append_json_string(out, event.input < kInputCount ? input_name(static_cast<InputId>(event.input)) : "");
  out += ",\"raw\":";
  append_json_string(out, event.raw);
  out += ",\"fields\":{";
  bool first = true;
  auto add_name = [&](std::string_view name) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, name);
    out.push_back(':');
  };
  // Flags are shown as the fields users filter on.
  if (event.flags & kFlagParseFailure) {
    add_name("_parse_failure");
    out += "true";
  }
  if (event.flags & kFlagTruncated) {
    add_name("_truncated");
    out += "true";
  }
  const auto& fields = event.fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    // Same-name fields are one array, written where the name first appears.
    bool seen_before = false;
    for (size_t j = 0; j < i && !seen_before; ++j) seen_before = fields[j].name == fields[i].name;
    if (seen_before) continue;
    size_t count = 0;
    for (size_t j = i; j < fields.size(); ++j) count += fields[j].name == fields[i].name;
    add_name(fields[i].name);
    if (count > 1) out.push_back('[');
    bool first_value = true;
    for (size_t j = i; j < fields.size(); ++j) {
      if (fields[j].name != fields[i].name) continue;
      if (!first_value) out.push_back(',');
      first_value = false;
      append_typed_value(out, fields[j].value, fields[j].type);
    }
    if (count > 1) out.push_back(']');
  }
  out += "}}";
}

// What a search job carries from the loop to the pool and back.
struct SearchJob {
  uv_work_t work{};
  Api* api = nullptr;
  uint64_t request_id = 0;
  storage::EventStore* store = nullptr;
  storage::SearchRequest request;
  int64_t started_ns = 0;
  HttpResponse response;
  ServerMetrics* metrics = nullptr;
  HttpServer* http = nullptr;
};

}  // namespace

namespace {

void append_label_value(std::string& out, std::string_view value) {
  // Exposition format: backslash, quote and newline are escaped.
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
}

}  // namespace

void append_pipeline_metrics(std::string& out, const std::shared_ptr<const parsers::PipelineSet>& pipelines) {
  out += "# HELP sluice_pipeline_failures_total Events a pipeline processor failed on (tagged _parse_failure).\n";
  out += "# TYPE sluice_pipeline_failures_total counter\n";
  if (!pipelines) return;
  for (const auto& count : pipelines->failure_counts()) {
    out += "sluice_pipeline_failures_total{pipeline=\"";
    append_label_value(out, count.pipeline);
    out += "\",processor=\"";
    append_label_value(out, count.processor);
    out += "\"} " + std::to_string(count.failures) + "\n";
  }
}

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() + 0 && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t equals = pair.find('=');
    if (url_decode(pair.substr(0, equals)) == key) {
      return equals == std::string_view::npos ? std::string() : url_decode(pair.substr(equals + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<int64_t> parse_time_bound(std::string_view text, int64_t now_ns) {
  if (text == "now") return now_ns;
  if (text.size() > 4 && text.substr(0, 4) == "now-") {
    const std::string_view amount = text.substr(4, text.size() - 5);
    int64_t count = 0;
    auto [end, ec] = std::from_chars(amount.data(), amount.data() + amount.size(), count);
    if (ec != std::errc() || end != amount.data() + amount.size() || amount.empty() || count < 0) {
      return std::nullopt;
    }
    int64_t unit;
    switch (text.back()) {
      case 's': unit = kNanosPerSecond; break;
      case 'm': unit = 60 * kNanosPerSecond; break;
      case 'h': unit = 3600 * kNanosPerSecond; break;
      case 'd': unit = kNanosPerDay; break;
      case 'w': unit = 7 * kNanosPerDay; break;
      default: return std::nullopt;
    }
    if (count > (int64_t{1} << 62) / unit) return std::nullopt;
    return now_ns - count * unit;
  }
  int64_t millis = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), millis);
  if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
    if (millis > (int64_t{1} << 62) / 1'000'000 || millis < -(int64_t{1} << 62) / 1'000'000) {
      return std::nullopt;
    }
    return millis * 1'000'000;
  }
  return parse_rfc3339(text);
}

Api::Api(LoopThread& loop, IngestQueue& queue, storage::EventStore& store, ServerMetrics& metrics,
         const config::ServerOptions& options, const PipelineHolder& pipelines)
    : loop_(loop),
      queue_(queue),
      store_(store),
      metrics_(metrics),
      options_(options),
      pipelines_(pipelines) {}

void Api::answer(const HttpRequest& request, std::string_view route, HttpResponse response) {
  metrics_.count_http_request(route, response.status);
  http_->respond(request.id, std::move(response));
}

void Api::handle(HttpRequest& request) {
  const std::string& path = request.path;
  const bool is_get = request.method == "GET" || request.method == "HEAD";
  if (path == "/api/search") {
    if (!is_get) return answer(request, "/api/search", json_error(405, "use GET"));
    return handle_search(request);
  }
  if (path == "/api/ingest") {
    if (request.method != "POST") return answer(request, "/api/ingest", json_error(405, "use POST"));
    return handle_ingest(request);
  }
  if (path == "/api/grok") {
    if (request.method != "POST") return answer(request, "/api/grok", json_error(405, "use POST"));
    return handle_grok(request);
  }
  if (path == "/healthz") {
    HttpResponse response;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "ok\n";
    return answer(request, "/healthz", std::move(response));
  }
  if (path == "/metrics") {
    if (!is_get) return answer(request, "/metrics", json_error(405, "use GET"));
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics_.render();
    append_pipeline_metrics(response.body, pipelines_.get());
    return answer(request, "/metrics", std::move(response));
  }
  if (const web::Asset* asset = web::find_asset(path); asset != nullptr && is_get) {
    HttpResponse response;
    response.content_type = std::string(asset->content_type);
    response.body = std::string(asset->body);
    // The viewer renders log content; forbid anything but its own files.
    response.headers.push_back({"Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                                "base-uri 'none'; frame-ancestors 'none'"});
    response.headers.push_back({"X-Frame-Options", "DENY"});
    return answer(request, "web", std::move(response));
  }
  answer(request, "other", json_error(404, "no such path: " + path));
}

void Api::handle_search(HttpRequest& request) {
  const int64_t now_ns = wall_now_ns();
  auto job = std::make_unique<SearchJob>();
  job->started_ns = monotonic_now_ns();
  auto query = storage::parse_query(query_param(request.query, "q").value_or(""));
  if (!query) return answer(request, "/api/search", json_error(400, "q: " + query.error().message()));
  job->request.query = std::move(query.value());
  for (const char* bound : {"from", "to"}) {
    auto text = query_param(request.query, bound);
    if (!text || text->empty()) continue;
    auto ns = parse_time_bound(*text, now_ns);
    if (!ns) {
      return answer(request, "/api/search",
                    json_error(400, std::string(bound) + ": '" + *text +
                                        "' is not RFC3339, now-N[smhdw] or Unix milliseconds"));
    }
    (std::string_view(bound) == "from" ? job->request.from_ns : job->request.to_ns) = *ns;
  }
  job->request.limit = options_.search.default_limit;
  if (auto text = query_param(request.query, "limit"); text && !text->empty()) {
    uint32_t limit = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || end != text->data() + text->size()) {
      return answer(request, "/api/search", json_error(400, "limit: '" + *text + "' is not a number"));
    }
    job->request.limit = std::min(limit, options_.search.max_results);
  }
  job->request.deadline_monotonic_ns =
      job->started_ns + int64_t{options_.search.timeout_ms} * 1'000'000;
  job->api = this;
  job->request_id = request.id;
  job->store = &store_;
  job->metrics = &metrics_;
  job->http = http_;
  job->work.data = job.get();
  metrics_.search_requests.add(1);

  int rc = uv_queue_work(
      loop_.loop(), &job->work,
      [](uv_work_t* work) {
        // Thread: the query pool.
        auto* job = static_cast<SearchJob*>(work->data);
        auto result = job->store->search(job->request);
        if (!result) {
          job->metrics->search_errors.add(1);
          job->response = json_error(500, result.error().message());
          return;
        }
        std::string& body = job->response.body;
        body.reserve(256 + result->events.size() * 512);
        body += "{\"events\":[";
        for (size_t i = 0; i < result->events.size(); ++i) {
          if (i != 0) body.push_back(',');
          append_event(body, result->events[i]);
        }
        body += "],\"count\":" + std::to_string(result->events.size());
        body += ",\"partial\":";
        body += result->partial ? "true" : "false";
        body += ",\"took_ms\":" + std::to_string((monotonic_now_ns() - job->started_ns) / 1'000'000);
        body += "}\n";
      },
      [](uv_work_t* work, int status) {
        // Thread: the HTTP loop.
        std::unique_ptr<SearchJob> job(static_cast<SearchJob*>(work->data));
        if (status < 0) job->response = json_error(503, "search cancelled");
        job->metrics->count_http_request("/api/search", job->response.status);
        job->http->respond(job->request_id, std::move(job->response));
      });
  if (rc < 0) return answer(request, "/api/search", json_error(503, uv_strerror(rc)));
  job.release();  // owned by the work request until its after-callback
}

// Grok debugging runs on the HTTP loop: RE2 matches in linear time and the
// input is capped, so one request cannot hold the loop for long.
constexpr size_t kMaxGrokDebugBytes = 1 << 20;

void Api::handle_grok(HttpRequest& request) {
  if (request.body.size() > kMaxGrokDebugBytes) {
    return answer(request, "/api/grok", json_error(413, "at most 1 MiB of lines per request"));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view pattern, lines;
  if (parser.parse(request.body).get(root) || !root.is_object() ||
      root["pattern"].get_string().get(pattern) || root["lines"].get_string().get(lines)) {
    return answer(request, "/api/grok",
                  json_error(400, "expected a JSON object {\"pattern\": \"...\", \"lines\": \"one\\ntwo\"}"));
  }
  HttpResponse response;
  response.body = "{\"results\":[";
  Status status = grok_debug(pattern, lines, ",", response.body);
  if (!status) return answer(request, "/api/grok", json_error(400, "pattern: " + status.message()));
  response.body += "]}\n";
  answer(request, "/api/grok", std::move(response));
}

void Api::handle_ingest(HttpRequest& request) {
  if (queue_.above_high_watermark()) {
    HttpResponse response = json_error(429, "ingest queue is full; retry later");
    response.headers.push_back({"Retry-After", "1"});
    return answer(request, "/api/ingest", std::move(response));
  }
  if (!request.content_encoding.empty() && request.content_encoding != "identity") {
    return answer(request, "/api/ingest",
                  json_error(415, "Content-Encoding '" + request.content_encoding + "' is not supported"));
  }
  auto batch = queue_.acquire_batch();
  // Line numbers of the records, to report rejected lines by line.
  auto line_numbers = std::make_shared<std::vector<uint32_t>>();
  const std::string_view body = request.body;
  const int64_t received_ns = wall_now_ns();
  uint32_t line_number = 0;
  uint64_t truncated = 0;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    ++line_number;
    std::string_view line = body.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = end + 1;
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const bool too_long = line.size() > options_.ingest.max_message_bytes;
    if (too_long) ++truncated;
    // A truncated JSON line cannot parse; it is rejected with its line number.
    batch->append(line.substr(0, options_.ingest.max_message_bytes), "", InputId::kHttpNdjson,
                  RecordFormat::kJson, too_long, received_ns);
    line_numbers->push_back(line_number);
  }
  PerInput& counters = metrics_.input(InputId::kHttpNdjson);
  if (batch->records.empty()) {
    queue_.release_batch(std::move(batch));
    HttpResponse response;
    response.body = "{\"accepted\":0,\"rejected\":0,\"errors\":[]}\n";
    return answer(request, "/api/ingest", std::move(response));
  }
  const uint64_t records = batch->records.size();
  const uint64_t bytes = body.size();
  HttpServer* http = http_;
  ServerMetrics* metrics = &metrics_;
  const uint64_t request_id = request.id;
  batch->on_stored = [http, metrics, request_id, line_numbers](const BatchOutcome& outcome) {
    // Thread: a parse worker. Build the answer here, send it via the loop.
    HttpResponse response;
    if (!outcome.stored_ok) {
      response = json_error(503, "the store could not write the batch; nothing was accepted");
    } else {
      std::string& out = response.body;
      out = "{\"accepted\":" + std::to_string(outcome.stored) +
            ",\"rejected\":" + std::to_string(outcome.rejected.size()) + ",\"errors\":[";
      for (size_t i = 0; i < outcome.rejected.size(); ++i) {
        if (i != 0) out.push_back(',');
        out += "{\"line\":" + std::to_string((*line_numbers)[outcome.rejected[i].record_index]) +
               ",\"error\":";
        append_json_string(out, outcome.rejected[i].reason);
        out.push_back('}');
      }
      out += "]}\n";
    }
    metrics->count_http_request("/api/ingest", response.status);
    http->respond(request_id, std::move(response));
  };
  if (queue_.push(batch) == IngestQueue::PushResult::kClosed) {
    counters.dropped[static_cast<size_t>(DropReason::kQueueFull)].add(records);
    return answer(request, "/api/ingest", json_error(503, "shutting down"));
  }
  counters.received.add(records);
  counters.received_bytes.add(bytes);
  if (truncated != 0) counters.truncated.add(truncated);
}

}  // namespace sluice::server
