#include "storage/event_store.h"

#include <doctest/doctest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "server/base/clock.h"
#include "storage/event_codec.h"
#include "storage/keys.h"
#include "tests/temp_dir.h"

using namespace sluice;
using namespace sluice::storage;

namespace {

using sluice::testing::TempDir;

void add_event(EventBatch& batch, int64_t ts, std::string_view host, std::string_view message,
               uint8_t severity = kUnknownSeverity) {
  Event& event = batch.events.emplace_back();
  event.timestamp_ns = ts;
  event.received_ns = ts;
  event.host = batch.arena.copy(host);
  event.message = batch.arena.copy(message);
  event.raw = event.message;
  event.severity = severity;
  event.first_field = static_cast<uint32_t>(batch.fields.size());
  batch.fields.push_back({"n", batch.arena.copy(std::to_string(ts))});
  event.field_count = 1;
}

SearchRequest request_for(std::string_view query_text, uint32_t limit = 100) {
  SearchRequest request;
  auto query = parse_query(query_text);
  REQUIRE_MESSAGE(query.has_value(), query.error().message());
  request.query = std::move(query.value());
  request.limit = limit;
  return request;
}

// A clock the test moves by hand.
struct FakeClock {
  int64_t now = 100 * kNanosPerDay;
  EventStore::NowFn fn() {
    return [this] { return now; };
  }
};

config::StoreOptions options_in(const TempDir& dir) {
  config::StoreOptions options;
  options.data_dir = dir.path;
  options.retention_days = 0;
  return options;
}

std::vector<std::string> messages_of(const SearchResult& result) {
  std::vector<std::string> out;
  for (const auto& event : result.events) out.push_back(event.message);
  return out;
}

}  // namespace

TEST_CASE("append, search newest first, and survive reopening") {
  TempDir dir;
  const config::StoreOptions options = options_in(dir);
  {
    auto store = EventStore::open(options);
    REQUIRE_MESSAGE(store.has_value(), store.error().message());
    EventBatch batch;
    // Three days, out of order, with two events at the same instant.
    add_event(batch, 3 * kNanosPerDay + 5, "a", "third day error");
    add_event(batch, 1 * kNanosPerDay, "b", "first day ok");
    add_event(batch, 2 * kNanosPerDay, "a", "second day error");
    add_event(batch, 2 * kNanosPerDay, "c", "second day twin");
    REQUIRE((*store)->append(batch, 1).is_ok());

    // Searchable at once, from the in-memory buffers.
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
    CHECK((*store)->stats().blocks_written == 3);
    CHECK((*store)->stats().buffered_events == 0);
    // The same answers from blocks.
    auto from_blocks = (*store)->search(request_for("error host:a"));
    REQUIRE(from_blocks.has_value());
    CHECK(messages_of(*from_blocks) == std::vector<std::string>{"third day error", "second day error"});
  }
  auto reopened = EventStore::open(options);
  REQUIRE(reopened.has_value());
  CHECK((*reopened)->replay_from() == 2);
  EventBatch more;
  add_event(more, 2 * kNanosPerDay, "d", "after restart");
  REQUIRE((*reopened)->append(more, 2).is_ok());
  auto all = (*reopened)->search(request_for(""));
  REQUIRE(all.has_value());
  CHECK(all->events.size() == 5);
  auto partitions = (*reopened)->partitions();
  REQUIRE(partitions.size() == 3);
  CHECK(partitions[1].day == 2);
  CHECK(partitions[1].events == 2);
  CHECK(partitions[1].buffered_events == 1);
}

TEST_CASE("words are tokens, phrases are token sequences, ignoring case") {
  TempDir dir;
  auto store = EventStore::open(options_in(dir));
  REQUIRE(store.has_value());
  EventBatch batch;
  add_event(batch, 1, "h", "Error: disk /dev/sda1 failed");
  add_event(batch, 2, "h", "errors were corrected");
  add_event(batch, 3, "h", "connection from web-01.example.com closed");
  add_event(batch, 4, "h", "a a a b");
  REQUIRE((*store)->append(batch, 1).is_ok());
  for (bool flushed : {false, true}) {
    CAPTURE(flushed);
    auto count = [&](std::string_view q) { return (*store)->search(request_for(q))->events.size(); };
    CHECK(count("error") == 1);
    CHECK(count("ERROR") == 1);
    CHECK(count("errors") == 1);
    CHECK(count("err") == 0);
    CHECK(count("sda1") == 1);
    CHECK(count("\"disk /dev/sda1\"") == 1);
    CHECK(count("\"sda1 disk\"") == 0);
    CHECK(count("web-01") == 1);
    CHECK(count("\"web 01 example\"") == 1);
    CHECK(count("\"a a b\"") == 1);
    CHECK(count("raw:\"DISK /DEV\"") == 1);
    CHECK(count("-error") == 3);
    REQUIRE((*store)->flush().is_ok());
  }
}

TEST_CASE("blocks a query cannot match are skipped without reading them") {
  TempDir dir;
  config::StoreOptions options = options_in(dir);
  options.block_max_events = 100;
  options.indexed_fields = {"n"};
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  EventBatch batch;
  for (int i = 0; i < 1000; ++i) {
    add_event(batch, 1000 + i, "host" + std::to_string(i / 100), "request " + std::to_string(i) + " served",
              static_cast<uint8_t>(i % 8));
  }
  REQUIRE((*store)->append(batch, 1).is_ok());
  REQUIRE((*store)->flush().is_ok());
  CHECK((*store)->stats().blocks_written == 10);

  auto rare = (*store)->search(request_for("request 537"));
  REQUIRE(rare.has_value());
  REQUIRE(rare->events.size() == 1);
  CHECK(rare->events[0].message == "request 537 served");
  CHECK(rare->blocks_total == 10);
  CHECK(rare->blocks_skipped >= 8);  // the filter's false positives are rare

  auto by_host = (*store)->search(request_for("host:HOST3", 1000));
  REQUIRE(by_host.has_value());
  CHECK(by_host->events.size() == 100);
  CHECK(by_host->blocks_skipped == 9);  // postings rule out every other block

  auto by_number = (*store)->search(request_for("severity:03 host:host3", 1000));
  REQUIRE(by_number.has_value());
  CHECK(by_number->events.size() == 12);  // "03" is the code 3, as unfiltered matching says

  auto by_severity = (*store)->search(request_for("severity:err host:host3", 1000));
  REQUIRE(by_severity.has_value());
  CHECK(by_severity->events.size() == 12);  // i % 8 == 3 within 300..399
  for (const auto& event : by_severity->events) CHECK(event.severity == 3);

  auto by_field = (*store)->search(request_for("n:1537"));
  REQUIRE(by_field.has_value());
  CHECK(by_field->events.size() == 1);
  CHECK(by_field->blocks_skipped == 9);

  auto none = (*store)->search(request_for("nosuchword"));
  REQUIRE(none.has_value());
  CHECK(none->events.empty());
  CHECK(none->blocks_skipped >= 9);
}

TEST_CASE("Bloom and fingerprint filters side by side; filters are read from disk once, then kept") {
  TempDir dir;
  config::StoreOptions options = options_in(dir);
  options.block_max_events = 100;
  options.filter = "bloom";
  auto add_range = [](EventStore& store, int from, int to, uint64_t seq) {
    EventBatch batch;
    for (int i = from; i < to; ++i) add_event(batch, 1000 + i, "h", "request r" + std::to_string(i) + " served", 6);
    REQUIRE(store.append(batch, seq).is_ok());
    REQUIRE(store.flush().is_ok());
  };
  {
    auto store = EventStore::open(options);
    REQUIRE(store.has_value());
    add_range(**store, 0, 1000, 1);  // ten blocks with Bloom filters
  }
  options.filter = "fingerprint";
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  add_range(**store, 1000, 2000, 2);  // ten with fingerprint filters
  CHECK((*store)->stats().filter_reads == 0);
  for (int i = 0; i < 2000; i += 37) {
    auto found = (*store)->search(request_for(std::string("r").append(std::to_string(i))));
    REQUIRE(found.has_value());
    REQUIRE(found->events.size() == 1);
    CHECK(found->events[0].message == "request r" + std::to_string(i) + " served");
    CHECK(found->blocks_total == 20);
    CHECK(found->blocks_skipped >= 17);
  }
  // Every filter was read once, by the first search; the rest probed memory.
  CHECK((*store)->stats().filter_reads == 20);
  CHECK((*store)->stats().filter_cache_bytes > 0);

  // With no room for filters, every search reads them again.
  options.filter_cache_bytes = 0;
  store->reset();
  auto uncached = EventStore::open(options);
  REQUIRE(uncached.has_value());
  for (int round = 1; round <= 2; ++round) {
    auto found = (*uncached)->search(request_for("r1999"));
    REQUIRE(found.has_value());
    CHECK(found->events.size() == 1);
    CHECK((*uncached)->stats().filter_reads == 20u * round);
  }
  CHECK((*uncached)->stats().filter_cache_bytes == 0);
}

TEST_CASE("a field with more values per block than postings list is still found") {
  TempDir dir;
  config::StoreOptions options = options_in(dir);
  options.indexed_fields = {"n"};
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  EventBatch batch;
  for (int i = 0; i < 5000; ++i) add_event(batch, 10 + i, "h", "event " + std::to_string(i));
  REQUIRE((*store)->append(batch, 1).is_ok());
  REQUIRE((*store)->flush().is_ok());
  for (int i : {0, 2500, 4999}) {
    auto found = (*store)->search(request_for("n:" + std::to_string(10 + i)));
    REQUIRE(found.has_value());
    REQUIRE(found->events.size() == 1);
    CHECK(found->events[0].message == "event " + std::to_string(i));
  }
}

TEST_CASE("a rare word's part of a block is read alone, and the answers are a brute-force scan's") {
  TempDir dir;
  config::StoreOptions options = options_in(dir);
  options.block_max_events = 4096;  // parts of 256 events
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  std::mt19937_64 random(9);
  const std::vector<std::string> words = {"alpha", "beta", "gamma", "delta"};
  std::vector<std::string> messages;
  EventBatch batch;
  for (int i = 0; i < 8192; ++i) {
    char id[24];
    std::snprintf(id, sizeof id, "id%016llx", static_cast<unsigned long long>(random()));
    messages.push_back(std::string(id) + " " + words[random() % words.size()] + " took " +
                       std::to_string(random() % 1000) + "ms");
    add_event(batch, 1'000'000 + i * 1000, "web", messages.back());
  }
  REQUIRE((*store)->append(batch, 1).is_ok());
  REQUIRE((*store)->flush().is_ok());
  CHECK((*store)->stats().blocks_written == 2);
  auto brute = [&](const SearchRequest& request) {
    std::vector<std::string> expected;
    for (size_t i = messages.size(); i-- > 0;) {
      EventView view;
      view.host = "web";
      view.message = view.raw = messages[i];
      if (query_matches(request.query, view)) expected.push_back(messages[i]);
    }
    return expected;
  };
  uint64_t scanned = 0;
  for (int k = 0; k < 60; ++k) {
    const size_t a = random() % messages.size(), b = random() % messages.size();
    const std::string id_a = messages[a].substr(0, 18), id_b = messages[b].substr(0, 18);
    const std::string word_a = messages[a].substr(19, messages[a].find(' ', 19) - 19);
    for (const std::string& text : {id_a, id_a + " " + word_a, id_a + " " + id_b, id_a + " OR " + id_b,
                                    "\"" + id_a + " " + word_a + "\"", id_a + " -" + word_a}) {
      CAPTURE(text);
      const SearchRequest request = request_for(text, 100);
      auto result = (*store)->search(request);
      REQUIRE(result.has_value());
      CHECK(messages_of(*result) == brute(request));
      if (text == id_a) scanned += result->scanned;
    }
  }
  // A rare word reads its part: 256 of a block's 4096 events (a false hit
  // of the other block's filter may add a part, 1 time in ~3,800).
  CHECK(scanned <= 60 * 256 + 256);
  // Histograms of a rare word count its part's events only, and right.
  HistogramRequest histogram;
  histogram.query = request_for(messages[5000].substr(0, 18)).query;
  histogram.from_ns = 0;
  histogram.to_ns = 20'000'000'000;
  histogram.interval_ns = 1'000'000'000;
  auto counted = (*store)->histogram(histogram);
  REQUIRE(counted.has_value());
  CHECK(counted->total == 1);
  CHECK(counted->scanned <= 512);
}

TEST_CASE("results match a brute-force scan, across buffers, blocks and a reopen") {
  TempDir dir;
  config::StoreOptions options = options_in(dir);
  options.block_max_events = 64;
  std::mt19937_64 random(7);
  const std::vector<std::string> words = {"alpha", "beta", "gamma", "delta", "error", "warn", "GET", "POST"};
  const std::vector<std::string> hosts = {"web1", "web2", "db", "cache"};

  struct Expected {
    int64_t ts;
    std::string host, message;
    uint8_t severity;
  };
  std::vector<Expected> all;
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  uint64_t seq = 0;
  for (int b = 0; b < 30; ++b) {
    EventBatch batch;
    for (int i = 0; i < 40; ++i) {
      // Three days, arriving out of order.
      const int64_t ts = static_cast<int64_t>(random() % (3 * kNanosPerDay));
      std::string message;
      for (int w = 0; w < 4; ++w) message += (w ? " " : "") + words[random() % words.size()];
      const std::string& host = hosts[random() % hosts.size()];
      const uint8_t severity = static_cast<uint8_t>(random() % 8);
      add_event(batch, ts, host, message, severity);
      all.push_back({ts, host, message, severity});
    }
    REQUIRE((*store)->append(batch, ++seq).is_ok());
    if (b % 7 == 3) REQUIRE((*store)->flush().is_ok());
  }

  auto check_queries = [&](EventStore& s) {
    const std::vector<std::string> queries = {
        "", "alpha", "\"alpha beta\"", "host:web1", "-host:web1 error", "severity:warning",
        "GET host:db", "\"gamma gamma\"", "NOT alpha NOT beta", "severity:3 host:cache post",
    };
    for (const std::string& text : queries) {
      for (uint32_t limit : {5u, 100000u}) {
        CAPTURE(text);
        CAPTURE(limit);
        SearchRequest request = request_for(text, limit);
        request.from_ns = kNanosPerDay / 2;
        request.to_ns = 5 * kNanosPerDay / 2;
        std::vector<int64_t> expected;
        for (const Expected& event : all) {
          EventView view;
          view.timestamp_ns = event.ts;
          view.host = event.host;
          view.message = event.message;
          view.raw = event.message;
          view.severity = event.severity;
          if (event.ts >= request.from_ns && event.ts <= request.to_ns && query_matches(request.query, view)) {
            expected.push_back(event.ts);
          }
        }
        std::sort(expected.rbegin(), expected.rend());
        if (expected.size() > limit) expected.resize(limit);
        auto result = s.search(request);
        REQUIRE(result.has_value());
        std::vector<int64_t> got;
        for (const auto& event : result->events) got.push_back(event.timestamp_ns);
        CHECK(got == expected);
      }
    }
  };
  check_queries(**store);
  REQUIRE((*store)->flush().is_ok());
  check_queries(**store);
  store->reset();
  auto reopened = EventStore::open(options);
  REQUIRE(reopened.has_value());
  check_queries(**reopened);
}

TEST_CASE("replaying raw frames stores each event once") {
  TempDir dir;
  const config::StoreOptions options = options_in(dir);
  auto make_batch = [](int frame) {
    auto batch = std::make_unique<EventBatch>();
    // Frame 2 spans two days, so one day's blocks can cover it and the
    // other's not.
    add_event(*batch, (frame == 2 ? 2 : 1) * kNanosPerDay + frame, "h", "frame " + std::to_string(frame));
    add_event(*batch, kNanosPerDay + 100 + frame, "h", "frame " + std::to_string(frame) + " b");
    return batch;
  };
  {
    auto store = EventStore::open(options);
    REQUIRE(store.has_value());
    for (int frame = 1; frame <= 3; ++frame) REQUIRE((*store)->append(*make_batch(frame), frame).is_ok());
    REQUIRE((*store)->flush().is_ok());
    for (int frame = 4; frame <= 5; ++frame) REQUIRE((*store)->append(*make_batch(frame), frame).is_ok());
    // A crash: frames 4 and 5 were only buffered.
  }
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  CHECK((*store)->replay_from() == 4);
  // A replay that starts earlier than needed is harmless too.
  for (int frame = 2; frame <= 5; ++frame) REQUIRE((*store)->append(*make_batch(frame), frame).is_ok());
  auto all = (*store)->search(request_for("frame", 1000));
  REQUIRE(all.has_value());
  CHECK(all->events.size() == 10);
  CHECK((*store)->stats().events_skipped_on_replay == 4);
}

TEST_CASE("one flush step writes one block's worth per partition, oldest first; replay resumes after it") {
  TempDir dir;
  config::StoreOptions options = options_in(dir);
  options.block_max_events = 100;
  auto make_batch = [](int frame) {
    auto batch = std::make_unique<EventBatch>();
    for (int i = 0; i < 40; ++i) {
      add_event(*batch, kNanosPerDay + frame * 1000 + i, "h", "frame" + std::to_string(frame) + " e" + std::to_string(i));
    }
    return batch;
  };
  {
    auto store = EventStore::open(options);
    REQUIRE(store.has_value());
    // Ten frames of 40 events: 400 buffered, four blocks' worth of one day.
    for (int frame = 1; frame <= 10; ++frame) REQUIRE((*store)->append(*make_batch(frame), frame).is_ok());
    REQUIRE((*store)->flush_due(/*wait=*/true).is_ok());
    // Whole chunks only, at most 100 events: frames 1 and 2.
    CHECK((*store)->stats().blocks_written == 1);
    CHECK((*store)->stats().events_flushed == 80);
    CHECK((*store)->stats().buffered_events == 320);
    CHECK((*store)->replay_from() == 3);
    REQUIRE((*store)->flush_due(/*wait=*/true).is_ok());
    CHECK((*store)->stats().events_flushed == 160);
    CHECK((*store)->replay_from() == 5);
    // Everything is still searchable, from blocks and buffers.
    auto all = (*store)->search(request_for("e7", 1000));
    REQUIRE(all.has_value());
    CHECK(all->events.size() == 10);
    // A crash here: frames 5-10 were only buffered.
  }
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  CHECK((*store)->replay_from() == 5);
  for (int frame = 1; frame <= 10; ++frame) REQUIRE((*store)->append(*make_batch(frame), frame).is_ok());
  CHECK((*store)->stats().events_skipped_on_replay == 160);
  REQUIRE((*store)->flush().is_ok());
  CHECK((*store)->stats().buffered_events == 0);
  auto each = (*store)->search(request_for("e39", 1000));
  REQUIRE(each.has_value());
  CHECK(each->events.size() == 10);
}

TEST_CASE("retention drops partitions by age and by size, oldest first") {
  TempDir dir;
  FakeClock clock;
  config::StoreOptions options = options_in(dir);
  options.retention_days = 3;
  auto store = EventStore::open(options, clock.fn());
  REQUIRE(store.has_value());
  const int64_t today = clock.now / kNanosPerDay;
  EventBatch batch;
  for (int64_t day = today - 6; day <= today; ++day) {
    for (int i = 0; i < 200; ++i) {
      add_event(batch, day * kNanosPerDay + i * 1000, "h", "event of day " + std::to_string(day) + " n" + std::to_string(i));
    }
  }
  REQUIRE((*store)->append(batch, 1).is_ok());
  REQUIRE((*store)->flush().is_ok());
  REQUIRE((*store)->partitions().size() == 7);

  REQUIRE((*store)->enforce_retention().is_ok());
  auto left = (*store)->partitions();
  REQUIRE(left.size() == 4);
  CHECK(left.front().day == today - 3);
  CHECK((*store)->stats().partitions_dropped_age == 3);
  CHECK((*store)->search(request_for("day " + std::to_string(today - 4)))->events.empty());
  CHECK((*store)->search(request_for("day " + std::to_string(today - 3)))->events.size() == 100);

  // A day later, one more goes.
  clock.now += kNanosPerDay;
  REQUIRE((*store)->enforce_retention().is_ok());
  CHECK((*store)->partitions().size() == 3);

  // By size: cap at a bit more than one partition's bytes.
  store->reset();
  options.retention_days = 0;
  uint64_t one_partition = 0;
  {
    auto reopened = EventStore::open(options, clock.fn());
    REQUIRE(reopened.has_value());
    auto parts = (*reopened)->partitions();
    REQUIRE(parts.size() == 3);
    one_partition = parts.back().bytes;
    for (const auto& part : parts) MESSAGE("partition " << part.day << ": " << part.bytes << " bytes");
    CHECK(one_partition > 0);
  }
  options.max_disk_bytes = one_partition + one_partition / 2;
  auto capped = EventStore::open(options, clock.fn());
  REQUIRE(capped.has_value());
  REQUIRE((*capped)->enforce_retention().is_ok());
  auto remaining = (*capped)->partitions();
  REQUIRE(remaining.size() == 1);
  CHECK(remaining[0].day == today);
  CHECK((*capped)->stats().partitions_dropped_size == 2);
  CHECK((*capped)->search(request_for("day " + std::to_string(today)))->events.size() == 100);
}

TEST_CASE("a version-1 store is still read, and its days dropped") {
  TempDir dir;
  const config::StoreOptions options = options_in(dir);
  {
    // Write what format version 1 wrote: one key per event.
    std::filesystem::create_directories(dir / "store");
    rocksdb::Options db_options;
    db_options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(db_options, dir / "store", &db).ok());
    EventBatch batch;
    add_event(batch, kNanosPerDay + 10, "old", "legacy event one");
    add_event(batch, 2 * kNanosPerDay + 10, "old", "legacy event two");
    for (size_t i = 0; i < batch.events.size(); ++i) {
      char key[kEventKeyBytes];
      encode_event_key(batch.events[i].timestamp_ns, i + 1, key);
      std::string value;
      encode_event_value(batch.events[i], batch.fields_of(batch.events[i]), value);
      REQUIRE(db->Put(rocksdb::WriteOptions(), rocksdb::Slice(key, kEventKeyBytes), value).ok());
    }
    char version[4];
    detail::put_be32(version, 1);
    REQUIRE(db->Put(rocksdb::WriteOptions(), meta_key("format_version"), std::string_view(version, 4)).ok());
    delete db;
  }
  auto store = EventStore::open(options);
  REQUIRE_MESSAGE(store.has_value(), store.error().message());
  EventBatch batch;
  add_event(batch, 2 * kNanosPerDay + 20, "new", "new event");
  REQUIRE((*store)->append(batch, 1).is_ok());
  REQUIRE((*store)->flush().is_ok());
  auto all = (*store)->search(request_for("event"));
  REQUIRE(all.has_value());
  CHECK(messages_of(*all) == std::vector<std::string>{"new event", "legacy event two", "legacy event one"});
  CHECK((*store)->search(request_for("host:old"))->events.size() == 2);
  REQUIRE((*store)->drop_partition(1).is_ok());
  auto after_drop = (*store)->search(request_for("event"));
  REQUIRE(after_drop.has_value());
  CHECK(messages_of(*after_drop) == std::vector<std::string>{"new event", "legacy event two"});
}

TEST_CASE("a store written by a newer format is refused with a clear message") {
  TempDir dir;
  const config::StoreOptions options = options_in(dir);
  {
    std::filesystem::create_directories(dir / "store");
    rocksdb::Options db_options;
    db_options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(db_options, dir / "store", &db).ok());
    char version[4];
    detail::put_be32(version, kStoreFormatVersion + 1);
    REQUIRE(db->Put(rocksdb::WriteOptions(), meta_key("format_version"), std::string_view(version, 4)).ok());
    delete db;
  }
  auto store = EventStore::open(options);
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().message().find("is newer than this binary reads") != std::string::npos);
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
  auto store = EventStore::open(options_in(dir));
  REQUIRE(store.has_value());
  EventBatch batch;
  for (int i = 0; i < 5000; ++i) add_event(batch, i, "h", "no match here");
  REQUIRE((*store)->append(batch, 1).is_ok());
  SearchRequest request = request_for("needle");
  request.deadline_monotonic_ns = 0;
  auto result = (*store)->search(request);
  REQUIRE(result.has_value());
  CHECK(result->partial);
  CHECK(result->events.empty());
}

TEST_CASE("cursor pages are disjoint, complete and stable under concurrent ingest") {
  TempDir dir;
  config::StoreOptions options = options_in(dir);
  options.block_max_events = 64;
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  std::mt19937 random(7);
  // 600 events on 40 distinct timestamps, a third of them exact duplicates
  // (same line, same receive time), half in blocks and half buffered.
  std::multiset<std::string> expected;
  for (int round = 0; round < 2; ++round) {
    EventBatch batch;
    for (int i = 0; i < 300; ++i) {
      const int64_t ts = kNanosPerDay + static_cast<int64_t>(random() % 40) * 1000;
      const std::string message = "page " + std::to_string(random() % 200);
      add_event(batch, ts, "h", message);
      expected.insert(std::to_string(ts) + "|" + message);
    }
    REQUIRE((*store)->append(batch, 0).is_ok());
    if (round == 0) REQUIRE((*store)->flush().is_ok());
  }
  std::multiset<std::string> seen;
  std::optional<SearchCursor> cursor;
  int64_t previous_ts = std::numeric_limits<int64_t>::max();
  int pages = 0;
  while (true) {
    SearchRequest request = request_for("page", 7);
    request.after = cursor;
    auto page = (*store)->search(request);
    REQUIRE(page.has_value());
    for (const auto& event : page->events) {
      CHECK(event.timestamp_ns <= previous_ts);  // newest first across pages
      previous_ts = event.timestamp_ns;
      seen.insert(std::to_string(event.timestamp_ns) + "|" + event.message);
    }
    ++pages;
    // Events arrive meanwhile, newer and older than every page: the newer
    // ones never show (the pages walk back in time), the older ones do.
    EventBatch more;
    add_event(more, 3 * kNanosPerDay + pages, "h", "page new");
    add_event(more, kNanosPerDay - 1000 - pages, "h", "page old");
    expected.insert(std::to_string(kNanosPerDay - 1000 - pages) + "|page old");
    REQUIRE((*store)->append(more, 0).is_ok());
    if (!page->next) {
      CHECK(page->events.size() < 7);
      break;
    }
    cursor = page->next;
    REQUIRE(pages < 1000);
  }
  // The old events added after the last page was read are not in it.
  for (int p = pages; p >= 1; --p) {
    if (seen.count(std::to_string(kNanosPerDay - 1000 - p) + "|page old") == 0) {
      expected.erase(expected.find(std::to_string(kNanosPerDay - 1000 - p) + "|page old"));
    }
  }
  CHECK(seen == expected);
  CHECK(pages > 80);
}

TEST_CASE("histogram counts match a brute-force count, from descriptors and from events") {
  TempDir dir;
  config::StoreOptions options = options_in(dir);
  options.block_max_events = 50;
  auto store = EventStore::open(options);
  REQUIRE(store.has_value());
  std::mt19937 random(11);
  std::vector<std::pair<int64_t, bool>> events;  // timestamp, has "needle"
  for (int round = 0; round < 3; ++round) {
    EventBatch batch;
    for (int i = 0; i < 400; ++i) {
      const int64_t ts = kNanosPerDay + static_cast<int64_t>(random() % (3 * kNanosPerDay));
      const bool needle = random() % 5 == 0;
      add_event(batch, ts, "h", needle ? "a needle here" : "hay");
      events.emplace_back(ts, needle);
    }
    // Sorted batches make blocks that lie inside one bucket.
    if (round == 0) {
      std::sort(batch.events.begin(), batch.events.end(),
                [](const Event& a, const Event& b) { return a.timestamp_ns < b.timestamp_ns; });
    }
    REQUIRE((*store)->append(batch, 0).is_ok());
    if (round < 2) REQUIRE((*store)->flush().is_ok());
  }
  auto extent = (*store)->time_extent();
  REQUIRE(extent.has_value());
  CHECK(extent->first == std::min_element(events.begin(), events.end())->first);
  CHECK(extent->second == std::max_element(events.begin(), events.end())->first);
  for (const char* text : {"", "needle"}) {
    for (int64_t interval : {kNanosPerDay / 24, kNanosPerDay / 7, kNanosPerDay * 5}) {
      HistogramRequest request;
      auto query = parse_query(text);
      REQUIRE(query.has_value());
      request.query = std::move(query.value());
      request.from_ns = kNanosPerDay + kNanosPerDay / 3;
      request.to_ns = 3 * kNanosPerDay + 17;
      request.interval_ns = interval;
      auto result = (*store)->histogram(request);
      REQUIRE(result.has_value());
      std::vector<uint64_t> want((request.to_ns - request.from_ns) / interval + 1, 0);
      uint64_t total = 0;
      for (const auto& [ts, needle] : events) {
        if (ts < request.from_ns || ts > request.to_ns || (*text != 0 && !needle)) continue;
        ++want[(ts - request.from_ns) / interval];
        ++total;
      }
      CHECK(result->counts == want);
      CHECK(result->total == total);
      CHECK_FALSE(result->partial);
    }
  }
  // A match-all histogram reads fewer blocks than there are.
  HistogramRequest all;
  all.from_ns = 0;
  all.to_ns = 10 * kNanosPerDay;
  all.interval_ns = 10 * kNanosPerDay;
  auto result = (*store)->histogram(all);
  REQUIRE(result.has_value());
  CHECK(result->total == events.size());
  CHECK(result->blocks_read == 0);
}

TEST_CASE("a cancelled search or histogram stops as at its deadline") {
  TempDir dir;
  auto store = EventStore::open(options_in(dir));
  REQUIRE(store.has_value());
  EventBatch batch;
  for (int i = 0; i < 50; ++i) add_event(batch, 1000 + i, "h", "request served", 6);
  REQUIRE((*store)->append(batch, 1).is_ok());
  std::atomic<bool> cancelled{false};
  SearchRequest search = request_for("served");
  search.cancelled = &cancelled;
  auto whole = (*store)->search(search);
  REQUIRE(whole.has_value());
  CHECK(whole->events.size() == 50);
  CHECK_FALSE(whole->partial);
  cancelled = true;
  auto stopped = (*store)->search(search);
  REQUIRE(stopped.has_value());
  CHECK(stopped->partial);
  CHECK(stopped->events.empty());

  HistogramRequest histogram;
  histogram.query = std::move(parse_query("served").value());
  histogram.from_ns = 0;
  histogram.to_ns = 10'000;
  histogram.interval_ns = 1000;
  histogram.cancelled = &cancelled;
  auto counted = (*store)->histogram(histogram);
  REQUIRE(counted.has_value());
  CHECK(counted->partial);
  CHECK(counted->total == 0);
  cancelled = false;
  counted = (*store)->histogram(histogram);
  REQUIRE(counted.has_value());
  CHECK_FALSE(counted->partial);
  CHECK(counted->total == 50);
}
