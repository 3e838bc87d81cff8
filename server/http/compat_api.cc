#include "server/http/compat_api.h"

#include <memory>
#include <vector>

#include "server/base/clock.h"
#include "server/http/api.h"
#include "server/http/body_decoder.h"
#include "server/http/es_bulk.h"
#include "server/http/json_writer.h"
#include "server/http/web_assets.h"

namespace sluice::server {
namespace {

// Bounds what clients can make the server remember.
constexpr size_t kMaxRememberedIndices = 10000;
constexpr size_t kMaxRememberedResources = 1000;
constexpr size_t kMaxResourceBodyBytes = 256 * 1024;


// "/a/b/" -> {"a", "b"}.
std::vector<std::string_view> segments_of(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

bool is_mutation(std::string_view method) { return method == "PUT" || method == "POST"; }

}  // namespace

CompatApi::CompatApi(IngestQueue& queue, ServerMetrics& metrics, const config::ServerOptions& options)
    : queue_(queue),
      metrics_(metrics),
      max_document_bytes_(options.ingest.max_message_bytes),
      max_decoded_bytes_(options.http_limits.max_decompressed_bytes) {
  metrics_.add_section([this](std::string& out) {
    out += "# HELP sluice_es_bulk_item_errors_total Elasticsearch bulk items answered with an error.\n";
    out += "# TYPE sluice_es_bulk_item_errors_total counter\n";
    out += "sluice_es_bulk_item_errors_total{reason=\"unsupported_action\"} " +
           std::to_string(unsupported_action_errors_.value()) + "\n";
    out += "sluice_es_bulk_item_errors_total{reason=\"missing_index\"} " +
           std::to_string(missing_index_errors_.value()) + "\n";
    out += "sluice_es_bulk_item_errors_total{reason=\"invalid_document\"} " +
           std::to_string(invalid_document_errors_.value()) + "\n";
  });
}

void CompatApi::answer(const HttpRequest& request, std::string_view route, HttpResponse response) {
  metrics_.count_http_request(route, response.status);
  http_->respond(request.id, std::move(response));
}

void CompatApi::answer_es(const HttpRequest& request, int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers.push_back({"X-Elastic-Product", "Elasticsearch"});
  answer(request, "es", std::move(response));
}

bool CompatApi::handle(HttpRequest& request) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/collectd") {
    if (method != "POST") {
      answer(request, "/collectd", json_error_response(405, "use POST"));
    } else {
      handle_collectd(request);
    }
    return true;
  }
  const bool es_client =
      looks_like_es_client(request.accept, request.user_agent, !request.elastic_client_meta.empty());
  const std::vector<std::string_view> segments = segments_of(path);
  if (segments.empty()) {
    if (!es_client) return false;  // the web viewer
    if (method == "GET" || method == "HEAD") {
      answer_es(request, 200, es_info_body("sluice"));
    } else {
      answer_es(request, 405, es_error_body(405, "illegal_argument_exception", "use GET or HEAD on /"));
    }
    return true;
  }
  const bool first_is_api = segments[0].starts_with('_');
  const bool second_is_api = segments.size() >= 2 && segments[1].starts_with('_');
  if (!first_is_api && !second_is_api) {
    // /<index>: ES's only when it is no file of the viewer.
    if (segments.size() != 1) return false;
    const bool get = method == "GET" || method == "HEAD";
    if (get && (web::find_asset(path) != nullptr || !es_client)) return false;
  }
  const std::string_view bulk = first_is_api ? segments[0] : (segments.size() >= 2 ? segments[1] : "");
  if (bulk == "_bulk" && segments.size() == (first_is_api ? 1u : 2u)) {
    if (!is_mutation(method)) {
      answer_es(request, 405, es_error_body(405, "illegal_argument_exception", "use POST on _bulk"));
      return true;
    }
    const std::string index = first_is_api ? std::string() : url_decode(segments[0]);
    handle_bulk(request, index);
    return true;
  }
  handle_es_other(request);
  return true;
}

void CompatApi::handle_bulk(HttpRequest& request, std::string_view path_index) {
  if (queue_.above_high_watermark()) {
    HttpResponse response;
    response.status = 429;
    response.body = es_error_body(429, "es_rejected_execution_exception", "ingest queue is full; retry later");
    response.headers.push_back({"X-Elastic-Product", "Elasticsearch"});
    response.headers.push_back({"Retry-After", "1"});
    return answer(request, "/_bulk", std::move(response));
  }
  // gzip (Filebeat's compression_level, the clients' compression), deflate, zstd.
  if (BodyDecodeResult decoded = decode_body(request.content_encoding, request.body, max_decoded_bytes_);
      !decoded.ok()) {
    return answer_es(request, decoded.http_status(),
                     es_error_body(decoded.http_status(), "illegal_argument_exception", decoded.message));
  }
  if (!is_bulk_content_type(request.content_type)) {
    return answer_es(request, 406,
                     es_error_body(406, "illegal_argument_exception",
                                   "Content-Type '" + request.content_type + "' is not NDJSON or JSON"));
  }
  const int64_t started_ns = monotonic_now_ns();
  auto batch = queue_.acquire_batch();
  BulkParse parsed = parse_bulk_body(request.body, path_index, max_document_bytes_, wall_now_ns(), next_seq_,
                                     parser_, *batch);
  if (!parsed.error.empty()) {
    queue_.release_batch(std::move(batch));
    return answer_es(request, 400, es_error_body(400, "illegal_argument_exception", parsed.error));
  }
  const std::string* previous_index = nullptr;  // items of a request mostly share their index
  for (const BulkItem& item : parsed.items) {
    if (item.record < 0) {
      (item.status == 400 && item.error_type == "action_request_validation_exception" ? missing_index_errors_
                                                                                        : unsupported_action_errors_)
          .add(1);
    } else if ((previous_index == nullptr || *previous_index != item.index) &&
               indices_.size() < kMaxRememberedIndices && !indices_.contains(item.index)) {
      indices_.insert(item.index);
    }
    if (item.record >= 0) previous_index = &item.index;
  }
  auto items = std::make_shared<std::vector<BulkItem>>(std::move(parsed.items));
  if (batch->records.empty()) {
    queue_.release_batch(std::move(batch));
    return answer_es(request, 200, build_bulk_response(*items, {}, (monotonic_now_ns() - started_ns) / 1'000'000));
  }
  const uint64_t records = batch->records.size();
  HttpServer* http = http_;
  ServerMetrics* metrics = &metrics_;
  Counter* invalid = &invalid_document_errors_;
  const uint64_t request_id = request.id;
  batch->on_stored = [http, metrics, invalid, request_id, items, started_ns](const BatchOutcome& outcome) {
    // Thread: a parse worker.
    HttpResponse response;
    response.headers.push_back({"X-Elastic-Product", "Elasticsearch"});
    if (!outcome.stored_ok) {
      response.status = 503;
      response.body = es_error_body(503, "unavailable_shards_exception",
                                    "the store could not write the batch; nothing was accepted");
    } else {
      if (!outcome.rejected.empty()) invalid->add(outcome.rejected.size());
      response.body = build_bulk_response(*items, outcome.rejected, (monotonic_now_ns() - started_ns) / 1'000'000);
    }
    metrics->count_http_request("/_bulk", response.status);
    http->respond(request_id, std::move(response));
  };
  PerInput& counters = metrics_.input(InputId::kEsBulk);
  if (queue_.push(batch) == IngestQueue::PushResult::kClosed) {
    counters.dropped[static_cast<size_t>(DropReason::kQueueFull)].add(records);
    return answer_es(request, 503, es_error_body(503, "node_closed_exception", "shutting down"));
  }
  counters.received.add(records);
  counters.received_bytes.add(request.body.size());
  if (parsed.truncated != 0) counters.truncated.add(parsed.truncated);
}

void CompatApi::handle_collectd(HttpRequest& request) {
  if (queue_.above_high_watermark()) {
    HttpResponse response = json_error_response(429, "ingest queue is full; retry later");
    response.headers.push_back({"Retry-After", "1"});
    return answer(request, "/collectd", std::move(response));
  }
  if (BodyDecodeResult decoded = decode_body(request.content_encoding, request.body, max_decoded_bytes_);
      !decoded.ok()) {
    return answer(request, "/collectd", json_error_response(decoded.http_status(), decoded.message));
  }
  // write_http posts one JSON array of value lists; each becomes a record
  // (RecordFormat::kCollectd, mapped by parsers/collectd_event).
  simdjson::dom::element root;
  simdjson::dom::array lists;
  if (parser_.parse(request.body).get(root) || root.get_array().get(lists)) {
    return answer(request, "/collectd",
                  json_error_response(400, "expected a JSON array of collectd value lists (write_http Format \"JSON\")"));
  }
  auto batch = queue_.acquire_batch();
  const int64_t received_ns = wall_now_ns();
  uint64_t truncated = 0;
  for (simdjson::dom::element list : lists) {
    if (!list.is_object()) continue;
    std::string text = simdjson::minify(list);
    const bool too_long = text.size() > max_document_bytes_;
    if (too_long) {
      ++truncated;
      text.resize(max_document_bytes_);
    }
    batch->append(text, "", InputId::kCollectd, RecordFormat::kCollectd, too_long, received_ns);
  }
  if (batch->records.empty()) {
    queue_.release_batch(std::move(batch));
    HttpResponse response;
    response.body = "{\"accepted\":0,\"rejected\":0}\n";
    return answer(request, "/collectd", std::move(response));
  }
  const uint64_t records = batch->records.size();
  HttpServer* http = http_;
  ServerMetrics* metrics = &metrics_;
  const uint64_t request_id = request.id;
  batch->on_stored = [http, metrics, request_id](const BatchOutcome& outcome) {
    HttpResponse response;
    if (!outcome.stored_ok) {
      response = json_error_response(503, "the store could not write the batch; nothing was accepted");
    } else {
      response.body = "{\"accepted\":" + std::to_string(outcome.stored) +
                      ",\"rejected\":" + std::to_string(outcome.rejected.size()) + "}\n";
    }
    metrics->count_http_request("/collectd", response.status);
    http->respond(request_id, std::move(response));
  };
  PerInput& counters = metrics_.input(InputId::kCollectd);
  if (queue_.push(batch) == IngestQueue::PushResult::kClosed) {
    counters.dropped[static_cast<size_t>(DropReason::kQueueFull)].add(records);
    return answer(request, "/collectd", json_error_response(503, "shutting down"));
  }
  counters.received.add(records);
  counters.received_bytes.add(request.body.size());
  if (truncated != 0) counters.truncated.add(truncated);
}

// The handshakes shippers make before bulk, answered as a one-node cluster
// that takes whatever it is given.
void CompatApi::handle_es_other(HttpRequest& request) {
  const std::string& method = request.method;
  const bool read = method == "GET" || method == "HEAD";
  const std::vector<std::string_view> segments = segments_of(request.path);
  const std::string_view first = segments[0];
  auto not_found = [&] {
    answer_es(request, 404,
              es_error_body(404, "resource_not_found_exception",
                            "sluice implements no Elasticsearch endpoint [" + method + " " + request.path + "]"));
  };
  if (first == "_cluster" && segments.size() >= 2 && segments[1] == "health" && read) {
    return answer_es(request, 200,
                     "{\"cluster_name\":\"sluice\",\"status\":\"green\",\"timed_out\":false,\"number_of_nodes\":1,"
                     "\"number_of_data_nodes\":1,\"active_primary_shards\":1,\"active_shards\":1,"
                     "\"relocating_shards\":0,\"initializing_shards\":0,\"unassigned_shards\":0,"
                     "\"delayed_unassigned_shards\":0,\"number_of_pending_tasks\":0,\"number_of_in_flight_fetch\":0,"
                     "\"task_max_waiting_in_queue_millis\":0,\"active_shards_percent_as_number\":100.0}\n");
  }
  if (first == "_license" && segments.size() == 1 && read) {
    return answer_es(request, 200,
                     "{\"license\":{\"status\":\"active\",\"uid\":\"00000000-0000-0000-0000-000000000000\","
                     "\"type\":\"basic\",\"issue_date\":\"2023-01-01T00:00:00.000Z\","
                     "\"issue_date_in_millis\":1672531200000,\"max_nodes\":1000,\"max_resource_units\":null,"
                     "\"issued_to\":\"sluice\",\"issuer\":\"elasticsearch\",\"start_date_in_millis\":-1}}\n");
  }
  if (first == "_xpack" && segments.size() == 1 && read) {
    return answer_es(request, 200,
                     "{\"build\":{\"hash\":\"sluice\",\"date\":\"2023-11-04T10:04:57.184859352Z\"},"
                     "\"license\":{\"uid\":\"00000000-0000-0000-0000-000000000000\",\"type\":\"basic\","
                     "\"mode\":\"basic\",\"status\":\"active\"},"
                     "\"features\":{\"ilm\":{\"available\":true,\"enabled\":true},"
                     "\"security\":{\"available\":false,\"enabled\":false},"
                     "\"monitoring\":{\"available\":false,\"enabled\":false}}}\n");
  }
  if ((first == "_refresh" || first == "_flush") || (segments.size() == 2 && (segments[1] == "_refresh" || segments[1] == "_flush"))) {
    return answer_es(request, 200, "{\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0}}\n");
  }
  // Named resources: _index_template/x, _template/x, _component_template/x,
  // _ilm/policy/x, _ingest/pipeline/x. Stored as given; never applied.
  std::string_view kind = first;
  size_t name_at = 1;
  if ((first == "_ilm" && segments.size() >= 2 && segments[1] == "policy") ||
      (first == "_ingest" && segments.size() >= 2 && segments[1] == "pipeline")) {
    kind = segments[1];
    name_at = 2;
  }
  const bool resource = first == "_index_template" || first == "_template" || first == "_component_template" ||
                        kind == "policy" || kind == "pipeline";
  if (resource && segments.size() == name_at + 1) {
    const std::string name = url_decode(segments[name_at]);
    const std::string key = std::string(kind) + "/" + name;
    if (is_mutation(method)) {
      if (templates_.size() < kMaxRememberedResources || templates_.contains(key)) {
        simdjson::dom::element parsed;
        const bool valid = request.body.empty() || !parser_.parse(request.body).get(parsed);
        templates_[key] = valid && request.body.size() <= kMaxResourceBodyBytes && !request.body.empty()
                              ? request.body
                              : std::string("{}");
      }
      return answer_es(request, 200, "{\"acknowledged\":true}\n");
    }
    if (method == "DELETE") {
      templates_.erase(key);
      return answer_es(request, 200, "{\"acknowledged\":true}\n");
    }
    auto found = templates_.find(key);
    if (!read || found == templates_.end()) return not_found();
    std::string body;
    if (kind == "_index_template" || kind == "_component_template") {
      const std::string member = kind == "_index_template" ? "index_template" : "component_template";
      body = "{\"" + member + "s\":[{\"name\":";
      append_json_string(body, name);
      body += ",\"" + member + "\":" + found->second + "}]}\n";
    } else if (kind == "policy") {
      body = "{";
      append_json_string(body, name);
      body += ":{\"version\":1,\"modified_date\":\"2023-01-01T00:00:00.000Z\",\"policy\":";
      simdjson::dom::element parsed;
      simdjson::dom::element policy;
      if (!parser_.parse(found->second).get(parsed) && !parsed["policy"].get(policy)) {
        body += simdjson::minify(policy);
      } else {
        body += "{}";
      }
      body += "}}\n";
    } else {
      body = "{";
      append_json_string(body, name);
      body += ":" + found->second + "}\n";
    }
    return answer_es(request, 200, std::move(body));
  }
  // /<index>
  if (!first.starts_with('_') && segments.size() == 1) {
    const std::string index = url_decode(first);
    if (method == "PUT") {
      if (indices_.size() < kMaxRememberedIndices) indices_.insert(index);
      std::string body = "{\"acknowledged\":true,\"shards_acknowledged\":true,\"index\":";
      append_json_string(body, index);
      body += "}\n";
      return answer_es(request, 200, std::move(body));
    }
    if (read) {
      if (!indices_.contains(index)) {
        std::string reason = "no such index [" + index + "]";
        std::string body = es_error_body(404, "index_not_found_exception", reason);
        return answer_es(request, 404, std::move(body));
      }
      std::string body = "{";
      append_json_string(body, index);
      body += ":{\"aliases\":{},\"mappings\":{},\"settings\":{\"index\":{\"number_of_shards\":\"1\","
              "\"number_of_replicas\":\"0\"}}}}\n";
      return answer_es(request, 200, std::move(body));
    }
    if (method == "DELETE") {
      return answer_es(request, 400,
                       es_error_body(400, "illegal_argument_exception",
                                     "sluice does not delete indices: events are kept by its retention"));
    }
  }
  not_found();
}

}  // namespace sluice::server
