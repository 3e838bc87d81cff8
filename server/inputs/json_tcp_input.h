// JsonTcpInput: JSON lines over TCP (listen.json_tcp, `serve --json-tcp`).
//
// One JSON object per line (LF; CRLF tolerated). Connections run on a
// StreamListener with a JsonLineHandler (LineFramer -> BatchBuilder), so
// the path is syslog TCP's: records of RecordFormat::kJson and
// InputId::kJsonTcp go through the raw log (durability) to the parse
// workers, whose JsonEventParser maps them (json.*). Under backpressure the
// listener stops reading, as syslog TCP does. Lines longer than
// json_tcp.max_line_bytes are cut, flagged truncated and counted
// (frame_truncated); a line that is not a JSON object is stored as raw text
// flagged _parse_failure and counted in sluice_json_errors_total.
// Thread: ingest loop only, except listen(), which runs before the loop does.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>

#include "config/options.h"
#include "server/inputs/batch_builder.h"
#include "server/inputs/line_framing.h"
#include "server/inputs/stream_listener.h"

namespace sluice::server {

class JsonLineHandler final : public ConnectionHandler {
 public:
  JsonLineHandler(BatchBuilder& batches, PerInput& counters, std::string_view peer, size_t max_line_bytes);
  bool on_bytes(std::string_view bytes) override;
  void on_end() override;

 private:
  void count_anomalies();

  BatchBuilder& batches_;
  PerInput& counters_;
  std::string_view peer_;
  LineFramer framer_;
};

class JsonTcpInput {
 public:
  JsonTcpInput(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics, const config::ServerOptions& options);
  ~JsonTcpInput();

  // Binds options.json_tcp if enabled; the error names the address and why.
  Status listen();

  // Called when a hand-over finds the queue full; the owner pauses every input.
  void set_on_backpressure(std::function<void()> callback) { on_backpressure_ = std::move(callback); }

  void pause();
  void resume();
  // Shutdown, step 1: closes the listener, stops reading, hands over every buffered line.
  void quiesce();
  // Shutdown, step 2 (after the queue drained): closes every connection.
  void close();

 private:
  ServerMetrics& metrics_;
  const config::ListenAddress address_;
  std::function<void()> on_backpressure_;
  BatchBuilder batches_;
  std::unique_ptr<StreamListener> listener_;
  bool paused_ = false;
  bool stopped_ = false;
};

}  // namespace sluice::server
