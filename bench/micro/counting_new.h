// A counting operator new for the micro-benchmarks: link counting_new.cc
// into a benchmark binary and read thread_allocations() around the timed
// work to report heap allocations per event. Per thread, so counting adds no
// shared cache line and threads do not see each other's allocations.
#pragma once

#include <cstdint>

namespace sluice::bench {

// Heap allocations made by the calling thread so far.
uint64_t thread_allocations();

}  // namespace sluice::bench
