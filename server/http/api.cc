#include "server/http/api.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <memory>

#include "server/base/clock.h"
#include "server/base/time_format.h"
#include "server/grok_debugger.h"
#include "server/http/gelf_http.h"
#include "server/http/body_decoder.h"
#include "server/http/json_body.h"
#include "server/http/json_writer.h"

#include <simdjson.h>
#include "server/http/web_assets.h"

namespace sluice::server {
namespace {


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

}  // namespace

void append_event_json(std::string& out, const storage::StoredEvent& event) {
  out += "{\"id\":";
  append_json_string(out, encode_cursor({event.timestamp_ns, event.tiebreak, 0}));
  out += ",\"timestamp\":";
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

void append_event_view_json(std::string& out, const storage::EventView& view) {
  storage::StoredEvent event;
  event.timestamp_ns = view.timestamp_ns;
  event.received_ns = view.received_ns;
  event.severity = view.severity;
  event.facility = view.facility;
  event.flags = view.flags;
  event.input = view.input;
  event.host = view.host;
  event.app = view.app;
  event.message = view.message;
  event.raw = view.raw;
  for (const Field& field : view.fields) event.fields.push_back({std::string(field.name), std::string(field.value), field.type});
  event.tiebreak = storage::event_tiebreak(view);
  append_event_json(out, event);
}

namespace {

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

std::string encode_cursor(const storage::SearchCursor& cursor) {
  char text[64];
  const int n = std::snprintf(text, sizeof text, "%llx-%llx-%x",
                              static_cast<unsigned long long>(static_cast<uint64_t>(cursor.timestamp_ns)),
                              static_cast<unsigned long long>(cursor.tiebreak), cursor.skip);
  return std::string(text, static_cast<size_t>(n));
}

std::optional<storage::SearchCursor> decode_cursor(std::string_view text) {
  uint64_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    const size_t dash = i < 2 ? text.find('-') : text.size();
    if (dash == std::string_view::npos || dash == 0 || dash > 16) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + dash, parts[i], 16);
    if (ec != std::errc() || end != text.data() + dash) return std::nullopt;
    text.remove_prefix(i < 2 ? dash + 1 : dash);
  }
  if (parts[2] > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return storage::SearchCursor{static_cast<int64_t>(parts[0]), parts[1], static_cast<uint32_t>(parts[2])};
}

std::optional<int64_t> parse_interval(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  int64_t count = 0;
  std::from_chars(text.data(), text.data() + digits, count);
  const std::string_view unit = text.substr(digits);
  int64_t unit_ns;
  if (unit.empty() || unit == "ms") {
    unit_ns = 1'000'000;
  } else if (unit == "s") {
    unit_ns = kNanosPerSecond;
  } else if (unit == "m") {
    unit_ns = 60 * kNanosPerSecond;
  } else if (unit == "h") {
    unit_ns = 3600 * kNanosPerSecond;
  } else if (unit == "d") {
    unit_ns = kNanosPerDay;
  } else if (unit == "w") {
    unit_ns = 7 * kNanosPerDay;
  } else {
    return std::nullopt;
  }
  if (count <= 0 || count > (int64_t{1} << 62) / unit_ns) return std::nullopt;
  return count * unit_ns;
}

int64_t auto_interval_ns(int64_t span_ns) {
  constexpr int64_t kS = kNanosPerSecond;
  static constexpr int64_t kLadder[] = {kS,        5 * kS,        10 * kS,       30 * kS,     60 * kS,
                                        300 * kS,  600 * kS,      1800 * kS,     3600 * kS,   3 * 3600 * kS,
                                        6 * 3600 * kS, 12 * 3600 * kS, kNanosPerDay, 7 * kNanosPerDay,
                                        30 * kNanosPerDay};
  for (int64_t interval : kLadder) {
    if (span_ns / interval < 120) return interval;
  }
  // Longer than ten years: as many 30-day steps as keep 120 buckets.
  return (span_ns / 120 / (30 * kNanosPerDay) + 1) * 30 * kNanosPerDay;
}

void append_field_summary(std::string& out, const std::vector<storage::StoredEvent>& events, size_t top) {
  struct Summary {
    uint64_t events = 0;
    std::map<std::string, uint64_t, std::less<>> values;
  };
  std::map<std::string, Summary, std::less<>> fields;
  auto note = [&](std::string_view name, std::string_view value, bool first_of_event) {
    auto found = fields.find(name);
    if (found == fields.end()) found = fields.emplace(std::string(name), Summary()).first;
    if (first_of_event) ++found->second.events;
    auto value_found = found->second.values.find(value);
    if (value_found == found->second.values.end()) {
      found->second.values.emplace(std::string(value), 1);
    } else {
      ++value_found->second;
    }
  };
  for (const auto& event : events) {
    if (!event.host.empty()) note("host", event.host, true);
    if (!event.app.empty()) note("app", event.app, true);
    if (const std::string_view name = severity_name(event.severity); !name.empty()) note("severity", name, true);
    if (const std::string_view name = facility_name(event.facility); !name.empty()) note("facility", name, true);
    if (event.input < kInputCount) note("input", input_name(static_cast<InputId>(event.input)), true);
    for (size_t i = 0; i < event.fields.size(); ++i) {
      bool first = true;
      for (size_t j = 0; j < i && first; ++j) first = event.fields[j].name != event.fields[i].name;
      note(event.fields[i].name, event.fields[i].value, first);
    }
  }
  std::vector<const std::pair<const std::string, Summary>*> order;
  for (const auto& entry : fields) order.push_back(&entry);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->second.events > b->second.events; });
  out += "{\"fields\":[";
  for (size_t f = 0; f < order.size(); ++f) {
    const auto& [name, summary] = *order[f];
    if (f != 0) out.push_back(',');
    out += "{\"name\":";
    append_json_string(out, name);
    out += ",\"count\":" + std::to_string(summary.events) + ",\"distinct\":" + std::to_string(summary.values.size());
    out += ",\"values\":[";
    std::vector<std::pair<std::string_view, uint64_t>> values(summary.values.begin(), summary.values.end());
    const size_t shown = std::min(top, values.size());
    std::partial_sort(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(shown), values.end(),
                      [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
    for (size_t v = 0; v < shown; ++v) {
      if (v != 0) out.push_back(',');
      out += "{\"value\":";
      append_json_string(out, values[v].first);
      out += ",\"count\":" + std::to_string(values[v].second) + "}";
    }
    out += "]}";
  }
  out += "],\"sampled\":" + std::to_string(events.size()) + "}";
}

HttpResponse query_error_response(std::string_view message) {
  HttpResponse response;
  response.status = 400;
  response.body = "{\"error\":";
  append_json_string(response.body, "q: " + std::string(message));
  // "position N: expected what" (storage/query.h) also as members, for the
  // viewer's caret.
  constexpr std::string_view kPosition = "position ";
  if (message.starts_with(kPosition)) {
    std::string_view rest = message.substr(kPosition.size());
    size_t position = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), position);
    if (ec == std::errc()) {
      response.body += ",\"position\":" + std::to_string(position);
      rest.remove_prefix(static_cast<size_t>(end - rest.data()));
      if (rest.starts_with(": ")) rest.remove_prefix(2);
      if (rest.starts_with("expected ")) rest.remove_prefix(9);
      response.body += ",\"expected\":";
      append_json_string(response.body, rest);
    }
  }
  response.body += "}\n";
  return response;
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
      pipelines_(pipelines),
      tail_(loop, metrics),
      compat_(queue, metrics, options) {}

void Api::answer(const HttpRequest& request, std::string_view route, HttpResponse response) {
  metrics_.count_http_request(route, response.status);
  http_->respond(request.id, std::move(response));
}

void Api::handle(HttpRequest& request) {
  const std::string& path = request.path;
  const bool is_get = request.method == "GET" || request.method == "HEAD";
  if (path == "/api/search") {
    if (!is_get) return answer(request, "/api/search", json_error_response(405, "use GET"));
    return handle_search(request);
  }
  if (path == "/api/histogram") {
    if (!is_get) return answer(request, "/api/histogram", json_error_response(405, "use GET"));
    return handle_histogram(request);
  }
  if (path == "/api/fields") {
    if (!is_get) return answer(request, "/api/fields", json_error_response(405, "use GET"));
    return handle_fields(request);
  }
  if (path == "/api/tail") {
    if (!is_get) return answer(request, "/api/tail", json_error_response(405, "use GET"));
    return handle_tail(request);
  }
  if (path == "/gelf") {
    if (request.method != "POST") return answer(request, "/gelf", json_error_response(405, "use POST"));
    if (auto now = handle_gelf_post(request, queue_, metrics_, *http_, options_)) {
      return answer(request, "/gelf", std::move(*now));
    }
    return;
  }
  if (path == "/api/ingest") {
    if (request.method != "POST") return answer(request, "/api/ingest", json_error_response(405, "use POST"));
    return handle_ingest(request);
  }
  if (path == "/api/grok") {
    if (request.method != "POST") return answer(request, "/api/grok", json_error_response(405, "use POST"));
    return handle_grok(request);
  }
  if (path == "/healthz") {
    HttpResponse response;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "ok\n";
    return answer(request, "/healthz", std::move(response));
  }
  if (path == "/metrics") {
    if (!is_get) return answer(request, "/metrics", json_error_response(405, "use GET"));
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics_.render();
    append_pipeline_metrics(response.body, pipelines_.get());
    return answer(request, "/metrics", std::move(response));
  }
  // Elasticsearch bulk API and its handshakes, collectd (GET / only for ES clients).
  if (compat_.handle(request)) return;
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
  answer(request, "other", json_error_response(404, "no such path: " + path));
}

// Parses q, from and to, shared by the read endpoints. On failure fills
// `error` with the 400 answer.
void Api::cancel_pending(uint64_t connection_id) {
  auto found = pending_reads_.find(connection_id);
  if (found == pending_reads_.end()) return;
  if (auto flag = found->second.lock()) flag->store(true, std::memory_order_relaxed);
  pending_reads_.erase(found);
}

bool Api::read_common(const HttpRequest& request, ReadParams& out, HttpResponse& error) {
  const int64_t now_ns = wall_now_ns();
  const std::string text = query_param(request.query, "q").value_or("");
  auto query = storage::parse_query(text);
  if (!query) {
    error = query_error_response(query.error().message());
    return false;
  }
  out.query = std::move(query.value());
  for (const char* bound : {"from", "to"}) {
    auto value = query_param(request.query, bound);
    if (!value || value->empty()) continue;
    auto ns = parse_time_bound(*value, now_ns);
    if (!ns) {
      error = json_error_response(400, std::string(bound) + ": '" + *value +
                                  "' is not RFC3339, now, now-N[smhdw] or Unix milliseconds");
      return false;
    }
    (std::string_view(bound) == "from" ? out.from_ns : out.to_ns) = *ns;
    (std::string_view(bound) == "from" ? out.has_from : out.has_to) = true;
  }
  if (out.from_ns > out.to_ns) {
    error = json_error_response(400, "from is after to");
    return false;
  }
  out.deadline_ns = monotonic_now_ns() + int64_t{options_.search.timeout_ms} * 1'000'000;
  out.cancelled = std::make_shared<std::atomic<bool>>(false);
  pending_reads_[request.id] = out.cancelled;  // replaces the connection's previous request
  return true;
}

// Runs `work` on the query pool and answers with what it returns.
void Api::run_on_pool(const HttpRequest& request, std::string route, std::shared_ptr<std::atomic<bool>> cancelled,
                      std::function<HttpResponse()> work) {
  struct PoolJob {
    uv_work_t work{};
    uint64_t request_id = 0;
    std::shared_ptr<std::atomic<bool>> cancelled;
    Api* api = nullptr;
    std::string route;
    std::function<HttpResponse()> run;
    HttpResponse response;
    ServerMetrics* metrics = nullptr;
    HttpServer* http = nullptr;
  };
  auto job = std::make_unique<PoolJob>();
  job->request_id = request.id;
  job->cancelled = std::move(cancelled);
  job->api = this;
  job->route = std::move(route);
  job->run = std::move(work);
  job->metrics = &metrics_;
  job->http = http_;
  job->work.data = job.get();
  int rc = uv_queue_work(
      loop_.loop(), &job->work,
      [](uv_work_t* work) {
        // Thread: the query pool.
        auto* job = static_cast<PoolJob*>(work->data);
        job->response = job->run();
      },
      [](uv_work_t* work, int status) {
        // Thread: the HTTP loop.
        std::unique_ptr<PoolJob> job(static_cast<PoolJob*>(work->data));
        if (status < 0) job->response = json_error_response(503, "search cancelled");
        if (job->cancelled && job->cancelled->load(std::memory_order_relaxed)) {
          job->metrics->search_abandoned.add(1);  // respond() below finds no connection
        } else if (job->cancelled) {
          auto& pending = job->api->pending_reads_;
          auto found = pending.find(job->request_id);
          if (found != pending.end() && found->second.lock() == job->cancelled) pending.erase(found);
        }
        job->metrics->count_http_request(job->route, job->response.status);
        job->http->respond(job->request_id, std::move(job->response));
      });
  if (rc < 0) return answer(request, job->route, json_error_response(503, uv_strerror(rc)));
  job.release();  // owned by the work request until its after-callback
}

void Api::handle_search(HttpRequest& request) {
  ReadParams params;
  HttpResponse error;
  if (!read_common(request, params, error)) return answer(request, "/api/search", std::move(error));
  storage::SearchRequest search;
  search.query = std::move(params.query);
  search.from_ns = params.from_ns;
  search.to_ns = params.to_ns;
  search.deadline_monotonic_ns = params.deadline_ns;
  search.cancelled = params.cancelled.get();
  search.limit = options_.search.default_limit;
  if (auto text = query_param(request.query, "limit"); text && !text->empty()) {
    uint32_t limit = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc() || end != text->data() + text->size()) {
      return answer(request, "/api/search", json_error_response(400, "limit: '" + *text + "' is not a number"));
    }
    search.limit = std::min(limit, options_.search.max_results);
  }
  if (auto text = query_param(request.query, "cursor"); text && !text->empty()) {
    search.after = decode_cursor(*text);
    if (!search.after) return answer(request, "/api/search", json_error_response(400, "cursor: not one this server gave"));
  }
  // fields=a,b: only these fields of each event (host, app... always).
  std::vector<std::string> only_fields;
  bool select_fields = false;
  if (auto text = query_param(request.query, "fields"); text) {
    select_fields = true;
    std::string_view rest = *text;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      if (comma != 0) only_fields.emplace_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  metrics_.search_requests.add(1);
  ServerMetrics* metrics = &metrics_;
  storage::EventStore* store = &store_;
  const int64_t started_ns = monotonic_now_ns();
  run_on_pool(request, "/api/search", params.cancelled,
              [store, metrics, started_ns, search = std::move(search), only_fields = std::move(only_fields),
               select_fields, cancelled = params.cancelled]() mutable {
                auto result = store->search(search);
                if (!result) {
                  metrics->search_errors.add(1);
                  return json_error_response(500, result.error().message());
                }
                if (result->partial && !cancelled->load(std::memory_order_relaxed)) metrics->search_partial.add(1);
                if (select_fields) {
                  for (auto& event : result->events) {
                    std::erase_if(event.fields, [&](const storage::StoredEvent::OwnedField& field) {
                      return std::find(only_fields.begin(), only_fields.end(), field.name) == only_fields.end();
                    });
                  }
                }
                HttpResponse response;
                std::string& body = response.body;
                body.reserve(256 + result->events.size() * 512);
                body += "{\"events\":[";
                for (size_t i = 0; i < result->events.size(); ++i) {
                  if (i != 0) body.push_back(',');
                  append_event_json(body, result->events[i]);
                }
                body += "],\"count\":" + std::to_string(result->events.size());
                body += ",\"partial\":";
                body += result->partial ? "true" : "false";
                body += ",\"next_cursor\":";
                if (result->next) {
                  append_json_string(body, encode_cursor(*result->next));
                } else {
                  body += "null";
                }
                body += ",\"took_ms\":" + std::to_string((monotonic_now_ns() - started_ns) / 1'000'000);
                body += "}\n";
                return response;
              });
}

void Api::handle_histogram(HttpRequest& request) {
  ReadParams params;
  HttpResponse error;
  if (!read_common(request, params, error)) return answer(request, "/api/histogram", std::move(error));
  int64_t interval_ns = 0;
  if (auto text = query_param(request.query, "interval"); text && !text->empty()) {
    auto parsed = parse_interval(*text);
    if (!parsed) {
      return answer(request, "/api/histogram",
                    json_error_response(400, "interval: '" + *text + "' is not N[ms|s|m|h|d|w] or milliseconds"));
    }
    interval_ns = *parsed;
  }
  metrics_.search_requests.add(1);
  ServerMetrics* metrics = &metrics_;
  storage::EventStore* store = &store_;
  const int64_t started_ns = monotonic_now_ns();
  // A copy first: the lambda below moves params, and argument order is unspecified.
  std::shared_ptr<std::atomic<bool>> cancelled = params.cancelled;
  run_on_pool(request, "/api/histogram", cancelled, [store, metrics, started_ns, params = std::move(params), interval_ns]() mutable {
    storage::HistogramRequest histogram;
    histogram.from_ns = params.from_ns;
    histogram.to_ns = params.to_ns;
    // Without bounds, the data's own extent (capped at now when it ends later).
    // Without `to`: now, or the newest event when neither bound is given.
    // Without `from`: the oldest event (an hour before `to` when empty).
    if (!params.has_from || !params.has_to) {
      auto extent = store->time_extent();
      if (!params.has_to) {
        histogram.to_ns = params.has_from || !extent ? wall_now_ns() : extent->second;
      }
      if (!params.has_from) {
        histogram.from_ns = extent ? std::min(extent->first, histogram.to_ns) : histogram.to_ns - 3600 * kNanosPerSecond;
      }
    }
    if (histogram.from_ns > histogram.to_ns) histogram.from_ns = histogram.to_ns;
    const int64_t span = histogram.to_ns - histogram.from_ns;
    histogram.interval_ns = interval_ns != 0 ? interval_ns : auto_interval_ns(span);
    if (static_cast<uint64_t>(span) / static_cast<uint64_t>(histogram.interval_ns) >= storage::kMaxHistogramBuckets) {
      return json_error_response(400, "interval: more than 10000 buckets for this range");
    }
    // Buckets start at multiples of the interval (in UTC), as a person
    // reading the chart expects.
    histogram.from_ns -= ((histogram.from_ns % histogram.interval_ns) + histogram.interval_ns) % histogram.interval_ns;
    histogram.query = std::move(params.query);
    histogram.deadline_monotonic_ns = params.deadline_ns;
    histogram.cancelled = params.cancelled.get();
    auto result = store->histogram(histogram);
    if (!result) {
      metrics->search_errors.add(1);
      return json_error_response(500, result.error().message());
    }
    if (result->partial && !params.cancelled->load(std::memory_order_relaxed)) metrics->search_partial.add(1);
    HttpResponse response;
    std::string& body = response.body;
    body.reserve(128 + result->counts.size() * 32);
    body += "{\"interval_ms\":" + std::to_string(histogram.interval_ns / 1'000'000);
    body += ",\"from\":";
    append_time(body, histogram.from_ns);
    body += ",\"to\":";
    append_time(body, histogram.to_ns);
    body += ",\"buckets\":[";
    for (size_t i = 0; i < result->counts.size(); ++i) {
      if (i != 0) body.push_back(',');
      const int64_t start = histogram.from_ns + static_cast<int64_t>(i) * histogram.interval_ns;
      body += "{\"t\":" + std::to_string(start / 1'000'000) + ",\"count\":" + std::to_string(result->counts[i]) + "}";
    }
    body += "],\"total\":" + std::to_string(result->total);
    body += ",\"partial\":";
    body += result->partial ? "true" : "false";
    body += ",\"took_ms\":" + std::to_string((monotonic_now_ns() - started_ns) / 1'000'000);
    body += "}\n";
    return response;
  });
}

void Api::handle_tail(HttpRequest& request) {
  auto query = storage::parse_query(query_param(request.query, "q").value_or(""));
  if (!query) return answer(request, "/api/tail", query_error_response(query.error().message()));
  metrics_.count_http_request("/api/tail", 200);
  tail_.subscribe(request.id, std::move(query.value()));
}

void Api::handle_fields(HttpRequest& request) {
  ReadParams params;
  HttpResponse error;
  if (!read_common(request, params, error)) return answer(request, "/api/fields", std::move(error));
  metrics_.search_requests.add(1);
  ServerMetrics* metrics = &metrics_;
  storage::EventStore* store = &store_;
  const int64_t started_ns = monotonic_now_ns();
  // A copy first: the lambda below moves params, and argument order is unspecified.
  std::shared_ptr<std::atomic<bool>> cancelled = params.cancelled;
  run_on_pool(request, "/api/fields", cancelled, [store, metrics, started_ns, params = std::move(params)]() mutable {
    storage::SearchRequest search;
    search.query = std::move(params.query);
    search.from_ns = params.from_ns;
    search.to_ns = params.to_ns;
    search.deadline_monotonic_ns = params.deadline_ns;
    search.cancelled = params.cancelled.get();
    search.limit = kFieldSampleEvents;
    auto result = store->search(search);
    if (!result) {
      metrics->search_errors.add(1);
      return json_error_response(500, result.error().message());
    }
    HttpResponse response;
    append_field_summary(response.body, result->events, kFieldTopValues);
    response.body.pop_back();  // the closing brace, to add more members
    response.body += ",\"partial\":";
    response.body += result->partial ? "true" : "false";
    response.body += ",\"took_ms\":" + std::to_string((monotonic_now_ns() - started_ns) / 1'000'000);
    response.body += "}\n";
    return response;
  });
}

// Grok debugging runs on the HTTP loop: RE2 matches in linear time and the
// input is capped, so one request cannot hold the loop for long.
constexpr size_t kMaxGrokDebugBytes = 1 << 20;

void Api::handle_grok(HttpRequest& request) {
  if (request.body.size() > kMaxGrokDebugBytes) {
    return answer(request, "/api/grok", json_error_response(413, "at most 1 MiB of lines per request"));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view pattern, lines;
  if (parser.parse(request.body).get(root) || !root.is_object() ||
      root["pattern"].get_string().get(pattern) || root["lines"].get_string().get(lines)) {
    return answer(request, "/api/grok",
                  json_error_response(400, "expected a JSON object {\"pattern\": \"...\", \"lines\": \"one\\ntwo\"}"));
  }
  HttpResponse response;
  response.body = "{\"results\":[";
  Status status = grok_debug(pattern, lines, ",", response.body);
  if (!status) return answer(request, "/api/grok", json_error_response(400, "pattern: " + status.message()));
  response.body += "]}\n";
  answer(request, "/api/grok", std::move(response));
}

void Api::handle_ingest(HttpRequest& request) {
  // Decoding and splitting run on the HTTP loop: bounded by
  // http.max_decompressed_bytes, and a linear scan without parsing; the
  // JSON itself is parsed by the workers.
  constexpr std::string_view kRoute = "/api/ingest";
  PerInput& counters = metrics_.input(InputId::kHttpNdjson);
  if (queue_.above_high_watermark()) {
    HttpResponse response = json_error_response(429, "ingest queue is full; retry later");
    response.headers.push_back({"Retry-After", "1"});
    return answer(request, kRoute, std::move(response));
  }
  if (!json_content_type_allowed(request.content_type)) {
    return answer(request, kRoute,
                  json_error_response(415, "Content-Type '" + request.content_type +
                                      "' is not accepted: send NDJSON (application/x-ndjson), a JSON array "
                                      "or a JSON object (application/json)"));
  }
  if (BodyDecodeResult decoded = decode_body(request.content_encoding, request.body,
                                             options_.http_limits.max_decompressed_bytes);
      !decoded.ok()) {
    if (decoded.outcome == BodyDecodeResult::Outcome::kTooLarge) {
      counters.count_json_error(parsers::JsonError::kBodyTooLarge);
    }
    return answer(request, kRoute, json_error_response(decoded.http_status(), decoded.message));
  }
  const std::string_view body = request.body;
  const JsonBodyShape shape = detect_json_body_shape(request.content_type, body);
  const size_t max_record_bytes = options_.json_tcp_limits.max_line_bytes;

  // Record numbers (line, or element index + 1) of the queued records, and
  // the records refused before queueing (too long, empty), by number.
  struct Refused {
    uint32_t number;
    parsers::JsonError error;
  };
  auto numbers = std::make_shared<std::vector<uint32_t>>();
  auto refused = std::make_shared<std::vector<Refused>>();
  auto batch = queue_.acquire_batch();
  const int64_t received_ns = wall_now_ns();
  split_json_body(body, shape, [&](uint32_t number, std::string_view text) {
    if (text.empty() || text.size() > max_record_bytes) {
      const parsers::JsonError error = text.empty() ? parsers::JsonError::kEmpty : parsers::JsonError::kTooLong;
      refused->push_back({number, error});
      counters.count_json_error(error);
      return;
    }
    batch->append(text, "", InputId::kHttpNdjson, RecordFormat::kJson, false, received_ns);
    numbers->push_back(number);
  });
  if (!refused->empty()) counters.rejected.add(refused->size());

  // {"accepted":N,"rejected":M,"errors":[{"line":K,"error":"..."}]}, errors
  // by record number; at most kMaxListedErrors are listed.
  constexpr size_t kMaxListedErrors = 1000;
  auto write_answer = [](uint32_t accepted, const std::vector<Refused>& refused_early,
                         const std::vector<uint32_t>& record_numbers, const BatchOutcome* outcome) {
    std::vector<std::pair<uint32_t, std::string_view>> errors;
    for (const Refused& r : refused_early) errors.push_back({r.number, parsers::json_error_message(r.error)});
    if (outcome != nullptr) {
      for (const RecordError& r : outcome->rejected) errors.push_back({record_numbers[r.record_index], r.reason});
    }
    std::stable_sort(errors.begin(), errors.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    HttpResponse response;
    std::string& out = response.body;
    out = "{\"accepted\":" + std::to_string(accepted) + ",\"rejected\":" + std::to_string(errors.size()) +
          ",\"errors\":[";
    for (size_t i = 0; i < errors.size() && i < kMaxListedErrors; ++i) {
      if (i != 0) out.push_back(',');
      out += "{\"line\":" + std::to_string(errors[i].first) + ",\"error\":";
      append_json_string(out, errors[i].second);
      out.push_back('}');
    }
    out += "]";
    if (errors.size() > kMaxListedErrors) {
      out += ",\"errors_omitted\":" + std::to_string(errors.size() - kMaxListedErrors);
    }
    out += "}\n";
    return response;
  };

  if (batch->records.empty()) {
    queue_.release_batch(std::move(batch));
    return answer(request, kRoute, write_answer(0, *refused, *numbers, nullptr));
  }
  const uint64_t records = batch->records.size();
  const uint64_t bytes = body.size();
  HttpServer* http = http_;
  ServerMetrics* metrics = &metrics_;
  const uint64_t request_id = request.id;
  batch->on_stored = [http, metrics, request_id, numbers, refused, write_answer](const BatchOutcome& outcome) {
    // Thread: a parse worker. Build the answer here, send it via the loop.
    HttpResponse response =
        outcome.stored_ok ? write_answer(outcome.stored, *refused, *numbers, &outcome)
                          : json_error_response(503, "the store could not write the batch; nothing was accepted");
    if (!outcome.stored_ok) response.headers.push_back({"Retry-After", "1"});
    metrics->count_http_request("/api/ingest", response.status);
    http->respond(request_id, std::move(response));
  };
  if (queue_.push(batch) == IngestQueue::PushResult::kClosed) {
    counters.dropped[static_cast<size_t>(DropReason::kQueueFull)].add(records);
    return answer(request, kRoute, json_error_response(503, "shutting down"));
  }
  counters.received.add(records);
  counters.received_bytes.add(bytes);
}

}  // namespace sluice::server
