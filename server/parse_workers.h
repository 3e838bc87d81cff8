// ParseWorkers: the threads that turn raw batches into events and store them.
//
// Each worker owns its parsing state (simdjson parser, event batch and its
// arena) for life, so steady-state parsing allocates nothing per event. One
// batch in, one store write and one set of counter updates out.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "config/options.h"
#include "server/ingest_queue.h"
#include "server/metrics.h"
#include "server/pipeline_holder.h"
#include "storage/event_store.h"

namespace sluice::server {

class ParseWorkers {
 public:
  ParseWorkers(IngestQueue& queue, storage::EventStore& store, ServerMetrics& metrics,
               const config::IngestOptions& options, const PipelineHolder& pipelines);
  ~ParseWorkers();

  // Starts `count` threads (0 = one per core).
  void start(unsigned count);
  // Returns once the queue is closed and every batch is stored.
  void join();

 private:
  void run() noexcept;

  IngestQueue& queue_;
  storage::EventStore& store_;
  ServerMetrics& metrics_;
  const config::IngestOptions options_;
  const PipelineHolder& pipelines_;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::server
