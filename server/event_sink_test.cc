// EventSink with a file layer that runs out of space: the raw log refuses
// batches without a torn frame, the workers hold them (the queue pushes back
// on the inputs), and everything is stored once space returns.
#include "server/event_sink.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "server/base/clock.h"
#include "server/ingest_queue.h"
#include "server/parse_workers.h"
#include "storage/file_layer.h"
#include "tests/temp_dir.h"

using namespace sluice;
using namespace sluice::server;

namespace {

using sluice::testing::TempDir;

config::ServerOptions options_in(const TempDir& dir) {
  config::ServerOptions options;
  options.store.data_dir = dir.path;
  options.store.retention_days = 0;
  return options;
}

void fill(RawBatch& batch, std::string_view tag, int first, int count) {
  batch.clear();
  for (int i = first; i < first + count; ++i) {
    const std::string line = "<13>1 2026-11-22T10:00:00Z host app - - - " + std::string(tag) + " n" +
                             std::to_string(i) + " padding to make the frame larger than a few bytes";
    batch.append(line, "127.0.0.1", InputId::kSyslogTcp, RecordFormat::kSyslog, false, wall_now_ns());
  }
  batch.bytes.reserve(batch.bytes.size() + kRawBatchPaddingBytes);
}

size_t count_of(EventSink& sink, std::string_view word) {
  storage::SearchRequest request;
  request.query = storage::parse_query(word).value();
  request.limit = 100000;
  auto result = sink.store().search(request);
  REQUIRE(result.has_value());
  return result->events.size();
}

template <typename Predicate>
bool wait_for(Predicate predicate, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return predicate();
}

}  // namespace

TEST_CASE("a full disk refuses a batch without tearing the raw log; space back, it is taken") {
  TempDir dir;
  const config::ServerOptions options = options_in(dir);
  storage::FaultInjectingFileSystem disk(storage::default_file_system());
  PipelineHolder pipelines;
  RawBatch raw;
  EventBatch events;
  BatchOutcome outcome;
  BatchTally tally;
  {
    ServerMetrics metrics;
    auto sink = EventSink::open(options, metrics, &disk);
    REQUIRE_MESSAGE(sink.has_value(), sink.error().message());
    BatchParser parser(options.ingest, pipelines);
    REQUIRE((*sink)->replay(parser).has_value());

    fill(raw, "before", 0, 100);
    parser.parse(raw, events, outcome, tally);
    REQUIRE((*sink)->commit(raw, events).has_value());

    disk.set_space_limit(100);  // less than one frame (its 44-byte header and payload)
    fill(raw, "during", 0, 100);
    parser.parse(raw, events, outcome, tally);
    auto refused = (*sink)->commit(raw, events);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message().find("No space left on device") != std::string::npos);
    CHECK(count_of(**sink, "during") == 0);  // nothing half-accepted
    CHECK(count_of(**sink, "before") == 100);

    disk.clear_space_limit();
    auto taken = (*sink)->commit(raw, events);
    REQUIRE_MESSAGE(taken.has_value(), taken.error().message());
    CHECK(count_of(**sink, "during") == 100);
    REQUIRE((*sink)->close(monotonic_now_ns()).is_ok());
  }
  // Every frame on disk reads back whole: no torn frame was left behind.
  auto segments = storage::list_segments(dir / "raw");
  REQUIRE(segments.has_value());
  uint64_t frames = 0, records = 0;
  for (const auto& segment : *segments) {
    auto reader = storage::RawSegmentReader::open(segment.path);
    REQUIRE(reader.has_value());
    uint64_t seq = 0;
    while (true) {
      auto more = reader->next(raw, seq);
      REQUIRE_MESSAGE(more.has_value(), more.error().message());
      if (!*more) break;
      ++frames;
      records += raw.records.size();
    }
  }
  CHECK(frames == 2);
  CHECK(records == 200);
  // And a restart finds each event once.
  ServerMetrics metrics;
  auto reopened = EventSink::open(options, metrics);
  REQUIRE(reopened.has_value());
  BatchParser parser(options.ingest, pipelines);
  REQUIRE((*reopened)->replay(parser).has_value());
  CHECK(count_of(**reopened, "before") == 100);
  CHECK(count_of(**reopened, "during") == 100);
}

TEST_CASE("while the disk is full the queue fills and holds; nothing is lost when space returns") {
  TempDir dir;
  const config::ServerOptions options = options_in(dir);
  storage::FaultInjectingFileSystem disk(storage::default_file_system());
  PipelineHolder pipelines;
  ServerMetrics metrics;
  auto sink = EventSink::open(options, metrics, &disk);
  REQUIRE(sink.has_value());
  BatchParser parser(options.ingest, pipelines);
  REQUIRE((*sink)->replay(parser).has_value());
  (*sink)->start();

  IngestQueue queue(64 * 1024, metrics);
  ParseWorkers workers(queue, **sink, metrics, options.ingest, pipelines);
  disk.set_space_limit(0);
  workers.start(2);

  // Push until the queue says it is above its bound: the inputs would stop
  // reading here (TCP) or answer 429 (HTTP).
  int batches = 0;
  bool above = false;
  while (!above && batches < 1000) {
    auto batch = queue.acquire_batch();
    fill(*batch, "held", batches * 100, 100);
    above = queue.push(batch) == IngestQueue::PushResult::kAcceptedAboveHigh;
    ++batches;
  }
  REQUIRE(above);
  // The workers met the full disk and hold their batches.
  REQUIRE(wait_for([&] { return metrics.store_errors.value() >= 2; }, std::chrono::seconds(30)));
  CHECK(metrics.input(InputId::kSyslogTcp).stored.value() == 0);
  CHECK(count_of(**sink, "held") == 0);

  disk.clear_space_limit();
  const uint64_t expected = static_cast<uint64_t>(batches) * 100;
  CHECK(wait_for([&] { return metrics.input(InputId::kSyslogTcp).stored.value() == expected; },
                 std::chrono::seconds(30)));
  queue.close();
  workers.join();
  CHECK(count_of(**sink, "held") == expected);
  REQUIRE((*sink)->close(monotonic_now_ns()).is_ok());
}

TEST_CASE("raw retention deletes a segment only once it is in blocks and, with an archive, uploaded") {
  auto segment_files = [](const TempDir& dir) {
    size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir / "raw")) {
      if (entry.path().extension() == ".seg") ++count;
    }
    return count;
  };
  PipelineHolder pipelines;
  RawBatch raw;
  EventBatch events;
  BatchOutcome outcome;
  BatchTally tally;

  for (bool with_archive : {false, true}) {
    CAPTURE(with_archive);
    TempDir dir;
    config::ServerOptions options = options_in(dir);
    options.raw.max_bytes = 1;  // every closed segment is over the cap
    if (with_archive) {
      // Nothing listens on port 1: every upload fails.
      options.archive.endpoint = "http://127.0.0.1:1";
      options.archive.bucket = "logs";
      options.archive.access_key_id = "key";
      options.archive.secret_access_key = "secret";
    }
    ServerMetrics metrics;
    auto sink = EventSink::open(options, metrics);
    REQUIRE_MESSAGE(sink.has_value(), sink.error().message());
    BatchParser parser(options.ingest, pipelines);
    fill(raw, "kept", 0, 10);
    parser.parse(raw, events, outcome, tally);
    REQUIRE((*sink)->commit(raw, events).has_value());
    REQUIRE((*sink)->raw_log().rotate().is_ok());
    REQUIRE(segment_files(dir) == 1);

    // Closed, but its events are only buffered: it must stay.
    REQUIRE((*sink)->maintain().is_ok());
    CHECK(segment_files(dir) == 1);

    REQUIRE((*sink)->store().flush().is_ok());
    REQUIRE((*sink)->maintain().is_ok());
    CHECK(segment_files(dir) == (with_archive ? 1u : 0u));  // not uploaded: kept
    CHECK(count_of(**sink, "kept") == 10);
    // Closing with an unreachable archive reports the segment left behind.
    const Status closed = (*sink)->close(monotonic_now_ns());
    CHECK(closed.is_ok() == !with_archive);
  }
}
