// CompatApi: the HTTP APIs of other tools' shippers, so they can point at
// sluice unchanged —
//   * Elasticsearch: POST /_bulk and /<index>/_bulk (Filebeat, Vector,
//     Fluent Bit, the official clients), plus the handshakes they make
//     first (GET /, /_cluster/health, /_license, /_xpack, index templates,
//     ILM policies, PUT/HEAD /<index>); other ES paths get ES's JSON 404;
//   * collectd's write_http plugin with Format "JSON": POST /collectd.
// Like POST /api/ingest, a body becomes one RawBatch on the ingest queue and
// is answered only once the workers report it stored.
// Thread: the HTTP loop only (handle()); the answers to ingest requests are
// built on a worker and sent through HttpServer::respond().
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "config/options.h"
#include "server/base/counter.h"
#include "server/http/http_server.h"
#include "server/ingest_queue.h"
#include "server/metrics.h"

namespace sluice::server {

class CompatApi {
 public:
  CompatApi(IngestQueue& queue, ServerMetrics& metrics, const config::ServerOptions& options);
  void attach(HttpServer& http) { http_ = &http; }

  // Answers `request` and returns true if it is one of these APIs'; false
  // leaves it to sluice's own routes. Called after /api/*, /metrics and
  // /healthz, before the web viewer's assets: GET / is the ES root only for
  // a request from a program (looks_like_es_client).
  bool handle(HttpRequest& request);

 private:
  void answer(const HttpRequest& request, std::string_view route, HttpResponse response);
  void answer_es(const HttpRequest& request, int status, std::string body);
  void handle_bulk(HttpRequest& request, std::string_view path_index);
  void handle_collectd(HttpRequest& request);
  void handle_es_other(HttpRequest& request);

  IngestQueue& queue_;
  ServerMetrics& metrics_;
  const size_t max_document_bytes_;
  const uint64_t max_decoded_bytes_;  // of a compressed body, once decompressed
  HttpServer* http_ = nullptr;
  simdjson::dom::parser parser_;  // action lines and collectd arrays
  uint64_t next_seq_ = 0;
  // What clients created, so that they find it again (bounded).
  std::set<std::string, std::less<>> indices_;
  std::map<std::string, std::string, std::less<>> templates_;  // "_index_template/x" -> body
  // sluice_es_bulk_item_errors_total{reason}
  Counter unsupported_action_errors_;
  Counter missing_index_errors_;
  Counter invalid_document_errors_;
};

}  // namespace sluice::server
