// Blocks encoded by several threads at once are still written in order:
// every event lands in exactly one block, and the replay point and the
// days' checkpoints end where the appended frames end.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "server/base/clock.h"
#include "storage/event_store.h"
#include "tests/temp_dir.h"

using namespace sluice;
using namespace sluice::storage;

namespace {

std::unique_ptr<EventBatch> frame_batch(int frame, int events) {
  auto batch = std::make_unique<EventBatch>();
  for (int i = 0; i < events; ++i) {
    Event& event = batch->events.emplace_back();
    // Two days, so that jobs of two partitions interleave.
    event.timestamp_ns = (1 + i % 2) * kNanosPerDay + frame * 1000 + i;
    event.received_ns = event.timestamp_ns;
    event.host = batch->arena.copy("h");
    event.message = batch->arena.copy("frame" + std::to_string(frame) + " marker");
    event.raw = event.message;
    event.first_field = 0;
    event.field_count = 0;
  }
  return batch;
}

size_t count_of(EventStore& store, std::string_view word) {
  SearchRequest request;
  auto query = parse_query(word);
  REQUIRE(query.has_value());
  request.query = std::move(query.value());
  request.limit = 1000000;
  auto result = store.search(request);
  REQUIRE_MESSAGE(result.has_value(), result.error().message());
  return result->events.size();
}

}  // namespace

TEST_CASE("concurrent flush steps write every event once, in order, and replay resumes after them") {
  sluice::testing::TempDir dir;
  config::StoreOptions options;
  options.data_dir = dir.path;
  options.retention_days = 0;
  options.block_max_events = 100;
  constexpr int kFrames = 300;
  constexpr int kEventsPerFrame = 30;
  {
    auto opened = EventStore::open(options);
    REQUIRE(opened.has_value());
    EventStore& store = **opened;
    std::atomic<bool> appending{true};
    std::atomic<int> flush_failures{0};
    auto flusher = [&](bool wait) {
      while (appending.load()) {
        if (!store.flush_due(wait, /*everything=*/wait)) flush_failures.fetch_add(1);
      }
    };
    std::vector<std::thread> flushers;
    flushers.emplace_back(flusher, false);
    flushers.emplace_back(flusher, false);
    flushers.emplace_back(flusher, true);
    for (int frame = 1; frame <= kFrames; ++frame) {
      REQUIRE(store.append(*frame_batch(frame, kEventsPerFrame), static_cast<uint64_t>(frame)).is_ok());
      if (frame % 7 == 0) REQUIRE(store.flush_due(/*wait=*/false).is_ok());
    }
    appending.store(false);
    for (std::thread& thread : flushers) thread.join();
    CHECK(flush_failures.load() == 0);
    REQUIRE(store.flush().is_ok());
    const StoreStats stats = store.stats();
    CHECK(stats.buffered_events == 0);
    CHECK(stats.events_flushed == uint64_t{kFrames} * kEventsPerFrame);
    CHECK(stats.flush_errors == 0);
    CHECK(store.replay_from() == kFrames + 1);
    CHECK(count_of(store, "marker") == size_t{kFrames} * kEventsPerFrame);
    CHECK(count_of(store, "frame150") == kEventsPerFrame);
  }
  auto reopened = EventStore::open(options);
  REQUIRE(reopened.has_value());
  EventStore& store = **reopened;
  CHECK(store.replay_from() == kFrames + 1);
  CHECK(count_of(store, "marker") == size_t{kFrames} * kEventsPerFrame);
  // Every day's checkpoint covers every frame: a full replay adds nothing.
  for (int frame = 1; frame <= kFrames; ++frame) {
    REQUIRE(store.append(*frame_batch(frame, kEventsPerFrame), static_cast<uint64_t>(frame)).is_ok());
  }
  CHECK(store.stats().events_skipped_on_replay == uint64_t{kFrames} * kEventsPerFrame);
  CHECK(count_of(store, "marker") == size_t{kFrames} * kEventsPerFrame);
}
