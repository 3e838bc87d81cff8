// POST /gelf: Graylog's GELF HTTP input. The body is one GELF object,
// optionally compressed (Content-Encoding gzip or deflate, or a body that
// starts with a zlib or gzip header, as Graylog detects it). It is checked
// here — invalid JSON, not an object, no host or short_message: 400 with the
// reason; over gelf.max_message_bytes once decompressed: 413 — then handed to
// the ingest queue as one RecordFormat::kGelf record, and answered
// 202 Accepted (as Graylog answers) once the raw log has it fsynced.
// Refusals count in sluice_events_rejected_total{input="gelf_http"}.
// Thread: the HTTP loop only.
#pragma once

#include <optional>

#include "config/options.h"
#include "server/http/http_server.h"
#include "server/ingest_queue.h"
#include "server/metrics.h"

namespace sluice::server {

// The answer now, or nullopt when it is sent later through `http`
// (by a parse worker, once the record is durable).
std::optional<HttpResponse> handle_gelf_post(HttpRequest& request, IngestQueue& queue, ServerMetrics& metrics,
                                             HttpServer& http, const config::ServerOptions& options);

}  // namespace sluice::server
