#include "storage/event_store.h"

#include <doctest/doctest.h>

#include "server/base/clock.h"

#include <filesystem>
#include <string>

using namespace sluice;
using namespace sluice::storage;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char pattern[] = "/tmp/sluice-store-test-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

void add_event(EventBatch& batch, int64_t ts, std::string_view host, std::string_view message) {
  Event& event = batch.events.emplace_back();
  event.timestamp_ns = ts;
  event.received_ns = ts;
  event.host = batch.arena.copy(host);
  event.message = batch.arena.copy(message);
  event.raw = event.message;
  event.first_field = static_cast<uint32_t>(batch.fields.size());
  batch.fields.push_back({"n", batch.arena.copy(std::to_string(ts))});
  event.field_count = 1;
}

SearchRequest request_for(std::string_view query_text, uint32_t limit = 100) {
  SearchRequest request;
  request.query = parse_query(query_text).value();
  request.limit = limit;
  return request;
}

}  // namespace

TEST_CASE("append, search newest first, and survive reopening") {
  TempDir dir;
  config::StoreOptions options;
  options.data_dir = dir.path.string();
  {
    auto store = EventStore::open(options);
    REQUIRE_MESSAGE(store.has_value(), store.error().message());
    EventBatch batch;
    // Three days, out of order, with two events at the same instant.
    add_event(batch, 3 * kNanosPerDay + 5, "a", "third day error");
    add_event(batch, 1 * kNanosPerDay, "b", "first day ok");
    add_event(batch, 2 * kNanosPerDay, "a", "second day error");
    add_event(batch, 2 * kNanosPerDay, "c", "second day twin");
    REQUIRE((*store)->append(batch).is_ok());

    auto all = (*store)->search(request_for(""));
    REQUIRE(all.has_value());
    REQUIRE(all->events.size() == 4);
    CHECK(all->events[0].message == "third day error");
    CHECK(all->events[3].message == "first day ok");
    CHECK(all->events[0].fields.at(0).value == std::to_string(3 * kNanosPerDay + 5));

    auto errors = (*store)->search(request_for("error host:a"));
    REQUIRE(errors.has_value());
    CHECK(errors->events.size() == 2);

    SearchRequest ranged = request_for("");
    ranged.from_ns = 2 * kNanosPerDay;
    ranged.to_ns = 2 * kNanosPerDay;
    auto in_range = (*store)->search(ranged);
    REQUIRE(in_range.has_value());
    CHECK(in_range->events.size() == 2);

    auto limited = (*store)->search(request_for("", 1));
    REQUIRE(limited.has_value());
    CHECK(limited->events.size() == 1);
    REQUIRE((*store)->flush().is_ok());
  }
  auto reopened = EventStore::open(options);
  REQUIRE(reopened.has_value());
  EventBatch more;
  // Same timestamp as an existing event: a new run must not overwrite it.
  add_event(more, 2 * kNanosPerDay, "d", "after restart");
  REQUIRE((*reopened)->append(more).is_ok());
  auto all = (*reopened)->search(request_for(""));
  REQUIRE(all.has_value());
  CHECK(all->events.size() == 5);
}

TEST_CASE("opening fails clearly when the data dir cannot be created") {
  config::StoreOptions options;
  options.data_dir = "/proc/version/sluice";
  auto store = EventStore::open(options);
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().message().find("data dir /proc/version/sluice: cannot create") == 0);
}

TEST_CASE("an expired deadline returns partial results") {
  TempDir dir;
  config::StoreOptions options;
  options.data_dir = dir.path.string();
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  EventBatch batch;
  for (int i = 0; i < 5000; ++i) add_event(batch, i, "h", "no match here");
  REQUIRE((*store)->append(batch).is_ok());
  SearchRequest request = request_for("needle");
  request.deadline_monotonic_ns = 0;
  auto result = (*store)->search(request);
  REQUIRE(result.has_value());
  CHECK(result->partial);
  CHECK(result->events.empty());
}
