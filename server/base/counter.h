#pragma once

#include <atomic>
#include <cstdint>

namespace sluice {

// A monotonically increasing count, updated once per batch by whichever
// thread does the work and read by the /metrics renderer.
// Thread-safe: relaxed atomics, because a scrape needs no ordering with the
// data it counts.
class Counter {
 public:
  void add(uint64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (queue depth, bytes in flight).
// Thread-safe, like Counter.
class Gauge {
 public:
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(int64_t n) { value_.store(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

}  // namespace sluice
