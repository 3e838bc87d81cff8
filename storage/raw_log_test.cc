#include "storage/raw_log.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <zstd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/base/clock.h"
#include "storage/file_layer.h"
#include "tests/temp_dir.h"

using namespace sluice;
using namespace sluice::storage;

namespace {

using sluice::testing::TempDir;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::string read_bytes(const std::string& path) {
  auto bytes = default_file_system().read_file(path);
  REQUIRE_MESSAGE(bytes.has_value(), bytes.error().message());
  return *bytes;
}

void write_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string segment_name(uint64_t id, bool closed) {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx%s", static_cast<unsigned long long>(id),
                closed ? ".seg" : ".open");
  return name;
}

// A batch with every kind of record: empty and binary frames, with and
// without a peer, each input and format, truncated or not, negative times.
RawBatch make_batch(uint32_t seed, size_t records) {
  std::mt19937 rng(seed);
  RawBatch batch;
  for (size_t i = 0; i < records; ++i) {
    std::string frame;
    if (i % 7 != 3) {
      size_t length = rng() % 300;
      if (i % 11 == 5) length = 70000;  // longer than a 16-bit length
      for (size_t b = 0; b < length; ++b) frame.push_back(static_cast<char>(rng()));
    }
    // Runs of records from one peer (shared in the batch), some without one.
    const size_t run = i / 3;
    std::string peer = run % 5 == 0 ? ""
                                    : "10.0." + std::to_string(run * 37 % 256) + ".1:" +
                                          std::to_string((seed + run * 7919) % 65536);
    int64_t received =
        1'700'000'000 * kNanosPerSecond + static_cast<int64_t>(rng() % 1'000'000'000);
    if (i % 13 == 9) received = -static_cast<int64_t>(rng());
    batch.append(frame, peer, static_cast<InputId>(i % kInputCount),
                 i % 2 ? RecordFormat::kJson : RecordFormat::kSyslog, i % 3 == 0, received);
  }
  return batch;
}

// One small record naming its writer thread and index, for the concurrency tests.
RawBatch tagged_batch(int thread, int index, int64_t received_ns) {
  RawBatch batch;
  batch.append("<13>thread " + std::to_string(thread) + " message " + std::to_string(index),
               "127.0.0.1:514", InputId::kSyslogTcp, RecordFormat::kSyslog, false, received_ns);
  return batch;
}

void check_same_batch(const RawBatch& expected, const RawBatch& actual) {
  REQUIRE(actual.records.size() == expected.records.size());
  for (size_t i = 0; i < expected.records.size(); ++i) {
    const RawRecord& e = expected.records[i];
    const RawRecord& a = actual.records[i];
    CHECK(actual.frame(a) == expected.frame(e));
    CHECK(actual.peer(a) == expected.peer(e));
    CHECK(a.input == e.input);
    CHECK(a.format == e.format);
    CHECK(a.truncated == e.truncated);
    CHECK(a.received_ns == e.received_ns);
  }
  CHECK(actual.bytes.capacity() >= actual.bytes.size() + kRawBatchPaddingBytes);
}

RawLogOptions options_in(const TempDir& dir) {
  RawLogOptions options;
  options.dir = dir.path + "/raw";
  return options;
}

std::unique_ptr<RawLogWriter> open_writer(const RawLogOptions& options,
                                          RecoveryReport* report = nullptr) {
  auto writer = RawLogWriter::open(options, report);
  REQUIRE_MESSAGE(writer.has_value(), writer.error().message());
  return std::move(writer.value());
}

uint64_t append(RawLogWriter& writer, const RawBatch& batch) {
  PreparedFrame frame;
  REQUIRE(writer.prepare(batch, frame).is_ok());
  auto seq = writer.commit(frame);
  REQUIRE_MESSAGE(seq.has_value(), seq.error().message());
  return *seq;
}

struct ReadFrame {
  uint64_t seq = 0;
  RawBatch batch;
};

std::vector<ReadFrame> read_segment(const std::string& path) {
  auto reader = RawSegmentReader::open(path);
  REQUIRE_MESSAGE(reader.has_value(), reader.error().message());
  std::vector<ReadFrame> frames;
  for (;;) {
    ReadFrame frame;
    auto more = reader->next(frame.batch, frame.seq);
    REQUIRE_MESSAGE(more.has_value(), more.error().message());
    if (!*more) break;
    frames.push_back(std::move(frame));
  }
  return frames;
}

std::vector<ReadFrame> read_all(const std::string& dir) {
  std::vector<std::string> problems;
  auto segments = list_segments(dir, nullptr, &problems);
  REQUIRE_MESSAGE(segments.has_value(), segments.error().message());
  CHECK(problems.empty());
  std::vector<ReadFrame> frames;
  for (const SegmentInfo& info : *segments) {
    for (ReadFrame& frame : read_segment(info.path)) frames.push_back(std::move(frame));
  }
  return frames;
}

// Every frame of the segments in `dir`, read back: seqs from 1, each batch
// as it was written.
void check_read_back(const std::string& dir, const std::vector<RawBatch>& batches) {
  std::vector<ReadFrame> frames = read_all(dir);
  REQUIRE(frames.size() == batches.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    CAPTURE(i);
    CHECK(frames[i].seq == i + 1);
    check_same_batch(batches[i], frames[i].batch);
  }
}

// Offsets of the frames of a segment file's bytes, and its clean end.
std::vector<size_t> frame_offsets(const std::string& bytes) {
  std::vector<size_t> offsets;
  size_t offset = kRawSegmentHeaderBytes;
  while (offset + kRawFrameHeaderBytes <= bytes.size()) {
    offsets.push_back(offset);
    uint32_t payload = 0;
    std::memcpy(&payload, bytes.data() + offset + 4, 4);  // tests run little-endian
    offset += kRawFrameHeaderBytes + payload;
  }
  offsets.push_back(offset);
  return offsets;
}

void put_test_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_test_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

// The zstd frames of a payload, each decompressed.
std::vector<std::string> zstd_frames(std::string_view payload) {
  std::vector<std::string> parts;
  while (!payload.empty()) {
    const size_t compressed = ZSTD_findFrameCompressedSize(payload.data(), payload.size());
    REQUIRE_FALSE(ZSTD_isError(compressed));
    const unsigned long long size = ZSTD_getFrameContentSize(payload.data(), compressed);
    REQUIRE(size < (1ull << 32));
    std::string part(size, '\0');
    REQUIRE(ZSTD_decompress(part.data(), part.size(), payload.data(), compressed) == size);
    parts.push_back(std::move(part));
    payload.remove_prefix(compressed);
  }
  return parts;
}

// A version-2 payload's parts as raw_log.h describes them, from the records
// alone: the record table, and the bytes (a peer's only where it changes).
std::string expected_table(const RawBatch& batch) {
  std::string table;
  int64_t previous = 0;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const RawRecord& r = batch.records[i];
    const auto delta = static_cast<int64_t>(static_cast<uint64_t>(r.received_ns) - static_cast<uint64_t>(previous));
    previous = r.received_ns;
    put_test_varint(table, (static_cast<uint64_t>(delta) << 1) ^ static_cast<uint64_t>(delta >> 63));
    table.push_back(static_cast<char>(r.input));
    table.push_back(static_cast<char>(r.format));
    table.push_back(static_cast<char>(r.truncated ? 1 : 0));
    const bool same = i != 0 && batch.peer(batch.records[i - 1]) == batch.peer(r);
    put_test_varint(table, same ? 0 : r.peer_length + 1);
    put_test_varint(table, r.length);
  }
  return table;
}
std::string expected_bytes(const RawBatch& batch) {
  std::string bytes;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const RawRecord& r = batch.records[i];
    if (i == 0 || batch.peer(batch.records[i - 1]) != batch.peer(r)) bytes.append(batch.peer(r));
    bytes.append(batch.frame(r));
  }
  return bytes;
}

// One frame of the version-1 format (raw_log.h), as earlier builds wrote it.
std::string version_1_frame(const RawBatch& batch, uint64_t seq) {
  std::string raw;
  int64_t lo = 0, hi = 0;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const RawRecord& r = batch.records[i];
    put_test_le(raw, static_cast<uint64_t>(r.received_ns), 8);
    raw.push_back(static_cast<char>(r.input));
    raw.push_back(static_cast<char>(r.format));
    raw.push_back(static_cast<char>(r.truncated ? 1 : 0));
    put_test_varint(raw, r.peer_length);
    raw.append(batch.peer(r));
    put_test_varint(raw, r.length);
    raw.append(batch.frame(r));
    lo = i == 0 ? r.received_ns : std::min(lo, r.received_ns);
    hi = i == 0 ? r.received_ns : std::max(hi, r.received_ns);
  }
  std::string payload(ZSTD_compressBound(raw.size()), '\0');
  const size_t compressed = ZSTD_compress(payload.data(), payload.size(), raw.data(), raw.size(), 1);
  REQUIRE_FALSE(ZSTD_isError(compressed));
  payload.resize(compressed);
  std::string frame;
  put_test_le(frame, kRawFrameMagic, 4);
  put_test_le(frame, payload.size(), 4);
  put_test_le(frame, raw.size(), 4);
  put_test_le(frame, batch.records.size(), 4);
  put_test_le(frame, seq, 8);
  put_test_le(frame, static_cast<uint64_t>(lo), 8);
  put_test_le(frame, static_cast<uint64_t>(hi), 8);
  put_test_le(frame, crc32c_extend(crc32c(frame), payload), 4);
  return frame + payload;
}

// Counts durability callbacks; waits for them with a deadline.
struct Waiter {
  std::mutex mutex;
  std::condition_variable changed;
  int fired = 0;
  int ok = 0;
  std::vector<std::string> errors;

  std::function<void(const Status&)> callback() {
    return [this](const Status& status) {
      std::lock_guard lock(mutex);
      ++fired;
      if (status) {
        ++ok;
      } else {
        errors.push_back(status.message());
      }
      changed.notify_all();
    };
  }
  bool wait_for(int count, std::chrono::seconds deadline = std::chrono::seconds(60)) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, deadline, [&] { return fired >= count; });
  }
};

// The seqs the test made, by segment, from list_segments.
void check_contiguous(const std::vector<SegmentInfo>& segments, uint64_t first_id,
                      uint64_t last_seq) {
  uint64_t next_seq = 1;
  uint64_t next_id = first_id;
  for (const SegmentInfo& info : segments) {
    CHECK(info.id == next_id);
    ++next_id;
    CHECK(info.first_seq == next_seq);
    CHECK(info.last_seq == info.first_seq + info.frames - 1);
    next_seq = info.last_seq + 1;
  }
  CHECK(next_seq == last_seq + 1);
}

// The CRC-32C bit by bit, as the definition reads, to check the table version against.
uint32_t crc32c_bitwise(std::string_view data) {
  uint32_t crc = ~0u;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
  }
  return ~crc;
}

}  // namespace

TEST_CASE("crc32c: RFC 3720 check values, extension and combination") {
  CHECK(crc32c("123456789") == 0xE3069283);
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AA);
  CHECK(crc32c(std::string(32, '\xff')) == 0x62A8AB43);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  CHECK(crc32c(ascending) == 0x46DD794E);
  CHECK(crc32c(descending) == 0x113FDB5C);
  CHECK(crc32c("") == 0);

  std::mt19937 rng(7);
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(rng()));
  for (size_t length : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1000}) {
    for (size_t start : {0, 1, 3}) {
      if (start + length > data.size()) continue;
      std::string_view piece = std::string_view(data).substr(start, length);
      CHECK(crc32c(piece) == crc32c_bitwise(piece));
    }
  }
  for (size_t split = 0; split <= data.size(); split += 37) {
    std::string_view a = std::string_view(data).substr(0, split);
    std::string_view b = std::string_view(data).substr(split);
    CHECK(crc32c_extend(crc32c(a), b) == crc32c(data));
    CHECK(crc32c_combine(crc32c(a), crc32c(b), b.size()) == crc32c(data));
  }
}

TEST_CASE("segment layout: file header, frame header, CRC, names") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  RawBatch batch = make_batch(1, 3);
  {
    auto writer = open_writer(options);
    CHECK(append(*writer, batch) == 1);
    CHECK(std::filesystem::exists(options.dir + "/" + segment_name(1, false)));
    REQUIRE(writer->close().is_ok());
  }
  CHECK_FALSE(std::filesystem::exists(options.dir + "/" + segment_name(1, false)));
  std::string bytes = read_bytes(options.dir + "/0000000000000001.seg");
  REQUIRE(bytes.size() > kRawSegmentHeaderBytes + kRawFrameHeaderBytes);
  CHECK(bytes.substr(0, 8) == "SLUICERW");
  CHECK(bytes.substr(8, 8) == std::string("\x02\0\0\0\0\0\0\0", 8));
  std::string_view frame = std::string_view(bytes).substr(kRawSegmentHeaderBytes);
  CHECK(frame.substr(0, 4) == "SLFR");
  uint32_t payload_length, uncompressed_length, record_count, crc;
  uint64_t seq;
  int64_t min_received, max_received;
  std::memcpy(&payload_length, frame.data() + 4, 4);
  std::memcpy(&uncompressed_length, frame.data() + 8, 4);
  std::memcpy(&record_count, frame.data() + 12, 4);
  std::memcpy(&seq, frame.data() + 16, 8);
  std::memcpy(&min_received, frame.data() + 24, 8);
  std::memcpy(&max_received, frame.data() + 32, 8);
  std::memcpy(&crc, frame.data() + 40, 4);
  CHECK(kRawFrameHeaderBytes + payload_length == frame.size());
  CHECK(record_count == 3);
  CHECK(seq == 1);
  int64_t expected_min = INT64_MAX, expected_max = INT64_MIN;
  for (const RawRecord& record : batch.records) {
    expected_min = std::min(expected_min, record.received_ns);
    expected_max = std::max(expected_max, record.received_ns);
  }
  CHECK(min_received == expected_min);
  CHECK(max_received == expected_max);
  CHECK(crc == crc32c_extend(crc32c(frame.substr(0, 40)), frame.substr(44)));

  // The payload as the format describes it, decoded here: the record
  // table's zstd frame, then the bytes' frame.
  const std::string_view payload = frame.substr(kRawFrameHeaderBytes);
  const std::vector<std::string> parts = zstd_frames(payload);
  REQUIRE(parts.size() == 2);
  CHECK(uncompressed_length == parts[0].size() + parts[1].size());
  CHECK(parts[1] == expected_bytes(batch));
  CHECK(parts[0] == expected_table(batch));
}

TEST_CASE("segment layout: a record table by hand; peers held once per run") {
  // Three records from one peer, then one from another, then none.
  RawBatch batch;
  batch.append("first", "10.0.0.1:514", InputId::kSyslogTcp, RecordFormat::kSyslog, false, 1000);
  batch.append("second", "10.0.0.1:514", InputId::kSyslogTcp, RecordFormat::kSyslog, false, 999);
  batch.append("", "10.0.0.1:514", InputId::kJsonTcp, RecordFormat::kJson, true, 1063);
  batch.append("fourth", "10.0.0.2:1", InputId::kSyslogUdp, RecordFormat::kSyslog, false, 1063);
  batch.append("fifth", "", InputId::kSyslogUdp, RecordFormat::kSyslog, false, 1063);
  CHECK(batch.bytes == "10.0.0.1:514firstsecond10.0.0.2:1fourthfifth");
  const std::string table = std::string("\xd0\x0f" "\x01\x00\x00" "\x0d" "\x05", 7) +
                            std::string("\x01" "\x01\x00\x00" "\x00" "\x06", 6) +
                            std::string("\x80\x01" "\x05\x01\x01" "\x00" "\x00", 7) +
                            std::string("\x00" "\x00\x00\x00" "\x0b" "\x06", 6) +
                            std::string("\x00" "\x00\x00\x00" "\x01" "\x05", 6);
  CHECK(expected_table(batch) == table);

  TempDir dir;
  RawLogOptions options = options_in(dir);
  auto writer = open_writer(options);
  append(*writer, batch);
  REQUIRE(writer->close().is_ok());
  const std::string bytes = read_bytes(options.dir + "/0000000000000001.seg");
  const std::vector<std::string> parts =
      zstd_frames(std::string_view(bytes).substr(kRawSegmentHeaderBytes + kRawFrameHeaderBytes));
  REQUIRE(parts.size() == 2);
  CHECK(parts[0] == table);
  CHECK(parts[1] == batch.bytes);
  const std::vector<ReadFrame> frames = read_all(options.dir);
  REQUIRE(frames.size() == 1);
  check_same_batch(batch, frames[0].batch);
}

TEST_CASE("a batch laid out otherwise (gaps, peers apart, frames out of order) is written in the canonical layout") {
  RawBatch batch;
  batch.bytes = "##peer-a##frame-2##peer-b##frame-1##";
  auto record = [&](size_t offset, size_t length, size_t peer_offset, size_t peer_length, int64_t received) {
    RawRecord r{};
    r.offset = static_cast<uint32_t>(offset);
    r.length = static_cast<uint32_t>(length);
    r.peer_offset = static_cast<uint32_t>(peer_offset);
    r.peer_length = static_cast<uint16_t>(peer_length);
    r.input = InputId::kSyslogUdp;
    r.format = RecordFormat::kSyslog;
    r.received_ns = received;
    batch.records.push_back(r);
  };
  record(27, 7, 2, 6, 5);   // frame-1 from peer-a
  record(10, 7, 2, 6, 4);   // frame-2, the same peer's bytes
  record(27, 7, 19, 6, 3);  // frame-1 again from peer-b
  record(10, 7, 2, 6, 2);   // peer-a again: a new run
  batch.bytes.reserve(batch.bytes.size() + kRawBatchPaddingBytes);
  CHECK(expected_bytes(batch) == "peer-aframe-1frame-2peer-bframe-1peer-aframe-2");

  TempDir dir;
  RawLogOptions options = options_in(dir);
  auto writer = open_writer(options);
  append(*writer, batch);
  REQUIRE(writer->close().is_ok());
  const std::vector<ReadFrame> frames = read_all(options.dir);
  REQUIRE(frames.size() == 1);
  check_same_batch(batch, frames[0].batch);
  CHECK(frames[0].batch.bytes == expected_bytes(batch));
}

TEST_CASE("a version-1 segment is still read: its records, and list_segments' info") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  std::filesystem::create_directories(options.dir);
  std::vector<RawBatch> batches;
  for (uint32_t i = 0; i < 5; ++i) batches.push_back(make_batch(300 + i, 1 + i * 17));
  std::string segment = std::string("SLUICERW", 8) + std::string("\x01\0\0\0\0\0\0\0", 8);
  for (size_t i = 0; i < batches.size(); ++i) segment += version_1_frame(batches[i], i + 1);
  write_bytes(options.dir + "/0000000000000001.seg", segment);

  auto listed = list_segments(options.dir);
  REQUIRE(listed.has_value());
  REQUIRE(listed->size() == 1);
  CHECK(listed->at(0).frames == batches.size());
  CHECK(listed->at(0).last_seq == batches.size());
  check_read_back(options.dir, batches);
  // A writer opened beside it starts a version-2 segment after it.
  auto writer = open_writer(options);
  CHECK(append(*writer, batches[0]) == batches.size() + 1);
  REQUIRE(writer->close().is_ok());
  const std::string second = read_bytes(options.dir + "/0000000000000002.seg");
  CHECK(second.substr(8, 4) == std::string("\x02\0\0\0", 4));
  const std::vector<ReadFrame> frames = read_all(options.dir);
  REQUIRE(frames.size() == batches.size() + 1);
  check_same_batch(batches[0], frames.back().batch);
}

TEST_CASE("round trip: many batches, every kind of record") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  std::vector<RawBatch> batches;
  batches.push_back(RawBatch{});  // no records at all
  batches.push_back(make_batch(2, 1));
  for (uint32_t i = 0; i < 20; ++i) batches.push_back(make_batch(100 + i, 1 + i * 13));
  {
    auto writer = open_writer(options);
    PreparedFrame frame;  // reused, as workers do
    for (size_t i = 0; i < batches.size(); ++i) {
      REQUIRE(writer->prepare(batches[i], frame).is_ok());
      auto seq = writer->commit(frame);
      REQUIRE(seq.has_value());
      CHECK(*seq == i + 1);
    }
    CHECK(writer->last_committed_seq() == batches.size());
    RawLogWriter::Stats stats = writer->stats();
    CHECK(stats.frames == batches.size());
    size_t records = 0;
    for (const RawBatch& batch : batches) records += batch.records.size();
    CHECK(stats.records == records);

    // The segment being written is readable up to what was committed.
    std::vector<ReadFrame> so_far = read_segment(options.dir + "/" + segment_name(1, false));
    CHECK(so_far.size() == batches.size());
    REQUIRE(writer->close().is_ok());
  }
  check_read_back(options.dir, batches);
}

TEST_CASE("frame_seq and segment ids continue across close, reopen and a crash") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  {
    auto writer = open_writer(options);
    CHECK(writer->last_committed_seq() == 0);
    for (int i = 0; i < 3; ++i) append(*writer, make_batch(i, 2));
    REQUIRE(writer->close().is_ok());
    CHECK(writer->close().is_ok());  // idempotent
    PreparedFrame frame;
    REQUIRE(writer->prepare(make_batch(9, 1), frame).is_ok());
    auto after_close = writer->commit(frame);
    REQUIRE_FALSE(after_close.has_value());
    CHECK(contains(after_close.error().message(), "closed"));
  }
  {
    RecoveryReport report;
    auto writer = open_writer(options, &report);
    CHECK(report.segments_recovered == 0);
    CHECK(writer->last_committed_seq() == 3);
    CHECK(writer->last_durable_seq() == 3);
    CHECK(append(*writer, make_batch(3, 2)) == 4);
    CHECK(append(*writer, make_batch(4, 2)) == 5);
    CHECK(append(*writer, make_batch(5, 2)) == 6);
    writer->abandon_for_test();  // a crash: no fsync, no rename
  }
  CHECK(std::filesystem::exists(options.dir + "/" + segment_name(2, false)));
  {
    RecoveryReport report;
    std::vector<SegmentInfo> reported;
    options.on_segment_closed = [&](const SegmentInfo& info) { reported.push_back(info); };
    auto writer = open_writer(options, &report);
    CHECK(report.segments_recovered == 1);
    CHECK(report.frames_recovered == 3);
    CHECK(report.bytes_discarded == 0);
    CHECK(report.problems.empty());
    REQUIRE(reported.size() == 1);
    CHECK(reported[0].id == 2);
    CHECK(reported[0].closed);
    CHECK(reported[0].path == options.dir + "/" + segment_name(2, true));
    CHECK(reported[0].first_seq == 4);
    CHECK(reported[0].last_seq == 6);
    CHECK(writer->last_committed_seq() == 6);
    // Already durable: runs at once, on this thread.
    std::thread::id ran_on;
    writer->when_durable(6, [&](const Status& status) {
      CHECK(status.is_ok());
      ran_on = std::this_thread::get_id();
    });
    CHECK(ran_on == std::this_thread::get_id());
    CHECK(append(*writer, make_batch(6, 2)) == 7);
    REQUIRE(writer->close().is_ok());
  }
  auto segments = list_segments(options.dir);
  REQUIRE(segments.has_value());
  REQUIRE(segments->size() == 3);
  check_contiguous(*segments, 1, 7);
  for (const SegmentInfo& info : *segments) CHECK(info.closed);
  std::vector<ReadFrame> frames = read_all(options.dir);
  REQUIRE(frames.size() == 7);
  for (size_t i = 0; i < frames.size(); ++i) {
    CHECK(frames[i].seq == i + 1);
    check_same_batch(make_batch(static_cast<uint32_t>(i), 2), frames[i].batch);
  }
}

TEST_CASE("rotation by size; closed-segment callbacks match list_segments") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  options.segment_max_bytes = 4096;
  std::vector<SegmentInfo> reported;
  std::mutex reported_mutex;
  const int kFrames = 60;
  {
    auto writer = open_writer(options);
    writer->set_on_segment_closed([&](const SegmentInfo& info) {
      std::lock_guard lock(reported_mutex);
      reported.push_back(info);
    });
    for (int i = 0; i < kFrames; ++i) {
      // Random bytes do not compress: each frame is some 400-900 bytes.
      append(*writer, make_batch(1000 + i, 2 + i % 3));
    }
    CHECK(writer->stats().segments_closed == reported.size());
    REQUIRE(writer->close().is_ok());
    CHECK(writer->stats().segments_closed == reported.size());
  }
  std::vector<std::string> problems;
  auto segments = list_segments(options.dir, nullptr, &problems);
  REQUIRE(segments.has_value());
  CHECK(problems.empty());
  CHECK(segments->size() >= 5);
  REQUIRE(reported.size() == segments->size());
  check_contiguous(*segments, 1, kFrames);
  for (size_t i = 0; i < segments->size(); ++i) {
    const SegmentInfo& listed = (*segments)[i];
    const SegmentInfo& closed = reported[i];
    CAPTURE(i);
    CHECK(listed.closed);
    CHECK((listed.bytes <= options.segment_max_bytes || listed.frames == 1));
    CHECK(listed.id == closed.id);
    CHECK(listed.path == closed.path);
    CHECK(listed.closed == closed.closed);
    CHECK(listed.bytes == closed.bytes);
    CHECK(listed.frames == closed.frames);
    CHECK(listed.records == closed.records);
    CHECK(listed.first_seq == closed.first_seq);
    CHECK(listed.last_seq == closed.last_seq);
    CHECK(listed.min_received_ns == closed.min_received_ns);
    CHECK(listed.max_received_ns == closed.max_received_ns);
    CHECK(listed.bytes == std::filesystem::file_size(listed.path));
  }
  CHECK(read_all(options.dir).size() == kFrames);
}

namespace {

// Counts the reads made through it.
class ReadCountingFileSystem : public FileSystem {
 public:
  Expected<std::unique_ptr<WritableFile>> open_for_append(const std::string& path) override {
    return base_.open_for_append(path);
  }
  Expected<std::string> read_file(const std::string& path) override { return base_.read_file(path); }
  Status read_at(const std::string& path, uint64_t offset, size_t n, std::string& out) override {
    ++reads;
    return base_.read_at(path, offset, n, out);
  }
  Expected<uint64_t> file_size(const std::string& path) override { return base_.file_size(path); }
  Status rename(const std::string& from, const std::string& to) override { return base_.rename(from, to); }
  Status remove(const std::string& path) override { return base_.remove(path); }
  Expected<std::vector<std::string>> list_dir(const std::string& dir) override { return base_.list_dir(dir); }
  Status create_dirs(const std::string& dir) override { return base_.create_dirs(dir); }
  Status truncate_file(const std::string& path, uint64_t size) override { return base_.truncate_file(path, size); }

  uint64_t reads = 0;

 private:
  FileSystem& base_ = default_file_system();
};

void check_same_info(const std::vector<SegmentInfo>& a, const std::vector<SegmentInfo>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i].id == b[i].id);
    CHECK(a[i].path == b[i].path);
    CHECK(a[i].closed == b[i].closed);
    CHECK(a[i].bytes == b[i].bytes);
    CHECK(a[i].frames == b[i].frames);
    CHECK(a[i].records == b[i].records);
    CHECK(a[i].first_seq == b[i].first_seq);
    CHECK(a[i].last_seq == b[i].last_seq);
    CHECK(a[i].min_received_ns == b[i].min_received_ns);
    CHECK(a[i].max_received_ns == b[i].max_received_ns);
  }
}

}  // namespace

TEST_CASE("list_segments with a cache reads a closed segment's headers once") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  options.segment_max_bytes = 4096;
  auto writer = open_writer(options);
  for (int i = 0; i < 40; ++i) append(*writer, make_batch(2000 + i, 2 + i % 3));
  ReadCountingFileSystem fs;
  SegmentInfoCache cache;
  auto first = list_segments(options.dir, &fs, nullptr, &cache);
  REQUIRE(first.has_value());
  REQUIRE(first->size() >= 4);
  REQUIRE_FALSE(first->back().closed);  // the writer's open segment
  const uint64_t first_reads = fs.reads;
  CHECK(cache.closed.size() == first->size() - 1);
  // Again, nothing written since: no frame header is read again.
  auto second = list_segments(options.dir, &fs, nullptr, &cache);
  REQUIRE(second.has_value());
  check_same_info(*first, *second);
  CHECK(fs.reads == first_reads);
  CHECK(cache.open.size() == 1);
  // A few frames more in the open segment: only those are read.
  for (int i = 0; i < 2; ++i) append(*writer, make_batch(2500 + i, 1));
  const uint64_t before_growth = fs.reads;
  auto grown = list_segments(options.dir, &fs, nullptr, &cache);
  auto grown_uncached = list_segments(options.dir);
  REQUIRE(grown.has_value());
  REQUIRE(grown_uncached.has_value());
  check_same_info(*grown, *grown_uncached);
  CHECK(fs.reads - before_growth >= 1);
  CHECK(fs.reads - before_growth <= 3);
  // New frames, a rotation, a deleted segment: the same as without a cache.
  for (int i = 0; i < 15; ++i) append(*writer, make_batch(3000 + i, 3));
  REQUIRE(fs.remove((*first)[0].path).is_ok());
  auto third = list_segments(options.dir, &fs, nullptr, &cache);
  auto uncached = list_segments(options.dir);
  REQUIRE(third.has_value());
  REQUIRE(uncached.has_value());
  check_same_info(*third, *uncached);
  CHECK(cache.closed.count((*first)[0].id) == 0);
  CHECK(cache.closed.size() == third->size() - 1);
  CHECK(cache.open.size() == 1);
  REQUIRE(writer->close().is_ok());
  auto closed = list_segments(options.dir, &fs, nullptr, &cache);
  REQUIRE(closed.has_value());
  auto closed_uncached = list_segments(options.dir);
  REQUIRE(closed_uncached.has_value());
  check_same_info(*closed, *closed_uncached);
}

TEST_CASE("rotation by age, with and without traffic") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  std::atomic<int64_t> now{1'000 * kNanosPerSecond};
  options.now_ns = [&] { return now.load(); };
  options.segment_max_age_ns = 10 * kNanosPerSecond;
  std::vector<SegmentInfo> reported;
  options.on_segment_closed = [&](const SegmentInfo& info) { reported.push_back(info); };
  auto writer = open_writer(options);

  REQUIRE(writer->rotate_if_due().is_ok());  // nothing open yet
  CHECK(reported.empty());
  append(*writer, make_batch(1, 1));
  now += 5 * kNanosPerSecond;
  append(*writer, make_batch(2, 1));
  CHECK(reported.empty());
  now += 6 * kNanosPerSecond;  // 11 s after the segment's first frame
  CHECK(append(*writer, make_batch(3, 1)) == 3);
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].id == 1);
  CHECK(reported[0].frames == 2);

  now += 9 * kNanosPerSecond;
  REQUIRE(writer->rotate_if_due().is_ok());
  CHECK(reported.size() == 1);
  now += 1 * kNanosPerSecond;  // segment 2 is 10 s old: due without a commit
  REQUIRE(writer->rotate_if_due().is_ok());
  REQUIRE(reported.size() == 2);
  CHECK(reported[1].id == 2);
  CHECK(reported[1].first_seq == 3);
  CHECK(reported[1].frames == 1);
  REQUIRE(writer->rotate_if_due().is_ok());
  REQUIRE(writer->rotate().is_ok());  // no frames: nothing to close
  CHECK(reported.size() == 2);

  CHECK(append(*writer, make_batch(4, 1)) == 4);
  REQUIRE(writer->rotate().is_ok());
  REQUIRE(reported.size() == 3);
  CHECK(reported[2].id == 3);
  REQUIRE(writer->close().is_ok());
  CHECK(reported.size() == 3);
  CHECK(writer->stats().segments_closed == 3);
}

TEST_CASE("a writer that never commits leaves no files") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  auto writer = open_writer(options);
  REQUIRE(writer->sync().is_ok());
  REQUIRE(writer->rotate().is_ok());
  REQUIRE(writer->close().is_ok());
  CHECK(std::filesystem::is_empty(options.dir));
}

namespace {

// A crashed writer's segment of three frames; the last one is small.
struct CrashedSegment {
  std::string bytes;
  std::vector<size_t> offsets;  // of frames 1, 2, 3, then the end
  std::vector<RawBatch> batches;
};

CrashedSegment crashed_segment() {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  CrashedSegment crashed;
  crashed.batches = {make_batch(31, 4), make_batch(32, 3), RawBatch{}};
  crashed.batches[2].append("last", "peer", InputId::kRelp, RecordFormat::kSyslog, true, 42);
  auto writer = open_writer(options);
  for (const RawBatch& batch : crashed.batches) append(*writer, batch);
  writer->abandon_for_test();
  crashed.bytes = read_bytes(options.dir + "/" + segment_name(1, false));
  crashed.offsets = frame_offsets(crashed.bytes);
  REQUIRE(crashed.offsets.size() == 4);
  REQUIRE(crashed.offsets.back() == crashed.bytes.size());
  return crashed;
}

// Puts `bytes` in a fresh raw directory as segment 1's `.open`, opens a
// writer on it, checks that `good_frames` frames survived as a readable
// `.seg` and that the next seq follows them.
RecoveryReport recover(const CrashedSegment& crashed, std::string_view bytes, size_t good_frames) {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  std::filesystem::create_directories(options.dir);
  write_bytes(options.dir + "/" + segment_name(1, false), bytes);
  RecoveryReport report;
  auto writer = open_writer(options, &report);
  CHECK_FALSE(std::filesystem::exists(options.dir + "/" + segment_name(1, false)));
  if (good_frames == 0) {
    CHECK(report.segments_recovered == 0);
    CHECK(std::filesystem::is_empty(options.dir));
  } else {
    CHECK(report.segments_recovered == 1);
    CHECK(report.frames_recovered == good_frames);
    std::string path = options.dir + "/" + segment_name(1, true);
    CHECK(std::filesystem::file_size(path) == crashed.offsets[good_frames]);
    std::vector<ReadFrame> frames = read_segment(path);
    REQUIRE(frames.size() == good_frames);
    for (size_t i = 0; i < good_frames; ++i) {
      CHECK(frames[i].seq == i + 1);
      check_same_batch(crashed.batches[i], frames[i].batch);
    }
  }
  CHECK(writer->last_committed_seq() == good_frames);
  CHECK(append(*writer, make_batch(77, 1)) == good_frames + 1);
  REQUIRE(writer->close().is_ok());
  return report;
}

}  // namespace

TEST_CASE("recovery: a tail cut at every byte of the last frame") {
  CrashedSegment crashed = crashed_segment();
  const size_t last = crashed.offsets[2];
  for (size_t cut = last; cut < crashed.bytes.size(); ++cut) {
    CAPTURE(cut);
    RecoveryReport report = recover(crashed, std::string_view(crashed.bytes).substr(0, cut), 2);
    if (cut == last) {
      CHECK(report.problems.empty());
      CHECK(report.bytes_discarded == 0);
    } else {
      REQUIRE(report.problems.size() == 1);
      CHECK(contains(report.problems[0], "offset " + std::to_string(last) + ": incomplete frame"));
      CHECK(contains(report.problems[0], "discarded " + std::to_string(cut - last) + " bytes"));
      CHECK(report.bytes_discarded == cut - last);
    }
  }
  // Uncut, everything survives.
  RecoveryReport whole = recover(crashed, crashed.bytes, 3);
  CHECK(whole.problems.empty());
  // Cut inside the file header, or right after it: nothing to keep.
  RecoveryReport header_cut = recover(crashed, std::string_view(crashed.bytes).substr(0, 9), 0);
  REQUIRE(header_cut.problems.size() == 1);
  CHECK(contains(header_cut.problems[0], "offset 0: incomplete file header, discarded 9 bytes"));
  RecoveryReport header_only =
      recover(crashed, std::string_view(crashed.bytes).substr(0, kRawSegmentHeaderBytes), 0);
  CHECK(header_only.problems.empty());
  recover(crashed, "", 0);
}

TEST_CASE("recovery: a flipped byte fails the CRC; frames before it survive") {
  CrashedSegment crashed = crashed_segment();
  const size_t second = crashed.offsets[1];
  const size_t third = crashed.offsets[2];
  const std::vector<size_t> flips = {second + kRawFrameHeaderBytes + 5,  // payload
                                     second + 24,                        // min_received_ns
                                     second + 40};                       // the CRC itself
  for (size_t flip : flips) {
    CAPTURE(flip);
    std::string bytes = crashed.bytes;
    bytes[flip] = static_cast<char>(bytes[flip] ^ 0x10);
    RecoveryReport report = recover(crashed, bytes, 1);
    REQUIRE(report.problems.size() == 1);
    CHECK(contains(report.problems[0], segment_name(1, false) + ": offset " +
                                           std::to_string(second) + ": bad CRC, discarded " +
                                           std::to_string(bytes.size() - second) + " bytes"));
    CHECK(report.bytes_discarded == bytes.size() - second);
  }
  // A broken frame magic in the last frame.
  std::string bytes = crashed.bytes;
  bytes[third] = 'X';
  RecoveryReport report = recover(crashed, bytes, 2);
  REQUIRE(report.problems.size() == 1);
  CHECK(contains(report.problems[0], "bad frame magic"));
}

TEST_CASE("recovery: garbage after the last frame is cut off") {
  CrashedSegment crashed = crashed_segment();
  std::mt19937 rng(5);
  std::string garbage;
  for (int i = 0; i < 100; ++i) garbage.push_back(static_cast<char>(rng()));
  RecoveryReport report = recover(crashed, crashed.bytes + garbage, 3);
  REQUIRE(report.problems.size() == 1);
  CHECK(contains(report.problems[0],
                 "offset " + std::to_string(crashed.bytes.size()) + ": bad frame magic"));
  CHECK(report.bytes_discarded == 100);

  // Garbage that looks like the start of a frame claiming a long payload.
  std::string fake(kRawFrameHeaderBytes + 10, '\0');
  std::memcpy(fake.data(), "SLFR", 4);
  fake[5] = 0x10;  // payload_length 4096
  report = recover(crashed, crashed.bytes + fake, 3);
  REQUIRE(report.problems.size() == 1);
  CHECK(contains(report.problems[0], "incomplete frame"));
  CHECK(report.bytes_discarded == fake.size());
  // And one with a fitting payload but no valid CRC.
  fake.resize(kRawFrameHeaderBytes + 4096);
  report = recover(crashed, crashed.bytes + fake, 3);
  REQUIRE(report.problems.size() == 1);
  CHECK(contains(report.problems[0], "bad CRC"));
}

TEST_CASE("reader and list_segments on a corrupt closed segment") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  {
    auto writer = open_writer(options);
    for (int i = 0; i < 3; ++i) append(*writer, make_batch(50 + i, 3));
    REQUIRE(writer->close().is_ok());
  }
  const std::string path = options.dir + "/" + segment_name(1, true);
  const std::string good = read_bytes(path);
  std::vector<size_t> offsets = frame_offsets(good);

  std::string flipped = good;
  flipped[offsets[1] + kRawFrameHeaderBytes + 3] ^= 1;
  write_bytes(path, flipped);
  {
    auto reader = RawSegmentReader::open(path);
    REQUIRE(reader.has_value());
    RawBatch batch;
    uint64_t seq = 0;
    auto first = reader->next(batch, seq);
    REQUIRE(first.has_value());
    CHECK(*first);
    CHECK(seq == 1);
    CHECK(reader->offset() == offsets[1]);
    auto second = reader->next(batch, seq);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().message() ==
          path + ": offset " + std::to_string(offsets[1]) + ": bad CRC");
    auto after = reader->next(batch, seq);
    REQUIRE(after.has_value());
    CHECK_FALSE(*after);
    CHECK(batch.records.empty());
  }
  // list_segments reads headers only: a payload flip goes unnoticed there.
  std::vector<std::string> problems;
  auto listed = list_segments(options.dir, nullptr, &problems);
  REQUIRE(listed.has_value());
  CHECK(problems.empty());
  CHECK(listed->at(0).frames == 3);

  // A torn tail shows in both.
  write_bytes(path, std::string_view(good).substr(0, offsets[2] + 20));
  listed = list_segments(options.dir, nullptr, &problems);
  REQUIRE(listed.has_value());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == path + ": offset " + std::to_string(offsets[2]) +
                           ": incomplete frame header, 20 bytes unreadable");
  CHECK(listed->at(0).frames == 2);
  CHECK(listed->at(0).last_seq == 2);
  auto reader = RawSegmentReader::open(path);
  REQUIRE(reader.has_value());
  RawBatch batch;
  uint64_t seq = 0;
  CHECK(reader->next(batch, seq).value());
  CHECK(reader->next(batch, seq).value());
  auto torn = reader->next(batch, seq);
  REQUIRE_FALSE(torn.has_value());
  CHECK(contains(torn.error().message(), "incomplete frame header"));

  // Not a segment at all.
  write_bytes(path, "not a segment, no");
  auto not_segment = RawSegmentReader::open(path);
  REQUIRE_FALSE(not_segment.has_value());
  CHECK(not_segment.error().message() == path + ": offset 0: bad file header");
  // A newer format version is refused, not repaired.
  std::string newer = good;
  newer[8] = 3;
  write_bytes(path, newer);
  CHECK(contains(RawSegmentReader::open(path).error().message(), "format version 3"));
  CHECK_FALSE(list_segments(options.dir).has_value());
}

TEST_CASE("group commit: 4 threads x 2000 frames, every callback OK, fewer fsyncs than frames") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  options.fsync = FsyncPolicy::kAlways;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  auto writer = open_writer(options);
  Waiter waiter;
  std::atomic<int> commit_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      PreparedFrame frame;
      for (int i = 0; i < kPerThread; ++i) {
        RawBatch batch = tagged_batch(t, i, i);
        if (!writer->prepare(batch, frame)) {
          ++commit_failures;
          continue;
        }
        auto seq = writer->commit(frame);
        if (!seq) {
          ++commit_failures;
          continue;
        }
        writer->when_durable(*seq, waiter.callback());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(commit_failures == 0);
  REQUIRE(waiter.wait_for(kThreads * kPerThread));
  CHECK(waiter.ok == kThreads * kPerThread);
  CHECK(waiter.errors.empty());
  RawLogWriter::Stats stats = writer->stats();
  CHECK(stats.frames == kThreads * kPerThread);
  CHECK(stats.fsyncs > 0);
  CHECK(stats.fsyncs <= stats.frames);
  CHECK(writer->last_durable_seq() == kThreads * kPerThread);
  MESSAGE("group commit: " << stats.frames << " frames, " << stats.fsyncs << " fsyncs ("
                           << static_cast<double>(stats.frames) / static_cast<double>(stats.fsyncs)
                           << " frames per fsync, " << stats.fsync_ns_total / stats.fsyncs / 1000
                           << " us per fsync)");
  REQUIRE(writer->close().is_ok());

  std::vector<ReadFrame> frames = read_all(options.dir);
  REQUIRE(frames.size() == kThreads * kPerThread);
  std::set<std::string> messages;
  for (size_t i = 0; i < frames.size(); ++i) {
    CHECK(frames[i].seq == i + 1);
    REQUIRE(frames[i].batch.records.size() == 1);
    messages.insert(std::string(frames[i].batch.frame(frames[i].batch.records[0])));
  }
  CHECK(messages.size() == kThreads * kPerThread);
  // Each thread's frames are in its commit order.
  std::vector<int> next_index(kThreads, 0);
  for (const ReadFrame& frame : frames) {
    std::string text(frame.batch.frame(frame.batch.records[0]));
    int thread = 0, index = 0;
    REQUIRE(std::sscanf(text.c_str(), "<13>thread %d message %d", &thread, &index) == 2);
    CHECK(index == next_index[thread]);
    next_index[thread] = index + 1;
  }
}

TEST_CASE("fsync by interval: callbacks fire only after an fsync") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  options.fsync = FsyncPolicy::kInterval;
  options.fsync_interval_ms = 50;
  auto writer = open_writer(options);
  constexpr int kFrames = 40;
  Waiter waiter;
  std::atomic<int> fired_before_fsync{0};
  for (int i = 0; i < kFrames; ++i) {
    uint64_t fsyncs_at_commit = writer->stats().fsyncs;
    uint64_t seq = append(*writer, tagged_batch(0, i, i));
    writer->when_durable(
        seq, [&, fsyncs_at_commit, seq, done = waiter.callback()](const Status& s) {
          if (writer->stats().fsyncs <= fsyncs_at_commit || writer->last_durable_seq() < seq) {
            ++fired_before_fsync;
          }
          done(s);
        });
  }
  REQUIRE(waiter.wait_for(kFrames));
  CHECK(waiter.ok == kFrames);
  CHECK(fired_before_fsync == 0);
  RawLogWriter::Stats stats = writer->stats();
  CHECK(stats.fsyncs >= 1);
  CHECK(stats.fsyncs <= kFrames);
  MESSAGE("interval fsync: " << kFrames << " frames, " << stats.fsyncs << " fsyncs");
  REQUIRE(writer->close().is_ok());
}

TEST_CASE("disk full: the failed frame is cut off, the segment stays readable, seqs continue") {
  TempDir dir;
  FaultInjectingFileSystem fs(default_file_system());
  RawLogOptions options = options_in(dir);
  options.fs = &fs;
  auto writer = open_writer(options);
  for (int i = 0; i < 5; ++i) CHECK(append(*writer, make_batch(200 + i, 4)) == uint64_t(i + 1));
  const std::string open_path = options.dir + "/" + segment_name(1, false);
  const uint64_t good_size = std::filesystem::file_size(open_path);

  PreparedFrame frame;
  REQUIRE(writer->prepare(make_batch(205, 4), frame).is_ok());
  fs.set_space_limit(frame.bytes.size() / 2);  // the next frame tears half-way
  auto full = writer->commit(frame);
  REQUIRE_FALSE(full.has_value());
  CHECK(contains(full.error().message(), "write " + open_path + ": No space left on device"));
  CHECK(writer->stats().write_errors == 1);
  CHECK(writer->last_committed_seq() == 5);
  // No torn frame: the open segment reads cleanly to its end.
  CHECK(std::filesystem::file_size(open_path) == good_size);
  CHECK(read_segment(open_path).size() == 5);
  auto again = writer->commit(frame);
  REQUIRE_FALSE(again.has_value());
  CHECK(contains(again.error().message(), "No space left on device"));

  fs.clear_space_limit();
  auto seq = writer->commit(frame);
  REQUIRE(seq.has_value());
  CHECK(*seq == 6);
  Waiter waiter;
  writer->when_durable(6, waiter.callback());
  REQUIRE(waiter.wait_for(1));
  CHECK(waiter.ok == 1);

  // Full while starting a segment: no half-written file is left behind.
  REQUIRE(writer->rotate().is_ok());
  fs.set_space_limit(10);
  auto no_header = writer->commit(frame);
  REQUIRE_FALSE(no_header.has_value());
  CHECK(contains(no_header.error().message(), "No space left on device"));
  CHECK_FALSE(std::filesystem::exists(options.dir + "/" + segment_name(2, false)));
  fs.clear_space_limit();
  CHECK(writer->commit(frame).value() == 7);
  REQUIRE(writer->close().is_ok());

  auto segments = list_segments(options.dir);
  REQUIRE(segments.has_value());
  REQUIRE(segments->size() == 2);
  check_contiguous(*segments, 1, 7);
  std::vector<ReadFrame> frames = read_all(options.dir);
  REQUIRE(frames.size() == 7);
  for (int i = 0; i < 6; ++i) check_same_batch(make_batch(200 + i, 4), frames[i].batch);
  RecoveryReport report;
  open_writer(options, &report)->close().ignore_error();
  CHECK(report.problems.empty());
}

TEST_CASE("disk full and the cut fails too: the segment is set aside and recovered later") {
  TempDir dir;
  FaultInjectingFileSystem fs(default_file_system());
  RawLogOptions options = options_in(dir);
  options.fs = &fs;
  {
    auto writer = open_writer(options);
    for (int i = 0; i < 3; ++i) append(*writer, make_batch(300 + i, 2));
    PreparedFrame frame;
    REQUIRE(writer->prepare(make_batch(303, 2), frame).is_ok());
    fs.set_space_limit(frame.bytes.size() / 3);
    fs.fail_truncates(true);
    auto failed = writer->commit(frame);
    REQUIRE_FALSE(failed.has_value());
    CHECK(contains(failed.error().message(), "No space left on device"));
    CHECK(contains(failed.error().message(), "Input/output error"));
    fs.clear_space_limit();
    fs.fail_truncates(false);
    CHECK(writer->last_durable_seq() == 3);     // set aside after an fsync
    CHECK(writer->commit(frame).value() == 4);  // in a new segment
    REQUIRE(writer->close().is_ok());
  }
  CHECK(std::filesystem::exists(options.dir + "/" + segment_name(1, false)));
  CHECK(std::filesystem::exists(options.dir + "/" + segment_name(2, true)));
  RecoveryReport report;
  auto writer = open_writer(options, &report);
  CHECK(report.segments_recovered == 1);
  CHECK(report.frames_recovered == 3);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.bytes_discarded > 0);
  CHECK(append(*writer, make_batch(304, 2)) == 5);
  REQUIRE(writer->close().is_ok());
  auto segments = list_segments(options.dir);
  REQUIRE(segments.has_value());
  check_contiguous(*segments, 1, 5);
  CHECK(read_all(options.dir).size() == 5);
}

TEST_CASE("failed fsync: callbacks get the error; later fsyncs recover") {
  TempDir dir;
  FaultInjectingFileSystem fs(default_file_system());
  RawLogOptions options = options_in(dir);
  options.fs = &fs;
  auto writer = open_writer(options);
  CHECK(append(*writer, make_batch(1, 1)) == 1);
  REQUIRE(writer->sync().is_ok());

  fs.fail_syncs(true);
  Waiter failed;
  uint64_t seq = append(*writer, make_batch(2, 1));
  writer->when_durable(seq, failed.callback());
  REQUIRE(failed.wait_for(1));
  REQUIRE(failed.errors.size() == 1);
  CHECK(contains(failed.errors[0], "fsync "));
  CHECK(contains(failed.errors[0], "Input/output error"));
  CHECK(writer->stats().sync_errors >= 1);
  CHECK(writer->last_durable_seq() == 1);
  Status sync = writer->sync();
  CHECK(contains(sync.message(), "Input/output error"));
  // Registered after the failure: told at once.
  Waiter late;
  writer->when_durable(seq, late.callback());
  CHECK(late.fired == 1);
  CHECK(late.errors.size() == 1);

  fs.fail_syncs(false);
  Waiter recovered;
  uint64_t next = append(*writer, make_batch(3, 1));
  writer->when_durable(next, recovered.callback());
  REQUIRE(recovered.wait_for(1));
  CHECK(recovered.ok == 1);
  CHECK(writer->last_durable_seq() >= next);

  // Closing needs an fsync too; if it fails the segment stays `.open`.
  fs.fail_syncs(true);
  uint64_t last = append(*writer, make_batch(4, 1));
  Waiter at_close;
  writer->when_durable(last + 100, at_close.callback());  // never committed
  Status closed = writer->close();
  CHECK(contains(closed.message(), "Input/output error"));
  CHECK(at_close.fired == 1);
  CHECK(at_close.errors.size() == 1);
  fs.fail_syncs(false);
  CHECK(std::filesystem::exists(options.dir + "/" + segment_name(1, false)));
  RecoveryReport report;
  auto reopened = open_writer(options, &report);
  CHECK(report.segments_recovered == 1);
  CHECK(report.frames_recovered == 4);
  CHECK(reopened->last_committed_seq() == 4);
  REQUIRE(reopened->close().is_ok());
}

TEST_CASE("list_segments: info matches what was written, open and closed") {
  TempDir dir;
  RawLogOptions options = options_in(dir);
  options.segment_max_bytes = 1 << 20;
  auto writer = open_writer(options);
  auto batch_at = [](std::initializer_list<int64_t> times) {
    RawBatch batch;
    for (int64_t t : times)
      batch.append("x", "p", InputId::kSyslogUdp, RecordFormat::kSyslog, false, t);
    return batch;
  };
  append(*writer, batch_at({500, 100, 300}));
  append(*writer, RawBatch{});  // no records: no time
  append(*writer, batch_at({700}));
  REQUIRE(writer->rotate().is_ok());
  append(*writer, batch_at({-5, 5}));
  append(*writer, batch_at({1, 2, 3, 4}));

  std::vector<std::string> problems;
  auto segments = list_segments(options.dir, nullptr, &problems);
  REQUIRE(segments.has_value());
  CHECK(problems.empty());
  REQUIRE(segments->size() == 2);
  const SegmentInfo& first = (*segments)[0];
  CHECK(first.id == 1);
  CHECK(first.closed);
  CHECK(first.path == options.dir + "/" + segment_name(1, true));
  CHECK(first.frames == 3);
  CHECK(first.records == 4);
  CHECK(first.first_seq == 1);
  CHECK(first.last_seq == 3);
  CHECK(first.min_received_ns == 100);
  CHECK(first.max_received_ns == 700);
  CHECK(first.bytes == std::filesystem::file_size(first.path));
  const SegmentInfo& second = (*segments)[1];
  CHECK(second.id == 2);
  CHECK_FALSE(second.closed);
  CHECK(second.path == options.dir + "/" + segment_name(2, false));
  CHECK(second.frames == 2);
  CHECK(second.records == 6);
  CHECK(second.first_seq == 4);
  CHECK(second.last_seq == 5);
  CHECK(second.min_received_ns == -5);
  CHECK(second.max_received_ns == 5);
  REQUIRE(writer->close().is_ok());

  // Files that are not segments are ignored.
  write_bytes(options.dir + "/notes.txt", "hello");
  write_bytes(options.dir + "/0000000000000009.tmp", "hello");
  auto again = list_segments(options.dir);
  REQUIRE(again.has_value());
  CHECK(again->size() == 2);
  auto reopened = open_writer(options);
  CHECK(append(*reopened, batch_at({1})) == 6);
  REQUIRE(reopened->close().is_ok());
}
