// IngestQueue: the bounded hand-over of raw batches from the IO loops to the
// parse workers, plus the pool that recycles batches.
//
// Bounded in bytes with two watermarks. push() never blocks an IO loop: it
// always takes the batch, and tells the caller when the queue is at or above
// its high watermark so the caller applies backpressure (stream inputs stop
// reading, HTTP answers 429, UDP drops). When consumers bring it back below
// the low watermark (half the high one), `on_drained` runs once, on the
// consumer's thread, so the inputs can resume.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "server/base/raw_batch.h"
#include "server/metrics.h"

namespace sluice::server {

class IngestQueue {
 public:
  IngestQueue(uint64_t high_watermark_bytes, ServerMetrics& metrics);

  // Called on a consumer thread when the queue drains below the low
  // watermark after having reached the high one. Set before starting.
  void set_on_drained(std::function<void()> on_drained) { on_drained_ = std::move(on_drained); }

  // Enqueues `batch`. Returns false (and drops nothing: the caller keeps
  // ownership via the return) only after close(); see above for watermarks.
  enum class PushResult { kAccepted, kAcceptedAboveHigh, kClosed };
  PushResult push(std::unique_ptr<RawBatch>& batch);

  // Blocks until a batch is available; returns nullptr once the queue is
  // closed and empty.
  std::unique_ptr<RawBatch> pop();

  bool above_high_watermark() const;

  // After close(), pushes fail and pop() drains what is left, then ends.
  void close();
  bool closed() const;

  // A cleared batch, recycled if one is free.
  std::unique_ptr<RawBatch> acquire_batch();
  void release_batch(std::unique_ptr<RawBatch> batch);

 private:
  const uint64_t high_watermark_bytes_;
  const uint64_t low_watermark_bytes_;
  ServerMetrics& metrics_;
  std::function<void()> on_drained_;

  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::deque<std::unique_ptr<RawBatch>> batches_;
  uint64_t bytes_ = 0;
  bool closed_ = false;
  bool backpressure_ = false;  // reached high, not yet back below low

  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<RawBatch>> pool_;
};

}  // namespace sluice::server
