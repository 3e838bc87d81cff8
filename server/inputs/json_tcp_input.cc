#include "server/inputs/json_tcp_input.h"

#include "server/base/clock.h"

namespace sluice::server {

JsonLineHandler::JsonLineHandler(BatchBuilder& batches, PerInput& counters, std::string_view peer,
                                 size_t max_line_bytes)
    : batches_(batches), counters_(counters), peer_(peer), framer_(max_line_bytes) {}

bool JsonLineHandler::on_bytes(std::string_view bytes) {
  const int64_t received_ns = wall_now_ns();
  framer_.feed(bytes, [&](std::string_view line, bool truncated) {
    batches_.add(line, peer_, RecordFormat::kJson, truncated, received_ns);
  });
  count_anomalies();
  return true;
}

void JsonLineHandler::on_end() {
  framer_.finish([&](std::string_view line, bool truncated) {
    batches_.add(line, peer_, RecordFormat::kJson, truncated, wall_now_ns());
  });
  count_anomalies();
}

void JsonLineHandler::count_anomalies() {
  const LineFramer::Stats stats = framer_.take_stats();
  if (stats.oversize_frames != 0) counters_.count_error(IngestError::kFrameTruncated, stats.oversize_frames);
}

JsonTcpInput::JsonTcpInput(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics,
                           const config::ServerOptions& options)
    : metrics_(metrics),
      address_(options.json_tcp),
      batches_(loop, queue, metrics, options.ingest, InputId::kJsonTcp) {
  batches_.set_on_backpressure([this] {
    if (on_backpressure_) on_backpressure_();
  });
  const size_t max_line_bytes = options.json_tcp_limits.max_line_bytes;
  listener_ = std::make_unique<StreamListener>(
      loop, metrics, InputId::kJsonTcp,
      [this, max_line_bytes](const ConnectionInfo& info) -> std::unique_ptr<ConnectionHandler> {
        return std::make_unique<JsonLineHandler>(batches_, metrics_.input(InputId::kJsonTcp), info.peer,
                                                 max_line_bytes);
      },
      options.ingest.max_connections, options.ingest.handshake_timeout_ms);
}

JsonTcpInput::~JsonTcpInput() = default;

Status JsonTcpInput::listen() {
  if (!address_.enabled()) return Status::ok();
  return listener_->listen(address_, "json tcp");
}

void JsonTcpInput::pause() {
  if (paused_) return;
  paused_ = true;
  listener_->pause();
}

void JsonTcpInput::resume() {
  if (!paused_ || stopped_) return;
  paused_ = false;
  listener_->resume();
}

void JsonTcpInput::quiesce() {
  if (stopped_) return;
  stopped_ = true;
  listener_->quiesce();
  batches_.close();
}

void JsonTcpInput::close() {
  quiesce();
  listener_->close_connections();
}

}  // namespace sluice::server
