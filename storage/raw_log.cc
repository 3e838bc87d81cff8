#include "storage/raw_log.h"

#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <system_error>

#include "server/base/assert.h"
#include "server/base/bytes.h"
#include "server/base/clock.h"
#include "storage/varint.h"

namespace sluice::storage {

// ---------------------------------------------------------------- CRC-32C

namespace {

// 0x1EDC6F41 bit-reversed: the CRC runs least significant bit first, so in
// every value below bit 31 is the coefficient of x^0 and bit 0 that of x^31.
constexpr uint32_t kCrc32cPolynomial = 0x82F63B78;

// table[k][b]: the CRC register after byte b followed by k zero bytes, so
// eight table lookups advance the register by eight bytes at once.
struct Crc32cTables {
  uint32_t table[8][256];
};

constexpr Crc32cTables make_crc32c_tables() {
  Crc32cTables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ kCrc32cPolynomial : crc >> 1;
    tables.table[0][byte] = crc;
  }
  for (int k = 1; k < 8; ++k) {
    for (int byte = 0; byte < 256; ++byte) {
      uint32_t previous = tables.table[k - 1][byte];
      tables.table[k][byte] = (previous >> 8) ^ tables.table[0][previous & 0xff];
    }
  }
  return tables;
}

constexpr Crc32cTables kCrc32cTables = make_crc32c_tables();

// a(x) * b(x) mod P(x), in the reflected representation.
constexpr uint32_t crc32c_multiply(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t term = 1u << 31; term != 0; term >>= 1) {  // a's x^0, x^1, ... x^31
    if (a & term) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kCrc32cPolynomial : b >> 1;  // b *= x
  }
  return product;
}

// x^(2^k) mod P for k = 0..63, by repeated squaring.
struct Crc32cPowers {
  uint32_t power[64];
};

constexpr Crc32cPowers make_crc32c_powers() {
  Crc32cPowers powers{};
  powers.power[0] = 1u << 30;  // x
  for (int k = 1; k < 64; ++k) {
    powers.power[k] = crc32c_multiply(powers.power[k - 1], powers.power[k - 1]);
  }
  return powers;
}

constexpr Crc32cPowers kCrc32cPowers = make_crc32c_powers();

// x^(8 * bytes) mod P: what appending `bytes` zero bytes multiplies a CRC by.
uint32_t crc32c_shift(uint64_t bytes) {
  uint32_t result = 1u << 31;  // 1
  // The exponent is bytes << 3, so bit j of `bytes` selects x^(2^(j+3)).
  for (int j = 0; bytes != 0 && j + 3 < 64; ++j, bytes >>= 1) {
    if (bytes & 1) result = crc32c_multiply(result, kCrc32cPowers.power[j + 3]);
  }
  return result;
}

}  // namespace

uint32_t crc32c_extend(uint32_t crc, std::string_view data) {
  const auto& t = kCrc32cTables.table;
  const auto* next = reinterpret_cast<const unsigned char*>(data.data());
  size_t left = data.size();
  uint32_t reg = ~crc;
  while (left >= 8) {
    // Assembled byte by byte so it is right on any endianness; compilers
    // turn it into one load.
    uint32_t low = reg ^ (uint32_t{next[0]} | uint32_t{next[1]} << 8 | uint32_t{next[2]} << 16 |
                          uint32_t{next[3]} << 24);
    reg = t[7][low & 0xff] ^ t[6][(low >> 8) & 0xff] ^ t[5][(low >> 16) & 0xff] ^ t[4][low >> 24] ^
          t[3][next[4]] ^ t[2][next[5]] ^ t[1][next[6]] ^ t[0][next[7]];
    next += 8;
    left -= 8;
  }
  while (left-- > 0) reg = t[0][(reg ^ *next++) & 0xff] ^ (reg >> 8);
  return ~reg;
}

uint32_t crc32c(std::string_view data) { return crc32c_extend(0, data); }

// With the pre- and post-inversion of the CRC, crc(a + b) = crc(a) * x^(8|b|) + crc(b):
// the inversions applied to b's start cancel with those shifted in from a.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  return crc32c_multiply(crc32c_shift(length_b), crc_a) ^ crc_b;
}

// ---------------------------------------------------------------- format

namespace {

constexpr char kFileMagic[8] = {'S', 'L', 'U', 'I', 'C', 'E', 'R', 'W'};
// Bytes of a frame header the CRC starts with: all but the CRC itself.
constexpr size_t kFrameHeaderCrcBytes = 40;
// Version 1's fixed record fields: received_ns, input, format, flags.
constexpr size_t kRecordFixedBytes = 11;
constexpr uint8_t kFlagTruncated = 1;
// A path-based read_at opens the file each time, so scans read ahead this much
// to cover many small frames per call; large frames are read one per call.
constexpr size_t kReadAheadBytes = 128 << 10;

void put_u32(char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (8 * i));
}
void put_u64(char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(value >> (8 * i));
}
uint32_t get_u32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= uint32_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return value;
}
uint64_t get_u64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return value;
}

// "" if a record's input, format and flags are ones this build knows.
std::string check_record_fields(uint8_t input, uint8_t format, uint8_t flags) {
  if (input >= kInputCount) return "unknown input " + std::to_string(input);
  if (format > static_cast<uint8_t>(RecordFormat::kCollectd)) return "unknown format " + std::to_string(format);
  if ((flags & ~kFlagTruncated) != 0) return "unknown flags " + std::to_string(flags);
  return "";
}

// The record has the same peer as the one before it: the same bytes of the
// batch (RawBatch::append shares them), or equal ones.
bool same_peer(const RawBatch& batch, const RawRecord& before, const RawRecord& record) {
  if (before.peer_length != record.peer_length) return false;
  return before.peer_offset == record.peer_offset ||
         same_bytes(batch.bytes.data() + before.peer_offset, batch.bytes.data() + record.peer_offset,
                    record.peer_length);
}

bool get_varint(const char*& next, const char* end, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && next < end; shift += 7) {
    uint8_t byte = static_cast<uint8_t>(*next++);
    value |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

struct FrameHeader {
  uint32_t magic = 0;
  uint32_t payload_length = 0;
  uint32_t uncompressed_length = 0;
  uint32_t record_count = 0;
  uint64_t seq = 0;
  int64_t min_received_ns = 0;
  int64_t max_received_ns = 0;
  uint32_t crc = 0;
  uint32_t header_crc = 0;  // crc32c of the first 40 bytes, for checking
};

FrameHeader parse_frame_header(std::string_view bytes) {
  const char* in = bytes.data();
  FrameHeader header;
  header.magic = get_u32(in);
  header.payload_length = get_u32(in + 4);
  header.uncompressed_length = get_u32(in + 8);
  header.record_count = get_u32(in + 12);
  header.seq = get_u64(in + 16);
  header.min_received_ns = static_cast<int64_t>(get_u64(in + 24));
  header.max_received_ns = static_cast<int64_t>(get_u64(in + 32));
  header.crc = get_u32(in + 40);
  header.header_crc = crc32c(bytes.substr(0, kFrameHeaderCrcBytes));
  return header;
}

void put_file_header(char* out) {
  std::memcpy(out, kFileMagic, sizeof(kFileMagic));
  put_u32(out + 8, kRawSegmentFormatVersion);
  put_u32(out + 12, 0);
}

// "" if `header` is a segment file header (any version); else why not. An unknown
// version is separate: it is not corruption, and must not be "repaired".
std::string check_file_header(std::string_view header, uint32_t& version) {
  version = 0;
  if (header.size() < kRawSegmentHeaderBytes) return "incomplete file header";
  if (std::memcmp(header.data(), kFileMagic, sizeof(kFileMagic)) != 0) return "bad file header";
  version = get_u32(header.data() + 8);
  return "";
}

Status unknown_version(const std::string& path, uint32_t version) {
  return Status::error(path + ": raw segment format version " + std::to_string(version) +
                       " (this build reads 1 to " + std::to_string(kRawSegmentFormatVersion) + ")");
}

std::string segment_path(const std::string& dir, uint64_t id, bool closed) {
  char name[17];
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) name[i] = kHex[(id >> (60 - 4 * i)) & 0xf];
  name[16] = '\0';
  std::string path = dir;
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  path += closed ? ".seg" : ".open";
  return path;
}

struct SegmentName {
  uint64_t id = 0;
  bool closed = false;
};

// Only our own names: 16 lowercase hex digits, ".open" or ".seg".
bool parse_segment_name(std::string_view name, SegmentName& parsed) {
  if (name.size() < 16) return false;
  std::string_view extension = name.substr(16);
  if (extension == ".seg") {
    parsed.closed = true;
  } else if (extension == ".open") {
    parsed.closed = false;
  } else {
    return false;
  }
  parsed.id = 0;
  for (char c : name.substr(0, 16)) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    parsed.id = parsed.id << 4 | static_cast<uint64_t>(digit);
  }
  return true;
}

Expected<std::vector<SegmentName>> segment_names(FileSystem& fs, const std::string& dir) {
  Expected<std::vector<std::string>> names = fs.list_dir(dir);
  if (!names) return names.error();
  std::vector<SegmentName> segments;
  for (const std::string& name : *names) {
    SegmentName parsed;
    if (parse_segment_name(name, parsed)) segments.push_back(parsed);
  }
  std::sort(segments.begin(), segments.end(),
            [](const SegmentName& a, const SegmentName& b) { return a.id < b.id; });
  return segments;
}

// Bytes [offset, offset + n) of a file through a read-ahead window: from
// `window` if it holds them, else after refilling it from `offset`. The
// caller has checked that the file (of `file_size` bytes) holds them. The
// view lives until the next call with the same window.
Status view_bytes(FileSystem& fs, const std::string& path, uint64_t file_size, std::string& window,
                  uint64_t& window_offset, uint64_t offset, size_t n, std::string_view& view,
                  size_t read_ahead = kReadAheadBytes) {
  if (offset >= window_offset && offset + n <= window_offset + window.size()) {
    view = std::string_view(window).substr(static_cast<size_t>(offset - window_offset), n);
    return Status::ok();
  }
  size_t wanted = std::max<uint64_t>(n, std::min<uint64_t>(read_ahead, file_size - offset));
  Status read = fs.read_at(path, offset, wanted, window);
  window_offset = offset;
  if (!read) {
    window.clear();
    return read;
  }
  if (window.size() < n) {
    window.clear();
    return Status::error("read " + path + ": offset " + std::to_string(offset) +
                         ": file shorter than expected");
  }
  view = std::string_view(window).substr(0, n);
  return Status::ok();
}

// Where a scan of one segment stopped.
struct ScanOutcome {
  uint64_t file_size = 0;
  uint64_t valid_end = 0;  // end of the last good frame (0: no valid file header)
  std::string problem;     // why the scan stopped before file_size; "" at a clean end
};

// Walks the frames of the segment at `path`, filling `info` (id, closed and
// path are the caller's). With `verify_crc` the payloads are read and checked
// too. Errors are IO failures and unknown versions; corruption ends the scan
// and is described in `outcome`. With `resume_at` (a growing `.open`
// segment scanned before up to that offset, the end of a good frame), `info`
// already describes the frames before it and the scan goes on from there.
Status scan_segment(FileSystem& fs, const std::string& path, bool verify_crc, SegmentInfo& info,
                    ScanOutcome& outcome, uint64_t resume_at = 0) {
  Expected<uint64_t> size = fs.file_size(path);
  if (!size) return size.error();
  outcome = ScanOutcome{};
  outcome.file_size = *size;
  info.bytes = *size;
  std::string window;
  uint64_t window_offset = 0;
  std::string_view bytes;
  Status read;
  uint64_t offset = kRawSegmentHeaderBytes;
  if (resume_at < kRawSegmentHeaderBytes || resume_at > *size) {
    resume_at = 0;
    info.frames = info.records = info.first_seq = info.last_seq = 0;
    info.min_received_ns = info.max_received_ns = 0;
    if (*size == 0) return Status::ok();  // created, header not yet written
    uint32_t version = 0;
    if (*size < kRawSegmentHeaderBytes) {
      outcome.problem = "incomplete file header";
      return Status::ok();
    }
    read = view_bytes(fs, path, *size, window, window_offset, 0, kRawSegmentHeaderBytes, bytes);
    if (!read) return read;
    outcome.problem = check_file_header(bytes, version);
    if (!outcome.problem.empty()) return Status::ok();
    if (version < 1 || version > kRawSegmentFormatVersion) return unknown_version(path, version);
  } else {
    offset = resume_at;
  }
  outcome.valid_end = offset;
  bool have_records = info.records > 0;
  // Headers alone: reading ahead pays while frames are small (many headers
  // per read), not once a frame outgrows the read (a read per header, of
  // mostly payload).
  size_t read_ahead = kReadAheadBytes;
  while (offset < *size) {
    uint64_t remaining = *size - offset;
    if (remaining < kRawFrameHeaderBytes) {
      outcome.problem = "incomplete frame header";
      break;
    }
    read = view_bytes(fs, path, *size, window, window_offset, offset, kRawFrameHeaderBytes, bytes, read_ahead);
    if (!read) return read;
    FrameHeader header = parse_frame_header(bytes);
    if (header.magic != kRawFrameMagic) {
      outcome.problem = "bad frame magic";
      break;
    }
    if (header.payload_length > remaining - kRawFrameHeaderBytes) {
      outcome.problem = "incomplete frame";
      break;
    }
    if (!verify_crc) read_ahead = header.payload_length >= kReadAheadBytes / 4 ? kRawFrameHeaderBytes : kReadAheadBytes;
    if (verify_crc) {
      read = view_bytes(fs, path, *size, window, window_offset, offset + kRawFrameHeaderBytes,
                        header.payload_length, bytes);
      if (!read) return read;
      if (crc32c_extend(header.header_crc, bytes) != header.crc) {
        outcome.problem = "bad CRC";
        break;
      }
    }
    if (header.seq <= info.last_seq) {
      outcome.problem =
          "frame_seq " + std::to_string(header.seq) + " not after " + std::to_string(info.last_seq);
      break;
    }
    if (info.frames == 0) info.first_seq = header.seq;
    info.last_seq = header.seq;
    ++info.frames;
    info.records += header.record_count;
    if (header.record_count > 0) {
      if (!have_records) {
        info.min_received_ns = header.min_received_ns;
        info.max_received_ns = header.max_received_ns;
        have_records = true;
      } else {
        info.min_received_ns = std::min(info.min_received_ns, header.min_received_ns);
        info.max_received_ns = std::max(info.max_received_ns, header.max_received_ns);
      }
    }
    offset += kRawFrameHeaderBytes + header.payload_length;
    outcome.valid_end = offset;
  }
  return Status::ok();
}

// Makes a crashed writer's `.open` segment a valid `.seg`: cuts it after its
// last good frame and renames it; removes it if no frame is good.
Status recover_open_segment(FileSystem& fs, const std::string& dir, uint64_t id,
                            RecoveryReport& report, SegmentInfo& info) {
  std::string path = segment_path(dir, id, false);
  info = SegmentInfo{};
  info.id = id;
  info.path = path;
  ScanOutcome outcome;
  Status scanned = scan_segment(fs, path, /*verify_crc=*/true, info, outcome);
  if (!scanned) return scanned.with_context("recover " + path);
  if (!outcome.problem.empty()) {
    uint64_t discarded = outcome.file_size - outcome.valid_end;
    report.bytes_discarded += discarded;
    report.problems.push_back(path + ": offset " + std::to_string(outcome.valid_end) + ": " +
                              outcome.problem + ", discarded " + std::to_string(discarded) +
                              " bytes");
  }
  if (info.frames == 0) {
    Status removed = fs.remove(path);
    return removed ? Status::ok() : removed.with_context("recover");
  }
  // Through truncate_file even when nothing is cut: it fsyncs, and a crashed
  // process's last frames may still be only in the page cache.
  Status cut = fs.truncate_file(path, outcome.valid_end);
  if (!cut) return cut.with_context("recover");
  std::string closed_path = segment_path(dir, id, true);
  Status renamed = fs.rename(path, closed_path);
  if (!renamed) return renamed.with_context("recover");
  info.path = closed_path;
  info.closed = true;
  info.bytes = outcome.valid_end;
  ++report.segments_recovered;
  report.frames_recovered += info.frames;
  return Status::ok();
}

struct CompressionContext {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  ~CompressionContext() { ZSTD_freeCCtx(context); }
};

}  // namespace

// ---------------------------------------------------------------- writer

RawLogWriter::RawLogWriter(RawLogOptions options)
    : options_(std::move(options)),
      fs_(options_.fs != nullptr ? *options_.fs : default_file_system()),
      now_ns_(options_.now_ns ? options_.now_ns : std::function<int64_t()>(wall_now_ns)),
      on_segment_closed_(options_.on_segment_closed) {}

RawLogWriter::~RawLogWriter() { close().ignore_error(); }

namespace {

// `<dir>/LAST` keeps "<segment id> <frame seq>" of the newest closed
// segment, so that deleting segments (raw retention) never lets ids or seqs
// repeat: the store's replay points and the archive's object keys rely on
// both growing for ever.
constexpr const char* kHighWaterFile = "LAST";

void read_high_water(FileSystem& fs, const std::string& dir, uint64_t& id, uint64_t& seq) {
  auto text = fs.read_file(dir + "/" + kHighWaterFile);
  if (!text) return;
  unsigned long long stored_id = 0, stored_seq = 0;
  if (std::sscanf(text->c_str(), "%llu %llu", &stored_id, &stored_seq) == 2) {
    id = std::max<uint64_t>(id, stored_id);
    seq = std::max<uint64_t>(seq, stored_seq);
  }
}

Status write_high_water(FileSystem& fs, const std::string& dir, uint64_t id, uint64_t seq) {
  const std::string path = dir + "/" + kHighWaterFile;
  const std::string temporary = path + ".tmp";
  fs.remove(temporary).ignore_error();
  auto file = fs.open_for_append(temporary);
  if (!file) return file.error();
  Status status = (*file)->append(std::to_string(id) + " " + std::to_string(seq) + "\n");
  if (status) status = (*file)->sync();
  Status closed = (*file)->close();
  if (!status) return status;
  if (!closed) return closed;
  return fs.rename(temporary, path);
}

}  // namespace

Expected<std::unique_ptr<RawLogWriter>> RawLogWriter::open(RawLogOptions options,
                                                           RecoveryReport* report) {
  if (options.dir.empty()) return Status::error("open raw log: no directory given");
  FileSystem& fs = options.fs != nullptr ? *options.fs : default_file_system();
  const std::string dir = options.dir;
  Status made = fs.create_dirs(dir);
  if (!made) return made.with_context("open raw log");
  Expected<std::vector<SegmentName>> names = segment_names(fs, dir);
  if (!names) return names.error().with_context("open raw log");

  RecoveryReport local_report;
  RecoveryReport& recovery = report != nullptr ? *report : local_report;
  std::vector<SegmentInfo> recovered;
  uint64_t max_id = 0;
  uint64_t max_seq = 0;
  for (const SegmentName& name : *names) {
    max_id = std::max(max_id, name.id);
    if (name.closed) continue;
    SegmentInfo info;
    Status status = recover_open_segment(fs, dir, name.id, recovery, info);
    if (!status) return status.with_context("open raw log");
    if (info.frames > 0) {
      max_seq = std::max(max_seq, info.last_seq);
      recovered.push_back(std::move(info));
    }
  }
  // Seqs grow with ids, so the newest closed segment with a frame holds the
  // highest; older ones need not be read.
  for (auto it = names->rbegin(); it != names->rend(); ++it) {
    if (!it->closed) continue;
    SegmentInfo info;
    ScanOutcome outcome;
    Status status = scan_segment(fs, segment_path(dir, it->id, true), false, info, outcome);
    if (!status) return status.with_context("open raw log");
    if (info.frames > 0) {
      max_seq = std::max(max_seq, info.last_seq);
      break;
    }
  }

  read_high_water(fs, dir, max_id, max_seq);
  max_seq = std::max(max_seq, options.min_next_seq == 0 ? 0 : options.min_next_seq - 1);
  std::unique_ptr<RawLogWriter> writer(new RawLogWriter(std::move(options)));
  writer->next_id_ = max_id + 1;
  writer->next_seq_ = max_seq + 1;
  // What is on disk already counts as committed and durable (recovery fsynced it).
  writer->committed_seq_.store(max_seq);
  writer->durable_seq_.store(max_seq);
  writer->attempted_seq_ = max_seq;
  try {
    writer->sync_thread_ = std::thread([w = writer.get()] { w->sync_loop(); });
  } catch (const std::system_error& error) {
    return Status::error(std::string("open raw log: start sync thread: ") + error.what());
  }
  writer->report_closed(recovered);
  return writer;
}

Status RawLogWriter::prepare(const RawBatch& batch, PreparedFrame& out) const {
  // Per thread, not per writer: prepare() runs on every parse worker at once
  // without a lock, and these keep their memory between batches.
  thread_local std::string table;
  thread_local std::string gathered;
  thread_local CompressionContext compression;
  if (compression.context == nullptr)
    return Status::error("prepare raw frame: zstd: out of memory");

  // The record table; and whether the batch's buffer is already the frame's
  // bytes (each record's frame right after the last one's, or after its own
  // new peer), as RawBatch::append leaves it. Then it is compressed where it
  // lies, not copied first.
  table.clear();
  int64_t min_received = 0;
  int64_t max_received = 0;
  int64_t previous_received = 0;
  uint64_t at = 0;  // where the canonical layout puts the next bytes
  bool in_place = true;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const RawRecord& record = batch.records[i];
    SLUICE_ASSERT(uint64_t{record.offset} + record.length <= batch.bytes.size() &&
                      uint64_t{record.peer_offset} + record.peer_length <= batch.bytes.size(),
                  "raw record outside its batch");
    // The difference to the previous record's time: a few bytes where
    // the times are close, wrapping (not overflowing) where not.
    put_varint(table, zigzag(wrapping_sub(record.received_ns, previous_received)));
    previous_received = record.received_ns;
    const char fixed[3] = {static_cast<char>(record.input), static_cast<char>(record.format),
                           static_cast<char>(record.truncated ? kFlagTruncated : 0)};
    table.append(fixed, sizeof(fixed));
    if (i != 0 && same_peer(batch, batch.records[i - 1], record)) {
      table.push_back(0);
    } else {
      put_varint(table, uint64_t{record.peer_length} + 1);
      in_place = in_place && record.peer_offset == at;
      at += record.peer_length;
    }
    put_varint(table, record.length);
    in_place = in_place && record.offset == at;
    at += record.length;
    if (i == 0) {
      min_received = max_received = record.received_ns;
    } else {
      min_received = std::min(min_received, record.received_ns);
      max_received = std::max(max_received, record.received_ns);
    }
  }
  std::string_view bytes = batch.bytes;
  if (!in_place || at != bytes.size()) {
    gathered.clear();
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const RawRecord& record = batch.records[i];
      if (i == 0 || !same_peer(batch, batch.records[i - 1], record)) gathered.append(batch.peer(record));
      gathered.append(batch.frame(record));
    }
    bytes = gathered;
  }
  constexpr uint64_t kMaxU32 = std::numeric_limits<uint32_t>::max();
  if (table.size() + bytes.size() > kMaxU32 || batch.records.size() > kMaxU32) {
    return Status::error("prepare raw frame: batch of " + std::to_string(table.size() + bytes.size()) +
                         " bytes exceeds the 4 GiB frame limit");
  }

  const size_t table_bound = ZSTD_compressBound(table.size());
  const size_t bytes_bound = ZSTD_compressBound(bytes.size());
  // resize() only grows the buffer the first times; afterwards it writes
  // zeros into capacity the frame already owns.
  out.bytes.resize(kRawFrameHeaderBytes + table_bound + bytes_bound);
  char* const payload = out.bytes.data() + kRawFrameHeaderBytes;
  const size_t table_compressed =
      ZSTD_compressCCtx(compression.context, payload, table_bound, table.data(), table.size(), options_.zstd_level);
  if (ZSTD_isError(table_compressed)) {
    return Status::error(std::string("prepare raw frame: zstd: ") + ZSTD_getErrorName(table_compressed));
  }
  const size_t bytes_compressed = ZSTD_compressCCtx(compression.context, payload + table_compressed, bytes_bound,
                                                    bytes.data(), bytes.size(), options_.zstd_level);
  if (ZSTD_isError(bytes_compressed)) {
    return Status::error(std::string("prepare raw frame: zstd: ") + ZSTD_getErrorName(bytes_compressed));
  }
  const size_t compressed = table_compressed + bytes_compressed;
  if (compressed > kMaxU32) {
    return Status::error("prepare raw frame: compressed frame exceeds 4 GiB");
  }
  out.bytes.resize(kRawFrameHeaderBytes + compressed);

  char* header = out.bytes.data();
  put_u32(header, kRawFrameMagic);
  put_u32(header + 4, static_cast<uint32_t>(compressed));
  put_u32(header + 8, static_cast<uint32_t>(table.size() + bytes.size()));
  put_u32(header + 12, static_cast<uint32_t>(batch.records.size()));
  put_u64(header + 16, 0);  // frame_seq, at commit
  put_u64(header + 24, static_cast<uint64_t>(min_received));
  put_u64(header + 32, static_cast<uint64_t>(max_received));
  put_u32(header + 40, 0);  // CRC, at commit
  out.records = static_cast<uint32_t>(batch.records.size());
  out.min_received_ns = min_received;
  out.max_received_ns = max_received;
  out.payload_crc = crc32c(std::string_view(out.bytes).substr(kRawFrameHeaderBytes));
  return Status::ok();
}

Expected<uint64_t> RawLogWriter::commit(PreparedFrame& frame) {
  std::vector<SegmentInfo> closed;
  std::unique_lock lock(mutex_);
  Expected<uint64_t> result = commit_locked(frame, closed);
  lock.unlock();
  if (result) notify_sync_thread();
  report_closed(closed);
  return result;
}

Expected<uint64_t> RawLogWriter::commit_locked(PreparedFrame& frame,
                                               std::vector<SegmentInfo>& closed) {
  SLUICE_ASSERT(
      frame.bytes.size() >= kRawFrameHeaderBytes && get_u32(frame.bytes.data()) == kRawFrameMagic,
      "commit of a frame that prepare() did not fill");
  if (closed_) return Status::error("raw log commit: " + options_.dir + ": writer is closed");
  const int64_t now = now_ns_();
  if (file_ && segment_.frames > 0 &&
      (segment_.bytes + frame.bytes.size() > options_.segment_max_bytes ||
       due_by_age_locked(now))) {
    Status rotated = rotate_locked(closed);
    if (!rotated) return rotated.with_context("raw log commit");
  }
  if (!file_) {
    Status opened = open_segment_locked();
    if (!opened) return opened.with_context("raw log commit");
  }

  const uint64_t seq = next_seq_;
  char* header = frame.bytes.data();
  put_u64(header + 16, seq);
  uint32_t header_crc = crc32c(std::string_view(header, kFrameHeaderCrcBytes));
  put_u32(header + 40, crc32c_combine(header_crc, frame.payload_crc, get_u32(header + 4)));

  const uint64_t size_before = file_->size();
  Status appended = file_->append(frame.bytes);
  if (!appended) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    Status cut = file_->truncate(size_before);
    if (!cut) {
      set_aside_segment_locked();
      return Status::error("raw log commit: " + appended.message() +
                           "; cutting the partial frame: " + cut.message());
    }
    return appended.with_context("raw log commit");
  }

  ++next_seq_;
  if (segment_.frames == 0) {
    segment_.first_seq = seq;
    segment_first_frame_ns_ = now;
  }
  if (frame.records > 0) {
    if (segment_.records == 0) {
      segment_.min_received_ns = frame.min_received_ns;
      segment_.max_received_ns = frame.max_received_ns;
    } else {
      segment_.min_received_ns = std::min(segment_.min_received_ns, frame.min_received_ns);
      segment_.max_received_ns = std::max(segment_.max_received_ns, frame.max_received_ns);
    }
  }
  ++segment_.frames;
  segment_.records += frame.records;
  segment_.last_seq = seq;
  segment_.bytes = file_->size();
  frames_.fetch_add(1, std::memory_order_relaxed);
  records_.fetch_add(frame.records, std::memory_order_relaxed);
  bytes_written_.fetch_add(frame.bytes.size(), std::memory_order_relaxed);
  committed_seq_.store(seq, std::memory_order_release);
  return seq;
}

bool RawLogWriter::due_by_age_locked(int64_t now) const {
  return file_ && segment_.frames > 0 &&
         now - segment_first_frame_ns_ >= options_.segment_max_age_ns;
}

Status RawLogWriter::open_segment_locked() {
  const std::string path = segment_path(options_.dir, next_id_, false);
  Expected<std::unique_ptr<WritableFile>> opened = fs_.open_for_append(path);
  if (!opened) return opened.error().with_context("open segment");
  std::unique_ptr<WritableFile> file = std::move(*opened);
  if (file->size() != 0) {
    // open() saw every segment, and ids only grow: someone else writes here.
    return Status::error("open segment " + path + ": already exists with " +
                         std::to_string(file->size()) + " bytes");
  }
  char header[kRawSegmentHeaderBytes];
  put_file_header(header);
  Status written = file->append(std::string_view(header, sizeof(header)));
  if (!written) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    file.reset();
    // If the file cannot be removed, skip its id so the next segment does not meet it.
    if (!fs_.remove(path)) ++next_id_;
    return written.with_context("open segment");
  }
  file_ = std::move(file);
  segment_ = SegmentInfo{};
  segment_.id = next_id_;
  segment_.path = path;
  segment_.bytes = kRawSegmentHeaderBytes;
  ++next_id_;
  return Status::ok();
}

Status RawLogWriter::timed_sync(WritableFile& file) {
  const int64_t started = monotonic_now_ns();
  Status synced = file.sync();
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  fsync_ns_total_.fetch_add(static_cast<uint64_t>(monotonic_now_ns() - started),
                            std::memory_order_relaxed);
  return synced;
}

Status RawLogWriter::rotate_locked(std::vector<SegmentInfo>& closed) {
  if (!file_) return Status::ok();
  if (segment_.frames == 0) {
    // Only the file header: the first frame's write failed. Nothing to keep.
    file_.reset();
    // Left behind, it is an empty `.open` that the next open() removes.
    fs_.remove(segment_.path).ignore_error();
    segment_ = SegmentInfo{};
    return Status::ok();
  }
  // Fsync before the rename, so that a `.seg` is always complete.
  Status synced = timed_sync(*file_);
  mark_synced(segment_.last_seq, synced);
  if (!synced) return synced.with_context("close segment");
  std::string closed_path = segment_path(options_.dir, segment_.id, true);
  Status renamed = fs_.rename(segment_.path, closed_path);
  if (!renamed) return renamed.with_context("close segment");
  // The sync thread may still hold the file; it closes when that fsync ends.
  file_.reset();
  segment_.path = std::move(closed_path);
  segment_.closed = true;
  segments_closed_.fetch_add(1, std::memory_order_relaxed);
  Status marked = write_high_water(fs_, options_.dir, segment_.id, segment_.last_seq);
  if (!marked) return marked.with_context("close segment");
  closed.push_back(std::move(segment_));
  segment_ = SegmentInfo{};
  return Status::ok();
}

void RawLogWriter::set_aside_segment_locked() {
  // The file ends in a partial frame that could not be cut off. Appending
  // after it would hide every later frame from recovery, which stops at the
  // first bad one. Make the good frames durable and leave the file as
  // `.open`: the next open() cuts it and closes it.
  Status synced = timed_sync(*file_);
  mark_synced(segment_.last_seq, synced);
  file_.reset();
  segment_ = SegmentInfo{};
}

void RawLogWriter::report_closed(const std::vector<SegmentInfo>& closed) {
  if (closed.empty()) return;
  std::function<void(const SegmentInfo&)> callback;
  {
    std::lock_guard lock(callback_mutex_);
    callback = on_segment_closed_;
  }
  if (!callback) return;
  for (const SegmentInfo& info : closed) callback(info);
}

void RawLogWriter::set_on_segment_closed(std::function<void(const SegmentInfo&)> callback) {
  std::lock_guard lock(callback_mutex_);
  on_segment_closed_ = std::move(callback);
}

Status RawLogWriter::rotate() {
  std::vector<SegmentInfo> closed;
  std::unique_lock lock(mutex_);
  Status status = rotate_locked(closed);
  lock.unlock();
  report_closed(closed);
  return status;
}

Status RawLogWriter::rotate_if_due() {
  std::vector<SegmentInfo> closed;
  std::unique_lock lock(mutex_);
  Status status;
  if (due_by_age_locked(now_ns_())) status = rotate_locked(closed);
  lock.unlock();
  report_closed(closed);
  return status;
}

Status RawLogWriter::sync() { return sync_current(); }

Status RawLogWriter::sync_current() {
  std::shared_ptr<WritableFile> file;
  uint64_t target;
  {
    std::lock_guard lock(mutex_);
    file = file_;
    target = committed_seq_.load(std::memory_order_acquire);
  }
  if (!file) {
    // Every committed frame is in a closed (or set-aside) segment, whose
    // closing fsync already settled it.
    std::lock_guard sync_lock(sync_mutex_);
    attempted_seq_ = std::max(attempted_seq_, target);
    if (durable_seq_.load(std::memory_order_relaxed) >= target) return Status::ok();
    if (!last_sync_error_.is_ok()) return last_sync_error_;
    return Status::error("raw log sync: frames up to " + std::to_string(target) + " not durable");
  }
  Status synced = timed_sync(*file);
  mark_synced(target, synced);
  return synced;
}

void RawLogWriter::mark_synced(uint64_t seq, const Status& status) {
  {
    std::lock_guard sync_lock(sync_mutex_);
    attempted_seq_ = std::max(attempted_seq_, seq);
    uint64_t durable = durable_seq_.load(std::memory_order_relaxed);
    if (status) {
      if (seq > durable) {
        durable = seq;
        durable_seq_.store(seq, std::memory_order_release);
      }
    } else {
      sync_errors_.fetch_add(1, std::memory_order_relaxed);
      failed_through_seq_ = std::max(failed_through_seq_, seq);
      last_sync_error_ = status;
    }
    auto end = waiting_.upper_bound(std::max(durable, status ? 0 : seq));
    for (auto it = waiting_.begin(); it != end; ++it) {
      ready_.emplace_back(std::move(it->second), it->first <= durable ? Status::ok() : status);
    }
    waiting_.erase(waiting_.begin(), end);
    if (ready_.empty()) return;
  }
  sync_wakeup_.notify_all();
}

void RawLogWriter::notify_sync_thread() {
  // Taking the mutex orders this after the sync thread's check of its
  // condition, so the wakeup cannot fall between check and wait.
  { std::lock_guard sync_lock(sync_mutex_); }
  sync_wakeup_.notify_all();
}

void RawLogWriter::when_durable(uint64_t seq, std::function<void(const Status&)> callback) {
  Status status;
  {
    std::lock_guard sync_lock(sync_mutex_);
    if (seq <= durable_seq_.load(std::memory_order_relaxed)) {
      status = Status::ok();
    } else if (seq <= failed_through_seq_) {
      status = last_sync_error_;
    } else if (stop_) {
      status = Status::error("raw log " + options_.dir + ": closed before frame " +
                             std::to_string(seq) + " was durable");
    } else {
      waiting_.emplace(seq, std::move(callback));
      return;
    }
  }
  callback(status);
}

void RawLogWriter::sync_loop() noexcept {
  std::unique_lock sync_lock(sync_mutex_);
  for (;;) {
    sync_wakeup_.wait(sync_lock, [&] {
      return stop_ || !ready_.empty() ||
             committed_seq_.load(std::memory_order_acquire) > attempted_seq_;
    });
    if (!ready_.empty()) {
      std::vector<std::pair<DurableCallback, Status>> settled;
      settled.swap(ready_);
      sync_lock.unlock();
      for (auto& [callback, status] : settled) callback(status);
      settled.clear();  // destroy the callbacks' captures outside the lock too
      sync_lock.lock();
      continue;
    }
    if (stop_) return;
    if (options_.fsync == FsyncPolicy::kInterval) {
      const int64_t due = last_sync_start_ns_ + int64_t{options_.fsync_interval_ms} * 1'000'000;
      const int64_t now = monotonic_now_ns();
      if (now < due) {
        sync_wakeup_.wait_for(sync_lock, std::chrono::nanoseconds(due - now),
                              [&] { return stop_ || !ready_.empty(); });
        continue;
      }
    }
    last_sync_start_ns_ = monotonic_now_ns();
    sync_lock.unlock();
    // The result reaches the waiting callbacks through mark_synced().
    sync_current().ignore_error();
    sync_lock.lock();
  }
}

void RawLogWriter::stop_sync_thread() {
  {
    std::lock_guard sync_lock(sync_mutex_);
    stop_ = true;
  }
  sync_wakeup_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
}

void RawLogWriter::fire_remaining(const Status& status) {
  std::vector<std::pair<DurableCallback, Status>> settled;
  {
    std::lock_guard sync_lock(sync_mutex_);
    settled.swap(ready_);
    const uint64_t durable = durable_seq_.load(std::memory_order_relaxed);
    for (auto& [seq, callback] : waiting_) {
      settled.emplace_back(std::move(callback), seq <= durable ? Status::ok() : status);
    }
    waiting_.clear();
  }
  for (auto& [callback, callback_status] : settled) callback(callback_status);
}

Status RawLogWriter::close() {
  std::vector<SegmentInfo> closed;
  Status status;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return Status::ok();
    status = rotate_locked(closed);
    closed_ = true;
    // If the rotation failed the segment stays `.open`, for the next open().
    file_.reset();
  }
  report_closed(closed);
  stop_sync_thread();
  fire_remaining(
      Status::error("raw log " + options_.dir + ": closed before the frame was durable"));
  return status;
}

void RawLogWriter::abandon_for_test() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    file_.reset();
    segment_ = SegmentInfo{};
  }
  stop_sync_thread();
  fire_remaining(Status::error("raw log " + options_.dir + ": abandoned"));
}

RawLogWriter::Stats RawLogWriter::stats() const {
  Stats stats;
  stats.frames = frames_.load(std::memory_order_relaxed);
  stats.records = records_.load(std::memory_order_relaxed);
  stats.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  stats.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  stats.write_errors = write_errors_.load(std::memory_order_relaxed);
  stats.sync_errors = sync_errors_.load(std::memory_order_relaxed);
  stats.segments_closed = segments_closed_.load(std::memory_order_relaxed);
  stats.fsync_ns_total = fsync_ns_total_.load(std::memory_order_relaxed);
  return stats;
}

// ---------------------------------------------------------------- listing

Expected<std::vector<SegmentInfo>> list_segments(const std::string& dir, FileSystem* fs_or_null,
                                                 std::vector<std::string>* problems, SegmentInfoCache* cache) {
  FileSystem& fs = fs_or_null != nullptr ? *fs_or_null : default_file_system();
  Expected<std::vector<SegmentName>> names = segment_names(fs, dir);
  if (!names) return names.error().with_context("list raw segments");
  std::vector<SegmentInfo> segments;
  segments.reserve(names->size());
  for (const SegmentName& name : *names) {
    const std::string path = segment_path(dir, name.id, name.closed);
    if (cache != nullptr && name.closed) {
      auto cached = cache->closed.find(name.id);
      if (cached != cache->closed.end() && cached->second.path == path) {
        Expected<uint64_t> size = fs.file_size(path);
        if (!size) return size.error().with_context("list raw segments");
        if (*size == cached->second.bytes) {
          segments.push_back(cached->second);
          continue;
        }
      }
    }
    SegmentInfo& info = segments.emplace_back();
    uint64_t resume_at = 0;
    if (cache != nullptr && !name.closed) {
      // The writer's segment only grows: go on from the last good frame.
      auto open = cache->open.find(name.id);
      if (open != cache->open.end() && open->second.first.path == path) {
        info = open->second.first;
        resume_at = open->second.second;
      }
    }
    info.id = name.id;
    info.closed = name.closed;
    info.path = path;
    ScanOutcome outcome;
    Status scanned = scan_segment(fs, info.path, /*verify_crc=*/false, info, outcome, resume_at);
    if (!scanned) return scanned.with_context("list raw segments");
    if (!outcome.problem.empty() && problems != nullptr) {
      problems->push_back(
          info.path + ": offset " + std::to_string(outcome.valid_end) + ": " + outcome.problem +
          ", " + std::to_string(outcome.file_size - outcome.valid_end) + " bytes unreadable");
    }
    if (cache != nullptr) {
      if (name.closed && outcome.problem.empty()) {
        cache->closed[name.id] = info;
      } else {
        cache->closed.erase(name.id);
      }
      if (!name.closed && outcome.valid_end >= kRawSegmentHeaderBytes) {
        cache->open[name.id] = {info, outcome.valid_end};
      } else {
        cache->open.erase(name.id);
      }
    }
  }
  if (cache != nullptr) {
    // Forget deleted segments: ids not listed (both sorted by id); an
    // `.open` segment's entry goes once it is closed.
    auto keep_listed = [&](auto& entries, bool closed) {
      auto listed = segments.begin();
      for (auto it = entries.begin(); it != entries.end();) {
        while (listed != segments.end() && listed->id < it->first) ++listed;
        const bool keep = listed != segments.end() && listed->id == it->first && listed->closed == closed;
        it = keep ? std::next(it) : entries.erase(it);
      }
    };
    keep_listed(cache->closed, true);
    keep_listed(cache->open, false);
  }
  return segments;
}

// ---------------------------------------------------------------- reader

RawSegmentReader::RawSegmentReader(FileSystem& fs, std::string path, uint64_t size)
    : fs_(&fs), path_(std::move(path)), size_(size) {}

RawSegmentReader::RawSegmentReader(RawSegmentReader&& other) noexcept
    : fs_(other.fs_),
      path_(std::move(other.path_)),
      size_(other.size_),
      offset_(other.offset_),
      last_seq_(other.last_seq_),
      version_(other.version_),
      done_(other.done_),
      window_(std::move(other.window_)),
      window_offset_(other.window_offset_),
      uncompressed_(std::move(other.uncompressed_)),
      dctx_(other.dctx_) {
  other.dctx_ = nullptr;
  other.done_ = true;
}

RawSegmentReader& RawSegmentReader::operator=(RawSegmentReader&& other) noexcept {
  if (this != &other) {
    ZSTD_freeDCtx(dctx_);
    fs_ = other.fs_;
    path_ = std::move(other.path_);
    size_ = other.size_;
    offset_ = other.offset_;
    last_seq_ = other.last_seq_;
    version_ = other.version_;
    done_ = other.done_;
    window_ = std::move(other.window_);
    window_offset_ = other.window_offset_;
    uncompressed_ = std::move(other.uncompressed_);
    dctx_ = other.dctx_;
    other.dctx_ = nullptr;
    other.done_ = true;
  }
  return *this;
}

RawSegmentReader::~RawSegmentReader() { ZSTD_freeDCtx(dctx_); }

Expected<RawSegmentReader> RawSegmentReader::open(const std::string& path, FileSystem* fs_or_null) {
  FileSystem& fs = fs_or_null != nullptr ? *fs_or_null : default_file_system();
  Expected<uint64_t> size = fs.file_size(path);
  if (!size) return size.error();
  std::string header;
  Status read = fs.read_at(path, 0, kRawSegmentHeaderBytes, header);
  if (!read) return read;
  uint32_t version = 0;
  std::string problem = check_file_header(header, version);
  if (!problem.empty()) return Status::error(path + ": offset 0: " + problem);
  if (version < 1 || version > kRawSegmentFormatVersion) return unknown_version(path, version);
  RawSegmentReader reader(fs, path, *size);
  reader.version_ = version;
  reader.dctx_ = ZSTD_createDCtx();
  if (reader.dctx_ == nullptr) return Status::error("read " + path + ": zstd: out of memory");
  return reader;
}

Status RawSegmentReader::decode_v1_payload(std::string_view payload, uint32_t uncompressed_length,
                                           uint32_t record_count, RawBatch& batch) {
  unsigned long long content_size = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (content_size != uncompressed_length) return Status::error("zstd frame size mismatch");
  uncompressed_.resize(uncompressed_length);
  size_t got = ZSTD_decompressDCtx(dctx_, uncompressed_.data(), uncompressed_.size(), payload.data(), payload.size());
  if (ZSTD_isError(got)) return Status::error(std::string("zstd: ") + ZSTD_getErrorName(got));
  if (got != uncompressed_length) return Status::error("zstd: short payload");

  // Peer and frame bytes together are less than the payload, so one
  // reservation covers the batch and the padding parsers read past its end.
  batch.bytes.reserve(uncompressed_length + kRawBatchPaddingBytes);
  batch.records.reserve(record_count);
  const char* next = uncompressed_.data();
  const char* end = next + uncompressed_.size();
  auto bad_record = [&](uint32_t index, const std::string& reason) {
    return Status::error("record " + std::to_string(index) + ": " + reason);
  };
  for (uint32_t i = 0; i < record_count; ++i) {
    if (static_cast<size_t>(end - next) < kRecordFixedBytes) return bad_record(i, "truncated");
    int64_t received_ns = static_cast<int64_t>(get_u64(next));
    uint8_t input = static_cast<uint8_t>(next[8]);
    uint8_t format = static_cast<uint8_t>(next[9]);
    uint8_t flags = static_cast<uint8_t>(next[10]);
    next += kRecordFixedBytes;
    std::string problem = check_record_fields(input, format, flags);
    if (!problem.empty()) return bad_record(i, problem);
    uint64_t peer_length = 0;
    if (!get_varint(next, end, peer_length) || peer_length > std::numeric_limits<uint16_t>::max() ||
        peer_length > static_cast<uint64_t>(end - next)) {
      return bad_record(i, "bad peer length");
    }
    std::string_view peer(next, static_cast<size_t>(peer_length));
    next += peer_length;
    uint64_t frame_length = 0;
    if (!get_varint(next, end, frame_length) || frame_length > static_cast<uint64_t>(end - next)) {
      return bad_record(i, "bad frame length");
    }
    std::string_view frame(next, static_cast<size_t>(frame_length));
    next += frame_length;
    batch.append(frame, peer, static_cast<InputId>(input), static_cast<RecordFormat>(format),
                 (flags & kFlagTruncated) != 0, received_ns);
  }
  if (next != end) return Status::error(std::to_string(end - next) + " bytes after the last record");
  return Status::ok();
}

Status RawSegmentReader::decode_v2_payload(std::string_view payload, uint32_t uncompressed_length,
                                           uint32_t record_count, RawBatch& batch) {
  // The table's zstd frame, then the bytes' frame, decompressed straight
  // into the batch.
  const size_t table_compressed = ZSTD_findFrameCompressedSize(payload.data(), payload.size());
  if (ZSTD_isError(table_compressed)) return Status::error("record table: zstd: " + std::string(ZSTD_getErrorName(table_compressed)));
  const std::string_view table_frame = payload.substr(0, table_compressed);
  const std::string_view bytes_frame = payload.substr(table_compressed);
  const unsigned long long table_size = ZSTD_getFrameContentSize(table_frame.data(), table_frame.size());
  const unsigned long long bytes_size = ZSTD_getFrameContentSize(bytes_frame.data(), bytes_frame.size());
  if (table_size > uncompressed_length || bytes_size > uncompressed_length ||
      table_size + bytes_size != uncompressed_length) {
    return Status::error("zstd frame sizes do not add up to the payload's");
  }
  uncompressed_.resize(table_size);
  size_t got = ZSTD_decompressDCtx(dctx_, uncompressed_.data(), uncompressed_.size(), table_frame.data(),
                                   table_frame.size());
  if (ZSTD_isError(got) || got != table_size) {
    return Status::error("record table: zstd: " + std::string(ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short"));
  }
  batch.bytes.reserve(bytes_size + kRawBatchPaddingBytes);
  batch.bytes.resize(bytes_size);
  got = ZSTD_decompressDCtx(dctx_, batch.bytes.data(), batch.bytes.size(), bytes_frame.data(), bytes_frame.size());
  if (ZSTD_isError(got) || got != bytes_size) {
    return Status::error("bytes: zstd: " + std::string(ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short"));
  }

  batch.records.reserve(record_count);
  const char* next = uncompressed_.data();
  const char* const end = next + uncompressed_.size();
  auto bad_record = [&](uint32_t index, const std::string& reason) {
    return Status::error("record " + std::to_string(index) + ": " + reason);
  };
  uint64_t at = 0;  // in batch.bytes
  int64_t previous_received = 0;
  for (uint32_t i = 0; i < record_count; ++i) {
    RawRecord record;
    uint64_t received = 0, peer = 0, length = 0;
    if (!get_varint(next, end, received)) return bad_record(i, "truncated");
    record.received_ns = previous_received = wrapping_add(previous_received, unzigzag(received));
    if (end - next < 3) return bad_record(i, "truncated");
    const auto input = static_cast<uint8_t>(next[0]);
    const auto format = static_cast<uint8_t>(next[1]);
    const auto flags = static_cast<uint8_t>(next[2]);
    next += 3;
    std::string problem = check_record_fields(input, format, flags);
    if (!problem.empty()) return bad_record(i, problem);
    record.input = static_cast<InputId>(input);
    record.format = static_cast<RecordFormat>(format);
    record.truncated = (flags & kFlagTruncated) != 0;
    if (!get_varint(next, end, peer) || (peer == 0 && i == 0) ||
        (peer != 0 && (peer - 1 > std::numeric_limits<uint16_t>::max() || peer - 1 > bytes_size - at))) {
      return bad_record(i, "bad peer");
    }
    if (peer == 0) {
      record.peer_offset = batch.records.back().peer_offset;
      record.peer_length = batch.records.back().peer_length;
    } else {
      record.peer_offset = static_cast<uint32_t>(at);
      record.peer_length = static_cast<uint16_t>(peer - 1);
      at += peer - 1;
    }
    if (!get_varint(next, end, length) || length > bytes_size - at) return bad_record(i, "bad frame length");
    record.offset = static_cast<uint32_t>(at);
    record.length = static_cast<uint32_t>(length);
    at += length;
    batch.records.push_back(record);
  }
  if (next != end) return Status::error(std::to_string(end - next) + " bytes after the record table");
  if (at != bytes_size) return Status::error(std::to_string(bytes_size - at) + " bytes after the last record");
  return Status::ok();
}

Expected<bool> RawSegmentReader::next(RawBatch& batch, uint64_t& frame_seq) {
  batch.clear();
  if (done_) return false;
  if (offset_ >= size_) {
    done_ = true;
    return false;
  }
  auto corrupt = [&](const std::string& reason) {
    done_ = true;
    batch.clear();
    return Status::error(path_ + ": offset " + std::to_string(offset_) + ": " + reason);
  };
  const uint64_t remaining = size_ - offset_;
  if (remaining < kRawFrameHeaderBytes) {
    return corrupt("incomplete frame header (" + std::to_string(remaining) + " bytes)");
  }
  std::string_view bytes;
  Status read =
      view_bytes(*fs_, path_, size_, window_, window_offset_, offset_, kRawFrameHeaderBytes, bytes);
  if (!read) return corrupt(read.message());
  // Parsed into a copy: reading the payload may refill the window.
  const FrameHeader header = parse_frame_header(bytes);
  if (header.magic != kRawFrameMagic) return corrupt("bad frame magic");
  if (header.payload_length > remaining - kRawFrameHeaderBytes) {
    return corrupt("incomplete frame (payload of " + std::to_string(header.payload_length) +
                   " bytes, " + std::to_string(remaining - kRawFrameHeaderBytes) + " left)");
  }
  read = view_bytes(*fs_, path_, size_, window_, window_offset_, offset_ + kRawFrameHeaderBytes,
                    header.payload_length, bytes);
  if (!read) return corrupt(read.message());
  if (crc32c_extend(header.header_crc, bytes) != header.crc) return corrupt("bad CRC");
  if (header.seq <= last_seq_) {
    return corrupt("frame_seq " + std::to_string(header.seq) + " not after " +
                   std::to_string(last_seq_));
  }

  Status decoded = version_ == 1 ? decode_v1_payload(bytes, header.uncompressed_length, header.record_count, batch)
                                 : decode_v2_payload(bytes, header.uncompressed_length, header.record_count, batch);
  if (!decoded) return corrupt(decoded.message());
  frame_seq = header.seq;
  last_seq_ = header.seq;
  offset_ += kRawFrameHeaderBytes + header.payload_length;
  return true;
}

}  // namespace sluice::storage
