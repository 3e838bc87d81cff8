#include "server/http/gelf_http.h"

#include <string>

#include "parsers/gelf.h"
#include "server/base/clock.h"
#include "server/http/json_writer.h"
#include "server/inputs/gelf_inflate.h"

namespace sluice::server {
namespace {


// The HTTP loop's reusable state: one loop thread, so one instance.
struct Scratch {
  GelfInflater inflater;
  parsers::GelfParser parser;
  EventBatch events;
};

}  // namespace

std::optional<HttpResponse> handle_gelf_post(HttpRequest& request, IngestQueue& queue, ServerMetrics& metrics,
                                             HttpServer& http, const config::ServerOptions& options) {
  thread_local Scratch scratch;
  PerInput& counters = metrics.input(InputId::kGelfHttp);
  if (queue.above_high_watermark()) {
    HttpResponse response = json_error_response(429, "ingest queue is full; retry later");
    response.headers.push_back({"Retry-After", "1"});
    return response;
  }
  const std::string& encoding = request.content_encoding;
  const bool declared_compressed = encoding == "gzip" || encoding == "x-gzip" || encoding == "deflate";
  if (!declared_compressed && !encoding.empty() && encoding != "identity") {
    return json_error_response(415, "Content-Encoding '" + encoding + "' is not supported (gzip, deflate)");
  }
  const size_t max_bytes = options.gelf_limits.max_message_bytes;
  std::string_view text = request.body;
  size_t readable = 0;
  if (declared_compressed || gelf_encoding_of(text) != GelfEncoding::kPlain) {
    const GelfInflater::Result result = scratch.inflater.inflate(text, max_bytes, kRawBatchPaddingBytes);
    if (result != GelfInflater::Result::kOk) {
      counters.rejected.add(1);
      if (result == GelfInflater::Result::kTooLarge) {
        return json_error_response(413, "GELF: the message decompresses past gelf.max_message_bytes");
      }
      return json_error_response(400, "GELF: the body is not valid " + std::string(encoding.empty() ? "zlib/gzip" : encoding));
    }
    text = scratch.inflater.output();
    readable = text.size() + kRawBatchPaddingBytes;
  } else {
    if (text.size() > max_bytes) {
      counters.rejected.add(1);
      return json_error_response(413, "GELF: the message is larger than gelf.max_message_bytes");
    }
    request.body.reserve(request.body.size() + kRawBatchPaddingBytes);
    text = request.body;
    readable = request.body.capacity();
  }
  // Checked here so the sender hears why; the worker parses it again.
  scratch.events.clear();
  Event event;
  const std::string_view error = scratch.parser.parse(text, readable, scratch.events, event);
  if (!error.empty()) {
    counters.rejected.add(1);
    return json_error_response(400, error);
  }

  auto batch = queue.acquire_batch();
  batch->append(text, "", InputId::kGelfHttp, RecordFormat::kGelf, false, wall_now_ns());
  const uint64_t bytes = text.size();
  HttpServer* server = &http;
  ServerMetrics* metrics_ptr = &metrics;
  const uint64_t request_id = request.id;
  batch->on_stored = [server, metrics_ptr, request_id](const BatchOutcome& outcome) {
    // Thread: a parse worker; the response goes through the HTTP loop.
    HttpResponse response;
    if (outcome.stored_ok) {
      response.status = 202;  // Graylog's GELF HTTP input: Accepted, no body
      response.content_type = "text/plain; charset=utf-8";
    } else {
      response = json_error_response(503, "the store could not write the message; nothing was accepted");
    }
    metrics_ptr->count_http_request("/gelf", response.status);
    server->respond(request_id, std::move(response));
  };
  if (queue.push(batch) == IngestQueue::PushResult::kClosed) {
    counters.dropped[static_cast<size_t>(DropReason::kQueueFull)].add(1);
    return json_error_response(503, "shutting down");
  }
  counters.received.add(1);
  counters.received_bytes.add(bytes);
  return std::nullopt;
}

}  // namespace sluice::server
