// ParseWorkers: the threads that turn raw batches into events and store them.
//
// Each worker owns its parsing state (BatchParser, event batch and its
// arena) for life, so steady-state parsing allocates nothing per event. One
// batch in, one commit to the EventSink (raw log + store) and one set of
// counter updates out; acknowledgements follow the raw log's fsync.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "config/options.h"
#include "server/ingest_queue.h"
#include "server/metrics.h"
#include "server/pipeline_holder.h"
#include "server/event_sink.h"

namespace sluice::server {

class ParseWorkers {
 public:
  ParseWorkers(IngestQueue& queue, EventSink& sink, ServerMetrics& metrics,
               const config::IngestOptions& options, const PipelineHolder& pipelines);
  ~ParseWorkers();

  // Starts `count` threads (0 = one per core).
  void start(unsigned count);
  // Returns once the queue is closed and every batch is stored.
  void join();

 private:
  void run() noexcept;

  IngestQueue& queue_;
  EventSink& sink_;
  ServerMetrics& metrics_;
  const config::IngestOptions options_;
  const PipelineHolder& pipelines_;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::server
