#include "server/inputs/batch_builder.h"

namespace sluice::server {

BatchBuilder::BatchBuilder(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics,
                           const config::IngestOptions& options, InputId input)
    : queue_(queue), metrics_(metrics), options_(options), input_(input) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
}

void BatchBuilder::add(std::string_view frame, std::string_view peer, RecordFormat format,
                       bool truncated, int64_t received_ns) {
  if (!batch_) batch_ = queue_.acquire_batch();
  batch_->append(frame, peer, input_, format, truncated, received_ns);
  frame_bytes_in_batch_ += frame.size();
  if (truncated) ++truncated_in_batch_;
  if (batch_->records.size() >= options_.batch_max_events ||
      batch_->bytes.size() >= options_.batch_max_bytes) {
    flush();
    return;
  }
  if (!timer_armed_ && !closed_) {
    uv_timer_start(&timer_, &BatchBuilder::on_timer, options_.batch_max_age_ms, 0);
    timer_armed_ = true;
  }
}

void BatchBuilder::flush() {
  if (timer_armed_) {
    uv_timer_stop(&timer_);
    timer_armed_ = false;
  }
  if (!batch_ || batch_->records.empty()) return;
  const uint64_t records = batch_->records.size();
  PerInput& counters = metrics_.input(input_);
  if (on_handover_) on_handover_(*batch_);
  const auto result = queue_.push(batch_);
  if (result == IngestQueue::PushResult::kClosed) {
    // Only during shutdown, after inputs stopped: nothing should reach here.
    counters.dropped[static_cast<size_t>(DropReason::kQueueFull)].add(records);
    batch_->clear();
  } else {
    counters.received.add(records);
    counters.received_bytes.add(frame_bytes_in_batch_);
    if (truncated_in_batch_ != 0) counters.truncated.add(truncated_in_batch_);
  }
  truncated_in_batch_ = 0;
  frame_bytes_in_batch_ = 0;
  if (result == IngestQueue::PushResult::kAcceptedAboveHigh && on_backpressure_) on_backpressure_();
}

void BatchBuilder::close() {
  flush();
  closed_ = true;
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  }
}

void BatchBuilder::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<BatchBuilder*>(timer->data);
  self->timer_armed_ = false;
  self->flush();
}

}  // namespace sluice::server
