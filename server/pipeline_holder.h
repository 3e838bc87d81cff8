// PipelineHolder: the pipelines in force, swapped whole on SIGHUP.
//
// Workers check generation() once per batch (one relaxed atomic load) and
// fetch the new set only when it changed, so a reload costs nothing on the
// hot path and never blocks ingest. A set stays alive while any worker
// still holds it.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "parsers/pipeline.h"

namespace sluice::server {

class PipelineHolder {
 public:
  void set(std::shared_ptr<const parsers::PipelineSet> pipelines) {
    std::lock_guard lock(mutex_);
    pipelines_ = std::move(pipelines);
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const parsers::PipelineSet> get() const {
    std::lock_guard lock(mutex_);
    return pipelines_;
  }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const parsers::PipelineSet> pipelines_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace sluice::server
