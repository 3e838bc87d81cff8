#include "server/ingest_queue.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace sluice;
using namespace sluice::server;

namespace {
std::unique_ptr<RawBatch> batch_of(IngestQueue& queue, size_t bytes) {
  auto batch = queue.acquire_batch();
  batch->append(std::string(bytes, 'x'), "", InputId::kSyslogTcp, RecordFormat::kSyslog, false, 0);
  return batch;
}
}  // namespace

TEST_CASE("watermarks: high reports backpressure, drained below low calls back once") {
  ServerMetrics metrics;
  IngestQueue queue(10'000, metrics);
  int drained = 0;
  queue.set_on_drained([&] { ++drained; });
  auto a = batch_of(queue, 4000);
  CHECK(queue.push(a) == IngestQueue::PushResult::kAccepted);
  auto b = batch_of(queue, 4000);
  CHECK(queue.push(b) == IngestQueue::PushResult::kAccepted);
  auto c = batch_of(queue, 4000);
  CHECK(queue.push(c) == IngestQueue::PushResult::kAcceptedAboveHigh);
  CHECK(queue.above_high_watermark());
  CHECK(metrics.queue_batches.value() == 3);
  queue.release_batch(queue.pop());  // 8000 left: above low (5000)
  CHECK(drained == 0);
  CHECK(queue.above_high_watermark());
  queue.release_batch(queue.pop());  // 4000 left: below low
  CHECK(drained == 1);
  CHECK_FALSE(queue.above_high_watermark());
  queue.release_batch(queue.pop());
  CHECK(drained == 1);
  CHECK(metrics.queue_bytes.value() == 0);
}

TEST_CASE("close drains what is queued, then ends consumers; pushes fail") {
  ServerMetrics metrics;
  IngestQueue queue(1 << 20, metrics);
  std::atomic<int> consumed{0};
  std::thread consumer([&] {
    while (auto batch = queue.pop()) {
      consumed += static_cast<int>(batch->records.size());
      queue.release_batch(std::move(batch));
    }
  });
  for (int i = 0; i < 100; ++i) {
    auto batch = batch_of(queue, 10);
    REQUIRE(queue.push(batch) != IngestQueue::PushResult::kClosed);
  }
  queue.close();
  consumer.join();
  CHECK(consumed == 100);
  auto late = batch_of(queue, 10);
  CHECK(queue.push(late) == IngestQueue::PushResult::kClosed);
  CHECK(late != nullptr);  // the caller still owns a refused batch
}

TEST_CASE("pushed batches are padded for the JSON parser") {
  ServerMetrics metrics;
  IngestQueue queue(1 << 20, metrics);
  auto batch = batch_of(queue, 100);
  REQUIRE(queue.push(batch) == IngestQueue::PushResult::kAccepted);
  auto popped = queue.pop();
  CHECK(popped->bytes.capacity() >= popped->bytes.size() + kRawBatchPaddingBytes);
}
