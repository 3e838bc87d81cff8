#pragma once

#include <chrono>
#include <cstdint>

namespace sluice {

// Wall-clock time in nanoseconds since the Unix epoch: the unit of every
// timestamp sluice stores.
inline int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic time for deadlines and durations, never for stored timestamps.
inline int64_t monotonic_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;

}  // namespace sluice
