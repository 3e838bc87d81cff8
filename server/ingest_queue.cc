#include "server/ingest_queue.h"

namespace sluice::server {

// Enough recycled batches for every worker and input to hold one; beyond
// that, memory goes back to the allocator (a batch keeps up to
// ingest.batch_max_bytes of capacity).
constexpr size_t kMaxPooledBatches = 16;

IngestQueue::IngestQueue(uint64_t high_watermark_bytes, ServerMetrics& metrics)
    : high_watermark_bytes_(high_watermark_bytes),
      low_watermark_bytes_(high_watermark_bytes / 2),
      metrics_(metrics) {}

IngestQueue::PushResult IngestQueue::push(std::unique_ptr<RawBatch>& batch) {
  // Parsers may read a little past the last record (see kRawBatchPaddingBytes).
  batch->bytes.reserve(batch->bytes.size() + kRawBatchPaddingBytes);
  const uint64_t size = batch->size_bytes();
  bool above;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return PushResult::kClosed;
    bytes_ += size;
    batches_.push_back(std::move(batch));
    above = bytes_ >= high_watermark_bytes_;
    if (above) backpressure_ = true;
    metrics_.queue_bytes.set(static_cast<int64_t>(bytes_));
    metrics_.queue_batches.set(static_cast<int64_t>(batches_.size()));
  }
  not_empty_.notify_one();
  return above ? PushResult::kAcceptedAboveHigh : PushResult::kAccepted;
}

std::unique_ptr<RawBatch> IngestQueue::pop() {
  std::unique_ptr<RawBatch> batch;
  bool drained = false;
  {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !batches_.empty() || closed_; });
    if (batches_.empty()) return nullptr;
    batch = std::move(batches_.front());
    batches_.pop_front();
    bytes_ -= batch->size_bytes();
    if (backpressure_ && bytes_ < low_watermark_bytes_) {
      backpressure_ = false;
      drained = true;
    }
    metrics_.queue_bytes.set(static_cast<int64_t>(bytes_));
    metrics_.queue_batches.set(static_cast<int64_t>(batches_.size()));
  }
  if (drained && on_drained_) on_drained_();
  return batch;
}

bool IngestQueue::above_high_watermark() const {
  std::lock_guard lock(mutex_);
  return backpressure_;
}

void IngestQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  not_empty_.notify_all();
}

bool IngestQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::unique_ptr<RawBatch> IngestQueue::acquire_batch() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      auto batch = std::move(pool_.back());
      pool_.pop_back();
      return batch;
    }
  }
  return std::make_unique<RawBatch>();
}

void IngestQueue::release_batch(std::unique_ptr<RawBatch> batch) {
  batch->clear();
  std::lock_guard lock(pool_mutex_);
  if (pool_.size() < kMaxPooledBatches) pool_.push_back(std::move(batch));
}

}  // namespace sluice::server
