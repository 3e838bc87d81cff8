#include "server/parse_workers.h"

#include <chrono>
#include <cstdio>

#include "server/batch_parser.h"

namespace sluice::server {

ParseWorkers::ParseWorkers(IngestQueue& queue, EventSink& sink, ServerMetrics& metrics,
                           const config::IngestOptions& options, const PipelineHolder& pipelines)
    : queue_(queue), sink_(sink), metrics_(metrics), options_(options), pipelines_(pipelines) {}

ParseWorkers::~ParseWorkers() { join(); }

void ParseWorkers::start(unsigned count) {
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < count; ++i) threads_.emplace_back([this] { run(); });
}

void ParseWorkers::join() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void ParseWorkers::run() noexcept {
  BatchParser parser(options_, pipelines_);
  EventBatch events;
  BatchOutcome outcome;
  BatchTally tally;

  while (std::unique_ptr<RawBatch> raw = queue_.pop()) {
    parser.parse(*raw, events, outcome, tally);

    // A refused commit (a full disk, blocks that cannot be written) is
    // retried: meanwhile the queue fills and the inputs push back, so
    // nothing accepted is lost. Only a shutdown gives up, counted.
    auto committed = sink_.commit(*raw, events);
    auto backoff = std::chrono::milliseconds(50);
    uint64_t attempts = 1;
    while (!committed && !queue_.closed()) {
      if (attempts == 1 || attempts % 100 == 0) {
        std::fprintf(stderr, "sluice: %s; retrying (attempt %llu)\n", committed.error().message().c_str(),
                     static_cast<unsigned long long>(attempts));
      }
      metrics_.store_errors.add(1);
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      ++attempts;
      committed = sink_.commit(*raw, events);
    }
    const bool stored = committed.has_value();
    outcome.stored_ok = stored;
    outcome.stored = stored ? static_cast<uint32_t>(events.events.size()) : 0;
    if (stored) {
      metrics_.batches_stored.add(1);
    } else {
      std::fprintf(stderr, "sluice: shutting down with a batch the raw log refused: %s\n",
                   committed.error().message().c_str());
    }
    for (size_t i = 0; i < kInputCount; ++i) {
      PerInput& input = metrics_.input(static_cast<InputId>(i));
      if (tally[i].stored != 0) {
        if (stored) {
          input.stored.add(tally[i].stored);
        } else {
          input.dropped[static_cast<size_t>(DropReason::kShutdown)].add(tally[i].stored);
        }
      }
      if (tally[i].parse_failures != 0) input.parse_failures.add(tally[i].parse_failures);
      if (tally[i].rejected != 0) input.rejected.add(tally[i].rejected);
      for (size_t reason = 1; reason < parsers::kJsonErrorCount; ++reason) {
        if (tally[i].json_errors[reason] != 0) {
          input.count_json_error(static_cast<parsers::JsonError>(reason), tally[i].json_errors[reason]);
        }
      }
      if (tally[i].dropped_by_pipeline != 0) {
        input.dropped[static_cast<size_t>(DropReason::kPipelineDrop)].add(tally[i].dropped_by_pipeline);
      }
    }
    if (raw->on_stored) {
      if (stored) {
        // Acknowledge once the frame is on disk; the outcome's texts are
        // static, so a copy outlives this batch.
        sink_.when_durable(*committed, [on_stored = std::move(raw->on_stored), outcome](const Status& synced) {
          BatchOutcome final_outcome = outcome;
          if (!synced) {
            final_outcome.stored_ok = false;
            final_outcome.stored = 0;
          }
          on_stored(final_outcome);
        });
      } else {
        raw->on_stored(outcome);
      }
    }
    queue_.release_batch(std::move(raw));
  }
}

}  // namespace sluice::server
