// BatchBuilder: collects one input's frames into a RawBatch and hands it to
// the ingest queue at a count, size or age limit.
//
// Thread: ingest loop (or HTTP loop) only — the loop its timer belongs to.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string_view>

#include "config/options.h"
#include "server/ingest_queue.h"
#include "server/metrics.h"

namespace sluice::server {

class BatchBuilder {
 public:
  BatchBuilder(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics,
               const config::IngestOptions& options, InputId input);
  BatchBuilder(const BatchBuilder&) = delete;
  BatchBuilder& operator=(const BatchBuilder&) = delete;

  // Called (on the loop) whenever a hand-over finds the queue at its high
  // watermark: the owner applies backpressure until the queue drains.
  void set_on_backpressure(std::function<void()> callback) { on_backpressure_ = std::move(callback); }

  // Called on the loop with each batch just before it is handed over, e.g.
  // to attach an acknowledgement callback.
  void set_on_handover(std::function<void(RawBatch&)> callback) { on_handover_ = std::move(callback); }

  // Appends one frame; may hand the batch over.
  void add(std::string_view frame, std::string_view peer, RecordFormat format, bool truncated,
           int64_t received_ns);

  // Hands over the current batch, if any.
  void flush();

  // Flushes and closes the age timer; the builder must outlive the loop's
  // close callbacks (it is owned by an object that outlives the loop run).
  void close();

 private:
  static void on_timer(uv_timer_t* timer);

  IngestQueue& queue_;
  ServerMetrics& metrics_;
  const config::IngestOptions options_;
  const InputId input_;
  std::function<void()> on_backpressure_;
  std::function<void(RawBatch&)> on_handover_;
  std::unique_ptr<RawBatch> batch_;
  uint64_t truncated_in_batch_ = 0;
  uint64_t frame_bytes_in_batch_ = 0;
  uv_timer_t timer_{};
  bool timer_armed_ = false;
  bool closed_ = false;
};

}  // namespace sluice::server
